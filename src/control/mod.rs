//! The daemon's control endpoint: how a tray app (or `ddns-tray ctl`) watches and drives an engine running in
//! another process, the system service above all.
//!
//! - Where: the system service listens on a Unix socket in its runtime directory (`/run/ddns-tray/control.sock`,
//!   mode 0666 in a 0755 folder: every local user may read its status, events, history and its config with
//!   the secrets masked; its peer's credentials decide who may send commands and change the config: root,
//!   the service's user and members of the socket's group `ddns-tray`; on macOS
//!   `/var/run/ddns-tray/control.sock`, group `admin`) or, on Windows, on the named pipe
//!   `\\.\pipe\ddns-tray-service` (SYSTEM and Administrators full access, interactive users read/write;
//!   every command and changing the config further require an administrator account, checked on the
//!   client's token). Any other daemon (`ddns-tray run`) listens on an owner-only endpoint derived from its
//!   data directory.
//! - What: one JSON request line (`{"request":"pause","version":2}`), answered by JSON lines: `{"ok":"…"}`,
//!   `{"error":"…"}`, `{"status":{…}}` (the engine's [`Status`]), `{"event":{…}}`, `{"history":[…]}`,
//!   `{"config":{…}}` or `{"problems":[…]}`. `watch` keeps sending the status on every change, and (protocol
//!   2) the engine's events, until either side leaves: so a tray learns of changes at once and shows their
//!   toasts without polling a file. `config` and `set-config` let a tray's settings window edit the config
//!   of the daemon it follows (see [`Backend`]); `hand-back` (protocol 3, administrators only) gives the
//!   config with its secrets written out, when the service hands the setup back to a user's tray.
//! - Versions: a client says its protocol ([`PROTOCOL`]); a line without one is from protocol 1 and is
//!   served as before (no events). A request newer than the daemon, or a client older than
//!   [`MIN_CLIENT_PROTOCOL`], is answered with an error naming both versions.
//! - Limits: a request line is at most 1088 KiB (a whole config and some) and must arrive within 5 s; at
//!   most 32 clients are served at once, up to 224 more wait (at most 3 s each) for one of them to finish,
//!   and the rest are told the daemon is busy (never that it is absent); a client that stops reading is
//!   dropped after 10 s. A client asked to wait, or whose connection the kernel's backlog refused, tries
//!   again with a growing pause for up to 4 s before it says the daemon is busy.
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
pub use server::{Backend, Control, SetConfigError, serve};
#[cfg(unix)]
use unix as os;
#[cfg(windows)]
use windows as os;

/// Longest request line (a whole config sent with `set-config`, at most 1 MiB, fits).
const MAX_REQUEST: u64 = crate::settings::MAX_CONFIG_BYTES + 64 * 1024;
/// The protocol this build speaks: 1, status, watch (status only) and the commands; 2, `watch` also sends
/// the engine's events, `history`, `config` and `set-config`; 3, `hand-back`. A client says in each request
/// the version that request needs ([`Request::version`]; none: 1).
pub const PROTOCOL: u32 = 3;
/// The oldest client protocol a daemon of this build serves.
pub const MIN_CLIENT_PROTOCOL: u32 = 1;
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "request", rename_all = "kebab-case")]
pub enum Request {
    /// The status, once.
    Status,
    /// The status now and after every change; from protocol 2 also every event of the engine.
    Watch,
    /// Run a round now.
    Update,
    Pause,
    Resume,
    /// Re-read the config file.
    Reload,
    /// The newest `limit` entries of the daemon's history (protocol 2).
    History {
        limit: usize,
    },
    /// The daemon's config as the settings window edits it, secrets masked, and whether this client may
    /// change it (protocol 2).
    Config,
    /// Write this whole config (secrets typed in written literally, masked ones as they came) and reload
    /// (protocol 2).
    SetConfig {
        text: String,
    },
    /// The config with every secret written out (those in the daemon's store too), for an administrator
    /// taking the setup back from the service to their own tray (`service uninstall --hand-back`); a
    /// command: only clients that may change the config get it (protocol 3).
    HandBack,
}

impl Request {
    /// Whether it changes what the daemon does (and so needs the stronger permission).
    #[must_use]
    pub fn is_command(&self) -> bool {
        !matches!(
            self,
            Self::Status | Self::Watch | Self::History { .. } | Self::Config
        )
    }

    /// Whether the client's rights are asked for it: commands, and the config (whether it may be changed).
    #[must_use]
    pub fn needs_right(&self) -> bool {
        self.is_command() || matches!(self, Self::Config)
    }

    /// Its name on the wire, for logs (never the config it carries).
    #[must_use]
    pub fn name(&self) -> &'static str {
        match self {
            Self::Status => "status",
            Self::Watch => "watch",
            Self::Update => "update",
            Self::Pause => "pause",
            Self::Resume => "resume",
            Self::Reload => "reload",
            Self::History { .. } => "history",
            Self::Config => "config",
            Self::SetConfig { .. } => "set-config",
            Self::HandBack => "hand-back",
        }
    }

    /// The protocol that brought it.
    #[must_use]
    pub fn since(&self) -> u32 {
        match self {
            Self::History { .. } | Self::Config | Self::SetConfig { .. } => 2,
            Self::HandBack => 3,
            _ => 1,
        }
    }

    /// The protocol a client says with it: the oldest that serves it in full (2 at least: `watch` then
    /// carries events), so a newer tray still follows an older daemon in everything that daemon has.
    #[must_use]
    pub fn version(&self) -> u32 {
        self.since().clamp(2, PROTOCOL)
    }
}

/// A request as it crosses the endpoint: the request and the client's protocol.
#[derive(Serialize, Deserialize)]
struct RequestLine {
    #[serde(flatten)]
    request: Request,
    /// The client's protocol (clients before versions sent none: 1).
    #[serde(default = "first_protocol", skip_serializing_if = "is_first")]
    version: u32,
}

fn first_protocol() -> u32 {
    1
}

#[allow(clippy::trivially_copy_pass_by_ref)] // serde's skip_serializing_if hands us a reference
fn is_first(v: &u32) -> bool {
    *v == 1
}

/// One reply line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Reply {
    Ok(String),
    Error(String),
    Status(Box<Status>),
    /// Something the engine did (during `watch`, protocol 2).
    Event(Box<crate::engine::Event>),
    History(Vec<crate::history::Entry>),
    Config(Box<ConfigView>),
    /// A config sent with `set-config` has these problems; nothing was written.
    Problems(Vec<crate::config::Issue>),
}

/// Why a client may not change the service's config, and what to do, in the language in use (clients write
/// it themselves from [`ConfigView::writable`]: the service's words are in the service's language).
#[must_use]
pub fn read_only_reason() -> String {
    crate::i18n::tr(
        if cfg!(windows) {
            "ctl.config_readonly_windows"
        } else {
            "ctl.config_readonly_unix"
        },
        &[("group", &crate::config::APP_NAME)],
    )
}

/// A daemon's config as the settings window of a tray edits it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfigView {
    /// Where the daemon reads it.
    pub path: String,
    /// The file's settings as TOML, every secret written in it masked (`{ masked = "…" }`: sent back so,
    /// it stays as it is).
    pub text: String,
    /// Whether this client may change it.
    pub writable: bool,
    /// Why not, and what to do, when it may not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub why_not: Option<String>,
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
