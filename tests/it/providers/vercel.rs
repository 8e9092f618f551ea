//! Vercel REST API DNS, from docs/providers/vercel.md (Vercel's API reference and working clients): records
//! listed with `GET /v5/domains/{d}/records?limit=100`, paged with `until = pagination.next` (null at the end),
//! `POST /v2/…/records` answers `{"uid"}`, `PATCH /v1/domains/records/{id}` answers the record (`recordType`),
//! `DELETE /v2/…/records/{id}`; `teamId` on every call for a team's domain; errors `{"error":{"code","message"}}`.

use std::sync::{Arc, Mutex};

use super::*;

const TOKEN: &str = "vercel-s3cret-token";
const TEAM: &str = "team_abc123";

fn cfg(endpoint: &str) -> String {
    format!(
        "kind = \"vercel\"\ntoken = \"{TOKEN}\"\nteam_id = \"{TEAM}\"\nendpoint = \"{endpoint}\""
    )
}

/// Team-owned domain `example.com` holding `records` (each with `created`, newest first), served two per page.
async fn fake(records: Vec<Value>) -> (FakeHttp, Arc<Mutex<Vec<Value>>>) {
    let store = Arc::new(Mutex::new(records));
    let s = store.clone();
    let f = FakeHttp::start(move |r| {
        assert_eq!(r.headers["authorization"], format!("Bearer {TOKEN}"));
        let q = r.query();
        if q.get("teamId").map(String::as_str) != Some(TEAM) {
            return Reply::status(
                404,
                r#"{"error":{"code":"not_found","message":"Domain not found"}}"#,
            );
        }
        let mut store = s.lock().unwrap();
        match (r.method.as_str(), r.path()) {
            // 150 domains of the team, newest first, 100 a page, `until` = the last one's `createdAt`.
            ("GET", "/v5/domains") => {
                assert_eq!(q["limit"], "100");
                let until: u64 = q.get("until").map_or(u64::MAX, |u| u.parse().unwrap());
                let mut all: Vec<(String, u64)> = (0..149u64).map(|i| (format!("vc{i:03}.app"), 1_700_000_000_000 - i)).collect();
                all.insert(120, ("example.com".into(), 1_600_000_000_000));
                let older: Vec<&(String, u64)> = all.iter().filter(|(_, c)| *c < until).collect();
                let page: Vec<Value> = older.iter().take(100).map(|(n, c)| json!({ "name": n, "createdAt": c, "verified": true, "serviceType": "zeit.world" })).collect();
                let next = if older.len() > 100 { page.last().unwrap()["createdAt"].clone() } else { Value::Null };
                json_reply(&json!({ "domains": page, "pagination": { "count": page.len(), "next": next, "prev": null } }))
            }
            ("GET", "/v5/domains/example.com/records") => {
                assert_eq!(q["limit"], "100");
                let until: u64 = q.get("until").map_or(u64::MAX, |u| u.parse().unwrap());
                let older: Vec<Value> = store
                    .iter()
                    .filter(|x| x["created"].as_u64().unwrap() < until)
                    .cloned()
                    .collect();
                let page: Vec<Value> = older.iter().take(2).cloned().collect();
                let next = if older.len() > 2 {
                    page.last().unwrap()["created"].clone()
                } else {
                    Value::Null
                };
                json_reply(&json!({ "records": page, "pagination": { "count": page.len(), "next": next, "prev": null } }))
            }
            ("POST", "/v2/domains/example.com/records") => {
                let mut rec = r.json();
                rec["id"] = json!("rec_new");
                rec["created"] = json!(1);
                store.push(rec);
                json_reply(&json!({ "uid": "rec_new", "updated": 1 }))
            }
            ("PATCH", p) if p.starts_with("/v1/domains/records/") => {
                let id = p.rsplit('/').next().unwrap();
                let Some(rec) = store.iter_mut().find(|x| x["id"] == id) else {
                    return Reply::status(404, r#"{"error":{"code":"not_found","message":"Could not find the record"}}"#);
                };
                for (k, v) in r.json().as_object().unwrap() {
                    rec[k] = v.clone();
                }
                json_reply(&json!({ "creator": "u1", "domain": "example.com", "id": id, "name": rec["name"],
                    "recordType": rec["type"], "type": "record", "value": rec["value"], "createdAt": 123, "ttl": rec["ttl"] }))
            }
            ("DELETE", p) if p.starts_with("/v2/domains/example.com/records/") => {
                let id = p.rsplit('/').next().unwrap().to_owned();
                store.retain(|x| x["id"] != id.as_str());
                json_reply(&json!({}))
            }
            _ => Reply::status(404, r#"{"error":{"code":"not_found","message":"?"}}"#),
        }
    })
    .await;
    (f, store)
}

/// Records the user made by hand: other names, other types.
fn hand_made() -> Vec<Value> {
    vec![
        json!({ "id": "rec_h1", "name": "www", "type": "A", "value": "192.0.2.80", "ttl": 60, "created": 900 }),
        json!({ "id": "rec_h2", "name": "home", "type": "TXT", "value": "v=spf1 -all", "ttl": 60, "created": 800 }),
        json!({ "id": "rec_h3", "name": "home", "type": "AAAA", "value": "2001:db8::5", "ttl": 60, "created": 700 }),
        json!({ "id": "rec_h4", "name": "", "type": "A", "value": "192.0.2.1", "ttl": 60, "created": 600 }),
        json!({ "id": "rec_h5", "name": "home", "type": "CNAME", "value": "x.vercel-dns.com", "ttl": 60, "created": 500 }),
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
        Some(60),
    )
    .await
    .unwrap();
    assert_eq!(
        out,
        UpdateOutcome::Updated {
            record_id: Some("rec_new".into())
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
            "GET /v5/domains/example.com/records?teamId=team_abc123&limit=100",
            "GET /v5/domains/example.com/records?teamId=team_abc123&limit=100&until=800",
            "GET /v5/domains/example.com/records?teamId=team_abc123&limit=100&until=600",
            "POST /v2/domains/example.com/records?teamId=team_abc123",
        ]
    );
    assert_eq!(
        writes(&f)[0].json(),
        json!({ "name": "home", "type": "A", "value": "198.51.100.7", "ttl": 60 })
    );
    assert_eq!(store.lock().unwrap().len(), 6);

    let mut records = hand_made();
    records.push(json!({ "id": "rec_1", "name": "home", "type": "A", "value": "198.51.100.1", "ttl": 60, "created": 400 }));
    records.push(json!({ "id": "rec_2", "name": "home", "type": "A", "value": "198.51.100.2", "ttl": 60, "created": 300 }));
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
            record_id: Some("rec_1".into())
        }
    );
    let w: Vec<(String, String, Value)> = writes(&f)
        .into_iter()
        .map(|r| (r.method.clone(), r.target.clone(), r.json()))
        .collect();
    assert_eq!(
        w,
        [
            (
                "PATCH".into(),
                "/v1/domains/records/rec_1?teamId=team_abc123".into(),
                json!({ "value": "198.51.100.7" })
            ),
            (
                "DELETE".into(),
                "/v2/domains/example.com/records/rec_2?teamId=team_abc123".into(),
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
            record_id: Some("rec_h4".into())
        }
    );
    assert!(writes(&f).is_empty());
}

#[tokio::test]
async fn failures() {
    common_failures(
        cfg,
        Reply::status(
            403,
            r#"{"error":{"code":"forbidden","message":"Not authorized"}}"#,
        ),
        "home.example.com",
    )
    .await;
    // Without team_id a team's domain is "not found": a config error, with the hint.
    let (f, _) = fake(hand_made()).await;
    let err = update(
        &build(&format!(
            "kind = \"vercel\"\ntoken = \"{TOKEN}\"\nendpoint = \"{}\"",
            f.url("")
        )),
        "home.example.com",
        RecordType::A,
        "198.51.100.1",
        None,
    )
    .await
    .unwrap_err();
    assert_eq!(err.class, ErrorClass::Rejected, "{err:?}");
    assert!(err.message.contains("team_id"), "{err:?}");

    // 429 without Retry-After: wait until error.limit.reset.
    let reset = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 60;
    let f = FakeHttp::start(move |_| {
        Reply::status(
            429,
            json!({ "error": { "code": "rate_limited", "message": "Rate limit exceeded",
                "limit": { "remaining": 0, "reset": reset, "resetMs": reset * 1000, "total": 100 } } })
            .to_string(),
        )
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
        } => assert!((50..=60).contains(&s), "{s}"),
        other => panic!("{other:?}"),
    }
    let f = FakeHttp::start(|_| {
        Reply::status(
            400,
            r#"{"error":{"code":"bad_request","message":"Invalid request: `value` should be a valid IPv4 address."}}"#,
        )
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
}

#[test]
fn config_checks() {
    let text = "[[provider]]\nname = \"p\"\nkind = \"vercel\"\ntoken = \"t\"\nteam_id = \"my team\"\n\n\
                [[record]]\nname = \"home.example.com\"\nprovider = \"p\"\ntype = \"A\"\nttl = 30\n";
    let issues = load_str(text, &|_: &str| None).unwrap_err();
    assert!(
        issues.iter().any(|i| i.path.ends_with(".team_id")),
        "{issues:#?}"
    );
    assert!(
        issues
            .iter()
            .any(|i| i.path.ends_with(".ttl") && i.message.contains("60")),
        "{issues:#?}"
    );
    let ok = text
        .replace("my team", "team_abc123")
        .replace("ttl = 30", "ttl = 60");
    assert!(load_str(&ok, &|_: &str| None).is_ok());
}

/// "Test" names the team's domains (`GET /v5/domains`, both pages by `until`, bearer token and `teamId`),
/// beside the check; a name in no domain fails with the domains still shown.
#[tokio::test]
async fn test_lists_the_domains_the_credential_sees() {
    let (f, _) = fake(vec![json!({ "id": "rec_7", "name": "home", "type": "A", "value": "198.51.100.7", "ttl": 60, "created": 5 })]).await;
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
            "domains this credential can see (150): example.com, vc000.app, vc001.app, "
        ),
        "{zones}"
    );
    assert!(zones.ends_with(" and 138 more"), "{zones}");
    let lists: Vec<String> = f
        .requests()
        .iter()
        .filter(|r| r.path() == "/v5/domains")
        .map(|r| format!("{} {}", r.method, r.target))
        .collect();
    assert_eq!(
        lists,
        [
            format!("GET /v5/domains?teamId={TEAM}&limit=100"),
            format!("GET /v5/domains?teamId={TEAM}&limit=100&until=1699999999901"),
        ]
    );

    let err = ddns_tray::provider::test(p.as_ref(), "home.example.org", RecordType::A)
        .await
        .unwrap_err();
    assert!(err.contains("not_found"), "{err}");
    assert!(
        err.contains("\ndomains this credential can see (150): "),
        "{err}"
    );
}
