//! One tray app per user and data directory: the first instance listens on a local endpoint; a second
//! instance connects, asks the first to open its settings, and exits.
//!
//! - Unix: a socket in an owner-only directory (`$XDG_RUNTIME_DIR/ddns-tray`, else the data directory).
//!   Who is first is decided by an exclusive lock on a file next to it, so two instances starting together
//!   never both bind, and a live socket is never deleted; only the lock holder removes a stale one.
//! - Windows: a named pipe created with `FILE_FLAG_FIRST_PIPE_INSTANCE` (so a second creator fails instead of
//!   sharing it) and a DACL that lets only the current user in.
//!
//! The endpoint's name is derived stably from the data directory (SHA-256), so every build finds it.
//! A client that connects and sends nothing is dropped after 2 s.

use std::path::Path;
#[cfg(unix)]
use std::path::PathBuf;
use std::time::Duration;

/// What the second instance sends.
const OPEN_SETTINGS: &[u8] = b"open-settings\n";
/// How long a connected peer has to say what it wants.
const READ_TIMEOUT: Duration = Duration::from_secs(2);

/// The result of trying to become the only instance.
pub enum Instance {
    /// We are the first: call [`Listener::serve`] to hear from later ones.
    First(Listener),
    /// Another instance is running and was asked to open its settings.
    Signalled,
}

fn endpoint_name(data_dir: &Path) -> String {
    crate::fsutil::stable_name(data_dir)
}

#[cfg(unix)]
pub struct Listener {
    socket: std::os::unix::net::UnixListener,
    path: PathBuf,
    /// Held for as long as we are the first instance.
    lock: std::fs::File,
}

/// Where the socket lives: the user's runtime directory when there is one, else the data directory.
#[cfg(unix)]
fn socket_dir(data_dir: &Path) -> PathBuf {
    std::env::var_os("XDG_RUNTIME_DIR")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .filter(|d| d.is_dir())
        .map_or_else(|| data_dir.to_owned(), |d| d.join("ddns-tray"))
}

#[cfg(unix)]
pub fn claim(data_dir: &Path, _runtime: &tokio::runtime::Runtime) -> std::io::Result<Instance> {
    use std::io::Write as _;
    use std::os::unix::net::{UnixListener, UnixStream};
    let dir = socket_dir(data_dir);
    crate::fsutil::private_dir(&dir)?;
    let name = endpoint_name(data_dir);
    let path = dir.join(format!("{name}.sock"));
    let lock = std::fs::File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(dir.join(format!("{name}.lock")))?;
    match lock.try_lock() {
        Ok(()) => {
            // We hold the lock: nobody else binds here, so a socket file left is stale.
            let _ = std::fs::remove_file(&path);
            let socket = UnixListener::bind(&path)?;
            Ok(Instance::First(Listener { socket, path, lock }))
        }
        Err(std::fs::TryLockError::WouldBlock) => {
            let mut stream = UnixStream::connect(&path).map_err(|e| {
                std::io::Error::other(format!(
                    "another ddns-tray holds {} but does not answer ({e})",
                    dir.display()
                ))
            })?;
            stream.set_write_timeout(Some(READ_TIMEOUT))?;
            stream.write_all(OPEN_SETTINGS)?;
            Ok(Instance::Signalled)
        }
        Err(std::fs::TryLockError::Error(e)) => Err(e),
    }
}

/// Removes the socket when the listening task ends (the lock goes with it).
#[cfg(unix)]
struct Cleanup {
    path: PathBuf,
    _lock: std::fs::File,
}

