//! The engine: one loop over tick / command / shutdown that detects the public IP and brings each record up to
//! date, with per-record backoff, stops and bans. No UI, no files, no environment: detection, providers and
//! the state store come in through [`Parts`] and [`StateStore`]; what happened goes out through a `watch` of
//! [`Status`] and a `broadcast` of [`Event`]s.
//!
//! All waiting is `tokio::time`, so tests run it on paused time.

pub mod backoff;
mod round;
mod types;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use tokio::sync::{broadcast, mpsc, oneshot, watch};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

pub use types::*;

use crate::config::Settings;
use crate::detect::Detector;
use crate::provider::Provider;
use crate::store::{State, StateStore};

/// How long a round in flight may go on after shutdown was asked for.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(3);

/// What the engine runs with, rebuilt from settings on `Reload`.
pub struct Parts {
    pub detector: Detector,
    /// By provider name.
    pub providers: HashMap<String, Arc<dyn Provider>>,
}

/// Builds [`Parts`] from settings (the composition root supplies the real one; tests supply fakes).
pub type Factory = Arc<dyn Fn(&Settings) -> Parts + Send + Sync>;

/// The wall clock. The real one reads the system time; the test one follows tokio's (pausable) clock.
#[derive(Debug, Clone, Copy)]
pub enum Clock {
    System,
    Tokio { wall: SystemTime, at: Instant },
}

impl Clock {
    /// A clock starting at `wall` now and advancing with tokio time.
    #[must_use]
    pub fn tokio(wall: SystemTime) -> Self {
        Self::Tokio {
            wall,
            at: Instant::now(),
        }
    }

    #[must_use]
    pub fn now(&self) -> SystemTime {
        match self {
            Self::System => SystemTime::now(),
            Self::Tokio { wall, at } => *wall + at.elapsed(),
        }
    }

    /// The tokio instant at which the clock will read `when`.
    #[must_use]
    pub fn instant_at(&self, when: SystemTime) -> Instant {
        Instant::now() + when.duration_since(self.now()).unwrap_or(Duration::ZERO)
    }
}

/// The handle the tray and the daemon hold.
#[derive(Clone)]
pub struct Handle {
    pub commands: mpsc::Sender<Command>,
    pub status: watch::Receiver<Status>,
}

impl Handle {
    /// Runs a round now and waits for its report. `None` when the engine is gone.
    pub async fn update_now(&self, force: bool) -> Option<RoundReport> {
        let (reply, rx) = oneshot::channel();
        self.commands
            .send(Command::UpdateNow {
                force,
                reply: Some(reply),
            })
            .await
            .ok()?;
        rx.await.ok()
    }
}

/// The engine's state between rounds.
pub struct Engine {
    settings: Arc<Settings>,
    parts: Parts,
    factory: Factory,
    store: Box<dyn StateStore>,
    state: State,
    clock: Clock,
    rng: fastrand::Rng,
    status: watch::Sender<Status>,
    events: broadcast::Sender<Event>,
    paused: bool,
    /// The detection error per family, to report a failure streak once.
    detect_errors: HashMap<crate::config::Family, String>,
    last_round: Option<RoundReport>,
}

impl Engine {
    /// Builds the engine and loads its state. `rng_seed` makes jitter reproducible in tests.
    pub fn new(
        settings: Settings,
        factory: Factory,
        mut store: Box<dyn StateStore>,
        clock: Clock,
        rng_seed: Option<u64>,
    ) -> Self {
        let parts = factory(&settings);
        let state = store.load();
        let (status, _) = watch::channel(Status::default());
        let (events, _) = broadcast::channel(256);
        let mut engine = Self {
            settings: Arc::new(settings),
            parts,
            factory,
            store,
            state,
            clock,
            rng: rng_seed.map_or_else(fastrand::Rng::new, fastrand::Rng::with_seed),
            status,
            events,
            paused: false,
            detect_errors: HashMap::new(),
            last_round: None,
        };
        engine.prune_state();
        engine.publish_status(false);
        engine
    }

    /// A handle plus the command receiver to pass to [`Engine::run`].
    #[must_use]
    pub fn handle(&self) -> (Handle, mpsc::Receiver<Command>) {
        let (tx, rx) = mpsc::channel(16);
        (
            Handle {
                commands: tx,
                status: self.status.subscribe(),
            },
            rx,
        )
    }

