//! 51DNS / DNS.COM against a fake written from the request and answer shapes in `docs/providers/dnscom.md`
//! (the signing doc, `GoEdge`'s client, NewFuture/DDNS): GET `/api/<group>/<op>/` with `apiKey`, `timestamp`
//! and `hash`; `{"code":0,"message":…,"data":…}`; fuzzy `domain/search` and `record/list` (the client
//! filters), pages up to `pageCount`, lines as `viewID` (0 = default) named by the line lists.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use md5::{Digest as _, Md5};

use super::*;

const KEY: &str = "c7722149110b7492a2e5cf1d8f3f966b";
const SECRET: &str = "dnscom-s3cret";

fn cfg(endpoint: &str) -> String {
    format!(
        "kind = \"dnscom\"\napi_key = \"{KEY}\"\napi_secret = \"{SECRET}\"\nendpoint = \"{endpoint}\""
    )
}

fn ok(data: &Value) -> Reply {
    json_reply(&json!({ "code": 0, "message": "", "data": data }))
}

/// The doc's steps, written out: every parameter but `hash`, sorted by name, `k=v` joined by `&`, the secret
/// appended, MD5 in lower-case hex.
fn expected_hash(q: &BTreeMap<String, String>) -> String {
    let joined: Vec<String> = q
        .iter()
        .filter(|(k, _)| k.as_str() != "hash")
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    Md5::digest(format!("{}{SECRET}", joined.join("&")).as_bytes())
        .iter()
        .fold(String::new(), |mut out, b| {
            let _ = write!(out, "{b:02x}");
            out
        })
}

fn rec(id: &str, host: &str, rtype: &str, value: &str, view: &str) -> Value {
    json!({ "recordID": id, "record": host, "type": rtype, "value": value, "TTL": 600, "viewID": view, "remark": "" })
}

/// Hand-made records that must survive: an AAAA and a TXT at the name, the name on 电信 (view 285278208).
fn hand_made() -> Vec<Value> {
    vec![
        rec("501", "home", "AAAA", "2001:db8::1", "0"),
        rec("502", "home", "TXT", "v=spf1 -all", "0"),
        rec("503", "home", "A", "203.0.113.1", "285278208"),
    ]
}

/// example.com (id 3001); searches and host filters are fuzzy ("contains"); 105 records at `home1`…
/// `home105` come first, so with pages of 100 the name's records are on page 2.
async fn fake(records: Vec<Value>) -> FakeHttp {
    FakeHttp::start(move |r| {
        let q = r.query();
        if r.method != "GET" || q.get("apiKey").map(String::as_str) != Some(KEY) {
            return json_reply(&json!({ "code": 10001, "message": "apiKey error" }));
        }
        if q.get("hash") != Some(&expected_hash(&q)) {
            return json_reply(&json!({ "code": 10002, "message": "hash sign error" }));
        }
        let page: usize = q.get("page").and_then(|p| p.parse().ok()).unwrap_or(1);
        let size: usize = q.get("pageSize").and_then(|p| p.parse().ok()).unwrap_or(100);
        let paged = |all: Vec<Value>| {
            let items: Vec<Value> = all.iter().skip((page - 1) * size).take(size).cloned().collect();
            ok(&json!({ "pageCount": all.len().div_ceil(size).max(1), "page": page, "data": items }))
        };
        match r.path() {
            "/api/domain/search/" => paged(
                [("3001", "example.com"), ("3002", "myexample.com")]
                    .iter()
                    .filter(|(_, d)| d.contains(q["query"].as_str()))
                    .map(|(id, d)| json!({ "domainsID": id, "domains": d }))
                    .collect(),
            ),
            // 150 domains (`domain/list`), 100 a page.
            "/api/domain/list/" => paged(
                [("3001".to_owned(), "example.com".to_owned()), ("3002".to_owned(), "myexample.com".to_owned())]
                    .into_iter()
                    .chain((0..148).map(|i| (format!("4{i:03}"), format!("d{i:03}.com.cn"))))
                    .map(|(id, d)| json!({ "domainsID": id, "domains": d, "state": 1, "recordCount": 2 }))
                    .collect(),
            ),
            "/api/record/list/" if q["domainID"] == "3001" => {
                let mut all: Vec<Value> =
                    (1..=105).map(|i| rec(&format!("9{i}"), &format!("home{i}"), "A", "192.0.2.1", "0")).collect();
                all.extend(records.iter().cloned());
                all.retain(|v| v["record"].as_str().unwrap().contains(q["host"].as_str()));
                paged(all)
            }
            "/api/ip/areaviewlist/" => ok(&json!([{ "viewID": "0", "name": "默认" }, { "viewID": "285344768", "name": "境外" }])),
            "/api/ip/ispviewlist/" => ok(&json!([{ "viewID": "285278208", "name": "电信" }, { "viewID": "285278209", "name": "联通" }])),
            "/api/record/create/" => ok(&json!({ "recordID": "5001", "record": q["host"] })),
            "/api/record/modify/" | "/api/record/remove/" => ok(&json!({})),
            _ => json_reply(&json!({ "code": 404, "message": "domain not found" })),
        }
    })
    .await
}

