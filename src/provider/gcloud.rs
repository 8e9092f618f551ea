//! Google Cloud DNS (`dns.googleapis.com/dns/v1`) with a service-account JSON key: an RS256-signed JWT is
//! exchanged for an access token at the key's `token_uri` (RFC 7523), and the token is kept until shortly before
//! it expires. The managed zone is configured (`managed_zone`), or the public zone whose `dnsName` is the
//! longest suffix of the name (`managedZones.list?dnsName=`, pages followed). The name's rrset of the type is
//! read with `rrsets.list?name=&type=` (pages followed) and written with `changes.create`, which is atomic:
//! a new set is one addition; a changed set is the deletion of the set exactly as listed plus the addition of
//! the new one. Sets with a routing policy (geo, weighted), other types and other names are never touched.
//! "Test" lists the project's public managed zones by DNS name (`managedZones.list` without `dnsName`, pages
//! followed).

use std::net::IpAddr;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::bearer::Bearer;
use super::reconcile::RoundCache;
use super::{
    Answer, Capabilities, ErrorClass, Existing, KindConfig, KindInfo, Provider, ProviderError,
    Reconciler, RecordApi, Written, Zone, segment, send, suffixes,
};
use crate::config::check::FieldCheck;
use crate::config::{RecordType, Secret};

const DEFAULT_ENDPOINT: &str = "https://dns.googleapis.com/dns/v1";
const SCOPE: &str = "https://www.googleapis.com/auth/ndev.clouddns.readwrite";
const GRANT: &str = "urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer";
const DEFAULT_TTL: u32 = 300;
const MAX_PAGES: usize = 20;

pub const INFO: KindInfo = KindInfo::provider(
    "gcloud",
    "https://console.cloud.google.com/iam-admin/serviceaccounts",
    &[
        super::secret("service_account_key"),
        super::opt("project"),
        super::opt("managed_zone"),
        super::ENDPOINT,
    ],
)
.example(
    r#"service_account_key = '{"type":"service_account","project_id":"my-project","private_key_id":"0123abcd","private_key":"-----BEGIN PRIVATE KEY-----\nMIIEvexample\n-----END PRIVATE KEY-----\n","client_email":"ddns@my-project.iam.gserviceaccount.com","token_uri":"https://oauth2.googleapis.com/token"}'"#,
);

/// `kind = "gcloud"`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The service account's JSON key (its text; usually `{ file = "…" }`).
    pub service_account_key: Secret,
    /// The project; default: the key's `project_id`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project: Option<String>,
    /// The managed zone's name (`example-com`) or id; default: looked up by the record's domain.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub managed_zone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
}

const CAPABILITIES: Capabilities = Capabilities::SETS;

/// The fields of a service-account key that are used.
#[derive(Deserialize)]
struct KeyFile {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    project_id: Option<String>,
    client_email: String,
    private_key: String,
    #[serde(default)]
    private_key_id: Option<String>,
    token_uri: String,
}

/// A parsed key: what signs the JWT and where it is exchanged.
struct Key {
    email: String,
    key_id: Option<String>,
    project: Option<String>,
    token_uri: String,
    pair: ring::signature::RsaKeyPair,
}

/// Reads the key's JSON: a service account's, with a token endpoint and a PEM private key.
fn key_file(text: &str) -> Result<KeyFile, String> {
    let file: KeyFile = serde_json::from_str(text).map_err(|e| e.to_string())?;
    if file.kind != "service_account" {
        return Err(format!("its type is `{}`, not service_account", file.kind));
    }
    match reqwest::Url::parse(&file.token_uri) {
        Ok(u) if matches!(u.scheme(), "http" | "https") => {}
        _ => return Err(format!("token_uri `{}` is not a URL", file.token_uri)),
    }
    if !file.private_key.contains("-----BEGIN PRIVATE KEY-----") {
        return Err("private_key is not a PEM `PRIVATE KEY`".to_owned());
    }
    Ok(file)
}

/// Parses the key's JSON and its PEM PKCS#8 RSA private key.
fn parse_key(text: &str) -> Result<Key, String> {
    let file = key_file(text)?;
    let b64: String = file
        .private_key
        .lines()
        .map(str::trim)
        .filter(|l| !l.starts_with("-----") && !l.is_empty())
        .collect();
    let der = base64::engine::general_purpose::STANDARD
        .decode(b64)
        .map_err(|e| format!("private_key is not PEM ({e})"))?;
    let pair = ring::signature::RsaKeyPair::from_pkcs8(&der)
        .map_err(|e| format!("private_key is not a PKCS#8 RSA key ({e})"))?;
    Ok(Key {
        email: file.client_email,
        key_id: file.private_key_id,
        project: file.project_id,
        token_uri: file.token_uri,
        pair,
    })
}

