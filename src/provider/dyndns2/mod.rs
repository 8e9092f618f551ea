//! The dyndns2 protocol (`/nic/update`) and the services that speak it, one [`Preset`] table entry each (in
//! `presets`): No-IP, Dynu, Dyn, Hurricane Electric, DNS-O-Matic, INWX, Infomaniak, `ChangeIP`, Strato, Spdyn,
//! `IPv64`, Loopia, Selfhost, All-Inkl and DDNSS. A preset gives the update URL (a configured `server` without a
//! path gets the preset's path), the hostname parameter (or none, when the credentials name the host), the IPv4
//! and IPv6 parameter names (or IPv6 refused at load), where the credential goes (Basic auth, or a query
//! parameter), and the reply words and HTTP statuses the service adds.
//!
//! Every documented return code is handled as the protocol requires: `good`/`nochg` succeed; `badauth` stops until
//! the credentials change; `nohost`/`notfqdn`/`numhost`/`!donator`/`badagent` stop until the config changes;
//! `abuse` stops and says so; `911`/`dnserr` wait at least 30 minutes. A preset's own words come first (Loopia's
//! `911` is a malformed request, Strato's `abuse` a rate limit). A redirect is an error naming the new location
//! (the API client follows none). A descriptive User-Agent goes with every request (the shared API client sets
//! it).
//!
//! One request carries one address: the engine updates A and AAAA separately. Services that damage the other
//! family on a one-family request are handled here: Dynu's IPv6 update sends `myip=no` (else the server fills
//! the A record from the request's source address); INWX deletes the AAAA record when `myipv6` is missing and
//! sets A to 127.0.0.1 when `myip` is missing, so an INWX provider serves A records only and must confirm
//! `ipv4_only = true` (the host has no AAAA record to keep). Selfhost needs one request per family, which is what
//! is sent. Nothing but the one hostname's address of the request's family is ever sent.

mod presets;

use std::net::IpAddr;
use std::sync::Arc;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

pub use presets::{
    ALLINKL, CHANGEIP, DDNSS, DNSOMATIC, DYN, DYNU, GENERIC, HE, INFOMANIAK, INWX, IPV64, LOOPIA,
    NOIP, SELFHOST, SPDYN, STRATO,
};

use super::{
    KindConfig, KindInfo, Provider, ProviderError, Setter, SetterProvider, UpdateOutcome,
    UpdateRequest, send,
};
use crate::config::check::FieldCheck;
use crate::config::{RecordType, Secret};
use crate::provider::{Capabilities, ErrorClass};

/// One service speaking dyndns2: everything that differs from the plain protocol.
#[derive(Debug)]
pub struct Preset {
    /// The kind's table entry (`kind = "..."`, fields, where the credential is made).
    pub info: KindInfo,
    /// The default update URL ("" for `kind = "dyndns2"`, which needs `server`).
    server: &'static str,
    /// The hostname parameter; `None` when the credentials name the host.
    host: Option<&'static str>,
    /// The IPv4 parameter.
    v4: &'static str,
    v6: V6,
    /// Pairs sent with an IPv6 update besides the address (Dynu's `myip=no`).
    v6_extra: &'static [(&'static str, &'static str)],
    credential: Credential,
    /// The service's own reply words, tried before the protocol's.
    words: &'static [Word],
    /// HTTP statuses with a meaning of their own, read before the body.
    statuses: &'static [(u16, Meaning)],
    /// The answer is an HTML page: tags are removed before reading it.
    html: bool,
}

