//! Azure DNS, public zones (Azure Resource Manager REST, `api-version=2018-05-01`), with an app registration's
//! client secret: an `OAuth2` client-credentials token from Microsoft Entra ID
//! (`POST {login}/{tenant}/oauth2/v2.0/token`, scope `{management}/.default`) is kept until shortly before its
//! `expires_in` and fetched again when ARM answers 401.
//!
//! A name's addresses of one type are one record set,
//! `…/resourceGroups/{rg}/providers/Microsoft.Network/dnsZones/{zone}/{A|AAAA}/{relative}` (`@` for the apex), so
//! this is a [`SetApi`] kind: the set is read with `GET` (404: none yet), written whole with `PUT` and removed
//! with `DELETE`. The `PUT` carries the set's TTL (the record's, else the set's current one) and its
//! `metadata` as read, and `If-Match` with the etag read (`If-None-Match: *` when creating), so a set changed
//! meanwhile is not overwritten (412: read again next time). Alias record sets (`targetResource`) are refused,
//! never overwritten; other types and other names are never touched.
//!
//! The zone and its resource group are configured (`zone`, `resource_group`), or found by listing the zones of
//! the resource group (or of the whole subscription, the group taken from each zone's id; `nextLink` pages
//! followed on the same host only, since they carry the token) and taking the longest public zone holding the
//! name. A role assigned on the zone alone cannot list zones: then set both.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::bearer::Bearer;
use super::reconcile::RoundCache;
use super::{
    Answer, Capabilities, Existing, KindConfig, KindInfo, Provider, ProviderError, Reconciler,
    SetApi, Zone, in_zone, longest_zone, relative, segment, send,
};
mod errors;

use self::errors::{arm_error, cloud_error, token_error};
use crate::config::check::FieldCheck;
use crate::config::{RecordType, Secret};

const DEFAULT_ENDPOINT: &str = "https://management.azure.com";
const DEFAULT_LOGIN: &str = "https://login.microsoftonline.com";
const API_VERSION: &str = "api-version=2018-05-01";
const DEFAULT_TTL: u32 = 300;
const MAX_PAGES: usize = 20;

pub const INFO: KindInfo = KindInfo::provider(
    "azure",
    "https://portal.azure.com/#view/Microsoft_AAD_RegisteredApps/ApplicationsListBlade",
    &[
        super::req("tenant_id"),
        super::req("client_id"),
        super::secret("client_secret"),
        super::req("subscription_id"),
        super::opt("resource_group"),
        super::opt("zone"),
        super::opt("login_endpoint"),
        super::ENDPOINT,
    ],
)
.example(
    "tenant_id = \"72f988bf-86f1-41af-91ab-2d7cd011db47\"\nclient_id = \"2b1e5f3c-0a4d-4c8e-9f6b-7d2a1c3e5b90\"\nclient_secret = \"Xy18Q~exampleSecretValue0123456789abcdef\"\nsubscription_id = \"8d3c2a1b-4e5f-4a6b-9c7d-0e1f2a3b4c5d\"\nresource_group = \"dns-rg\"",
);

/// `kind = "azure"`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The directory (tenant) ID, or a verified domain of the tenant.
    pub tenant_id: String,
    /// The app registration's application (client) ID.
    pub client_id: String,
    /// The client secret's value (not its secret ID).
    pub client_secret: Secret,
    pub subscription_id: String,
    /// The resource group holding the zone; default: looked up among the subscription's zones.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_group: Option<String>,
    /// The DNS zone; default: the longest public zone holding the record's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zone: Option<String>,
    /// Microsoft Entra ID's sign-in host (default `https://login.microsoftonline.com`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub login_endpoint: Option<String>,
    /// Azure Resource Manager (default `https://management.azure.com`); the token's scope is `{endpoint}/.default`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
}

/// The TTL range is not documented (docs/providers/azure.md §7): any positive 32-bit value.
const CAPABILITIES: Capabilities = Capabilities::SETS;

/// `8-4-4-4-12` hexadecimal digits.
fn is_guid(s: &str) -> bool {
    let groups: Vec<&str> = s.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, n)| g.len() == n && g.chars().all(|c| c.is_ascii_hexdigit()))
}

