//! The engine's vocabulary: commands in, status and events out, and round reports.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::time::SystemTime;

use serde::{Deserialize, Serialize};
use tokio::sync::oneshot;

use crate::config::{Family, RecordType};
use crate::provider::ErrorClass;
use crate::settings::Settings;

/// What the UI or the daemon asks of the engine.
#[derive(Debug)]
pub enum Command {
    /// Run a round now. `force` also re-publishes unchanged records and retries stopped ones (not bans).
    UpdateNow {
        force: bool,
        reply: Option<oneshot::Sender<RoundReport>>,
    },
    Pause,
    Resume,
    /// Replace the settings (the settings window saved, or SIGHUP); a round follows at once.
    Reload(Box<Settings>),
    /// Answer at once, even during a round: the service watchdog asks whether the loop is alive.
    Ping(oneshot::Sender<()>),
    /// An address or default route of this family changed (see [`crate::netwatch`]): check it soon.
    NetworkChanged(Family),
    /// The machine woke from sleep: check every family soon.
    Woke,
    /// Whether network changes are watched (shown in the status).
    NetworkEvents(NetworkEvents),
    Shutdown,
}

/// Why a round runs; decides what it may skip.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// The schedule (or a retry coming due): respects backoff, stops and bans.
    Tick,
    /// The user asked ("Update now"): skips backoff waits, not stops or bans.
    Manual,
    /// `--force`: also re-publishes unchanged values and retries stopped records; bans still hold.
    Force,
    /// `--dry-run`: decides like `Tick` but calls no provider and changes no state.
    DryRun,
}

/// What happened, for notifiers and the tray (and over the control endpoint, for a tray following a
/// service).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "kebab-case")]
pub enum Event {
    /// The detected address of a family differs from the last one (`old` is `None` the first time).
    IpChanged {
        family: Family,
        old: Option<IpAddr>,
        new: IpAddr,
    },
    /// Detection of a family started failing (reported once per streak).
    DetectionFailed {
        family: Family,
        reason: String,
    },
    /// Detection works again after failing.
    DetectionRecovered {
        family: Family,
    },
    /// DDNS may not make this host reachable (reported once, and again when the reason changes).
    Unreachable {
        reach: crate::detect::reach::Reach,
        /// Nothing is written meanwhile (`[detect] behind_nat = "hold"`).
        held: bool,
    },
    /// The reason reported by [`Event::Unreachable`] is gone.
    Reachable,
    RecordUpdated {
        record: String,
        ip: IpAddr,
        previous: Option<IpAddr>,
    },
    /// An update failed. `failures` counts the streak (1 = first); `stopped` means no retry until the config
    /// changes.
    RecordFailed {
        record: String,
        error: String,
        class: ErrorClass,
        failures: u32,
        stopped: bool,
        #[serde(
            serialize_with = "ser_time",
            deserialize_with = "de_time",
            default,
            skip_serializing_if = "Option::is_none"
        )]
        retry_at: Option<SystemTime>,
    },
    /// A record succeeded after a failure streak.
    RecordRecovered {
        record: String,
        after_failures: u32,
    },
    /// The state file could not be written: what was published may be published again after a restart.
    StateNotSaved {
        error: String,
    },
    /// The state file is written again after a failure.
    StateSaved,
    Paused,
    Resumed,
    Reloaded,
    /// A round (scheduled or asked for) is over; lets notifiers summarise what it did.
    RoundFinished,
    /// A network change of this family was reported (see [`crate::netwatch`]), whether or not it starts a
    /// check (for metrics).
    NetworkChanged {
        family: Family,
    },
    /// How long a detection or a provider call took (for metrics; no message).
    Measured(Measurement),
}

/// A timing the engine reports (see [`Event::Measured`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "what", rename_all = "kebab-case")]
pub enum Measurement {
    /// One family's detection (every source it asked, under the policy).
    Detection {
        family: Family,
        seconds: f64,
        ok: bool,
    },
    /// One provider call (one record).
    Provider {
        provider: String,
        seconds: f64,
        ok: bool,
    },
}

/// Where a record stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Phase {
    /// Published and current as far as we know.
    Ok,
    /// Never published yet.
    #[default]
    Pending,
    /// The last attempt failed; a retry is scheduled.
    Failing,
    /// Stopped until the config changes.
    Stopped,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordStatus {
    pub name: String,
    pub record_type: RecordType,
    pub provider: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<String>,
    pub published: Option<IpAddr>,
    #[serde(serialize_with = "ser_time", deserialize_with = "de_time", default)]
    pub published_at: Option<SystemTime>,
    pub phase: Phase,
    pub failures: u32,
    #[serde(serialize_with = "ser_time", deserialize_with = "de_time", default)]
    pub next_attempt: Option<SystemTime>,
    pub last_error: Option<String>,
    /// What kind of failure `last_error` is (what it means for the user: [`crate::notify::why`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error_class: Option<ErrorClass>,
    /// The `[[line]]`s whose addresses it publishes (records with `lines`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub via: Vec<String>,
    /// A write held back by the write budget goes out then (with the address current then).
    #[serde(
        serialize_with = "ser_time",
        deserialize_with = "de_time",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub held_until: Option<SystemTime>,
}

/// A `[[line]]` as last detected.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LineStatus {
    pub name: String,
    pub ipv4: Option<IpAddr>,
    pub ipv6: Option<IpAddr>,
    /// Why a family does not work through this line.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub errors: BTreeMap<Family, String>,
}

