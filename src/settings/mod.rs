//! Validated settings: what the engine runs on. [`load`] reads the file (`config::file`), lets each kind
//! read its own tables (providers, notifiers, detection sources) and checks everything that spans entries
//! (names, records and the providers they name, lines, metrics), collecting every problem before giving up.
//!
//! The engine only ever sees [`Settings`]: durations parsed, names normalised to punycode, secrets resolved,
//! provider references checked. Problems are [`Issue`]s, each naming the field path, what is wrong and how to
//! fix it.

mod records;
mod validate;
// Without `edit` (a headless build) a config is never written: `write_config` says so; masking stays.
#[cfg_attr(not(feature = "edit"), allow(dead_code))]
pub mod write;

use std::path::{Path, PathBuf};
use std::time::Duration;

pub use crate::config::{
    APP_NAME, CONFIG_ENV, Family, Issue, LineBind, LineSettings, Proxy, RecordType,
};
pub use crate::config::{ConfigFile, Ipv6Host, Secret};
pub use crate::detect::settings::{
    DetectSettings, Policy, SourceKind, SourceSettings, default_sources,
};
pub use crate::notifier::NotifierSettings;
pub use crate::provider::{ProviderKind, ProviderSettings};
pub use records::DEFAULT_HOLD_DOWN;
pub use validate::{DEFAULT_INTERVAL, DEFAULT_MAX_INTERVAL, MIN_INTERVAL, validate};
pub use write::{WriteError, Written, inlined, masked, unmask, write_config};

/// The window of `write_budget`.
pub const WRITE_WINDOW: Duration = Duration::from_mins(10);

/// The default `write_budget`: a real address change is rare; a link flapping between two addresses is not.
pub const DEFAULT_WRITE_BUDGET: u32 = 6;

/// Validated settings: what the engine runs on.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    pub interval: Duration,
    /// Re-publish at least this often; `None` = never.
    pub max_interval: Option<Duration>,
    /// At most this many provider writes of one record in any [`WRITE_WINDOW`]; `None` = no limit.
    pub write_budget: Option<u32>,
    /// `proxy`: `None` = the OS's setting (environment variables, `WinINET`, macOS system configuration).
    pub proxy: Option<Proxy>,
    pub ipv4: bool,
    pub ipv6: bool,
    pub notifications: bool,
    /// `language`: the catalogue menus, toasts, alerts and messages are read from.
    pub language: crate::i18n::Language,
    pub detect: DetectSettings,
    pub providers: Vec<ProviderSettings>,
    pub records: Vec<RecordSettings>,
    /// Uplinks detection can go through (`[[line]]`).
    pub lines: Vec<LineSettings>,
    /// Where alerts go (`[[notify]]`).
    pub notify: Vec<NotifierSettings>,
    /// The Prometheus endpoint, when `[metrics]` sets one.
    pub metrics: Option<MetricsSettings>,
}

/// A record published from `[[line]]`s.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Via {
    /// Line names, in order of preference.
    pub lines: Vec<String>,
    /// Publish every working line's address (else the first working line's).
    pub all: bool,
    /// How long a preferred line must work again before the record switches back to it.
    pub hold_down: Duration,
    /// Provider calls go through the line whose address is published (the first one with `all`).
    pub provider_via_line: bool,
}

/// Validated `[metrics]`.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricsSettings {
    pub listen: std::net::SocketAddr,
    /// Required as `Authorization: Bearer ...` when set.
    pub token: Option<Secret>,
}

impl Settings {
    #[must_use]
    pub fn family_enabled(&self, family: Family) -> bool {
        match family {
            Family::V4 => self.ipv4,
            Family::V6 => self.ipv6,
        }
    }

    #[must_use]
    pub fn provider(&self, name: &str) -> Option<&ProviderSettings> {
        self.providers.iter().find(|p| p.name == name)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordSettings {
    /// Lower-case ASCII (punycode), no trailing dot.
    pub name: String,
    pub record_type: RecordType,
    pub provider: String,
    pub ttl: Option<u32>,
    /// The resolution line to manage (the record's `line`, else its provider's); `None` = the default line.
    pub line: Option<String>,
    /// For an AAAA record of a LAN host: publish the detected prefix combined with this host id.
    pub ipv6_host: Option<Ipv6Host>,
    /// Published from these uplinks (`lines`); `None`: from the default route, as detected.
    pub via: Option<Via>,
}

impl RecordSettings {
    /// `name type`, the way records are shown (`name type line` when a line is set).
    #[must_use]
    pub fn label(&self) -> String {
        match &self.line {
            Some(l) => format!("{} {} ({l})", self.name, self.record_type),
            None => format!("{} {}", self.name, self.record_type),
        }
    }
}

/// The largest config file read.
pub const MAX_CONFIG_BYTES: u64 = 1 << 20;

/// Why a config could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("cannot read config file {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "config file {path} does not exist (it was given with --config or DDNS_TRAY_CONFIG); create it, or fix the path"
    )]
    Missing { path: PathBuf },
    #[error("config file {path} is {what}; keeping the running settings")]
    Gone { path: PathBuf, what: &'static str },
    #[error("config file {path} has {} problem(s)", issues.len())]
    Invalid { path: PathBuf, issues: Vec<Issue> },
}

