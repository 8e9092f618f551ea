//! Volcengine (火山引擎) 云解析 DNS / `TrafficRoute`, `OpenAPI` `Service=DNS`, `Version=2018-08-01`, signed with
//! the V4-style HMAC-SHA256 scheme (region `cn-north-1`). The zone is the longest suffix of the name that
//! `ListZones` (a fuzzy keyword search) returns exactly; its plan (`TradeCode`) sets the smallest TTL a record
//! may have. Records are listed with `ListRecords` (`SearchMode=exact`, paged by 500, filtered again here),
//! each on its line (`default`, `telecom`, `unicom`, …); writes are `CreateRecord`, `UpdateRecord` and
//! `DeleteRecord` (POST, JSON). Errors arrive in `ResponseMetadata.Error` and are classified by `Code`.
//! "Test" lists the account's zones with `ListZones` without a `Key` (paged by 100, at most 20 pages).
//!
//! The signer is the V4 family's ([`super::sigv4`]), with Volcengine's scheme (`HMAC-SHA256`, no key prefix,
//! `request`).

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::sync::Arc;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::sigv4::{Scheme, ToSign, compact_now, v4};
use super::{
    Capabilities, Existing, KindConfig, KindInfo, Provider, ProviderError, Reconciler, RecordApi,
    Written, Zone, relative, send, sign, suffixes,
};
use crate::config::check::FieldCheck;
use crate::config::{RecordType, Secret};
use crate::provider::ErrorClass;

const DEFAULT_ENDPOINT: &str = "https://open.volcengineapi.com";
const DEFAULT_LINE: &str = "default";
const VERSION: &str = "2018-08-01";
const REGION: &str = "cn-north-1";
const SERVICE: &str = "DNS";
const CONTENT_TYPE: &str = "application/json";
/// `ListRecords` allows at most 500 per page.
const PAGE_SIZE: u32 = 500;
const MAX_PAGES: u32 = 20;

pub const INFO: KindInfo = KindInfo::provider(
    "volcengine",
    "https://console.volcengine.com/iam/keymanage/",
    &[
        super::req("access_key_id"),
        super::secret("secret_access_key"),
        super::LINE,
        super::ENDPOINT,
    ],
)
.example("access_key_id = \"AKLTexample\"\nsecret_access_key = \"volc-secret-value\"");

/// `kind = "volcengine"`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub access_key_id: String,
    pub secret_access_key: Secret,
    /// The line to manage (`default`, `telecom`, `unicom`, `mobile`, …: the line's `Value` code).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
}

/// TTLs from 1 (the top plans) up; the zone's plan minimum is checked before a write. No maximum is
/// documented.
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
        check.key_id("access_key_id", &self.access_key_id, "Access Key ID");
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

const SCHEME: Scheme<'static> = Scheme {
    algorithm: "HMAC-SHA256",
    key_prefix: "",
    terminator: "request",
    region: REGION,
    service: SERVICE,
};

