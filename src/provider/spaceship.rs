//! Spaceship (`spaceship.dev/api/v1`, headers `X-API-Key` + `X-API-Secret`). Records have no ids: a record is
//! its type, relative name and value. The zone is the configured one, or the longest suffix of the name whose
//! record list answers (a domain not on Spaceship DNS answers 404 `SOA record … not found`); the zone's list
//! is read page by page (`take`/`skip`, both required) once per round and after each write. `PUT` adds
//! records (`force: true`), `DELETE` takes a JSON array of the records to remove; both answer 204. An update
//! adds the new value first, then removes the old one, so the name never resolves to nothing. No lines.
//! "Test" lists the account's domains (`GET /domains?take=&skip=`, paged the same way; it needs the key's
//! `domains:read` permission, which updating does not).
//! API notes: `docs/providers/spaceship.md`.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::reconcile::{RoundCache, TtlRule};
use super::{
    Answer, Capabilities, ErrorClass, Existing, KindConfig, KindInfo, Provider, ProviderError,
    Reconciler, RecordApi, Written, Zone, relative, segment, send, suffixes,
};
use crate::config::{RecordType, Secret};

const DEFAULT_ENDPOINT: &str = "https://spaceship.dev/api/v1";
const PAGE: usize = 100;
const MAX_PAGES: usize = 100;
/// The rate window (300 requests per 300 s): how long to wait after a 429 without `Retry-After`.
const RATE_WINDOW_SECS: u64 = 300;

pub const INFO: KindInfo = KindInfo::provider(
    "spaceship",
    "https://www.spaceship.com/application/api-manager/",
    &[
        super::req("api_key"),
        super::secret("api_secret"),
        super::opt("zone"),
        super::ENDPOINT,
    ],
)
.example("api_key = \"spaceshipkey123\"\napi_secret = \"spaceship-secret-value\"");

/// `kind = "spaceship"`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub api_key: String,
    pub api_secret: Secret,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
}

const CAPABILITIES: Capabilities = Capabilities {
    ttl: TtlRule {
        min: 60,
        max: 3600,
        auto: None,
    },
    ..Capabilities::RECORDS
};

impl KindConfig for Config {
    fn endpoint(&self) -> Option<&str> {
        self.endpoint.as_deref()
    }

    fn secrets_mut(&mut self) -> Vec<(String, &mut Secret)> {
        vec![("api_secret".into(), &mut self.api_secret)]
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
            api_key: self.api_key.clone(),
            api_secret: self.api_secret.clone(),
            zone: self.zone.as_deref().map(super::canonical),
            known: Mutex::new(HashMap::new()),
            listings: RoundCache::default(),
        }))
    }
}

struct Api {
    name: String,
    client: reqwest::Client,
    base: String,
    api_key: String,
    api_secret: Secret,
    zone: Option<String>,
    /// Suffix -> whether Spaceship serves it, learnt this round.
    known: Mutex<HashMap<String, bool>>,
    /// A zone's records, read this round.
    listings: RoundCache<String, Vec<Item>>,
}

#[derive(Deserialize)]
struct Items {
    #[serde(default)]
    items: Vec<Item>,
    #[serde(default)]
    total: u64,
}

#[derive(Deserialize)]
struct Domains {
    #[serde(default)]
    items: Vec<DomainItem>,
    #[serde(default)]
    total: u64,
}

#[derive(Deserialize)]
struct DomainItem {
    /// The A-label (punycode) form.
    name: String,
}

#[derive(Deserialize, Clone)]
struct Item {
    #[serde(rename = "type")]
    record_type: String,
    name: String,
    #[serde(default)]
    address: Option<String>,
    #[serde(default)]
    ttl: Option<u32>,
}

#[derive(Deserialize)]
struct ApiError {
    #[serde(default)]
    detail: String,
    #[serde(default)]
    data: Vec<FieldError>,
}

#[derive(Deserialize)]
struct FieldError {
    #[serde(default)]
    field: String,
    #[serde(default)]
    details: String,
}

impl Api {
    fn label(&self) -> String {
        format!("spaceship `{}`", self.name)
    }

    fn url(&self, zone: &str) -> String {
        format!("{}/dns/records/{}", self.base, segment(zone))
    }

