use std::time::Duration;

use super::*;

fn env(var: &str) -> Option<String> {
    (var == "PDNS_KEY").then(|| "key-from-env-1234".to_owned())
}

fn issues(text: &str) -> Vec<Issue> {
    load_str(text, &env).expect_err("should be invalid")
}

fn paths(text: &str) -> Vec<String> {
    issues(text).into_iter().map(|i| i.path).collect()
}

const PROVIDER: &str = r#"
[[provider]]
name = "home-pdns"
kind = "powerdns"
url = "http://127.0.0.1:8081"
api_key = "k3y-for-tests"
"#;

#[test]
fn the_documented_example_is_valid() {
    let text = r#"
interval = "5m"
max_interval = "24h"
ipv4 = true
ipv6 = false

[detect]
policy = "first"
ipv4 = [ { kind = "cloudflare-trace" }, { kind = "http", url = "https://api.ipify.org" } ]
ipv6 = [ { kind = "interface", name = "eth0" } ]

[[provider]]
name = "home-pdns"
kind = "powerdns"
url = "http://127.0.0.1:8081"
api_key = "secret"

[[record]]
name = "home.example.test"
provider = "home-pdns"
type = "A"
ttl = 60
"#;
    let (_, s) = load_str(text, &env).unwrap();
    assert_eq!(s.interval, Duration::from_mins(5));
    assert_eq!(s.max_interval, Some(Duration::from_hours(24)));
    assert_eq!(s.detect.ipv4.len(), 2);
    assert_eq!(
        s.records,
        vec![RecordSettings {
            name: "home.example.test".into(),
            record_type: RecordType::A,
            provider: "home-pdns".into(),
            ttl: Some(60)
        }]
    );
}

#[test]
fn an_empty_file_means_defaults() {
    let (_, s) = load_str("", &env).unwrap();
    assert_eq!(s.interval, Duration::from_mins(5));
    assert!(s.ipv4 && !s.ipv6);
    assert!(s.records.is_empty());
    let kinds: Vec<_> = s.detect.ipv4.iter().map(|s| s.kind.clone()).collect();
    assert!(matches!(
        kinds[0],
        SourceKind::CloudflareTrace { url: None }
    ));
    assert_eq!(
        kinds[1],
        SourceKind::Http {
            url: "https://api.ipify.org".into()
        }
    );
    assert_eq!(
        kinds[2],
        SourceKind::Http {
            url: "https://ipv4.icanhazip.com".into()
        }
    );
    assert_eq!(
        s.detect.ipv6[1].kind,
        SourceKind::Http {
            url: "https://api6.ipify.org".into()
        }
    );
}

#[test]
fn every_problem_is_reported_at_once_with_its_path() {
    let text = format!(
        r#"
interval = "10s"
max_interval = "soon"
colour = "blue"
{PROVIDER}
[[record]]
name = "a.example.test"
provider = "nope"

[[record]]
name = "b.example.test"
provider = "home-pdns"
type = "MX"

[[record]]
name = "c.example.test"
provider = "home-pdns"
extra = 1
"#
    );
    let got = paths(&text);
    for want in [
        "interval",
        "max_interval",
        "colour",
        "record[0].provider",
        "record[1].type",
        "record[2].extra",
    ] {
        assert!(got.iter().any(|p| p == want), "missing {want} in {got:?}");
    }
    let all = issues(&text);
    let provider = all.iter().find(|i| i.path == "record[0].provider").unwrap();
    assert!(
        provider.message.contains("no provider is named `nope`"),
        "{provider:?}"
    );
    assert!(provider.hint.contains("home-pdns"), "{provider:?}");
    let unknown = all.iter().find(|i| i.path == "record[2].extra").unwrap();
    assert!(
        unknown.message.contains("unknown field `extra`"),
        "{unknown:?}"
    );
}

