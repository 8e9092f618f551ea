//! The `ddns-tray` binary: command line, logging set-up, and exit codes. No logic of its own.
//!
//! Exit codes: 0 all good, 1 something failed (an update, detection, a lock), 2 the config is invalid.

// Windows release builds are GUI programs: the tray opens no console window. Commands run from a terminal
// attach to it (see `attach_parent_console`) so their output still shows.
#![cfg_attr(all(windows, not(debug_assertions)), windows_subsystem = "windows")]

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use ddns_tray::app::{self, Paths};
use ddns_tray::config::Family;
use ddns_tray::detect::{Detection, Detector};
use ddns_tray::engine::{Command as EngineCommand, Mode, RoundReport};
use ddns_tray::i18n::tr;
use ddns_tray::settings::{LoadError, Settings};
use ddns_tray::store::{self, FileStore};
use tokio_util::sync::CancellationToken;

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
        Ok(code) => code,
        Err(e) => {
            eprintln!("{}", tr("cli.error", &[("error", &format!("{e:#}"))]));
            ExitCode::from(1)
        }
    }
}

fn real_main(cli: Cli) -> anyhow::Result<ExitCode> {
    let paths = Paths::resolve(cli.config.as_deref(), cli.data_dir.as_deref())
        .map_err(anyhow::Error::msg)?;
    let Some(command) = cli.command else {
        #[cfg(feature = "tray")]
        if cli.autostart && !ddns_tray::ui::autostart::login_start_allowed() {
            // Started by the installer's login entry, which this user turned off.
            return Ok(ExitCode::SUCCESS);
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
            Ok(ExitCode::SUCCESS)
        }
        Cmd::Check { providers: true } => {
            print!("{}", app::providers_help());
            Ok(ExitCode::SUCCESS)
        }
        Cmd::Check { providers: false } => Ok(check(&paths)),
        Cmd::Status { json } => status(&paths, json),
        Cmd::Notify {
            command: NotifyCmd::Test { name },
        } => with_settings(&paths, |s| {
            runtime()?.block_on(notify_test(&paths, &s, name.as_deref()))
        }),
        Cmd::History {
            record,
            limit,
            json,
        } => history(&paths, record.as_deref(), limit, json),
        Cmd::Detect { json } => with_settings(&paths, |s| runtime()?.block_on(detect(&s, json))),
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
            runtime()?.block_on(once(&paths, s, mode, json))
        }),
        Cmd::Run {
            control,
            status_file,
        } => {
            if status_file.is_some() {
                eprintln!(
                    "warning: --status-file is no longer used (tray apps use the control endpoint); run `ddns-tray service install` again to update the service"
                );
            }
            let control = control.map_or_else(
                || ddns_tray::control::Endpoint::user(&paths.data_dir),
                |p| ddns_tray::control::Endpoint::at(&p),
            );
            with_settings(&paths, |s| runtime()?.block_on(run(&paths, s, control)))
        }
        Cmd::Ctl {
            request,
            endpoint,
            json,
        } => runtime()?.block_on(ctl(&paths, request, endpoint, json)),
        Cmd::Service { command } => service(&paths, command),
        #[cfg(feature = "keyring")]
        Cmd::Secret { command } => secret(command),
        #[cfg(feature = "tray")]
        Cmd::Autostart { set } => autostart(set),
    }
}

