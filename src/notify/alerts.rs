//! Alerts: the engine's events through the same policy as the desktop toasts ([`super::ToastPolicy`]), to
//! every `[[notify]]` notifier whose `events` filter takes them, at most `max_per_hour` each (alerts held
//! back are counted and mentioned in the next one); heartbeat monitors get a ping after every round.
//!
//! Sending never holds up the engine or the next event: each delivery is its own task with a time limit, and
//! when the event stream ends (the engine stopped) the deliveries under way are awaited, so `once` does not
//! exit before its alerts are out.

use std::collections::VecDeque;
use std::fmt::Write as _;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{broadcast, watch};
use tokio::task::JoinSet;
use tokio::time::Instant;

use super::ToastPolicy;
use crate::engine::{Event, Phase, Status};
use crate::notifier::NotifierSettings;
use crate::notifier::{Beat, Category, Note};
use crate::settings::Settings;

/// The longest a delivery may take.
const SEND_TIMEOUT: Duration = Duration::from_secs(45);
/// Heartbeats are pinged at most this often when nothing changed (rounds triggered by network events can
/// come faster).
const BEAT_EVERY: Duration = Duration::from_secs(30);
const HOUR: Duration = Duration::from_hours(1);

/// Turns events into alert notes under the toast policy, remembering what the notes name.
#[derive(Default)]
pub struct AlertPolicy {
    policy: ToastPolicy,
    /// The first address change of the round: (old, new).
    change: Option<(Option<IpAddr>, IpAddr)>,
    /// The first record updated in the round.
    updated: Option<String>,
    /// The first record published for the first time in the round, with its address.
    first: Option<(String, IpAddr)>,
}

impl AlertPolicy {
    /// The alerts `event` calls for.
    pub fn on_event(&mut self, event: &Event) -> Vec<Note> {
        let (category, record) = match event {
            Event::IpChanged { old, new, .. } => {
                if old.is_some() && self.change.is_none() {
                    self.change = Some((*old, *new));
                }
                (Category::Change, None)
            }
            Event::RecordUpdated {
                record,
                ip,
                previous,
            } => {
                self.updated.get_or_insert_with(|| record.clone());
                if previous.is_none() {
                    self.first.get_or_insert_with(|| (record.clone(), *ip));
                }
                (Category::Change, None)
            }
            Event::RoundFinished => (Category::Change, self.updated.take()),
            Event::RecordFailed { record, .. } => (Category::Failure, Some(record.clone())),
            Event::StateNotSaved { .. } | Event::Unreachable { .. } => (Category::Failure, None),
            Event::RecordRecovered { record, .. } => (Category::Recovery, Some(record.clone())),
            Event::StateSaved | Event::Reachable => (Category::Recovery, None),
            _ => (Category::Change, None),
        };
        let (change, first) = if matches!(event, Event::RoundFinished) {
            // A round without an address change tells of first publications (the toast policy's rule).
            let change = self.change.take();
            let first = self.first.take().filter(|_| change.is_none());
            (change, first)
        } else {
            (None, None)
        };
        self.policy
            .on_event(event)
            .into_iter()
            .map(|m| Note {
                category,
                title: m.summary,
                body: m.body,
                record: first
                    .as_ref()
                    .map(|(r, _)| r.clone())
                    .or_else(|| record.clone()),
                ip: change
                    .map(|(_, new)| new)
                    .or_else(|| first.as_ref().map(|(_, ip)| *ip)),
                old: change.and_then(|(old, _)| old),
                first: first.is_some(),
            })
            .collect()
    }
}

/// One notifier and its rate limit.
struct Active {
    settings: NotifierSettings,
    /// Through its proxy (its own, the top-level one, or the OS's).
    client: reqwest::Client,
    /// When the alerts of the last hour went out.
    sent: VecDeque<Instant>,
    /// Alerts dropped by the rate limit since the last one sent.
    held_back: u32,
    last_beat: Option<(Instant, Beat)>,
}

impl Active {
    fn new(settings: NotifierSettings) -> Self {
        Self {
            client: crate::http::api_client_via(settings.proxy.as_ref()),
            settings,
            sent: VecDeque::new(),
            held_back: 0,
            last_beat: None,
        }
    }

