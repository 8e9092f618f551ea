//! JD Cloud DNS (`domainservice` v2) against a stateful fake written from docs/providers/jdcloud.md: GET
//! `/domain` and `/domain/{id}/ResourceRecord` (a `%like%` search, paged), POST/PUT with the fields under
//! `req`, DELETE; every request signed JDCLOUD2-HMAC-SHA256 (the fake recomputes it with ring from the
//! documented steps); errors as `{"error":{code, status, message}}`.
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

use ring::{digest, hmac};

use super::*;

const AK: &str = "JDC0TESTAK";
const SK: &str = "jd-s3cret";
const PREFIX: &str = "/v2/regions/cn-north-1";

fn cfg(endpoint: &str) -> String {
    format!(
        "kind = \"jdcloud\"\naccess_key_id = \"{AK}\"\naccess_key_secret = \"{SK}\"\nendpoint = \"{endpoint}{PREFIX}\""
    )
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn sha(s: &str) -> String {
    hex(digest::digest(&digest::SHA256, s.as_bytes()).as_ref())
}

fn mac(key: &[u8], msg: &str) -> Vec<u8> {
    hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, key), msg.as_bytes())
        .as_ref()
        .to_vec()
}

fn verify(r: &Request) -> Result<(), String> {
    let h = |n: &str| r.headers.get(n).cloned().unwrap_or_default();
    let date = h("x-jdcloud-date");
    let nonce = h("x-jdcloud-nonce");
    if date.len() != 16 || nonce.len() != 36 {
        return Err(format!("date `{date}` nonce `{nonce}`"));
    }
    if h("x-jdcloud-algorithm") != "JDCLOUD2-HMAC-SHA256" {
        return Err("x-jdcloud-algorithm".into());
    }
    let query = r.target.split_once('?').map_or("", |(_, q)| q);
    let canonical = format!(
        "{}\n{}\n{query}\ncontent-type:{}\nhost:{}\nx-jdcloud-date:{date}\nx-jdcloud-nonce:{nonce}\n\ncontent-type;host;x-jdcloud-date;x-jdcloud-nonce\n{}",
        r.method,
        r.path(),
        h("content-type"),
        h("host"),
        sha(&r.body)
    );
    let scope = format!("{}/cn-north-1/domainservice/jdcloud2_request", &date[..8]);
    let to_sign = format!("JDCLOUD2-HMAC-SHA256\n{date}\n{scope}\n{}", sha(&canonical));
    let k = mac(
        &mac(
            &mac(
                &mac(format!("JDCLOUD2{SK}").as_bytes(), &date[..8]),
                "cn-north-1",
            ),
            "domainservice",
        ),
        "jdcloud2_request",
    );
    let want = format!(
        "JDCLOUD2-HMAC-SHA256 Credential={AK}/{scope}, SignedHeaders=content-type;host;x-jdcloud-date;x-jdcloud-nonce, Signature={}",
        hex(&mac(&k, &to_sign))
    );
    if h("authorization") == want {
        Ok(())
    } else {
        Err(format!(
            "authorization `{}`, want `{want}`",
            h("authorization")
        ))
    }
}

fn error(status: u16, name: &str, message: &str) -> Reply {
    Reply::status(
        status,
        json!({ "requestId": "bgvmivir1wa3h6eqhbtwdqh3ftq8qq4w", "error": { "code": status, "status": name, "message": message } })
            .to_string(),
    )
}

fn ok(result: &Value) -> Reply {
    json_reply(&json!({ "requestId": "c5ka4h2u2ftt2n0dm0nukbqwfq8uuju2", "result": result }))
}

#[derive(Clone)]
struct Rec {
    id: u64,
    host: String,
    rtype: String,
    value: String,
    ttl: u64,
    view: Vec<i64>,
}

fn rec(id: u64, host: &str, rtype: &str, value: &str, view: &[i64]) -> Rec {
    Rec {
        id,
        host: host.into(),
        rtype: rtype.into(),
        value: value.into(),
        ttl: 600,
        view: view.to_vec(),
    }
}

type State = Arc<Mutex<Vec<Rec>>>;

fn page<T: Clone>(items: &[T], q: &std::collections::BTreeMap<String, String>) -> (Vec<T>, usize) {
    let (n, size): (usize, usize) = (
        q["pageNumber"].parse().unwrap(),
        q["pageSize"].parse().unwrap(),
    );
    let pages = items.len().div_ceil(size).max(1);
    (
        items
            .iter()
            .skip((n - 1) * size)
            .take(size)
            .cloned()
            .collect(),
        pages,
    )
}

