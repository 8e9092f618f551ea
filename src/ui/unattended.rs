//! "Run unattended" from the settings window: the user's setup moves into the system service, and back.
//!
//! - **Run unattended**: the tray writes its config out with every secret read from where it is kept (the
//!   user's keyring, environment, files: `settings::inlined`), and runs `ddns-tray service install --adopt`
//!   with administrator rights asked the OS's way. That installs the service, hands it the config (the
//!   service keeps the secrets in its own store, see `vault`), waits for its first round and prints it.
//!   The tray then follows the service (`tray::engine`). The user's own file and keyring entries stay as
//!   they were (unused while the service runs).
//! - **Stop running unattended**: `ddns-tray service uninstall --hand-back` (elevated) gives the service's
//!   config back, secrets written out; the tray keeps a copy of the user's file as `config.toml.bak`, writes
//!   the config there with the secrets to the user's keyring (`settings::write::write_new_config`), and
//!   runs its own engine again. The service's files stay where they were.
//!
//! How rights are asked: Linux, `pkexec` (polkit asks for the password; the config travels through its
//! standard streams); Windows, the UAC prompt (`ShellExecuteEx` with `runas`; the config travels through a
//! file in the user's own data directory, removed at once); macOS, `osascript … with administrator
//! privileges` (a file, as on Windows). A tray already running as root or an administrator runs the command
//! itself. `DDNS_TRAY_ELEVATE` names another program to run the command with (`sudo -A`, or a test's).

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::i18n::tr;

/// How long the elevated command may take, the password prompt included.
const ELEVATED_TIMEOUT: Duration = Duration::from_mins(10);
/// The environment variable naming a program to run the elevated command with.
pub const ELEVATE_ENV: &str = "DDNS_TRAY_ELEVATE";

/// Installs the system service with the config at `config` (its secrets read through `lookup`). Returns
/// what the install printed (its first round).
pub fn run_unattended(
    config: &Path,
    data_dir: &Path,
    lookup: &dyn crate::config::secret::Lookup,
) -> Result<String, String> {
    let text = crate::settings::config_text(config)?;
    let text = crate::settings::inlined(&text, lookup).map_err(|issues| sentences(&issues))?;
    let out = elevated(
        &["service", "install", "--adopt"],
        Transfer::In(&text),
        data_dir,
    )?;
    tracing::info!("service install --adopt: {}", out.report.trim());
    let round = out.text.trim();
    let mut note = tr("unattended.now_service", &[]);
    if !round.is_empty() {
        note.push('\n');
        note.push_str(round);
    }
    Ok(note)
}

/// Takes the setup back from the system service into the user's `config` (secrets to `store`, the user's
/// keyring), keeping the file it replaces as `config.toml.bak`, and uninstalls the service.
pub fn stop_unattended(
    config: &Path,
    data_dir: &Path,
    store: &dyn crate::config::secret::SecretStore,
    lookup: &dyn crate::config::secret::Lookup,
) -> Result<crate::settings::Written, String> {
    let out = elevated(
        &["service", "uninstall", "--hand-back"],
        Transfer::Out,
        data_dir,
    )?;
    if config.exists() {
        let backup = config.with_extension("toml.bak");
        std::fs::copy(config, &backup).map_err(|e| {
            tr(
                "save.cannot_write",
                &[("path", &backup.display()), ("error", &e)],
            )
        })?;
    }
    crate::settings::write::write_new_config(config, &out.text, store, lookup).map_err(
        |e| match e {
            crate::settings::WriteError::Invalid(issues) => sentences(&issues),
            crate::settings::WriteError::Io(e) => e,
        },
    )
}

/// Problems one per line, in this tray's language.
fn sentences(issues: &[crate::config::Issue]) -> String {
    issues
        .iter()
        .map(|i| i.clone().localized().to_string())
        .collect::<Vec<_>>()
        .join("\n")
}

/// Which way the config goes.
#[derive(Clone, Copy)]
enum Transfer<'a> {
    /// To the elevated command (`--adopt`).
    In(&'a str),
    /// From it (`--hand-back`).
    Out,
}

/// What the elevated command gave: its report (what it did, on stderr) and its answer on stdout (the first
/// round after `--adopt`, the config after `--hand-back`).
struct Output {
    report: String,
    text: String,
}

