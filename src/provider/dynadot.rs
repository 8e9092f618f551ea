//! Dynadot's `RESTful` API v1 (`https://api.dynadot.com/restful/v1`), DNS settings of a domain on Dynadot DNS.
//! Every call carries `Authorization: Bearer <API key>`, a fresh `X-Request-ID` and `X-Signature` =
//! Base64(HMAC-SHA256(API secret, key ⏎ path-and-query ⏎ request id ⏎ body)) as the API document describes.
//!
//! Dynadot has no per-record calls: `GET /domains/{domain}/records` reads the domain's whole DNS setting (main
//! records at the apex, sub records by `sub_host`, one zone-wide TTL) and `POST /domains/{domain}/records`
//! writes one. The POST's `add_dns_to_current_setting` merge mode is documented only as a flag; whether it
//! replaces or adds to a name's records of a type is not, and the document marks `dns_main_list` required, so
//! a merge could duplicate records or need an apex record invented. Instead every write is a **read-modify-write
//! of the whole setting**: the domain is read right before the write, every record is written back as read
//! (all its fields passed through, the read `value`/`value2` also given as `record_value1`/`record_value2`,
//! the spelling writes use), only the managed name and type replaced, and the read TTL kept unless the
//! record sets one (Dynadot's TTL is per domain: setting one changes it for the whole domain).
//!
//! Nothing is written when the read cannot be trusted: a domain not on Dynadot DNS (its `type` names no DNS
//! — writing would switch it away from its name servers or forwarding), an answer without the settings, or a
//! record without a type or value. Race: a change made elsewhere (the web panel, another client) between our
//! read and our write — about one round trip — is overwritten, because the write replaces the whole setting;
//! the API offers no version or precondition to detect it. Our own writes never overlap (one call at a time:
//! Dynadot processes one request per account at a time anyway).
//!
//! The domain is the configured `zone`, else the longest suffix of the name that the API answers for.
//! 401/403 stop the record; 249 and 429 ("too many requests") wait `Retry-After`, else the document's
//! 60 s; 400/404/409 are rejected; 5xx transient.
//!
//! Doc: <https://www.dynadot.com/domain/api-document> (`RESTful` API v1.0.0: Header, X-Signature, Response
//! Format, Rate Limiting, `GET_DNS`, `SET_DNS`), read 2026-12-05; the read's item fields (`main_domains`,
//! `sub_domains`, `sub_host`, `record_type`, `value`) from a working v1 DDNS client, as the document
//! collapses them (`docs/providers/dynadot.md`).
//!
//! "Test" does not list the account's domains: the document names a `DOMAIN_LIST` command (`GET
//! /restful/v2/domains`, `page`/`page_size`, answering `domain_info_list` and `pagination_result`), but the
//! stored copy collapses the fields of both, so the names could only be guessed; until they are confirmed the
//! check is shown alone.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use super::{
    Capabilities, ErrorClass, Existing, KindConfig, KindInfo, Provider, ProviderError, Reconciler,
    RecordApi, Written, Zone, send, sign,
};
use crate::config::{RecordType, Secret};

const DEFAULT_ENDPOINT: &str = "https://api.dynadot.com/restful/v1";
/// "Please try again after 60 seconds."
const RATE_LIMIT_WAIT: u64 = 60;

pub const INFO: KindInfo = KindInfo::provider(
    "dynadot",
    "https://www.dynadot.com/account/domain/setting/api.html",
    &[
        super::secret("api_key"),
        super::secret("api_secret"),
        super::opt("zone"),
        super::ENDPOINT,
    ],
)
.example("api_key = \"dynadot-api-key\"\napi_secret = \"dynadot-api-secret\"");

/// `kind = "dynadot"`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub api_key: Secret,
    pub api_secret: Secret,
    /// The domain as registered; found from the record name when left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
}

const CAPABILITIES: Capabilities = Capabilities {
    // One call at a time per account.
    concurrency: 1,
    ..Capabilities::SETS
};

impl KindConfig for Config {
    fn endpoint(&self) -> Option<&str> {
        self.endpoint.as_deref()
    }

