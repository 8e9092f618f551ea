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

use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::io::{AsyncBufReadExt as _, AsyncRead, AsyncWrite, AsyncWriteExt as _, BufReader};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc, oneshot, watch};
use tokio_util::sync::CancellationToken;

use crate::engine::{Command, Status};
use crate::settings::Settings;

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

/// The client slots: [`MAX_CLIENTS`] served at once, up to [`MAX_WAITING`] more waiting up to [`QUEUE_WAIT`].
#[derive(Clone)]
struct Slots {
    serving: Arc<Semaphore>,
    waiting: Arc<Semaphore>,
}

impl Slots {
    fn new() -> Self {
        Self {
            serving: Arc::new(Semaphore::new(MAX_CLIENTS)),
            waiting: Arc::new(Semaphore::new(MAX_WAITING)),
        }
    }

    /// A slot to serve a client in, waiting for one when all are taken; `None`: the daemon is busy.
    async fn take(&self) -> Option<OwnedSemaphorePermit> {
        if let Ok(p) = Arc::clone(&self.serving).try_acquire_owned() {
            return Some(p);
        }
        let _queued = Arc::clone(&self.waiting).try_acquire_owned().ok()?;
        tokio::time::timeout(QUEUE_WAIT, Arc::clone(&self.serving).acquire_owned())
            .await
            .ok()?
            .ok()
    }
}

/// Takes a slot for a client that just connected, or tells it the daemon is busy (`None`).
async fn admit<S: AsyncRead + AsyncWrite + Unpin>(
    slots: &Slots,
    stream: &mut S,
) -> Option<OwnedSemaphorePermit> {
    let permit = slots.take().await;
    if permit.is_none() {
        tracing::debug!("control: every client slot is taken; a client is told to try again");
        let _ = write_reply(stream, &Reply::Error(BUSY.into())).await;
        // Its request is read (briefly) and dropped: a socket closed with unread data resets the
        // connection, and the client might then miss the answer.
        let _ = tokio::time::timeout(Duration::from_millis(200), read_request(stream)).await;
    }
    permit
}

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

/// What the endpoint serves: the engine's status and commands, and how to re-read the config.
#[derive(Clone)]
pub struct Control {
    pub status: watch::Receiver<Status>,
    pub commands: mpsc::Sender<Command>,
    /// Re-reads and validates the config file (as SIGHUP does).
    pub reload: Arc<dyn Fn() -> Result<Settings, String> + Send + Sync>,
}

impl Control {
    /// Sends `command` to the engine, waiting at most [`REQUEST_TIMEOUT`] for room in its queue.
    async fn send(&self, command: Command) -> Result<(), String> {
        match tokio::time::timeout(REQUEST_TIMEOUT, self.commands.send(command)).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(_)) => Err("the engine has stopped".into()),
            Err(_) => Err("the engine is busy with earlier commands; try again".into()),
        }
    }

    /// Waits until the engine has handled the pause or resume just sent (it handles commands in order and
    /// answers a ping at once, even during a round), so the reply is the truth and not only "sent". Watching
    /// the status for `paused` instead misses the change when other clients flip it back meanwhile.
    async fn confirmed(&self, paused: bool) -> Result<(), String> {
        let (tx, rx) = oneshot::channel();
        let acked = async {
            self.send(Command::Ping(tx)).await?;
            Ok::<_, String>(rx.await.is_ok())
        };
        match tokio::time::timeout(REQUEST_TIMEOUT, acked).await {
            Ok(Ok(true)) => Ok(()),
            // Nothing that answers pings (no engine runs yet): the status says whether it took.
            Ok(Ok(false)) if self.status.borrow().paused == paused => Ok(()),
            Ok(Ok(false)) => Err("the engine did not confirm".into()),
            Ok(Err(e)) => Err(e),
            Err(_) => Err("the engine did not confirm within 5 s".into()),
        }
    }

    /// Carries out `request`; `allowed` says whether the client may send commands.
    async fn answer(&self, request: Request, allowed: bool) -> Reply {
        if request.is_command() && !allowed {
            return Reply::Error(
                "permission denied: only administrators may control the ddns-tray service".into(),
            );
        }
        let send = |command| self.send(command);
        let done = match request {
            Request::Status | Request::Watch => {
                return Reply::Status(Box::new(self.status.borrow().clone()));
            }
            Request::Update => send(Command::UpdateNow {
                force: false,
                reply: None,
            })
            .await
            .map(|()| "update started"),
            Request::Pause => match send(Command::Pause).await {
                Ok(()) => self.confirmed(true).await.map(|()| "paused"),
                Err(e) => Err(e),
            },
            Request::Resume => match send(Command::Resume).await {
                Ok(()) => self.confirmed(false).await.map(|()| "resumed"),
                Err(e) => Err(e),
            },
            Request::Reload => match (self.reload)() {
                Ok(settings) => send(Command::Reload(Box::new(settings)))
                    .await
                    .map(|()| "config reloaded"),
                Err(e) => Err(format!("keeping the current settings: {e}")),
            },
        };
        match done {
            Ok(m) => {
                tracing::info!("control: {m}");
                Reply::Ok(m.to_owned())
            }
            Err(e) => Reply::Error(e),
        }
    }
}

