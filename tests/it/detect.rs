//! `ddns-tray detect` and the detection rules, against loopback echo fakes and `PowerDNS` LUA echo records.

use crate::support::{Case, FakeHttp, Reply, pdns};

fn detect_config(sources: &str, policy: &str) -> String {
    format!("[detect]\npolicy = \"{policy}\"\nipv4 = [\n{sources}\n]\n")
}

async fn detect_json(case: &Case) -> (i32, serde_json::Value) {
    let out = case.run(&["detect", "--json"]).await;
    let json = serde_json::from_str(&out.stdout).unwrap_or_else(|e| panic!("{e}: {out:?}"));
    (out.code, json)
}

#[tokio::test]
async fn each_bad_answer_is_rejected_with_its_reason() {
    let cases: Vec<(&str, Reply, &str)> = vec![
        (
            "html page",
            Reply::ok("<html><body>Your IP: 198.51.100.9</body></html>"),
            "HTML page",
        ),
        (
            "private address",
            Reply::ok("192.168.1.20"),
            "private (RFC 1918)",
        ),
        (
            "cgnat address",
            Reply::ok("100.64.3.4"),
            "carrier-grade NAT",
        ),
        (
            "two addresses",
            Reply::ok("198.51.100.9, 198.51.100.10"),
            "exactly one",
        ),
        (
            "ipv6 for ipv4",
            Reply::ok("2001:db8::1"),
            "IPv6 address, but IPv4 was asked",
        ),
        (
            "error status",
            Reply::status(503, "busy"),
            "HTTP status 503",
        ),
        ("garbage", Reply::ok("¯\\_(ツ)_/¯"), "no IP address"),
        (
            "too large",
            Reply::ok("1".repeat(10_000)),
            "larger than 4096 bytes",
        ),
        (
            "truncated",
            Reply::Truncated {
                body: "198.51.".into(),
            },
            "cut off",
        ),
    ];
    for (name, reply, want) in cases {
        let fake = FakeHttp::start(move |_| reply.clone()).await;
        let case = Case::new(&detect_config(
            &format!("{{ kind = \"http\", url = \"{}\" }}", fake.url("/ip")),
            "first",
        ));
        let (code, json) = detect_json(&case).await;
        assert_eq!(code, 1, "{name}: {json}");
        let error = json["ipv4"]["sources"][0]["error"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        assert!(error.contains(want), "{name}: {error}");
        assert!(json["ipv4"]["ip"].is_null(), "{name}");
    }
}

#[tokio::test]
async fn a_never_answering_echo_times_out_and_the_next_source_answers() {
    let hang = FakeHttp::start(|_| Reply::Hang).await;
    let good = FakeHttp::text("198.51.100.60").await;
    let sources = format!(
        "{{ kind = \"http\", url = \"{}\", timeout = \"300ms\" }},\n{{ kind = \"http\", url = \"{}\", allow_private = true }}",
        hang.url("/"),
        good.url("/")
    );
    let case = Case::new(&detect_config(&sources, "first"));
    let started = std::time::Instant::now();
    let (code, json) = detect_json(&case).await;
    assert_eq!(code, 0, "{json}");
    assert_eq!(json["ipv4"]["ip"], "198.51.100.60");
    assert!(
        json["ipv4"]["sources"][0]["error"]
            .as_str()
            .unwrap()
            .contains("no answer within 300ms"),
        "{json}"
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
}

#[tokio::test]
async fn agree_needs_two_matching_answers() {
    let a = FakeHttp::text("198.51.100.61").await;
    let b = FakeHttp::text("198.51.100.61\n").await;
    let c = FakeHttp::text("198.51.100.62").await;
    let src = |f: &FakeHttp| {
        format!(
            "{{ kind = \"http\", url = \"{}\", allow_private = true }}",
            f.url("/")
        )
    };
    let case = Case::new(&detect_config(
        &[src(&a), src(&b), src(&c)].join(",\n"),
        "agree",
    ));
    let (code, json) = detect_json(&case).await;
    assert_eq!(
        (code, json["ipv4"]["ip"].as_str()),
        (0, Some("198.51.100.61")),
        "{json}"
    );

    let case = Case::new(&detect_config(&[src(&a), src(&c)].join(",\n"), "agree"));
    let (code, json) = detect_json(&case).await;
    assert_eq!(code, 1, "{json}");
    assert!(
        json["ipv4"]["error"]
            .as_str()
            .unwrap()
            .contains("do not agree"),
        "{json}"
    );
}

#[tokio::test]
async fn cloudflare_trace_and_command_sources() {
    let trace = FakeHttp::text("fl=123\nh=127.0.0.1\nip=198.51.100.63\nts=1\nwarp=off\n").await;
    let warp = FakeHttp::text("fl=123\nip=198.51.100.64\nwarp=on\n").await;
    let sources = format!(
        "{{ kind = \"cloudflare-trace\", url = \"{}\", allow_private = true }},\n{{ kind = \"cloudflare-trace\", url = \"{}\", allow_private = true }},\n{{ kind = \"command\", command = [\"printf\", \"198.51.100.65\\n\"], allow_private = true }},\n{{ kind = \"command\", command = [\"sh\", \"-c\", \"echo boom >&2; exit 3\"] }}",
        trace.url("/cdn-cgi/trace"),
        warp.url("/cdn-cgi/trace")
    );
    let case = Case::new(&detect_config(&sources, "first"));
    let (_, json) = detect_json(&case).await;
    let s = &json["ipv4"]["sources"];
    assert_eq!(s[0]["ip"], "198.51.100.63", "{json}");
    assert!(s[1]["error"].as_str().unwrap().contains("WARP"), "{json}");
    assert_eq!(s[2]["ip"], "198.51.100.65", "{json}");
    assert!(
        s[3]["error"]
            .as_str()
            .unwrap()
            .contains("exited with exit status: 3: boom"),
        "{json}"
    );
    assert_eq!(json["ipv4"]["ip"], "198.51.100.63");
}

#[tokio::test]
async fn dns_echoes_served_by_powerdns_lua_records() {
    let Some(p) = pdns() else { return };
    let server = format!("127.0.0.1:{}", p.port);
    let sources = format!(
        "{{ kind = \"dns\", server = \"{server}\", name = \"myip.opendns.com\", type = \"A\", allow_private = true }},\n\
         {{ kind = \"dns\", server = \"{server}\", name = \"o-o.myaddr.l.google.com\", type = \"TXT\", allow_private = true }},\n\
         {{ kind = \"dns\", server = \"{server}\", name = \"whoami.akamai.net\", allow_private = true }},\n\
         {{ kind = \"dns\", server = \"{server}\", name = \"myip.opendns.com\" }},\n\
         {{ kind = \"dns\", server = \"{server}\", name = \"nothing-here.opendns.com\", allow_private = true }}"
    );
    let case = Case::new(&detect_config(&sources, "first"));
    let (code, json) = detect_json(&case).await;
    assert_eq!(code, 0, "{json}");
    let s = &json["ipv4"]["sources"];
    for i in 0..3 {
        assert_eq!(s[i]["ip"], "127.0.0.1", "source {i}: {json}");
    }
    assert!(
        s[3]["error"].as_str().unwrap().contains("loopback"),
        "without allow_private the echo of a loopback client is rejected: {json}"
    );
    assert!(
        s[4]["error"]
            .as_str()
            .unwrap()
            .contains("Non-Existent Domain"),
        "{json}"
    );
}

#[tokio::test]
async fn human_output_names_each_source_with_latency() {
    let good = FakeHttp::text("198.51.100.66").await;
    let case = Case::new(&detect_config(
        &format!(
            "{{ kind = \"http\", url = \"{}\", allow_private = true }}",
            good.url("/ip?token=src-s3cret-77")
        ),
        "first",
    ));
    let out = case.run(&["detect"]).await;
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.stdout.starts_with("IPv4 (policy first):\n"), "{out:?}");
    // Only the origin: a source URL's path or query may carry a token (status and logs show labels too).
    assert!(!out.stdout.contains("src-s3cret-77"), "{out:?}");
    assert!(
        out.stdout.contains(&format!("http {}", good.url("")))
            && out.stdout.contains("198.51.100.66  (")
            && out.stdout.contains(" ms)"),
        "{out:?}"
    );
    assert!(out.stdout.ends_with("  => 198.51.100.66\n"), "{out:?}");
}

/// The shared TLS configuration verifies certificates (its verifier is the OS's, built lazily): an https echo
/// with a self-signed certificate is refused, through the real binary.
#[tokio::test]
async fn an_https_echo_with_an_untrusted_certificate_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    let made = std::process::Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-days",
            "1",
        ])
        .args([
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
        ])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output();
    if !made.is_ok_and(|o| o.status.success()) {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "openssl is part of the CI machine"
        );
        eprintln!("skipping: no openssl");
        return;
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut server = std::process::Command::new("openssl")
        .args(["s_server", "-quiet", "-www", "-accept"])
        .arg(format!("127.0.0.1:{port}"))
        .arg("-cert")
        .arg(&cert)
        .arg("-key")
        .arg(&key)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let case = Case::new(&detect_config(
        &format!(
            "{{ kind = \"http\", url = \"https://127.0.0.1:{port}/\", allow_private = true }}"
        ),
        "first",
    ));
    let run = case.run(&["detect"]).await;
    let _ = server.kill();
    let _ = server.wait();
    let text = format!("{}{}", run.stdout, run.stderr);
    assert_ne!(run.code, 0, "{text}");
    assert!(
        text.to_lowercase().contains("certificate"),
        "refused for its certificate: {text}"
    );
}

