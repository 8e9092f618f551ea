//! `GoDaddy` Domains API: the set is read with `GET /v1/domains/{domain}/records/{type}/{name}` and, when it
//! differs, replaced with `PUT` (an array body). 403 `ACCESS_DENIED` means `GoDaddy` does not let this account
//! use the API (it requires 10+ domains or a Domain Pro plan): a clear, non-retried error. 429 answers carry
//! `retryAfterSec` in the body, honoured like `Retry-After`. "Test" lists the account's active domains
//! (`GET /v1/domains?statuses=ACTIVE&limit=1000`, then `marker` = the last domain, at most 20 pages).

use std::net::IpAddr;
use std::sync::Arc;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{
    Answer, Capabilities, ErrorClass, Existing, KindConfig, KindInfo, Provider, ProviderError,
    Reconciler, SetApi, TtlRule, Zone, last_two_labels, relative, segment, send,
};
use crate::config::{RecordType, Secret};

const DEFAULT_ENDPOINT: &str = "https://api.godaddy.com";
const DEFAULT_TTL: u32 = 600;
/// Domains asked for per page (the documented most).
const DOMAIN_PAGE: usize = 1000;
/// Pages of domains read at most.
const MAX_PAGES: usize = 20;

pub const INFO: KindInfo = KindInfo::provider(
    "godaddy",
    "https://developer.godaddy.com/keys",
    &[
        super::secret("api_key"),
        super::secret("api_secret"),
        super::opt("domain"),
        super::ENDPOINT,
    ],
)
.example("api_key = \"gd-key-value\"\napi_secret = \"gd-secret-value\"");

/// `kind = "godaddy"`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub api_key: Secret,
    pub api_secret: Secret,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
}

const CAPABILITIES: Capabilities = Capabilities {
    ttl: TtlRule {
        min: 600,
        max: 86_400,
        auto: None,
    },
    ..Capabilities::SETS
};

impl KindConfig for Config {
    fn endpoint(&self) -> Option<&str> {
        self.endpoint.as_deref()
    }

    fn secrets_mut(&mut self) -> Vec<(String, &mut Secret)> {
        vec![
            ("api_key".into(), &mut self.api_key),
            ("api_secret".into(), &mut self.api_secret),
        ]
    }

    fn zone(&self) -> Option<(&str, &'static str)> {
        self.domain.as_deref().map(|d| (d, "domain"))
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
            key: self.api_key.clone(),
            secret: self.api_secret.clone(),
            domain: self.domain.as_deref().map(super::canonical),
        }))
    }
}

struct Api {
    name: String,
    client: reqwest::Client,
    base: String,
    key: Secret,
    secret: Secret,
    domain: Option<String>,
}

#[derive(Deserialize)]
struct Record {
    data: String,
    #[serde(default)]
    ttl: Option<u32>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ApiError {
    code: String,
    #[serde(default)]
    message: String,
    #[serde(default)]
    retry_after_sec: Option<u64>,
}

impl Api {
    fn label(&self) -> String {
        format!("godaddy `{}`", self.name)
    }

    async fn call(&self, request: reqwest::RequestBuilder) -> Result<Answer, ProviderError> {
        let label = self.label();
        let auth = format!("sso-key {}:{}", self.key.expose(), self.secret.expose());
        let answer = send(
            &label,
            request.header("Authorization", auth),
            &[self.key.expose(), self.secret.expose()],
        )
        .await?;
        if answer.status.is_success() {
            return Ok(answer);
        }
        let err: Option<ApiError> = serde_json::from_str(&answer.body).ok();
        let detail = err
            .as_ref()
            .map(|e| format!("{}: {}", e.code, answer.redact(&e.message)));
        Err(match err.as_ref() {
            Some(e) if e.code == "ACCESS_DENIED" => ProviderError::auth(format!(
                "{label}: GoDaddy does not allow this account to use the DNS API (ACCESS_DENIED; it needs 10+ domains or a Domain Pro plan)"
            )),
            Some(e) if answer.status.as_u16() == 429 => ProviderError::new(
                ErrorClass::RateLimited {
                    retry_after: e
                        .retry_after_sec
                        .or(answer.retry_after.map(|d| d.as_secs())),
                },
                format!(
                    "{label}: rate limited (HTTP 429): {}",
                    detail.unwrap_or_default()
                ),
            ),
            _ => answer.status_error(&label, detail.as_deref()),
        })
    }

