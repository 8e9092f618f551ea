//! Windows: ddns-tray as a real service of the Service Control Manager (through the `windows-service`
//! crate). `service install` registers `ddns-tray --config … --data-dir … service run` as an auto-start
//! service with "restart on failure" recovery actions and starts it; the SCM then starts the process, which
//! hands itself to the dispatcher and runs the headless engine until Stop or Shutdown.
//!
//! Config and state live in `%ProgramData%\ddns-tray`; logs in its `logs` folder (the rolling file).
//! This file is compiled on Windows only.

use std::ffi::OsString;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Duration;

use tokio_util::sync::CancellationToken;
use windows_service::service::{
    ServiceAccess, ServiceAction, ServiceActionType, ServiceControl, ServiceControlAccept,
    ServiceErrorControl, ServiceExitCode, ServiceFailureActions, ServiceFailureResetPeriod,
    ServiceInfo, ServiceStartType, ServiceState, ServiceStatus, ServiceType,
};
use windows_service::service_control_handler::{self, ServiceControlHandlerResult};
use windows_service::service_manager::{ServiceManager, ServiceManagerAccess};
use windows_service::{define_windows_service, service_dispatcher};

use super::{Action, NAME, Scope, ServiceError};

const SERVICE_TYPE: ServiceType = ServiceType::OWN_PROCESS;

/// What the service runs: the daemon until the token is cancelled. Set by `service run` before dispatching.
type Daemon = Box<dyn Fn(CancellationToken) -> Result<(), String> + Send + Sync>;
static DAEMON: OnceLock<Daemon> = OnceLock::new();
/// The folder and config the service was started with (`--data-dir`, `--config` on its command line): those
/// are checked, not `%ProgramData%` as the service's environment says (Wine gives services another one).
static FILES: OnceLock<(PathBuf, PathBuf)> = OnceLock::new();

/// A failed SCM call, with the OS's error text and code (`windows_service` itself says only "IO error in
/// winapi call").
fn scm(what: &str) -> impl Fn(windows_service::Error) -> ServiceError + '_ {
    move |e| {
        let detail = match &e {
            windows_service::Error::Winapi(io) => io.to_string(),
            other => other.to_string(),
        };
        ServiceError::Other(format!("{what}: {detail}"))
    }
}

/// `ERROR_SERVICE_DATABASE_LOCKED`: the service manager is busy (during boot, or while deployment tools
/// install at first logon); it answers this to `StartService` for a while.
const ERROR_SERVICE_DATABASE_LOCKED: i32 = 1055;
/// `ERROR_SERVICE_ALREADY_RUNNING`: someone (the SCM at boot) started it meanwhile.
const ERROR_SERVICE_ALREADY_RUNNING: i32 = 1056;
/// How long a start waits out a busy service manager, in all.
const START_PATIENCE: Duration = Duration::from_mins(1);

/// How a start ended.
enum Started {
    /// Started, after this many answers of "database locked".
    Now(u32),
    /// The service manager stayed busy for [`START_PATIENCE`].
    Busy(windows_service::Error),
}

/// Starts the service, retrying with a bounded backoff (250 ms doubling to 4 s, [`START_PATIENCE`] in all)
/// while the service manager answers "database locked"; "already running" is a start.
fn start_patiently(
    service: &windows_service::service::Service,
) -> Result<Started, windows_service::Error> {
    let begun = std::time::Instant::now();
    let mut pause = Duration::from_millis(250);
    let mut locked = 0;
    loop {
        match service.start::<&str>(&[]) {
            Ok(()) => return Ok(Started::Now(locked)),
            Err(windows_service::Error::Winapi(io))
                if io.raw_os_error() == Some(ERROR_SERVICE_ALREADY_RUNNING) =>
            {
                return Ok(Started::Now(locked));
            }
            Err(windows_service::Error::Winapi(io))
                if io.raw_os_error() == Some(ERROR_SERVICE_DATABASE_LOCKED) =>
            {
                if begun.elapsed() + pause > START_PATIENCE {
                    return Ok(Started::Busy(windows_service::Error::Winapi(io)));
                }
                tracing::info!(
                    "the service manager is busy (database locked); trying again in {pause:?}"
                );
                locked += 1;
                std::thread::sleep(pause);
                pause = (pause * 2).min(Duration::from_secs(4));
            }
            Err(e) => return Err(e),
        }
    }
}

