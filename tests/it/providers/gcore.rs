//! Gcore Managed DNS API v2, from docs/providers/gcore.md (Gcore's API reference as copied into lego's
//! fixtures): zones probed with `GET /v2/zones/{zone}`, one `RRset` per FQDN and type at
//! `/v2/zones/{zone}/{fqdn}/{type}` (`GET` 404 when absent, `POST` creates, `PUT` replaces, `DELETE`);
//! `Authorization: APIKey <token>`; errors `{"error": …}`.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use super::*;

const TOKEN: &str = "29841$c767s3cret";

fn cfg(endpoint: &str) -> String {
    format!("kind = \"gcore\"\ntoken = \"{TOKEN}\"\nendpoint = \"{endpoint}\"")
}

type Sets = Arc<Mutex<BTreeMap<String, Value>>>;

/// Zone `example.com` with `sets` keyed `<fqdn>/<type>`. Writes change the store.
async fn fake(sets: Vec<(&str, Value)>) -> (FakeHttp, Sets) {
    let store: Sets = Arc::new(Mutex::new(
        sets.into_iter().map(|(k, v)| (k.to_owned(), v)).collect(),
    ));
    let s = store.clone();
    let f = FakeHttp::start(move |r| {
        assert_eq!(r.headers["authorization"], format!("APIKey {TOKEN}"));
        let mut store = s.lock().unwrap();
        let not_found = || Reply::status(404, r#"{"error":"record is not found"}"#);
        match (r.method.as_str(), r.path()) {
            // 1002 zones, paged by `limit`/`offset`, `total_amount` as documented.
            ("GET", "/v2/zones") => {
                let q = r.query();
                let (limit, offset): (usize, usize) = (q["limit"].parse().unwrap(), q["offset"].parse().unwrap());
                let mut all: Vec<Value> = (0..1001).map(|i| json!({ "id": 100 + i, "name": format!("gc{i:04}.eu"), "records_count": 2 })).collect();
                all.push(json!({ "id": 7, "name": "example.com", "records_count": 2 }));
                let zones: Vec<&Value> = all.iter().skip(offset).take(limit).collect();
                json_reply(&json!({ "zones": zones, "total_amount": all.len() }))
            }
            ("GET", "/v2/zones/example.com") => {
                json_reply(&json!({ "id": 7, "name": "example.com", "records": [] }))
            }
            ("GET", p) if p.matches('/').count() == 3 => {
                Reply::status(404, r#"{"error":"zone is not found"}"#)
            }
            (m, p) if p.starts_with("/v2/zones/example.com/") => {
                let key = p.trim_start_matches("/v2/zones/example.com/").to_owned();
                match m {
                    "GET" => store.get(&key).map_or_else(not_found, json_reply),
                    "POST" if store.contains_key(&key) => {
                        Reply::status(409, r#"{"error":"rrset is already exists"}"#)
                    }
                    "POST" => {
                        store.insert(key, r.json());
                        json_reply(&r.json()["resource_records"])
                    }
                    "PUT" if store.contains_key(&key) => {
                        store.insert(key.clone(), r.json());
                        json_reply(&store[&key])
                    }
                    "DELETE" => match store.remove(&key) {
                        Some(_) => Reply::status(204, ""),
                        None => not_found(),
                    },
                    _ => not_found(),
                }
            }
            _ => not_found(),
        }
    })
    .await;
    (f, store)
}

fn set(ttl: u32, ips: &[&str]) -> Value {
    let records: Vec<Value> = ips
        .iter()
        .map(|ip| json!({ "id": 42, "content": [ip], "enabled": true, "meta": {} }))
        .collect();
    json!({ "ttl": ttl, "resource_records": records, "meta": {} })
}

/// Sets the user made by hand: other names, other types.
fn hand_made() -> Vec<(&'static str, Value)> {
    vec![
        ("www.example.com/A", set(300, &["192.0.2.80"])),
        ("home.example.com/AAAA", set(300, &["2001:db8::5"])),
        (
            "home.example.com/TXT",
            json!({ "ttl": 300, "resource_records": [{ "content": ["v=spf1 -all"] }] }),
        ),
    ]
}

#[tokio::test]
async fn create_update_unchanged() {
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
    assert_eq!(out, UpdateOutcome::Updated { record_id: None });
    let targets: Vec<String> = f
        .requests()
        .iter()
        .map(|r| format!("{} {}", r.method, r.target))
        .collect();
    assert_eq!(
        targets,
        [
            "GET /v2/zones/home.example.com",
            "GET /v2/zones/example.com",
            "GET /v2/zones/example.com/home.example.com/A",
            "POST /v2/zones/example.com/home.example.com/A",
        ]
    );
    assert_eq!(
        writes(&f)[0].json(),
        json!({ "ttl": 120, "resource_records": [{ "content": ["198.51.100.7"], "enabled": true }] })
    );

    // Two addresses in the set: replaced by one, keeping the set's TTL.
    let mut sets = hand_made();
    sets.push((
        "home.example.com/A",
        set(600, &["198.51.100.1", "198.51.100.2"]),
    ));
    let (f, store2) = fake(sets).await;
    let p = build(&format!("{}\nzone = \"example.com\"", cfg(&f.url(""))));
    update(&p, "home.example.com", RecordType::A, "198.51.100.7", None)
        .await
        .unwrap();
    let w: Vec<(String, String, Value)> = writes(&f)
        .into_iter()
        .map(|r| (r.method.clone(), r.path().to_owned(), r.json()))
        .collect();
    assert_eq!(
        w,
        [(
            "PUT".into(),
            "/v2/zones/example.com/home.example.com/A".into(),
            json!({ "ttl": 600, "resource_records": [{ "content": ["198.51.100.7"], "enabled": true }] })
        )]
    );
    for (k, v) in hand_made() {
        assert_eq!(store2.lock().unwrap()[k], v, "hand-made set {k} kept");
    }
    drop(store);

    // The apex is addressed by the zone's name; already holding the address: nothing written.
    let mut sets = hand_made();
    sets.push(("example.com/A", set(300, &["192.0.2.1"])));
    let (f, _) = fake(sets).await;
    let out = update(
        &build(&cfg(&f.url(""))),
        "example.com",
        RecordType::A,
        "192.0.2.1",
        None,
    )
    .await
    .unwrap();
    assert!(matches!(out, UpdateOutcome::Unchanged { .. }), "{out:?}");
    assert!(
        f.requests()
            .iter()
            .any(|r| r.path() == "/v2/zones/example.com/example.com/A")
    );
    assert!(writes(&f).is_empty());
}

#[tokio::test]
async fn balanced_sets_are_not_touched() {
    let mut sets = hand_made();
    sets.push((
        "home.example.com/A",
        json!({ "ttl": 60, "resource_records": [{ "content": ["198.51.100.1"], "meta": { "countries": ["DE"] } }],
                "pickers": [{ "type": "geodns", "strict": true }] }),
    ));
    let (f, _) = fake(sets).await;
    let err = update(
        &build(&cfg(&f.url(""))),
        "home.example.com",
        RecordType::A,
        "198.51.100.7",
        None,
    )
    .await
    .unwrap_err();
    assert_eq!(err.class, ErrorClass::Rejected, "{err:?}");
    assert!(writes(&f).is_empty());
}

#[tokio::test]
async fn failures() {
    common_failures(
        cfg,
        Reply::status(401, r#"{"error":"Bad permanent token: 29841"}"#),
        "home.example.com",
    )
    .await;
    for (reply, class) in [
        (
            Reply::status(
                403,
                r#"{"error":"You do not have permission to perform this action."}"#,
            ),
            ErrorClass::Auth,
        ),
        (
            Reply::status(400, r#"{"error":"invalid content for A record"}"#),
            ErrorClass::Rejected,
        ),
    ] {
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
        assert!(!err.message.contains("s3cret"), "{err:?}");
    }
}

#[test]
fn a_token_cut_at_its_dollar_is_a_config_error() {
    let text = "[[provider]]\nname = \"p\"\nkind = \"gcore\"\ntoken = \"29841\"\n";
    let issues = load_str(text, &|_: &str| None).unwrap_err();
    assert!(
        issues.iter().any(|i| i.path.ends_with(".token")),
        "{issues:#?}"
    );
    assert!(load_str(&text.replace("29841", "29841$abc"), &|_: &str| None).is_ok());
}

/// "Test" names the zones the credential sees (`GET /v2/zones`, both pages by `offset`, with the `APIKey`
/// header), beside the check; a name in no zone fails with the zones still shown.
#[tokio::test]
async fn test_lists_the_domains_the_credential_sees() {
    let (f, _) = fake(vec![(
        "home.example.com/A",
        json!({ "ttl": 300, "resource_records": [{ "content": ["198.51.100.7"] }] }),
    )])
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
            "domains this credential can see (1002): example.com, gc0000.eu, gc0001.eu, "
        ),
        "{zones}"
    );
    assert!(zones.ends_with(" and 990 more"), "{zones}");
    let lists: Vec<String> = f
        .requests()
        .iter()
        .filter(|r| r.path() == "/v2/zones")
        .map(|r| format!("{} {}", r.method, r.target))
        .collect();
    assert_eq!(
        lists,
        [
            "GET /v2/zones?limit=1000&offset=0",
            "GET /v2/zones?limit=1000&offset=1000"
        ]
    );

    let err = ddns_tray::provider::test(p.as_ref(), "home.example.org", RecordType::A)
        .await
        .unwrap_err();
    assert!(
        err.contains("no zone of this account holds home.example.org"),
        "{err}"
    );
    assert!(
        err.contains("\ndomains this credential can see (1002): "),
        "{err}"
    );
}
