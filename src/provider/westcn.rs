//! West.cn 西部数码 (the `dnsrec` API: `POST api.west.cn/API/v2/domain/dns/`, form fields, `act=dnsrec.*`).
//! Credentials go in every form: the account's `username` + `apikey` (the lower-case hex MD5 of the API
//! password), or one domain's own key (`apidomainkey`). Answers are `{"code":200,"msg":…,"body":…}`; any
//! other `code` is an error (404: no such domain). They come in GBK or UTF-8 ([`decode`]: the `Content-Type`
//! charset decides, else UTF-8 is tried first, then GBK). The zone is the configured one, or the longest suffix of the
//! name the account answers for (`dnsrec.list` on each suffix; the listing that finds it is kept for the
//! round). Records are listed page by page and filtered by host, type and line here; `record_line` is empty
//! for the default line (shown as 默认) or a code (`LTEL`, `LCNC`, …). Only the managed line is touched.
//! "Test" does not list the account's domains: the `dnsrec` API has no listing call, and the other West.cn API's
//! `getdomains` (another endpoint, envelope and token scheme) has no documented answer shape in the stored
//! sources, so it shows the check alone. API notes: `docs/providers/westcn.md`.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use md5::{Digest as _, Md5};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::reconcile::{RoundCache, TtlRule};
use super::{
    Answer, Capabilities, Existing, KindConfig, KindInfo, MAX_BODY, Provider, ProviderError,
    Reconciler, RecordApi, Written, Zone, relative, sign, suffixes,
};
use crate::config::check::FieldCheck;
use crate::config::{RecordType, Secret};
use crate::http::charset::decode;

const DEFAULT_ENDPOINT: &str = "https://api.west.cn/API/v2/domain/dns/";
/// How the default line (`record_line` empty on the wire) is shown and configured.
const DEFAULT_LINE: &str = "默认";
const PAGE: usize = 100;
const MAX_PAGES: usize = 100;
/// TTL written when the record sets none (the vendor's samples use 900).
const DEFAULT_TTL: u32 = 900;

pub const INFO: KindInfo = KindInfo::provider(
    "westcn",
    "https://www.west.cn/manager/API/APIconfig.asp",
    &[
        super::opt("username"),
        crate::config::kinds::secret_opt("api_password"),
        crate::config::kinds::secret_opt("domain_key"),
        super::opt("zone"),
        super::LINE,
        super::ENDPOINT,
    ],
)
.example("username = \"zhangsan\"\napi_password = \"west-api-password\"");

/// `kind = "westcn"`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The West.cn member account (with `api_password`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// The account's API password (its MD5 is sent as `apikey`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_password: Option<Secret>,
    /// One domain's own API key (`apidomainkey`), instead of the account's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain_key: Option<Secret>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zone: Option<String>,
    /// The line to manage by its code (`LTEL`, `LCNC`, `LMOB`, `LEDU`, `LSEO`, `LFOR`); default 默认.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
}

const CAPABILITIES: Capabilities = Capabilities {
    default_line: Some(DEFAULT_LINE),
    ttl: TtlRule {
        min: 60,
        max: 86_400,
        auto: None,
    },
    ..Capabilities::RECORDS
};

/// The lower-case hex MD5 of the API password: the `apikey` form field.
#[must_use]
pub fn api_key(password: &str) -> String {
    sign::hex(&Md5::digest(password.as_bytes()))
}

impl KindConfig for Config {
    fn endpoint(&self) -> Option<&str> {
        self.endpoint.as_deref()
    }

    fn secrets_mut(&mut self) -> Vec<(String, &mut Secret)> {
        let mut out = Vec::new();
        if let Some(s) = self.api_password.as_mut() {
            out.push(("api_password".into(), s));
        }
        if let Some(s) = self.domain_key.as_mut() {
            out.push(("domain_key".into(), s));
        }
        out
    }

