//! The tray icon and its menu: built at start, relabelled from the status, and what each item does.

#[allow(clippy::wildcard_imports)] // the tray app's own types
use super::*;

impl App {
    /// The menu for who runs the engine now, and its items to relabel later.
    #[allow(clippy::too_many_lines)] // the menu, item by item
    fn build_menu(&self) -> (Menu, Items) {
        let now = SystemTime::now();
        let labels = model::menu_labels(&self.status, self.ipv6, now);
        let menu = Menu::new();
        // Clicking an address copies it.
        let ipv4 = MenuItem::with_id(id::COPY_V4, &labels.ipv4, true, None);
        let ipv6 = labels
            .ipv6
            .as_ref()
            .map(|l| MenuItem::with_id(id::COPY_V6, l, true, None));
        let last_update = MenuItem::new(&labels.last_update, false, None);
        let no_error = t!("menu.last_error_none");
        let last_error = MenuItem::new(
            labels.last_error.as_deref().unwrap_or(&no_error),
            false,
            None,
        );
        // Another process's engine: driven over its endpoint (when it lets us); its config file is not ours to
        // open in an editor.
        let own = self.remote.is_none();
        let drivable = self.remote.as_ref().is_none_or(|r| !r.denied);
        let pause = MenuItem::with_id(id::PAUSE, &labels.pause, drivable, None);
        let start_at_login = crate::ui::autostart::state();
        let autostart = CheckMenuItem::with_id(
            id::AUTOSTART,
            t!("menu.start_at_login"),
            start_at_login.is_ok(),
            start_at_login.is_ok_and(crate::ui::autostart::State::on),
            None,
        );
        let mut entries: Vec<&dyn tray_icon::menu::IsMenuItem> = vec![&ipv4];
        if let Some(i) = &ipv6 {
            entries.push(i);
        }
        let update = MenuItem::with_id(id::UPDATE, t!("menu.update_now"), drivable, None);
        // A followed daemon's config is edited through it (read-only for a user who may not change it).
        let settings_item = MenuItem::with_id(id::SETTINGS, t!("menu.settings"), drivable, None);
        let edit = MenuItem::with_id(id::EDIT, t!("menu.edit_config"), own, None);
        let reload = MenuItem::with_id(id::RELOAD, t!("menu.reload"), drivable, None);
        let managed = MenuItem::new(
            self.remote.as_ref().map(Remote::label).unwrap_or_default(),
            false,
            None,
        );
        if self.remote.is_some() {
            entries.insert(0, &managed);
        }
        let logs = MenuItem::with_id(id::LOGS, t!("menu.open_logs"), true, None);
        let about = MenuItem::with_id(id::ABOUT, t!("menu.about"), true, None);
        let quit = MenuItem::with_id(id::QUIT, t!("menu.quit"), true, None);
        let (sep1, sep2, sep3) = (
            PredefinedMenuItem::separator(),
            PredefinedMenuItem::separator(),
            PredefinedMenuItem::separator(),
        );
        entries.extend([
            &last_update as &dyn tray_icon::menu::IsMenuItem,
            &last_error,
            &sep1,
            &update,
            &pause,
            &sep2,
            &settings_item,
            &edit,
            &reload,
            &logs,
            &autostart,
            &sep3,
            &about,
            &quit,
        ]);
        if let Err(e) = menu.append_items(&entries) {
            tracing::error!("cannot build the tray menu: {e}");
        }
        let items = Items {
            ipv4,
            ipv6,
            last_update,
            last_error,
            pause,
            autostart,
            managed,
            fixed: vec![
                (update, "menu.update_now"),
                (settings_item, "menu.settings"),
                (edit, "menu.edit_config"),
                (reload, "menu.reload"),
                (logs, "menu.open_logs"),
                (about, "menu.about"),
                (quit, "menu.quit"),
            ],
        };
        (menu, items)
    }

    pub(super) fn create_tray(&mut self) {
        let (menu, items) = self.build_menu();
        let state = model::icon_state(&self.status);
        let mut builder = TrayIconBuilder::new()
            .with_id("ddns-tray")
            .with_title(t!("tray.title"))
            .with_tooltip(model::tooltip(&self.status, self.ipv6, SystemTime::now()))
            .with_menu(Box::new(menu));
        if let Some(i) = icon(state) {
            builder = builder.with_icon(i);
        }
        match builder.build() {
            Ok(tray) => {
                self.tray = Some(tray);
                self.shown_icon = Some(state);
            }
            Err(e) => {
                tracing::error!(
                    "cannot create the tray icon ({e}); the engine keeps running. On Linux the tray needs a StatusNotifier host (most desktops have one; GNOME needs the AppIndicator extension)."
                );
            }
        }
        self.items = Some(items);
    }

