//! Vultr API v2 DNS, from docs/providers/vultr.md (Vultr's reference and its Go SDK's fixtures): domains
//! probed with `GET /v2/domains/{domain}`, records listed without a name filter and paged by the opaque cursor
//! in `meta.links.next` (`""` at the end), `POST` 201 `{"record":…}`, `PATCH` 204, `DELETE` 204; errors
//! `{"error","status"}`.

use std::sync::{Arc, Mutex};

use super::*;

const TOKEN: &str = "VULTRs3cretKEY";

fn cfg(endpoint: &str) -> String {
    format!("kind = \"vultr\"\ntoken = \"{TOKEN}\"\nendpoint = \"{endpoint}\"")
}

/// Domain `example.com` holding `records`, two per page with the cursor `c<offset>`. Writes change the store.
async fn fake(records: Vec<Value>) -> (FakeHttp, Arc<Mutex<Vec<Value>>>) {
    let store = Arc::new(Mutex::new(records));
    let s = store.clone();
    let f = FakeHttp::start(move |r| {
        assert_eq!(r.headers["authorization"], format!("Bearer {TOKEN}"));
        let mut store = s.lock().unwrap();
        let base = "/domains/example.com/records";
        match (r.method.as_str(), r.path()) {
            // 150 domains, 100 a page whatever `per_page` asks, the cursor `d<offset>` in `meta.links.next`.
            ("GET", "/domains") => {
                let q = r.query();
                assert_eq!(q["per_page"], "500");
                let from: usize = q.get("cursor").map_or(0, |c| c.strip_prefix('d').unwrap().parse().unwrap());
                let mut all: Vec<String> = (0..149).map(|i| format!("vu{i:03}.io")).collect();
                all.push("example.com".into());
                let data: Vec<Value> = all.iter().skip(from).take(100).map(|d| json!({ "domain": d, "date_created": "2020-10-10T01:56:20+00:00", "dns_sec": "disabled" })).collect();
                let next = if from + 100 < all.len() { format!("d{}", from + 100) } else { String::new() };
                json_reply(&json!({ "domains": data, "meta": { "total": all.len(), "links": { "next": next, "prev": "" } } }))
            }
            ("GET", "/domains/example.com") => json_reply(
                &json!({ "domain": { "domain": "example.com", "date_created": "2020-10-10T01:56:20+00:00", "dns_sec": "disabled" } }),
            ),
            ("GET", p) if p == base => {
                let q = r.query();
                assert_eq!(q["per_page"], "500");
                let from: usize = q
                    .get("cursor")
                    .map_or(0, |c| c.strip_prefix('c').unwrap().parse().unwrap());
                let data: Vec<Value> = store.iter().skip(from).take(2).cloned().collect();
                let next = if from + 2 < store.len() {
                    format!("c{}", from + 2)
                } else {
                    String::new()
                };
                json_reply(&json!({ "records": data, "meta": { "total": store.len(), "links": { "next": next, "prev": "" } } }))
            }
            ("GET", _) => Reply::status(404, r#"{"error":"Invalid domain.","status":404}"#),
            ("POST", p) if p == base => {
                let mut rec = r.json();
                rec["id"] = json!("new-uuid");
                rec["priority"] = json!(0);
                store.push(rec.clone());
                Reply::status(201, json!({ "record": rec }).to_string())
            }
            ("PATCH", p) => {
                let id = p.rsplit('/').next().unwrap();
                let Some(rec) = store.iter_mut().find(|x| x["id"] == id) else {
                    return Reply::status(404, r#"{"error":"Invalid record.","status":404}"#);
                };
                for (k, v) in r.json().as_object().unwrap() {
                    rec[k] = v.clone();
                }
                Reply::status(204, "")
            }
            ("DELETE", p) => {
                let id = p.rsplit('/').next().unwrap().to_owned();
                store.retain(|x| x["id"] != id.as_str());
                Reply::status(204, "")
            }
            _ => Reply::status(404, r#"{"error":"Not found","status":404}"#),
        }
    })
    .await;
    (f, store)
}

/// Records the user made by hand: other names, other types.
fn hand_made() -> Vec<Value> {
    vec![
        json!({ "id": "h1", "type": "A", "name": "www", "data": "192.0.2.80", "priority": 0, "ttl": 300 }),
        json!({ "id": "h2", "type": "TXT", "name": "home", "data": "v=spf1 -all", "priority": 0, "ttl": 300 }),
        json!({ "id": "h3", "type": "AAAA", "name": "home", "data": "2001:db8::5", "priority": 0, "ttl": 300 }),
        json!({ "id": "h4", "type": "A", "name": "", "data": "192.0.2.1", "priority": 0, "ttl": 300 }),
        json!({ "id": "h5", "type": "A", "name": "myhome", "data": "192.0.2.9", "priority": 0, "ttl": 300 }),
    ]
}

#[tokio::test]
async fn create_update_unchanged_with_cursor_pages() {
    let (f, store) = fake(hand_made()).await;
    let p = build(&cfg(&f.url("")));
    let out = update(
        &p,
        "home.example.com",
        RecordType::A,
        "198.51.100.7",
        Some(120),
    )
    .await
    .unwrap();
    assert_eq!(
        out,
        UpdateOutcome::Updated {
            record_id: Some("new-uuid".into())
        }
    );
    let targets: Vec<String> = f
        .requests()
        .iter()
        .map(|r| format!("{} {}", r.method, r.target))
        .collect();
    assert_eq!(
        targets,
        [
            "GET /domains/home.example.com",
            "GET /domains/example.com",
            "GET /domains/example.com/records?per_page=500",
            "GET /domains/example.com/records?per_page=500&cursor=c2",
            "GET /domains/example.com/records?per_page=500&cursor=c4",
            "POST /domains/example.com/records",
        ]
    );
    assert_eq!(
        writes(&f)[0].json(),
        json!({ "name": "home", "type": "A", "data": "198.51.100.7", "ttl": 120 })
    );
    assert_eq!(store.lock().unwrap().len(), 6);

    let mut records = hand_made();
    records.push(json!({ "id": "r1", "type": "A", "name": "home", "data": "198.51.100.1", "priority": 0, "ttl": 300 }));
    records.push(json!({ "id": "r2", "type": "A", "name": "home", "data": "198.51.100.2", "priority": 0, "ttl": 300 }));
    let (f, store) = fake(records).await;
    let p = build(&format!("{}\nzone = \"example.com\"", cfg(&f.url(""))));
    let out = update(&p, "home.example.com", RecordType::A, "198.51.100.7", None)
        .await
        .unwrap();
    assert_eq!(
        out,
        UpdateOutcome::Updated {
            record_id: Some("r1".into())
        }
    );
    let w: Vec<(String, String, Value)> = writes(&f)
        .into_iter()
        .map(|r| (r.method.clone(), r.path().to_owned(), r.json()))
        .collect();
    assert_eq!(
        w,
        [
            (
                "PATCH".into(),
                "/domains/example.com/records/r1".into(),
                json!({ "data": "198.51.100.7" })
            ),
            (
                "DELETE".into(),
                "/domains/example.com/records/r2".into(),
                Value::Null
            ),
        ]
    );
    let left = store.lock().unwrap().clone();
    for h in hand_made() {
        assert!(left.contains(&h), "hand-made record {h} kept");
    }

    // Unchanged: nothing written; the apex is "" on the wire.
    let (f, _) = fake(hand_made()).await;
    let out = update(
        &build(&cfg(&f.url(""))),
        "example.com",
        RecordType::A,
        "192.0.2.1",
        None,
    )
    .await
    .unwrap();
    assert_eq!(
        out,
        UpdateOutcome::Unchanged {
            record_id: Some("h4".into())
        }
    );
    assert!(writes(&f).is_empty());
}

#[tokio::test]
async fn failures() {
    common_failures(
        cfg,
        Reply::status(
            401,
            r#"{"error":"Invalid API token or IP address.","status":401}"#,
        ),
        "home.example.com",
    )
    .await;
    let cases: Vec<(Reply, ErrorClass)> = vec![
        (
            Reply::status(403, r#"{"error":"Unauthorized","status":403}"#),
            ErrorClass::Auth,
        ),
        (
            Reply::status(
                400,
                r#"{"error":"Invalid data for an A record","status":400}"#,
            ),
            ErrorClass::Rejected,
        ),
        (
            Reply::status(429, r#"{"error":"Rate limit reached","status":429}"#),
            ErrorClass::RateLimited { retry_after: None },
        ),
    ];
    for (reply, class) in cases {
        let f = FakeHttp::start(move |_| reply.clone()).await;
        let err = update(
            &build(&format!("{}\nzone = \"example.com\"", cfg(&f.url("")))),
            "home.example.com",
            RecordType::A,
            "198.51.100.1",
            None,
        )
        .await
        .unwrap_err();
        assert_eq!(err.class, class, "{err:?}");
    }
    // No domain of the account holds the name.
    let (f, _) = fake(hand_made()).await;
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

/// "Test" names the domains the credential sees (`GET /domains`, both pages by the cursor, with the bearer
/// key), beside the check; a name in no domain fails with the domains still shown.
#[tokio::test]
async fn test_lists_the_domains_the_credential_sees() {
    let (f, _) = fake(vec![
        json!({ "id": "r7", "type": "A", "name": "home", "data": "198.51.100.7", "ttl": 300, "priority": 0 }),
    ])
    .await;
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
            "domains this credential can see (150): example.com, vu000.io, vu001.io, "
        ),
        "{zones}"
    );
    assert!(zones.ends_with(" and 138 more"), "{zones}");
    let lists: Vec<String> = f
        .requests()
        .iter()
        .filter(|r| r.path() == "/domains")
        .map(|r| format!("{} {}", r.method, r.target))
        .collect();
    assert_eq!(
        lists,
        [
            "GET /domains?per_page=500",
            "GET /domains?per_page=500&cursor=d100"
        ]
    );

    let err = ddns_tray::provider::test(p.as_ref(), "home.example.org", RecordType::A)
        .await
        .unwrap_err();
    assert!(
        err.contains("no domain of this account holds home.example.org"),
        "{err}"
    );
    assert!(
        err.contains("\ndomains this credential can see (150): "),
        "{err}"
    );
}
