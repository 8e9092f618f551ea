//! The command line's commands: one module each with its handler and the rendering of its output, which
//! the tests call directly. `main.rs` parses the arguments, sets up logging and calls these; each returns
//! how the command ended ([`Exit`]), or an error message that `main` prints as `error: …` with exit code 1.
//!
//! Exit codes: 0 all good, 1 something failed (an update, detection, a lock), 2 the config is invalid.

pub mod check;
pub mod ctl;
pub mod detect;
pub mod health;
pub mod history;
#[cfg(feature = "import")]
pub mod import;
pub mod init;
pub mod notify;
pub mod once;
pub mod run;
#[cfg(feature = "keyring")]
pub mod secret;
pub mod service;
pub mod status;

use std::fmt::Write as _;

use crate::app::Paths;
use crate::i18n::tr;
use crate::settings::{LoadError, Settings};

/// How a command ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// 0: all good.
    Ok,
    /// 1: something failed (an update, detection, a lock, a service that did not answer).
    Failed,
    /// 2: the config (or the command line) is invalid.
    Invalid,
}

impl Exit {
    /// The process exit code.
    #[must_use]
    pub fn code(self) -> u8 {
        match self {
            Self::Ok => 0,
            Self::Failed => 1,
            Self::Invalid => 2,
        }
    }

    /// `Ok` when `ok`, else `Failed`.
    #[must_use]
    pub fn ok_if(ok: bool) -> Self {
        if ok { Self::Ok } else { Self::Failed }
    }
}

/// One thread runs everything: the work is waiting on the network, and a second worker measured only more
/// memory and threads (README, Footprint). Blocking work (name lookups) goes to tokio's on-demand pool.
pub fn runtime() -> Result<tokio::runtime::Runtime, String> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the async runtime: {e}"))
}

/// Loads the config; on problems prints them all and ends with [`Exit::Invalid`].
pub fn with_settings(
    paths: &Paths,
    f: impl FnOnce(Settings) -> Result<Exit, String>,
) -> Result<Exit, String> {
    match paths.load_config() {
        Ok((_, settings)) => f(settings),
        Err(e) => {
            eprint!("{}", render_load_error(&e));
            Ok(Exit::Invalid)
        }
    }
}

/// A config that cannot be loaded, in words: each problem with its hint, then how many and where.
#[must_use]
pub fn render_load_error(e: &LoadError) -> String {
    match e {
        LoadError::Invalid { path, issues } => {
            let mut out = String::new();
            for issue in issues {
                let _ = writeln!(out, "{issue}");
            }
            out.push_str(&tr(
                "cli.problems",
                &[("n", &issues.len()), ("path", &path.display())],
            ));
            out.push('\n');
            out
        }
        LoadError::Io { .. } | LoadError::Missing { .. } | LoadError::Gone { .. } => {
            format!("{}\n", tr("cli.error", &[("error", &e)]))
        }
    }
}

/// Prints an error the way every command does (`error: …`, in the language in use).
pub fn print_error(error: &dyn std::fmt::Display) {
    eprintln!("{}", tr("cli.error", &[("error", error)]));
}

/// The command line's help in the language in use. Every command's and argument's words come from the
/// catalogue: `help.<command path>.about` and `help.<command path>.arg.<id>`, else `help.arg.<id>` for
/// arguments several commands share (`--json`, `--user`), and clap's own headings and flags (`help.usage`,
/// `help.options`, …). Hidden commands and arguments keep no words.
#[must_use]
pub fn localize(mut cmd: clap::Command) -> clap::Command {
    cmd.build();
    localize_at(cmd, "")
}

fn localize_at(mut cmd: clap::Command, path: &str) -> clap::Command {
    let key = |rest: &str| {
        if path.is_empty() {
            format!("help.{rest}")
        } else {
            format!("help.{path}.{rest}")
        }
    };
    let words = |k: &str| tr(k, &[]);
    let found = |k: &str| crate::i18n::has(k).then(|| words(k));
    if let Some(about) = found(&key("about")) {
        cmd = cmd.about(about);
    }
    let template = format!(
        "{{before-help}}{{about-with-newline}}\n{} {{usage}}\n\n{{all-args}}{{after-help}}",
        words("help.usage")
    );
    cmd = cmd
        .help_template(template)
        .subcommand_help_heading(words("help.commands"));
    let args: Vec<(String, bool, bool)> = cmd
        .get_arguments()
        .map(|a| (a.get_id().to_string(), a.is_hide_set(), a.is_positional()))
        .collect();
    for (id, hidden, positional) in args {
        let text = match id.as_str() {
            "help" => found("help.help_flag"),
            "version" => found("help.version_flag"),
            _ if hidden => None,
            _ => found(&key(&format!("arg.{id}"))).or_else(|| found(&format!("help.arg.{id}"))),
        };
        let heading = words(if positional {
            "help.arguments"
        } else {
            "help.options"
        });
        cmd = cmd.mut_arg(&id, |a| {
            let a = a.help_heading(heading);
            match text {
                Some(t) => a.help(t),
                None => a,
            }
        });
    }
    let subs: Vec<(String, bool)> = cmd
        .get_subcommands()
        .map(|s| (s.get_name().to_owned(), s.is_hide_set()))
        .collect();
    for (name, hidden) in subs {
        if hidden {
            continue;
        }
        let sub_path = if path.is_empty() {
            name.clone()
        } else {
            format!("{path}.{name}")
        };
        cmd = cmd.mut_subcommand(&name, |s| {
            if name == "help" {
                s.about(words("help.help_command"))
            } else {
                localize_at(s, &sub_path)
            }
        });
    }
    cmd
}
