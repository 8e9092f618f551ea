//! netcup's CCP DNS API (the JSON web service at
//! `https://ccp.netcup.net/run/webservice/servers/endpoint.php?JSON`; docs/providers/netcup.md, netcup's endpoint
//! page and help center, retrieved 2026-12-04, with lego's fixtures). Every call is a `POST` of
//! `{"action": …, "param": {…}}`; answers come with HTTP 200 even for errors, told apart by `status` and
//! `statuscode`. `login` (customer number, API key, API password) opens a session used for the update's calls
//! and closed with `logout` when the update is done (a session is never carried into another update; one that
//! the service calls invalid, 4001, is opened again once).
//!
//! The zone (`domainname`) is the configured `zone`, else the name's last two labels (netcup hosts its
//! customers' registered domains). `infoDnsRecords` lists the whole zone (5029, "does not contain any DNS
//! records", is an empty zone); the records at the name (`hostname` relative, `@` the apex) of the type are
//! ours. `updateDnsRecords` is sent with only the record it changes: the listed record with its new
//! `destination`, a new record without `id`, or the listed record with `deleterecord: true`; records not sent
//! stay as they are. Records have no TTL at netcup (the TTL is the zone's, set in the CCP): a record's `ttl` is
//! not sent. `CloudDNS` zones (netcup's newer DNS, with 64-character REST keys) are not reachable through this
//! API: such a key is refused at load, and 5028 "zone could not be found" says so. "Test" cannot list the
//! customer's domains: the DNS functions of this API have no listing call (`listallDomains` belongs to the
//! domain-reseller functions, not to a DNS customer's key), so it shows the check alone.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::{
    Capabilities, ErrorClass, Existing, KindConfig, KindInfo, Provider, ProviderError, Reconciler,
    RecordApi, UpdateOutcome, UpdateRequest, Written, Zone, relative, send,
};
use crate::config::check::FieldCheck;
use crate::config::{RecordType, Secret};

const DEFAULT_ENDPOINT: &str = "https://ccp.netcup.net/run/webservice/servers/endpoint.php?JSON";

/// "More than 180 requests per minute. Please wait and retry later." comes without a header: wait a minute.
const RATE_LIMIT_WAIT: u64 = 60;

pub const INFO: KindInfo = KindInfo::provider(
    "netcup",
    "https://www.customercontrolpanel.de/",
    &[
        super::req("customer_number"),
        super::secret("api_key"),
        super::secret("api_password"),
        super::opt("zone"),
        super::flag("delete_duplicates"),
        super::ENDPOINT,
    ],
)
.example(
    "customer_number = \"12345\"\napi_key = \"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWX\"\napi_password = \"0123456789abcdefghijklmnopqrstuvwxyz0123456789abcd\"",
);

/// `kind = "netcup"`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub customer_number: String,
    pub api_key: Secret,
    pub api_password: Secret,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delete_duplicates: Option<bool>,
    /// The whole web service URL (with `?JSON`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
}

/// One session serves one update at a time, and the service allows 180 requests a minute per account.
const CAPABILITIES: Capabilities = Capabilities {
    concurrency: 1,
    ..Capabilities::RECORDS
};

impl KindConfig for Config {
    fn endpoint(&self) -> Option<&str> {
        self.endpoint.as_deref()
    }

    fn secrets_mut(&mut self) -> Vec<(String, &mut Secret)> {
        vec![
            ("api_key".into(), &mut self.api_key),
            ("api_password".into(), &mut self.api_password),
        ]
    }

    fn zone(&self) -> Option<(&str, &'static str)> {
        self.zone.as_deref().map(|z| (z, "zone"))
    }

    fn validate(&self, check: &mut FieldCheck<'_>) {
        if self.customer_number.is_empty()
            || !self.customer_number.chars().all(|c| c.is_ascii_digit())
        {
            check.problem(
                "customer_number",
                "provider.netcup.check.customer_number",
                &[],
            );
        }
        // CCP API keys have 50 characters; the 64-character keys belong to the CloudDNS REST API.
        if self.api_key.expose().len() == 64 {
            check.problem("api_key", "provider.netcup.check.clouddns_key", &[]);
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
        let api = Arc::new(Api {
            name,
            client,
            url: self
                .endpoint
                .clone()
                .unwrap_or_else(|| DEFAULT_ENDPOINT.to_owned()),
            customer_number: self.customer_number.clone(),
            api_key: self.api_key.clone(),
            api_password: self.api_password.clone(),
            zone: self.zone.as_deref().map(super::canonical),
            session: tokio::sync::Mutex::new(None),
            listed: Mutex::new(HashMap::new()),
        });
        Arc::new(Session {
            inner: Reconciler::new(Shared(api.clone()))
                .keeping_duplicates(self.delete_duplicates == Some(false)),
            api,
        })
    }
}

struct Api {
    name: String,
    client: reqwest::Client,
    url: String,
    customer_number: String,
    api_key: Secret,
    api_password: Secret,
    zone: Option<String>,
    session: tokio::sync::Mutex<Option<String>>,
    /// The records as listed, by id: writes send them back whole.
    listed: Mutex<HashMap<String, Value>>,
}

/// The answer envelope.
#[derive(Deserialize)]
struct Envelope {
    #[serde(default)]
    status: String,
    #[serde(default)]
    statuscode: i64,
    #[serde(default)]
    shortmessage: String,
    #[serde(default)]
    longmessage: String,
    #[serde(default)]
    responsedata: Value,
}

/// A failed action: the envelope's code and texts.
struct Refused {
    code: i64,
    text: String,
}

impl Api {
    fn label(&self) -> String {
        format!("netcup `{}`", self.name)
    }

