//! The headless daemon: the engine with its sinks, the network and router watchers, the control endpoint,
//! the service manager's readiness and watchdog; and a service whose config cannot be loaded, waiting for a
//! valid one.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::{Paths, Sinks, companions, engine, summary};
use crate::config;
use crate::engine::Command;
use crate::settings::Settings;
use crate::store::FileStore;

/// Hands network changes and wake-ups to the engine (see [`crate::netwatch`]), and tells it whether it hears
/// of them. Runs until the engine is gone.
pub fn watch_network(commands: mpsc::Sender<Command>) {
    use crate::engine::NetworkEvents;
    use crate::netwatch::Change;
    match crate::netwatch::watch() {
        Ok(mut changes) => {
            tracing::info!("watching network changes");
            tokio::spawn(async move {
                if commands
                    .send(Command::NetworkEvents(NetworkEvents::Watching))
                    .await
                    .is_err()
                {
                    return;
                }
                while let Some(change) = changes.recv().await {
                    let command = match change {
                        Change::Network(family) => Command::NetworkChanged(family),
                        Change::Wake => Command::Woke,
                    };
                    if commands.send(command).await.is_err() {
                        return;
                    }
                }
            });
        }
        Err(why) => {
            tracing::warn!("not watching network changes ({why}); checking every interval only");
            let _ = commands.try_send(Command::NetworkEvents(NetworkEvents::Unavailable(why)));
        }
    }
}

/// While a `router` source is configured, hears its gateway's NAT-PMP announcements (see
/// [`crate::detect::router::Listener`]) and hands each new one to the engine as an IPv4 network change,
/// debounced and rate-limited there like the others. Follows reloads, and looks at the routing table again
/// every minute (a new gateway after a new lease). Runs until the engine is gone.
pub fn watch_router(
    commands: mpsc::Sender<Command>,
    mut settings: tokio::sync::watch::Receiver<Arc<Settings>>,
) {
    use crate::detect::router;
    let now = |s: &Settings| router::announcers(&s.detect, &s.lines);
    tokio::spawn(async move {
        loop {
            let announcers = now(&settings.borrow_and_update());
            let hear = hear_router(announcers.clone(), commands.clone());
            tokio::pin!(hear);
            loop {
                tokio::select! {
                    changed = settings.changed() => {
                        if changed.is_err() {
                            return;
                        }
                        break;
                    }
                    () = &mut hear => return,
                    () = tokio::time::sleep(Duration::from_mins(1)) => {
                        if now(&settings.borrow()) != announcers {
                            break;
                        }
                    }
                }
            }
        }
    });
}

/// Listens for `announcers`' NAT-PMP announcements and subscribes to the `UPnP` events of those asked over
/// `UPnP`, until the engine is gone (then returns); when there are none, or neither can be heard, only waits.
async fn hear_router(
    announcers: Vec<crate::detect::router::Announcer>,
    commands: mpsc::Sender<Command>,
) {
    use crate::detect::router;
    if announcers.is_empty() {
        return commands.closed().await;
    }
    // One subscription per gateway and local address, each in a task of its own, so that it can still
    // unsubscribe when this future is dropped (a reload): it sees `news` closed.
    let (news_sender, mut news) = mpsc::channel::<String>(8);
    let mut subscribed: Vec<&router::Announcer> = Vec::new();
    for a in announcers.iter().filter(|a| a.upnp) {
        if !subscribed
            .iter()
            .any(|s| s.gateway == a.gateway && s.local == a.local)
        {
            subscribed.push(a);
            tokio::spawn(router::watch_events(a.clone(), news_sender.clone()));
        }
    }
    drop(news_sender);
    let gateways: Vec<String> = announcers.iter().map(|a| a.gateway.to_string()).collect();
    let mut listener = match router::Listener::bind(&announcers).await {
        Ok(l) => {
            tracing::info!(
                "listening for NAT-PMP announcements from {}",
                gateways.join(", ")
            );
            Some(l)
        }
        Err(why) => {
            tracing::warn!("not hearing the router's NAT-PMP announcements ({why})");
            None
        }
    };
    loop {
        let announced = async {
            match listener.as_mut() {
                Some(l) => l.next().await,
                None => std::future::pending().await,
            }
        };
        let heard = tokio::select! {
            () = commands.closed() => return,
            heard = announced => match heard {
                Ok(a) => a.to_string(),
                Err(e) => {
                    tracing::warn!("stopped hearing the router's NAT-PMP announcements ({e})");
                    listener = None;
                    continue;
                }
            },
            Some(event) = news.recv() => event,
        };
        tracing::info!("router {heard}: checking now");
        if commands
            .send(Command::NetworkChanged(config::Family::V4))
            .await
            .is_err()
        {
            return;
        }
    }
}

