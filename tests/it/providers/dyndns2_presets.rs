//! The dyndns2 presets added from docs/providers/dyn-endpoints.md (§4–§14): INWX, Infomaniak, `ChangeIP`, Strato,
//! Spdyn, `IPv64`, Loopia, Selfhost, All-Inkl, DDNSS, and Dynu's IPv6 update. Each fake asserts the exact request
//! (path, decoded query pairs, where the credential goes) and maps the service's own reply words and statuses.
//! The Basic header values are base64 of `user:password`, computed independently (`printf 'user:pw' | base64`).

use std::collections::BTreeMap;

use super::*;

const PW: &str = "dd-s3cret";

fn cfg(kind: &str, server: &str, extra: &str) -> String {
    format!("kind = \"{kind}\"\nserver = \"{server}\"\npassword = \"{PW}\"\n{extra}")
}

fn pairs(list: &[(&str, &str)]) -> BTreeMap<String, String> {
    list.iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

const UPDATED: Result<UpdateOutcome, ErrorClass> = Ok(UpdateOutcome::Updated { record_id: None });
const UNCHANGED: Result<UpdateOutcome, ErrorClass> =
    Ok(UpdateOutcome::Unchanged { record_id: None });

/// One update against a fake answering `reply`: the outcome (error as its class and message) and the request.
async fn one(
    kind_toml: impl Fn(&str) -> String,
    name: &str,
    rtype: RecordType,
    ip: &str,
    reply: Reply,
) -> (Result<UpdateOutcome, (ErrorClass, String)>, Request) {
    let f = FakeHttp::start(move |_| reply.clone()).await;
    let p = build(&kind_toml(&f.url("")));
    let got = update(&p, name, rtype, ip, None)
        .await
        .map_err(|e| (e.class, e.message));
    let requests = f.requests();
    assert_eq!(requests.len(), 1, "one request per update: {requests:?}");
    assert_eq!(requests[0].method, "GET");
    (got, requests[0].clone())
}

/// The class each reply maps to, for an A update of `name`.
async fn classes(
    kind_toml: impl Fn(&str) -> String + Copy,
    name: &str,
    cases: Vec<(Reply, Result<UpdateOutcome, ErrorClass>)>,
) {
    for (reply, want) in cases {
        let shown = format!("{reply:?}");
        let (got, _) = one(kind_toml, name, RecordType::A, "198.51.100.7", reply).await;
        let got = got.map_err(|(c, m)| {
            assert!(!m.contains(PW), "secret in message: {m}");
            c
        });
        assert_eq!(got, want, "{shown}");
    }
}

/// The problems loading `text` reports.
fn load_problems(text: &str) -> Vec<ddns_tray::config::Issue> {
    load_str(text, &|_: &str| None).unwrap_err()
}

fn has(issues: &[ddns_tray::config::Issue], path: &str, words: &str) -> bool {
    issues
        .iter()
        .any(|i| i.path == path && format!("{} {}", i.message, i.hint).contains(words))
}

mod inwx {
    use super::*;

    fn cfg_inwx(server: &str) -> String {
        cfg("inwx", server, "username = \"inwx-dyn\"\nipv4_only = true")
    }

    #[tokio::test]
    async fn a_update_and_own_words() {
        let (got, r) = one(
            cfg_inwx,
            "home.example.com",
            RecordType::A,
            "198.51.100.7",
            Reply::ok("good 198.51.100.7"),
        )
        .await;
        assert_eq!(got, Ok(UpdateOutcome::Updated { record_id: None }));
        assert_eq!(r.path(), "/nic/update");
        assert_eq!(
            r.query(),
            pairs(&[("hostname", "home.example.com"), ("myip", "198.51.100.7")])
        );
        assert_eq!(r.headers["authorization"], "Basic aW53eC1keW46ZGQtczNjcmV0");
        classes(
            cfg_inwx,
            "home.example.com",
            vec![
                (Reply::ok("nochg 198.51.100.7"), UNCHANGED),
                (Reply::ok("!yours"), Err(ErrorClass::Rejected)),
                (Reply::ok("!active"), Err(ErrorClass::Rejected)),
                (Reply::ok("badsys"), Err(ErrorClass::Rejected)),
                (Reply::ok("badauth"), Err(ErrorClass::Auth)),
            ],
        )
        .await;
    }

    /// A one-family update deletes (no `myipv6`) or overwrites (no `myip`: A = 127.0.0.1) the other family, so
    /// AAAA records are refused and an A-only provider must confirm the host has no AAAA to keep.
    #[test]
    fn unsafe_configs_are_refused_at_load() {
        let provider = "[[provider]]\nname = \"i\"\nkind = \"inwx\"\nusername = \"u\"\npassword = \"p-s3cret\"\n";
        let issues = load_problems(&format!(
            "ipv6 = true\n{provider}ipv4_only = true\n[[record]]\nname = \"h.example.com\"\nprovider = \"i\"\ntype = \"AAAA\"\n"
        ));
        assert!(has(&issues, "record[0].type", "127.0.0.1"), "{issues:#?}");
        let issues = load_problems(&format!(
            "{provider}[[record]]\nname = \"h.example.com\"\nprovider = \"i\"\n"
        ));
        assert!(
            has(&issues, "provider[0].ipv4_only", "deletes the host's AAAA"),
            "{issues:#?}"
        );
        let issues = load_problems(
            "[[provider]]\nname = \"n\"\nkind = \"noip\"\nusername = \"u\"\npassword = \"p-s3cret\"\nipv4_only = true\n",
        );
        assert!(
            has(&issues, "provider[0].ipv4_only", "only for kind = \"inwx\""),
            "{issues:#?}"
        );
    }
}

#[tokio::test]
async fn infomaniak_ipv6_in_myip_its_2024_words_400_and_redirects() {
    let c = |s: &str| cfg("infomaniak", s, "username = \"dyn-user\"");
    let (got, r) = one(
        c,
        "home.example.ch",
        RecordType::Aaaa,
        "2001:db8::7",
        Reply::ok("good 2001:db8::7"),
    )
    .await;
    assert_eq!(got, Ok(UpdateOutcome::Updated { record_id: None }));
    assert_eq!(r.path(), "/nic/update");
    assert_eq!(
        r.query(),
        pairs(&[("hostname", "home.example.ch"), ("myip", "2001:db8::7")])
    );
    assert_eq!(r.headers["authorization"], "Basic ZHluLXVzZXI6ZGQtczNjcmV0");
    classes(
        c,
        "home.example.ch",
        vec![
            (Reply::ok("successfully_changed 198.51.100.7"), UPDATED),
            (Reply::ok("no_change 198.51.100.7"), UNCHANGED),
            (Reply::ok("nochg 198.51.100.7"), UNCHANGED),
            (Reply::status(400, "nohost"), Err(ErrorClass::Rejected)),
            (Reply::status(400, "badauth"), Err(ErrorClass::Auth)),
            (
                Reply::status(302, "").with_header("Location", "https://elsewhere.example/x"),
                Err(ErrorClass::Transient),
            ),
        ],
    )
    .await;
    let (got, _) = one(
        c,
        "home.example.ch",
        RecordType::A,
        "198.51.100.7",
        Reply::status(301, "").with_header("Location", "https://www.infomaniak.example/nic/update"),
    )
    .await;
    let (class, message) = got.unwrap_err();
    assert_eq!(class, ErrorClass::Rejected);
    assert!(
        message.contains("redirects")
            && message.contains("https://www.infomaniak.example/nic/update"),
        "{message}"
    );
}

#[tokio::test]
async fn changeip_sends_ip_and_reads_its_own_replies() {
    let c = |s: &str| cfg("changeip", s, "username = \"me\"");
    let (got, r) = one(
        c,
        "home.changeip.example",
        RecordType::A,
        "198.51.100.7",
        Reply::ok("200 Successful Update"),
    )
    .await;
    assert_eq!(got, Ok(UpdateOutcome::Updated { record_id: None }));
    assert_eq!(r.path(), "/nic/update");
    assert_eq!(
        r.query(),
        pairs(&[
            ("hostname", "home.changeip.example"),
            ("ip", "198.51.100.7")
        ])
    );
    assert_eq!(r.headers["authorization"], "Basic bWU6ZGQtczNjcmV0");
    classes(
        c,
        "home.changeip.example",
        vec![
            (
                Reply::ok("402 Premium DNS required"),
                Err(ErrorClass::Rejected),
            ),
            (Reply::ok("422 Bad hostname"), Err(ErrorClass::Rejected)),
            (Reply::status(401, "Unauthorized"), Err(ErrorClass::Auth)),
            (Reply::ok("Unsuccessful"), Err(ErrorClass::Transient)),
        ],
    )
    .await;
    let issues = load_problems(
        "ipv6 = true\n[[provider]]\nname = \"c\"\nkind = \"changeip\"\nusername = \"u\"\npassword = \"p-s3cret\"\n[[record]]\nname = \"h.example.com\"\nprovider = \"c\"\ntype = \"AAAA\"\n",
    );
    assert!(has(&issues, "record[0].type", "IPv6"), "{issues:#?}");
}

#[tokio::test]
async fn strato_user_is_the_domain_ipv6_in_myip_and_abuse_waits() {
    let c = |s: &str| cfg("strato", s, "");
    let (got, r) = one(
        c,
        "home.example.de",
        RecordType::Aaaa,
        "2001:db8::7",
        Reply::ok("good 2001:db8::7"),
    )
    .await;
    assert_eq!(got, Ok(UpdateOutcome::Updated { record_id: None }));
    assert_eq!(r.path(), "/nic/update");
    assert_eq!(
        r.query(),
        pairs(&[("hostname", "home.example.de"), ("myip", "2001:db8::7")])
    );
    // base64("example.de:dd-s3cret")
    assert_eq!(
        r.headers["authorization"],
        "Basic ZXhhbXBsZS5kZTpkZC1zM2NyZXQ="
    );
    let (_, r) = one(
        |s: &str| cfg("strato", s, "username = \"strato.example.de\""),
        "home.example.de",
        RecordType::A,
        "198.51.100.7",
        Reply::ok("nochg 198.51.100.7"),
    )
    .await;
    assert_eq!(
        r.headers["authorization"],
        "Basic c3RyYXRvLmV4YW1wbGUuZGU6ZGQtczNjcmV0"
    );
    classes(
        c,
        "home.example.de",
        vec![
            (
                Reply::ok("abuse"),
                Err(ErrorClass::RateLimited {
                    retry_after: Some(1800),
                }),
            ),
            (
                Reply::ok("abuse").with_header("Retry-After", "7200"),
                Err(ErrorClass::RateLimited {
                    retry_after: Some(7200),
                }),
            ),
            (Reply::ok("badrequest"), Err(ErrorClass::Rejected)),
            (Reply::ok("badauth"), Err(ErrorClass::Auth)),
        ],
    )
    .await;
}

#[tokio::test]
async fn spdyn_token_user_is_the_hostname_and_its_words() {
    let c = |s: &str| format!("kind = \"spdyn\"\nserver = \"{s}\"\npassword = \"abcd-efgh-ijkl\"");
    let (got, r) = one(
        c,
        "home.spdyn.de",
        RecordType::Aaaa,
        "2001:db8::7",
        Reply::ok("good 2001:db8::7"),
    )
    .await;
    assert_eq!(got, Ok(UpdateOutcome::Updated { record_id: None }));
    assert_eq!(r.path(), "/nic/update");
    assert_eq!(
        r.query(),
        pairs(&[("hostname", "home.spdyn.de"), ("myip", "2001:db8::7")])
    );
    assert_eq!(
        r.headers["authorization"],
        "Basic aG9tZS5zcGR5bi5kZTphYmNkLWVmZ2gtaWprbA=="
    );
    classes(
        c,
        "home.spdyn.de",
        vec![
            (Reply::ok("nochg 198.51.100.7"), UNCHANGED),
            (Reply::ok("!yours"), Err(ErrorClass::Rejected)),
            (Reply::ok("fatal"), Err(ErrorClass::Rejected)),
            (Reply::ok("abuse"), Err(ErrorClass::Rejected)),
            (Reply::ok("badauth"), Err(ErrorClass::Auth)),
        ],
    )
    .await;
}

#[tokio::test]
async fn ipv64_token_as_basic_password_myipv6_and_overcommited() {
    let c = |s: &str| format!("kind = \"ipv64\"\nserver = \"{s}\"\npassword = \"ipv64-t0ken\"");
    let (got, r) = one(
        c,
        "home.ipv64.net",
        RecordType::Aaaa,
        "2001:db8::7",
        Reply::ok("good 2001:db8::7"),
    )
    .await;
    assert_eq!(got, Ok(UpdateOutcome::Updated { record_id: None }));
    assert_eq!(r.path(), "/nic/update");
    assert_eq!(
        r.query(),
        pairs(&[("hostname", "home.ipv64.net"), ("myipv6", "2001:db8::7")])
    );
    assert!(!r.target.contains("t0ken"), "token kept out of the URL");
    assert_eq!(
        r.headers["authorization"],
        "Basic aG9tZS5pcHY2NC5uZXQ6aXB2NjQtdDBrZW4="
    );
    let (_, r) = one(
        c,
        "home.ipv64.net",
        RecordType::A,
        "198.51.100.7",
        Reply::ok("nochg"),
    )
    .await;
    assert_eq!(
        r.query(),
        pairs(&[("hostname", "home.ipv64.net"), ("myip", "198.51.100.7")])
    );
    classes(
        c,
        "home.ipv64.net",
        vec![
            (
                Reply::status(403, "Updateintervall overcommited"),
                Err(ErrorClass::RateLimited {
                    retry_after: Some(3600),
                }),
            ),
            (Reply::status(401, "Unauthorized"), Err(ErrorClass::Auth)),
            (Reply::status(403, "Forbidden"), Err(ErrorClass::Auth)),
        ],
    )
    .await;
}

#[tokio::test]
async fn loopia_path_is_root_and_911_is_a_malformed_request() {
    let c = |s: &str| cfg("loopia", s, "username = \"me\"");
    let (got, r) = one(
        c,
        "home.example.se",
        RecordType::A,
        "198.51.100.7",
        Reply::ok("nochg"),
    )
    .await;
    assert_eq!(got, Ok(UpdateOutcome::Unchanged { record_id: None }));
    assert_eq!(r.path(), "/");
    assert_eq!(
        r.query(),
        pairs(&[("hostname", "home.example.se"), ("myip", "198.51.100.7")])
    );
    assert_eq!(r.headers["authorization"], "Basic bWU6ZGQtczNjcmV0");
    classes(
        c,
        "home.example.se",
        vec![
            (Reply::ok("good 198.51.100.7"), UPDATED),
            (Reply::ok("911"), Err(ErrorClass::Rejected)),
            (Reply::ok("nohost"), Err(ErrorClass::Rejected)),
            (Reply::ok("badrequest"), Err(ErrorClass::Rejected)),
        ],
    )
    .await;
}

#[tokio::test]
async fn selfhost_one_family_per_request_and_its_statuses() {
    let c = |s: &str| cfg("selfhost", s, "username = \"174299\"");
    for (rtype, ip) in [
        (RecordType::A, "198.51.100.7"),
        (RecordType::Aaaa, "2001:db8::7"),
    ] {
        let (got, r) = one(
            c,
            "home.selfhost.eu",
            rtype,
            ip,
            Reply::ok(format!("good {ip}")),
        )
        .await;
        assert_eq!(got, Ok(UpdateOutcome::Updated { record_id: None }));
        assert_eq!(r.path(), "/nic/update");
        // Never `myip=<v4>,<v6>` (answered `abuse`): one address, the request's family.
        assert_eq!(
            r.query(),
            pairs(&[("hostname", "home.selfhost.eu"), ("myip", ip)])
        );
        assert_eq!(r.headers["authorization"], "Basic MTc0Mjk5OmRkLXMzY3JldA==");
    }
    classes(
        c,
        "home.selfhost.eu",
        vec![
            (Reply::status(204, ""), UNCHANGED),
            (Reply::ok("nochg 198.51.100.7"), UNCHANGED),
            (Reply::ok("noauth"), Err(ErrorClass::Auth)),
            (Reply::status(401, ""), Err(ErrorClass::Auth)),
            (Reply::status(409, ""), Err(ErrorClass::Rejected)),
            (Reply::status(410, ""), Err(ErrorClass::Rejected)),
            (Reply::status(411, ""), Err(ErrorClass::Rejected)),
            (Reply::status(412, ""), Err(ErrorClass::Rejected)),
            (Reply::status(503, ""), Err(ErrorClass::Transient)),
            (Reply::ok("abuse"), Err(ErrorClass::Rejected)),
        ],
    )
    .await;
}

#[tokio::test]
async fn allinkl_sends_no_hostname_and_myip6() {
    let c = |s: &str| cfg("allinkl", s, "username = \"dyn0123456\"");
    let (got, r) = one(
        c,
        "home.example.com",
        RecordType::A,
        "198.51.100.7",
        Reply::ok("good 198.51.100.7"),
    )
    .await;
    assert_eq!(got, Ok(UpdateOutcome::Updated { record_id: None }));
    assert_eq!(r.path(), "/");
    assert_eq!(r.query(), pairs(&[("myip", "198.51.100.7")]));
    assert_eq!(
        r.headers["authorization"],
        "Basic ZHluMDEyMzQ1NjpkZC1zM2NyZXQ="
    );
    let (_, r) = one(
        c,
        "home.example.com",
        RecordType::Aaaa,
        "2001:db8::7",
        Reply::ok("good "),
    )
    .await;
    assert_eq!(r.query(), pairs(&[("myip6", "2001:db8::7")]));
    classes(
        c,
        "home.example.com",
        vec![
            // `good ` without an address is All-Inkl's "no change"; both mean the record holds it.
            (Reply::ok("good "), UPDATED),
            (Reply::ok("nochg"), UNCHANGED),
            (Reply::status(401, ""), Err(ErrorClass::Auth)),
            (Reply::ok("nohost"), Err(ErrorClass::Rejected)),
        ],
    )
    .await;
}

#[tokio::test]
async fn ddnss_key_in_the_query_and_html_replies() {
    let c = |s: &str| cfg("ddnss", s, "");
    let page =
        "<html><head><title>DDNSS</title></head><body><b>Updated 1 hostname.</b></body></html>";
    let (got, r) = one(
        c,
        "home.ddnss.de",
        RecordType::A,
        "198.51.100.7",
        Reply::ok(page),
    )
    .await;
    assert_eq!(got, Ok(UpdateOutcome::Updated { record_id: None }));
    assert_eq!(r.path(), "/upd.php");
    assert_eq!(
        r.query(),
        pairs(&[
            ("host", "home.ddnss.de"),
            ("ip", "198.51.100.7"),
            ("key", PW)
        ])
    );
    assert!(!r.headers.contains_key("authorization"));
    let (_, r) = one(
        c,
        "home.ddnss.de",
        RecordType::Aaaa,
        "2001:db8::7",
        Reply::ok(page),
    )
    .await;
    assert_eq!(
        r.query(),
        pairs(&[
            ("host", "home.ddnss.de"),
            ("ip6", "2001:db8::7"),
            ("key", PW)
        ])
    );
    classes(
        c,
        "home.ddnss.de",
        vec![
            (Reply::ok("<p>No change</p>"), UNCHANGED),
            (Reply::ok("<p>badauth</p>"), Err(ErrorClass::Auth)),
            (Reply::ok("<p>notfqdn</p>"), Err(ErrorClass::Rejected)),
            (Reply::ok("<p>badysys</p>"), Err(ErrorClass::Rejected)),
            (
                Reply::ok(format!("<p>Error: key {PW} unknown</p>")),
                Err(ErrorClass::Transient),
            ),
        ],
    )
    .await;
    let issues = load_problems(
        "[[provider]]\nname = \"d\"\nkind = \"ddnss\"\nusername = \"u\"\npassword = \"p-s3cret\"\n",
    );
    assert!(
        has(&issues, "provider[0].username", "not used"),
        "{issues:#?}"
    );
}

/// Dynu fills the A record from the request's source address when `myip` is missing: an IPv6 update says
/// `myip=no`; an IPv4 update sends `myip` alone.
#[tokio::test]
async fn dynu_ipv6_update_sends_myip_no() {
    let c = |s: &str| cfg("dynu", s, "username = \"me\"");
    let (got, r) = one(
        c,
        "home.dynu.net",
        RecordType::Aaaa,
        "2001:db8::7",
        Reply::ok("good 2001:db8::7"),
    )
    .await;
    assert_eq!(got, Ok(UpdateOutcome::Updated { record_id: None }));
    assert_eq!(
        r.query(),
        pairs(&[
            ("hostname", "home.dynu.net"),
            ("myip", "no"),
            ("myipv6", "2001:db8::7")
        ])
    );
    let (_, r) = one(
        c,
        "home.dynu.net",
        RecordType::A,
        "198.51.100.7",
        Reply::ok("nochg"),
    )
    .await;
    assert_eq!(
        r.query(),
        pairs(&[("hostname", "home.dynu.net"), ("myip", "198.51.100.7")])
    );
    classes(
        c,
        "home.dynu.net",
        vec![
            (Reply::ok("servererror"), Err(ErrorClass::Transient)),
            (Reply::ok("unknown"), Err(ErrorClass::Transient)),
        ],
    )
    .await;
}
