//! The dyndns2 protocol (`/nic/update`), with presets for No-IP, Dynu, Dyn, Hurricane Electric and
//! DNS-O-Matic. Every documented return code is handled as the protocol requires: `good`/`nochg` succeed;
//! `badauth` stops until the credentials change; `nohost`/`notfqdn`/`numhost`/`!donator`/`badagent` stop until
//! the config changes; `abuse` stops and says so; `911`/`dnserr` wait at least 30 minutes. A descriptive
//! User-Agent goes with every request (the shared API client sets it).

use std::net::IpAddr;
use std::sync::Arc;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use super::{
    KindConfig, KindInfo, Provider, ProviderError, Setter, SetterProvider, UpdateOutcome,
    UpdateRequest, send,
};
use crate::config::check::FieldCheck;
use crate::config::{RecordType, Secret};
use crate::provider::{Capabilities, ErrorClass};

const FIELDS: &[super::FieldInfo] = &[
    super::opt("server"),
    super::opt("username"),
    super::secret("password"),
];

pub const GENERIC: KindInfo = KindInfo::provider("dyndns2", "", FIELDS)
    .example("username = \"me\"\npassword = \"dd-secret-value\"")
    .api("server");
pub const NOIP: KindInfo = KindInfo::provider("noip", "https://my.noip.com/dynamic-dns", FIELDS)
    .example("username = \"me@example.com\"\npassword = \"noip-secret\"")
    .api("server");
pub const DYNU: KindInfo = KindInfo::provider(
    "dynu",
    "https://www.dynu.com/en-US/ControlPanel/ManageCredentials",
    FIELDS,
)
.example("username = \"me\"\npassword = \"dynu-secret\"")
.api("server");
pub const DYN: KindInfo = KindInfo::provider(
    "dyn",
    "https://account.dyn.com/profile/security/updater",
    FIELDS,
)
.example("username = \"me\"\npassword = \"dyn-updater-key\"")
.api("server");
pub const HE: KindInfo = KindInfo::provider("he", "https://dns.he.net/", FIELDS)
    .example("password = \"he-record-key\"")
    .api("server");
pub const DNSOMATIC: KindInfo = KindInfo::provider("dnsomatic", "https://dnsomatic.com/", FIELDS)
    .example("username = \"me\"\npassword = \"dnsomatic-secret\"")
    .api("server");

/// `kind = "dyndns2"` and its presets (`noip`, `dynu`, `dyn`, `he`, `dnsomatic`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Base URL of the update server; `/nic/update` is added unless the URL has a path.
    #[serde(default, alias = "endpoint", skip_serializing_if = "Option::is_none")]
    pub server: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    pub password: Secret,
}

impl KindConfig for Config {
    fn secrets_mut(&mut self) -> Vec<(String, &mut Secret)> {
        vec![("password".into(), &mut self.password)]
    }

    /// The preset is not known here: `server` is checked when given; `kind = "dyndns2"` requiring it is
    /// checked by [`Config::validate_kind`].
    fn validate(&self, check: &mut FieldCheck<'_>) {
        if let Some(s) = &self.server {
            check.http_url("server", s);
        }
    }

    fn validate_kind(&self, kind: &str, check: &mut FieldCheck<'_>) {
        if kind == "dyndns2" && self.server.is_none() {
            check.problem("server", "provider.dyndns2.check.missing", &[]);
        }
        if kind != "he" && self.username.is_none() {
            check.problem("username", "provider.dyndns2.check.missing_2", &[]);
        }
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            multi_value: false,
            concurrency: 1,
            ..Capabilities::RECORDS
        }
    }

    fn build(
        &self,
        name: String,
        kind: &'static str,
        client: reqwest::Client,
    ) -> Arc<dyn Provider> {
        let preset = Preset::of(kind);
        let url = update_url(self.server.as_deref().unwrap_or(preset.server()));
        Arc::new(SetterProvider(Dyndns2 {
            name,
            preset,
            client,
            url,
            username: self.username.clone(),
            password: self.password.clone(),
        }))
    }
}

