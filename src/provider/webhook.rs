//! `webhook`: a user-defined HTTP request. `{ip}`, `{name}` and `{type}` are filled in the URL, header values
//! and body. Success is any 2xx status, whatever the body (binary, empty, large: it is not read), unless
//! `success_regex` is set, in which case the body (at most 64 KiB of text) must match it. Tokens the URL,
//! headers or body carry are masked in anything quoted back from the server.

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use super::{
    Capabilities, KindConfig, KindInfo, Provider, ProviderError, Setter, SetterProvider,
    UpdateOutcome, UpdateRequest,
};
use crate::config::check::FieldCheck;
use crate::config::{RecordType, Secret};
use crate::http::redact;
use crate::http::template::Template;

const MAX_BODY: usize = 64 * 1024;

pub const INFO: KindInfo = KindInfo::provider(
    "webhook",
    "",
    &[
        super::req("url"),
        super::opt("method"),
        super::opt("headers"),
        super::opt("body"),
        super::opt("success_regex"),
    ],
)
.api("url");

/// `kind = "webhook"`: a user-defined HTTP request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    /// Header values may be secrets (`{ env = "TOKEN" }`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, Secret>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub success_regex: Option<String>,
}

impl Config {
    fn template(&self) -> Template<'_> {
        Template {
            url: &self.url,
            method: self.method.as_deref(),
            headers: &self.headers,
            body: self.body.as_deref(),
        }
    }
}

impl KindConfig for Config {
    fn secrets_mut(&mut self) -> Vec<(String, &mut Secret)> {
        self.headers
            .iter_mut()
            .map(|(k, v)| (format!("headers.{k}"), v))
            .collect()
    }

    fn validate(&self, check: &mut FieldCheck<'_>) {
        self.template().check(check, &["{ip}", "{name}", "{type}"]);
        if let Some(re) = &self.success_regex
            && let Err(e) = regex_lite::Regex::new(re)
        {
            check.problem(
                "success_regex",
                "provider.webhook.check.valid_regex",
                &[("e", &e)],
            );
        }
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            multi_value: false,
            concurrency: 1,
            ..Capabilities::RECORDS
        }
    }

    fn build(
        &self,
        name: String,
        _kind: &'static str,
        client: reqwest::Client,
    ) -> Arc<dyn Provider> {
        Arc::new(SetterProvider(Webhook {
            name,
            client,
            success: self
                .success_regex
                .as_deref()
                .and_then(|r| regex_lite::Regex::new(r).ok()),
            request: self.clone(),
        }))
    }
}

struct Webhook {
    name: String,
    client: reqwest::Client,
    success: Option<regex_lite::Regex>,
    request: Config,
}

impl Webhook {
    fn label(&self) -> String {
        format!(
            "webhook `{}` ({})",
            self.name,
            crate::http::origin(&self.request.url)
        )
    }
}

#[async_trait]
impl Setter for Webhook {
    #[tracing::instrument(skip_all, fields(provider = %self.name, record = %request.name))]
    async fn set(&self, request: &UpdateRequest<'_>) -> Result<UpdateOutcome, ProviderError> {
        let label = self.label();
        let ip = request.addrs[0].to_string();
        let values = [
            ("{ip}", ip.as_str()),
            ("{name}", request.name),
            ("{type}", request.record_type.as_str()),
        ];
        let response = self
            .request
            .template()
            .build(&self.client, &values)
            .send()
            .await
            .map_err(|e| ProviderError::from_reqwest(&label, &e))?;
        let status = response.status();
        let secrets = self.request.template().tokens();
        let secrets: Vec<&str> = secrets.iter().map(String::as_str).collect();
        if status.is_success() && self.success.is_none() {
            // 2xx is success; the body is not needed (nor read: it may be large or binary).
            return Ok(UpdateOutcome::Updated { record_id: None });
        }
        let retry = crate::http::retry_after(response.headers(), std::time::SystemTime::now());
        let body = crate::http::read_body(response, MAX_BODY).await;
        let shown = |b: &str| redact(&crate::http::snippet(b.trim()), &secrets);
        if !status.is_success() {
            let detail = body.as_deref().map(shown).unwrap_or_default();
            return Err(ProviderError::from_status(&label, status, retry, &detail));
        }
        let body = body.map_err(|e| {
            ProviderError::transient(format!(
                "{label}: the answer cannot be matched against success_regex ({e})"
            ))
        })?;
        if let Some(re) = &self.success
            && !re.is_match(&body)
        {
            return Err(ProviderError::transient(format!(
                "{label}: the answer `{}` does not match success_regex",
                shown(&body)
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
