//! Alibaba Cloud ESA DNS records (API 2024-09-10), from docs/providers/aliesa.md (ESA's API reference and the
//! official generated SDK): RPC style at `/`, every parameter in the query — also for the POSTs, whose body
//! is empty — signed with V1 (HMAC-SHA1). Sites from `ListSites` (paged), records from `ListRecords` (paged,
//! exact FQDN, type `A/AAAA`), then `CreateRecord` / `UpdateRecord` / `DeleteRecord`; `SiteId` and `RecordId`
//! are JSON numbers, `Data` a JSON text. Every request's signature is recomputed here independently from
//! Alibaba's documented steps, and that computation is first checked against Alibaba's published V1 example.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use base64::Engine as _;
use ring::hmac;

use super::*;

const KEY_ID: &str = "LTAI5tEsaTestKey";
const SECRET: &str = "esa-s3cret";
const SITE: i64 = 1_234_567_890_123;
const CNAME_SITE: i64 = 7_000_000_000_001;

fn cfg(endpoint: &str) -> String {
    format!(
        "kind = \"aliesa\"\naccess_key_id = \"{KEY_ID}\"\naccess_key_secret = \"{SECRET}\"\nendpoint = \"{endpoint}\""
    )
}

/// RFC 3986 percent-encoding as Alibaba's V1 doc asks: `A-Z a-z 0-9 - _ . ~` kept, the rest `%XX` (upper case).
fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Signature V1 written out from the doc: sort the parameters (without `Signature`) by name, join
/// `enc(k)=enc(v)` with `&`, string-to-sign `METHOD&%2F&enc(canonical)`, HMAC-SHA1 keyed `secret&`, Base64.
fn v1(method: &str, params: &BTreeMap<String, String>, secret: &str) -> String {
    let canonical = params
        .iter()
        .filter(|(k, _)| k.as_str() != "Signature")
        .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
        .collect::<Vec<_>>()
        .join("&");
    let to_sign = format!("{method}&{}&{}", enc("/"), enc(&canonical));
    let key = hmac::Key::new(
        hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY,
        format!("{secret}&").as_bytes(),
    );
    base64::engine::general_purpose::STANDARD.encode(hmac::sign(&key, to_sign.as_bytes()).as_ref())
}

