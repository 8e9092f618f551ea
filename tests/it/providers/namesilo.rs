//! `NameSilo` against a fake written from the request and answer shapes in `docs/providers/namesilo.md`
//! (qdm12/ddns-updater, ddns-go after its 2025-12 fix, NewFuture/DDNS, issue threads): GET
//! `/api/<operation>?version=1&type=json&key=…`, errors with HTTP 200 in `reply.code` (a number or a
//! string), the whole zone from `dnsListRecords`, relative hosts since 2025-12 (full names before), a
//! one-record list as a single object, XML answers.

use std::collections::BTreeMap;

use super::*;

const KEY: &str = "silo-s3cret-key";

fn cfg(endpoint: &str) -> String {
    format!("kind = \"namesilo\"\napi_key = \"{KEY}\"\nendpoint = \"{endpoint}\"")
}

fn reply(op: &str, reply: Value) -> Reply {
    let mut v = json!({ "request": { "operation": op, "ip": "198.51.100.4" } });
    v["reply"] = reply;
    json_reply(&v)
}

fn rr(id: &str, rtype: &str, host: &str, value: &str) -> Value {
    json!({ "record_id": id, "type": rtype, "host": host, "value": value, "ttl": 7207, "distance": 0 })
}

/// Hand-made records that must survive: an AAAA and a TXT at the name, an A at another host, an MX.
fn hand_made() -> Vec<Value> {
    vec![
        rr("aaaa1", "AAAA", "home", "2001:db8::1"),
        rr("txt1", "TXT", "home", "v=spf1 -all"),
        rr("a50", "A", "homeoffice", "198.51.100.50"),
        json!({ "record_id": "mx1", "type": "MX", "host": "@", "value": "mail.example.com", "ttl": 7207, "distance": 10 }),
    ]
}

/// example.com is the account's; any other domain answers 200 (not this user's).
async fn fake(records: Vec<Value>) -> FakeHttp {
    FakeHttp::start(move |r| {
        let q = r.query();
        if q.get("version").map(String::as_str) != Some("1") || q.get("type").map(String::as_str) != Some("json") {
            return reply("?", json!({ "code": 104, "detail": "Invalid API version or type" }));
        }
        if q.get("key").map(String::as_str) != Some(KEY) {
            return reply("?", json!({ "code": 110, "detail": "Invalid API Key" }));
        }
        let op = r.path().trim_start_matches("/api/");
        // The account's active domains, unpaged, as objects (names as registered, in upper case too).
        if op == "listDomains" {
            let mut domains: Vec<Value> = (0..20).map(|i| json!({ "domain": format!("n{i:02}.org"), "created": "2024-01-02", "expires": "2027-01-02" })).collect();
            domains.push(json!({ "domain": "Example.COM", "created": "2023-05-06", "expires": "2026-05-06" }));
            return reply(op, json!({ "code": 300, "detail": "success", "domains": domains }));
        }
        if q.get("domain").map(String::as_str) != Some("example.com") {
            return reply(op, json!({ "code": 200, "detail": "Domain is not active, or does not belong to this user" }));
        }
        match op {
            "dnsListRecords" => reply(op, json!({ "code": 300, "detail": "success", "resource_record": records })),
            "dnsAddRecord" => reply(op, json!({ "code": 300, "detail": "success", "record_id": "new1" })),
            "dnsUpdateRecord" => reply(op, json!({ "code": "300", "detail": "success", "record_id": "upd1" })),
            "dnsDeleteRecord" => reply(op, json!({ "code": 300, "detail": "success" })),
            _ => reply(op, json!({ "code": 102, "detail": "Invalid operation" })),
        }
    })
    .await
}

/// The calls made, as `operation {params without version, type and key}`.
fn calls(f: &FakeHttp) -> Vec<String> {
    f.requests()
        .iter()
        .map(|r| {
            let q: BTreeMap<String, String> = r
                .query()
                .into_iter()
                .filter(|(k, _)| !matches!(k.as_str(), "version" | "type" | "key"))
                .collect();
            format!("{} {q:?}", r.path())
        })
        .collect()
}

