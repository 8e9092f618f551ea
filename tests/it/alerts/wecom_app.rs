//! `wecom-app`: a `WeCom` application's message against a fake answering as `WeCom`'s docs show: the token from
//! `gettoken`, cached and shared by notifiers of one application; an expired or invalid token fetched again
//! exactly once with exactly one more send; the trusted-IP refusal and a bad secret named.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::support::{Case, FakeHttp, Reply, Request, notify_test_text};

const SECRET: &str = "wecomAppSecret-0123456789";

fn json(body: &str) -> Reply {
    Reply::ok(body).with_header("content-type", "application/json; charset=UTF-8")
}

/// `gettoken` hands out TOKEN1, TOKEN2, … in turn; `send` answers with `send(token)`.
async fn fake(send: impl Fn(&str) -> String + Send + Sync + 'static) -> FakeHttp {
    let fetched = Arc::new(AtomicUsize::new(0));
    FakeHttp::start(move |r: &Request| match r.path() {
        "/wc/cgi-bin/gettoken" => {
            if r.query().get("corpsecret").map(String::as_str) != Some(SECRET) {
                return json(r#"{"errcode":40001,"errmsg":"invalid credential, hint: [1700000000_1], from ip: 127.0.0.1, more info at https://open.work.weixin.qq.com/devtool/query?e=40001"}"#);
            }
            let n = fetched.fetch_add(1, Ordering::SeqCst) + 1;
            json(&format!(
                r#"{{"errcode":0,"errmsg":"ok","access_token":"TOKEN{n}","expires_in":7200}}"#
            ))
        }
        "/wc/cgi-bin/message/send" => json(&send(&r.query()["access_token"])),
        _ => Reply::status(404, ""),
    })
    .await
}

fn notifier(fake: &FakeHttp, name: &str, secret: &str, to: &str) -> String {
    format!(
        "[[notify]]\nname = \"{name}\"\nkind = \"wecom-app\"\ncorpid = \"wwtest\"\ncorpsecret = \"{secret}\"\nagentid = 1000002\n{to}\nendpoint = \"{}\"\n\n",
        fake.url("/wc")
    )
}

/// The requests as `METHOD path access_token`.
fn calls(fake: &FakeHttp) -> Vec<String> {
    fake.requests()
        .iter()
        .map(|r| {
            format!(
                "{} {} {}",
                r.method,
                r.path(),
                r.query().get("access_token").map_or("-", String::as_str)
            )
        })
        .collect()
}

#[tokio::test]
async fn one_token_is_fetched_cached_and_shared_and_the_message_is_as_documented() {
    let fake = fake(|token| {
        assert_eq!(token, "TOKEN1");
        r#"{"errcode":0,"errmsg":"ok","invaliduser":"ghost","msgid":"xxxx"}"#.to_owned()
    })
    .await;
    let case = Case::new(&format!(
        "{}{}",
        notifier(&fake, "ops", SECRET, "touser = \"zhangsan|ghost\""),
        notifier(&fake, "teams", SECRET, "toparty = \"2|3\"\ntotag = \"7\"")
    ));
    let out = case.run(&["notify", "test"]).await;
    assert_eq!(out.code, 0, "{out:?}");
    assert!(
        out.stdout
            .contains("ops (wecom-app): sent; the service answered HTTP 200")
            && out
                .stdout
                .contains("(warning: not delivered to invaliduser ghost)"),
        "{out:?}"
    );
    assert!(!out.stdout.contains(SECRET) && !out.stdout.contains("TOKEN1"));
    let reqs = fake.requests();
    assert_eq!(
        calls(&fake),
        [
            "GET /wc/cgi-bin/gettoken -",
            "POST /wc/cgi-bin/message/send TOKEN1",
            "POST /wc/cgi-bin/message/send TOKEN1"
        ],
        "one token for both: {reqs:#?}"
    );
    assert_eq!(reqs[0].query().len(), 2);
    assert_eq!(reqs[0].query()["corpid"], "wwtest");
    assert_eq!(reqs[0].query()["corpsecret"], SECRET);
    assert!(reqs[0].body.is_empty());
    let text = notify_test_text(&case);
    let bodies: Vec<serde_json::Value> = reqs[1..]
        .iter()
        .map(|r| {
            assert_eq!(r.query().len(), 1, "{}", r.target);
            assert_eq!(r.headers["content-type"], "application/json");
            r.json()
        })
        .collect();
    let ops = serde_json::json!({"touser":"zhangsan|ghost","msgtype":"text","agentid":1_000_002,"text":{"content":text}});
    let teams = serde_json::json!({"toparty":"2|3","totag":"7","msgtype":"text","agentid":1_000_002,"text":{"content":text}});
    assert!(
        bodies.contains(&ops) && bodies.contains(&teams),
        "{bodies:#?}"
    );
}

#[tokio::test]
async fn an_expired_token_is_fetched_again_once_and_the_message_sent_once_more() {
    let fake = fake(|token| {
        if token == "TOKEN1" {
            r#"{"errcode":42001,"errmsg":"access_token expired, hint: [1700000000_2]"}"#.to_owned()
        } else {
            r#"{"errcode":0,"errmsg":"ok","msgid":"m2"}"#.to_owned()
        }
    })
    .await;
    let case = Case::new(&notifier(&fake, "ops", SECRET, "touser = \"@all\""));
    let out = case.run(&["notify", "test"]).await;
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(
        calls(&fake),
        [
            "GET /wc/cgi-bin/gettoken -",
            "POST /wc/cgi-bin/message/send TOKEN1",
            "GET /wc/cgi-bin/gettoken -",
            "POST /wc/cgi-bin/message/send TOKEN2"
        ]
    );
    let reqs = fake.requests();
    assert_eq!(reqs[1].body, reqs[3].body, "the same message again");
}

#[tokio::test]
async fn a_token_refused_again_is_a_failure_after_exactly_one_retry() {
    let fake = fake(|_| {
        r#"{"errcode":40014,"errmsg":"invalid access_token, hint: [1700000000_3]"}"#.to_owned()
    })
    .await;
    let case = Case::new(&notifier(&fake, "ops", SECRET, "touser = \"@all\""));
    let out = case.run(&["notify", "test"]).await;
    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        out.stdout.contains("ops (wecom-app): FAILED: errcode 40014: the service refused the message: invalid access_token"),
        "{out:?}"
    );
    assert_eq!(
        calls(&fake),
        [
            "GET /wc/cgi-bin/gettoken -",
            "POST /wc/cgi-bin/message/send TOKEN1",
            "GET /wc/cgi-bin/gettoken -",
            "POST /wc/cgi-bin/message/send TOKEN2"
        ],
        "one refresh, one retry, no loop"
    );
}

