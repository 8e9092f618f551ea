//! Whose engine the tray shows: its own (started when the config is valid, with the sinks of the daemon) or a running daemon's, the system service above all, followed over its control endpoint.

#[allow(clippy::wildcard_imports)] // the tray app's own types
use super::*;

impl App {
    /// Sends a request to the daemon the tray drives; a refusal or failure becomes a toast.
    pub(super) fn ask_remote(&self, request: crate::control::Request) {
        let Some(remote) = &self.remote else { return };
        let endpoint = remote.endpoint.clone();
        let toaster = self.toaster.clone();
        self.runtime.spawn(async move {
            let problem = match crate::control::Client::ask(&endpoint, request).await {
                Ok(crate::control::Reply::Error(e)) => e,
                Err(e) => e.to_string(),
                Ok(_) => return,
            };
            toaster.toast(Message {
                level: Level::Warning,
                summary: t!("toast.service_refused").into_owned(),
                body: problem,
            });
        });
    }

    pub(super) fn send(&self, command: Command) {
        let Some(handle) = &self.handle else { return };
        if handle.commands.try_send(command).is_err() {
            tracing::warn!("the engine is busy or gone; the request was not sent");
        }
    }

    /// Starts the engine on settings that loaded (at start, or once a config with problems was fixed).
    pub(super) fn start_engine(&mut self, settings: Settings) {
        let store = match crate::store::FileStore::open(&self.paths.state_file()) {
            Ok(s) => s,
            Err(e) => {
                tracing::error!("{e}");
                self.status.config_problems = vec![e.to_string()];
                self.refresh();
                return;
            }
        };
        let notifications = settings.notifications;
        let engine = match crate::app::engine(&self.paths, settings, Box::new(store), true) {
            Ok(e) => e,
            Err(e) => {
                tracing::error!("{e}");
                self.status.config_problems = vec![e.to_string()];
                self.refresh();
                return;
            }
        };
        let (handle, commands) = engine.handle();
        let task = spawn_engine(
            &self.paths,
            &self.runtime,
            engine,
            commands,
            &handle,
            &self.proxy,
            &self.toaster,
            &self.driving,
            notifications,
        );
        self.status = handle.status.borrow().clone();
        self.handle = Some(handle);
        self.engine = Some(task);
        self.refresh();
    }

    /// The engine the tray shows now stops (its own, at most 5 s; or its watch of a daemon), and a fresh
    /// token is ready for the next.
    fn stop_driving(&mut self) {
        self.driving.cancel();
        self.driving = self.shutdown.child_token();
        self.handle = None;
        self.remote = None;
        if let Some(task) = self.engine.take() {
            self.retired += 1;
            let stopped = self
                .runtime
                .block_on(async { tokio::time::timeout(Duration::from_secs(5), task).await });
            if stopped.is_err() {
                tracing::warn!("the tray's engine did not stop within 5 s");
            }
        }
    }

    /// "Run unattended" went through: the tray stops its own engine and follows the system service.
    pub(super) fn follow_service(&mut self) {
        self.stop_driving();
        let (remote, status) = find_remote(
            &self.runtime,
            &self.proxy,
            &self.driving,
            &self.paths,
            &self.toaster,
        );
        if remote.is_none() {
            tracing::warn!("the system service does not answer yet; the tray runs its own engine");
            return self.run_own();
        }
        self.remote = remote;
        if let Some(s) = status {
            self.status = s;
        }
        self.rebuild_menu();
    }

    /// Running unattended stopped (the config handed back), or the service could not be found: the tray
    /// runs its own engine on its config again.
    pub(super) fn run_own(&mut self) {
        self.stop_driving();
        match self.paths.load_config() {
            Ok((_, settings)) => {
                self.status = Status::default();
                self.start_engine(settings);
            }
            Err(e) => {
                tracing::error!("{e}");
                self.status = Status {
                    config_problems: vec![e.to_string()],
                    ..Status::default()
                };
            }
        }
        self.rebuild_menu();
    }

    /// Stops the engine (bounded), then leaves the loop.
    pub(super) fn quit(&mut self) {
        self.shutdown.cancel();
        let task = self.engine.take();
        let proxy = self.proxy.clone();
        if task.is_none() {
            let _ = proxy.send_event(UserEvent::EngineStopped);
            return;
        }
        self.runtime.spawn(async move {
            if let Some(task) = task
                && tokio::time::timeout(Duration::from_secs(5), task)
                    .await
                    .is_err()
            {
                tracing::warn!("the engine did not stop within 5 s; quitting anyway");
            }
            let _ = proxy.send_event(UserEvent::EngineStopped);
        });
    }
}

/// Another process's engine, reached over its control endpoint.
pub(super) struct Remote {
    pub(super) endpoint: crate::control::Endpoint,
    /// It is the system service (not this user's own daemon).
    pub(super) system: bool,
    /// It does not let this user in (so there is nothing to drive).
    pub(super) denied: bool,
}

impl Remote {
    /// The menu's first line: who runs the engine.
    pub(super) fn label(&self) -> String {
        if self.system && cfg!(windows) {
            t!("menu.run_by_windows_service").into_owned()
        } else if self.system {
            t!("menu.run_by_system_service").into_owned()
        } else {
            t!("menu.run_by_daemon", endpoint = self.endpoint).into_owned()
        }
    }
}

