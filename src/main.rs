//! The `ddns-tray` binary: the command line (clap), logging set-up, dispatch to the commands in
//! [`ddns_tray::cli`], and exit codes (0 all good, 1 something failed, 2 the config is invalid). The
//! commands' work and their output live in the library, where the tests reach them.

// Windows release builds are GUI programs: the tray opens no console window. Commands run from a terminal
// attach to it (see `attach_parent_console`) so their output still shows.
#![cfg_attr(all(windows, not(debug_assertions)), windows_subsystem = "windows")]

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use ddns_tray::app::Paths;
use ddns_tray::cli::{self, Exit, runtime, with_settings};
use ddns_tray::engine::Mode;
use ddns_tray::i18n::tr;

#[derive(Parser)]
// The words of the help (what each command and argument does) are in the catalogues' [help] section, put
// in by `cli::localize` in the language in use; `main`'s test checks that every one has its words.
#[command(name = "ddns-tray", version)]
struct Cli {
    #[arg(long, global = true, value_name = "PATH")]
    config: Option<PathBuf>,
    #[arg(long, global = true, value_name = "PATH")]
    data_dir: Option<PathBuf>,
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    verbose: u8,
    #[arg(long, hide = true)]
    autostart: bool,
    #[command(subcommand)]
    command: Option<Cmd>,
}

#[derive(Subcommand)]
enum Cmd {
    Run {
        #[arg(long, value_name = "PATH")]
        control: Option<PathBuf>,
        #[arg(long, value_name = "PATH", hide = true)]
        status_file: Option<PathBuf>,
    },
    Ctl {
        #[arg(value_enum)]
        request: CtlRequest,
        /// `set-config`: the config file to send (as `ctl config` printed it: masked secrets stay as they
        /// are).
        #[arg(value_name = "FILE")]
        file: Option<PathBuf>,
        #[arg(long, value_name = "PATH")]
        endpoint: Option<PathBuf>,
        #[arg(long)]
        json: bool,
    },
    Once {
        #[arg(long)]
        dry_run: bool,
        #[arg(long, conflicts_with = "dry_run")]
        force: bool,
        #[arg(long)]
        json: bool,
    },
    Detect {
        #[arg(long)]
        json: bool,
    },
    Init(InitArgs),
    Check {
        #[arg(long)]
        providers: bool,
    },
    Status {
        #[arg(long)]
        json: bool,
    },
    Health {
        #[arg(long, value_name = "PATH")]
        endpoint: Option<PathBuf>,
    },
    Notify {
        #[command(subcommand)]
        command: NotifyCmd,
    },
    History {
        #[arg(long, value_name = "NAME")]
        record: Option<String>,
        #[arg(long, default_value_t = 50)]
        limit: usize,
        #[arg(long)]
        json: bool,
    },
    Config {
        #[command(subcommand)]
        command: ConfigCmd,
    },
    #[cfg(feature = "import")]
    Import {
        file: PathBuf,
        #[arg(long, value_enum)]
        from: Option<FromFormat>,
        #[arg(long, value_enum)]
        secrets: Option<SecretsTo>,
        #[arg(long)]
        dry_run: bool,
        #[arg(long)]
        force: bool,
    },
    #[cfg(feature = "keyring")]
    Secret {
        #[command(subcommand)]
        command: SecretCmd,
    },
    #[cfg(feature = "tray")]
    Autostart {
        #[arg(value_enum)]
        set: Option<OnOff>,
    },
    Service {
        #[command(subcommand)]
        command: ServiceCmd,
    },
}

#[derive(clap::Args)]
struct InitArgs {
    #[arg(long)]
    non_interactive: bool,
    #[arg(long, value_name = "KIND")]
    provider: Option<String>,
    #[arg(long = "set", value_name = "FIELD=VALUE")]
    set: Vec<String>,
    #[arg(long, value_name = "NAME")]
    record: Option<String>,
    #[arg(long = "type", value_name = "a|aaaa|both")]
    family: Option<String>,
    #[arg(long)]
    force: bool,
    #[arg(long)]
    no_update: bool,
    #[arg(long, conflicts_with = "user")]
    service: bool,
    #[arg(long)]
    user: bool,
}

impl From<InitArgs> for cli::init::Options {
    fn from(a: InitArgs) -> Self {
        Self {
            non_interactive: a.non_interactive,
            kind: a.provider,
            fields: a.set,
            record: a.record,
            family: a.family,
            force: a.force,
            no_update: a.no_update,
            service: a.service,
            user: a.user,
        }
    }
}

