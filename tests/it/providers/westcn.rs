//! West.cn 西部数码 against a fake written from the request and answer shapes in `docs/providers/westcn.md`
//! (NewFuture/DDNS, West.cn's own acme.sh plugin, dnsmgr): form posts to `/API/v2/domain/dns/` with `act`,
//! `username` + `apikey` (MD5 of the API password) or `apidomainkey`, `{"code":200,"msg":…,"body":…}`,
//! `code` 404 for an unknown domain, paged `dnsrec.list`, `record_line` empty for the default line, and
//! answers in GBK as well as UTF-8.

use std::collections::BTreeMap;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::*;

/// md5("5dh232kfg!*"), computed with `md5sum`.
const APIKEY: &str = "8861c769ce1fa2c88590f3ee3fd1bc2c";

fn cfg(endpoint: &str) -> String {
    format!(
        "kind = \"westcn\"\nusername = \"zhangsan\"\napi_password = \"5dh232kfg!*\"\nendpoint = \"{endpoint}\""
    )
}

fn cfg_secret(endpoint: &str) -> String {
    format!(
        "kind = \"westcn\"\nusername = \"zhangsan\"\napi_password = \"west-s3cret\"\nendpoint = \"{endpoint}\""
    )
}

fn form(r: &Request) -> BTreeMap<String, String> {
    Request {
        target: format!("/?{}", r.body),
        ..r.clone()
    }
    .query()
}

fn ok(body: &Value) -> Reply {
    json_reply(&json!({ "code": 200, "msg": "success", "body": body }))
}

fn record(id: u64, host: &str, rtype: &str, value: &str, line: &str) -> Value {
    json!({ "record_id": id, "hostname": host, "record_type": rtype, "record_value": value,
            "record_ttl": 900, "record_line": line, "record_mx": 10, "pause": 0 })
}

/// The hand-made records that must survive: an AAAA, a TXT and a CNAME-free LTEL A at the name.
fn hand_made() -> Vec<Value> {
    vec![
        record(501, "home", "AAAA", "2001:db8::1", ""),
        record(502, "home", "TXT", "v=spf1 -all", ""),
        record(503, "home", "A", "203.0.113.1", "LTEL"),
    ]
}

/// The account has example.com only. `dnsrec.list` filters by hostname (as the doc's clients rely on) and
/// pages by `pageno`/`limit`; 103 hand-made records at `many` make a second page.
async fn fake(records: Vec<Value>) -> FakeHttp {
    FakeHttp::start(move |r| {
        if r.method != "POST" || r.path() != "/API/v2/domain/dns/" {
            return Reply::status(404, "not found");
        }
        let f = form(r);
        if f.get("username").map(String::as_str) != Some("zhangsan")
            || f.get("apikey").map(String::as_str) != Some(APIKEY)
        {
            return json_reply(
                &json!({ "code": 500, "msg": "Authentication failed: apikey error" }),
            );
        }
        if f.get("domain").map(String::as_str) != Some("example.com") {
            return json_reply(&json!({ "code": 404, "msg": "domain not found" }));
        }
        match f["act"].as_str() {
            "dnsrec.list" => {
                let mut all: Vec<Value> = (0..103)
                    .map(|i| record(800 + i, "many", "A", &format!("192.0.2.{i}"), ""))
                    .collect();
                all.extend(records.iter().cloned());
                all.retain(|v| v["hostname"] == f["hostname"]);
                let page: usize = f["pageno"].parse().unwrap();
                let limit: usize = f["limit"].parse().unwrap();
                let items: Vec<Value> = all
                    .iter()
                    .skip((page - 1) * limit)
                    .take(limit)
                    .cloned()
                    .collect();
                if all.is_empty() {
                    return json_reply(&json!({ "code": 500, "msg": "no records" }));
                }
                ok(&json!({ "items": items, "total": all.len() }))
            }
            "dnsrec.add" => ok(&json!({ "record_id": 118_610_345 })),
            "dnsrec.modify" => ok(&json!({ "success": [f["record_id"]] })),
            "dnsrec.remove" => ok(&json!({})),
            _ => json_reply(&json!({ "code": 500, "msg": "unknown act" })),
        }
    })
    .await
}

