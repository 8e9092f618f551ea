//! `wxpusher`: the standard push (`appToken` to UIDs and topics) and the simple push (SPT) against a fake
//! answering as `WxPusher`'s docs show (`code` 1000, one `data` item per receiver), its refusals, the checks
//! at load, and the per-token pace (about 2 calls a second) shared by notifiers with one token.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::support::{Case, FakeHttp, Reply, Request, notify_test_text};

const APP_TOKEN: &str = "AT_wxpusherAppToken0123";
const SPT: &str = "SPT_wxpusherSimplePush0123";

fn success(r: &Request) -> Reply {
    let data: Vec<serde_json::Value> = r.json()["uids"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .map(|u| serde_json::json!({"uid": u, "topicId": null, "messageId": 121, "messageContentId": 2123, "sendRecordId": 12313, "code": 1000, "status": "创建发送任务成功"}))
        .collect();
    let body = serde_json::json!({"code": 1000, "msg": "处理成功", "data": data, "success": true});
    Reply::ok(body.to_string()).with_header("content-type", "application/json")
}

fn config(fake: &FakeHttp) -> String {
    format!(
        r#"
[[notify]]
name = "app"
kind = "wxpusher"
app_token = "{APP_TOKEN}"
uids = ["UID_alice", "UID_bob"]
topic_ids = [123, 456]
url = "https://example.com/status"
endpoint = "{endpoint}"

[[notify]]
name = "simple"
kind = "wxpusher"
spt = "{SPT}"
endpoint = "{endpoint}"
"#,
        endpoint = fake.url("/wx")
    )
}

#[tokio::test]
async fn standard_and_simple_push_send_the_documented_requests() {
    let fake = FakeHttp::start(success).await;
    let case = Case::new(&config(&fake));
    let out = case.run(&["notify", "test"]).await;
    assert_eq!(out.code, 0, "{out:?}");
    for name in ["app", "simple"] {
        assert!(
            out.stdout.lines().any(|l| l.starts_with(&format!(
                "{name} (wxpusher): sent; the service answered HTTP 200"
            ))),
            "{name}: {out:?}"
        );
    }
    assert!(!out.stdout.contains(APP_TOKEN) && !out.stdout.contains(SPT));
    let reqs = fake.requests();
    assert_eq!(reqs.len(), 2, "{reqs:#?}");
    let text = notify_test_text(&case);
    for r in &reqs {
        assert_eq!(r.method, "POST");
        assert_eq!(r.headers["content-type"], "application/json");
        assert!(r.query().is_empty(), "no query: {}", r.target);
    }
    let app = reqs
        .iter()
        .find(|r| r.path() == "/wx/api/send/message")
        .expect("standard push");
    assert_eq!(
        app.json(),
        serde_json::json!({
            "appToken": APP_TOKEN,
            "content": text,
            "summary": "Test message from ddns-tray",
            "contentType": 1,
            "uids": ["UID_alice", "UID_bob"],
            "topicIds": [123, 456],
            "url": "https://example.com/status",
        })
    );
    let simple = reqs
        .iter()
        .find(|r| r.path() == "/wx/api/send/message/simple-push")
        .expect("simple push");
    assert_eq!(
        simple.json(),
        serde_json::json!({
            "content": text,
            "summary": "Test message from ddns-tray",
            "contentType": 1,
            "spt": SPT,
        })
    );
}

#[tokio::test]
async fn refusals_name_the_code_and_the_message_and_a_refused_receiver_fails() {
    let fake = FakeHttp::start(|r| {
        if r.path().ends_with("/simple-push") {
            Reply::ok(format!(
                r#"{{"code":1001,"msg":"appToken不正确 {SPT}","data":null,"success":false}}"#
            ))
        } else {
            Reply::ok(
                r#"{"code":1000,"msg":"处理成功","data":[{"uid":"UID_alice","topicId":null,"messageContentId":2123,"sendRecordId":1,"code":1000,"status":"创建发送任务成功"},{"uid":"UID_bob","topicId":null,"messageContentId":2123,"sendRecordId":2,"code":1004,"status":"用户不存在"},{"uid":null,"topicId":123,"messageContentId":2123,"sendRecordId":3,"code":1000,"status":"创建发送任务成功"},{"uid":null,"topicId":456,"messageContentId":2123,"sendRecordId":4,"code":1000,"status":"创建发送任务成功"}],"success":true}"#,
            )
        }
    })
    .await;
    let case = Case::new(&config(&fake));
    let out = case.run(&["notify", "test"]).await;
    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        out.stdout.contains(
            "simple (wxpusher): FAILED: code 1001: the service refused the message: appToken不正确 ***"
        ),
        "{out:?}"
    );
    assert!(
        out.stdout.contains(
            "app (wxpusher): FAILED: the service refused some receivers: UID_bob: 用户不存在"
        ),
        "{out:?}"
    );
    assert!(!out.stdout.contains(SPT) && !out.stderr.contains(SPT));
}

#[tokio::test]
async fn notifiers_sharing_a_token_keep_to_two_calls_a_second() {
    let arrivals: Arc<Mutex<Vec<Instant>>> = Arc::default();
    let seen = arrivals.clone();
    let fake = FakeHttp::start(move |r| {
        seen.lock().unwrap().push(Instant::now());
        success(r)
    })
    .await;
    let mut text = String::new();
    for i in 0..4 {
        text += &format!(
            "[[notify]]\nname = \"wx{i}\"\nkind = \"wxpusher\"\napp_token = \"{APP_TOKEN}\"\nuids = [\"UID_{i}\"]\nendpoint = \"{}\"\n\n",
            fake.url("/wx")
        );
    }
    let case = Case::new(&text);
    let out = case.run(&["notify", "test"]).await;
    assert_eq!(out.code, 0, "{out:?}");
    let times = arrivals.lock().unwrap().clone();
    assert_eq!(times.len(), 4);
    for pair in times.windows(2) {
        let gap = pair[1] - pair[0];
        assert!(gap >= Duration::from_millis(450), "calls {gap:?} apart");
    }
}

#[tokio::test]
async fn limits_and_credentials_are_checked_at_load() {
    let uids: Vec<String> = (0..2001).map(|i| format!("\"UID_{i}\"")).collect();
    let case = Case::new(&format!(
        r#"
[[notify]]
name = "many"
kind = "wxpusher"
app_token = "AT_token"
uids = [{}]
topic_ids = [1, 2, 3, 4, 5, 6]

[[notify]]
name = "none"
kind = "wxpusher"
app_token = "token-without-prefix"

[[notify]]
name = "spt"
kind = "wxpusher"
spt = "SPT_x"
uids = ["UID_a"]

[[notify]]
name = "nothing"
kind = "wxpusher"
"#,
        uids.join(", ")
    ));
    let out = case.run(&["check"]).await;
    assert_eq!(out.code, 2, "{out:?}");
    let text = out.stdout.clone() + &out.stderr;
    for expected in [
        "notify[0].uids: lists 2001; WxPusher takes at most 2000 in one message",
        "notify[0].topic_ids: lists 6; WxPusher takes at most 5 in one message",
        "notify[1].app_token: does not look like an appToken",
        "notify[1].uids: no receivers",
        "notify[2].uids: a simple push goes to the SPT's owner only",
        "notify[3]: has neither `app_token` nor `spt`",
    ] {
        assert!(text.contains(expected), "{expected}: {out:?}");
    }
}
