//! The `[[notify]]` kinds: their fields as each service documents them, their checks, and how a message (or
//! a heartbeat) is sent. Every kind answers with a short description of what the service said, or why it
//! failed, never quoting a secret (URLs are not quoted at all: webhook URLs carry tokens).

use std::collections::BTreeMap;
use std::fmt::{self, Write as _};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use super::email;
use crate::config::Secret;
use crate::config::validate::FieldCheck;
use crate::provider::error::redact;

/// The largest answer read from a notification service.
const MAX_ANSWER: usize = 64 * 1024;

/// What an alert is about, for the per-notifier `events` filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Category {
    /// The public address changed (one alert per round, naming the records updated).
    Change,
    /// A record failed (per the toast policy), detection failed, or the state cannot be saved.
    Failure,
    /// What failed works again.
    Recovery,
    /// `ddns-tray notify test`.
    Test,
}

impl Category {
    /// The categories a notifier gets when it has no `events` filter.
    pub const DEFAULT: [Self; 3] = [Self::Change, Self::Failure, Self::Recovery];

    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Change => "change",
            Self::Failure => "failure",
            Self::Recovery => "recovery",
            Self::Test => "test",
        }
    }
}

impl fmt::Display for Category {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One alert, as the notifiers send it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    pub category: Category,
    pub title: String,
    pub body: String,
    /// The record concerned, when there is one (`a.example.com A`).
    pub record: Option<String>,
    /// The new address, and the one before it, when the alert is about an address.
    pub ip: Option<std::net::IpAddr>,
    pub old: Option<std::net::IpAddr>,
}

impl Note {
    /// Title and body as one text (chat messages).
    #[must_use]
    pub fn text(&self) -> String {
        if self.body.is_empty() {
            self.title.clone()
        } else {
            format!("{}\n{}", self.title, self.body)
        }
    }
}

/// What a heartbeat reports after a round.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Beat {
    Ok,
    /// Something failed; the reason goes with the ping.
    Fail(String),
}

/// `url` of a chat robot whose address itself is the credential (`WeCom`, Discord, Slack).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RobotUrl {
    /// The webhook address the service shows (it holds the token: a secret).
    pub url: Secret,
}

/// A robot that signs its requests when a signing secret is set (`DingTalk`, Feishu/Lark).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignedRobot {
    pub url: Secret,
    /// The robot's signing secret ("加签"), when its security setting is signing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<Secret>,
}

/// A chat id: Telegram ids are numbers (negative for groups) or `@channelname`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ChatId {
    Number(i64),
    Text(String),
}

impl fmt::Display for ChatId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Number(n) => write!(f, "{n}"),
            Self::Text(t) => f.write_str(t),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Telegram {
    /// The bot token from `@BotFather` (`123456:ABC...`).
    pub token: Secret,
    pub chat_id: ChatId,
    /// The Bot API's base URL (default `https://api.telegram.org`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Ntfy {
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

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Gotify {
    /// The Gotify server's base URL.
    pub server: String,
    /// An application token.
    pub token: Secret,
    /// 0 to 10 (default 5, failures 8).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<u8>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Bark {
    pub device_key: Secret,
    /// The Bark server (default `https://api.day.app`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerChan {
    /// The `SendKey` (`SCT...`).
    pub sendkey: Secret,
    /// Default `https://sctapi.ftqq.com`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PushPlus {
    pub token: Secret,
    /// A group (群组编码) to send to instead of yourself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub topic: Option<String>,
    /// Default `https://www.pushplus.plus`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
}

/// A user-defined request, with the webhook provider's placeholders and the alert's own.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Webhook {
    pub url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, Secret>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
}

/// The placeholders of the webhook notifier.
pub const PLACEHOLDERS: &[&str] = &[
    "{title}",
    "{message}",
    "{event}",
    "{name}",
    "{type}",
    "{ip}",
    "{old}",
];

/// A heartbeat monitor's ping URL (healthchecks.io and compatible, Uptime Kuma push).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Heartbeat {
    /// The ping or push URL (it holds the check's id or token: a secret).
    pub url: Secret,
}

