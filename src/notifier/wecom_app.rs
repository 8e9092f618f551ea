//! `kind = "wecom-app"`: a `WeCom` (企业微信) self-built application's message. An access token comes from
//! `GET /cgi-bin/gettoken?corpid=…&corpsecret=…` and is cached until it expires (shared by every notifier of
//! the same company and secret); the message is `POST /cgi-bin/message/send?access_token=…`. `WeCom` answers
//! HTTP 200 with `errcode` 0 on success. When it says the token expired or is invalid (42001, 40014) the token
//! is fetched again once and the message sent once more, never in a loop.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use tokio::time::Instant;

use super::wire::{Answer, base, check_endpoint, exchange};
use super::{KindConfig, KindInfo, Note};
use crate::config::Secret;
use crate::config::check::FieldCheck;

pub const INFO: KindInfo = KindInfo::notifier(
    "wecom-app",
    "https://developer.work.weixin.qq.com/document/path/90236",
    &[
        super::req("corpid"),
        super::secret("corpsecret"),
        super::req("agentid"),
        super::opt("touser"),
        super::opt("toparty"),
        super::opt("totag"),
        super::opt("endpoint"),
    ],
);

/// `text.content` is at most this many bytes.
pub const MAX_CONTENT_BYTES: usize = 2048;
/// A token is used until this long before `expires_in` says it ends.
const MARGIN: Duration = Duration::from_mins(5);
/// The token expired (42001) or is invalid (40014): fetch it again, once.
const TOKEN_CODES: [i64; 2] = [42001, 40014];

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The company's id (我的企业 > 企业信息 > 企业ID).
    pub corpid: String,
    /// The application's Secret.
    pub corpsecret: Secret,
    /// The application's `AgentId`.
    pub agentid: i64,
    /// Member ids joined by `|`, or `@all`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub touser: Option<String>,
    /// Department ids joined by `|`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub toparty: Option<String>,
    /// Tag ids joined by `|`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub totag: Option<String>,
    /// Default `https://qyapi.weixin.qq.com`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
}

type Slot = Arc<tokio::sync::Mutex<Option<(String, Instant)>>>;

/// The cached token of one (API, company, secret): one fetch at a time per slot.
fn slot(key: &str) -> Slot {
    static SLOTS: LazyLock<Mutex<HashMap<String, Slot>>> = LazyLock::new(Mutex::default);
    SLOTS
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .entry(key.to_owned())
        .or_default()
        .clone()
}

/// The first bytes of `text` that fit in `max`, cut at a character boundary.
#[must_use]
pub fn cut_bytes(text: &str, max: usize) -> &str {
    let mut end = text.len().min(max);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

fn code(answer: &Answer) -> Option<i64> {
    answer
        .json()
        .and_then(|v| v.get("errcode").and_then(serde_json::Value::as_i64))
}

/// A refusal in words: the trusted-IP rule (60020) and the rate limits explained.
fn refusal(answer: &Answer, code: i64) -> String {
    let hint = match code {
        60020 => " (this machine's public IP is not in the application's 企业可信IP list)",
        40001 | 40013 | 40091 => " (check corpid and the application's corpsecret)",
        45009 | 45033 => " (WeCom is rate limiting; it unblocks after a minute or an hour)",
        81013 => " (none of touser, toparty, totag is valid or visible to the application)",
        _ => "",
    };
    format!("errcode {code}: {}{hint}", answer.failure("errmsg"))
}

impl Config {
    fn api(&self) -> &str {
        base(self.endpoint.as_deref(), "https://qyapi.weixin.qq.com")
    }

    /// The cached token, or a new one when there is none, it has expired, or it is `stale` (refused).
    async fn token(
        &self,
        client: &reqwest::Client,
        masked: &[&str],
        stale: Option<&str>,
    ) -> Result<String, String> {
        let key = format!(
            "{}\n{}\n{}",
            self.api(),
            self.corpid,
            self.corpsecret.expose()
        );
        let slot = slot(&key);
        let mut cached = slot.lock().await;
        if let Some((token, until)) = cached.as_ref()
            && *until > Instant::now()
            && stale != Some(token.as_str())
        {
            return Ok(token.clone());
        }
        *cached = None;
        let url = format!("{}/cgi-bin/gettoken", self.api());
        let query = [
            ("corpid", self.corpid.as_str()),
            ("corpsecret", self.corpsecret.expose()),
        ];
        let answer = exchange(client.get(url).query(&query), masked).await?;
        let value = answer.json().unwrap_or_default();
        match code(&answer) {
            Some(0) => {}
            Some(c) => return Err(format!("cannot get a token: {}", refusal(&answer, c))),
            None => return Err(format!("unexpected answer ({})", answer.summary())),
        }
        let token = value
            .get("access_token")
            .and_then(serde_json::Value::as_str)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| format!("no access_token in the answer ({})", answer.summary()))?
            .to_owned();
        let life = value
            .get("expires_in")
            .and_then(serde_json::Value::as_u64)
            .map_or(Duration::ZERO, Duration::from_secs);
        *cached = Some((token.clone(), Instant::now() + life.saturating_sub(MARGIN)));
        Ok(token)
    }

    fn body(&self, note: &Note) -> serde_json::Value {
        let mut body = serde_json::json!({
            "msgtype": "text",
            "agentid": self.agentid,
            "text": {"content": cut_bytes(&note.text(), MAX_CONTENT_BYTES)},
        });
        for (field, value) in [
            ("touser", &self.touser),
            ("toparty", &self.toparty),
            ("totag", &self.totag),
        ] {
            if let Some(v) = value {
                body[field] = v.clone().into();
            }
        }
        body
    }

    async fn post(
        &self,
        client: &reqwest::Client,
        token: &str,
        body: &serde_json::Value,
        masked: &[&str],
    ) -> Result<Answer, String> {
        let url = format!("{}/cgi-bin/message/send", self.api());
        // The token is masked in anything quoted, like the configured secrets.
        let mut hide: Vec<&str> = masked.to_vec();
        hide.push(token);
        exchange(
            client
                .post(url)
                .query(&[("access_token", token)])
                .json(body),
            &hide,
        )
        .await
    }
}

