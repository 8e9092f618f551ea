//! OVH API v1, from docs/providers/ovh.md (OVH's guide "First Steps with the `OVHcloud` APIs" and its SDKs
//! go-ovh / python-ovh): `GET /1.0/auth/time` unsigned; every other call signed with `X-Ovh-Application`,
//! `X-Ovh-Consumer`, `X-Ovh-Timestamp` and `X-Ovh-Signature` = `$1$` + hex SHA-1 of
//! `AS+CK+METHOD+URL+BODY+TIMESTAMP` — recomputed here from those steps with `ring` over the URL the request
//! was sent to; `GET …/record?fieldType=&subDomain=` gives ids, `GET …/record/{id}` the record, `POST`/`PUT`/
//! `DELETE` write, `POST …/refresh` (no body) publishes. Errors `{"errorCode","httpCode","message"}`.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use super::*;

const AK: &str = "7kbG7Bk7S9Nt7ZSV";
const AS: &str = "EXEgWIz07P0HYwtQDs7cNIqCiQaWSuHF-s3cret";
const CK: &str = "MtSwSrPpNjqfVSmJhLbPyr2i45lSwPU1-s3cret";
/// The fake's clock runs this far ahead of the local one.
const SKEW: i64 = 1000;

fn cfg(endpoint: &str) -> String {
    format!(
        "kind = \"ovh\"\napplication_key = \"{AK}\"\napplication_secret = \"{AS}\"\nconsumer_key = \"{CK}\"\nendpoint = \"{endpoint}\""
    )
}

fn now() -> i64 {
    i64::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs(),
    )
    .unwrap()
}

/// The signature as OVH's guide writes it out, computed independently of the client.
fn expected_signature(r: &Request) -> String {
    let url = format!("http://{}{}", r.headers["host"], r.target);
    let text = format!(
        "{AS}+{CK}+{}+{url}+{}+{}",
        r.method, r.body, r.headers["x-ovh-timestamp"]
    );
    let digest = ring::digest::digest(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY, text.as_bytes());
    let hex = digest.as_ref().iter().fold(String::new(), |mut out, b| {
        use std::fmt::Write as _;
        let _ = write!(out, "{b:02x}");
        out
    });
    format!("$1${hex}")
}

type Store = Arc<Mutex<BTreeMap<u64, Value>>>;

fn rec(id: u64, sub: &str, t: &str, target: &str, ttl: u32) -> (u64, Value) {
    (
        id,
        json!({ "id": id, "zone": "example.com", "subDomain": sub, "fieldType": t, "target": target, "ttl": ttl }),
    )
}

/// Records the user made by hand: another name, other types at the name.
fn hand_made() -> Vec<(u64, Value)> {
    vec![
        rec(11, "www", "A", "192.0.2.80", 0),
        rec(12, "home", "AAAA", "2001:db8::5", 0),
        rec(13, "home", "TXT", "\"v=spf1 -all\"", 3600),
    ]
}

