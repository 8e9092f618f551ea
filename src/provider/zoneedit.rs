//! `ZoneEdit` dynamic DNS: `GET https://dynamic.zoneedit.com/auth/dynamic.html?host=<fqdn>&dnsto=<ip>` (plus
//! `&zone=<zone>` when `zone` is set and the host is more than one label below it) with HTTP Basic: the
//! `ZoneEdit` user name and the domain's **DYN token** (not the account password; dynamic DNS must be enabled
//! per domain). One host per request; the address always goes in `dnsto`, never left to the source address.
//! **A records only**: no source shows an AAAA update through this endpoint, so validation refuses AAAA.
//! Nothing but the named host's address is written.
//!
//! Answers are XML-ish tags, one per host, possibly followed by an extra `<SUCCESS CODE="200" …>`; the first
//! tag is the answer for the one host sent. `SUCCESS` 200 is updated, 201 ("no records need updating")
//! unchanged; `ERROR` 701 (zone not in this account) and 709 (invalid hostname) are rejected, 708 (failed
//! login) stops the record, 702 (too soon) waits 10 minutes; 707 (undocumented; ddclient counts it as done)
//! is unchanged when its text names the address sent, else waits 10 minutes; 700 with "no update required"
//! is unchanged; other codes (700, 799, unknown) are transient. The bare words `NOACCESS`/`NO_AUTH` stop the
//! record, `NOSERVICE` and `ILLEGAL INPUT` are rejected, `TOOSOON` waits 10 minutes.
//!
//! Rate: at least 10 minutes between updates of one host, "including any update operation". ddns-tray keeps
//! that itself: a request for a host within 10 minutes of the last one is not sent; the update waits (rate
//! limited, with the time left). Notes and sources: `docs/providers/dyn-endpoints.md` section 2 (retrieved
//! 2026-12-04; support.zoneedit.com/en/knowledgebase/article/dynamic-dns as quoted in win-acme#2714).

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use super::easydns::{Spacing, TEN_MINUTES, has_word};
use super::{
    Capabilities, ErrorClass, KindConfig, KindInfo, Provider, ProviderError, Setter,
    SetterProvider, UpdateOutcome, UpdateRequest, send,
};
use crate::config::check::FieldCheck;
use crate::config::{RecordType, Secret};

const DEFAULT_ENDPOINT: &str = "https://dynamic.zoneedit.com";

pub const INFO: KindInfo = KindInfo::provider(
    "zoneedit",
    "https://support.zoneedit.com/en/knowledgebase/article/dynamic-dns",
    &[
        super::req("username"),
        super::secret("token"),
        super::opt("zone"),
        super::ENDPOINT,
    ],
)
.example("username = \"me\"\ntoken = \"zoneedit-token-value\"");

/// `kind = "zoneedit"`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub username: String,
    /// The domain's DYN token.
    pub token: Secret,
    /// The zone, sent for hosts more than one label below it (`a.b.example.com` in `example.com`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
}

impl KindConfig for Config {
    fn endpoint(&self) -> Option<&str> {
        self.endpoint.as_deref()
    }

    fn secrets_mut(&mut self) -> Vec<(String, &mut Secret)> {
        vec![("token".into(), &mut self.token)]
    }

    fn zone(&self) -> Option<(&str, &'static str)> {
        self.zone.as_deref().map(|z| (z, "zone"))
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            multi_value: false,
            concurrency: 1,
            ..Capabilities::RECORDS
        }
    }

    fn check_record(&self, _name: &str, types: &[RecordType], check: &mut FieldCheck<'_>) {
        if types.contains(&RecordType::Aaaa) {
            check.problem("type", "provider.zoneedit.check.a_only", &[]);
        }
    }

    fn build(
        &self,
        name: String,
        _kind: &'static str,
        client: reqwest::Client,
    ) -> Arc<dyn Provider> {
        Arc::new(SetterProvider(Zoneedit {
            name,
            client,
            url: format!(
                "{}/auth/dynamic.html",
                super::base_url(self.endpoint.as_deref(), DEFAULT_ENDPOINT)
            ),
            username: self.username.clone(),
            token: self.token.clone(),
            zone: self.zone.as_deref().map(super::canonical),
            spacing: Spacing::new(Duration::from_secs(TEN_MINUTES)),
        }))
    }
}

