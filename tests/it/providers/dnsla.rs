//! DNS.LA against a fake written from the request and answer shapes in `docs/providers/dnsla.md` (lego's
//! fixtures, ddns-go, dnsmgr, acme.sh): Basic auth, `{"code":200,"msg":"","data":…}`, paged `domainList`
//! (names end with a dot) and `recordList` (`total` + `results`), numeric record types, string ids, lines by
//! `lineId`/`lineName`.

use super::*;

const ZONE_ID: &str = "85369994254488576";

fn cfg_with(endpoint: &str, secret: &str) -> String {
    format!(
        "kind = \"dnsla\"\napi_id = \"myApiId\"\napi_secret = \"{secret}\"\nendpoint = \"{endpoint}\""
    )
}

fn cfg(endpoint: &str) -> String {
    cfg_with(endpoint, "la-s3cret")
}

fn ok(data: &Value) -> Reply {
    json_reply(&json!({ "code": 200, "msg": "", "data": data }))
}

fn record(id: &str, host: &str, rtype: u32, data: &str, line: Option<(&str, &str)>) -> Value {
    let (line_id, line_name) = line.unwrap_or(("", ""));
    json!({ "id": id, "host": host, "type": rtype, "data": data, "ttl": 600, "lineId": line_id,
            "lineCode": "", "lineName": line_name, "disable": false, "updatedAt": 1_692_856_597 })
}

/// 150 domains (example.com on the second page of 100), and the zone's records: filler records at other
/// hosts first (so the name's records are on the second page), then `records`. `recordList` filters by type
/// only, as a fuzzy server might; the client must filter by host.
async fn fake(records: Vec<Value>) -> FakeHttp {
    FakeHttp::start(move |r| {
        let q = r.query();
        let page = |all: &[Value]| -> Reply {
            let index: usize = q["pageIndex"].parse().unwrap();
            let size: usize = q["pageSize"].parse().unwrap();
            let results: Vec<Value> = all.iter().skip((index - 1) * size).take(size).cloned().collect();
            ok(&json!({ "total": all.len(), "results": results }))
        };
        match (r.method.as_str(), r.path()) {
            ("GET", "/api/domainList") => {
                let mut all: Vec<Value> = (0..120)
                    .map(|i| json!({ "id": format!("1000{i}"), "domain": format!("other{i}.net."), "state": 1 }))
                    .collect();
                all.push(json!({ "id": ZONE_ID, "domain": "example.com.", "displayDomain": "example.com.", "state": 1, "suffix": "com." }));
                all.extend((0..29).map(|i| json!({ "id": format!("2000{i}"), "domain": format!("x{i}.example.com.cn."), "state": 1 })));
                page(&all)
            }
            ("GET", "/api/recordList") if q["domainId"] == ZONE_ID => {
                let rtype: u64 = q["type"].parse().unwrap();
                let mut all: Vec<Value> = (0..110)
                    .map(|i| record(&format!("9{i}"), &format!("h{i}"), 1, "192.0.2.1", None))
                    .collect();
                all.extend(records.iter().cloned());
                all.retain(|v| v["type"].as_u64() == Some(rtype));
                page(&all)
            }
            ("GET", "/api/availableLine") if q["domain"] == "example.com" => ok(&json!([
                { "id": "0", "value": "默认", "pid": "", "order": 0 },
                { "id": "84f7a3b6", "value": "电信", "pid": "", "order": 1 },
                { "id": "84f7a3b7", "value": "联通", "pid": "", "order": 2 },
            ])),
            ("POST", "/api/record") => ok(&json!({ "id": "85371689655342080" })),
            ("PUT" | "DELETE", "/api/record") => json_reply(&json!({ "code": 200, "msg": "", "data": null })),
            _ => Reply::status(404, r#"{"code":404,"msg":"not found"}"#),
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

/// The hand-made records that must survive every test: an AAAA and a TXT at the name, the name on the
/// 电信 line, and an A at another host.
fn hand_made() -> Vec<Value> {
    vec![
        record("501", "home", 28, "2001:db8::1", None),
        record("502", "home", 16, "v=spf1 -all", None),
        record("503", "home", 1, "203.0.113.1", Some(("84f7a3b6", "电信"))),
        record("504", "homeoffice", 1, "198.51.100.50", None),
    ]
}

#[tokio::test]
async fn create_with_basic_auth_and_pages() {
    let f = fake(hand_made()).await;
    let out = update(
        &build(&cfg_with(&f.url(""), "myApiSecret")),
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
            record_id: Some("85371689655342080".into())
        }
    );
    let reqs = f.requests();
    // The documented fixture: base64("myApiId:myApiSecret").
    assert!(
        reqs.iter()
            .all(|r| r.headers["authorization"] == "Basic bXlBcGlJZDpteUFwaVNlY3JldA=="),
        "{reqs:#?}"
    );
    let targets: Vec<&str> = reqs.iter().map(|r| r.target.as_str()).collect();
    assert_eq!(
        targets,
        [
            "/api/domainList?pageIndex=1&pageSize=100",
            "/api/domainList?pageIndex=2&pageSize=100",
            "/api/recordList?domainId=85369994254488576&host=home&type=1&pageIndex=1&pageSize=100",
            "/api/recordList?domainId=85369994254488576&host=home&type=1&pageIndex=2&pageSize=100",
            "/api/record",
        ]
    );
    let create = reqs.last().unwrap();
    assert_eq!(create.method, "POST");
    assert!(create.headers["content-type"].starts_with("application/json"));
    assert_eq!(
        create.json(),
        json!({ "domainId": ZONE_ID, "type": 1, "host": "home", "data": "198.51.100.7", "ttl": 600 })
    );
}

#[tokio::test]
async fn update_unchanged_and_duplicates_on_the_managed_line_only() {
    let mut records = hand_made();
    records.push(record(
        "601",
        "home",
        1,
        "198.51.100.6",
        Some(("0", "默认")),
    ));
    records.push(record("602", "home", 1, "198.51.100.5", None));
    let f = fake(records.clone()).await;
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
            r#"PUT /api/record {"data":"198.51.100.7","host":"home","id":"601","lineId":"","ttl":300,"type":1}"#,
            "DELETE /api/record?id=602 ",
        ]
    );

    let mut records = hand_made();
    records.push(record(
        "601",
        "home",
        1,
        "198.51.100.7",
        Some(("0", "默认")),
    ));
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
    // The record on 电信 is updated keeping its line id; nothing on the default line is touched.
    let mut records = hand_made();
    records.push(record("601", "home", 1, "198.51.100.6", None));
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
            r#"PUT /api/record {"data":"203.0.113.9","host":"home","id":"503","lineId":"84f7a3b6","ttl":600,"type":1}"#
        ]
    );

    // A line without a record: its id is found in availableLine, and the record created on it.
    let f = fake(records.clone()).await;
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
    assert!(
        f.requests()
            .iter()
            .any(|r| r.target == "/api/availableLine?domain=example.com")
    );
    assert_eq!(
        write_log(&f),
        [
            r#"POST /api/record {"data":"203.0.113.10","domainId":"85369994254488576","host":"home","lineId":"84f7a3b7","ttl":600,"type":1}"#
        ]
    );

    // A line the zone does not have: rejected, nothing written.
    let f = fake(records).await;
    let err = update_with(
        &build(&cfg(&f.url(""))),
        "home.example.com",
        RecordType::A,
        &["203.0.113.10"],
        Some("教育网"),
        None,
    )
    .await
    .unwrap_err();
    assert_eq!(err.class, ErrorClass::Rejected, "{err:?}");
    assert!(write_log(&f).is_empty());
}

