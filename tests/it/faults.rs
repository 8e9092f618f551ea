//! Faults about processes, files and time, through the real binary: reloads that must keep the running
//! settings, a state file that cannot be saved, files that are not files, and SIGKILL at random points.

use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use crate::support::{Case, FakeHttp, Reply, Run};

/// Root and `unshare`, to run the daemon in a network namespace with only loopback. Under CI they must be
/// there; elsewhere the test is skipped.
pub(crate) fn can_isolate() -> bool {
    let ok = std::process::Command::new("unshare")
        .args(["--net", "true"])
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI must run as root with unshare (util-linux)"
        );
        eprintln!("skipping: cannot create a network namespace (needs root and unshare)");
    }
    ok
}

/// `cmd` run in a new network namespace that has only loopback (up): whatever it does, nothing leaves it.
pub(crate) fn isolated(cmd: &std::process::Command) -> std::process::Command {
    let mut out = std::process::Command::new("unshare");
    out.args([
        "--net",
        "sh",
        "-c",
        "ip link set lo up && exec \"$0\" \"$@\"",
    ]);
    out.arg(cmd.get_program());
    out.args(cmd.get_args());
    for (k, v) in cmd.get_envs() {
        match v {
            Some(v) => out.env(k, v),
            None => out.env_remove(k),
        };
    }
    out
}

pub(crate) fn signal(child: &Child, sig: &str) {
    std::process::Command::new("kill")
        .arg(format!("-{sig}"))
        .arg(child.id().to_string())
        .status()
        .unwrap();
}

