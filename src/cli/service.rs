//! `ddns-tray service`: installing and driving the OS service, and (on Windows) the service's own process.

use std::path::{Path, PathBuf};

use super::Exit;
use crate::app::Paths;
#[cfg(not(windows))]
use crate::i18n::tr;
use crate::service::{self, Action, Scope};

/// `ddns-tray service install|uninstall|start|stop|status [--user] [--root DIR]`.
pub fn manage(action: Action, user: bool, root: Option<&Path>) -> Result<Exit, String> {
    let scope = if user { Scope::User } else { Scope::System };
    let exe =
        std::env::current_exe().map_err(|e| format!("cannot find this program's path: {e}"))?;
    let exe = plain_path(exe.canonicalize().unwrap_or(exe));
    let report = service::manage(action, scope, &exe, root).map_err(|e| e.to_string())?;
    print!("{report}");
    Ok(Exit::Ok)
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
