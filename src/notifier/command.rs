//! `kind = "command"`: runs a program (argv, never a shell) for each alert, the alert in its environment
//! (`DDNS_TRAY_EVENT`, `DDNS_TRAY_TITLE`, `DDNS_TRAY_BODY`, `DDNS_TRAY_MESSAGE`, `DDNS_TRAY_RECORD`,
//! `DDNS_TRAY_NAME`, `DDNS_TRAY_TYPE`, `DDNS_TRAY_OLD`, `DDNS_TRAY_NEW`, and `DDNS_TRAY_FIRST` = 1 for a record's first publication). It runs like the `command` detection
//! source ([`crate::detect::command::run`]): no stdin, its output captured and bounded, and it is killed with
//! every process it started at its `timeout`. Exit code 0 is success; any other is a failure quoting what
//! it wrote.

use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use super::{KindConfig, KindInfo, Note};
use crate::config::Secret;
use crate::config::check::FieldCheck;

pub const INFO: KindInfo = KindInfo::notifier(
    "command",
    "",
    &[super::req("command"), super::opt("timeout")],
);

/// Default `timeout`.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
/// The longest `timeout`: below the 45 s every alert gets.
pub const MAX_TIMEOUT: Duration = Duration::from_secs(40);
/// Output kept of each stream.
pub const MAX_OUTPUT: usize = 4096;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The program and its arguments, one item each (no shell: write `["sh", "-c", "…"]` to want one).
    pub command: Vec<String>,
    /// How long it may run (default 10 s, at most 40 s).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<String>,
}

impl Config {
    fn timeout(&self) -> Result<Duration, String> {
        self.timeout.as_deref().map_or(Ok(DEFAULT_TIMEOUT), |t| {
            humantime::parse_duration(t.trim()).map_err(|e| e.to_string())
        })
    }
}

/// The alert as environment variables (empty when the alert has no such part).
#[must_use]
pub fn environment(note: &Note) -> Vec<(&'static str, String)> {
    let record = note.record.clone().unwrap_or_default();
    let (name, record_type) = record
        .rsplit_once(' ')
        .map(|(n, t)| (n.to_owned(), t.to_owned()))
        .unwrap_or_default();
    let ip = |a: Option<std::net::IpAddr>| a.map(|a| a.to_string()).unwrap_or_default();
    vec![
        ("DDNS_TRAY_EVENT", note.category.as_str().to_owned()),
        ("DDNS_TRAY_TITLE", note.title.clone()),
        ("DDNS_TRAY_BODY", note.body.clone()),
        ("DDNS_TRAY_MESSAGE", note.text()),
        ("DDNS_TRAY_RECORD", record),
        ("DDNS_TRAY_NAME", name),
        ("DDNS_TRAY_TYPE", record_type),
        ("DDNS_TRAY_OLD", ip(note.old)),
        ("DDNS_TRAY_NEW", ip(note.ip)),
        (
            "DDNS_TRAY_FIRST",
            if note.first { "1" } else { "0" }.to_owned(),
        ),
    ]
}

/// What a stream held, on one line, noting output dropped beyond the bound.
fn shown(bytes: &[u8], cut: bool) -> String {
    let text = crate::http::snippet(String::from_utf8_lossy(bytes).trim());
    if cut {
        format!("{text} (output beyond {MAX_OUTPUT} bytes dropped)")
    } else {
        text
    }
}

#[async_trait]
impl KindConfig for Config {
    fn secrets_mut(&mut self) -> Vec<(String, &mut Secret)> {
        Vec::new()
    }

    fn validate(&self, check: &mut FieldCheck<'_>) {
        if self.command.first().is_none_or(|p| p.trim().is_empty()) {
            check.problem("command", "notifier.command.check.empty", &[]);
        }
        match self.timeout() {
            Ok(t) if t.is_zero() || t > MAX_TIMEOUT => check.problem(
                "timeout",
                "notifier.command.check.timeout",
                &[("max", &humantime::format_duration(MAX_TIMEOUT))],
            ),
            Ok(_) => {}
            Err(e) => check.problem(
                "timeout",
                "check.not_duration",
                &[
                    ("text", &self.timeout.as_deref().unwrap_or("")),
                    ("error", &e),
                ],
            ),
        }
    }

    async fn send(
        &self,
        _client: &reqwest::Client,
        note: &Note,
        _masked: &[&str],
    ) -> Result<String, String> {
        let (program, args) = self.command.split_first().ok_or("no command given")?;
        let mut command = tokio::process::Command::new(program);
        command.args(args).envs(environment(note));
        let timeout = self.timeout().unwrap_or(DEFAULT_TIMEOUT);
        let done = crate::detect::command::run(&mut command, Some(timeout), MAX_OUTPUT).await?;
        let stdout = shown(&done.stdout, done.stdout_cut);
        let status = match done.status.code() {
            Some(code) => format!("exit code {code}"),
            None => done.status.to_string(),
        };
        if done.status.success() {
            Ok(if stdout.is_empty() {
                status
            } else {
                format!("{status}: {stdout}")
            })
        } else {
            let stderr = shown(&done.stderr, done.stderr_cut);
            let said = if stderr.is_empty() { stdout } else { stderr };
            Err(if said.is_empty() {
                format!("`{program}` ended with {status}")
            } else {
                format!("`{program}` ended with {status}: {said}")
            })
        }
    }
}
