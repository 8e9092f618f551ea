//! dynv6 REST API v2: the zone is the longest suffix among the account's zones. The zone's own address is set
//! on the zone (`ipv4address` / `ipv6prefix`); other names are records, created or patched (duplicates deleted).

use std::net::IpAddr;

use async_trait::async_trait;
use serde::Deserialize;
use serde_json::{Value, json};

use super::{Provider, ProviderError, UpdateOutcome, UpdateRequest, relative, send};
use crate::config::providers::TokenFile;
use crate::config::{RecordType, Secret};

const DEFAULT_ENDPOINT: &str = "https://dynv6.com/api/v2";

pub struct Dynv6 {
    name: String,
    client: reqwest::Client,
    base: String,
    token: Secret,
}

#[derive(Deserialize)]
struct Zone {
    id: Value,
    name: String,
    #[serde(default)]
    ipv4address: Option<String>,
    #[serde(default)]
    ipv6prefix: Option<String>,
}

#[derive(Deserialize)]
struct Record {
    id: Value,
    name: String,
    #[serde(rename = "type")]
    record_type: String,
    data: String,
}

fn id(v: &Value) -> String {
    v.as_str().map_or_else(|| v.to_string(), str::to_owned)
}

impl Dynv6 {
    pub fn new(name: String, cfg: &TokenFile) -> Self {
        Self {
            name,
            client: crate::http::api_client(),
            base: super::base_url(cfg.endpoint.as_deref(), DEFAULT_ENDPOINT),
            token: cfg.token.clone(),
        }
    }

    fn label(&self) -> String {
        format!("dynv6 `{}`", self.name)
    }

    /// The account's zone holding `name` (the longest suffix).
    async fn zone(&self, name: &str) -> Result<Zone, ProviderError> {
        let zones: Vec<Zone> = self
            .call(self.client.get(format!("{}/zones", self.base)))
            .await?;
        zones
            .into_iter()
            .filter(|z| name == z.name || name.ends_with(&format!(".{}", z.name)))
            .max_by_key(|z| z.name.len())
            .ok_or_else(|| {
                ProviderError::rejected(format!(
                    "{}: no zone of this account holds {name}",
                    self.label()
                ))
            })
    }

    async fn call<T: serde::de::DeserializeOwned>(
        &self,
        request: reqwest::RequestBuilder,
    ) -> Result<T, ProviderError> {
        let label = self.label();
        let answer = send(
            &label,
            request.bearer_auth(self.token.expose()),
            &[self.token.expose()],
        )
        .await?;
        if !answer.status.is_success() {
            return Err(answer.status_error(&label, None));
        }
        if answer.body.trim().is_empty() {
            return serde_json::from_value(Value::Null)
                .map_err(|e| ProviderError::transient(format!("{label}: empty answer ({e})")));
        }
        answer.json(&label)
    }
}

fn same(text: Option<&str>, ip: IpAddr) -> bool {
    text.and_then(|t| t.split('/').next())
        .and_then(|t| t.parse::<IpAddr>().ok())
        == Some(ip)
}

#[async_trait]
impl Provider for Dynv6 {
    #[tracing::instrument(skip_all, fields(provider = %self.name, record = %request.name))]
    async fn update(&self, request: &UpdateRequest<'_>) -> Result<UpdateOutcome, ProviderError> {
        let zone = self.zone(request.name).await?;
        let zone_url = format!("{}/zones/{}", self.base, id(&zone.id));
        let ip = request.ip.to_string();
        if request.name == zone.name {
            let (field, current) = if request.ip.is_ipv4() {
                ("ipv4address", zone.ipv4address.as_deref())
            } else {
                ("ipv6prefix", zone.ipv6prefix.as_deref())
            };
            if same(current, request.ip) {
                return Ok(UpdateOutcome::Unchanged { record_id: None });
            }
            let _: Value = self
                .call(self.client.patch(&zone_url).json(&json!({ field: ip })))
                .await?;
            return Ok(UpdateOutcome::Updated { record_id: None });
        }
        let rel = relative(request.name, &zone.name);
        let rtype = request.record_type.as_str();
        let records: Vec<Record> = self
            .call(self.client.get(format!("{zone_url}/records")))
            .await?;
        let mut matching: Vec<Record> = records
            .into_iter()
            .filter(|r| r.name.eq_ignore_ascii_case(&rel) && r.record_type == rtype)
            .collect();
        if matching.is_empty() {
            let created: Record = self
                .call(
                    self.client
                        .post(format!("{zone_url}/records"))
                        .json(&json!({ "name": rel, "type": rtype, "data": ip })),
                )
                .await?;
            return Ok(UpdateOutcome::Updated {
                record_id: Some(id(&created.id)),
            });
        }
        let keep = super::take_kept(&mut matching, request.record_id, |r| id(&r.id));
        for extra in &matching {
            tracing::warn!(record = %request.name, id = %id(&extra.id), "deleting a duplicate {rtype} record");
            let _: Value = self
                .call(
                    self.client
                        .delete(format!("{zone_url}/records/{}", id(&extra.id))),
                )
                .await?;
        }
        if same(Some(&keep.data), request.ip) {
            return Ok(UpdateOutcome::Unchanged {
                record_id: Some(id(&keep.id)),
            });
        }
        let _: Value = self
            .call(
                self.client
                    .patch(format!("{zone_url}/records/{}", id(&keep.id)))
                    .json(&json!({ "data": ip })),
            )
            .await?;
        Ok(UpdateOutcome::Updated {
            record_id: Some(id(&keep.id)),
        })
    }

    async fn check(&self, name: &str, record_type: RecordType) -> Result<String, ProviderError> {
        let zone = self.zone(name).await?;
        let values: Vec<String> = if name == zone.name {
            let v = if record_type == RecordType::A {
                zone.ipv4address.clone()
            } else {
                zone.ipv6prefix.clone()
            };
            v.into_iter().filter(|s| !s.is_empty()).collect()
        } else {
            let rel = relative(name, &zone.name);
            let records: Vec<Record> = self
                .call(
                    self.client
                        .get(format!("{}/zones/{}/records", self.base, id(&zone.id))),
                )
                .await?;
            records
                .into_iter()
                .filter(|r| {
                    r.name.eq_ignore_ascii_case(&rel) && r.record_type == record_type.as_str()
                })
                .map(|r| r.data)
                .collect()
        };
        Ok(super::found(name, record_type, &values, &zone.name))
    }
}
