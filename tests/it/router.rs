//! The `router` source through the real binary against a real router: miniupnpd (`UPnP` IGD and NAT-PMP) in a
//! "router" network namespace whose `wan0` holds the "external" address, and the binary in a "client"
//! namespace behind it (veth `lan0` 10.77.0.1 / `lanc` 10.77.0.2, default route via the router), with only the
//! router source configured: no echo service exists. The external addresses exist only inside the router's
//! namespace; no packet leaves the two namespaces (the webhook sink is on the client's loopback).
//! Root and miniupnpd needed: skipped elsewhere, required under CI.
//!
//! Shown: `detect` reads the address over NAT-PMP and over `UPnP` (with and without `gateway`); under `run` with
//! a 5-minute interval a new router address is published within 2 s through its NAT-PMP announcement; a
//! router with a carrier-grade NAT address reports none (miniupnpd refuses private and reserved ones:
//! NAT-PMP result 3, an empty `UPnP` answer); with no router answering, one reason within 3 s and one M-SEARCH.

use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::support::{FakeHttp, Reply, unique};

const GATEWAY: &str = "10.77.0.1";

/// Root and miniupnpd, or a skip (a failure under CI).
fn can_run() -> bool {
    let ci = std::env::var("CI").as_deref() == Ok("true");
    let root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout == b"0\n");
    if !root {
        assert!(!ci, "CI runs as root: the router tests must run");
        eprintln!("skipping: network namespaces need root");
        return false;
    }
    if !std::path::Path::new("/usr/sbin/miniupnpd").exists() {
        assert!(
            !ci,
            "miniupnpd is not installed under CI: scripts/test.sh installs it"
        );
        eprintln!("skipping: miniupnpd is not installed (run scripts/test.sh, which installs it)");
        return false;
    }
    true
}

