//! Cloud providers against loopback fakes written from the documented request and response shapes
//! (`docs/providers/`, and the project's reference notes on the older kinds). Each asserts the exact requests for create, update and unchanged, and
//! the error class for auth failure, rate limiting, a truncated or unexpected body, and several records
//! matching one name.

use std::net::IpAddr;
use std::sync::Arc;

use ddns_tray::config::RecordType;
use ddns_tray::provider::{
    self, ErrorClass, Provider, ProviderError, UpdateOutcome, UpdateRequest,
};
use ddns_tray::settings::load_str;
use serde_json::{Value, json};

use crate::support::{FakeHttp, Reply, Request};

/// Builds the provider from its `[[provider]]` body (without `name`), pointing `endpoint` at the fake.
fn build(kind_toml: &str) -> Arc<dyn Provider> {
    let text = format!("[[provider]]\nname = \"p\"\n{kind_toml}\n");
    let (_, settings) =
        load_str(&text, &|_: &str| None).unwrap_or_else(|issues| panic!("{issues:#?}"));
    provider::build(&settings.providers[0])
}

async fn update(
    p: &Arc<dyn Provider>,
    name: &str,
    rtype: RecordType,
    ip: &str,
    ttl: Option<u32>,
) -> Result<UpdateOutcome, ProviderError> {
    let ip: IpAddr = ip.parse().unwrap();
    p.update(&UpdateRequest {
        name,
        record_type: rtype,
        addrs: &[ip],
        ttl,
        line: None,
        record_id: None,
        previous: None,
    })
    .await
}

/// An update with several addresses and the address published before.
async fn update_with(
    p: &Arc<dyn Provider>,
    name: &str,
    rtype: RecordType,
    ips: &[&str],
    line: Option<&str>,
    previous: Option<&str>,
) -> Result<UpdateOutcome, ProviderError> {
    let addrs: Vec<IpAddr> = ips.iter().map(|i| i.parse().unwrap()).collect();
    p.update(&UpdateRequest {
        name,
        record_type: rtype,
        addrs: &addrs,
        ttl: None,
        line,
        record_id: None,
        previous: previous.map(|p| p.parse().unwrap()),
    })
    .await
}

fn writes(fake: &FakeHttp) -> Vec<Request> {
    fake.requests()
        .into_iter()
        .filter(|r| r.method != "GET")
        .collect()
}

fn json_reply(v: &Value) -> Reply {
    Reply::ok(v.to_string())
}

/// The checks every provider gets: auth failure, rate limit with Retry-After, truncated answer, garbage.
async fn common_failures(kind_toml: impl Fn(&str) -> String, auth: Reply, name: &str) {
    type Check = fn(&ErrorClass) -> bool;
    let cases: Vec<(&str, Reply, Check)> = vec![
        ("auth", auth, |c| *c == ErrorClass::Auth),
        (
            "rate limit",
            Reply::status(429, "{}").with_header("Retry-After", "42"),
            |c| {
                *c == ErrorClass::RateLimited {
                    retry_after: Some(42),
                }
            },
        ),
        (
            "truncated",
            Reply::Truncated {
                body: "{\"resu".into(),
            },
            |c| *c == ErrorClass::Transient,
        ),
        (
            "server error",
            Reply::status(503, "<html>maintenance</html>"),
            |c| *c == ErrorClass::Transient,
        ),
        (
            "garbage with 200",
            Reply::ok("<html><body>Welcome to the captive portal</body></html>"),
            |c| *c == ErrorClass::Transient,
        ),
    ];
    for (case, reply, want) in cases {
        let fake = FakeHttp::start(move |_| reply.clone()).await;
        let p = build(&kind_toml(&fake.url("")));
        let err = update(&p, name, RecordType::A, "198.51.100.1", None)
            .await
            .expect_err(case);
        assert!(want(&err.class), "{case}: {err:?}");
        assert!(
            !err.message.contains("s3cret"),
            "{case}: secret in message: {err:?}"
        );
    }
}

mod cloudflare {
    use super::*;

    fn cfg(endpoint: &str) -> String {
        format!("kind = \"cloudflare\"\ntoken = \"cf-s3cret-token\"\nendpoint = \"{endpoint}\"")
    }

    fn envelope(result: &Value) -> Reply {
        json_reply(&json!({ "success": true, "errors": [], "messages": [], "result": result }))
    }

    /// A Cloudflare with zone `example.com` (id z1) and the given records.
    async fn fake(records: Value) -> FakeHttp {
        FakeHttp::start(move |r| match (r.method.as_str(), r.path()) {
            // The token sees two zones: example.com and a delegated sub.example.com.
            ("GET", "/zones") => json_reply(&json!({ "success": true, "errors": [], "result": [
                { "id": "z1", "name": "example.com", "status": "active" },
                { "id": "z2", "name": "sub.example.com", "status": "active" },
            ], "result_info": { "page": 1, "per_page": 50, "total_pages": 1 } })),
            ("GET", "/zones/z1/dns_records") => envelope(&records),
            ("GET", "/zones/z2/dns_records") => envelope(&json!([])),
            ("POST", _) => envelope(&json!({ "id": "new1", "name": "home.example.com", "type": "A", "content": r.json()["content"] })),
            ("PATCH", p) => envelope(&json!({ "id": p.rsplit('/').next().unwrap(), "name": "home.example.com", "type": "A", "content": r.json()["content"] })),
            ("DELETE", p) => envelope(&json!({ "id": p.rsplit('/').next().unwrap() })),
            _ => Reply::status(404, "{}"),
        })
        .await
    }

    #[tokio::test]
    async fn create_then_update_then_unchanged() {
        let f = fake(json!([])).await;
        let p = build(&cfg(&f.url("")));
        let out = update(&p, "home.example.com", RecordType::A, "198.51.100.7", None)
            .await
            .unwrap();
        assert_eq!(
            out,
            UpdateOutcome::Updated {
                record_id: Some("new1".into())
            }
        );
        let reqs = f.requests();
        let zones: Vec<&str> = reqs
            .iter()
            .filter(|r| r.path() == "/zones")
            .map(|r| r.target.as_str())
            .collect();
        assert_eq!(
            zones,
            ["/zones?per_page=50&page=1"],
            "the zones are listed once; the longest holding the name is used"
        );
        let list = reqs
            .iter()
            .find(|r| r.path() == "/zones/z1/dns_records" && r.method == "GET")
            .unwrap();
        assert_eq!(
            (list.query()["type"].as_str(), list.query()["name"].as_str()),
            ("A", "home.example.com")
        );
        assert_eq!(list.headers["authorization"], "Bearer cf-s3cret-token");
        let post = reqs.iter().find(|r| r.method == "POST").unwrap();
        assert_eq!(post.path(), "/zones/z1/dns_records");
        assert_eq!(
            post.json(),
            json!({ "type": "A", "name": "home.example.com", "content": "198.51.100.7", "ttl": 1, "proxied": false })
        );

        let f = fake(json!([{ "id": "r1", "name": "home.example.com", "type": "A", "content": "198.51.100.6", "proxied": true, "ttl": 1, "comment": "mine" }])).await;
        let p = build(&cfg(&f.url("")));
        let out = update(&p, "home.example.com", RecordType::A, "198.51.100.7", None)
            .await
            .unwrap();
        assert_eq!(
            out,
            UpdateOutcome::Updated {
                record_id: Some("r1".into())
            }
        );
        let w = writes(&f);
        assert_eq!(w.len(), 1);
        assert_eq!(
            (w[0].method.as_str(), w[0].path()),
            ("PATCH", "/zones/z1/dns_records/r1")
        );
        assert_eq!(
            w[0].json(),
            json!({ "content": "198.51.100.7" }),
            "proxied and comment are kept"
        );

        let f = fake(json!([{ "id": "r1", "name": "home.example.com", "type": "A", "content": "198.51.100.7", "proxied": false }])).await;
        let p = build(&cfg(&f.url("")));
        assert_eq!(
            update(&p, "home.example.com", RecordType::A, "198.51.100.7", None)
                .await
                .unwrap(),
            UpdateOutcome::Unchanged {
                record_id: Some("r1".into())
            }
        );
        assert!(writes(&f).is_empty());
    }

    #[tokio::test]
    async fn configured_proxied_comment_and_zone_id() {
        let f = fake(json!([{ "id": "r1", "name": "home.example.com", "type": "A", "content": "198.51.100.7", "proxied": false }])).await;
        let p = build(&format!(
            "{}\nzone_id = \"0123456789abcdef0123456789abcdef\"\nproxied = true\ncomment = \"ddns\"",
            cfg(&f.url(""))
        ));
        let _ = update(
            &p,
            "home.example.com",
            RecordType::A,
            "198.51.100.7",
            Some(120),
        )
        .await;
        let reqs = f.requests();
        assert!(
            reqs.iter().all(|r| r.path() != "/zones"),
            "no zone lookup with zone_id"
        );
        assert_eq!(
            reqs[0].path(),
            "/zones/0123456789abcdef0123456789abcdef/dns_records"
        );
    }

    #[tokio::test]
    async fn several_records_keep_one_and_delete_the_rest_and_substring_matches_are_ignored() {
        let f = fake(json!([
            { "id": "r1", "name": "home.example.com", "type": "A", "content": "198.51.100.1" },
            { "id": "r2", "name": "home.example.com", "type": "A", "content": "198.51.100.2" },
            { "id": "r3", "name": "myhome.example.com", "type": "A", "content": "198.51.100.3" },
            { "id": "r4", "name": "home.example.com", "type": "AAAA", "content": "2001:db8::1" },
        ]))
        .await;
        let p = build(&cfg(&f.url("")));
        update(&p, "home.example.com", RecordType::A, "198.51.100.7", None)
            .await
            .unwrap();
        let w: Vec<(String, String)> = writes(&f)
            .into_iter()
            .map(|r| (r.method.clone(), r.path().to_owned()))
            .collect();
        assert_eq!(
            w,
            [
                ("PATCH".into(), "/zones/z1/dns_records/r1".into()),
                ("DELETE".into(), "/zones/z1/dns_records/r2".into()),
            ],
            "the update comes first, so the name never resolves to nothing"
        );
    }

