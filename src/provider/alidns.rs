//! Alibaba Cloud DNS (API 2015-01-09, RPC style, signature V1 HMAC-SHA1). The zone comes from
//! `GetMainDomainName`; records from `DescribeSubDomainRecords` (exact full name, paginated), each with its
//! resolution line (`default`, `telecom`, `unicom`, `oversea`, …); then `AddDomainRecord`,
//! `UpdateDomainRecord` or `DeleteDomainRecord`. Errors are classified by their `Code`, never by the
//! message text; `DomainRecordDuplicate` on an update means the record already held the value. "Test" lists
//! the account's domains with `DescribeDomains` (paged by `PageNumber`/`PageSize`, at most 20 pages of 100).

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::SystemTime;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use super::{
    Capabilities, Existing, KindConfig, KindInfo, Provider, ProviderError, Reconciler, RecordApi,
    Written, Zone, send, sign,
};
use crate::config::check::FieldCheck;
use crate::config::{RecordType, Secret};
use crate::provider::ErrorClass;

const DEFAULT_ENDPOINT: &str = "https://alidns.aliyuncs.com";
const DEFAULT_LINE: &str = "default";
const PAGE_SIZE: u32 = 100;
const MAX_PAGES: u32 = 20;

pub const INFO: KindInfo = KindInfo::provider(
    "alidns",
    "https://ram.console.aliyun.com/manage/ak",
    &[
        super::req("access_key_id"),
        super::secret("access_key_secret"),
        super::LINE,
        super::ENDPOINT,
    ],
)
.example("access_key_id = \"LTAI5tExample\"\naccess_key_secret = \"ali-secret-value\"");

/// `kind = "alidns"`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub access_key_id: String,
    pub access_key_secret: Secret,
    /// The line to manage (`default`, `telecom`, `unicom`, `mobile`, `oversea`, …).
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
        vec![("access_key_secret".into(), &mut self.access_key_secret)]
    }

    fn validate(&self, check: &mut FieldCheck<'_>) {
        check.key_id("access_key_id", &self.access_key_id, "AccessKey ID");
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
                rpc: Rpc {
                    client,
                    base: super::base_url(self.endpoint.as_deref(), DEFAULT_ENDPOINT),
                    key_id: self.access_key_id.clone(),
                    secret: self.access_key_secret.clone(),
                    version: "2015-01-09",
                },
            })
            .on_line(self.line.as_deref()),
        )
    }
}

struct Api {
    name: String,
    rpc: Rpc,
}

