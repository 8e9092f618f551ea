//! The settings window's model: everything in the config file, editable, validated by the same code as
//! `ddns-tray check`, and saved into the user's file keeping its comments and layout (`toml_edit`). The pages
//! that draw it are in `pages`.
//!
//! Provider fields come from the kinds table ([`crate::provider::KINDS`]), so a new provider shows
//! up here without touching this file. Secret fields are masked; secrets that come from `{ env = … }` or
//! `{ file = … }` are shown by where they come from and written back unchanged.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use toml::{Table, Value};

use crate::config::Issue;
use crate::config::file::{ConfigFile, KindTable};
use crate::i18n::t;
use crate::provider::kind_info;
use crate::settings::{Settings, load_str};

/// One detection source row.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SourceRow {
    pub kind: String,
    /// `url` (http, cloudflare-trace), `server` (dns), `name` (dns, interface), `type` (dns), `command`.
    pub fields: BTreeMap<String, String>,
    pub timeout: String,
    pub allow_private: bool,
    /// Kept as the file has them (not shown in the window).
    pub allow_cdn: bool,
    pub operator: String,
    pub proxy: Option<Value>,
    pub allow_proxy: bool,
}

/// One provider.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ProviderRow {
    pub name: String,
    pub kind: String,
    /// Text of each field of the kind (secrets included, literal ones only).
    pub fields: BTreeMap<String, String>,
    /// Secrets from `{ env }` / `{ file }`, kept as written.
    pub kept: BTreeMap<String, Value>,
}

/// One `[[notify]]` entry: its kind's fields as for a provider, and which alerts it takes.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NotifierRow {
    pub entry: ProviderRow,
    /// `events`: empty = the default (change, failure, recovery).
    pub events: Vec<String>,
    pub max_per_hour: String,
}

/// One record.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RecordRow {
    pub name: String,
    pub provider: String,
    /// "" (one per enabled family), "A" or "AAAA".
    pub record_type: String,
    pub ttl: String,
    /// The resolution line (providers with lines); "" = the provider's default line.
    pub line: String,
    /// Fields the form does not edit (`ipv6_host`, `lines`, `mode`, …), written back as they were.
    pub kept: Table,
}

/// The whole form.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SettingsForm {
    pub interval: String,
    pub max_interval: String,
    pub ipv4: bool,
    pub ipv6: bool,
    pub notifications: bool,
    /// `language`: "" or "auto" (the OS's), "en", "zh-CN".
    pub language: String,
    /// Start at login (not in the config: the OS's autostart entry, applied on Save).
    pub start_at_login: bool,
    pub policy: String,
    /// Per family (IPv4, IPv6): `None` = the built-in defaults.
    pub sources: [Option<Vec<SourceRow>>; 2],
    pub providers: Vec<ProviderRow>,
    /// `[[notify]]`: where alerts go.
    pub notifiers: Vec<NotifierRow>,
    pub records: Vec<RecordRow>,
    /// Problems from the last Save, by field path (`record[1].provider`).
    pub errors: BTreeMap<String, String>,
    /// A line for the bottom of the dialog.
    pub message: Option<String>,
    /// The keyring entries the saved config refers to: those no longer referred to after a Save (a provider
    /// removed or renamed) are deleted.
    pub keyring_entries: std::collections::BTreeSet<String>,
    /// Sections the form does not edit (`[[line]]`, `[metrics]`), written back as they were read.
    pub kept_sections: Table,
}

/// The keyring entries that the providers' and notifiers' secrets refer to (`{ keyring = "ENTRY" }` at
/// any depth of their tables).
fn keyring_entries<'a>(tables: impl Iterator<Item = Table>) -> std::collections::BTreeSet<String> {
    fn walk(value: &Value, out: &mut std::collections::BTreeSet<String>) {
        match value {
            Value::Table(t) if t.len() == 1 && t.get("keyring").is_some_and(Value::is_str) => {
                out.extend(t["keyring"].as_str().map(str::to_owned));
            }
            Value::Table(t) => t.values().for_each(|v| walk(v, out)),
            Value::Array(a) => a.iter().for_each(|v| walk(v, out)),
            _ => {}
        }
    }
    let mut out = std::collections::BTreeSet::new();
    for t in tables {
        walk(&Value::Table(t), &mut out);
    }
    out
}

pub(super) const SOURCE_KINDS: &[&str] = &[
    "cloudflare-trace",
    "http",
    "dns",
    "interface",
    "command",
    "router",
];

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        // A command line: arguments with spaces or quotes are double-quoted, so `split_args` gets them back.
        Value::Array(items) => items
            .iter()
            .map(|i| {
                let a = text(i);
                if a.is_empty() || a.contains([' ', '"', '\'', '\\']) {
                    format!("\"{}\"", a.replace('\\', "\\\\").replace('"', "\\\""))
                } else {
                    a
                }
            })
            .collect::<Vec<_>>()
            .join(" "),
        other => other.to_string(),
    }
}

/// Splits a command line the way `text` writes it: spaces separate arguments; double quotes group them,
/// with `\"` and `\\` inside.
fn split_args(line: &str) -> Vec<String> {
    let mut args = Vec::new();
    let mut current = String::new();
    let (mut quoted, mut started, mut chars) = (false, false, line.chars());
    while let Some(c) = chars.next() {
        match c {
            '"' => {
                quoted = !quoted;
                started = true;
            }
            '\\' if quoted => current.extend(chars.next()),
            c if c.is_whitespace() && !quoted => {
                if started {
                    args.push(std::mem::take(&mut current));
                    started = false;
                }
            }
            c => {
                current.push(c);
                started = true;
            }
        }
    }
    if started {
        args.push(current);
    }
    args
}

