//! Tencent Cloud `DNSPod` (API 3.0, TC3-HMAC-SHA256). Errors arrive with HTTP 200 in `Response.Error`;
//! `ResourceNotFound.NoDataOfRecord` means "no record yet". The zone is the longest suffix of the record
//! name the account has, found by asking `DescribeRecordList` for the name under each suffix; the listing
//! that finds the zone is kept for the round, so finding the zone costs no extra call. Records carry their
//! resolution line (`默认`, `电信`, `联通`, `境外`, …); only the managed line is touched. "Test" lists the
//! account's domains with `DescribeDomainList` (`Type` `ALL`, paged by `Offset`/`Limit`, at most 20 pages).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::reconcile::RoundCache;
use super::{
    Capabilities, Existing, KindConfig, KindInfo, Provider, ProviderError, Reconciler, RecordApi,
    Written, Zone, relative, send, sign, suffixes,
};
use crate::config::check::FieldCheck;
use crate::config::{RecordType, Secret};
use crate::provider::ErrorClass;

const DEFAULT_ENDPOINT: &str = "https://dnspod.tencentcloudapi.com";
const CONTENT_TYPE: &str = "application/json; charset=utf-8";
const DEFAULT_LINE: &str = "默认";
/// Domains asked for per `DescribeDomainList` page (the documented default and most).
const DOMAIN_PAGE: usize = 3000;
/// Pages of domains read at most.
const MAX_PAGES: usize = 20;

pub const INFO: KindInfo = KindInfo::provider(
    "dnspod",
    "https://console.cloud.tencent.com/cam/capi",
    &[
        super::req("secret_id"),
        super::secret("secret_key"),
        super::LINE,
        super::ENDPOINT,
    ],
)
.example("secret_id = \"AKIDexample123\"\nsecret_key = \"tc-secret-value\"");

/// `kind = "dnspod"`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub secret_id: String,
    pub secret_key: Secret,
    /// The line to manage (`默认`, `电信`, `联通`, `移动`, `境外`, …).
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
        vec![("secret_key".into(), &mut self.secret_key)]
    }

    fn validate(&self, check: &mut FieldCheck<'_>) {
        check.key_id("secret_id", &self.secret_id, "SecretId");
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
                secret_id: self.secret_id.clone(),
                secret_key: self.secret_key.clone(),
                domains: Mutex::new(HashMap::new()),
                listings: RoundCache::default(),
            })
            .on_line(self.line.as_deref()),
        )
    }
}

struct Api {
    name: String,
    client: reqwest::Client,
    base: String,
    host: String,
    secret_id: String,
    secret_key: Secret,
    /// Suffixes known this round to be (true) or not be (false) a domain of the account.
    domains: Mutex<HashMap<String, bool>>,
    /// Listings of (zone, name) made while finding the zone, all types.
    listings: RoundCache<(String, String), Vec<Record>>,
}

#[derive(Deserialize)]
struct Envelope {
    #[serde(rename = "Response")]
    response: Value,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ApiError {
    code: String,
    #[serde(default)]
    message: String,
}

#[derive(Deserialize, Clone)]
#[serde(rename_all = "PascalCase")]
struct Record {
    record_id: u64,
    name: String,
    #[serde(rename = "Type")]
    record_type: String,
    value: String,
    #[serde(default)]
    line: Option<String>,
    #[serde(rename = "TTL", default)]
    ttl: Option<u32>,
}

/// What an action answered: its `Response` object, or a classified error with the code.
enum Reply {
    Ok(Value),
    Error { code: String, error: ProviderError },
}

fn ok(reply: Reply) -> Result<Value, ProviderError> {
    match reply {
        Reply::Ok(v) => Ok(v),
        Reply::Error { error, .. } => Err(error),
    }
}

const NO_DOMAIN: &[&str] = &[
    "InvalidParameterValue.DomainNotExists",
    "ResourceNotFound.NoDataOfDomain",
];

impl Api {
    fn label(&self) -> String {
        format!("dnspod `{}`", self.name)
    }

