//! `rocketchat`: an incoming integration against a fake answering as Rocket.Chat's handler does
//! (`success: true`; `success: false` with `error`).

use crate::support::{Case, FakeHttp, Reply, notify_test_text};

#[tokio::test]
async fn the_text_is_posted_and_success_true_is_success_refusals_are_named() {
    let fake = FakeHttp::start(|r| match r.path() {
        "/rc/hooks/INTEG/rcToken0123" => {
            Reply::ok(r#"{"success":true}"#).with_header("content-type", "application/json")
        }
        "/rc/hooks/OFF/rcToken0123" => {
            Reply::status(503, r#"{"success":false,"error":"Service Unavailable"}"#)
        }
        _ => Reply::status(
            404,
            r#"{"success":false,"error":"Invalid integration id or token provided."}"#,
        ),
    })
    .await;
    let case = Case::new(&format!(
        "[[notify]]\nname = \"rc\"\nkind = \"rocketchat\"\nurl = \"{}\"\nalias = \"ddns-tray\"\nemoji = \":globe_with_meridians:\"\n\n[[notify]]\nname = \"off\"\nkind = \"rocketchat\"\nurl = \"{}\"\n\n[[notify]]\nname = \"wrong\"\nkind = \"rocketchat\"\nurl = \"{}\"\n",
        fake.url("/rc/hooks/INTEG/rcToken0123"),
        fake.url("/rc/hooks/OFF/rcToken0123"),
        fake.url("/rc/hooks/INTEG/rcWrongToken"),
    ));
    let out = case.run(&["notify", "test"]).await;
    assert_eq!(out.code, 1, "{out:?}");
    for expected in [
        "rc (rocketchat): sent; the service answered HTTP 200: {\"success\":true}",
        "off (rocketchat): FAILED: HTTP 503: the service refused the message: Service Unavailable (the integration is disabled)",
        "wrong (rocketchat): FAILED: HTTP 404: the service refused the message: Invalid integration id or token provided. (copy the webhook URL again)",
    ] {
        assert!(out.stdout.contains(expected), "{expected}: {out:?}");
    }
    assert!(!out.stdout.contains("rcToken0123") && !out.stdout.contains("rcWrongToken"));
    let text = notify_test_text(&case);
    let reqs = fake.requests();
    let r = reqs
        .iter()
        .find(|r| r.path() == "/rc/hooks/INTEG/rcToken0123")
        .unwrap();
    assert_eq!(r.method, "POST");
    assert_eq!(r.headers["content-type"], "application/json");
    assert_eq!(
        r.json(),
        serde_json::json!({"text": text, "alias": "ddns-tray", "emoji": ":globe_with_meridians:"})
    );
    let r = reqs
        .iter()
        .find(|r| r.path() == "/rc/hooks/OFF/rcToken0123")
        .unwrap();
    assert_eq!(r.json(), serde_json::json!({"text": text}));
}

#[tokio::test]
async fn a_url_without_id_and_token_is_refused_at_load() {
    let case = Case::new(
        "[[notify]]\nname = \"r\"\nkind = \"rocketchat\"\nurl = \"https://chat.example.org/hooks/onlyone\"\nemoji = \"bell\"\n",
    );
    let out = case.run(&["check"]).await;
    assert_eq!(out.code, 2, "{out:?}");
    let text = out.stdout.clone() + &out.stderr;
    assert!(
        text.contains("notify[0].url: is not a webhook URL"),
        "{out:?}"
    );
    assert!(
        text.contains("notify[0].emoji: is not an emoji name"),
        "{out:?}"
    );
}
