//! 51DNS / DNS.COM 帝恩思 (the API at `www.dns.com/api/<group>/<op>/`). Every call carries `apiKey`,
//! `timestamp` (Unix seconds) and `hash` = lower-case hex MD5 of the parameters sorted by name, joined as
//! `name=value` with `&` (values as they are, not encoded), followed directly by the API secret. Answers are
//! `{"code":0,"message":…,"data":…}`; any other `code` is an error (with HTTP 200). The zone is the longest
//! suffix of the name `domain/search` finds (once per suffix per round); records are listed by `domainID`
//! and `host` page by page up to `pageCount` and filtered by host and type here (an empty filter returns
//! every record). Records carry their line as a `viewID` (`0` = the default line, shown as 默认); other
//! lines are named as in the region and ISP line lists (`ip/areaviewlist`, `ip/ispviewlist`). Only the
//! managed line is touched. "Test" lists the account's domains with `domain/list` (paged like the others).
//! API notes: `docs/providers/dnscom.md`.

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use md5::{Digest as _, Md5};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::reconcile::{RoundCache, TtlRule};
use super::{
    Capabilities, Existing, KindConfig, KindInfo, Provider, ProviderError, Reconciler, RecordApi,
    Written, Zone, relative, send, sign, suffixes,
};
use crate::config::check::FieldCheck;
use crate::config::{RecordType, Secret};

const DEFAULT_ENDPOINT: &str = "https://www.dns.com";
const DEFAULT_LINE: &str = "默认";
const DEFAULT_VIEW: &str = "0";
const PAGE: usize = 100;
const MAX_PAGES: usize = 100;
/// TTL written when the record sets none (the API's own default).
const DEFAULT_TTL: u32 = 600;

pub const INFO: KindInfo = KindInfo::provider(
    "dnscom",
    "https://www.51dns.com/",
    &[
        super::req("api_key"),
        super::secret("api_secret"),
        super::LINE,
        super::ENDPOINT,
    ],
)
.example("api_key = \"c7722149110b7492a2e5cf1d8f3f966b\"\napi_secret = \"dnscom-secret-value\"");

/// `kind = "dnscom"`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub api_key: String,
    pub api_secret: Secret,
    /// The line to manage by its name in 51DNS's line lists; default 默认.
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

/// The `hash` of a call: MD5 over the sorted `name=value` pairs joined by `&`, then the secret.
#[must_use]
pub fn hash(params: &BTreeMap<String, String>, api_secret: &str) -> String {
    let joined = params
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&");
    sign::hex(&Md5::digest(format!("{joined}{api_secret}").as_bytes()))
}

impl KindConfig for Config {
    fn endpoint(&self) -> Option<&str> {
        self.endpoint.as_deref()
    }

    fn secrets_mut(&mut self) -> Vec<(String, &mut Secret)> {
        vec![("api_secret".into(), &mut self.api_secret)]
    }

    fn validate(&self, check: &mut FieldCheck<'_>) {
        check.key_id("api_key", &self.api_key, "apiKey");
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
                api_secret: self.api_secret.clone(),
                domains: Mutex::new(HashMap::new()),
                views: RoundCache::default(),
            })
            .on_line(self.line.as_deref()),
        )
    }
}

struct Api {
    name: String,
    client: reqwest::Client,
    base: String,
    api_key: String,
    api_secret: Secret,
    /// Suffix -> its domain id (`None`: not a domain of the account), learnt this round.
    domains: Mutex<HashMap<String, Option<String>>>,
    /// The line lists (view id, name), read when a line other than the default is met.
    views: RoundCache<(), Vec<(String, String)>>,
}

#[derive(Deserialize)]
struct Envelope {
    code: Value,
    #[serde(default)]
    message: Value,
    #[serde(default)]
    data: Value,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PageOf {
    #[serde(default)]
    page_count: Value,
    #[serde(default)]
    data: Vec<Value>,
}

/// Text of a value given as a string or a number.
fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

impl Api {
    fn label(&self) -> String {
        format!("dnscom `{}`", self.name)
    }

