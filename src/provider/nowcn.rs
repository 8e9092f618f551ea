//! Now.cn 时代互联 (`api.now.cn/api/Dns/<Action>`, GET, signed). Every call carries `AccessInstanceID`,
//! `SignatureMethod=HMAC-SHA1`, `SignatureNonce`, `Timestamp` and `Signature`: the Alibaba Cloud RPC V1
//! signature (the string to sign names the path `/`, whatever the action's path). An answer with a non-empty
//! `error` is a failure (HTTP 200 too; a refused signature may not even be JSON); keys are matched without
//! regard to case. Calls name the zone by `Domain` and the host by `Host` (`@` for the apex): the zone is the
//! configured one, else the name's last two labels. Records are listed by domain, host and type and filtered
//! here. The API documents no delete, so records are never deleted (duplicates are kept, one address per
//! name). No lines. "Test" cannot list the account's domains: no listing call is documented (see the API
//! notes), so it shows the check alone. API notes: `docs/providers/nowcn.md`.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::reconcile::TtlRule;
use super::{
    Capabilities, Existing, KindConfig, KindInfo, Provider, ProviderError, Reconciler, RecordApi,
    Written, Zone, relative, send, sign,
};
use crate::config::check::FieldCheck;
use crate::config::{RecordType, Secret};

const DEFAULT_ENDPOINT: &str = "https://api.now.cn";
const DEFAULT_TTL: u32 = 600;

pub const INFO: KindInfo = KindInfo::provider(
    "nowcn",
    "https://www.now.cn/",
    &[
        super::req("access_instance_id"),
        super::secret("access_key_secret"),
        super::opt("zone"),
        super::ENDPOINT,
    ],
)
.example("access_instance_id = \"nowcninstance1\"\naccess_key_secret = \"nowcn-secret-value\"");

/// `kind = "nowcn"`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub access_instance_id: String,
    pub access_key_secret: Secret,
    /// The registered domain (needed when it is not the name's last two labels, e.g. `example.com.cn`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
}

const CAPABILITIES: Capabilities = Capabilities {
    ttl: TtlRule {
        min: 1,
        max: 86_400,
        auto: None,
    },
    // Without a delete, a set of several addresses could never shrink.
    multi_value: false,
    ..Capabilities::RECORDS
};

impl KindConfig for Config {
    fn endpoint(&self) -> Option<&str> {
        self.endpoint.as_deref()
    }

    fn secrets_mut(&mut self) -> Vec<(String, &mut Secret)> {
        vec![("access_key_secret".into(), &mut self.access_key_secret)]
    }

    fn validate(&self, check: &mut FieldCheck<'_>) {
        if self.access_instance_id.is_empty()
            || self.access_instance_id.chars().any(char::is_whitespace)
        {
            check.problem(
                "access_instance_id",
                "provider.nowcn.check.instance_id",
                &[],
            );
        }
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
        Arc::new(
            Reconciler::new(Api {
                name,
                client,
                base: super::base_url(self.endpoint.as_deref(), DEFAULT_ENDPOINT),
                id: self.access_instance_id.clone(),
                secret: self.access_key_secret.clone(),
                zone: self.zone.as_deref().map(super::canonical),
            })
            .keeping_duplicates(true),
        )
    }
}

struct Api {
    name: String,
    client: reqwest::Client,
    base: String,
    id: String,
    secret: Secret,
    zone: Option<String>,
}

/// The value at `key` of an object, the key's case ignored.
fn field<'a>(v: &'a Value, key: &str) -> Option<&'a Value> {
    v.as_object()?
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(key))
        .map(|(_, v)| v)
}

fn text(v: Option<&Value>) -> String {
    match v {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Null) | None => String::new(),
        Some(other) => other.to_string(),
    }
}

/// The signed query string of a call: `params` plus the common ones and `Signature`, sorted and encoded.
#[must_use]
pub fn signed_query(
    params: &[(&str, String)],
    id: &str,
    secret: &str,
    nonce: &str,
    timestamp: &str,
) -> String {
    let mut all: BTreeMap<String, String> = params
        .iter()
        .map(|(k, v)| ((*k).to_owned(), v.clone()))
        .collect();
    all.insert("AccessInstanceID".into(), id.to_owned());
    all.insert("SignatureMethod".into(), "HMAC-SHA1".into());
    all.insert("SignatureNonce".into(), nonce.to_owned());
    all.insert("Timestamp".into(), timestamp.to_owned());
    let signature = sign::aliyun_v1("GET", &all, secret);
    all.insert("Signature".into(), signature);
    sign::canonical_query(&all)
}

impl Api {
    fn label(&self) -> String {
        format!("nowcn `{}`", self.name)
    }

