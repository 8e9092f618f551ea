//! `ddns-tray import FILE`: another client's config turned into ours (see `import`). Prints the TOML, where
//! each secret went, what was carried over and what was not; writes the config atomically (never over an
//! existing one without `--force`, and then after a backup), stores the secrets in the keyring, and ends
//! with `check`'s verdict on the result. `--dry-run` writes and stores nothing.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use super::Exit;
use crate::app::Paths;
use crate::config::secret::{Lookup, SecretStore};
use crate::i18n::tr;
use crate::import::{self, Format, Imported, SecretMode, SecretOut};

/// The largest file read: configs are small.
const MAX_INPUT: u64 = 1 << 20;

/// What the command line asked for.
#[derive(Debug, Clone)]
pub struct Options {
    pub file: PathBuf,
    pub from: Option<Format>,
    pub secrets: SecretMode,
    pub dry_run: bool,
    pub force: bool,
}

/// Runs the import; `store` is the OS keyring (`None` in a build without one). Everything it prints goes
/// to `out` (the report) and `err` (errors), so the tests can read it.
pub fn run(
    paths: &Paths,
    opts: &Options,
    store: Option<&dyn SecretStore>,
    out: &mut String,
    err: &mut String,
) -> Exit {
    let fail = |err: &mut String, text: &str, exit: Exit| {
        let _ = writeln!(err, "{}", tr("cli.error", &[("error", &text)]));
        exit
    };
    if opts.secrets == SecretMode::Keyring && store.is_none() {
        return fail(err, &tr("import.cli.no_keyring_build", &[]), Exit::Invalid);
    }
    let imported = match read(opts) {
        Ok(i) => i,
        Err(e) => return fail(err, &e, Exit::Invalid),
    };
    let target = &paths.config;
    let exists = target.symlink_metadata().is_ok();
    if exists && !opts.force && !opts.dry_run {
        return fail(
            err,
            &tr("import.cli.exists", &[("path", &target.display())]),
            Exit::Failed,
        );
    }
    report(out, opts, &imported, target);
    let lookup = Overlay::new(paths, &imported, opts.secrets);
    if opts.dry_run {
        let _ = writeln!(out, "\n{}", tr("import.cli.check_dry", &[]));
        return match crate::settings::load_str(&imported.toml, &lookup) {
            Ok((_, settings)) => {
                let _ = writeln!(out, "{}", tr("import.cli.dry_ok", &[]));
                out.push_str(&crate::app::summary(&settings));
                Exit::Ok
            }
            Err(issues) => {
                out.push_str(&super::render_load_error(
                    &crate::settings::LoadError::Invalid {
                        path: target.clone(),
                        issues,
                    },
                ));
                Exit::Invalid
            }
        };
    }
    if let Err(e) = write(target, opts, &imported, store, exists, out) {
        return fail(err, &e, Exit::Failed);
    }
    let _ = writeln!(out, "\n{}", tr("import.cli.check", &[]));
    let loaded = crate::settings::load(target, crate::settings::Missing::Error, &lookup);
    let (text, exit) = super::check::render_loaded(target, true, loaded);
    out.push_str(&text);
    exit
}

/// The input file, its format, and what it becomes; or the error to print (nothing was written).
fn read(opts: &Options) -> Result<Imported, String> {
    let shown = opts.file.display();
    let text = match crate::fsutil::read_limited(&opts.file, MAX_INPUT) {
        Ok(Some(bytes)) => {
            String::from_utf8(bytes).map_err(|_| tr("import.cli.not_utf8", &[("path", &shown)]))?
        }
        Ok(None) => return Err(tr("import.cli.no_file", &[("path", &shown)])),
        Err(e) => {
            return Err(tr(
                "import.cli.cannot_read",
                &[("path", &shown), ("error", &e)],
            ));
        }
    };
    let name = opts.file.file_name().and_then(|n| n.to_str());
    let format = opts
        .from
        .or_else(|| import::detect(&text, name))
        .ok_or_else(|| tr("import.cli.unknown_format", &[("path", &shown)]))?;
    import::convert(&text, format, opts.secrets, Some(&opts.file)).map_err(|e| {
        tr(
            "import.cli.cannot_import",
            &[("path", &shown), ("format", &format), ("error", &e)],
        )
    })
}

