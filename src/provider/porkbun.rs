//! Porkbun API v3: records retrieved by name and type, then created, edited or deleted by id. Credentials go
//! in the JSON body of every POST. Failures come as `{"status":"ERROR","message":...}`. The domain is
//! configured, or the last two labels of the record name. "Test" lists the account's domains
//! (`/domain/listAll`, 1000 a call, `start` stepping by 1000, at most 20 calls).

use std::net::IpAddr;
use std::sync::Arc;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::{
    Capabilities, Existing, KindConfig, KindInfo, Provider, ProviderError, Reconciler, RecordApi,
    TtlRule, Written, Zone, last_two_labels, relative, segment, send,
};
use crate::config::{RecordType, Secret};

const DEFAULT_ENDPOINT: &str = "https://api.porkbun.com/api/json/v3";
const DEFAULT_TTL: u32 = 600;
/// Domains `/domain/listAll` answers per call.
const DOMAIN_PAGE: usize = 1000;
/// Calls of `/domain/listAll` made at most.
const MAX_PAGES: usize = 20;

pub const INFO: KindInfo = KindInfo::provider(
    "porkbun",
    "https://porkbun.com/account/api",
    &[
        super::secret("api_key"),
        super::secret("secret_api_key"),
        super::opt("domain"),
        super::ENDPOINT,
    ],
)
.example("api_key = \"pk1_value\"\nsecret_api_key = \"sk1_value\"");

/// `kind = "porkbun"`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub api_key: Secret,
    pub secret_api_key: Secret,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
}

const CAPABILITIES: Capabilities = Capabilities {
    ttl: TtlRule {
        min: 600,
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
        vec![
            ("api_key".into(), &mut self.api_key),
            ("secret_api_key".into(), &mut self.secret_api_key),
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
            api_key: self.api_key.clone(),
            secret_api_key: self.secret_api_key.clone(),
            domain: self.domain.as_deref().map(super::canonical),
        }))
    }
}

struct Api {
    name: String,
    client: reqwest::Client,
    base: String,
    api_key: Secret,
    secret_api_key: Secret,
    domain: Option<String>,
}

#[derive(Deserialize)]
struct Status {
    status: String,
    #[serde(default)]
    message: Option<String>,
}

#[derive(Deserialize)]
struct Records {
    #[serde(default)]
    records: Vec<Record>,
}

#[derive(Deserialize)]
struct Record {
    id: Value,
    name: String,
    #[serde(rename = "type")]
    record_type: String,
    content: String,
    #[serde(default)]
    ttl: Option<Value>,
}

/// Porkbun sends ids and TTLs as strings (sometimes as numbers).
fn text(v: &Value) -> String {
    v.as_str().map_or_else(|| v.to_string(), str::to_owned)
}

impl Api {
    fn label(&self) -> String {
        format!("porkbun `{}`", self.name)
    }

    async fn post<T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
        mut body: Value,
    ) -> Result<T, ProviderError> {
        let label = self.label();
        body["apikey"] = json!(self.api_key.expose());
        body["secretapikey"] = json!(self.secret_api_key.expose());
        let answer = send(
            &label,
            self.client.post(format!("{}{path}", self.base)).json(&body),
            &[self.api_key.expose(), self.secret_api_key.expose()],
        )
        .await?;
        let status: Option<Status> = serde_json::from_str(&answer.body).ok();
        let message = status
            .as_ref()
            .and_then(|s| s.message.clone())
            .map(|m| answer.redact(&m));
        if answer.status.is_success() && status.as_ref().is_some_and(|s| s.status == "SUCCESS") {
            return answer.json(&label);
        }
        if answer.status.is_success() && status.is_none() {
            return Err(ProviderError::transient(format!(
                "{label}: unexpected answer `{}`",
                answer.snippet()
            )));
        }
        let message = message.unwrap_or_default();
        let lower = message.to_ascii_lowercase();
        let credentials = ["api key", "api access", "opted in", "authentication"]
            .iter()
            .any(|w| lower.contains(w));
        Err(if credentials || answer.status.as_u16() == 403 {
            ProviderError::auth(format!(
                "{label}: access refused: {message} (check the keys and that API ACCESS is on for the domain)"
            ))
        } else if answer.status.is_success() || answer.status.as_u16() == 400 {
            ProviderError::rejected(format!("{label}: {message}"))
        } else {
            answer.status_error(&label, Some(&message))
        })
    }

    /// `name` relative to the domain: `""` for the apex.
    fn sub(name: &str, zone: &Zone) -> String {
        let rel = relative(name, &zone.name);
        if rel == "@" { String::new() } else { rel }
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
        #[derive(Deserialize)]
        struct Domains {
            #[serde(default)]
            domains: Vec<Domain>,
        }
        #[derive(Deserialize)]
        struct Domain {
            domain: String,
        }
        let mut out = Vec::new();
        for page in 0..MAX_PAGES {
            let found: Domains = self
                .post(
                    "/domain/listAll",
                    json!({ "start": (page * DOMAIN_PAGE).to_string(), "includeLabels": "no" }),
                )
                .await?;
            let n = found.domains.len();
            out.extend(found.domains.into_iter().map(|d| d.domain));
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
        let sub = Self::sub(name, zone);
        // The apex has no subdomain segment at all (no trailing empty one).
        let path = if sub.is_empty() {
            format!("/dns/retrieveByNameType/{}/{record_type}", zone.name)
        } else {
            format!(
                "/dns/retrieveByNameType/{}/{record_type}/{}",
                zone.name,
                segment(&sub)
            )
        };
        let found: Records = self.post(&path, json!({})).await?;
        Ok(found
            .records
            .into_iter()
            .filter(|r| r.name.eq_ignore_ascii_case(name) && r.record_type == record_type.as_str())
            .map(|r| Existing {
                id: text(&r.id),
                values: vec![r.content],
                line: None,
                ttl: r.ttl.as_ref().and_then(|t| text(t).parse().ok()),
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
        let body = json!({
            "name": Self::sub(name, zone), "type": record_type.as_str(),
            "content": values.first().map(ToString::to_string).unwrap_or_default(),
            "ttl": ttl.unwrap_or(DEFAULT_TTL).to_string(),
        });
        let created: Value = self
            .post(&format!("/dns/create/{}", zone.name), body)
            .await?;
        Ok(Written::new(created.get("id").map(text)))
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
        let body = json!({
            "name": Self::sub(name, zone), "type": record_type.as_str(),
            "content": values.first().map(ToString::to_string).unwrap_or_default(),
            "ttl": ttl.or(existing.ttl).unwrap_or(DEFAULT_TTL).to_string(),
        });
        let _: Value = self
            .post(
                &format!("/dns/edit/{}/{}", zone.name, segment(&existing.id)),
                body,
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
        let _: Value = self
            .post(
                &format!("/dns/delete/{}/{}", zone.name, segment(&existing.id)),
                json!({}),
            )
            .await?;
        Ok(())
    }
}
