//! `DNSPod`'s token API (`dnsapi.cn`, and `DNSPod` International at `api.dnspod.com` with `international = true`):
//! form POSTs to `/<Action>` with `login_token=<ID>,<Token>`, `format=json`, `error_on_empty=no`. Errors
//! come with HTTP 200 in `status.code` (a string; `"1"` is success). The zone is the longest domain of the
//! account holding the name (`Domain.List`, paged by `offset`/`length`, matched on `punycode`, once per
//! round); records are listed by `domain_id` and `sub_domain` (`Record.List`, paged) and filtered by name and
//! type here. Records carry their line: `默认` on the China site, `default` (listed as `Default`)
//! internationally; only the managed line is touched. Writes that change nothing are never sent (`DNSPod`
//! locks a record after five in an hour). API notes: `docs/providers/dnspod-legacy.md`.

use std::net::IpAddr;
use std::sync::Arc;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::reconcile::{RoundCache, TtlRule};
use super::{
    Capabilities, ErrorClass, Existing, KindConfig, KindInfo, Provider, ProviderError, Reconciler,
    RecordApi, Written, Zone, relative, send,
};
use crate::config::check::FieldCheck;
use crate::config::{RecordType, Secret};

const CHINA_ENDPOINT: &str = "https://dnsapi.cn";
const INTL_ENDPOINT: &str = "https://api.dnspod.com";
const CHINA_DEFAULT_LINE: &str = "默认";
const INTL_DEFAULT_LINE: &str = "default";
/// Records per page: the most either site returns unpaged (China 3000, international 500).
const CHINA_PAGE: usize = 3000;
const INTL_PAGE: usize = 500;
const MAX_PAGES: usize = 50;
/// How long the API bans after abuse or too many calls ("一般需要一个小时后才会解封").
const BAN_SECS: u64 = 3600;

pub const INFO: KindInfo = KindInfo::provider(
    "dnspod-token",
    "https://console.dnspod.cn/account/token/token",
    &[
        super::req("token_id"),
        super::secret("token"),
        super::flag("international"),
        super::LINE,
        super::ENDPOINT,
    ],
)
.example("token_id = \"12345\"\ntoken = \"dnspod-token-value\"");

/// `kind = "dnspod-token"`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The token's ID (a number).
    pub token_id: String,
    pub token: Secret,
    /// `DNSPod` International (dnspod.com) instead of the China site (dnspod.cn).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub international: bool,
    /// The line to manage (`默认`, `电信`, `联通`, … ; internationally `default` or a country code).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
}

const TTL: TtlRule = TtlRule {
    min: 1,
    max: 604_800,
    auto: None,
};

const CHINA: Capabilities = Capabilities {
    default_line: Some(CHINA_DEFAULT_LINE),
    ttl: TTL,
    ..Capabilities::RECORDS
};

const INTL: Capabilities = Capabilities {
    default_line: Some(INTL_DEFAULT_LINE),
    ttl: TTL,
    ..Capabilities::RECORDS
};

impl KindConfig for Config {
    fn endpoint(&self) -> Option<&str> {
        self.endpoint.as_deref()
    }

    fn secrets_mut(&mut self) -> Vec<(String, &mut Secret)> {
        vec![("token".into(), &mut self.token)]
    }

    fn validate(&self, check: &mut FieldCheck<'_>) {
        if self.token_id.is_empty() || !self.token_id.bytes().all(|b| b.is_ascii_digit()) {
            check.problem("token_id", "provider.dnspod-token.check.token_id", &[]);
        }
        check.line("line", self.line.as_deref());
    }

    fn line(&self) -> Option<&str> {
        self.line.as_deref()
    }

    fn capabilities(&self) -> Capabilities {
        if self.international { INTL } else { CHINA }
    }

    fn build(
        &self,
        name: String,
        _kind: &'static str,
        client: reqwest::Client,
    ) -> Arc<dyn Provider> {
        let default = if self.international {
            INTL_ENDPOINT
        } else {
            CHINA_ENDPOINT
        };
        Arc::new(
            Reconciler::new(Api {
                name,
                client,
                base: super::base_url(self.endpoint.as_deref(), default),
                login_token: Secret::resolved(format!("{},{}", self.token_id, self.token.expose())),
                token: self.token.clone(),
                international: self.international,
                domains: RoundCache::default(),
            })
            .on_line(self.line.as_deref()),
        )
    }
}

struct Api {
    name: String,
    client: reqwest::Client,
    base: String,
    /// `ID,Token`.
    login_token: Secret,
    token: Secret,
    international: bool,
    /// The account's domains (punycode name, id), read once per round.
    domains: RoundCache<(), Vec<(String, String)>>,
}