fn line(reply: &Reply) -> Vec<u8> {
    let mut out =
        serde_json::to_vec(reply).unwrap_or_else(|_| b"{\"error\":\"internal\"}".to_vec());
    out.push(b'\n');
    out
}

async fn write_reply<W: AsyncWrite + Unpin>(w: &mut W, reply: &Reply) -> std::io::Result<()> {
    tokio::time::timeout(WRITE_TIMEOUT, w.write_all(&line(reply)))
        .await
        .map_err(|_| std::io::Error::new(std::io::ErrorKind::TimedOut, "client stopped reading"))?
}

/// Reads the request line (bounded in size and time).
async fn read_request<R: AsyncRead + Unpin>(r: &mut R) -> Result<Request, String> {
    let mut text = String::new();
    let mut limited = BufReader::new(tokio::io::AsyncReadExt::take(r, MAX_REQUEST));
    match tokio::time::timeout(REQUEST_TIMEOUT, limited.read_line(&mut text)).await {
        Err(_) => return Err("no request within 5 s".into()),
        Ok(Err(e)) => return Err(format!("cannot read the request: {e}")),
        Ok(Ok(_)) => {}
    }
    if !text.ends_with('\n') {
        return Err("the request must be one line of at most 4 KiB".into());
    }
    serde_json::from_str::<RequestLine>(&text)
        .map(|l| l.request)
        .map_err(|e| format!("not a request: {e}"))
}

/// Serves one client whose request was read; `check` says whether it may send commands (asked only then).
async fn serve_client<S: AsyncRead + AsyncWrite + Unpin>(
    mut stream: S,
    control: Control,
    request: Result<Request, String>,
    allowed: bool,
    shutdown: CancellationToken,
) {
    let request = match request {
        Ok(r) => r,
        Err(e) => {
            let _ = write_reply(&mut stream, &Reply::Error(e)).await;
            return;
        }
    };
    let reply = control.answer(request, allowed).await;
    if write_reply(&mut stream, &reply).await.is_err() || request != Request::Watch {
        let _ = stream.shutdown().await;
        return;
    }
    let mut status = control.status.clone();
    status.mark_unchanged();
    loop {
        tokio::select! {
            () = shutdown.cancelled() => break,
            changed = status.changed() => {
                if changed.is_err() {
                    break;
                }
                let now = Reply::Status(Box::new(status.borrow_and_update().clone()));
                if write_reply(&mut stream, &now).await.is_err() {
                    break;
                }
            }
        }
    }
}

/// Starts serving `endpoint` until `shutdown`; the listener is in place when this returns.
///
/// # Errors
/// The endpoint cannot be created, or another daemon already answers there.
pub fn serve(
    endpoint: &Endpoint,
    control: Control,
    shutdown: CancellationToken,
) -> std::io::Result<tokio::task::JoinHandle<()>> {
    os::serve(endpoint, control, shutdown)
}

#[cfg(unix)]
mod os {
    use std::os::unix::fs::{DirBuilderExt as _, PermissionsExt as _};
    use std::path::{Path, PathBuf};

