//! One update round: detect each enabled family, decide per record, then run the provider calls
//! (providers concurrently, one provider's records started in order up to its limit), applying each answer
//! as it comes and answering commands meanwhile.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use futures_util::stream::{FuturesUnordered, StreamExt};
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::{
    Command, DetectionReport, Engine, Event, Measurement, Mode, Outcome, RecordReport, RoundReport,
    SAVE_EVERY, SHUTDOWN_GRACE, STATUS_EVERY, SkipKind, backoff, sleep_until,
};
use crate::config::Family;
use crate::detect::Detection;
use crate::provider::ProviderSettings;
use crate::provider::{ErrorClass, Provider, ProviderError, UpdateOutcome, UpdateRequest};
use crate::settings::RecordSettings;
use crate::store::{FingerprintKey, RecordState, record_key};

pub(super) fn key(record: &RecordSettings) -> String {
    record_key(
        &record.name,
        record.record_type,
        &record.provider,
        record.line.as_deref(),
    )
}

/// HMAC (under a key kept apart from the state) over a stable serialisation of a record's settings and its
/// provider's, secrets by value: a rotated credential or a new endpoint is noticed across restarts and
/// upgrades, and the state file says nothing about the secrets. JSON objects serialise with sorted keys and
/// unset options left out, so adding a field to a struct changes nothing for configs that do not use it.
pub(crate) fn fingerprint(
    key: &FingerprintKey,
    record: &RecordSettings,
    provider: Option<&ProviderSettings>,
) -> String {
    let mut doc = serde_json::json!({
        "name": record.name,
        "type": record.record_type.as_str(),
        "provider": record.provider,
    });
    if let Some(ttl) = record.ttl {
        doc["ttl"] = ttl.into();
    }
    if let Some(line) = &record.line {
        doc["line"] = line.as_str().into();
    }
    if let Some(h) = &record.ipv6_host {
        doc["ipv6_host"] = format!("{}/{}", h.host, h.prefix_len).into();
    }
    if let Some(via) = &record.via {
        doc["lines"] = via.lines.clone().into();
        if via.all {
            doc["mode"] = "all".into();
        }
    }
    if let Some(p) = provider {
        // Secrets by value, not by where they come from: moving one into the keyring is no change.
        let mut kind = p.kind.clone();
        for (_, s) in kind.secrets_mut() {
            *s = crate::config::Secret::resolved(s.expose());
        }
        doc["provider_settings"] = serde_json::to_value(&kind).unwrap_or_default();
    }
    key.sign(doc.to_string().as_bytes())
}

/// One provider call of a round, owning what it needs.
struct Job {
    index: usize,
    key: String,
    provider: Arc<dyn Provider>,
    /// The provider's name in the config (for latency metrics).
    provider_name: String,
    name: String,
    record_type: crate::config::RecordType,
    addrs: Vec<IpAddr>,
    ttl: Option<u32>,
    line: Option<String>,
    record_id: Option<String>,
    previous: Option<IpAddr>,
}

async fn call(job: Job) -> (Job, Result<UpdateOutcome, ProviderError>, Duration) {
    let started = Instant::now();
    let result = job
        .provider
        .update(&UpdateRequest {
            name: &job.name,
            record_type: job.record_type,
            addrs: &job.addrs,
            ttl: job.ttl,
            line: job.line.as_deref(),
            record_id: job.record_id.as_deref(),
            previous: job.previous,
        })
        .await;
    (job, result, started.elapsed())
}

/// Each line's detection this round, by (line, family).
pub(super) type LineIps = BTreeMap<(String, Family), Result<IpAddr, String>>;

/// Which line a failover record publishes from.
#[derive(Debug, Clone, Default)]
pub(super) struct LineChoice {
    /// Index into the record's `lines`.
    pub active: Option<usize>,
    /// Since when a line before the active one works again.
    pub better_since: Option<Instant>,
    /// The lines whose addresses are published (for the status).
    pub using: Vec<String>,
}

/// A provider call under way.
type Call =
    Pin<Box<dyn Future<Output = (Job, Result<UpdateOutcome, ProviderError>, Duration)> + Send>>;

/// Provider calls sent by a round that was cut short (paused, reloaded): their answers are recorded when
/// they come, and no round sends the same records again meanwhile. (Dropping them would lose the answer of a
/// write the provider got, and the next round would send it a second time.)
#[derive(Default)]
pub(super) struct InFlight {
    calls: FuturesUnordered<Call>,
    /// The records they write, by key.
    keys: HashSet<String>,
}

/// A provider's answer to a call of an earlier round (see [`InFlight`]).
pub(super) struct Landed(Job, Result<UpdateOutcome, ProviderError>, Duration);

impl InFlight {
    pub(super) fn is_empty(&self) -> bool {
        self.calls.is_empty()
    }

