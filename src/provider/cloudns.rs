//! `ClouDNS` HTTP API (JSON) with an API user (`auth-id`) or sub-user (`sub-auth-id`) and its password, sent as
//! POST form fields (never in the URL). Every answer is HTTP 200: failures are `{"status":"Failed",
//! "statusDescription":…}` and are classified by their text. The zone is the configured `zone`, or the longest
//! suffix of the name the user has (`get-zone-info`, each suffix asked once per round); records are read with
//! `records.json` filtered by host and type (a map keyed by id, `[]` when empty), created with `add-record`,
//! changed with `mod-record` (host and TTL resent) and deleted with `delete-record`. TTLs come from a fixed
//! list: a TTL between its values is rounded up, and remembered so it is not rewritten every time. "Test"
//! lists the user's zones (`list-zones`, `rows-per-page` 100, until a short page, at most 50 pages).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::reconcile::RoundCache;
use super::{
    Answer, Capabilities, ErrorClass, Existing, KindConfig, KindInfo, Provider, ProviderError,
    Reconciler, RecordApi, TtlRule, Written, Zone, relative, send, suffixes,
};
use crate::config::check::FieldCheck;
use crate::config::{RecordType, Secret};

const DEFAULT_ENDPOINT: &str = "https://api.cloudns.net/dns";

pub const INFO: KindInfo = KindInfo::provider(
    "cloudns",
    "https://www.cloudns.net/api-settings/",
    &[
        super::opt("auth_id"),
        super::opt("sub_auth_id"),
        super::secret("password"),
        super::opt("zone"),
        super::flag("delete_duplicates"),
        super::ENDPOINT,
    ],
)
.example("sub_auth_id = \"1234\"\npassword = \"cloudns-api-password\"");

/// `kind = "cloudns"`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub_auth_id: Option<String>,
    pub password: Secret,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delete_duplicates: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
}

/// The TTLs `ClouDNS` accepts (its add-record article, as docs/providers/cloudns.md quotes it).
const TTLS: [u32; 13] = [
    60, 300, 900, 1800, 3600, 21_600, 43_200, 86_400, 172_800, 259_200, 604_800, 1_209_600,
    2_592_000,
];

/// Zones asked for per `list-zones` page (the largest of the allowed 10, 20, 30, 50, 100).
const ZONE_PAGE: usize = 100;
/// Pages of zones read at most.
const MAX_PAGES: usize = 50;

const CAPABILITIES: Capabilities = Capabilities {
    ttl: TtlRule {
        min: 60,
        max: 2_592_000,
        auto: None,
    },
    ..Capabilities::RECORDS
};

/// The smallest accepted TTL at or above `ttl`.
fn round_up(ttl: u32) -> u32 {
    TTLS.iter()
        .copied()
        .find(|t| *t >= ttl)
        .unwrap_or(TTLS[TTLS.len() - 1])
}

impl KindConfig for Config {
    fn endpoint(&self) -> Option<&str> {
        self.endpoint.as_deref()
    }

    fn secrets_mut(&mut self) -> Vec<(String, &mut Secret)> {
        vec![("password".into(), &mut self.password)]
    }

    fn zone(&self) -> Option<(&str, &'static str)> {
        self.zone.as_deref().map(|z| (z, "zone"))
    }

    fn validate(&self, check: &mut FieldCheck<'_>) {
        match (&self.auth_id, &self.sub_auth_id) {
            (None, None) | (Some(_), Some(_)) => {
                check.problem("auth_id", "provider.cloudns.check.one_user", &[]);
            }
            (Some(id), None) | (None, Some(id)) => {
                if id.is_empty() || !id.chars().all(|c| c.is_ascii_digit()) {
                    let field = if self.auth_id.is_some() {
                        "auth_id"
                    } else {
                        "sub_auth_id"
                    };
                    check.problem(field, "provider.cloudns.check.numeric_id", &[]);
                }
            }
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
        let user = match (&self.auth_id, &self.sub_auth_id) {
            (Some(id), _) => ("auth-id", id.clone()),
            (None, Some(id)) => ("sub-auth-id", id.clone()),
            (None, None) => ("auth-id", String::new()),
        };
        let api = Api {
            name,
            client,
            base: super::base_url(self.endpoint.as_deref(), DEFAULT_ENDPOINT),
            user,
            password: self.password.clone(),
            zone: self.zone.as_deref().map(super::canonical),
            known: RoundCache::default(),
            rounded: Mutex::new(HashMap::new()),
        };
        Arc::new(Reconciler::new(api).keeping_duplicates(self.delete_duplicates == Some(false)))
    }
}

struct Api {
    name: String,
    client: reqwest::Client,
    base: String,
    /// (`auth-id` or `sub-auth-id`, its value).
    user: (&'static str, String),
    password: Secret,
    zone: Option<String>,
    /// Suffix -> whether the user has that zone, learnt this round.
    known: RoundCache<String, bool>,
    /// Record id -> (TTL asked for, TTL sent after rounding).
    rounded: Mutex<HashMap<String, (u32, u32)>>,
}

#[derive(Deserialize)]
struct Record {
    id: String,
    #[serde(rename = "type", default)]
    record_type: String,
    #[serde(default)]
    host: String,
    #[serde(default)]
    record: String,
    #[serde(default)]
    ttl: Option<String>,
}

/// A write's `{"status":"Success",…}` answer; `data.id` when the API gives it.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Status {
    status: String,
    #[serde(default)]
    status_description: String,
    #[serde(default)]
    data: Option<Value>,
}

/// How a `Failed` answer's text is classified.
fn classify(description: &str) -> ErrorClass {
    let d = description.to_ascii_lowercase();
    if d.contains("invalid authentication")
        || d.contains("missing required parameter 'auth")
        || d.contains("missing required parameter 'sub-auth")
    {
        ErrorClass::Auth
    } else if d.contains("request blocked") || d.contains("more than 20 requests") {
        // No retry field: a second is the documented window.
        ErrorClass::RateLimited {
            retry_after: Some(1),
        }
    } else {
        ErrorClass::Rejected
    }
}

impl Api {
    fn label(&self) -> String {
        format!("cloudns `{}`", self.name)
    }

