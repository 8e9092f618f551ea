use std::net::IpAddr;

use super::interface::{Candidate, choose, parse_if_inet6, parse_route_v4, parse_route_v6};
use super::policy::STAGGER;
use super::trace::parse_trace;
use super::*;

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

#[test]
fn text_answers() {
    let ok = [
        ("bare", "203.0.113.7", "203.0.113.7"),
        ("newline", "203.0.113.7\n", "203.0.113.7"),
        ("crlf and spaces", "  2001:db8::7\r\n", "2001:db8::7"),
        (
            "sentence",
            "Current IP Address: 198.51.100.4",
            "198.51.100.4",
        ),
        ("json", "{\"ip\":\"198.51.100.4\"}", "198.51.100.4"),
        (
            "same ip twice",
            "ip 198.51.100.4 (198.51.100.4)",
            "198.51.100.4",
        ),
    ];
    for (name, text, want) in ok {
        assert_eq!(parse_text(text), Ok(ip(want)), "{name}");
    }
    let bad = [
        (
            "html page",
            "<html><body>Current IP Address: 198.51.100.4</body></html>",
            "HTML",
        ),
        ("two ips", "198.51.100.4 203.0.113.9", "exactly one"),
        ("v4 and v6", "198.51.100.4\n2001:db8::1", "exactly one"),
        ("empty", "  \n", "empty"),
        ("garbage", "rate limited, try later", "no IP address"),
    ];
    for (name, text, want) in bad {
        let err = parse_text(text).expect_err(name);
        assert!(err.contains(want), "{name}: {err}");
    }
}

#[test]
fn answer_ranges() {
    let public = ["1.1.1.1", "8.8.4.4", "2606:4700:4700::1111", "2a00:1450::1"];
    for p in public {
        let family = Family::of(ip(p));
        assert_eq!(check_answer(ip(p), family, false), Ok(ip(p)), "{p}");
    }
    // (address, fragment of the reason, allowed with allow_private)
    let special = [
        ("10.1.2.3", "private", true),
        ("172.20.0.1", "private", true),
        ("192.168.1.1", "private", true),
        ("100.64.0.1", "carrier-grade NAT", true),
        ("100.127.255.254", "carrier-grade NAT", true),
        ("127.0.0.1", "loopback", true),
        ("169.254.10.1", "link-local", true),
        ("192.0.2.1", "documentation", true),
        ("198.51.100.7", "documentation", true),
        ("203.0.113.7", "documentation", true),
        ("198.18.0.1", "benchmarking", true),
        ("0.0.0.0", "this network", false),
        ("255.255.255.255", "broadcast", false),
        ("224.0.0.1", "multicast", false),
        ("240.0.0.1", "reserved", false),
        ("::1", "loopback", true),
        ("fe80::1", "link-local", true),
        ("fd00::1", "unique local", true),
        ("2001:db8::1", "documentation", true),
        ("2001::1", "Teredo", true),
        ("2002:c633:6401::1", "6to4", true),
        ("64:ff9b::1.2.3.4", "NAT64", true),
        ("::", "unspecified", false),
        ("ff02::1", "multicast", false),
    ];
    for (addr, why, allowed) in special {
        let family = Family::of(ip(addr));
        let err = check_answer(ip(addr), family, false).expect_err(addr);
        assert!(err.contains(why), "{addr}: {err}");
        assert_eq!(
            check_answer(ip(addr), family, true).is_ok(),
            allowed,
            "{addr} with allow_private"
        );
    }
    assert!(special_range(ip("100.63.255.255")).is_none());
    assert!(special_range(ip("100.128.0.0")).is_none());
    assert!(special_range(ip("2003::1")).is_none());
    assert!(special_range(ip("2001:200::1")).is_none());
}

#[test]
fn wrong_family_is_rejected_and_mapped_v4_is_unmapped() {
    assert!(
        check_answer(ip("1.1.1.1"), Family::V6, true)
            .unwrap_err()
            .contains("IPv4 address, but IPv6")
    );
    assert!(
        check_answer(ip("2606:4700::1"), Family::V4, true)
            .unwrap_err()
            .contains("IPv6 address, but IPv4")
    );
    assert_eq!(
        check_answer(ip("::ffff:1.1.1.1"), Family::V4, false),
        Ok(ip("1.1.1.1"))
    );
    assert!(
        check_answer(ip("::ffff:1.1.1.1"), Family::V6, false)
            .unwrap_err()
            .contains("mapped")
    );
}

