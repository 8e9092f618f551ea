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
            ttl: Some(60),
            line: None,
            ipv6_host: None,
            via: None,
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
    // Three operators by hostname (issue 20): OpenDNS over DNS, ipify, Cloudflare's trace; policy confirm.
    assert_eq!(s.detect.policy, Policy::Confirm);
    assert_eq!(
        kinds[0],
        SourceKind::Dns {
            server: Some("resolver1.opendns.com:53".into()),
            name: Some("myip.opendns.com".into()),
            record_type: Some("A".into()),
        }
    );
    assert_eq!(
        kinds[1],
        SourceKind::Http {
            url: "https://api.ipify.org".into()
        }
    );
    assert!(matches!(
        kinds[2],
        SourceKind::CloudflareTrace { url: None }
    ));
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
#[allow(clippy::too_many_lines)] // one row per bad input
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
        ("provider missing field", "[[provider]]\nname = \"x\"\nkind = \"powerdns\"\nurl = \"http://127.0.0.1:1\"".into(), "provider[0].api_key", "missing field `api_key`"),
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
        ("router protocol typo", "[detect]\nipv4 = [ { kind = \"router\", protocol = \"pcp\" } ]".into(), "detect.ipv4[0].protocol", "unknown protocol"),
        ("router bad gateway", "[detect]\nipv4 = [ { kind = \"router\", gateway = \"router.lan\" } ]".into(), "detect.ipv4[0].gateway", "not an IPv4"),
        ("router for ipv6", "[detect]\nipv6 = [ { kind = \"router\" } ]".into(), "detect.ipv6[0].kind", "only its IPv4"),
        ("router unknown field", "[detect]\nipv4 = [ { kind = \"router\", port = 5351 } ]".into(), "detect.ipv4[0].port", "unknown field"),
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

/// The common mistakes per provider: a missing credential, a malformed key id, an endpoint that is not
/// http(s), a Global API Key where a token belongs.
#[test]
#[allow(clippy::too_many_lines)] // one row per mistake
fn provider_field_mistakes() {
    let cases: &[(&str, &str, &str, &str)] = &[
        (
            "cloudflare",
            "",
            "provider[0].token",
            "missing field `token`",
        ),
        (
            "cloudflare",
            "token = \"0123456789abcdef0123456789abcdef01234\"",
            "provider[0].token",
            "Global API Key",
        ),
        (
            "cloudflare",
            "token = \"tok-123456\"\nzone_id = \"example.com\"",
            "provider[0].zone_id",
            "32 hex",
        ),
        (
            "cloudflare",
            "token = \"tok-123456\"\nendpoint = \"ftp://api.example\"",
            "provider[0].endpoint",
            "not http(s)",
        ),
        (
            "alidns",
            "access_key_id = \"LTAI 5t\"\naccess_key_secret = \"s3cret-1\"",
            "provider[0].access_key_id",
            "well-formed",
        ),
        (
            "alidns",
            "access_key_id = \"LTAI5t\"",
            "provider[0].access_key_secret",
            "missing field",
        ),
        (
            "dnspod",
            "secret_id = \"AKID-x/y\"\nsecret_key = \"s3cret-1\"",
            "provider[0].secret_id",
            "well-formed",
        ),
        (
            "huaweicloud",
            "access_key_id = \"\"\nsecret_access_key = \"s3cret-1\"",
            "provider[0].access_key_id",
            "well-formed",
        ),
        (
            "dyndns2",
            "username = \"me\"\npassword = \"s3cret-1\"",
            "provider[0].server",
            "missing",
        ),
        (
            "noip",
            "password = \"s3cret-1\"",
            "provider[0].username",
            "missing",
        ),
        (
            "noip",
            "username = \"me\"\npassword = \"s3cret-1\"\nserver = \"dynupdate.no-ip.com\"",
            "provider[0].server",
            "not a URL",
        ),
        (
            "duckdns",
            "token = \"<token>\"",
            "provider[0].token",
            "placeholder",
        ),
        ("desec", "token = \"\"", "provider[0].token", "empty"),
        (
            "porkbun",
            "api_key = \"pk1_x\"",
            "provider[0].secret_api_key",
            "missing field",
        ),
        (
            "porkbun",
            "api_key = \"pk1_x\"\nsecret_api_key = \"sk1_x\"\ndomain = \"bad domain\"",
            "provider[0].domain",
            "not a valid domain",
        ),
        (
            "godaddy",
            "api_key = \"k-1234\"\napi_secret = \"'s3cret'\"",
            "provider[0].api_secret",
            "quotes",
        ),
        (
            "namecheap",
            "password = \"NAMECHEAP_PASSWORD=abc\"",
            "provider[0].password",
            "NAME=value",
        ),
        (
            "hetzner",
            "token = \"tok-123456\"\nzone = \"-bad-\"",
            "provider[0].zone",
            "not a valid domain",
        ),
        (
            "gandi",
            "token = \"tok-123456\"\nendpoint = \"api.gandi.net\"",
            "provider[0].endpoint",
            "not a URL",
        ),
        (
            "dynv6",
            "token = \"${DYNV6_TOKEN}\"",
            "provider[0].token",
            "placeholder",
        ),
    ];
    for (kind, fields, path, fragment) in cases {
        let text = format!("[[provider]]\nname = \"p\"\nkind = \"{kind}\"\n{fields}\n");
        let found = issues(&text);
        assert!(
            found
                .iter()
                .any(|i| i.path == *path && i.message.contains(fragment) && !i.hint.is_empty()),
            "{kind}: wanted `{path}` with `{fragment}`, got {found:#?}"
        );
    }
}