    async fn call(&self, action: &str, body: &Value) -> Result<Reply, ProviderError> {
        let label = self.label();
        let body = body.to_string();
        let timestamp = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let action_lower = action.to_ascii_lowercase();
        let authorization = sign::tc3(
            &self.secret_id,
            self.secret_key.expose(),
            "dnspod",
            timestamp,
            &[
                ("content-type", CONTENT_TYPE),
                ("host", &self.host),
                ("x-tc-action", &action_lower),
            ],
            &body,
        );
        let request = self
            .client
            .post(format!("{}/", self.base))
            .header("Content-Type", CONTENT_TYPE)
            .header("Host", &self.host)
            .header("X-TC-Action", action)
            .header("X-TC-Version", "2021-03-23")
            .header("X-TC-Timestamp", timestamp.to_string())
            .header("Authorization", authorization)
            .body(body);
        let answer = send(&label, request, &[self.secret_key.expose()]).await?;
        if !answer.status.is_success() {
            return Err(answer.status_error(&label, None));
        }
        let envelope: Envelope = answer.json(&label)?;
        let Some(error) = envelope.response.get("Error") else {
            return Ok(Reply::Ok(envelope.response));
        };
        let error: ApiError = serde_json::from_value(error.clone()).map_err(|e| {
            ProviderError::transient(format!("{label}: unexpected error shape ({e})"))
        })?;
        let detail = format!("{}: {}", error.code, answer.redact(&error.message));
        let code = error.code.as_str();
        let classified = if code == "AuthFailure.SignatureExpire" {
            ProviderError::transient(format!("{label}: {detail} (check the system clock)"))
        } else if code.starts_with("AuthFailure") || code.starts_with("UnauthorizedOperation") {
            ProviderError::auth(format!("{label}: access refused ({detail})"))
        } else if code.starts_with("RequestLimitExceeded") {
            ProviderError::new(
                ErrorClass::RateLimited { retry_after: None },
                format!("{label}: rate limited ({detail})"),
            )
        } else if code.starts_with("InvalidParameter")
            || code.starts_with("MissingParameter")
            || code.starts_with("LimitExceeded")
            || code.starts_with("ResourceNotFound")
        {
            ProviderError::rejected(format!("{label}: {detail}"))
        } else {
            ProviderError::transient(format!("{label}: {detail}"))
        };
        Ok(Reply::Error {
            code: error.code,
            error: classified,
        })
    }

