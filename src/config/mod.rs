//! Configuration: the TOML file (`file`), its validation into [`Settings`] (`validate`) and secrets (`secret`).
//!
//! The engine only ever sees [`Settings`]: durations parsed, names normalised to punycode, secrets resolved,
//! provider references checked. Problems are [`Issue`]s, each naming the field path, what is wrong and how to
//! fix it; loading collects all of them before giving up.

pub mod file;
pub mod secret;
pub mod validate;

use std::fmt;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

pub use crate::provider::ProviderKind;
pub use file::{ConfigFile, SourceKind};
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

    /// `ipv4` or `ipv6`, as in the config file and JSON.
    #[must_use]
    pub fn key(self) -> &'static str {
        match self {
            Self::V4 => "ipv4",
            Self::V6 => "ipv6",
        }
    }

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
    /// The first valid answer, as `first`; an answer that differs from the last known address is written
    /// only when a source of another operator gives the same one.
    Confirm,
}

impl fmt::Display for Policy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::First => "first",
            Self::Agree => "agree",
            Self::Confirm => "confirm",
        })
    }
}

/// Where provider and alert calls go (`proxy`). Detection never uses a proxy: it would see the proxy's
/// address.
#[derive(Debug, Clone, PartialEq)]
pub enum Proxy {
    /// `"none"`: direct, whatever the OS's proxy setting says.
    Direct,
    /// Through this proxy (`http`, `https`, `socks5` or `socks5h`); `url` holds no credentials.
    Via {
        url: String,
        username: Option<String>,
        password: Option<Secret>,
    },
}

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

/// One `[[line]]`: an uplink and how sockets are sent through it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineSettings {
    pub name: String,
    pub bind: LineBind,
}

/// How a line's sockets are bound.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LineBind {
    /// To a network interface (`SO_BINDTODEVICE` on Linux, `IP_BOUND_IF` on macOS; on Windows to the
    /// interface's current address).
    Interface(String),
    /// To a local address.
    Source(IpAddr),
}

impl fmt::Display for LineBind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Interface(name) => write!(f, "interface {name}"),
            Self::Source(ip) => write!(f, "source {ip}"),
        }
    }
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

/// One validated `[[notify]]` entry (secrets resolved).
#[derive(Debug, Clone, PartialEq)]
pub struct NotifierSettings {
    pub name: String,
    pub kind: crate::notify::kinds::NotifierKind,
    /// The alert categories it gets.
    pub events: Vec<crate::notify::kinds::Category>,
    pub max_per_hour: u32,
    /// Its calls' proxy: its own `proxy`, else the top-level one; `None` = the OS's setting.
    pub proxy: Option<Proxy>,
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

#[derive(Debug, Clone, PartialEq)]
pub struct DetectSettings {
    pub policy: Policy,
    pub ipv4: Vec<SourceSettings>,
    pub ipv6: Vec<SourceSettings>,
    /// `cdn_ranges`: networks whose addresses are a CDN's own (`None`: the built-in Cloudflare list).
    pub cdn_ranges: Option<Vec<(std::net::IpAddr, u8)>>,
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
    pub allow_cdn: bool,
    /// Who runs it, when the config says (else derived from its host by the detector).
    pub operator: Option<String>,
    /// Through this proxy (`allow_proxy = true` was given); else direct, always.
    pub proxy: Option<Proxy>,
}

/// Parses a network such as `104.16.0.0/13` (a bare address is a /32 or /128).
pub fn parse_network(text: &str) -> Result<(std::net::IpAddr, u8), String> {
    let text = text.trim();
    let (addr, len) = text.split_once('/').unwrap_or((text, ""));
    let ip: std::net::IpAddr = addr
        .parse()
        .map_err(|_| format!("`{text}` is not a network like \"104.16.0.0/13\""))?;
    let max = if ip.is_ipv4() { 32 } else { 128 };
    let len = if len.is_empty() {
        max
    } else {
        len.parse::<u8>()
            .ok()
            .filter(|l| *l <= max)
            .ok_or_else(|| format!("`{text}` has a prefix length outside 0..={max}"))?
    };
    Ok((ip, len))
}

#[derive(Debug, Clone, PartialEq)]
pub struct ProviderSettings {
    pub name: String,
    /// Validated, with secrets resolved.
    pub kind: ProviderKind,
    /// Its calls' proxy: its own `proxy`, else the top-level one; `None` = the OS's setting.
    pub proxy: Option<Proxy>,
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

/// A LAN host's IPv6 address made from the detected (delegated) prefix and a fixed host part: the record's
/// `ipv6_host` (an interface id such as `::1234`, or a MAC address turned into its EUI-64 id) and
/// `ipv6_prefix_len` (default 64).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ipv6Host {
    /// Only the bits after `prefix_len` are set.
    pub host: std::net::Ipv6Addr,
    pub prefix_len: u8,
}

impl Ipv6Host {
    /// The default prefix length: a delegated /64.
    pub const DEFAULT_PREFIX_LEN: u8 = 64;