/// The notifier kinds, as written in `[[notify]]` (`kind = "..."`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum NotifierKind {
    Email(email::Config),
    Wecom(RobotUrl),
    Dingtalk(SignedRobot),
    Feishu(SignedRobot),
    Telegram(Telegram),
    Discord(RobotUrl),
    Slack(RobotUrl),
    Ntfy(Ntfy),
    Gotify(Gotify),
    Bark(Bark),
    Serverchan(ServerChan),
    Pushplus(PushPlus),
    Webhook(Webhook),
    Healthchecks(Heartbeat),
    UptimeKuma(Heartbeat),
}

/// The notifier kinds for the settings window's Alerts page: what each needs, where it is made, and its
/// fields (the same shape as the provider kinds).
pub const NOTIFY_KINDS: &[crate::provider::KindInfo] = {
    use crate::provider::{KindInfo, opt, req, secret, secret_opt};
    const ROBOT: &[crate::provider::FieldInfo] = &[secret("url", "the robot's webhook address")];
    const SIGNED: &[crate::provider::FieldInfo] = &[
        secret("url", "the robot's webhook address"),
        secret_opt(
            "secret",
            "the signing secret, when the robot's security setting is signing",
        ),
    ];
    &[
        KindInfo {
            kind: "email",
            title: "Email (SMTP)",
            credential: "an SMTP server, a sender and recipients; a password or app password when the server needs one",
            credential_url: "",
            fields: &[
                req(
                    "server",
                    "smtp://host:587 (STARTTLS) or smtps://host:465 (TLS)",
                ),
                req("from", "the sender: ddns-tray <alerts@example.com>"),
                req("to", "recipients, separated by commas"),
                opt("username", "the SMTP login, when the server needs one"),
                secret_opt("password", "the SMTP password or app password"),
            ],
        },
        KindInfo {
            kind: "wecom",
            title: "WeCom group robot (企业微信)",
            credential: "the group robot's webhook address (group settings > robots > add)",
            credential_url: "https://developer.work.weixin.qq.com/document/path/91770",
            fields: ROBOT,
        },
        KindInfo {
            kind: "dingtalk",
            title: "DingTalk robot (钉钉)",
            credential: "the custom robot's webhook address, and its signing secret when signing is on",
            credential_url: "https://open.dingtalk.com/document/robots/custom-robot-access",
            fields: SIGNED,
        },
        KindInfo {
            kind: "feishu",
            title: "Feishu / Lark bot (飞书)",
            credential: "the custom bot's webhook address, and its signing secret when signing is on",
            credential_url: "https://open.feishu.cn/document/client-docs/bot-v3/add-custom-bot",
            fields: SIGNED,
        },
        KindInfo {
            kind: "telegram",
            title: "Telegram",
            credential: "a bot token from @BotFather and the chat's id",
            credential_url: "https://core.telegram.org/bots/features#botfather",
            fields: &[
                secret("token", "the bot token (123456:ABC…)"),
                req("chat_id", "the chat's id (negative for groups) or @channel"),
                opt(
                    "endpoint",
                    "the Bot API's URL (default https://api.telegram.org)",
                ),
            ],
        },
        KindInfo {
            kind: "discord",
            title: "Discord",
            credential: "a channel webhook (channel settings > Integrations > Webhooks)",
            credential_url: "https://support.discord.com/hc/en-us/articles/228383668",
            fields: ROBOT,
        },
        KindInfo {
            kind: "slack",
            title: "Slack",
            credential: "an incoming webhook for the channel",
            credential_url: "https://api.slack.com/messaging/webhooks",
            fields: ROBOT,
        },
        KindInfo {
            kind: "ntfy",
            title: "ntfy",
            credential: "a topic name others cannot guess, and an access token for a protected topic",
            credential_url: "https://docs.ntfy.sh/publish/",
            fields: &[
                secret("topic", "the topic (anyone who knows it can read it)"),
                opt("server", "the ntfy server (default https://ntfy.sh)"),
                secret_opt("token", "an access token (tk_…) for a protected topic"),
                opt("priority", "1 (min) to 5 (max); default 3, failures 4"),
            ],
        },
        KindInfo {
            kind: "gotify",
            title: "Gotify",
            credential: "the server's address and an application token",
            credential_url: "https://gotify.net/docs/pushmsg",
            fields: &[
                req("server", "the Gotify server, e.g. https://push.example.com"),
                secret("token", "an application token"),
                opt("priority", "0 to 10; default 5, failures 8"),
            ],
        },
        KindInfo {
            kind: "bark",
            title: "Bark (iOS)",
            credential: "the device key shown in the Bark app",
            credential_url: "https://bark.day.app/",
            fields: &[
                secret("device_key", "the device key from the Bark app"),
                opt("server", "the Bark server (default https://api.day.app)"),
            ],
        },
        KindInfo {
            kind: "serverchan",
            title: "ServerChan (Server酱)",
            credential: "the SendKey (SCT…)",
            credential_url: "https://sct.ftqq.com/sendkey",
            fields: &[
                secret("sendkey", "the SendKey (SCT…)"),
                opt(
                    "endpoint",
                    "the API's URL (default https://sctapi.ftqq.com)",
                ),
            ],
        },
        KindInfo {
            kind: "pushplus",
            title: "PushPlus (推送加)",
            credential: "the token from pushplus.plus",
            credential_url: "https://www.pushplus.plus/",
            fields: &[
                secret("token", "the PushPlus token"),
                opt("topic", "a group code to send to instead of yourself"),
                opt(
                    "endpoint",
                    "the API's URL (default https://www.pushplus.plus)",
                ),
            ],
        },
        KindInfo {
            kind: "webhook",
            title: "Webhook (any HTTP request)",
            credential: "whatever the endpoint needs (put tokens in headers as secrets)",
            credential_url: "",
            fields: &[
                req(
                    "url",
                    "the URL, with {title} {message} {event} {ip} … placeholders",
                ),
                opt("method", "GET, POST (default), PUT or PATCH"),
                opt(
                    "headers",
                    "one \"Name: value\" per line; values may be secrets",
                ),
                opt("body", "the request body, with the same placeholders"),
            ],
        },
        KindInfo {
            kind: "healthchecks",
            title: "Healthchecks.io (heartbeat)",
            credential: "the check's ping URL",
            credential_url: "https://healthchecks.io/docs/",
            fields: &[secret("url", "the ping URL (https://hc-ping.com/<uuid>)")],
        },
        KindInfo {
            kind: "uptime-kuma",
            title: "Uptime Kuma push (heartbeat)",
            credential: "a Push monitor's URL",
            credential_url: "https://github.com/louislam/uptime-kuma/wiki",
            fields: &[secret("url", "the push URL (…/api/push/<token>)")],
        },
    ]
};

