//! Gandi `LiveDNS` v5 with a personal access token: the domain is configured or the longest suffix among the
//! account's domains; the rrset is read and, when it differs, replaced with `PUT` (create or replace).

use std::net::IpAddr;

use async_trait::async_trait;
use serde::Deserialize;
use serde_json::json;

use super::{Provider, ProviderError, UpdateOutcome, UpdateRequest, relative, segment, send};
use crate::config::providers::ZoneTokenFile;
use crate::config::{RecordType, Secret};

const DEFAULT_ENDPOINT: &str = "https://api.gandi.net/v5/livedns";
const DEFAULT_TTL: u32 = 300;

pub struct Gandi {
    name: String,
    client: reqwest::Client,
    base: String,
    token: Secret,
    zone: Option<String>,
}

#[derive(Deserialize)]
struct Domain {
    fqdn: String,
}

#[derive(Deserialize)]
struct RrSet {
    #[serde(default)]
    rrset_values: Vec<String>,
    #[serde(default)]
    rrset_ttl: Option<u64>,
}

impl Gandi {
    pub fn new(name: String, cfg: &ZoneTokenFile) -> Self {
        Self {
            name,
            client: crate::http::api_client(),
            base: super::base_url(cfg.endpoint.as_deref(), DEFAULT_ENDPOINT),
            token: cfg.token.clone(),
            zone: cfg.zone.clone(),
        }
    }

    fn label(&self) -> String {
        format!("gandi `{}`", self.name)
    }

    async fn call(&self, request: reqwest::RequestBuilder) -> Result<super::Answer, ProviderError> {
        let label = self.label();
        let answer = send(
            &label,
            request.bearer_auth(self.token.expose()),
            &[self.token.expose()],
        )
        .await?;
        if answer.status.is_success() || answer.status == reqwest::StatusCode::NOT_FOUND {
            Ok(answer)
        } else {
            let detail = serde_json::from_str::<serde_json::Value>(&answer.body)
                .ok()
                .and_then(|v| v["message"].as_str().map(|m| answer.redact(m)));
            Err(answer.status_error(&label, detail.as_deref()))
        }
    }

    async fn zone(&self, name: &str) -> Result<String, ProviderError> {
        if let Some(z) = &self.zone {
            return Ok(z.trim_end_matches('.').to_ascii_lowercase());
        }
        let label = self.label();
        let answer = self
            .call(self.client.get(format!("{}/domains", self.base)))
            .await?;
        let domains: Vec<Domain> = answer.json(&label)?;
        domains
            .into_iter()
            .map(|d| d.fqdn.trim_end_matches('.').to_ascii_lowercase())
            .filter(|d| name == d || name.ends_with(&format!(".{d}")))
            .max_by_key(String::len)
            .ok_or_else(|| {
                ProviderError::rejected(format!(
                    "{label}: no LiveDNS domain of this account holds {name}"
                ))
            })
    }
}

#[async_trait]
impl Provider for Gandi {
    #[tracing::instrument(skip_all, fields(provider = %self.name, record = %request.name))]
    async fn update(&self, request: &UpdateRequest<'_>) -> Result<UpdateOutcome, ProviderError> {
        let label = self.label();
        let zone = self.zone(request.name).await?;
        let url = format!(
            "{}/domains/{zone}/records/{}/{}",
            self.base,
            segment(&relative(request.name, &zone)),
            request.record_type
        );
        let current = self.call(self.client.get(&url)).await?;
        if current.status.is_success() {
            let set: RrSet = current.json(&label)?;
            let only_ip = set.rrset_values.len() == 1
                && set.rrset_values[0].parse::<IpAddr>().ok() == Some(request.ip);
            if only_ip
                && request
                    .ttl
                    .is_none_or(|t| set.rrset_ttl == Some(u64::from(t)))
            {
                return Ok(UpdateOutcome::Unchanged { record_id: None });
            }
        }
        let body = json!({ "rrset_values": [request.ip.to_string()], "rrset_ttl": request.ttl.unwrap_or(DEFAULT_TTL) });
        let put = self.call(self.client.put(&url).json(&body)).await?;
        if put.status == reqwest::StatusCode::NOT_FOUND {
            return Err(ProviderError::rejected(format!(
                "{label}: domain {zone} not found in LiveDNS"
            )));
        }
        Ok(UpdateOutcome::Updated { record_id: None })
    }

    async fn check(&self, name: &str, record_type: RecordType) -> Result<String, ProviderError> {
        let label = self.label();
        let zone = self.zone(name).await?;
        let url = format!(
            "{}/domains/{zone}/records/{}/{record_type}",
            self.base,
            segment(&relative(name, &zone))
        );
        let current = self.call(self.client.get(&url)).await?;
        let values = if current.status.is_success() {
            current.json::<RrSet>(&label)?.rrset_values
        } else {
            Vec::new()
        };
        Ok(super::found(name, record_type, &values, &zone))
    }
}
