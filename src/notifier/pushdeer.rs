//! `kind = "pushdeer"`: `PushDeer`, `POST {server}/message/push` with a form (`pushkey`, `text`, `desp`,
//! `type`), on the public server or a self-hosted one. `code` 0 is success, with one `result` item per
//! device reached; refusals carry another `code` and `error`.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use super::wire::{answer, base, check_endpoint};
use super::{KindConfig, KindInfo, Note};
use crate::config::Secret;
use crate::config::check::FieldCheck;

pub const INFO: KindInfo = KindInfo::notifier(
    "pushdeer",
    "https://www.pushdeer.com/",
    &[super::secret("pushkey"), super::opt("server")],
);

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The key (`PDU…`) made in the app's Key tab.
    pub pushkey: Secret,
    /// A self-hosted server (default `https://api2.pushdeer.com`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server: Option<String>,
}

#[async_trait]
impl KindConfig for Config {
    fn secrets_mut(&mut self) -> Vec<(String, &mut Secret)> {
        vec![("pushkey".into(), &mut self.pushkey)]
    }

    fn validate(&self, check: &mut FieldCheck<'_>) {
        check_endpoint(check, "server", self.server.as_deref());
        let key = self.pushkey.expose();
        if key.contains(',') || key.trim() != key || key.is_empty() {
            check.problem("pushkey", "notifier.pushdeer.check.one_key", &[]);
        }
    }

    async fn send(
        &self,
        client: &reqwest::Client,
        note: &Note,
        masked: &[&str],
    ) -> Result<String, String> {
        let url = format!(
            "{}/message/push",
            base(self.server.as_deref(), "https://api2.pushdeer.com")
        );
        let form = [
            ("pushkey", self.pushkey.expose()),
            ("text", note.title.as_str()),
            ("desp", note.body.as_str()),
            ("type", "markdown"),
        ];
        let answer = answer(client.post(url).form(&form), masked).await?;
        if answer.status.as_u16() == 500 {
            return Err(format!(
                "{} (PushDeer fails this way for a pushkey it does not know)",
                answer.status_error()
            ));
        }
        let value = answer.json();
        let code = value
            .as_ref()
            .and_then(|v| v.get("code").and_then(serde_json::Value::as_i64));
        match code {
            Some(0) if answer.status.is_success() => {
                let devices = value
                    .as_ref()
                    .and_then(|v| v.pointer("/content/result"))
                    .and_then(serde_json::Value::as_array)
                    .map(Vec::len);
                if devices == Some(0) {
                    Err("the key's owner has no device registered: nobody was notified".into())
                } else {
                    Ok(answer.summary())
                }
            }
            Some(c) if answer.status.is_success() => {
                Err(format!("code {c}: {}", answer.failure("error")))
            }
            Some(c) => Err(format!(
                "code {c}: {}",
                answer.refused(|v| v.get("error")?.as_str().map(str::to_owned))
            )),
            None => Err(answer.refused(|_| None)),
        }
    }
}
