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

/// The control endpoint through the real binaries: `ctl` shows, pauses, resumes and reloads a running daemon;
/// a bad config on reload is refused and the daemon keeps its settings; a user who may not connect is told
/// why; the socket goes away with the daemon. (Windows: the Wine suite drives the pipe.)
#[cfg(unix)]
#[tokio::test]
async fn ctl_drives_a_running_daemon() {
    let echo = FakeHttp::text("198.51.100.93").await;
    let hook = FakeHttp::text("ok").await;
    let case = Case::new(&config(
        &echo.url("/"),
        &hook.url("/u?name={name}"),
        &["a.example.test"],
    ));
    let socket = case.dir.path().join("run").join("control.sock");
    let child = case
        .command(&["run", "--control", socket.to_str().unwrap()])
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    assert!(
        wait_until(Duration::from_secs(10), || hook.requests().len() == 1)
            .await
            .is_some()
    );
    let ctl = |args: &[&str]| {
        let mut all = vec!["ctl"];
        all.extend_from_slice(args);
        let mut cmd = case.command(&all);
        cmd.env("DDNS_TRAY_SERVICE_CONTROL", &socket);
        let out = cmd.output().unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        // Every local user may connect (to read); who may change things is decided per request.
        assert_eq!(mode(&socket), 0o666);
        assert_eq!(mode(socket.parent().unwrap()), 0o755);
    }
    let (code, out, _) = ctl(&["status"]);
    assert_eq!(code, Some(0));
    assert!(
        out.contains("a.example.test A via hook: 198.51.100.93 ok"),
        "{out}"
    );
    assert_eq!(ctl(&["pause"]).1, "paused\n");
    let (_, json, _) = ctl(&["status", "--json"]);
    let status: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(status["paused"], true);
    assert_eq!(ctl(&["resume"]).1, "resumed\n");

    // A broken file is refused on reload; the running settings stay.
    case.write_config("interval = \"1s\"\n");
    let (code, _, err) = ctl(&["reload"]);
    assert_eq!(code, Some(1));
    assert!(err.contains("keeping the current settings"), "{err}");
    case.write_config(&config(
        &echo.url("/"),
        &hook.url("/u?name={name}"),
        &["a.example.test", "b.example.test"],
    ));
    assert_eq!(ctl(&["reload"]).1, "config reloaded\n");
    assert!(
        wait_until(Duration::from_secs(10), || hook.requests().len() == 2)
            .await
            .is_some()
    );

    if is_root() {
        other_users_read_but_only_the_group_drives(&case, &socket);
        assert_eq!(ctl(&["resume"]).1, "resumed\n");
    }

    let (_, code) = stop(child).await;
    assert_eq!(code, 0);
    assert!(!socket.exists(), "the daemon removed its socket");
    let (code, _, err) = ctl(&["status"]);
    assert_eq!(code, Some(1));
    assert!(err.contains("no ddns-tray daemon is running"), "{err}");
}

/// Another local user (root running the tests: switch to nobody) sees the status and the config with its
/// secrets masked, but may not drive or change the daemon, nor have it hand its config back; a member of the socket's group may (it pauses).
#[cfg(unix)]
fn other_users_read_but_only_the_group_drives(case: &Case, socket: &std::path::Path) {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(case.dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let as_nobody = |groups: &str, args: &[&str]| {
        let out = std::process::Command::new("setpriv")
            .args(["--reuid=nobody", "--regid=nogroup"])
            .args(if groups.is_empty() {
                vec!["--clear-groups".to_owned()]
            } else {
                vec![format!("--groups={groups}")]
            })
            .arg(env!("CARGO_BIN_EXE_ddns-tray"))
            .arg("ctl")
            .args(args)
            .arg("--endpoint")
            .arg(socket)
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (code, out, err) = as_nobody("", &["status"]);
    assert_eq!(code, Some(0), "{err}");
    assert!(out.contains("a.example.test"), "{out}");
    let (code, out, err) = as_nobody("", &["config"]);
    assert_eq!(code, Some(0), "{err}");
    assert!(out.contains("b.example.test"), "{out}");
    assert!(err.contains("Only root and members of the group"), "{err}");
    let (code, _, err) = as_nobody("", &["pause"]);
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("permission denied"), "{err}");
    // Nor take its config with the secrets written out (`service uninstall --hand-back`): refused before
    // anything is uninstalled, nothing printed.
    let out = std::process::Command::new("setpriv")
        .args(["--reuid=nobody", "--regid=nogroup", "--clear-groups"])
        .arg(env!("CARGO_BIN_EXE_ddns-tray"))
        .args(["service", "uninstall", "--hand-back", "-"])
        .env("DDNS_TRAY_SERVICE_CONTROL", socket)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("permission denied"), "{err}");
    assert!(out.stdout.is_empty());
    let group = std::os::unix::fs::MetadataExt::gid(&std::fs::metadata(socket).unwrap());
    let (code, out, err) = as_nobody(&group.to_string(), &["pause"]);
    assert_eq!((code, out.as_str()), (Some(0), "paused\n"), "{err}");
}

#[cfg(unix)]
fn is_root() -> bool {
    std::process::Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout == b"0\n")
}

