//! The `[detect]` section as the detector runs it: the policy, each family's sources with their own
//! fields (the source kinds), timeouts, who runs each source, and the checks of all of it.

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::config::check::{FieldCheck, duration, interface_name_problem, normalize_domain};
use crate::config::file::{ConfigFile, KindTable, SourceEntry};
use crate::config::kinds::{KindInfo, opt, req};
use crate::config::secret::Lookup;
use crate::config::{Family, Issue, Proxy};

/// The kinds of IP sources and their own fields.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum SourceKind {
    /// A URL answering with the IP as text (or text containing exactly one IP).
    Http { url: String },
    /// Cloudflare's `/cdn-cgi/trace` (`ip=` line). `url` overrides the endpoint.
    CloudflareTrace {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        url: Option<String>,
    },
    /// Ask a DNS server directly (`myip.opendns.com` A, `o-o.myaddr.l.google.com` TXT, ...).
    Dns {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        server: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        name: Option<String>,
        #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
        record_type: Option<String>,
    },
    /// An address of a local interface (`name`), or of the one holding the default route.
    Interface {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        name: Option<String>,
    },
    /// Run a program (argv, no shell) and parse its output.
    Command { command: Vec<String> },
    /// Ask the LAN's gateway for its external address: NAT-PMP, then `UPnP` IGD (`protocol` = "auto",
    /// "natpmp" or "upnp"); `gateway` skips the default-route lookup.
    Router {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        protocol: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        gateway: Option<String>,
    },
}

/// How detection combines its sources.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Policy {
    /// The first valid answer, asking the sources in order.
    #[default]
    First,
    /// At least two sources, asked concurrently, must agree.
    Agree,
    /// The first valid answer, as `first`; an answer that differs from the last known address is written
    /// only when a source of another operator gives the same one.
    Confirm,
}

impl fmt::Display for Policy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::First => "first",
            Self::Agree => "agree",
            Self::Confirm => "confirm",
        })
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct DetectSettings {
    pub policy: Policy,
    pub ipv4: Vec<SourceSettings>,
    pub ipv6: Vec<SourceSettings>,
    /// `cdn_ranges`: networks whose addresses are a CDN's own (`None`: the built-in Cloudflare list).
    pub cdn_ranges: Option<Vec<(std::net::IpAddr, u8)>>,
    /// `behind_nat`: what to do when a router source says DDNS cannot reach this host.
    pub behind_nat: BehindNat,
}

/// `[detect] behind_nat`: what the engine does when a `router` source shows that this host cannot be reached
/// from the internet at the address published (carrier-grade NAT, or another NAT in front of the router;
/// see [`super::reach`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BehindNat {
    /// Publish, and say so once: the tray's icon and a toast, the status, `/health` and an alert.
    #[default]
    Warn,
    /// Publish and say nothing: the user publishes the address on purpose (outbound identification, an
    /// allow-list entry). The router is not asked beyond the sources' own checks.
    Publish,
    /// Write nothing while it is so (records of IPv4 addresses wait; the status says why).
    Hold,
}

