//! DNS.LA (`api.dns.la/api/*`, HTTP Basic `APIID:APISecret`). Answers are `{"code":200,"msg":"","data":…}`;
//! any other `code` is an error (HTTP 401 for refused credentials). The zone is the longest domain of the
//! account holding the name (`domainList`, paged, once per round; names end with a dot); records are listed
//! with `recordList` (paged) and filtered by host and type here. Record types are numbers (A = 1,
//! AAAA = 28); ids are strings holding 64-bit numbers. Records carry their line (`lineId`, `lineName`):
//! `lineId` empty or `0` is the default line; other lines are found by name in `availableLine` when a record
//! is created on them. Only the managed line is touched. API notes: `docs/providers/dnsla.md`.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

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

const DEFAULT_ENDPOINT: &str = "https://api.dns.la";
const DEFAULT_LINE: &str = "默认";
/// Records asked for per page.
const PAGE: usize = 100;
/// Pages read at most (a bound, not a limit any account reaches).
const MAX_PAGES: usize = 100;

pub const INFO: KindInfo = KindInfo::provider(
    "dnsla",
    "https://www.dns.la/",
    &[
        super::req("api_id"),
        super::secret("api_secret"),
        super::LINE,
        super::ENDPOINT,
    ],
)
.example("api_id = \"myApiId\"\napi_secret = \"dnsla-secret-value\"");

/// `kind = "dnsla"`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub api_id: String,
    pub api_secret: Secret,
    /// The line to manage, by its name in the console (`电信`, `联通`, …); default: the default line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
}

const CAPABILITIES: Capabilities = Capabilities {
    default_line: Some(DEFAULT_LINE),
    // The zone's own minimum (by plan) is checked by the API; a day is the most any client sets.
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
        vec![("api_secret".into(), &mut self.api_secret)]
    }

    fn validate(&self, check: &mut FieldCheck<'_>) {
        check.key_id("api_id", &self.api_id, "APIID");
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
                api_id: self.api_id.clone(),
                api_secret: self.api_secret.clone(),
                domains: RoundCache::default(),
                lines: RoundCache::default(),
                seen_lines: Mutex::new(HashMap::new()),
            })
            .on_line(self.line.as_deref()),
        )
    }
}

struct Api {
    name: String,
    client: reqwest::Client,
    base: String,
    api_id: String,
    api_secret: Secret,
    /// The account's domains (name without the dot, id), read once per round.
    domains: RoundCache<(), Vec<(String, String)>>,
    /// A zone's lines (name, id), read when a record is created on a line other than the default.
    lines: RoundCache<String, Vec<(String, String)>>,
    /// (zone, line name) -> line id, learnt from listed records this round.
    seen_lines: Mutex<HashMap<(String, String), String>>,
}

#[derive(Deserialize)]
struct Envelope {
    code: i64,
    #[serde(default)]
    msg: String,
    #[serde(default)]
    data: Value,
}

#[derive(Deserialize)]
#[serde(bound(deserialize = "T: Deserialize<'de>"))]
struct Page<T> {
    #[serde(default)]
    total: u64,
    #[serde(default = "Option::default")]
    results: Option<Vec<T>>,
}

#[derive(Deserialize)]
struct Domain {
    id: Value,
    domain: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Record {
    id: Value,
    host: String,
    #[serde(rename = "type")]
    record_type: u32,
    data: String,
    #[serde(default)]
    ttl: Option<u32>,
    #[serde(default)]
    line_id: Option<Value>,
    #[serde(default)]
    line_name: Option<String>,
    #[serde(default)]
    line_code: Option<String>,
}

#[derive(Deserialize)]
struct Line {
    id: Value,
    value: String,
}

/// An id the API gives as a string or a number, as text.
fn id_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

fn type_number(record_type: RecordType) -> u32 {
    match record_type {
        RecordType::A => 1,
        RecordType::Aaaa => 28,
    }
}

impl Api {
    fn label(&self) -> String {
        format!("dnsla `{}`", self.name)
    }

    /// Sends with Basic auth; returns `data` when `code` is 200, else the classified error.
    async fn call(&self, request: reqwest::RequestBuilder) -> Result<Value, ProviderError> {
        let label = self.label();
        let answer = send(
            &label,
            request
                .basic_auth(&self.api_id, Some(self.api_secret.expose()))
                .header("Accept", "application/json"),
            &[self.api_secret.expose()],
        )
        .await?;
        let envelope = serde_json::from_str::<Envelope>(&answer.body).ok();
        if !answer.status.is_success() {
            let detail = envelope
                .as_ref()
                .map(|e| format!("{}: {}", e.code, answer.redact(&e.msg)));
            return Err(answer.status_error(&label, detail.as_deref()));
        }
        let envelope = envelope.map_or_else(|| answer.json::<Envelope>(&label), Ok)?;
        if envelope.code == 200 {
            return Ok(envelope.data);
        }
        Err(answer.code_error(&label, envelope.code, &envelope.msg))
    }