    /// POSTs `method` with the credentials and `fields`; a `Failed` status is an error (classified by its text).
    async fn call(&self, method: &str, fields: &[(&str, &str)]) -> Result<Answer, ProviderError> {
        let label = self.label();
        let mut form: Vec<(&str, &str)> = vec![
            (self.user.0, self.user.1.as_str()),
            ("auth-password", self.password.expose()),
        ];
        form.extend_from_slice(fields);
        let answer = send(
            &label,
            self.client
                .post(format!("{}/{method}.json", self.base))
                .form(&form),
            &[self.password.expose()],
        )
        .await?;
        if !answer.status.is_success() {
            return Err(answer.status_error(&label, None));
        }
        if let Ok(s) = serde_json::from_str::<Status>(&answer.body)
            && s.status.eq_ignore_ascii_case("failed")
        {
            let why = answer.redact(&s.status_description);
            let class = classify(&why);
            let message = match class {
                ErrorClass::Auth => format!(
                    "{label}: credentials refused: {why} (an API user restricted to other IP addresses gets this too)"
                ),
                ErrorClass::RateLimited { .. } => format!("{label}: rate limited: {why}"),
                _ => format!("{label}: {method} failed: {why}"),
            };
            return Err(ProviderError::new(class, message));
        }
        Ok(answer)
    }

    /// A write's answer must say `Success`.
    fn success(&self, answer: &Answer) -> Result<Status, ProviderError> {
        let status = answer.json::<Status>(&self.label())?;
        if status.status.eq_ignore_ascii_case("success") {
            Ok(status)
        } else {
            Err(ProviderError::transient(format!(
                "{}: unexpected answer `{}`",
                self.label(),
                answer.snippet()
            )))
        }
    }

    async fn has_zone(&self, candidate: &str) -> Result<bool, ProviderError> {
        self.known
            .get_or_try(&candidate.to_owned(), async {
                match self
                    .call("get-zone-info", &[("domain-name", candidate)])
                    .await
                {
                    Ok(answer) => {
                        let v = answer.json::<Value>(&self.label())?;
                        Ok(v["name"]
                            .as_str()
                            .is_some_and(|n| super::canonical(n) == candidate))
                    }
                    // Not a zone of this user; credentials and limits still stop the lookup.
                    Err(e) if e.class == ErrorClass::Rejected => Ok(false),
                    Err(e) => Err(e),
                }
            })
            .await
    }

    /// The TTL to report: the one asked for when this provider rounded it up to what is stored.
    fn reported_ttl(&self, id: &str, stored: Option<u32>) -> Option<u32> {
        let rounded = self.rounded.lock().ok()?;
        match (rounded.get(id), stored) {
            (Some((asked, sent)), Some(s)) if *sent == s => Some(*asked),
            _ => stored,
        }
    }

