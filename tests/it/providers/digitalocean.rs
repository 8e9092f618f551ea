//! `DigitalOcean` DNS API v2, from docs/providers/digitalocean.md (the public `OpenAPI` description): domains
//! probed with `GET /v2/domains/{name}`, records listed by FQDN and type with `links.pages.next` (a full URL),
//! `POST` 201 `{"domain_record":…}`, `PATCH` 200, `DELETE` 204; errors `{"id","message"}`.

use std::sync::{Arc, Mutex};

use super::*;

const TOKEN: &str = "dop_v1_s3cret";

fn cfg(endpoint: &str) -> String {
    format!("kind = \"digitalocean\"\ntoken = \"{TOKEN}\"\nendpoint = \"{endpoint}\"")
}

/// The zone `example.com` holding `records` (relative names), served one record per page so that
/// `links.pages.next` must be followed. Writes change the store.
async fn fake(records: Value) -> (FakeHttp, Arc<Mutex<Vec<Value>>>) {
    let store = Arc::new(Mutex::new(records.as_array().unwrap().clone()));
    let port = Arc::new(Mutex::new(0u16));
    let (s, p) = (store.clone(), port.clone());
    let f = FakeHttp::start(move |r| {
        assert_eq!(r.headers["authorization"], format!("Bearer {TOKEN}"));
        let base = "/v2/domains/example.com/records";
        let mut store = s.lock().unwrap();
        match (r.method.as_str(), r.path()) {
            // 150 domains, served 100 a page (`links.pages.next` a full URL) whatever `per_page` asks.
            ("GET", "/v2/domains") => {
                assert_eq!(r.query()["per_page"], "200");
                let page: usize = r.query().get("page").map_or(1, |p| p.parse().unwrap());
                let mut all: Vec<String> = (0..149).map(|i| format!("do{i:03}.net")).collect();
                all.insert(7, "example.com".into());
                let domains: Vec<Value> = all.iter().skip((page - 1) * 100).take(100).map(|d| json!({ "name": d, "ttl": 1800, "zone_file": "" })).collect();
                let mut body = json!({ "domains": domains, "meta": { "total": all.len() } });
                if page == 1 {
                    body["links"] = json!({ "pages": {
                        "last": format!("http://127.0.0.1:{}/v2/domains?page=2&per_page=200", *p.lock().unwrap()),
                        "next": format!("http://127.0.0.1:{}/v2/domains?page=2&per_page=200", *p.lock().unwrap()),
                    } });
                }
                json_reply(&body)
            }
            ("GET", "/v2/domains/example.com") => json_reply(
                &json!({ "domain": { "name": "example.com", "ttl": 1800, "zone_file": "" } }),
            ),
            ("GET", path) if path.starts_with("/v2/domains/") && path.matches('/').count() == 3 => {
                Reply::status(
                    404,
                    r#"{"id":"not_found","message":"The resource you requested could not be found."}"#,
                )
            }
            ("GET", path) if path == base => {
                let q = r.query();
                assert_eq!(q["per_page"], "200");
                let fqdn = q["name"].clone();
                let rel = fqdn
                    .strip_suffix("example.com")
                    .map(|x| x.trim_end_matches('.'))
                    .filter(|x| !x.is_empty())
                    .unwrap_or("@")
                    .to_owned();
                let matching: Vec<Value> = store
                    .iter()
                    .filter(|x| x["name"] == rel.as_str() && x["type"] == q["type"].as_str())
                    .cloned()
                    .collect();
                let page: usize = q.get("page").map_or(1, |p| p.parse().unwrap());
                let mut body = json!({
                    "domain_records": matching.get(page - 1).map_or_else(Vec::new, |x| vec![x.clone()]),
                    "meta": { "total": matching.len() },
                });
                if page < matching.len() {
                    body["links"] = json!({ "pages": { "next": format!(
                        "http://127.0.0.1:{}{base}?name={fqdn}&page={}&per_page=200&type={}",
                        *p.lock().unwrap(), page + 1, q["type"]
                    ) } });
                }
                json_reply(&body)
            }
            ("POST", path) if path == base => {
                let mut rec = r.json();
                rec["id"] = json!(900);
                store.push(rec.clone());
                Reply::status(201, json!({ "domain_record": rec }).to_string())
            }
            ("PATCH", path) => {
                let id: u64 = path.rsplit('/').next().unwrap().parse().unwrap();
                let Some(rec) = store.iter_mut().find(|x| x["id"] == id) else {
                    return Reply::status(404, r#"{"id":"not_found","message":"nope"}"#);
                };
                for (k, v) in r.json().as_object().unwrap() {
                    rec[k] = v.clone();
                }
                json_reply(&json!({ "domain_record": rec }))
            }
            ("DELETE", path) => {
                let id: u64 = path.rsplit('/').next().unwrap().parse().unwrap();
                store.retain(|x| x["id"] != id);
                Reply::status(204, "")
            }
            _ => Reply::status(404, r#"{"id":"not_found","message":"?"}"#),
        }
    })
    .await;
    *port.lock().unwrap() = f.port;
    (f, store)
}

/// Records the user made by hand: other names, other types.
fn hand_made() -> Vec<Value> {
    vec![
        json!({ "id": 1, "type": "A", "name": "www", "data": "192.0.2.80", "ttl": 1800 }),
        json!({ "id": 2, "type": "TXT", "name": "home", "data": "v=spf1 -all", "ttl": 1800 }),
        json!({ "id": 3, "type": "AAAA", "name": "home", "data": "2001:db8::5", "ttl": 1800 }),
        json!({ "id": 4, "type": "A", "name": "@", "data": "192.0.2.1", "ttl": 1800 }),
    ]
}

fn with(records: &[Value]) -> Value {
    let mut all = hand_made();
    all.extend(records.iter().cloned());
    Value::Array(all)
}

#[tokio::test]
async fn create_then_update_with_pages_then_unchanged() {
    let (f, store) = fake(with(&[])).await;
    let p = build(&cfg(&f.url("")));
    let out = update(
        &p,
        "home.example.com",
        RecordType::A,
        "198.51.100.7",
        Some(60),
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
    let targets: Vec<String> = reqs
        .iter()
        .map(|r| format!("{} {}", r.method, r.target))
        .collect();
    assert_eq!(
        targets,
        [
            "GET /v2/domains/home.example.com",
            "GET /v2/domains/example.com",
            "GET /v2/domains/example.com/records?name=home.example.com&type=A&per_page=200",
            "POST /v2/domains/example.com/records",
        ]
    );
    assert_eq!(
        reqs[3].json(),
        json!({ "type": "A", "name": "home", "data": "198.51.100.7", "ttl": 60 })
    );
    assert_eq!(reqs[3].headers["content-type"], "application/json");
    assert_eq!(store.lock().unwrap().len(), 5);

    // Two A records at the name, on two pages: the first is patched, the second deleted; the hand-made
    // records stay.
    let (f, store) = fake(with(&[
        json!({ "id": 11, "type": "A", "name": "home", "data": "198.51.100.1", "ttl": 300 }),
        json!({ "id": 12, "type": "A", "name": "home", "data": "198.51.100.2", "ttl": 300 }),
    ]))
    .await;
    let p = build(&cfg(&f.url("")));
    let out = update(&p, "home.example.com", RecordType::A, "198.51.100.7", None)
        .await
        .unwrap();
    assert_eq!(
        out,
        UpdateOutcome::Updated {
            record_id: Some("11".into())
        }
    );
    let reqs = f.requests();
    assert!(
        reqs.iter().any(|r| r.target
            == "/v2/domains/example.com/records?name=home.example.com&page=2&per_page=200&type=A"),
        "the second page is read from links.pages.next: {reqs:#?}"
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
                "/v2/domains/example.com/records/11".into(),
                json!({ "type": "A", "data": "198.51.100.7" })
            ),
            (
                "DELETE".into(),
                "/v2/domains/example.com/records/12".into(),
                Value::Null
            ),
        ]
    );
    let left = store.lock().unwrap().clone();
    for h in hand_made() {
        assert!(left.contains(&h), "hand-made record {h} kept");
    }
}

#[tokio::test]
async fn unchanged_writes_nothing() {
    // Already holding the address: nothing is written.
    let (f, _) = fake(with(&[
        json!({ "id": 11, "type": "A", "name": "home", "data": "198.51.100.7", "ttl": 300 }),
    ]))
    .await;
    let out = update(
        &build(&cfg(&f.url(""))),
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
            record_id: Some("11".into())
        }
    );
    assert!(writes(&f).is_empty());
}

