//! `OVHcloud` DNS zones through the OVH API v1 (`/1.0`), signed with an application key, application secret and
//! consumer key (docs/providers/ovh.md; OVH's guide "First Steps with the `OVHcloud` APIs", help.ovhcloud.com,
//! retrieved 2026-12-04, and OVH's SDKs go-ovh / python-ovh). Each call carries `X-Ovh-Application`,
//! `X-Ovh-Consumer`, `X-Ovh-Timestamp` (server time: `GET /auth/time`, unsigned, once; the offset is kept and
//! fetched again once when OVH answers "query out of time") and `X-Ovh-Signature` = `$1$` + hex SHA-1 of
//! `AS+CK+METHOD+URL+BODY+TIMESTAMP` over the exact absolute URL and body sent.
//!
//! The zone is the configured `zone`, else the name's last two labels (OVH hosts registered domains; listing
//! all zones would need rights beyond the zone's own path). "Test" lists the zones with `GET /domain/zone`
//! (an array of names, unpaged) when the consumer key may; a key limited to one zone's paths shows why not. A name's records are found with
//! `GET /domain/zone/{zone}/record?fieldType=A&subDomain=home` (ids only; the apex is `subDomain=`), each read
//! with `GET …/record/{id}`; created with `POST …/record`, changed with `PUT …/record/{id}` (`target`, and
//! `ttl` only when the config sets one: `ttl` 0 on OVH is the zone's default and is left alone), deleted with
//! `DELETE`. Changes are served only after `POST /domain/zone/{zone}/refresh`: it is sent once after the
//! writes of an update (and again at the next update until it succeeded). Records of other types or names are
//! never read or written.

use std::collections::BTreeSet;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::{
    Answer, Capabilities, ErrorClass, Existing, KindConfig, KindInfo, Provider, ProviderError,
    Reconciler, RecordApi, TtlRule, UpdateOutcome, UpdateRequest, Written, Zone, relative, segment,
    send,
};
use crate::config::check::FieldCheck;
use crate::config::{RecordType, Secret};

/// The API bases by `region` (OVH's SDKs: ovh-eu, ovh-ca, ovh-us).
const REGIONS: &[(&str, &str)] = &[
    ("eu", "https://eu.api.ovh.com/1.0"),
    ("ca", "https://ca.api.ovh.com/1.0"),
    ("us", "https://api.us.ovhcloud.com/1.0"),
];

pub const INFO: KindInfo = KindInfo::provider(
    "ovh",
    "https://eu.api.ovh.com/createToken/",
    &[
        super::req("application_key"),
        super::secret("application_secret"),
        super::secret("consumer_key"),
        super::opt("region"),
        super::opt("zone"),
        super::flag("delete_duplicates"),
        super::ENDPOINT,
    ],
)
.example(
    "application_key = \"7kbG7Bk7S9Nt7ZSV\"\napplication_secret = \"EXEgWIz07P0HYwtQDs7cNIqCiQaWSuHF\"\nconsumer_key = \"MtSwSrPpNjqfVSmJhLbPyr2i45lSwPU1\"",
);

/// `kind = "ovh"`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub application_key: String,
    pub application_secret: Secret,
    pub consumer_key: Secret,
    /// `eu` (default), `ca` or `us`; `endpoint` overrides it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delete_duplicates: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
}

/// "it shall be >= 60" (Terraform's OVH provider, docs/providers/ovh.md); OVH's 0 (the zone's default) is
/// what leaving `ttl` out gives.
const CAPABILITIES: Capabilities = Capabilities {
    ttl: TtlRule {
        min: 60,
        max: 2_147_483_647,
        auto: None,
    },
    ..Capabilities::RECORDS
};

impl KindConfig for Config {
    fn endpoint(&self) -> Option<&str> {
        self.endpoint.as_deref()
    }

    fn secrets_mut(&mut self) -> Vec<(String, &mut Secret)> {
        vec![
            ("application_secret".into(), &mut self.application_secret),
            ("consumer_key".into(), &mut self.consumer_key),
        ]
    }

    fn zone(&self) -> Option<(&str, &'static str)> {
        self.zone.as_deref().map(|z| (z, "zone"))
    }