    /// The note to send under the rate limit, or `None` when the limit holds it back.
    fn admit(&mut self, note: &Note, now: Instant) -> Option<Note> {
        while self
            .sent
            .front()
            .is_some_and(|t| now.duration_since(*t) >= HOUR)
        {
            self.sent.pop_front();
        }
        if self.sent.len() >= self.settings.max_per_hour as usize {
            self.held_back += 1;
            return None;
        }
        self.sent.push_back(now);
        let mut note = note.clone();
        if self.held_back > 0 {
            let _ = write!(
                note.body,
                "\n{}",
                crate::i18n::t!(
                    "alerts.held_back",
                    n = self.held_back,
                    max = self.settings.max_per_hour
                )
            );
            self.held_back = 0;
        }
        Some(note)
    }

    /// Whether to ping the heartbeat with `beat` now.
    fn beat_due(&mut self, beat: &Beat, now: Instant) -> bool {
        let due = self
            .last_beat
            .as_ref()
            .is_none_or(|(at, last)| last != beat || now.duration_since(*at) >= BEAT_EVERY);
        if due {
            self.last_beat = Some((now, beat.clone()));
        }
        due
    }
}

/// What the heartbeat says about the status after a round.
#[must_use]
pub fn beat_of(status: &Status) -> Beat {
    if let Some((family, e)) = status.detect_errors.iter().next() {
        return Beat::Fail(format!("cannot detect the public {family} address: {e}"));
    }
    if let Some(e) = &status.store_error {
        return Beat::Fail(format!("cannot save the state: {e}"));
    }
    match status
        .records
        .iter()
        .find(|r| matches!(r.phase, Phase::Failing | Phase::Stopped))
    {
        Some(r) => Beat::Fail(format!(
            "{} {}: {}",
            r.name,
            r.record_type.as_str(),
            r.last_error.as_deref().unwrap_or("failing")
        )),
        None => Beat::Ok,
    }
}

/// Delivers alerts and heartbeats until the engine's event stream ends, following reloads through
/// `settings`; then waits for the deliveries under way.
pub async fn run(
    mut events: broadcast::Receiver<Event>,
    status: watch::Receiver<Status>,
    mut settings: watch::Receiver<Arc<Settings>>,
) {
    let mut policy = AlertPolicy::default();
    let mut active: Vec<Active> = settings
        .borrow_and_update()
        .notify
        .iter()
        .cloned()
        .map(Active::new)
        .collect();
    let mut sending: JoinSet<()> = JoinSet::new();
    let mut settings_open = true;
    loop {
        tokio::select! {
            changed = settings.changed(), if settings_open => {
                if changed.is_err() {
                    settings_open = false;
                    continue;
                }
                let new = settings.borrow_and_update().notify.clone();
                // Keep each notifier's rate limit across reloads when it is unchanged.
                let mut old = std::mem::take(&mut active);
                active = new
                    .into_iter()
                    .map(|s| match old.iter().position(|a| a.settings == s) {
                        Some(i) => old.swap_remove(i),
                        None => Active::new(s),
                    })
                    .collect();
            }
            event = events.recv() => match event {
                Ok(event) => {
                    let now = Instant::now();
                    if matches!(event, Event::RoundFinished) {
                        let beat = beat_of(&status.borrow());
                        for a in active.iter_mut().filter(|a| a.settings.kind.is_heartbeat()) {
                            if a.beat_due(&beat, now) {
                                spawn_beat(&mut sending, &a.client, &a.settings, beat.clone());
                            }
                        }
                    }
                    for note in policy.on_event(&event) {
                        for a in active.iter_mut().filter(|a| {
                            !a.settings.kind.is_heartbeat() && a.settings.events.contains(&note.category)
                        }) {
                            if let Some(note) = a.admit(&note, now) {
                                spawn_send(&mut sending, &a.client, &a.settings, note);
                            } else {
                                tracing::info!(
                                    notifier = %a.settings.name,
                                    "alert held back (at most {} an hour): {}",
                                    a.settings.max_per_hour,
                                    note.title
                                );
                            }
                        }
                    }
                }
                Err(broadcast::error::RecvError::Lagged(n)) => {
                    tracing::warn!("{n} engine events were missed by the alerts (too many at once)");
                }
                Err(broadcast::error::RecvError::Closed) => break,
            },
            Some(_) = sending.join_next(), if !sending.is_empty() => {}
        }
    }
    while sending.join_next().await.is_some() {}
}

