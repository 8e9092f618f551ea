//! Running unattended: `ddns-tray service install [--user] | uninstall | start | stop | status`.
//!
//! - Linux: a systemd unit (system-wide or `--user`), written atomically, enabled and started with
//!   `systemctl`; the unit text comes from [`systemd_unit`].
//! - macOS: a launchd plist (a `LaunchDaemon`, or a `LaunchAgent` with `--user`) from [`launchd_plist`], loaded with
//!   `launchctl`.
//! - Windows: a real service through the Service Control Manager (`windows.rs`, compiled on Windows only).
//!
//! `--root DIR` (or `DDNS_TRAY_SERVICE_ROOT`) writes under `DIR` instead of `/` and runs no service manager:
//! the commands it would run are reported instead, so installs can be checked without systemd or launchd
//! (or `DDNS_TRAY_SERVICE_MANAGER` names a stand-in run in `systemctl`'s or `launchctl`'s place).
//!
//! Running unattended from a tray: `service install --adopt` takes a user's config (secrets written out,
//! from the tray, through a pipe) into the service it installs, and `service uninstall --hand-back` gives
//! it back (see `cli::service`).
//! The unit and plist generators are plain functions, tested on every platform.

#[cfg(windows)]
pub mod windows;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// The service's name (systemd unit `ddns-tray.service`, Windows service `ddns-tray`).
pub const NAME: &str = "ddns-tray";
/// The launchd label.
pub const LAUNCHD_LABEL: &str = "rs.ddns-tray";
/// Environment variable standing in for `--root`.
pub const ROOT_ENV: &str = "DDNS_TRAY_SERVICE_ROOT";
/// With `--root`, a program run instead of `systemctl` / `launchctl` with the same arguments (a stand-in
/// service manager, so an install under a root can start a real daemon: the tests of running unattended).
pub const MANAGER_ENV: &str = "DDNS_TRAY_SERVICE_MANAGER";

/// System-wide (starts at boot, runs as a system account) or for the current user (starts at login).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    System,
    User,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Install,
    Uninstall,
    Start,
    Stop,
    Status,
}

/// Why a service command failed.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot remove {path}: {source}")]
    Remove {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("`{command}` failed: {detail}")]
    Command { command: String, detail: String },
    #[error("{0}")]
    Other(String),
}

/// Where the system-wide service keeps its config and state on Linux.
pub const LINUX_SYSTEM_CONFIG: &str = "/etc/ddns-tray/config.toml";
pub const LINUX_SYSTEM_DATA: &str = "/var/lib/ddns-tray";
/// And on macOS.
pub const MACOS_SYSTEM_DIR: &str = "/Library/Application Support/ddns-tray";

/// The system service's config file (under `root` when given); `None` on Windows (the service finds it in
/// `%ProgramData%`).
#[must_use]
pub fn system_config(root: Option<&Path>) -> Option<PathBuf> {
    let path = if cfg!(windows) {
        return None;
    } else if cfg!(target_os = "macos") {
        Path::new(MACOS_SYSTEM_DIR).join("config.toml")
    } else {
        PathBuf::from(LINUX_SYSTEM_CONFIG)
    };
    Some(match root {
        Some(root) => root.join(path.strip_prefix("/").unwrap_or(&path)),
        None => path,
    })
}

/// The system service's user and group: `DynamicUser=yes` uses this name, and a static user of that name
/// (created at install) when there is one, so the config can be made readable by the group only.
pub const SERVICE_USER: &str = "ddns-tray";

