//! Namecheap Dynamic DNS: `GET /update?host=&domain=&password=&ip=`; an XML answer with HTTP 200 even on
//! errors. Success is `<ErrCount>0</ErrCount>`. IPv4 only (validation refuses AAAA records).

use std::sync::Arc;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use super::{
    Capabilities, KindConfig, KindInfo, Provider, ProviderError, Setter, SetterProvider,
    UpdateOutcome, UpdateRequest, last_two_labels, relative, send,
};
use crate::config::check::FieldCheck;
use crate::config::{RecordType, Secret};

const DEFAULT_ENDPOINT: &str = "https://dynamicdns.park-your-domain.com";

pub const INFO: KindInfo = KindInfo::provider(
    "namecheap",
    "https://ap.www.namecheap.com/domains/list/",
    &[
        super::secret("password"),
        super::opt("domain"),
        super::ENDPOINT,
    ],
)
.example("password = \"nc-ddns-password\"");

/// `kind = "namecheap"`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub password: Secret,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
}

impl KindConfig for Config {
    fn endpoint(&self) -> Option<&str> {
        self.endpoint.as_deref()
    }

    fn secrets_mut(&mut self) -> Vec<(String, &mut Secret)> {
        vec![("password".into(), &mut self.password)]
    }

    fn zone(&self) -> Option<(&str, &'static str)> {
        self.domain.as_deref().map(|d| (d, "domain"))
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
            check.problem(
                "type",
                "provider.namecheap.check.namecheap_dynamic_dns_can",
                &[],
            );
        }
    }

    fn build(
        &self,
        name: String,
        _kind: &'static str,
        client: reqwest::Client,
    ) -> Arc<dyn Provider> {
        Arc::new(SetterProvider(Namecheap {
            name,
            client,
            base: super::base_url(self.endpoint.as_deref(), DEFAULT_ENDPOINT),
            password: self.password.clone(),
            domain: self.domain.as_deref().map(super::canonical),
        }))
    }
}

struct Namecheap {
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

#[async_trait]
impl Setter for Namecheap {
    #[tracing::instrument(skip_all, fields(provider = %self.name, record = %request.name))]
    async fn set(&self, request: &UpdateRequest<'_>) -> Result<UpdateOutcome, ProviderError> {
        let label = format!("namecheap `{}`", self.name);
        let ip_addr = request.addrs[0];
        if !ip_addr.is_ipv4() {
            return Err(ProviderError::rejected(format!(
                "{label}: Namecheap dynamic DNS updates A records only"
            )));
        }
        let domain = self
            .domain
            .clone()
            .unwrap_or_else(|| last_two_labels(request.name));
        let host = relative(request.name, &domain);
        let ip = ip_addr.to_string();
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
