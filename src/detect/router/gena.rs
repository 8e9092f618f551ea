//! `UPnP` events (GENA, `UPnP` Device Architecture 1.1 §4): the gateway's WAN connection service tells its
//! subscribers when its evented state variables change, `ExternalIPAddress` among them, so an address change
//! behind NAT is heard at once instead of at the next poll.
//!
//! - One subscription per gateway: one SSDP search and the description (as a check does), then `SUBSCRIBE`
//!   to the connection service's `eventSubURL` with a `CALLBACK` on a port of our own, bound to the address
//!   the gateway is reached from (routers send events only to the address that subscribed). The callback's
//!   path holds a random token, and only the gateway's own connections are read.
//! - Renewed at half its timeout (the router's `TIMEOUT`, held between [`MIN_TIMEOUT`] and [`MAX_TIMEOUT`]);
//!   a failed renewal subscribes afresh; ended with `UNSUBSCRIBE` when a reload changes the gateways. At exit
//!   it is left to lapse (routers also drop a subscriber whose callback no longer answers).
//! - Each `NOTIFY` (headers within 2 s, a body of at most [`MAX_NOTIFY`] bytes, one connection at a time) is
//!   answered `200 OK`. Each event naming `ExternalIPAddress` is news, except the first of a subscription
//!   (`SEQ` 0: the current values), even when it names the address already known (routers may send a stale
//!   one). An event is a hint only: the check it starts asks the router again, the engine debounces such
//!   checks and widens their gap when they find nothing new, and an answer goes through the detector's
//!   checks.
//! - Quiet when there is nothing to hear: with no gateway answering the search, or one without events, the
//!   next try waits 1 minute, doubling to 30. A subscription that worked and is lost is tried again after
//!   5 s, but one lost again within 10 minutes waits like a failure.

use std::net::SocketAddr;

use futures_util::FutureExt as _;
use http_body_util::BodyExt as _;
use tokio::sync::mpsc;

#[allow(clippy::wildcard_imports)] // the router source's shared types and limits
use super::*;

/// What a subscription asks for.
const ASKED_TIMEOUT: Duration = Duration::from_mins(30);
/// The router's timeout is held within these: renewals at most every 30 s, at least every 12 hours.
pub const MIN_TIMEOUT: Duration = Duration::from_mins(1);
pub const MAX_TIMEOUT: Duration = Duration::from_hours(24);
/// The waits between tries when no subscription can be made.
const RETRY_FIRST: Duration = Duration::from_mins(1);
const RETRY_MAX: Duration = Duration::from_mins(30);
/// After a subscription that worked is lost (a renewal refused, the router restarted), the first new try.
const RETRY_AFTER_LOSS: Duration = Duration::from_secs(5);
/// A subscription lost again within this long of the last loss waits like a failure.
const LOST_AGAIN: Duration = Duration::from_mins(10);
/// An event's body.
pub const MAX_NOTIFY: usize = 16 * 1024;
/// Reading one event: its headers, then all of it.
const NOTIFY_HEADERS: Duration = Duration::from_secs(2);
const NOTIFY_WHOLE: Duration = Duration::from_secs(4);

/// A subscription the router granted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscription {
    pub sid: String,
    /// When it lapses unless renewed (held within `MIN_TIMEOUT` and `MAX_TIMEOUT`).
    pub timeout: Duration,
}

/// The router's answer to a `SUBSCRIBE`: its `SID` and `TIMEOUT` (`Second-N` or `infinite`).
pub fn subscribe_answer(
    status: u16,
    sid: Option<&str>,
    timeout: Option<&str>,
) -> Result<Subscription, String> {
    if status != 200 {
        return Err(format!(
            "the router refused the subscription: HTTP status {status}"
        ));
    }
    let sid = sid
        .map(str::trim)
        .filter(|s| !s.is_empty() && s.len() <= 128 && s.chars().all(|c| c.is_ascii_graphic()))
        .ok_or("the router's answer holds no usable SID")?;
    let timeout = timeout
        .and_then(parse_timeout)
        .unwrap_or(ASKED_TIMEOUT)
        .clamp(MIN_TIMEOUT, MAX_TIMEOUT);
    Ok(Subscription {
        sid: sid.to_owned(),
        timeout,
    })
}

