//! Writing a config, as the settings window does for the tray's own engine and a service does with what a
//! tray sent it. In order:
//!
//! 1. the secrets typed in (a literal value in a field the kind marks secret) are planned for a store (the
//!    user's keyring, or the service's `vault`) and the file is to name them (`<provider>/<field>`,
//!    `notify/<notifier>/<field>`);
//! 2. the result is validated with the writer's own rules, the planned secrets looked up as if stored: on
//!    problems nothing is stored or written;
//! 3. the secrets are stored (one the keyring refuses stays written in the user's owner-only file; a service
//!    refuses to write rather than keep it in its file);
//! 4. the text is merged into the file keeping its comments and layout (`config::edit`) and written
//!    atomically;
//! 5. entries of the store the config named before and no longer names (a provider removed or renamed) are
//!    removed.

use std::collections::BTreeSet;
use std::path::Path;

use serde::Deserialize as _;
use toml::{Table, Value};

use super::{Settings, load_str};
use crate::config::file::{ConfigFile, KindTable};
use crate::config::secret::{Lookup, SecretSource, SecretStore};
use crate::config::{Issue, Secret};
use crate::i18n::tr;

/// A config written.
#[derive(Debug)]
pub struct Written {
    /// What runs from now on.
    pub settings: Settings,
    /// The file as read back from the written text (the form reloads from it).
    pub file: ConfigFile,
    /// Store entries that could not be removed: entry and why.
    pub not_removed: Vec<(String, String)>,
}

/// Why a config was not written.
#[derive(Debug)]
pub enum WriteError {
    /// The config has problems (each at its field); nothing was stored or written.
    Invalid(Vec<Issue>),
    /// The store or the file could not be written; the file is as it was.
    Io(String),
}

/// A secret typed in, to be stored.
struct Planned {
    list: &'static str,
    index: usize,
    field: String,
    entry: String,
    value: String,
}

/// Writes `text` (a whole config, secrets typed in written literally) to `path`, see the module's doc.
/// `lookup` resolves the other secrets (the writer's environment, keyring and store).
pub fn write_config(
    path: &Path,
    text: &str,
    store: &dyn SecretStore,
    lookup: &dyn Lookup,
) -> Result<Written, WriteError> {
    write_with(path, text, store, lookup, false)
}

/// Like [`write_config`], but `text` replaces the file instead of being merged into it (`init --force`
/// after keeping a backup; also the headless build, which cannot merge), and no store entry is removed: the
/// file it replaces may still be needed.
pub fn write_new_config(
    path: &Path,
    text: &str,
    store: &dyn SecretStore,
    lookup: &dyn Lookup,
) -> Result<Written, WriteError> {
    write_with(path, text, store, lookup, true)
}

fn write_with(
    path: &Path,
    text: &str,
    store: &dyn SecretStore,
    lookup: &dyn Lookup,
    replace: bool,
) -> Result<Written, WriteError> {
    let parsed = crate::config::file::parse(text).map_err(WriteError::Invalid)?;
    if !parsed.issues.is_empty() {
        return Err(WriteError::Invalid(parsed.issues));
    }
    let mut file = parsed.file;
    let planned = typed_secrets(&file);
    for p in &planned {
        refer(&mut file, p, &store.reference(&p.entry));
    }
    let canonical = to_text(&file)?;
    let with_planned = WithPlanned {
        lookup,
        planned: &planned,
        keyring: store.reference("").source() == Secret::keyring("").source(),
    };
    load_str(&canonical, &with_planned).map_err(WriteError::Invalid)?;
    // Valid: now store. A secret the keyring refuses stays in the user's file.
    let mut refused = Vec::new();
    for p in &planned {
        if let Err(e) = store.store(&p.entry, &p.value) {
            if !store.may_stay_in_file() {
                return Err(WriteError::Io(tr(
                    "save.store_refused",
                    &[("entry", &p.entry), ("error", &e)],
                )));
            }
            tracing::info!(
                "no keyring ({e}); the secret stays in the config file, which only its owner can read"
            );
            refused.push(p);
        }
    }
    for p in refused {
        refer(&mut file, p, &Secret::literal(p.value.clone()));
    }
    let canonical = to_text(&file)?;
    let (file, settings) = load_str(&canonical, lookup).map_err(WriteError::Invalid)?;
    let before = match crate::fsutil::read_limited(path, super::MAX_CONFIG_BYTES) {
        Ok(bytes) => bytes.map(|b| String::from_utf8_lossy(&b).into_owned()),
        Err(e) => {
            return Err(WriteError::Io(tr(
                "save.cannot_read",
                &[("path", &path.display()), ("error", &e)],
            )));
        }
    };
    let before = before.filter(|_| !replace);
    // Into the file: comments, order and layout stay where their keys stay.
    let merged = match before.as_deref() {
        None => canonical.clone(),
        #[cfg(feature = "edit")]
        Some(original) => crate::config::edit::merge_into(original, &canonical),
        #[cfg(not(feature = "edit"))]
        Some(_) => return Err(WriteError::Io(tr("save.headless_build", &[]))),
    };
    crate::fsutil::write_atomic(path, merged.as_bytes()).map_err(|e| {
        WriteError::Io(tr(
            "save.cannot_write",
            &[("path", &path.display()), ("error", &e)],
        ))
    })?;
    let named_before = before
        .as_deref()
        .and_then(|t| crate::config::file::parse(t).ok())
        .map(|p| referenced(&p.file, store))
        .unwrap_or_default();
    let named_now = referenced(&file, store);
    let mut not_removed = Vec::new();
    for stale in named_before.difference(&named_now) {
        match store.delete(stale) {
            Ok(_) => tracing::info!("removed the secret {stale}: the config no longer names it"),
            Err(e) => {
                tracing::warn!("cannot remove the secret {stale}: {e}");
                not_removed.push((stale.clone(), e));
            }
        }
    }
    Ok(Written {
        settings,
        file,
        not_removed,
    })
}

