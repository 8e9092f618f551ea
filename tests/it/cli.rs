//! The command line: check, config path, status, dry run, exit codes, locking, and secrets in every output.

use std::time::{Duration, Instant};

use crate::support::{Case, FakeHttp, Reply, all_text_under};

const BROKEN: &str = r#"
interval = "10s"
colour = "blue"

[[provider]]
name = "p"
kind = "powerdns"
url = "not a url"
api_key = "'quoted'"

[[record]]
name = "home.example.test"
provider = "missing"
"#;

#[tokio::test]
async fn check_lists_every_problem_and_exits_2_and_never_touches_the_file() {
    let case = Case::new(BROKEN);
    let before = std::fs::metadata(case.config_path())
        .unwrap()
        .modified()
        .unwrap();
    let out = case.run(&["check"]).await;
    assert_eq!(out.code, 2, "{out:?}");
    for want in [
        "interval: 10s is too short",
        "colour: unknown key",
        "provider[0].url: not a URL",
        "provider[0].api_key: is wrapped in quotes",
        "record[0].provider: no provider is named `missing`",
        "hint: ",
        "5 problem(s) in",
    ] {
        assert!(out.stdout.contains(want), "missing `{want}`: {out:?}");
    }
    for cmd in [&["once"][..], &["run"], &["detect"], &[]] {
        let out = case.run(cmd).await;
        assert_eq!(out.code, 2, "{cmd:?}: {out:?}");
        assert!(out.stderr.contains("problem(s) in"), "{cmd:?}: {out:?}");
    }
    assert_eq!(
        std::fs::read_to_string(case.config_path()).unwrap(),
        BROKEN,
        "the invalid file is never rewritten"
    );
    assert_eq!(
        std::fs::metadata(case.config_path())
            .unwrap()
            .modified()
            .unwrap(),
        before
    );
    assert!(!case.data_dir().join("state.json").exists());
}

#[tokio::test]
async fn malformed_toml_names_the_line() {
    let case = Case::new("interval = \"5m\"\n[[record]\nname = 1\n");
    let out = case.run(&["check"]).await;
    assert_eq!(out.code, 2);
    assert!(
        out.stdout.contains("(file): not valid TOML") && out.stdout.contains("line 2"),
        "{out:?}"
    );
}

/// Regression: an explicit `--config PATH` that does not exist ran with the defaults (no records, public echo
/// services). Only the default path may be missing.
#[tokio::test]
async fn a_missing_file_means_defaults_only_at_the_default_path() {
    let case = Case::new("");
    std::fs::remove_file(case.config_path()).unwrap();
    for args in [&["check"][..], &["once"], &["run"], &["detect"]] {
        let out = case.run(args).await;
        assert_eq!(out.code, 2, "{args:?}: {out:?}");
        let text = format!("{}{}", out.stdout, out.stderr);
        assert!(
            text.contains(case.config_path().to_str().unwrap()) && text.contains("does not exist"),
            "{args:?}: {out:?}"
        );
    }
    // The same through DDNS_TRAY_CONFIG.
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_ddns-tray"));
    cmd.args(["check"])
        .env("DDNS_TRAY_CONFIG", case.config_path())
        .env("DDNS_TRAY_DATA_DIR", case.data_dir());
    assert_eq!(cmd.output().unwrap().status.code(), Some(2));

    // At the default path (a fresh install) the defaults apply.
    let home = tempfile::tempdir().unwrap();
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_ddns-tray"));
    cmd.args(["check"])
        .env_remove("DDNS_TRAY_CONFIG")
        .env_remove("XDG_CONFIG_HOME")
        .env("HOME", home.path());
    let out = crate::support::Run::from(cmd.output().unwrap());
    assert_eq!(out.code, 0, "{out:?}");
    assert!(
        out.stdout.contains("no such file; the defaults apply"),
        "{out:?}"
    );
    assert!(out.stdout.contains("IPv4 detection (policy confirm): dns myip.opendns.com @resolver1.opendns.com:53, http https://api.ipify.org, cloudflare-trace (default)"), "{out:?}");
    assert!(
        out.stdout.contains("no records configured: detection only"),
        "{out:?}"
    );
    assert!(
        crate::support::all_text_under(home.path()).is_empty(),
        "check does not create the file"
    );

    let out = case.run(&["config", "path"]).await;
    assert_eq!(out.stdout.trim(), case.config_path().to_str().unwrap());
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_ddns-tray"));
    cmd.args(["config", "path"])
        .env("DDNS_TRAY_CONFIG", "/tmp/elsewhere.toml");
    assert_eq!(
        String::from_utf8(cmd.output().unwrap().stdout)
            .unwrap()
            .trim(),
        "/tmp/elsewhere.toml"
    );
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_ddns-tray"));
    cmd.args(["config", "path"])
        .env_remove("DDNS_TRAY_CONFIG")
        .env("HOME", "/home/someone")
        .env_remove("XDG_CONFIG_HOME");
    let default = String::from_utf8(cmd.output().unwrap().stdout).unwrap();
    assert!(
        default.trim().ends_with("ddns-tray/config.toml"),
        "{default}"
    );
}