/// The writes, as `act key=value…` of their form (credentials left out).
fn write_log(f: &FakeHttp) -> Vec<String> {
    f.requests()
        .iter()
        .map(form)
        .filter(|f| f["act"] != "dnsrec.list")
        .map(|f| {
            f.iter()
                .filter(|(k, _)| !matches!(k.as_str(), "username" | "apikey"))
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect()
}

#[tokio::test]
async fn create_probes_the_zone_with_md5_key() {
    let f = fake(hand_made()).await;
    let out = update(
        &build(&cfg(&f.url("/API/v2/domain/dns/"))),
        "home.sub.example.com",
        RecordType::A,
        "198.51.100.7",
        None,
    )
    .await
    .unwrap();
    assert_eq!(
        out,
        UpdateOutcome::Updated {
            record_id: Some("118610345".into())
        }
    );
    let reqs = f.requests();
    assert!(
        reqs.iter()
            .all(|r| r.headers["content-type"] == "application/x-www-form-urlencoded"),
        "{reqs:#?}"
    );
    let probes: Vec<String> = reqs
        .iter()
        .map(form)
        .filter(|f| f["act"] == "dnsrec.list")
        .map(|f| {
            format!(
                "{} {} {} {}",
                f["domain"], f["hostname"], f["pageno"], f["limit"]
            )
        })
        .collect();
    assert_eq!(
        probes,
        [
            "home.sub.example.com @ 1 100",
            "sub.example.com home 1 100",
            "example.com home.sub 1 100",
        ]
    );
    let create = form(reqs.last().unwrap());
    assert_eq!(
        create,
        BTreeMap::from(
            [
                ("act", "dnsrec.add"),
                ("username", "zhangsan"),
                ("apikey", APIKEY),
                ("domain", "example.com"),
                ("hostname", "home.sub"),
                ("record_type", "A"),
                ("record_value", "198.51.100.7"),
                ("record_ttl", "900"),
                ("record_line", ""),
            ]
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
        )
    );
}

#[tokio::test]
async fn update_unchanged_lines_and_pages() {
    let mut records = hand_made();
    records.push(record(601, "home", "A", "198.51.100.6", ""));
    records.push(record(602, "home", "A", "198.51.100.5", ""));
    let f = fake(records.clone()).await;
    update(
        &build(&cfg(&f.url("/API/v2/domain/dns/"))),
        "home.example.com",
        RecordType::A,
        "198.51.100.7",
        Some(600),
    )
    .await
    .unwrap();
    assert_eq!(
        write_log(&f),
        [
            "act=dnsrec.modify domain=example.com record_id=601 record_line= record_ttl=600 record_type=A record_value=198.51.100.7",
            "act=dnsrec.remove domain=example.com record_id=602",
        ]
    );

    // The LTEL record, by the record's line; the default-line ones are left alone.
    let f = fake(records.clone()).await;
    update_with(
        &build(&cfg(&f.url("/API/v2/domain/dns/"))),
        "home.example.com",
        RecordType::A,
        &["203.0.113.9"],
        Some("LTEL"),
        None,
    )
    .await
    .unwrap();
    assert_eq!(
        write_log(&f),
        [
            "act=dnsrec.modify domain=example.com record_id=503 record_line=LTEL record_ttl=900 record_type=A record_value=203.0.113.9"
        ]
    );

    // A line without a record: created on it.
    let f = fake(records).await;
    update_with(
        &build(&format!(
            "{}\nline = \"LCNC\"",
            cfg(&f.url("/API/v2/domain/dns/"))
        )),
        "home.example.com",
        RecordType::A,
        &["203.0.113.10"],
        None,
        None,
    )
    .await
    .unwrap();
    assert_eq!(
        write_log(&f),
        [
            "act=dnsrec.add domain=example.com hostname=home record_line=LCNC record_ttl=900 record_type=A record_value=203.0.113.10"
        ]
    );

    // 103 records at `many`: two pages; the one holding the address is found on the second.
    let f = fake(vec![]).await;
    let out = update(
        &build(&cfg(&f.url("/API/v2/domain/dns/"))),
        "many.example.com",
        RecordType::A,
        "192.0.2.102",
        None,
    )
    .await;
    // Every other record on the line is a duplicate: with delete_duplicates (the default) they go.
    out.unwrap();
    let pages: Vec<String> = f
        .requests()
        .iter()
        .map(form)
        .filter(|f| f["act"] == "dnsrec.list" && f["domain"] == "example.com")
        .map(|f| f["pageno"].clone())
        .collect();
    assert_eq!(pages, ["1", "2"]);
    let log = write_log(&f);
    assert_eq!(log.len(), 102, "{log:?}");
    assert!(log.iter().all(|w| w.starts_with("act=dnsrec.remove")));
    assert!(!log.iter().any(|w| w.ends_with("record_id=902")));

    // Unchanged: nothing written.
    let mut records = hand_made();
    records.push(record(601, "home", "A", "198.51.100.7", ""));
    let f = fake(records).await;
    assert_eq!(
        update(
            &build(&cfg(&f.url("/API/v2/domain/dns/"))),
            "home.example.com",
            RecordType::A,
            "198.51.100.7",
            None,
        )
        .await
        .unwrap(),
        UpdateOutcome::Unchanged {
            record_id: Some("601".into())
        }
    );
    assert!(write_log(&f).is_empty());
}

#[tokio::test]
async fn domain_key_and_empty_listing() {
    let f = FakeHttp::start(|r| {
        let f = form(r);
        assert_eq!(f["apidomainkey"], "d0ma1nkey");
        assert!(!f.contains_key("username") && !f.contains_key("apikey"));
        match f["act"].as_str() {
            "dnsrec.list" => json_reply(&json!({ "code": 500, "msg": "no records" })),
            "dnsrec.add" => ok(&json!({ "record_id": 7 })),
            _ => Reply::status(400, "?"),
        }
    })
    .await;
    let cfg = format!(
        "kind = \"westcn\"\ndomain_key = \"d0ma1nkey\"\nzone = \"example.com\"\nendpoint = \"{}\"",
        f.url("/API/v2/domain/dns/")
    );
    update(
        &build(&cfg),
        "home.example.com",
        RecordType::Aaaa,
        "2001:db8::7",
        None,
    )
    .await
    .unwrap();
    assert_eq!(
        f.requests()
            .iter()
            .map(|r| form(r)["act"].clone())
            .collect::<Vec<_>>(),
        ["dnsrec.list", "dnsrec.add"]
    );
}

/// One raw answer with these bytes and this content type, for every request.
async fn raw_server(content_type: &'static str, body: &'static [u8]) -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buf = vec![0u8; 65536];
                let mut seen = Vec::new();
                loop {
                    let n = s.read(&mut buf).await.unwrap_or(0);
                    if n == 0 {
                        return;
                    }
                    seen.extend_from_slice(&buf[..n]);
                    if let Some(i) = seen.windows(4).position(|w| w == b"\r\n\r\n") {
                        let head = String::from_utf8_lossy(&seen[..i]).to_ascii_lowercase();
                        let len: usize = head
                            .lines()
                            .find_map(|l| l.strip_prefix("content-length:"))
                            .and_then(|v| v.trim().parse().ok())
                            .unwrap_or(0);
                        if seen.len() >= i + 4 + len {
                            break;
                        }
                    }
                }
                let mut out = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                    body.len()
                )
                .into_bytes();
                out.extend_from_slice(body);
                let _ = s.write_all(&out).await;
                let _ = s.shutdown().await;
            });
        }
    });
    port
}

