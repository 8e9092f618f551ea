//! Save: typed secrets go to the keyring (the file names the entry; a keyring that refuses leaves the value in
//! the owner-only file), the form is validated as it will be written, the text is merged into the user's
//! file keeping its comments and layout, written atomically, and keyring entries no longer referred to are
//! removed.

use std::fmt::Write as _;

use toml::{Table, Value};

use super::{SettingsForm, keyring_entries, notify_kind_info};
use crate::config::file::KindTable;
use crate::i18n::t;
use crate::provider::kind_info;
use crate::settings::Settings;

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
        Ok(Some(bytes)) => String::from_utf8(bytes).map_or(text.clone(), |original| {
            crate::config::edit::merge_into(&original, &text)
        }),
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
