//! Cloudflare API v4 with a scoped API token: find the zone (configured id, or the longest suffix of the
//! record name Cloudflare has), list records by exact name and type, create when missing, else PATCH the
//! content. The user's `proxied` and `comment` stay unless the config sets them. Extra records with the same
//! name and type are deleted, so the name resolves to one address.

use std::collections::HashMap;
use std::sync::Mutex;

use async_trait::async_trait;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::{Answer, Provider, ProviderError, UpdateOutcome, UpdateRequest, send, suffixes};
use crate::config::providers::CloudflareFile;
use crate::config::{RecordType, Secret};

const DEFAULT_ENDPOINT: &str = "https://api.cloudflare.com/client/v4";

pub struct Cloudflare {
    name: String,
    client: reqwest::Client,
    base: String,
    token: Secret,
    zone_id: Option<String>,
    proxied: Option<bool>,
    comment: Option<String>,
    zones: Mutex<HashMap<String, String>>,
}

#[derive(Deserialize)]
struct Envelope<T> {
    success: bool,
    #[serde(default)]
    errors: Vec<CfError>,
    result: Option<T>,
}

#[derive(Deserialize)]
struct CfError {
    code: i64,
    message: String,
}

#[derive(Deserialize)]
struct Zone {
    id: String,
    name: String,
}

#[derive(Deserialize)]
struct Record {
    id: String,
    name: String,
    #[serde(rename = "type")]
    record_type: String,
    content: String,
    #[serde(default)]
    proxied: Option<bool>,
    #[serde(default)]
    comment: Option<String>,
}

/// Codes that mean the token is not accepted.
const AUTH_CODES: &[i64] = &[6003, 6103, 6111, 9103, 9109, 10000];

impl Cloudflare {
    pub fn new(name: String, cfg: &CloudflareFile) -> Self {
        Self {
            name,
            client: crate::http::api_client(),
            base: super::base_url(cfg.endpoint.as_deref(), DEFAULT_ENDPOINT),
            token: cfg.token.clone(),
            zone_id: cfg.zone_id.clone(),
            proxied: cfg.proxied,
            comment: cfg.comment.clone(),
            zones: Mutex::new(HashMap::new()),
        }
    }

    fn label(&self) -> String {
        format!("cloudflare `{}`", self.name)
    }

    /// Sends and unwraps the envelope: `success: false` or a bad status is classified from status and codes.
    async fn call<T: serde::de::DeserializeOwned>(
        &self,
        request: reqwest::RequestBuilder,
    ) -> Result<T, ProviderError> {
        self.call_with_codes(request).await.map_err(|(e, _)| e)
    }

    /// Like [`Cloudflare::call`], also returning Cloudflare's error codes on failure.
    async fn call_with_codes<T: serde::de::DeserializeOwned>(
        &self,
        request: reqwest::RequestBuilder,
    ) -> Result<T, (ProviderError, Vec<i64>)> {
        let label = self.label();
        let answer = send(
            &label,
            request.bearer_auth(self.token.expose()),
            &[self.token.expose()],
        )
        .await
        .map_err(|e| (e, Vec::new()))?;
        let envelope: Result<Envelope<T>, _> = serde_json::from_str(&answer.body);
        match envelope {
            Ok(Envelope {
                success: true,
                result: Some(result),
                ..
            }) if answer.status.is_success() => Ok(result),
            Ok(Envelope { errors, .. }) => Err((
                self.failure(&answer, &errors),
                errors.iter().map(|e| e.code).collect(),
            )),
            Err(_) if !answer.status.is_success() => {
                Err((answer.status_error(&label, None), Vec::new()))
            }
            Err(e) => Err((
                ProviderError::transient(format!(
                    "{label}: unexpected answer `{}` ({e})",
                    answer.snippet()
                )),
                Vec::new(),
            )),
        }
    }

    fn failure(&self, answer: &Answer, errors: &[CfError]) -> ProviderError {
        let label = self.label();
        let detail = errors
            .iter()
            .map(|e| format!("{} ({})", answer.redact(&e.message), e.code))
            .collect::<Vec<_>>()
            .join("; ");
        if errors.iter().any(|e| AUTH_CODES.contains(&e.code)) {
            return ProviderError::auth(format!("{label}: the API token was refused: {detail}"));
        }
        if errors.iter().any(|e| e.code == 9021) {
            return ProviderError::rejected(format!(
                "{label}: {detail} (use ttl = 1 for automatic, or 60-86400)"
            ));
        }
        answer.status_error(&label, Some(&detail))
    }

