//! Composition root: where validated [`Settings`] become concrete sources, providers, the state store, the
//! engine and the sinks that follow it. The command line, the daemon, the service and the tray all start
//! here: `daemon` (the headless daemon and a service waiting for a valid config), `backend` (what a daemon
//! serves a tray besides its engine: history, the config to view and change), `signals`, `summary` (the
//! settings in words).

mod backend;
mod daemon;
pub mod signals;
mod summary;

pub use backend::DaemonBackend;
pub use daemon::{await_config, daemon, watch_network, watch_router};
pub use summary::{providers_help, summary};

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::config;
use crate::detect::Detector;
use crate::settings::Settings;

use tokio_util::sync::CancellationToken;

use crate::engine::{Clock, Engine, Factory, Parts};
use crate::provider;
use crate::store::{FingerprintKey, StateStore, StoreError};

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
        let loaded = crate::settings::load(&self.config, missing, &self.lookup());
        if let Ok((_, settings)) = &loaded {
            crate::i18n::set(settings.language);
        }
        loaded
    }

    /// Loads the config to replace running settings: a missing or empty file keeps them.
    pub fn reload_config(
        &self,
    ) -> Result<(config::ConfigFile, Settings), crate::settings::LoadError> {
        let loaded = crate::settings::load(
            &self.config,
            crate::settings::Missing::KeepRunning,
            &self.lookup(),
        );
        if let Ok((_, settings)) = &loaded {
            crate::i18n::set(settings.language);
        }
        loaded
    }

    /// How this process finds the secrets a config names: the environment, the user's keyring, and the
    /// store in its data directory (`{ store = "…" }`, where a service keeps what a tray sent it).
    #[must_use]
    pub fn lookup(&self) -> crate::vault::VaultLookup {
        crate::vault::VaultLookup::new(self.vault())
    }

    /// The secret store in the data directory.
    #[must_use]
    pub fn vault(&self) -> crate::vault::Vault {
        crate::vault::Vault::in_data_dir(&self.data_dir)
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

/// Which sinks follow an engine's events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sinks {
    /// Only the log: a dry run changes nothing and tells nobody.
    Log,
    /// The log, the alerts (`[[notify]]`) and the history in the data dir: one round (`once`).
    Round,
    /// Those and the metrics endpoint (`[metrics]`, when set, following reloads; one that cannot listen is
    /// logged and left out): the daemon and the tray's own engine.
    All,
}

/// What runs beside an engine and follows its events, as `sinks` says. Awaiting the returned task after the
/// engine is gone waits for alerts still being delivered.
#[must_use]
pub fn companions(
    paths: &Paths,
    engine: &Engine,
    status: tokio::sync::watch::Receiver<crate::engine::Status>,
    shutdown: CancellationToken,
    sinks: Sinks,
) -> tokio::task::JoinHandle<()> {
    let log = tokio::spawn(crate::notify::log_events(engine.subscribe()));
    let told = (sinks != Sinks::Log).then(|| {
        (
            tokio::spawn(crate::notify::alerts::run(
                engine.subscribe(),
                status.clone(),
                engine.settings(),
            )),
            tokio::spawn(
                crate::history::History::in_dir(&paths.data_dir).record(engine.subscribe()),
            ),
        )
    });
    if sinks == Sinks::All {
        let _metrics = crate::metrics::run(engine.subscribe(), status, engine.settings(), shutdown);
    }
    tokio::spawn(async move {
        let _ = log.await;
        if let Some((alerts, history)) = told {
            let _ = history.await;
            let _ = alerts.await;
        }
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
            crate::i18n::tr(
                "cli.config_exposed",
                &[
                    ("path", &path.display()),
                    ("group", &crate::service::SERVICE_USER),
                ],
            )
        })
    }
    #[cfg(not(unix))]
    {
        let _ = (path, literal);
        None
    }
}
