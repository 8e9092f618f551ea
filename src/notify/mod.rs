//! Telling the user what happened. Every user-visible sentence about engine events lives here, built from the
//! engine's typed [`Event`]s; notifiers (the log, desktop toasts in tray mode, and the `[[notify]]` alerts:
//! mail, chat robots, push services, webhooks, heartbeats) only deliver them. One policy ([`ToastPolicy`])
//! decides for toasts and alerts alike what is worth telling.
//!
//! Messages follow transitions (changed, failing, recovered), not every tick; a write whose result is unknown
//! is "could not confirm", never "failed".

pub mod alerts;
#[cfg(feature = "tray")]
pub mod desktop;
pub mod status;

use tokio::sync::broadcast;

use crate::detect::reach::Reach;
use crate::engine::Event;
use crate::i18n::t;
use crate::provider::ErrorClass;

/// How serious a message is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Info,
    Warning,
    Error,
}

/// One message for the user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub level: Level,
    pub summary: String,
    pub body: String,
}

/// The message for an event, or `None` for events that need none. Times are RFC 3339 UTC, as in the log.
#[must_use]
pub fn describe(event: &Event) -> Option<Message> {
    describe_with(event, |t| humantime::format_rfc3339_seconds(t).to_string())
}

/// [`describe`] with times written by `clock` (toasts: the local `HH:MM` of the tray).
#[must_use]
pub fn describe_with(event: &Event, clock: fn(std::time::SystemTime) -> String) -> Option<Message> {
    let msg = |level, summary: String, body: String| {
        Some(Message {
            level,
            summary,
            body,
        })
    };
    match event {
        Event::IpChanged {
            family,
            old: Some(old),
            new,
        } => msg(
            Level::Info,
            t!("event.ip_changed", family = family).into_owned(),
            format!("{old} -> {new}"),
        ),
        Event::IpChanged {
            family,
            old: None,
            new,
        } => msg(
            Level::Info,
            t!("event.ip_first", family = family, ip = new).into_owned(),
            String::new(),
        ),
        Event::DetectionFailed { family, reason } => msg(
            Level::Warning,
            t!("event.detect_failed", family = family).into_owned(),
            t!("event.detect_failed_body", reason = reason).into_owned(),
        ),
        Event::DetectionRecovered { family } => msg(
            Level::Info,
            t!("event.detect_recovered", family = family).into_owned(),
            String::new(),
        ),
        Event::Unreachable { reach: r, held } => Some(unreachable(r, *held)),
        Event::Reachable => msg(
            Level::Info,
            t!("event.reachable").into_owned(),
            String::new(),
        ),
        Event::RecordUpdated {
            record,
            ip,
            previous,
        } => msg(
            Level::Info,
            t!("event.updated", record = record).into_owned(),
            previous.map_or_else(
                || t!("event.now", ip = ip).into_owned(),
                |p| format!("{p} -> {ip}"),
            ),
        ),
        Event::RecordFailed {
            record,
            error,
            class,
            failures,
            stopped,
            retry_at,
        } => Some(failure(
            record,
            error,
            *class,
            *failures,
            *stopped,
            retry_at.map(clock),
        )),
        Event::RecordRecovered {
            record,
            after_failures,
        } => msg(
            Level::Info,
            t!("event.recovered", record = record).into_owned(),
            t!("event.recovered_after", n = after_failures).into_owned(),
        ),
        Event::StateNotSaved { error } => msg(
            Level::Error,
            t!("event.state_not_saved").into_owned(),
            t!("event.state_not_saved_body", error = error).into_owned(),
        ),
        Event::StateSaved => msg(
            Level::Info,
            t!("event.state_saved").into_owned(),
            String::new(),
        ),
        Event::Paused => msg(Level::Info, t!("event.paused").into_owned(), String::new()),
        Event::Resumed => msg(Level::Info, t!("event.resumed").into_owned(), String::new()),
        Event::Reloaded => msg(
            Level::Info,
            t!("event.reloaded").into_owned(),
            String::new(),
        ),
        Event::RoundFinished | Event::NetworkChanged { .. } | Event::Measured(_) => None,
    }
}

/// Why DDNS may not make this host reachable, in one sentence with its reason and what would help, in the
/// user's language (the English one, for logs and `/health`, is [`Reach`]'s `Display`).
#[must_use]
pub fn reach(reach: &Reach) -> String {
    match reach {
        Reach::CarrierGrade { router } => t!("reach.carrier_grade", router = router),
        Reach::SeenCarrierGrade { seen } => t!("reach.seen_carrier_grade", seen = seen),
        Reach::PrivateWan { router } => t!("reach.private_wan", router = router),
        Reach::NoPublic { how } => t!("reach.no_public", how = how),
        Reach::DoubleNat { router, seen } => t!("reach.double_nat", router = router, seen = seen),
    }
    .into_owned()
}

