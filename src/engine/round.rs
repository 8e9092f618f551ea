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
    SAVE_EVERY, SHUTDOWN_GRACE, STATUS_EVERY, SkipKind, sleep_until,
};
use crate::config::Family;
use crate::detect::Detection;
use crate::provider::{Provider, ProviderError, UpdateOutcome, UpdateRequest};
use crate::settings::RecordSettings;
use crate::store::record_key;

pub(super) fn key(record: &RecordSettings) -> String {
    record_key(
        &record.name,
        record.record_type,
        &record.provider,
        record.line.as_deref(),
    )
}

/// One provider call of a round, owning what it needs.
pub(super) struct Job {
    pub(super) index: usize,
    pub(super) key: String,
    pub(super) provider: Arc<dyn Provider>,
    /// The provider's name in the config (for latency metrics).
    pub(super) provider_name: String,
    pub(super) name: String,
    pub(super) record_type: crate::config::RecordType,
    pub(super) addrs: Vec<IpAddr>,
    pub(super) ttl: Option<u32>,
    pub(super) line: Option<String>,
    pub(super) record_id: Option<String>,
    pub(super) previous: Option<IpAddr>,
}

pub(super) async fn call(job: Job) -> (Job, Result<UpdateOutcome, ProviderError>, Duration) {
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
pub(super) type Call =
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
pub(super) enum Interrupt {
    Command(Option<Command>),
    Shutdown,
    GraceOver,
}

/// What a round listens to besides its own work.
pub(super) struct Watch<'a> {
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

pub(super) enum Decision {
    Skip(SkipKind, String),
    Unchanged,
    Write(Vec<IpAddr>),
}

pub(super) fn time(t: SystemTime) -> String {
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

    /// The `[[line]]`s the records of `families` are published from, with the family, each once.
    fn wanted_lines(&self, families: &[Family]) -> Vec<(String, Family)> {
        let mut wanted: Vec<(String, Family)> = Vec::new();
        for r in &self.settings.records {
            let family = r.record_type.family();
            if let Some(via) = &r.via
                && families.contains(&family)
            {
                for l in &via.lines {
                    if !wanted.contains(&(l.clone(), family)) {
                        wanted.push((l.clone(), family));
                    }
                }
            }
        }
        wanted
    }

    fn result(found: Detection) -> Result<IpAddr, String> {
        match found {
            Detection::Known(ip) => Ok(ip),
            Detection::Unavailable(reason) => Err(reason),
        }
    }

    /// Judges whether DDNS can reach this host from the router's answer and the IPv4 address found (see
    /// [`crate::detect::reach`]); under `behind_nat = "hold"` a finding makes the IPv4 address unusable for
    /// this round's writes.
    fn judge_reach(
        &mut self,
        router: Option<&Result<IpAddr, String>>,
        ips: &mut BTreeMap<Family, Result<IpAddr, String>>,
    ) {
        let seen = ips.get(&Family::V4).and_then(|r| r.as_ref().ok().copied());
        let reach = crate::detect::reach::judge(router, seen);
        self.note_reach(reach.clone());
        if let Some(reach) = reach
            && self.settings.detect.behind_nat == crate::detect::settings::BehindNat::Hold
            && seen.is_some()
        {
            ips.insert(
                Family::V4,
                Err(format!(
                    "held back ([detect] behind_nat = \"hold\"): {reach}"
                )),
            );
        }
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
        let line_detect =
            futures_util::future::join_all(self.wanted_lines(&families).into_iter().map(
                |(line, family)| {
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
                },
            ));
        let detect = futures_util::future::join_all(families.iter().map(|&family| {
            let detector = detector.clone();
            let known = self.state.last_ip.get(&family).copied();
            async move {
                let started = Instant::now();
                let found = detector.detect_since(family, known).await;
                (family, found, started.elapsed())
            }
        }));
        // Whether DDNS can reach this host: the router's own word, asked meanwhile (see `detect::reach`).
        let judge_reach = !dry
            && families.contains(&Family::V4)
            && self.settings.detect.behind_nat != crate::detect::settings::BehindNat::Publish;
        let router = {
            let detector = detector.clone();
            async move {
                if judge_reach && detector.has_router() {
                    detector.router_answer().await
                } else {
                    None
                }
            }
        };
        let both = futures_util::future::join3(detect, line_detect, router);
        tokio::pin!(both);
        let (detected, line_found, router) = loop {
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
            let result = Self::result(found);
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
        if judge_reach {
            self.judge_reach(router.as_ref(), &mut ips);
        }
        let mut line_ips = LineIps::new();
        for (line, family, found) in line_found {
            let result = Self::result(found);
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
}
