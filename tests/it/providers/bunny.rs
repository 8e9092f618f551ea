//! bunny.net DNS API, from docs/providers/bunny.md (bunny's API reference and the Go client lego uses): zones
//! found with `GET /dnszone?search=` (substring; `HasMoreItems` pages), records inline in `GET /dnszone/{id}`,
//! `PUT …/records` creates (201), `POST …/records/{id}` updates (204), `DELETE` (204); types are numbers
//! (A = 0, AAAA = 1); errors `{"ErrorKey","Field","Message"}`, 401 in plain text.

use std::sync::{Arc, Mutex};

use super::*;

const KEY: &str = "bunny-s3cret-key";

fn cfg(endpoint: &str) -> String {
    format!("kind = \"bunny\"\napi_key = \"{KEY}\"\nendpoint = \"{endpoint}\"")
}

/// The account's zones: `myexample.com` (id 7) and `example.com` (id 42, holding `records`). A search answers
/// one zone per page, so the exact match for `example.com` is on the second page.
async fn fake(records: Vec<Value>) -> (FakeHttp, Arc<Mutex<Vec<Value>>>) {
    let store = Arc::new(Mutex::new(records));
    let s = store.clone();
    let f = FakeHttp::start(move |r| {
        assert_eq!(r.headers["accesskey"], KEY);
        let mut store = s.lock().unwrap();
        match (r.method.as_str(), r.path()) {
            // Without `search` every zone (150), 100 a page whatever `perPage` asks.
            ("GET", "/dnszone") if !r.query().contains_key("search") => {
                let q = r.query();
                assert_eq!(q["perPage"], "1000");
                let page: usize = q["page"].parse().unwrap();
                let mut all: Vec<Value> = (0..148).map(|i| json!({ "Id": 1000 + i, "Domain": format!("bn{i:03}.net"), "Records": [] })).collect();
                all.push(json!({ "Id": 7, "Domain": "myexample.com", "Records": [] }));
                all.push(json!({ "Id": 42, "Domain": "example.com", "Records": [] }));
                let items: Vec<&Value> = all.iter().skip((page - 1) * 100).take(100).collect();
                json_reply(&json!({ "Items": items, "CurrentPage": page, "TotalItems": all.len(), "HasMoreItems": page * 100 < all.len() }))
            }
            ("GET", "/dnszone") => {
                let q = r.query();
                let zones: Vec<Value> = [(7, "myexample.com"), (42, "example.com")]
                    .iter()
                    .filter(|(_, d)| d.contains(q["search"].as_str()))
                    .map(|(id, d)| json!({ "Id": id, "Domain": d, "Records": [], "DateModified": "2023-11-07T05:31:56Z" }))
                    .collect();
                let page: usize = q["page"].parse().unwrap();
                json_reply(&json!({
                    "Items": zones.get(page - 1).map_or_else(Vec::new, |z| vec![z.clone()]),
                    "CurrentPage": page, "TotalItems": zones.len(), "HasMoreItems": page < zones.len(),
                }))
            }
            ("GET", "/dnszone/42") => {
                json_reply(&json!({ "Id": 42, "Domain": "example.com", "Records": *store }))
            }
            ("PUT", "/dnszone/42/records") => {
                let mut rec = r.json();
                rec["Id"] = json!(900);
                store.push(rec.clone());
                Reply::status(201, rec.to_string())
            }
            ("POST", p) if p.starts_with("/dnszone/42/records/") => {
                let id: i64 = p.rsplit('/').next().unwrap().parse().unwrap();
                let body = r.json();
                assert_eq!(body["Id"], id);
                let Some(rec) = store.iter_mut().find(|x| x["Id"] == id) else {
                    return Reply::status(404, r#"{"ErrorKey":"dnszone.record.not_found","Field":"Id","Message":"The record was not found."}"#);
                };
                for (k, v) in body.as_object().unwrap() {
                    rec[k] = v.clone();
                }
                Reply::status(204, "")
            }
            ("DELETE", p) if p.starts_with("/dnszone/42/records/") => {
                let id: i64 = p.rsplit('/').next().unwrap().parse().unwrap();
                store.retain(|x| x["Id"] != id);
                Reply::status(204, "")
            }
            _ => Reply::status(404, r#"{"ErrorKey":"not_found","Field":"","Message":"Not found"}"#),
        }
    })
    .await;
    (f, store)
}

/// Records the user made by hand: other names, other types (TXT = 3, AAAA = 1, CNAME = 2).
fn hand_made() -> Vec<Value> {
    vec![
        json!({ "Id": 1, "Type": 0, "Name": "www", "Value": "192.0.2.80", "Ttl": 300, "Disabled": false }),
        json!({ "Id": 2, "Type": 3, "Name": "home", "Value": "v=spf1 -all", "Ttl": 300, "Disabled": false }),
        json!({ "Id": 3, "Type": 1, "Name": "home", "Value": "2001:db8::5", "Ttl": 300, "Disabled": false }),
        json!({ "Id": 4, "Type": 0, "Name": "", "Value": "192.0.2.1", "Ttl": 300, "Disabled": false }),
        json!({ "Id": 5, "Type": 2, "Name": "cdn", "Value": "x.b-cdn.net", "Ttl": 300, "Disabled": false }),
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
    assert_eq!(
        out,
        UpdateOutcome::Updated {
            record_id: Some("900".into())
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
            "GET /dnszone?page=1&search=home.example.com",
            "GET /dnszone?page=1&search=example.com",
            "GET /dnszone?page=2&search=example.com",
            "GET /dnszone/42",
            "PUT /dnszone/42/records",
        ],
        "a substring match is not the zone; HasMoreItems is followed"
    );
    assert_eq!(
        writes(&f)[0].json(),
        json!({ "Type": 0, "Value": "198.51.100.7", "Name": "home", "Ttl": 120 })
    );
    assert_eq!(store.lock().unwrap().len(), 6);

    let mut records = hand_made();
    records
        .push(json!({ "Id": 11, "Type": 0, "Name": "home", "Value": "198.51.100.1", "Ttl": 600 }));
    records
        .push(json!({ "Id": 12, "Type": 0, "Name": "home", "Value": "198.51.100.2", "Ttl": 600 }));
    let (f, store) = fake(records).await;
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
                "POST".into(),
                "/dnszone/42/records/11".into(),
                json!({ "Id": 11, "Type": 0, "Value": "198.51.100.7", "Name": "home", "Ttl": 600 })
            ),
            (
                "DELETE".into(),
                "/dnszone/42/records/12".into(),
                Value::Null
            ),
        ]
    );
    let left = store.lock().unwrap().clone();
    for h in hand_made() {
        assert!(left.contains(&h), "hand-made record {h} kept");
    }

    // The apex ("" on the wire), with the type written as its name: already holds the address.
    let mut records = hand_made();
    records[3]["Type"] = json!("A");
    let (f, _) = fake(records).await;
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
            record_id: Some("4".into())
        }
    );
    assert!(writes(&f).is_empty());
}

