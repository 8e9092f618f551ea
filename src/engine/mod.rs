//! The engine: one loop over tick / command / shutdown that detects the public IP and brings each record up to
//! date, with per-record backoff, stops and bans. No UI, no files, no environment: detection, providers and
//! the state store come in through [`Parts`] and [`StateStore`]; what happened goes out through a `watch` of
//! [`Status`] and a `broadcast` of [`Event`]s.
//!
//! - All waiting is `tokio::time` on the monotonic clock, so tests run it on paused time and a stepped wall
//!   clock cannot stall or hurry a retry. Wall-clock dates are only persisted (for restarts and `status`) and
//!   clamped when loaded: a date further ahead than its failure class allows came from a wrong clock.
//! - A round detects each family, decides per record, then runs the provider calls: providers concurrently,
//!   one provider's records started in order with its own small limit, so a slow API never delays another's
//!   records. Pause, Reload and Shutdown are answered while a round is in flight.
//! - The state is written at the end of a round that changed it, and at most once a second during a long
//!   one; a round that changed nothing writes nothing.
//! - Records with `lines` are published from the lines' own detections: the first working line (failover,
//!   switching back after a hold-down the loop wakes for) or every working one (`mode = "all"`).

pub mod backoff;
mod decide;
mod lines;
mod round;
mod state;
mod types;

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use tokio::sync::{broadcast, mpsc, oneshot, watch};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

pub use types::*;

use crate::config::Family;
use crate::detect::Detector;
use crate::provider::Provider;
use crate::settings::Settings;
use crate::store::{FingerprintKey, State, StateStore, StoreError};

/// How long a round in flight may go on after shutdown was asked for.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(3);
/// During a long round the state is written at most this often.
pub const SAVE_EVERY: Duration = Duration::from_secs(1);
/// During a round the status is republished at most this often.
const STATUS_EVERY: Duration = Duration::from_millis(250);
/// A network change is checked this long after it (a burst of changes is one check).
pub const EVENT_DEBOUNCE: Duration = Duration::from_millis(200);
/// Checks started by network changes are at least this far apart, doubling with each such check in the
/// last [`EVENT_WINDOW`] up to [`EVENT_GAP_MAX`]: a flapping link cannot hammer echo services. Only checks
/// that found nothing new count: the last real address never waits for the guard.
pub const EVENT_GAP: Duration = Duration::from_secs(5);
pub const EVENT_GAP_MAX: Duration = Duration::from_mins(5);
pub const EVENT_WINDOW: Duration = Duration::from_mins(10);

/// What the engine runs with, rebuilt from settings on `Reload`.
pub struct Parts {
    pub detector: Arc<Detector>,
    /// The detector of each `[[line]]`, by name.
    pub lines: HashMap<String, Arc<Detector>>,
    /// By provider name.
    pub providers: HashMap<String, Arc<dyn Provider>>,
    /// Providers whose calls go through a line (`provider_via_line`), by (provider, line).
    pub line_providers: HashMap<(String, String), Arc<dyn Provider>>,
}

/// Builds [`Parts`] from settings (the composition root supplies the real one; tests supply fakes).
pub type Factory = Arc<dyn Fn(&Settings) -> Parts + Send + Sync>;

/// The wall clock. The real one reads the system time; the test one follows tokio's (pausable) clock, and
/// can be stepped like a real clock that is set wrong.
#[derive(Debug, Clone)]
pub enum Clock {
    System,
    Tokio {
        wall: SystemTime,
        at: Instant,
        /// Added to the reading: a test steps the wall clock with [`Clock::step`].
        offset: Arc<std::sync::Mutex<(bool, Duration)>>,
    },
}

impl Clock {
    /// A clock starting at `wall` now and advancing with tokio time.
    #[must_use]
    pub fn tokio(wall: SystemTime) -> Self {
        Self::Tokio {
            wall,
            at: Instant::now(),
            offset: Arc::default(),
        }
    }

