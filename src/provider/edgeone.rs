//! Tencent Cloud `EdgeOne` (边缘安全加速平台 EO) DNS records, API `teo` version 2022-09-01, signed with TC3
//! (`sign::tc3`, service `teo`, as `DNSPod`). The zone id (`zone-…`) comes from `DescribeZones` filtered by
//! `zone-name` for each suffix of the name (exact match; NS-mode `full` zones only, since only they have
//! `EdgeOne` DNS records). Records are listed with `DescribeDnsRecords` (filters `name` = FQDN and `type`, paged
//! by 1000, filtered again here), each on its line (`Location`, default `Default`); writes are
//! `CreateDnsRecord`, `ModifyDnsRecords` and `DeleteDnsRecords`. Errors arrive with HTTP 200 in
//! `Response.Error` and are classified by `Code`. "Test" lists every site of the account (`DescribeZones`
//! without filters, paged by `Offset`/`Limit` 100, at most 20 pages), whatever its connection mode.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::{
    Capabilities, Existing, KindConfig, KindInfo, Provider, ProviderError, Reconciler, RecordApi,
    TtlRule, Written, Zone, send, sign, suffixes,
};
use crate::config::check::FieldCheck;
use crate::config::{RecordType, Secret};
use crate::provider::ErrorClass;

const DEFAULT_ENDPOINT: &str = "https://teo.tencentcloudapi.com";
const CONTENT_TYPE: &str = "application/json; charset=utf-8";
const VERSION: &str = "2022-09-01";
const DEFAULT_LINE: &str = "Default";
const DEFAULT_TTL: u32 = 300;
/// `DescribeDnsRecords` allows 1000 per page, `DescribeZones` 100.
const PAGE_SIZE: u32 = 1000;
const ZONE_PAGE: u32 = 100;
const MAX_PAGES: u32 = 20;

pub const INFO: KindInfo = KindInfo::provider(
    "edgeone",
    "https://console.cloud.tencent.com/cam/capi",
    &[
        super::req("secret_id"),
        super::secret("secret_key"),
        super::LINE,
        super::ENDPOINT,
    ],
)
.example("secret_id = \"AKIDexample123\"\nsecret_key = \"tc-secret-value\"");

