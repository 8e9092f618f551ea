//! The per-record decisions of a round: what a record's state says (published, banned, stopped, held by
//! the write budget, due for a keep-alive), what to do about it, and how an answer changes the state.

use std::net::IpAddr;
use std::time::Duration;

use tokio::time::Instant;

#[allow(clippy::wildcard_imports)] // the round's own types
use super::round::*;
use super::{Engine, Event, Mode, Outcome, SkipKind, backoff};
use crate::provider::{ErrorClass, ProviderError, ProviderSettings, UpdateOutcome};
use crate::settings::RecordSettings;
use crate::store::{FingerprintKey, RecordState};

impl Engine {
    /// Decides what to do with one record: an outcome now, or a provider call to make.
    pub(super) fn prepare(
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
    pub(super) fn within_budget(
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
    pub(super) fn budget_hold(&mut self, key: &str, now_i: Instant) -> Option<String> {
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

    pub(super) fn banned(&self, key: &str, st: &RecordState, now_i: Instant) -> bool {
        matches!(st.last_error_class, Some(ErrorClass::Banned { .. }))
            && self.due.get(key).is_some_and(|d| *d > now_i)
    }

    pub(super) fn decide(
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
    pub(super) fn recovered(&mut self, key: &str, label: &str) {
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
    pub(super) fn apply(
        &mut self,
        job: &Job,
        result: Result<UpdateOutcome, ProviderError>,
    ) -> Outcome {
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