    fn secrets_mut(&mut self) -> Vec<(String, &mut Secret)> {
        vec![
            ("api_key".into(), &mut self.api_key),
            ("api_secret".into(), &mut self.api_secret),
        ]
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
            key: self.api_key.clone(),
            secret: self.api_secret.clone(),
            zone: self.zone.as_deref().map(super::canonical),
        }))
    }
}

struct Api {
    name: String,
    client: reqwest::Client,
    base: String,
    key: Secret,
    secret: Secret,
    zone: Option<String>,
}

/// `X-Signature`: Base64(HMAC-SHA256(secret, key \n path-and-query \n request id \n body)).
fn signature(
    key: &str,
    secret: &str,
    path_and_query: &str,
    request_id: &str,
    body: &str,
) -> String {
    let message = format!("{key}\n{path_and_query}\n{request_id}\n{body}");
    base64::engine::general_purpose::STANDARD
        .encode(sign::hmac_sha256(secret.as_bytes(), message.as_bytes()))
}

/// A random UUID (version 4 layout), as `X-Request-ID` must be.
fn request_id() -> String {
    let (a, b) = (fastrand::u64(..), fastrand::u64(..));
    format!(
        "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xffff,
        a & 0xfff,
        0x8000 | ((b >> 48) & 0x3fff),
        b & 0xffff_ffff_ffff
    )
}

/// A number that Dynadot may send as a number or as text.
fn number(v: &Value) -> Option<i64> {
    v.as_i64().or_else(|| v.as_str()?.trim().parse().ok())
}

/// The domain's DNS setting as read.
struct Setting {
    main: Vec<Map<String, Value>>,
    sub: Vec<Map<String, Value>>,
    ttl: Option<u32>,
}

fn text<'a>(item: &'a Map<String, Value>, keys: &[&str]) -> Option<&'a str> {
    keys.iter()
        .find_map(|k| item.get(*k).and_then(Value::as_str))
        .filter(|s| !s.is_empty())
}

fn value_of(item: &Map<String, Value>) -> Option<&str> {
    text(item, &["record_value1", "value"])
}

fn type_of(item: &Map<String, Value>) -> Option<&str> {
    text(item, &["record_type"])
}

/// An item as it is written back: as read, with the write spelling of its values added.
fn for_write(mut item: Map<String, Value>) -> Map<String, Value> {
    for (read, write) in [("value", "record_value1"), ("value2", "record_value2")] {
        if !item.contains_key(write)
            && let Some(v) = item.get(read).cloned()
        {
            item.insert(write.into(), v);
        }
    }
    item
}

impl Api {
    fn label(&self) -> String {
        format!("dynadot `{}`", self.name)
    }

    /// One signed call; the answer's `data` on success.
    async fn call(
        &self,
        method: reqwest::Method,
        domain: &str,
        body: Option<&Value>,
    ) -> Result<Value, ProviderError> {
        let label = self.label();
        let url = format!("{}/domains/{}/records", self.base, super::segment(domain));
        let path = reqwest::Url::parse(&url)
            .map(|u| u.path().to_owned())
            .unwrap_or_default();
        let body = body.map(Value::to_string).unwrap_or_default();
        let id = request_id();
        let mut req = self
            .client
            .request(method, &url)
            .header("Accept", "application/json")
            .header("Authorization", format!("Bearer {}", self.key.expose()))
            .header("X-Request-ID", &id)
            .header(
                "X-Signature",
                signature(self.key.expose(), self.secret.expose(), &path, &id, &body),
            );
        if !body.is_empty() {
            req = req.header("Content-Type", "application/json").body(body);
        }
        let answer = send(&label, req, &[self.key.expose(), self.secret.expose()]).await?;
        let parsed: Option<Value> = serde_json::from_str(&answer.body).ok();
        let code = parsed.as_ref().and_then(|v| v.get("code")).and_then(number);
        // 200, 201, 202 are success; 249 is "too many requests" despite its range.
        let ok = answer.status.is_success() && code.is_none_or(|c| matches!(c, 200..=202));
        if let (true, Some(v)) = (ok, &parsed) {
            return Ok(v.get("data").cloned().unwrap_or(Value::Null));
        }
        let Some(v) = parsed else {
            return Err(if answer.status.is_success() {
                answer.json::<Value>(&label).err().unwrap_or_else(|| {
                    ProviderError::transient(format!("{label}: unexpected answer"))
                })
            } else {
                answer.status_error(&label, None)
            });
        };
        let code = code.unwrap_or_else(|| i64::from(answer.status.as_u16()));
        let message = v.get("message").and_then(Value::as_str).unwrap_or_default();
        let error = v.get("error").map(Value::to_string).unwrap_or_default();
        let detail = answer.redact(format!("{code}: {message} {error}").trim_end());
        Err(match code {
            401 | 403 => ProviderError::auth(format!("{label}: credentials refused ({detail})")),
            249 | 429 => ProviderError::new(
                ErrorClass::RateLimited {
                    retry_after: Some(
                        answer
                            .retry_after
                            .map_or(RATE_LIMIT_WAIT, |d: Duration| d.as_secs()),
                    ),
                },
                format!("{label}: too many requests ({detail})"),
            ),
            500.. => ProviderError::transient(format!("{label}: {detail}")),
            _ => ProviderError::rejected(format!("{label}: {detail}")),
        })
    }