    #[must_use]
    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.events.subscribe()
    }

    /// Runs until `shutdown` is cancelled, a `Shutdown` command arrives, or every handle is dropped.
    /// The first round starts at once.
    pub async fn run(mut self, mut commands: mpsc::Receiver<Command>, shutdown: CancellationToken) {
        let mut next_check = Instant::now();
        loop {
            let wake = if self.paused {
                None
            } else {
                Some(self.next_wake(next_check))
            };
            tokio::select! {
                biased;
                () = shutdown.cancelled() => break,
                command = commands.recv() => match command {
                    None | Some(Command::Shutdown) => break,
                    Some(Command::Pause) => {
                        if !self.paused {
                            self.paused = true;
                            let _ = self.events.send(Event::Paused);
                            self.publish_status(false);
                        }
                    }
                    Some(Command::Resume) => {
                        if self.paused {
                            self.paused = false;
                            let _ = self.events.send(Event::Resumed);
                            next_check = Instant::now();
                            self.publish_status(false);
                        }
                    }
                    Some(Command::Reload(settings)) => {
                        self.reload(*settings);
                        next_check = Instant::now();
                    }
                    Some(Command::UpdateNow { force, reply }) => {
                        let mode = if force { Mode::Force } else { Mode::Manual };
                        if let Some(report) = self.guarded_round(mode, &shutdown).await
                            && let Some(reply) = reply {
                                let _ = reply.send(report);
                            }
                        next_check = Instant::now() + self.settings.interval;
                    }
                },
                () = sleep_until(wake) => {
                    let scheduled = Instant::now() >= next_check;
                    self.guarded_round(Mode::Tick, &shutdown).await;
                    if scheduled {
                        next_check = Instant::now() + self.settings.interval;
                    }
                }
            }
        }
        self.persist();
        tracing::debug!("engine stopped");
    }

    /// The next instant to wake: the scheduled check, or an earlier retry of a record in backoff.
    fn next_wake(&self, next_check: Instant) -> Instant {
        let retry = self
            .state
            .records
            .values()
            .filter(|r| !r.stopped && r.failures > 0)
            .filter_map(|r| r.next_attempt)
            .min()
            .map(|t| self.clock.instant_at(t));
        retry.map_or(next_check, |r| r.min(next_check))
    }

    /// Runs a round; on shutdown it gets [`SHUTDOWN_GRACE`] to finish, then is abandoned.
    async fn guarded_round(
        &mut self,
        mode: Mode,
        shutdown: &CancellationToken,
    ) -> Option<RoundReport> {
        let round = self.round(mode);
        tokio::pin!(round);
        tokio::select! {
            report = &mut round => Some(report),
            () = shutdown.cancelled() => tokio::time::timeout(SHUTDOWN_GRACE, round).await.ok(),
        }
    }

    fn reload(&mut self, settings: Settings) {
        self.parts = (self.factory)(&settings);
        self.settings = Arc::new(settings);
        self.prune_state();
        self.persist();
        let _ = self.events.send(Event::Reloaded);
        self.publish_status(false);
    }

    /// Drops state of records no longer configured.
    fn prune_state(&mut self) {
        let keys: std::collections::HashSet<String> =
            self.settings.records.iter().map(round::key).collect();
        self.state.records.retain(|k, _| keys.contains(k));
    }

    fn persist(&mut self) {
        if let Err(e) = self.store.save(&self.state) {
            tracing::error!("{e}");
        }
    }

    fn publish_status(&self, updating: bool) {
        self.status.send_replace(self.snapshot(updating));
    }

    fn snapshot(&self, updating: bool) -> Status {
        let now = self.clock.now();
        let ip = |f| {
            self.state
                .last_ip
                .get(&f)
                .copied()
                .filter(|_| self.settings.family_enabled(f))
        };
        let records: Vec<RecordStatus> = self
            .settings
            .records
            .iter()
            .map(|r| {
                let st = self
                    .state
                    .records
                    .get(&round::key(r))
                    .cloned()
                    .unwrap_or_default();
                let phase = if st.stopped {
                    Phase::Stopped
                } else if st.failures > 0 {
                    Phase::Failing
                } else if st.published.is_some() {
                    Phase::Ok
                } else {
                    Phase::Pending
                };
                RecordStatus {
                    name: r.name.clone(),
                    record_type: r.record_type,
                    provider: r.provider.clone(),
                    published: st.published,
                    published_at: st.published_at,
                    phase,
                    failures: st.failures,
                    next_attempt: st.next_attempt.filter(|t| *t > now),
                    last_error: st.last_error,
                }
            })
            .collect();
        let last_update = records.iter().filter_map(|r| r.published_at).max();
        let last_error = records
            .iter()
            .filter(|r| r.phase != Phase::Ok)
            .find_map(|r| r.last_error.clone())
            .or_else(|| self.detect_errors.values().next().cloned());
        Status {
            paused: self.paused,
            updating,
            ipv4: ip(crate::config::Family::V4),
            ipv6: ip(crate::config::Family::V6),
            detect_errors: self
                .detect_errors
                .iter()
                .map(|(f, e)| (*f, e.clone()))
                .collect(),
            last_check: self.last_round.as_ref().map(|r| r.at),
            last_update,
            last_error,
            records,
        }
    }
}

async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

#[cfg(test)]
mod tests;
