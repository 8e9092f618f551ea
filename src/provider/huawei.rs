//! Huawei Cloud DNS with AK/SK signing (SDK-HMAC-SHA256): zone by name (`/v2/zones`), record sets listed with
//! `search_mode=equal`, then create (POST) or update (PUT) the set.

use std::collections::BTreeMap;
use std::time::SystemTime;

use async_trait::async_trait;
use serde::Deserialize;
use serde_json::json;

use super::{Provider, ProviderError, UpdateOutcome, UpdateRequest, send, sign, suffixes};
use crate::config::providers::HuaweiFile;
use crate::config::{RecordType, Secret};
use crate::provider::ErrorClass;

const DEFAULT_ENDPOINT: &str = "https://dns.myhuaweicloud.com";
const DEFAULT_TTL: u32 = 300;

pub struct Huawei {
    name: String,
    client: reqwest::Client,
    base: String,
    host: String,
    ak: String,
    sk: Secret,
}

#[derive(Deserialize)]
struct Zones {
    #[serde(default)]
    zones: Vec<Zone>,
}

#[derive(Deserialize)]
struct Zone {
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
    ttl: Option<u64>,
}

#[derive(Deserialize)]
struct ApiError {
    #[serde(alias = "error_code")]
    code: Option<String>,
    #[serde(alias = "error_msg")]
    message: Option<String>,
}

impl Huawei {
    pub fn new(name: String, cfg: &HuaweiFile) -> Self {
        let base = super::base_url(cfg.endpoint.as_deref(), DEFAULT_ENDPOINT);
        let host = super::host_of(&base);
        Self {
            name,
            client: crate::http::api_client(),
            base,
            host,
            ak: cfg.access_key_id.clone(),
            sk: cfg.secret_access_key.clone(),
        }
    }

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

    async fn zone_id(&self, name: &str) -> Result<String, ProviderError> {
        for candidate in suffixes(name) {
            let fqdn = format!("{candidate}.");
            let zones: Zones = self
                .call(
                    reqwest::Method::GET,
                    "/v2/zones",
                    &[("type", "public"), ("name", &candidate)],
                    None,
                )
                .await?;
            if let Some(z) = zones
                .zones
                .into_iter()
                .find(|z| z.name.eq_ignore_ascii_case(&fqdn))
            {
                return Ok(z.id);
            }
        }
        Err(ProviderError::rejected(format!(
            "{}: no public zone holds {name}",
            self.label()
        )))
    }
}

#[async_trait]
impl Provider for Huawei {
    #[tracing::instrument(skip_all, fields(provider = %self.name, record = %request.name))]
    async fn update(&self, request: &UpdateRequest<'_>) -> Result<UpdateOutcome, ProviderError> {
        let zone = self.zone_id(request.name).await?;
        let rtype = request.record_type.as_str();
        let fqdn = format!("{}.", request.name);
        let path = format!("/v2.1/zones/{zone}/recordsets");
        let sets: RecordSets = self
            .call(
                reqwest::Method::GET,
                &path,
                &[("name", &fqdn), ("type", rtype), ("search_mode", "equal")],
                None,
            )
            .await?;
        let mut matching: Vec<RecordSet> = sets
            .recordsets
            .into_iter()
            .filter(|r| r.name.eq_ignore_ascii_case(&fqdn) && r.record_type == rtype)
            .collect();
        let ip = request.ip.to_string();
        let ttl = request.ttl.unwrap_or(DEFAULT_TTL);
        let body = json!({ "name": fqdn, "type": rtype, "records": [ip], "ttl": ttl });
        if matching.is_empty() {
            let created: RecordSet = self
                .call(reqwest::Method::POST, &path, &[], Some(&body))
                .await?;
            return Ok(UpdateOutcome::Updated {
                record_id: Some(created.id),
            });
        }
        let keep = super::take_kept(&mut matching, request.record_id, |r| r.id.clone());
        for extra in &matching {
            tracing::warn!(record = %request.name, id = %extra.id, "deleting a duplicate {rtype} record set");
            let _: serde_json::Value = self
                .call(
                    reqwest::Method::DELETE,
                    &format!("{path}/{}", extra.id),
                    &[],
                    None,
                )
                .await?;
        }
        if keep.records == [ip.clone()]
            && request.ttl.is_none_or(|t| keep.ttl == Some(u64::from(t)))
        {
            return Ok(UpdateOutcome::Unchanged {
                record_id: Some(keep.id),
            });
        }
        let updated: RecordSet = self
            .call(
                reqwest::Method::PUT,
                &format!("{path}/{}", keep.id),
                &[],
                Some(&body),
            )
            .await?;
        Ok(UpdateOutcome::Updated {
            record_id: Some(updated.id),
        })
    }

    async fn check(&self, name: &str, record_type: RecordType) -> Result<String, ProviderError> {
        let zone = self.zone_id(name).await?;
        let fqdn = format!("{name}.");
        let path = format!("/v2.1/zones/{zone}/recordsets");
        let sets: RecordSets = self
            .call(
                reqwest::Method::GET,
                &path,
                &[
                    ("name", &fqdn),
                    ("type", record_type.as_str()),
                    ("search_mode", "equal"),
                ],
                None,
            )
            .await?;
        let values: Vec<String> = sets
            .recordsets
            .into_iter()
            .filter(|r| r.name.eq_ignore_ascii_case(&fqdn) && r.record_type == record_type.as_str())
            .flat_map(|r| r.records)
            .collect();
        Ok(super::found(
            name,
            record_type,
            &values,
            &format!("id {zone}"),
        ))
    }
}
