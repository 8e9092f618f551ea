//! Cloudflare API v4 with a scoped API token. The zone is the configured `zone_id`, or the longest of the
//! zones the token can list; records are listed by exact name and type, created with `POST`, changed with
//! `PATCH` of the content only (the user's `proxied` and `comment` stay unless the config sets them) and
//! deleted with `DELETE`. Extra records at the name are deleted unless `delete_duplicates = false`.

use std::net::IpAddr;
use std::sync::Arc;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use super::reconcile::RoundCache;
use super::{
    Answer, Capabilities, Existing, KindConfig, KindInfo, Provider, ProviderError, Reconciler,
    RecordApi, TtlRule, Written, Zone, send,
};
use crate::config::check::FieldCheck;
use crate::config::{RecordType, Secret};

const DEFAULT_ENDPOINT: &str = "https://api.cloudflare.com/client/v4";

pub const INFO: KindInfo = KindInfo::provider(
    "cloudflare",
    "https://dash.cloudflare.com/profile/api-tokens",
    &[
        super::secret("token"),
        super::opt("zone_id"),
        super::flag("proxied"),
        super::opt("comment"),
        super::flag("delete_duplicates"),
        super::ENDPOINT,
    ],
)
.example("token = \"cf-token-0123456789abcdefghijklmnopqrstu\"");

/// `kind = "cloudflare"`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub token: Secret,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zone_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proxied: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delete_duplicates: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
}

const CAPABILITIES: Capabilities = Capabilities {
    // 1 means "automatic"; otherwise 60..86400 (30 on Enterprise zones is not assumed).
    ttl: TtlRule {
        min: 60,
        max: 86_400,
        auto: Some(1),
    },
    ..Capabilities::RECORDS
};

impl KindConfig for Config {
    fn endpoint(&self) -> Option<&str> {
        self.endpoint.as_deref()
    }

    fn secrets_mut(&mut self) -> Vec<(String, &mut Secret)> {
        vec![("token".into(), &mut self.token)]
    }

    fn validate(&self, check: &mut FieldCheck<'_>) {
        let token = self.token.expose();
        if token.len() == 37 && token.chars().all(|ch| ch.is_ascii_hexdigit()) {
            check.problem(
                "token",
                "provider.cloudflare.check.looks_like_global_api",
                &[],
            );
        }
        if let Some(id) = &self.zone_id
            && (id.len() != 32 || !id.chars().all(|ch| ch.is_ascii_hexdigit()))
        {
            check.problem("zone_id", "provider.cloudflare.check.zone_id_32_hex", &[]);
        }
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
            token: self.token.clone(),
            zone_id: self.zone_id.clone(),
            proxied: self.proxied,
            comment: self.comment.clone(),
            zones: RoundCache::default(),
        };
        Arc::new(Reconciler::new(api).keeping_duplicates(self.delete_duplicates == Some(false)))
    }
}

struct Api {
    name: String,
    client: reqwest::Client,
    base: String,
    token: Secret,
    zone_id: Option<String>,
    proxied: Option<bool>,
    comment: Option<String>,
    /// The zones the token can see, listed once per round.
    zones: RoundCache<(), Vec<Zone>>,
}

#[derive(Deserialize)]
struct Envelope<T> {
    success: bool,
    #[serde(default)]
    errors: Vec<CfError>,
    result: Option<T>,
    #[serde(default)]
    result_info: Option<ResultInfo>,
}

#[derive(Deserialize)]
struct ResultInfo {
    #[serde(default)]
    total_pages: Option<u32>,
}

#[derive(Deserialize)]
struct CfError {
    code: i64,
    message: String,
}

#[derive(Deserialize)]
struct ZoneEntry {
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
    ttl: Option<u32>,
    #[serde(default)]
    proxied: Option<bool>,
    #[serde(default)]
    comment: Option<String>,
}

/// Codes that mean the token is not accepted.
const AUTH_CODES: &[i64] = &[6003, 6103, 6111, 9103, 9109, 10000];
/// Pages read at most when listing (50 zones or 100 records each).
const MAX_PAGES: u32 = 50;

impl Api {
    fn label(&self) -> String {
        format!("cloudflare `{}`", self.name)
    }