#[tokio::test]
async fn apex_and_configured_zone() {
    let (f, _) = fake(with(&[])).await;
    let p = build(&format!("{}\nzone = \"example.com\"", cfg(&f.url(""))));
    // The apex's record is `@` (hand-made id 4, 192.0.2.1): it is the one updated.
    update(&p, "example.com", RecordType::A, "198.51.100.9", None)
        .await
        .unwrap();
    let reqs = f.requests();
    assert_eq!(
        reqs[0].target, "/v2/domains/example.com/records?name=example.com&type=A&per_page=200",
        "no domain probe with zone set"
    );
    let w = writes(&f);
    assert_eq!(w.len(), 1);
    assert_eq!(
        (w[0].method.as_str(), w[0].path()),
        ("PATCH", "/v2/domains/example.com/records/4")
    );
}

#[tokio::test]
async fn failures() {
    common_failures(
        cfg,
        Reply::status(
            401,
            r#"{"id":"unauthorized","message":"Unable to authenticate you."}"#,
        ),
        "home.example.com",
    )
    .await;
    let cases: Vec<(Reply, ErrorClass)> = vec![
        (
            Reply::status(
                403,
                r#"{"id":"forbidden","message":"You do not have access for the attempted action."}"#,
            ),
            ErrorClass::Auth,
        ),
        (
            Reply::status(
                422,
                r#"{"id":"unprocessable_entity","message":"Data needs to be a valid IP address."}"#,
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

    // A burst limit without Retry-After: wait until `ratelimit-reset` (epoch seconds).
    let reset = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 120;
    let f = FakeHttp::start(move |_| {
        Reply::status(
            429,
            r#"{"id":"too_many_requests","message":"API Rate limit exceeded."}"#,
        )
        .with_header("ratelimit-reset", &reset.to_string())
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
    match err.class {
        ErrorClass::RateLimited {
            retry_after: Some(s),
        } => assert!((110..=120).contains(&s), "{s}"),
        other => panic!("{other:?}"),
    }
}

/// A next page on another host is not followed (the token stays with the API).
#[tokio::test]
async fn next_page_elsewhere_is_not_followed() {
    let f = FakeHttp::start(|r| match r.path() {
        "/v2/domains/example.com" => json_reply(&json!({ "domain": { "name": "example.com" } })),
        "/v2/domains/example.com/records" => json_reply(&json!({
            "domain_records": [],
            "links": { "pages": { "next": "https://elsewhere.invalid/v2/domains/example.com/records?page=2" } },
        })),
        _ => Reply::status(404, r#"{"id":"not_found","message":"?"}"#),
    })
    .await;
    let err = update(
        &build(&format!("{}\nzone = \"example.com\"", cfg(&f.url("")))),
        "home.example.com",
        RecordType::A,
        "198.51.100.1",
        None,
    )
    .await
    .unwrap_err();
    assert_eq!(err.class, ErrorClass::Transient, "{err:?}");
    assert!(writes(&f).is_empty());
}

#[test]
fn ttl_below_thirty_is_a_config_error() {
    let text = "[[provider]]\nname = \"p\"\nkind = \"digitalocean\"\ntoken = \"t\"\n\n\
                [[record]]\nname = \"home.example.com\"\nprovider = \"p\"\ntype = \"A\"\nttl = 20\n";
    let issues = load_str(text, &|_: &str| None).unwrap_err();
    assert!(
        issues
            .iter()
            .any(|i| i.path.ends_with(".ttl") && i.message.contains("30")),
        "{issues:#?}"
    );
    let ok = text.replace("ttl = 20", "ttl = 30");
    assert!(load_str(&ok, &|_: &str| None).is_ok());
}

/// "Test" names the domains the credential sees (`GET /v2/domains`, both pages by `links.pages.next`, with the
/// bearer token), beside the check; a name in no domain fails with the domains still shown.
#[tokio::test]
async fn test_lists_the_domains_the_credential_sees() {
    let (f, _) = fake(with(&[
        json!({ "id": 7, "type": "A", "name": "home", "data": "198.51.100.7", "ttl": 1800 }),
    ]))
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
        zones.starts_with("domains this credential can see (150): do000.net, do001.net, "),
        "{zones}"
    );
    assert!(zones.ends_with(" and 138 more"), "{zones}");
    let lists: Vec<String> = f
        .requests()
        .iter()
        .filter(|r| r.path() == "/v2/domains")
        .map(|r| format!("{} {}", r.method, r.target))
        .collect();
    assert_eq!(
        lists,
        [
            "GET /v2/domains?per_page=200",
            "GET /v2/domains?page=2&per_page=200"
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
