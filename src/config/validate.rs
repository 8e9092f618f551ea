//! `ConfigFile -> Settings`, collecting every problem with its field path and a hint.

use std::collections::{BTreeMap, HashSet};
use std::net::IpAddr;
use std::time::Duration;

use super::file::{ConfigFile, SourceEntry, SourceKind};
use super::secret::Lookup;
use super::{
    DetectSettings, Family, Issue, Policy, ProviderSettings, RecordSettings, RecordType, Settings,
    SourceSettings,
};

pub const DEFAULT_INTERVAL: Duration = Duration::from_mins(5);
pub const MIN_INTERVAL: Duration = Duration::from_secs(30);
pub const DEFAULT_MAX_INTERVAL: Duration = Duration::from_hours(24);
pub const DEFAULT_SOURCE_TIMEOUT: Duration = Duration::from_secs(5);
const MAX_SOURCE_TIMEOUT: Duration = Duration::from_mins(1);

/// Validates a parsed file. `env` resolves `{ env = "VAR" }` secrets.
pub fn validate(file: &ConfigFile, lookup: &dyn Lookup) -> Result<Settings, Vec<Issue>> {
    let mut issues = Vec::new();
    let interval = duration(
        file.interval.as_deref(),
        "interval",
        DEFAULT_INTERVAL,
        &mut issues,
    );
    if interval < MIN_INTERVAL {
        issues.push(Issue::new(
            "interval",
            format!("{} is too short", humantime::format_duration(interval)),
            "use at least \"30s\"; public IP services and DNS providers throttle faster clients",
        ));
    }
    let max_interval = match file.max_interval.as_deref().map(str::trim) {
        Some("0") => None,
        other => {
            let d = duration(other, "max_interval", DEFAULT_MAX_INTERVAL, &mut issues);
            if d < interval && file.max_interval.is_some() {
                issues.push(Issue::new("max_interval", "is shorter than interval", "make it at least as long as `interval`, or \"0\" to never re-publish an unchanged IP"));
            }
            Some(d)
        }
    };
    let ipv4 = file.ipv4.unwrap_or(true);
    let ipv6 = file.ipv6.unwrap_or(false);
    if !ipv4 && !ipv6 {
        issues.push(Issue::new(
            "ipv4",
            "both ipv4 and ipv6 are false",
            "enable at least one address family",
        ));
    }

    let language = match file.language.as_deref() {
        None => crate::i18n::Language::Auto,
        Some(text) => crate::i18n::Language::parse(text).unwrap_or_else(|| {
            issues.push(Issue::new(
                "language",
                format!("`{text}` is not a language ddns-tray speaks"),
                format!("use {}", crate::i18n::Language::CHOICES),
            ));
            crate::i18n::Language::Auto
        }),
    };
    let detect = detect(file, lookup, &mut issues);
    let proxy = proxy(file.proxy.as_ref(), "proxy", lookup, &mut issues);
    let providers = providers(file, proxy.as_ref(), lookup, &mut issues);
    let lines = lines(file, &mut issues);
    let records = records(file, ipv4, ipv6, &providers, &mut issues);
    let notify = notifiers(file, proxy.as_ref(), lookup, &mut issues);
    let metrics = metrics(file, lookup, &mut issues);

    if issues.is_empty() {
        Ok(Settings {
            interval,
            max_interval,
            proxy,
            write_budget: match file.write_budget {
                Some(0) => None,
                Some(n) => Some(n),
                None => Some(super::DEFAULT_WRITE_BUDGET),
            },
            ipv4,
            ipv6,
            notifications: file.notifications.unwrap_or(true),
            language,
            detect,
            providers,
            records,
            lines,
            notify,
            metrics,
        })
    } else {
        Err(issues)
    }
}

/// A provider's or notifier's `proxy`: its own, else the top-level one (`None`: the OS's setting).
fn entry_proxy(
    own: Option<&super::file::ProxyFile>,
    path: &str,
    global: Option<&super::Proxy>,
    lookup: &dyn Lookup,
    issues: &mut Vec<Issue>,
) -> Option<super::Proxy> {
    proxy(own, &format!("{path}.proxy"), lookup, issues).or_else(|| global.cloned())
}

