//! netcup CCP DNS API (JSON), from docs/providers/netcup.md (netcup's endpoint page, lego's request/answer
//! fixtures): every call `POST …/endpoint.php?JSON` with `{"action","param"}`; answers HTTP 200 with
//! `status`/`statuscode`/`shortmessage`/`longmessage`/`responsedata`; `login` → `apisessionid`;
//! `infoDnsRecords` the whole zone (5029 when empty); `updateDnsRecords` with only the records sent (no `id` =
//! create, `deleterecord: true` = delete); `logout`.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use super::*;

const PATH: &str = "/run/webservice/servers/endpoint.php?JSON";
const KEY: &str = "netcup-api-key-s3cret";
const PASSWORD: &str = "netcup-api-password-s3cret";

fn cfg(endpoint: &str) -> String {
    format!(
        "kind = \"netcup\"\ncustomer_number = \"12345\"\napi_key = \"{KEY}\"\napi_password = \"{PASSWORD}\"\nendpoint = \"{endpoint}{PATH}\""
    )
}

fn ok(action: &str, data: &Value) -> Reply {
    json_reply(&json!({
        "serverrequestid": "srv", "clientrequestid": "", "action": action, "status": "success",
        "statuscode": 2000, "shortmessage": "ok", "longmessage": "ok", "responsedata": data,
    }))
}

fn error(action: &str, code: i64, short: &str, long: &str) -> Reply {
    json_reply(&json!({
        "serverrequestid": "srv", "clientrequestid": "", "action": action, "status": "error",
        "statuscode": code, "shortmessage": short, "longmessage": long, "responsedata": "",
    }))
}

fn rec(id: &str, host: &str, t: &str, dest: &str) -> Value {
    json!({ "id": id, "hostname": host, "type": t, "priority": "0", "destination": dest,
            "deleterecord": false, "state": "yes" })
}

/// Records the user made by hand: another name, other types at the name, a mail record.
fn hand_made() -> Vec<Value> {
    vec![
        rec("1", "www", "A", "192.0.2.80"),
        rec("2", "home", "AAAA", "2001:db8::5"),
        rec("3", "home", "TXT", "v=spf1 -all"),
        json!({ "id": "4", "hostname": "@", "type": "MX", "priority": "10", "destination": "mail.example.com",
                "deleterecord": false, "state": "yes" }),
    ]
}

type Zone = Arc<Mutex<Vec<Value>>>;

/// netcup with zone `example.com`; sessions `sess-1`, `sess-2`, …; writes change the zone. With
/// `stale_once`, the first `infoDnsRecords` is answered 4001 (an invalid session).
async fn fake(records: Vec<Value>, stale_once: bool) -> (FakeHttp, Zone) {
    let zone: Zone = Arc::new(Mutex::new(records));
    let z = zone.clone();
    let logins = AtomicUsize::new(0);
    let stale = Mutex::new(stale_once);
    let f = FakeHttp::start(move |r| {
        assert_eq!(r.method, "POST");
        assert_eq!(r.target, PATH);
        assert_eq!(r.headers["content-type"], "application/json");
        let body = r.json();
        let action = body["action"].as_str().unwrap().to_owned();
        let p = &body["param"];
        if action == "login" {
            assert_eq!(
                body,
                json!({ "action": "login", "param": { "customernumber": "12345", "apikey": KEY, "apipassword": PASSWORD } })
            );
            let n = logins.fetch_add(1, Ordering::SeqCst) + 1;
            return ok("login", &json!({ "apisessionid": format!("sess-{n}") }));
        }
        assert_eq!(p["customernumber"], "12345");
        assert_eq!(p["apikey"], KEY);
        assert!(p.get("apipassword").is_none(), "the password only logs in");
        let mut zone = z.lock().unwrap();
        match action.as_str() {
            "infoDnsRecords" => {
                assert_eq!(p["domainname"], "example.com");
                if std::mem::take(&mut *stale.lock().unwrap()) {
                    return error(
                        "infoDnsRecords",
                        4001,
                        "Validation Error.",
                        "The session id is not in a valid format.",
                    );
                }
                if zone.is_empty() {
                    return error(
                        "infoDnsRecords",
                        5029,
                        "Getting DNS records failed",
                        "Can not get DNS records for zone. The zone does not example.com contain any DNS records.",
                    );
                }
                ok("infoDnsRecords", &json!({ "dnsrecords": *zone }))
            }
            "updateDnsRecords" => {
                for sent in p["dnsrecordset"]["dnsrecords"].as_array().unwrap() {
                    let id = sent.get("id").and_then(Value::as_str);
                    match id {
                        None => {
                            let mut new = sent.clone();
                            new["id"] = json!(format!("{}", 100 + zone.len()));
                            new["state"] = json!("yes");
                            zone.push(new);
                        }
                        Some(id) => {
                            let i = zone.iter().position(|x| x["id"] == id).unwrap();
                            if sent["deleterecord"] == true {
                                zone.remove(i);
                            } else {
                                zone[i] = sent.clone();
                            }
                        }
                    }
                }
                ok("updateDnsRecords", &json!({ "dnsrecords": *zone }))
            }
            "logout" => ok("logout", &json!("")),
            other => panic!("unexpected action {other}"),
        }
    })
    .await;
    (f, zone)
}

