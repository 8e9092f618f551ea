//! `/health` and `ddns-tray health`: whether every record is published and current and the last check recent;
//! if not, the first reason ([`Unhealthy`]: English on `/health`, the language in use on the command line).

use std::fmt;
use std::time::{Duration, SystemTime};

use crate::config::Family;
use crate::engine::{Phase, Status};
use crate::i18n::tr;

/// Why a daemon is not healthy (the first reason found).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unhealthy {
    /// The config cannot be loaded: its first problem.
    Config(String),
    Paused,
    Detection {
        family: Family,
        error: String,
    },
    /// The state file cannot be written.
    Store(String),
    /// A record (`name TYPE`) has not been published yet.
    Pending(String),
    /// A record (`name TYPE`) is failing or stopped, with its last error.
    Failing {
        record: String,
        error: String,
    },
    NeverChecked,
    /// The last check is this old (whole seconds).
    Stale(Duration),
}

impl fmt::Display for Unhealthy {
    /// The English line `/health` answers with.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Config(p) => write!(f, "the config cannot be loaded: {p}"),
            Self::Paused => f.write_str("updates are paused"),
            Self::Detection { family, error } => {
                write!(f, "cannot detect the public {family} address: {error}")
            }
            Self::Store(e) => write!(f, "cannot save the state: {e}"),
            Self::Pending(what) => write!(f, "{what}: not published yet"),
            Self::Failing { record, error } => write!(f, "{record}: {error}"),
            Self::NeverChecked => f.write_str("no check has run yet"),
            Self::Stale(ago) => write!(
                f,
                "the last check was {} ago",
                humantime::format_duration(*ago)
            ),
        }
    }
}

impl Unhealthy {
    /// The reason in the language in use (the daemon's own words, errors, stay as they came).
    #[must_use]
    pub fn localized(&self) -> String {
        match self {
            Self::Config(p) => tr("health.config", &[("problem", p)]),
            Self::Paused => tr("health.paused", &[]),
            Self::Detection { family, error } => {
                tr("health.detection", &[("family", family), ("error", error)])
            }
            Self::Store(e) => tr("health.store", &[("error", e)]),
            Self::Pending(what) => tr("health.pending", &[("record", what)]),
            Self::Failing { record, error } => {
                tr("health.failing", &[("record", record), ("error", error)])
            }
            Self::NeverChecked => tr("health.never_checked", &[]),
            Self::Stale(ago) => tr(
                "health.stale",
                &[("ago", &humantime::format_duration(*ago))],
            ),
        }
    }
}

/// `Ok` when every record is published and current and the last check is recent (within two intervals and a
/// minute), else the first reason.
pub fn health(status: &Status, interval: Duration, now: SystemTime) -> Result<(), Unhealthy> {
    if let Some(problem) = status.config_problems.first() {
        return Err(Unhealthy::Config(problem.clone()));
    }
    if status.paused {
        return Err(Unhealthy::Paused);
    }
    if let Some((family, e)) = status.detect_errors.iter().next() {
        return Err(Unhealthy::Detection {
            family: *family,
            error: e.clone(),
        });
    }
    if let Some(e) = &status.store_error {
        return Err(Unhealthy::Store(e.clone()));
    }
    for r in &status.records {
        let what = format!("{} {}", r.name, r.record_type.as_str());
        match r.phase {
            Phase::Ok => {}
            Phase::Pending => return Err(Unhealthy::Pending(what)),
            Phase::Failing | Phase::Stopped => {
                return Err(Unhealthy::Failing {
                    record: what,
                    error: r.last_error.clone().unwrap_or_else(|| "failing".into()),
                });
            }
        }
    }
    let limit = interval * 2 + Duration::from_mins(1);
    match status.last_check {
        None => Err(Unhealthy::NeverChecked),
        Some(at) if now.duration_since(at).unwrap_or_default() > limit => Err(Unhealthy::Stale(
            Duration::from_secs(now.duration_since(at).unwrap_or_default().as_secs()),
        )),
        Some(_) => Ok(()),
    }
}
