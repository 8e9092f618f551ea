//! The history: every address change, update, failure and recovery, one JSON line each, appended to
//! `history.jsonl` in the data dir. Bounded: when the file holds [`MAX_ENTRIES`] lines or [`ROTATE_BYTES`]
//! it becomes `history.1.jsonl` (replacing the previous one) and a new file starts, so at most twice that
//! much is kept. A file grown larger than [`MAX_FILE`] by someone else is read from its end and rotated at the
//! next entry, never left unreadable. A line cut short by a crash is skipped when reading; nothing else is
//! lost.
//!
//! One round touching thousands of records lists the first [`ROUND_DETAIL`] record entries and then one
//! `round-summary` entry counting the rest, so a big round never pushes its own `ip-changed` entry (or
//! the rounds before it) out of what is kept.
//!
//! Writes never stall the engine: they run off the async threads, and the file is opened without following
//! a link and without blocking on a FIFO (`fsutil::open_append`).

use std::fmt::Write as _;
use std::io::Write as _;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use serde::{Deserialize, Serialize};
use tokio::sync::broadcast;

use crate::config::Family;
use crate::engine::Event;

/// Entries per file before it is rotated.
pub const MAX_ENTRIES: usize = 2000;
/// Bytes per file before it is rotated (2,000 entries are well under this).
pub const ROTATE_BYTES: u64 = 1024 * 1024;
/// The most read of one history file: a larger one (not written by us) is read from its end.
pub const MAX_FILE: u64 = 4 * 1024 * 1024;
/// Record entries (updated, failed, recovered) listed one by one in a round; the rest are counted in one
/// `round-summary` entry.
pub const ROUND_DETAIL: usize = 100;
/// The longest error text kept in an entry.
const MAX_ERROR: usize = 300;

/// One history entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// RFC 3339, UTC.
    pub at: String,
    /// `ip-changed`, `updated`, `failed`, `recovered`, `detection-failed`, `detection-recovered`,
    /// `state-not-saved` or `state-saved`.
    pub event: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub record: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub family: Option<Family>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub old: Option<IpAddr>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub new: Option<IpAddr>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// For `failed`: the failure's class, so the window can say what it means in its language.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure: Option<crate::provider::ErrorClass>,
    /// For `round-summary`: the record entries of the round not listed one by one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub omitted: Option<Omitted>,
}

/// Record entries of one round left out of the history (past [`ROUND_DETAIL`]), by event.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Omitted {
    #[serde(default)]
    pub updated: u64,
    #[serde(default)]
    pub failed: u64,
    #[serde(default)]
    pub recovered: u64,
}

impl Omitted {
    fn total(self) -> u64 {
        self.updated + self.failed + self.recovered
    }
}

impl Entry {
    /// The entry for `event`, or `None` for events the history does not keep.
    #[must_use]
    pub fn of(event: &Event, at: SystemTime) -> Option<Self> {
        let mut e = Self {
            at: humantime::format_rfc3339_seconds(at).to_string(),
            event: String::new(),
            record: None,
            family: None,
            old: None,
            new: None,
            error: None,
            failure: None,
            omitted: None,
        };
        let cut = |s: &str| s.chars().take(MAX_ERROR).collect::<String>();
        match event {
            Event::IpChanged { family, old, new } => {
                e.event = "ip-changed".into();
                e.family = Some(*family);
                e.old = *old;
                e.new = Some(*new);
            }
            Event::RecordUpdated {
                record,
                ip,
                previous,
            } => {
                e.event = "updated".into();
                e.record = Some(record.clone());
                e.old = *previous;
                e.new = Some(*ip);
            }
            Event::RecordFailed {
                record,
                error,
                class,
                ..
            } => {
                e.event = "failed".into();
                e.record = Some(record.clone());
                e.error = Some(cut(error));
                e.failure = Some(*class);
            }
            Event::RecordRecovered { record, .. } => {
                e.event = "recovered".into();
                e.record = Some(record.clone());
            }
            Event::DetectionFailed { family, reason } => {
                e.event = "detection-failed".into();
                e.family = Some(*family);
                e.error = Some(cut(reason));
            }
            Event::DetectionRecovered { family } => {
                e.event = "detection-recovered".into();
                e.family = Some(*family);
            }
            Event::StateNotSaved { error } => {
                e.event = "state-not-saved".into();
                e.error = Some(cut(error));
            }
            Event::StateSaved => e.event = "state-saved".into(),
            Event::Unreachable { reach, .. } => {
                e.event = "unreachable".into();
                e.family = Some(crate::config::Family::V4);
                e.error = Some(cut(&reach.to_string()));
            }
            Event::Reachable => e.event = "reachable".into(),
            _ => return None,
        }
        Some(e)
    }

