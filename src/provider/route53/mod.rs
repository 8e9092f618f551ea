//! AWS Route 53 (REST-XML API `2013-04-01`), signed with `SigV4` (`AWS4-HMAC-SHA256`, region `us-east-1`,
//! service `route53`) from an access key (and a session token for temporary credentials). The hosted zone is
//! configured (`zone_id`), or the public zone named like the longest suffix of the name
//! (`ListHostedZonesByName`, each suffix asked once per round). The name's set of the record type is read with
//! `ListResourceRecordSets` (which *starts at* a name and type and pages; only exact matches count) and, when it
//! differs, replaced with one `UPSERT`. "Test" lists the account's public hosted zones (`ListHostedZones`,
//! 100 a page, `NextMarker` followed while `IsTruncated`).
//!
//! Route 53 keeps a name's addresses of one type as one record set, so this is a [`SetApi`] kind like Gandi:
//! the set at the managed name and type is what the record manages, and it is made to hold exactly the
//! record's addresses (all of them with `mode = "all"`). Everything else is never touched: other names, other
//! types, and at the same name and type the alias sets and the routing-policy sets (weighted, latency, … ones
//! carrying a `SetIdentifier`), which are refused rather than overwritten.
//!
//! A change answers `PENDING` first: Route 53 has accepted it into the zone's authoritative data (the listing
//! already shows it) and applies it to all its name servers within about 60 s; a batch is transactional and
//! is not rolled back afterwards. So `PENDING` (like `INSYNC`) counts as written: polling `GetChange` until
//! `INSYNC` would hold the round for up to a minute and tell the engine nothing it could act on.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use super::{
    Answer, Capabilities, ErrorClass, Existing, KindConfig, KindInfo, Provider, ProviderError,
    Reconciler, SetApi, TtlRule, Zone, send, sigv4, suffixes,
};
mod xml;

use self::xml::{
    ChangeResponse, ErrorBody, HostedZones, RecordSet, RecordSets, change_body, root_name,
    unescape_name,
};
use crate::config::check::FieldCheck;
use crate::config::{RecordType, Secret};

const DEFAULT_ENDPOINT: &str = "https://route53.amazonaws.com";
const API: &str = "/2013-04-01";
const XMLNS: &str = "https://route53.amazonaws.com/doc/2013-04-01/";
/// Route 53 is global: requests are signed for `us-east-1` whatever region the account uses.
const REGION: &str = "us-east-1";
const SERVICE: &str = "route53";
const DEFAULT_TTL: u32 = 300;
/// Record sets asked for per page of `ListResourceRecordSets` (at most 300).
const PAGE: &str = "100";
const MAX_PAGES: usize = 20;

pub const INFO: KindInfo = KindInfo::provider(
    "route53",
    "https://console.aws.amazon.com/iam/home#/users",
    &[
        super::req("access_key_id"),
        super::secret("secret_access_key"),
        crate::config::kinds::secret_opt("session_token"),
        super::opt("zone_id"),
        super::ENDPOINT,
    ],
)
.example(
    "access_key_id = \"AKIDEXAMPLE\"\nsecret_access_key = \"wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY\"",
);

/// `kind = "route53"`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub access_key_id: String,
    pub secret_access_key: Secret,
    /// For temporary credentials (STS, SSO, an instance role).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_token: Option<Secret>,
    /// The hosted zone's id (`Z…`, or `/hostedzone/Z…`); default: looked up by name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zone_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
}

const CAPABILITIES: Capabilities = Capabilities {
    ttl: TtlRule {
        min: 0,
        max: 2_147_483_647,
        auto: None,
    },
    ..Capabilities::SETS
};

/// `/hostedzone/Z123` and `/change/C123` -> the bare id (what paths take).
fn bare_id(id: &str) -> &str {
    id.trim().rsplit('/').next().unwrap_or_default()
}

impl KindConfig for Config {
    fn endpoint(&self) -> Option<&str> {
        self.endpoint.as_deref()
    }

