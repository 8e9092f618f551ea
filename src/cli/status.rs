//! `ddns-tray status`: the persisted state of each record, and whether a daemon runs on it.

use super::Exit;
use crate::app::Paths;
use crate::i18n::tr;
use crate::store;

/// The live status of a daemon using this data dir's state, if one runs.
#[must_use]
pub fn live_status(paths: &Paths) -> Option<crate::engine::Status> {
    use crate::control::{Client, Endpoint, Reply, Request};
    let endpoint = Endpoint::user(&paths.data_dir);
    let asked = super::runtime().ok()?.block_on(async {
        tokio::time::timeout(
            std::time::Duration::from_secs(3),
            Client::ask(&endpoint, Request::Status),
        )
        .await
    });
    match asked {
        Ok(Ok(Reply::Status(s))) => Some(*s),
        _ => None,
    }
}

/// `ddns-tray status [--json]`.
pub fn status(paths: &Paths, json: bool) -> Result<Exit, String> {
    let live = live_status(paths);
    let daemon_line = live.as_ref().map_or_else(
        || tr("cli.daemon_not_running", &[]),
        |s| {
            tr(
                "cli.daemon_running",
                &[(
                    "network",
                    &crate::notify::status::network_events(&s.network_events),
                )],
            )
        },
    );
    let daemon_json = serde_json::json!({
        "running": live.is_some(),
        "network_events": live.as_ref().map(|s| s.network_events.clone()),
    });
    let state = match store::read(&paths.state_file()) {
        Ok(Some(s)) => s,
        Ok(None) => {
            if json {
                println!(
                    "{}",
                    serde_json::json!({ "state_file": paths.state_file(), "daemon": daemon_json, "last_ip": {}, "records": [] })
                );
            } else {
                println!(
                    "{}",
                    tr("cli.no_state", &[("path", &paths.state_file().display())])
                );
                println!("{daemon_line}");
            }
            return Ok(Exit::Ok);
        }
        Err(e) => return Err(e.to_string()),
    };
    let records: Vec<serde_json::Value> = state
        .records
        .values()
        .map(|r| {
            serde_json::json!({
                "name": r.name,
                "type": r.record_type,
                "provider": r.provider,
                "published": r.published,
                "published_at": r.published_at.map(|t| humantime::format_rfc3339_seconds(t).to_string()),
                "record_id": r.record_id,
                "failures": r.failures,
                "last_error": r.last_error,
                "next_attempt": r.next_attempt.map(|t| humantime::format_rfc3339_seconds(t).to_string()),
                "stopped": r.stopped,
            })
        })
        .collect();
    if json {
        let last_ip: serde_json::Map<String, serde_json::Value> = state
            .last_ip
            .iter()
            .map(|(f, ip)| (f.key().to_owned(), serde_json::json!(ip)))
            .collect();
        println!(
            "{}",
            serde_json::to_string_pretty(
                &serde_json::json!({ "state_file": paths.state_file(), "daemon": daemon_json, "last_ip": last_ip, "records": records })
            )
            .map_err(|e| e.to_string())?
        );
        return Ok(Exit::Ok);
    }
    println!("{daemon_line}");
    for (family, ip) in &state.last_ip {
        println!("{family}: {ip}");
    }
    for r in state.records.values() {
        print_record(r);
    }
    Ok(Exit::Ok)
}

/// One record of the state for `ddns-tray status`.
/// One record of the state, as `status` prints it.
pub fn print_record(r: &store::RecordState) {
    let kind = r.record_type.map_or("?", |t| t.as_str());
    let published = match (r.published, r.published_at) {
        (Some(ip), Some(at)) => tr(
            "cli.published_since",
            &[("ip", &ip), ("at", &humantime::format_rfc3339_seconds(at))],
        ),
        (Some(ip), None) => ip.to_string(),
        _ => tr("cli.not_published", &[]),
    };
    println!(
        "{}",
        tr(
            "cli.record_at",
            &[
                ("name", &r.name),
                ("type", &kind),
                ("provider", &r.provider),
                ("published", &published)
            ]
        )
    );
    if let Some(e) = &r.last_error {
        let next = if r.stopped {
            tr("cli.stopped_until_change", &[])
        } else {
            r.next_attempt.map_or_else(String::new, |t| {
                tr(
                    "cli.next_attempt",
                    &[("at", &humantime::format_rfc3339_seconds(t))],
                )
            })
        };
        println!(
            "  {}",
            tr(
                "cli.last_error",
                &[("n", &r.failures), ("error", &e), ("next", &next)]
            )
        );
    }
}
