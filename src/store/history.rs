//! The history: every address change, update, failure and recovery, one JSON line each, appended to
//! `history.jsonl` in the data dir. Bounded: when the file holds [`MAX_ENTRIES`] lines it becomes
//! `history.1.jsonl` (replacing the previous one) and a new file starts, so at most twice that many entries
//! (well under 2 MiB) are kept. A line cut short by a crash is skipped when reading; nothing else is lost.

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
/// The largest history file read (a file this large was not written by us).
const MAX_FILE: u64 = 4 * 1024 * 1024;
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
            Event::RecordFailed { record, error, .. } => {
                e.event = "failed".into();
                e.record = Some(record.clone());
                e.error = Some(cut(error));
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
        out
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
            let Some(bytes) = crate::fsutil::read_limited(path, MAX_FILE)? else {
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

    /// The current file's lines, and whether its end is a torn line (a crash mid-write) that the next
    /// entry must not be glued to.
    fn lines_now(&self) -> (usize, bool) {
        crate::fsutil::read_limited(&self.current, MAX_FILE)
            .ok()
            .flatten()
            .map_or((0, false), |b| {
                (bytecount(&b), b.last().is_some_and(|c| *c != b'\n'))
            })
    }

    /// Appends one entry, rotating first when the file is full. `lines` counts the current file's lines;
    /// `torn` says its end is a torn line, ended first.
    fn append(&self, entry: &Entry, lines: &mut usize, torn: &mut bool) -> std::io::Result<()> {
        if *lines >= MAX_ENTRIES {
            std::fs::rename(&self.current, &self.rotated)?;
            *lines = 0;
            *torn = false;
        }
        let mut text = if *torn {
            "\n".to_owned()
        } else {
            String::new()
        };
        text.push_str(&serde_json::to_string(entry).map_err(std::io::Error::other)?);
        text.push('\n');
        let mut options = std::fs::OpenOptions::new();
        options.create(true).append(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        // One write of one whole line: appends of concurrent writers never interleave within a line.
        options.open(&self.current)?.write_all(text.as_bytes())?;
        *lines += 1;
        *torn = false;
        Ok(())
    }

    /// Appends the engine's events until its event stream ends. A write that fails is logged once per
    /// streak; the engine goes on either way.
    pub async fn record(self, mut events: broadcast::Receiver<Event>) {
        let (mut lines, mut torn) = self.lines_now();
        let mut failing = false;
        loop {
            let event = match events.recv().await {
                Ok(e) => e,
                Err(broadcast::error::RecvError::Lagged(n)) => {
                    tracing::warn!("{n} engine events are missing from the history");
                    continue;
                }
                Err(broadcast::error::RecvError::Closed) => break,
            };
            let Some(entry) = Entry::of(&event, SystemTime::now()) else {
                continue;
            };
            match self.append(&entry, &mut lines, &mut torn) {
                Ok(()) => failing = false,
                Err(e) if !failing => {
                    failing = true;
                    tracing::warn!("cannot write the history {}: {e}", self.current.display());
                }
                Err(_) => {}
            }
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
        let (mut lines, mut torn) = (0, false);
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
            h.append(&e, &mut lines, &mut torn).unwrap();
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
        let (mut lines, mut torn) = h.lines_now();
        assert_eq!((lines, torn), (10, true));
        // The next entry starts on a line of its own.
        let e = Entry::of(&Event::StateSaved, SystemTime::UNIX_EPOCH).unwrap();
        h.append(&e, &mut lines, &mut torn).unwrap();
        let all = h.read().unwrap();
        assert_eq!(all.len(), MAX_ENTRIES + 11);
        assert_eq!(all.last().unwrap().event, "state-saved");
    }
}
