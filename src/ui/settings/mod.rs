//! The settings window's model: everything in the config file, editable, validated by the same code as
//! `ddns-tray check`, and saved into the user's file keeping its comments and layout (`toml_edit`). The pages
//! that draw it are in `pages`.
//!
//! Provider fields come from the kinds table ([`crate::provider::KINDS`]), so a new provider shows
//! up here without touching this file. Secret fields are masked; secrets that come from `{ env = … }` or
//! `{ file = … }` are shown by where they come from and written back unchanged.

mod save;
mod table;

pub(crate) use table::kept_source;
use table::{
    entry_table, keep_proxy, kept_sections, notifier_table, put_kept, row_of, split_args, text,
};

pub use crate::config::secret::SecretStore;
pub use save::{OsKeyring, save};

use std::collections::BTreeMap;

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
fn keyring_entries(tables: impl Iterator<Item = Table>) -> std::collections::BTreeSet<String> {
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
        // A secret the followed service keeps (masked, or in its store) is not here to test with.
        let retyped = |field: &str| {
            provider
                .fields
                .get(field)
                .is_some_and(|t| !t.trim().is_empty())
        };
        if provider.kept.iter().any(|(field, v)| {
            (v.get("masked").is_some() || v.get("store").is_some()) && !retyped(field)
        }) {
            return Err(t!("providers.test_service_secret", name = provider.name).into_owned());
        }
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

    /// What the welcome's Test lists the domains of: `row` validated on its own (with the form's proxy).
    pub fn provider_target(
        &self,
        row: &ProviderRow,
        lookup: &dyn crate::config::secret::Lookup,
    ) -> Result<crate::provider::ProviderSettings, String> {
        let only = SettingsForm {
            ipv4: true,
            policy: "first".into(),
            providers: vec![row.clone()],
            kept_sections: self.kept_proxy(),
            ..SettingsForm::default()
        };
        let (_, settings) = only.part(lookup)?;
        settings
            .providers
            .into_iter()
            .next()
            .ok_or_else(|| "no provider".to_owned())
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
                self.show_problems(issues);
                None
            }
        }
    }

    /// Shows `issues` at their fields, and how many there are at the bottom.
    pub fn show_problems(&mut self, issues: Vec<Issue>) {
        self.errors.clear();
        self.message = Some(t!("save.problems", n = issues.len()).into_owned());
        for Issue {
            path,
            message,
            hint,
            ..
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
    }
}

/// A notifier kind's table entry.
#[must_use]
pub fn notify_kind_info(kind: &str) -> Option<&'static crate::provider::KindInfo> {
    crate::notifier::NOTIFY_KINDS
        .iter()
        .find(|k| k.kind == kind)
}

#[cfg(test)]
pub(crate) mod tests;

/// "Import from another client…" on the welcome: the file read (bounded, a regular file), its format found
/// by content and name, converted (`import`), its secrets put into the form's fields as if typed (Save
/// stores them like any typed secret: the keyring, never the file), and a report of what was carried and
/// what was left out and why.
///
/// # Errors
/// The file cannot be read, its format is unknown, or it is invalid: the reason, naming the line or field.
pub fn import_file(path: &std::path::Path) -> Result<(SettingsForm, String), String> {
    use std::fmt::Write as _;
    let shown = path.display();
    let bytes = crate::fsutil::read_limited(path, crate::settings::MAX_CONFIG_BYTES)
        .map_err(|e| t!("welcome.import_cannot_read", path = shown, error = e).into_owned())?
        .ok_or_else(|| t!("welcome.import_missing", path = shown).into_owned())?;
    let text = String::from_utf8_lossy(&bytes);
    let name = path.file_name().and_then(|n| n.to_str());
    let format = crate::import::detect(&text, name)
        .ok_or_else(|| t!("welcome.import_unknown", path = shown).into_owned())?;
    let imported = crate::import::convert(
        &text,
        format,
        crate::import::SecretMode::Keyring,
        Some(path),
    )
    .map_err(|e| e.to_string())?;
    let parsed = crate::config::file::parse(&imported.toml).map_err(|issues| {
        issues
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("\n")
    })?;
    let mut form = SettingsForm::from_file(&parsed.file);
    for secret in &imported.secrets {
        let (rows, entry): (Vec<&mut ProviderRow>, &str) = match secret.name.strip_prefix("notify/")
        {
            Some(rest) => (
                form.notifiers.iter_mut().map(|n| &mut n.entry).collect(),
                rest,
            ),
            None => (form.providers.iter_mut().collect(), secret.name.as_str()),
        };
        let Some((owner, field)) = entry.rsplit_once('/') else {
            continue;
        };
        if let Some(row) = rows.into_iter().find(|r| r.name == owner) {
            row.kept.remove(field);
            row.fields.insert(field.to_owned(), secret.value.clone());
        }
    }
    form.keyring_entries.clear();
    let mut report = t!(
        "welcome.imported",
        format = format,
        records = form.records.len(),
        providers = form.providers.len()
    )
    .into_owned();
    for note in &imported.left_out {
        let _ = write!(report, "\n• {}: {}", note.setting, note.why);
    }
    Ok((form, report))
}
