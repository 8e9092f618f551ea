//! `kind = "pushover"`: Pushover's Messages API, `POST /1/messages.json` with a form (`token`, `user`,
//! `title`, `message`, `priority`); `status` 1 is success. Refusals come as HTTP 4xx with `status` 0 and an
//! `errors` list; 429 means the month's message quota is used up.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use super::wire::{answer, base, check_endpoint};
use super::{Category, KindConfig, KindInfo, Note};
use crate::config::Secret;
use crate::config::check::FieldCheck;

pub const INFO: KindInfo = KindInfo::notifier(
    "pushover",
    "https://pushover.net/apps/build",
    &[
        super::secret("token"),
        super::secret("user"),
        super::opt("priority"),
        super::opt("device"),
        super::opt("endpoint"),
    ],
);

/// `title` is at most this many characters, `message` at most [`MAX_MESSAGE`].
pub const MAX_TITLE: usize = 250;
pub const MAX_MESSAGE: usize = 1024;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The application's API token.
    pub token: Secret,
    /// The user (or group) key.
    pub user: Secret,
    /// -2 (lowest) to 1 (high); default 0, failures 1. Emergency (2) needs acknowledging and is not sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<i8>,
    /// Device names, comma-separated (default: all the user's devices).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device: Option<String>,
    /// Default `https://api.pushover.net`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
}

fn cut(text: &str, max: usize) -> String {
    text.chars().take(max).collect()
}

#[async_trait]
impl KindConfig for Config {
    fn secrets_mut(&mut self) -> Vec<(String, &mut Secret)> {
        vec![
            ("token".into(), &mut self.token),
            ("user".into(), &mut self.user),
        ]
    }

    fn validate(&self, check: &mut FieldCheck<'_>) {
        check_endpoint(check, "endpoint", self.endpoint.as_deref());
        if let Some(p) = self.priority
            && !(-2..=1).contains(&p)
        {
            check.problem(
                "priority",
                "check.notify.out_range",
                &[("p", &p), ("low", &-2), ("high", &1)],
            );
        }
        for (field, value) in [("token", &self.token), ("user", &self.user)] {
            let v = value.expose();
            if v.len() != 30 || !v.chars().all(|c| c.is_ascii_alphanumeric()) {
                check.problem(field, "notifier.pushover.check.key", &[]);
            }
        }
        if let Some(d) = &self.device
            && !d.split(',').all(|n| {
                !n.is_empty()
                    && n.len() <= 25
                    && n.chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
            })
        {
            check.problem("device", "notifier.pushover.check.device", &[]);
        }
    }

    async fn send(
        &self,
        client: &reqwest::Client,
        note: &Note,
        masked: &[&str],
    ) -> Result<String, String> {
        let url = format!(
            "{}/1/messages.json",
            base(self.endpoint.as_deref(), "https://api.pushover.net")
        );
        let failure = note.category == Category::Failure;
        let priority = self.priority.unwrap_or(i8::from(failure));
        let message = if note.body.is_empty() {
            &note.title
        } else {
            &note.body
        };
        let mut form = vec![
            ("token", self.token.expose().to_owned()),
            ("user", self.user.expose().to_owned()),
            ("title", cut(&note.title, MAX_TITLE)),
            ("message", cut(message, MAX_MESSAGE)),
            ("priority", priority.to_string()),
        ];
        if let Some(d) = &self.device {
            form.push(("device", d.clone()));
        }
        let answer = answer(client.post(url).form(&form), masked).await?;
        let status = answer
            .json()
            .and_then(|v| v.get("status").and_then(serde_json::Value::as_i64));
        if answer.status.is_success() && status == Some(1) {
            return Ok(answer.summary());
        }
        let mut text = answer.refused(|v| {
            let errors: Vec<&str> = v
                .get("errors")?
                .as_array()?
                .iter()
                .filter_map(serde_json::Value::as_str)
                .collect();
            (!errors.is_empty()).then(|| errors.join("; "))
        });
        if answer.status.as_u16() == 429 {
            text.push_str(" (the monthly message limit is used up)");
        }
        Err(text)
    }
}