    fn validate(&self, check: &mut FieldCheck<'_>) {
        if let Some(r) = &self.region
            && !REGIONS.iter().any(|(name, _)| name == r)
        {
            check.problem("region", "provider.ovh.check.region", &[("region", r)]);
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
        let region = self.region.as_deref().unwrap_or("eu");
        let default = REGIONS
            .iter()
            .find(|(r, _)| *r == region)
            .map_or(REGIONS[0].1, |(_, base)| base);
        let ovh = Arc::new(Ovh {
            name,
            client,
            base: super::base_url(self.endpoint.as_deref(), default),
            application_key: self.application_key.clone(),
            application_secret: self.application_secret.clone(),
            consumer_key: self.consumer_key.clone(),
            delta: Mutex::new(None),
            unrefreshed: Mutex::new(BTreeSet::new()),
        });
        let api = Api {
            ovh: ovh.clone(),
            zone: self.zone.as_deref().map(super::canonical),
        };
        Arc::new(Refreshing {
            inner: Reconciler::new(api).keeping_duplicates(self.delete_duplicates == Some(false)),
            ovh,
        })
    }
}

/// `"$1$"` + lower-hex SHA-1 of `AS+CK+METHOD+URL+BODY+TIMESTAMP`.
#[must_use]
pub fn signature(
    secret: &str,
    consumer: &str,
    method: &str,
    url: &str,
    body: &str,
    timestamp: i64,
) -> String {
    let text = format!("{secret}+{consumer}+{method}+{url}+{body}+{timestamp}");
    let digest = ring::digest::digest(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY, text.as_bytes());
    format!("$1${}", super::sign::hex(digest.as_ref()))
}

/// The signed client shared by the record API and the refresh after writes.
struct Ovh {
    name: String,
    client: reqwest::Client,
    base: String,
    application_key: String,
    application_secret: Secret,
    consumer_key: Secret,
    /// Server time minus local time, learnt from `/auth/time`.
    delta: Mutex<Option<i64>>,
    /// Zones written to and not yet refreshed.
    unrefreshed: Mutex<BTreeSet<String>>,
}

/// OVH's error body.
#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct ApiError {
    #[serde(default)]
    error_code: Option<String>,
    #[serde(default)]
    class: Option<String>,
    #[serde(default)]
    message: Option<String>,
}

fn local_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(0))
}

impl Ovh {
    fn label(&self) -> String {
        format!("ovh `{}`", self.name)
    }

    fn secrets(&self) -> [&str; 2] {
        [self.application_secret.expose(), self.consumer_key.expose()]
    }

    /// The server's clock offset, asked once (`GET /auth/time` is never signed).
    async fn delta(&self) -> Result<i64, ProviderError> {
        if let Some(d) = *self
            .delta
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
        {
            return Ok(d);
        }
        let label = self.label();
        let answer = send(
            &label,
            self.client
                .get(format!("{}/auth/time", self.base))
                .header(reqwest::header::ACCEPT, "application/json"),
            &self.secrets(),
        )
        .await?;
        if !answer.status.is_success() {
            return Err(self.error(&answer));
        }
        let server = answer.json::<i64>(&label)?;
        let d = server - local_now();
        *self
            .delta
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(d);
        Ok(d)
    }

