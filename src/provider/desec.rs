//! deSEC REST API (`RRsets`). The zone is the longest of the account's domains holding the name (the domain
//! list is read once per round, following its `Link: rel="next"` cursor pages); the `RRset` is read, then
//! created (`POST`), replaced (`PATCH`) or, for a set left over, emptied. Nothing is written when it already
//! holds exactly the addresses: deSEC's terms forbid no-op updates. 429 carries `Retry-After`.

use std::net::IpAddr;
use std::sync::Arc;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::reconcile::RoundCache;
use super::{
    Answer, Capabilities, Existing, KindConfig, KindInfo, Provider, ProviderError, Reconciler,
    RecordApi, TtlRule, Written, Zone, relative, segment, send,
};
use crate::config::{RecordType, Secret};

const DEFAULT_ENDPOINT: &str = "https://desec.io/api/v1";
/// deSEC's usual minimum TTL (a domain's `minimum_ttl`), used when the config sets none.
const DEFAULT_TTL: u32 = 3600;
const MAX_PAGES: usize = 50;

pub const INFO: KindInfo = KindInfo::provider(
    "desec",
    "https://desec.io/tokens",
    &[super::secret("token"), super::ENDPOINT],
)
.example("token = \"desec-token-value\"");

/// `kind = "desec"`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub token: Secret,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
}

const CAPABILITIES: Capabilities = Capabilities {
    ttl: TtlRule {
        min: 3600,
        max: 86_400,
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
            domains: RoundCache::default(),
        }))
    }
}

struct Api {
    name: String,
    client: reqwest::Client,
    base: String,
    token: Secret,
    domains: RoundCache<(), Vec<String>>,
}

#[derive(Deserialize)]
struct Domain {
    name: String,
}

#[derive(Deserialize)]
struct RrSet {
    #[serde(default)]
    records: Vec<String>,
    #[serde(default)]
    ttl: Option<u32>,
}

impl Api {
    fn label(&self) -> String {
        format!("desec `{}`", self.name)
    }

    async fn call(&self, request: reqwest::RequestBuilder) -> Result<Answer, ProviderError> {
        send(
            &self.label(),
            request.header("Authorization", format!("Token {}", self.token.expose())),
            &[self.token.expose()],
        )
        .await
    }

    async fn ok(&self, request: reqwest::RequestBuilder) -> Result<Answer, ProviderError> {
        let answer = self.call(request).await?;
        if answer.status.is_success() {
            Ok(answer)
        } else {
            Err(answer.status_error(&self.label(), None))
        }
    }

    /// Every domain of the account, following the cursor pages.
    async fn list_domains(&self) -> Result<Vec<String>, ProviderError> {
        let label = self.label();
        let mut url = format!("{}/domains/", self.base);
        let mut out = Vec::new();
        for _ in 0..MAX_PAGES {
            let answer = self.ok(self.client.get(&url)).await?;
            let domains: Vec<Domain> = answer.json(&label)?;
            out.extend(domains.into_iter().map(|d| super::canonical(&d.name)));
            // Only follow pages on the same API (a hostile Link must not send the token elsewhere).
            match answer.next_link() {
                Some(next) if next.starts_with(&self.base) => url = next,
                _ => break,
            }
        }
        Ok(out)
    }

    fn rrset_url(&self, zone: &Zone, name: &str, record_type: RecordType) -> String {
        let rel = relative(name, &zone.name);
        let sub = if rel == "@" { rel } else { segment(&rel) };
        format!(
            "{}/domains/{}/rrsets/{sub}/{record_type}/",
            self.base, zone.name
        )
    }
}

#[async_trait]
impl RecordApi for Api {
    fn label(&self) -> String {
        Api::label(self)
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
        let domains = self.domains.get_or_try(&(), self.list_domains()).await?;
        super::longest_zone(name, domains.iter().map(String::as_str))
            .map(|z| Zone {
                id: z.to_owned(),
                name: z.to_owned(),
            })
            .ok_or_else(|| {
                ProviderError::rejected(format!(
                    "{}: no domain of this account holds {name}",
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
        let url = self.rrset_url(zone, name, record_type);
        let current = self.call(self.client.get(&url)).await?;
        match current.status.as_u16() {
            404 => Ok(Vec::new()),
            s if (200..300).contains(&s) => {
                let set: RrSet = current.json(&self.label())?;
                Ok(vec![Existing {
                    id: url,
                    values: set.records,
                    line: None,
                    ttl: set.ttl,
                    stale: false,
                }])
            }
            _ => Err(current.status_error(&self.label(), None)),
        }
    }

    async fn create(
        &self,
        zone: &Zone,
        name: &str,
        record_type: RecordType,
        values: &[IpAddr],
        ttl: Option<u32>,
        _line: Option<&str>,
    ) -> Result<Written, ProviderError> {
        let rel = relative(name, &zone.name);
        let subname = if rel == "@" { String::new() } else { rel };
        let records: Vec<String> = values.iter().map(ToString::to_string).collect();
        let body = json!({
            "subname": subname, "type": record_type.as_str(), "records": records,
            "ttl": ttl.unwrap_or(DEFAULT_TTL),
        });
        self.ok(self
            .client
            .post(format!("{}/domains/{}/rrsets/", self.base, zone.name))
            .json(&body))
            .await?;
        Ok(Written::new(None))
    }

    async fn update(
        &self,
        zone: &Zone,
        name: &str,
        record_type: RecordType,
        _existing: &Existing,
        values: &[IpAddr],
        ttl: Option<u32>,
    ) -> Result<Written, ProviderError> {
        let records: Vec<String> = values.iter().map(ToString::to_string).collect();
        let mut body = json!({ "records": records });
        if let Some(ttl) = ttl {
            body["ttl"] = json!(ttl);
        }
        self.ok(self
            .client
            .patch(self.rrset_url(zone, name, record_type))
            .json(&body))
            .await?;
        Ok(Written::new(None))
    }

    async fn delete(
        &self,
        zone: &Zone,
        name: &str,
        record_type: RecordType,
        _existing: &Existing,
    ) -> Result<(), ProviderError> {
        self.ok(self.client.delete(self.rrset_url(zone, name, record_type)))
            .await?;
        Ok(())
    }

    fn begin_round(&self) {
        self.domains.clear();
    }
}