    /// Sends with the key pair; 2xx is returned, other statuses are classified errors. `Ok(None)` is a 404
    /// whose detail says the domain has no SOA on Spaceship (not a zone of the account).
    async fn call(
        &self,
        request: reqwest::RequestBuilder,
    ) -> Result<Option<Answer>, ProviderError> {
        let label = self.label();
        let answer = send(
            &label,
            request
                .header("X-API-Key", &self.api_key)
                .header("X-API-Secret", self.api_secret.expose())
                .header("Accept", "application/json"),
            &[self.api_secret.expose()],
        )
        .await?;
        if answer.status.is_success() {
            return Ok(Some(answer));
        }
        let error = serde_json::from_str::<ApiError>(&answer.body).ok();
        if answer.status == reqwest::StatusCode::NOT_FOUND
            && error
                .as_ref()
                .is_some_and(|e| e.detail.starts_with("SOA record for domain"))
        {
            return Ok(None);
        }
        let code = answer
            .headers
            .get("spaceship-error-code")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let detail = error.map(|e| {
            let mut text = answer.redact(&e.detail);
            for f in e.data {
                let _ = write!(text, "; {}: {}", f.field, answer.redact(&f.details));
            }
            match &code {
                Some(c) => format!("{c}: {text}"),
                None => text,
            }
        });
        if answer.status == reqwest::StatusCode::TOO_MANY_REQUESTS {
            let wait = answer.retry_after.map_or(RATE_WINDOW_SECS, |d| d.as_secs());
            return Err(ProviderError::new(
                ErrorClass::RateLimited {
                    retry_after: Some(wait),
                },
                format!(
                    "{label}: rate limited (HTTP 429){}",
                    detail.map(|d| format!(": {d}")).unwrap_or_default()
                ),
            ));
        }
        Err(answer.status_error(&label, detail.as_deref()))
    }

    /// The zone's records, every page; `None` when Spaceship does not serve the domain.
    async fn read(&self, zone: &str) -> Result<Option<Vec<Item>>, ProviderError> {
        let mut out = Vec::new();
        for page in 0..MAX_PAGES {
            let Some(answer) = self
                .call(self.client.get(self.url(zone)).query(&[
                    ("take", PAGE.to_string()),
                    ("skip", (page * PAGE).to_string()),
                ]))
                .await?
            else {
                return Ok(None);
            };
            let items: Items = answer.json(&self.label())?;
            let n = items.items.len();
            out.extend(items.items);
            if n < PAGE || out.len() as u64 >= items.total {
                break;
            }
        }
        Ok(Some(out))
    }

    /// The account's domains, every page.
    async fn domains(&self) -> Result<Vec<String>, ProviderError> {
        let mut out = Vec::new();
        for page in 0..MAX_PAGES {
            let answer = self
                .call(self.client.get(format!("{}/domains", self.base)).query(&[
                    ("take", PAGE.to_string()),
                    ("skip", (page * PAGE).to_string()),
                ]))
                .await?
                .ok_or_else(|| {
                    ProviderError::rejected(format!("{}: no domain list", self.label()))
                })?;
            let domains: Domains = answer.json(&self.label())?;
            let n = domains.items.len();
            out.extend(domains.items.into_iter().map(|d| d.name));
            if n < PAGE || out.len() as u64 >= domains.total {
                break;
            }
        }
        Ok(out)
    }

    async fn records(&self, zone: &str) -> Result<Vec<Item>, ProviderError> {
        self.listings
            .get_or_try(&zone.to_owned(), async {
                self.read(zone).await?.ok_or_else(|| {
                    ProviderError::rejected(format!(
                        "{}: Spaceship does not serve DNS for {zone} (no SOA record); set the domain to Spaceship's nameservers first",
                        self.label()
                    ))
                })
            })
            .await
    }

    fn item(name: &str, zone: &Zone, record_type: RecordType, address: &str) -> Value {
        json!({ "type": record_type.as_str(), "name": relative(name, &zone.name), "address": address })
    }

