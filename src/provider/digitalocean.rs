//! `DigitalOcean` DNS (API v2) with a personal access token. The zone is the configured `zone`, or the longest
//! suffix of the name the account has (`GET /v2/domains/{name}`, each suffix asked once per round); records
//! are listed by FQDN and type (`links.pages.next` followed, only on the API's own origin), created with
//! `POST`, changed with `PATCH` of `type` and `data` (and `ttl` when the config sets one), deleted with
//! `DELETE`. A 429 waits `Retry-After`, else until `ratelimit-reset`. "Test" lists the account's domains
//! (`GET /v2/domains`, 200 a page, `links.pages.next` followed on the API's own origin).

use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use super::reconcile::RoundCache;
use super::{
    Answer, Capabilities, Existing, KindConfig, KindInfo, Provider, ProviderError, Reconciler,
    RecordApi, TtlRule, Written, Zone, relative, segment, send, suffixes,
};
use crate::config::{RecordType, Secret};

const DEFAULT_ENDPOINT: &str = "https://api.digitalocean.com";

pub const INFO: KindInfo = KindInfo::provider(
    "digitalocean",
    "https://cloud.digitalocean.com/account/api/tokens",
    &[
        super::secret("token"),
        super::opt("zone"),
        super::flag("delete_duplicates"),
        super::ENDPOINT,
    ],
)
.example("token = \"dop_v1_0123456789abcdef\"");

/// `kind = "digitalocean"`.
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

/// "`DigitalOcean` enforces a minimum value of 30" (see docs/providers/digitalocean.md); no documented maximum.
const CAPABILITIES: Capabilities = Capabilities {
    ttl: TtlRule {
        min: 30,
        max: 2_147_483_647,
        auto: None,
    },
    ..Capabilities::RECORDS
};

/// Pages read at most when listing (200 records each).
const MAX_PAGES: usize = 50;

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
    domain_records: Vec<Record>,
    #[serde(default)]
    links: Option<Links>,
}

#[derive(Deserialize)]
struct DomainsPage {
    #[serde(default)]
    domains: Vec<DomainEntry>,
    #[serde(default)]
    links: Option<Links>,
}

#[derive(Deserialize)]
struct DomainEntry {
    name: String,
}

#[derive(Deserialize)]
struct Links {
    #[serde(default)]
    pages: Option<Pages>,
}

#[derive(Deserialize)]
struct Pages {
    #[serde(default)]
    next: Option<String>,
}

#[derive(Deserialize)]
struct RecordAnswer {
    domain_record: Record,
}

#[derive(Deserialize)]
struct Record {
    id: Value,
    #[serde(rename = "type")]
    record_type: String,
    name: String,
    #[serde(default)]
    data: Option<String>,
    #[serde(default)]
    ttl: Option<u32>,
}

impl Record {
    fn id(&self) -> String {
        self.id.as_u64().map_or_else(
            || self.id.as_str().unwrap_or("").to_owned(),
            |n| n.to_string(),
        )
    }
}

/// Seconds until the `ratelimit-reset` epoch, for 429s without `Retry-After`.
fn reset_wait(answer: &Answer, now: SystemTime) -> Option<Duration> {
    let reset: u64 = answer
        .headers
        .get("ratelimit-reset")?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()?;
    let now = now.duration_since(SystemTime::UNIX_EPOCH).ok()?.as_secs();
    Some(Duration::from_secs(reset.saturating_sub(now)))
}

impl Api {
    fn label(&self) -> String {
        format!("digitalocean `{}`", self.name)
    }

    /// Sends; a 404 is returned (callers decide what it means), other failures are errors.
    async fn call(&self, request: reqwest::RequestBuilder) -> Result<Answer, ProviderError> {
        let label = self.label();
        let mut answer = send(
            &label,
            request
                .bearer_auth(self.token.expose())
                .header(reqwest::header::ACCEPT, "application/json"),
            &[self.token.expose()],
        )
        .await?;
        if answer.status.is_success() || answer.status == reqwest::StatusCode::NOT_FOUND {
            return Ok(answer);
        }
        if answer.status == reqwest::StatusCode::TOO_MANY_REQUESTS && answer.retry_after.is_none() {
            answer.retry_after = reset_wait(&answer, SystemTime::now());
        }
        let detail = serde_json::from_str::<Value>(&answer.body)
            .ok()
            .and_then(|v| {
                Some(format!(
                    "{}: {}",
                    v["id"].as_str()?,
                    answer.redact(v["message"].as_str().unwrap_or(""))
                ))
            });
        Err(answer.status_error(&label, detail.as_deref()))
    }

