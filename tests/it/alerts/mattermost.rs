//! `mattermost`: an incoming webhook against a fake answering as Mattermost does (`ok` as text/plain; an
//! `AppError` for a wrong key or a locked channel).

use crate::support::{Case, FakeHttp, Reply, notify_test_text};

#[tokio::test]
async fn the_text_is_posted_and_ok_is_success_refusals_are_named() {
    let fake = FakeHttp::start(|r| match r.path() {
        "/mm/hooks/abc123key" => Reply::ok("ok").with_header("content-type", "text/plain"),
        "/mm/hooks/lockedkey" => Reply::status(403, r#"{"id":"web.incoming_webhook.channel_locked.app_error","message":"This webhook is not permitted to post to the requested channel.","detailed_error":"","request_id":"r1","status_code":403}"#),
        _ => Reply::status(400, r#"{"id":"web.incoming_webhook.invalid.app_error","message":"Invalid webhook","detailed_error":"","request_id":"r2","status_code":400}"#),
    })
    .await;
    let case = Case::new(&format!(
        "[[notify]]\nname = \"town\"\nkind = \"mattermost\"\nurl = \"{}\"\n\n[[notify]]\nname = \"locked\"\nkind = \"mattermost\"\nurl = \"{}\"\nchannel = \"ops\"\nusername = \"ddns-tray\"\n\n[[notify]]\nname = \"gone\"\nkind = \"mattermost\"\nurl = \"{}\"\n",
        fake.url("/mm/hooks/abc123key"),
        fake.url("/mm/hooks/lockedkey"),
        fake.url("/mm/hooks/deletedkey"),
    ));
    let out = case.run(&["notify", "test"]).await;
    assert_eq!(out.code, 1, "{out:?}");
    for expected in [
        "town (mattermost): sent; the service answered HTTP 200: ok",
        "locked (mattermost): FAILED: HTTP 403: the service refused the message: This webhook is not permitted to post to the requested",
        "requested chann… (the webhook is locked to its channel: remove `channel`)",
        "gone (mattermost): FAILED: HTTP 400: the service refused the message: Invalid webhook (the webhook does not exist: copy its URL again)",
    ] {
        assert!(out.stdout.contains(expected), "{expected}: {out:?}");
    }
    assert!(!out.stdout.contains("abc123key") && !out.stdout.contains("deletedkey"));
    let text = notify_test_text(&case);
    let reqs = fake.requests();
    assert_eq!(reqs.len(), 3);
    for r in &reqs {
        assert_eq!(r.method, "POST");
        assert!(!r.target.contains('?'));
        assert_eq!(r.headers["content-type"], "application/json");
        let expected = if r.path() == "/mm/hooks/lockedkey" {
            serde_json::json!({"text": text, "channel": "ops", "username": "ddns-tray"})
        } else {
            serde_json::json!({"text": text})
        };
        assert_eq!(r.json(), expected);
    }
}