fn spawn_send(
    sending: &mut JoinSet<()>,
    client: &reqwest::Client,
    n: &NotifierSettings,
    note: Note,
) {
    let client = client.clone();
    let n = n.clone();
    sending.spawn(async move {
        let result = tokio::time::timeout(SEND_TIMEOUT, n.kind.send(&client, &note))
            .await
            .unwrap_or_else(|_| Err("no answer within 45 s".into()));
        log_result(&n, &note.title, &result);
    });
}

fn spawn_beat(
    sending: &mut JoinSet<()>,
    client: &reqwest::Client,
    n: &NotifierSettings,
    beat: Beat,
) {
    let client = client.clone();
    let n = n.clone();
    sending.spawn(async move {
        let result = tokio::time::timeout(SEND_TIMEOUT, n.kind.beat(&client, &beat))
            .await
            .unwrap_or_else(|_| Err("no answer within 45 s".into()));
        let what = match &beat {
            Beat::Ok => "heartbeat ok".to_owned(),
            Beat::Fail(_) => "heartbeat fail".to_owned(),
        };
        log_result(&n, &what, &result);
    });
}

fn log_result(n: &NotifierSettings, what: &str, result: &Result<String, String>) {
    match result {
        Ok(answer) => tracing::debug!(
            notifier = %n.name,
            "sent `{what}` via {} ({}): {answer}",
            n.name,
            n.kind.kind_name()
        ),
        Err(e) => tracing::warn!(
            notifier = %n.name,
            "cannot send `{what}` via {} ({}): {e}",
            n.name,
            n.kind.kind_name()
        ),
    }
}

