//! `googlechat`: a space's incoming webhook against a fake answering as Google Chat does (the created
//! message; Google's error format), with and without a thread key.

use crate::support::{Case, FakeHttp, Reply, notify_test_text};

#[tokio::test]
async fn the_text_is_posted_to_the_webhook_and_a_thread_key_threads_it() {
    let fake = FakeHttp::start(|r| {
        if r.path().starts_with("/gc/") {
            Reply::ok(r#"{"name":"spaces/AAAA/messages/BBBB.BBBB","sender":{"name":"users/1","type":"BOT"},"text":"t","thread":{"name":"spaces/AAAA/threads/CCCC"},"space":{"name":"spaces/AAAA"},"createTime":"2026-12-04T00:00:00Z"}"#)
                .with_header("content-type", "application/json; charset=UTF-8")
        } else {
            Reply::status(403, r#"{"error":{"code":403,"message":"The API is called without a valid token. Instructions on how to use incoming webhooks can be found at https://developers.google.com/chat/how-tos/webhooks","status":"PERMISSION_DENIED"}}"#)
        }
    })
    .await;
    let case = Case::new(&format!(
        "[[notify]]\nname = \"space\"\nkind = \"googlechat\"\nurl = \"{}\"\n\n[[notify]]\nname = \"thread\"\nkind = \"googlechat\"\nurl = \"{}\"\nthread_key = \"ddns-tray\"\n\n[[notify]]\nname = \"deleted\"\nkind = \"googlechat\"\nurl = \"{}\"\n",
        fake.url("/gc/v1/spaces/AAAA/messages?key=AIzaKeyGoogle0123&token=gcTokenSecret0123"),
        fake.url("/gc/v1/spaces/TTTT/messages?key=AIzaKeyGoogle0123&token=gcTokenSecret0123"),
        fake.url("/gone/v1/spaces/DDDD/messages?key=AIzaKeyGoogle0123&token=gcTokenSecret0123"),
    ));
    let out = case.run(&["notify", "test"]).await;
    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        out.stdout
            .contains("space (googlechat): sent; the service answered HTTP 200"),
        "{out:?}"
    );
    assert!(out.stdout.contains("thread (googlechat): sent"), "{out:?}");
    assert!(
        out.stdout.contains("deleted (googlechat): FAILED: HTTP 403: the service refused the message: PERMISSION_DENIED The API is called without")
            && out.stdout.contains("(copy the webhook URL again: its key or token is not valid)"),
        "{out:?}"
    );
    assert!(!out.stdout.contains("gcTokenSecret0123") && !out.stdout.contains("AIzaKeyGoogle0123"));
    let text = notify_test_text(&case);
    let reqs = fake.requests();
    let space = reqs
        .iter()
        .find(|r| r.path() == "/gc/v1/spaces/AAAA/messages")
        .unwrap();
    assert_eq!(space.method, "POST");
    assert_eq!(
        space.target,
        "/gc/v1/spaces/AAAA/messages?key=AIzaKeyGoogle0123&token=gcTokenSecret0123"
    );
    assert_eq!(
        space.headers["content-type"],
        "application/json; charset=UTF-8"
    );
    assert_eq!(space.json(), serde_json::json!({"text": text}));
    let thread = reqs
        .iter()
        .find(|r| r.path() == "/gc/v1/spaces/TTTT/messages")
        .unwrap();
    assert_eq!(
        thread.target,
        "/gc/v1/spaces/TTTT/messages?key=AIzaKeyGoogle0123&token=gcTokenSecret0123&messageReplyOption=REPLY_MESSAGE_FALLBACK_TO_NEW_THREAD"
    );
    assert_eq!(
        thread.json(),
        serde_json::json!({"text": text, "thread": {"threadKey": "ddns-tray"}})
    );
}

#[tokio::test]
async fn a_url_without_key_and_token_is_refused_at_load() {
    let case = Case::new(
        "[[notify]]\nname = \"g\"\nkind = \"googlechat\"\nurl = \"https://chat.googleapis.com/v1/spaces/AAAA/messages\"\n",
    );
    let out = case.run(&["check"]).await;
    assert_eq!(out.code, 2, "{out:?}");
    assert!(
        (out.stdout.clone() + &out.stderr)
            .contains("notify[0].url: is not a Google Chat webhook URL"),
        "{out:?}"
    );
}
