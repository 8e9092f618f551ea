//! Baidu AI Cloud (百度智能云) domain resolution (BCD, `bcd.baidubce.com`), signed with `bce-auth-v1`
//! (HMAC-SHA256; `host` and `x-bce-date` signed, the body is not). Every call is a POST with a JSON body under
//! `/v1/domain/resolve/`: the zone is the longest suffix of the name that `list` accepts; records are listed a
//! page of 100 at a time (there is no server-side filter) and filtered here by host, type and line (`view`,
//! default `DEFAULT`); then `add`, `edit` (the whole record) or `delete`. Errors are JSON `{code, message}`,
//! also with HTTP 200, classified by `code`. AAAA values are sent in upper case, as the API requires.
//! "Test" does not list the account's domains: no listing call of the resolve API is documented in the stored
//! sources (`docs/providers/baidu.md`), so it shows the check alone.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::SystemTime;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::{
    Capabilities, Existing, KindConfig, KindInfo, Provider, ProviderError, Reconciler, RecordApi,
    Written, Zone, relative, send, sign, suffixes,
};
use crate::config::check::FieldCheck;
use crate::config::{RecordType, Secret};
use crate::provider::ErrorClass;

const DEFAULT_ENDPOINT: &str = "https://bcd.baidubce.com";
const DEFAULT_LINE: &str = "DEFAULT";
/// What the API's own clients send when no TTL is given.
const DEFAULT_TTL: u32 = 300;
const EXPIRATION: u32 = 1800;
const PAGE_SIZE: u32 = 100;
const MAX_PAGES: u32 = 50;
const CONTENT_TYPE: &str = "application/json";

pub const INFO: KindInfo = KindInfo::provider(
    "baidu",
    "https://console.bce.baidu.com/iam/#/iam/accesslist",
    &[
        super::req("access_key_id"),
        super::secret("secret_access_key"),
        super::LINE,
        super::ENDPOINT,
    ],
)
.example("access_key_id = \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"\nsecret_access_key = \"bce-secret-value\"");

/// `kind = "baidu"`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub access_key_id: String,
    pub secret_access_key: Secret,
    /// The line (`view`) to manage (`DEFAULT`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
}

const CAPABILITIES: Capabilities = Capabilities {
    default_line: Some(DEFAULT_LINE),
    ..Capabilities::RECORDS
};

impl KindConfig for Config {
    fn endpoint(&self) -> Option<&str> {
        self.endpoint.as_deref()
    }

    fn secrets_mut(&mut self) -> Vec<(String, &mut Secret)> {
        vec![("secret_access_key".into(), &mut self.secret_access_key)]
    }

    fn validate(&self, check: &mut FieldCheck<'_>) {
        check.key_id("access_key_id", &self.access_key_id, "Access Key ID (AK)");
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
        let base = super::base_url(self.endpoint.as_deref(), DEFAULT_ENDPOINT);
        let host = super::host_of(&base);
        Arc::new(
            Reconciler::new(Api {
                name,
                client,
                base,
                host,
                ak: self.access_key_id.clone(),
                sk: self.secret_access_key.clone(),
            })
            .on_line(self.line.as_deref()),
        )
    }
}

/// The `bce-auth-v1` Authorization value ("生成认证字符串"): `headers` are the signed headers (any case),
/// `timestamp` is `YYYY-MM-DDThh:mm:ssZ`; valid for [`EXPIRATION`] seconds.
fn bce_auth_v1(
    ak: &str,
    sk: &str,
    timestamp: &str,
    method: &str,
    path: &str,
    query: &BTreeMap<String, String>,
    headers: &[(&str, &str)],
) -> String {
    let prefix = format!("bce-auth-v1/{ak}/{timestamp}/{EXPIRATION}");
    let signing_key = sign::hex(&sign::hmac_sha256(sk.as_bytes(), prefix.as_bytes()));
    let mut query: Vec<String> = query
        .iter()
        .map(|(k, v)| format!("{}={}", sign::pct(k), sign::pct(v)))
        .collect();
    query.sort();
    let mut lines: Vec<String> = headers
        .iter()
        .filter(|(_, v)| !v.trim().is_empty())
        .map(|(k, v)| {
            format!(
                "{}:{}",
                sign::pct(&k.to_ascii_lowercase()),
                sign::pct(v.trim())
            )
        })
        .collect();
    lines.sort();
    let mut names: Vec<String> = headers
        .iter()
        .map(|(k, _)| k.to_ascii_lowercase())
        .collect();
    names.sort();
    let uri = if path.is_empty() {
        "/".to_owned()
    } else {
        sign::pct_except(path, b"/")
    };
    let canonical = format!("{method}\n{uri}\n{}\n{}", query.join("&"), lines.join("\n"));
    let signature = sign::hex(&sign::hmac_sha256(
        signing_key.as_bytes(),
        canonical.as_bytes(),
    ));
    format!("{prefix}/{}/{signature}", names.join(";"))
}

