//! Scaleway Domains and DNS (API `domain/v2beta1`) with an IAM API key's secret key in `X-Auth-Token`. The
//! zone is the configured `zone`, or the longest suffix of the name the key's projects have (`GET dns-zones`
//! filtered by `dns_zone`, each suffix asked once per round); records are listed by name and type, page by
//! page up to `total_count`; every change is one `PATCH …/records` with a `changes` list (`add`, `set` by the
//! record's id, `delete` by id; never `clear`), always with `disallow_new_zone_creation`. Dynamic records
//! (geo-IP, HTTP service, weighted, views) are never touched. "Test" lists every zone of the key's projects
//! (`GET dns-zones` without a filter, 100 a page up to `total_count`), sub-zones by their full name.

use std::net::IpAddr;
use std::sync::Arc;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::reconcile::RoundCache;
use super::{
    Answer, Capabilities, Existing, KindConfig, KindInfo, Provider, ProviderError, Reconciler,
    RecordApi, TtlRule, Written, Zone, relative, segment, send, suffixes,
};
use crate::config::{RecordType, Secret};

const DEFAULT_ENDPOINT: &str = "https://api.scaleway.com/domain/v2beta1";

pub const INFO: KindInfo = KindInfo::provider(
    "scaleway",
    "https://console.scaleway.com/iam/api-keys",
    &[
        super::secret("secret_key"),
        super::opt("zone"),
        super::flag("delete_duplicates"),
        super::ENDPOINT,
    ],
)
.example("secret_key = \"11111111-2222-3333-4444-555555555555\"");

/// `kind = "scaleway"`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub secret_key: Secret,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delete_duplicates: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
}

/// A minimum of 60 s (the clients in docs/providers/scaleway.md clamp to it).
const CAPABILITIES: Capabilities = Capabilities {
    ttl: TtlRule {
        min: 60,
        max: 2_147_483_647,
        auto: None,
    },
    ..Capabilities::RECORDS
};

/// Pages read at most (100 records each).
const MAX_PAGES: u64 = 50;

impl KindConfig for Config {
    fn endpoint(&self) -> Option<&str> {
        self.endpoint.as_deref()
    }

    fn secrets_mut(&mut self) -> Vec<(String, &mut Secret)> {
        vec![("secret_key".into(), &mut self.secret_key)]
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
        let api = Api {
            name,
            client,
            base: super::base_url(self.endpoint.as_deref(), DEFAULT_ENDPOINT),
            key: self.secret_key.clone(),
            zone: self.zone.as_deref().map(super::canonical),
            known: RoundCache::default(),
        };
        Arc::new(Reconciler::new(api).keeping_duplicates(self.delete_duplicates == Some(false)))
    }
}

struct Api {
    name: String,
    client: reqwest::Client,
    base: String,
    key: Secret,
    zone: Option<String>,
    /// Suffix -> whether the key sees that zone, learnt this round.
    known: RoundCache<String, bool>,
}

#[derive(Deserialize)]
struct ZonesPage {
    #[serde(default)]
    dns_zones: Vec<DnsZone>,
    #[serde(default)]
    total_count: u64,
}

#[derive(Deserialize)]
struct DnsZone {
    domain: String,
    #[serde(default)]
    subdomain: String,
    #[serde(default)]
    status: String,
}

impl DnsZone {
    fn full_name(&self) -> String {
        if self.subdomain.is_empty() {
            super::canonical(&self.domain)
        } else {
            super::canonical(&format!("{}.{}", self.subdomain, self.domain))
        }
    }
}

#[derive(Deserialize)]
struct RecordsPage {
    #[serde(default)]
    total_count: u64,
    #[serde(default)]
    records: Vec<Record>,
}

#[derive(Deserialize)]
struct Record {
    id: String,
    #[serde(rename = "type")]
    record_type: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    data: String,
    #[serde(default)]
    ttl: Option<u32>,
    #[serde(default)]
    geo_ip_config: Option<Value>,
    #[serde(default)]
    http_service_config: Option<Value>,
    #[serde(default)]
    weighted_config: Option<Value>,
    #[serde(default)]
    view_config: Option<Value>,
}

