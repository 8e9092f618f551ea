//! Network changes through the real binary, in a network namespace of its own with a veth pair (root needed;
//! skipped elsewhere, required under CI): with a 5-minute interval, a replaced interface address is published
//! within a second, for an `interface` source and for an http echo whose answer changed at the same moment; no
//! change means no extra echo request; a burst of 50 address changes in one second is at most 2 checks.

use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::support::{FakeHttp, Reply};

/// When each address reached the webhook sink.
type Seen = Arc<Mutex<Vec<(Instant, String)>>>;

/// A network namespace with a veth pair `v0`/`v1` (both ends inside, up) and `lo` up; deleted on drop.
struct Netns {
    name: String,
}

impl Netns {
    /// A bare namespace with `lo` up (root only; see [`Netns::new`]).
    fn bare() -> Option<Self> {
        let root = Command::new("id")
            .arg("-u")
            .output()
            .is_ok_and(|o| o.stdout == b"0\n");
        if !root {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "CI runs as root: the network-namespace tests must run"
            );
            eprintln!("skipping: network namespaces need root");
            return None;
        }
        let ns = Self {
            name: crate::support::unique("ddns-ln"),
        };
        Self::sh(&format!("ip netns add {}", ns.name));
        ns.ip("link set lo up");
        Some(ns)
    }

    fn new() -> Option<Self> {
        let ns = Self::bare()?;
        ns.ip("link add v0 type veth peer name v1");
        ns.ip("link set v0 up");
        ns.ip("link set v1 up");
        ns.ip("addr add 198.51.100.20/24 dev v0");
        Some(ns)
    }

    fn sh(cmd: &str) {
        let out = Command::new("sh").arg("-c").arg(cmd).output().unwrap();
        assert!(
            out.status.success(),
            "{cmd}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    fn ip(&self, args: &str) {
        Self::sh(&format!("ip -n {} {args}", self.name));
    }

    /// A loopback listener inside the namespace (bound by a thread that entered it).
    fn listener(&self) -> std::net::TcpListener {
        self.listener_on("127.0.0.1:0")
    }

    /// A listener on `addr` inside the namespace.
    fn listener_on(&self, addr: &str) -> std::net::TcpListener {
        let addr = addr.to_owned();
        crate::support::in_netns(&self.name, move || {
            std::net::TcpListener::bind(addr).unwrap()
        })
    }

    fn spawn(&self, bin_args: &[&str]) -> Child {
        Command::new("ip")
            .args(["netns", "exec", &self.name, env!("CARGO_BIN_EXE_ddns-tray")])
            .args(bin_args)
            .env_remove("RUST_LOG")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap()
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip")
            .args(["netns", "del", &self.name])
            .status();
    }
}

/// The webhook sink: when each address arrived.
fn sink(ns: &Netns) -> (FakeHttp, Seen) {
    let seen: Seen = Arc::default();
    let s = seen.clone();
    let hook = FakeHttp::start_in(ns.listener(), move |r| {
        s.lock().unwrap().push((
            Instant::now(),
            r.query().get("ip").cloned().unwrap_or_default(),
        ));
        Reply::ok("ok")
    });
    (hook, seen)
}

fn config(source: &str, hook: &FakeHttp, dir: &std::path::Path) -> Vec<String> {
    let text = format!(
        "interval = \"5m\"\n[detect]\nipv4 = [ {source} ]\n[[provider]]\nname = \"hook\"\nkind = \"webhook\"\nurl = \"{}\"\n[[record]]\nname = \"home.example.test\"\nprovider = \"hook\"\n",
        hook.url("/u?ip={ip}")
    );
    std::fs::write(dir.join("config.toml"), text).unwrap();
    vec![
        "--config".into(),
        dir.join("config.toml").display().to_string(),
        "--data-dir".into(),
        dir.join("data").display().to_string(),
        "run".into(),
    ]
}