/// `Second-1800` (any case), or `infinite` (taken as the longest we keep).
#[must_use]
pub fn parse_timeout(text: &str) -> Option<Duration> {
    let text = text.trim();
    if text.eq_ignore_ascii_case("infinite") {
        return Some(MAX_TIMEOUT);
    }
    let (word, seconds) = text.split_once('-')?;
    if !word.eq_ignore_ascii_case("second") {
        return None;
    }
    seconds.parse::<u64>().ok().map(Duration::from_secs)
}

/// What an event says of the router's external address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum External {
    Address(Ipv4Addr),
    /// Empty, or not an IPv4 address (routers send it empty when they have no public address).
    NoAddress,
}

impl std::fmt::Display for External {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Address(ip) => write!(f, "{ip}"),
            Self::NoAddress => f.write_str("no public address"),
        }
    }
}

/// What an event says of `ExternalIPAddress`; `None` when it does not name it.
#[must_use]
pub fn parse_propertyset(body: &str) -> Option<External> {
    if elements(body, "propertyset").is_empty() {
        return None;
    }
    let text = element_text(body, "ExternalIPAddress")?;
    Some(text.parse().map_or(External::NoAddress, External::Address))
}

/// One event as the callback read it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Notice {
    sid: String,
    seq: Option<u64>,
    external: Option<External>,
}

/// Subscribes to `announcer`'s gateway's events and sends a line to `news` for each new external address it
/// tells of, until `news` is closed (then unsubscribes). Never returns otherwise.
pub async fn watch(announcer: Announcer, news: mpsc::Sender<String>) {
    let mut wait = RETRY_FIRST;
    // When a working subscription was last lost: losing one again soon after is a failure like any other
    // (the wait keeps doubling), so a router that keeps dropping subscriptions is not asked every few seconds.
    let mut last_lost: Option<Instant> = None;
    loop {
        let ended = tokio::select! {
            ended = subscribed(&announcer, &news) => ended,
            () = news.closed() => return,
        };
        match ended {
            Ended::Closed => return,
            Ended::Lost(why) => {
                tracing::info!(
                    "router {}: events: {why}; subscribing again",
                    announcer.gateway
                );
                let again = last_lost.is_some_and(|at| at.elapsed() < LOST_AGAIN);
                last_lost = Some(Instant::now());
                if !again {
                    wait = RETRY_AFTER_LOSS;
                }
            }
            Ended::Failed(why) => {
                tracing::debug!(
                    "router {}: no events ({why}); trying again in {}",
                    announcer.gateway,
                    humantime::format_duration(wait)
                );
            }
        }
        tokio::select! {
            () = tokio::time::sleep(wait) => {}
            () = news.closed() => return,
        }
        wait = if wait == RETRY_AFTER_LOSS {
            RETRY_FIRST
        } else {
            (wait * 2).min(RETRY_MAX)
        };
    }
}

enum Ended {
    /// `news` was closed: the engine is gone.
    Closed,
    /// A subscription that worked was lost.
    Lost(String),
    /// None could be made.
    Failed(String),
}

