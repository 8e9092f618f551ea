//! Vultr DNS (API v2) with the account's API key. The domain is the configured `zone`, or the longest suffix
//! of the name the account has (`GET /v2/domains/{name}`, each suffix asked once per round); records are
//! listed 500 at a time following the opaque cursor in `meta.links.next` and filtered here (the API has no
//! name filter); created with `POST`, changed with `PATCH` of `data` (and `ttl` when set, answered 204) and
//! deleted with `DELETE`. "Test" lists the account's domains (`GET /v2/domains`, 500 a page, the same cursor).

use std::net::IpAddr;
use std::sync::Arc;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use super::reconcile::RoundCache;
use super::{
    Answer, Capabilities, Existing, KindConfig, KindInfo, Provider, ProviderError, Reconciler,
    RecordApi, Written, Zone, relative, segment, send, suffixes,
};
use crate::config::{RecordType, Secret};

const DEFAULT_ENDPOINT: &str = "https://api.vultr.com/v2";

pub const INFO: KindInfo = KindInfo::provider(
    "vultr",
    "https://my.vultr.com/settings/#settingsapi",
    &[
        super::secret("token"),
        super::opt("zone"),
        super::flag("delete_duplicates"),
        super::ENDPOINT,
    ],
)
.example("token = \"VULTRAPIKEY0123456789ABCDEF\"");

/// `kind = "vultr"`.
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

/// Vultr documents no TTL bounds (docs/providers/vultr.md): any TTL is passed on.
const CAPABILITIES: Capabilities = Capabilities::RECORDS;

/// Pages read at most (500 records each).
const MAX_PAGES: usize = 40;

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
            known: RoundCache::default(),
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
    /// Suffix -> whether the account has that domain, learnt this round.
    known: RoundCache<String, bool>,
}

#[derive(Deserialize)]
struct RecordsPage {
    #[serde(default)]
    records: Vec<Record>,
    #[serde(default)]
    meta: Option<Meta>,
}

#[derive(Deserialize)]
struct DomainsPage {
    #[serde(default)]
    domains: Vec<DomainEntry>,
    #[serde(default)]
    meta: Option<Meta>,
}

#[derive(Deserialize)]
struct DomainEntry {
    domain: String,
}

#[derive(Deserialize)]
struct Meta {
    #[serde(default)]
    links: Option<MetaLinks>,
}

#[derive(Deserialize)]
struct MetaLinks {
    #[serde(default)]
    next: Option<String>,
}

#[derive(Deserialize)]
struct RecordAnswer {
    record: Record,
}

#[derive(Deserialize)]
struct Record {
    id: String,
    #[serde(rename = "type")]
    record_type: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    data: String,
    #[serde(default)]
    ttl: Option<u32>,
}

impl Api {
    fn label(&self) -> String {
        format!("vultr `{}`", self.name)
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
            .and_then(|v| v["error"].as_str().map(|e| answer.redact(e)));
        let mut error = answer.status_error(&label, detail.as_deref());
        if answer.status == reqwest::StatusCode::UNAUTHORIZED {
            error.message.push_str(
                " (a key restricted by the API access control list refuses calls from other addresses)",
            );
        }
        Err(error)
    }

    fn found(&self, answer: &Answer, what: &str) -> Result<(), ProviderError> {
        if answer.status == reqwest::StatusCode::NOT_FOUND {
            return Err(ProviderError::rejected(format!(
                "{}: {what} was not found (HTTP 404): {}",
                self.label(),
                answer.snippet()
            )));
        }
        Ok(())
    }

    async fn has_domain(&self, candidate: &str) -> Result<bool, ProviderError> {
        self.known
            .get_or_try(&candidate.to_owned(), async {
                let answer = self
                    .call(
                        self.client
                            .get(format!("{}/domains/{}", self.base, segment(candidate))),
                    )
                    .await?;
                Ok(answer.status.is_success())
            })
            .await
    }

