//! Rainyun 雨云 against a fake written from the request and answer shapes in `docs/providers/rainyun.md`
//! (ddns-go, a lego-style provider, a certbot hook): `x-api-key`, `{"code":200,"message":…,"data":…}`, the
//! domain list paged through its JSON `options`, record pages (`TotalRecords`/`Records`, `limit`/`page_no`),
//! whole-record `PATCH` with `record_id` in the body, `DELETE ?record_id=`, lines by code.

use std::collections::BTreeMap;

use super::*;

const KEY: &str = "rainyun-s3cret-key";

fn cfg(endpoint: &str) -> String {
    format!("kind = \"rainyun\"\napi_key = \"{KEY}\"\nendpoint = \"{endpoint}\"")
}

fn ok(data: &Value) -> Reply {
    json_reply(&json!({ "code": 200, "message": "OK", "data": data }))
}

fn record(id: u64, host: &str, rtype: &str, value: &str, line: &str) -> Value {
    json!({ "record_id": id, "host": host, "type": rtype, "value": value, "line": line, "ttl": 600, "level": 10 })
}

/// The hand-made records that must survive: an AAAA and a TXT at the name, the name on the LTEL line, an A
/// at another host.
fn hand_made() -> Vec<Value> {
    vec![
        record(501, "home", "AAAA", "2001:db8::1", "DEFAULT"),
        record(502, "home", "TXT", "v=spf1 -all", "DEFAULT"),
        record(503, "home", "A", "203.0.113.1", "LTEL"),
        record(504, "homeoffice", "A", "198.51.100.50", "DEFAULT"),
    ]
}

