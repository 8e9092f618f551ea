//! Persisted runtime state (not config): per record what was published and when, the provider's record id,
//! the failure streak and the next allowed attempt. JSON with a schema version in the OS data dir, written
//! atomically (temp file in the same directory, fsync, rename). A corrupt or unreadable file is moved aside
//! with a warning and the engine starts fresh; nothing is ever truncated in place or deleted.
//!
//! [`FileStore::open`] takes an exclusive lock next to the file, so two engines never share one state file.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::Write;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use serde::{Deserialize, Serialize};

use crate::config::{Family, RecordType};
use crate::provider::ErrorClass;

/// The schema version this build writes and reads.
pub const VERSION: u32 = 1;

/// Everything persisted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct State {
    pub version: u32,
    /// Random per installation; salts the config fingerprints so they reveal nothing about secrets.
    pub salt: String,
    /// The last detected address per family.
    #[serde(default)]
    pub last_ip: BTreeMap<Family, IpAddr>,
    /// Keyed by [`record_key`].
    #[serde(default)]
    pub records: BTreeMap<String, RecordState>,
}

impl Default for State {
    fn default() -> Self {
        Self {
            version: VERSION,
            salt: format!("{:016x}{:016x}", fastrand::u64(..), fastrand::u64(..)),
            last_ip: BTreeMap::new(),
            records: BTreeMap::new(),
        }
    }
}

/// `name/type/provider`.
#[must_use]
pub fn record_key(name: &str, record_type: RecordType, provider: &str) -> String {
    format!("{name}/{record_type}/{provider}")
}

/// One record's runtime state.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RecordState {
    pub name: String,
    pub record_type: Option<RecordType>,
    pub provider: String,
    /// Salted hash of the record's and its provider's settings (secrets included) when this state was made.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fingerprint: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub published: Option<IpAddr>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "opt_time")]
    pub published_at: Option<SystemTime>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub record_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "opt_time")]
    pub last_attempt_at: Option<SystemTime>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error_class: Option<ErrorClass>,
    #[serde(default)]
    pub failures: u32,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "opt_time")]
    pub next_attempt: Option<SystemTime>,
    /// Stopped until the config changes (auth failure, rejected request).
    #[serde(default)]
    pub stopped: bool,
}

/// Why state could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot write state file {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "another ddns-tray engine is using {path} (its lock is held); stop it first, or use `ddns-tray status`"
    )]
    Locked { path: PathBuf },
    #[error("cannot lock state file {path}: {source}")]
    Lock {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// Where the engine keeps its state.
pub trait StateStore: Send {
    /// Reads the state; missing means fresh. A corrupt file is moved aside and fresh state returned.
    fn load(&mut self) -> State;
    /// Replaces the stored state atomically.
    fn save(&mut self, state: &State) -> Result<(), StoreError>;
}

/// The JSON file store.
pub struct FileStore {
    path: PathBuf,
    _lock: File,
}

impl FileStore {
    /// Opens the store at `path`, creating its directory, and takes the engine lock (`<path>.lock`).
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|source| StoreError::Write {
                path: path.to_owned(),
                source,
            })?;
        }
        let lock_path = path.with_extension("lock");
        let lock = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(|source| StoreError::Lock {
                path: lock_path.clone(),
                source,
            })?;
        match lock.try_lock() {
            Ok(()) => Ok(Self {
                path: path.to_owned(),
                _lock: lock,
            }),
            Err(std::fs::TryLockError::WouldBlock) => Err(StoreError::Locked {
                path: path.to_owned(),
            }),
            Err(std::fs::TryLockError::Error(source)) => Err(StoreError::Lock {
                path: lock_path,
                source,
            }),
        }
    }

    #[must_use]
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// Reads a state file without locking (for `ddns-tray status`). `Ok(None)` when there is none yet.
pub fn read(path: &Path) -> Result<Option<State>, String> {
    match std::fs::read(path) {
        Ok(bytes) => parse(&bytes).map(Some),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(format!("cannot read {}: {e}", path.display())),
    }
}

fn parse(bytes: &[u8]) -> Result<State, String> {
    #[derive(Deserialize)]
    struct Version {
        version: u32,
    }
    let v: Version =
        serde_json::from_slice(bytes).map_err(|e| format!("not a state file ({e})"))?;
    if v.version != VERSION {
        return Err(format!(
            "schema version {} (this build reads {VERSION})",
            v.version
        ));
    }
    serde_json::from_slice(bytes).map_err(|e| format!("corrupt state ({e})"))
}

