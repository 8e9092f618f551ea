//! The endpoint's HTTP server (hyper, HTTP/1): bounded connections, a short header timeout, the oldest idle
//! connection closed when full, bearer-token checks, and the three paths.

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use http_body_util::Full;
use hyper::body::Bytes;
use hyper::{Request, Response, StatusCode};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use super::{Metrics, health};
use crate::engine::Status;
use crate::settings::Settings;

/// Connections open at once. One more closes the oldest that has not sent a request (else the oldest
/// of all), so clients that connect and never finish their request cannot keep a health check or a scrape
/// out: the newcomer is served at once.
const MAX_CONNECTIONS: usize = 16;

/// How long a client has to send a request's headers, and how long a kept-alive connection may wait for its
/// next one. A scrape or health check sends them at once; clients that do not cannot hold a slot for long.
const HEADER_TIMEOUT: Duration = Duration::from_secs(3);

/// The longest a connection lives.
const CONNECTION_LIFETIME: Duration = Duration::from_mins(1);

/// One open connection, as [`Open`] sees it.
struct Slot {
    id: u64,
    /// It sent a whole request (it is a real client: closed only when no other can be).
    asked: Arc<std::sync::atomic::AtomicBool>,
    close: CancellationToken,
}

/// The open connections, oldest first.
#[derive(Default)]
struct Open {
    next: u64,
    slots: std::collections::VecDeque<Slot>,
}

impl Open {
    /// Admits a new connection, closing one when all slots are taken (see [`MAX_CONNECTIONS`]).
    fn admit(&mut self) -> (u64, Arc<std::sync::atomic::AtomicBool>, CancellationToken) {
        use std::sync::atomic::Ordering::Relaxed;
        if self.slots.len() >= MAX_CONNECTIONS {
            let victim = self
                .slots
                .iter()
                .position(|s| !s.asked.load(Relaxed))
                .unwrap_or(0);
            if let Some(old) = self.slots.remove(victim) {
                old.close.cancel();
            }
        }
        self.next += 1;
        let slot = Slot {
            id: self.next,
            asked: Arc::default(),
            close: CancellationToken::new(),
        };
        let handles = (slot.id, slot.asked.clone(), slot.close.clone());
        self.slots.push_back(slot);
        handles
    }

    fn leave(&mut self, id: u64) {
        self.slots.retain(|s| s.id != id);
    }
}

pub(super) async fn accept(
    listener: tokio::net::TcpListener,
    served: Served,
    shutdown: CancellationToken,
) {
    let open = Arc::new(Mutex::new(Open::default()));
    let failing = Mutex::new(false);
    loop {
        let (stream, _) = tokio::select! {
            () = shutdown.cancelled() => break,
            a = listener.accept() => match a {
                Ok(a) => a,
                Err(e) => {
                    if let Ok(mut f) = failing.lock() && !*f {
                        *f = true;
                        tracing::warn!("metrics endpoint: {e}");
                    }
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
        };
        let (id, asked, close) = open
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .admit();
        let (served, open, shutdown) = (served.clone(), open.clone(), shutdown.clone());
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |req| {
                asked.store(true, std::sync::atomic::Ordering::Relaxed);
                let served = served.clone();
                async move { Ok::<_, std::convert::Infallible>(answer(&served, &req)) }
            });
            let connection = hyper::server::conn::http1::Builder::new()
                .timer(hyper_util::rt::TokioTimer::new())
                .header_read_timeout(HEADER_TIMEOUT)
                .keep_alive(true)
                .serve_connection(hyper_util::rt::TokioIo::new(stream), service);
            tokio::select! {
                _ = tokio::time::timeout(CONNECTION_LIFETIME, connection) => {}
                () = close.cancelled() => {}
                () = shutdown.cancelled() => {}
            }
            open.lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .leave(id);
        });
    }
}

fn reply(status: StatusCode, content_type: &str, body: String) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::from(body)));
    *r.status_mut() = status;
    if let Ok(v) = hyper::header::HeaderValue::from_str(content_type) {
        r.headers_mut().insert(hyper::header::CONTENT_TYPE, v);
    }
    r
}

/// Compares without leaking the position of the first difference through timing.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn answer<B>(served: &Served, req: &Request<B>) -> Response<Full<Bytes>> {
    const TEXT: &str = "text/plain; charset=utf-8";
    if let Some(token) = &served.token {
        let given = req
            .headers()
            .get(hyper::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or("");
        if !same(given.as_bytes(), token.as_bytes()) {
            let mut r = reply(
                StatusCode::UNAUTHORIZED,
                TEXT,
                "a bearer token is required\n".into(),
            );
            r.headers_mut().insert(
                hyper::header::WWW_AUTHENTICATE,
                hyper::header::HeaderValue::from_static("Bearer"),
            );
            return r;
        }
    }
    if req.method() != hyper::Method::GET && req.method() != hyper::Method::HEAD {
        return reply(StatusCode::METHOD_NOT_ALLOWED, TEXT, "only GET\n".into());
    }
    let status = served.status.borrow().clone();
    match req.uri().path() {
        "/metrics" => reply(
            StatusCode::OK,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
            served.metrics.render(&status),
        ),
        "/health" => {
            let interval = served.settings.borrow().interval;
            match health(&status, interval, SystemTime::now()) {
                // Healthy (a restart would not help), but DDNS cannot do what it is for: said on the line.
                Ok(()) => match &status.reach {
                    None => reply(StatusCode::OK, TEXT, "ok\n".into()),
                    Some(reach) => reply(StatusCode::OK, TEXT, format!("ok, but {reach}\n")),
                },
                Err(why) => reply(StatusCode::SERVICE_UNAVAILABLE, TEXT, format!("{why}\n")),
            }
        }
        "/status" => reply(
            StatusCode::OK,
            "application/json",
            serde_json::to_string_pretty(&status).unwrap_or_default(),
        ),
        _ => reply(
            StatusCode::NOT_FOUND,
            TEXT,
            "not found: try /metrics, /health or /status\n".into(),
        ),
    }
}

/// What the endpoint serves from.
#[derive(Clone)]
pub(super) struct Served {
    pub metrics: Arc<Metrics>,
    pub status: watch::Receiver<Status>,
    pub settings: watch::Receiver<Arc<Settings>>,
    pub token: Option<String>,
}
