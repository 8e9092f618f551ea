//! Hetzner Cloud API (zones and RRsets): the zone is configured or the longest suffix the project has; the
//! `RRset` is read, then created or its records replaced (`actions/set_records`, plus `change_ttl` when the TTL
//! differs). Actions run asynchronously: a running action is polled a few times before the result counts.

use std::net::IpAddr;
use std::time::Duration;

use async_trait::async_trait;
use serde::Deserialize;
use serde_json::{Value, json};

use super::{Provider, ProviderError, UpdateOutcome, UpdateRequest, relative, send, suffixes};
use crate::config::providers::ZoneTokenFile;
use crate::config::{RecordType, Secret};

const DEFAULT_ENDPOINT: &str = "https://api.hetzner.cloud/v1";

pub struct Hetzner {
    name: String,
    client: reqwest::Client,
    base: String,
    token: Secret,
    zone: Option<String>,
}

#[derive(Deserialize)]
struct Zones {
    #[serde(default)]
    zones: Vec<Zone>,
}

#[derive(Deserialize)]
struct Zone {
    name: String,
}

#[derive(Deserialize)]
struct RrSetAnswer {
    rrset: RrSet,
}

#[derive(Deserialize)]
struct RrSet {
    #[serde(default)]
    ttl: Option<u64>,
    #[serde(default)]
    records: Vec<RecordValue>,
}

#[derive(Deserialize)]
struct RecordValue {
    value: String,
}

#[derive(Deserialize)]
struct ActionAnswer {
    action: Action,
}

#[derive(Deserialize)]
struct Action {
    id: Value,
    status: String,
    #[serde(default)]
    error: Option<Value>,
}

impl Hetzner {
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
        format!("hetzner `{}`", self.name)
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
            return Ok(answer);
        }
        let detail = serde_json::from_str::<Value>(&answer.body)
            .ok()
            .and_then(|v| {
                Some(format!(
                    "{}: {}",
                    v["error"]["code"].as_str()?,
                    answer.redact(v["error"]["message"].as_str().unwrap_or(""))
                ))
            });
        Err(answer.status_error(&label, detail.as_deref()))
    }

    async fn zone(&self, name: &str) -> Result<String, ProviderError> {
        if let Some(z) = &self.zone {
            return Ok(z.trim_end_matches('.').to_ascii_lowercase());
        }
        let label = self.label();
        for candidate in suffixes(name) {
            let answer = self
                .call(
                    self.client
                        .get(format!("{}/zones", self.base))
                        .query(&[("name", candidate.as_str())]),
                )
                .await?;
            if answer.status.is_success() {
                let zones: Zones = answer.json(&label)?;
                if zones.zones.iter().any(|z| {
                    z.name
                        .trim_end_matches('.')
                        .eq_ignore_ascii_case(&candidate)
                }) {
                    return Ok(candidate);
                }
            }
        }
        Err(ProviderError::rejected(format!(
            "{label}: no zone of this project holds {name}"
        )))
    }

    /// Waits for an action to finish (3 polls, 1 s apart).
    async fn settle(&self, answer: &super::Answer) -> Result<(), ProviderError> {
        let label = self.label();
        let mut action = answer.json::<ActionAnswer>(&label)?.action;
        for _ in 0..3 {
            match action.status.as_str() {
                "success" => return Ok(()),
                "error" => {
                    let why = action
                        .error
                        .as_ref()
                        .and_then(|e| e["message"].as_str().map(str::to_owned))
                        .unwrap_or_default();
                    return Err(ProviderError::rejected(format!(
                        "{label}: the update action failed: {why}"
                    )));
                }
                _ => {
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    let id = action
                        .id
                        .as_u64()
                        .map_or_else(|| action.id.to_string(), |n| n.to_string());
                    action = self
                        .call(self.client.get(format!("{}/zones/actions/{id}", self.base)))
                        .await?
                        .json::<ActionAnswer>(&label)?
                        .action;
                }
            }
        }
        if action.status == "success" {
            Ok(())
        } else {
            Err(ProviderError::unconfirmed(format!(
                "{label}: the update is still running; could not confirm"
            )))
        }
    }
}

#[async_trait]
impl Provider for Hetzner {
    #[tracing::instrument(skip_all, fields(provider = %self.name, record = %request.name))]
    async fn update(&self, request: &UpdateRequest<'_>) -> Result<UpdateOutcome, ProviderError> {
        let label = self.label();
        let zone = self.zone(request.name).await?;
        let rel = relative(request.name, &zone);
        let rtype = request.record_type.as_str();
        let rrset_url = format!("{}/zones/{zone}/rrsets/{rel}/{rtype}", self.base);
        let current = self.call(self.client.get(&rrset_url)).await?;
        let value = request.ip.to_string();
        if current.status == reqwest::StatusCode::NOT_FOUND {
            let mut body = json!({ "name": rel, "type": rtype, "records": [{ "value": value }] });
            if let Some(ttl) = request.ttl {
                body["ttl"] = json!(ttl);
            }
            let created = self
                .call(
                    self.client
                        .post(format!("{}/zones/{zone}/rrsets", self.base))
                        .json(&body),
                )
                .await?;
            if created.status == reqwest::StatusCode::NOT_FOUND {
                return Err(ProviderError::rejected(format!(
                    "{label}: zone {zone} not found"
                )));
            }
            self.settle(&created).await?;
            return Ok(UpdateOutcome::Updated { record_id: None });
        }
        let set = current.json::<RrSetAnswer>(&label)?.rrset;
        let holds_only_ip = set.records.len() == 1
            && set.records[0].value.parse::<IpAddr>().ok() == Some(request.ip);
        let ttl_differs = request.ttl.is_some_and(|t| set.ttl != Some(u64::from(t)));
        if holds_only_ip && !ttl_differs {
            return Ok(UpdateOutcome::Unchanged { record_id: None });
        }
        if !holds_only_ip {
            let set_records = self
                .call(
                    self.client
                        .post(format!("{rrset_url}/actions/set_records"))
                        .json(&json!({ "records": [{ "value": value }] })),
                )
                .await?;
            self.settle(&set_records).await?;
        }
        if let (true, Some(ttl)) = (ttl_differs, request.ttl) {
            let change = self
                .call(
                    self.client
                        .post(format!("{rrset_url}/actions/change_ttl"))
                        .json(&json!({ "ttl": ttl })),
                )
                .await?;
            self.settle(&change).await?;
        }
        Ok(UpdateOutcome::Updated { record_id: None })
    }

    async fn check(&self, name: &str, record_type: RecordType) -> Result<String, ProviderError> {
        let label = self.label();
        let zone = self.zone(name).await?;
        let current = self
            .call(self.client.get(format!(
                "{}/zones/{zone}/rrsets/{}/{record_type}",
                self.base,
                relative(name, &zone)
            )))
            .await?;
        let values = if current.status == reqwest::StatusCode::NOT_FOUND {
            Vec::new()
        } else {
            current
                .json::<RrSetAnswer>(&label)?
                .rrset
                .records
                .into_iter()
                .map(|r| r.value)
                .collect()
        };
        Ok(super::found(name, record_type, &values, &zone))
    }
}
