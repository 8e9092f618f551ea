//! `/health`: whether every record is published and current and the last check recent, as a status code and
//! one line.

use std::time::{Duration, SystemTime};

use crate::engine::{Phase, Status};

/// `/health`: `Ok` when every record is published and current and the last check is recent (within two
/// intervals and a minute), else the reason.
pub fn health(status: &Status, interval: Duration, now: SystemTime) -> Result<(), String> {
    if !status.config_problems.is_empty() {
        return Err(format!(
            "the config cannot be loaded: {}",
            status.config_problems[0]
        ));
    }
    if status.paused {
        return Err("updates are paused".into());
    }
    if let Some((family, e)) = status.detect_errors.iter().next() {
        return Err(format!("cannot detect the public {family} address: {e}"));
    }
    if let Some(e) = &status.store_error {
        return Err(format!("cannot save the state: {e}"));
    }
    for r in &status.records {
        let what = format!("{} {}", r.name, r.record_type.as_str());
        match r.phase {
            Phase::Ok => {}
            Phase::Pending => return Err(format!("{what}: not published yet")),
            Phase::Failing | Phase::Stopped => {
                return Err(format!(
                    "{what}: {}",
                    r.last_error.as_deref().unwrap_or("failing")
                ));
            }
        }
    }
    let limit = interval * 2 + Duration::from_mins(1);
    match status.last_check {
        None => Err("no check has run yet".into()),
        Some(at) if now.duration_since(at).unwrap_or_default() > limit => Err(format!(
            "the last check was {} ago",
            humantime::format_duration(Duration::from_secs(
                now.duration_since(at).unwrap_or_default().as_secs()
            ))
        )),
        Some(_) => Ok(()),
    }
}
