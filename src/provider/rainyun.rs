//! Rainyun 雨云 (`api.v2.rainyun.com`, header `x-api-key`). Answers are `{"code":200,"message":…,"data":…}`;
//! any other `code` is an error. The zone is the longest domain of the account holding the name (the
//! domain product list, paged through its JSON `options`, once per round); records are listed page by page
//! (`/dns/?limit=&page_no=`, until `TotalRecords` are seen, an empty page or a page seen before) and filtered
//! by host and type here. Create and update send the whole record (`PATCH` with `record_id` in the body);
//! delete takes `record_id` in the query. Records carry their line (`DEFAULT`, `LTEL`, `LCNC`, …); only the
//! managed line is touched. API notes: `docs/providers/rainyun.md`.

use std::collections::HashSet;
use std::net::IpAddr;
use std::sync::Arc;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::reconcile::{RoundCache, TtlRule};
use super::{
    Capabilities, Existing, KindConfig, KindInfo, Provider, ProviderError, Reconciler, RecordApi,
    Written, Zone, relative, send,
};
use crate::config::check::FieldCheck;
use crate::config::{RecordType, Secret};

const DEFAULT_ENDPOINT: &str = "https://api.v2.rainyun.com";
const DEFAULT_LINE: &str = "DEFAULT";
/// Records (and domains) asked for per page.
const PAGE: usize = 100;
/// Pages read at most.
const MAX_PAGES: usize = 100;
/// TTL written when the record sets none (what the console and other clients use).
const DEFAULT_TTL: u32 = 600;
/// The priority field every record carries (`level`); A and AAAA records use 10.
const LEVEL: u32 = 10;

pub const INFO: KindInfo = KindInfo::provider(
    "rainyun",
    "https://app.rainyun.com/account/settings/api-key",
    &[super::secret("api_key"), super::LINE, super::ENDPOINT],
)
.example("api_key = \"rainyun-api-key-value\"");

/// `kind = "rainyun"`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub api_key: Secret,
    /// The line to manage by its code (`DEFAULT`, `LTEL`, `LCNC`, `LMOB`, `LEDU`, `LSEO`, `LFOR`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
}

const CAPABILITIES: Capabilities = Capabilities {
    default_line: Some(DEFAULT_LINE),
    ttl: TtlRule {
        min: 1,
        max: 86_400,
        auto: None,
    },
    ..Capabilities::RECORDS
};

impl KindConfig for Config {
    fn endpoint(&self) -> Option<&str> {
        self.endpoint.as_deref()
    }

    fn secrets_mut(&mut self) -> Vec<(String, &mut Secret)> {
        vec![("api_key".into(), &mut self.api_key)]
    }

    fn validate(&self, check: &mut FieldCheck<'_>) {
        check.line("line", self.line.as_deref());
    }

    fn line(&self) -> Option<&str> {
        self.line.as_deref()
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
        Arc::new(
            Reconciler::new(Api {
                name,
                client,
                base: super::base_url(self.endpoint.as_deref(), DEFAULT_ENDPOINT),
                api_key: self.api_key.clone(),
                domains: RoundCache::default(),
            })
            .on_line(self.line.as_deref()),
        )
    }
}

struct Api {
    name: String,
    client: reqwest::Client,
    base: String,
    api_key: Secret,
    /// The account's domains (name, id), read once per round.
    domains: RoundCache<(), Vec<(String, u64)>>,
}

#[derive(Deserialize)]
struct Envelope {
    code: i64,
    #[serde(default)]
    message: String,
    #[serde(default)]
    data: Value,
}

#[derive(Deserialize)]
#[serde(bound(deserialize = "T: Deserialize<'de>"))]
struct Page<T> {
    #[serde(rename = "TotalRecords", default)]
    total: u64,
    #[serde(rename = "Records", default = "Option::default")]
    records: Option<Vec<T>>,
}

#[derive(Deserialize)]
struct Domain {
    id: u64,
    domain: String,
}

#[derive(Deserialize)]
struct Record {
    record_id: u64,
    host: String,
    #[serde(rename = "type")]
    record_type: String,
    value: String,
    #[serde(default)]
    line: Option<String>,
    #[serde(default)]
    ttl: Option<u32>,
}

impl Api {
    fn label(&self) -> String {
        format!("rainyun `{}`", self.name)
    }

    /// Sends with the key; returns `data` when `code` is 200, else the classified error.
    async fn call(&self, request: reqwest::RequestBuilder) -> Result<Value, ProviderError> {
        let label = self.label();
        let answer = send(
            &label,
            request.header("x-api-key", self.api_key.expose()),
            &[self.api_key.expose()],
        )
        .await?;
        let envelope = serde_json::from_str::<Envelope>(&answer.body).ok();
        if !answer.status.is_success() {
            let detail = envelope
                .as_ref()
                .map(|e| format!("{}: {}", e.code, answer.redact(&e.message)));
            return Err(answer.status_error(&label, detail.as_deref()));
        }
        let envelope = envelope.map_or_else(|| answer.json::<Envelope>(&label), Ok)?;
        if envelope.code == 200 {
            return Ok(envelope.data);
        }
        Err(answer.code_error(&label, envelope.code, &envelope.message))
    }

