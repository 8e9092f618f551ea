//! What each record wants published: its family's detected address (with a LAN host's own id for its
//! AAAA), or from `[[line]]`s the failover or all-lines choice with its hold-down; and the bookkeeping of
//! what detection found, per family and per line.

use std::collections::BTreeMap;
use std::net::IpAddr;

use tokio::time::Instant;

#[allow(clippy::wildcard_imports)] // the round's own types
use super::round::*;
use super::{Engine, Event};
use crate::config::Family;
use crate::settings::RecordSettings;

impl Engine {
    /// Keeps a line's latest detection for the status, and logs when it starts or stops working.
    pub(super) fn note_line(
        &mut self,
        line: &str,
        family: Family,
        result: &Result<IpAddr, String>,
    ) {
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

    /// The addresses `record` should hold: its family's detected address (for a LAN host's AAAA, the
    /// detected prefix with the host's own id).
    pub(super) fn wanted(
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
    pub(super) fn wanted_via(
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

    /// Records what [`crate::detect::reach`] found, telling a new finding (or its end) once.
    pub(super) fn note_reach(&mut self, reach: Option<crate::detect::reach::Reach>) {
        if reach == self.reach {
            return;
        }
        if let Some(r) = &reach {
            tracing::warn!("{r}");
            let held = self.settings.detect.behind_nat == crate::detect::settings::BehindNat::Hold;
            let _ = self.events.send(Event::Unreachable {
                reach: r.clone(),
                held,
            });
        } else {
            tracing::info!("the router no longer shows a NAT in front of it");
            let _ = self.events.send(Event::Reachable);
        }
        self.reach = reach;
    }

    pub(super) fn note_detection(&mut self, family: Family, result: &Result<IpAddr, String>) {
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
}