impl StateStore for FileStore {
    fn load(&mut self) -> State {
        match read(&self.path) {
            Ok(Some(state)) => state,
            Ok(None) => State::default(),
            Err(why) => {
                let stamp = SystemTime::now()
                    .duration_since(SystemTime::UNIX_EPOCH)
                    .map_or(0, |d| d.as_secs());
                let aside = self.path.with_extension(format!("json.bad-{stamp}"));
                match std::fs::rename(&self.path, &aside) {
                    Ok(()) => tracing::warn!(
                        "state file {} unusable: {why}; moved it to {} and starting fresh",
                        self.path.display(),
                        aside.display()
                    ),
                    Err(e) => tracing::warn!(
                        "state file {} unusable: {why}; could not move it aside ({e}); starting fresh",
                        self.path.display()
                    ),
                }
                State::default()
            }
        }
    }

    fn save(&mut self, state: &State) -> Result<(), StoreError> {
        let json = serde_json::to_vec_pretty(state).map_err(|e| StoreError::Write {
            path: self.path.clone(),
            source: std::io::Error::other(e),
        })?;
        write_atomic(&self.path, &json).map_err(|source| StoreError::Write {
            path: self.path.clone(),
            source,
        })
    }
}

/// Writes `bytes` to `path` atomically: a temp file in the same directory (owner-only permissions on Unix),
/// fsync, rename over the target, fsync the directory. On any failure the old file is untouched.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let mut tmp = tempfile::Builder::new()
        .prefix(".ddns-tray-")
        .suffix(".tmp")
        .tempfile_in(dir)?;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    #[cfg(unix)]
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

/// An in-memory store (tests, dry runs).
#[derive(Default, Clone)]
pub struct MemoryStore {
    pub state: std::sync::Arc<std::sync::Mutex<Option<State>>>,
    pub saves: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

impl StateStore for MemoryStore {
    fn load(&mut self) -> State {
        self.state
            .lock()
            .ok()
            .and_then(|s| s.clone())
            .unwrap_or_default()
    }

    fn save(&mut self, state: &State) -> Result<(), StoreError> {
        if let Ok(mut s) = self.state.lock() {
            *s = Some(state.clone());
        }
        self.saves
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Ok(())
    }
}

/// RFC 3339 timestamps for `Option<SystemTime>`.
mod opt_time {
    use std::time::SystemTime;

    use serde::{Deserialize, Deserializer, Serializer};

    #[allow(clippy::ref_option)] // serde's `with` hands us `&Option<T>`
    pub fn serialize<S: Serializer>(t: &Option<SystemTime>, s: S) -> Result<S::Ok, S::Error> {
        match t {
            Some(t) => s.serialize_str(&humantime::format_rfc3339_seconds(*t).to_string()),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<SystemTime>, D::Error> {
        Option::<String>::deserialize(d)?
            .map(|s| humantime::parse_rfc3339_weak(&s).map_err(serde::de::Error::custom))
            .transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_atomic_replace() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.json");
        let mut store = FileStore::open(&path).unwrap();
        let mut state = store.load();
        state.records.insert(
            record_key("home.example.test", RecordType::A, "p"),
            RecordState {
                name: "home.example.test".into(),
                record_type: Some(RecordType::A),
                provider: "p".into(),
                published: Some("203.0.113.7".parse().unwrap()),
                published_at: Some(
                    SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_700_000_000),
                ),
                ..Default::default()
            },
        );
        store.save(&state).unwrap();
        assert_eq!(store.load(), state);
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(
            text.contains("\"version\": 1") && text.contains("2023-11-14T22:13:20Z"),
            "{text}"
        );
        // No temp files left behind.
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert!(names.iter().all(|n| !n.contains(".tmp")), "{names:?}");
    }

    #[test]
    fn corrupt_file_is_moved_aside_not_deleted() {
        for (name, content) in [
            ("garbage", "{not json"),
            ("truncated", "{\"version\": 1, \"salt\": \"ab"),
            ("future", "{\"version\": 99, \"salt\": \"x\"}"),
        ] {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("state.json");
            std::fs::write(&path, content).unwrap();
            let mut store = FileStore::open(&path).unwrap();
            let state = store.load();
            assert!(state.records.is_empty(), "{name}");
            assert!(!path.exists(), "{name}: original should be moved");
            let aside: Vec<_> = std::fs::read_dir(dir.path())
                .unwrap()
                .map(|e| e.unwrap().path())
                .filter(|p| p.to_string_lossy().contains(".bad-"))
                .collect();
            assert_eq!(aside.len(), 1, "{name}");
            assert_eq!(
                std::fs::read_to_string(&aside[0]).unwrap(),
                content,
                "{name}: content kept"
            );
        }
    }

    #[test]
    fn second_engine_cannot_open_the_same_state() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.json");
        let first = FileStore::open(&path).unwrap();
        assert!(matches!(
            FileStore::open(&path),
            Err(StoreError::Locked { .. })
        ));
        drop(first);
        FileStore::open(&path).unwrap();
    }
}
