//! Test support: a scriptable loopback HTTP server, a counting TCP proxy, the real DNS servers' coordinates,
//! and a runner for the real binary.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// A request as the fake server saw it.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    /// Path and query, as sent.
    pub target: String,
    /// Lower-case names.
    pub headers: BTreeMap<String, String>,
    pub body: String,
}

impl Request {
    pub fn path(&self) -> &str {
        self.target.split('?').next().unwrap_or("")
    }

    pub fn query(&self) -> BTreeMap<String, String> {
        self.target
            .split_once('?')
            .map(|(_, q)| {
                q.split('&')
                    .filter_map(|kv| kv.split_once('='))
                    .map(|(k, v)| (decode(k), decode(v)))
                    .collect()
            })
            .unwrap_or_default()
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or(serde_json::Value::Null)
    }
}

fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 3 <= bytes.len()
            && let Ok(b) = u8::from_str_radix(&s[i + 1..i + 3], 16)
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(if bytes[i] == b'+' { b' ' } else { bytes[i] });
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// What the fake answers.
#[derive(Debug, Clone)]
pub enum Reply {
    Status {
        status: u16,
        headers: Vec<(String, String)>,
        body: String,
    },
    /// Accept the request and never answer.
    Hang,
    /// Announce a longer body than is sent, then close.
    Truncated { body: String },
}

impl Reply {
    pub fn ok(body: impl Into<String>) -> Self {
        Self::Status {
            status: 200,
            headers: vec![],
            body: body.into(),
        }
    }
    pub fn status(status: u16, body: impl Into<String>) -> Self {
        Self::Status {
            status,
            headers: vec![],
            body: body.into(),
        }
    }
    pub fn with_header(self, name: &str, value: &str) -> Self {
        match self {
            Self::Status {
                status,
                mut headers,
                body,
            } => {
                headers.push((name.to_owned(), value.to_owned()));
                Self::Status {
                    status,
                    headers,
                    body,
                }
            }
            other => other,
        }
    }
}

type Handler = Arc<dyn Fn(&Request) -> Reply + Send + Sync>;

/// A loopback HTTP/1.1 server answering from a handler and recording every request.
pub struct FakeHttp {
    pub port: u16,
    v6: bool,
    requests: Arc<Mutex<Vec<Request>>>,
    handler: Arc<Mutex<Handler>>,
}

impl FakeHttp {
    pub async fn start(handler: impl Fn(&Request) -> Reply + Send + Sync + 'static) -> Self {
        Self::start_on("127.0.0.1:0", handler).await
    }

    /// On `[::1]`, for IPv6 sources (which only connect over IPv6).
    pub async fn text_v6(body: &str) -> Self {
        let body = body.to_owned();
        Self::start_on("[::1]:0", move |_| Reply::ok(body.clone())).await
    }

    async fn start_on(
        addr: &str,
        handler: impl Fn(&Request) -> Reply + Send + Sync + 'static,
    ) -> Self {
        let listener = TcpListener::bind(addr).await.unwrap();
        Self::serve_on(listener, addr.starts_with('['), handler)
    }

    /// On a listener bound elsewhere (inside a test network namespace).
    pub fn start_in(
        listener: std::net::TcpListener,
        handler: impl Fn(&Request) -> Reply + Send + Sync + 'static,
    ) -> Self {
        listener.set_nonblocking(true).unwrap();
        Self::serve_on(TcpListener::from_std(listener).unwrap(), false, handler)
    }

    fn serve_on(
        listener: TcpListener,
        v6: bool,
        handler: impl Fn(&Request) -> Reply + Send + Sync + 'static,
    ) -> Self {
        let port = listener.local_addr().unwrap().port();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let handler: Arc<Mutex<Handler>> = Arc::new(Mutex::new(Arc::new(handler)));
        let (reqs, h) = (requests.clone(), handler.clone());
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let (reqs, h) = (reqs.clone(), h.clone());
                tokio::spawn(async move {
                    let _ = serve(stream, reqs, h).await;
                });
            }
        });
        Self {
            port,
            v6,
            requests,
            handler,
        }
    }

    /// Always answers `body` with 200.
    pub async fn text(body: &str) -> Self {
        let body = body.to_owned();
        Self::start(move |_| Reply::ok(body.clone())).await
    }

    pub fn url(&self, path: &str) -> String {
        let host = if self.v6 { "[::1]" } else { "127.0.0.1" };
        format!("http://{host}:{}{path}", self.port)
    }

    pub fn set(&self, handler: impl Fn(&Request) -> Reply + Send + Sync + 'static) {
        *self.handler.lock().unwrap() = Arc::new(handler);
    }

    pub fn set_text(&self, body: &str) {
        let body = body.to_owned();
        self.set(move |_| Reply::ok(body.clone()));
    }

    pub fn requests(&self) -> Vec<Request> {
        self.requests.lock().unwrap().clone()
    }
}

