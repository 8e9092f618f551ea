//! `ddns-tray check`: validates the config and lists every problem with its fix, or summarises what would
//! run; `check --providers` lists the provider kinds with their fields.

use std::fmt::Write as _;
use std::path::Path;

use super::{Exit, render_load_error};
use crate::app::{self, Paths};
use crate::config::ConfigFile;
use crate::i18n::tr;
use crate::settings::{LoadError, Settings};

/// Checks the config at `paths`: what `check` prints (on stdout) and how it ends.
#[must_use]
pub fn render(paths: &Paths) -> (String, Exit) {
    render_loaded(&paths.config, paths.config.exists(), paths.load_config())
}

/// The verdict on a config at `path` (`exists`: whether it is there) once loaded: OK with the summary of
/// what would run, or every problem with its fix.
#[must_use]
pub fn render_loaded(
    path: &Path,
    exists: bool,
    loaded: Result<(ConfigFile, Settings), LoadError>,
) -> (String, Exit) {
    let mut out = String::new();
    match loaded {
        Ok((_, settings)) => {
            if exists {
                let _ = writeln!(out, "{}", tr("cli.check_ok", &[("path", &path.display())]));
                if let Some(warning) = app::config_exposure(path, &settings) {
                    let _ = writeln!(out, "{}", tr("cli.warning", &[("warning", &warning)]));
                }
            } else {
                let _ = writeln!(
                    out,
                    "{}",
                    tr("cli.check_missing", &[("path", &path.display())])
                );
            }
            out.push_str(&app::summary(&settings));
            (out, Exit::Ok)
        }
        Err(e) => (render_load_error(&e), Exit::Invalid),
    }
}

/// `ddns-tray check`.
#[must_use]
pub fn check(paths: &Paths) -> Exit {
    let (text, exit) = render(paths);
    print!("{text}");
    exit
}

/// `ddns-tray check --providers`.
#[must_use]
pub fn providers() -> Exit {
    print!("{}", app::providers_help());
    Exit::Ok
}
