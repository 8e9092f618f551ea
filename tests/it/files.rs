//! Files in the data directory that someone else put there, through the real binary: links the engine must
//! not write through, FIFOs that must not freeze it, a history grown too large, a retry date saved under a
//! wrong clock, and where the fingerprint key lives.

use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::faults::{signal, wait_until};
use crate::support::{Case, FakeHttp, Reply, Run};

fn hook_config(echo: &str, hook: &str) -> String {
    format!(
        "[detect]\nipv4 = [ {{ kind = \"http\", url = \"{echo}\", allow_private = true }} ]\n[[provider]]\nname = \"hook\"\nkind = \"webhook\"\nurl = \"{hook}\"\n[[record]]\nname = \"home.example.test\"\nprovider = \"hook\"\n"
    )
}

fn mkfifo(path: &std::path::Path) {
    assert!(
        std::process::Command::new("mkfifo")
            .arg(path)
            .status()
            .unwrap()
            .success()
    );
}

/// Today's daily log file name (UTC), as the daemon names it.
fn todays_log() -> String {
    let now = humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string();
    format!("ddns-tray.{}.log", &now[..10])
}

/// The binary under `timeout`, so a regression hangs the test for seconds, not forever.
async fn run_bounded(case: &Case, args: &[&str], secs: u32) -> (Run, Duration) {
    let cmd = case.command(args);
    let start = Instant::now();
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new("timeout")
            .arg(secs.to_string())
            .arg(cmd.get_program())
            .args(cmd.get_args())
            .env_remove("RUST_LOG")
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    (Run::from(out), start.elapsed())
}

/// Regression: with `history.jsonl` a symlink to another file (a stand-in for `/etc/passwd`), a root
/// `once` appended two JSON lines to it. The engine never writes through a link: the file is refused with
/// its name and the reason, the link's target is untouched, and the record is still published.
#[tokio::test]
async fn the_history_is_never_written_through_a_link() {
    let echo = FakeHttp::text("198.51.100.70").await;
    let hook = FakeHttp::text("ok").await;
    let case = Case::new(&hook_config(&echo.url("/"), &hook.url("/u?ip={ip}")));
    std::fs::create_dir_all(case.data_dir()).unwrap();
    let target = case.dir.path().join("passwd");
    let original = "root:x:0:0:root:/root:/bin/bash\n";
    std::fs::write(&target, original).unwrap();
    std::os::unix::fs::symlink(&target, case.data_dir().join("history.jsonl")).unwrap();

    let (out, _) = run_bounded(&case, &["once"], 20).await;
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(hook.requests().len(), 1, "published: {out:?}");
    assert_eq!(
        std::fs::read_to_string(&target).unwrap(),
        original,
        "the link's target is untouched"
    );
    assert!(
        out.stderr.contains("history.jsonl") && out.stderr.contains("symbolic link"),
        "says which file and why: {out:?}"
    );
}

/// Regression: with today's daily log file a symlink to another file, `run` appended its start-up lines
/// to it; with `logs/` a symlink to another directory, the files were made there. Neither is followed: the
/// daemon says why on stderr and goes on with stderr only.
#[tokio::test]
async fn the_daily_log_is_never_written_through_a_link() {
    let echo = FakeHttp::text("198.51.100.71").await;
    let hook = FakeHttp::text("ok").await;
    let config = hook_config(&echo.url("/"), &hook.url("/u?ip={ip}"));

    // A link in place of today's file.
    let case = Case::new(&config);
    let logs = case.data_dir().join("logs");
    std::fs::create_dir_all(&logs).unwrap();
    let target = case.dir.path().join("passwd");
    std::fs::write(&target, "root:x:0:0\n").unwrap();
    std::os::unix::fs::symlink(&target, logs.join(todays_log())).unwrap();
    // A link in place of `logs/`.
    let case2 = Case::new(&config);
    std::fs::create_dir_all(case2.data_dir()).unwrap();
    let elsewhere = case2.dir.path().join("elsewhere");
    std::fs::create_dir(&elsewhere).unwrap();
    std::os::unix::fs::symlink(&elsewhere, case2.data_dir().join("logs")).unwrap();

    for (c, what) in [(&case, todays_log()), (&case2, "logs".to_owned())] {
        let mut child = c
            .command(&["run"])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let state = c.data_dir().join("state.json");
        assert!(
            wait_until(Duration::from_secs(15), || state.exists()).await,
            "the daemon ran a round"
        );
        signal(&child, "TERM");
        let out = tokio::task::spawn_blocking(move || {
            let mut err = String::new();
            std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut err).unwrap();
            let _ = child.wait();
            err
        })
        .await
        .unwrap();
        assert!(
            out.contains(&what) && out.contains("symbolic link"),
            "says which file and why: {out}"
        );
    }
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "root:x:0:0\n");
    assert_eq!(
        std::fs::read_dir(&elsewhere).unwrap().count(),
        0,
        "nothing written in the link's target directory"
    );
}