/// The systemd unit for `exe`. The system unit runs as its own unprivileged user with no capabilities, a
/// system-call filter and a read-only view of the system; its config in `/etc/ddns-tray` (readable by the
/// service's group only) and its state in `/var/lib/ddns-tray`. It tells systemd when it is ready and
/// proves it is alive (`Type=notify`, watchdog). The user unit uses the user's usual paths.
#[must_use]
pub fn systemd_unit(scope: Scope, exe: &Path) -> String {
    let mut unit = String::from(
        "[Unit]\nDescription=ddns-tray dynamic DNS client\nDocumentation=https://github.com/ddns-tray/ddns-tray\n",
    );
    if scope == Scope::System {
        unit.push_str("Wants=network-online.target\nAfter=network-online.target\n");
    }
    unit.push_str("\n[Service]\nType=notify\nNotifyAccess=main\n");
    match scope {
        Scope::System => {
            let _ = writeln!(
                unit,
                "ExecStart={} run --config {LINUX_SYSTEM_CONFIG} --data-dir {LINUX_SYSTEM_DATA} --control /run/ddns-tray/control.sock",
                exe.display()
            );
        }
        Scope::User => {
            let _ = writeln!(unit, "ExecStart={} run", exe.display());
        }
    }
    unit.push_str(
        // Exit 2 is a config that cannot be used: restarting every 10 s would only repeat it in the log.
        "ExecReload=/bin/kill -HUP $MAINPID\nRestart=on-failure\nRestartSec=10s\nRestartPreventExitStatus=2\nWatchdogSec=2min\n",
    );
    match scope {
        Scope::System => {
            let _ = write!(
                unit,
                "DynamicUser=yes\nUser={SERVICE_USER}\nGroup={SERVICE_USER}\n"
            );
            unit.push_str(
                "StateDirectory=ddns-tray\nStateDirectoryMode=0700\n\
                 ConfigurationDirectory=ddns-tray\nConfigurationDirectoryMode=0755\n\
                 RuntimeDirectory=ddns-tray\nRuntimeDirectoryMode=0755\n\
                 UMask=0027\nNoNewPrivileges=yes\nCapabilityBoundingSet=\nAmbientCapabilities=\n\
                 ProtectSystem=strict\nReadWritePaths=/etc/ddns-tray\nProtectHome=yes\nPrivateTmp=yes\nPrivateDevices=yes\nDevicePolicy=closed\n\
                 PrivateMounts=yes\nPrivateUsers=yes\n\
                 ProtectKernelTunables=yes\nProtectKernelModules=yes\nProtectKernelLogs=yes\nProtectControlGroups=yes\n\
                 ProtectClock=yes\nProtectHostname=yes\nProtectProc=invisible\nRestrictNamespaces=yes\n\
                 RestrictRealtime=yes\nRestrictSUIDSGID=yes\nRemoveIPC=yes\nLockPersonality=yes\n\
                 MemoryDenyWriteExecute=yes\nSystemCallArchitectures=native\n\
                 SystemCallFilter=@system-service\nSystemCallFilter=~@privileged @resources\nSystemCallErrorNumber=EPERM\n\
                 RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX AF_NETLINK\n\n[Install]\nWantedBy=multi-user.target\n",
            );
        }
        Scope::User => unit.push_str("NoNewPrivileges=yes\n\n[Install]\nWantedBy=default.target\n"),
    }
    unit
}

/// Why `exe` must not be what a system service runs: it (or a folder above it) can be changed by a user
/// other than root, who could then run code as the service. `None` when it is safe.
#[cfg(unix)]
#[must_use]
pub fn unsafe_location(exe: &Path) -> Option<String> {
    use std::os::unix::fs::MetadataExt as _;
    let mut path = Some(exe);
    while let Some(p) = path {
        let Ok(meta) = std::fs::metadata(p) else {
            return Some(format!("{} cannot be inspected", p.display()));
        };
        let sticky_dir = meta.is_dir() && meta.mode() & 0o1000 != 0;
        if meta.uid() != 0 {
            return Some(format!("{} belongs to a user other than root", p.display()));
        }
        if meta.mode() & 0o022 != 0 && !sticky_dir {
            return Some(format!(
                "{} can be written by users other than root",
                p.display()
            ));
        }
        path = p.parent();
    }
    None
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The launchd plist for `exe`: started at load, restarted when it exits with an error.
#[must_use]
pub fn launchd_plist(scope: Scope, exe: &Path, log_dir: &Path) -> String {
    let mut args = vec![exe.display().to_string(), "run".to_owned()];
    if scope == Scope::System {
        args.extend([
            "--config".to_owned(),
            format!("{MACOS_SYSTEM_DIR}/config.toml"),
            "--data-dir".to_owned(),
            MACOS_SYSTEM_DIR.to_owned(),
            "--control".to_owned(),
            "/var/run/ddns-tray/control.sock".to_owned(),
        ]);
    }
    let args: String = args.iter().fold(String::new(), |mut out, a| {
        let _ = writeln!(out, "        <string>{}</string>", xml_escape(a));
        out
    });
    let log = xml_escape(&log_dir.join("ddns-tray.launchd.log").display().to_string());
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
<dict>
    <key>Label</key>
    <string>{LAUNCHD_LABEL}</string>
    <key>ProgramArguments</key>
    <array>
{args}    </array>
    <key>RunAtLoad</key>
    <true/>
    <key>KeepAlive</key>
    <dict>
        <key>SuccessfulExit</key>
        <false/>
    </dict>
    <key>ThrottleInterval</key>
    <integer>10</integer>
    <key>ProcessType</key>
    <string>Background</string>
    <key>StandardErrorPath</key>
    <string>{log}</string>
</dict>
</plist>
"#
    )
}