#[test]
fn bad_input_table() {
    // (case, text, expected path, fragment of the message)
    let cases: &[(&str, String, &str, &str)] = &[
        ("malformed toml", "interval = \"5m\nipv4 = true".into(), "(file)", "not valid TOML"),
        ("wrong type", "ipv4 = \"yes\"".into(), "ipv4", "invalid type"),
        ("duration as number", "interval = 300".into(), "interval", "duration string"),
        ("unknown key", "intervall = \"5m\"".into(), "intervall", "unknown key"),
        ("unknown provider kind", "[[provider]]\nname = \"x\"\nkind = \"route66\"".into(), "provider[0].kind", "unknown kind `route66`"),
        ("missing provider kind", "[[provider]]\nname = \"x\"".into(), "provider[0].kind", "missing"),
        ("missing provider name", "[[provider]]\nkind = \"webhook\"\nurl = \"https://h.example/x\"".into(), "provider[0].name", "missing"),
        ("provider unknown field", format!("{PROVIDER}zone_id = \"x\""), "provider[0].zone_id", "unknown field `zone_id`"),
        ("provider missing field", "[[provider]]\nname = \"x\"\nkind = \"powerdns\"\nurl = \"http://127.0.0.1:1\"".into(), "provider[0]", "missing field `api_key`"),
        ("duplicate provider", format!("{PROVIDER}{PROVIDER}"), "provider[1].name", "already named"),
        ("duplicate record", format!("{PROVIDER}[[record]]\nname = \"a.example.test\"\nprovider = \"home-pdns\"\n[[record]]\nname = \"A.Example.Test.\"\nprovider = \"home-pdns\"\ntype = \"A\""), "record[1].name", "duplicate of record[0]"),
        ("quoted secret", PROVIDER.replace("\"k3y-for-tests\"", "\"'k3y-for-tests'\""), "provider[0].api_key", "quotes"),
        ("placeholder secret", PROVIDER.replace("k3y-for-tests", "<your api key>"), "provider[0].api_key", "placeholder"),
        ("missing env secret", PROVIDER.replace("\"k3y-for-tests\"", "{ env = \"NOT_SET_ANYWHERE\" }"), "provider[0].api_key", "not set"),
        ("bad url", PROVIDER.replace("http://127.0.0.1:8081", "127.0.0.1:8081"), "provider[0].url", ""),
        ("aaaa with ipv6 off", format!("{PROVIDER}[[record]]\nname = \"a.example.test\"\nprovider = \"home-pdns\"\ntype = \"AAAA\""), "record[0].type", "ipv6 = false"),
        ("bad record name", format!("{PROVIDER}[[record]]\nname = \"bad name.example\"\nprovider = \"home-pdns\""), "record[0].name", "not a valid domain name"),
        ("single label", format!("{PROVIDER}[[record]]\nname = \"localhost\"\nprovider = \"home-pdns\""), "record[0].name", "fully qualified"),
        ("ttl zero", format!("{PROVIDER}[[record]]\nname = \"a.example.test\"\nprovider = \"home-pdns\"\nttl = 0"), "record[0].ttl", "between"),
        ("both families off", "ipv4 = false".into(), "ipv4", "both"),
        ("policy typo", "[detect]\npolicy = \"majority\"".into(), "detect.policy", "unknown policy"),
        ("agree with one source", "[detect]\npolicy = \"agree\"\nipv4 = [ { kind = \"http\", url = \"https://x.example\" } ]".into(), "detect.ipv4", "at least two"),
        ("source unknown kind", "[detect]\nipv4 = [ { kind = \"carrier-pigeon\" } ]".into(), "detect.ipv4[0].kind", "unknown kind"),
        ("source bad timeout", "[detect]\nipv4 = [ { kind = \"http\", url = \"https://x.example\", timeout = \"fast\" } ]".into(), "detect.ipv4[0].timeout", "not a duration"),
        ("dns wrong type", "[detect]\nipv4 = [ { kind = \"dns\", server = \"127.0.0.1:53\", name = \"myip.opendns.com\", type = \"AAAA\" } ]".into(), "detect.ipv4[0].type", "cannot answer"),
        ("dns bad server", "[detect]\nipv4 = [ { kind = \"dns\", server = \"127.0.0.1:dns\" } ]".into(), "detect.ipv4[0].server", "port"),
        ("empty command", "[detect]\nipv4 = [ { kind = \"command\", command = [] } ]".into(), "detect.ipv4[0].command", "empty"),
        ("tsig bad base64", "[[provider]]\nname = \"k\"\nkind = \"rfc2136\"\nserver = \"127.0.0.1:53\"\nzone = \"example.test\"\nkey_name = \"ddns-key\"\nkey_secret = \"not base64!!\"".into(), "provider[0].key_secret", "base64"),
        ("tsig md5", "[[provider]]\nname = \"k\"\nkind = \"rfc2136\"\nserver = \"127.0.0.1:53\"\nzone = \"example.test\"\nkey_name = \"ddns-key\"\nkey_algorithm = \"hmac-md5\"\nkey_secret = \"c2VjcmV0LWtleS1ieXRlcw==\"".into(), "provider[0].key_algorithm", "unsupported"),
        ("webhook bad regex", "[[provider]]\nname = \"w\"\nkind = \"webhook\"\nurl = \"https://h.example/u?ip={ip}\"\nsuccess_regex = \"(\"".into(), "provider[0].success_regex", "regex"),
        ("record outside zone", "[[provider]]\nname = \"k\"\nkind = \"rfc2136\"\nserver = \"127.0.0.1:53\"\nzone = \"example.test\"\nkey_name = \"ddns-key\"\nkey_secret = \"c2VjcmV0LWtleS1ieXRlcw==\"\n[[record]]\nname = \"home.other.test\"\nprovider = \"k\"".into(), "record[0].name", "not inside zone"),
    ];
    for (case, text, path, fragment) in cases {
        let found = issues(text);
        let hit = found.iter().find(|i| i.path == *path);
        assert!(
            hit.is_some_and(|i| i.message.contains(fragment)),
            "{case}: wanted `{path}` with `{fragment}`, got {found:#?}"
        );
        assert!(
            found.iter().all(|i| !i.hint.is_empty()),
            "{case}: every issue has a hint: {found:#?}"
        );
    }
}