/// Secrets first (nothing is written if the keyring refuses one), then the backup of an existing config,
/// then the config, atomically. On any failure the secrets this import stored are taken out again.
fn write(
    target: &Path,
    opts: &Options,
    imported: &Imported,
    store: Option<&dyn SecretStore>,
    exists: bool,
    out: &mut String,
) -> Result<(), String> {
    let store = store.filter(|_| opts.secrets == SecretMode::Keyring);
    let mut stored: Vec<&SecretOut> = Vec::new();
    let undo = |stored: &[&SecretOut]| {
        for done in stored {
            let _ = store.map(|s| s.delete(&done.name));
        }
    };
    if let Some(store) = store {
        for s in &imported.secrets {
            if let Err(e) = store.store(&s.name, &s.value) {
                undo(&stored);
                return Err(tr(
                    "import.cli.keyring_failed",
                    &[("entry", &s.name), ("error", &e)],
                ));
            }
            stored.push(s);
        }
    }
    if exists {
        let path = backup(target).map_err(|e| {
            undo(&stored);
            tr(
                "import.cli.cannot_backup",
                &[("path", &target.display()), ("error", &e)],
            )
        })?;
        let _ = writeln!(
            out,
            "{}",
            tr("import.cli.backup", &[("path", &path.display())])
        );
    }
    crate::fsutil::write_atomic(target, imported.toml.as_bytes()).map_err(|e| {
        undo(&stored);
        tr(
            "import.cli.cannot_write",
            &[("path", &target.display()), ("error", &e)],
        )
    })?;
    let _ = writeln!(
        out,
        "{}",
        tr("import.cli.written", &[("path", &target.display())])
    );
    Ok(())
}

/// The TOML, the secrets and the notes.
fn report(out: &mut String, opts: &Options, imported: &Imported, target: &Path) {
    let heading = if opts.dry_run {
        "import.cli.toml_dry"
    } else {
        "import.cli.toml"
    };
    let _ = writeln!(
        out,
        "{}",
        tr(
            heading,
            &[("path", &target.display()), ("format", &imported.format)]
        )
    );
    let _ = writeln!(out, "\n{}\n", imported.toml.trim_end());
    if !imported.secrets.is_empty() {
        let heading = match (opts.secrets, opts.dry_run) {
            (SecretMode::Keyring, false) => "import.cli.secrets_keyring",
            (SecretMode::Keyring, true) => "import.cli.secrets_keyring_dry",
            (SecretMode::Env, _) => "import.cli.secrets_env",
        };
        let _ = writeln!(out, "{}", tr(heading, &[]));
        for s in &imported.secrets {
            let _ = writeln!(
                out,
                "{}",
                tr(
                    "import.cli.secret_line",
                    &[("name", &s.name), ("from", &s.from)]
                )
            );
        }
        out.push('\n');
    }
    for (heading, notes) in [
        ("import.cli.carried", &imported.carried),
        ("import.cli.left_out", &imported.left_out),
    ] {
        if notes.is_empty() {
            continue;
        }
        let _ = writeln!(out, "{}", tr(heading, &[]));
        for n in notes {
            if n.setting.is_empty() {
                let _ = writeln!(out, "  - {}", n.why);
            } else {
                let _ = writeln!(
                    out,
                    "{}",
                    tr(
                        "import.cli.note_line",
                        &[("setting", &n.setting), ("why", &n.why)]
                    )
                );
            }
        }
        out.push('\n');
    }
}

/// Copies the config to `<name>.before-import` (`.before-import.2`, … when taken) and returns that path.
fn backup(target: &Path) -> std::io::Result<PathBuf> {
    crate::fsutil::keep_copy(target, "before-import", crate::settings::MAX_CONFIG_BYTES).map_err(
        |e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                std::io::Error::other(tr("import.cli.not_a_file", &[]))
            } else {
                e
            }
        },
    )
}

/// The lookup the verdict uses: the imported secrets as they will be (the variables set, the keyring
/// filled), the real environment, keyring and store otherwise.
struct Overlay<'a> {
    base: crate::vault::VaultLookup,
    secrets: &'a [SecretOut],
    mode: SecretMode,
}