    fn records_url(&self, zone: &Zone) -> String {
        format!("{}/domains/{}/records", self.base, segment(&zone.id))
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
        let mut cursor: Option<String> = None;
        for _ in 0..MAX_PAGES {
            let mut query = vec![("per_page", "500".to_owned())];
            if let Some(c) = &cursor {
                query.push(("cursor", c.clone()));
            }
            let answer = self
                .call(
                    self.client
                        .get(format!("{}/domains", self.base))
                        .query(&query),
                )
                .await?;
            self.found(&answer, "the domain list")?;
            let page = answer.json::<DomainsPage>(&label)?;
            out.extend(page.domains.into_iter().map(|d| d.domain));
            match page
                .meta
                .and_then(|m| m.links)
                .and_then(|l| l.next)
                .filter(|n| !n.is_empty())
            {
                Some(next) => cursor = Some(next),
                None => return Ok(Some(out)),
            }
        }
        Err(ProviderError::transient(format!(
            "{label}: more than {MAX_PAGES} pages of domains"
        )))
    }

    async fn zone(&self, name: &str) -> Result<Zone, ProviderError> {
        if let Some(z) = &self.zone {
            return Ok(Zone {
                id: z.clone(),
                name: z.clone(),
            });
        }
        for candidate in suffixes(name) {
            if self.has_domain(&candidate).await? {
                return Ok(Zone {
                    id: candidate.clone(),
                    name: candidate,
                });
            }
        }
        Err(ProviderError::rejected(format!(
            "{}: no domain of this account holds {name} (add it under Network > DNS, or set zone)",
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
        let want = api_name(name, zone);
        let mut out = Vec::new();
        let mut cursor: Option<String> = None;
        for _ in 0..MAX_PAGES {
            let mut query = vec![("per_page", "500".to_owned())];
            if let Some(c) = &cursor {
                query.push(("cursor", c.clone()));
            }
            let answer = self
                .call(self.client.get(self.records_url(zone)).query(&query))
                .await?;
            self.found(&answer, &format!("the domain {}", zone.name))?;
            let page = answer.json::<RecordsPage>(&label)?;
            // Names are relative, the apex "" (accept "@" too); there is no server-side filter.
            out.extend(
                page.records
                    .into_iter()
                    .filter(|r| {
                        let n = super::canonical(&r.name);
                        (n == want || (n == "@" && want.is_empty()))
                            && r.record_type == record_type.as_str()
                    })
                    .map(|r| Existing {
                        id: r.id,
                        values: vec![r.data],
                        line: None,
                        ttl: r.ttl,
                        stale: false,
                    }),
            );
            match page
                .meta
                .and_then(|m| m.links)
                .and_then(|l| l.next)
                .filter(|n| !n.is_empty())
            {
                Some(next) => cursor = Some(next),
                None => return Ok(out),
            }
        }
        Err(ProviderError::transient(format!(
            "{label}: more than {MAX_PAGES} pages of records in {}",
            zone.name
        )))
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
        let data = values.first().map(ToString::to_string).unwrap_or_default();
        let mut body = json!({
            "name": api_name(name, zone), "type": record_type.as_str(), "data": data,
        });
        if let Some(ttl) = ttl {
            body["ttl"] = json!(ttl);
        }
        let answer = self
            .call(self.client.post(self.records_url(zone)).json(&body))
            .await?;
        self.found(&answer, &format!("the domain {}", zone.name))?;
        let created = answer.json::<RecordAnswer>(&self.label())?.record;
        Ok(Written::new(Some(created.id)))
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
        let data = values.first().map(ToString::to_string).unwrap_or_default();
        let mut patch = Map::new();
        patch.insert("data".into(), json!(data));
        if let Some(ttl) = ttl {
            patch.insert("ttl".into(), json!(ttl));
        }
        let url = format!("{}/{}", self.records_url(zone), segment(&existing.id));
        // 204 without a body: nothing to read back.
        let answer = self
            .call(self.client.patch(url).json(&Value::Object(patch)))
            .await?;
        self.found(&answer, &format!("record {}", existing.id))?;
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
        // A 404 means it is gone already.
        self.call(self.client.delete(url)).await.map(|_| ())
    }

    fn begin_round(&self) {
        self.known.clear();
    }
}