    /// The next answer; never ready when nothing is in flight.
    pub(super) async fn next(&mut self) -> Landed {
        match self.calls.next().await {
            Some((job, result, took)) => {
                self.keys.remove(&job.key);
                Landed(job, result, took)
            }
            None => std::future::pending().await,
        }
    }
}

/// How a round ended, for the loop that ran it.
#[derive(Default)]
pub(super) struct RoundEnd {
    /// `None` when the round was abandoned before it decided anything.
    pub report: Option<RoundReport>,
    /// Commands that arrived meanwhile, to handle after the round.
    pub deferred: Vec<Command>,
    /// Shutdown was asked for.
    pub stop: bool,
}

/// What may cut into a round.
enum Interrupt {
    Command(Option<Command>),
    Shutdown,
    GraceOver,
}

/// What a round listens to besides its own work.
struct Watch<'a> {
    commands: Option<&'a mut mpsc::Receiver<Command>>,
    shutdown: &'a CancellationToken,
    end: RoundEnd,
    /// Set when shutdown was asked for: the round may go on until then.
    grace: Option<Instant>,
}

impl Watch<'_> {
    fn stop(&mut self) {
        self.end.stop = true;
        self.grace.get_or_insert(Instant::now() + SHUTDOWN_GRACE);
    }

    async fn next(&mut self) -> Interrupt {
        let grace = self.grace;
        let command = async {
            match &mut self.commands {
                Some(rx) => rx.recv().await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            c = command => Interrupt::Command(c),
            () = self.shutdown.cancelled(), if grace.is_none() => Interrupt::Shutdown,
            () = sleep_until(grace), if grace.is_some() => Interrupt::GraceOver,
        }
    }
}

enum Decision {
    Skip(SkipKind, String),
    Unchanged,
    Write(Vec<IpAddr>),
}

fn time(t: SystemTime) -> String {
    humantime::format_rfc3339_seconds(t).to_string()
}

impl Engine {
    /// Runs one round, uninterrupted, and returns what it did with each record (`ddns-tray once`).
    pub async fn round(&mut self, mode: Mode) -> RoundReport {
        let never = CancellationToken::new();
        let end = self.round_in(mode, None, &never).await;
        end.report.unwrap_or_else(|| RoundReport {
            at: self.clock.now(),
            detection: BTreeMap::new(),
            records: Vec::new(),
            state_error: self.store_error.clone(),
        })
    }

    /// Handles what arrived during a round. Returns true when the round must be abandoned now.
    fn interrupted(&mut self, interrupt: Interrupt, watch: &mut Watch<'_>) -> bool {
        match interrupt {
            Interrupt::Command(Some(Command::Pause)) => {
                if !self.paused {
                    self.paused = true;
                    let _ = self.events.send(Event::Paused);
                }
                true
            }
            // A round run while paused ("update now") goes on; the resume is told at once, as between rounds.
            Interrupt::Command(Some(Command::Resume)) => {
                if self.paused {
                    self.paused = false;
                    let _ = self.events.send(Event::Resumed);
                    self.publish_status(true);
                }
                false
            }
            Interrupt::Command(Some(Command::NetworkChanged(family))) => {
                self.network_changed(&[family]);
                false
            }
            Interrupt::Command(Some(Command::Woke)) => {
                self.network_changed(&Family::ALL);
                false
            }
            Interrupt::Command(Some(Command::NetworkEvents(state))) => {
                self.network_events = state;
                false
            }
            Interrupt::Command(Some(Command::Ping(reply))) => {
                let _ = reply.send(());
                false
            }
            Interrupt::Command(Some(reload @ Command::Reload(_))) => {
                watch.end.deferred.push(reload);
                true
            }
            Interrupt::Command(Some(Command::UpdateNow { force, reply })) => {
                // Any number of "update now"s during a round are one round after it (a caller waiting for
                // the report keeps its own): 300 `ctl update`s must not queue 300 rounds.
                let covered = reply.is_none()
                    && watch.end.deferred.iter().any(|c| {
                        matches!(c, Command::UpdateNow { force: queued, .. } if *queued || !force)
                    });
                if !covered {
                    watch.end.deferred.push(Command::UpdateNow { force, reply });
                }
                false
            }
            Interrupt::Command(None) => {
                // Every handle is gone: no more commands will come; stop like a shutdown.
                watch.commands = None;
                watch.stop();
                false
            }
            Interrupt::Command(Some(Command::Shutdown)) | Interrupt::Shutdown => {
                watch.stop();
                false
            }
            Interrupt::GraceOver => true,
        }
    }