impl Record {
    fn dynamic(&self) -> bool {
        [
            &self.geo_ip_config,
            &self.http_service_config,
            &self.weighted_config,
            &self.view_config,
        ]
        .iter()
        .any(|c| c.as_ref().is_some_and(|v| !v.is_null()))
    }
}

impl Api {
    fn label(&self) -> String {
        format!("scaleway `{}`", self.name)
    }

    /// Sends; failures are classified from the status and the error's `type`.
    async fn call(&self, request: reqwest::RequestBuilder) -> Result<Answer, ProviderError> {
        let label = self.label();
        let answer = send(
            &label,
            request.header("X-Auth-Token", self.key.expose()),
            &[self.key.expose()],
        )
        .await?;
        if answer.status.is_success() {
            return Ok(answer);
        }
        Err(self.failure(&answer))
    }

    fn failure(&self, answer: &Answer) -> ProviderError {
        let label = self.label();
        let Ok(v) = serde_json::from_str::<Value>(&answer.body) else {
            return answer.status_error(&label, None);
        };
        let kind = v["type"].as_str().unwrap_or("");
        let detail = format!(
            "{kind}: {}",
            answer.redact(v["message"].as_str().unwrap_or(""))
        );
        match kind {
            "denied_authentication" | "permissions_denied" => ProviderError::auth(format!(
                "{label}: the secret key was refused ({detail}); it needs DomainsDNSFullAccess on the zone's project"
            )),
            // 403s that are not about the key: retrying cannot help, the key is fine.
            "quotas_exceeded" | "locked" | "resource_expired" | "precondition_failed" => {
                ProviderError::rejected(format!("{label}: {detail}"))
            }
            "transient_state" => ProviderError::transient(format!("{label}: {detail}")),
            _ => answer.status_error(&label, Some(&detail)),
        }
    }

    async fn has_zone(&self, candidate: &str) -> Result<bool, ProviderError> {
        self.known
            .get_or_try(&candidate.to_owned(), async {
                let label = self.label();
                let zones = self
                    .call(
                        self.client
                            .get(format!("{}/dns-zones", self.base))
                            .query(&[("dns_zone", candidate)]),
                    )
                    .await?
                    .json::<ZonesPage>(&label)?;
                match zones.dns_zones.iter().find(|z| z.full_name() == candidate) {
                    Some(z) if z.status == "locked" => Err(ProviderError::rejected(format!(
                        "{label}: the zone {candidate} is locked"
                    ))),
                    Some(_) => Ok(true),
                    None => Ok(false),
                }
            })
            .await
    }

    fn records_url(&self, zone: &Zone) -> String {
        format!("{}/dns-zones/{}/records", self.base, segment(&zone.id))
    }

    /// One `PATCH` with `change`; the records it answers.
    async fn change(&self, zone: &Zone, change: Value) -> Result<Vec<Record>, ProviderError> {
        let body = json!({
            "changes": [change],
            "return_all_records": false,
            "disallow_new_zone_creation": true,
        });
        Ok(self
            .call(self.client.patch(self.records_url(zone)).json(&body))
            .await?
            .json::<RecordsPage>(&self.label())?
            .records)
    }
}

