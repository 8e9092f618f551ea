//! Two uplinks (`[[line]]`) through the real binary and a real `PowerDNS`: each line bound to its own local
//! address (127.0.0.2 and 127.0.0.3), and one echo server that answers by the address a request comes from,
//! as two ISPs' echo services would. Failover, the hold-down before switching back, `mode = "all"`, and the
//! per-line status. (Binding to an interface is tested in network namespaces: `netevents.rs`.)

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::support::{Case, pdns, pdns_records, unique};

/// An echo answering each client address with its own public address, or 503 while that "line" is down.
struct PeerEcho {
    port: u16,
    answers: Arc<Mutex<HashMap<IpAddr, Option<String>>>>,
    /// Requests for anything but `/` (provider calls): from which address, and what.
    calls: Arc<Mutex<Vec<(IpAddr, String)>>>,
}

impl PeerEcho {
    async fn start(answers: &[(&str, &str)]) -> Self {
        let listener = tokio::net::TcpListener::bind("0.0.0.0:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let answers: Arc<Mutex<HashMap<IpAddr, Option<String>>>> = Arc::new(Mutex::new(
            answers
                .iter()
                .map(|(peer, ip)| (peer.parse().unwrap(), Some((*ip).to_owned())))
                .collect(),
        ));
        let shared = answers.clone();
        let calls: Arc<Mutex<Vec<(IpAddr, String)>>> = Arc::default();
        let seen = calls.clone();
        tokio::spawn(async move {
            while let Ok((mut stream, peer)) = listener.accept().await {
                let answer = shared.lock().unwrap().get(&peer.ip()).cloned().flatten();
                let seen = seen.clone();
                tokio::spawn(async move {
                    let mut buf = [0u8; 2048];
                    let n = stream.read(&mut buf).await.unwrap_or(0);
                    let head = String::from_utf8_lossy(&buf[..n]);
                    let target = head.split(' ').nth(1).unwrap_or("").to_owned();
                    let answer = if target == "/" {
                        answer
                    } else {
                        seen.lock().unwrap().push((peer.ip(), target));
                        Some("ok".to_owned())
                    };
                    let reply = match answer {
                        Some(ip) => format!(
                            "HTTP/1.1 200 OK\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{ip}",
                            ip.len()
                        ),
                        None => {
                            "HTTP/1.1 503 Down\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
                                .to_owned()
                        }
                    };
                    let _ = stream.write_all(reply.as_bytes()).await;
                    let _ = stream.shutdown().await;
                });
            }
        });
        Self {
            port,
            answers,
            calls,
        }
    }

    fn set_up(&self, peer: &str, ip: Option<&str>) {
        self.answers
            .lock()
            .unwrap()
            .insert(peer.parse().unwrap(), ip.map(str::to_owned));
    }
}

fn config(echo: &PeerEcho, api_url: &str, api_key: &str, name: &str, extra: &str) -> String {
    format!(
        r#"
interval = "1h"

[detect]
ipv4 = [ {{ kind = "http", url = "http://127.0.0.1:{port}/", allow_private = true }} ]

[[line]]
name = "wan1"
source = "127.0.0.2"

[[line]]
name = "wan2"
source = "127.0.0.3"

[[provider]]
name = "pdns"
kind = "powerdns"
url = "{api_url}"
api_key = "{api_key}"

[[record]]
name = "{name}"
type = "A"
provider = "pdns"
lines = ["wan1", "wan2"]
{extra}
"#,
        port = echo.port
    )
}

/// A child process killed when dropped.
struct Daemon(std::process::Child);

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