    /// Parses `::1234` (an interface id) or `52:54:00:12:34:56` (a MAC address, as its modified EUI-64 id).
    ///
    /// # Errors
    /// Neither form, or host bits inside the prefix, in words for the config error.
    pub fn parse(text: &str, prefix_len: u8) -> Result<Self, String> {
        if !(1..=127).contains(&prefix_len) {
            return Err(format!(
                "a prefix length of {prefix_len} leaves no host part"
            ));
        }
        let text = text.trim();
        let host = if let Ok(ip) = text.parse::<std::net::Ipv6Addr>() {
            ip
        } else if let Some(mac) = parse_mac(text) {
            // RFC 4291 appendix A: ff:fe in the middle, the universal/local bit flipped.
            let mut id = [0u8; 16];
            id[8] = mac[0] ^ 0x02;
            id[9..11].copy_from_slice(&mac[1..3]);
            id[11] = 0xff;
            id[12] = 0xfe;
            id[13..16].copy_from_slice(&mac[3..6]);
            std::net::Ipv6Addr::from(id)
        } else {
            return Err(format!(
                "`{text}` is neither an IPv6 interface id (like \"::1234\") nor a MAC address (like \"52:54:00:12:34:56\")"
            ));
        };
        if host.is_multicast() {
            return Err(format!(
                "`{text}` is a multicast address, not a host's interface id; give only the host part, e.g. \"::1234\""
            ));
        }
        let bits = u128::from(host);
        let host_mask = u128::MAX >> u32::from(prefix_len);
        if bits == host_mask {
            return Err(
                "the host part is all ones (reserved: RFC 5453 anycast identifiers), not a host's address"
                    .into(),
            );
        }
        if bits == 0 {
            return Err(
                "the host part is zero (that is the prefix's own subnet-router address)".into(),
            );
        }
        if bits >> (128 - u32::from(prefix_len)) != 0 {
            return Err(format!(
                "`{text}` has bits inside the /{prefix_len} prefix; give only the host part, e.g. \"::1234\""
            ));
        }
        Ok(Self { host, prefix_len })
    }

    /// `prefix`'s first `prefix_len` bits followed by the host part.
    #[must_use]
    pub fn apply(&self, prefix: std::net::Ipv6Addr) -> std::net::Ipv6Addr {
        let keep = u128::MAX << (128 - u32::from(self.prefix_len));
        std::net::Ipv6Addr::from((u128::from(prefix) & keep) | u128::from(self.host))
    }
}

fn parse_mac(text: &str) -> Option<[u8; 6]> {
    let parts: Vec<&str> = text.split([':', '-']).collect();
    if parts.len() != 6 {
        return None;
    }
    let mut mac = [0u8; 6];
    for (byte, part) in mac.iter_mut().zip(parts) {
        if part.len() != 2 {
            return None;
        }
        *byte = u8::from_str_radix(part, 16).ok()?;
    }
    Some(mac)
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

/// Reads and validates the file (at most [`MAX_CONFIG_BYTES`], a regular file). Never writes anything: an
/// invalid file stays as it is.
pub fn load(path: &Path, missing: Missing) -> Result<(ConfigFile, Settings), LoadError> {
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
