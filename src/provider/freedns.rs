//! afraid.org `FreeDNS`, the v2 "sync" interface: `GET https://sync.afraid.org/u/<token>/?address=<ip>` for an
//! A record, `GET https://v6.sync.afraid.org/u/<token>/?address=<ip>` for an AAAA record. The token is the
//! randomized per-record update token shown in the record's sync URL at freedns.afraid.org/dynamic/v2/ (not the
//! account password): it names **one record** and needs no other credential, so no `Authorization` header and
//! no hostname goes with the request, and a `[[record]]` using this kind must name one type (a second provider
//! with the AAAA record's token serves the AAAA). The whole pasted sync URL is accepted and reduced to the token.
//!
//! The address is always sent explicitly (`address=`, as the v1 page documents for any update URL and
//! `OpenWrt`'s `afraid.org-v2-token` sends it), never left to the request's source address.
//!
//! Answers (plain text, HTTP 200): `Updated …` succeeds; `No IP change detected …` (and v1's
//! `ERROR: Address <ip> has not changed.`) is unchanged; any other `ERROR: …` is refused (about the token or
//! the update URL: a credential problem; else a rejected request); HTTP 404 means a wrong or disabled token.
//! `FreeDNS` documents no rate limit; ddns-tray only writes on change. Nothing else of the account is touched.
//!
//! Endpoints: `endpoint` replaces the A host, `endpoint_v6` the AAAA host. With only `endpoint` set, both
//! families go to it (the address is explicit, so one server can take both: tests and fakes point one
//! loopback server at both); with neither, `sync.afraid.org` and `v6.sync.afraid.org`.
//! Notes and sources: `docs/providers/dyn-endpoints.md` section 1 (retrieved 2026-12-04).

use std::net::IpAddr;
use std::sync::Arc;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use super::{
    Capabilities, KindConfig, KindInfo, Provider, ProviderError, Setter, SetterProvider,
    UpdateOutcome, UpdateRequest, send,
};
use crate::config::check::FieldCheck;
use crate::config::{RecordType, Secret};

const DEFAULT_ENDPOINT: &str = "https://sync.afraid.org";
const DEFAULT_ENDPOINT_V6: &str = "https://v6.sync.afraid.org";

pub const INFO: KindInfo = KindInfo::provider(
    "freedns",
    "https://freedns.afraid.org/dynamic/v2/",
    &[
        super::secret("token"),
        super::ENDPOINT,
        super::opt("endpoint_v6"),
    ],
)
.example("token = \"CyTXMbtq5cPnLjEg5vKHTPDE\"");

/// `kind = "freedns"`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The record's update token, or its whole sync URL.
    pub token: Secret,
    /// Replaces `https://sync.afraid.org` (and the AAAA host too when `endpoint_v6` is not set).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
    /// Replaces `https://v6.sync.afraid.org`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint_v6: Option<String>,
}

/// The token of a pasted value: `https://sync.afraid.org/u/<token>/` (any host, query or fragment) gives
/// `<token>`; anything without `/u/` is taken as it is.
#[must_use]
pub fn token_of(value: &str) -> &str {
    let value = value.trim();
    match value.split_once("/u/") {
        Some((_, rest)) => rest.split(['/', '?', '#']).next().unwrap_or(""),
        None => value,
    }
}

/// Tokens seen are letters and digits; `-` and `_` are let through (the alphabet is not documented).
fn plausible_token(token: &str) -> bool {
    !token.is_empty()
        && token
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

impl KindConfig for Config {
    fn endpoint(&self) -> Option<&str> {
        self.endpoint.as_deref()
    }

    fn secrets_mut(&mut self) -> Vec<(String, &mut Secret)> {
        vec![("token".into(), &mut self.token)]
    }

    fn validate(&self, check: &mut FieldCheck<'_>) {
        if let Some(e) = &self.endpoint_v6 {
            check.http_url("endpoint_v6", e);
        }
        let value = self.token.expose();
        // Empty: the secret is not resolved (its own problem is reported already).
        if !value.is_empty() && !plausible_token(token_of(value)) {
            check.problem("token", "provider.freedns.check.token", &[]);
        }
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            multi_value: false,
            concurrency: 1,
            ..Capabilities::RECORDS
        }
    }

    fn check_record(&self, _name: &str, types: &[RecordType], check: &mut FieldCheck<'_>) {
        if types.len() > 1 {
            check.problem("type", "provider.freedns.check.one_type", &[]);
        }
    }

    fn build(
        &self,
        name: String,
        _kind: &'static str,
        client: reqwest::Client,
    ) -> Arc<dyn Provider> {
        let v4 = super::base_url(self.endpoint.as_deref(), DEFAULT_ENDPOINT);
        let v6 = match (&self.endpoint_v6, &self.endpoint) {
            (Some(e), _) | (None, Some(e)) => super::base_url(Some(e), DEFAULT_ENDPOINT_V6),
            (None, None) => DEFAULT_ENDPOINT_V6.to_owned(),
        };
        Arc::new(SetterProvider(Freedns {
            name,
            client,
            v4,
            v6,
            pasted: self.token.clone(),
        }))
    }
}

struct Freedns {
    name: String,
    client: reqwest::Client,
    /// Base URLs for A and AAAA updates.
    v4: String,
    v6: String,
    /// As configured: the token or the whole sync URL (both are masked in messages).
    pasted: Secret,
}

