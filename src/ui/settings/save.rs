//! Save: the form written as the tray's config through `settings::write` (typed secrets to the keyring, the
//! file named them; validated; merged into the user's file keeping its comments and layout; stale keyring
//! entries removed), and the form reloaded from what was written.

use crate::config::secret::{Lookup, SecretStore};
use crate::i18n::t;
use crate::settings::Settings;
use crate::settings::write::{WriteError, write_config};

use super::SettingsForm;

pub use crate::config::secret::OsKeyring;

/// Saves the form to `path` (see `settings::write`): on problems nothing is stored or written and the form
/// shows them at their fields. Returns the settings to reload.
pub fn save(
    form: &mut SettingsForm,
    path: &std::path::Path,
    lookup: &dyn Lookup,
    store: &dyn SecretStore,
) -> Option<Settings> {
    match write_config(path, &form.to_toml(), store, lookup) {
        Ok(written) => {
            let mut saved = SettingsForm::from_file(&written.file);
            saved.start_at_login = form.start_at_login;
            let mut message = t!("save.saved", path = path.display()).into_owned();
            for (entry, error) in &written.not_removed {
                message.push_str("; ");
                message.push_str(&t!(
                    "save.keyring_not_removed",
                    entry = entry,
                    error = error
                ));
            }
            saved.message = Some(message);
            *form = saved;
            Some(written.settings)
        }
        Err(WriteError::Invalid(issues)) => {
            form.show_problems(issues);
            None
        }
        Err(WriteError::Io(message)) => {
            form.message = Some(message);
            None
        }
    }
}