/// Zone `example.com` under `/1.0` holding `records`; writes change the store. `refresh_fails` answers the
/// first that many refreshes with 500.
async fn fake(records: Vec<(u64, Value)>, refresh_fails: usize) -> (FakeHttp, Store) {
    let store: Store = Arc::new(Mutex::new(records.into_iter().collect()));
    let s = store.clone();
    let refreshes = AtomicUsize::new(0);
    let f = FakeHttp::start(move |r| {
        if r.path() == "/1.0/auth/time" {
            assert_eq!(r.method, "GET");
            assert!(!r.headers.contains_key("x-ovh-signature"), "time is unsigned");
            return Reply::ok((now() + SKEW).to_string());
        }
        assert_eq!(r.headers["x-ovh-application"], AK);
        assert_eq!(r.headers["x-ovh-consumer"], CK);
        let ts: i64 = r.headers["x-ovh-timestamp"].parse().unwrap();
        assert!((ts - now() - SKEW).abs() <= 2, "server time used: {ts}");
        assert_eq!(r.headers["x-ovh-signature"], expected_signature(r), "{r:?}");
        if r.body.is_empty() {
            assert!(!r.headers.contains_key("content-type"), "{r:?}");
        } else {
            assert_eq!(r.headers["content-type"], "application/json");
        }
        let mut store = s.lock().unwrap();
        let not_found = || {
            Reply::status(
                404,
                r#"{"errorCode":"","httpCode":"404 Not Found","message":"This service does not exist"}"#,
            )
        };
        let base = "/1.0/domain/zone/example.com";
        match (r.method.as_str(), r.path()) {
            // Every zone of the account: an array of names, unpaged.
            ("GET", "/1.0/domain/zone") => {
                let mut all: Vec<String> = (0..29).map(|i| format!("ov{i:02}.fr")).collect();
                all.push("example.com".into());
                json_reply(&json!(all))
            }
            ("GET", p) if p == format!("{base}/record") => {
                let q = r.query();
                let ids: Vec<u64> = store
                    .iter()
                    .filter(|(_, v)| {
                        v["fieldType"] == q["fieldType"].as_str()
                            && v["subDomain"] == q["subDomain"].as_str()
                    })
                    .map(|(id, _)| *id)
                    .collect();
                json_reply(&json!(ids))
            }
            ("POST", p) if p == format!("{base}/record") => {
                let id = store.keys().max().copied().unwrap_or(0) + 1000;
                let mut v = r.json();
                v["id"] = json!(id);
                v["zone"] = json!("example.com");
                if v.get("ttl").is_none() {
                    v["ttl"] = json!(0);
                }
                store.insert(id, v.clone());
                json_reply(&v)
            }
            ("POST", p) if p == format!("{base}/refresh") => {
                assert!(r.body.is_empty());
                if refreshes.fetch_add(1, Ordering::SeqCst) < refresh_fails {
                    Reply::status(500, r#"{"message":"Internal server error"}"#)
                } else {
                    Reply::ok("null")
                }
            }
            (m, p) if p.starts_with(&format!("{base}/record/")) => {
                let id: u64 = p.rsplit('/').next().unwrap().parse().unwrap();
                let Some(v) = store.get_mut(&id) else {
                    return not_found();
                };
                match m {
                    "GET" => json_reply(v),
                    "PUT" => {
                        for (k, x) in r.json().as_object().unwrap() {
                            v[k] = x.clone();
                        }
                        Reply::ok("null")
                    }
                    "DELETE" => {
                        store.remove(&id);
                        Reply::ok("null")
                    }
                    _ => not_found(),
                }
            }
            _ => not_found(),
        }
    })
    .await;
    (f, store)
}

fn lines(f: &FakeHttp) -> Vec<String> {
    f.requests()
        .iter()
        .map(|r| {
            format!("{} {} {}", r.method, r.target, r.body)
                .trim_end()
                .to_owned()
        })
        .collect()
}

#[tokio::test]
async fn create_unchanged_update() {
    let (f, store) = fake(hand_made(), 0).await;
    let p = build(&cfg(&f.url("/1.0")));
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
            record_id: Some("1013".into())
        }
    );
    assert_eq!(
        lines(&f),
        [
            "GET /1.0/auth/time",
            "GET /1.0/domain/zone/example.com/record?fieldType=A&subDomain=home",
            r#"POST /1.0/domain/zone/example.com/record {"fieldType":"A","subDomain":"home","target":"198.51.100.7","ttl":120}"#,
            "POST /1.0/domain/zone/example.com/refresh",
        ]
    );

    // Holding the address: read, nothing written, no refresh, the server time not asked again.
    let n = f.requests().len();
    let out = update(&p, "home.example.com", RecordType::A, "198.51.100.7", None)
        .await
        .unwrap();
    assert!(matches!(out, UpdateOutcome::Unchanged { .. }), "{out:?}");
    assert_eq!(
        lines(&f)[n..],
        [
            "GET /1.0/domain/zone/example.com/record?fieldType=A&subDomain=home",
            "GET /1.0/domain/zone/example.com/record/1013",
        ]
    );

    // A new address: only the target is sent (the record keeps its TTL), then one refresh.
    let n = f.requests().len();
    update(&p, "home.example.com", RecordType::A, "198.51.100.8", None)
        .await
        .unwrap();
    assert_eq!(
        lines(&f)[n..],
        [
            "GET /1.0/domain/zone/example.com/record?fieldType=A&subDomain=home",
            "GET /1.0/domain/zone/example.com/record/1013",
            r#"PUT /1.0/domain/zone/example.com/record/1013 {"target":"198.51.100.8"}"#,
            "POST /1.0/domain/zone/example.com/refresh",
        ]
    );
    let store = store.lock().unwrap();
    for (id, v) in hand_made() {
        assert_eq!(store[&id], v, "hand-made record {id} kept");
    }
    assert_eq!(store[&1013]["ttl"], 120);
}