impl SettingsForm {
    /// The form for a parsed config file.
    #[must_use]
    pub fn from_file(file: &ConfigFile) -> Self {
        let detect = file.detect.clone().unwrap_or_default();
        let rows = |list: &Option<Vec<crate::config::file::SourceEntry>>| {
            list.as_ref().map(|l| {
                l.iter()
                    .map(|s| SourceRow {
                        kind: s.kind().to_owned(),
                        fields: s.fields.iter().map(|(k, v)| (k.clone(), text(v))).collect(),
                        timeout: s.timeout.clone().unwrap_or_default(),
                        allow_private: s.allow_private.unwrap_or(false),
                        allow_cdn: s.allow_cdn.unwrap_or(false),
                        operator: s.operator.clone().unwrap_or_default(),
                        proxy: s.proxy.as_ref().and_then(|p| Value::try_from(p).ok()),
                        allow_proxy: s.allow_proxy.unwrap_or(false),
                    })
                    .collect()
            })
        };
        let providers = file
            .providers
            .iter()
            .map(|p| {
                let mut row = row_of(&p.name, p.kind(), Some(Value::Table(p.kind_table())));
                keep_proxy(&mut row, p.proxy.as_ref());
                row
            })
            .collect();
        let notifiers = file
            .notify
            .iter()
            .map(|n| {
                let mut entry = row_of(&n.name, n.kind(), Some(Value::Table(n.kind_table())));
                keep_proxy(&mut entry, n.proxy.as_ref());
                NotifierRow {
                    entry,
                    events: n.events.clone().unwrap_or_default(),
                    max_per_hour: n.max_per_hour.map(|m| m.to_string()).unwrap_or_default(),
                }
            })
            .collect();
        let records = file
            .records
            .iter()
            .map(|r| {
                let mut kept = Value::try_from(r)
                    .ok()
                    .and_then(|v| v.as_table().cloned())
                    .unwrap_or_default();
                for edited in ["name", "provider", "type", "ttl", "line"] {
                    kept.remove(edited);
                }
                RecordRow {
                    name: r.name.clone(),
                    provider: r.provider.clone(),
                    record_type: r.record_type.clone().unwrap_or_default(),
                    ttl: r.ttl.map(|t| t.to_string()).unwrap_or_default(),
                    line: r.line.clone().unwrap_or_default(),
                    kept,
                }
            })
            .collect();
        Self {
            interval: file.interval.clone().unwrap_or_default(),
            max_interval: file.max_interval.clone().unwrap_or_default(),
            ipv4: file.ipv4.unwrap_or(true),
            ipv6: file.ipv6.unwrap_or(false),
            notifications: file.notifications.unwrap_or(true),
            language: file.language.clone().unwrap_or_default(),
            start_at_login: false,
            policy: detect.policy.clone().unwrap_or_default(),
            sources: [rows(&detect.ipv4), rows(&detect.ipv6)],
            providers,
            notifiers,
            records,
            errors: BTreeMap::new(),
            message: None,
            keyring_entries: keyring_entries(
                file.providers
                    .iter()
                    .map(KindTable::kind_table)
                    .chain(file.notify.iter().map(KindTable::kind_table)),
            ),
            kept_sections: kept_sections(file),
        }
    }

    /// The config file's text for the form's values. Values are written as typed; numbers and booleans
    /// where they parse as such, so that validation reports type errors against the right field.
    #[must_use]
    pub fn to_toml(&self) -> String {
        let mut top = Table::new();
        let put = |t: &mut Table, k: &str, v: &str| {
            if !v.trim().is_empty() {
                t.insert(k.into(), Value::String(v.trim().to_owned()));
            }
        };
        put(&mut top, "interval", &self.interval);
        put(&mut top, "max_interval", &self.max_interval);
        // Defaults are not written: a Save adds nothing the user did not choose.
        if !self.ipv4 {
            top.insert("ipv4".into(), Value::Boolean(false));
        }
        if self.ipv6 {
            top.insert("ipv6".into(), Value::Boolean(true));
        }
        if !self.notifications {
            top.insert("notifications".into(), Value::Boolean(false));
        }
        put(&mut top, "language", &self.language);
        let mut detect = Table::new();
        put(&mut detect, "policy", &self.policy);
        for (family, rows) in ["ipv4", "ipv6"].iter().zip(&self.sources) {
            if let Some(rows) = rows {
                let list = rows
                    .iter()
                    .map(|r| {
                        let mut t = Table::new();
                        t.insert("kind".into(), Value::String(r.kind.clone()));
                        for (k, v) in &r.fields {
                            if v.trim().is_empty() {
                                continue;
                            }
                            let value = if k == "command" {
                                Value::Array(split_args(v).into_iter().map(Value::String).collect())
                            } else {
                                Value::String(v.trim().to_owned())
                            };
                            t.insert(k.clone(), value);
                        }
                        put(&mut t, "timeout", &r.timeout);
                        if r.allow_private {
                            t.insert("allow_private".into(), Value::Boolean(true));
                        }
                        if r.allow_cdn {
                            t.insert("allow_cdn".into(), Value::Boolean(true));
                        }
                        put(&mut t, "operator", &r.operator);
                        if let Some(p) = &r.proxy {
                            t.insert("proxy".into(), p.clone());
                        }
                        if r.allow_proxy {
                            t.insert("allow_proxy".into(), Value::Boolean(true));
                        }
                        Value::Table(t)
                    })
                    .collect();
                detect.insert((*family).into(), Value::Array(list));
            }
        }
        top.insert("detect".into(), Value::Table(detect));
        let providers: Vec<Value> = self
            .providers
            .iter()
            .map(|p| entry_table(p, kind_info(&p.kind)))
            .collect();
        if !providers.is_empty() {
            top.insert("provider".into(), Value::Array(providers));
        }
        let notifiers: Vec<Value> = self.notifiers.iter().map(notifier_table).collect();
        if !notifiers.is_empty() {
            top.insert("notify".into(), Value::Array(notifiers));
        }
        put_kept(&mut top, &self.kept_sections);
        let records: Vec<Value> =
            self.records
                .iter()
                .map(|r| {
                    let mut t = Table::new();
                    t.insert("name".into(), Value::String(r.name.trim().to_owned()));
                    t.insert("provider".into(), Value::String(r.provider.clone()));
                    put(&mut t, "type", &r.record_type);
                    if !r.ttl.trim().is_empty() {
                        let ttl = r.ttl.trim().parse::<i64>().map_or_else(
                            |_| Value::String(r.ttl.trim().to_owned()),
                            Value::Integer,
                        );
                        t.insert("ttl".into(), ttl);
                    }
                    put(&mut t, "line", &r.line);
                    for (k, v) in &r.kept {
                        t.insert(k.clone(), v.clone());
                    }
                    Value::Table(t)
                })
                .collect();
        if !records.is_empty() {
            top.insert("record".into(), Value::Array(records));
        }
        toml::to_string_pretty(&top).unwrap_or_default()
    }

    /// What "Test" on provider `index` checks: its validated settings, and the name and type of its first
    /// record. Only that provider and its records are validated, so the rest of the form may be unfinished.
    /// The file's top-level `proxy` alone, for a Test that validates one entry on its own.
    fn kept_proxy(&self) -> Table {
        self.kept_sections
            .iter()
            .filter(|(k, _)| *k == "proxy")
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }

