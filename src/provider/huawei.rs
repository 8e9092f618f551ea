//! Huawei Cloud DNS with AK/SK signing (SDK-HMAC-SHA256). The zone is the longest public zone holding the
//! name (`/v2/zones?name=`, each suffix asked once per round); record sets are listed with
//! `search_mode=equal`, each on its resolution line (`default_view`, `Dianxin`, `Liantong`, …). A set is
//! created with `POST` on the managed line, replaced with `PUT`, deleted with `DELETE`. "Test" lists the
//! account's public zones (`GET /v2/zones?type=public`, paged by `offset`/`limit`, at most 20 pages of 500).

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{
    Capabilities, Existing, KindConfig, KindInfo, Provider, ProviderError, Reconciler, RecordApi,
    Written, Zone, send, sign, suffixes,
};
use crate::config::check::FieldCheck;
use crate::config::{RecordType, Secret};
use crate::provider::ErrorClass;

const DEFAULT_ENDPOINT: &str = "https://dns.myhuaweicloud.com";
const DEFAULT_TTL: u32 = 300;
const DEFAULT_LINE: &str = "default_view";
/// Zones asked for per page (the documented most).
const ZONE_PAGE: usize = 500;
/// Pages of zones read at most.
const MAX_PAGES: usize = 20;

pub const INFO: KindInfo = KindInfo::provider(
    "huaweicloud",
    "https://console.huaweicloud.com/iam/#/mine/accessKey",
    &[
        super::req("access_key_id"),
        super::secret("secret_access_key"),
        super::LINE,
        super::ENDPOINT,
    ],
)
.example("access_key_id = \"QTWAOYTTINDUT2QVKYUC\"\nsecret_access_key = \"hw-secret-value\"");

/// `kind = "huaweicloud"`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub access_key_id: String,
    pub secret_access_key: Secret,
    /// The line to manage (`default_view`, `Dianxin`, `Liantong`, `Yidong`, `Abroad`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
}

const CAPABILITIES: Capabilities = Capabilities {
    default_line: Some(DEFAULT_LINE),
    ..Capabilities::SETS
};

impl KindConfig for Config {
    fn endpoint(&self) -> Option<&str> {
        self.endpoint.as_deref()
    }

    fn secrets_mut(&mut self) -> Vec<(String, &mut Secret)> {
        vec![("secret_access_key".into(), &mut self.secret_access_key)]
    }

    fn validate(&self, check: &mut FieldCheck<'_>) {
        check.key_id("access_key_id", &self.access_key_id, "access key ID (AK)");
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
                zones: Mutex::new(HashMap::new()),
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
    ak: String,
    sk: Secret,
    /// Suffix -> its zone id (or none), learnt this round.
    zones: Mutex<HashMap<String, Option<String>>>,
}

#[derive(Deserialize)]
struct Zones {
    #[serde(default)]
    zones: Vec<ZoneEntry>,
    #[serde(default)]
    metadata: Option<Metadata>,
}

#[derive(Deserialize)]
struct Metadata {
    #[serde(default)]
    total_count: Option<u64>,
}

#[derive(Deserialize)]
struct ZoneEntry {
    id: String,
    name: String,
}

#[derive(Deserialize)]
struct RecordSets {
    #[serde(default)]
    recordsets: Vec<RecordSet>,
}

#[derive(Deserialize)]
struct RecordSet {
    id: String,
    name: String,
    #[serde(rename = "type")]
    record_type: String,
    #[serde(default)]
    records: Vec<String>,
    #[serde(default)]
    ttl: Option<u32>,
    #[serde(default)]
    line: Option<String>,
}

#[derive(Deserialize)]
struct ApiError {
    #[serde(alias = "error_code")]
    code: Option<String>,
    #[serde(alias = "error_msg")]
    message: Option<String>,
}

impl Api {
    fn label(&self) -> String {
        format!("huaweicloud `{}`", self.name)
    }

    async fn call<T: serde::de::DeserializeOwned>(
        &self,
        method: reqwest::Method,
        path: &str,
        query: &[(&str, &str)],
        body: Option<&serde_json::Value>,
    ) -> Result<T, ProviderError> {
        let label = self.label();
        let query: BTreeMap<String, String> = query
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        let body = body.map(ToString::to_string).unwrap_or_default();
        let date = humantime::format_rfc3339_seconds(SystemTime::now())
            .to_string()
            .replace(['-', ':'], "");
        let authorization = sign::huawei(
            &self.ak,
            self.sk.expose(),
            method.as_str(),
            path,
            &query,
            &[
                ("content-type", "application/json"),
                ("host", &self.host),
                ("x-sdk-date", &date),
            ],
            &body,
        );
        let qs = sign::canonical_query(&query);
        let url = if qs.is_empty() {
            format!("{}{path}", self.base)
        } else {
            format!("{}{path}?{qs}", self.base)
        };
        let mut request = self
            .client
            .request(method, url)
            .header("Content-Type", "application/json")
            .header("X-Sdk-Date", &date)
            .header("Authorization", authorization);
        if !body.is_empty() {
            request = request.body(body);
        }
        let answer = send(&label, request, &[self.sk.expose()]).await?;
        if answer.status.is_success() {
            if answer.body.trim().is_empty() {
                return serde_json::from_value(serde_json::Value::Null)
                    .or_else(|_| answer.json(&label));
            }
            return answer.json(&label);
        }
        let err = serde_json::from_str::<ApiError>(&answer.body).ok();
        let code = err
            .as_ref()
            .and_then(|e| e.code.clone())
            .unwrap_or_default();
        let detail = err.map_or_else(
            || answer.snippet(),
            |e| {
                format!(
                    "{code}: {}",
                    answer.redact(e.message.as_deref().unwrap_or(""))
                )
            },
        );
        Err(match code.as_str() {
            "DNS.0014" => ProviderError::new(
                ErrorClass::RateLimited {
                    retry_after: answer.retry_after.map(|d| d.as_secs()),
                },
                format!("{label}: flow control ({detail})"),
            ),
            "APIGW.0301" | "APIGW.0101" | "DNS.0005" | "DNS.0013" => {
                ProviderError::auth(format!("{label}: access refused ({detail})"))
            }
            _ => answer.status_error(&label, Some(&detail)),
        })
    }

