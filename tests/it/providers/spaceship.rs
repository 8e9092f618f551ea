//! Spaceship against a fake written from the request and answer shapes in `docs/providers/spaceship.md`
//! (docs.spaceship.dev, qdm12/ddns-updater, ddns-go, stalwartlabs/dns-update): `X-API-Key` + `X-API-Secret`,
//! `GET /dns/records/{domain}?take=&skip=` (`items` + `total`), `PUT {"force":true,"items":[…]}` and
//! `DELETE [ … ]` answering 204, 404 `SOA record for domain … not found.` for a domain Spaceship does not
//! serve, errors as `{"detail":…,"data":[{"field","details"}]}` with a `Spaceship-Error-Code` header.

use super::*;

const SECRET: &str = "ship-s3cret";

fn cfg(endpoint: &str) -> String {
    format!(
        "kind = \"spaceship\"\napi_key = \"shipkey1\"\napi_secret = \"{SECRET}\"\nendpoint = \"{endpoint}\""
    )
}

fn a(name: &str, rtype: &str, address: &str) -> Value {
    json!({ "type": rtype, "name": name, "address": address, "ttl": 1800, "group": { "type": "custom" } })
}

/// Hand-made records that must survive: an AAAA at the name, a TXT, a CNAME, an A at another host.
fn hand_made() -> Vec<Value> {
    vec![
        a("home", "AAAA", "2001:db8::1"),
        json!({ "type": "TXT", "name": "home", "value": "v=spf1 -all", "ttl": 3600, "group": { "type": "custom" } }),
        json!({ "type": "CNAME", "name": "www", "cname": "example.net", "ttl": 3600, "group": { "type": "custom" } }),
        a("homeoffice", "A", "198.51.100.50"),
    ]
}