fn to_text(file: &ConfigFile) -> Result<String, WriteError> {
    file.to_toml().map_err(|e| WriteError::Io(e.to_string()))
}

/// An entry of a list: its name, kind and fields.
type Entry<'a> = (&'a str, &'a str, &'a Table);

/// The secrets typed into the secret fields of the providers and notifiers (values that fail the secret
/// checks are left out: they stay, and validation reports them).
fn typed_secrets(file: &ConfigFile) -> Vec<Planned> {
    let providers = file
        .providers
        .iter()
        .map(|p| (p.name.as_str(), p.kind(), &p.fields));
    let notifiers = file
        .notify
        .iter()
        .map(|n| (n.name.as_str(), n.kind(), &n.fields));
    let lists: [(&'static str, Vec<Entry<'_>>); 2] = [
        ("provider", providers.collect()),
        ("notify", notifiers.collect()),
    ];
    let mut out = Vec::new();
    for (list, entries) in lists {
        for (index, (name, kind, fields)) in entries.into_iter().enumerate() {
            let info = if list == "provider" {
                crate::provider::kind_info(kind)
            } else {
                crate::notifier::kind_info(kind)
            };
            let (Some(info), false) = (info, name.trim().is_empty()) else {
                continue;
            };
            for f in info.fields.iter().filter(|f| f.secret) {
                let Some(Value::String(typed)) = fields.get(f.name) else {
                    continue;
                };
                if typed.is_empty()
                    || Secret::literal(typed.clone())
                        .resolve(&|_: &str| None)
                        .is_err()
                {
                    continue;
                }
                let prefix = if list == "notify" { "notify/" } else { "" };
                out.push(Planned {
                    list,
                    index,
                    field: f.name.to_owned(),
                    entry: format!("{prefix}{}/{}", name.trim(), f.name),
                    value: typed.clone(),
                });
            }
        }
    }
    out
}

/// In `file`, the secret of `p` becomes `secret` (a reference to its store entry, or the literal again).
fn refer(file: &mut ConfigFile, p: &Planned, secret: &Secret) {
    let fields = fields_mut(file, p.list, p.index);
    if let (Some(fields), Ok(value)) = (fields, Value::try_from(secret)) {
        fields.insert(p.field.clone(), value);
    }
}