    /// A 404 from a call on a known zone or record: the zone or record is gone.
    fn not_found(&self, answer: &Answer, what: &str) -> Result<(), ProviderError> {
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
                    .call(self.client.get(format!(
                        "{}/v2/domains/{}",
                        self.base,
                        segment(candidate)
                    )))
                    .await?;
                Ok(answer.status.is_success())
            })
            .await
    }

    /// The next page's request from `links`, only on the API's own origin; `None` after the last page.
    fn next_page(
        &self,
        links: Option<Links>,
    ) -> Result<Option<reqwest::RequestBuilder>, ProviderError> {
        let Some(next) = links
            .and_then(|l| l.pages)
            .and_then(|p| p.next)
            .filter(|n| !n.is_empty())
        else {
            return Ok(None);
        };
        // The token goes only to the API's own origin.
        if crate::http::origin(&next) != crate::http::origin(&self.base) {
            return Err(ProviderError::transient(format!(
                "{}: the next page is on another host ({}); not followed",
                self.label(),
                crate::http::origin(&next)
            )));
        }
        Ok(Some(self.client.get(next)))
    }

    fn records_url(&self, zone: &Zone) -> String {
        format!("{}/v2/domains/{}/records", self.base, segment(&zone.id))
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
        let mut request = self
            .client
            .get(format!("{}/v2/domains", self.base))
            .query(&[("per_page", "200")]);
        for _ in 0..MAX_PAGES {
            let answer = self.call(request).await?;
            self.not_found(&answer, "the domain list")?;
            let page = answer.json::<DomainsPage>(&label)?;
            out.extend(page.domains.into_iter().map(|d| d.name));
            let Some(next) = self.next_page(page.links)? else {
                return Ok(Some(out));
            };
            request = next;
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
            "{}: no domain of this account holds {name} (add it under Networking > Domains, or set zone)",
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
        let mut request = self.client.get(self.records_url(zone)).query(&[
            ("name", name),
            ("type", record_type.as_str()),
            ("per_page", "200"),
        ]);
        for _ in 0..MAX_PAGES {
            let answer = self.call(request).await?;
            self.not_found(&answer, &format!("the domain {}", zone.name))?;
            let page = answer.json::<RecordsPage>(&label)?;
            // The filter takes the FQDN; records carry the name relative to the domain (`@` for the apex).
            out.extend(
                page.domain_records
                    .into_iter()
                    .filter(|r| {
                        super::canonical(&r.name) == want && r.record_type == record_type.as_str()
                    })
                    .map(|r| Existing {
                        id: r.id(),
                        values: r.data.into_iter().collect(),
                        line: None,
                        ttl: r.ttl,
                        stale: false,
                    }),
            );
            let Some(next) = self.next_page(page.links)? else {
                return Ok(out);
            };
            request = next;
        }
        Err(ProviderError::transient(format!(
            "{label}: more than {MAX_PAGES} pages of records for {name}"
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
            "type": record_type.as_str(), "name": relative(name, &zone.name), "data": data,
        });
        if let Some(ttl) = ttl {
            body["ttl"] = json!(ttl);
        }
        let answer = self
            .call(self.client.post(self.records_url(zone)).json(&body))
            .await?;
        self.not_found(&answer, &format!("the domain {}", zone.name))?;
        let created = answer.json::<RecordAnswer>(&self.label())?.domain_record;
        Ok(Written::new(Some(created.id())))
    }

    async fn update(
        &self,
        zone: &Zone,
        _name: &str,
        record_type: RecordType,
        existing: &Existing,
        values: &[IpAddr],
        ttl: Option<u32>,
    ) -> Result<Written, ProviderError> {
        let data = values.first().map(ToString::to_string).unwrap_or_default();
        let mut patch = Map::new();
        patch.insert("type".into(), json!(record_type.as_str()));
        patch.insert("data".into(), json!(data));
        if let Some(ttl) = ttl {
            patch.insert("ttl".into(), json!(ttl));
        }
        let url = format!("{}/{}", self.records_url(zone), segment(&existing.id));
        let answer = self
            .call(self.client.patch(url).json(&Value::Object(patch)))
            .await?;
        self.not_found(&answer, &format!("record {}", existing.id))?;
        let updated = answer.json::<RecordAnswer>(&self.label())?.domain_record;
        if updated
            .data
            .as_deref()
            .and_then(super::reconcile::parse_addr)
            != values.first().copied()
        {
            return Err(ProviderError::unconfirmed(format!(
                "{}: the record holds {} after the update; could not confirm",
                self.label(),
                updated.data.unwrap_or_default()
            )));
        }
        Ok(Written::new(Some(updated.id())))
    }

    async fn delete(
        &self,
        zone: &Zone,
        _name: &str,
        _record_type: RecordType,
        existing: &Existing,
    ) -> Result<(), ProviderError> {
        let url = format!("{}/{}", self.records_url(zone), segment(&existing.id));
        // 204 without a body; a 404 means it is gone already.
        self.call(self.client.delete(url)).await.map(|_| ())
    }

    fn begin_round(&self) {
        self.known.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_limit_reset_epoch() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert("ratelimit-reset", "1700000042".parse().unwrap());
        let answer = Answer {
            status: reqwest::StatusCode::TOO_MANY_REQUESTS,
            retry_after: None,
            headers,
            body: String::new(),
            secrets: Vec::new(),
        };
        assert_eq!(reset_wait(&answer, now), Some(Duration::from_secs(42)));
    }
}
