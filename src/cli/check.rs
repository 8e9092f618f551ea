//! `ddns-tray check`: validates the config and lists every problem with its fix, or summarises what would
//! run; `check --providers` lists the provider kinds with their fields.

use std::fmt::Write as _;

use super::{Exit, render_load_error};
use crate::app::{self, Paths};
use crate::i18n::tr;

/// Checks the config at `paths`: what `check` prints (on stdout) and how it ends.
#[must_use]
pub fn render(paths: &Paths) -> (String, Exit) {
    let mut out = String::new();
    match paths.load_config() {
        Ok((_, settings)) => {
            if paths.config.exists() {
                let _ = writeln!(
                    out,
                    "{}",
                    tr("cli.check_ok", &[("path", &paths.config.display())])
                );
                if let Some(warning) = app::config_exposure(&paths.config, &settings) {
                    let _ = writeln!(out, "{}", tr("cli.warning", &[("warning", &warning)]));
                }
            } else {
                let _ = writeln!(
                    out,
                    "{}",
                    tr("cli.check_missing", &[("path", &paths.config.display())])
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