/// The entries of `store` a config names (`{ keyring = … }` or `{ store = … }` at any depth of its
/// providers' and notifiers' tables).
#[must_use]
pub fn referenced(file: &ConfigFile, store: &dyn SecretStore) -> BTreeSet<String> {
    fn walk(value: &Value, key: &str, out: &mut BTreeSet<String>) {
        match value {
            Value::Table(t) if t.len() == 1 && t.get(key).is_some_and(Value::is_str) => {
                out.extend(t[key].as_str().map(str::to_owned));
            }
            Value::Table(t) => t.values().for_each(|v| walk(v, key, out)),
            Value::Array(a) => a.iter().for_each(|v| walk(v, key, out)),
            _ => {}
        }
    }
    let key = match store.reference("").source() {
        SecretSource::Keyring(_) => "keyring",
        _ => "store",
    };
    let mut out = BTreeSet::new();
    for table in file
        .providers
        .iter()
        .map(KindTable::kind_table)
        .chain(file.notify.iter().map(KindTable::kind_table))
    {
        walk(&Value::Table(table), key, &mut out);
    }
    out
}

/// Looks up the secrets about to be stored as if they were stored already, so the config validates before
/// anything is written anywhere.
struct WithPlanned<'a> {
    lookup: &'a dyn Lookup,
    planned: &'a [Planned],
    /// The planned entries are keyring entries (else store entries).
    keyring: bool,
}

impl WithPlanned<'_> {
    fn planned(&self, entry: &str) -> Option<String> {
        self.planned
            .iter()
            .find(|p| p.entry == entry)
            .map(|p| p.value.clone())
    }
}

impl Lookup for WithPlanned<'_> {
    fn env(&self, var: &str) -> Option<String> {
        self.lookup.env(var)
    }

    fn keyring(&self, entry: &str) -> Result<String, String> {
        match self.planned(entry).filter(|_| self.keyring) {
            Some(v) => Ok(v),
            None => self.lookup.keyring(entry),
        }
    }

    fn store(&self, entry: &str) -> Result<String, String> {
        match self.planned(entry).filter(|_| !self.keyring) {
            Some(v) => Ok(v),
            None => self.lookup.store(entry),
        }
    }
}

/// A config's text as a service shows it to a tray: each secret written literally (in a secret field, or
/// as a header value) becomes `{ masked = "<entry>" }` (references to the environment or a store are not
/// secrets and stay). Sent back so, [`unmask`] puts the value again.
///
/// # Errors
/// The text does not parse (its problems).
pub fn masked(text: &str) -> Result<String, Vec<Issue>> {
    let mut file = crate::config::file::parse(text)?.file;
    for p in literal_secrets(&file) {
        let mut mask = Table::new();
        mask.insert(MASKED.into(), Value::String(p.entry.clone()));
        if let Some(slot) = slot(&mut file, &p) {
            *slot = Value::Table(mask);
        }
    }
    file.to_toml().map_err(|e| {
        vec![crate::config::check::problem(
            "(file)",
            "check.file.valid_toml",
            &[("error", &e)],
        )]
    })
}

/// `text` from a tray with each `{ masked = "<entry>" }` replaced by the secret `current` (the file as it
/// is now) holds at that entry.
///
/// # Errors
/// A masked entry `current` does not hold (it changed meanwhile): that field's problem, to type it again.
pub fn unmask(text: &str, current: &str) -> Result<String, Vec<Issue>> {
    if !text.contains(MASKED) {
        return Ok(text.to_owned());
    }
    let known = crate::config::file::parse(current)
        .map(|p| literal_secrets(&p.file))
        .unwrap_or_default();
    rewrite_fields(text, |value, at, issues| {
        put_back(value, at, &known, issues);
    })
}

/// `text` with `rewrite` applied to every field of its providers and notifiers (the value, its path such as
/// `provider[0].token`, the problems so far), written again; the problems instead when there are any.
fn rewrite_fields(
    text: &str,
    mut rewrite: impl FnMut(&mut Value, &str, &mut Vec<Issue>),
) -> Result<String, Vec<Issue>> {
    let mut file = crate::config::file::parse(text)?.file;
    let mut issues = Vec::new();
    for (list, count) in [
        ("provider", file.providers.len()),
        ("notify", file.notify.len()),
    ] {
        for index in 0..count {
            let Some(fields) = fields_mut(&mut file, list, index) else {
                continue;
            };
            for (field, value) in fields.iter_mut() {
                rewrite(value, &format!("{list}[{index}].{field}"), &mut issues);
            }
        }
    }
    if !issues.is_empty() {
        return Err(issues);
    }
    file.to_toml().map_err(|e| {
        vec![crate::config::check::problem(
            "(file)",
            "check.file.valid_toml",
            &[("error", &e)],
        )]
    })
}

/// The key of a masked secret.
const MASKED: &str = "masked";

