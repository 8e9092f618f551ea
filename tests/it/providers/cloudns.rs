//! `ClouDNS` HTTP API, from docs/providers/cloudns.md (`ClouDNS`'s PHP SDK and lego's fixtures): every method a
//! POST form to `/{method}.json` with `sub-auth-id`/`auth-id` and `auth-password`; every answer HTTP 200, failures
//! `{"status":"Failed","statusDescription":…}`; `records.json` answers a map keyed by id, or `[]`; TTLs from a
//! fixed list.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use super::*;

const PASS: &str = "cloudns-s3cret-pass";
const TTLS: [u64; 13] = [
    60, 300, 900, 1800, 3600, 21_600, 43_200, 86_400, 172_800, 259_200, 604_800, 1_209_600,
    2_592_000,
];

fn cfg(endpoint: &str) -> String {
    format!(
        "kind = \"cloudns\"\nsub_auth_id = \"1234\"\npassword = \"{PASS}\"\nendpoint = \"{endpoint}\""
    )
}

/// The form fields of a POST.
fn form(r: &Request) -> BTreeMap<String, String> {
    Request {
        target: format!("/?{}", r.body),
        ..r.clone()
    }
    .query()
}

fn failed(text: &str) -> Reply {
    json_reply(&json!({ "status": "Failed", "statusDescription": text }))
}

fn success(text: &str, data: Option<Value>) -> Reply {
    let mut v = json!({ "status": "Success", "statusDescription": text });
    if let Some(d) = data {
        v["data"] = d;
    }
    json_reply(&v)
}

/// Zone `example.com` holding `records` (id -> row, all strings but `status`). Writes change the store.
async fn fake(records: Vec<Value>) -> (FakeHttp, Arc<Mutex<Vec<Value>>>) {
    let store = Arc::new(Mutex::new(records));
    let s = store.clone();
    let f = FakeHttp::start(move |r| {
        assert_eq!(r.method, "POST");
        assert!(!r.target.contains('?'), "nothing in the URL: {}", r.target);
        assert_eq!(
            r.headers["content-type"],
            "application/x-www-form-urlencoded"
        );
        let f = form(r);
        if f.get("sub-auth-id").map(String::as_str) != Some("1234")
            || f.get("auth-password").map(String::as_str) != Some(PASS)
        {
            return failed(
                "Invalid authentication, incorrect sub-auth-id, sub-auth-user or auth-password.",
            );
        }
        let mut store = s.lock().unwrap();
        let in_zone = f.get("domain-name").map(String::as_str) == Some("example.com");
        match r.path() {
            // 150 zones, `rows-per-page` at a time from `page` 1; an array of zone objects.
            "/list-zones.json" => {
                let (page, rows): (usize, usize) = (f["page"].parse().unwrap(), f["rows-per-page"].parse().unwrap());
                assert!([10, 20, 30, 50, 100].contains(&rows), "rows-per-page {rows}");
                let mut all: Vec<String> = (0..149).map(|i| format!("cd{i:03}.bg")).collect();
                all.push("example.com".into());
                let zones: Vec<Value> = all.iter().skip((page - 1) * rows).take(rows).map(|n| json!({ "name": n, "type": "master", "zone": "domain", "status": "1" })).collect();
                json_reply(&Value::Array(zones))
            }
            "/get-zone-info.json" if in_zone => json_reply(
                &json!({ "name": "example.com", "type": "master", "zone": "domain", "status": "1" }),
            ),
            _ if !in_zone => failed("Missing domain-name"),
            "/records.json" => {
                let rows: serde_json::Map<String, Value> = store
                    .iter()
                    .filter(|x| x["host"] == f["host"].as_str() && x["type"] == f["type"].as_str())
                    .map(|x| (x["id"].as_str().unwrap().to_owned(), x.clone()))
                    .collect();
                if rows.is_empty() {
                    json_reply(&json!([]))
                } else {
                    json_reply(&Value::Object(rows))
                }
            }
            "/add-record.json" => {
                let ttl: u64 = f["ttl"].parse().unwrap();
                if !TTLS.contains(&ttl) {
                    return failed("Invalid TTL. Choose from the list of the values we support.");
                }
                store.push(json!({ "id": "9001", "type": f["record-type"], "host": f["host"],
                    "record": f["record"], "failover": "0", "ttl": f["ttl"], "status": 1 }));
                success("The record was added successfully.", Some(json!({ "id": 9001 })))
            }
            "/mod-record.json" => {
                let ttl: u64 = f["ttl"].parse().unwrap();
                if !TTLS.contains(&ttl) {
                    return failed("Invalid TTL. Choose from the list of the values we support.");
                }
                let Some(rec) = store.iter_mut().find(|x| x["id"] == f["record-id"].as_str()) else {
                    return failed("Invalid record-id param.");
                };
                rec["host"] = json!(f["host"]);
                rec["record"] = json!(f["record"]);
                rec["ttl"] = json!(f["ttl"]);
                success("The record was modified successfully.", None)
            }
            "/delete-record.json" => {
                let before = store.len();
                store.retain(|x| x["id"] != f["record-id"].as_str());
                if store.len() == before {
                    failed("Invalid record-id param.")
                } else {
                    success("The record was deleted successfully.", None)
                }
            }
            _ => Reply::status(404, "not found"),
        }
    })
    .await;
    (f, store)
}

