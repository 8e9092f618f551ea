//! `DuckDNS`: `GET /update?domains=<sub>&token=<token>&ip=<address>` with `verbose=true`. An IPv6 update sends
//! the address in `ip` as well as in `ipv6`, so `DuckDNS` never fills the A record from the request's source
//! address (behind a proxy, the proxy's). `OK` … `UPDATED|NOCHANGE` succeeds; `KO` means a bad token or
//! domain (stop until the config changes).

use std::sync::Arc;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use super::{
    Capabilities, KindConfig, KindInfo, Provider, ProviderError, Setter, SetterProvider,
    UpdateOutcome, UpdateRequest, send,
};
use crate::config::check::FieldCheck;
use crate::config::{RecordType, Secret};

const DEFAULT_ENDPOINT: &str = "https://www.duckdns.org";

pub const INFO: KindInfo = KindInfo::provider(
    "duckdns",
    "https://www.duckdns.org/",
    &[super::secret("token"), super::ENDPOINT],
)
.example("token = \"a7c4d0ad-114e-40ef-ba1d-d217904a50f2\"")
.example_record("myhome.duckdns.org");

/// `kind = "duckdns"`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
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

    fn check_record(&self, name: &str, _types: &[RecordType], check: &mut FieldCheck<'_>) {
        if name
            .strip_suffix(".duckdns.org")
            .is_none_or(|sub| sub.is_empty() || sub.contains('.'))
        {
            check.problem(
                "name",
                "provider.duckdns.check.duckdns_name",
                &[("name", &name)],
            );
        }
    }

    fn build(
        &self,
        name: String,
        _kind: &'static str,
        client: reqwest::Client,
    ) -> Arc<dyn Provider> {
        Arc::new(SetterProvider(Duckdns {
            name,
            client,
            base: super::base_url(self.endpoint.as_deref(), DEFAULT_ENDPOINT),
            token: self.token.clone(),
        }))
    }
}

struct Duckdns {
    name: String,
    client: reqwest::Client,
    base: String,
    token: Secret,
}

#[async_trait]
impl Setter for Duckdns {
    #[tracing::instrument(skip_all, fields(provider = %self.name, record = %request.name))]
    async fn set(&self, request: &UpdateRequest<'_>) -> Result<UpdateOutcome, ProviderError> {
        let label = format!("duckdns `{}`", self.name);
        let sub = request
            .name
            .strip_suffix(".duckdns.org")
            .unwrap_or(request.name);
        let ip = request.addrs[0];
        let text = ip.to_string();
        let mut query = vec![
            ("domains", sub),
            ("token", self.token.expose()),
            ("ip", text.as_str()),
        ];
        if ip.is_ipv6() {
            query.push(("ipv6", text.as_str()));
        }
        query.push(("verbose", "true"));
        let http = self
            .client
            .get(format!("{}/update", self.base))
            .query(&query);
        let answer = send(&label, http, &[self.token.expose()]).await?;
        if !answer.status.is_success() {
            return Err(answer.status_error(&label, None));
        }
        let lines: Vec<&str> = answer.body.lines().map(str::trim).collect();
        let shown = lines
            .get(if ip.is_ipv4() { 1 } else { 2 })
            .copied()
            .unwrap_or("");
        if lines.first() == Some(&"OK")
            && !shown.is_empty()
            && shown.parse::<std::net::IpAddr>().ok() != Some(ip)
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
                    crate::http::snippet(other)
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