async fn serve(
    mut stream: TcpStream,
    requests: Arc<Mutex<Vec<Request>>>,
    handler: Arc<Mutex<Handler>>,
) -> std::io::Result<()> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Ok(());
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let mut first = lines.next().unwrap_or("").split(' ');
    let (method, target) = (
        first.next().unwrap_or("").to_owned(),
        first.next().unwrap_or("").to_owned(),
    );
    let headers: BTreeMap<String, String> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let len: usize = headers
        .get("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    while buf.len() < head_end + len {
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let body =
        String::from_utf8_lossy(&buf[head_end..(head_end + len).min(buf.len())]).into_owned();
    let request = Request {
        method,
        target,
        headers,
        body,
    };
    let handler = handler.lock().unwrap().clone();
    let reply = handler(&request);
    requests.lock().unwrap().push(request);
    match reply {
        Reply::Status {
            status,
            headers,
            body,
        } => {
            let mut out = format!(
                "HTTP/1.1 {status} X\r\ncontent-length: {}\r\nconnection: close\r\n",
                body.len()
            );
            for (k, v) in headers {
                out.push_str(&format!("{k}: {v}\r\n"));
            }
            out.push_str("\r\n");
            out.push_str(&body);
            stream.write_all(out.as_bytes()).await?;
        }
        Reply::Hang => {
            tokio::time::sleep(Duration::from_hours(1)).await;
        }
        Reply::Truncated { body } => {
            let out = format!(
                "HTTP/1.1 200 OK\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len() + 100
            );
            stream.write_all(out.as_bytes()).await?;
        }
    }
    stream.shutdown().await
}

/// A TCP proxy to `target` on loopback that counts connections (one per request: the client is told
/// `connection: close` by nobody, so we count requests by parsing request lines instead).
pub struct CountingProxy {
    pub port: u16,
    requests: Arc<Mutex<Vec<String>>>,
}

impl CountingProxy {
    pub async fn start(target: u16) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let reqs = requests.clone();
        tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                let reqs = reqs.clone();
                tokio::spawn(async move {
                    let Ok(mut upstream) = TcpStream::connect(("127.0.0.1", target)).await else {
                        return;
                    };
                    let (mut cr, mut cw) = client.split();
                    let (mut ur, mut uw) = upstream.split();
                    let up = async {
                        let mut buf = [0u8; 8192];
                        loop {
                            let n = cr.read(&mut buf).await.unwrap_or(0);
                            if n == 0 {
                                let _ = uw.shutdown().await;
                                break;
                            }
                            let text = String::from_utf8_lossy(&buf[..n]);
                            for line in text.lines() {
                                if ["GET ", "POST ", "PATCH ", "PUT ", "DELETE "]
                                    .iter()
                                    .any(|m| line.starts_with(m))
                                    && line.contains(" HTTP/1.1")
                                {
                                    reqs.lock().unwrap().push(line.to_owned());
                                }
                            }
                            if uw.write_all(&buf[..n]).await.is_err() {
                                break;
                            }
                        }
                    };
                    let down = tokio::io::copy(&mut ur, &mut cw);
                    let _ = tokio::join!(up, down);
                });
            }
        });
        Self { port, requests }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn requests(&self) -> Vec<String> {
        self.requests.lock().unwrap().clone()
    }
}

/// The real servers started by `scripts/dns-servers.sh`. Absent: the test is skipped, except under CI,
/// where a missing server fails the test so it is never silently skipped.
pub fn env(name: &str) -> Option<String> {
    match std::env::var(name) {
        Ok(v) if !v.is_empty() => Some(v),
        _ if std::env::var("CI").is_ok_and(|v| v == "true") => {
            panic!("{name} is not set under CI: scripts/test.sh starts the DNS servers")
        }
        _ => {
            eprintln!(
                "skipping: {name} is not set (run scripts/test.sh, which starts the DNS servers)"
            );
            None
        }
    }
}

pub struct Pdns {
    pub port: u16,
    pub api_url: String,
    pub api_port: u16,
    pub api_key: String,
    pub tsig_name: String,
    pub tsig_secret: String,
}

pub fn pdns() -> Option<Pdns> {
    Some(Pdns {
        port: env("PDNS_PORT")?.parse().ok()?,
        api_url: env("PDNS_API_URL")?,
        api_port: env("PDNS_API_PORT")?.parse().ok()?,
        api_key: env("PDNS_API_KEY")?,
        tsig_name: env("PDNS_TSIG_NAME")?,
        tsig_secret: env("PDNS_TSIG_SECRET")?,
    })
}

pub struct Knot {
    pub port: u16,
    pub tsig_name: String,
    pub tsig_secret: String,
    pub tsig512_name: String,
    pub tsig512_secret: String,
}