fn write_log(f: &FakeHttp) -> Vec<String> {
    f.requests()
        .iter()
        .filter(|r| {
            matches!(
                r.path(),
                "/api/record/create/" | "/api/record/modify/" | "/api/record/remove/"
            )
        })
        .map(|r| {
            let q: Vec<String> = r
                .query()
                .into_iter()
                .filter(|(k, _)| !matches!(k.as_str(), "apiKey" | "timestamp" | "hash"))
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            format!("{} {}", r.path(), q.join(" "))
        })
        .collect()
}

#[tokio::test]
async fn create_signed_and_paged() {
    let f = fake(hand_made()).await;
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
            record_id: Some("5001".into())
        }
    );
    let reqs = f.requests();
    for r in &reqs {
        let q = r.query();
        let ts: u64 = q["timestamp"].parse().unwrap();
        assert!(
            (1_700_000_000..10_000_000_000).contains(&ts),
            "Unix seconds: {ts}"
        );
        assert_eq!(q["hash"], expected_hash(&q));
    }
    let calls: Vec<String> = reqs
        .iter()
        .map(|r| {
            let q = r.query();
            format!(
                "{} {}",
                r.path(),
                q.get("query").or(q.get("page")).map_or("", String::as_str)
            )
        })
        .collect();
    assert_eq!(
        calls,
        [
            "/api/domain/search/ home.example.com",
            "/api/domain/search/ example.com",
            "/api/record/list/ 1",
            "/api/record/list/ 2",
            "/api/ip/areaviewlist/ ",
            "/api/ip/ispviewlist/ ",
            "/api/record/create/ ",
        ]
    );
    assert_eq!(
        write_log(&f),
        ["/api/record/create/ TTL=600 domainID=3001 host=home type=A value=198.51.100.7 viewID=0"]
    );
}

#[tokio::test]
async fn update_lines_duplicates_and_unchanged() {
    let mut records = hand_made();
    records.push(rec("601", "home", "A", "198.51.100.6", "0"));
    records.push(rec("602", "home", "A", "198.51.100.5", "0"));
    let f = fake(records.clone()).await;
    update(
        &build(&cfg(&f.url(""))),
        "home.example.com",
        RecordType::A,
        "198.51.100.7",
        Some(120),
    )
    .await
    .unwrap();
    assert_eq!(
        write_log(&f),
        [
            "/api/record/modify/ domainID=3001 newhost=home newttl=120 newtype=A newvalue=198.51.100.7 newviewID=0 recordID=601",
            "/api/record/remove/ domainID=3001 recordID=602",
        ]
    );

    let f = fake(records.clone()).await;
    update_with(
        &build(&cfg(&f.url(""))),
        "home.example.com",
        RecordType::A,
        &["203.0.113.9"],
        Some("电信"),
        None,
    )
    .await
    .unwrap();
    assert_eq!(
        write_log(&f),
        [
            "/api/record/modify/ domainID=3001 newhost=home newttl=600 newtype=A newvalue=203.0.113.9 newviewID=285278208 recordID=503"
        ]
    );

    let f = fake(records).await;
    update_with(
        &build(&format!("{}\nline = \"联通\"", cfg(&f.url("")))),
        "home.example.com",
        RecordType::A,
        &["203.0.113.10"],
        None,
        None,
    )
    .await
    .unwrap();
    assert_eq!(
        write_log(&f),
        [
            "/api/record/create/ TTL=600 domainID=3001 host=home type=A value=203.0.113.10 viewID=285278209"
        ]
    );

    let mut records = hand_made();
    records.push(rec("601", "home", "A", "198.51.100.7", "0"));
    let f = fake(records).await;
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
        UpdateOutcome::Unchanged {
            record_id: Some("601".into())
        }
    );
    assert!(write_log(&f).is_empty());
}

