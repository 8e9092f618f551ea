//! bunny.net DNS (core API) with the account API key in the `AccessKey` header. The zone is the configured
//! `zone`, or the longest suffix of the name the account has (`GET /dnszone?search=…`, exact `Domain` match,
//! each suffix asked once per round, `HasMoreItems` followed); a zone's records come inline with
//! `GET /dnszone/{id}`. Bunny's verbs are its own: `PUT …/records` creates, `POST …/records/{id}` updates
//! (204), `DELETE` deletes. Record types are numbers on the wire (A = 0, AAAA = 1). "Test" lists every zone
//! (`GET /dnszone` without `search`, `perPage` 1000, `HasMoreItems` followed, at most 20 pages).

use std::net::IpAddr;
use std::sync::Arc;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::reconcile::RoundCache;
use super::{
    Answer, Capabilities, Existing, KindConfig, KindInfo, Provider, ProviderError, Reconciler,
    RecordApi, TtlRule, Written, Zone, relative, send, suffixes,
};
use crate::config::{RecordType, Secret};

const DEFAULT_ENDPOINT: &str = "https://api.bunny.net";

pub const INFO: KindInfo = KindInfo::provider(
    "bunny",
    "https://dash.bunny.net/account/api-key",
    &[
        super::secret("api_key"),
        super::opt("zone"),
        super::flag("delete_duplicates"),
        super::ENDPOINT,
    ],
)
.example("api_key = \"01234567-89ab-cdef-0123-456789abcdef0123456789ab\"");

/// `kind = "bunny"`.
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

/// A minimum of 60 s (docs/providers/bunny.md: the clients enforce it).
const CAPABILITIES: Capabilities = Capabilities {
    ttl: TtlRule {
        min: 60,
        max: 2_147_483_647,
        auto: None,
    },
    ..Capabilities::RECORDS
};

