//! Name.com Core API v1, from docs/providers/namecom.md (Name.com's Go client and working core/v1 clients):
//! `GET /domains/{d}/records?perPage=1000&page=N` (`nextPage` while there is another page), `POST` and `PUT`
//! answer the record, `DELETE`; HTTP Basic `username:token`; errors `{"message","details"}`.

use std::sync::{Arc, Mutex};

use base64::Engine as _;

use super::*;

const TOKEN: &str = "namecom-s3cret-token";

fn cfg(endpoint: &str) -> String {
    format!(
        "kind = \"namecom\"\nusername = \"alice\"\ntoken = \"{TOKEN}\"\nendpoint = \"{endpoint}\""
    )
}

/// Domain `example.com` holding `records`, two per page. Writes change the store.
async fn fake(records: Vec<Value>) -> (FakeHttp, Arc<Mutex<Vec<Value>>>) {
    let store = Arc::new(Mutex::new(records));
    let s = store.clone();
    let basic = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("alice:{TOKEN}"))
    );
    let f = FakeHttp::start(move |r| {
        if r.headers.get("authorization") != Some(&basic) {
            return Reply::status(401, r#"{"message":"Unauthorized"}"#);
        }
        let mut store = s.lock().unwrap();
        let base = "/domains/example.com/records";
        match (r.method.as_str(), r.path()) {
            // 150 domains, 100 a page whatever `perPage` asks; `nextPage` only while there is another page.
            ("GET", "/domains") => {
                let q = r.query();
                assert_eq!(q["perPage"], "1000");
                let page: usize = q["page"].parse().unwrap();
                let mut all: Vec<String> = (0..149).map(|i| format!("nc{i:03}.co")).collect();
                all.push("example.com".into());
                let domains: Vec<Value> = all.iter().skip((page - 1) * 100).take(100).map(|d| json!({ "domainName": d, "locked": true, "autorenewEnabled": true })).collect();
                let mut body = json!({ "totalCount": all.len(), "domains": domains });
                if page == 1 {
                    body["nextPage"] = json!(2);
                    body["lastPage"] = json!(2);
                }
                json_reply(&body)
            }
            ("GET", p) if p == base => {
                let q = r.query();
                assert_eq!(q["perPage"], "1000");
                let page: usize = q["page"].parse().unwrap();
                let records: Vec<Value> = store.iter().skip((page - 1) * 2).take(2).cloned().collect();
                let mut body = json!({ "totalCount": store.len(), "from": (page - 1) * 2 + 1, "to": (page - 1) * 2 + records.len(), "records": records });
                // Only populated when there is another page.
                if page * 2 < store.len() {
                    body["nextPage"] = json!(page + 1);
                    body["lastPage"] = json!(store.len().div_ceil(2));
                }
                json_reply(&body)
            }
            ("POST", p) if p == base => {
                let mut rec = r.json();
                rec["id"] = json!(900);
                rec["domainName"] = json!("example.com");
                store.push(rec.clone());
                json_reply(&rec)
            }
            ("PUT", p) if p.starts_with(base) => {
                let id: u64 = p.rsplit('/').next().unwrap().parse().unwrap();
                let Some(rec) = store.iter_mut().find(|x| x["id"] == id) else {
                    return Reply::status(404, r#"{"message":"Not Found"}"#);
                };
                for (k, v) in r.json().as_object().unwrap() {
                    rec[k] = v.clone();
                }
                json_reply(rec)
            }
            ("DELETE", p) if p.starts_with(base) => {
                let id: u64 = p.rsplit('/').next().unwrap().parse().unwrap();
                store.retain(|x| x["id"] != id);
                json_reply(&json!({}))
            }
            _ => Reply::status(404, r#"{"message":"Not Found"}"#),
        }
    })
    .await;
    (f, store)
}

fn rec(id: u64, host: &str, rtype: &str, answer: &str) -> Value {
    let fqdn = if host.is_empty() {
        "example.com.".to_owned()
    } else {
        format!("{host}.example.com.")
    };
    json!({ "id": id, "domainName": "example.com", "host": host, "fqdn": fqdn, "type": rtype, "answer": answer, "ttl": 600 })
}

/// Records the user made by hand: other names, other types.
fn hand_made() -> Vec<Value> {
    vec![
        rec(1, "www", "A", "192.0.2.80"),
        rec(2, "home", "TXT", "v=spf1 -all"),
        rec(3, "home", "AAAA", "2001:db8::5"),
        rec(4, "", "A", "192.0.2.1"),
        rec(5, "myhome", "A", "192.0.2.9"),
    ]
}

#[tokio::test]
async fn create_update_unchanged_with_pages() {
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
            "GET /domains/example.com/records?perPage=1000&page=1",
            "GET /domains/example.com/records?perPage=1000&page=2",
            "GET /domains/example.com/records?perPage=1000&page=3",
            "POST /domains/example.com/records",
        ]
    );
    assert_eq!(
        writes(&f)[0].json(),
        json!({ "host": "home", "type": "A", "answer": "198.51.100.7", "ttl": 300 })
    );
    assert_eq!(store.lock().unwrap().len(), 6);

    let mut records = hand_made();
    records.push(rec(11, "home", "A", "198.51.100.1"));
    records.push(rec(12, "home", "A", "198.51.100.2"));
    let (f, store) = fake(records).await;
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
                "/domains/example.com/records/11".into(),
                json!({ "host": "home", "type": "A", "answer": "198.51.100.7", "ttl": 600 })
            ),
            (
                "DELETE".into(),
                "/domains/example.com/records/12".into(),
                Value::Null
            ),
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
            record_id: Some("4".into())
        }
    );
    assert!(writes(&f).is_empty());
}