#[test]
fn cloudflare_trace() {
    let sample = "fl=29f1\nh=1.1.1.1\nip=198.51.100.23\nts=1700000000.1\nvisit_scheme=https\nwarp=off\ngateway=off\n";
    assert_eq!(parse_trace(sample), Ok(ip("198.51.100.23")));
    assert!(
        parse_trace("fl=1\nip=198.51.100.23\nwarp=on\n")
            .unwrap_err()
            .contains("WARP")
    );
    assert!(
        parse_trace("<html>error code: 1034</html>")
            .unwrap_err()
            .contains("no `ip=` line")
    );
    assert!(
        parse_trace("ip=1.1.1.1\nip=2.2.2.2\n")
            .unwrap_err()
            .contains("several")
    );
    assert!(
        parse_trace("ip=banana\n")
            .unwrap_err()
            .contains("not an address")
    );
}

#[test]
fn agreement() {
    let a = || Ok(ip("198.51.100.1"));
    let b = || Ok(ip("198.51.100.2"));
    let e = || Err("timeout".to_owned());
    assert_eq!(
        agree(&[a(), a(), b()], Family::V4),
        Detection::Known(ip("198.51.100.1"))
    );
    assert_eq!(
        agree(&[e(), a(), a()], Family::V4),
        Detection::Known(ip("198.51.100.1"))
    );
    assert!(
        matches!(agree(&[a(), b()], Family::V4), Detection::Unavailable(r) if r.contains("do not agree"))
    );
    assert!(matches!(
        agree(&[a(), a(), b(), b()], Family::V4),
        Detection::Unavailable(_)
    ));
    assert!(matches!(
        agree(&[a(), e(), e()], Family::V4),
        Detection::Unavailable(_)
    ));
    assert!(
        matches!(agree(&[e(), e()], Family::V4), Detection::Unavailable(r) if r.contains("no IPv4 source"))
    );
}

#[test]
fn if_inet6_flags() {
    let text = "\
20010db8000000000000000000000001 02 40 00 80     eth0
20010db8000000000000000000000002 02 40 00 01     eth0
20010db8000000000000000000000003 02 40 00 20     eth0
20010db8000000000000000000000004 02 40 00 40     eth0
fe800000000000000000000000000001 02 40 20 80     eth0
00000000000000000000000000000001 01 80 10 80       lo
";
    let c = parse_if_inet6(text, "eth0");
    assert_eq!(c.len(), 5);
    assert_eq!(
        c[0],
        Candidate {
            ip: ip("2001:db8::1"),
            unusable: None
        }
    );
    assert_eq!(c[1].unusable, Some("temporary"));
    assert_eq!(c[2].unusable, Some("deprecated"));
    assert_eq!(c[3].unusable, Some("tentative"));
}

#[test]
fn interface_choice() {
    let q = |allow_private| Query {
        family: Family::V6,
        allow_private,
    };
    let cands = vec![
        Candidate {
            ip: ip("fe80::1"),
            unusable: None,
        },
        Candidate {
            ip: ip("fd00::5"),
            unusable: None,
        },
        Candidate {
            ip: ip("2a00:1450::99"),
            unusable: Some("temporary"),
        },
        Candidate {
            ip: ip("2a00:1450::1"),
            unusable: None,
        },
    ];
    assert_eq!(choose("eth0", &cands, q(false)), Ok(ip("2a00:1450::1")));
    assert_eq!(
        choose("eth0", &cands, q(true)),
        Ok(ip("2a00:1450::1")),
        "global beats private"
    );
    let only_private = &cands[..3];
    assert_eq!(choose("eth0", only_private, q(true)), Ok(ip("fd00::5")));
    let err = choose("eth0", only_private, q(false)).unwrap_err();
    assert!(
        err.contains("fe80::1 link-local")
            && err.contains("temporary")
            && err.contains("unique local"),
        "{err}"
    );
    assert!(
        choose("eth0", &[], q(false))
            .unwrap_err()
            .contains("has no IPv6 address")
    );
}

