//! The control endpoint on Windows: a named pipe with a DACL, and the caller's token checked for
//! administrator rights before commands.

use tokio::net::windows::named_pipe::NamedPipeServer;
use tokio_util::sync::CancellationToken;

use super::Endpoint;
use super::server::{Control, Slots, admit, read_request, serve_client};

fn create(name: &str, shared: bool, first: bool) -> std::io::Result<NamedPipeServer> {
    use crate::platform::windows::{PipeAccess, create_pipe};
    let access = if shared {
        PipeAccess::Sddl(crate::platform::sddl::control_pipe())
    } else {
        PipeAccess::OwnerOnly
    };
    create_pipe(name, access, first)
}

pub fn serve(
    endpoint: &Endpoint,
    control: Control,
    shutdown: CancellationToken,
) -> std::io::Result<tokio::task::JoinHandle<()>> {
    let Endpoint::Pipe { name, shared } = endpoint.clone();
    let mut server = create(&name, shared, true).map_err(|e| {
        std::io::Error::new(
            e.kind(),
            format!(
                "cannot listen for control at {name} (is another ddns-tray daemon running?): {e}"
            ),
        )
    })?;
    let slots = Slots::new();
    Ok(tokio::spawn(async move {
        loop {
            tokio::select! {
                () = shutdown.cancelled() => break,
                c = server.connect() => if c.is_err() {
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                    continue;
                },
            }
            let mut connected = server;
            server = match create(&name, shared, false) {
                Ok(s) => s,
                Err(e) => {
                    tracing::error!("control pipe {name}: {e}; no more clients are served");
                    return;
                }
            };
            let (control, shutdown, slots) = (control.clone(), shutdown.clone(), slots.clone());
            tokio::spawn(async move {
                let Some(_permit) = admit(&slots, &mut connected).await else {
                    return;
                };
                let request = read_request(&mut connected).await;
                // The owner-only pipe admits only us; the service's pipe checks who sends commands.
                let allowed = match &request {
                    Ok((r, _)) if shared && r.needs_right() => {
                        crate::platform::windows::pipe_client_is_admin(&connected).unwrap_or_else(
                            |e| {
                                tracing::warn!("control: cannot tell who the client is: {e}");
                                false
                            },
                        )
                    }
                    _ => true,
                };
                serve_client(connected, control, request, allowed, shutdown).await;
            });
        }
    }))
}