/// Every `kind = "..."` value, in the order the README lists them.
pub const KIND_NAMES: &[&str] = &[
    "email",
    "wecom",
    "dingtalk",
    "feishu",
    "telegram",
    "discord",
    "slack",
    "ntfy",
    "gotify",
    "bark",
    "serverchan",
    "pushplus",
    "webhook",
    "healthchecks",
    "uptime-kuma",
];

impl NotifierKind {
    #[must_use]
    pub fn kind_name(&self) -> &'static str {
        match self {
            Self::Email(_) => "email",
            Self::Wecom(_) => "wecom",
            Self::Dingtalk(_) => "dingtalk",
            Self::Feishu(_) => "feishu",
            Self::Telegram(_) => "telegram",
            Self::Discord(_) => "discord",
            Self::Slack(_) => "slack",
            Self::Ntfy(_) => "ntfy",
            Self::Gotify(_) => "gotify",
            Self::Bark(_) => "bark",
            Self::Serverchan(_) => "serverchan",
            Self::Pushplus(_) => "pushplus",
            Self::Webhook(_) => "webhook",
            Self::Healthchecks(_) => "healthchecks",
            Self::UptimeKuma(_) => "uptime-kuma",
        }
    }

    /// Heartbeat monitors get a ping after every round instead of alerts.
    #[must_use]
    pub fn is_heartbeat(&self) -> bool {
        matches!(self, Self::Healthchecks(_) | Self::UptimeKuma(_))
    }

    /// Every secret, with its field path (for resolving them at load time).
    pub fn secrets_mut(&mut self) -> Vec<(String, &mut Secret)> {
        let mut out: Vec<(String, &mut Secret)> = Vec::new();
        match self {
            Self::Email(c) => out.extend(c.password.as_mut().map(|s| ("password".to_owned(), s))),
            Self::Wecom(c) | Self::Discord(c) | Self::Slack(c) => {
                out.push(("url".into(), &mut c.url));
            }
            Self::Dingtalk(c) | Self::Feishu(c) => {
                out.push(("url".into(), &mut c.url));
                out.extend(c.secret.as_mut().map(|s| ("secret".to_owned(), s)));
            }
            Self::Telegram(c) => out.push(("token".into(), &mut c.token)),
            Self::Ntfy(c) => {
                out.push(("topic".into(), &mut c.topic));
                out.extend(c.token.as_mut().map(|s| ("token".to_owned(), s)));
            }
            Self::Gotify(c) => out.push(("token".into(), &mut c.token)),
            Self::Bark(c) => out.push(("device_key".into(), &mut c.device_key)),
            Self::Serverchan(c) => out.push(("sendkey".into(), &mut c.sendkey)),
            Self::Pushplus(c) => out.push(("token".into(), &mut c.token)),
            Self::Webhook(c) => out.extend(
                c.headers
                    .iter_mut()
                    .map(|(k, v)| (format!("headers.{k}"), v)),
            ),
            Self::Healthchecks(c) | Self::UptimeKuma(c) => out.push(("url".into(), &mut c.url)),
        }
        out
    }

    /// Every secret value, for masking what a service sends back.
    #[must_use]
    pub fn secret_values(&self) -> Vec<String> {
        let mut copy = self.clone();
        let mut values: Vec<String> = copy
            .secrets_mut()
            .into_iter()
            .map(|(_, s)| s.expose().to_owned())
            .collect();
        // The tokens inside secret URLs (path segments, query values) are masked on their own too.
        for v in values.clone() {
            values.extend(crate::provider::webhook::template_tokens(&v, None));
        }
        if let Self::Webhook(w) = self {
            values.extend(crate::provider::webhook::template_tokens(
                &w.url,
                w.body.as_deref(),
            ));
        }
        values
    }

    /// Checks the kind's own fields (secrets are resolved already).
    #[allow(clippy::too_many_lines)] // one arm per kind
    pub fn validate(&self, check: &mut FieldCheck<'_>) {
        match self {
            Self::Email(c) => c.validate(check),
            Self::Wecom(c) => {
                check.http_url("url", c.url.expose());
                if !c.url.expose().contains("key=") {
                    check.issue(
                        "url",
                        "has no `key=`",
                        "copy the whole webhook address the group robot shows (…/cgi-bin/webhook/send?key=…)",
                    );
                }
            }
            Self::Dingtalk(c) => {
                check.http_url("url", c.url.expose());
                if !c.url.expose().contains("access_token=") {
                    check.issue(
                        "url",
                        "has no `access_token=`",
                        "copy the whole Webhook address of the robot (…/robot/send?access_token=…)",
                    );
                }
                if let Some(s) = &c.secret
                    && !s.expose().starts_with("SEC")
                {
                    check.issue(
                        "secret",
                        "does not look like a DingTalk signing secret (they start with `SEC`)",
                        "copy the secret shown under 加签 in the robot's security settings",
                    );
                }
            }
            Self::Feishu(c) => check.http_url("url", c.url.expose()),
            Self::Telegram(c) => {
                if let Some(e) = &c.endpoint {
                    check.http_url("endpoint", e);
                }
                if !c.token.expose().contains(':') {
                    check.issue(
                        "token",
                        "does not look like a bot token (`123456789:ABC…`)",
                        "copy the token @BotFather gave you",
                    );
                }
                if matches!(&c.chat_id, ChatId::Text(t) if t.trim().is_empty()) {
                    check.issue(
                        "chat_id",
                        "is empty",
                        "give the chat's numeric id, or @channelname",
                    );
                }
            }
            Self::Discord(c) | Self::Slack(c) => check.http_url("url", c.url.expose()),
            Self::Ntfy(c) => {
                if let Some(s) = &c.server {
                    check.http_url("server", s);
                }
                if c.topic.expose().contains('/') {
                    check.issue(
                        "topic",
                        "holds a `/`",
                        "give the topic name only; put the server in `server`",
                    );
                }
                check_priority(check, c.priority, 1, 5);
            }
            Self::Gotify(c) => {
                check.http_url("server", &c.server);
                check_priority(check, c.priority, 0, 10);
            }
            Self::Bark(c) => {
                if let Some(s) = &c.server {
                    check.http_url("server", s);
                }
            }
            Self::Serverchan(c) => {
                if let Some(e) = &c.endpoint {
                    check.http_url("endpoint", e);
                }
            }
            Self::Pushplus(c) => {
                if let Some(e) = &c.endpoint {
                    check.http_url("endpoint", e);
                }
            }
            Self::Webhook(c) => crate::provider::webhook::check_request(
                check,
                &c.url,
                c.method.as_deref(),
                &c.headers,
                PLACEHOLDERS,
            ),
            Self::Healthchecks(c) | Self::UptimeKuma(c) => {
                check.http_url("url", c.url.expose());
                if matches!(self, Self::UptimeKuma(_)) && !c.url.expose().contains("/api/push/") {
                    check.issue(
                        "url",
                        "is not an Uptime Kuma push URL",
                        "copy the Push URL of a monitor of type Push (…/api/push/<token>)",
                    );
                }
            }
        }
    }

    /// Sends one alert. `Ok` is what the service answered, in a few words; either way with every secret
    /// masked.
    pub async fn send(&self, client: &reqwest::Client, note: &Note) -> Result<String, String> {
        let result = self.send_unmasked(client, note).await;
        self.mask(result)
    }

    /// Pings a heartbeat monitor after a round (secrets masked in the answer).
    pub async fn beat(&self, client: &reqwest::Client, beat: &Beat) -> Result<String, String> {
        let result = self.beat_unmasked(client, beat).await;
        self.mask(result)
    }

    fn mask(&self, result: Result<String, String>) -> Result<String, String> {
        let secrets = self.secret_values();
        let masked: Vec<&str> = secrets.iter().map(String::as_str).collect();
        result
            .map(|a| redact(&a, &masked))
            .map_err(|e| redact(&e, &masked))
    }

    #[allow(clippy::too_many_lines)] // one arm per kind: each the request its service documents
    async fn send_unmasked(&self, client: &reqwest::Client, note: &Note) -> Result<String, String> {
        let secrets = self.secret_values();
        let masked: Vec<&str> = secrets.iter().map(String::as_str).collect();
        let text = note.text();
        let failure = note.category == Category::Failure;
        match self {
            Self::Email(c) => c.send(note).await,
            Self::Wecom(c) => {
                let body = serde_json::json!({"msgtype": "text", "text": {"content": text}});
                exchange(client.post(c.url.expose()).json(&body), &masked)
                    .await
                    .and_then(|a| a.json_code("errcode", 0, "errmsg"))
            }
            Self::Dingtalk(c) => {
                let mut request = client.post(c.url.expose());
                if let Some(secret) = &c.secret {
                    let (timestamp, sign) = dingtalk_sign(secret.expose(), now_millis());
                    request = request.query(&[("timestamp", timestamp), ("sign", sign)]);
                }
                let body = serde_json::json!({"msgtype": "text", "text": {"content": text}});
                exchange(request.json(&body), &masked)
                    .await
                    .and_then(|a| a.json_code("errcode", 0, "errmsg"))
            }
            Self::Feishu(c) => {
                let mut body = serde_json::json!({"msg_type": "text", "content": {"text": text}});
                if let Some(secret) = &c.secret {
                    let timestamp = now_millis() / 1000;
                    body["timestamp"] = serde_json::Value::String(timestamp.to_string());
                    body["sign"] =
                        serde_json::Value::String(feishu_sign(secret.expose(), timestamp));
                }
                exchange(client.post(c.url.expose()).json(&body), &masked)
                    .await
                    .and_then(|a| a.json_code("code", 0, "msg"))
            }
            Self::Telegram(c) => {
                let url = format!(
                    "{}/bot{}/sendMessage",
                    base(c.endpoint.as_deref(), "https://api.telegram.org"),
                    c.token.expose()
                );
                let body = serde_json::json!({
                    "chat_id": match &c.chat_id { ChatId::Number(n) => serde_json::json!(n), ChatId::Text(t) => serde_json::json!(t) },
                    "text": text,
                    "disable_web_page_preview": true,
                });
                exchange(client.post(url).json(&body), &masked)
                    .await
                    .and_then(|a| {
                        match a
                            .json()
                            .and_then(|v| v.get("ok").and_then(serde_json::Value::as_bool))
                        {
                            Some(true) => Ok(a.summary()),
                            _ => Err(a.failure("description")),
                        }
                    })
            }
            Self::Discord(c) => {
                let body = serde_json::json!({"content": text});
                exchange(client.post(c.url.expose()).json(&body), &masked)
                    .await
                    .map(|a| a.summary())
            }
            Self::Slack(c) => {
                let body = serde_json::json!({"text": text});
                exchange(client.post(c.url.expose()).json(&body), &masked)
                    .await
                    .map(|a| a.summary())
            }
            Self::Ntfy(c) => {
                let url = format!(
                    "{}/{}",
                    base(c.server.as_deref(), "https://ntfy.sh"),
                    c.topic.expose()
                );
                let priority = c.priority.unwrap_or(if failure { 4 } else { 3 });
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
                if let Some(token) = &c.token {
                    request = request.bearer_auth(token.expose());
                }
                exchange(request, &masked).await.map(|a| a.summary())
            }
            Self::Gotify(c) => {
                let url = format!("{}/message", c.server.trim_end_matches('/'));
                let priority = c.priority.unwrap_or(if failure { 8 } else { 5 });
                let body = serde_json::json!({"title": note.title, "message": note.body, "priority": priority});
                exchange(
                    client
                        .post(url)
                        .header("X-Gotify-Key", c.token.expose())
                        .json(&body),
                    &masked,
                )
                .await
                .map(|a| a.summary())
            }
            Self::Bark(c) => {
                let url = format!("{}/push", base(c.server.as_deref(), "https://api.day.app"));
                let body = serde_json::json!({
                    "device_key": c.device_key.expose(),
                    "title": note.title,
                    "body": if note.body.is_empty() { &note.title } else { &note.body },
                    "group": "ddns-tray",
                });
                exchange(client.post(url).json(&body), &masked)
                    .await
                    .and_then(|a| a.json_code("code", 200, "message"))
            }
            Self::Serverchan(c) => {
                let url = format!(
                    "{}/{}.send",
                    base(c.endpoint.as_deref(), "https://sctapi.ftqq.com"),
                    c.sendkey.expose()
                );
                let form = [("title", note.title.as_str()), ("desp", note.body.as_str())];
                exchange(client.post(url).form(&form), &masked)
                    .await
                    .and_then(|a| a.json_code("code", 0, "message"))
            }
            Self::Pushplus(c) => {
                let url = format!(
                    "{}/send",
                    base(c.endpoint.as_deref(), "https://www.pushplus.plus")
                );
                let mut body = serde_json::json!({
                    "token": c.token.expose(),
                    "title": note.title,
                    "content": if note.body.is_empty() { &note.title } else { &note.body },
                    "template": "txt",
                });
                if let Some(topic) = &c.topic {
                    body["topic"] = serde_json::Value::String(topic.clone());
                }
                exchange(client.post(url).json(&body), &masked)
                    .await
                    .and_then(|a| a.json_code("code", 200, "msg"))
            }
            Self::Webhook(c) => {
                let json = c.body.as_deref().is_some_and(|b| {
                    let b = b.trim_start();
                    b.starts_with('{') || b.starts_with('[')
                });
                let method =
                    crate::provider::webhook::method(c.method.as_deref(), c.body.is_some());
                let mut request = client.request(method, fill(&c.url, note, Escape::Url));
                for (name, value) in &c.headers {
                    request = request.header(
                        name.as_str(),
                        header_text(&fill(value.expose(), note, Escape::None)),
                    );
                }
                if let Some(body) = &c.body {
                    request = request.body(fill(
                        body,
                        note,
                        if json { Escape::Json } else { Escape::None },
                    ));
                }
                exchange(request, &masked).await.map(|a| a.summary())
            }
            // A test from `notify test` is a good ping; alerts never reach heartbeats.
            Self::Healthchecks(_) | Self::UptimeKuma(_) => self.beat(client, &Beat::Ok).await,
        }
    }

    async fn beat_unmasked(&self, client: &reqwest::Client, beat: &Beat) -> Result<String, String> {
        let secrets = self.secret_values();
        let masked: Vec<&str> = secrets.iter().map(String::as_str).collect();
        match self {
            Self::Healthchecks(c) => {
                let base = c.url.expose().trim_end_matches('/');
                let request = match beat {
                    Beat::Ok => client.post(base.to_owned()).body(String::new()),
                    Beat::Fail(reason) => client.post(format!("{base}/fail")).body(reason.clone()),
                };
                exchange(request, &masked).await.map(|a| a.summary())
            }
            Self::UptimeKuma(c) => {
                let mut url = reqwest::Url::parse(c.url.expose()).map_err(|e| e.to_string())?;
                let (status, msg) = match beat {
                    Beat::Ok => ("up", "OK".to_owned()),
                    Beat::Fail(reason) => ("down", reason.clone()),
                };
                // The push URL the monitor shows carries `?status=up&msg=OK&ping=`: ours replace them.
                let kept: Vec<(String, String)> = url
                    .query_pairs()
                    .filter(|(k, _)| !matches!(k.as_ref(), "status" | "msg" | "ping"))
                    .map(|(k, v)| (k.into_owned(), v.into_owned()))
                    .collect();
                url.query_pairs_mut()
                    .clear()
                    .extend_pairs(kept)
                    .append_pair("status", status)
                    .append_pair("msg", &msg)
                    .append_pair("ping", "");
                exchange(client.get(url), &masked).await.and_then(|a| {
                    match a
                        .json()
                        .and_then(|v| v.get("ok").and_then(serde_json::Value::as_bool))
                    {
                        Some(true) => Ok(a.summary()),
                        _ => Err(a.failure("msg")),
                    }
                })
            }
            _ => Ok("not a heartbeat".to_owned()),
        }
    }
}