#[tokio::test]
async fn failures() {
    common_failures(
        cfg,
        Reply::status(401, r#"{"message":"Unauthorized"}"#),
        "home.example.com",
    )
    .await;
    for (reply, class) in [
        (
            Reply::status(
                403,
                r#"{"message":"Permission Denied","details":"API access is not enabled"}"#,
            ),
            ErrorClass::Auth,
        ),
        (
            Reply::status(
                400,
                r#"{"message":"Invalid Argument","details":"answer: invalid IPv4 address"}"#,
            ),
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
    }
    // A wrong token is refused by the fake's own check of the Basic header.
    let (f, _) = fake(hand_made()).await;
    let err = update(
        &build(&cfg(&f.url("")).replace(TOKEN, "other")),
        "home.example.com",
        RecordType::A,
        "198.51.100.1",
        None,
    )
    .await
    .unwrap_err();
    assert_eq!(err.class, ErrorClass::Auth, "{err:?}");
}

#[test]
fn config_checks() {
    let text = "[[provider]]\nname = \"p\"\nkind = \"namecom\"\nusername = \"alice-test\"\ntoken = \"t\"\n\n\
                [[record]]\nname = \"home.example.com\"\nprovider = \"p\"\ntype = \"A\"\nttl = 60\n";
    let issues = load_str(text, &|_: &str| None).unwrap_err();
    assert!(
        issues.iter().any(|i| i.path.ends_with(".username")),
        "{issues:#?}"
    );
    assert!(
        issues
            .iter()
            .any(|i| i.path.ends_with(".ttl") && i.message.contains("300")),
        "{issues:#?}"
    );
    let ok = text
        .replace("alice-test", "alice")
        .replace("ttl = 60", "ttl = 300");
    assert!(load_str(&ok, &|_: &str| None).is_ok());
}

/// "Test" names the domains the credential sees (`GET /domains`, both pages by `nextPage`, HTTP Basic),
/// beside the check; a name in no domain fails with the domains still shown.
#[tokio::test]
async fn test_lists_the_domains_the_credential_sees() {
    let (f, _) = fake(vec![rec(7, "home", "A", "198.51.100.7")]).await;
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
            "domains this credential can see (150): example.com, nc000.co, nc001.co, "
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
            "GET /domains?perPage=1000&page=1",
            "GET /domains?perPage=1000&page=2"
        ]
    );

    let err = ddns_tray::provider::test(p.as_ref(), "home.example.org", RecordType::A)
        .await
        .unwrap_err();
    assert!(err.contains("Not Found"), "{err}");
    assert!(
        err.contains("\ndomains this credential can see (150): "),
        "{err}"
    );
}