/// A resource group name as Azure allows it: 1–90 letters, digits, `_ - . ( )`, not ending with a period.
fn valid_group(s: &str) -> bool {
    (1..=90).contains(&s.chars().count())
        && !s.ends_with('.')
        && s.chars()
            .all(|c| c.is_alphanumeric() || "_-.()".contains(c))
}

impl KindConfig for Config {
    fn endpoint(&self) -> Option<&str> {
        self.endpoint.as_deref()
    }

    fn secrets_mut(&mut self) -> Vec<(String, &mut Secret)> {
        vec![("client_secret".into(), &mut self.client_secret)]
    }

    fn zone(&self) -> Option<(&str, &'static str)> {
        self.zone.as_deref().map(|z| (z, "zone"))
    }

    fn validate(&self, check: &mut FieldCheck<'_>) {
        for (field, value) in [
            ("client_id", &self.client_id),
            ("subscription_id", &self.subscription_id),
        ] {
            if !is_guid(value.trim()) {
                check.problem(field, "provider.azure.check.guid", &[]);
            }
        }
        let tenant = self.tenant_id.trim();
        if !is_guid(tenant)
            && (!tenant.contains('.') || crate::config::check::normalize_domain(tenant).is_err())
        {
            check.problem("tenant_id", "provider.azure.check.tenant", &[]);
        }
        // The portal shows a secret's ID (a GUID) next to its value; the ID is refused as AADSTS7000215.
        if is_guid(self.client_secret.expose().trim()) {
            check.problem("client_secret", "provider.azure.check.secret_id", &[]);
        }
        if let Some(group) = &self.resource_group
            && !valid_group(group)
        {
            check.problem("resource_group", "provider.azure.check.resource_group", &[]);
        }
        if let Some(login) = &self.login_endpoint {
            check.http_url("login_endpoint", login);
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
        Arc::new(Reconciler::new(Api {
            name,
            client,
            base: super::base_url(self.endpoint.as_deref(), DEFAULT_ENDPOINT),
            login: super::base_url(self.login_endpoint.as_deref(), DEFAULT_LOGIN),
            tenant: self.tenant_id.trim().to_owned(),
            client_id: self.client_id.trim().to_owned(),
            secret: self.client_secret.clone(),
            subscription: self.subscription_id.trim().to_owned(),
            group: self.resource_group.clone(),
            zone: self.zone.as_deref().map(super::canonical),
            token: Bearer::default(),
            zones: RoundCache::default(),
            seen: Mutex::new(HashMap::new()),
        }))
    }
}

struct Api {
    name: String,
    client: reqwest::Client,
    /// Azure Resource Manager's base URL.
    base: String,
    /// Entra ID's base URL.
    login: String,
    tenant: String,
    client_id: String,
    secret: Secret,
    subscription: String,
    group: Option<String>,
    zone: Option<String>,
    /// The access token and when to renew it (locked while one is fetched: concurrent calls share it).
    token: Bearer,
    /// The public zones the listing showed this round: (zone name, resource group).
    zones: RoundCache<(), Vec<(String, String)>>,
    /// Set URL -> what its last read showed (etag, metadata), for the `PUT` or `DELETE` that follows.
    seen: Mutex<HashMap<String, Seen>>,
}

#[derive(Debug, Clone, Default)]
struct Seen {
    etag: Option<String>,
    metadata: Option<Value>,
}

/// The form of the client-credentials grant, each value percent-encoded (RFC 3986 unreserved characters kept).
fn token_form(client_id: &str, secret: &str, scope: &str) -> String {
    let enc = |s: &str| super::sign::pct_except(s, b"");
    format!(
        "grant_type=client_credentials&client_id={}&client_secret={}&scope={}",
        enc(client_id),
        enc(secret),
        enc(scope)
    )
}

/// The record set's array and the field of each record for a type.
fn record_keys(record_type: RecordType) -> (&'static str, &'static str) {
    match record_type {
        RecordType::A => ("ARecords", "ipv4Address"),
        RecordType::Aaaa => ("AAAARecords", "ipv6Address"),
    }
}

/// The resource group named in an ARM id (`/subscriptions/…/resourceGroups/{rg}/providers/…`).
fn group_of(id: &str) -> Option<String> {
    let mut parts = id.split('/');
    parts.find(|p| p.eq_ignore_ascii_case("resourceGroups"))?;
    parts.next().filter(|g| !g.is_empty()).map(str::to_owned)
}

impl Api {
    fn label(&self) -> String {
        format!("azure `{}`", self.name)
    }

