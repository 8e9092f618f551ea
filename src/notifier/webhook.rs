//! `kind = "webhook"`: any HTTP request, written by the user (the same request the webhook provider sends:
//! `crate::http::template`), with the alert's placeholders filled in. Any 2xx answer is success.

use std::collections::BTreeMap;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use super::wire::exchange;
use super::{KindConfig, KindInfo, Note};
use crate::config::Secret;
use crate::config::check::FieldCheck;
use crate::http::template::Template;

pub const INFO: KindInfo = KindInfo::notifier(
    "webhook",
    "",
    &[
        super::req("url"),
        super::opt("method"),
        super::opt("headers"),
        super::opt("body"),
    ],
);

/// The placeholders of the webhook notifier.
pub const PLACEHOLDERS: &[&str] = &[
    "{title}",
    "{message}",
    "{event}",
    "{name}",
    "{type}",
    "{ip}",
    "{old}",
    "{first}",
];

/// A user-defined request, with the webhook provider's placeholders and the alert's own.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, Secret>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
}

impl Config {
    fn template(&self) -> Template<'_> {
        Template {
            url: &self.url,
            method: self.method.as_deref(),
            headers: &self.headers,
            body: self.body.as_deref(),
        }
    }
}

#[async_trait]
impl KindConfig for Config {
    fn secrets_mut(&mut self) -> Vec<(String, &mut Secret)> {
        self.headers
            .iter_mut()
            .map(|(k, v)| (format!("headers.{k}"), v))
            .collect()
    }

    fn validate(&self, check: &mut FieldCheck<'_>) {
        self.template().check(check, PLACEHOLDERS);
    }

    fn tokens(&self) -> Vec<String> {
        self.template().tokens()
    }

    async fn send(
        &self,
        client: &reqwest::Client,
        note: &Note,
        masked: &[&str],
    ) -> Result<String, String> {
        let (name, record_type) = note
            .record
            .as_deref()
            .and_then(|r| r.rsplit_once(' '))
            .unwrap_or(("", ""));
        let ip = note.ip.map(|i| i.to_string()).unwrap_or_default();
        let old = note.old.map(|i| i.to_string()).unwrap_or_default();
        let message = note.text();
        let values = [
            ("{title}", note.title.as_str()),
            ("{message}", message.as_str()),
            ("{event}", note.category.as_str()),
            ("{name}", name),
            ("{type}", record_type),
            ("{ip}", ip.as_str()),
            ("{old}", old.as_str()),
            ("{first}", if note.first { "true" } else { "false" }),
        ];
        exchange(self.template().build(client, &values), masked)
            .await
            .map(|a| a.summary())
    }
}
