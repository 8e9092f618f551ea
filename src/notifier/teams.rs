//! `kind = "teams"`: Microsoft Teams through a Workflows (Power Automate) webhook, the "Post to a channel
//! when a webhook request is received" flow: `POST <url>` with an Adaptive Card in a message envelope.
//! The URL's `sig` query parameter is the credential, so the whole URL is a secret. Success is HTTP 202
//! (the flow was started; some relays answer 200). The Office 365 connector URLs (`*.webhook.office.com`)
//! are retired and refused at load.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use super::wire::answer;
use super::{KindConfig, KindInfo, Note};
use crate::config::Secret;
use crate::config::check::FieldCheck;

pub const INFO: KindInfo = KindInfo::notifier(
    "teams",
    "https://support.microsoft.com/office/create-incoming-webhooks-with-workflows-for-microsoft-teams-8ae491c7-0394-4861-ba59-055e33f75498",
    &[super::secret("url")],
);

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The workflow's HTTP trigger URL (it holds the `sig`: a secret).
    pub url: Secret,
}

/// Whether a host is one of the retired Office 365 connector hosts.
fn retired(host: &str) -> bool {
    let host = host.to_ascii_lowercase();
    host == "webhook.office.com"
        || host.ends_with(".webhook.office.com")
        || host == "outlook.office.com"
        || host == "outlook.office365.com"
}

/// The card: the title in bold, then the body.
#[must_use]
pub fn card(note: &Note) -> serde_json::Value {
    let mut blocks = vec![serde_json::json!({
        "type": "TextBlock", "text": note.title, "weight": "Bolder", "size": "Medium", "wrap": true
    })];
    if !note.body.is_empty() {
        blocks.push(serde_json::json!({"type": "TextBlock", "text": note.body, "wrap": true}));
    }
    serde_json::json!({
        "type": "message",
        "attachments": [{
            "contentType": "application/vnd.microsoft.card.adaptive",
            "contentUrl": null,
            "content": {
                "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                "type": "AdaptiveCard",
                "version": "1.4",
                "body": blocks,
                "msteams": {"width": "Full"}
            }
        }]
    })
}

#[async_trait]
impl KindConfig for Config {
    fn secrets_mut(&mut self) -> Vec<(String, &mut Secret)> {
        vec![("url".into(), &mut self.url)]
    }

    fn validate(&self, check: &mut FieldCheck<'_>) {
        let url = self.url.expose();
        check.http_url("url", url);
        let Ok(parsed) = reqwest::Url::parse(url) else {
            return;
        };
        if parsed.host_str().is_some_and(retired) {
            check.problem("url", "notifier.teams.check.retired", &[]);
        } else if !parsed.query_pairs().any(|(k, _)| k == "sig") {
            check.problem("url", "notifier.teams.check.no_sig", &[]);
        }
    }

    async fn send(
        &self,
        client: &reqwest::Client,
        note: &Note,
        masked: &[&str],
    ) -> Result<String, String> {
        // The URL is sent exactly as copied: `sp=%2Ftriggers%2Fmanual%2Frun` must not be re-encoded.
        let answer = answer(client.post(self.url.expose()).json(&card(note)), masked).await?;
        if answer.status.is_success() {
            return Ok(answer.summary());
        }
        let hint = match answer.status.as_u16() {
            404 => " (the workflow is gone: make a new one and copy its URL)",
            413 => " (the card is too large)",
            _ => "",
        };
        Err(format!(
            "{}{hint}",
            answer.refused(|v| {
                let e = v.get("error")?;
                let code = e
                    .get("code")
                    .and_then(serde_json::Value::as_str)
                    .unwrap_or("");
                let msg = e
                    .get("message")
                    .and_then(serde_json::Value::as_str)
                    .unwrap_or("");
                Some(format!("{code} {msg}").trim().to_owned())
            })
        ))
    }
}