/// Which service; presets fill in the server and the IPv6 parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Preset {
    Generic,
    Noip,
    Dynu,
    Dyn,
    He,
    Dnsomatic,
}

impl Preset {
    fn of(kind: &str) -> Self {
        match kind {
            "noip" => Self::Noip,
            "dynu" => Self::Dynu,
            "dyn" => Self::Dyn,
            "he" => Self::He,
            "dnsomatic" => Self::Dnsomatic,
            _ => Self::Generic,
        }
    }

    fn server(self) -> &'static str {
        match self {
            Self::Generic => "",
            Self::Noip => "https://dynupdate.no-ip.com/nic/update",
            Self::Dynu => "https://api.dynu.com/nic/update",
            Self::Dyn => "https://members.dyndns.org/v3/update",
            Self::He => "https://dyn.dns.he.net/nic/update",
            Self::Dnsomatic => "https://updates.dnsomatic.com/nic/update",
        }
    }

    fn kind(self) -> &'static str {
        match self {
            Self::Generic => "dyndns2",
            Self::Noip => "noip",
            Self::Dynu => "dynu",
            Self::Dyn => "dyn",
            Self::He => "he",
            Self::Dnsomatic => "dnsomatic",
        }
    }

    /// No-IP and Dynu take an IPv6 in `myipv6`; the others in `myip`.
    fn v6_param(self) -> &'static str {
        match self {
            Self::Noip | Self::Dynu => "myipv6",
            _ => "myip",
        }
    }
}

struct Dyndns2 {
    name: String,
    preset: Preset,
    client: reqwest::Client,
    url: String,
    username: Option<String>,
    password: Secret,
}

/// `https://host` -> `https://host/nic/update`; a URL with a path is used as it is.
fn update_url(server: &str) -> String {
    match reqwest::Url::parse(server) {
        Ok(u) if u.path() == "/" || u.path().is_empty() => {
            format!("{}/nic/update", server.trim_end_matches('/'))
        }
        _ => server.to_owned(),
    }
}

impl Dyndns2 {
    fn label(&self) -> String {
        format!("{} `{}`", self.preset.kind(), self.name)
    }
}

/// Interprets the first line of a dyndns2 answer for the address `sent`.
pub fn interpret(label: &str, body: &str, sent: IpAddr) -> Result<UpdateOutcome, ProviderError> {
    let line = body
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("");
    let mut words = line.split_whitespace();
    let code = words.next().unwrap_or("");
    let ip = words.next();
    let wait_30_min = ErrorClass::RateLimited {
        retry_after: Some(30 * 60),
    };
    match code {
        "good" if ip == Some("127.0.0.1") && !sent.is_loopback() => {
            Err(ProviderError::rejected(format!(
                "{label}: the server refused this client (good 127.0.0.1 means a blocked user agent)"
            )))
        }
        "good" => Ok(UpdateOutcome::Updated { record_id: None }),
        "nochg" => Ok(UpdateOutcome::Unchanged { record_id: None }),
        "badauth" => Err(ProviderError::auth(format!(
            "{label}: bad user name or password (badauth)"
        ))),
        "nohost" => Err(ProviderError::rejected(format!(
            "{label}: the hostname does not exist in this account (nohost)"
        ))),
        "notfqdn" => Err(ProviderError::rejected(format!(
            "{label}: the hostname is not a fully qualified domain name (notfqdn)"
        ))),
        "numhost" => Err(ProviderError::rejected(format!(
            "{label}: too many hosts or a round-robin name (numhost)"
        ))),
        "!donator" => Err(ProviderError::rejected(format!(
            "{label}: the request needs a paid account (!donator)"
        ))),
        "badagent" => Err(ProviderError::rejected(format!(
            "{label}: the server blocked this client's user agent (badagent)"
        ))),
        "abuse" => Err(ProviderError::rejected(format!(
            "{label}: the provider blocked the host or account for abuse; contact them before updating again (abuse)"
        ))),
        "911" => Err(ProviderError::new(
            wait_30_min,
            format!(
                "{label}: the provider is down for maintenance (911); waiting at least 30 minutes"
            ),
        )),
        "dnserr" => Err(ProviderError::new(
            wait_30_min,
            format!("{label}: the provider has a DNS error (dnserr); waiting at least 30 minutes"),
        )),
        _ => Err(ProviderError::transient(format!(
            "{label}: unexpected answer `{}`",
            crate::http::snippet(line)
        ))),
    }
}

