//! `NameSilo` (`www.namesilo.com/api/<operation>`, GET, `version=1&type=json&key=…` in the query). Errors come
//! with HTTP 200: success is `reply.code` 300 (a number or a string); answers in XML (`<namesilo><reply>…`)
//! are read too. The zone is the configured one, or the longest suffix of the name `dnsListRecords` answers
//! for (code 200: not a domain of this account); that call returns the whole zone, unpaged, and is kept for
//! the round. Since `NameSilo`'s change of 2025-12 a record's `host` is relative (`www`); the full name it gave
//! before is still accepted, and the apex may be `@`, empty or the domain. A one-record list may be a single
//! object instead of an array. No lines. "Test" lists the account's active domains (`listDomains`, unpaged;
//! `domains` as a list of names or of objects, one domain alone as a single value, or nested under `domain`
//! as XML gives it). API notes: `docs/providers/namesilo.md`.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::reconcile::{RoundCache, TtlRule};
use super::{
    Capabilities, Existing, KindConfig, KindInfo, Provider, ProviderError, Reconciler, RecordApi,
    Written, Zone, relative, send, suffixes,
};
use crate::config::{RecordType, Secret};

const DEFAULT_ENDPOINT: &str = "https://www.namesilo.com/api";
/// TTL written when the record sets none and has none (`NameSilo`'s own default).
const DEFAULT_TTL: u32 = 7207;

pub const INFO: KindInfo = KindInfo::provider(
    "namesilo",
    "https://www.namesilo.com/account/api-manager",
    &[
        super::secret("api_key"),
        super::opt("zone"),
        super::ENDPOINT,
    ],
)
.example("api_key = \"namesilo-api-key-value\"");

/// `kind = "namesilo"`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub api_key: Secret,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
}

const CAPABILITIES: Capabilities = Capabilities {
    // "TTL < 3600 fails"; 30 days is the most clients allow.
    ttl: TtlRule {
        min: 3600,
        max: 2_592_000,
        auto: None,
    },
    ..Capabilities::RECORDS
};

impl KindConfig for Config {
    fn endpoint(&self) -> Option<&str> {
        self.endpoint.as_deref()
    }