impl<'a> Overlay<'a> {
    fn new(paths: &Paths, imported: &'a Imported, mode: SecretMode) -> Self {
        Self {
            base: paths.lookup(),
            secrets: &imported.secrets,
            mode,
        }
    }

    fn imported(&self, name: &str, mode: SecretMode) -> Option<String> {
        (self.mode == mode)
            .then(|| self.secrets.iter().find(|s| s.name == name))
            .flatten()
            .map(|s| s.value.clone())
    }
}

impl Lookup for Overlay<'_> {
    fn env(&self, var: &str) -> Option<String> {
        self.base
            .env(var)
            .or_else(|| self.imported(var, SecretMode::Env))
    }

    fn keyring(&self, entry: &str) -> Result<String, String> {
        match self.imported(entry, SecretMode::Keyring) {
            Some(v) => Ok(v),
            None => self.base.keyring(entry),
        }
    }

    fn store(&self, entry: &str) -> Result<String, String> {
        self.base.store(entry)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;
    use crate::config::Secret;

    /// A keyring in memory, refusing values that start with `second`.
    #[derive(Default)]
    struct Memory(Mutex<Vec<(String, String)>>);

    impl SecretStore for Memory {
        fn store(&self, entry: &str, value: &str) -> Result<(), String> {
            if value.starts_with("second") {
                return Err("locked".into());
            }
            self.0.lock().unwrap().push((entry.into(), value.into()));
            Ok(())
        }
        fn delete(&self, entry: &str) -> Result<bool, String> {
            let mut v = self.0.lock().unwrap();
            let before = v.len();
            v.retain(|(e, _)| e != entry);
            Ok(v.len() != before)
        }
        fn reference(&self, entry: &str) -> Secret {
            Secret::keyring(entry)
        }
        fn may_stay_in_file(&self) -> bool {
            false
        }
    }

    fn setup(input: &str) -> (tempfile::TempDir, Paths, Options) {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("ddclient.conf");
        std::fs::write(&file, input).unwrap();
        let config = dir.path().join("config.toml");
        let paths = Paths::resolve(Some(&config), Some(&dir.path().join("data"))).unwrap();
        let opts = Options {
            file,
            from: None,
            secrets: SecretMode::Keyring,
            dry_run: false,
            force: false,
        };
        (dir, paths, opts)
    }

    /// The keyring path: every secret is stored under the entry the file names, the file holds none,
    /// and the verdict (which reads them back through the keyring) passes.
    #[test]
    fn secrets_go_to_the_keyring_and_the_result_checks() {
        let (_dir, paths, opts) = setup(
            "daemon=300\nusev4=ifv4, ifv4=eth0\nprotocol=noip, login=me, password='n0ip-Secret' h.example.com\n",
        );
        let store = Memory::default();
        let (mut out, mut err) = (String::new(), String::new());
        let exit = run(&paths, &opts, Some(&store), &mut out, &mut err);
        assert_eq!(exit, Exit::Ok, "{out}\n{err}");
        let written = std::fs::read_to_string(&paths.config).unwrap();
        assert!(!written.contains("n0ip-Secret") && !out.contains("n0ip-Secret"));
        assert!(
            written.contains("password = { keyring = \"noip-example.com/password\" }"),
            "{written}"
        );
        assert_eq!(
            *store.0.lock().unwrap(),
            [(
                "noip-example.com/password".to_owned(),
                "n0ip-Secret".to_owned()
            )]
        );
    }

    /// A keyring that refuses one secret: nothing is written, and the secrets stored before it are
    /// taken out again.
    #[test]
    fn a_refusing_keyring_writes_nothing() {
        let (_dir, paths, opts) = setup(
            "protocol=noip, login=me, password=first-Secret a.example.com\n\
             protocol=dynu, login=me, password=second-Secret b.example.org\n",
        );
        let store = Memory::default();
        let (mut out, mut err) = (String::new(), String::new());
        let exit = run(&paths, &opts, Some(&store), &mut out, &mut err);
        assert_eq!(exit, Exit::Failed, "{out}\n{err}");
        assert!(err.contains("--secrets env"), "{err}");
        assert!(!paths.config.exists());
        assert!(store.0.lock().unwrap().is_empty());
    }
}
