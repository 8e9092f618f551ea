//! Now.cn 时代互联 against a fake written from the request and answer shapes in `docs/providers/nowcn.md`
//! (ddns-go's client, co-written by now.cn): GET `/api/Dns/<Action>` with every parameter in the query,
//! `AccessInstanceID`, `SignatureMethod`, `SignatureNonce`, `Timestamp`, `Signature` (HMAC-SHA1 over
//! `GET&%2F&<encoded canonical query>` keyed with `secret&`, checked here from the steps), `error` empty on
//! success, `Data` with numeric `id`s.

use std::collections::BTreeMap;

use base64::Engine as _;

use super::*;

const SECRET: &str = "nowcn-s3cret";

fn cfg(endpoint: &str) -> String {
    format!(
        "kind = \"nowcn\"\naccess_instance_id = \"inst-123\"\naccess_key_secret = \"{SECRET}\"\nendpoint = \"{endpoint}\""
    )
}

/// RFC 3986 encoding, written out for the test: unreserved characters stay, the rest is `%XX`.
fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// The doc's steps: every parameter but `Signature`, sorted, encoded, `k=v` joined by `&`; the string to
/// sign `GET&%2F&` + that encoded again; HMAC-SHA1 keyed with `secret&`, Base64.
fn expected_signature(q: &BTreeMap<String, String>) -> String {
    let canonical: Vec<String> = q
        .iter()
        .filter(|(k, _)| k.as_str() != "Signature")
        .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
        .collect();
    let to_sign = format!("GET&%2F&{}", enc(&canonical.join("&")));
    let key = ring::hmac::Key::new(
        ring::hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY,
        format!("{SECRET}&").as_bytes(),
    );
    base64::engine::general_purpose::STANDARD
        .encode(ring::hmac::sign(&key, to_sign.as_bytes()).as_ref())
}

fn rec(id: u64, host: &str, rtype: &str, value: &str) -> Value {
    json!({ "id": id, "Domain": "example.com", "Host": host, "Type": rtype, "Value": value, "State": 1 })
}

/// The records at the host of every type come back (the client filters): an AAAA, a TXT and a CNAME
/// elsewhere must survive.
async fn fake(records: Vec<Value>) -> FakeHttp {
    FakeHttp::start(move |r| {
        let q = r.query();
        if r.method != "GET" || q.get("AccessInstanceID").map(String::as_str) != Some("inst-123") {
            return json_reply(&json!({ "RequestId": "r", "error": "AccessInstanceID 不存在" }));
        }
        if q.get("Signature") != Some(&expected_signature(&q))
            || q["SignatureMethod"] != "HMAC-SHA1"
        {
            return Reply::ok("接口验签失败");
        }
        if q.get("Domain").map(String::as_str) != Some("example.com") {
            return json_reply(&json!({ "RequestId": "r", "error": "域名不存在" }));
        }
        match r.path() {
            "/api/Dns/DescribeRecordIndex" => {
                let data: Vec<Value> = records
                    .iter()
                    .filter(|v| v["Host"] == q["Host"].as_str())
                    .cloned()
                    .collect();
                json_reply(&json!({ "RequestId": "r", "error": "", "Data": data }))
            }
            "/api/Dns/AddDomainRecord" => {
                json_reply(&json!({ "RequestId": "r", "Id": 7001, "error": "" }))
            }
            "/api/Dns/UpdateDomainRecord" => json_reply(
                &json!({ "RequestId": "r", "Id": q["Id"].parse::<u64>().unwrap(), "error": "" }),
            ),
            _ => Reply::status(404, "not found"),
        }
    })
    .await
}

fn write_log(f: &FakeHttp) -> Vec<String> {
    f.requests()
        .iter()
        .filter(|r| r.path() != "/api/Dns/DescribeRecordIndex")
        .map(|r| {
            let q: Vec<String> = r
                .query()
                .into_iter()
                .filter(|(k, _)| {
                    !matches!(
                        k.as_str(),
                        "AccessInstanceID"
                            | "SignatureMethod"
                            | "SignatureNonce"
                            | "Timestamp"
                            | "Signature"
                    )
                })
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            format!("{} {}", r.path(), q.join(" "))
        })
        .collect()
}

