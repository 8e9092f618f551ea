//! `easyDNS` against a fake written from `docs/providers/dyn-endpoints.md` section 3 (kb.easydns.com, ddclient's
//! `nic_easydns_update`, `pfSense`, inadyn#373): `GET /dyn/generic.php?hostname=<fqdn>&myip=<ip>` with Basic
//! user:dynamic token, one family per request (`myip` for both), HTML answers carrying `easyDNS`'s own words,
//! and at least 10 minutes between updates.

use super::*;

/// base64("me@example.com:ed-s3cret-dyn-token"), computed with Python's `base64.b64encode`.
const BASIC: &str = "Basic bWVAZXhhbXBsZS5jb206ZWQtczNjcmV0LWR5bi10b2tlbg==";

fn cfg(endpoint: &str) -> String {
    format!(
        "kind = \"easydns\"\nusername = \"me@example.com\"\ntoken = \"ed-s3cret-dyn-token\"\nendpoint = \"{endpoint}\""
    )
}

fn page(inner: &str) -> Reply {
    Reply::ok(format!(
        "<HTML><HEAD><TITLE>easyDNS</TITLE></HEAD><BODY><FONT face=\"Arial\">{inner}</FONT></BODY></HTML>"
    ))
}

/// `easyDNS` as documented: credentials checked, example.com's hosts only, `NOERROR` for a change, `OK` with
/// "no update required" when the address is already there.
async fn fake() -> FakeHttp {
    let current = std::sync::Mutex::new(std::collections::BTreeMap::<String, String>::new());
    FakeHttp::start(move |r| {
        if r.path() != "/dyn/generic.php" {
            return Reply::status(404, "not found");
        }
        if r.headers.get("authorization").map(String::as_str) != Some(BASIC) {
            return page("NOACCESS");
        }
        let q = r.query();
        let host = q.get("hostname").cloned().unwrap_or_default();
        if !host.ends_with(".example.com") {
            return page("NOACCESS");
        }
        let Some(addr) = q.get("myip").cloned() else {
            return page("ILLEGAL INPUT");
        };
        let key = format!("{host} {}", addr.contains(':'));
        let mut current = current.lock().unwrap();
        if current.get(&key) == Some(&addr) {
            page(&format!(
                "OK<br />\n<hr noshade>\nno update required for {host} to {addr}<br />"
            ))
        } else {
            current.insert(key, addr);
            page("NOERROR")
        }
    })
    .await
}

#[tokio::test]
async fn a_and_aaaa_each_in_myip_with_basic_auth() {
    let f = fake().await;
    let p = build(&cfg(&f.url("")));
    assert_eq!(
        update(&p, "home.example.com", RecordType::A, "198.51.100.7", None)
            .await
            .unwrap(),
        UpdateOutcome::Updated { record_id: None }
    );
    assert_eq!(
        update(
            &p,
            "home.example.com",
            RecordType::Aaaa,
            "2001:db8::7",
            None
        )
        .await
        .unwrap(),
        UpdateOutcome::Updated { record_id: None }
    );
    let requests = f.requests();
    for (r, ip) in requests.iter().zip(["198.51.100.7", "2001:db8::7"]) {
        assert_eq!((r.method.as_str(), r.path()), ("GET", "/dyn/generic.php"));
        assert_eq!(
            r.query().into_iter().collect::<Vec<_>>(),
            [
                ("hostname".to_owned(), "home.example.com".to_owned()),
                ("myip".to_owned(), ip.to_owned()),
            ],
            "no wildcard, mx or backmx: what the control panel set stays"
        );
        assert_eq!(r.headers["authorization"], BASIC);
    }

    // Unchanged, from a fresh provider (the same one would wait out the 10 minutes first).
    assert_eq!(
        update(
            &build(&cfg(&f.url(""))),
            "home.example.com",
            RecordType::A,
            "198.51.100.7",
            None
        )
        .await
        .unwrap(),
        UpdateOutcome::Unchanged { record_id: None }
    );
}

#[tokio::test]
async fn ten_minutes_between_updates_of_a_host() {
    let f = fake().await;
    let p = build(&cfg(&f.url("")));
    update(&p, "home.example.com", RecordType::A, "198.51.100.7", None)
        .await
        .unwrap();
    let err = update(&p, "home.example.com", RecordType::A, "198.51.100.8", None)
        .await
        .unwrap_err();
    match err.class {
        ErrorClass::RateLimited {
            retry_after: Some(s),
        } => assert!((590..=600).contains(&s), "{err:?}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(f.requests().len(), 1, "nothing sent within 10 minutes");
    // Other hosts are not held back.
    update(&p, "nas.example.com", RecordType::A, "198.51.100.8", None)
        .await
        .unwrap();
    assert_eq!(f.requests().len(), 2);
}

#[tokio::test]
async fn every_documented_word() {
    let wait = ErrorClass::RateLimited {
        retry_after: Some(600),
    };
    let cases: &[(&str, Result<UpdateOutcome, ErrorClass>)] = &[
        ("NOERROR", Ok(UpdateOutcome::Updated { record_id: None })),
        ("OK", Ok(UpdateOutcome::Updated { record_id: None })),
        ("NOACCESS", Err(ErrorClass::Auth)),
        ("NO_AUTH", Err(ErrorClass::Auth)),
        ("NOSERVICE", Err(ErrorClass::Rejected)),
        ("ILLEGAL INPUT", Err(ErrorClass::Rejected)),
        ("TOOSOON", Err(wait)),
        ("TOO_FREQ", Err(wait)),
        // A host echoed back is no `OK`.
        ("updating book.example.com", Err(ErrorClass::Transient)),
    ];
    for (word, want) in cases {
        let body = format!("<HTML><BODY>{word}<br /></BODY></HTML>");
        let f = FakeHttp::text(&body).await;
        let got = update(
            &build(&cfg(&f.url(""))),
            "book.example.com",
            RecordType::A,
            "198.51.100.7",
            None,
        )
        .await;
        assert_eq!(got.clone().map_err(|e| e.class), want.clone(), "{word}");
        if let Err(e) = got {
            assert!(!e.message.contains("s3cret"), "{word}: {e:?}");
        }
    }
    // The fake's own refusals: a wrong token, a host outside the account.
    let f = fake().await;
    let wrong = cfg(&f.url("")).replace("ed-s3cret-dyn-token", "wrong-s3cret");
    let err = update(
        &build(&wrong),
        "home.example.com",
        RecordType::A,
        "198.51.100.7",
        None,
    )
    .await
    .unwrap_err();
    assert_eq!(err.class, ErrorClass::Auth, "{err:?}");
    let err = update(
        &build(&cfg(&f.url(""))),
        "home.example.net",
        RecordType::A,
        "198.51.100.7",
        None,
    )
    .await
    .unwrap_err();
    assert_eq!(err.class, ErrorClass::Auth, "{err:?}");
}

#[tokio::test]
async fn special_addresses_are_never_sent() {
    let f = fake().await;
    for ip in ["1.1.1.1", "0.0.0.0"] {
        let err = update(
            &build(&cfg(&f.url(""))),
            "home.example.com",
            RecordType::A,
            ip,
            None,
        )
        .await
        .unwrap_err();
        assert_eq!(err.class, ErrorClass::Rejected, "{ip}: {err:?}");
    }
    assert!(f.requests().is_empty());
}

#[tokio::test]
async fn failures() {
    common_failures(cfg, Reply::status(401, "Unauthorized"), "home.example.com").await;
}
