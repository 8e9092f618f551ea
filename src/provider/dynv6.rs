//! dynv6 REST API v2: the zone is the longest of the account's zones holding the name (listed once per
//! round). The zone's own address is a field of the zone (`ipv4address` / `ipv6prefix`, changed with
//! `PATCH /zones/{id}`); other names are records, read from the zone's record list (once per round per
//! zone), created, patched or deleted.

use std::net::IpAddr;
use std::sync::Arc;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::reconcile::RoundCache;
use super::{
    Capabilities, Existing, KindConfig, KindInfo, Provider, ProviderError, Reconciler, RecordApi,
    Written, Zone, relative, send,
};
use crate::config::{RecordType, Secret};

const DEFAULT_ENDPOINT: &str = "https://dynv6.com/api/v2";
/// The id standing for the zone's own address.
const APEX: &str = "@zone";

pub const INFO: KindInfo = KindInfo::provider(
    "dynv6",
    "https://dynv6.com/keys",
    &[super::secret("token"), super::ENDPOINT],
)
.example("token = \"dynv6-token-value\"");

/// `kind = "dynv6"`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub token: Secret,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
}

/// The zone apex holds one address per family; other names hold records.
const CAPABILITIES: Capabilities = Capabilities {
    multi_value: false,
    ..Capabilities::RECORDS
};

impl KindConfig for Config {
    fn endpoint(&self) -> Option<&str> {
        self.endpoint.as_deref()
    }

    fn secrets_mut(&mut self) -> Vec<(String, &mut Secret)> {
        vec![("token".into(), &mut self.token)]
    }

    fn capabilities(&self) -> Capabilities {
        CAPABILITIES
    }

    fn build(
        &self,
        name: String,
        _kind: &'static str,
        client: reqwest::Client,
    ) -> Arc<dyn Provider> {
        Arc::new(Reconciler::new(Api {
            name,
            client,
            base: super::base_url(self.endpoint.as_deref(), DEFAULT_ENDPOINT),
            token: self.token.clone(),
            zones: RoundCache::default(),
            records: RoundCache::default(),
        }))
    }
}

struct Api {
    name: String,
    client: reqwest::Client,
    base: String,
    token: Secret,
    zones: RoundCache<(), Vec<ZoneEntry>>,
    records: RoundCache<String, Vec<Record>>,
}

#[derive(Deserialize, Clone)]
struct ZoneEntry {
    id: Value,
    name: String,
    #[serde(default)]
    ipv4address: Option<String>,
    #[serde(default)]
    ipv6prefix: Option<String>,
}

#[derive(Deserialize, Clone)]
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

impl Api {
    fn label(&self) -> String {
        format!("dynv6 `{}`", self.name)
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

    async fn zone_entry(&self, zone: &Zone) -> Result<ZoneEntry, ProviderError> {
        let zones = self
            .zones
            .get_or_try(
                &(),
                self.call(self.client.get(format!("{}/zones", self.base))),
            )
            .await?;
        zones
            .into_iter()
            .find(|z| id(&z.id) == zone.id)
            .ok_or_else(|| {
                ProviderError::rejected(format!("{}: zone {} is gone", self.label(), zone.name))
            })
    }

    fn zone_url(zone: &Zone, base: &str) -> String {
        format!("{base}/zones/{}", zone.id)
    }
}

#[async_trait]
impl RecordApi for Api {
    fn label(&self) -> String {
        Api::label(self)
    }

    fn capabilities(&self) -> Capabilities {
        CAPABILITIES
    }

    async fn zones(&self) -> Result<Option<Vec<String>>, ProviderError> {
        let zones: Vec<ZoneEntry> = self
            .zones
            .get_or_try(
                &(),
                self.call(self.client.get(format!("{}/zones", self.base))),
            )
            .await?;
        Ok(Some(zones.into_iter().map(|z| z.name).collect()))
    }