    /// Posts one action. `Ok(Err(..))` is the service's own error answer.
    async fn post(
        &self,
        action: &str,
        param: Value,
    ) -> Result<Result<Value, Refused>, ProviderError> {
        let label = self.label();
        let secrets = [self.api_key.expose(), self.api_password.expose()];
        let answer = send(
            &label,
            self.client
                .post(&self.url)
                .json(&json!({ "action": action, "param": param })),
            &secrets,
        )
        .await?;
        if !answer.status.is_success() {
            return Err(answer.status_error(&label, None));
        }
        let envelope = answer.json::<Envelope>(&label)?;
        if envelope.status == "error" {
            let text = answer.redact(&format!(
                "{} {}: {}",
                envelope.statuscode, envelope.shortmessage, envelope.longmessage
            ));
            return Ok(Err(Refused {
                code: envelope.statuscode,
                text,
            }));
        }
        Ok(Ok(envelope.responsedata))
    }

    /// The error for a refused action.
    fn refused(&self, action: &str, r: &Refused) -> ProviderError {
        let label = self.label();
        let lower = r.text.to_ascii_lowercase();
        if lower.contains("requests per minute") {
            return ProviderError::new(
                ErrorClass::RateLimited {
                    retry_after: Some(RATE_LIMIT_WAIT),
                },
                format!("{label}: rate limited: {}", r.text),
            );
        }
        if action == "login"
            || (r.code == 4013
                && ["api key", "apikey", "apipassword", "customernumber"]
                    .iter()
                    .any(|w| lower.contains(w)))
        {
            return ProviderError::auth(format!("{label}: credentials refused: {}", r.text));
        }
        match r.code {
            5028 => ProviderError::rejected(format!(
                "{label}: {action}: {} (the zone is not in this account, or it moved to netcup's CloudDNS, which this API cannot reach)",
                r.text
            )),
            4000..=5999 => ProviderError::rejected(format!("{label}: {action}: {}", r.text)),
            _ => ProviderError::transient(format!("{label}: {action}: {}", r.text)),
        }
    }

    async fn login(&self) -> Result<String, ProviderError> {
        let param = json!({
            "customernumber": self.customer_number,
            "apikey": self.api_key.expose(),
            "apipassword": self.api_password.expose(),
        });
        let data = self
            .post("login", param)
            .await?
            .map_err(|r| self.refused("login", &r))?;
        match data["apisessionid"].as_str() {
            Some(id) if !id.is_empty() => Ok(id.to_owned()),
            _ => Err(ProviderError::transient(format!(
                "{}: login answered no session id",
                self.label()
            ))),
        }
    }

    /// An action in the update's session (opened on first use). A session the service calls invalid (4001,
    /// seen right after good logins) is opened again once. `Ok(Err(..))` is left to the caller.
    async fn action(
        &self,
        action: &str,
        mut param: Value,
    ) -> Result<Result<Value, Refused>, ProviderError> {
        let mut session = self.session.lock().await;
        for attempt in 0..2 {
            let id = match session.as_ref() {
                Some(id) => id.clone(),
                None => session.insert(self.login().await?).clone(),
            };
            param["customernumber"] = json!(self.customer_number);
            param["apikey"] = json!(self.api_key.expose());
            param["apisessionid"] = json!(id);
            match self.post(action, param.clone()).await? {
                Err(r) if r.code == 4001 && attempt == 0 => {
                    *session = None;
                }
                other => return Ok(other),
            }
        }
        unreachable!("the second attempt returns")
    }

    /// Closes the update's session, if one was opened. A failed logout only leaves it to expire.
    async fn logout(&self) {
        let Some(id) = self.session.lock().await.take() else {
            return;
        };
        let param = json!({
            "customernumber": self.customer_number,
            "apikey": self.api_key.expose(),
            "apisessionid": id,
        });
        if let Err(e) = self.post("logout", param).await {
            tracing::debug!("{}: logout failed: {e}", self.label());
        }
    }

