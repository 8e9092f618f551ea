//! The engine's status in words: the icon state, the tooltip, the menu's labels, the status text of `ctl status`
//! and the window, and local times ("12:04 (3 min ago)"). Plain functions, unit-tested without a display.

use std::time::{Duration, SystemTime};

use crate::engine::{NetworkEvents, Phase, Status};
use crate::i18n::t;

/// The tray icon's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IconState {
    /// Every record is published and current.
    Ok,
    /// A round is running.
    Updating,
    /// A record is failing or stopped, or the address cannot be detected.
    Failing,
    /// The user paused updates.
    Paused,
    /// Published, but a NAT in front of the router keeps the internet out ([`Status::reach`]).
    Unreachable,
    /// No records are configured yet.
    Idle,
}

impl IconState {
    /// The icon's file stem in `assets/icons` (`tray-<name>.png`).
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::Updating => "updating",
            Self::Failing => "failing",
            Self::Paused => "paused",
            Self::Unreachable => "unreachable",
            Self::Idle => "idle",
        }
    }
}

/// The icon for a status. Paused wins over everything; then a round in progress; then trouble.
#[must_use]
pub fn icon_state(status: &Status) -> IconState {
    if status.paused {
        IconState::Paused
    } else if status.updating {
        IconState::Updating
    } else if !status.config_problems.is_empty() || status.store_error.is_some() {
        IconState::Failing
    } else if status.records.is_empty() {
        IconState::Idle
    } else if status
        .records
        .iter()
        .any(|r| matches!(r.phase, Phase::Failing | Phase::Stopped))
        || !status.detect_errors.is_empty()
    {
        IconState::Failing
    } else if status.reach.is_some() {
        IconState::Unreachable
    } else {
        IconState::Ok
    }
}

/// `HH:MM` of a time in the OS's time zone (the relative "3 min ago" beside it is what most people read).
#[cfg(feature = "tray")]
#[must_use]
pub fn clock(t: SystemTime) -> String {
    clock_in(t, &jiff::tz::TimeZone::system())
}

/// `HH:MM` of a time in `zone`.
#[cfg(feature = "tray")]
#[must_use]
pub fn clock_in(t: SystemTime, zone: &jiff::tz::TimeZone) -> String {
    jiff::Timestamp::try_from(t).map_or_else(
        |_| "--:--".to_owned(),
        |ts| {
            ts.to_zoned_datetime(zone.clone())
                .strftime("%H:%M")
                .to_string()
        },
    )
}

/// `HH:MM UTC` of a time: the headless build has no time-zone database.
#[cfg(not(feature = "tray"))]
#[must_use]
pub fn clock(t: SystemTime) -> String {
    let text = humantime::format_rfc3339_seconds(t).to_string();
    format!("{} UTC", text.get(11..16).unwrap_or("--:--"))
}

/// "3 min ago", "2 h ago", "just now" (in the language in use).
#[must_use]
pub fn ago(then: SystemTime, now: SystemTime) -> String {
    let secs = now.duration_since(then).unwrap_or(Duration::ZERO).as_secs();
    match secs {
        0..60 => t!("time.just_now"),
        60..3600 => t!("time.min_ago", n = secs / 60),
        3600..86_400 => t!("time.h_ago", n = secs / 3600),
        _ => t!("time.d_ago", n = secs / 86_400),
    }
    .into_owned()
}

/// "in 3 min", "in 2 h", "now".
#[must_use]
pub fn until(then: SystemTime, now: SystemTime) -> String {
    let secs = then.duration_since(now).unwrap_or(Duration::ZERO).as_secs();
    match secs {
        0..60 => t!("time.now"),
        60..3600 => t!("time.in_min", n = secs.div_ceil(60)),
        3600..86_400 => t!("time.in_h", n = secs / 3600),
        _ => t!("time.in_d", n = secs / 86_400),
    }
    .into_owned()
}

/// "12:04 (3 min ago)" for a past time, "12:09 (in 5 min)" for a coming one, in local time.
#[must_use]
pub fn when(at: SystemTime, now: SystemTime) -> String {
    let relative = if at > now {
        until(at, now)
    } else {
        ago(at, now)
    };
    format!("{} ({relative})", clock(at))
}