    /// Runs one round, answering `commands` and `shutdown` meanwhile (see [`RoundEnd`]).
    pub(super) async fn round_in(
        &mut self,
        mode: Mode,
        commands: Option<&mut mpsc::Receiver<Command>>,
        shutdown: &CancellationToken,
    ) -> RoundEnd {
        let dry = mode == Mode::DryRun;
        let mut watch = Watch {
            commands,
            shutdown,
            end: RoundEnd::default(),
            grace: None,
        };
        if !dry {
            self.publish_status(true);
        }
        let Some((detection, ips, line_ips)) = self.detect_all(dry, &mut watch).await else {
            if !dry {
                self.publish_status(false);
            }
            return watch.end;
        };

        // Decisions.
        let settings = self.settings.clone();
        let mut outcomes: Vec<Option<Outcome>> = vec![None; settings.records.len()];
        let mut reported_ips: Vec<Option<IpAddr>> = vec![None; settings.records.len()];
        let mut jobs: BTreeMap<String, Vec<Job>> = BTreeMap::new();
        for (index, record) in settings.records.iter().enumerate() {
            if let Some(families) = &self.round_families
                && !families.contains(&record.record_type.family())
            {
                outcomes[index] = Some(Outcome::Skipped {
                    skip: SkipKind::NotChecked,
                    reason: "its family was not checked in this round".into(),
                });
                continue;
            }
            let want = match &record.via {
                None => Self::wanted(record, &ips),
                Some(via) => {
                    let key = self.keys.get(index).cloned().unwrap_or_else(|| key(record));
                    self.wanted_via(&key, record, via, &line_ips, dry)
                }
            };
            reported_ips[index] = want.as_ref().ok().and_then(|w| w.first().copied());
            match self.prepare(index, record, want, mode) {
                Ok(job) => jobs.entry(record.provider.clone()).or_default().push(job),
                Err(outcome) => outcomes[index] = Some(outcome),
            }
        }
        self.execute(jobs, &mut outcomes, &mut watch).await;

        let records = settings
            .records
            .iter()
            .zip(outcomes)
            .zip(reported_ips)
            .filter(|((_, outcome), _)| {
                !matches!(
                    outcome,
                    Some(Outcome::Skipped {
                        skip: SkipKind::NotChecked,
                        ..
                    })
                )
            })
            .map(|((record, outcome), ip)| RecordReport {
                name: record.name.clone(),
                record_type: record.record_type,
                provider: record.provider.clone(),
                line: record.line.clone(),
                ip,
                outcome: outcome.unwrap_or_else(|| Outcome::Skipped {
                    skip: SkipKind::Interrupted,
                    reason:
                        "the round was interrupted (paused, reloaded or stopping) before its turn"
                            .into(),
                }),
            })
            .collect();
        if !dry {
            self.persist();
            self.publish_status(false);
            let _ = self.events.send(Event::RoundFinished);
        }
        watch.end.report = Some(RoundReport {
            at: self.clock.now(),
            detection,
            records,
            state_error: if dry { None } else { self.store_error.clone() },
        });
        watch.end
    }

    /// Detects every enabled family at once; `None` when the round was abandoned meanwhile.
    async fn detect_all(
        &mut self,
        dry: bool,
        watch: &mut Watch<'_>,
    ) -> Option<(
        BTreeMap<Family, DetectionReport>,
        BTreeMap<Family, Result<IpAddr, String>>,
        LineIps,
    )> {
        let detector = self.parts.detector.clone();
        let families: Vec<Family> = Family::ALL
            .into_iter()
            .filter(|f| self.settings.family_enabled(*f))
            .filter(|f| {
                self.round_families
                    .as_ref()
                    .is_none_or(|only| only.contains(f))
            })
            .collect();
        // The lines the records of these families are published from, each asked at the same time.
        let mut wanted_lines: Vec<(String, Family)> = Vec::new();
        for r in &self.settings.records {
            let family = r.record_type.family();
            if let Some(via) = &r.via
                && families.contains(&family)
            {
                for l in &via.lines {
                    if !wanted_lines.contains(&(l.clone(), family)) {
                        wanted_lines.push((l.clone(), family));
                    }
                }
            }
        }
        let line_detect =
            futures_util::future::join_all(wanted_lines.into_iter().map(|(line, family)| {
                let detector = self.parts.lines.get(&line).cloned();
                let known = self
                    .line_status
                    .get(&(line.clone(), family))
                    .and_then(|r| r.as_ref().ok().copied());
                async move {
                    let found = match detector {
                        Some(d) => d.detect_since(family, known).await,
                        None => Detection::Unavailable(format!("no line named `{line}`")),
                    };
                    (line, family, found)
                }
            }));
        let detect = futures_util::future::join_all(families.iter().map(|&family| {
            let detector = detector.clone();
            let known = self.state.last_ip.get(&family).copied();
            async move {
                let started = Instant::now();
                let found = detector.detect_since(family, known).await;
                (family, found, started.elapsed())
            }
        }));
        let both = futures_util::future::join(detect, line_detect);
        tokio::pin!(both);
        let (detected, line_found) = loop {
            tokio::select! {
                found = &mut both => break found,
                i = watch.next() => {
                    if self.interrupted(i, watch) {
                        return None;
                    }
                }
            }
        };
        let mut detection = BTreeMap::new();
        let mut ips = BTreeMap::new();
        for (family, found, took) in detected {
            let result = match found {
                Detection::Known(ip) => Ok(ip),
                Detection::Unavailable(reason) => Err(reason),
            };
            if !dry {
                self.note_detection(family, &result);
                let _ = self.events.send(Event::Measured(Measurement::Detection {
                    family,
                    seconds: took.as_secs_f64(),
                    ok: result.is_ok(),
                }));
            }
            detection.insert(
                family,
                DetectionReport {
                    ip: result.as_ref().ok().copied(),
                    error: result.as_ref().err().cloned(),
                },
            );
            ips.insert(family, result);
        }
        let mut line_ips = LineIps::new();
        for (line, family, found) in line_found {
            let result = match found {
                Detection::Known(ip) => Ok(ip),
                Detection::Unavailable(reason) => Err(reason),
            };
            if !dry {
                self.note_line(&line, family, &result);
            }
            line_ips.insert((line, family), result);
        }
        if !dry {
            self.last_check = Some(self.clock.now());
        }
        Some((detection, ips, line_ips))
    }

