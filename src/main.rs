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
use ddns_tray::config::{self, Family, LoadError, Settings};
use ddns_tray::detect::{Detection, Detector};
use ddns_tray::engine::{Command as EngineCommand, Mode, RoundReport};
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
    #[command(subcommand)]
    command: Option<Cmd>,
}

#[derive(Subcommand)]
enum Cmd {
    /// Run the headless daemon in the foreground (stop with Ctrl-C / SIGTERM; SIGHUP reloads the config).
    Run {
        /// Publish the status here for tray apps (the system service uses /run/ddns-tray/status.json).
        #[arg(long, value_name = "PATH")]
        status_file: Option<PathBuf>,
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
    /// Config file commands.
    Config {
        #[command(subcommand)]
        command: ConfigCmd,
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
    let cli = Cli::parse();
    match real_main(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(1)
        }
    }
}

fn real_main(cli: Cli) -> anyhow::Result<ExitCode> {
    let paths = Paths::resolve(cli.config.as_deref(), cli.data_dir.as_deref())
        .map_err(anyhow::Error::msg)?;
    let Some(command) = cli.command else {
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
        Cmd::Run { status_file } => {
            with_settings(&paths, |s| runtime()?.block_on(run(&paths, s, status_file)))
        }
        Cmd::Service { command } => service(&paths, command),
    }
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
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

/// A daily log file in `dir`, keeping 7.
fn rolling_file(
    dir: &std::path::Path,
) -> Result<tracing_appender::rolling::RollingFileAppender, String> {
    std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    tracing_appender::rolling::Builder::new()
        .rotation(tracing_appender::rolling::Rotation::DAILY)
        .filename_prefix("ddns-tray")
        .filename_suffix("log")
        .max_log_files(7)
        .build(dir)
        .map_err(|e| e.to_string())
}

/// No subcommand: the tray app (or, built without the `tray` feature, the daemon).
fn tray(paths: &Paths, verbose: u8) -> anyhow::Result<ExitCode> {
    let _guard = init_logging(verbose, Some(paths.log_dir()));
    #[cfg(feature = "tray")]
    {
        with_settings(paths, |settings| {
            match ddns_tray::ui::tray::run(paths, settings) {
                Ok(()) => Ok(ExitCode::SUCCESS),
                Err(e) => {
                    eprintln!("error: {e}");
                    Ok(ExitCode::from(1))
                }
            }
        })
    }
    #[cfg(not(feature = "tray"))]
    with_settings(paths, |s| runtime()?.block_on(run(paths, s, None)))
}

/// Loads the config; on problems prints them all and exits 2.
fn with_settings(
    paths: &Paths,
    f: impl FnOnce(Settings) -> anyhow::Result<ExitCode>,
) -> anyhow::Result<ExitCode> {
    match config::load(&paths.config) {
        Ok((_, settings)) => f(settings),
        Err(e) => {
            print_load_error(&e);
            Ok(ExitCode::from(2))
        }
    }
}

fn print_load_error(e: &LoadError) {
    match e {
        LoadError::Invalid { path, issues } => {
            for issue in issues {
                eprintln!("{issue}");
            }
            eprintln!("{} problem(s) in {}", issues.len(), path.display());
        }
        LoadError::Io { .. } => eprintln!("error: {e}"),
    }
}

fn check(paths: &Paths) -> ExitCode {
    match config::load(&paths.config) {
        Ok((_, settings)) => {
            if paths.config.exists() {
                println!("{}: OK", paths.config.display());
            } else {
                println!(
                    "{}: no such file; the defaults apply",
                    paths.config.display()
                );
            }
            print!("{}", app::summary(&settings));
            ExitCode::SUCCESS
        }
        Err(LoadError::Invalid { path, issues }) => {
            for issue in &issues {
                println!("{issue}");
            }
            println!("{} problem(s) in {}", issues.len(), path.display());
            ExitCode::from(2)
        }
        Err(e) => {
            println!("error: {e}");
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
        let reports = detector.probe(family).await;
        let conclusion = detector.conclude(family, &reports);
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
            println!("{family} (policy {}):", settings.detect.policy);
            for r in &reports {
                let answer = r.ip.map_or_else(
                    || format!("error: {}", r.error.as_deref().unwrap_or("")),
                    |ip| ip.to_string(),
                );
                println!("  {:<48} {answer}  ({} ms)", r.source, r.latency_ms);
            }
            match conclusion {
                Detection::Known(ip) => println!("  => {ip}"),
                Detection::Unavailable(e) => println!("  => unknown: {e}"),
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
    let mut engine = app::engine(settings, store);
    let log = tokio::spawn(ddns_tray::notify::log_events(engine.subscribe()));
    let report = engine.round(mode).await;
    drop(engine);
    let _ = log.await;
    print_report(&report, json)?;
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
    status_file: Option<PathBuf>,
) -> anyhow::Result<ExitCode> {
    let shutdown = CancellationToken::new();
    let stop = shutdown.clone();
    let reload_paths = paths.clone();
    let result = app::daemon(paths, settings, shutdown, status_file, move |commands| {
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
    let exe = exe.canonicalize().unwrap_or(exe);
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

/// The Windows service's process: load the settings and hand over to the Service Control Manager.
#[cfg(windows)]
fn service_run(paths: &Paths) -> anyhow::Result<ExitCode> {
    with_settings(paths, |settings| {
        let paths = paths.clone();
        let daemon = Box::new(move |token| {
            let runtime = runtime().map_err(|e| e.to_string())?;
            runtime.block_on(app::daemon(&paths, settings.clone(), token, None, |_| {}))
        });
        ddns_tray::service::windows::run_dispatcher(daemon)?;
        Ok(ExitCode::SUCCESS)
    })
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
                _ = hup.recv() => match config::load(&paths.config) {
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

fn status(paths: &Paths, json: bool) -> anyhow::Result<ExitCode> {
    let state = match store::read(&paths.state_file()) {
        Ok(Some(s)) => s,
        Ok(None) => {
            if json {
                println!(
                    "{}",
                    serde_json::json!({ "state_file": paths.state_file(), "last_ip": {}, "records": [] })
                );
            } else {
                println!(
                    "no state yet at {} (nothing was published)",
                    paths.state_file().display()
                );
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
                &serde_json::json!({ "state_file": paths.state_file(), "last_ip": last_ip, "records": records })
            )?
        );
        return Ok(ExitCode::SUCCESS);
    }
    for (family, ip) in &state.last_ip {
        println!("{family}: {ip}");
    }
    for r in state.records.values() {
        let kind = r.record_type.map_or("?", |t| t.as_str());
        let published = match (r.published, r.published_at) {
            (Some(ip), Some(at)) => format!("{ip} since {}", humantime::format_rfc3339_seconds(at)),
            (Some(ip), None) => ip.to_string(),
            _ => "not published".to_owned(),
        };
        println!("{} {kind} at {}: {published}", r.name, r.provider);
        if let Some(e) = &r.last_error {
            let next = if r.stopped {
                "stopped until the config changes".to_owned()
            } else {
                r.next_attempt.map_or_else(String::new, |t| {
                    format!("next attempt {}", humantime::format_rfc3339_seconds(t))
                })
            };
            println!("  last error ({} in a row): {e}; {next}", r.failures);
        }
    }
    Ok(ExitCode::SUCCESS)
}
