//! DNS providers: one file per provider behind [`Provider`]; `error` classifies failures for policy.
//!
//! [`build`] turns validated [`ProviderSettings`] into a provider; its exhaustive `match` is the checklist for
//! adding one (config variant, file here, README section, tests).

mod alidns;
mod cloudflare;
mod desec;
mod dnspod;
mod duckdns;
mod dyndns2;
mod dynv6;
pub mod error;
mod gandi;
mod godaddy;
mod hetzner;
mod huawei;
mod namecheap;
mod porkbun;
mod powerdns;
mod rfc2136;
pub mod sign;
mod webhook;

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

pub use error::{ErrorClass, ProviderError};

use crate::config::{ProviderKind, ProviderSettings, RecordType};

/// One record to set.
#[derive(Debug, Clone, Copy)]
pub struct UpdateRequest<'a> {
    /// Lower-case ASCII, no trailing dot.
    pub name: &'a str,
    pub record_type: RecordType,
    pub ip: IpAddr,
    pub ttl: Option<u32>,
    /// The provider's id for this record from an earlier update, if it has ids.
    pub record_id: Option<&'a str>,
}

/// A successful update.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UpdateOutcome {
    /// The provider now serves `ip` for the record.
    Updated { record_id: Option<String> },
    /// The provider already served `ip` ("no change" answers); nothing was written.
    Unchanged { record_id: Option<String> },
}

/// A DNS host that can point a name at an address.
#[async_trait]
pub trait Provider: Send + Sync {
    /// Makes `name`'s `record_type` set hold exactly `ip`, creating the record if needed. Idempotent: calling
    /// it again with the same request is safe. The engine calls it only when the published value differs or
    /// the keep-alive is due, one record at a time per round. Errors are classified for retry policy.
    async fn update(&self, request: &UpdateRequest<'_>) -> Result<UpdateOutcome, ProviderError>;

    /// Checks the credentials and finds the zone and the record for `name` without changing anything
    /// (the settings dialog's "Test"). Returns what was found, as a sentence for the user. A provider whose
    /// API has no read-only call says so instead of writing.
    async fn check(&self, name: &str, record_type: RecordType) -> Result<String, ProviderError>;
}

/// The sentence for what a check found at a name.
#[must_use]
pub(crate) fn found(name: &str, record_type: RecordType, values: &[String], zone: &str) -> String {
    if values.is_empty() {
        format!(
            "credentials accepted; zone {zone}; no {record_type} record at {name} yet (the first update creates it)"
        )
    } else {
        format!(
            "credentials accepted; zone {zone}; {name} {record_type} holds {}",
            values.join(", ")
        )
    }
}

/// Builds the provider for validated settings.
#[must_use]
pub fn build(settings: &ProviderSettings) -> Arc<dyn Provider> {
    let name = settings.name.clone();
    match &settings.kind {
        ProviderKind::Cloudflare(cfg) => Arc::new(cloudflare::Cloudflare::new(name, cfg)),
        ProviderKind::Alidns(cfg) => Arc::new(alidns::Alidns::new(name, cfg)),
        ProviderKind::Dnspod(cfg) => Arc::new(dnspod::Dnspod::new(name, cfg)),
        ProviderKind::Huaweicloud(cfg) => Arc::new(huawei::Huawei::new(name, cfg)),
        ProviderKind::Dyndns2(cfg) => {
            Arc::new(dyndns2::Dyndns2::new(name, dyndns2::Preset::Generic, cfg))
        }
        ProviderKind::Noip(cfg) => {
            Arc::new(dyndns2::Dyndns2::new(name, dyndns2::Preset::Noip, cfg))
        }
        ProviderKind::Dynu(cfg) => {
            Arc::new(dyndns2::Dyndns2::new(name, dyndns2::Preset::Dynu, cfg))
        }
        ProviderKind::Dyn(cfg) => Arc::new(dyndns2::Dyndns2::new(name, dyndns2::Preset::Dyn, cfg)),
        ProviderKind::He(cfg) => Arc::new(dyndns2::Dyndns2::new(name, dyndns2::Preset::He, cfg)),
        ProviderKind::Dnsomatic(cfg) => {
            Arc::new(dyndns2::Dyndns2::new(name, dyndns2::Preset::Dnsomatic, cfg))
        }
        ProviderKind::Duckdns(cfg) => Arc::new(duckdns::Duckdns::new(name, cfg)),
        ProviderKind::Desec(cfg) => Arc::new(desec::Desec::new(name, cfg)),
        ProviderKind::Porkbun(cfg) => Arc::new(porkbun::Porkbun::new(name, cfg)),
        ProviderKind::Godaddy(cfg) => Arc::new(godaddy::Godaddy::new(name, cfg)),
        ProviderKind::Namecheap(cfg) => Arc::new(namecheap::Namecheap::new(name, cfg)),
        ProviderKind::Hetzner(cfg) => Arc::new(hetzner::Hetzner::new(name, cfg)),
        ProviderKind::Gandi(cfg) => Arc::new(gandi::Gandi::new(name, cfg)),
        ProviderKind::Dynv6(cfg) => Arc::new(dynv6::Dynv6::new(name, cfg)),
        ProviderKind::Powerdns(cfg) => Arc::new(powerdns::PowerDns::new(name, cfg)),
        ProviderKind::Rfc2136(cfg) => Arc::new(rfc2136::Rfc2136::new(name, cfg)),
        ProviderKind::Webhook(cfg) => Arc::new(webhook::Webhook::new(name, cfg)),
    }
}

/// Largest answer body read from a provider API.
const MAX_BODY: usize = 1 << 20;

/// A provider API's answer, read in full (bounded).
#[derive(Debug)]
pub(crate) struct Answer {
    pub status: reqwest::StatusCode,
    pub retry_after: Option<Duration>,
    pub body: String,
    /// Secret values to mask in anything quoted from the body.
    secrets: Vec<String>,
}

/// Sends a request and reads the answer. Network failures and unreadable bodies are classified here;
/// the status is left to the caller (several APIs report errors with 200).
pub(crate) async fn send(
    label: &str,
    request: reqwest::RequestBuilder,
    secrets: &[&str],
) -> Result<Answer, ProviderError> {
    let response = request
        .send()
        .await
        .map_err(|e| ProviderError::from_reqwest(label, &e))?;
    let status = response.status();
    let retry_after = crate::http::retry_after(response.headers(), std::time::SystemTime::now());
    let body = crate::http::read_body(response, MAX_BODY)
        .await
        .map_err(|e| ProviderError::transient(format!("{label}: {e}")))?;
    Ok(Answer {
        status,
        retry_after,
        body,
        secrets: secrets.iter().map(|s| (*s).to_owned()).collect(),
    })
}

impl Answer {
    /// The start of the body, secrets masked, for messages.
    pub fn snippet(&self) -> String {
        let secrets: Vec<&str> = self.secrets.iter().map(String::as_str).collect();
        error::redact(&crate::detect::snippet(self.body.trim()), &secrets)
    }

