//! Telling the user what happened. Every user-visible sentence about engine events lives here, built from the
//! engine's typed [`Event`]s; notifiers (the log today, desktop toasts in tray mode) only deliver them.
//!
//! Messages follow transitions (changed, failing, recovered), not every tick; a write whose result is unknown
//! is "could not confirm", never "failed".

use tokio::sync::broadcast;

use crate::engine::Event;
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

/// The message for an event, or `None` for events that need none.
#[must_use]
pub fn describe(event: &Event) -> Option<Message> {
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
            format!("Public {family} address changed"),
            format!("{old} -> {new}"),
        ),
        Event::IpChanged {
            family,
            old: None,
            new,
        } => msg(
            Level::Info,
            format!("Public {family} address is {new}"),
            String::new(),
        ),
        Event::DetectionFailed { family, reason } => msg(
            Level::Warning,
            format!("Cannot detect the public {family} address"),
            format!("Nothing is published until it is known again. {reason}"),
        ),
        Event::DetectionRecovered { family } => msg(
            Level::Info,
            format!("Public {family} address detected again"),
            String::new(),
        ),
        Event::RecordUpdated {
            record,
            ip,
            previous,
        } => msg(
            Level::Info,
            format!("Updated {record}"),
            previous.map_or_else(|| format!("now {ip}"), |p| format!("{p} -> {ip}")),
        ),
        Event::RecordFailed {
            record,
            error,
            class,
            failures,
            stopped,
            retry_at,
        } => {
            let (summary, level) = match class {
                ErrorClass::Unconfirmed => (
                    format!("Could not confirm the update of {record}"),
                    Level::Warning,
                ),
                ErrorClass::Auth => (
                    format!("{record}: the provider refused the credentials"),
                    Level::Error,
                ),
                ErrorClass::Banned { .. } => (
                    format!("{record}: the provider blocked updates"),
                    Level::Error,
                ),
                _ => (format!("Updating {record} failed"), Level::Warning),
            };
            let next = if *stopped {
                "No more attempts until the configuration changes.".to_owned()
            } else {
                retry_at
                    .as_ref()
                    .map_or_else(String::new, |t| format!("Next attempt at {t}."))
            };
            let streak = if *failures > 1 {
                format!(" ({failures} failures in a row)")
            } else {
                String::new()
            };
            msg(level, summary, format!("{error}{streak}. {next}"))
        }
        Event::RecordRecovered {
            record,
            after_failures,
        } => msg(
            Level::Info,
            format!("{record} is updating again"),
            format!("after {after_failures} failure(s)"),
        ),
        Event::Paused => msg(Level::Info, "Updates paused".into(), String::new()),
        Event::Resumed => msg(Level::Info, "Updates resumed".into(), String::new()),
        Event::Reloaded => msg(Level::Info, "Settings reloaded".into(), String::new()),
    }
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
            retry_at: Some("2026-01-01T00:00:30Z".into()),
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
