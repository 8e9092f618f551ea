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
            .any(|l| l.starts_with("GET /api/v1/servers/localhost/zones?zone=")),
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

#[tokio::test]
async fn force_republishes_and_ttl_is_applied() {
    let Some(p) = pdns() else { return };
    let echo = FakeHttp::text("198.51.100.20").await;
    let name = format!("{}.example.test", unique("ttl"));
    let case = Case::new(&config(&echo.url("/"), &p.api_url, &p.api_key, &name));
    assert_eq!(case.run(&["once"]).await.code, 0);
    let forced = case.run(&["once", "--force"]).await;
    assert_eq!(
        forced.stdout,
        format!("{name} A 198.51.100.20 updated\n"),
        "{forced:?}"
    );
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
    let rrset = zone["rrsets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == format!("{name}."))
        .unwrap()
        .clone();
    assert_eq!(rrset["ttl"], 120);
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
        second.stdout.contains("stopped until the config changes"),
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
    let fake = FakeHttp::start(|r| {
        if r.method == "GET" {
            Reply::ok(r#"[{"id":"example.test.","name":"example.test.","kind":"Native"}]"#)
        } else {
            Reply::status(204, "")
        }
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
    let zones: Vec<_> = reqs
        .iter()
        .filter(|r| r.method == "GET")
        .map(|r| r.query()["zone"].clone())
        .collect();
    assert_eq!(
        zones,
        ["a.b.example.test.", "b.example.test.", "example.test."],
        "longest suffix first"
    );
    for r in &reqs {
        assert_eq!(r.headers["x-api-key"], "api-key-4242");
        assert_eq!(
            r.path().split("/zones").next().unwrap(),
            "/api/v1/servers/localhost"
        );
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
            "unexpected answer to the zone list",
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
    let (_, settings) = ddns_tray::config::load_str(&text, &|_: &str| None).unwrap();
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
    let (_, settings) = ddns_tray::config::load_str(&bad, &|_: &str| None).unwrap();
    let err = ddns_tray::provider::build(&settings.providers[0])
        .check(&name, RecordType::A)
        .await
        .unwrap_err();
    assert_eq!(err.class, ddns_tray::provider::ErrorClass::Auth);
}