    /// Round robin: with `delete_duplicates = false` one record (ours: the one holding the address published
    /// before) is updated and the others stay.
    #[tokio::test]
    async fn round_robin_opt_out_keeps_the_other_records() {
        let f = fake(json!([
            { "id": "peer", "name": "home.example.com", "type": "A", "content": "192.0.2.50" },
            { "id": "ours", "name": "home.example.com", "type": "A", "content": "198.51.100.1" },
        ]))
        .await;
        let p = build(&format!("{}\ndelete_duplicates = false", cfg(&f.url(""))));
        let out = update_with(
            &p,
            "home.example.com",
            RecordType::A,
            &["198.51.100.2"],
            None,
            Some("198.51.100.1"),
        )
        .await
        .unwrap();
        assert_eq!(
            out,
            UpdateOutcome::Updated {
                record_id: Some("ours".into())
            }
        );
        let w: Vec<(String, String)> = writes(&f)
            .into_iter()
            .map(|r| (r.method.clone(), r.path().to_owned()))
            .collect();
        assert_eq!(w, [("PATCH".into(), "/zones/z1/dns_records/ours".into())]);
        // Already holding the address among others: nothing is written at all.
        let f = fake(json!([
            { "id": "peer", "name": "home.example.com", "type": "A", "content": "192.0.2.50" },
            { "id": "ours", "name": "home.example.com", "type": "A", "content": "198.51.100.2" },
        ]))
        .await;
        let p = build(&format!("{}\ndelete_duplicates = false", cfg(&f.url(""))));
        let out = update(&p, "home.example.com", RecordType::A, "198.51.100.2", None)
            .await
            .unwrap();
        assert!(matches!(out, UpdateOutcome::Unchanged { .. }), "{out:?}");
        assert!(writes(&f).is_empty());
    }

    /// Regression: addresses were compared as text, so an equal IPv6 address written another way was
    /// rewritten on every round.
    #[tokio::test]
    async fn addresses_are_compared_parsed() {
        let f = FakeHttp::start(|r| match (r.method.as_str(), r.path()) {
            ("GET", "/zones") => envelope(&json!([{ "id": "z1", "name": "example.com" }])),
            ("GET", _) => envelope(&json!([{ "id": "r6", "name": "home.example.com", "type": "AAAA", "content": "2001:0db8:0000::0001" }])),
            _ => Reply::status(500, "{}"),
        })
        .await;
        let out = update(
            &build(&cfg(&f.url(""))),
            "home.example.com",
            RecordType::Aaaa,
            "2001:db8::1",
            None,
        )
        .await
        .unwrap();
        assert!(matches!(out, UpdateOutcome::Unchanged { .. }), "{out:?}");
        assert!(writes(&f).is_empty());
    }

    #[tokio::test]
    async fn failures() {
        let bad_token = json_reply(
            &json!({ "success": false, "errors": [{ "code": 10000, "message": "Authentication error" }], "result": null }),
        );
        common_failures(cfg, bad_token, "home.example.com").await;
        let f = FakeHttp::start(|_| {
            Reply::status(
                403,
                r#"{"success":false,"errors":[{"code":9109,"message":"Invalid access token"}]}"#,
            )
        })
        .await;
        let err = update(
            &build(&cfg(&f.url(""))),
            "home.example.com",
            RecordType::A,
            "198.51.100.1",
            None,
        )
        .await
        .unwrap_err();
        assert_eq!(err.class, ErrorClass::Auth, "{err:?}");
    }

    #[tokio::test]
    async fn identical_record_on_create_is_success() {
        let f = FakeHttp::start(|r| match (r.method.as_str(), r.path()) {
            ("GET", "/zones") => envelope(&json!([{ "id": "z1", "name": "example.com" }])),
            ("GET", _) => envelope(&json!([])),
            _ => Reply::status(400, r#"{"success":false,"errors":[{"code":81058,"message":"An identical record already exists."}],"result":null}"#),
        })
        .await;
        let out = update(
            &build(&cfg(&f.url(""))),
            "home.example.com",
            RecordType::A,
            "198.51.100.7",
            None,
        )
        .await
        .unwrap();
        assert_eq!(out, UpdateOutcome::Unchanged { record_id: None });
    }
}

mod alidns {
    use super::*;

    fn cfg(endpoint: &str) -> String {
        format!(
            "kind = \"alidns\"\naccess_key_id = \"LTAI5tTestKeyId\"\naccess_key_secret = \"ali-s3cret\"\nendpoint = \"{endpoint}\""
        )
    }