/// The API's name for `name` in `zone`: the label, `""` for the apex.
fn api_name(name: &str, zone: &Zone) -> String {
    let label = relative(name, &zone.name);
    if label == "@" { String::new() } else { label }
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
        let label = self.label();
        let mut out = Vec::new();
        for page in 1..=MAX_PAGES {
            let batch = self
                .call(
                    self.client
                        .get(format!("{}/dns-zones", self.base))
                        .query(&[("page", page.to_string().as_str()), ("page_size", "100")]),
                )
                .await?
                .json::<ZonesPage>(&label)?;
            let count = batch.dns_zones.len();
            out.extend(batch.dns_zones.iter().map(DnsZone::full_name));
            if count == 0 || out.len() as u64 >= batch.total_count {
                break;
            }
        }
        Ok(Some(out))
    }

    async fn zone(&self, name: &str) -> Result<Zone, ProviderError> {
        if let Some(z) = &self.zone {
            return Ok(Zone {
                id: z.clone(),
                name: z.clone(),
            });
        }
        for candidate in suffixes(name) {
            if self.has_zone(&candidate).await? {
                return Ok(Zone {
                    id: candidate.clone(),
                    name: candidate,
                });
            }
        }
        Err(ProviderError::rejected(format!(
            "{}: no DNS zone this key can see holds {name} (check the key's project, or set zone)",
            self.label()
        )))
    }

    async fn list(
        &self,
        zone: &Zone,
        name: &str,
        record_type: RecordType,
    ) -> Result<Vec<Existing>, ProviderError> {
        let label = self.label();
        let want = api_name(name, zone);
        let mut out = Vec::new();
        let mut seen = 0;
        for page in 1..=MAX_PAGES {
            let batch = self
                .call(self.client.get(self.records_url(zone)).query(&[
                    ("name", want.as_str()),
                    ("type", record_type.as_str()),
                    ("page", page.to_string().as_str()),
                    ("page_size", "100"),
                ]))
                .await?
                .json::<RecordsPage>(&label)?;
            let count = batch.records.len() as u64;
            seen += count;
            for r in batch.records {
                let n = super::canonical(&r.name);
                if !((n == want || (n == "@" && want.is_empty()))
                    && r.record_type == record_type.as_str())
                {
                    continue;
                }
                if r.dynamic() {
                    return Err(ProviderError::rejected(format!(
                        "{label}: {name} {record_type} is a dynamic record (geo-IP, HTTP service, weighted or view); not changed"
                    )));
                }
                out.push(Existing {
                    id: r.id,
                    values: vec![r.data],
                    line: None,
                    ttl: r.ttl,
                    stale: false,
                });
            }
            if count == 0 || seen >= batch.total_count {
                return Ok(out);
            }
        }
        Err(ProviderError::transient(format!(
            "{label}: more than {MAX_PAGES} pages of records for {name}"
        )))
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
        let data = values.first().map(ToString::to_string).unwrap_or_default();
        let mut record = json!({
            "name": api_name(name, zone), "type": record_type.as_str(), "data": data,
        });
        if let Some(ttl) = ttl {
            record["ttl"] = json!(ttl);
        }
        let answered = self
            .change(zone, json!({ "add": { "records": [record] } }))
            .await?;
        let id = answered
            .into_iter()
            .find(|r| super::reconcile::parse_addr(&r.data) == values.first().copied())
            .map(|r| r.id);
        Ok(Written::new(id))
    }

    async fn update(
        &self,
        zone: &Zone,
        name: &str,
        record_type: RecordType,
        existing: &Existing,
        values: &[IpAddr],
        ttl: Option<u32>,
    ) -> Result<Written, ProviderError> {
        let data = values.first().map(ToString::to_string).unwrap_or_default();
        let mut record = json!({
            "name": api_name(name, zone), "type": record_type.as_str(), "data": data,
        });
        // `set` replaces the record: keep its TTL unless the config sets one.
        if let Some(ttl) = ttl.or(existing.ttl) {
            record["ttl"] = json!(ttl);
        }
        let answered = self
            .change(
                zone,
                json!({ "set": { "id": existing.id, "records": [record] } }),
            )
            .await?;
        let Some(r) = answered
            .into_iter()
            .find(|r| super::reconcile::parse_addr(&r.data) == values.first().copied())
        else {
            return Err(ProviderError::unconfirmed(format!(
                "{}: the answer does not hold {data}; could not confirm",
                self.label()
            )));
        };
        Ok(Written::new(Some(r.id)))
    }

    async fn delete(
        &self,
        zone: &Zone,
        _name: &str,
        _record_type: RecordType,
        existing: &Existing,
    ) -> Result<(), ProviderError> {
        self.change(zone, json!({ "delete": { "id": existing.id } }))
            .await
            .map(|_| ())
    }

    fn begin_round(&self) {
        self.known.clear();
    }
}