    /// Who runs the engine changed ("Run unattended"): the same icon gets the menu for the new one.
    pub(super) fn rebuild_menu(&mut self) {
        let (menu, items) = self.build_menu();
        if let Some(tray) = &self.tray {
            tray.set_menu(Some(Box::new(menu)));
        }
        self.items = Some(items);
        self.refresh();
    }

    /// The language changed: every fixed label is read again from the catalogue.
    pub(super) fn relabel(&self) {
        let Some(items) = &self.items else { return };
        for (item, key) in &items.fixed {
            item.set_text(t!(*key));
        }
        items.autostart.set_text(t!("menu.start_at_login"));
        if let Some(r) = &self.remote {
            items.managed.set_text(r.label());
        }
    }

    /// Brings icon, tooltip and labels in line with the status.
    pub(super) fn refresh(&mut self) {
        let now = SystemTime::now();
        let labels = model::menu_labels(&self.status, self.ipv6, now);
        if let Some(items) = &self.items {
            items.ipv4.set_text(&labels.ipv4);
            if let (Some(item), Some(text)) = (&items.ipv6, &labels.ipv6) {
                item.set_text(text);
            }
            items.last_update.set_text(&labels.last_update);
            items.last_error.set_text(
                labels
                    .last_error
                    .unwrap_or_else(|| t!("menu.last_error_none").into_owned()),
            );
            items.pause.set_text(&labels.pause);
        }
        if let Some(tray) = &self.tray {
            let _ = tray.set_tooltip(Some(model::tooltip(&self.status, self.ipv6, now)));
            let state = model::icon_state(&self.status);
            if self.shown_icon != Some(state) {
                let _ = tray.set_icon(icon(state));
                self.shown_icon = Some(state);
            }
        }
    }

    pub(super) fn on_menu(&mut self, id: &MenuId) {
        match id.as_ref() {
            id::SETTINGS => self.open_settings(),
            id::COPY_V4 => self.copy(self.status.ipv4),
            id::COPY_V6 => self.copy(self.status.ipv6),
            id::UPDATE if self.remote.is_some() => self.ask_remote(crate::control::Request::Update),
            id::PAUSE if self.remote.is_some() => self.ask_remote(if self.status.paused {
                crate::control::Request::Resume
            } else {
                crate::control::Request::Pause
            }),
            id::RELOAD if self.remote.is_some() => self.ask_remote(crate::control::Request::Reload),
            id::UPDATE => {
                let Some(handle) = self.handle.clone() else {
                    return;
                };
                let toaster = self.toaster.clone();
                self.runtime.spawn(async move {
                    if let Some(report) = handle.update_now(false).await {
                        let failed: Vec<String> = report
                            .records
                            .iter()
                            .filter_map(|r| match &r.outcome {
                                crate::engine::Outcome::Failed { reason }
                                | crate::engine::Outcome::Skipped { reason, .. } => {
                                    Some(format!("{} {}: {reason}", r.name, r.record_type))
                                }
                                _ => None,
                            })
                            .collect();
                        if !failed.is_empty() {
                            toaster.toast(Message {
                                level: Level::Warning,
                                summary: t!("toast.update_failed").into_owned(),
                                body: failed.join("\n"),
                            });
                        }
                    }
                });
            }
            id::PAUSE => self.send(if self.status.paused {
                Command::Resume
            } else {
                Command::Pause
            }),
            id::EDIT => self.edit_config(),
            id::RELOAD => match self.paths.reload_config() {
                Ok((_, settings)) => {
                    self.ipv6 = settings.ipv6;
                    if self.handle.is_some() {
                        self.send(Command::Reload(Box::new(settings)));
                    } else {
                        self.start_engine(settings);
                    }
                }
                Err(crate::settings::LoadError::Invalid { issues, .. }) => {
                    let first: Vec<String> =
                        issues.iter().take(3).map(ToString::to_string).collect();
                    self.toast(
                        Level::Error,
                        t!("toast.config_problems", n = issues.len()),
                        first.join("\n"),
                    );
                }
                Err(e) => self.toast(Level::Error, t!("toast.cannot_read_config"), e.to_string()),
            },
            id::LOGS => {
                let dir = self.paths.log_dir();
                let _ = std::fs::create_dir_all(&dir);
                if let Err(e) = open_with_desktop(&dir) {
                    self.toast(
                        Level::Warning,
                        t!("toast.cannot_open_logs"),
                        format!("{}: {e}", dir.display()),
                    );
                }
            }
            id::AUTOSTART => self.toggle_autostart(),
            id::ABOUT => self.toast(
                Level::Info,
                format!("ddns-tray {}", env!("CARGO_PKG_VERSION")),
                t!(
                    "toast.about",
                    config = self.paths.config.display(),
                    state = self.paths.state_file().display()
                ),
            ),
            id::QUIT => self.quit(),
            _ => {}
        }
    }

