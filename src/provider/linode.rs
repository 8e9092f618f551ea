//! Linode (Akamai Cloud) DNS Manager, API v4, with a personal access token. The domain is found with
//! `GET /v4/domains` filtered by `X-Filter: {"domain": …}` (the configured `zone`, else each suffix of the
//! name, asked once per round); its records are listed page by page (`page` < `pages`) and filtered here;
//! records are created with `POST`, changed with a partial `PUT` (`target`, and `ttl_sec` when set) and
//! deleted with `DELETE`. Linode snaps TTLs to a fixed list; the TTL asked for is remembered against the one
//! it stored, so a rounded TTL is not rewritten every time. "Test" lists every domain of the account
//! (`GET /v4/domains` without a filter, paged the same way).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use super::reconcile::RoundCache;
use super::{
    Answer, Capabilities, Existing, KindConfig, KindInfo, Provider, ProviderError, Reconciler,
    RecordApi, TtlRule, Written, Zone, relative, send, suffixes,
};
use crate::config::{RecordType, Secret};

const DEFAULT_ENDPOINT: &str = "https://api.linode.com/v4";

pub const INFO: KindInfo = KindInfo::provider(
    "linode",
    "https://cloud.linode.com/profile/tokens",
    &[
        super::secret("token"),
        super::opt("zone"),
        super::flag("delete_duplicates"),
        super::ENDPOINT,
    ],
)
.example("token = \"linode-pat-0123456789abcdef\"");

/// `kind = "linode"`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub token: Secret,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delete_duplicates: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
}

/// The record `ttl_sec` values run from 300 to 2419200 (28 days); others are rounded to the nearest valid one.
const CAPABILITIES: Capabilities = Capabilities {
    ttl: TtlRule {
        min: 300,
        max: 2_419_200,
        auto: None,
    },
    ..Capabilities::RECORDS
};

/// Pages read at most (500 records each).
const MAX_PAGES: u64 = 40;

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
        let api = Api {
            name,
            client,
            base: super::base_url(self.endpoint.as_deref(), DEFAULT_ENDPOINT),
            token: self.token.clone(),
            zone: self.zone.as_deref().map(super::canonical),
            domains: RoundCache::default(),
            snapped: Mutex::new(HashMap::new()),
        };
        Arc::new(Reconciler::new(api).keeping_duplicates(self.delete_duplicates == Some(false)))
    }
}

struct Api {
    name: String,
    client: reqwest::Client,
    base: String,
    token: Secret,
    zone: Option<String>,
    /// Domain name -> its id (`None`: not in this account), learnt this round.
    domains: RoundCache<String, Option<u64>>,
    /// Record id -> (TTL asked for, TTL Linode stored).
    snapped: Mutex<HashMap<String, (u32, u32)>>,
}

#[derive(Deserialize)]
struct Paged<T> {
    #[serde(default = "Vec::new")]
    data: Vec<T>,
    #[serde(default)]
    page: u64,
    #[serde(default)]
    pages: u64,
}

#[derive(Deserialize)]
struct Domain {
    id: u64,
    domain: String,
    #[serde(default, rename = "type")]
    kind: String,
    #[serde(default)]
    status: String,
}

#[derive(Deserialize)]
struct Record {
    id: u64,
    #[serde(rename = "type")]
    record_type: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    target: String,
    #[serde(default)]
    ttl_sec: Option<u32>,
}

impl Api {
    fn label(&self) -> String {
        format!("linode `{}`", self.name)
    }

    /// Sends; failures are classified from the status and `errors[].reason`.
    async fn call(&self, request: reqwest::RequestBuilder) -> Result<Answer, ProviderError> {
        let label = self.label();
        let answer = send(
            &label,
            request.bearer_auth(self.token.expose()),
            &[self.token.expose()],
        )
        .await?;
        if answer.status.is_success() {
            return Ok(answer);
        }
        let detail = serde_json::from_str::<Value>(&answer.body)
            .ok()
            .and_then(|v| {
                let reasons: Vec<String> = v["errors"]
                    .as_array()?
                    .iter()
                    .map(|e| {
                        let reason = answer.redact(e["reason"].as_str().unwrap_or(""));
                        match e["field"].as_str() {
                            Some(f) => format!("{f}: {reason}"),
                            None => reason,
                        }
                    })
                    .collect();
                Some(reasons.join("; "))
            });
        Err(answer.status_error(&label, detail.as_deref()))
    }

    async fn domain_id(&self, candidate: &str) -> Result<Option<u64>, ProviderError> {
        self.domains
            .get_or_try(&candidate.to_owned(), async {
                let label = self.label();
                let filter = json!({ "domain": candidate }).to_string();
                let found = self
                    .call(
                        self.client
                            .get(format!("{}/domains", self.base))
                            .header("X-Filter", filter),
                    )
                    .await?
                    .json::<Paged<Domain>>(&label)?
                    .data
                    .into_iter()
                    .find(|d| super::canonical(&d.domain) == candidate);
                match found {
                    Some(d) if d.status == "disabled" => Err(ProviderError::rejected(format!(
                        "{label}: the domain {candidate} is disabled in the DNS Manager"
                    ))),
                    Some(d) if !d.kind.is_empty() && d.kind != "master" => {
                        Err(ProviderError::rejected(format!(
                            "{label}: the domain {candidate} is a {} domain; only primary (master) domains hold editable records",
                            d.kind
                        )))
                    }
                    Some(d) => Ok(Some(d.id)),
                    None => Ok(None),
                }
            })
            .await
    }

