//! `ddns-tray service …` against a temporary root: files written and removed, service-manager commands
//! reported instead of run; the written unit passes `systemd-analyze verify`.

use crate::support::Case;

fn which(tool: &str) -> bool {
    std::process::Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {tool}"))
        .output()
        .is_ok_and(|o| o.status.success())
}

#[tokio::test]
async fn install_status_uninstall_in_a_temporary_root() {
    let case = Case::new("");
    let root = case.dir.path().join("root");
    let root_s = root.to_str().unwrap();
    let unit = root.join("etc/systemd/system/ddns-tray.service");

    let out = case.run(&["service", "install", "--root", root_s]).await;
    assert_eq!(out.code, 0, "{out:?}");
    assert!(
        out.stdout.contains("would run: systemctl daemon-reload")
            && out
                .stdout
                .contains("would run: systemctl enable --now ddns-tray.service"),
        "{out:?}"
    );
    let text = std::fs::read_to_string(&unit).unwrap();
    let exe = std::fs::canonicalize(env!("CARGO_BIN_EXE_ddns-tray")).unwrap();
    assert!(
        text.contains(&format!(
            "ExecStart={} run --config /etc/ddns-tray/config.toml --data-dir /var/lib/ddns-tray --control /run/ddns-tray/control.sock",
            exe.display()
        )),
        "{text}"
    );

    if which("systemd-analyze") {
        let verify = std::process::Command::new("systemd-analyze")
            .arg("verify")
            .arg(&unit)
            .output()
            .unwrap();
        assert!(
            verify.status.success(),
            "systemd-analyze verify: {}",
            String::from_utf8_lossy(&verify.stderr)
        );
    } else {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "systemd-analyze must be installed under CI"
        );
        eprintln!("skipping systemd-analyze verify: not installed");
    }

    let status = case.run(&["service", "status", "--root", root_s]).await;
    assert!(status.stdout.contains("is installed"), "{status:?}");

    let out = case.run(&["service", "uninstall", "--root", root_s]).await;
    assert_eq!(out.code, 0, "{out:?}");
    assert!(!unit.exists());
    assert!(
        out.stdout
            .contains("would run: systemctl disable --now ddns-tray.service"),
        "{out:?}"
    );
    let status = case.run(&["service", "status", "--root", root_s]).await;
    assert!(status.stdout.contains("is not installed"), "{status:?}");
    let again = case.run(&["service", "uninstall", "--root", root_s]).await;
    assert_eq!(again.code, 0, "uninstalling twice is fine: {again:?}");
}

#[tokio::test]
async fn user_service_goes_under_home() {
    let case = Case::new("");
    let root = case.dir.path().join("root");
    let mut cmd = case.command(&["service", "install", "--user"]);
    cmd.env("DDNS_TRAY_SERVICE_ROOT", &root)
        .env("HOME", "/home/alice");
    let out: crate::support::Run = tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap()
        .into();
    assert_eq!(out.code, 0, "{out:?}");
    let unit = root.join("home/alice/.config/systemd/user/ddns-tray.service");
    let text = std::fs::read_to_string(&unit).unwrap();
    assert!(text.contains("WantedBy=default.target"), "{text}");
    assert!(
        out.stdout
            .contains("would run: systemctl --user enable --now ddns-tray.service"),
        "{out:?}"
    );
}

/// The stand-in for `systemctl` the tests of running unattended share (see the script).
#[cfg(target_os = "linux")]
const FAKE_SYSTEMCTL: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fake-systemctl.sh");

/// A root with the stand-in service manager, the service's own file (detection from the loopback echo only:
/// nothing here may ask the public sources; no records) and a control socket; its daemon is stopped whatever
/// the test did.
#[cfg(target_os = "linux")]
struct Unattended {
    case: Case,
    root: std::path::PathBuf,
    sock: std::path::PathBuf,
    manager: std::path::PathBuf,
}

#[cfg(target_os = "linux")]
impl Unattended {
    fn new(echo: &str) -> Self {
        let case = Case::new("");
        let root = case.dir.path().join("root");
        let sock = case.dir.path().join("run/control.sock");
        std::fs::create_dir_all(sock.parent().unwrap()).unwrap();
        let manager = std::path::PathBuf::from(FAKE_SYSTEMCTL);
        std::fs::create_dir_all(root.join("etc/ddns-tray")).unwrap();
        std::fs::write(
            root.join("etc/ddns-tray/config.toml"),
            format!(
                "# the administrator's note stays\n[detect]\npolicy = \"first\"\nipv4 = [ {{ kind = \"http\", url = \"{echo}\", allow_private = true }} ]\n"
            ),
        )
        .unwrap();
        Self {
            case,
            root,
            sock,
            manager,
        }
    }

    /// Runs `ddns-tray ARGS --root …` with `input` on stdin, off the runtime's threads (the echo it asks is
    /// served on them).
    fn run(&self, args: &[&str], input: &str) -> tokio::task::JoinHandle<crate::support::Run> {
        use std::io::Write as _;
        let mut cmd = self.case.command(args);
        cmd.arg("--root")
            .arg(&self.root)
            .env("DDNS_TRAY_SERVICE_MANAGER", &self.manager)
            .env("DDNS_TRAY_SERVICE_CONTROL", &self.sock)
            .env("FAKE_EXE", env!("CARGO_BIN_EXE_ddns-tray"))
            .env("FAKE_ROOT", &self.root)
            .env("FAKE_SOCK", &self.sock)
            .env("SUDO_UID", "65534")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        let input = input.to_owned();
        tokio::task::spawn_blocking(move || {
            let mut child = cmd.spawn().unwrap();
            let mut stdin = child.stdin.take().unwrap();
            stdin.write_all(input.as_bytes()).unwrap();
            drop(stdin);
            crate::support::Run::from(child.wait_with_output().unwrap())
        })
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.root.join("service.log")).unwrap_or_default()
    }
}