    pub(super) fn copy(&mut self, ip: Option<std::net::IpAddr>) {
        let Some(ip) = ip else { return };
        if self.clipboard.is_none() {
            match arboard::Clipboard::new() {
                Ok(c) => self.clipboard = Some(c),
                Err(e) => {
                    tracing::warn!("no clipboard: {e}");
                    return;
                }
            }
        }
        if let Some(Err(e)) = self.clipboard.as_mut().map(|c| c.set_text(ip.to_string())) {
            tracing::warn!("cannot copy {ip}: {e}");
        }
    }

    pub(super) fn edit_config(&self) {
        let path = &self.paths.config;
        if !path.exists() {
            let template = "# ddns-tray configuration: see the README for every option.\n# Save, then choose \"Reload config\" in the tray menu.\n\ninterval = \"5m\"\n";
            if let Err(e) = crate::fsutil::write_atomic(path, template.as_bytes()) {
                self.toast(
                    Level::Warning,
                    t!("toast.cannot_create_config"),
                    format!("{}: {e}", path.display()),
                );
                return;
            }
        }
        if let Err(e) = open_with_desktop(path) {
            self.toast(
                Level::Warning,
                t!("toast.cannot_open_config"),
                format!("{}: {e}", path.display()),
            );
        }
    }

    pub(super) fn toggle_autostart(&self) {
        let on = crate::ui::autostart::state().is_ok_and(crate::ui::autostart::State::on);
        let result = crate::ui::autostart::set(!on).and_then(|()| crate::ui::autostart::state());
        let now = match result {
            Ok(state) => state.on(),
            Err(e) => {
                self.toast(Level::Warning, t!("toast.cannot_change_autostart"), e);
                on
            }
        };
        if let Some(items) = &self.items {
            items.autostart.set_checked(now);
        }
    }
}

/// Menu item ids.
pub(super) mod id {
    pub const COPY_V4: &str = "copy-ipv4";
    pub const COPY_V6: &str = "copy-ipv6";
    pub const UPDATE: &str = "update-now";
    pub const SETTINGS: &str = "settings";
    pub const PAUSE: &str = "pause";
    pub const EDIT: &str = "edit-config";
    pub const RELOAD: &str = "reload-config";
    pub const LOGS: &str = "open-logs";
    pub const AUTOSTART: &str = "start-at-login";
    pub const ABOUT: &str = "about";
    pub const QUIT: &str = "quit";
}

pub(super) struct Items {
    ipv4: MenuItem,
    ipv6: Option<MenuItem>,
    last_update: MenuItem,
    last_error: MenuItem,
    pause: MenuItem,
    autostart: CheckMenuItem,
    managed: MenuItem,
    /// The items whose text is fixed (until the language changes): item and catalogue key.
    fixed: Vec<(MenuItem, &'static str)>,
}

/// Decodes one of the tray PNGs in `assets/icons`.
pub(super) fn icon(state: IconState) -> Option<Icon> {
    let bytes: &[u8] = match state {
        IconState::Ok => include_bytes!("../../../assets/icons/tray-ok.png"),
        IconState::Updating => include_bytes!("../../../assets/icons/tray-updating.png"),
        IconState::Failing => include_bytes!("../../../assets/icons/tray-failing.png"),
        IconState::Paused => include_bytes!("../../../assets/icons/tray-paused.png"),
        IconState::Idle => include_bytes!("../../../assets/icons/tray-idle.png"),
        IconState::Unreachable => include_bytes!("../../../assets/icons/tray-unreachable.png"),
    };
    let mut reader = png::Decoder::new(std::io::Cursor::new(bytes))
        .read_info()
        .ok()?;
    let mut buf = vec![0; reader.output_buffer_size()?];
    let info = reader.next_frame(&mut buf).ok()?;
    buf.truncate(info.buffer_size());
    Icon::from_rgba(buf, info.width, info.height).ok()
}

/// Opens a file or folder with the desktop's default handler, without waiting for it.
pub(super) fn open_with_desktop(path: &Path) -> std::io::Result<()> {
    let opener = if cfg!(target_os = "macos") {
        "open"
    } else if cfg!(windows) {
        "explorer"
    } else {
        "xdg-open"
    };
    std::process::Command::new(opener)
        .arg(path)
        .spawn()
        .map(|_| ())
}

/// Whether a tray host will show the icon. On Linux that is a `StatusNotifierWatcher` on the session bus
/// (without one, ksni registers nothing and the icon is invisible); elsewhere the OS always has a tray.
#[cfg(target_os = "linux")]
pub(super) fn tray_host_present() -> bool {
    let Ok(bus) = zbus::blocking::Connection::session() else {
        return false;
    };
    bus.call_method(
        Some("org.freedesktop.DBus"),
        "/org/freedesktop/DBus",
        Some("org.freedesktop.DBus"),
        "NameHasOwner",
        &("org.kde.StatusNotifierWatcher",),
    )
    .and_then(|reply| reply.body().deserialize::<bool>())
    .unwrap_or(false)
}

#[cfg(not(target_os = "linux"))]
pub(super) fn tray_host_present() -> bool {
    true
}
