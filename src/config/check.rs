//! Checks of single values that every layer shares: the reporter kinds use for their own fields
//! ([`FieldCheck`]), DNS names, durations, DNS server addresses, interface names, proxies, and the typed
//! reading of a table with every problem's path.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use serde::de::DeserializeOwned;
use toml::{Table, Value};

use super::secret::Lookup;
use super::{Issue, Proxy};

/// `proxy`: a URL of a known scheme with a host, credentials apart (a password is a secret).
pub fn proxy(
    raw: Option<&super::file::ProxyFile>,
    path: &str,
    lookup: &dyn Lookup,
    issues: &mut Vec<Issue>,
) -> Option<Proxy> {
    use super::file::ProxyFile;
    let (url, username, password) = match raw? {
        ProxyFile::Url(u) if u.trim() == "none" => return Some(Proxy::Direct),
        ProxyFile::Url(u) => (u.trim(), None, None),
        ProxyFile::Table {
            url,
            username,
            password,
        } => (url.trim(), username.clone(), password.clone()),
    };
    let hint = "give the proxy as \"http://host:port\", \"https://host:port\" or \"socks5://host:port\" (credentials in username and password = { env = \"…\" }), or \"none\" for direct";
    let parsed = match reqwest::Url::parse(url) {
        Ok(u) if u.host_str().is_some() => u,
        _ => {
            issues.push(Issue::new(
                path,
                format!("`{url}` is not a proxy URL"),
                hint,
            ));
            return None;
        }
    };
    if !matches!(parsed.scheme(), "http" | "https" | "socks5" | "socks5h") {
        issues.push(Issue::new(
            path,
            format!("`{}` proxies are not supported", parsed.scheme()),
            hint,
        ));
        return None;
    }
    if parsed.password().is_some() {
        issues.push(Issue::new(
            path,
            "has a password in its URL, where every log line and error could show it",
            "use proxy = { url = \"…\", username = \"…\", password = { env = \"PROXY_PASSWORD\" } } (or a keyring entry)",
        ));
        return None;
    }
    let username =
        username.or_else(|| Some(parsed.username().to_owned()).filter(|u| !u.is_empty()));
    let mut clean = parsed.clone();
    let _ = clean.set_username("");
    let mut password = password;
    if let Some(p) = password.as_mut()
        && let Err(e) = p.resolve(lookup)
    {
        issues.push(Issue::new(format!("{path}.password"), e.message, e.hint));
    }
    Some(Proxy::Via {
        url: clean.as_str().trim_end_matches('/').to_owned(),
        username,
        password,
    })
}

pub fn duration(
    text: Option<&str>,
    path: &str,
    default: Duration,
    issues: &mut Vec<Issue>,
) -> Duration {
    let Some(text) = text else { return default };
    match humantime::parse_duration(text.trim()) {
        Ok(d) => d,
        Err(e) => {
            issues.push(Issue::new(
                path,
                format!("`{text}` is not a duration ({e})"),
                "write a number with a unit, e.g. \"30s\", \"5m\", \"1h\"",
            ));
            default
        }
    }
}

/// Reports problems with the fields of one entry (a provider, a record, a notifier) under its path.
/// Provider kinds use it to check their own fields.
pub struct FieldCheck<'a> {
    path: &'a str,
    issues: &'a mut Vec<Issue>,
}

impl<'a> FieldCheck<'a> {
    pub fn new(path: &'a str, issues: &'a mut Vec<Issue>) -> Self {
        Self { path, issues }
    }

    /// A problem with `field` (relative to the entry; `""` for the entry itself).
    pub fn issue(&mut self, field: &str, message: impl Into<String>, hint: impl Into<String>) {
        let path = if field.is_empty() {
            self.path.to_owned()
        } else {
            format!("{}.{field}", self.path)
        };
        self.issues.push(Issue::new(path, message, hint));
    }

    /// An http(s) URL with a host.
    pub fn http_url(&mut self, field: &str, url: &str) {
        match reqwest::Url::parse(url) {
            Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => {}
            Ok(u) => self.issue(
                field,
                format!(
                    "scheme `{}` is not http(s) or the host is missing",
                    u.scheme()
                ),
                "use a URL such as \"https://api.example.com\"",
            ),
            Err(e) => self.issue(
                field,
                format!("not a URL ({e})"),
                "use a full URL such as \"https://api.example.com\"",
            ),
        }
    }

