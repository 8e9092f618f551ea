//! `easyDNS` dynamic DNS: `GET https://api.cp.easydns.com/dyn/generic.php?hostname=<fqdn>&myip=<ip>` with HTTP
//! Basic (the `easyDNS` user name and the domain's **Dynamic Authenticated Token**, which replaces the account
//! password). The request has the dyndns2 shape; the answers do not: they are HTML fragments carrying one of
//! `easyDNS`'s own words. An IPv6 address goes in `myip` too, in its own request (one family per request, as
//! `easyDNS` documents and ddclient 3.11 does). `wildcard`, `mx` and `backmx` are never sent, so the service keeps
//! what the control panel set; nothing but the named host's address is written.
//!
//! Answers (tags stripped, whole words, errors first): `NOACCESS`/`NO_AUTH` (bad credentials, or a host not in
//! this account) stop the record; `NOSERVICE` (dynamic DNS off for the domain) and `ILLEGAL INPUT` are
//! rejected; `TOOSOON`/`TOO_FREQ` wait 10 minutes; `NOERROR` is updated; `OK` is updated, or unchanged when
//! "no update required" follows. `1.1.1.1` and `0.0.0.0` are never sent (the 2001 spec gives them special
//! meanings: "detect my address" and "offline").
//!
//! Rate: "you need to wait at least 10 minutes between updates". ddns-tray keeps that itself: a second update
//! of the same host and family within 10 minutes of the last request waits (rate limited, with the time
//! left) instead of being sent. Notes and sources: `docs/providers/dyn-endpoints.md` section 3 (retrieved
//! 2026-12-04; kb.easydns.com/knowledge/dynamic-dns/).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use super::{
    Capabilities, ErrorClass, KindConfig, KindInfo, Provider, ProviderError, Setter,
    SetterProvider, UpdateOutcome, UpdateRequest, send,
};
use crate::config::{RecordType, Secret};

const DEFAULT_ENDPOINT: &str = "https://api.cp.easydns.com";
/// `easyDNS`'s (and `ZoneEdit`'s) minimum time between updates of one host.
pub(super) const TEN_MINUTES: u64 = 600;

pub const INFO: KindInfo = KindInfo::provider(
    "easydns",
    "https://kb.easydns.com/knowledge/dynamic-dns/",
    &[
        super::req("username"),
        super::secret("token"),
        super::ENDPOINT,
    ],
)
.example("username = \"me\"\ntoken = \"easydns-token-value\"");

/// `kind = "easydns"`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub username: String,
    /// The domain's Dynamic Authenticated Token.
    pub token: Secret,
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

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            multi_value: false,
            concurrency: 1,
            ..Capabilities::RECORDS
        }
    }

    fn build(
        &self,
        name: String,
        _kind: &'static str,
        client: reqwest::Client,
    ) -> Arc<dyn Provider> {
        Arc::new(SetterProvider(Easydns {
            name,
            client,
            url: format!(
                "{}/dyn/generic.php",
                super::base_url(self.endpoint.as_deref(), DEFAULT_ENDPOINT)
            ),
            username: self.username.clone(),
            token: self.token.clone(),
            spacing: Spacing::new(Duration::from_secs(TEN_MINUTES)),
        }))
    }
}

/// The time of the last request per key (a host, or a host and family), for services that refuse updates
/// closer together than `min`.
pub(super) struct Spacing {
    min: Duration,
    last: Mutex<HashMap<String, Instant>>,
}

impl Spacing {
    pub(super) fn new(min: Duration) -> Self {
        Self {
            min,
            last: Mutex::new(HashMap::new()),
        }
    }

    /// Seconds still to wait before `key` may be sent again (rounded up), if any.
    pub(super) fn wait_left(&self, key: &str, now: Instant) -> Option<u64> {
        let last = *self.last.lock().ok()?.get(key)?;
        let left = self.min.checked_sub(now.saturating_duration_since(last))?;
        (!left.is_zero()).then(|| left.as_secs() + u64::from(left.subsec_nanos() > 0))
    }

    /// A request for `key` went out at `now` (whatever its answer: the service counts attempts too).
    pub(super) fn sent(&self, key: &str, now: Instant) {
        if let Ok(mut last) = self.last.lock() {
            last.insert(key.to_owned(), now);
        }
    }