    pub fn test_target(
        &self,
        index: usize,
        lookup: &dyn crate::config::secret::Lookup,
    ) -> Result<
        (
            crate::provider::ProviderSettings,
            String,
            crate::config::RecordType,
        ),
        String,
    > {
        let provider = self.providers.get(index).ok_or("no such provider")?;
        let mut only = SettingsForm {
            ipv4: self.ipv4,
            ipv6: self.ipv6,
            policy: "first".into(),
            kept_sections: self.kept_proxy(),
            ..SettingsForm::default()
        };
        only.providers = vec![provider.clone()];
        only.records.clone_from(&self.records);
        only.records.retain(|r| r.provider == provider.name);
        if only.records.is_empty() {
            return Err(t!("providers.test_needs_record", name = provider.name).into_owned());
        }
        let (_, settings) = only.part(lookup)?;
        let record = settings.records.first().ok_or("no record to test")?;
        Ok((
            settings.providers[0].clone(),
            record.name.clone(),
            record.record_type,
        ))
    }

    /// A part of the form (one provider and its records, one notifier, the detection), validated on its
    /// own; a problem is told with its field, as "fix this first: …".
    fn part(
        &self,
        lookup: &dyn crate::config::secret::Lookup,
    ) -> Result<(ConfigFile, Settings), String> {
        load_str(&self.to_toml(), lookup).map_err(|issues| {
            let first: Vec<String> = issues
                .iter()
                .take(2)
                .map(|i| format!("{}: {}", i.path, i.message))
                .collect();
            t!("providers.test_fix_first", problems = first.join("; ")).into_owned()
        })
    }

    /// What "Send test" on notifier `index` sends through: its validated settings. Only that notifier is
    /// validated, so the rest of the form may be unfinished.
    pub fn notifier_target(
        &self,
        index: usize,
        lookup: &dyn crate::config::secret::Lookup,
    ) -> Result<crate::notifier::NotifierSettings, String> {
        let notifier = self.notifiers.get(index).ok_or("no such notifier")?;
        let only = SettingsForm {
            ipv4: true,
            policy: "first".into(),
            notifiers: vec![notifier.clone()],
            kept_sections: self.kept_proxy(),
            ..SettingsForm::default()
        };
        let (_, mut settings) = only.part(lookup)?;
        settings
            .notify
            .pop()
            .ok_or_else(|| "no notifier".to_owned())
    }

    /// What "Detect now" asks: the form's detection settings and enabled families, validated on their own
    /// (the rest of the form may be unfinished). Needs no secrets.
    pub fn detection(
        &self,
    ) -> Result<(crate::detect::DetectSettings, Vec<crate::config::Family>), String> {
        let only = SettingsForm {
            ipv4: self.ipv4,
            ipv6: self.ipv6,
            policy: self.policy.clone(),
            sources: self.sources.clone(),
            ..SettingsForm::default()
        };
        let (_, settings) = only.part(&|_: &str| None)?;
        let families = crate::config::Family::ALL
            .into_iter()
            .filter(|f| settings.family_enabled(*f))
            .collect();
        Ok((settings.detect, families))
    }

    /// Validates the form like `ddns-tray check`. On success returns the file's text to write and the
    /// settings to reload; on failure records every problem by field path and returns `None`.
    pub fn validate(
        &mut self,
        lookup: &dyn crate::config::secret::Lookup,
    ) -> Option<(String, Settings)> {
        self.errors.clear();
        match load_str(&self.to_toml(), lookup) {
            Ok((file, settings)) => {
                self.message = None;
                Some((file.to_toml().unwrap_or_default(), settings))
            }
            Err(issues) => {
                self.message = Some(t!("save.problems", n = issues.len()).into_owned());
                for Issue {
                    path,
                    message,
                    hint,
                } in issues
                {
                    self.errors.entry(path).or_insert_with(|| {
                        if hint.is_empty() {
                            message
                        } else {
                            format!("{message} ({hint})")
                        }
                    });
                }
                None
            }
        }
    }
}

/// The sections of `file` the form does not edit, as TOML values: a file holding only them, whose other
/// (empty) sections are left out when serialized.
/// Writes the kept sections into `top`; a kept `[detect]` (`cdn_ranges`) joins the form's.
fn put_kept(top: &mut Table, kept: &Table) {
    for (k, v) in kept {
        match (top.get_mut(k), v) {
            (Some(Value::Table(mine)), Value::Table(theirs)) => {
                for (kk, vv) in theirs {
                    mine.insert(kk.clone(), vv.clone());
                }
            }
            _ => {
                top.insert(k.clone(), v.clone());
            }
        }
    }
}

fn kept_sections(file: &ConfigFile) -> Table {
    // Settings the window does not show, written back as they were: `[[line]]`, `[metrics]`, `proxy`,
    // `write_budget` and `detect.cdn_ranges`.
    let only = ConfigFile {
        lines: file.lines.clone(),
        metrics: file.metrics.clone(),
        proxy: file.proxy.clone(),
        write_budget: file.write_budget,
        detect: file
            .detect
            .as_ref()
            .and_then(|d| d.cdn_ranges.clone())
            .map(|cdn_ranges| crate::config::file::DetectFile {
                cdn_ranges: Some(cdn_ranges),
                ..Default::default()
            }),
        ..ConfigFile::default()
    };
    Value::try_from(&only)
        .ok()
        .and_then(|v| v.as_table().cloned())
        .unwrap_or_default()
}

/// A notifier kind's table entry.
#[must_use]
pub fn notify_kind_info(kind: &str) -> Option<&'static crate::provider::KindInfo> {
    crate::notifier::NOTIFY_KINDS
        .iter()
        .find(|k| k.kind == kind)
}

/// The TOML table of a `[[notify]]` row.
fn notifier_table(n: &NotifierRow) -> Value {
    let mut t = entry_table(&n.entry, notify_kind_info(&n.entry.kind));
    if let Value::Table(t) = &mut t {
        if !n.events.is_empty() {
            let events = n.events.iter().cloned().map(Value::String).collect();
            t.insert("events".into(), Value::Array(events));
        }
        if !n.max_per_hour.trim().is_empty() {
            t.insert("max_per_hour".into(), number(&n.max_per_hour));
        }
    }
    t
}

/// A whole number as typed: an integer when it is one, else the text (validation names the field).
fn number(text: &str) -> Value {
    text.trim()
        .parse::<i64>()
        .map_or_else(|_| Value::String(text.trim().to_owned()), Value::Integer)
}

/// A provider or notifier as it was read: the kind's fields as text, secret references kept aside.
/// An entry's `proxy` (not shown in the window), kept to be written back as it was.
fn keep_proxy(row: &mut ProviderRow, proxy: Option<&crate::config::file::ProxyFile>) {
    if let Some(v) = proxy.and_then(|p| Value::try_from(p).ok()) {
        row.kept.insert("proxy".into(), v);
    }
}

