//! Checks of single values that every layer shares: the reporter kinds use for their own fields
//! ([`FieldCheck`]), DNS names, durations, DNS server addresses, interface names, proxies, and the typed
//! reading of a table with every problem's path.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use serde::de::DeserializeOwned;
use toml::{Table, Value};

use super::secret::Lookup;
use super::{Issue, Proxy};
use crate::i18n::tr;

/// A problem in the catalogue's words: `<key>.msg` and `<key>.hint`, their `%{name}`s filled from `args`.
#[must_use]
pub fn problem(
    path: impl Into<String>,
    key: &str,
    args: &[(&str, &dyn std::fmt::Display)],
) -> Issue {
    let mut issue = Issue::new(
        path,
        tr(&format!("{key}.msg"), args),
        tr(&format!("{key}.hint"), args),
    );
    issue.words = Some(super::Words {
        key: key.to_owned(),
        args: args
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.to_string()))
            .collect(),
    });
    issue
}

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
    let parsed = match reqwest::Url::parse(url) {
        Ok(u) if u.host_str().is_some() => u,
        _ => {
            issues.push(problem(path, "check.proxy_not_url", &[("url", &url)]));
            return None;
        }
    };
    if !matches!(parsed.scheme(), "http" | "https" | "socks5" | "socks5h") {
        issues.push(problem(
            path,
            "check.proxy_scheme",
            &[("scheme", &parsed.scheme())],
        ));
        return None;
    }
    if parsed.password().is_some() {
        issues.push(problem(path, "check.proxy_password_in_url", &[]));
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
            issues.push(problem(
                path,
                "check.not_duration",
                &[("text", &text), ("error", &e)],
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

    /// The path of `field` (relative to the entry; `""` for the entry itself).
    fn path_of(&self, field: &str) -> String {
        if field.is_empty() {
            self.path.to_owned()
        } else {
            format!("{}.{field}", self.path)
        }
    }

    /// A problem with `field`, in words already made.
    pub fn issue(&mut self, field: &str, message: impl Into<String>, hint: impl Into<String>) {
        let path = self.path_of(field);
        self.issues.push(Issue::new(path, message, hint));
    }

    /// A problem with `field` in the catalogue's words (`<key>.msg`, `<key>.hint`).
    pub fn problem(&mut self, field: &str, key: &str, args: &[(&str, &dyn std::fmt::Display)]) {
        let path = self.path_of(field);
        self.issues.push(problem(path, key, args));
    }

    /// An http(s) URL with a host.
    pub fn http_url(&mut self, field: &str, url: &str) {
        match reqwest::Url::parse(url) {
            Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => {}
            Ok(u) => self.problem(field, "check.url_scheme", &[("scheme", &u.scheme())]),
            Err(e) => self.problem(field, "check.not_url", &[("error", &e)]),
        }
    }

    /// A DNS zone name.
    pub fn zone(&mut self, field: &str, zone: &str) {
        if let Err(e) = normalize_domain(zone) {
            self.issue(field, e, tr("check.zone_hint", &[]));
        }
    }

    /// `host:port`, `[v6]:port`, or a bare host / IP (port 53).
    pub fn host_port(&mut self, field: &str, server: &str) {
        if let Err(e) = parse_server(server) {
            self.issue(field, e, tr("check.host_port_hint", &[]));
        }
    }

    /// A key id of letters and digits, as cloud consoles show them.
    pub fn key_id(&mut self, field: &str, id: &str, what: &str) {
        if id.is_empty() || !id.chars().all(|c| c.is_ascii_alphanumeric()) {
            self.problem(field, "check.key_id", &[("what", &what)]);
        }
    }

    /// A resolution line's name: not empty, no surrounding spaces.
    pub fn line(&mut self, field: &str, line: Option<&str>) {
        if let Some(l) = line
            && (l.trim().is_empty() || l.trim() != l)
        {
            self.problem(field, "check.line_name", &[]);
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
        return Some(tr("check.interface_control", &[]));
    }
    if cfg!(target_os = "linux") {
        let name = name.trim();
        if name.len() > 15 {
            return Some(tr("check.interface_long", &[("name", &name)]));
        }
        if name.contains('/') || name.chars().any(char::is_whitespace) {
            return Some(tr("check.interface_slash", &[("name", &name)]));
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
        return Err(tr("check.is_empty", &[]));
    }
    let ascii = idna::domain_to_ascii(trimmed)
        .map_err(|_| tr("check.domain_invalid", &[("name", &trimmed)]))?;
    if ascii.len() > 253 {
        return Err(tr("check.domain_long", &[]));
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
            return Err(tr(
                "check.domain_label",
                &[("name", &trimmed), ("label", &label)],
            ));
        }
    }
    Ok(ascii)
}

#[must_use]
pub fn unknown_key(key: &str, prefix: &str, known: &[&str]) -> Issue {
    problem(
        format!("{prefix}{key}"),
        "check.unknown_key",
        &[("key", &key), ("known", &known.join(", "))],
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
            issues.push(Issue::new(full, serde_words(&message), type_hint(path)));
            None
        }
    }
}

/// serde's messages about a table's shape, in the language in use where their shape is known (the rest
/// as serde says them).
fn serde_words(message: &str) -> String {
    let quoted = |rest: &str| rest.split('`').next().unwrap_or_default().to_owned();
    if let Some(rest) = message.strip_prefix("missing field `") {
        tr("check.missing_field", &[("field", &quoted(rest))])
    } else if let Some(rest) = message.strip_prefix("unknown field `") {
        let expected = rest
            .split_once(", expected ")
            .map_or("", |(_, e)| e)
            .replace("one of ", "");
        tr(
            "check.unknown_field",
            &[("field", &quoted(rest)), ("expected", &expected)],
        )
    } else if let Some(rest) = message.strip_prefix("invalid type: ") {
        tr("check.invalid_type", &[("detail", &rest)])
    } else if let Some(rest) = message.strip_prefix("invalid value: ") {
        tr("check.invalid_value", &[("detail", &rest)])
    } else {
        message.to_owned()
    }
}

fn type_hint(path: &str) -> String {
    let section = ["provider", "record", "line", "notify", "metrics", "detect"]
        .into_iter()
        .find(|s| path.starts_with(s))
        .unwrap_or("other");
    tr(&format!("check.type_hint.{section}"), &[])
}

pub fn duration_string(value: Value, path: &str, issues: &mut Vec<Issue>) -> Option<String> {
    match value {
        Value::String(s) => Some(s),
        other => {
            issues.push(problem(
                path,
                "check.duration_type",
                &[("found", &other.type_str())],
            ));
            None
        }
    }
}

pub fn entry_table(value: Value, path: &str, issues: &mut Vec<Issue>) -> Option<Table> {
    match value {
        Value::Table(t) => Some(t),
        other => {
            issues.push(problem(
                path,
                "check.table_type",
                &[("found", &other.type_str())],
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
    full_build: &[&str],
    issues: &mut Vec<Issue>,
) -> Option<T> {
    match table.get("kind") {
        None => {
            issues.push(problem(
                format!("{path}.kind"),
                "check.kind_missing",
                &[("kinds", &kinds.join(", "))],
            ));
            return None;
        }
        Some(Value::String(k)) if !kinds.contains(&k.as_str()) => {
            // A kind of the full build, in a build without it (the small build for routers).
            let key = if full_build.contains(&k.as_str()) {
                "check.kind_not_built"
            } else {
                "check.kind_unknown"
            };
            issues.push(problem(
                format!("{path}.kind"),
                key,
                &[("kind", &k), ("kinds", &kinds.join(", "))],
            ));
            return None;
        }
        Some(Value::String(_)) => {}
        Some(other) => {
            issues.push(problem(
                format!("{path}.kind"),
                "check.kind_type",
                &[("found", &other.type_str()), ("kinds", &kinds.join(", "))],
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
        return Err(tr("check.is_empty", &[]));
    }
    if let Ok(sa) = text.parse::<SocketAddr>() {
        if sa.port() == 0 {
            return Err(tr("check.port_zero", &[]));
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
                .map_err(|_| tr("check.not_port", &[("port", &p)]))?,
        ),
        None => (text, 53),
    };
    if port == 0 {
        return Err(tr("check.port_zero", &[]));
    }
    normalize_domain(host).map_err(|e| tr("check.server_host", &[("error", &e)]))?;
    Ok(ServerAddr {
        host: host.to_owned(),
        port,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A kind of the full build, named in a build without it (the small build for routers), is told apart
    /// from a kind that does not exist, in the language in use.
    #[test]
    fn a_kind_left_out_of_this_build_is_named_as_such() {
        #[derive(Debug, serde::Deserialize)]
        struct Entry {}
        let entry = |kind: &str| {
            let mut t = Table::new();
            t.insert("kind".into(), Value::String(kind.into()));
            t
        };
        let mut issues = Vec::new();
        let (kinds, full_build) = (["cloudflare", "duckdns"], ["route53"]);
        let mut read = |kind: &str, path: &str| {
            kind_of::<Entry>(entry(kind), path, &kinds, &full_build, &mut issues).is_some()
        };
        assert!(!read("route53", "provider[0]"));
        assert!(!read("route54", "provider[1]"));
        assert!(read("duckdns", "provider[2]"));
        assert_eq!(issues.len(), 2, "{issues:?}");
        assert_eq!(issues[0].path, "provider[0].kind");
        assert_eq!(
            issues[0].message,
            "`route53` is not in this build: the small build for routers leaves it out"
        );
        assert!(
            issues[0].hint.contains("--features full"),
            "{}",
            issues[0].hint
        );
        assert!(
            issues[0].hint.ends_with("cloudflare, duckdns"),
            "{}",
            issues[0].hint
        );
        assert_eq!(issues[1].message, "unknown kind `route54`");
        assert_eq!(
            issues[0].words.as_ref().unwrap().key,
            "check.kind_not_built"
        );
    }
}