impl DetectSettings {
    #[must_use]
    pub fn sources(&self, family: Family) -> &[SourceSettings] {
        match family {
            Family::V4 => &self.ipv4,
            Family::V6 => &self.ipv6,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct SourceSettings {
    pub kind: SourceKind,
    pub timeout: Duration,
    pub allow_private: bool,
    pub allow_cdn: bool,
    /// Who runs it, when the config says (else derived from its host by the detector).
    pub operator: Option<String>,
    /// Through this proxy (`allow_proxy = true` was given); else direct, always.
    pub proxy: Option<Proxy>,
}

pub const DEFAULT_SOURCE_TIMEOUT: Duration = Duration::from_secs(5);

const MAX_SOURCE_TIMEOUT: Duration = Duration::from_mins(1);

/// A source's `proxy`: only for http and cloudflare-trace sources, and only with `allow_proxy = true` (the
/// echo then sees the proxy's address: right only when that is the address to publish).
fn source_proxy(
    entry: &SourceEntry,
    kind: &SourceKind,
    path: &str,
    lookup: &dyn Lookup,
    issues: &mut Vec<Issue>,
) -> Option<Proxy> {
    let raw = entry.proxy.as_ref()?;
    let field = format!("{path}.proxy");
    if !matches!(
        kind,
        SourceKind::Http { .. } | SourceKind::CloudflareTrace { .. }
    ) {
        issues.push(crate::config::check::problem(
            field,
            "check.detect.only_http_cloudflare_trace",
            &[],
        ));
        return None;
    }
    if entry.allow_proxy != Some(true) {
        issues.push(crate::config::check::problem(
            field,
            "check.detect.detection_source_asked_through",
            &[],
        ));
        return None;
    }
    match crate::config::check::proxy(Some(raw), &field, lookup, issues)? {
        Proxy::Direct => None,
        via @ Proxy::Via { .. } => Some(via),
    }
}

/// The sources used when `[detect]` does not list any for a family.
///
/// Three operators that share no infrastructure, by hostname: Cisco OpenDNS over plain DNS (one UDP
/// query, no HTTP stack: the cheapest unchanged check), ipify over HTTPS, and Cloudflare's trace. Under
/// the default policy `confirm` an unchanged address costs the first one question; a change is written
/// once a second operator gives the same address.
#[must_use]
pub fn default_sources(family: Family) -> Vec<SourceSettings> {
    let (ipify, dns_type) = match family {
        Family::V4 => ("https://api.ipify.org", "A"),
        Family::V6 => ("https://api6.ipify.org", "AAAA"),
    };
    let source = |kind| SourceSettings {
        kind,
        timeout: DEFAULT_SOURCE_TIMEOUT,
        proxy: None,
        allow_private: false,
        allow_cdn: false,
        operator: None,
    };
    vec![
        source(SourceKind::Dns {
            server: Some("resolver1.opendns.com:53".into()),
            name: Some("myip.opendns.com".into()),
            record_type: Some(dns_type.into()),
        }),
        source(SourceKind::Http { url: ipify.into() }),
        source(SourceKind::CloudflareTrace { url: None }),
    ]
}

/// `[detect]` as written (or the defaults), checked: every problem is added to `issues`.
pub fn parse(file: &ConfigFile, lookup: &dyn Lookup, issues: &mut Vec<Issue>) -> DetectSettings {
    let raw = file.detect.clone().unwrap_or_default();
    let policy = match raw.policy.as_deref() {
        None | Some("confirm") => Policy::Confirm,
        Some("first") => Policy::First,
        Some("agree") => Policy::Agree,
        Some(other) => {
            issues.push(crate::config::check::problem(
                "detect.policy",
                "check.detect.unknown_policy",
                &[("other", &other)],
            ));
            Policy::First
        }
    };
    let mut family_sources = |family: Family,
                              list: Option<&Vec<SourceEntry>>|
     -> Vec<SourceSettings> {
        let key = if family == Family::V4 { "ipv4" } else { "ipv6" };
        let Some(list) = list else {
            return default_sources(family);
        };
        if list.is_empty() {
            issues.push(crate::config::check::problem(
                format!("detect.{key}"),
                "check.detect.empty",
                &[("key", &key)],
            ));
        }
        let out: Vec<_> = list
            .iter()
            .enumerate()
            .filter_map(|(i, s)| source(s, family, &format!("detect.{key}[{i}]"), lookup, issues))
            .collect();
        if policy == Policy::Agree && out.len() < 2 {
            issues.push(crate::config::check::problem(
                format!("detect.{key}"),
                "check.detect.policy_agree_needs_least",
                &[],
            ));
        }
        out
    };
    let ipv4 = family_sources(Family::V4, raw.ipv4.as_ref());
    let ipv6 = family_sources(Family::V6, raw.ipv6.as_ref());
    let cdn_ranges = raw.cdn_ranges.as_ref().map(|list| {
        list.iter()
            .enumerate()
            .filter_map(|(i, n)| {
                crate::config::parse_network(n)
                    .map_err(|e| {
                        issues.push(Issue::new(
                            format!("detect.cdn_ranges[{i}]"),
                            e,
                            crate::i18n::tr("check.detect.give_networks_like_104.hint", &[]),
                        ));
                    })
                    .ok()
            })
            .collect()
    });
    let behind_nat = match raw.behind_nat.as_deref() {
        None | Some("warn") => BehindNat::Warn,
        Some("publish") => BehindNat::Publish,
        Some("hold") => BehindNat::Hold,
        Some(other) => {
            issues.push(crate::config::check::problem(
                "detect.behind_nat",
                "check.detect.unknown_behind_nat",
                &[("other", &other)],
            ));
            BehindNat::Warn
        }
    };
    DetectSettings {
        policy,
        ipv4,
        ipv6,
        cdn_ranges,
        behind_nat,
    }
}

/// The source kinds and their fields (their words are in the catalogues under `source.<kind>`).
pub const KINDS: &[KindInfo] = &[
    KindInfo::source("http", &[req("url")]),
    KindInfo::source("cloudflare-trace", &[opt("url")]),
    KindInfo::source("dns", &[opt("server"), opt("name"), opt("type")]),
    KindInfo::source("interface", &[opt("name")]),
    KindInfo::source("command", &[req("command")]),
    KindInfo::source("router", &[opt("protocol"), opt("gateway")]),
];

/// The source kinds' names, as `kind = "..."` takes them.
#[must_use]
pub fn kind_names() -> Vec<&'static str> {
    KINDS.iter().map(|k| k.kind).collect()
}

fn source(
    entry: &SourceEntry,
    family: Family,
    path: &str,
    lookup: &dyn Lookup,
    issues: &mut Vec<Issue>,
) -> Option<SourceSettings> {
    let kind: SourceKind =
        crate::config::check::kind_of(entry.kind_table(), path, &kind_names(), &[], issues)?;
    let timeout = duration(
        entry.timeout.as_deref(),
        &format!("{path}.timeout"),
        DEFAULT_SOURCE_TIMEOUT,
        issues,
    );
    if timeout.is_zero() || timeout > MAX_SOURCE_TIMEOUT {
        issues.push(crate::config::check::problem(
            format!("{path}.timeout"),
            "check.detect.must_between_1ms_60s",
            &[],
        ));
    }
    check_kind(&kind, family, path, issues);
    let proxy = source_proxy(entry, &kind, path, lookup, issues);
    Some(SourceSettings {
        kind,
        timeout,
        proxy,
        allow_private: entry.allow_private.unwrap_or(false),
        allow_cdn: entry.allow_cdn.unwrap_or(false),
        operator: entry
            .operator
            .as_deref()
            .map(str::trim)
            .filter(|o| !o.is_empty())
            .map(str::to_owned),
    })
}

/// A source kind's own fields.
fn check_kind(kind: &SourceKind, family: Family, path: &str, issues: &mut Vec<Issue>) {
    match &kind {
        SourceKind::Http { url } => http_url(url, &format!("{path}.url"), issues),
        SourceKind::CloudflareTrace { url } => {
            if let Some(url) = url {
                http_url(url, &format!("{path}.url"), issues);
            }
        }
        SourceKind::Dns {
            server,
            name,
            record_type,
        } => {
            if let Some(server) = server {
                host_port(server, &format!("{path}.server"), issues);
            }
            if let Some(name) = name
                && let Err(e) = normalize_domain(name)
            {
                issues.push(Issue::new(
                    format!("{path}.name"),
                    e,
                    crate::i18n::tr("check.detect.use_dns_name_such.hint", &[]),
                ));
            }
            let allowed: &[&str] = if family == Family::V4 {
                &["A", "TXT"]
            } else {
                &["AAAA", "TXT"]
            };
            if let Some(t) = record_type
                && !allowed.contains(&t.as_str())
            {
                issues.push(crate::config::check::problem(
                    format!("{path}.type"),
                    "check.detect.cannot_answer_question",
                    &[
                        ("t", &t),
                        ("family", &family),
                        ("join", &allowed.join(", ")),
                    ],
                ));
            }
        }
        SourceKind::Interface { name } => {
            if name.as_deref().is_some_and(|n| n.trim().is_empty()) {
                issues.push(crate::config::check::problem(
                    format!("{path}.name"),
                    "check.detect.empty_2",
                    &[],
                ));
            } else if let Some(problem) = name.as_deref().and_then(interface_name_problem) {
                issues.push(Issue::new(
                    format!("{path}.name"),
                    problem,
                    crate::i18n::tr("check.detect.give_interface_s_name.hint", &[]),
                ));
            }
        }
        SourceKind::Command { command } => {
            if command.first().is_none_or(|p| p.trim().is_empty()) {
                issues.push(crate::config::check::problem(
                    format!("{path}.command"),
                    "check.detect.empty_3",
                    &[],
                ));
            }
        }
        SourceKind::Router { protocol, gateway } => {
            router_source(
                protocol.as_deref(),
                gateway.as_deref(),
                family,
                path,
                issues,
            );
        }
    }
}

/// A `router` source's own fields: IPv4 only, a known protocol, a gateway that is an IPv4 address.
fn router_source(
    protocol: Option<&str>,
    gateway: Option<&str>,
    family: Family,
    path: &str,
    issues: &mut Vec<Issue>,
) {
    if family == Family::V6 {
        issues.push(crate::config::check::problem(
            format!("{path}.kind"),
            "check.detect.router_tells_only_ipv4",
            &[],
        ));
    }
    if let Some(p) = protocol
        && !["auto", "natpmp", "upnp"].contains(&p)
    {
        issues.push(crate::config::check::problem(
            format!("{path}.protocol"),
            "check.detect.unknown_protocol",
            &[("p", &p)],
        ));
    }
    if let Some(g) = gateway
        && g.trim().parse::<std::net::Ipv4Addr>().is_err()
    {
        issues.push(crate::config::check::problem(
            format!("{path}.gateway"),
            "check.detect.ipv4_address",
            &[("g", &g)],
        ));
    }
}

fn http_url(url: &str, path: &str, issues: &mut Vec<Issue>) {
    FieldCheck::new(path, issues).http_url("", url);
}

fn host_port(server: &str, path: &str, issues: &mut Vec<Issue>) {
    FieldCheck::new(path, issues).host_port("", server);
}
