//! `kind = "serverchan"`: `ServerChan` (Server酱) Turbo, `POST /<SendKey>.send` with a form; `code` 0 is
//! success.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use super::wire::{base, check_endpoint, exchange};
use super::{KindConfig, KindInfo, Note};
use crate::config::Secret;
use crate::config::check::FieldCheck;

pub const INFO: KindInfo = KindInfo::notifier(
    "serverchan",
    "https://sct.ftqq.com/sendkey",
    &[super::secret("sendkey"), super::opt("endpoint")],
);

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The `SendKey` (`SCT...`).
    pub sendkey: Secret,
    /// Default `https://sctapi.ftqq.com`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
}

#[async_trait]
impl KindConfig for Config {
    fn secrets_mut(&mut self) -> Vec<(String, &mut Secret)> {
        vec![("sendkey".into(), &mut self.sendkey)]
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
            "{}/{}.send",
            base(self.endpoint.as_deref(), "https://sctapi.ftqq.com"),
            self.sendkey.expose()
        );
        let form = [("title", note.title.as_str()), ("desp", note.body.as_str())];
        exchange(client.post(url).form(&form), masked)
            .await
            .and_then(|a| a.json_code("code", 0, "message"))
    }
}