/// "2026-12-01 12:04" in local time (the history's dates).
#[cfg(feature = "tray")]
#[must_use]
pub fn date_time(t: SystemTime) -> String {
    jiff::Timestamp::try_from(t).map_or_else(
        |_| "----".to_owned(),
        |ts| {
            ts.to_zoned_datetime(jiff::tz::TimeZone::system())
                .strftime("%Y-%m-%d %H:%M")
                .to_string()
        },
    )
}

/// Whether network changes start checks, as a sentence.
#[must_use]
pub fn network_events(events: &NetworkEvents) -> String {
    match events {
        NetworkEvents::Off => t!("status.not_watching").into_owned(),
        NetworkEvents::Watching => t!("status.watching").into_owned(),
        NetworkEvents::Unavailable(why) => t!("status.cannot_watch", why = why).into_owned(),
    }
}

/// The menu's informational lines and toggles, derived from the status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MenuLabels {
    pub ipv4: String,
    pub ipv6: Option<String>,
    pub last_update: String,
    pub last_error: Option<String>,
    /// "Pause" or "Resume".
    pub pause: String,
}

/// Builds the menu labels. `ipv6_enabled` shows the IPv6 line only when the family is on.
#[must_use]
pub fn menu_labels(status: &Status, ipv6_enabled: bool, now: SystemTime) -> MenuLabels {
    let ip = |ip: Option<std::net::IpAddr>, family| {
        ip.map_or_else(
            || {
                if status.detect_errors.contains_key(&family) {
                    t!("menu.not_detected").into_owned()
                } else {
                    "…".to_owned()
                }
            },
            |i| i.to_string(),
        )
    };
    // With uplinks, each one's state follows the address: "IPv4: 198.51.100.7 (wan1 ok, wan2 down)".
    let lines = if status.lines.is_empty() {
        String::new()
    } else {
        let each: Vec<String> = status
            .lines
            .iter()
            .map(|l| {
                let state = if l.up() {
                    t!("menu.line_ok")
                } else {
                    t!("menu.line_down")
                };
                format!("{} {state}", l.name)
            })
            .collect();
        format!(" ({})", each.join(", "))
    };
    MenuLabels {
        ipv4: format!(
            "IPv4: {}{lines}",
            ip(status.ipv4, crate::config::Family::V4)
        ),
        ipv6: ipv6_enabled.then(|| format!("IPv6: {}", ip(status.ipv6, crate::config::Family::V6))),
        last_update: status.last_update.map_or_else(
            || t!("menu.last_update_never").into_owned(),
            |at| t!("menu.last_update", when = when(at, now)).into_owned(),
        ),
        last_error: match status.config_problems.as_slice() {
            [] => status
                .last_error
                .as_ref()
                .map(|e| t!("menu.last_error", error = shorten(e, 80)).into_owned()),
            [one] => Some(t!("menu.config_problem", error = shorten(one, 80)).into_owned()),
            [first, rest @ ..] => Some(
                t!(
                    "menu.config_problems",
                    n = rest.len() + 1,
                    error = shorten(first, 64)
                )
                .into_owned(),
            ),
        },
        pause: if status.paused {
            t!("menu.resume").into_owned()
        } else {
            t!("menu.pause").into_owned()
        },
    }
}

/// The tooltip: current addresses and the time of the last successful update.
#[must_use]
pub fn tooltip(status: &Status, ipv6_enabled: bool, now: SystemTime) -> String {
    let labels = menu_labels(status, ipv6_enabled, now);
    let mut lines = vec![
        if status.paused {
            t!("tray.title_paused").into_owned()
        } else {
            t!("tray.title").into_owned()
        },
        labels.ipv4,
    ];
    lines.extend(labels.ipv6);
    lines.push(labels.last_update);
    if status.reach.is_some() {
        lines.push(t!("state.unreachable_tip").into_owned());
    }
    if status.network_events != crate::engine::NetworkEvents::Off {
        lines.push(network_events(&status.network_events));
    }
    lines.join("\n")
}

