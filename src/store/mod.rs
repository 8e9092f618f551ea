//! Persisted runtime state (not config): per record what was published and when, the provider's record id,
//! the failure streak and the next allowed attempt. JSON with a schema version in the OS data dir, written
//! atomically (temp file in the same directory, fsync, rename).
//!
//! - A file of an older schema is migrated; one that is corrupt, or of a newer schema, is moved aside with a
//!   warning and the engine starts fresh. Nothing is ever truncated in place or deleted.
//! - A file that cannot be read (permissions, I/O error), is not a regular file, or is larger than 64 MiB
//!   is an error: the engine does not start on it, so it is never overwritten with fresh state.
//! - [`FileStore::open`] takes an exclusive lock next to the file, so two engines never share one state file,
//!   and then removes temp files a killed predecessor left behind.
//!
//! Fingerprints of each record's settings are HMAC-SHA256 under a key kept in its own file ([`FingerprintKey`]),
//! so a shared state file reveals nothing about the secrets that went into them.

use std::collections::BTreeMap;
use std::fs::File;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use serde::{Deserialize, Serialize};

use crate::config::{Family, RecordType};
pub use crate::fsutil::write_atomic;
use crate::provider::ErrorClass;

/// The schema version this build writes. Version 1 (salted SHA-256 fingerprints) is migrated on load.
pub const VERSION: u32 = 2;
/// The largest state file read.
pub const MAX_STATE_BYTES: u64 = 64 << 20;

/// Everything persisted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct State {
    pub version: u32,
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
            last_ip: BTreeMap::new(),
            records: BTreeMap::new(),
        }
    }
}

/// `name/type/provider`, and `@line` when the record manages a line other than the default.
#[must_use]
pub fn record_key(
    name: &str,
    record_type: RecordType,
    provider: &str,
    line: Option<&str>,
) -> String {
    match line {
        Some(l) => format!("{name}/{record_type}/{provider}@{l}"),
        None => format!("{name}/{record_type}/{provider}"),
    }
}

/// One record's runtime state.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RecordState {
    pub name: String,
    pub record_type: Option<RecordType>,
    pub provider: String,
    /// HMAC of the record's and its provider's settings (secrets included) when this state was made.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fingerprint: Option<String>,
    /// What is published (several addresses for `mode = "all"`; usually one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub published: Option<IpAddr>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub published_all: Vec<IpAddr>,
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
    /// The next allowed attempt, as a wall-clock date (for restarts and `status`); the running engine
    /// waits on the monotonic clock.
    #[serde(default, skip_serializing_if = "Option::is_none", with = "opt_time")]
    pub next_attempt: Option<SystemTime>,
    /// The wait the failure asked for when `next_attempt` was set, in seconds: a date saved while the clock
    /// was wrong is clamped to it when loaded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_wait_secs: Option<u64>,
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
        "cannot read state file {path}: {source}; it was left as it is (fix its permissions, or move it away)"
    )]
    Read {
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
    /// Reads the state; missing means fresh. A corrupt file is moved aside and fresh state returned; a file
    /// that cannot be read is an error (and is left alone).
    fn load(&mut self) -> Result<State, StoreError>;
    /// Replaces the stored state atomically.
    fn save(&mut self, state: &State) -> Result<(), StoreError>;
}

/// The JSON file store.
pub struct FileStore {
    path: PathBuf,
    _lock: File,
}