    fn remember(&self, id: &str, asked: Option<u32>) {
        if let (Some(asked), Ok(mut r)) = (asked, self.rounded.lock()) {
            r.insert(id.to_owned(), (asked, round_up(asked)));
        }
    }
}

/// The API's host for `name` in `zone`: the label, `""` for the apex.
fn host(name: &str, zone: &Zone) -> String {
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
        #[derive(Deserialize)]
        struct ZoneEntry {
            name: String,
        }
        let mut out = Vec::new();
        for page in 1..=MAX_PAGES {
            let page = page.to_string();
            let rows = ZONE_PAGE.to_string();
            let zones: Vec<ZoneEntry> = self
                .call("list-zones", &[("page", &page), ("rows-per-page", &rows)])
                .await?
                .json(&self.label())?;
            let n = zones.len();
            out.extend(zones.into_iter().map(|z| z.name));
            if n < ZONE_PAGE {
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
            "{}: no zone of this API user holds {name} (a sub-user sees only the zones delegated to it)",
            self.label()
        )))
    }

    async fn list(
        &self,
        zone: &Zone,
        name: &str,
        record_type: RecordType,
    ) -> Result<Vec<Existing>, ProviderError> {
        let want = host(name, zone);
        let answer = self
            .call(
                "records",
                &[
                    ("domain-name", &zone.id),
                    ("host", &want),
                    ("type", record_type.as_str()),
                ],
            )
            .await?;
        // A map keyed by record id; `[]` when there are none.
        let rows: Vec<Record> = match answer.json::<Value>(&self.label())? {
            Value::Array(a) if a.is_empty() => Vec::new(),
            Value::Object(map) => map
                .into_values()
                .map(serde_json::from_value)
                .collect::<Result<_, _>>()
                .map_err(|e| {
                    ProviderError::transient(format!(
                        "{}: unexpected answer `{}` ({e})",
                        self.label(),
                        answer.snippet()
                    ))
                })?,
            _ => {
                return Err(ProviderError::transient(format!(
                    "{}: unexpected answer `{}`",
                    self.label(),
                    answer.snippet()
                )));
            }
        };
        let mut out: Vec<Existing> = rows
            .into_iter()
            .filter(|r| {
                let h = super::canonical(&r.host);
                (h == want || (h == "@" && want.is_empty()))
                    && r.record_type == record_type.as_str()
            })
            .map(|r| {
                let stored = r.ttl.as_deref().and_then(|t| t.trim().parse().ok());
                Existing {
                    ttl: self.reported_ttl(&r.id, stored),
                    stale: false,
                    values: vec![r.record],
                    line: None,
                    id: r.id,
                }
            })
            .collect();
        out.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(out)
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
        let record = values.first().map(ToString::to_string).unwrap_or_default();
        let sent = round_up(ttl.unwrap_or(3600)).to_string();
        let answer = self
            .call(
                "add-record",
                &[
                    ("domain-name", &zone.id),
                    ("record-type", record_type.as_str()),
                    ("host", &host(name, zone)),
                    ("record", &record),
                    ("ttl", &sent),
                ],
            )
            .await?;
        let status = self.success(&answer)?;
        let id = status.data.as_ref().and_then(|d| match &d["id"] {
            Value::Number(n) => Some(n.to_string()),
            Value::String(s) => Some(s.clone()),
            _ => None,
        });
        if let Some(id) = &id {
            self.remember(id, ttl);
        }
        Ok(Written::new(id))
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
        let record = values.first().map(ToString::to_string).unwrap_or_default();
        // Host and TTL are required: the record's own TTL unless the config sets one.
        let asked = ttl.or(existing.ttl).unwrap_or(3600);
        let sent = round_up(asked).to_string();
        let answer = self
            .call(
                "mod-record",
                &[
                    ("domain-name", &zone.id),
                    ("record-id", &existing.id),
                    ("host", &host(name, zone)),
                    ("record", &record),
                    ("ttl", &sent),
                ],
            )
            .await?;
        self.success(&answer)?;
        self.remember(&existing.id, ttl);
        Ok(Written::new(Some(existing.id.clone())))
    }

    async fn delete(
        &self,
        zone: &Zone,
        _name: &str,
        _record_type: RecordType,
        existing: &Existing,
    ) -> Result<(), ProviderError> {
        let answer = self
            .call(
                "delete-record",
                &[("domain-name", &zone.id), ("record-id", &existing.id)],
            )
            .await?;
        self.success(&answer).map(|_| ())
    }

    fn begin_round(&self) {
        self.known.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ttls_round_up_to_the_list() {
        assert_eq!(round_up(60), 60);
        assert_eq!(round_up(61), 300);
        assert_eq!(round_up(600), 900);
        assert_eq!(round_up(3600), 3600);
        assert_eq!(round_up(2_592_000), 2_592_000);
    }

    #[test]
    fn failure_texts() {
        assert_eq!(
            classify("Invalid authentication, incorrect auth-id or auth-password."),
            ErrorClass::Auth
        );
        assert_eq!(
            classify(
                "Invalid authentication, incorrect sub-auth-id, sub-auth-user or auth-password."
            ),
            ErrorClass::Auth
        );
        assert_eq!(
            classify("Request blocked. 192.0.2.1 is sending more than 20 requests per second."),
            ErrorClass::RateLimited {
                retry_after: Some(1)
            }
        );
        assert_eq!(classify("Invalid record-id param."), ErrorClass::Rejected);
    }
}