#[test]
fn duckdns_names_must_be_duckdns_names() {
    let text = "[[provider]]\nname = \"d\"\nkind = \"duckdns\"\ntoken = \"a7c4d0ad-114e\"\n[[record]]\nname = \"home.example.com\"\nprovider = \"d\"\n";
    assert!(
        issues(text)
            .iter()
            .any(|i| i.path == "record[0].name" && i.message.contains("not a DuckDNS name"))
    );
}

#[test]
fn ipv6_host_ids_from_an_interface_id_or_a_mac() {
    use crate::config::Ipv6Host;
    use std::net::Ipv6Addr;
    let prefix: Ipv6Addr = "2001:db8:aa:bb:1:2:3:4".parse().unwrap();
    let h = Ipv6Host::parse("::1234", 64).unwrap();
    assert_eq!(
        h.apply(prefix),
        "2001:db8:aa:bb::1234".parse::<Ipv6Addr>().unwrap()
    );
    // RFC 4291 appendix A: 52:54:00:12:34:56 -> 5054:00ff:fe12:3456 (universal/local bit flipped).
    let mac = Ipv6Host::parse("52-54-00-12-34-56", 64).unwrap();
    assert_eq!(
        mac.apply(prefix),
        "2001:db8:aa:bb:5054:ff:fe12:3456"
            .parse::<Ipv6Addr>()
            .unwrap()
    );
    let h56 = Ipv6Host::parse("::1:0:0:0:1234", 56).unwrap();
    assert_eq!(
        h56.apply(prefix),
        "2001:db8:aa:1::1234".parse::<Ipv6Addr>().unwrap()
    );
    for (text, len, why) in [
        ("2001::1234", 64, "inside the /64 prefix"),
        ("::", 64, "zero"),
        ("nas", 64, "neither"),
        ("52:54:00:12:34", 64, "neither"),
        ("::1", 0, "no host part"),
        ("::1", 128, "no host part"),
        ("52:54:00:12:34:56", 72, "inside the /72 prefix"),
    ] {
        let err = Ipv6Host::parse(text, len).expect_err(text);
        assert!(err.contains(why), "{text}/{len}: {err}");
    }
}

#[test]
fn ipv6_host_is_for_aaaa_records_only() {
    let base = r#"
[detect]
ipv4 = [ { kind = "http", url = "http://127.0.0.1:1/" } ]
ipv6 = [ { kind = "http", url = "http://127.0.0.1:1/" } ]
[[provider]]
name = "p"
kind = "duckdns"
token = "t"
"#;
    let text = format!(
        "ipv6 = true\n{base}[[record]]\nname = \"nas.duckdns.org\"\nprovider = \"p\"\nipv6_host = \"::1234\"\n"
    );
    assert!(paths(&text).contains(&"record[0].ipv6_host".to_owned()));
    let text = format!(
        "{base}[[record]]\nname = \"nas.duckdns.org\"\nprovider = \"p\"\nipv6_prefix_len = 56\n"
    );
    assert!(paths(&text).contains(&"record[0].ipv6_prefix_len".to_owned()));
}

#[test]
fn a_router_source_with_and_without_its_options() {
    let text = "ipv6 = false\n[detect]\nipv4 = [ { kind = \"router\" }, { kind = \"router\", protocol = \"upnp\", gateway = \"10.77.0.1\", timeout = \"4s\" } ]\n";
    let (_, settings) = load_str(text, &env).expect("valid");
    assert_eq!(
        settings.detect.ipv4[0].kind,
        SourceKind::Router {
            protocol: None,
            gateway: None
        }
    );
    assert_eq!(
        settings.detect.ipv4[1].kind,
        SourceKind::Router {
            protocol: Some("upnp".into()),
            gateway: Some("10.77.0.1".into())
        }
    );
    assert_eq!(settings.detect.ipv4[1].timeout, Duration::from_secs(4));
}