fn b64url(data: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(data)
}

/// The signed JWT assertion: `iat` 30 s in the past (clock skew), `exp` one hour later (the maximum).
fn assertion(key: &Key, now: u64) -> Result<String, String> {
    let mut header = json!({ "alg": "RS256", "typ": "JWT" });
    if let Some(kid) = &key.key_id {
        header["kid"] = json!(kid);
    }
    let iat = now.saturating_sub(30);
    let claims = json!({
        "iss": key.email, "scope": SCOPE, "aud": key.token_uri, "iat": iat, "exp": iat + 3600,
    });
    let input = format!(
        "{}.{}",
        b64url(header.to_string().as_bytes()),
        b64url(claims.to_string().as_bytes())
    );
    let mut signature = vec![0; key.pair.public().modulus_len()];
    key.pair
        .sign(
            &ring::signature::RSA_PKCS1_SHA256,
            &ring::rand::SystemRandom::new(),
            input.as_bytes(),
            &mut signature,
        )
        .map_err(|_| "the key could not sign".to_owned())?;
    Ok(format!("{input}.{}", b64url(&signature)))
}

impl KindConfig for Config {
    fn endpoint(&self) -> Option<&str> {
        self.endpoint.as_deref()
    }

    fn secrets_mut(&mut self) -> Vec<(String, &mut Secret)> {
        vec![("service_account_key".into(), &mut self.service_account_key)]
    }

