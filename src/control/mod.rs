//! The daemon's control endpoint: how a tray app (or `ddns-tray ctl`) watches and drives an engine running in
//! another process, the system service above all.
//!
//! - Where: the system service listens on a Unix socket in its runtime directory (`/run/ddns-tray/control.sock`,
//!   mode 0660, group `ddns-tray`: root and members of that group may connect; on macOS
//!   `/var/run/ddns-tray/control.sock`, group `admin`) or, on Windows, on the named pipe
//!   `\\.\pipe\ddns-tray-service` (SYSTEM and Administrators full access, interactive users read/write; every
//!   command but `status`/`watch` further requires an administrator account, checked on the client's token).
//!   Any other daemon (`ddns-tray run`) listens on an owner-only endpoint derived from its data directory.
//! - What: one JSON request line (`{"request":"pause"}`), answered by JSON lines: `{"ok":"…"}`,
//!   `{"error":"…"}`, or `{"status":{…}}` (the engine's [`Status`]); `watch` keeps sending the status on every
//!   change until either side leaves. So a tray learns of changes at once, without polling a file.
//! - Limits: a request line is at most 4 KiB and must arrive within 5 s; at most 32 clients are served at once,
//!   up to 224 more wait (at most 3 s each) for one of them to finish, and the rest are told the daemon is busy
//!   (never that it is absent); a client that stops reading is dropped after 10 s. A client asked to wait, or
//!   whose connection the kernel's backlog refused, tries again with a growing pause for up to 4 s before it
//!   says the daemon is busy.
//!
//! No UI types here; the engine is reached only through its command channel and status watch.

mod client;
mod server;
#[cfg(unix)]
mod unix;
#[cfg(windows)]
mod windows;

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::engine::Status;
pub use client::{Client, ClientError, Followed, find, follow};
pub use server::{Control, serve};
#[cfg(unix)]
use unix as os;
#[cfg(windows)]
use windows as os;

/// Longest request line.
const MAX_REQUEST: u64 = 4096;
/// Longest reply line a client reads (a status with thousands of records fits).
const MAX_REPLY: u64 = 32 * 1024 * 1024;
/// How long a client has to send its request.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a write to a client may take.
const WRITE_TIMEOUT: Duration = Duration::from_secs(10);
/// Clients served at once; more wait for a slot.
const MAX_CLIENTS: usize = 32;
/// Clients waiting for a slot at once; more are told the daemon is busy at once.
const MAX_WAITING: usize = 224;
/// How long a client waits for a slot before it is told the daemon is busy.
const QUEUE_WAIT: Duration = Duration::from_secs(3);
/// How long a client keeps trying a busy daemon before it says so.
const BUSY_RETRY: Duration = Duration::from_secs(4);
/// The answer of a daemon whose every slot stayed taken; clients try again when they read it.
const BUSY: &str = "the daemon is busy (too many clients at once); try again";
/// What daemons before [`BUSY`] answered then.
const BUSY_BEFORE: &str = "too many clients";

/// What a client asks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Request {
    /// The status, once.
    Status,
    /// The status now and after every change.
    Watch,
    /// Run a round now.
    Update,
    Pause,
    Resume,
    /// Re-read the config file.
    Reload,
}

impl Request {
    /// Whether it changes what the engine does (and so needs the stronger permission on Windows).
    #[must_use]
    pub fn is_command(self) -> bool {
        !matches!(self, Self::Status | Self::Watch)
    }
}

#[derive(Serialize, Deserialize)]
struct RequestLine {
    request: Request,
}

/// One reply line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Reply {
    Ok(String),
    Error(String),
    Status(Box<Status>),
}

/// Where a daemon listens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Endpoint {
    #[cfg(unix)]
    Socket {
        path: std::path::PathBuf,
        /// Group members may connect (the system service); otherwise owner only.
        shared: bool,
    },
    #[cfg(windows)]
    Pipe {
        name: String,
        /// The system service's pipe (administrators and interactive users); otherwise owner only.
        shared: bool,
    },
}

impl std::fmt::Display for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            #[cfg(unix)]
            Self::Socket { path, .. } => write!(f, "{}", path.display()),
            #[cfg(windows)]
            Self::Pipe { name, .. } => f.write_str(name),
        }
    }
}

impl Endpoint {
    /// The system service's endpoint (`DDNS_TRAY_SERVICE_CONTROL` overrides it, for tests).
    #[must_use]
    pub fn system() -> Self {
        let custom = std::env::var_os("DDNS_TRAY_SERVICE_CONTROL").filter(|v| !v.is_empty());
        #[cfg(unix)]
        {
            let default = if cfg!(target_os = "macos") {
                "/var/run/ddns-tray/control.sock"
            } else {
                "/run/ddns-tray/control.sock"
            };
            Self::Socket {
                path: custom.map_or_else(|| default.into(), Into::into),
                shared: true,
            }
        }
        #[cfg(windows)]
        {
            Self::Pipe {
                name: custom.map_or_else(
                    || r"\\.\pipe\ddns-tray-service".to_owned(),
                    |v| v.to_string_lossy().into_owned(),
                ),
                shared: true,
            }
        }
    }

    /// The endpoint of a daemon run by this user with `data_dir` (`ddns-tray run`).
    #[must_use]
    pub fn user(data_dir: &std::path::Path) -> Self {
        #[cfg(unix)]
        {
            Self::Socket {
                path: data_dir.join("control.sock"),
                shared: false,
            }
        }
        #[cfg(windows)]
        {
            Self::Pipe {
                name: format!(r"\\.\pipe\{}-control", crate::fsutil::stable_name(data_dir)),
                shared: false,
            }
        }
    }

    /// An endpoint at `path` given on the command line (`run --control PATH`): shared, like the service's.
    #[must_use]
    pub fn at(path: &std::path::Path) -> Self {
        #[cfg(unix)]
        {
            Self::Socket {
                path: path.to_owned(),
                shared: true,
            }
        }
        #[cfg(windows)]
        {
            Self::Pipe {
                name: path.to_string_lossy().into_owned(),
                shared: true,
            }
        }
    }
}

#[cfg(all(test, unix))]
mod tests;