/// Regression: `mkfifo history.jsonl` froze `once` with 0 provider calls; with `state.lock` a FIFO, `run`
/// never opened its control endpoint; with today's log a FIFO, `run` stopped answering and ignored SIGTERM.
/// No special file blocks the engine.
#[tokio::test]
async fn a_fifo_in_the_data_dir_never_freezes_the_engine() {
    let echo = FakeHttp::text("198.51.100.72").await;
    let hook = FakeHttp::text("ok").await;
    let config = hook_config(&echo.url("/"), &hook.url("/u?ip={ip}"));

    let case = Case::new(&config);
    std::fs::create_dir_all(case.data_dir()).unwrap();
    mkfifo(&case.data_dir().join("history.jsonl"));
    let (out, took) = run_bounded(&case, &["once"], 20).await;
    assert_eq!(out.code, 0, "{out:?}");
    assert!(took < Duration::from_secs(10), "took {took:?}");
    assert_eq!(hook.requests().len(), 1, "published: {out:?}");
    assert!(
        out.stderr.contains("history.jsonl") && out.stderr.contains("FIFO"),
        "{out:?}"
    );

    // The engine lock: refused at once with the file named, never a hang.
    let case = Case::new(&config);
    std::fs::create_dir_all(case.data_dir()).unwrap();
    mkfifo(&case.data_dir().join("state.lock"));
    let (out, took) = run_bounded(&case, &["run"], 20).await;
    assert_eq!(out.code, 1, "{out:?}");
    assert!(took < Duration::from_secs(10), "took {took:?}");
    assert!(
        out.stderr.contains("state.lock") && out.stderr.contains("FIFO"),
        "{out:?}"
    );

    // Today's log file: the daemon runs, answers, and stops on SIGTERM.
    let case = Case::new(&config);
    std::fs::create_dir_all(case.data_dir().join("logs")).unwrap();
    mkfifo(&case.data_dir().join("logs").join(todays_log()));
    let mut child = case
        .command(&["run"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let state = case.data_dir().join("state.json");
    assert!(
        wait_until(Duration::from_secs(15), || state.exists()).await,
        "the daemon ran a round"
    );
    let (status, _) = run_bounded(&case, &["ctl", "status"], 10).await;
    assert_eq!(status.code, 0, "ctl status answered: {status:?}");
    signal(&child, "TERM");
    let start = Instant::now();
    let stopped = wait_until(Duration::from_secs(10), || {
        child.try_wait().ok().flatten().is_some()
    })
    .await;
    if !stopped {
        let _ = child.kill();
    }
    assert!(stopped, "SIGTERM stopped it");
    assert!(start.elapsed() < Duration::from_secs(10));
    let mut err = String::new();
    std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut err).unwrap();
    assert!(err.contains("FIFO"), "{err}");
}

/// Regression: a `history.jsonl` over 4 MiB (not written by us) was never rotated, and `history` stayed
/// unusable ("larger than 4096 KiB"). It is read from its end, and rotated by the next entry.
#[tokio::test]
async fn a_history_grown_too_large_is_read_and_rotated() {
    let echo = FakeHttp::text("198.51.100.73").await;
    let hook = FakeHttp::text("ok").await;
    let case = Case::new(&hook_config(&echo.url("/"), &hook.url("/u?ip={ip}")));
    std::fs::create_dir_all(case.data_dir()).unwrap();
    let line = "{\"at\":\"2026-11-30T08:00:00Z\",\"event\":\"failed\",\"record\":\"old.example.test A\",\"error\":\"an old failure, padded to make the file large ................................................................................................\"}\n";
    let big = line.repeat(5 * 1024 * 1024 / line.len() + 1);
    assert!(big.len() > 5 * 1024 * 1024);
    std::fs::write(case.data_dir().join("history.jsonl"), &big).unwrap();

    let out = case.run(&["history", "--limit", "3"]).await;
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.stdout.contains("old.example.test"), "{out:?}");

    let out = case.run(&["once"]).await;
    assert_eq!(out.code, 0, "{out:?}");
    let current = std::fs::metadata(case.data_dir().join("history.jsonl"))
        .unwrap()
        .len();
    assert!(current < 64 * 1024, "rotated: {current} bytes");
    let out = case.run(&["history"]).await;
    assert_eq!(out.code, 0, "{out:?}");
    assert!(
        out.stdout.contains("home.example.test") && out.stdout.contains("198.51.100.73"),
        "{out:?}"
    );
}