/// Sends a test message through each notifier (all, or the one named), concurrently; returns each one's
/// name, kind and answer, in config order.
pub async fn test(
    notifiers: &[NotifierSettings],
    config: &std::path::Path,
) -> Vec<(String, &'static str, Result<String, String>)> {
    let note = Note {
        category: Category::Test,
        title: crate::i18n::t!("alerts.test_title").into_owned(),
        body: crate::i18n::t!("alerts.test_body", path = config.display()).into_owned(),
        record: None,
        ip: None,
        old: None,
        first: false,
    };
    let sends = notifiers.iter().map(|n| {
        // Through its proxy (its own, the top-level one, or the OS's).
        let client = crate::http::api_client_via(n.proxy.as_ref());
        let note = note.clone();
        async move {
            let result = tokio::time::timeout(SEND_TIMEOUT, n.kind.send(&client, &note))
                .await
                .unwrap_or_else(|_| Err("no answer within 45 s".into()));
            (n.name.clone(), n.kind.kind_name(), result)
        }
    });
    futures_util::future::join_all(sends).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notifier::NotifierKind;

    fn notifier(max: u32) -> NotifierSettings {
        NotifierSettings {
            name: "n".into(),
            kind: NotifierKind::Healthchecks(crate::notifier::healthchecks::Config {
                url: crate::config::Secret::resolved("http://127.0.0.1:9/x"),
            }),
            events: Category::DEFAULT.to_vec(),
            max_per_hour: max,
            proxy: None,
        }
    }

    fn note(title: &str) -> Note {
        Note {
            category: Category::Failure,
            title: title.into(),
            body: "b".into(),
            record: None,
            ip: None,
            old: None,
            first: false,
        }
    }

    #[test]
    fn the_rate_limit_holds_back_and_then_says_how_many() {
        let mut a = Active::new(notifier(2));
        let t0 = Instant::now();
        assert!(a.admit(&note("1"), t0).is_some());
        assert!(a.admit(&note("2"), t0).is_some());
        assert!(a.admit(&note("3"), t0).is_none());
        assert!(a.admit(&note("4"), t0 + Duration::from_mins(1)).is_none());
        let later = a.admit(&note("5"), t0 + HOUR).unwrap();
        assert!(
            later
                .body
                .ends_with("(2 earlier alert(s) were held back: at most 2 an hour)"),
            "{later:?}"
        );
        assert_eq!(a.held_back, 0);
    }

    #[test]
    fn heartbeats_ping_on_change_at_once_and_otherwise_at_most_every_30_s() {
        let mut a = Active::new(notifier(20));
        let t0 = Instant::now();
        assert!(a.beat_due(&Beat::Ok, t0));
        assert!(!a.beat_due(&Beat::Ok, t0 + Duration::from_secs(5)));
        assert!(a.beat_due(&Beat::Fail("x".into()), t0 + Duration::from_secs(6)));
        assert!(a.beat_due(&Beat::Ok, t0 + Duration::from_secs(7)));
        assert!(a.beat_due(&Beat::Ok, t0 + Duration::from_secs(40)));
    }

    #[test]
    fn a_changed_address_becomes_one_change_alert_naming_record_and_addresses() {
        let mut p = AlertPolicy::default();
        let v4 = crate::config::Family::V4;
        assert!(
            p.on_event(&Event::IpChanged {
                family: v4,
                old: Some("198.51.100.1".parse().unwrap()),
                new: "198.51.100.2".parse().unwrap(),
            })
            .is_empty()
        );
        assert!(
            p.on_event(&Event::RecordUpdated {
                record: "a.example.com A".into(),
                ip: "198.51.100.2".parse().unwrap(),
                previous: Some("198.51.100.1".parse().unwrap()),
            })
            .is_empty()
        );
        let notes = p.on_event(&Event::RoundFinished);
        assert_eq!(notes.len(), 1);
        let n = &notes[0];
        assert_eq!(n.category, Category::Change);
        assert_eq!(n.record.as_deref(), Some("a.example.com A"));
        assert_eq!(n.ip, Some("198.51.100.2".parse().unwrap()));
        assert_eq!(n.old, Some("198.51.100.1".parse().unwrap()));
        assert!(n.body.contains("198.51.100.1 -> 198.51.100.2"), "{n:?}");
        // The next round starts clean.
        assert!(p.on_event(&Event::RoundFinished).is_empty());
    }

    #[test]
    fn a_first_publication_is_a_change_alert_marked_first() {
        let mut p = AlertPolicy::default();
        let v4 = crate::config::Family::V4;
        // The first detection after a start is no change, but the record never published before is told.
        p.on_event(&Event::IpChanged {
            family: v4,
            old: None,
            new: "198.51.100.2".parse().unwrap(),
        });
        p.on_event(&Event::RecordUpdated {
            record: "b.example.com A".into(),
            ip: "198.51.100.2".parse().unwrap(),
            previous: None,
        });
        let notes = p.on_event(&Event::RoundFinished);
        assert_eq!(notes.len(), 1, "{notes:?}");
        let n = &notes[0];
        assert!(n.first, "{n:?}");
        assert_eq!(n.category, Category::Change);
        assert_eq!(n.title, "b.example.com A published for the first time");
        assert_eq!(n.body, "b.example.com A -> 198.51.100.2");
        assert_eq!(n.record.as_deref(), Some("b.example.com A"));
        assert_eq!(n.ip, Some("198.51.100.2".parse().unwrap()));
        assert_eq!(n.old, None);
        // A record updated again (published before) in a round without a change: nothing to tell.
        p.on_event(&Event::RecordUpdated {
            record: "b.example.com A".into(),
            ip: "198.51.100.2".parse().unwrap(),
            previous: Some("198.51.100.2".parse().unwrap()),
        });
        assert!(p.on_event(&Event::RoundFinished).is_empty());
        // Two first publications in one round: one alert naming both.
        for r in ["c.example.com A", "d.example.com A"] {
            p.on_event(&Event::RecordUpdated {
                record: r.into(),
                ip: "198.51.100.2".parse().unwrap(),
                previous: None,
            });
        }
        let notes = p.on_event(&Event::RoundFinished);
        assert_eq!(notes.len(), 1, "{notes:?}");
        assert_eq!(notes[0].title, "2 records published for the first time");
        assert_eq!(
            notes[0].body,
            "c.example.com A -> 198.51.100.2\nd.example.com A -> 198.51.100.2"
        );
    }

    #[test]
    fn a_failure_says_what_it_means_then_the_providers_words_without_markup() {
        let event = Event::RecordFailed {
            record: "a.example.com A".into(),
            error: "gcore `g`: HTTP 501 Not Implemented: <!DOCTYPE HTML><html><head><title>501 Not Implemented</title></head><body><h1>Not Implemented</h1></body></html>".into(),
            class: crate::provider::ErrorClass::Transient,
            failures: 3,
            stopped: false,
            retry_at: None,
        };
        let notes = AlertPolicy::default().on_event(&event);
        assert_eq!(notes.len(), 1, "{notes:?}");
        assert_eq!(notes[0].title, "Updating a.example.com A failed");
        assert_eq!(
            notes[0].body,
            "The provider or the network had a passing problem (3 failures in a row).\nDetails: gcore `g`: HTTP 501 Not Implemented: 501 Not Implemented Not Implemented"
        );
        assert!(!notes[0].first);
    }
}