    /// The records at `name` in `zone` (`record_type` narrows the query); `None` when the zone is not a
    /// domain of the account.
    async fn describe(
        &self,
        zone: &str,
        name: &str,
        record_type: Option<RecordType>,
    ) -> Result<Option<Vec<Record>>, ProviderError> {
        let sub = relative(name, zone);
        let mut body = json!({ "Domain": zone, "Subdomain": sub, "Limit": 3000 });
        if let Some(t) = record_type {
            body["RecordType"] = json!(t.as_str());
        }
        match self.call("DescribeRecordList", &body).await? {
            Reply::Ok(response) => {
                let list: Vec<Record> = serde_json::from_value(
                    response
                        .get("RecordList")
                        .cloned()
                        .unwrap_or(Value::Array(vec![])),
                )
                .map_err(|e| {
                    ProviderError::transient(format!(
                        "{}: unexpected record list ({e})",
                        self.label()
                    ))
                })?;
                Ok(Some(
                    list.into_iter()
                        .filter(|r| r.name.eq_ignore_ascii_case(&sub))
                        .collect(),
                ))
            }
            Reply::Error { code, .. } if code == "ResourceNotFound.NoDataOfRecord" => {
                Ok(Some(Vec::new()))
            }
            Reply::Error { code, .. } if NO_DOMAIN.contains(&code.as_str()) => Ok(None),
            Reply::Error { error, .. } => Err(error),
        }
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

    async fn zones(&self) -> Result<Option<Vec<String>>, ProviderError> {
        #[derive(Deserialize)]
        #[serde(rename_all = "PascalCase")]
        struct Domain {
            name: String,
        }
        let mut out = Vec::new();
        for page in 0..MAX_PAGES {
            let body = json!({ "Type": "ALL", "Offset": page * DOMAIN_PAGE, "Limit": DOMAIN_PAGE });
            let response = match self.call("DescribeDomainList", &body).await? {
                Reply::Ok(response) => response,
                // An account without domains.
                Reply::Error { code, .. } if code == "ResourceNotFound.NoDataOfDomain" => break,
                Reply::Error { error, .. } => return Err(error),
            };
            let domains: Vec<Domain> = serde_json::from_value(
                response
                    .get("DomainList")
                    .cloned()
                    .unwrap_or(Value::Array(vec![])),
            )
            .map_err(|e| {
                ProviderError::transient(format!("{}: unexpected domain list ({e})", self.label()))
            })?;
            let total = response
                .pointer("/DomainCountInfo/AllTotal")
                .and_then(Value::as_u64)
                .unwrap_or(0);
            let n = domains.len();
            out.extend(domains.into_iter().map(|d| d.name));
            if n < DOMAIN_PAGE || out.len() as u64 >= total {
                break;
            }
        }
        Ok(Some(out))
    }

    async fn zone(&self, name: &str) -> Result<Zone, ProviderError> {
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
            let found = self.describe(&domain, name, None).await?;
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
            "{}: no domain in this account holds {name}",
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
            None => self
                .describe(&zone.name, name, Some(record_type))
                .await?
                .ok_or_else(|| {
                    ProviderError::rejected(format!(
                        "{}: domain {} is not in this account",
                        self.label(),
                        zone.name
                    ))
                })?,
        };
        Ok(records
            .into_iter()
            .filter(|r| r.record_type == record_type.as_str())
            .map(|r| Existing {
                id: r.record_id.to_string(),
                values: vec![r.value],
                line: Some(r.line.unwrap_or_else(|| DEFAULT_LINE.to_owned())),
                ttl: r.ttl,
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
        let mut body = json!({
            "Domain": zone.name, "SubDomain": relative(name, &zone.name),
            "RecordType": record_type.as_str(), "RecordLine": line.unwrap_or(DEFAULT_LINE),
            "Value": values.first().map(ToString::to_string).unwrap_or_default(),
        });
        if let Some(ttl) = ttl {
            body["TTL"] = json!(ttl);
        }
        match self.call("CreateRecord", &body).await? {
            Reply::Ok(r) => Ok(Written::new(r.get("RecordId").map(ToString::to_string))),
            // Made meanwhile with the same value: it holds what we wanted.
            Reply::Error { code, .. } if code == "InvalidParameter.DomainRecordExist" => {
                Ok(Written::already(None))
            }
            Reply::Error { error, .. } => Err(error),
        }
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
        let mut body = json!({
            "Domain": zone.name, "RecordId": id, "SubDomain": relative(name, &zone.name),
            "RecordType": record_type.as_str(),
            "RecordLine": existing.line.as_deref().unwrap_or(DEFAULT_LINE),
            "Value": values.first().map(ToString::to_string).unwrap_or_default(),
        });
        if let Some(ttl) = ttl {
            body["TTL"] = json!(ttl);
        }
        ok(self.call("ModifyRecord", &body).await?)?;
        Ok(Written::new(Some(existing.id.clone())))
    }

    async fn delete(
        &self,
        zone: &Zone,
        _name: &str,
        _record_type: RecordType,
        existing: &Existing,
    ) -> Result<(), ProviderError> {
        let id: u64 = existing.id.parse().unwrap_or_default();
        ok(self
            .call(
                "DeleteRecord",
                &json!({ "Domain": zone.name, "RecordId": id }),
            )
            .await?)?;
        Ok(())
    }

    fn begin_round(&self) {
        if let Ok(mut d) = self.domains.lock() {
            d.clear();
        }
        self.listings.clear();
    }
}
