//! `ConfigFile -> Settings`, collecting every problem with its field path and a hint.

use std::collections::{BTreeMap, HashSet};
use std::time::Duration;

use base64::Engine as _;

use super::file::{ConfigFile, ProviderKind, Rfc2136File, SourceEntry, SourceKind, WebhookFile};
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

/// TSIG algorithms the rfc2136 provider can sign with.
pub const TSIG_ALGORITHMS: &[&str] = &["hmac-sha256", "hmac-sha384", "hmac-sha512"];
/// HTTP methods a webhook may use.
pub const WEBHOOK_METHODS: &[&str] = &["GET", "POST", "PUT", "PATCH", "DELETE"];

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

    let detect = detect(file, &mut issues);
    let providers = providers(file, lookup, &mut issues);
    let records = records(file, ipv4, ipv6, &providers, &mut issues);

    if issues.is_empty() {
        Ok(Settings {
            interval,
            max_interval,
            ipv4,
            ipv6,
            notifications: file.notifications.unwrap_or(true),
            detect,
            providers,
            records,
        })
    } else {
        Err(issues)
    }
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
#[must_use]
pub fn default_sources(family: Family) -> Vec<SourceSettings> {
    let urls = match family {
        Family::V4 => ["https://api.ipify.org", "https://ipv4.icanhazip.com"],
        Family::V6 => ["https://api6.ipify.org", "https://ipv6.icanhazip.com"],
    };
    let source = |kind| SourceSettings {
        kind,
        timeout: DEFAULT_SOURCE_TIMEOUT,
        allow_private: false,
    };
    std::iter::once(source(SourceKind::CloudflareTrace { url: None }))
        .chain(urls.iter().map(|u| {
            source(SourceKind::Http {
                url: (*u).to_owned(),
            })
        }))
        .collect()
}