    /// One line for `ddns-tray history`.
    #[must_use]
    pub fn line(&self) -> String {
        let mut out = format!("{}  {:<19}", self.at, self.event);
        if let Some(r) = &self.record {
            let _ = write!(out, " {r}");
        }
        if let Some(f) = &self.family {
            let _ = write!(out, " {f}");
        }
        match (&self.old, &self.new) {
            (Some(o), Some(n)) => {
                let _ = write!(out, " {o} -> {n}");
            }
            (None, Some(n)) => {
                let _ = write!(out, " {n}");
            }
            _ => {}
        }
        if let Some(e) = &self.error {
            let _ = write!(out, ": {e}");
        }
        if let Some(o) = &self.omitted {
            let _ = write!(
                out,
                " {} more record entries not listed: {} updated, {} failed, {} recovered",
                o.total(),
                o.updated,
                o.failed,
                o.recovered
            );
        }
        out
    }

    /// The `round-summary` entry counting what a round left out.
    fn summary(omitted: Omitted, at: SystemTime) -> Self {
        Self {
            at: humantime::format_rfc3339_seconds(at).to_string(),
            event: "round-summary".into(),
            record: None,
            family: None,
            old: None,
            new: None,
            error: None,
            failure: None,
            omitted: Some(omitted),
        }
    }

    /// Whether this is one record's entry (counted against [`ROUND_DETAIL`]).
    fn is_per_record(&self) -> bool {
        matches!(self.event.as_str(), "updated" | "failed" | "recovered")
    }
}

/// Line breaks in `bytes`.
fn bytecount(bytes: &[u8]) -> usize {
    bytes.split(|c| *c == b'\n').count() - 1
}

/// The history files of a data dir.
#[derive(Debug, Clone)]
pub struct History {
    current: PathBuf,
    rotated: PathBuf,
}

impl History {
    #[must_use]
    pub fn in_dir(data_dir: &Path) -> Self {
        Self {
            current: data_dir.join("history.jsonl"),
            rotated: data_dir.join("history.1.jsonl"),
        }
    }

    /// Every readable entry, oldest first.
    pub fn read(&self) -> std::io::Result<Vec<Entry>> {
        let mut out = Vec::new();
        for path in [&self.rotated, &self.current] {
            let Some(bytes) = crate::fsutil::read_tail(path, MAX_FILE)? else {
                continue;
            };
            out.extend(
                String::from_utf8_lossy(&bytes)
                    .lines()
                    .filter_map(|l| serde_json::from_str::<Entry>(l).ok()),
            );
        }
        Ok(out)
    }

    /// Where the current file stands: its lines and bytes, and whether its end is a torn line (a crash
    /// mid-write) that the next entry must not be glued to. A file too large to count is full.
    fn fill_now(&self) -> Fill {
        let size = std::fs::metadata(&self.current).map_or(0, |m| m.len());
        if size > MAX_FILE {
            return Fill {
                lines: MAX_ENTRIES,
                bytes: size,
                torn: false,
            };
        }
        crate::fsutil::read_limited(&self.current, MAX_FILE)
            .ok()
            .flatten()
            .map_or(Fill::default(), |b| Fill {
                lines: bytecount(&b),
                bytes: b.len() as u64,
                torn: b.last().is_some_and(|c| *c != b'\n'),
            })
    }