    fn secrets_mut(&mut self) -> Vec<(String, &mut Secret)> {
        vec![("api_key".into(), &mut self.api_key)]
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
    api_key: Secret,
    zone: Option<String>,
    known: Mutex<HashMap<String, bool>>,
    listings: RoundCache<String, Vec<Record>>,
}

/// A reply, from JSON or XML.
#[derive(Debug, Default)]
struct Reply {
    code: u32,
    detail: String,
    records: Vec<Record>,
    record_id: Option<String>,
    /// `listDomains`' names.
    domains: Vec<String>,
}

#[derive(Debug, Clone, Default)]
struct Record {
    id: String,
    record_type: String,
    host: String,
    value: String,
    ttl: Option<u32>,
}

#[derive(Deserialize)]
struct XmlRoot {
    reply: XmlReply,
}

#[derive(Deserialize)]
struct XmlReply {
    code: String,
    #[serde(default)]
    detail: String,
    #[serde(default)]
    resource_record: Vec<XmlRecord>,
    #[serde(default)]
    record_id: Option<String>,
    #[serde(default)]
    domains: Option<XmlDomains>,
}

#[derive(Deserialize)]
struct XmlDomains {
    #[serde(default)]
    domain: Vec<XmlDomain>,
}

/// `<domain created="…" expires="…">example.com</domain>`.
#[derive(Deserialize)]
struct XmlDomain {
    #[serde(rename = "$text", default)]
    name: String,
}

/// The names in `listDomains`' `domains`: names or objects with a `domain`, in a list, alone, or nested under
/// `domain` (the shape XML converted to JSON takes).
fn json_domains(v: &Value) -> Vec<String> {
    match v {
        Value::Array(list) => list.iter().flat_map(json_domains).collect(),
        Value::String(s) => vec![s.clone()],
        Value::Object(o) => o.get("domain").map(json_domains).unwrap_or_default(),
        _ => Vec::new(),
    }
}

#[derive(Deserialize)]
struct XmlRecord {
    record_id: String,
    #[serde(rename = "type")]
    record_type: String,
    #[serde(default)]
    host: String,
    #[serde(default)]
    value: String,
    #[serde(default)]
    ttl: Option<String>,
}

/// Text of a JSON value that may be a string or a number.
fn text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn json_record(v: &Value) -> Option<Record> {
    Some(Record {
        id: text(&v["record_id"])?,
        record_type: text(&v["type"])?,
        host: text(&v["host"]).unwrap_or_default(),
        value: text(&v["value"]).unwrap_or_default(),
        ttl: text(&v["ttl"]).and_then(|t| t.parse().ok()),
    })
}

/// Reads an answer in JSON or XML; `None` when it is neither.
fn parse(body: &str) -> Option<Reply> {
    let body = body.trim_start_matches('\u{feff}').trim();
    if body.starts_with('<') {
        let root: XmlRoot = quick_xml::de::from_str(body).ok()?;
        let r = root.reply;
        return Some(Reply {
            code: r.code.trim().parse().ok()?,
            detail: r.detail,
            records: r
                .resource_record
                .into_iter()
                .map(|x| Record {
                    id: x.record_id,
                    record_type: x.record_type,
                    host: x.host,
                    value: x.value,
                    ttl: x.ttl.and_then(|t| t.trim().parse().ok()),
                })
                .collect(),
            record_id: r.record_id,
            domains: r
                .domains
                .map(|d| d.domain.into_iter().map(|d| d.name).collect())
                .unwrap_or_default(),
        });
    }
    let v: Value = serde_json::from_str(body).ok()?;
    let reply = v.get("reply")?;
    let records = match reply.get("resource_record") {
        Some(Value::Array(list)) => list.iter().filter_map(json_record).collect(),
        Some(one @ Value::Object(_)) => json_record(one).into_iter().collect(),
        _ => Vec::new(),
    };
    Some(Reply {
        code: text(&reply["code"])?.trim().parse().ok()?,
        detail: text(&reply["detail"]).unwrap_or_default(),
        records,
        record_id: reply.get("record_id").and_then(text),
        domains: reply.get("domains").map(json_domains).unwrap_or_default(),
    })
}

/// Whether a listed `host` is `host` (relative, `@` for the apex) in `zone`: the relative form since
/// 2025-12, the full name before; the apex as `@`, empty or the domain.
fn host_matches(listed: &str, host: &str, zone: &str) -> bool {
    let listed = super::canonical(listed);
    if host == "@" {
        return listed.is_empty() || listed == "@" || listed == zone;
    }
    listed == host || listed == format!("{host}.{zone}")
}

impl Api {
    fn label(&self) -> String {
        format!("namesilo `{}`", self.name)
    }

    /// Calls one operation; `Ok(Err(code))` is a reply code the caller may handle (200: no such domain).
    async fn call(
        &self,
        operation: &str,
        params: &[(&str, String)],
    ) -> Result<Reply, ProviderError> {
        let label = self.label();
        let mut query: Vec<(&str, String)> = vec![
            ("version", "1".into()),
            ("type", "json".into()),
            ("key", self.api_key.expose().to_owned()),
        ];
        query.extend(params.iter().cloned());
        let answer = send(
            &label,
            self.client
                .get(format!("{}/{operation}", self.base))
                .query(&query),
            &[self.api_key.expose()],
        )
        .await?;
        let reply = parse(&answer.body);
        if !answer.status.is_success() {
            let detail = reply
                .as_ref()
                .map(|r| format!("{}: {}", r.code, answer.redact(&r.detail)));
            return Err(answer.status_error(&label, detail.as_deref()));
        }
        reply
            .ok_or_else(|| {
                ProviderError::transient(format!(
                    "{label}: unexpected answer `{}`",
                    answer.snippet()
                ))
            })
            .map(|mut r| {
                r.detail = answer.redact(&r.detail);
                r
            })
    }