    /// The domain's whole DNS setting, refused unless every part of it could be read.
    async fn read(&self, domain: &str) -> Result<Setting, ProviderError> {
        let label = self.label();
        let data = self.call(reqwest::Method::GET, domain, None).await?;
        let Some(settings) = data.get("name_server_settings").and_then(Value::as_object) else {
            return Err(ProviderError::rejected(format!(
                "{label}: the answer for {domain} holds no name_server_settings; not writing"
            )));
        };
        if let Some(kind) = settings.get("type").and_then(Value::as_str)
            && !kind.to_ascii_lowercase().contains("dns")
        {
            return Err(ProviderError::rejected(format!(
                "{label}: {domain} is set to `{kind}`, not Dynadot DNS; switch it to Dynadot DNS first (a write here would replace that setting)"
            )));
        }
        let list = |key: &str, sub: bool| -> Result<Vec<Map<String, Value>>, ProviderError> {
            let items = match settings.get(key) {
                None | Some(Value::Null) => return Ok(Vec::new()),
                Some(Value::Array(a)) => a,
                Some(other) => {
                    return Err(ProviderError::rejected(format!(
                        "{label}: unreadable {key} `{other}` for {domain}; not rewriting its DNS"
                    )));
                }
            };
            items
                .iter()
                .map(|i| match i.as_object() {
                    Some(o)
                        if type_of(o).is_some()
                            && value_of(o).is_some()
                            && (!sub || text(o, &["sub_host"]).is_some()) =>
                    {
                        Ok(o.clone())
                    }
                    _ => Err(ProviderError::rejected(format!(
                        "{label}: a record of {domain} could not be read (`{i}`); not rewriting its DNS"
                    ))),
                })
                .collect()
        };
        Ok(Setting {
            main: list("main_domains", false)?,
            sub: list("sub_domains", true)?,
            ttl: settings
                .get("ttl")
                .and_then(number)
                .and_then(|t| u32::try_from(t).ok()),
        })
    }