    /// A DNS zone name.
    pub fn zone(&mut self, field: &str, zone: &str) {
        if let Err(e) = normalize_domain(zone) {
            self.issue(field, e, "use the zone's name, e.g. \"example.com\"");
        }
    }

    /// `host:port`, `[v6]:port`, or a bare host / IP (port 53).
    pub fn host_port(&mut self, field: &str, server: &str) {
        if let Err(e) = parse_server(server) {
            self.issue(
                field,
                e,
                "write it as \"host:port\", e.g. \"127.0.0.1:53\" or \"[2001:db8::1]:53\"",
            );
        }
    }

    /// A key id of letters and digits, as cloud consoles show them.
    pub fn key_id(&mut self, field: &str, id: &str, what: &str) {
        if id.is_empty() || !id.chars().all(|c| c.is_ascii_alphanumeric()) {
            self.issue(
                field,
                "is not a well-formed key id (letters and digits only)",
                format!("copy the {what} exactly as the console shows it"),
            );
        }
    }

    /// A resolution line's name: not empty, no surrounding spaces.
    pub fn line(&mut self, field: &str, line: Option<&str>) {
        if let Some(l) = line
            && (l.trim().is_empty() || l.trim() != l)
        {
            self.issue(
                field,
                "is empty or has surrounding spaces",
                "write the line's name as the console shows it, e.g. \"电信\" or \"telecom\", or leave it out for the default line",
            );
        }
    }
}

/// What is wrong with an interface name, if anything: a NUL or other control character (which the OS
/// would cut the name at, binding to another interface), and on Linux more than 15 bytes, a `/` or spaces
/// (which no Linux interface name has).
pub fn interface_name_problem(name: &str) -> Option<String> {
    if name.trim().is_empty() {
        return None;
    }
    if name.chars().any(char::is_control) {
        return Some("contains a NUL or another control character".into());
    }
    if cfg!(target_os = "linux") {
        let name = name.trim();
        if name.len() > 15 {
            return Some(format!(
                "`{name}` is longer than 15 bytes, the longest interface name Linux has"
            ));
        }
        if name.contains('/') || name.chars().any(char::is_whitespace) {
            return Some(format!(
                "`{name}` has a `/` or a space, which no Linux interface name has"
            ));
        }
    }
    None
}

/// Normalises a DNS name: trims, drops one trailing dot, converts to lower-case punycode (IDNA), and checks
/// the labels. A leading `*` label (wildcard) is allowed.
pub fn normalize_domain(name: &str) -> Result<String, String> {
    let trimmed = name.trim();
    let trimmed = trimmed.strip_suffix('.').unwrap_or(trimmed);
    if trimmed.is_empty() {
        return Err("is empty".into());
    }
    let ascii = idna::domain_to_ascii(trimmed)
        .map_err(|_| format!("`{trimmed}` is not a valid domain name"))?;
    if ascii.len() > 253 {
        return Err("is longer than 253 characters".into());
    }
    for (i, label) in ascii.split('.').enumerate() {
        let ok_chars = label
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        let wildcard = i == 0 && label == "*";
        if label.is_empty()
            || label.len() > 63
            || !(ok_chars || wildcard)
            || label.starts_with('-')
            || label.ends_with('-')
        {
            return Err(format!(
                "`{trimmed}` is not a valid domain name (label `{label}`)"
            ));
        }
    }
    Ok(ascii)
}

pub fn unknown_key(key: &str, prefix: &str, known: &[&str]) -> Issue {
    Issue::new(
        format!("{prefix}{key}"),
        format!("unknown key `{key}`"),
        format!("remove it, or use one of: {}", known.join(", ")),
    )
}

/// Deserializes one value, reporting the path inside it on failure.
pub fn typed<T: DeserializeOwned>(value: Value, path: &str, issues: &mut Vec<Issue>) -> Option<T> {
    match serde_path_to_error::deserialize::<_, T>(value) {
        Ok(v) => Some(v),
        Err(e) => {
            let inner = e.path().to_string();
            let mut full = if inner == "." || inner.is_empty() {
                path.to_owned()
            } else {
                format!("{path}.{inner}")
            };
            let message = e.into_inner().message().trim().to_owned();
            // Tagged enums lose the path of an unknown or missing key; the message still names it.
            if let Some(field) = message
                .strip_prefix("unknown field `")
                .or_else(|| message.strip_prefix("missing field `"))
                .and_then(|m| m.split('`').next())
                && !full.ends_with(field)
            {
                full = format!("{full}.{field}");
            }
            issues.push(Issue::new(full, message, type_hint(path)));
            None
        }
    }
}