/// The message for [`Event::Unreachable`]: what was found, and what the config makes of it.
fn unreachable(r: &Reach, held: bool) -> Message {
    Message {
        level: Level::Warning,
        summary: if r.certain() {
            t!("event.unreachable")
        } else {
            t!("event.maybe_unreachable")
        }
        .into_owned(),
        body: format!(
            "{}\n{}",
            reach(r),
            if held {
                t!("event.unreachable_held")
            } else {
                t!("event.unreachable_choice")
            }
        ),
    }
}

/// The message for a failed update.
fn failure(
    record: &str,
    error: &str,
    class: ErrorClass,
    failures: u32,
    stopped: bool,
    retry_at: Option<String>,
) -> Message {
    let (summary, level) = match class {
        ErrorClass::Unconfirmed => (t!("event.unconfirmed", record = record), Level::Warning),
        ErrorClass::Auth => (t!("event.auth", record = record), Level::Error),
        ErrorClass::Banned { .. } => (t!("event.banned", record = record), Level::Error),
        _ => (t!("event.failed", record = record), Level::Warning),
    };
    let summary = summary.into_owned();
    let next = if stopped {
        t!("event.stopped").into_owned()
    } else {
        retry_at.map_or_else(String::new, |at| t!("event.next_at", at = at).into_owned())
    };
    let streak = if failures > 1 {
        t!("event.streak", n = failures).into_owned()
    } else {
        String::new()
    };
    Message {
        level,
        summary,
        body: format!(
            "{}\n{}",
            t!(
                "event.failure_body",
                why = why(class),
                streak = streak,
                next = next
            )
            .trim_end(),
            t!("event.detail", detail = detail(error))
        ),
    }
}

/// What a failure of `class` means for the user, in their language (a provider's own words follow it as the
/// detail).
#[must_use]
pub fn why(class: ErrorClass) -> String {
    match class {
        ErrorClass::Auth => t!("event.why_auth"),
        ErrorClass::Rejected => t!("event.why_rejected"),
        ErrorClass::RateLimited { .. } => t!("event.why_rate_limited"),
        ErrorClass::Banned { .. } => t!("event.why_banned"),
        ErrorClass::Transient => t!("event.why_transient"),
        ErrorClass::Unconfirmed => t!("event.why_unconfirmed"),
    }
    .into_owned()
}

/// The longest provider detail an alert or toast carries.
const DETAIL_CHARS: usize = 200;

/// A provider's error as a detail for people: markup a server sent (an HTML error page) reduced to its text,
/// whitespace folded, at most [`DETAIL_CHARS`] characters.
#[must_use]
pub fn detail(error: &str) -> String {
    status::shorten(&crate::http::plain_text(error), DETAIL_CHARS)
}

/// Decides which events become desktop toasts, so the user hears about what matters once:
/// - an IP change, as one toast per round naming the old and new address and the records updated;
/// - a record's first publication (ddns-tray never published it before), once, marked as such, in a round
///   without an IP change (a change's toast already names every record it updated);
/// - a failure: one that stops the record (credentials refused, request rejected) or a ban at once, any
///   other after the third in a row; at most one toast per
///   record per failure streak;
/// - a recovery, when its failure streak was toasted;
/// - the state file that cannot be written, and when it can again.
#[derive(Debug, Default)]
pub struct ToastPolicy {
    /// IP changes seen in the current round: (family, old, new).
    changes: Vec<(
        crate::config::Family,
        Option<std::net::IpAddr>,
        std::net::IpAddr,
    )>,
    /// Records updated in the current round.
    updated: Vec<String>,
    /// Records published for the first time in the current round, with the address.
    first: Vec<(String, std::net::IpAddr)>,
    /// Records whose current failure streak was toasted.
    toasted: std::collections::HashSet<String>,
}

/// Failures in a row before a non-authentication failure is toasted.
pub const TOAST_AFTER_FAILURES: u32 = 3;