fn row_of(name: &str, kind: &str, table: Option<Value>) -> ProviderRow {
    let table = table
        .and_then(|v| v.as_table().cloned())
        .unwrap_or_default();
    let mut row = ProviderRow {
        name: name.to_owned(),
        kind: kind.to_owned(),
        ..ProviderRow::default()
    };
    for (k, v) in table.into_iter().filter(|(k, _)| k != "kind") {
        match &v {
            Value::Table(t) if k != "headers" => {
                row.kept.insert(k, Value::Table(t.clone()));
            }
            Value::Table(t) => {
                let lines: Vec<String> = t
                    .iter()
                    .map(|(h, hv)| format!("{h}: {}", text(hv)))
                    .collect();
                row.fields.insert(k, lines.join("\n"));
            }
            // Mail recipients: one line, separated by commas.
            Value::Array(items) if k == "to" => {
                let all: Vec<String> = items.iter().map(text).collect();
                row.fields.insert(k, all.join(", "));
            }
            other => {
                row.fields.insert(k, text(other));
            }
        }
    }
    row
}

/// The TOML table of a provider or notifier row, each field typed as its kind expects.
fn entry_table(p: &ProviderRow, info: Option<&crate::provider::KindInfo>) -> Value {
    let mut t = Table::new();
    t.insert("name".into(), Value::String(p.name.trim().to_owned()));
    t.insert("kind".into(), Value::String(p.kind.clone()));
    for (k, v) in &p.fields {
        // Fields of another kind (left over after switching kinds) are not written.
        if info.is_some_and(|i| !i.fields.iter().any(|f| f.name == k)) || v.trim().is_empty() {
            continue;
        }
        let boolean = info.is_some_and(|i| i.fields.iter().any(|f| f.name == k && f.boolean));
        let value = match k.as_str() {
            _ if boolean => v
                .trim()
                .parse::<bool>()
                .map_or_else(|_| Value::String(v.trim().to_owned()), Value::Boolean),
            "to" => Value::Array(
                v.split([',', ';', '\n'])
                    .map(str::trim)
                    .filter(|a| !a.is_empty())
                    .map(|a| Value::String(a.to_owned()))
                    .collect(),
            ),
            "priority" => number(v),
            // Telegram chat ids are numbers; `@channel` stays text.
            "chat_id" if v.trim().parse::<i64>().is_ok() => number(v),
            "headers" => Value::Table(
                v.lines()
                    .filter_map(|l| l.split_once(':'))
                    .map(|(h, hv)| (h.trim().to_owned(), header_value(hv.trim())))
                    .collect(),
            ),
            // Secrets keep surrounding spaces so the secret checks can report them.
            _ if info.is_some_and(|i| i.fields.iter().any(|f| f.name == k && f.secret)) => {
                Value::String(v.clone())
            }
            _ => Value::String(v.trim().to_owned()),
        };
        t.insert(k.clone(), value);
    }
    for (k, v) in &p.kept {
        if p.fields.get(k).is_none_or(String::is_empty) {
            t.insert(k.clone(), v.clone());
        }
    }
    Value::Table(t)
}

/// A header value from the form: `{ env = "VAR" }` / `{ file = … }` / `{ keyring = … }` stay secret
/// references; anything else is the literal value.
fn header_value(text: &str) -> Value {
    text.starts_with('{')
        .then(|| toml::from_str::<Table>(&format!("v = {text}")).ok())
        .flatten()
        .and_then(|t| t.get("v").cloned())
        .filter(Value::is_table)
        .unwrap_or_else(|| Value::String(text.to_owned()))
}

/// Where a kept secret comes from, for the form.
pub(super) fn kept_source(v: &Value) -> String {
    match (
        v.get("env").and_then(Value::as_str),
        v.get("file").and_then(Value::as_str),
    ) {
        (Some(var), _) => t!("secret.from_env", var = var).into_owned(),
        (_, Some(path)) => t!("secret.from_file", path = path).into_owned(),
        _ if v.get("keyring").is_some() => t!("secret.in_keyring").into_owned(),
        _ => t!("secret.kept").into_owned(),
    }
}

/// `canonical` (the validated file, as ddns-tray writes it) written into `original` (the user's file): keys
/// that stay keep their comments, order and layout (inline tables stay inline); changed values keep the
/// comments around them; `[[provider]]`, `[[record]]`, `[[notify]]` and `[[line]]` entries are matched by
/// name (records by name, type and line), so removing one leaves the others' comments in place. When the
/// original does not parse, the canonical text is used.
#[must_use]
pub fn merge_into(original: &str, canonical: &str) -> String {
    let (Ok(mut doc), Ok(new)) = (
        original.parse::<toml_edit::DocumentMut>(),
        canonical.parse::<toml_edit::DocumentMut>(),
    ) else {
        return canonical.to_owned();
    };
    let had_keys = doc.as_table().iter().any(|(_, item)| item.is_value());
    merge_table(doc.as_table_mut(), new.as_table());
    if !had_keys {
        keep_header_comment(&mut doc);
    }
    doc.to_string()
}

fn merge_table(old: &mut dyn toml_edit::TableLike, new: &dyn toml_edit::TableLike) {
    let gone: Vec<String> = old
        .iter()
        .map(|(k, _)| k.to_owned())
        .filter(|k| !new.contains_key(k))
        .collect();
    for k in gone {
        old.remove(&k);
    }
    for (k, item) in new.iter() {
        match old.get_mut(k) {
            Some(existing) => merge_item(existing, item),
            None => {
                old.insert(k, item.clone());
            }
        }
    }
}

fn merge_item(old: &mut toml_edit::Item, new: &toml_edit::Item) {
    use toml_edit::{Item, Value as V};
    match (old, new) {
        (Item::Table(o), Item::Table(n)) => merge_table(o, n),
        (Item::Value(V::InlineTable(o)), Item::Table(n)) => merge_table(o, n),
        (Item::Table(o), Item::Value(V::InlineTable(n))) => merge_table(o, n),
        (Item::Value(V::InlineTable(o)), Item::Value(V::InlineTable(n))) => merge_table(o, n),
        (Item::ArrayOfTables(o), Item::ArrayOfTables(n)) => merge_entries(o, n),
        // Written inline (`ipv4 = [ { kind = … } ]`): it stays inline, on one line.
        (Item::Value(o @ V::Array(_)), Item::ArrayOfTables(n)) => {
            let mut new = V::Array(n.clone().into_array());
            one_line(&mut new);
            if !same_value(o, &new) {
                let decor = o.decor().clone();
                *o = new;
                *o.decor_mut() = decor;
            }
        }
        (Item::Value(o), Item::Value(n)) => {
            if !same_value(o, n) {
                let decor = o.decor().clone();
                *o = n.clone();
                *o.decor_mut() = decor;
            }
        }
        (o, n) => *o = n.clone(),
    }
}

