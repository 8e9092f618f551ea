//! `powerdns` against a real `PowerDNS` (through a counting proxy, so provider calls can be counted) and
//! against a fake that answers garbage.

use crate::support::{Case, CountingProxy, FakeHttp, Reply, dig, pdns, pdns_records, unique};

fn config(echo: &str, api_url: &str, api_key: &str, name: &str) -> String {
    format!(
        r#"
[detect]
ipv4 = [ {{ kind = "http", url = "{echo}", allow_private = true }} ]

[[provider]]
name = "home-pdns"
kind = "powerdns"
url = "{api_url}"
api_key = "{api_key}"

[[record]]
name = "{name}"
provider = "home-pdns"
ttl = 120
"#
    )
}

#[tokio::test]
async fn once_publishes_the_echoed_ip_then_makes_no_calls_then_publishes_a_change() {
    let Some(p) = pdns() else { return };
    let proxy = CountingProxy::start(p.api_port).await;
    let echo = FakeHttp::text("198.51.100.7\n").await;
    let name = format!("{}.example.test", unique("home"));
    let case = Case::new(&config(&echo.url("/"), &proxy.url(), &p.api_key, &name));

    let first = case.run(&["once"]).await;
    assert_eq!(first.code, 0, "{first:?}");
    assert_eq!(first.stdout, format!("{name} A 198.51.100.7 updated\n"));
    assert_eq!(pdns_records(&p, &name, "A").await, ["198.51.100.7"]);
    assert_eq!(
        dig(p.port, &name, "A"),
        ["198.51.100.7"],
        "served over DNS at once"
    );
    let calls = proxy.requests();
    assert!(
        calls
            .iter()
            .any(|l| l.starts_with("GET /api/v1/servers/localhost/zones?dnssec=false ")),
        "{calls:?}"
    );
    assert!(
        calls
            .iter()
            .any(|l| l.starts_with("PATCH /api/v1/servers/localhost/zones/example.test.")),
        "{calls:?}"
    );

    let second = case.run(&["once"]).await;
    assert_eq!(second.code, 0, "{second:?}");
    assert_eq!(second.stdout, format!("{name} A 198.51.100.7 unchanged\n"));
    assert_eq!(
        proxy.requests().len(),
        calls.len(),
        "the second run made zero provider calls"
    );

    echo.set_text("198.51.100.8");
    let third = case.run(&["once"]).await;
    assert_eq!(
        third.stdout,
        format!("{name} A 198.51.100.8 updated\n"),
        "{third:?}"
    );
    assert_eq!(pdns_records(&p, &name, "A").await, ["198.51.100.8"]);
    let state = case.state();
    let rec = state["records"]
        .as_object()
        .unwrap()
        .values()
        .next()
        .unwrap();
    assert_eq!(rec["published"], "198.51.100.8");
    assert!(
        !serde_json::to_string(&state).unwrap().contains(&p.api_key),
        "no secret in the state file"
    );
}