async fn wait_for_records(p: &crate::support::Pdns, name: &str, want: &[&str], what: &str) {
    let mut got = Vec::new();
    for _ in 0..100 {
        got = pdns_records(p, name, "A").await;
        got.sort();
        if got == want {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{what}: PowerDNS holds {got:?}, not {want:?}");
}

async fn status(case: &Case) -> serde_json::Value {
    let out = case.run(&["ctl", "status", "--json"]).await;
    assert_eq!(out.code, 0, "{out:?}");
    serde_json::from_str(&out.stdout).unwrap_or_else(|e| panic!("{e}: {out:?}"))
}

#[tokio::test]
async fn failover_to_the_second_line_and_back_after_the_hold_down() {
    let Some(p) = pdns() else { return };
    let echo = PeerEcho::start(&[
        ("127.0.0.2", "198.51.100.41"),
        ("127.0.0.3", "198.51.100.42"),
    ])
    .await;
    let name = format!("{}.example.test", unique("office"));
    let case = Case::new(&config(
        &echo,
        &p.api_url,
        &p.api_key,
        &name,
        "hold_down = \"3s\"",
    ));
    let _daemon = Daemon(
        case.command(&["run"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap(),
    );
    wait_for_records(&p, &name, &["198.51.100.41"], "wan1 first").await;
    let s = status(&case).await;
    assert_eq!(s["records"][0]["via"], serde_json::json!(["wan1"]), "{s}");
    assert_eq!(s["lines"][0]["ipv4"], "198.51.100.41", "{s}");
    assert_eq!(s["lines"][1]["ipv4"], "198.51.100.42", "{s}");

    // wan1 goes down: the next check publishes wan2's address at once.
    echo.set_up("127.0.0.2", None);
    assert_eq!(case.run(&["ctl", "update"]).await.code, 0);
    wait_for_records(&p, &name, &["198.51.100.42"], "failover to wan2").await;
    let s = status(&case).await;
    assert_eq!(s["records"][0]["via"], serde_json::json!(["wan2"]), "{s}");
    assert_eq!(s["lines"][0]["ipv4"], serde_json::Value::Null, "{s}");
    assert!(
        s["lines"][0]["errors"]["ipv4"]
            .as_str()
            .unwrap()
            .contains("503"),
        "{s}"
    );

    // wan1 is back: nothing changes before the hold-down...
    echo.set_up("127.0.0.2", Some("198.51.100.41"));
    let back = std::time::Instant::now();
    assert_eq!(case.run(&["ctl", "update"]).await.code, 0);
    let s = status(&case).await;
    assert_eq!(s["records"][0]["via"], serde_json::json!(["wan2"]), "{s}");
    assert_eq!(pdns_records(&p, &name, "A").await, ["198.51.100.42"]);
    // ...and after it the daemon switches back by itself (no command, the interval is an hour away).
    wait_for_records(
        &p,
        &name,
        &["198.51.100.41"],
        "back to wan1 after the hold-down",
    )
    .await;
    assert!(
        back.elapsed() >= Duration::from_secs(3),
        "switched back after {:?}, before the hold-down",
        back.elapsed()
    );
    let s = status(&case).await;
    assert_eq!(s["records"][0]["via"], serde_json::json!(["wan1"]), "{s}");
}

#[tokio::test]
async fn mode_all_publishes_every_working_line() {
    let Some(p) = pdns() else { return };
    let echo = PeerEcho::start(&[
        ("127.0.0.2", "198.51.100.51"),
        ("127.0.0.3", "198.51.100.52"),
    ])
    .await;
    let name = format!("{}.example.test", unique("office"));
    let case = Case::new(&config(
        &echo,
        &p.api_url,
        &p.api_key,
        &name,
        "mode = \"all\"",
    ));
    let out = case.run(&["once"]).await;
    assert_eq!(out.code, 0, "{out:?}");
    wait_for_records(&p, &name, &["198.51.100.51", "198.51.100.52"], "both lines").await;

    echo.set_up("127.0.0.3", None);
    let out = case.run(&["once"]).await;
    assert_eq!(out.code, 0, "{out:?}");
    wait_for_records(&p, &name, &["198.51.100.51"], "wan2 down").await;

    // No line works: nothing is published, nothing removed.
    echo.set_up("127.0.0.2", None);
    let out = case.run(&["once"]).await;
    assert_eq!(out.code, 1, "{out:?}");
    assert!(out.stdout.contains("no line works (wan1: "), "{out:?}");
    assert_eq!(pdns_records(&p, &name, "A").await, ["198.51.100.51"]);
}

#[tokio::test]
async fn line_mistakes_are_named_with_a_fix() {
    let case = Case::new(
        r#"
[[line]]
name = "wan1"
interface = "eth1"
source = "192.0.2.1"

[[line]]
name = "wan2"

[[line]]
name = "wan3"
source = "not-an-ip"

[[provider]]
name = "duck"
kind = "duckdns"
token = "0123456789abcdef0123456789abcdef"

[[record]]
name = "office.duckdns.org"
provider = "duck"
lines = ["wan1", "wan9", "wan1"]
mode = "all"
hold_down = "0s"

[[record]]
name = "home.duckdns.org"
provider = "duck"
mode = "failover"
"#,
    );
    let out = case.run(&["check"]).await;
    assert_eq!(out.code, 2, "{out:?}");
    let text = out.stdout.clone() + &out.stderr;
    for expected in [
        "line[0]: has both `interface` and `source`",
        "line[1]: has neither `interface` nor `source`",
        "line[2].source: `not-an-ip` is not an IP address",
        "record[0].lines[1]: no [[line]] is named `wan9`",
        "record[0].lines[2]: `wan1` is listed twice",
        "record[0].mode: DuckDNS cannot hold several addresses for one name",
        "record[0].hold_down: must be between 1s and 24h",
        "record[1].mode: applies only to a record with `lines`",
    ] {
        assert!(text.contains(expected), "{expected}: {out:?}");
    }
}

#[tokio::test]
async fn provider_calls_go_through_the_published_line_when_asked() {
    let echo = PeerEcho::start(&[
        ("127.0.0.2", "198.51.100.71"),
        ("127.0.0.3", "198.51.100.72"),
    ])
    .await;
    let config = |via_line: bool| {
        format!(
            r#"
[detect]
ipv4 = [ {{ kind = "http", url = "http://127.0.0.1:{port}/", allow_private = true }} ]

[[line]]
name = "wan1"
source = "127.0.0.2"

[[line]]
name = "wan2"
source = "127.0.0.3"

[[provider]]
name = "hook"
kind = "webhook"
url = "http://127.0.0.1:{port}/update?ip={{ip}}"

[[record]]
name = "office.example.test"
type = "A"
provider = "hook"
lines = ["wan1", "wan2"]
provider_via_line = {via_line}
"#,
            port = echo.port
        )
    };
    let case = Case::new(&config(true));
    assert_eq!(case.run(&["once"]).await.code, 0);
    echo.set_up("127.0.0.2", None);
    assert_eq!(case.run(&["once"]).await.code, 0);
    let calls = echo.calls.lock().unwrap().clone();
    let from = |ip: &str| -> IpAddr { ip.parse().unwrap() };
    assert_eq!(
        calls,
        [
            (from("127.0.0.2"), "/update?ip=198.51.100.71".to_owned()),
            (from("127.0.0.3"), "/update?ip=198.51.100.72".to_owned()),
        ],
        "each update went out through the line whose address it published"
    );
    // Without it, provider calls take the default route, whatever line is published.
    echo.calls.lock().unwrap().clear();
    echo.set_up("127.0.0.2", Some("198.51.100.71"));
    case.write_config(&config(false));
    assert_eq!(case.run(&["once"]).await.code, 0);
    let calls = echo.calls.lock().unwrap().clone();
    assert_eq!(
        calls,
        [(from("127.0.0.1"), "/update?ip=198.51.100.71".to_owned())]
    );
}