/// The config path: `--config`, else `DDNS_TRAY_CONFIG`, else the OS config dir (via confy). The flag says
/// whether the path was given explicitly (then it must exist).
pub fn resolve_path(cli: Option<&Path>) -> Result<(PathBuf, bool), LoadError> {
    if let Some(p) = cli {
        return Ok((p.to_owned(), true));
    }
    if let Some(p) = std::env::var_os(CONFIG_ENV).filter(|p| !p.is_empty()) {
        return Ok((PathBuf::from(p), true));
    }
    confy::get_configuration_file_path(APP_NAME, "config")
        .map(|p| (p, false))
        .map_err(|e| LoadError::Io {
            path: PathBuf::from("<config dir>"),
            source: std::io::Error::other(format!("cannot find the OS config directory: {e}")),
        })
}

/// How a missing file is taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Missing {
    /// The defaults apply (the default path at first start).
    Defaults,
    /// An error: the path was given explicitly, so a missing file is a typo.
    Error,
    /// An error, and an empty file too: a reload must never replace running settings with the defaults.
    KeepRunning,
}

/// Reads and validates the file (at most [`MAX_CONFIG_BYTES`], a regular file); `lookup` resolves its
/// secret references. Never writes anything: an invalid file stays as it is.
pub fn load(
    path: &Path,
    missing: Missing,
    lookup: &dyn crate::config::secret::Lookup,
) -> Result<(ConfigFile, Settings), LoadError> {
    let io = |source| LoadError::Io {
        path: path.to_owned(),
        source,
    };
    let text = match crate::fsutil::read_limited(path, MAX_CONFIG_BYTES).map_err(io)? {
        Some(bytes) => {
            String::from_utf8(bytes).map_err(|_| io(std::io::Error::other("not UTF-8 text")))?
        }
        None => match missing {
            Missing::Defaults => String::new(),
            Missing::Error => {
                return Err(LoadError::Missing {
                    path: path.to_owned(),
                });
            }
            Missing::KeepRunning => {
                return Err(LoadError::Gone {
                    path: path.to_owned(),
                    what: "missing",
                });
            }
        },
    };
    if missing == Missing::KeepRunning && text.trim().is_empty() {
        return Err(LoadError::Gone {
            path: path.to_owned(),
            what: "empty",
        });
    }
    load_str(&text, lookup).map_err(|issues| LoadError::Invalid {
        path: path.to_owned(),
        issues,
    })
}

/// The text of the config file at `path` (at most [`MAX_CONFIG_BYTES`]); empty when there is none yet. The
/// error is a sentence naming the file.
pub fn config_text(path: &std::path::Path) -> Result<String, String> {
    let cannot = |error: &dyn std::fmt::Display| {
        crate::i18n::tr(
            "save.cannot_read",
            &[("path", &path.display()), ("error", error)],
        )
    };
    match crate::fsutil::read_limited(path, MAX_CONFIG_BYTES) {
        Ok(Some(bytes)) => String::from_utf8(bytes).map_err(|_| cannot(&"not UTF-8 text")),
        Ok(None) => Ok(String::new()),
        Err(e) => Err(cannot(&e)),
    }
}

/// Parses and validates text; `env` resolves `{ env = "VAR" }` secrets.
pub fn load_str(
    text: &str,
    lookup: &dyn crate::config::secret::Lookup,
) -> Result<(ConfigFile, Settings), Vec<Issue>> {
    let parsed = crate::config::file::parse(text)?;
    let mut issues = parsed.issues;
    match validate(&parsed.file, lookup) {
        Ok(settings) if issues.is_empty() => Ok((parsed.file, settings)),
        Ok(_) => Err(issues),
        Err(more) => {
            issues.extend(more);
            Err(issues)
        }
    }
}

#[cfg(test)]
mod tests;
