//! `ddns-tray secret set|delete ENTRY`: secrets in the OS keyring, for `{ keyring = "ENTRY" }` in the config.

use super::Exit;
use crate::config::secret;
use crate::i18n::tr;

/// Stores the one line read from standard input (at most 64 KiB) under `entry`, replacing any stored one.
pub fn set(entry: &str) -> Result<Exit, String> {
    let mut line = String::new();
    if std::io::IsTerminal::is_terminal(&std::io::stdin()) {
        eprint!("{}", tr("cli.keyring_prompt", &[("entry", &entry)]));
    }
    // One line, at most 64 KiB: a secret, not a file.
    std::io::BufRead::read_line(
        &mut std::io::Read::take(std::io::stdin().lock(), 64 * 1024),
        &mut line,
    )
    .map_err(|e| tr("cli.keyring_no_input", &[("error", &e)]))?;
    let value = line.trim_end_matches(['\r', '\n']);
    if value.trim().is_empty() {
        return Err(tr("cli.keyring_empty", &[]));
    }
    secret::keyring_store(entry, value).map_err(|e| {
        tr(
            "cli.keyring_cannot_store",
            &[("entry", &entry), ("error", &e)],
        )
    })?;
    println!("{}", tr("cli.keyring_stored", &[("entry", &entry)]));
    Ok(Exit::Ok)
}

/// Removes `entry`; `Exit::Failed` when there was none.
pub fn delete(entry: &str) -> Result<Exit, String> {
    let removed = secret::keyring_delete(entry).map_err(|e| {
        tr(
            "cli.keyring_cannot_remove",
            &[("entry", &entry), ("error", &e)],
        )
    })?;
    if removed {
        println!("{}", tr("cli.keyring_removed", &[("entry", &entry)]));
        Ok(Exit::Ok)
    } else {
        println!("{}", tr("cli.keyring_absent", &[("entry", &entry)]));
        Ok(Exit::Failed)
    }
}