/// A running daemon's status as text (`ddns-tray ctl status`): the tooltip's lines, the last error, one line
/// per record.
#[must_use]
pub fn status_text(status: &Status, now: SystemTime) -> String {
    use std::fmt::Write as _;
    let labels = menu_labels(
        status,
        status.ipv6.is_some()
            || status
                .detect_errors
                .contains_key(&crate::config::Family::V6),
        now,
    );
    let state = match icon_state(status) {
        IconState::Paused => t!("state.paused"),
        IconState::Updating => t!("state.updating"),
        IconState::Failing => t!("state.failing"),
        IconState::Ok => t!("state.ok"),
        IconState::Idle => t!("state.idle"),
        IconState::Unreachable => t!("state.unreachable"),
    };
    let mut out = format!(
        "{}\n{}\n",
        t!(
            "ctl.state",
            state = state,
            network = network_events(&status.network_events)
        ),
        labels.ipv4
    );
    for line in labels
        .ipv6
        .iter()
        .chain([&labels.last_update])
        .chain(&labels.last_error)
    {
        let _ = writeln!(out, "{line}");
    }
    if let Some(reach) = &status.reach {
        let _ = writeln!(out, "{}", super::reach(reach));
    }
    for l in &status.lines {
        let mut parts: Vec<String> = Vec::new();
        for (family, ip) in [
            (crate::config::Family::V4, l.ipv4),
            (crate::config::Family::V6, l.ipv6),
        ] {
            match (ip, l.errors.get(&family)) {
                (Some(ip), _) => parts.push(ip.to_string()),
                (None, Some(e)) => parts.push(
                    t!("ctl.family_down", family = family, error = shorten(e, 80)).into_owned(),
                ),
                (None, None) => {}
            }
        }
        let what = if parts.is_empty() {
            t!("ctl.not_checked").into_owned()
        } else {
            parts.join(", ")
        };
        let _ = writeln!(out, "{}", t!("ctl.line", name = l.name, what = what));
    }
    for r in &status.records {
        let line = r
            .line
            .as_ref()
            .map(|l| format!(" [{l}]"))
            .unwrap_or_default();
        let published = r
            .published
            .map_or_else(|| "-".to_owned(), |ip| ip.to_string());
        let phase = match r.phase {
            Phase::Ok => t!("state.ok"),
            Phase::Pending => t!("state.pending"),
            Phase::Failing => t!("state.failing_n", n = r.failures),
            Phase::Stopped => t!("state.stopped"),
        };
        let error = r
            .last_error
            .as_ref()
            .map(|e| format!(": {}", shorten(e, 120)))
            .unwrap_or_default();
        let from = if r.via.is_empty() {
            String::new()
        } else {
            format!(" {}", t!("ctl.from", lines = r.via.join(" + ")))
        };
        let _ = writeln!(
            out,
            "{} {}{line} {}{from}: {published} {phase}{error}",
            r.name,
            r.record_type,
            t!("ctl.via", provider = r.provider)
        );
    }
    out
}