    /// A valid access token: the cached one, or a new one from Entra ID.
    async fn token(&self) -> Result<Secret, ProviderError> {
        let label = self.label();
        self.token
            .get(&label, || self.fetch_token(&label), token_error)
            .await
    }

    /// Entra ID's answer to the client-credentials grant (asked only when the cache needs a token).
    async fn fetch_token(&self, label: &str) -> Result<Answer, ProviderError> {
        let request = self
            .client
            .post(format!(
                "{}/{}/oauth2/v2.0/token",
                self.login,
                segment(&self.tenant)
            ))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(token_form(
                &self.client_id,
                self.secret.expose(),
                &format!("{}/.default", self.base),
            ));
        send(label, request, &[self.secret.expose()]).await
    }

    /// An ARM call with the bearer token; a 401 drops the token and tries once more with a new one. Every
    /// other answer is returned (callers read 404 and 412 their way).
    async fn call(
        &self,
        method: reqwest::Method,
        url: &str,
        condition: Option<(&str, &str)>,
        body: Option<&Value>,
    ) -> Result<Answer, ProviderError> {
        let label = self.label();
        let mut answer = None;
        for _ in 0..2 {
            let token = self.token().await?;
            let mut request = self
                .client
                .request(method.clone(), url)
                .bearer_auth(token.expose());
            if let Some((name, value)) = condition {
                request = request.header(name, value);
            }
            if let Some(body) = body {
                request = request.json(body);
            }
            let got = send(&label, request, &[token.expose(), self.secret.expose()]).await?;
            if got.status != reqwest::StatusCode::UNAUTHORIZED {
                return Ok(got);
            }
            self.token.refused(&token).await;
            answer = Some(got);
        }
        Err(answer.map_or_else(
            || ProviderError::auth(format!("{label}: the access token was refused")),
            |a| arm_error(&label, &a),
        ))
    }

    /// The public zones of the resource group (or the subscription), every page.
    async fn list_zones(&self) -> Result<Vec<(String, String)>, ProviderError> {
        let label = self.label();
        let sub = segment(&self.subscription);
        let mut url = match &self.group {
            Some(g) => format!(
                "{}/subscriptions/{sub}/resourceGroups/{}/providers/Microsoft.Network/dnsZones?{API_VERSION}",
                self.base,
                segment(g)
            ),
            None => format!(
                "{}/subscriptions/{sub}/providers/Microsoft.Network/dnszones?{API_VERSION}",
                self.base
            ),
        };
        let origin = reqwest::Url::parse(&self.base).map(|u| u.origin()).ok();
        let mut out = Vec::new();
        for _ in 0..MAX_PAGES {
            let answer = self.call(reqwest::Method::GET, &url, None, None).await?;
            if !answer.status.is_success() {
                return Err(arm_error(&label, &answer));
            }
            let page: Value = answer.json(&label)?;
            for z in page["value"].as_array().into_iter().flatten() {
                let name = super::canonical(z["name"].as_str().unwrap_or_default());
                let private = z["properties"]["zoneType"]
                    .as_str()
                    .is_some_and(|t| t.eq_ignore_ascii_case("private"));
                let group = self
                    .group
                    .clone()
                    .or_else(|| group_of(z["id"].as_str().unwrap_or_default()));
                if let (false, false, Some(group)) = (name.is_empty(), private, group) {
                    out.push((name, group));
                }
            }
            let Some(next) = page["nextLink"].as_str().filter(|n| !n.is_empty()) else {
                return Ok(out);
            };
            // The next page gets the token too: only from ARM's own host.
            if reqwest::Url::parse(next).ok().map(|u| u.origin()) != origin {
                return Err(ProviderError::transient(format!(
                    "{label}: the zone listing's next page is on another host ({})",
                    answer.redact(next)
                )));
            }
            next.clone_into(&mut url);
        }
        Err(ProviderError::transient(format!(
            "{label}: the zone listing did not end after {MAX_PAGES} pages"
        )))
    }

