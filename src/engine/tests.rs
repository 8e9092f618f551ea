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
use crate::config::{Policy, load_str};
use crate::detect::{Configured, Query, Source};
use crate::provider::{ErrorClass, ProviderError, UpdateOutcome, UpdateRequest};
use crate::store::MemoryStore;

const MIN: Duration = Duration::from_mins(1);

#[derive(Clone)]
struct FakeSource {
    answer: Arc<Mutex<Result<IpAddr, String>>>,
    calls: Arc<Mutex<usize>>,
}

#[async_trait]
impl Source for FakeSource {
    fn label(&self) -> String {
        "fake".into()
    }
    async fn fetch(&self, _q: Query) -> Result<IpAddr, String> {
        *self.calls.lock().unwrap() += 1;
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
        self.calls.lock().unwrap().push((start.elapsed(), r.ip));
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
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

/// The engine's parts: one fake source and provider `p`.
fn fakes(provider: &Arc<FakeProvider>, source: &FakeSource) -> Factory {
    let (p, s) = (provider.clone(), source.clone());
    Arc::new(move |_settings: &Settings| Parts {
        detector: Detector::new(
            Policy::First,
            vec![Configured::new(
                Box::new(s.clone()),
                Duration::from_secs(5),
                true,
            )],
            vec![],
        ),
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
    let clock = Clock::tokio(SystemTime::UNIX_EPOCH + Duration::from_hours(500_000));
    let engine = Engine::new(settings, factory, Box::new(store.clone()), clock, Some(7));
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
    }
}

fn source(addr: &str) -> FakeSource {
    FakeSource {
        answer: Arc::new(Mutex::new(Ok(ip(addr)))),
        calls: Arc::new(Mutex::new(0)),
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
        matches!(&report.records[0].outcome, Outcome::Skipped { reason } if reason.contains("stopped until the config changes"))
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
        matches!(&report.records[0].outcome, Outcome::Skipped { reason } if reason.contains("banned")),
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
        None,
    );
    let saves = store.saves.load(std::sync::atomic::Ordering::Relaxed);
    let report = engine.round(Mode::DryRun).await;
    assert_eq!(report.records[0].outcome, Outcome::WouldUpdate);
    assert_eq!(provider.count(), 0);
    assert_eq!(
        store.saves.load(std::sync::atomic::Ordering::Relaxed),
        saves
    );
}
