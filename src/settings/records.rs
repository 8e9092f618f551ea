//! The checks of `[[line]]` and `[[record]]`: names, types, TTLs, the providers records name and what
//! those providers allow, lines and how records use them.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::time::Duration;

use super::{RecordSettings, Via};
use crate::config::check::{FieldCheck, duration, interface_name_problem, normalize_domain};
use crate::config::file::{ConfigFile, RecordFile};
use crate::config::{Ipv6Host, Issue, LineBind, LineSettings, RecordType};
use crate::provider::ProviderSettings;

/// The default `hold_down` of a record with `lines`.
pub const DEFAULT_HOLD_DOWN: Duration = Duration::from_mins(2);

pub(super) fn lines(file: &ConfigFile, issues: &mut Vec<Issue>) -> Vec<LineSettings> {
    let mut out: Vec<LineSettings> = Vec::new();
    for (i, l) in file.lines.iter().enumerate() {
        let path = format!("line[{i}]");
        if l.name.trim().is_empty() {
            issues.push(Issue::new(
                format!("{path}.name"),
                "is empty",
                "give the line a name, e.g. \"wan1\"; records list it in `lines`",
            ));
        } else if out.iter().any(|o| o.name == l.name) {
            issues.push(Issue::new(
                format!("{path}.name"),
                format!("another line is already named `{}`", l.name),
                "give each line its own name",
            ));
        }
        let bind = match (&l.interface, &l.source) {
            (Some(name), None) if let Some(problem) = interface_name_problem(name) => {
                issues.push(Issue::new(
                    format!("{path}.interface"),
                    problem,
                    "give the interface's name as `ip link` (or `ipconfig`) shows it, e.g. \"eth1\"",
                ));
                None
            }
            (Some(name), None) if !name.trim().is_empty() => {
                Some(LineBind::Interface(name.trim().to_owned()))
            }
            (Some(_), None) => {
                issues.push(Issue::new(
                    format!("{path}.interface"),
                    "is empty",
                    "give the interface's name, e.g. \"eth1\"",
                ));
                None
            }
            (None, Some(ip)) => match ip.trim().parse::<IpAddr>() {
                Ok(ip)
                    if ip.is_unspecified()
                        || ip.is_multicast()
                        || matches!(ip, IpAddr::V4(v4) if v4.is_broadcast()) =>
                {
                    issues.push(Issue::new(
                        format!("{path}.source"),
                        format!("{ip} cannot be a source address"),
                        "give an address of this machine on that uplink",
                    ));
                    None
                }
                Ok(ip) => Some(LineBind::Source(ip)),
                Err(_) => {
                    issues.push(Issue::new(
                        format!("{path}.source"),
                        format!("`{ip}` is not an IP address"),
                        "give an address of this machine on that uplink, e.g. \"192.0.2.10\"",
                    ));
                    None
                }
            },
            (Some(_), Some(_)) => {
                issues.push(Issue::new(
                    path.clone(),
                    "has both `interface` and `source`",
                    "keep one: the interface, or the local address to send from",
                ));
                None
            }
            (None, None) => {
                issues.push(Issue::new(
                    path.clone(),
                    "has neither `interface` nor `source`",
                    "add interface = \"eth1\" (or source = \"192.0.2.10\")",
                ));
                None
            }
        };
        if let Some(bind) = bind {
            out.push(LineSettings {
                name: l.name.clone(),
                bind,
            });
        }
    }
    out
}