    fn validate(&self, check: &mut FieldCheck<'_>) {
        match (&self.username, &self.api_password, &self.domain_key) {
            (Some(_), Some(_), None) | (None, None, Some(_)) => {}
            (_, _, Some(_)) => {
                check.problem("domain_key", "provider.westcn.check.both", &[]);
            }
            (Some(_), None, None) => {
                check.problem("api_password", "provider.westcn.check.password", &[]);
            }
            (None, Some(_), None) => {
                check.problem("username", "provider.westcn.check.username", &[]);
            }
            (None, None, None) => {
                check.problem("domain_key", "provider.westcn.check.none", &[]);
            }
        }
        if self.domain_key.is_some() && self.zone.is_none() {
            check.problem("zone", "provider.westcn.check.zone", &[]);
        }
        check.line("line", self.line.as_deref());
    }

    fn zone(&self) -> Option<(&str, &'static str)> {
        self.zone.as_deref().map(|z| (z, "zone"))
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
        let auth = match (&self.domain_key, &self.username, &self.api_password) {
            (Some(key), _, _) => Auth::Domain(key.clone()),
            (None, Some(user), Some(password)) => Auth::Account {
                username: user.clone(),
                apikey: Secret::resolved(api_key(password.expose())),
                password: password.clone(),
            },
            // Refused at load; an empty key fails at the API.
            _ => Auth::Domain(Secret::resolved("")),
        };
        let base = self
            .endpoint
            .clone()
            .unwrap_or_else(|| DEFAULT_ENDPOINT.to_owned());
        Arc::new(
            Reconciler::new(Api {
                name,
                client,
                base,
                auth,
                zone: self.zone.as_deref().map(super::canonical),
                domains: Mutex::new(HashMap::new()),
                listings: RoundCache::default(),
            })
            .on_line(self.line.as_deref()),
        )
    }
}

enum Auth {
    Account {
        username: String,
        apikey: Secret,
        password: Secret,
    },
    Domain(Secret),
}

struct Api {
    name: String,
    client: reqwest::Client,
    base: String,
    auth: Auth,
    zone: Option<String>,
    /// Suffixes known this round to be (true) or not be (false) a domain of the account.
    domains: Mutex<HashMap<String, bool>>,
    /// Listings of (zone, name), all types, made while finding the zone.
    listings: RoundCache<(String, String), Vec<Record>>,
}

#[derive(Deserialize)]
struct Envelope {
    code: i64,
    #[serde(default)]
    msg: String,
    #[serde(default)]
    body: Value,
}

#[derive(Deserialize)]
struct List {
    #[serde(default)]
    items: Vec<Record>,
    #[serde(default)]
    total: u64,
}

#[derive(Deserialize, Clone)]
struct Record {
    record_id: Value,
    hostname: String,
    record_type: String,
    record_value: String,
    #[serde(default)]
    record_ttl: Option<u32>,
    #[serde(default)]
    record_line: Option<String>,
}

/// What an action answered: its `body`, or an error with its code.
enum Reply {
    Ok(Value),
    Error { code: i64, error: ProviderError },
}

/// Words of a refused credential in the vendor's messages, in UTF-8 and as GBK bytes (the GBK decoding of
/// [`decode`] keeps no Chinese text, so a GBK answer is searched as bytes).
const AUTH_WORDS: &[(&str, &[u8])] = &[
    ("认证", b"\xC8\xCF\xD6\xA4"),
    ("密码", b"\xC3\xDC\xC2\xEB"),
    ("密钥", b"\xC3\xDC\xD4\xBF"),
    ("用户名", b"\xD3\xC3\xBB\xA7\xC3\xFB"),
];

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

fn line_on_wire(line: Option<&str>) -> &str {
    match line {
        None => "",
        Some(l) if l == DEFAULT_LINE => "",
        Some(l) => l,
    }
}

fn id_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

impl Api {
    fn label(&self) -> String {
        format!("westcn `{}`", self.name)
    }

    fn secrets(&self) -> Vec<&str> {
        match &self.auth {
            Auth::Account {
                apikey, password, ..
            } => vec![apikey.expose(), password.expose()],
            Auth::Domain(key) => vec![key.expose()],
        }
    }

