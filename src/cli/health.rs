//! `ddns-tray health`: whether the running daemon is healthy, for container health checks (a `FROM scratch`
//! image has no curl) and monitoring scripts. It asks the daemon's control endpoint for its status and judges
//! it as `/health` does (every record published and current, the last check recent): exit 0 and `healthy`,
//! or exit 1 and one line saying why, within [`WAIT`] even when the daemon does not answer.

use std::path::Path;
use std::time::{Duration, SystemTime};

use super::Exit;
use crate::app::Paths;
use crate::control::{Client, ClientError, Endpoint, Reply, Request};
use crate::i18n::tr;

/// The longest the command waits for a daemon's answer (podman and docker allow a health check 30 s).
pub const WAIT: Duration = Duration::from_secs(5);

/// Asks the daemon at `endpoint` (default: the system service, else the daemon of `paths`' data dir) and
/// prints the verdict on stdout.
pub async fn health(paths: &Paths, endpoint: Option<&Path>) -> Exit {
    let verdict = match tokio::time::timeout(WAIT, verdict(paths, endpoint)).await {
        Ok(v) => v,
        Err(_) => Err(tr("health.timeout", &[("secs", &WAIT.as_secs())])),
    };
    match verdict {
        Ok(None) => {
            println!("{}", tr("health.healthy", &[]));
            Exit::Ok
        }
        // Healthy (a restart would not help), but DDNS cannot do what it is for: said, not failed.
        Ok(Some(reach)) => {
            println!(
                "{}",
                tr(
                    "health.healthy_but",
                    &[("why", &crate::notify::reach(&reach))]
                )
            );
            Exit::Ok
        }
        Err(why) => {
            println!("{}", tr("health.unhealthy", &[("why", &why)]));
            Exit::Failed
        }
    }
}

/// `Ok` (with why DDNS may not reach this host, when the daemon found so), or why the daemon is not healthy
/// (or cannot be asked), in the language in use.
async fn verdict(
    paths: &Paths,
    endpoint: Option<&Path>,
) -> Result<Option<crate::detect::reach::Reach>, String> {
    // The interval decides how old the last check may be; the config is the daemon's.
    let interval = match paths.load_config() {
        Ok((_, settings)) => settings.interval,
        Err(e) => return Err(e.to_string()),
    };
    let status = match endpoint {
        Some(p) => ask(&Endpoint::at(p)).await?,
        None => match crate::control::find(&paths.data_dir).await {
            Ok(Some((_, status))) => status,
            Ok(None) => {
                return Err(tr(
                    "cli.no_daemon",
                    &[
                        ("system", &Endpoint::system()),
                        ("dir", &paths.data_dir.display()),
                    ],
                ));
            }
            Err(e) => return Err(client_error(&e)),
        },
    };
    crate::metrics::health(&status, interval, SystemTime::now()).map_err(|u| u.localized())?;
    Ok(status.reach)
}

async fn ask(endpoint: &Endpoint) -> Result<crate::engine::Status, String> {
    match Client::ask(endpoint, Request::Status).await {
        Ok(Reply::Status(s)) => Ok(*s),
        Ok(Reply::Error(e)) => Err(e),
        Ok(_) => Err(tr("health.odd_reply", &[("endpoint", endpoint)])),
        Err(e) => Err(client_error(&e)),
    }
}

fn client_error(e: &ClientError) -> String {
    match e {
        ClientError::NotRunning(at) => tr("health.not_running", &[("endpoint", at)]),
        other => other.to_string(),
    }
}