    /// `updateDnsRecords` with one record; the zone's records as the service answers.
    async fn write(&self, zone: &Zone, record: Value) -> Result<Vec<Value>, ProviderError> {
        let param = json!({
            "domainname": zone.id,
            "dnsrecordset": { "dnsrecords": [record] },
        });
        let data = self
            .action("updateDnsRecords", param)
            .await?
            .map_err(|r| self.refused("updateDnsRecords", &r))?;
        Ok(data["dnsrecords"].as_array().cloned().unwrap_or_default())
    }
}

/// The reconciler inside one session: logged out after each update and check.
struct Session {
    inner: Reconciler,
    api: Arc<Api>,
}

#[async_trait]
impl Provider for Session {
    async fn update(&self, request: &UpdateRequest<'_>) -> Result<UpdateOutcome, ProviderError> {
        let outcome = self.inner.update(request).await;
        self.api.logout().await;
        outcome
    }

    async fn check(&self, name: &str, record_type: RecordType) -> Result<String, ProviderError> {
        let found = self.inner.check(name, record_type).await;
        self.api.logout().await;
        found
    }

    fn begin_round(&self) {
        self.inner.begin_round();
    }

    fn concurrency(&self) -> usize {
        self.inner.concurrency()
    }
}

struct Shared(Arc<Api>);

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

#[async_trait]
impl RecordApi for Shared {
    fn label(&self) -> String {
        self.0.label()
    }

    fn capabilities(&self) -> Capabilities {
        CAPABILITIES
    }

    async fn zone(&self, name: &str) -> Result<Zone, ProviderError> {
        let zone = self
            .0
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
        let api = &self.0;
        let host = relative(name, &zone.name);
        let data = match api
            .action("infoDnsRecords", json!({ "domainname": zone.id }))
            .await?
        {
            Ok(data) => data,
            // "The zone does not contain any DNS records": nothing there yet.
            Err(r) if r.code == 5029 => return Ok(Vec::new()),
            Err(r) => return Err(api.refused("infoDnsRecords", &r)),
        };
        let mut out = Vec::new();
        let mut listed = api
            .listed
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        for record in data["dnsrecords"].as_array().into_iter().flatten() {
            if !text(&record["hostname"]).eq_ignore_ascii_case(&host)
                || !text(&record["type"]).eq_ignore_ascii_case(record_type.as_str())
            {
                continue;
            }
            let id = text(&record["id"]);
            listed.insert(id.clone(), record.clone());
            out.push(Existing {
                id,
                values: vec![text(&record["destination"])],
                line: None,
                ttl: None,
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
        _ttl: Option<u32>,
        _line: Option<&str>,
    ) -> Result<Written, ProviderError> {
        let host = relative(name, &zone.name);
        let destination = values[0].to_string();
        let record = json!({
            "hostname": host,
            "type": record_type.as_str(),
            "priority": "0",
            "destination": destination,
            "deleterecord": false,
        });
        let known: Vec<String> = self
            .0
            .listed
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .keys()
            .cloned()
            .collect();
        let after = self.0.write(zone, record).await?;
        // The new record's id: the one at the name holding the address that was not listed before.
        let id = after
            .iter()
            .find(|r| {
                text(&r["hostname"]).eq_ignore_ascii_case(&host)
                    && text(&r["type"]).eq_ignore_ascii_case(record_type.as_str())
                    && text(&r["destination"]) == destination
                    && !known.contains(&text(&r["id"]))
            })
            .map(|r| text(&r["id"]))
            .filter(|id| !id.is_empty());
        Ok(Written::new(id))
    }

    async fn update(
        &self,
        zone: &Zone,
        name: &str,
        record_type: RecordType,
        existing: &Existing,
        values: &[IpAddr],
        _ttl: Option<u32>,
    ) -> Result<Written, ProviderError> {
        let mut record = self.listed(zone, name, record_type, existing);
        record["destination"] = json!(values[0].to_string());
        record["deleterecord"] = json!(false);
        self.0.write(zone, record).await?;
        Ok(Written::new(Some(existing.id.clone())))
    }

    async fn delete(
        &self,
        zone: &Zone,
        name: &str,
        record_type: RecordType,
        existing: &Existing,
    ) -> Result<(), ProviderError> {
        let mut record = self.listed(zone, name, record_type, existing);
        record["deleterecord"] = json!(true);
        self.0.write(zone, record).await.map(|_| ())
    }

    fn begin_round(&self) {
        self.0
            .listed
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clear();
    }
}

impl Shared {
    /// The record as listed (all its fields, sent back as they were), else rebuilt from what is known.
    fn listed(&self, zone: &Zone, name: &str, record_type: RecordType, e: &Existing) -> Value {
        self.0
            .listed
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(&e.id)
            .cloned()
            .unwrap_or_else(|| {
                json!({
                    "id": e.id,
                    "hostname": relative(name, &zone.name),
                    "type": record_type.as_str(),
                    "priority": "0",
                    "destination": e.values.first().cloned().unwrap_or_default(),
                    "deleterecord": false,
                })
            })
    }
}
