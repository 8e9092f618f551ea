//! Vercel DNS (REST API) with an access token, and `teamId` on every call for team-owned domains. The domain
//! is the configured `zone`, else the name's last two labels (Vercel holds registered domains). Records are
//! listed 100 at a time (`GET /v5/domains/{d}/records`, paged with `until = pagination.next`) and filtered
//! here; created with `POST /v2/domains/{d}/records`, changed with `PATCH /v1/domains/records/{id}` of the
//! value (and `ttl` when set), deleted with `DELETE /v2/domains/{d}/records/{id}`. A 429 waits
//! `Retry-After`, else until `error.limit.reset`. "Test" lists the domains of the token's account or team
//! (`GET /v5/domains`, 100 at a time, paged with `until` the same way).

use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use super::{
    Answer, Capabilities, Existing, KindConfig, KindInfo, Provider, ProviderError, Reconciler,
    RecordApi, TtlRule, Written, Zone, relative, segment, send,
};
use crate::config::check::FieldCheck;
use crate::config::{RecordType, Secret};

const DEFAULT_ENDPOINT: &str = "https://api.vercel.com";

pub const INFO: KindInfo = KindInfo::provider(
    "vercel",
    "https://vercel.com/account/tokens",
    &[
        super::secret("token"),
        super::opt("team_id"),
        super::opt("zone"),
        super::flag("delete_duplicates"),
        super::ENDPOINT,
    ],
)
.example("token = \"vercel-token-0123456789abcdef\"");

/// `kind = "vercel"`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub token: Secret,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub team_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delete_duplicates: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
}

/// 60 s up to 2^31-1 (docs/providers/vercel.md).
const CAPABILITIES: Capabilities = Capabilities {
    ttl: TtlRule {
        min: 60,
        max: 2_147_483_647,
        auto: None,
    },
    ..Capabilities::RECORDS
};

/// Pages read at most (100 records each).
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

    fn validate(&self, check: &mut FieldCheck<'_>) {
        if let Some(team) = &self.team_id
            && (!team.starts_with("team_") || !team[5..].chars().all(|c| c.is_ascii_alphanumeric()))
        {
            check.problem("team_id", "provider.vercel.check.team_id", &[]);
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
            token: self.token.clone(),
            team_id: self.team_id.clone(),
            zone: self.zone.as_deref().map(super::canonical),
        };
        Arc::new(Reconciler::new(api).keeping_duplicates(self.delete_duplicates == Some(false)))
    }
}

struct Api {
    name: String,
    client: reqwest::Client,
    base: String,
    token: Secret,
    team_id: Option<String>,
    zone: Option<String>,
}

#[derive(Deserialize)]
struct RecordsPage {
    records: Vec<Record>,
    #[serde(default)]
    pagination: Option<Pagination>,
}

#[derive(Deserialize)]
struct DomainsPage {
    domains: Vec<DomainEntry>,
    #[serde(default)]
    pagination: Option<Pagination>,
}

#[derive(Deserialize)]
struct DomainEntry {
    name: String,
}

#[derive(Deserialize)]
struct Pagination {
    #[serde(default)]
    next: Option<u64>,
}

#[derive(Deserialize)]
struct Record {
    id: String,
    #[serde(default)]
    name: String,
    #[serde(rename = "type", default)]
    record_type: String,
    #[serde(default)]
    value: String,
    #[serde(default)]
    ttl: Option<u32>,
}

#[derive(Deserialize)]
struct Created {
    uid: String,
}

#[derive(Deserialize)]
struct Updated {
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    value: Option<String>,
}

/// Seconds until `error.limit.reset` (epoch seconds) of a 429 body.
fn limit_reset(body: &Value, now: SystemTime) -> Option<Duration> {
    let reset = body["error"]["limit"]["reset"].as_u64()?;
    let now = now.duration_since(SystemTime::UNIX_EPOCH).ok()?.as_secs();
    Some(Duration::from_secs(reset.saturating_sub(now)))
}

impl Api {
    fn label(&self) -> String {
        format!("vercel `{}`", self.name)
    }

    /// The request with the token and, for team-owned domains, `teamId`.
    fn request(&self, method: reqwest::Method, url: String) -> reqwest::RequestBuilder {
        let request = self
            .client
            .request(method, url)
            .bearer_auth(self.token.expose());
        match &self.team_id {
            Some(team) => request.query(&[("teamId", team)]),
            None => request,
        }
    }

    /// Sends; failures are classified from the status and `error.code`.
    async fn call(&self, request: reqwest::RequestBuilder) -> Result<Answer, ProviderError> {
        let label = self.label();
        let mut answer = send(&label, request, &[self.token.expose()]).await?;
        if answer.status.is_success() {
            return Ok(answer);
        }
        let body = serde_json::from_str::<Value>(&answer.body).unwrap_or(Value::Null);
        if answer.status == reqwest::StatusCode::TOO_MANY_REQUESTS && answer.retry_after.is_none() {
            answer.retry_after = limit_reset(&body, SystemTime::now());
        }
        let detail = body["error"]["code"].as_str().map(|code| {
            format!(
                "{code}: {}",
                answer.redact(body["error"]["message"].as_str().unwrap_or(""))
            )
        });
        let mut error = answer.status_error(&label, detail.as_deref());
        if answer.status == reqwest::StatusCode::NOT_FOUND && self.team_id.is_none() {
            error
                .message
                .push_str(" (a domain owned by a team needs team_id)");
        }
        Err(error)
    }

