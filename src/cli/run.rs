//! `ddns-tray run`: the headless daemon in the foreground until SIGTERM or Ctrl-C; SIGHUP reloads the config.

use super::Exit;
use crate::app::{self, Paths};
use crate::control::Endpoint;
use crate::settings::Settings;

/// Runs the daemon with its control endpoint at `control`.
pub async fn run(paths: &Paths, settings: Settings, control: Endpoint) -> Result<Exit, String> {
    let shutdown = tokio_util::sync::CancellationToken::new();
    let stop = shutdown.clone();
    let reload_paths = paths.clone();
    app::daemon(paths, settings, shutdown, Some(control), move |commands| {
        tokio::spawn(async move {
            app::signals::serve(&reload_paths, &commands).await;
            tracing::info!("stopping");
            stop.cancel();
        });
    })
    .await?;
    Ok(Exit::Ok)
}
