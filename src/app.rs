//! Composition root: the only place that turns validated [`Settings`] into concrete sources, providers, the
//! state store and the engine. The headless commands (and later the tray) start here.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::config::{self, ProviderKind, Settings, SourceKind};
use crate::detect::Detector;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::engine::{Clock, Command, Engine, Factory, Parts};
use crate::provider;
use crate::store::{FileStore, StateStore};

/// Environment variable overriding the data directory (state file and logs).
pub const DATA_DIR_ENV: &str = "DDNS_TRAY_DATA_DIR";

/// Where things live.
#[derive(Debug, Clone)]
pub struct Paths {
    pub config: PathBuf,
    pub data_dir: PathBuf,
}

impl Paths {
    /// `--config` / `DDNS_TRAY_CONFIG` / the OS config dir, and `--data-dir` / `DDNS_TRAY_DATA_DIR` / the OS data dir.
    pub fn resolve(config: Option<&Path>, data_dir: Option<&Path>) -> Result<Self, String> {
        let config = config::resolve_path(config).map_err(|e| e.to_string())?;
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
        Ok(Self { config, data_dir })
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
        detector: Detector::from_settings(&settings.detect),
        providers: settings
            .providers
            .iter()
            .map(|p| (p.name.clone(), provider::build(p)))
            .collect::<HashMap<_, _>>(),
    })
}

/// The engine on the real parts and the system clock.
#[must_use]
pub fn engine(settings: Settings, store: Box<dyn StateStore>) -> Engine {
    Engine::new(settings, factory(), store, Clock::System, None)
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
    for r in &settings.records {
        let ttl = r.ttl.map_or_else(String::new, |t| format!(" ttl {t}"));
        let _ = writeln!(
            out,
            "record {} {} at {}{ttl}",
            r.name, r.record_type, r.provider
        );
    }
    if settings.records.is_empty() {
        let _ = writeln!(out, "no records configured: detection only");
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
    }
}

/// The provider's fields in the order of the kinds table; secrets are shown as `***`, URLs that may carry
/// tokens (the webhook's) only as their origin.
fn provider_detail(kind: &ProviderKind) -> String {
    let Some(info) = config::providers::kind_info(kind.kind_name()) else {
        return String::new();
    };
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
    for k in config::providers::KINDS {
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

/// Where the system service publishes its status for the tray apps of the machine's users
/// (`DDNS_TRAY_SERVICE_STATUS` overrides it).
#[must_use]
pub fn service_status_path() -> PathBuf {
    std::env::var_os("DDNS_TRAY_SERVICE_STATUS")
        .filter(|p| !p.is_empty())
        .map_or_else(
            || PathBuf::from("/run/ddns-tray/status.json"),
            PathBuf::from,
        )
}

/// The status a daemon publishes for tray apps: the engine's status and the daemon's process id.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct PublishedStatus {
    pub pid: u32,
    pub status: crate::engine::Status,
}

/// Keeps `path` holding the engine's latest status (world-readable: no secrets are in it) until the engine
/// stops, then removes it.
async fn publish_status(
    path: PathBuf,
    mut status: tokio::sync::watch::Receiver<crate::engine::Status>,
) {
    loop {
        let published = PublishedStatus {
            pid: std::process::id(),
            status: status.borrow_and_update().clone(),
        };
        if let Ok(json) = serde_json::to_vec_pretty(&published) {
            match crate::store::write_atomic(&path, &json) {
                Ok(()) => {
                    #[cfg(unix)]
                    {
                        use std::os::unix::fs::PermissionsExt as _;
                        let _ =
                            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644));
                    }
                }
                Err(e) => tracing::warn!("cannot publish the status to {}: {e}", path.display()),
            }
        }
        if status.changed().await.is_err() {
            break;
        }
    }
    let _ = std::fs::remove_file(&path);
}

/// The headless daemon: opens (and locks) the state, runs the engine with the log notifier until `shutdown`
/// is cancelled, then stops it within 5 s. With `status_file`, it publishes its status there for tray apps. `on_start` receives the engine's command sender (for reloads).
/// Used by `ddns-tray run` and by the Windows service.
pub async fn daemon(
    paths: &Paths,
    settings: Settings,
    shutdown: CancellationToken,
    status_file: Option<PathBuf>,
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
    let engine = engine(settings, Box::new(store));
    let (handle, commands) = engine.handle();
    let log = tokio::spawn(crate::notify::log_events(engine.subscribe()));
    let publisher =
        status_file.map(|path| tokio::spawn(publish_status(path, handle.status.clone())));
    let mut task = tokio::spawn(engine.run(commands, shutdown.clone()));
    on_start(handle.commands.clone());
    tokio::select! {
        _ = &mut task => {}
        () = shutdown.cancelled() => {
            if tokio::time::timeout(Duration::from_secs(5), &mut task).await.is_err() {
                tracing::warn!("the engine did not stop within 5 s; exiting anyway");
            }
        }
    }
    drop(handle);
    let _ = tokio::time::timeout(Duration::from_secs(1), log).await;
    if let Some(publisher) = publisher {
        let _ = tokio::time::timeout(Duration::from_secs(1), publisher).await;
    }
    tracing::info!("stopped");
    Ok(())
}