#[tokio::test]
async fn failures() {
    common_failures(
        cfg,
        Reply::status(401, r#"{"code":401,"msg":"认证失败"}"#),
        "home.example.com",
    )
    .await;
    let cases = [
        (
            r#"{"code":401,"msg":"APIID 或 APISecret 错误"}"#,
            ErrorClass::Auth,
        ),
        (
            r#"{"code":400,"msg":"与已有记录冲突"}"#,
            ErrorClass::Rejected,
        ),
        (r#"{"code":500,"msg":"系统繁忙"}"#, ErrorClass::Transient),
    ];
    for (body, class) in cases {
        let f = FakeHttp::start(move |r| {
            if r.path() == "/api/record" {
                Reply::ok(body)
            } else {
                fake_sync(r)
            }
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
    }
    // No domain of the account holds the name.
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

/// A one-page account for the error cases: the zone, no records.
fn fake_sync(r: &Request) -> Reply {
    match r.path() {
        "/api/domainList" => {
            ok(&json!({ "total": 1, "results": [{ "id": ZONE_ID, "domain": "example.com." }] }))
        }
        "/api/recordList" => ok(&json!({ "total": 0, "results": [] })),
        _ => Reply::status(404, "{}"),
    }
}

/// "Test" names the domains the credential sees (all pages, sorted, trailing dots gone), listed once
/// for the check and the list together; a name no domain holds fails with the domains still shown.
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
        zones.starts_with("domains this credential can see (150): example.com, other0.net, other1.net, other10.net,"),
        "{zones}"
    );
    assert!(zones.ends_with("and 138 more"), "{zones}");
    let lists = f
        .requests()
        .iter()
        .filter(|r| r.path() == "/api/domainList")
        .count();
    assert_eq!(lists, 2, "two pages, asked once for both parts");

    let p = build(&cfg(&f.url("")));
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
