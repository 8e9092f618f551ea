//! `kind = "mattermost"`: a Mattermost incoming webhook, `POST {server}/hooks/{key}` with `{"text": …}`
//! (optionally another `channel` and `username`, when the server allows overriding them). Success is HTTP
//! 200 with the text `ok`; refusals are Mattermost's `AppError` (`id`, `message`, `status_code`).

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use super::wire::answer;
use super::{KindConfig, KindInfo, Note};
use crate::config::Secret;
use crate::config::check::FieldCheck;

pub const INFO: KindInfo = KindInfo::notifier(
    "mattermost",
    "https://developers.mattermost.com/integrate/webhooks/incoming/",
    &[
        super::secret("url"),
        super::opt("channel"),
        super::opt("username"),
    ],
);

/// Posts are at most this many characters.
pub const MAX_TEXT: usize = 16_383;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The webhook URL (`https://host/hooks/<key>`: a secret).
    pub url: Secret,
    /// Another channel than the webhook's (its name, or `@user`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<String>,
    /// The name shown as the poster.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
}

#[async_trait]
impl KindConfig for Config {
    fn secrets_mut(&mut self) -> Vec<(String, &mut Secret)> {
        vec![("url".into(), &mut self.url)]
    }

    fn validate(&self, check: &mut FieldCheck<'_>) {
        check.http_url("url", self.url.expose());
        if !self.url.expose().contains("/hooks/") {
            check.problem("url", "notifier.mattermost.check.hooks", &[]);
        }
    }

    async fn send(
        &self,
        client: &reqwest::Client,
        note: &Note,
        masked: &[&str],
    ) -> Result<String, String> {
        let mut body =
            serde_json::json!({"text": note.text().chars().take(MAX_TEXT).collect::<String>()});
        if let Some(c) = &self.channel {
            body["channel"] = c.clone().into();
        }
        if let Some(u) = &self.username {
            body["username"] = u.clone().into();
        }
        let answer = answer(client.post(self.url.expose()).json(&body), masked).await?;
        if answer.status.is_success() && answer.body.trim() == "ok" {
            return Ok(answer.summary());
        }
        if answer.status.is_success() {
            return Err(format!("unexpected answer ({})", answer.summary()));
        }
        let id = answer
            .json()
            .and_then(|v| v.get("id")?.as_str().map(str::to_owned))
            .unwrap_or_default();
        let hint = match id.as_str() {
            "web.incoming_webhook.invalid.app_error" => {
                " (the webhook does not exist: copy its URL again)"
            }
            "web.incoming_webhook.disabled.app_error" => {
                " (incoming webhooks are turned off on this server)"
            }
            "web.incoming_webhook.channel_locked.app_error" => {
                " (the webhook is locked to its channel: remove `channel`)"
            }
            _ => "",
        };
        Err(format!(
            "{}{hint}",
            answer.refused(|v| v.get("message")?.as_str().map(str::to_owned))
        ))
    }
}
