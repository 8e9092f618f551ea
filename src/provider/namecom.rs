//! Name.com Core API v1 (the successor of v4) with HTTP Basic `username:token`. The domain is the configured
//! `zone`, else the name's last two labels (Name.com holds registered domains). Records are listed 1000 a
//! page following `nextPage` and filtered here (`host` relative, the apex `""` or `@`); created with `POST`,
//! changed with a full `PUT` (TTL kept unless the config sets one), deleted with `DELETE`. "Test" lists the
//! account's domains (`GET /domains`, 1000 a page following `nextPage`, at most 20 pages).

use std::net::IpAddr;
use std::sync::Arc;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::{
    Answer, Capabilities, Existing, KindConfig, KindInfo, Provider, ProviderError, Reconciler,
    RecordApi, TtlRule, Written, Zone, relative, segment, send,
};
use crate::config::check::FieldCheck;
use crate::config::{RecordType, Secret};

const DEFAULT_ENDPOINT: &str = "https://api.name.com/core/v1";

pub const INFO: KindInfo = KindInfo::provider(
    "namecom",
    "https://www.name.com/account/settings/api",
    &[
        super::req("username"),
        super::secret("token"),
        super::opt("zone"),
        super::flag("delete_duplicates"),
        super::ENDPOINT,
    ],
)
.example("username = \"alice\"\ntoken = \"0123456789abcdef0123456789abcdef01234567\"");

/// `kind = "namecom"`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub username: String,
    pub token: Secret,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delete_duplicates: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
}

/// "Name.com allows a minimum TTL of 300" (its Go client, docs/providers/namecom.md).
const CAPABILITIES: Capabilities = Capabilities {
    ttl: TtlRule {
        min: 300,
        max: 2_147_483_647,
        auto: None,
    },
    ..Capabilities::RECORDS
};

/// Pages read at most (1000 records each).
const MAX_PAGES: u64 = 20;

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
        // The sandbox (api.dev.name.com) takes `<user>-test`; production takes the plain user name.
        let sandbox = self
            .endpoint
            .as_deref()
            .is_some_and(|e| e.contains("api.dev.name.com"));
        if !sandbox && self.username.ends_with("-test") {
            check.problem("username", "provider.namecom.check.test_user", &[]);
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
            username: self.username.clone(),
            token: self.token.clone(),
            zone: self.zone.as_deref().map(super::canonical),
        };
        Arc::new(Reconciler::new(api).keeping_duplicates(self.delete_duplicates == Some(false)))
    }
}