    /// Keeps a line's latest detection for the status, and logs when it starts or stops working.
    fn note_line(&mut self, line: &str, family: Family, result: &Result<IpAddr, String>) {
        let entry = self.line_status.entry((line.to_owned(), family));
        let before = match &entry {
            std::collections::btree_map::Entry::Occupied(e) => Some(e.get().is_ok()),
            std::collections::btree_map::Entry::Vacant(_) => None,
        };
        match (before, result) {
            (Some(true), Err(e)) => tracing::warn!("line {line} ({family}) stopped working: {e}"),
            (Some(false), Ok(ip)) => tracing::info!("line {line} ({family}) works again: {ip}"),
            _ => {}
        }
        match entry {
            std::collections::btree_map::Entry::Occupied(mut e) => e.get_mut().clone_from(result),
            std::collections::btree_map::Entry::Vacant(e) => {
                e.insert(result.clone());
            }
        }
    }

    /// Runs the provider calls: providers concurrently, each provider's jobs started in order up to its
    /// limit. Each answer is applied as it comes; the state is written at most every [`SAVE_EVERY`] and the
    /// status republished at most every [`STATUS_EVERY`] meanwhile. A pause or reload starts no more calls
    /// and leaves those already sent to [`InFlight`]; only the end of the shutdown grace drops them.
    async fn execute(
        &mut self,
        jobs: BTreeMap<String, Vec<Job>>,
        outcomes: &mut [Option<Outcome>],
        watch: &mut Watch<'_>,
    ) {
        if jobs.is_empty() {
            return;
        }
        // Per provider: the jobs not started yet, how many may run at once, how many run.
        let mut queues: HashMap<String, (VecDeque<Job>, usize, usize)> = HashMap::new();
        for (name, list) in jobs {
            let Some(first) = list.first() else { continue };
            let provider = first.provider.clone();
            provider.begin_round();
            let limit = provider.concurrency().max(1);
            let mut waiting = VecDeque::new();
            for job in list {
                if self.in_flight.keys.contains(&job.key) {
                    outcomes[job.index] = Some(Outcome::Skipped {
                        skip: SkipKind::Waiting,
                        reason: "a write sent before a pause is still waiting for its answer"
                            .into(),
                    });
                } else {
                    waiting.push_back(job);
                }
            }
            queues.insert(name, (waiting, limit, 0));
        }
        let mut running: FuturesUnordered<Call> = FuturesUnordered::new();
        // What runs: record key -> index.
        let mut sent: HashMap<String, usize> = HashMap::new();
        let start = |queues: &mut HashMap<String, (VecDeque<Job>, usize, usize)>,
                     running: &mut FuturesUnordered<Call>,
                     sent: &mut HashMap<String, usize>| {
            for (waiting, limit, busy) in queues.values_mut() {
                while *busy < *limit
                    && let Some(job) = waiting.pop_front()
                {
                    *busy += 1;
                    sent.insert(job.key.clone(), job.index);
                    running.push(Box::pin(call(job)));
                }
            }
        };
        start(&mut queues, &mut running, &mut sent);
        let mut save_at = Instant::now() + SAVE_EVERY;
        let mut status_at = Instant::now() + STATUS_EVERY;
        let mut status_stale = false;
        while !running.is_empty() {
            tokio::select! {
                Some((job, result, took)) = running.next() => {
                    if let Some((_, _, busy)) = queues.get_mut(&job.provider_name) {
                        *busy = busy.saturating_sub(1);
                    }
                    sent.remove(&job.key);
                    outcomes[job.index] = Some(self.answered(&job, result, took));
                    status_stale = true;
                    start(&mut queues, &mut running, &mut sent);
                }
                Landed(job, result, took) = self.in_flight.next(), if !self.in_flight.is_empty() => {
                    self.answered(&job, result, took);
                    status_stale = true;
                }
                () = tokio::time::sleep_until(save_at), if self.dirty => {
                    self.persist();
                    save_at = Instant::now() + SAVE_EVERY;
                }
                () = tokio::time::sleep_until(status_at), if status_stale => {
                    self.publish_status(true);
                    status_stale = false;
                    status_at = Instant::now() + STATUS_EVERY;
                }
                i = watch.next() => {
                    let abandon = matches!(i, Interrupt::GraceOver);
                    if self.interrupted(i, watch) {
                        if !abandon {
                            for (key, index) in sent.drain() {
                                outcomes[index] = Some(Outcome::Skipped {
                                    skip: SkipKind::Interrupted,
                                    reason: "the round was interrupted while its write was under way; \
                                             the answer is recorded when it comes"
                                        .into(),
                                });
                                self.in_flight.keys.insert(key);
                            }
                            self.in_flight.calls.extend(running);
                        }
                        break;
                    }
                }
            }
        }
    }

