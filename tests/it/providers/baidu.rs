//! Baidu AI Cloud BCD resolve API against a stateful fake written from docs/providers/baidu.md: every call a
//! signed POST with a JSON body under `/v1/domain/resolve/` (the fake recomputes `bce-auth-v1` with ring from
//! the documented steps), `list` paged by `pageNo`/`pageSize`, errors as `{requestId, code, message}`.
// The fake's arithmetic is on small test values; its names follow the API's (`sk`/`ak`, `req`/`reqs`).
#![allow(
    clippy::similar_names,
    clippy::format_collect,
    clippy::cast_possible_truncation,
    clippy::cast_possible_wrap,
    clippy::doc_markdown,
    clippy::useless_format
)]

use std::sync::Mutex;

use ring::hmac;

use super::*;

const AK: &str = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
const SK: &str = "bce-s3cret";

fn cfg(endpoint: &str) -> String {
    format!(
        "kind = \"baidu\"\naccess_key_id = \"{AK}\"\nsecret_access_key = \"{SK}\"\nendpoint = \"{endpoint}\""
    )
}

fn hmac_hex(key: &[u8], msg: &str) -> String {
    hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, key), msg.as_bytes())
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// bce-auth-v1 from the documented steps, signing `host;x-bce-date`.
fn verify(r: &Request) -> Result<(), String> {
    let h = |n: &str| r.headers.get(n).cloned().unwrap_or_default();
    let date = h("x-bce-date");
    let prefix = format!("bce-auth-v1/{AK}/{date}/1800");
    let key = hmac_hex(SK.as_bytes(), &prefix);
    let canonical = format!(
        "POST\n{}\n\nhost:{}\nx-bce-date:{}",
        r.path(),
        h("host").replace(':', "%3A"),
        date.replace(':', "%3A")
    );
    let want = format!(
        "{prefix}/host;x-bce-date/{}",
        hmac_hex(key.as_bytes(), &canonical)
    );
    if date.len() == 20 && h("authorization") == want {
        Ok(())
    } else {
        Err(format!(
            "authorization `{}`, want `{want}`",
            h("authorization")
        ))
    }
}

fn error(status: u16, code: &str, message: &str) -> Reply {
    Reply::status(
        status,
        json!({ "requestId": "ae2225f7-1c2e-427a-a1ad-5413b762957d", "code": code, "message": message })
            .to_string(),
    )
}

#[derive(Clone)]
struct Rec {
    id: u64,
    host: String,
    rtype: String,
    value: String,
    ttl: u64,
    view: String,
}

fn rec(id: u64, host: &str, rtype: &str, value: &str, view: &str) -> Rec {
    Rec {
        id,
        host: host.into(),
        rtype: rtype.into(),
        value: value.into(),
        ttl: 300,
        view: view.into(),
    }
}

type State = Arc<Mutex<Vec<Rec>>>;

async fn fake(state: State) -> FakeHttp {
    FakeHttp::start(move |r| {
        if let Err(e) = verify(r) {
            return error(400, "SignatureDoesNotMatch", &e);
        }
        assert_eq!(r.method, "POST");
        assert!(r.headers["content-type"].starts_with("application/json"));
        let b = r.json();
        let mut recs = state.lock().unwrap();
        match r.path() {
            "/v1/domain/resolve/list" => {
                assert_eq!(b.as_object().unwrap().len(), 3, "{b}");
                if b["domain"] != "example.com" {
                    return error(404, "NoSuchKey", "The resource you requested does not exist");
                }
                let (page, size) = (b["pageNo"].as_u64().unwrap() as usize, b["pageSize"].as_u64().unwrap() as usize);
                let result: Vec<Value> = recs
                    .iter()
                    .skip((page - 1) * size)
                    .take(size)
                    .map(|x| json!({ "recordId": x.id, "domain": x.host, "view": x.view, "rdtype": x.rtype, "ttl": x.ttl,
                        "rdata": x.value, "zoneName": "example.com", "status": "RUNNING" }))
                    .collect();
                json_reply(&json!({ "orderBy": "domain", "order": "desc", "pageNo": page, "pageSize": size,
                    "totalCount": recs.len(), "result": result }))
            }
            "/v1/domain/resolve/add" => {
                assert_eq!(b["zoneName"], "example.com");
                let id = 21_311_200 + recs.len() as u64;
                recs.push(Rec {
                    id,
                    host: b["domain"].as_str().unwrap().into(),
                    rtype: b["rdType"].as_str().unwrap().into(),
                    value: b["rdata"].as_str().unwrap().into(),
                    ttl: b["ttl"].as_u64().unwrap(),
                    view: b["view"].as_str().unwrap().into(),
                });
                Reply::ok("")
            }
            "/v1/domain/resolve/edit" => {
                assert_eq!(b["zoneName"], "example.com");
                let Some(x) = recs.iter_mut().find(|x| b["recordId"] == x.id) else {
                    return error(404, "NoSuchKey", "no such record");
                };
                assert_eq!(b["view"], x.view.as_str(), "the record keeps its view");
                assert_eq!(b["domain"], x.host.as_str());
                x.value = b["rdata"].as_str().unwrap().into();
                x.ttl = b["ttl"].as_u64().unwrap();
                json_reply(&json!({}))
            }
            "/v1/domain/resolve/delete" => {
                assert_eq!(b.as_object().unwrap().len(), 2, "{b}");
                assert_eq!(b["zoneName"], "example.com");
                recs.retain(|x| b["recordId"] != x.id);
                Reply::ok("")
            }
            other => error(404, "InvalidURI", other),
        }
    })
    .await
}