#[cfg(not(windows))]
/// Runs service commands, or with a root override only reports them.
struct Runner {
    root: Option<PathBuf>,
    report: String,
}

#[cfg(not(windows))]
impl Runner {
    /// A path under the root override.
    fn path(&self, path: &Path) -> PathBuf {
        match &self.root {
            Some(root) => root.join(path.strip_prefix("/").unwrap_or(path)),
            None => path.to_owned(),
        }
    }

    fn run(&mut self, argv: &[&str]) -> Result<String, ServiceError> {
        let shown = argv.join(" ");
        // Under a root override, a stand-in for the service manager may run the service (tests).
        let stand_in = std::env::var_os(MANAGER_ENV).filter(|v| {
            self.root.is_some() && !v.is_empty() && ["systemctl", "launchctl"].contains(&argv[0])
        });
        if self.root.is_some() && stand_in.is_none() {
            let _ = writeln!(self.report, "would run: {shown}");
            return Ok(String::new());
        }
        let program = stand_in.unwrap_or_else(|| argv[0].into());
        let out = std::process::Command::new(program)
            .args(&argv[1..])
            .output()
            .map_err(|e| ServiceError::Command {
                command: shown.clone(),
                detail: e.to_string(),
            })?;
        if out.status.success() {
            let _ = writeln!(self.report, "ran: {shown}");
            Ok(String::from_utf8_lossy(&out.stdout).into_owned())
        } else {
            let detail = String::from_utf8_lossy(&out.stderr).trim().to_owned();
            Err(ServiceError::Command {
                command: shown,
                detail: if detail.is_empty() {
                    out.status.to_string()
                } else {
                    detail
                },
            })
        }
    }

    fn write(&mut self, path: &Path, text: &str) -> Result<(), ServiceError> {
        let target = self.path(path);
        crate::fsutil::write_atomic(&target, text.as_bytes()).map_err(|source| {
            ServiceError::Write {
                path: target.clone(),
                source,
            }
        })?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let _ = std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o644));
        }
        let _ = writeln!(self.report, "wrote {}", target.display());
        Ok(())
    }

    fn remove(&mut self, path: &Path) -> Result<(), ServiceError> {
        let target = self.path(path);
        match std::fs::remove_file(&target) {
            Ok(()) => {
                let _ = writeln!(self.report, "removed {}", target.display());
                Ok(())
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let _ = writeln!(self.report, "{} was not installed", target.display());
                Ok(())
            }
            Err(source) => Err(ServiceError::Remove {
                path: target,
                source,
            }),
        }
    }
}

#[cfg(not(windows))]
/// Where the unit or plist goes.
fn definition_path(scope: Scope, home: Option<&Path>) -> Result<PathBuf, ServiceError> {
    let home = || {
        home.map(Path::to_owned)
            .ok_or_else(|| ServiceError::Other("cannot find the home directory for --user".into()))
    };
    Ok(match (cfg!(target_os = "macos"), scope) {
        (false, Scope::System) => PathBuf::from(format!("/etc/systemd/system/{NAME}.service")),
        (false, Scope::User) => home()?.join(format!(".config/systemd/user/{NAME}.service")),
        (true, Scope::System) => {
            PathBuf::from(format!("/Library/LaunchDaemons/{LAUNCHD_LABEL}.plist"))
        }
        (true, Scope::User) => home()?.join(format!("Library/LaunchAgents/{LAUNCHD_LABEL}.plist")),
    })
}

