//! Gcore Managed DNS (API v2) with a permanent API token (`Authorization: APIKey <token>`). The zone is the
//! configured `zone`, or the longest suffix of the name the account has (`GET /v2/zones/{name}`, each suffix
//! asked once per round). A name's addresses are one `RRset` addressed by zone, FQDN and type: read with
//! `GET` (404: none yet), created with `POST`, replaced whole with `PUT` (the TTL kept unless the config sets
//! one), removed with `DELETE`. Geo-balanced `RRsets` (pickers, filter sets) are never overwritten.
//! "Test" lists the account's zones (`GET /v2/zones`, `limit` 1000 and `offset`, until `total_amount`, at
//! most 20 pages).

use std::net::IpAddr;
use std::sync::Arc;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::reconcile::RoundCache;
use super::{
    Answer, Capabilities, Existing, KindConfig, KindInfo, Provider, ProviderError, Reconciler,
    RecordApi, Written, Zone, segment, send, suffixes,
};
use crate::config::check::FieldCheck;
use crate::config::{RecordType, Secret};

const DEFAULT_ENDPOINT: &str = "https://api.gcore.com/dns";

pub const INFO: KindInfo = KindInfo::provider(
    "gcore",
    "https://portal.gcore.com/accounts/profile/api-tokens",
    &[super::secret("token"), super::opt("zone"), super::ENDPOINT],
)
.example("token = \"29841$c767b25000000000000000000000000000000000000000000000000000000000\"");

/// `kind = "gcore"`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub token: Secret,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
}

/// Gcore documents no TTL bounds (docs/providers/gcore.md; a stored `RRset` with TTL 10 is in its examples).
const CAPABILITIES: Capabilities = Capabilities::SETS;
/// Zones asked for per page.
const ZONE_PAGE: usize = 1000;
/// Pages of zones read at most.
const MAX_PAGES: usize = 20;

impl KindConfig for Config {
    fn endpoint(&self) -> Option<&str> {
        self.endpoint.as_deref()
    }

    fn secrets_mut(&mut self) -> Vec<(String, &mut Secret)> {
        vec![("token".into(), &mut self.token)]
    }

    fn zone(&self) -> Option<(&str, &'static str)> {
        self.zone.as_deref().map(|z| (z, "zone"))
    }

    fn validate(&self, check: &mut FieldCheck<'_>) {
        // A token cut at its `$` (a shell or an unquoted file) is refused as "Bad permanent token".
        let token = self.token.expose();
        if !token.is_empty() && token.chars().all(|c| c.is_ascii_digit()) {
            check.problem("token", "provider.gcore.check.token_cut", &[]);
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
        Arc::new(Reconciler::new(Api {
            name,
            client,
            base: super::base_url(self.endpoint.as_deref(), DEFAULT_ENDPOINT),
            token: self.token.clone(),
            zone: self.zone.as_deref().map(super::canonical),
            known: RoundCache::default(),
        }))
    }
}

struct Api {
    name: String,
    client: reqwest::Client,
    base: String,
    token: Secret,
    zone: Option<String>,
    /// Suffix -> whether the account has that zone, learnt this round.
    known: RoundCache<String, bool>,
}

#[derive(Deserialize)]
struct RrSet {
    #[serde(default)]
    ttl: Option<u32>,
    #[serde(default)]
    resource_records: Vec<ResourceRecord>,
    #[serde(default)]
    pickers: Vec<Value>,
    #[serde(default)]
    filter_set_id: Option<Value>,
}

#[derive(Deserialize)]
struct ZonesPage {
    #[serde(default)]
    zones: Vec<ZoneEntry>,
    #[serde(default)]
    total_amount: Option<u64>,
}

#[derive(Deserialize)]
struct ZoneEntry {
    name: String,
}

#[derive(Deserialize)]
struct ResourceRecord {
    #[serde(default)]
    content: Vec<Value>,
}

impl Api {
    fn label(&self) -> String {
        format!("gcore `{}`", self.name)
    }

    /// Sends; a 404 is returned (callers decide what it means), other failures are errors.
    async fn call(&self, request: reqwest::RequestBuilder) -> Result<Answer, ProviderError> {
        let label = self.label();
        let answer = send(
            &label,
            request
                .header(
                    reqwest::header::AUTHORIZATION,
                    format!("APIKey {}", self.token.expose()),
                )
                .header(reqwest::header::ACCEPT, "application/json"),
            &[self.token.expose()],
        )
        .await?;
        if answer.status.is_success() || answer.status == reqwest::StatusCode::NOT_FOUND {
            return Ok(answer);
        }
        let detail = serde_json::from_str::<Value>(&answer.body)
            .ok()
            .and_then(|v| v["error"].as_str().map(|e| answer.redact(e)));
        Err(answer.status_error(&label, detail.as_deref()))
    }