/// Each request as `action session body-param` (without the credentials every call carries).
fn calls(f: &FakeHttp) -> Vec<(String, String, Value)> {
    f.requests()
        .iter()
        .map(|r| {
            let mut b = r.json();
            let action = b["action"].as_str().unwrap().to_owned();
            let p = b["param"].as_object_mut().unwrap();
            let session = p
                .remove("apisessionid")
                .map(|s| s.as_str().unwrap().to_owned())
                .unwrap_or_default();
            p.remove("customernumber");
            p.remove("apikey");
            p.remove("apipassword");
            (action, session, Value::Object(p.clone()))
        })
        .collect()
}

fn action_names(c: &[(String, String, Value)]) -> Vec<String> {
    c.iter()
        .map(|(a, s, _)| format!("{a} {s}").trim().to_owned())
        .collect()
}

#[tokio::test]
async fn create_unchanged_update() {
    let (f, zone) = fake(hand_made(), false).await;
    let p = build(&cfg(&f.url("")));
    let out = update(
        &p,
        "home.example.com",
        RecordType::A,
        "198.51.100.7",
        Some(120),
    )
    .await
    .unwrap();
    assert_eq!(
        out,
        UpdateOutcome::Updated {
            record_id: Some("104".into())
        }
    );
    let c = calls(&f);
    assert_eq!(
        action_names(&c),
        [
            "login",
            "infoDnsRecords sess-1",
            "updateDnsRecords sess-1",
            "logout sess-1"
        ]
    );
    assert_eq!(c[1].2, json!({ "domainname": "example.com" }));
    // Only the new record, without id; no TTL (netcup's TTL is the zone's).
    assert_eq!(
        c[2].2,
        json!({ "domainname": "example.com", "dnsrecordset": { "dnsrecords": [
            { "hostname": "home", "type": "A", "priority": "0", "destination": "198.51.100.7", "deleterecord": false }
        ] } })
    );
    assert_eq!(c[3].2, json!({}));

    // Holding the address: a fresh session, nothing written.
    let out = update(&p, "home.example.com", RecordType::A, "198.51.100.7", None)
        .await
        .unwrap();
    assert!(matches!(out, UpdateOutcome::Unchanged { .. }), "{out:?}");
    assert_eq!(
        action_names(&calls(&f)[4..]),
        ["login", "infoDnsRecords sess-2", "logout sess-2"]
    );

    // A new address: the listed record sent back whole with the new destination.
    update(&p, "home.example.com", RecordType::A, "198.51.100.8", None)
        .await
        .unwrap();
    let c = calls(&f);
    assert_eq!(c[9].0, "updateDnsRecords");
    assert_eq!(
        c[9].2["dnsrecordset"]["dnsrecords"],
        json!([{ "id": "104", "hostname": "home", "type": "A", "priority": "0",
                 "destination": "198.51.100.8", "deleterecord": false, "state": "yes" }])
    );
    let zone = zone.lock().unwrap();
    for r in hand_made() {
        assert!(zone.contains(&r), "hand-made record kept: {r}");
    }
}

#[tokio::test]
async fn apex_duplicate_deleted_alone() {
    let mut records = hand_made();
    records.push(rec("7", "@", "A", "192.0.2.1"));
    records.push(rec("8", "@", "A", "192.0.2.2"));
    let (f, zone) = fake(records, false).await;
    let p = build(&format!("{}\nzone = \"example.com\"", cfg(&f.url(""))));
    update(&p, "example.com", RecordType::A, "192.0.2.2", None)
        .await
        .unwrap();
    let c = calls(&f);
    assert_eq!(
        action_names(&c),
        [
            "login",
            "infoDnsRecords sess-1",
            "updateDnsRecords sess-1",
            "logout sess-1"
        ]
    );
    assert_eq!(
        c[2].2["dnsrecordset"]["dnsrecords"],
        json!([{ "id": "7", "hostname": "@", "type": "A", "priority": "0",
                 "destination": "192.0.2.1", "deleterecord": true, "state": "yes" }])
    );
    let zone = zone.lock().unwrap();
    assert!(zone.iter().all(|r| r["id"] != "7"));
    for r in hand_made() {
        assert!(zone.contains(&r), "hand-made record kept: {r}");
    }
}