/// Every kind of every family (providers, notifiers, detection sources) has its title, what it needs, and a
/// label and help for each field, in both languages, in every build (the window's tests run only in tray
/// builds). The words are keyed by kind and field, so a kind without its own help is caught here.
#[test]
fn every_kind_and_field_has_its_words_in_both_catalogues() {
    let tables: [(&str, &[crate::config::kinds::KindInfo]); 3] = [
        ("provider", crate::provider::KINDS),
        ("notifier", crate::notifier::NOTIFY_KINDS),
        ("source", crate::detect::settings::KINDS),
    ];
    let mut missing = Vec::new();
    for locale in ["en", "zh-CN"] {
        let has = |key: &str| crate::i18n::has_in(locale, key);
        for (family, kinds) in tables {
            assert!(!kinds.is_empty(), "{family}: no kinds");
            for k in kinds {
                for key in [k.key("title"), k.key("credential")] {
                    if !has(&key) {
                        missing.push(format!("{locale}: {key}"));
                    }
                }
                for f in k.fields {
                    for key in [
                        format!("field.{}", f.name),
                        k.key(&format!("help.{}", f.name)),
                    ] {
                        if !has(&key) && !missing.contains(&format!("{locale}: {key}")) {
                            missing.push(format!("{locale}: {key}"));
                        }
                    }
                }
            }
        }
    }
    assert!(missing.is_empty(), "missing words:\n{}", missing.join("\n"));
}

/// Regression (the window showed "API token (for Cloudflare a scoped token …)" under the deSEC, `DuckDNS`,
/// Gandi, Hetzner and dynv6 token fields, and a Porkbun hint under `PowerDNS's` key: help was looked up by
/// field name only): no kind's help names another kind.
#[test]
fn no_kind_shows_another_kinds_help() {
    let kinds = crate::provider::KINDS;
    for locale in ["en", "zh-CN"] {
        for k in kinds {
            for f in k.fields {
                let help = crate::i18n::tr_in(locale, &k.key(&format!("help.{}", f.name)));
                for other in kinds.iter().filter(|o| o.kind != k.kind) {
                    let name = crate::i18n::tr_in("en", &other.key("title"));
                    // Presets name their family (dyndns2); product names of one word only.
                    let word = name.split([' ', '(']).next().unwrap_or_default();
                    if word.len() < 4 || ["dyndns2", "DNS-O-Matic"].contains(&word) {
                        continue;
                    }
                    assert!(
                        !help.contains(word),
                        "{locale}: the help of {}.{} names {word}: {help:?}",
                        k.kind,
                        f.name
                    );
                }
            }
        }
    }
}

/// The config a tray hands to the system service: every secret reference (keyring, environment, file,
/// the service's store; in a field or a header) becomes its value, the rest stays; a secret that cannot
/// be read is named at its field, without any value.
#[test]
fn inlined_writes_every_secret_out_and_names_the_ones_it_cannot_read() {
    struct Stores;
    impl crate::config::secret::Lookup for Stores {
        fn env(&self, var: &str) -> Option<String> {
            (var == "PDNS_KEY").then(|| "key-from-env-1234".to_owned())
        }
        fn keyring(&self, entry: &str) -> Result<String, String> {
            match entry {
                "hook/token" => Ok("token-from-keyring-5678".to_owned()),
                _ => Err("no such entry".to_owned()),
            }
        }
        fn store(&self, entry: &str) -> Result<String, String> {
            match entry {
                "notify/mail/password" => Ok("password-from-store-9012".to_owned()),
                _ => Err("no such entry".to_owned()),
            }
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("secret.txt");
    std::fs::write(&file, "secret-from-file-3456\n").unwrap();
    let text = format!(
        r#"
[[provider]]
name = "home-pdns"
kind = "powerdns"
url = "http://127.0.0.1:8081"
api_key = {{ env = "PDNS_KEY" }}

[[provider]]
name = "hook"
kind = "webhook"
url = "http://127.0.0.1:9/u"
headers = {{ Authorization = {{ keyring = "hook/token" }}, X-File = {{ file = "{}" }} }}

[[notify]]
name = "mail"
kind = "email"
server = "smtp://127.0.0.1:2525"
from = "a@example.test"
to = ["b@example.test"]
username = "a"
password = {{ store = "notify/mail/password" }}

[[record]]
name = "pc.example.test"
provider = "home-pdns"
"#,
        file.display()
    );
    let out = inlined(&text, &Stores).unwrap();
    for value in [
        "key-from-env-1234",
        "token-from-keyring-5678",
        "secret-from-file-3456",
        "password-from-store-9012",
    ] {
        assert!(out.contains(&format!("\"{value}\"")), "{value}: {out}");
    }
    for reference in ["env =", "keyring =", "file =", "store ="] {
        assert!(!out.contains(reference), "{reference}: {out}");
    }
    assert!(out.contains("pc.example.test"), "{out}");
    // It reads as the same config, with the secrets in it.
    let (_, settings) = load_str(&out, &|_: &str| None).unwrap();
    assert_eq!(settings.records.len(), 1);

    let missing = text.replace("hook/token", "hook/gone");
    let issues = inlined(&missing, &Stores).unwrap_err();
    assert_eq!(issues.len(), 1, "{issues:?}");
    assert_eq!(issues[0].path, "provider[1].headers.Authorization");
    assert!(!format!("{issues:?}").contains("5678"));
}
