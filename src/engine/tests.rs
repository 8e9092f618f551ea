//! Engine behaviour on paused tokio time: schedule, backoff, Retry-After, stops, bans, keep-alive, restart.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use tokio::sync::broadcast;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::*;
use crate::detect::Policy;
use crate::detect::{Configured, Query, Source};
use crate::provider::{ErrorClass, ProviderError, UpdateOutcome, UpdateRequest};
use crate::settings::load_str;
use crate::store::MemoryStore;

const MIN: Duration = Duration::from_mins(1);

#[derive(Clone)]
struct FakeSource {
    answer: Arc<Mutex<Result<IpAddr, String>>>,
    calls: Arc<Mutex<usize>>,
    /// After this many calls the source never answers again: a busy loop then stalls (and its test fails)
    /// instead of spinning forever on paused time.
    cap: Option<usize>,
    /// The family of every question asked.
    asked: Arc<Mutex<Vec<crate::config::Family>>>,
}

#[async_trait]
impl Source for FakeSource {
    fn label(&self) -> String {
        "fake".into()
    }
    async fn fetch(&self, q: Query) -> Result<IpAddr, String> {
        self.asked.lock().unwrap().push(q.family);
        let calls = {
            let mut c = self.calls.lock().unwrap();
            *c += 1;
            *c
        };
        if self.cap.is_some_and(|cap| calls > cap) {
            std::future::pending::<()>().await;
        }
        self.answer.lock().unwrap().clone()
    }
}

#[derive(Default)]
struct FakeProvider {
    script: Mutex<VecDeque<Result<UpdateOutcome, ProviderError>>>,
    calls: Mutex<Vec<(Duration, IpAddr)>>,
    hang: Mutex<bool>,
    start: Mutex<Option<Instant>>,
}

#[async_trait]
impl crate::provider::Provider for FakeProvider {
    async fn update(&self, r: &UpdateRequest<'_>) -> Result<UpdateOutcome, ProviderError> {
        let start = self.start.lock().unwrap().unwrap_or_else(Instant::now);
        self.calls
            .lock()
            .unwrap()
            .push((start.elapsed(), r.addrs[0]));
        if *self.hang.lock().unwrap() {
            std::future::pending::<()>().await;
        }
        self.script
            .lock()
            .unwrap()
            .pop_front()
            .unwrap_or(Ok(UpdateOutcome::Updated {
                record_id: Some("id-1".into()),
            }))
    }

    async fn check(
        &self,
        _name: &str,
        _record_type: crate::config::RecordType,
    ) -> Result<String, ProviderError> {
        Ok("fake".into())
    }
}

impl FakeProvider {
    fn then(&self, r: Result<UpdateOutcome, ProviderError>) {
        self.script.lock().unwrap().push_back(r);
    }
    fn times(&self) -> Vec<u64> {
        self.calls
            .lock()
            .unwrap()
            .iter()
            .map(|(d, _)| d.as_secs())
            .collect()
    }
    fn count(&self) -> usize {
        self.calls.lock().unwrap().len()
    }
}

fn settings(extra_top: &str, secret: &str) -> Settings {
    let text = format!(
        "{extra_top}\n[[provider]]\nname = \"p\"\nkind = \"webhook\"\nurl = \"https://h.example/u\"\nheaders = {{ Authorization = \"{secret}\" }}\n\n[[record]]\nname = \"home.example.test\"\nprovider = \"p\"\ntype = \"A\"\n"
    );
    load_str(&text, &|_: &str| None).unwrap().1
}

