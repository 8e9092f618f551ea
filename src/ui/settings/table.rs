//! The form's values as the TOML tables the file holds, and back: each entry's fields typed as they parse
//! (numbers, booleans, lists), secrets kept as their source (`{ env = … }`, `{ keyring = … }`), and the
//! sections and keys the form does not edit kept as they were.

use toml::{Table, Value};

use super::{NotifierRow, ProviderRow, notify_kind_info};
use crate::config::file::ConfigFile;
use crate::i18n::t;

pub(super) fn text(v: &Value) -> String {
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
pub(super) fn split_args(line: &str) -> Vec<String> {
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

/// The sections of `file` the form does not edit, as TOML values: a file holding only them, whose other
/// (empty) sections are left out when serialized.
/// Writes the kept sections into `top`; a kept `[detect]` (`cdn_ranges`, `behind_nat`) joins the form's.
pub(super) fn put_kept(top: &mut Table, kept: &Table) {
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

pub(super) fn kept_sections(file: &ConfigFile) -> Table {
    // Settings the window does not show, written back as they were: `[[line]]`, `[metrics]`, `proxy`,
    // `write_budget`, `detect.cdn_ranges` and `detect.behind_nat`.
    let only = ConfigFile {
        lines: file.lines.clone(),
        metrics: file.metrics.clone(),
        proxy: file.proxy.clone(),
        write_budget: file.write_budget,
        detect: file
            .detect
            .as_ref()
            .filter(|d| d.cdn_ranges.is_some() || d.behind_nat.is_some())
            .map(|d| crate::config::file::DetectFile {
                cdn_ranges: d.cdn_ranges.clone(),
                behind_nat: d.behind_nat.clone(),
                ..Default::default()
            }),
        ..ConfigFile::default()
    };
    Value::try_from(&only)
        .ok()
        .and_then(|v| v.as_table().cloned())
        .unwrap_or_default()
}

/// The TOML table of a `[[notify]]` row.
pub(super) fn notifier_table(n: &NotifierRow) -> Value {
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
pub(super) fn number(text: &str) -> Value {
    text.trim()
        .parse::<i64>()
        .map_or_else(|_| Value::String(text.trim().to_owned()), Value::Integer)
}

/// A provider or notifier as it was read: the kind's fields as text, secret references kept aside.
/// An entry's `proxy` (not shown in the window), kept to be written back as it was.
pub(super) fn keep_proxy(row: &mut ProviderRow, proxy: Option<&crate::config::file::ProxyFile>) {
    if let Some(v) = proxy.and_then(|p| Value::try_from(p).ok()) {
        row.kept.insert("proxy".into(), v);
    }
}

pub(super) fn row_of(name: &str, kind: &str, table: Option<Value>) -> ProviderRow {
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
pub(super) fn entry_table(p: &ProviderRow, info: Option<&crate::provider::KindInfo>) -> Value {
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
pub(super) fn header_value(text: &str) -> Value {
    text.starts_with('{')
        .then(|| toml::from_str::<Table>(&format!("v = {text}")).ok())
        .flatten()
        .and_then(|t| t.get("v").cloned())
        .filter(Value::is_table)
        .unwrap_or_else(|| Value::String(text.to_owned()))
}

/// Where a kept secret comes from, for the form.
pub(crate) fn kept_source(v: &Value) -> String {
    match (
        v.get("env").and_then(Value::as_str),
        v.get("file").and_then(Value::as_str),
    ) {
        (Some(var), _) => t!("secret.from_env", var = var).into_owned(),
        (_, Some(path)) => t!("secret.from_file", path = path).into_owned(),
        _ if v.get("keyring").is_some() => t!("secret.in_keyring").into_owned(),
        _ if v.get("store").is_some() => t!("secret.in_store").into_owned(),
        _ if v.get("masked").is_some() => t!("secret.masked").into_owned(),
        _ => t!("secret.kept").into_owned(),
    }
}
