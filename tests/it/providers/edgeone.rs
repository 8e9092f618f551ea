//! Tencent Cloud EdgeOne DNS records (`teo` 2022-09-01) against a stateful fake written from
//! docs/providers/edgeone.md: POST `/` with `X-TC-Action`, JSON bodies, TC3 signatures (the fake recomputes
//! them with ring from Tencent's documented steps), answers in `Response`, errors in `Response.Error` with
//! HTTP 200.
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

const SID: &str = "AKIDTestSecretId";
const SKEY: &str = "teo-s3cret";

fn cfg(endpoint: &str) -> String {
    format!(
        "kind = \"edgeone\"\nsecret_id = \"{SID}\"\nsecret_key = \"{SKEY}\"\nendpoint = \"{endpoint}\""
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

/// The civil date of a unix time (UTC), for the credential scope.
fn date_of(ts: u64) -> String {
    let days = (ts / 86_400) as i64;
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

fn verify(r: &Request) -> Result<(), String> {
    let h = |n: &str| r.headers.get(n).cloned().unwrap_or_default();
    if h("x-tc-version") != "2022-09-01" {
        return Err("X-TC-Version".into());
    }
    let ts: u64 = h("x-tc-timestamp").parse().map_err(|_| "X-TC-Timestamp")?;
    let date = date_of(ts);
    let canonical = format!(
        "POST\n/\n\ncontent-type:{}\nhost:{}\nx-tc-action:{}\n\ncontent-type;host;x-tc-action\n{}",
        h("content-type"),
        h("host"),
        h("x-tc-action").to_ascii_lowercase(),
        sha(&r.body)
    );
    let scope = format!("{date}/teo/tc3_request");
    let to_sign = format!("TC3-HMAC-SHA256\n{ts}\n{scope}\n{}", sha(&canonical));
    let k = mac(
        &mac(&mac(format!("TC3{SKEY}").as_bytes(), &date), "teo"),
        "tc3_request",
    );
    let want = format!(
        "TC3-HMAC-SHA256 Credential={SID}/{scope}, SignedHeaders=content-type;host;x-tc-action, Signature={}",
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

fn response(mut v: Value) -> Reply {
    v["RequestId"] = json!("ab4f1426-ea15-4192-9f3b-dfa2a5f12f4b");
    json_reply(&json!({ "Response": v }))
}

fn error(code: &str, message: &str) -> Reply {
    response(json!({ "Error": { "Code": code, "Message": message } }))
}

#[derive(Clone)]
struct Rec {
    id: String,
    name: String,
    rtype: String,
    content: String,
    location: String,
    ttl: u64,
}

fn rec(id: &str, name: &str, rtype: &str, content: &str, location: &str) -> Rec {
    Rec {
        id: id.into(),
        name: name.into(),
        rtype: rtype.into(),
        content: content.into(),
        location: location.into(),
        ttl: 300,
    }
}

type State = Arc<Mutex<Vec<Rec>>>;

fn zones() -> Vec<Value> {
    vec![
        json!({ "ZoneId": "zone-partial01", "ZoneName": "example.com", "Type": "partial", "Status": "active", "AliasZoneName": "" }),
        json!({ "ZoneId": "zone-2noz78a8ev6k", "ZoneName": "example.com", "Type": "full", "Status": "active", "AliasZoneName": "b" }),
        json!({ "ZoneId": "zone-cname0001", "ZoneName": "cname.org", "Type": "partial", "Status": "active" }),
    ]
}

async fn fake(state: State) -> FakeHttp {
    FakeHttp::start(move |r| {
        if let Err(e) = verify(r) {
            return error("AuthFailure.SignatureFailure", &e);
        }
        assert_eq!((r.method.as_str(), r.target.as_str()), ("POST", "/"));
        let b = r.json();
        let mut recs = state.lock().unwrap();
        match r.headers["x-tc-action"].as_str() {
            // Without filters every site (151, `example.com` twice), paged by `Offset`/`Limit`.
            "DescribeZones" if b.get("Filters").is_none() => {
                let (offset, limit) = (b["Offset"].as_u64().unwrap() as usize, b["Limit"].as_u64().unwrap() as usize);
                assert!(limit <= 100);
                let mut all = zones();
                all.extend((0..148).map(|i| json!({ "ZoneId": format!("zone-eo{i:03}"), "ZoneName": format!("eo{i:03}.cn"), "Type": "full", "Status": "active" })));
                let z: Vec<&Value> = all.iter().skip(offset).take(limit).collect();
                response(json!({ "TotalCount": all.len(), "Zones": z }))
            }
            "DescribeZones" => {
                assert_eq!(b["Filters"][0]["Name"], "zone-name");
                assert_eq!(b["Filters"][0]["Fuzzy"], false);
                assert!(b["Limit"].as_u64().unwrap() <= 100);
                let name = b["Filters"][0]["Values"][0].as_str().unwrap().to_owned();
                let z: Vec<Value> = zones().into_iter().filter(|z| z["ZoneName"] == name.as_str()).collect();
                response(json!({ "TotalCount": z.len(), "Zones": z }))
            }
            "DescribeDnsRecords" => {
                if b["ZoneId"] != "zone-2noz78a8ev6k" {
                    return error("ResourceNotFound.ZoneNotFound", "站点不存在或不属于该账号");
                }
                let f = &b["Filters"];
                assert_eq!(f[0]["Name"], "name");
                assert_eq!(f[1]["Name"], "type");
                let (offset, limit) = (b["Offset"].as_u64().unwrap() as usize, b["Limit"].as_u64().unwrap() as usize);
                assert!(limit <= 1000);
                // `name` matches fuzzily here (the API allows it): the client must filter.
                let hits: Vec<&Rec> = recs
                    .iter()
                    .filter(|x| x.name.contains(f[0]["Values"][0].as_str().unwrap()) && x.rtype == f[1]["Values"][0])
                    .collect();
                let list: Vec<Value> = hits
                    .iter()
                    .skip(offset)
                    .take(limit)
                    .map(|x| json!({ "ZoneId": "zone-2noz78a8ev6k", "RecordId": x.id, "Name": x.name, "Type": x.rtype,
                        "Location": x.location, "Content": x.content, "TTL": x.ttl, "Weight": -1, "Priority": 0,
                        "Status": "enable", "CreatedOn": "2024-01-01T00:00:00Z", "ModifiedOn": "2024-01-01T00:00:00Z" }))
                    .collect();
                response(json!({ "TotalCount": hits.len(), "DnsRecords": list }))
            }
            "CreateDnsRecord" => {
                assert_eq!(b["ZoneId"], "zone-2noz78a8ev6k");
                let id = format!("record-new{}", recs.len());
                recs.push(Rec {
                    id: id.clone(),
                    name: b["Name"].as_str().unwrap().into(),
                    rtype: b["Type"].as_str().unwrap().into(),
                    content: b["Content"].as_str().unwrap().into(),
                    location: b["Location"].as_str().unwrap_or("Default").into(),
                    ttl: b["TTL"].as_u64().unwrap_or(300),
                });
                response(json!({ "RecordId": id }))
            }
            "ModifyDnsRecords" => {
                assert_eq!(b["ZoneId"], "zone-2noz78a8ev6k");
                for m in b["DnsRecords"].as_array().unwrap() {
                    let Some(x) = recs.iter_mut().find(|x| m["RecordId"] == x.id.as_str()) else {
                        return error("ResourceNotFound", "no record");
                    };
                    assert_eq!(m["Location"], x.location.as_str(), "the record keeps its line");
                    assert_eq!(m["Name"], x.name.as_str());
                    x.content = m["Content"].as_str().unwrap().into();
                    x.ttl = m["TTL"].as_u64().unwrap();
                }
                response(json!({}))
            }
            "DeleteDnsRecords" => {
                assert_eq!(b["ZoneId"], "zone-2noz78a8ev6k");
                let ids: Vec<String> = b["RecordIds"].as_array().unwrap().iter().map(|v| v.as_str().unwrap().to_owned()).collect();
                recs.retain(|x| !ids.contains(&x.id));
                response(json!({}))
            }
            other => error("InvalidAction", other),
        }
    })
    .await
}

fn actions(f: &FakeHttp) -> Vec<String> {
    f.requests()
        .iter()
        .map(|r| r.headers["x-tc-action"].clone())
        .collect()
}

fn zone_with(extra: Vec<Rec>) -> State {
    let mut recs = vec![
        rec(
            "record-txt",
            "home.example.com",
            "TXT",
            "\"v=hand\"",
            "Default",
        ),
        rec(
            "record-www",
            "www.example.com",
            "A",
            "192.0.2.80",
            "Default",
        ),
        rec(
            "record-sub",
            "a.home.example.com",
            "A",
            "192.0.2.81",
            "Default",
        ),
        rec("record-ct", "home.example.com", "A", "203.0.113.1", "CN.CT"),
    ];
    recs.extend(extra);
    Arc::new(Mutex::new(recs))
}

#[tokio::test]
async fn create_update_unchanged_signed() {
    let state = zone_with(vec![]);
    let f = fake(state.clone()).await;
    let p = build(&cfg(&f.url("")));
    let out = update(
        &p,
        "home.example.com",
        RecordType::A,
        "198.51.100.7",
        Some(600),
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
        [
            "DescribeZones",
            "DescribeZones",
            "DescribeDnsRecords",
            "CreateDnsRecord"
        ]
    );
    let reqs = f.requests();
    assert_eq!(
        reqs[1].json(),
        json!({ "Filters": [{ "Name": "zone-name", "Values": ["example.com"], "Fuzzy": false }], "Offset": 0, "Limit": 100 })
    );
    assert_eq!(
        reqs[2].json(),
        json!({ "ZoneId": "zone-2noz78a8ev6k", "Filters": [{ "Name": "name", "Values": ["home.example.com"], "Fuzzy": false },
            { "Name": "type", "Values": ["A"] }], "Offset": 0, "Limit": 1000 })
    );
    assert_eq!(
        reqs[3].json(),
        json!({ "ZoneId": "zone-2noz78a8ev6k", "Name": "home.example.com", "Type": "A", "Content": "198.51.100.7", "Location": "Default", "TTL": 600 })
    );

    let f = fake(state.clone()).await;
    let p = build(&cfg(&f.url("")));
    let out = update(&p, "home.example.com", RecordType::A, "198.51.100.8", None)
        .await
        .unwrap();
    assert_eq!(
        out,
        UpdateOutcome::Updated {
            record_id: Some(id.clone())
        }
    );
    assert_eq!(
        f.requests().pop().unwrap().json(),
        json!({ "ZoneId": "zone-2noz78a8ev6k", "DnsRecords": [{ "RecordId": id, "Name": "home.example.com", "Type": "A",
            "Content": "198.51.100.8", "Location": "Default", "TTL": 600 }] })
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
    assert!(actions(&f).iter().all(|a| a.starts_with("Describe")));

    let recs = state.lock().unwrap();
    for (i, v) in [
        ("record-txt", "\"v=hand\""),
        ("record-www", "192.0.2.80"),
        ("record-sub", "192.0.2.81"),
        ("record-ct", "203.0.113.1"),
    ] {
        assert!(
            recs.iter().any(|x| x.id == i && x.content == v),
            "hand-made {i}"
        );
    }
}

/// 1500 records on the CN.CM line make two pages; the Default line's duplicate goes; other lines and the
/// fuzzy match `a.home` stay; `line = "CN.CT"` manages only that line.
#[tokio::test]
async fn pages_and_lines() {
    let mut extra = vec![
        rec(
            "record-d1",
            "home.example.com",
            "A",
            "198.51.100.1",
            "Default",
        ),
        rec(
            "record-d2",
            "home.example.com",
            "A",
            "198.51.100.2",
            "Default",
        ),
    ];
    extra.extend((0..1500).map(|i| {
        rec(
            &format!("record-cm{i}"),
            "home.example.com",
            "A",
            "10.1.0.1",
            "CN.CM",
        )
    }));
    let state = zone_with(extra);
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
    let offsets: Vec<u64> = f
        .requests()
        .iter()
        .filter(|r| r.headers["x-tc-action"] == "DescribeDnsRecords")
        .map(|r| r.json()["Offset"].as_u64().unwrap())
        .collect();
    assert_eq!(offsets, [0, 1000]);
    let w: Vec<String> = f
        .requests()
        .iter()
        .filter(|r| !r.headers["x-tc-action"].starts_with("Describe"))
        .map(|r| format!("{} {}", r.headers["x-tc-action"], r.json()))
        .collect();
    assert_eq!(w.len(), 2, "{w:?}");
    assert!(
        w[0].starts_with("ModifyDnsRecords") && w[0].contains("record-d1"),
        "{w:?}"
    );
    assert!(
        w[1].starts_with("DeleteDnsRecords") && w[1].contains("record-d2"),
        "{w:?}"
    );
    {
        let recs = state.lock().unwrap();
        assert_eq!(recs.iter().filter(|x| x.location == "CN.CM").count(), 1500);
        assert!(
            recs.iter()
                .any(|x| x.id == "record-ct" && x.content == "203.0.113.1")
        );
    }

    let f = fake(state.clone()).await;
    update(
        &build(&format!("{}\nline = \"CN.CT\"", cfg(&f.url("")))),
        "home.example.com",
        RecordType::A,
        "203.0.113.9",
        None,
    )
    .await
    .unwrap();
    let w: Vec<Value> = f
        .requests()
        .iter()
        .filter(|r| !r.headers["x-tc-action"].starts_with("Describe"))
        .map(Request::json)
        .collect();
    assert_eq!(w.len(), 1);
    assert_eq!(w[0]["DnsRecords"][0]["RecordId"], "record-ct");
    assert_eq!(w[0]["DnsRecords"][0]["Location"], "CN.CT");
}

#[tokio::test]
async fn failures_and_config() {
    common_failures(
        cfg,
        error("AuthFailure.SecretIdNotFound", "The SecretId is not found"),
        "home.example.com",
    )
    .await;
    let cases = [
        ("UnauthorizedOperation.CamUnauthorized", ErrorClass::Auth),
        ("AuthFailure.SignatureExpire", ErrorClass::Auth),
        (
            "RequestLimitExceeded",
            ErrorClass::RateLimited { retry_after: None },
        ),
        (
            "InvalidParameterValue.InvalidDNSContent",
            ErrorClass::Rejected,
        ),
        ("InternalError", ErrorClass::Transient),
    ];
    for (code, want) in cases {
        let f = FakeHttp::start(move |_| error(code, "x")).await;
        let err = update(
            &build(&cfg(&f.url(""))),
            "home.example.com",
            RecordType::A,
            "198.51.100.1",
            None,
        )
        .await
        .unwrap_err();
        assert_eq!(err.class, want, "{code}: {err:?}");
        assert!(!err.message.contains(SKEY));
    }
    // A CNAME-mode site has no EdgeOne DNS records: refused, saying so, nothing written.
    let f = fake(zone_with(vec![])).await;
    let err = update(
        &build(&cfg(&f.url(""))),
        "home.cname.org",
        RecordType::A,
        "198.51.100.1",
        None,
    )
    .await
    .unwrap_err();
    assert_eq!(err.class, ErrorClass::Rejected);
    assert!(err.message.contains("NS mode"), "{err:?}");
    assert!(actions(&f).iter().all(|a| a == "DescribeZones"));
    // TTLs outside 60..=86400 are a config error.
    let text = format!(
        "[[provider]]\nname = \"p\"\n{}\n[[record]]\nname = \"home.example.com\"\nprovider = \"p\"\nttl = 30\n",
        cfg("http://127.0.0.1:1")
    );
    let issues = load_str(&text, &|_: &str| None).map(|_| ()).unwrap_err();
    assert!(
        issues
            .iter()
            .any(|i| i.path == "record[0].ttl" && i.message.contains("86400")),
        "{issues:?}"
    );
}

/// "Test" names every site the credential sees (`DescribeZones` without filters, both pages, each request
/// signed as the fake checks, a name listed twice shown once), beside the check; a name in no site fails with
/// the sites still shown.
#[tokio::test]
async fn test_lists_the_domains_the_credential_sees() {
    let f = fake(zone_with(vec![])).await;
    let p = build(&cfg(&f.url("")));
    let said = ddns_tray::provider::test(p.as_ref(), "home.example.com", RecordType::A)
        .await
        .unwrap();
    let (check, zones) = said.split_once('\n').unwrap();
    assert_eq!(
        check,
        "credentials accepted; zone example.com; home.example.com A holds 203.0.113.1 (line CN.CT)"
    );
    assert!(
        zones.starts_with("domains this credential can see (150): cname.org, eo000.cn, eo001.cn, "),
        "{zones}"
    );
    assert!(zones.ends_with(" and 138 more"), "{zones}");
    let lists: Vec<Value> = f
        .requests()
        .iter()
        .filter(|r| {
            r.headers["x-tc-action"] == "DescribeZones" && r.json().get("Filters").is_none()
        })
        .map(Request::json)
        .collect();
    assert_eq!(
        lists,
        [
            json!({ "Offset": 0, "Limit": 100 }),
            json!({ "Offset": 100, "Limit": 100 }),
        ]
    );

    let err = ddns_tray::provider::test(p.as_ref(), "home.example.org", RecordType::A)
        .await
        .unwrap_err();
    assert!(
        err.contains("no EdgeOne site in this account holds home.example.org"),
        "{err}"
    );
    assert!(
        err.contains("\ndomains this credential can see (150): "),
        "{err}"
    );
}