fn hook_config(echo: &str, hook: &str) -> String {
    format!(
        r#"
[detect]
ipv4 = [ {{ kind = "http", url = "{echo}", allow_private = true }} ]
[[provider]]
name = "hook"
kind = "webhook"
url = "{hook}"
headers = {{ Authorization = "Bearer top-s3cret-token" }}
[[record]]
name = "home.example.test"
provider = "hook"
"#
    )
}

#[tokio::test]
async fn dry_run_calls_no_provider_and_writes_no_state() {
    let echo = FakeHttp::text("198.51.100.80").await;
    let hook = FakeHttp::text("ok").await;
    let case = Case::new(&hook_config(&echo.url("/"), &hook.url("/u")));
    let out = case.run(&["once", "--dry-run"]).await;
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(
        out.stdout,
        "home.example.test A 198.51.100.80 would update\n"
    );
    assert!(hook.requests().is_empty());
    assert!(!case.data_dir().join("state.json").exists());
}

#[tokio::test]
async fn once_json_and_status() {
    let echo = FakeHttp::text("198.51.100.81").await;
    let hook = FakeHttp::text("ok").await;
    let case = Case::new(&hook_config(&echo.url("/"), &hook.url("/u")));
    let out = case.run(&["once", "--json"]).await;
    assert_eq!(out.code, 0, "{out:?}");
    let json: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(json["detection"]["ipv4"]["ip"], "198.51.100.81");
    assert_eq!(json["records"][0]["outcome"], "updated");
    assert_eq!(json["records"][0]["provider"], "hook");

    let status = case.run(&["status"]).await;
    assert!(
        status.stdout.contains("IPv4: 198.51.100.81")
            && status
                .stdout
                .contains("home.example.test A at hook: 198.51.100.81 since "),
        "{status:?}"
    );
    let status = case.run(&["status", "--json"]).await;
    let json: serde_json::Value = serde_json::from_str(&status.stdout).unwrap();
    assert_eq!(json["last_ip"]["ipv4"], "198.51.100.81");
    assert_eq!(json["records"][0]["published"], "198.51.100.81");
    assert_eq!(json["records"][0]["failures"], 0);
}

