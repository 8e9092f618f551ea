//! deSEC REST API (RRsets): the zone is the longest suffix of the name among the account's domains; the
//! `RRset` is read, then created (POST) or its records replaced (PATCH). No write when it already holds exactly
//! the address: deSEC's terms forbid no-op updates. 429 carries `Retry-After`.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;

use async_trait::async_trait;
use serde::Deserialize;
use serde_json::json;

use super::{Provider, ProviderError, UpdateOutcome, UpdateRequest, relative, segment, send};
use crate::config::providers::TokenFile;
use crate::config::{RecordType, Secret};

const DEFAULT_ENDPOINT: &str = "https://desec.io/api/v1";

pub struct Desec {
    name: String,
    client: reqwest::Client,
    base: String,
    token: Secret,
    zones: Mutex<HashMap<String, String>>,
}

#[derive(Deserialize)]
struct Domain {
    name: String,
}

#[derive(Deserialize)]
struct RrSet {
    #[serde(default)]
    records: Vec<String>,
    #[serde(default)]
    ttl: Option<u64>,
}

impl Desec {
    pub fn new(name: String, cfg: &TokenFile) -> Self {
        Self {
            name,
            client: crate::http::api_client(),
            base: super::base_url(cfg.endpoint.as_deref(), DEFAULT_ENDPOINT),
            token: cfg.token.clone(),
            zones: Mutex::new(HashMap::new()),
        }
    }

    fn label(&self) -> String {
        format!("desec `{}`", self.name)
    }

    async fn call(&self, request: reqwest::RequestBuilder) -> Result<super::Answer, ProviderError> {
        send(
            &self.label(),
            request.header("Authorization", format!("Token {}", self.token.expose())),
            &[self.token.expose()],
        )
        .await
    }

    async fn zone(&self, name: &str) -> Result<String, ProviderError> {
        if let Some(z) = self.zones.lock().ok().and_then(|z| z.get(name).cloned()) {
            return Ok(z);
        }
        let label = self.label();
        let answer = self
            .call(self.client.get(format!("{}/domains/", self.base)))
            .await?;
        if !answer.status.is_success() {
            return Err(answer.status_error(&label, None));
        }
        let domains: Vec<Domain> = answer.json(&label)?;
        let zone = domains
            .into_iter()
            .map(|d| d.name.trim_end_matches('.').to_ascii_lowercase())
            .filter(|d| name == d || name.ends_with(&format!(".{d}")))
            .max_by_key(String::len)
            .ok_or_else(|| {
                ProviderError::rejected(format!("{label}: no domain of this account holds {name}"))
            })?;
        if let Ok(mut cache) = self.zones.lock() {
            cache.insert(name.to_owned(), zone.clone());
        }
        Ok(zone)
    }
}

#[async_trait]
impl Provider for Desec {
    #[tracing::instrument(skip_all, fields(provider = %self.name, record = %request.name))]
    async fn update(&self, request: &UpdateRequest<'_>) -> Result<UpdateOutcome, ProviderError> {
        let label = self.label();
        let zone = self.zone(request.name).await?;
        let rel = relative(request.name, &zone);
        let subname = if rel == "@" { String::new() } else { rel };
        let rtype = request.record_type.as_str();
        let url = format!(
            "{}/domains/{zone}/rrsets/{}/{rtype}/",
            self.base,
            if subname.is_empty() {
                "@".to_owned()
            } else {
                segment(&subname)
            }
        );
        let current = self.call(self.client.get(&url)).await?;
        let ip = request.ip.to_string();
        let answer = match current.status.as_u16() {
            404 => {
                let mut body = json!({ "subname": subname, "type": rtype, "records": [ip] });
                if let Some(ttl) = request.ttl {
                    body["ttl"] = json!(ttl);
                } else {
                    body["ttl"] = json!(3600);
                }
                self.call(
                    self.client
                        .post(format!("{}/domains/{zone}/rrsets/", self.base))
                        .json(&body),
                )
                .await?
            }
            s if (200..300).contains(&s) => {
                let set: RrSet = current.json(&label)?;
                let holds_only_ip = set.records.len() == 1
                    && set.records[0].parse::<IpAddr>().ok() == Some(request.ip);
                if holds_only_ip && request.ttl.is_none_or(|t| set.ttl == Some(u64::from(t))) {
                    return Ok(UpdateOutcome::Unchanged { record_id: None });
                }
                let mut body = json!({ "records": [ip] });
                if let Some(ttl) = request.ttl {
                    body["ttl"] = json!(ttl);
                }
                self.call(self.client.patch(&url).json(&body)).await?
            }
            _ => return Err(current.status_error(&label, None)),
        };
        if answer.status.is_success() {
            Ok(UpdateOutcome::Updated { record_id: None })
        } else {
            Err(answer.status_error(&label, None))
        }
    }

    async fn check(&self, name: &str, record_type: RecordType) -> Result<String, ProviderError> {
        let label = self.label();
        let zone = self.zone(name).await?;
        let rel = relative(name, &zone);
        let url = format!(
            "{}/domains/{zone}/rrsets/{}/{record_type}/",
            self.base,
            if rel == "@" {
                "@".to_owned()
            } else {
                segment(&rel)
            }
        );
        let current = self.call(self.client.get(&url)).await?;
        let values = match current.status.as_u16() {
            404 => Vec::new(),
            s if (200..300).contains(&s) => current.json::<RrSet>(&label)?.records,
            _ => return Err(current.status_error(&label, None)),
        };
        Ok(super::found(name, record_type, &values, &zone))
    }
}
