//! Composition root: the only place that turns validated [`Settings`] into concrete sources, providers, the
//! state store and the engine. The headless commands (and later the tray) start here.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::config;
use crate::detect::Detector;
use crate::detect::SourceKind;
use crate::provider::ProviderKind;
use crate::settings::Settings;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::engine::{Clock, Command, Engine, Factory, Parts};
use crate::provider;
use crate::store::{FileStore, FingerprintKey, StateStore, StoreError};

/// Environment variable overriding the data directory (state file and logs).
pub const DATA_DIR_ENV: &str = "DDNS_TRAY_DATA_DIR";

/// Where things live.
#[derive(Debug, Clone)]
pub struct Paths {
    pub config: PathBuf,
    /// The config path was given (`--config`, `DDNS_TRAY_CONFIG`): it must exist.
    pub config_explicit: bool,
    pub data_dir: PathBuf,
}

impl Paths {
    /// `--config` / `DDNS_TRAY_CONFIG` / the OS config dir, and `--data-dir` / `DDNS_TRAY_DATA_DIR` / the OS data dir.
    pub fn resolve(config: Option<&Path>, data_dir: Option<&Path>) -> Result<Self, String> {
        let (config, config_explicit) =
            crate::settings::resolve_path(config).map_err(|e| e.to_string())?;
        let data_dir = match data_dir {
            Some(d) => d.to_owned(),
            None => match std::env::var_os(DATA_DIR_ENV).filter(|d| !d.is_empty()) {
                Some(d) => PathBuf::from(d),
                None => directories::ProjectDirs::from("rs", "", config::APP_NAME)
                    .map(|p| p.data_dir().to_owned())
                    .ok_or(
                        "cannot find the OS data directory; set --data-dir or DDNS_TRAY_DATA_DIR",
                    )?,
            },
        };
        Ok(Self {
            config,
            config_explicit,
            data_dir,
        })
    }

    /// Loads the config at start: a missing file means defaults only at the default path. Its `language`
    /// is used from then on.
    pub fn load_config(
        &self,
    ) -> Result<(config::ConfigFile, Settings), crate::settings::LoadError> {
        let missing = if self.config_explicit {
            crate::settings::Missing::Error
        } else {
            crate::settings::Missing::Defaults
        };
        let loaded = crate::settings::load(&self.config, missing);
        if let Ok((_, settings)) = &loaded {
            crate::i18n::set(settings.language);
        }
        loaded
    }

    /// Loads the config to replace running settings: a missing or empty file keeps them.
    pub fn reload_config(
        &self,
    ) -> Result<(config::ConfigFile, Settings), crate::settings::LoadError> {
        let loaded = crate::settings::load(&self.config, crate::settings::Missing::KeepRunning);
        if let Ok((_, settings)) = &loaded {
            crate::i18n::set(settings.language);
        }
        loaded
    }

    /// Where the fingerprint key is kept: in the data directory, with the state it protects (the config's
    /// directory may be read-only, e.g. `/etc/ddns-tray`).
    #[must_use]
    pub fn fingerprint_key(&self) -> PathBuf {
        self.data_dir.join("fingerprint.key")
    }

    /// Where earlier versions kept the key (next to the config): migrated from there once.
    #[must_use]
    pub fn legacy_fingerprint_key(&self) -> Option<PathBuf> {
        self.config
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .map(|d| d.join("fingerprint.key"))
    }

    #[must_use]
    pub fn state_file(&self) -> PathBuf {
        self.data_dir.join("state.json")
    }

    #[must_use]
    pub fn log_dir(&self) -> PathBuf {
        self.data_dir.join("logs")
    }
}

/// The real parts: detection sources and providers built from settings.
#[must_use]
pub fn factory() -> Factory {
    Arc::new(|settings: &Settings| Parts {
        detector: Arc::new(Detector::from_settings(&settings.detect)),
        lines: settings
            .lines
            .iter()
            .map(|l| {
                (
                    l.name.clone(),
                    Arc::new(Detector::for_line(&settings.detect, l)),
                )
            })
            .collect(),
        providers: settings
            .providers
            .iter()
            .map(|p| (p.name.clone(), provider::build(p)))
            .collect::<HashMap<_, _>>(),
        line_providers: line_providers(settings),
    })
}

/// A provider instance per (provider, line) that records with `provider_via_line` use, its API calls bound
/// to the line.
fn line_providers(settings: &Settings) -> HashMap<(String, String), Arc<dyn provider::Provider>> {
    let mut out = HashMap::new();
    for r in &settings.records {
        let Some(via) = r.via.as_ref().filter(|v| v.provider_via_line) else {
            continue;
        };
        let Some(p) = settings.provider(&r.provider) else {
            continue;
        };
        for line in settings
            .lines
            .iter()
            .filter(|l| via.lines.contains(&l.name))
        {
            out.entry((p.name.clone(), line.name.clone()))
                .or_insert_with(|| {
                    let local = match &line.bind {
                        #[cfg(not(any(
                            target_os = "linux",
                            target_os = "macos",
                            target_os = "android"
                        )))]
                        config::LineBind::Interface(name) => {
                            crate::detect::interface::address_of(name, r.record_type.family())
                        }
                        _ => None,
                    };
                    provider::build_with(p, crate::http::line_api_client(&line.bind, local))
                });
        }
    }
    out
}