struct Zoneedit {
    name: String,
    client: reqwest::Client,
    url: String,
    username: String,
    token: Secret,
    zone: Option<String>,
    spacing: Spacing,
}

/// One `<SUCCESS …>` or `<ERROR …>` tag: its name, `CODE` and `TEXT`.
#[derive(Debug, PartialEq, Eq)]
struct Tag {
    success: bool,
    code: String,
    text: String,
}

/// The first `SUCCESS` or `ERROR` tag of an answer.
fn first_tag(body: &str) -> Option<Tag> {
    let mut rest = body;
    while let Some(start) = rest.find('<') {
        let after = &rest[start + 1..];
        let end = after.find('>').unwrap_or(after.len());
        let inside = &after[..end];
        rest = &after[end..];
        let name_len = inside
            .find(|c: char| c.is_whitespace() || c == '/')
            .unwrap_or(inside.len());
        let success = match inside[..name_len].to_ascii_uppercase().as_str() {
            "SUCCESS" => true,
            "ERROR" => false,
            _ => continue,
        };
        return Some(Tag {
            success,
            code: attribute(inside, "CODE").unwrap_or_default(),
            text: attribute(inside, "TEXT").unwrap_or_default(),
        });
    }
    None
}

/// `NAME="value"` (or single quotes) inside a tag, the name matched without case.
fn attribute(tag: &str, name: &str) -> Option<String> {
    let upper = tag.to_ascii_uppercase();
    let mut from = 0;
    while let Some(i) = upper[from..].find(name).map(|i| i + from) {
        from = i + name.len();
        let before_ok = upper[..i]
            .chars()
            .next_back()
            .is_none_or(char::is_whitespace);
        let after = tag[from..].trim_start();
        if !before_ok || !after.starts_with('=') {
            continue;
        }
        let value = after[1..].trim_start();
        let quote = value.chars().next()?;
        if quote == '"' || quote == '\'' {
            let body = &value[1..];
            return Some(body[..body.find(quote).unwrap_or(body.len())].to_owned());
        }
        return Some(
            value
                .split(char::is_whitespace)
                .next()
                .unwrap_or("")
                .to_owned(),
        );
    }
    None
}

fn wait_10_min(label: &str, why: &str) -> ProviderError {
    ProviderError::new(
        ErrorClass::RateLimited {
            retry_after: Some(TEN_MINUTES),
        },
        format!(
            "{label}: ZoneEdit allows one update per host every 10 minutes ({why}); waiting 10 minutes"
        ),
    )
}