fn type_hint(path: &str) -> String {
    if path.starts_with("provider") {
        "see the provider's section in the README for its fields".into()
    } else if path.starts_with("record") {
        "a record has `name`, `provider`, and optionally `type` (\"A\" or \"AAAA\") and `ttl`"
            .into()
    } else if path.starts_with("line") {
        "a line has `name` and either `interface` or `source`".into()
    } else if path.starts_with("notify") {
        "see \"Alerts\" in the README for the notifier kinds and their fields".into()
    } else if path.starts_with("metrics") {
        "[metrics] has `listen`, and optionally `allow_remote` and `token`".into()
    } else if path.starts_with("detect") {
        "see \"IP detection\" in the README for the source kinds and their fields".into()
    } else {
        "see the config example in the README".into()
    }
}

pub fn duration_string(value: Value, path: &str, issues: &mut Vec<Issue>) -> Option<String> {
    match value {
        Value::String(s) => Some(s),
        other => {
            issues.push(Issue::new(
                path,
                format!("expected a duration string, found {}", other.type_str()),
                "write it in quotes with a unit, e.g. \"30s\", \"5m\" or \"1h\"",
            ));
            None
        }
    }
}

pub fn entry_table(value: Value, path: &str, issues: &mut Vec<Issue>) -> Option<Table> {
    match value {
        Value::Table(t) => Some(t),
        other => {
            issues.push(Issue::new(
                path,
                format!("expected a table, found {}", other.type_str()),
                "write it as { kind = \"...\", ... }",
            ));
            None
        }
    }
}

/// Deserializes a `kind`-tagged table, with a clear message for a missing or unknown kind.
pub fn kind_of<T: DeserializeOwned>(
    table: Table,
    path: &str,
    kinds: &[&str],
    issues: &mut Vec<Issue>,
) -> Option<T> {
    match table.get("kind") {
        None => {
            issues.push(Issue::new(
                format!("{path}.kind"),
                "missing",
                format!("set kind to one of: {}", kinds.join(", ")),
            ));
            return None;
        }
        Some(Value::String(k)) if !kinds.contains(&k.as_str()) => {
            issues.push(Issue::new(
                format!("{path}.kind"),
                format!("unknown kind `{k}`"),
                format!("use one of: {}", kinds.join(", ")),
            ));
            return None;
        }
        Some(Value::String(_)) => {}
        Some(other) => {
            issues.push(Issue::new(
                format!("{path}.kind"),
                format!("expected a string, found {}", other.type_str()),
                format!("use one of: {}", kinds.join(", ")),
            ));
            return None;
        }
    }
    typed(Value::Table(table), path, issues)
}

/// A `host:port` from the config; the host may be a name, resolved at use time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerAddr {
    pub host: String,
    pub port: u16,
}

impl std::fmt::Display for ServerAddr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.host.contains(':') {
            write!(f, "[{}]:{}", self.host, self.port)
        } else {
            write!(f, "{}:{}", self.host, self.port)
        }
    }
}

/// Parses `host:port`, `[v6]:port`, a bare IPv6 address or a bare host (port 53).
pub fn parse_server(text: &str) -> Result<ServerAddr, String> {
    let text = text.trim();
    if text.is_empty() {
        return Err("is empty".into());
    }
    if let Ok(sa) = text.parse::<SocketAddr>() {
        if sa.port() == 0 {
            return Err("port 0 is not allowed".into());
        }
        return Ok(ServerAddr {
            host: sa.ip().to_string(),
            port: sa.port(),
        });
    }
    if let Ok(ip) = text.parse::<IpAddr>() {
        return Ok(ServerAddr {
            host: ip.to_string(),
            port: 53,
        });
    }
    let (host, port) = match text.rsplit_once(':') {
        Some((h, p)) => (
            h,
            p.parse::<u16>()
                .map_err(|_| format!("`{p}` is not a port number"))?,
        ),
        None => (text, 53),
    };
    if port == 0 {
        return Err("port 0 is not allowed".into());
    }
    normalize_domain(host).map_err(|e| format!("host {e}"))?;
    Ok(ServerAddr {
        host: host.to_owned(),
        port,
    })
}