/// Finds the gateway's event URL, subscribes, and hears it until the subscription is lost or `news` closes.
async fn subscribed(announcer: &Announcer, news: &mpsc::Sender<String>) -> Ended {
    let gateway = announcer.gateway;
    let Some(local) = announcer.local.or_else(|| local_toward(gateway)) else {
        return Ended::Failed(format!("no local address reaches {gateway}"));
    };
    let bind = Bind {
        local,
        device: None,
    };
    let client = crate::http::detection_client(Some(Family::V4), Some(IpAddr::V4(local)));
    let location = match discover(&bind, Some(gateway)).await {
        Ok(l) => l,
        Err(e) => return Ended::Failed(e.to_string()),
    };
    let services = match description(&client, &location).await {
        Ok(s) => s,
        Err(e) => return Ended::Failed(e.to_string()),
    };
    let Some(event_url) = services.iter().find_map(|s| s.event_url.clone()) else {
        return Ended::Failed("its connection service lists no eventSubURL".into());
    };
    let listener = match tokio::net::TcpListener::bind((local, 0)).await {
        Ok(l) => l,
        Err(e) => return Ended::Failed(format!("cannot listen on {local}: {e}")),
    };
    let port = match listener.local_addr() {
        Ok(a) => a.port(),
        Err(e) => return Ended::Failed(e.to_string()),
    };
    let path = format!("/ddns-tray/events/{:016x}", fastrand::u64(..));
    let callback = format!("<http://{local}:{port}{path}>");
    let (heard, mut notices) = mpsc::channel(8);
    let serving = serve(listener, gateway, path, heard);
    tokio::pin!(serving);

    let mut subscription = match subscribe(&client, &event_url, &callback).await {
        Ok(s) => s,
        Err(e) => return Ended::Failed(e),
    };
    tracing::info!(
        "subscribed to router {gateway}'s events at {event_url} (renewed every {})",
        humantime::format_duration(subscription.timeout / 2)
    );
    let mut known: Option<External> = None;
    let mut renew_at = Instant::now() + subscription.timeout / 2;
    loop {
        tokio::select! {
            () = &mut serving => return Ended::Lost("the callback stopped".into()),
            () = news.closed() => {
                unsubscribe(&client, &event_url, &subscription.sid).await;
                return Ended::Closed;
            }
            () = tokio::time::sleep_until(renew_at) => {
                match renew(&client, &event_url, &subscription.sid).await {
                    Ok(s) => subscription = s,
                    Err(e) => {
                        tracing::info!("router {gateway}: renewing the event subscription: {e}");
                        match subscribe(&client, &event_url, &callback).await {
                            Ok(s) => subscription = s,
                            Err(e) => return Ended::Lost(e),
                        }
                    }
                }
                renew_at = Instant::now() + subscription.timeout / 2;
            }
            Some(notice) = notices.recv() => {
                if notice.sid != subscription.sid {
                    tracing::debug!("router {gateway}: an event of another subscription ({})", snippet(&notice.sid));
                    continue;
                }
                let Some(external) = notice.external else {
                    continue;
                };
                // The first event only says what is; after it, every event naming the address is news,
                // even one naming the same address: miniupnpd sends the address its WAN interface held
                // first, so an event for a new address added before the old one is removed still names the
                // old one (seen in tests/it/router.rs). The check it starts asks the router again.
                if known.replace(external).is_none() || notice.seq == Some(0) {
                    // Until this first event was answered, miniupnpd drops changes for this subscriber
                    // (it queues no second notification while one is in flight): from now on they come.
                    tracing::info!(
                        "router {gateway}: its first event names {external}; changes are heard from now on"
                    );
                    continue;
                }
                if news.send(format!("{gateway} sent an event: external address {external}")).await.is_err() {
                    unsubscribe(&client, &event_url, &subscription.sid).await;
                    return Ended::Closed;
                }
            }
        }
    }
}

fn method(name: &str) -> reqwest::Method {
    reqwest::Method::from_bytes(name.as_bytes()).unwrap_or(reqwest::Method::GET)
}

async fn subscribe(
    client: &reqwest::Client,
    url: &reqwest::Url,
    callback: &str,
) -> Result<Subscription, String> {
    let request = client
        .request(method("SUBSCRIBE"), url.clone())
        .header("CALLBACK", callback)
        .header("NT", "upnp:event")
        .header("TIMEOUT", format!("Second-{}", ASKED_TIMEOUT.as_secs()));
    exchange(request).await
}