/// A source's `proxy`: only for http and cloudflare-trace sources, and only with `allow_proxy = true` (the
/// echo then sees the proxy's address: right only when that is the address to publish).
fn source_proxy(
    entry: &SourceEntry,
    path: &str,
    lookup: &dyn Lookup,
    issues: &mut Vec<Issue>,
) -> Option<super::Proxy> {
    let raw = entry.proxy.as_ref()?;
    let field = format!("{path}.proxy");
    if !matches!(
        entry.kind,
        SourceKind::Http { .. } | SourceKind::CloudflareTrace { .. }
    ) {
        issues.push(Issue::new(
            field,
            "only http and cloudflare-trace sources can go through a proxy",
            "remove `proxy` from this source",
        ));
        return None;
    }
    if entry.allow_proxy != Some(true) {
        issues.push(Issue::new(
            field,
            "a detection source asked through a proxy sees the proxy's address, not this network's, and that would be published",
            "remove `proxy` (detection goes direct; providers and alerts use `proxy`), or add allow_proxy = true if the proxy's address is the one to publish",
        ));
        return None;
    }
    match proxy(Some(raw), &field, lookup, issues)? {
        super::Proxy::Direct => None,
        via @ super::Proxy::Via { .. } => Some(via),
    }
}

/// `proxy`: a URL of a known scheme with a host, credentials apart (a password is a secret).
fn proxy(
    raw: Option<&super::file::ProxyFile>,
    path: &str,
    lookup: &dyn Lookup,
    issues: &mut Vec<Issue>,
) -> Option<super::Proxy> {
    use super::file::ProxyFile;
    let (url, username, password) = match raw? {
        ProxyFile::Url(u) if u.trim() == "none" => return Some(super::Proxy::Direct),
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
    Some(super::Proxy::Via {
        url: clean.as_str().trim_end_matches('/').to_owned(),
        username,
        password,
    })
}

fn duration(
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

/// The sources used when `[detect]` does not list any for a family.
///
/// Three operators that share no infrastructure, by hostname: Cisco OpenDNS over plain DNS (one UDP
/// query, no HTTP stack: the cheapest unchanged check), ipify over HTTPS, and Cloudflare's trace. Under
/// the default policy `confirm` an unchanged address costs the first one question; a change is written
/// once a second operator gives the same address.
#[must_use]
pub fn default_sources(family: Family) -> Vec<SourceSettings> {
    let (ipify, dns_type) = match family {
        Family::V4 => ("https://api.ipify.org", "A"),
        Family::V6 => ("https://api6.ipify.org", "AAAA"),
    };
    let source = |kind| SourceSettings {
        kind,
        timeout: DEFAULT_SOURCE_TIMEOUT,
        proxy: None,
        allow_private: false,
        allow_cdn: false,
        operator: None,
    };
    vec![
        source(SourceKind::Dns {
            server: Some("resolver1.opendns.com:53".into()),
            name: Some("myip.opendns.com".into()),
            record_type: Some(dns_type.into()),
        }),
        source(SourceKind::Http { url: ipify.into() }),
        source(SourceKind::CloudflareTrace { url: None }),
    ]
}

fn detect(file: &ConfigFile, lookup: &dyn Lookup, issues: &mut Vec<Issue>) -> DetectSettings {
    let raw = file.detect.clone().unwrap_or_default();
    let policy = match raw.policy.as_deref() {
        None | Some("confirm") => Policy::Confirm,
        Some("first") => Policy::First,
        Some("agree") => Policy::Agree,
        Some(other) => {
            issues.push(Issue::new(
                "detect.policy",
                format!("unknown policy `{other}`"),
                "use \"confirm\" (the default: a change is confirmed by a second operator), \"first\" (first valid answer) or \"agree\" (two sources must agree)",
            ));
            Policy::First
        }
    };
    let mut family_sources = |family: Family,
                              list: Option<&Vec<SourceEntry>>|
     -> Vec<SourceSettings> {
        let key = if family == Family::V4 { "ipv4" } else { "ipv6" };
        let Some(list) = list else {
            return default_sources(family);
        };
        if list.is_empty() {
            issues.push(Issue::new(
                format!("detect.{key}"),
                "is empty",
                format!("list at least one source, or remove `detect.{key}` to use the defaults"),
            ));
        }
        let out: Vec<_> = list
            .iter()
            .enumerate()
            .map(|(i, s)| source(s, family, &format!("detect.{key}[{i}]"), lookup, issues))
            .collect();
        if policy == Policy::Agree && out.len() < 2 {
            issues.push(Issue::new(
                format!("detect.{key}"),
                "policy \"agree\" needs at least two sources",
                "add another source, or use policy = \"first\"",
            ));
        }
        out
    };
    let ipv4 = family_sources(Family::V4, raw.ipv4.as_ref());
    let ipv6 = family_sources(Family::V6, raw.ipv6.as_ref());
    let cdn_ranges = raw.cdn_ranges.as_ref().map(|list| {
        list.iter()
            .enumerate()
            .filter_map(|(i, n)| {
                super::parse_network(n)
                    .map_err(|e| {
                        issues.push(Issue::new(
                            format!("detect.cdn_ranges[{i}]"),
                            e,
                            "give networks like \"104.16.0.0/13\", or remove cdn_ranges to use the built-in Cloudflare list",
                        ));
                    })
                    .ok()
            })
            .collect()
    });
    DetectSettings {
        policy,
        ipv4,
        ipv6,
        cdn_ranges,
    }
}

fn source(
    entry: &SourceEntry,
    family: Family,
    path: &str,
    lookup: &dyn Lookup,
    issues: &mut Vec<Issue>,
) -> SourceSettings {
    let timeout = duration(
        entry.timeout.as_deref(),
        &format!("{path}.timeout"),
        DEFAULT_SOURCE_TIMEOUT,
        issues,
    );
    if timeout.is_zero() || timeout > MAX_SOURCE_TIMEOUT {
        issues.push(Issue::new(
            format!("{path}.timeout"),
            "must be between 1ms and 60s",
            "the default is \"5s\"",
        ));
    }
    match &entry.kind {
        SourceKind::Http { url } => http_url(url, &format!("{path}.url"), issues),
        SourceKind::CloudflareTrace { url } => {
            if let Some(url) = url {
                http_url(url, &format!("{path}.url"), issues);
            }
        }
        SourceKind::Dns {
            server,
            name,
            record_type,
        } => {
            if let Some(server) = server {
                host_port(server, &format!("{path}.server"), issues);
            }
            if let Some(name) = name
                && let Err(e) = normalize_domain(name)
            {
                issues.push(Issue::new(
                    format!("{path}.name"),
                    e,
                    "use a DNS name such as \"myip.opendns.com\"",
                ));
            }
            let allowed: &[&str] = if family == Family::V4 {
                &["A", "TXT"]
            } else {
                &["AAAA", "TXT"]
            };
            if let Some(t) = record_type
                && !allowed.contains(&t.as_str())
            {
                issues.push(Issue::new(
                    format!("{path}.type"),
                    format!("`{t}` cannot answer an {family} question"),
                    format!("use one of: {}", allowed.join(", ")),
                ));
            }
        }
        SourceKind::Interface { name } => {
            if name.as_deref().is_some_and(|n| n.trim().is_empty()) {
                issues.push(Issue::new(format!("{path}.name"), "is empty", "give an interface name such as \"eth0\", or leave it out to use the default-route interface"));
            } else if let Some(problem) = name.as_deref().and_then(interface_name_problem) {
                issues.push(Issue::new(
                    format!("{path}.name"),
                    problem,
                    "give the interface's name as `ip link` (or `ipconfig`) shows it, e.g. \"eth0\"",
                ));
            }
        }
        SourceKind::Command { command } => {
            if command.first().is_none_or(|p| p.trim().is_empty()) {
                issues.push(Issue::new(
                    format!("{path}.command"),
                    "is empty",
                    "give the program and its arguments, e.g. [\"/usr/local/bin/my-ip\", \"--v4\"]",
                ));
            }
        }
        SourceKind::Router { protocol, gateway } => {
            router_source(
                protocol.as_deref(),
                gateway.as_deref(),
                family,
                path,
                issues,
            );
        }
    }
    let proxy = source_proxy(entry, path, lookup, issues);
    SourceSettings {
        kind: entry.kind.clone(),
        timeout,
        proxy,
        allow_private: entry.allow_private.unwrap_or(false),
        allow_cdn: entry.allow_cdn.unwrap_or(false),
        operator: entry
            .operator
            .as_deref()
            .map(str::trim)
            .filter(|o| !o.is_empty())
            .map(str::to_owned),
    }
}

/// A `router` source's own fields: IPv4 only, a known protocol, a gateway that is an IPv4 address.
fn router_source(
    protocol: Option<&str>,
    gateway: Option<&str>,
    family: Family,
    path: &str,
    issues: &mut Vec<Issue>,
) {
    if family == Family::V6 {
        issues.push(Issue::new(
            format!("{path}.kind"),
            "a router tells only its IPv4 address",
            "list the router source under detect.ipv4",
        ));
    }
    if let Some(p) = protocol
        && !["auto", "natpmp", "upnp"].contains(&p)
    {
        issues.push(Issue::new(
            format!("{path}.protocol"),
            format!("unknown protocol `{p}`"),
            "use one of: auto (NAT-PMP, then UPnP), natpmp, upnp",
        ));
    }
    if let Some(g) = gateway
        && g.trim().parse::<std::net::Ipv4Addr>().is_err()
    {
        issues.push(Issue::new(
            format!("{path}.gateway"),
            format!("`{g}` is not an IPv4 address"),
            "give the router's LAN address, e.g. \"192.168.1.1\", or leave it out to use the default gateway",
        ));
    }
}

fn http_url(url: &str, path: &str, issues: &mut Vec<Issue>) {
    FieldCheck::new(path, issues).http_url("", url);
}

fn host_port(server: &str, path: &str, issues: &mut Vec<Issue>) {
    FieldCheck::new(path, issues).host_port("", server);
}

fn providers(
    file: &ConfigFile,
    global_proxy: Option<&super::Proxy>,
    lookup: &dyn Lookup,
    issues: &mut Vec<Issue>,
) -> Vec<ProviderSettings> {
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for (i, entry) in file.providers.iter().enumerate() {
        let path = format!("provider[{i}]");
        if entry.name.trim().is_empty() {
            issues.push(Issue::new(
                format!("{path}.name"),
                "is empty",
                "give the provider a name; records refer to it",
            ));
        } else if !seen.insert(entry.name.clone()) {
            issues.push(Issue::new(
                format!("{path}.name"),
                format!("another provider is already named `{}`", entry.name),
                "give each provider its own name",
            ));
        }
        let mut kind = entry.kind.clone();
        for (field, secret) in kind.secrets_mut() {
            if let Err(p) = secret.resolve(lookup) {
                issues.push(Issue::new(format!("{path}.{field}"), p.message, p.hint));
            }
        }
        kind.validate(&mut FieldCheck::new(&path, issues));
        let proxy = entry_proxy(entry.proxy.as_ref(), &path, global_proxy, lookup, issues);
        out.push(ProviderSettings {
            name: entry.name.clone(),
            kind,
            proxy,
        });
    }
    out
}

/// Alerts a notifier gets an hour at most, unless `max_per_hour` says otherwise.
pub const DEFAULT_MAX_ALERTS_PER_HOUR: u32 = 20;

fn notifiers(
    file: &ConfigFile,
    global_proxy: Option<&super::Proxy>,
    lookup: &dyn Lookup,
    issues: &mut Vec<Issue>,
) -> Vec<super::NotifierSettings> {
    use crate::notify::kinds::Category;
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for (i, entry) in file.notify.iter().enumerate() {
        // Entries that did not parse are left out of the list: the path is the one in the file.
        let path = if entry.path.is_empty() {
            format!("notify[{i}]")
        } else {
            entry.path.clone()
        };
        if entry.name.trim().is_empty() {
            issues.push(Issue::new(
                format!("{path}.name"),
                "is empty",
                "give the notifier a name (`ddns-tray notify test NAME` uses it)",
            ));
        } else if !seen.insert(entry.name.clone()) {
            issues.push(Issue::new(
                format!("{path}.name"),
                format!("another notifier is already named `{}`", entry.name),
                "give each notifier its own name",
            ));
        }
        let mut kind = entry.kind.clone();
        for (field, secret) in kind.secrets_mut() {
            if let Err(p) = secret.resolve(lookup) {
                issues.push(Issue::new(format!("{path}.{field}"), p.message, p.hint));
            }
        }
        kind.validate(&mut FieldCheck::new(&path, issues));
        let mut events = Vec::new();
        match &entry.events {
            None => events.extend(Category::DEFAULT),
            Some(_) if kind.is_heartbeat() => issues.push(Issue::new(
                format!("{path}.events"),
                "does not apply to a heartbeat",
                "remove it: heartbeats are pinged after every round, with /fail when something failed",
            )),
            Some(list) => {
                if list.is_empty() {
                    issues.push(Issue::new(
                        format!("{path}.events"),
                        "is empty",
                        "list at least one of \"change\", \"failure\", \"recovery\", or remove the notifier",
                    ));
                }
                for (j, e) in list.iter().enumerate() {
                    match Category::DEFAULT.iter().find(|c| c.as_str() == e.trim()) {
                        Some(c) => events.push(*c),
                        None => issues.push(Issue::new(
                            format!("{path}.events[{j}]"),
                            format!("unknown event `{e}`"),
                            "use \"change\", \"failure\" or \"recovery\"",
                        )),
                    }
                }
            }
        }
        let max_per_hour = entry.max_per_hour.unwrap_or(DEFAULT_MAX_ALERTS_PER_HOUR);
        if max_per_hour == 0 {
            issues.push(Issue::new(
                format!("{path}.max_per_hour"),
                "is 0",
                "allow at least 1, or choose fewer `events`, or remove the notifier",
            ));
        }
        let proxy = entry_proxy(entry.proxy.as_ref(), &path, global_proxy, lookup, issues);
        out.push(super::NotifierSettings {
            name: entry.name.clone(),
            kind,
            events,
            max_per_hour,
            proxy,
        });
    }
    out
}

fn metrics(
    file: &ConfigFile,
    lookup: &dyn Lookup,
    issues: &mut Vec<Issue>,
) -> Option<super::MetricsSettings> {
    let m = file.metrics.as_ref()?;
    let Ok(listen) = m.listen.trim().parse::<std::net::SocketAddr>() else {
        issues.push(Issue::new(
            "metrics.listen",
            format!("`{}` is not an address and port", m.listen),
            "write it as \"127.0.0.1:9851\" (or \"[::1]:9851\")",
        ));
        return None;
    };
    if !listen.ip().is_loopback() && m.allow_remote != Some(true) {
        issues.push(Issue::new(
            "metrics.listen",
            format!("{listen} is reachable from other machines"),
            "use 127.0.0.1, or set allow_remote = true (and a `token`) to expose the metrics on purpose",
        ));
    }
    let mut token = m.token.clone();
    if let Some(t) = &mut token
        && let Err(p) = t.resolve(lookup)
    {
        issues.push(Issue::new("metrics.token", p.message, p.hint));
    }
    Some(super::MetricsSettings { listen, token })
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
        if let Err(e) = crate::dns::parse_server(server) {
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

/// The default `hold_down` of a record with `lines`.
pub const DEFAULT_HOLD_DOWN: Duration = Duration::from_mins(2);

fn lines(file: &ConfigFile, issues: &mut Vec<Issue>) -> Vec<super::LineSettings> {
    let mut out: Vec<super::LineSettings> = Vec::new();
    for (i, l) in file.lines.iter().enumerate() {
        let path = format!("line[{i}]");
        if l.name.trim().is_empty() {
            issues.push(Issue::new(
                format!("{path}.name"),
                "is empty",
                "give the line a name, e.g. \"wan1\"; records list it in `lines`",
            ));
        } else if out.iter().any(|o| o.name == l.name) {
            issues.push(Issue::new(
                format!("{path}.name"),
                format!("another line is already named `{}`", l.name),
                "give each line its own name",
            ));
        }
        let bind = match (&l.interface, &l.source) {
            (Some(name), None) if let Some(problem) = interface_name_problem(name) => {
                issues.push(Issue::new(
                    format!("{path}.interface"),
                    problem,
                    "give the interface's name as `ip link` (or `ipconfig`) shows it, e.g. \"eth1\"",
                ));
                None
            }
            (Some(name), None) if !name.trim().is_empty() => {
                Some(super::LineBind::Interface(name.trim().to_owned()))
            }
            (Some(_), None) => {
                issues.push(Issue::new(
                    format!("{path}.interface"),
                    "is empty",
                    "give the interface's name, e.g. \"eth1\"",
                ));
                None
            }
            (None, Some(ip)) => match ip.trim().parse::<IpAddr>() {
                Ok(ip)
                    if ip.is_unspecified()
                        || ip.is_multicast()
                        || matches!(ip, IpAddr::V4(v4) if v4.is_broadcast()) =>
                {
                    issues.push(Issue::new(
                        format!("{path}.source"),
                        format!("{ip} cannot be a source address"),
                        "give an address of this machine on that uplink",
                    ));
                    None
                }
                Ok(ip) => Some(super::LineBind::Source(ip)),
                Err(_) => {
                    issues.push(Issue::new(
                        format!("{path}.source"),
                        format!("`{ip}` is not an IP address"),
                        "give an address of this machine on that uplink, e.g. \"192.0.2.10\"",
                    ));
                    None
                }
            },
            (Some(_), Some(_)) => {
                issues.push(Issue::new(
                    path.clone(),
                    "has both `interface` and `source`",
                    "keep one: the interface, or the local address to send from",
                ));
                None
            }
            (None, None) => {
                issues.push(Issue::new(
                    path.clone(),
                    "has neither `interface` nor `source`",
                    "add interface = \"eth1\" (or source = \"192.0.2.10\")",
                ));
                None
            }
        };
        if let Some(bind) = bind {
            out.push(super::LineSettings {
                name: l.name.clone(),
                bind,
            });
        }
    }
    out
}

/// A record's `lines`, `mode` and `hold_down`.
fn via(
    rec: &super::file::RecordFile,
    known_lines: &[String],
    provider: Option<&ProviderSettings>,
    path: &str,
    issues: &mut Vec<Issue>,
) -> Option<super::Via> {
    let Some(list) = &rec.lines else {
        for (field, set) in [
            ("mode", rec.mode.is_some()),
            ("hold_down", rec.hold_down.is_some()),
            ("provider_via_line", rec.provider_via_line == Some(true)),
        ] {
            if set {
                issues.push(Issue::new(
                    format!("{path}.{field}"),
                    "applies only to a record with `lines`",
                    format!("add lines = [...], or remove `{field}`"),
                ));
            }
        }
        return None;
    };
    if list.is_empty() {
        issues.push(Issue::new(
            format!("{path}.lines"),
            "is empty",
            "list the [[line]] names in order of preference, or remove `lines`",
        ));
    }
    for (j, name) in list.iter().enumerate() {
        let problem = if list[..j].contains(name) {
            Some((
                format!("`{name}` is listed twice"),
                "list each line once".to_owned(),
            ))
        } else if known_lines.contains(name) {
            None
        } else {
            let known: Vec<&str> = known_lines.iter().map(String::as_str).collect();
            Some((
                format!("no [[line]] is named `{name}`"),
                if known.is_empty() {
                    "add a [[line]] section with this name".to_owned()
                } else {
                    format!("use one of: {}", known.join(", "))
                },
            ))
        };
        if let Some((message, hint)) = problem {
            issues.push(Issue::new(format!("{path}.lines[{j}]"), message, hint));
        }
    }

    let all = match rec.mode.as_deref().map(str::trim) {
        None | Some("failover") => false,
        Some("all") => true,
        Some(other) => {
            issues.push(Issue::new(format!("{path}.mode"), format!("unknown mode `{other}`"), "use \"failover\" (the first working line) or \"all\" (every working line's address)"));
            false
        }
    };
    if all
        && let Some(p) = provider
        && !p.kind.capabilities().multi_value
    {
        issues.push(Issue::new(
            format!("{path}.mode"),
            format!("{} cannot hold several addresses for one name", p.kind.info().title),
            "use mode = \"failover\", or a provider that holds address sets (PowerDNS, RFC 2136, Cloudflare, deSEC, Gandi, ...)",
        ));
    }
    let hold_down = duration(
        rec.hold_down.as_deref(),
        &format!("{path}.hold_down"),
        DEFAULT_HOLD_DOWN,
        issues,
    );
    if hold_down < Duration::from_secs(1) || hold_down > Duration::from_hours(24) {
        issues.push(Issue::new(
            format!("{path}.hold_down"),
            "must be between 1s and 24h",
            "the default is \"2m\"",
        ));
    }
    if rec.provider_via_line == Some(true)
        && let Some(p) = provider
        && p.kind.kind_name() == "rfc2136"
    {
        issues.push(Issue::new(
            format!("{path}.provider_via_line"),
            "does not apply to RFC 2136 (its updates are DNS messages to your own server)",
            "remove it; route the DNS server's address through the line instead",
        ));
    }
    Some(super::Via {
        lines: list.clone(),
        all,
        hold_down,
        provider_via_line: rec.provider_via_line.unwrap_or(false),
    })
}

fn records(
    file: &ConfigFile,
    ipv4: bool,
    ipv6: bool,
    providers: &[ProviderSettings],
    issues: &mut Vec<Issue>,
) -> Vec<RecordSettings> {
    let mut out = Vec::new();
    let mut seen: BTreeMap<(String, RecordType, String, Option<String>), usize> = BTreeMap::new();
    // Lines with a problem of their own are reported there, not again at every record naming them.
    let known_lines: Vec<String> = file.lines.iter().map(|l| l.name.clone()).collect();
    let names: Vec<&str> = providers.iter().map(|p| p.name.as_str()).collect();
    for (i, rec) in file.records.iter().enumerate() {
        let path = format!("record[{i}]");
        let name = match normalize_domain(&rec.name) {
            Ok(n) if n.contains('.') => Some(n),
            Ok(_) => {
                issues.push(Issue::new(
                    format!("{path}.name"),
                    format!("`{}` is not a fully qualified name", rec.name),
                    "write the whole name, e.g. \"home.example.com\"",
                ));
                None
            }
            Err(e) => {
                issues.push(Issue::new(
                    format!("{path}.name"),
                    e,
                    "write the whole name, e.g. \"home.example.com\"",
                ));
                None
            }
        };
        let provider = providers.iter().find(|p| p.name == rec.provider);
        if provider.is_none() {
            let hint = if names.is_empty() {
                "add a [[provider]] section first".to_owned()
            } else {
                format!("use one of the provider names: {}", names.join(", "))
            };
            issues.push(Issue::new(
                format!("{path}.provider"),
                format!("no provider is named `{}`", rec.provider),
                hint,
            ));
        }
        let types = record_types(rec.record_type.as_deref(), ipv4, ipv6, &path, issues);
        if rec.ttl == Some(0) || rec.ttl.is_some_and(|t| t > 2_147_483_647) {
            issues.push(Issue::new(
                format!("{path}.ttl"),
                "must be between 1 and 2147483647 seconds",
                "use e.g. 60, or leave it out for the provider's default",
            ));
        }
        let line = rec
            .line
            .clone()
            .or_else(|| provider.and_then(|p| p.kind.line().map(str::to_owned)));
        if let Some(p) = provider {
            provider_limits(p, rec, name.as_deref(), &types, &path, issues);
        }
        let ipv6_host = ipv6_host(rec, &types, &path, issues);
        let via = via(rec, &known_lines, provider, &path, issues);
        let Some(name) = name else { continue };
        for record_type in types {
            let key = (
                name.clone(),
                record_type,
                rec.provider.clone(),
                line.clone(),
            );
            if let Some(first) = seen.get(&key) {
                issues.push(Issue::new(
                    format!("{path}.name"),
                    format!(
                        "duplicate of record[{first}] ({name} {record_type} at `{}`)",
                        rec.provider
                    ),
                    "remove one of them",
                ));
                continue;
            }
            seen.insert(key, i);
            out.push(RecordSettings {
                name: name.clone(),
                record_type,
                provider: rec.provider.clone(),
                ttl: rec.ttl,
                line: line.clone(),
                ipv6_host: ipv6_host.filter(|_| record_type == RecordType::Aaaa),
                via: via.clone(),
            });
        }
    }
    out
}

/// What is wrong with an interface name, if anything: a NUL or other control character (which the OS
/// would cut the name at, binding to another interface), and on Linux more than 15 bytes, a `/` or spaces
/// (which no Linux interface name has).
fn interface_name_problem(name: &str) -> Option<String> {
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

/// The record's `ipv6_host` and `ipv6_prefix_len`: only for AAAA records.
fn ipv6_host(
    rec: &super::file::RecordFile,
    types: &[RecordType],
    path: &str,
    issues: &mut Vec<Issue>,
) -> Option<super::Ipv6Host> {
    let Some(text) = &rec.ipv6_host else {
        if rec.ipv6_prefix_len.is_some() {
            issues.push(Issue::new(
                format!("{path}.ipv6_prefix_len"),
                "is only used with `ipv6_host`",
                "add ipv6_host = \"::1234\" (the LAN host's interface id) or remove ipv6_prefix_len",
            ));
        }
        return None;
    };
    if types != [RecordType::Aaaa] {
        issues.push(Issue::new(
            format!("{path}.ipv6_host"),
            "is for AAAA records: the IPv4 address cannot be made from a prefix",
            "add type = \"AAAA\" to this record (and a second record for the A address if you want one)",
        ));
        return None;
    }
    let prefix_len = rec
        .ipv6_prefix_len
        .unwrap_or(super::Ipv6Host::DEFAULT_PREFIX_LEN);
    match super::Ipv6Host::parse(text, prefix_len) {
        Ok(h) => Some(h),
        Err(e) => {
            let (field, hint) = if (1..=127).contains(&prefix_len) {
                (
                    "ipv6_host",
                    "give the host's interface id, e.g. ipv6_host = \"::1234\", or its MAC address",
                )
            } else {
                (
                    "ipv6_prefix_len",
                    "use the length of the prefix your ISP delegates, usually 64 (the default) or 56",
                )
            };
            issues.push(Issue::new(format!("{path}.{field}"), e, hint));
            None
        }
    }
}

/// What the record's provider allows: lines only where it has them, TTLs in its range, names inside its
/// pinned zone, and its own limits (`DuckDNS` names, Namecheap A only).
fn provider_limits(
    provider: &ProviderSettings,
    rec: &super::file::RecordFile,
    name: Option<&str>,
    types: &[RecordType],
    path: &str,
    issues: &mut Vec<Issue>,
) {
    let caps = provider.kind.capabilities();
    let kind = provider.kind.info();
    if rec.line.is_some() && caps.default_line.is_none() {
        issues.push(Issue::new(
            format!("{path}.line"),
            format!("{} has no resolution lines", kind.title),
            "remove `line`; only DNSPod, Alibaba Cloud DNS and Huawei Cloud have lines",
        ));
    }
    FieldCheck::new(path, issues).line("line", rec.line.as_deref());
    if let Some(ttl) = rec.ttl
        && ttl > 0
        && !caps.ttl.allows(ttl)
    {
        let auto = caps
            .ttl
            .auto
            .map_or_else(String::new, |a| format!(", or {a} for automatic"));
        issues.push(Issue::new(
            format!("{path}.ttl"),
            format!(
                "{} accepts TTLs from {} to {} seconds{auto}, not {ttl}",
                kind.title, caps.ttl.min, caps.ttl.max
            ),
            format!(
                "use at least {} (or leave ttl out for the provider's default)",
                caps.ttl.min
            ),
        ));
    }
    let Some(name) = name else { return };
    if let Some((zone, field)) = provider.kind.zone()
        && let Ok(z) = normalize_domain(zone)
        && !(name == z || name.ends_with(&format!(".{z}")))
    {
        issues.push(Issue::new(
            format!("{path}.name"),
            format!(
                "`{name}` is not inside zone {z} of provider `{}`",
                provider.name
            ),
            format!("use a name ending in .{z}, or fix the provider's {field}"),
        ));
    }
    provider
        .kind
        .check_record(name, types, &mut FieldCheck::new(path, issues));
}

/// The record types a `[[record]]` expands to: its `type`, or one per enabled family.
fn record_types(
    requested: Option<&str>,
    ipv4: bool,
    ipv6: bool,
    path: &str,
    issues: &mut Vec<Issue>,
) -> Vec<RecordType> {
    match requested.map(str::to_ascii_uppercase).as_deref() {
        None => [(ipv4, RecordType::A), (ipv6, RecordType::Aaaa)]
            .into_iter()
            .filter(|(on, _)| *on)
            .map(|(_, t)| t)
            .collect(),
        Some("A") if !ipv4 => {
            issues.push(Issue::new(
                format!("{path}.type"),
                "is A but ipv4 = false",
                "set ipv4 = true, or remove this record",
            ));
            vec![]
        }
        Some("AAAA") if !ipv6 => {
            issues.push(Issue::new(
                format!("{path}.type"),
                "is AAAA but ipv6 = false",
                "set ipv6 = true, or remove this record",
            ));
            vec![]
        }
        Some("A") => vec![RecordType::A],
        Some("AAAA") => vec![RecordType::Aaaa],
        Some(_) => {
            issues.push(Issue::new(
                format!("{path}.type"),
                format!("unsupported type `{}`", requested.unwrap_or_default()),
                "use \"A\" or \"AAAA\", or leave it out for one record per enabled family",
            ));
            vec![]
        }
    }
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