#[test]
fn default_routes() {
    let v4 = "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n\
wlan0\t00000000\t0101A8C0\t0003\t0\t0\t600\t00000000\t0\t0\t0\n\
eth0\t00000000\t0101A8C0\t0003\t0\t0\t100\t00000000\t0\t0\t0\n\
eth0\t0001A8C0\t00000000\t0001\t0\t0\t100\t00FFFFFF\t0\t0\t0\n";
    assert_eq!(parse_route_v4(v4).as_deref(), Some("eth0"));
    assert_eq!(parse_route_v4("Iface\tDestination\n"), None);
    let v6 = "\
00000000000000000000000000000000 00 00000000000000000000000000000000 00 fe800000000000000000000000000001 00000400 00000001 00000000 00450003   eth0
00000000000000000000000000000000 00 00000000000000000000000000000000 00 00000000000000000000000000000000 ffffffff 00000001 00000000 00200200       lo
";
    assert_eq!(parse_route_v6(v6).as_deref(), Some("eth0"));
}

/// A source that answers after `delay` (or never).
struct Slow {
    delay: Option<Duration>,
    answer: Result<IpAddr, String>,
    label: &'static str,
}

#[async_trait::async_trait]
impl Source for Slow {
    fn label(&self) -> String {
        self.label.into()
    }
    async fn fetch(&self, _q: Query) -> Result<IpAddr, String> {
        match self.delay {
            Some(d) => tokio::time::sleep(d).await,
            None => std::future::pending().await,
        }
        self.answer.clone()
    }
}

fn slow(label: &'static str, delay: Option<u64>, answer: Result<&str, &str>) -> Configured {
    Configured::new(
        Box::new(Slow {
            delay: delay.map(Duration::from_millis),
            answer: answer.map(ip).map_err(str::to_owned),
            label,
        }),
        Duration::from_secs(5),
        true,
    )
}

/// Regression (issue 11): under `first`, a dead first echo cost its whole 5 s timeout before the next was
/// asked. Now the next starts after the stagger, and a quick failure passes on at once.
#[tokio::test(start_paused = true)]
async fn first_staggers_instead_of_waiting_out_a_dead_source() {
    let d = Detector::new(
        Policy::First,
        vec![
            slow("dead", None, Ok("198.51.100.1")),
            slow("good", Some(50), Ok("198.51.100.2")),
        ],
        vec![],
    );
    let t = tokio::time::Instant::now();
    assert_eq!(
        d.detect(Family::V4).await,
        Detection::Known(ip("198.51.100.2"))
    );
    assert_eq!(t.elapsed(), STAGGER + Duration::from_millis(50));

    // The first answers within the stagger: the second is never asked, and the first's answer wins.
    let d = Detector::new(
        Policy::First,
        vec![
            slow("quick", Some(100), Ok("198.51.100.1")),
            slow("other", Some(1), Ok("198.51.100.2")),
        ],
        vec![],
    );
    assert_eq!(
        d.detect(Family::V4).await,
        Detection::Known(ip("198.51.100.1"))
    );

    // A failure passes on at once; when all fail, every reason is kept in order.
    let d = Detector::new(
        Policy::First,
        vec![
            slow("a", Some(10), Err("HTTP 500")),
            slow("b", Some(10), Err("refused")),
        ],
        vec![],
    );
    let t = tokio::time::Instant::now();
    let Detection::Unavailable(why) = d.detect(Family::V4).await else {
        panic!("both failed")
    };
    assert_eq!(t.elapsed(), Duration::from_millis(20));
    assert!(why.contains("a: HTTP 500; b: refused"), "{why}");
}