impl FileStore {
    /// Opens the store at `path`, creating its directory, takes the engine lock (`<path>.lock`) and removes
    /// stale temp files (safe: nobody else writes there while the lock is held).
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            crate::fsutil::private_dir(dir).map_err(|source| StoreError::Write {
                path: path.to_owned(),
                source,
            })?;
        }
        let lock_path = path.with_extension("lock");
        // Never through a link, never blocking on a FIFO put in its place.
        let lock = crate::fsutil::open_lock(&lock_path).map_err(|source| StoreError::Lock {
            path: lock_path.clone(),
            source,
        })?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                return Err(StoreError::Locked {
                    path: path.to_owned(),
                });
            }
            Err(std::fs::TryLockError::Error(source)) => {
                return Err(StoreError::Lock {
                    path: lock_path,
                    source,
                });
            }
        }
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            let removed = crate::fsutil::remove_stale_temp_files(dir);
            if removed > 0 {
                tracing::info!(
                    "removed {removed} temp file(s) left in {} by an interrupted write",
                    dir.display()
                );
            }
        }
        Ok(Self {
            path: path.to_owned(),
            _lock: lock,
        })
    }

    #[must_use]
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// Why a state file's content cannot be used.
#[derive(Debug)]
pub enum Unusable {
    /// Cannot be read at all: leave it alone.
    Io(std::io::Error),
    /// Read, but not usable state (corrupt, or a newer schema): move it aside.
    Content(String),
}

impl std::fmt::Display for Unusable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Io(e) => write!(f, "{e}"),
            Self::Content(e) => f.write_str(e),
        }
    }
}

/// Reads a state file without locking (for `ddns-tray status`). `Ok(None)` when there is none yet.
pub fn read(path: &Path) -> Result<Option<State>, Unusable> {
    match crate::fsutil::read_limited(path, MAX_STATE_BYTES) {
        Ok(Some(bytes)) => parse(&bytes).map(Some).map_err(Unusable::Content),
        Ok(None) => Ok(None),
        Err(e) => Err(Unusable::Io(e)),
    }
}

/// Parses state of any schema this build knows, migrating older ones.
pub fn parse(bytes: &[u8]) -> Result<State, String> {
    #[derive(Deserialize)]
    struct Version {
        version: u32,
    }
    let v: Version =
        serde_json::from_slice(bytes).map_err(|e| format!("not a state file ({e})"))?;
    match v.version {
        1 => {
            // Version 1 had salted SHA-256 fingerprints and a salt; its fingerprints cannot be carried
            // over, so records adopt the current settings' fingerprint at their next round (no re-publish).
            let mut state: State =
                serde_json::from_slice(bytes).map_err(|e| format!("corrupt state ({e})"))?;
            state.version = VERSION;
            for r in state.records.values_mut() {
                r.fingerprint = None;
            }
            Ok(state)
        }
        VERSION => serde_json::from_slice(bytes).map_err(|e| format!("corrupt state ({e})")),
        other => Err(format!(
            "schema version {other} (this build reads 1 to {VERSION})"
        )),
    }
}