    fn rrset_url(&self, zone: &Zone, name: &str, record_type: RecordType) -> String {
        format!(
            "{}/v2/zones/{}/{}/{record_type}",
            self.base,
            segment(&zone.id),
            segment(name)
        )
    }

    fn body(values: &[IpAddr], ttl: Option<u32>) -> Value {
        let records: Vec<Value> = values
            .iter()
            .map(|ip| json!({ "content": [ip.to_string()], "enabled": true }))
            .collect();
        let mut body = json!({ "resource_records": records });
        if let Some(ttl) = ttl {
            body["ttl"] = json!(ttl);
        }
        body
    }

    /// A write's answer: 2xx, or 404 when the zone is gone.
    fn written(&self, answer: &Answer, zone: &Zone) -> Result<Written, ProviderError> {
        if answer.status == reqwest::StatusCode::NOT_FOUND {
            return Err(ProviderError::rejected(format!(
                "{}: the zone {} was not found (HTTP 404): {}",
                self.label(),
                zone.name,
                answer.snippet()
            )));
        }
        Ok(Written::new(None))
    }

    async fn has_zone(&self, candidate: &str) -> Result<bool, ProviderError> {
        self.known
            .get_or_try(&candidate.to_owned(), async {
                let answer = self
                    .call(
                        self.client
                            .get(format!("{}/v2/zones/{}", self.base, segment(candidate))),
                    )
                    .await?;
                Ok(answer.status.is_success())
            })
            .await
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
        let label = self.label();
        let mut out = Vec::new();
        for page in 0..MAX_PAGES {
            let answer = self
                .call(self.client.get(format!("{}/v2/zones", self.base)).query(&[
                    ("limit", ZONE_PAGE.to_string()),
                    ("offset", (page * ZONE_PAGE).to_string()),
                ]))
                .await?;
            if !answer.status.is_success() {
                return Err(answer.status_error(&label, None));
            }
            let batch = answer.json::<ZonesPage>(&label)?;
            let n = batch.zones.len();
            out.extend(batch.zones.into_iter().map(|z| z.name));
            if n < ZONE_PAGE || out.len() as u64 >= batch.total_amount.unwrap_or(0) {
                break;
            }
        }
        Ok(Some(out))
    }

    async fn zone(&self, name: &str) -> Result<Zone, ProviderError> {
        if let Some(z) = &self.zone {
            return Ok(Zone {
                id: z.clone(),
                name: z.clone(),
            });
        }
        for candidate in suffixes(name) {
            if self.has_zone(&candidate).await? {
                return Ok(Zone {
                    id: candidate.clone(),
                    name: candidate,
                });
            }
        }
        Err(ProviderError::rejected(format!(
            "{}: no zone of this account holds {name} (add it under DNS > Zones, or set zone)",
            self.label()
        )))
    }

    async fn list(
        &self,
        zone: &Zone,
        name: &str,
        record_type: RecordType,
    ) -> Result<Vec<Existing>, ProviderError> {
        let label = self.label();
        let answer = self
            .call(self.client.get(self.rrset_url(zone, name, record_type)))
            .await?;
        if answer.status == reqwest::StatusCode::NOT_FOUND {
            return Ok(Vec::new());
        }
        let set = answer.json::<RrSet>(&label)?;
        if !set.pickers.is_empty() || set.filter_set_id.as_ref().is_some_and(|f| !f.is_null()) {
            return Err(ProviderError::rejected(format!(
                "{label}: {name} {record_type} is a balanced record set (pickers or a filter set); not changed"
            )));
        }
        Ok(vec![Existing {
            id: name.to_owned(),
            values: set
                .resource_records
                .iter()
                .map(|r| {
                    r.content
                        .first()
                        .and_then(Value::as_str)
                        .unwrap_or("")
                        .to_owned()
                })
                .collect(),
            line: None,
            ttl: set.ttl,
            stale: false,
        }])
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
        let answer = self
            .call(
                self.client
                    .post(self.rrset_url(zone, name, record_type))
                    .json(&Self::body(values, ttl)),
            )
            .await?;
        self.written(&answer, zone)
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
        // PUT replaces the whole set: keep its TTL unless the config sets one.
        let answer = self
            .call(
                self.client
                    .put(self.rrset_url(zone, name, record_type))
                    .json(&Self::body(values, ttl.or(existing.ttl))),
            )
            .await?;
        self.written(&answer, zone)
    }

    async fn delete(
        &self,
        zone: &Zone,
        name: &str,
        record_type: RecordType,
        _existing: &Existing,
    ) -> Result<(), ProviderError> {
        // A 404 means it is gone already.
        self.call(self.client.delete(self.rrset_url(zone, name, record_type)))
            .await
            .map(|_| ())
    }

    fn begin_round(&self) {
        self.known.clear();
    }
}
