//! `ddns-tray notify test [NAME]`: a test message through every notifier (or the one named), and what each
//! service answered.

use super::Exit;
use crate::app::Paths;
use crate::i18n::tr;
use crate::settings::Settings;

/// Sends the test message; `Exit::Failed` when a service refused it.
pub async fn test(paths: &Paths, settings: &Settings, name: Option<&str>) -> Result<Exit, String> {
    let chosen: Vec<_> = settings
        .notify
        .iter()
        .filter(|n| name.is_none_or(|want| n.name == want))
        .cloned()
        .collect();
    if chosen.is_empty() {
        match name {
            Some(want) => {
                let names: Vec<&str> = settings.notify.iter().map(|n| n.name.as_str()).collect();
                let names = if names.is_empty() {
                    tr("cli.none", &[])
                } else {
                    names.join(", ")
                };
                super::print_error(&tr(
                    "cli.no_such_notifier",
                    &[("name", &want), ("names", &names)],
                ));
            }
            None => super::print_error(&tr(
                "cli.no_notifiers",
                &[("path", &paths.config.display())],
            )),
        }
        return Ok(Exit::Invalid);
    }
    let results = crate::notify::alerts::test(&chosen, &paths.config).await;
    let mut all_ok = true;
    for (name, kind, result) in results {
        match result {
            Ok(answer) => println!(
                "{}",
                tr(
                    "cli.notify_sent",
                    &[("name", &name), ("kind", &kind), ("answer", &answer)]
                )
            ),
            Err(e) => {
                all_ok = false;
                println!(
                    "{}",
                    tr(
                        "cli.notify_failed",
                        &[("name", &name), ("kind", &kind), ("error", &e)]
                    )
                );
            }
        }
    }
    Ok(Exit::ok_if(all_ok))
}