#[tokio::test]
async fn apex_duplicates_and_one_refresh() {
    let mut records = hand_made();
    records.push(rec(21, "", "A", "192.0.2.1", 0));
    records.push(rec(22, "", "A", "192.0.2.2", 0));
    let (f, store) = fake(records, 0).await;
    let p = build(&format!("{}\nzone = \"example.com\"", cfg(&f.url("/1.0"))));
    update(&p, "example.com", RecordType::A, "198.51.100.9", None)
        .await
        .unwrap();
    assert_eq!(
        lines(&f),
        [
            "GET /1.0/auth/time",
            "GET /1.0/domain/zone/example.com/record?fieldType=A&subDomain=",
            "GET /1.0/domain/zone/example.com/record/21",
            "GET /1.0/domain/zone/example.com/record/22",
            r#"PUT /1.0/domain/zone/example.com/record/21 {"target":"198.51.100.9"}"#,
            "DELETE /1.0/domain/zone/example.com/record/22",
            "POST /1.0/domain/zone/example.com/refresh",
        ]
    );
    let store = store.lock().unwrap();
    assert!(!store.contains_key(&22));
    for (id, v) in hand_made() {
        assert_eq!(store[&id], v, "hand-made record {id} kept");
    }
}

#[tokio::test]
async fn a_failed_refresh_is_sent_again_next_time() {
    let (f, _) = fake(hand_made(), 1).await;
    let p = build(&cfg(&f.url("/1.0")));
    let err = update(&p, "home.example.com", RecordType::A, "198.51.100.7", None)
        .await
        .unwrap_err();
    assert_eq!(err.class, ErrorClass::Transient, "{err:?}");
    // The record is there now; the refresh still is owed.
    let n = f.requests().len();
    let out = update(&p, "home.example.com", RecordType::A, "198.51.100.7", None)
        .await
        .unwrap();
    assert!(matches!(out, UpdateOutcome::Unchanged { .. }), "{out:?}");
    assert_eq!(
        lines(&f)[n..].last().unwrap(),
        "POST /1.0/domain/zone/example.com/refresh"
    );
    let n = f.requests().len();
    update(&p, "home.example.com", RecordType::A, "198.51.100.7", None)
        .await
        .unwrap();
    assert!(lines(&f)[n..].iter().all(|l| !l.contains("refresh")));
}

#[tokio::test]
async fn query_out_of_time_asks_the_time_again_once() {
    let (f, _) = fake(hand_made(), 0).await;
    let p = build(&cfg(&f.url("/1.0")));
    p.check("home.example.com", RecordType::A).await.unwrap();
    // Refuse the next signed call as out of time, then answer an empty list.
    let once: Mutex<Option<Reply>> = Mutex::new(Some(Reply::status(
        400,
        r#"{"errorCode":"QUERY_TIME_OUT","httpCode":"400 Bad Request","message":"Query out of time"}"#,
    )));
    f.set(move |r| {
        if r.path() == "/1.0/auth/time" {
            return Reply::ok((now() + SKEW).to_string());
        }
        if let Some(reply) = once.lock().unwrap().take() {
            return reply;
        }
        json_reply(&json!([]))
    });
    let n = f.requests().len();
    p.check("home.example.com", RecordType::A).await.unwrap();
    let paths: Vec<String> = f.requests()[n..]
        .iter()
        .map(|r| r.path().to_owned())
        .collect();
    assert_eq!(
        paths,
        [
            "/1.0/domain/zone/example.com/record",
            "/1.0/auth/time",
            "/1.0/domain/zone/example.com/record",
        ]
    );
}