struct Api {
    name: String,
    client: reqwest::Client,
    base: String,
    host: String,
    ak: String,
    sk: Secret,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Envelope {
    #[serde(default)]
    response_metadata: Option<Metadata>,
    #[serde(default)]
    result: Option<Value>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Metadata {
    #[serde(default)]
    error: Option<ApiError>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ApiError {
    #[serde(default)]
    code: String,
    #[serde(default)]
    message: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Zones {
    #[serde(default)]
    zones: Option<Vec<ZoneEntry>>,
    #[serde(default)]
    total: Option<u32>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ZoneEntry {
    #[serde(rename = "ZID")]
    zid: u64,
    zone_name: String,
    #[serde(default)]
    trade_code: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Records {
    #[serde(default)]
    records: Option<Vec<Record>>,
    #[serde(default)]
    total_count: Option<u32>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Record {
    #[serde(rename = "RecordID")]
    record_id: String,
    host: String,
    #[serde(rename = "Type")]
    record_type: String,
    value: String,
    #[serde(rename = "TTL", default)]
    ttl: Option<u32>,
    #[serde(default)]
    line: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Created {
    #[serde(rename = "RecordID")]
    record_id: String,
}

/// The smallest TTL of a zone's plan (功能版本规格), by its `TradeCode`; unknown plans are left to the API.
fn plan_min_ttl(trade_code: &str) -> Option<u32> {
    match trade_code {
        "free_inner" => Some(600),
        "professional_inner" => Some(300),
        "enterprise_inner" => Some(60),
        "ultimate_inner" | "ultimate_exclusive_inner" => Some(1),
        _ => None,
    }
}

/// Error codes with a known meaning; `None` leaves it to the HTTP status.
fn classify(label: &str, code: &str, detail: &str) -> Option<ProviderError> {
    const AUTH: &[&str] = &[
        "InvalidAccessKey",
        "SignatureDoesNotMatch",
        "AccessDenied",
        "InvalidSecretToken",
    ];
    const REJECTED: &[&str] = &[
        "InvalidParameter",
        "MissingParameter",
        "InvalidActionOrVersion",
    ];
    if AUTH.contains(&code) {
        Some(ProviderError::auth(format!(
            "{label}: access refused ({detail})"
        )))
    } else if code == "InvalidTimestamp" || code == "SignatureExpired" {
        Some(ProviderError::auth(format!(
            "{label}: {detail} (check the system clock)"
        )))
    } else if code == "FlowLimitExceeded" || code.starts_with("RequestLimitExceeded") {
        Some(ProviderError::new(
            ErrorClass::RateLimited { retry_after: None },
            format!("{label}: rate limited ({detail})"),
        ))
    } else if REJECTED.contains(&code) || code.starts_with("InvalidParameter") {
        Some(ProviderError::rejected(format!("{label}: {detail}")))
    } else if code == "InternalError" || code == "ServiceUnavailableTemp" {
        Some(ProviderError::transient(format!("{label}: {detail}")))
    } else {
        None
    }
}

impl Api {
    fn label(&self) -> String {
        format!("volcengine `{}`", self.name)
    }

    /// Calls an action: GET with `params` in the query, or POST with `body` as JSON. Returns `Result`.
    async fn call(
        &self,
        action: &str,
        params: &[(&str, String)],
        body: Option<&Value>,
    ) -> Result<Value, ProviderError> {
        let label = self.label();
        let mut query: BTreeMap<String, String> = params
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.clone()))
            .collect();
        query.insert("Action".into(), action.into());
        query.insert("Version".into(), VERSION.into());
        let query = sign::canonical_query(&query);
        let body = body.map(Value::to_string).unwrap_or_default();
        let method = if body.is_empty() { "GET" } else { "POST" };
        let datetime = compact_now();
        let payload_hash = sign::sha256_hex(body.as_bytes());
        let authorization = v4(
            &SCHEME,
            &self.ak,
            self.sk.expose(),
            &ToSign {
                method,
                uri: "/",
                query: &query,
                headers: &[
                    ("content-type", CONTENT_TYPE),
                    ("host", &self.host),
                    ("x-content-sha256", &payload_hash),
                    ("x-date", &datetime),
                ],
                body: body.as_bytes(),
                datetime: &datetime,
            },
        );
        let url = format!("{}/?{query}", self.base);
        let request = if method == "GET" {
            self.client.get(url)
        } else {
            self.client.post(url).body(body)
        }
        .header("Content-Type", CONTENT_TYPE)
        .header("Host", &self.host)
        .header("X-Content-Sha256", payload_hash)
        .header("X-Date", &datetime)
        .header("Authorization", authorization);
        let answer = send(&label, request, &[self.sk.expose()]).await?;
        let envelope = serde_json::from_str::<Envelope>(&answer.body).ok();
        let error = envelope
            .as_ref()
            .and_then(|e| e.response_metadata.as_ref())
            .and_then(|m| m.error.as_ref())
            .filter(|e| !e.code.is_empty());
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
        match envelope {
            Some(Envelope {
                response_metadata: Some(_),
                result,
            }) => Ok(result.unwrap_or(Value::Null)),
            _ => Err(ProviderError::transient(format!(
                "{label}: unexpected answer `{}`",
                answer.snippet()
            ))),
        }
    }

    fn parse<T: serde::de::DeserializeOwned>(&self, v: Value) -> Result<T, ProviderError> {
        serde_json::from_value(v).map_err(|e| {
            ProviderError::transient(format!("{}: unexpected result ({e})", self.label()))
        })
    }

    /// The zone named exactly `candidate`, if the account has it (`ListZones`' `Key` is a fuzzy match).
    async fn find_zone(&self, candidate: &str) -> Result<Option<ZoneEntry>, ProviderError> {
        for page in 1..=MAX_PAGES {
            let found: Zones = self.parse(
                self.call(
                    "ListZones",
                    &[
                        ("Key", candidate.to_owned()),
                        ("PageNumber", page.to_string()),
                        ("PageSize", "100".to_owned()),
                    ],
                    None,
                )
                .await?,
            )?;
            let zones = found.zones.unwrap_or_default();
            let count = zones.len();
            if let Some(z) = zones
                .into_iter()
                .find(|z| super::canonical(&z.zone_name) == candidate)
            {
                return Ok(Some(z));
            }
            if count < 100 || page * 100 >= found.total.unwrap_or(0) {
                break;
            }
        }
        Ok(None)
    }

    /// Refuses a TTL below the zone plan's minimum before writing (the zone's `TradeCode` rides in its id).
    fn check_ttl(&self, zone: &Zone, ttl: Option<u32>) -> Result<(), ProviderError> {
        let plan = zone.id.split_once('/').map_or("", |(_, p)| p);
        if let (Some(ttl), Some(min)) = (ttl, plan_min_ttl(plan))
            && ttl < min
        {
            return Err(ProviderError::rejected(format!(
                "{}: ttl {ttl} is below {min}, the smallest TTL of zone {}'s plan ({plan}); set the record's `ttl` to {min} or more",
                self.label(),
                zone.name
            )));
        }
        Ok(())
    }
}

/// The numeric zone id from a [`Zone`] id (`<ZID>/<TradeCode>`).
fn zid(zone: &Zone) -> u64 {
    zone.id
        .split('/')
        .next()
        .and_then(|z| z.parse().ok())
        .unwrap_or_default()
}

fn first_value(values: &[IpAddr]) -> String {
    values.first().map(ToString::to_string).unwrap_or_default()
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
        let mut out = Vec::new();
        for page in 1..=MAX_PAGES {
            let found: Zones = self.parse(
                self.call(
                    "ListZones",
                    &[
                        ("PageNumber", page.to_string()),
                        ("PageSize", "100".to_owned()),
                    ],
                    None,
                )
                .await?,
            )?;
            let zones = found.zones.unwrap_or_default();
            let count = zones.len();
            out.extend(zones.into_iter().map(|z| z.zone_name));
            if count < 100 || page * 100 >= found.total.unwrap_or(0) {
                break;
            }
        }
        Ok(Some(out))
    }

    async fn zone(&self, name: &str) -> Result<Zone, ProviderError> {
        for candidate in suffixes(name) {
            if let Some(z) = self.find_zone(&candidate).await? {
                return Ok(Zone {
                    id: format!("{}/{}", z.zid, z.trade_code.unwrap_or_default()),
                    name: candidate,
                });
            }
        }
        Err(ProviderError::rejected(format!(
            "{}: no zone in this account holds {name}",
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
        let mut out = Vec::new();
        for page in 1..=MAX_PAGES {
            let found: Records = self.parse(
                self.call(
                    "ListRecords",
                    &[
                        ("ZID", zid(zone).to_string()),
                        ("Host", host.clone()),
                        ("Type", record_type.as_str().to_owned()),
                        ("SearchMode", "exact".to_owned()),
                        ("PageNumber", page.to_string()),
                        ("PageSize", PAGE_SIZE.to_string()),
                    ],
                    None,
                )
                .await?,
            )?;
            let records = found.records.unwrap_or_default();
            let count = records.len();
            out.extend(
                records
                    .into_iter()
                    .filter(|r| {
                        r.host.eq_ignore_ascii_case(&host) && r.record_type == record_type.as_str()
                    })
                    .map(|r| Existing {
                        id: r.record_id,
                        values: vec![r.value],
                        line: Some(r.line.unwrap_or_else(|| DEFAULT_LINE.to_owned())),
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
        self.check_ttl(zone, ttl)?;
        let mut body = json!({
            "ZID": zid(zone), "Host": relative(name, &zone.name), "Type": record_type.as_str(),
            "Value": first_value(values), "Line": line.unwrap_or(DEFAULT_LINE),
        });
        if let Some(ttl) = ttl {
            body["TTL"] = json!(ttl);
        }
        let created: Created = self.parse(self.call("CreateRecord", &[], Some(&body)).await?)?;
        Ok(Written::new(Some(created.record_id)))
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
        self.check_ttl(zone, ttl)?;
        let mut body = json!({
            "RecordID": existing.id, "Host": relative(name, &zone.name),
            "Line": existing.line.as_deref().unwrap_or(DEFAULT_LINE),
            "Type": record_type.as_str(), "Value": first_value(values),
        });
        if let Some(ttl) = ttl {
            body["TTL"] = json!(ttl);
        }
        self.call("UpdateRecord", &[], Some(&body)).await?;
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
            "DeleteRecord",
            &[],
            Some(&json!({ "RecordID": existing.id })),
        )
        .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ring::{digest, hmac};

    fn h(key: &[u8], msg: &str) -> Vec<u8> {
        hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, key), msg.as_bytes())
            .as_ref()
            .to_vec()
    }

    fn hexdigest(s: &str) -> String {
        crate::encode::hex(digest::digest(&digest::SHA256, s.as_bytes()).as_ref())
    }

    /// Independent computation from the doc's steps (签名方法, volcengine.com/docs/6971/174333): the
    /// canonical request and the string to sign written out by hand, the key chain with ring; and the
    /// fixtures in docs/providers/volcengine.md §3 (computed there with ddns-go's algorithm). Volcengine
    /// publishes no example with an unmasked secret.
    #[test]
    fn signature_from_the_documented_steps() {
        let (ak, sk) = ("AKLTexample", "c2VjcmV0ZXhhbXBsZQ==");
        let empty = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
        let canonical = format!(
            "GET\n/\nAction=ListZones&Key=example.com&Version=2018-08-01\ncontent-type:application/json\nhost:open.volcengineapi.com\nx-content-sha256:{empty}\nx-date:20250101T000000Z\n\ncontent-type;host;x-content-sha256;x-date\n{empty}"
        );
        assert_eq!(
            hexdigest(&canonical),
            "85002775143c5f321206f3b54e06fa83595b73dbeba9a7a9706aadeac6f7a7b3"
        );
        let to_sign = format!(
            "HMAC-SHA256\n20250101T000000Z\n20250101/cn-north-1/DNS/request\n{}",
            hexdigest(&canonical)
        );
        let k = h(
            &h(&h(&h(sk.as_bytes(), "20250101"), "cn-north-1"), "DNS"),
            "request",
        );
        let expected = crate::encode::hex(&h(&k, &to_sign));
        assert_eq!(
            expected,
            "ec53f3ecad07f8420eb161e2850b83c35c09f37a95e89e1ce896e34d99cea061"
        );
        let auth = v4(
            &SCHEME,
            ak,
            sk,
            &ToSign {
                method: "GET",
                uri: "/",
                query: "Action=ListZones&Key=example.com&Version=2018-08-01",
                headers: &[
                    ("content-type", "application/json"),
                    ("host", "open.volcengineapi.com"),
                    ("x-content-sha256", empty),
                    ("x-date", "20250101T000000Z"),
                ],
                body: b"",
                datetime: "20250101T000000Z",
            },
        );
        assert_eq!(
            auth,
            format!(
                "HMAC-SHA256 Credential=AKLTexample/20250101/cn-north-1/DNS/request, SignedHeaders=content-type;host;x-content-sha256;x-date, Signature={expected}"
            )
        );

        let body = r#"{"ZID":12345,"Host":"www","Type":"A","Value":"203.0.113.7","TTL":600,"Line":"default"}"#;
        let payload = "3017ad2b10cd31eae3b429edd751d99c635ce794a78f11139fe5a9fd9b75fba8";
        assert_eq!(hexdigest(body), payload);
        let auth = v4(
            &SCHEME,
            ak,
            sk,
            &ToSign {
                method: "POST",
                uri: "/",
                query: "Action=CreateRecord&Version=2018-08-01",
                headers: &[
                    ("content-type", "application/json"),
                    ("host", "open.volcengineapi.com"),
                    ("x-content-sha256", payload),
                    ("x-date", "20250101T000000Z"),
                ],
                body: body.as_bytes(),
                datetime: "20250101T000000Z",
            },
        );
        assert!(
            auth.ends_with(
                "Signature=8f1bdb401b8e589bda9df7fe26c401c410f9fb36b3b2df409d161d9953cf4bed"
            ),
            "{auth}"
        );
    }

    #[test]
    fn plan_minimums() {
        assert_eq!(plan_min_ttl("free_inner"), Some(600));
        assert_eq!(plan_min_ttl("enterprise_inner"), Some(60));
        assert_eq!(plan_min_ttl("something_new"), None);
    }
}
