//! `rfc2136` against real Knot (hmac-sha256 and hmac-sha512) and `PowerDNS`, checked with `dig`.

use crate::support::{Case, FakeHttp, dig, knot, pdns, unique};

fn config(
    echo: &str,
    port: u16,
    key_name: &str,
    algorithm: &str,
    secret: &str,
    name: &str,
    family: &str,
) -> String {
    let (ipv6, rtype) = if family == "AAAA" {
        ("true", "AAAA")
    } else {
        ("false", "A")
    };
    format!(
        r#"
ipv6 = {ipv6}
[detect]
ipv4 = [ {{ kind = "http", url = "{echo}", allow_private = true }} ]
ipv6 = [ {{ kind = "http", url = "{echo}", allow_private = true }} ]

[[provider]]
name = "dns"
kind = "rfc2136"
server = "127.0.0.1:{port}"
zone = "example.test"
key_name = "{key_name}"
key_algorithm = "{algorithm}"
key_secret = "{secret}"

[[record]]
name = "{name}"
provider = "dns"
type = "{rtype}"
ttl = 90
"#
    )
}

#[tokio::test]
async fn knot_publishes_then_skips_then_publishes_a_change() {
    let Some(k) = knot() else { return };
    let echo = FakeHttp::text("198.51.100.50").await;
    let name = format!("{}.example.test", unique("knot"));
    let case = Case::new(&config(
        &echo.url("/"),
        k.port,
        &k.tsig_name,
        "hmac-sha256",
        &k.tsig_secret,
        &name,
        "A",
    ));
    let first = case.run(&["once"]).await;
    assert_eq!(
        first.stdout,
        format!("{name} A 198.51.100.50 updated\n"),
        "{first:?}"
    );
    assert_eq!(dig(k.port, &name, "A"), ["198.51.100.50"]);
    let second = case.run(&["once"]).await;
    assert_eq!(
        second.stdout,
        format!("{name} A 198.51.100.50 unchanged\n"),
        "{second:?}"
    );
    assert_eq!(echo.requests().len(), 2, "each run detects once");
    echo.set_text("198.51.100.51");
    let third = case.run(&["once"]).await;
    assert_eq!(
        third.stdout,
        format!("{name} A 198.51.100.51 updated\n"),
        "{third:?}"
    );
    assert_eq!(
        dig(k.port, &name, "A"),
        ["198.51.100.51"],
        "the set was replaced, not appended to"
    );
}

#[tokio::test]
async fn knot_with_hmac_sha512_and_an_aaaa_record() {
    let Some(k) = knot() else { return };
    let echo = FakeHttp::text_v6("2001:db8::51").await;
    let name = format!("{}.example.test", unique("six"));
    let case = Case::new(&config(
        &echo.url("/"),
        k.port,
        &k.tsig512_name,
        "hmac-sha512",
        &k.tsig512_secret,
        &name,
        "AAAA",
    ));
    let out = case.run(&["once"]).await;
    assert_eq!(
        out.stdout,
        format!("{name} AAAA 2001:db8::51 updated\n"),
        "{out:?}"
    );
    assert_eq!(dig(k.port, &name, "AAAA"), ["2001:db8::51"]);
}

#[tokio::test]
async fn knot_refuses_a_wrong_secret_and_the_record_stops() {
    let Some(k) = knot() else { return };
    let echo = FakeHttp::text("198.51.100.52").await;
    let name = format!("{}.example.test", unique("bad"));
    let wrong = "c29tZS1vdGhlci1zZWNyZXQtb2YtMzItYnl0ZXMhIQ==";
    let case = Case::new(&config(
        &echo.url("/"),
        k.port,
        &k.tsig_name,
        "hmac-sha256",
        wrong,
        &name,
        "A",
    ));
    let out = case.run(&["once"]).await;
    assert_eq!(out.code, 1, "{out:?}");
    assert!(out.stdout.contains("failed: rfc2136 `dns`:"), "{out:?}");
    assert!(
        out.stdout.contains("BADSIG") || out.stdout.contains("NOTAUTH"),
        "{out:?}"
    );
    assert!(dig(k.port, &name, "A").is_empty());
    let again = case.run(&["once"]).await;
    assert!(
        again.stdout.contains("stopped: until the config changes"),
        "{again:?}"
    );
    assert!(
        !format!("{out:?}{again:?}").contains(wrong),
        "the secret is never printed"
    );
}

