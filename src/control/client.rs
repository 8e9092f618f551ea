//! The client side (`ddns-tray ctl`, tray apps): one request and its answer, retrying a busy daemon with a
//! growing pause; finding which daemon runs.

use std::time::Duration;

use tokio::io::{AsyncBufReadExt as _, AsyncRead, AsyncWrite, AsyncWriteExt as _, BufReader};

use super::{
    BUSY, BUSY_BEFORE, BUSY_RETRY, Endpoint, MAX_REPLY, REQUEST_TIMEOUT, Reply, Request,
    RequestLine, WRITE_TIMEOUT,
};
use crate::engine::Status;

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
        let version = request.version();
        let mut text = serde_json::to_vec(&RequestLine { request, version })
            .map_err(|e| self.failed(e.to_string()))?;
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
            match Self::ask_once(endpoint, request.clone(), &mut retry).await {
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

/// What following a daemon reports.
#[derive(Debug)]
pub enum Followed {
    /// Its status, sent at once and on every change.
    Status(Box<Status>),
    /// Something its engine did (daemons of protocol 2 and later).
    Event(Box<crate::engine::Event>),
    /// The connection ended (the daemon stopped, or was never there); following tries again.
    Lost,
}

/// Follows the daemon at `endpoint` until `shutdown`, or until `on` returns `false`: every status and event
/// it sends, and [`Followed::Lost`] whenever the connection ends; reconnects after a pause growing from 1 s to 15 s
/// (back to 1 s once a status arrives). The tray's view of a service runs on this.
pub async fn follow(
    endpoint: Endpoint,
    shutdown: tokio_util::sync::CancellationToken,
    mut on: impl FnMut(Followed) -> bool,
) {
    let mut pause = Duration::from_secs(1);
    loop {
        let mut wanted = true;
        let followed = async {
            let mut client = Client::connect(&endpoint).await?;
            client.send(Request::Watch).await?;
            while let Some(reply) = client.next().await? {
                let followed = match reply {
                    Reply::Status(status) => {
                        pause = Duration::from_secs(1);
                        Followed::Status(status)
                    }
                    Reply::Event(event) => Followed::Event(event),
                    _ => continue,
                };
                if !on(followed) {
                    wanted = false;
                    break;
                }
            }
            Ok::<(), ClientError>(())
        };
        let ended = tokio::select! {
            () = shutdown.cancelled() => return,
            r = followed => r,
        };
        if !wanted {
            return;
        }
        if let Err(e) = ended {
            tracing::debug!("{e}");
        }
        if !on(Followed::Lost) {
            return;
        }
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = tokio::time::sleep(pause) => {}
        }
        pause = (pause * 2).min(Duration::from_secs(15));
    }
}
