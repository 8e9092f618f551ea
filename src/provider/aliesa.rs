//! Alibaba Cloud ESA (边缘安全加速, Edge Security Acceleration) DNS records, API version `2024-09-10` at
//! `esa.cn-hangzhou.aliyuncs.com`: RPC style, signature V1 (HMAC-SHA1) with a RAM `AccessKey`, every parameter
//! in the query (also for the POSTs, with an empty body, as Alibaba's SDK and ddns-go send them). Signing,
//! calling and the gateway's error codes are Alidns's ([`super::alidns::Rpc`], [`super::alidns::classify`]).
//!
//! - The zone is an ESA *site*: the configured `site_id`, else the site whose name is the longest suffix of the
//!   record's name among all the account's sites (`ListSites`, every page).
//! - Records are read with `ListRecords` (the full name, exact match, type `A/AAAA`, every page). ESA keeps
//!   IPv4 and IPv6 addresses under the one type `A/AAAA`: a record counts as this name's A record when its
//!   `Data.Value` is an IPv4 address, as its AAAA record when it is an IPv6 address; anything else (an address
//!   pool written by another client, say) is never touched.
//! - Written with `CreateRecord` (`Data={"Value":ip}`, `Ttl` the record's or 1 = automatic), `UpdateRecord`
//!   (the record's `Proxied` flag and `BizName` sent back as they were, so a proxied record stays proxied) and
//!   `DeleteRecord` (duplicates of the managed name and type only). On a site connected by CNAME
//!   (`AccessType` `CNAME`) ESA only serves proxied records, so new records there are created with
//!   `Proxied=true`, `BizName=web` (as ddns-go does); with a configured `site_id` the access type is not
//!   looked up and new records are DNS-only.
//! - ESA has no resolution lines. Records of other types and names are never touched.
//!
//! Doc: <https://www.alibabacloud.com/help/en/edge-security-acceleration/esa/api-esa-2024-09-10-listrecords>
//! and its siblings (createrecord, updaterecord, deleterecord, listsites), and the generated official SDK
//! `alibabacloud-go/esa-20240910`, as read on 2026-12-04 (`docs/providers/aliesa.md`). ESA's own error-code
//! tables were not captured: the gateway's codes are classified, others by HTTP status.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use reqwest::Method;
use serde::{Deserialize, Serialize};

use super::alidns::{Failure, Rpc};
use super::reconcile::parse_addr;
use super::{
    Capabilities, Existing, KindConfig, KindInfo, Provider, ProviderError, Reconciler, RecordApi,
    TtlRule, Written, Zone,
};
use crate::config::check::FieldCheck;
use crate::config::{RecordType, Secret};

const DEFAULT_ENDPOINT: &str = "https://esa.cn-hangzhou.aliyuncs.com";
const VERSION: &str = "2024-09-10";
/// ESA's one type for IPv4 and IPv6 address records.
const ADDRESS_TYPE: &str = "A/AAAA";
/// The largest page both `ListSites` and `ListRecords` allow.
const PAGE_SIZE: u32 = 500;
const MAX_PAGES: u32 = 20;
/// `Ttl = 1` is ESA's "automatic".
const AUTO_TTL: u32 = 1;

pub const INFO: KindInfo = KindInfo::provider(
    "aliesa",
    "https://ram.console.aliyun.com/manage/ak",
    &[
        super::req("access_key_id"),
        super::secret("access_key_secret"),
        super::opt("site_id"),
        super::ENDPOINT,
    ],
)
.example("access_key_id = \"LTAI5tExample\"\naccess_key_secret = \"ali-secret-value\"");

/// `kind = "aliesa"`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub access_key_id: String,
    pub access_key_secret: Secret,
    /// The ESA site's numeric id; found from the record's name (`ListSites`) when left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub site_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
}

const CAPABILITIES: Capabilities = Capabilities {
    // UpdateRecord: "30-86400 or 1" (1 = automatic).
    ttl: TtlRule {
        min: 30,
        max: 86_400,
        auto: Some(AUTO_TTL),
    },
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
        check.key_id("access_key_id", &self.access_key_id, "AccessKey ID");
        if let Some(id) = &self.site_id
            && (id.is_empty() || !id.chars().all(|c| c.is_ascii_digit()))
        {
            check.problem("site_id", "provider.aliesa.check.site_id", &[]);
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
            rpc: Rpc {
                client,
                base: super::base_url(self.endpoint.as_deref(), DEFAULT_ENDPOINT),
                key_id: self.access_key_id.clone(),
                secret: self.access_key_secret.clone(),
                version: VERSION,
            },
            site_id: self.site_id.clone(),
            cname_sites: Mutex::default(),
            flags: Mutex::default(),
        }))
    }
}