fn sh(cmd: &str) {
    let out = Command::new("sh").arg("-c").arg(cmd).output().unwrap();
    assert!(
        out.status.success(),
        "{cmd}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The two namespaces, the router's daemon and a scratch directory; all removed on drop.
struct Lab {
    router: String,
    client: String,
    dir: tempfile::TempDir,
    miniupnpd: Option<Child>,
}

impl Lab {
    /// The namespaces and links, `wan0` holding `external`; the router's daemon not started yet.
    fn new(external: &str) -> Option<Self> {
        if !can_run() {
            return None;
        }
        let lab = Self {
            router: unique("ddns-rt"),
            client: unique("ddns-cl"),
            dir: tempfile::tempdir().unwrap(),
            miniupnpd: None,
        };
        let (r, c) = (&lab.router, &lab.client);
        sh(&format!("ip netns add {r} && ip netns add {c}"));
        sh(&format!(
            "ip -n {r} link set lo up && ip -n {c} link set lo up \
             && ip -n {r} link add lan0 type veth peer name lanc netns {c} \
             && ip -n {r} link add wan0 type veth peer name wanx \
             && ip -n {r} link set lan0 up && ip -n {r} link set wan0 up && ip -n {r} link set wanx up \
             && ip -n {c} link set lanc up \
             && ip -n {r} addr add {GATEWAY}/24 dev lan0 && ip -n {c} addr add 10.77.0.2/24 dev lanc \
             && ip -n {r} addr add {external}/24 dev wan0 \
             && ip -n {r} route add default via {} dev wan0 onlink \
             && ip -n {c} route add default via {GATEWAY}",
            gateway_beyond(external)
        ));
        Some(lab)
    }

    /// Starts miniupnpd in the router namespace and waits until it listens.
    fn start_router(&mut self) {
        self.start_router_with(true);
    }

    /// The same, with NAT-PMP (and its announcements) on or off.
    fn start_router_with(&mut self, natpmp: bool) {
        let conf = self.dir.path().join("miniupnpd.conf");
        std::fs::write(
            &conf,
            format!(
                "ext_ifname=wan0\nlistening_ip=lan0\nport=5000\nenable_natpmp={}\nenable_upnp=yes\n\
                 secure_mode=yes\nuuid=3d3cec3a-8cf0-11e0-98ee-001a6bd2d07b\n\
                 allow 1024-65535 10.77.0.0/24 1024-65535\ndeny 0-65535 0.0.0.0/0 0-65535\n",
                if natpmp { "yes" } else { "no" }
            ),
        )
        .unwrap();
        let log = std::fs::File::create(self.dir.path().join("miniupnpd.log")).unwrap();
        let child = Command::new("ip")
            .args([
                "netns",
                "exec",
                &self.router,
                "/usr/sbin/miniupnpd",
                "-d",
                "-f",
            ])
            .arg(&conf)
            .arg("-P")
            .arg(self.dir.path().join("miniupnpd.pid"))
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap();
        self.miniupnpd = Some(child);
        let start = Instant::now();
        let ready = if natpmp {
            "Listening for NAT-PMP"
        } else {
            "HTTP listening on port"
        };
        while !self.router_log().contains(ready) {
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "miniupnpd did not start:\n{}",
                self.router_log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn router_log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("miniupnpd.log")).unwrap_or_default()
    }

    /// Moves `wan0` from `old` to `new` (added first: the interface always has an address).
    fn renumber_wan(&self, old: &str, new: &str) {
        let r = &self.router;
        sh(&format!(
            "ip -n {r} addr add {new}/24 dev wan0 && ip -n {r} addr del {old}/24 dev wan0"
        ));
    }

    fn write_config(&self, text: &str) -> Vec<String> {
        let path = self.dir.path().join("config.toml");
        std::fs::write(&path, text).unwrap();
        vec![
            "--config".into(),
            path.display().to_string(),
            "--data-dir".into(),
            self.dir.path().join("data").display().to_string(),
        ]
    }

    fn binary(&self, args: &[String]) -> Command {
        let mut cmd = Command::new("ip");
        cmd.args([
            "netns",
            "exec",
            &self.client,
            env!("CARGO_BIN_EXE_ddns-tray"),
        ])
        .args(args)
        .env_remove("RUST_LOG")
        .env_remove("DDNS_TRAY_CONFIG")
        .env_remove("DDNS_TRAY_DATA_DIR");
        cmd
    }

    /// `ddns-tray detect --json` in the client namespace with `source` as the only IPv4 source: its exit
    /// code and the IPv4 part of its answer.
    async fn detect(&self, source: &str) -> (i32, serde_json::Value, String) {
        let mut args = self.write_config(&format!("ipv6 = false\n[detect]\nipv4 = [ {source} ]\n"));
        args.extend(["detect".into(), "--json".into()]);
        let mut cmd = self.binary(&args);
        let out = tokio::task::spawn_blocking(move || cmd.output().unwrap())
            .await
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        let all = format!("{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
        let json: serde_json::Value =
            serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {all}"));
        (out.status.code().unwrap_or(-1), json["ipv4"].clone(), all)
    }

    /// A socket made by a thread that entered namespace `ns`.
    fn in_ns<T: Send + 'static>(ns: &str, make: impl FnOnce() -> T + Send + 'static) -> T {
        crate::support::in_netns(ns, make)
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        if let Some(mut child) = self.miniupnpd.take() {
            let _ = Command::new("kill")
                .args(["-TERM", &child.id().to_string()])
                .status();
            let _ = child.wait();
        }
        for ns in [&self.router, &self.client] {
            let _ = Command::new("ip").args(["netns", "del", ns]).status();
        }
    }
}

/// An address in `external`'s /24 for the router's default route (nothing answers there: the route only
/// makes `wan0` the WAN side).
fn gateway_beyond(external: &str) -> String {
    let mut octets: Vec<&str> = external.split('.').collect();
    octets[3] = "1";
    octets.join(".")
}

fn answer(report: &serde_json::Value) -> (Option<&str>, &str) {
    let source = &report["sources"][0];
    (
        source["ip"].as_str(),
        source["error"].as_str().unwrap_or(""),
    )
}

#[tokio::test]
async fn the_router_tells_its_address_over_natpmp_and_over_upnp() {
    let Some(mut lab) = Lab::new("11.22.33.44") else {
        return;
    };
    lab.start_router();
    let cases = [
        (
            "natpmp, default gateway",
            "{ kind = \"router\", protocol = \"natpmp\" }",
            "router natpmp @(default gateway)",
        ),
        (
            "upnp, found by a search",
            "{ kind = \"router\", protocol = \"upnp\" }",
            "router upnp @(default gateway)",
        ),
        (
            "auto, gateway given",
            "{ kind = \"router\", gateway = \"10.77.0.1\" }",
            "router auto @10.77.0.1",
        ),
        (
            "upnp, gateway given",
            "{ kind = \"router\", protocol = \"upnp\", gateway = \"10.77.0.1\" }",
            "router upnp @10.77.0.1",
        ),
    ];
    for (name, source, label) in cases {
        let natpmp_before = lab
            .router_log()
            .matches("NAT-PMP public address request")
            .count();
        let soap_before = lab.router_log().matches("#GetExternalIPAddress").count();
        let (code, report, all) = lab.detect(source).await;
        assert_eq!(code, 0, "{name}: {all}");
        assert_eq!(report["ip"], "11.22.33.44", "{name}: {all}");
        assert_eq!(report["sources"][0]["source"], label, "{name}");
        // The router's own log says which protocol was asked.
        let log = lab.router_log();
        let natpmp = log.matches("NAT-PMP public address request").count() - natpmp_before;
        let soap = log.matches("#GetExternalIPAddress").count() - soap_before;
        if source.contains("upnp") {
            assert_eq!(
                (natpmp, soap),
                (0, 1),
                "{name}: one SOAP call, no NAT-PMP\n{log}"
            );
        } else {
            assert_eq!((natpmp, soap), (1, 0), "{name}: one NAT-PMP request\n{log}");
        }
    }
}

#[tokio::test]
async fn a_router_behind_carrier_grade_nat_has_no_public_address() {
    let Some(mut lab) = Lab::new("100.64.7.8") else {
        return;
    };
    lab.start_router();
    for protocol in ["natpmp", "upnp", "auto"] {
        let soap_before = lab.router_log().matches("#GetExternalIPAddress").count();
        let (code, report, all) = lab
            .detect(&format!(
                "{{ kind = \"router\", protocol = \"{protocol}\" }}"
            ))
            .await;
        assert_eq!(code, 1, "{protocol}: {all}");
        let (ip, error) = answer(&report);
        assert_eq!(ip, None, "{protocol}: {all}");
        assert!(
            error.starts_with("the router has no public address ("),
            "{protocol}: {error}"
        );
        // Under auto, NAT-PMP's answer is the router's word: it is not asked again over UPnP.
        let how = if protocol == "upnp" {
            "(an empty UPnP NewExternalIPAddress:"
        } else {
            "(NAT-PMP result 3:"
        };
        assert!(error.contains(how), "{protocol}: {error}");
        let soap = lab.router_log().matches("#GetExternalIPAddress").count() - soap_before;
        // `detect` judges whether DDNS can reach this host from the same answer: not asked again.
        assert_eq!(
            soap,
            usize::from(protocol == "upnp"),
            "{protocol}: SOAP calls"
        );
        assert_eq!(report["reach"]["kind"], "no-public", "{protocol}: {all}");
    }
    // miniupnpd itself refuses to pass on such an address.
    assert!(
        lab.router_log()
            .contains("private/reserved address 100.64.7.8 is not suitable for external IP"),
        "{}",
        lab.router_log()
    );
}

#[tokio::test]
async fn with_no_router_answering_one_reason_soon_and_one_search() {
    let Some(lab) = Lab::new("11.22.33.44") else {
        return;
    };
    // No miniupnpd: count the searches reaching the router's side instead.
    let ssdp = Lab::in_ns(&lab.router, || {
        let s = std::net::UdpSocket::bind("0.0.0.0:1900").unwrap();
        s.join_multicast_v4(
            &"239.255.255.250".parse().unwrap(),
            &GATEWAY.parse().unwrap(),
        )
        .unwrap();
        s.set_read_timeout(Some(Duration::from_millis(200)))
            .unwrap();
        s
    });
    let searches: Arc<Mutex<Vec<String>>> = Arc::default();
    let seen = searches.clone();
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let stopped = stop.clone();
    let counter = std::thread::spawn(move || {
        let mut buf = [0u8; 2048];
        while !stopped.load(std::sync::atomic::Ordering::Relaxed) {
            if let Ok((n, _)) = ssdp.recv_from(&mut buf) {
                seen.lock()
                    .unwrap()
                    .push(String::from_utf8_lossy(&buf[..n]).into_owned());
            }
        }
    });
    let started = Instant::now();
    let (code, report, all) = lab.detect("{ kind = \"router\" }").await;
    let took = started.elapsed();
    tokio::time::sleep(Duration::from_millis(300)).await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    counter.join().unwrap();
    assert_eq!(code, 1, "{all}");
    let (_, error) = answer(&report);
    assert_eq!(
        error, "no router answers NAT-PMP at 10.77.0.1 or a UPnP search on this LAN",
        "{all}"
    );
    let searches = searches.lock().unwrap();
    assert_eq!(searches.len(), 1, "one M-SEARCH: {searches:?}");
    assert!(
        searches[0].starts_with("M-SEARCH * HTTP/1.1\r\n"),
        "{searches:?}"
    );
    // NAT-PMP's closed port answers at once (ICMP), then the search waits 1.5 s.
    assert!(took < Duration::from_secs(3), "took {took:?}");
    eprintln!("no router: unavailable after {} ms", took.as_millis());
}

#[tokio::test]
async fn a_new_router_address_is_published_through_its_announcement() {
    published_after_an_announcement("{ kind = \"router\" }", "", "").await;
}

/// With the router's NAT-PMP off, only its `UPnP` event (GENA) can tell of the change before the next poll.
#[tokio::test]
async fn a_new_router_address_is_published_through_its_upnp_event() {
    published_after(
        "{ kind = \"router\", protocol = \"upnp\" }",
        "",
        "",
        Heard::Event,
    )
    .await;
}

/// The same through a `[[line]]` bound to `lanc`, over `UPnP`: the search, the description and the SOAP call
/// leave through the line's interface, and the gateway is the one of that interface.
#[tokio::test]
async fn through_a_line_over_upnp_too() {
    published_after_an_announcement(
        "{ kind = \"router\", protocol = \"upnp\" }",
        "[[line]]\nname = \"uplink\"\ninterface = \"lanc\"\n",
        "lines = [\"uplink\"]\n",
    )
    .await;
}

async fn published_after_an_announcement(source: &str, lines: &str, record: &str) {
    published_after(source, lines, record, Heard::Announcement).await;
}

/// How the router tells of the change.
#[derive(PartialEq)]
enum Heard {
    /// NAT-PMP's multicast announcement.
    Announcement,
    /// A `UPnP` event to the daemon's subscription (NAT-PMP off in the router).
    Event,
}

async fn published_after(source: &str, lines: &str, record: &str, heard: Heard) {
    let Some(mut lab) = Lab::new("11.22.33.44") else {
        return;
    };
    lab.start_router_with(heard == Heard::Announcement);
    let seen: Arc<Mutex<Vec<(Instant, String)>>> = Arc::default();
    let s = seen.clone();
    let listener = Lab::in_ns(&lab.client, || {
        std::net::TcpListener::bind("127.0.0.1:0").unwrap()
    });
    let hook = FakeHttp::start_in(listener, move |r| {
        s.lock().unwrap().push((
            Instant::now(),
            r.query().get("ip").cloned().unwrap_or_default(),
        ));
        Reply::ok("ok")
    });
    let mut args = lab.write_config(&format!(
        "interval = \"5m\"\nipv6 = false\n[detect]\nipv4 = [ {source} ]\n{lines}\
         [[provider]]\nname = \"hook\"\nkind = \"webhook\"\nurl = \"{}\"\n\
         [[record]]\nname = \"home.example.test\"\nprovider = \"hook\"\n{record}",
        hook.url("/u?ip={ip}")
    ));
    args.push("run".into());
    let log_path = lab.dir.path().join("daemon.log");
    let daemon = lab
        .binary(&args)
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log_path).unwrap())
        .spawn()
        .unwrap();
    let daemon_log = || std::fs::read_to_string(&log_path).unwrap_or_default();
    let published = |ip: &'static str| published_at(seen.clone(), ip);
    let first = published("11.22.33.44").await;
    let start = Instant::now();
    let ready = match heard {
        Heard::Announcement => "listening for NAT-PMP announcements from 10.77.0.1",
        // Not only subscribed: miniupnpd drops a change that comes while its first event is in flight.
        Heard::Event => "router 10.77.0.1: its first event names 11.22.33.44",
    };
    while !daemon_log().contains(ready) {
        assert!(start.elapsed() < Duration::from_secs(5), "{}", daemon_log());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    if heard == Heard::Event {
        // The line is logged as the event arrives; the router reads our answer a moment later.
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let t0 = Instant::now();
    lab.renumber_wan("11.22.33.44", "11.22.44.66");
    let second = published("11.22.44.66").await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let _ = Command::new("kill")
        .args(["-TERM", &daemon.id().to_string()])
        .status();
    let mut daemon = daemon;
    let _ = daemon.wait();
    let log = daemon_log();
    assert!(first.is_some(), "the first round publishes:\n{log}");
    let second = second.unwrap_or_else(|| {
        panic!(
            "the new address was not published:\n{log}\n{}",
            lab.router_log()
        )
    });
    let took = second.duration_since(t0);
    eprintln!(
        "router {} ({source}{}): published {} ms after wan0 changed",
        match heard {
            Heard::Announcement => "announcement",
            Heard::Event => "UPnP event",
        },
        if lines.is_empty() {
            ""
        } else {
            ", through a line"
        },
        took.as_millis()
    );
    assert_heard(&heard, took, &log, &lab.router_log());
    if source.contains("upnp") {
        assert!(
            lab.router_log().contains("#GetExternalIPAddress"),
            "asked over UPnP:\n{}",
            lab.router_log()
        );
    }
    let calls: Vec<String> = seen
        .lock()
        .unwrap()
        .iter()
        .map(|(_, i)| i.clone())
        .collect();
    assert_eq!(
        calls,
        ["11.22.33.44", "11.22.44.66"],
        "one publication each"
    );
}

/// The change came in the way `heard` says, in time.
fn assert_heard(heard: &Heard, took: Duration, log: &str, router_log: &str) {
    match heard {
        Heard::Announcement => {
            assert!(took < Duration::from_secs(2), "took {took:?}\n{log}");
            assert!(log.contains("router 10.77.0.1 announced"), "{log}");
        }
        Heard::Event => {
            assert!(took < Duration::from_secs(1), "took {took:?}\n{log}");
            assert!(
                // The address the event names may be the old one (see gena.rs): any is news.
                log.lines().any(|l| l
                    .contains("router 10.77.0.1 sent an event: external address 11.22.")
                    && l.ends_with(": checking now")),
                "{log}"
            );
            assert!(
                !log.contains("announced"),
                "NAT-PMP is off in the router:\n{log}"
            );
            assert!(router_log.contains("SUBSCRIBE /evt/IPConn"), "{router_log}");
        }
    }
}

/// When the webhook first saw `ip` (waiting up to 10 s).
async fn published_at(seen: Arc<Mutex<Vec<(Instant, String)>>>, ip: &str) -> Option<Instant> {
    for _ in 0..1000 {
        if let Some((t, _)) = seen.lock().unwrap().iter().find(|(_, i)| i == ip) {
            return Some(*t);
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    None
}

/// A router behind carrier-grade NAT (miniupnpd with 100.64.7.8 on its WAN side refuses to tell it) with an
/// echo service that sees the carrier's public address: `detect` (text in both languages, and JSON), the
/// daemon's log, `ctl status`, `health`, `/health` and an alert all say that DDNS cannot reach this host,
/// once; the record is still published under the default `behind_nat = "warn"`.
#[tokio::test]
async fn behind_carrier_grade_nat_every_surface_says_so() {
    let Some(mut lab) = Lab::new("100.64.7.8") else {
        return;
    };
    lab.start_router();
    let seen: Arc<Mutex<Vec<String>>> = Arc::default();
    let (published, alerts) = (seen.clone(), seen.clone());
    let listener = Lab::in_ns(&lab.client, || {
        std::net::TcpListener::bind("127.0.0.1:0").unwrap()
    });
    let fake = FakeHttp::start_in(listener, move |r| match r.path() {
        "/echo" => Reply::ok("11.22.33.99"),
        "/u" => {
            published.lock().unwrap().push(format!(
                "publish {}",
                r.query().get("ip").cloned().unwrap_or_default()
            ));
            Reply::ok("ok")
        }
        _ => {
            alerts.lock().unwrap().push(format!("alert {}", r.body));
            Reply::ok("ok")
        }
    });
    // `first`: the router cannot confirm the echo's answer (it has no address to tell).
    let sources = format!(
        "policy = \"first\"\nipv4 = [ {{ kind = \"http\", url = \"{}\" }}, {{ kind = \"router\" }} ]",
        fake.url("/echo")
    );
    nat_detect_says_so(&lab, &sources).await;
    nat_daemon_says_so(&lab, &sources, &fake, &seen).await;
}

/// `detect` behind carrier-grade NAT, in English and in Chinese, and as JSON.
async fn nat_detect_says_so(lab: &Lab, sources: &str) {
    let mut args = lab.write_config(&format!("ipv6 = false\n[detect]\n{sources}\n"));
    args.push("detect".into());
    for (lang, want) in [
        (
            "en_US.UTF-8",
            "Your router says it has no public address (NAT-PMP result 3)",
        ),
        (
            "zh_CN.UTF-8",
            "路由器表示它没有公网地址（NAT-PMP result 3）",
        ),
    ] {
        let mut cmd = lab.binary(&args);
        cmd.env("LANG", lang).env("LC_ALL", lang);
        let out = tokio::task::spawn_blocking(move || cmd.output().unwrap())
            .await
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains("=> 11.22.33.99"), "{lang}: {text}");
        assert!(text.contains(&format!("  ! {want}")), "{lang}: {text}");
        eprintln!("detect ({lang}):\n{text}");
    }
    let mut json_args = args.clone();
    json_args.push("--json".into());
    let mut cmd = lab.binary(&json_args);
    let out = tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap();
    let all = String::from_utf8_lossy(&out.stdout).into_owned();
    let json: serde_json::Value =
        serde_json::from_str(&all).unwrap_or_else(|e| panic!("{e}: {all}"));
    let report = &json["ipv4"];
    assert_eq!(out.status.code(), Some(0), "the address is known: {all}");
    assert_eq!(report["reach"]["kind"], "no-public", "{all}");
    assert!(
        report["reach"]["reason"]
            .as_str()
            .unwrap_or("")
            .starts_with("DDNS may not reach this host: the router says it has no public address"),
        "{all}"
    );
}

/// The daemon behind carrier-grade NAT: its log, `ctl status`, `health`, `/health` and one alert.
async fn nat_daemon_says_so(
    lab: &Lab,
    sources: &str,
    fake: &FakeHttp,
    seen: &Arc<Mutex<Vec<String>>>,
) {
    let mut args = lab.write_config(&format!(
        "interval = \"5m\"\nipv6 = false\n[detect]\n{sources}\n\
         [metrics]\nlisten = \"127.0.0.1:9853\"\n\
         [[provider]]\nname = \"hook\"\nkind = \"webhook\"\nurl = \"{}\"\n\
         [[record]]\nname = \"home.example.test\"\nprovider = \"hook\"\n\
         [[notify]]\nname = \"wh\"\nkind = \"webhook\"\nurl = \"{}\"\nmethod = \"POST\"\n\
         body = \"{{title}}: {{message}}\"\n",
        fake.url("/u?ip={ip}"),
        fake.url("/alert"),
    ));
    let data_args = args.clone();
    args.push("run".into());
    let log_path = lab.dir.path().join("daemon.log");
    let mut daemon = lab
        .binary(&args)
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log_path).unwrap())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while !seen.lock().unwrap().iter().any(|s| s.starts_with("alert")) {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "{:?}",
            seen.lock().unwrap()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let ask = |extra: &[&str]| {
        let mut a = data_args.clone();
        a.extend(extra.iter().map(|s| (*s).to_owned()));
        let mut cmd = lab.binary(&a);
        cmd.env("LANG", "en_US.UTF-8").env("LC_ALL", "en_US.UTF-8");
        let out = cmd.output().unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let status = ask(&["ctl", "status"]);
    let health = ask(&["health"]);
    let endpoint = get_in(&lab.client, "http://127.0.0.1:9853/health").await;
    // Another round: nothing is said again.
    let update = ask(&["ctl", "update"]);
    tokio::time::sleep(Duration::from_millis(800)).await;
    crate::faults::signal(&daemon, "TERM");
    let _ = daemon.wait();
    let log = std::fs::read_to_string(&log_path).unwrap_or_default();
    let seen = seen.lock().unwrap().clone();
    assert!(
        seen.contains(&"publish 11.22.33.99".to_owned()),
        "published under `warn`: {seen:?}"
    );
    let told: Vec<&String> = seen
        .iter()
        .filter(|s| s.contains("no public address"))
        .collect();
    assert_eq!(
        told.len(),
        1,
        "one alert, not one per round: {seen:?}\n{update}"
    );
    assert!(
        told[0].contains("DDNS may not make this computer reachable"),
        "{told:?}"
    );
    assert!(
        status.contains("Your router says it has no public address (NAT-PMP result 3)"),
        "{status}"
    );
    assert!(
        status.contains("published, but not reachable from the internet"),
        "{status}"
    );
    assert!(
        health.starts_with("healthy, but: Your router says it has no public address"),
        "{health}"
    );
    assert!(endpoint.starts_with("HTTP/1.1 200"), "{endpoint}");
    assert!(
        endpoint.contains(
            "ok, but DDNS may not reach this host: the router says it has no public address"
        ),
        "{endpoint}"
    );
    assert_eq!(
        log.matches("DDNS may not reach this host").count(),
        1,
        "logged once:\n{log}"
    );
}

/// `curl -s -i URL` in network namespace `ns`: the whole answer.
async fn get_in(ns: &str, url: &str) -> String {
    let (ns, url) = (ns.to_owned(), url.to_owned());
    tokio::task::spawn_blocking(move || {
        let out = Command::new("ip")
            .args(["netns", "exec", &ns, "curl", "-s", "-i", &url])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    })
    .await
    .unwrap()
}
