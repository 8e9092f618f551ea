//! The serving side: admitting clients (a bounded number served, more waiting, the rest told "busy"),
//! reading one request, answering it from the engine, and `watch` streams.

use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt as _, AsyncRead, AsyncWrite, AsyncWriteExt as _, BufReader};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, broadcast, mpsc, oneshot, watch};
use tokio_util::sync::CancellationToken;

use super::{
    BUSY, ConfigView, Endpoint, MAX_CLIENTS, MAX_REQUEST, MAX_WAITING, MIN_CLIENT_PROTOCOL,
    PROTOCOL, QUEUE_WAIT, REQUEST_TIMEOUT, Reply, Request, RequestLine, WRITE_TIMEOUT,
};
use crate::config::Issue;
use crate::engine::{Command, Event, Status};
use crate::history::Entry;
use crate::settings::Settings;

/// What a daemon offers besides its engine: its history and its config. `app` provides it.
pub trait Backend: Send + Sync {
    /// The newest `limit` entries of the history.
    fn history(&self, limit: usize) -> Result<Vec<Entry>, String>;
    /// The config as a tray's settings window edits it, secrets masked; `writable` is the caller's right.
    fn config(&self, writable: bool) -> Result<ConfigView, String>;
    /// Writes `text` as the config (secrets typed in to the daemon's store); the settings to reload.
    fn set_config(&self, text: &str) -> Result<Settings, SetConfigError>;
    /// The config with every secret written out (see [`Request::HandBack`]).
    fn hand_back(&self) -> Result<ConfigView, String>;
}

/// Why a config sent with `set-config` was not written.
#[derive(Debug)]
pub enum SetConfigError {
    /// Its problems, each at its field.
    Problems(Vec<Issue>),
    /// The store or the file could not be written.
    Failed(String),
}

/// The client slots: [`MAX_CLIENTS`] served at once, up to [`MAX_WAITING`] more waiting up to [`QUEUE_WAIT`].
#[derive(Clone)]
pub(super) struct Slots {
    serving: Arc<Semaphore>,
    waiting: Arc<Semaphore>,
}