fn params(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

#[test]
fn the_independent_signature_matches_alibabas_published_example_and_the_esa_fixtures() {
    // Alibaba's published V1 example (DescribeRegions, testid/testsecret).
    let common = [
        ("AccessKeyId", "testid"),
        ("SignatureMethod", "HMAC-SHA1"),
        ("SignatureNonce", "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf"),
        ("SignatureVersion", "1.0"),
        ("Timestamp", "2016-02-23T12:46:24Z"),
    ];
    let mut p = params(&common);
    p.extend(params(&[
        ("Action", "DescribeRegions"),
        ("Format", "XML"),
        ("Version", "2014-05-26"),
    ]));
    assert_eq!(v1("GET", &p, "testsecret"), "OLeaidS1JvxuMvnyHOwuJ+uX5qY=");
    // The ESA-shaped fixtures of docs/providers/aliesa.md §2 (derived with the same credentials).
    let mut list = params(&common);
    list.extend(params(&[
        ("Action", "ListRecords"),
        ("Format", "JSON"),
        ("RecordMatchType", "exact"),
        ("RecordName", "www.example.com"),
        ("SiteId", "1234567890123"),
        ("Type", "A/AAAA"),
        ("Version", "2024-09-10"),
    ]));
    assert_eq!(
        v1("GET", &list, "testsecret"),
        "oXxIlCPsF3K/sIPS+d9LVz0MzPw="
    );
    let mut create = params(&common);
    create.extend(params(&[
        ("Action", "CreateRecord"),
        ("Data", r#"{"Value":"203.0.113.7"}"#),
        ("Format", "JSON"),
        ("RecordName", "www.example.com"),
        ("SiteId", "1234567890123"),
        ("Ttl", "1"),
        ("Type", "A/AAAA"),
        ("Version", "2024-09-10"),
    ]));
    assert_eq!(
        v1("POST", &create, "testsecret"),
        "GNjvVbI4FBmuLDtyi5Pnh2f19wI="
    );
}

type Store = Arc<Mutex<Vec<Value>>>;

fn rec(id: i64, name: &str, rtype: &str, value: &str) -> Value {
    json!({
        "RecordId": id, "RecordName": name, "RecordType": rtype, "Data": { "Value": value },
        "Ttl": 300, "Proxied": false, "SiteId": SITE, "SiteName": "example.com",
        "CreateTime": "2025-01-02T03:04:05Z",
    })
}

/// Records the user made by hand: other names, other types, the other family under `A/AAAA`.
fn hand_made() -> Vec<Value> {
    vec![
        rec(11, "www.example.com", "A/AAAA", "192.0.2.80"),
        rec(12, "home.example.com", "TXT", "v=spf1 -all"),
        rec(13, "home.example.com", "A/AAAA", "2001:db8::5"),
        rec(14, "home.example.com", "CNAME", "elsewhere.example.net"),
    ]
}

/// 500 unrelated sites on page 1, then `example.com` (NS) and `cdn.example.com` (CNAME) on page 2.
fn sites_page(page: usize) -> Value {
    let sites: Vec<Value> = if page == 1 {
        (0..500)
            .map(|i| json!({ "SiteId": 100 + i, "SiteName": format!("filler{i}.example.net"), "AccessType": "NS", "Status": "active" }))
            .collect()
    } else {
        vec![
            json!({ "SiteId": SITE, "SiteName": "example.com", "AccessType": "NS", "Status": "active" }),
            json!({ "SiteId": CNAME_SITE, "SiteName": "cdn.example.com", "AccessType": "CNAME", "Status": "active" }),
        ]
    };
    json!({ "RequestId": "r", "PageNumber": page, "PageSize": 500, "TotalCount": 502, "Sites": sites })
}

/// The ESA API over `store`; checks every request's shape and signature.
async fn fake(records: Vec<Value>) -> (FakeHttp, Store) {
    let store: Store = Arc::new(Mutex::new(records));
    let s = store.clone();
    let next_id = Arc::new(Mutex::new(9001_i64));
    let f = FakeHttp::start(move |r| {
        let q = r.query();
        assert_eq!(r.path(), "/", "{r:?}");
        assert!(r.body.is_empty(), "parameters travel in the query: {r:?}");
        assert_eq!(
            q["Signature"],
            v1(&r.method, &q, SECRET),
            "signature of {r:?}"
        );
        for (k, v) in [
            ("AccessKeyId", KEY_ID),
            ("Format", "JSON"),
            ("Version", "2024-09-10"),
            ("SignatureMethod", "HMAC-SHA1"),
            ("SignatureVersion", "1.0"),
        ] {
            assert_eq!(q[k], v, "{k}");
        }
        let action = q["Action"].as_str();
        let method = if action.starts_with("List") {
            "GET"
        } else {
            "POST"
        };
        assert_eq!(r.method, method, "{action}");
        let mut store = s.lock().unwrap();
        let page = |k: &str| q[k].parse::<usize>().unwrap();
        match action {
            "ListSites" => json_reply(&sites_page(page("PageNumber"))),
            "ListRecords" => {
                assert_eq!(
                    (q["RecordMatchType"].as_str(), q["Type"].as_str()),
                    ("exact", "A/AAAA")
                );
                let all: Vec<Value> = store
                    .iter()
                    .filter(|v| {
                        v["SiteId"].as_i64() == q["SiteId"].parse().ok()
                            && v["RecordName"] == q["RecordName"].as_str()
                            && v["RecordType"] == "A/AAAA"
                    })
                    .cloned()
                    .collect();
                let (n, size) = (page("PageNumber"), page("PageSize"));
                let items: Vec<Value> = all.iter().skip((n - 1) * size).take(size).cloned().collect();
                json_reply(&json!({ "RequestId": "r", "PageNumber": n, "PageSize": size, "TotalCount": all.len(), "Records": items }))
            }
            "CreateRecord" => {
                let mut id = next_id.lock().unwrap();
                let data: Value = serde_json::from_str(&q["Data"]).unwrap();
                let site: i64 = q["SiteId"].parse().unwrap();
                store.push(json!({
                    "RecordId": *id, "RecordName": q["RecordName"], "RecordType": q["Type"], "Data": data,
                    "Ttl": q["Ttl"].parse::<u32>().unwrap(), "Proxied": q.get("Proxied").is_some_and(|p| p == "true"),
                    "SiteId": site,
                }));
                *id += 1;
                json_reply(&json!({ "RequestId": "r", "RecordId": *id - 1 }))
            }
            "UpdateRecord" => {
                let Some(v) = store
                    .iter_mut()
                    .find(|v| v["RecordId"].as_i64() == q["RecordId"].parse().ok())
                else {
                    return Reply::status(404, r#"{"Code":"Record.NotExist","Message":"no such record"}"#);
                };
                v["Data"] = serde_json::from_str(&q["Data"]).unwrap();
                if let Some(t) = q.get("Ttl") {
                    v["Ttl"] = json!(t.parse::<u32>().unwrap());
                }
                if let Some(p) = q.get("Proxied") {
                    v["Proxied"] = json!(p == "true");
                }
                // The documented answer: a RequestId and nothing else.
                json_reply(&json!({ "RequestId": "r" }))
            }
            "DeleteRecord" => {
                store.retain(|v| v["RecordId"].as_i64() != q["RecordId"].parse().ok());
                json_reply(&json!({ "RequestId": "r" }))
            }
            _ => Reply::status(400, r#"{"Code":"InvalidAction.NotFound","Message":"?"}"#),
        }
    })
    .await;
    (f, store)
}

fn actions(f: &FakeHttp) -> Vec<String> {
    f.requests()
        .iter()
        .map(|r| {
            let q = r.query();
            match q.get("PageNumber") {
                Some(p) => format!("{} {}", q["Action"], p),
                None => q["Action"].clone(),
            }
        })
        .collect()
}

/// A request's parameters without the per-call ones (nonce, time, signature) and the common ones.
fn own_params(r: &Request) -> BTreeMap<String, String> {
    let mut q = r.query();
    for k in [
        "AccessKeyId",
        "Format",
        "Version",
        "SignatureMethod",
        "SignatureVersion",
        "SignatureNonce",
        "Timestamp",
        "Signature",
    ] {
        assert!(q.remove(k).is_some(), "{k} missing in {r:?}");
    }
    q
}

#[tokio::test]
#[allow(clippy::too_many_lines)]
async fn create_update_unchanged_signed_and_hand_made_records_survive() {
    let (f, store) = fake(hand_made()).await;
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
    assert_eq!(
        out,
        UpdateOutcome::Updated {
            record_id: Some("9001".into())
        }
    );
    assert_eq!(
        actions(&f),
        [
            "ListSites 1",
            "ListSites 2",
            "ListRecords 1",
            "CreateRecord"
        ],
        "sites followed to page 2; the AAAA-valued record at the name is not an A record"
    );
    assert_eq!(
        own_params(&f.requests()[0]),
        params(&[
            ("Action", "ListSites"),
            ("PageNumber", "1"),
            ("PageSize", "500")
        ])
    );
    assert_eq!(
        own_params(&f.requests()[2]),
        params(&[
            ("Action", "ListRecords"),
            ("SiteId", "1234567890123"),
            ("RecordName", "home.example.com"),
            ("RecordMatchType", "exact"),
            ("Type", "A/AAAA"),
            ("PageNumber", "1"),
            ("PageSize", "500"),
        ])
    );
    assert_eq!(
        own_params(&f.requests()[3]),
        params(&[
            ("Action", "CreateRecord"),
            ("SiteId", "1234567890123"),
            ("RecordName", "home.example.com"),
            ("Type", "A/AAAA"),
            ("Ttl", "600"),
            ("Data", r#"{"Value":"198.51.100.7"}"#),
        ])
    );
    // The raw query carries the slash and the JSON encoded.
    assert!(
        f.requests()[3].target.contains("Type=A%2FAAAA")
            && f.requests()[3]
                .target
                .contains("Data=%7B%22Value%22%3A%22198.51.100.7%22%7D"),
        "{}",
        f.requests()[3].target
    );

    // A new address: the record is updated in place (the zone is known for the round).
    let out = update(&p, "home.example.com", RecordType::A, "198.51.100.8", None)
        .await
        .unwrap();
    assert_eq!(
        out,
        UpdateOutcome::Updated {
            record_id: Some("9001".into())
        }
    );
    let upd = f.requests().last().unwrap().clone();
    assert_eq!(
        own_params(&upd),
        params(&[
            ("Action", "UpdateRecord"),
            ("RecordId", "9001"),
            ("Data", r#"{"Value":"198.51.100.8"}"#),
            ("Ttl", "600"),
            ("Proxied", "false"),
        ])
    );

    // Already there: read only.
    let before = f.requests().len();
    let out = update(&p, "home.example.com", RecordType::A, "198.51.100.8", None)
        .await
        .unwrap();
    assert_eq!(
        out,
        UpdateOutcome::Unchanged {
            record_id: Some("9001".into())
        }
    );
    assert_eq!(actions(&f)[before..], ["ListRecords 1"]);

    // AAAA: the IPv6-valued `A/AAAA` record at the name is the one updated.
    update(
        &p,
        "home.example.com",
        RecordType::Aaaa,
        "2001:db8::7",
        None,
    )
    .await
    .unwrap();
    let upd = f.requests().last().unwrap().clone();
    assert_eq!(
        (
            upd.query()["Action"].as_str(),
            upd.query()["RecordId"].as_str()
        ),
        ("UpdateRecord", "13")
    );

    let store = store.lock().unwrap();
    let by_id = |id: i64| store.iter().find(|v| v["RecordId"] == id).cloned();
    for (id, kept) in [
        (11, "192.0.2.80"),
        (12, "v=spf1 -all"),
        (14, "elsewhere.example.net"),
    ] {
        assert_eq!(by_id(id).unwrap()["Data"]["Value"], kept, "hand-made {id}");
    }
    assert_eq!(by_id(9001).unwrap()["Data"]["Value"], "198.51.100.8");
    assert_eq!(by_id(13).unwrap()["Data"]["Value"], "2001:db8::7");
}

#[tokio::test]
async fn proxied_flag_kept_and_cname_sites_get_proxied_records() {
    let mut records = hand_made();
    let mut proxied = rec(21, "home.example.com", "A/AAAA", "198.51.100.1");
    proxied["Proxied"] = json!(true);
    proxied["BizName"] = json!("api");
    records.push(proxied);
    let (f, store) = fake(records).await;
    let p = build(&cfg(&f.url("")));
    update(&p, "home.example.com", RecordType::A, "198.51.100.2", None)
        .await
        .unwrap();
    assert_eq!(
        own_params(f.requests().last().unwrap()),
        params(&[
            ("Action", "UpdateRecord"),
            ("RecordId", "21"),
            ("Data", r#"{"Value":"198.51.100.2"}"#),
            ("Ttl", "300"),
            ("Proxied", "true"),
            ("BizName", "api"),
        ])
    );
    assert_eq!(
        store
            .lock()
            .unwrap()
            .iter()
            .find(|v| v["RecordId"] == 21)
            .unwrap()["Proxied"],
        true
    );

    // A site connected by CNAME only serves proxied records: new ones are created proxied (BizName web),
    // in the longest matching site.
    update(&p, "x.cdn.example.com", RecordType::A, "198.51.100.3", None)
        .await
        .unwrap();
    assert_eq!(
        own_params(f.requests().last().unwrap()),
        params(&[
            ("Action", "CreateRecord"),
            ("SiteId", "7000000000001"),
            ("RecordName", "x.cdn.example.com"),
            ("Type", "A/AAAA"),
            ("Ttl", "1"),
            ("Data", r#"{"Value":"198.51.100.3"}"#),
            ("Proxied", "true"),
            ("BizName", "web"),
        ])
    );
}

#[tokio::test]
async fn records_paged_duplicates_reduced_and_a_configured_site_skips_the_lookup() {
    // 500 IPv6-valued records at the name fill page 1; the two A records are on page 2.
    let mut records: Vec<Value> = (0..500)
        .map(|i| {
            rec(
                1000 + i,
                "home.example.com",
                "A/AAAA",
                &format!("2001:db8::{:x}", i + 1),
            )
        })
        .collect();
    records.push(rec(31, "home.example.com", "A/AAAA", "198.51.100.1"));
    records.push(rec(32, "home.example.com", "A/AAAA", "198.51.100.9"));
    records.extend(hand_made());
    let (f, store) = fake(records).await;
    let p = build(&format!("{}\nsite_id = \"{SITE}\"", cfg(&f.url(""))));
    let out = update(&p, "home.example.com", RecordType::A, "198.51.100.9", None)
        .await
        .unwrap();
    assert_eq!(
        out,
        UpdateOutcome::Updated {
            record_id: Some("32".into())
        }
    );
    assert_eq!(
        actions(&f),
        ["ListRecords 1", "ListRecords 2", "DeleteRecord"],
        "no ListSites with site_id; page 2 read; the duplicate deleted"
    );
    assert_eq!(
        own_params(&f.requests()[2]),
        params(&[("Action", "DeleteRecord"), ("RecordId", "31")])
    );
    let store = store.lock().unwrap();
    assert_eq!(store.len(), 500 + 1 + hand_made().len());
    for h in hand_made() {
        assert!(store.contains(&h), "hand-made {h} kept");
    }
}

#[tokio::test]
async fn failures() {
    common_failures(
        cfg,
        Reply::status(
            404,
            r#"{"RequestId":"r","HostId":"esa.cn-hangzhou.aliyuncs.com","Code":"InvalidAccessKeyId.NotFound","Message":"Specified access key is not found."}"#,
        ),
        "home.example.com",
    )
    .await;
    let cases: Vec<(u16, &str, ErrorClass)> = vec![
        (400, "SignatureDoesNotMatch", ErrorClass::Auth),
        (403, "NoPermission", ErrorClass::Auth),
        (
            400,
            "Throttling.User",
            ErrorClass::RateLimited { retry_after: None },
        ),
        (503, "ServiceUnavailable", ErrorClass::Transient),
        (400, "InvalidParameter", ErrorClass::Rejected),
    ];
    for (status, code, class) in cases {
        let body = format!(r#"{{"RequestId":"r","Code":"{code}","Message":"m {SECRET}"}}"#);
        let f = FakeHttp::start(move |_| Reply::status(status, body.clone())).await;
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
        assert!(
            err.message.contains(code) && !err.message.contains(SECRET),
            "{err:?}"
        );
    }
    // A name under none of the account's sites: rejected, nothing written.
    let (f, _) = fake(hand_made()).await;
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
    assert!(writes(&f).is_empty());
}
