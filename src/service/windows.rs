//! Windows: ddns-tray as a real service of the Service Control Manager (through the `windows-service`
//! crate). `service install` registers `ddns-tray --config … --data-dir … service run` as an auto-start
//! service with "restart on failure" recovery actions and starts it; the SCM then starts the process, which
//! hands itself to the dispatcher and runs the headless engine until Stop or Shutdown.
//!
//! Config and state live in `%ProgramData%\ddns-tray`; logs in its `logs` folder (the rolling file).
//! This file is compiled on Windows only.

use std::ffi::OsString;
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

fn scm(e: windows_service::Error) -> ServiceError {
    ServiceError::Other(format!("service control manager: {e}"))
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
    let manager = ServiceManager::local_computer(None::<&str>, access).map_err(scm)?;
    match action {
        Action::Install => {
            let dir = program_data();
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
                .create_service(&info, ServiceAccess::CHANGE_CONFIG | ServiceAccess::START)
                .map_err(scm)?;
            service
                .set_description("Keeps DNS records pointing at this machine's public IP address")
                .map_err(scm)?;
            let restart = ServiceAction {
                action_type: ServiceActionType::Restart,
                delay: Duration::from_secs(10),
            };
            service
                .update_failure_actions(ServiceFailureActions {
                    reset_period: ServiceFailureResetPeriod::After(Duration::from_secs(24 * 3600)),
                    reboot_msg: None,
                    command: None,
                    actions: Some(vec![restart.clone(), restart.clone(), restart]),
                })
                .map_err(scm)?;
            service
                .set_failure_actions_on_non_crash_failures(true)
                .map_err(scm)?;
            service.start::<&str>(&[]).map_err(scm)?;
            Ok(format!(
                "installed and started the {NAME} service ({}); config in {}\n",
                exe.display(),
                dir.display()
            ))
        }
        Action::Uninstall => {
            let service = manager
                .open_service(
                    NAME,
                    ServiceAccess::QUERY_STATUS | ServiceAccess::STOP | ServiceAccess::DELETE,
                )
                .map_err(scm)?;
            if service.query_status().map_err(scm)?.current_state != ServiceState::Stopped {
                service.stop().map_err(scm)?;
            }
            service.delete().map_err(scm)?;
            Ok(format!("removed the {NAME} service\n"))
        }
        Action::Start => {
            manager
                .open_service(NAME, ServiceAccess::START)
                .map_err(scm)?
                .start::<&str>(&[])
                .map_err(scm)?;
            Ok(format!("started {NAME}\n"))
        }
        Action::Stop => {
            manager
                .open_service(NAME, ServiceAccess::STOP)
                .map_err(scm)?
                .stop()
                .map_err(scm)?;
            Ok(format!("stopped {NAME}\n"))
        }
        Action::Status => match manager.open_service(NAME, ServiceAccess::QUERY_STATUS) {
            Ok(service) => Ok(format!(
                "state: {:?}\n",
                service.query_status().map_err(scm)?.current_state
            )),
            Err(_) => Ok(format!("the {NAME} service is not installed\n")),
        },
    }
}

define_windows_service!(ffi_service_main, service_main);

/// `ddns-tray service run`: hands the process to the SCM, which then calls [`service_main`]. Returns when
/// the service has stopped.
pub fn run_dispatcher(daemon: Daemon) -> Result<(), ServiceError> {
    let _ = DAEMON.set(daemon);
    service_dispatcher::start(NAME, ffi_service_main).map_err(scm)
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
    let status = service_control_handler::register(NAME, handler).map_err(scm)?;
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
    .map_err(scm)?;
    let result = match DAEMON.get() {
        Some(daemon) => daemon(shutdown),
        None => Err("no daemon was set up".to_owned()),
    };
    // A non-zero exit code makes the SCM apply the recovery actions (restart).
    let code = u32::from(result.is_err());
    if let Err(e) = &result {
        tracing::error!("the engine stopped: {e}");
    }
    report(ServiceState::Stopped, ServiceControlAccept::empty(), code).map_err(scm)?;
    Ok(())
}
