//! `ddns-tray import` through the real binary, on the sample files in `tests/import/` (written from each
//! project's own docs and examples, see `tests/import/NOTES.md`): what each setting becomes, what is listed
//! as not carried over, that no secret of the sample reaches the written config or the output, and that the
//! result passes `check` with its secrets where the import put them.

use std::path::{Path, PathBuf};

use ddns_tray::import::{self, Format, SecretMode};
use toml::{Table, Value};

use crate::support::{Case, Run};

fn sample(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/import")
        .join(rel)
}

/// A case whose config file does not exist yet.
fn empty_case() -> Case {
    let case = Case::new("");
    std::fs::remove_file(case.config_path()).unwrap();
    case
}

fn run(case: &Case, args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut cmd = case.command(args);
    cmd.env("LANG", "C.UTF-8").env_remove("LC_ALL");
    for (k, v) in env {
        cmd.env(k, v);
    }
    Run::from(cmd.output().unwrap())
}

/// What one sample must give.
struct Sample<'a> {
    /// The file to import (under `tests/import/`, or a path prepared by the test).
    file: PathBuf,
    /// Variables the sample's own references need (as the other client had them).
    env: &'a [(&'a str, &'a str)],
    /// Every secret the sample holds: none may appear in the config or the output.
    secrets: &'a [&'a str],
    /// Words of the "Not carried over" list, one per setting left out.
    left_out: &'a [&'a str],
}

/// Imports `s` with `--secrets env`, checks what is common to every sample, and returns the written
/// config.
fn import_sample(s: &Sample<'_>) -> Table {
    let case = empty_case();
    let file = s.file.to_str().unwrap();
    let out = run(&case, &["import", "--secrets", "env", file], s.env);
    assert_eq!(out.code, 0, "{out:?}");
    let written = std::fs::read_to_string(case.config_path()).unwrap();
    for secret in s.secrets {
        for (what, text) in [
            ("config", &written),
            ("stdout", &out.stdout),
            ("stderr", &out.stderr),
        ] {
            assert!(
                !text.contains(secret),
                "{secret} appears in the {what}:\n{text}"
            );
        }
    }
    let left = out
        .stdout
        .split("Not carried over:")
        .nth(1)
        .unwrap_or_default()
        .split("\n\n")
        .next()
        .unwrap_or_default();
    for word in s.left_out {
        assert!(
            left.contains(word),
            "{word} is not listed as left out:\n{out:?}"
        );
    }
    assert!(out.stdout.contains(": OK"), "{out:?}");
    // The variables the import names, set with the sample's values: `check` passes on the written file.
    let text = std::fs::read_to_string(&s.file).unwrap();
    let format = import::detect(&text, s.file.file_name().and_then(|n| n.to_str())).unwrap();
    let imported = import::convert(&text, format, SecretMode::Env, Some(&s.file)).unwrap();
    assert_eq!(imported.toml, written, "the library and the command agree");
    let mut env: Vec<(&str, &str)> = s.env.to_vec();
    for secret in &imported.secrets {
        assert!(
            out.stdout.contains(&secret.name),
            "{} is not named",
            secret.name
        );
        env.push((&secret.name, &secret.value));
    }
    let check = run(&case, &["check"], &env);
    assert_eq!(check.code, 0, "{check:?}\n{written}");
    written.parse().unwrap()
}

fn list<'a>(t: &'a Table, key: &str) -> Vec<&'a Table> {
    t.get(key)
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_table).collect())
        .unwrap_or_default()
}

/// The record `name` of `rtype` (and `line`, when given).
fn record<'a>(t: &'a Table, name: &str, rtype: &str) -> &'a Table {
    list(t, "record")
        .into_iter()
        .find(|r| r["name"].as_str() == Some(name) && r["type"].as_str() == Some(rtype))
        .unwrap_or_else(|| panic!("no record {name} {rtype} in {t:#?}"))
}

fn provider<'a>(t: &'a Table, name: &str) -> &'a Table {
    list(t, "provider")
        .into_iter()
        .find(|p| p["name"].as_str() == Some(name))
        .unwrap_or_else(|| panic!("no provider {name} in {t:#?}"))
}

/// The provider of a record.
fn provider_of<'a>(t: &'a Table, name: &str, rtype: &str) -> &'a Table {
    provider(t, record(t, name, rtype)["provider"].as_str().unwrap())
}

fn str_of<'a>(t: &'a Table, key: &str) -> Option<&'a str> {
    t.get(key).and_then(Value::as_str)
}

/// `{ env = "…" }` (the secret went to a variable).
fn env_ref(v: &Value) -> &str {
    v.as_table()
        .and_then(|t| t.get("env"))
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("not an env reference: {v}"))
}

fn names(t: &Table) -> Vec<(String, String)> {
    list(t, "record")
        .iter()
        .map(|r| {
            (
                str_of(r, "name").unwrap().to_owned(),
                str_of(r, "type").unwrap().to_owned(),
            )
        })
        .collect()
}