#[cfg(feature = "keyring")]
fn secret(command: SecretCmd) -> anyhow::Result<ExitCode> {
    use ddns_tray::config::secret;
    match command {
        SecretCmd::Set { entry } => {
            let mut line = String::new();
            if std::io::IsTerminal::is_terminal(&std::io::stdin()) {
                eprint!("{}", tr("cli.keyring_prompt", &[("entry", &entry)]));
            }
            // One line, at most 64 KiB: a secret, not a file.
            std::io::BufRead::read_line(
                &mut std::io::Read::take(std::io::stdin().lock(), 64 * 1024),
                &mut line,
            )
            .context("cannot read the secret from standard input")?;
            let value = line.trim_end_matches(['\r', '\n']);
            if value.trim().is_empty() {
                anyhow::bail!("no secret on standard input; nothing stored");
            }
            secret::keyring_store(&entry, value)
                .map_err(|e| anyhow::anyhow!("cannot store {entry} in the keyring: {e}"))?;
            println!("{}", tr("cli.keyring_stored", &[("entry", &entry)]));
        }
        SecretCmd::Delete { entry } => {
            let removed = secret::keyring_delete(&entry)
                .map_err(|e| anyhow::anyhow!("cannot remove {entry} from the keyring: {e}"))?;
            if !removed {
                println!("{}", tr("cli.keyring_absent", &[("entry", &entry)]));
                return Ok(ExitCode::from(1));
            }
            println!("{}", tr("cli.keyring_removed", &[("entry", &entry)]));
        }
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(feature = "tray")]
fn autostart(set: Option<OnOff>) -> anyhow::Result<ExitCode> {
    use ddns_tray::ui::autostart;
    if let Some(set) = set {
        autostart::set(matches!(set, OnOff::On)).map_err(anyhow::Error::msg)?;
    }
    let state = autostart::state().map_err(anyhow::Error::msg)?;
    let how = match (state.system, state.user) {
        (true, None | Some(true)) => "installed for every user",
        (true, Some(false)) => "turned off by you; the installer's entry stays",
        (_, Some(true)) => "turned on by you",
        (false, _) => "not set up",
    };
    println!(
        "start at login: {} ({how})",
        if state.on() { "on" } else { "off" }
    );
    Ok(ExitCode::SUCCESS)
}

/// One thread runs everything: the work is waiting on the network, and a second worker measured only more
/// memory and threads (README, Footprint). Blocking work (name lookups) goes to tokio's on-demand pool.
fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
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
                "warning: cannot write logs to {}: {e}; logging to stderr only",
                dir.display()
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

/// No subcommand: the tray app (or, built without the `tray` feature, the daemon).
// The headless build's body (the daemon) can fail; the tray's reports everything through exit codes.
#[cfg_attr(feature = "tray", allow(clippy::unnecessary_wraps))]
fn tray(paths: &Paths, verbose: u8) -> anyhow::Result<ExitCode> {
    let _guard = init_logging(verbose, Some(paths.log_dir()));
    #[cfg(feature = "tray")]
    {
        // A config that cannot be loaded does not stop the tray: it shows the problems and opens the
        // settings on them.
        let loaded = paths.load_config().map(|(_, s)| s).map_err(|e| match e {
            LoadError::Invalid { issues, .. } => issues.iter().map(ToString::to_string).collect(),
            other => vec![other.to_string()],
        });
        match ddns_tray::ui::tray::run(paths, loaded) {
            Ok(()) => Ok(ExitCode::SUCCESS),
            Err(ddns_tray::ui::tray::TrayError::Config(problems)) => {
                for p in &problems {
                    eprintln!("{p}");
                }
                eprintln!(
                    "{} problem(s) in {}",
                    problems.len(),
                    paths.config.display()
                );
                Ok(ExitCode::from(2))
            }
            Err(ddns_tray::ui::tray::TrayError::Other(e)) => {
                eprintln!("error: {e}");
                Ok(ExitCode::from(1))
            }
        }
    }
    #[cfg(not(feature = "tray"))]
    with_settings(paths, |s| {
        runtime()?.block_on(run(
            paths,
            s,
            ddns_tray::control::Endpoint::user(&paths.data_dir),
        ))
    })
}

/// Loads the config; on problems prints them all and exits 2.
fn with_settings(
    paths: &Paths,
    f: impl FnOnce(Settings) -> anyhow::Result<ExitCode>,
) -> anyhow::Result<ExitCode> {
    match paths.load_config() {
        Ok((_, settings)) => f(settings),
        Err(e) => {
            print_load_error(&e);
            Ok(ExitCode::from(2))
        }
    }
}

async fn notify_test(
    paths: &Paths,
    settings: &Settings,
    name: Option<&str>,
) -> anyhow::Result<ExitCode> {
    let chosen: Vec<_> = settings
        .notify
        .iter()
        .filter(|n| name.is_none_or(|want| n.name == want))
        .cloned()
        .collect();
    if chosen.is_empty() {
        match name {
            Some(want) => {
                let names: Vec<&str> = settings.notify.iter().map(|n| n.name.as_str()).collect();
                eprintln!(
                    "error: no notifier is named `{want}`; the config has: {}",
                    if names.is_empty() {
                        "none".to_owned()
                    } else {
                        names.join(", ")
                    }
                );
            }
            None => eprintln!(
                "error: {} has no [[notify]] entries; see \"Alerts\" in the README",
                paths.config.display()
            ),
        }
        return Ok(ExitCode::from(2));
    }
    let results = ddns_tray::notify::alerts::test(&chosen, &paths.config).await;
    let mut all_ok = true;
    for (name, kind, result) in results {
        match result {
            Ok(answer) => println!(
                "{}",
                tr(
                    "cli.notify_sent",
                    &[("name", &name), ("kind", &kind), ("answer", &answer)]
                )
            ),
            Err(e) => {
                all_ok = false;
                println!(
                    "{}",
                    tr(
                        "cli.notify_failed",
                        &[("name", &name), ("kind", &kind), ("error", &e)]
                    )
                );
            }
        }
    }
    Ok(if all_ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn history(
    paths: &Paths,
    record: Option<&str>,
    limit: usize,
    json: bool,
) -> anyhow::Result<ExitCode> {
    let history = ddns_tray::history::History::in_dir(&paths.data_dir);
    let entries = match history.read() {
        Ok(e) => e,
        Err(e) => {
            eprintln!(
                "error: cannot read the history in {}: {e}",
                paths.data_dir.display()
            );
            return Ok(ExitCode::from(1));
        }
    };
    let wanted = |r: &str| {
        record.is_none_or(|want| {
            let want = want.trim_end_matches('.').to_ascii_lowercase();
            r == want || r.split(' ').next() == Some(want.as_str())
        })
    };
    let selected: Vec<_> = entries
        .into_iter()
        .filter(|e| match (&e.record, record) {
            (_, None) => true,
            (Some(r), Some(_)) => wanted(r),
            (None, Some(_)) => false,
        })
        .collect();
    let shown = &selected[selected.len().saturating_sub(limit)..];
    if json {
        println!("{}", serde_json::to_string_pretty(shown)?);
    } else if shown.is_empty() {
        println!("{}", tr("cli.history_empty", &[]));
    } else {
        for e in shown {
            println!("{}", e.line());
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn print_load_error(e: &LoadError) {
    match e {
        LoadError::Invalid { path, issues } => {
            for issue in issues {
                eprintln!("{issue}");
            }
            eprintln!(
                "{}",
                tr(
                    "cli.problems",
                    &[("n", &issues.len()), ("path", &path.display())]
                )
            );
        }
        LoadError::Io { .. } | LoadError::Missing { .. } | LoadError::Gone { .. } => {
            eprintln!("{}", tr("cli.error", &[("error", &e)]));
        }
    }
}

fn check(paths: &Paths) -> ExitCode {
    match paths.load_config() {
        Ok((_, settings)) => {
            if paths.config.exists() {
                println!(
                    "{}",
                    tr("cli.check_ok", &[("path", &paths.config.display())])
                );
                if let Some(warning) = app::config_exposure(&paths.config, &settings) {
                    println!("{}", tr("cli.warning", &[("warning", &warning)]));
                }
            } else {
                println!(
                    "{}",
                    tr("cli.check_missing", &[("path", &paths.config.display())])
                );
            }
            print!("{}", app::summary(&settings));
            ExitCode::SUCCESS
        }
        Err(LoadError::Invalid { path, issues }) => {
            for issue in &issues {
                println!("{issue}");
            }
            println!(
                "{}",
                tr(
                    "cli.problems",
                    &[("n", &issues.len()), ("path", &path.display())]
                )
            );
            ExitCode::from(2)
        }
        Err(e) => {
            println!("{}", tr("cli.error", &[("error", &e)]));
            ExitCode::from(2)
        }
    }
}

async fn detect(settings: &Settings, json: bool) -> anyhow::Result<ExitCode> {
    let detector = Detector::from_settings(&settings.detect);
    let mut all_ok = true;
    let mut out = serde_json::Map::new();
    for family in Family::ALL
        .into_iter()
        .filter(|f| settings.family_enabled(*f))
    {
        let (reports, conclusion) = detector.report(family).await;
        all_ok &= matches!(conclusion, Detection::Known(_));
        if json {
            let (ip, error) = match &conclusion {
                Detection::Known(ip) => (Some(ip.to_string()), None),
                Detection::Unavailable(e) => (None, Some(e.clone())),
            };
            out.insert(
                family_key(family).into(),
                serde_json::json!({ "ip": ip, "error": error, "sources": reports }),
            );
        } else {
            println!(
                "{}",
                tr(
                    "cli.detect_family",
                    &[("family", &family), ("policy", &settings.detect.policy)]
                )
            );
            for r in &reports {
                let answer = r.ip.map_or_else(
                    || format!("error: {}", r.error.as_deref().unwrap_or("")),
                    |ip| ip.to_string(),
                );
                println!("  {:<48} {answer}  ({} ms)", r.source, r.latency_ms);
            }
            match conclusion {
                // Who gave it: under `confirm` and `agree`, the operators that agreed.
                Detection::Known(ip)
                    if settings.detect.policy != ddns_tray::detect::Policy::First =>
                {
                    // Each operator once, in the sources' order.
                    let mut operators: Vec<&str> = Vec::new();
                    for r in reports.iter().filter(|r| r.ip == Some(ip)) {
                        if !operators.contains(&r.operator.as_str()) {
                            operators.push(&r.operator);
                        }
                    }
                    let list = operators.join(&ddns_tray::i18n::tr("alerts.separator", &[]));
                    println!(
                        "  => {}",
                        tr("cli.detect_confirmed", &[("ip", &ip), ("operators", &list)])
                    );
                }
                Detection::Known(ip) => println!("  => {ip}"),
                Detection::Unavailable(e) => {
                    println!("  => {}", tr("cli.detect_unknown", &[("error", &e)]));
                }
            }
        }
    }
    if json {
        println!("{}", serde_json::to_string_pretty(&out)?);
    }
    Ok(if all_ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn family_key(family: Family) -> &'static str {
    match family {
        Family::V4 => "ipv4",
        Family::V6 => "ipv6",
    }
}

async fn once(
    paths: &Paths,
    settings: Settings,
    mode: Mode,
    json: bool,
) -> anyhow::Result<ExitCode> {
    let store: Box<dyn store::StateStore> = if mode == Mode::DryRun {
        // A dry run reads the state but never takes the lock or writes.
        let state = store::read(&paths.state_file()).ok().flatten();
        let memory = store::MemoryStore::default();
        if let Ok(mut s) = memory.state.lock() {
            *s = state;
        }
        Box::new(memory)
    } else {
        match FileStore::open(&paths.state_file()) {
            Ok(s) => Box::new(s),
            Err(e) => {
                eprintln!("error: {e}");
                return Ok(ExitCode::from(1));
            }
        }
    };
    let mut engine = match app::engine(paths, settings, store, mode != Mode::DryRun) {
        Ok(e) => e,
        Err(e) => {
            eprintln!("error: {e}");
            return Ok(ExitCode::from(1));
        }
    };
    let log = tokio::spawn(ddns_tray::notify::log_events(engine.subscribe()));
    // A dry run changes nothing and tells nobody.
    let alerts = (mode != Mode::DryRun).then(|| {
        let status = engine.handle().0.status;
        (
            tokio::spawn(ddns_tray::notify::alerts::run(
                engine.subscribe(),
                status,
                engine.settings(),
            )),
            tokio::spawn(
                ddns_tray::history::History::in_dir(&paths.data_dir).record(engine.subscribe()),
            ),
        )
    });
    let report = engine.round(mode).await;
    drop(engine);
    let _ = log.await;
    if let Some((alerts, history)) = alerts {
        let _ = history.await;
        // Alerts of this run go out before it exits (each delivery is limited to 45 s).
        let _ = tokio::time::timeout(std::time::Duration::from_secs(50), alerts).await;
    }
    print_report(&report, json)?;
    if let Some(e) = &report.state_error {
        eprintln!(
            "error: the state could not be saved ({e}); the next run would publish again what this one did"
        );
    }
    Ok(if report.all_ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn print_report(report: &RoundReport, json: bool) -> anyhow::Result<()> {
    let mut stdout = std::io::stdout().lock();
    if json {
        writeln!(stdout, "{}", serde_json::to_string_pretty(report)?)?;
        return Ok(());
    }
    if report.records.is_empty() {
        for (family, d) in &report.detection {
            match (&d.ip, &d.error) {
                (Some(ip), _) => writeln!(stdout, "{family} {ip} (no records configured)")?,
                (None, e) => writeln!(stdout, "{family} unknown: {}", e.as_deref().unwrap_or(""))?,
            }
        }
    }
    for r in &report.records {
        let ip = r.ip.map_or_else(|| "-".to_owned(), |ip| ip.to_string());
        // The provider is named only when the same name and type go to several providers.
        let shared = report
            .records
            .iter()
            .filter(|o| o.name == r.name && o.record_type == r.record_type)
            .count()
            > 1;
        let via = if shared {
            format!(" (via {})", r.provider)
        } else {
            String::new()
        };
        writeln!(
            stdout,
            "{} {} {ip} {}{via}",
            r.name, r.record_type, r.outcome
        )?;
    }
    Ok(())
}

async fn run(
    paths: &Paths,
    settings: Settings,
    control: ddns_tray::control::Endpoint,
) -> anyhow::Result<ExitCode> {
    let shutdown = CancellationToken::new();
    let stop = shutdown.clone();
    let reload_paths = paths.clone();
    let result = app::daemon(paths, settings, shutdown, Some(control), move |commands| {
        tokio::spawn(async move {
            wait_for_signals(&reload_paths, &commands).await;
            tracing::info!("stopping");
            stop.cancel();
        });
    })
    .await;
    match result {
        Ok(()) => Ok(ExitCode::SUCCESS),
        Err(e) => {
            eprintln!("error: {e}");
            Ok(ExitCode::from(1))
        }
    }
}

/// Windows' canonical paths are verbatim (`\\?\C:\…`): the service manager and the user see the plain
/// form (`C:\…`) when it means the same.
fn plain_path(path: PathBuf) -> PathBuf {
    let text = path.to_string_lossy();
    match text.strip_prefix(r"\\?\") {
        Some(rest) if rest.as_bytes().get(1) == Some(&b':') => PathBuf::from(rest),
        _ => path,
    }
}

/// `ddns-tray ctl`: one request to a running daemon.
async fn ctl(
    paths: &Paths,
    request: CtlRequest,
    endpoint: Option<PathBuf>,
    json: bool,
) -> anyhow::Result<ExitCode> {
    use ddns_tray::control::{Client, Endpoint, Reply, Request};
    let request = match request {
        CtlRequest::Status => Request::Status,
        CtlRequest::Update => Request::Update,
        CtlRequest::Pause => Request::Pause,
        CtlRequest::Resume => Request::Resume,
        CtlRequest::Reload => Request::Reload,
    };
    let endpoint = match endpoint {
        Some(p) => Endpoint::at(&p),
        None => match ddns_tray::control::find(&paths.data_dir).await {
            Ok(Some((e, _))) => e,
            Ok(None) => {
                eprintln!(
                    "error: no ddns-tray daemon is running (neither the system service at {} nor one for {})",
                    Endpoint::system(),
                    paths.data_dir.display()
                );
                return Ok(ExitCode::from(1));
            }
            Err(e) => {
                eprintln!("error: {e}");
                return Ok(ExitCode::from(1));
            }
        },
    };
    match Client::ask(&endpoint, request).await {
        Ok(Reply::Ok(m)) => println!("{m}"),
        Ok(Reply::Status(s)) => {
            if json {
                println!("{}", serde_json::to_string_pretty(&s)?);
            } else {
                print!(
                    "{}",
                    ddns_tray::notify::status::status_text(&s, std::time::SystemTime::now())
                );
            }
        }
        Ok(Reply::Error(e)) => {
            eprintln!("error: {e}");
            return Ok(ExitCode::from(1));
        }
        Err(e) => {
            eprintln!("error: {e}");
            return Ok(ExitCode::from(1));
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn service(paths: &Paths, command: ServiceCmd) -> anyhow::Result<ExitCode> {
    use ddns_tray::service::{self, Action, Scope};
    let (action, args) = match command {
        ServiceCmd::Install(a) => (Action::Install, a),
        ServiceCmd::Uninstall(a) => (Action::Uninstall, a),
        ServiceCmd::Start(a) => (Action::Start, a),
        ServiceCmd::Stop(a) => (Action::Stop, a),
        ServiceCmd::Status(a) => (Action::Status, a),
        ServiceCmd::Run => return service_run(paths),
    };
    let scope = if args.user {
        Scope::User
    } else {
        Scope::System
    };
    let exe = std::env::current_exe().context("cannot find this program's path")?;
    let exe = plain_path(exe.canonicalize().unwrap_or(exe));
    match service::manage(action, scope, &exe, args.root.as_deref()) {
        Ok(report) => {
            print!("{report}");
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            eprintln!("error: {e}");
            Ok(ExitCode::from(1))
        }
    }
}

/// The Windows service's process: hands over to the Service Control Manager at once (it waits only 30 s for
/// that), then loads the settings. A config that cannot be loaded does not stop the service: it waits for a
/// valid one (`ddns-tray ctl reload`), showing the problems to `ctl status` and the tray.
#[cfg(windows)]
fn service_run(paths: &Paths) -> anyhow::Result<ExitCode> {
    let (data_dir, config) = (paths.data_dir.clone(), paths.config.clone());
    let paths = paths.clone();
    let daemon = Box::new(move |token: CancellationToken| {
        let runtime = runtime().map_err(|e| e.to_string())?;
        runtime.block_on(async {
            let endpoint = ddns_tray::control::Endpoint::system();
            let settings = match paths.load_config() {
                Ok((_, s)) => s,
                Err(e) => {
                    let problems = match e {
                        LoadError::Invalid { issues, .. } => {
                            issues.iter().map(ToString::to_string).collect()
                        }
                        other => vec![other.to_string()],
                    };
                    ddns_tray::platform::windows::event_log_error(&format!(
                        "ddns-tray service: the config {} cannot be used ({}); waiting for a valid one (then run `ddns-tray ctl reload`)",
                        paths.config.display(),
                        problems.join("; ")
                    ));
                    match app::await_config(&paths, problems, token.clone(), &endpoint).await {
                        Some(s) => s,
                        None => return Ok(()),
                    }
                }
            };
            app::daemon(&paths, settings, token, Some(endpoint), |_| {}).await
        })
    });
    ddns_tray::service::windows::run_dispatcher(daemon, &data_dir, &config)?;
    Ok(ExitCode::SUCCESS)
}

#[cfg(not(windows))]
#[allow(clippy::unnecessary_wraps)] // the same signature as the Windows version
fn service_run(_paths: &Paths) -> anyhow::Result<ExitCode> {
    eprintln!(
        "`service run` is started by the Windows service manager; here use `ddns-tray run` or `ddns-tray service install`"
    );
    Ok(ExitCode::from(2))
}

/// Returns on SIGINT/SIGTERM (Ctrl-C on Windows); SIGHUP re-reads the config and reloads the engine.
async fn wait_for_signals(paths: &Paths, commands: &tokio::sync::mpsc::Sender<EngineCommand>) {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let (Ok(mut term), Ok(mut hup)) = (
            signal(SignalKind::terminate()),
            signal(SignalKind::hangup()),
        ) else {
            let _ = tokio::signal::ctrl_c().await;
            return;
        };
        loop {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => return,
                _ = term.recv() => return,
                _ = hup.recv() => match paths.reload_config() {
                    Ok((_, settings)) => {
                        tracing::info!("SIGHUP: reloading {}", paths.config.display());
                        let _ = commands.send(EngineCommand::Reload(Box::new(settings))).await;
                    }
                    Err(e) => {
                        tracing::error!("SIGHUP: keeping the current settings: {e}");
                        if let LoadError::Invalid { issues, .. } = e {
                            for issue in issues {
                                tracing::error!("{issue}");
                            }
                        }
                    }
                },
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = (paths, commands);
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// The live status of a daemon using this data dir's state, if one runs.
fn live_status(paths: &Paths) -> Option<ddns_tray::engine::Status> {
    use ddns_tray::control::{Client, Endpoint, Reply, Request};
    let endpoint = Endpoint::user(&paths.data_dir);
    let asked = runtime().ok()?.block_on(async {
        tokio::time::timeout(
            std::time::Duration::from_secs(3),
            Client::ask(&endpoint, Request::Status),
        )
        .await
    });
    match asked {
        Ok(Ok(Reply::Status(s))) => Some(*s),
        _ => None,
    }
}

fn status(paths: &Paths, json: bool) -> anyhow::Result<ExitCode> {
    let live = live_status(paths);
    let daemon_line = live.as_ref().map_or_else(
        || tr("cli.daemon_not_running", &[]),
        |s| {
            tr(
                "cli.daemon_running",
                &[(
                    "network",
                    &ddns_tray::notify::status::network_events(&s.network_events),
                )],
            )
        },
    );
    let daemon_json = serde_json::json!({
        "running": live.is_some(),
        "network_events": live.as_ref().map(|s| s.network_events.clone()),
    });
    let state = match store::read(&paths.state_file()) {
        Ok(Some(s)) => s,
        Ok(None) => {
            if json {
                println!(
                    "{}",
                    serde_json::json!({ "state_file": paths.state_file(), "daemon": daemon_json, "last_ip": {}, "records": [] })
                );
            } else {
                println!(
                    "{}",
                    tr("cli.no_state", &[("path", &paths.state_file().display())])
                );
                println!("{daemon_line}");
            }
            return Ok(ExitCode::SUCCESS);
        }
        Err(e) => {
            eprintln!("error: {e}");
            return Ok(ExitCode::from(1));
        }
    };
    let records: Vec<serde_json::Value> = state
        .records
        .values()
        .map(|r| {
            serde_json::json!({
                "name": r.name,
                "type": r.record_type,
                "provider": r.provider,
                "published": r.published,
                "published_at": r.published_at.map(|t| humantime::format_rfc3339_seconds(t).to_string()),
                "record_id": r.record_id,
                "failures": r.failures,
                "last_error": r.last_error,
                "next_attempt": r.next_attempt.map(|t| humantime::format_rfc3339_seconds(t).to_string()),
                "stopped": r.stopped,
            })
        })
        .collect();
    if json {
        let last_ip: serde_json::Map<String, serde_json::Value> = state
            .last_ip
            .iter()
            .map(|(f, ip)| (family_key(*f).to_owned(), serde_json::json!(ip)))
            .collect();
        println!(
            "{}",
            serde_json::to_string_pretty(
                &serde_json::json!({ "state_file": paths.state_file(), "daemon": daemon_json, "last_ip": last_ip, "records": records })
            )?
        );
        return Ok(ExitCode::SUCCESS);
    }
    println!("{daemon_line}");
    for (family, ip) in &state.last_ip {
        println!("{family}: {ip}");
    }
    for r in state.records.values() {
        print_record(r);
    }
    Ok(ExitCode::SUCCESS)
}

/// One record of the state for `ddns-tray status`.
fn print_record(r: &store::RecordState) {
    let kind = r.record_type.map_or("?", |t| t.as_str());
    let published = match (r.published, r.published_at) {
        (Some(ip), Some(at)) => tr(
            "cli.published_since",
            &[("ip", &ip), ("at", &humantime::format_rfc3339_seconds(at))],
        ),
        (Some(ip), None) => ip.to_string(),
        _ => tr("cli.not_published", &[]),
    };
    println!(
        "{}",
        tr(
            "cli.record_at",
            &[
                ("name", &r.name),
                ("type", &kind),
                ("provider", &r.provider),
                ("published", &published)
            ]
        )
    );
    if let Some(e) = &r.last_error {
        let next = if r.stopped {
            tr("cli.stopped_until_change", &[])
        } else {
            r.next_attempt.map_or_else(String::new, |t| {
                tr(
                    "cli.next_attempt",
                    &[("at", &humantime::format_rfc3339_seconds(t))],
                )
            })
        };
        println!(
            "  {}",
            tr(
                "cli.last_error",
                &[("n", &r.failures), ("error", &e), ("next", &next)]
            )
        );
    }
}