/// Starts the engine and the tasks around it on the runtime: the log and toast notifiers, the status bridge
/// to the event loop. Returns the engine's task.
#[allow(clippy::too_many_arguments)] // the parts the tray owns, passed once at start
pub(super) fn spawn_engine(
    paths: &crate::app::Paths,
    runtime: &Runtime,
    engine: crate::engine::Engine,
    commands: tokio::sync::mpsc::Receiver<Command>,
    handle: &Handle,
    proxy: &EventLoopProxy<UserEvent>,
    toaster: &Toaster,
    shutdown: &CancellationToken,
    notifications: bool,
) -> JoinHandle<()> {
    let _guard = runtime.enter();
    // The log, alerts, history and metrics, as in the daemon.
    let _companions = crate::app::companions(
        paths,
        &engine,
        handle.status.clone(),
        shutdown.clone(),
        crate::app::Sinks::All,
    );
    let settings_in_force = engine.settings();
    tokio::spawn(crate::notify::desktop::run(
        engine.subscribe(),
        toaster.clone(),
        notifications,
    ));
    let token = shutdown.clone();
    let task = tokio::spawn(async move {
        engine.run(commands, token).await;
    });
    crate::app::watch_network(handle.commands.clone());
    crate::app::watch_router(handle.commands.clone(), settings_in_force);
    // The bridge: every new status goes to the event loop.
    let mut status = handle.status.clone();
    let status_proxy = proxy.clone();
    tokio::spawn(async move {
        while status.changed().await.is_ok() {
            let snapshot = status.borrow_and_update().clone();
            if status_proxy
                .send_event(UserEvent::Status(Box::new(snapshot)))
                .is_err()
            {
                break;
            }
        }
        // The engine is gone: leave the loop too.
        let _ = status_proxy.send_event(UserEvent::EngineStopped);
    });
    task
}

/// Without a display: the daemon, until Ctrl-C / SIGTERM.
pub(super) fn run_headless(
    runtime: &Runtime,
    paths: &Paths,
    settings: Settings,
) -> Result<(), String> {
    let shutdown = CancellationToken::new();
    let stop = shutdown.clone();
    runtime.block_on(async move {
        tokio::spawn(async move {
            let mut signals = crate::app::signals::Signals::new();
            while signals.next().await == crate::app::signals::Signal::Reload {}
            stop.cancel();
        });
        let control = crate::control::Endpoint::user(&paths.data_dir);
        crate::app::daemon(paths, settings, shutdown, Some(control), |_| {}).await
    })
}

/// A running system service (or this user's own daemon) runs the engine: the tray shows and drives it instead
/// of starting a second one. Returns it and its status, or nothing when no daemon runs.
pub(super) fn find_remote(
    runtime: &Runtime,
    proxy: &EventLoopProxy<UserEvent>,
    shutdown: &CancellationToken,
    paths: &Paths,
    toaster: &Toaster,
) -> (Option<Remote>, Option<Status>) {
    let found = runtime.block_on(async {
        // Longer than the client's own retries of a busy daemon (4 s).
        tokio::time::timeout(
            Duration::from_secs(6),
            crate::control::find(&paths.data_dir),
        )
        .await
        .unwrap_or(Ok(None))
    });
    match found {
        Ok(Some((endpoint, status))) => {
            let system = endpoint == crate::control::Endpoint::system();
            tracing::info!("a ddns-tray daemon runs at {endpoint}; the tray shows and drives it");
            spawn_remote(runtime, proxy, shutdown, endpoint.clone(), system, toaster);
            let remote = Remote {
                endpoint,
                system,
                denied: false,
            };
            (Some(remote), Some(status))
        }
        Err(e) => {
            // The service runs but keeps this user out: say so, and start no second engine next to it.
            tracing::warn!("{e}");
            let status = Status {
                last_error: Some(e.to_string()),
                ..Status::default()
            };
            let remote = Remote {
                endpoint: crate::control::Endpoint::system(),
                system: true,
                denied: true,
            };
            (Some(remote), Some(status))
        }
        Ok(None) => (None, None),
    }
}

/// Follows the daemon at `endpoint` for the tray: its statuses, and when it is gone, a status saying so.
pub(super) fn spawn_remote(
    runtime: &Runtime,
    proxy: &EventLoopProxy<UserEvent>,
    shutdown: &CancellationToken,
    endpoint: crate::control::Endpoint,
    system: bool,
    toaster: &Toaster,
) {
    use crate::control::Followed;
    let proxy = proxy.clone();
    // The daemon's events become this user's toasts, as the tray's own engine's do.
    let (events, received) = tokio::sync::broadcast::channel(64);
    runtime.spawn(crate::notify::desktop::run(received, toaster.clone(), true));
    runtime.spawn(crate::control::follow(
        endpoint,
        shutdown.clone(),
        move |followed| {
            let status = match followed {
                Followed::Event(event) => {
                    let _ = events.send(*event);
                    return true;
                }
                Followed::Status(status) => status,
                Followed::Lost => Box::new(Status {
                    last_error: Some(if system {
                        t!("tray.service_gone").into_owned()
                    } else {
                        t!("tray.daemon_gone").into_owned()
                    }),
                    ..Status::default()
                }),
            };
            proxy.send_event(UserEvent::Status(status)).is_ok()
        },
    ));
}
