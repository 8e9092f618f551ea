//! `ZoneEdit` against a fake written from `docs/providers/dyn-endpoints.md` section 2 (ddclient's
//! `nic_zoneedit1_update`, `pfSense`, qdm12 and `ZoneEdit`'s words quoted in win-acme#2714):
//! `GET /auth/dynamic.html?host=<fqdn>&dnsto=<ip>[&zone=<zone>]` with Basic user:DYN token, XML-ish
//! `<SUCCESS CODE=…>`/`<ERROR CODE=…>` answers (sometimes with an extra trailing `SUCCESS 200`), and at least
//! 10 minutes between requests for one host.

use super::*;

/// base64("me:ze-s3cret-dyn-token"), computed with Python's `base64.b64encode`.
const BASIC: &str = "Basic bWU6emUtczNjcmV0LWR5bi10b2tlbg==";

fn cfg(endpoint: &str) -> String {
    format!(
        "kind = \"zoneedit\"\nusername = \"me\"\ntoken = \"ze-s3cret-dyn-token\"\nendpoint = \"{endpoint}\""
    )
}

/// `ZoneEdit` as documented: credentials checked, example.com in the account, one host per call, an extra
/// `SUCCESS 200` after the host's own tag, `201` when the address is already there.
async fn fake() -> FakeHttp {
    let current = std::sync::Mutex::new(String::from("192.0.2.1"));
    FakeHttp::start(move |r| {
        if r.path() != "/auth/dynamic.html" {
            return Reply::status(404, "not found");
        }
        if r.headers.get("authorization").map(String::as_str) != Some(BASIC) {
            return Reply::ok("<ERROR CODE=\"708\" TEXT=\"Failed Login: me\" ZONE=\"\">");
        }
        let q = r.query();
        let host = q.get("host").cloned().unwrap_or_default();
        if !host.ends_with("example.com") {
            return Reply::ok(format!(
                "<ERROR CODE=\"701\" TEXT=\"Zone is not set up in this account.\" ZONE=\"{host}\">"
            ));
        }
        let addr = q.get("dnsto").cloned().unwrap_or_default();
        let mut current = current.lock().unwrap();
        if *current == addr {
            Reply::ok(
                "<SUCCESS CODE=\"201\" TEXT=\"No records need updating.\" ZONE=\"example.com\">\n",
            )
        } else {
            addr.clone_into(&mut current);
            Reply::ok(format!(
                "<SUCCESS CODE=\"200\" TEXT=\"{host} updated to {addr}\" ZONE=\"example.com\">\n<SUCCESS CODE=\"200\" TEXT=\"\" ZONE=\"\">\n"
            ))
        }
    })
    .await
}

#[tokio::test]
async fn updated_then_unchanged_ten_minutes_apart_per_host() {
    let f = fake().await;
    let p = build(&cfg(&f.url("")));
    assert_eq!(
        update(&p, "home.example.com", RecordType::A, "198.51.100.7", None)
            .await
            .unwrap(),
        UpdateOutcome::Updated { record_id: None }
    );
    let r = &f.requests()[0];
    assert_eq!((r.method.as_str(), r.path()), ("GET", "/auth/dynamic.html"));
    assert_eq!(
        r.query().into_iter().collect::<Vec<_>>(),
        [
            ("dnsto".to_owned(), "198.51.100.7".to_owned()),
            ("host".to_owned(), "home.example.com".to_owned()),
        ]
    );
    assert_eq!(r.headers["authorization"], BASIC);

    // The same host again within 10 minutes: not sent, wait the rest of the 10 minutes.
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

    // Another host is not held back; a fresh provider (as after 10 minutes) gets 201 → unchanged.
    update(&p, "other.example.com", RecordType::A, "198.51.100.9", None)
        .await
        .unwrap();
    assert_eq!(f.requests()[1].query()["host"], "other.example.com");
    assert_eq!(
        update(
            &build(&cfg(&f.url(""))),
            "home.example.com",
            RecordType::A,
            "198.51.100.9",
            None
        )
        .await
        .unwrap(),
        UpdateOutcome::Unchanged { record_id: None }
    );
}