/// Interprets an answer for the address `sent`; `redact` masks secrets in quoted text.
fn interpret(
    label: &str,
    body: &str,
    sent: IpAddr,
    redact: &dyn Fn(&str) -> String,
) -> Result<UpdateOutcome, ProviderError> {
    let unchanged = Ok(UpdateOutcome::Unchanged { record_id: None });
    if let Some(tag) = first_tag(body) {
        let said = format!(
            "{} {}: {}",
            if tag.success { "SUCCESS" } else { "ERROR" },
            tag.code,
            redact(&crate::http::snippet(&tag.text))
        );
        let text = tag.text.to_ascii_lowercase();
        return match (tag.success, tag.code.as_str()) {
            (true, "201") => unchanged,
            (true, _) => Ok(UpdateOutcome::Updated { record_id: None }),
            (false, "701") => Err(ProviderError::rejected(format!(
                "{label}: the zone is not set up in this account ({said})"
            ))),
            (false, "707") if text_names(&text, sent) => unchanged,
            (false, "702" | "707") => Err(wait_10_min(label, &said)),
            (false, "708") => Err(ProviderError::auth(format!(
                "{label}: the user name or DYN token was refused ({said})"
            ))),
            (false, "709") => Err(ProviderError::rejected(format!(
                "{label}: ZoneEdit calls the hostname invalid ({said})"
            ))),
            (false, "700") if text.contains("no update required") => unchanged,
            _ => Err(ProviderError::transient(format!("{label}: {said}"))),
        };
    }
    let words = crate::http::plain_text(body);
    for word in ["NOACCESS", "NO_AUTH"] {
        if has_word(&words, word) {
            return Err(ProviderError::auth(format!(
                "{label}: the user name or DYN token was refused, or the host is not in this account ({word})"
            )));
        }
    }
    if has_word(&words, "NOSERVICE") {
        return Err(ProviderError::rejected(format!(
            "{label}: dynamic DNS is not enabled for this domain (NOSERVICE); enable it in the domain's settings"
        )));
    }
    if has_word(&words, "ILLEGAL INPUT") {
        return Err(ProviderError::rejected(format!(
            "{label}: ZoneEdit refused the request's data (ILLEGAL INPUT)"
        )));
    }
    if has_word(&words, "TOOSOON") {
        return Err(wait_10_min(label, "TOOSOON"));
    }
    Err(ProviderError::transient(format!(
        "{label}: unexpected answer `{}`",
        redact(&crate::http::snippet(body.trim()))
    )))
}

/// Whether a tag's text (lower-case) names `ip` as a whole token.
fn text_names(text: &str, ip: IpAddr) -> bool {
    text.split(|c: char| !(c.is_ascii_hexdigit() || c == '.' || c == ':'))
        .any(|w| w.trim_end_matches('.').parse::<IpAddr>().ok() == Some(ip))
}

#[async_trait]
impl Setter for Zoneedit {
    #[tracing::instrument(skip_all, fields(provider = %self.name, record = %request.name))]
    async fn set(&self, request: &UpdateRequest<'_>) -> Result<UpdateOutcome, ProviderError> {
        let label = format!("zoneedit `{}`", self.name);
        let ip = request.addrs[0];
        if !ip.is_ipv4() {
            return Err(ProviderError::rejected(format!(
                "{label}: ZoneEdit's dynamic DNS updates A records only"
            )));
        }
        let mut query = vec![("host", request.name.to_owned()), ("dnsto", ip.to_string())];
        if let Some(zone) = &self.zone
            && super::in_zone(request.name, zone)
            && super::relative(request.name, zone).contains('.')
        {
            query.push(("zone", zone.clone()));
        }
        let http = self
            .client
            .get(&self.url)
            .query(&query)
            .basic_auth(&self.username, Some(self.token.expose()));
        let wait = |left: u64| {
            ProviderError::new(
                ErrorClass::RateLimited {
                    retry_after: Some(left),
                },
                format!(
                    "{label}: ZoneEdit allows one update per host every 10 minutes; the next may go out in {left} s"
                ),
            )
        };
        let answer = self
            .spacing
            .guard(
                request.name,
                wait,
                send(&label, http, &[self.token.expose()]),
            )
            .await?;
        let redact = |t: &str| answer.redact(t);
        if answer.status == reqwest::StatusCode::UNAUTHORIZED
            || answer.status == reqwest::StatusCode::FORBIDDEN
        {
            return Err(ProviderError::auth(format!(
                "{label}: credentials refused (HTTP {}) {}",
                answer.status,
                answer.snippet()
            )));
        }
        if !answer.status.is_success() {
            return match interpret(&label, &answer.body, ip, &redact) {
                Err(e) if e.class != ErrorClass::Transient => Err(e),
                _ => Err(answer.status_error(&label, None)),
            };
        }
        interpret(&label, &answer.body, ip, &redact)
    }