fn published_config(sources: &str, policy: &str, hook: &str) -> String {
    format!(
        "{}[[provider]]\nname = \"hook\"\nkind = \"webhook\"\nurl = \"{hook}\"\n[[record]]\nname = \"home.example.test\"\nprovider = \"hook\"\n",
        detect_config(sources, policy)
    )
}

/// Regression (issue 20): an echo answering with Cloudflare's own `104.18.0.0` (as `1.1.1.1`'s trace did
/// on 2025-10-27) was published to every record. It is never published, under any policy, and the log
/// names the source and why; a source with `allow_cdn = true` may give such an address.
#[tokio::test]
async fn a_cdns_own_address_is_never_published() {
    let hostile = FakeHttp::text("104.18.0.0").await;
    let hook = FakeHttp::text("ok").await;
    for policy in ["first", "confirm", "agree"] {
        let extra = if policy == "agree" {
            format!(
                ",\n{{ kind = \"http\", url = \"{}\", operator = \"b\" }}",
                hostile.url("/b")
            )
        } else {
            String::new()
        };
        let case = Case::new(&published_config(
            &format!(
                "{{ kind = \"http\", url = \"{}\" }}{extra}",
                hostile.url("/")
            ),
            policy,
            &hook.url("/u?ip={ip}"),
        ));
        let out = case.run(&["once"]).await;
        assert_eq!(out.code, 1, "{policy}: {out:?}");
        assert!(
            out.stderr.contains("Cloudflare's own address")
                || out.stdout.contains("Cloudflare's own address"),
            "{policy}: {out:?}"
        );
    }
    assert!(hook.requests().is_empty(), "never published");
    let case = Case::new(&published_config(
        &format!(
            "{{ kind = \"http\", url = \"{}\", allow_cdn = true }}",
            hostile.url("/")
        ),
        "first",
        &hook.url("/u?ip={ip}"),
    ));
    assert_eq!(case.run(&["once"]).await.code, 0);
    assert_eq!(hook.requests().len(), 1);
}