/// The engine on the real parts and the system clock. `writes` is false for a dry run: the fingerprint key
/// is then read where it is, never created or moved.
pub fn engine(
    paths: &Paths,
    settings: Settings,
    store: Box<dyn StateStore>,
    writes: bool,
) -> Result<Engine, StoreError> {
    let legacy = paths.legacy_fingerprint_key();
    let key = if writes {
        FingerprintKey::load_or_create(&paths.fingerprint_key(), legacy.as_deref())
    } else {
        FingerprintKey::load(&paths.fingerprint_key(), legacy.as_deref())
    };
    Engine::new(settings, factory(), store, Clock::System, key, None)
}

/// What runs beside an engine and follows its events: the log, the alerts (`[[notify]]`), the history in the
/// data dir, and the metrics endpoint (`[metrics]`, when set, following reloads; one that cannot listen is
/// logged and left out). Awaiting the returned task after the engine is gone waits for alerts still being
/// delivered.
#[must_use]
pub fn companions(
    paths: &Paths,
    engine: &Engine,
    status: tokio::sync::watch::Receiver<crate::engine::Status>,
    shutdown: CancellationToken,
) -> tokio::task::JoinHandle<()> {
    let log = tokio::spawn(crate::notify::log_events(engine.subscribe()));
    let alerts = tokio::spawn(crate::notify::alerts::run(
        engine.subscribe(),
        status.clone(),
        engine.settings(),
    ));
    let history =
        tokio::spawn(crate::history::History::in_dir(&paths.data_dir).record(engine.subscribe()));
    let _metrics = crate::metrics::run(engine.subscribe(), status, engine.settings(), shutdown);
    tokio::spawn(async move {
        let _ = log.await;
        let _ = alerts.await;
        let _ = history.await;
    })
}

/// A warning when the config holds secrets written in it and other users can read it.
#[must_use]
pub fn config_exposure(path: &Path, settings: &Settings) -> Option<String> {
    let literal = settings.providers.iter().any(|p| {
        p.kind
            .secrets()
            .iter()
            .any(|s| matches!(s.source(), config::secret::SecretSource::Literal(_)))
    });
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(path).ok()?.permissions().mode();
        (literal && mode & 0o004 != 0).then(|| {
            format!(
                "{} holds secrets and every user can read it; run `chmod 600 {}` (for the system service: `chown root:{} {}` and `chmod 640`)",
                path.display(),
                path.display(),
                crate::service::SERVICE_USER,
                path.display()
            )
        })
    }
    #[cfg(not(unix))]
    {
        let _ = (path, literal);
        None
    }
}

/// A human summary of the settings, secrets masked (logged at start-up and printed by `check`).
#[must_use]
pub fn summary(settings: &Settings) -> String {
    let mut out = String::new();
    let max = settings.max_interval.map_or_else(
        || "never".to_owned(),
        |d| humantime::format_duration(d).to_string(),
    );
    let _ = writeln!(
        out,
        "check every {}, re-publish unchanged records every {max}",
        humantime::format_duration(settings.interval)
    );
    for family in config::Family::ALL
        .into_iter()
        .filter(|f| settings.family_enabled(*f))
    {
        let sources: Vec<String> = settings
            .detect
            .sources(family)
            .iter()
            .map(|s| source_label(&s.kind))
            .collect();
        let _ = writeln!(
            out,
            "{family} detection (policy {}): {}",
            settings.detect.policy,
            sources.join(", ")
        );
    }
    for p in &settings.providers {
        let _ = writeln!(
            out,
            "provider {} ({}): {}",
            p.name,
            p.kind.kind_name(),
            provider_detail(&p.kind)
        );
    }
    for l in &settings.lines {
        let _ = writeln!(out, "line {}: {}", l.name, l.bind);
    }
    for r in &settings.records {
        let ttl = r.ttl.map_or_else(String::new, |t| format!(" ttl {t}"));
        let from = r.via.as_ref().map_or_else(String::new, |v| {
            let how = if v.all {
                "all working".to_owned()
            } else {
                format!(
                    "failover, back after {}",
                    humantime::format_duration(v.hold_down)
                )
            };
            format!(" from lines {} ({how})", v.lines.join(", "))
        });
        let _ = writeln!(
            out,
            "record {} {} at {}{ttl}{from}",
            r.name, r.record_type, r.provider
        );
    }
    if settings.records.is_empty() {
        let _ = writeln!(out, "no records configured: detection only");
    }
    for n in &settings.notify {
        let what = if n.kind.is_heartbeat() {
            "a ping after every round".to_owned()
        } else {
            let events: Vec<&str> = n.events.iter().map(|e| e.as_str()).collect();
            format!(
                "{} alerts, at most {} an hour",
                events.join(", "),
                n.max_per_hour
            )
        };
        let _ = writeln!(out, "notify {} ({}): {what}", n.name, n.kind.kind_name());
    }
    if let Some(m) = &settings.metrics {
        let auth = if m.token.is_some() {
            ", bearer token required"
        } else {
            ""
        };
        let _ = writeln!(out, "metrics on http://{}/metrics{auth}", m.listen);
    }
    out
}