#[tokio::test]
async fn zone_goes_with_hosts_two_labels_below_it() {
    let f = fake().await;
    let text = format!("{}\nzone = \"example.com\"", cfg(&f.url("")));
    let p = build(&text);
    update(&p, "a.b.example.com", RecordType::A, "198.51.100.7", None)
        .await
        .unwrap();
    update(&p, "home.example.com", RecordType::A, "198.51.100.8", None)
        .await
        .unwrap();
    let q = f.requests()[0].query();
    assert_eq!(
        (q["host"].as_str(), q["dnsto"].as_str(), q["zone"].as_str()),
        ("a.b.example.com", "198.51.100.7", "example.com")
    );
    assert!(!f.requests()[1].query().contains_key("zone"));
}

#[tokio::test]
async fn every_documented_error() {
    let wait = ErrorClass::RateLimited {
        retry_after: Some(600),
    };
    let cases: &[(&str, Result<UpdateOutcome, ErrorClass>)] = &[
        (
            "<ERROR CODE=\"708\" TEXT=\"Failed Login: me\" ZONE=\"\">",
            Err(ErrorClass::Auth),
        ),
        (
            "<ERROR CODE=\"701\" TEXT=\"Zone is not set up in this account.\" ZONE=\"bad.com\">",
            Err(ErrorClass::Rejected),
        ),
        (
            "<ERROR CODE=\"709\" TEXT=\"Invalid hostname: home.example.com\" ZONE=\"example.com\">",
            Err(ErrorClass::Rejected),
        ),
        (
            "<ERROR CODE=\"702\" TEXT=\"Minimum 600 seconds between requests\" ZONE=\"example.com\">",
            Err(wait),
        ),
        (
            "<ERROR CODE=\"707\" TEXT=\"Duplicate updates for the same host/ip, adjust client settings\" ZONE=\"example.com\">",
            Err(wait),
        ),
        (
            "<ERROR CODE=\"707\" TEXT=\"home.example.com already set to 198.51.100.7\" ZONE=\"example.com\">",
            Ok(UpdateOutcome::Unchanged { record_id: None }),
        ),
        (
            "<ERROR CODE=\"700\" TEXT=\"no update required for home.example.com to 198.51.100.7\" ZONE=\"example.com\">",
            Ok(UpdateOutcome::Unchanged { record_id: None }),
        ),
        (
            "<ERROR CODE=\"799\" TEXT=\"Update failed\" ZONE=\"example.com\">",
            Err(ErrorClass::Transient),
        ),
        ("NOACCESS", Err(ErrorClass::Auth)),
        ("<html><body>NO_AUTH</body></html>", Err(ErrorClass::Auth)),
        ("NOSERVICE", Err(ErrorClass::Rejected)),
        ("ILLEGAL INPUT", Err(ErrorClass::Rejected)),
        ("TOOSOON", Err(wait)),
    ];
    for (body, want) in cases {
        let f = FakeHttp::text(body).await;
        let got = update(
            &build(&cfg(&f.url(""))),
            "home.example.com",
            RecordType::A,
            "198.51.100.7",
            None,
        )
        .await;
        assert_eq!(got.clone().map_err(|e| e.class), want.clone(), "{body}");
        if let Err(e) = got {
            assert!(!e.message.contains("s3cret"), "{body}: {e:?}");
        }
    }
    // The fake's own refusal of a wrong token.
    let f = fake().await;
    let text = cfg(&f.url("")).replace("ze-s3cret-dyn-token", "wrong-s3cret");
    let err = update(
        &build(&text),
        "home.example.com",
        RecordType::A,
        "198.51.100.7",
        None,
    )
    .await
    .unwrap_err();
    assert_eq!(err.class, ErrorClass::Auth, "{err:?}");
    assert!(!err.message.contains("s3cret"), "{err:?}");
}

#[tokio::test]
async fn failures() {
    common_failures(cfg, Reply::status(401, "Unauthorized"), "home.example.com").await;
}

#[test]
fn aaaa_records_are_refused_at_load() {
    let text = "ipv6 = true\n[[provider]]\nname = \"p\"\nkind = \"zoneedit\"\nusername = \"me\"\ntoken = \"ze-s3cret-dyn-token\"\n\n\
                [[record]]\nname = \"home.example.com\"\nprovider = \"p\"\ntype = \"AAAA\"\n";
    let issues = load_str(text, &|_: &str| None).unwrap_err();
    assert!(
        issues
            .iter()
            .any(|i| i.path == "record[0].type" && i.message.contains("A records only")),
        "{issues:#?}"
    );
}