    use tokio::net::UnixListener;
    use tokio_util::sync::CancellationToken;

    use super::{Control, Endpoint, Slots};

    /// Removes the socket when serving ends.
    struct Remove(PathBuf);

    impl Drop for Remove {
        fn drop(&mut self) {
            let _ = std::fs::remove_file(&self.0);
        }
    }

    fn bind(path: &Path, shared: bool) -> std::io::Result<UnixListener> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty())
            && !dir.exists()
        {
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(if shared { 0o750 } else { 0o700 })
                .create(dir)?;
        }
        match std::os::unix::net::UnixStream::connect(path) {
            Ok(_) => {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::AddrInUse,
                    format!("another ddns-tray daemon answers at {}", path.display()),
                ));
            }
            // A socket left by a daemon that died: nobody answers, so it is ours to replace. Anything that
            // is not a socket is left alone (bind then fails and says so).
            Err(_)
                if std::fs::symlink_metadata(path)
                    .is_ok_and(|m| std::os::unix::fs::FileTypeExt::is_socket(&m.file_type())) =>
            {
                std::fs::remove_file(path)?;
            }
            Err(_) => {}
        }
        let listener = UnixListener::bind(path)?;
        // macOS has no ddns-tray group: its administrators (group admin) may drive the system daemon.
        #[cfg(target_os = "macos")]
        if shared {
            std::os::unix::fs::chown(path, None, Some(80))?;
        }
        std::fs::set_permissions(
            path,
            std::fs::Permissions::from_mode(if shared { 0o660 } else { 0o600 }),
        )?;
        Ok(listener)
    }

    pub fn serve(
        endpoint: &Endpoint,
        control: Control,
        shutdown: CancellationToken,
    ) -> std::io::Result<tokio::task::JoinHandle<()>> {
        let Endpoint::Socket { path, shared } = endpoint;
        let listener = bind(path, *shared).map_err(|e| {
            std::io::Error::new(
                e.kind(),
                format!("cannot listen for control at {}: {e}", path.display()),
            )
        })?;
        let remove = Remove(path.clone());
        let slots = Slots::new();
        Ok(tokio::spawn(async move {
            let _remove = remove;
            loop {
                let accepted = tokio::select! {
                    () = shutdown.cancelled() => break,
                    a = listener.accept() => a,
                };
                let Ok((mut stream, _)) = accepted else {
                    // Out of file descriptors and the like: do not spin.
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                    continue;
                };
                // Accepting goes on at once (the kernel's backlog never fills behind a busy daemon); a
                // client waits for its slot, or is told the daemon is busy, in its own task.
                let (control, shutdown, slots) = (control.clone(), shutdown.clone(), slots.clone());
                tokio::spawn(async move {
                    let Some(_permit) = super::admit(&slots, &mut stream).await else {
                        return;
                    };
                    let request = super::read_request(&mut stream).await;
                    if let (Ok(r), Ok(peer)) = (&request, stream.peer_cred())
                        && r.is_command()
                    {
                        tracing::info!("control: {r:?} from uid {}", peer.uid());
                    }
                    // The socket's mode and directory decide who connects at all.
                    super::serve_client(stream, control, request, true, shutdown).await;
                });
            }
        }))
    }
}

#[cfg(windows)]
mod os {
    use tokio::net::windows::named_pipe::{NamedPipeServer, ServerOptions};
    use tokio_util::sync::CancellationToken;

    use super::{Control, Endpoint, Slots};

    fn create(name: &str, shared: bool, first: bool) -> std::io::Result<NamedPipeServer> {
        let mut attrs = if shared {
            crate::platform::windows::Attributes::from_sddl(crate::platform::sddl::control_pipe())?
        } else {
            crate::platform::windows::OwnerOnly::new()?
        };
        let mut options = ServerOptions::new();
        options
            .first_pipe_instance(first)
            .reject_remote_clients(true);
        // SAFETY: the security attributes live until the call returns.
        #[allow(unsafe_code)]
        unsafe {
            options.create_with_security_attributes_raw(name, attrs.as_mut_ptr())
        }
    }