    fn records_url(&self, zone: &Zone) -> String {
        format!("{}/domains/{}/records", self.base, zone.id)
    }

    /// The TTL to report for a record: the one asked for when Linode stored its rounding of it.
    fn reported_ttl(&self, id: &str, stored: Option<u32>) -> Option<u32> {
        let snapped = self.snapped.lock().ok()?;
        match (snapped.get(id), stored) {
            (Some((asked, got)), Some(s)) if *got == s => Some(*asked),
            _ => stored,
        }
    }

    fn remember(&self, record: &Record, asked: Option<u32>) {
        if let (Some(asked), Some(got), Ok(mut s)) = (asked, record.ttl_sec, self.snapped.lock()) {
            s.insert(record.id.to_string(), (asked, got));
        }
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
        for page in 1..=MAX_PAGES {
            let batch = self
                .call(
                    self.client
                        .get(format!("{}/domains", self.base))
                        .query(&[("page", page.to_string().as_str()), ("page_size", "500")]),
                )
                .await?
                .json::<Paged<Domain>>(&label)?;
            out.extend(batch.data.into_iter().map(|d| d.domain));
            if batch.page.max(page) >= batch.pages {
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
            if let Some(id) = self.domain_id(&candidate).await? {
                return Ok(Zone {
                    id: id.to_string(),
                    name: candidate,
                });
            }
        }
        Err(ProviderError::rejected(format!(
            "{}: no domain of this account holds {name} (add it in the DNS Manager, or check zone)",
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
        let want = relative(name, &zone.name);
        let mut out = Vec::new();
        let mut page = 1;
        loop {
            let answer = self
                .call(
                    self.client
                        .get(self.records_url(zone))
                        .query(&[("page", page.to_string().as_str()), ("page_size", "500")]),
                )
                .await?;
            let batch = answer.json::<Paged<Record>>(&label)?;
            // Names are relative; the apex is "" (accept "@" too).
            out.extend(
                batch
                    .data
                    .into_iter()
                    .filter(|r| {
                        let n = super::canonical(&r.name);
                        let n = if n.is_empty() { "@".to_owned() } else { n };
                        n == want && r.record_type == record_type.as_str()
                    })
                    .map(|r| {
                        let id = r.id.to_string();
                        Existing {
                            ttl: self.reported_ttl(&id, r.ttl_sec),
                            id,
                            values: vec![r.target],
                            line: None,
                            stale: false,
                        }
                    }),
            );
            // Past the end the API answers the last page again: stop on the page count, never on "empty".
            if batch.page.max(page) >= batch.pages || page >= MAX_PAGES {
                return Ok(out);
            }
            page = batch.page.max(page) + 1;
        }
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
        let target = values.first().map(ToString::to_string).unwrap_or_default();
        let label = relative(name, &zone.name);
        let mut body = json!({
            "type": record_type.as_str(),
            "name": if label == "@" { "" } else { label.as_str() },
            "target": target,
        });
        if let Some(ttl) = ttl {
            body["ttl_sec"] = json!(ttl);
        }
        let created = self
            .call(self.client.post(self.records_url(zone)).json(&body))
            .await?
            .json::<Record>(&self.label())?;
        self.remember(&created, ttl);
        Ok(Written::new(Some(created.id.to_string())))
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
        let target = values.first().map(ToString::to_string).unwrap_or_default();
        let mut body = Map::new();
        body.insert("target".into(), json!(target));
        if let Some(ttl) = ttl {
            body.insert("ttl_sec".into(), json!(ttl));
        }
        let url = format!("{}/{}", self.records_url(zone), existing.id);
        let updated = self
            .call(self.client.put(url).json(&Value::Object(body)))
            .await?
            .json::<Record>(&self.label())?;
        if super::reconcile::parse_addr(&updated.target) != values.first().copied() {
            return Err(ProviderError::unconfirmed(format!(
                "{}: the record holds {} after the update; could not confirm",
                self.label(),
                updated.target
            )));
        }
        self.remember(&updated, ttl);
        Ok(Written::new(Some(updated.id.to_string())))
    }

    async fn delete(
        &self,
        zone: &Zone,
        _name: &str,
        _record_type: RecordType,
        existing: &Existing,
    ) -> Result<(), ProviderError> {
        let url = format!("{}/{}", self.records_url(zone), existing.id);
        self.call(self.client.delete(url)).await.map(|_| ())
    }

    fn begin_round(&self) {
        self.domains.clear();
    }
}
