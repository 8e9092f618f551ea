//! `kind = "ntfy"`: a message to an ntfy topic (the title in a header, RFC 2047-encoded when not ASCII;
//! failures at priority 4 with a warning tag).

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use super::wire::{base, check_endpoint, check_priority, exchange};
use super::{Category, KindConfig, KindInfo, Note};
use crate::config::Secret;
use crate::config::check::FieldCheck;
use crate::http::template::header_text;

pub const INFO: KindInfo = KindInfo::notifier(
    "ntfy",
    "https://docs.ntfy.sh/publish/",
    &[
        super::secret("topic"),
        super::opt("server"),
        super::secret_opt("token"),
        super::opt("priority"),
    ],
);

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The topic (anyone who knows it can read it: treated as a secret).
    pub topic: Secret,
    /// The ntfy server (default `https://ntfy.sh`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server: Option<String>,
    /// An access token (`tk_...`) for a protected topic.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<Secret>,
    /// 1 (min) to 5 (max); default 3, failures 4.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<u8>,
}

#[async_trait]
impl KindConfig for Config {
    fn secrets_mut(&mut self) -> Vec<(String, &mut Secret)> {
        let mut out = vec![("topic".to_owned(), &mut self.topic)];
        out.extend(self.token.as_mut().map(|s| ("token".to_owned(), s)));
        out
    }

    fn validate(&self, check: &mut FieldCheck<'_>) {
        check_endpoint(check, "server", self.server.as_deref());
        if self.topic.expose().contains('/') {
            check.problem("topic", "notifier.ntfy.check.holds", &[]);
        }
        check_priority(check, self.priority, 1, 5);
    }

    async fn send(
        &self,
        client: &reqwest::Client,
        note: &Note,
        masked: &[&str],
    ) -> Result<String, String> {
        let failure = note.category == Category::Failure;
        let url = format!(
            "{}/{}",
            base(self.server.as_deref(), "https://ntfy.sh"),
            self.topic.expose()
        );
        let priority = self.priority.unwrap_or(if failure { 4 } else { 3 });
        let mut request = client
            .post(url)
            .header("Title", header_text(&note.title))
            .header("Priority", priority.to_string())
            .header(
                "Tags",
                if failure {
                    "warning"
                } else {
                    "globe_with_meridians"
                },
            )
            .body(note.body.clone());
        if let Some(token) = &self.token {
            request = request.bearer_auth(token.expose());
        }
        exchange(request, masked).await.map(|a| a.summary())
    }
}
