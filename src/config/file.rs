//! The serde mirror of the TOML config file, and the parser that reads it collecting every problem.
//!
//! The file format is part of the product: field names here are the names users write. Durations stay strings
//! until validation so a bad one gets a precise message; secrets stay [`Secret`] sources until validation
//! resolves them. [`parse`] never stops at the first problem: every top-level key, provider, source and record
//! is read on its own, so one mistake does not hide the next.

use serde::{Deserialize, Serialize};
use toml::{Table, Value};

use super::Issue;
use super::check::{duration_string, entry_table, typed, unknown_key};

/// The whole config file as written.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ConfigFile {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub interval: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_interval: Option<String>,
    /// At most this many provider writes of one record in any 10 minutes (0: no limit).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub write_budget: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ipv4: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ipv6: Option<bool>,
    /// Desktop toasts in tray mode (default on).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notifications: Option<bool>,
    /// The language of menus, toasts, alerts and messages: "auto" (the OS's), "en" or "zh-CN".
    #[serde(skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    /// The proxy of provider and alert calls (detection never uses one): a URL, `"none"` (direct, whatever
    /// the OS says), or `{ url, username, password }`; unset: the OS's setting.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub proxy: Option<ProxyFile>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detect: Option<DetectFile>,
    #[serde(rename = "provider", skip_serializing_if = "Vec::is_empty")]
    pub providers: Vec<ProviderEntry>,
    #[serde(rename = "record", skip_serializing_if = "Vec::is_empty")]
    pub records: Vec<RecordFile>,
    #[serde(rename = "line", skip_serializing_if = "Vec::is_empty")]
    pub lines: Vec<LineFile>,
    #[serde(rename = "notify", skip_serializing_if = "Vec::is_empty")]
    pub notify: Vec<NotifyEntry>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metrics: Option<MetricsFile>,
}

/// `[[line]]`: an uplink (a second ISP, a 4G modem) that detection can be sent through.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LineFile {
    pub name: String,
    /// Send through this network interface (`eth1`, `wwan0`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interface: Option<String>,
    /// Send from this local address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

/// `[[notify]]`: where alerts go. The kind's own fields stay a table here; the notifier kinds read them.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NotifyEntry {
    /// Where the entry is in the file (`notify[2]`), for messages about it.
    #[serde(skip)]
    pub path: String,
    pub name: String,
    /// Which alerts: "change", "failure", "recovery" (default: all three).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub events: Option<Vec<String>>,
    /// At most this many alerts an hour (default 20); the rest are counted and mentioned in the next one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_per_hour: Option<u32>,
    /// This notifier's own proxy (else the top-level `proxy`, else the OS's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proxy: Option<ProxyFile>,
    /// `kind = "..."` as written (the notifier kinds check it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<Value>,
    /// The kind's own fields.
    #[serde(flatten)]
    pub fields: Table,
}

/// `[metrics]`: the Prometheus endpoint (off unless `listen` is set).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetricsFile {
    /// `127.0.0.1:9851`; another address than loopback needs `allow_remote = true`.
    pub listen: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow_remote: Option<bool>,
    /// When set, every request must carry `Authorization: Bearer <token>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<crate::config::Secret>,
}

/// `[detect]`: how the public IP is found.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct DetectFile {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policy: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ipv4: Option<Vec<SourceEntry>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ipv6: Option<Vec<SourceEntry>>,
    /// Networks whose addresses are a CDN's own, never a user's (replaces the built-in Cloudflare list).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cdn_ranges: Option<Vec<String>>,
    /// What to do when a router says DDNS cannot reach this host: `warn` (the default), `publish`, `hold`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub behind_nat: Option<String>,
}

/// `proxy = "http://proxy:3128"` or `proxy = { url = "socks5://proxy:1080", username = "me", password = { env = "PROXY_PASSWORD" } }`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ProxyFile {
    Url(String),
    #[serde(rename_all = "snake_case")]
    Table {
        url: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        username: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        password: Option<super::Secret>,
    },
}

