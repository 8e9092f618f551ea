//! `GoDaddy` Domains API: read `GET /v1/domains/{domain}/records/{type}/{name}`, and when it differs replace
//! the set with `PUT` (an array body). 403 `ACCESS_DENIED` means `GoDaddy` does not let this account use the
//! API (it requires 10+ domains or a Domain Pro plan): a clear, non-retried error.

use std::net::IpAddr;

use async_trait::async_trait;
use serde::Deserialize;
use serde_json::json;

use super::{
    Provider, ProviderError, UpdateOutcome, UpdateRequest, last_two_labels, relative, segment, send,
};
use crate::config::providers::GodaddyFile;
use crate::config::{RecordType, Secret};

const DEFAULT_ENDPOINT: &str = "https://api.godaddy.com";
const DEFAULT_TTL: u32 = 600;

pub struct Godaddy {
    name: String,
    client: reqwest::Client,
    base: String,
    key: Secret,
    secret: Secret,
    domain: Option<String>,
}

#[derive(Deserialize)]
struct Record {
    data: String,
    #[serde(default)]
    ttl: Option<u64>,
}

#[derive(Deserialize)]
struct ApiError {
    code: String,
    #[serde(default)]
    message: String,
}

impl Godaddy {
    pub fn new(name: String, cfg: &GodaddyFile) -> Self {
        Self {
            name,
            client: crate::http::api_client(),
            base: super::base_url(cfg.endpoint.as_deref(), DEFAULT_ENDPOINT),
            key: cfg.api_key.clone(),
            secret: cfg.api_secret.clone(),
            domain: cfg.domain.clone(),
        }
    }

    fn label(&self) -> String {
        format!("godaddy `{}`", self.name)
    }

    async fn call(&self, request: reqwest::RequestBuilder) -> Result<super::Answer, ProviderError> {
        let label = self.label();
        let auth = format!("sso-key {}:{}", self.key.expose(), self.secret.expose());
        let answer = send(
            &label,
            request.header("Authorization", auth),
            &[self.key.expose(), self.secret.expose()],
        )
        .await?;
        if answer.status.is_success() {
            return Ok(answer);
        }
        let err: Option<ApiError> = serde_json::from_str(&answer.body).ok();
        let detail = err
            .as_ref()
            .map(|e| format!("{}: {}", e.code, answer.redact(&e.message)));
        Err(match err.as_ref().map(|e| e.code.as_str()) {
            Some("ACCESS_DENIED") => ProviderError::auth(format!(
                "{label}: GoDaddy does not allow this account to use the DNS API (ACCESS_DENIED; it needs 10+ domains or a Domain Pro plan)"
            )),
            _ => answer.status_error(&label, detail.as_deref()),
        })
    }
}

#[async_trait]
impl Provider for Godaddy {
    #[tracing::instrument(skip_all, fields(provider = %self.name, record = %request.name))]
    async fn update(&self, request: &UpdateRequest<'_>) -> Result<UpdateOutcome, ProviderError> {
        let label = self.label();
        let domain = self
            .domain
            .clone()
            .unwrap_or_else(|| last_two_labels(request.name));
        let rel = relative(request.name, &domain);
        let url = format!(
            "{}/v1/domains/{domain}/records/{}/{}",
            self.base,
            request.record_type,
            segment(&rel)
        );
        let current: Vec<Record> = self.call(self.client.get(&url)).await?.json(&label)?;
        let only_ip =
            current.len() == 1 && current[0].data.parse::<IpAddr>().ok() == Some(request.ip);
        if only_ip
            && request
                .ttl
                .is_none_or(|t| current[0].ttl == Some(u64::from(t)))
        {
            return Ok(UpdateOutcome::Unchanged { record_id: None });
        }
        let body =
            json!([{ "data": request.ip.to_string(), "ttl": request.ttl.unwrap_or(DEFAULT_TTL) }]);
        self.call(self.client.put(&url).json(&body)).await?;
        Ok(UpdateOutcome::Updated { record_id: None })
    }

    async fn check(&self, name: &str, record_type: RecordType) -> Result<String, ProviderError> {
        let label = self.label();
        let domain = self.domain.clone().unwrap_or_else(|| last_two_labels(name));
        let url = format!(
            "{}/v1/domains/{domain}/records/{record_type}/{}",
            self.base,
            segment(&relative(name, &domain))
        );
        let current: Vec<Record> = self.call(self.client.get(&url)).await?.json(&label)?;
        let values: Vec<String> = current.into_iter().map(|r| r.data).collect();
        Ok(super::found(name, record_type, &values, &domain))
    }
}