#[derive(Subcommand)]
enum ServiceCmd {
    Install {
        #[command(flatten)]
        args: ServiceArgs,
        #[arg(long, value_name = "FILE", conflicts_with = "user")]
        adopt: Option<String>,
    },
    Uninstall {
        #[command(flatten)]
        args: ServiceArgs,
        #[arg(long, value_name = "FILE", conflicts_with = "user")]
        hand_back: Option<String>,
    },
    Start(ServiceArgs),
    Stop(ServiceArgs),
    Status(ServiceArgs),
    #[command(hide = true)]
    Run,
}

#[derive(clap::Args)]
struct ServiceArgs {
    #[arg(long)]
    user: bool,
    #[arg(long, value_name = "DIR", env = "DDNS_TRAY_SERVICE_ROOT")]
    root: Option<PathBuf>,
}

#[cfg(feature = "keyring")]
#[derive(Subcommand)]
enum SecretCmd {
    Set { entry: String },
    Delete { entry: String },
}

#[cfg(feature = "tray")]
#[derive(Clone, Copy, clap::ValueEnum)]
enum OnOff {
    On,
    Off,
}

/// The clients `import --from` names.
#[cfg(feature = "import")]
#[derive(Clone, Copy, clap::ValueEnum)]
enum FromFormat {
    DdnsGo,
    Ddclient,
    Inadyn,
    DdnsUpdater,
    Favonia,
}