/// Issue 20, confirm on change (the default policy): with two echo operators disagreeing the record is not
/// written; once the second agrees it is, and `detect` says who gave the address. An unchanged address
/// costs one question.
#[tokio::test]
async fn a_change_is_published_only_when_a_second_operator_confirms_it() {
    let a = FakeHttp::text("198.51.100.91").await;
    let b = FakeHttp::text("198.51.100.92").await;
    let hook = FakeHttp::text("ok").await;
    let sources = format!(
        "{{ kind = \"http\", url = \"{}\", allow_private = true, operator = \"op-a\" }},\n{{ kind = \"http\", url = \"{}\", allow_private = true, operator = \"op-b\" }}",
        a.url("/"),
        b.url("/")
    );
    // No policy given: `confirm` is the default.
    let config = published_config(&sources, "confirm", &hook.url("/u?ip={ip}"))
        .replace("policy = \"confirm\"\n", "");
    let case = Case::new(&config);
    let out = case.run(&["once"]).await;
    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        hook.requests().is_empty(),
        "disagreeing operators: nothing written"
    );
    assert!(
        format!("{}{}", out.stdout, out.stderr).contains("not confirmed"),
        "{out:?}"
    );
    b.set_text("198.51.100.91");
    let out = case.run(&["once"]).await;
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(hook.requests().len(), 1);
    assert!(hook.requests()[0].target.contains("198.51.100.91"));
    let out = case.run(&["detect"]).await;
    assert!(out.stdout.contains("(policy confirm)"), "{out:?}");
    assert!(
        out.stdout.contains("198.51.100.91 (given by op-a, op-b)"),
        "{out:?}"
    );
    // Unchanged: the first operator alone is asked.
    let (asked_a, asked_b) = (a.requests().len(), b.requests().len());
    assert_eq!(case.run(&["once"]).await.code, 0);
    assert_eq!(a.requests().len(), asked_a + 1);
    assert_eq!(
        b.requests().len(),
        asked_b,
        "no second question when nothing changed"
    );
}