impl ToastPolicy {
    /// The toasts (zero or more) an event calls for.
    pub fn on_event(&mut self, event: &Event) -> Vec<Message> {
        match event {
            Event::IpChanged { family, old, new } => {
                self.changes.push((*family, *old, *new));
                Vec::new()
            }
            Event::RecordUpdated {
                record,
                ip,
                previous,
            } => {
                self.updated.push(record.clone());
                if previous.is_none() {
                    self.first.push((record.clone(), *ip));
                }
                Vec::new()
            }
            Event::RoundFinished => self.round_summary(),
            Event::RecordFailed {
                record,
                failures,
                class,
                ..
            } => {
                // A failure that stops the record (or bans it) is told at once: no third try follows.
                let due = matches!(
                    class,
                    ErrorClass::Auth | ErrorClass::Rejected | ErrorClass::Banned { .. }
                ) || *failures >= TOAST_AFTER_FAILURES;
                if due && self.toasted.insert(record.clone()) {
                    describe_with(event, crate::notify::status::clock)
                        .into_iter()
                        .collect()
                } else {
                    Vec::new()
                }
            }
            Event::RecordRecovered { record, .. } => {
                if self.toasted.remove(record) {
                    describe(event).into_iter().collect()
                } else {
                    Vec::new()
                }
            }
            // The engine reports these once per streak (a NAT finding once, and when it changes or ends).
            Event::StateNotSaved { .. }
            | Event::StateSaved
            | Event::Unreachable { .. }
            | Event::Reachable => describe(event).into_iter().collect(),
            _ => Vec::new(),
        }
    }

    fn round_summary(&mut self) -> Vec<Message> {
        let changes = std::mem::take(&mut self.changes);
        let updated = std::mem::take(&mut self.updated);
        let first = std::mem::take(&mut self.first);
        // The first detection after start is not a change the user needs to hear about.
        let changes: Vec<_> = changes
            .into_iter()
            .filter(|(_, old, _)| old.is_some())
            .collect();
        if changes.is_empty() {
            return first_publication(&first).into_iter().collect();
        }
        let what = changes
            .iter()
            .map(|(family, old, new)| {
                format!(
                    "{family} {} -> {new}",
                    old.map_or_else(String::new, |o| o.to_string())
                )
            })
            .collect::<Vec<_>>()
            .join(", ");
        let body = if updated.is_empty() {
            what
        } else {
            format!(
                "{what}\n{}",
                t!("event.updated_list", records = updated.join(", "))
            )
        };
        let summary = if changes.len() == 1 {
            t!("event.ip_changed", family = changes[0].0).into_owned()
        } else {
            t!("event.ips_changed").into_owned()
        };
        vec![Message {
            level: Level::Info,
            summary,
            body,
        }]
    }
}

/// The message for records ddns-tray published for the first time (none when `first` is empty).
fn first_publication(first: &[(String, std::net::IpAddr)]) -> Option<Message> {
    let summary = match first {
        [] => return None,
        [(record, _)] => t!("event.first_published", record = record),
        _ => t!("event.first_published_n", n = first.len()),
    };
    Some(Message {
        level: Level::Info,
        summary: summary.into_owned(),
        body: first
            .iter()
            .map(|(record, ip)| format!("{record} -> {ip}"))
            .collect::<Vec<_>>()
            .join("\n"),
    })
}