/// Interprets a 200 answer's first non-empty line. `redact` masks secrets in quoted text.
fn interpret(
    label: &str,
    body: &str,
    redact: &dyn Fn(&str) -> String,
) -> Result<UpdateOutcome, ProviderError> {
    let line = body
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("");
    let lower = line.to_ascii_lowercase();
    if lower.starts_with("updated") {
        return Ok(UpdateOutcome::Updated { record_id: None });
    }
    if lower.starts_with("no ip change detected")
        // The v1 interface's wording for the same thing.
        || (lower.starts_with("error: address ") && lower.contains("has not changed"))
    {
        return Ok(UpdateOutcome::Unchanged { record_id: None });
    }
    let quoted = redact(&crate::http::snippet(line));
    if let Some(text) = lower.strip_prefix("error:") {
        if text.contains("token") || text.contains("url") || text.contains("auth") {
            return Err(ProviderError::auth(format!(
                "{label}: the update token was refused (`{quoted}`); copy the record's sync URL from freedns.afraid.org/dynamic/v2/"
            )));
        }
        return Err(ProviderError::rejected(format!(
            "{label}: FreeDNS refused the update (`{quoted}`)"
        )));
    }
    Err(ProviderError::transient(format!(
        "{label}: unexpected answer `{quoted}`"
    )))
}

#[async_trait]
impl Setter for Freedns {
    #[tracing::instrument(skip_all, fields(provider = %self.name, record = %request.name))]
    async fn set(&self, request: &UpdateRequest<'_>) -> Result<UpdateOutcome, ProviderError> {
        let label = format!("freedns `{}`", self.name);
        let ip: IpAddr = request.addrs[0];
        let token = token_of(self.pasted.expose());
        let base = if ip.is_ipv4() { &self.v4 } else { &self.v6 };
        let http = self
            .client
            .get(format!("{base}/u/{}/", super::segment(token)))
            .query(&[("address", ip.to_string())]);
        let secrets = [self.pasted.expose(), token];
        let answer = send(&label, http, &secrets).await?;
        if answer.status == reqwest::StatusCode::NOT_FOUND {
            return Err(ProviderError::auth(format!(
                "{label}: FreeDNS does not know this update token (HTTP 404): it is wrong, or dynamic DNS is off for its record"
            )));
        }
        if !answer.status.is_success() {
            return Err(answer.status_error(&label, None));
        }
        interpret(&label, &answer.body, &|t| answer.redact(t))
    }

    async fn check(&self, name: &str, record_type: RecordType) -> Result<String, ProviderError> {
        let _ = (name, record_type);
        Ok("FreeDNS has no read-only call: the first update checks the token".to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::super::ErrorClass;
    use super::*;

    #[test]
    fn pasted_urls_reduce_to_the_token() {
        for v in [
            "CyTXMbtq5cPnLjEg5vKHTPDE",
            " CyTXMbtq5cPnLjEg5vKHTPDE\n",
            "https://sync.afraid.org/u/CyTXMbtq5cPnLjEg5vKHTPDE/",
            "https://sync.afraid.org/u/CyTXMbtq5cPnLjEg5vKHTPDE",
            "http://v6.sync.afraid.org/u/CyTXMbtq5cPnLjEg5vKHTPDE/?address=2001:db8::7",
            "sync.afraid.org/u/CyTXMbtq5cPnLjEg5vKHTPDE?x#y",
        ] {
            assert_eq!(token_of(v), "CyTXMbtq5cPnLjEg5vKHTPDE", "{v:?}");
            assert!(plausible_token(token_of(v)));
        }
        // v1 URLs and other pastes are not tokens.
        for v in [
            "https://freedns.afraid.org/dynamic/update.php?abc123",
            "https://sync.afraid.org/u//",
            "tok en",
        ] {
            assert!(!plausible_token(token_of(v)), "{v:?}");
        }
    }

    #[test]
    fn every_answer() {
        let plain = |t: &str| t.to_owned();
        let class = |body: &str| interpret("t", body, &plain).map_err(|e| e.class);
        let updated = Ok(UpdateOutcome::Updated { record_id: None });
        let unchanged = Ok(UpdateOutcome::Unchanged { record_id: None });
        assert_eq!(
            class("Updated home.example.org from 192.0.2.1 to 198.51.100.7\n"),
            updated
        );
        assert_eq!(
            class("\n  Updated 1 host(s) home.example.org to 198.51.100.7"),
            updated
        );
        assert_eq!(
            class(
                "No IP change detected for home.example.org with IP 198.51.100.7, skipping update"
            ),
            unchanged
        );
        assert_eq!(
            class("ERROR: Address 198.51.100.7 has not changed."),
            unchanged
        );
        assert_eq!(
            class("ERROR: Invalid update URL (2)"),
            Err(ErrorClass::Auth)
        );
        assert_eq!(
            class("ERROR: Unable to locate this record"),
            Err(ErrorClass::Rejected)
        );
        assert_eq!(
            class("<html>captive portal</html>"),
            Err(ErrorClass::Transient)
        );
        assert_eq!(class(""), Err(ErrorClass::Transient));
        // Quoted text is masked.
        let err = interpret("t", "ERROR: bad token tok123", &|t: &str| {
            t.replace("tok123", "***")
        })
        .unwrap_err();
        assert!(!err.message.contains("tok123"), "{err:?}");
    }
}
