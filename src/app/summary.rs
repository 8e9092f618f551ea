//! The settings in words: the start-up summary (logged, and printed by `check`) and the provider kinds with
//! their fields (`check --providers`). Secrets are masked; URLs that may carry tokens show only their origin.

use std::fmt::Write as _;

use crate::config;
use crate::detect::SourceKind;
use crate::i18n::tr;
use crate::provider::{self, ProviderKind};
use crate::settings::Settings;

/// A human summary of the settings, secrets masked (logged at start-up and printed by `check`).
#[must_use]
pub fn summary(settings: &Settings) -> String {
    let mut out = String::new();
    let max = settings.max_interval.map_or_else(
        || tr("summary.never", &[]),
        |d| humantime::format_duration(d).to_string(),
    );
    let interval = humantime::format_duration(settings.interval);
    line(
        &mut out,
        "summary.schedule",
        &[("interval", &interval), ("max", &max)],
    );
    for family in config::Family::ALL
        .into_iter()
        .filter(|f| settings.family_enabled(*f))
    {
        let sources: Vec<String> = settings
            .detect
            .sources(family)
            .iter()
            .map(|s| source_label(&s.kind))
            .collect();
        line(
            &mut out,
            "summary.detection",
            &[
                ("family", &family),
                ("policy", &settings.detect.policy),
                ("sources", &sources.join(", ")),
            ],
        );
    }
    // What a `router` source adds: whether a NAT in front of the router keeps the internet out.
    if settings.family_enabled(config::Family::V4)
        && settings
            .detect
            .ipv4
            .iter()
            .any(|s| matches!(s.kind, crate::detect::SourceKind::Router { .. }))
    {
        let key = match settings.detect.behind_nat {
            crate::detect::settings::BehindNat::Warn => "summary.nat_warn",
            crate::detect::settings::BehindNat::Hold => "summary.nat_hold",
            crate::detect::settings::BehindNat::Publish => "summary.nat_publish",
        };
        line(&mut out, key, &[]);
    }
    for p in &settings.providers {
        let fields = provider_detail(&p.kind);
        line(
            &mut out,
            "summary.provider",
            &[
                ("name", &p.name),
                ("kind", &p.kind.kind_name()),
                ("fields", &fields),
            ],
        );
    }
    for l in &settings.lines {
        line(
            &mut out,
            "summary.line",
            &[("name", &l.name), ("bind", &l.bind)],
        );
    }
    records(&mut out, settings);
    for n in &settings.notify {
        let what = if n.kind.is_heartbeat() {
            tr("summary.heartbeat", &[])
        } else {
            let events: Vec<&str> = n.events.iter().map(|e| e.as_str()).collect();
            tr(
                "summary.alerts",
                &[("events", &events.join(", ")), ("max", &n.max_per_hour)],
            )
        };
        line(
            &mut out,
            "summary.notify",
            &[
                ("name", &n.name),
                ("kind", &n.kind.kind_name()),
                ("what", &what),
            ],
        );
    }
    if let Some(m) = &settings.metrics {
        let auth = if m.token.is_some() {
            tr("summary.bearer", &[])
        } else {
            String::new()
        };
        line(
            &mut out,
            "summary.metrics",
            &[("listen", &m.listen), ("auth", &auth)],
        );
    }
    out
}

/// One line of the summary, in the catalogue's words.
fn line(out: &mut String, key: &str, args: &[(&str, &dyn std::fmt::Display)]) {
    let _ = writeln!(out, "{}", tr(key, args));
}

/// The records, each with its TTL and the lines it is published from.
fn records(out: &mut String, settings: &Settings) {
    for r in &settings.records {
        let ttl = r
            .ttl
            .map_or_else(String::new, |t| tr("summary.ttl", &[("ttl", &t)]));
        let from = r.via.as_ref().map_or_else(String::new, |v| {
            let how = if v.all {
                tr("summary.all_working", &[])
            } else {
                let hold_down = humantime::format_duration(v.hold_down);
                tr("summary.failover", &[("hold_down", &hold_down)])
            };
            tr(
                "summary.from_lines",
                &[("lines", &v.lines.join(", ")), ("how", &how)],
            )
        });
        line(
            out,
            "summary.record",
            &[
                ("name", &r.name),
                ("type", &r.record_type),
                ("provider", &r.provider),
                ("ttl", &ttl),
                ("from", &from),
            ],
        );
    }
    if settings.records.is_empty() {
        line(out, "summary.no_records", &[]);
    }
}

fn source_label(kind: &SourceKind) -> String {
    match kind {
        SourceKind::Http { url } => format!("http {}", crate::http::origin(url)),
        SourceKind::CloudflareTrace { url } => format!(
            "cloudflare-trace {}",
            url.as_deref()
                .map_or_else(|| "(default)".into(), crate::http::origin)
        ),
        SourceKind::Dns { server, name, .. } => format!(
            "dns {} @{}",
            name.as_deref().unwrap_or("myip.opendns.com"),
            server.as_deref().unwrap_or("(OpenDNS)")
        ),
        SourceKind::Interface { name } => {
            format!("interface {}", name.as_deref().unwrap_or("(default route)"))
        }
        SourceKind::Command { command } => {
            format!("command {}", command.first().map_or("", String::as_str))
        }
        SourceKind::Router { protocol, gateway } => format!(
            "router {} @{}",
            protocol.as_deref().unwrap_or("auto"),
            gateway.as_deref().unwrap_or("(default gateway)")
        ),
    }
}

/// The provider's fields in the order of the kinds table; secrets are shown as `***`, URLs that may carry
/// tokens (the webhook's) only as their origin.
fn provider_detail(kind: &ProviderKind) -> String {
    let info = kind.info();
    let Ok(toml::Value::Table(table)) = toml::Value::try_from(kind) else {
        return String::new();
    };
    let mut parts = Vec::new();
    for field in info.fields {
        let Some(value) = table.get(field.name) else {
            continue;
        };
        let shown = match (field.secret, field.name, value) {
            (true, _, toml::Value::Table(t)) => t
                .keys()
                .next()
                .map_or_else(|| "***".to_owned(), |k| format!("*** ({k})")),
            (true, _, _) => "***".to_owned(),
            (_, "url", toml::Value::String(u)) if info.kind == "webhook" => crate::http::origin(u),
            (_, "headers", toml::Value::Table(t)) => format!(
                "[{}]",
                t.keys()
                    .map(|k| format!("{k}: ***"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            (_, _, toml::Value::String(v)) => v.clone(),
            (_, _, other) => other.to_string(),
        };
        parts.push(format!("{} {shown}", field.name));
    }
    parts.join(", ")
}

/// Every provider kind with its fields and the credential it needs, from the kinds table.
#[must_use]
pub fn providers_help() -> String {
    let mut out = String::new();
    for k in provider::KINDS {
        let _ = writeln!(
            out,
            "{} ({})\n  {}",
            k.kind,
            k.title(),
            tr("cli.kind_credential", &[("what", &k.credential())])
        );
        for f in k.fields {
            let tag = match (f.required, f.secret) {
                (true, true) => tr("cli.field_required_secret", &[]),
                (true, false) => tr("cli.field_required", &[]),
                (false, _) => tr("cli.field_optional", &[]),
            };
            let _ = writeln!(out, "  {:<18} {tag}: {}", f.name, k.help(f.name));
        }
    }
    out
}
