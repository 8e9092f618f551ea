//! `ddns-tray init` through the real binary: in a real terminal (a pty, `tests/init_pty.py`) in English
//! and Chinese against a loopback fake of the Cloudflare API that lists zones, Ctrl-C half-way, and
//! `--non-interactive` for scripts. The pty runs sit in a network namespace with only loopback: the first
//! round asks the built-in public detection sources, which must not be reached.

use std::path::Path;
use std::process::Command;

use serde_json::json;

use crate::faults::{can_isolate, isolated};
use crate::support::{FakeHttp, Reply};

const BIN: &str = env!("CARGO_BIN_EXE_ddns-tray");

/// Runs a scenario of `tests/init_pty.py` in its own network namespace; its screen on failure.
fn pty(scenario: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/init_pty.py");
    let mut cmd = Command::new("python3");
    cmd.arg(script).arg(BIN).arg(scenario).arg(dir.path());
    let out = isolated(&cmd).output().unwrap();
    let screen = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{screen}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    screen
}

/// A refused token brings the credential step back with Cloudflare's own words; the right one lists the
/// zones (two pages, sorted, lower-case) to pick from; the config names the service's store, the secret is
/// in that store (owner-only) and never on the screen or in the file; the first round runs.
#[test]
fn init_in_a_terminal_lists_the_domains_and_asks_again_after_a_refusal() {
    if !can_isolate() {
        return;
    }
    let screen = pty("en");
    assert!(screen.contains("PTY-OK"), "{screen}");
    assert!(
        screen.contains("The provider said: cloudflare `cloudflare`: the API token was refused: Invalid access token (9109)"),
        "{screen}"
    );
    assert!(
        screen.contains("3. The domain: this credential sees 3.\r\n   1) example.com\r\n   2) example.net\r\n   3) example.org"),
        "{screen}"
    );
    assert!(screen.contains("The first round:"), "{screen}");
}

#[test]
fn init_in_a_terminal_speaks_chinese() {
    if !can_isolate() {
        return;
    }
    let screen = pty("zh");
    assert!(screen.contains("PTY-OK"), "{screen}");
    for said in [
        "1. 你的域名在哪个 DNS 服务商？",
        "2. 凭据：",
        "3. 域名：此凭据可见 3 个。",
        "4. 使用哪种地址？",
        "5. 配置已写入：",
        "第一轮更新：",
    ] {
        assert!(screen.contains(said), "{said}\n{screen}");
    }
}

/// Ctrl-C while the secret is typed (echo off): exit 130, the echo back on, no file written.
#[test]
fn ctrl_c_in_init_writes_nothing_and_gives_the_echo_back() {
    if !can_isolate() {
        return;
    }
    let screen = pty("ctrlc");
    assert!(screen.contains("CTRLC-OK"), "{screen}");
}

/// Cloudflare's zone listing (one page) and an empty record listing.
async fn cloudflare() -> FakeHttp {
    FakeHttp::start(|r| {
        if r.headers.get("authorization").map(String::as_str) != Some("Bearer tok-123") {
            return Reply::status(
                403,
                json!({"success": false, "errors": [{"code": 9109, "message": "Invalid access token"}], "result": null}).to_string(),
            );
        }
        match r.path() {
            "/zones" => Reply::ok(
                json!({"success": true, "errors": [], "result": [{"id": "z1", "name": "example.com"}],
                       "result_info": {"page": 1, "total_pages": 1}})
                .to_string(),
            ),
            "/zones/z1/dns_records" => Reply::ok(
                json!({"success": true, "errors": [], "result": [], "result_info": {"page": 1, "total_pages": 1}})
                    .to_string(),
            ),
            _ => Reply::status(404, "{}"),
        }
    })
    .await
}

/// `init --non-interactive` with `--no-update` (no detection: nothing leaves loopback).
fn scripted(dir: &Path, endpoint: &str, extra: &[&str]) -> std::process::Output {
    Command::new(BIN)
        .arg("--config")
        .arg(dir.join("config.toml"))
        .arg("--data-dir")
        .arg(dir.join("data"))
        .args([
            "init",
            "--non-interactive",
            "--service",
            "--no-update",
            "--provider",
            "cloudflare",
            "--set",
            &format!("endpoint={endpoint}"),
        ])
        .args(extra)
        .env("LANG", "en_US.UTF-8")
        .env_remove("LC_ALL")
        .env("DDNS_TRAY_INIT_TOKEN", "tok-123")
        .output()
        .unwrap()
}

/// For scripts: the secret from the environment (never on the command line), the record checked against
/// the domains the token sees; an existing config is left alone without `--force`, and with it a backup
/// keeps the old bytes.
#[tokio::test(flavor = "multi_thread")]
async fn init_for_scripts_never_replaces_a_config_without_force() {
    let fake = cloudflare().await;
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.toml");
    let endpoint = fake.url("");

    // A name outside the token's domains: refused, nothing written.
    let out = scripted(dir.path(), &endpoint, &["--record", "home.example.org"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains(
            "home.example.org is in none of the domains this credential sees: example.com"
        ),
        "{err}"
    );
    assert!(!config.exists());

    // A missing flag names the flag.
    let out = scripted(dir.path(), &endpoint, &[]);
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("--non-interactive needs --record"),
        "{out:?}"
    );
    assert!(!config.exists());

    let out = scripted(
        dir.path(),
        &endpoint,
        &["--record", "Home.Example.com", "--type", "both"],
    );
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{said}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!said.contains("tok-123"));
    let written = std::fs::read_to_string(&config).unwrap();
    assert!(!written.contains("tok-123"), "{written}");
    let parsed: toml::Table = written.parse().unwrap();
    let records = parsed["record"].as_array().unwrap();
    let types: Vec<&str> = records
        .iter()
        .map(|r| r["type"].as_str().unwrap())
        .collect();
    assert_eq!(types, ["A", "AAAA"]);
    assert!(
        records
            .iter()
            .all(|r| r["name"].as_str() == Some("home.example.com"))
    );

    // Again: refused, the file unchanged.
    std::fs::write(&config, "# mine\ninterval = \"7m\"\n").unwrap();
    let out = scripted(dir.path(), &endpoint, &["--record", "home.example.com"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("a config already exists at"),
        "{out:?}"
    );
    assert_eq!(
        std::fs::read_to_string(&config).unwrap(),
        "# mine\ninterval = \"7m\"\n"
    );

    // --force: replaced, the old bytes in the backup.
    let out = scripted(
        dir.path(),
        &endpoint,
        &["--record", "home.example.com", "--force"],
    );
    assert!(out.status.success(), "{out:?}");
    let backup = dir.path().join("config.toml.bak");
    assert_eq!(
        std::fs::read_to_string(&backup).unwrap(),
        "# mine\ninterval = \"7m\"\n"
    );
    assert!(
        std::fs::read_to_string(&config)
            .unwrap()
            .contains("home.example.com")
    );
}