/// What a successful send reports: the answer, and receivers `WeCom` could not reach.
fn delivered(answer: &Answer) -> String {
    let value = answer.json().unwrap_or_default();
    let skipped: Vec<String> = ["invaliduser", "invalidparty", "invalidtag"]
        .iter()
        .filter_map(|f| {
            value
                .get(*f)
                .and_then(serde_json::Value::as_str)
                .filter(|v| !v.is_empty())
                .map(|v| format!("{f} {}", crate::http::snippet(v)))
        })
        .collect();
    if skipped.is_empty() {
        answer.summary()
    } else {
        format!(
            "{} (warning: not delivered to {})",
            answer.summary(),
            skipped.join(", ")
        )
    }
}

#[async_trait]
impl KindConfig for Config {
    fn secrets_mut(&mut self) -> Vec<(String, &mut Secret)> {
        vec![("corpsecret".into(), &mut self.corpsecret)]
    }

    fn validate(&self, check: &mut FieldCheck<'_>) {
        check_endpoint(check, "endpoint", self.endpoint.as_deref());
        if self.corpid.trim().is_empty() || self.corpid.trim() != self.corpid {
            check.problem("corpid", "notifier.wecom-app.check.corpid", &[]);
        }
        if self.agentid <= 0 {
            check.problem("agentid", "notifier.wecom-app.check.agentid", &[]);
        }
        let given = [&self.touser, &self.toparty, &self.totag];
        if given
            .iter()
            .all(|v| v.as_deref().is_none_or(|t| t.trim().is_empty()))
        {
            check.problem("touser", "notifier.wecom-app.check.no_receivers", &[]);
        }
    }

    async fn send(
        &self,
        client: &reqwest::Client,
        note: &Note,
        masked: &[&str],
    ) -> Result<String, String> {
        let body = self.body(note);
        let token = self.token(client, masked, None).await?;
        let mut tokens = vec![token.clone()];
        let mut answer = self.post(client, &token, &body, masked).await;
        if let Ok(a) = &answer
            && code(a).is_some_and(|c| TOKEN_CODES.contains(&c))
        {
            // Refused token: one new token and one more try; whatever that answers is the result.
            let fresh = self.token(client, masked, Some(&token)).await?;
            answer = self.post(client, &fresh, &body, masked).await;
            tokens.push(fresh);
        }
        let result = answer.and_then(|answer| match code(&answer) {
            Some(0) => Ok(delivered(&answer)),
            Some(c) => Err(refusal(&answer, c)),
            None => Err(format!("unexpected answer ({})", answer.summary())),
        });
        let tokens: Vec<&str> = tokens.iter().map(String::as_str).collect();
        result
            .map(|a| crate::http::redact(&a, &tokens))
            .map_err(|e| crate::http::redact(&e, &tokens))
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn content_is_cut_to_2048_bytes_at_a_character() {
        let text = "网".repeat(1000); // 3000 bytes
        let cut = super::cut_bytes(&text, 2048);
        assert_eq!(cut.len(), 2046);
        assert_eq!(super::cut_bytes("short", 2048), "short");
    }
}