async fn fake(state: State) -> FakeHttp {
    FakeHttp::start(move |r| {
        if let Err(e) = verify(r) {
            return error(401, "UNAUTHENTICATED", &e);
        }
        assert_eq!(r.headers["content-type"], "application/json");
        let q = r.query();
        let path = r.path().strip_prefix(PREFIX).expect("the region path").to_owned();
        let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        let mut recs = state.lock().unwrap();
        match (r.method.as_str(), parts.as_slice()) {
            ("GET", ["domain"]) => {
                // Without `domainName` every domain (150), 100 a page.
                let like = q.get("domainName").cloned().unwrap_or_default();
                let all: Vec<Value> = [(20, "example.com".to_owned(), 0), (21, "myexample.com".to_owned(), 0)]
                    .into_iter()
                    .chain((0..148).map(|i| (100 + i, format!("jd{i:03}.cn"), 0)))
                    .filter(|(_, n, _)| n.contains(like.as_str()))
                    .map(|(id, n, pack)| json!({ "id": id, "domainName": n, "packId": pack, "packName": "免费版", "resolvingStatus": "2", "lockStatus": 0 }))
                    .collect();
                let (list, pages) = page(&all, &q);
                ok(&json!({ "dataList": list, "currentCount": list.len(), "totalCount": all.len(), "totalPage": pages }))
            }
            ("GET", ["domain", "20", "ResourceRecord"]) => {
                assert!(r.body.is_empty());
                let hits: Vec<Value> = recs
                    .iter()
                    .filter(|x| x.host.contains(q["search"].as_str()))
                    .map(|x| json!({ "id": x.id, "hostRecord": x.host, "hostValue": x.value, "type": x.rtype, "ttl": x.ttl,
                        "viewValue": x.view, "viewName": "", "weight": 0, "mxPriority": 0, "port": 0, "jcloudRes": false,
                        "resolvingStatus": "2", "updateTime": 1_700_000_000_000_u64, "creator": "me" }))
                    .collect();
                let (list, pages) = page(&hits, &q);
                ok(&json!({ "dataList": list, "currentCount": list.len(), "totalCount": hits.len(), "totalPage": pages }))
            }
            ("POST", ["domain", "20", "ResourceRecord"]) => {
                let b = r.json();
                let req = &b["req"];
                assert_eq!(req.as_object().unwrap().len(), 5, "{b}");
                let new = Rec {
                    id: 9000 + recs.len() as u64,
                    host: req["hostRecord"].as_str().unwrap().into(),
                    rtype: req["type"].as_str().unwrap().into(),
                    value: req["hostValue"].as_str().unwrap().into(),
                    ttl: req["ttl"].as_u64().unwrap(),
                    view: vec![req["viewValue"].as_i64().unwrap()],
                };
                let out = json!({ "dataList": { "id": new.id, "hostRecord": new.host, "hostValue": new.value, "ttl": new.ttl,
                    "type": new.rtype, "weight": 0, "viewValue": new.view } });
                recs.push(new);
                ok(&out)
            }
            ("PUT", ["domain", "20", "ResourceRecord", id]) => {
                let b = r.json();
                let req = &b["req"];
                for k in ["domainName", "hostRecord", "hostValue", "ttl", "type", "viewValue"] {
                    assert!(!req[k].is_null(), "{k} is required: {b}");
                }
                assert_eq!(req["domainName"], "example.com");
                let Some(x) = recs.iter_mut().find(|x| x.id.to_string() == *id) else {
                    return error(404, "NOT_FOUND", "record not found");
                };
                assert_eq!(req["viewValue"], *x.view.last().unwrap(), "the record keeps its line");
                x.value = req["hostValue"].as_str().unwrap().into();
                x.ttl = req["ttl"].as_u64().unwrap();
                ok(&json!({}))
            }
            ("DELETE", ["domain", "20", "ResourceRecord", id]) => {
                assert!(r.body.is_empty());
                recs.retain(|x| x.id.to_string() != *id);
                json_reply(&json!({ "requestId": "x" }))
            }
            _ => error(404, "NOT_FOUND", "no such resource"),
        }
    })
    .await
}

