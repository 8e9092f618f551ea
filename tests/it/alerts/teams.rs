//! `teams`: a Workflows webhook against a fake answering as Power Automate does (202 Accepted, Logic Apps
//! errors): the URL sent exactly as copied, the Adaptive Card envelope, no Authorization header; retired
//! connector URLs refused at load.

use crate::support::{Case, FakeHttp, Reply, notify_test_text};

const PATH: &str = "/teams/workflows/wf1/triggers/manual/paths/invoke";
const QUERY: &str =
    "api-version=2016-06-01&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig=SIGteamsSecret0123";

#[tokio::test]
async fn the_card_goes_to_the_workflow_url_as_copied_and_202_is_success() {
    let fake = FakeHttp::start(|r| {
        if r.path().starts_with("/teams/") {
            Reply::status(202, "")
        } else {
            Reply::status(401, r#"{"error":{"code":"DirectApiAuthorizationRequired","message":"The request must be authenticated only by Shared Access scheme."}}"#)
                .with_header("content-type", "application/json")
        }
    })
    .await;
    let case = Case::new(&format!(
        "[[notify]]\nname = \"channel\"\nkind = \"teams\"\nurl = \"{}\"\n\n[[notify]]\nname = \"rotated\"\nkind = \"teams\"\nurl = \"{}\"\n",
        fake.url(&format!("{PATH}?{QUERY}")),
        fake.url("/old/workflows/wf2/triggers/manual/paths/invoke?api-version=1&sig=SIGrotatedOld")
    ));
    let out = case.run(&["notify", "test"]).await;
    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        out.stdout
            .contains("channel (teams): sent; the service answered HTTP 202"),
        "{out:?}"
    );
    assert!(
        out.stdout.contains("rotated (teams): FAILED: HTTP 401: the service refused the message: DirectApiAuthorizationRequired The request must be"),
        "{out:?}"
    );
    assert!(!out.stdout.contains("SIGteamsSecret0123") && !out.stdout.contains("SIGrotatedOld"));
    let reqs = fake.requests();
    let r = reqs
        .iter()
        .find(|r| r.path().starts_with("/teams/"))
        .unwrap();
    assert_eq!(r.method, "POST");
    assert_eq!(r.target, format!("{PATH}?{QUERY}"), "sp keeps its %2F");
    assert_eq!(r.headers["content-type"], "application/json");
    assert!(!r.headers.contains_key("authorization"));
    let text = notify_test_text(&case);
    let (title, body) = text.split_once('\n').unwrap();
    assert_eq!(
        r.json(),
        serde_json::json!({
            "type": "message",
            "attachments": [{
                "contentType": "application/vnd.microsoft.card.adaptive",
                "contentUrl": null,
                "content": {
                    "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                    "type": "AdaptiveCard",
                    "version": "1.4",
                    "body": [
                        {"type": "TextBlock", "text": title, "weight": "Bolder", "size": "Medium", "wrap": true},
                        {"type": "TextBlock", "text": body, "wrap": true}
                    ],
                    "msteams": {"width": "Full"}
                }
            }]
        })
    );
}

#[tokio::test]
async fn retired_connector_urls_and_urls_without_sig_are_refused_at_load() {
    let case = Case::new(
        r#"
[[notify]]
name = "old"
kind = "teams"
url = "https://contoso.webhook.office.com/webhookb2/1234@5678/IncomingWebhook/abcd/efgh"

[[notify]]
name = "nosig"
kind = "teams"
url = "https://prod-01.westus.logic.azure.com:443/workflows/wf/triggers/manual/paths/invoke?api-version=2016-06-01"
"#,
    );
    let out = case.run(&["check"]).await;
    assert_eq!(out.code, 2, "{out:?}");
    let text = out.stdout.clone() + &out.stderr;
    for expected in [
        "notify[0].url: is an Office 365 connector URL; Microsoft has retired these connectors",
        "Workflows > \"Post to a channel when a webhook request is received\"",
        "notify[1].url: has no `sig=`",
    ] {
        assert!(text.contains(expected), "{expected}: {out:?}");
    }
}