    /// Calls `path` (`record/list`) with `params`, signed; returns `data` when `code` is 0.
    async fn call(&self, path: &str, params: &[(&str, String)]) -> Result<Value, ProviderError> {
        let label = self.label();
        let timestamp = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let mut all: BTreeMap<String, String> = params
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.clone()))
            .collect();
        all.insert("apiKey".into(), self.api_key.clone());
        all.insert("timestamp".into(), timestamp.to_string());
        let hash = hash(&all, self.api_secret.expose());
        all.insert("hash".into(), hash);
        let answer = send(
            &label,
            self.client
                .get(format!("{}/api/{path}/", self.base))
                .query(&all),
            &[self.api_secret.expose()],
        )
        .await?;
        if !answer.status.is_success() {
            return Err(answer.status_error(&label, None));
        }
        let envelope: Envelope = answer.json(&label)?;
        let code = text(&envelope.code);
        if code == "0" {
            return Ok(envelope.data);
        }
        let message = answer.redact(&text(&envelope.message));
        let detail = format!("{code}: {message}");
        let lower = message.to_ascii_lowercase();
        Err(
            if ["apikey", "api key", "hash", "sign", "secret", "auth"]
                .iter()
                .any(|w| lower.contains(w))
                || ["密钥", "签名", "认证", "授权"]
                    .iter()
                    .any(|w| message.contains(w))
            {
                ProviderError::auth(format!("{label}: credentials refused ({detail})"))
            } else if ["timestamp", "time"].iter().any(|w| lower.contains(w))
                || message.contains("时间")
            {
                ProviderError::transient(format!("{label}: {detail} (check the system clock)"))
            } else {
                ProviderError::rejected(format!("{label}: {detail}"))
            },
        )
    }

    /// Every page of a paged call (`page` from 1 up to `pageCount`).
    async fn pages(
        &self,
        path: &str,
        params: &[(&str, String)],
    ) -> Result<Vec<Value>, ProviderError> {
        let mut out = Vec::new();
        for page in 1..=MAX_PAGES {
            let mut p = params.to_vec();
            p.push(("page", page.to_string()));
            p.push(("pageSize", PAGE.to_string()));
            let data = self.call(path, &p).await?;
            let page_of: PageOf = serde_json::from_value(data).map_err(|e| {
                ProviderError::transient(format!("{}: unexpected list ({e})", self.label()))
            })?;
            let count: usize = text(&page_of.page_count).parse().unwrap_or(1);
            out.extend(page_of.data);
            if page >= count {
                break;
            }
        }
        Ok(out)
    }

    async fn domain_id(&self, candidate: &str) -> Result<Option<String>, ProviderError> {
        if let Some(known) = self
            .domains
            .lock()
            .ok()
            .and_then(|d| d.get(candidate).cloned())
        {
            return Ok(known);
        }
        let found = self
            .pages("domain/search", &[("query", candidate.to_owned())])
            .await?
            .iter()
            .find(|d| super::canonical(&text(&d["domains"])) == candidate)
            .map(|d| text(&d["domainsID"]));
        if let Ok(mut d) = self.domains.lock() {
            d.insert(candidate.to_owned(), found.clone());
        }
        Ok(found)
    }

    async fn views(&self) -> Result<Vec<(String, String)>, ProviderError> {
        self.views
            .get_or_try(&(), async {
                let mut out = Vec::new();
                for path in ["ip/areaviewlist", "ip/ispviewlist"] {
                    let data = self.call(path, &[]).await?;
                    let list = match data {
                        Value::Array(list) => list,
                        other => other
                            .get("data")
                            .and_then(Value::as_array)
                            .cloned()
                            .unwrap_or_default(),
                    };
                    out.extend(list.iter().map(|v| (text(&v["viewID"]), text(&v["name"]))));
                }
                Ok(out)
            })
            .await
    }

    /// A line's view id: `0` for the default line, else the id of the line with that name.
    async fn view_id(&self, line: Option<&str>) -> Result<String, ProviderError> {
        let Some(line) = line.filter(|l| *l != DEFAULT_LINE) else {
            return Ok(DEFAULT_VIEW.to_owned());
        };
        self.views()
            .await?
            .into_iter()
            .find(|(id, name)| name == line || id == line)
            .map(|(id, _)| id)
            .ok_or_else(|| {
                ProviderError::rejected(format!(
                    "{}: 51DNS has no line named `{line}`",
                    self.label()
                ))
            })
    }

    /// A listed view id's line name.
    async fn line_name(&self, view: &str) -> Result<String, ProviderError> {
        if view.is_empty() || view == DEFAULT_VIEW {
            return Ok(DEFAULT_LINE.to_owned());
        }
        Ok(self
            .views()
            .await?
            .into_iter()
            .find(|(id, _)| id == view)
            .map_or_else(|| view.to_owned(), |(_, name)| name))
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
            self.pages("domain/list", &[])
                .await?
                .iter()
                .map(|d| text(&d["domains"]))
                .collect(),
        ))
    }

    async fn zone(&self, name: &str) -> Result<Zone, ProviderError> {
        for candidate in suffixes(name) {
            if let Some(id) = self.domain_id(&candidate).await? {
                return Ok(Zone {
                    id,
                    name: candidate,
                });
            }
        }
        Err(ProviderError::rejected(format!(
            "{}: no domain of this account holds {name}",
            self.label()
        )))
    }

    async fn list(
        &self,
        zone: &Zone,
        name: &str,
        record_type: RecordType,
    ) -> Result<Vec<Existing>, ProviderError> {
        let host = relative(name, &zone.name);
        let records = self
            .pages(
                "record/list",
                &[("domainID", zone.id.clone()), ("host", host.clone())],
            )
            .await?;
        let mut out = Vec::new();
        for r in records {
            if !text(&r["record"]).eq_ignore_ascii_case(&host)
                || !text(&r["type"]).eq_ignore_ascii_case(record_type.as_str())
            {
                continue;
            }
            out.push(Existing {
                id: text(&r["recordID"]),
                values: vec![text(&r["value"])],
                line: Some(self.line_name(&text(&r["viewID"])).await?),
                ttl: text(&r["TTL"]).parse().ok(),
                stale: false,
            });
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
        let view = self.view_id(line).await?;
        let data = self
            .call(
                "record/create",
                &[
                    ("domainID", zone.id.clone()),
                    ("type", record_type.as_str().to_owned()),
                    ("viewID", view),
                    ("host", relative(name, &zone.name)),
                    (
                        "value",
                        values.first().map(ToString::to_string).unwrap_or_default(),
                    ),
                    ("TTL", ttl.unwrap_or(DEFAULT_TTL).to_string()),
                ],
            )
            .await?;
        Ok(Written::new(
            data.get("recordID").map(text).filter(|i| !i.is_empty()),
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
        let view = self.view_id(existing.line.as_deref()).await?;
        self.call(
            "record/modify",
            &[
                ("domainID", zone.id.clone()),
                ("recordID", existing.id.clone()),
                ("newhost", relative(name, &zone.name)),
                ("newtype", record_type.as_str().to_owned()),
                (
                    "newvalue",
                    values.first().map(ToString::to_string).unwrap_or_default(),
                ),
                (
                    "newttl",
                    ttl.or(existing.ttl).unwrap_or(DEFAULT_TTL).to_string(),
                ),
                ("newviewID", view),
            ],
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
        self.call(
            "record/remove",
            &[
                ("domainID", zone.id.clone()),
                ("recordID", existing.id.clone()),
            ],
        )
        .await?;
        Ok(())
    }

    fn begin_round(&self) {
        if let Ok(mut d) = self.domains.lock() {
            d.clear();
        }
        self.views.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The signing doc's example (www.dns.com/document/api/70/72.html): its inputs, and the MD5 of the
    /// final string it spells out, computed independently (`printf '%s' '<final string>' | md5sum`); the
    /// doc's own result was not captured.
    #[test]
    fn hash_of_the_documented_example() {
        let params: BTreeMap<String, String> = [
            ("apiKey", "c7722149110b7492a2e5cf1d8f3f966b"),
            ("domain", "dns.com"),
            ("timestamp", "1521005892"),
        ]
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
        assert_eq!(
            hash(&params, "ecb4ff0e877a83292b9f35067e9ae673"),
            "0eb4933a634000ce215370683d6f1338"
        );
    }
}