#[tokio::test]
async fn an_empty_zone_and_an_invalid_session() {
    // 5029: no records yet, so one is created.
    let (f, zone) = fake(vec![], false).await;
    let p = build(&cfg(&f.url("")));
    update(&p, "home.example.com", RecordType::A, "198.51.100.7", None)
        .await
        .unwrap();
    assert_eq!(zone.lock().unwrap().len(), 1);

    // 4001 right after a good login: logged in again once, and the call repeated.
    let (f, _) = fake(hand_made(), true).await;
    let p = build(&cfg(&f.url("")));
    p.check("home.example.com", RecordType::A).await.unwrap();
    assert_eq!(
        action_names(&calls(&f)),
        [
            "login",
            "infoDnsRecords sess-1",
            "login",
            "infoDnsRecords sess-2",
            "logout sess-2"
        ]
    );
}

#[tokio::test]
async fn failures() {
    common_failures(
        cfg,
        error(
            "login",
            4013,
            "Validation Error.",
            "The login credentials are not correct.",
        ),
        "home.example.com",
    )
    .await;
    let limit = error(
        "infoDnsRecords",
        4013,
        "Api request limit reached.",
        "More than 180 requests per minute. Please wait and retry later. Please contact our customer service to find out if the limitation of requests can be increased.",
    );
    let gone = error(
        "updateDnsRecords",
        5028,
        "Update of DNS records failed",
        "Can not update (all) DNS records for zone. The zone example.com could not be found.",
    );
    let bad = error(
        "updateDnsRecords",
        4013,
        "Validation Error.",
        "Value in field domainname does not match requirements of type: domainname.",
    );
    for (action, reply, class) in [
        (
            "infoDnsRecords",
            limit,
            ErrorClass::RateLimited {
                retry_after: Some(60),
            },
        ),
        ("infoDnsRecords", gone.clone(), ErrorClass::Rejected),
        ("updateDnsRecords", gone, ErrorClass::Rejected),
        ("updateDnsRecords", bad, ErrorClass::Rejected),
    ] {
        let (f, _) = fake(vec![], false).await;
        let p = build(&cfg(&f.url("")));
        let logged_out = Arc::new(AtomicUsize::new(0));
        let lo = logged_out.clone();
        f.set(move |r| match r.json()["action"].as_str().unwrap() {
            "login" => ok("login", &json!({ "apisessionid": "s" })),
            "logout" => {
                lo.fetch_add(1, Ordering::SeqCst);
                ok("logout", &json!(""))
            }
            "infoDnsRecords" if action == "updateDnsRecords" => ok(
                "infoDnsRecords",
                &json!({ "dnsrecords": [rec("1", "www", "A", "192.0.2.80")] }),
            ),
            _ => reply.clone(),
        });
        let err = update(&p, "home.example.com", RecordType::A, "198.51.100.1", None)
            .await
            .unwrap_err();
        assert_eq!(err.class, class, "{action}: {err:?}");
        assert!(!err.message.contains("s3cret"), "{err:?}");
        assert_eq!(
            logged_out.load(Ordering::SeqCst),
            1,
            "logged out after a failure"
        );
    }
}

#[test]
fn keys_and_customer_number_are_checked_at_load() {
    let text = |number: &str, key: &str| {
        format!(
            "[[provider]]\nname = \"p\"\nkind = \"netcup\"\ncustomer_number = \"{number}\"\napi_key = \"{key}\"\napi_password = \"{PASSWORD}\"\n"
        )
    };
    let legacy = "Xk3PqL9zW2mN7vR4tY8uB1cD6fG0hJ5sA2eI9oU3nM7wQ4rT8y";
    assert_eq!(legacy.len(), 50);
    assert!(load_str(&text("12345", legacy), &|_: &str| None).is_ok());
    let issues = load_str(
        &text("12345", &format!("{legacy}Xk3PqL9zW2mN7v")),
        &|_: &str| None,
    )
    .unwrap_err();
    assert!(
        issues.iter().any(|i| i.path.ends_with(".api_key")),
        "{issues:#?}"
    );
    let issues = load_str(&text("K12345", legacy), &|_: &str| None).unwrap_err();
    assert!(
        issues.iter().any(|i| i.path.ends_with(".customer_number")),
        "{issues:#?}"
    );
}