#[derive(Deserialize)]
struct Status {
    code: Value,
    #[serde(default)]
    message: String,
}

#[derive(Deserialize)]
struct Record {
    id: Value,
    name: String,
    #[serde(rename = "type")]
    record_type: String,
    value: String,
    #[serde(default)]
    line: Option<String>,
    #[serde(default)]
    ttl: Option<Value>,
}

/// Text of a value the API gives as a string or a number.
fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

impl Api {
    fn label(&self) -> String {
        format!("dnspod-token `{}`", self.name)
    }

    fn caps(&self) -> Capabilities {
        if self.international { INTL } else { CHINA }
    }

    fn default_line(&self) -> &'static str {
        if self.international {
            INTL_DEFAULT_LINE
        } else {
            CHINA_DEFAULT_LINE
        }
    }

    /// Posts an action; returns the whole answer when `status.code` is `"1"`, else `Err((code, error))`.
    async fn call(
        &self,
        action: &str,
        fields: &[(&str, String)],
    ) -> Result<Result<Value, (String, ProviderError)>, ProviderError> {
        let label = self.label();
        let mut form: Vec<(&str, String)> = vec![
            ("login_token", self.login_token.expose().to_owned()),
            ("format", "json".into()),
            ("error_on_empty", "no".into()),
        ];
        if !self.international {
            form.push(("lang", "en".into()));
        }
        form.extend(fields.iter().cloned());
        let answer = send(
            &label,
            self.client
                .post(format!("{}/{action}", self.base))
                .form(&form),
            &[self.login_token.expose(), self.token.expose()],
        )
        .await?;
        if !answer.status.is_success() {
            return Err(answer.status_error(&label, None));
        }
        let body: Value = answer.json(&label)?;
        let status: Status = serde_json::from_value(body["status"].clone()).map_err(|_| {
            ProviderError::transient(format!("{label}: unexpected answer `{}`", answer.snippet()))
        })?;
        let code = text(&status.code);
        if code == "1" {
            return Ok(Ok(body));
        }
        let detail = format!("{code}: {}", answer.redact(&status.message));
        let error = match code.as_str() {
            "-1" | "-3" | "-4" | "-7" | "7" | "50" | "51" | "52" | "53" | "54" => {
                ProviderError::auth(format!("{label}: the token was refused ({detail})"))
            }
            "85" => ProviderError::auth(format!(
                "{label}: login from this place was refused ({detail}); allow it in DNSPod's login protection"
            )),
            "-2" => ProviderError::new(
                ErrorClass::RateLimited {
                    retry_after: Some(BAN_SECS),
                },
                format!("{label}: over the API limit ({detail})"),
            ),
            "-8" | "83" => ProviderError::new(
                ErrorClass::Banned {
                    retry_after: Some(BAN_SECS),
                },
                format!("{label}: the account is blocked ({detail})"),
            ),
            "-99" | "3" => ProviderError::transient(format!("{label}: {detail}")),
            _ => ProviderError::rejected(format!("{label}: {detail}")),
        };
        Ok(Err((code, error)))
    }

    fn parse<T: serde::de::DeserializeOwned>(
        &self,
        v: Value,
        what: &str,
    ) -> Result<T, ProviderError> {
        serde_json::from_value(v).map_err(|e| {
            ProviderError::transient(format!("{}: unexpected {what} ({e})", self.label()))
        })
    }

    fn page(&self) -> usize {
        if self.international {
            INTL_PAGE
        } else {
            CHINA_PAGE
        }
    }

    async fn domains(&self) -> Result<Vec<(String, String)>, ProviderError> {
        self.domains
            .get_or_try(&(), async {
                let mut out = Vec::new();
                for page in 0..MAX_PAGES {
                    let body = match self
                        .call(
                            "Domain.List",
                            &[
                                ("type", "all".into()),
                                ("offset", (page * self.page()).to_string()),
                                ("length", self.page().to_string()),
                            ],
                        )
                        .await?
                    {
                        Ok(body) => body,
                        // 9: the account has no domains.
                        Err((code, _)) if code == "9" => break,
                        Err((_, e)) => return Err(e),
                    };
                    let list: Vec<Value> = self.parse(body["domains"].clone(), "domain list")?;
                    let n = list.len();
                    out.extend(list.iter().map(|d| {
                        let name = d
                            .get("punycode")
                            .map(text)
                            .filter(|p| !p.is_empty())
                            .unwrap_or_else(|| text(&d["name"]));
                        (super::canonical(&name), text(&d["id"]))
                    }));
                    let total: usize = text(&body["info"]["domain_total"]).parse().unwrap_or(0);
                    if n < self.page() || out.len() >= total {
                        break;
                    }
                }
                Ok(out)
            })
            .await
    }

    /// The listed line in the form requests take (`Default` -> `default` internationally).
    fn line_of(&self, listed: Option<String>) -> String {
        match listed.filter(|l| !l.is_empty()) {
            None => self.default_line().to_owned(),
            Some(l) if self.international && l.eq_ignore_ascii_case(INTL_DEFAULT_LINE) => {
                INTL_DEFAULT_LINE.to_owned()
            }
            Some(l) => l,
        }
    }
}

