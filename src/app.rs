//! Composition root: the only place that turns validated [`Settings`] into concrete sources, providers, the
//! state store and the engine. The headless commands (and later the tray) start here.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::config::{self, ProviderKind, Settings, SourceKind};
use crate::detect::Detector;
use crate::engine::{Clock, Engine, Factory, Parts};
use crate::provider;
use crate::store::StateStore;

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

/// The non-secret facts of a provider; secrets are shown as `***`.
fn provider_detail(kind: &ProviderKind) -> String {
    match kind {
        ProviderKind::Powerdns(c) => format!(
            "url {}, api_key {:?}, zone {}",
            c.url,
            c.api_key,
            c.zone.as_deref().unwrap_or("(auto)")
        ),
        ProviderKind::Rfc2136(c) => format!(
            "server {}, zone {}, key {} ({}), key_secret {:?}",
            c.server,
            c.zone,
            c.key_name,
            c.key_algorithm.as_deref().unwrap_or("hmac-sha256"),
            c.key_secret
        ),
        ProviderKind::Webhook(c) => {
            let headers: Vec<String> = c
                .headers
                .iter()
                .map(|(k, v)| format!("{k}: {v:?}"))
                .collect();
            format!(
                "{} {}, headers [{}]",
                c.method
                    .as_deref()
                    .unwrap_or(if c.body.is_some() { "POST" } else { "GET" }),
                crate::http::origin(&c.url),
                headers.join(", ")
            )
        }
    }
}
