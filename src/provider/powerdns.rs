//! `PowerDNS` Authoritative HTTP API. The zone is configured, or the longest zone of the server holding the
//! name (the zone list is read once per round); the zone's rrsets are read once per round per zone. Changed
//! rrsets are written with `PATCH` (`changetype: REPLACE`), grouped: changes to one zone that arrive while a
//! `PATCH` is in flight go together in the next one ([`Writer`]). `PowerDNS` applies a `PATCH` in one
//! transaction and spends its time per request (about 8 ms on `SQLite`, however many rrsets it carries), so a
//! thousand changes cost a handful of requests. Nothing is written when the rrset already holds the
//! addresses: no SOA serial bump, no NOTIFY.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::reconcile::RoundCache;
use super::{
    Answer, Capabilities, Existing, KindConfig, KindInfo, Provider, ProviderError, Reconciler,
    SetApi, Zone, segment, send, send_bounded,
};
use crate::config::check::FieldCheck;
use crate::config::{RecordType, Secret};

const DEFAULT_TTL: u32 = 60;
/// A whole zone with its rrsets can be large (10,000 records are about 2 MB).
const MAX_ZONE_BODY: usize = 64 << 20;

pub const INFO: KindInfo = KindInfo::provider(
    "powerdns",
    "https://doc.powerdns.com/authoritative/http-api/index.html",
    &[
        super::req("url"),
        super::secret("api_key"),
        super::opt("server_id"),
        super::opt("zone"),
    ],
)
.example("api_key = \"pdns-key-value\"")
.api("url");

/// `kind = "powerdns"`: the `PowerDNS` Authoritative HTTP API.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Base URL of the webserver, e.g. `http://127.0.0.1:8081`.
    pub url: String,
    pub api_key: Secret,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zone: Option<String>,
}

/// Many updates may be prepared at once; their writes are grouped per zone and sent one `PATCH` at a time
/// (the common `SQLite` backend refuses concurrent ones: "database is locked", HTTP 500).
const CAPABILITIES: Capabilities = Capabilities {
    concurrency: 256,
    ..Capabilities::SETS
};
/// Rrsets sent in one `PATCH` at most (bounds the request body).
const MAX_BATCH: usize = 500;

impl KindConfig for Config {
    fn secrets_mut(&mut self) -> Vec<(String, &mut Secret)> {
        vec![("api_key".into(), &mut self.api_key)]
    }

    fn validate(&self, check: &mut FieldCheck<'_>) {
        check.http_url("url", &self.url);
        if self
            .server_id
            .as_deref()
            .is_some_and(|s| s.trim().is_empty())
        {
            check.problem("server_id", "provider.powerdns.check.empty", &[]);
        }
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
        let server_id = self.server_id.as_deref().unwrap_or("localhost");
        Arc::new(Reconciler::new(Api {
            base: format!(
                "{}/api/v1/servers/{}",
                self.url.trim_end_matches('/'),
                segment(server_id)
            ),
            name,
            client,
            api_key: self.api_key.clone(),
            zone: self.zone.as_deref().map(super::canonical),
            zones: RoundCache::default(),
            rrsets: RoundCache::default(),
            writer: Writer(Arc::default()),
        }))
    }
}

/// An rrset: (name, type) -> (values, ttl).
type RrSets = Arc<HashMap<(String, String), (Vec<String>, Option<u32>)>>;

struct Api {
    name: String,
    client: reqwest::Client,
    /// `{url}/api/v1/servers/{server_id}`
    base: String,
    api_key: Secret,
    zone: Option<String>,
    zones: RoundCache<(), Vec<Zone>>,
    /// Zone id -> its rrsets, read once per round.
    rrsets: RoundCache<String, RrSets>,
    writer: Writer,
}

/// Group commit of rrset changes, per zone: the first change starts a flusher task that sends everything
/// queued in one `PATCH`, then what queued meanwhile, until the queue is empty. When a grouped `PATCH` is
/// rejected (one bad rrset fails the whole transaction), its changes are sent one by one so each gets its
/// own answer.
#[derive(Clone)]
struct Writer(Arc<std::sync::Mutex<HashMap<String, ZoneQueue>>>);

/// A change waiting to be written, and who waits for its result.
type Change = (
    serde_json::Value,
    tokio::sync::oneshot::Sender<Result<(), ProviderError>>,
);

