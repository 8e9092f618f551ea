//! IONOS (hosting) DNS API v1 with an API key (`X-API-Key: <prefix>.<secret>`). Zones come as one list
//! (`GET /v1/zones`, once per round; the configured `zone` or the longest holding the name); a name's records
//! are read with `GET /v1/zones/{id}?recordName=<fqdn>&recordType=…` and filtered here; records are created
//! with `POST …/records` (an array), changed with `PUT …/records/{id}` (content, TTL kept unless set, enabled)
//! and deleted with `DELETE`. Names are FQDNs on the wire. A disabled record at the name is enabled again.

use std::net::IpAddr;
use std::sync::Arc;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::reconcile::RoundCache;
use super::{
    Answer, Capabilities, Existing, KindConfig, KindInfo, Provider, ProviderError, Reconciler,
    RecordApi, TtlRule, Written, Zone, segment, send,
};
use crate::config::check::FieldCheck;
use crate::config::{RecordType, Secret};

const DEFAULT_ENDPOINT: &str = "https://api.hosting.ionos.com/dns";

pub const INFO: KindInfo = KindInfo::provider(
    "ionos",
    "https://developer.hosting.ionos.com/keys",
    &[
        super::secret("api_key"),
        super::opt("zone"),
        super::flag("delete_duplicates"),
        super::ENDPOINT,
    ],
)
.example("api_key = \"0123456789abcdef0123456789abcdef.s3cretpartofthekey0123456789abcdef\"");

/// `kind = "ionos"`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub api_key: Secret,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delete_duplicates: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
}

/// 60 s is the smallest TTL the API accepts (docs/providers/ionos.md).
const CAPABILITIES: Capabilities = Capabilities {
    ttl: TtlRule {
        min: 60,
        max: 2_147_483_647,
        auto: None,
    },
    ..Capabilities::RECORDS
};

impl KindConfig for Config {
    fn endpoint(&self) -> Option<&str> {
        self.endpoint.as_deref()
    }

    fn secrets_mut(&mut self) -> Vec<(String, &mut Secret)> {
        vec![("api_key".into(), &mut self.api_key)]
    }

    fn zone(&self) -> Option<(&str, &'static str)> {
        self.zone.as_deref().map(|z| (z, "zone"))
    }

    fn validate(&self, check: &mut FieldCheck<'_>) {
        let key = self.api_key.expose();
        if !key.is_empty()
            && key
                .split_once('.')
                .is_none_or(|(prefix, secret)| prefix.is_empty() || secret.is_empty())
        {
            check.problem("api_key", "provider.ionos.check.prefix_dot_secret", &[]);
        }
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
        let api = Api {
            name,
            client,
            base: super::base_url(self.endpoint.as_deref(), DEFAULT_ENDPOINT),
            key: self.api_key.clone(),
            zone: self.zone.as_deref().map(super::canonical),
            zones: RoundCache::default(),
        };
        Arc::new(Reconciler::new(api).keeping_duplicates(self.delete_duplicates == Some(false)))
    }
}

struct Api {
    name: String,
    client: reqwest::Client,
    base: String,
    key: Secret,
    zone: Option<String>,
    /// The account's zones, listed once per round.
    zones: RoundCache<(), Vec<Zone>>,
}

#[derive(Deserialize)]
struct ZoneEntry {
    id: String,
    name: String,
}

#[derive(Deserialize)]
struct ZoneRecords {
    #[serde(default)]
    records: Vec<Record>,
}

#[derive(Deserialize)]
struct Record {
    id: String,
    #[serde(default)]
    name: String,
    #[serde(rename = "type", default)]
    record_type: String,
    #[serde(default)]
    content: String,
    #[serde(default)]
    ttl: Option<u32>,
    #[serde(default)]
    disabled: bool,
}

impl Api {
    fn label(&self) -> String {
        format!("ionos `{}`", self.name)
    }

    /// Sends; failures are classified from the status, quoting the error array's codes and messages.
    async fn call(&self, request: reqwest::RequestBuilder) -> Result<Answer, ProviderError> {
        let label = self.label();
        let answer = send(
            &label,
            request
                .header("X-API-Key", self.key.expose())
                .header(reqwest::header::ACCEPT, "application/json"),
            &[self.key.expose()],
        )
        .await?;
        if answer.status.is_success() {
            return Ok(answer);
        }
        let detail = serde_json::from_str::<Vec<Value>>(&answer.body)
            .ok()
            .map(|errors| {
                errors
                    .iter()
                    .map(|e| {
                        let code = e["code"].as_str().unwrap_or("?");
                        match e["message"].as_str() {
                            Some(m) => format!("{code}: {}", answer.redact(m)),
                            None => code.to_owned(),
                        }
                    })
                    .collect::<Vec<_>>()
                    .join("; ")
            });
        Err(answer.status_error(&label, detail.as_deref()))
    }