/// How the service takes an IPv6 address.
#[derive(Debug, Clone, Copy)]
enum V6 {
    /// In this parameter.
    Param(&'static str),
    /// Not at all (or not safely): AAAA records are refused at load with this check's words.
    Refused(&'static str),
}

/// Where the credential goes.
#[derive(Debug, Clone, Copy)]
enum Credential {
    /// `Authorization: Basic <user>:<password>`; the user name when `username` is not given.
    Basic(User),
    /// The password (a key) in this query parameter; no user name.
    Query(&'static str),
}

/// The user name when the config gives none.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum User {
    /// None: `username` is required.
    Required,
    /// The record's name (per-host keys and tokens).
    RecordName,
    /// The record's last two labels (Strato: a domain of the package).
    Domain,
}

/// What a reply word or status means.
#[derive(Debug, Clone, Copy)]
enum Meaning {
    Updated,
    Unchanged,
    Auth(&'static str),
    Rejected(&'static str),
    /// Rate limited: wait the server's `Retry-After`, else this many seconds.
    Wait(u64, &'static str),
    Transient(&'static str),
}

/// Where a word is looked for.
#[derive(Debug, Clone, Copy)]
enum Match {
    /// The first word of the first non-empty line.
    First,
    /// Any whitespace-separated word.
    Word,
    /// Anywhere in the text (whitespace collapsed).
    Anywhere,
}

/// One reply word of a service, compared without regard to case.
#[derive(Debug, Clone, Copy)]
struct Word {
    text: &'static str,
    at: Match,
    meaning: Meaning,
}

impl Word {
    const fn first(text: &'static str, meaning: Meaning) -> Self {
        Self {
            text,
            at: Match::First,
            meaning,
        }
    }
    const fn any_word(text: &'static str, meaning: Meaning) -> Self {
        Self {
            text,
            at: Match::Word,
            meaning,
        }
    }
    const fn anywhere(text: &'static str, meaning: Meaning) -> Self {
        Self {
            text,
            at: Match::Anywhere,
            meaning,
        }
    }
}

impl Preset {
    fn of(kind: &str) -> &'static Self {
        presets::ALL
            .iter()
            .find(|p| p.info.kind == kind)
            .copied()
            .unwrap_or(&GENERIC)
    }

    /// The path a `server` without one gets.
    fn path(&self) -> String {
        reqwest::Url::parse(self.server)
            .map_or_else(|_| "/nic/update".to_owned(), |u| u.path().to_owned())
    }
}

/// `kind = "dyndns2"` and its presets (`noip`, `dynu`, `inwx`, … : [`presets`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Base URL of the update server; the preset's path (`/nic/update`) is added unless the URL has a path.
    #[serde(default, alias = "endpoint", skip_serializing_if = "Option::is_none")]
    pub server: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    pub password: Secret,
    /// INWX only: confirms that the `DynDNS` host has no AAAA record to keep (INWX deletes it on every IPv4-only
    /// update).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ipv4_only: Option<bool>,
}

impl KindConfig for Config {
    fn secrets_mut(&mut self) -> Vec<(String, &mut Secret)> {
        vec![("password".into(), &mut self.password)]
    }

    /// The preset is not known here: `server` is checked when given; the preset's own rules are checked by
    /// [`Config::validate_kind`].
    fn validate(&self, check: &mut FieldCheck<'_>) {
        if let Some(s) = &self.server {
            check.http_url("server", s);
        }
    }

    fn validate_kind(&self, kind: &str, check: &mut FieldCheck<'_>) {
        let preset = Preset::of(kind);
        if kind == "dyndns2" && self.server.is_none() {
            check.problem("server", "provider.dyndns2.check.missing", &[]);
        }
        match preset.credential {
            Credential::Basic(User::Required) if self.username.is_none() => {
                check.problem("username", "provider.dyndns2.check.missing_2", &[]);
            }
            Credential::Query(_) if self.username.is_some() => {
                check.problem("username", "provider.dyndns2.check.unused", &[]);
            }
            _ => {}
        }
        if kind == INWX.info.kind {
            if self.ipv4_only != Some(true) {
                check.problem("ipv4_only", "provider.inwx.check.ipv4_only", &[]);
            }
        } else if self.ipv4_only.is_some() {
            check.problem("ipv4_only", "provider.dyndns2.check.inwx_only", &[]);
        }
    }

    fn check_record_kind(
        &self,
        kind: &str,
        _name: &str,
        types: &[RecordType],
        check: &mut FieldCheck<'_>,
    ) {
        if let V6::Refused(key) = Preset::of(kind).v6
            && types.contains(&RecordType::Aaaa)
        {
            check.problem("type", key, &[]);
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
        let url = self.server.as_deref().map_or_else(
            || preset.server.to_owned(),
            |s| update_url(s, &preset.path()),
        );
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

struct Dyndns2 {
    name: String,
    preset: &'static Preset,
    client: reqwest::Client,
    url: String,
    username: Option<String>,
    password: Secret,
}

/// `https://host` -> `https://host<path>` (`/nic/update` for most presets); a URL with a path is used as it is.
fn update_url(server: &str, path: &str) -> String {
    match reqwest::Url::parse(server) {
        Ok(u) if u.path() == "/" || u.path().is_empty() => {
            format!("{}{path}", server.trim_end_matches('/'))
        }
        _ => server.to_owned(),
    }
}

impl Dyndns2 {
    fn label(&self) -> String {
        format!("{} `{}`", self.preset.info.kind, self.name)
    }
}

/// The error or outcome a [`Meaning`] stands for.
fn outcome(
    label: &str,
    meaning: Meaning,
    retry_after: Option<u64>,
) -> Result<UpdateOutcome, ProviderError> {
    match meaning {
        Meaning::Updated => Ok(UpdateOutcome::Updated { record_id: None }),
        Meaning::Unchanged => Ok(UpdateOutcome::Unchanged { record_id: None }),
        Meaning::Auth(m) => Err(ProviderError::auth(format!("{label}: {m}"))),
        Meaning::Rejected(m) => Err(ProviderError::rejected(format!("{label}: {m}"))),
        Meaning::Wait(secs, m) => Err(ProviderError::new(
            ErrorClass::RateLimited {
                retry_after: Some(retry_after.unwrap_or(0).max(secs)),
            },
            format!("{label}: {m}"),
        )),
        Meaning::Transient(m) => Err(ProviderError::transient(format!("{label}: {m}"))),
    }
}

/// Reads an answer for `preset`: its own words first, then the protocol's.
fn read(
    preset: &Preset,
    label: &str,
    body: &str,
    sent: IpAddr,
    retry_after: Option<u64>,
) -> Result<UpdateOutcome, ProviderError> {
    let text = if preset.html {
        crate::http::plain_text(body)
    } else {
        body.to_owned()
    };
    let first = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .and_then(|l| l.split_whitespace().next())
        .unwrap_or("");
    let flat = text
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase();
    let hit = preset.words.iter().find(|w| match w.at {
        Match::First => first.eq_ignore_ascii_case(w.text),
        Match::Word => text
            .split_whitespace()
            .any(|x| x.eq_ignore_ascii_case(w.text)),
        Match::Anywhere => flat.contains(w.text),
    });
    match hit {
        Some(w) => outcome(label, w.meaning, retry_after),
        None => interpret(label, &text, sent),
    }
}

/// Interprets the first line of a dyndns2 answer for the address `sent` (the protocol's own words).
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
        let preset = self.preset;
        let ip = request.addrs[0];
        let addr = ip.to_string();
        let mut query: Vec<(&str, &str)> = Vec::with_capacity(4);
        if let Some(host) = preset.host {
            query.push((host, request.name));
        }
        if ip.is_ipv4() {
            query.push((preset.v4, &addr));
        } else {
            let V6::Param(param) = preset.v6 else {
                // Refused at load; never send a one-family request the service would damage.
                return Err(ProviderError::rejected(format!(
                    "{label}: this service cannot take IPv6 addresses"
                )));
            };
            query.extend_from_slice(preset.v6_extra);
            query.push((param, &addr));
        }
        let mut http = self.client.get(&self.url);
        match preset.credential {
            Credential::Basic(user) => {
                let default = match user {
                    User::Domain => super::last_two_labels(request.name),
                    User::RecordName | User::Required => request.name.to_owned(),
                };
                let username = self.username.as_deref().unwrap_or(&default);
                http = http
                    .query(&query)
                    .basic_auth(username, Some(self.password.expose()));
            }
            Credential::Query(param) => {
                query.push((param, self.password.expose()));
                http = http.query(&query);
            }
        }
        let answer = send(&label, http, &[self.password.expose()]).await?;
        let status = answer.status;
        let retry_after = answer.retry_after.map(|d| d.as_secs());
        if status.is_redirection() {
            let to = answer
                .headers
                .get(reqwest::header::LOCATION)
                .and_then(|v| v.to_str().ok())
                .map(|v| answer.redact(v))
                .unwrap_or_default();
            let message = format!(
                "{label}: the server redirects the update (HTTP {status}) to `{to}`; set `server` to the new address"
            );
            return Err(if matches!(status.as_u16(), 301 | 308) {
                ProviderError::rejected(message)
            } else {
                ProviderError::transient(message)
            });
        }
        if let Some((_, meaning)) = preset.statuses.iter().find(|(s, _)| *s == status.as_u16()) {
            return outcome(&label, *meaning, retry_after);
        }
        if !status.is_success() {
            return match read(preset, &label, &answer.body, ip, retry_after) {
                Err(e) if e.class != ErrorClass::Transient => Err(e),
                _ if status == reqwest::StatusCode::UNAUTHORIZED
                    || status == reqwest::StatusCode::FORBIDDEN =>
                {
                    // Some servers answer badauth with 401 and the code in the body; both mean the same.
                    Err(ProviderError::auth(format!(
                        "{label}: credentials refused (HTTP {status}) {}",
                        answer.snippet()
                    )))
                }
                _ => Err(answer.status_error(&label, None)),
            };
        }
        read(preset, &label, &answer.body, ip, retry_after).map_err(|mut e| {
            e.message = answer.redact(&e.message);
            e
        })
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
            update_url("https://members.example.com", "/nic/update"),
            "https://members.example.com/nic/update"
        );
        assert_eq!(
            update_url("https://members.example.com/", "/nic/update"),
            "https://members.example.com/nic/update"
        );
        assert_eq!(
            update_url("https://x.example/v3/update", "/nic/update"),
            "https://x.example/v3/update"
        );
        assert_eq!(GENERIC.path(), "/nic/update");
        assert_eq!(DYN.path(), "/v3/update");
        assert_eq!(LOOPIA.path(), "/");
        assert_eq!(DDNSS.path(), "/upd.php");
        assert_eq!(
            update_url("http://127.0.0.1:8080", &LOOPIA.path()),
            "http://127.0.0.1:8080/"
        );
    }

    #[test]
    fn every_preset_is_found_by_its_kind_and_kinds_are_unique() {
        let mut kinds: Vec<&str> = presets::ALL.iter().map(|p| p.info.kind).collect();
        for kind in &kinds {
            assert_eq!(Preset::of(kind).info.kind, *kind);
        }
        kinds.sort_unstable();
        kinds.dedup();
        assert_eq!(kinds.len(), presets::ALL.len());
        for p in presets::ALL.iter().skip(1) {
            assert!(p.server.starts_with("https://"), "{}", p.info.kind);
            assert!(!p.info.credential_url.is_empty(), "{}", p.info.kind);
        }
    }

    #[test]
    fn preset_words_come_before_the_protocol_s() {
        let ip: IpAddr = "198.51.100.7".parse().unwrap();
        let class = |p: &Preset, body: &str| read(p, "t", body, ip, None).map_err(|e| e.class);
        let updated = Ok(UpdateOutcome::Updated { record_id: None });
        let unchanged = Ok(UpdateOutcome::Unchanged { record_id: None });
        assert_eq!(class(&LOOPIA, "911"), Err(ErrorClass::Rejected));
        assert_eq!(
            class(&NOIP, "911"),
            Err(ErrorClass::RateLimited {
                retry_after: Some(1800)
            })
        );
        assert_eq!(
            class(&STRATO, "abuse"),
            Err(ErrorClass::RateLimited {
                retry_after: Some(1800)
            })
        );
        assert_eq!(
            class(&INFOMANIAK, "successfully_changed 198.51.100.7"),
            updated
        );
        assert_eq!(class(&INFOMANIAK, "no_change 198.51.100.7"), unchanged);
        assert_eq!(class(&INFOMANIAK, "good 198.51.100.7"), updated);
        assert_eq!(class(&CHANGEIP, "200 Successful Update"), updated);
        assert_eq!(class(&CHANGEIP, "Unsuccessful"), Err(ErrorClass::Transient));
        assert_eq!(
            class(&DDNSS, "<html><b>Updated 1\nhostname.</b></html>"),
            updated
        );
        assert_eq!(class(&DDNSS, "<p>badauth</p>"), Err(ErrorClass::Auth));
        assert_eq!(class(&DDNSS, "<p>Error</p>"), Err(ErrorClass::Transient));
    }
}