    /// Sends and unwraps the envelope; `success: false` or a bad status is classified from status and codes.
    async fn call<T: serde::de::DeserializeOwned>(
        &self,
        request: reqwest::RequestBuilder,
    ) -> Result<(T, Option<u32>), (ProviderError, Vec<i64>)> {
        let label = self.label();
        let answer = send(
            &label,
            request.bearer_auth(self.token.expose()),
            &[self.token.expose()],
        )
        .await
        .map_err(|e| (e, Vec::new()))?;
        match serde_json::from_str::<Envelope<T>>(&answer.body) {
            Ok(Envelope {
                success: true,
                result: Some(result),
                result_info,
                ..
            }) if answer.status.is_success() => {
                Ok((result, result_info.and_then(|i| i.total_pages)))
            }
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

    async fn get<T: serde::de::DeserializeOwned>(
        &self,
        request: reqwest::RequestBuilder,
    ) -> Result<(T, Option<u32>), ProviderError> {
        self.call(request).await.map_err(|(e, _)| e)
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

    /// Every zone the token can list (paginated).
    async fn list_zones(&self) -> Result<Vec<Zone>, ProviderError> {
        let mut zones = Vec::new();
        let mut page = 1;
        loop {
            let (batch, pages): (Vec<ZoneEntry>, _) = self
                .get(
                    self.client
                        .get(format!("{}/zones", self.base))
                        .query(&[("per_page", "50"), ("page", &page.to_string())]),
                )
                .await?;
            zones.extend(batch.into_iter().map(|z| Zone {
                id: z.id,
                name: super::canonical(&z.name),
            }));
            if pages.is_none_or(|p| page >= p) || page >= MAX_PAGES {
                return Ok(zones);
            }
            page += 1;
        }
    }

    fn differs(&self, r: &Record) -> bool {
        self.proxied.is_some_and(|p| r.proxied != Some(p))
            || self
                .comment
                .as_ref()
                .is_some_and(|c| r.comment.as_ref() != Some(c))
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
        let zones = self.zones.get_or_try(&(), self.list_zones()).await?;
        Ok(Some(zones.into_iter().map(|z| z.name).collect()))
    }

    async fn zone(&self, name: &str) -> Result<Zone, ProviderError> {
        if let Some(id) = &self.zone_id {
            return Ok(Zone {
                id: id.clone(),
                name: String::new(),
            });
        }
        let zones = self.zones.get_or_try(&(), self.list_zones()).await?;
        super::longest_zone(name, zones.iter().map(|z| z.name.as_str()))
            .and_then(|best| zones.iter().find(|z| z.name == best).cloned())
            .ok_or_else(|| {
                ProviderError::rejected(format!(
                    "{}: no zone holding {name} is visible to this token (it needs Zone > Zone > Read, or set zone_id)",
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
        let url = format!("{}/zones/{}/dns_records", self.base, zone.id);
        let mut out = Vec::new();
        let mut page = 1;
        loop {
            let (records, pages): (Vec<Record>, _) = self
                .get(self.client.get(&url).query(&[
                    ("type", record_type.as_str()),
                    ("name", name),
                    ("per_page", "100"),
                    ("page", &page.to_string()),
                ]))
                .await?;
            // The API matches exactly, but filter again: the answer decides what gets overwritten.
            out.extend(
                records
                    .into_iter()
                    .filter(|r| {
                        r.name.eq_ignore_ascii_case(name) && r.record_type == record_type.as_str()
                    })
                    .map(|r| Existing {
                        stale: self.differs(&r),
                        id: r.id,
                        values: vec![r.content],
                        line: None,
                        ttl: r.ttl,
                    }),
            );
            if pages.is_none_or(|p| page >= p) || page >= MAX_PAGES {
                return Ok(out);
            }
            page += 1;
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
        let content = values.first().map(ToString::to_string).unwrap_or_default();
        let mut body = json!({
            "type": record_type.as_str(), "name": name, "content": content,
            "ttl": ttl.unwrap_or(1), "proxied": self.proxied.unwrap_or(false),
        });
        if let Some(c) = &self.comment {
            body["comment"] = json!(c);
        }
        let url = format!("{}/zones/{}/dns_records", self.base, zone.id);
        match self.call::<Record>(self.client.post(url).json(&body)).await {
            Ok((created, _)) => Ok(Written::new(Some(created.id))),
            // 81058: an identical record already exists (made meanwhile): it holds what we wanted.
            Err((_, codes)) if codes.contains(&81058) => Ok(Written::already(None)),
            Err((e, _)) => Err(e),
        }
    }

    async fn update(
        &self,
        zone: &Zone,
        _name: &str,
        _record_type: RecordType,
        existing: &Existing,
        values: &[IpAddr],
        ttl: Option<u32>,
    ) -> Result<Written, ProviderError> {
        let content = values.first().map(ToString::to_string).unwrap_or_default();
        let mut patch = Map::new();
        patch.insert("content".into(), json!(content));
        if let Some(ttl) = ttl {
            patch.insert("ttl".into(), json!(ttl));
        }
        if let Some(p) = self.proxied {
            patch.insert("proxied".into(), json!(p));
        }
        if let Some(c) = &self.comment {
            patch.insert("comment".into(), json!(c));
        }
        let url = format!(
            "{}/zones/{}/dns_records/{}",
            self.base, zone.id, existing.id
        );
        let (updated, _): (Record, _) = self
            .get(self.client.patch(url).json(&Value::Object(patch)))
            .await?;
        if super::reconcile::parse_addr(&updated.content) != values.first().copied() {
            return Err(ProviderError::unconfirmed(format!(
                "{}: the record holds {} after the update; could not confirm",
                self.label(),
                updated.content
            )));
        }
        Ok(Written::new(Some(updated.id)))
    }

    async fn delete(
        &self,
        zone: &Zone,
        _name: &str,
        _record_type: RecordType,
        existing: &Existing,
    ) -> Result<(), ProviderError> {
        let url = format!(
            "{}/zones/{}/dns_records/{}",
            self.base, zone.id, existing.id
        );
        let _: (Value, _) = self.get(self.client.delete(url)).await?;
        Ok(())
    }

    fn begin_round(&self) {
        self.zones.clear();
    }
}