/// An Alibaba Cloud RPC-style API (signature V1, every parameter in the query): Alidns, and ESA (`aliesa`).
pub(super) struct Rpc {
    pub client: reqwest::Client,
    pub base: String,
    pub key_id: String,
    pub secret: Secret,
    /// The API's `Version` (`2015-01-09` for Alidns).
    pub version: &'static str,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ApiError {
    code: String,
    #[serde(default)]
    message: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct SubDomainRecords {
    domain_records: RecordList,
    #[serde(default)]
    total_count: Option<u32>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RecordList {
    #[serde(default)]
    record: Vec<Record>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Record {
    record_id: String,
    #[serde(rename = "RR")]
    rr: String,
    domain_name: String,
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
struct DomainPage {
    #[serde(default)]
    domains: Option<DomainList>,
    #[serde(default)]
    total_count: Option<u32>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct DomainList {
    #[serde(default)]
    domain: Vec<MainDomain>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct MainDomain {
    domain_name: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RecordId {
    record_id: String,
}

/// A failed call: the classified error and Alibaba's code, when there was one.
pub(super) struct Failure {
    pub error: ProviderError,
    pub code: Option<String>,
}

impl From<ProviderError> for Failure {
    fn from(error: ProviderError) -> Self {
        Self { error, code: None }
    }
}

impl Rpc {
    /// Calls an action with its parameters, all in the query and signed (V1) for `method`, with an empty
    /// body (also for POST, as Alibaba's SDKs send RPC calls); returns the parsed success body.
    pub(super) async fn call<T: serde::de::DeserializeOwned>(
        &self,
        label: &str,
        method: reqwest::Method,
        action: &str,
        params: &[(&str, String)],
    ) -> Result<T, Failure> {
        let mut query: BTreeMap<String, String> = params
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.clone()))
            .collect();
        for (k, v) in [
            ("Action", action.to_owned()),
            ("Version", self.version.to_owned()),
            ("Format", "JSON".to_owned()),
            ("AccessKeyId", self.key_id.clone()),
            ("SignatureMethod", "HMAC-SHA1".to_owned()),
            ("SignatureVersion", "1.0".to_owned()),
            (
                "SignatureNonce",
                format!("{:016x}{:016x}", fastrand::u64(..), fastrand::u64(..)),
            ),
            (
                "Timestamp",
                humantime::format_rfc3339_seconds(SystemTime::now()).to_string(),
            ),
        ] {
            query.insert(k.to_owned(), v);
        }
        let signature = sign::aliyun_v1(method.as_str(), &query, self.secret.expose());
        let url = format!(
            "{}/?{}&Signature={}",
            self.base,
            sign::canonical_query(&query),
            sign::pct(&signature)
        );
        let answer = send(
            label,
            self.client.request(method, url),
            &[self.secret.expose()],
        )
        .await?;
        if answer.status.is_success() {
            return Ok(answer.json(label)?);
        }
        let Ok(err) = serde_json::from_str::<ApiError>(&answer.body) else {
            return Err(answer.status_error(label, None).into());
        };
        let detail = format!("{}: {}", err.code, answer.redact(&err.message));
        let error = classify(label, &err.code, &detail)
            .unwrap_or_else(|| answer.status_error(label, Some(&detail)));
        Err(Failure {
            error,
            code: Some(err.code),
        })
    }
}

impl Api {
    fn label(&self) -> String {
        format!("alidns `{}`", self.name)
    }

    async fn call<T: serde::de::DeserializeOwned>(
        &self,
        action: &str,
        params: &[(&str, String)],
    ) -> Result<T, Failure> {
        self.rpc
            .call(&self.label(), reqwest::Method::GET, action, params)
            .await
    }

    async fn call_plain<T: serde::de::DeserializeOwned>(
        &self,
        action: &str,
        params: &[(&str, String)],
    ) -> Result<T, ProviderError> {
        self.call(action, params).await.map_err(|f| f.error)
    }
}

/// Error codes with a known meaning (Alibaba's POP gateway codes, shared by its RPC APIs, and Alidns's own);
/// `None` leaves it to the HTTP status.
pub(super) fn classify(label: &str, code: &str, detail: &str) -> Option<ProviderError> {
    const AUTH: &[&str] = &[
        "InvalidAccessKeyId",
        "InvalidAccessKeyId.NotFound",
        "InvalidAccessKeyId.Inactive",
        "SignatureDoesNotMatch",
        "IncompleteSignature",
        "Forbidden.RAM",
        "Forbidden",
        "NoPermission",
    ];
    const REJECTED: &[&str] = &[
        "IncorrectDomainUser",
        "InvalidDomainName.NoExist",
        "DomainRecordConflict",
        "DomainForbidden",
        "RecordForbidden.BlackHole",
    ];
    if AUTH.contains(&code) {
        Some(ProviderError::auth(format!(
            "{label}: access refused ({detail})"
        )))
    } else if code.starts_with("Throttling") {
        Some(ProviderError::new(
            ErrorClass::RateLimited { retry_after: None },
            format!("{label}: throttled ({detail})"),
        ))
    } else if REJECTED.contains(&code) || code.starts_with("QuotaExceeded") {
        Some(ProviderError::rejected(format!("{label}: {detail}")))
    } else if code == "InvalidTimeStamp.Expired" || code == "SignatureNonceUsed" {
        Some(ProviderError::transient(format!(
            "{label}: {detail} (check the system clock)"
        )))
    } else {
        None
    }
}

/// The RR (host label) of `name` in `zone`.
fn rr(name: &str, zone: &Zone) -> String {
    super::relative(name, &zone.name)
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
            let found: DomainPage = self
                .call_plain(
                    "DescribeDomains",
                    &[
                        ("PageNumber", page.to_string()),
                        ("PageSize", PAGE_SIZE.to_string()),
                    ],
                )
                .await?;
            let domains = found.domains.map(|d| d.domain).unwrap_or_default();
            let count = domains.len();
            out.extend(domains.into_iter().map(|d| d.domain_name));
            if count < PAGE_SIZE as usize || page * PAGE_SIZE >= found.total_count.unwrap_or(0) {
                break;
            }
        }
        Ok(Some(out))
    }

    async fn zone(&self, name: &str) -> Result<Zone, ProviderError> {
        let main: MainDomain = self
            .call_plain("GetMainDomainName", &[("InputString", name.to_owned())])
            .await?;
        let zone = super::canonical(&main.domain_name);
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
        let full = |r: &Record| {
            if r.rr == "@" {
                super::canonical(&r.domain_name)
            } else {
                format!("{}.{}", r.rr, super::canonical(&r.domain_name)).to_ascii_lowercase()
            }
        };
        let mut out = Vec::new();
        for page in 1..=MAX_PAGES {
            let found: SubDomainRecords = self
                .call_plain(
                    "DescribeSubDomainRecords",
                    &[
                        ("SubDomain", name.to_owned()),
                        ("DomainName", zone.name.clone()),
                        ("Type", record_type.as_str().to_owned()),
                        ("PageNumber", page.to_string()),
                        ("PageSize", PAGE_SIZE.to_string()),
                    ],
                )
                .await?;
            let count = found.domain_records.record.len();
            out.extend(
                found
                    .domain_records
                    .record
                    .into_iter()
                    .filter(|r| full(r) == name && r.record_type == record_type.as_str())
                    .map(|r| Existing {
                        id: r.record_id,
                        values: vec![r.value],
                        line: Some(r.line.unwrap_or_else(|| DEFAULT_LINE.to_owned())),
                        ttl: r.ttl,
                        stale: false,
                    }),
            );
            let total = found.total_count.unwrap_or(0);
            if count < PAGE_SIZE as usize || page * PAGE_SIZE >= total {
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
        let mut params = vec![
            ("DomainName", zone.name.clone()),
            ("RR", rr(name, zone)),
            ("Type", record_type.as_str().to_owned()),
            (
                "Value",
                values.first().map(ToString::to_string).unwrap_or_default(),
            ),
        ];
        params.extend(ttl.map(|t| ("TTL", t.to_string())));
        params.extend(line.map(|l| ("Line", l.to_owned())));
        let created: RecordId = self.call_plain("AddDomainRecord", &params).await?;
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
        let mut params = vec![
            ("RecordId", existing.id.clone()),
            ("RR", rr(name, zone)),
            ("Type", record_type.as_str().to_owned()),
            (
                "Value",
                values.first().map(ToString::to_string).unwrap_or_default(),
            ),
        ];
        params.extend(ttl.map(|t| ("TTL", t.to_string())));
        params.extend(existing.line.clone().map(|l| ("Line", l)));
        match self.call::<RecordId>("UpdateDomainRecord", &params).await {
            Ok(r) => Ok(Written::new(Some(r.record_id))),
            // The record already holds exactly this: nothing to change.
            Err(Failure {
                code: Some(code), ..
            }) if code == "DomainRecordDuplicate" => {
                Ok(Written::already(Some(existing.id.clone())))
            }
            Err(f) => Err(f.error),
        }
    }

    async fn delete(
        &self,
        _zone: &Zone,
        _name: &str,
        _record_type: RecordType,
        existing: &Existing,
    ) -> Result<(), ProviderError> {
        let _: serde_json::Value = self
            .call_plain("DeleteDomainRecord", &[("RecordId", existing.id.clone())])
            .await?;
        Ok(())
    }
}