#[tokio::test]
async fn create_probes_the_zone() {
    let f = fake(hand_made()).await;
    let out = update(
        &build(&cfg(&f.url("/api"))),
        "home.sub.example.com",
        RecordType::A,
        "198.51.100.7",
        Some(3600),
    )
    .await
    .unwrap();
    assert_eq!(
        out,
        UpdateOutcome::Updated {
            record_id: Some("new1".into())
        }
    );
    assert_eq!(
        calls(&f),
        [
            r#"/api/dnsListRecords {"domain": "home.sub.example.com"}"#,
            r#"/api/dnsListRecords {"domain": "sub.example.com"}"#,
            r#"/api/dnsListRecords {"domain": "example.com"}"#,
            r#"/api/dnsAddRecord {"domain": "example.com", "rrhost": "home.sub", "rrttl": "3600", "rrtype": "A", "rrvalue": "198.51.100.7"}"#,
        ]
    );
    let last = f.requests().pop().unwrap();
    assert_eq!(last.method, "GET");
    assert!(
        last.target
            .starts_with("/api/dnsAddRecord?version=1&type=json&key=silo-s3cret-key&")
    );
}

#[tokio::test]
async fn update_duplicates_and_unchanged_after_the_2025_12_change() {
    let mut records = hand_made();
    records.push(rr("r1", "A", "home", "198.51.100.6"));
    records.push(rr("r2", "A", "home", "198.51.100.5"));
    let f = fake(records).await;
    let out = update(
        &build(&cfg(&f.url("/api"))),
        "home.example.com",
        RecordType::A,
        "198.51.100.7",
        None,
    )
    .await
    .unwrap();
    assert_eq!(
        out,
        UpdateOutcome::Updated {
            record_id: Some("upd1".into())
        }
    );
    assert_eq!(
        calls(&f)[2..],
        [
            r#"/api/dnsUpdateRecord {"domain": "example.com", "rrhost": "home", "rrid": "r1", "rrttl": "7207", "rrvalue": "198.51.100.7"}"#,
            r#"/api/dnsDeleteRecord {"domain": "example.com", "rrid": "r2"}"#,
        ]
    );

    // The answer shape before 2025-12 (full names) still matches, and a one-record list as an object.
    let f = FakeHttp::start(|r| {
        let op = r.path().trim_start_matches("/api/");
        match (op, r.query()["domain"].as_str()) {
            ("dnsListRecords", "example.com") => reply(op, json!({ "code": "300", "detail": "success",
                "resource_record": rr("r9", "A", "home.example.com", "198.51.100.7") })),
            _ => reply(op, json!({ "code": 200, "detail": "Domain is not active, or does not belong to this user" })),
        }
    })
    .await;
    let out = update(
        &build(&cfg(&f.url("/api"))),
        "home.example.com",
        RecordType::A,
        "198.51.100.7",
        None,
    )
    .await
    .unwrap();
    assert_eq!(
        out,
        UpdateOutcome::Unchanged {
            record_id: Some("r9".into())
        }
    );
    assert_eq!(f.requests().len(), 2);

    // The apex: `@`.
    let f = fake(hand_made()).await;
    update(
        &build(&cfg(&f.url("/api"))),
        "example.com",
        RecordType::A,
        "198.51.100.8",
        None,
    )
    .await
    .unwrap();
    assert_eq!(
        calls(&f).last().unwrap(),
        r#"/api/dnsAddRecord {"domain": "example.com", "rrhost": "@", "rrtype": "A", "rrvalue": "198.51.100.8"}"#
    );
}