#[cfg(unix)]
impl Drop for Cleanup {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

#[cfg(windows)]
pub struct Listener {
    name: String,
    /// The first pipe instance, created before the app announced itself.
    first: tokio::net::windows::named_pipe::NamedPipeServer,
}

/// `runtime` is the one that will serve the pipe: a pipe belongs to the runtime it was created in (one made in
/// a throw-away runtime stopped answering, so a second launch started a second app).
#[cfg(windows)]
pub fn claim(data_dir: &Path, runtime: &tokio::runtime::Runtime) -> std::io::Result<Instance> {
    use std::io::Write as _;
    let name = format!(r"\\.\pipe\{}", endpoint_name(data_dir));
    let signal = || -> std::io::Result<bool> {
        for _ in 0..20 {
            match std::fs::OpenOptions::new().write(true).open(&name) {
                Ok(mut pipe) => {
                    pipe.write_all(OPEN_SETTINGS)?;
                    return Ok(true);
                }
                // Every instance busy: the first makes a new one at once.
                Err(e) if e.raw_os_error() == Some(231) => {
                    std::thread::sleep(Duration::from_millis(50));
                }
                Err(_) => return Ok(false),
            }
        }
        Ok(false)
    };
    // Ask first: Wine ignores FILE_FLAG_FIRST_PIPE_INSTANCE, so creating alone would not notice a running
    // first instance there. On Windows the flag still settles two launches racing each other.
    if signal()? {
        return Ok(Instance::Signalled);
    }
    let created = {
        let _in_runtime = runtime.enter();
        crate::platform::windows::create_pipe(
            &name,
            crate::platform::windows::PipeAccess::OwnerOnly,
            true,
        )
    };
    match created {
        Ok(first) => Ok(Instance::First(Listener { name, first })),
        // Someone else created it meanwhile: ask them.
        Err(_) if signal()? => Ok(Instance::Signalled),
        Err(e) => Err(e),
    }
}

impl Listener {
    /// Calls `open_settings` for every later instance, until the runtime stops.
    #[cfg(unix)]
    pub fn serve(
        self,
        runtime: &tokio::runtime::Runtime,
        open_settings: impl Fn() + Send + 'static,
    ) {
        use tokio::io::AsyncReadExt as _;
        let _guard = runtime.enter();
        if self.socket.set_nonblocking(true).is_err() {
            return;
        }
        let Ok(listener) = tokio::net::UnixListener::from_std(self.socket) else {
            return;
        };
        let guard = Cleanup {
            path: self.path,
            _lock: self.lock,
        };
        runtime.spawn(async move {
            let _guard = guard;
            while let Ok((mut stream, _)) = listener.accept().await {
                let mut buf = [0u8; 32];
                let n = tokio::time::timeout(READ_TIMEOUT, stream.read(&mut buf))
                    .await
                    .ok()
                    .and_then(Result::ok)
                    .unwrap_or(0);
                if buf[..n] == *OPEN_SETTINGS {
                    open_settings();
                }
            }
        });
    }

    /// Calls `open_settings` for every later instance, until the runtime stops.
    #[cfg(windows)]
    pub fn serve(
        self,
        runtime: &tokio::runtime::Runtime,
        open_settings: impl Fn() + Send + 'static,
    ) {
        use tokio::io::AsyncReadExt as _;
        let Listener { name, first } = self;
        runtime.spawn(async move {
            let mut server = first;
            loop {
                if let Err(e) = server.connect().await {
                    tracing::warn!("the single-instance pipe stopped listening: {e}");
                    return;
                }
                let mut connected = server;
                server = match crate::platform::windows::create_pipe(
                    &name,
                    crate::platform::windows::PipeAccess::OwnerOnly,
                    false,
                ) {
                    Ok(s) => s,
                    Err(e) => {
                        tracing::warn!("the single-instance pipe stopped listening: {e}");
                        return;
                    }
                };
                let mut buf = [0u8; 32];
                let n = tokio::time::timeout(READ_TIMEOUT, connected.read(&mut buf))
                    .await
                    .ok()
                    .and_then(Result::ok)
                    .unwrap_or(0);
                if buf[..n] == *OPEN_SETTINGS {
                    open_settings();
                }
            }
        });
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    /// Regression: the socket was checked and then bound, so two instances starting together could delete
    /// each other's live socket. The lock decides; the second always reaches the first.
    #[test]
    fn the_second_instance_reaches_the_first_and_never_replaces_it() {
        let dir = tempfile::tempdir().unwrap();
        let runtime = tokio::runtime::Runtime::new().unwrap();
        let Instance::First(listener) = claim(dir.path(), &runtime).unwrap() else {
            panic!("the first claim must win")
        };
        let (tx, rx) = std::sync::mpsc::channel();
        listener.serve(&runtime, move || {
            let _ = tx.send(());
        });
        for _ in 0..3 {
            assert!(matches!(
                claim(dir.path(), &runtime).unwrap(),
                Instance::Signalled
            ));
            rx.recv_timeout(Duration::from_secs(5)).unwrap();
        }
        assert_eq!(endpoint_name(dir.path()), endpoint_name(dir.path()));
        assert!(endpoint_name(dir.path()).starts_with("ddns-tray-"));
    }
}
