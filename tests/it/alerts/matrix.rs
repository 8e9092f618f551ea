//! `matrix`: `PUT /_matrix/client/v3/rooms/{roomId}/send/m.room.message/{txnId}` with a bearer token against
//! a fake answering as the spec shows: an alias resolved first, `event_id` on success, a rate limit waited
//! out and retried once with the same transaction id, `M_UNKNOWN_TOKEN` and `M_FORBIDDEN` named.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::support::{Case, FakeHttp, Reply, Request, notify_test_text};

const TOKEN: &str = "syt_bWF0cml4dGVzdA_secret";

fn json(status: u16, body: &str) -> Reply {
    Reply::status(status, body).with_header("content-type", "application/json")
}

fn config(fake: &FakeHttp, name: &str, room: &str, extra: &str) -> String {
    format!(
        "[[notify]]\nname = \"{name}\"\nkind = \"matrix\"\nhomeserver = \"{}\"\naccess_token = \"{TOKEN}\"\nroom = \"{room}\"\n{extra}\n\n",
        fake.url("/mx")
    )
}

const SEND: &str = "/mx/_matrix/client/v3/rooms/";

fn txn(r: &Request) -> &str {
    r.path().rsplit('/').next().unwrap()
}

#[tokio::test]
async fn an_alias_is_resolved_and_the_event_sent_as_documented() {
    let fake = FakeHttp::start(|r| {
        if r.path() == "/mx/_matrix/client/v3/directory/room/%23alerts%3Aexample.org" {
            json(
                200,
                r#"{"room_id":"!room:example.org","servers":["example.org"]}"#,
            )
        } else {
            json(200, r#"{"event_id":"$YUwRidLecu:example.com"}"#)
        }
    })
    .await;
    let case = Case::new(&format!(
        "{}{}",
        config(&fake, "alias", "#alerts:example.org", ""),
        config(&fake, "id", "!other:example.org", "msgtype = \"m.text\"")
    ));
    let out = case.run(&["notify", "test"]).await;
    assert_eq!(out.code, 0, "{out:?}");
    assert!(
        out.stdout
            .contains("alias (matrix): sent; the service answered HTTP 200"),
        "{out:?}"
    );
    assert!(out.stdout.contains("id (matrix): sent"), "{out:?}");
    let reqs = fake.requests();
    assert_eq!(reqs.len(), 3, "{reqs:#?}");
    let lookup = reqs.iter().find(|r| r.method == "GET").unwrap();
    assert!(
        !lookup.headers.contains_key("authorization"),
        "the directory needs no token"
    );
    let text = notify_test_text(&case);
    let mut txns = Vec::new();
    for (room, msgtype) in [
        ("%21room%3Aexample.org", "m.notice"),
        ("%21other%3Aexample.org", "m.text"),
    ] {
        let prefix = format!("{SEND}{room}/send/m.room.message/");
        let r = reqs
            .iter()
            .find(|r| r.path().starts_with(&prefix))
            .unwrap_or_else(|| panic!("{prefix}: {reqs:#?}"));
        assert_eq!(r.method, "PUT");
        assert!(
            !r.target.contains('?'),
            "no token in the query: {}",
            r.target
        );
        assert_eq!(r.headers["authorization"], format!("Bearer {TOKEN}"));
        assert_eq!(r.headers["content-type"], "application/json");
        assert_eq!(
            r.json(),
            serde_json::json!({"msgtype": msgtype, "body": text})
        );
        assert!(!txn(r).is_empty());
        txns.push(txn(r).to_owned());
    }
    assert_ne!(txns[0], txns[1], "a transaction id per message");
}

#[tokio::test]
async fn a_rate_limit_is_waited_out_once_with_the_same_transaction_and_refusals_are_named() {
    let puts = Arc::new(AtomicUsize::new(0));
    let seen = puts.clone();
    let fake = FakeHttp::start(move |r| {
        if r.path().contains("%21limited") {
            if seen.fetch_add(1, Ordering::SeqCst) == 0 {
                return json(429, r#"{"errcode":"M_LIMIT_EXCEEDED","error":"Too Many Requests","retry_after_ms":50}"#)
                    .with_header("Retry-After", "1");
            }
            json(200, r#"{"event_id":"$e1"}"#)
        } else if r.path().contains("%21forbidden") {
            json(403, r#"{"errcode":"M_FORBIDDEN","error":"User @bot:example.org not in room !forbidden:example.org"}"#)
        } else {
            json(401, r#"{"errcode":"M_UNKNOWN_TOKEN","error":"Invalid access token passed.","soft_logout":false}"#)
        }
    })
    .await;
    let case = Case::new(&format!(
        "{}{}{}",
        config(&fake, "limited", "!limited:example.org", ""),
        config(&fake, "forbidden", "!forbidden:example.org", ""),
        config(&fake, "token", "!room:example.org", "")
    ));
    let out = case.run(&["notify", "test"]).await;
    assert_eq!(out.code, 1, "{out:?}");
    assert!(out.stdout.contains("limited (matrix): sent"), "{out:?}");
    let limited: Vec<Request> = fake
        .requests()
        .into_iter()
        .filter(|r| r.path().contains("%21limited"))
        .collect();
    assert_eq!(limited.len(), 2, "one retry: {limited:#?}");
    assert_eq!(
        txn(&limited[0]),
        txn(&limited[1]),
        "the same transaction id"
    );
    assert!(
        out.stdout.contains("forbidden (matrix): FAILED: HTTP 403: the service refused the message: M_FORBIDDEN User @bot:example.org not in room")
            && out.stdout.contains("(invite the account to the room and join it)"),
        "{out:?}"
    );
    assert!(
        out.stdout.contains("token (matrix): FAILED: HTTP 401: the service refused the message: M_UNKNOWN_TOKEN Invalid access token passed. (the access token is wrong or logged out)"),
        "{out:?}"
    );
    assert_eq!(
        fake.requests()
            .iter()
            .filter(|r| r.path().contains("%21room"))
            .count(),
        1,
        "no retry after a refusal"
    );
    assert!(!out.stdout.contains(TOKEN));
}

#[tokio::test]
async fn the_room_and_msgtype_are_checked_at_load() {
    let case = Case::new(
        "[[notify]]\nname = \"m\"\nkind = \"matrix\"\nhomeserver = \"https://matrix.example.org\"\naccess_token = \"syt_x_token\"\nroom = \"alerts\"\nmsgtype = \"m.image\"\n",
    );
    let out = case.run(&["check"]).await;
    assert_eq!(out.code, 2, "{out:?}");
    let text = out.stdout.clone() + &out.stderr;
    for expected in [
        "notify[0].room: is not a room id or alias",
        "notify[0].msgtype: is neither m.notice nor m.text",
    ] {
        assert!(text.contains(expected), "{expected}: {out:?}");
    }
}