#[tokio::test]
async fn failures() {
    common_failures(
        cfg,
        Reply::status(401, "Authorization has been denied for this request."),
        "home.example.com",
    )
    .await;
    let cases: Vec<(Reply, ErrorClass)> = vec![
        (
            Reply::status(
                400,
                r#"{"ErrorKey":"dnszone.record.invalid","Field":"Value","Message":"The record value is invalid."}"#,
            ),
            ErrorClass::Rejected,
        ),
        (Reply::status(403, "Forbidden"), ErrorClass::Auth),
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
}

#[test]
fn ttl_below_60_is_a_config_error() {
    let text = "[[provider]]\nname = \"p\"\nkind = \"bunny\"\napi_key = \"k\"\n\n\
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

/// "Test" names every zone the credential sees (`GET /dnszone` without `search`, both pages by
/// `HasMoreItems`, with the `AccessKey` header), beside the check; a name in no zone fails with the zones shown.
#[tokio::test]
async fn test_lists_the_domains_the_credential_sees() {
    let (f, _) = fake(vec![
        json!({ "Id": 5, "Type": 0, "Name": "home", "Value": "198.51.100.7", "Ttl": 300 }),
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
        zones.starts_with("domains this credential can see (150): bn000.net, bn001.net, "),
        "{zones}"
    );
    assert!(zones.ends_with(" and 138 more"), "{zones}");
    let lists: Vec<String> = f
        .requests()
        .iter()
        .filter(|r| r.path() == "/dnszone" && !r.query().contains_key("search"))
        .map(|r| format!("{} {}", r.method, r.target))
        .collect();
    assert_eq!(
        lists,
        [
            "GET /dnszone?page=1&perPage=1000",
            "GET /dnszone?page=2&perPage=1000"
        ]
    );

    let err = ddns_tray::provider::test(p.as_ref(), "home.example.org", RecordType::A)
        .await
        .unwrap_err();
    assert!(
        err.contains("no DNS zone of this account holds home.example.org"),
        "{err}"
    );
    assert!(
        err.contains("\ndomains this credential can see (150): "),
        "{err}"
    );
}
