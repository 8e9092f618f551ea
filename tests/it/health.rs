//! `ddns-tray health` through the real binaries: 0 for a daemon whose records are published, 1 with the
//! reason when a provider refuses, 1 at once when no daemon runs, and 1 within its bounded wait when the
//! endpoint never answers.

use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use crate::support::{Case, FakeHttp, Reply, Run};

fn config(echo: &str, hook: &str) -> String {
    format!(
        "interval = \"30s\"\n[detect]\nipv4 = [ {{ kind = \"http\", url = \"{echo}\", allow_private = true }} ]\n[[provider]]\nname = \"hook\"\nkind = \"webhook\"\nurl = \"{hook}\"\n[[record]]\nname = \"box.example.test\"\nprovider = \"hook\"\n"
    )
}

/// `health` (and other commands) for `case`; no system service is asked (its endpoint is a path that does
/// not exist).
fn command(case: &Case, args: &[&str]) -> std::process::Command {
    let mut cmd = case.command(args);
    cmd.env(
        "DDNS_TRAY_SERVICE_CONTROL",
        case.dir.path().join("no-system-service.sock"),
    );
    cmd
}

async fn health(case: &Case, args: &[&str]) -> (Run, Duration) {
    let mut all = vec!["health"];
    all.extend_from_slice(args);
    let mut cmd = command(case, &all);
    let start = Instant::now();
    let out = tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap();
    (Run::from(out), start.elapsed())
}

async fn wait_until(limit: Duration, mut f: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < limit {
        if f() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}

fn stop(mut child: Child) {
    std::process::Command::new("kill")
        .arg(child.id().to_string())
        .status()
        .unwrap();
    child.wait().unwrap();
}

#[cfg(unix)]
#[tokio::test]
async fn health_is_0_for_a_publishing_daemon_and_1_with_the_reason_when_the_provider_refuses() {
    let echo = FakeHttp::text("198.51.100.120").await;
    let hook = FakeHttp::text("ok").await;
    let case = Case::new(&config(&echo.url("/"), &hook.url("/u?ip={ip}")));
    // The daemon's own endpoint in its data dir, as in the container image.
    let child = command(&case, &["run"])
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    assert!(
        wait_until(Duration::from_secs(10), || hook.requests().len() == 1).await,
        "first publication"
    );
    // The status is set just after the provider answered.
    let mut healthy = None;
    for _ in 0..40 {
        let (run, _) = health(&case, &[]).await;
        if run.code == 0 {
            healthy = Some(run);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let healthy = healthy.expect("health never answered 0 for a published record");
    assert_eq!(healthy.stdout, "healthy\n", "{healthy:?}");

    // The address changes and the provider refuses it: unhealthy, naming the record and the refusal.
    hook.set(|_| Reply::status(403, "badauth: key revoked"));
    echo.set_text("198.51.100.121");
    let update = command(&case, &["ctl", "update"]).output().unwrap();
    assert!(update.status.success(), "{update:?}");
    let mut unhealthy = None;
    for _ in 0..100 {
        let (run, took) = health(&case, &[]).await;
        assert!(took < Duration::from_secs(6), "health took {took:?}");
        if run.code == 1 {
            unhealthy = Some(run);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let unhealthy = unhealthy.expect("health never answered 1 for a refusing provider");
    assert!(
        unhealthy
            .stdout
            .starts_with("unhealthy: box.example.test A: ")
            && unhealthy.stdout.contains("key revoked")
            && unhealthy.stdout.lines().count() == 1,
        "{unhealthy:?}"
    );

    // Its words follow the config's language.
    let mut zh = config(&echo.url("/"), &hook.url("/u?ip={ip}"));
    zh.insert_str(0, "language = \"zh-CN\"\n");
    case.write_config(&zh);
    let (run, _) = health(&case, &[]).await;
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stdout.starts_with("不健康：box.example.test A："),
        "{run:?}"
    );
    stop(child);

    // The daemon gone: 1 at once.
    let (run, took) = health(&case, &[]).await;
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stdout.starts_with("不健康："), "{run:?}");
    assert!(took < Duration::from_secs(2), "took {took:?}");
}

#[tokio::test]
async fn health_without_a_daemon_is_1_at_once() {
    let case = Case::new(&config("http://127.0.0.1:9/", "http://127.0.0.1:9/u"));
    let (run, took) = health(&case, &[]).await;
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stdout
            .starts_with("unhealthy: no ddns-tray daemon is running"),
        "{run:?}"
    );
    assert!(took < Duration::from_secs(2), "took {took:?}");
    let gone = case.dir.path().join("gone.sock");
    let (run, took) = health(&case, &["--endpoint", gone.to_str().unwrap()]).await;
    assert_eq!(run.code, 1, "{run:?}");
    assert_eq!(
        run.stdout,
        format!(
            "unhealthy: no ddns-tray daemon answers at {}\n",
            gone.display()
        ),
    );
    assert!(took < Duration::from_secs(2), "took {took:?}");
}

/// Something listens at the endpoint but never answers: `health` gives up within its bounded wait.
#[cfg(unix)]
#[tokio::test]
async fn health_gives_up_on_a_silent_endpoint_within_its_wait() {
    let case = Case::new(&config("http://127.0.0.1:9/", "http://127.0.0.1:9/u"));
    let path = case.dir.path().join("silent.sock");
    let listener = std::os::unix::net::UnixListener::bind(&path).unwrap();
    // Accepts and holds every connection, never answering.
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for c in listener.incoming() {
            held.push(c);
        }
    });
    let (run, took) = health(&case, &["--endpoint", path.to_str().unwrap()]).await;
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stdout.starts_with("unhealthy: "), "{run:?}");
    assert!(
        took >= Duration::from_secs(4) && took < Duration::from_secs(7),
        "took {took:?}: {run:?}"
    );
}