#[derive(Default)]
struct ZoneQueue {
    pending: Vec<Change>,
    flushing: bool,
}

/// What a flusher needs, owned (it outlives the call that started it).
#[derive(Clone)]
struct Sender {
    client: reqwest::Client,
    url: String,
    api_key: Secret,
    label: String,
}

impl Sender {
    async fn patch(&self, rrsets: &[serde_json::Value]) -> Result<(), ProviderError> {
        let answer = send(
            &self.label,
            self.client
                .patch(&self.url)
                .header("X-API-Key", self.api_key.expose())
                .header("Accept", "application/json")
                .json(&json!({ "rrsets": rrsets })),
            &[self.api_key.expose()],
        )
        .await?;
        checked(&self.label, answer).map(|_| ())
    }
}

/// The answer when its status is a success; else the error, quoting the server's `error`.
fn checked(label: &str, answer: Answer) -> Result<Answer, ProviderError> {
    if answer.status.is_success() {
        return Ok(answer);
    }
    let detail = serde_json::from_str::<ApiError>(&answer.body)
        .map_or_else(|_| answer.snippet(), |e| answer.redact(&e.error));
    Err(answer.status_error(label, Some(&detail)))
}

impl Writer {
    /// Queues one rrset change for `zone` and waits for its own result.
    async fn write(
        &self,
        zone: &str,
        sender: Sender,
        rrset: serde_json::Value,
    ) -> Result<(), ProviderError> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let start = {
            let mut queues = self
                .0
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let q = queues.entry(zone.to_owned()).or_default();
            q.pending.push((rrset, tx));
            !std::mem::replace(&mut q.flushing, true)
        };
        if start {
            tokio::spawn(self.clone().flush(zone.to_owned(), sender));
        }
        rx.await.unwrap_or_else(|_| {
            Err(ProviderError::unconfirmed(
                "powerdns: the write was abandoned; could not confirm",
            ))
        })
    }

    async fn flush(self, zone: String, sender: Sender) {
        loop {
            let batch: Vec<Change> = {
                let mut queues = self
                    .0
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                let q = queues.entry(zone.clone()).or_default();
                if q.pending.is_empty() {
                    q.flushing = false;
                    return;
                }
                let take = q.pending.len().min(MAX_BATCH);
                q.pending.drain(..take).collect()
            };
            let (rrsets, waiters): (Vec<_>, Vec<_>) = batch.into_iter().unzip();
            match sender.patch(&rrsets).await {
                Ok(()) => waiters.into_iter().for_each(|w| {
                    let _ = w.send(Ok(()));
                }),
                Err(e) if rrsets.len() > 1 && e.class == crate::provider::ErrorClass::Rejected => {
                    for (rrset, w) in rrsets.into_iter().zip(waiters) {
                        let _ = w.send(sender.patch(std::slice::from_ref(&rrset)).await);
                    }
                }
                Err(e) => waiters.into_iter().for_each(|w| {
                    let _ = w.send(Err(e.clone()));
                }),
            }
        }
    }
}

#[derive(Deserialize)]
struct ZoneEntry {
    id: String,
    name: String,
}

#[derive(Deserialize)]
struct ZoneBody {
    #[serde(default)]
    rrsets: Vec<RrSet>,
}

#[derive(Deserialize)]
struct RrSet {
    name: String,
    #[serde(rename = "type")]
    record_type: String,
    #[serde(default)]
    ttl: Option<u32>,
    #[serde(default)]
    records: Vec<RrRecord>,
}

#[derive(Deserialize)]
struct RrRecord {
    content: String,
    #[serde(default)]
    disabled: bool,
}

#[derive(Deserialize)]
struct ApiError {
    error: String,
}

impl Api {
    fn label(&self) -> String {
        format!("powerdns `{}`", self.name)
    }

    /// Sends with the key; a non-success status becomes a classified error quoting the server's `error`.
    /// Sends a read with the key (bodies up to a whole zone).
    async fn call(&self, request: reqwest::RequestBuilder) -> Result<Answer, ProviderError> {
        let label = self.label();
        let request = request
            .header("X-API-Key", self.api_key.expose())
            .header("Accept", "application/json");
        checked(
            &label,
            send_bounded(&label, request, &[self.api_key.expose()], MAX_ZONE_BODY).await?,
        )
    }