    /// Records a provider's answer (and how long it took) as it comes.
    fn answered(
        &mut self,
        job: &Job,
        result: Result<UpdateOutcome, ProviderError>,
        took: Duration,
    ) -> Outcome {
        let _ = self.events.send(Event::Measured(Measurement::Provider {
            provider: job.provider_name.clone(),
            seconds: took.as_secs_f64(),
            ok: result.is_ok(),
        }));
        self.apply(job, result)
    }

    /// The next command between rounds; answers to calls of an interrupted round (see [`InFlight`]) that
    /// come meanwhile are recorded.
    pub(super) async fn next_command(
        &mut self,
        commands: &mut mpsc::Receiver<Command>,
    ) -> Option<Command> {
        loop {
            tokio::select! {
                command = commands.recv() => return command,
                Landed(job, result, took) = self.in_flight.next() => {
                    self.answered(&job, result, took);
                    self.persist();
                    self.publish_status(false);
                }
            }
        }
    }

    /// The addresses `record` should hold: its family's detected address (for a LAN host's AAAA, the
    /// detected prefix with the host's own id).
    fn wanted(
        record: &RecordSettings,
        ips: &BTreeMap<Family, Result<IpAddr, String>>,
    ) -> Result<Vec<IpAddr>, String> {
        match ips.get(&record.record_type.family()) {
            Some(Ok(IpAddr::V6(ip))) => Ok(vec![IpAddr::V6(
                record.ipv6_host.map_or(*ip, |h| h.apply(*ip)),
            )]),
            Some(Ok(ip)) => Ok(vec![*ip]),
            Some(Err(e)) => Err(e.clone()),
            None => Err("family disabled".into()),
        }
    }

