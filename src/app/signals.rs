//! Signals: SIGINT and SIGTERM (Ctrl-C on Windows) stop; SIGHUP (Unix) reloads the config. One place for
//! the daemon (`run`) and the tray.

use tokio::sync::mpsc;

use super::Paths;
use crate::engine::Command;
use crate::settings::LoadError;

/// What a signal asks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    Stop,
    Reload,
}

/// The signals of this process, listened to from creation on (none is missed between two waits).
pub struct Signals {
    #[cfg(unix)]
    term: Option<tokio::signal::unix::Signal>,
    #[cfg(unix)]
    hup: Option<tokio::signal::unix::Signal>,
}

impl Signals {
    /// Starts listening. A signal that cannot be listened to (no handler could be installed) is left out;
    /// Ctrl-C always works.
    #[must_use]
    pub fn new() -> Self {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            Self {
                term: signal(SignalKind::terminate()).ok(),
                hup: signal(SignalKind::hangup()).ok(),
            }
        }
        #[cfg(not(unix))]
        Self {}
    }

    /// The next signal.
    pub async fn next(&mut self) -> Signal {
        #[cfg(unix)]
        {
            async fn recv(s: Option<&mut tokio::signal::unix::Signal>) {
                match s {
                    Some(s) => {
                        if s.recv().await.is_none() {
                            std::future::pending::<()>().await;
                        }
                    }
                    None => std::future::pending().await,
                }
            }
            tokio::select! {
                _ = tokio::signal::ctrl_c() => Signal::Stop,
                () = recv(self.term.as_mut()) => Signal::Stop,
                () = recv(self.hup.as_mut()) => Signal::Reload,
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
            Signal::Stop
        }
    }
}

impl Default for Signals {
    fn default() -> Self {
        Self::new()
    }
}

/// The daemon's signals: returns on a stop; a reload re-reads the config and hands it to the engine (an
/// invalid one is logged and the running settings kept).
pub async fn serve(paths: &Paths, commands: &mpsc::Sender<Command>) {
    let mut signals = Signals::new();
    while signals.next().await == Signal::Reload {
        match paths.reload_config() {
            Ok((_, settings)) => {
                tracing::info!("SIGHUP: reloading {}", paths.config.display());
                let _ = commands.send(Command::Reload(Box::new(settings))).await;
            }
            Err(e) => {
                tracing::error!("SIGHUP: keeping the current settings: {e}");
                if let LoadError::Invalid { issues, .. } = e {
                    for issue in issues {
                        tracing::error!("{issue}");
                    }
                }
            }
        }
    }
}
