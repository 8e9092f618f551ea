//! `webhook`: a user-defined HTTP request. `{ip}`, `{name}` and `{type}` are filled in the URL, header values
//! and body. Success is any 2xx status, whatever the body (binary, empty, large: it is not read), unless
//! `success_regex` is set, in which case the body (at most 64 KiB of text) must match it. Tokens the URL,
//! headers or body carry are masked in anything quoted back from the server.

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use super::error::redact;
use super::{
    Capabilities, KindConfig, KindInfo, Provider, ProviderError, Setter, SetterProvider,
    UpdateOutcome, UpdateRequest,
};
use crate::config::validate::FieldCheck;
use crate::config::{RecordType, Secret};

const MAX_BODY: usize = 64 * 1024;
/// HTTP methods a webhook may use.
pub const METHODS: &[&str] = &["GET", "POST", "PUT", "PATCH", "DELETE"];

pub const INFO: KindInfo = KindInfo {
    kind: "webhook",
    title: "Webhook (any HTTP request)",
    credential: "whatever the endpoint needs (put tokens in headers as secrets)",
    credential_url: "",
    fields: &[
        super::req("url", "{ip}, {name} and {type} are filled in"),
        super::opt("method", "GET, POST, PUT, PATCH or DELETE"),
        super::opt("headers", "a table; values may be secrets"),
        super::opt("body", "request body, with placeholders"),
        super::opt("success_regex", "the answer must match it"),
    ],
};

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

impl KindConfig for Config {
    fn secrets(&self) -> Vec<&Secret> {
        self.headers.values().collect()
    }

    fn secrets_mut(&mut self) -> Vec<(String, &mut Secret)> {
        self.headers
            .iter_mut()
            .map(|(k, v)| (format!("headers.{k}"), v))
            .collect()
    }

    fn validate(&self, check: &mut FieldCheck<'_>) {
        check_request(
            check,
            &self.url,
            self.method.as_deref(),
            &self.headers,
            &["{ip}", "{name}", "{type}"],
        );
        if let Some(re) = &self.success_regex
            && let Err(e) = regex_lite::Regex::new(re)
        {
            check.issue(
                "success_regex",
                format!("not a valid regex: {e}"),
                "fix the pattern, or remove it to accept any 2xx answer",
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
            method: method(self.method.as_deref(), self.body.is_some()),
            success: self
                .success_regex
                .as_deref()
                .and_then(|r| regex_lite::Regex::new(r).ok()),
            request: self.clone(),
        }))
    }
}

/// The checks of a user-defined request (shared with the webhook notifier): the URL with its placeholders
/// filled is an http(s) URL; the method is known; header names and values are valid (a value with a line
/// break would fail every request).
pub fn check_request(
    check: &mut FieldCheck<'_>,
    url: &str,
    method: Option<&str>,
    headers: &BTreeMap<String, Secret>,
    placeholders: &[&str],
) {
    let sample = placeholders
        .iter()
        .fold(url.to_owned(), |u, p| u.replace(p, "x"));
    check.http_url("url", &sample);
    if let Some(m) = method
        && !METHODS.contains(&m.to_ascii_uppercase().as_str())
    {
        check.issue(
            "method",
            format!("unsupported method `{m}`"),
            format!("use one of: {}", METHODS.join(", ")),
        );
    }
    for (name, value) in headers {
        if reqwest::header::HeaderName::from_bytes(name.as_bytes()).is_err() {
            check.issue(
                &format!("headers.{name}"),
                "is not a valid header name",
                "use letters, digits and '-'",
            );
        }
        // The value itself is never quoted (it may be a secret).
        if reqwest::header::HeaderValue::from_str(value.expose()).is_err() {
            check.issue(
                &format!("headers.{name}"),
                "is not a valid header value (it holds a line break or another control character)",
                "remove line breaks; a header value is one line of text",
            );
        }
    }
}

/// The method: as configured, else POST with a body and GET without.
#[must_use]
pub fn method(configured: Option<&str>, has_body: bool) -> reqwest::Method {
    configured.map_or(
        if has_body {
            reqwest::Method::POST
        } else {
            reqwest::Method::GET
        },
        |m| {
            reqwest::Method::from_bytes(m.to_ascii_uppercase().as_bytes())
                .unwrap_or(reqwest::Method::GET)
        },
    )
}