/// `%ProgramData%\ddns-tray`, where the service keeps config, state and logs.
#[must_use]
pub fn program_data() -> PathBuf {
    std::env::var_os("ProgramData")
        .map_or_else(|| PathBuf::from(r"C:\ProgramData"), PathBuf::from)
        .join("ddns-tray")
}

pub fn manage(action: Action, scope: Scope, exe: &Path) -> Result<String, ServiceError> {
    if scope == Scope::User {
        return Err(ServiceError::Other(
            "on Windows the service is system-wide; to start ddns-tray at login use the tray's \"Start at login\"".into(),
        ));
    }
    let access = ServiceManagerAccess::CONNECT | ServiceManagerAccess::CREATE_SERVICE;
    let manager = ServiceManager::local_computer(None::<&str>, access).map_err(scm(
        "cannot open the service control manager (run as administrator)",
    ))?;
    match action {
        Action::Install => install(&manager, exe),
        Action::Uninstall => {
            let service = manager
                .open_service(
                    NAME,
                    ServiceAccess::QUERY_STATUS | ServiceAccess::STOP | ServiceAccess::DELETE,
                )
                .map_err(scm("cannot open the service"))?;
            if service
                .query_status()
                .map_err(scm("cannot query the service"))?
                .current_state
                != ServiceState::Stopped
            {
                service.stop().map_err(scm("cannot stop the service"))?;
            }
            service.delete().map_err(scm("cannot remove the service"))?;
            Ok(format!("removed the {NAME} service\n"))
        }
        Action::Start => {
            let service = manager
                .open_service(NAME, ServiceAccess::START)
                .map_err(scm("cannot open the service"))?;
            match start_patiently(&service).map_err(scm("cannot start the service"))? {
                Started::Now(_) => Ok(format!("started {NAME}\n")),
                Started::Busy(e) => Err(scm(
                    "cannot start the service: the service manager stayed busy for a minute; try again later",
                )(e)),
            }
        }
        Action::Stop => {
            manager
                .open_service(NAME, ServiceAccess::STOP)
                .map_err(scm("cannot open the service"))?
                .stop()
                .map_err(scm("cannot stop the service"))?;
            Ok(format!("stopped {NAME}\n"))
        }
        Action::Status => match manager.open_service(
            NAME,
            ServiceAccess::QUERY_STATUS | ServiceAccess::QUERY_CONFIG,
        ) {
            Ok(service) => {
                let state = service
                    .query_status()
                    .map_err(scm("cannot query the service"))?
                    .current_state;
                let mut out = format!("state: {state:?}\n");
                if let Ok(config) = service.query_config() {
                    let _ = writeln!(
                        out,
                        "command: {}\nstart: {:?}",
                        config.executable_path.display(),
                        config.start_type
                    );
                }
                Ok(out)
            }
            Err(_) => Ok(format!("the {NAME} service is not installed\n")),
        },
    }
}