    /// The public zone named exactly `candidate`, if the account has one.
    async fn zone_named(&self, candidate: &str) -> Result<Option<String>, ProviderError> {
        if let Some(known) = self
            .zones
            .lock()
            .ok()
            .and_then(|z| z.get(candidate).cloned())
        {
            return Ok(known);
        }
        let fqdn = format!("{candidate}.");
        let zones: Zones = self
            .call(
                reqwest::Method::GET,
                "/v2/zones",
                &[("type", "public"), ("name", candidate)],
                None,
            )
            .await?;
        let id = zones
            .zones
            .into_iter()
            .find(|z| z.name.eq_ignore_ascii_case(&fqdn))
            .map(|z| z.id);
        if let Ok(mut known) = self.zones.lock() {
            known.insert(candidate.to_owned(), id.clone());
        }
        Ok(id)
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
        let mut out = Vec::new();
        for page in 0..MAX_PAGES {
            let (offset, limit) = ((page * ZONE_PAGE).to_string(), ZONE_PAGE.to_string());
            let zones: Zones = self
                .call(
                    reqwest::Method::GET,
                    "/v2/zones",
                    &[("type", "public"), ("offset", &offset), ("limit", &limit)],
                    None,
                )
                .await?;
            let total = zones.metadata.and_then(|m| m.total_count).unwrap_or(0);
            let n = zones.zones.len();
            out.extend(zones.zones.into_iter().map(|z| z.name));
            if n < ZONE_PAGE || out.len() as u64 >= total {
                break;
            }
        }
        Ok(Some(out))
    }

    async fn zone(&self, name: &str) -> Result<Zone, ProviderError> {
        for candidate in suffixes(name) {
            if let Some(id) = self.zone_named(&candidate).await? {
                return Ok(Zone {
                    id,
                    name: candidate,
                });
            }
        }
        Err(ProviderError::rejected(format!(
            "{}: no public zone holds {name}",
            self.label()
        )))
    }

    async fn list(
        &self,
        zone: &Zone,
        name: &str,
        record_type: RecordType,
    ) -> Result<Vec<Existing>, ProviderError> {
        let fqdn = format!("{name}.");
        let sets: RecordSets = self
            .call(
                reqwest::Method::GET,
                &format!("/v2.1/zones/{}/recordsets", zone.id),
                &[
                    ("name", &fqdn),
                    ("type", record_type.as_str()),
                    ("search_mode", "equal"),
                    ("limit", "500"),
                ],
                None,
            )
            .await?;
        Ok(sets
            .recordsets
            .into_iter()
            .filter(|r| r.name.eq_ignore_ascii_case(&fqdn) && r.record_type == record_type.as_str())
            .map(|r| Existing {
                id: r.id,
                values: r.records,
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
        let records: Vec<String> = values.iter().map(ToString::to_string).collect();
        let mut body = json!({
            "name": format!("{name}."), "type": record_type.as_str(), "records": records,
            "ttl": ttl.unwrap_or(DEFAULT_TTL),
        });
        if let Some(line) = line.filter(|l| *l != DEFAULT_LINE) {
            body["line"] = json!(line);
        }
        let created: RecordSet = self
            .call(
                reqwest::Method::POST,
                &format!("/v2.1/zones/{}/recordsets", zone.id),
                &[],
                Some(&body),
            )
            .await?;
        Ok(Written::new(Some(created.id)))
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
        let records: Vec<String> = values.iter().map(ToString::to_string).collect();
        let body = json!({
            "name": format!("{name}."), "type": record_type.as_str(), "records": records,
            "ttl": ttl.or(existing.ttl).unwrap_or(DEFAULT_TTL),
        });
        let updated: RecordSet = self
            .call(
                reqwest::Method::PUT,
                &format!("/v2.1/zones/{}/recordsets/{}", zone.id, existing.id),
                &[],
                Some(&body),
            )
            .await?;
        Ok(Written::new(Some(updated.id)))
    }

    async fn delete(
        &self,
        zone: &Zone,
        _name: &str,
        _record_type: RecordType,
        existing: &Existing,
    ) -> Result<(), ProviderError> {
        let _: serde_json::Value = self
            .call(
                reqwest::Method::DELETE,
                &format!("/v2.1/zones/{}/recordsets/{}", zone.id, existing.id),
                &[],
                None,
            )
            .await?;
        Ok(())
    }

    fn begin_round(&self) {
        if let Ok(mut z) = self.zones.lock() {
            z.clear();
        }
    }
}