    fn secrets_mut(&mut self) -> Vec<(String, &mut Secret)> {
        let mut out = vec![("secret_access_key".into(), &mut self.secret_access_key)];
        if let Some(token) = &mut self.session_token {
            out.push(("session_token".into(), token));
        }
        out
    }

    fn validate(&self, check: &mut FieldCheck<'_>) {
        check.key_id("access_key_id", &self.access_key_id, "access key ID");
        if let Some(id) = &self.zone_id {
            check.key_id("zone_id", bare_id(id), "hosted zone ID");
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
        let base = super::base_url(self.endpoint.as_deref(), DEFAULT_ENDPOINT);
        let host = super::host_of(&base);
        Arc::new(Reconciler::new(Api {
            name,
            client,
            base,
            host,
            key_id: self.access_key_id.clone(),
            secret: self.secret_access_key.clone(),
            token: self.session_token.clone(),
            zone_id: self.zone_id.as_deref().map(|z| bare_id(z).to_owned()),
            zones: Mutex::new(HashMap::new()),
        }))
    }
}

struct Api {
    name: String,
    client: reqwest::Client,
    base: String,
    host: String,
    key_id: String,
    secret: Secret,
    token: Option<Secret>,
    zone_id: Option<String>,
    /// Suffix -> the id of the public hosted zone of that name (or none), learnt this round.
    zones: Mutex<HashMap<String, Option<String>>>,
}

impl Api {
    fn label(&self) -> String {
        format!("route53 `{}`", self.name)
    }

    /// Sends one signed request and returns the 2xx answer; other answers are classified by their code.
    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        query: &[(&str, &str)],
        body: Option<String>,
    ) -> Result<Answer, ProviderError> {
        let label = self.label();
        let amz_date = sigv4::compact_now();
        let body = body.unwrap_or_default();
        let mut headers: Vec<(&str, &str)> = vec![("host", &self.host), ("x-amz-date", &amz_date)];
        if !body.is_empty() {
            headers.push(("content-type", "application/xml"));
        }
        if let Some(token) = &self.token {
            headers.push(("x-amz-security-token", token.expose()));
        }
        let [_, _, authorization] = sigv4::aws(
            &sigv4::Key {
                key_id: &self.key_id,
                secret: self.secret.expose(),
                region: REGION,
                service: SERVICE,
            },
            &amz_date,
            &sigv4::Request {
                method: method.as_str(),
                path,
                query,
                headers: &headers,
                body: body.as_bytes(),
            },
        );
        let mut request = self
            .client
            .request(method, format!("{}{path}", self.base))
            .header("Authorization", authorization);
        if !query.is_empty() {
            request = request.query(query);
        }
        for (name, value) in headers.iter().filter(|(n, _)| *n != "host") {
            request = request.header(*name, *value);
        }
        if !body.is_empty() {
            request = request.body(body);
        }
        let mut secrets = vec![self.secret.expose()];
        if let Some(token) = &self.token {
            secrets.push(token.expose());
        }
        let answer = send(&label, request, &secrets).await?;
        if answer.status.is_success() {
            Ok(answer)
        } else {
            Err(self.error(&answer))
        }
    }