/// example.com with 105 filler records ahead of `records` (so they are on the second page of 100).
async fn fake(records: Vec<Value>) -> FakeHttp {
    FakeHttp::start(move |r| {
        if r.headers.get("x-api-key").map(String::as_str) != Some("shipkey1")
            || r.headers.get("x-api-secret").map(String::as_str) != Some(SECRET)
        {
            return Reply::status(401, r#"{"detail":"Unauthorized","data":[]}"#)
                .with_header("Spaceship-Error-Code", "Unauthorized");
        }
        match (r.method.as_str(), r.path()) {
            ("GET", "/dns/records/example.com") => {
                let q = r.query();
                let take: usize = q["take"].parse().unwrap();
                let skip: usize = q["skip"].parse().unwrap();
                let mut all: Vec<Value> =
                    (0..105).map(|i| a(&format!("h{i}"), "A", "192.0.2.1")).collect();
                all.extend(records.iter().cloned());
                let items: Vec<Value> = all.iter().skip(skip).take(take).cloned().collect();
                json_reply(&json!({ "items": items, "total": all.len() }))
            }
            // 104 domains, A-labels in `name` (`take` 1..100 and `skip` required).
            ("GET", "/domains") => {
                let q = r.query();
                let take: usize = q["take"].parse().unwrap();
                let skip: usize = q["skip"].parse().unwrap();
                assert!((1..=100).contains(&take), "take {take}");
                let mut all: Vec<Value> = (0..102)
                    .map(|i| json!({ "name": format!("s{i:03}.dev"), "unicodeName": format!("s{i:03}.dev"), "isPremium": false }))
                    .collect();
                all.push(json!({ "name": "example.com", "unicodeName": "example.com", "isPremium": false }));
                all.push(json!({ "name": "xn--spceship-9ya.com", "unicodeName": "spåceship.com", "isPremium": false }));
                let items: Vec<Value> = all.iter().skip(skip).take(take).cloned().collect();
                json_reply(&json!({ "items": items, "total": all.len() }))
            }
            ("GET", p) if p.starts_with("/dns/records/") => Reply::status(
                404,
                json!({ "detail": format!("SOA record for domain {} not found.", &p[13..]), "data": [] }).to_string(),
            ),
            ("PUT" | "DELETE", "/dns/records/example.com") => Reply::status(204, ""),
            _ => Reply::status(404, r#"{"detail":"Not found","data":[]}"#),
        }
    })
    .await
}

fn write_log(f: &FakeHttp) -> Vec<String> {
    writes(f)
        .iter()
        .map(|r| format!("{} {} {}", r.method, r.target, r.json()))
        .collect()
}

#[tokio::test]
async fn create_probes_the_zone_and_pages() {
    let f = fake(hand_made()).await;
    let out = update(
        &build(&cfg(&f.url(""))),
        "home.sub.example.com",
        RecordType::A,
        "198.51.100.7",
        Some(600),
    )
    .await
    .unwrap();
    assert_eq!(out, UpdateOutcome::Updated { record_id: None });
    let reqs = f.requests();
    let targets: Vec<&str> = reqs.iter().map(|r| r.target.as_str()).collect();
    assert_eq!(
        targets,
        [
            "/dns/records/home.sub.example.com?take=100&skip=0",
            "/dns/records/sub.example.com?take=100&skip=0",
            "/dns/records/example.com?take=100&skip=0",
            "/dns/records/example.com?take=100&skip=100",
            "/dns/records/example.com",
        ]
    );
    let put = reqs.last().unwrap();
    assert_eq!(put.method, "PUT");
    assert!(put.headers["content-type"].starts_with("application/json"));
    assert_eq!(
        put.json(),
        json!({ "force": true, "items": [{ "type": "A", "name": "home.sub", "address": "198.51.100.7", "ttl": 600 }] })
    );
}

#[tokio::test]
async fn update_adds_then_removes_and_unchanged() {
    let mut records = hand_made();
    records.push(a("home", "A", "198.51.100.6"));
    records.push(a("home", "A", "198.51.100.5"));
    let f = fake(records).await;
    update(
        &build(&format!("{}\nzone = \"example.com\"", cfg(&f.url("")))),
        "home.example.com",
        RecordType::A,
        "198.51.100.7",
        None,
    )
    .await
    .unwrap();
    assert_eq!(
        write_log(&f),
        [
            r#"PUT /dns/records/example.com {"force":true,"items":[{"address":"198.51.100.7","name":"home","ttl":1800,"type":"A"}]}"#,
            r#"DELETE /dns/records/example.com [{"address":"198.51.100.6","name":"home","type":"A"}]"#,
            r#"DELETE /dns/records/example.com [{"address":"198.51.100.5","name":"home","type":"A"}]"#,
        ]
    );

    let mut records = hand_made();
    records.push(a("home", "A", "198.51.100.7"));
    let f = fake(records).await;
    let out = update(
        &build(&cfg(&f.url(""))),
        "home.example.com",
        RecordType::A,
        "198.51.100.7",
        None,
    )
    .await
    .unwrap();
    assert_eq!(out, UpdateOutcome::Unchanged { record_id: None });
    assert!(write_log(&f).is_empty());

    // The apex is `@`; the AAAA hand-made at `home` is not the apex's.
    let f = fake(hand_made()).await;
    update(
        &build(&cfg(&f.url(""))),
        "example.com",
        RecordType::Aaaa,
        "2001:db8::7",
        None,
    )
    .await
    .unwrap();
    assert_eq!(
        write_log(&f),
        [
            r#"PUT /dns/records/example.com {"force":true,"items":[{"address":"2001:db8::7","name":"@","type":"AAAA"}]}"#
        ]
    );
}

#[tokio::test]
async fn failures() {
    common_failures(
        cfg,
        Reply::status(401, r#"{"detail":"Unauthorized","data":[]}"#),
        "home.example.com",
    )
    .await;
    // 429 without Retry-After: the rate window.
    let f = FakeHttp::start(|_| Reply::status(429, r#"{"detail":"Too many requests","data":[]}"#))
        .await;
    let err = update(
        &build(&cfg(&f.url(""))),
        "home.example.com",
        RecordType::A,
        "198.51.100.1",
        None,
    )
    .await
    .unwrap_err();
    assert_eq!(
        err.class,
        ErrorClass::RateLimited {
            retry_after: Some(300)
        },
        "{err:?}"
    );
    // 403: the key lacks dnsrecords:write.
    let f = FakeHttp::start(|r| match r.method.as_str() {
        "GET" => json_reply(&json!({ "items": [], "total": 0 })),
        _ => Reply::status(403, r#"{"detail":"Forbidden","data":[]}"#),
    })
    .await;
    let err = update(
        &build(&cfg(&f.url(""))),
        "home.example.com",
        RecordType::A,
        "198.51.100.1",
        None,
    )
    .await
    .unwrap_err();
    assert_eq!(err.class, ErrorClass::Auth, "{err:?}");
    // 400 with field details: rejected, quoted.
    let f = FakeHttp::start(|r| match r.method.as_str() {
        "GET" => json_reply(&json!({ "items": [], "total": 0 })),
        _ => Reply::status(400, r#"{"detail":"Validation failed","data":[{"field":"items[0].ttl","details":"must be between 60 and 3600"}]}"#)
            .with_header("Spaceship-Error-Code", "ValidationError"),
    })
    .await;
    let err = update(
        &build(&cfg(&f.url(""))),
        "home.example.com",
        RecordType::A,
        "198.51.100.1",
        None,
    )
    .await
    .unwrap_err();
    assert_eq!(err.class, ErrorClass::Rejected, "{err:?}");
    assert!(
        err.message.contains("ValidationError") && err.message.contains("items[0].ttl"),
        "{err:?}"
    );
    // No suffix is served by Spaceship.
    let f = fake(vec![]).await;
    let err = update(
        &build(&cfg(&f.url(""))),
        "home.example.org",
        RecordType::A,
        "198.51.100.1",
        None,
    )
    .await
    .unwrap_err();
    assert_eq!(err.class, ErrorClass::Rejected, "{err:?}");
}

/// "Test" names the domains the credential sees (`GET /domains`, both pages, with the key pair, A-labels as
/// listed), beside the check; a name in no domain fails with the domains still shown.
#[tokio::test]
async fn test_lists_the_domains_the_credential_sees() {
    let mut records = hand_made();
    records.push(a("home", "A", "198.51.100.7"));
    let f = fake(records).await;
    let p = build(&cfg(&f.url("")));
    let said = ddns_tray::provider::test(p.as_ref(), "home.example.com", RecordType::A)
        .await
        .unwrap();
    let (check, zones) = said.split_once('\n').unwrap();
    assert_eq!(
        check,
        "credentials accepted; zone example.com; home.example.com A holds 198.51.100.7"
    );
    assert!(
        zones.starts_with(
            "domains this credential can see (104): example.com, s000.dev, s001.dev, "
        ),
        "{zones}"
    );
    assert!(zones.ends_with(" and 92 more"), "{zones}");
    let lists: Vec<String> = f
        .requests()
        .iter()
        .filter(|r| r.path() == "/domains")
        .map(|r| {
            assert_eq!(r.headers["x-api-key"], "shipkey1");
            assert_eq!(r.headers["x-api-secret"], SECRET);
            format!("{} {}", r.method, r.target)
        })
        .collect();
    assert_eq!(
        lists,
        [
            "GET /domains?take=100&skip=0",
            "GET /domains?take=100&skip=100"
        ]
    );

    let err = ddns_tray::provider::test(p.as_ref(), "home.example.org", RecordType::A)
        .await
        .unwrap_err();
    assert!(
        err.contains("Spaceship serves no domain holding home.example.org"),
        "{err}"
    );
    assert!(
        err.contains("\ndomains this credential can see (104): "),
        "{err}"
    );
}
