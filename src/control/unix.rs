//! The control endpoint on Unix: a socket file with the mode and group that say who may connect.

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
            .mode(if shared { 0o750 } else { 0o700 })
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
        std::fs::Permissions::from_mode(if shared { 0o660 } else { 0o600 }),
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
                if let (Ok(r), Ok(peer)) = (&request, stream.peer_cred())
                    && r.is_command()
                {
                    tracing::info!("control: {r:?} from uid {}", peer.uid());
                }
                // The socket's mode and directory decide who connects at all.
                serve_client(stream, control, request, true, shutdown).await;
            });
        }
    }))
}