    fn validate(&self, check: &mut FieldCheck<'_>) {
        let text = self.service_account_key.expose();
        if text.is_empty() {
            return;
        }
        match key_file(text) {
            Ok(key) if key.project_id.is_none() && self.project.is_none() => {
                check.problem("project", "provider.gcloud.check.no_project", &[]);
            }
            Ok(_) => {}
            Err(error) => check.problem(
                "service_account_key",
                "provider.gcloud.check.key",
                &[("error", &error)],
            ),
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
        let key = parse_key(self.service_account_key.expose());
        let project = self
            .project
            .clone()
            .or_else(|| key.as_ref().ok().and_then(|k| k.project.clone()))
            .unwrap_or_default();
        Arc::new(Reconciler::new(Api {
            name,
            client,
            base: super::base_url(self.endpoint.as_deref(), DEFAULT_ENDPOINT),
            project,
            managed_zone: self.managed_zone.clone(),
            key,
            token: Bearer::default(),
            zones: RoundCache::default(),
        }))
    }
}

struct Api {
    name: String,
    client: reqwest::Client,
    base: String,
    project: String,
    managed_zone: Option<String>,
    key: Result<Key, String>,
    /// The access token and when to renew it.
    token: Bearer,
    /// Suffix -> the public managed zone with that `dnsName` (or none), learnt this round.
    zones: RoundCache<String, Option<String>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ZonesPage {
    #[serde(default)]
    managed_zones: Vec<ManagedZone>,
    #[serde(default)]
    next_page_token: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ManagedZone {
    name: String,
    dns_name: String,
    #[serde(default)]
    visibility: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RrsetsPage {
    #[serde(default)]
    rrsets: Vec<Rrset>,
    #[serde(default)]
    next_page_token: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Rrset {
    name: String,
    #[serde(rename = "type")]
    record_type: String,
    #[serde(default)]
    ttl: Option<u32>,
    #[serde(default)]
    rrdatas: Vec<String>,
    #[serde(default)]
    routing_policy: Option<Value>,
}

impl Api {
    fn label(&self) -> String {
        format!("gcloud `{}`", self.name)
    }

    fn key(&self) -> Result<&Key, ProviderError> {
        self.key.as_ref().map_err(|e| {
            ProviderError::auth(format!(
                "{}: service_account_key is not usable: {e}",
                self.label()
            ))
        })
    }

    /// A valid access token: the cached one, or a new one from the key's `token_uri`.
    async fn token(&self) -> Result<Secret, ProviderError> {
        let label = self.label();
        self.token
            .get(&label, || self.fetch_token(&label), token_error)
            .await
    }

    /// The token endpoint's answer to a freshly signed assertion (signed only when the cache needs a token).
    async fn fetch_token(&self, label: &str) -> Result<Answer, ProviderError> {
        let key = self.key()?;
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let jwt = assertion(key, now).map_err(|e| ProviderError::auth(format!("{label}: {e}")))?;
        let request = self
            .client
            .post(&key.token_uri)
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(format!("grant_type={GRANT}&assertion={jwt}"));
        send(label, request, &[]).await
    }

    /// An API call with the bearer token; a 401 renews the token once.
    async fn call(
        &self,
        method: reqwest::Method,
        url: &str,
        query: &[(&str, &str)],
        body: Option<&Value>,
    ) -> Result<Answer, ProviderError> {
        let label = self.label();
        for attempt in 0..2 {
            let token = self.token().await?;
            let mut request = self
                .client
                .request(method.clone(), url)
                .bearer_auth(token.expose());
            if !query.is_empty() {
                request = request.query(query);
            }
            if let Some(body) = body {
                request = request.json(body);
            }
            let answer = send(&label, request, &[token.expose()]).await?;
            if answer.status == reqwest::StatusCode::UNAUTHORIZED && attempt == 0 {
                self.token.refused(&token).await;
                continue;
            }
            if answer.status.is_success() {
                return Ok(answer);
            }
            return Err(api_error(&label, &answer));
        }
        Err(ProviderError::auth(format!(
            "{label}: the access token was refused twice"
        )))
    }

    fn zone_url(&self, zone: &str) -> String {
        format!(
            "{}/projects/{}/managedZones/{}",
            self.base,
            segment(&self.project),
            segment(zone)
        )
    }

    /// The project's public managed zones (pages followed), or only those `dnsName` names (a filter).
    async fn public_zones(
        &self,
        dns_name: Option<&str>,
    ) -> Result<Vec<ManagedZone>, ProviderError> {
        let url = format!(
            "{}/projects/{}/managedZones",
            self.base,
            segment(&self.project)
        );
        let mut out = Vec::new();
        let mut page_token: Option<String> = None;
        for _ in 0..MAX_PAGES {
            let mut query: Vec<(&str, &str)> =
                dns_name.map(|d| ("dnsName", d)).into_iter().collect();
            if let Some(t) = &page_token {
                query.push(("pageToken", t.as_str()));
            }
            let page: ZonesPage = self
                .call(reqwest::Method::GET, &url, &query, None)
                .await?
                .json(&self.label())?;
            out.extend(
                page.managed_zones
                    .into_iter()
                    .filter(|z| z.visibility.as_deref().unwrap_or("public") == "public"),
            );
            page_token = page.next_page_token.filter(|t| !t.is_empty());
            if page_token.is_none() {
                break;
            }
        }
        Ok(out)
    }

    /// The public managed zone whose `dnsName` is exactly `candidate`.
    async fn zone_named(&self, candidate: &str) -> Result<Option<String>, ProviderError> {
        let mut found: Vec<String> = self
            .public_zones(Some(&format!("{candidate}.")))
            .await?
            .into_iter()
            .filter(|z| super::canonical(&z.dns_name) == candidate)
            .map(|z| z.name)
            .collect();
        if found.len() > 1 {
            return Err(ProviderError::rejected(format!(
                "{}: several public managed zones serve {candidate} ({}); set `managed_zone`",
                self.label(),
                found.join(", ")
            )));
        }
        Ok(found.pop())
    }

    /// One atomic change of the zone.
    async fn change(&self, zone: &Zone, change: &Value) -> Result<(), ProviderError> {
        let label = self.label();
        let answer = self
            .call(
                reqwest::Method::POST,
                &format!("{}/changes", self.zone_url(&zone.id)),
                &[],
                Some(change),
            )
            .await?;
        let status = serde_json::from_str::<Value>(&answer.body)
            .ok()
            .and_then(|v| v["status"].as_str().map(str::to_owned));
        // `pending` is accepted and applied atomically; `done` means sent to the authoritative servers.
        match status.as_deref() {
            Some("pending" | "done") => Ok(()),
            _ => Err(ProviderError::unconfirmed(format!(
                "{label}: the change was sent but the answer `{}` is not a change",
                answer.snippet()
            ))),
        }
    }
}

fn rrset(name: &str, record_type: RecordType, ttl: u32, values: &[String]) -> Value {
    json!({ "name": format!("{name}."), "type": record_type.as_str(), "ttl": ttl, "rrdatas": values })
}

/// A token endpoint's refusal (`{"error":"invalid_grant","error_description":…}`).
fn token_error(label: &str, answer: &Answer) -> ProviderError {
    let v: Value = serde_json::from_str(&answer.body).unwrap_or(Value::Null);
    let code = v["error"].as_str().unwrap_or_default();
    let text = answer.redact(v["error_description"].as_str().unwrap_or_default());
    match code {
        "invalid_grant" if text.contains("iat") || text.contains("exp") => {
            ProviderError::auth(format!(
                "{label}: the token request was refused; check the system clock ({code}: {text})"
            ))
        }
        "invalid_grant" | "invalid_client" | "unauthorized_client" | "access_denied" => {
            ProviderError::auth(format!(
                "{label}: the service account key was refused ({code}: {text})"
            ))
        }
        _ => answer.status_error(&format!("{label} (token)"), None),
    }
}

/// A Cloud DNS error (`{"error":{"code","message","errors":[{"reason"}]}}`) by its reason, else its status.
fn api_error(label: &str, answer: &Answer) -> ProviderError {
    let v: Value = serde_json::from_str(&answer.body).unwrap_or(Value::Null);
    let reason = v["error"]["errors"][0]["reason"]
        .as_str()
        .unwrap_or_default();
    let message = answer.redact(v["error"]["message"].as_str().unwrap_or_default());
    let detail = if message.is_empty() {
        answer.snippet()
    } else {
        format!("{reason}: {message}")
    };
    match reason {
        "rateLimitExceeded" | "userRateLimitExceeded" | "quotaExceeded" => ProviderError::new(
            ErrorClass::RateLimited {
                retry_after: answer.retry_after.map(|d| d.as_secs()),
            },
            format!("{label}: rate limited ({detail})"),
        ),
        "accessNotConfigured" | "SERVICE_DISABLED" => ProviderError::auth(format!(
            "{label}: the Cloud DNS API is not enabled on the project ({detail})"
        )),
        // The set changed since it was read (or appeared): read again next time.
        "conditionNotMet" | "alreadyExists" => ProviderError::transient(format!(
            "{label}: the record set changed meanwhile ({detail})"
        )),
        _ => answer.status_error(label, Some(&detail)),
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
        let zones = self.public_zones(None).await?;
        Ok(Some(zones.into_iter().map(|z| z.dns_name).collect()))
    }

    async fn zone(&self, name: &str) -> Result<Zone, ProviderError> {
        if let Some(z) = &self.managed_zone {
            return Ok(Zone {
                id: z.clone(),
                name: String::new(),
            });
        }
        for candidate in suffixes(name) {
            let found = self
                .zones
                .get_or_try(&candidate, self.zone_named(&candidate))
                .await?;
            if let Some(id) = found {
                return Ok(Zone {
                    id,
                    name: candidate,
                });
            }
        }
        Err(ProviderError::rejected(format!(
            "{}: no public managed zone of project {} serves {name}",
            self.label(),
            self.project
        )))
    }

    async fn list(
        &self,
        zone: &Zone,
        name: &str,
        record_type: RecordType,
    ) -> Result<Vec<Existing>, ProviderError> {
        let url = format!("{}/rrsets", self.zone_url(&zone.id));
        let fqdn = format!("{name}.");
        let mut out = Vec::new();
        let mut page_token: Option<String> = None;
        for _ in 0..MAX_PAGES {
            let mut query = vec![("name", fqdn.as_str()), ("type", record_type.as_str())];
            if let Some(t) = &page_token {
                query.push(("pageToken", t.as_str()));
            }
            let page: RrsetsPage = self
                .call(reqwest::Method::GET, &url, &query, None)
                .await?
                .json(&self.label())?;
            for set in page.rrsets {
                if super::canonical(&set.name) != name || set.record_type != record_type.as_str() {
                    continue;
                }
                if set.routing_policy.is_some() {
                    return Err(ProviderError::rejected(format!(
                        "{}: {name} {record_type} has a routing policy, made by hand; ddns-tray does not replace it",
                        self.label()
                    )));
                }
                out.push(Existing {
                    id: fqdn.clone(),
                    values: set.rrdatas,
                    line: None,
                    ttl: set.ttl,
                    stale: false,
                });
            }
            page_token = page.next_page_token.filter(|t| !t.is_empty());
            if page_token.is_none() {
                return Ok(out);
            }
        }
        Err(ProviderError::transient(format!(
            "{}: the listing of {name} did not end after {MAX_PAGES} pages",
            self.label()
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
        let values: Vec<String> = values.iter().map(ToString::to_string).collect();
        let add = rrset(name, record_type, ttl.unwrap_or(DEFAULT_TTL), &values);
        self.change(zone, &json!({ "additions": [add] })).await?;
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
        let values: Vec<String> = values.iter().map(ToString::to_string).collect();
        let old_ttl = existing.ttl.unwrap_or(DEFAULT_TTL);
        let change = json!({
            "additions": [rrset(name, record_type, ttl.unwrap_or(old_ttl), &values)],
            "deletions": [rrset(name, record_type, old_ttl, &existing.values)],
        });
        self.change(zone, &change).await?;
        Ok(Written::new(None))
    }

    async fn delete(
        &self,
        zone: &Zone,
        name: &str,
        record_type: RecordType,
        existing: &Existing,
    ) -> Result<(), ProviderError> {
        let old_ttl = existing.ttl.unwrap_or(DEFAULT_TTL);
        let change = json!({ "deletions": [rrset(name, record_type, old_ttl, &existing.values)] });
        self.change(zone, &change).await
    }

    fn begin_round(&self) {
        self.zones.clear();
    }
}