#[tokio::test]
async fn gbk_and_utf8_answers() {
    // A listing in GBK (Charset=gb2312, as lego's test server answers) with a Chinese message: read.
    let listing: &[u8] = b"{\"code\":200,\"msg\":\"\xB3\xC9\xB9\xA6\",\"body\":{\"items\":[{\"record_id\":9,\"hostname\":\"home\",\"record_type\":\"A\",\"record_value\":\"198.51.100.7\",\"record_ttl\":900,\"record_line\":\"\"}],\"total\":1}}";
    let port = raw_server("application/json; Charset=gb2312", listing).await;
    let cfg = format!(
        "kind = \"westcn\"\nusername = \"zhangsan\"\napi_password = \"west-password-1\"\nzone = \"example.com\"\nendpoint = \"http://127.0.0.1:{port}/API/v2/domain/dns/\""
    );
    assert_eq!(
        update(
            &build(&cfg),
            "home.example.com",
            RecordType::A,
            "198.51.100.7",
            None
        )
        .await
        .unwrap(),
        UpdateOutcome::Unchanged {
            record_id: Some("9".into())
        }
    );
    // GBK without a charset (`认证失败`, authentication failed): still read, and an auth error.
    let refused: &[u8] = b"{\"code\":500,\"msg\":\"\xC8\xCF\xD6\xA4\xCA\xA7\xB0\xDC\"}";
    let port = raw_server("application/json", refused).await;
    let cfg_at = |port: u16| {
        format!(
            "kind = \"westcn\"\nusername = \"zhangsan\"\napi_password = \"west-password-1\"\nzone = \"example.com\"\nendpoint = \"http://127.0.0.1:{port}/API/v2/domain/dns/\""
        )
    };
    let err = update(
        &build(&cfg_at(port)),
        "home.example.com",
        RecordType::A,
        "198.51.100.7",
        None,
    )
    .await
    .unwrap_err();
    assert_eq!(err.class, ErrorClass::Auth, "{err:?}");
    // The same in UTF-8.
    let port = raw_server(
        "application/json; charset=utf-8",
        "{\"code\":500,\"msg\":\"认证失败\"}".as_bytes(),
    )
    .await;
    let err = update(
        &build(&cfg_at(port)),
        "home.example.com",
        RecordType::A,
        "198.51.100.7",
        None,
    )
    .await
    .unwrap_err();
    assert_eq!(err.class, ErrorClass::Auth, "{err:?}");
    assert!(err.message.contains("认证失败"), "{err:?}");
}

