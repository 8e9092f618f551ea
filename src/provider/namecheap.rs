//! Namecheap Dynamic DNS: `GET /update?host=&domain=&password=&ip=`; an XML answer with HTTP 200 even on
//! errors. Success is `<ErrCount>0</ErrCount>`. IPv4 only (validation refuses AAAA records).

use async_trait::async_trait;

use super::{
    Provider, ProviderError, UpdateOutcome, UpdateRequest, last_two_labels, relative, send,
};
use crate::config::RecordType;
use crate::config::Secret;
use crate::config::providers::NamecheapFile;

const DEFAULT_ENDPOINT: &str = "https://dynamicdns.park-your-domain.com";

pub struct Namecheap {
    name: String,
    client: reqwest::Client,
    base: String,
    password: Secret,
    domain: Option<String>,
}

/// The text of the first `<tag>...</tag>`, if any.
fn tag<'a>(xml: &'a str, tag: &str) -> Option<&'a str> {
    let start = xml.find(&format!("<{tag}>"))? + tag.len() + 2;
    let end = xml[start..].find(&format!("</{tag}>"))? + start;
    Some(xml[start..end].trim())
}

impl Namecheap {
    pub fn new(name: String, cfg: &NamecheapFile) -> Self {
        Self {
            name,
            client: crate::http::api_client(),
            base: super::base_url(cfg.endpoint.as_deref(), DEFAULT_ENDPOINT),
            password: cfg.password.clone(),
            domain: cfg.domain.clone(),
        }
    }
}

#[async_trait]
impl Provider for Namecheap {
    #[tracing::instrument(skip_all, fields(provider = %self.name, record = %request.name))]
    async fn update(&self, request: &UpdateRequest<'_>) -> Result<UpdateOutcome, ProviderError> {
        let label = format!("namecheap `{}`", self.name);
        if !request.ip.is_ipv4() {
            return Err(ProviderError::rejected(format!(
                "{label}: Namecheap dynamic DNS updates A records only"
            )));
        }
        let domain = self
            .domain
            .clone()
            .unwrap_or_else(|| last_two_labels(request.name));
        let host = relative(request.name, &domain);
        let ip = request.ip.to_string();
        let http = self.client.get(format!("{}/update", self.base)).query(&[
            ("host", host.as_str()),
            ("domain", domain.as_str()),
            ("password", self.password.expose()),
            ("ip", ip.as_str()),
        ]);
        let answer = send(&label, http, &[self.password.expose()]).await?;
        if !answer.status.is_success() {
            return Err(answer.status_error(&label, None));
        }
        let Some(count) = tag(&answer.body, "ErrCount") else {
            return Err(ProviderError::transient(format!(
                "{label}: unexpected answer `{}`",
                answer.snippet()
            )));
        };
        if count == "0" {
            return match tag(&answer.body, "IP") {
                Some(shown) if !shown.is_empty() && shown != ip => {
                    Err(ProviderError::unconfirmed(format!(
                        "{label}: Namecheap reports {shown} after the update; could not confirm"
                    )))
                }
                _ => Ok(UpdateOutcome::Updated { record_id: None }),
            };
        }
        let error = answer.redact(tag(&answer.body, "Err1").unwrap_or("unknown error"));
        let lower = error.to_ascii_lowercase();
        Err(if lower.contains("password") {
            ProviderError::auth(format!(
                "{label}: {error} (use the domain's Dynamic DNS password)"
            ))
        } else if lower.contains("not found")
            || lower.contains("invalid")
            || lower.contains("no records")
        {
            ProviderError::rejected(format!("{label}: {error}"))
        } else {
            ProviderError::transient(format!("{label}: {error}"))
        })
    }

    async fn check(&self, name: &str, record_type: RecordType) -> Result<String, ProviderError> {
        let _ = (name, record_type);
        Ok(
            "Namecheap dynamic DNS has no read-only call: the first update checks the password"
                .to_owned(),
        )
    }
}