    fn url(&self, zone: &Zone, name: &str, record_type: RecordType) -> String {
        format!(
            "{}/v1/domains/{}/records/{record_type}/{}",
            self.base,
            zone.name,
            segment(&relative(name, &zone.name))
        )
    }

    async fn put(
        &self,
        zone: &Zone,
        name: &str,
        record_type: RecordType,
        values: &[IpAddr],
        ttl: u32,
    ) -> Result<(), ProviderError> {
        let body: Vec<serde_json::Value> = values
            .iter()
            .map(|ip| json!({ "data": ip.to_string(), "ttl": ttl }))
            .collect();
        self.call(
            self.client
                .put(self.url(zone, name, record_type))
                .json(&body),
        )
        .await?;
        Ok(())
    }
}

#[async_trait]
impl SetApi for Api {
    fn label(&self) -> String {
        Api::label(self)
    }

    fn default_ttl(&self) -> u32 {
        DEFAULT_TTL
    }

    fn capabilities(&self) -> Capabilities {
        CAPABILITIES
    }

    async fn zones(&self) -> Result<Option<Vec<String>>, ProviderError> {
        #[derive(Deserialize)]
        struct Domain {
            domain: String,
        }
        let label = self.label();
        let mut out: Vec<String> = Vec::new();
        for _ in 0..MAX_PAGES {
            let mut query = vec![
                ("statuses", "ACTIVE".to_owned()),
                ("limit", DOMAIN_PAGE.to_string()),
            ];
            if let Some(last) = out.last() {
                query.push(("marker", last.clone()));
            }
            let page: Vec<Domain> = self
                .call(
                    self.client
                        .get(format!("{}/v1/domains", self.base))
                        .query(&query),
                )
                .await?
                .json(&label)?;
            let n = page.len();
            out.extend(page.into_iter().map(|d| d.domain));
            if n < DOMAIN_PAGE {
                break;
            }
        }
        Ok(Some(out))
    }

    async fn zone(&self, name: &str) -> Result<Zone, ProviderError> {
        let domain = self.domain.clone().unwrap_or_else(|| last_two_labels(name));
        Ok(Zone {
            id: domain.clone(),
            name: domain,
        })
    }

    async fn list(
        &self,
        zone: &Zone,
        name: &str,
        record_type: RecordType,
    ) -> Result<Vec<Existing>, ProviderError> {
        let current: Vec<Record> = self
            .call(self.client.get(self.url(zone, name, record_type)))
            .await?
            .json(&self.label())?;
        if current.is_empty() {
            return Ok(Vec::new());
        }
        Ok(vec![Existing {
            id: relative(name, &zone.name),
            ttl: current.first().and_then(|r| r.ttl),
            values: current.into_iter().map(|r| r.data).collect(),
            line: None,
            stale: false,
        }])
    }

    async fn put(
        &self,
        zone: &Zone,
        name: &str,
        record_type: RecordType,
        values: &[IpAddr],
        ttl: u32,
    ) -> Result<(), ProviderError> {
        Api::put(self, zone, name, record_type, values, ttl).await
    }

    async fn clear(
        &self,
        zone: &Zone,
        name: &str,
        record_type: RecordType,
    ) -> Result<(), ProviderError> {
        self.call(self.client.delete(self.url(zone, name, record_type)))
            .await?;
        Ok(())
    }
}