#[tokio::test]
async fn a_corrupt_state_file_is_moved_aside_and_the_run_goes_on() {
    let echo = FakeHttp::text("198.51.100.82").await;
    let hook = FakeHttp::text("ok").await;
    let case = Case::new(&hook_config(&echo.url("/"), &hook.url("/u")));
    std::fs::create_dir_all(case.data_dir()).unwrap();
    std::fs::write(
        case.data_dir().join("state.json"),
        "{\"version\": 1, \"records\": {tru",
    )
    .unwrap();
    let out = case.run(&["once"]).await;
    assert_eq!(out.code, 0, "{out:?}");
    assert!(
        out.stderr.contains("unusable") && out.stderr.contains("moved it to"),
        "{out:?}"
    );
    let aside: Vec<_> = std::fs::read_dir(case.data_dir())
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().contains(".bad-"))
        .collect();
    assert_eq!(aside.len(), 1);
    assert_eq!(case.state()["version"], 2);
}

#[tokio::test]
async fn secrets_appear_in_no_output_log_or_state() {
    let echo = FakeHttp::text("198.51.100.83").await;
    // A provider that echoes the token back in its error must not get it printed either.
    let hook = FakeHttp::start(|r| {
        Reply::status(
            403,
            format!(
                "invalid token {}",
                r.headers.get("authorization").cloned().unwrap_or_default()
            ),
        )
    })
    .await;
    let case = Case::new(&hook_config(
        &echo.url("/"),
        &hook.url("/u?token=top-s3cret-token"),
    ));
    let mut seen = String::new();
    // The daemon first (the failure is logged when it happens), with debug logging on.
    let child = case
        .command(&["run", "-vv"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while hook.requests().is_empty() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let _ = std::process::Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status();
    let out = tokio::task::spawn_blocking(move || child.wait_with_output().unwrap())
        .await
        .unwrap();
    seen.push_str(&String::from_utf8_lossy(&out.stdout));
    seen.push_str(&String::from_utf8_lossy(&out.stderr));
    for args in [
        &["check"][..],
        &["once", "--force"],
        &["once", "--json"],
        &["once", "--force", "--json"],
        &["status"],
        &["status", "--json"],
        &["detect", "--json"],
    ] {
        let out = case.run(args).await;
        seen.push_str(&format!("{out:?}"));
    }
    seen.push_str(&all_text_under(&case.data_dir()));
    assert!(
        seen.contains("credentials refused"),
        "the failure is reported: {seen}"
    );
    assert!(
        all_text_under(&case.data_dir().join("logs")).contains("credentials refused"),
        "the log file has it"
    );
    assert!(!seen.contains("top-s3cret-token"), "secret leaked: {seen}");
}

#[tokio::test]
async fn a_second_engine_on_the_same_state_is_refused() {
    let echo = FakeHttp::text("198.51.100.84").await;
    let hook = FakeHttp::text("ok").await;
    let case = Case::new(&hook_config(&echo.url("/"), &hook.url("/u")));
    let mut daemon = case
        .command(&["run"])
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while hook.requests().is_empty() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let out = case.run(&["once"]).await;
    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        out.stderr.contains("another ddns-tray engine is using"),
        "{out:?}"
    );
    let status = case.run(&["status"]).await;
    assert_eq!(status.code, 0, "status reads without the lock: {status:?}");
    daemon.kill().unwrap();
    daemon.wait().unwrap();
}

/// One config with a record for every provider kind of the kind table validates, and `check --providers`
/// lists them all. Each kind's example lives in its table entry: a kind added without one fails here.
#[tokio::test]
async fn a_config_with_every_provider_validates() {
    let kinds = ddns_tray::provider::KINDS;
    let mut text = String::from(
        "[detect]\nipv4 = [ { kind = \"http\", url = \"https://ip.example.net\" } ]\n",
    );
    for k in kinds {
        assert!(
            !k.example.is_empty() || !k.api.is_empty(),
            "{}: no example",
            k.kind
        );
        let api = if k.api.is_empty() {
            String::new()
        } else {
            format!("{} = \"https://api.example.net\"\n", k.api)
        };
        let name = if k.example_record.is_empty() {
            format!("{}.example.com", k.kind)
        } else {
            k.example_record.to_owned()
        };
        text.push_str(&format!(
            "[[provider]]\nname = \"{kind}\"\nkind = \"{kind}\"\n{api}{example}\n[[record]]\nname = \"{name}\"\nprovider = \"{kind}\"\n",
            kind = k.kind,
            example = k.example
        ));
    }
    let case = Case::new(&text);
    let out = case.run(&["check"]).await;
    assert_eq!(out.code, 0, "{out:?}");
    for k in kinds {
        assert!(
            out.stdout
                .contains(&format!("provider {kind} ({kind})", kind = k.kind)),
            "{}: {out:?}",
            k.kind
        );
    }
    assert!(
        !out.stdout.contains("secret-value"),
        "secrets masked: {out:?}"
    );
    let list = case.run(&["check", "--providers"]).await;
    for k in kinds {
        assert!(
            list.stdout.contains(&format!("\n{} (", k.kind))
                || list.stdout.starts_with(&format!("{} (", k.kind)),
            "{}",
            k.kind
        );
    }
}

/// Regression: values that are wrong were accepted: an interface name with a NUL (it silently bound to
/// `lo`), the source address 255.255.255.255 (it ran unbound), `provider_via_line` without `lines` (ignored),
/// and all-ones or multicast `ipv6_host` values. Each is refused at load with its field and a fix.
#[tokio::test]
async fn wrong_values_are_refused_with_their_field() {
    let head = "[detect]\nipv4 = [ { kind = \"http\", url = \"http://127.0.0.1:9/\", allow_private = true } ]\n[[provider]]\nname = \"hook\"\nkind = \"webhook\"\nurl = \"http://127.0.0.1:9/u\"\n";
    let head6 = "ipv6 = true\n[detect]\nipv6 = [ { kind = \"http\", url = \"http://[::1]:9/\", allow_private = true } ]\n[[provider]]\nname = \"hook\"\nkind = \"webhook\"\nurl = \"http://127.0.0.1:9/u\"\n";
    let cases = [
        (
            "[detect]\nipv4 = [ { kind = \"interface\", name = \"eth0\\u0000lo\" } ]\n".to_owned(),
            "detect.ipv4[0].name",
            "control character",
        ),
        (
            format!(
                "{head}[[line]]\nname = \"a\"\ninterface = \"wan\\u0000\"\n[[record]]\nname = \"h.example.test\"\nprovider = \"hook\"\nlines = [\"a\"]\n"
            ),
            "line[0].interface",
            "control character",
        ),
        (
            format!(
                "{head}[[line]]\nname = \"a\"\nsource = \"255.255.255.255\"\n[[record]]\nname = \"h.example.test\"\nprovider = \"hook\"\nlines = [\"a\"]\n"
            ),
            "line[0].source",
            "cannot be a source address",
        ),
        (
            format!(
                "{head}[[record]]\nname = \"h.example.test\"\nprovider = \"hook\"\nprovider_via_line = true\n"
            ),
            "record[0].provider_via_line",
            "applies only to a record with `lines`",
        ),
        (
            format!(
                "{head6}[[record]]\nname = \"h.example.test\"\ntype = \"AAAA\"\nprovider = \"hook\"\nipv6_host = \"::ffff:ffff:ffff:ffff\"\n"
            ),
            "record[0].ipv6_host",
            "all ones",
        ),
        (
            format!(
                "{head6}[[record]]\nname = \"h.example.test\"\ntype = \"AAAA\"\nprovider = \"hook\"\nipv6_host = \"ff02::1\"\n"
            ),
            "record[0].ipv6_host",
            "multicast",
        ),
    ];
    for (config, field, words) in cases {
        let case = Case::new(&config);
        let out = case.run(&["check"]).await;
        assert_eq!(out.code, 2, "{field}: {out:?}");
        let all = format!("{}{}", out.stdout, out.stderr);
        assert!(
            all.contains(field) && all.contains(words),
            "{field} / {words}: {out:?}"
        );
    }
}
