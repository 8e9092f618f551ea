//! `command`: a program run for each alert, through the real binary: the alert in its environment (a test
//! and a real address change), no stdin, a hanging program and its child killed at the timeout, a flood of
//! output bounded, the exit code reported.

use std::path::Path;
use std::time::{Duration, Instant};

use crate::support::{Case, FakeHttp};

/// Writes each variable to `<dir>/<event>/<NAME>` and what stdin held to `<dir>/<event>/stdin`.
const RECORDER: &str = r#"d="$1/$DDNS_TRAY_EVENT"; mkdir -p "$d"
for v in EVENT TITLE BODY MESSAGE RECORD NAME TYPE OLD NEW; do eval "printf '%s' \"\$DDNS_TRAY_$v\"" > "$d/$v"; done
cat > "$d/stdin"; echo delivered"#;

fn recorder(name: &str, dir: &Path) -> String {
    format!(
        "[[notify]]\nname = \"{name}\"\nkind = \"command\"\ncommand = [\"sh\", \"-c\", '''{RECORDER}''', \"sh\", \"{}\"]\n",
        dir.display()
    )
}

fn read(dir: &Path, event: &str, var: &str) -> String {
    std::fs::read_to_string(dir.join(event).join(var))
        .unwrap_or_else(|e| panic!("{event}/{var}: {e}"))
}

#[tokio::test]
async fn the_alert_is_in_the_environment_and_stdin_is_empty() {
    let out_dir = tempfile::tempdir().unwrap();
    let dir = out_dir.path();
    let echo = FakeHttp::text("198.51.100.1").await;
    let provider = FakeHttp::text("ok").await;
    let case = Case::new(&super::with_records(
        &echo,
        &provider,
        &recorder("script", dir),
    ));

    let out = case.run(&["notify", "test"]).await;
    assert_eq!(out.code, 0, "{out:?}");
    assert!(
        out.stdout
            .contains("script (command): sent; the service answered exit code 0: delivered"),
        "{out:?}"
    );
    let title = "Test message from ddns-tray";
    let body = format!(
        "If you can read this, alerts reach you. Sent by `ddns-tray notify test` with the settings in {}.",
        case.config_path().display()
    );
    assert_eq!(read(dir, "test", "EVENT"), "test");
    assert_eq!(read(dir, "test", "TITLE"), title);
    assert_eq!(read(dir, "test", "BODY"), body);
    assert_eq!(read(dir, "test", "MESSAGE"), format!("{title}\n{body}"));
    for var in ["RECORD", "NAME", "TYPE", "OLD", "NEW", "stdin"] {
        assert_eq!(read(dir, "test", var), "", "{var}");
    }

    // A real change: old and new address and the record.
    let out = case.run(&["once"]).await;
    assert_eq!(out.code, 0, "{out:?}");
    echo.set_text("198.51.100.2");
    let out = case.run(&["once"]).await;
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(read(dir, "change", "EVENT"), "change");
    assert_eq!(read(dir, "change", "TITLE"), "Public IPv4 address changed");
    assert_eq!(
        read(dir, "change", "BODY"),
        "IPv4 198.51.100.1 -> 198.51.100.2\nUpdated: home.example.test A"
    );
    assert_eq!(read(dir, "change", "RECORD"), "home.example.test A");
    assert_eq!(read(dir, "change", "NAME"), "home.example.test");
    assert_eq!(read(dir, "change", "TYPE"), "A");
    assert_eq!(read(dir, "change", "OLD"), "198.51.100.1");
    assert_eq!(read(dir, "change", "NEW"), "198.51.100.2");
    assert_eq!(read(dir, "change", "stdin"), "");
}

/// Whether a process is gone (or a zombie nobody has reaped yet: it runs no more).
fn gone(pid: &str) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(stat) => stat
            .rsplit_once(')')
            .is_some_and(|(_, rest)| rest.trim_start().starts_with('Z')),
    }
}

#[tokio::test]
async fn a_hanging_program_dies_with_its_child_at_the_timeout_and_floods_are_bounded() {
    let out_dir = tempfile::tempdir().unwrap();
    let dir = out_dir.path().display().to_string();
    let case = Case::new(&format!(
        r#"
[[notify]]
name = "hang"
kind = "command"
command = ["sh", "-c", 'sleep 300 & echo $! > "$1/child"; echo $$ > "$1/parent"; sleep 300', "sh", "{dir}"]
timeout = "1s"

[[notify]]
name = "flood"
kind = "command"
command = ["sh", "-c", "head -c 20000000 /dev/zero | tr '\\0' x"]
timeout = "30s"

[[notify]]
name = "floodfail"
kind = "command"
command = ["sh", "-c", "head -c 20000000 /dev/zero | tr '\\0' y >&2; exit 3"]
timeout = "30s"

[[notify]]
name = "fails"
kind = "command"
command = ["sh", "-c", "echo bad config >&2; exit 7"]
"#
    ));
    let started = Instant::now();
    let out = case.run(&["notify", "test"]).await;
    assert!(started.elapsed() < Duration::from_secs(20), "{out:?}");
    assert_eq!(out.code, 1, "{out:?}");
    let line = |name: &str| {
        out.stdout
            .lines()
            .find(|l| l.starts_with(&format!("{name} (command): ")))
            .unwrap_or_else(|| panic!("{name}: {out:?}"))
            .to_owned()
    };
    assert_eq!(
        line("hang"),
        "hang (command): FAILED: `sh` did not finish within 1s: killed with its children"
    );
    let x60 = "x".repeat(60);
    assert_eq!(
        line("flood"),
        format!(
            "flood (command): sent; the service answered exit code 0: {x60}… (output beyond 4096 bytes dropped)"
        )
    );
    let y60 = "y".repeat(60);
    assert_eq!(
        line("floodfail"),
        format!(
            "floodfail (command): FAILED: `sh` ended with exit code 3: {y60}… (output beyond 4096 bytes dropped)"
        )
    );
    assert_eq!(
        line("fails"),
        "fails (command): FAILED: `sh` ended with exit code 7: bad config"
    );
    let pid = |f: &str| {
        std::fs::read_to_string(Path::new(&dir).join(f))
            .unwrap()
            .trim()
            .to_owned()
    };
    let (parent, child) = (pid("parent"), pid("child"));
    let deadline = Instant::now() + Duration::from_secs(5);
    while !(gone(&parent) && gone(&child)) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(gone(&parent), "the program {parent} still runs");
    assert!(gone(&child), "its child {child} still runs");
}

#[tokio::test]
async fn an_empty_command_and_a_long_timeout_are_refused_at_load() {
    let case = Case::new(
        "[[notify]]\nname = \"a\"\nkind = \"command\"\ncommand = []\n\n[[notify]]\nname = \"b\"\nkind = \"command\"\ncommand = [\"true\"]\ntimeout = \"5m\"\n",
    );
    let out = case.run(&["check"]).await;
    assert_eq!(out.code, 2, "{out:?}");
    let text = out.stdout.clone() + &out.stderr;
    for expected in [
        "notify[0].command: names no program",
        "notify[1].timeout: must be more than 0 and at most 40s",
    ] {
        assert!(text.contains(expected), "{expected}: {out:?}");
    }
}
