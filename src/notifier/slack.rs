//! `kind = "slack"`: an incoming webhook for a channel; its address holds the token. Any 2xx answer is success.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use super::wire::exchange;
use super::{KindConfig, KindInfo, Note};
use crate::config::Secret;
use crate::config::check::FieldCheck;

pub const INFO: KindInfo = KindInfo::notifier(
    "slack",
    "https://api.slack.com/messaging/webhooks",
    &[super::secret("url")],
);

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The webhook address (it holds the token: a secret).
    pub url: Secret,
}

#[async_trait]
impl KindConfig for Config {
    fn secrets_mut(&mut self) -> Vec<(String, &mut Secret)> {
        vec![("url".into(), &mut self.url)]
    }

    fn validate(&self, check: &mut FieldCheck<'_>) {
        check.http_url("url", self.url.expose());
    }

    async fn send(
        &self,
        client: &reqwest::Client,
        note: &Note,
        masked: &[&str],
    ) -> Result<String, String> {
        let body = serde_json::json!({"text": note.text()});
        exchange(client.post(self.url.expose()).json(&body), masked)
            .await
            .map(|a| a.summary())
    }
}
