//! One tray app per user (per data directory): the first instance listens on a local socket (a Unix socket
//! in the data directory; a named pipe on Windows); a second instance connects, asks the first to open its
//! settings, and exits.

use std::path::Path;

/// What the second instance sends.
const OPEN_SETTINGS: &[u8] = b"open-settings\n";

/// The result of trying to become the only instance.
pub enum Instance {
    /// We are the first: call [`Listener::serve`] to hear from later ones.
    First(Listener),
    /// Another instance is running and was asked to open its settings.
    Signalled,
}

#[cfg(unix)]
pub struct Listener(std::os::unix::net::UnixListener);

#[cfg(windows)]
pub struct Listener(String);

#[cfg(unix)]
pub fn claim(data_dir: &Path) -> std::io::Result<Instance> {
    use std::io::Write as _;
    use std::os::unix::net::{UnixListener, UnixStream};
    std::fs::create_dir_all(data_dir)?;
    let path = data_dir.join("ddns-tray.sock");
    if let Ok(mut stream) = UnixStream::connect(&path) {
        stream.write_all(OPEN_SETTINGS)?;
        return Ok(Instance::Signalled);
    }
    // Nobody answers: a socket file left by a crash is stale.
    let _ = std::fs::remove_file(&path);
    Ok(Instance::First(Listener(UnixListener::bind(&path)?)))
}

#[cfg(windows)]
pub fn claim(data_dir: &Path) -> std::io::Result<Instance> {
    use std::hash::{Hash as _, Hasher as _};
    use std::io::Write as _;
    let mut h = std::collections::hash_map::DefaultHasher::new();
    data_dir.hash(&mut h);
    let name = format!(r"\\.\pipe\ddns-tray-{:016x}", h.finish());
    // A client connects by opening the pipe like a file.
    if let Ok(mut pipe) = std::fs::OpenOptions::new().write(true).open(&name) {
        pipe.write_all(OPEN_SETTINGS)?;
        return Ok(Instance::Signalled);
    }
    Ok(Instance::First(Listener(name)))
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
        if self.0.set_nonblocking(true).is_err() {
            return;
        }
        let Ok(listener) = tokio::net::UnixListener::from_std(self.0) else {
            return;
        };
        runtime.spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                let mut buf = [0u8; 32];
                let n =
                    tokio::time::timeout(std::time::Duration::from_secs(2), stream.read(&mut buf))
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
        use tokio::net::windows::named_pipe::ServerOptions;
        let name = self.0;
        runtime.spawn(async move {
            let Ok(mut server) = ServerOptions::new().first_pipe_instance(true).create(&name)
            else {
                return;
            };
            loop {
                if server.connect().await.is_err() {
                    return;
                }
                let mut connected = server;
                server = match ServerOptions::new().create(&name) {
                    Ok(s) => s,
                    Err(_) => return,
                };
                let mut buf = [0u8; 32];
                let n = connected.read(&mut buf).await.unwrap_or(0);
                if buf[..n] == *OPEN_SETTINGS {
                    open_settings();
                }
            }
        });
    }
}