/// `text` with every secret reference of its providers and notifiers (`{ keyring = … }`, `{ env = … }`,
/// `{ file = … }`, `{ store = … }`, in a field or a table of headers) replaced by the value `lookup` finds:
/// the config as it travels to another engine that cannot read this one's stores (the system service
/// taking over a user's config, or handing it back). The text is then as secret as the secrets.
///
/// # Errors
/// The text does not parse, or a secret cannot be read (each at its field, the value never named).
pub fn inlined(text: &str, lookup: &dyn Lookup) -> Result<String, Vec<Issue>> {
    rewrite_fields(text, |value, at, issues| {
        inline(value, at, lookup, issues);
    })
}

/// Resolves the secret reference `value` is (or the references in the table it is) in place.
fn inline(value: &mut Value, at: &str, lookup: &dyn Lookup, issues: &mut Vec<Issue>) {
    let Value::Table(t) = value else { return };
    let reference = t.len() == 1
        && t.iter()
            .all(|(k, v)| ["keyring", "env", "file", "store"].contains(&k.as_str()) && v.is_str());
    if !reference {
        for (k, v) in t.iter_mut() {
            inline(v, &format!("{at}.{k}"), lookup, issues);
        }
        return;
    }
    let resolved = Secret::deserialize(value.clone())
        .map_err(|e| (e.to_string(), String::new()))
        .and_then(|mut secret| {
            secret
                .resolve(lookup)
                .map(|()| secret.expose().to_owned())
                .map_err(|p| (p.message, p.hint))
        });
    match resolved {
        Ok(v) => *value = Value::String(v),
        Err((message, hint)) => issues.push(Issue::new(at, message, hint)),
    }
}

/// Replaces the masks under `value` (a field, or a table of headers) by the secrets they stand for.
fn put_back(value: &mut Value, at: &str, known: &[Planned], issues: &mut Vec<Issue>) {
    let Value::Table(t) = value else { return };
    match t
        .get(MASKED)
        .and_then(Value::as_str)
        .filter(|_| t.len() == 1)
    {
        Some(entry) => match known.iter().find(|p| p.entry == entry) {
            Some(p) => *value = Value::String(p.value.clone()),
            None => issues.push(crate::config::check::problem(
                at,
                "check.secret.masked_gone",
                &[("entry", &entry)],
            )),
        },
        None => {
            for (k, v) in t.iter_mut() {
                put_back(v, &format!("{at}.{k}"), known, issues);
            }
        }
    }
}

/// Every secret written literally: the typed secrets, and the values of `headers` tables (webhooks),
/// whose `field` is then `headers.<name>`.
fn literal_secrets(file: &ConfigFile) -> Vec<Planned> {
    let mut out = typed_secrets(file);
    let lists: [(&'static str, Vec<(&str, &Table)>); 2] = [
        (
            "provider",
            file.providers
                .iter()
                .map(|p| (p.name.as_str(), &p.fields))
                .collect(),
        ),
        (
            "notify",
            file.notify
                .iter()
                .map(|n| (n.name.as_str(), &n.fields))
                .collect(),
        ),
    ];
    for (list, entries) in lists {
        for (index, (name, fields)) in entries.into_iter().enumerate() {
            let Some(Value::Table(headers)) = fields.get("headers") else {
                continue;
            };
            let prefix = if list == "notify" { "notify/" } else { "" };
            for (header, value) in headers {
                if let Value::String(value) = value {
                    out.push(Planned {
                        list,
                        index,
                        field: format!("headers.{header}"),
                        entry: format!("{prefix}{}/headers.{header}", name.trim()),
                        value: value.clone(),
                    });
                }
            }
        }
    }
    out
}

/// Where the secret `p` is in `file`.
fn slot<'a>(file: &'a mut ConfigFile, p: &Planned) -> Option<&'a mut Value> {
    let fields = fields_mut(file, p.list, p.index)?;
    match p.field.split_once('.') {
        Some((table, key)) => fields.get_mut(table)?.as_table_mut()?.get_mut(key),
        None => fields.get_mut(&p.field),
    }
}

fn fields_mut<'a>(file: &'a mut ConfigFile, list: &str, index: usize) -> Option<&'a mut Table> {
    if list == "notify" {
        file.notify.get_mut(index).map(|n| &mut n.fields)
    } else {
        file.providers.get_mut(index).map(|n| &mut n.fields)
    }
}