fn sources(t: &Table, family: &str) -> Vec<String> {
    t.get("detect")
        .and_then(|d| d.get(family))
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .map(|s| {
                    let s = s.as_table().unwrap();
                    let arg = ["url", "name", "command"]
                        .iter()
                        .find_map(|k| s.get(*k))
                        .map(ToString::to_string)
                        .unwrap_or_default();
                    format!("{} {arg}", s["kind"].as_str().unwrap())
                })
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn ddns_go_aliyun_lines_and_an_ipv6_interface() {
    let t = import_sample(&Sample {
        file: sample("ddns-go/aliyun-lines-ipv6-iface.yaml"),
        env: &[],
        secrets: &[
            "FAKEaliyunAccessKeySecret0000000",
            "FAKEtencentSecretKey000000000000",
            "$2a$10$FAKEFAKEFAKEFAKEFAKEFuFAKEbcryptHashNotARealOne000000",
        ],
        left_out: &["ipv6.ipv6reg = @2", "ipv6reg = ^240e:", "user:"],
    });
    assert_eq!(str_of(&t, "language"), Some("zh-CN"));
    assert_eq!(t["ipv6"].as_bool(), Some(true));
    let ali = provider(&t, "aliyun-home");
    assert_eq!(str_of(ali, "kind"), Some("alidns"));
    assert_eq!(
        str_of(ali, "access_key_id"),
        Some("LTAI5tFAKEFAKEFAKEFAKE01")
    );
    env_ref(&ali["access_key_secret"]);
    let lines: Vec<&str> = list(&t, "record")
        .iter()
        .filter(|r| str_of(r, "name") == Some("home.example.com"))
        .filter_map(|r| str_of(r, "line"))
        .collect();
    assert_eq!(lines, ["telecom", "unicom"]);
    assert_eq!(
        record(&t, "home.example.com", "A")["ttl"].as_integer(),
        Some(600)
    );
    for (name, rtype) in [
        ("example.com", "A"),
        ("www.cn.example.net", "A"),
        ("nas.example.com", "AAAA"),
        ("nas6.cn.example.net", "AAAA"),
    ] {
        assert_eq!(
            str_of(record(&t, name, rtype), "provider"),
            Some("aliyun-home")
        );
    }
    let dnspod = provider_of(&t, "office.example.net", "AAAA");
    assert_eq!(str_of(dnspod, "kind"), Some("dnspod"));
    assert_eq!(
        str_of(dnspod, "secret_id"),
        Some("AKIDFAKEFAKEFAKEFAKEFAKEFAKEFAKE0000")
    );
    let office: Vec<&str> = list(&t, "record")
        .iter()
        .filter(|r| str_of(r, "name") == Some("office.example.net"))
        .filter_map(|r| str_of(r, "line"))
        .collect();
    assert_eq!(office, ["电信", "联通"]);
    let v4 = sources(&t, "ipv4");
    assert_eq!(v4.len(), 5, "{v4:?}");
    assert_eq!(v4[0], "http \"https://ddns.oray.com/checkip\"");
    assert_eq!(sources(&t, "ipv6"), ["interface \"eth0\""]);
}

#[test]
fn ddns_go_callbacks_with_credentials_are_left_out_and_legacy_dnspod_maps() {
    let t = import_sample(&Sample {
        file: sample("ddns-go/callback-porkbun-unsupported.yaml"),
        env: &[],
        secrets: &[
            "pk1_FAKEFAKEFAKEFAKEFAKEFAKEFAKEFAKEFAKEFAKEFAKEFAKEFAKEFAKEFAKEFAKE0000",
            "sk1_FAKEFAKEFAKEFAKEFAKEFAKEFAKEFAKEFAKEFAKEFAKEFAKEFAKEFAKEFAKEFAKE0000",
            "FAKEdnspodLegacyToken0000000000",
            "FAKEvercelToken000000000000",
            "FAKE-per-host-token-2",
            "FAKE-callback-key-000",
        ],
        left_out: &["gw.example.net: ", "gw2.example.net", "api.example.com"],
    });
    assert!(
        list(&t, "provider")
            .iter()
            .all(|p| str_of(p, "kind") != Some("webhook"))
    );
    let pork = provider_of(&t, "www.example.net", "A");
    assert_eq!(str_of(pork, "kind"), Some("porkbun"));
    env_ref(&pork["api_key"]);
    env_ref(&pork["secret_api_key"]);
    record(&t, "example.net", "A");
    let legacy = provider_of(&t, "router.example.com", "A");
    assert_eq!(str_of(legacy, "kind"), Some("dnspod-token"));
    assert_eq!(str_of(legacy, "token_id"), Some("123456"));
    assert_eq!(
        str_of(record(&t, "router.example.com", "A"), "line"),
        Some("电信")
    );
    let vercel = provider_of(&t, "edge.example.com", "A");
    assert_eq!(str_of(vercel, "team_id"), Some("team_FAKEteam000000000000"));
    assert_eq!(names(&t).len(), 4);
}

#[test]
fn ddns_go_cloudflare_proxied_commands_lines_and_webhook() {
    let t = import_sample(&Sample {
        file: sample("ddns-go/cloudflare-proxied-cmd.yaml"),
        env: &[],
        secrets: &[
            "FAKE_cf_token_0123456789abcdefABCDEF0123456",
            "FAKE-webhook-token-000",
            "$2a$10$FAKEFAKEFAKEFAKEFAKEFuFAKEbcryptHashNotARealOne111111",
        ],
        left_out: &[
            "(cf-lan-v6): ipv6.gettype = cmd",
            "user:",
            "notallowwanaccess",
        ],
    });
    // `ip -4 addr show ppp0` lists the interface's addresses: an interface source.
    assert_eq!(sources(&t, "ipv4"), ["interface \"ppp0\""]);
    let home = provider_of(&t, "home.example.com", "A");
    assert_eq!(home["proxied"].as_bool(), Some(true));
    assert_eq!(
        provider_of(&t, "home.example.com", "AAAA")["name"],
        home["name"]
    );
    let vpn = provider_of(&t, "vpn.example.com", "A");
    assert!(vpn.get("proxied").is_none());
    let lab = provider_of(&t, "*.lab.example.com", "A");
    assert_eq!(lab["proxied"].as_bool(), Some(true));
    assert_eq!(str_of(lab, "comment"), Some("managed-by-ddns-go"));
    record(&t, "git.dev.example.net", "AAAA");
    // One token, one variable, however many providers share it; cf-lan-v6 is cf-home-2 again.
    let vars: Vec<&str> = list(&t, "provider")
        .iter()
        .map(|p| env_ref(&p["token"]))
        .collect();
    assert_eq!(vars.len(), 3);
    assert_eq!(
        provider_of(&t, "printer.example.net", "AAAA")["name"],
        vpn["name"]
    );
    assert!(vars.iter().all(|v| *v == vars[0]), "{vars:?}");
    let printer = record(&t, "printer.example.net", "AAAA");
    assert_eq!(printer["ttl"].as_integer(), Some(300));
    assert_eq!(
        printer["lines"].as_array().unwrap()[0].as_str(),
        Some("eth1")
    );
    assert_eq!(printer["provider_via_line"].as_bool(), Some(true));
    let line = &list(&t, "line")[0];
    assert_eq!(str_of(line, "interface"), Some("eth1"));
    let hook = &list(&t, "notify")[0];
    assert_eq!(str_of(hook, "kind"), Some("webhook"));
    assert_eq!(
        str_of(hook, "url"),
        Some("https://hooks.example.net/ddns?ip={ip}&result={event}")
    );
    assert_eq!(str_of(hook, "method"), Some("POST"));
    assert!(
        str_of(hook, "body")
            .unwrap()
            .contains("IPv4 {ip} ({event}) for {name}")
    );
    let headers = hook["headers"].as_table().unwrap();
    env_ref(&headers["Authorization"]);
    assert_eq!(headers["X-Source"].as_str(), Some("ddns-go"));
}

#[test]
fn ddclient_dyndns2_family() {
    let t = import_sample(&Sample {
        file: sample("ddclient/dyndns2-family.conf"),
        env: &[("HE_DDNS_KEY_MAIL", "FAKEheKeyMail0000")],
        secrets: &[
            "FAKE-noip-p4ss#word",
            "FAKEdesecTokenAAAAAAAAAAAAAAAA",
            "FAKE-dnsomatic-pass",
            "FAKEheKeyForVpnRecord01",
            "FAKEdynv6HttpToken000000000",
            "00000000-fake-fake-fake-000000000000",
        ],
        left_out: &["syslog=yes", "mail-failure=root", "pid=/run/ddclient.pid"],
    });
    assert_eq!(str_of(&t, "interval"), Some("300s"));
    assert_eq!(sources(&t, "ipv4")[0], "http \"https://api.ipify.org/\"");
    let noip = provider_of(&t, "home.example.com", "A");
    assert_eq!(str_of(noip, "kind"), Some("noip"));
    assert_eq!(str_of(noip, "username"), Some("fake-noip-user@example.com"));
    assert_eq!(
        provider_of(&t, "nas.example.com", "A")["name"],
        noip["name"]
    );
    let desec = provider_of(&t, "example-home.dedyn.io", "AAAA");
    assert_eq!(str_of(desec, "kind"), Some("dyndns2"));
    assert_eq!(
        str_of(desec, "server"),
        Some("https://update.dedyn.io/nic/update")
    );
    record(&t, "example-home.dedyn.io", "A");
    assert_eq!(
        str_of(provider_of(&t, "all.dnsomatic.com", "A"), "kind"),
        Some("dnsomatic")
    );
    let vpn = provider_of(&t, "vpn.example.net", "A");
    let mail = provider_of(&t, "mail.example.net", "A");
    assert_eq!(str_of(vpn, "kind"), Some("he"));
    assert_ne!(vpn["name"], mail["name"], "one provider per record key");
    assert_eq!(env_ref(&mail["password"]), "HE_DDNS_KEY_MAIL");
    let dynv6 = provider_of(&t, "example-lab.dynv6.net", "AAAA");
    assert_eq!(
        str_of(dynv6, "server"),
        Some("https://dynv6.com/nic/update")
    );
    assert!(!names(&t).contains(&("example-lab.dynv6.net".into(), "A".into())));
    let duck = provider_of(&t, "example-home.duckdns.org", "A");
    assert_eq!(str_of(duck, "kind"), Some("duckdns"));
    record(&t, "example-nas.duckdns.org", "A");
}

#[test]
fn ddclient_api_providers() {
    let t = import_sample(&Sample {
        file: sample("ddclient/api-providers.conf"),
        env: &[],
        secrets: &[
            "FAKE_cf_api_token_0123456789abcdefABCDEF",
            "FAKEcfGlobalApiKey0000000000000000000",
            "pk1_FAKEFAKEFAKEFAKEFAKEFAKEFAKEFAKEFAKEFAKEFAKEFAKEFAKEFAKEFAKEFAKE0000",
            "sk1_FAKEFAKEFAKEFAKEFAKEFAKEFAKEFAKEFAKEFAKEFAKEFAKEFAKEFAKEFAKEFAKE0000",
            "FAKEgodaddyKey_000000000000",
            "FAKEgodaddySecret0000",
            "FAKEnamecheapDdnsPassword000000",
            "FAKEgandiPAT0000000000000000000000",
            "FAKEhetznerCloudToken00000000000000",
            "dop_v1_FAKEFAKEFAKEFAKEFAKEFAKE0000",
        ],
        left_out: &["www.example.net (protocol=cloudflare"],
    });
    assert_eq!(str_of(&t, "interval"), Some("5m"));
    assert_eq!(
        sources(&t, "ipv4"),
        ["command [\"/usr/local/bin/wan-ip\", \"--family\", \"4\"]"]
    );
    assert_eq!(sources(&t, "ipv6"), ["interface \"enp1s0\""]);
    let cf = provider_of(&t, "home.example.com", "A");
    assert_eq!(str_of(cf, "kind"), Some("cloudflare"));
    assert!(
        record(&t, "example.com", "A").get("ttl").is_none(),
        "ddclient's cloudflare has no ttl"
    );
    let pork = provider_of(&t, "host.sub.example.net", "AAAA");
    assert_eq!(str_of(pork, "domain"), Some("example.net"));
    record(&t, "example.net", "AAAA");
    let gd = provider_of(&t, "shop.example.com", "A");
    assert_eq!(str_of(gd, "domain"), Some("example.com"));
    assert_eq!(
        record(&t, "shop.example.com", "A")["ttl"].as_integer(),
        Some(600)
    );
    let nc = provider_of(&t, "blog.example.net", "A");
    assert_eq!(str_of(nc, "kind"), Some("namecheap"));
    assert_eq!(str_of(nc, "domain"), Some("example.net"));
    assert_eq!(
        provider_of(&t, "example.net", "A")["kind"].as_str(),
        Some("porkbun")
    );
    assert!(
        list(&t, "record")
            .iter()
            .any(|r| str_of(r, "name") == Some("example.net") && r["provider"] == nc["name"]),
        "@ is the domain itself"
    );
    let gandi = provider_of(&t, "mail.example.com", "A");
    assert_eq!(str_of(gandi, "zone"), Some("example.com"));
    assert_eq!(
        record(&t, "mail.example.com", "A")["ttl"].as_integer(),
        Some(3600)
    );
    assert_eq!(
        str_of(provider_of(&t, "cloud.example.net", "A"), "zone"),
        Some("example.net")
    );
    assert_eq!(
        str_of(provider_of(&t, "droplet.example.org", "A"), "kind"),
        Some("digitalocean")
    );
    assert!(!names(&t).iter().any(|(n, _)| n == "www.example.net"));
}

#[test]
fn ddclient_legacy_use_lines_positional_credentials_and_globals_in_order() {
    let t = import_sample(&Sample {
        file: sample("ddclient/legacy-use-router.conf"),
        env: &[],
        secrets: &[
            "FAKErouterPass",
            "FAKEloopiaPassword",
            "FAKEdynPassword",
            "FAKEfreednsPassword",
            "FAKEdynuPassword",
        ],
        left_out: &[
            "use=linksys",
            "example.mooo.com",
            "gw.dyn.example.net",
            "syslog=yes",
        ],
    });
    assert_eq!(str_of(&t, "interval"), Some("600s"));
    let loopia = provider_of(&t, "www.example.com", "A");
    assert_eq!(
        str_of(loopia, "server"),
        Some("http://dns.loopia.se/XDynDNSServer/XDynDNS.php")
    );
    assert_eq!(str_of(loopia, "username"), Some("fake-loopia-login"));
    let dyn_org = provider_of(&t, "legacy.example.net", "A");
    assert_eq!(str_of(dyn_org, "kind"), Some("dyn"));
    assert_eq!(str_of(dyn_org, "username"), Some("fake-dyn-login"));
    let dynu = provider_of(&t, "office.example.org", "A");
    assert_eq!(str_of(dynu, "kind"), Some("dynu"));
    assert_eq!(sources(&t, "ipv4"), ["http \"http://checkip.dyndns.org/\""]);
}

#[test]
fn inadyn_providers() {
    let t = import_sample(&Sample {
        file: sample("inadyn/providers-multi.conf"),
        env: &[],
        secrets: &[
            "FAKE_cf_api_token_0123456789abcdefABCDEF",
            "00000000-fake-fake-fake-000000000000",
            "noPasswordForDuckdns",
            "FAKE,noip!pass",
            "FAKEnoip2pass",
            "FAKEheDdnsKey01",
            "FAKEdnsomaticPass",
        ],
        left_out: &["user-agent = Mozilla/5.0", "provider no-ip.com:2"],
    });
    assert_eq!(str_of(&t, "interval"), Some("300s"));
    assert_eq!(str_of(&t, "max_interval"), Some("604800s"));
    let cf4 = provider_of(&t, "example.com", "A");
    assert_eq!(cf4["proxied"].as_bool(), Some(false));
    assert!(
        record(&t, "home.example.com", "A").get("ttl").is_none(),
        "ttl 1 is automatic"
    );
    let cf6 = provider_of(&t, "home.example.com", "AAAA");
    assert_eq!(cf6["proxied"].as_bool(), Some(true));
    assert_eq!(
        record(&t, "home.example.com", "AAAA")["ttl"].as_integer(),
        Some(120)
    );
    assert_eq!(env_ref(&cf4["token"]), env_ref(&cf6["token"]));
    assert_eq!(
        sources(&t, "ipv4"),
        ["cloudflare-trace \"https://1.1.1.1/cdn-cgi/trace\""]
    );
    assert_eq!(
        sources(&t, "ipv6"),
        ["cloudflare-trace \"https://dns64.cloudflare-dns.com/cdn-cgi/trace\""]
    );
    assert_eq!(
        str_of(provider_of(&t, "example-home.duckdns.org", "A"), "kind"),
        Some("duckdns")
    );
    let n1 = provider_of(&t, "nas.example.net", "A");
    let n2 = provider_of(&t, "cam.example.net", "A");
    assert_eq!(str_of(n1, "username"), Some("fake-noip-user@example.com"));
    assert_eq!(str_of(n2, "username"), Some("fake-second-noip"));
    let he = provider_of(&t, "vpn.example.net", "A");
    assert_eq!(str_of(he, "kind"), Some("he"));
    assert!(
        he.get("username").is_none(),
        "the record's name is he's default user"
    );
    assert_eq!(
        str_of(provider_of(&t, "all.dnsomatic.com", "A"), "kind"),
        Some("dnsomatic")
    );
}

#[test]
fn inadyn_custom_sections() {
    let t = import_sample(&Sample {
        file: sample("inadyn/custom-generic.conf"),
        env: &[],
        secrets: &[
            "FAKEnamecheapDdnsPassword000000",
            "FAKEDYNPASS",
            "FAKEdmeRecordPassword",
        ],
        left_out: &[
            "include(/etc/inadyn/selfhosted.secret)",
            "gw.example.org",
            "office.example.org",
        ],
    });
    assert_eq!(sources(&t, "ipv4"), ["interface \"eth0\""]);
    let nc = provider_of(&t, "test.example.net", "A");
    assert_eq!(str_of(nc, "kind"), Some("namecheap"));
    assert_eq!(str_of(nc, "domain"), Some("example.net"));
    record(&t, "example.net", "A");
    record(&t, "www.example.net", "A");
    let dyn_com = provider_of(&t, "legacy.example.com", "A");
    assert_eq!(str_of(dyn_com, "kind"), Some("dyn"));
    assert_eq!(str_of(dyn_com, "username"), Some("FAKEDYNUSER"));
}

#[test]
fn inadyn_api_plugins_and_unsupported() {
    let t = import_sample(&Sample {
        file: sample("inadyn/api-and-unsupported.conf"),
        env: &[],
        secrets: &[
            "pk1_FAKEFAKEFAKEFAKEFAKEFAKEFAKEFAKEFAKEFAKEFAKEFAKEFAKEFAKEFAKEFAKE0000",
            "sk1_FAKEFAKEFAKEFAKEFAKEFAKEFAKEFAKEFAKEFAKEFAKEFAKEFAKEFAKEFAKEFAKE0000",
            "FAKEdesecToken000000000000000",
            "FAKEdynv6Token000000000000",
            "FAKEdnspodLegacyToken0000000000",
            "FAKEfreedns16chr",
            "FAKEtbUpdateKey",
        ],
        left_out: &["checkip-command", "example.mooo.com", "1234567"],
    });
    assert_eq!(
        record(&t, "www.example.net", "A")["ttl"].as_integer(),
        Some(600)
    );
    assert_eq!(
        str_of(provider_of(&t, "example.net", "A"), "kind"),
        Some("porkbun")
    );
    assert_eq!(
        sources(&t, "ipv4"),
        ["http \"https://checkip.porkbun.com/\""]
    );
    assert_eq!(
        str_of(provider_of(&t, "example-home.dedyn.io", "AAAA"), "kind"),
        Some("desec")
    );
    assert_eq!(
        str_of(provider_of(&t, "example-lab.dynv6.net", "AAAA"), "kind"),
        Some("dynv6")
    );
    let pod = provider_of(&t, "router.example.com", "A");
    assert_eq!(str_of(pod, "kind"), Some("dnspod-token"));
    assert_eq!(str_of(pod, "token_id"), Some("123456"));
}

#[test]
fn ddns_updater_current() {
    let t = import_sample(&Sample {
        file: sample("ddns-updater/config-current.json"),
        env: &[],
        secrets: &[
            "FAKE_cf_api_token_0123456789abcdefABCDEF",
            "00000000-fake-fake-fake-000000000000",
            "FAKEgodaddyKey_000000000000",
            "FAKEgodaddySecret0000",
            "FAKEnamecheapDdnsPassword000000",
            "FAKEdynv6Token000000000000",
            "FAKEdesecToken000000000000000",
            "FAKEgandiPAT0000000000000000000000",
            "FAKEhetznerCloudToken00000000000000",
            "FAKEnoipPassword",
            "FAKEdynClientKey0000",
            "FAKEheDdnsKey01",
            "FAKEdynuPassword",
            "FAKEdnsomaticPass",
        ],
        left_out: &["(namecheap): AAAA"],
    });
    let cf = provider_of(&t, "*.lab.example.com", "A");
    assert_eq!(
        str_of(cf, "zone_id"),
        Some("0123456789abcdef0123456789abcdef")
    );
    assert_eq!(cf["proxied"].as_bool(), Some(true));
    assert!(record(&t, "example.com", "A").get("ttl").is_none());
    let v6 = record(&t, "home.example.com", "AAAA");
    assert_eq!(str_of(v6, "ipv6_host"), Some("0:0:0:0:72ad:8fbb:a54e:bedd"));
    assert_eq!(v6["ipv6_prefix_len"].as_integer(), Some(64));
    assert_eq!(v6["ttl"].as_integer(), Some(300));
    assert!(
        provider_of(&t, "home.example.com", "AAAA")
            .get("proxied")
            .is_none()
    );
    record(&t, "example-home.duckdns.org", "AAAA");
    assert!(
        !names(&t)
            .iter()
            .any(|(n, _)| n.starts_with("nas.example-home"))
    );
    assert_eq!(
        record(&t, "www.example.net", "A")["ttl"].as_integer(),
        Some(600)
    );
    record(&t, "blog.example.org", "A");
    assert!(!names(&t).contains(&("blog.example.org".into(), "AAAA".into())));
    for (name, rtype, kind) in [
        ("shop.example.com", "A", "godaddy"),
        ("example-lab.dynv6.net", "AAAA", "dynv6"),
        ("example-home.dedyn.io", "AAAA", "desec"),
        ("mail.example.com", "A", "gandi"),
        ("cloud.example.net", "A", "hetzner"),
        ("nas.example.net", "A", "noip"),
        ("legacy.example.com", "A", "dyn"),
        ("vpn.example.net", "A", "he"),
        ("office.example.org", "A", "dynu"),
        ("all.dnsomatic.com", "A", "dnsomatic"),
    ] {
        assert_eq!(
            str_of(provider_of(&t, name, rtype), "kind"),
            Some(kind),
            "{name}"
        );
    }
    assert_eq!(
        str_of(provider_of(&t, "legacy.example.com", "A"), "username"),
        Some("fake-dyn-user")
    );
}

#[test]
fn ddns_updater_legacy_host_field() {
    let t = import_sample(&Sample {
        file: sample("ddns-updater/config-legacy-host.json"),
        env: &[],
        secrets: &[
            "FAKEcfGlobalApiKey0000000000000000000",
            "FAKEgodaddyKey_000000000000",
            "FAKEgodaddySecret0000",
            "00000000-fake-fake-fake-000000000000",
            "FAKEgandiLegacyApiKey000",
            "FAKEhetznerDnsConsoleToken000000",
        ],
        left_out: &["vpn.example.net", "mail.example.org", "dns.example.org"],
    });
    assert_eq!(
        str_of(provider_of(&t, "shop.example.com", "A"), "domain"),
        Some("example.com")
    );
    record(&t, "example-home.duckdns.org", "A");
    assert_eq!(names(&t).len(), 2);
}

#[test]
fn ddns_updater_more_providers_and_unsupported_ones() {
    let t = import_sample(&Sample {
        file: sample("ddns-updater/config-unsupported.json"),
        env: &[],
        secrets: &[
            "FAKEaliyunAccessKeySecret0000000",
            "FAKEdnspodLegacyToken0000000000",
            "FAKEcustomToken000",
            "FAKEaws/Secret/Key/000000000000000000000",
            "FAKEovhAppSecret",
            "FAKEovhConsumerKey",
            "dop_v1_FAKEFAKEFAKEFAKEFAKEFAKE0000",
            "FAKEfreednsUpdateToken",
            "FAKEgooglePass",
        ],
        left_out: &["gw.example.org", "old.example.com"],
    });
    assert_eq!(
        str_of(provider_of(&t, "home.example.com", "A"), "kind"),
        Some("alidns")
    );
    assert_eq!(
        str_of(provider_of(&t, "router.example.com", "A"), "kind"),
        Some("dnspod-token")
    );
    let r53 = provider_of(&t, "aws.example.com", "A");
    assert_eq!(str_of(r53, "zone_id"), Some("Z0FAKEFAKEFAKE0"));
    assert_eq!(
        record(&t, "aws.example.com", "A")["ttl"].as_integer(),
        Some(300)
    );
    assert_eq!(
        str_of(provider_of(&t, "ovh.example.net", "A"), "region"),
        Some("eu")
    );
    assert_eq!(
        str_of(provider_of(&t, "droplet.example.org", "A"), "kind"),
        Some("digitalocean")
    );
    assert_eq!(
        str_of(provider_of(&t, "example.mooo.com", "A"), "kind"),
        Some("freedns")
    );
}

#[test]
fn favonia_basic_env() {
    let t = import_sample(&Sample {
        file: sample("favonia/basic.env"),
        env: &[],
        secrets: &["FAKE_cf_api_token_0123456789abcdefABCDEF"],
        left_out: &["TZ=UTC", "CACHE_EXPIRATION=6h", "EMOJI=true"],
    });
    assert_eq!(str_of(&t, "interval"), Some("5m"));
    for name in ["example.com", "www.example.com", "home.example.net"] {
        for rtype in ["A", "AAAA"] {
            assert_eq!(
                provider_of(&t, name, rtype)["proxied"].as_bool(),
                Some(true)
            );
        }
    }
    assert_eq!(sources(&t, "ipv4"), ["cloudflare-trace "]);
}

#[test]
fn favonia_advanced_env() {
    // The token file is a Docker secret path inside the container; here it is a file on this machine.
    let dir = tempfile::tempdir().unwrap();
    let token = dir.path().join("cloudflare_api_token");
    std::fs::write(&token, "FAKE_cf_file_token_0123456789abcdefABCDEF\n").unwrap();
    let text = std::fs::read_to_string(sample("favonia/advanced.env"))
        .unwrap()
        .replace("/run/secrets/cloudflare_api_token", token.to_str().unwrap());
    let file = dir.path().join("advanced.env");
    std::fs::write(&file, text).unwrap();
    let t = import_sample(&Sample {
        file,
        env: &[],
        secrets: &[
            "FAKE_cf_file_token_0123456789abcdefABCDEF",
            "00000000-fake-fake-fake-000000000000",
            "FAKEpushId0",
            "FAKEtoken",
        ],
        left_out: &[
            "WAF_LISTS",
            "MANAGED_RECORDS_COMMENT_REGEX",
            "UPDATE_CRON=*/10 * * * *",
            "DELETE_ON_STOP=true",
            "IP4_DETECTION_FILTER",
            "TZ=Asia/Taipei",
        ],
    });
    assert_eq!(sources(&t, "ipv4"), ["interface \"eth0\""]);
    assert_eq!(sources(&t, "ipv6"), ["http \"https://api6.ipify.org\""]);
    assert_eq!(t["detect"]["ipv6"][0]["timeout"].as_str(), Some("10s"));
    // is(example.com) || sub(example.com) && !is(ipv6.example.com)
    for (name, rtype, proxied) in [
        ("example.com", "A", true),
        ("*.example.com", "AAAA", true),
        ("ipv4.example.com", "A", true),
        ("legacy.example.net", "A", false),
        ("ipv6.example.com", "AAAA", false),
        ("nas.example.com", "AAAA", true),
    ] {
        let p = provider_of(&t, name, rtype);
        assert_eq!(
            p.get("proxied").and_then(Value::as_bool).unwrap_or(false),
            proxied,
            "{name}"
        );
        assert_eq!(str_of(p, "comment"), Some("managed-by-cloudflare-ddns"));
        assert_eq!(p["token"]["file"].as_str(), Some(token.to_str().unwrap()));
        assert_eq!(record(&t, name, rtype)["ttl"].as_integer(), Some(300));
    }
    let nas = record(&t, "nas.example.com", "AAAA");
    assert_eq!(str_of(nas, "ipv6_host"), Some("::1a"));
    assert_eq!(nas["ipv6_prefix_len"].as_integer(), Some(64));
    assert_eq!(
        str_of(record(&t, "printer.example.com", "AAAA"), "ipv6_host"),
        Some("00:11:22:33:44:55")
    );
    let kinds: Vec<&str> = list(&t, "notify")
        .iter()
        .filter_map(|n| str_of(n, "kind"))
        .collect();
    assert_eq!(kinds, ["healthchecks", "uptime-kuma", "discord"]);
}

#[test]
fn favonia_compose_file_with_two_services() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("docker-compose.yml");
    std::fs::copy(sample("favonia/docker-compose.yml"), &file).unwrap();
    std::fs::create_dir(dir.path().join("secrets")).unwrap();
    std::fs::write(
        dir.path().join("secrets/cloudflare_api_token.txt"),
        "FAKE_cf_secret_token_0123456789abcdefABCDEF\n",
    )
    .unwrap();
    // What Compose reads from `.env` beside the file.
    let lab = std::fs::read_to_string(sample("favonia/compose-interpolation.env")).unwrap();
    let lab = lab
        .lines()
        .find_map(|l| l.strip_prefix("LAB_CF_TOKEN="))
        .unwrap()
        .to_owned();
    let t = import_sample(&Sample {
        file,
        env: &[("LAB_CF_TOKEN", &lab)],
        secrets: &[
            "FAKE_cf_secret_token_0123456789abcdefABCDEF",
            &lab,
            "FAKEtoken",
            "00000000-fake-fake-fake-000000000001",
        ],
        left_out: &["cloudflare-ddns: MANAGED_RECORDS_COMMENT_REGEX=^managed-by-ddns-a$"],
    });
    for name in ["example.org", "www.example.org", "example.io"] {
        let p = provider_of(&t, name, "A");
        assert_eq!(p["proxied"].as_bool(), Some(true));
        assert_eq!(str_of(p, "comment"), Some("managed-by-ddns-a"));
        assert!(
            p["token"]["file"]
                .as_str()
                .unwrap()
                .ends_with("secrets/cloudflare_api_token.txt")
        );
        assert!(
            !names(&t).contains(&(name.into(), "AAAA".into())),
            "IP6_PROVIDER=none"
        );
    }
    let git = provider_of(&t, "git.lab.example.net", "AAAA");
    assert_eq!(git["proxied"].as_bool(), Some(true));
    assert_eq!(env_ref(&git["token"]), "LAB_CF_TOKEN");
    assert!(
        provider_of(&t, "lab.example.net", "AAAA")
            .get("proxied")
            .is_none()
    );
    assert_eq!(
        record(&t, "lab.example.net", "AAAA")["ttl"].as_integer(),
        Some(120)
    );
    assert_eq!(sources(&t, "ipv6"), ["interface \"enp3s0\""]);
    assert_eq!(str_of(&t, "interval"), Some("2m"));
    let kinds: Vec<&str> = list(&t, "notify")
        .iter()
        .filter_map(|n| str_of(n, "kind"))
        .collect();
    assert_eq!(kinds, ["healthchecks", "discord", "ntfy"]);
    assert_eq!(
        str_of(list(&t, "notify")[2], "server"),
        Some("https://ntfy.example.net")
    );
}