#[tokio::test]
async fn failures() {
    common_failures(
        cfg_secret,
        json_reply(&json!({ "code": 500, "msg": "Authentication failed" })),
        "home.example.com",
    )
    .await;
    // An unknown domain: rejected once every suffix answered 404.
    let f = fake(vec![]).await;
    let err = update(
        &build(&cfg(&f.url("/API/v2/domain/dns/"))),
        "home.example.org",
        RecordType::A,
        "198.51.100.1",
        None,
    )
    .await
    .unwrap_err();
    assert_eq!(err.class, ErrorClass::Rejected, "{err:?}");
    // A refused write: rejected, quoting the message.
    let f = FakeHttp::start(|r| match form(r)["act"].as_str() {
        "dnsrec.list" => ok(&json!({ "items": [], "total": 0 })),
        _ => json_reply(&json!({ "code": 500, "msg": "记录值格式错误" })),
    })
    .await;
    let err = update(
        &build(&format!(
            "{}\nzone = \"example.com\"",
            cfg(&f.url("/API/v2/domain/dns/"))
        )),
        "home.example.com",
        RecordType::A,
        "198.51.100.1",
        None,
    )
    .await
    .unwrap_err();
    assert_eq!(err.class, ErrorClass::Rejected, "{err:?}");
    assert!(err.message.contains("记录值格式错误"), "{err:?}");
}

#[test]
fn credentials_are_checked_at_load() {
    for (fields, field) in [
        ("username = \"zhangsan\"", "api_password"),
        ("api_password = \"west-password-1\"", "username"),
        ("domain_key = \"d0ma1nkey-value\"", "zone"),
        (
            "username = \"zhangsan\"\napi_password = \"west-password-1\"\ndomain_key = \"d0ma1nkey-value\"",
            "domain_key",
        ),
        ("", "domain_key"),
    ] {
        let text = format!("[[provider]]\nname = \"p\"\nkind = \"westcn\"\n{fields}\n");
        let issues = load_str(&text, &|_: &str| None).err().unwrap_or_default();
        assert!(
            issues
                .iter()
                .any(|i| i.path.ends_with(&format!(".{field}"))),
            "{fields}: {issues:#?}"
        );
    }
}
