//! `command`: run a program (argv, no shell) and parse its standard output like an HTTP answer.

use std::net::IpAddr;
use std::process::Stdio;

use async_trait::async_trait;

use super::{Query, Source, parse_text, snippet};

pub struct CommandSource {
    argv: Vec<String>,
    /// Through a `[[line]]`, the program is told which: `DDNS_TRAY_LINE` (its name) and
    /// `DDNS_TRAY_LINE_INTERFACE` or `DDNS_TRAY_LINE_SOURCE`.
    line: Option<crate::config::LineSettings>,
}

impl CommandSource {
    pub fn new(argv: Vec<String>, line: Option<crate::config::LineSettings>) -> Self {
        Self { argv, line }
    }
}

#[async_trait]
impl Source for CommandSource {
    fn label(&self) -> String {
        format!("command {}", self.argv.first().map_or("", String::as_str))
    }

    /// The child is killed when the detector's timeout drops this future (`kill_on_drop`); on Windows its
    /// whole process tree goes with it (a job object), so a grandchild holding the output open cannot delay
    /// anything.
    async fn fetch(&self, _query: Query) -> Result<IpAddr, String> {
        let (program, args) = self.argv.split_first().ok_or("no command given")?;
        let mut command = tokio::process::Command::new(program);
        if let Some(line) = &self.line {
            command.env("DDNS_TRAY_LINE", &line.name);
            match &line.bind {
                crate::config::LineBind::Interface(name) => {
                    command.env("DDNS_TRAY_LINE_INTERFACE", name)
                }
                crate::config::LineBind::Source(ip) => {
                    command.env("DDNS_TRAY_LINE_SOURCE", ip.to_string())
                }
            };
        }
        let child = command
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| format!("cannot run `{program}`: {e}"))?;
        #[cfg(windows)]
        let _tree = {
            let job = crate::platform::windows::KillOnClose::new()
                .map_err(|e| format!("cannot create a job object: {e}"))?;
            job.assign(&child)
                .map_err(|e| format!("cannot put `{program}` in a job object: {e}"))?;
            job
        };
        let output = child
            .wait_with_output()
            .await
            .map_err(|e| format!("`{program}` failed: {e}"))?;
        if !output.status.success() {
            let stderr = String::from_utf8_lossy(&output.stderr);
            return Err(format!(
                "`{program}` exited with {}: {}",
                output.status,
                snippet(stderr.trim())
            ));
        }
        if output.stdout.len() > super::http::MAX_ANSWER {
            return Err(format!(
                "output is larger than {} bytes",
                super::http::MAX_ANSWER
            ));
        }
        parse_text(&String::from_utf8_lossy(&output.stdout))
    }
}
