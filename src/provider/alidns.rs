//! Alibaba Cloud DNS (API 2015-01-09, RPC style, signature V1 HMAC-SHA1): `DescribeSubDomainRecords` (exact
//! full name), then `AddDomainRecord` (zone from `GetMainDomainName`) or `UpdateDomainRecord`. `DomainRecordDuplicate`
//! on an unchanged value is success.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::time::SystemTime;

use async_trait::async_trait;
use serde::Deserialize;

use super::{Provider, ProviderError, UpdateOutcome, UpdateRequest, send, sign};
use crate::config::providers::AccessKeyFile;
use crate::config::{RecordType, Secret};
use crate::provider::ErrorClass;

const DEFAULT_ENDPOINT: &str = "https://alidns.aliyuncs.com";

pub struct Alidns {
    name: String,
    client: reqwest::Client,
    base: String,
    key_id: String,
    secret: Secret,
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
    ttl: Option<u64>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct MainDomain {
    domain_name: String,
    #[serde(rename = "RR")]
    rr: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RecordId {
    record_id: String,
}

impl Alidns {
    pub fn new(name: String, cfg: &AccessKeyFile) -> Self {
        Self {
            name,
            client: crate::http::api_client(),
            base: super::base_url(cfg.endpoint.as_deref(), DEFAULT_ENDPOINT),
            key_id: cfg.access_key_id.clone(),
            secret: cfg.access_key_secret.clone(),
        }
    }

    fn label(&self) -> String {
        format!("alidns `{}`", self.name)
    }

    /// Calls an action with its parameters, signed; returns the parsed success body.
    async fn call<T: serde::de::DeserializeOwned>(
        &self,
        action: &str,
        params: &[(&str, String)],
    ) -> Result<T, ProviderError> {
        let label = self.label();
        let mut query: BTreeMap<String, String> = params
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.clone()))
            .collect();
        for (k, v) in [
            ("Action", action.to_owned()),
            ("Version", "2015-01-09".to_owned()),
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
        let signature = sign::aliyun_v1("GET", &query, self.secret.expose());
        let url = format!(
            "{}/?{}&Signature={}",
            self.base,
            sign::canonical_query(&query),
            sign::pct(&signature)
        );
        let answer = send(&label, self.client.get(url), &[self.secret.expose()]).await?;
        if answer.status.is_success() {
            return answer.json(&label);
        }
        let Ok(err) = serde_json::from_str::<ApiError>(&answer.body) else {
            return Err(answer.status_error(&label, None));
        };
        let detail = format!("{}: {}", err.code, answer.redact(&err.message));
        Err(classify(&label, &err.code, &detail)
            .unwrap_or_else(|| answer.status_error(&label, Some(&detail))))
    }
}

/// Error codes with a known meaning; `None` leaves it to the HTTP status.
fn classify(label: &str, code: &str, detail: &str) -> Option<ProviderError> {
    let auth = [
        "InvalidAccessKeyId.NotFound",
        "InvalidAccessKeyId.Inactive",
        "SignatureDoesNotMatch",
        "IncompleteSignature",
        "Forbidden.RAM",
        "Forbidden",
    ];
    let rejected = [
        "IncorrectDomainUser",
        "InvalidDomainName.NoExist",
        "DomainRecordConflict",
        "DomainForbidden",
        "RecordForbidden.BlackHole",
    ];
    if auth.contains(&code) {
        Some(ProviderError::auth(format!(
            "{label}: access refused ({detail})"
        )))
    } else if code.starts_with("Throttling") {
        Some(ProviderError::new(
            ErrorClass::RateLimited { retry_after: None },
            format!("{label}: throttled ({detail})"),
        ))
    } else if rejected.contains(&code) || code.starts_with("QuotaExceeded") {
        Some(ProviderError::rejected(format!("{label}: {detail}")))
    } else if code == "InvalidTimeStamp.Expired" || code == "SignatureNonceUsed" {
        Some(ProviderError::transient(format!(
            "{label}: {detail} (check the system clock)"
        )))
    } else {
        None
    }
}

fn same_ip(value: &str, ip: IpAddr) -> bool {
    value.trim().parse::<IpAddr>().is_ok_and(|v| v == ip)
}

#[async_trait]
impl Provider for Alidns {
    #[tracing::instrument(skip_all, fields(provider = %self.name, record = %request.name))]
    async fn update(&self, request: &UpdateRequest<'_>) -> Result<UpdateOutcome, ProviderError> {
        let rtype = request.record_type.as_str();
        let found: SubDomainRecords = self
            .call(
                "DescribeSubDomainRecords",
                &[
                    ("SubDomain", request.name.to_owned()),
                    ("Type", rtype.to_owned()),
                    ("PageSize", "100".to_owned()),
                ],
            )
            .await?;
        let full = |r: &Record| {
            if r.rr == "@" {
                r.domain_name.clone()
            } else {
                format!("{}.{}", r.rr, r.domain_name)
            }
        };
        let mut matching: Vec<Record> = found
            .domain_records
            .record
            .into_iter()
            .filter(|r| full(r).eq_ignore_ascii_case(request.name) && r.record_type == rtype)
            .collect();
        let ttl = request.ttl.map(|t| ("TTL", t.to_string()));
        let value = request.ip.to_string();
        if matching.is_empty() {
            let main: MainDomain = self
                .call(
                    "GetMainDomainName",
                    &[("InputString", request.name.to_owned())],
                )
                .await?;
            let rr = if main.rr.is_empty() {
                "@".to_owned()
            } else {
                main.rr
            };
            let mut params = vec![
                ("DomainName", main.domain_name),
                ("RR", rr),
                ("Type", rtype.to_owned()),
                ("Value", value),
            ];
            params.extend(ttl);
            let created: RecordId = self.call("AddDomainRecord", &params).await?;
            return Ok(UpdateOutcome::Updated {
                record_id: Some(created.record_id),
            });
        }
        let keep = super::take_kept(&mut matching, request.record_id, |r| r.record_id.clone());
        for extra in &matching {
            tracing::warn!(record = %request.name, id = %extra.record_id, "deleting a duplicate {rtype} record");
            let _: serde_json::Value = self
                .call(
                    "DeleteDomainRecord",
                    &[("RecordId", extra.record_id.clone())],
                )
                .await?;
        }
        if same_ip(&keep.value, request.ip)
            && request.ttl.is_none_or(|t| keep.ttl == Some(u64::from(t)))
        {
            return Ok(UpdateOutcome::Unchanged {
                record_id: Some(keep.record_id),
            });
        }
        let mut params = vec![
            ("RecordId", keep.record_id.clone()),
            ("RR", keep.rr.clone()),
            ("Type", rtype.to_owned()),
            ("Value", value),
        ];
        params.extend(ttl);
        match self.call::<RecordId>("UpdateDomainRecord", &params).await {
            Ok(r) => Ok(UpdateOutcome::Updated {
                record_id: Some(r.record_id),
            }),
            Err(e) if e.message.contains("DomainRecordDuplicate") => Ok(UpdateOutcome::Unchanged {
                record_id: Some(keep.record_id),
            }),
            Err(e) => Err(e),
        }
    }

    async fn check(&self, name: &str, record_type: RecordType) -> Result<String, ProviderError> {
        let found: SubDomainRecords = self
            .call(
                "DescribeSubDomainRecords",
                &[
                    ("SubDomain", name.to_owned()),
                    ("Type", record_type.as_str().to_owned()),
                    ("PageSize", "100".to_owned()),
                ],
            )
            .await?;
        let full = |r: &Record| {
            if r.rr == "@" {
                r.domain_name.clone()
            } else {
                format!("{}.{}", r.rr, r.domain_name)
            }
        };
        let matching: Vec<&Record> = found
            .domain_records
            .record
            .iter()
            .filter(|r| full(r).eq_ignore_ascii_case(name) && r.record_type == record_type.as_str())
            .collect();
        let zone = match matching.first() {
            Some(r) => r.domain_name.clone(),
            None => {
                self.call::<MainDomain>("GetMainDomainName", &[("InputString", name.to_owned())])
                    .await?
                    .domain_name
            }
        };
        let values: Vec<String> = matching.iter().map(|r| r.value.clone()).collect();
        Ok(super::found(name, record_type, &values, &zone))
    }
}
