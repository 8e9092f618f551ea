//! `ddns-tray history`: what happened (address changes, updates, failures and recoveries), oldest first.

use std::fmt::Write as _;

use super::Exit;
use crate::app::Paths;
use crate::history::Entry;
use crate::i18n::tr;

/// The entries of `record` (its name, with or without the type; all when `None`), at most `limit`, newest
/// kept.
#[must_use]
pub fn select(entries: Vec<Entry>, record: Option<&str>, limit: usize) -> Vec<Entry> {
    let wanted = |r: &str| {
        record.is_none_or(|want| {
            let want = want.trim_end_matches('.').to_ascii_lowercase();
            r == want || r.split(' ').next() == Some(want.as_str())
        })
    };
    let mut selected: Vec<Entry> = entries
        .into_iter()
        .filter(|e| match (&e.record, record) {
            (_, None) => true,
            (Some(r), Some(_)) => wanted(r),
            (None, Some(_)) => false,
        })
        .collect();
    let skip = selected.len().saturating_sub(limit);
    selected.drain(..skip);
    selected
}

/// The entries as `history` prints them: one line each, or JSON.
pub fn render(entries: &[Entry], json: bool) -> Result<String, String> {
    if json {
        return serde_json::to_string_pretty(entries)
            .map(|t| t + "\n")
            .map_err(|e| e.to_string());
    }
    if entries.is_empty() {
        return Ok(format!("{}\n", tr("cli.history_empty", &[])));
    }
    let mut out = String::new();
    for e in entries {
        let _ = writeln!(out, "{}", e.line());
    }
    Ok(out)
}

/// `ddns-tray history [--record NAME] [--limit N] [--json]`.
pub fn history(
    paths: &Paths,
    record: Option<&str>,
    limit: usize,
    json: bool,
) -> Result<Exit, String> {
    let history = crate::history::History::in_dir(&paths.data_dir);
    let entries = history.read().map_err(|e| {
        tr(
            "cli.history_unreadable",
            &[("dir", &paths.data_dir.display()), ("error", &e)],
        )
    })?;
    print!("{}", render(&select(entries, record, limit), json)?);
    Ok(Exit::Ok)
}