#[tokio::test]
async fn the_trusted_ip_rule_and_a_bad_secret_are_explained_without_a_retry() {
    let fake = fake(|_| {
        r#"{"errcode":60020,"errmsg":"not allow to access from your ip, hint: [1700000000_4], from ip: 198.51.100.7"}"#.to_owned()
    })
    .await;
    let case = Case::new(&format!(
        "{}{}",
        notifier(&fake, "ip", SECRET, "touser = \"@all\""),
        notifier(&fake, "bad", "wrong-secret-value", "touser = \"@all\"")
    ));
    let out = case.run(&["notify", "test"]).await;
    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        out.stdout.contains("ip (wecom-app): FAILED: errcode 60020: the service refused the message: not allow to access from your ip")
            && out.stdout.contains("企业可信IP"),
        "{out:?}"
    );
    assert!(
        out.stdout
            .contains("bad (wecom-app): FAILED: cannot get a token: errcode 40001")
            && out
                .stdout
                .contains("check corpid and the application's corpsecret"),
        "{out:?}"
    );
    assert!(!out.stdout.contains("wrong-secret-value"));
    let sends = calls(&fake)
        .iter()
        .filter(|c| c.starts_with("POST"))
        .count();
    assert_eq!(sends, 1, "no retry after 60020");
}

#[tokio::test]
async fn receivers_and_agentid_are_checked_at_load() {
    let case = Case::new(
        "[[notify]]\nname = \"w\"\nkind = \"wecom-app\"\ncorpid = \"wwtest\"\ncorpsecret = \"s3cret-value\"\nagentid = 0\n",
    );
    let out = case.run(&["check"]).await;
    assert_eq!(out.code, 2, "{out:?}");
    let text = out.stdout.clone() + &out.stderr;
    for expected in [
        "notify[0].agentid: is not an application's AgentId",
        "notify[0].touser: no receivers",
    ] {
        assert!(text.contains(expected), "{expected}: {out:?}");
    }
}
