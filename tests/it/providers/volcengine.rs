//! Volcengine DNS (2018-08-01) against a stateful fake written from docs/providers/volcengine.md: GET
//! `ListZones`/`ListRecords` with the parameters in the query, POST `CreateRecord`/`UpdateRecord`/`DeleteRecord`
//! with a JSON body, every request signed (the fake recomputes the signature with ring from the documented
//! steps), answers in the `ResponseMetadata`/`Result` envelope, errors in `ResponseMetadata.Error`.
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

const AK: &str = "AKLTTestKeyId";
const SK: &str = "volc-s3cret==";

fn cfg(endpoint: &str) -> String {
    format!(
        "kind = \"volcengine\"\naccess_key_id = \"{AK}\"\nsecret_access_key = \"{SK}\"\nendpoint = \"{endpoint}\""
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

/// Checks the request's signature from the documented steps; `Err` says what is wrong.
fn verify(r: &Request) -> Result<(), String> {
    let h = |n: &str| r.headers.get(n).cloned().unwrap_or_default();
    let date = h("x-date");
    if date.len() != 16 {
        return Err(format!("x-date `{date}`"));
    }
    if h("x-content-sha256") != sha(&r.body) {
        return Err("x-content-sha256 is not the body's hash".into());
    }
    if h("content-type") != "application/json" {
        return Err("content-type".into());
    }
    let query = r.target.split_once('?').map_or("", |(_, q)| q);
    let canonical = format!(
        "{}\n/\n{query}\ncontent-type:application/json\nhost:{}\nx-content-sha256:{}\nx-date:{date}\n\ncontent-type;host;x-content-sha256;x-date\n{}",
        r.method,
        h("host"),
        h("x-content-sha256"),
        sha(&r.body)
    );
    let scope = format!("{}/cn-north-1/DNS/request", &date[..8]);
    let to_sign = format!("HMAC-SHA256\n{date}\n{scope}\n{}", sha(&canonical));
    let k = mac(
        &mac(&mac(&mac(SK.as_bytes(), &date[..8]), "cn-north-1"), "DNS"),
        "request",
    );
    let want = format!(
        "HMAC-SHA256 Credential={AK}/{scope}, SignedHeaders=content-type;host;x-content-sha256;x-date, Signature={}",
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

fn envelope(action: &str, result: &Value) -> Reply {
    json_reply(&json!({
        "ResponseMetadata": { "RequestId": "20250101000000ABC", "Action": action, "Version": "2018-08-01", "Service": "DNS", "Region": "cn-north-1" },
        "Result": result,
    }))
}

fn error(status: u16, code: &str, code_n: u32, message: &str) -> Reply {
    Reply::status(
        status,
        json!({
            "ResponseMetadata": { "RequestId": "x", "Action": "ListZones", "Version": "2018-08-01", "Service": "DNS", "Region": "cn-north-1",
                "Error": { "CodeN": code_n, "Code": code, "Message": message } }
        })
        .to_string(),
    )
}

#[derive(Clone)]
struct Rec {
    id: String,
    host: String,
    rtype: String,
    value: String,
    ttl: u32,
    line: String,
}

fn rec(id: &str, host: &str, rtype: &str, value: &str, line: &str) -> Rec {
    Rec {
        id: id.into(),
        host: host.into(),
        rtype: rtype.into(),
        value: value.into(),
        ttl: 600,
        line: line.into(),
    }
}

fn as_json(r: &Rec) -> Value {
    json!({ "RecordID": r.id, "Host": r.host, "Type": r.rtype, "Value": r.value, "TTL": r.ttl, "Line": r.line,
        "Enable": true, "Weight": 1, "Remark": "", "PQDN": format!("{}.example.com", r.host), "RecordSetID": "1" })
}

type State = Arc<Mutex<Vec<Rec>>>;

/// The documented API over `state` in zone 12345 `example.com` (plan `trade`); `ListZones` is fuzzy, so it
/// also answers `myexample.com`.
async fn fake(state: State, trade: &'static str) -> FakeHttp {
    FakeHttp::start(move |r| {
        if let Err(e) = verify(r) {
            return error(401, "SignatureDoesNotMatch", 100_010, &e);
        }
        let q = r.query();
        assert_eq!(r.path(), "/", "{r:?}");
        assert_eq!(q["Version"], "2018-08-01");
        let action = q["Action"].as_str();
        let get = matches!(action, "ListZones" | "ListRecords");
        assert_eq!(r.method, if get { "GET" } else { "POST" }, "{action}");
        if get {
            assert!(r.body.is_empty(), "{action} has a body");
        } else {
            assert_eq!(q.len(), 2, "{action}: only Action and Version in the query");
        }
        let mut recs = state.lock().unwrap();
        match action {
            "ListZones" => {
                // Without `Key` every zone (150), paged by `PageNumber`/`PageSize`.
                let key = q.get("Key").cloned().unwrap_or_default();
                let (page, size): (usize, usize) = (
                    q.get("PageNumber").map_or(1, |p| p.parse().unwrap()),
                    q.get("PageSize").map_or(10, |s| s.parse().unwrap()),
                );
                let zones: Vec<Value> = [
                    json!({ "ZID": 12345, "ZoneName": "example.com", "RecordCount": recs.len(), "TradeCode": trade }),
                    json!({ "ZID": 999, "ZoneName": "myexample.com", "RecordCount": 1, "TradeCode": "free_inner" }),
                ]
                .into_iter()
                .chain((0..148).map(|i| json!({ "ZID": 2000 + i, "ZoneName": format!("v{i:03}.cn"), "RecordCount": 2, "TradeCode": "free_inner" })))
                .filter(|z| z["ZoneName"].as_str().unwrap().contains(key.as_str()))
                .collect();
                let slice: Vec<&Value> = zones.iter().skip((page - 1) * size).take(size).collect();
                envelope(action, &json!({ "Total": zones.len(), "Zones": slice }))
            }
            "ListRecords" => {
                assert_eq!(q["ZID"], "12345");
                assert_eq!(q["SearchMode"], "exact");
                let (page, size): (usize, usize) =
                    (q["PageNumber"].parse().unwrap(), q["PageSize"].parse().unwrap());
                assert!(size <= 500, "PageSize {size}");
                let hits: Vec<&Rec> = recs
                    .iter()
                    .filter(|x| x.host == q["Host"] && x.rtype == q["Type"])
                    .filter(|x| q.get("Line").is_none_or(|l| *l == x.line))
                    .collect();
                let slice: Vec<Value> = hits
                    .iter()
                    .skip((page - 1) * size)
                    .take(size)
                    .map(|x| as_json(x))
                    .collect();
                envelope(
                    action,
                    &json!({ "TotalCount": hits.len(), "PageNumber": page, "PageSize": size, "Records": slice }),
                )
            }
            "CreateRecord" => {
                let b = r.json();
                assert_eq!(b["ZID"], 12345);
                let new = Rec {
                    id: format!("31705341376725963{:02}", recs.len()),
                    host: b["Host"].as_str().unwrap().into(),
                    rtype: b["Type"].as_str().unwrap().into(),
                    value: b["Value"].as_str().unwrap().into(),
                    ttl: b["TTL"].as_u64().map_or(600, |t| t as u32),
                    line: b["Line"].as_str().unwrap_or("default").into(),
                };
                let out = as_json(&new);
                recs.push(new);
                envelope(action, &out)
            }
            "UpdateRecord" => {
                let b = r.json();
                let Some(x) = recs.iter_mut().find(|x| b["RecordID"] == x.id.as_str()) else {
                    return error(404, "RecordNotFound", 0, "record not found");
                };
                assert_eq!(b["Host"], x.host.as_str());
                assert_eq!(b["Line"], x.line.as_str(), "the record keeps its line");
                x.value = b["Value"].as_str().unwrap().into();
                if let Some(t) = b["TTL"].as_u64() {
                    x.ttl = t as u32;
                }
                let out = as_json(x);
                envelope(action, &out)
            }
            "DeleteRecord" => {
                let b = r.json();
                assert_eq!(b.as_object().unwrap().len(), 1, "{b}");
                recs.retain(|x| b["RecordID"] != x.id.as_str());
                json_reply(&json!({ "ResponseMetadata": { "RequestId": "x", "Action": action, "Version": "2018-08-01" } }))
            }
            other => error(400, "InvalidActionOrVersion", 0, other),
        }
    })
    .await
}

fn actions(f: &FakeHttp) -> Vec<String> {
    f.requests()
        .iter()
        .map(|r| r.query()["Action"].clone())
        .collect()
}

fn hand_made() -> Vec<Rec> {
    vec![
        rec("1001", "home", "TXT", "\"v=hand\"", "default"),
        rec("1002", "home", "AAAA", "2001:db8::1", "default"),
        rec("1003", "www", "A", "192.0.2.80", "default"),
        rec("1004", "home", "A", "203.0.113.1", "telecom"),
    ]
}

#[tokio::test]
async fn create_update_unchanged_signed() {
    let state: State = Arc::new(Mutex::new(hand_made()));
    let f = fake(state.clone(), "professional_inner").await;
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
    let UpdateOutcome::Updated {
        record_id: Some(id),
    } = out
    else {
        panic!("{out:?}")
    };
    assert_eq!(
        actions(&f),
        ["ListZones", "ListZones", "ListRecords", "CreateRecord"]
    );
    let reqs = f.requests();
    let keys: Vec<String> = reqs[..2].iter().map(|r| r.query()["Key"].clone()).collect();
    assert_eq!(
        keys,
        ["home.example.com", "example.com"],
        "longest suffix first"
    );
    assert_eq!(reqs[1].query()["PageNumber"], "1");
    let list = reqs[2].query();
    assert_eq!(
        (
            list["Host"].as_str(),
            list["Type"].as_str(),
            list["PageSize"].as_str()
        ),
        ("home", "A", "500")
    );
    assert_eq!(
        reqs[3].json(),
        json!({ "ZID": 12345, "Host": "home", "Type": "A", "Value": "198.51.100.7", "Line": "default", "TTL": 300 })
    );

    // The address moves: the record is updated in place.
    let f2 = fake(state.clone(), "professional_inner").await;
    let p = build(&cfg(&f2.url("")));
    let out = update(&p, "home.example.com", RecordType::A, "198.51.100.8", None)
        .await
        .unwrap();
    assert_eq!(
        out,
        UpdateOutcome::Updated {
            record_id: Some(id.clone())
        }
    );
    let upd = &writes(&f2)[0];
    assert_eq!(upd.query()["Action"], "UpdateRecord");
    assert_eq!(
        upd.json(),
        json!({ "RecordID": id, "Host": "home", "Line": "default", "Type": "A", "Value": "198.51.100.8" })
    );

    // Unchanged: reads only.
    let f3 = fake(state.clone(), "professional_inner").await;
    let p = build(&cfg(&f3.url("")));
    let out = update(&p, "home.example.com", RecordType::A, "198.51.100.8", None)
        .await
        .unwrap();
    assert_eq!(
        out,
        UpdateOutcome::Unchanged {
            record_id: Some(id)
        }
    );
    assert!(writes(&f3).is_empty());
    // The apex is `@`; the Test button reads without writing.
    let said = p.check("example.com", RecordType::A).await.unwrap();
    assert!(said.contains("example.com"), "{said}");
    assert_eq!(f3.requests().last().unwrap().query()["Host"], "@");
    assert!(writes(&f3).is_empty());

    let recs = state.lock().unwrap();
    for hand in hand_made() {
        assert!(
            recs.iter()
                .any(|x| x.id == hand.id && x.value == hand.value),
            "hand-made {} gone or changed",
            hand.id
        );
    }
}

/// 600 records on the unicom line make the listing two pages; the default line's duplicate is reduced, the
/// unicom and telecom records, the AAAA, TXT and `www` records all survive.
#[tokio::test]
async fn pages_lines_and_hand_made_records() {
    let mut recs = hand_made();
    recs.push(rec("2001", "home", "A", "198.51.100.1", "default"));
    for i in 0..600 {
        recs.push(rec(
            &format!("5{i:04}"),
            "home",
            "A",
            &format!("10.0.{}.{}", i / 250, i % 250),
            "unicom",
        ));
    }
    recs.push(rec("2002", "home", "A", "198.51.100.2", "default"));
    let state: State = Arc::new(Mutex::new(recs));
    let f = fake(state.clone(), "free_inner").await;
    let p = build(&cfg(&f.url("")));
    update(&p, "home.example.com", RecordType::A, "198.51.100.9", None)
        .await
        .unwrap();
    let pages: Vec<String> = f
        .requests()
        .iter()
        .filter(|r| r.query()["Action"] == "ListRecords")
        .map(|r| r.query()["PageNumber"].clone())
        .collect();
    assert_eq!(pages, ["1", "2"]);
    let w: Vec<String> = writes(&f)
        .iter()
        .map(|r| {
            format!(
                "{} {}",
                r.query()["Action"],
                r.json()["RecordID"].as_str().unwrap_or("")
            )
        })
        .collect();
    assert_eq!(w, ["UpdateRecord 2001", "DeleteRecord 2002"]);
    {
        let recs = state.lock().unwrap();
        assert_eq!(recs.iter().filter(|x| x.line == "unicom").count(), 600);
        assert_eq!(recs.len(), 4 + 1 + 600);
    }

    // `line = "telecom"`: only the telecom record is managed.
    let f = fake(state.clone(), "free_inner").await;
    let p = build(&format!("{}\nline = \"telecom\"", cfg(&f.url(""))));
    update(&p, "home.example.com", RecordType::A, "203.0.113.9", None)
        .await
        .unwrap();
    let w = writes(&f);
    assert_eq!(w.len(), 1);
    assert_eq!(
        w[0].json(),
        json!({ "RecordID": "1004", "Host": "home", "Line": "telecom", "Type": "A", "Value": "203.0.113.9" })
    );
}

/// The zone's plan sets the smallest TTL: below it, nothing is written and the error names the field.
#[tokio::test]
async fn ttl_below_the_plan_minimum_is_refused() {
    let state: State = Arc::new(Mutex::new(hand_made()));
    let f = fake(state, "free_inner").await;
    let p = build(&cfg(&f.url("")));
    let err = update(
        &p,
        "home.example.com",
        RecordType::A,
        "198.51.100.7",
        Some(60),
    )
    .await
    .unwrap_err();
    assert_eq!(err.class, ErrorClass::Rejected, "{err:?}");
    assert!(
        err.message.contains("`ttl`") && err.message.contains("600"),
        "{err:?}"
    );
    assert!(writes(&f).is_empty());
}

#[tokio::test]
async fn failures() {
    common_failures(
        cfg,
        error(401, "InvalidAccessKey", 100_009, "请求的AK不合法"),
        "home.example.com",
    )
    .await;
    let cases = [
        (error(429, "FlowLimitExceeded", 0, "flow limited"), "rate"),
        (error(400, "FlowLimitExceeded", 0, "flow limited"), "rate"),
        (
            error(403, "SignatureDoesNotMatch", 100_010, "签名结果不正确"),
            "auth",
        ),
        (error(200, "AccessDenied", 0, "no permission"), "auth"),
        (error(400, "InvalidParameter", 0, "bad"), "rejected"),
        (error(500, "InternalError", 0, "oops"), "transient"),
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
        assert_eq!(
            err.class.as_str(),
            format!("{want}").replace("rate", "rate-limited"),
            "{err:?}"
        );
        assert!(!err.message.contains(SK), "{err:?}");
    }
    // No zone of the account holds the name (the fuzzy match `myexample.com` is not it).
    let f = fake(Arc::new(Mutex::new(vec![])), "free_inner").await;
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

/// "Test" names the zones the credential sees (`ListZones` without `Key`, both pages, each request signed as
/// the fake checks), beside the check; a name in no zone fails with the zones still shown.
#[tokio::test]
async fn test_lists_the_domains_the_credential_sees() {
    let state: State = Arc::new(Mutex::new(hand_made()));
    let f = fake(state, "free_inner").await;
    let p = build(&cfg(&f.url("")));
    let said = ddns_tray::provider::test(p.as_ref(), "home.example.com", RecordType::A)
        .await
        .unwrap();
    let (check, zones) = said.split_once('\n').unwrap();
    assert_eq!(
        check,
        "credentials accepted; zone example.com; home.example.com A holds 203.0.113.1 (line telecom)"
    );
    assert!(
        zones.starts_with(
            "domains this credential can see (150): example.com, myexample.com, v000.cn, "
        ),
        "{zones}"
    );
    assert!(zones.ends_with(" and 138 more"), "{zones}");
    let lists: Vec<String> = f
        .requests()
        .iter()
        .filter(|r| r.query()["Action"] == "ListZones" && !r.query().contains_key("Key"))
        .map(|r| format!("{} {}", r.method, r.target))
        .collect();
    assert_eq!(
        lists,
        [
            "GET /?Action=ListZones&PageNumber=1&PageSize=100&Version=2018-08-01",
            "GET /?Action=ListZones&PageNumber=2&PageSize=100&Version=2018-08-01",
        ]
    );

    let err = ddns_tray::provider::test(p.as_ref(), "home.example.org", RecordType::A)
        .await
        .unwrap_err();
    assert!(
        err.contains("no zone in this account holds home.example.org"),
        "{err}"
    );
    assert!(
        err.contains("\ndomains this credential can see (150): "),
        "{err}"
    );
}