    async fn list_zones(&self) -> Result<Vec<Zone>, ProviderError> {
        Ok(self
            .call(self.client.get(format!("{}/v1/zones", self.base)))
            .await?
            .json::<Vec<ZoneEntry>>(&self.label())?
            .into_iter()
            .map(|z| Zone {
                id: z.id,
                name: super::canonical(&z.name),
            })
            .collect())
    }

    fn records_url(&self, zone: &Zone) -> String {
        format!("{}/v1/zones/{}/records", self.base, segment(&zone.id))
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
        let zones = self.zones.get_or_try(&(), self.list_zones()).await?;
        Ok(Some(zones.into_iter().map(|z| z.name).collect()))
    }

    async fn zone(&self, name: &str) -> Result<Zone, ProviderError> {
        let zones = self.zones.get_or_try(&(), self.list_zones()).await?;
        let best = match &self.zone {
            Some(z) => zones.iter().find(|x| &x.name == z),
            None => super::longest_zone(name, zones.iter().map(|z| z.name.as_str()))
                .and_then(|best| zones.iter().find(|z| z.name == best)),
        };
        best.cloned().ok_or_else(|| {
            ProviderError::rejected(format!(
                "{}: no zone of this account holds {name} (domains of IONOS Cloud are not in this API)",
                self.label()
            ))
        })
    }

    async fn list(
        &self,
        zone: &Zone,
        name: &str,
        record_type: RecordType,
    ) -> Result<Vec<Existing>, ProviderError> {
        let records = self
            .call(
                self.client
                    .get(format!("{}/v1/zones/{}", self.base, segment(&zone.id)))
                    .query(&[("recordName", name), ("recordType", record_type.as_str())]),
            )
            .await?
            .json::<ZoneRecords>(&self.label())?
            .records;
        Ok(records
            .into_iter()
            .filter(|r| super::canonical(&r.name) == name && r.record_type == record_type.as_str())
            .map(|r| Existing {
                id: r.id,
                values: vec![r.content],
                line: None,
                ttl: r.ttl,
                // A disabled record does not serve: enable it.
                stale: r.disabled,
            })
            .collect())
    }

    async fn create(
        &self,
        zone: &Zone,
        name: &str,
        record_type: RecordType,
        values: &[IpAddr],
        ttl: Option<u32>,
        _line: Option<&str>,
    ) -> Result<Written, ProviderError> {
        let content = values.first().map(ToString::to_string).unwrap_or_default();
        let mut record = json!({
            "name": name, "type": record_type.as_str(), "content": content, "disabled": false,
        });
        if let Some(ttl) = ttl {
            record["ttl"] = json!(ttl);
        }
        let created = self
            .call(
                self.client
                    .post(self.records_url(zone))
                    .json(&json!([record])),
            )
            .await?
            .json::<Vec<Record>>(&self.label())?;
        Ok(Written::new(created.into_iter().next().map(|r| r.id)))
    }

    async fn update(
        &self,
        zone: &Zone,
        _name: &str,
        _record_type: RecordType,
        existing: &Existing,
        values: &[IpAddr],
        ttl: Option<u32>,
    ) -> Result<Written, ProviderError> {
        let content = values.first().map(ToString::to_string).unwrap_or_default();
        let mut body = json!({ "content": content, "disabled": false });
        // Left-out fields may be reset: send the record's TTL unless the config sets one.
        if let Some(ttl) = ttl.or(existing.ttl) {
            body["ttl"] = json!(ttl);
        }
        let url = format!("{}/{}", self.records_url(zone), segment(&existing.id));
        self.call(self.client.put(url).json(&body)).await?;
        Ok(Written::new(Some(existing.id.clone())))
    }

    async fn delete(
        &self,
        zone: &Zone,
        _name: &str,
        _record_type: RecordType,
        existing: &Existing,
    ) -> Result<(), ProviderError> {
        let url = format!("{}/{}", self.records_url(zone), segment(&existing.id));
        self.call(self.client.delete(url)).await.map(|_| ())
    }

    fn begin_round(&self) {
        self.zones.clear();
    }
}