fn paths(f: &FakeHttp) -> Vec<String> {
    f.requests()
        .iter()
        .map(|r| {
            let p = r
                .path()
                .trim_start_matches("/v1/domain/resolve/")
                .to_owned();
            if p == "list" {
                format!(
                    "list {} {}",
                    r.json()["domain"].as_str().unwrap(),
                    r.json()["pageNo"]
                )
            } else {
                p
            }
        })
        .collect()
}

/// Hand-made records: other types, other names, another view; 150 fillers make the listing two pages.
fn zone_with(extra: Vec<Rec>) -> State {
    let mut recs = vec![
        rec(1, "home", "TXT", "\"v=hand\"", "DEFAULT"),
        rec(2, "www", "A", "192.0.2.80", "DEFAULT"),
        rec(3, "home", "A", "203.0.113.1", "CT"),
        rec(4, "home.", "MX", "10 mail.example.com.", "DEFAULT"),
    ];
    recs.extend((0..150).map(|i| rec(100 + i, &format!("host{i}"), "A", "192.0.2.1", "DEFAULT")));
    recs.extend(extra);
    Arc::new(Mutex::new(recs))
}

#[tokio::test]
async fn create_update_unchanged_signed_and_paged() {
    let state = zone_with(vec![]);
    let f = fake(state.clone()).await;
    let p = build(&cfg(&f.url("")));
    let out = update(&p, "home.example.com", RecordType::A, "198.51.100.7", None)
        .await
        .unwrap();
    assert_eq!(out, UpdateOutcome::Updated { record_id: None });
    assert_eq!(
        paths(&f),
        [
            "list home.example.com 1",
            "list example.com 1",
            "list example.com 1",
            "list example.com 2",
            "add"
        ]
    );
    let reqs = f.requests();
    assert_eq!(
        reqs[0].json(),
        json!({ "domain": "home.example.com", "pageNo": 1, "pageSize": 1 })
    );
    assert_eq!(
        reqs[2].json(),
        json!({ "domain": "example.com", "pageNo": 1, "pageSize": 100 })
    );
    assert_eq!(
        reqs[4].json(),
        json!({ "domain": "home", "rdType": "A", "ttl": 300, "rdata": "198.51.100.7", "zoneName": "example.com", "view": "DEFAULT" })
    );
    let id = state.lock().unwrap().last().unwrap().id;

    // Moved: the whole record is edited, on its view, with the configured TTL.
    let f = fake(state.clone()).await;
    let p = build(&cfg(&f.url("")));
    let out = update(
        &p,
        "home.example.com",
        RecordType::A,
        "198.51.100.8",
        Some(600),
    )
    .await
    .unwrap();
    assert_eq!(
        out,
        UpdateOutcome::Updated {
            record_id: Some(id.to_string())
        }
    );
    let w = f.requests().pop().unwrap();
    assert_eq!(w.path(), "/v1/domain/resolve/edit");
    assert_eq!(
        w.json(),
        json!({ "recordId": id, "domain": "home", "view": "DEFAULT", "rdType": "A", "ttl": 600, "rdata": "198.51.100.8", "zoneName": "example.com" })
    );

    // Unchanged: reads only.
    let f = fake(state.clone()).await;
    let p = build(&cfg(&f.url("")));
    let out = update(&p, "home.example.com", RecordType::A, "198.51.100.8", None)
        .await
        .unwrap();
    assert_eq!(
        out,
        UpdateOutcome::Unchanged {
            record_id: Some(id.to_string())
        }
    );
    assert!(paths(&f).iter().all(|p| p.starts_with("list")));

    let recs = state.lock().unwrap();
    assert_eq!(recs.len(), 4 + 150 + 1);
    for (i, v) in [
        (1, "\"v=hand\""),
        (2, "192.0.2.80"),
        (3, "203.0.113.1"),
        (4, "10 mail.example.com."),
    ] {
        assert!(
            recs.iter().any(|x| x.id == i && x.value == v),
            "hand-made {i}"
        );
    }
}