pub(crate) async fn wait_until(limit: Duration, mut f: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < limit {
        if f() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}

fn log_text(case: &Case) -> String {
    crate::support::all_text_under(&case.data_dir().join("logs"))
}

/// Sets the only record's retry date ten years ahead (as saved under a clock set that wrong) in `state`,
/// writes it to `path`, runs `once`, and returns how long the record then waits.
pub(crate) async fn after_a_wrong_clock(
    case: &Case,
    path: &std::path::Path,
    mut state: serde_json::Value,
) -> (Duration, Run) {
    let decade = std::time::SystemTime::now() + Duration::from_hours(10 * 365 * 24);
    if let Some(rec) = state["records"]
        .as_object_mut()
        .and_then(|r| r.values_mut().next())
    {
        rec["next_attempt"] = humantime::format_rfc3339_seconds(decade).to_string().into();
    }
    std::fs::write(path, serde_json::to_vec(&state).unwrap()).unwrap();
    let out = case.run(&["once"]).await;
    let rec = case.state()["records"]
        .as_object()
        .unwrap()
        .values()
        .next()
        .unwrap()
        .clone();
    let next = humantime::parse_rfc3339(rec["next_attempt"].as_str().unwrap()).unwrap();
    let wait = next
        .duration_since(std::time::SystemTime::now())
        .unwrap_or_default();
    (wait, out)
}

fn state_records(case: &Case) -> Vec<String> {
    std::fs::read_to_string(case.data_dir().join("state.json"))
        .ok()
        .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
        .and_then(|v| {
            v["records"]
                .as_object()
                .map(|r| r.keys().cloned().collect())
        })
        .unwrap_or_default()
}

/// Regression: SIGHUP while the config file was missing or empty switched to the defaults: the record state
/// was pruned and the public default sources were asked. The running settings stay, and the log says why.
#[tokio::test]
async fn a_reload_with_the_file_missing_or_empty_keeps_the_running_settings() {
    if !can_isolate() {
        return;
    }
    let config = |records: &[&str]| {
        let mut t = "interval = \"30s\"\n[detect]\nipv4 = [ { kind = \"command\", command = [\"echo\", \"198.51.100.9\"], allow_private = true } ]\n[[provider]]\nname = \"hook\"\nkind = \"webhook\"\nurl = \"http://127.0.0.1:9/u\"\n".to_owned();
        for r in records {
            t.push_str(&format!(
                "[[record]]\nname = \"{r}\"\nprovider = \"hook\"\n"
            ));
        }
        t
    };
    let case = Case::new(&config(&["a.example.test"]));
    let child = isolated(&case.command(&["run"]))
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    assert!(
        wait_until(Duration::from_secs(10), || state_records(&case).len() == 1).await,
        "the record was tried"
    );
    for (what, content) in [("missing", None), ("empty", Some("\n"))] {
        match content {
            None => std::fs::remove_file(case.config_path()).unwrap(),
            Some(c) => std::fs::write(case.config_path(), c).unwrap(),
        }
        signal(&child, "HUP");
        assert!(
            wait_until(Duration::from_secs(5), || {
                log_text(&case).contains(&format!("is {what}; keeping the running settings"))
            })
            .await,
            "{what}: {}",
            log_text(&case)
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(
            state_records(&case),
            ["a.example.test/A/hook"],
            "{what}: the record's state is kept"
        );
    }
    assert!(
        !log_text(&case).contains("cloudflare-trace"),
        "the default sources were never asked: {}",
        log_text(&case)
    );
    // A valid file again is taken.
    case.write_config(&config(&["a.example.test", "b.example.test"]));
    signal(&child, "HUP");
    assert!(
        wait_until(Duration::from_secs(10), || state_records(&case).len() == 2).await,
        "{:?}",
        state_records(&case)
    );
    let mut child = child;
    signal(&child, "TERM");
    let _ = tokio::task::spawn_blocking(move || child.wait()).await;
}

fn hook_config(echo: &str, hook: &str) -> String {
    format!(
        "[detect]\nipv4 = [ {{ kind = \"http\", url = \"{echo}\", allow_private = true }} ]\n[[provider]]\nname = \"hook\"\nkind = \"webhook\"\nurl = \"{hook}\"\n[[record]]\nname = \"home.example.test\"\nprovider = \"hook\"\n"
    )
}

/// Regression: `once` exited 0 when it could not save the state (read-only data dir, disk full), and then
/// called the provider again on every run. It exits 1 and says so.
#[tokio::test]
async fn once_exits_1_when_the_state_cannot_be_saved() {
    let echo = FakeHttp::text("198.51.100.60").await;
    let hook = FakeHttp::text("ok").await;
    let case = Case::new(&hook_config(&echo.url("/"), &hook.url("/u?ip={ip}")));
    assert_eq!(case.run(&["once"]).await.code, 0);
    // The directory accepts new files but no rename over old ones (append-only), so the atomic write fails
    // like it does on a full or read-only disk, and the old file is left as it was.
    let data = case.data_dir();
    let chattr = std::process::Command::new("chattr")
        .arg("+a")
        .arg(&data)
        .status();
    if !chattr.is_ok_and(|s| s.success()) {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI must be able to chattr +a (root on ext4)"
        );
        eprintln!("skipping: cannot make the data dir append-only");
        return;
    }
    let before = std::fs::read_to_string(data.join("state.json")).unwrap();
    echo.set_text("198.51.100.61");
    let out = case.run(&["once"]).await;
    let _ = std::process::Command::new("chattr")
        .arg("-a")
        .arg(&data)
        .status();
    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        out.stdout
            .contains("home.example.test A 198.51.100.61 updated"),
        "{out:?}"
    );
    assert!(
        out.stderr.contains("the state could not be saved"),
        "{out:?}"
    );
    assert_eq!(
        std::fs::read_to_string(data.join("state.json")).unwrap(),
        before,
        "the old state is untouched"
    );
}

/// Regression: a config or state path pointing at `/dev/zero` grew to many GB, a FIFO hung forever. Both
/// are refused at once with a clear error; so is a config over 1 MiB.
#[tokio::test]
async fn files_that_are_not_regular_or_too_large_are_refused() {
    let case = Case::new("");
    let fifo = case.dir.path().join("fifo.toml");
    assert!(
        std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    for path in [fifo.as_path(), std::path::Path::new("/dev/zero")] {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_ddns-tray"));
        cmd.arg("--config").arg(path).arg("check");
        let start = Instant::now();
        let out = Run::from(
            tokio::task::spawn_blocking(move || {
                std::process::Command::new("timeout")
                    .arg("10")
                    .args(std::iter::once(cmd.get_program()).chain(cmd.get_args()))
                    .output()
                    .unwrap()
            })
            .await
            .unwrap(),
        );
        assert_eq!(out.code, 2, "{}: {out:?}", path.display());
        assert!(out.stdout.contains("not a regular file"), "{out:?}");
        assert!(start.elapsed() < Duration::from_secs(5));
    }
    std::fs::write(case.config_path(), format!("# {}\n", "x".repeat(1_100_000))).unwrap();
    let out = case.run(&["check"]).await;
    assert_eq!(out.code, 2, "{out:?}");
    assert!(out.stdout.contains("larger than 1024 KiB"), "{out:?}");

    // A state file that is /dev/zero: refused, and left alone (a device is never moved aside).
    let echo = FakeHttp::text("198.51.100.62").await;
    let hook = FakeHttp::text("ok").await;
    let case = Case::new(&hook_config(&echo.url("/"), &hook.url("/u")));
    std::fs::create_dir_all(case.data_dir()).unwrap();
    std::os::unix::fs::symlink("/dev/zero", case.data_dir().join("state.json")).unwrap();
    let start = Instant::now();
    let out = case.run(&["once"]).await;
    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        out.stderr.contains("not a regular file") && out.stderr.contains("left as it is"),
        "{out:?}"
    );
    assert!(start.elapsed() < Duration::from_secs(5));
    assert!(
        hook.requests().is_empty(),
        "nothing published without state"
    );
    assert!(
        std::fs::symlink_metadata(case.data_dir().join("state.json"))
            .unwrap()
            .file_type()
            .is_symlink()
    );
}