fn rec(id: &str, host: &str, rtype: &str, record: &str) -> Value {
    json!({ "id": id, "type": rtype, "host": host, "record": record, "failover": "0", "ttl": "3600", "status": 1 })
}

/// Records the user made by hand: other names, other types.
fn hand_made() -> Vec<Value> {
    vec![
        rec("101", "www", "A", "192.0.2.80"),
        rec("102", "home", "TXT", "v=spf1 -all"),
        rec("103", "home", "AAAA", "2001:db8::5"),
        rec("104", "", "A", "192.0.2.1"),
    ]
}

#[tokio::test]
async fn create_then_rounded_ttl_is_not_rewritten() {
    let (f, store) = fake(hand_made()).await;
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
            record_id: Some("9001".into())
        }
    );
    let calls: Vec<(String, BTreeMap<String, String>)> = f
        .requests()
        .iter()
        .map(|r| (r.path().to_owned(), form(r)))
        .collect();
    let fields = |m: &[(&str, &str)]| -> BTreeMap<String, String> {
        m.iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .chain([
                ("sub-auth-id".to_owned(), "1234".to_owned()),
                ("auth-password".to_owned(), PASS.to_owned()),
            ])
            .collect()
    };
    assert_eq!(
        calls,
        [
            (
                "/get-zone-info.json".to_owned(),
                fields(&[("domain-name", "home.example.com")])
            ),
            (
                "/get-zone-info.json".to_owned(),
                fields(&[("domain-name", "example.com")])
            ),
            (
                "/records.json".to_owned(),
                fields(&[
                    ("domain-name", "example.com"),
                    ("host", "home"),
                    ("type", "A")
                ])
            ),
            (
                "/add-record.json".to_owned(),
                fields(&[
                    ("domain-name", "example.com"),
                    ("record-type", "A"),
                    ("host", "home"),
                    ("record", "198.51.100.7"),
                    ("ttl", "900"),
                ])
            ),
        ],
        "600 is rounded up to 900, the next TTL ClouDNS accepts"
    );
    assert_eq!(store.lock().unwrap().len(), 5);

    // Next round, same address and TTL: ClouDNS holds 900 for the 600 asked: nothing is written.
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
    assert!(matches!(out, UpdateOutcome::Unchanged { .. }), "{out:?}");
    assert_eq!(
        f.requests()
            .iter()
            .filter(|r| r.path().ends_with("-record.json"))
            .count(),
        1
    );
}

#[tokio::test]
async fn update_keeps_hand_made_records() {
    let mut records = hand_made();
    records.push(rec("201", "home", "A", "198.51.100.1"));
    records.push(rec("202", "home", "A", "198.51.100.2"));
    let (f, store) = fake(records).await;
    let out = update(
        &build(&format!("{}\nzone = \"example.com\"", cfg(&f.url("")))),
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
            record_id: Some("201".into())
        }
    );
    let w: Vec<(String, Option<String>, Option<String>)> = f
        .requests()
        .iter()
        .filter(|r| r.path().ends_with("-record.json"))
        .map(|r| {
            let f = form(r);
            (
                r.path().to_owned(),
                f.get("record-id").cloned(),
                f.get("ttl").cloned(),
            )
        })
        .collect();
    assert_eq!(
        w,
        [
            (
                "/mod-record.json".into(),
                Some("201".into()),
                Some("3600".into())
            ),
            ("/delete-record.json".into(), Some("202".into()), None),
        ],
        "the record's own TTL is resent"
    );
    let left = store.lock().unwrap().clone();
    for h in hand_made() {
        assert!(left.contains(&h), "hand-made record {h} kept");
    }

    // The apex (host "") already holds the address: nothing is written.
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
            record_id: Some("104".into())
        }
    );
}