/// AAAA values are sent in upper case; the default view's duplicate goes, the `CT` view is never touched;
/// `line = "CT"` manages only it.
#[tokio::test]
async fn views_duplicates_and_aaaa_case() {
    let state = zone_with(vec![
        rec(50, "home", "AAAA", "2001:DB8::1", "DEFAULT"),
        rec(51, "home", "AAAA", "2001:DB8::2", "DEFAULT"),
        rec(52, "home", "AAAA", "2001:DB8::3", "CT"),
    ]);
    let f = fake(state.clone()).await;
    let p = build(&cfg(&f.url("")));
    update_with(
        &p,
        "home.example.com",
        RecordType::Aaaa,
        &["2001:db8::abcd"],
        None,
        Some("2001:db8::2"),
    )
    .await
    .unwrap();
    let writes: Vec<String> = f
        .requests()
        .iter()
        .filter(|r| !r.path().ends_with("list"))
        .map(|r| {
            format!(
                "{} {} {}",
                r.path().rsplit('/').next().unwrap(),
                r.json()["recordId"],
                r.json()["rdata"].as_str().unwrap_or("")
            )
        })
        .collect();
    assert_eq!(writes, ["edit 51 2001:DB8::ABCD", "delete 50 "]);
    assert!(
        state
            .lock()
            .unwrap()
            .iter()
            .any(|x| x.id == 52 && x.value == "2001:DB8::3")
    );

    let f = fake(state.clone()).await;
    let p = build(&format!("{}\nline = \"CT\"", cfg(&f.url(""))));
    update(&p, "home.example.com", RecordType::A, "203.0.113.9", None)
        .await
        .unwrap();
    let w: Vec<Value> = f
        .requests()
        .iter()
        .filter(|r| !r.path().ends_with("list"))
        .map(Request::json)
        .collect();
    assert_eq!(
        w,
        [
            json!({ "recordId": 3, "domain": "home", "view": "CT", "rdType": "A", "ttl": 300, "rdata": "203.0.113.9", "zoneName": "example.com" })
        ]
    );
}

#[tokio::test]
async fn failures() {
    common_failures(
        cfg,
        error(
            403,
            "InvalidAccessKeyId",
            "The Access Key ID you provided does not exist",
        ),
        "home.example.com",
    )
    .await;
    let cases = [
        (error(400, "SignatureDoesNotMatch", "bad"), ErrorClass::Auth),
        (error(400, "RequestExpired", "expired"), ErrorClass::Auth),
        (error(200, "AccessDenied", "not allowed"), ErrorClass::Auth),
        (error(500, "InternalError", "oops"), ErrorClass::Transient),
        (
            error(400, "MalformedJSON", "bad json"),
            ErrorClass::Rejected,
        ),
    ];
    for (reply, want) in cases {
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
        assert_eq!(err.class, want, "{err:?}");
        assert!(!err.message.contains(SK), "{err:?}");
    }
    // No suffix is a domain of the account.
    let f = fake(zone_with(vec![])).await;
    let err = update(
        &build(&cfg(&f.url(""))),
        "a.other.org",
        RecordType::A,
        "198.51.100.1",
        None,
    )
    .await
    .unwrap_err();
    assert_eq!(err.class, ErrorClass::Rejected, "{err:?}");
    assert!(paths(&f).iter().all(|p| p.starts_with("list")));
}
