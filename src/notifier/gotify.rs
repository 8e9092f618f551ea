//! `kind = "gotify"`: a message to a Gotify server with an application token (failures at priority 8).

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use super::wire::{check_priority, exchange};
use super::{Category, KindConfig, KindInfo, Note};
use crate::config::Secret;
use crate::config::check::FieldCheck;

pub const INFO: KindInfo = KindInfo::notifier(
    "gotify",
    "https://gotify.net/docs/pushmsg",
    &[
        super::req("server"),
        super::secret("token"),
        super::opt("priority"),
    ],
);

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The Gotify server's base URL.
    pub server: String,
    /// An application token.
    pub token: Secret,
    /// 0 to 10 (default 5, failures 8).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<u8>,
}

#[async_trait]
impl KindConfig for Config {
    fn secrets_mut(&mut self) -> Vec<(String, &mut Secret)> {
        vec![("token".into(), &mut self.token)]
    }

    fn validate(&self, check: &mut FieldCheck<'_>) {
        check.http_url("server", &self.server);
        check_priority(check, self.priority, 0, 10);
    }

    async fn send(
        &self,
        client: &reqwest::Client,
        note: &Note,
        masked: &[&str],
    ) -> Result<String, String> {
        let url = format!("{}/message", self.server.trim_end_matches('/'));
        let failure = note.category == Category::Failure;
        let priority = self.priority.unwrap_or(if failure { 8 } else { 5 });
        let body =
            serde_json::json!({"title": note.title, "message": note.body, "priority": priority});
        exchange(
            client
                .post(url)
                .header("X-Gotify-Key", self.token.expose())
                .json(&body),
            masked,
        )
        .await
        .map(|a| a.summary())
    }
}