    #[must_use]
    pub fn now(&self) -> SystemTime {
        match self {
            Self::System => SystemTime::now(),
            Self::Tokio { wall, at, offset } => {
                let base = *wall + at.elapsed();
                match offset.lock().map(|o| *o) {
                    Ok((true, d)) => base + d,
                    Ok((false, d)) => base.checked_sub(d).unwrap_or(base),
                    Err(_) => base,
                }
            }
        }
    }

    /// Steps a test clock forward (`ahead`) or back by `by`, as an NTP correction or a wrong setting would.
    pub fn step(&self, ahead: bool, by: Duration) {
        if let Self::Tokio { offset, .. } = self
            && let Ok(mut o) = offset.lock()
        {
            *o = (ahead, by);
        }
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
    /// `store::record_key` of each configured record, in settings order.
    keys: Vec<String>,
    parts: Parts,
    factory: Factory,
    store: Box<dyn StateStore>,
    state: State,
    key: FingerprintKey,
    clock: Clock,
    rng: fastrand::Rng,
    status: watch::Sender<Status>,
    /// The settings in force, for the parts outside the engine that follow reloads (alerts, metrics).
    settings_watch: watch::Sender<Arc<Settings>>,
    events: broadcast::Sender<Event>,
    paused: bool,
    /// The detection error per family, to report a failure streak once.
    detect_errors: HashMap<Family, String>,
    /// Why DDNS may not reach this host, as last found (reported on change).
    reach: Option<crate::detect::reach::Reach>,
    last_check: Option<SystemTime>,
    /// When each failing record may be tried again, on the monotonic clock.
    due: HashMap<String, Instant>,
    /// When each record was last published, on the monotonic clock (`None`: before this process's clock
    /// began, which is as good as "long ago").
    published_mono: HashMap<String, Option<Instant>>,
    /// The state changed since it was last written.
    dirty: bool,
    store_error: Option<String>,
    /// Network changes waiting for their check: when, and which families.
    event_due: Option<Instant>,
    event_families: std::collections::BTreeSet<Family>,
    /// When recent event checks ran (the last [`EVENT_WINDOW`]), for the rate limit.
    event_checks: std::collections::VecDeque<Instant>,
    /// The latest detection through each `[[line]]`, by (line, family).
    line_status: BTreeMap<(String, Family), Result<std::net::IpAddr, String>>,
    /// Which line each failover record publishes from, by record key.
    line_choice: HashMap<String, round::LineChoice>,
    /// When a failover record may switch back to a preferred line that works again, by record key.
    hold_until: HashMap<String, Instant>,
    /// Set for a round started by network changes: only these families are checked.
    round_families: Option<std::collections::BTreeSet<Family>>,
    network_events: NetworkEvents,
    /// Writes sent by a round that a pause or reload cut short, waiting for their answers.
    in_flight: round::InFlight,
    /// When each record's recent writes were sent (the write budget), and when a held-back one may go.
    writes: HashMap<String, std::collections::VecDeque<Instant>>,
    budget_until: HashMap<String, Instant>,
}

impl Engine {
    /// Builds the engine and loads its state. `rng_seed` makes jitter reproducible in tests. Fails only when
    /// the state cannot be read (never when it is merely corrupt: that is moved aside).
    pub fn new(
        settings: Settings,
        factory: Factory,
        mut store: Box<dyn StateStore>,
        clock: Clock,
        key: FingerprintKey,
        rng_seed: Option<u64>,
    ) -> Result<Self, StoreError> {
        let parts = factory(&settings);
        let state = store.load()?;
        let (status, _) = watch::channel(Status::default());
        let (events, _) = broadcast::channel(256);
        let settings = Arc::new(settings);
        let (settings_watch, _) = watch::channel(settings.clone());
        let mut engine = Self {
            keys: settings.records.iter().map(round::key).collect(),
            settings,
            settings_watch,
            parts,
            factory,
            store,
            state,
            key,
            clock,
            rng: rng_seed.map_or_else(fastrand::Rng::new, fastrand::Rng::with_seed),
            status,
            events,
            paused: false,
            detect_errors: HashMap::new(),
            reach: None,
            last_check: None,
            due: HashMap::new(),
            published_mono: HashMap::new(),
            dirty: false,
            store_error: None,
            event_due: None,
            event_families: std::collections::BTreeSet::new(),
            event_checks: std::collections::VecDeque::new(),
            round_families: None,
            network_events: NetworkEvents::Off,
            in_flight: round::InFlight::default(),
            writes: HashMap::new(),
            budget_until: HashMap::new(),
            line_status: BTreeMap::new(),
            line_choice: HashMap::new(),
            hold_until: HashMap::new(),
        };
        engine.adopt_loaded_times();
        engine.prune_state();
        engine.publish_status(false);
        Ok(engine)
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

    /// The sender of the engine's events, for subscribers that come later (clients of the control endpoint).
    #[must_use]
    pub fn events(&self) -> broadcast::Sender<Event> {
        self.events.clone()
    }

    /// The settings in force, replaced on every reload.
    #[must_use]
    pub fn settings(&self) -> watch::Receiver<Arc<Settings>> {
        self.settings_watch.subscribe()
    }

    /// Runs until `shutdown` is cancelled, a `Shutdown` command arrives, or every handle is dropped.
    /// The first round starts at once.
    pub async fn run(mut self, mut commands: mpsc::Receiver<Command>, shutdown: CancellationToken) {
        let mut next_check = Instant::now();
        // Commands that arrived during a round and are handled after it.
        let mut later: Vec<Command> = Vec::new();
        'outer: loop {
            let command = if later.is_empty() {
                let wake = if self.paused {
                    None
                } else {
                    let at = self.next_wake(next_check);
                    Some(self.event_due.map_or(at, |e| e.min(at)))
                };
                tokio::select! {
                    biased;
                    () = shutdown.cancelled() => break,
                    command = self.next_command(&mut commands) => match command {
                        None => break,
                        Some(c) => c,
                    },
                    () = sleep_until(wake) => {
                        let now = Instant::now();
                        let scheduled = now >= next_check;
                        // Only network changes woke us: check just their families.
                        let event_only = self.event_due.is_some_and(|d| now >= d)
                            && !scheduled
                            && !self.due.values().any(|d| *d <= now);
                        let by_event = self.event_due.is_some_and(|d| now >= d);
                        if by_event {
                            self.event_due = None;
                            self.event_checks.push_back(now);
                            let families = std::mem::take(&mut self.event_families);
                            self.round_families = event_only.then_some(families);
                        }
                        let known = self.state.last_ip.clone();
                        let end = self.round_in(Mode::Tick, Some(&mut commands), &shutdown).await;
                        self.round_families = None;
                        self.flap_guard_after(by_event, &known);
                        if scheduled {
                            next_check = Instant::now() + self.settings.interval;
                        }
                        later.extend(end.deferred);
                        if end.stop {
                            break;
                        }
                        continue;
                    }
                }
            } else {
                later.remove(0)
            };
            match command {
                Command::Shutdown => break,
                Command::Ping(reply) => {
                    let _ = reply.send(());
                }
                Command::Pause => {
                    if !self.paused {
                        self.paused = true;
                        let _ = self.events.send(Event::Paused);
                        self.publish_status(false);
                    }
                }
                Command::Resume => {
                    if self.paused {
                        self.paused = false;
                        let _ = self.events.send(Event::Resumed);
                        next_check = Instant::now();
                        self.publish_status(false);
                    }
                }
                Command::Reload(settings) => {
                    self.reload(*settings);
                    next_check = Instant::now();
                }
                Command::NetworkChanged(family) => self.network_changed(&[family]),
                Command::Woke => {
                    tracing::info!("woke from sleep: checking now");
                    self.network_changed(&Family::ALL);
                }
                Command::NetworkEvents(state) => {
                    self.network_events = state;
                    self.publish_status(false);
                }
                Command::UpdateNow { force, reply } => {
                    let mode = if force { Mode::Force } else { Mode::Manual };
                    let end = self.round_in(mode, Some(&mut commands), &shutdown).await;
                    if let (Some(reply), Some(report)) = (reply, end.report) {
                        let _ = reply.send(report);
                    }
                    next_check = Instant::now() + self.settings.interval;
                    later.extend(end.deferred);
                    if end.stop {
                        break 'outer;
                    }
                }
            }
        }
        self.persist();
        tracing::debug!("engine stopped");
    }

