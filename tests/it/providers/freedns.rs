//! afraid.org `FreeDNS` (v2 sync interface) against fakes written from `docs/providers/dyn-endpoints.md`
//! section 1: `GET /u/<token>/?address=<ip>` on `sync.afraid.org` for A and `v6.sync.afraid.org` for AAAA
//! (here two loopback servers, `endpoint` and `endpoint_v6`), no `Authorization`, no hostname; plain-text
//! answers `Updated …`, `No IP change detected …`, `ERROR: …`, and 404 for an unknown token.

use super::*;

const TOKEN: &str = "CyTXMbtq5cPnLjEg5vKHs3cret";

/// A fake sync server: the known token's record answers `Updated` once per new address, then
/// `No IP change detected`; any other token gets `FreeDNS`'s 404 page.
async fn fake(host: &'static str) -> FakeHttp {
    let current = std::sync::Mutex::new(String::from("192.0.2.1"));
    FakeHttp::start(move |r| {
        if r.path() != format!("/u/{TOKEN}/") {
            return Reply::status(404, "<html><body><h1>404 Not Found</h1></body></html>");
        }
        let Some(addr) = r.query().get("address").cloned() else {
            return Reply::ok("ERROR: Missing address");
        };
        let mut current = current.lock().unwrap();
        if *current == addr {
            Reply::ok(format!(
                "No IP change detected for {host} with IP {addr}, skipping update\n"
            ))
        } else {
            let old = std::mem::replace(&mut *current, addr.clone());
            Reply::ok(format!("Updated {host} from {old} to {addr}\n"))
        }
    })
    .await
}

fn cfg(token: &str, v4: &str, v6: Option<&str>) -> String {
    let mut text = format!("kind = \"freedns\"\ntoken = \"{token}\"\nendpoint = \"{v4}\"");
    if let Some(v6) = v6 {
        text.push_str(&format!("\nendpoint_v6 = \"{v6}\""));
    }
    text
}

fn assert_sync_request(r: &Request, addr: &str) {
    assert_eq!(r.method, "GET");
    assert_eq!(r.path(), format!("/u/{TOKEN}/"));
    assert_eq!(
        r.query().into_iter().collect::<Vec<_>>(),
        [("address".to_owned(), addr.to_owned())]
    );
    assert!(
        !r.headers.contains_key("authorization"),
        "no Authorization: the token names the record: {:?}",
        r.headers
    );
}

#[tokio::test]
async fn a_goes_to_sync_and_aaaa_to_v6_sync_with_the_address() {
    let v4 = fake("home.example.org").await;
    let v6 = fake("home6.example.org").await;
    let p = build(&cfg(TOKEN, &v4.url(""), Some(&v6.url(""))));
    assert_eq!(
        update(&p, "home.example.org", RecordType::A, "198.51.100.7", None)
            .await
            .unwrap(),
        UpdateOutcome::Updated { record_id: None }
    );
    assert_eq!(
        update(&p, "home.example.org", RecordType::A, "198.51.100.7", None)
            .await
            .unwrap(),
        UpdateOutcome::Unchanged { record_id: None }
    );
    assert_eq!(v4.requests().len(), 2);
    assert_sync_request(&v4.requests()[0], "198.51.100.7");
    assert!(v6.requests().is_empty());

    assert_eq!(
        update(
            &p,
            "home6.example.org",
            RecordType::Aaaa,
            "2001:db8::7",
            None
        )
        .await
        .unwrap(),
        UpdateOutcome::Updated { record_id: None }
    );
    assert_eq!(v4.requests().len(), 2, "AAAA never goes to the v4 host");
    assert_sync_request(&v6.requests()[0], "2001:db8::7");
    // Sent form-encoded (`%3A`), read decoded.
    assert!(
        v6.requests()[0]
            .target
            .contains("address=2001%3Adb8%3A%3A7")
    );
}