/// Formats an inline value on one line (arrays and tables inside it too).
fn one_line(v: &mut toml_edit::Value) {
    match v {
        toml_edit::Value::Array(a) => {
            for item in a.iter_mut() {
                one_line(item);
            }
            a.fmt();
        }
        toml_edit::Value::InlineTable(t) => {
            for (_, item) in t.iter_mut() {
                one_line(item);
            }
            t.fmt();
        }
        _ => {}
    }
}

/// A file that starts with a comment and no top-level keys keeps the comment at the top when a Save adds
/// one (`toml_edit` files the comment under the first table's header).
fn keep_header_comment(doc: &mut toml_edit::DocumentMut) {
    let root = doc.as_table_mut();
    let Some(first_key) = root
        .iter()
        .find(|(_, item)| item.is_value())
        .map(|(k, _)| k.to_owned())
    else {
        return;
    };
    // The table printed first: the lowest position among the root's tables.
    let mut first: Option<(isize, String)> = None;
    for (k, item) in root.iter() {
        let pos = match item {
            toml_edit::Item::Table(t) => t.position(),
            toml_edit::Item::ArrayOfTables(a) => a.get(0).and_then(toml_edit::Table::position),
            _ => None,
        };
        if let Some(pos) = pos
            && first.as_ref().is_none_or(|(p, _)| pos < *p)
        {
            first = Some((pos, k.to_owned()));
        }
    }
    let Some((_, table_key)) = first else { return };
    let header = match root.get_mut(&table_key) {
        Some(toml_edit::Item::Table(t)) => Some(t.decor_mut()),
        Some(toml_edit::Item::ArrayOfTables(a)) => a.get_mut(0).map(toml_edit::Table::decor_mut),
        _ => None,
    };
    let Some(header) = header else { return };
    let prefix = header
        .prefix()
        .and_then(|p| p.as_str())
        .unwrap_or_default()
        .to_owned();
    if !prefix.trim_start().starts_with('#') {
        return;
    }
    header.set_prefix("\n");
    if let Some(mut key) = root.key_mut(&first_key) {
        key.leaf_decor_mut()
            .set_prefix(prefix.trim_start_matches('\n').to_owned());
    }
}

/// Values equal as TOML (`'a'` and `"a"`, `0x10` and `16` are the same).
fn same_value(a: &toml_edit::Value, b: &toml_edit::Value) -> bool {
    let parse = |v: &toml_edit::Value| {
        let mut v = v.clone();
        v.decor_mut().clear();
        toml::from_str::<Table>(&format!("v = {v}")).ok()
    };
    matches!((parse(a), parse(b)), (Some(x), Some(y)) if x == y)
}

/// Who an entry of an array of tables is: its name, and a record's type and line.
fn identity(t: &toml_edit::Table) -> (String, String, String) {
    let s = |k: &str| {
        t.get(k)
            .and_then(toml_edit::Item::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    (s("name"), s("type"), s("line"))
}

fn merge_entries(old: &mut toml_edit::ArrayOfTables, new: &toml_edit::ArrayOfTables) {
    let mut pool: Vec<Option<toml_edit::Table>> = old.iter().cloned().map(Some).collect();
    let mut out = toml_edit::ArrayOfTables::new();
    let kind = |t: &toml_edit::Table| {
        t.get("kind")
            .and_then(toml_edit::Item::as_str)
            .map(str::to_owned)
    };
    for (i, n) in new.iter().enumerate() {
        let id = identity(n);
        // The same entry; else the same name; else (a rename) the entry of the same kind at the same place.
        let found = pool
            .iter()
            .position(|o| o.as_ref().is_some_and(|o| identity(o) == id))
            .or_else(|| {
                pool.iter()
                    .position(|o| o.as_ref().is_some_and(|o| identity(o).0 == id.0))
            })
            .or_else(|| {
                pool.get(i)
                    .and_then(Option::as_ref)
                    .filter(|o| kind(o).is_some() && kind(o) == kind(n))
                    .filter(|o| !new.iter().any(|m| identity(m).0 == identity(o).0))
                    .map(|_| i)
            });
        match found.and_then(|i| pool[i].take()) {
            Some(mut table) => {
                merge_table(&mut table, n);
                out.push(table);
            }
            None => out.push(n.clone()),
        }
    }
    *old = out;
}

/// Where the dialog keeps secrets: the OS keyring, when there is one.
pub trait SecretStore {
    /// Stores `value` under `entry`. An error means there is no usable keyring: the secret stays in the file.
    fn store(&self, entry: &str, value: &str) -> Result<(), String>;
    /// Removes `entry`; `Ok(false)` when there was none.
    fn delete(&self, entry: &str) -> Result<bool, String>;
}

/// The OS keyring (Secret Service, Keychain, Windows Credential Manager).
pub struct OsKeyring;

impl SecretStore for OsKeyring {
    fn store(&self, entry: &str, value: &str) -> Result<(), String> {
        crate::config::secret::keyring_store(entry, value)
    }

    fn delete(&self, entry: &str) -> Result<bool, String> {
        crate::config::secret::keyring_delete(entry)
    }
}

/// A secret typed in the form that is to go to the keyring: provider row, field, entry name, value.
struct Planned {
    /// A provider row, or (true) a notifier row.
    notifier: bool,
    row: usize,
    field: &'static str,
    entry: String,
    value: String,
}

/// The secrets typed in the form, each to be stored as `<provider>/<field>` (a notifier's as
/// `notify/<name>/<field>`). Values that fail the secret checks are left out: they stay in the form, so
/// validation reports them.
fn typed_secrets(form: &SettingsForm) -> Vec<Planned> {
    let rows = form
        .providers
        .iter()
        .enumerate()
        .map(|(i, p)| (false, i, p, kind_info(&p.kind)))
        .chain(
            form.notifiers
                .iter()
                .enumerate()
                .map(|(i, n)| (true, i, &n.entry, notify_kind_info(&n.entry.kind))),
        );
    let mut out = Vec::new();
    for (notifier, i, p, info) in rows {
        let (Some(info), false) = (info, p.name.trim().is_empty()) else {
            continue;
        };
        for f in info.fields.iter().filter(|f| f.secret) {
            let typed = p.fields.get(f.name).cloned().unwrap_or_default();
            if typed.is_empty()
                || crate::config::Secret::literal(typed.clone())
                    .resolve(&|_: &str| None)
                    .is_err()
            {
                continue;
            }
            let prefix = if notifier { "notify/" } else { "" };
            out.push(Planned {
                notifier,
                row: i,
                field: f.name,
                entry: format!("{prefix}{}/{}", p.name.trim(), f.name),
                value: typed,
            });
        }
    }
    out
}

/// In `form`, the secret `p` is replaced by a reference to its keyring entry.
fn refer_to_keyring(form: &mut SettingsForm, p: &Planned) {
    let row = if p.notifier {
        form.notifiers.get_mut(p.row).map(|n| &mut n.entry)
    } else {
        form.providers.get_mut(p.row)
    };
    if let Some(row) = row {
        row.fields.insert(p.field.to_owned(), String::new());
        let mut t = Table::new();
        t.insert("keyring".into(), Value::String(p.entry.clone()));
        row.kept.insert(p.field.to_owned(), Value::Table(t));
    }
}

/// Looks up the secrets about to be stored as if they were in the keyring already, so the form validates
/// before anything is written anywhere.
struct WithPlanned<'a> {
    lookup: &'a dyn crate::config::secret::Lookup,
    planned: &'a [Planned],
}

impl crate::config::secret::Lookup for WithPlanned<'_> {
    fn env(&self, var: &str) -> Option<String> {
        self.lookup.env(var)
    }

    fn keyring(&self, entry: &str) -> Result<String, String> {
        match self.planned.iter().find(|p| p.entry == entry) {
            Some(p) => Ok(p.value.clone()),
            None => self.lookup.keyring(entry),
        }
    }
}

