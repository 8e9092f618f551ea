//! Porkbun API v3: retrieve by name and type, then create or edit by id (duplicates deleted). Credentials go
//! in the JSON body of every POST. Failures come as `{"status":"ERROR","message":...}`.

use std::net::IpAddr;

use async_trait::async_trait;
use serde::Deserialize;
use serde_json::{Value, json};

use super::{
    Provider, ProviderError, UpdateOutcome, UpdateRequest, last_two_labels, relative, segment, send,
};
use crate::config::providers::PorkbunFile;
use crate::config::{RecordType, Secret};

const DEFAULT_ENDPOINT: &str = "https://api.porkbun.com/api/json/v3";
const DEFAULT_TTL: u32 = 600;

pub struct Porkbun {
    name: String,
    client: reqwest::Client,
    base: String,
    api_key: Secret,
    secret_api_key: Secret,
    domain: Option<String>,
}

#[derive(Deserialize)]
struct Status {
    status: String,
    #[serde(default)]
    message: Option<String>,
}

#[derive(Deserialize)]
struct Records {
    #[serde(default)]
    records: Vec<Record>,
}

#[derive(Deserialize)]
struct Record {
    id: Value,
    name: String,
    #[serde(rename = "type")]
    record_type: String,
    content: String,
    #[serde(default)]
    ttl: Option<Value>,
}

fn id_string(v: &Value) -> String {
    v.as_str().map_or_else(|| v.to_string(), str::to_owned)
}

impl Porkbun {
    pub fn new(name: String, cfg: &PorkbunFile) -> Self {
        Self {
            name,
            client: crate::http::api_client(),
            base: super::base_url(cfg.endpoint.as_deref(), DEFAULT_ENDPOINT),
            api_key: cfg.api_key.clone(),
            secret_api_key: cfg.secret_api_key.clone(),
            domain: cfg.domain.clone(),
        }
    }

    fn label(&self) -> String {
        format!("porkbun `{}`", self.name)
    }

    async fn post<T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
        mut body: Value,
    ) -> Result<T, ProviderError> {
        let label = self.label();
        body["apikey"] = json!(self.api_key.expose());
        body["secretapikey"] = json!(self.secret_api_key.expose());
        let answer = send(
            &label,
            self.client.post(format!("{}{path}", self.base)).json(&body),
            &[self.api_key.expose(), self.secret_api_key.expose()],
        )
        .await?;
        let status: Option<Status> = serde_json::from_str(&answer.body).ok();
        let message = status
            .as_ref()
            .and_then(|s| s.message.clone())
            .map(|m| answer.redact(&m));
        if answer.status.is_success() && status.as_ref().is_some_and(|s| s.status == "SUCCESS") {
            return answer.json(&label);
        }
        if answer.status.is_success() && status.is_none() {
            return Err(ProviderError::transient(format!(
                "{label}: unexpected answer `{}`",
                answer.snippet()
            )));
        }
        let message = message.unwrap_or_default();
        let lower = message.to_ascii_lowercase();
        let credentials = ["api key", "api access", "opted in", "authentication"]
            .iter()
            .any(|w| lower.contains(w));
        Err(if credentials || answer.status.as_u16() == 403 {
            ProviderError::auth(format!(
                "{label}: access refused: {message} (check the keys and that API ACCESS is on for the domain)"
            ))
        } else if answer.status.is_success() || answer.status.as_u16() == 400 {
            ProviderError::rejected(format!("{label}: {message}"))
        } else {
            answer.status_error(&label, Some(&message))
        })
    }
}

#[async_trait]
impl Provider for Porkbun {
    #[tracing::instrument(skip_all, fields(provider = %self.name, record = %request.name))]
    async fn update(&self, request: &UpdateRequest<'_>) -> Result<UpdateOutcome, ProviderError> {
        let domain = self
            .domain
            .clone()
            .unwrap_or_else(|| last_two_labels(request.name));
        let rel = relative(request.name, &domain);
        let sub = if rel == "@" { String::new() } else { rel };
        let rtype = request.record_type.as_str();
        let found: Records = self
            .post(
                &format!("/dns/retrieveByNameType/{domain}/{rtype}/{}", segment(&sub)),
                json!({}),
            )
            .await?;
        let mut matching: Vec<Record> = found
            .records
            .into_iter()
            .filter(|r| r.name.eq_ignore_ascii_case(request.name) && r.record_type == rtype)
            .collect();
        let ttl = request.ttl.unwrap_or(DEFAULT_TTL).to_string();
        let body =
            json!({ "name": sub, "type": rtype, "content": request.ip.to_string(), "ttl": ttl });
        if matching.is_empty() {
            let created: Value = self.post(&format!("/dns/create/{domain}"), body).await?;
            return Ok(UpdateOutcome::Updated {
                record_id: created.get("id").map(id_string),
            });
        }
        let keep = super::take_kept(&mut matching, request.record_id, |r| id_string(&r.id));
        let keep_id = id_string(&keep.id);
        for extra in &matching {
            tracing::warn!(record = %request.name, id = %id_string(&extra.id), "deleting a duplicate {rtype} record");
            let _: Value = self
                .post(
                    &format!("/dns/delete/{domain}/{}", id_string(&extra.id)),
                    json!({}),
                )
                .await?;
        }
        let same_ttl = request
            .ttl
            .is_none_or(|t| keep.ttl.as_ref().map(id_string) == Some(t.to_string()));
        if keep.content.parse::<IpAddr>().ok() == Some(request.ip) && same_ttl {
            return Ok(UpdateOutcome::Unchanged {
                record_id: Some(keep_id),
            });
        }
        let _: Value = self
            .post(&format!("/dns/edit/{domain}/{keep_id}"), body)
            .await?;
        Ok(UpdateOutcome::Updated {
            record_id: Some(keep_id),
        })
    }

    async fn check(&self, name: &str, record_type: RecordType) -> Result<String, ProviderError> {
        let domain = self.domain.clone().unwrap_or_else(|| last_two_labels(name));
        let rel = relative(name, &domain);
        let sub = if rel == "@" { String::new() } else { rel };
        let found: Records = self
            .post(
                &format!(
                    "/dns/retrieveByNameType/{domain}/{record_type}/{}",
                    segment(&sub)
                ),
                json!({}),
            )
            .await?;
        let values: Vec<String> = found
            .records
            .into_iter()
            .filter(|r| r.name.eq_ignore_ascii_case(name) && r.record_type == record_type.as_str())
            .map(|r| r.content)
            .collect();
        Ok(super::found(name, record_type, &values, &domain))
    }
}