/// A record's `lines`, `mode` and `hold_down`.
fn via(
    rec: &RecordFile,
    known_lines: &[String],
    provider: Option<&ProviderSettings>,
    path: &str,
    issues: &mut Vec<Issue>,
) -> Option<Via> {
    let Some(list) = &rec.lines else {
        for (field, set) in [
            ("mode", rec.mode.is_some()),
            ("hold_down", rec.hold_down.is_some()),
            ("provider_via_line", rec.provider_via_line == Some(true)),
        ] {
            if set {
                issues.push(Issue::new(
                    format!("{path}.{field}"),
                    "applies only to a record with `lines`",
                    format!("add lines = [...], or remove `{field}`"),
                ));
            }
        }
        return None;
    };
    if list.is_empty() {
        issues.push(Issue::new(
            format!("{path}.lines"),
            "is empty",
            "list the [[line]] names in order of preference, or remove `lines`",
        ));
    }
    for (j, name) in list.iter().enumerate() {
        let problem = if list[..j].contains(name) {
            Some((
                format!("`{name}` is listed twice"),
                "list each line once".to_owned(),
            ))
        } else if known_lines.contains(name) {
            None
        } else {
            let known: Vec<&str> = known_lines.iter().map(String::as_str).collect();
            Some((
                format!("no [[line]] is named `{name}`"),
                if known.is_empty() {
                    "add a [[line]] section with this name".to_owned()
                } else {
                    format!("use one of: {}", known.join(", "))
                },
            ))
        };
        if let Some((message, hint)) = problem {
            issues.push(Issue::new(format!("{path}.lines[{j}]"), message, hint));
        }
    }

    let all = match rec.mode.as_deref().map(str::trim) {
        None | Some("failover") => false,
        Some("all") => true,
        Some(other) => {
            issues.push(Issue::new(format!("{path}.mode"), format!("unknown mode `{other}`"), "use \"failover\" (the first working line) or \"all\" (every working line's address)"));
            false
        }
    };
    if all
        && let Some(p) = provider
        && !p.kind.capabilities().multi_value
    {
        issues.push(Issue::new(
            format!("{path}.mode"),
            format!("{} cannot hold several addresses for one name", p.kind.info().title()),
            "use mode = \"failover\", or a provider that holds address sets (PowerDNS, RFC 2136, Cloudflare, deSEC, Gandi, ...)",
        ));
    }
    let hold_down = duration(
        rec.hold_down.as_deref(),
        &format!("{path}.hold_down"),
        DEFAULT_HOLD_DOWN,
        issues,
    );
    if hold_down < Duration::from_secs(1) || hold_down > Duration::from_hours(24) {
        issues.push(Issue::new(
            format!("{path}.hold_down"),
            "must be between 1s and 24h",
            "the default is \"2m\"",
        ));
    }
    if rec.provider_via_line == Some(true)
        && let Some(p) = provider
        && p.kind.kind_name() == "rfc2136"
    {
        issues.push(Issue::new(
            format!("{path}.provider_via_line"),
            "does not apply to RFC 2136 (its updates are DNS messages to your own server)",
            "remove it; route the DNS server's address through the line instead",
        ));
    }
    Some(Via {
        lines: list.clone(),
        all,
        hold_down,
        provider_via_line: rec.provider_via_line.unwrap_or(false),
    })
}

pub(super) fn records(
    file: &ConfigFile,
    ipv4: bool,
    ipv6: bool,
    providers: &[ProviderSettings],
    unreadable: &[&str],
    issues: &mut Vec<Issue>,
) -> Vec<RecordSettings> {
    let mut out = Vec::new();
    let mut seen: BTreeMap<(String, RecordType, String, Option<String>), usize> = BTreeMap::new();
    // Lines with a problem of their own are reported there, not again at every record naming them.
    let known_lines: Vec<String> = file.lines.iter().map(|l| l.name.clone()).collect();
    let names: Vec<&str> = providers.iter().map(|p| p.name.as_str()).collect();
    for (i, rec) in file.records.iter().enumerate() {
        let path = format!("record[{i}]");
        let name = match normalize_domain(&rec.name) {
            Ok(n) if n.contains('.') => Some(n),
            Ok(_) => {
                issues.push(Issue::new(
                    format!("{path}.name"),
                    format!("`{}` is not a fully qualified name", rec.name),
                    "write the whole name, e.g. \"home.example.com\"",
                ));
                None
            }
            Err(e) => {
                issues.push(Issue::new(
                    format!("{path}.name"),
                    e,
                    "write the whole name, e.g. \"home.example.com\"",
                ));
                None
            }
        };
        let provider = providers.iter().find(|p| p.name == rec.provider);
        if provider.is_none() && !unreadable.contains(&rec.provider.as_str()) {
            let hint = if names.is_empty() {
                "add a [[provider]] section first".to_owned()
            } else {
                format!("use one of the provider names: {}", names.join(", "))
            };
            issues.push(Issue::new(
                format!("{path}.provider"),
                format!("no provider is named `{}`", rec.provider),
                hint,
            ));
        }
        let types = record_types(rec.record_type.as_deref(), ipv4, ipv6, &path, issues);
        if rec.ttl == Some(0) || rec.ttl.is_some_and(|t| t > 2_147_483_647) {
            issues.push(Issue::new(
                format!("{path}.ttl"),
                "must be between 1 and 2147483647 seconds",
                "use e.g. 60, or leave it out for the provider's default",
            ));
        }
        let line = rec
            .line
            .clone()
            .or_else(|| provider.and_then(|p| p.kind.line().map(str::to_owned)));
        if let Some(p) = provider {
            provider_limits(p, rec, name.as_deref(), &types, &path, issues);
        }
        let ipv6_host = ipv6_host(rec, &types, &path, issues);
        let via = via(rec, &known_lines, provider, &path, issues);
        let Some(name) = name else { continue };
        for record_type in types {
            let key = (
                name.clone(),
                record_type,
                rec.provider.clone(),
                line.clone(),
            );
            if let Some(first) = seen.get(&key) {
                issues.push(Issue::new(
                    format!("{path}.name"),
                    format!(
                        "duplicate of record[{first}] ({name} {record_type} at `{}`)",
                        rec.provider
                    ),
                    "remove one of them",
                ));
                continue;
            }
            seen.insert(key, i);
            out.push(RecordSettings {
                name: name.clone(),
                record_type,
                provider: rec.provider.clone(),
                ttl: rec.ttl,
                line: line.clone(),
                ipv6_host: ipv6_host.filter(|_| record_type == RecordType::Aaaa),
                via: via.clone(),
            });
        }
    }
    out
}