#[tokio::test]
async fn xml_answers() {
    let f = FakeHttp::start(|r| {
        let op = r.path().trim_start_matches("/api/");
        let body = match (op, r.query()["domain"].as_str()) {
            ("dnsListRecords", "example.com") => "<?xml version=\"1.0\"?><namesilo><request><operation>dnsListRecords</operation><ip>198.51.100.4</ip></request><reply><code>300</code><detail>success</detail><resource_record><record_id>x1</record_id><type>A</type><host>home</host><value>198.51.100.6</value><ttl>7207</ttl><distance>0</distance></resource_record><resource_record><record_id>x2</record_id><type>TXT</type><host>home</host><value>hi</value><ttl>7207</ttl><distance>0</distance></resource_record></reply></namesilo>".to_owned(),
            ("dnsUpdateRecord", _) => "<namesilo><request><operation>dnsUpdateRecord</operation><ip>198.51.100.4</ip></request><reply><code>280</code><detail>home..example.com is not a valid host</detail></reply></namesilo>".to_owned(),
            _ => format!("<namesilo><request><operation>{op}</operation><ip>198.51.100.4</ip></request><reply><code>200</code><detail>Domain is not active, or does not belong to this user</detail></reply></namesilo>"),
        };
        Reply::ok(body).with_header("Content-Type", "text/xml")
    })
    .await;
    let err = update(
        &build(&cfg(&f.url("/api"))),
        "home.example.com",
        RecordType::A,
        "198.51.100.7",
        None,
    )
    .await
    .unwrap_err();
    assert_eq!(err.class, ErrorClass::Rejected, "{err:?}");
    assert!(
        err.message.contains("280") && err.message.contains("not a valid host"),
        "{err:?}"
    );
    assert!(calls(&f).last().unwrap().contains(r#""rrid": "x1""#));
}

#[tokio::test]
async fn failures() {
    common_failures(
        cfg,
        reply(
            "dnsListRecords",
            json!({ "code": 110, "detail": "Invalid API Key" }),
        ),
        "home.example.com",
    )
    .await;
    for (code, class) in [
        (json!(113), ErrorClass::Auth),
        (json!("112"), ErrorClass::Auth),
        (json!(201), ErrorClass::Transient),
        (json!(210), ErrorClass::Rejected),
    ] {
        let c = code.clone();
        let f = FakeHttp::start(move |r| {
            let op = r.path().trim_start_matches("/api/");
            match op {
                "dnsListRecords" => reply(
                    op,
                    json!({ "code": 300, "detail": "success", "resource_record": [] }),
                ),
                _ => reply(op, json!({ "code": c, "detail": "refused" })),
            }
        })
        .await;
        let err = update(
            &build(&format!("{}\nzone = \"example.com\"", cfg(&f.url("/api")))),
            "home.example.com",
            RecordType::A,
            "198.51.100.1",
            None,
        )
        .await
        .unwrap_err();
        assert_eq!(err.class, class, "{code}: {err:?}");
        assert!(!err.message.contains(KEY));
    }
    let f = fake(vec![]).await;
    let err = update(
        &build(&cfg(&f.url("/api"))),
        "home.example.org",
        RecordType::A,
        "198.51.100.1",
        None,
    )
    .await
    .unwrap_err();
    assert_eq!(err.class, ErrorClass::Rejected, "{err:?}");
}

#[test]
fn ttl_under_an_hour_is_refused_at_load() {
    let text = "[[provider]]\nname = \"p\"\nkind = \"namesilo\"\napi_key = \"k\"\n\n[[record]]\nname = \"home.example.com\"\nprovider = \"p\"\nttl = 600\n";
    let issues = load_str(text, &|_: &str| None).err().unwrap_or_default();
    assert!(
        issues.iter().any(|i| i.path.ends_with(".ttl")),
        "{issues:#?}"
    );
}

/// "Test" names the domains the credential sees (`listDomains`, one unpaged call with the key in the query,
/// lower-cased and sorted), beside the check; a name in no domain fails with the domains still shown.
#[tokio::test]
async fn test_lists_the_domains_the_credential_sees() {
    let mut records = hand_made();
    records.push(rr("a1", "A", "home", "198.51.100.7"));
    let f = fake(records).await;
    let p = build(&cfg(&f.url("/api")));
    let said = ddns_tray::provider::test(p.as_ref(), "home.example.com", RecordType::A)
        .await
        .unwrap();
    let (check, zones) = said.split_once('\n').unwrap();
    assert_eq!(
        check,
        "credentials accepted; zone example.com; home.example.com A holds 198.51.100.7"
    );
    assert_eq!(
        zones,
        "domains this credential can see (21): example.com, n00.org, n01.org, n02.org, n03.org, n04.org, n05.org, n06.org, n07.org, n08.org, n09.org, n10.org and 9 more"
    );
    let lists: Vec<(String, String)> = f
        .requests()
        .iter()
        .filter(|r| r.path() == "/api/listDomains")
        .map(|r| (r.method.clone(), r.target.clone()))
        .collect();
    assert_eq!(
        lists,
        [(
            "GET".to_owned(),
            format!("/api/listDomains?version=1&type=json&key={KEY}")
        )]
    );

    let err = ddns_tray::provider::test(p.as_ref(), "home.example.org", RecordType::A)
        .await
        .unwrap_err();
    assert!(err.contains("home.example.org"), "{err}");
    assert!(
        err.contains("\ndomains this credential can see (21): "),
        "{err}"
    );
}
