//! The vocabulary every layer shares, and the file as written. No kind lives here: providers, notifiers
//! and detection sources read their own tables (`file` keeps them as `{name, kind, fields}`), and
//! `settings` assembles the validated whole.
//!
//! - the raw mirror of the TOML file and its reader that collects every problem (`file`);
//! - checks of single values and the reporter kinds use for their fields (`check`);
//! - the table entries kinds describe themselves with (`kinds`);
//! - writing a file back keeping its comments and layout (`edit`, feature `edit`);
//! - secrets and where they come from (`secret`);
//! - plain types: [`Family`], [`RecordType`], [`Issue`], [`LineBind`], [`Proxy`], [`Ipv6Host`].

pub mod check;
#[cfg(feature = "edit")]
pub mod edit;
pub mod file;
pub mod kinds;
pub mod secret;

use std::fmt;
use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use crate::i18n::tr;

pub use file::ConfigFile;
pub use secret::Secret;

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
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Issue {
    /// Field path such as `record[2].provider`, or `(file)` for the file as a whole.
    pub path: String,
    pub message: String,
    pub hint: String,
    /// The catalogue entry the message and hint were written from, so that a client in another language
    /// (a tray following the service) can write them in its own ([`Issue::localized`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub words: Option<Words>,
}

/// A catalogue entry (`<key>.msg`, `<key>.hint`) and its arguments, as text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Words {
    pub key: String,
    pub args: Vec<(String, String)>,
}

/// Two issues are the same problem when they say the same at the same place (whatever they came from).
impl PartialEq for Issue {
    fn eq(&self, other: &Self) -> bool {
        (&self.path, &self.message, &self.hint) == (&other.path, &other.message, &other.hint)
    }
}

impl Eq for Issue {}

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
            words: None,
        }
    }

    /// The issue in the language in use here: written again from its catalogue entry when it came with
    /// one this catalogue has (a `check.` entry), else as it came.
    #[must_use]
    pub fn localized(mut self) -> Self {
        let Some(words) = &self.words else {
            return self;
        };
        let msg = format!("{}.msg", words.key);
        if !words.key.starts_with("check.")
            || words.key.len() > 200
            || !crate::i18n::has_in(&rust_i18n::locale(), &msg)
        {
            return self;
        }
        let args: Vec<(&str, &dyn fmt::Display)> = words
            .args
            .iter()
            .map(|(k, v)| (k.as_str(), v as &dyn fmt::Display))
            .collect();
        self.message = crate::i18n::tr(&msg, &args);
        let hint = format!("{}.hint", words.key);
        if crate::i18n::has_in(&rust_i18n::locale(), &hint) {
            self.hint = crate::i18n::tr(&hint, &args);
        }
        self
    }
}

impl fmt::Display for Issue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.message)?;
        if !self.hint.is_empty() {
            write!(
                f,
                "\n    {}",
                tr("check.hint_label", &[("hint", &self.hint)])
            )?;
        }
        Ok(())
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

/// Parses a network such as `104.16.0.0/13` (a bare address is a /32 or /128).
pub fn parse_network(text: &str) -> Result<(std::net::IpAddr, u8), String> {
    let text = text.trim();
    let (addr, len) = text.split_once('/').unwrap_or((text, ""));
    let ip: std::net::IpAddr = addr
        .parse()
        .map_err(|_| tr("check.network.not_network", &[("text", &text)]))?;
    let max = if ip.is_ipv4() { 32 } else { 128 };
    let len = if len.is_empty() {
        max
    } else {
        len.parse::<u8>()
            .ok()
            .filter(|l| *l <= max)
            .ok_or_else(|| {
                tr(
                    "check.network.prefix_len",
                    &[("text", &text), ("max", &max)],
                )
            })?
    };
    Ok((ip, len))
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
            return Err(tr("check.ipv6_host.no_host_part", &[("len", &prefix_len)]));
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
            return Err(tr("check.ipv6_host.neither", &[("text", &text)]));
        };
        if host.is_multicast() {
            return Err(tr("check.ipv6_host.multicast", &[("text", &text)]));
        }
        let bits = u128::from(host);
        let host_mask = u128::MAX >> u32::from(prefix_len);
        if bits == host_mask {
            return Err(tr("check.ipv6_host.all_ones", &[]));
        }
        if bits == 0 {
            return Err(tr("check.ipv6_host.zero", &[]));
        }
        if bits >> (128 - u32::from(prefix_len)) != 0 {
            return Err(tr(
                "check.ipv6_host.prefix_bits",
                &[("text", &text), ("len", &prefix_len)],
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