/// Logs every event's message until the engine's event channel closes.
pub async fn log_events(mut events: broadcast::Receiver<Event>) {
    loop {
        match events.recv().await {
            Ok(event) => {
                if let Some(m) = describe(&event) {
                    let text = if m.body.is_empty() {
                        m.summary
                    } else {
                        format!("{}: {}", m.summary, m.body)
                    };
                    match m.level {
                        Level::Info => tracing::info!("{text}"),
                        Level::Warning => tracing::warn!("{text}"),
                        Level::Error => tracing::error!("{text}"),
                    }
                }
            }
            Err(broadcast::error::RecvError::Lagged(n)) => {
                tracing::warn!("{n} engine events were not logged (log consumer too slow)");
            }
            Err(broadcast::error::RecvError::Closed) => break,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failed(record: &str, class: ErrorClass, failures: u32) -> Event {
        Event::RecordFailed {
            record: record.into(),
            error: "boom".into(),
            class,
            failures,
            stopped: class == ErrorClass::Auth,
            retry_at: None,
        }
    }

    #[test]
    fn toasts_give_the_next_attempt_in_the_trays_clock_and_the_log_in_utc() {
        let at = std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_767_225_630);
        let event = Event::RecordFailed {
            record: "a.example A".into(),
            error: "HTTP 403".into(),
            class: ErrorClass::Rejected,
            failures: 1,
            stopped: false,
            retry_at: Some(at),
        };
        let toast = ToastPolicy::default().on_event(&event);
        assert_eq!(toast.len(), 1);
        let local = format!("Next attempt at {}.", crate::notify::status::clock(at));
        assert!(toast[0].body.contains(&local), "{toast:?}");
        let logged = describe(&event).unwrap();
        assert!(
            logged
                .body
                .contains("Next attempt at 2026-01-01T00:00:30Z."),
            "{logged:?}"
        );
    }

    #[test]
    fn a_nat_in_front_is_toasted_once_with_what_the_config_does() {
        let reach = Reach::CarrierGrade {
            router: "100.64.7.8".parse().unwrap(),
        };
        let mut p = ToastPolicy::default();
        let told = p.on_event(&Event::Unreachable {
            reach: reach.clone(),
            held: false,
        });
        assert_eq!(told.len(), 1);
        assert_eq!(told[0].level, Level::Warning);
        assert_eq!(told[0].summary, "DDNS cannot make this computer reachable");
        assert!(
            told[0].body.contains("100.64.7.8 is carrier-grade NAT"),
            "{told:?}"
        );
        assert!(
            told[0].body.contains("The address is still published"),
            "{told:?}"
        );
        let held = describe(&Event::Unreachable { reach, held: true }).unwrap();
        assert!(
            held.body.contains("Nothing is published while it is so"),
            "{held:?}"
        );
        let maybe = describe(&Event::Unreachable {
            reach: Reach::NoPublic {
                how: "NAT-PMP result 3".into(),
            },
            held: false,
        })
        .unwrap();
        assert_eq!(maybe.summary, "DDNS may not make this computer reachable");
        assert_eq!(p.on_event(&Event::Reachable).len(), 1);
        assert!(p.on_event(&Event::RoundFinished).is_empty());
    }

    #[test]
    fn toast_policy() {
        let mut p = ToastPolicy::default();
        let v4 = crate::config::Family::V4;
        // First detection after start: no toast.
        assert!(
            p.on_event(&Event::IpChanged {
                family: v4,
                old: None,
                new: "198.51.100.1".parse().unwrap()
            })
            .is_empty()
        );
        assert!(p.on_event(&Event::RoundFinished).is_empty());
        // A change with its updates: one toast at the end of the round.
        assert!(
            p.on_event(&Event::IpChanged {
                family: v4,
                old: Some("198.51.100.1".parse().unwrap()),
                new: "198.51.100.2".parse().unwrap()
            })
            .is_empty()
        );
        assert!(
            p.on_event(&Event::RecordUpdated {
                record: "a.example A".into(),
                ip: "198.51.100.2".parse().unwrap(),
                previous: None
            })
            .is_empty()
        );
        let t = p.on_event(&Event::RoundFinished);
        assert_eq!(t.len(), 1);
        assert_eq!(t[0].summary, "Public IPv4 address changed");
        assert_eq!(
            t[0].body,
            "IPv4 198.51.100.1 -> 198.51.100.2\nUpdated: a.example A"
        );
        // Transient failures: only the third, and only once per streak.
        assert!(
            p.on_event(&failed("b.example A", ErrorClass::Transient, 1))
                .is_empty()
        );
        assert!(
            p.on_event(&failed("b.example A", ErrorClass::Transient, 2))
                .is_empty()
        );
        assert_eq!(
            p.on_event(&failed("b.example A", ErrorClass::Transient, 3))
                .len(),
            1
        );
        assert!(
            p.on_event(&failed("b.example A", ErrorClass::Transient, 4))
                .is_empty()
        );
        assert_eq!(
            p.on_event(&Event::RecordRecovered {
                record: "b.example A".into(),
                after_failures: 4
            })
            .len(),
            1
        );
        // A recovery after an untoasted streak stays quiet.
        assert!(
            p.on_event(&failed("c.example A", ErrorClass::Transient, 1))
                .is_empty()
        );
        assert!(
            p.on_event(&Event::RecordRecovered {
                record: "c.example A".into(),
                after_failures: 1
            })
            .is_empty()
        );
        // Authentication: at once.
        assert_eq!(
            p.on_event(&failed("d.example A", ErrorClass::Auth, 1))
                .len(),
            1
        );
    }

    #[test]
    fn sentences() {
        let m = describe(&Event::IpChanged {
            family: crate::config::Family::V4,
            old: Some("198.51.100.1".parse().unwrap()),
            new: "198.51.100.2".parse().unwrap(),
        })
        .unwrap();
        assert_eq!(
            (m.summary.as_str(), m.body.as_str()),
            (
                "Public IPv4 address changed",
                "198.51.100.1 -> 198.51.100.2"
            )
        );
        let m = describe(&Event::RecordFailed {
            record: "a.example A".into(),
            error: "timed out".into(),
            class: ErrorClass::Unconfirmed,
            failures: 1,
            stopped: false,
            retry_at: Some(
                std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_767_225_630),
            ),
        })
        .unwrap();
        assert!(m.summary.starts_with("Could not confirm"), "{m:?}");
        assert!(
            m.body.contains("Next attempt at 2026-01-01T00:00:30Z"),
            "{m:?}"
        );
        let m = describe(&Event::RecordFailed {
            record: "a.example A".into(),
            error: "HTTP 401".into(),
            class: ErrorClass::Auth,
            failures: 1,
            stopped: true,
            retry_at: None,
        })
        .unwrap();
        assert_eq!(m.level, Level::Error);
        assert!(m.body.contains("until the configuration changes"), "{m:?}");
    }
}