async fn renew(
    client: &reqwest::Client,
    url: &reqwest::Url,
    sid: &str,
) -> Result<Subscription, String> {
    let request = client
        .request(method("SUBSCRIBE"), url.clone())
        .header("SID", sid)
        .header("TIMEOUT", format!("Second-{}", ASKED_TIMEOUT.as_secs()));
    exchange(request).await
}

async fn exchange(request: reqwest::RequestBuilder) -> Result<Subscription, String> {
    let response = request
        .timeout(HTTP_TIMEOUT)
        .send()
        .await
        .map_err(|e| format!("SUBSCRIBE: {}", crate::http::describe(&e)))?;
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    subscribe_answer(
        response.status().as_u16(),
        header("SID").as_deref(),
        header("TIMEOUT").as_deref(),
    )
}

/// Best effort, within a second: the router forgets the subscription at its timeout anyway.
async fn unsubscribe(client: &reqwest::Client, url: &reqwest::Url, sid: &str) {
    let sent = client
        .request(method("UNSUBSCRIBE"), url.clone())
        .header("SID", sid)
        .timeout(Duration::from_secs(1))
        .send()
        .await;
    if let Err(e) = sent {
        tracing::debug!("UNSUBSCRIBE: {}", crate::http::describe(&e));
    }
}