    /// Appends one entry, rotating first when the file is full (by lines or by size).
    fn append(&self, entry: &Entry, fill: &mut Fill) -> std::io::Result<()> {
        if fill.lines >= MAX_ENTRIES || fill.bytes >= ROTATE_BYTES {
            // Renaming moves a link itself, never what it points to; the new file is made by us.
            match std::fs::rename(&self.current, &self.rotated) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(e),
            }
            *fill = Fill::default();
        }
        let torn = fill.torn;
        let mut text = if torn { "\n".to_owned() } else { String::new() };
        text.push_str(&serde_json::to_string(entry).map_err(std::io::Error::other)?);
        text.push('\n');
        // One write of one whole line: appends of concurrent writers never interleave within a line. Never
        // through a link, never into a FIFO or device (see fsutil::open_append).
        crate::fsutil::open_append(&self.current)?.write_all(text.as_bytes())?;
        fill.lines += 1;
        fill.bytes += text.len() as u64;
        fill.torn = false;
        Ok(())
    }

    /// Appends the engine's events until its event stream ends. A write that fails is logged once per
    /// streak; the engine goes on either way. Files are written on tokio's blocking pool, one write at a
    /// time, so a slow disk never holds up the engine's thread (`once` runs on one thread).
    pub async fn record(self, mut events: broadcast::Receiver<Event>) {
        let this = self.clone();
        let mut writer = tokio::task::spawn_blocking(move || Writer::new(this))
            .await
            .ok();
        loop {
            let event = match events.recv().await {
                Ok(e) => e,
                Err(broadcast::error::RecvError::Lagged(n)) => {
                    tracing::warn!("{n} engine events are missing from the history");
                    continue;
                }
                Err(broadcast::error::RecvError::Closed) => break,
            };
            // Only what the history keeps goes to the blocking pool.
            let now = SystemTime::now();
            let entry = match &event {
                Event::RoundFinished => None,
                other => match Entry::of(other, now) {
                    Some(e) => Some(e),
                    None => continue,
                },
            };
            let Some(mut w) = writer.take() else { break };
            writer = tokio::task::spawn_blocking(move || {
                match entry {
                    Some(e) => w.add(&e),
                    None => w.finish_round(now),
                }
                w
            })
            .await
            .ok();
        }
        if let Some(mut w) = writer {
            let _ = tokio::task::spawn_blocking(move || w.finish_round(SystemTime::now())).await;
        }
    }
}

/// How full the current file is.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Fill {
    lines: usize,
    bytes: u64,
    torn: bool,
}

/// The history's writer: the current file's fill and the round in progress.
struct Writer {
    history: History,
    fill: Fill,
    /// Record entries written in this round, and those counted instead.
    listed: usize,
    omitted: Omitted,
    failing: bool,
}

impl Writer {
    fn new(history: History) -> Self {
        let fill = history.fill_now();
        Self {
            history,
            fill,
            listed: 0,
            omitted: Omitted::default(),
            failing: false,
        }
    }

    /// Takes one engine event as `record` does (the tests' entry point).
    #[cfg(test)]
    fn take(&mut self, event: &Event, at: SystemTime) {
        if matches!(event, Event::RoundFinished) {
            self.finish_round(at);
        } else if let Some(entry) = Entry::of(event, at) {
            self.add(&entry);
        }
    }

    /// Writes one entry, or counts it when the round has listed [`ROUND_DETAIL`] record entries.
    fn add(&mut self, entry: &Entry) {
        if entry.is_per_record() {
            if self.listed >= ROUND_DETAIL {
                match entry.event.as_str() {
                    "updated" => self.omitted.updated += 1,
                    "failed" => self.omitted.failed += 1,
                    _ => self.omitted.recovered += 1,
                }
                return;
            }
            self.listed += 1;
        }
        self.write(entry);
    }

    /// Ends a round: its summary entry when it left record entries out.
    fn finish_round(&mut self, at: SystemTime) {
        if self.omitted.total() > 0 {
            let summary = Entry::summary(self.omitted, at);
            self.write(&summary);
        }
        self.listed = 0;
        self.omitted = Omitted::default();
    }