    /// The documented error codes mapped to classes; unknown ones by the HTTP status.
    fn error(&self, answer: &Answer) -> ProviderError {
        let label = self.label();
        let root = root_name(&answer.body).unwrap_or_default();
        let parsed: ErrorBody = quick_xml::de::from_str(&answer.body).unwrap_or_default();
        let (code, message) = match (&root[..], parsed.error) {
            ("InvalidChangeBatch", _) => {
                let mut messages = parsed.messages.map(|m| m.items).unwrap_or_default();
                messages.extend(parsed.message);
                ("InvalidChangeBatch".to_owned(), messages.join("; "))
            }
            (_, Some(e)) => (e.code, e.message),
            _ => return answer.status_error(&label, None),
        };
        let detail = answer.redact(&format!("{code}: {message}"));
        match code.as_str() {
            "SignatureDoesNotMatch"
                if message.contains("Signature expired") || message.contains("not yet current") =>
            {
                ProviderError::auth(format!(
                    "{label}: the request's time was refused; check the system clock ({detail})"
                ))
            }
            "InvalidClientTokenId"
            | "SignatureDoesNotMatch"
            | "IncompleteSignature"
            | "MissingAuthenticationToken"
            | "ExpiredToken"
            | "InvalidToken"
            | "UnrecognizedClientException"
            | "AccessDenied"
            | "AccessDeniedException" => {
                ProviderError::auth(format!("{label}: credentials refused ({detail})"))
            }
            // Throttling is HTTP 400 on Route 53; no retry field is documented, `Retry-After` is honoured when sent.
            "Throttling" | "ThrottlingException" | "RequestLimitExceeded" => ProviderError::new(
                ErrorClass::RateLimited {
                    retry_after: answer.retry_after.map(|d| d.as_secs()),
                },
                format!("{label}: rate limited ({detail})"),
            ),
            // The zone's previous change is still being applied: retry with back-off.
            "PriorRequestNotComplete" => {
                ProviderError::transient(format!("{label}: zone busy ({detail})"))
            }
            "InvalidChangeBatch" | "InvalidInput" | "NoSuchHostedZone" | "InvalidDomainName"
            | "NoSuchChange" | "HostedZoneNotFound" => {
                ProviderError::rejected(format!("{label}: request rejected ({detail})"))
            }
            _ => answer.status_error(&label, Some(&detail)),
        }
    }

    /// Parses an answer whose root must be `root` (anything else, e.g. a portal's page, is unexpected).
    fn xml<T: serde::de::DeserializeOwned>(
        &self,
        answer: &Answer,
        root: &str,
    ) -> Result<T, ProviderError> {
        let unexpected = |e: &dyn std::fmt::Display| {
            ProviderError::transient(format!(
                "{}: unexpected answer `{}` ({e})",
                self.label(),
                answer.snippet()
            ))
        };
        match root_name(&answer.body) {
            Some(r) if r == root => {
                quick_xml::de::from_str(&answer.body).map_err(|e| unexpected(&e))
            }
            other => Err(unexpected(&format!(
                "root element {}, not {root}",
                other.as_deref().unwrap_or("missing")
            ))),
        }
    }

    /// The id of the public hosted zone named exactly `candidate`, if the account has one.
    async fn zone_named(&self, candidate: &str) -> Result<Option<String>, ProviderError> {
        if let Some(known) = self
            .zones
            .lock()
            .ok()
            .and_then(|z| z.get(candidate).cloned())
        {
            return Ok(known);
        }
        // The listing starts at the name (in reversed-label order); it is not a filter.
        let answer = self
            .call(
                reqwest::Method::GET,
                &format!("{API}/hostedzonesbyname"),
                &[("dnsname", candidate), ("maxitems", "5")],
                None,
            )
            .await?;
        let zones: HostedZones = self.xml(&answer, "ListHostedZonesByNameResponse")?;
        let exact: Vec<String> = zones
            .hosted_zones
            .map(|z| z.items)
            .unwrap_or_default()
            .into_iter()
            .filter(|z| {
                unescape_name(&z.name) == candidate
                    && !z
                        .config
                        .as_ref()
                        .and_then(|c| c.private_zone)
                        .unwrap_or(false)
            })
            .map(|z| bare_id(&z.id).to_owned())
            .collect();
        if exact.len() > 1 {
            return Err(ProviderError::rejected(format!(
                "{}: several public hosted zones are named {candidate} ({}); set `zone_id` to the one to use",
                self.label(),
                exact.join(", ")
            )));
        }
        let id = exact.into_iter().next();
        if let Ok(mut known) = self.zones.lock() {
            known.insert(candidate.to_owned(), id.clone());
        }
        Ok(id)
    }