async fn until(limit: Duration, f: impl Fn() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < limit {
        if f() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    f()
}

/// Waits for `ip` at the sink; returns how long after `since` it arrived.
async fn published(seen: &Seen, ip: &str, since: Instant) -> Option<Duration> {
    until(Duration::from_secs(10), || {
        seen.lock().unwrap().iter().any(|(_, i)| i == ip)
    })
    .await;
    seen.lock()
        .unwrap()
        .iter()
        .find(|(_, i)| i == ip)
        .map(|(t, _)| t.duration_since(since))
}

/// `run` in `ns` with the interface source on `v0`, after its first round published 198.51.100.20 and its
/// network watch is up; the sink's arrivals, and the sink itself (kept alive by the caller).
async fn interface_daemon(ns: &Netns, dir: &std::path::Path) -> (Child, Seen, FakeHttp) {
    let (hook, seen) = sink(ns);
    let args = config(
        "{ kind = \"interface\", name = \"v0\", allow_private = true }",
        &hook,
        dir,
    );
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let daemon = ns.spawn(&args);
    assert!(
        published(&seen, "198.51.100.20", Instant::now())
            .await
            .is_some(),
        "the first round publishes"
    );
    tokio::time::sleep(Duration::from_millis(500)).await; // the watch is up
    (daemon, seen, hook)
}

fn stop(mut child: Child) {
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let _ = child.wait();
}

#[tokio::test]
async fn an_interface_address_change_is_published_within_a_second() {
    let Some(ns) = Netns::new() else { return };
    let dir = tempfile::tempdir().unwrap();
    let (daemon, seen, _hook) = interface_daemon(&ns, dir.path()).await;
    let t0 = Instant::now();
    // A new lease in another subnet (one in the same /24 would be a secondary, removed with the primary).
    ns.ip("addr add 192.0.2.21/24 dev v0");
    ns.ip("addr del 198.51.100.20/24 dev v0");
    let took = published(&seen, "192.0.2.21", t0).await;
    stop(daemon);
    let took = took.expect("the new address was not published within 10 s");
    eprintln!(
        "interface source: published {} ms after the change",
        took.as_millis()
    );
    assert!(took < Duration::from_secs(1), "took {took:?}");
}

/// Regression (issue 20): a second real change 2 s after the first was published took 1.8 s, a third 6.7 s
/// (the flap guard grew even when each check found a new address). Three real changes 2 s apart are each
/// published within a second.
#[tokio::test]
async fn three_real_changes_two_seconds_apart_are_each_published_within_a_second() {
    let Some(ns) = Netns::new() else { return };
    let dir = tempfile::tempdir().unwrap();
    let (daemon, seen, _hook) = interface_daemon(&ns, dir.path()).await;
    let mut old = "198.51.100.20/24";
    let mut took = Vec::new();
    for new in ["192.0.2.21/24", "203.0.113.22/24", "198.18.0.23/24"] {
        let t0 = Instant::now();
        // Each in another subnet (one in the same /24 would be a secondary, removed with the primary).
        ns.ip(&format!("addr add {new} dev v0"));
        ns.ip(&format!("addr del {old} dev v0"));
        let ip = new.split('/').next().unwrap();
        took.push(published(&seen, ip, t0).await);
        old = new;
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
    stop(daemon);
    eprintln!("three changes 2 s apart, published after: {took:?}");
    for (i, t) in took.iter().enumerate() {
        let t = t.unwrap_or_else(|| panic!("change {} was not published within 10 s", i + 1));
        assert!(
            t < Duration::from_secs(1),
            "change {}: {t:?} ({took:?})",
            i + 1
        );
    }
}

#[tokio::test]
async fn an_echo_source_follows_the_change_and_bursts_are_one_check() {
    let Some(ns) = Netns::new() else { return };
    let (hook, seen) = sink(&ns);
    let answer = Arc::new(Mutex::new("198.51.100.30".to_owned()));
    let asked = Arc::new(Mutex::new(0usize));
    let (a, n) = (answer.clone(), asked.clone());
    let echo = FakeHttp::start_in(ns.listener(), move |_| {
        *n.lock().unwrap() += 1;
        Reply::ok(a.lock().unwrap().clone())
    });
    let dir = tempfile::tempdir().unwrap();
    let source = format!(
        "{{ kind = \"http\", url = \"{}\", allow_private = true }}",
        echo.url("/")
    );
    let args = config(&source, &hook, dir.path());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let daemon = ns.spawn(&args);
    assert!(
        published(&seen, "198.51.100.30", Instant::now())
            .await
            .is_some()
    );

    // No change: no question between scheduled checks.
    let before = *asked.lock().unwrap();
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(
        *asked.lock().unwrap(),
        before,
        "an idle daemon asked the echo"
    );

    // The uplink's address changes, and with it what the echo sees.
    let t0 = Instant::now();
    *answer.lock().unwrap() = "198.51.100.31".into();
    ns.ip("addr add 192.0.2.22/24 dev v0");
    ns.ip("addr del 198.51.100.20/24 dev v0");
    let took = published(&seen, "198.51.100.31", t0).await;

    // 50 address changes in one second.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let before = *asked.lock().unwrap();
    let burst = Instant::now();
    for i in 0..25 {
        ns.ip(&format!("addr add 203.0.113.{}/32 dev v0", i + 1));
        ns.ip(&format!("addr del 203.0.113.{}/32 dev v0", i + 1));
    }
    let burst_took = burst.elapsed();
    tokio::time::sleep(Duration::from_secs(8)).await;
    let checks = *asked.lock().unwrap() - before;
    stop(daemon);
    let took = took.expect("the echo's new answer was not published within 10 s");
    eprintln!(
        "http echo source: published {} ms after the change; 50 changes in {} ms caused {checks} check(s)",
        took.as_millis(),
        burst_took.as_millis()
    );
    assert!(took < Duration::from_secs(1), "took {took:?}");
    assert!(checks <= 2, "{checks} checks for one burst");
    assert!(checks >= 1, "the burst was not noticed at all");
}

/// Two uplinks: the client's namespace joined to two "WAN" namespaces by veth pairs (`e1`, `e2`), each WAN
/// holding the same echo address (203.0.113.80) and answering with its own public address, and a default
/// route through each (wan1 preferred). Lines bound to `e1` and `e2` reach their own WAN's echo; taking `e1`
/// down fails over to wan2 at once (a network event), bringing it back switches back after the hold-down.
#[tokio::test]
async fn two_uplinks_by_interface_fail_over_and_back() {
    let Some(client) = Netns::bare() else { return };
    let Some(wan1) = Netns::bare() else { return };
    let Some(wan2) = Netns::bare() else { return };
    let mut echoes = Vec::new();
    for (i, wan, answer) in [(1, &wan1, "198.51.100.61"), (2, &wan2, "198.51.100.62")] {
        Netns::sh(&format!(
            "ip link add e{i} netns {} type veth peer name x{i} netns {}",
            client.name, wan.name
        ));
        client.ip(&format!("addr add 10.0.{i}.2/24 dev e{i}"));
        client.ip(&format!("link set e{i} up"));
        wan.ip(&format!("addr add 10.0.{i}.1/24 dev x{i}"));
        wan.ip(&format!("link set x{i} up"));
        wan.ip("addr add 203.0.113.80/32 dev lo");
        client.ip(&format!(
            "route add default via 10.0.{i}.1 dev e{i} metric {}",
            i * 100
        ));
        let answer = answer.to_owned();
        echoes.push(FakeHttp::start_in(
            wan.listener_on("203.0.113.80:8080"),
            move |_| Reply::ok(answer.clone()),
        ));
    }
    let (hook, seen) = sink(&client);
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("config.toml"),
        format!(
            "interval = \"1h\"\n[detect]\nipv4 = [ {{ kind = \"http\", url = \"http://203.0.113.80:8080/\", allow_private = true }} ]\n[[line]]\nname = \"wan1\"\ninterface = \"e1\"\n[[line]]\nname = \"wan2\"\ninterface = \"e2\"\n[[provider]]\nname = \"hook\"\nkind = \"webhook\"\nurl = \"{}\"\n[[record]]\nname = \"office.example.test\"\ntype = \"A\"\nprovider = \"hook\"\nlines = [\"wan1\", \"wan2\"]\nhold_down = \"2s\"\n",
            hook.url("/u?ip={ip}")
        ),
    )
    .unwrap();
    let config = dir.path().join("config.toml").display().to_string();
    let data = dir.path().join("data").display().to_string();
    let daemon = client.spawn(&["--config", &config, "--data-dir", &data, "run"]);
    let t0 = Instant::now();
    let first = published(&seen, "198.51.100.61", t0).await;
    assert!(
        first.is_some(),
        "wan1's address first: {:?}",
        seen.lock().unwrap()
    );
    tokio::time::sleep(Duration::from_millis(500)).await; // the watch is up

    // wan1's link goes down: its routes go with it; the event starts a check, which fails over.
    let t1 = Instant::now();
    client.ip("link set e1 down");
    let failover = published(&seen, "198.51.100.62", t1).await;

    // wan1 comes back (link and route): the switch back waits for the hold-down.
    seen.lock().unwrap().clear();
    let t2 = Instant::now();
    client.ip("link set e1 up");
    client.ip("route add default via 10.0.1.1 dev e1 metric 100");
    let back = published(&seen, "198.51.100.61", t2).await;
    stop(daemon);
    let failover =
        failover.expect("wan2's address was not published within 10 s of wan1 going down");
    eprintln!(
        "failover published {} ms after the link went down",
        failover.as_millis()
    );
    assert!(failover < Duration::from_secs(2), "took {failover:?}");
    let back = back.expect("wan1's address was not published again within 10 s");
    eprintln!("switched back {} ms after wan1 came back", back.as_millis());
    assert!(
        back >= Duration::from_secs(2),
        "switched back after {back:?}, inside the hold-down"
    );
    drop(echoes);
}
