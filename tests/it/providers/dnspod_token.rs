//! `DNSPod`'s token API against a fake written from the request and answer shapes in
//! `docs/providers/dnspod-legacy.md` (DNSPod/dnspod-api-doc, docs.dnspod.com): form POSTs to `/<Action>` with
//! `login_token=ID,Token`, `format=json`, `error_on_empty=no`; `status.code` `"1"` for success and the
//! documented codes for failures (HTTP 200); `Domain.List` and `Record.List` paged by `offset`/`length`;
//! records on lines (`默认`, `电信`; internationally `Default`/`default`).

use std::collections::BTreeMap;

use super::*;

const TOKEN: &str = "dp-s3cret-token";

fn cfg(endpoint: &str) -> String {
    format!(
        "kind = \"dnspod-token\"\ntoken_id = \"12345\"\ntoken = \"{TOKEN}\"\nendpoint = \"{endpoint}\""
    )
}

fn form(r: &Request) -> BTreeMap<String, String> {
    Request {
        target: format!("/?{}", r.body),
        ..r.clone()
    }
    .query()
}

fn status_ok(mut v: Value) -> Reply {
    v["status"] = json!({ "code": "1", "message": "Action completed successful", "created_at": "2015-01-19 22:17:47" });
    json_reply(&v)
}

fn status(code: &str, message: &str) -> Reply {
    json_reply(
        &json!({ "status": { "code": code, "message": message, "created_at": "2015-01-19 22:17:47" } }),
    )
}

fn rec(id: &str, name: &str, rtype: &str, value: &str, line: &str, line_id: &str) -> Value {
    json!({ "id": id, "name": name, "line": line, "line_id": line_id, "type": rtype, "ttl": "600", "value": value,
            "weight": null, "mx": "0", "enabled": "1", "status": "enabled", "monitor_status": "", "remark": "",
            "updated_on": "2016-08-12 17:07:05", "use_aqb": "no" })
}

/// Hand-made records that must survive: an AAAA at the name, the name on 电信, another host's A, a TXT.
fn hand_made() -> Vec<Value> {
    vec![
        rec("501", "home", "AAAA", "2001:db8::1", "默认", "0"),
        rec("502", "home", "A", "203.0.113.1", "电信", "10=0"),
        rec("503", "homeoffice", "A", "198.51.100.50", "默认", "0"),
        rec("504", "home", "TXT", "v=spf1 -all", "默认", "0"),
    ]
}

/// 3005 domains on the China site (example.com, id 9842292, on the second page of 3000). `Record.List`
/// honours `sub_domain` and `record_type` like the real API.
async fn fake(records: Vec<Value>) -> FakeHttp {
    FakeHttp::start(move |r| {
        let f = form(r);
        if r.method != "POST" {
            return status("2", "只允许POST方法");
        }
        if f.get("login_token").map(String::as_str) != Some(&format!("12345,{TOKEN}"))
            || f.get("format").map(String::as_str) != Some("json")
            || f.get("error_on_empty").map(String::as_str) != Some("no")
        {
            return status("-1", "Login fail, please check login info");
        }
        let offset: usize = f.get("offset").and_then(|o| o.parse().ok()).unwrap_or(0);
        let length: usize = f.get("length").and_then(|o| o.parse().ok()).unwrap_or(3000);
        match r.path() {
            "/Domain.List" => {
                let mut all: Vec<Value> = (0..3004)
                    .map(|i| json!({ "id": 100 + i, "name": format!("d{i}.net"), "punycode": format!("d{i}.net"), "grade": "DP_Free" }))
                    .collect();
                all.push(json!({ "id": 9_842_292, "name": "example.com", "punycode": "example.com", "grade": "DP_Free", "ttl": "600" }));
                let domains: Vec<Value> = all.iter().skip(offset).take(length).cloned().collect();
                status_ok(json!({ "info": { "domain_total": all.len(), "all_total": all.len() }, "domains": domains }))
            }
            "/Record.List" if f["domain_id"] == "9842292" => {
                let list: Vec<Value> = records
                    .iter()
                    .filter(|v| v["name"] == f["sub_domain"].as_str() && f.get("record_type").is_none_or(|t| v["type"] == t.as_str()))
                    .cloned()
                    .collect();
                let page: Vec<Value> = list.iter().skip(offset).take(length).cloned().collect();
                status_ok(json!({ "domain": { "id": 9_842_292, "name": "example.com", "punycode": "example.com", "grade": "DP_Free" },
                    "info": { "sub_domains": "12", "record_total": list.len().to_string() }, "records": page }))
            }
            "/Record.Create" => status_ok(json!({ "record": { "id": "16894439", "name": f["sub_domain"], "status": "enable" } })),
            "/Record.Modify" => status_ok(json!({ "record": { "id": 16_894_439, "name": f["sub_domain"], "value": f["value"], "status": "enable" } })),
            "/Record.Remove" => status_ok(json!({})),
            _ => status("6", "域名ID错误"),
        }
    })
    .await
}

fn write_log(f: &FakeHttp) -> Vec<String> {
    f.requests()
        .iter()
        .filter(|r| !r.path().ends_with(".List"))
        .map(|r| {
            let f: Vec<String> = form(r)
                .into_iter()
                .filter(|(k, _)| {
                    !matches!(
                        k.as_str(),
                        "login_token" | "format" | "error_on_empty" | "lang"
                    )
                })
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            format!("{} {}", r.path(), f.join(" "))
        })
        .collect()
}

