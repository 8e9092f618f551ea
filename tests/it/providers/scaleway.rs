//! Scaleway Domains and DNS API `domain/v2beta1`, from docs/providers/scaleway.md (Scaleway's reference as
//! generated into its Go SDK): zones listed with `dns_zone=`, records by `name` and `type` paged up to
//! `total_count`, every change one `PATCH …/records` with `changes` (`add`, `set`, `delete`); errors
//! `{"message","type",…}`.

use std::sync::{Arc, Mutex};

use super::*;

const KEY: &str = "11111111-s3cret-4444-5555";

fn cfg(endpoint: &str) -> String {
    format!("kind = \"scaleway\"\nsecret_key = \"{KEY}\"\nendpoint = \"{endpoint}\"")
}

fn matches(rec: &Value, q: &std::collections::BTreeMap<String, String>) -> bool {
    rec["name"] == q["name"].as_str() && rec["type"] == q["type"].as_str()
}

/// Zone `example.com` holding `records`; the record list is served one per page. `PATCH` applies the changes.
async fn fake(records: Vec<Value>) -> (FakeHttp, Arc<Mutex<Vec<Value>>>) {
    let store = Arc::new(Mutex::new(records));
    let s = store.clone();
    let next_id = Arc::new(Mutex::new(0));
    let f = FakeHttp::start(move |r| {
        assert_eq!(r.headers["x-auth-token"], KEY);
        assert!(!r.headers.contains_key("authorization"));
        let mut store = s.lock().unwrap();
        match (r.method.as_str(), r.path()) {
            // Without `dns_zone` every zone of the projects (150, one a sub-zone), 100 a page.
            ("GET", "/dns-zones") if !r.query().contains_key("dns_zone") => {
                let q = r.query();
                assert_eq!(q["page_size"], "100");
                let page: usize = q["page"].parse().unwrap();
                let mut all: Vec<Value> = (0..148).map(|i| json!({ "domain": format!("sw{i:03}.fr"), "subdomain": "", "status": "active" })).collect();
                all.push(json!({ "domain": "example.com", "subdomain": "", "status": "active", "ns": ["ns0.dom.scw.cloud"] }));
                all.push(json!({ "domain": "example.com", "subdomain": "lab", "status": "active" }));
                let zones: Vec<&Value> = all.iter().skip((page - 1) * 100).take(100).collect();
                json_reply(&json!({ "total_count": all.len(), "dns_zones": zones }))
            }
            ("GET", "/dns-zones") => {
                let zones = if r.query()["dns_zone"] == "example.com" {
                    vec![json!({ "domain": "example.com", "subdomain": "", "status": "active", "ns": ["ns0.dom.scw.cloud"] })]
                } else {
                    vec![]
                };
                json_reply(&json!({ "total_count": zones.len(), "dns_zones": zones }))
            }
            ("GET", "/dns-zones/example.com/records") => {
                let q = r.query();
                assert_eq!(q["page_size"], "100");
                let found: Vec<Value> = store.iter().filter(|x| matches(x, &q)).cloned().collect();
                let page: usize = q["page"].parse().unwrap();
                let records: Vec<Value> = found.iter().skip(page - 1).take(1).cloned().collect();
                json_reply(&json!({ "total_count": found.len(), "records": records }))
            }
            ("PATCH", "/dns-zones/example.com/records") => {
                let body = r.json();
                assert_eq!(body["disallow_new_zone_creation"], true);
                assert_eq!(body["return_all_records"], false);
                let mut answered = Vec::new();
                for change in body["changes"].as_array().unwrap() {
                    if let Some(add) = change.get("add") {
                        for rec in add["records"].as_array().unwrap() {
                            let mut rec = rec.clone();
                            *next_id.lock().unwrap() += 1;
                            rec["id"] = json!(format!("new-{}", next_id.lock().unwrap()));
                            store.push(rec.clone());
                            answered.push(rec);
                        }
                    } else if let Some(set) = change.get("set") {
                        let id = set["id"].as_str().unwrap().to_owned();
                        let Some(i) = store.iter().position(|x| x["id"] == id.as_str()) else {
                            return Reply::status(404, r#"{"message":"resource is not found","type":"not_found","resource":"record"}"#);
                        };
                        let mut rec = set["records"][0].clone();
                        rec["id"] = json!(id);
                        store[i] = rec.clone();
                        answered.push(rec);
                    } else if let Some(del) = change.get("delete") {
                        let id = del["id"].as_str().unwrap().to_owned();
                        store.retain(|x| x["id"] != id.as_str());
                    } else {
                        panic!("unexpected change {change}");
                    }
                }
                json_reply(&json!({ "records": answered }))
            }
            _ => Reply::status(404, r#"{"message":"resource is not found","type":"not_found"}"#),
        }
    })
    .await;
    (f, store)
}

/// Records the user made by hand: other names, other types.
fn hand_made() -> Vec<Value> {
    vec![
        json!({ "id": "h1", "type": "A", "name": "www", "data": "192.0.2.80", "ttl": 3600, "priority": 0 }),
        json!({ "id": "h2", "type": "TXT", "name": "home", "data": "\"v=spf1 -all\"", "ttl": 3600, "priority": 0 }),
        json!({ "id": "h3", "type": "AAAA", "name": "home", "data": "2001:db8::5", "ttl": 3600, "priority": 0 }),
        json!({ "id": "h4", "type": "A", "name": "", "data": "192.0.2.1", "ttl": 3600, "priority": 0 }),
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
        Some(300),
    )
    .await
    .unwrap();
    assert_eq!(
        out,
        UpdateOutcome::Updated {
            record_id: Some("new-1".into())
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
            "GET /dns-zones?dns_zone=home.example.com",
            "GET /dns-zones?dns_zone=example.com",
            "GET /dns-zones/example.com/records?name=home&type=A&page=1&page_size=100",
            "PATCH /dns-zones/example.com/records",
        ]
    );
    assert_eq!(
        writes(&f)[0].json(),
        json!({
            "changes": [{ "add": { "records": [{ "name": "home", "type": "A", "data": "198.51.100.7", "ttl": 300 }] } }],
            "return_all_records": false,
            "disallow_new_zone_creation": true,
        })
    );
    assert_eq!(store.lock().unwrap().len(), 5);

    // Two A records at the name (two pages): the first is set by id, keeping its TTL; the second deleted.
    let mut records = hand_made();
    records.push(json!({ "id": "r1", "type": "A", "name": "home", "data": "198.51.100.1", "ttl": 600, "priority": 0 }));
    records.push(json!({ "id": "r2", "type": "A", "name": "home", "data": "198.51.100.2", "ttl": 600, "priority": 0 }));
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
    assert!(
        f.requests()
            .iter()
            .any(|r| r.target
                == "/dns-zones/example.com/records?name=home&type=A&page=2&page_size=100"),
        "the second page is read"
    );
    let changes: Vec<Value> = writes(&f)
        .iter()
        .map(|r| r.json()["changes"].clone())
        .collect();
    assert_eq!(
        changes,
        [
            json!([{ "set": { "id": "r1", "records": [{ "name": "home", "type": "A", "data": "198.51.100.7", "ttl": 600 }] } }]),
            json!([{ "delete": { "id": "r2" } }]),
        ]
    );
    let left = store.lock().unwrap().clone();
    for h in hand_made() {
        assert!(left.contains(&h), "hand-made record {h} kept");
    }

    // The apex ("" on the wire) already holds the address: nothing is written.
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
    assert!(f.requests().iter().any(|r| r.target
        == "/dns-zones/example.com/records?name=&type=A&page=1&page_size=100"));
    assert!(writes(&f).is_empty());
}

#[tokio::test]
async fn dynamic_records_are_not_touched() {
    let mut records = hand_made();
    records.push(json!({ "id": "g1", "type": "A", "name": "home", "data": "198.51.100.1", "ttl": 600,
        "geo_ip_config": { "matches": [{ "countries": ["FR"], "data": "198.51.100.2" }], "default": "198.51.100.1" } }));
    let (f, _) = fake(records).await;
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
        Reply::status(
            401,
            r#"{"message":"authentication is denied","method":"api_key","reason":"not_found","type":"denied_authentication"}"#,
        ),
        "home.example.com",
    )
    .await;
    let cases: Vec<(Reply, ErrorClass)> = vec![
        (
            Reply::status(
                403,
                r#"{"message":"insufficient permissions","type":"permissions_denied","details":[{"resource":"dns_zone","action":"write"}]}"#,
            ),
            ErrorClass::Auth,
        ),
        (
            Reply::status(
                403,
                r#"{"message":"quota(s) exceeded for this resource","type":"quotas_exceeded","details":[{"resource":"dns_records","quota":1000,"current":1000}]}"#,
            ),
            ErrorClass::Rejected,
        ),
        (
            Reply::status(
                400,
                r#"{"message":"invalid argument(s)","type":"invalid_arguments","details":[{"argument_name":"data","reason":"format"}]}"#,
            ),
            ErrorClass::Rejected,
        ),
        (
            Reply::status(
                409,
                r#"{"message":"resource is in a transient state","type":"transient_state","resource":"dns_zone","current_state":"pending"}"#,
            ),
            ErrorClass::Transient,
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
}

#[test]
fn ttl_below_60_is_a_config_error() {
    let text = "[[provider]]\nname = \"p\"\nkind = \"scaleway\"\nsecret_key = \"k\"\n\n\
                [[record]]\nname = \"home.example.com\"\nprovider = \"p\"\ntype = \"A\"\nttl = 30\n";
    let issues = load_str(text, &|_: &str| None).unwrap_err();
    assert!(
        issues
            .iter()
            .any(|i| i.path.ends_with(".ttl") && i.message.contains("60")),
        "{issues:#?}"
    );
    assert!(load_str(&text.replace("ttl = 30", "ttl = 60"), &|_: &str| None).is_ok());
}

/// "Test" names every zone the key sees (`GET dns-zones` without a filter, both pages up to `total_count`, a
/// sub-zone by its full name, with `X-Auth-Token`), beside the check; a name in no zone fails with the zones shown.
#[tokio::test]
async fn test_lists_the_domains_the_credential_sees() {
    let (f, _) = fake(vec![json!({ "id": "r7", "name": "home", "type": "A", "data": "198.51.100.7", "ttl": 300, "priority": 0, "comment": null })]).await;
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
            "domains this credential can see (150): example.com, lab.example.com, sw000.fr, "
        ),
        "{zones}"
    );
    assert!(zones.ends_with(" and 138 more"), "{zones}");
    let lists: Vec<String> = f
        .requests()
        .iter()
        .filter(|r| r.path() == "/dns-zones" && !r.query().contains_key("dns_zone"))
        .map(|r| format!("{} {}", r.method, r.target))
        .collect();
    assert_eq!(
        lists,
        [
            "GET /dns-zones?page=1&page_size=100",
            "GET /dns-zones?page=2&page_size=100"
        ]
    );

    let err = ddns_tray::provider::test(p.as_ref(), "home.example.org", RecordType::A)
        .await
        .unwrap_err();
    assert!(
        err.contains("no DNS zone this key can see holds home.example.org"),
        "{err}"
    );
    assert!(
        err.contains("\ndomains this credential can see (150): "),
        "{err}"
    );
}