#[tokio::test]
async fn failures() {
    common_failures(
        cfg,
        json_reply(&json!({ "code": 10001, "message": "apiKey error" })),
        "home.example.com",
    )
    .await;
    for (message, class) in [
        ("hash sign error", ErrorClass::Auth),
        ("timestamp expired", ErrorClass::Transient),
        ("记录已存在", ErrorClass::Rejected),
    ] {
        let f = FakeHttp::start(move |r| match r.path() {
            "/api/domain/search/" => ok(&json!({ "pageCount": 1, "data": [{ "domainsID": "3001", "domains": "example.com" }] })),
            "/api/record/list/" => ok(&json!({ "pageCount": 1, "data": [] })),
            _ => json_reply(&json!({ "code": 1, "message": message })),
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
        assert_eq!(err.class, class, "{message}: {err:?}");
        assert!(!err.message.contains(SECRET));
    }
    // A line 51DNS does not have: rejected before anything is written.
    let f = fake(hand_made()).await;
    let err = update_with(
        &build(&cfg(&f.url(""))),
        "home.example.com",
        RecordType::A,
        &["203.0.113.1"],
        Some("火星"),
        None,
    )
    .await
    .unwrap_err();
    assert_eq!(err.class, ErrorClass::Rejected, "{err:?}");
    assert!(write_log(&f).is_empty());
    let f = fake(vec![]).await;
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

/// "Test" names the domains the credential sees (`domain/list`, both pages, each request signed with the
/// hash the fake recomputes), beside the check; a name in no domain fails with the domains still shown.
#[tokio::test]
async fn test_lists_the_domains_the_credential_sees() {
    let f = fake(hand_made()).await;
    let p = build(&cfg(&f.url("")));
    let said = ddns_tray::provider::test(p.as_ref(), "home.example.com", RecordType::A)
        .await
        .unwrap();
    let (check, zones) = said.split_once('\n').unwrap();
    assert_eq!(
        check,
        "credentials accepted; zone example.com; home.example.com A holds 203.0.113.1 (line 电信)"
    );
    assert!(
        zones.starts_with("domains this credential can see (150): d000.com.cn, d001.com.cn, "),
        "{zones}"
    );
    assert!(zones.ends_with(" and 138 more"), "{zones}");
    let lists: Vec<(String, String, String)> = f
        .requests()
        .iter()
        .filter(|r| r.path() == "/api/domain/list/")
        .map(|r| {
            let q = r.query();
            assert_eq!(r.method, "GET");
            assert_eq!(q["apiKey"], KEY);
            assert_eq!(q["hash"], expected_hash(&q));
            assert_eq!(q.len(), 5, "apiKey, timestamp, hash, page, pageSize: {q:?}");
            (
                r.path().to_owned(),
                q["page"].clone(),
                q["pageSize"].clone(),
            )
        })
        .collect();
    let want = |page: &str| {
        (
            "/api/domain/list/".to_owned(),
            page.to_owned(),
            "100".to_owned(),
        )
    };
    assert_eq!(lists, [want("1"), want("2")]);

    let err = ddns_tray::provider::test(p.as_ref(), "home.example.org", RecordType::A)
        .await
        .unwrap_err();
    assert!(
        err.contains("no domain of this account holds home.example.org"),
        "{err}"
    );
    assert!(
        err.contains("\ndomains this credential can see (150): "),
        "{err}"
    );
}