/// A tray's settings window on a service, through the real daemon: it reads the config with the header
/// secret masked, saves a change (the daemon writes it keeping the admin's comment, keeps the secret,
/// reloads and publishes the new record), and a config with a problem is answered with it at its field
/// while the file and the running settings stay.
#[cfg(all(unix, feature = "edit"))]
#[tokio::test]
async fn a_tray_saves_the_service_config_through_it() {
    use ddns_tray::control::{Client, Endpoint, Reply, Request};
    let echo = FakeHttp::text("198.51.100.94").await;
    let hook = FakeHttp::text("ok").await;
    let written = format!(
        "# the admin's note\n{}headers = {{ Authorization = \"Bearer by-hand-0123456789\" }}\n",
        config(&echo.url("/"), &hook.url("/u?name={name}"), &[])
    ) + "[[record]]\nname = \"a.example.test\"\nprovider = \"hook\"\n";
    let case = Case::new(&written);
    let socket = case.dir.path().join("run").join("control.sock");
    // The daemon in English (a service's locale), whatever the test's.
    let child = case
        .command(&["run", "--control", socket.to_str().unwrap()])
        .env("LANG", "C")
        .env("LC_ALL", "C")
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    assert!(
        wait_until(Duration::from_secs(10), || hook.requests().len() == 1)
            .await
            .is_some()
    );
    let endpoint = Endpoint::at(&socket);
    let Reply::Config(view) = Client::ask(&endpoint, Request::Config).await.unwrap() else {
        panic!("no config")
    };
    assert!(view.writable, "root may change it");
    assert!(!view.text.contains("by-hand"), "{}", view.text);
    let text = format!(
        "{}[[record]]\nname = \"b.example.test\"\nprovider = \"hook\"\n",
        view.text
    );
    let reply = Client::ask(&endpoint, Request::SetConfig { text })
        .await
        .unwrap();
    assert_eq!(reply, Reply::Ok("config saved and reloaded".into()));
    assert!(
        wait_until(Duration::from_secs(10), || hook
            .requests()
            .iter()
            .any(|r| r.target.contains("b.example.test")))
        .await
        .is_some()
    );
    assert!(
        hook.requests()
            .iter()
            .all(|r| r.headers.get("authorization").map(String::as_str)
                == Some("Bearer by-hand-0123456789")),
        "the secret came back unmasked"
    );
    let file = std::fs::read_to_string(case.config_path()).unwrap();
    assert!(file.starts_with("# the admin's note"), "{file}");
    assert!(file.contains("b.example.test"), "{file}");

    let bad = file.replace("interval = \"30s\"", "interval = \"soon\"");
    let Reply::Problems(issues) = Client::ask(&endpoint, Request::SetConfig { text: bad })
        .await
        .unwrap()
    else {
        panic!("a bad config was accepted")
    };
    assert_eq!(issues[0].path, "interval", "{issues:?}");
    assert_eq!(std::fs::read_to_string(case.config_path()).unwrap(), file);

    set_config_from_the_command_line(&case, &socket).await;
    let (_, code) = stop(child).await;
    assert_eq!(code, 0);
}

/// `ctl config`, then `ctl set-config FILE` through the real binary: a record added is saved with the
/// secret kept, a file with a problem is refused at its field, and without a file the command says what it needs.
#[cfg(all(unix, feature = "edit"))]
async fn set_config_from_the_command_line(case: &Case, socket: &std::path::Path) {
    let at = socket.to_str().unwrap();
    let shown = case.run(&["ctl", "config", "--endpoint", at]).await;
    assert_eq!(shown.code, 0, "{shown:?}");
    assert!(
        shown.stdout.contains("b.example.test") && !shown.stdout.contains("by-hand"),
        "{shown:?}"
    );
    let edited = case.dir.path().join("edited.toml");
    std::fs::write(
        &edited,
        format!(
            "{}[[record]]\nname = \"c.example.test\"\nprovider = \"hook\"\n",
            shown.stdout
        ),
    )
    .unwrap();
    let set = case
        .run(&[
            "ctl",
            "set-config",
            edited.to_str().unwrap(),
            "--endpoint",
            at,
        ])
        .await;
    assert_eq!(
        (set.code, set.stdout.as_str()),
        (0, "config saved and reloaded\n"),
        "{set:?}"
    );
    let file = std::fs::read_to_string(case.config_path()).unwrap();
    assert!(
        file.contains("c.example.test") && file.contains("by-hand-0123456789"),
        "{file}"
    );
    std::fs::write(
        &edited,
        file.replace("interval = \"30s\"", "interval = \"soon\""),
    )
    .unwrap();
    let refused = case
        .run(&[
            "ctl",
            "set-config",
            edited.to_str().unwrap(),
            "--endpoint",
            at,
        ])
        .await;
    assert_ne!(refused.code, 0, "{refused:?}");
    assert!(refused.stderr.contains("interval"), "{refused:?}");
    // The daemon runs in English; a client in Chinese reads its problems in Chinese.
    let mut zh = case.command(&[
        "ctl",
        "set-config",
        edited.to_str().unwrap(),
        "--endpoint",
        at,
    ]);
    zh.env("LANG", "zh_CN.UTF-8").env("LC_ALL", "zh_CN.UTF-8");
    let zh = tokio::task::spawn_blocking(move || zh.output().unwrap())
        .await
        .unwrap();
    let said = String::from_utf8_lossy(&zh.stderr);
    assert!(
        said.contains("interval: `soon` 不是时长") && said.contains("请写数字加单位"),
        "{said}"
    );
    assert_eq!(std::fs::read_to_string(case.config_path()).unwrap(), file);
    let missing = case.run(&["ctl", "set-config", "--endpoint", at]).await;
    assert!(
        missing
            .stderr
            .contains("`ctl set-config` needs the config file"),
        "{missing:?}"
    );
}