    pub fn serve(
        endpoint: &Endpoint,
        control: Control,
        shutdown: CancellationToken,
    ) -> std::io::Result<tokio::task::JoinHandle<()>> {
        let Endpoint::Pipe { name, shared } = endpoint.clone();
        let mut server = create(&name, shared, true).map_err(|e| {
            std::io::Error::new(
                e.kind(),
                format!("cannot listen for control at {name} (is another ddns-tray daemon running?): {e}"),
            )
        })?;
        let slots = Slots::new();
        Ok(tokio::spawn(async move {
            loop {
                tokio::select! {
                    () = shutdown.cancelled() => break,
                    c = server.connect() => if c.is_err() {
                        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                        continue;
                    },
                }
                let mut connected = server;
                server = match create(&name, shared, false) {
                    Ok(s) => s,
                    Err(e) => {
                        tracing::error!("control pipe {name}: {e}; no more clients are served");
                        return;
                    }
                };
                let (control, shutdown, slots) = (control.clone(), shutdown.clone(), slots.clone());
                tokio::spawn(async move {
                    let Some(_permit) = super::admit(&slots, &mut connected).await else {
                        return;
                    };
                    let request = super::read_request(&mut connected).await;
                    // The owner-only pipe admits only us; the service's pipe checks who sends commands.
                    let allowed = match &request {
                        Ok(r) if shared && r.is_command() => {
                            crate::platform::windows::pipe_client_is_admin(&connected)
                                .unwrap_or_else(|e| {
                                    tracing::warn!("control: cannot tell who the client is: {e}");
                                    false
                                })
                        }
                        _ => true,
                    };
                    super::serve_client(connected, control, request, allowed, shutdown).await;
                });
            }
        }))
    }
}

/// Why a client could not talk to a daemon.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// Nothing listens there.
    #[error("no ddns-tray daemon is running at {0}")]
    NotRunning(String),
    /// Something listens, but this user may not connect.
    #[error("the ddns-tray daemon at {endpoint} does not let this account in; {hint}")]
    Denied {
        endpoint: String,
        hint: &'static str,
    },
    /// The daemon runs but had no room for this client, even after retries for a few seconds.
    #[error(
        "the ddns-tray daemon at {0} is busy (too many clients at once); try again in a moment"
    )]
    Busy(String),
    #[error("the ddns-tray daemon at {endpoint}: {message}")]
    Failed { endpoint: String, message: String },
}

/// What to do when access is denied.
const DENIED_HINT: &str = if cfg!(windows) {
    "only administrators may control the service"
} else {
    "join the group ddns-tray (sudo usermod -aG ddns-tray $USER) and log in again"
};

/// Whether a daemon's error reply says it was too busy to take the request (so it was not carried out).
fn is_busy(message: &str) -> bool {
    message == BUSY || message == BUSY_BEFORE
}

/// The pauses between tries at a busy daemon: 20 ms doubling up to 500 ms, each with jitter (so many
/// clients turned away at once do not all come back at once), until a deadline.
struct Retry {
    pause: Duration,
    deadline: tokio::time::Instant,
}

impl Retry {
    fn new() -> Self {
        Self {
            pause: Duration::from_millis(20),
            deadline: tokio::time::Instant::now() + BUSY_RETRY,
        }
    }

    /// Sleeps before the next try; `false` (at once) when the time for trying is up.
    async fn wait(&mut self) -> bool {
        let left = self
            .deadline
            .saturating_duration_since(tokio::time::Instant::now());
        if left.is_zero() {
            return false;
        }
        tokio::time::sleep(self.pause.mul_f64(0.5 + fastrand::f64()).min(left)).await;
        self.pause = (self.pause * 2).min(Duration::from_millis(500));
        true
    }
}

/// A connection to a daemon's endpoint.
pub struct Client {
    endpoint: String,
    reader: BufReader<Box<dyn AsyncRead + Send + Unpin>>,
    writer: Box<dyn AsyncWrite + Send + Unpin>,
}

impl Client {
    /// Connects to `endpoint`, trying again for a few seconds while it is too busy to accept.
    ///
    /// # Errors
    /// Nothing listens there, this user may not connect, it stayed busy, or connecting failed.
    pub async fn connect(endpoint: &Endpoint) -> Result<Self, ClientError> {
        Self::connect_retrying(endpoint, &mut Retry::new()).await
    }

