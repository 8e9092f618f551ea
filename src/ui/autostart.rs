//! "Start at login", agreeing with what the installer set up, so the menu shows the truth and the user can
//! always turn it off:
//!
//! - Windows: the MSI may add a per-machine Run entry (`HKLM\…\Run\ddns-tray`, started with `--autostart`).
//!   A user cannot remove that, so the user's choice is kept in `HKCU\Software\ddns-tray\StartAtLogin`
//!   (0 = off): a login start of a user who turned it off ends at once. Without a machine entry, turning it
//!   on adds the user's own Run entry.
//! - Linux: the .deb installs `/etc/xdg/autostart/ddns-tray.desktop`; a user turns it off with a file of the
//!   same name in `~/.config/autostart` holding `Hidden=true` (the XDG way to hide a system entry), and on by
//!   removing it, or by writing their own entry when there is no system one.
//! - macOS: the user's own login item.
//!
//! The user's own entries are written by `auto-launch` on Linux and macOS; on Windows directly (see there).

use crate::i18n::t;

/// Where "start at login" stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct State {
    /// An entry for every user exists (MSI, .deb).
    pub system: bool,
    /// The user's own choice, when they made one (`None`: they did not).
    pub user: Option<bool>,
}

impl State {
    /// Whether ddns-tray starts at this user's login.
    #[must_use]
    pub fn on(self) -> bool {
        self.user.unwrap_or(self.system)
    }
}

/// The argument the login entries pass.
pub const LOGIN_ARG: &str = "--autostart";

#[cfg(not(windows))]
fn launcher() -> Result<auto_launch::AutoLaunch, String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    auto_launch::AutoLaunchBuilder::new()
        .set_app_name("ddns-tray")
        .set_app_path(&exe.to_string_lossy())
        .set_args(&[LOGIN_ARG])
        .build()
        .map_err(|e| e.to_string())
}

#[cfg(windows)]
mod os {
    use windows_registry::{CURRENT_USER, LOCAL_MACHINE};

    use super::State;

    const RUN: &str = r"Software\Microsoft\Windows\CurrentVersion\Run";
    const PREFS: &str = r"Software\ddns-tray";
    const VALUE: &str = "ddns-tray";

    fn machine_entry() -> bool {
        LOCAL_MACHINE
            .open(RUN)
            .and_then(|k| k.get_string(VALUE))
            .is_ok()
    }

    fn own_entry() -> bool {
        CURRENT_USER
            .open(RUN)
            .and_then(|k| k.get_string(VALUE))
            .is_ok()
    }

    fn user_choice() -> Option<bool> {
        CURRENT_USER
            .open(PREFS)
            .and_then(|k| k.get_u32("StartAtLogin"))
            .ok()
            .map(|v| v != 0)
    }

    // Written here, not by auto-launch: it would write (and remove) the per-machine entry when it can, and
    // leaves a path with spaces unquoted. The same signature as on macOS, where asking can fail.
    #[allow(clippy::unnecessary_wraps)]
    pub fn state() -> Result<State, String> {
        Ok(State {
            system: machine_entry(),
            user: user_choice().or(own_entry().then_some(true)),
        })
    }

    pub fn set(on: bool) -> Result<(), String> {
        CURRENT_USER
            .create(PREFS)
            .and_then(|k| k.set_u32("StartAtLogin", u32::from(on)))
            .map_err(|e| format!("cannot save the choice: {e}"))?;
        // The machine entry starts us already; a second (own) entry would start two.
        if on && !machine_entry() {
            let exe = std::env::current_exe().map_err(|e| e.to_string())?;
            CURRENT_USER
                .create(RUN)
                .and_then(|k| {
                    k.set_string(VALUE, format!("\"{}\" {}", exe.display(), super::LOGIN_ARG))
                })
                .map_err(|e| format!("cannot add the login entry: {e}"))
        } else if own_entry() {
            CURRENT_USER
                .options()
                .write()
                .open(RUN)
                .and_then(|k| k.remove_value(VALUE))
                .map_err(|e| format!("cannot remove the login entry: {e}"))
        } else {
            Ok(())
        }
    }
}

