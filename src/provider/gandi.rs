//! Gandi `LiveDNS` v5 with a personal access token. The domain is configured, or the longest of the account's
//! domains holding the name (listed once per round, page by page); the rrset is read and, when it differs,
//! replaced with `PUT` (create or replace).

use std::net::IpAddr;
use std::sync::Arc;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::reconcile::RoundCache;
use super::{
    Answer, Capabilities, Existing, KindConfig, KindInfo, Provider, ProviderError, Reconciler,
    SetApi, TtlRule, Zone, relative, segment, send,
};
use crate::config::{RecordType, Secret};

const DEFAULT_ENDPOINT: &str = "https://api.gandi.net/v5/livedns";
const DEFAULT_TTL: u32 = 300;
const PER_PAGE: usize = 100;
const MAX_PAGES: usize = 50;

pub const INFO: KindInfo = KindInfo::provider(
    "gandi",
    "https://admin.gandi.net/organizations/account/pat",
    &[super::secret("token"), super::opt("zone"), super::ENDPOINT],
)
.example("token = \"gandi-pat-value\"");

/// `kind = "gandi"`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub token: Secret,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
}

const CAPABILITIES: Capabilities = Capabilities {
    ttl: TtlRule {
        min: 300,
        max: 2_592_000,
        auto: None,
    },
    ..Capabilities::SETS
};

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
        CAPABILITIES
    }

    fn build(
        &self,
        name: String,
        _kind: &'static str,
        client: reqwest::Client,
    ) -> Arc<dyn Provider> {
        Arc::new(Reconciler::new(Api {
            name,
            client,
            base: super::base_url(self.endpoint.as_deref(), DEFAULT_ENDPOINT),
            token: self.token.clone(),
            zone: self.zone.as_deref().map(super::canonical),
            domains: RoundCache::default(),
        }))
    }
}

struct Api {
    name: String,
    client: reqwest::Client,
    base: String,
    token: Secret,
    zone: Option<String>,
    domains: RoundCache<(), Vec<String>>,
}

#[derive(Deserialize)]
struct Domain {
    fqdn: String,
}

#[derive(Deserialize)]
struct RrSet {
    #[serde(default)]
    rrset_values: Vec<String>,
    #[serde(default)]
    rrset_ttl: Option<u32>,
}

impl Api {
    fn label(&self) -> String {
        format!("gandi `{}`", self.name)
    }

    /// Sends; a 404 is returned (callers decide what it means), other failures are errors.
    async fn call(&self, request: reqwest::RequestBuilder) -> Result<Answer, ProviderError> {
        let label = self.label();
        let answer = send(
            &label,
            request.bearer_auth(self.token.expose()),
            &[self.token.expose()],
        )
        .await?;
        if answer.status.is_success() || answer.status == reqwest::StatusCode::NOT_FOUND {
            Ok(answer)
        } else {
            let detail = serde_json::from_str::<serde_json::Value>(&answer.body)
                .ok()
                .and_then(|v| v["message"].as_str().map(|m| answer.redact(m)));
            Err(answer.status_error(&label, detail.as_deref()))
        }
    }

    /// Every `LiveDNS` domain of the account, page by page.
    async fn list_domains(&self) -> Result<Vec<String>, ProviderError> {
        let label = self.label();
        let mut out = Vec::new();
        for page in 1..=MAX_PAGES {
            let answer = self
                .call(self.client.get(format!("{}/domains", self.base)).query(&[
                    ("per_page", PER_PAGE.to_string()),
                    ("page", page.to_string()),
                ]))
                .await?;
            if !answer.status.is_success() {
                return Err(answer.status_error(&label, None));
            }
            let total: Option<usize> = answer
                .headers
                .get("total-count")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse().ok());
            let domains: Vec<Domain> = answer.json(&label)?;
            let count = domains.len();
            out.extend(domains.into_iter().map(|d| super::canonical(&d.fqdn)));
            if count < PER_PAGE || total.is_some_and(|t| out.len() >= t) {
                break;
            }
        }
        Ok(out)
    }

    fn url(&self, zone: &Zone, name: &str, record_type: RecordType) -> String {
        format!(
            "{}/domains/{}/records/{}/{record_type}",
            self.base,
            zone.name,
            segment(&relative(name, &zone.name))
        )
    }

    async fn put(
        &self,
        zone: &Zone,
        name: &str,
        record_type: RecordType,
        values: &[IpAddr],
        ttl: u32,
    ) -> Result<(), ProviderError> {
        let values: Vec<String> = values.iter().map(ToString::to_string).collect();
        let body = json!({ "rrset_values": values, "rrset_ttl": ttl });
        let put = self
            .call(
                self.client
                    .put(self.url(zone, name, record_type))
                    .json(&body),
            )
            .await?;
        if put.status == reqwest::StatusCode::NOT_FOUND {
            return Err(ProviderError::rejected(format!(
                "{}: domain {} not found in LiveDNS",
                self.label(),
                zone.name
            )));
        }
        Ok(())
    }
}

#[async_trait]
impl SetApi for Api {
    fn label(&self) -> String {
        Api::label(self)
    }

    fn default_ttl(&self) -> u32 {
        DEFAULT_TTL
    }

    fn capabilities(&self) -> Capabilities {
        CAPABILITIES
    }

    async fn zones(&self) -> Result<Option<Vec<String>>, ProviderError> {
        Ok(Some(
            self.domains.get_or_try(&(), self.list_domains()).await?,
        ))
    }

    async fn zone(&self, name: &str) -> Result<Zone, ProviderError> {
        if let Some(z) = &self.zone {
            return Ok(Zone {
                id: z.clone(),
                name: z.clone(),
            });
        }
        let domains = self.domains.get_or_try(&(), self.list_domains()).await?;
        super::longest_zone(name, domains.iter().map(String::as_str))
            .map(|z| Zone {
                id: z.to_owned(),
                name: z.to_owned(),
            })
            .ok_or_else(|| {
                ProviderError::rejected(format!(
                    "{}: no LiveDNS domain of this account holds {name}",
                    self.label()
                ))
            })
    }

    async fn list(
        &self,
        zone: &Zone,
        name: &str,
        record_type: RecordType,
    ) -> Result<Vec<Existing>, ProviderError> {
        let current = self
            .call(self.client.get(self.url(zone, name, record_type)))
            .await?;
        if !current.status.is_success() {
            return Ok(Vec::new());
        }
        let set: RrSet = current.json(&self.label())?;
        if set.rrset_values.is_empty() {
            return Ok(Vec::new());
        }
        Ok(vec![Existing {
            id: relative(name, &zone.name),
            values: set.rrset_values,
            line: None,
            ttl: set.rrset_ttl,
            stale: false,
        }])
    }

    fn begin_round(&self) {
        self.domains.clear();
    }

    async fn put(
        &self,
        zone: &Zone,
        name: &str,
        record_type: RecordType,
        values: &[IpAddr],
        ttl: u32,
    ) -> Result<(), ProviderError> {
        Api::put(self, zone, name, record_type, values, ttl).await
    }

    async fn clear(
        &self,
        zone: &Zone,
        name: &str,
        record_type: RecordType,
    ) -> Result<(), ProviderError> {
        self.call(self.client.delete(self.url(zone, name, record_type)))
            .await?;
        Ok(())
    }
}