fn temp_files(case: &Case) -> Vec<String> {
    std::fs::read_dir(case.data_dir())
        .map(|d| {
            d.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.starts_with(".ddns-tray-") && n.ends_with(".tmp"))
                .collect()
        })
        .unwrap_or_default()
}

/// SIGKILL at random points, 100 times: the state always parses, a restart makes at most one redundant
/// provider call, and no temp file survives the next start.
#[tokio::test]
async fn sigkill_at_random_points() {
    let echo = FakeHttp::text("198.51.100.100").await;
    let hook = FakeHttp::text("ok").await;
    let case = Case::new(&format!(
        "interval = \"30s\"\n{}",
        hook_config(&echo.url("/"), &hook.url("/u?ip={ip}"))
    ));
    let mut leftovers = 0;
    for i in 0..100u32 {
        // The address changes every tenth run; in between, a run has nothing to publish.
        echo.set_text(&format!("198.51.100.{}", 100 + i / 10));
        let before = hook.requests().len();
        let mut child = case
            .command(&["run"])
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        tokio::time::sleep(Duration::from_millis(fastrand::u64(0..120))).await;
        signal(&child, "KILL");
        let _ = tokio::task::spawn_blocking(move || child.wait()).await;
        let calls = hook.requests().len() - before;
        assert!(calls <= 1, "run {i}: {calls} provider calls");
        if let Ok(text) = std::fs::read_to_string(case.data_dir().join("state.json")) {
            ddns_tray::store::parse(text.as_bytes())
                .unwrap_or_else(|e| panic!("run {i}: the state does not parse: {e}\n{text}"));
        }
        leftovers += temp_files(&case).len();
    }
    // A last clean run: it publishes what is due, removes what the kills left (and a temp file planted as a
    // kill during a write would leave it), and agrees with the hook.
    std::fs::write(
        case.data_dir().join(".ddns-tray-AbCdEf.tmp"),
        "{\"version\": 2, \"reco",
    )
    .unwrap();
    let out = case.run(&["once"]).await;
    assert_eq!(out.code, 0, "{out:?}");
    assert!(temp_files(&case).is_empty(), "{:?}", temp_files(&case));
    let last = hook.requests().last().map(|r| r.query()["ip"].clone());
    assert_eq!(last.as_deref(), Some("198.51.100.109"));
    let state: serde_json::Value = case.state();
    assert_eq!(
        state["records"]["home.example.test/A/hook"]["published"],
        "198.51.100.109"
    );
    eprintln!("temp files seen right after a kill: {leftovers} (removed at the next start)");
}

/// Regression (clock steps, through the binary): a retry date saved while the clock was 10 years ahead
/// blocked the record for 10 years. At load it is clamped to the longest delay its class allows (24 h for a
/// Retry-After), so the record is retried at the latest a day later.
#[tokio::test]
async fn a_retry_date_from_a_wrong_clock_does_not_block_the_record() {
    let echo = FakeHttp::text("198.51.100.62").await;
    let hook =
        FakeHttp::start(|_| Reply::status(429, "slow down").with_header("Retry-After", "120"))
            .await;
    let case = Case::new(&hook_config(&echo.url("/"), &hook.url("/u?ip={ip}")));
    assert_eq!(case.run(&["once"]).await.code, 1);
    let path = case.data_dir().join("state.json");
    let state: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let (wait, out) = after_a_wrong_clock(&case, &path, state).await;
    assert!(
        wait <= Duration::from_hours(24),
        "clamped to at most a day, got {wait:?}: {out:?}"
    );
}