    /// The addresses a record published from `[[line]]`s should hold. `all`: every working line's address.
    /// Failover: the line in use while it works; when it fails, the first working one at once; when a line
    /// before it works again, that line after it kept working for `hold_down` (so a flapping line does
    /// not flap DNS).
    fn wanted_via(
        &mut self,
        key: &str,
        record: &RecordSettings,
        via: &crate::settings::Via,
        line_ips: &LineIps,
        dry: bool,
    ) -> Result<Vec<IpAddr>, String> {
        let family = record.record_type.family();
        let host = |ip: IpAddr| match ip {
            IpAddr::V6(v6) => IpAddr::V6(record.ipv6_host.map_or(v6, |h| h.apply(v6))),
            IpAddr::V4(_) => ip,
        };
        let results: Vec<(usize, &Result<IpAddr, String>)> = via
            .lines
            .iter()
            .enumerate()
            .filter_map(|(i, l)| line_ips.get(&(l.clone(), family)).map(|r| (i, r)))
            .collect();
        let healthy: Vec<(usize, IpAddr)> = results
            .iter()
            .filter_map(|(i, r)| r.as_ref().ok().map(|ip| (*i, host(*ip))))
            .collect();
        let none_works = || {
            let why: Vec<String> = results
                .iter()
                .filter_map(|(i, r)| r.as_ref().err().map(|e| format!("{}: {e}", via.lines[*i])))
                .collect();
            format!("no line works ({})", why.join("; "))
        };
        if via.all {
            let mut addrs: Vec<IpAddr> = Vec::new();
            for (_, ip) in &healthy {
                if !addrs.contains(ip) {
                    addrs.push(*ip);
                }
            }
            if !dry {
                let names: Vec<String> =
                    healthy.iter().map(|(i, _)| via.lines[*i].clone()).collect();
                self.line_choice.insert(
                    key.to_owned(),
                    LineChoice {
                        active: None,
                        better_since: None,
                        using: names,
                    },
                );
            }
            return if addrs.is_empty() {
                Err(none_works())
            } else {
                Ok(addrs)
            };
        }
        let Some(&(best, best_ip)) = healthy.first() else {
            return Err(none_works());
        };
        let now = Instant::now();
        let mut choice = self.line_choice.get(key).cloned().unwrap_or_default();
        let label = record.label();
        let active_ok = choice
            .active
            .and_then(|a| healthy.iter().find(|(i, _)| *i == a).copied());
        let chosen = match active_ok {
            None => {
                if let Some(a) = choice.active {
                    tracing::warn!(record = %label, "line {} stopped working: publishing {}'s address", via.lines[a], via.lines[best]);
                }
                choice.active = Some(best);
                choice.better_since = None;
                (best, best_ip)
            }
            Some((a, ip)) if best < a => {
                let since = *choice.better_since.get_or_insert(now);
                if now.duration_since(since) >= via.hold_down {
                    tracing::info!(record = %label, "line {} works again since {}: switching back from {}", via.lines[best], humantime::format_duration(std::time::Duration::from_secs(via.hold_down.as_secs())), via.lines[a]);
                    choice.active = Some(best);
                    choice.better_since = None;
                    (best, best_ip)
                } else {
                    (a, ip)
                }
            }
            Some(active) => {
                choice.better_since = None;
                active
            }
        };
        choice.using = vec![via.lines[chosen.0].clone()];
        if !dry {
            match choice.better_since {
                Some(since) => {
                    self.hold_until
                        .insert(key.to_owned(), since + via.hold_down);
                }
                None => {
                    self.hold_until.remove(key);
                }
            }
            self.line_choice.insert(key.to_owned(), choice);
        }
        Ok(vec![chosen.1])
    }

    fn note_detection(&mut self, family: Family, result: &Result<IpAddr, String>) {
        match result {
            Ok(ip) => {
                let old = self.state.last_ip.insert(family, *ip);
                if old != Some(*ip) {
                    self.dirty = true;
                    let _ = self.events.send(Event::IpChanged {
                        family,
                        old,
                        new: *ip,
                    });
                }
                if self.detect_errors.remove(&family).is_some() {
                    let _ = self.events.send(Event::DetectionRecovered { family });
                }
            }
            Err(reason) => {
                if self.detect_errors.insert(family, reason.clone()).is_none() {
                    let _ = self.events.send(Event::DetectionFailed {
                        family,
                        reason: reason.clone(),
                    });
                }
            }
        }
    }

    /// Decides what to do with one record: an outcome now, or a provider call to make.
    fn prepare(
        &mut self,
        index: usize,
        record: &RecordSettings,
        want: Result<Vec<IpAddr>, String>,
        mode: Mode,
    ) -> Result<Job, Outcome> {
        let dry = mode == Mode::DryRun;
        let key = self.keys.get(index).cloned().unwrap_or_else(|| key(record));
        let label = record.label();
        let provider_settings = self.settings.provider(&record.provider);
        let fp = fingerprint(&self.key, record, provider_settings);

        let mut st = self
            .state
            .records
            .get(&key)
            .cloned()
            .unwrap_or_else(|| RecordState {
                name: record.name.clone(),
                record_type: Some(record.record_type),
                provider: record.provider.clone(),
                ..RecordState::default()
            });
        let now_i = Instant::now();
        if st.fingerprint.as_deref() != Some(fp.as_str()) {
            if st.fingerprint.is_some() && !dry {
                // The record's or provider's settings changed: what was published there may not hold for
                // the new settings, and a stop waits for exactly this. Bans are the provider's word and stay.
                tracing::info!(record = %label, "settings changed since the last update; it will be re-published");
                let banned = self.banned(&key, &st, now_i);
                st.published = None;
                st.published_all.clear();
                st.published_at = None;
                st.record_id = None;
                st.stopped = false;
                self.published_mono.remove(&key);
                if !banned {
                    st.failures = 0;
                    st.next_attempt = None;
                    st.retry_wait_secs = None;
                    st.last_error = None;
                    st.last_error_class = None;
                    self.due.remove(&key);
                }
            }
            st.fingerprint = Some(fp);
            if !dry {
                self.state.records.insert(key.clone(), st.clone());
                self.dirty = true;
            }
        } else if !dry && !self.state.records.contains_key(&key) {
            self.state.records.insert(key.clone(), st.clone());
            self.dirty = true;
        }

        let decision = self.decide(&key, &st, want, mode, now_i);
        let decision = self.within_budget(decision, &key, mode, now_i);
        if !dry && !matches!(decision, Decision::Write(_)) {
            // Nothing is due for this record until its next check: a retry time that has come (the address is
            // unknown now, or back to what is published) must not wake the engine again and again.
            if self.due.get(&key).is_some_and(|d| *d <= now_i) {
                self.due.remove(&key);
            }
        }
        let want = match decision {
            Decision::Skip(skip, reason) => return Err(Outcome::Skipped { skip, reason }),
            Decision::Unchanged => {
                if st.failures > 0 && !dry {
                    // The address went back to what is published while a write of another one was failing:
                    // the record is right as it is, and that failure no longer matters.
                    self.recovered(&key, &label);
                }
                return Err(Outcome::Unchanged);
            }
            Decision::Write(_) if dry => return Err(Outcome::WouldUpdate),
            Decision::Write(want) => want,
        };
        // Through the line whose address is published, when the record asks for it.
        let via_line = record
            .via
            .as_ref()
            .filter(|v| v.provider_via_line)
            .and_then(|_| self.line_choice.get(&key))
            .and_then(|c| c.using.first().cloned());
        let provider = match via_line {
            Some(line) => self
                .parts
                .line_providers
                .get(&(record.provider.clone(), line))
                .cloned(),
            None => self.parts.providers.get(&record.provider).cloned(),
        };
        let Some(provider) = provider else {
            self.due.remove(&key);
            return Err(Outcome::Failed {
                reason: format!("no provider named `{}`", record.provider),
            });
        };
        tracing::debug!(record = %label, addrs = ?want, "updating");
        // Kept only under a budget (each list is pruned to the window when the next write is decided).
        if self.settings.write_budget.is_some() {
            self.writes.entry(key.clone()).or_default().push_back(now_i);
        }
        Ok(Job {
            index,
            key,
            provider,
            provider_name: record.provider.clone(),
            name: record.name.clone(),
            record_type: record.record_type,
            addrs: want,
            ttl: record.ttl,
            line: record.line.clone(),
            record_id: st.record_id.clone(),
            previous: st.published,
        })
    }