    /// Makes `name`'s records of `record_type` hold exactly `values` (none: removes them), writing the
    /// whole setting back with everything else as read.
    async fn put(
        &self,
        zone: &Zone,
        name: &str,
        record_type: RecordType,
        values: &[IpAddr],
        ttl: Option<u32>,
    ) -> Result<(), ProviderError> {
        let current = self.read(&zone.name).await?;
        let host = super::relative(name, &zone.name);
        let apex = host == "@";
        let rtype = record_type.as_str().to_ascii_lowercase();
        let ours = |item: &Map<String, Value>, sub: bool| {
            sub != apex
                && type_of(item).is_some_and(|t| t.eq_ignore_ascii_case(&rtype))
                && (!sub
                    || text(item, &["sub_host"]).is_some_and(|h| h.eq_ignore_ascii_case(&host)))
        };
        let new: Vec<Value> = values
            .iter()
            .map(|ip| {
                if apex {
                    json!({ "record_type": rtype, "record_value1": ip.to_string() })
                } else {
                    json!({ "sub_host": host, "record_type": rtype, "record_value1": ip.to_string() })
                }
            })
            .collect();
        // Everything else as read; ours replaced where the first of them stood (else appended).
        let rebuild = |items: Vec<Map<String, Value>>, sub: bool| {
            let mut out = Vec::new();
            let mut placed = sub == apex;
            for item in items {
                if ours(&item, sub) {
                    if !placed {
                        out.extend(new.iter().cloned());
                        placed = true;
                    }
                } else {
                    out.push(Value::Object(for_write(item)));
                }
            }
            if !placed {
                out.extend(new.iter().cloned());
            }
            out
        };
        let mut body = json!({
            "dns_main_list": rebuild(current.main, false),
            "sub_list": rebuild(current.sub, true),
            "add_dns_to_current_setting": false,
        });
        if let Some(t) = ttl.or(current.ttl) {
            body["ttl"] = json!(t);
        }
        self.call(reqwest::Method::POST, &zone.name, Some(&body))
            .await?;
        Ok(())
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

    async fn zone(&self, name: &str) -> Result<Zone, ProviderError> {
        if let Some(z) = &self.zone {
            return Ok(Zone {
                id: z.clone(),
                name: z.clone(),
            });
        }
        // The longest suffix the API knows as a domain of the account: sub-domains and other accounts'
        // domains are refused (400/404), anything else is a real failure.
        for candidate in super::suffixes(name) {
            match self.call(reqwest::Method::GET, &candidate, None).await {
                Ok(_) => {
                    return Ok(Zone {
                        id: candidate.clone(),
                        name: candidate,
                    });
                }
                Err(e) if e.class == ErrorClass::Rejected => {}
                Err(e) => return Err(e),
            }
        }
        Err(ProviderError::rejected(format!(
            "{}: no domain of this account holds {name}",
            self.label()
        )))
    }

    async fn list(
        &self,
        zone: &Zone,
        name: &str,
        record_type: RecordType,
    ) -> Result<Vec<Existing>, ProviderError> {
        let setting = self.read(&zone.name).await?;
        let host = super::relative(name, &zone.name);
        let items = if host == "@" {
            setting.main
        } else {
            setting
                .sub
                .into_iter()
                .filter(|i| text(i, &["sub_host"]).is_some_and(|h| h.eq_ignore_ascii_case(&host)))
                .collect()
        };
        let values: Vec<String> = items
            .iter()
            .filter(|i| type_of(i).is_some_and(|t| t.eq_ignore_ascii_case(record_type.as_str())))
            .filter_map(|i| value_of(i).map(str::to_owned))
            .collect();
        Ok(if values.is_empty() {
            Vec::new()
        } else {
            vec![Existing {
                id: format!("{name}/{record_type}"),
                values,
                line: None,
                ttl: setting.ttl,
                stale: false,
            }]
        })
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
        self.put(zone, name, record_type, values, ttl).await?;
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
        self.put(zone, name, record_type, values, ttl).await?;
        Ok(Written::new(None))
    }

    async fn delete(
        &self,
        zone: &Zone,
        name: &str,
        record_type: RecordType,
        _existing: &Existing,
    ) -> Result<(), ProviderError> {
        self.put(zone, name, record_type, &[], None).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_ids_are_uuids_and_values_get_the_write_spelling() {
        let id = request_id();
        let parts: Vec<usize> = id.split('-').map(str::len).collect();
        assert_eq!(parts, [8, 4, 4, 4, 12], "{id}");
        assert_eq!(&id[14..15], "4");
        let item = json!({ "record_type": "mx", "value": "mail.example.com", "value2": "10" });
        assert_eq!(
            Value::Object(for_write(item.as_object().unwrap().clone())),
            json!({ "record_type": "mx", "value": "mail.example.com", "value2": "10",
                    "record_value1": "mail.example.com", "record_value2": "10" })
        );
    }
}