/// The callback: reads the gateway's `NOTIFY`s on `path`, one connection at a time, and hands what they say
/// to `heard`. Returns only if accepting fails for good.
async fn serve(
    listener: tokio::net::TcpListener,
    gateway: Ipv4Addr,
    path: String,
    heard: mpsc::Sender<Notice>,
) {
    let mut failures = 0u32;
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(a) => {
                failures = 0;
                a
            }
            Err(e) => {
                failures += 1;
                if failures > 50 {
                    tracing::warn!("router events: cannot accept: {e}");
                    return;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        if peer.ip() != IpAddr::V4(gateway) {
            tracing::debug!("router events: a connection from {peer}, not the gateway: closed");
            continue;
        }
        let (path, heard) = (path.clone(), heard.clone());
        let service = hyper::service::service_fn(move |req| {
            let (path, heard) = (path.clone(), heard.clone());
            async move { Ok::<_, std::convert::Infallible>(notify(req, &path, &heard, peer).await) }
        });
        let connection = hyper::server::conn::http1::Builder::new()
            .timer(hyper_util::rt::TokioTimer::new())
            .header_read_timeout(NOTIFY_HEADERS)
            .keep_alive(false)
            .serve_connection(hyper_util::rt::TokioIo::new(stream), service);
        let _ = tokio::time::timeout(NOTIFY_WHOLE, connection).await;
    }
}

async fn notify(
    req: hyper::Request<hyper::body::Incoming>,
    path: &str,
    heard: &mpsc::Sender<Notice>,
    peer: SocketAddr,
) -> hyper::Response<http_body_util::Full<hyper::body::Bytes>> {
    let status = |code: u16| {
        let mut r = hyper::Response::new(http_body_util::Full::new(hyper::body::Bytes::new()));
        *r.status_mut() =
            hyper::StatusCode::from_u16(code).unwrap_or(hyper::StatusCode::BAD_REQUEST);
        r
    };
    if req.uri().path() != path {
        return status(404);
    }
    if req.method().as_str() != "NOTIFY" {
        return status(405);
    }
    let header = |name: &str| {
        req.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(|v| v.trim().to_owned())
    };
    let (Some(sid), Some("upnp:event"), Some("upnp:propchange")) = (
        header("SID"),
        header("NT").as_deref(),
        header("NTS").as_deref(),
    ) else {
        return status(412);
    };
    let seq = header("SEQ").and_then(|s| s.parse().ok());
    let body = http_body_util::Limited::new(req.into_body(), MAX_NOTIFY)
        .collect()
        .map(|r| r.map(http_body_util::Collected::to_bytes))
        .await;
    let Ok(body) = body else {
        tracing::debug!("router events: {peer} sent an event larger than {MAX_NOTIFY} bytes");
        return status(413);
    };
    let external = std::str::from_utf8(&body).ok().and_then(parse_propertyset);
    if heard.try_send(Notice { sid, seq, external }).is_err() {
        tracing::debug!("router events: an event from {peer} dropped (too many at once)");
    }
    status(200)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subscribe_answers() {
        let ok = subscribe_answer(200, Some(" uuid:5fa1-42 "), Some("Second-1800")).unwrap();
        assert_eq!(ok.sid, "uuid:5fa1-42");
        assert_eq!(ok.timeout, Duration::from_mins(30));
        // The router's timeout is held within bounds; a missing or odd one is the one asked for.
        let t = |text| subscribe_answer(200, Some("uuid:1"), text).unwrap().timeout;
        assert_eq!(t(Some("second-5")), MIN_TIMEOUT);
        assert_eq!(t(Some("Second-999999999")), MAX_TIMEOUT);
        assert_eq!(t(Some("infinite")), MAX_TIMEOUT);
        assert_eq!(t(Some("Minute-3")), ASKED_TIMEOUT);
        assert_eq!(t(None), ASKED_TIMEOUT);
        for (status, sid, want) in [
            (412, Some("uuid:1"), "HTTP status 412"),
            (200, None, "no usable SID"),
            (200, Some("  "), "no usable SID"),
            (200, Some("uuid:a b"), "no usable SID"),
        ] {
            let e = subscribe_answer(status, sid, Some("Second-1800")).unwrap_err();
            assert!(e.contains(want), "{e}");
        }
        let long = "u".repeat(200);
        assert!(subscribe_answer(200, Some(&long), None).is_err());
    }

    #[test]
    fn events() {
        // miniupnpd's shape (upnpevents.c): a propertyset of the evented variables.
        let event = |ip: &str| {
            format!(
                "<?xml version=\"1.0\"?>\r\n<e:propertyset xmlns:e=\"urn:schemas-upnp-org:event-1-0\">\
                 <e:property><PortMappingNumberOfEntries>0</PortMappingNumberOfEntries></e:property>\
                 <e:property><ExternalIPAddress>{ip}</ExternalIPAddress></e:property>\
                 <e:property><ConnectionStatus>Connected</ConnectionStatus></e:property></e:propertyset>"
            )
        };
        assert_eq!(
            parse_propertyset(&event("11.22.33.44")),
            Some(External::Address(Ipv4Addr::new(11, 22, 33, 44)))
        );
        assert_eq!(
            parse_propertyset(&event("")),
            Some(External::NoAddress),
            "no public address"
        );
        assert_eq!(
            parse_propertyset(&event("<b>x</b>")),
            Some(External::NoAddress)
        );
        assert_eq!(
            parse_propertyset(&event("2001:db8::1")),
            Some(External::NoAddress)
        );
        let other = "<e:propertyset xmlns:e=\"urn:schemas-upnp-org:event-1-0\"><e:property>\
                     <PortMappingNumberOfEntries>3</PortMappingNumberOfEntries></e:property></e:propertyset>";
        assert_eq!(parse_propertyset(other), None, "another variable");
        assert_eq!(
            parse_propertyset("<ExternalIPAddress>1.2.3.4</ExternalIPAddress>"),
            None,
            "not a propertyset"
        );
        assert_eq!(parse_propertyset(""), None);
        let started = std::time::Instant::now();
        assert_eq!(
            parse_propertyset(&"<e:propertyset>".repeat(MAX_NOTIFY / 15)),
            None
        );
        assert!(started.elapsed() < Duration::from_secs(1));
    }
}
