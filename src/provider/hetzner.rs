//! Hetzner Cloud API (zones and `RRsets`). The zone is configured, or the longest suffix of the name the
//! project has (each suffix asked once per round); the `RRset` is read, then created, its records replaced
//! (`actions/set_records`, plus `change_ttl` when the TTL differs) or deleted. Names in paths are
//! percent-encoded. Actions run asynchronously: a running action is polled a few times before it counts.
//! "Test" lists the project's zones (`GET /zones`, `page`/`per_page` 100 until `meta.pagination.next_page` is
//! null, at most 50 pages).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::{
    Answer, Capabilities, Existing, KindConfig, KindInfo, Provider, ProviderError, Reconciler,
    RecordApi, Written, Zone, relative, segment, send, suffixes,
};
use crate::config::{RecordType, Secret};

const DEFAULT_ENDPOINT: &str = "https://api.hetzner.cloud/v1";

pub const INFO: KindInfo = KindInfo::provider(
    "hetzner",
    "https://console.hetzner.cloud/projects",
    &[super::secret("token"), super::opt("zone"), super::ENDPOINT],
)
.example("token = \"hz-token-value\"");

/// `kind = "hetzner"`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub token: Secret,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
}

const CAPABILITIES: Capabilities = Capabilities::SETS;
/// Pages of zones read at most (100 a page, the API's most).
const MAX_PAGES: u64 = 50;

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
            known: Mutex::new(HashMap::new()),
        }))
    }
}

struct Api {
    name: String,
    client: reqwest::Client,
    base: String,
    token: Secret,
    zone: Option<String>,
    /// Suffix -> whether the project has that zone, learnt this round.
    known: Mutex<HashMap<String, bool>>,
}

#[derive(Deserialize)]
struct Zones {
    #[serde(default)]
    zones: Vec<ZoneEntry>,
    #[serde(default)]
    meta: Option<Meta>,
}

#[derive(Deserialize)]
struct Meta {
    #[serde(default)]
    pagination: Option<Pagination>,
}

#[derive(Deserialize)]
struct Pagination {
    #[serde(default)]
    next_page: Option<u64>,
}

#[derive(Deserialize)]
struct ZoneEntry {
    name: String,
}

#[derive(Deserialize)]
struct RrSetAnswer {
    rrset: RrSet,
}

#[derive(Deserialize)]
struct RrSet {
    #[serde(default)]
    ttl: Option<u32>,
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

impl Api {
    fn label(&self) -> String {
        format!("hetzner `{}`", self.name)
    }

    /// Sends; a 404 is returned (callers decide what it means), other failures are errors.
    async fn call(&self, request: reqwest::RequestBuilder) -> Result<Answer, ProviderError> {
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

    /// Waits for an action to finish (3 polls, 1 s apart).
    async fn settle(&self, answer: &Answer) -> Result<(), ProviderError> {
        let label = self.label();
        if answer.status == reqwest::StatusCode::NOT_FOUND {
            return Err(ProviderError::rejected(format!(
                "{label}: the zone or record set was not found"
            )));
        }
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

    fn rrset_url(&self, zone: &Zone, name: &str, record_type: RecordType) -> String {
        format!(
            "{}/zones/{}/rrsets/{}/{record_type}",
            self.base,
            segment(&zone.name),
            segment(&relative(name, &zone.name))
        )
    }

    async fn has_zone(&self, candidate: &str) -> Result<bool, ProviderError> {
        if let Some(k) = self
            .known
            .lock()
            .ok()
            .and_then(|k| k.get(candidate).copied())
        {
            return Ok(k);
        }
        let answer = self
            .call(
                self.client
                    .get(format!("{}/zones", self.base))
                    .query(&[("name", candidate)]),
            )
            .await?;
        let found = answer.status.is_success()
            && answer
                .json::<Zones>(&self.label())?
                .zones
                .iter()
                .any(|z| super::canonical(&z.name) == candidate);
        if let Ok(mut k) = self.known.lock() {
            k.insert(candidate.to_owned(), found);
        }
        Ok(found)
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
        let mut page = 1;
        for _ in 0..MAX_PAGES {
            let answer = self
                .call(
                    self.client
                        .get(format!("{}/zones", self.base))
                        .query(&[("page", page.to_string()), ("per_page", "100".to_owned())]),
                )
                .await?;
            if !answer.status.is_success() {
                return Err(answer.status_error(&label, None));
            }
            let zones = answer.json::<Zones>(&label)?;
            out.extend(zones.zones.into_iter().map(|z| z.name));
            match zones
                .meta
                .and_then(|m| m.pagination)
                .and_then(|p| p.next_page)
            {
                Some(next) if next > page => page = next,
                _ => break,
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
            "{}: no zone of this project holds {name}",
            self.label()
        )))
    }

    async fn list(
        &self,
        zone: &Zone,
        name: &str,
        record_type: RecordType,
    ) -> Result<Vec<Existing>, ProviderError> {
        let current = self
            .call(self.client.get(self.rrset_url(zone, name, record_type)))
            .await?;
        if current.status == reqwest::StatusCode::NOT_FOUND {
            return Ok(Vec::new());
        }
        let set = current.json::<RrSetAnswer>(&self.label())?.rrset;
        Ok(vec![Existing {
            id: relative(name, &zone.name),
            values: set.records.into_iter().map(|r| r.value).collect(),
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
        let records: Vec<Value> = values
            .iter()
            .map(|ip| json!({ "value": ip.to_string() }))
            .collect();
        let mut body = json!({
            "name": relative(name, &zone.name), "type": record_type.as_str(), "records": records,
        });
        if let Some(ttl) = ttl {
            body["ttl"] = json!(ttl);
        }
        let created = self
            .call(
                self.client
                    .post(format!(
                        "{}/zones/{}/rrsets",
                        self.base,
                        segment(&zone.name)
                    ))
                    .json(&body),
            )
            .await?;
        self.settle(&created).await?;
        Ok(Written::new(None))
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
        let url = self.rrset_url(zone, name, record_type);
        let mut held: Vec<IpAddr> = existing
            .values
            .iter()
            .filter_map(|v| super::reconcile::parse_addr(v))
            .collect();
        held.sort_unstable();
        let mut wanted = values.to_vec();
        wanted.sort_unstable();
        if held != wanted || held.len() != existing.values.len() {
            let records: Vec<Value> = values
                .iter()
                .map(|ip| json!({ "value": ip.to_string() }))
                .collect();
            let set = self
                .call(
                    self.client
                        .post(format!("{url}/actions/set_records"))
                        .json(&json!({ "records": records })),
                )
                .await?;
            self.settle(&set).await?;
        }
        if let Some(ttl) = ttl.filter(|t| existing.ttl != Some(*t)) {
            let change = self
                .call(
                    self.client
                        .post(format!("{url}/actions/change_ttl"))
                        .json(&json!({ "ttl": ttl })),
                )
                .await?;
            self.settle(&change).await?;
        }
        Ok(Written::new(None))
    }

    async fn delete(
        &self,
        zone: &Zone,
        name: &str,
        record_type: RecordType,
        _existing: &Existing,
    ) -> Result<(), ProviderError> {
        let answer = self
            .call(self.client.delete(self.rrset_url(zone, name, record_type)))
            .await?;
        if answer.body.trim().is_empty() || answer.status == reqwest::StatusCode::NOT_FOUND {
            return Ok(());
        }
        self.settle(&answer).await
    }

    fn begin_round(&self) {
        if let Ok(mut k) = self.known.lock() {
            k.clear();
        }
    }
}