/// The record's `ipv6_host` and `ipv6_prefix_len`: only for AAAA records.
fn ipv6_host(
    rec: &RecordFile,
    types: &[RecordType],
    path: &str,
    issues: &mut Vec<Issue>,
) -> Option<Ipv6Host> {
    let Some(text) = &rec.ipv6_host else {
        if rec.ipv6_prefix_len.is_some() {
            issues.push(Issue::new(
                format!("{path}.ipv6_prefix_len"),
                "is only used with `ipv6_host`",
                "add ipv6_host = \"::1234\" (the LAN host's interface id) or remove ipv6_prefix_len",
            ));
        }
        return None;
    };
    if types != [RecordType::Aaaa] {
        issues.push(Issue::new(
            format!("{path}.ipv6_host"),
            "is for AAAA records: the IPv4 address cannot be made from a prefix",
            "add type = \"AAAA\" to this record (and a second record for the A address if you want one)",
        ));
        return None;
    }
    let prefix_len = rec.ipv6_prefix_len.unwrap_or(Ipv6Host::DEFAULT_PREFIX_LEN);
    match Ipv6Host::parse(text, prefix_len) {
        Ok(h) => Some(h),
        Err(e) => {
            let (field, hint) = if (1..=127).contains(&prefix_len) {
                (
                    "ipv6_host",
                    "give the host's interface id, e.g. ipv6_host = \"::1234\", or its MAC address",
                )
            } else {
                (
                    "ipv6_prefix_len",
                    "use the length of the prefix your ISP delegates, usually 64 (the default) or 56",
                )
            };
            issues.push(Issue::new(format!("{path}.{field}"), e, hint));
            None
        }
    }
}

/// What the record's provider allows: lines only where it has them, TTLs in its range, names inside its
/// pinned zone, and its own limits (`DuckDNS` names, Namecheap A only).
fn provider_limits(
    provider: &ProviderSettings,
    rec: &RecordFile,
    name: Option<&str>,
    types: &[RecordType],
    path: &str,
    issues: &mut Vec<Issue>,
) {
    let caps = provider.kind.capabilities();
    let kind = provider.kind.info();
    if rec.line.is_some() && caps.default_line.is_none() {
        issues.push(Issue::new(
            format!("{path}.line"),
            format!("{} has no resolution lines", kind.title()),
            "remove `line`; only DNSPod, Alibaba Cloud DNS and Huawei Cloud have lines",
        ));
    }
    FieldCheck::new(path, issues).line("line", rec.line.as_deref());
    if let Some(ttl) = rec.ttl
        && ttl > 0
        && !caps.ttl.allows(ttl)
    {
        let auto = caps
            .ttl
            .auto
            .map_or_else(String::new, |a| format!(", or {a} for automatic"));
        issues.push(Issue::new(
            format!("{path}.ttl"),
            format!(
                "{} accepts TTLs from {} to {} seconds{auto}, not {ttl}",
                kind.title(),
                caps.ttl.min,
                caps.ttl.max
            ),
            format!(
                "use at least {} (or leave ttl out for the provider's default)",
                caps.ttl.min
            ),
        ));
    }
    let Some(name) = name else { return };
    if let Some((zone, field)) = provider.kind.zone()
        && let Ok(z) = normalize_domain(zone)
        && !(name == z || name.ends_with(&format!(".{z}")))
    {
        issues.push(Issue::new(
            format!("{path}.name"),
            format!(
                "`{name}` is not inside zone {z} of provider `{}`",
                provider.name
            ),
            format!("use a name ending in .{z}, or fix the provider's {field}"),
        ));
    }
    provider
        .kind
        .check_record(name, types, &mut FieldCheck::new(path, issues));
}

/// The record types a `[[record]]` expands to: its `type`, or one per enabled family.
fn record_types(
    requested: Option<&str>,
    ipv4: bool,
    ipv6: bool,
    path: &str,
    issues: &mut Vec<Issue>,
) -> Vec<RecordType> {
    match requested.map(str::to_ascii_uppercase).as_deref() {
        None => [(ipv4, RecordType::A), (ipv6, RecordType::Aaaa)]
            .into_iter()
            .filter(|(on, _)| *on)
            .map(|(_, t)| t)
            .collect(),
        Some("A") if !ipv4 => {
            issues.push(Issue::new(
                format!("{path}.type"),
                "is A but ipv4 = false",
                "set ipv4 = true, or remove this record",
            ));
            vec![]
        }
        Some("AAAA") if !ipv6 => {
            issues.push(Issue::new(
                format!("{path}.type"),
                "is AAAA but ipv6 = false",
                "set ipv6 = true, or remove this record",
            ));
            vec![]
        }
        Some("A") => vec![RecordType::A],
        Some("AAAA") => vec![RecordType::Aaaa],
        Some(_) => {
            issues.push(Issue::new(
                format!("{path}.type"),
                format!("unsupported type `{}`", requested.unwrap_or_default()),
                "use \"A\" or \"AAAA\", or leave it out for one record per enabled family",
            ));
            vec![]
        }
    }
}