    fn write(&mut self, entry: &Entry) {
        match self.history.append(entry, &mut self.fill) {
            Ok(()) => self.failing = false,
            Err(e) if !self.failing => {
                self.failing = true;
                tracing::warn!(
                    "cannot write the history {}: {e}",
                    self.history.current.display()
                );
            }
            Err(_) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rotates_at_the_limit_and_keeps_two_files() {
        let dir = tempfile::tempdir().unwrap();
        let h = History::in_dir(dir.path());
        let mut fill = Fill::default();
        for i in 0..(MAX_ENTRIES * 2 + 10) {
            let e = Entry::of(
                &Event::RecordFailed {
                    record: format!("r{i}.example A"),
                    error: "x".into(),
                    class: crate::provider::ErrorClass::Transient,
                    failures: 1,
                    stopped: false,
                    retry_at: None,
                },
                SystemTime::UNIX_EPOCH,
            )
            .unwrap();
            h.append(&e, &mut fill).unwrap();
        }
        let all = h.read().unwrap();
        assert_eq!(all.len(), MAX_ENTRIES + 10);
        assert_eq!(
            all[0].record.as_deref(),
            Some(&*format!("r{MAX_ENTRIES}.example A"))
        );
        assert_eq!(
            all.last().unwrap().record.as_deref(),
            Some(&*format!("r{}.example A", MAX_ENTRIES * 2 + 9))
        );
        // A torn last line (a crash mid-write) is skipped, the rest still read.
        std::fs::OpenOptions::new()
            .append(true)
            .open(dir.path().join("history.jsonl"))
            .unwrap()
            .write_all(b"{\"at\":\"2026")
            .unwrap();
        assert_eq!(h.read().unwrap().len(), MAX_ENTRIES + 10);
        let mut fill = h.fill_now();
        assert_eq!((fill.lines, fill.torn), (10, true));
        // The next entry starts on a line of its own.
        let e = Entry::of(&Event::StateSaved, SystemTime::UNIX_EPOCH).unwrap();
        h.append(&e, &mut fill).unwrap();
        let all = h.read().unwrap();
        assert_eq!(all.len(), MAX_ENTRIES + 11);
        assert_eq!(all.last().unwrap().event, "state-saved");
    }

    /// Regression: one round of 10,000 updates pushed its own `ip-changed` entry (and everything before it)
    /// out of the 4,000 entries kept. A round lists [`ROUND_DETAIL`] record entries and counts the rest.
    #[test]
    fn a_big_round_keeps_its_address_change_and_a_summary() {
        let dir = tempfile::tempdir().unwrap();
        let mut w = Writer::new(History::in_dir(dir.path()));
        let at = SystemTime::UNIX_EPOCH;
        w.take(
            &Event::IpChanged {
                family: Family::V4,
                old: None,
                new: "198.51.100.1".parse().unwrap(),
            },
            at,
        );
        for i in 0..10_000 {
            w.take(
                &Event::RecordUpdated {
                    record: format!("r{i}.example A"),
                    ip: "198.51.100.1".parse().unwrap(),
                    previous: None,
                },
                at,
            );
        }
        w.take(&Event::RoundFinished, at);
        w.take(&Event::StateSaved, at);
        let all = History::in_dir(dir.path()).read().unwrap();
        assert_eq!(all.len(), 1 + ROUND_DETAIL + 2);
        assert_eq!(all[0].event, "ip-changed");
        let summary = &all[ROUND_DETAIL + 1];
        assert_eq!(summary.event, "round-summary");
        assert_eq!(
            summary.omitted,
            Some(Omitted {
                updated: 10_000 - ROUND_DETAIL as u64,
                failed: 0,
                recovered: 0
            })
        );
        assert!(
            summary.line().contains("9900 more record entries"),
            "{}",
            summary.line()
        );
        // The next round lists its records again.
        w.take(
            &Event::RecordFailed {
                record: "r1.example A".into(),
                error: "x".into(),
                class: crate::provider::ErrorClass::Transient,
                failures: 1,
                stopped: false,
                retry_at: None,
            },
            at,
        );
        assert_eq!(
            History::in_dir(dir.path())
                .read()
                .unwrap()
                .last()
                .unwrap()
                .event,
            "failed"
        );
    }
}