    /// The record set's URL.
    fn set_url(&self, zone: &Zone, name: &str, record_type: RecordType) -> String {
        format!(
            "{}/subscriptions/{}/resourceGroups/{}/providers/Microsoft.Network/dnsZones/{}/{record_type}/{}?{API_VERSION}",
            self.base,
            segment(&self.subscription),
            segment(&zone.id),
            segment(&zone.name),
            segment(&relative(name, &zone.name))
        )
    }

    fn take_seen(&self, url: &str) -> Option<Seen> {
        self.seen.lock().ok().and_then(|mut s| s.remove(url))
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
        let zones = self.zones.get_or_try(&(), self.list_zones()).await?;
        Ok(Some(zones.into_iter().map(|(z, _)| z).collect()))
    }

    async fn zone(&self, name: &str) -> Result<Zone, ProviderError> {
        let label = self.label();
        let found = if let (Some(z), Some(g)) = (&self.zone, &self.group) {
            Some((z.clone(), g.clone()))
        } else {
            let zones = self.zones.get_or_try(&(), self.list_zones()).await?;
            let zone = match &self.zone {
                Some(z) => Some(z.as_str()),
                None => longest_zone(name, zones.iter().map(|(z, _)| z.as_str())),
            };
            let groups: Vec<&str> = zones
                .iter()
                .filter(|(z, _)| Some(z.as_str()) == zone)
                .map(|(_, g)| g.as_str())
                .collect();
            if groups.len() > 1 {
                return Err(ProviderError::rejected(format!(
                    "{label}: the zone {} is in several resource groups ({}); set resource_group",
                    zone.unwrap_or_default(),
                    groups.join(", ")
                )));
            }
            zone.zip(groups.first())
                .map(|(z, g)| (z.to_owned(), (*g).to_owned()))
        };
        let where_ = self.group.as_ref().map_or_else(
            || format!("subscription {}", self.subscription),
            |g| format!("resource group {g}"),
        );
        let Some((zone, group)) = found else {
            return Err(ProviderError::rejected(format!(
                "{label}: no public DNS zone of {where_} holds {name} (or the role cannot list zones: set zone and resource_group)"
            )));
        };
        if !in_zone(name, &zone) {
            return Err(ProviderError::rejected(format!(
                "{label}: {name} is not in the zone {zone}"
            )));
        }
        Ok(Zone {
            id: group,
            name: zone,
        })
    }

    async fn list(
        &self,
        zone: &Zone,
        name: &str,
        record_type: RecordType,
    ) -> Result<Vec<Existing>, ProviderError> {
        let label = self.label();
        let url = self.set_url(zone, name, record_type);
        let answer = self.call(reqwest::Method::GET, &url, None, None).await?;
        if answer.status == reqwest::StatusCode::NOT_FOUND {
            // A missing set is the DNS provider's flat `NotFound`; a missing zone, group or subscription is
            // ARM's, and means the config is wrong.
            let (code, _) = cloud_error(&answer.body);
            if [
                "ResourceGroupNotFound",
                "ParentResourceNotFound",
                "ResourceNotFound",
                "SubscriptionNotFound",
                "InvalidSubscriptionId",
            ]
            .iter()
            .any(|c| c.eq_ignore_ascii_case(&code))
            {
                return Err(arm_error(&label, &answer));
            }
            self.take_seen(&url);
            return Ok(Vec::new());
        }
        if !answer.status.is_success() {
            return Err(arm_error(&label, &answer));
        }
        let set: Value = answer.json(&label)?;
        let props = &set["properties"];
        if !props.is_object() {
            return Err(ProviderError::transient(format!(
                "{label}: unexpected answer `{}` (no properties)",
                answer.snippet()
            )));
        }
        let alias = |v: &Value| v.as_str().is_some_and(|s| !s.is_empty());
        if alias(&props["targetResource"]["id"]) || alias(&props["targetResourceId"]) {
            return Err(ProviderError::rejected(format!(
                "{label}: {name} {record_type} is an alias record set (it points at an Azure resource); ddns-tray does not replace it"
            )));
        }
        let (records, field) = record_keys(record_type);
        let values = props[records]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|r| r[field].as_str().map(str::to_owned))
            .collect();
        if let Ok(mut seen) = self.seen.lock() {
            seen.insert(
                url,
                Seen {
                    etag: set["etag"].as_str().map(str::to_owned),
                    metadata: Some(props["metadata"].clone()).filter(Value::is_object),
                },
            );
        }
        Ok(vec![Existing {
            id: name.to_owned(),
            values,
            line: None,
            ttl: props["TTL"].as_u64().and_then(|t| u32::try_from(t).ok()),
            stale: false,
        }])
    }

