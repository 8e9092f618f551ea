//! `OAuth2` bearer tokens for the kinds that get one from a token endpoint (Google Cloud DNS with a signed JWT
//! grant, Azure DNS with client credentials): the endpoint's answer read, the token cached until shortly
//! before it expires, one fetch at a time, and forgotten when the API refuses it.

use std::time::{Duration, Instant};

use serde::Deserialize;
use serde_json::Value;

use super::{Answer, ProviderError};
use crate::config::Secret;

/// A token is renewed this long before it expires (at most half its lifetime).
const MARGIN: Duration = Duration::from_mins(5);
/// The longest lifetime believed: a bound on what is added to the clock.
const LONGEST: Duration = Duration::from_hours(48);

#[derive(Deserialize)]
struct TokenAnswer {
    access_token: String,
    /// Seconds: a number (RFC 6749), or a string (older Entra ID answers).
    #[serde(default)]
    expires_in: Option<Value>,
}

/// A cached bearer token.
#[derive(Default)]
pub(super) struct Bearer {
    slot: tokio::sync::Mutex<Option<(Secret, Instant)>>,
}

impl Bearer {
    /// The cached token while it is fresh, else a new one from the answer `fetch` gets; a token endpoint's
    /// refusal is made an error by `refusal`. Callers wait for a fetch under way instead of starting theirs.
    pub(super) async fn get<Fut>(
        &self,
        label: &str,
        fetch: impl FnOnce() -> Fut,
        refusal: fn(&str, &Answer) -> ProviderError,
    ) -> Result<Secret, ProviderError>
    where
        Fut: Future<Output = Result<Answer, ProviderError>>,
    {
        let mut slot = self.slot.lock().await;
        if let Some((token, renew)) = slot.as_ref()
            && Instant::now() < *renew
        {
            return Ok(token.clone());
        }
        let answer = fetch().await?;
        if !answer.status.is_success() {
            return Err(refusal(label, &answer));
        }
        let token: TokenAnswer = answer.json(label)?;
        let secs = match &token.expires_in {
            Some(Value::Number(n)) => n.as_u64(),
            Some(Value::String(s)) => s.trim().parse().ok(),
            _ => None,
        };
        let lifetime = Duration::from_secs(secs.unwrap_or(3600)).min(LONGEST);
        let secret = Secret::resolved(token.access_token);
        *slot = Some((
            secret.clone(),
            Instant::now() + lifetime.saturating_sub(MARGIN.min(lifetime / 2)),
        ));
        Ok(secret)
    }

    /// Forgets `token` after the API refused it, unless a newer one has replaced it meanwhile.
    pub(super) async fn refused(&self, token: &Secret) {
        let mut slot = self.slot.lock().await;
        if slot
            .as_ref()
            .is_some_and(|(t, _)| t.expose() == token.expose())
        {
            *slot = None;
        }
    }
}