    /// The record sets at exactly `name` and `record_type`: the listing starts there and pages.
    async fn sets_at(
        &self,
        zone: &Zone,
        name: &str,
        record_type: RecordType,
    ) -> Result<Vec<RecordSet>, ProviderError> {
        let path = format!("{API}/hostedzone/{}/rrset", zone.id);
        let mut start = (
            format!("{name}."),
            record_type.as_str().to_owned(),
            None::<String>,
        );
        let mut out = Vec::new();
        for _ in 0..MAX_PAGES {
            let mut query = vec![
                ("name", start.0.as_str()),
                ("type", start.1.as_str()),
                ("maxitems", PAGE),
            ];
            if let Some(id) = &start.2 {
                query.push(("identifier", id.as_str()));
            }
            let answer = self.call(reqwest::Method::GET, &path, &query, None).await?;
            let page: RecordSets = self.xml(&answer, "ListResourceRecordSetsResponse")?;
            for set in page
                .resource_record_sets
                .map(|s| s.items)
                .unwrap_or_default()
            {
                if unescape_name(&set.name) != name || set.record_type != record_type.as_str() {
                    // Sorted by name, then type: past the name and type, nothing more can match.
                    return Ok(out);
                }
                out.push(set);
            }
            match (
                page.is_truncated,
                page.next_record_name,
                page.next_record_type,
            ) {
                (true, Some(next_name), next_type)
                    if unescape_name(&next_name) == name
                        && next_type
                            .as_deref()
                            .is_none_or(|t| t == record_type.as_str()) =>
                {
                    start = (
                        next_name,
                        next_type.unwrap_or_else(|| record_type.as_str().to_owned()),
                        page.next_record_identifier,
                    );
                }
                _ => return Ok(out),
            }
        }
        Err(ProviderError::transient(format!(
            "{}: the listing of {name} did not end after {MAX_PAGES} pages",
            self.label()
        )))
    }

    /// Submits one change; `PENDING` and `INSYNC` both mean written (see the module's comment).
    async fn change(&self, zone: &Zone, body: String) -> Result<(), ProviderError> {
        let label = self.label();
        let answer = self
            .call(
                reqwest::Method::POST,
                &format!("{API}/hostedzone/{}/rrset", zone.id),
                &[],
                Some(body),
            )
            .await?;
        let changed: ChangeResponse = self
            .xml(&answer, "ChangeResourceRecordSetsResponse")
            .map_err(|e| {
                ProviderError::unconfirmed(format!(
                    "{label}: the change was sent but its answer is not a change info ({})",
                    e.message
                ))
            })?;
        match changed.change_info.status.as_str() {
            "PENDING" | "INSYNC" if !bare_id(&changed.change_info.id).is_empty() => Ok(()),
            other => Err(ProviderError::unconfirmed(format!(
                "{label}: the change was sent but its status is `{}`",
                answer.redact(other)
            ))),
        }
    }
}

#[async_trait]
impl SetApi for Api {
    fn label(&self) -> String {
        Api::label(self)
    }

    fn capabilities(&self) -> Capabilities {
        CAPABILITIES
    }

    fn default_ttl(&self) -> u32 {
        DEFAULT_TTL
    }

    async fn zones(&self) -> Result<Option<Vec<String>>, ProviderError> {
        let mut out = Vec::new();
        let mut marker: Option<String> = None;
        for _ in 0..MAX_PAGES {
            let mut query = vec![("maxitems", "100")];
            if let Some(m) = &marker {
                query.push(("marker", m.as_str()));
            }
            let answer = self
                .call(
                    reqwest::Method::GET,
                    &format!("{API}/hostedzone"),
                    &query,
                    None,
                )
                .await?;
            let page: HostedZones = self.xml(&answer, "ListHostedZonesResponse")?;
            out.extend(
                page.hosted_zones
                    .map(|z| z.items)
                    .unwrap_or_default()
                    .into_iter()
                    .filter(|z| {
                        !z.config
                            .as_ref()
                            .and_then(|c| c.private_zone)
                            .unwrap_or(false)
                    })
                    .map(|z| unescape_name(&z.name)),
            );
            marker = page
                .next_marker
                .filter(|m| page.is_truncated && !m.is_empty());
            if marker.is_none() {
                break;
            }
        }
        Ok(Some(out))
    }