    fn parse<T: serde::de::DeserializeOwned>(
        &self,
        data: Value,
        what: &str,
    ) -> Result<T, ProviderError> {
        serde_json::from_value(data).map_err(|e| {
            ProviderError::transient(format!("{}: unexpected {what} ({e})", self.label()))
        })
    }

    async fn domains(&self) -> Result<Vec<(String, u64)>, ProviderError> {
        self.domains
            .get_or_try(&(), async {
                let mut out: Vec<(String, u64)> = Vec::new();
                for page in 1..=MAX_PAGES {
                    let options = json!({
                        "columnFilters": { "domains.Domain": "" }, "sort": [], "page": page, "perPage": PAGE,
                    });
                    let data = self
                        .call(
                            self.client
                                .get(format!("{}/product/domain/", self.base))
                                .query(&[("options", options.to_string())]),
                        )
                        .await?;
                    let page_data: Page<Domain> = self.parse(data, "domain list")?;
                    let records = page_data.records.unwrap_or_default();
                    let before = out.len();
                    for d in records {
                        if !out.iter().any(|(_, id)| *id == d.id) {
                            out.push((super::canonical(&d.domain), d.id));
                        }
                    }
                    if out.len() == before || out.len() as u64 >= page_data.total {
                        break;
                    }
                }
                Ok(out)
            })
            .await
    }

    fn dns_url(&self, zone: &Zone) -> String {
        format!("{}/product/domain/{}/dns", self.base, zone.id)
    }

    fn body(
        zone: &Zone,
        name: &str,
        record_type: RecordType,
        value: &str,
        ttl: u32,
        line: &str,
    ) -> Value {
        json!({
            "host": relative(name, &zone.name), "line": line, "level": LEVEL, "ttl": ttl,
            "type": record_type.as_str(), "value": value,
        })
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
        Ok(Some(
            self.domains().await?.into_iter().map(|(n, _)| n).collect(),
        ))
    }

    async fn zone(&self, name: &str) -> Result<Zone, ProviderError> {
        super::zone_among(&self.label(), name, &self.domains().await?)
    }

    async fn list(
        &self,
        zone: &Zone,
        name: &str,
        record_type: RecordType,
    ) -> Result<Vec<Existing>, ProviderError> {
        let host = relative(name, &zone.name);
        let mut seen: HashSet<u64> = HashSet::new();
        let mut out = Vec::new();
        for page in 1..=MAX_PAGES {
            let data = self
                .call(
                    self.client
                        .get(format!("{}/", self.dns_url(zone)))
                        .query(&[("limit", PAGE.to_string()), ("page_no", page.to_string())]),
                )
                .await?;
            let page_data: Page<Record> = self.parse(data, "record list")?;
            let records = page_data.records.unwrap_or_default();
            let mut new = 0;
            for r in records {
                if !seen.insert(r.record_id) {
                    continue;
                }
                new += 1;
                if r.record_type.eq_ignore_ascii_case(record_type.as_str())
                    && r.host.eq_ignore_ascii_case(&host)
                {
                    out.push(Existing {
                        id: r.record_id.to_string(),
                        values: vec![r.value],
                        line: Some(
                            r.line
                                .filter(|l| !l.is_empty())
                                .unwrap_or_else(|| DEFAULT_LINE.to_owned()),
                        ),
                        ttl: r.ttl,
                        stale: false,
                    });
                }
            }
            if new == 0 || seen.len() as u64 >= page_data.total {
                break;
            }
        }
        Ok(out)
    }

    async fn create(
        &self,
        zone: &Zone,
        name: &str,
        record_type: RecordType,
        values: &[IpAddr],
        ttl: Option<u32>,
        line: Option<&str>,
    ) -> Result<Written, ProviderError> {
        let value = values.first().map(ToString::to_string).unwrap_or_default();
        let body = Self::body_for(zone, name, record_type, &value, ttl, line);
        self.call(self.client.post(self.dns_url(zone)).json(&body))
            .await?;
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
        let id: u64 = existing.id.parse().map_err(|_| {
            ProviderError::transient(format!(
                "{}: record id `{}` is not a number",
                self.label(),
                existing.id
            ))
        })?;
        let value = values.first().map(ToString::to_string).unwrap_or_default();
        let mut body = Api::body(
            zone,
            name,
            record_type,
            &value,
            ttl.or(existing.ttl).unwrap_or(DEFAULT_TTL),
            existing.line.as_deref().unwrap_or(DEFAULT_LINE),
        );
        body["record_id"] = json!(id);
        self.call(self.client.patch(self.dns_url(zone)).json(&body))
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
        self.call(
            self.client
                .delete(self.dns_url(zone))
                .query(&[("record_id", &existing.id)]),
        )
        .await?;
        Ok(())
    }

    fn begin_round(&self) {
        self.domains.clear();
    }
}

impl Api {
    fn body_for(
        zone: &Zone,
        name: &str,
        record_type: RecordType,
        value: &str,
        ttl: Option<u32>,
        line: Option<&str>,
    ) -> Value {
        Api::body(
            zone,
            name,
            record_type,
            value,
            ttl.unwrap_or(DEFAULT_TTL),
            line.unwrap_or(DEFAULT_LINE),
        )
    }
}
