//! Configuration: the TOML file (`file`), its validation into [`Settings`] (`validate`) and secrets (`secret`).
//!
//! The engine only ever sees [`Settings`]: durations parsed, names normalised to punycode, secrets resolved,
//! provider references checked. Problems are [`Issue`]s, each naming the field path, what is wrong and how to
//! fix it; loading collects all of them before giving up.

pub mod file;
pub mod providers;
pub mod secret;
mod validate;

use std::fmt;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

pub use file::{ConfigFile, ProviderKind, SourceKind};
pub use secret::Secret;
pub use validate::{normalize_domain, validate};

/// The application name used for the OS config and data directories.
pub const APP_NAME: &str = "ddns-tray";
/// Environment variable overriding the config file path.
pub const CONFIG_ENV: &str = "DDNS_TRAY_CONFIG";

/// An IP address family.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Family {
    #[serde(rename = "ipv4")]
    V4,
    #[serde(rename = "ipv6")]
    V6,
}

impl Family {
    pub const ALL: [Family; 2] = [Family::V4, Family::V6];

    #[must_use]
    pub fn of(ip: IpAddr) -> Self {
        if ip.is_ipv4() { Self::V4 } else { Self::V6 }
    }

    #[must_use]
    pub fn record_type(self) -> RecordType {
        match self {
            Self::V4 => RecordType::A,
            Self::V6 => RecordType::Aaaa,
        }
    }
}

impl fmt::Display for Family {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::V4 => "IPv4",
            Self::V6 => "IPv6",
        })
    }
}

/// The DNS record types ddns-tray maintains.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum RecordType {
    A,
    #[serde(rename = "AAAA")]
    Aaaa,
}

impl RecordType {
    #[must_use]
    pub fn family(self) -> Family {
        match self {
            Self::A => Family::V4,
            Self::Aaaa => Family::V6,
        }
    }

    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::A => "A",
            Self::Aaaa => "AAAA",
        }
    }
}

impl fmt::Display for RecordType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One problem in the config: where, what, and how to fix it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Issue {
    /// Field path such as `record[2].provider`, or `(file)` for the file as a whole.
    pub path: String,
    pub message: String,
    pub hint: String,
}

impl Issue {
    pub fn new(
        path: impl Into<String>,
        message: impl Into<String>,
        hint: impl Into<String>,
    ) -> Self {
        Self {
            path: path.into(),
            message: message.into(),
            hint: hint.into(),
        }
    }
}

impl fmt::Display for Issue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.message)?;
        if !self.hint.is_empty() {
            write!(f, "\n    hint: {}", self.hint)?;
        }
        Ok(())
    }
}

/// How detection combines its sources.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Policy {
    /// The first valid answer, asking the sources in order.
    #[default]
    First,
    /// At least two sources, asked concurrently, must agree.
    Agree,
}

impl fmt::Display for Policy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::First => "first",
            Self::Agree => "agree",
        })
    }
}

/// Validated settings: what the engine runs on.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    pub interval: Duration,
    /// Re-publish at least this often; `None` = never.
    pub max_interval: Option<Duration>,
    pub ipv4: bool,
    pub ipv6: bool,
    pub notifications: bool,
    pub detect: DetectSettings,
    pub providers: Vec<ProviderSettings>,
    pub records: Vec<RecordSettings>,
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

#[derive(Debug, Clone, PartialEq)]
pub struct DetectSettings {
    pub policy: Policy,
    pub ipv4: Vec<SourceSettings>,
    pub ipv6: Vec<SourceSettings>,
}

impl DetectSettings {
    #[must_use]
    pub fn sources(&self, family: Family) -> &[SourceSettings] {
        match family {
            Family::V4 => &self.ipv4,
            Family::V6 => &self.ipv6,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct SourceSettings {
    pub kind: SourceKind,
    pub timeout: Duration,
    pub allow_private: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ProviderSettings {
    pub name: String,
    /// Validated, with secrets resolved.
    pub kind: ProviderKind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordSettings {
    /// Lower-case ASCII (punycode), no trailing dot.
    pub name: String,
    pub record_type: RecordType,
    pub provider: String,
    pub ttl: Option<u32>,
}

impl RecordSettings {
    /// `name type`, the way records are shown and keyed.
    #[must_use]
    pub fn label(&self) -> String {
        format!("{} {}", self.name, self.record_type)
    }
}

/// Why a config could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("cannot read config file {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("config file {path} has {} problem(s)", issues.len())]
    Invalid { path: PathBuf, issues: Vec<Issue> },
}

/// The config path: `--config`, else `DDNS_TRAY_CONFIG`, else the OS config dir (via confy).
pub fn resolve_path(cli: Option<&Path>) -> Result<PathBuf, LoadError> {
    if let Some(p) = cli {
        return Ok(p.to_owned());
    }
    if let Some(p) = std::env::var_os(CONFIG_ENV).filter(|p| !p.is_empty()) {
        return Ok(PathBuf::from(p));
    }
    confy::get_configuration_file_path(APP_NAME, "config").map_err(|e| LoadError::Io {
        path: PathBuf::from("<config dir>"),
        source: std::io::Error::other(format!("cannot find the OS config directory: {e}")),
    })
}

/// Reads and validates the file. A missing file means defaults (no records: detection only).
/// Never writes anything: an invalid file stays as it is.
pub fn load(path: &Path) -> Result<(ConfigFile, Settings), LoadError> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(source) => {
            return Err(LoadError::Io {
                path: path.to_owned(),
                source,
            });
        }
    };
    load_str(&text, &secret::SystemLookup).map_err(|issues| LoadError::Invalid {
        path: path.to_owned(),
        issues,
    })
}

/// Parses and validates text; `env` resolves `{ env = "VAR" }` secrets.
pub fn load_str(
    text: &str,
    lookup: &dyn secret::Lookup,
) -> Result<(ConfigFile, Settings), Vec<Issue>> {
    let parsed = file::parse(text)?;
    match validate(&parsed.file, lookup) {
        Ok(settings) if parsed.issues.is_empty() => Ok((parsed.file, settings)),
        Ok(_) => Err(parsed.issues),
        Err(more) => {
            let mut issues = parsed.issues;
            // A record naming a provider that failed to parse is already covered by that provider's issue.
            issues.extend(more.into_iter().filter(|i| {
                !(i.path.ends_with(".provider")
                    && parsed
                        .broken_providers
                        .iter()
                        .any(|n| i.message == format!("no provider is named `{n}`")))
            }));
            Err(issues)
        }
    }
}

#[cfg(test)]
mod tests;