pub fn knot() -> Option<Knot> {
    Some(Knot {
        port: env("KNOT_PORT")?.parse().ok()?,
        tsig_name: env("KNOT_TSIG_NAME")?,
        tsig_secret: env("KNOT_TSIG_SECRET")?,
        tsig512_name: env("KNOT_TSIG512_NAME")?,
        tsig512_secret: env("KNOT_TSIG512_SECRET")?,
    })
}

/// Reads `name`'s records of `rtype` from the `PowerDNS` API (the zone must be `example.test.`).
pub async fn pdns_records(p: &Pdns, name: &str, rtype: &str) -> Vec<String> {
    let zone: serde_json::Value = ddns_tray::http::api_client()
        .get(format!(
            "{}/api/v1/servers/localhost/zones/example.test.",
            p.api_url
        ))
        .header("X-API-Key", &p.api_key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    zone["rrsets"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["name"] == format!("{name}.") && r["type"] == rtype)
        .flat_map(|r| {
            r["records"]
                .as_array()
                .unwrap()
                .iter()
                .map(|x| x["content"].as_str().unwrap().to_owned())
        })
        .collect()
}

/// Asks a DNS server with `dig` (a second, independent implementation).
pub fn dig(port: u16, name: &str, rtype: &str) -> Vec<String> {
    let out = std::process::Command::new("dig")
        .args([
            "+short",
            "+time=2",
            "+tries=1",
            "-p",
            &port.to_string(),
            "@127.0.0.1",
            name,
            rtype,
        ])
        .output()
        .expect("dig");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_owned)
        .collect()
}

/// A temporary directory holding `config.toml` and `data/`.
pub struct Case {
    pub dir: tempfile::TempDir,
}

impl Case {
    pub fn new(config: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("config.toml"), config).unwrap();
        Self { dir }
    }

    pub fn config_path(&self) -> PathBuf {
        self.dir.path().join("config.toml")
    }

    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    pub fn write_config(&self, config: &str) {
        std::fs::write(self.config_path(), config).unwrap();
    }

    pub fn command(&self, args: &[&str]) -> std::process::Command {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_ddns-tray"));
        cmd.arg("--config")
            .arg(self.config_path())
            .arg("--data-dir")
            .arg(self.data_dir())
            .args(args);
        cmd.env_remove("RUST_LOG")
            .env_remove("DDNS_TRAY_CONFIG")
            .env_remove("DDNS_TRAY_DATA_DIR");
        cmd
    }

    /// Runs the binary (off the async runtime's threads) and returns its output.
    pub async fn run(&self, args: &[&str]) -> Run {
        let mut cmd = self.command(args);
        let out = tokio::task::spawn_blocking(move || cmd.output().expect("run ddns-tray"))
            .await
            .unwrap();
        Run::from(out)
    }

    pub fn state(&self) -> serde_json::Value {
        serde_json::from_str(&std::fs::read_to_string(self.data_dir().join("state.json")).unwrap())
            .unwrap()
    }
}

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl From<Output> for Run {
    fn from(o: Output) -> Self {
        Self {
            code: o.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }
}

impl std::fmt::Debug for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "exit {}\n--- stdout\n{}--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

/// Every file under `dir`, read as text (for "the secret appears nowhere" checks).
pub fn all_text_under(dir: &Path) -> String {
    let mut out = String::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.push_str(&all_text_under(&p));
            } else if let Ok(t) = std::fs::read(&p) {
                out.push_str(&String::from_utf8_lossy(&t));
            }
        }
    }
    out
}

/// A per-test unique label, so tests sharing a server never touch each other's records.
pub fn unique(prefix: &str) -> String {
    format!("{prefix}-{:x}", fastrand::u32(..))
}

/// A free loopback port (bound and released).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// What `make` returns, made by a thread that entered network namespace `ns` (`ip netns add`): a socket
/// stays in the namespace it was made in.
#[cfg(target_os = "linux")]
pub fn in_netns<T: Send + 'static>(ns: &str, make: impl FnOnce() -> T + Send + 'static) -> T {
    let path = format!("/var/run/netns/{ns}");
    std::thread::spawn(move || {
        let ns = std::fs::File::open(path).unwrap();
        // SAFETY: setns on this short-lived thread only.
        #[allow(unsafe_code)]
        let r = unsafe { libc::setns(std::os::fd::AsRawFd::as_raw_fd(&ns), libc::CLONE_NEWNET) };
        assert_eq!(r, 0, "setns: {}", std::io::Error::last_os_error());
        make()
    })
    .join()
    .unwrap()
}

impl Request {
    /// A form body (`application/x-www-form-urlencoded`), decoded.
    pub fn form(&self) -> BTreeMap<String, String> {
        Request {
            target: format!("/?{}", self.body),
            ..self.clone()
        }
        .query()
    }
}

/// The text `ddns-tray notify test` sends (title, then body) for a case's config.
pub fn notify_test_text(case: &Case) -> String {
    format!(
        "Test message from ddns-tray\nIf you can read this, alerts reach you. Sent by `ddns-tray notify test` with the settings in {}.",
        case.config_path().display()
    )
}
