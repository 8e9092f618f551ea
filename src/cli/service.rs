//! `ddns-tray service`: installing and driving the OS service, and (on Windows) the service's own process.

use std::path::{Path, PathBuf};

use super::Exit;
use crate::app::Paths;
use crate::i18n::tr;
use crate::service::{self, Action, Scope};

/// `ddns-tray service install|uninstall|start|stop|status [--user] [--root DIR]`.
pub fn manage(action: Action, user: bool, root: Option<&Path>) -> Result<Exit, String> {
    let scope = if user { Scope::User } else { Scope::System };
    let exe = this_program()?;
    let report = service::manage(action, scope, &exe, root).map_err(|e| e.to_string())?;
    print!("{report}");
    Ok(Exit::Ok)
}

/// This program's path, as the service manager should run it.
pub fn this_program() -> Result<PathBuf, String> {
    let exe =
        std::env::current_exe().map_err(|e| format!("cannot find this program's path: {e}"))?;
    Ok(plain_path(exe.canonicalize().unwrap_or(exe)))
}

/// Windows' canonical paths are verbatim (`\\?\C:\…`): the service manager and the user see the plain
/// form (`C:\…`) when it means the same.
#[must_use]
pub fn plain_path(path: PathBuf) -> PathBuf {
    let text = path.to_string_lossy();
    match text.strip_prefix(r"\\?\") {
        Some(rest) if rest.as_bytes().get(1) == Some(&b':') => PathBuf::from(rest),
        _ => path,
    }
}