/// Saves the form. In order: the form is validated with the typed secrets as keyring references (on
/// problems nothing is stored or written and the form shows them); the secrets go to the keyring when there is
/// one (otherwise they stay in the file, which only its owner can read); the config file is written
/// atomically; keyring entries the config no longer refers to (a provider removed or renamed) are deleted.
/// Returns the settings to reload.
pub fn save(
    form: &mut SettingsForm,
    path: &std::path::Path,
    lookup: &dyn crate::config::secret::Lookup,
    store: &dyn SecretStore,
) -> Option<Settings> {
    let planned = typed_secrets(form);
    let mut candidate = form.clone();
    for p in &planned {
        refer_to_keyring(&mut candidate, p);
    }
    let with_planned = WithPlanned {
        lookup,
        planned: &planned,
    };
    let Some(mut valid) = candidate.validate(&with_planned) else {
        form.errors = std::mem::take(&mut candidate.errors);
        form.message = candidate.message.take();
        return None;
    };
    // Valid: now store. A secret the keyring refuses stays in the file; only then is the text different.
    let refused: Vec<&Planned> = planned
        .iter()
        .filter(|p| match store.store(&p.entry, &p.value) {
            Ok(()) => false,
            Err(e) => {
                tracing::info!(
                    "no keyring ({e}); the secret stays in the config file, which only its owner can read"
                );
                true
            }
        })
        .collect();
    if !refused.is_empty() {
        candidate = form.clone();
        for p in planned
            .iter()
            .filter(|p| !refused.iter().any(|r| r.entry == p.entry))
        {
            refer_to_keyring(&mut candidate, p);
        }
        // The same values as validated above, some written literally: valid again.
        let Some(revalidated) = candidate.validate(&with_planned) else {
            form.errors = std::mem::take(&mut candidate.errors);
            form.message = candidate.message.take();
            return None;
        };
        valid = revalidated;
    }
    let (text, settings) = valid;
    let now = crate::config::file::parse(&text).map_or_else(
        |_| std::collections::BTreeSet::new(),
        |p| {
            keyring_entries(
                p.file
                    .providers
                    .iter()
                    .map(KindTable::kind_table)
                    .chain(p.file.notify.iter().map(KindTable::kind_table)),
            )
        },
    );
    // Into the user's file: comments, order and layout stay where their keys stay.
    let text = match crate::fsutil::read_limited(path, crate::settings::MAX_CONFIG_BYTES) {
        Ok(Some(bytes)) => {
            String::from_utf8(bytes).map_or(text.clone(), |original| merge_into(&original, &text))
        }
        Ok(None) => text,
        Err(e) => {
            form.message =
                Some(t!("save.cannot_read", path = path.display(), error = e).into_owned());
            return None;
        }
    };
    if let Err(e) = crate::fsutil::write_atomic(path, text.as_bytes()) {
        form.message = Some(t!("save.cannot_write", path = path.display(), error = e).into_owned());
        return None;
    }
    *form = candidate;
    let mut message = t!("save.saved", path = path.display()).into_owned();
    for stale in form.keyring_entries.difference(&now) {
        match store.delete(stale) {
            Ok(_) => {
                tracing::info!("removed the keyring entry {stale}: no provider uses it any more");
            }
            Err(e) => {
                tracing::warn!("cannot remove the keyring entry {stale}: {e}");
                let _ = write!(
                    message,
                    "; {}",
                    t!("save.keyring_not_removed", entry = stale, error = e)
                );
            }
        }
    }
    form.keyring_entries = now;
    form.message = Some(message);
    Some(settings)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn no_env(_: &str) -> Option<String> {
        None
    }

    /// No keyring: secrets stay in the file.
    pub(crate) struct NoKeyring;
    impl SecretStore for NoKeyring {
        fn store(&self, _: &str, _: &str) -> Result<(), String> {
            Err("no keyring in tests".into())
        }
        fn delete(&self, _: &str) -> Result<bool, String> {
            Err("no keyring in tests".into())
        }
    }

    /// An in-memory keyring for tests.
    #[derive(Default)]
    pub(crate) struct MemKeyring(pub(crate) std::sync::Mutex<BTreeMap<String, String>>);
    impl SecretStore for MemKeyring {
        fn store(&self, entry: &str, value: &str) -> Result<(), String> {
            self.0
                .lock()
                .unwrap()
                .insert(entry.to_owned(), value.to_owned());
            Ok(())
        }
        fn delete(&self, entry: &str) -> Result<bool, String> {
            Ok(self.0.lock().unwrap().remove(entry).is_some())
        }
    }
    impl crate::config::secret::Lookup for MemKeyring {
        fn env(&self, _: &str) -> Option<String> {
            None
        }
        fn keyring(&self, entry: &str) -> Result<String, String> {
            self.0
                .lock()
                .unwrap()
                .get(entry)
                .cloned()
                .ok_or_else(|| "no such entry".into())
        }
    }

    /// Regression (found through the real window): a file starting with a comment and no top-level keys got
    /// the new key above its comment, an inline source list became `[[detect.ipv4 ]]` tables, and unchanged
    /// defaults (`ipv4 = true`, `policy = "first"`) were added.
    /// Settings the window does not show (`proxy`, `write_budget`, `detect.cdn_ranges`, a source's
    /// `allow_cdn` and `operator`) survive a Save untouched: the merge removes what the form leaves out.
    #[test]
    fn a_save_keeps_settings_the_window_does_not_show() {
        let original = "write_budget = 3\nproxy = { url = \"socks5://127.0.0.1:1080\", username = \"me\" }\n\n[detect]\ncdn_ranges = [\"203.0.113.0/24\"]\nipv4 = [ { kind = \"http\", url = \"https://a.example\", allow_cdn = true, operator = \"mine\" } ]\n";
        let (file, _) = load_str(original, &no_env).unwrap();
        let (canonical, _) = SettingsForm::from_file(&file).validate(&no_env).unwrap();
        assert_eq!(merge_into(original, &canonical), original);
        let mut form = SettingsForm::from_file(&file);
        form.interval = "10m".into();
        let (canonical, _) = form.validate(&no_env).unwrap();
        let out = merge_into(original, &canonical);
        for kept in [
            "write_budget = 3",
            "proxy = { url = \"socks5://127.0.0.1:1080\", username = \"me\" }",
            "cdn_ranges = [\"203.0.113.0/24\"]",
            "allow_cdn = true, operator = \"mine\"",
        ] {
            assert!(out.contains(kept), "{kept}: {out}");
        }
    }

    #[test]
    fn a_save_changes_only_what_changed_in_the_users_file() {
        let original = "# top comment\n\n[detect]\nipv4 = [ { kind = \"http\", url = \"https://a.example\" } ]  # mine\n\n[[provider]]\n# the provider\nname = 'cf'\nkind = \"cloudflare\"\ntoken = \"cf-token-0123456789abcdef\"  # rotate\n";
        let (file, _) = load_str(original, &no_env).unwrap();
        let mut form = SettingsForm::from_file(&file);
        form.interval = "10m".into();
        let (canonical, _) = form.validate(&no_env).unwrap();
        let out = merge_into(original, &canonical);
        assert_eq!(
            out,
            "# top comment\n\ninterval = \"10m\"\n\n[detect]\nipv4 = [ { kind = \"http\", url = \"https://a.example\" } ]  # mine\n\n[[provider]]\n# the provider\nname = 'cf'\nkind = \"cloudflare\"\ntoken = \"cf-token-0123456789abcdef\"  # rotate\n"
        );
        // A renamed provider keeps its comments (and its records follow it).
        let mut renamed = SettingsForm::from_file(&file);
        renamed.providers[0].name = "cloudflare".into();
        let (canonical, _) = renamed.validate(&no_env).unwrap();
        let out = merge_into(original, &canonical);
        assert!(
            out.contains("# the provider\nname = \"cloudflare\"") && out.contains("# rotate"),
            "{out}"
        );
        // Nothing changed: nothing is rewritten.
        let (canonical, _) = SettingsForm::from_file(&file).validate(&no_env).unwrap();
        assert_eq!(merge_into(original, &canonical), original);
    }

    #[test]
    fn alerts_and_metrics_the_form_does_not_edit_survive_a_save() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        let text = r#"
[[provider]]
name = "pdns"
kind = "powerdns"
url = "http://127.0.0.1:8081"
api_key = "key-0123456789"

[[record]]
name = "home.example.com"
provider = "pdns"

[[notify]]
name = "phone"
kind = "ntfy"
topic = { env = "NTFY_TOPIC" }
events = ["failure"]
max_per_hour = 5

[metrics]
listen = "127.0.0.1:9851"
"#;
        let env = |v: &str| (v == "NTFY_TOPIC").then(|| "my-topic".to_owned());
        let (file, _) = load_str(text, &env).unwrap();
        let mut form = SettingsForm::from_file(&file);
        form.interval = "10m".into();
        let settings =
            save(&mut form, &path, &env, &NoKeyring).unwrap_or_else(|| panic!("{:?}", form.errors));
        assert_eq!(settings.notify.len(), 1);
        assert_eq!(settings.notify[0].max_per_hour, 5);
        assert_eq!(settings.metrics.unwrap().listen.port(), 9851);
        let written = std::fs::read_to_string(&path).unwrap();
        assert!(
            written.contains("env = \"NTFY_TOPIC\""),
            "the secret stays where it was:\n{written}"
        );
        assert!(!written.contains("my-topic"), "{written}");
    }

    #[test]
    fn lines_the_form_does_not_edit_survive_a_save() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        let text = r#"