/// One detection source: the settings every kind has, and the kind's own (a table here; the source kinds
/// read it).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SourceEntry {
    /// `kind = "..."` as written.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<Value>,
    /// The kind's own fields.
    #[serde(flatten)]
    pub fields: Table,
    /// How long to wait for this source (humantime; default 5 s).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timeout: Option<String>,
    /// Accept private, loopback, CGNAT and documentation addresses from this source (LAN setups, tests).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allow_private: Option<bool>,
    /// Accept an answer inside a CDN's own ranges from this source.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allow_cdn: Option<bool>,
    /// Who runs the service (sources of one operator never confirm each other); default: from its host.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub operator: Option<String>,
    /// A proxy for this source (http and cloudflare-trace only), taken only with `allow_proxy = true`:
    /// the echo then sees the proxy's address.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub proxy: Option<ProxyFile>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allow_proxy: Option<bool>,
}

/// `[[provider]]`: a DNS host and its credentials. The kind's own fields stay a table here; the provider
/// kinds read them.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProviderEntry {
    /// Where the entry is in the file (`provider[2]`), for messages about it.
    #[serde(skip)]
    pub path: String,
    pub name: String,
    /// This provider's own proxy (else the top-level `proxy`, else the OS's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proxy: Option<ProxyFile>,
    /// `kind = "..."` as written (the provider kinds check it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<Value>,
    /// The kind's own fields.
    #[serde(flatten)]
    pub fields: Table,
}

/// What the three kinds of entries share: a `kind` and the kind's own fields.
pub trait KindTable {
    /// `kind = "..."` as written.
    fn kind_value(&self) -> Option<&Value>;
    /// The kind's own fields (without `kind` and the settings every entry of its list has).
    fn fields(&self) -> &Table;

    /// The kind's name, or "" when it is missing or not a string.
    fn kind(&self) -> &str {
        self.kind_value()
            .and_then(Value::as_str)
            .unwrap_or_default()
    }

    /// `kind` and the fields as one table, as a kind deserializes it.
    fn kind_table(&self) -> Table {
        let mut table = self.fields().clone();
        if let Some(kind) = self.kind_value() {
            table.insert("kind".into(), kind.clone());
        }
        table
    }
}

macro_rules! kind_table {
    ($($entry:ty),+) => {$(
        impl KindTable for $entry {
            fn kind_value(&self) -> Option<&Value> {
                self.kind.as_ref()
            }
            fn fields(&self) -> &Table {
                &self.fields
            }
        }
    )+};
}
kind_table!(ProviderEntry, NotifyEntry, SourceEntry);

/// What the lists of named entries (`[[provider]]`, `[[notify]]`) share.
pub trait NamedEntry {
    fn name(&self) -> &str;
    /// Where the entry is in the file (`provider[2]`).
    fn path(&self) -> &str;
    /// The entry's own `proxy`.
    fn proxy(&self) -> Option<&ProxyFile>;
}

macro_rules! named_entry {
    ($($entry:ty),+) => {$(
        impl NamedEntry for $entry {
            fn name(&self) -> &str {
                &self.name
            }
            fn path(&self) -> &str {
                &self.path
            }
            fn proxy(&self) -> Option<&ProxyFile> {
                self.proxy.as_ref()
            }
        }
    )+};
}
named_entry!(ProviderEntry, NotifyEntry);

/// `[[record]]`: a DNS name kept pointing at this machine.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordFile {
    pub name: String,
    pub provider: String,
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub record_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttl: Option<u32>,
    /// The resolution line to manage (`DNSPod`, Alibaba Cloud DNS, Huawei Cloud); default: the provider's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<String>,
    /// AAAA of a LAN host: the detected prefix combined with this interface id or MAC address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ipv6_host: Option<String>,
    /// The length of the detected prefix `ipv6_host` is combined with (default 64).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ipv6_prefix_len: Option<u8>,
    /// Publish the address seen through these `[[line]]`s: the first that works (failover), or all (`mode`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lines: Option<Vec<String>>,
    /// "failover" (default) or "all".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<String>,
    /// How long a recovered, preferred line must keep working before the record switches back (default 2m).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hold_down: Option<String>,
    /// Send the provider call through the line whose address is published, too.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider_via_line: Option<bool>,
}