impl LineStatus {
    /// Whether any family works through it.
    #[must_use]
    pub fn up(&self) -> bool {
        self.ipv4.is_some() || self.ipv6.is_some()
    }
}

/// The engine's current status (a snapshot, replaced after every change).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Status {
    pub paused: bool,
    /// A round is in progress.
    pub updating: bool,
    pub ipv4: Option<IpAddr>,
    pub ipv6: Option<IpAddr>,
    pub detect_errors: BTreeMap<Family, String>,
    #[serde(serialize_with = "ser_time", deserialize_with = "de_time", default)]
    pub last_check: Option<SystemTime>,
    #[serde(serialize_with = "ser_time", deserialize_with = "de_time", default)]
    pub last_update: Option<SystemTime>,
    pub last_error: Option<String>,
    /// Why the state file cannot be written, while it cannot.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub store_error: Option<String>,
    /// Problems of a config that could not be loaded (no engine runs until they are fixed); set by the app,
    /// never by the engine.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub config_problems: Vec<String>,
    /// Whether network changes start checks.
    #[serde(default)]
    pub network_events: NetworkEvents,
    /// The `[[line]]`s records are published from, as last detected.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub lines: Vec<LineStatus>,
    /// Why DDNS may not make this host reachable (behind carrier-grade NAT or another NAT), as last found;
    /// never set under `[detect] behind_nat = "publish"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reach: Option<crate::detect::reach::Reach>,
    pub records: Vec<RecordStatus>,
}

/// The result of one round.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RoundReport {
    #[serde(serialize_with = "ser_time_req")]
    pub at: SystemTime,
    pub detection: BTreeMap<Family, DetectionReport>,
    pub records: Vec<RecordReport>,
    /// The state file could not be written at the end of the round.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state_error: Option<String>,
}

impl RoundReport {
    /// True when every record is updated or unchanged (or would be, in a dry run) and the state was saved.
    #[must_use]
    pub fn all_ok(&self) -> bool {
        self.state_error.is_none()
            && self
                .records
                .iter()
                .all(|r| !matches!(r.outcome, Outcome::Failed { .. } | Outcome::Skipped { .. }))
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DetectionReport {
    pub ip: Option<IpAddr>,
    pub error: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RecordReport {
    pub name: String,
    pub record_type: RecordType,
    pub provider: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<String>,
    pub ip: Option<IpAddr>,
    #[serde(flatten)]
    pub outcome: Outcome,
}

/// Why a record was not attempted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SkipKind {
    /// The address is not known: nothing published, nothing cleared.
    Unknown,
    /// Waiting out the backoff after failures.
    Waiting,
    /// Stopped until the config changes.
    Stopped,
    /// The provider banned updates for a while.
    Banned,
    /// The round was cut short (paused, reloaded, shutting down) before this record's turn.
    Interrupted,
    /// A round started by a network change of the other family: this record was not looked at.
    NotChecked,
}

/// Whether the engine hears of network changes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "state", content = "reason")]
pub enum NetworkEvents {
    /// Nobody set up a watch (`once`, tests).
    #[default]
    Off,
    Watching,
    /// Why this system cannot be watched; the schedule still runs.
    Unavailable(String),
}

impl std::fmt::Display for NetworkEvents {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Off => f.write_str("not watching network changes"),
            Self::Watching => f.write_str("watching network changes"),
            Self::Unavailable(why) => write!(f, "not watching network changes ({why})"),
        }
    }
}

/// What a round did with one record.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "outcome", rename_all = "kebab-case")]
pub enum Outcome {
    Updated,
    Unchanged,
    /// Dry run: would have written.
    WouldUpdate,
    Failed {
        reason: String,
    },
    /// Not attempted.
    Skipped {
        skip: SkipKind,
        reason: String,
    },
}

impl std::fmt::Display for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Updated => f.write_str("updated"),
            Self::Unchanged => f.write_str("unchanged"),
            Self::WouldUpdate => f.write_str("would update"),
            Self::Failed { reason } => write!(f, "failed: {reason}"),
            Self::Skipped { skip, reason } => {
                let word = match skip {
                    SkipKind::Unknown => "not published",
                    SkipKind::Waiting => "waiting",
                    SkipKind::Stopped => "stopped",
                    SkipKind::Banned => "banned",
                    SkipKind::Interrupted | SkipKind::NotChecked => "not attempted",
                };
                write!(f, "{word}: {reason}")
            }
        }
    }
}

/// RFC 3339 (seconds) for optional times in JSON output.
#[allow(clippy::ref_option, clippy::trivially_copy_pass_by_ref)] // serde's serialize_with hands us references
pub fn ser_time<S: serde::Serializer>(t: &Option<SystemTime>, s: S) -> Result<S::Ok, S::Error> {
    match t {
        Some(t) => s.serialize_str(&humantime::format_rfc3339_seconds(*t).to_string()),
        None => s.serialize_none(),
    }
}

/// Reads what [`ser_time`] wrote.
pub fn de_time<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<SystemTime>, D::Error> {
    Option::<String>::deserialize(d)?
        .map(|s| humantime::parse_rfc3339_weak(&s).map_err(serde::de::Error::custom))
        .transpose()
}

#[allow(clippy::trivially_copy_pass_by_ref)] // serde's serialize_with hands us references
fn ser_time_req<S: serde::Serializer>(t: &SystemTime, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&humantime::format_rfc3339_seconds(*t).to_string())
}
