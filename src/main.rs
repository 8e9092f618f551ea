//! The `ddns-tray` binary: the command line (clap), logging set-up, dispatch to the commands in
//! [`ddns_tray::cli`], and exit codes (0 all good, 1 something failed, 2 the config is invalid). The
//! commands' work and their output live in the library, where the tests reach them.

// Windows release builds are GUI programs: the tray opens no console window. Commands run from a terminal
// attach to it (see `attach_parent_console`) so their output still shows.
#![cfg_attr(all(windows, not(debug_assertions)), windows_subsystem = "windows")]

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use ddns_tray::app::Paths;
use ddns_tray::cli::{self, Exit, runtime, with_settings};
use ddns_tray::engine::Mode;
use ddns_tray::i18n::tr;

#[derive(Parser)]
#[command(
    name = "ddns-tray",
    version,
    about = "Keeps your DNS records pointing at this machine's public IP"
)]
struct Cli {
    /// Config file (default: the OS config dir, or $`DDNS_TRAY_CONFIG`).
    #[arg(long, global = true, value_name = "PATH")]
    config: Option<PathBuf>,
    /// Directory for state and logs (default: the OS data dir, or $`DDNS_TRAY_DATA_DIR`).
    #[arg(long, global = true, value_name = "PATH")]
    data_dir: Option<PathBuf>,
    /// More log output (-v info, -vv debug); `RUST_LOG` overrides.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    verbose: u8,
    /// How login entries start the tray: ends at once when the user turned "Start at login" off.
    #[arg(long, hide = true)]
    autostart: bool,
    #[command(subcommand)]
    command: Option<Cmd>,
}

#[derive(Subcommand)]
enum Cmd {
    /// Run the headless daemon in the foreground (stop with Ctrl-C / SIGTERM; SIGHUP reloads the config).
    Run {
        /// Where tray apps and `ctl` reach this daemon (default: control.sock in the data dir, owner only;
        /// the system service uses /run/ddns-tray/control.sock, group ddns-tray).
        #[arg(long, value_name = "PATH")]
        control: Option<PathBuf>,
        /// No longer used (tray apps use the control endpoint); accepted so older service units still start.
        #[arg(long, value_name = "PATH", hide = true)]
        status_file: Option<PathBuf>,
    },
    /// Drive the running system service (or this user's `run` daemon): show its status, update, pause,
    /// resume, reload its config.
    Ctl {
        #[arg(value_enum)]
        request: CtlRequest,
        /// The daemon's control endpoint (default: the system service, else this user's daemon).
        #[arg(long, value_name = "PATH")]
        endpoint: Option<PathBuf>,
        #[arg(long)]
        json: bool,
    },
    /// Run one update round and print one line per record.
    Once {
        /// Show what would be updated; change nothing.
        #[arg(long)]
        dry_run: bool,
        /// Publish even unchanged records and retry stopped ones.
        #[arg(long, conflicts_with = "dry_run")]
        force: bool,
        #[arg(long)]
        json: bool,
    },
    /// Ask every configured IP source and show its answer and latency.
    Detect {
        #[arg(long)]
        json: bool,
    },
    /// Validate the config file and list every problem.
    Check {
        /// List the provider kinds and their fields instead.
        #[arg(long)]
        providers: bool,
    },
    /// Show the persisted state of each record.
    Status {
        #[arg(long)]
        json: bool,
    },
    /// Alerts: `notify test [NAME]` sends a test message through every notifier (or the one named) and
    /// prints what each service answered.
    Notify {
        #[command(subcommand)]
        command: NotifyCmd,
    },
    /// Show what happened: address changes, updates, failures and recoveries, oldest first.
    History {
        /// Only the entries of this record (its name, with or without the type).
        #[arg(long, value_name = "NAME")]
        record: Option<String>,
        /// Show at most this many (the newest).
        #[arg(long, default_value_t = 50)]
        limit: usize,
        #[arg(long)]
        json: bool,
    },
    /// Config file commands.
    Config {
        #[command(subcommand)]
        command: ConfigCmd,
    },
    /// Store secrets in the OS keyring, for `{ keyring = "ENTRY" }` in the config.
    #[cfg(feature = "keyring")]
    Secret {
        #[command(subcommand)]
        command: SecretCmd,
    },
    /// Start the tray at login: `on`, `off`, or (no argument) show where it stands.
    #[cfg(feature = "tray")]
    Autostart {
        #[arg(value_enum)]
        set: Option<OnOff>,
    },
    /// Run ddns-tray as a service: systemd (Linux), launchd (macOS), the Service Control Manager (Windows).
    Service {
        #[command(subcommand)]
        command: ServiceCmd,
    },
}