const TOP_KEYS: &[&str] = &[
    "interval",
    "max_interval",
    "write_budget",
    "proxy",
    "ipv4",
    "ipv6",
    "notifications",
    "language",
    "detect",
    "provider",
    "record",
    "line",
    "notify",
    "metrics",
];

/// What [`parse`] could read, and what it could not.
#[derive(Debug, Default)]
pub struct Parsed {
    /// Everything that parsed; entries with problems are left out.
    pub file: ConfigFile,
    pub issues: Vec<Issue>,
}

/// Parses the file's text. A syntax error ends parsing (with line and column); every other problem is
/// collected and parsing goes on, so the caller sees all of them.
pub fn parse(text: &str) -> Result<Parsed, Vec<Issue>> {
    let table: Table = toml::from_str(text).map_err(|e| {
        vec![crate::config::check::problem(
            "(file)",
            "check.file.valid_toml",
            &[("error", &e.to_string().trim_end())],
        )]
    })?;
    let mut issues = Vec::new();
    let mut file = ConfigFile::default();
    for (key, value) in table {
        match key.as_str() {
            "interval" => file.interval = duration_string(value, &key, &mut issues),
            "max_interval" => file.max_interval = duration_string(value, &key, &mut issues),
            "write_budget" => file.write_budget = typed(value, &key, &mut issues),
            "ipv4" => file.ipv4 = typed(value, &key, &mut issues),
            "ipv6" => file.ipv6 = typed(value, &key, &mut issues),
            "notifications" => file.notifications = typed(value, &key, &mut issues),
            "language" => file.language = typed(value, &key, &mut issues),
            "proxy" => file.proxy = typed(value, &key, &mut issues),
            "detect" => file.detect = detect(value, &mut issues),
            "provider" => {
                file.providers = array(value, "provider", "[[provider]]", &mut issues, provider);
            }
            "record" => file.records = array(value, "record", "[[record]]", &mut issues, typed),
            "line" => file.lines = array(value, "line", "[[line]]", &mut issues, typed),
            "notify" => file.notify = array(value, "notify", "[[notify]]", &mut issues, notifier),
            "metrics" => file.metrics = typed(value, "metrics", &mut issues),
            _ => issues.push(unknown_key(&key, "", TOP_KEYS)),
        }
    }
    Ok(Parsed { file, issues })
}

fn array<T>(
    value: Value,
    path: &str,
    header: &str,
    issues: &mut Vec<Issue>,
    each: impl Fn(Value, &str, &mut Vec<Issue>) -> Option<T>,
) -> Vec<T> {
    let Value::Array(items) = value else {
        issues.push(crate::config::check::problem(
            path,
            "check.file.expected_list_tables_found",
            &[("found", &value.type_str()), ("header", &header)],
        ));
        return Vec::new();
    };
    items
        .into_iter()
        .enumerate()
        .filter_map(|(i, item)| each(item, &format!("{path}[{i}]"), issues))
        .collect()
}

/// Takes the entry's `name` off its table, reporting a missing or non-string one with `hint` (how to name it).
fn entry_name(
    table: &mut Table,
    path: &str,
    hint: &str,
    issues: &mut Vec<Issue>,
) -> Option<String> {
    match table.remove("name") {
        Some(Value::String(s)) => Some(s),
        Some(other) => {
            issues.push(Issue::new(
                format!("{path}.name"),
                crate::i18n::tr(
                    "check.file.expected_string_found.msg",
                    &[("found", &other.type_str())],
                ),
                hint,
            ));
            None
        }
        None => {
            issues.push(Issue::new(
                format!("{path}.name"),
                crate::i18n::tr("check.file.missing.msg", &[]),
                hint,
            ));
            None
        }
    }
}