    /// `decision`, or a skip when it is a write the budget holds back (never for dry runs or `--force`).
    fn within_budget(
        &mut self,
        decision: Decision,
        key: &str,
        mode: Mode,
        now_i: Instant,
    ) -> Decision {
        match decision {
            Decision::Write(w) if !matches!(mode, Mode::DryRun | Mode::Force) => {
                match self.budget_hold(key, now_i) {
                    Some(reason) => Decision::Skip(SkipKind::Waiting, reason),
                    None => Decision::Write(w),
                }
            }
            d => d,
        }
    }

    /// The write budget (`write_budget` writes of a record in any [`crate::settings::WRITE_WINDOW`]): why
    /// a write is held back now, if it is. The engine wakes when the window allows the next one, and then
    /// writes the address current at that time: a link flapping between addresses costs the provider at
    /// most the budget, and the last address is always written.
    fn budget_hold(&mut self, key: &str, now_i: Instant) -> Option<String> {
        self.budget_until.remove(key);
        let budget = self.settings.write_budget?;
        let window = crate::settings::WRITE_WINDOW;
        let writes = self.writes.entry(key.to_owned()).or_default();
        while writes
            .front()
            .is_some_and(|t| now_i.duration_since(*t) >= window)
        {
            writes.pop_front();
        }
        if writes.len() < budget as usize {
            return None;
        }
        let until = *writes.front()? + window;
        self.budget_until.insert(key.to_owned(), until);
        tracing::info!(record = %key, "write held back by the write budget");
        Some(format!(
            "held back by the write budget ({budget} writes in {}); the address current then is written in {}",
            humantime::format_duration(window),
            humantime::format_duration(Duration::from_secs(
                until.duration_since(now_i).as_secs() + 1
            ))
        ))
    }

    fn banned(&self, key: &str, st: &RecordState, now_i: Instant) -> bool {
        matches!(st.last_error_class, Some(ErrorClass::Banned { .. }))
            && self.due.get(key).is_some_and(|d| *d > now_i)
    }