#[test]
fn secrets_never_appear_in_issues() {
    let secret = "Sup3r-S3cret-Value";
    let texts = [
        PROVIDER.replace("k3y-for-tests", &format!("{secret} ")),
        PROVIDER.replace("\"k3y-for-tests\"", &format!("\"\\\"{secret}\\\"\"")),
        PROVIDER.replace("k3y-for-tests", &format!("API_KEY={secret}")),
    ];
    for text in texts {
        for issue in issues(&text) {
            let shown = issue.to_string();
            assert!(!shown.contains(secret), "{shown}");
        }
    }
}

#[test]
fn secrets_from_env_and_names_normalised() {
    let text = r#"
ipv6 = true
[[provider]]
name = "p"
kind = "powerdns"
url = "http://127.0.0.1:8081"
api_key = { env = "PDNS_KEY" }

[[record]]
name = "Bücher.Example.test."
provider = "p"
"#;
    let (_, s) = load_str(text, &env).unwrap();
    let ProviderKind::Powerdns(p) = &s.providers[0].kind else {
        panic!()
    };
    assert_eq!(p.api_key.expose(), "key-from-env-1234");
    let names: Vec<_> = s
        .records
        .iter()
        .map(|r| (r.name.as_str(), r.record_type))
        .collect();
    assert_eq!(
        names,
        [
            ("xn--bcher-kva.example.test", RecordType::A),
            ("xn--bcher-kva.example.test", RecordType::Aaaa)
        ]
    );
}

#[test]
fn written_back_the_file_reads_the_same() {
    let text = format!(
        r#"
interval = "1m"
[detect]
policy = "agree"
ipv4 = [ {{ kind = "http", url = "https://a.example", allow_private = true }}, {{ kind = "dns", server = "127.0.0.1:5300", name = "myip.opendns.com", timeout = "2s" }} ]
{PROVIDER}
[[provider]]
name = "hook"
kind = "webhook"
url = "https://h.example/u?ip={{ip}}"
headers = {{ Authorization = {{ env = "PDNS_KEY" }} }}

[[record]]
name = "a.example.test"
provider = "home-pdns"
"#
    );
    let (file, settings) = load_str(&text, &env).unwrap();
    let written = file.to_toml().unwrap();
    let (file2, settings2) = load_str(&written, &env).unwrap();
    assert_eq!(file, file2, "{written}");
    assert_eq!(settings, settings2);
    assert!(
        written.contains("{ env = \"PDNS_KEY\" }") || written.contains("env = \"PDNS_KEY\""),
        "{written}"
    );
}
