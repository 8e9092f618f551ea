//! Desktop toasts (notify-rust) for the tray app, chosen by [`ToastPolicy`].
//!
//! Showing a toast can block: a notification service that owns its D-Bus name but never answers holds
//! `show()` for over a minute. So toasts go through one dedicated thread fed by a small bounded queue: the
//! engine and the event loop never wait, at most one thread exists however many toasts are asked for, and
//! when the queue is full the extra toasts are dropped (and logged). A missing notification service is
//! logged once and otherwise ignored.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{SyncSender, TrySendError, sync_channel};

use tokio::sync::broadcast;

#[cfg(all(unix, not(target_os = "macos")))]
use super::Level;
use super::{Message, ToastPolicy};
use crate::engine::Event;

/// Toasts waiting while one is being shown.
const QUEUE: usize = 8;

/// The application id Windows toasts carry. Windows shows toasts of an unpackaged app only for an id
/// registered under `Software\Classes\AppUserModelId`: the MSI registers it for every user, and
/// [`register_app_id`] for this user when the exe runs without the installer.
pub const APP_ID: &str = "ddns-tray";

/// Registers [`APP_ID`] for this user unless it is registered already (HKCU or, by the MSI, HKLM).
#[cfg(windows)]
fn register_app_id() {
    let key = format!(r"Software\Classes\AppUserModelId\{APP_ID}");
    let registered = |root: &windows_registry::Key| {
        root.open(&key)
            .and_then(|k| k.get_string("DisplayName"))
            .is_ok()
    };
    if registered(windows_registry::LOCAL_MACHINE) || registered(windows_registry::CURRENT_USER) {
        return;
    }
    if let Err(e) = windows_registry::CURRENT_USER
        .create(&key)
        .and_then(|k| k.set_string("DisplayName", "ddns-tray"))
    {
        tracing::warn!("cannot register the app id Windows shows toasts for: {e}");
    }
}

/// Hands messages to the toast thread.
#[derive(Clone)]
pub struct Toaster {
    queue: SyncSender<Message>,
    warned_full: Arc<AtomicBool>,
}

impl Toaster {
    /// Starts the toast thread.
    #[must_use]
    pub fn start() -> Self {
        let (queue, rx) = sync_channel::<Message>(QUEUE);
        let spawned = std::thread::Builder::new().name("toasts".into()).spawn(move || {
            #[cfg(windows)]
            register_app_id();
            let mut warned = false;
            while let Ok(message) = rx.recv() {
                if let Err(e) = show(&message)
                    && !warned
                {
                    warned = true;
                    tracing::warn!("desktop notifications are unavailable ({e}); messages go to the log only");
                }
            }
        });
        if let Err(e) = spawned {
            tracing::warn!("cannot start the notification thread: {e}");
        }
        Self {
            queue,
            warned_full: Arc::new(AtomicBool::new(false)),
        }
    }

    /// Queues a toast; never blocks. Returns false when it was dropped.
    pub fn toast(&self, message: Message) -> bool {
        match self.queue.try_send(message) {
            Ok(()) => true,
            Err(TrySendError::Full(m)) => {
                if !self.warned_full.swap(true, Ordering::Relaxed) {
                    tracing::warn!(
                        "the notification service is not keeping up; dropping toasts such as \"{}\"",
                        m.summary
                    );
                }
                false
            }
            Err(TrySendError::Disconnected(_)) => false,
        }
    }
}

fn show(message: &Message) -> Result<(), notify_rust::error::Error> {
    let mut n = notify_rust::Notification::new();
    n.appname("ddns-tray")
        .summary(&message.summary)
        .body(&message.body);
    #[cfg(all(unix, not(target_os = "macos")))]
    n.urgency(match message.level {
        Level::Error => notify_rust::Urgency::Critical,
        Level::Warning | Level::Info => notify_rust::Urgency::Normal,
    });
    #[cfg(windows)]
    n.app_id(APP_ID);
    #[cfg(not(all(unix, not(target_os = "macos"))))]
    let _ = message.level;
    n.show().map(|_| ())
}

/// Turns engine events into toasts until the channel closes. Does nothing but drain when `enabled` is false
/// (`notifications = false` in the config).
pub async fn run(mut events: broadcast::Receiver<Event>, toaster: Toaster, enabled: bool) {
    let mut policy = ToastPolicy::default();
    if !enabled {
        tracing::info!("desktop notifications are off (notifications = false)");
    }
    loop {
        match events.recv().await {
            Ok(event) => {
                for message in policy.on_event(&event) {
                    if enabled {
                        toaster.toast(message);
                    }
                }
            }
            Err(broadcast::error::RecvError::Lagged(_)) => {}
            Err(broadcast::error::RecvError::Closed) => break,
        }
    }
}
