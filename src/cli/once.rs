//! `ddns-tray once`: one update round, one line per record (`home.example.com A 203.0.113.7 updated`), with
//! the same sinks as the daemon's rounds (log, alerts, history), none for a dry run.

use std::fmt::Write as _;

use super::Exit;
use crate::app::{self, Paths, Sinks};
use crate::engine::{Mode, RoundReport};
use crate::i18n::tr;
use crate::settings::Settings;
use crate::store::{self, FileStore};

/// Runs one round in `mode` and prints its report.
pub async fn once(
    paths: &Paths,
    settings: Settings,
    mode: Mode,
    json: bool,
) -> Result<Exit, String> {
    let store: Box<dyn store::StateStore> = if mode == Mode::DryRun {
        // A dry run reads the state but never takes the lock or writes.
        let state = store::read(&paths.state_file()).ok().flatten();
        let memory = store::MemoryStore::default();
        if let Ok(mut s) = memory.state.lock() {
            *s = state;
        }
        Box::new(memory)
    } else {
        Box::new(FileStore::open(&paths.state_file()).map_err(|e| e.to_string())?)
    };
    let mut engine =
        app::engine(paths, settings, store, mode != Mode::DryRun).map_err(|e| e.to_string())?;
    let sinks = if mode == Mode::DryRun {
        Sinks::Log
    } else {
        Sinks::Round
    };
    let status = engine.handle().0.status;
    let companions = app::companions(
        paths,
        &engine,
        status,
        tokio_util::sync::CancellationToken::new(),
        sinks,
    );
    let report = engine.round(mode).await;
    drop(engine);
    // Alerts of this run go out before it exits (each delivery is limited to 45 s).
    let _ = tokio::time::timeout(std::time::Duration::from_secs(50), companions).await;
    print!("{}", render(&report, json)?);
    if let Some(e) = &report.state_error {
        eprintln!("{}", tr("cli.state_not_saved", &[("error", e)]));
    }
    Ok(Exit::ok_if(report.all_ok()))
}

/// The report as `once` prints it: one line per record (or per family when there are no records), or JSON.
pub fn render(report: &RoundReport, json: bool) -> Result<String, String> {
    if json {
        return serde_json::to_string_pretty(report)
            .map(|t| t + "\n")
            .map_err(|e| e.to_string());
    }
    let mut out = String::new();
    if report.records.is_empty() {
        for (family, d) in &report.detection {
            let _ = match (&d.ip, &d.error) {
                (Some(ip), _) => writeln!(out, "{family} {ip} (no records configured)"),
                (None, e) => writeln!(out, "{family} unknown: {}", e.as_deref().unwrap_or("")),
            };
        }
    }
    for r in &report.records {
        let ip = r.ip.map_or_else(|| "-".to_owned(), |ip| ip.to_string());
        // The provider is named only when the same name and type go to several providers.
        let shared = report
            .records
            .iter()
            .filter(|o| o.name == r.name && o.record_type == r.record_type)
            .count()
            > 1;
        let via = if shared {
            format!(" (via {})", r.provider)
        } else {
            String::new()
        };
        let _ = writeln!(out, "{} {} {ip} {}{via}", r.name, r.record_type, r.outcome);
    }
    Ok(out)
}