/// Cuts a message to `max` characters on a character boundary, with an ellipsis.
#[must_use]
pub fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_owned()
    } else {
        format!(
            "{}…",
            text.chars().take(max.saturating_sub(1)).collect::<String>()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Family, RecordType};
    use crate::engine::RecordStatus;

    fn record(phase: Phase) -> RecordStatus {
        RecordStatus {
            name: "home.example.com".into(),
            record_type: RecordType::A,
            provider: "p".into(),
            line: None,
            published: None,
            published_at: None,
            phase,
            failures: 0,
            next_attempt: None,
            last_error: None,
            last_error_class: None,
            via: Vec::new(),
            held_until: None,
        }
    }

    #[test]
    fn icon_states() {
        let base = Status {
            records: vec![record(Phase::Ok)],
            ..Status::default()
        };
        let cases = [
            ("all ok", base.clone(), IconState::Ok),
            (
                "pending counts as ok",
                Status {
                    records: vec![record(Phase::Pending)],
                    ..base.clone()
                },
                IconState::Ok,
            ),
            (
                "failing",
                Status {
                    records: vec![record(Phase::Ok), record(Phase::Failing)],
                    ..base.clone()
                },
                IconState::Failing,
            ),
            (
                "stopped",
                Status {
                    records: vec![record(Phase::Stopped)],
                    ..base.clone()
                },
                IconState::Failing,
            ),
            (
                "detection failing",
                Status {
                    detect_errors: [(Family::V4, "x".into())].into(),
                    ..base.clone()
                },
                IconState::Failing,
            ),
            (
                "updating",
                Status {
                    updating: true,
                    records: vec![record(Phase::Failing)],
                    ..base.clone()
                },
                IconState::Updating,
            ),
            (
                "paused wins",
                Status {
                    paused: true,
                    updating: true,
                    ..base.clone()
                },
                IconState::Paused,
            ),
            ("no records", Status::default(), IconState::Idle),
            (
                "a config that cannot be loaded",
                Status {
                    config_problems: vec!["record[0].provider: no provider is named `x`".into()],
                    ..Status::default()
                },
                IconState::Failing,
            ),
            (
                "a state that cannot be saved",
                Status {
                    store_error: Some("disk full".into()),
                    ..base.clone()
                },
                IconState::Failing,
            ),
        ];
        for (name, status, want) in cases {
            assert_eq!(icon_state(&status), want, "{name}");
        }
    }

    #[cfg(feature = "tray")]
    #[test]
    fn times_are_shown_in_the_local_time_zone() {
        let t = SystemTime::UNIX_EPOCH + Duration::from_hours(490_020) - Duration::from_mins(3); // 11:57Z
        let shanghai = jiff::tz::TimeZone::fixed(jiff::tz::Offset::constant(8));
        assert_eq!(clock_in(t, &shanghai), "19:57");
        assert_eq!(clock_in(t, &jiff::tz::TimeZone::UTC), "11:57");
        let new_york = jiff::tz::TimeZone::fixed(jiff::tz::Offset::constant(-5));
        assert_eq!(clock_in(t, &new_york), "06:57");
    }

    #[test]
    fn labels_and_tooltip() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_hours(490_020); // 2025-11-25T12:00:00Z
        let status = Status {
            ipv4: Some("203.0.113.7".parse().unwrap()),
            last_update: Some(now - Duration::from_mins(3)),
            last_error: Some("cloudflare `cf`: credentials refused (HTTP 403)".into()),
            records: vec![record(Phase::Ok)],
            ..Status::default()
        };
        let l = menu_labels(&status, false, now);
        assert_eq!(l.ipv4, "IPv4: 203.0.113.7");
        assert_eq!(l.ipv6, None);
        let at = clock(now - Duration::from_mins(3));
        assert_eq!(l.last_update, format!("Last update: {at} (3 min ago)"));
        assert_eq!(
            l.last_error.as_deref(),
            Some("Last error: cloudflare `cf`: credentials refused (HTTP 403)")
        );
        assert_eq!(l.pause, "Pause");
        assert_eq!(
            tooltip(&status, false, now),
            format!("ddns-tray\nIPv4: 203.0.113.7\nLast update: {at} (3 min ago)")
        );

        let paused = Status {
            paused: true,
            detect_errors: [(Family::V6, "x".into())].into(),
            ..Status::default()
        };
        let l = menu_labels(&paused, true, now);
        assert_eq!(
            (l.ipv4.as_str(), l.ipv6.as_deref(), l.pause.as_str()),
            ("IPv4: …", Some("IPv6: not detected"), "Resume")
        );
        assert_eq!(l.last_update, "Last update: never");
        assert!(tooltip(&paused, true, now).starts_with("ddns-tray (paused)\n"));
    }

    #[test]
    fn durations_and_shortening() {
        let t = SystemTime::UNIX_EPOCH + Duration::from_secs(100_000);
        assert_eq!(ago(t, t + Duration::from_secs(5)), "just now");
        assert_eq!(ago(t, t + Duration::from_hours(2)), "2 h ago");
        assert_eq!(ago(t, t + Duration::from_hours(72)), "3 d ago");
        assert_eq!(
            ago(t, t - Duration::from_secs(5)),
            "just now",
            "clock skew is not negative time"
        );
        assert_eq!(shorten("abcdef", 4), "abc…");
        assert_eq!(shorten("äöü", 3), "äöü");
    }
}
