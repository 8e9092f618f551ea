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
mod round;
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

    /// Turns the persisted wall-clock dates into monotonic instants, clamping dates from a wrong clock: a
    /// retry further ahead than the wait its failure asked for (saved beside it; for older state files, its
    /// class's longest delay) is brought down to that wait, a publication in the future is taken as now.
    fn adopt_loaded_times(&mut self) {
        let now = self.clock.now();
        let now_i = Instant::now();
        for (key, st) in &mut self.state.records {
            if let Some(next) = st.next_attempt {
                let longest = backoff::longest(st.last_error_class);
                let limit = st
                    .retry_wait_secs
                    .map_or(longest, |w| Duration::from_secs(w).min(longest));
                let wait = next.duration_since(now).unwrap_or(Duration::ZERO);
                if wait > limit {
                    tracing::warn!(
                        record = %st.name,
                        "the saved retry time is {} ahead, more than its failure allows ({}): the clock was wrong; retrying in {}",
                        humantime::format_duration(Duration::from_secs(wait.as_secs())),
                        humantime::format_duration(limit),
                        humantime::format_duration(limit),
                    );
                    st.next_attempt = Some(now + limit);
                    self.dirty = true;
                }
                if st.failures > 0 && !st.stopped {
                    self.due.insert(key.clone(), now_i + wait.min(limit));
                }
            }
            if let Some(at) = st.published_at {
                let age = now.duration_since(at).unwrap_or(Duration::ZERO);
                if at > now {
                    st.published_at = Some(now);
                    self.dirty = true;
                }
                self.published_mono
                    .insert(key.clone(), now_i.checked_sub(age));
            }
        }
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
        // The write budget follows the records that are still configured.
        self.writes.retain(|k, _| self.keys.contains(k));
        self.budget_until.retain(|k, _| self.keys.contains(k));
        self.prune_state();
        self.persist();
        let _ = self.events.send(Event::Reloaded);
        self.publish_status(false);
    }

    /// Drops state of records no longer configured.
    fn prune_state(&mut self) {
        let keys: std::collections::HashSet<&String> = self.keys.iter().collect();
        let before = self.state.records.len();
        self.state.records.retain(|k, _| keys.contains(k));
        self.due.retain(|k, _| keys.contains(k));
        self.published_mono.retain(|k, _| keys.contains(k));
        if self.state.records.len() != before {
            self.dirty = true;
        }
    }

    /// Writes the state if it changed. A failure is kept in the status (and told once) until a write works.
    fn persist(&mut self) {
        if !self.dirty {
            return;
        }
        match self.store.save(&self.state) {
            Ok(()) => {
                self.dirty = false;
                if self.store_error.take().is_some() {
                    let _ = self.events.send(Event::StateSaved);
                }
            }
            Err(e) => {
                let text = e.to_string();
                if self.store_error.as_deref() != Some(text.as_str()) {
                    tracing::error!("{text}");
                    let _ = self.events.send(Event::StateNotSaved {
                        error: text.clone(),
                    });
                }
                self.store_error = Some(text);
            }
        }
    }

    fn publish_status(&self, updating: bool) {
        self.status.send_replace(self.snapshot(updating));
    }

    /// The status: one pass over the records (O(records)).
    fn snapshot(&self, updating: bool) -> Status {
        let now = self.clock.now();
        let now_i = Instant::now();
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
            .zip(&self.keys)
            .map(|(r, key)| {
                let st = self.state.records.get(key);
                let phase = match st {
                    Some(s) if s.stopped => Phase::Stopped,
                    Some(s) if s.failures > 0 => Phase::Failing,
                    Some(s) if s.published.is_some() => Phase::Ok,
                    _ => Phase::Pending,
                };
                let wall = |at: Option<&Instant>| {
                    at.filter(|d| **d > now_i)
                        .map(|d| now + d.duration_since(now_i))
                };
                RecordStatus {
                    name: r.name.clone(),
                    record_type: r.record_type,
                    provider: r.provider.clone(),
                    line: r.line.clone(),
                    published: st.and_then(|s| s.published),
                    published_at: st.and_then(|s| s.published_at),
                    phase,
                    failures: st.map_or(0, |s| s.failures),
                    next_attempt: wall(self.due.get(key)),
                    last_error: st.and_then(|s| s.last_error.clone()),
                    via: self
                        .line_choice
                        .get(key)
                        .map(|c| c.using.clone())
                        .unwrap_or_default(),
                    held_until: wall(self.budget_until.get(key)),
                }
            })
            .collect();
        let last_update = records.iter().filter_map(|r| r.published_at).max();
        let last_error = self
            .store_error
            .clone()
            .or_else(|| {
                records
                    .iter()
                    .filter(|r| r.phase != Phase::Ok)
                    .find_map(|r| r.last_error.clone())
            })
            .or_else(|| self.detect_errors.values().next().cloned());
        Status {
            paused: self.paused,
            updating,
            ipv4: ip(Family::V4),
            ipv6: ip(Family::V6),
            detect_errors: self
                .detect_errors
                .iter()
                .map(|(f, e)| (*f, e.clone()))
                .collect(),
            last_check: self.last_check,
            last_update,
            last_error,
            store_error: self.store_error.clone(),
            config_problems: Vec::new(),
            network_events: self.network_events.clone(),
            lines: self
                .settings
                .lines
                .iter()
                .map(|l| {
                    let mut st = LineStatus {
                        name: l.name.clone(),
                        ipv4: None,
                        ipv6: None,
                        errors: BTreeMap::new(),
                    };
                    for family in Family::ALL {
                        match self.line_status.get(&(l.name.clone(), family)) {
                            Some(Ok(ip)) if family == Family::V4 => st.ipv4 = Some(*ip),
                            Some(Ok(ip)) => st.ipv6 = Some(*ip),
                            Some(Err(e)) => {
                                st.errors.insert(family, e.clone());
                            }
                            None => {}
                        }
                    }
                    st
                })
                .collect(),
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