#[tokio::test]
async fn failures() {
    common_failures(
        cfg,
        failed("Invalid authentication, incorrect sub-auth-id, sub-auth-user or auth-password."),
        "home.example.com",
    )
    .await;
    // The fake's own check: a wrong password is refused with HTTP 200.
    let (f, _) = fake(hand_made()).await;
    let err = update(
        &build(&cfg(&f.url("")).replace(PASS, "wrong")),
        "home.example.com",
        RecordType::A,
        "198.51.100.1",
        None,
    )
    .await
    .unwrap_err();
    assert_eq!(err.class, ErrorClass::Auth, "{err:?}");
    assert!(!err.message.contains("wrong"), "{err:?}");
    let f = FakeHttp::start(|_| {
        failed("Request blocked. 192.0.2.1 is sending more than 20 requests per second.")
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
    assert_eq!(
        err.class,
        ErrorClass::RateLimited {
            retry_after: Some(1)
        },
        "{err:?}"
    );
    // No zone of the user holds the name.
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

#[test]
fn config_checks() {
    let text = "[[provider]]\nname = \"p\"\nkind = \"cloudns\"\nauth_id = \"1\"\nsub_auth_id = \"2\"\npassword = \"pw-0123\"\n\n\
                [[record]]\nname = \"home.example.com\"\nprovider = \"p\"\ntype = \"A\"\nttl = 30\n";
    let issues = load_str(text, &|_: &str| None).unwrap_err();
    assert!(
        issues.iter().any(|i| i.path.ends_with(".auth_id")),
        "{issues:#?}"
    );
    assert!(
        issues
            .iter()
            .any(|i| i.path.ends_with(".ttl") && i.message.contains("60")),
        "{issues:#?}"
    );
    let bad_id = text
        .replace("auth_id = \"1\"\nsub_", "sub_")
        .replace("\"2\"", "\"me\"");
    let issues = load_str(&bad_id, &|_: &str| None).unwrap_err();
    assert!(
        issues.iter().any(|i| i.path.ends_with(".sub_auth_id")),
        "{issues:#?}"
    );
    let ok = bad_id
        .replace("\"me\"", "\"2\"")
        .replace("ttl = 30", "ttl = 60");
    if let Err(issues) = load_str(&ok, &|_: &str| None) {
        panic!("{issues:#?}");
    }
}

/// "Test" names the user's zones (`list-zones`, both pages, the sub-user's credentials in the form), beside
/// the check; a name in no zone fails with the zones still shown.
#[tokio::test]
async fn test_lists_the_domains_the_credential_sees() {
    let (f, _) = fake(vec![json!({ "id": "7", "type": "A", "host": "home", "record": "198.51.100.7", "failover": "0", "ttl": "3600", "status": 1 })]).await;
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
        zones.starts_with("domains this credential can see (150): cd000.bg, cd001.bg, "),
        "{zones}"
    );
    assert!(zones.ends_with(" and 138 more"), "{zones}");
    let lists: Vec<BTreeMap<String, String>> = f
        .requests()
        .iter()
        .filter(|r| r.path() == "/list-zones.json")
        .map(form)
        .collect();
    let want = |page: &str| -> BTreeMap<String, String> {
        [
            ("sub-auth-id", "1234"),
            ("auth-password", PASS),
            ("page", page),
            ("rows-per-page", "100"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
    };
    assert_eq!(lists, [want("1"), want("2")]);

    let err = ddns_tray::provider::test(p.as_ref(), "home.example.org", RecordType::A)
        .await
        .unwrap_err();
    assert!(
        err.contains("no zone of this API user holds home.example.org"),
        "{err}"
    );
    assert!(
        err.contains("\ndomains this credential can see (150): "),
        "{err}"
    );
}
