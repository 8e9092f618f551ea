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
            issues.push(crate::config::check::problem(
                format!("{path}.name"),
                "check.records.empty",
                &[],
            ));
        } else if out.iter().any(|o| o.name == l.name) {
            issues.push(crate::config::check::problem(
                format!("{path}.name"),
                "check.records.another_line_already_named",
                &[("name", &l.name)],
            ));
        }
        let bind = match (&l.interface, &l.source) {
            (Some(name), None) if let Some(problem) = interface_name_problem(name) => {
                issues.push(Issue::new(
                    format!("{path}.interface"),
                    problem,
                    crate::i18n::tr("check.records.give_interface_s_name.hint", &[]),
                ));
                None
            }
            (Some(name), None) if !name.trim().is_empty() => {
                Some(LineBind::Interface(name.trim().to_owned()))
            }
            (Some(_), None) => {
                issues.push(crate::config::check::problem(
                    format!("{path}.interface"),
                    "check.records.empty_2",
                    &[],
                ));
                None
            }
            (None, Some(ip)) => match ip.trim().parse::<IpAddr>() {
                Ok(ip)
                    if ip.is_unspecified()
                        || ip.is_multicast()
                        || matches!(ip, IpAddr::V4(v4) if v4.is_broadcast()) =>
                {
                    issues.push(crate::config::check::problem(
                        format!("{path}.source"),
                        "check.records.cannot_source_address",
                        &[("ip", &ip)],
                    ));
                    None
                }
                Ok(ip) => Some(LineBind::Source(ip)),
                Err(_) => {
                    issues.push(crate::config::check::problem(
                        format!("{path}.source"),
                        "check.records.ip_address",
                        &[("ip", &ip)],
                    ));
                    None
                }
            },
            (Some(_), Some(_)) => {
                issues.push(crate::config::check::problem(
                    path.clone(),
                    "check.records.has_both",
                    &[],
                ));
                None
            }
            (None, None) => {
                issues.push(crate::config::check::problem(
                    path.clone(),
                    "check.records.has_neither_nor",
                    &[],
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

/// A record's `hold_down`: between 1 s and 24 h, default 2 min.
fn hold_down(rec: &RecordFile, path: &str, issues: &mut Vec<Issue>) -> Duration {
    let hold_down = duration(
        rec.hold_down.as_deref(),
        &format!("{path}.hold_down"),
        DEFAULT_HOLD_DOWN,
        issues,
    );
    if hold_down < Duration::from_secs(1) || hold_down > Duration::from_hours(24) {
        issues.push(crate::config::check::problem(
            format!("{path}.hold_down"),
            "check.records.must_between_1s_24h",
            &[],
        ));
    }
    hold_down
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
                issues.push(crate::config::check::problem(
                    format!("{path}.{field}"),
                    "check.records.applies_only_record",
                    &[("field", &field)],
                ));
            }
        }
        return None;
    };
    if list.is_empty() {
        issues.push(crate::config::check::problem(
            format!("{path}.lines"),
            "check.records.empty_3",
            &[],
        ));
    }
    for (j, name) in list.iter().enumerate() {
        let problem = if list[..j].contains(name) {
            Some(crate::config::check::problem(
                format!("{path}.lines[{j}]"),
                "check.records.line_twice",
                &[("name", name)],
            ))
        } else if known_lines.contains(name) {
            None
        } else {
            let known: Vec<&str> = known_lines.iter().map(String::as_str).collect();
            Some(if known.is_empty() {
                crate::config::check::problem(
                    format!("{path}.lines[{j}]"),
                    "check.records.no_line_none",
                    &[("name", name)],
                )
            } else {
                crate::config::check::problem(
                    format!("{path}.lines[{j}]"),
                    "check.records.no_line",
                    &[("name", name), ("known", &known.join(", "))],
                )
            })
        };
        issues.extend(problem);
    }

    let all = match rec.mode.as_deref().map(str::trim) {
        None | Some("failover") => false,
        Some("all") => true,
        Some(other) => {
            issues.push(crate::config::check::problem(
                format!("{path}.mode"),
                "check.records.unknown_mode",
                &[("other", &other)],
            ));
            false
        }
    };
    if all
        && let Some(p) = provider
        && !p.kind.capabilities().multi_value
    {
        issues.push(crate::config::check::problem(
            format!("{path}.mode"),
            "check.records.cannot_hold_several_addresses",
            &[("title", &p.kind.info().title())],
        ));
    }
    let hold_down = hold_down(rec, path, issues);
    if rec.provider_via_line == Some(true)
        && let Some(p) = provider
        && p.kind.kind_name() == "rfc2136"
    {
        issues.push(crate::config::check::problem(
            format!("{path}.provider_via_line"),
            "check.records.does_apply_rfc_2136",
            &[],
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
        let name = record_name(rec, &path, issues);
        let provider = providers.iter().find(|p| p.name == rec.provider);
        if provider.is_none() && !unreadable.contains(&rec.provider.as_str()) {
            let hint = if names.is_empty() {
                crate::i18n::tr("check.records.no_provider_named.hint_none", &[])
            } else {
                crate::i18n::tr(
                    "check.records.no_provider_named.hint",
                    &[("names", &names.join(", "))],
                )
            };
            issues.push(Issue::new(
                format!("{path}.provider"),
                crate::i18n::tr(
                    "check.records.no_provider_named.msg",
                    &[("provider", &rec.provider)],
                ),
                hint,
            ));
        }
        let types = record_types(rec.record_type.as_deref(), ipv4, ipv6, &path, issues);
        if rec.ttl == Some(0) || rec.ttl.is_some_and(|t| t > 2_147_483_647) {
            issues.push(crate::config::check::problem(
                format!("{path}.ttl"),
                "check.records.must_between_1_2147483647",
                &[],
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
                issues.push(crate::config::check::problem(
                    format!("{path}.name"),
                    "check.records.duplicate_record",
                    &[
                        ("first", &first),
                        ("name", &name),
                        ("record_type", &record_type),
                        ("provider", &rec.provider),
                    ],
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

/// A record's name, normalised: a fully qualified DNS name (problems to `issues`).
fn record_name(rec: &RecordFile, path: &str, issues: &mut Vec<Issue>) -> Option<String> {
    match normalize_domain(&rec.name) {
        Ok(n) if n.contains('.') => Some(n),
        Ok(_) => {
            issues.push(crate::config::check::problem(
                format!("{path}.name"),
                "check.records.fully_qualified_name",
                &[("name", &rec.name)],
            ));
            None
        }
        Err(e) => {
            issues.push(Issue::new(
                format!("{path}.name"),
                e,
                crate::i18n::tr("check.records.write_whole_name_home.hint", &[]),
            ));
            None
        }
    }
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
            issues.push(crate::config::check::problem(
                format!("{path}.ipv6_prefix_len"),
                "check.records.only_used",
                &[],
            ));
        }
        return None;
    };
    if types != [RecordType::Aaaa] {
        issues.push(crate::config::check::problem(
            format!("{path}.ipv6_host"),
            "check.records.aaaa_records_ipv4_address",
            &[],
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
                    crate::i18n::tr("check.records.ipv6_host_hint", &[]),
                )
            } else {
                (
                    "ipv6_prefix_len",
                    crate::i18n::tr("check.records.ipv6_prefix_hint", &[]),
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
        issues.push(crate::config::check::problem(
            format!("{path}.line"),
            "check.records.has_no_resolution_lines",
            &[("title", &kind.title())],
        ));
    }
    FieldCheck::new(path, issues).line("line", rec.line.as_deref());
    if let Some(ttl) = rec.ttl
        && ttl > 0
        && !caps.ttl.allows(ttl)
    {
        let auto = caps.ttl.auto.map_or_else(String::new, |a| {
            crate::i18n::tr("check.records.ttl_auto", &[("auto", &a)])
        });
        issues.push(crate::config::check::problem(
            format!("{path}.ttl"),
            "check.records.accepts_ttls_from_seconds",
            &[
                ("title", &kind.title()),
                ("min", &caps.ttl.min),
                ("max", &caps.ttl.max),
                ("auto", &auto),
                ("ttl", &ttl),
            ],
        ));
    }
    let Some(name) = name else { return };
    if let Some((zone, field)) = provider.kind.zone()
        && let Ok(z) = normalize_domain(zone)
        && !(name == z || name.ends_with(&format!(".{z}")))
    {
        issues.push(crate::config::check::problem(
            format!("{path}.name"),
            "check.records.inside_zone_provider",
            &[
                ("name", &name),
                ("z", &z),
                ("provider", &provider.name),
                ("field", &field),
            ],
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
            issues.push(crate::config::check::problem(
                format!("{path}.type"),
                "check.records.but_ipv4_false",
                &[],
            ));
            vec![]
        }
        Some("AAAA") if !ipv6 => {
            issues.push(crate::config::check::problem(
                format!("{path}.type"),
                "check.records.aaaa_but_ipv6_false",
                &[],
            ));
            vec![]
        }
        Some("A") => vec![RecordType::A],
        Some("AAAA") => vec![RecordType::Aaaa],
        Some(_) => {
            issues.push(crate::config::check::problem(
                format!("{path}.type"),
                "check.records.unsupported_type",
                &[("type", &requested.unwrap_or_default())],
            ));
            vec![]
        }
    }
}