/// A service whose config cannot be loaded: serves `control` with the problems as its status (so a tray or
/// `ddns-tray ctl status` shows them) and waits, running no engine and asking no source, until a reload
/// (`ddns-tray ctl reload`) finds a valid config, which it returns; `None` when `shutdown` comes first.
pub async fn await_config(
    paths: &Paths,
    problems: Vec<String>,
    shutdown: CancellationToken,
    control: &crate::control::Endpoint,
) -> Option<Settings> {
    for p in &problems {
        tracing::error!("{p}");
    }
    tracing::error!(
        "waiting for a valid config at {}; then run `ddns-tray ctl reload`",
        paths.config.display()
    );
    let (_status, status) = tokio::sync::watch::channel(crate::engine::Status {
        config_problems: problems,
        ..crate::engine::Status::default()
    });
    let (commands, mut received) = mpsc::channel(8);
    let reload_paths = paths.clone();
    let serving = CancellationToken::new();
    let served = crate::control::serve(
        control,
        crate::control::Control {
            status,
            commands,
            reload: std::sync::Arc::new(move || {
                reload_paths
                    .reload_config()
                    .map(|(_, s)| s)
                    .map_err(|e| e.to_string())
            }),
            events: None,
            backend: Some(std::sync::Arc::new(super::DaemonBackend::new(
                paths.clone(),
            ))),
        },
        serving.clone(),
    );
    if let Err(e) = &served {
        tracing::warn!("{e}; only a restart of the service will read the config again");
    }
    let settings = loop {
        tokio::select! {
            () = shutdown.cancelled() => break None,
            command = received.recv() => match command {
                Some(Command::Reload(settings)) => break Some(*settings),
                // Nothing runs yet to update or pause.
                Some(_) => {}
                None => break None,
            },
        }
    };
    // Free the endpoint for the engine's own.
    serving.cancel();
    if let Ok(task) = served {
        let _ = task.await;
    }
    if settings.is_some() {
        tracing::info!(
            "the config at {} is valid now; starting",
            paths.config.display()
        );
    }
    settings
}