    /// A signed call; `Ok` only for 2xx. On "query out of time" the clock offset is fetched again and the
    /// call repeated once.
    async fn call(
        &self,
        method: reqwest::Method,
        path_and_query: &str,
        body: Option<&Value>,
    ) -> Result<Answer, ProviderError> {
        let mut retried = false;
        loop {
            let answer = self.call_once(&method, path_and_query, body).await?;
            if answer.status.is_success() {
                return Ok(answer);
            }
            let err = serde_json::from_str::<ApiError>(&answer.body).unwrap_or_default();
            let out_of_time = err.error_code.as_deref() == Some("QUERY_TIME_OUT")
                || err
                    .message
                    .as_deref()
                    .is_some_and(|m| m.to_ascii_lowercase().contains("out of time"));
            if out_of_time && !retried {
                retried = true;
                *self
                    .delta
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner) = None;
                continue;
            }
            return Err(self.error(&answer));
        }
    }

    async fn call_once(
        &self,
        method: &reqwest::Method,
        path_and_query: &str,
        body: Option<&Value>,
    ) -> Result<Answer, ProviderError> {
        let timestamp = local_now() + self.delta().await?;
        let url = format!("{}{path_and_query}", self.base);
        let body = body.map(Value::to_string).unwrap_or_default();
        let sig = signature(
            self.application_secret.expose(),
            self.consumer_key.expose(),
            method.as_str(),
            &url,
            &body,
            timestamp,
        );
        let mut request = self
            .client
            .request(method.clone(), &url)
            .header("X-Ovh-Application", &self.application_key)
            .header("X-Ovh-Consumer", self.consumer_key.expose())
            .header("X-Ovh-Timestamp", timestamp.to_string())
            .header("X-Ovh-Signature", sig)
            .header(reqwest::header::ACCEPT, "application/json");
        if !body.is_empty() {
            request = request
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(body);
        }
        send(&self.label(), request, &self.secrets()).await
    }

    /// A failed answer classified by OVH's `errorCode` / `class`, then by its HTTP status.
    fn error(&self, answer: &Answer) -> ProviderError {
        let label = self.label();
        let err = serde_json::from_str::<ApiError>(&answer.body).unwrap_or_default();
        let code = err.error_code.as_deref().unwrap_or("");
        let detail = match (&err.error_code, &err.message) {
            (Some(c), Some(m)) => answer.redact(&format!("{c}: {m}")),
            (None, Some(m)) => answer.redact(m),
            _ => answer.snippet(),
        };
        let class = err.class.as_deref().unwrap_or("");
        match code {
            "INVALID_KEY" | "INVALID_CREDENTIAL" | "NOT_CREDENTIAL" | "NOT_GRANTED_CALL"
            | "FORBIDDEN" | "INVALID_SIGNATURE" => {
                return ProviderError::auth(format!(
                    "{label}: credentials refused (HTTP {}): {detail}",
                    answer.status
                ));
            }
            "QUERY_TIME_OUT" => {
                return ProviderError::transient(format!(
                    "{label}: the request's timestamp was refused even after asking OVH's time: {detail}"
                ));
            }
            _ => {}
        }
        if class.ends_with("::Forbidden") || class.ends_with("::Unauthorized") {
            return ProviderError::auth(format!("{label}: credentials refused: {detail}"));
        }
        if answer.status.as_u16() == 460 {
            // The domain's or zone's service has expired: nothing to retry soon.
            return ProviderError::new(
                ErrorClass::Banned { retry_after: None },
                format!(
                    "{label}: the service has expired (HTTP 460), renew it in the OVH manager: {detail}"
                ),
            );
        }
        answer.status_error(&label, Some(&detail))
    }

    /// `POST /domain/zone/{zone}/refresh` for every zone written to since the last refresh.
    async fn refresh(&self) -> Result<(), ProviderError> {
        let zones: Vec<String> = self
            .unrefreshed
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .iter()
            .cloned()
            .collect();
        for zone in zones {
            self.call(
                reqwest::Method::POST,
                &format!("/domain/zone/{}/refresh", segment(&zone)),
                None,
            )
            .await?;
            self.unrefreshed
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .remove(&zone);
        }
        Ok(())
    }

    fn written(&self, zone: &Zone) {
        self.unrefreshed
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(zone.id.clone());
    }
}

/// The reconciler, then one zone refresh after writes (also after a failed update that wrote something).
struct Refreshing {
    inner: Reconciler,
    ovh: Arc<Ovh>,
}

#[async_trait]
impl Provider for Refreshing {
    async fn update(&self, request: &UpdateRequest<'_>) -> Result<UpdateOutcome, ProviderError> {
        let outcome = self.inner.update(request).await;
        let refreshed = self.ovh.refresh().await;
        let outcome = outcome?;
        refreshed?;
        Ok(outcome)
    }

    async fn check(&self, name: &str, record_type: RecordType) -> Result<String, ProviderError> {
        self.inner.check(name, record_type).await
    }

    async fn zones(&self) -> Result<Option<Vec<String>>, ProviderError> {
        self.inner.zones().await
    }

    fn begin_round(&self) {
        self.inner.begin_round();
    }

    fn concurrency(&self) -> usize {
        self.inner.concurrency()
    }
}

struct Api {
    ovh: Arc<Ovh>,
    zone: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Record {
    id: u64,
    #[serde(default)]
    field_type: String,
    #[serde(default)]
    sub_domain: String,
    #[serde(default)]
    target: String,
    #[serde(default)]
    ttl: Option<u32>,
}

/// OVH's `subDomain`: the name relative to the zone, the apex empty.
fn sub_domain(name: &str, zone: &Zone) -> String {
    match relative(name, &zone.name) {
        at if at == "@" => String::new(),
        sub => sub,
    }
}

impl Api {
    fn records_path(zone: &Zone) -> String {
        format!("/domain/zone/{}/record", segment(&zone.id))
    }
}

#[async_trait]
impl RecordApi for Api {
    fn label(&self) -> String {
        self.ovh.label()
    }

    fn capabilities(&self) -> Capabilities {
        CAPABILITIES
    }