    async fn domains(&self) -> Result<Vec<(String, String)>, ProviderError> {
        self.domains
            .get_or_try(&(), async {
                let mut out = Vec::new();
                for page in 1..=MAX_PAGES {
                    let data = self
                        .call(
                            self.client
                                .get(format!("{}/api/domainList", self.base))
                                .query(&[
                                    ("pageIndex", page.to_string()),
                                    ("pageSize", PAGE.to_string()),
                                ]),
                        )
                        .await?;
                    let page_data: Page<Domain> = self.parse(data, "domain list")?;
                    let results = page_data.results.unwrap_or_default();
                    let n = results.len();
                    out.extend(
                        results
                            .into_iter()
                            .map(|d| (super::canonical(&d.domain), id_text(&d.id))),
                    );
                    if n < PAGE || out.len() as u64 >= page_data.total {
                        break;
                    }
                }
                Ok(out)
            })
            .await
    }

    async fn zone_lines(&self, zone: &str) -> Result<Vec<(String, String)>, ProviderError> {
        self.lines
            .get_or_try(&zone.to_owned(), async {
                let data = self
                    .call(
                        self.client
                            .get(format!("{}/api/availableLine", self.base))
                            .query(&[("domain", zone)]),
                    )
                    .await?;
                let lines: Vec<Line> = self.parse(data, "line list")?;
                Ok(lines
                    .into_iter()
                    .map(|l| (l.value, id_text(&l.id)))
                    .collect())
            })
            .await
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

    /// The id of the line `line` names (a line's name, or its id), for records created on it.
    async fn line_id(&self, zone: &str, line: Option<&str>) -> Result<String, ProviderError> {
        let Some(line) = line.filter(|l| *l != DEFAULT_LINE) else {
            return Ok(String::new());
        };
        if let Some(id) = self
            .seen_lines
            .lock()
            .ok()
            .and_then(|m| m.get(&(zone.to_owned(), line.to_owned())).cloned())
        {
            return Ok(id);
        }
        self.zone_lines(zone)
            .await?
            .into_iter()
            .find(|(name, id)| name == line || id == line)
            .map(|(_, id)| id)
            .ok_or_else(|| {
                ProviderError::rejected(format!(
                    "{}: the zone {zone} has no line named `{line}` (see its lines in the DNS.LA console)",
                    self.label()
                ))
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
        let number = type_number(record_type);
        let mut out = Vec::new();
        let mut seen = 0u64;
        for page in 1..=MAX_PAGES {
            let data = self
                .call(
                    self.client
                        .get(format!("{}/api/recordList", self.base))
                        .query(&[
                            ("domainId", zone.id.clone()),
                            ("host", host.clone()),
                            ("type", number.to_string()),
                            ("pageIndex", page.to_string()),
                            ("pageSize", PAGE.to_string()),
                        ]),
                )
                .await?;
            let page_data: Page<Record> = self.parse(data, "record list")?;
            let results = page_data.results.unwrap_or_default();
            let n = results.len();
            seen += n as u64;
            out.extend(
                results
                    .into_iter()
                    .filter(|r| r.record_type == number && r.host.eq_ignore_ascii_case(&host))
                    .map(|r| {
                        let line_id = r.line_id.as_ref().map(id_text).unwrap_or_default();
                        let line = if line_id.is_empty() || line_id == "0" {
                            DEFAULT_LINE.to_owned()
                        } else {
                            let line = r
                                .line_name
                                .filter(|n| !n.is_empty())
                                .or(r.line_code.filter(|c| !c.is_empty()))
                                .unwrap_or_else(|| line_id.clone());
                            if let Ok(mut m) = self.seen_lines.lock() {
                                m.insert((zone.name.clone(), line.clone()), line_id);
                            }
                            line
                        };
                        Existing {
                            id: id_text(&r.id),
                            values: vec![r.data],
                            line: Some(line),
                            ttl: r.ttl,
                            stale: false,
                        }
                    }),
            );
            if n < PAGE || seen >= page_data.total {
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
        let line_id = self.line_id(&zone.name, line).await?;
        let mut body = json!({
            "domainId": zone.id, "type": type_number(record_type), "host": relative(name, &zone.name),
            "data": values.first().map(ToString::to_string).unwrap_or_default(),
            "ttl": ttl.unwrap_or(600),
        });
        if !line_id.is_empty() {
            body["lineId"] = json!(line_id);
        }
        let data = self
            .call(
                self.client
                    .post(format!("{}/api/record", self.base))
                    .json(&body),
            )
            .await?;
        Ok(Written::new(
            data.get("id").map(id_text).filter(|i| !i.is_empty()),
        ))
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
        let line_id = self.line_id(&zone.name, existing.line.as_deref()).await?;
        let body = json!({
            "id": existing.id, "type": type_number(record_type), "host": relative(name, &zone.name),
            "data": values.first().map(ToString::to_string).unwrap_or_default(),
            "ttl": ttl.or(existing.ttl).unwrap_or(600), "lineId": line_id,
        });
        self.call(
            self.client
                .put(format!("{}/api/record", self.base))
                .json(&body),
        )
        .await?;
        Ok(Written::new(Some(existing.id.clone())))
    }

    async fn delete(
        &self,
        _zone: &Zone,
        _name: &str,
        _record_type: RecordType,
        existing: &Existing,
    ) -> Result<(), ProviderError> {
        self.call(
            self.client
                .delete(format!("{}/api/record", self.base))
                .query(&[("id", &existing.id)]),
        )
        .await?;
        Ok(())
    }

    fn begin_round(&self) {
        self.domains.clear();
        self.lines.clear();
        if let Ok(mut m) = self.seen_lines.lock() {
            m.clear();
        }
    }
}