/// 130 domains (example.com, id 4242, on the second page of 100); the zone's records after 105 filler
/// records at other hosts (so the name's are on page 2). Pages past the end repeat the last one, as the
/// certbot hook guards against.
async fn fake(records: Vec<Value>) -> FakeHttp {
    FakeHttp::start(move |r| {
        let q = r.query();
        if r.headers.get("x-api-key").map(String::as_str) != Some(KEY) {
            return Reply::status(401, r#"{"code":401,"message":"Unauthorized"}"#);
        }
        match (r.method.as_str(), r.path()) {
            ("GET", "/product/domain/") => {
                let options: Value = serde_json::from_str(&q["options"]).unwrap();
                let page = usize::try_from(options["page"].as_u64().unwrap()).unwrap();
                let per = usize::try_from(options["perPage"].as_u64().unwrap()).unwrap();
                let mut all: Vec<Value> = (0..110)
                    .map(|i| json!({ "id": 1000 + i, "domain": format!("other{i}.net") }))
                    .collect();
                all.push(json!({ "id": 4242, "domain": "example.com" }));
                all.extend(
                    (0..19).map(
                        |i| json!({ "id": 3000 + i, "domain": format!("x{i}.example.com.cn") }),
                    ),
                );
                let items: Vec<Value> = all
                    .iter()
                    .skip((page - 1) * per)
                    .take(per)
                    .cloned()
                    .collect();
                ok(&json!({ "TotalRecords": all.len(), "Records": items }))
            }
            ("GET", "/product/domain/4242/dns/") => {
                let limit: usize = q["limit"].parse().unwrap();
                let page: usize = q["page_no"].parse().unwrap();
                let mut all: Vec<Value> = (0..105)
                    .map(|i| record(9000 + i, &format!("h{i}"), "A", "192.0.2.1", "DEFAULT"))
                    .collect();
                all.extend(records.iter().cloned());
                let last = all.len().div_ceil(limit);
                let page = page.min(last);
                let items: Vec<Value> = all
                    .iter()
                    .skip((page - 1) * limit)
                    .take(limit)
                    .cloned()
                    .collect();
                // A server that under-reports its total: the repeated page ends the listing.
                ok(&json!({ "TotalRecords": all.len() + 50, "Records": items }))
            }
            ("POST" | "PATCH" | "DELETE", "/product/domain/4242/dns") => ok(&Value::Null),
            _ => Reply::status(404, r#"{"code":404,"message":"not found"}"#),
        }
    })
    .await
}

fn write_log(f: &FakeHttp) -> Vec<String> {
    writes(f)
        .iter()
        .map(|r| format!("{} {} {}", r.method, r.target, r.body))
        .collect()
}

#[tokio::test]
async fn create_with_key_and_pages() {
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
    assert_eq!(out, UpdateOutcome::Updated { record_id: None });
    let reqs = f.requests();
    let gets: Vec<(String, BTreeMap<String, String>)> = reqs
        .iter()
        .filter(|r| r.method == "GET")
        .map(|r| (r.path().to_owned(), r.query()))
        .collect();
    let domain_pages: Vec<Value> = gets
        .iter()
        .filter(|(p, _)| p == "/product/domain/")
        .map(|(_, q)| serde_json::from_str(&q["options"]).unwrap())
        .collect();
    assert_eq!(
        domain_pages,
        [
            json!({ "columnFilters": { "domains.Domain": "" }, "sort": [], "page": 1, "perPage": 100 }),
            json!({ "columnFilters": { "domains.Domain": "" }, "sort": [], "page": 2, "perPage": 100 }),
        ]
    );
    let record_pages: Vec<String> = reqs
        .iter()
        .filter(|r| r.path() == "/product/domain/4242/dns/")
        .map(|r| r.target.clone())
        .collect();
    assert_eq!(
        record_pages,
        [
            "/product/domain/4242/dns/?limit=100&page_no=1",
            "/product/domain/4242/dns/?limit=100&page_no=2",
            "/product/domain/4242/dns/?limit=100&page_no=3",
        ]
    );
    let create = reqs.last().unwrap();
    assert_eq!(create.method, "POST");
    assert_eq!(create.path(), "/product/domain/4242/dns");
    assert_eq!(create.headers["x-api-key"], KEY);
    assert!(create.headers["content-type"].starts_with("application/json"));
    assert_eq!(
        create.json(),
        json!({ "host": "home", "line": "DEFAULT", "level": 10, "ttl": 600, "type": "A", "value": "198.51.100.7" })
    );
}

#[tokio::test]
async fn update_unchanged_and_duplicates_on_the_managed_line_only() {
    let mut records = hand_made();
    records.push(record(601, "home", "A", "198.51.100.6", "DEFAULT"));
    records.push(record(602, "home", "A", "198.51.100.5", "DEFAULT"));
    let f = fake(records).await;
    update(
        &build(&cfg(&f.url(""))),
        "home.example.com",
        RecordType::A,
        "198.51.100.7",
        Some(300),
    )
    .await
    .unwrap();
    assert_eq!(
        write_log(&f),
        [
            r#"PATCH /product/domain/4242/dns {"host":"home","level":10,"line":"DEFAULT","record_id":601,"ttl":300,"type":"A","value":"198.51.100.7"}"#,
            "DELETE /product/domain/4242/dns?record_id=602 ",
        ]
    );

    let mut records = hand_made();
    records.push(record(601, "home", "A", "198.51.100.7", "DEFAULT"));
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
async fn other_lines() {
    let mut records = hand_made();
    records.push(record(601, "home", "A", "198.51.100.6", "DEFAULT"));
    let f = fake(records.clone()).await;
    update_with(
        &build(&format!("{}\nline = \"LTEL\"", cfg(&f.url("")))),
        "home.example.com",
        RecordType::A,
        &["203.0.113.9"],
        None,
        None,
    )
    .await
    .unwrap();
    assert_eq!(
        write_log(&f),
        [
            r#"PATCH /product/domain/4242/dns {"host":"home","level":10,"line":"LTEL","record_id":503,"ttl":600,"type":"A","value":"203.0.113.9"}"#
        ]
    );

    let f = fake(records).await;
    update_with(
        &build(&cfg(&f.url(""))),
        "home.example.com",
        RecordType::A,
        &["203.0.113.10"],
        Some("LCNC"),
        None,
    )
    .await
    .unwrap();
    assert_eq!(
        write_log(&f),
        [
            r#"POST /product/domain/4242/dns {"host":"home","level":10,"line":"LCNC","ttl":600,"type":"A","value":"203.0.113.10"}"#
        ]
    );
}

#[tokio::test]
async fn failures() {
    common_failures(
        cfg,
        Reply::status(401, r#"{"code":401,"message":"Unauthorized"}"#),
        "home.example.com",
    )
    .await;
    let cases = [
        (
            r#"{"code":403,"message":"api key invalid"}"#,
            ErrorClass::Auth,
        ),
        (
            r#"{"code":400,"message":"记录已存在"}"#,
            ErrorClass::Rejected,
        ),
        (
            r#"{"code":500,"message":"internal error"}"#,
            ErrorClass::Transient,
        ),
    ];
    for (body, class) in cases {
        let f = FakeHttp::start(move |r| match r.path() {
            "/product/domain/" => ok(
                &json!({ "TotalRecords": 1, "Records": [{ "id": 4242, "domain": "example.com" }] }),
            ),
            "/product/domain/4242/dns/" => ok(&json!({ "TotalRecords": 0, "Records": [] })),
            _ => Reply::ok(body),
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
        assert_eq!(err.class, class, "{body}: {err:?}");
        assert!(!err.message.contains(KEY));
    }
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