#[tokio::test]
async fn create_with_token_and_pages() {
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
            record_id: Some("16894439".into())
        }
    );
    let reqs = f.requests();
    for r in &reqs {
        assert_eq!(r.method, "POST");
        assert_eq!(
            r.headers["content-type"],
            "application/x-www-form-urlencoded"
        );
        assert!(
            r.headers["user-agent"].starts_with("ddns-tray/"),
            "a descriptive agent is required"
        );
        assert!(
            r.body.contains("login_token=12345%2Cdp-s3cret-token"),
            "{}",
            r.body
        );
        assert_eq!(form(r)["lang"], "en");
    }
    let calls: Vec<String> = reqs
        .iter()
        .map(|r| {
            let f = form(r);
            format!(
                "{} {}",
                r.path(),
                f.get("offset").map_or("", String::as_str)
            )
        })
        .collect();
    assert_eq!(
        calls,
        [
            "/Domain.List 0",
            "/Domain.List 3000",
            "/Record.List 0",
            "/Record.Create "
        ]
    );
    assert_eq!(form(&reqs[2])["sub_domain"], "home");
    assert_eq!(form(&reqs[2])["record_type"], "A");
    assert_eq!(
        write_log(&f),
        [
            "/Record.Create domain_id=9842292 record_line=默认 record_type=A sub_domain=home value=198.51.100.7"
        ]
    );
}

#[tokio::test]
async fn update_lines_duplicates_and_unchanged() {
    let mut records = hand_made();
    records.push(rec("601", "home", "A", "198.51.100.6", "默认", "0"));
    records.push(rec("602", "home", "A", "198.51.100.5", "默认", "0"));
    let f = fake(records.clone()).await;
    update(
        &build(&cfg(&f.url(""))),
        "home.example.com",
        RecordType::A,
        "198.51.100.7",
        None,
    )
    .await
    .unwrap();
    assert_eq!(
        write_log(&f),
        [
            "/Record.Modify domain_id=9842292 record_id=601 record_line=默认 record_type=A sub_domain=home ttl=600 value=198.51.100.7",
            "/Record.Remove domain_id=9842292 record_id=602",
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
            "/Record.Modify domain_id=9842292 record_id=502 record_line=电信 record_type=A sub_domain=home ttl=600 value=203.0.113.9"
        ]
    );

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
    assert_eq!(
        write_log(&f),
        [
            "/Record.Create domain_id=9842292 record_line=联通 record_type=A sub_domain=home value=203.0.113.10"
        ]
    );

    // Already right: nothing is written (DNSPod locks a record after five no-op writes an hour).
    let mut records = hand_made();
    records.push(rec("601", "home", "A", "198.51.100.7", "默认", "0"));
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
async fn international_site() {
    let f = FakeHttp::start(|r| {
        let f = form(r);
        assert!(!f.contains_key("lang"), "the international API lists no lang");
        match r.path() {
            "/Domain.List" => status_ok(json!({ "info": { "domain_total": "1" }, "domains": [{ "id": "9", "name": "example.com", "punycode": "example.com" }] })),
            "/Record.List" => {
                assert!(!f.contains_key("record_type"));
                status_ok(json!({ "info": { "record_total": "3" }, "records": [
                    { "id": "50", "name": "home", "line": "Default", "type": "A", "ttl": "600", "value": "198.51.100.6" },
                    { "id": "51", "name": "home", "line": "US", "type": "A", "ttl": "600", "value": "203.0.113.1" },
                    { "id": "52", "name": "home", "line": "Default", "type": "AAAA", "ttl": "600", "value": "2001:db8::1" },
                ] }))
            }
            "/Record.Modify" => status_ok(json!({ "record": { "id": 50, "name": "home", "value": f["value"] } })),
            _ => status("6", "Domain id invalid"),
        }
    })
    .await;
    update(
        &build(&format!("{}\ninternational = true", cfg(&f.url("")))),
        "home.example.com",
        RecordType::A,
        "198.51.100.7",
        None,
    )
    .await
    .unwrap();
    let reqs = f.requests();
    assert_eq!(form(&reqs[1])["length"], "500");
    assert_eq!(
        write_log(&f),
        [
            "/Record.Modify domain_id=9 record_id=50 record_line=default record_type=A sub_domain=home ttl=600 value=198.51.100.7"
        ]
    );
}

#[tokio::test]
async fn failures() {
    common_failures(
        cfg,
        status("-1", "Login fail, please check login info"),
        "home.example.com",
    )
    .await;
    for (code, class) in [
        ("-7", ErrorClass::Auth),
        ("85", ErrorClass::Auth),
        (
            "-2",
            ErrorClass::RateLimited {
                retry_after: Some(3600),
            },
        ),
        (
            "-8",
            ErrorClass::Banned {
                retry_after: Some(3600),
            },
        ),
        (
            "83",
            ErrorClass::Banned {
                retry_after: Some(3600),
            },
        ),
        ("-99", ErrorClass::Transient),
        ("31", ErrorClass::Rejected),
    ] {
        let f = FakeHttp::start(move |r| match r.path() {
            "/Domain.List" => status_ok(json!({ "info": { "domain_total": 1 }, "domains": [{ "id": 1, "name": "example.com", "punycode": "example.com" }] })),
            "/Record.List" => status_ok(json!({ "info": { "record_total": "0" }, "records": [] })),
            _ => status(code, "refused"),
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
        assert_eq!(err.class, class, "{code}: {err:?}");
        assert!(!err.message.contains(TOKEN));
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
    // A token id that is not a number is refused at load.
    let text = "[[provider]]\nname = \"p\"\nkind = \"dnspod-token\"\ntoken_id = \"12345,abc\"\ntoken = \"t\"\n";
    let issues = load_str(text, &|_: &str| None).err().unwrap_or_default();
    assert!(
        issues.iter().any(|i| i.path.ends_with(".token_id")),
        "{issues:#?}"
    );
}
