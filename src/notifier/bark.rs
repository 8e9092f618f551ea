//! `kind = "bark"`: a push to the Bark iOS app (`POST /push`); Bark answers `code` 200 on success.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use super::wire::{base, check_endpoint, exchange};
use super::{KindConfig, KindInfo, Note};
use crate::config::Secret;
use crate::config::check::FieldCheck;

pub const INFO: KindInfo = KindInfo::notifier(
    "bark",
    "https://bark.day.app/",
    &[super::secret("device_key"), super::opt("server")],
);

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub device_key: Secret,
    /// The Bark server (default `https://api.day.app`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server: Option<String>,
}

#[async_trait]
impl KindConfig for Config {
    fn secrets_mut(&mut self) -> Vec<(String, &mut Secret)> {
        vec![("device_key".into(), &mut self.device_key)]
    }

    fn validate(&self, check: &mut FieldCheck<'_>) {
        check_endpoint(check, "server", self.server.as_deref());
    }

    async fn send(
        &self,
        client: &reqwest::Client,
        note: &Note,
        masked: &[&str],
    ) -> Result<String, String> {
        let url = format!(
            "{}/push",
            base(self.server.as_deref(), "https://api.day.app")
        );
        let body = serde_json::json!({
            "device_key": self.device_key.expose(),
            "title": note.title,
            "body": if note.body.is_empty() { &note.title } else { &note.body },
            "group": "ddns-tray",
        });
        exchange(client.post(url).json(&body), masked)
            .await
            .and_then(|a| a.json_code("code", 200, "message"))
    }
}