/// Runs `ddns-tray ARGS SOURCE` with administrator rights.
fn elevated(args: &[&str], transfer: Transfer<'_>, data_dir: &Path) -> Result<Output, String> {
    let exe = crate::cli::service::this_program()?;
    let wrapper: Option<Vec<String>> = std::env::var(ELEVATE_ENV)
        .ok()
        .map(|w| w.split_whitespace().map(str::to_owned).collect::<Vec<_>>())
        .filter(|w| !w.is_empty());
    if wrapper.is_some() || cfg!(target_os = "linux") || is_admin() {
        return piped(&exe, args, transfer, wrapper.as_deref());
    }
    through_file(&exe, args, transfer, data_dir)
}

/// Runs the command with the config through its standard streams: itself (already an administrator), with
/// `pkexec`, or with the program `ELEVATE_ENV` names.
fn piped(
    exe: &Path,
    args: &[&str],
    transfer: Transfer<'_>,
    wrapper: Option<&[String]>,
) -> Result<Output, String> {
    use std::io::Write as _;
    use std::process::{Command, Stdio};
    let mut command = match wrapper {
        Some([program, rest @ ..]) => {
            let mut c = Command::new(program);
            c.args(rest).arg(exe);
            c
        }
        _ if is_admin() => Command::new(exe),
        _ => {
            let mut c = Command::new("pkexec");
            c.arg(exe);
            c
        }
    };
    command
        .args(args)
        .arg("-")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command
        .spawn()
        .map_err(|e| tr("unattended.cannot_elevate", &[("error", &e)]))?;
    let mut stdin = child.stdin.take();
    if let (Transfer::In(text), Some(stdin)) = (&transfer, stdin.as_mut()) {
        // A child that stops early closes its end: what it says next is the reason.
        let _ = stdin.write_all(text.as_bytes());
    }
    drop(stdin);
    let output = wait_bounded(child)?;
    let stdout = bounded_text(&output.stdout);
    let stderr = bounded_text(&output.stderr);
    if !output.status.success() {
        return Err(failure(&stderr, output.status.code()));
    }
    Ok(Output {
        report: stderr,
        text: stdout,
    })
}

/// Waits for `child` at most [`ELEVATED_TIMEOUT`] (reading its output meanwhile), then kills it.
fn wait_bounded(child: std::process::Child) -> Result<std::process::Output, String> {
    let (tx, rx) = std::sync::mpsc::channel();
    let id = child.id();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    match rx.recv_timeout(ELEVATED_TIMEOUT) {
        Ok(Ok(output)) => Ok(output),
        Ok(Err(e)) => Err(tr("unattended.cannot_elevate", &[("error", &e)])),
        Err(_) => {
            kill(id);
            Err(tr(
                "unattended.timed_out",
                &[("minutes", &(ELEVATED_TIMEOUT.as_secs() / 60))],
            ))
        }
    }
}

#[cfg(unix)]
fn kill(pid: u32) {
    if let Ok(pid) = i32::try_from(pid) {
        // SAFETY: kill(2) with a pid this process started; no memory is involved.
        #[allow(unsafe_code)]
        unsafe {
            libc::kill(pid, libc::SIGTERM);
        }
    }
}

#[cfg(not(unix))]
fn kill(_pid: u32) {}

/// At most 1 MiB of a command's output, as text.
fn bounded_text(bytes: &[u8]) -> String {
    let limit = usize::try_from(crate::settings::MAX_CONFIG_BYTES).unwrap_or(usize::MAX);
    let end = bytes.len().min(limit.saturating_add(64 * 1024));
    String::from_utf8_lossy(&bytes[..end]).into_owned()
}

/// Why the elevated command failed, in the user's words: pkexec's own exit codes (126: the password dialog
/// was dismissed; 127: not authorised, or no agent to ask) or what the command said.
fn failure(stderr: &str, code: Option<i32>) -> String {
    let said = stderr.trim();
    match code {
        Some(126) if said.is_empty() || said.contains("dismissed") => {
            tr("unattended.dismissed", &[])
        }
        Some(127) if said.contains("pkexec") || said.contains("authentication agent") => {
            tr("unattended.not_authorized", &[("detail", &said)])
        }
        _ if said.is_empty() => tr(
            "unattended.failed_code",
            &[(
                "code",
                &code.map_or_else(|| "?".to_owned(), |c| c.to_string()),
            )],
        ),
        _ => said.to_owned(),
    }
}

