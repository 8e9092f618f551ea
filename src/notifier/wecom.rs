//! `kind = "wecom"`: a `WeCom` (企业微信) group robot. Its webhook address holds the key; the message is a text
//! message, and `WeCom` answers HTTP 200 with `errcode` 0 on success.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use super::wire::exchange;
use super::{KindConfig, KindInfo, Note};
use crate::config::Secret;
use crate::config::check::FieldCheck;

pub const INFO: KindInfo = KindInfo::notifier(
    "wecom",
    "https://developer.work.weixin.qq.com/document/path/91770",
    &[super::secret("url")],
);

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The webhook address the group robot shows (it holds the key: a secret).
    pub url: Secret,
}

#[async_trait]
impl KindConfig for Config {
    fn secrets_mut(&mut self) -> Vec<(String, &mut Secret)> {
        vec![("url".into(), &mut self.url)]
    }

    fn validate(&self, check: &mut FieldCheck<'_>) {
        check.http_url("url", self.url.expose());
        if !self.url.expose().contains("key=") {
            check.problem("url", "notifier.wecom.check.has_no", &[]);
        }
    }

    async fn send(
        &self,
        client: &reqwest::Client,
        note: &Note,
        masked: &[&str],
    ) -> Result<String, String> {
        let body = serde_json::json!({"msgtype": "text", "text": {"content": note.text()}});
        exchange(client.post(self.url.expose()).json(&body), masked)
            .await
            .and_then(|a| a.json_code("errcode", 0, "errmsg"))
    }
}