struct Api {
    name: String,
    client: reqwest::Client,
    base: String,
    host: String,
    ak: String,
    sk: Secret,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ApiError {
    code: String,
    #[serde(default)]
    message: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct List {
    #[serde(default)]
    total_count: Option<u32>,
    #[serde(default)]
    result: Option<Vec<Record>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Record {
    record_id: Value,
    domain: String,
    #[serde(default)]
    view: Option<String>,
    rdtype: String,
    #[serde(default)]
    ttl: Option<u32>,
    rdata: String,
}

/// Error codes with a known meaning; `None` leaves it to the HTTP status.
fn classify(label: &str, code: &str, detail: &str) -> Option<ProviderError> {
    const AUTH: &[&str] = &[
        "AccessDenied",
        "InvalidAccessKeyId",
        "InvalidHTTPAuthHeader",
        "SignatureDoesNotMatch",
        "OptInRequired",
    ];
    const REJECTED: &[&str] = &[
        "InappropriateJSON",
        "MalformedJSON",
        "InvalidHTTPRequest",
        "InvalidURI",
        "InvalidVersion",
        "PreconditionFailed",
        "IdempotentParameterMismatch",
    ];
    if AUTH.contains(&code) {
        Some(ProviderError::auth(format!(
            "{label}: access refused ({detail})"
        )))
    } else if code == "RequestExpired" {
        Some(ProviderError::auth(format!(
            "{label}: {detail} (check the system clock)"
        )))
    } else if code.contains("Throttl")
        || code == "RequestLimitExceeded"
        || code == "TooManyRequests"
    {
        Some(ProviderError::new(
            ErrorClass::RateLimited { retry_after: None },
            format!("{label}: rate limited ({detail})"),
        ))
    } else if REJECTED.contains(&code) {
        Some(ProviderError::rejected(format!("{label}: {detail}")))
    } else if code == "InternalError" || code == "ServiceUnavailable" {
        Some(ProviderError::transient(format!("{label}: {detail}")))
    } else {
        None
    }
}

impl Api {
    fn label(&self) -> String {
        format!("baidu `{}`", self.name)
    }

    /// POSTs `body` to `/v1/domain/resolve/<op>`, signed; the answer's JSON (`Null` for an empty body).
    async fn call(&self, op: &str, body: &Value) -> Result<Value, ProviderError> {
        let label = self.label();
        let path = format!("/v1/domain/resolve/{op}");
        let timestamp = humantime::format_rfc3339_seconds(SystemTime::now()).to_string();
        let authorization = bce_auth_v1(
            &self.ak,
            self.sk.expose(),
            &timestamp,
            "POST",
            &path,
            &BTreeMap::new(),
            &[("host", &self.host), ("x-bce-date", &timestamp)],
        );
        let request = self
            .client
            .post(format!("{}{path}", self.base))
            .header("Host", &self.host)
            .header("Content-Type", CONTENT_TYPE)
            .header("x-bce-date", &timestamp)
            .header("Authorization", authorization)
            .body(body.to_string());
        let answer = send(&label, request, &[self.sk.expose()]).await?;
        let parsed: Option<Value> = if answer.body.trim().is_empty() {
            Some(Value::Null)
        } else {
            serde_json::from_str(&answer.body).ok()
        };
        let error = parsed
            .as_ref()
            .and_then(|v| v.get("code"))
            .and_then(|_| serde_json::from_value::<ApiError>(parsed.clone()?).ok());
        if let Some(err) = error {
            let detail = format!("{}: {}", err.code, answer.redact(&err.message));
            if answer.status.as_u16() == 429 {
                return Err(answer.status_error(&label, Some(&detail)));
            }
            return Err(classify(&label, &err.code, &detail).unwrap_or_else(|| {
                if answer.status.is_success() {
                    ProviderError::rejected(format!("{label}: {detail}"))
                } else {
                    answer.status_error(&label, Some(&detail))
                }
            }));
        }
        if !answer.status.is_success() {
            return Err(answer.status_error(&label, None));
        }
        parsed.ok_or_else(|| {
            ProviderError::transient(format!("{label}: unexpected answer `{}`", answer.snippet()))
        })
    }

    async fn page(&self, zone: &str, page: u32, size: u32) -> Result<List, ProviderError> {
        let v = self
            .call(
                "list",
                &json!({ "domain": zone, "pageNo": page, "pageSize": size }),
            )
            .await?;
        serde_json::from_value(v).map_err(|e| {
            ProviderError::transient(format!("{}: unexpected record list ({e})", self.label()))
        })
    }
}

/// The value as the API wants it: AAAA in upper case.
fn rdata(values: &[IpAddr]) -> String {
    values
        .first()
        .map(|v| v.to_string().to_ascii_uppercase())
        .unwrap_or_default()
}

/// A record id from the list as the number the API takes back.
fn record_id(id: &str) -> Value {
    id.parse::<u64>().map_or_else(|_| json!(id), |n| json!(n))
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
        let mut last = None;
        for candidate in suffixes(name) {
            match self.page(&candidate, 1, 1).await {
                Ok(_) => {
                    return Ok(Zone {
                        id: candidate.clone(),
                        name: candidate,
                    });
                }
                // Not a zone of this account: try the next suffix. Credentials, limits and outages stop here.
                Err(e) if e.class == ErrorClass::Rejected => last = Some(e.message),
                Err(e) => return Err(e),
            }
        }
        Err(ProviderError::rejected(format!(
            "{}: no domain in this account holds {name}{}",
            self.label(),
            last.map(|m| format!(" (last answer: {m})"))
                .unwrap_or_default()
        )))
    }

    async fn list(
        &self,
        zone: &Zone,
        name: &str,
        record_type: RecordType,
    ) -> Result<Vec<Existing>, ProviderError> {
        let host = relative(name, &zone.name);
        let mut out = Vec::new();
        for page in 1..=MAX_PAGES {
            let found = self.page(&zone.name, page, PAGE_SIZE).await?;
            let records = found.result.unwrap_or_default();
            let count = records.len();
            out.extend(
                records
                    .into_iter()
                    .filter(|r| {
                        r.domain.trim_end_matches('.').eq_ignore_ascii_case(&host)
                            && r.rdtype.eq_ignore_ascii_case(record_type.as_str())
                    })
                    .map(|r| Existing {
                        id: match r.record_id {
                            Value::String(s) => s,
                            other => other.to_string(),
                        },
                        values: vec![r.rdata],
                        line: Some(r.view.unwrap_or_else(|| DEFAULT_LINE.to_owned())),
                        ttl: r.ttl,
                        stale: false,
                    }),
            );
            if count < PAGE_SIZE as usize || page * PAGE_SIZE >= found.total_count.unwrap_or(0) {
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
        self.call(
            "add",
            &json!({
                "domain": relative(name, &zone.name), "rdType": record_type.as_str(),
                "ttl": ttl.unwrap_or(DEFAULT_TTL), "rdata": rdata(values),
                "zoneName": zone.name, "view": line.unwrap_or(DEFAULT_LINE),
            }),
        )
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
        self.call(
            "edit",
            &json!({
                "recordId": record_id(&existing.id), "domain": relative(name, &zone.name),
                "view": existing.line.as_deref().unwrap_or(DEFAULT_LINE),
                "rdType": record_type.as_str(),
                "ttl": ttl.or(existing.ttl).unwrap_or(DEFAULT_TTL),
                "rdata": rdata(values), "zoneName": zone.name,
            }),
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
            "delete",
            &json!({ "zoneName": zone.name, "recordId": record_id(&existing.id) }),
        )
        .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The published example (百度智能云 "生成认证字符串", cloud.baidu.com/doc/Reference/s/njwvz1yfu, and its
    /// "Sample-Code" page wjwvz1xt2: BOS `UploadPart`), both with all five headers signed and with
    /// `host;x-bce-date` only; see docs/providers/baidu.md §3.
    #[test]
    fn published_vector() {
        let query: BTreeMap<String, String> = [
            ("partNumber", "9"),
            ("uploadId", "a44cc9bab11cbd156984767aad637851"),
        ]
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
        let ak = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
        let sk = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
        let ts = "2015-04-27T08:23:49Z";
        assert_eq!(
            sign::hex(&sign::hmac_sha256(
                sk.as_bytes(),
                format!("bce-auth-v1/{ak}/{ts}/1800").as_bytes()
            )),
            "1d5ce5f464064cbee060330d973218821825ac6952368a482a592e6615aef479"
        );
        let auth = bce_auth_v1(
            ak,
            sk,
            ts,
            "PUT",
            "/v1/test/myfolder/readme.txt",
            &query,
            &[
                ("Host", "bj.bcebos.com"),
                ("Content-Type", "text/plain"),
                ("Content-Length", "8"),
                ("Content-Md5", "NFzcPqhviddjRNnSOGo4rw=="),
                ("x-bce-date", ts),
            ],
        );
        assert_eq!(
            auth,
            "bce-auth-v1/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/2015-04-27T08:23:49Z/1800/content-length;content-md5;content-type;host;x-bce-date/d74a04362e6a848f5b39b15421cb449427f419c95a480fd6b8cf9fc783e2999e"
        );
        let auth = bce_auth_v1(
            ak,
            sk,
            ts,
            "PUT",
            "/v1/test/myfolder/readme.txt",
            &query,
            &[("host", "bj.bcebos.com"), ("x-bce-date", ts)],
        );
        assert!(
            auth.ends_with(
                "/host;x-bce-date/1b8de5a23a56eef657c69f94c621e7acd227d049a4ba577f537d5e5cebf0cf32"
            ),
            "{auth}"
        );
        // The BCD call as sent (docs/providers/baidu.md §3, BCD-shaped fixture).
        let auth = bce_auth_v1(
            ak,
            sk,
            ts,
            "POST",
            "/v1/domain/resolve/list",
            &BTreeMap::new(),
            &[("host", "bcd.baidubce.com"), ("x-bce-date", ts)],
        );
        assert_eq!(
            auth,
            "bce-auth-v1/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/2015-04-27T08:23:49Z/1800/host;x-bce-date/596c14b2aa08493da35fc7b174deb5bf3edc6dc192642dd919eb7dbf9ce31343"
        );
    }
}