fn check_priority(check: &mut FieldCheck<'_>, priority: Option<u8>, low: u8, high: u8) {
    if let Some(p) = priority
        && !(low..=high).contains(&p)
    {
        check.issue(
            "priority",
            format!("{p} is out of range"),
            format!("use {low} to {high}"),
        );
    }
}

/// A configured base URL without its trailing slash, or the service's public one.
fn base<'a>(configured: Option<&'a str>, default: &'a str) -> &'a str {
    configured.unwrap_or(default).trim_end_matches('/')
}

/// Header values are one line of visible text: line breaks become spaces, and non-ASCII text is
/// RFC 2047-encoded (ntfy's `Title` accepts it so).
fn header_text(text: &str) -> String {
    let one_line: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if one_line.is_ascii() {
        one_line
    } else {
        use base64::Engine as _;
        format!(
            "=?UTF-8?B?{}?=",
            base64::engine::general_purpose::STANDARD.encode(one_line.as_bytes())
        )
    }
}

fn now_millis() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis())
}

/// `DingTalk`'s signature: `base64(HMAC-SHA256(key = secret, "{timestamp}\n{secret}"))`, with the timestamp
/// in milliseconds; both go in the query (URL-encoded by the query builder).
#[must_use]
pub fn dingtalk_sign(secret: &str, timestamp_ms: u128) -> (String, String) {
    use base64::Engine as _;
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, secret.as_bytes());
    let tag = ring::hmac::sign(&key, format!("{timestamp_ms}\n{secret}").as_bytes());
    (
        timestamp_ms.to_string(),
        base64::engine::general_purpose::STANDARD.encode(tag.as_ref()),
    )
}

