//! `kind = "telegram"`: a message from a bot (Bot API `sendMessage`); Telegram answers `{"ok": true}`.

use std::fmt;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use super::wire::{base, check_endpoint, exchange};
use super::{KindConfig, KindInfo, Note};
use crate::config::Secret;
use crate::config::check::FieldCheck;

pub const INFO: KindInfo = KindInfo::notifier(
    "telegram",
    "https://core.telegram.org/bots/features#botfather",
    &[
        super::secret("token"),
        super::req("chat_id"),
        super::opt("endpoint"),
    ],
);

/// A chat id: Telegram ids are numbers (negative for groups) or `@channelname`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ChatId {
    Number(i64),
    Text(String),
}

impl fmt::Display for ChatId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Number(n) => write!(f, "{n}"),
            Self::Text(t) => f.write_str(t),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The bot token from `@BotFather` (`123456:ABC...`).
    pub token: Secret,
    pub chat_id: ChatId,
    /// The Bot API's base URL (default `https://api.telegram.org`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
}

#[async_trait]
impl KindConfig for Config {
    fn secrets_mut(&mut self) -> Vec<(String, &mut Secret)> {
        vec![("token".into(), &mut self.token)]
    }

    fn validate(&self, check: &mut FieldCheck<'_>) {
        check_endpoint(check, "endpoint", self.endpoint.as_deref());
        if !self.token.expose().contains(':') {
            check.problem("token", "notifier.telegram.check.does_look_like_bot", &[]);
        }
        if matches!(&self.chat_id, ChatId::Text(t) if t.trim().is_empty()) {
            check.problem("chat_id", "notifier.telegram.check.empty", &[]);
        }
    }

    async fn send(
        &self,
        client: &reqwest::Client,
        note: &Note,
        masked: &[&str],
    ) -> Result<String, String> {
        let url = format!(
            "{}/bot{}/sendMessage",
            base(self.endpoint.as_deref(), "https://api.telegram.org"),
            self.token.expose()
        );
        let chat_id = match &self.chat_id {
            ChatId::Number(n) => serde_json::json!(n),
            ChatId::Text(t) => serde_json::json!(t),
        };
        let body = serde_json::json!({
            "chat_id": chat_id,
            "text": note.text(),
            "disable_web_page_preview": true,
        });
        exchange(client.post(url).json(&body), masked)
            .await
            .and_then(|a| a.json_ok("ok", "description"))
    }
}