/// A source that answers at once and counts its questions.
struct Counting {
    label: String,
    answer: Result<IpAddr, String>,
    asked: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

#[async_trait]
impl Source for Counting {
    fn label(&self) -> String {
        self.label.clone()
    }
    async fn fetch(&self, _q: Query) -> Result<IpAddr, String> {
        self.asked.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        self.answer.clone()
    }
}

fn counting(
    operator: &str,
    answer: &str,
    asked: &std::sync::Arc<std::sync::atomic::AtomicUsize>,
) -> Configured {
    Configured::new(
        Box::new(Counting {
            label: format!("http http://{operator}.test"),
            answer: Ok(ip(answer)),
            asked: asked.clone(),
        }),
        Duration::from_secs(5),
        true,
    )
}

/// Issue 20: under `confirm`, an unchanged answer costs one question; a change is taken only when another
/// operator's source gives the same address; sources of one operator never confirm each other; with one
/// operator there is nobody to ask and the first answer stands.
#[tokio::test(start_paused = true)]
async fn confirm_asks_a_second_operator_only_on_change() {
    use std::sync::atomic::Ordering::SeqCst;
    let asked = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let n = || asked.swap(0, SeqCst);
    let d = Detector::new(
        Policy::Confirm,
        vec![
            counting("a", "198.51.100.1", &asked),
            counting("b", "198.51.100.1", &asked),
            counting("c", "198.51.100.9", &asked),
        ],
        vec![],
    );
    let known = Some(ip("198.51.100.1"));
    assert_eq!(
        d.detect_since(Family::V4, known).await,
        Detection::Known(ip("198.51.100.1"))
    );
    assert_eq!(n(), 1, "unchanged: one question");
    assert_eq!(
        d.detect_since(Family::V4, Some(ip("198.51.100.7"))).await,
        Detection::Known(ip("198.51.100.1"))
    );
    assert_eq!(n(), 2, "changed: confirmed by the second operator");

    // The first says A, the next operator says B, the third A: confirmed by the third.
    let d = Detector::new(
        Policy::Confirm,
        vec![
            counting("a", "198.51.100.1", &asked),
            counting("b", "198.51.100.2", &asked),
            counting("c", "198.51.100.1", &asked),
        ],
        vec![],
    );
    assert_eq!(
        d.detect_since(Family::V4, None).await,
        Detection::Known(ip("198.51.100.1"))
    );
    assert_eq!(n(), 3);

    // Nobody agrees: nothing is concluded, and the reason names what each said.
    let d = Detector::new(
        Policy::Confirm,
        vec![
            counting("a", "198.51.100.1", &asked),
            counting("b", "198.51.100.2", &asked),
        ],
        vec![],
    );
    let Detection::Unavailable(why) = d.detect_since(Family::V4, None).await else {
        panic!("two operators disagree")
    };
    assert!(
        why.contains("not confirmed") && why.contains("198.51.100.2"),
        "{why}"
    );
    n();

    // Two sources of one operator never confirm each other.
    let d = Detector::new(
        Policy::Confirm,
        vec![
            counting("a", "198.51.100.1", &asked),
            counting("a", "198.51.100.1", &asked).operated_by("a.test"),
            counting("b", "198.51.100.2", &asked),
        ],
        vec![],
    );
    assert!(matches!(
        d.detect_since(Family::V4, None).await,
        Detection::Unavailable(_)
    ));
    n();

    // One operator only: the first answer stands.
    let d = Detector::new(
        Policy::Confirm,
        vec![counting("a", "198.51.100.1", &asked)],
        vec![],
    );
    assert_eq!(
        d.detect_since(Family::V4, None).await,
        Detection::Known(ip("198.51.100.1"))
    );
    assert_eq!(n(), 1);
}

/// Regression (issue 20): an echo answering with Cloudflare's own 104.18.0.0 (as 1.1.1.1's trace did on
/// 2025-10-27) was taken as the public address. It is rejected from any source unless the source allows it.
#[tokio::test(start_paused = true)]
async fn a_cdns_own_address_is_never_taken() {
    let asked = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let d = Detector::new(
        Policy::First,
        vec![counting("cdn", "104.18.0.0", &asked)],
        vec![],
    );
    let Detection::Unavailable(why) = d.detect(Family::V4).await else {
        panic!("104.18.0.0 taken")
    };
    assert!(why.contains("Cloudflare's own address"), "{why}");
    let d = Detector::new(
        Policy::First,
        vec![
            counting("cdn", "104.18.0.0", &asked)
                .with_cdn(std::sync::Arc::new(cdn::Ranges::builtin()), true),
        ],
        vec![],
    );
    assert_eq!(
        d.detect(Family::V4).await,
        Detection::Known(ip("104.18.0.0"))
    );
}

#[test]
fn operators_come_from_hosts() {
    for (label, who) in [
        ("http https://api.ipify.org", "ipify"),
        ("http https://api6.ipify.org", "ipify"),
        ("http https://ipv4.icanhazip.com", "Cloudflare"),
        ("cloudflare-trace (default)", "Cloudflare"),
        ("cloudflare-trace https://1.1.1.1", "Cloudflare"),
        (
            "dns myip.opendns.com A @resolver1.opendns.com:53",
            "Cisco OpenDNS",
        ),
        (
            "dns myip.opendns.com AAAA @[2620:119:35::35]:53",
            "Cisco OpenDNS",
        ),
        ("http http://127.0.0.1:8080", "127.0.0.1"),
        ("http http://[::1]:8080", "::1"),
        ("interface eth0", "interface eth0"),
    ] {
        assert_eq!(operator_of(label), who, "{label}");
    }
}