struct Api {
    name: String,
    client: reqwest::Client,
    base: String,
    username: String,
    token: Secret,
    zone: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RecordsPage {
    #[serde(default)]
    records: Vec<Record>,
    #[serde(default)]
    next_page: Option<u64>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct DomainsPage {
    #[serde(default)]
    domains: Vec<DomainEntry>,
    #[serde(default)]
    next_page: Option<u64>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct DomainEntry {
    domain_name: String,
}

#[derive(Deserialize)]
struct Record {
    id: u64,
    #[serde(default)]
    host: String,
    #[serde(rename = "type", default)]
    record_type: String,
    #[serde(default)]
    answer: String,
    #[serde(default)]
    ttl: Option<u32>,
}

impl Api {
    fn label(&self) -> String {
        format!("namecom `{}`", self.name)
    }

    /// Sends; failures are classified from the status with `message` and `details` quoted.
    async fn call(&self, request: reqwest::RequestBuilder) -> Result<Answer, ProviderError> {
        let label = self.label();
        let answer = send(
            &label,
            request.basic_auth(&self.username, Some(self.token.expose())),
            &[self.token.expose()],
        )
        .await?;
        if answer.status.is_success() {
            return Ok(answer);
        }
        let detail = serde_json::from_str::<Value>(&answer.body)
            .ok()
            .and_then(|v| {
                let message = answer.redact(v["message"].as_str()?);
                Some(match v["details"].as_str() {
                    Some(d) if !d.is_empty() => format!("{message} ({})", answer.redact(d)),
                    _ => message,
                })
            });
        let mut error = answer.status_error(&label, detail.as_deref());
        if answer.status == reqwest::StatusCode::FORBIDDEN {
            error.message.push_str(
                " (with two-step verification on, API access must be enabled for the token)",
            );
        }
        Err(error)
    }

    fn records_url(&self, zone: &Zone) -> String {
        format!("{}/domains/{}/records", self.base, segment(&zone.id))
    }

    fn body(host: &str, record_type: RecordType, values: &[IpAddr], ttl: Option<u32>) -> Value {
        let answer = values.first().map(ToString::to_string).unwrap_or_default();
        let mut body = json!({ "host": host, "type": record_type.as_str(), "answer": answer });
        if let Some(ttl) = ttl {
            body["ttl"] = json!(ttl);
        }
        body
    }

    fn check_answer(&self, record: &Record, values: &[IpAddr]) -> Result<(), ProviderError> {
        if super::reconcile::parse_addr(&record.answer) == values.first().copied() {
            Ok(())
        } else {
            Err(ProviderError::unconfirmed(format!(
                "{}: the record holds {} after the write; could not confirm",
                self.label(),
                record.answer
            )))
        }
    }
}

/// The API's host for `name` in `zone`: the label, `""` for the apex.
fn host(name: &str, zone: &Zone) -> String {
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
        let mut page = 1;
        loop {
            let batch = self
                .call(
                    self.client
                        .get(format!("{}/domains", self.base))
                        .query(&[("perPage", "1000"), ("page", page.to_string().as_str())]),
                )
                .await?
                .json::<DomainsPage>(&label)?;
            out.extend(batch.domains.into_iter().map(|d| d.domain_name));
            match batch.next_page {
                Some(next) if next > page && next <= MAX_PAGES => page = next,
                Some(next) if next > page => {
                    return Err(ProviderError::transient(format!(
                        "{label}: more than {MAX_PAGES} pages of domains"
                    )));
                }
                _ => return Ok(Some(out)),
            }
        }
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
        let want = host(name, zone);
        let mut out = Vec::new();
        let mut page = 1;
        loop {
            let batch = self
                .call(
                    self.client
                        .get(self.records_url(zone))
                        .query(&[("perPage", "1000"), ("page", page.to_string().as_str())]),
                )
                .await?
                .json::<RecordsPage>(&label)?;
            out.extend(
                batch
                    .records
                    .into_iter()
                    .filter(|r| {
                        let h = super::canonical(&r.host);
                        (h == want || (h == "@" && want.is_empty()))
                            && r.record_type == record_type.as_str()
                    })
                    .map(|r| Existing {
                        id: r.id.to_string(),
                        values: vec![r.answer],
                        line: None,
                        ttl: r.ttl,
                        stale: false,
                    }),
            );
            match batch.next_page {
                Some(next) if next > page && next <= MAX_PAGES => page = next,
                Some(next) if next > page => {
                    return Err(ProviderError::transient(format!(
                        "{label}: more than {MAX_PAGES} pages of records in {}",
                        zone.name
                    )));
                }
                _ => return Ok(out),
            }
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
        let created = self
            .call(self.client.post(self.records_url(zone)).json(&Self::body(
                &host(name, zone),
                record_type,
                values,
                ttl,
            )))
            .await?
            .json::<Record>(&self.label())?;
        self.check_answer(&created, values)?;
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
        // A full record: keep its TTL unless the config sets one.
        let body = Self::body(&host(name, zone), record_type, values, ttl.or(existing.ttl));
        let url = format!("{}/{}", self.records_url(zone), segment(&existing.id));
        let updated = self
            .call(self.client.put(url).json(&body))
            .await?
            .json::<Record>(&self.label())?;
        self.check_answer(&updated, values)?;
        Ok(Written::new(Some(updated.id.to_string())))
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
}
