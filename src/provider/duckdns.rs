//! `DuckDNS`: `GET /update?domains=<sub>&token=<token>&ip=<v4>` (or `ipv6=<v6>`) with `verbose=true`.
//! `OK` ... `UPDATED|NOCHANGE` succeeds; `KO` means a bad token or domain (stop until the config changes).

use async_trait::async_trait;

use super::{Provider, ProviderError, UpdateOutcome, UpdateRequest, send};
use crate::config::RecordType;
use crate::config::Secret;
use crate::config::providers::TokenFile;

const DEFAULT_ENDPOINT: &str = "https://www.duckdns.org";

pub struct Duckdns {
    name: String,
    client: reqwest::Client,
    base: String,
    token: Secret,
}

impl Duckdns {
    pub fn new(name: String, cfg: &TokenFile) -> Self {
        Self {
            name,
            client: crate::http::api_client(),
            base: super::base_url(cfg.endpoint.as_deref(), DEFAULT_ENDPOINT),
            token: cfg.token.clone(),
        }
    }
}

#[async_trait]
impl Provider for Duckdns {
    #[tracing::instrument(skip_all, fields(provider = %self.name, record = %request.name))]
    async fn update(&self, request: &UpdateRequest<'_>) -> Result<UpdateOutcome, ProviderError> {
        let label = format!("duckdns `{}`", self.name);
        let sub = request
            .name
            .strip_suffix(".duckdns.org")
            .unwrap_or(request.name);
        let param = if request.ip.is_ipv4() { "ip" } else { "ipv6" };
        let ip = request.ip.to_string();
        let http = self.client.get(format!("{}/update", self.base)).query(&[
            ("domains", sub),
            ("token", self.token.expose()),
            (param, ip.as_str()),
            ("verbose", "true"),
        ]);
        let answer = send(&label, http, &[self.token.expose()]).await?;
        if !answer.status.is_success() {
            return Err(answer.status_error(&label, None));
        }
        let lines: Vec<&str> = answer.body.lines().map(str::trim).collect();
        let shown = lines
            .get(if request.ip.is_ipv4() { 1 } else { 2 })
            .copied()
            .unwrap_or("");
        if lines.first() == Some(&"OK")
            && !shown.is_empty()
            && shown.parse::<std::net::IpAddr>().ok() != Some(request.ip)
        {
            return Err(ProviderError::unconfirmed(format!(
                "{label}: DuckDNS reports {shown} after the update; could not confirm"
            )));
        }
        match lines.first().copied() {
            Some("OK") => match lines.get(3).copied() {
                Some("NOCHANGE") => Ok(UpdateOutcome::Unchanged { record_id: None }),
                // Non-verbose servers answer a bare OK.
                Some("UPDATED") | None => Ok(UpdateOutcome::Updated { record_id: None }),
                Some(other) => Err(ProviderError::transient(format!(
                    "{label}: unexpected answer `{}`",
                    crate::detect::snippet(other)
                ))),
            },
            Some("KO") => Err(ProviderError::auth(format!(
                "{label}: the token or the domain `{sub}` was refused (KO)"
            ))),
            _ => Err(ProviderError::transient(format!(
                "{label}: unexpected answer `{}`",
                answer.snippet()
            ))),
        }
    }

    async fn check(&self, name: &str, record_type: RecordType) -> Result<String, ProviderError> {
        let _ = (name, record_type);
        Ok("DuckDNS has no read-only call: the first update checks the token".to_owned())
    }
}