/// A record's proxy settings as listed, sent back unchanged on update.
#[derive(Debug, Clone)]
struct Flags {
    proxied: Option<bool>,
    biz_name: Option<String>,
}

struct Api {
    name: String,
    rpc: Rpc,
    site_id: Option<String>,
    /// Ids of the sites connected by CNAME, learnt from `ListSites`.
    cname_sites: Mutex<Vec<String>>,
    /// Listed records' proxy settings by record id.
    flags: Mutex<HashMap<String, Flags>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct SitePage {
    #[serde(default)]
    sites: Vec<Site>,
    #[serde(default)]
    total_count: Option<u32>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Site {
    site_id: i64,
    site_name: String,
    #[serde(default)]
    access_type: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RecordPage {
    #[serde(default)]
    records: Vec<Record>,
    #[serde(default)]
    total_count: Option<u32>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Record {
    record_id: i64,
    record_name: String,
    record_type: String,
    #[serde(default)]
    data: Data,
    #[serde(default)]
    ttl: Option<u32>,
    #[serde(default)]
    proxied: Option<bool>,
    #[serde(default)]
    biz_name: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
struct Data {
    #[serde(default)]
    value: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Created {
    record_id: i64,
}

/// Whether `ip` is of `record_type`'s family.
fn family(ip: IpAddr, record_type: RecordType) -> bool {
    match record_type {
        RecordType::A => ip.is_ipv4(),
        RecordType::Aaaa => ip.is_ipv6(),
    }
}

/// `{"Value":"203.0.113.7"}`: nested parameters travel as JSON text in one query parameter.
fn data(values: &[IpAddr]) -> String {
    let ip = values.first().map(ToString::to_string).unwrap_or_default();
    serde_json::json!({ "Value": ip }).to_string()
}

impl Api {
    async fn call<T: serde::de::DeserializeOwned>(
        &self,
        method: Method,
        action: &str,
        params: &[(&str, String)],
    ) -> Result<T, ProviderError> {
        self.rpc
            .call(&RecordApi::label(self), method, action, params)
            .await
            .map_err(|Failure { error, .. }| error)
    }

    /// Every site of the account (all pages), as (name, id); CNAME-connected ones remembered.
    async fn sites(&self) -> Result<Vec<(String, String)>, ProviderError> {
        let mut out = Vec::new();
        let mut cname = Vec::new();
        for page in 1..=MAX_PAGES {
            let found: SitePage = self
                .call(
                    Method::GET,
                    "ListSites",
                    &[
                        ("PageNumber", page.to_string()),
                        ("PageSize", PAGE_SIZE.to_string()),
                    ],
                )
                .await?;
            let count = found.sites.len();
            for s in found.sites {
                let id = s.site_id.to_string();
                if s.access_type.as_deref() == Some("CNAME") {
                    cname.push(id.clone());
                }
                out.push((super::canonical(&s.site_name), id));
            }
            if count < PAGE_SIZE as usize || out.len() >= found.total_count.unwrap_or(0) as usize {
                break;
            }
        }
        *self
            .cname_sites
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = cname;
        Ok(out)
    }
}

#[async_trait]
impl RecordApi for Api {
    fn label(&self) -> String {
        format!("aliesa `{}`", self.name)
    }

    fn capabilities(&self) -> Capabilities {
        CAPABILITIES
    }

    async fn zones(&self) -> Result<Option<Vec<String>>, ProviderError> {
        Ok(Some(
            self.sites().await?.into_iter().map(|(n, _)| n).collect(),
        ))
    }

    async fn zone(&self, name: &str) -> Result<Zone, ProviderError> {
        if let Some(id) = &self.site_id {
            return Ok(Zone {
                id: id.clone(),
                name: String::new(),
            });
        }
        let sites = self.sites().await?;
        super::zone_among(&RecordApi::label(self), name, &sites)
    }

    async fn list(
        &self,
        zone: &Zone,
        name: &str,
        record_type: RecordType,
    ) -> Result<Vec<Existing>, ProviderError> {
        let mut out = Vec::new();
        let mut seen = 0usize;
        for page in 1..=MAX_PAGES {
            let found: RecordPage = self
                .call(
                    Method::GET,
                    "ListRecords",
                    &[
                        ("SiteId", zone.id.clone()),
                        ("RecordName", name.to_owned()),
                        ("RecordMatchType", "exact".to_owned()),
                        ("Type", ADDRESS_TYPE.to_owned()),
                        ("PageNumber", page.to_string()),
                        ("PageSize", PAGE_SIZE.to_string()),
                    ],
                )
                .await?;
            let count = found.records.len();
            seen += count;
            let mut flags = self
                .flags
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            for r in found.records {
                let ours = super::canonical(&r.record_name) == name
                    && r.record_type == ADDRESS_TYPE
                    && parse_addr(&r.data.value).is_some_and(|ip| family(ip, record_type));
                if !ours {
                    continue;
                }
                let id = r.record_id.to_string();
                flags.insert(
                    id.clone(),
                    Flags {
                        proxied: r.proxied,
                        biz_name: r.biz_name,
                    },
                );
                out.push(Existing {
                    id,
                    values: vec![r.data.value],
                    line: None,
                    ttl: r.ttl,
                    stale: false,
                });
            }
            if count < PAGE_SIZE as usize || seen >= found.total_count.unwrap_or(0) as usize {
                break;
            }
        }
        Ok(out)
    }

    async fn create(
        &self,
        zone: &Zone,
        name: &str,
        _record_type: RecordType,
        values: &[IpAddr],
        ttl: Option<u32>,
        _line: Option<&str>,
    ) -> Result<Written, ProviderError> {
        let mut params = vec![
            ("SiteId", zone.id.clone()),
            ("RecordName", name.to_owned()),
            ("Type", ADDRESS_TYPE.to_owned()),
            ("Ttl", ttl.unwrap_or(AUTO_TTL).to_string()),
            ("Data", data(values)),
        ];
        let cname_site = self
            .cname_sites
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .contains(&zone.id);
        if cname_site {
            params.push(("Proxied", "true".to_owned()));
            params.push(("BizName", "web".to_owned()));
        }
        let created: Created = self.call(Method::POST, "CreateRecord", &params).await?;
        Ok(Written::new(Some(created.record_id.to_string())))
    }

    async fn update(
        &self,
        _zone: &Zone,
        _name: &str,
        _record_type: RecordType,
        existing: &Existing,
        values: &[IpAddr],
        ttl: Option<u32>,
    ) -> Result<Written, ProviderError> {
        let mut params = vec![("RecordId", existing.id.clone()), ("Data", data(values))];
        params.extend(ttl.or(existing.ttl).map(|t| ("Ttl", t.to_string())));
        let flags = self
            .flags
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(&existing.id)
            .cloned();
        if let Some(f) = flags {
            params.extend(f.proxied.map(|p| ("Proxied", p.to_string())));
            if f.proxied == Some(true) {
                params.extend(f.biz_name.map(|b| ("BizName", b)));
            }
        }
        // The answer holds only a RequestId: the record keeps its id.
        let _: serde_json::Value = self.call(Method::POST, "UpdateRecord", &params).await?;
        Ok(Written::new(Some(existing.id.clone())))
    }

    async fn delete(
        &self,
        _zone: &Zone,
        _name: &str,
        _record_type: RecordType,
        existing: &Existing,
    ) -> Result<(), ProviderError> {
        let _: serde_json::Value = self
            .call(
                Method::POST,
                "DeleteRecord",
                &[("RecordId", existing.id.clone())],
            )
            .await?;
        Ok(())
    }

    fn begin_round(&self) {
        self.flags
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_is_json_text_and_families_split_one_type() {
        assert_eq!(
            data(&["203.0.113.7".parse().unwrap()]),
            r#"{"Value":"203.0.113.7"}"#
        );
        assert!(family("192.0.2.1".parse().unwrap(), RecordType::A));
        assert!(!family("2001:db8::1".parse().unwrap(), RecordType::A));
        assert!(family("2001:db8::1".parse().unwrap(), RecordType::Aaaa));
    }
}
