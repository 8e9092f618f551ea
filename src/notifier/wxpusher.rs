//! `kind = "wxpusher"`: `WxPusher` (微信推送). Either an application's standard push (`POST
//! /api/send/message` with its `appToken` to `uids` and/or `topicIds`) or the simple push that needs no
//! application (`POST /api/send/message/simple-push` with an `SPT_…` token, to its owner). Both answer HTTP
//! 200 with `code` 1000 on success, anything else with `msg`; a standard push also carries one `data` item
//! per receiver, each with its own `code`. The service allows about 2 calls a second: sends with the same
//! token are paced by one gate shared by every `wxpusher` notifier in the process.

use std::collections::HashMap;
use std::sync::{LazyLock, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use tokio::time::Instant;

use super::wire::{base, check_endpoint, exchange};
use super::{KindConfig, KindInfo, Note};
use crate::config::Secret;
use crate::config::check::FieldCheck;

pub const INFO: KindInfo = KindInfo::notifier(
    "wxpusher",
    "https://wxpusher.zjiecode.com/admin/",
    &[
        super::secret_opt("app_token"),
        super::opt("uids"),
        super::opt("topic_ids"),
        super::secret_opt("spt"),
        super::opt("url"),
        super::opt("endpoint"),
    ],
);

/// `content` is at most this many characters.
pub const MAX_CONTENT: usize = 40_000;
/// `summary` is at most this many characters.
pub const MAX_SUMMARY: usize = 100;
/// Receivers of one standard push.
pub const MAX_UIDS: usize = 2_000;
pub const MAX_TOPICS: usize = 5;
/// `url` is at most this many characters.
const MAX_URL: usize = 1_000;
/// About 20 calls in 10 s: one call every half second per token.
pub const GAP: Duration = Duration::from_millis(500);

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The application's token (`AT_…`), for the standard push.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_token: Option<Secret>,
    /// Users (`UID_…`) of the application.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub uids: Vec<String>,
    /// Topics of the application (their numeric ids).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub topic_ids: Vec<i64>,
    /// A simple-push token (`SPT_…`): messages go to its owner, no application needed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spt: Option<Secret>,
    /// The "original link" shown with the message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Default `https://wxpusher.zjiecode.com`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
}

/// The first `max` characters of `text`.
#[must_use]
pub fn cut(text: &str, max: usize) -> String {
    text.chars().take(max).collect()
}

/// The time the next call with `token` may start, reserved for the caller: calls with one token are
/// [`GAP`] apart, however many notifiers share it.
fn reserve(token: &str) -> Instant {
    static NEXT: LazyLock<Mutex<HashMap<String, Instant>>> = LazyLock::new(Mutex::default);
    let now = Instant::now();
    let mut next = NEXT
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    next.retain(|_, t| *t > now);
    let at = next.get(token).copied().unwrap_or(now).max(now);
    next.insert(token.to_owned(), at + GAP);
    at
}

impl Config {
    fn body(&self, note: &Note) -> (String, serde_json::Value) {
        let mut body = serde_json::json!({
            "content": cut(&note.text(), MAX_CONTENT),
            "summary": cut(&note.title, MAX_SUMMARY),
            "contentType": 1,
        });
        let path = if let Some(spt) = &self.spt {
            body["spt"] = spt.expose().into();
            "/api/send/message/simple-push"
        } else {
            body["appToken"] = self.app_token.as_ref().map_or("", Secret::expose).into();
            if !self.uids.is_empty() {
                body["uids"] = self.uids.clone().into();
            }
            if !self.topic_ids.is_empty() {
                body["topicIds"] = self.topic_ids.clone().into();
            }
            "/api/send/message"
        };
        if let Some(url) = &self.url {
            body["url"] = url.clone().into();
        }
        (path.to_owned(), body)
    }
}

/// A standard push accepted as a whole can still fail for some receivers: each `data` item has its code.
fn receivers_failed(value: &serde_json::Value) -> Vec<String> {
    value
        .get("data")
        .and_then(serde_json::Value::as_array)
        .map(|items| {
            items
                .iter()
                .filter(|i| i.get("code").and_then(serde_json::Value::as_i64) != Some(1000))
                .map(|i| {
                    let who = match (i.get("uid").and_then(|u| u.as_str()), i.get("topicId")) {
                        (Some(uid), _) => uid.to_owned(),
                        (None, Some(t)) if !t.is_null() => format!("topic {t}"),
                        _ => "a receiver".to_owned(),
                    };
                    let status = i.get("status").and_then(|s| s.as_str()).unwrap_or("");
                    format!("{who}: {}", crate::http::snippet(status))
                })
                .collect()
        })
        .unwrap_or_default()
}

#[async_trait]
impl KindConfig for Config {
    fn secrets_mut(&mut self) -> Vec<(String, &mut Secret)> {
        let mut out = Vec::new();
        out.extend(self.app_token.as_mut().map(|s| ("app_token".to_owned(), s)));
        out.extend(self.spt.as_mut().map(|s| ("spt".to_owned(), s)));
        out
    }

