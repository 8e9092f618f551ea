//! `ddns-tray init`: the first-run steps in a terminal, for a server without a desktop or a user who
//! prefers a shell. The same steps as the settings window's welcome: the DNS service, its credential (where
//! to create it), a test that lists the domains the credential sees, the domain picked from that list, the
//! record name, then the config written, checked, the first round run and the service offered.
//!
//! Plain numbered line prompts (no cursor movement, no colours): they work in `cmd.exe`, `PowerShell`, over
//! SSH and on a serial console. Secrets are typed without echo. Nothing is written before the last step,
//! and then atomically: Ctrl-C or the end of the input at any question leaves no file behind. A credential
//! the provider refuses brings the credential step back with the provider's reason. `--non-interactive`
//! takes every answer from flags, for scripts.
//!
//! Where it writes: run as root (Unix) or with `--service`, the system service's config and its own secret
//! store (`vault`, read at boot with nobody logged in); otherwise the user's config, secrets in the OS
//! keyring (or, in a build without one, in the owner-only config file).

mod ask;
mod steps;

use std::path::PathBuf;

use super::Exit;
use crate::app::Paths;
use crate::config::secret::SecretStore;
use crate::i18n::tr;
use ask::{Ask, Console, Flags, Quit};
use steps::steps;

/// The answers given as flags (all of them with `--non-interactive`).
#[derive(Debug, Default, Clone)]
pub struct Options {
    pub non_interactive: bool,
    /// The provider kind (`cloudflare`, `alidns`, …).
    pub kind: Option<String>,
    /// `field=value` for the kind's fields (secrets too, for scripts: prefer `{ env }` for those).
    pub fields: Vec<String>,
    /// The full record name (`home.example.com`).
    pub record: Option<String>,
    /// `a`, `aaaa` or `both`.
    pub family: Option<String>,
    /// Replace an existing config (a backup of it is kept).
    pub force: bool,
    /// Skip the first round.
    pub no_update: bool,
    /// Write the system service's config (the default when run as root on Unix).
    pub service: bool,
    /// Write the user's config even as root.
    pub user: bool,
}

/// Where the config goes and which store takes its secrets.
pub(super) struct Target {
    pub(super) paths: Paths,
    pub(super) service: bool,
    /// The system service's own paths (not a `--config`): the service installed now would read them.
    own_service_paths: bool,
}

/// `ddns-tray init`.
///
/// # Errors
/// The config cannot be written (rights, disk), or the input is unusable.
pub fn init(paths: &Paths, options: &Options) -> Result<Exit, String> {
    let target = target(paths, options);
    if target.paths.config.exists() && !options.force {
        return Err(tr(
            "init.exists",
            &[("path", &target.paths.config.display())],
        ));
    }
    let rt = super::runtime()?;
    let mut console = Console {
        input: std::io::stdin().lock(),
        out: std::io::stdout(),
    };
    let mut flags = Flags;
    let ask: &mut dyn Ask = if options.non_interactive {
        &mut flags
    } else {
        crate::platform::echo::restore_on_interrupt();
        &mut console
    };
    let outcome = steps(ask, &rt, &target, options);
    let text = match outcome {
        Ok(text) => text,
        Err(Quit(None)) => {
            println!("{}", tr("init.quit", &[]));
            return Ok(Exit::Failed);
        }
        Err(Quit(Some(why))) => return Err(why),
    };
    write(&target, &text, options.force)?;
    let (verdict, exit) = super::check::render(&target.paths);
    print!("{verdict}");
    if exit != Exit::Ok {
        return Ok(exit);
    }
    let exit = if options.no_update {
        Exit::Ok
    } else {
        println!("{}", tr("init.first_round", &[]));
        super::with_settings(&target.paths, |settings| {
            rt.block_on(super::once::once(
                &target.paths,
                settings,
                crate::engine::Mode::Tick,
                false,
            ))
        })?
    };
    // Run as root on the service's own paths: offer to install it now.
    if target.own_service_paths
        && !options.non_interactive
        && ask
            .line(&tr("init.offer_service", &[]))
            .is_some_and(|a| a.to_lowercase().starts_with('y') || a.starts_with('是'))
    {
        return super::service::manage(crate::service::Action::Install, false, None)
            .map(|installed| if exit == Exit::Ok { installed } else { exit });
    }
    println!(
        "{}",
        tr(
            if target.service {
                "init.next_service"
            } else {
                "init.next_user"
            },
            &[("path", &target.paths.config.display())],
        )
    );
    Ok(exit)
}

