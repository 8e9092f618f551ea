//! Linode API v4 DNS Manager, from docs/providers/linode.md (Linode's `OpenAPI` description): domains found
//! with `X-Filter: {"domain": …}`, records paged (`page`, `pages`; past the end the last page comes again),
//! `POST` and partial `PUT` answer the record (200), `DELETE` answers `{}`; TTLs snap to a fixed list;
//! errors `{"errors":[{"field","reason"}]}`.

use std::sync::{Arc, Mutex};

use super::*;

const TOKEN: &str = "linode-s3cret-pat";
const TTLS: [u64; 12] = [
    300, 3600, 7200, 14400, 28800, 57600, 86400, 172_800, 345_600, 604_800, 1_209_600, 2_419_200,
];

fn cfg(endpoint: &str) -> String {
    format!("kind = \"linode\"\ntoken = \"{TOKEN}\"\nendpoint = \"{endpoint}\"")
}

/// Linode rounds a record TTL to the nearest valid value.
fn snap(ttl: u64) -> u64 {
    *TTLS.iter().min_by_key(|t| t.abs_diff(ttl)).unwrap()
}

/// Domain `example.com` (id 1234, active master) holding `records`, served two per page. Writes change the
/// store.
async fn fake(records: Vec<Value>, status: &'static str) -> (FakeHttp, Arc<Mutex<Vec<Value>>>) {
    let store = Arc::new(Mutex::new(records));
    let s = store.clone();
    let f = FakeHttp::start(move |r| {
        assert_eq!(r.headers["authorization"], format!("Bearer {TOKEN}"));
        let mut store = s.lock().unwrap();
        let base = "/domains/1234/records";
        match (r.method.as_str(), r.path()) {
            // Without a filter every domain (150, one a slave), 100 a page whatever `page_size` asks.
            ("GET", "/domains") if !r.headers.contains_key("x-filter") => {
                let q = r.query();
                assert_eq!(q["page_size"], "500");
                let page: usize = q["page"].parse().unwrap();
                let mut all: Vec<Value> = (0..148)
                    .map(|i| json!({ "id": 2000 + i, "domain": format!("li{i:03}.org"), "type": "master", "status": "active" }))
                    .collect();
                all.push(json!({ "id": 1234, "domain": "example.com", "type": "master", "status": status }));
                all.push(json!({ "id": 1235, "domain": "secondary.example.net", "type": "slave", "status": "active" }));
                let data: Vec<Value> = all.iter().skip((page - 1) * 100).take(100).cloned().collect();
                json_reply(&json!({ "data": data, "page": page, "pages": 2, "results": all.len() }))
            }
            ("GET", "/domains") => {
                let filter: Value = serde_json::from_str(&r.headers["x-filter"]).unwrap();
                let data = if filter == json!({ "domain": "example.com" }) {
                    vec![json!({ "id": 1234, "domain": "example.com", "type": "master", "status": status, "ttl_sec": 0 })]
                } else {
                    vec![]
                };
                json_reply(
                    &json!({ "data": data, "page": 1, "pages": 1, "results": data.len() }),
                )
            }
            ("GET", p) if p == base => {
                let q = r.query();
                assert_eq!(q["page_size"], "500");
                let pages = store.len().div_ceil(2).max(1);
                // Past the end: the last page again.
                let page = q["page"].parse::<usize>().unwrap().min(pages);
                let data: Vec<Value> = store.iter().skip((page - 1) * 2).take(2).cloned().collect();
                json_reply(
                    &json!({ "data": data, "page": page, "pages": pages, "results": store.len() }),
                )
            }
            ("POST", p) if p == base => {
                let mut rec = r.json();
                rec["id"] = json!(900);
                if let Some(t) = rec["ttl_sec"].as_u64() {
                    rec["ttl_sec"] = json!(snap(t));
                }
                store.push(rec.clone());
                json_reply(&rec)
            }
            ("PUT", p) => {
                let id: u64 = p.rsplit('/').next().unwrap().parse().unwrap();
                let Some(rec) = store.iter_mut().find(|x| x["id"] == id) else {
                    return Reply::status(404, r#"{"errors":[{"reason":"Not found"}]}"#);
                };
                for (k, v) in r.json().as_object().unwrap() {
                    rec[k] = if k == "ttl_sec" {
                        json!(snap(v.as_u64().unwrap()))
                    } else {
                        v.clone()
                    };
                }
                json_reply(rec)
            }
            ("DELETE", p) => {
                let id: u64 = p.rsplit('/').next().unwrap().parse().unwrap();
                store.retain(|x| x["id"] != id);
                json_reply(&json!({}))
            }
            _ => Reply::status(404, r#"{"errors":[{"reason":"Not found"}]}"#),
        }
    })
    .await;
    (f, store)
}

/// Records the user made by hand: other names, other types.
fn hand_made() -> Vec<Value> {
    vec![
        json!({ "id": 1, "type": "A", "name": "www", "target": "192.0.2.80", "ttl_sec": 3600 }),
        json!({ "id": 2, "type": "TXT", "name": "home", "target": "v=spf1 -all", "ttl_sec": 3600 }),
        json!({ "id": 3, "type": "AAAA", "name": "home", "target": "2001:db8::5", "ttl_sec": 3600 }),
        json!({ "id": 4, "type": "A", "name": "", "target": "192.0.2.1", "ttl_sec": 3600 }),
        json!({ "id": 5, "type": "A", "name": "myhome", "target": "192.0.2.9", "ttl_sec": 3600 }),
    ]
}

#[tokio::test]
async fn create_then_rounded_ttl_is_not_rewritten() {
    let (f, store) = fake(hand_made(), "active").await;
    let p = build(&cfg(&f.url("")));
    let out = update(
        &p,
        "home.example.com",
        RecordType::A,
        "198.51.100.7",
        Some(600),
    )
    .await
    .unwrap();
    assert_eq!(
        out,
        UpdateOutcome::Updated {
            record_id: Some("900".into())
        }
    );
    let reqs = f.requests();
    let domains: Vec<&str> = reqs
        .iter()
        .filter(|r| r.path() == "/domains")
        .map(|r| r.headers["x-filter"].as_str())
        .collect();
    assert_eq!(
        domains,
        [
            r#"{"domain":"home.example.com"}"#,
            r#"{"domain":"example.com"}"#
        ]
    );
    let pages: Vec<&str> = reqs
        .iter()
        .filter(|r| r.path() == "/domains/1234/records" && r.method == "GET")
        .map(|r| r.target.as_str())
        .collect();
    assert_eq!(
        pages,
        [
            "/domains/1234/records?page=1&page_size=500",
            "/domains/1234/records?page=2&page_size=500",
            "/domains/1234/records?page=3&page_size=500",
        ],
        "every page is read, and no page past `pages`"
    );
    let post = writes(&f).pop().unwrap();
    assert_eq!(post.path(), "/domains/1234/records");
    assert_eq!(
        post.json(),
        json!({ "type": "A", "name": "home", "target": "198.51.100.7", "ttl_sec": 600 })
    );
    assert_eq!(store.lock().unwrap().last().unwrap()["ttl_sec"], 300);

    // The next round: the same address and TTL; Linode holds 300 for the 600 asked: nothing is written.
    p.begin_round();
    let out = update(
        &p,
        "home.example.com",
        RecordType::A,
        "198.51.100.7",
        Some(600),
    )
    .await
    .unwrap();
    assert_eq!(
        out,
        UpdateOutcome::Unchanged {
            record_id: Some("900".into())
        }
    );
    assert_eq!(writes(&f).len(), 1);
}

#[tokio::test]
async fn update_keeps_hand_made_records() {
    let mut records = hand_made();
    records.push(
        json!({ "id": 11, "type": "A", "name": "home", "target": "198.51.100.1", "ttl_sec": 300 }),
    );
    records.push(
        json!({ "id": 12, "type": "A", "name": "home", "target": "198.51.100.2", "ttl_sec": 300 }),
    );
    let (f, store) = fake(records, "active").await;
    let p = build(&format!("{}\nzone = \"example.com\"", cfg(&f.url(""))));
    let out = update(&p, "home.example.com", RecordType::A, "198.51.100.7", None)
        .await
        .unwrap();
    assert_eq!(
        out,
        UpdateOutcome::Updated {
            record_id: Some("11".into())
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
                "PUT".into(),
                "/domains/1234/records/11".into(),
                json!({ "target": "198.51.100.7" })
            ),
            (
                "DELETE".into(),
                "/domains/1234/records/12".into(),
                Value::Null
            ),
        ]
    );
    let left = store.lock().unwrap().clone();
    for h in hand_made() {
        assert!(left.contains(&h), "hand-made record {h} kept");
    }

    // The apex is "" on the wire.
    let (f, _) = fake(hand_made(), "active").await;
    let p = build(&cfg(&f.url("")));
    update(&p, "example.com", RecordType::A, "198.51.100.9", None)
        .await
        .unwrap();
    let w = writes(&f);
    assert_eq!(
        (w.len(), w[0].method.as_str(), w[0].path()),
        (1, "PUT", "/domains/1234/records/4")
    );
}

#[tokio::test]
async fn failures() {
    common_failures(
        cfg,
        Reply::status(401, r#"{"errors":[{"reason":"Invalid Token"}]}"#),
        "home.example.com",
    )
    .await;
    let cases: Vec<(Reply, ErrorClass)> = vec![
        (
            Reply::status(
                403,
                r#"{"errors":[{"reason":"Your OAuth token is not authorized to use this endpoint."}]}"#,
            ),
            ErrorClass::Auth,
        ),
        (
            Reply::status(
                400,
                r#"{"errors":[{"field":"target","reason":"Invalid IPv4 address"}]}"#,
            ),
            ErrorClass::Rejected,
        ),
    ];
    for (reply, class) in cases {
        let f = FakeHttp::start(move |_| reply.clone()).await;
        let err = update(
            &build(&cfg(&f.url(""))),
            "home.example.com",
            RecordType::A,
            "198.51.100.1",
            None,
        )
        .await
        .unwrap_err();
        assert_eq!(err.class, class, "{err:?}");
    }
    let (f, _) = fake(hand_made(), "disabled").await;
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
    assert!(err.message.contains("disabled"), "{err:?}");
    assert!(writes(&f).is_empty());
}

#[test]
fn ttl_below_300_is_a_config_error() {
    let text = "[[provider]]\nname = \"p\"\nkind = \"linode\"\ntoken = \"t\"\n\n\
                [[record]]\nname = \"home.example.com\"\nprovider = \"p\"\ntype = \"A\"\nttl = 120\n";
    let issues = load_str(text, &|_: &str| None).unwrap_err();
    assert!(
        issues
            .iter()
            .any(|i| i.path.ends_with(".ttl") && i.message.contains("300")),
        "{issues:#?}"
    );
    assert!(load_str(&text.replace("ttl = 120", "ttl = 300"), &|_: &str| None).is_ok());
}

/// "Test" names every domain the credential sees (`GET /domains` without `X-Filter`, both pages, with the
/// bearer token), beside the check; a name in no domain fails with the domains still shown.
#[tokio::test]
async fn test_lists_the_domains_the_credential_sees() {
    let (f, _) = fake(
        vec![json!({ "id": 7, "type": "A", "name": "home", "target": "198.51.100.7", "ttl_sec": 300 })],
        "active",
    )
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
            "domains this credential can see (150): example.com, li000.org, li001.org, "
        ),
        "{zones}"
    );
    assert!(zones.ends_with(" and 138 more"), "{zones}");
    let lists: Vec<String> = f
        .requests()
        .iter()
        .filter(|r| r.path() == "/domains" && !r.headers.contains_key("x-filter"))
        .map(|r| format!("{} {}", r.method, r.target))
        .collect();
    assert_eq!(
        lists,
        [
            "GET /domains?page=1&page_size=500",
            "GET /domains?page=2&page_size=500"
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
