//! Provider failures, classified for the engine's policy. Providers map every documented failure to one
//! [`ErrorClass`]; the engine decides from the class alone (never from the message) whether to back off,
//! wait, or stop until the config changes.

use std::time::Duration;

/// What kind of failure, as far as retry policy is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case", tag = "class")]
pub enum ErrorClass {
    /// Credentials refused: stop this record until its config changes; tell the user once.
    Auth,
    /// The request itself is invalid (unknown zone, name not allowed, bad input): retrying the same request
    /// cannot help, so stop until the config changes.
    Rejected,
    /// Too many requests: wait `retry_after` when given, else back off.
    RateLimited { retry_after: Option<u64> },
    /// The provider says abuse / banned: stop for at least an hour (longer when it says so).
    Banned { retry_after: Option<u64> },
    /// Network trouble, 5xx, an unreadable answer: back off and retry.
    Transient,
    /// The request was sent but its result is unknown (timeout after sending, unverifiable answer): back off
    /// and retry; the user is told "could not confirm", not "failed".
    Unconfirmed,
}

impl ErrorClass {
    /// A short name (metrics labels).
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Auth => "auth",
            Self::Rejected => "rejected",
            Self::RateLimited { .. } => "rate-limited",
            Self::Banned { .. } => "banned",
            Self::Transient => "transient",
            Self::Unconfirmed => "unconfirmed",
        }
    }

    /// Whether the engine stops the record until its configuration changes.
    #[must_use]
    pub fn stops_until_config_change(self) -> bool {
        matches!(self, Self::Auth | Self::Rejected)
    }

    #[must_use]
    pub fn retry_after(self) -> Option<Duration> {
        match self {
            Self::RateLimited { retry_after } | Self::Banned { retry_after } => {
                retry_after.map(Duration::from_secs)
            }
            _ => None,
        }
    }
}

/// A failed update: its class and a message for the user (lower-case, with context, never a secret).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ProviderError {
    pub class: ErrorClass,
    pub message: String,
}

impl ProviderError {
    pub fn new(class: ErrorClass, message: impl Into<String>) -> Self {
        Self {
            class,
            message: message.into(),
        }
    }

    pub fn auth(message: impl Into<String>) -> Self {
        Self::new(ErrorClass::Auth, message)
    }

    pub fn rejected(message: impl Into<String>) -> Self {
        Self::new(ErrorClass::Rejected, message)
    }

    pub fn transient(message: impl Into<String>) -> Self {
        Self::new(ErrorClass::Transient, message)
    }

    pub fn unconfirmed(message: impl Into<String>) -> Self {
        Self::new(ErrorClass::Unconfirmed, message)
    }

    /// A request error from reqwest. Timeouts after the request was sent are "could not confirm".
    #[must_use]
    pub fn from_reqwest(provider: &str, error: &reqwest::Error) -> Self {
        let text = crate::http::describe(error);
        if error.is_timeout() && !error.is_connect() {
            Self::unconfirmed(format!(
                "{provider}: no answer in time, could not confirm the update ({text})"
            ))
        } else {
            Self::transient(format!("{provider}: {text}"))
        }
    }

    /// Classifies a non-success HTTP answer by its status; `detail` is the provider's own error text.
    #[must_use]
    pub fn from_status(
        provider: &str,
        status: reqwest::StatusCode,
        retry_after: Option<Duration>,
        detail: &str,
    ) -> Self {
        let detail = if detail.is_empty() {
            String::new()
        } else {
            format!(": {detail}")
        };
        let secs = retry_after.map(|d| d.as_secs());
        match status.as_u16() {
            401 | 403 => Self::auth(format!(
                "{provider}: credentials refused (HTTP {status}){detail}"
            )),
            // The proxy's answer, not the provider's.
            407 => Self::auth(format!(
                "the proxy refused its credentials (HTTP {status}) on the way to {provider}; check `proxy`'s username and password"
            )),
            429 => Self::new(
                ErrorClass::RateLimited { retry_after: secs },
                format!("{provider}: rate limited (HTTP {status}){detail}"),
            ),
            400 | 404 | 405 | 409 | 410 | 422 => Self::rejected(format!(
                "{provider}: request rejected (HTTP {status}){detail}"
            )),
            _ => Self::transient(format!("{provider}: HTTP {status}{detail}")),
        }
    }
}

pub use crate::http::redact;

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::StatusCode;

    #[test]
    fn status_classes() {
        let c = |s: u16, ra| {
            ProviderError::from_status("p", StatusCode::from_u16(s).unwrap(), ra, "x").class
        };
        assert_eq!(c(401, None), ErrorClass::Auth);
        assert_eq!(c(403, None), ErrorClass::Auth);
        assert_eq!(
            c(429, Some(Duration::from_secs(90))),
            ErrorClass::RateLimited {
                retry_after: Some(90)
            }
        );
        assert_eq!(c(422, None), ErrorClass::Rejected);
        assert_eq!(c(404, None), ErrorClass::Rejected);
        assert_eq!(c(500, None), ErrorClass::Transient);
        assert_eq!(c(503, Some(Duration::from_secs(5))), ErrorClass::Transient);
    }

    #[test]
    fn redaction() {
        assert_eq!(
            redact("bad key s3cr3t-key given", &["s3cr3t-key"]),
            "bad key *** given"
        );
        assert_eq!(redact("abc", &[""]), "abc");
    }
}
