//! `kind = "email"`: alerts by SMTP (lettre over rustls, the OS's certificate verification).
//!
//! `server = "smtp://host:port"` uses STARTTLS when the server offers it, and requires it when a user name
//! is set (credentials never cross the network in clear; a loopback relay is the exception);
//! `smtps://host:port` is TLS from the first byte. Ports default to 587 and 465.

use std::time::Duration;

use lettre::message::{Mailbox, header::ContentType};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use serde::{Deserialize, Serialize};

use async_trait::async_trait;

use super::{KindConfig, KindInfo, Note};
use crate::config::Secret;
use crate::config::check::FieldCheck;
use crate::i18n::tr;

pub const INFO: KindInfo = KindInfo::notifier(
    "email",
    "",
    &[
        super::req("server"),
        super::req("from"),
        super::req("to"),
        super::opt("username"),
        super::secret_opt("password"),
    ],
);

/// How long one delivery may take, connection included.
const TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// `smtp://host[:port]` (STARTTLS) or `smtps://host[:port]` (implicit TLS).
    pub server: String,
    /// The sender, `ddns-tray <alerts@example.com>` or a bare address.
    pub from: String,
    pub to: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<Secret>,
}

/// The parts of `server`.
struct Server {
    host: String,
    port: u16,
    implicit_tls: bool,
}

fn server(text: &str) -> Result<Server, String> {
    if !text.contains("://") {
        return Err(tr("notifier.email.check.no_scheme", &[]));
    }
    let url =
        reqwest::Url::parse(text.trim()).map_err(|e| tr("check.not_url.msg", &[("error", &e)]))?;
    let implicit_tls = match url.scheme() {
        "smtp" => false,
        "smtps" => true,
        other => return Err(tr("notifier.email.check.scheme", &[("scheme", &other)])),
    };
    let host = url
        .host_str()
        .filter(|h| !h.is_empty())
        .ok_or_else(|| tr("notifier.email.check.no_host", &[]))?
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_owned();
    if !url.username().is_empty() || url.password().is_some() || url.path().len() > 1 {
        return Err(tr("notifier.email.check.more_than_server", &[]));
    }
    Ok(Server {
        host,
        port: url.port().unwrap_or(if implicit_tls { 465 } else { 587 }),
        implicit_tls,
    })
}

impl Config {
    /// The message for `note`.
    fn message(&self, note: &Note) -> Result<Message, String> {
        let mut builder = Message::builder()
            .from(self.from.parse().map_err(|e| format!("from: {e}"))?)
            .subject(format!("ddns-tray: {}", note.title))
            .header(ContentType::TEXT_PLAIN);
        for to in &self.to {
            builder = builder.to(to.parse().map_err(|e| format!("to: {e}"))?);
        }
        let mut text = note.title.clone();
        if !note.body.is_empty() {
            text.push_str("\n\n");
            text.push_str(&note.body);
        }
        text.push_str("\n\n-- \nSent by ddns-tray. `ddns-tray status` shows the current state.\n");
        builder.body(text).map_err(|e| e.to_string())
    }
}

#[async_trait]
impl KindConfig for Config {
    fn secrets_mut(&mut self) -> Vec<(String, &mut Secret)> {
        self.password
            .as_mut()
            .map(|s| ("password".to_owned(), s))
            .into_iter()
            .collect()
    }

    fn validate(&self, check: &mut FieldCheck<'_>) {
        if let Err(e) = server(&self.server) {
            check.issue(
                "server",
                e,
                crate::i18n::tr("notifier.email.check.write_smtp_host_587.hint", &[]),
            );
        }
        if let Err(e) = self.from.parse::<Mailbox>() {
            check.problem("from", "notifier.email.check.mail_address", &[("e", &e)]);
        }
        if self.to.is_empty() {
            check.problem("to", "notifier.email.check.empty", &[]);
        }
        for (i, to) in self.to.iter().enumerate() {
            if let Err(e) = to.parse::<Mailbox>() {
                check.problem(
                    &format!("to[{i}]"),
                    "notifier.email.check.mail_address_2",
                    &[("e", &e)],
                );
            }
        }
        match (&self.username, &self.password) {
            (Some(_), None) => check.problem(
                "password",
                "notifier.email.check.missing_user_name_set",
                &[],
            ),
            (None, Some(_)) => {
                check.problem("username", "notifier.email.check.missing_password_set", &[]);
            }
            _ => {}
        }
    }

    /// Delivers `note` to every recipient; `Ok` is the server's answer to the message.
    async fn send(
        &self,
        _client: &reqwest::Client,
        note: &Note,
        _masked: &[&str],
    ) -> Result<String, String> {
        let server = server(&self.server)?;
        let message = self.message(note)?;
        let tls = TlsParameters::new(server.host.clone()).map_err(|e| format!("TLS: {e}"))?;
        let loopback = server
            .host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
            || server.host.eq_ignore_ascii_case("localhost");
        let tls = if server.implicit_tls {
            Tls::Wrapper(tls)
        } else if self.username.is_some() && !loopback {
            Tls::Required(tls)
        } else {
            Tls::Opportunistic(tls)
        };
        let mut transport = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&server.host)
            .port(server.port)
            .tls(tls)
            .timeout(Some(TIMEOUT));
        if let (Some(user), Some(password)) = (&self.username, &self.password) {
            transport =
                transport.credentials(Credentials::new(user.clone(), password.expose().to_owned()));
        }
        let transport = transport.build();
        let sent = tokio::time::timeout(TIMEOUT, transport.send(message)).await;
        match sent {
            Err(_) => Err(format!(
                "{}:{} did not answer within 30 s",
                server.host, server.port
            )),
            Ok(Err(e)) => {
                let secret = self
                    .password
                    .as_ref()
                    .map(|p| p.expose().to_owned())
                    .unwrap_or_default();
                Err(crate::http::redact(&describe(&e), &[secret.as_str()]))
            }
            Ok(Ok(response)) => Ok(format!(
                "{} {}",
                response.code(),
                response.message().collect::<Vec<_>>().join(" ")
            )),
        }
    }
}

/// An SMTP error in words: the server's refusal with its code, or what went wrong on the way.
fn describe(e: &lettre::transport::smtp::Error) -> String {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        let s_text = s.to_string();
        if !text.contains(&s_text) {
            text.push_str(": ");
            text.push_str(&s_text);
        }
        source = s.source();
    }
    if e.is_permanent() && text.contains("535") {
        text.push_str(" (the server refused the user name or password)");
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_urls() {
        let s = server("smtp://mail.example.com").unwrap();
        assert_eq!(
            (s.host.as_str(), s.port, s.implicit_tls),
            ("mail.example.com", 587, false)
        );
        let s = server("smtps://mail.example.com:2465").unwrap();
        assert_eq!((s.port, s.implicit_tls), (2465, true));
        let s = server("smtp://[::1]:25").unwrap();
        assert_eq!(s.host, "::1");
        assert!(server("http://mail.example.com").is_err());
        assert!(server("smtp://user:pw@mail.example.com").is_err());
        assert!(server("mail.example.com").is_err());
    }
}