/// Feishu/Lark's signature: `base64(HMAC-SHA256(key = "{timestamp}\n{secret}", empty message))`, with the
/// timestamp in seconds.
#[must_use]
pub fn feishu_sign(secret: &str, timestamp_s: u128) -> String {
    use base64::Engine as _;
    let key = ring::hmac::Key::new(
        ring::hmac::HMAC_SHA256,
        format!("{timestamp_s}\n{secret}").as_bytes(),
    );
    base64::engine::general_purpose::STANDARD.encode(ring::hmac::sign(&key, b"").as_ref())
}

#[derive(Clone, Copy)]
enum Escape {
    None,
    Url,
    Json,
}

/// Fills the webhook placeholders, escaped for where they go.
fn fill(template: &str, note: &Note, escape: Escape) -> String {
    let (name, record_type) = note
        .record
        .as_deref()
        .and_then(|r| r.rsplit_once(' '))
        .unwrap_or(("", ""));
    let ip = note.ip.map(|i| i.to_string()).unwrap_or_default();
    let old = note.old.map(|i| i.to_string()).unwrap_or_default();
    let values = [
        ("{title}", note.title.as_str()),
        ("{message}", &note.text()),
        ("{event}", note.category.as_str()),
        ("{name}", name),
        ("{type}", record_type),
        ("{ip}", &ip),
        ("{old}", &old),
    ];
    let mut out = template.to_owned();
    for (key, value) in values {
        if !out.contains(key) {
            continue;
        }
        let value = match escape {
            Escape::None => value.to_owned(),
            Escape::Url => url_escape(value),
            Escape::Json => {
                let quoted = serde_json::Value::String(value.to_owned()).to_string();
                quoted[1..quoted.len() - 1].to_owned()
            }
        };
        out = out.replace(key, &value);
    }
    out
}