/// Runs the command with the OS's prompt for rights (Windows' UAC, macOS's administrator dialog), which
/// passes no streams: the config travels through a file in the user's own data directory (owner-only),
/// removed as soon as it was read.
fn through_file(
    exe: &Path,
    args: &[&str],
    transfer: Transfer<'_>,
    data_dir: &Path,
) -> Result<Output, String> {
    let file = Handover::new(data_dir)?;
    if let Transfer::In(text) = transfer {
        crate::fsutil::write_atomic(&file.0, text.as_bytes())
            .map_err(|e| format!("{}: {e}", file.0.display()))?;
    }
    let mut command: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
    command.push(file.0.to_string_lossy().into_owned());
    let code = os_elevate(exe, &command)?;
    if code != 0 {
        return Err(tr("unattended.failed_code", &[("code", &code)]));
    }
    let text = match transfer {
        Transfer::Out => crate::fsutil::read_limited(&file.0, crate::settings::MAX_CONFIG_BYTES)
            .map_err(|e| format!("{}: {e}", file.0.display()))?
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_default(),
        Transfer::In(_) => String::new(),
    };
    Ok(Output {
        report: tr("unattended.done_elevated", &[]),
        text,
    })
}

/// The file a config travels through; removed when dropped.
struct Handover(PathBuf);

impl Handover {
    fn new(data_dir: &Path) -> Result<Self, String> {
        crate::fsutil::private_dir(data_dir).map_err(|e| format!("{}: {e}", data_dir.display()))?;
        let nonce = fastrand::u64(..);
        Ok(Self(data_dir.join(format!("handover-{nonce:016x}.toml"))))
    }
}

impl Drop for Handover {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Whether this process already has administrator rights (root; an elevated token on Windows).
#[must_use]
pub fn is_admin() -> bool {
    #[cfg(unix)]
    {
        // SAFETY: geteuid(2) cannot fail and touches no memory.
        #[allow(unsafe_code)]
        let euid = unsafe { libc::geteuid() };
        euid == 0
    }
    #[cfg(windows)]
    {
        crate::platform::windows::is_elevated()
    }
}

/// Runs `exe ARGS` with the OS's own prompt for administrator rights; its exit code.
#[cfg(windows)]
fn os_elevate(exe: &Path, args: &[String]) -> Result<i32, String> {
    crate::platform::windows::run_elevated(exe, args, ELEVATED_TIMEOUT)
        .map_err(|e| tr("unattended.cannot_elevate", &[("error", &e)]))
}

#[cfg(target_os = "macos")]
fn os_elevate(exe: &Path, args: &[String]) -> Result<i32, String> {
    let quote = |s: &str| format!("'{}'", s.replace('\'', r"'\''"));
    let mut line = quote(&exe.to_string_lossy());
    for a in args {
        line.push(' ');
        line.push_str(&quote(a));
    }
    let script = format!(
        "do shell script \"{}\" with administrator privileges",
        line.replace('\\', r"\\").replace('"', "\\\"")
    );
    let child = std::process::Command::new("osascript")
        .args(["-e", &script])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| tr("unattended.cannot_elevate", &[("error", &e)]))?;
    let out = wait_bounded(child)?;
    if out.status.success() {
        Ok(0)
    } else {
        Err(failure(&bounded_text(&out.stderr), out.status.code()))
    }
}

#[cfg(not(any(windows, target_os = "macos")))]
fn os_elevate(_exe: &Path, _args: &[String]) -> Result<i32, String> {
    Err(tr("unattended.cannot_elevate", &[("error", &"no prompt")]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pkexec_refusals_read_as_sentences() {
        let dismissed = failure(
            "Error executing command as another user: Request dismissed",
            Some(126),
        );
        assert_eq!(dismissed, tr("unattended.dismissed", &[]));
        let no_agent = failure(
            "Error executing command as another user: No authentication agent found.",
            Some(127),
        );
        assert!(no_agent.contains("No authentication agent"), "{no_agent}");
        // The command's own words come through as they are.
        assert_eq!(
            failure("the config has problems\n", Some(2)),
            "the config has problems"
        );
        assert_eq!(
            failure("", Some(3)),
            tr("unattended.failed_code", &[("code", &"3")])
        );
    }
}