    async fn zone(&self, name: &str) -> Result<Zone, ProviderError> {
        if let Some(id) = &self.zone_id {
            return Ok(Zone {
                id: id.clone(),
                name: String::new(),
            });
        }
        for candidate in suffixes(name) {
            if let Some(id) = self.zone_named(&candidate).await? {
                return Ok(Zone {
                    id,
                    name: candidate,
                });
            }
        }
        Err(ProviderError::rejected(format!(
            "{}: no public hosted zone of this account holds {name}; set `zone_id` for a private one",
            self.label()
        )))
    }

    async fn list(
        &self,
        zone: &Zone,
        name: &str,
        record_type: RecordType,
    ) -> Result<Vec<Existing>, ProviderError> {
        let sets = self.sets_at(zone, name, record_type).await?;
        if let Some(special) = sets
            .iter()
            .find(|s| s.alias_target.is_some() || s.set_identifier.is_some())
        {
            let what = if special.alias_target.is_some() {
                "an alias"
            } else {
                "a routing-policy (SetIdentifier)"
            };
            return Err(ProviderError::rejected(format!(
                "{}: {name} {record_type} is {what} record set, made by hand; ddns-tray does not replace it",
                self.label()
            )));
        }
        Ok(sets
            .into_iter()
            .map(|s| Existing {
                id: name.to_owned(),
                values: s
                    .resource_records
                    .map(|r| r.items.into_iter().map(|v| v.value).collect())
                    .unwrap_or_default(),
                line: None,
                ttl: s.ttl,
                stale: false,
            })
            .collect())
    }

    async fn put(
        &self,
        zone: &Zone,
        name: &str,
        record_type: RecordType,
        values: &[IpAddr],
        ttl: u32,
    ) -> Result<(), ProviderError> {
        let values: Vec<String> = values.iter().map(ToString::to_string).collect();
        self.change(
            zone,
            change_body("UPSERT", name, record_type.as_str(), ttl, &values),
        )
        .await
    }

    async fn clear(
        &self,
        zone: &Zone,
        name: &str,
        record_type: RecordType,
    ) -> Result<(), ProviderError> {
        // A DELETE must repeat the set's current TTL and values exactly: read them first.
        for set in self.list(zone, name, record_type).await? {
            let ttl = set.ttl.unwrap_or(DEFAULT_TTL);
            self.change(
                zone,
                change_body("DELETE", name, record_type.as_str(), ttl, &set.values),
            )
            .await?;
        }
        Ok(())
    }

    fn begin_round(&self) {
        if let Ok(mut z) = self.zones.lock() {
            z.clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_ids_and_bodies() {
        assert_eq!(unescape_name("\\052.Example.com."), "*.example.com");
        assert_eq!(unescape_name("home.example.com."), "home.example.com");
        assert_eq!(bare_id("/hostedzone/Z148QEXAMPLE8V"), "Z148QEXAMPLE8V");
        assert_eq!(bare_id("Z148QEXAMPLE8V"), "Z148QEXAMPLE8V");
        // The exact document of docs/providers/route53.md §5 (397 bytes).
        let body = change_body(
            "UPSERT",
            "home.example.com",
            "A",
            300,
            &["203.0.113.7".into()],
        );
        assert_eq!(
            body,
            "<ChangeResourceRecordSetsRequest xmlns=\"https://route53.amazonaws.com/doc/2013-04-01/\"><ChangeBatch><Changes><Change><Action>UPSERT</Action><ResourceRecordSet><Name>home.example.com</Name><Type>A</Type><TTL>300</TTL><ResourceRecords><ResourceRecord><Value>203.0.113.7</Value></ResourceRecord></ResourceRecords></ResourceRecordSet></Change></Changes></ChangeBatch></ChangeResourceRecordSetsRequest>"
        );
        assert_eq!(body.len(), 397);
        assert_eq!(
            root_name("<?xml version=\"1.0\"?><InvalidChangeBatch xmlns=\"x\"/>").as_deref(),
            Some("InvalidChangeBatch")
        );
    }
}