/// A `[[provider]]` entry: `name` and `proxy` apart, `kind` and the kind's fields as written.
fn provider(value: Value, path: &str, issues: &mut Vec<Issue>) -> Option<ProviderEntry> {
    let mut table = entry_table(value, path, issues)?;
    let name = entry_name(
        &mut table,
        path,
        "give the provider a name in quotes, e.g. name = \"home\"; records refer to it",
        issues,
    );
    let proxy = table
        .remove("proxy")
        .and_then(|v| typed(v, &format!("{path}.proxy"), issues));
    let kind = table.remove("kind");
    Some(ProviderEntry {
        path: path.to_owned(),
        name: name?,
        proxy,
        kind,
        fields: table,
    })
}

/// A `[[notify]]` entry: `name`, `events`, `max_per_hour` and `proxy` apart, then the kind's own fields.
fn notifier(value: Value, path: &str, issues: &mut Vec<Issue>) -> Option<NotifyEntry> {
    let mut table = entry_table(value, path, issues)?;
    let name = entry_name(
        &mut table,
        path,
        "give the notifier a name in quotes, e.g. name = \"phone\" (`ddns-tray notify test NAME` uses it)",
        issues,
    );
    let events = table
        .remove("events")
        .and_then(|v| typed(v, &format!("{path}.events"), issues));
    let max_per_hour = table
        .remove("max_per_hour")
        .and_then(|v| typed(v, &format!("{path}.max_per_hour"), issues));
    let proxy = table
        .remove("proxy")
        .and_then(|v| typed(v, &format!("{path}.proxy"), issues));
    let kind = table.remove("kind");
    Some(NotifyEntry {
        path: path.to_owned(),
        name: name?,
        events,
        max_per_hour,
        proxy,
        kind,
        fields: table,
    })
}

/// One detection source: the settings every source has apart, `kind` and the kind's fields as written.
fn source(value: Value, path: &str, issues: &mut Vec<Issue>) -> Option<SourceEntry> {
    let mut table = entry_table(value, path, issues)?;
    let timeout = table
        .remove("timeout")
        .and_then(|v| duration_string(v, &format!("{path}.timeout"), issues));
    let allow_private = table
        .remove("allow_private")
        .and_then(|v| typed(v, &format!("{path}.allow_private"), issues));
    let allow_cdn = table
        .remove("allow_cdn")
        .and_then(|v| typed(v, &format!("{path}.allow_cdn"), issues));
    let operator = table
        .remove("operator")
        .and_then(|v| typed(v, &format!("{path}.operator"), issues));
    let proxy = table
        .remove("proxy")
        .and_then(|v| typed(v, &format!("{path}.proxy"), issues));
    let allow_proxy = table
        .remove("allow_proxy")
        .and_then(|v| typed(v, &format!("{path}.allow_proxy"), issues));
    let kind = table.remove("kind");
    Some(SourceEntry {
        kind,
        fields: table,
        timeout,
        allow_private,
        allow_cdn,
        operator,
        proxy,
        allow_proxy,
    })
}

fn detect(value: Value, issues: &mut Vec<Issue>) -> Option<DetectFile> {
    let table = entry_table(value, "detect", issues)?;
    let mut out = DetectFile::default();
    for (key, value) in table {
        let path = format!("detect.{key}");
        match key.as_str() {
            "policy" => out.policy = typed(value, &path, issues),
            "ipv4" => out.ipv4 = Some(array(value, &path, "{ kind = ... }", issues, source)),
            "ipv6" => out.ipv6 = Some(array(value, &path, "{ kind = ... }", issues, source)),
            "cdn_ranges" => out.cdn_ranges = typed(value, &path, issues),
            "behind_nat" => out.behind_nat = typed(value, &path, issues),
            _ => issues.push(unknown_key(
                &key,
                "detect.",
                &["policy", "ipv4", "ipv6", "cdn_ranges", "behind_nat"],
            )),
        }
    }
    Some(out)
}

impl ConfigFile {
    /// The file's text as written back by the settings dialog.
    pub fn to_toml(&self) -> Result<String, toml::ser::Error> {
        toml::to_string_pretty(self)
    }
}