/// Regression: a transient failure whose backoff was about 30 s, saved while the clock was 10 years ahead,
/// was clamped to an hour (its class's longest delay) instead of to the wait it asked for.
#[tokio::test]
async fn a_retry_saved_under_a_wrong_clock_waits_what_was_asked() {
    let echo = FakeHttp::text("198.51.100.74").await;
    let hook = FakeHttp::start(|_| Reply::status(500, "try later")).await;
    let case = Case::new(&hook_config(&echo.url("/"), &hook.url("/u?ip={ip}")));
    assert_eq!(case.run(&["once"]).await.code, 1);
    let path = case.data_dir().join("state.json");
    let state = case.state();
    let asked = state["records"]
        .as_object()
        .and_then(|r| r.values().next())
        .and_then(|r| r["retry_wait_secs"].as_u64())
        .expect("the wait is saved");
    assert!(
        asked <= 120,
        "a first transient failure waits briefly: {asked}"
    );
    let (wait, out) = crate::faults::after_a_wrong_clock(&case, &path, state).await;
    assert!(
        wait <= Duration::from_secs(asked + 5),
        "clamped to the {asked} s asked, got {wait:?}: {out:?}"
    );
}

/// Regression: `fingerprint.key` was written next to the config (`/etc/ddns-tray` may be read-only), even by
/// `once --dry-run`. It lives in the data directory; an existing one is moved there with its value; a dry
/// run writes nothing at all.
#[tokio::test]
async fn the_fingerprint_key_lives_in_the_data_dir_and_dry_runs_write_nothing() {
    let echo = FakeHttp::text("198.51.100.75").await;
    let hook = FakeHttp::text("ok").await;
    let case = Case::new(&hook_config(&echo.url("/"), &hook.url("/u?ip={ip}")));
    let out = case.run(&["once", "--dry-run"]).await;
    assert_eq!(out.code, 0, "{out:?}");
    assert!(!case.data_dir().exists(), "a dry run writes nothing");
    assert!(!case.dir.path().join("fingerprint.key").exists());
    assert!(hook.requests().is_empty());

    // An old key next to the config is moved into the data dir, keeping its value: nothing is re-published.
    let old = "cd".repeat(32);
    std::fs::write(case.dir.path().join("fingerprint.key"), &old).unwrap();
    assert_eq!(case.run(&["once"]).await.code, 0);
    assert_eq!(
        std::fs::read_to_string(case.data_dir().join("fingerprint.key")).unwrap(),
        old
    );
    assert!(!case.dir.path().join("fingerprint.key").exists());
    let out = case.run(&["once"]).await;
    assert!(out.stdout.contains("unchanged"), "{out:?}");
    assert_eq!(hook.requests().len(), 1);
}