/// Where `import` puts the secrets.
#[cfg(feature = "import")]
#[derive(Clone, Copy, clap::ValueEnum)]
enum SecretsTo {
    Keyring,
    Env,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum CtlRequest {
    Status,
    Update,
    Pause,
    Resume,
    Reload,
    History,
    Config,
    SetConfig,
}

#[derive(Subcommand)]
enum NotifyCmd {
    Test { name: Option<String> },
}

#[derive(Subcommand)]
enum ConfigCmd {
    Path,
}

/// In a Windows release build (no console of its own), print to the terminal that started us, if any.
#[cfg(all(windows, not(debug_assertions)))]
fn attach_parent_console() {
    // SAFETY: AttachConsole takes no pointers and only fails (harmlessly) when there is no parent console.
    #[allow(unsafe_code)]
    unsafe {
        windows_sys::Win32::System::Console::AttachConsole(
            windows_sys::Win32::System::Console::ATTACH_PARENT_PROCESS,
        );
    }
}

fn main() -> ExitCode {
    // A container's PID 1 reaps orphans and passes signals on: see platform::init.
    #[cfg(target_os = "linux")]
    if let Some(code) = ddns_tray::platform::init::supervise_if_pid1() {
        return ExitCode::from(code);
    }
    #[cfg(all(windows, not(debug_assertions)))]
    attach_parent_console();
    // The OS's language until the config names one (`language`).
    ddns_tray::i18n::set(ddns_tray::i18n::Language::Auto);
    let command = cli::localize(<Cli as clap::CommandFactory>::command());
    let cli = match <Cli as clap::FromArgMatches>::from_arg_matches(&command.get_matches()) {
        Ok(cli) => cli,
        Err(e) => e.exit(),
    };
    match real_main(cli) {
        Ok(exit) => ExitCode::from(exit.code()),
        Err(e) => {
            cli::print_error(&e);
            ExitCode::from(1)
        }
    }
}

fn real_main(cli: Cli) -> Result<Exit, String> {
    let paths = Paths::resolve(cli.config.as_deref(), cli.data_dir.as_deref())?;
    let Some(command) = cli.command else {
        #[cfg(feature = "tray")]
        if cli.autostart && !ddns_tray::ui::autostart::login_start_allowed() {
            // Started by the installer's login entry, which this user turned off.
            return Ok(Exit::Ok);
        }
        return tray(&paths, cli.verbose);
    };
    let daemon = matches!(
        command,
        Cmd::Run { .. }
            | Cmd::Service {
                command: ServiceCmd::Run
            }
    );
    let _guard = init_logging(cli.verbose, daemon.then(|| paths.log_dir()));
    match command {
        Cmd::Config {
            command: ConfigCmd::Path,
        } => {
            println!("{}", paths.config.display());
            Ok(Exit::Ok)
        }
        Cmd::Init(a) => cli::init::init(&paths, &a.into()),
        Cmd::Check { providers: true } => Ok(cli::check::providers()),
        Cmd::Check { providers: false } => Ok(cli::check::check(&paths)),
        Cmd::Status { json } => cli::status::status(&paths, json),
        Cmd::Health { endpoint } => {
            Ok(runtime()?.block_on(cli::health::health(&paths, endpoint.as_deref())))
        }
        Cmd::Notify {
            command: NotifyCmd::Test { name },
        } => with_settings(&paths, |s| {
            runtime()?.block_on(cli::notify::test(&paths, &s, name.as_deref()))
        }),
        Cmd::History {
            record,
            limit,
            json,
        } => cli::history::history(&paths, record.as_deref(), limit, json),
        Cmd::Detect { json } => with_settings(&paths, |s| {
            runtime()?.block_on(cli::detect::detect(&s, json))
        }),
        Cmd::Once {
            dry_run,
            force,
            json,
        } => with_settings(&paths, |s| {
            runtime()?.block_on(cli::once::once(&paths, s, once_mode(dry_run, force), json))
        }),
        Cmd::Run {
            control,
            status_file,
        } => {
            if status_file.is_some() {
                eprintln!("{}", tr("cli.status_file_unused", &[]));
            }
            let control = control.map_or_else(
                || ddns_tray::control::Endpoint::user(&paths.data_dir),
                |p| ddns_tray::control::Endpoint::at(&p),
            );
            with_settings(&paths, |s| {
                runtime()?.block_on(cli::run::run(&paths, s, control))
            })
        }
        Cmd::Ctl {
            request,
            file,
            endpoint,
            json,
        } => {
            let request = ctl_request(request, file.as_deref())?;
            runtime()?.block_on(cli::ctl::ctl(&paths, request, endpoint.as_deref(), json))
        }
        Cmd::Service { command } => service(&paths, command),
        #[cfg(feature = "import")]
        Cmd::Import {
            file,
            from,
            secrets,
            dry_run,
            force,
        } => Ok(import(&paths, file, from, secrets, dry_run, force)),
        #[cfg(feature = "keyring")]
        Cmd::Secret {
            command: SecretCmd::Set { entry },
        } => cli::secret::set(&entry),
        #[cfg(feature = "keyring")]
        Cmd::Secret {
            command: SecretCmd::Delete { entry },
        } => cli::secret::delete(&entry),
        #[cfg(feature = "tray")]
        Cmd::Autostart { set } => {
            ddns_tray::ui::autostart::command(set.map(|s| matches!(s, OnOff::On)))
        }
    }
}

/// `once`'s mode from its flags.
fn once_mode(dry_run: bool, force: bool) -> Mode {
    if dry_run {
        Mode::DryRun
    } else if force {
        Mode::Force
    } else {
        Mode::Tick
    }
}

fn service(paths: &Paths, command: ServiceCmd) -> Result<Exit, String> {
    use ddns_tray::service::Action;
    let (action, args) = match command {
        ServiceCmd::Install {
            args,
            adopt: Some(src),
        } => return cli::service::install_adopting(&src, args.root.as_deref()),
        ServiceCmd::Uninstall {
            args,
            hand_back: Some(dest),
        } => return cli::service::uninstall_handing_back(&dest, args.root.as_deref()),
        ServiceCmd::Install { args, .. } => (Action::Install, args),
        ServiceCmd::Uninstall { args, .. } => (Action::Uninstall, args),
        ServiceCmd::Start(a) => (Action::Start, a),
        ServiceCmd::Stop(a) => (Action::Stop, a),
        ServiceCmd::Status(a) => (Action::Status, a),
        ServiceCmd::Run => return cli::service::run(paths),
    };
    cli::service::manage(action, args.user, args.root.as_deref())
}

/// `ddns-tray import`: secrets to the OS keyring by default, to environment variables in a build without
/// one (the headless build).
#[cfg(feature = "import")]
fn import(
    paths: &Paths,
    file: PathBuf,
    from: Option<FromFormat>,
    secrets: Option<SecretsTo>,
    dry_run: bool,
    force: bool,
) -> Exit {
    use ddns_tray::import::{Format, SecretMode};
    let default = if cfg!(feature = "keyring") {
        SecretsTo::Keyring
    } else {
        SecretsTo::Env
    };
    let secrets = match secrets.unwrap_or(default) {
        SecretsTo::Keyring => SecretMode::Keyring,
        SecretsTo::Env => SecretMode::Env,
    };
    let from = from.map(|f| match f {
        FromFormat::DdnsGo => Format::DdnsGo,
        FromFormat::Ddclient => Format::Ddclient,
        FromFormat::Inadyn => Format::Inadyn,
        FromFormat::DdnsUpdater => Format::DdnsUpdater,
        FromFormat::Favonia => Format::Favonia,
    });
    let opts = cli::import::Options {
        file,
        from,
        secrets,
        dry_run,
        force,
    };
    #[cfg(feature = "keyring")]
    let store: Option<&dyn ddns_tray::config::secret::SecretStore> =
        Some(&ddns_tray::config::secret::OsKeyring);
    #[cfg(not(feature = "keyring"))]
    let store: Option<&dyn ddns_tray::config::secret::SecretStore> = None;
    let (mut out, mut err) = (String::new(), String::new());
    let exit = cli::import::run(paths, &opts, store, &mut out, &mut err);
    print!("{out}");
    eprint!("{err}");
    exit
}

/// The request `ctl` sends; `set-config` reads `file` (at most the size of a config).
fn ctl_request(
    request: CtlRequest,
    file: Option<&Path>,
) -> Result<ddns_tray::control::Request, String> {
    use ddns_tray::control::Request;
    if file.is_some() && !matches!(request, CtlRequest::SetConfig) {
        return Err(tr("cli.ctl_file_only_for_set_config", &[]));
    }
    Ok(match request {
        CtlRequest::Status => Request::Status,
        CtlRequest::Update => Request::Update,
        CtlRequest::Pause => Request::Pause,
        CtlRequest::Resume => Request::Resume,
        CtlRequest::Reload => Request::Reload,
        CtlRequest::History => Request::History { limit: 20 },
        CtlRequest::Config => Request::Config,
        CtlRequest::SetConfig => {
            let file = file.ok_or_else(|| tr("cli.ctl_set_config_needs_file", &[]))?;
            let bytes =
                ddns_tray::fsutil::read_limited(file, ddns_tray::settings::MAX_CONFIG_BYTES)
                    .map_err(|e| format!("{}: {e}", file.display()))?
                    .ok_or_else(|| tr("cli.no_such_file", &[("path", &file.display())]))?;
            let text = String::from_utf8(bytes)
                .map_err(|_| tr("cli.not_utf8", &[("path", &file.display())]))?;
            Request::SetConfig { text }
        }
    })
}

/// No subcommand: the tray app (or, built without the `tray` feature, the daemon).
// The headless build's body (the daemon) can fail; the tray's reports everything through exit codes.
#[cfg_attr(feature = "tray", allow(clippy::unnecessary_wraps))]
fn tray(paths: &Paths, verbose: u8) -> Result<Exit, String> {
    let _guard = init_logging(verbose, Some(paths.log_dir()));
    #[cfg(feature = "tray")]
    {
        Ok(ddns_tray::ui::tray::start(paths))
    }
    #[cfg(not(feature = "tray"))]
    with_settings(paths, |s| {
        runtime()?.block_on(cli::run::run(
            paths,
            s,
            ddns_tray::control::Endpoint::user(&paths.data_dir),
        ))
    })
}

/// Console logs on stderr; for the daemon also a daily file in the data dir (7 kept).
fn init_logging(
    verbose: u8,
    file_dir: Option<PathBuf>,
) -> Option<tracing_appender::non_blocking::WorkerGuard> {
    use tracing_subscriber::fmt;
    use tracing_subscriber::prelude::*;
    let default = match (verbose, file_dir.is_some()) {
        (0, false) => "warn",
        (0, true) | (1, _) => "info",
        _ => "debug",
    };
    let from_env = std::env::var("RUST_LOG")
        .ok()
        .filter(|v| !v.trim().is_empty());
    let filter = || log_filter(from_env.as_deref(), default);
    let console = fmt::layer()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_target(false)
        .with_filter(filter());
    let (file, guard) = match file_dir.map(|dir| rolling_file(&dir).map_err(|e| (dir, e))) {
        Some(Ok(appender)) => {
            // The default buffer holds 128,000 lines and is allocated up front (about 4 MB resident);
            // a daemon logging a few lines a minute needs far less.
            let (writer, guard) = tracing_appender::non_blocking::NonBlockingBuilder::default()
                .buffered_lines_limit(1024)
                .finish(appender);
            (
                Some(
                    fmt::layer()
                        .with_writer(writer)
                        .with_ansi(false)
                        .with_target(false)
                        .with_filter(filter()),
                ),
                Some(guard),
            )
        }
        Some(Err((dir, e))) => {
            eprintln!(
                "{}",
                tr("cli.no_log_dir", &[("dir", &dir.display()), ("error", &e)])
            );
            (None, None)
        }
        None => (None, None),
    };
    tracing_subscriber::registry()
        .with(console)
        .with(file)
        .init();
    guard
}

/// What is logged: `RUST_LOG` when it is set and reads as a list of `target=level` and levels (`debug`,
/// `ddns_tray=trace,hickory_proto=debug`), else our own lines at `default` and other crates' warnings.
/// A `RUST_LOG` that does not read so is reported on stderr and the default is used.
fn log_filter(from_env: Option<&str>, default: &str) -> tracing_subscriber::filter::Targets {
    use tracing_subscriber::filter::{LevelFilter, Targets};
    if let Some(spec) = from_env {
        match spec.parse::<Targets>() {
            Ok(targets) => return targets,
            Err(e) => eprintln!(
                "{}",
                tr("cli.bad_rust_log", &[("value", &spec), ("error", &e)])
            ),
        }
    }
    let level = default.parse::<LevelFilter>().unwrap_or(LevelFilter::INFO);
    Targets::new()
        .with_target("ddns_tray", level)
        .with_default(LevelFilter::WARN)
}

/// A daily log file in `dir`, keeping 7, owner-only, never written through a link (see `logfile`).
fn rolling_file(dir: &std::path::Path) -> Result<ddns_tray::logfile::DailyLog, String> {
    ddns_tray::logfile::DailyLog::open(dir).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    /// `RUST_LOG` is read as `target=level` pairs; one that does not read so leaves the default in force
    /// (our lines at the default level, other crates' warnings).
    #[test]
    fn rust_log_reads_as_targets_and_a_bad_one_leaves_the_default() {
        use tracing::Level;
        let set = super::log_filter(Some("ddns_tray=trace,hickory_proto=debug"), "info");
        assert!(set.would_enable("ddns_tray::engine", &Level::TRACE));
        assert!(set.would_enable("hickory_proto::udp", &Level::DEBUG));
        assert!(!set.would_enable("reqwest::connect", &Level::WARN));
        let bad = super::log_filter(Some("ddns_tray=loud"), "info");
        assert!(bad.would_enable("ddns_tray::engine", &Level::INFO));
        assert!(!bad.would_enable("ddns_tray::engine", &Level::DEBUG));
        assert!(bad.would_enable("reqwest::connect", &Level::WARN));
        assert!(!bad.would_enable("reqwest::connect", &Level::INFO));
        let quiet = super::log_filter(None, "warn");
        assert!(!quiet.would_enable("ddns_tray::engine", &Level::INFO));
    }

    use clap::CommandFactory as _;

    /// Every command and argument a user can see has its words in both catalogues (they are not in the
    /// code: `cli::localize` puts them in), and the help reads in the language asked for.
    #[test]
    fn every_command_and_argument_has_its_help_in_both_languages() {
        fn walk(cmd: &clap::Command, out: &mut Vec<String>) {
            // clap's own `help` command mirrors the others without words of its own.
            if cmd.get_name() == "help" {
                return;
            }
            if !cmd.is_hide_set() {
                if cmd.get_about().is_none_or(|a| a.to_string().is_empty()) {
                    out.push(format!("command {}", cmd.get_name()));
                }
                for a in cmd.get_arguments().filter(|a| !a.is_hide_set()) {
                    if a.get_help().is_none() {
                        out.push(format!("{} {}", cmd.get_name(), a.get_id()));
                    }
                }
            }
            for s in cmd.get_subcommands() {
                walk(s, out);
            }
        }
        use ddns_tray::i18n::Language;
        for (locale, word) in [(Language::English, "Usage:"), (Language::Chinese, "用法:")] {
            ddns_tray::i18n::set(locale);
            let cmd = ddns_tray::cli::localize(super::Cli::command());
            let mut missing = Vec::new();
            walk(&cmd, &mut missing);
            assert!(missing.is_empty(), "{locale:?}: no help for {missing:?}");
            let help = cmd.clone().render_help().to_string();
            assert!(help.contains(word), "{locale:?}: {help}");
        }
        ddns_tray::i18n::set(Language::English);
    }
}