    async fn put(
        &self,
        zone: &Zone,
        mut item: Value,
        ttl: Option<u32>,
    ) -> Result<(), ProviderError> {
        if let Some(ttl) = ttl {
            item["ttl"] = json!(ttl);
        }
        self.call(
            self.client
                .put(self.url(&zone.name))
                .json(&json!({ "force": true, "items": [item] })),
        )
        .await?
        .ok_or_else(|| self.gone(zone))?;
        Ok(())
    }

    async fn remove(&self, zone: &Zone, item: Value) -> Result<(), ProviderError> {
        self.call(
            self.client
                .delete(self.url(&zone.name))
                .json(&json!([item])),
        )
        .await?
        .ok_or_else(|| self.gone(zone))?;
        Ok(())
    }

    fn gone(&self, zone: &Zone) -> ProviderError {
        ProviderError::rejected(format!(
            "{}: Spaceship does not serve DNS for {} (no SOA record)",
            self.label(),
            zone.name
        ))
    }

    fn known(&self, zone: &str) -> Option<bool> {
        self.known.lock().ok().and_then(|k| k.get(zone).copied())
    }

    fn remember(&self, zone: &str, found: bool) {
        if let Ok(mut k) = self.known.lock() {
            k.insert(zone.to_owned(), found);
        }
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
        Ok(Some(self.domains().await?))
    }

    async fn zone(&self, name: &str) -> Result<Zone, ProviderError> {
        if let Some(z) = &self.zone {
            return Ok(Zone {
                id: z.clone(),
                name: z.clone(),
            });
        }
        for candidate in suffixes(name) {
            let found = if let Some(k) = self.known(&candidate) {
                k
            } else {
                let read = self.read(&candidate).await?;
                let found = read.is_some();
                if let Some(items) = read {
                    self.listings.put(candidate.clone(), items);
                }
                self.remember(&candidate, found);
                found
            };
            if found {
                return Ok(Zone {
                    id: candidate.clone(),
                    name: candidate,
                });
            }
        }
        Err(ProviderError::rejected(format!(
            "{}: Spaceship serves no domain holding {name}",
            self.label()
        )))
    }

    async fn list(
        &self,
        zone: &Zone,
        name: &str,
        record_type: RecordType,
    ) -> Result<Vec<Existing>, ProviderError> {
        let host = relative(name, &zone.name);
        Ok(self
            .records(&zone.name)
            .await?
            .into_iter()
            .filter(|i| {
                i.record_type.eq_ignore_ascii_case(record_type.as_str())
                    && i.name.eq_ignore_ascii_case(&host)
            })
            .filter_map(|i| {
                let address = i.address?;
                Some(Existing {
                    // No ids: the value names the record (`@`: not reported to the engine).
                    id: format!("@{address}"),
                    values: vec![address],
                    line: None,
                    ttl: i.ttl,
                    stale: false,
                })
            })
            .collect())
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
        let value = values.first().map(ToString::to_string).unwrap_or_default();
        let result = self
            .put(zone, Api::item(name, zone, record_type, &value), ttl)
            .await;
        self.listings.clear();
        result?;
        Ok(Written::new(None))
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
        let value = values.first().map(ToString::to_string).unwrap_or_default();
        let old = existing.values.first().cloned().unwrap_or_default();
        let result = async {
            // The new value first (with the old TTL unless one is set), then the old one removed.
            self.put(
                zone,
                Api::item(name, zone, record_type, &value),
                ttl.or(existing.ttl),
            )
            .await?;
            let same = super::reconcile::parse_addr(&old) == values.first().copied();
            if !same {
                self.remove(zone, Api::item(name, zone, record_type, &old))
                    .await?;
            }
            Ok::<(), ProviderError>(())
        }
        .await;
        self.listings.clear();
        result?;
        Ok(Written::new(None))
    }

    async fn delete(
        &self,
        zone: &Zone,
        name: &str,
        record_type: RecordType,
        existing: &Existing,
    ) -> Result<(), ProviderError> {
        let old = existing.values.first().cloned().unwrap_or_default();
        let result = self
            .remove(zone, Api::item(name, zone, record_type, &old))
            .await;
        self.listings.clear();
        result
    }

    fn begin_round(&self) {
        if let Ok(mut k) = self.known.lock() {
            k.clear();
        }
        self.listings.clear();
    }
}