#[async_trait]
impl Setter for Dyndns2 {
    #[tracing::instrument(skip_all, fields(provider = %self.name, record = %request.name))]
    async fn set(&self, request: &UpdateRequest<'_>) -> Result<UpdateOutcome, ProviderError> {
        let label = self.label();
        let ip = request.addrs[0];
        let param = if ip.is_ipv4() {
            "myip"
        } else {
            self.preset.v6_param()
        };
        let username = self.username.as_deref().unwrap_or(request.name);
        let http = self
            .client
            .get(&self.url)
            .query(&[("hostname", request.name), (param, &ip.to_string())])
            .basic_auth(username, Some(self.password.expose()));
        let answer = send(&label, http, &[self.password.expose()]).await?;
        if answer.status == reqwest::StatusCode::UNAUTHORIZED
            || answer.status == reqwest::StatusCode::FORBIDDEN
        {
            // Some servers answer badauth with 401 and the code in the body; both mean the same.
            return Err(ProviderError::auth(format!(
                "{label}: credentials refused (HTTP {}) {}",
                answer.status,
                answer.snippet()
            )));
        }
        if !answer.status.is_success() {
            return match interpret(&label, &answer.body, ip) {
                Err(e) if e.class != ErrorClass::Transient => Err(e),
                _ => Err(answer.status_error(&label, None)),
            };
        }
        interpret(&label, &answer.body, ip)
    }

    async fn check(&self, name: &str, record_type: RecordType) -> Result<String, ProviderError> {
        let _ = (name, record_type);
        Ok(
            "the dyndns2 protocol has no read-only call: the first update checks the credentials"
                .to_owned(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn return_codes() {
        let ip: IpAddr = "198.51.100.7".parse().unwrap();
        let class = |body: &str| interpret("t", body, ip).map_err(|e| e.class);
        assert_eq!(
            class("good 198.51.100.7"),
            Ok(UpdateOutcome::Updated { record_id: None })
        );
        assert_eq!(
            class("nochg 198.51.100.7\n"),
            Ok(UpdateOutcome::Unchanged { record_id: None })
        );
        assert_eq!(class("badauth"), Err(ErrorClass::Auth));
        for code in [
            "nohost",
            "notfqdn",
            "numhost",
            "!donator",
            "badagent",
            "abuse",
            "good 127.0.0.1",
        ] {
            assert_eq!(class(code), Err(ErrorClass::Rejected), "{code}");
        }
        for code in ["911", "dnserr"] {
            assert_eq!(
                class(code),
                Err(ErrorClass::RateLimited {
                    retry_after: Some(1800)
                }),
                "{code}"
            );
        }
        assert_eq!(class("<html>oops</html>"), Err(ErrorClass::Transient));
        assert_eq!(class(""), Err(ErrorClass::Transient));
    }

    #[test]
    fn basic_auth_vector_and_urls() {
        use base64::Engine as _;
        assert_eq!(
            base64::engine::general_purpose::STANDARD.encode("user@example.com:s3cr3t"),
            "dXNlckBleGFtcGxlLmNvbTpzM2NyM3Q="
        );
        assert_eq!(
            update_url("https://members.example.com"),
            "https://members.example.com/nic/update"
        );
        assert_eq!(
            update_url("https://members.example.com/"),
            "https://members.example.com/nic/update"
        );
        assert_eq!(
            update_url("https://x.example/v3/update"),
            "https://x.example/v3/update"
        );
    }
}