/// Registers the service (auto-start, restart on failure) and starts it, all or nothing: when a step other
/// than the failure actions fails, the service created so far is deleted again. Setting the failure actions
/// is refused on policy-restricted machines (and by Wine): that is a warning, not a failure.
fn install(manager: &ServiceManager, exe: &Path) -> Result<String, ServiceError> {
    let dir = program_data();
    crate::platform::windows::create_protected_dir(&dir).map_err(|e| ServiceError::Write {
        path: dir.clone(),
        source: e,
    })?;
    let info = ServiceInfo {
        name: OsString::from(NAME),
        display_name: OsString::from("ddns-tray dynamic DNS"),
        service_type: SERVICE_TYPE,
        start_type: ServiceStartType::AutoStart,
        error_control: ServiceErrorControl::Normal,
        executable_path: exe.to_owned(),
        launch_arguments: vec![
            OsString::from("--config"),
            dir.join("config.toml").into_os_string(),
            OsString::from("--data-dir"),
            dir.clone().into_os_string(),
            OsString::from("service"),
            OsString::from("run"),
        ],
        dependencies: vec![],
        account_name: None, // LocalSystem: it must write %ProgramData%\ddns-tray
        account_password: None,
    };
    let service = manager
        .create_service(
            &info,
            ServiceAccess::CHANGE_CONFIG | ServiceAccess::START | ServiceAccess::DELETE,
        )
        .map_err(scm("cannot create the service"))?;
    let mut report = String::new();
    let mut warn = |w: String| {
        tracing::warn!("{w}");
        report.push_str("warning: ");
        report.push_str(&w);
        report.push('\n');
    };
    let rest = (|| {
        service
            .set_description("Keeps DNS records pointing at this machine's public IP address")
            .map_err(scm("cannot describe the service"))?;
        let restart = ServiceAction {
            action_type: ServiceActionType::Restart,
            delay: Duration::from_secs(10),
        };
        let actions = ServiceFailureActions {
            reset_period: ServiceFailureResetPeriod::After(Duration::from_hours(24)),
            reboot_msg: None,
            command: None,
            actions: Some(vec![restart.clone(), restart.clone(), restart]),
        };
        if let Err(e) = service.update_failure_actions(actions) {
            warn(format!(
                "{}; the service will not be restarted automatically after a failure",
                scm("cannot set the failure actions")(e)
            ));
        } else if let Err(e) = service.set_failure_actions_on_non_crash_failures(true) {
            warn(format!(
                "{}; only crashes restart the service",
                scm("cannot apply the failure actions to errors")(e)
            ));
        }
        start_patiently(&service).map_err(scm("cannot start the service"))
    })();
    let started = match rest {
        Ok(s) => s,
        Err(e) => {
            // All or nothing: remove what was created.
            if let Err(d) = service.delete() {
                tracing::warn!("{}", scm("cannot remove the half-installed service")(d));
            }
            return Err(e);
        }
    };
    tell_started(&mut report, started, exe, &dir);
    Ok(report)
}

/// What an install says about its start: started (after how many "database locked" answers), or
/// registered but not started. Registered with automatic start, it starts at the next boot: the install
/// stands (an MSI rolling back here would leave nothing), and says so plainly.
fn tell_started(report: &mut String, started: Started, exe: &Path, dir: &Path) {
    match started {
        Started::Now(locked) => {
            if locked > 0 {
                let _ = writeln!(
                    report,
                    "the service manager was busy (database locked) {locked} time(s); started once it was free"
                );
            }
            let _ = writeln!(
                report,
                "installed and started the {NAME} service ({}); config in {}",
                exe.display(),
                dir.display()
            );
        }
        Started::Busy(e) => {
            let why = scm("the service manager stayed busy for a minute")(e);
            let _ = writeln!(
                report,
                "warning: installed the {NAME} service ({}), but could not start it now ({why}); it starts \
                 at the next boot, or start it yourself with `ddns-tray service start`; config in {}",
                exe.display(),
                dir.display()
            );
            tracing::warn!("installed the service but could not start it now: {why}");
        }
    }
}