    async fn check(&self, name: &str, record_type: RecordType) -> Result<String, ProviderError> {
        let _ = (name, record_type);
        Ok(
            "ZoneEdit has no read-only call: the first update checks the user name and token"
                .to_owned(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_and_attributes() {
        assert_eq!(
            first_tag(
                "<SUCCESS CODE=\"200\" TEXT=\"home.example.com updated to 198.51.100.7\" ZONE=\"example.com\">\n<SUCCESS CODE=\"200\">"
            ),
            Some(Tag {
                success: true,
                code: "200".into(),
                text: "home.example.com updated to 198.51.100.7".into()
            })
        );
        assert_eq!(
            first_tag("<html><ERROR CODE='708' TEXT='Failed Login: me'/>"),
            Some(Tag {
                success: false,
                code: "708".into(),
                text: "Failed Login: me".into()
            })
        );
        assert_eq!(
            attribute(" ZONECODE=\"1\" CODE=2", "CODE").as_deref(),
            Some("2")
        );
        assert_eq!(first_tag("<html><body>NOACCESS</body></html>"), None);
    }

    #[test]
    fn every_code_and_word() {
        let ip: IpAddr = "198.51.100.7".parse().unwrap();
        let plain = |t: &str| t.to_owned();
        let class = |body: &str| interpret("t", body, ip, &plain).map_err(|e| e.class);
        let updated = Ok(UpdateOutcome::Updated { record_id: None });
        let unchanged = Ok(UpdateOutcome::Unchanged { record_id: None });
        let wait = Err(ErrorClass::RateLimited {
            retry_after: Some(600),
        });
        let tag = |kind: &str, code: &str, text: &str| {
            format!("<{kind} CODE=\"{code}\" TEXT=\"{text}\" ZONE=\"example.com\">")
        };
        assert_eq!(
            class(&tag(
                "SUCCESS",
                "200",
                "home.example.com updated to 198.51.100.7"
            )),
            updated
        );
        // The extra trailing SUCCESS 200 does not change the host's own answer.
        assert_eq!(
            class(&format!(
                "{}\n{}",
                tag("SUCCESS", "201", "No records need updating."),
                tag("SUCCESS", "200", "")
            )),
            unchanged
        );
        assert_eq!(
            class(&format!(
                "{}{}",
                tag("ERROR", "708", "Failed Login: me"),
                tag("SUCCESS", "200", "")
            )),
            Err(ErrorClass::Auth)
        );
        assert_eq!(
            class(&tag("ERROR", "701", "Zone is not set up in this account.")),
            Err(ErrorClass::Rejected)
        );
        assert_eq!(
            class(&tag("ERROR", "702", "Minimum 600 seconds between requests")),
            wait
        );
        assert_eq!(
            class(&tag(
                "ERROR",
                "707",
                "Duplicate updates for the same host/ip, adjust client settings"
            )),
            wait
        );
        assert_eq!(
            class(&tag("ERROR", "707", "Already set to 198.51.100.7.")),
            unchanged
        );
        // 198.51.100.70 is not the address sent.
        assert_eq!(
            class(&tag("ERROR", "707", "Already set to 198.51.100.70")),
            wait
        );
        assert_eq!(
            class(&tag("ERROR", "709", "Invalid hostname: x")),
            Err(ErrorClass::Rejected)
        );
        assert_eq!(
            class(&tag(
                "ERROR",
                "700",
                "no update required for home.example.com"
            )),
            unchanged
        );
        assert_eq!(
            class(&tag("ERROR", "700", "Update failed")),
            Err(ErrorClass::Transient)
        );
        assert_eq!(
            class(&tag("ERROR", "799", "Update failed")),
            Err(ErrorClass::Transient)
        );
        assert_eq!(class("NOACCESS"), Err(ErrorClass::Auth));
        assert_eq!(class("<p>NO_AUTH</p>"), Err(ErrorClass::Auth));
        assert_eq!(class("NOSERVICE"), Err(ErrorClass::Rejected));
        assert_eq!(class("ILLEGAL INPUT"), Err(ErrorClass::Rejected));
        assert_eq!(class("TOOSOON"), wait);
        assert_eq!(
            class("<html>captive portal</html>"),
            Err(ErrorClass::Transient)
        );
        assert_eq!(class(""), Err(ErrorClass::Transient));
    }
}