impl Slots {
    pub(super) fn new() -> Self {
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
pub(super) async fn admit<S: AsyncRead + AsyncWrite + Unpin>(
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

/// What the endpoint serves: the engine's status, events and commands, how to re-read the config, and the
/// daemon's history and config.
#[derive(Clone)]
pub struct Control {
    pub status: watch::Receiver<Status>,
    pub commands: mpsc::Sender<Command>,
    /// Re-reads and validates the config file (as SIGHUP does).
    pub reload: Arc<dyn Fn() -> Result<Settings, String> + Send + Sync>,
    /// The engine's events, for `watch` (none while no engine runs).
    pub events: Option<broadcast::Sender<Event>>,
    /// The history and the config (none: those requests are refused).
    pub backend: Option<Arc<dyn Backend>>,
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
            return Reply::Error(DENIED.into());
        }
        let send = |command| self.send(command);
        let done = match request {
            Request::Status | Request::Watch => {
                return Reply::Status(Box::new(self.status.borrow().clone()));
            }
            Request::History { limit } => {
                return match &self.backend {
                    Some(b) => b.history(limit).map_or_else(Reply::Error, Reply::History),
                    None => Reply::Error(NO_BACKEND.into()),
                };
            }
            Request::Config => {
                return match &self.backend {
                    Some(b) => b
                        .config(allowed)
                        .map_or_else(Reply::Error, |v| Reply::Config(Box::new(v))),
                    None => Reply::Error(NO_BACKEND.into()),
                };
            }
            Request::HandBack => {
                return match &self.backend {
                    Some(b) => b
                        .hand_back()
                        .map_or_else(Reply::Error, |v| Reply::Config(Box::new(v))),
                    None => Reply::Error(NO_BACKEND.into()),
                };
            }
            Request::SetConfig { text } => {
                let Some(backend) = &self.backend else {
                    return Reply::Error(NO_BACKEND.into());
                };
                match backend.set_config(&text) {
                    Ok(settings) => send(Command::Reload(Box::new(settings)))
                        .await
                        .map(|()| "config saved and reloaded"),
                    Err(SetConfigError::Problems(issues)) => return Reply::Problems(issues),
                    Err(SetConfigError::Failed(e)) => Err(e),
                }
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

/// Refused commands: who may send them.
const DENIED: &str = "permission denied: only administrators (on Linux root or members of the group \
                      ddns-tray) may control or change the ddns-tray service";
/// A daemon without history or config access (the engine-less wait for a valid config).
const NO_BACKEND: &str = "this daemon cannot show its history or config now";

/// Reads the request line (bounded in size and time) and checks the client's protocol.
pub(super) async fn read_request<R: AsyncRead + Unpin>(
    r: &mut R,
) -> Result<(Request, u32), String> {
    let mut text = String::new();
    let mut limited = BufReader::new(tokio::io::AsyncReadExt::take(r, MAX_REQUEST));
    match tokio::time::timeout(REQUEST_TIMEOUT, limited.read_line(&mut text)).await {
        Err(_) => return Err("no request within 5 s".into()),
        Ok(Err(e)) => return Err(format!("cannot read the request: {e}")),
        Ok(Ok(_)) => {}
    }
    if !text.ends_with('\n') {
        return Err(format!(
            "the request must be one line of at most {} KiB",
            MAX_REQUEST / 1024
        ));
    }
    let line: RequestLine = serde_json::from_str(&text).map_err(|e| {
        // A request of a newer protocol than ours reads as unknown: say which is which.
        let v = serde_json::from_str::<serde_json::Value>(&text)
            .ok()
            .and_then(|v| v.get("version").and_then(serde_json::Value::as_u64))
            .unwrap_or(1);
        if v > u64::from(PROTOCOL) {
            newer(v)
        } else {
            format!("not a request: {e}")
        }
    })?;
    if u64::from(line.version) > u64::from(PROTOCOL) {
        return Err(newer(u64::from(line.version)));
    }
    if line.version < MIN_CLIENT_PROTOCOL || line.request.since() > line.version {
        return Err(format!(
            "this ddns-tray daemon speaks control protocol {PROTOCOL} and serves clients of protocol \
             {MIN_CLIENT_PROTOCOL} or later; this request needs {} and the client says {}: update the \
             program that sent it (ddns-tray --version names both)",
            line.request.since(),
            line.version
        ));
    }
    Ok((line.request, line.version))
}

fn newer(version: u64) -> String {
    format!(
        "this ddns-tray daemon speaks control protocol {PROTOCOL}, older than the client's {version}: \
         update the service (ddns-tray service install again with the newer program)"
    )
}

/// Serves one client whose request was read; `allowed` says whether it may send commands and change the
/// config.
pub(super) async fn serve_client<S: AsyncRead + AsyncWrite + Unpin>(
    mut stream: S,
    control: Control,
    request: Result<(Request, u32), String>,
    allowed: bool,
    shutdown: CancellationToken,
) {
    let (request, version) = match request {
        Ok(r) => r,
        Err(e) => {
            let _ = write_reply(&mut stream, &Reply::Error(e)).await;
            return;
        }
    };
    let watching = request == Request::Watch;
    // Subscribed before the first status is sent: no event after it is missed.
    let mut events = control
        .events
        .as_ref()
        .filter(|_| watching && version >= 2)
        .map(broadcast::Sender::subscribe);
    let reply = control.answer(request, allowed).await;
    if write_reply(&mut stream, &reply).await.is_err() || !watching {
        let _ = stream.shutdown().await;
        return;
    }
    let mut status = control.status.clone();
    status.mark_unchanged();
    loop {
        let next = tokio::select! {
            () = shutdown.cancelled() => break,
            changed = status.changed() => {
                if changed.is_err() {
                    break;
                }
                Reply::Status(Box::new(status.borrow_and_update().clone()))
            }
            event = next_event(events.as_mut()) => {
                let Some(e) = event else {
                    events = None;
                    continue;
                };
                Reply::Event(Box::new(e))
            }
        };
        if write_reply(&mut stream, &next).await.is_err() {
            break;
        }
    }
}

/// The next event worth sending (timings are for metrics, not for trays); `None` when the engine is gone.
/// A client that fell behind skips what it missed (the status it gets next says where things stand).
async fn next_event(events: Option<&mut broadcast::Receiver<Event>>) -> Option<Event> {
    let Some(events) = events else {
        return std::future::pending().await;
    };
    loop {
        match events.recv().await {
            Ok(Event::Measured(_)) | Err(broadcast::error::RecvError::Lagged(_)) => {}
            Ok(e) => return Some(e),
            Err(broadcast::error::RecvError::Closed) => return None,
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
    super::os::serve(endpoint, control, shutdown)
}