    /// The next instant to wake: the scheduled check, or an earlier retry of a record in backoff. Never in
    /// the past: a retry that came due was handled by the round that ran then.
    fn next_wake(&self, next_check: Instant) -> Instant {
        let now = Instant::now();
        let retry = self
            .due
            .values()
            .chain(self.hold_until.values())
            .chain(self.budget_until.values().filter(|t| **t > now))
            .min()
            .copied();
        retry.map_or(next_check, |r| r.min(next_check))
    }

    /// The flap guard slows only noise: a check started by network changes that found a new address (the
    /// last detected ones were `known` before it) does not count towards the gap, so the next real change is
    /// checked as promptly as this one.
    fn flap_guard_after(&mut self, by_event: bool, known: &BTreeMap<Family, std::net::IpAddr>) {
        if by_event && self.state.last_ip != *known {
            self.event_checks.pop_back();
        }
    }

    /// Schedules a check of `families` after a network change: [`EVENT_DEBOUNCE`] from now, and no sooner
    /// than the rate limit allows after the last such check. Paused, nothing is scheduled.
    fn network_changed(&mut self, families: &[Family]) {
        for &family in families {
            let _ = self.events.send(Event::NetworkChanged { family });
        }
        let enabled: Vec<Family> = families
            .iter()
            .copied()
            .filter(|f| self.settings.family_enabled(*f))
            .collect();
        if self.paused || enabled.is_empty() {
            return;
        }
        self.event_families.extend(enabled);
        if self.event_due.is_some() {
            return; // already scheduled: a burst is one check
        }
        let now = Instant::now();
        while self
            .event_checks
            .front()
            .is_some_and(|t| now.duration_since(*t) > EVENT_WINDOW)
        {
            self.event_checks.pop_front();
        }
        let mut at = now + EVENT_DEBOUNCE;
        if let Some(last) = self.event_checks.back() {
            let recent = u32::try_from(self.event_checks.len()).unwrap_or(u32::MAX);
            let gap = EVENT_GAP
                .saturating_mul(2u32.saturating_pow(recent.saturating_sub(1)))
                .min(EVENT_GAP_MAX);
            at = at.max(*last + gap);
        }
        tracing::debug!(
            "network change: checking {:?} in {} ms",
            self.event_families,
            at.duration_since(now).as_millis()
        );
        self.event_due = Some(at);
    }

    fn reload(&mut self, settings: Settings) {
        self.parts = (self.factory)(&settings);
        self.keys = settings.records.iter().map(round::key).collect();
        self.settings = Arc::new(settings);
        self.settings_watch.send_replace(self.settings.clone());
        // Lines may have changed: choose afresh.
        self.line_status.clear();
        self.line_choice.clear();
        self.hold_until.clear();
        // Told to publish regardless, the engine no longer judges whether DDNS can reach this host.
        if self.settings.detect.behind_nat == crate::detect::settings::BehindNat::Publish {
            self.reach = None;
        }
        // The write budget follows the records that are still configured.
        self.writes.retain(|k, _| self.keys.contains(k));
        self.budget_until.retain(|k, _| self.keys.contains(k));
        self.prune_state();
        self.persist();
        let _ = self.events.send(Event::Reloaded);
        self.publish_status(false);
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