fn detect(file: &ConfigFile, issues: &mut Vec<Issue>) -> DetectSettings {
    let raw = file.detect.clone().unwrap_or_default();
    let policy = match raw.policy.as_deref() {
        None | Some("first") => Policy::First,
        Some("agree") => Policy::Agree,
        Some(other) => {
            issues.push(Issue::new(
                "detect.policy",
                format!("unknown policy `{other}`"),
                "use \"first\" (first valid answer) or \"agree\" (two sources must agree)",
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
            .map(|(i, s)| source(s, family, &format!("detect.{key}[{i}]"), issues))
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
    DetectSettings { policy, ipv4, ipv6 }
}

fn source(
    entry: &SourceEntry,
    family: Family,
    path: &str,
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
    }
    SourceSettings {
        kind: entry.kind.clone(),
        timeout,
        allow_private: entry.allow_private.unwrap_or(false),
    }
}

fn http_url(url: &str, path: &str, issues: &mut Vec<Issue>) {
    match reqwest::Url::parse(url) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => {}
        Ok(u) => issues.push(Issue::new(
            path,
            format!(
                "scheme `{}` is not http(s) or the host is missing",
                u.scheme()
            ),
            "use a URL such as \"https://api.ipify.org\"",
        )),
        Err(e) => issues.push(Issue::new(
            path,
            format!("not a URL ({e})"),
            "use a full URL such as \"https://api.example.com\"",
        )),
    }
}

/// Accepts `host:port`, `[v6]:port`, or a bare host / IP (port 53).
fn host_port(server: &str, path: &str, issues: &mut Vec<Issue>) {
    if let Err(e) = crate::dns::parse_server(server) {
        issues.push(Issue::new(
            path,
            e,
            "write it as \"host:port\", e.g. \"127.0.0.1:53\" or \"[2001:db8::1]:53\"",
        ));
    }
}

fn providers(
    file: &ConfigFile,
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
        provider_fields(&mut kind, &path, lookup, issues);
        out.push(ProviderSettings {
            name: entry.name.clone(),
            kind,
        });
    }
    out
}

/// Checks a provider's own fields and resolves its secrets.
fn provider_fields(
    kind: &mut ProviderKind,
    path: &str,
    lookup: &dyn Lookup,
    issues: &mut Vec<Issue>,
) {
    for (field, secret) in kind.secrets_mut() {
        if let Err(p) = secret.resolve(lookup) {
            issues.push(Issue::new(format!("{path}.{field}"), p.message, p.hint));
        }
    }
    let endpoint_field = match kind {
        ProviderKind::Powerdns(_) => "url",
        ProviderKind::Dyndns2(_)
        | ProviderKind::Noip(_)
        | ProviderKind::Dynu(_)
        | ProviderKind::Dyn(_)
        | ProviderKind::He(_)
        | ProviderKind::Dnsomatic(_) => "server",
        _ => "endpoint",
    };
    if let Some(endpoint) = kind.endpoint() {
        http_url(endpoint, &format!("{path}.{endpoint_field}"), issues);
    }
    if let Some(zone) = kind.zone() {
        let field = match kind {
            ProviderKind::Porkbun(_) | ProviderKind::Godaddy(_) | ProviderKind::Namecheap(_) => {
                "domain"
            }
            _ => "zone",
        };
        zone_name(zone, &format!("{path}.{field}"), issues);
    }
    match kind {
        ProviderKind::Powerdns(c) => {
            if c.server_id.as_deref().is_some_and(|s| s.trim().is_empty()) {
                issues.push(Issue::new(
                    format!("{path}.server_id"),
                    "is empty",
                    "leave it out to use \"localhost\"",
                ));
            }
        }
        ProviderKind::Rfc2136(c) => rfc2136_fields(c, path, issues),
        ProviderKind::Webhook(cfg) => webhook_fields(cfg, path, issues),
        _ => credential_fields(kind, path, issues),
    }
}

/// The credential checks of the cloud and dyndns2 kinds.
fn credential_fields(kind: &ProviderKind, path: &str, issues: &mut Vec<Issue>) {
    let key_id = |id: &str, field: &str, what: &str, issues: &mut Vec<Issue>| {
        if id.is_empty() || !id.chars().all(|c| c.is_ascii_alphanumeric()) {
            issues.push(Issue::new(
                format!("{path}.{field}"),
                "is not a well-formed key id (letters and digits only)",
                format!("copy the {what} exactly as the console shows it"),
            ));
        }
    };
    match kind {
        ProviderKind::Cloudflare(c) => {
            let token = c.token.expose();
            if token.len() == 37 && token.chars().all(|ch| ch.is_ascii_hexdigit()) {
                issues.push(Issue::new(
                    format!("{path}.token"),
                    "looks like the Global API Key, not an API token",
                    "create an API token with Zone > DNS > Edit (My Profile > API Tokens)",
                ));
            }
            if let Some(id) = &c.zone_id
                && (id.len() != 32 || !id.chars().all(|ch| ch.is_ascii_hexdigit()))
            {
                issues.push(Issue::new(
                    format!("{path}.zone_id"),
                    "is not a zone id (32 hex digits)",
                    "copy it from the zone's Overview page, or leave it out",
                ));
            }
        }
        ProviderKind::Alidns(c) => {
            key_id(&c.access_key_id, "access_key_id", "AccessKey ID", issues);
        }
        ProviderKind::Huaweicloud(c) => key_id(
            &c.access_key_id,
            "access_key_id",
            "access key ID (AK)",
            issues,
        ),
        ProviderKind::Dnspod(c) => key_id(&c.secret_id, "secret_id", "SecretId", issues),
        ProviderKind::Dyndns2(c) => {
            if c.server.is_none() {
                issues.push(Issue::new(format!("{path}.server"), "missing", "give the update server's URL, e.g. \"https://members.example.com\", or use a preset kind (noip, dynu, dyn, he, dnsomatic)"));
            }
            if c.username.is_none() {
                issues.push(Issue::new(
                    format!("{path}.username"),
                    "missing",
                    "give the account or update user name",
                ));
            }
        }
        ProviderKind::Noip(c)
        | ProviderKind::Dynu(c)
        | ProviderKind::Dyn(c)
        | ProviderKind::Dnsomatic(c)
            if c.username.is_none() =>
        {
            issues.push(Issue::new(
                format!("{path}.username"),
                "missing",
                "give the account or update user name",
            ));
        }
        _ => {}
    }
}

fn rfc2136_fields(c: &Rfc2136File, path: &str, issues: &mut Vec<Issue>) {
    host_port(&c.server, &format!("{path}.server"), issues);
    if let Err(e) = normalize_domain(c.key_name.trim_end_matches('.')) {
        issues.push(Issue::new(
            format!("{path}.key_name"),
            e,
            "use the key's name as the server knows it, e.g. \"ddns-key\"",
        ));
    }
    if let Some(alg) = &c.key_algorithm
        && !TSIG_ALGORITHMS.contains(&alg.to_ascii_lowercase().as_str())
    {
        issues.push(Issue::new(
            format!("{path}.key_algorithm"),
            format!("unsupported algorithm `{alg}`"),
            format!(
                "use one of: {} (hmac-md5 and hmac-sha1 are not supported; make a new key)",
                TSIG_ALGORITHMS.join(", ")
            ),
        ));
    }
    let secret = c.key_secret.expose();
    if !secret.is_empty()
        && base64::engine::general_purpose::STANDARD
            .decode(secret)
            .is_err()
    {
        issues.push(Issue::new(
            format!("{path}.key_secret"),
            "is not valid base64",
            "copy the `secret` of the key from the server's key file (tsig-keygen / keymgr output)",
        ));
    }
}

fn webhook_fields(cfg: &WebhookFile, path: &str, issues: &mut Vec<Issue>) {
    let WebhookFile {
        url,
        method,
        headers,
        body: _,
        success_regex,
    } = cfg;
    let sample = url
        .replace("{ip}", "203.0.113.7")
        .replace("{name}", "host.example.com")
        .replace("{type}", "A");
    http_url(&sample, &format!("{path}.url"), issues);
    if let Some(m) = method
        && !WEBHOOK_METHODS.contains(&m.to_ascii_uppercase().as_str())
    {
        issues.push(Issue::new(
            format!("{path}.method"),
            format!("unsupported method `{m}`"),
            format!("use one of: {}", WEBHOOK_METHODS.join(", ")),
        ));
    }
    for name in headers.keys() {
        if reqwest::header::HeaderName::from_bytes(name.as_bytes()).is_err() {
            issues.push(Issue::new(
                format!("{path}.headers.{name}"),
                "is not a valid header name",
                "use letters, digits and '-'",
            ));
        }
    }
    if let Some(re) = success_regex
        && let Err(e) = regex_lite::Regex::new(re)
    {
        issues.push(Issue::new(
            format!("{path}.success_regex"),
            format!("not a valid regex: {e}"),
            "fix the pattern, or remove it to accept any 2xx answer",
        ));
    }
}

fn zone_name(zone: &str, path: &str, issues: &mut Vec<Issue>) {
    if let Err(e) = normalize_domain(zone) {
        issues.push(Issue::new(
            path,
            e,
            "use the zone's name, e.g. \"example.com\"",
        ));
    }
}

fn records(
    file: &ConfigFile,
    ipv4: bool,
    ipv6: bool,
    providers: &[ProviderSettings],
    issues: &mut Vec<Issue>,
) -> Vec<RecordSettings> {
    let mut out = Vec::new();
    let mut seen: BTreeMap<(String, RecordType, String), usize> = BTreeMap::new();
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
        if let Some(n) = &name {
            check_in_zone(n, &rec.provider, providers, &path, issues);
        }
        if !names.contains(&rec.provider.as_str()) {
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
        if let Some(n) = &name {
            check_provider_supports(n, &types, &rec.provider, providers, &path, issues);
        }
        if rec.ttl == Some(0) || rec.ttl.is_some_and(|t| t > 2_147_483_647) {
            issues.push(Issue::new(
                format!("{path}.ttl"),
                "must be between 1 and 2147483647 seconds",
                "use e.g. 60, or leave it out for the provider's default",
            ));
        }
        let Some(name) = name else { continue };
        for record_type in types {
            let key = (name.clone(), record_type, rec.provider.clone());
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
            });
        }
    }
    out
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