    async fn connect_retrying(endpoint: &Endpoint, retry: &mut Retry) -> Result<Self, ClientError> {
        loop {
            match Self::connect_once(endpoint).await {
                Err(ClientError::Busy(name)) => {
                    if !retry.wait().await {
                        return Err(ClientError::Busy(name));
                    }
                }
                other => return other,
            }
        }
    }

    /// One try. A full listen backlog (`EAGAIN` on Linux, a refusal with the socket in place elsewhere; all
    /// pipe instances taken on Windows) is [`ClientError::Busy`]: a daemon is there. No socket at all, or a
    /// refusal on Linux (where it means nobody listens on the socket left behind), is
    /// [`ClientError::NotRunning`].
    // Opening a named pipe does not wait: only the Unix socket's connect is awaited.
    #[cfg_attr(windows, allow(clippy::unused_async))]
    async fn connect_once(endpoint: &Endpoint) -> Result<Self, ClientError> {
        let name = endpoint.to_string();
        let classify = |e: std::io::Error| match e.kind() {
            std::io::ErrorKind::WouldBlock => ClientError::Busy(name.clone()),
            #[cfg(all(unix, not(target_os = "linux")))]
            std::io::ErrorKind::ConnectionRefused
                if {
                    let Endpoint::Socket { path, .. } = endpoint;
                    std::fs::symlink_metadata(path).is_ok()
                } =>
            {
                ClientError::Busy(name.clone())
            }
            std::io::ErrorKind::NotFound | std::io::ErrorKind::ConnectionRefused => {
                ClientError::NotRunning(name.clone())
            }
            std::io::ErrorKind::PermissionDenied => ClientError::Denied {
                endpoint: name.clone(),
                hint: DENIED_HINT,
            },
            // ERROR_PIPE_BUSY: every instance is taken; the server makes a new one at once.
            _ if cfg!(windows) && e.raw_os_error() == Some(231) => ClientError::Busy(name.clone()),
            _ => ClientError::Failed {
                endpoint: name.clone(),
                message: e.to_string(),
            },
        };
        #[cfg(unix)]
        let (reader, writer) = {
            let Endpoint::Socket { path, .. } = endpoint;
            let stream = tokio::net::UnixStream::connect(path)
                .await
                .map_err(classify)?;
            let (r, w) = stream.into_split();
            (
                Box::new(r) as Box<dyn AsyncRead + Send + Unpin>,
                Box::new(w) as Box<dyn AsyncWrite + Send + Unpin>,
            )
        };
        #[cfg(windows)]
        let (reader, writer) = {
            let Endpoint::Pipe { name: pipe, .. } = endpoint;
            let client = tokio::net::windows::named_pipe::ClientOptions::new()
                .open(pipe)
                .map_err(classify)?;
            let (r, w) = tokio::io::split(client);
            (
                Box::new(r) as Box<dyn AsyncRead + Send + Unpin>,
                Box::new(w) as Box<dyn AsyncWrite + Send + Unpin>,
            )
        };
        Ok(Self {
            endpoint: name,
            reader: BufReader::new(reader),
            writer,
        })
    }

    fn failed(&self, message: impl Into<String>) -> ClientError {
        ClientError::Failed {
            endpoint: self.endpoint.clone(),
            message: message.into(),
        }
    }

    /// Sends the request.
    ///
    /// # Errors
    /// The connection broke.
    pub async fn send(&mut self, request: Request) -> Result<(), ClientError> {
        let mut text =
            serde_json::to_vec(&RequestLine { request }).map_err(|e| self.failed(e.to_string()))?;
        text.push(b'\n');
        tokio::time::timeout(WRITE_TIMEOUT, self.writer.write_all(&text))
            .await
            .map_err(|_| self.failed("timed out sending the request"))?
            .map_err(|e| self.failed(e.to_string()))
    }