    fn decide(
        &self,
        key: &str,
        st: &RecordState,
        want: Result<Vec<IpAddr>, String>,
        mode: Mode,
        now_i: Instant,
    ) -> Decision {
        let mut want = match want {
            Ok(w) => w,
            Err(reason) => {
                return Decision::Skip(
                    SkipKind::Unknown,
                    format!("address unknown, nothing published ({reason})"),
                );
            }
        };
        want.sort_unstable();
        want.dedup();
        let last = st.last_error.as_deref().unwrap_or("unknown error");
        let until = || st.next_attempt.map_or_else(|| "later".to_owned(), time);
        if self.banned(key, st, now_i) {
            return Decision::Skip(
                SkipKind::Banned,
                format!(
                    "the provider banned updates; waiting until {} ({last})",
                    until()
                ),
            );
        }
        if st.stopped && mode != Mode::Force {
            return Decision::Skip(
                SkipKind::Stopped,
                format!("until the config changes: {last}"),
            );
        }
        let waiting = st.failures > 0 && self.due.get(key).is_some_and(|d| *d > now_i);
        if waiting && matches!(mode, Mode::Tick | Mode::DryRun) {
            return Decision::Skip(
                SkipKind::Waiting,
                format!(
                    "retrying at {} after {} failure(s): {last}",
                    until(),
                    st.failures
                ),
            );
        }
        let keepalive_due = self.settings.max_interval.is_some_and(|max| {
            match self.published_mono.get(key) {
                Some(Some(at)) => now_i >= *at + max,
                // Published before this process's clock began, or never: due.
                Some(None) | None => true,
            }
        });
        let mut published: Vec<IpAddr> = if st.published_all.is_empty() {
            st.published.into_iter().collect()
        } else {
            st.published_all.clone()
        };
        published.sort_unstable();
        // After an update that could not be confirmed the provider may hold anything: write.
        let unconfirmed = st.failures > 0 && st.last_error_class == Some(ErrorClass::Unconfirmed);
        if published == want && !keepalive_due && mode != Mode::Force && !unconfirmed {
            return Decision::Unchanged;
        }
        Decision::Write(want)
    }

    /// Ends a record's failure streak without a provider call (see `prepare`).
    fn recovered(&mut self, key: &str, label: &str) {
        if let Some(st) = self.state.records.get_mut(key) {
            let after_failures = st.failures;
            st.failures = 0;
            st.next_attempt = None;
            st.retry_wait_secs = None;
            st.last_error = None;
            st.last_error_class = None;
            self.due.remove(key);
            self.dirty = true;
            let _ = self.events.send(Event::RecordRecovered {
                record: label.to_owned(),
                after_failures,
            });
        }
    }

    /// Records a provider's answer in the record's state and tells the world.
    fn apply(&mut self, job: &Job, result: Result<UpdateOutcome, ProviderError>) -> Outcome {
        let now = self.clock.now();
        let now_i = Instant::now();
        let label = self
            .settings
            .records
            .get(job.index)
            .map_or_else(|| job.name.clone(), RecordSettings::label);
        let Some(st) = self.state.records.get_mut(&job.key) else {
            return Outcome::Failed {
                reason: "the record was removed meanwhile".into(),
            };
        };
        st.last_attempt_at = Some(now);
        self.dirty = true;
        match result {
            Ok(done) => {
                let (record_id, outcome) = match done {
                    UpdateOutcome::Updated { record_id } => (record_id, Outcome::Updated),
                    UpdateOutcome::Unchanged { record_id } => (record_id, Outcome::Unchanged),
                };
                let previous = st.published;
                let after_failures = st.failures;
                st.published = job.addrs.first().copied();
                st.published_all = if job.addrs.len() > 1 {
                    job.addrs.clone()
                } else {
                    Vec::new()
                };
                st.published_at = Some(now);
                st.record_id = record_id.or(st.record_id.take());
                st.failures = 0;
                st.next_attempt = None;
                st.retry_wait_secs = None;
                st.stopped = false;
                st.last_error = None;
                st.last_error_class = None;
                self.due.remove(&job.key);
                self.published_mono.insert(job.key.clone(), Some(now_i));
                // A provider that already held the address wrote nothing: no "updated" to report.
                if outcome == Outcome::Updated
                    && let Some(ip) = job.addrs.first()
                {
                    let _ = self.events.send(Event::RecordUpdated {
                        record: label.clone(),
                        ip: *ip,
                        previous,
                    });
                }
                if after_failures > 0 {
                    let _ = self.events.send(Event::RecordRecovered {
                        record: label,
                        after_failures,
                    });
                }
                outcome
            }
            Err(e) => {
                st.failures = st.failures.saturating_add(1);
                let delay = backoff::delay(e.class, st.failures, self.rng.f64());
                st.stopped = delay.is_none();
                st.next_attempt = delay.map(|d| now + d);
                // The wait asked, kept beside the date: a date saved under a wrong clock is clamped to it.
                st.retry_wait_secs = delay.map(|d| d.as_secs() + u64::from(d.subsec_nanos() > 0));
                st.last_error = Some(e.message.clone());
                st.last_error_class = Some(e.class);
                match delay {
                    Some(d) => {
                        self.due.insert(job.key.clone(), now_i + d);
                    }
                    None => {
                        self.due.remove(&job.key);
                    }
                }
                let _ = self.events.send(Event::RecordFailed {
                    record: label,
                    error: e.message.clone(),
                    class: e.class,
                    failures: st.failures,
                    stopped: st.stopped,
                    retry_at: st.next_attempt,
                });
                Outcome::Failed { reason: e.message }
            }
        }
    }
}