    fn validate(&self, check: &mut FieldCheck<'_>) {
        check_endpoint(check, "endpoint", self.endpoint.as_deref());
        if let Some(url) = &self.url {
            check.http_url("url", url);
            if url.chars().count() > MAX_URL {
                check.problem(
                    "url",
                    "notifier.wxpusher.check.url_long",
                    &[("max", &MAX_URL)],
                );
            }
        }
        match (&self.app_token, &self.spt) {
            (None, None) => check.problem("", "notifier.wxpusher.check.no_token", &[]),
            (Some(_), Some(_)) => check.problem("spt", "notifier.wxpusher.check.both", &[]),
            (None, Some(spt)) => {
                if !spt.expose().starts_with("SPT_") {
                    check.problem("spt", "notifier.wxpusher.check.spt", &[]);
                }
                if !self.uids.is_empty() || !self.topic_ids.is_empty() {
                    check.problem("uids", "notifier.wxpusher.check.spt_receivers", &[]);
                }
            }
            (Some(token), None) => {
                if !token.expose().starts_with("AT_") {
                    check.problem("app_token", "notifier.wxpusher.check.app_token", &[]);
                }
                self.check_receivers(check);
            }
        }
    }

    async fn send(
        &self,
        client: &reqwest::Client,
        note: &Note,
        masked: &[&str],
    ) -> Result<String, String> {
        let (path, body) = self.body(note);
        let token = self
            .spt
            .as_ref()
            .or(self.app_token.as_ref())
            .map_or("", Secret::expose);
        tokio::time::sleep_until(reserve(token)).await;
        let url = format!(
            "{}{path}",
            base(self.endpoint.as_deref(), "https://wxpusher.zjiecode.com")
        );
        let answer = exchange(client.post(url).json(&body), masked).await?;
        let value = answer.json();
        match value
            .as_ref()
            .and_then(|v| v.get("code"))
            .and_then(serde_json::Value::as_i64)
        {
            Some(1000) => {
                let failed = value.as_ref().map(receivers_failed).unwrap_or_default();
                if failed.is_empty() {
                    Ok(answer.summary())
                } else {
                    Err(format!(
                        "the service refused some receivers: {}",
                        failed.join("; ")
                    ))
                }
            }
            Some(c) => Err(format!("code {c}: {}", answer.failure("msg"))),
            None => Err(format!("unexpected answer ({})", answer.summary())),
        }
    }
}

impl Config {
    fn check_receivers(&self, check: &mut FieldCheck<'_>) {
        if self.uids.is_empty() && self.topic_ids.is_empty() {
            check.problem("uids", "notifier.wxpusher.check.no_receivers", &[]);
        }
        if self.uids.len() > MAX_UIDS {
            check.problem(
                "uids",
                "notifier.wxpusher.check.too_many",
                &[("n", &self.uids.len()), ("max", &MAX_UIDS)],
            );
        }
        if self.topic_ids.len() > MAX_TOPICS {
            check.problem(
                "topic_ids",
                "notifier.wxpusher.check.too_many",
                &[("n", &self.topic_ids.len()), ("max", &MAX_TOPICS)],
            );
        }
        for (i, uid) in self.uids.iter().enumerate() {
            if !uid.starts_with("UID_") {
                check.problem(
                    &format!("uids[{i}]"),
                    "notifier.wxpusher.check.uid",
                    &[("uid", uid)],
                );
            } else if self.uids[..i].contains(uid) {
                check.problem(
                    &format!("uids[{i}]"),
                    "notifier.wxpusher.check.twice",
                    &[("uid", uid)],
                );
            }
        }
        for (i, t) in self.topic_ids.iter().enumerate() {
            if self.topic_ids[..i].contains(t) {
                check.problem(
                    &format!("topic_ids[{i}]"),
                    "notifier.wxpusher.check.twice",
                    &[("uid", t)],
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_texts_are_cut_to_the_documented_limits() {
        let note = Note {
            category: super::super::Category::Change,
            title: "标".repeat(150),
            body: "x".repeat(50_000),
            record: None,
            ip: None,
            old: None,
            first: false,
        };
        let config = Config {
            app_token: Some(Secret::literal("AT_x")),
            uids: vec!["UID_a".into()],
            topic_ids: vec![],
            spt: None,
            url: None,
            endpoint: None,
        };
        let (path, body) = config.body(&note);
        assert_eq!(path, "/api/send/message");
        assert_eq!(body["summary"].as_str().unwrap().chars().count(), 100);
        let content = body["content"].as_str().unwrap();
        assert_eq!(content.chars().count(), 40_000);
        assert!(content.starts_with(&"标".repeat(150)));
    }

    #[tokio::test(start_paused = true)]
    async fn calls_with_one_token_are_half_a_second_apart() {
        let start = Instant::now();
        let times: Vec<Instant> = (0..4).map(|_| reserve("AT_gate_test")).collect();
        let other = reserve("AT_other_token");
        for (i, t) in times.iter().enumerate() {
            assert_eq!(*t - start, GAP * u32::try_from(i).unwrap());
        }
        assert_eq!(other, start, "another token is not held back");
    }
}
