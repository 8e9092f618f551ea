//! The control endpoint on Unix. A daemon's own endpoint is owner-only (0600 in a 0700 folder). The
//! system service's is open to every local user for what is read (status, events, history, the config
//! with its secrets masked), and its peer's credentials decide who may send commands and change the
//! config: root, the service's own user, and members of the socket's group (`ddns-tray`; `admin` on
//! macOS).

use std::os::unix::fs::{DirBuilderExt as _, PermissionsExt as _};
use std::path::{Path, PathBuf};

use tokio::net::UnixListener;
use tokio_util::sync::CancellationToken;

use super::Endpoint;
use super::server::{Control, Slots, admit, read_request, serve_client};

/// Removes the socket when serving ends.
struct Remove(PathBuf);

impl Drop for Remove {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

fn bind(path: &Path, shared: bool) -> std::io::Result<UnixListener> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty())
        && !dir.exists()
    {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(if shared { 0o755 } else { 0o700 })
            .create(dir)?;
    }
    match std::os::unix::net::UnixStream::connect(path) {
        Ok(_) => {
            return Err(std::io::Error::new(
                std::io::ErrorKind::AddrInUse,
                format!("another ddns-tray daemon answers at {}", path.display()),
            ));
        }
        // A socket left by a daemon that died: nobody answers, so it is ours to replace. Anything that
        // is not a socket is left alone (bind then fails and says so).
        Err(_)
            if std::fs::symlink_metadata(path)
                .is_ok_and(|m| std::os::unix::fs::FileTypeExt::is_socket(&m.file_type())) =>
        {
            std::fs::remove_file(path)?;
        }
        Err(_) => {}
    }
    let listener = UnixListener::bind(path)?;
    // macOS has no ddns-tray group: its administrators (group admin) may drive the system daemon.
    #[cfg(target_os = "macos")]
    if shared {
        std::os::unix::fs::chown(path, None, Some(80))?;
    }
    std::fs::set_permissions(
        path,
        std::fs::Permissions::from_mode(if shared { 0o666 } else { 0o600 }),
    )?;
    Ok(listener)
}

pub fn serve(
    endpoint: &Endpoint,
    control: Control,
    shutdown: CancellationToken,
) -> std::io::Result<tokio::task::JoinHandle<()>> {
    let Endpoint::Socket { path, shared } = endpoint;
    let listener = bind(path, *shared).map_err(|e| {
        std::io::Error::new(
            e.kind(),
            format!("cannot listen for control at {}: {e}", path.display()),
        )
    })?;
    let remove = Remove(path.clone());
    let shared = *shared;
    // The group whose members may change the service: the socket's (the service's own group).
    let gid = std::os::unix::fs::MetadataExt::gid(&std::fs::metadata(path)?);
    let slots = Slots::new();
    Ok(tokio::spawn(async move {
        let _remove = remove;
        loop {
            let accepted = tokio::select! {
                () = shutdown.cancelled() => break,
                a = listener.accept() => a,
            };
            let Ok((mut stream, _)) = accepted else {
                // Out of file descriptors and the like: do not spin.
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                continue;
            };
            // Accepting goes on at once (the kernel's backlog never fills behind a busy daemon); a
            // client waits for its slot, or is told the daemon is busy, in its own task.
            let (control, shutdown, slots) = (control.clone(), shutdown.clone(), slots.clone());
            tokio::spawn(async move {
                let Some(_permit) = admit(&slots, &mut stream).await else {
                    return;
                };
                let request = read_request(&mut stream).await;
                let allowed = match &request {
                    // The owner-only endpoint admits only us.
                    Ok((r, _)) if shared && r.needs_right() => {
                        let peer = stream.peer_cred();
                        let allowed = peer.as_ref().is_ok_and(|p| may_change(p, gid));
                        tracing::info!(
                            "control: {} from uid {}: {}",
                            r.name(),
                            peer.map_or(u32::MAX, |p| p.uid()),
                            if allowed { "allowed" } else { "refused" }
                        );
                        allowed
                    }
                    _ => true,
                };
                serve_client(stream, control, request, allowed, shutdown).await;
            });
        }
    }))
}

/// Whether the peer may send commands and change the config: root, this daemon's own user, or a member of
/// the group `gid` (its primary group, or one of its supplementary groups).
fn may_change(peer: &tokio::net::unix::UCred, gid: u32) -> bool {
    // SAFETY: geteuid takes no arguments and cannot fail.
    #[allow(unsafe_code)]
    let own = unsafe { libc::geteuid() };
    if peer.uid() == 0 || peer.uid() == own || peer.gid() == gid {
        return true;
    }
    peer.pid()
        .and_then(|pid| groups_of(pid).ok())
        .is_some_and(|groups| groups.contains(&gid))
}

/// The supplementary groups of process `pid` (Linux: `/proc/<pid>/status`).
#[cfg(target_os = "linux")]
fn groups_of(pid: i32) -> std::io::Result<Vec<u32>> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    Ok(status
        .lines()
        .find_map(|l| l.strip_prefix("Groups:"))
        .map(|g| {
            g.split_whitespace()
                .filter_map(|n| n.parse().ok())
                .collect()
        })
        .unwrap_or_default())
}

/// The groups of the user running process `pid` (macOS: `getgrouplist` of the peer's user).
#[cfg(not(target_os = "linux"))]
fn groups_of(pid: i32) -> std::io::Result<Vec<u32>> {
    let _ = pid;
    Err(std::io::Error::other(
        "supplementary groups are read on Linux only; on macOS the group is the socket's (admin)",
    ))
}