    /// The next reply line; `None` when the daemon closed the connection.
    ///
    /// # Errors
    /// The connection broke, or the line is not a reply.
    pub async fn next(&mut self) -> Result<Option<Reply>, ClientError> {
        let mut text = String::new();
        let read = tokio::io::AsyncReadExt::take(&mut self.reader, MAX_REPLY)
            .read_line(&mut text)
            .await
            .map_err(|e| self.failed(e.to_string()))?;
        if read == 0 {
            return Ok(None);
        }
        if !text.ends_with('\n') {
            return Err(self.failed("reply too long"));
        }
        serde_json::from_str(&text)
            .map(Some)
            .map_err(|e| self.failed(format!("not a reply: {e}")))
    }

    /// Connects, sends `request` and returns the first reply. A daemon too busy to take it (it says so, or
    /// its backlog is full) is asked again with a growing pause for up to 4 s; a request it turned away was
    /// not carried out, so asking again does nothing twice.
    ///
    /// # Errors
    /// As [`Client::connect`], or the daemon closed without answering.
    pub async fn ask(endpoint: &Endpoint, request: Request) -> Result<Reply, ClientError> {
        let mut retry = Retry::new();
        loop {
            match Self::ask_once(endpoint, request, &mut retry).await {
                Ok(Reply::Error(e)) if is_busy(&e) => {
                    if !retry.wait().await {
                        return Err(ClientError::Busy(endpoint.to_string()));
                    }
                }
                other => return other,
            }
        }
    }

    async fn ask_once(
        endpoint: &Endpoint,
        request: Request,
        retry: &mut Retry,
    ) -> Result<Reply, ClientError> {
        let mut client = Self::connect_retrying(endpoint, retry).await?;
        // A daemon that turns us away answers without reading, and may have closed before the request is
        // written: its answer is still there to read.
        let sent = client.send(request).await;
        match tokio::time::timeout(REQUEST_TIMEOUT * 2, client.next()).await {
            Ok(Ok(Some(reply))) => Ok(reply),
            Ok(Ok(None)) => Err(sent
                .err()
                .unwrap_or_else(|| client.failed("closed without answering"))),
            Ok(Err(e)) => Err(sent.err().unwrap_or(e)),
            Err(_) => Err(client.failed("no answer within 10 s")),
        }
    }
}

