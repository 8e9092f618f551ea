//! `pushover`: the Messages API form against a fake answering as Pushover documents (`status` 1, the
//! `X-Limit-App-*` headers), a refused token and the monthly limit.

use std::collections::BTreeMap;

use crate::support::{Case, FakeHttp, Reply, notify_test_text};

const TOKEN: &str = "azGDORePK8gMaC0QOYAMyEEuzJnyUi";
const USER: &str = "uQiRzpo4DXghDmr9QzzfQu27cmVRsG";

fn config(fake: &FakeHttp, name: &str, path: &str, extra: &str) -> String {
    format!(
        "[[notify]]\nname = \"{name}\"\nkind = \"pushover\"\ntoken = \"{TOKEN}\"\nuser = \"{USER}\"\nendpoint = \"{}\"\n{extra}\n\n",
        fake.url(path)
    )
}

#[tokio::test]
async fn the_message_is_the_documented_form_and_status_1_is_success() {
    let fake = FakeHttp::start(|_| {
        Reply::ok(r#"{"status":1,"request":"647d2300-702c-4b38-8b2f-d56326ae460b"}"#)
            .with_header("content-type", "application/json")
            .with_header("X-Limit-App-Limit", "10000")
            .with_header("X-Limit-App-Remaining", "7496")
            .with_header("X-Limit-App-Reset", "1393653600")
    })
    .await;
    let case = Case::new(&format!(
        "{}{}",
        config(&fake, "phone", "/po", ""),
        config(
            &fake,
            "tablet",
            "/po2",
            "priority = -1\ndevice = \"tablet,desk-pc\""
        )
    ));
    let out = case.run(&["notify", "test"]).await;
    assert_eq!(out.code, 0, "{out:?}");
    assert!(
        out.stdout
            .contains("phone (pushover): sent; the service answered HTTP 200: {\"status\":1"),
        "{out:?}"
    );
    assert!(!out.stdout.contains(TOKEN) && !out.stdout.contains(USER));
    let text = notify_test_text(&case);
    let (title, body) = text.split_once('\n').unwrap();
    let reqs = fake.requests();
    assert_eq!(reqs.len(), 2);
    for r in &reqs {
        assert_eq!(r.method, "POST");
        assert!(r.path().ends_with("/1/messages.json"), "{}", r.target);
        assert!(!r.target.contains('?'));
        assert_eq!(
            r.headers["content-type"],
            "application/x-www-form-urlencoded"
        );
        let mut expected: BTreeMap<String, String> = [
            ("token", TOKEN),
            ("user", USER),
            ("title", title),
            ("message", body),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        if r.path().starts_with("/po2/") {
            expected.insert("priority".into(), "-1".into());
            expected.insert("device".into(), "tablet,desk-pc".into());
        } else {
            expected.insert("priority".into(), "0".into());
        }
        assert_eq!(r.form(), expected);
    }
}

#[tokio::test]
async fn a_refused_token_and_the_monthly_limit_are_named() {
    let fake = FakeHttp::start(|r| {
        if r.path().starts_with("/po2/") {
            Reply::status(429, r#"{"status":0,"errors":["application has exceeded its monthly message limit"],"request":"r3"}"#)
                .with_header("X-Limit-App-Remaining", "0")
                .with_header("X-Limit-App-Reset", "1393653600")
        } else {
            Reply::status(400, r#"{"token":"invalid","errors":["application token is invalid"],"status":0,"request":"r2"}"#)
        }
    })
    .await;
    let case = Case::new(&format!(
        "{}{}",
        config(&fake, "phone", "/po", ""),
        config(&fake, "limited", "/po2", "")
    ));
    let out = case.run(&["notify", "test"]).await;
    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        out.stdout.contains("phone (pushover): FAILED: HTTP 400: the service refused the message: application token is invalid"),
        "{out:?}"
    );
    assert!(
        out.stdout.contains("limited (pushover): FAILED: HTTP 429: the service refused the message: application has exceeded its monthly message limit (the monthly message limit is used up)"),
        "{out:?}"
    );
}

#[tokio::test]
async fn keys_priority_and_devices_are_checked_at_load() {
    let case = Case::new(
        "[[notify]]\nname = \"p\"\nkind = \"pushover\"\ntoken = \"short\"\nuser = \"uQiRzpo4DXghDmr9QzzfQu27cmVRsG\"\npriority = 2\ndevice = \"my phone\"\n",
    );
    let out = case.run(&["check"]).await;
    assert_eq!(out.code, 2, "{out:?}");
    let text = out.stdout.clone() + &out.stderr;
    for expected in [
        "notify[0].token: does not look like a Pushover key",
        "notify[0].priority:",
        "notify[0].device: is not a list of device names",
    ] {
        assert!(text.contains(expected), "{expected}: {out:?}");
    }
    assert!(!text.contains("notify[0].user"), "{out:?}");
}