#[cfg(target_os = "linux")]
impl Drop for Unattended {
    fn drop(&mut self) {
        if let Ok(pid) = std::fs::read_to_string(self.root.join("service.pid")) {
            let _ = std::process::Command::new("kill").arg(pid.trim()).status();
        }
    }
}

/// "Run unattended" through the real binary, as the tray runs it (`service install --adopt -` with the
/// config on standard input, secrets written out), with a stand-in service manager that starts the real daemon on the
/// service's paths under a root: the service takes the config, keeps the secret in its own store (0600, in a
/// 0700 folder; the config names it and holds no secret), publishes to a real `PowerDNS`, and the install
/// prints that first round. Then `service uninstall --hand-back -` gives the config back with the secret
/// written out, stops the daemon and removes the unit. A config with problems installs nothing.
/// (What only a real systemd proves: the unit's sandbox, and its user reading that store at boot.)
#[cfg(target_os = "linux")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_unattended_moves_the_config_into_the_service_and_back() {
    let Some(p) = crate::support::pdns() else {
        return;
    };
    let echo = crate::support::FakeHttp::text("198.51.100.61").await;
    let name = format!("{}.example.test", crate::support::unique("svc"));
    let u = Unattended::new(&echo.url("/"));
    let root = u.root.clone();
    let user_config = format!(
        r#"# the user's own settings
[detect]
policy = "first"
ipv4 = [ {{ kind = "http", url = "{echo}", allow_private = true }} ]

[[provider]]
name = "home-pdns"
kind = "powerdns"
url = "{api}"
api_key = "{key}"

[[record]]
name = "{name}"
provider = "home-pdns"
ttl = 120
"#,
        echo = echo.url("/"),
        api = p.api_url,
        key = p.api_key,
    );
    // A config with problems: nothing is installed.
    let bad = u
        .run(
            &["service", "install", "--adopt", "-"],
            "[[record]]\nname = \"x.example.test\"\nprovider = \"nowhere\"\n",
        )
        .await
        .unwrap();
    assert_ne!(bad.code, 0, "{bad:?}");
    assert!(bad.stderr.contains("nothing was installed"), "{bad:?}");
    assert!(!root.join("etc/systemd/system/ddns-tray.service").exists());

    let out = u
        .run(&["service", "install", "--adopt", "-"], &user_config)
        .await
        .unwrap();
    assert_eq!(out.code, 0, "{out:?}");
    // The first round, as the service did it.
    assert!(
        out.stdout.contains(&format!("{name} A")) && out.stdout.contains("198.51.100.61"),
        "{out:?}\n--- service log\n{}",
        u.log()
    );
    assert!(out.stderr.contains("took the config"), "{out:?}");
    assert!(
        out.stderr
            .contains("would run: usermod -aG ddns-tray nobody"),
        "the user who asked joins the service's group: {out:?}"
    );
    assert_eq!(
        crate::support::pdns_records(&p, &name, "A").await,
        ["198.51.100.61"]
    );
    let log = std::fs::read_to_string(root.join("systemctl.log")).unwrap();
    assert!(log.contains("enable --now ddns-tray.service"), "{log}");
    the_secret_is_in_the_store_only(&u, &p.api_key);

    // And back: the config with the secret written out on stdout; the service stopped and removed.
    let back = u
        .run(&["service", "uninstall", "--hand-back", "-"], "")
        .await
        .unwrap();
    assert_eq!(back.code, 0, "{back:?}");
    assert!(
        back.stdout
            .contains(&format!(r#"api_key = "{}""#, p.api_key)),
        "{back:?}"
    );
    assert!(back.stdout.contains(&name), "{back:?}");
    assert!(!back.stderr.contains(&p.api_key), "{back:?}");
    assert!(!root.join("etc/systemd/system/ddns-tray.service").exists());
    let log = std::fs::read_to_string(root.join("systemctl.log")).unwrap();
    assert!(log.contains("disable --now ddns-tray.service"), "{log}");
    // Nothing answers any more: a second hand-back says the service must run.
    let again = u
        .run(&["service", "uninstall", "--hand-back", "-"], "")
        .await
        .unwrap();
    assert_ne!(again.code, 0, "{again:?}");
    assert!(again.stderr.contains("must run"), "{again:?}");
    assert!(again.stdout.is_empty(), "{again:?}");
}

/// The service's file names the secret (`store = …`) and keeps the administrator's note; its store holds
/// the secret, owner-only; its log never shows it.
#[cfg(target_os = "linux")]
fn the_secret_is_in_the_store_only(u: &Unattended, key: &str) {
    use std::os::unix::fs::PermissionsExt as _;
    let written = std::fs::read_to_string(u.root.join("etc/ddns-tray/config.toml")).unwrap();
    assert!(!written.contains(key), "{written}");
    assert!(
        written.contains("# the administrator's note stays"),
        "{written}"
    );
    assert!(
        written.contains(r#"store = "home-pdns/api_key""#),
        "{written}"
    );
    let secrets = u.root.join("var/lib/ddns-tray/secrets");
    let mode =
        |path: &std::path::Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&secrets), 0o700);
    let entry = secrets.join("home-pdns%2Fapi_key");
    assert_eq!(mode(&entry), 0o600);
    assert_eq!(std::fs::read_to_string(&entry).unwrap(), key);
    assert!(!u.log().contains(key), "no secret in the service's log");
}