struct Harness {
    source: FakeSource,
    provider: Arc<FakeProvider>,
    store: MemoryStore,
    handle: Handle,
    events: broadcast::Receiver<Event>,
    shutdown: CancellationToken,
    task: tokio::task::JoinHandle<()>,
    clock: Clock,
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

/// The engine's parts: one fake source and provider `p`.
fn fakes(provider: &Arc<FakeProvider>, source: &FakeSource) -> Factory {
    let (p, s) = (provider.clone(), source.clone());
    Arc::new(move |_settings: &Settings| Parts {
        lines: HashMap::new(),
        line_providers: HashMap::new(),
        detector: Arc::new(Detector::new(
            Policy::First,
            vec![Configured::new(
                Box::new(s.clone()),
                Duration::from_secs(5),
                true,
            )],
            vec![],
        )),
        providers: HashMap::from([(
            "p".to_owned(),
            p.clone() as Arc<dyn crate::provider::Provider>,
        )]),
    })
}

fn start(
    settings: Settings,
    store: MemoryStore,
    provider: Arc<FakeProvider>,
    source: FakeSource,
) -> Harness {
    *provider.start.lock().unwrap() = Some(Instant::now());
    let factory = fakes(&provider, &source);
    start_with(settings, store, provider, source, factory)
}

/// [`start`] with the engine's parts given.
fn start_with(
    settings: Settings,
    store: MemoryStore,
    provider: Arc<FakeProvider>,
    source: FakeSource,
    factory: Factory,
) -> Harness {
    let clock = Clock::tokio(SystemTime::UNIX_EPOCH + Duration::from_hours(500_000));
    let engine = Engine::new(
        settings,
        factory,
        Box::new(store.clone()),
        clock.clone(),
        test_key(),
        Some(7),
    )
    .unwrap();
    let (handle, commands) = engine.handle();
    let events = engine.subscribe();
    let shutdown = CancellationToken::new();
    let task = tokio::spawn(engine.run(commands, shutdown.clone()));
    Harness {
        source,
        provider,
        store,
        handle,
        events,
        shutdown,
        task,
        clock,
    }
}

fn test_key() -> crate::store::FingerprintKey {
    crate::store::FingerprintKey::from_bytes(&[7; 32])
}

fn source(addr: &str) -> FakeSource {
    FakeSource {
        answer: Arc::new(Mutex::new(Ok(ip(addr)))),
        calls: Arc::new(Mutex::new(0)),
        cap: None,
        asked: Arc::default(),
    }
}

fn drain(rx: &mut broadcast::Receiver<Event>) -> Vec<Event> {
    let mut out = Vec::new();
    while let Ok(e) = rx.try_recv() {
        out.push(e);
    }
    out
}

async fn idle(d: Duration) {
    tokio::time::sleep(d).await;
}

#[tokio::test(start_paused = true)]
async fn publishes_at_start_then_only_on_change_each_interval() {
    let h = start(
        settings("", "tok-123456"),
        MemoryStore::default(),
        Arc::default(),
        source("198.51.100.1"),
    );
    idle(Duration::from_secs(1)).await;
    assert_eq!(h.provider.times(), [0]);
    idle(12 * MIN).await; // two more checks at 5 and 10 min: unchanged, no calls
    assert_eq!(h.provider.count(), 1);
    assert!(*h.source.calls.lock().unwrap() >= 3);
    *h.source.answer.lock().unwrap() = Ok(ip("198.51.100.2"));
    idle(5 * MIN).await; // the check at 15 min sees the change
    let calls = h.provider.calls.lock().unwrap().clone();
    assert_eq!(calls.len(), 2);
    assert_eq!(
        calls[1],
        (Duration::from_mins(15), ip("198.51.100.2")),
        "published at the first check after the change"
    );
    let st = h.store.state.lock().unwrap().clone().unwrap();
    let rec = st.records.values().next().unwrap();
    assert_eq!(rec.published, Some(ip("198.51.100.2")));
    assert_eq!(rec.record_id.as_deref(), Some("id-1"));
    h.shutdown.cancel();
    h.task.await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn transient_failures_back_off_exponentially_then_recover() {
    let provider = Arc::new(FakeProvider::default());
    for _ in 0..3 {
        provider.then(Err(ProviderError::transient("HTTP 503")));
    }
    let mut h = start(
        settings("interval = \"1h\"", "tok-123456"),
        MemoryStore::default(),
        provider,
        source("198.51.100.1"),
    );
    idle(10 * MIN).await;
    let t = h.provider.times();
    assert_eq!(t.len(), 4, "{t:?}");
    let gaps: Vec<u64> = t.windows(2).map(|w| w[1] - w[0]).collect();
    for (gap, base) in gaps.iter().zip([30, 60, 120]) {
        assert!(
            *gap >= base && *gap <= base * 6 / 5,
            "gap {gap} for base {base}: {t:?}"
        );
    }
    let events = drain(&mut h.events);
    let failed = events
        .iter()
        .filter(|e| matches!(e, Event::RecordFailed { .. }))
        .count();
    assert_eq!(failed, 3);
    assert!(
        events.iter().any(|e| matches!(
            e,
            Event::RecordRecovered {
                after_failures: 3,
                ..
            }
        )),
        "{events:?}"
    );
    h.shutdown.cancel();
}

#[tokio::test(start_paused = true)]
async fn retry_after_is_honoured() {
    let provider = Arc::new(FakeProvider::default());
    provider.then(Err(ProviderError::new(
        ErrorClass::RateLimited {
            retry_after: Some(90),
        },
        "rate limited",
    )));
    let h = start(
        settings("interval = \"1h\"", "tok-123456"),
        MemoryStore::default(),
        provider,
        source("198.51.100.1"),
    );
    idle(89 * Duration::from_secs(1)).await;
    assert_eq!(h.provider.times(), [0]);
    idle(Duration::from_secs(2)).await;
    assert_eq!(h.provider.times(), [0, 90]);
    h.shutdown.cancel();
}

#[tokio::test(start_paused = true)]
async fn auth_failure_stops_until_the_config_changes_and_is_reported_once() {
    let provider = Arc::new(FakeProvider::default());
    provider.then(Err(ProviderError::auth("credentials refused (HTTP 401)")));
    let mut h = start(
        settings("", "tok-123456"),
        MemoryStore::default(),
        provider,
        source("198.51.100.1"),
    );
    idle(3 * 60 * MIN).await;
    assert_eq!(
        h.provider.count(),
        1,
        "no retry while the config is unchanged"
    );
    let failed: Vec<_> = drain(&mut h.events)
        .into_iter()
        .filter(|e| matches!(e, Event::RecordFailed { .. }))
        .collect();
    assert_eq!(failed.len(), 1);
    assert!(matches!(
        &failed[0],
        Event::RecordFailed {
            stopped: true,
            class: ErrorClass::Auth,
            ..
        }
    ));
    // "Update now" does not lift the stop either.
    let report = h.handle.update_now(false).await.unwrap();
    assert!(
        matches!(&report.records[0].outcome, Outcome::Skipped { skip: SkipKind::Stopped, reason } if reason.contains("until the config changes"))
    );
    assert_eq!(h.provider.count(), 1);
    // The same settings again: still stopped.
    h.handle
        .commands
        .send(Command::Reload(Box::new(settings("", "tok-123456"))))
        .await
        .unwrap();
    idle(Duration::from_secs(1)).await;
    assert_eq!(h.provider.count(), 1);
    // A new token: tried again at once.
    h.handle
        .commands
        .send(Command::Reload(Box::new(settings("", "tok-new-7890"))))
        .await
        .unwrap();
    idle(Duration::from_secs(1)).await;
    assert_eq!(h.provider.count(), 2);
    h.shutdown.cancel();
}

#[tokio::test(start_paused = true)]
async fn a_ban_waits_at_least_an_hour_even_for_update_now() {
    let provider = Arc::new(FakeProvider::default());
    provider.then(Err(ProviderError::new(
        ErrorClass::Banned { retry_after: None },
        "abuse",
    )));
    let h = start(
        settings("interval = \"5m\"", "tok-123456"),
        MemoryStore::default(),
        provider,
        source("198.51.100.1"),
    );
    idle(30 * MIN).await;
    let report = h.handle.update_now(true).await.unwrap();
    assert!(
        matches!(&report.records[0].outcome, Outcome::Skipped { reason, .. } if reason.contains("banned")),
        "{report:?}"
    );
    assert_eq!(h.provider.times(), [0]);
    idle(31 * MIN).await;
    assert_eq!(h.provider.times(), [0, 3600]);
    h.shutdown.cancel();
}

#[tokio::test(start_paused = true)]
async fn keep_alive_republishes_an_unchanged_ip() {
    let h = start(
        settings("interval = \"5m\"\nmax_interval = \"1h\"", "tok-123456"),
        MemoryStore::default(),
        Arc::default(),
        source("198.51.100.1"),
    );
    idle(2 * 60 * MIN + MIN).await;
    assert_eq!(h.provider.times(), [0, 3600, 7200]);
    h.shutdown.cancel();
}

#[tokio::test(start_paused = true)]
async fn keep_alive_zero_never_republishes() {
    let h = start(
        settings("interval = \"5m\"\nmax_interval = \"0\"", "tok-123456"),
        MemoryStore::default(),
        Arc::default(),
        source("198.51.100.1"),
    );
    idle(48 * 60 * MIN).await;
    assert_eq!(h.provider.times(), [0]);
    h.shutdown.cancel();
}

#[tokio::test(start_paused = true)]
async fn restart_with_unchanged_ip_makes_zero_provider_calls() {
    let store = MemoryStore::default();
    let first = start(
        settings("", "tok-123456"),
        store.clone(),
        Arc::default(),
        source("198.51.100.1"),
    );
    idle(Duration::from_secs(1)).await;
    assert_eq!(first.provider.count(), 1);
    first.shutdown.cancel();
    first.task.await.unwrap();

    let second = start(
        settings("", "tok-123456"),
        store.clone(),
        Arc::default(),
        source("198.51.100.1"),
    );
    idle(20 * MIN).await;
    assert_eq!(second.provider.count(), 0);
    assert!(*second.source.calls.lock().unwrap() >= 4, "it still checks");
    second.shutdown.cancel();
}

#[tokio::test(start_paused = true)]
async fn detection_failure_publishes_and_clears_nothing() {
    let mut h = start(
        settings("", "tok-123456"),
        MemoryStore::default(),
        Arc::default(),
        source("198.51.100.1"),
    );
    idle(Duration::from_secs(1)).await;
    *h.source.answer.lock().unwrap() = Err("every source failed".into());
    idle(16 * MIN).await;
    assert_eq!(h.provider.count(), 1);
    let status = h.handle.status.borrow().clone();
    assert_eq!(
        status.records[0].published,
        Some(ip("198.51.100.1")),
        "published value kept"
    );
    assert_eq!(
        status.ipv4,
        Some(ip("198.51.100.1")),
        "last known address kept"
    );
    assert!(
        status
            .detect_errors
            .contains_key(&crate::config::Family::V4)
    );
    let failures = drain(&mut h.events)
        .into_iter()
        .filter(|e| matches!(e, Event::DetectionFailed { .. }))
        .count();
    assert_eq!(failures, 1, "reported once per streak");
    h.shutdown.cancel();
}

#[tokio::test(start_paused = true)]
async fn pause_stops_checks_and_resume_checks_at_once() {
    let h = start(
        settings("", "tok-123456"),
        MemoryStore::default(),
        Arc::default(),
        source("198.51.100.1"),
    );
    idle(Duration::from_secs(1)).await;
    h.handle.commands.send(Command::Pause).await.unwrap();
    idle(Duration::from_secs(1)).await;
    assert!(h.handle.status.borrow().paused);
    let before = *h.source.calls.lock().unwrap();
    *h.source.answer.lock().unwrap() = Ok(ip("198.51.100.9"));
    idle(60 * MIN).await;
    assert_eq!(
        *h.source.calls.lock().unwrap(),
        before,
        "no checks while paused"
    );
    assert_eq!(h.provider.count(), 1);
    h.handle.commands.send(Command::Resume).await.unwrap();
    idle(Duration::from_secs(1)).await;
    assert_eq!(h.provider.count(), 2);
    assert!(!h.handle.status.borrow().paused);
    h.shutdown.cancel();
}

#[tokio::test(start_paused = true)]
async fn update_now_replies_and_force_republishes() {
    let h = start(
        settings("", "tok-123456"),
        MemoryStore::default(),
        Arc::default(),
        source("198.51.100.1"),
    );
    idle(Duration::from_secs(1)).await;
    let report = h.handle.update_now(false).await.unwrap();
    assert_eq!(report.records[0].outcome, Outcome::Unchanged);
    let report = h.handle.update_now(true).await.unwrap();
    assert_eq!(report.records[0].outcome, Outcome::Updated);
    assert_eq!(h.provider.count(), 2);
    h.shutdown.cancel();
}

#[tokio::test(start_paused = true)]
async fn shutdown_abandons_a_hung_round_within_the_grace_period() {
    let provider = Arc::new(FakeProvider::default());
    *provider.hang.lock().unwrap() = true;
    let h = start(
        settings("", "tok-123456"),
        MemoryStore::default(),
        provider,
        source("198.51.100.1"),
    );
    idle(Duration::from_secs(1)).await;
    assert_eq!(h.provider.count(), 1, "the round is stuck in the provider");
    let asked = Instant::now();
    h.shutdown.cancel();
    h.task.await.unwrap();
    assert!(
        asked.elapsed() <= SHUTDOWN_GRACE + Duration::from_millis(10),
        "{:?}",
        asked.elapsed()
    );
}

#[tokio::test(start_paused = true)]
async fn dry_run_calls_nothing_and_changes_nothing() {
    let store = MemoryStore::default();
    let provider: Arc<FakeProvider> = Arc::default();
    let factory = fakes(&provider, &source("198.51.100.1"));
    let mut engine = Engine::new(
        settings("", "tok-123456"),
        factory,
        Box::new(store.clone()),
        Clock::tokio(SystemTime::UNIX_EPOCH),
        test_key(),
        None,
    )
    .unwrap();
    let saves = store.saves.load(std::sync::atomic::Ordering::Relaxed);
    let report = engine.round(Mode::DryRun).await;
    assert_eq!(report.records[0].outcome, Outcome::WouldUpdate);
    assert_eq!(provider.count(), 0);
    assert_eq!(
        store.saves.load(std::sync::atomic::Ordering::Relaxed),
        saves
    );
}

/// Regression: a record waiting to retry (provider 500) and then every source failing made the engine spin:
/// the passed retry time was returned as the next wake, and the round skipped the record without moving it.
/// When the address is unknown nothing is due until the next scheduled check.
#[tokio::test(start_paused = true)]
async fn no_busy_loop_when_detection_fails_during_a_backoff() {
    let provider = Arc::new(FakeProvider::default());
    provider.then(Err(ProviderError::transient("HTTP 500")));
    let mut src = source("198.51.100.1");
    src.cap = Some(50);
    let h = start(
        settings("interval = \"5m\"", "tok-123456"),
        MemoryStore::default(),
        provider,
        src,
    );
    idle(Duration::from_secs(1)).await;
    assert_eq!(h.provider.count(), 1);
    *h.source.answer.lock().unwrap() = Err("every source failed".into());
    idle(4 * MIN).await;
    let calls = *h.source.calls.lock().unwrap();
    assert_eq!(
        calls, 2,
        "one check at start, one when the retry came due; then nothing until 5 min"
    );
    idle(2 * MIN).await;
    assert_eq!(*h.source.calls.lock().unwrap(), 3, "the scheduled check");
    h.shutdown.cancel();
}

/// Regression: `Retry-After: 0` became a zero delay and an immediate retry loop.
#[tokio::test(start_paused = true)]
async fn retry_after_zero_waits_the_base_backoff() {
    let provider = Arc::new(FakeProvider::default());
    for _ in 0..3 {
        provider.then(Err(ProviderError::new(
            ErrorClass::RateLimited {
                retry_after: Some(0),
            },
            "rate limited",
        )));
    }
    let h = start(
        settings("interval = \"1h\"", "tok-123456"),
        MemoryStore::default(),
        provider,
        source("198.51.100.1"),
    );
    idle(2 * MIN).await;
    assert_eq!(h.provider.times(), [0, 30, 60, 90]);
    h.shutdown.cancel();
}

/// A failure saved while the clock was ten years ahead; the state is loaded with the right time.
fn state_with_retry_at(next: SystemTime, class: ErrorClass) -> MemoryStore {
    let store = MemoryStore::default();
    let record = settings("", "tok-123456").records[0].clone();
    let key = super::round::key(&record);
    let fp = super::decide::fingerprint(
        &test_key(),
        &record,
        settings("", "tok-123456").providers.first(),
    );
    let mut state = crate::store::State::default();
    state.records.insert(
        key,
        crate::store::RecordState {
            name: record.name.clone(),
            record_type: Some(record.record_type),
            provider: record.provider.clone(),
            fingerprint: Some(fp),
            failures: 1,
            last_error: Some("HTTP 503".into()),
            last_error_class: Some(class),
            next_attempt: Some(next),
            ..Default::default()
        },
    );
    *store.state.lock().unwrap() = Some(state);
    store
}

/// Regression: a retry date saved while the clock was 10 years ahead blocked the record for 10 years. A date
/// further ahead than its class allows (1 h backoff, 24 h Retry-After and bans) is clamped when loaded.
#[tokio::test(start_paused = true)]
async fn a_retry_date_from_a_wrong_clock_is_clamped_when_loaded() {
    let now = SystemTime::UNIX_EPOCH + Duration::from_hours(500_000);
    for (class, limit) in [
        (ErrorClass::Transient, 60 * MIN),
        (ErrorClass::RateLimited { retry_after: None }, 24 * 60 * MIN),
    ] {
        let store = state_with_retry_at(now + Duration::from_hours(24 * 3650), class);
        let h = start(
            settings("interval = \"5m\"", "tok-123456"),
            store,
            Arc::default(),
            source("198.51.100.1"),
        );
        idle(limit.checked_sub(MIN).unwrap()).await;
        assert_eq!(h.provider.count(), 0, "{class:?}: still waiting");
        idle(2 * MIN).await;
        assert_eq!(h.provider.count(), 1, "{class:?}: retried within its limit");
        h.shutdown.cancel();
    }
}

/// Regression: with the wall clock stepped back an hour, a 30 s retry waited an hour (it waited for a wall
/// date). The running engine waits on the monotonic clock.
#[tokio::test(start_paused = true)]
async fn a_wall_clock_step_does_not_move_a_retry() {
    let provider = Arc::new(FakeProvider::default());
    provider.then(Err(ProviderError::transient("HTTP 503")));
    let h = start(
        settings("interval = \"1h\"", "tok-123456"),
        MemoryStore::default(),
        provider,
        source("198.51.100.1"),
    );
    idle(Duration::from_secs(1)).await;
    h.clock.step(false, Duration::from_hours(1));
    idle(MIN).await;
    assert_eq!(h.provider.times().len(), 2, "{:?}", h.provider.times());
    assert!(h.provider.times()[1] <= 36, "{:?}", h.provider.times());
    // And a step forward does not make it early either.
    let provider = Arc::new(FakeProvider::default());
    provider.then(Err(ProviderError::transient("HTTP 503")));
    let h2 = start(
        settings("interval = \"1h\"", "tok-123456"),
        MemoryStore::default(),
        provider,
        source("198.51.100.1"),
    );
    idle(Duration::from_secs(1)).await;
    h2.clock.step(true, Duration::from_hours(5));
    idle(Duration::from_secs(20)).await;
    assert_eq!(h2.provider.count(), 1, "not before the backoff");
    h.shutdown.cancel();
    h2.shutdown.cancel();
}

/// Two providers `slow` (hangs) and `fast`, one record each.
fn two_providers(
    slow: &Arc<FakeProvider>,
    fast: &Arc<FakeProvider>,
    src: &FakeSource,
) -> (Settings, Factory) {
    let text = "[[provider]]\nname = \"slow\"\nkind = \"webhook\"\nurl = \"https://slow.example/u\"\n\
                [[provider]]\nname = \"fast\"\nkind = \"webhook\"\nurl = \"https://fast.example/u\"\n\
                [[record]]\nname = \"a.example.test\"\nprovider = \"slow\"\ntype = \"A\"\n\
                [[record]]\nname = \"b.example.test\"\nprovider = \"fast\"\ntype = \"A\"\n";
    let settings = load_str(text, &|_: &str| None).unwrap().1;
    let (slow, fast, s) = (slow.clone(), fast.clone(), src.clone());
    let factory: Factory = Arc::new(move |_: &Settings| Parts {
        lines: HashMap::new(),
        line_providers: HashMap::new(),
        detector: Arc::new(Detector::new(
            Policy::First,
            vec![Configured::new(
                Box::new(s.clone()),
                Duration::from_secs(5),
                true,
            )],
            vec![],
        )),
        providers: HashMap::from([
            (
                "slow".to_owned(),
                slow.clone() as Arc<dyn crate::provider::Provider>,
            ),
            (
                "fast".to_owned(),
                fast.clone() as Arc<dyn crate::provider::Provider>,
            ),
        ]),
    });
    (settings, factory)
}

/// Regression: rounds were sequential, so a hanging provider delayed every other record. Providers run
/// concurrently; and Pause, Reload and Shutdown are answered while the slow call is in flight.
#[tokio::test(start_paused = true)]
async fn a_hanging_provider_delays_no_other_and_commands_are_answered() {
    let slow = Arc::new(FakeProvider::default());
    *slow.hang.lock().unwrap() = true;
    let fast = Arc::new(FakeProvider::default());
    let src = source("198.51.100.1");
    let (settings, factory) = two_providers(&slow, &fast, &src);
    *fast.start.lock().unwrap() = Some(Instant::now());
    let h = start_with(settings.clone(), MemoryStore::default(), slow, src, factory);
    idle(Duration::from_millis(300)).await;
    assert_eq!(fast.times(), [0], "the fast provider was not held up");
    let status = h.handle.status.borrow().clone();
    assert!(status.updating, "the slow round is still in flight");
    assert_eq!(status.records[1].published, Some(ip("198.51.100.1")));

    // Pause during the round: answered at once.
    h.handle.commands.send(Command::Pause).await.unwrap();
    idle(Duration::from_millis(100)).await;
    let status = h.handle.status.borrow().clone();
    assert!(status.paused && !status.updating, "{status:?}");
    h.handle.commands.send(Command::Resume).await.unwrap();
    idle(Duration::from_millis(100)).await;
    // A reload during the (new) hung round is applied at once.
    let mut fewer = settings.clone();
    fewer.records.truncate(1);
    h.handle
        .commands
        .send(Command::Reload(Box::new(fewer)))
        .await
        .unwrap();
    idle(Duration::from_millis(100)).await;
    assert_eq!(h.handle.status.borrow().records.len(), 1);
    // Shutdown while hung: within the grace period.
    let asked = Instant::now();
    h.shutdown.cancel();
    h.task.await.unwrap();
    assert!(asked.elapsed() <= SHUTDOWN_GRACE + Duration::from_millis(10));
}

/// The state is written once per round that changed something, never in a round that changed nothing.
#[tokio::test(start_paused = true)]
async fn idle_rounds_write_nothing() {
    let store = MemoryStore::default();
    let h = start(
        settings("interval = \"5m\"\nmax_interval = \"0\"", "tok-123456"),
        store.clone(),
        Arc::default(),
        source("198.51.100.1"),
    );
    idle(Duration::from_secs(1)).await;
    let saves = store.saves.load(std::sync::atomic::Ordering::Relaxed);
    assert_eq!(saves, 1, "one write for the first round");
    idle(60 * MIN).await;
    assert!(*h.source.calls.lock().unwrap() >= 12);
    assert_eq!(
        store.saves.load(std::sync::atomic::Ordering::Relaxed),
        saves,
        "twelve idle rounds, no write"
    );
    h.shutdown.cancel();
}

/// Regression: `run` never said when the state could not be saved. The status carries the reason (the tray
/// turns red with it), the event is sent once, and it clears when a write works again.
#[tokio::test(start_paused = true)]
async fn a_state_that_cannot_be_saved_is_shown_until_it_can() {
    let store = MemoryStore::default();
    *store.fail_saves.lock().unwrap() = Some("No space left on device".into());
    let mut h = start(
        settings("interval = \"5m\"", "tok-123456"),
        store.clone(),
        Arc::default(),
        source("198.51.100.1"),
    );
    idle(Duration::from_secs(1)).await;
    let status = h.handle.status.borrow().clone();
    assert!(
        status
            .store_error
            .as_deref()
            .is_some_and(|e| e.contains("No space left")),
        "{status:?}"
    );
    assert!(
        status
            .last_error
            .is_some_and(|e| e.contains("No space left"))
    );
    let report = h.handle.update_now(false).await.unwrap();
    assert!(report.state_error.is_some() && !report.all_ok());
    *store.fail_saves.lock().unwrap() = None;
    let report = h.handle.update_now(false).await.unwrap();
    assert!(report.state_error.is_none(), "{report:?}");
    assert!(h.handle.status.borrow().store_error.is_none());
    let events = drain(&mut h.events);
    let not_saved = events
        .iter()
        .filter(|e| matches!(e, Event::StateNotSaved { .. }))
        .count();
    assert_eq!(not_saved, 1, "told once: {events:?}");
    assert!(events.contains(&Event::StateSaved));
    h.shutdown.cancel();
}

/// A keyring holding one value.
struct Keyring(String);
impl crate::config::secret::Lookup for Keyring {
    fn env(&self, _: &str) -> Option<String> {
        None
    }
    fn keyring(&self, _: &str) -> Result<String, String> {
        Ok(self.0.clone())
    }
}

/// Regression: the fingerprint hashed `Debug` output, so any struct change re-published every record and
/// lifted every stop after an upgrade. It is an HMAC over a stable serialisation: this value must not change.
#[test]
fn the_fingerprint_is_stable() {
    let s = settings("", "tok-123456");
    let fp = super::decide::fingerprint(&test_key(), &s.records[0], s.providers.first());
    assert_eq!(
        fp,
        "abdbd9a22159ef25805510209450f2b7278cf85feca41a23c1e2419d6c21a520"
    );
    // Where a secret comes from is no change; its value is.
    let mut moved = s.providers[0].clone();
    if let crate::provider::ProviderKind::Webhook(w) = &mut moved.kind {
        let v = w.headers["Authorization"].expose().to_owned();
        let mut k = crate::config::Secret::keyring("p/Authorization");
        k.resolve(&Keyring(v)).unwrap();
        w.headers.insert("Authorization".into(), k);
    }
    assert_eq!(
        super::decide::fingerprint(&test_key(), &s.records[0], Some(&moved)),
        fp
    );
    let other = settings("", "tok-999999");
    assert_ne!(
        super::decide::fingerprint(&test_key(), &other.records[0], other.providers.first()),
        fp
    );
}

/// A state migrated from version 1 (no usable fingerprint) adopts the settings: no re-publication.
#[tokio::test(start_paused = true)]
async fn a_migrated_state_is_not_republished() {
    let record = settings("", "tok-123456").records[0].clone();
    let mut state = crate::store::State::default();
    state.records.insert(
        super::round::key(&record),
        crate::store::RecordState {
            name: record.name.clone(),
            record_type: Some(record.record_type),
            provider: record.provider.clone(),
            fingerprint: None,
            published: Some(ip("198.51.100.1")),
            published_at: Some(SystemTime::UNIX_EPOCH + Duration::from_hours(499_999)),
            ..Default::default()
        },
    );
    let store = MemoryStore::default();
    *store.state.lock().unwrap() = Some(state);
    let h = start(
        settings("", "tok-123456"),
        store,
        Arc::default(),
        source("198.51.100.1"),
    );
    idle(10 * MIN).await;
    assert_eq!(h.provider.count(), 0);
    h.shutdown.cancel();
}

mod schedule {
    use proptest::prelude::*;

    use super::*;

    /// One provider answer in a script.
    fn answer() -> impl Strategy<Value = Result<UpdateOutcome, ProviderError>> {
        prop_oneof![
            3 => Just(Ok(UpdateOutcome::Updated { record_id: None })),
            1 => Just(Ok(UpdateOutcome::Unchanged { record_id: None })),
            2 => Just(Err(ProviderError::transient("503"))),
            1 => Just(Err(ProviderError::unconfirmed("timeout"))),
            1 => proptest::option::of(0u64..200_000).prop_map(|r| Err(ProviderError::new(
                ErrorClass::RateLimited { retry_after: r }, "429"))),
            1 => proptest::option::of(0u64..200_000).prop_map(|r| Err(ProviderError::new(
                ErrorClass::Banned { retry_after: r }, "abuse"))),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// Whatever the providers answer and however detection comes and goes, over three hours the engine
        /// wakes no more often than its interval and its retries (each at least 30 s after a failure)
        /// allow: never a wake in the past, never a spin.
        #[test]
        fn the_schedule_never_spins_and_never_retries_below_the_base(
            answers in proptest::collection::vec(answer(), 1..12),
            outages in proptest::collection::vec(any::<bool>(), 1..40),
        ) {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_time()
                .start_paused(true)
                .build()
                .unwrap();
            runtime.block_on(async {
                let provider = Arc::new(FakeProvider::default());
                for a in answers {
                    provider.then(a);
                }
                let mut src = source("198.51.100.1");
                src.cap = Some(2000);
                let h = start(
                    settings("interval = \"5m\"", "tok-123456"),
                    MemoryStore::default(),
                    provider,
                    src,
                );
                // Detection fails or works every 5 minutes, as scripted.
                for (i, down) in outages.iter().cycle().take(36).enumerate() {
                    *h.source.answer.lock().unwrap() = if *down {
                        Err("every source failed".into())
                    } else {
                        Ok(ip(if i % 7 == 0 { "198.51.100.2" } else { "198.51.100.1" }))
                    };
                    idle(5 * MIN).await;
                }
                let calls = *h.source.calls.lock().unwrap();
                // 3 h: at most one check per 30 s retry plus one per 5 min interval, plus the first.
                assert!(calls <= 360 + 36 + 1, "{calls} checks in 3 h");
                let times = h.provider.calls.lock().unwrap().clone();
                for pair in times.windows(2) {
                    let gap = pair[1].0.saturating_sub(pair[0].0);
                    assert!(gap >= Duration::from_secs(30), "calls {gap:?} apart: {times:?}");
                }
                h.shutdown.cancel();
            });
        }
    }
}

/// Network changes (issue 11): a change is checked after the debounce, not at the next interval; only its
/// family is asked; a burst is one check; a flapping link is rate-limited; no change, no extra question;
/// paused, changes are ignored; a wake-up checks at once.
#[tokio::test(start_paused = true)]
async fn a_network_change_is_checked_within_the_debounce() {
    let h = start(
        settings("interval = \"5m\"", "tok-123456"),
        MemoryStore::default(),
        Arc::default(),
        source("198.51.100.1"),
    );
    idle(Duration::from_secs(1)).await;
    assert_eq!(h.provider.count(), 1);
    let asked = || h.source.asked.lock().unwrap().len();
    let before = asked();
    idle(4 * MIN).await;
    assert_eq!(
        asked(),
        before,
        "no change, no extra question between scheduled checks"
    );

    *h.source.answer.lock().unwrap() = Ok(ip("198.51.100.2"));
    h.handle
        .commands
        .send(Command::NetworkChanged(crate::config::Family::V4))
        .await
        .unwrap();
    let t0 = Instant::now();
    idle(EVENT_DEBOUNCE.saturating_sub(Duration::from_millis(10))).await;
    assert_eq!(h.provider.count(), 1, "debounced");
    idle(Duration::from_millis(20)).await;
    assert_eq!(h.provider.count(), 2, "published right after the debounce");
    assert!(t0.elapsed() < Duration::from_secs(1));
    assert_eq!(h.provider.calls.lock().unwrap()[1].1, ip("198.51.100.2"));
    // A change of a family that is not enabled (IPv6 here) asks nothing.
    let before = asked();
    h.handle
        .commands
        .send(Command::NetworkChanged(crate::config::Family::V6))
        .await
        .unwrap();
    idle(Duration::from_secs(1)).await;
    assert_eq!(asked(), before);
    h.shutdown.cancel();
    h.task.await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn a_burst_of_changes_is_one_check_and_flapping_is_rate_limited() {
    let h = start(
        settings("interval = \"1h\"", "tok-123456"),
        MemoryStore::default(),
        Arc::default(),
        source("198.51.100.1"),
    );
    idle(Duration::from_secs(1)).await;
    let asked = || h.source.asked.lock().unwrap().len();
    let base = asked();
    // 50 changes in one second.
    for _ in 0..50 {
        h.handle
            .commands
            .send(Command::NetworkChanged(crate::config::Family::V4))
            .await
            .unwrap();
        idle(Duration::from_millis(20)).await;
    }
    idle(Duration::from_secs(30)).await;
    assert!(
        asked() - base <= 2,
        "a burst of 50 changes caused {} checks",
        asked() - base
    );
    // A link flapping every second for 10 minutes: the gaps grow, so few checks.
    let base = asked();
    for _ in 0..600 {
        h.handle
            .commands
            .send(Command::NetworkChanged(crate::config::Family::V4))
            .await
            .unwrap();
        idle(Duration::from_secs(1)).await;
    }
    let checks = asked() - base;
    assert!(checks <= 8, "{checks} checks in 10 minutes of flapping");
    h.shutdown.cancel();
    h.task.await.unwrap();
}

/// Regression (issue 20): a second real change 2 s after the first was published took 1.8 s, a third 6.7 s:
/// the flap guard grew even when each check found a new address. Checks that found one do not count: three
/// real changes 2 s apart are each published within the debounce; a change that brought nothing still does.
#[tokio::test(start_paused = true)]
async fn real_changes_are_never_slowed_by_the_flap_guard() {
    let h = start(
        settings("interval = \"5m\"", "tok-123456"),
        MemoryStore::default(),
        Arc::default(),
        source("198.51.100.1"),
    );
    idle(Duration::from_secs(1)).await;
    assert_eq!(h.provider.count(), 1);
    for (i, addr) in ["198.51.100.2", "198.51.100.3", "198.51.100.4"]
        .into_iter()
        .enumerate()
    {
        *h.source.answer.lock().unwrap() = Ok(ip(addr));
        h.handle
            .commands
            .send(Command::NetworkChanged(crate::config::Family::V4))
            .await
            .unwrap();
        let t0 = Instant::now();
        idle(EVENT_DEBOUNCE + Duration::from_millis(50)).await;
        assert_eq!(h.provider.count(), i + 2, "change {addr} published");
        assert!(t0.elapsed() < Duration::from_secs(1));
        idle(Duration::from_secs(2)).await;
    }
    // A change event that finds the same address counts: the next check waits for the gap.
    let asked = || h.source.asked.lock().unwrap().len();
    h.handle
        .commands
        .send(Command::NetworkChanged(crate::config::Family::V4))
        .await
        .unwrap();
    idle(Duration::from_secs(1)).await;
    let base = asked();
    h.handle
        .commands
        .send(Command::NetworkChanged(crate::config::Family::V4))
        .await
        .unwrap();
    idle(Duration::from_secs(1)).await;
    assert_eq!(
        asked(),
        base,
        "an unproductive check holds the next one back"
    );
    idle(EVENT_GAP).await;
    assert_eq!(asked(), base + 1);
    h.shutdown.cancel();
    h.task.await.unwrap();
}

/// Issue 20: a link flapping between addresses wrote every time. With the write budget (6 writes of a
/// record in any 10 minutes by default), 30 changes in 30 s make at most the budget's writes, the status
/// says when the held write goes, and the last address is written as soon as the window allows.
#[tokio::test(start_paused = true)]
async fn the_write_budget_holds_a_flapping_link_back_and_writes_the_last_address() {
    let h = start(
        settings("interval = \"5m\"", "tok-123456"),
        MemoryStore::default(),
        Arc::default(),
        source("198.51.100.1"),
    );
    idle(Duration::from_secs(1)).await;
    assert_eq!(h.provider.count(), 1);
    let mut last = String::new();
    for i in 0..30 {
        last = format!("198.51.100.{}", 10 + i);
        *h.source.answer.lock().unwrap() = Ok(ip(&last));
        h.handle
            .commands
            .send(Command::NetworkChanged(crate::config::Family::V4))
            .await
            .unwrap();
        idle(Duration::from_secs(1)).await;
    }
    let writes = h.provider.count();
    assert_eq!(
        writes,
        crate::settings::DEFAULT_WRITE_BUDGET as usize,
        "at most the budget in the window"
    );
    let held = h.handle.status.borrow().records[0].held_until;
    assert!(held.is_some(), "the status says a write is held back");
    // The window opens 10 minutes after the first write: the address current then is written, at once.
    idle(crate::settings::WRITE_WINDOW).await;
    assert_eq!(h.provider.count(), writes + 1);
    assert_eq!(
        h.provider.calls.lock().unwrap().last().unwrap().1,
        ip(&last)
    );
    assert!(h.handle.status.borrow().records[0].held_until.is_none());
    h.shutdown.cancel();
    h.task.await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn paused_changes_are_ignored_and_a_wake_up_checks_at_once() {
    let h = start(
        settings("interval = \"1h\"", "tok-123456"),
        MemoryStore::default(),
        Arc::default(),
        source("198.51.100.1"),
    );
    idle(Duration::from_secs(1)).await;
    let asked = || h.source.asked.lock().unwrap().len();
    h.handle.commands.send(Command::Pause).await.unwrap();
    idle(Duration::from_secs(1)).await;
    let base = asked();
    h.handle
        .commands
        .send(Command::NetworkChanged(crate::config::Family::V4))
        .await
        .unwrap();
    idle(Duration::from_secs(10)).await;
    assert_eq!(asked(), base, "paused: no check");
    h.handle.commands.send(Command::Resume).await.unwrap();
    idle(Duration::from_secs(1)).await;
    let base = asked();
    // A suspend of hours: the interval's timer did not count it; the wake-up does not wait for it.
    *h.source.answer.lock().unwrap() = Ok(ip("198.51.100.9"));
    h.clock.step(true, Duration::from_hours(3));
    h.handle.commands.send(Command::Woke).await.unwrap();
    idle(Duration::from_secs(1)).await;
    assert_eq!(asked(), base + 1, "checked at once after waking");
    assert_eq!(
        h.provider.calls.lock().unwrap().last().unwrap().1,
        ip("198.51.100.9")
    );
    assert_eq!(
        h.handle.status.borrow().network_events,
        NetworkEvents::Off,
        "nobody set up a watch in this test"
    );
    h.handle
        .commands
        .send(Command::NetworkEvents(NetworkEvents::Watching))
        .await
        .unwrap();
    idle(Duration::from_millis(10)).await;
    assert_eq!(
        h.handle.status.borrow().network_events,
        NetworkEvents::Watching
    );
    h.shutdown.cancel();
    h.task.await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn a_change_asks_only_its_family() {
    let provider: Arc<FakeProvider> = Arc::default();
    let src = source("198.51.100.1");
    let (p, s) = (provider.clone(), src.clone());
    // The same source for both families.
    let factory: Factory = Arc::new(move |_: &Settings| Parts {
        lines: HashMap::new(),
        line_providers: HashMap::new(),
        detector: Arc::new(Detector::new(
            Policy::First,
            vec![Configured::new(
                Box::new(s.clone()),
                Duration::from_secs(5),
                true,
            )],
            vec![Configured::new(
                Box::new(s.clone()),
                Duration::from_secs(5),
                true,
            )],
        )),
        providers: HashMap::from([(
            "p".to_owned(),
            p.clone() as Arc<dyn crate::provider::Provider>,
        )]),
    });
    let h = start_with(
        settings("ipv6 = true\ninterval = \"1h\"", "tok-123456"),
        MemoryStore::default(),
        provider,
        src,
        factory,
    );
    idle(Duration::from_secs(1)).await;
    let asked = || h.source.asked.lock().unwrap().clone();
    let first = asked();
    assert!(first.contains(&crate::config::Family::V6), "{first:?}");
    h.handle
        .commands
        .send(Command::NetworkChanged(crate::config::Family::V4))
        .await
        .unwrap();
    idle(Duration::from_secs(1)).await;
    let after = asked();
    assert_eq!(after[first.len()..], [crate::config::Family::V4]);
    h.shutdown.cancel();
    h.task.await.unwrap();
}

/// The engine's parts with an echo source and a `router` one (its own word on its external address).
fn with_router(provider: &Arc<FakeProvider>, echo: &FakeSource, router: &FakeSource) -> Factory {
    let (p, e, r) = (provider.clone(), echo.clone(), router.clone());
    Arc::new(move |_settings: &Settings| Parts {
        lines: HashMap::new(),
        line_providers: HashMap::new(),
        detector: Arc::new(Detector::new(
            Policy::First,
            vec![
                Configured::new(Box::new(e.clone()), Duration::from_secs(5), true),
                Configured::new(Box::new(r.clone()), Duration::from_secs(5), false).as_router(),
            ],
            vec![],
        )),
        providers: HashMap::from([(
            "p".to_owned(),
            p.clone() as Arc<dyn crate::provider::Provider>,
        )]),
    })
}

fn reach_events(events: &[Event]) -> Vec<String> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Unreachable { reach, .. } => Some(format!("unreachable: {reach}")),
            Event::Reachable => Some("reachable".into()),
            _ => None,
        })
        .collect()
}

/// Behind carrier-grade NAT the engine says so once (not every round), publishes anyway under the default
/// `warn`, asks the router even though `first` stopped at the echo, and says when it is over.
#[tokio::test(start_paused = true)]
async fn a_nat_in_front_of_the_router_is_told_once_and_its_end_too() {
    let provider = Arc::new(FakeProvider::default());
    let echo = source("11.22.33.44");
    let router = source("100.64.7.8");
    let factory = with_router(&provider, &echo, &router);
    let mut h = start_with(
        settings("", "tok-123456"),
        MemoryStore::default(),
        provider,
        echo,
        factory,
    );
    idle(Duration::from_secs(1)).await;
    let status = h.handle.status.borrow().clone();
    assert_eq!(
        status.reach,
        Some(crate::detect::reach::Reach::CarrierGrade {
            router: "100.64.7.8".parse().unwrap()
        })
    );
    assert_eq!(
        h.provider.count(),
        1,
        "published anyway under `warn`: {status:?}"
    );
    assert_eq!(
        crate::notify::status::icon_state(&status),
        crate::notify::status::IconState::Unreachable
    );
    idle(11 * MIN).await;
    let told = reach_events(&drain(&mut h.events));
    assert_eq!(told.len(), 1, "once, not every round: {told:?}");
    assert!(told[0].contains("carrier-grade NAT"), "{told:?}");
    assert!(*router.calls.lock().unwrap() >= 3, "asked every round");
    // The ISP gives the router the public address.
    *router.answer.lock().unwrap() = Ok(ip("11.22.33.44"));
    idle(5 * MIN).await;
    assert_eq!(reach_events(&drain(&mut h.events)), ["reachable"]);
    assert_eq!(h.handle.status.borrow().reach, None);
    // Another NAT beyond a router with a public address of its own: double NAT.
    *router.answer.lock().unwrap() = Ok(ip("11.22.44.66"));
    idle(5 * MIN).await;
    let told = reach_events(&drain(&mut h.events));
    assert_eq!(told.len(), 1, "{told:?}");
    assert!(told[0].contains("another NAT"), "{told:?}");
    h.shutdown.cancel();
    h.task.await.unwrap();
}

/// Under `behind_nat = "hold"` nothing is written while the router shows a NAT in front of it; under
/// `publish` the router is not asked again at all.
#[tokio::test(start_paused = true)]
async fn behind_nat_hold_writes_nothing_and_publish_asks_nothing() {
    let provider = Arc::new(FakeProvider::default());
    let echo = source("11.22.33.44");
    let router = source("192.168.1.20");
    let factory = with_router(&provider, &echo, &router);
    let mut h = start_with(
        settings("[detect]\nbehind_nat = \"hold\"", "tok-123456"),
        MemoryStore::default(),
        provider,
        echo,
        factory,
    );
    idle(6 * MIN).await;
    assert_eq!(h.provider.count(), 0, "held back");
    let status = h.handle.status.borrow().clone();
    assert!(status.reach.is_some());
    assert_eq!(status.records[0].phase, Phase::Pending);
    let report = h.handle.update_now(false).await.unwrap();
    assert!(
        matches!(&report.records[0].outcome, Outcome::Skipped { reason, .. }
            if reason.contains("held back ([detect] behind_nat = \"hold\")")),
        "{report:?}"
    );
    assert_eq!(h.provider.count(), 0);
    assert_eq!(reach_events(&drain(&mut h.events)).len(), 1);
    h.shutdown.cancel();
    h.task.await.unwrap();

    let provider = Arc::new(FakeProvider::default());
    let echo = source("11.22.33.44");
    let router = source("100.64.7.8");
    let factory = with_router(&provider, &echo, &router);
    let mut h = start_with(
        settings("[detect]\nbehind_nat = \"publish\"", "tok-123456"),
        MemoryStore::default(),
        provider,
        echo,
        factory,
    );
    idle(6 * MIN).await;
    assert_eq!(h.provider.count(), 1);
    assert_eq!(h.handle.status.borrow().reach, None);
    assert!(reach_events(&drain(&mut h.events)).is_empty());
    assert_eq!(
        *router.calls.lock().unwrap(),
        0,
        "not asked under `publish`"
    );
    h.shutdown.cancel();
    h.task.await.unwrap();
}