#[derive(Subcommand)]
enum ServiceCmd {
    /// Install the service, enable it at boot (or login with --user) and start it.
    Install(ServiceArgs),
    /// Stop and remove the service.
    Uninstall(ServiceArgs),
    /// Start the installed service.
    Start(ServiceArgs),
    /// Stop the running service.
    Stop(ServiceArgs),
    /// Show whether the service is installed and running.
    Status(ServiceArgs),
    /// What the Windows Service Control Manager starts; not for use by hand.
    #[command(hide = true)]
    Run,
}

#[derive(clap::Args)]
struct ServiceArgs {
    /// The current user's service (starts at login) instead of the system's (starts at boot).
    #[arg(long)]
    user: bool,
    /// Write the files under DIR instead of / and only report the service-manager commands.
    #[arg(long, value_name = "DIR", env = "DDNS_TRAY_SERVICE_ROOT")]
    root: Option<PathBuf>,
}

#[cfg(feature = "keyring")]
#[derive(Subcommand)]
enum SecretCmd {
    /// Store the secret read from standard input (one line) under ENTRY, replacing any stored one.
    Set { entry: String },
    /// Remove ENTRY from the keyring.
    Delete { entry: String },
}

#[cfg(feature = "tray")]
#[derive(Clone, Copy, clap::ValueEnum)]
enum OnOff {
    On,
    Off,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum CtlRequest {
    Status,
    Update,
    Pause,
    Resume,
    Reload,
}

#[derive(Subcommand)]
enum NotifyCmd {
    /// Send a test message through every `[[notify]]` entry, or the one named.
    Test { name: Option<String> },
}

#[derive(Subcommand)]
enum ConfigCmd {
    /// Print the config file's path.
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
    #[cfg(all(windows, not(debug_assertions)))]
    attach_parent_console();
    // The OS's language until the config names one (`language`).
    ddns_tray::i18n::set(ddns_tray::i18n::Language::Auto);
    let cli = Cli::parse();
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
        Cmd::Check { providers: true } => Ok(cli::check::providers()),
        Cmd::Check { providers: false } => Ok(cli::check::check(&paths)),
        Cmd::Status { json } => cli::status::status(&paths, json),
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
            let mode = if dry_run {
                Mode::DryRun
            } else if force {
                Mode::Force
            } else {
                Mode::Tick
            };
            runtime()?.block_on(cli::once::once(&paths, s, mode, json))
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
            endpoint,
            json,
        } => {
            use ddns_tray::control::Request;
            let request = match request {
                CtlRequest::Status => Request::Status,
                CtlRequest::Update => Request::Update,
                CtlRequest::Pause => Request::Pause,
                CtlRequest::Resume => Request::Resume,
                CtlRequest::Reload => Request::Reload,
            };
            runtime()?.block_on(cli::ctl::ctl(&paths, request, endpoint.as_deref(), json))
        }
        Cmd::Service { command } => {
            use ddns_tray::service::Action;
            let (action, args) = match command {
                ServiceCmd::Install(a) => (Action::Install, a),
                ServiceCmd::Uninstall(a) => (Action::Uninstall, a),
                ServiceCmd::Start(a) => (Action::Start, a),
                ServiceCmd::Stop(a) => (Action::Stop, a),
                ServiceCmd::Status(a) => (Action::Status, a),
                ServiceCmd::Run => return cli::service::run(&paths),
            };
            cli::service::manage(action, args.user, args.root.as_deref())
        }
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
    use tracing_subscriber::prelude::*;
    use tracing_subscriber::{EnvFilter, fmt};
    let default = match (verbose, file_dir.is_some()) {
        (0, false) => "warn",
        (0, true) | (1, _) => "info",
        _ => "debug",
    };
    let filter = || {
        EnvFilter::try_from_default_env()
            .unwrap_or_else(|_| EnvFilter::new(format!("ddns_tray={default},warn")))
    };
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

/// A daily log file in `dir`, keeping 7, owner-only, never written through a link (see `logfile`).
fn rolling_file(dir: &std::path::Path) -> Result<ddns_tray::logfile::DailyLog, String> {
    ddns_tray::logfile::DailyLog::open(dir).map_err(|e| e.to_string())
}
