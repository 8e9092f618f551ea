//! One update round: detect each enabled family, then bring each record up to date, one at a time.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::net::IpAddr;
use std::time::SystemTime;

use sha2::{Digest, Sha256};

use super::{DetectionReport, Engine, Event, Mode, Outcome, RecordReport, RoundReport, backoff};
use crate::config::{Family, ProviderSettings, RecordSettings};
use crate::detect::Detection;
use crate::provider::{ErrorClass, UpdateOutcome, UpdateRequest};
use crate::store::{RecordState, record_key};

pub(super) fn key(record: &RecordSettings) -> String {
    record_key(&record.name, record.record_type, &record.provider)
}

/// Salted SHA-256 over a record's settings and its provider's (secret values included), so a changed
/// credential or endpoint is noticed across restarts without the state file revealing anything.
fn fingerprint(salt: &str, record: &RecordSettings, provider: Option<&ProviderSettings>) -> String {
    let mut h = Sha256::new();
    h.update(salt.as_bytes());
    h.update(format!("\n{record:?}\n").as_bytes());
    if let Some(p) = provider {
        h.update(
            serde_json::to_string(&p.kind)
                .unwrap_or_default()
                .as_bytes(),
        );
        for s in p.kind.secrets() {
            h.update(b"\n");
            h.update(s.expose().as_bytes());
        }
    }
    h.finalize()
        .iter()
        .fold(String::with_capacity(64), |mut hex, b| {
            let _ = write!(hex, "{b:02x}");
            hex
        })
}

fn time(t: SystemTime) -> String {
    humantime::format_rfc3339_seconds(t).to_string()
}