fn source_label(kind: &SourceKind) -> String {
    match kind {
        SourceKind::Http { url } => format!("http {}", crate::http::origin(url)),
        SourceKind::CloudflareTrace { url } => format!(
            "cloudflare-trace {}",
            url.as_deref()
                .map_or_else(|| "(default)".into(), crate::http::origin)
        ),
        SourceKind::Dns { server, name, .. } => format!(
            "dns {} @{}",
            name.as_deref().unwrap_or("myip.opendns.com"),
            server.as_deref().unwrap_or("(OpenDNS)")
        ),
        SourceKind::Interface { name } => {
            format!("interface {}", name.as_deref().unwrap_or("(default route)"))
        }
        SourceKind::Command { command } => {
            format!("command {}", command.first().map_or("", String::as_str))
        }
        SourceKind::Router { protocol, gateway } => format!(
            "router {} @{}",
            protocol.as_deref().unwrap_or("auto"),
            gateway.as_deref().unwrap_or("(default gateway)")
        ),
    }
}

/// The provider's fields in the order of the kinds table; secrets are shown as `***`, URLs that may carry
/// tokens (the webhook's) only as their origin.
fn provider_detail(kind: &ProviderKind) -> String {
    let info = kind.info();
    let Ok(toml::Value::Table(table)) = toml::Value::try_from(kind) else {
        return String::new();
    };
    let mut parts = Vec::new();
    for field in info.fields {
        let Some(value) = table.get(field.name) else {
            continue;
        };
        let shown = match (field.secret, field.name, value) {
            (true, _, toml::Value::Table(t)) => t
                .keys()
                .next()
                .map_or_else(|| "***".to_owned(), |k| format!("*** ({k})")),
            (true, _, _) => "***".to_owned(),
            (_, "url", toml::Value::String(u)) if info.kind == "webhook" => crate::http::origin(u),
            (_, "headers", toml::Value::Table(t)) => format!(
                "[{}]",
                t.keys()
                    .map(|k| format!("{k}: ***"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            (_, _, toml::Value::String(v)) => v.clone(),
            (_, _, other) => other.to_string(),
        };
        parts.push(format!("{} {shown}", field.name));
    }
    parts.join(", ")
}

/// Every provider kind with its fields and the credential it needs, from the kinds table.
#[must_use]
pub fn providers_help() -> String {
    let mut out = String::new();
    for k in provider::KINDS {
        let _ = writeln!(
            out,
            "{} ({})\n  credential: {}",
            k.kind, k.title, k.credential
        );
        for f in k.fields {
            let tag = match (f.required, f.secret) {
                (true, true) => "required, secret",
                (true, false) => "required",
                (false, _) => "optional",
            };
            let _ = writeln!(out, "  {:<18} {tag}: {}", f.name, f.help);
        }
    }
    out
}

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

/// Listens for `announcers` until the engine is gone (then returns); when there are none or listening
/// fails, only waits.
async fn hear_router(
    announcers: Vec<crate::detect::router::Announcer>,
    commands: mpsc::Sender<Command>,
) {
    let idle = async {
        commands.closed().await;
    };
    if announcers.is_empty() {
        return idle.await;
    }
    let gateways: Vec<String> = announcers.iter().map(|a| a.gateway.to_string()).collect();
    let mut listener = match crate::detect::router::Listener::bind(&announcers).await {
        Ok(l) => l,
        Err(why) => {
            tracing::warn!(
                "not hearing the router's announcements ({why}); checking every interval"
            );
            return idle.await;
        }
    };
    tracing::info!(
        "listening for NAT-PMP announcements from {}",
        gateways.join(", ")
    );
    loop {
        let heard = tokio::select! {
            () = commands.closed() => return,
            heard = listener.next() => heard,
        };
        match heard {
            Ok(a) => {
                tracing::info!("router {a}: checking now");
                let change = Command::NetworkChanged(config::Family::V4);
                if commands.send(change).await.is_err() {
                    return;
                }
            }
            Err(e) => {
                tracing::warn!(
                    "stopped hearing the router's announcements ({e}); checking every interval"
                );
                return idle.await;
            }
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
    let log = companions(paths, &engine, handle.status.clone(), shutdown.clone());
    let settings_in_force = engine.settings();
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
