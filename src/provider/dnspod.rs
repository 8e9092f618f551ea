//! Tencent Cloud `DNSPod` (API 3.0, TC3-HMAC-SHA256). Errors arrive with HTTP 200 in `Response.Error`;
//! `ResourceNotFound.NoDataOfRecord` means "no record yet: create". The zone is the longest suffix of the
//! record name the account has.

use std::net::IpAddr;
use std::time::{SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use serde::Deserialize;
use serde_json::{Value, json};

use super::{
    Provider, ProviderError, UpdateOutcome, UpdateRequest, relative, send, sign, suffixes,
};
use crate::config::providers::DnspodFile;
use crate::config::{RecordType, Secret};
use crate::provider::ErrorClass;

const DEFAULT_ENDPOINT: &str = "https://dnspod.tencentcloudapi.com";
const CONTENT_TYPE: &str = "application/json; charset=utf-8";
const DEFAULT_LINE: &str = "默认";

pub struct Dnspod {
    name: String,
    client: reqwest::Client,
    base: String,
    host: String,
    secret_id: String,
    secret_key: Secret,
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

#[derive(Deserialize)]
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
    ttl: Option<u64>,
}

/// What an action answered: its `Response` object, or a classified error with the code.
enum Reply {
    Ok(Value),
    Error { code: String, error: ProviderError },
}

impl Dnspod {
    pub fn new(name: String, cfg: &DnspodFile) -> Self {
        let base = super::base_url(cfg.endpoint.as_deref(), DEFAULT_ENDPOINT);
        let host = super::host_of(&base);
        Self {
            name,
            client: crate::http::api_client(),
            base,
            host,
            secret_id: cfg.secret_id.clone(),
            secret_key: cfg.secret_key.clone(),
        }
    }

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

    /// The zone holding `name` and the records of that name and type (possibly none).
    async fn find(&self, name: &str, rtype: &str) -> Result<(String, Vec<Record>), ProviderError> {
        for zone in suffixes(name) {
            let sub = relative(name, &zone);
            let body =
                json!({ "Domain": zone, "Subdomain": sub, "RecordType": rtype, "Limit": 3000 });
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
                    return Ok((
                        zone,
                        list.into_iter()
                            .filter(|r| r.name.eq_ignore_ascii_case(&sub) && r.record_type == rtype)
                            .collect(),
                    ));
                }
                Reply::Error { code, .. } if code == "ResourceNotFound.NoDataOfRecord" => {
                    return Ok((zone, Vec::new()));
                }
                Reply::Error { code, .. }
                    if code == "InvalidParameterValue.DomainNotExists"
                        || code == "ResourceNotFound.NoDataOfDomain" => {}
                Reply::Error { error, .. } => return Err(error),
            }
        }
        Err(ProviderError::rejected(format!(
            "{}: no domain in this account holds {name}",
            self.label()
        )))
    }
}

fn ok(reply: Reply) -> Result<Value, ProviderError> {
    match reply {
        Reply::Ok(v) => Ok(v),
        Reply::Error { error, .. } => Err(error),
    }
}

#[async_trait]
impl Provider for Dnspod {
    #[tracing::instrument(skip_all, fields(provider = %self.name, record = %request.name))]
    async fn update(&self, request: &UpdateRequest<'_>) -> Result<UpdateOutcome, ProviderError> {
        let rtype = request.record_type.as_str();
        let (zone, mut matching) = self.find(request.name, rtype).await?;
        let sub = relative(request.name, &zone);
        let value = request.ip.to_string();
        if matching.is_empty() {
            let mut body = json!({ "Domain": zone, "SubDomain": sub, "RecordType": rtype, "RecordLine": DEFAULT_LINE, "Value": value });
            if let Some(ttl) = request.ttl {
                body["TTL"] = json!(ttl);
            }
            return match self.call("CreateRecord", &body).await? {
                Reply::Ok(r) => Ok(UpdateOutcome::Updated {
                    record_id: r.get("RecordId").map(std::string::ToString::to_string),
                }),
                Reply::Error { code, .. } if code == "InvalidParameter.DomainRecordExist" => {
                    Ok(UpdateOutcome::Unchanged { record_id: None })
                }
                Reply::Error { error, .. } => Err(error),
            };
        }
        let keep = super::take_kept(&mut matching, request.record_id, |r| {
            r.record_id.to_string()
        });
        for extra in &matching {
            tracing::warn!(record = %request.name, id = extra.record_id, "deleting a duplicate {rtype} record");
            ok(self
                .call(
                    "DeleteRecord",
                    &json!({ "Domain": zone, "RecordId": extra.record_id }),
                )
                .await?)?;
        }
        let unchanged = keep.value.parse::<IpAddr>().is_ok_and(|v| v == request.ip)
            && request.ttl.is_none_or(|t| keep.ttl == Some(u64::from(t)));
        if unchanged {
            return Ok(UpdateOutcome::Unchanged {
                record_id: Some(keep.record_id.to_string()),
            });
        }
        let mut body = json!({
            "Domain": zone, "RecordId": keep.record_id, "SubDomain": sub, "RecordType": rtype,
            "RecordLine": keep.line.as_deref().unwrap_or(DEFAULT_LINE), "Value": value,
        });
        if let Some(ttl) = request.ttl {
            body["TTL"] = json!(ttl);
        }
        ok(self.call("ModifyRecord", &body).await?)?;
        Ok(UpdateOutcome::Updated {
            record_id: Some(keep.record_id.to_string()),
        })
    }

    async fn check(&self, name: &str, record_type: RecordType) -> Result<String, ProviderError> {
        let (zone, matching) = self.find(name, record_type.as_str()).await?;
        let values: Vec<String> = matching.into_iter().map(|r| r.value).collect();
        Ok(super::found(name, record_type, &values, &zone))
    }
}
