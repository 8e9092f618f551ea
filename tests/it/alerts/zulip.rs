//! `zulip`: `POST /api/v1/messages` with HTTP Basic auth and the documented form against a fake answering as
//! Zulip does (`result: "success"`; `RATE_LIMIT_HIT` with `retry-after`; `INVALID_API_KEY`;
//! `STREAM_DOES_NOT_EXIST`).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::support::{Case, FakeHttp, Reply, notify_test_text};

const KEY: &str = "zulipBotApiKey0123456789";

fn config(fake: &FakeHttp, name: &str, path: &str, stream: &str) -> String {
    format!(
        "[[notify]]\nname = \"{name}\"\nkind = \"zulip\"\nserver = \"{}\"\nemail = \"ddns-bot@example.org\"\napi_key = \"{KEY}\"\nstream = \"{stream}\"\n\n",
        fake.url(path)
    )
}

fn basic() -> String {
    use base64::Engine as _;
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("ddns-bot@example.org:{KEY}"))
    )
}

#[tokio::test]
async fn the_documented_form_is_sent_a_rate_limit_is_waited_out_once_refusals_are_named() {
    let limited = Arc::new(AtomicUsize::new(0));
    let seen = limited.clone();
    let fake = FakeHttp::start(move |r| {
        let json = |status: u16, body: &str| Reply::status(status, body).with_header("content-type", "application/json");
        if r.headers.get("authorization") != Some(&basic()) {
            return json(401, r#"{"result":"error","msg":"Invalid API key","code":"INVALID_API_KEY"}"#);
        }
        match r.form()["to"].as_str() {
            "busy" if seen.fetch_add(1, Ordering::SeqCst) == 0 => json(
                429,
                r#"{"result":"error","msg":"API usage exceeded rate limit","code":"RATE_LIMIT_HIT","retry-after":0.01}"#,
            )
            .with_header("Retry-After", "0.01"),
            "nonexistent" => json(
                400,
                r#"{"code":"STREAM_DOES_NOT_EXIST","msg":"Channel 'nonexistent' does not exist","result":"error","stream":"nonexistent"}"#,
            ),
            _ => json(200, r#"{"id":42,"msg":"","result":"success"}"#),
        }
    })
    .await;
    let case = Case::new(&format!(
        "{}{}{}",
        config(&fake, "alerts", "/zu", "alerts"),
        config(&fake, "busy", "/zu", "busy"),
        config(&fake, "missing", "/zu", "nonexistent"),
    ));
    let out = case.run(&["notify", "test"]).await;
    assert_eq!(out.code, 1, "{out:?}");
    for expected in [
        "alerts (zulip): sent; the service answered HTTP 200: {\"id\":42,\"msg\":\"\",\"result\":\"success\"}",
        "busy (zulip): sent",
        "missing (zulip): FAILED: HTTP 400: the service refused the message: STREAM_DOES_NOT_EXIST Channel 'nonexistent' does not exist",
    ] {
        assert!(out.stdout.contains(expected), "{expected}: {out:?}");
    }
    assert!(!out.stdout.contains(KEY));
    let reqs = fake.requests();
    assert_eq!(reqs.len(), 4, "one retry for the rate limit: {reqs:#?}");
    let text = notify_test_text(&case);
    for r in &reqs {
        assert_eq!(
            (r.method.as_str(), r.target.as_str()),
            ("POST", "/zu/api/v1/messages")
        );
        assert_eq!(r.headers["authorization"], basic());
        assert_eq!(
            r.headers["content-type"],
            "application/x-www-form-urlencoded"
        );
        let to = r.form()["to"].clone();
        let expected: BTreeMap<String, String> = [
            ("type", "stream"),
            ("to", to.as_str()),
            ("topic", "ddns-tray"),
            ("content", text.as_str()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        assert_eq!(r.form(), expected);
    }
}

#[tokio::test]
async fn a_wrong_api_key_is_named() {
    let fake = FakeHttp::start(|_| {
        Reply::status(
            401,
            r#"{"result":"error","msg":"Invalid API key","code":"INVALID_API_KEY"}"#,
        )
    })
    .await;
    let case = Case::new(&config(&fake, "z", "/zu", "alerts"));
    let out = case.run(&["notify", "test"]).await;
    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        out.stdout.contains("z (zulip): FAILED: HTTP 401: the service refused the message: INVALID_API_KEY Invalid API key (check the bot's email and API key)"),
        "{out:?}"
    );
}
