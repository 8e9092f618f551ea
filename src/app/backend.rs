//! What a daemon serves a tray besides its engine ([`crate::control::Backend`]): its history, and its config
//! to view and change from the tray's settings window. Secrets written in the file travel masked; secrets
//! typed in the window go to the daemon's own store (its data directory's `vault`), which the file then
//! names, so a service reads them at boot with no user logged in. An administrator taking the setup back to
//! their own tray gets it with every secret written out (`hand-back`).

use crate::config::Issue;
use crate::control::{Backend, ConfigView, SetConfigError};
use crate::history::{Entry, History};
use crate::settings::{Settings, WriteError, inlined, masked, unmask, write_config};

use super::Paths;

/// The backend of a daemon whose files are at `paths`.
pub struct DaemonBackend {
    paths: Paths,
}

impl DaemonBackend {
    #[must_use]
    pub fn new(paths: Paths) -> Self {
        Self { paths }
    }

    /// The config file's text; empty when there is none yet.
    fn text(&self) -> Result<String, String> {
        crate::settings::config_text(&self.paths.config)
    }
}

/// Problems in one line each, for a reply that carries only text.
fn lines(issues: &[Issue]) -> String {
    issues
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n")
}

impl Backend for DaemonBackend {
    fn history(&self, limit: usize) -> Result<Vec<Entry>, String> {
        let mut all = History::in_dir(&self.paths.data_dir)
            .read()
            .map_err(|e| e.to_string())?;
        let skip = all.len().saturating_sub(limit);
        Ok(all.split_off(skip))
    }

    fn config(&self, writable: bool) -> Result<ConfigView, String> {
        let text = masked(&self.text()?).map_err(|issues| lines(&issues))?;
        Ok(ConfigView {
            path: self.paths.config.display().to_string(),
            text,
            writable,
            why_not: (!writable).then(crate::control::read_only_reason),
        })
    }

    fn hand_back(&self) -> Result<ConfigView, String> {
        let text = inlined(&self.text()?, &self.paths.lookup()).map_err(|issues| lines(&issues))?;
        Ok(ConfigView {
            path: self.paths.config.display().to_string(),
            text,
            writable: true,
            why_not: None,
        })
    }

    fn set_config(&self, text: &str) -> Result<Settings, SetConfigError> {
        let current = self.text().map_err(SetConfigError::Failed)?;
        let text = unmask(text, &current).map_err(SetConfigError::Problems)?;
        match write_config(
            &self.paths.config,
            &text,
            &self.paths.vault(),
            &self.paths.lookup(),
        ) {
            Ok(written) => {
                for (entry, why) in &written.not_removed {
                    tracing::warn!("the secret {entry} stays in the store: {why}");
                }
                Ok(written.settings)
            }
            Err(WriteError::Invalid(issues)) => Err(SetConfigError::Problems(issues)),
            Err(WriteError::Io(e)) => Err(SetConfigError::Failed(e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONFIG: &str = r#"# the admin's comment stays
[[provider]]
name = "cf"
kind = "cloudflare"
token = "written-by-hand-0123456789"

[[record]]
name = "home.example.com"
provider = "cf"
"#;

    fn backend(dir: &std::path::Path) -> DaemonBackend {
        let paths = Paths {
            config: dir.join("config.toml"),
            config_explicit: true,
            data_dir: dir.join("data"),
        };
        std::fs::write(&paths.config, CONFIG).unwrap();
        DaemonBackend::new(paths)
    }

    /// A tray sees the config with the secret masked; sent back unchanged but for one field, the secret
    /// is the admin's again (now in the service's store), and the comment is where it was.
    #[cfg(feature = "edit")]
    #[test]
    fn secrets_travel_masked_and_come_back() {
        let dir = tempfile::tempdir().unwrap();
        let b = backend(dir.path());
        let view = b.config(true).unwrap();
        assert!(view.writable && view.why_not.is_none());
        assert!(!view.text.contains("written-by-hand"), "{}", view.text);
        assert!(
            view.text.contains(r#"masked = "cf/token""#),
            "{}",
            view.text
        );

        let edited = view.text.replace("home.example.com", "pc.example.com");
        let settings = b.set_config(&edited).unwrap();
        assert_eq!(settings.records[0].name, "pc.example.com");
        let written = std::fs::read_to_string(dir.path().join("config.toml")).unwrap();
        assert!(
            written.starts_with("# the admin's comment stays"),
            "{written}"
        );
        assert!(written.contains(r#"store = "cf/token""#), "{written}");
        assert!(!written.contains("written-by-hand"), "{written}");
        assert_eq!(
            b.paths.vault().read("cf/token").unwrap(),
            "written-by-hand-0123456789"
        );
        // And what the tray sees next is the reference, which is no secret.
        assert!(b.config(true).unwrap().text.contains("cf/token"));
    }

    /// A masked entry the file no longer holds (changed meanwhile by hand) is that field's problem, and
    /// nothing is written; so is an invalid config.
    #[cfg(feature = "edit")]
    #[test]
    fn what_cannot_be_unmasked_or_validated_writes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let b = backend(dir.path());
        let text = b
            .config(true)
            .unwrap()
            .text
            .replace("cf/token", "gone/token");
        let Err(SetConfigError::Problems(issues)) = b.set_config(&text) else {
            panic!("an unknown masked entry was accepted")
        };
        assert_eq!(issues[0].path, "provider[0].token", "{issues:?}");
        let bad = b
            .config(true)
            .unwrap()
            .text
            .replace("kind = \"cloudflare\"", "kind = \"nope\"");
        assert!(matches!(
            b.set_config(&bad),
            Err(SetConfigError::Problems(_))
        ));
        assert_eq!(
            std::fs::read_to_string(dir.path().join("config.toml")).unwrap(),
            CONFIG
        );
    }

    /// A webhook's header values are secrets too (an `Authorization` token): masked, and back on Save.
    #[test]
    fn header_values_are_masked() {
        let dir = tempfile::tempdir().unwrap();
        let b = backend(dir.path());
        std::fs::write(
            dir.path().join("config.toml"),
            "[[notify]]\nname = \"hook\"\nkind = \"webhook\"\nurl = \"https://example.com/h\"\n\
             headers = { Authorization = \"Bearer hand-written-1234567\" }\n",
        )
        .unwrap();
        let text = b.config(false).unwrap().text;
        assert!(!text.contains("hand-written"), "{text}");
        let unmasked = unmask(&text, &b.text().unwrap()).unwrap();
        assert!(
            unmasked.contains("Bearer hand-written-1234567"),
            "{unmasked}"
        );
    }

    #[test]
    fn a_reader_is_told_why_not() {
        let dir = tempfile::tempdir().unwrap();
        let view = backend(dir.path()).config(false).unwrap();
        assert!(!view.writable);
        assert!(view.why_not.unwrap().contains("ddns-tray"));
    }
}