impl StateStore for FileStore {
    fn load(&mut self) -> Result<State, StoreError> {
        match read(&self.path) {
            Ok(Some(state)) => Ok(state),
            Ok(None) => Ok(State::default()),
            Err(Unusable::Io(source)) => Err(StoreError::Read {
                path: self.path.clone(),
                source,
            }),
            Err(Unusable::Content(why)) => {
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
                    Err(e) => {
                        // It stays where it is; starting fresh would overwrite it at the first save.
                        return Err(StoreError::Read {
                            path: self.path.clone(),
                            source: std::io::Error::other(format!(
                                "{why}, and it cannot be moved aside ({e})"
                            )),
                        });
                    }
                }
                Ok(State::default())
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

/// An in-memory store (tests, dry runs).
#[derive(Default, Clone)]
pub struct MemoryStore {
    pub state: std::sync::Arc<std::sync::Mutex<Option<State>>>,
    pub saves: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    /// When set, every save fails with this message (a full disk, a read-only directory).
    pub fail_saves: std::sync::Arc<std::sync::Mutex<Option<String>>>,
}

impl StateStore for MemoryStore {
    fn load(&mut self) -> Result<State, StoreError> {
        Ok(self
            .state
            .lock()
            .ok()
            .and_then(|s| s.clone())
            .unwrap_or_default())
    }

    fn save(&mut self, state: &State) -> Result<(), StoreError> {
        if let Some(why) = self.fail_saves.lock().ok().and_then(|f| f.clone()) {
            return Err(StoreError::Write {
                path: PathBuf::from("(memory)"),
                source: std::io::Error::other(why),
            });
        }
        if let Ok(mut s) = self.state.lock() {
            *s = Some(state.clone());
        }
        self.saves
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Ok(())
    }
}

/// The key of the settings fingerprints: 32 random bytes in a file of its own (owner-only), so the state
/// file alone says nothing about the secrets (a weak dyndns password cannot be guessed from it).
#[derive(Clone)]
pub struct FingerprintKey(ring::hmac::Key);

impl std::fmt::Debug for FingerprintKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("FingerprintKey(***)")
    }
}

impl FingerprintKey {
    /// The key stored at `path`; else the one an earlier version kept at `legacy` (next to the config),
    /// moved to `path` (the old file is removed when its directory allows); else a new key written to
    /// `path` (owner-only). When `path` cannot be written the key lives for this process only
    /// (fingerprints then change at every start, which re-publishes each record once).
    #[must_use]
    pub fn load_or_create(path: &Path, legacy: Option<&Path>) -> Self {
        if let Some(key) = Self::read(path) {
            return key;
        }
        if let Some((old, key, text)) =
            legacy.and_then(|l| Self::read_text(l).map(|(k, t)| (l, k, t)))
        {
            if path.exists() {
                // Something unreadable is in the way: keep it, use the old key this run.
                return key;
            }
            if write_atomic(path, text.as_bytes()).is_ok() {
                match std::fs::remove_file(old) {
                    Ok(()) => tracing::info!(
                        "moved the fingerprint key from {} to {}",
                        old.display(),
                        path.display()
                    ),
                    Err(e) => tracing::info!(
                        "copied the fingerprint key from {} to {} (the old file stays: {e})",
                        old.display(),
                        path.display()
                    ),
                }
            }
            return key;
        }
        let raw = Self::fresh();
        let hex = crate::encode::hex(&raw);
        if path.exists() || write_atomic(path, hex.as_bytes()).is_err() {
            tracing::warn!(
                "cannot store the fingerprint key in {}; using one for this run only",
                path.display()
            );
        }
        Self::from_bytes(&raw)
    }

    /// The stored key (at `path`, else at `legacy`) without writing anything: a dry run. Without one, a key
    /// for this run only.
    #[must_use]
    pub fn load(path: &Path, legacy: Option<&Path>) -> Self {
        Self::read(path)
            .or_else(|| legacy.and_then(Self::read))
            .unwrap_or_else(|| Self::from_bytes(&Self::fresh()))
    }

    fn read(path: &Path) -> Option<Self> {
        Self::read_text(path).map(|(k, _)| k)
    }

    fn read_text(path: &Path) -> Option<(Self, String)> {
        let bytes = crate::fsutil::read_limited(path, 1024).ok()??;
        let key = Self::decode(&bytes)?;
        Some((key, String::from_utf8_lossy(&bytes).trim().to_owned()))
    }

    fn fresh() -> [u8; 32] {
        let mut raw = [0u8; 32];
        let rng = ring::rand::SystemRandom::new();
        if ring::rand::SecureRandom::fill(&rng, &mut raw).is_err() {
            for b in &mut raw {
                *b = fastrand::u8(..);
            }
        }
        raw
    }

    fn decode(text: &[u8]) -> Option<Self> {
        let text = std::str::from_utf8(text).ok()?.trim();
        if text.len() != 64 {
            return None;
        }
        let raw: Option<Vec<u8>> = (0..32)
            .map(|i| u8::from_str_radix(text.get(i * 2..i * 2 + 2)?, 16).ok())
            .collect();
        raw.map(|r| Self::from_bytes(&r))
    }

    /// A key from raw bytes (tests).
    #[must_use]
    pub fn from_bytes(raw: &[u8]) -> Self {
        Self(ring::hmac::Key::new(ring::hmac::HMAC_SHA256, raw))
    }

