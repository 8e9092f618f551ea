//! `kind = "pushplus"`: `PushPlus` (推送加), `POST /send` with a JSON body; `code` 200 is success.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use super::wire::{base, check_endpoint, exchange};
use super::{KindConfig, KindInfo, Note};
use crate::config::Secret;
use crate::config::check::FieldCheck;

pub const INFO: KindInfo = KindInfo::notifier(
    "pushplus",
    "https://www.pushplus.plus/",
    &[
        super::secret("token"),
        super::opt("topic"),
        super::opt("endpoint"),
    ],
);

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub token: Secret,
    /// A group (群组编码) to send to instead of yourself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub topic: Option<String>,
    /// Default `https://www.pushplus.plus`.
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
    }

    async fn send(
        &self,
        client: &reqwest::Client,
        note: &Note,
        masked: &[&str],
    ) -> Result<String, String> {
        let url = format!(
            "{}/send",
            base(self.endpoint.as_deref(), "https://www.pushplus.plus")
        );
        let mut body = serde_json::json!({
            "token": self.token.expose(),
            "title": note.title,
            "content": if note.body.is_empty() { &note.title } else { &note.body },
            "template": "txt",
        });
        if let Some(topic) = &self.topic {
            body["topic"] = serde_json::Value::String(topic.clone());
        }
        exchange(client.post(url).json(&body), masked)
            .await
            .and_then(|a| a.json_code("code", 200, "msg"))
    }
}