/// Pages of zones read at most.
const MAX_PAGES: u32 = 20;

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
    /// Domain -> its zone id (`None`: not in this account), learnt this round.
    zones: RoundCache<String, Option<i64>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ZonesPage {
    #[serde(default)]
    items: Vec<ZoneEntry>,
    #[serde(default)]
    has_more_items: bool,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ZoneEntry {
    id: i64,
    domain: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ZoneRecords {
    #[serde(default)]
    records: Vec<Record>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Record {
    id: i64,
    #[serde(rename = "Type")]
    record_type: Value,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    value: Option<String>,
    #[serde(default)]
    ttl: Option<u32>,
}

/// Bunny's number for a record type.
fn type_number(record_type: RecordType) -> i64 {
    match record_type {
        RecordType::A => 0,
        RecordType::Aaaa => 1,
    }
}

/// Whether a record's `Type` (a number, or the type's name as some answers show it) is `record_type`.
fn is_type(value: &Value, record_type: RecordType) -> bool {
    value.as_i64() == Some(type_number(record_type))
        || value
            .as_str()
            .is_some_and(|s| s.eq_ignore_ascii_case(record_type.as_str()))
}

impl Api {
    fn label(&self) -> String {
        format!("bunny `{}`", self.name)
    }

    /// Sends; failures are classified from the status (401 answers plain text) with `Message` quoted.
    async fn call(&self, request: reqwest::RequestBuilder) -> Result<Answer, ProviderError> {
        let label = self.label();
        let answer = send(
            &label,
            request
                .header("AccessKey", self.key.expose())
                .header(reqwest::header::ACCEPT, "application/json"),
            &[self.key.expose()],
        )
        .await?;
        if answer.status.is_success() {
            return Ok(answer);
        }
        let detail = serde_json::from_str::<Value>(&answer.body)
            .ok()
            .and_then(|v| {
                let message = answer.redact(v["Message"].as_str()?);
                Some(match (v["ErrorKey"].as_str(), v["Field"].as_str()) {
                    (Some(k), Some(f)) if !f.is_empty() => format!("{k} ({f}): {message}"),
                    (Some(k), _) => format!("{k}: {message}"),
                    _ => message,
                })
            });
        let mut error = answer.status_error(&label, detail.as_deref());
        if error.class == super::ErrorClass::Auth {
            error
                .message
                .push_str(" (the account API key, under Account settings > API)");
        }
        Err(error)
    }

    async fn zone_id(&self, candidate: &str) -> Result<Option<i64>, ProviderError> {
        self.zones
            .get_or_try(&candidate.to_owned(), async {
                let label = self.label();
                for page in 1..=MAX_PAGES {
                    let batch = self
                        .call(
                            self.client.get(format!("{}/dnszone", self.base)).query(&[
                                ("page", page.to_string().as_str()),
                                ("search", candidate),
                            ]),
                        )
                        .await?
                        .json::<ZonesPage>(&label)?;
                    // `search` matches substrings: only the exact domain counts.
                    if let Some(z) = batch
                        .items
                        .iter()
                        .find(|z| super::canonical(&z.domain) == candidate)
                    {
                        return Ok(Some(z.id));
                    }
                    if !batch.has_more_items {
                        return Ok(None);
                    }
                }
                Ok(None)
            })
            .await
    }
}

/// The API's name for `name` in `zone`: the label, `""` for the apex.
fn api_name(name: &str, zone: &Zone) -> String {
    let label = relative(name, &zone.name);
    if label == "@" { String::new() } else { label }
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
        let label = self.label();
        let mut out = Vec::new();
        for page in 1..=MAX_PAGES {
            let batch = self
                .call(
                    self.client
                        .get(format!("{}/dnszone", self.base))
                        .query(&[("page", page.to_string().as_str()), ("perPage", "1000")]),
                )
                .await?
                .json::<ZonesPage>(&label)?;
            out.extend(batch.items.into_iter().map(|z| z.domain));
            if !batch.has_more_items {
                break;
            }
        }
        Ok(Some(out))
    }

    async fn zone(&self, name: &str) -> Result<Zone, ProviderError> {
        let candidates = match &self.zone {
            Some(z) => vec![z.clone()],
            None => suffixes(name),
        };
        for candidate in candidates {
            if let Some(id) = self.zone_id(&candidate).await? {
                return Ok(Zone {
                    id: id.to_string(),
                    name: candidate,
                });
            }
        }
        Err(ProviderError::rejected(format!(
            "{}: no DNS zone of this account holds {name} (add it under DNS, or check zone)",
            self.label()
        )))
    }

    async fn list(
        &self,
        zone: &Zone,
        name: &str,
        record_type: RecordType,
    ) -> Result<Vec<Existing>, ProviderError> {
        let want = api_name(name, zone);
        let records = self
            .call(
                self.client
                    .get(format!("{}/dnszone/{}", self.base, zone.id)),
            )
            .await?
            .json::<ZoneRecords>(&self.label())?
            .records;
        Ok(records
            .into_iter()
            .filter(|r| {
                let n = super::canonical(r.name.as_deref().unwrap_or(""));
                (n == want || (n == "@" && want.is_empty())) && is_type(&r.record_type, record_type)
            })
            .map(|r| Existing {
                id: r.id.to_string(),
                values: r.value.into_iter().collect(),
                line: None,
                ttl: r.ttl,
                stale: false,
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
        let value = values.first().map(ToString::to_string).unwrap_or_default();
        let mut body = json!({
            "Type": type_number(record_type), "Value": value, "Name": api_name(name, zone),
        });
        if let Some(ttl) = ttl {
            body["Ttl"] = json!(ttl);
        }
        let created = self
            .call(
                self.client
                    .put(format!("{}/dnszone/{}/records", self.base, zone.id))
                    .json(&body),
            )
            .await?
            .json::<Record>(&self.label())?;
        Ok(Written::new(Some(created.id.to_string())))
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
        let value = values.first().map(ToString::to_string).unwrap_or_default();
        let id: i64 = existing.id.parse().map_err(|_| {
            ProviderError::transient(format!(
                "{}: unexpected record id `{}`",
                self.label(),
                existing.id
            ))
        })?;
        let mut body = json!({
            "Id": id, "Type": type_number(record_type), "Value": value, "Name": api_name(name, zone),
        });
        // Keep the record's TTL unless the config sets one.
        if let Some(ttl) = ttl.or(existing.ttl) {
            body["Ttl"] = json!(ttl);
        }
        // 204 without a body.
        self.call(
            self.client
                .post(format!("{}/dnszone/{}/records/{id}", self.base, zone.id))
                .json(&body),
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
        self.call(self.client.delete(format!(
            "{}/dnszone/{}/records/{}",
            self.base,
            zone.id,
            super::segment(&existing.id)
        )))
        .await
        .map(|_| ())
    }

    fn begin_round(&self) {
        self.zones.clear();
    }
}
