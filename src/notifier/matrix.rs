//! `kind = "matrix"`: a message to a Matrix room from a (bot) account, `PUT
//! /_matrix/client/v3/rooms/{roomId}/send/m.room.message/{txnId}` with the access token in `Authorization:
//! Bearer`. A room alias (`#room:server`) is resolved first (`GET /_matrix/client/v3/directory/room/…`).
//! Success is HTTP 200 with an `event_id`; refusals carry `errcode` and `error`. A rate limit
//! (`M_LIMIT_EXCEEDED`) with a short wait is waited out and the message sent again once, with the same
//! transaction id so the server cannot post it twice.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use super::wire::{Answer, answer, now_millis};
use super::{KindConfig, KindInfo, Note};
use crate::config::Secret;
use crate::config::check::FieldCheck;
use crate::encode::pct;

pub const INFO: KindInfo = KindInfo::notifier(
    "matrix",
    "https://spec.matrix.org/latest/client-server-api/#login",
    &[
        super::req("homeserver"),
        super::secret("access_token"),
        super::req("room"),
        super::opt("msgtype"),
    ],
)
.api("homeserver");

/// The longest rate-limit wait honoured before the one retry.
pub const MAX_WAIT: Duration = Duration::from_secs(10);
/// Matrix events are at most 64 KiB: the text is cut well below.
const MAX_BODY: usize = 32_000;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The homeserver's client API base, e.g. `https://matrix.example.org`.
    pub homeserver: String,
    /// The account's access token.
    pub access_token: Secret,
    /// A room id (`!abc:example.org`) or alias (`#alerts:example.org`).
    pub room: String,
    /// `m.notice` (default: clients do not ping for it) or `m.text`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub msgtype: Option<String>,
}

/// A transaction id unique in this process and across restarts.
fn txn_id() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    format!(
        "ddns-tray-{}-{}",
        now_millis(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

fn matrix_error(v: &serde_json::Value) -> Option<String> {
    let code = v.get("errcode")?.as_str()?;
    let error = v
        .get("error")
        .and_then(serde_json::Value::as_str)
        .unwrap_or("");
    Some(format!("{code} {error}"))
}

/// How long a rate-limited answer asks to wait: `Retry-After`, else the older `retry_after_ms`.
fn wait_of(answer: &Answer) -> Option<Duration> {
    answer.retry_after.or_else(|| {
        answer
            .json()?
            .get("retry_after_ms")?
            .as_u64()
            .map(Duration::from_millis)
    })
}

fn refusal(answer: &Answer) -> String {
    let hint = match answer
        .json()
        .as_ref()
        .and_then(|v| v.get("errcode")?.as_str().map(str::to_owned))
        .as_deref()
    {
        Some("M_UNKNOWN_TOKEN" | "M_MISSING_TOKEN") => " (the access token is wrong or logged out)",
        Some("M_FORBIDDEN") => " (invite the account to the room and join it)",
        Some("M_NOT_FOUND") => " (check the room)",
        _ => "",
    };
    format!("{}{hint}", answer.refused(matrix_error))
}

impl Config {
    fn base(&self) -> &str {
        self.homeserver.trim_end_matches('/')
    }

    async fn room_id(&self, client: &reqwest::Client, masked: &[&str]) -> Result<String, String> {
        if !self.room.starts_with('#') {
            return Ok(self.room.clone());
        }
        let url = format!(
            "{}/_matrix/client/v3/directory/room/{}",
            self.base(),
            pct(&self.room)
        );
        let answer = answer(client.get(url), masked).await?;
        answer
            .json()
            .filter(|_| answer.status.is_success())
            .and_then(|v| v.get("room_id")?.as_str().map(str::to_owned))
            .ok_or_else(|| format!("cannot resolve {}: {}", self.room, refusal(&answer)))
    }
}

#[async_trait]
impl KindConfig for Config {
    fn secrets_mut(&mut self) -> Vec<(String, &mut Secret)> {
        vec![("access_token".into(), &mut self.access_token)]
    }

    fn validate(&self, check: &mut FieldCheck<'_>) {
        check.http_url("homeserver", &self.homeserver);
        let room_ok = (self.room.starts_with('!') || self.room.starts_with('#'))
            && self.room.contains(':')
            && !self.room.contains(char::is_whitespace);
        if !room_ok {
            check.problem("room", "notifier.matrix.check.room", &[]);
        }
        if let Some(t) = &self.msgtype
            && !["m.notice", "m.text"].contains(&t.as_str())
        {
            check.problem("msgtype", "notifier.matrix.check.msgtype", &[]);
        }
    }

    async fn send(
        &self,
        client: &reqwest::Client,
        note: &Note,
        masked: &[&str],
    ) -> Result<String, String> {
        let room = self.room_id(client, masked).await?;
        let url = format!(
            "{}/_matrix/client/v3/rooms/{}/send/m.room.message/{}",
            self.base(),
            pct(&room),
            txn_id()
        );
        let body = serde_json::json!({
            "msgtype": self.msgtype.as_deref().unwrap_or("m.notice"),
            "body": note.text().chars().take(MAX_BODY).collect::<String>(),
        });
        let put = || {
            client
                .put(&url)
                .bearer_auth(self.access_token.expose())
                .json(&body)
        };
        let mut reply = answer(put(), masked).await?;
        if reply.status.as_u16() == 429
            && let Some(wait) = wait_of(&reply).filter(|w| *w <= MAX_WAIT)
        {
            tokio::time::sleep(wait).await;
            reply = answer(put(), masked).await?;
        }
        let event = reply
            .json()
            .and_then(|v| v.get("event_id")?.as_str().map(str::to_owned));
        match event {
            Some(_) if reply.status.is_success() => Ok(reply.summary()),
            _ => Err(refusal(&reply)),
        }
    }
}