#[async_trait]
impl RecordApi for Api {
    fn label(&self) -> String {
        Api::label(self)
    }

    fn capabilities(&self) -> Capabilities {
        self.caps()
    }

    async fn zones(&self) -> Result<Option<Vec<String>>, ProviderError> {
        Ok(Some(
            self.domains().await?.into_iter().map(|(n, _)| n).collect(),
        ))
    }

    async fn zone(&self, name: &str) -> Result<Zone, ProviderError> {
        super::zone_among(&self.label(), name, &self.domains().await?)
    }

    async fn list(
        &self,
        zone: &Zone,
        name: &str,
        record_type: RecordType,
    ) -> Result<Vec<Existing>, ProviderError> {
        let sub = relative(name, &zone.name);
        let mut out = Vec::new();
        let mut seen = 0usize;
        for page in 0..MAX_PAGES {
            let mut fields = vec![
                ("domain_id", zone.id.clone()),
                ("sub_domain", sub.clone()),
                ("offset", (page * self.page()).to_string()),
                ("length", self.page().to_string()),
            ];
            if !self.international {
                fields.push(("record_type", record_type.as_str().to_owned()));
            }
            let body = match self.call("Record.List", &fields).await? {
                Ok(body) => body,
                // 10: no records (should error_on_empty be ignored).
                Err((code, _)) if code == "10" => break,
                Err((_, e)) => return Err(e),
            };
            let records: Vec<Record> = if body["records"].is_null() {
                Vec::new()
            } else {
                self.parse(body["records"].clone(), "record list")?
            };
            let n = records.len();
            seen += n;
            out.extend(
                records
                    .into_iter()
                    .filter(|r| {
                        r.name.eq_ignore_ascii_case(&sub)
                            && r.record_type.eq_ignore_ascii_case(record_type.as_str())
                    })
                    .map(|r| Existing {
                        id: text(&r.id),
                        values: vec![r.value],
                        line: Some(self.line_of(r.line)),
                        ttl: r.ttl.as_ref().and_then(|t| text(t).parse().ok()),
                        stale: false,
                    }),
            );
            let total: usize = text(&body["info"]["record_total"]).parse().unwrap_or(0);
            if n < self.page() || seen >= total {
                break;
            }
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
        line: Option<&str>,
    ) -> Result<Written, ProviderError> {
        let mut fields = vec![
            ("domain_id", zone.id.clone()),
            ("sub_domain", relative(name, &zone.name)),
            ("record_type", record_type.as_str().to_owned()),
            (
                "record_line",
                line.unwrap_or(self.default_line()).to_owned(),
            ),
            (
                "value",
                values.first().map(ToString::to_string).unwrap_or_default(),
            ),
        ];
        if let Some(ttl) = ttl {
            fields.push(("ttl", ttl.to_string()));
        }
        let body = self
            .call("Record.Create", &fields)
            .await?
            .map_err(|(_, e)| e)?;
        Ok(Written::new(
            body["record"].get("id").map(text).filter(|i| !i.is_empty()),
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
        let mut fields = vec![
            ("domain_id", zone.id.clone()),
            ("record_id", existing.id.clone()),
            // Always sent: left out, the record would move to `@`.
            ("sub_domain", relative(name, &zone.name)),
            ("record_type", record_type.as_str().to_owned()),
            (
                "record_line",
                existing
                    .line
                    .clone()
                    .unwrap_or_else(|| self.default_line().to_owned()),
            ),
            (
                "value",
                values.first().map(ToString::to_string).unwrap_or_default(),
            ),
        ];
        if let Some(ttl) = ttl.or(existing.ttl) {
            fields.push(("ttl", ttl.to_string()));
        }
        self.call("Record.Modify", &fields)
            .await?
            .map_err(|(_, e)| e)?;
        Ok(Written::new(Some(existing.id.clone())))
    }

    async fn delete(
        &self,
        zone: &Zone,
        _name: &str,
        _record_type: RecordType,
        existing: &Existing,
    ) -> Result<(), ProviderError> {
        self.call(
            "Record.Remove",
            &[
                ("domain_id", zone.id.clone()),
                ("record_id", existing.id.clone()),
            ],
        )
        .await?
        .map_err(|(_, e)| e)?;
        Ok(())
    }

    fn begin_round(&self) {
        self.domains.clear();
    }
}
