//! `ddns-tray run`: the daemon publishes a change within one interval, reloads on SIGHUP, stops on SIGTERM.

use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use crate::support::{Case, FakeHttp};

fn config(echo: &str, hook: &str, records: &[&str]) -> String {
    let mut text = format!(
        "interval = \"30s\"\n[detect]\nipv4 = [ {{ kind = \"http\", url = \"{echo}\", allow_private = true }} ]\n[[provider]]\nname = \"hook\"\nkind = \"webhook\"\nurl = \"{hook}\"\n"
    );
    for r in records {
        text.push_str(&format!(
            "[[record]]\nname = \"{r}\"\nprovider = \"hook\"\n"
        ));
    }
    text
}

async fn wait_until(limit: Duration, mut f: impl FnMut() -> bool) -> Option<Duration> {
    let start = Instant::now();
    while start.elapsed() < limit {
        if f() {
            return Some(start.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    None
}

fn signal(child: &Child, sig: &str) {
    std::process::Command::new("kill")
        .arg(format!("-{sig}"))
        .arg(child.id().to_string())
        .status()
        .unwrap();
}

async fn stop(mut child: Child) -> (Duration, i32) {
    signal(&child, "TERM");
    let start = Instant::now();
    let status = tokio::task::spawn_blocking(move || child.wait().unwrap())
        .await
        .unwrap();
    (start.elapsed(), status.code().unwrap_or(-1))
}

#[tokio::test]
async fn run_publishes_a_change_within_one_interval_and_stops_on_sigterm() {
    let echo = FakeHttp::text("198.51.100.90").await;
    let hook = FakeHttp::text("ok").await;
    let case = Case::new(&config(
        &echo.url("/"),
        &hook.url("/u?ip={ip}"),
        &["home.example.test"],
    ));
    let child = case
        .command(&["run"])
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let ips = || {
        hook.requests()
            .iter()
            .map(|r| r.query()["ip"].clone())
            .collect::<Vec<_>>()
    };
    assert!(
        wait_until(Duration::from_secs(10), || !ips().is_empty())
            .await
            .is_some(),
        "first publication at start"
    );
    assert_eq!(ips(), ["198.51.100.90"]);
    echo.set_text("198.51.100.91");
    let took = wait_until(Duration::from_secs(40), || ips().len() == 2).await;
    let took = took.expect("the change was not published within 40 s");
    assert!(
        took <= Duration::from_secs(31),
        "published {took:?} after the change; the interval is 30 s"
    );
    assert_eq!(ips(), ["198.51.100.90", "198.51.100.91"]);
    let (stopped_in, code) = stop(child).await;
    assert_eq!(code, 0);
    assert!(
        stopped_in < Duration::from_secs(5),
        "stopped in {stopped_in:?}"
    );
    let logs: Vec<_> = std::fs::read_dir(case.data_dir().join("logs"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        logs.iter()
            .any(|n| n.starts_with("ddns-tray.") && n.ends_with(".log")),
        "{logs:?}"
    );
}

#[tokio::test]
async fn sighup_reloads_the_config_and_a_bad_one_is_kept_out() {
    let echo = FakeHttp::text("198.51.100.92").await;
    let hook = FakeHttp::text("ok").await;
    let case = Case::new(&config(
        &echo.url("/"),
        &hook.url("/u?name={name}"),
        &["a.example.test"],
    ));
    let child = case
        .command(&["run"])
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let names = || {
        hook.requests()
            .iter()
            .map(|r| r.query()["name"].clone())
            .collect::<Vec<_>>()
    };
    assert!(
        wait_until(Duration::from_secs(10), || names().len() == 1)
            .await
            .is_some()
    );
    // An invalid file: the engine keeps running on the old settings.
    case.write_config("interval = \"1s\"\n");
    signal(&child, "HUP");
    tokio::time::sleep(Duration::from_millis(500)).await;
    case.write_config(&config(
        &echo.url("/"),
        &hook.url("/u?name={name}"),
        &["a.example.test", "b.example.test"],
    ));
    signal(&child, "HUP");
    assert!(
        wait_until(Duration::from_secs(10), || names().len() == 2)
            .await
            .is_some(),
        "{:?}",
        names()
    );
    assert_eq!(
        names(),
        ["a.example.test", "b.example.test"],
        "only the new record is published"
    );
    let (_, code) = stop(child).await;
    assert_eq!(code, 0);
}
