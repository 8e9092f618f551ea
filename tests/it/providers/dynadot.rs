//! Dynadot `RESTful` API v1, from docs/providers/dynadot.md (Dynadot's API document: headers, X-Signature,
//! response envelope, rate limits, `GET_DNS` / `SET_DNS`; item fields as a working v1 client reads and writes
//! them). The fake keeps one domain's whole DNS setting; a write replaces it whole, as `SET_DNS` without
//! `add_dns_to_current_setting` does, so any record the client failed to write back would be lost here too.
//! Every request's `X-Signature` is recomputed independently (HMAC-SHA256 with `ring`, Base64).

use std::sync::{Arc, Mutex};

use base64::Engine as _;
use ring::hmac;

use super::*;

const KEY: &str = "dyn-key-1234";
const SECRET: &str = "dyn-s3cret";

fn cfg(endpoint: &str) -> String {
    format!(
        "kind = \"dynadot\"\napi_key = \"{KEY}\"\napi_secret = \"{SECRET}\"\nendpoint = \"{endpoint}\""
    )
}

/// The document's steps: `key \n path-and-query \n request id \n body`, HMAC-SHA256 keyed with the secret,
/// standard Base64.
fn x_signature(key: &str, secret: &str, path: &str, request_id: &str, body: &str) -> String {
    let message = format!("{key}\n{path}\n{request_id}\n{body}");
    let tag = hmac::sign(
        &hmac::Key::new(hmac::HMAC_SHA256, secret.as_bytes()),
        message.as_bytes(),
    );
    base64::engine::general_purpose::STANDARD.encode(tag.as_ref())
}

#[test]
fn the_independent_signature_matches_the_notes_fixtures() {
    // The document's example string-to-sign (it publishes no signature; these values are derived, see the
    // note) and the note's GET/POST fixtures.
    assert_eq!(
        x_signature(
            "your_api_key",
            "your_secret",
            "/restful/v2/some/endpoint?param=value",
            "unique-request-id",
            "{\"key\":\"value\"}"
        ),
        "FQZ/COnt6cvKAzqxr0itTEQyGyTkyL7B511UqGGu9Ag="
    );
    let rid = "550e8400-e29b-41d4-a716-446655440000";
    let path = "/restful/v2/domains/example.com/records";
    assert_eq!(
        x_signature("your_api_key", "your_secret", path, rid, ""),
        "eAtktng0sxfDmibkqRZzQzL2DfqR/7Ci94P4pRH4N1Q="
    );
    assert_eq!(
        x_signature(
            "your_api_key",
            "your_secret",
            path,
            rid,
            r#"{"dns_sub_list":[{"sub_host":"www","record_type":"a","record_value1":"203.0.113.7"}],"ttl":300,"add_dns_to_current_setting":true}"#
        ),
        "iQTlN8HHt2GNqXh20jWSn2HUTa7P2MSJ1vzchpxP4x4="
    );
}

/// The domain `example.com`'s setting as Dynadot answers it.
type Store = Arc<Mutex<Value>>;

fn hand_made() -> Value {
    json!({
        "type": "Dynadot DNS",
        "with_ads": "no",
        "ttl": "300",
        "main_domains": [
            { "record_type": "a", "value": "192.0.2.1" },
            { "record_type": "mx", "value": "mail.example.com", "value2": "10" },
        ],
        "sub_domains": [
            { "sub_host": "www", "record_type": "a", "value": "192.0.2.80" },
            { "sub_host": "home", "record_type": "txt", "value": "v=spf1 -all" },
            { "sub_host": "home", "record_type": "aaaa", "value": "2001:db8::5" },
            { "sub_host": "old", "record_type": "forward", "value": "https://example.net/", "value2": "301", "forward_type": "temporary" },
        ],
    })
}

/// What a write of `items` (as sent) reads back as: `record_value1/2` stored as `value/value2`.
fn stored(items: &Value) -> Value {
    Value::Array(
        items
            .as_array()
            .unwrap()
            .iter()
            .map(|i| {
                let mut o = i.as_object().unwrap().clone();
                if let Some(v) = o.remove("record_value1") {
                    o.insert("value".into(), v);
                }
                if let Some(v) = o.remove("record_value2") {
                    o.insert("value2".into(), v);
                }
                Value::Object(o)
            })
            .collect(),
    )
}

