//! `pushdeer`: `POST /message/push` with the documented form against a fake answering as the `PushDeer`
//! server does (`code` 0 with one result per device; `code` 80501 with `error`; HTTP 500 for an unknown key),
//! on a self-hosted server.

use std::collections::BTreeMap;

use crate::support::{Case, FakeHttp, Reply, notify_test_text};

const KEY: &str = "PDU1234TpushdeerKey0123";

fn config(fake: &FakeHttp, name: &str, path: &str) -> String {
    format!(
        "[[notify]]\nname = \"{name}\"\nkind = \"pushdeer\"\npushkey = \"{KEY}\"\nserver = \"{}\"\n\n",
        fake.url(path)
    )
}

#[tokio::test]
async fn the_documented_form_is_sent_and_code_0_is_success() {
    let fake = FakeHttp::start(|_| {
        Reply::ok(
            r#"{"code":0,"content":{"result":["{\"counts\":1,\"logs\":[],\"success\":\"ok\"}"]}}"#,
        )
        .with_header("content-type", "application/json")
    })
    .await;
    let case = Case::new(&config(&fake, "deer", "/pd"));
    let out = case.run(&["notify", "test"]).await;
    assert_eq!(out.code, 0, "{out:?}");
    assert!(
        out.stdout
            .contains("deer (pushdeer): sent; the service answered HTTP 200"),
        "{out:?}"
    );
    assert!(!out.stdout.contains(KEY));
    let reqs = fake.requests();
    assert_eq!(reqs.len(), 1);
    let r = &reqs[0];
    assert_eq!(
        (r.method.as_str(), r.target.as_str()),
        ("POST", "/pd/message/push")
    );
    assert_eq!(
        r.headers["content-type"],
        "application/x-www-form-urlencoded"
    );
    let text = notify_test_text(&case);
    let (title, body) = text.split_once('\n').unwrap();
    let expected: BTreeMap<String, String> = [
        ("pushkey", KEY),
        ("text", title),
        ("desp", body),
        ("type", "markdown"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    assert_eq!(r.form(), expected);
}

#[tokio::test]
async fn refusals_an_unknown_key_and_no_device_are_failures() {
    let fake = FakeHttp::start(|r| match r.path() {
        "/a/message/push" => Reply::ok(r#"{"code":80501,"error":"The text field is required."}"#),
        "/b/message/push" => Reply::status(500, r#"{"message":"Server Error"}"#),
        _ => Reply::ok(r#"{"code":0,"content":{"result":[]}}"#),
    })
    .await;
    let case = Case::new(&format!(
        "{}{}{}",
        config(&fake, "args", "/a"),
        config(&fake, "unknown", "/b"),
        config(&fake, "nodevice", "/c")
    ));
    let out = case.run(&["notify", "test"]).await;
    assert_eq!(out.code, 1, "{out:?}");
    for expected in [
        "args (pushdeer): FAILED: code 80501: the service refused the message: The text field is required.",
        "unknown (pushdeer): FAILED: HTTP 500: {\"message\":\"Server Error\"} (PushDeer fails this way for a pushkey it does not know)",
        "nodevice (pushdeer): FAILED: the key's owner has no device registered: nobody was notified",
    ] {
        assert!(out.stdout.contains(expected), "{expected}: {out:?}");
    }
}
