//! What every notifier kind sends with: one bounded exchange with a service, its answer in a few words
//! with secrets masked, and the small helpers several kinds share.

use std::fmt::Write as _;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::config::check::FieldCheck;
use crate::http::redact;

/// The largest answer read from a notification service.
const MAX_ANSWER: usize = 64 * 1024;

/// A configured base URL without its trailing slash, or the service's public one.
pub(super) fn base<'a>(configured: Option<&'a str>, default: &'a str) -> &'a str {
    configured.unwrap_or(default).trim_end_matches('/')
}

/// A `priority` field between `low` and `high`.
pub(super) fn check_priority(check: &mut FieldCheck<'_>, priority: Option<u8>, low: u8, high: u8) {
    if let Some(p) = priority
        && !(low..=high).contains(&p)
    {
        check.problem(
            "priority",
            "check.notify.out_range",
            &[("p", &p), ("low", &low), ("high", &high)],
        );
    }
}

/// An optional base URL field.
pub(super) fn check_endpoint(check: &mut FieldCheck<'_>, field: &str, url: Option<&str>) {
    if let Some(u) = url {
        check.http_url(field, u);
    }
}

pub(super) fn now_millis() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis())
}

/// What a service answered.
pub(super) struct Answer {
    pub status: reqwest::StatusCode,
    /// The body, masked and cut to one line for quoting.
    pub shown: String,
    pub body: String,
    /// `Retry-After`, when the service sent one.
    pub retry_after: Option<std::time::Duration>,
}

impl Answer {
    pub fn json(&self) -> Option<serde_json::Value> {
        serde_json::from_str(&self.body).ok()
    }

    pub fn summary(&self) -> String {
        if self.shown.is_empty() {
            format!("HTTP {}", self.status.as_u16())
        } else {
            format!("HTTP {}: {}", self.status.as_u16(), self.shown)
        }
    }

    /// The failure text: the service's own message field when it has one, else the answer.
    pub fn failure(&self, message_field: &str) -> String {
        let message = self.json().and_then(|v| {
            v.get(message_field)
                .and_then(|m| m.as_str().map(str::to_owned))
        });
        match message {
            Some(m) => format!(
                "the service refused the message: {}",
                crate::http::snippet(&m)
            ),
            None => format!("unexpected answer ({})", self.summary()),
        }
    }

    /// Success when the JSON field `flag` is `true` (Telegram's and Uptime Kuma's `ok`).
    pub fn json_ok(self, flag: &str, message_field: &str) -> Result<String, String> {
        match self
            .json()
            .and_then(|v| v.get(flag).and_then(serde_json::Value::as_bool))
        {
            Some(true) => Ok(self.summary()),
            _ => Err(self.failure(message_field)),
        }
    }

    /// Success when the JSON field `code` holds `ok` (robots answer HTTP 200 with an error code).
    pub fn json_code(self, code: &str, ok: i64, message_field: &str) -> Result<String, String> {
        let value = self
            .json()
            .and_then(|v| v.get(code).and_then(serde_json::Value::as_i64));
        match value {
            Some(c) if c == ok => Ok(self.summary()),
            Some(c) => Err(format!("{code} {c}: {}", self.failure(message_field))),
            None => Err(format!("unexpected answer ({})", self.summary())),
        }
    }
}

/// Sends a request and reads the answer (at most [`MAX_ANSWER`] bytes); a non-2xx status is an error naming
/// the status and what the service said, with `secrets` masked.
pub(super) async fn exchange(
    request: reqwest::RequestBuilder,
    secrets: &[&str],
) -> Result<Answer, String> {
    let answer = answer(request, secrets).await?;
    if answer.status.is_success() {
        Ok(answer)
    } else {
        Err(answer.status_error())
    }
}

/// Sends a request and reads the answer whatever its status (for services whose refusals come with a
/// non-2xx status and a body worth quoting); only a failed exchange is an error.
pub(super) async fn answer(
    request: reqwest::RequestBuilder,
    secrets: &[&str],
) -> Result<Answer, String> {
    let response = request
        .send()
        .await
        .map_err(|e| crate::http::describe(&e))?;
    let status = response.status();
    let retry_after = crate::http::retry_after(response.headers(), SystemTime::now());
    let body = crate::http::read_body(response, MAX_ANSWER)
        .await
        .unwrap_or_default();
    let shown = redact(&crate::http::snippet(body.trim()), secrets);
    Ok(Answer {
        status,
        shown,
        body,
        retry_after,
    })
}

impl Answer {
    /// A non-2xx status in words, with a hint.
    pub fn status_error(&self) -> String {
        let hint = match self.status.as_u16() {
            401 | 403 => " (check the token or URL)",
            404 => " (check the URL, topic or key)",
            429 => " (the service is rate limiting)",
            _ => "",
        };
        format!("{}{hint}", self.summary())
    }

    /// A refusal quoting the service's `message` (found by `message`, e.g. the first of `errors`), with the
    /// status and, for a rate limit, when to try again.
    pub fn refused(&self, message: impl Fn(&serde_json::Value) -> Option<String>) -> String {
        let said = self.json().as_ref().and_then(message);
        let mut text = match said {
            Some(m) => format!(
                "HTTP {}: the service refused the message: {}",
                self.status.as_u16(),
                crate::http::snippet(&m)
            ),
            None => self.status_error(),
        };
        if self.status.as_u16() == 429
            && let Some(after) = self.retry_after
        {
            let _ = write!(text, "; retry after {} s", after.as_secs().max(1));
        }
        text
    }
}