impl Engine {
    /// Runs one round and returns what it did with each record.
    pub async fn round(&mut self, mode: Mode) -> RoundReport {
        let dry = mode == Mode::DryRun;
        if !dry {
            self.publish_status(true);
        }
        let mut detection = BTreeMap::new();
        let mut ips: BTreeMap<Family, Result<IpAddr, String>> = BTreeMap::new();
        let settings = self.settings.clone();
        for family in Family::ALL
            .into_iter()
            .filter(|f| settings.family_enabled(*f))
        {
            let result = match self.parts.detector.detect(family).await {
                Detection::Known(ip) => Ok(ip),
                Detection::Unavailable(reason) => Err(reason),
            };
            if !dry {
                self.note_detection(family, &result);
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

        let mut records = Vec::with_capacity(settings.records.len());
        for record in &settings.records {
            let ip = ips
                .get(&record.record_type.family())
                .cloned()
                .unwrap_or_else(|| Err("family disabled".into()));
            let outcome = self.process(record, ip.clone(), mode).await;
            records.push(RecordReport {
                name: record.name.clone(),
                record_type: record.record_type,
                provider: record.provider.clone(),
                ip: ip.ok(),
                outcome,
            });
        }
        let report = RoundReport {
            at: self.clock.now(),
            detection,
            records,
        };
        if !dry {
            self.last_round = Some(report.clone());
            self.persist();
            self.publish_status(false);
            let _ = self.events.send(Event::RoundFinished);
        }
        report
    }

    fn note_detection(&mut self, family: Family, result: &Result<IpAddr, String>) {
        match result {
            Ok(ip) => {
                let old = self.state.last_ip.insert(family, *ip);
                if old != Some(*ip) {
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

    async fn process(
        &mut self,
        record: &RecordSettings,
        ip: Result<IpAddr, String>,
        mode: Mode,
    ) -> Outcome {
        let now = self.clock.now();
        let label = record.label();
        let provider_settings = self.settings.provider(&record.provider).cloned();
        let fp = fingerprint(&self.state.salt, record, provider_settings.as_ref());
        let dry = mode == Mode::DryRun;

        let mut st = self
            .state
            .records
            .get(&key(record))
            .cloned()
            .unwrap_or_else(|| RecordState {
                name: record.name.clone(),
                record_type: Some(record.record_type),
                provider: record.provider.clone(),
                ..RecordState::default()
            });
        if st.fingerprint.as_deref() != Some(fp.as_str()) {
            if st.fingerprint.is_some() {
                // The record's or provider's settings changed: what was published there may not hold for the
                // new settings, and a stop waits for exactly this. Bans are the provider's word and stay.
                tracing::info!(record = %label, "settings changed since the last update; it will be re-published");
                let banned = is_banned(&st, now);
                st.published = None;
                st.published_at = None;
                st.record_id = None;
                st.stopped = false;
                if !banned {
                    st.failures = 0;
                    st.next_attempt = None;
                    st.last_error = None;
                    st.last_error_class = None;
                }
            }
            st.fingerprint = Some(fp);
        }

        let decision = self.decide(&st, &ip, mode, now);
        if !dry {
            self.state.records.insert(key(record), st.clone());
        }
        let ip = match decision {
            Decision::Skip(reason) => return Outcome::Skipped { reason },
            Decision::Unchanged => return Outcome::Unchanged,
            Decision::Write(_) if dry => return Outcome::WouldUpdate,
            Decision::Write(ip) => ip,
        };

        let Some(provider) = self.parts.providers.get(&record.provider).cloned() else {
            return Outcome::Failed {
                reason: format!("no provider named `{}`", record.provider),
            };
        };
        let request = UpdateRequest {
            name: &record.name,
            record_type: record.record_type,
            ip,
            ttl: record.ttl,
            record_id: st.record_id.as_deref(),
        };
        tracing::debug!(record = %label, %ip, "updating");
        let result = provider.update(&request).await;
        let now = self.clock.now();
        st.last_attempt_at = Some(now);
        let outcome = self.apply(&mut st, &label, ip, result);
        self.state.records.insert(key(record), st);
        // Written after every provider call, so a crash or kill never loses a publication.
        self.persist();
        self.publish_status(true);
        outcome
    }

    /// Records a provider's answer in the record's state and tells the world.
    fn apply(
        &mut self,
        st: &mut RecordState,
        label: &str,
        ip: IpAddr,
        result: Result<UpdateOutcome, crate::provider::ProviderError>,
    ) -> Outcome {
        let now = st.last_attempt_at.unwrap_or_else(|| self.clock.now());
        match result {
            Ok(done) => {
                let (record_id, outcome) = match done {
                    UpdateOutcome::Updated { record_id } => (record_id, Outcome::Updated),
                    UpdateOutcome::Unchanged { record_id } => (record_id, Outcome::Unchanged),
                };
                let previous = st.published;
                let after_failures = st.failures;
                st.published = Some(ip);
                st.published_at = Some(now);
                st.record_id = record_id.or(st.record_id.take());
                st.failures = 0;
                st.next_attempt = None;
                st.stopped = false;
                st.last_error = None;
                st.last_error_class = None;
                // A provider that already held the address wrote nothing: no "updated" to report.
                if outcome == Outcome::Updated {
                    let _ = self.events.send(Event::RecordUpdated {
                        record: label.to_owned(),
                        ip,
                        previous,
                    });
                }
                if after_failures > 0 {
                    let _ = self.events.send(Event::RecordRecovered {
                        record: label.to_owned(),
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
                st.last_error = Some(e.message.clone());
                st.last_error_class = Some(e.class);
                let _ = self.events.send(Event::RecordFailed {
                    record: label.to_owned(),
                    error: e.message.clone(),
                    class: e.class,
                    failures: st.failures,
                    stopped: st.stopped,
                    retry_at: st.next_attempt.map(time),
                });
                Outcome::Failed { reason: e.message }
            }
        }
    }

    fn decide(
        &self,
        st: &RecordState,
        ip: &Result<IpAddr, String>,
        mode: Mode,
        now: SystemTime,
    ) -> Decision {
        let ip = match ip {
            Ok(ip) => *ip,
            Err(reason) => {
                return Decision::Skip(format!("address unknown, nothing published ({reason})"));
            }
        };
        let last = st.last_error.as_deref().unwrap_or("unknown error");
        if is_banned(st, now) {
            let until = st.next_attempt.map(time).unwrap_or_default();
            return Decision::Skip(format!(
                "the provider banned updates; waiting until {until} ({last})"
            ));
        }
        if st.stopped && mode != Mode::Force {
            return Decision::Skip(format!("stopped until the config changes: {last}"));
        }
        let waiting = st.failures > 0 && st.next_attempt.is_some_and(|t| t > now);
        if waiting && matches!(mode, Mode::Tick | Mode::DryRun) {
            let until = st.next_attempt.map(time).unwrap_or_default();
            return Decision::Skip(format!(
                "retrying at {until} after {} failure(s): {last}",
                st.failures
            ));
        }
        let keepalive_due = self
            .settings
            .max_interval
            .is_some_and(|max| st.published_at.is_none_or(|t| now >= t + max));
        if st.published == Some(ip) && !keepalive_due && mode != Mode::Force {
            return Decision::Unchanged;
        }
        Decision::Write(ip)
    }
}

fn is_banned(st: &RecordState, now: SystemTime) -> bool {
    matches!(st.last_error_class, Some(ErrorClass::Banned { .. }))
        && st.next_attempt.is_some_and(|t| t > now)
}

enum Decision {
    Skip(String),
    Unchanged,
    Write(IpAddr),
}
