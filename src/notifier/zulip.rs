//! `kind = "zulip"`: a message from a Zulip bot to a channel (stream) and topic, `POST /api/v1/messages`
//! with a form (`type=stream`, `to`, `topic`, `content`) and HTTP Basic auth (the bot's email and API key).
//! Success is `result: "success"`; refusals carry `result: "error"`, `msg` and `code`. A rate limit
//! (`RATE_LIMIT_HIT`, 429) with a short wait is waited out and the message sent again once.

use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use super::wire::{Answer, answer};
use super::{KindConfig, KindInfo, Note};
use crate::config::Secret;
use crate::config::check::FieldCheck;

pub const INFO: KindInfo = KindInfo::notifier(
    "zulip",
    "https://zulip.com/help/add-a-bot-or-integration",
    &[
        super::req("server"),
        super::req("email"),
        super::secret("api_key"),
        super::req("stream"),
        super::opt("topic"),
    ],
)
.api("server");

/// The longest rate-limit wait honoured before the one retry.
pub const MAX_WAIT: Duration = Duration::from_secs(10);
/// Conservative limits of older servers: 10,000 bytes of content, 60 characters of topic.
pub const MAX_CONTENT_BYTES: usize = 10_000;
pub const MAX_TOPIC: usize = 60;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The organisation's URL, e.g. `https://example.zulipchat.com`.
    pub server: String,
    /// The bot's email.
    pub email: String,
    /// The bot's API key.
    pub api_key: Secret,
    /// The channel's name.
    pub stream: String,
    /// The topic (default `ddns-tray`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub topic: Option<String>,
}

fn cut_bytes(text: &str, max: usize) -> &str {
    let mut end = text.len().min(max);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// How long a rate-limited answer asks to wait: `Retry-After` (whole seconds), else the body's
/// `retry-after` (seconds, fractional).
fn wait_of(answer: &Answer) -> Option<Duration> {
    answer.retry_after.or_else(|| {
        answer
            .json()?
            .get("retry-after")?
            .as_f64()
            .filter(|s| s.is_finite() && *s >= 0.0)
            .map(Duration::from_secs_f64)
    })
}

#[async_trait]
impl KindConfig for Config {
    fn secrets_mut(&mut self) -> Vec<(String, &mut Secret)> {
        vec![("api_key".into(), &mut self.api_key)]
    }

    fn validate(&self, check: &mut FieldCheck<'_>) {
        check.http_url("server", &self.server);
        if !self.email.contains('@') || self.email.trim() != self.email {
            check.problem("email", "notifier.zulip.check.email", &[]);
        }
        if self.stream.trim().is_empty() {
            check.problem("stream", "notifier.zulip.check.empty", &[]);
        }
        if let Some(t) = &self.topic
            && (t.trim().is_empty() || t.chars().count() > MAX_TOPIC)
        {
            check.problem(
                "topic",
                "notifier.zulip.check.topic",
                &[("max", &MAX_TOPIC)],
            );
        }
    }

    async fn send(
        &self,
        client: &reqwest::Client,
        note: &Note,
        masked: &[&str],
    ) -> Result<String, String> {
        let url = format!("{}/api/v1/messages", self.server.trim_end_matches('/'));
        let text = note.text();
        let form = [
            ("type", "stream"),
            ("to", self.stream.as_str()),
            ("topic", self.topic.as_deref().unwrap_or("ddns-tray")),
            ("content", cut_bytes(&text, MAX_CONTENT_BYTES)),
        ];
        let post = || {
            client
                .post(&url)
                .basic_auth(&self.email, Some(self.api_key.expose()))
                .form(&form)
        };
        let mut reply = answer(post(), masked).await?;
        if reply.status.as_u16() == 429
            && let Some(wait) = wait_of(&reply).filter(|w| *w <= MAX_WAIT)
        {
            tokio::time::sleep(wait).await;
            reply = answer(post(), masked).await?;
        }
        let result = reply
            .json()
            .and_then(|v| v.get("result")?.as_str().map(str::to_owned));
        if reply.status.is_success() && result.as_deref() == Some("success") {
            return Ok(reply.summary());
        }
        let hint = match reply.status.as_u16() {
            401 => " (check the bot's email and API key)",
            _ => "",
        };
        Err(format!(
            "{}{hint}",
            reply.refused(|v| {
                let msg = v.get("msg")?.as_str()?;
                Some(match v.get("code").and_then(serde_json::Value::as_str) {
                    Some(code) => format!("{code} {msg}"),
                    None => msg.to_owned(),
                })
            })
        ))
    }
}