    /// Runs the request unless `key` must still wait; a request that reached the server (answered, or timed
    /// out after sending) counts.
    pub(super) async fn guard<T>(
        &self,
        key: &str,
        too_soon: impl FnOnce(u64) -> ProviderError,
        request: impl Future<Output = Result<T, ProviderError>>,
    ) -> Result<T, ProviderError> {
        if let Some(left) = self.wait_left(key, Instant::now()) {
            return Err(too_soon(left));
        }
        let started = Instant::now();
        let result = request.await;
        if result
            .as_ref()
            .map_or_else(|e| e.class == ErrorClass::Unconfirmed, |_| true)
        {
            self.sent(key, started);
        }
        result
    }
}

struct Easydns {
    name: String,
    client: reqwest::Client,
    url: String,
    username: String,
    token: Secret,
    spacing: Spacing,
}

/// Whether `word` (which may hold a space) occurs in `text` with no letter, digit or `_` on either side.
pub(super) fn has_word(text: &str, word: &str) -> bool {
    let is_word = |c: char| c.is_ascii_alphanumeric() || c == '_';
    text.match_indices(word).any(|(i, _)| {
        !text[..i].chars().next_back().is_some_and(is_word)
            && !text[i + word.len()..].chars().next().is_some_and(is_word)
    })
}

/// The error for a too-soon answer: wait 10 minutes.
fn too_soon(label: &str, word: &str) -> ProviderError {
    ProviderError::new(
        ErrorClass::RateLimited {
            retry_after: Some(TEN_MINUTES),
        },
        format!("{label}: easyDNS allows one update per 10 minutes ({word}); waiting 10 minutes"),
    )
}

/// Interprets an `easyDNS` answer body.
fn interpret(label: &str, body: &str, quoted: &str) -> Result<UpdateOutcome, ProviderError> {
    let text = crate::http::plain_text(body);
    let found = |w: &str| has_word(&text, w);
    for word in ["NOACCESS", "NO_AUTH"] {
        if found(word) {
            return Err(ProviderError::auth(format!(
                "{label}: the user name or dynamic token was refused, or the host is not in this account ({word})"
            )));
        }
    }
    if found("NOSERVICE") {
        return Err(ProviderError::rejected(format!(
            "{label}: dynamic DNS is not enabled for this domain (NOSERVICE); enable it in the domain's DNS settings"
        )));
    }
    if found("ILLEGAL INPUT") {
        return Err(ProviderError::rejected(format!(
            "{label}: easyDNS refused the request's data (ILLEGAL INPUT)"
        )));
    }
    for word in ["TOOSOON", "TOO_FREQ"] {
        if found(word) {
            return Err(too_soon(label, word));
        }
    }
    if found("NOERROR") {
        return Ok(UpdateOutcome::Updated { record_id: None });
    }
    if found("OK") {
        return Ok(
            if text.to_ascii_lowercase().contains("no update required") {
                UpdateOutcome::Unchanged { record_id: None }
            } else {
                UpdateOutcome::Updated { record_id: None }
            },
        );
    }
    Err(ProviderError::transient(format!(
        "{label}: unexpected answer `{quoted}`"
    )))
}