    /// Calls an action; returns the answer when its `error` is empty.
    async fn call(&self, action: &str, params: &[(&str, String)]) -> Result<Value, ProviderError> {
        let label = self.label();
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        let timestamp = humantime::format_rfc3339_seconds(UNIX_EPOCH + now).to_string();
        let query = signed_query(
            params,
            &self.id,
            self.secret.expose(),
            &now.as_nanos().to_string(),
            &timestamp,
        );
        let answer = send(
            &label,
            self.client
                .get(format!("{}/api/Dns/{action}?{query}", self.base))
                .header("Accept", "application/json"),
            &[self.secret.expose()],
        )
        .await?;
        let body = serde_json::from_str::<Value>(&answer.body).ok();
        if !answer.status.is_success() {
            let detail = body
                .as_ref()
                .map(|b| answer.redact(&text(field(b, "error"))))
                .filter(|d| !d.is_empty());
            return Err(answer.status_error(&label, detail.as_deref()));
        }
        let Some(body) = body.filter(Value::is_object) else {
            // A refused signature has come back as plain text ("接口验签失败").
            return Err(if answer.body.contains("验签") {
                ProviderError::auth(format!(
                    "{label}: the signature was refused (`{}`); check the AccessInstanceID and AccessKeySecret",
                    answer.snippet()
                ))
            } else {
                ProviderError::transient(format!(
                    "{label}: unexpected answer `{}`",
                    answer.snippet()
                ))
            });
        };
        let error = answer.redact(&text(field(&body, "error")));
        if error.is_empty() {
            return Ok(body);
        }
        let lower = error.to_ascii_lowercase();
        Err(
            if [
                "signature",
                "accessinstanceid",
                "accesskey",
                "secret",
                "auth",
            ]
            .iter()
            .any(|w| lower.contains(w))
                || ["验签", "签名", "密钥", "认证", "授权"]
                    .iter()
                    .any(|w| error.contains(w))
            {
                ProviderError::auth(format!("{label}: credentials refused ({error})"))
            } else {
                ProviderError::rejected(format!("{label}: {error}"))
            },
        )
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
        let zone = self
            .zone
            .clone()
            .unwrap_or_else(|| super::last_two_labels(name));
        if !super::in_zone(name, &zone) {
            return Err(ProviderError::rejected(format!(
                "{}: {name} is not in the zone {zone}",
                self.label()
            )));
        }
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
        let host = relative(name, &zone.name);
        let body = self
            .call(
                "DescribeRecordIndex",
                &[
                    ("Domain", zone.name.clone()),
                    ("Type", record_type.as_str().to_owned()),
                    ("Host", host.clone()),
                ],
            )
            .await?;
        let records = field(&body, "data")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        Ok(records
            .iter()
            .filter(|r| {
                text(field(r, "host")).eq_ignore_ascii_case(&host)
                    && text(field(r, "type")).eq_ignore_ascii_case(record_type.as_str())
            })
            .map(|r| Existing {
                id: text(field(r, "id")),
                values: vec![text(field(r, "value"))],
                line: None,
                ttl: text(field(r, "ttl")).parse().ok(),
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
        let body = self
            .call(
                "AddDomainRecord",
                &[
                    ("Domain", zone.name.clone()),
                    ("Host", relative(name, &zone.name)),
                    ("Type", record_type.as_str().to_owned()),
                    (
                        "Value",
                        values.first().map(ToString::to_string).unwrap_or_default(),
                    ),
                    ("Ttl", ttl.unwrap_or(DEFAULT_TTL).to_string()),
                ],
            )
            .await?;
        Ok(Written::new(
            Some(text(field(&body, "id"))).filter(|i| !i.is_empty() && i != "0"),
        ))
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
        self.call(
            "UpdateDomainRecord",
            &[
                ("Id", existing.id.clone()),
                ("Domain", zone.name.clone()),
                ("Host", relative(name, &zone.name)),
                ("Type", record_type.as_str().to_owned()),
                (
                    "Value",
                    values.first().map(ToString::to_string).unwrap_or_default(),
                ),
                (
                    "Ttl",
                    ttl.or(existing.ttl).unwrap_or(DEFAULT_TTL).to_string(),
                ),
            ],
        )
        .await?;
        Ok(Written::new(Some(existing.id.clone())))
    }

    async fn delete(
        &self,
        _zone: &Zone,
        name: &str,
        _record_type: RecordType,
        _existing: &Existing,
    ) -> Result<(), ProviderError> {
        // Never reached: the provider keeps duplicates and serves one address per name.
        Err(ProviderError::rejected(format!(
            "{}: now.cn's API documents no delete; remove the extra records at {name} in the console",
            self.label()
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The fixture in `docs/providers/nowcn.md` (ddns-go's `sign()` steps), recomputed independently with
    /// Python's `hmac`/`urllib.parse.quote`; not a vendor-published vector (there is none).
    #[test]
    fn signature_fixture() {
        let q = signed_query(
            &[
                ("Domain", "example.com".into()),
                ("Host", "www".into()),
                ("Type", "A".into()),
            ],
            "testid",
            "testsecret",
            "1551113065000000000",
            "2019-02-25T16:44:25Z",
        );
        assert_eq!(
            q,
            "AccessInstanceID=testid&Domain=example.com&Host=www&Signature=mmQsh32l1f7eBpBTdXEvt27kHdk%3D&SignatureMethod=HMAC-SHA1&SignatureNonce=1551113065000000000&Timestamp=2019-02-25T16%3A44%3A25Z&Type=A"
        );
    }
}