[[line]]
name = "fibre"
interface = "eth1"

[[line]]
name = "lte"
source = "192.0.2.10"

[[provider]]
name = "pdns"
kind = "powerdns"
url = "http://127.0.0.1:8081"
api_key = "key-0123456789"

[[record]]
name = "office.example.com"
provider = "pdns"
type = "A"
lines = ["fibre", "lte"]
hold_down = "30s"
"#;
        let (file, _) = load_str(text, &no_env).unwrap();
        let mut form = SettingsForm::from_file(&file);
        let settings = save(&mut form, &path, &no_env, &NoKeyring)
            .unwrap_or_else(|| panic!("{:?}", form.errors));
        assert_eq!(settings.lines.len(), 2);
        let via = settings.records[0].via.as_ref().unwrap();
        assert_eq!(via.lines, ["fibre", "lte"]);
        assert_eq!(via.hold_down, std::time::Duration::from_secs(30));
    }

    #[test]
    fn env_and_file_secrets_are_kept_as_written() {
        let text = "[[provider]]\nname = \"p\"\nkind = \"powerdns\"\nurl = \"http://127.0.0.1:8081\"\napi_key = { env = \"PDNS_KEY\" }\n";
        let env = |v: &str| (v == "PDNS_KEY").then(|| "key-value-123".to_owned());
        let (file, _) = load_str(text, &env).unwrap();
        let mut form = SettingsForm::from_file(&file);
        let (written, settings) = form.validate(&env).unwrap();
        assert!(
            written.contains("api_key = { env = \"PDNS_KEY\" }")
                || written.contains("[provider.api_key]"),
            "{written}"
        );
        assert!(!written.contains("key-value-123"));
        assert_eq!(
            settings.providers[0].kind.secrets()[0].expose(),
            "key-value-123"
        );
        assert_eq!(
            kept_source(&form.providers[0].kept["api_key"]),
            "from environment variable PDNS_KEY"
        );
    }

    /// A new form with one Cloudflare provider `cf` whose token was typed in.
    fn cloudflare_with_a_typed_token() -> SettingsForm {
        let mut form = SettingsForm::from_file(&ConfigFile::default());
        form.providers.push(ProviderRow {
            name: "cf".into(),
            kind: "cloudflare".into(),
            fields: [("token".to_owned(), "cf-token-0123456789abcdef".to_owned())].into(),
            ..ProviderRow::default()
        });
        form
    }

    #[test]
    fn with_a_keyring_typed_secrets_go_there_and_the_file_names_the_entry() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        let keyring = MemKeyring::default();
        let mut form = cloudflare_with_a_typed_token();
        let form = &mut form;
        let settings =
            save(form, &path, &keyring, &keyring).unwrap_or_else(|| panic!("{:?}", form.errors));
        let written = std::fs::read_to_string(&path).unwrap();
        assert!(!written.contains("cf-token-0123456789abcdef"), "{written}");
        assert!(written.contains("keyring = \"cf/token\""), "{written}");
        assert_eq!(
            keyring.0.lock().unwrap()["cf/token"],
            "cf-token-0123456789abcdef"
        );
        assert_eq!(
            settings.providers[0].kind.secrets()[0].expose(),
            "cf-token-0123456789abcdef"
        );
        assert_eq!(
            kept_source(&form.providers[0].kept["token"]),
            "stored in the keyring"
        );
    }

    #[test]
    fn an_invalid_form_stores_no_secret_and_a_removed_provider_leaves_no_entry() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        let keyring = MemKeyring::default();
        let mut form = cloudflare_with_a_typed_token();
        form.interval = "soon".into();
        let form = &mut form;
        assert!(save(form, &path, &keyring, &keyring).is_none());
        assert!(form.errors.contains_key("interval"), "{:?}", form.errors);
        assert!(
            keyring.0.lock().unwrap().is_empty(),
            "nothing is stored before the form is valid"
        );
        assert!(!path.exists());
        assert_eq!(
            form.providers[0].fields["token"], "cf-token-0123456789abcdef",
            "the typed secret stays in the form"
        );

        form.interval = "5m".into();
        save(form, &path, &keyring, &keyring).unwrap_or_else(|| panic!("{:?}", form.errors));
        assert!(keyring.0.lock().unwrap().contains_key("cf/token"));

        // Renamed: the new name's entry is written, the old one removed.
        form.providers[0].name = "cloudflare".into();
        form.providers[0]
            .fields
            .insert("token".into(), "cf-token-0123456789abcdef".into());
        form.providers[0].kept.clear();
        save(form, &path, &keyring, &keyring).unwrap_or_else(|| panic!("{:?}", form.errors));
        assert_eq!(
            keyring
                .0
                .lock()
                .unwrap()
                .keys()
                .cloned()
                .collect::<Vec<_>>(),
            ["cloudflare/token"]
        );
        // Removed: its entry goes too.
        form.providers.clear();
        save(form, &path, &keyring, &keyring).unwrap_or_else(|| panic!("{:?}", form.errors));
        assert!(keyring.0.lock().unwrap().is_empty());
    }

    #[test]
    fn fields_the_form_does_not_show_survive_a_save() {
        let text = "ipv6 = true\n[[provider]]\nname = \"pod\"\nkind = \"dnspod\"\nsecret_id = \"AKIDz8krbsJ5yKBZQpn74WFkmLPx3abcdef\"\nsecret_key = \"Gu5t9xGARNpq86cd98joQYCN3abcdefgh\"\n[[record]]\nname = \"home.example.com\"\nprovider = \"pod\"\nline = \"联通\"\n[[record]]\nname = \"nas.example.com\"\nprovider = \"pod\"\ntype = \"AAAA\"\nipv6_host = \"::1234\"\nipv6_prefix_len = 56\n";
        let (file, _) = load_str(text, &no_env).unwrap_or_else(|e| panic!("{e:?}"));
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        let mut form = SettingsForm::from_file(&file);
        let settings = save(&mut form, &path, &no_env, &NoKeyring)
            .unwrap_or_else(|| panic!("{:?}", form.errors));
        assert_eq!(settings.records[0].line.as_deref(), Some("联通"));
        let nas = settings
            .records
            .iter()
            .find(|r| r.name == "nas.example.com")
            .unwrap();
        assert_eq!(nas.ipv6_host.map(|h| h.prefix_len), Some(56));
        let written = std::fs::read_to_string(&path).unwrap();
        assert!(written.contains("line = \"联通\""), "{written}");
        assert!(written.contains("ipv6_host = \"::1234\""), "{written}");
    }

    #[test]
    fn test_button_picks_the_provider_and_its_first_record() {
        let text = "[[provider]]\nname = \"cf\"\nkind = \"cloudflare\"\ntoken = \"cf-token-0123456789abcdef\"\n[[provider]]\nname = \"hook\"\nkind = \"webhook\"\nurl = \"https://h.example/u\"\n[[record]]\nname = \"home.example.com\"\nprovider = \"cf\"\ntype = \"A\"\n";
        let (file, _) = load_str(text, &no_env).unwrap();
        let mut form = SettingsForm::from_file(&file);
        // Another part of the form being unfinished does not stop the test of this provider.
        form.interval = "soon".into();
        let (provider, record, record_type) = form.test_target(0, &no_env).unwrap();
        assert_eq!(
            (provider.name.as_str(), record.as_str(), record_type),
            ("cf", "home.example.com", crate::config::RecordType::A)
        );
        assert!(
            form.test_target(1, &no_env)
                .unwrap_err()
                .contains("add a record for `hook`")
        );
        form.providers[0]
            .fields
            .insert("token".into(), "<token>".into());
        assert!(
            form.test_target(0, &no_env)
                .unwrap_err()
                .contains("placeholder")
        );
    }

    #[test]
    fn webhook_header_secrets_keep_their_source() {
        let text = "[[provider]]\nname = \"hook\"\nkind = \"webhook\"\nurl = \"https://h.example/u\"\nheaders = { Authorization = { env = \"HOOK_TOKEN\" }, X-Plain = \"abc\" }\n";
        let env = |v: &str| (v == "HOOK_TOKEN").then(|| "Bearer tok-12345".to_owned());
        let (file, _) = load_str(text, &env).unwrap();
        let mut form = SettingsForm::from_file(&file);
        let (written, settings) = form.validate(&env).unwrap();
        assert!(
            written.contains("HOOK_TOKEN") && !written.contains("tok-12345"),
            "{written}"
        );
        let crate::provider::ProviderKind::Webhook(w) = &settings.providers[0].kind else {
            panic!()
        };
        assert_eq!(w.headers["Authorization"].expose(), "Bearer tok-12345");
        assert_eq!(w.headers["X-Plain"].expose(), "abc");
    }

    #[test]
    fn command_arguments_with_spaces_survive_the_form() {
        let text = "[detect]\nipv4 = [ { kind = \"command\", command = [\"sh\", \"-c\", \"echo \\\"198.51.100.7\\\"\", \"\"] } ]\n";
        let (file, _) = load_str(text, &no_env).unwrap();
        let mut form = SettingsForm::from_file(&file);
        let (_, settings) = form.validate(&no_env).unwrap();
        let crate::detect::SourceKind::Command { command } = &settings.detect.ipv4[0].kind else {
            panic!()
        };
        assert_eq!(command, &["sh", "-c", "echo \"198.51.100.7\"", ""]);
        assert_eq!(
            split_args(r#"a  "b c" "d\"e" f"#),
            ["a", "b c", "d\"e", "f"]
        );
    }
}