/// Hand-made: other types, `www`, another line (path [1, 10]); 150 `homeN` records that the substring
/// search also returns make two pages.
fn zone_with(extra: Vec<Rec>) -> State {
    let mut recs = vec![
        rec(1, "home", "TXT", "\"v=hand\"", &[-1]),
        rec(2, "www", "A", "192.0.2.80", &[-1]),
        rec(3, "home", "A", "203.0.113.1", &[1, 10]),
        rec(4, "home", "AAAA", "2001:db8::1", &[-1]),
    ];
    recs.extend((0..150).map(|i| rec(100 + i, &format!("home{i}"), "A", "192.0.2.1", &[-1])));
    recs.extend(extra);
    Arc::new(Mutex::new(recs))
}

fn calls(f: &FakeHttp) -> Vec<String> {
    f.requests()
        .iter()
        .map(|r| {
            let q = r.query();
            let p = r.path().strip_prefix(PREFIX).unwrap_or("?");
            match q.get("pageNumber") {
                Some(n) => format!("{} {p} {n}", r.method),
                None => format!("{} {p}", r.method),
            }
        })
        .collect()
}

#[tokio::test]
async fn create_update_unchanged_signed_and_paged() {
    let state = zone_with(vec![]);
    let f = fake(state.clone()).await;
    let p = build(&cfg(&f.url("")));
    let out = update(&p, "home.example.com", RecordType::A, "198.51.100.7", None)
        .await
        .unwrap();
    let UpdateOutcome::Updated {
        record_id: Some(id),
    } = out
    else {
        panic!("{out:?}")
    };
    assert_eq!(
        calls(&f),
        [
            "GET /domain 1",
            "GET /domain 1",
            "GET /domain/20/ResourceRecord 1",
            "GET /domain/20/ResourceRecord 2",
            "POST /domain/20/ResourceRecord",
        ]
    );
    let reqs = f.requests();
    assert_eq!(reqs[0].query()["domainName"], "home.example.com");
    assert_eq!(reqs[1].query()["domainName"], "example.com");
    let list = reqs[2].query();
    assert_eq!(
        (list["search"].as_str(), list["pageSize"].as_str()),
        ("home", "99")
    );
    assert_eq!(
        reqs[4].json(),
        json!({ "req": { "hostRecord": "home", "hostValue": "198.51.100.7", "ttl": 600, "type": "A", "viewValue": -1 } })
    );

    let f = fake(state.clone()).await;
    let p = build(&cfg(&f.url("")));
    let out = update(
        &p,
        "home.example.com",
        RecordType::A,
        "198.51.100.8",
        Some(120),
    )
    .await
    .unwrap();
    assert_eq!(
        out,
        UpdateOutcome::Updated {
            record_id: Some(id.clone())
        }
    );
    let w = f.requests().pop().unwrap();
    assert_eq!(
        (w.method.as_str(), w.path()),
        (
            "PUT",
            format!("{PREFIX}/domain/20/ResourceRecord/{id}").as_str()
        )
    );
    assert_eq!(
        w.json(),
        json!({ "req": { "domainName": "example.com", "hostRecord": "home", "hostValue": "198.51.100.8", "ttl": 120, "type": "A", "viewValue": -1 } })
    );

    let f = fake(state.clone()).await;
    let p = build(&cfg(&f.url("")));
    let out = update(&p, "home.example.com", RecordType::A, "198.51.100.8", None)
        .await
        .unwrap();
    assert_eq!(
        out,
        UpdateOutcome::Unchanged {
            record_id: Some(id)
        }
    );
    assert!(calls(&f).iter().all(|c| c.starts_with("GET")));

    let recs = state.lock().unwrap();
    assert_eq!(recs.len(), 4 + 150 + 1);
    for (i, v) in [
        (1, "\"v=hand\""),
        (2, "192.0.2.80"),
        (3, "203.0.113.1"),
        (4, "2001:db8::1"),
    ] {
        assert!(
            recs.iter().any(|x| x.id == i && x.value == v),
            "hand-made {i}"
        );
    }
    assert!(
        recs.iter()
            .filter(|x| x.host.starts_with("home") && x.host != "home")
            .all(|x| x.value == "192.0.2.1")
    );
}