    async fn fake(records: Value) -> FakeHttp {
        FakeHttp::start(move |r| match r.query().get("Action").map(String::as_str) {
            Some("DescribeSubDomainRecords" | "AddDomainRecord") if r.query()["DomainName"] != "example.com" => Reply::status(400, r#"{"RequestId":"x","Code":"InvalidDomainName.NoExist","Message":"The specified domain name does not exist."}"#),
            Some("DescribeSubDomainRecords") => json_reply(&json!({ "TotalCount": 1, "RequestId": "x", "DomainRecords": { "Record": records } })),
            Some("GetMainDomainName") => {
                let input = r.query()["InputString"].clone();
                let labels: Vec<&str> = input.rsplitn(3, '.').collect();
                json_reply(&json!({ "DomainName": format!("{}.{}", labels[1], labels[0]), "RR": labels.get(2).copied().unwrap_or("@"), "RequestId": "x" }))
            }
            // 150 domains, 100 a page (`PageNumber` from 1), as the documented answer nests them.
            Some("DescribeDomains") => {
                let mut all: Vec<String> = (0..140).map(|i| format!("other{i}.cn")).collect();
                all.insert(70, "example.com".into());
                all.extend((0..9).map(|i| format!("x{i}.example.net")));
                let q = r.query();
                let (number, size): (usize, usize) = (q["PageNumber"].parse().unwrap(), q["PageSize"].parse().unwrap());
                let page: Vec<Value> = all.iter().skip((number - 1) * size).take(size).map(|d| json!({ "DomainName": d, "DomainId": format!("id-{d}"), "RecordCount": 3 })).collect();
                json_reply(&json!({ "TotalCount": all.len(), "PageNumber": number, "PageSize": size, "RequestId": "x", "Domains": { "Domain": page } }))
            }
            Some("AddDomainRecord") => json_reply(&json!({ "RecordId": "9001", "RequestId": "x" })),
            Some("UpdateDomainRecord" | "DeleteDomainRecord") => json_reply(&json!({ "RecordId": r.query()["RecordId"], "RequestId": "x" })),
            _ => Reply::status(400, r#"{"Code":"InvalidAction","Message":"?"}"#),
        })
        .await
    }

    fn actions(f: &FakeHttp) -> Vec<String> {
        f.requests()
            .iter()
            .map(|r| r.query()["Action"].clone())
            .collect()
    }

    #[tokio::test]
    async fn create_update_unchanged_and_signed() {
        let f = fake(json!([])).await;
        let p = build(&cfg(&f.url("")));
        assert_eq!(
            update(
                &p,
                "home.example.com",
                RecordType::A,
                "198.51.100.7",
                Some(600)
            )
            .await
            .unwrap(),
            UpdateOutcome::Updated {
                record_id: Some("9001".into())
            }
        );
        assert_eq!(
            actions(&f),
            [
                "GetMainDomainName",
                "DescribeSubDomainRecords",
                "AddDomainRecord"
            ]
        );
        let add = f.requests()[2].query();
        for (k, v) in [
            ("DomainName", "example.com"),
            ("RR", "home"),
            ("Type", "A"),
            ("Value", "198.51.100.7"),
            ("TTL", "600"),
            ("AccessKeyId", "LTAI5tTestKeyId"),
            ("SignatureMethod", "HMAC-SHA1"),
            ("Version", "2015-01-09"),
            ("Format", "JSON"),
        ] {
            assert_eq!(add[k], v, "{k}");
        }
        assert!(add["Signature"].ends_with('='), "{add:?}");
        assert_eq!(add["Line"], "default");
        let list = f.requests()[1].query();
        assert_eq!(
            (list["SubDomain"].as_str(), list["DomainName"].as_str()),
            ("home.example.com", "example.com")
        );

        let f = fake(json!([{ "RecordId": "77", "RR": "home", "DomainName": "example.com", "Type": "A", "Value": "198.51.100.6", "TTL": 600 }])).await;
        assert_eq!(
            update(
                &build(&cfg(&f.url(""))),
                "home.example.com",
                RecordType::A,
                "198.51.100.7",
                None
            )
            .await
            .unwrap(),
            UpdateOutcome::Updated {
                record_id: Some("77".into())
            }
        );
        let upd = f.requests()[2].query();
        assert_eq!(
            (
                upd["Action"].as_str(),
                upd["RecordId"].as_str(),
                upd["RR"].as_str(),
                upd["Value"].as_str()
            ),
            ("UpdateDomainRecord", "77", "home", "198.51.100.7")
        );

        let f = fake(json!([{ "RecordId": "77", "RR": "home", "DomainName": "example.com", "Type": "A", "Value": "198.51.100.7", "TTL": 600 }])).await;
        assert_eq!(
            update(
                &build(&cfg(&f.url(""))),
                "home.example.com",
                RecordType::A,
                "198.51.100.7",
                None
            )
            .await
            .unwrap(),
            UpdateOutcome::Unchanged {
                record_id: Some("77".into())
            }
        );
        assert_eq!(
            actions(&f),
            ["GetMainDomainName", "DescribeSubDomainRecords"]
        );
    }

    #[tokio::test]
    async fn duplicate_answer_is_success_and_fuzzy_matches_are_filtered() {
        let records = json!([
            { "RecordId": "1", "RR": "home", "DomainName": "example.com", "Type": "A", "Value": "198.51.100.6" },
            { "RecordId": "2", "RR": "a.home", "DomainName": "example.com", "Type": "A", "Value": "198.51.100.9" },
            { "RecordId": "3", "RR": "home", "DomainName": "example.com", "Type": "A", "Value": "198.51.100.5" },
        ]);
        let f = FakeHttp::start(move |r| match r.query()["Action"].as_str() {
            "DescribeSubDomainRecords" => {
                json_reply(&json!({ "DomainRecords": { "Record": records } }))
            }
            "GetMainDomainName" => {
                json_reply(&json!({ "DomainName": "example.com", "RR": "home" }))
            }
            // Classified by its code: the message is whatever language the account uses.
            "UpdateDomainRecord" => Reply::status(
                400,
                r#"{"RequestId":"x","Code":"DomainRecordDuplicate","Message":"解析记录已存在"}"#,
            ),
            _ => json_reply(&json!({ "RecordId": "3" })),
        })
        .await;
        let out = update(
            &build(&cfg(&f.url(""))),
            "home.example.com",
            RecordType::A,
            "198.51.100.7",
            None,
        )
        .await
        .unwrap();
        assert_eq!(
            out,
            UpdateOutcome::Updated {
                record_id: Some("1".into())
            },
            "record 1 already held it; deleting record 3 was the write"
        );
        let deleted: Vec<String> = f
            .requests()
            .iter()
            .filter(|r| r.query()["Action"] == "DeleteDomainRecord")
            .map(|r| r.query()["RecordId"].clone())
            .collect();
        assert_eq!(
            deleted,
            ["3"],
            "only the exact duplicate is deleted, never a.home"
        );
    }

    /// Regression: records of the same name on other resolution lines (telecom, unicom, oversea) were
    /// deleted as duplicates. Only the managed line is touched.
    #[tokio::test]
    async fn records_on_other_lines_are_never_touched() {
        let records = json!([
            { "RecordId": "d1", "RR": "home", "DomainName": "example.com", "Type": "A", "Value": "198.51.100.1", "Line": "default" },
            { "RecordId": "t1", "RR": "home", "DomainName": "example.com", "Type": "A", "Value": "203.0.113.1", "Line": "telecom" },
            { "RecordId": "u1", "RR": "home", "DomainName": "example.com", "Type": "A", "Value": "203.0.113.2", "Line": "unicom" },
            { "RecordId": "d2", "RR": "home", "DomainName": "example.com", "Type": "A", "Value": "198.51.100.3", "Line": "default" },
        ]);
        let f = fake(records.clone()).await;
        let out = update(
            &build(&cfg(&f.url(""))),
            "home.example.com",
            RecordType::A,
            "198.51.100.7",
            None,
        )
        .await
        .unwrap();
        assert!(matches!(out, UpdateOutcome::Updated { .. }));
        let touched: Vec<(String, String)> = f
            .requests()
            .iter()
            .filter(|r| r.query()["Action"].ends_with("DomainRecord"))
            .map(|r| (r.query()["Action"].clone(), r.query()["RecordId"].clone()))
            .collect();
        assert_eq!(
            touched,
            [
                ("UpdateDomainRecord".to_owned(), "d1".to_owned()),
                ("DeleteDomainRecord".to_owned(), "d2".to_owned()),
            ],
            "only the default line's records; its duplicate reduced to one"
        );
        let upd = &f.requests()[2];
        assert_eq!(upd.query()["Line"], "default");

        // With `line = "telecom"` the telecom record is managed, and only it.
        let f = fake(records.clone()).await;
        let out = update(
            &build(&format!("{}\nline = \"telecom\"", cfg(&f.url("")))),
            "home.example.com",
            RecordType::A,
            "203.0.113.9",
            None,
        )
        .await
        .unwrap();
        assert!(matches!(out, UpdateOutcome::Updated { .. }));
        let touched: Vec<String> = f
            .requests()
            .iter()
            .filter(|r| r.query()["Action"].ends_with("DomainRecord"))
            .map(|r| {
                let q = r.query();
                format!(
                    "{} {} {}",
                    q["Action"],
                    q.get("RecordId").cloned().unwrap_or_default(),
                    q.get("Line").cloned().unwrap_or_default()
                )
            })
            .collect();
        assert_eq!(touched, ["UpdateDomainRecord t1 telecom"]);

        // A line without a record yet: created on that line.
        let f = fake(records).await;
        update_with(
            &build(&cfg(&f.url(""))),
            "home.example.com",
            RecordType::A,
            &["203.0.113.5"],
            Some("oversea"),
            None,
        )
        .await
        .unwrap();
        let writes: Vec<String> = f
            .requests()
            .iter()
            .filter(|r| r.query()["Action"].ends_with("DomainRecord"))
            .map(|r| format!("{} {}", r.query()["Action"], r.query()["Line"]))
            .collect();
        assert_eq!(writes, ["AddDomainRecord oversea"]);
    }

    #[tokio::test]
    async fn failures() {
        common_failures(cfg, Reply::status(403, r#"{"Code":"InvalidAccessKeyId.NotFound","Message":"Specified access key is not found."}"#), "home.example.com").await;
        let f = FakeHttp::start(|_| Reply::status(400, r#"{"Code":"Throttling.User","Message":"Request was denied due to user flow control."}"#)).await;
        let err = update(
            &build(&cfg(&f.url(""))),
            "home.example.com",
            RecordType::A,
            "198.51.100.1",
            None,
        )
        .await
        .unwrap_err();
        assert!(
            matches!(err.class, ErrorClass::RateLimited { .. }),
            "{err:?}"
        );
    }

    /// "Test" names the domains the credential sees (`DescribeDomains`, both pages, sorted), signed as every
    /// call; a name in no domain of the account fails with the domains still shown.
    #[tokio::test]
    async fn test_lists_the_domains_the_credential_sees() {
        let f = fake(json!([{ "RecordId": "77", "RR": "home", "DomainName": "example.com", "Type": "A", "Value": "198.51.100.7", "TTL": 600, "Line": "default" }])).await;
        let p = build(&cfg(&f.url("")));
        let said = ddns_tray::provider::test(p.as_ref(), "home.example.com", RecordType::A)
            .await
            .unwrap();
        let (check, zones) = said.split_once('\n').unwrap();
        assert_eq!(
            check,
            "credentials accepted; zone example.com; home.example.com A holds 198.51.100.7 (line default)"
        );
        assert!(
            zones.starts_with(
                "domains this credential can see (150): example.com, other0.cn, other1.cn, other10.cn, "
            ),
            "{zones}"
        );
        assert!(zones.ends_with(" and 138 more"), "{zones}");
        let lists: Vec<_> = f
            .requests()
            .into_iter()
            .filter(|r| r.query()["Action"] == "DescribeDomains")
            .collect();
        assert_eq!(lists.len(), 2, "{lists:#?}");
        for (page, r) in lists.iter().enumerate() {
            let q = r.query();
            assert_eq!(r.method, "GET");
            for (k, v) in [
                ("PageNumber", (page + 1).to_string()),
                ("PageSize", "100".to_owned()),
                ("AccessKeyId", "LTAI5tTestKeyId".to_owned()),
                ("SignatureMethod", "HMAC-SHA1".to_owned()),
                ("SignatureVersion", "1.0".to_owned()),
                ("Version", "2015-01-09".to_owned()),
                ("Format", "JSON".to_owned()),
            ] {
                assert_eq!(q[k], v, "{k}");
            }
            assert!(q["Signature"].ends_with('='), "{q:?}");
        }

        let err = ddns_tray::provider::test(p.as_ref(), "home.example.org", RecordType::A)
            .await
            .unwrap_err();
        assert!(err.contains("InvalidDomainName.NoExist"), "{err}");
        assert!(
            err.contains("\ndomains this credential can see (150): "),
            "{err}"
        );
    }
}

mod dnspod {
    use super::*;

    fn cfg(endpoint: &str) -> String {
        format!(
            "kind = \"dnspod\"\nsecret_id = \"AKIDtestsecretid\"\nsecret_key = \"tc-s3cret\"\nendpoint = \"{endpoint}\""
        )
    }

    fn response(v: &Value) -> Reply {
        json_reply(&json!({ "Response": v }))
    }

    async fn fake(records: Option<Value>) -> FakeHttp {
        FakeHttp::start(move |r| match (r.headers["x-tc-action"].as_str(), r.json()["Domain"].as_str()) {
            ("DescribeRecordList", Some("example.com")) => match &records {
                Some(list) => response(&json!({ "RecordList": list, "RequestId": "x" })),
                None => response(&json!({ "Error": { "Code": "ResourceNotFound.NoDataOfRecord", "Message": "记录列表为空。" }, "RequestId": "x" })),
            },
            ("DescribeRecordList", _) => response(&json!({ "Error": { "Code": "InvalidParameterValue.DomainNotExists", "Message": "当前域名有误" }, "RequestId": "x" })),
            // 3004 domains, 3000 a page (the documented default `Limit`), as `DescribeDomainList` answers.
            ("DescribeDomainList", _) => {
                let body = r.json();
                let index = |k: &str| usize::try_from(body[k].as_u64().unwrap()).unwrap();
                let (offset, limit) = (index("Offset"), index("Limit"));
                let mut all: Vec<String> = (0..3000).map(|i| format!("d{i:04}.cn")).collect();
                all.insert(1500, "Example.com".into());
                all.extend((0..3).map(|i| format!("zz{i}.example.net")));
                let list: Vec<Value> = all.iter().enumerate().skip(offset).take(limit).map(|(i, d)| json!({ "DomainId": i + 1, "Name": d, "Punycode": d, "Status": "ENABLE", "Grade": "DP_FREE", "RecordCount": 2 })).collect();
                response(&json!({ "DomainCountInfo": { "AllTotal": all.len(), "DomainTotal": all.len(), "MineTotal": all.len(), "ShareTotal": 0 }, "DomainList": list, "RequestId": "x" }))
            }
            ("CreateRecord", _) => response(&json!({ "RecordId": 555, "RequestId": "x" })),
            ("ModifyRecord" | "DeleteRecord", _) => response(&json!({ "RecordId": r.json()["RecordId"], "RequestId": "x" })),
            _ => Reply::status(400, "?"),
        })
        .await
    }

    #[tokio::test]
    async fn create_update_unchanged_and_signed() {
        let f = fake(None).await;
        let out = update(
            &build(&cfg(&f.url(""))),
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
                record_id: Some("555".into())
            }
        );
        let reqs = f.requests();
        let lookups: Vec<Value> = reqs
            .iter()
            .filter(|r| r.headers["x-tc-action"] == "DescribeRecordList")
            .map(|r| r.json()["Domain"].clone())
            .collect();
        assert_eq!(
            lookups,
            [
                json!("home.sub.example.com"),
                json!("sub.example.com"),
                json!("example.com")
            ]
        );
        let create = reqs.last().unwrap();
        assert_eq!(create.path(), "/");
        assert_eq!(create.headers["x-tc-version"], "2021-03-23");
        assert_eq!(
            create.headers["content-type"],
            "application/json; charset=utf-8"
        );
        assert!(
            create.headers["authorization"]
                .starts_with("TC3-HMAC-SHA256 Credential=AKIDtestsecretid/"),
            "{:?}",
            create.headers
        );
        assert!(create.headers["authorization"].contains(
            "/dnspod/tc3_request, SignedHeaders=content-type;host;x-tc-action, Signature="
        ));
        assert_eq!(
            create.json(),
            json!({ "Domain": "example.com", "SubDomain": "home.sub", "RecordType": "A", "RecordLine": "默认", "Value": "198.51.100.7" })
        );

        let f = fake(Some(json!([{ "RecordId": 12, "Name": "home", "Type": "A", "Value": "198.51.100.6", "Line": "默认", "TTL": 600 }]))).await;
        update(
            &build(&cfg(&f.url(""))),
            "home.example.com",
            RecordType::A,
            "198.51.100.7",
            None,
        )
        .await
        .unwrap();
        let modify = f.requests().pop().unwrap();
        assert_eq!(modify.headers["x-tc-action"], "ModifyRecord");
        assert_eq!(
            modify.json(),
            json!({ "Domain": "example.com", "RecordId": 12, "SubDomain": "home", "RecordType": "A", "RecordLine": "默认", "Value": "198.51.100.7" })
        );

        let f = fake(Some(json!([{ "RecordId": 12, "Name": "home", "Type": "A", "Value": "198.51.100.7", "Line": "默认" }]))).await;
        assert_eq!(
            update(
                &build(&cfg(&f.url(""))),
                "home.example.com",
                RecordType::A,
                "198.51.100.7",
                None
            )
            .await
            .unwrap(),
            UpdateOutcome::Unchanged {
                record_id: Some("12".into())
            }
        );
        assert_eq!(
            f.requests().len(),
            2,
            "two lookups (home.example.com, example.com), no write"
        );
    }

    #[tokio::test]
    async fn several_matching_and_keyword_matches() {
        let f = fake(Some(json!([
            { "RecordId": 1, "Name": "home", "Type": "A", "Value": "198.51.100.1" },
            { "RecordId": 2, "Name": "home2", "Type": "A", "Value": "198.51.100.2" },
            { "RecordId": 3, "Name": "home", "Type": "A", "Value": "198.51.100.3" },
        ])))
        .await;
        update(
            &build(&cfg(&f.url(""))),
            "home.example.com",
            RecordType::A,
            "198.51.100.7",
            None,
        )
        .await
        .unwrap();
        let w: Vec<(String, Value)> = f
            .requests()
            .iter()
            .skip(2)
            .map(|r| {
                (
                    r.headers["x-tc-action"].clone(),
                    r.json()["RecordId"].clone(),
                )
            })
            .collect();
        assert_eq!(
            w,
            [
                ("ModifyRecord".into(), json!(1)),
                ("DeleteRecord".into(), json!(3)),
            ]
        );
    }

    /// Regression: the same name on several lines (默认 + 电信 + 境外) had every record but one deleted as a
    /// "duplicate". Only the managed line is touched: by default 默认, or the `line` the record names.
    #[tokio::test]
    async fn records_on_other_lines_are_never_touched() {
        let records = json!([
            { "RecordId": 1, "Name": "home", "Type": "A", "Value": "198.51.100.1", "Line": "默认", "LineId": "0" },
            { "RecordId": 2, "Name": "home", "Type": "A", "Value": "203.0.113.1", "Line": "电信", "LineId": "10=0" },
            { "RecordId": 3, "Name": "home", "Type": "A", "Value": "203.0.113.2", "Line": "境外", "LineId": "3=0" },
            { "RecordId": 4, "Name": "home", "Type": "A", "Value": "198.51.100.4", "Line": "默认", "LineId": "0" },
        ]);
        let writes = |f: &FakeHttp| -> Vec<String> {
            f.requests()
                .iter()
                .filter(|r| r.headers["x-tc-action"] != "DescribeRecordList")
                .map(|r| {
                    let b = r.json();
                    format!(
                        "{} {} {}",
                        r.headers["x-tc-action"],
                        b["RecordId"],
                        b["RecordLine"].as_str().unwrap_or("")
                    )
                })
                .collect()
        };
        let f = fake(Some(records.clone())).await;
        update(
            &build(&cfg(&f.url(""))),
            "home.example.com",
            RecordType::A,
            "198.51.100.7",
            None,
        )
        .await
        .unwrap();
        assert_eq!(writes(&f), ["ModifyRecord 1 默认", "DeleteRecord 4 "]);

        let f = fake(Some(records.clone())).await;
        update_with(
            &build(&cfg(&f.url(""))),
            "home.example.com",
            RecordType::A,
            &["203.0.113.9"],
            Some("电信"),
            None,
        )
        .await
        .unwrap();
        assert_eq!(writes(&f), ["ModifyRecord 2 电信"]);

        // Already right on its line: nothing is written at all.
        let f = fake(Some(records.clone())).await;
        let out = update_with(
            &build(&format!("{}\nline = \"境外\"", cfg(&f.url("")))),
            "home.example.com",
            RecordType::A,
            &["203.0.113.2"],
            None,
            None,
        )
        .await
        .unwrap();
        assert!(matches!(out, UpdateOutcome::Unchanged { .. }), "{out:?}");
        assert!(writes(&f).is_empty());

        // A line without a record: created on it.
        let f = fake(Some(records)).await;
        update_with(
            &build(&cfg(&f.url(""))),
            "home.example.com",
            RecordType::A,
            &["203.0.113.5"],
            Some("联通"),
            None,
        )
        .await
        .unwrap();
        assert_eq!(writes(&f), ["CreateRecord null 联通"]);
    }

    #[tokio::test]
    async fn errors_come_with_http_200() {
        let auth = response(
            &json!({ "Error": { "Code": "AuthFailure.SignatureFailure", "Message": "The provided credentials could not be validated." }, "RequestId": "x" }),
        );
        common_failures(cfg, auth, "home.example.com").await;
        let f = FakeHttp::start(|_| {
            response(&json!({ "Error": { "Code": "RequestLimitExceeded", "Message": "too many" } }))
        })
        .await;
        let err = update(
            &build(&cfg(&f.url(""))),
            "home.example.com",
            RecordType::A,
            "198.51.100.1",
            None,
        )
        .await
        .unwrap_err();
        assert!(
            matches!(err.class, ErrorClass::RateLimited { .. }),
            "{err:?}"
        );
        let f = FakeHttp::start(|_| response(&json!({ "Error": { "Code": "AuthFailure.SignatureExpire", "Message": "expired" } }))).await;
        let err = update(
            &build(&cfg(&f.url(""))),
            "home.example.com",
            RecordType::A,
            "198.51.100.1",
            None,
        )
        .await
        .unwrap_err();
        assert!(
            err.class == ErrorClass::Transient && err.message.contains("clock"),
            "{err:?}"
        );
    }

    /// "Test" names the domains the credential sees (`DescribeDomainList`, both pages, lower-cased, sorted),
    /// signed as every call; a name in no domain of the account fails with the domains still shown.
    #[tokio::test]
    async fn test_lists_the_domains_the_credential_sees() {
        let f = fake(Some(json!([{ "RecordId": 12, "Name": "home", "Type": "A", "Value": "198.51.100.7", "Line": "默认" }]))).await;
        let p = build(&cfg(&f.url("")));
        let said = ddns_tray::provider::test(p.as_ref(), "home.example.com", RecordType::A)
            .await
            .unwrap();
        let (check, zones) = said.split_once('\n').unwrap();
        assert_eq!(
            check,
            "credentials accepted; zone example.com; home.example.com A holds 198.51.100.7 (line 默认)"
        );
        assert!(
            zones.starts_with(
                "domains this credential can see (3004): d0000.cn, d0001.cn, d0002.cn, "
            ),
            "{zones}"
        );
        assert!(zones.ends_with(" and 2992 more"), "{zones}");
        let lists: Vec<_> = f
            .requests()
            .into_iter()
            .filter(|r| r.headers["x-tc-action"] == "DescribeDomainList")
            .collect();
        let bodies: Vec<Value> = lists.iter().map(Request::json).collect();
        assert_eq!(
            bodies,
            [
                json!({ "Type": "ALL", "Offset": 0, "Limit": 3000 }),
                json!({ "Type": "ALL", "Offset": 3000, "Limit": 3000 }),
            ]
        );
        for r in &lists {
            assert_eq!((r.method.as_str(), r.path()), ("POST", "/"));
            assert_eq!(r.headers["x-tc-version"], "2021-03-23");
            assert!(
                r.headers["authorization"]
                    .starts_with("TC3-HMAC-SHA256 Credential=AKIDtestsecretid/"),
                "{:?}",
                r.headers
            );
            assert!(r.headers["authorization"].contains(
                "/dnspod/tc3_request, SignedHeaders=content-type;host;x-tc-action, Signature="
            ));
        }

        let err = ddns_tray::provider::test(p.as_ref(), "home.example.org", RecordType::A)
            .await
            .unwrap_err();
        assert!(
            err.contains("no domain in this account holds home.example.org"),
            "{err}"
        );
        assert!(
            err.contains("\ndomains this credential can see (3004): "),
            "{err}"
        );
        assert!(err.contains(" and 2992 more"), "{err}");
    }
}

mod huaweicloud {
    use super::*;

    fn cfg(endpoint: &str) -> String {
        format!(
            "kind = \"huaweicloud\"\naccess_key_id = \"QTWAOYTTINDUT2QVKYUC\"\nsecret_access_key = \"hw-s3cret\"\nendpoint = \"{endpoint}\""
        )
    }

    async fn fake(sets: Value) -> FakeHttp {
        FakeHttp::start(move |r| match (r.method.as_str(), r.path()) {
            ("GET", "/v2/zones") if r.query().get("name").map(String::as_str) == Some("example.com") => json_reply(&json!({ "zones": [{ "id": "zz", "name": "example.com." }] })),
            // 503 public zones (names end with a dot), paged by offset/limit as `ListPublicZones` answers.
            ("GET", "/v2/zones") if !r.query().contains_key("name") => {
                let q = r.query();
                let (offset, limit): (usize, usize) = (q["offset"].parse().unwrap(), q["limit"].parse().unwrap());
                let mut all: Vec<String> = (0..500).map(|i| format!("z{i:03}.cn.")).collect();
                all.insert(250, "example.com.".into());
                all.extend(["a.example.net.".to_owned(), "b.example.net.".to_owned()]);
                let zones: Vec<Value> = all.iter().enumerate().skip(offset).take(limit).map(|(i, z)| json!({ "id": format!("id{i}"), "name": z, "zone_type": "public", "status": "ACTIVE", "record_num": 2 })).collect();
                json_reply(&json!({ "links": { "self": "https://dns.myhuaweicloud.com/v2/zones?type=public" }, "zones": zones, "metadata": { "total_count": all.len() } }))
            }
            ("GET", "/v2/zones") => json_reply(&json!({ "zones": [] })),
            ("GET", "/v2.1/zones/zz/recordsets") => json_reply(&json!({ "recordsets": sets })),
            ("POST", _) => Reply::status(202, json!({ "id": "rs-new", "name": "home.example.com.", "type": "A", "records": ["198.51.100.7"], "status": "PENDING_CREATE" }).to_string()),
            ("PUT", p) => json_reply(&json!({ "id": p.rsplit('/').next().unwrap(), "name": "home.example.com.", "type": "A", "records": r.json()["records"] })),
            ("DELETE", _) => Reply::status(202, "{}"),
            _ => Reply::status(404, r#"{"code":"DNS.0004","message":"not found"}"#),
        })
        .await
    }

    #[tokio::test]
    async fn create_update_unchanged_and_signed() {
        let f = fake(json!([])).await;
        assert_eq!(
            update(
                &build(&cfg(&f.url(""))),
                "home.example.com",
                RecordType::A,
                "198.51.100.7",
                None
            )
            .await
            .unwrap(),
            UpdateOutcome::Updated { record_id: None }
        );
        let reqs = f.requests();
        let list = reqs
            .iter()
            .find(|r| r.path() == "/v2.1/zones/zz/recordsets" && r.method == "GET")
            .unwrap();
        assert_eq!(list.query()["name"], "home.example.com.");
        assert_eq!(list.query()["search_mode"], "equal");
        let post = reqs.iter().find(|r| r.method == "POST").unwrap();
        assert_eq!(
            post.json(),
            json!({ "name": "home.example.com.", "type": "A", "records": ["198.51.100.7"], "ttl": 300 })
        );
        assert!(post.headers["authorization"].starts_with("SDK-HMAC-SHA256 Access=QTWAOYTTINDUT2QVKYUC, SignedHeaders=content-type;host;x-sdk-date, Signature="));
        assert!(post.headers.contains_key("x-sdk-date"));

        let f = fake(json!([{ "id": "rs1", "name": "home.example.com.", "type": "A", "records": ["198.51.100.6"], "ttl": 300 }])).await;
        update(
            &build(&cfg(&f.url(""))),
            "home.example.com",
            RecordType::A,
            "198.51.100.7",
            None,
        )
        .await
        .unwrap();
        let put = writes(&f).pop().unwrap();
        assert_eq!(
            (put.method.as_str(), put.path()),
            ("PUT", "/v2.1/zones/zz/recordsets/rs1")
        );
        assert_eq!(put.json()["records"], json!(["198.51.100.7"]));

        let f = fake(json!([{ "id": "rs1", "name": "home.example.com.", "type": "A", "records": ["198.51.100.7"], "ttl": 300 }])).await;
        assert_eq!(
            update(
                &build(&cfg(&f.url(""))),
                "home.example.com",
                RecordType::A,
                "198.51.100.7",
                None
            )
            .await
            .unwrap(),
            UpdateOutcome::Unchanged { record_id: None }
        );
        assert!(writes(&f).is_empty());
    }

    #[tokio::test]
    async fn several_matching() {
        let f = fake(json!([
            { "id": "rs1", "name": "home.example.com.", "type": "A", "records": ["198.51.100.6"] },
            { "id": "rs2", "name": "home.example.com.", "type": "A", "records": ["198.51.100.5"] },
            { "id": "rs3", "name": "ahome.example.com.", "type": "A", "records": ["198.51.100.4"] },
        ]))
        .await;
        update(
            &build(&cfg(&f.url(""))),
            "home.example.com",
            RecordType::A,
            "198.51.100.7",
            None,
        )
        .await
        .unwrap();
        let w: Vec<(String, String)> = writes(&f)
            .into_iter()
            .map(|r| (r.method.clone(), r.path().to_owned()))
            .collect();
        assert_eq!(
            w,
            [
                ("PUT".into(), "/v2.1/zones/zz/recordsets/rs1".into()),
                ("DELETE".into(), "/v2.1/zones/zz/recordsets/rs2".into()),
            ]
        );
    }

    #[tokio::test]
    async fn failures() {
        common_failures(cfg, Reply::status(401, r#"{"error_code":"APIGW.0301","error_msg":"Incorrect IAM authentication information"}"#), "home.example.com").await;
        let f = FakeHttp::start(|_| {
            Reply::status(403, r#"{"code":"DNS.0014","message":"flow control"}"#)
        })
        .await;
        let err = update(
            &build(&cfg(&f.url(""))),
            "home.example.com",
            RecordType::A,
            "198.51.100.1",
            None,
        )
        .await
        .unwrap_err();
        assert!(
            matches!(err.class, ErrorClass::RateLimited { .. }),
            "{err:?}"
        );
    }

    /// "Test" names the public zones the credential sees (both pages, trailing dots gone, sorted), signed as
    /// every call; a name in no zone of the account fails with the zones still shown.
    #[tokio::test]
    async fn test_lists_the_domains_the_credential_sees() {
        let f = fake(json!([{ "id": "rs1", "name": "home.example.com.", "type": "A", "records": ["198.51.100.7"], "ttl": 300, "line": "default_view" }])).await;
        let p = build(&cfg(&f.url("")));
        let said = ddns_tray::provider::test(p.as_ref(), "home.example.com", RecordType::A)
            .await
            .unwrap();
        let (check, zones) = said.split_once('\n').unwrap();
        assert_eq!(
            check,
            "credentials accepted; zone example.com; home.example.com A holds 198.51.100.7 (line default_view)"
        );
        assert!(
            zones.starts_with(
                "domains this credential can see (503): a.example.net, b.example.net, example.com, z000.cn, "
            ),
            "{zones}"
        );
        assert!(zones.ends_with(" and 491 more"), "{zones}");
        let lists: Vec<_> = f
            .requests()
            .into_iter()
            .filter(|r| r.path() == "/v2/zones" && !r.query().contains_key("name"))
            .collect();
        let targets: Vec<&str> = lists.iter().map(|r| r.target.as_str()).collect();
        assert_eq!(
            targets,
            [
                "/v2/zones?limit=500&offset=0&type=public",
                "/v2/zones?limit=500&offset=500&type=public",
            ]
        );
        for r in &lists {
            assert_eq!(r.method, "GET");
            assert!(r.headers["authorization"].starts_with("SDK-HMAC-SHA256 Access=QTWAOYTTINDUT2QVKYUC, SignedHeaders=content-type;host;x-sdk-date, Signature="), "{:?}", r.headers);
            assert!(r.headers.contains_key("x-sdk-date"));
        }

        let err = ddns_tray::provider::test(p.as_ref(), "home.example.org", RecordType::A)
            .await
            .unwrap_err();
        assert!(
            err.contains("no public zone holds home.example.org"),
            "{err}"
        );
        assert!(
            err.contains("\ndomains this credential can see (503): "),
            "{err}"
        );
    }
}

mod dyndns2 {
    use super::*;

    fn cfg(kind: &str, server: &str) -> String {
        format!(
            "kind = \"{kind}\"\nserver = \"{server}\"\nusername = \"user@example.com\"\npassword = \"dd-s3cret\""
        )
    }

    #[tokio::test]
    async fn every_preset_sends_basic_auth_hostname_myip_and_a_user_agent() {
        for kind in ["dyndns2", "noip", "dynu", "dyn", "dnsomatic"] {
            let f = FakeHttp::text("good 198.51.100.7").await;
            let p = build(&cfg(kind, &f.url("")));
            assert_eq!(
                update(&p, "home.example.com", RecordType::A, "198.51.100.7", None)
                    .await
                    .unwrap(),
                UpdateOutcome::Updated { record_id: None },
                "{kind}"
            );
            let r = &f.requests()[0];
            // A server without a path gets the preset's path.
            let path = if kind == "dyn" {
                "/v3/update"
            } else {
                "/nic/update"
            };
            assert_eq!((r.method.as_str(), r.path()), ("GET", path), "{kind}");
            assert_eq!(r.query()["hostname"], "home.example.com");
            assert_eq!(r.query()["myip"], "198.51.100.7");
            // base64("user@example.com:dd-s3cret")
            assert_eq!(
                r.headers["authorization"], "Basic dXNlckBleGFtcGxlLmNvbTpkZC1zM2NyZXQ=",
                "{kind}"
            );
            assert!(
                r.headers["user-agent"].starts_with("ddns-tray/")
                    && r.headers["user-agent"].contains('+'),
                "{kind}: {:?}",
                r.headers
            );
        }
    }

    #[tokio::test]
    async fn ipv6_parameter_per_preset_and_he_username_default() {
        for (kind, param) in [
            ("noip", "myipv6"),
            ("dynu", "myipv6"),
            ("dyn", "myip"),
            ("dyndns2", "myip"),
        ] {
            let f = FakeHttp::text("good 2001:db8::7").await;
            update(
                &build(&cfg(kind, &f.url(""))),
                "home.example.com",
                RecordType::Aaaa,
                "2001:db8::7",
                None,
            )
            .await
            .unwrap();
            assert_eq!(f.requests()[0].query()[param], "2001:db8::7", "{kind}");
        }
        let f = FakeHttp::text("good 198.51.100.7").await;
        let p = build(&format!(
            "kind = \"he\"\nserver = \"{}\"\npassword = \"he-key-123\"",
            f.url("")
        ));
        update(&p, "dyn.example.com", RecordType::A, "198.51.100.7", None)
            .await
            .unwrap();
        // base64("dyn.example.com:he-key-123")
        assert_eq!(
            f.requests()[0].headers["authorization"],
            "Basic ZHluLmV4YW1wbGUuY29tOmhlLWtleS0xMjM="
        );
    }

    #[tokio::test]
    async fn every_return_code() {
        let cases: &[(&str, Result<UpdateOutcome, ErrorClass>)] = &[
            (
                "nochg 198.51.100.7",
                Ok(UpdateOutcome::Unchanged { record_id: None }),
            ),
            ("badauth", Err(ErrorClass::Auth)),
            ("nohost", Err(ErrorClass::Rejected)),
            ("notfqdn", Err(ErrorClass::Rejected)),
            ("numhost", Err(ErrorClass::Rejected)),
            ("abuse", Err(ErrorClass::Rejected)),
            ("badagent", Err(ErrorClass::Rejected)),
            ("!donator", Err(ErrorClass::Rejected)),
            ("good 127.0.0.1", Err(ErrorClass::Rejected)),
            (
                "911",
                Err(ErrorClass::RateLimited {
                    retry_after: Some(1800),
                }),
            ),
            (
                "dnserr",
                Err(ErrorClass::RateLimited {
                    retry_after: Some(1800),
                }),
            ),
            ("<html>captive portal</html>", Err(ErrorClass::Transient)),
        ];
        for (body, want) in cases {
            let f = FakeHttp::text(body).await;
            let got = update(
                &build(&cfg("noip", &f.url(""))),
                "home.example.com",
                RecordType::A,
                "198.51.100.7",
                None,
            )
            .await
            .map_err(|e| e.class);
            assert_eq!(&got, want, "{body}");
        }
        common_failures(
            |e| cfg("dynu", e),
            Reply::status(401, "badauth"),
            "home.example.com",
        )
        .await;
    }
}

mod duckdns {
    use super::*;

    fn cfg(endpoint: &str) -> String {
        format!(
            "kind = \"duckdns\"\ntoken = \"a7c4d0ad-114e-40ef-ba1d-d217904a50f2\"\nendpoint = \"{endpoint}\""
        )
    }

    #[tokio::test]
    async fn updated_unchanged_ko_and_ipv6() {
        let f = FakeHttp::text("OK\n198.51.100.7\n\nUPDATED").await;
        assert_eq!(
            update(
                &build(&cfg(&f.url(""))),
                "myhome.duckdns.org",
                RecordType::A,
                "198.51.100.7",
                None
            )
            .await
            .unwrap(),
            UpdateOutcome::Updated { record_id: None }
        );
        let q = f.requests()[0].query();
        assert_eq!(f.requests()[0].path(), "/update");
        assert_eq!(
            (
                q["domains"].as_str(),
                q["token"].as_str(),
                q["ip"].as_str(),
                q["verbose"].as_str()
            ),
            (
                "myhome",
                "a7c4d0ad-114e-40ef-ba1d-d217904a50f2",
                "198.51.100.7",
                "true"
            )
        );

        let f = FakeHttp::text("OK\n198.51.100.7\n\nNOCHANGE").await;
        assert_eq!(
            update(
                &build(&cfg(&f.url(""))),
                "myhome.duckdns.org",
                RecordType::A,
                "198.51.100.7",
                None
            )
            .await
            .unwrap(),
            UpdateOutcome::Unchanged { record_id: None }
        );

        let f = FakeHttp::text("OK\n\n2001:db8::7\nUPDATED").await;
        update(
            &build(&cfg(&f.url(""))),
            "myhome.duckdns.org",
            RecordType::Aaaa,
            "2001:db8::7",
            None,
        )
        .await
        .unwrap();
        // Regression: with `ip` left out, DuckDNS filled the A record from the request's source address
        // (behind a proxy: the proxy's). `ip` carries the address explicitly.
        let q = f.requests()[0].query();
        assert_eq!(q["ipv6"], "2001:db8::7");
        assert_eq!(q["ip"], "2001:db8::7");

        let f = FakeHttp::text("KO").await;
        let err = update(
            &build(&cfg(&f.url(""))),
            "myhome.duckdns.org",
            RecordType::A,
            "198.51.100.7",
            None,
        )
        .await
        .unwrap_err();
        assert_eq!(err.class, ErrorClass::Auth);
        assert!(!err.message.contains("a7c4d0ad"), "{err:?}");

        let f = FakeHttp::text("OK\n198.51.100.99\n\nUPDATED").await;
        let err = update(
            &build(&cfg(&f.url(""))),
            "myhome.duckdns.org",
            RecordType::A,
            "198.51.100.7",
            None,
        )
        .await
        .unwrap_err();
        assert_eq!(
            err.class,
            ErrorClass::Unconfirmed,
            "the server reports another address"
        );
    }

    #[tokio::test]
    async fn failures() {
        common_failures(cfg, Reply::status(401, "KO"), "myhome.duckdns.org").await;
    }
}

mod desec {
    use super::*;

    fn cfg(endpoint: &str) -> String {
        format!("kind = \"desec\"\ntoken = \"desec-s3cret-token\"\nendpoint = \"{endpoint}\"")
    }

    async fn fake(rrset: Option<Value>) -> FakeHttp {
        FakeHttp::start(move |r| match (r.method.as_str(), r.path()) {
            ("GET", "/domains/") => {
                json_reply(&json!([{ "name": "example.dedyn.io" }, { "name": "dedyn.io" }]))
            }
            ("GET", "/domains/example.dedyn.io/rrsets/home/A/") => rrset.as_ref().map_or_else(
                || Reply::status(404, r#"{"detail":"Not found."}"#),
                json_reply,
            ),
            ("POST", "/domains/example.dedyn.io/rrsets/") => Reply::status(201, r.body.clone()),
            ("PATCH", _) => json_reply(&r.json()),
            _ => Reply::status(404, r#"{"detail":"Not found."}"#),
        })
        .await
    }

    #[tokio::test]
    async fn create_update_unchanged() {
        let f = fake(None).await;
        update(
            &build(&cfg(&f.url(""))),
            "home.example.dedyn.io",
            RecordType::A,
            "198.51.100.7",
            None,
        )
        .await
        .unwrap();
        let post = writes(&f).pop().unwrap();
        assert_eq!(post.headers["authorization"], "Token desec-s3cret-token");
        assert_eq!(
            post.json(),
            json!({ "subname": "home", "type": "A", "ttl": 3600, "records": ["198.51.100.7"] })
        );

        let f = fake(Some(json!({ "subname": "home", "type": "A", "ttl": 3600, "records": ["198.51.100.6", "198.51.100.5"] }))).await;
        update(
            &build(&cfg(&f.url(""))),
            "home.example.dedyn.io",
            RecordType::A,
            "198.51.100.7",
            None,
        )
        .await
        .unwrap();
        let patch = writes(&f).pop().unwrap();
        assert_eq!(
            (patch.method.as_str(), patch.path()),
            ("PATCH", "/domains/example.dedyn.io/rrsets/home/A/")
        );
        assert_eq!(
            patch.json(),
            json!({ "records": ["198.51.100.7"] }),
            "several values are replaced by one"
        );

        let f = fake(Some(
            json!({ "subname": "home", "type": "A", "ttl": 3600, "records": ["198.51.100.7"] }),
        ))
        .await;
        assert_eq!(
            update(
                &build(&cfg(&f.url(""))),
                "home.example.dedyn.io",
                RecordType::A,
                "198.51.100.7",
                None
            )
            .await
            .unwrap(),
            UpdateOutcome::Unchanged { record_id: None }
        );
        assert!(
            writes(&f).is_empty(),
            "no no-op writes (deSEC forbids them)"
        );
    }

    #[tokio::test]
    async fn failures() {
        common_failures(
            cfg,
            Reply::status(401, r#"{"detail":"Invalid token."}"#),
            "home.example.dedyn.io",
        )
        .await;
    }
}

mod porkbun {
    use super::*;

    fn cfg(endpoint: &str) -> String {
        format!(
            "kind = \"porkbun\"\napi_key = \"pk1_testkey\"\nsecret_api_key = \"sk1_s3cret\"\nendpoint = \"{endpoint}\""
        )
    }

    async fn fake(records: Value) -> FakeHttp {
        FakeHttp::start(move |r| {
            // 1003 domains, 1000 a call from `start`; example.org is not the account's.
            if r.path() == "/domain/listAll" {
                let start: usize = r.json()["start"].as_str().unwrap().parse().unwrap();
                let mut all: Vec<String> = (0..1002).map(|i| format!("pb{i:04}.xyz")).collect();
                all.push("example.com".into());
                let domains: Vec<Value> = all.iter().skip(start).take(1000).map(|d| json!({ "domain": d, "status": "ACTIVE", "tld": "xyz", "autoRenew": 0, "notLocal": 0 })).collect();
                json_reply(&json!({ "status": "SUCCESS", "domains": domains }))
            } else if r.path().contains("/example.org") {
                Reply::status(400, r#"{"status":"ERROR","message":"Invalid domain."}"#)
            } else if r.path().starts_with("/dns/retrieveByNameType/") {
                json_reply(&json!({ "status": "SUCCESS", "records": records }))
            } else if r.path().starts_with("/dns/create/") {
                json_reply(&json!({ "status": "SUCCESS", "id": 106_926_659 }))
            } else {
                json_reply(&json!({ "status": "SUCCESS" }))
            }
        })
        .await
    }

    #[tokio::test]
    async fn create_update_unchanged_and_several() {
        let f = fake(json!([])).await;
        assert_eq!(
            update(
                &build(&cfg(&f.url(""))),
                "home.example.com",
                RecordType::A,
                "198.51.100.7",
                None
            )
            .await
            .unwrap(),
            UpdateOutcome::Updated {
                record_id: Some("106926659".into())
            }
        );
        let reqs = f.requests();
        assert_eq!(reqs[0].path(), "/dns/retrieveByNameType/example.com/A/home");
        assert_eq!(
            reqs[0].json(),
            json!({ "apikey": "pk1_testkey", "secretapikey": "sk1_s3cret" })
        );
        assert_eq!(reqs[1].path(), "/dns/create/example.com");
        assert_eq!(
            reqs[1].json(),
            json!({ "apikey": "pk1_testkey", "secretapikey": "sk1_s3cret", "name": "home", "type": "A", "content": "198.51.100.7", "ttl": "600" })
        );

        let f = fake(json!([{ "id": "11", "name": "home.example.com", "type": "A", "content": "198.51.100.6", "ttl": "600" }, { "id": "12", "name": "home.example.com", "type": "A", "content": "198.51.100.5", "ttl": "600" }])).await;
        update(
            &build(&cfg(&f.url(""))),
            "home.example.com",
            RecordType::A,
            "198.51.100.7",
            None,
        )
        .await
        .unwrap();
        let paths: Vec<String> = f
            .requests()
            .iter()
            .skip(1)
            .map(|r| r.path().to_owned())
            .collect();
        assert_eq!(
            paths,
            ["/dns/edit/example.com/11", "/dns/delete/example.com/12"]
        );

        let f = fake(json!([{ "id": "11", "name": "home.example.com", "type": "A", "content": "198.51.100.7", "ttl": "600" }])).await;
        assert_eq!(
            update(
                &build(&cfg(&f.url(""))),
                "home.example.com",
                RecordType::A,
                "198.51.100.7",
                None
            )
            .await
            .unwrap(),
            UpdateOutcome::Unchanged {
                record_id: Some("11".into())
            }
        );
        assert_eq!(f.requests().len(), 1);

        let f = fake(json!([])).await;
        update(
            &build(&cfg(&f.url(""))),
            "example.com",
            RecordType::A,
            "198.51.100.7",
            None,
        )
        .await
        .unwrap();
        assert_eq!(
            f.requests()[0].path(),
            "/dns/retrieveByNameType/example.com/A",
            "regression: the apex path has no trailing empty segment",
        );
    }

    #[tokio::test]
    async fn failures() {
        common_failures(
            cfg,
            Reply::status(
                403,
                r#"{"status":"ERROR","message":"Invalid API key. (002)"}"#,
            ),
            "home.example.com",
        )
        .await;
        let f = FakeHttp::text(
            r#"{"status":"ERROR","message":"Domain is not opted in to API access."}"#,
        )
        .await;
        let err = update(
            &build(&cfg(&f.url(""))),
            "home.example.com",
            RecordType::A,
            "198.51.100.1",
            None,
        )
        .await
        .unwrap_err();
        assert_ne!(err.class, ErrorClass::Transient, "{err:?}");
    }

    /// "Test" names the domains the credential sees (`/domain/listAll`, two calls by `start`, keys in the
    /// body), beside the check; a name in no domain fails with the domains still shown.
    #[tokio::test]
    async fn test_lists_the_domains_the_credential_sees() {
        let f = fake(json!([{ "id": "7", "name": "home.example.com", "type": "A", "content": "198.51.100.7", "ttl": "600", "prio": "0", "notes": "" }])).await;
        let p = build(&cfg(&f.url("")));
        let said = ddns_tray::provider::test(p.as_ref(), "home.example.com", RecordType::A)
            .await
            .unwrap();
        let (check, zones) = said.split_once('\n').unwrap();
        assert_eq!(
            check,
            "credentials accepted; zone example.com; home.example.com A holds 198.51.100.7"
        );
        assert!(
            zones.starts_with(
                "domains this credential can see (1003): example.com, pb0000.xyz, pb0001.xyz, "
            ),
            "{zones}"
        );
        assert!(zones.ends_with(" and 991 more"), "{zones}");
        let lists: Vec<(String, Value)> = f
            .requests()
            .iter()
            .filter(|r| r.path() == "/domain/listAll")
            .map(|r| (r.method.clone(), r.json()))
            .collect();
        let body = |start: &str| json!({ "apikey": "pk1_testkey", "secretapikey": "sk1_s3cret", "start": start, "includeLabels": "no" });
        assert_eq!(
            lists,
            [
                ("POST".to_owned(), body("0")),
                ("POST".to_owned(), body("1000"))
            ]
        );

        let err = ddns_tray::provider::test(p.as_ref(), "home.example.org", RecordType::A)
            .await
            .unwrap_err();
        assert!(err.contains("Invalid domain."), "{err}");
        assert!(
            err.contains("\ndomains this credential can see (1003): "),
            "{err}"
        );
    }
}

mod godaddy {
    use super::*;

    fn cfg(endpoint: &str) -> String {
        format!(
            "kind = \"godaddy\"\napi_key = \"gd-key\"\napi_secret = \"gd-s3cret\"\nendpoint = \"{endpoint}\""
        )
    }

    #[tokio::test]
    async fn create_update_unchanged() {
        for (current, write) in [
            (json!([]), true),
            (
                json!([{ "data": "198.51.100.6", "name": "home", "ttl": 600, "type": "A" }, { "data": "198.51.100.5", "name": "home", "ttl": 600, "type": "A" }]),
                true,
            ),
            (
                json!([{ "data": "198.51.100.7", "name": "home", "ttl": 600, "type": "A" }]),
                false,
            ),
        ] {
            let body = current.to_string();
            let f = FakeHttp::start(move |r| {
                if r.method == "GET" {
                    Reply::ok(body.clone())
                } else {
                    Reply::ok("")
                }
            })
            .await;
            let out = update(
                &build(&cfg(&f.url(""))),
                "home.example.com",
                RecordType::A,
                "198.51.100.7",
                None,
            )
            .await
            .unwrap();
            let reqs = f.requests();
            assert_eq!(reqs[0].path(), "/v1/domains/example.com/records/A/home");
            assert_eq!(reqs[0].headers["authorization"], "sso-key gd-key:gd-s3cret");
            if write {
                assert_eq!(out, UpdateOutcome::Updated { record_id: None });
                assert_eq!(
                    (reqs[1].method.as_str(), reqs[1].path()),
                    ("PUT", "/v1/domains/example.com/records/A/home")
                );
                assert_eq!(
                    reqs[1].json(),
                    json!([{ "data": "198.51.100.7", "ttl": 600 }]),
                    "one PUT replaces every record of the name"
                );
            } else {
                assert_eq!(out, UpdateOutcome::Unchanged { record_id: None });
                assert_eq!(reqs.len(), 1);
            }
        }
    }

    #[tokio::test]
    async fn failures() {
        common_failures(
            cfg,
            Reply::status(
                401,
                r#"{"code":"UNABLE_TO_AUTHENTICATE","message":"Unable to authenticate"}"#,
            ),
            "home.example.com",
        )
        .await;
        let f = FakeHttp::start(|_| {
            Reply::status(
                403,
                r#"{"code":"ACCESS_DENIED","message":"Authenticated user is not allowed access"}"#,
            )
        })
        .await;
        let err = update(
            &build(&cfg(&f.url(""))),
            "home.example.com",
            RecordType::A,
            "198.51.100.1",
            None,
        )
        .await
        .unwrap_err();
        assert!(
            err.class == ErrorClass::Auth && err.message.contains("10+ domains"),
            "{err:?}"
        );
    }

    /// "Test" names the active domains the credential sees (`GET /v1/domains`, two pages by `marker`, with the
    /// sso-key header), beside the check; a name in no domain fails with the domains still shown.
    #[tokio::test]
    async fn test_lists_the_domains_the_credential_sees() {
        let f = FakeHttp::start(|r| {
            let q = r.query();
            match r.path() {
                // 1001 active domains, sorted by name as the API pages them after `marker`.
                "/v1/domains" => {
                    assert_eq!(q["statuses"], "ACTIVE");
                    let limit: usize = q["limit"].parse().unwrap();
                    let mut all: Vec<String> = (0..1000).map(|i| format!("gd{i:04}.shop")).collect();
                    all.push("example.com".into());
                    all.sort();
                    let after = q.get("marker").cloned().unwrap_or_default();
                    let page: Vec<Value> = all
                        .iter()
                        .filter(|d| **d > after)
                        .take(limit)
                        .map(|d| json!({ "domain": d, "domainId": 1, "status": "ACTIVE", "renewAuto": true }))
                        .collect();
                    json_reply(&Value::Array(page))
                }
                "/v1/domains/example.com/records/A/home" => json_reply(
                    &json!([{ "data": "198.51.100.7", "name": "home", "ttl": 600, "type": "A" }]),
                ),
                _ => Reply::status(
                    404,
                    r#"{"code":"UNKNOWN_DOMAIN","message":"The given domain is not registered, or does not have a zone file"}"#,
                ),
            }
        })
        .await;
        let p = build(&cfg(&f.url("")));
        let said = ddns_tray::provider::test(p.as_ref(), "home.example.com", RecordType::A)
            .await
            .unwrap();
        let (check, zones) = said.split_once('\n').unwrap();
        assert_eq!(
            check,
            "credentials accepted; zone example.com; home.example.com A holds 198.51.100.7"
        );
        assert!(
            zones.starts_with("domains this credential can see (1001): example.com, gd0000.shop, "),
            "{zones}"
        );
        assert!(zones.ends_with(" and 989 more"), "{zones}");
        let lists: Vec<String> = f
            .requests()
            .iter()
            .filter(|r| r.path() == "/v1/domains")
            .map(|r| {
                assert_eq!(r.headers["authorization"], "sso-key gd-key:gd-s3cret");
                format!("{} {}", r.method, r.target)
            })
            .collect();
        assert_eq!(
            lists,
            [
                "GET /v1/domains?statuses=ACTIVE&limit=1000",
                "GET /v1/domains?statuses=ACTIVE&limit=1000&marker=gd0998.shop"
            ]
        );

        let err = ddns_tray::provider::test(p.as_ref(), "home.example.org", RecordType::A)
            .await
            .unwrap_err();
        assert!(err.contains("UNKNOWN_DOMAIN"), "{err}");
        assert!(
            err.contains("\ndomains this credential can see (1001): "),
            "{err}"
        );
    }
}

mod namecheap {
    use super::*;

    fn cfg(endpoint: &str) -> String {
        format!("kind = \"namecheap\"\npassword = \"nc-s3cret-ddns\"\nendpoint = \"{endpoint}\"")
    }

    const OK: &str = r#"<?xml version="1.0"?><interface-response><Command>SETDNSHOST</Command><Language>eng</Language><IP>198.51.100.7</IP><ErrCount>0</ErrCount><ResponseCount>0</ResponseCount><Done>true</Done><debug><![CDATA[]]></debug></interface-response>"#;

    #[tokio::test]
    async fn update_and_errors() {
        let f = FakeHttp::text(OK).await;
        assert_eq!(
            update(
                &build(&cfg(&f.url(""))),
                "home.example.com",
                RecordType::A,
                "198.51.100.7",
                None
            )
            .await
            .unwrap(),
            UpdateOutcome::Updated { record_id: None }
        );
        let r = &f.requests()[0];
        assert_eq!(r.path(), "/update");
        let q = r.query();
        assert_eq!(
            (
                q["host"].as_str(),
                q["domain"].as_str(),
                q["password"].as_str(),
                q["ip"].as_str()
            ),
            ("home", "example.com", "nc-s3cret-ddns", "198.51.100.7")
        );

        let f = FakeHttp::text(OK).await;
        update(
            &build(&cfg(&f.url(""))),
            "example.com",
            RecordType::A,
            "198.51.100.7",
            None,
        )
        .await
        .unwrap();
        assert_eq!(f.requests()[0].query()["host"], "@");

        let errors = [
            ("Passwords do not match", ErrorClass::Auth),
            ("Domain name not found", ErrorClass::Rejected),
            ("Something unexpected happened", ErrorClass::Transient),
        ];
        for (err1, class) in errors {
            let body = format!(
                "<?xml version=\"1.0\"?><interface-response><ErrCount>1</ErrCount><errors><Err1>{err1}</Err1></errors><Done>true</Done></interface-response>"
            );
            let f = FakeHttp::start(move |_| Reply::ok(body.clone())).await;
            let err = update(
                &build(&cfg(&f.url(""))),
                "home.example.com",
                RecordType::A,
                "198.51.100.7",
                None,
            )
            .await
            .unwrap_err();
            assert_eq!(err.class, class, "{err1}: {err:?}");
        }
        common_failures(cfg, Reply::ok("<interface-response><ErrCount>1</ErrCount><errors><Err1>Passwords do not match</Err1></errors></interface-response>"), "home.example.com").await;
    }

    #[test]
    fn aaaa_records_are_refused_at_load() {
        let text = "[[provider]]\nname = \"nc\"\nkind = \"namecheap\"\npassword = \"nc-s3cret-ddns\"\n[[record]]\nname = \"h.example.com\"\nprovider = \"nc\"\ntype = \"AAAA\"\nipv6 = true";
        let text = format!("ipv6 = true\n{}", text.trim_end_matches("\nipv6 = true"));
        let issues = load_str(&text, &|_: &str| None).unwrap_err();
        assert!(
            issues
                .iter()
                .any(|i| i.path == "record[0].type" && i.message.contains("only update A")),
            "{issues:#?}"
        );
    }
}

mod hetzner {
    use super::*;

    fn cfg(endpoint: &str) -> String {
        format!("kind = \"hetzner\"\ntoken = \"hz-s3cret-token\"\nendpoint = \"{endpoint}\"")
    }

    fn action(status: &str) -> Reply {
        Reply::status(201, json!({ "action": { "id": 13, "command": "set_records", "status": status, "error": null } }).to_string())
    }

    async fn fake(rrset: Option<Value>, action_status: &'static str) -> FakeHttp {
        FakeHttp::start(move |r| match (r.method.as_str(), r.path()) {
            // Without `name` every zone (150), 100 a page, `meta.pagination` as documented.
            ("GET", "/zones") if !r.query().contains_key("name") => {
                let q = r.query();
                assert_eq!(q["per_page"], "100");
                let page: usize = q["page"].parse().unwrap();
                let mut all: Vec<Value> = (0..149).map(|i| json!({ "id": 100 + i, "name": format!("hz{i:03}.de"), "mode": "primary" })).collect();
                all.insert(3, json!({ "id": 42, "name": "example.com", "mode": "primary" }));
                let zones: Vec<&Value> = all.iter().skip((page - 1) * 100).take(100).collect();
                json_reply(&json!({ "zones": zones, "meta": { "pagination": {
                    "page": page, "per_page": 100, "previous_page": if page > 1 { json!(page - 1) } else { Value::Null },
                    "next_page": if page < 2 { json!(page + 1) } else { Value::Null }, "last_page": 2, "total_entries": all.len() } } }))
            }
            ("GET", "/zones") if r.query()["name"] == "example.com" => {
                json_reply(&json!({ "zones": [{ "id": 42, "name": "example.com" }] }))
            }
            ("GET", "/zones") => json_reply(&json!({ "zones": [] })),
            ("GET", "/zones/example.com/rrsets/home/A") => rrset.as_ref().map_or_else(
                || {
                    Reply::status(
                        404,
                        r#"{"error":{"code":"not_found","message":"rrset not found"}}"#,
                    )
                },
                |s| json_reply(&json!({ "rrset": s })),
            ),
            ("GET", "/zones/actions/13") => {
                json_reply(&json!({ "action": { "id": 13, "status": "success" } }))
            }
            ("POST", _) => action(action_status),
            _ => Reply::status(404, r#"{"error":{"code":"not_found","message":"?"}}"#),
        })
        .await
    }

    #[tokio::test]
    async fn create_update_unchanged_and_actions() {
        let f = fake(None, "success").await;
        update(
            &build(&cfg(&f.url(""))),
            "home.example.com",
            RecordType::A,
            "198.51.100.7",
            Some(300),
        )
        .await
        .unwrap();
        let post = writes(&f).pop().unwrap();
        assert_eq!(post.path(), "/zones/example.com/rrsets");
        assert_eq!(post.headers["authorization"], "Bearer hz-s3cret-token");
        assert_eq!(
            post.json(),
            json!({ "name": "home", "type": "A", "ttl": 300, "records": [{ "value": "198.51.100.7" }] })
        );

        let f = fake(Some(json!({ "name": "home", "type": "A", "ttl": 300, "records": [{ "value": "198.51.100.6" }, { "value": "198.51.100.5" }] })), "running").await;
        update(
            &build(&cfg(&f.url(""))),
            "home.example.com",
            RecordType::A,
            "198.51.100.7",
            None,
        )
        .await
        .unwrap();
        let reqs = f.requests();
        let set = reqs.iter().find(|r| r.method == "POST").unwrap();
        assert_eq!(
            set.path(),
            "/zones/example.com/rrsets/home/A/actions/set_records"
        );
        assert_eq!(
            set.json(),
            json!({ "records": [{ "value": "198.51.100.7" }] })
        );
        assert!(
            reqs.iter().any(|r| r.path() == "/zones/actions/13"),
            "a running action is polled"
        );

        let f = fake(Some(json!({ "name": "home", "type": "A", "ttl": 300, "records": [{ "value": "198.51.100.7" }] })), "success").await;
        assert_eq!(
            update(
                &build(&cfg(&f.url(""))),
                "home.example.com",
                RecordType::A,
                "198.51.100.7",
                None
            )
            .await
            .unwrap(),
            UpdateOutcome::Unchanged { record_id: None }
        );
        assert!(writes(&f).is_empty());
    }

    #[tokio::test]
    async fn failures() {
        common_failures(
            cfg,
            Reply::status(
                401,
                r#"{"error":{"code":"unauthorized","message":"unable to authenticate"}}"#,
            ),
            "home.example.com",
        )
        .await;
    }

    /// "Test" names the zones the credential sees (`GET /zones`, both pages by `next_page`, with the bearer
    /// token), beside the check; a name in no zone fails with the zones still shown.
    #[tokio::test]
    async fn test_lists_the_domains_the_credential_sees() {
        let f = fake(Some(json!({ "name": "home", "type": "A", "ttl": 300, "records": [{ "value": "198.51.100.7", "comment": "" }] })), "success").await;
        let p = build(&cfg(&f.url("")));
        let said = ddns_tray::provider::test(p.as_ref(), "home.example.com", RecordType::A)
            .await
            .unwrap();
        let (check, zones) = said.split_once('\n').unwrap();
        assert_eq!(
            check,
            "credentials accepted; zone example.com; home.example.com A holds 198.51.100.7"
        );
        assert!(
            zones.starts_with(
                "domains this credential can see (150): example.com, hz000.de, hz001.de, "
            ),
            "{zones}"
        );
        assert!(zones.ends_with(" and 138 more"), "{zones}");
        let lists: Vec<String> = f
            .requests()
            .iter()
            .filter(|r| r.path() == "/zones" && !r.query().contains_key("name"))
            .map(|r| {
                assert_eq!(r.headers["authorization"], "Bearer hz-s3cret-token");
                format!("{} {}", r.method, r.target)
            })
            .collect();
        assert_eq!(
            lists,
            [
                "GET /zones?page=1&per_page=100",
                "GET /zones?page=2&per_page=100"
            ]
        );

        let err = ddns_tray::provider::test(p.as_ref(), "home.example.org", RecordType::A)
            .await
            .unwrap_err();
        assert!(
            err.contains("no zone of this project holds home.example.org"),
            "{err}"
        );
        assert!(
            err.contains("\ndomains this credential can see (150): "),
            "{err}"
        );
    }
}

mod gandi {
    use super::*;

    fn cfg(endpoint: &str) -> String {
        format!("kind = \"gandi\"\ntoken = \"gandi-s3cret-pat\"\nendpoint = \"{endpoint}\"")
    }

    async fn fake(rrset: Option<Value>) -> FakeHttp {
        FakeHttp::start(move |r| match (r.method.as_str(), r.path()) {
            ("GET", "/domains") => json_reply(&json!([{ "fqdn": "example.com" }, { "fqdn": "other.net" }])),
            ("GET", "/domains/example.com/records/home/A") => rrset.as_ref().map_or_else(|| Reply::status(404, r#"{"code":404,"message":"Can't find the DNS record","object":"dns-record","cause":"Not Found"}"#), json_reply),
            ("PUT", _) => Reply::status(201, r#"{"message":"DNS Record Created"}"#),
            _ => Reply::status(404, "{}"),
        })
        .await
    }

    #[tokio::test]
    async fn create_update_unchanged() {
        for (current, write) in [
            (None, true),
            (
                Some(
                    json!({ "rrset_name": "home", "rrset_type": "A", "rrset_ttl": 300, "rrset_values": ["198.51.100.6", "198.51.100.5"] }),
                ),
                true,
            ),
            (
                Some(
                    json!({ "rrset_name": "home", "rrset_type": "A", "rrset_ttl": 300, "rrset_values": ["198.51.100.7"] }),
                ),
                false,
            ),
        ] {
            let f = fake(current).await;
            let out = update(
                &build(&cfg(&f.url(""))),
                "home.example.com",
                RecordType::A,
                "198.51.100.7",
                None,
            )
            .await
            .unwrap();
            let w = writes(&f);
            if write {
                assert_eq!(out, UpdateOutcome::Updated { record_id: None });
                assert_eq!(
                    (w[0].method.as_str(), w[0].path()),
                    ("PUT", "/domains/example.com/records/home/A")
                );
                assert_eq!(w[0].headers["authorization"], "Bearer gandi-s3cret-pat");
                assert_eq!(
                    w[0].json(),
                    json!({ "rrset_values": ["198.51.100.7"], "rrset_ttl": 300 })
                );
            } else {
                assert_eq!(out, UpdateOutcome::Unchanged { record_id: None });
                assert!(w.is_empty());
            }
        }
    }

    #[tokio::test]
    async fn failures() {
        common_failures(cfg, Reply::status(403, r#"{"code":403,"message":"Access was denied to this resource.","object":"HTTPForbidden","cause":"Forbidden"}"#), "home.example.com").await;
    }
}

mod dynv6 {
    use super::*;

    fn cfg(endpoint: &str) -> String {
        format!("kind = \"dynv6\"\ntoken = \"dynv6-s3cret-token\"\nendpoint = \"{endpoint}\"")
    }

    async fn fake(records: Value) -> FakeHttp {
        FakeHttp::start(move |r| match (r.method.as_str(), r.path()) {
            ("GET", "/zones") => json_reply(&json!([{ "id": 7, "name": "home.dynv6.net", "ipv4address": "198.51.100.1", "ipv6prefix": "" }])),
            ("GET", "/zones/7/records") => json_reply(&records),
            ("POST", "/zones/7/records") => json_reply(&json!({ "id": 99, "name": r.json()["name"], "type": r.json()["type"], "data": r.json()["data"] })),
            ("PATCH", _) => json_reply(&json!({ "id": 1, "name": "nas", "type": "A", "data": r.json()["data"] })),
            ("DELETE", _) => Reply::ok(""),
            _ => Reply::status(404, "{}"),
        })
        .await
    }

    #[tokio::test]
    async fn zone_apex_records_and_unchanged() {
        let f = fake(json!([])).await;
        update(
            &build(&cfg(&f.url(""))),
            "home.dynv6.net",
            RecordType::A,
            "198.51.100.7",
            None,
        )
        .await
        .unwrap();
        let w = writes(&f);
        assert_eq!((w[0].method.as_str(), w[0].path()), ("PATCH", "/zones/7"));
        assert_eq!(w[0].json(), json!({ "ipv4address": "198.51.100.7" }));
        assert_eq!(w[0].headers["authorization"], "Bearer dynv6-s3cret-token");

        let f = fake(json!([])).await;
        assert_eq!(
            update(
                &build(&cfg(&f.url(""))),
                "home.dynv6.net",
                RecordType::A,
                "198.51.100.1",
                None
            )
            .await
            .unwrap(),
            UpdateOutcome::Unchanged { record_id: None }
        );

        let f = fake(json!([])).await;
        assert_eq!(
            update(
                &build(&cfg(&f.url(""))),
                "nas.home.dynv6.net",
                RecordType::A,
                "198.51.100.7",
                None
            )
            .await
            .unwrap(),
            UpdateOutcome::Updated {
                record_id: Some("99".into())
            }
        );
        assert_eq!(
            writes(&f)[0].json(),
            json!({ "name": "nas", "type": "A", "data": "198.51.100.7" })
        );

        let f = fake(json!([{ "id": 1, "name": "nas", "type": "A", "data": "198.51.100.6" }, { "id": 2, "name": "nas", "type": "A", "data": "198.51.100.5" }, { "id": 3, "name": "nas2", "type": "A", "data": "198.51.100.4" }])).await;
        update(
            &build(&cfg(&f.url(""))),
            "nas.home.dynv6.net",
            RecordType::A,
            "198.51.100.7",
            None,
        )
        .await
        .unwrap();
        let w: Vec<(String, String)> = writes(&f)
            .into_iter()
            .map(|r| (r.method.clone(), r.path().to_owned()))
            .collect();
        assert_eq!(
            w,
            [
                ("PATCH".into(), "/zones/7/records/1".into()),
                ("DELETE".into(), "/zones/7/records/2".into()),
            ]
        );

        let f =
            fake(json!([{ "id": 1, "name": "nas", "type": "A", "data": "198.51.100.7" }])).await;
        assert_eq!(
            update(
                &build(&cfg(&f.url(""))),
                "nas.home.dynv6.net",
                RecordType::A,
                "198.51.100.7",
                None
            )
            .await
            .unwrap(),
            UpdateOutcome::Unchanged {
                record_id: Some("1".into())
            }
        );
    }

    #[tokio::test]
    async fn failures() {
        common_failures(cfg, Reply::status(401, "Unauthorized"), "home.dynv6.net").await;
    }
}
mod aliesa;
mod azure;
mod baidu;
mod bunny;
mod cloudns;
mod digitalocean;
mod dnscom;
mod dnsla;
mod dnspod_token;
mod dynadot;
mod dyndns2_presets;
mod easydns;
mod edgeone;
mod freedns;
mod gcloud;
mod gcore;
mod ionos;
mod jdcloud;
mod linode;
mod namecom;
mod namesilo;
mod netcup;
mod nowcn;
mod ovh;
mod rainyun;
mod route53;
mod scaleway;
mod spaceship;
mod vercel;
mod volcengine;
mod vultr;
mod westcn;
mod zoneedit;