#[tokio::test]
async fn the_pasted_sync_url_is_reduced_to_the_token_and_one_endpoint_takes_both() {
    let f = fake("home.example.org").await;
    let pasted = format!("https://sync.afraid.org/u/{TOKEN}/");
    let p = build(&cfg(&pasted, &f.url(""), None));
    update(&p, "home.example.org", RecordType::A, "198.51.100.7", None)
        .await
        .unwrap();
    update(
        &p,
        "home.example.org",
        RecordType::Aaaa,
        "2001:db8::7",
        None,
    )
    .await
    .unwrap();
    let requests = f.requests();
    assert_sync_request(&requests[0], "198.51.100.7");
    assert_sync_request(&requests[1], "2001:db8::7");
}

#[tokio::test]
async fn refusals_stop_and_never_show_the_token() {
    // An unknown token: FreeDNS's 404 page.
    let f = fake("home.example.org").await;
    let wrong = "WrongTokenWrongTokens3cret";
    let err = update(
        &build(&cfg(wrong, &f.url(""), None)),
        "home.example.org",
        RecordType::A,
        "198.51.100.7",
        None,
    )
    .await
    .unwrap_err();
    assert_eq!(err.class, ErrorClass::Auth, "{err:?}");
    assert!(!err.message.contains(wrong), "{err:?}");

    let cases: &[(&str, ErrorClass)] = &[
        (
            "ERROR: Invalid update URL (2) /u/CyTXMbtq5cPnLjEg5vKHs3cret/",
            ErrorClass::Auth,
        ),
        ("ERROR: Unable to locate this record", ErrorClass::Rejected),
        (
            "<html><body>Welcome to the captive portal</body></html>",
            ErrorClass::Transient,
        ),
    ];
    for (body, class) in cases {
        let f = FakeHttp::text(body).await;
        let pasted = format!("https://sync.afraid.org/u/{TOKEN}/");
        let err = update(
            &build(&cfg(&pasted, &f.url(""), None)),
            "home.example.org",
            RecordType::A,
            "198.51.100.7",
            None,
        )
        .await
        .unwrap_err();
        assert_eq!(err.class, *class, "{body}: {err:?}");
        assert!(
            !err.message.contains(TOKEN) && !err.message.contains("s3cret"),
            "{body}: {err:?}"
        );
    }
    // v1's "has not changed" wording is no failure.
    let f = FakeHttp::text("ERROR: Address 198.51.100.7 has not changed.").await;
    assert_eq!(
        update(
            &build(&cfg(TOKEN, &f.url(""), None)),
            "home.example.org",
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
async fn failures() {
    common_failures(
        |e| cfg(TOKEN, e, None),
        Reply::status(403, "Forbidden"),
        "home.example.org",
    )
    .await;
}

#[test]
fn config_checks() {
    let load = |token: &str, record_type: &str| {
        let text = format!(
            "ipv6 = true\n[[provider]]\nname = \"p\"\nkind = \"freedns\"\ntoken = \"{token}\"\n\n\
             [[record]]\nname = \"home.example.org\"\nprovider = \"p\"\n{record_type}"
        );
        load_str(&text, &|_: &str| None).map(|_| ()).unwrap_err()
    };
    // One token, both families: refused at load.
    let issues = load(TOKEN, "");
    assert!(
        issues
            .iter()
            .any(|i| i.path == "record[0].type" && i.message.contains("one record")),
        "{issues:#?}"
    );
    // A v1 update URL is not a v2 token.
    let issues = load(
        "https://freedns.afraid.org/dynamic/update.php?abcdef",
        "type = \"A\"",
    );
    assert!(
        issues.iter().any(|i| i.path.ends_with(".token")),
        "{issues:#?}"
    );
    for good in [
        TOKEN.to_owned(),
        format!("https://sync.afraid.org/u/{TOKEN}/"),
    ] {
        let text = format!(
            "ipv6 = true\n[[provider]]\nname = \"p\"\nkind = \"freedns\"\ntoken = \"{good}\"\n\n\
             [[record]]\nname = \"home.example.org\"\nprovider = \"p\"\ntype = \"AAAA\""
        );
        load_str(&text, &|_: &str| None).unwrap_or_else(|i| panic!("{good}: {i:#?}"));
    }
}