    fn error(&self, reply: &Reply) -> ProviderError {
        let label = self.label();
        let detail = format!("{}: {}", reply.code, reply.detail);
        match reply.code {
            109..=112 => {
                ProviderError::auth(format!("{label}: the API key was refused ({detail})"))
            }
            113 => ProviderError::auth(format!(
                "{label}: the API key may not be used from this IP address ({detail}); remove the IP restriction in the API Manager"
            )),
            201 | 115 => ProviderError::transient(format!("{label}: {detail}")),
            _ => ProviderError::rejected(format!("{label}: {detail}")),
        }
    }

    fn checked(&self, reply: Reply) -> Result<Reply, ProviderError> {
        if matches!(reply.code, 300..=302) {
            Ok(reply)
        } else {
            Err(self.error(&reply))
        }
    }

    /// The zone's records; `None` when the domain is not this account's (code 200).
    async fn read(&self, zone: &str) -> Result<Option<Vec<Record>>, ProviderError> {
        let reply = self
            .call("dnsListRecords", &[("domain", zone.to_owned())])
            .await?;
        if reply.code == 200 {
            return Ok(None);
        }
        Ok(Some(self.checked(reply)?.records))
    }

    async fn records(&self, zone: &str) -> Result<Vec<Record>, ProviderError> {
        self.listings
            .get_or_try(&zone.to_owned(), async {
                self.read(zone).await?.ok_or_else(|| {
                    ProviderError::rejected(format!(
                        "{}: {zone} is not an active domain of this account",
                        self.label()
                    ))
                })
            })
            .await
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
        let reply = self.call("listDomains", &[]).await?;
        // Code 300 with no `domains`: an account without active domains.
        Ok(Some(self.checked(reply)?.domains))
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
                if let Some(records) = read {
                    self.listings.put(candidate.clone(), records);
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
        let host = relative(name, &zone.name);
        Ok(self
            .records(&zone.name)
            .await?
            .into_iter()
            .filter(|r| {
                r.record_type.eq_ignore_ascii_case(record_type.as_str())
                    && host_matches(&r.host, &host, &zone.name)
            })
            .map(|r| Existing {
                id: r.id,
                values: vec![r.value],
                line: None,
                ttl: r.ttl,
                stale: false,
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
        let mut params = vec![
            ("domain", zone.name.clone()),
            ("rrtype", record_type.as_str().to_owned()),
            ("rrhost", relative(name, &zone.name)),
            (
                "rrvalue",
                values.first().map(ToString::to_string).unwrap_or_default(),
            ),
        ];
        if let Some(ttl) = ttl {
            params.push(("rrttl", ttl.to_string()));
        }
        let reply = self.call("dnsAddRecord", &params).await;
        self.listings.clear();
        let reply = self.checked(reply?)?;
        Ok(Written::new(reply.record_id))
    }

    async fn update(
        &self,
        zone: &Zone,
        name: &str,
        _record_type: RecordType,
        existing: &Existing,
        values: &[IpAddr],
        ttl: Option<u32>,
    ) -> Result<Written, ProviderError> {
        let reply = self
            .call(
                "dnsUpdateRecord",
                &[
                    ("domain", zone.name.clone()),
                    ("rrid", existing.id.clone()),
                    ("rrhost", relative(name, &zone.name)),
                    (
                        "rrvalue",
                        values.first().map(ToString::to_string).unwrap_or_default(),
                    ),
                    (
                        "rrttl",
                        ttl.or(existing.ttl).unwrap_or(DEFAULT_TTL).to_string(),
                    ),
                ],
            )
            .await;
        self.listings.clear();
        let reply = self.checked(reply?)?;
        // The id may change with an update.
        Ok(Written::new(
            reply.record_id.or_else(|| Some(existing.id.clone())),
        ))
    }

    async fn delete(
        &self,
        zone: &Zone,
        _name: &str,
        _record_type: RecordType,
        existing: &Existing,
    ) -> Result<(), ProviderError> {
        let reply = self
            .call(
                "dnsDeleteRecord",
                &[("domain", zone.name.clone()), ("rrid", existing.id.clone())],
            )
            .await;
        self.listings.clear();
        self.checked(reply?)?;
        Ok(())
    }

    fn begin_round(&self) {
        if let Ok(mut k) = self.known.lock() {
            k.clear();
        }
        self.listings.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_json_and_xml_shapes() {
        // The documented JSON, the code as a number; and as a string with a single object (ddclient #934).
        let r = parse(r#"{"request":{"operation":"dnsListRecords","ip":"198.51.100.4"},"reply":{"code":300,"detail":"success","resource_record":[{"record_id":"1a2b3c4d5e6f","type":"A","host":"www","value":"203.0.113.7","ttl":7207,"distance":0}]}}"#).unwrap();
        assert_eq!((r.code, r.records.len()), (300, 1));
        assert_eq!(r.records[0].ttl, Some(7207));
        let r = parse(r#"{"reply":{"code":"300","detail":"success","resource_record":{"record_id":"x1","type":"AAAA","host":"@","value":"2001:db8::1","ttl":"3600"}}}"#).unwrap();
        assert_eq!((r.code, r.records[0].id.as_str()), (300, "x1"));
        // The documented XML error (pztop/namesilo_ddns PR #13), and an XML listing.
        let r = parse("<namesilo><request><operation>dnsUpdateRecord</operation><ip>121.228.14.21</ip></request>\n<reply><code>280</code><detail>subdomain..domain.me is not a valid host</detail></reply></namesilo>").unwrap();
        assert_eq!(r.code, 280);
        assert!(r.detail.contains("not a valid host"));
        let r = parse(r#"<?xml version="1.0"?><namesilo><request><operation>dnsListRecords</operation><ip>1.2.3.4</ip></request><reply><code>300</code><detail>success</detail><resource_record><record_id>a1</record_id><type>A</type><host>www</host><value>203.0.113.7</value><ttl>7207</ttl><distance>0</distance></resource_record><resource_record><record_id>a2</record_id><type>TXT</type><host>www</host><value>hello</value><ttl>3600</ttl><distance>0</distance></resource_record></reply></namesilo>"#).unwrap();
        assert_eq!(r.records.len(), 2);
        assert_eq!(r.records[1].record_type, "TXT");
        assert!(parse("<html>captive</html>").is_none());
    }

    #[test]
    fn reads_the_domain_list_in_every_shape() {
        // Objects (today's JSON), names nested under `domain` (XML converted), one domain alone, none.
        let r = parse(r#"{"reply":{"code":300,"detail":"success","domains":[{"domain":"example.com","created":"2024-01-02","expires":"2026-01-02"},{"domain":"example.net"}]}}"#).unwrap();
        assert_eq!(r.domains, ["example.com", "example.net"]);
        let r = parse(r#"{"reply":{"code":300,"detail":"success","domains":{"domain":["example.com","example.org"]}}}"#).unwrap();
        assert_eq!(r.domains, ["example.com", "example.org"]);
        let r = parse(r#"{"reply":{"code":300,"detail":"success","domains":{"domain":"example.com","created":"2024-01-02"}}}"#).unwrap();
        assert_eq!(r.domains, ["example.com"]);
        let r = parse(r#"{"reply":{"code":300,"detail":"success"}}"#).unwrap();
        assert!(r.domains.is_empty());
        let r = parse(r#"<namesilo><request><operation>listDomains</operation><ip>1.2.3.4</ip></request><reply><code>300</code><detail>success</detail><domains><domain created="2024-01-02" expires="2026-01-02">example.com</domain><domain created="2024-03-04" expires="2026-03-04">example.net</domain></domains></reply></namesilo>"#).unwrap();
        assert_eq!(r.domains, ["example.com", "example.net"]);
    }

    #[test]
    fn hosts_before_and_after_the_2025_12_change() {
        assert!(host_matches("www", "www", "example.com"));
        assert!(host_matches("www.example.com", "www", "example.com"));
        assert!(!host_matches("www2", "www", "example.com"));
        assert!(host_matches("@", "@", "example.com"));
        assert!(host_matches("", "@", "example.com"));
        assert!(host_matches("example.com", "@", "example.com"));
        assert!(!host_matches("www", "@", "example.com"));
    }
}