/// The service's paths when run as root (Unix) or asked with `--service`, unless `--user` or `--config`.
fn target(paths: &Paths, options: &Options) -> Target {
    #[cfg(unix)]
    // SAFETY: geteuid takes no arguments and cannot fail.
    #[allow(unsafe_code)]
    let root = unsafe { libc::geteuid() } == 0;
    #[cfg(not(unix))]
    let root = false;
    let service = options.service || (root && !options.user && !paths.config_explicit);
    let paths_explicit = paths.config_explicit;
    let paths = match (service, paths.config_explicit) {
        (true, false) => {
            let (config, data_dir) = service_paths();
            Paths {
                config,
                config_explicit: true,
                data_dir,
            }
        }
        _ => Paths {
            config_explicit: true,
            ..paths.clone()
        },
    };
    Target {
        own_service_paths: service && !paths_explicit,
        paths,
        service,
    }
}

/// The system service's config file and data directory.
fn service_paths() -> (PathBuf, PathBuf) {
    #[cfg(windows)]
    {
        let dir = crate::service::windows::program_data();
        (dir.join("config.toml"), dir)
    }
    #[cfg(target_os = "macos")]
    {
        let dir = PathBuf::from(crate::service::MACOS_SYSTEM_DIR);
        (dir.join("config.toml"), dir)
    }
    #[cfg(not(any(windows, target_os = "macos")))]
    {
        (
            PathBuf::from(crate::service::LINUX_SYSTEM_CONFIG),
            PathBuf::from(crate::service::LINUX_SYSTEM_DATA),
        )
    }
}

/// The store the secrets typed in go to.
fn store(target: &Target) -> Box<dyn SecretStore> {
    if target.service {
        return Box::new(target.paths.vault());
    }
    #[cfg(feature = "keyring")]
    return Box::new(crate::config::secret::OsKeyring);
    #[cfg(not(feature = "keyring"))]
    Box::new(crate::config::secret::InFile)
}

/// Writes the config (a backup of the one replaced first), its secrets into the target's store.
fn write(target: &Target, text: &str, force: bool) -> Result<(), String> {
    let path = &target.paths.config;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| {
            tr(
                "init.cannot_write",
                &[("path", &dir.display()), ("error", &e)],
            )
        })?;
    }
    if force && path.exists() {
        let backup = crate::fsutil::keep_copy(path, "bak", crate::settings::MAX_CONFIG_BYTES)
            .map_err(|e| {
                tr(
                    "init.cannot_write",
                    &[("path", &path.display()), ("error", &e)],
                )
            })?;
        println!("{}", tr("init.backup", &[("path", &backup.display())]));
    }
    let store = store(target);
    crate::settings::write::write_new_config(path, text, store.as_ref(), &target.paths.lookup())
        .map_err(|e| match e {
            crate::settings::write::WriteError::Invalid(issues) => issues
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("\n"),
            crate::settings::write::WriteError::Io(e) => e,
        })?;
    println!("{}", tr("init.written", &[("path", &path.display())]));
    Ok(())
}

/// The environment variable a script may pass a field in instead of `--set` (which `ps` would show):
/// `DDNS_TRAY_INIT_<FIELD>`.
#[must_use]
pub fn secret_env(field: &str) -> String {
    format!("DDNS_TRAY_INIT_{}", field.to_ascii_uppercase())
}