    async fn zone_id(&self, name: &str) -> Result<String, ProviderError> {
        if let Some(id) = &self.zone_id {
            return Ok(id.clone());
        }
        if let Some(id) = self.zones.lock().ok().and_then(|z| z.get(name).cloned()) {
            return Ok(id);
        }
        for candidate in suffixes(name) {
            let zones: Vec<Zone> = self
                .call(
                    self.client
                        .get(format!("{}/zones", self.base))
                        .query(&[("name", candidate.as_str())]),
                )
                .await?;
            let matching: Vec<&Zone> = zones
                .iter()
                .filter(|z| z.name.eq_ignore_ascii_case(&candidate))
                .collect();
            if let [zone] = matching.as_slice() {
                if let Ok(mut cache) = self.zones.lock() {
                    cache.insert(name.to_owned(), zone.id.clone());
                }
                return Ok(zone.id.clone());
            }
        }
        Err(ProviderError::rejected(format!(
            "{}: no zone holding {name} is visible to this token (it needs Zone > Zone > Read, or set zone_id)",
            self.label()
        )))
    }
}

#[async_trait]
impl Provider for Cloudflare {
    #[tracing::instrument(skip_all, fields(provider = %self.name, record = %request.name))]
    async fn update(&self, request: &UpdateRequest<'_>) -> Result<UpdateOutcome, ProviderError> {
        let zone = self.zone_id(request.name).await?;
        let records_url = format!("{}/zones/{zone}/dns_records", self.base);
        let rtype = request.record_type.as_str();
        let listed: Vec<Record> = self
            .call(self.client.get(&records_url).query(&[
                ("type", rtype),
                ("name", request.name),
                ("per_page", "100"),
            ]))
            .await?;
        // The API matches exactly, but filter again: the answer decides what gets overwritten.
        let mut matching: Vec<Record> = listed
            .into_iter()
            .filter(|r| r.name.eq_ignore_ascii_case(request.name) && r.record_type == rtype)
            .collect();
        let content = request.ip.to_string();
        if matching.is_empty() {
            let mut body = json!({ "type": rtype, "name": request.name, "content": content, "ttl": request.ttl.unwrap_or(1), "proxied": self.proxied.unwrap_or(false) });
            if let Some(c) = &self.comment {
                body["comment"] = json!(c);
            }
            // 81058: an identical record already exists (created meanwhile): nothing to do.
            return match self
                .call_with_codes::<Record>(self.client.post(&records_url).json(&body))
                .await
            {
                Ok(created) => Ok(UpdateOutcome::Updated {
                    record_id: Some(created.id),
                }),
                Err((_, codes)) if codes.contains(&81058) => {
                    Ok(UpdateOutcome::Unchanged { record_id: None })
                }
                Err((e, _)) => Err(e),
            };
        }
        // Keep the record we updated before, when it is among them.
        let keep = super::take_kept(&mut matching, request.record_id, |r| r.id.clone());
        for extra in &matching {
            tracing::warn!(record = %request.name, id = %extra.id, content = %extra.content, "deleting a duplicate {rtype} record");
            let _: Value = self
                .call(self.client.delete(format!("{records_url}/{}", extra.id)))
                .await?;
        }
        let same = keep.content == content
            && self.proxied.is_none_or(|p| keep.proxied == Some(p))
            && self
                .comment
                .as_ref()
                .is_none_or(|c| keep.comment.as_ref() == Some(c));
        if same && matching.is_empty() {
            return Ok(UpdateOutcome::Unchanged {
                record_id: Some(keep.id),
            });
        }
        let mut patch = Map::new();
        patch.insert("content".into(), json!(content));
        if let Some(ttl) = request.ttl {
            patch.insert("ttl".into(), json!(ttl));
        }
        if let Some(p) = self.proxied {
            patch.insert("proxied".into(), json!(p));
        }
        if let Some(c) = &self.comment {
            patch.insert("comment".into(), json!(c));
        }
        let updated: Record = self
            .call(
                self.client
                    .patch(format!("{records_url}/{}", keep.id))
                    .json(&Value::Object(patch)),
            )
            .await?;
        if updated.content != content {
            return Err(ProviderError::unconfirmed(format!(
                "{}: the record holds {} after the update; could not confirm",
                self.label(),
                updated.content
            )));
        }
        Ok(UpdateOutcome::Updated {
            record_id: Some(updated.id),
        })
    }

    async fn check(&self, name: &str, record_type: RecordType) -> Result<String, ProviderError> {
        let zone = self.zone_id(name).await?;
        let listed: Vec<Record> = self
            .call(
                self.client
                    .get(format!("{}/zones/{zone}/dns_records", self.base))
                    .query(&[
                        ("type", record_type.as_str()),
                        ("name", name),
                        ("per_page", "100"),
                    ]),
            )
            .await?;
        let values: Vec<String> = listed
            .into_iter()
            .filter(|r| r.name.eq_ignore_ascii_case(name) && r.record_type == record_type.as_str())
            .map(|r| r.content)
            .collect();
        Ok(super::found(
            name,
            record_type,
            &values,
            &format!("id {zone}"),
        ))
    }
}