    /// Posts one action with the credentials; reads and decodes the answer.
    async fn call(&self, act: &str, fields: &[(&str, String)]) -> Result<Reply, ProviderError> {
        let label = self.label();
        let mut form: Vec<(&str, String)> = vec![("act", act.to_owned())];
        match &self.auth {
            Auth::Account {
                username, apikey, ..
            } => {
                form.push(("username", username.clone()));
                form.push(("apikey", apikey.expose().to_owned()));
            }
            Auth::Domain(key) => form.push(("apidomainkey", key.expose().to_owned())),
        }
        form.extend(fields.iter().cloned());
        let response = self
            .client
            .post(&self.base)
            .form(&form)
            .send()
            .await
            .map_err(|e| ProviderError::from_reqwest(&label, &e))?;
        let status = response.status();
        let headers = response.headers().clone();
        let retry_after = crate::http::retry_after(&headers, std::time::SystemTime::now());
        let bytes = crate::http::read_bytes(response, MAX_BODY)
            .await
            .map_err(|e| ProviderError::transient(format!("{label}: {e}")))?;
        let content_type = headers
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok());
        let answer = Answer {
            status,
            retry_after,
            body: decode(&bytes, content_type),
            headers,
            secrets: self.secrets().into_iter().map(str::to_owned).collect(),
        };
        let envelope = serde_json::from_str::<Envelope>(&answer.body).ok();
        if !answer.status.is_success() {
            let detail = envelope
                .as_ref()
                .map(|e| format!("{}: {}", e.code, answer.redact(&e.msg)));
            return Err(answer.status_error(&label, detail.as_deref()));
        }
        let envelope = envelope.map_or_else(|| answer.json::<Envelope>(&label), Ok)?;
        if envelope.code == 200 {
            return Ok(Reply::Ok(envelope.body));
        }
        let msg = answer.redact(&envelope.msg);
        let detail = format!("{}: {msg}", envelope.code);
        let lower = msg.to_ascii_lowercase();
        let error = if envelope.code == 404 {
            ProviderError::rejected(format!("{label}: no such domain ({detail})"))
        } else if ["auth", "apikey", "api key", "password", "username"]
            .iter()
            .any(|w| lower.contains(w))
            || AUTH_WORDS
                .iter()
                .any(|(word, gbk)| msg.contains(word) || contains(&bytes, gbk))
        {
            ProviderError::auth(format!("{label}: credentials refused ({detail})"))
        } else {
            ProviderError::rejected(format!("{label}: {detail}"))
        };
        Ok(Reply::Error {
            code: envelope.code,
            error,
        })
    }

    fn ok(reply: Reply) -> Result<Value, ProviderError> {
        match reply {
            Reply::Ok(v) => Ok(v),
            Reply::Error { error, .. } => Err(error),
        }
    }

    /// The records at `name` in `zone`, all types, all lines; `None` when the account has no such domain.
    async fn records(&self, zone: &str, name: &str) -> Result<Option<Vec<Record>>, ProviderError> {
        let host = relative(name, zone);
        let mut out = Vec::new();
        let mut seen = 0u64;
        for page in 1..=MAX_PAGES {
            let reply = self
                .call(
                    "dnsrec.list",
                    &[
                        ("domain", zone.to_owned()),
                        ("hostname", host.clone()),
                        ("pageno", page.to_string()),
                        ("limit", PAGE.to_string()),
                    ],
                )
                .await?;
            let body = match reply {
                Reply::Ok(body) => body,
                Reply::Error { code: 404, .. } => return Ok(None),
                // An empty listing is reported as an error whose message says so.
                Reply::Error { error, .. }
                    if error.message.to_ascii_lowercase().contains("no record") =>
                {
                    break;
                }
                Reply::Error { error, .. } => return Err(error),
            };
            let list: List = serde_json::from_value(body).map_err(|e| {
                ProviderError::transient(format!("{}: unexpected record list ({e})", self.label()))
            })?;
            let n = list.items.len();
            seen += n as u64;
            out.extend(
                list.items
                    .into_iter()
                    .filter(|r| r.hostname.eq_ignore_ascii_case(&host)),
            );
            if n < PAGE || seen >= list.total {
                break;
            }
        }
        Ok(Some(out))
    }

    fn known(&self, domain: &str) -> Option<bool> {
        self.domains
            .lock()
            .ok()
            .and_then(|d| d.get(domain).copied())
    }

    fn remember(&self, domain: &str, exists: bool) {
        if let Ok(mut d) = self.domains.lock() {
            d.insert(domain.to_owned(), exists);
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

    async fn zone(&self, name: &str) -> Result<Zone, ProviderError> {
        if let Some(z) = &self.zone {
            return Ok(Zone {
                id: z.clone(),
                name: z.clone(),
            });
        }
        for domain in suffixes(name) {
            match self.known(&domain) {
                Some(true) => {
                    return Ok(Zone {
                        id: domain.clone(),
                        name: domain,
                    });
                }
                Some(false) => continue,
                None => {}
            }
            let found = self.records(&domain, name).await?;
            self.remember(&domain, found.is_some());
            if let Some(records) = found {
                self.listings
                    .put((domain.clone(), name.to_owned()), records);
                return Ok(Zone {
                    id: domain.clone(),
                    name: domain,
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
        let key = (zone.name.clone(), name.to_owned());
        let records = match self.listings.peek(&key) {
            Some(r) => r,
            None => self.records(&zone.name, name).await?.ok_or_else(|| {
                ProviderError::rejected(format!(
                    "{}: domain {} is not in this account",
                    self.label(),
                    zone.name
                ))
            })?,
        };
        Ok(records
            .into_iter()
            .filter(|r| r.record_type.eq_ignore_ascii_case(record_type.as_str()))
            .map(|r| Existing {
                id: id_text(&r.record_id),
                values: vec![r.record_value],
                line: Some(
                    r.record_line
                        .filter(|l| !l.is_empty())
                        .unwrap_or_else(|| DEFAULT_LINE.to_owned()),
                ),
                ttl: r.record_ttl,
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
        line: Option<&str>,
    ) -> Result<Written, ProviderError> {
        let body = Api::ok(
            self.call(
                "dnsrec.add",
                &[
                    ("domain", zone.name.clone()),
                    ("hostname", relative(name, &zone.name)),
                    ("record_type", record_type.as_str().to_owned()),
                    (
                        "record_value",
                        values.first().map(ToString::to_string).unwrap_or_default(),
                    ),
                    ("record_ttl", ttl.unwrap_or(DEFAULT_TTL).to_string()),
                    ("record_line", line_on_wire(line).to_owned()),
                ],
            )
            .await?,
        )?;
        Ok(Written::new(body.get("record_id").map(id_text)))
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
        Api::ok(
            self.call(
                "dnsrec.modify",
                &[
                    ("domain", zone.name.clone()),
                    ("record_id", existing.id.clone()),
                    ("record_type", record_type.as_str().to_owned()),
                    (
                        "record_value",
                        values.first().map(ToString::to_string).unwrap_or_default(),
                    ),
                    (
                        "record_ttl",
                        ttl.or(existing.ttl).unwrap_or(DEFAULT_TTL).to_string(),
                    ),
                    (
                        "record_line",
                        line_on_wire(existing.line.as_deref()).to_owned(),
                    ),
                ],
            )
            .await?,
        )?;
        Ok(Written::new(Some(existing.id.clone())))
    }

    async fn delete(
        &self,
        zone: &Zone,
        _name: &str,
        _record_type: RecordType,
        existing: &Existing,
    ) -> Result<(), ProviderError> {
        Api::ok(
            self.call(
                "dnsrec.remove",
                &[
                    ("domain", zone.name.clone()),
                    ("record_id", existing.id.clone()),
                ],
            )
            .await?,
        )?;
        Ok(())
    }

    fn begin_round(&self) {
        if let Ok(mut d) = self.domains.lock() {
            d.clear();
        }
        self.listings.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The MD5 of `5dh232kfg!*` (the password of West.cn's own doc example, as lego's test uses it), computed
    /// independently (`printf '5dh232kfg!*' | md5sum`).
    #[test]
    fn api_key_is_the_md5_of_the_password() {
        assert_eq!(api_key("5dh232kfg!*"), "8861c769ce1fa2c88590f3ee3fd1bc2c");
    }
}
