//! `kind = "rocketchat"`: a Rocket.Chat incoming webhook, `POST {server}/hooks/{id}/{token}` with `{"text":
//! …}` (optionally `alias` and `emoji`). Success is HTTP 200 with `success: true`; refusals carry
//! `success: false` and `error`.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use super::wire::answer;
use super::{KindConfig, KindInfo, Note};
use crate::config::Secret;
use crate::config::check::FieldCheck;

pub const INFO: KindInfo = KindInfo::notifier(
    "rocketchat",
    "https://docs.rocket.chat/docs/integrations",
    &[
        super::secret("url"),
        super::opt("alias"),
        super::opt("emoji"),
    ],
);

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The webhook URL (`https://host/hooks/<id>/<token>`: a secret).
    pub url: Secret,
    /// The name shown as the poster.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alias: Option<String>,
    /// The avatar emoji, e.g. `:globe_with_meridians:`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub emoji: Option<String>,
}

#[async_trait]
impl KindConfig for Config {
    fn secrets_mut(&mut self) -> Vec<(String, &mut Secret)> {
        vec![("url".into(), &mut self.url)]
    }

    fn validate(&self, check: &mut FieldCheck<'_>) {
        check.http_url("url", self.url.expose());
        let parts = self
            .url
            .expose()
            .split_once("/hooks/")
            .map(|(_, rest)| rest.split('/').filter(|p| !p.is_empty()).count());
        if !matches!(parts, Some(2 | 3)) {
            check.problem("url", "notifier.rocketchat.check.hooks", &[]);
        }
        if let Some(e) = &self.emoji
            && !(e.len() > 2 && e.starts_with(':') && e.ends_with(':'))
        {
            check.problem("emoji", "notifier.rocketchat.check.emoji", &[]);
        }
    }

    async fn send(
        &self,
        client: &reqwest::Client,
        note: &Note,
        masked: &[&str],
    ) -> Result<String, String> {
        let mut body = serde_json::json!({"text": note.text()});
        if let Some(a) = &self.alias {
            body["alias"] = a.clone().into();
        }
        if let Some(e) = &self.emoji {
            body["emoji"] = e.clone().into();
        }
        let answer = answer(client.post(self.url.expose()).json(&body), masked).await?;
        let ok = answer
            .json()
            .and_then(|v| v.get("success")?.as_bool())
            .unwrap_or(false);
        if answer.status.is_success() && ok {
            return Ok(answer.summary());
        }
        let error = answer
            .json()
            .and_then(|v| v.get("error")?.as_str().map(str::to_owned));
        let hint = match (answer.status.as_u16(), error.as_deref()) {
            (_, Some(e)) if e.contains("Invalid integration id or token") => {
                " (copy the webhook URL again)"
            }
            (_, Some(e)) if e.contains("overriding destination channel") => {
                " (the integration does not allow another channel)"
            }
            (503, _) => " (the integration is disabled)",
            _ => "",
        };
        if answer.status.is_success() {
            return Err(format!("{}{hint}", answer.failure("error")));
        }
        Err(format!(
            "{}{hint}",
            answer.refused(|v| v.get("error")?.as_str().map(str::to_owned))
        ))
    }
}