    async fn zones(&self) -> Result<Option<Vec<String>>, ProviderError> {
        let label = self.label();
        let zones: Vec<String> = self
            .ovh
            .call(reqwest::Method::GET, "/domain/zone", None)
            .await?
            .json(&label)?;
        Ok(Some(zones))
    }

    async fn zone(&self, name: &str) -> Result<Zone, ProviderError> {
        let zone = self
            .zone
            .clone()
            .unwrap_or_else(|| super::last_two_labels(name));
        Ok(Zone {
            id: zone.clone(),
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
        let sub = sub_domain(name, zone);
        let ids = self
            .ovh
            .call(
                reqwest::Method::GET,
                &format!(
                    "{}?fieldType={record_type}&subDomain={}",
                    Self::records_path(zone),
                    super::sign::pct(&sub)
                ),
                None,
            )
            .await?
            .json::<Vec<u64>>(&label)?;
        let mut out = Vec::new();
        for id in ids {
            let record = self
                .ovh
                .call(
                    reqwest::Method::GET,
                    &format!("{}/{id}", Self::records_path(zone)),
                    None,
                )
                .await?
                .json::<Record>(&label)?;
            // The server filters; a record of another type or name is never taken for ours.
            if !record
                .field_type
                .eq_ignore_ascii_case(&record_type.to_string())
                || !record.sub_domain.eq_ignore_ascii_case(&sub)
            {
                continue;
            }
            out.push(Existing {
                id: record.id.to_string(),
                values: vec![record.target],
                line: None,
                ttl: record.ttl.filter(|t| *t > 0),
                stale: false,
            });
        }
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
        let mut body = json!({
            "fieldType": record_type.to_string(),
            "subDomain": sub_domain(name, zone),
            "target": values[0].to_string(),
        });
        if let Some(ttl) = ttl {
            body["ttl"] = json!(ttl);
        }
        let answer = self
            .ovh
            .call(
                reqwest::Method::POST,
                &Self::records_path(zone),
                Some(&body),
            )
            .await?;
        self.ovh.written(zone);
        let id = serde_json::from_str::<Value>(&answer.body)
            .ok()
            .and_then(|v| v["id"].as_u64())
            .map(|id| id.to_string());
        Ok(Written::new(id))
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
        let mut body = json!({ "target": values[0].to_string() });
        if let Some(ttl) = ttl {
            body["ttl"] = json!(ttl);
        }
        self.ovh
            .call(
                reqwest::Method::PUT,
                &format!("{}/{}", Self::records_path(zone), segment(&existing.id)),
                Some(&body),
            )
            .await?;
        self.ovh.written(zone);
        Ok(Written::new(Some(existing.id.clone())))
    }

    async fn delete(
        &self,
        zone: &Zone,
        _name: &str,
        _record_type: RecordType,
        existing: &Existing,
    ) -> Result<(), ProviderError> {
        self.ovh
            .call(
                reqwest::Method::DELETE,
                &format!("{}/{}", Self::records_path(zone), segment(&existing.id)),
                None,
            )
            .await?;
        self.ovh.written(zone);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// OVH's own vectors: go-ovh `ovh/ovh_test.go` (`TestAllAPIMethods`) and python-ovh
    /// `tests/test_client.py` (`test_call_signature`), "real revoked credentials", timestamp 1457018875.
    #[test]
    fn published_signatures() {
        let (secret, consumer, ts) = (
            "9ufkBmLaTQ9nz5yMUlg79taH0GNnzDjk",
            "5mBuy6SUQcRw2ZUxg0cG68BoDKpED4KY",
            1_457_018_875,
        );
        let url = "https://eu.api.ovh.com/1.0/auth";
        let ab = r#"{"a":"b","c":"d"}"#;
        for (method, url, body, want) in [
            (
                "GET",
                url,
                "",
                "$1$e9556054b6309771395efa467c22e627407461ad",
            ),
            (
                "POST",
                url,
                ab,
                "$1$ec2fb5c7a81f64723c77d2e5b609ae6f58a84fc1",
            ),
            (
                "PUT",
                url,
                ab,
                "$1$8a75a9e7c8e7296c9dbeda6a2a735eb6bd58ec4b",
            ),
            (
                "DELETE",
                url,
                "",
                "$1$a1eecd00b3b02b6cf5708b84b9ff42059a950d85",
            ),
            (
                "GET",
                "https://eu.api.ovh.com/1.0/call",
                "",
                "$1$7f2db49253edfc41891023fcd1a54cf61db05fbb",
            ),
        ] {
            assert_eq!(
                signature(secret, consumer, method, url, body, ts),
                want,
                "{method} {url}"
            );
        }
    }
}