#[async_trait]
impl Setter for Easydns {
    #[tracing::instrument(skip_all, fields(provider = %self.name, record = %request.name))]
    async fn set(&self, request: &UpdateRequest<'_>) -> Result<UpdateOutcome, ProviderError> {
        let label = format!("easydns `{}`", self.name);
        let ip = request.addrs[0];
        if ip == IpAddr::from([1, 1, 1, 1]) || ip.is_unspecified() {
            return Err(ProviderError::rejected(format!(
                "{label}: easyDNS reads {ip} as a command (detect my address / offline), not an address; it is not sent"
            )));
        }
        let key = format!("{} {}", request.name, request.record_type);
        let http = self
            .client
            .get(&self.url)
            .query(&[("hostname", request.name), ("myip", &ip.to_string())])
            .basic_auth(&self.username, Some(self.token.expose()));
        let wait = |left: u64| {
            ProviderError::new(
                ErrorClass::RateLimited {
                    retry_after: Some(left),
                },
                format!(
                    "{label}: easyDNS allows one update per 10 minutes; the next may go out in {left} s"
                ),
            )
        };
        let answer = self
            .spacing
            .guard(&key, wait, send(&label, http, &[self.token.expose()]))
            .await?;
        let quoted = answer.snippet();
        if answer.status == reqwest::StatusCode::UNAUTHORIZED
            || answer.status == reqwest::StatusCode::FORBIDDEN
        {
            return Err(ProviderError::auth(format!(
                "{label}: credentials refused (HTTP {}) {quoted}",
                answer.status
            )));
        }
        if !answer.status.is_success() {
            return match interpret(&label, &answer.body, &quoted) {
                Err(e) if e.class != ErrorClass::Transient => Err(e),
                _ => Err(answer.status_error(&label, None)),
            };
        }
        interpret(&label, &answer.body, &quoted)
    }

    async fn check(&self, name: &str, record_type: RecordType) -> Result<String, ProviderError> {
        let _ = (name, record_type);
        Ok(
            "easyDNS has no read-only call: the first update checks the user name and token"
                .to_owned(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_word() {
        let class = |body: &str| interpret("t", body, "").map_err(|e| e.class);
        let updated = Ok(UpdateOutcome::Updated { record_id: None });
        let unchanged = Ok(UpdateOutcome::Unchanged { record_id: None });
        let wait = Err(ErrorClass::RateLimited {
            retry_after: Some(600),
        });
        assert_eq!(class("<HTML><BODY>NOERROR</BODY></HTML>"), updated);
        assert_eq!(class("NOERROR\n"), updated);
        assert_eq!(class("<html><body>OK</body></html>"), updated);
        assert_eq!(
            class(
                "<HTML><BODY><FONT face=\"Arial\">OK<br />\n<hr noshade>\nno update required for home.example.com to 198.51.100.7<br /></FONT></BODY></HTML>"
            ),
            unchanged
        );
        assert_eq!(class("<b>NOACCESS</b>"), Err(ErrorClass::Auth));
        assert_eq!(class("NO_AUTH"), Err(ErrorClass::Auth));
        assert_eq!(class("<p>NOSERVICE</p>"), Err(ErrorClass::Rejected));
        assert_eq!(class("ILLEGAL  <br>INPUT"), Err(ErrorClass::Rejected));
        assert_eq!(class("<p>TOOSOON</p>"), wait);
        assert_eq!(class("TOO_FREQ"), wait);
        // Errors win over an OK elsewhere in the page.
        assert_eq!(class("OK<br>NOACCESS"), Err(ErrorClass::Auth));
        // Whole words only: a host echoed back is no OK (qdm12's `contains("ok")` mistake).
        assert_eq!(
            class("<html>book.example.com BOOK TOKEN</html>"),
            Err(ErrorClass::Transient)
        );
        assert_eq!(class("NOERRORS"), Err(ErrorClass::Transient));
        assert_eq!(class(""), Err(ErrorClass::Transient));
    }

    #[test]
    fn words_and_tags() {
        assert_eq!(
            crate::http::plain_text("<a x='1'>OK</a>\n <b>no  update</b>"),
            "OK no update"
        );
        assert!(has_word("x OK.", "OK"));
        assert!(!has_word("xOK", "OK"));
        assert!(!has_word("NO_AUTHX", "NO_AUTH"));
    }

    #[test]
    fn spacing_counts_from_the_last_request() {
        let s = Spacing::new(Duration::from_mins(10));
        let t0 = Instant::now();
        assert_eq!(s.wait_left("h A", t0), None);
        s.sent("h A", t0);
        assert_eq!(s.wait_left("h A", t0), Some(600));
        assert_eq!(
            s.wait_left("h A", t0 + Duration::from_millis(100_500)),
            Some(500)
        );
        assert_eq!(s.wait_left("h AAAA", t0), None);
        assert_eq!(s.wait_left("h A", t0 + Duration::from_mins(10)), None);
        assert_eq!(s.wait_left("h A", t0 + Duration::from_mins(150)), None);
    }
}