fn url_escape(value: &str) -> String {
    let mut out = String::new();
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// What a service answered.
struct Answer {
    status: reqwest::StatusCode,
    /// The body, masked and cut to one line for quoting.
    shown: String,
    body: String,
}

impl Answer {
    fn json(&self) -> Option<serde_json::Value> {
        serde_json::from_str(&self.body).ok()
    }

    fn summary(&self) -> String {
        if self.shown.is_empty() {
            format!("HTTP {}", self.status.as_u16())
        } else {
            format!("HTTP {}: {}", self.status.as_u16(), self.shown)
        }
    }

    /// The failure text: the service's own message field when it has one, else the answer.
    fn failure(&self, message_field: &str) -> String {
        let message = self.json().and_then(|v| {
            v.get(message_field)
                .and_then(|m| m.as_str().map(str::to_owned))
        });
        match message {
            Some(m) => format!(
                "the service refused the message: {}",
                crate::detect::snippet(&m)
            ),
            None => format!("unexpected answer ({})", self.summary()),
        }
    }

    /// Success when the JSON field `code` holds `ok` (robots answer HTTP 200 with an error code).
    fn json_code(self, code: &str, ok: i64, message_field: &str) -> Result<String, String> {
        let value = self
            .json()
            .and_then(|v| v.get(code).and_then(serde_json::Value::as_i64));
        match value {
            Some(c) if c == ok => Ok(self.summary()),
            Some(c) => Err(format!("{code} {c}: {}", self.failure(message_field))),
            None => Err(format!("unexpected answer ({})", self.summary())),
        }
    }
}

/// Sends a request and reads the answer (at most [`MAX_ANSWER`] bytes); a non-2xx status is an error naming
/// the status and what the service said, with `secrets` masked.
async fn exchange(request: reqwest::RequestBuilder, secrets: &[&str]) -> Result<Answer, String> {
    let response = request
        .send()
        .await
        .map_err(|e| crate::http::describe(&e))?;
    let status = response.status();
    let body = crate::http::read_body(response, MAX_ANSWER)
        .await
        .unwrap_or_default();
    let shown = redact(&crate::detect::snippet(body.trim()), secrets);
    let answer = Answer {
        status,
        shown,
        body,
    };
    if status.is_success() {
        Ok(answer)
    } else {
        let hint = match status.as_u16() {
            401 | 403 => " (check the token or URL)",
            404 => " (check the URL, topic or key)",
            429 => " (the service is rate limiting)",
            _ => "",
        };
        Err(format!("{}{hint}", answer.summary()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_follow_the_documented_recipes() {
        // Computed independently with Python's hmac/hashlib/base64 from the documented recipes.
        let (ts, sign) = dingtalk_sign("SEC000000000000000000000", 1_700_000_000_000);
        assert_eq!(ts, "1700000000000");
        assert_eq!(sign, DINGTALK_VECTOR);
        assert_eq!(feishu_sign("demo-secret", 1_700_000_000), FEISHU_VECTOR);
    }

    const DINGTALK_VECTOR: &str = "1zJ/w34EOSVAYr7cu7Vo8LnebmK2/GrCgegtr8mQrqM=";
    const FEISHU_VECTOR: &str = "mYHw2R2SOm8Rw/sne3lQdmz4sOfntKR+1P/8RKKTwmA=";

    #[test]
    fn webhook_placeholders_are_escaped_for_their_place() {
        let note = Note {
            category: Category::Change,
            title: "Updated \"a\"".into(),
            body: "x & y".into(),
            record: Some("a.example.com A".into()),
            ip: Some("198.51.100.7".parse().unwrap()),
            old: None,
        };
        assert_eq!(
            fill(
                "https://h/?t={title}&n={name}&ip={ip}&o={old}",
                &note,
                Escape::Url
            ),
            "https://h/?t=Updated%20%22a%22&n=a.example.com&ip=198.51.100.7&o="
        );
        assert_eq!(
            fill(
                r#"{"m":"{message}","e":"{event}","t":"{type}"}"#,
                &note,
                Escape::Json
            ),
            r#"{"m":"Updated \"a\"\nx & y","e":"change","t":"A"}"#
        );
    }
}