#[cfg(target_os = "linux")]
mod os {
    use std::path::PathBuf;

    use super::State;

    const SYSTEM_ENTRY: &str = "/etc/xdg/autostart/ddns-tray.desktop";

    fn user_entry() -> Option<PathBuf> {
        // auto-launch writes here ($HOME, not XDG_CONFIG_HOME).
        std::env::var_os("HOME")
            .map(|h| PathBuf::from(h).join(".config/autostart/ddns-tray.desktop"))
    }

    /// `Some(false)` for a hiding override, `Some(true)` for the user's own entry.
    fn user_choice() -> Option<bool> {
        let text = std::fs::read_to_string(user_entry()?).ok()?;
        let hidden = text
            .lines()
            .any(|l| l.trim().eq_ignore_ascii_case("Hidden=true"));
        Some(!hidden)
    }

    // The same signature as on the other systems, where asking can fail.
    #[allow(clippy::unnecessary_wraps)]
    pub fn state() -> Result<State, String> {
        Ok(State {
            system: std::path::Path::new(SYSTEM_ENTRY).exists(),
            user: user_choice(),
        })
    }

    pub fn set(on: bool) -> Result<(), String> {
        let system = std::path::Path::new(SYSTEM_ENTRY).exists();
        let path = user_entry().ok_or("cannot find the home directory")?;
        let _ = std::fs::remove_file(&path);
        match (on, system) {
            // On with a system entry: it starts us now that the override is gone. Off without one: gone.
            (true, true) | (false, false) => Ok(()),
            (true, false) => super::launcher()?.enable().map_err(|e| e.to_string()),
            (false, true) => crate::fsutil::write_atomic(
                &path,
                b"[Desktop Entry]\nType=Application\nName=ddns-tray\nExec=ddns-tray --autostart\nHidden=true\n",
            )
            .map_err(|e| format!("cannot write {}: {e}", path.display())),
        }
    }
}

#[cfg(not(any(windows, target_os = "linux")))]
mod os {
    use super::State;

    pub fn state() -> Result<State, String> {
        let own = super::launcher()?.is_enabled().unwrap_or(false);
        Ok(State {
            system: false,
            user: Some(own),
        })
    }

    pub fn set(on: bool) -> Result<(), String> {
        let launcher = super::launcher()?;
        if on {
            launcher.enable()
        } else {
            launcher.disable()
        }
        .map_err(|e| e.to_string())
    }
}

/// Where "start at login" stands now.
pub fn state() -> Result<State, String> {
    os::state()
}

/// Turns "start at login" on or off for this user.
pub fn set(on: bool) -> Result<(), String> {
    os::set(on)
}

/// `ddns-tray autostart [on|off]`: sets the choice when given, then says where it stands.
pub fn command(set: Option<bool>) -> Result<crate::cli::Exit, String> {
    if let Some(on) = set {
        self::set(on)?;
    }
    let state = state()?;
    let how = match (state.system, state.user) {
        (true, None | Some(true)) => t!("cli.autostart_everyone"),
        (true, Some(false)) => t!("cli.autostart_off_by_you"),
        (_, Some(true)) => t!("cli.autostart_on_by_you"),
        (false, _) => t!("cli.autostart_not_set_up"),
    };
    let on = if state.on() {
        t!("cli.autostart_on")
    } else {
        t!("cli.autostart_off")
    };
    println!("{}", t!("cli.autostart_state", on = on, how = how));
    Ok(crate::cli::Exit::Ok)
}

/// A login start (`--autostart`) goes on only when the user has not turned it off.
#[must_use]
pub fn login_start_allowed() -> bool {
    state().map_or(true, State::on)
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    #[test]
    fn the_effective_choice() {
        let s = |system, user| State { system, user }.on();
        assert!(s(true, None), "the installer's entry");
        assert!(!s(true, Some(false)), "hidden by the user");
        assert!(s(false, Some(true)), "the user's own entry");
        assert!(!s(false, None));
    }
}