/// Provider-specific limits on the names and types they can update.
fn check_provider_supports(
    name: &str,
    types: &[RecordType],
    provider: &str,
    providers: &[ProviderSettings],
    path: &str,
    issues: &mut Vec<Issue>,
) {
    let Some(p) = providers.iter().find(|p| p.name == provider) else {
        return;
    };
    match &p.kind {
        ProviderKind::Namecheap(_) if types.contains(&RecordType::Aaaa) => issues.push(Issue::new(
            format!("{path}.type"),
            "Namecheap dynamic DNS can only update A records",
            "set type = \"A\" for this record, or use another provider for IPv6",
        )),
        ProviderKind::Duckdns(_)
            if name
                .strip_suffix(".duckdns.org")
                .is_none_or(|sub| sub.is_empty() || sub.contains('.')) =>
        {
            issues.push(Issue::new(
                format!("{path}.name"),
                format!("`{name}` is not a DuckDNS name"),
                "use <your-subdomain>.duckdns.org",
            ));
        }
        _ => {}
    }
}

/// A record of a provider with a zone must be inside that zone.
fn check_in_zone(
    name: &str,
    provider: &str,
    providers: &[ProviderSettings],
    path: &str,
    issues: &mut Vec<Issue>,
) {
    let zone = providers
        .iter()
        .find(|p| p.name == provider)
        .and_then(|p| p.kind.zone().map(str::to_owned));
    if let Some(Ok(z)) = zone.as_deref().map(normalize_domain)
        && !(name == z || name.ends_with(&format!(".{z}")))
    {
        issues.push(Issue::new(
            format!("{path}.name"),
            format!("`{name}` is not inside zone {z} of provider `{provider}`"),
            format!("use a name ending in .{z}, or fix the provider's zone"),
        ));
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
