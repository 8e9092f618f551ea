//! `webhook` against a loopback fake: the exact request, success rules, failure classes.

use crate::support::{Case, FakeHttp, Reply};

fn config(echo: &str, hook: &str, extra: &str) -> String {
    format!(
        r#"
[detect]
ipv4 = [ {{ kind = "http", url = "{echo}", allow_private = true }} ]

[[provider]]
name = "hook"
kind = "webhook"
url = "{hook}"
{extra}

[[record]]
name = "home.example.test"
provider = "hook"
"#
    )
}

#[tokio::test]
async fn sends_the_templated_request() {
    let echo = FakeHttp::text("198.51.100.70").await;
    let hook = FakeHttp::text("ok").await;
    let extra = r#"method = "PUT"
headers = { Authorization = { env = "HOOK_TOKEN" }, X-Record = "{name}/{type}" }
body = '{"ip":"{ip}","name":"{name}"}'
success_regex = "^ok$""#;
    let case = Case::new(&config(
        &echo.url("/"),
        &hook.url("/update?host={name}&myip={ip}"),
        extra,
    ));
    let mut cmd = case.command(&["once"]);
    cmd.env("HOOK_TOKEN", "Bearer hook-secret-123");
    let out: crate::support::Run = tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap()
        .into();
    assert_eq!(
        out.stdout, "home.example.test A 198.51.100.70 updated\n",
        "{out:?}"
    );
    let reqs = hook.requests();
    assert_eq!(reqs.len(), 1);
    let r = &reqs[0];
    assert_eq!(r.method, "PUT");
    assert_eq!(r.path(), "/update");
    assert_eq!(r.query()["host"], "home.example.test");
    assert_eq!(r.query()["myip"], "198.51.100.70");
    assert_eq!(r.headers["authorization"], "Bearer hook-secret-123");
    assert_eq!(r.headers["x-record"], "home.example.test/A");
    assert!(
        r.headers["user-agent"].starts_with("ddns-tray/"),
        "{:?}",
        r.headers
    );
    assert_eq!(
        r.json(),
        serde_json::json!({"ip":"198.51.100.70","name":"home.example.test"})
    );
    assert!(!format!("{out:?}").contains("hook-secret-123"));
}

#[tokio::test]
async fn failure_classes() {
    let echo = FakeHttp::text("198.51.100.71").await;
    let cases: Vec<(&str, Reply, &str, &str)> = vec![
        (
            "regex mismatch",
            Reply::ok("badauth"),
            "success_regex = \"^good\"",
            "does not match success_regex",
        ),
        (
            "server error",
            Reply::status(502, "bad gateway"),
            "",
            "HTTP 502 Bad Gateway: bad gateway",
        ),
        (
            "unauthorized",
            Reply::status(401, "who are you"),
            "",
            "credentials refused (HTTP 401",
        ),
        (
            "rate limited",
            Reply::status(429, "slow down").with_header("Retry-After", "120"),
            "",
            "rate limited (HTTP 429",
        ),
        (
            "truncated, with a regex to match",
            Reply::Truncated { body: "go".into() },
            "success_regex = \"^good\"",
            "answer cut off",
        ),
    ];
    for (name, reply, extra, want) in cases {
        let hook = FakeHttp::start(move |_| reply.clone()).await;
        let case = Case::new(&config(&echo.url("/"), &hook.url("/u?ip={ip}"), extra));
        let out = case.run(&["once"]).await;
        assert_eq!(out.code, 1, "{name}: {out:?}");
        assert!(out.stdout.contains(want), "{name}: {out:?}");
        let state = case.state();
        let rec = state["records"]
            .as_object()
            .unwrap()
            .values()
            .next()
            .unwrap()
            .clone();
        match name {
            "unauthorized" => assert_eq!(rec["stopped"], true, "{name}"),
            "rate limited" => {
                let next = humantime::parse_rfc3339(rec["next_attempt"].as_str().unwrap()).unwrap();
                let wait = next
                    .duration_since(std::time::SystemTime::now())
                    .unwrap_or_default()
                    .as_secs();
                assert!(
                    (100..=121).contains(&wait),
                    "Retry-After 120 honoured, got {wait}s"
                );
            }
            _ => assert_eq!(rec["stopped"], false, "{name}"),
        }
    }
}

/// Regression: a 2xx answer whose body was binary or larger than 64 KiB counted as a failure, although the
/// README says 2xx is success unless `success_regex` is set. And its token, echoed in an error, is masked.
#[tokio::test]
async fn any_2xx_body_is_success_and_echoed_tokens_are_masked() {
    let echo = FakeHttp::text("198.51.100.72").await;
    let big = "x".repeat(200 * 1024);
    let binary: String = (0u8..=255).map(char::from).collect();
    for (name, reply) in [
        ("large", Reply::ok(big)),
        ("binary", Reply::ok(binary)),
        ("truncated", Reply::Truncated { body: "go".into() }),
        ("empty 204", Reply::status(204, "")),
    ] {
        let hook = FakeHttp::start(move |_| reply.clone()).await;
        let case = Case::new(&config(&echo.url("/"), &hook.url("/u?ip={ip}"), ""));
        let out = case.run(&["once"]).await;
        assert_eq!(out.code, 0, "{name}: {out:?}");
        assert!(out.stdout.ends_with(" updated\n"), "{name}: {out:?}");
    }
    // A server that echoes the request in its error: tokens in the URL and body are masked.
    let hook =
        FakeHttp::start(|r| Reply::status(400, format!("bad request: {} {}", r.target, r.body)))
            .await;
    let case = Case::new(&config(
        &echo.url("/"),
        &hook.url("/u?token=url-s3cret-4242&ip={ip}"),
        r#"body = '{"apikey":"body-s3cret-9191","ip":"{ip}"}'"#,
    ));
    let out = case.run(&["once"]).await;
    assert_eq!(out.code, 1, "{out:?}");
    let text = format!(
        "{out:?}{}",
        crate::support::all_text_under(case.dir.path())
            .replace(&std::fs::read_to_string(case.config_path()).unwrap(), "",)
    );
    assert!(
        !text.contains("url-s3cret-4242") && !text.contains("body-s3cret-9191"),
        "{text}"
    );
    assert!(out.stdout.contains("***"), "{out:?}");
}

/// Regression: a header value with a line break passed `check` and then failed every request.
#[tokio::test]
async fn a_header_value_with_a_line_break_is_refused_at_load() {
    let case = Case::new(&config(
        "http://127.0.0.1:9/",
        "http://127.0.0.1:9/u",
        "headers = { X-Token = \"abc\\r\\nX-Evil: 1\" }",
    ));
    let out = case.run(&["check"]).await;
    assert_eq!(out.code, 2, "{out:?}");
    assert!(
        out.stdout
            .contains("provider[0].headers.X-Token: is not a valid header value"),
        "{out:?}"
    );
    assert!(
        !out.stdout.contains("X-Evil"),
        "the value is not quoted: {out:?}"
    );
}