/// The API for `example.com`; checks every request's headers and signature; a POST replaces the setting.
async fn fake(setting: Value) -> (FakeHttp, Store) {
    let store: Store = Arc::new(Mutex::new(setting));
    let s = store.clone();
    let f = FakeHttp::start(move |r| {
        assert_eq!(r.headers["authorization"], format!("Bearer {KEY}"));
        assert_eq!(r.headers["accept"], "application/json");
        let rid = &r.headers["x-request-id"];
        assert_eq!(rid.len(), 36, "{rid}");
        assert_eq!(
            r.headers["x-signature"],
            x_signature(KEY, SECRET, &r.target, rid, &r.body),
            "signature of {r:?}"
        );
        let Some(domain) = r
            .path()
            .strip_prefix("/restful/v1/domains/")
            .and_then(|p| p.strip_suffix("/records"))
        else {
            return Reply::status(404, r#"{"code":404,"message":"Not Found"}"#);
        };
        if domain != "example.com" {
            return if domain.ends_with(".example.com") {
                Reply::status(400, r#"{"code":400,"message":"Subdomains are not allowed"}"#)
            } else {
                Reply::status(
                    404,
                    format!(r#"{{"code":404,"message":"Can not find the {domain} in the account"}}"#),
                )
            };
        }
        let mut store = s.lock().unwrap();
        match r.method.as_str() {
            "GET" => {
                assert!(r.body.is_empty());
                json_reply(&json!({ "code": 200, "message": "Success", "data": { "name_server_settings": *store } }))
            }
            "POST" => {
                assert_eq!(r.headers["content-type"], "application/json");
                let b = r.json();
                store["main_domains"] = stored(&b["dns_main_list"]);
                store["sub_domains"] = stored(&b["sub_list"]);
                if let Some(t) = b.get("ttl") {
                    store["ttl"] = json!(t.to_string());
                }
                json_reply(&json!({ "code": 200, "message": "Success" }))
            }
            _ => Reply::status(405, r#"{"code":405,"message":"?"}"#),
        }
    })
    .await;
    (f, store)
}

fn targets(f: &FakeHttp) -> Vec<String> {
    f.requests()
        .iter()
        .map(|r| format!("{} {}", r.method, r.target))
        .collect()
}

const RECORDS: &str = "/restful/v1/domains/example.com/records";

#[tokio::test]
async fn create_update_unchanged_and_every_other_record_written_back() {
    let (f, store) = fake(hand_made()).await;
    let p = build(&cfg(&f.url("/restful/v1")));
    let out = update(&p, "home.example.com", RecordType::A, "198.51.100.7", None)
        .await
        .unwrap();
    assert_eq!(out, UpdateOutcome::Updated { record_id: None });
    assert_eq!(
        targets(&f),
        [
            "GET /restful/v1/domains/home.example.com/records".to_owned(),
            format!("GET {RECORDS}"),
            format!("GET {RECORDS}"),
            format!("GET {RECORDS}"),
            format!("POST {RECORDS}"),
        ],
        "zone probed longest first; read; read again right before the write"
    );
    assert_eq!(
        writes(&f)[0].json(),
        json!({
            "dns_main_list": [
                { "record_type": "a", "value": "192.0.2.1", "record_value1": "192.0.2.1" },
                { "record_type": "mx", "value": "mail.example.com", "value2": "10",
                  "record_value1": "mail.example.com", "record_value2": "10" },
            ],
            "sub_list": [
                { "sub_host": "www", "record_type": "a", "value": "192.0.2.80", "record_value1": "192.0.2.80" },
                { "sub_host": "home", "record_type": "txt", "value": "v=spf1 -all", "record_value1": "v=spf1 -all" },
                { "sub_host": "home", "record_type": "aaaa", "value": "2001:db8::5", "record_value1": "2001:db8::5" },
                { "sub_host": "old", "record_type": "forward", "value": "https://example.net/", "value2": "301",
                  "forward_type": "temporary", "record_value1": "https://example.net/", "record_value2": "301" },
                { "sub_host": "home", "record_type": "a", "record_value1": "198.51.100.7" },
            ],
            "ttl": 300,
            "add_dns_to_current_setting": false,
        })
    );

    // A new address: the record is replaced where it stands, everything else as it was.
    let before = store.lock().unwrap().clone();
    update(&p, "home.example.com", RecordType::A, "198.51.100.8", None)
        .await
        .unwrap();
    let after = store.lock().unwrap().clone();
    let mut expected = before.clone();
    expected["sub_domains"][4]["value"] = json!("198.51.100.8");
    assert_eq!(after, expected);

    // Already there: read only.
    let n = f.requests().len();
    let out = update(&p, "home.example.com", RecordType::A, "198.51.100.8", None)
        .await
        .unwrap();
    assert_eq!(out, UpdateOutcome::Unchanged { record_id: None });
    assert_eq!(targets(&f)[n..], [format!("GET {RECORDS}")]);

    // Every hand-made record survived both writes.
    let h = hand_made();
    let now = store.lock().unwrap().clone();
    assert_eq!(now["main_domains"], h["main_domains"]);
    for i in 0..4 {
        assert_eq!(now["sub_domains"][i], h["sub_domains"][i], "sub record {i}");
    }
    assert_eq!(now["ttl"], "300");
}

#[tokio::test]
async fn apex_with_a_configured_zone_and_ttl_and_two_addresses_become_one() {
    let mut setting = hand_made();
    setting["main_domains"]
        .as_array_mut()
        .unwrap()
        .push(json!({ "record_type": "a", "value": "192.0.2.2" }));
    let (f, store) = fake(setting).await;
    let p = build(&format!(
        "{}\nzone = \"example.com\"",
        cfg(&f.url("/restful/v1"))
    ));
    update(&p, "example.com", RecordType::A, "198.51.100.9", Some(600))
        .await
        .unwrap();
    assert_eq!(
        targets(&f),
        [
            format!("GET {RECORDS}"),
            format!("GET {RECORDS}"),
            format!("POST {RECORDS}")
        ],
        "no probing with zone set"
    );
    let w = writes(&f)[0].json();
    assert_eq!(
        w["dns_main_list"],
        json!([
            { "record_type": "a", "record_value1": "198.51.100.9" },
            { "record_type": "mx", "value": "mail.example.com", "value2": "10",
              "record_value1": "mail.example.com", "record_value2": "10" },
        ])
    );
    assert_eq!(w["ttl"], 600, "the record's TTL (Dynadot's is per domain)");
    assert_eq!(
        store.lock().unwrap()["sub_domains"],
        hand_made()["sub_domains"]
    );
}

#[tokio::test]
async fn nothing_is_written_when_the_read_cannot_be_trusted() {
    let mut not_dns = hand_made();
    not_dns["type"] = json!("Name Servers");
    let mut unreadable = hand_made();
    unreadable["sub_domains"]
        .as_array_mut()
        .unwrap()
        .push(json!({ "sub_host": "x", "record_type": "a" }));
    let mut wrong_shape = hand_made();
    wrong_shape["sub_domains"] = json!({ "www": "192.0.2.80" });
    for (case, setting) in [
        ("not on Dynadot DNS", not_dns),
        ("a record without value", unreadable),
        ("unknown shape", wrong_shape),
    ] {
        let (f, _) = fake(setting).await;
        let err = update(
            &build(&cfg(&f.url("/restful/v1"))),
            "home.example.com",
            RecordType::A,
            "198.51.100.7",
            None,
        )
        .await
        .expect_err(case);
        assert_eq!(err.class, ErrorClass::Rejected, "{case}: {err:?}");
        assert!(writes(&f).is_empty(), "{case}: nothing written");
    }
}

#[tokio::test]
async fn failures() {
    common_failures(
        |e| cfg(&format!("{e}/restful/v1")),
        Reply::status(
            401,
            r#"{"code":401,"message":"The provided API key is invalid, expired, or missing"}"#,
        ),
        "home.example.com",
    )
    .await;
    let cases: Vec<(&str, Reply, ErrorClass)> = vec![
        (
            "429 without Retry-After waits the documented 60 s",
            Reply::status(
                429,
                r#"{"code":429,"message":"Too Many Requests","error":{"description":"Please try again after 60 seconds."}}"#,
            ),
            ErrorClass::RateLimited {
                retry_after: Some(60),
            },
        ),
        (
            "249 in the body",
            Reply::ok(r#"{"code":249,"message":"Too many requests"}"#),
            ErrorClass::RateLimited {
                retry_after: Some(60),
            },
        ),
        (
            "403 in the body",
            Reply::ok(r#"{"code":403,"message":"Forbidden"}"#),
            ErrorClass::Auth,
        ),
        (
            "409",
            Reply::status(409, r#"{"code":409,"message":"Conflict"}"#),
            ErrorClass::Rejected,
        ),
        (
            "500",
            Reply::status(500, r#"{"code":500,"message":"Internal Server Error"}"#),
            ErrorClass::Transient,
        ),
    ];
    for (case, reply, class) in cases {
        let f = FakeHttp::start(move |_| reply.clone()).await;
        let err = update(
            &build(&format!(
                "{}\nzone = \"example.com\"",
                cfg(&f.url("/restful/v1"))
            )),
            "home.example.com",
            RecordType::A,
            "198.51.100.1",
            None,
        )
        .await
        .expect_err(case);
        assert_eq!(err.class, class, "{case}: {err:?}");
    }
    // A name in no domain of the account.
    let (f, _) = fake(hand_made()).await;
    let err = update(
        &build(&cfg(&f.url("/restful/v1"))),
        "home.example.org",
        RecordType::A,
        "198.51.100.1",
        None,
    )
    .await
    .unwrap_err();
    assert_eq!(err.class, ErrorClass::Rejected, "{err:?}");
    assert_eq!(
        targets(&f),
        [
            "GET /restful/v1/domains/home.example.org/records",
            "GET /restful/v1/domains/example.org/records"
        ]
    );
}