/// The headless daemon: opens (and locks) the state, runs the engine with the log notifier until `shutdown`
/// is cancelled, then stops it within 5 s. With `control`, tray apps and `ddns-tray ctl` watch and drive it
/// there (see [`crate::control`]). `on_start` receives the engine's command sender (for reloads).
/// Used by `ddns-tray run` and by the Windows service.
pub async fn daemon(
    paths: &Paths,
    settings: Settings,
    shutdown: CancellationToken,
    control: Option<crate::control::Endpoint>,
    on_start: impl FnOnce(mpsc::Sender<Command>),
) -> Result<(), String> {
    let store = FileStore::open(&paths.state_file()).map_err(|e| e.to_string())?;
    tracing::info!(
        "ddns-tray {} starting; config {}, state {}",
        env!("CARGO_PKG_VERSION"),
        paths.config.display(),
        paths.state_file().display()
    );
    for line in summary(&settings).lines() {
        tracing::info!("{line}");
    }
    let engine = engine(paths, settings, Box::new(store), true).map_err(|e| e.to_string())?;
    let (handle, commands) = engine.handle();
    let log = companions(
        paths,
        &engine,
        handle.status.clone(),
        shutdown.clone(),
        Sinks::All,
    );
    let settings_in_force = engine.settings();
    let events = engine.events();
    let mut task = tokio::spawn(engine.run(commands, shutdown.clone()));
    watch_network(handle.commands.clone());
    watch_router(handle.commands.clone(), settings_in_force);
    let served = match control {
        Some(endpoint) => {
            let reload_paths = paths.clone();
            let control = crate::control::Control {
                status: handle.status.clone(),
                commands: handle.commands.clone(),
                reload: std::sync::Arc::new(move || {
                    reload_paths
                        .reload_config()
                        .map(|(_, s)| s)
                        .map_err(|e| e.to_string())
                }),
                events: Some(events),
                backend: Some(std::sync::Arc::new(super::DaemonBackend::new(
                    paths.clone(),
                ))),
            };
            match crate::control::serve(&endpoint, control, shutdown.clone()) {
                Ok(t) => {
                    tracing::info!("control endpoint: {endpoint}");
                    Some(t)
                }
                Err(e) => {
                    // Updates matter more than the tray's view of them: keep running.
                    tracing::warn!("{e}; tray apps cannot show or drive this daemon");
                    None
                }
            }
        }
        None => None,
    };
    on_start(handle.commands.clone());
    #[cfg(target_os = "linux")]
    let watchdog = service_manager::ready(handle.commands.clone());
    tokio::select! {
        _ = &mut task => {}
        () = shutdown.cancelled() => {
            if tokio::time::timeout(Duration::from_secs(5), &mut task).await.is_err() {
                tracing::warn!("the engine did not stop within 5 s; exiting anyway");
            }
        }
    }
    #[cfg(target_os = "linux")]
    {
        service_manager::stopping();
        if let Some(w) = watchdog {
            w.abort();
        }
    }
    drop(handle);
    // Alerts still being delivered get a moment.
    let _ = tokio::time::timeout(Duration::from_secs(5), log).await;
    if let Some(served) = served {
        let _ = tokio::time::timeout(Duration::from_secs(1), served).await;
    }
    tracing::info!("stopped");
    Ok(())
}

/// Talking to systemd when it runs us as a `Type=notify` service: ready once the engine runs, and a watchdog
/// ping only while the engine's loop answers (so a stuck engine is restarted). Without `NOTIFY_SOCKET` all of
/// this does nothing.
#[cfg(target_os = "linux")]
mod service_manager {
    use std::time::Duration;

    use tokio::sync::{mpsc, oneshot};

    use crate::engine::Command;

    /// Says "ready"; when the unit has a watchdog, starts the task that pets it. Returns that task.
    pub fn ready(commands: mpsc::Sender<Command>) -> Option<tokio::task::JoinHandle<()>> {
        if let Err(e) = sd_notify::notify(&[sd_notify::NotifyState::Ready]) {
            tracing::warn!("cannot tell the service manager we are ready: {e}");
        }
        let period = sd_notify::watchdog_enabled()?;
        tracing::info!(
            "service watchdog every {}",
            humantime::format_duration(period)
        );
        Some(tokio::spawn(async move {
            let half = period / 2;
            loop {
                tokio::time::sleep(half).await;
                let (tx, rx) = oneshot::channel();
                let alive = commands.send(Command::Ping(tx)).await.is_ok()
                    && tokio::time::timeout(half.max(Duration::from_secs(1)), rx)
                        .await
                        .is_ok_and(|r| r.is_ok());
                if alive {
                    let _ = sd_notify::notify(&[sd_notify::NotifyState::Watchdog]);
                } else {
                    tracing::error!(
                        "the engine did not answer within {}; the service manager will restart it",
                        humantime::format_duration(half)
                    );
                }
            }
        }))
    }

    pub fn stopping() {
        let _ = sd_notify::notify(&[sd_notify::NotifyState::Stopping]);
    }
}