    async fn list_zones(&self) -> Result<Vec<Zone>, ProviderError> {
        let answer = self
            .call(
                self.client
                    .get(format!("{}/zones", self.base))
                    .query(&[("dnssec", "false")]),
            )
            .await?;
        let zones: Vec<ZoneEntry> = answer.json(&self.label())?;
        Ok(zones
            .into_iter()
            .map(|z| Zone {
                id: z.id,
                name: super::canonical(&z.name),
            })
            .collect())
    }

    async fn read_zone(&self, zone_id: &str) -> Result<RrSets, ProviderError> {
        let answer = self
            .call(
                self.client
                    .get(format!("{}/zones/{}", self.base, segment(zone_id))),
            )
            .await?;
        let body: ZoneBody = answer.json(&self.label())?;
        Ok(Arc::new(
            body.rrsets
                .into_iter()
                .map(|r| {
                    let values = r
                        .records
                        .into_iter()
                        .filter(|c| !c.disabled)
                        .map(|c| c.content)
                        .collect();
                    ((super::canonical(&r.name), r.record_type), (values, r.ttl))
                })
                .collect(),
        ))
    }

    async fn patch(
        &self,
        zone: &Zone,
        name: &str,
        record_type: RecordType,
        change: serde_json::Value,
    ) -> Result<(), ProviderError> {
        let mut rrset = json!({ "name": format!("{name}."), "type": record_type.as_str() });
        if let (Some(target), Some(extra)) = (rrset.as_object_mut(), change.as_object()) {
            target.extend(extra.clone());
        }
        let sender = Sender {
            client: self.client.clone(),
            url: format!("{}/zones/{}", self.base, segment(&zone.id)),
            api_key: self.api_key.clone(),
            label: self.label(),
        };
        self.writer.write(&zone.id, sender, rrset).await
    }

    async fn replace(
        &self,
        zone: &Zone,
        name: &str,
        record_type: RecordType,
        values: &[IpAddr],
        ttl: u32,
    ) -> Result<(), ProviderError> {
        let records: Vec<serde_json::Value> = values
            .iter()
            .map(|ip| json!({ "content": ip.to_string(), "disabled": false }))
            .collect();
        self.patch(
            zone,
            name,
            record_type,
            json!({ "ttl": ttl, "changetype": "REPLACE", "records": records }),
        )
        .await
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
        let zones = self.zones.get_or_try(&(), self.list_zones()).await?;
        Ok(Some(zones.into_iter().map(|z| z.name).collect()))
    }

    async fn zone(&self, name: &str) -> Result<Zone, ProviderError> {
        let zones = self.zones.get_or_try(&(), self.list_zones()).await?;
        let wanted = match &self.zone {
            Some(z) => Some(z.as_str()),
            None => super::longest_zone(name, zones.iter().map(|z| z.name.as_str())),
        };
        wanted
            .and_then(|w| zones.iter().find(|z| z.name == w).cloned())
            .ok_or_else(|| {
                ProviderError::rejected(match &self.zone {
                    Some(z) => format!("{}: the server has no zone {z}", self.label()),
                    None => format!("{}: the server has no zone holding {name}", self.label()),
                })
            })
    }

    async fn list(
        &self,
        zone: &Zone,
        name: &str,
        record_type: RecordType,
    ) -> Result<Vec<Existing>, ProviderError> {
        let rrsets = self
            .rrsets
            .get_or_try(&zone.id, self.read_zone(&zone.id))
            .await?;
        Ok(rrsets
            .get(&(name.to_owned(), record_type.as_str().to_owned()))
            .filter(|(values, _)| !values.is_empty())
            .map(|(values, ttl)| Existing {
                id: name.to_owned(),
                values: values.clone(),
                line: None,
                ttl: *ttl,
                stale: false,
            })
            .into_iter()
            .collect())
    }

    fn begin_round(&self) {
        self.zones.clear();
        self.rrsets.clear();
    }

    async fn put(
        &self,
        zone: &Zone,
        name: &str,
        record_type: RecordType,
        values: &[IpAddr],
        ttl: u32,
    ) -> Result<(), ProviderError> {
        Api::replace(self, zone, name, record_type, values, ttl).await
    }

    async fn clear(
        &self,
        zone: &Zone,
        name: &str,
        record_type: RecordType,
    ) -> Result<(), ProviderError> {
        self.patch(zone, name, record_type, json!({ "changetype": "DELETE" }))
            .await
    }
}