/// `kind = "edgeone"`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub secret_id: String,
    pub secret_key: Secret,
    /// The line (`Location`) to manage (`Default`, or a line code of the Standard/Enterprise plans).
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
struct Zones {
    #[serde(default)]
    total_count: Option<u32>,
    #[serde(default)]
    zones: Option<Vec<ZoneEntry>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ZoneEntry {
    zone_id: String,
    zone_name: String,
    #[serde(rename = "Type", default)]
    zone_type: String,
    #[serde(default)]
    status: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Records {
    #[serde(default)]
    total_count: Option<u32>,
    #[serde(default)]
    dns_records: Option<Vec<Record>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Record {
    record_id: String,
    name: String,
    #[serde(rename = "Type")]
    record_type: String,
    content: String,
    #[serde(default)]
    location: Option<String>,
    #[serde(rename = "TTL", default)]
    ttl: Option<u32>,
}

/// What an action answered: its `Response`, or a classified error with its code.
enum Reply {
    Ok(Value),
    Error { code: String, error: ProviderError },
}

fn classify(label: &str, code: &str, detail: &str) -> ProviderError {
    if code == "AuthFailure.SignatureExpire" {
        ProviderError::auth(format!("{label}: {detail} (check the system clock)"))
    } else if code == "UnauthorizedOperation.Unknown" {
        ProviderError::transient(format!("{label}: {detail}"))
    } else if code.starts_with("AuthFailure") || code.starts_with("UnauthorizedOperation") {
        ProviderError::auth(format!("{label}: access refused ({detail})"))
    } else if code.starts_with("RequestLimitExceeded") {
        ProviderError::new(
            ErrorClass::RateLimited { retry_after: None },
            format!("{label}: rate limited ({detail})"),
        )
    } else if code.starts_with("InvalidParameter")
        || code.starts_with("MissingParameter")
        || code.starts_with("ResourceNotFound")
        || code.starts_with("ResourceUnavailable")
        || code.starts_with("ResourceInUse")
        || code.starts_with("OperationDenied")
        || code.starts_with("LimitExceeded")
        || code.starts_with("UnsupportedOperation")
    {
        ProviderError::rejected(format!("{label}: {detail}"))
    } else {
        ProviderError::transient(format!("{label}: {detail}"))
    }
}

impl Api {
    fn label(&self) -> String {
        format!("edgeone `{}`", self.name)
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
            "teo",
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
            .header("X-TC-Version", VERSION)
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
        Ok(Reply::Error {
            error: classify(&label, &error.code, &detail),
            code: error.code,
        })
    }

    async fn ok(&self, action: &str, body: &Value) -> Result<Value, ProviderError> {
        match self.call(action, body).await? {
            Reply::Ok(v) => Ok(v),
            Reply::Error { error, .. } => Err(error),
        }
    }

    fn parse<T: serde::de::DeserializeOwned>(&self, v: Value) -> Result<T, ProviderError> {
        serde_json::from_value(v).map_err(|e| {
            ProviderError::transient(format!("{}: unexpected answer ({e})", self.label()))
        })
    }

    /// The zones named exactly `candidate` (the same name can exist more than once).
    async fn zones_named(&self, candidate: &str) -> Result<Vec<ZoneEntry>, ProviderError> {
        let mut out = Vec::new();
        for page in 0..MAX_PAGES {
            let found: Zones = self.parse(
                self.ok(
                    "DescribeZones",
                    &json!({
                        "Filters": [{ "Name": "zone-name", "Values": [candidate], "Fuzzy": false }],
                        "Offset": page * ZONE_PAGE, "Limit": ZONE_PAGE,
                    }),
                )
                .await?,
            )?;
            let zones = found.zones.unwrap_or_default();
            let count = zones.len();
            out.extend(
                zones
                    .into_iter()
                    .filter(|z| super::canonical(&z.zone_name) == candidate),
            );
            if count < ZONE_PAGE as usize
                || (page + 1) * ZONE_PAGE >= found.total_count.unwrap_or(0)
            {
                break;
            }
        }
        Ok(out)
    }
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
        for page in 0..MAX_PAGES {
            let found: Zones = self.parse(
                self.ok(
                    "DescribeZones",
                    &json!({ "Offset": page * ZONE_PAGE, "Limit": ZONE_PAGE }),
                )
                .await?,
            )?;
            let zones = found.zones.unwrap_or_default();
            let count = zones.len();
            out.extend(zones.into_iter().map(|z| z.zone_name));
            if count < ZONE_PAGE as usize
                || (page + 1) * ZONE_PAGE >= found.total_count.unwrap_or(0)
            {
                break;
            }
        }
        Ok(Some(out))
    }

    async fn zone(&self, name: &str) -> Result<Zone, ProviderError> {
        for candidate in suffixes(name) {
            let zones = self.zones_named(&candidate).await?;
            if zones.is_empty() {
                continue;
            }
            // Only NS-mode (`full`) zones have EdgeOne DNS records; an active one first.
            let mut full: Vec<&ZoneEntry> =
                zones.iter().filter(|z| z.zone_type == "full").collect();
            full.sort_by_key(|z| z.status != "active");
            return match full.first() {
                Some(z) => Ok(Zone {
                    id: z.zone_id.clone(),
                    name: candidate,
                }),
                None => Err(ProviderError::rejected(format!(
                    "{}: site {candidate} is connected as `{}`, not in NS mode (full); EdgeOne keeps DNS records only for NS-mode sites",
                    self.label(),
                    zones[0].zone_type
                ))),
            };
        }
        Err(ProviderError::rejected(format!(
            "{}: no EdgeOne site in this account holds {name}",
            self.label()
        )))
    }

    async fn list(
        &self,
        zone: &Zone,
        name: &str,
        record_type: RecordType,
    ) -> Result<Vec<Existing>, ProviderError> {
        let mut out = Vec::new();
        for page in 0..MAX_PAGES {
            let body = json!({
                "ZoneId": zone.id,
                "Filters": [
                    { "Name": "name", "Values": [name], "Fuzzy": false },
                    { "Name": "type", "Values": [record_type.as_str()] },
                ],
                "Offset": page * PAGE_SIZE, "Limit": PAGE_SIZE,
            });
            let found: Records = match self.call("DescribeDnsRecords", &body).await? {
                Reply::Ok(v) => self.parse(v)?,
                // No records at the name (the zone was just found).
                Reply::Error { code, .. } if code == "ResourceNotFound" => break,
                Reply::Error { error, .. } => return Err(error),
            };
            let records = found.dns_records.unwrap_or_default();
            let count = records.len();
            out.extend(
                records
                    .into_iter()
                    .filter(|r| {
                        super::canonical(&r.name) == name && r.record_type == record_type.as_str()
                    })
                    .map(|r| Existing {
                        id: r.record_id,
                        values: vec![r.content],
                        line: Some(r.location.unwrap_or_else(|| DEFAULT_LINE.to_owned())),
                        ttl: r.ttl,
                        stale: false,
                    }),
            );
            if count < PAGE_SIZE as usize
                || (page + 1) * PAGE_SIZE >= found.total_count.unwrap_or(0)
            {
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
        let mut body = json!({
            "ZoneId": zone.id, "Name": name, "Type": record_type.as_str(),
            "Content": first_value(values), "Location": line.unwrap_or(DEFAULT_LINE),
        });
        if let Some(ttl) = ttl {
            body["TTL"] = json!(ttl);
        }
        let created = self.ok("CreateDnsRecord", &body).await?;
        Ok(Written::new(
            created
                .get("RecordId")
                .and_then(Value::as_str)
                .map(str::to_owned),
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
        let body = json!({
            "ZoneId": zone.id,
            "DnsRecords": [{
                "RecordId": existing.id, "Name": name, "Type": record_type.as_str(),
                "Content": first_value(values),
                "Location": existing.line.as_deref().unwrap_or(DEFAULT_LINE),
                "TTL": ttl.or(existing.ttl).unwrap_or(DEFAULT_TTL),
            }],
        });
        self.ok("ModifyDnsRecords", &body).await?;
        Ok(Written::new(Some(existing.id.clone())))
    }

    async fn delete(
        &self,
        zone: &Zone,
        _name: &str,
        _record_type: RecordType,
        existing: &Existing,
    ) -> Result<(), ProviderError> {
        self.ok(
            "DeleteDnsRecords",
            &json!({ "ZoneId": zone.id, "RecordIds": [existing.id] }),
        )
        .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The shared TC3 signer (checked against Tencent's published vector in `sign.rs`) with `EdgeOne`'s service
    /// and the `DescribeDnsRecords` fixture of docs/providers/edgeone.md §2 (A: computed there independently).
    #[test]
    fn tc3_for_teo() {
        let body = r#"{"ZoneId":"zone-2noz78a8ev6k","Filters":[{"Name":"name","Values":["www.example.com"]},{"Name":"type","Values":["A"]}]}"#;
        assert_eq!(
            sign::sha256_hex(body.as_bytes()),
            "43b34a93ab01b05edf49c922411a333f49dbe529364dd9b4cf520f33f80b8366"
        );
        let auth = sign::tc3(
            "AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE",
            "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE",
            "teo",
            1_551_113_065,
            &[
                ("content-type", CONTENT_TYPE),
                ("host", "teo.tencentcloudapi.com"),
                ("x-tc-action", "describednsrecords"),
            ],
            body,
        );
        assert_eq!(
            auth,
            "TC3-HMAC-SHA256 Credential=AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE/2019-02-25/teo/tc3_request, SignedHeaders=content-type;host;x-tc-action, Signature=1e54045350b8c6e4cf9b4fe440ce9fb0ca2dff450f27c6899f8ea9e6fa77a46a"
        );
    }

    #[test]
    fn codes() {
        let c = |code| classify("e", code, "d").class;
        assert_eq!(c("AuthFailure.SignatureFailure"), ErrorClass::Auth);
        assert_eq!(c("UnauthorizedOperation.CamUnauthorized"), ErrorClass::Auth);
        assert_eq!(c("UnauthorizedOperation.Unknown"), ErrorClass::Transient);
        assert_eq!(
            c("RequestLimitExceeded"),
            ErrorClass::RateLimited { retry_after: None }
        );
        assert_eq!(
            c("InvalidParameterValue.ConflictRecord"),
            ErrorClass::Rejected
        );
        assert_eq!(c("ResourceInUse.DnsRecord"), ErrorClass::Rejected);
        assert_eq!(c("InternalError.ProxyServer"), ErrorClass::Transient);
    }
}
