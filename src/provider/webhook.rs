//! `webhook`: a user-defined HTTP request. `{ip}`, `{name}` and `{type}` are filled in the URL, header values
//! and body. Success is a 2xx status and, when `success_regex` is set, a body matching it.

use async_trait::async_trait;

use super::error::redact;
use super::{Provider, ProviderError, UpdateOutcome, UpdateRequest};
use crate::config::RecordType;
use crate::config::Secret;
use crate::config::providers::WebhookFile;

const MAX_BODY: usize = 64 * 1024;

pub struct Webhook {
    name: String,
    client: reqwest::Client,
    url: String,
    method: reqwest::Method,
    headers: Vec<(String, Secret)>,
    body: Option<String>,
    success: Option<regex_lite::Regex>,
}

impl Webhook {
    pub fn new(name: String, cfg: &WebhookFile) -> Self {
        let method = cfg.method.as_deref().map_or(
            if cfg.body.is_some() {
                reqwest::Method::POST
            } else {
                reqwest::Method::GET
            },
            |m| {
                reqwest::Method::from_bytes(m.to_ascii_uppercase().as_bytes())
                    .unwrap_or(reqwest::Method::GET)
            },
        );
        Self {
            name,
            client: crate::http::api_client(),
            url: cfg.url.clone(),
            method,
            headers: cfg
                .headers
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            body: cfg.body.clone(),
            success: cfg
                .success_regex
                .as_deref()
                .and_then(|r| regex_lite::Regex::new(r).ok()),
        }
    }

    fn label(&self) -> String {
        format!(
            "webhook `{}` ({})",
            self.name,
            crate::http::origin(&self.url)
        )
    }

    /// Every secret this provider holds, for redacting what the server sends back.
    fn secrets(&self) -> Vec<&str> {
        self.headers.iter().map(|(_, v)| v.expose()).collect()
    }
}

/// Fills `{ip}`, `{name}` and `{type}`.
#[must_use]
pub fn fill(template: &str, request: &UpdateRequest<'_>) -> String {
    template
        .replace("{ip}", &request.ip.to_string())
        .replace("{name}", request.name)
        .replace("{type}", request.record_type.as_str())
}

#[async_trait]
impl Provider for Webhook {
    #[tracing::instrument(skip_all, fields(provider = %self.name, record = %request.name))]
    async fn update(&self, request: &UpdateRequest<'_>) -> Result<UpdateOutcome, ProviderError> {
        let label = self.label();
        let mut builder = self
            .client
            .request(self.method.clone(), fill(&self.url, request));
        for (name, value) in &self.headers {
            builder = builder.header(name.as_str(), fill(value.expose(), request));
        }
        if let Some(body) = &self.body {
            builder = builder.body(fill(body, request));
        }
        let response = builder
            .send()
            .await
            .map_err(|e| ProviderError::from_reqwest(&label, &e))?;
        let status = response.status();
        let retry = crate::http::retry_after(response.headers(), std::time::SystemTime::now());
        let body = crate::http::read_body(response, MAX_BODY)
            .await
            .map_err(|e| ProviderError::transient(format!("{label}: {e}")))?;
        let shown = redact(&crate::detect::snippet(body.trim()), &self.secrets());
        if !status.is_success() {
            return Err(ProviderError::from_status(&label, status, retry, &shown));
        }
        if let Some(re) = &self.success
            && !re.is_match(&body)
        {
            return Err(ProviderError::transient(format!(
                "{label}: the answer `{shown}` does not match success_regex"
            )));
        }
        Ok(UpdateOutcome::Updated { record_id: None })
    }

    async fn check(&self, name: &str, record_type: RecordType) -> Result<String, ProviderError> {
        let _ = (name, record_type);
        Ok(
            "a webhook cannot be tested without sending it: its first update is the test"
                .to_owned(),
        )
    }
}
