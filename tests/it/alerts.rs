//! Alerts (`[[notify]]`), heartbeats, the history and the metrics endpoint, through the real binary:
//! every chat kind against a loopback fake answering as its service documents (the exact requests
//! asserted), mail through a real SMTP server (aiosmtpd), and the metrics scraped by a real Prometheus.

use std::time::Duration;

use crate::support::{Case, FakeHttp, Reply, Request, free_port};

/// Answers each kind's documented success.
fn documented(r: &Request) -> Reply {
    let p = r.path();
    let json = |body: &str| Reply::ok(body).with_header("content-type", "application/json");
    if p.starts_with("/wecom/") || p.starts_with("/dingtalk/") {
        json(r#"{"errcode":0,"errmsg":"ok"}"#)
    } else if p.starts_with("/feishu/") {
        json(r#"{"code":0,"data":{},"msg":"success"}"#)
    } else if p.starts_with("/tg/") {
        json(r#"{"ok":true,"result":{"message_id":7}}"#)
    } else if p.starts_with("/discord/") {
        Reply::status(204, "")
    } else if p.starts_with("/slack/") {
        Reply::ok("ok")
    } else if p.starts_with("/ntfy/") {
        json(r#"{"id":"sPs71M8A2T","time":1700000000,"event":"message","topic":"t"}"#)
    } else if p.starts_with("/gotify/") {
        json(r#"{"id":25,"appid":5,"message":"m","title":"t","priority":5}"#)
    } else if p.starts_with("/bark/") {
        json(r#"{"code":200,"message":"success","timestamp":1700000000}"#)
    } else if p.starts_with("/sc/") {
        json(r#"{"code":0,"message":"","data":{"pushid":"1","readkey":"r"}}"#)
    } else if p.starts_with("/pushplus/") {
        json(r#"{"code":200,"msg":"请求成功","data":"abc123"}"#)
    } else if p.starts_with("/kuma/") {
        json(r#"{"ok":true}"#)
    } else {
        Reply::ok("OK")
    }
}

fn every_kind(fake: &FakeHttp) -> String {
    let u = |p: &str| fake.url(p);
    format!(
        r#"
[[notify]]
name = "wecom"
kind = "wecom"
url = "{wecom}"

[[notify]]
name = "dingtalk"
kind = "dingtalk"
url = "{dingtalk}"
secret = "SECdingtalk-signing-secret-0123"

[[notify]]
name = "feishu"
kind = "feishu"
url = "{feishu}"
secret = "feishu-signing-secret"

[[notify]]
name = "telegram"
kind = "telegram"
token = "123456789:telegram-bot-token"
chat_id = -1001234567
endpoint = "{tg}"

[[notify]]
name = "discord"
kind = "discord"
url = "{discord}"

[[notify]]
name = "slack"
kind = "slack"
url = "{slack}"

[[notify]]
name = "ntfy"
kind = "ntfy"
server = "{ntfy}"
topic = "ddns-alerts-topic"
token = "tk_ntfyaccesstoken"

[[notify]]
name = "gotify"
kind = "gotify"
server = "{gotify}"
token = "gotify-app-token"

[[notify]]
name = "bark"
kind = "bark"
server = "{bark}"
device_key = "bark-device-key"

[[notify]]
name = "serverchan"
kind = "serverchan"
endpoint = "{sc}"
sendkey = "SCT12345serverchankey"

[[notify]]
name = "pushplus"
kind = "pushplus"
endpoint = "{pushplus}"
token = "pushplus-user-token"

[[notify]]
name = "hook"
kind = "webhook"
url = "{hook}"
headers = {{ Authorization = "Bearer webhook-secret" }}
body = '{{"text":"{{message}}","event":"{{event}}"}}'

[[notify]]
name = "hc"
kind = "healthchecks"
url = "{hc}"

[[notify]]
name = "kuma"
kind = "uptime-kuma"
url = "{kuma}"
"#,
        wecom = u("/wecom/cgi-bin/webhook/send?key=wecom-robot-key"),
        dingtalk = u("/dingtalk/robot/send?access_token=dingtalk-access-token"),
        feishu = u("/feishu/open-apis/bot/v2/hook/feishu-hook-token"),
        tg = u("/tg"),
        discord = u("/discord/api/webhooks/1/discord-webhook-token"),
        slack = u("/slack/services/T0/B0/slack-webhook-token"),
        ntfy = u("/ntfy"),
        gotify = u("/gotify"),
        bark = u("/bark"),
        sc = u("/sc"),
        pushplus = u("/pushplus"),
        hook = u("/hook?src=ddns"),
        hc = u("/hc/5f1b2c3d-healthchecks-uuid"),
        kuma = u("/kuma/api/push/kumapushtoken?status=up&msg=OK&ping="),
    )
}

const SECRETS: &[&str] = &[
    "wecom-robot-key",
    "dingtalk-access-token",
    "SECdingtalk-signing-secret-0123",
    "feishu-signing-secret",
    "telegram-bot-token",
    "slack-webhook-token",
    "ddns-alerts-topic",
    "tk_ntfyaccesstoken",
    "gotify-app-token",
    "bark-device-key",
    "SCT12345serverchankey",
    "pushplus-user-token",
    "webhook-secret",
    "kumapushtoken",
];

fn hmac_b64(key: &[u8], msg: &[u8]) -> String {
    use base64::Engine as _;
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, key);
    base64::engine::general_purpose::STANDARD.encode(ring::hmac::sign(&key, msg).as_ref())
}

fn one<'a>(reqs: &'a [Request], prefix: &str) -> &'a Request {
    let found: Vec<&Request> = reqs
        .iter()
        .filter(|r| r.path().starts_with(prefix))
        .collect();
    assert_eq!(found.len(), 1, "{prefix}: {reqs:#?}");
    found[0]
}

#[tokio::test]
#[allow(clippy::too_many_lines)] // one block of assertions per kind
async fn notify_test_sends_every_kind_as_its_service_documents() {
    let fake = FakeHttp::start(documented).await;
    let case = Case::new(&every_kind(&fake));
    let out = case.run(&["notify", "test"]).await;
    assert_eq!(out.code, 0, "{out:?}");
    for name in [
        "wecom",
        "dingtalk",
        "feishu",
        "telegram",
        "discord",
        "slack",
        "ntfy",
        "gotify",
        "bark",
        "serverchan",
        "pushplus",
        "hook",
        "hc",
        "kuma",
    ] {
        assert!(
            out.stdout
                .lines()
                .any(|l| l.starts_with(&format!("{name} ("))
                    && l.contains(": sent; the service answered HTTP 20")),
            "{name}: {out:?}"
        );
    }
    for s in SECRETS {
        assert!(
            !out.stdout.contains(s) && !out.stderr.contains(s),
            "{s} leaked: {out:?}"
        );
    }
    let reqs = fake.requests();
    assert_eq!(reqs.len(), 14, "{reqs:#?}");
    let title = "Test message from ddns-tray";
    let text =
        |t: &str| t.starts_with(&format!("{title}\nIf you can read this, alerts reach you."));

    let r = one(&reqs, "/wecom/");
    assert_eq!(
        (r.method.as_str(), r.path()),
        ("POST", "/wecom/cgi-bin/webhook/send")
    );
    assert_eq!(r.query()["key"], "wecom-robot-key");
    assert_eq!(r.headers["content-type"], "application/json");
    assert_eq!(r.json()["msgtype"], "text");
    assert!(text(r.json()["text"]["content"].as_str().unwrap()), "{r:?}");

    let r = one(&reqs, "/dingtalk/");
    let q = r.query();
    assert_eq!(q["access_token"], "dingtalk-access-token");
    let ts: u128 = q["timestamp"].parse().unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis();
    assert!(now - ts < 60_000, "timestamp in milliseconds, current");
    let secret = "SECdingtalk-signing-secret-0123";
    assert_eq!(
        q["sign"],
        hmac_b64(secret.as_bytes(), format!("{ts}\n{secret}").as_bytes())
    );
    assert!(
        r.target.contains("sign=") && !r.target.contains('+') && !r.target.contains("/="),
        "the sign is URL-encoded: {}",
        r.target
    );
    assert_eq!(r.json()["msgtype"], "text");
    assert!(text(r.json()["text"]["content"].as_str().unwrap()));

    let r = one(&reqs, "/feishu/");
    assert_eq!(r.path(), "/feishu/open-apis/bot/v2/hook/feishu-hook-token");
    let body = r.json();
    assert_eq!(body["msg_type"], "text");
    assert!(text(body["content"]["text"].as_str().unwrap()));
    let ts = body["timestamp"].as_str().unwrap();
    assert_eq!(ts.len(), 10, "seconds");
    assert_eq!(
        body["sign"],
        hmac_b64(format!("{ts}\nfeishu-signing-secret").as_bytes(), b"")
    );

    let r = one(&reqs, "/tg/");
    assert_eq!(r.path(), "/tg/bot123456789:telegram-bot-token/sendMessage");
    assert_eq!(r.json()["chat_id"], -1_001_234_567);
    assert!(text(r.json()["text"].as_str().unwrap()));

    let r = one(&reqs, "/discord/");
    assert_eq!(r.method, "POST");
    assert!(text(r.json()["content"].as_str().unwrap()));
    let r = one(&reqs, "/slack/");
    assert!(text(r.json()["text"].as_str().unwrap()));

    let r = one(&reqs, "/ntfy/");
    assert_eq!(r.path(), "/ntfy/ddns-alerts-topic");
    assert_eq!(r.headers["title"], title);
    assert_eq!(r.headers["priority"], "3");
    assert_eq!(r.headers["authorization"], "Bearer tk_ntfyaccesstoken");
    assert!(r.body.starts_with("If you can read this"), "{r:?}");

    let r = one(&reqs, "/gotify/");
    assert_eq!(r.path(), "/gotify/message");
    assert_eq!(r.headers["x-gotify-key"], "gotify-app-token");
    assert_eq!(r.json()["title"], title);
    assert_eq!(r.json()["priority"], 5);

    let r = one(&reqs, "/bark/");
    assert_eq!(r.path(), "/bark/push");
    assert_eq!(r.json()["device_key"], "bark-device-key");
    assert_eq!(r.json()["title"], title);
    assert_eq!(r.json()["group"], "ddns-tray");

    let r = one(&reqs, "/sc/");
    assert_eq!(r.path(), "/sc/SCT12345serverchankey.send");
    assert_eq!(
        r.headers["content-type"],
        "application/x-www-form-urlencoded"
    );
    let form: std::collections::BTreeMap<String, String> = Request {
        target: format!("/?{}", r.body),
        ..r.clone()
    }
    .query();
    assert_eq!(form["title"], title);
    assert!(form["desp"].starts_with("If you can read this"));

    let r = one(&reqs, "/pushplus/");
    assert_eq!(r.path(), "/pushplus/send");
    assert_eq!(r.json()["token"], "pushplus-user-token");
    assert_eq!(r.json()["template"], "txt");

    let r = one(&reqs, "/hook");
    assert_eq!(r.method, "POST");
    assert_eq!(r.query()["src"], "ddns");
    assert_eq!(r.headers["authorization"], "Bearer webhook-secret");
    assert_eq!(r.json()["event"], "test");
    assert!(
        text(r.json()["text"].as_str().unwrap()),
        "the message is JSON-escaped: {}",
        r.body
    );

    // Heartbeats: a test is a good ping.
    let r = one(&reqs, "/hc/");
    assert_eq!(
        (r.method.as_str(), r.path()),
        ("POST", "/hc/5f1b2c3d-healthchecks-uuid")
    );
    let r = one(&reqs, "/kuma/");
    assert_eq!(r.method, "GET");
    let q = r.query();
    assert_eq!(
        (q["status"].as_str(), q["msg"].as_str(), q["ping"].as_str()),
        ("up", "OK", "")
    );
    assert_eq!(
        r.target.matches("status=").count(),
        1,
        "ours replace the URL's: {}",
        r.target
    );

    // One by name.
    let out = case.run(&["notify", "test", "slack"]).await;
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(out.stdout.lines().count(), 1, "{out:?}");
    let out = case.run(&["notify", "test", "nope"]).await;
    assert_eq!(out.code, 2, "{out:?}");
    assert!(
        out.stderr
            .contains("no notifier is named `nope`; the config has: wecom, dingtalk"),
        "{out:?}"
    );
}

#[tokio::test]
async fn refusals_are_reported_with_the_services_words_and_no_secret() {
    let fake = FakeHttp::start(|r| {
        let p = r.path();
        if p.starts_with("/wecom/") {
            Reply::ok(r#"{"errcode":93000,"errmsg":"invalid webhook url, key wecom-robot-key"}"#)
        } else if p.starts_with("/tg/") {
            Reply::status(
                401,
                r#"{"ok":false,"error_code":401,"description":"Unauthorized"}"#,
            )
        } else if p.starts_with("/bark/") {
            Reply::ok(
                r#"{"code":400,"message":"failed to get device token: device not registered"}"#,
            )
        } else {
            Reply::status(500, "<html>oops</html>")
        }
    })
    .await;
    let case = Case::new(&every_kind(&fake));
    let out = case.run(&["notify", "test"]).await;
    assert_eq!(out.code, 1, "{out:?}");
    let line = |name: &str| {
        out.stdout
            .lines()
            .find(|l| l.starts_with(&format!("{name} (")))
            .unwrap_or_else(|| panic!("{name}: {out:?}"))
            .to_owned()
    };
    assert_eq!(
        line("wecom"),
        "wecom (wecom): FAILED: errcode 93000: the service refused the message: invalid webhook url, key ***"
    );
    assert!(
        line("telegram").contains("FAILED: HTTP 401")
            && line("telegram").contains("check the token or URL"),
        "{out:?}"
    );
    assert!(
        line("bark")
            .contains("code 400: the service refused the message: failed to get device token"),
        "{out:?}"
    );
    assert!(line("gotify").contains("FAILED: HTTP 500"), "{out:?}");
    for s in SECRETS {
        assert!(
            !out.stdout.contains(s) && !out.stderr.contains(s),
            "{s} leaked: {out:?}"
        );
    }
}

#[tokio::test]
async fn bad_notifier_settings_are_named_with_a_fix() {
    let case = Case::new(
        r#"
[[notify]]
name = "robot"
kind = "dingtalk"
url = "https://oapi.dingtalk.com/robot/send"
secret = "not-a-sec"
events = ["change", "everything"]

[[notify]]
name = "robot"
kind = "carrier-pigeon"

[[notify]]
name = "mail"
kind = "email"
server = "mail.example.com:587"
from = "not an address"
to = []
username = "me"

[[notify]]
name = "hc"
kind = "healthchecks"
url = "https://hc-ping.com/x"
events = ["failure"]

[metrics]
listen = "0.0.0.0:9851"
"#,
    );
    let out = case.run(&["check"]).await;
    assert_eq!(out.code, 2, "{out:?}");
    let out_text = out.stdout.clone() + &out.stderr;
    for expected in [
        "notify[0].url: has no `access_token=`",
        "notify[0].secret: does not look like a DingTalk signing secret",
        "notify[0].events[1]: unknown event `everything`",
        "notify[1].kind: unknown kind `carrier-pigeon`",
        "notify[2].server: is not a URL with a scheme\n    hint: write smtp://host:587",
        "notify[2].from: is not a mail address",
        "notify[2].to: is empty",
        "notify[2].password: missing (a user name is set)",
        "notify[3].events: does not apply to a heartbeat",
        "metrics.listen: 0.0.0.0:9851 is reachable from other machines",
    ] {
        assert!(out_text.contains(expected), "{expected}: {out:?}");
    }
}

/// The echo fake, a webhook provider fake, and a notifier config around them.
fn with_records(echo: &FakeHttp, provider: &FakeHttp, notify: &str) -> String {
    format!(
        r#"
[detect]
ipv4 = [ {{ kind = "http", url = "{echo}", allow_private = true }} ]

[[provider]]
name = "hook"
kind = "webhook"
url = "{hook}"

[[record]]
name = "home.example.test"
provider = "hook"

{notify}
"#,
        echo = echo.url("/"),
        hook = provider.url("/update?ip={ip}"),
    )
}

#[tokio::test]
#[allow(clippy::too_many_lines)] // one scenario: first publication, change, failure, history
async fn a_change_is_one_alert_failures_ping_fail_and_the_history_keeps_it_all() {
    let echo = FakeHttp::text("198.51.100.1").await;
    let provider = FakeHttp::text("ok").await;
    let sink = FakeHttp::start(documented).await;
    let notify = format!(
        r#"
[[notify]]
name = "phone"
kind = "ntfy"
server = "{ntfy}"
topic = "alerts"

[[notify]]
name = "hc"
kind = "healthchecks"
url = "{hc}"
"#,
        ntfy = sink.url("/ntfy"),
        hc = sink.url("/hc/uuid-1")
    );
    let case = Case::new(&with_records(&echo, &provider, &notify));
    // First run: the first detection is no "change", but the record's first publication is told, marked as
    // such; the heartbeat says ok.
    let out = case.run(&["once"]).await;
    assert_eq!(out.code, 0, "{out:?}");
    let reqs = sink.requests();
    assert_eq!(reqs.len(), 2, "{reqs:#?}");
    let first = one(&reqs, "/ntfy/");
    assert_eq!(
        first.headers["title"],
        "home.example.test A published for the first time"
    );
    assert_eq!(first.body, "home.example.test A -> 198.51.100.1");
    assert_eq!(
        (
            one(&reqs, "/hc/").method.as_str(),
            one(&reqs, "/hc/").path()
        ),
        ("POST", "/hc/uuid-1")
    );
    let seen = reqs.len();

    // The address changes: one alert naming old and new address and the record, then an ok ping.
    echo.set_text("198.51.100.2");
    let out = case.run(&["once"]).await;
    assert_eq!(out.code, 0, "{out:?}");
    let reqs = sink.requests();
    let alerts: Vec<&Request> = reqs[seen..]
        .iter()
        .filter(|r| r.path().starts_with("/ntfy/"))
        .collect();
    assert_eq!(alerts.len(), 1, "{reqs:#?}");
    assert_eq!(alerts[0].headers["title"], "Public IPv4 address changed");
    assert_eq!(
        alerts[0].body,
        "IPv4 198.51.100.1 -> 198.51.100.2\nUpdated: home.example.test A"
    );

    // The provider breaks with an auth error: the record stops, the alert comes at once, the ping says fail.
    provider.set(|_| Reply::status(401, "bad token"));
    echo.set_text("198.51.100.3");
    let out = case.run(&["once"]).await;
    assert_eq!(out.code, 1, "{out:?}");
    let reqs = sink.requests();
    let fail = reqs
        .iter()
        .find(|r| r.path() == "/hc/uuid-1/fail")
        .unwrap_or_else(|| panic!("{reqs:#?}"));
    assert!(fail.body.starts_with("home.example.test A: "), "{fail:?}");
    let alerts: Vec<&Request> = reqs
        .iter()
        .filter(|r| r.path().starts_with("/ntfy/"))
        .collect();
    let failure = alerts
        .iter()
        .find(|r| r.headers["title"].contains("refused the credentials"))
        .unwrap_or_else(|| panic!("{alerts:#?}"));
    assert_eq!(failure.headers["priority"], "4");
    assert!(
        failure
            .body
            .contains("No more attempts until the configuration changes."),
        "{failure:?}"
    );

    // The history has it all, oldest first; --record filters.
    let out = case.run(&["history"]).await;
    assert_eq!(out.code, 0, "{out:?}");
    let events: Vec<&str> = out
        .stdout
        .lines()
        .map(|l| l.split_whitespace().nth(1).unwrap_or(""))
        .collect();
    assert_eq!(
        events,
        [
            "ip-changed",
            "updated",
            "ip-changed",
            "updated",
            "ip-changed",
            "failed"
        ],
        "{out:?}"
    );
    assert!(
        out.stdout
            .contains("updated             home.example.test A 198.51.100.1 -> 198.51.100.2"),
        "{out:?}"
    );
    let out = case
        .run(&["history", "--record", "home.example.test", "--json"])
        .await;
    let entries: Vec<serde_json::Value> = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(entries.len(), 3, "{out:?}");
    assert_eq!(entries[2]["event"], "failed");
    assert!(
        entries[2]["error"].as_str().unwrap().contains("401"),
        "{entries:?}"
    );
}

/// With `language = "zh-CN"`, what reaches `WeCom`, `DingTalk` and `WxPusher` is Chinese: the first publication,
/// the address change, and a failure explained in Chinese with the provider's words (an HTML error page
/// reduced to its text) after it.
#[tokio::test]
#[allow(clippy::too_many_lines)] // one scenario: first publication, change, failure
async fn chinese_alerts_reach_wecom_dingtalk_and_wxpusher() {
    let echo = FakeHttp::text("198.51.100.1").await;
    let provider = FakeHttp::text("ok").await;
    let sink = FakeHttp::start(|r: &Request| {
        if r.path().starts_with("/wx/") {
            Reply::ok(r#"{"code":1000,"msg":"处理成功","data":[],"success":true}"#)
                .with_header("content-type", "application/json")
        } else {
            documented(r)
        }
    })
    .await;
    let notify = format!(
        r#"
[[notify]]
name = "wecom"
kind = "wecom"
url = "{wecom}"

[[notify]]
name = "dingtalk"
kind = "dingtalk"
url = "{dingtalk}"

[[notify]]
name = "wx"
kind = "wxpusher"
app_token = "AT_wxpusherAppToken0123"
uids = ["UID_alice"]
endpoint = "{wx}"
"#,
        wecom = sink.url("/wecom/cgi-bin/webhook/send?key=wecom-robot-key"),
        dingtalk = sink.url("/dingtalk/robot/send?access_token=dingtalk-access-token"),
        wx = sink.url("/wx"),
    );
    let config = format!(
        "language = \"zh-CN\"\n{}",
        with_records(&echo, &provider, &notify)
    );
    let case = Case::new(&config);
    // What each service got (all its messages, in order), by service.
    let texts = |reqs: &[Request]| -> [String; 3] {
        let of = |prefix: &str, text: &dyn Fn(&serde_json::Value) -> Option<String>| {
            let all: Vec<String> = reqs
                .iter()
                .filter(|r| r.path().starts_with(prefix))
                .map(|r| text(&r.json()).unwrap_or_else(|| panic!("{r:?}")))
                .collect();
            assert!(!all.is_empty(), "{prefix}: {reqs:#?}");
            all.join("\n---\n")
        };
        [
            of("/wecom/", &|j| {
                j["text"]["content"].as_str().map(str::to_owned)
            }),
            of("/dingtalk/", &|j| {
                j["text"]["content"]
                    .as_str()
                    .or_else(|| j["markdown"]["text"].as_str())
                    .map(str::to_owned)
            }),
            of("/wx/", &|j| j["content"].as_str().map(str::to_owned)),
        ]
    };

    let out = case.run(&["once"]).await;
    assert_eq!(out.code, 0, "{out:?}");
    let reqs = sink.requests();
    let mut seen = reqs.len();
    for text in texts(&reqs) {
        assert!(
            text.contains("home.example.test A 首次发布")
                && text.contains("home.example.test A -> 198.51.100.1"),
            "{text}"
        );
    }

    echo.set_text("198.51.100.2");
    let out = case.run(&["once"]).await;
    assert_eq!(out.code, 0, "{out:?}");
    let reqs = sink.requests();
    let new = &reqs[seen..];
    seen = reqs.len();
    for text in texts(new) {
        assert!(
            text.contains("公网 IPv4 地址已变化")
                && text.contains("IPv4 198.51.100.1 -> 198.51.100.2")
                && text.contains("已更新：home.example.test A"),
            "{text}"
        );
    }

    // The provider answers 403 with an HTML page: told at once, in Chinese, the page reduced to its text.
    provider.set(|_| {
        Reply::status(
            403,
            "<!DOCTYPE html>\n<html><head><title>403 Forbidden</title><style>h1{color:red}</style></head>\n<body><h1>Forbidden</h1><p>Token expired</p></body></html>",
        )
    });
    echo.set_text("198.51.100.3");
    let out = case.run(&["once"]).await;
    assert_eq!(out.code, 1, "{out:?}");
    for text in texts(&sink.requests()[seen..]) {
        assert!(
            text.contains("home.example.test A：服务商拒绝了凭据")
                && text.contains("密钥或令牌被拒绝")
                && text.contains("在配置更改之前不再重试。")
                && text.contains("详情：")
                && text.contains("403 Forbidden Forbidden Token expired"),
            "{text}"
        );
        assert!(!text.contains('<') && !text.contains("color:red"), "{text}");
    }
}

/// A child process killed when dropped.
struct Child(std::process::Child);

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Whether a real server program is here; under CI its absence is a failure, elsewhere the test is skipped.
fn have(program: &str, args: &[&str]) -> bool {
    let ok = std::process::Command::new(program)
        .args(args)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        ok || std::env::var_os("CI").is_none(),
        "{program} is missing; scripts/test.sh installs it"
    );
    if !ok {
        eprintln!("skipped: {program} is not installed");
    }
    ok
}

async fn wait_for_port(port: u16) {
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("nothing listens on {port}");
}

#[tokio::test]
async fn mail_goes_through_a_real_smtp_server() {
    if !have("/usr/bin/python3", &["-c", "import aiosmtpd"]) {
        return;
    }
    let port = free_port();
    let maildir = tempfile::tempdir().unwrap();
    let _smtp = Child(
        std::process::Command::new("/usr/bin/python3")
            .args([
                "-m",
                "aiosmtpd",
                "-n",
                "-l",
                &format!("127.0.0.1:{port}"),
                "-c",
                "aiosmtpd.handlers.Mailbox",
            ])
            .arg(maildir.path().join("mail"))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap(),
    );
    wait_for_port(port).await;
    let echo = FakeHttp::text("198.51.100.21").await;
    let provider = FakeHttp::text("ok").await;
    let notify = format!(
        r#"
[[notify]]
name = "mail"
kind = "email"
server = "smtp://127.0.0.1:{port}"
from = "ddns-tray <ddns@example.test>"
to = ["ops@example.test", "me@example.test"]
events = ["change"]
"#
    );
    let case = Case::new(&with_records(&echo, &provider, &notify));
    let out = case.run(&["notify", "test", "mail"]).await;
    assert_eq!(out.code, 0, "{out:?}");
    assert!(
        out.stdout
            .starts_with("mail (email): sent; the service answered 250"),
        "{out:?}"
    );
    assert_eq!(case.run(&["once"]).await.code, 0);
    echo.set_text("198.51.100.22");
    let out = case.run(&["once"]).await;
    assert_eq!(out.code, 0, "{out:?}");
    // Three messages in the maildir: the test, the record's first publication, the change.
    let mails: Vec<String> = std::fs::read_dir(maildir.path().join("mail/new"))
        .unwrap()
        .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
        .collect();
    assert_eq!(mails.len(), 3, "{mails:#?}");
    assert!(
        mails
            .iter()
            .any(|m| m
                .contains("Subject: ddns-tray: home.example.test A published for the first time")),
        "{mails:#?}"
    );
    let change = mails
        .iter()
        .find(|m| m.contains("address changed"))
        .unwrap_or_else(|| panic!("{mails:#?}"));
    assert!(
        change.contains("Subject: ddns-tray: Public IPv4 address changed"),
        "{change}"
    );
    assert!(
        change.contains("From: ddns-tray <ddns@example.test>"),
        "{change}"
    );
    assert!(
        change.contains("To: ops@example.test, me@example.test"),
        "{change}"
    );
    assert!(
        change.contains("IPv4 198.51.100.21 -> 198.51.100.22"),
        "{change}"
    );
    assert!(change.contains("Updated: home.example.test A"), "{change}");
    assert!(
        mails
            .iter()
            .any(|m| m.contains("Subject: ddns-tray: Test message from ddns-tray")),
        "{mails:#?}"
    );
}

#[tokio::test]
#[allow(clippy::too_many_lines)] // one scenario: daemon, endpoint, Prometheus, failure
async fn prometheus_scrapes_the_metrics_and_health_tells_why() {
    if !have("prometheus", &["--version"]) {
        return;
    }
    let echo = FakeHttp::text("198.51.100.31").await;
    let provider = FakeHttp::text("ok").await;
    let metrics_port = free_port();
    let metrics = format!(
        r#"
[metrics]
listen = "127.0.0.1:{metrics_port}"
token = "metrics-bearer-token"
"#
    );
    let case = Case::new(&with_records(&echo, &provider, &metrics));
    let _daemon = Child(
        case.command(&["run"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap(),
    );
    wait_for_port(metrics_port).await;
    let client = ddns_tray::http::api_client();
    let get = |path: &str, token: Option<&str>| {
        let mut r = client.get(format!("http://127.0.0.1:{metrics_port}{path}"));
        if let Some(t) = token {
            r = r.bearer_auth(t);
        }
        r.send()
    };
    assert_eq!(get("/metrics", None).await.unwrap().status(), 401);
    assert_eq!(get("/metrics", Some("wrong")).await.unwrap().status(), 401);
    // Healthy once the record is published.
    let mut health = (0, String::new());
    for _ in 0..100 {
        let r = get("/health", Some("metrics-bearer-token")).await.unwrap();
        health = (r.status().as_u16(), r.text().await.unwrap());
        if health.0 == 200 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(health, (200, "ok\n".to_owned()));
    let status: serde_json::Value = get("/status", Some("metrics-bearer-token"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(status["ipv4"], "198.51.100.31");
    assert_eq!(status["records"][0]["phase"], "ok");

    // A real Prometheus scraping every second.
    let prom_port = free_port();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("prometheus.yml"),
        format!(
            "global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: ddns-tray\n    authorization:\n      credentials: metrics-bearer-token\n    static_configs:\n      - targets: ['127.0.0.1:{metrics_port}']\n"
        ),
    )
    .unwrap();
    let _prometheus = Child(
        std::process::Command::new("prometheus")
            .arg(format!(
                "--config.file={}",
                dir.path().join("prometheus.yml").display()
            ))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.path().join("data").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{prom_port}"))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap(),
    );
    let query = |q: &str| {
        client
            .get(format!("http://127.0.0.1:{prom_port}/api/v1/query"))
            .query(&[("query", q)])
            .send()
    };
    let mut result = serde_json::Value::Null;
    for _ in 0..200 {
        if let Ok(r) =
            query(r#"ddns_tray_record_state{record="home.example.test",type="A",state="ok"}"#).await
            && let Ok(v) = r.json::<serde_json::Value>().await
            && v["data"]["result"]
                .as_array()
                .is_some_and(|a| !a.is_empty())
        {
            result = v;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(result["data"]["result"][0]["value"][1], "1", "{result}");
    assert_eq!(
        result["data"]["result"][0]["metric"]["provider"], "hook",
        "{result}"
    );
    let up: serde_json::Value = query(r#"up{job="ddns-tray"}"#)
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(up["data"]["result"][0]["value"][1], "1", "{up}");
    let addr: serde_json::Value = query("ddns_tray_address_info")
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        addr["data"]["result"][0]["metric"]["address"], "198.51.100.31",
        "{addr}"
    );
    let updates: serde_json::Value = query("ddns_tray_updates_total")
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(updates["data"]["result"][0]["value"][1], "1", "{updates}");
    let latency: serde_json::Value = query("ddns_tray_provider_duration_seconds_count")
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        latency["data"]["result"][0]["metric"]["provider"], "hook",
        "{latency}"
    );

    // The provider breaks: health says which record and why.
    provider.set(|_| Reply::status(403, "forbidden"));
    echo.set_text("198.51.100.32");
    let _ = case
        .run(&[
            "ctl",
            "update",
            "--endpoint",
            case.data_dir().join("control.sock").to_str().unwrap(),
        ])
        .await;
    for _ in 0..100 {
        let r = get("/health", Some("metrics-bearer-token")).await.unwrap();
        health = (r.status().as_u16(), r.text().await.unwrap());
        if health.0 == 503 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(health.0, 503, "{health:?}");
    assert!(health.1.starts_with("home.example.test A: "), "{health:?}");
    assert!(health.1.contains("403"), "{health:?}");
}

#[test]
fn the_grafana_dashboard_queries_only_exported_metrics() {
    fn walk(v: &serde_json::Value, out: &mut Vec<String>) {
        match v {
            serde_json::Value::Object(o) => {
                if let Some(serde_json::Value::String(e)) = o.get("expr") {
                    out.push(e.clone());
                }
                o.values().for_each(|x| walk(x, out));
            }
            serde_json::Value::Array(a) => a.iter().for_each(|x| walk(x, out)),
            _ => {}
        }
    }
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/assets/grafana/ddns-tray.json"
    ))
    .unwrap();
    let dashboard: serde_json::Value = serde_json::from_str(&text).unwrap();
    let mut exprs = Vec::new();
    walk(&dashboard, &mut exprs);
    assert!(exprs.len() >= 6, "{exprs:?}");
    let mut used = std::collections::BTreeSet::new();
    for e in &exprs {
        let mut rest = e.as_str();
        while let Some(i) = rest.find("ddns_tray_") {
            let name: String = rest[i..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            rest = &rest[i + name.len()..];
            used.insert(name);
        }
    }
    for name in &used {
        let base = ["_bucket", "_sum", "_count"]
            .iter()
            .fold(name.as_str(), |n, s| n.strip_suffix(s).unwrap_or(n));
        assert!(
            ddns_tray::metrics::NAMES.contains(&base),
            "the dashboard uses {name}, which is not exported"
        );
    }
    for name in [
        "ddns_tray_address_info",
        "ddns_tray_record_state",
        "ddns_tray_updates_total",
        "ddns_tray_failures_total",
    ] {
        assert!(used.contains(name), "the dashboard shows no {name}");
    }
}

#[cfg(unix)]
#[tokio::test]
async fn a_reload_moves_the_metrics_endpoint() {
    let echo = FakeHttp::text("198.51.100.41").await;
    let provider = FakeHttp::text("ok").await;
    let (first, second) = (free_port(), free_port());
    let with_port = |port: u16| {
        with_records(
            &echo,
            &provider,
            &format!("[metrics]\nlisten = \"127.0.0.1:{port}\"\n"),
        )
    };
    let case = Case::new(&with_port(first));
    let daemon = Child(
        case.command(&["run"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap(),
    );
    wait_for_port(first).await;
    case.write_config(&with_port(second));
    let hup = std::process::Command::new("kill")
        .args(["-HUP", &daemon.0.id().to_string()])
        .status()
        .unwrap();
    assert!(hup.success());
    wait_for_port(second).await;
    let client = ddns_tray::http::api_client();
    let text = client
        .get(format!("http://127.0.0.1:{second}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        text.contains("ddns_tray_updates_total"),
        "the counters carried on: {text}"
    );
    assert!(
        tokio::net::TcpStream::connect(("127.0.0.1", first))
            .await
            .is_err(),
        "the old port is closed"
    );
}

/// Regression: a webhook URL path (`…/wh/SECRET…`), a healthchecks ping URL and an Uptime Kuma push token
/// were printed when the service echoed the request: in `notify test`, `once`'s stderr, `run`'s stderr and
/// the log file (which was 0644). Every token is masked everywhere, and the log file is owner-only.
#[cfg(unix)]
#[tokio::test]
async fn notifier_secrets_are_masked_when_the_service_echoes_the_request() {
    use std::os::unix::fs::PermissionsExt as _;
    let echo_back = |r: &Request| {
        Reply::status(
            500,
            format!("you sent {} {} {}", r.method, r.target, r.body),
        )
    };
    let services = FakeHttp::start(echo_back).await;
    let provider = FakeHttp::start(echo_back).await;
    let ip = FakeHttp::text("198.51.100.80").await;
    let secrets = ["SECRETwh1", "SECREThc2", "SECRETku3"];
    let config = format!(
        "[detect]\nipv4 = [ {{ kind = \"http\", url = \"{ip}\", allow_private = true }} ]\n\
         [[provider]]\nname = \"hook\"\nkind = \"webhook\"\nurl = \"{provider}\"\n\
         [[record]]\nname = \"home.example.test\"\nprovider = \"hook\"\n\
         [[notify]]\nname = \"wh\"\nkind = \"webhook\"\nurl = \"{wh}\"\nevents = [\"change\", \"failure\"]\n\
         [[notify]]\nname = \"hc\"\nkind = \"healthchecks\"\nurl = \"{hc}\"\n\
         [[notify]]\nname = \"kuma\"\nkind = \"uptime-kuma\"\nurl = \"{kuma}\"\n",
        ip = ip.url("/"),
        provider = provider.url("/u?ip={ip}"),
        wh = services.url("/wh/SECRETwh1"),
        hc = services.url("/ping/SECREThc2"),
        kuma = services.url("/api/push/SECRETku3"),
    );
    let case = Case::new(&config);
    let test = case.run(&["notify", "test"]).await;
    let once = case.run(&["once"]).await;
    assert!(!services.requests().is_empty(), "{test:?} {once:?}");
    let mut child = case
        .command(&["run"])
        .env("RUST_LOG", "ddns_tray=debug")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let before = services.requests().len();
    let start = std::time::Instant::now();
    while services.requests().len() < before + 2 && start.elapsed() < Duration::from_secs(20) {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    crate::faults::signal(&child, "TERM");
    let run = tokio::task::spawn_blocking(move || {
        let mut out = String::new();
        std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut out).unwrap();
        std::io::Read::read_to_string(child.stdout.as_mut().unwrap(), &mut out).unwrap();
        let _ = child.wait();
        out
    })
    .await
    .unwrap();
    let logs = crate::support::all_text_under(&case.data_dir().join("logs"));
    assert!(
        test.stdout.contains("you sent"),
        "the echo is shown: {test:?}"
    );
    assert!(
        logs.contains("you sent"),
        "the echo reached the log: {logs}"
    );
    for s in secrets {
        for (what, text) in [
            ("notify test", format!("{}{}", test.stdout, test.stderr)),
            ("once", format!("{}{}", once.stdout, once.stderr)),
            ("run", run.clone()),
            ("log file", logs.clone()),
        ] {
            assert!(!text.contains(s), "{s} in {what}: {text}");
        }
    }
    for e in std::fs::read_dir(case.data_dir().join("logs")).unwrap() {
        let mode = e.unwrap().metadata().unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0, "log files are owner-only: {mode:o}");
    }
}
#[cfg(target_os = "linux")]
mod command;
mod googlechat;
mod matrix;
mod mattermost;
mod pushdeer;
mod pushover;
mod rocketchat;
mod teams;
mod wecom_app;
mod wxpusher;
mod zulip;