#[tokio::test]
async fn knot_unknown_key_name() {
    let Some(k) = knot() else { return };
    let echo = FakeHttp::text("198.51.100.53").await;
    let name = format!("{}.example.test", unique("key"));
    let case = Case::new(&config(
        &echo.url("/"),
        k.port,
        "no-such-key",
        "hmac-sha256",
        &k.tsig_secret,
        &name,
        "A",
    ));
    let out = case.run(&["once"]).await;
    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        out.stdout.contains("BADKEY") || out.stdout.contains("NOTAUTH"),
        "{out:?}"
    );
}

#[tokio::test]
async fn powerdns_accepts_signed_updates() {
    let Some(p) = pdns() else { return };
    let echo = FakeHttp::text("198.51.100.54").await;
    let name = format!("{}.example.test", unique("pdns2136"));
    let case = Case::new(&config(
        &echo.url("/"),
        p.port,
        &p.tsig_name,
        "hmac-sha256",
        &p.tsig_secret,
        &name,
        "A",
    ));
    let out = case.run(&["once"]).await;
    assert_eq!(
        out.stdout,
        format!("{name} A 198.51.100.54 updated\n"),
        "{out:?}"
    );
    assert_eq!(dig(p.port, &name, "A"), ["198.51.100.54"]);
}

#[tokio::test]
async fn a_server_that_never_answers_is_a_transient_could_not_confirm() {
    // A UDP socket that reads and never answers.
    let silent = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let port = silent.local_addr().unwrap().port();
    let echo = FakeHttp::text("198.51.100.55").await;
    let case = Case::new(&config(
        &echo.url("/"),
        port,
        "ddns-key",
        "hmac-sha256",
        "c2VjcmV0LWtleS1ieXRlcy0xMjM0NTY3ODkwMTI=",
        "x.example.test",
        "A",
    ));
    let out = case.run(&["once"]).await;
    assert_eq!(out.code, 1, "{out:?}");
    assert!(out.stdout.contains("could not confirm"), "{out:?}");
    let state = case.state();
    let rec = state["records"]
        .as_object()
        .unwrap()
        .values()
        .next()
        .unwrap();
    assert_eq!(
        rec["stopped"], false,
        "a timeout is retried later, not a stop"
    );
    assert!(rec["next_attempt"].is_string());
    drop(silent);
}

/// The settings dialog's "Test": a signed query, nothing changed.
#[tokio::test]
async fn check_reports_the_record_and_the_key_without_changing_anything() {
    use ddns_tray::config::RecordType;
    let Some(k) = knot() else { return };
    let echo = FakeHttp::text("198.51.100.56").await;
    let name = format!("{}.example.test", unique("check"));
    let text = config(
        &echo.url("/"),
        k.port,
        &k.tsig_name,
        "hmac-sha256",
        &k.tsig_secret,
        &name,
        "A",
    );
    let (_, settings) = ddns_tray::settings::load_str(&text, &|_: &str| None).unwrap();
    let provider = ddns_tray::provider::build(&settings.providers[0]);
    let before = provider.check(&name, RecordType::A).await.unwrap();
    assert!(
        before.contains("no A record") && before.contains("key accepted"),
        "{before}"
    );
    let case = Case::new(&text);
    assert_eq!(case.run(&["once"]).await.code, 0);
    let after = provider.check(&name, RecordType::A).await.unwrap();
    assert!(
        after.contains("holds 198.51.100.56") && after.contains("key accepted"),
        "{after}"
    );
    assert_eq!(
        dig(k.port, &name, "A"),
        ["198.51.100.56"],
        "check changed nothing"
    );

    let wrong = text.replace(
        &k.tsig_secret,
        "c29tZS1vdGhlci1zZWNyZXQtb2YtMzItYnl0ZXMhIQ==",
    );
    let (_, settings) = ddns_tray::settings::load_str(&wrong, &|_: &str| None).unwrap();
    let err = ddns_tray::provider::build(&settings.providers[0])
        .check(&name, RecordType::A)
        .await
        .unwrap_err();
    assert_eq!(err.class, ddns_tray::provider::ErrorClass::Auth, "{err:?}");
}