    async fn put(
        &self,
        zone: &Zone,
        name: &str,
        record_type: RecordType,
        values: &[IpAddr],
        ttl: u32,
    ) -> Result<(), ProviderError> {
        let label = self.label();
        let url = self.set_url(zone, name, record_type);
        let seen = self.take_seen(&url);
        let (records, field) = record_keys(record_type);
        let mut properties = json!({ "TTL": ttl });
        properties[records] = values
            .iter()
            .map(|ip| json!({ field: ip.to_string() }))
            .collect();
        if let Some(metadata) = seen.as_ref().and_then(|s| s.metadata.clone()) {
            properties["metadata"] = metadata;
        }
        // Replace exactly the set that was read; create only where there was none.
        let condition = match &seen {
            None => Some(("If-None-Match", "*")),
            Some(Seen { etag: Some(e), .. }) => Some(("If-Match", e.as_str())),
            Some(_) => None,
        };
        let answer = self
            .call(
                reqwest::Method::PUT,
                &url,
                condition,
                Some(&json!({ "properties": properties })),
            )
            .await?;
        if answer.status.is_success() {
            Ok(())
        } else {
            Err(arm_error(&label, &answer))
        }
    }

    async fn clear(
        &self,
        zone: &Zone,
        name: &str,
        record_type: RecordType,
    ) -> Result<(), ProviderError> {
        let url = self.set_url(zone, name, record_type);
        let seen = self.take_seen(&url);
        let condition = seen
            .as_ref()
            .and_then(|s| s.etag.as_deref())
            .map(|e| ("If-Match", e));
        let answer = self
            .call(reqwest::Method::DELETE, &url, condition, None)
            .await?;
        // 200 deleted, 204 there was none.
        if answer.status.is_success() {
            Ok(())
        } else {
            Err(arm_error(&self.label(), &answer))
        }
    }

    fn begin_round(&self) {
        self.zones.clear();
        if let Ok(mut s) = self.seen.lock() {
            s.clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The body of docs/providers/azure.md §2 for the default endpoint, written out by hand: the secret's
    /// `+ / = & space` percent-encoded, `~ . _ -` kept.
    #[test]
    fn token_form_as_documented() {
        assert_eq!(
            token_form(
                "2b1e5f3c-0a4d-4c8e-9f6b-7d2a1c3e5b90",
                "Xy1~8Q.a_b-c+d/e=f&g h",
                &format!("{DEFAULT_ENDPOINT}/.default")
            ),
            "grant_type=client_credentials&client_id=2b1e5f3c-0a4d-4c8e-9f6b-7d2a1c3e5b90\
             &client_secret=Xy1~8Q.a_b-c%2Bd%2Fe%3Df%26g%20h\
             &scope=https%3A%2F%2Fmanagement.azure.com%2F.default"
        );
    }

    #[test]
    fn names_and_errors() {
        assert!(is_guid("72f988bf-86f1-41af-91ab-2d7cd011db47"));
        assert!(!is_guid("72f988bf86f141af91ab2d7cd011db47"));
        assert!(!is_guid("Xy18Q~exampleSecretValue0123456789abcdef"));
        assert!(valid_group("my-rg_(dns).1"));
        assert!(!valid_group("rg."));
        assert!(!valid_group("a/b"));
        assert_eq!(
            group_of("/subscriptions/s/resourceGroups/rg1/providers/Microsoft.Network/dnsZones/z")
                .as_deref(),
            Some("rg1")
        );
        assert_eq!(
            group_of("/subscriptions/s/resourcegroups/RG2/providers/x").as_deref(),
            Some("RG2")
        );
        assert_eq!(
            cloud_error(r#"{"error":{"code":"AuthorizationFailed","message":"m"}}"#),
            ("AuthorizationFailed".to_owned(), "m".to_owned())
        );
        assert_eq!(
            cloud_error(
                r#"{"code":"NotFound","message":"The resource record 'x' does not exist"}"#
            )
            .0,
            "NotFound"
        );
        assert_eq!(cloud_error("<html>").0, "");
    }
}