    async fn zone(&self, name: &str) -> Result<Zone, ProviderError> {
        let zones: Vec<ZoneEntry> = self
            .zones
            .get_or_try(
                &(),
                self.call(self.client.get(format!("{}/zones", self.base))),
            )
            .await?;
        let names: Vec<String> = zones.iter().map(|z| super::canonical(&z.name)).collect();
        let best =
            super::longest_zone(name, names.iter().map(String::as_str)).ok_or_else(|| {
                ProviderError::rejected(format!(
                    "{}: no zone of this account holds {name}",
                    self.label()
                ))
            })?;
        let entry = zones
            .iter()
            .find(|z| super::canonical(&z.name) == best)
            .map(|z| id(&z.id))
            .unwrap_or_default();
        Ok(Zone {
            id: entry,
            name: best.to_owned(),
        })
    }

    async fn list(
        &self,
        zone: &Zone,
        name: &str,
        record_type: RecordType,
    ) -> Result<Vec<Existing>, ProviderError> {
        if name == zone.name {
            let entry = self.zone_entry(zone).await?;
            let value = match record_type {
                RecordType::A => entry.ipv4address,
                RecordType::Aaaa => entry.ipv6prefix,
            };
            return Ok(value
                .filter(|v| !v.is_empty())
                .map(|v| Existing {
                    id: APEX.into(),
                    values: vec![v],
                    ..Existing::default()
                })
                .into_iter()
                .collect());
        }
        let url = format!("{}/records", Self::zone_url(zone, &self.base));
        let records = self
            .records
            .get_or_try(&zone.id, self.call(self.client.get(url)))
            .await?;
        let rel = relative(name, &zone.name);
        Ok(records
            .into_iter()
            .filter(|r| r.name.eq_ignore_ascii_case(&rel) && r.record_type == record_type.as_str())
            .map(|r| Existing {
                id: id(&r.id),
                values: vec![r.data],
                ..Existing::default()
            })
            .collect())
    }

    async fn create(
        &self,
        zone: &Zone,
        name: &str,
        record_type: RecordType,
        values: &[IpAddr],
        _ttl: Option<u32>,
        _line: Option<&str>,
    ) -> Result<Written, ProviderError> {
        let ip = values.first().map(ToString::to_string).unwrap_or_default();
        let zone_url = Self::zone_url(zone, &self.base);
        if name == zone.name {
            let field = if record_type == RecordType::A {
                "ipv4address"
            } else {
                "ipv6prefix"
            };
            let _: Value = self
                .call(self.client.patch(&zone_url).json(&json!({ field: ip })))
                .await?;
            return Ok(Written::new(None));
        }
        let rel = relative(name, &zone.name);
        let created: Record = self
            .call(
                self.client
                    .post(format!("{zone_url}/records"))
                    .json(&json!({ "name": rel, "type": record_type.as_str(), "data": ip })),
            )
            .await?;
        Ok(Written::new(Some(id(&created.id))))
    }

    async fn update(
        &self,
        zone: &Zone,
        name: &str,
        record_type: RecordType,
        existing: &Existing,
        values: &[IpAddr],
        ttl: Option<u32>,
    ) -> Result<Written, ProviderError> {
        if existing.id == APEX {
            return self
                .create(zone, name, record_type, values, ttl, None)
                .await;
        }
        let ip = values.first().map(ToString::to_string).unwrap_or_default();
        let _: Value = self
            .call(
                self.client
                    .patch(format!(
                        "{}/records/{}",
                        Self::zone_url(zone, &self.base),
                        existing.id
                    ))
                    .json(&json!({ "data": ip })),
            )
            .await?;
        Ok(Written::new(Some(existing.id.clone())))
    }

    async fn delete(
        &self,
        zone: &Zone,
        _name: &str,
        _record_type: RecordType,
        existing: &Existing,
    ) -> Result<(), ProviderError> {
        if existing.id == APEX {
            return Ok(());
        }
        let _: Value = self
            .call(self.client.delete(format!(
                "{}/records/{}",
                Self::zone_url(zone, &self.base),
                existing.id
            )))
            .await?;
        Ok(())
    }

    fn begin_round(&self) {
        self.zones.clear();
        self.records.clear();
    }
}