#[tokio::test]
async fn failures() {
    common_failures(
        |e| cfg(&format!("{e}/1.0")),
        Reply::status(
            403,
            r#"{"errorCode":"INVALID_CREDENTIAL","httpCode":"403 Forbidden","message":"This credential is not valid"}"#,
        ),
        "home.example.com",
    )
    .await;
    for (status, body, class) in [
        (
            403,
            r#"{"errorCode":"NOT_GRANTED_CALL","httpCode":"403 Forbidden","message":"This call has not been granted"}"#,
            ErrorClass::Auth,
        ),
        (
            400,
            r#"{"errorCode":"INVALID_SIGNATURE","httpCode":"400 Bad Request","message":"Invalid signature"}"#,
            ErrorClass::Auth,
        ),
        (
            403,
            r#"{"errorCode":"INVALID_KEY","httpCode":"403 Forbidden","message":"This application key is invalid"}"#,
            ErrorClass::Auth,
        ),
        (
            404,
            r#"{"message":"This service does not exist"}"#,
            ErrorClass::Rejected,
        ),
        (
            460,
            r#"{"message":"This service is expired"}"#,
            ErrorClass::Banned { retry_after: None },
        ),
        (
            400,
            r#"{"errorCode":"QUERY_TIME_OUT","httpCode":"400 Bad Request","message":"Query out of time"}"#,
            ErrorClass::Transient,
        ),
    ] {
        let f = FakeHttp::start(move |r| {
            if r.path() == "/1.0/auth/time" {
                Reply::ok(now().to_string())
            } else {
                Reply::status(status, body)
            }
        })
        .await;
        let err = update(
            &build(&cfg(&f.url("/1.0"))),
            "home.example.com",
            RecordType::A,
            "198.51.100.1",
            None,
        )
        .await
        .unwrap_err();
        assert_eq!(err.class, class, "{body}: {err:?}");
        assert!(!err.message.contains("s3cret"), "{err:?}");
    }
}

#[test]
fn region_and_ttl_are_checked_at_load() {
    let base = format!(
        "[[provider]]\nname = \"p\"\nkind = \"ovh\"\napplication_key = \"{AK}\"\napplication_secret = \"{AS}\"\nconsumer_key = \"{CK}\"\n"
    );
    for region in ["eu", "ca", "us"] {
        if let Err(issues) = load_str(&format!("{base}region = \"{region}\"\n"), &|_: &str| None) {
            panic!("{region}: {issues:#?}");
        }
    }
    let issues = load_str(&format!("{base}region = \"ovh-eu\"\n"), &|_: &str| None).unwrap_err();
    assert!(
        issues.iter().any(|i| i.path.ends_with(".region")),
        "{issues:#?}"
    );
    let record = "[[record]]\nname = \"home.example.com\"\nprovider = \"p\"\ntype = \"A\"\n";
    let issues = load_str(&format!("{base}{record}ttl = 30\n"), &|_: &str| None).unwrap_err();
    assert!(
        issues.iter().any(|i| i.path.ends_with(".ttl")),
        "{issues:#?}"
    );
    assert!(load_str(&format!("{base}{record}ttl = 60\n"), &|_: &str| None).is_ok());
}

/// "Test" names the zones the credential sees (`GET /domain/zone`, signed as the fake recomputes it),
/// beside the check; a name in no zone fails with the zones still shown.
#[tokio::test]
async fn test_lists_the_domains_the_credential_sees() {
    let (f, _) = fake(vec![rec(21, "home", "A", "198.51.100.7", 0)], 0).await;
    let p = build(&cfg(&f.url("/1.0")));
    let said = ddns_tray::provider::test(p.as_ref(), "home.example.com", RecordType::A)
        .await
        .unwrap();
    let (check, zones) = said.split_once('\n').unwrap();
    assert_eq!(
        check,
        "credentials accepted; zone example.com; home.example.com A holds 198.51.100.7"
    );
    assert_eq!(
        zones,
        "domains this credential can see (30): example.com, ov00.fr, ov01.fr, ov02.fr, ov03.fr, ov04.fr, ov05.fr, ov06.fr, ov07.fr, ov08.fr, ov09.fr, ov10.fr and 18 more"
    );
    let lists: Vec<String> = f
        .requests()
        .iter()
        .filter(|r| r.path() == "/1.0/domain/zone")
        .map(|r| format!("{} {}", r.method, r.target))
        .collect();
    assert_eq!(lists, ["GET /1.0/domain/zone"]);

    let err = ddns_tray::provider::test(p.as_ref(), "home.example.org", RecordType::A)
        .await
        .unwrap_err();
    assert!(err.contains("This service does not exist"), "{err}");
    assert!(
        err.contains("\ndomains this credential can see (30): "),
        "{err}"
    );
}