    fn records_url(&self, version: &str, zone: &Zone) -> String {
        format!(
            "{}/{version}/domains/{}/records",
            self.base,
            segment(&zone.id)
        )
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
        let mut until: Option<u64> = None;
        for _ in 0..MAX_PAGES {
            let mut request = self
                .request(reqwest::Method::GET, format!("{}/v5/domains", self.base))
                .query(&[("limit", "100")]);
            if let Some(u) = until {
                request = request.query(&[("until", u.to_string())]);
            }
            let page = self.call(request).await?.json::<DomainsPage>(&label)?;
            out.extend(page.domains.into_iter().map(|d| d.name));
            match page.pagination.and_then(|p| p.next) {
                Some(next) if until != Some(next) => until = Some(next),
                _ => return Ok(Some(out)),
            }
        }
        Err(ProviderError::transient(format!(
            "{label}: more than {MAX_PAGES} pages of domains"
        )))
    }

    async fn zone(&self, name: &str) -> Result<Zone, ProviderError> {
        let zone = self
            .zone
            .clone()
            .unwrap_or_else(|| super::last_two_labels(name));
        if !super::in_zone(name, &zone) {
            return Err(ProviderError::rejected(format!(
                "{}: {name} is not in the domain {zone}",
                self.label()
            )));
        }
        Ok(Zone {
            id: zone.clone(),
            name: zone,
        })
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
        let mut until: Option<u64> = None;
        for _ in 0..MAX_PAGES {
            let mut request = self
                .request(reqwest::Method::GET, self.records_url("v5", zone))
                .query(&[("limit", "100")]);
            if let Some(u) = until {
                request = request.query(&[("until", u.to_string())]);
            }
            let page = self.call(request).await?.json::<RecordsPage>(&label)?;
            out.extend(
                page.records
                    .into_iter()
                    .filter(|r| {
                        let n = super::canonical(&r.name);
                        (n == want || (n == "@" && want.is_empty()))
                            && r.record_type.eq_ignore_ascii_case(record_type.as_str())
                    })
                    .map(|r| Existing {
                        id: r.id,
                        values: vec![r.value],
                        line: None,
                        ttl: r.ttl,
                        stale: false,
                    }),
            );
            match page.pagination.and_then(|p| p.next) {
                Some(next) if until != Some(next) => until = Some(next),
                _ => return Ok(out),
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
        let value = values.first().map(ToString::to_string).unwrap_or_default();
        let mut body = json!({
            "name": api_name(name, zone), "type": record_type.as_str(), "value": value,
        });
        if let Some(ttl) = ttl {
            body["ttl"] = json!(ttl);
        }
        let created = self
            .call(
                self.request(reqwest::Method::POST, self.records_url("v2", zone))
                    .json(&body),
            )
            .await?
            .json::<Created>(&self.label())?;
        Ok(Written::new(Some(created.uid)))
    }

    async fn update(
        &self,
        _zone: &Zone,
        _name: &str,
        _record_type: RecordType,
        existing: &Existing,
        values: &[IpAddr],
        ttl: Option<u32>,
    ) -> Result<Written, ProviderError> {
        let value = values.first().map(ToString::to_string).unwrap_or_default();
        let mut patch = Map::new();
        patch.insert("value".into(), json!(value));
        if let Some(ttl) = ttl {
            patch.insert("ttl".into(), json!(ttl));
        }
        let url = format!("{}/v1/domains/records/{}", self.base, segment(&existing.id));
        let updated = self
            .call(
                self.request(reqwest::Method::PATCH, url)
                    .json(&Value::Object(patch)),
            )
            .await?
            .json::<Updated>(&self.label())?;
        if updated
            .value
            .as_deref()
            .and_then(super::reconcile::parse_addr)
            != values.first().copied()
        {
            return Err(ProviderError::unconfirmed(format!(
                "{}: the record holds {} after the update; could not confirm",
                self.label(),
                updated.value.unwrap_or_default()
            )));
        }
        Ok(Written::new(Some(
            updated.id.unwrap_or_else(|| existing.id.clone()),
        )))
    }

    async fn delete(
        &self,
        zone: &Zone,
        _name: &str,
        _record_type: RecordType,
        existing: &Existing,
    ) -> Result<(), ProviderError> {
        let url = format!("{}/{}", self.records_url("v2", zone), segment(&existing.id));
        self.call(self.request(reqwest::Method::DELETE, url))
            .await
            .map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_limit_reset_from_the_body() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let body = json!({ "error": { "code": "rate_limited", "message": "Rate limit exceeded",
            "limit": { "remaining": 0, "reset": 1_700_000_030, "resetMs": 1_700_000_030_000_u64, "total": 100 } } });
        assert_eq!(limit_reset(&body, now), Some(Duration::from_secs(30)));
        assert_eq!(limit_reset(&json!({}), now), None);
    }
}
