//! The binary as PID 1 (a container's entry point), in a new PID namespace (`unshare --pid`, root only): it
//! reaps the orphans a `command` source leaves behind (no zombie stays), passes SIGTERM on to the daemon it
//! runs, and ends with its exit code within a few seconds.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::{Case, FakeHttp};

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout == b"0\n")
}

/// The children of process `pid` (host ids).
fn children(pid: u32) -> Vec<u32> {
    std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children"))
        .unwrap_or_default()
        .split_whitespace()
        .filter_map(|p| p.parse().ok())
        .collect()
}

/// The state letter of process `pid` (`Z` for a zombie), if it exists.
fn state(pid: u32) -> Option<char> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // "pid (comm) S ...": the comm may hold spaces; the state follows its closing parenthesis.
    stat.rsplit_once(") ")
        .and_then(|(_, rest)| rest.chars().next())
}

#[tokio::test]
async fn as_pid_1_it_reaps_orphans_and_stops_on_sigterm() {
    if !is_root() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI runs as root: the PID-namespace test must run"
        );
        eprintln!("skipping: PID namespaces need root");
        return;
    }
    let hook = FakeHttp::text("ok").await;
    // The source's program leaves a child behind: killed with its process group once the program ends, it
    // is an orphan handed to PID 1, a zombie until PID 1 reaps it.
    let case = Case::new(&format!(
        "interval = \"30s\"\n[detect]\nipv4 = [ {{ kind = \"command\", command = [\"sh\", \"-c\", \"sleep 30 >/dev/null 2>&1 & echo 198.51.100.130\"], allow_private = true }} ]\n[[provider]]\nname = \"hook\"\nkind = \"webhook\"\nurl = \"{}\"\n[[record]]\nname = \"pid1.example.test\"\nprovider = \"hook\"\n",
        hook.url("/u?ip={ip}")
    ));
    let daemon = case.command(&["run"]);
    let mut unshare = Command::new("unshare");
    unshare
        .args(["--pid", "--fork", "--kill-child"])
        .arg(daemon.get_program())
        .args(daemon.get_args())
        .env_remove("RUST_LOG")
        .env_remove("DDNS_TRAY_CONFIG")
        .env_remove("DDNS_TRAY_DATA_DIR")
        .env(
            "DDNS_TRAY_SERVICE_CONTROL",
            case.dir.path().join("no-system-service.sock"),
        )
        .stderr(Stdio::null());
    let mut outer = unshare.spawn().unwrap();
    let start = Instant::now();
    // unshare's child is PID 1 in the namespace; its child is the daemon.
    let mut init = None;
    while init.is_none() && start.elapsed() < Duration::from_secs(5) {
        init = children(outer.id()).first().copied();
        std::thread::sleep(Duration::from_millis(20));
    }
    let init = init.expect("unshare started no PID 1");
    let mut published = false;
    for _ in 0..200 {
        if !hook.requests().is_empty() {
            published = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(published, "the daemon under PID 1 published nothing");
    assert_eq!(hook.requests()[0].query()["ip"], "198.51.100.130");
    // One more round, one more orphan.
    let ctl = case
        .command(&["ctl", "update"])
        .env(
            "DDNS_TRAY_SERVICE_CONTROL",
            case.dir.path().join("no-system-service.sock"),
        )
        .output()
        .unwrap();
    assert!(ctl.status.success(), "{ctl:?}");
    tokio::time::sleep(Duration::from_secs(2)).await;
    let kids = children(init);
    assert_eq!(
        kids.iter().filter(|&&k| state(k) != Some('Z')).count(),
        1,
        "PID 1 runs the daemon as its one live child: {kids:?}"
    );
    let zombies: Vec<u32> = kids
        .iter()
        .copied()
        .filter(|&k| state(k) == Some('Z'))
        .collect();
    assert!(zombies.is_empty(), "zombies left under PID 1: {zombies:?}");

    // SIGTERM to PID 1 reaches the daemon: everything ends, exit 0, within a few seconds.
    let stopping = Instant::now();
    Command::new("kill").arg(init.to_string()).status().unwrap();
    let status = tokio::task::spawn_blocking(move || outer.wait().unwrap())
        .await
        .unwrap();
    let took = stopping.elapsed();
    assert_eq!(status.code(), Some(0), "{status:?}");
    assert!(took < Duration::from_secs(5), "stopped in {took:?}");
}
