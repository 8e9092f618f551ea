//! `kind = "googlechat"`: a Google Chat space's incoming webhook, `POST
//! /v1/spaces/{space}/messages?key=…&token=…` with `{"text": …}` (optionally in one thread, by a thread
//! key). The URL the space shows holds the key and token, so it is a secret. Success is HTTP 200 with the
//! created message; refusals are Google's `{"error": {"code", "message", "status"}}`.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use super::wire::answer;
use super::{KindConfig, KindInfo, Note};
use crate::config::Secret;
use crate::config::check::FieldCheck;

pub const INFO: KindInfo = KindInfo::notifier(
    "googlechat",
    "https://developers.google.com/workspace/chat/quickstart/webhooks",
    &[super::secret("url"), super::opt("thread_key")],
);

/// The text is cut to this many characters.
pub const MAX_TEXT: usize = 4000;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The webhook URL (it holds the key and token: a secret).
    pub url: Secret,
    /// Post every alert into one thread with this key (default: a new thread each).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thread_key: Option<String>,
}

#[async_trait]
impl KindConfig for Config {
    fn secrets_mut(&mut self) -> Vec<(String, &mut Secret)> {
        vec![("url".into(), &mut self.url)]
    }

    fn validate(&self, check: &mut FieldCheck<'_>) {
        let url = self.url.expose();
        check.http_url("url", url);
        if let Ok(parsed) = reqwest::Url::parse(url) {
            let has = |name: &str| parsed.query_pairs().any(|(k, _)| k == name);
            if !parsed.path().contains("/spaces/") || !has("key") || !has("token") {
                check.problem("url", "notifier.googlechat.check.url", &[]);
            }
        }
        if let Some(k) = &self.thread_key
            && k.trim().is_empty()
        {
            check.problem("thread_key", "notifier.googlechat.check.thread_key", &[]);
        }
    }

    async fn send(
        &self,
        client: &reqwest::Client,
        note: &Note,
        masked: &[&str],
    ) -> Result<String, String> {
        let mut url = reqwest::Url::parse(self.url.expose()).map_err(|e| e.to_string())?;
        let mut body =
            serde_json::json!({"text": note.text().chars().take(MAX_TEXT).collect::<String>()});
        if let Some(key) = &self.thread_key {
            body["thread"] = serde_json::json!({"threadKey": key});
            url.query_pairs_mut()
                .append_pair("messageReplyOption", "REPLY_MESSAGE_FALLBACK_TO_NEW_THREAD");
        }
        let request = client
            .post(url)
            .header(
                reqwest::header::CONTENT_TYPE,
                "application/json; charset=UTF-8",
            )
            .body(body.to_string());
        let answer = answer(request, masked).await?;
        if answer.status.is_success() {
            return Ok(answer.summary());
        }
        let hint = if answer.status.as_u16() == 403 || answer.body.contains("API_KEY_INVALID") {
            " (copy the webhook URL again: its key or token is not valid)"
        } else {
            ""
        };
        Err(format!(
            "{}{hint}",
            answer.refused(|v| {
                let e = v.get("error")?;
                let status = e
                    .get("status")
                    .and_then(serde_json::Value::as_str)
                    .unwrap_or("");
                let msg = e
                    .get("message")
                    .and_then(serde_json::Value::as_str)
                    .unwrap_or("");
                Some(format!("{status} {msg}").trim().to_owned())
            })
        ))
    }
}
