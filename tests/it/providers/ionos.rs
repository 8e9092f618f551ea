//! IONOS hosting DNS API v1, from docs/providers/ionos.md (IONOS's reference as copied into lego's fixtures and
//! working clients): zones as a bare array, records read with `GET /v1/zones/{id}?recordName=<fqdn>&recordType=`,
//! `POST …/records` takes an array (201), `PUT …/records/{id}` (200), `DELETE` (200); FQDN names; errors are an
//! array of `{"code","message"}`.

use std::sync::{Arc, Mutex};

use super::*;

const KEY: &str = "pfx123.s3cretpart";
const ZONE_ID: &str = "f6821d2f-2ff3-4762-99bd-711733624a77";

fn cfg(endpoint: &str) -> String {
    format!("kind = \"ionos\"\napi_key = \"{KEY}\"\nendpoint = \"{endpoint}\"")
}

/// Zones `test.com` and `example.com` (holding `records`). Writes change the store.
async fn fake(records: Vec<Value>) -> (FakeHttp, Arc<Mutex<Vec<Value>>>) {
    let store = Arc::new(Mutex::new(records));
    let s = store.clone();
    let f = FakeHttp::start(move |r| {
        assert_eq!(r.headers["x-api-key"], KEY);
        let mut store = s.lock().unwrap();
        let zone = format!("/v1/zones/{ZONE_ID}");
        let records = format!("{zone}/records");
        let not_found = || Reply::status(404, r#"[{"code":"RECORD_NOT_FOUND","message":"Record does not exist."}]"#);
        match (r.method.as_str(), r.path()) {
            ("GET", "/v1/zones") => json_reply(&json!([
                { "id": "11af3414-ebba-11e9-8df5-66fbe8a334b4", "name": "test.com", "type": "NATIVE" },
                { "id": ZONE_ID, "name": "example.com", "type": "NATIVE" },
            ])),
            ("GET", p) if p == zone => {
                let q = r.query();
                // The API filters by name and type; so does the fake.
                let found: Vec<Value> = store
                    .iter()
                    .filter(|x| x["name"] == q["recordName"].as_str() && x["type"] == q["recordType"].as_str())
                    .cloned()
                    .collect();
                json_reply(&json!({ "id": ZONE_ID, "name": "example.com", "type": "NATIVE", "records": found }))
            }
            ("POST", p) if p == records => {
                let mut created = Vec::new();
                for rec in r.json().as_array().unwrap() {
                    let mut rec = rec.clone();
                    rec["id"] = json!("new-1");
                    rec["rootName"] = json!("example.com");
                    store.push(rec.clone());
                    created.push(rec);
                }
                Reply::status(201, Value::Array(created).to_string())
            }
            ("PUT", p) if p.starts_with(&records) => {
                let id = p.rsplit('/').next().unwrap();
                let Some(rec) = store.iter_mut().find(|x| x["id"] == id) else {
                    return not_found();
                };
                for (k, v) in r.json().as_object().unwrap() {
                    rec[k] = v.clone();
                }
                json_reply(rec)
            }
            ("DELETE", p) if p.starts_with(&records) => {
                let id = p.rsplit('/').next().unwrap().to_owned();
                store.retain(|x| x["id"] != id.as_str());
                Reply::ok("")
            }
            _ => not_found(),
        }
    })
    .await;
    (f, store)
}

fn rec(id: &str, name: &str, rtype: &str, content: &str, disabled: bool) -> Value {
    json!({ "id": id, "name": name, "rootName": "example.com", "type": rtype, "content": content,
        "changeDate": "2026-01-01T00:00:00Z", "ttl": 3600, "prio": 0, "disabled": disabled })
}

/// Records the user made by hand: other names, other types.
fn hand_made() -> Vec<Value> {
    vec![
        rec("h1", "www.example.com", "A", "192.0.2.80", false),
        rec("h2", "home.example.com", "TXT", "v=spf1 -all", false),
        rec("h3", "home.example.com", "AAAA", "2001:db8::5", false),
        rec("h4", "example.com", "A", "192.0.2.1", false),
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
        Some(60),
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
            "GET /v1/zones".to_owned(),
            format!("GET /v1/zones/{ZONE_ID}?recordName=home.example.com&recordType=A"),
            format!("POST /v1/zones/{ZONE_ID}/records"),
        ]
    );
    assert_eq!(
        writes(&f)[0].json(),
        json!([{ "name": "home.example.com", "type": "A", "content": "198.51.100.7", "disabled": false, "ttl": 60 }])
    );
    assert_eq!(store.lock().unwrap().len(), 5);

    let mut records = hand_made();
    records.push(rec("r1", "home.example.com", "A", "198.51.100.1", false));
    records.push(rec("r2", "home.example.com", "A", "198.51.100.2", false));
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
                "PUT".into(),
                format!("/v1/zones/{ZONE_ID}/records/r1"),
                json!({ "content": "198.51.100.7", "disabled": false, "ttl": 3600 })
            ),
            (
                "DELETE".into(),
                format!("/v1/zones/{ZONE_ID}/records/r2"),
                Value::Null
            ),
        ]
    );
    let left = store.lock().unwrap().clone();
    for h in hand_made() {
        assert!(left.contains(&h), "hand-made record {h} kept");
    }

    // The apex already holds the address: nothing is written.
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
async fn a_disabled_record_is_enabled_again() {
    // A disabled record holding the address is enabled again.
    let mut records = hand_made();
    records.push(rec("r1", "home.example.com", "A", "198.51.100.7", true));
    let (f, _) = fake(records).await;
    update(
        &build(&cfg(&f.url(""))),
        "home.example.com",
        RecordType::A,
        "198.51.100.7",
        None,
    )
    .await
    .unwrap();
    let w = writes(&f);
    assert_eq!(w.len(), 1);
    assert_eq!(w[0].json()["disabled"], false);
}

#[tokio::test]
async fn failures() {
    common_failures(
        cfg,
        Reply::status(
            401,
            r#"[{"code":"UNAUTHORIZED","message":"The customer is not authorized to do this operation."}]"#,
        ),
        "home.example.com",
    )
    .await;
    let f = FakeHttp::start(|r| match r.path() {
        "/v1/zones" => json_reply(&json!([{ "id": "z", "name": "example.com", "type": "NATIVE" }])),
        "/v1/zones/z" => json_reply(&json!({ "id": "z", "name": "example.com", "records": [] })),
        _ => Reply::status(
            400,
            r#"[{"code":"INVALID_RECORD","message":"Record is invalid.","parameters":{"invalidFields":["content"]}}]"#,
        ),
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
    assert!(err.message.contains("INVALID_RECORD"), "{err:?}");
    // No zone of the account holds the name.
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
    let text = "[[provider]]\nname = \"p\"\nkind = \"ionos\"\napi_key = \"nodot\"\n\n\
                [[record]]\nname = \"home.example.com\"\nprovider = \"p\"\ntype = \"A\"\nttl = 30\n";
    let issues = load_str(text, &|_: &str| None).unwrap_err();
    assert!(
        issues.iter().any(|i| i.path.ends_with(".api_key")),
        "{issues:#?}"
    );
    assert!(
        issues
            .iter()
            .any(|i| i.path.ends_with(".ttl") && i.message.contains("60")),
        "{issues:#?}"
    );
    let ok = text
        .replace("nodot", "pfx.secret")
        .replace("ttl = 30", "ttl = 60");
    assert!(load_str(&ok, &|_: &str| None).is_ok());
}