fn hand_made() -> Vec<Value> {
    vec![
        rec(501, "home", "AAAA", "2001:db8::1"),
        rec(502, "home", "TXT", "v=spf1 -all"),
        rec(503, "www", "CNAME", "home.example.com"),
    ]
}

#[tokio::test]
async fn create_signed() {
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
            record_id: Some("7001".into())
        }
    );
    let reqs = f.requests();
    for r in &reqs {
        let q = r.query();
        assert_eq!(r.headers["accept"], "application/json");
        assert!(
            q["Timestamp"].ends_with('Z') && q["Timestamp"].len() == 20,
            "{}",
            q["Timestamp"]
        );
        assert!(!q["SignatureNonce"].is_empty());
    }
    assert_eq!(
        reqs[0]
            .query()
            .into_iter()
            .filter(|(k, _)| matches!(k.as_str(), "Domain" | "Host" | "Type"))
            .collect::<Vec<_>>(),
        [
            ("Domain".into(), "example.com".into()),
            ("Host".into(), "home".into()),
            ("Type".into(), "A".into())
        ]
    );
    assert_eq!(
        write_log(&f),
        ["/api/Dns/AddDomainRecord Domain=example.com Host=home Ttl=600 Type=A Value=198.51.100.7"]
    );
}

#[tokio::test]
async fn update_unchanged_and_duplicates_kept() {
    let mut records = hand_made();
    records.push(rec(601, "home", "A", "198.51.100.6"));
    records.push(rec(602, "home", "A", "198.51.100.5"));
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
            "/api/Dns/UpdateDomainRecord Domain=example.com Host=home Id=601 Ttl=300 Type=A Value=198.51.100.7"
        ],
        "no delete: the second record is left alone"
    );

    let mut records = hand_made();
    records.push(rec(601, "home", "A", "198.51.100.7"));
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

    // The apex is `@`; a configured zone for a two-level suffix.
    let f = FakeHttp::start(|r| {
        let q = r.query();
        assert_eq!(q["Domain"], "example.com.cn");
        assert_eq!(q["Host"], "@");
        json_reply(&json!({ "RequestId": "r", "error": "", "Data": [] }))
    })
    .await;
    update(
        &build(&format!("{}\nzone = \"example.com.cn\"", cfg(&f.url("")))),
        "example.com.cn",
        RecordType::A,
        "198.51.100.7",
        None,
    )
    .await
    .unwrap();
}

#[tokio::test]
async fn failures() {
    common_failures(
        cfg,
        json_reply(&json!({ "RequestId": "r", "error": "签名错误" })),
        "home.example.com",
    )
    .await;
    for (reply, class) in [
        (Reply::ok("接口验签失败"), ErrorClass::Auth),
        (
            json_reply(&json!({ "RequestId": "r", "error": "AccessInstanceID 不存在" })),
            ErrorClass::Auth,
        ),
        (
            json_reply(&json!({ "RequestId": "r", "error": "域名不存在" })),
            ErrorClass::Rejected,
        ),
    ] {
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
        assert_eq!(err.class, class, "{err:?}");
        assert!(!err.message.contains(SECRET));
    }
    // The fake's own check of the signature refuses a wrong secret.
    let f = fake(vec![]).await;
    let wrong = format!(
        "kind = \"nowcn\"\naccess_instance_id = \"inst-123\"\naccess_key_secret = \"another-secret\"\nendpoint = \"{}\"",
        f.url("")
    );
    let err = update(
        &build(&wrong),
        "home.example.com",
        RecordType::A,
        "198.51.100.1",
        None,
    )
    .await
    .unwrap_err();
    assert_eq!(err.class, ErrorClass::Auth, "{err:?}");
}
