//! What the engine keeps and tells: the persisted state (loaded wall-clock times made monotonic, pruned to
//! the configured records, saved at most once a second during a round) and the [`Status`] snapshot it
//! publishes to the tray, `ctl` and metrics.

use std::collections::BTreeMap;
use std::time::Duration;

use tokio::time::Instant;

#[allow(clippy::wildcard_imports)] // the engine's own types
use super::types::*;
use super::{Engine, backoff};
use crate::config::Family;

impl Engine {
    /// Turns the persisted wall-clock dates into monotonic instants, clamping dates from a wrong clock: a
    /// retry further ahead than the wait its failure asked for (saved beside it; for older state files, its
    /// class's longest delay) is brought down to that wait, a publication in the future is taken as now.
    pub(super) fn adopt_loaded_times(&mut self) {
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

    /// Drops state of records no longer configured.
    pub(super) fn prune_state(&mut self) {
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
    pub(super) fn persist(&mut self) {
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

    pub(super) fn publish_status(&self, updating: bool) {
        self.status.send_replace(self.snapshot(updating));
    }

    /// Each `[[line]]` as last detected.
    fn line_statuses(&self) -> Vec<LineStatus> {
        self.settings
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
            .collect()
    }

    /// The status: one pass over the records (O(records)).
    pub(super) fn snapshot(&self, updating: bool) -> Status {
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
                    last_error_class: st.and_then(|s| s.last_error_class),
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
            lines: self.line_statuses(),
            reach: self.reach.clone(),
            records,
        }
    }
}
