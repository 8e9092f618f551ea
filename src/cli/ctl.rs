//! `ddns-tray ctl`: one request to a running daemon (the system service, else this user's `run`).

use std::path::Path;

use super::Exit;
use crate::app::Paths;
use crate::control::{Client, Endpoint, Reply, Request};
use crate::i18n::tr;

/// Sends `request` to the daemon at `endpoint` (default: the system service, else this user's daemon) and
/// prints its answer.
pub async fn ctl(
    paths: &Paths,
    request: Request,
    endpoint: Option<&Path>,
    json: bool,
) -> Result<Exit, String> {
    let endpoint = match endpoint {
        Some(p) => Endpoint::at(p),
        None => match crate::control::find(&paths.data_dir).await {
            Ok(Some((e, _))) => e,
            Ok(None) => {
                return Err(tr(
                    "cli.no_daemon",
                    &[
                        ("system", &Endpoint::system()),
                        ("dir", &paths.data_dir.display()),
                    ],
                ));
            }
            Err(e) => return Err(e.to_string()),
        },
    };
    match Client::ask(&endpoint, request).await {
        Ok(Reply::Ok(m)) => println!("{m}"),
        Ok(Reply::Status(s)) => {
            if json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&s).map_err(|e| e.to_string())?
                );
            } else {
                print!(
                    "{}",
                    crate::notify::status::status_text(&s, std::time::SystemTime::now())
                );
            }
        }
        Ok(Reply::History(entries)) => {
            for e in entries {
                println!("{}", e.line());
            }
        }
        Ok(Reply::Config(view)) => {
            if json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&view).map_err(|e| e.to_string())?
                );
            } else {
                eprintln!("# {}", view.path);
                if !view.writable {
                    eprintln!("# {}", crate::control::read_only_reason());
                }
                print!("{}", view.text);
            }
        }
        Ok(Reply::Problems(issues)) => {
            // In this terminal's language, not the daemon's.
            return Err(issues
                .into_iter()
                .map(|i| i.localized().to_string())
                .collect::<Vec<_>>()
                .join("\n"));
        }
        // Events come only to `watch`, which this command does not send.
        Ok(Reply::Event(_)) => {}
        Ok(Reply::Error(e)) => return Err(e),
        Err(e) => return Err(e.to_string()),
    }
    Ok(Exit::Ok)
}