/// Carries out `action`. `exe` is the binary the service runs; `root` redirects files and skips the service
/// manager. Returns what was done, for the user.
pub fn manage(
    action: Action,
    scope: Scope,
    exe: &Path,
    root: Option<&Path>,
) -> Result<String, ServiceError> {
    #[cfg(windows)]
    {
        let _ = root;
        windows::manage(action, scope, exe)
    }
    #[cfg(not(windows))]
    {
        let home = std::env::var_os("HOME").map(PathBuf::from);
        let mut runner = Runner {
            root: root.map(Path::to_owned),
            report: String::new(),
        };
        let definition = definition_path(scope, home.as_deref())?;
        if cfg!(target_os = "macos") {
            launchd(
                &mut runner,
                action,
                scope,
                exe,
                &definition,
                home.as_deref(),
            )?;
        } else {
            systemd(&mut runner, action, scope, exe, &definition)?;
        }
        Ok(runner.report)
    }
}

#[cfg(not(windows))]
fn with<'a>(ctl: &[&'a str], extra: &[&'a str]) -> Vec<&'a str> {
    ctl.iter().chain(extra).copied().collect()
}

#[cfg(not(windows))]
fn systemd(
    runner: &mut Runner,
    action: Action,
    scope: Scope,
    exe: &Path,
    unit_path: &Path,
) -> Result<(), ServiceError> {
    let mut ctl: Vec<&str> = vec!["systemctl"];
    if scope == Scope::User {
        ctl.push("--user");
    }
    let unit = format!("{NAME}.service");
    match action {
        Action::Install => {
            if scope == Scope::System && runner.root.is_none() {
                refuse_unsafe_exe(exe)?;
                prepare_system_user(runner)?;
            }
            runner.write(unit_path, &systemd_unit(scope, exe))?;
            runner.run(&with(&ctl, &["daemon-reload"]))?;
            runner.run(&with(&ctl, &["enable", "--now", &unit]))?;
        }
        Action::Uninstall => {
            if runner.root.is_some() || runner.path(unit_path).exists() {
                // Stop it first; a unit that is not loaded is not an error here.
                let _ = runner.run(&with(&ctl, &["disable", "--now", &unit]));
            }
            runner.remove(unit_path)?;
            runner.run(&with(&ctl, &["daemon-reload"]))?;
        }
        Action::Start => {
            runner.run(&with(&ctl, &["start", &unit]))?;
        }
        Action::Stop => {
            runner.run(&with(&ctl, &["stop", &unit]))?;
        }
        Action::Status => {
            let installed = runner.path(unit_path).exists();
            let _ = writeln!(
                runner.report,
                "{} {}",
                runner.path(unit_path).display(),
                if installed {
                    "is installed"
                } else {
                    "is not installed"
                }
            );
            if installed && runner.root.is_none() {
                // is-active exits non-zero for inactive units: report its answer either way.
                let state = match runner.run(&with(&ctl, &["is-active", &unit])) {
                    Ok(out) => out.trim().to_owned(),
                    Err(ServiceError::Command { detail, .. }) => detail,
                    Err(e) => return Err(e),
                };
                let _ = writeln!(runner.report, "state: {state}");
            }
        }
    }
    Ok(())
}

/// A system service must run a binary only root can change.
#[cfg(not(windows))]
fn refuse_unsafe_exe(exe: &Path) -> Result<(), ServiceError> {
    match unsafe_location(exe) {
        None => Ok(()),
        Some(why) => Err(ServiceError::Other(format!(
            "refusing to install a system service running {}: {why}, so that user could run code as the service. \
             Copy it somewhere only root can change first, e.g. `sudo install -m 755 {} /usr/local/bin/ddns-tray` \
             and run that one's `service install`, or use `service install --user`",
            exe.display(),
            exe.display()
        ))),
    }
}

/// The service's system user (for the config's group) and its config directory: created when missing;
/// an existing config is made readable by root and the service's group only.
#[cfg(not(windows))]
fn prepare_system_user(runner: &mut Runner) -> Result<(), ServiceError> {
    let exists = std::process::Command::new("getent")
        .args(["passwd", SERVICE_USER])
        .output()
        .is_ok_and(|o| o.status.success());
    if !exists {
        let home = LINUX_SYSTEM_DATA;
        runner.run(&[
            "useradd",
            "--system",
            "--user-group",
            "--no-create-home",
            "--home-dir",
            home,
            "--shell",
            "/usr/sbin/nologin",
            SERVICE_USER,
        ])?;
    }
    let dir = Path::new(LINUX_SYSTEM_CONFIG)
        .parent()
        .unwrap_or(Path::new("/etc/ddns-tray"));
    std::fs::create_dir_all(dir).map_err(|source| ServiceError::Write {
        path: dir.to_owned(),
        source,
    })?;
    // The service writes its config when a tray's settings window saves (atomically: a new file renamed
    // over the old, so it needs the folder); administrators still edit it by hand.
    let owner = format!("{SERVICE_USER}:{SERVICE_USER}");
    runner.run(&["chown", &owner, &dir.to_string_lossy()])?;
    runner.run(&["chmod", "0750", &dir.to_string_lossy()])?;
    let group = format!("root:{SERVICE_USER}");
    let config = dir.join("config.toml");
    if config.exists() {
        runner.run(&["chown", &group, &config.to_string_lossy()])?;
        runner.run(&["chmod", "0640", &config.to_string_lossy()])?;
    }
    // The settings fingerprint key lives in the service's state directory, which it creates itself at its
    // first start; a key an earlier version put here is moved there then (readable by the service's group).
    let key = dir.join("fingerprint.key");
    if key.exists() {
        runner.run(&["chown", &group, &key.to_string_lossy()])?;
        runner.run(&["chmod", "0640", &key.to_string_lossy()])?;
    }
    Ok(())
}

#[cfg(not(windows))]
fn launchd(
    runner: &mut Runner,
    action: Action,
    scope: Scope,
    exe: &Path,
    plist_path: &Path,
    home: Option<&Path>,
) -> Result<(), ServiceError> {
    let domain = match scope {
        Scope::System => "system".to_owned(),
        Scope::User => {
            let uid = std::process::Command::new("id")
                .arg("-u")
                .output()
                .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
                .unwrap_or_default();
            format!("gui/{uid}")
        }
    };
    let target = format!("{domain}/{LAUNCHD_LABEL}");
    let plist = plist_path.display().to_string();
    match action {
        Action::Install => {
            if scope == Scope::System && runner.root.is_none() {
                refuse_unsafe_exe(exe)?;
            }
            let log_dir = match (scope, home) {
                (Scope::User, Some(h)) => h.join("Library/Logs"),
                _ => PathBuf::from("/Library/Logs"),
            };
            runner.write(plist_path, &launchd_plist(scope, exe, &log_dir))?;
            runner.run(&["launchctl", "bootstrap", &domain, &plist])?;
        }
        Action::Uninstall => {
            let _ = runner.run(&["launchctl", "bootout", &target]);
            runner.remove(plist_path)?;
        }
        Action::Start => {
            runner.run(&["launchctl", "kickstart", &target])?;
        }
        Action::Stop => {
            runner.run(&["launchctl", "kill", "TERM", &target])?;
        }
        Action::Status => {
            let installed = runner.path(plist_path).exists();
            let _ = writeln!(
                runner.report,
                "{plist} {}",
                if installed {
                    "is installed"
                } else {
                    "is not installed"
                }
            );
            if installed && runner.root.is_none() {
                let out = runner
                    .run(&["launchctl", "print", &target])
                    .unwrap_or_default();
                let state = out
                    .lines()
                    .find_map(|l| l.trim().strip_prefix("state = "))
                    .unwrap_or("not loaded");
                let _ = writeln!(runner.report, "state: {state}");
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn system_unit_is_hardened_and_restarts() {
        let unit = systemd_unit(Scope::System, Path::new("/usr/bin/ddns-tray"));
        for line in [
            "ExecStart=/usr/bin/ddns-tray run --config /etc/ddns-tray/config.toml --data-dir /var/lib/ddns-tray --control /run/ddns-tray/control.sock",
            "Restart=on-failure",
            "RestartSec=10s",
            "RestartPreventExitStatus=2",
            "NoNewPrivileges=yes",
            "ProtectSystem=strict",
            "ProtectHome=yes",
            "CapabilityBoundingSet=",
            "StateDirectory=ddns-tray",
            "WantedBy=multi-user.target",
            "Type=notify",
            "WatchdogSec=2min",
            "DynamicUser=yes",
            "User=ddns-tray",
            "SystemCallFilter=@system-service",
            "ProtectProc=invisible",
            "RuntimeDirectoryMode=0755",
        ] {
            assert!(unit.lines().any(|l| l == line), "missing `{line}`:\n{unit}");
        }
        let user = systemd_unit(Scope::User, Path::new("/home/me/.cargo/bin/ddns-tray"));
        assert!(
            user.contains("ExecStart=/home/me/.cargo/bin/ddns-tray run\n")
                && user.contains("WantedBy=default.target")
        );
        assert!(
            !user.contains("ProtectSystem"),
            "user managers cannot apply every sandboxing option"
        );
    }

    /// Regression: `service install` accepted a binary in a user-writable place (~/.cargo/bin), which that user
    /// could replace to run code as the service.
    #[cfg(unix)]
    #[test]
    fn a_binary_a_user_can_change_is_refused() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let exe = dir.path().join("ddns-tray");
        std::fs::write(&exe, b"x").unwrap();
        std::fs::set_permissions(&exe, std::fs::Permissions::from_mode(0o777)).unwrap();
        let why = unsafe_location(&exe).expect("a world-writable file is unsafe");
        assert!(why.contains("can be written"), "{why}");
        // The system's own binaries are fine (root-owned all the way up).
        if Path::new("/usr/bin/env").exists() {
            assert_eq!(unsafe_location(Path::new("/usr/bin/env")), None);
        }
    }

    /// The unit shipped in the .deb is exactly what `service install` writes for /usr/bin/ddns-tray.
    #[test]
    fn packaged_unit_matches_the_generator() {
        let shipped = include_str!("../../packaging/systemd/ddns-tray.service");
        assert_eq!(
            shipped,
            systemd_unit(Scope::System, Path::new("/usr/bin/ddns-tray"))
        );
    }

    #[test]
    fn plist_parses_and_says_what_launchd_needs() {
        for (scope, args) in [
            (
                Scope::User,
                vec!["/Applications/ddns tray/ddns-tray", "run"],
            ),
            (
                Scope::System,
                vec![
                    "/Applications/ddns tray/ddns-tray",
                    "run",
                    "--config",
                    "/Library/Application Support/ddns-tray/config.toml",
                    "--data-dir",
                    "/Library/Application Support/ddns-tray",
                    "--control",
                    "/var/run/ddns-tray/control.sock",
                ],
            ),
        ] {
            let text = launchd_plist(
                scope,
                Path::new("/Applications/ddns tray/ddns-tray"),
                Path::new("/Users/me & co/Library/Logs"),
            );
            let value: plist::Value =
                plist::from_bytes(text.as_bytes()).unwrap_or_else(|e| panic!("{e}\n{text}"));
            let dict = value.as_dictionary().unwrap();
            assert_eq!(dict["Label"].as_string(), Some(LAUNCHD_LABEL));
            let got: Vec<&str> = dict["ProgramArguments"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_string().unwrap())
                .collect();
            assert_eq!(got, args);
            assert_eq!(dict["RunAtLoad"].as_boolean(), Some(true));
            assert_eq!(
                dict["KeepAlive"].as_dictionary().unwrap()["SuccessfulExit"].as_boolean(),
                Some(false)
            );
            assert_eq!(
                dict["StandardErrorPath"].as_string(),
                Some("/Users/me & co/Library/Logs/ddns-tray.launchd.log")
            );
        }
    }
}