async fn rrset(p: &crate::support::Pdns, zone: &str, name: &str) -> serde_json::Value {
    let answer: serde_json::Value = ddns_tray::http::api_client()
        .get(format!(
            "{}/api/v1/servers/localhost/zones/{zone}.",
            p.api_url
        ))
        .header("X-API-Key", &p.api_key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    answer["rrsets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == format!("{name}.") && r["type"] == "A")
        .cloned()
        .unwrap_or_default()
}

fn soa_serial(p: &crate::support::Pdns, zone: &str) -> String {
    dig(p.port, zone, "SOA")
        .first()
        .and_then(|l| l.split_whitespace().nth(2).map(str::to_owned))
        .unwrap_or_default()
}

/// A zone of the test's own: other tests write to `example.test` in parallel, and each of their writes
/// moves that zone's serial (the flake CI saw: "the zone's serial did not move", 2026120311 -> 12).
async fn own_zone(p: &crate::support::Pdns) -> String {
    let zone = format!("{}.test", unique("serial"));
    let body = serde_json::json!({"name": format!("{zone}."), "kind": "Native", "nameservers": [format!("ns1.{zone}.")]});
    let status = ddns_tray::http::api_client()
        .post(format!("{}/api/v1/servers/localhost/zones", p.api_url))
        .header("X-API-Key", &p.api_key)
        .json(&body)
        .send()
        .await
        .unwrap()
        .status();
    assert!(status.is_success(), "creating zone {zone}: {status}");
    zone
}

/// Regression: every keep-alive (and `--force`) rewrote the rrset, bumping the SOA serial and sending
/// NOTIFYs, although the README promises no write when unchanged. The rrset is read; a write happens only
/// when it differs (here: after a hand edit), and then restores value and TTL.
#[tokio::test]
async fn republishing_reads_first_and_writes_only_what_differs() {
    let Some(p) = pdns() else { return };
    let proxy = CountingProxy::start(p.api_port).await;
    let echo = FakeHttp::text("198.51.100.20").await;
    let zone = own_zone(&p).await;
    let name = format!("{}.{zone}", unique("ttl"));
    let case = Case::new(&config(&echo.url("/"), &proxy.url(), &p.api_key, &name));
    assert_eq!(case.run(&["once"]).await.code, 0);
    assert_eq!(rrset(&p, &zone, &name).await["ttl"], 120);
    let serial = soa_serial(&p, &zone);
    let writes = |proxy: &CountingProxy| {
        proxy
            .requests()
            .iter()
            .filter(|l| !l.starts_with("GET "))
            .count()
    };
    let before = writes(&proxy);
    let forced = case.run(&["once", "--force"]).await;
    assert_eq!(
        forced.stdout,
        format!("{name} A 198.51.100.20 unchanged\n"),
        "{forced:?}"
    );
    assert_eq!(writes(&proxy), before, "no write: {:?}", proxy.requests());
    assert_eq!(
        soa_serial(&p, &zone),
        serial,
        "the zone's serial did not move"
    );

    // Someone edits the record by hand: the next re-publication repairs value and TTL.
    let edit = serde_json::json!({"rrsets":[{"name": format!("{name}."),"type":"A","ttl":300,"changetype":"REPLACE","records":[{"content":"192.0.2.99","disabled":false}]}]});
    let status = ddns_tray::http::api_client()
        .patch(format!(
            "{}/api/v1/servers/localhost/zones/{zone}.",
            p.api_url
        ))
        .header("X-API-Key", &p.api_key)
        .json(&edit)
        .send()
        .await
        .unwrap()
        .status();
    assert!(status.is_success());
    let forced = case.run(&["once", "--force"]).await;
    assert_eq!(
        forced.stdout,
        format!("{name} A 198.51.100.20 updated\n"),
        "{forced:?}"
    );
    let set = rrset(&p, &zone, &name).await;
    assert_eq!(set["ttl"], 120);
    assert_eq!(set["records"][0]["content"], "198.51.100.20");
    assert_eq!(writes(&proxy), before + 1, "{:?}", proxy.requests());
}

#[tokio::test]
async fn a_wrong_api_key_stops_the_record_until_the_config_changes() {
    let Some(p) = pdns() else { return };
    let proxy = CountingProxy::start(p.api_port).await;
    let echo = FakeHttp::text("198.51.100.30").await;
    let name = format!("{}.example.test", unique("auth"));
    let case = Case::new(&config(
        &echo.url("/"),
        &proxy.url(),
        "wrong-key-123",
        &name,
    ));
    let first = case.run(&["once"]).await;
    assert_eq!(first.code, 1, "{first:?}");
    assert!(
        first.stdout.starts_with(&format!(
            "{name} A 198.51.100.30 failed: powerdns `home-pdns`: credentials refused (HTTP 401"
        )),
        "{first:?}"
    );
    let calls = proxy.requests().len();
    let second = case.run(&["once"]).await;
    assert_eq!(second.code, 1);
    assert!(
        second.stdout.contains("stopped: until the config changes"),
        "{second:?}"
    );
    assert_eq!(proxy.requests().len(), calls, "no call while stopped");
    // Fixing the key lifts the stop.
    case.write_config(&config(&echo.url("/"), &proxy.url(), &p.api_key, &name));
    let fixed = case.run(&["once"]).await;
    assert_eq!(
        fixed.stdout,
        format!("{name} A 198.51.100.30 updated\n"),
        "{fixed:?}"
    );
}

#[tokio::test]
async fn a_name_in_no_zone_is_rejected() {
    let Some(p) = pdns() else { return };
    let echo = FakeHttp::text("198.51.100.31").await;
    let case = Case::new(&config(
        &echo.url("/"),
        &p.api_url,
        &p.api_key,
        "host.nozone.invalid",
    ));
    let out = case.run(&["once"]).await;
    assert_eq!(out.code, 1);
    assert!(
        out.stdout.contains(
            "failed: powerdns `home-pdns`: the server has no zone holding host.nozone.invalid"
        ),
        "{out:?}"
    );
}

#[tokio::test]
async fn exact_requests_against_a_fake_powerdns() {
    let echo = FakeHttp::text("198.51.100.40").await;
    let fake = FakeHttp::start(|r| match (r.method.as_str(), r.path()) {
        ("GET", "/api/v1/servers/localhost/zones") => Reply::ok(
            r#"[{"id":"example.test.","name":"example.test.","kind":"Native"},{"id":"other.test.","name":"other.test.","kind":"Native"}]"#,
        ),
        ("GET", "/api/v1/servers/localhost/zones/example.test.") => Reply::ok(
            r#"{"id":"example.test.","name":"example.test.","rrsets":[{"name":"b.example.test.","type":"A","ttl":60,"records":[{"content":"192.0.2.1","disabled":false}]}]}"#,
        ),
        ("PATCH", _) => Reply::status(204, ""),
        _ => Reply::status(404, r#"{"error":"not found"}"#),
    })
    .await;
    let case = Case::new(&config(
        &echo.url("/"),
        &fake.url(""),
        "api-key-4242",
        "a.b.example.test",
    ));
    let out = case.run(&["once"]).await;
    assert_eq!(out.code, 0, "{out:?}");
    let reqs = fake.requests();
    let seen: Vec<String> = reqs
        .iter()
        .map(|r| format!("{} {}", r.method, r.target))
        .collect();
    assert_eq!(
        seen,
        [
            "GET /api/v1/servers/localhost/zones?dnssec=false",
            "GET /api/v1/servers/localhost/zones/example.test.",
            "PATCH /api/v1/servers/localhost/zones/example.test.",
        ],
        "one zone list, one zone read, one write"
    );
    for r in &reqs {
        assert_eq!(r.headers["x-api-key"], "api-key-4242");
    }
    let patch = reqs.iter().find(|r| r.method == "PATCH").unwrap();
    assert_eq!(
        patch.path(),
        "/api/v1/servers/localhost/zones/example.test."
    );
    assert_eq!(patch.headers["content-type"], "application/json");
    assert_eq!(
        patch.json(),
        serde_json::json!({"rrsets":[{"name":"a.b.example.test.","type":"A","ttl":120,"changetype":"REPLACE","records":[{"content":"198.51.100.40","disabled":false}]}]})
    );
}

#[tokio::test]
async fn garbage_and_truncated_answers_are_failures_and_nothing_is_recorded() {
    let echo = FakeHttp::text("198.51.100.41").await;
    let cases = [
        (
            "garbage zone list",
            Reply::ok("<html>proxy error</html>"),
            // A page's markup is reduced to its text in messages.
            "unexpected answer `proxy error`",
        ),
        (
            "truncated body",
            Reply::Truncated {
                body: "[{\"id\":\"exa".into(),
            },
            "answer cut off",
        ),
        (
            "server error",
            Reply::status(500, r#"{"error":"backend down"}"#),
            "HTTP 500 Internal Server Error: backend down",
        ),
        (
            "unprocessable",
            Reply::status(
                422,
                r#"{"error":"RRset home.example.test. IN A: Conflicts with pre-existing RRset"}"#,
            ),
            "request rejected (HTTP 422",
        ),
    ];
    for (case_name, reply, want) in cases {
        let fake = FakeHttp::start(move |_| reply.clone()).await;
        let case = Case::new(&config(
            &echo.url("/"),
            &fake.url(""),
            "api-key-4242",
            "home.example.test",
        ));
        let out = case.run(&["once"]).await;
        assert_eq!(out.code, 1, "{case_name}: {out:?}");
        assert!(out.stdout.contains(want), "{case_name}: {out:?}");
        let state = case.state();
        let rec = state["records"]
            .as_object()
            .unwrap()
            .values()
            .next()
            .unwrap();
        assert!(
            rec.get("published").is_none(),
            "{case_name}: nothing recorded as published"
        );
        assert_eq!(rec["failures"], 1, "{case_name}");
    }
}

#[tokio::test]
async fn check_finds_zone_and_record_without_writing() {
    use ddns_tray::config::RecordType;
    let Some(p) = pdns() else { return };
    let proxy = CountingProxy::start(p.api_port).await;
    let echo = FakeHttp::text("198.51.100.45").await;
    let name = format!("{}.example.test", unique("chk"));
    let text = config(&echo.url("/"), &proxy.url(), &p.api_key, &name);
    let (_, settings) = ddns_tray::settings::load_str(&text, &|_: &str| None).unwrap();
    let provider = ddns_tray::provider::build(&settings.providers[0]);
    let report = provider.check(&name, RecordType::A).await.unwrap();
    assert_eq!(
        report,
        format!(
            "credentials accepted; zone example.test; no A record at {name} yet (the first update creates it)"
        )
    );
    assert!(
        proxy.requests().iter().all(|l| l.starts_with("GET ")),
        "only reads: {:?}",
        proxy.requests()
    );
    let bad = text.replace(&p.api_key, "wrong-key-1234");
    let (_, settings) = ddns_tray::settings::load_str(&bad, &|_: &str| None).unwrap();
    let err = ddns_tray::provider::build(&settings.providers[0])
        .check(&name, RecordType::A)
        .await
        .unwrap_err();
    assert_eq!(err.class, ddns_tray::provider::ErrorClass::Auth);
}

/// A router's ddns-tray keeps the AAAA records of LAN hosts: the detected prefix with each host's own id
/// (an interface id, or a MAC address as its EUI-64 id), and follows a new prefix.
#[tokio::test]
async fn lan_hosts_get_the_detected_prefix_with_their_own_host_id() {
    let Some(p) = pdns() else { return };
    let echo = FakeHttp::text_v6("2001:db8:aa:bb::5\n").await;
    let router = format!("{}.example.test", unique("router"));
    let nas = format!("{}.example.test", unique("nas"));
    let printer = format!("{}.example.test", unique("printer"));
    let text = format!(
        r#"
ipv4 = false
ipv6 = true
[detect]
ipv6 = [ {{ kind = "http", url = "{echo}", allow_private = true }} ]

[[provider]]
name = "home-pdns"
kind = "powerdns"
url = "{api}"
api_key = "{key}"

[[record]]
name = "{router}"
provider = "home-pdns"

[[record]]
name = "{nas}"
provider = "home-pdns"
type = "AAAA"
ipv6_host = "::1234"

[[record]]
name = "{printer}"
provider = "home-pdns"
type = "AAAA"
ipv6_host = "52:54:00:12:34:56"
"#,
        echo = echo.url("/"),
        api = p.api_url,
        key = p.api_key,
    );
    let case = Case::new(&text);
    let out = case.run(&["once"]).await;
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(
        pdns_records(&p, &router, "AAAA").await,
        ["2001:db8:aa:bb::5"]
    );
    assert_eq!(
        pdns_records(&p, &nas, "AAAA").await,
        ["2001:db8:aa:bb::1234"]
    );
    assert_eq!(
        pdns_records(&p, &printer, "AAAA").await,
        ["2001:db8:aa:bb:5054:ff:fe12:3456"]
    );
    assert_eq!(dig(p.port, &nas, "AAAA"), ["2001:db8:aa:bb::1234"]);
    assert!(
        out.stdout
            .contains(&format!("{nas} AAAA 2001:db8:aa:bb::1234 updated")),
        "{out:?}"
    );

    // The ISP delegates a new prefix: every host follows; the host ids stay.
    echo.set_text("2001:db8:cc:dd::5");
    let out = case.run(&["once"]).await;
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(
        pdns_records(&p, &nas, "AAAA").await,
        ["2001:db8:cc:dd::1234"]
    );
    assert_eq!(
        pdns_records(&p, &printer, "AAAA").await,
        ["2001:db8:cc:dd:5054:ff:fe12:3456"]
    );

    // Checked at load: a host id for an A record, or one with bits in the prefix, is refused by name.
    let bad = Case::new(&text.replace(
        "type = \"AAAA\"\nipv6_host = \"::1234\"",
        "ipv6_host = \"2001::1234\"",
    ));
    let out = bad.run(&["check"]).await;
    assert_eq!(out.code, 2, "{out:?}");
    assert!(
        out.stdout
            .contains("record[1].ipv6_host: `2001::1234` has bits inside the /64 prefix"),
        "{out:?}"
    );
}