    /// Parses the body; anything else is an unexpected answer (transient: a proxy page, a truncated body).
    pub fn json<T: serde::de::DeserializeOwned>(&self, label: &str) -> Result<T, ProviderError> {
        serde_json::from_str(&self.body).map_err(|e| {
            ProviderError::transient(format!(
                "{label}: unexpected answer `{}` ({e})",
                self.snippet()
            ))
        })
    }

    /// The error for a non-success status, quoting `detail` (already redacted) or the body.
    pub fn status_error(&self, label: &str, detail: Option<&str>) -> ProviderError {
        let detail = detail.map_or_else(|| self.snippet(), str::to_owned);
        ProviderError::from_status(label, self.status, self.retry_after, &detail)
    }

    /// Masks secrets in a message taken from the body.
    pub fn redact(&self, text: &str) -> String {
        let secrets: Vec<&str> = self.secrets.iter().map(String::as_str).collect();
        error::redact(text, &secrets)
    }
}

/// Of several records at one name, the one to update: the one updated before (`record_id`), else the first.
/// It is taken out of `matching`; what is left are duplicates to delete. `matching` must not be empty.
pub(crate) fn take_kept<T>(
    matching: &mut Vec<T>,
    record_id: Option<&str>,
    id: impl Fn(&T) -> String,
) -> T {
    if let Some(pos) = record_id.and_then(|rid| matching.iter().position(|r| id(r) == rid)) {
        matching.swap(0, pos);
    }
    matching.remove(0)
}

/// `a.b.example.com` -> `a.b.example.com`, `b.example.com`, `example.com` (longest first; never a bare TLD).
#[must_use]
pub(crate) fn suffixes(name: &str) -> Vec<String> {
    let labels: Vec<&str> = name.split('.').collect();
    (0..labels.len().saturating_sub(1))
        .map(|i| labels[i..].join("."))
        .collect()
}

/// The name relative to its zone: `home` for `home.example.com` in `example.com`, `@` for the apex.
#[must_use]
pub(crate) fn relative(name: &str, zone: &str) -> String {
    name.strip_suffix(zone)
        .and_then(|r| r.strip_suffix('.'))
        .filter(|r| !r.is_empty())
        .map_or_else(|| "@".to_owned(), str::to_owned)
}

/// The last two labels: the registered domain for the usual one-label public suffixes (`.com`, `.de`).
#[must_use]
pub(crate) fn last_two_labels(name: &str) -> String {
    let labels: Vec<&str> = name.split('.').collect();
    labels[labels.len().saturating_sub(2)..].join(".")
}

/// The configured endpoint or the default, without a trailing slash.
#[must_use]
pub(crate) fn base_url(endpoint: Option<&str>, default: &str) -> String {
    endpoint.unwrap_or(default).trim_end_matches('/').to_owned()
}

/// `host[:port]` of a base URL, as signed request headers carry it.
#[must_use]
pub(crate) fn host_of(base: &str) -> String {
    reqwest::Url::parse(base)
        .ok()
        .and_then(|u| {
            u.host_str().map(|h| {
                u.port()
                    .map_or_else(|| h.to_owned(), |p| format!("{h}:{p}"))
            })
        })
        .unwrap_or_default()
}

/// Percent-encodes one path segment.
#[must_use]
pub(crate) fn segment(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~@*".contains(&b) {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn name_helpers() {
        assert_eq!(
            suffixes("a.b.example.com"),
            ["a.b.example.com", "b.example.com", "example.com"]
        );
        assert_eq!(relative("home.example.com", "example.com"), "home");
        assert_eq!(relative("example.com", "example.com"), "@");
        assert_eq!(relative("a.b.example.com", "example.com"), "a.b");
        assert_eq!(last_two_labels("a.b.example.com"), "example.com");
        assert_eq!(segment("a/b c"), "a%2Fb%20c");
    }
}