/// Whether a path segment looks like a token rather than a word of the API's structure (`api`, `push`,
/// `hooks`): long, or with digits or capitals in it.
fn token_like(segment: &str) -> bool {
    segment.len() >= 12
        || (segment.len() >= 4
            && segment
                .bytes()
                .any(|c| c.is_ascii_digit() || c.is_ascii_uppercase()))
}

/// Values in a request template worth masking when a server echoes them: query values, the password of
/// the URL, path segments that look like tokens (and the whole path when one does), and string values of
/// a JSON or form body; placeholders are not tokens.
#[must_use]
pub fn template_tokens(url: &str, body: Option<&str>) -> Vec<String> {
    let plain = |v: &str| !v.contains('{') && v.len() >= 4;
    let mut out = Vec::new();
    if let Ok(u) = reqwest::Url::parse(url) {
        out.extend(u.password().map(str::to_owned));
        out.extend(
            u.query_pairs()
                .map(|(_, v)| v.into_owned())
                .filter(|v| plain(v)),
        );
        let tokens: Vec<String> = u
            .path_segments()
            .into_iter()
            .flatten()
            .filter(|s| token_like(s) && plain(s))
            .map(str::to_owned)
            .collect();
        // The path as a whole first: a server echoing `/wh/<token>` shows no part of it.
        if !tokens.is_empty() && !u.path().contains('{') {
            out.push(u.path().to_owned());
        }
        out.extend(tokens);
    }
    if let Some(body) = body {
        match serde_json::from_str::<serde_json::Value>(body) {
            Ok(v) => collect_strings(&v, &mut out),
            Err(_) => out.extend(
                body.split('&')
                    .filter_map(|kv| kv.split_once('=').map(|(_, v)| v.to_owned())),
            ),
        }
        out.retain(|v| plain(v));
    }
    out
}

fn collect_strings(v: &serde_json::Value, out: &mut Vec<String>) {
    match v {
        serde_json::Value::String(s) => out.push(s.clone()),
        serde_json::Value::Array(a) => a.iter().for_each(|x| collect_strings(x, out)),
        serde_json::Value::Object(o) => o.values().for_each(|x| collect_strings(x, out)),
        _ => {}
    }
}

struct Webhook {
    name: String,
    client: reqwest::Client,
    method: reqwest::Method,
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

    /// Everything to mask in what the server sends back.
    fn secrets(&self) -> Vec<String> {
        let mut s: Vec<String> = self
            .request
            .headers
            .values()
            .map(|v| v.expose().to_owned())
            .collect();
        s.extend(template_tokens(
            &self.request.url,
            self.request.body.as_deref(),
        ));
        s
    }
}

/// Fills `{ip}`, `{name}` and `{type}`.
#[must_use]
pub fn fill(template: &str, request: &UpdateRequest<'_>) -> String {
    template
        .replace("{ip}", &request.addrs[0].to_string())
        .replace("{name}", request.name)
        .replace("{type}", request.record_type.as_str())
}

#[async_trait]
impl Setter for Webhook {
    #[tracing::instrument(skip_all, fields(provider = %self.name, record = %request.name))]
    async fn set(&self, request: &UpdateRequest<'_>) -> Result<UpdateOutcome, ProviderError> {
        let label = self.label();
        let mut builder = self
            .client
            .request(self.method.clone(), fill(&self.request.url, request));
        for (name, value) in &self.request.headers {
            builder = builder.header(name.as_str(), fill(value.expose(), request));
        }
        if let Some(body) = &self.request.body {
            builder = builder.body(fill(body, request));
        }
        let response = builder
            .send()
            .await
            .map_err(|e| ProviderError::from_reqwest(&label, &e))?;
        let status = response.status();
        let secrets = self.secrets();
        let secrets: Vec<&str> = secrets.iter().map(String::as_str).collect();
        if status.is_success() && self.success.is_none() {
            // 2xx is success; the body is not needed (nor read: it may be large or binary).
            return Ok(UpdateOutcome::Updated { record_id: None });
        }
        let retry = crate::http::retry_after(response.headers(), std::time::SystemTime::now());
        let body = crate::http::read_body(response, MAX_BODY).await;
        let shown = |b: &str| redact(&crate::detect::snippet(b.trim()), &secrets);
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