#[test]
fn favonia_deprecated_names() {
    let t = import_sample(&Sample {
        file: sample("favonia/legacy-deprecated.env"),
        env: &[],
        secrets: &["FAKE_cf_api_token_0123456789abcdefABCDEF"],
        left_out: &["CF_ACCOUNT_ID", "PUID=1000", "PGID=1000"],
    });
    assert_eq!(names(&t), [("home.example.org".to_owned(), "A".to_owned())]);
    assert_eq!(str_of(&t, "interval"), Some("15m"));
    assert_eq!(
        t.get("ipv6"),
        None,
        "IP6_POLICY=unmanaged: no AAAA records, IPv6 stays off"
    );
    assert!(
        provider_of(&t, "home.example.org", "A")
            .get("proxied")
            .is_none()
    );
}

/// An existing config is never replaced without `--force`; with it, the old bytes are kept beside it.
#[test]
fn an_existing_config_is_kept_or_backed_up() {
    let old = "# mine\ninterval = \"1h\"\n";
    let case = Case::new(old);
    let file = sample("favonia/basic.env");
    let out = run(
        &case,
        &["import", "--secrets", "env", file.to_str().unwrap()],
        &[],
    );
    assert_eq!(out.code, 1, "{out:?}");
    assert!(out.stderr.contains("--force"), "{out:?}");
    assert_eq!(std::fs::read_to_string(case.config_path()).unwrap(), old);
    let out = run(
        &case,
        &[
            "import",
            "--secrets",
            "env",
            "--force",
            file.to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(out.code, 0, "{out:?}");
    let backup = case.dir.path().join("config.toml.before-import");
    assert_eq!(std::fs::read_to_string(&backup).unwrap(), old);
    assert!(out.stdout.contains("config.toml.before-import"), "{out:?}");
    let new = std::fs::read_to_string(case.config_path()).unwrap();
    assert!(new.contains("kind = \"cloudflare\""), "{new}");
    // A second forced import keeps the first backup and adds another.
    let out = run(
        &case,
        &[
            "import",
            "--secrets",
            "env",
            "--force",
            file.to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(std::fs::read_to_string(&backup).unwrap(), old);
    assert_eq!(
        std::fs::read_to_string(case.dir.path().join("config.toml.before-import.2")).unwrap(),
        new
    );
}

/// `--dry-run` prints the config and the verdict, and writes and stores nothing; with `--secrets
/// keyring` it names the entries it would store.
#[test]
fn dry_run_writes_nothing() {
    let case = empty_case();
    let file = sample("ddclient/api-providers.conf");
    for secrets in ["env", "keyring"] {
        let out = run(
            &case,
            &[
                "import",
                "--dry-run",
                "--secrets",
                secrets,
                file.to_str().unwrap(),
            ],
            &[],
        );
        assert_eq!(out.code, 0, "{out:?}");
        assert!(out.stdout.contains("OK (nothing written)"), "{out:?}");
        assert!(!case.config_path().exists());
        assert!(!out.stdout.contains("FAKEgodaddySecret0000"));
        if secrets == "keyring" {
            assert!(
                out.stdout
                    .contains("api_secret = { keyring = \"godaddy-example.com/api_secret\" }"),
                "{out:?}"
            );
        }
    }
    assert!(
        std::fs::read_dir(case.dir.path()).unwrap().next().is_none(),
        "nothing at all was written"
    );
}

/// A broken input names its line or field, exits 2 and writes nothing.
#[test]
fn broken_inputs_name_the_line_and_write_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (
            "ddclient.conf",
            "daemon=300\nprotocol=noip, password='open host.example.com\n",
            "line 2",
        ),
        (
            "inadyn.conf",
            "period = 300\nprovider no-ip.com {\n  username = a\n",
            "line 3",
        ),
        (
            ".ddns_go_config.yaml",
            "dnsconf:\n  - name: a\n    ipv4: [\n",
            "line",
        ),
        (
            "config.json",
            "{\n\"settings\": [\n{\"provider\": }\n]}",
            "line 3",
        ),
        (
            "config.json",
            "{\"settings\": [{\"provider\": \"duckdns\", \"token\": \"x\"}]}",
            "settings[0].domain",
        ),
        ("cf.env", "DOMAINS=a.example.com\n", "CLOUDFLARE_API_TOKEN"),
    ];
    for (name, text, place) in cases {
        let case = empty_case();
        let file = dir.path().join(name);
        std::fs::write(&file, text).unwrap();
        let out = run(
            &case,
            &["import", "--secrets", "env", file.to_str().unwrap()],
            &[],
        );
        assert_eq!(out.code, 2, "{name}: {out:?}");
        assert!(out.stderr.contains(place), "{name}: {out:?}");
        assert!(
            out.stderr.contains("Nothing was written"),
            "{name}: {out:?}"
        );
        assert!(!case.config_path().exists());
    }
    // Compose's interpolation file is no updater's config: the missing token is named.
    let case = empty_case();
    let out = run(
        &case,
        &[
            "import",
            "--from",
            "favonia",
            sample("favonia/compose-interpolation.env")
                .to_str()
                .unwrap(),
        ],
        &[],
    );
    assert_eq!(out.code, 2, "{out:?}");
    assert!(out.stderr.contains("CLOUDFLARE_API_TOKEN"), "{out:?}");
    // A file whose client cannot be told.
    let file = dir.path().join("notes.txt");
    std::fs::write(&file, "hello\n").unwrap();
    let out = run(&case, &["import", file.to_str().unwrap()], &[]);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(out.stderr.contains("--from"), "{out:?}");
}

/// The report in Chinese: headings and reasons from the zh-CN catalogue.
#[test]
fn the_report_reads_in_chinese() {
    let case = empty_case();
    let file = sample("ddns-go/callback-porkbun-unsupported.yaml");
    let mut cmd = case.command(&[
        "import",
        "--dry-run",
        "--secrets",
        "env",
        file.to_str().unwrap(),
    ]);
    cmd.env("LANG", "zh_CN.UTF-8").env("LC_ALL", "zh_CN.UTF-8");
    let out = Run::from(cmd.output().unwrap());
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.stdout.contains("未迁移："), "{out:?}");
    assert!(
        out.stdout.contains("请为 ddns-tray 设置这些环境变量"),
        "{out:?}"
    );
    assert!(!out.stdout.contains("Not carried over"), "{out:?}");
}

#[test]
fn every_format_is_told_from_its_samples() {
    for (dir, format) in [
        ("ddns-go", Format::DdnsGo),
        ("ddclient", Format::Ddclient),
        ("inadyn", Format::Inadyn),
        ("ddns-updater", Format::DdnsUpdater),
        ("favonia", Format::Favonia),
    ] {
        for entry in std::fs::read_dir(sample(dir)).unwrap() {
            let path = entry.unwrap().path();
            let text = std::fs::read_to_string(&path).unwrap();
            let name = path.file_name().unwrap().to_str().unwrap();
            if name == "compose-interpolation.env" {
                continue;
            }
            assert_eq!(import::detect(&text, Some(name)), Some(format), "{name}");
            assert_eq!(
                import::detect(&text, None),
                Some(format),
                "{name} by content"
            );
        }
    }
}