/// The first daemon that answers: the system service, else this user's own daemon for `data_dir`.
/// `Err` says why a daemon that is there could not be asked, when neither answered: the system service keeps
/// this user out, or a daemon stayed too busy, or it answered with an error. So a daemon that runs is never
/// reported as absent.
///
/// # Errors
/// As above.
pub async fn find(data_dir: &std::path::Path) -> Result<Option<(Endpoint, Status)>, ClientError> {
    let mut refused = None;
    for endpoint in [Endpoint::system(), Endpoint::user(data_dir)] {
        match Client::ask(&endpoint, Request::Status).await {
            Ok(Reply::Status(s)) => return Ok(Some((endpoint, *s))),
            Err(e @ (ClientError::Denied { .. } | ClientError::Busy(_))) => {
                refused = refused.or(Some(e));
            }
            Ok(Reply::Error(message)) => {
                refused = refused.or(Some(ClientError::Failed {
                    endpoint: endpoint.to_string(),
                    message,
                }));
            }
            _ => {}
        }
    }
    refused.map_or(Ok(None), Err)
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    fn control() -> (Control, mpsc::Receiver<Command>, watch::Sender<Status>) {
        let (tx, rx) = mpsc::channel(8);
        let (status_tx, status) = watch::channel(Status::default());
        let control = Control {
            status,
            commands: tx,
            reload: Arc::new(|| Err("the file is gone".into())),
        };
        (control, rx, status_tx)
    }

    #[tokio::test]
    async fn commands_reach_the_engine_and_watchers_see_every_change() {
        let dir = tempfile::tempdir().unwrap();
        let endpoint = Endpoint::user(dir.path());
        let (control, mut commands, status) = control();
        let stop = CancellationToken::new();
        let task = serve(&endpoint, control, stop.clone()).unwrap();
        let mode = std::fs::metadata(dir.path().join("control.sock")).unwrap();
        assert_eq!(
            std::os::unix::fs::PermissionsExt::mode(&mode.permissions()) & 0o777,
            0o600
        );

        // A stand-in engine: applies Pause/Resume to the status, as the real one does.
        let engine_status = status.clone();
        let engine = tokio::spawn(async move {
            while let Some(command) = commands.recv().await {
                match command {
                    Command::Pause => engine_status.send_modify(|s| s.paused = true),
                    Command::Resume => engine_status.send_modify(|s| s.paused = false),
                    Command::Ping(reply) => {
                        let _ = reply.send(());
                    }
                    _ => {}
                }
            }
        });
        let mut watcher = Client::connect(&endpoint).await.unwrap();
        watcher.send(Request::Watch).await.unwrap();
        assert!(matches!(watcher.next().await.unwrap(), Some(Reply::Status(s)) if !s.paused));
        // "paused" is the engine's confirmed state, not only "sent".
        assert_eq!(
            Client::ask(&endpoint, Request::Pause).await.unwrap(),
            Reply::Ok("paused".into())
        );
        assert!(status.borrow().paused);
        assert!(matches!(watcher.next().await.unwrap(), Some(Reply::Status(s)) if s.paused));
        let Reply::Error(e) = Client::ask(&endpoint, Request::Reload).await.unwrap() else {
            panic!("a reload of a broken config is refused")
        };
        assert!(e.contains("the file is gone"), "{e}");
        assert_eq!(
            Client::ask(&endpoint, Request::Resume).await.unwrap(),
            Reply::Ok("resumed".into())
        );
        assert!(matches!(watcher.next().await.unwrap(), Some(Reply::Status(s)) if !s.paused));

        // A second daemon on the same endpoint is refused; the first keeps serving.
        let (other, _, _) = super::tests::control();
        let err = serve(&endpoint, other, CancellationToken::new()).unwrap_err();
        assert!(
            err.to_string().contains("another ddns-tray daemon"),
            "{err}"
        );

        stop.cancel();
        task.await.unwrap();
        engine.abort();
        assert!(
            watcher.next().await.unwrap().is_none(),
            "watchers are let go"
        );
        assert!(
            !dir.path().join("control.sock").exists(),
            "the socket is removed"
        );
        assert!(matches!(
            Client::ask(&endpoint, Request::Status).await,
            Err(ClientError::NotRunning(_))
        ));
    }

    #[tokio::test]
    async fn hostile_clients_are_bounded() {
        use tokio::io::AsyncReadExt as _;
        let dir = tempfile::tempdir().unwrap();
        let endpoint = Endpoint::user(dir.path());
        let (control, _commands, _status) = control();
        let stop = CancellationToken::new();
        serve(&endpoint, control, stop.clone()).unwrap();
        let path = dir.path().join("control.sock");

        // An endless line is cut at 4 KiB and answered with an error.
        let mut s = tokio::net::UnixStream::connect(&path).await.unwrap();
        let _ = s.write_all(&vec![b'x'; 64 * 1024]).await;
        let mut answer = Vec::new();
        // The server closes with our extra bytes unread, so the read may end in a reset after the reply.
        let _ = s.read_to_end(&mut answer).await;
        let answer = String::from_utf8_lossy(&answer);
        assert!(answer.contains("at most 4 KiB"), "{answer}");

        // Garbage gets an error, not a panic.
        let mut s = tokio::net::UnixStream::connect(&path).await.unwrap();
        s.write_all(b"{\"request\":\"format-disk\"}\n")
            .await
            .unwrap();
        let mut answer = String::new();
        s.read_to_string(&mut answer).await.unwrap();
        assert!(answer.contains("not a request"), "{answer}");

        // A stale socket file from a daemon that died is replaced; a regular file in its place is not.
        stop.cancel();
        tokio::time::sleep(Duration::from_millis(100)).await;
        let stale = std::os::unix::net::UnixListener::bind(&path).unwrap();
        drop(stale);
        let (control, _c, _s) = super::tests::control();
        let again = CancellationToken::new();
        serve(&endpoint, control, again.clone()).unwrap();
        again.cancel();
        tokio::time::sleep(Duration::from_millis(100)).await;
        std::fs::write(&path, "not a socket").unwrap();
        let (control, _c, _s) = super::tests::control();
        assert!(serve(&endpoint, control, CancellationToken::new()).is_err());
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "not a socket");
    }
}