/// The Windows service's process: hands over to the Service Control Manager at once (it waits only 30 s for
/// that), then loads the settings. A config that cannot be loaded does not stop the service: it waits for a
/// valid one (`ddns-tray ctl reload`), showing the problems to `ctl status` and the tray.
#[cfg(windows)]
pub fn run(paths: &Paths) -> Result<Exit, String> {
    use crate::app;
    use crate::settings::LoadError;
    use tokio_util::sync::CancellationToken;
    let (data_dir, config) = (paths.data_dir.clone(), paths.config.clone());
    let paths = paths.clone();
    let daemon = Box::new(move |token: CancellationToken| {
        let runtime = super::runtime()?;
        runtime.block_on(async {
            let endpoint = crate::control::Endpoint::system();
            let settings = match paths.load_config() {
                Ok((_, s)) => s,
                Err(e) => {
                    let problems = match e {
                        LoadError::Invalid { issues, .. } => {
                            issues.iter().map(ToString::to_string).collect()
                        }
                        other => vec![other.to_string()],
                    };
                    crate::platform::windows::event_log_error(&format!(
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
    crate::service::windows::run_dispatcher(daemon, &data_dir, &config)
        .map_err(|e| e.to_string())?;
    Ok(Exit::Ok)
}

#[cfg(not(windows))]
#[allow(clippy::unnecessary_wraps)] // the same signature as the Windows version
pub fn run(_paths: &Paths) -> Result<Exit, String> {
    eprintln!("{}", tr("cli.service_run_elsewhere", &[]));
    Ok(Exit::Invalid)
}

/// Where `--adopt` reads and `--hand-back` writes a config: `-` (the standard streams: what a tray uses
/// through pkexec) or a file (the tray's own data directory on Windows and macOS, whose elevation prompts
/// pass no streams).
fn read_source(src: &str) -> Result<String, String> {
    use std::io::Read as _;
    let limit = crate::settings::MAX_CONFIG_BYTES;
    let bytes = if src == "-" {
        let mut bytes = Vec::new();
        std::io::stdin()
            .take(limit + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| {
                tr(
                    "cli.adopt_cannot_read",
                    &[("from", &"stdin"), ("error", &e)],
                )
            })?;
        bytes
    } else {
        crate::fsutil::read_limited(Path::new(src), limit)
            .map_err(|e| tr("cli.adopt_cannot_read", &[("from", &src), ("error", &e)]))?
            .ok_or_else(|| {
                tr(
                    "cli.adopt_cannot_read",
                    &[("from", &src), ("error", &"not found")],
                )
            })?
    };
    if bytes.len() as u64 > limit {
        return Err(tr("cli.adopt_too_large", &[("limit", &(limit / 1024))]));
    }
    String::from_utf8(bytes).map_err(|_| {
        tr(
            "cli.adopt_cannot_read",
            &[("from", &src), ("error", &"not UTF-8 text")],
        )
    })
}

/// The service's config before it takes one from a tray.
#[cfg(not(windows))]
const EMPTY_SERVICE_CONFIG: &str = "# The ddns-tray system service's config: written when a tray's settings window saves, or by hand.\n";

/// How long the service has to answer on its endpoint after it was started.
const SERVICE_UP: std::time::Duration = std::time::Duration::from_secs(30);
/// How long its first round with the adopted config may take before the install reports without it.
const FIRST_ROUND: std::time::Duration = std::time::Duration::from_secs(90);

/// `service install --adopt SRC`: installs the system service and gives it the config read from `SRC` (a
/// tray's, every secret written out): the service validates it with its own rules, keeps the secrets in its
/// own store, writes its file and reloads; then this waits for its first round and prints it. A config with
/// problems installs nothing. On Linux the user who asked (through pkexec or sudo) joins the service's
/// group, so their tray may change its settings from their next login.
pub fn install_adopting(src: &str, root: Option<&Path>) -> Result<Exit, String> {
    use crate::control::{Client, Endpoint, Reply, Request};
    let text = read_source(src)?;
    // Secrets the command can read (environment, files) travel written out: the service reads neither.
    let text = crate::settings::inlined(&text, &crate::config::secret::SystemLookup).map_err(
        |issues| {
            for i in issues {
                eprintln!("{}", i.localized());
            }
            tr("cli.adopt_invalid", &[])
        },
    )?;
    let names: Vec<String> =
        match crate::settings::load_str(&text, &crate::config::secret::SystemLookup) {
            Ok((_, settings)) => settings.records.into_iter().map(|r| r.name).collect(),
            Err(issues) => {
                for i in issues {
                    eprintln!("{}", i.localized());
                }
                return Err(tr("cli.adopt_invalid", &[]));
            }
        };
    if let Some(root) = root
        && std::env::var_os(service::MANAGER_ENV).is_none()
    {
        return Err(tr(
            "cli.adopt_needs_manager",
            &[("root", &root.display()), ("env", &service::MANAGER_ENV)],
        ));
    }
    // The service starts on a config file of its own (it has none yet when nothing was installed before).
    #[cfg(not(windows))]
    if let Some(path) = service::system_config(root)
        && !path.exists()
    {
        let made = path
            .parent()
            .map_or(Ok(()), std::fs::create_dir_all)
            .and_then(|()| crate::fsutil::write_atomic(&path, EMPTY_SERVICE_CONFIG.as_bytes()));
        made.map_err(|e| format!("{}: {e}", path.display()))?;
    }
    let exe = this_program()?;
    let report =
        service::manage(Action::Install, Scope::System, &exe, root).map_err(|e| e.to_string())?;
    eprint!("{report}");
    let endpoint = Endpoint::system();
    let runtime = super::runtime()?;
    runtime.block_on(async {
        // Up: its endpoint answers.
        let started = tokio::time::Instant::now();
        loop {
            match Client::ask(&endpoint, Request::Status).await {
                Ok(Reply::Status(_)) => break,
                _ if started.elapsed() < SERVICE_UP => {
                    tokio::time::sleep(std::time::Duration::from_millis(250)).await;
                }
                Ok(_) => {
                    return Err(tr(
                        "cli.adopt_not_up",
                        &[("endpoint", &endpoint), ("error", &"?")],
                    ));
                }
                Err(e) => {
                    return Err(tr(
                        "cli.adopt_not_up",
                        &[("endpoint", &endpoint), ("error", &e)],
                    ));
                }
            }
        }
        match Client::ask(&endpoint, Request::SetConfig { text }).await {
            Ok(Reply::Ok(_)) => eprintln!(
                "{}",
                tr("cli.adopt_config_taken", &[("endpoint", &endpoint)])
            ),
            Ok(Reply::Problems(issues)) => {
                for i in issues {
                    eprintln!("{}", i.localized());
                }
                return Err(tr("cli.adopt_refused", &[]));
            }
            Ok(Reply::Error(e)) => return Err(e),
            Ok(_) => return Err(tr("toast.service_unexpected", &[])),
            Err(e) => return Err(e.to_string()),
        }
        let status = first_round(&endpoint, &names).await;
        match status {
            Some(s) => print!(
                "{}",
                crate::notify::status::status_text(&s, std::time::SystemTime::now())
            ),
            None => eprintln!(
                "{}",
                tr("cli.adopt_no_round", &[("secs", &FIRST_ROUND.as_secs())])
            ),
        }
        Ok(())
    })?;
    #[cfg(target_os = "linux")]
    join_group(root);
    Ok(Exit::Ok)
}

/// The service's status once its round with the adopted records `names` has ended: each of them tried
/// (published, failing or stopped), or no address to publish (`None` when neither came in time).
async fn first_round(
    endpoint: &crate::control::Endpoint,
    names: &[String],
) -> Option<crate::engine::Status> {
    use crate::control::{Client, Reply, Request};
    use crate::engine::Phase;
    let started = tokio::time::Instant::now();
    while started.elapsed() < FIRST_ROUND {
        if let Ok(Reply::Status(s)) = Client::ask(endpoint, Request::Status).await
            && !s.updating
            && names.iter().all(|n| s.records.iter().any(|r| &r.name == n))
            && (!s.detect_errors.is_empty()
                || s.records
                    .iter()
                    .filter(|r| names.contains(&r.name))
                    .all(|r| r.phase != Phase::Pending))
        {
            return Some(*s);
        }
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
    None
}

/// Adds the user who asked for the install (pkexec's `PKEXEC_UID`, sudo's `SUDO_UID`) to the service's
/// group, so the settings window they run may change the service's settings; it says so, or why not.
#[cfg(target_os = "linux")]
fn join_group(root: Option<&Path>) {
    let uid = ["PKEXEC_UID", "SUDO_UID"]
        .iter()
        .find_map(|v| std::env::var(v).ok().filter(|u| u != "0" && !u.is_empty()));
    let Some(uid) = uid else { return };
    let name = std::process::Command::new("getent")
        .args(["passwd", &uid])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .and_then(|o| {
            String::from_utf8_lossy(&o.stdout)
                .split(':')
                .next()
                .map(str::to_owned)
        })
        .filter(|n| !n.is_empty());
    let Some(name) = name else { return };
    let argv = ["usermod", "-aG", service::SERVICE_USER, &name];
    if root.is_some() {
        eprintln!("would run: {}", argv.join(" "));
        return;
    }
    match std::process::Command::new(argv[0])
        .args(&argv[1..])
        .status()
    {
        Ok(s) if s.success() => eprintln!(
            "{}",
            tr(
                "cli.adopt_joined_group",
                &[("user", &name), ("group", &service::SERVICE_USER)]
            )
        ),
        other => eprintln!(
            "{}",
            tr(
                "cli.adopt_group_failed",
                &[
                    ("user", &name),
                    ("group", &service::SERVICE_USER),
                    (
                        "error",
                        &other.map_or_else(|e| e.to_string(), |s| s.to_string())
                    )
                ]
            )
        ),
    }
}

/// `service uninstall --hand-back DEST`: asks the running service for its config with every secret written
/// out, writes it to `DEST` (`-`: standard output; a file: created owner-only), then uninstalls the service.
/// The service's own files (its config and secret store) stay where they are, so nothing is lost if the
/// tray cannot take the config.
pub fn uninstall_handing_back(dest: &str, root: Option<&Path>) -> Result<Exit, String> {
    use crate::control::{Client, Endpoint, Reply, Request};
    let endpoint = Endpoint::system();
    let runtime = super::runtime()?;
    let text = runtime.block_on(async {
        match Client::ask(&endpoint, Request::HandBack).await {
            Ok(Reply::Config(view)) => Ok(view.text),
            Ok(Reply::Error(e)) => Err(e),
            Ok(_) => Err(tr("toast.service_unexpected", &[])),
            Err(e) => Err(tr("cli.hand_back_not_running", &[("error", &e)])),
        }
    })?;
    if dest == "-" {
        use std::io::Write as _;
        let mut out = std::io::stdout().lock();
        out.write_all(text.as_bytes())
            .and_then(|()| out.flush())
            .map_err(|e| e.to_string())?;
    } else {
        crate::fsutil::write_atomic(Path::new(dest), text.as_bytes())
            .map_err(|e| format!("{dest}: {e}"))?;
        // Written as root into a user's folder (a tray's hand-over file on macOS): it becomes that user's,
        // still owner-only.
        #[cfg(unix)]
        if let Some(parent) = Path::new(dest)
            .parent()
            .and_then(|p| std::fs::metadata(p).ok())
        {
            use std::os::unix::fs::MetadataExt as _;
            std::os::unix::fs::chown(dest, Some(parent.uid()), Some(parent.gid()))
                .map_err(|e| format!("{dest}: {e}"))?;
        }
    }
    let exe = this_program()?;
    let report =
        service::manage(Action::Uninstall, Scope::System, &exe, root).map_err(|e| e.to_string())?;
    eprint!("{report}");
    Ok(Exit::Ok)
}