/// The default line's duplicate goes; the record on line 10 stays; `line = "10"` manages only it.
#[tokio::test]
async fn lines_and_duplicates() {
    let state = zone_with(vec![
        rec(60, "home", "A", "198.51.100.1", &[-1]),
        rec(61, "home", "A", "198.51.100.2", &[-1]),
    ]);
    let f = fake(state.clone()).await;
    update(
        &build(&cfg(&f.url(""))),
        "home.example.com",
        RecordType::A,
        "198.51.100.9",
        None,
    )
    .await
    .unwrap();
    let w: Vec<String> = calls(&f)
        .into_iter()
        .filter(|c| !c.starts_with("GET"))
        .collect();
    assert_eq!(
        w,
        [
            "PUT /domain/20/ResourceRecord/60",
            "DELETE /domain/20/ResourceRecord/61"
        ]
    );
    assert!(
        state
            .lock()
            .unwrap()
            .iter()
            .any(|x| x.id == 3 && x.value == "203.0.113.1")
    );

    let f = fake(state.clone()).await;
    update(
        &build(&format!("{}\nline = \"10\"", cfg(&f.url("")))),
        "home.example.com",
        RecordType::A,
        "203.0.113.9",
        None,
    )
    .await
    .unwrap();
    let w: Vec<Request> = f
        .requests()
        .into_iter()
        .filter(|r| r.method != "GET")
        .collect();
    assert_eq!(w.len(), 1);
    assert_eq!(w[0].path(), format!("{PREFIX}/domain/20/ResourceRecord/3"));
    assert_eq!(w[0].json()["req"]["viewValue"], 10);
}

#[tokio::test]
async fn failures() {
    common_failures(
        cfg,
        error(401, "UNAUTHENTICATED", "signature mismatch"),
        "home.example.com",
    )
    .await;
    let cases = [
        (
            error(403, "PERMISSION_DENIED", "no permission"),
            ErrorClass::Auth,
        ),
        (
            error(400, "RESOURCE_EXHAUSTED", "too many"),
            ErrorClass::RateLimited { retry_after: None },
        ),
        (error(400, "INVALID_ARGUMENT", "bad"), ErrorClass::Rejected),
        (error(500, "INTERNAL", "oops"), ErrorClass::Transient),
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
    let f = fake(zone_with(vec![])).await;
    let err = update(
        &build(&cfg(&f.url(""))),
        "home.xample.com",
        RecordType::A,
        "198.51.100.1",
        None,
    )
    .await
    .unwrap_err();
    assert_eq!(err.class, ErrorClass::Rejected, "{err:?}");
}

/// A line that is not a number is a config error naming the field.
#[test]
fn line_must_be_a_view_id() {
    let text = format!(
        "[[provider]]\nname = \"p\"\n{}\nline = \"telecom\"\n",
        cfg("http://127.0.0.1:1")
    );
    let issues = load_str(&text, &|_: &str| None).map(|_| ()).unwrap_err();
    assert!(
        issues
            .iter()
            .any(|i| i.path == "provider[0].line" && i.message.contains("telecom")),
        "{issues:?}"
    );
}

/// "Test" names the domains the credential sees (`describeDomains` without `domainName`, both pages, each
/// request signed as the fake checks), beside the check; a name in no domain fails with the domains shown.
#[tokio::test]
async fn test_lists_the_domains_the_credential_sees() {
    let state: State = Arc::new(Mutex::new(vec![rec(5, "home", "A", "198.51.100.7", &[-1])]));
    let f = fake(state).await;
    let p = build(&cfg(&f.url("")));
    let said = ddns_tray::provider::test(p.as_ref(), "home.example.com", RecordType::A)
        .await
        .unwrap();
    let (check, zones) = said.split_once('\n').unwrap();
    assert_eq!(
        check,
        "credentials accepted; zone example.com; home.example.com A holds 198.51.100.7 (line -1)"
    );
    assert!(
        zones.starts_with(
            "domains this credential can see (150): example.com, jd000.cn, jd001.cn, "
        ),
        "{zones}"
    );
    assert!(zones.ends_with(" and 138 more"), "{zones}");
    let lists: Vec<String> = f
        .requests()
        .iter()
        .filter(|r| r.path() == format!("{PREFIX}/domain") && !r.query().contains_key("domainName"))
        .map(|r| format!("{} {}", r.method, r.target))
        .collect();
    assert_eq!(
        lists,
        [
            format!("GET {PREFIX}/domain?pageNumber=1&pageSize=100"),
            format!("GET {PREFIX}/domain?pageNumber=2&pageSize=100"),
        ]
    );

    let err = ddns_tray::provider::test(p.as_ref(), "home.example.org", RecordType::A)
        .await
        .unwrap_err();
    assert!(
        err.contains("no domain in this account holds home.example.org"),
        "{err}"
    );
    assert!(
        err.contains("\ndomains this credential can see (150): "),
        "{err}"
    );
}
