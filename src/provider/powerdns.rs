//! `PowerDNS` Authoritative HTTP API: find the zone (configured, or the longest suffix the server has), then
//! `PATCH /api/v1/servers/{server_id}/zones/{zone_id}` with one rrset, `changetype: REPLACE`.

use std::collections::HashMap;
use std::sync::Mutex;

use async_trait::async_trait;
use serde::Deserialize;
use serde_json::json;

use super::error::redact;
use super::{Provider, ProviderError, UpdateOutcome, UpdateRequest};
use crate::config::providers::PowerDnsFile;
use crate::config::{RecordType, Secret};

const DEFAULT_TTL: u32 = 60;
const MAX_BODY: usize = 1 << 20;

pub struct PowerDns {
    name: String,
    client: reqwest::Client,
    /// `{url}/api/v1/servers/{server_id}`
    base: String,
    api_key: Secret,
    zone: Option<String>,
    /// record name -> zone id, found once per process.
    zones: Mutex<HashMap<String, String>>,
}

#[derive(Deserialize)]
struct ZoneEntry {
    id: String,
    name: String,
}

#[derive(Deserialize)]
struct ApiError {
    error: String,
}

impl PowerDns {
    pub fn new(name: String, cfg: &PowerDnsFile) -> Self {
        let server_id = cfg.server_id.as_deref().unwrap_or("localhost");
        Self {
            base: format!(
                "{}/api/v1/servers/{}",
                cfg.url.trim_end_matches('/'),
                urlencode(server_id)
            ),
            name,
            client: crate::http::api_client(),
            api_key: cfg.api_key.clone(),
            zone: cfg
                .zone
                .as_deref()
                .map(|z| z.trim_end_matches('.').to_ascii_lowercase()),
            zones: Mutex::new(HashMap::new()),
        }
    }

    fn label(&self) -> String {
        format!("powerdns `{}`", self.name)
    }

    async fn send(
        &self,
        request: reqwest::RequestBuilder,
    ) -> Result<(reqwest::StatusCode, String), ProviderError> {
        let response = request
            .header("X-API-Key", self.api_key.expose())
            .header("Accept", "application/json")
            .send()
            .await
            .map_err(|e| ProviderError::from_reqwest(&self.label(), &e))?;
        let status = response.status();
        let retry = crate::http::retry_after(response.headers(), std::time::SystemTime::now());
        let body = crate::http::read_body(response, MAX_BODY)
            .await
            .map_err(|e| ProviderError::transient(format!("{}: {e}", self.label())))?;
        if status.is_success() {
            Ok((status, body))
        } else {
            let detail = serde_json::from_str::<ApiError>(&body)
                .map_or_else(|_| crate::detect::snippet(body.trim()), |e| e.error);
            let detail = redact(&detail, &[self.api_key.expose()]);
            Err(ProviderError::from_status(
                &self.label(),
                status,
                retry,
                &detail,
            ))
        }
    }

    /// The zone id holding `name`: the configured zone, else the longest suffix of `name` the server has.
    async fn zone_id(&self, name: &str) -> Result<String, ProviderError> {
        if let Some(id) = self.zones.lock().ok().and_then(|z| z.get(name).cloned()) {
            return Ok(id);
        }
        let candidates: Vec<String> = match &self.zone {
            Some(z) => vec![z.clone()],
            None => suffixes(name),
        };
        for candidate in &candidates {
            let fqdn = format!("{candidate}.");
            let request = self
                .client
                .get(format!("{}/zones", self.base))
                .query(&[("zone", fqdn.as_str()), ("dnssec", "false")]);
            let (_, body) = self.send(request).await?;
            let zones: Vec<ZoneEntry> = serde_json::from_str(&body).map_err(|e| {
                ProviderError::transient(format!(
                    "{}: unexpected answer to the zone list ({e})",
                    self.label()
                ))
            })?;
            if let Some(z) = zones
                .into_iter()
                .find(|z| z.name.eq_ignore_ascii_case(&fqdn))
            {
                if let Ok(mut cache) = self.zones.lock() {
                    cache.insert(name.to_owned(), z.id.clone());
                }
                return Ok(z.id);
            }
        }
        Err(ProviderError::rejected(match &self.zone {
            Some(z) => format!("{}: the server has no zone {z}", self.label()),
            None => format!("{}: the server has no zone holding {name}", self.label()),
        }))
    }
}

/// `a.b.example.com` -> `a.b.example.com`, `b.example.com`, `example.com`, `com` (longest first).
fn suffixes(name: &str) -> Vec<String> {
    let labels: Vec<&str> = name.split('.').collect();
    (0..labels.len()).map(|i| labels[i..].join(".")).collect()
}

fn urlencode(segment: &str) -> String {
    segment
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

#[async_trait]
impl Provider for PowerDns {
    #[tracing::instrument(skip_all, fields(provider = %self.name, record = %request.name))]
    async fn update(&self, request: &UpdateRequest<'_>) -> Result<UpdateOutcome, ProviderError> {
        let zone = self.zone_id(request.name).await?;
        let body = json!({
            "rrsets": [{
                "name": format!("{}.", request.name),
                "type": request.record_type.as_str(),
                "ttl": request.ttl.unwrap_or(DEFAULT_TTL),
                "changetype": "REPLACE",
                "records": [{ "content": request.ip.to_string(), "disabled": false }],
            }]
        });
        let url = format!("{}/zones/{}", self.base, urlencode(&zone));
        self.send(self.client.patch(url).json(&body)).await?;
        Ok(UpdateOutcome::Updated { record_id: None })
    }

    async fn check(&self, name: &str, record_type: RecordType) -> Result<String, ProviderError> {
        let zone = self.zone_id(name).await?;
        let (_, body) = self
            .send(
                self.client
                    .get(format!("{}/zones/{}", self.base, urlencode(&zone))),
            )
            .await?;
        let zone_json: serde_json::Value = serde_json::from_str(&body).map_err(|e| {
            ProviderError::transient(format!("{}: unexpected zone answer ({e})", self.label()))
        })?;
        let fqdn = format!("{name}.");
        let values: Vec<String> = zone_json["rrsets"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|r| {
                r["name"]
                    .as_str()
                    .is_some_and(|n| n.eq_ignore_ascii_case(&fqdn))
                    && r["type"] == record_type.as_str()
            })
            .flat_map(|r| {
                r["records"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|c| c["content"].as_str().map(str::to_owned))
                    .collect::<Vec<_>>()
            })
            .collect();
        Ok(super::found(
            name,
            record_type,
            &values,
            zone.trim_end_matches('.'),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zone_candidates_longest_first() {
        assert_eq!(
            suffixes("a.b.example.com"),
            ["a.b.example.com", "b.example.com", "example.com", "com"]
        );
    }

    #[test]
    fn zone_ids_are_escaped() {
        assert_eq!(urlencode("example.org."), "example.org.");
        assert_eq!(urlencode("a/b"), "a%2Fb");
    }
}