    /// HMAC-SHA256 of `data`, hex.
    #[must_use]
    pub fn sign(&self, data: &[u8]) -> String {
        crate::encode::hex(ring::hmac::sign(&self.0, data).as_ref())
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
        let mut state = store.load().unwrap();
        state.records.insert(
            record_key("home.example.test", RecordType::A, "p", None),
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
        assert_eq!(store.load().unwrap(), state);
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(
            text.contains("\"version\": 2") && text.contains("2023-11-14T22:13:20Z"),
            "{text}"
        );
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
            ("truncated", "{\"version\": 2, \"last_ip\": {\"ipv4\": \"19"),
            ("future", "{\"version\": 99}"),
        ] {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("state.json");
            std::fs::write(&path, content).unwrap();
            let mut store = FileStore::open(&path).unwrap();
            let state = store.load().unwrap();
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

    /// Regression: a v1 file was "from another version" and moved aside, losing every published address.
    #[test]
    fn version_1_is_migrated_not_moved_aside() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.json");
        std::fs::write(
            &path,
            r#"{"version": 1, "salt": "abc", "last_ip": {"ipv4": "198.51.100.7"},
               "records": {"h.example.test/A/p": {"name": "h.example.test", "record_type": "A", "provider": "p",
               "fingerprint": "00ff", "published": "198.51.100.7", "failures": 0, "stopped": false}}}"#,
        )
        .unwrap();
        let state = FileStore::open(&path).unwrap().load().unwrap();
        assert!(path.exists());
        assert_eq!(state.version, VERSION);
        let r = &state.records["h.example.test/A/p"];
        assert_eq!(r.published, Some("198.51.100.7".parse().unwrap()));
        assert_eq!(
            r.fingerprint, None,
            "adopted at the next round, not a change"
        );
    }

    /// Regression: an unreadable state file was treated as corrupt, and then overwritten by fresh state.
    #[cfg(unix)]
    #[test]
    fn an_unreadable_file_is_an_error_and_left_alone() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.json");
        std::fs::write(&path, "{\"version\": 2}").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o000)).unwrap();
        if std::fs::read(&path).is_ok() {
            eprintln!("skipping: running with privileges that ignore file permissions");
            return;
        }
        let err = FileStore::open(&path).unwrap().load().unwrap_err();
        assert!(matches!(err, StoreError::Read { .. }), "{err}");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "{\"version\": 2}");
    }

    #[test]
    fn a_device_is_refused_not_read() {
        #[cfg(unix)]
        {
            let err = read(Path::new("/dev/zero")).unwrap_err();
            assert!(matches!(err, Unusable::Io(_)), "{err}");
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

    #[test]
    fn fingerprint_key_is_stored_once_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("data/fingerprint.key");
        let a = FingerprintKey::load_or_create(&path, None);
        let b = FingerprintKey::load_or_create(&path, None);
        assert_eq!(a.sign(b"x"), b.sign(b"x"));
        assert_ne!(
            a.sign(b"x"),
            FingerprintKey::from_bytes(&[0; 32]).sign(b"x")
        );
        assert_eq!(std::fs::read_to_string(&path).unwrap().len(), 64);
    }

    /// Regression: the key was written next to the config (which may be read-only `/etc/ddns-tray`), even
    /// by a dry run. It lives in the data dir; an old one is moved there with its value; a dry run writes
    /// nothing.
    #[test]
    fn fingerprint_key_moves_to_the_data_dir_and_dry_runs_write_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let legacy = dir.path().join("cfg/fingerprint.key");
        let path = dir.path().join("data/fingerprint.key");
        std::fs::create_dir_all(legacy.parent().unwrap()).unwrap();
        std::fs::write(&legacy, "ab".repeat(32)).unwrap();
        let expected = FingerprintKey::from_bytes(&[0xab; 32]).sign(b"x");
        assert_eq!(
            FingerprintKey::load(&path, Some(&legacy)).sign(b"x"),
            expected
        );
        assert!(!path.exists(), "a dry run writes nothing");
        assert_eq!(
            FingerprintKey::load_or_create(&path, Some(&legacy)).sign(b"x"),
            expected
        );
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "ab".repeat(32));
        assert!(!legacy.exists(), "moved, not copied");
        let fresh = dir.path().join("none/fingerprint.key");
        let _ = FingerprintKey::load(&fresh, None);
        assert!(!fresh.exists());
    }
}
