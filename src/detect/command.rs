//! `command`: run a program (argv, no shell) and parse its standard output like an HTTP answer.

use std::net::IpAddr;
use std::process::{ExitStatus, Stdio};
use std::time::Duration;

use async_trait::async_trait;
use tokio::io::{AsyncRead, AsyncReadExt};

use super::{Query, Source, parse_text, snippet};

pub struct CommandSource {
    argv: Vec<String>,
    /// Through a `[[line]]`, the program is told which: `DDNS_TRAY_LINE` (its name) and
    /// `DDNS_TRAY_LINE_INTERFACE` or `DDNS_TRAY_LINE_SOURCE`.
    line: Option<crate::config::LineSettings>,
}

impl CommandSource {
    #[must_use]
    pub fn new(argv: Vec<String>, line: Option<crate::config::LineSettings>) -> Self {
        Self { argv, line }
    }
}

#[async_trait]
impl Source for CommandSource {
    fn label(&self) -> String {
        format!("command {}", self.argv.first().map_or("", String::as_str))
    }

    /// The program runs under [`run`]: killed with its children when the detector's timeout drops this
    /// future, its output bounded.
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
        command.args(args);
        let output = run(&mut command, None, super::http::MAX_ANSWER + 1).await?;
        if !output.status.success() {
            let stderr = String::from_utf8_lossy(&output.stderr);
            return Err(format!(
                "`{program}` exited with {}: {}",
                output.status,
                snippet(stderr.trim())
            ));
        }
        if output.stdout_cut || output.stdout.len() > super::http::MAX_ANSWER {
            return Err(format!(
                "output is larger than {} bytes",
                super::http::MAX_ANSWER
            ));
        }
        parse_text(&String::from_utf8_lossy(&output.stdout))
    }
}

/// What a program left when it ended: its exit status and its output (each stream at most the limit given
/// to [`run`], the rest read and dropped).
#[derive(Debug)]
pub struct Finished {
    pub status: ExitStatus,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    /// More was written than kept.
    pub stdout_cut: bool,
    pub stderr_cut: bool,
}

/// Runs a prepared command (program, arguments and environment set; never a shell): no stdin, stdout and
/// stderr captured up to `limit` bytes each (a flood is read on and dropped, so the program is not blocked
/// and memory stays bounded). The program and every process it started die together: at `timeout`, when
/// this future is dropped (a caller's own timeout), and once the program has exited (left-over children
/// holding the output open), through its process group on Unix and a job object on Windows.
pub async fn run(
    command: &mut tokio::process::Command,
    timeout: Option<Duration>,
    limit: usize,
) -> Result<Finished, String> {
    let program = command
        .as_std()
        .get_program()
        .to_string_lossy()
        .into_owned();
    command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    #[cfg(unix)]
    command.process_group(0);
    let mut child = command
        .spawn()
        .map_err(|e| format!("cannot run `{program}`: {e}"))?;
    #[cfg(unix)]
    let group = Group(child.id());
    #[cfg(windows)]
    let _tree = {
        let job = crate::platform::windows::KillOnClose::new()
            .map_err(|e| format!("cannot create a job object: {e}"))?;
        job.assign(&child)
            .map_err(|e| format!("cannot put `{program}` in a job object: {e}"))?;
        job
    };
    let stdout = child.stdout.take();
    let stderr = child.stderr.take();
    let work = async {
        let ended = async {
            let status = child.wait().await;
            // Its children go with it: nothing left holds the output open.
            #[cfg(unix)]
            group.kill();
            status
        };
        let (status, (stdout, stdout_cut), (stderr, stderr_cut)) = tokio::join!(
            ended,
            read_capped(stdout, limit),
            read_capped(stderr, limit)
        );
        let status = status.map_err(|e| format!("`{program}` failed: {e}"))?;
        Ok(Finished {
            status,
            stdout,
            stderr,
            stdout_cut,
            stderr_cut,
        })
    };
    match timeout {
        None => work.await,
        Some(limit) => tokio::time::timeout(limit, work).await.unwrap_or_else(|_| {
            Err(format!(
                "`{program}` did not finish within {}: killed with its children",
                humantime::format_duration(limit)
            ))
        }),
    }
}

/// Reads a stream to its end, keeping the first `limit` bytes; whether more came.
async fn read_capped(stream: Option<impl AsyncRead + Unpin>, limit: usize) -> (Vec<u8>, bool) {
    let mut kept = Vec::new();
    let mut cut = false;
    let Some(mut stream) = stream else {
        return (kept, cut);
    };
    let mut buf = vec![0u8; 8192];
    while let Ok(n) = stream.read(&mut buf).await {
        if n == 0 {
            break;
        }
        let room = limit.saturating_sub(kept.len());
        kept.extend_from_slice(&buf[..n.min(room)]);
        cut |= n > room;
    }
    (kept, cut)
}

/// A program's process group (its id is the program's), killed when dropped.
#[cfg(unix)]
struct Group(Option<u32>);

#[cfg(unix)]
impl Group {
    fn kill(&self) {
        if let Some(id) = self.0.and_then(|id| i32::try_from(id).ok())
            && id > 0
        {
            // SAFETY: kill(2) with a negative id signals that process group; no memory is involved.
            #[allow(unsafe_code)]
            unsafe {
                libc::kill(-id, libc::SIGKILL);
            }
        }
    }
}

#[cfg(unix)]
impl Drop for Group {
    fn drop(&mut self) {
        self.kill();
    }
}