/// Refuses a folder or config that a non-administrator could write: with a `command` source, such a config
/// would run anything as SYSTEM.
fn check_protected(dir: &Path, config: &Path) -> Result<(), String> {
    for path in [dir, config] {
        if !path.exists() {
            continue;
        }
        let mut writers = crate::platform::windows::non_admin_writers(path)
            .map_err(|e| format!("cannot read the permissions of {}: {e}", path.display()))?;
        // The account the service runs as may write its own files: that gives nobody more than the service
        // already has. On Windows that is SYSTEM anyway; Wine runs services as the user it maps the folder's
        // owner to (it keeps no DACL, only Unix permission bits).
        if let Ok(own) = crate::platform::windows::current_user_sid() {
            writers.retain(|w| *w != own);
        }
        if !writers.is_empty() {
            return Err(format!(
                "refusing to start: {} can be changed by accounts other than SYSTEM and Administrators ({}). \
                 A config there could make the service run anything as SYSTEM. Give only SYSTEM and \
                 Administrators write access (icacls \"{}\" /inheritance:r /grant:r SYSTEM:(OI)(CI)F \
                 Administrators:(OI)(CI)F), then start the service again",
                path.display(),
                writers.join(", "),
                dir.display()
            ));
        }
    }
    Ok(())
}

define_windows_service!(ffi_service_main, service_main);

/// `ddns-tray service run`: hands the process to the SCM, which then calls [`service_main`]. Returns when
/// the service has stopped.
pub fn run_dispatcher(daemon: Daemon, data_dir: &Path, config: &Path) -> Result<(), ServiceError> {
    let _ = DAEMON.set(daemon);
    let _ = FILES.set((data_dir.to_path_buf(), config.to_path_buf()));
    service_dispatcher::start(NAME, ffi_service_main)
        .map_err(scm("cannot hand over to the service control manager"))
}

fn service_main(_arguments: Vec<OsString>) {
    if let Err(e) = run_service() {
        tracing::error!("the service failed: {e}");
    }
}

fn run_service() -> Result<(), ServiceError> {
    let shutdown = CancellationToken::new();
    let stop = shutdown.clone();
    let handler = move |control| match control {
        ServiceControl::Stop | ServiceControl::Shutdown => {
            stop.cancel();
            ServiceControlHandlerResult::NoError
        }
        ServiceControl::Interrogate => ServiceControlHandlerResult::NoError,
        _ => ServiceControlHandlerResult::NotImplemented,
    };
    let status = service_control_handler::register(NAME, handler)
        .map_err(scm("cannot register the service's control handler"))?;
    let report = |state: ServiceState, accept: ServiceControlAccept, code: u32| {
        status.set_service_status(ServiceStatus {
            service_type: SERVICE_TYPE,
            current_state: state,
            controls_accepted: accept,
            exit_code: if code == 0 {
                ServiceExitCode::Win32(0)
            } else {
                ServiceExitCode::ServiceSpecific(code)
            },
            checkpoint: 0,
            wait_hint: Duration::from_secs(10),
            process_id: None,
        })
    };
    report(
        ServiceState::Running,
        ServiceControlAccept::STOP | ServiceControlAccept::SHUTDOWN,
        0,
    )
    .map_err(scm("cannot report the service running"))?;
    let (dir, config) = FILES
        .get()
        .cloned()
        .unwrap_or_else(|| (program_data(), program_data().join("config.toml")));
    let result = if let Err(why) = crate::platform::windows::create_protected_dir(&dir)
        .map_err(|e| format!("cannot create {}: {e}", dir.display()))
        .and_then(|()| check_protected(&dir, &config))
    {
        crate::platform::windows::event_log_error(&why);
        Err(why)
    } else {
        match DAEMON.get() {
            Some(daemon) => daemon(shutdown),
            None => Err("no daemon was set up".to_owned()),
        }
    };
    // A non-zero exit code makes the SCM apply the recovery actions (restart).
    let code = u32::from(result.is_err());
    if let Err(e) = &result {
        tracing::error!("the engine stopped: {e}");
    }
    report(ServiceState::Stopped, ServiceControlAccept::empty(), code)
        .map_err(scm("cannot report the service stopped"))?;
    Ok(())
}
