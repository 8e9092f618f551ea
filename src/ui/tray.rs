//! The tray app: one winit event loop on the main thread owns the tray icon and its menu; the engine runs on
//! tokio threads. They meet only here:
//! - menu clicks arrive through `MenuEvent::set_event_handler`, which forwards the item id through the
//!   `EventLoopProxy` (no polling; menu items hold `Rc`, so only ids cross threads);
//! - a bridge task forwards each new engine [`Status`] through the same proxy;
//! - commands go to the engine over its `mpsc` channel.
//!
//! Toasts come from the engine's events through [`crate::notify::desktop`], off this thread.

use std::path::Path;
use std::time::{Duration, SystemTime};

use tokio::runtime::Runtime;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tray_icon::menu::{CheckMenuItem, Menu, MenuEvent, MenuId, MenuItem, PredefinedMenuItem};
use tray_icon::{Icon, TrayIcon, TrayIconBuilder};
use winit::application::ApplicationHandler;
use winit::event::{StartCause, WindowEvent};
use winit::event_loop::{ActiveEventLoop, ControlFlow, EventLoop, EventLoopProxy};
use winit::window::WindowId;

use super::pages::{Detected, Load, Request, View};
use super::settings::{self, SettingsForm};
use super::window::SettingsWindow;
use crate::app::Paths;
use crate::config;
use crate::engine::{Command, Handle, Status};
use crate::i18n::t;
use crate::notify::desktop::Toaster;
use crate::notify::status::{self as model, IconState};
use crate::notify::{Level, Message};
use crate::settings::Settings;

/// What reaches the event loop from other threads.
#[derive(Debug)]
pub enum UserEvent {
    Status(Box<Status>),
    Menu(MenuId),
    /// SIGTERM / SIGINT / Ctrl-C (logout, `kill`): quit as if from the menu.
    Quit,
    /// egui asked for another frame of the settings window, after this long.
    Repaint(Duration),
    /// A second `ddns-tray` asked this one to show its settings.
    OpenSettings,
    /// Work done off this thread for the settings window.
    Reply(Reply),
    /// A screen reader talks to the settings window.
    AccessKit(egui_winit::accesskit_winit::Event),
    /// The engine has stopped (after Quit, or on its own): leave the loop.
    EngineStopped,
    /// A minute has passed: "3 min ago" in the menu and tooltip becomes "4 min ago".
    Tick,
}

impl From<egui_winit::accesskit_winit::Event> for UserEvent {
    fn from(event: egui_winit::accesskit_winit::Event) -> Self {
        Self::AccessKit(event)
    }
}

/// What the settings window's off-thread work (files, keyring, network) hands back.
#[derive(Debug)]
pub enum Reply {
    /// The config file read into a form, and a CJK font, for the window about to open.
    Loaded(Result<Box<(SettingsForm, Option<super::fonts::Found>)>, String>),
    /// A Save finished: the form (with its problems, or with secrets moved to the keyring) and, when it
    /// was written, the settings to reload.
    Saved(Box<SettingsForm>, Option<Box<Settings>>),
    /// "Test" on provider `n`.
    Tested(usize, Result<String, String>),
    Detected(Result<Vec<Detected>, String>),
    History(Result<Vec<crate::history::Entry>, String>),
    /// "Send test" on notifier `n`.
    AlertTested(usize, Result<String, String>),
}

/// How often the relative times in the menu and tooltip are brought up to date.
const TICK_EVERY: Duration = Duration::from_mins(1);

/// A [`UserEvent::Tick`] every [`TICK_EVERY`] until the event loop is gone.
fn spawn_ticks(runtime: &tokio::runtime::Runtime, proxy: EventLoopProxy<UserEvent>) {
    runtime.spawn(async move {
        let mut every = tokio::time::interval(TICK_EVERY);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        every.tick().await;
        loop {
            every.tick().await;
            if proxy.send_event(UserEvent::Tick).is_err() {
                return;
            }
        }
    });
}

/// Menu item ids.
mod id {
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

struct Items {
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

struct App {
    runtime: Runtime,
    /// The engine's handle; `None` when the tray drives another process's engine, or waits for a config it
    /// can load (`status.config_problems` says why).
    handle: Option<Handle>,
    /// The daemon (the system service, or this user's `ddns-tray run`) whose engine the tray shows and drives
    /// instead of running its own.
    remote: Option<Remote>,
    paths: Paths,
    ipv6: bool,
    toaster: Toaster,
    shutdown: CancellationToken,
    engine: Option<JoinHandle<()>>,
    proxy: EventLoopProxy<UserEvent>,
    status: Status,
    tray: Option<TrayIcon>,
    items: Option<Items>,
    shown_icon: Option<IconState>,
    /// Kept alive: on X11 the copied text is served by its owner for as long as it lives.
    clipboard: Option<arboard::Clipboard>,
    settings: Option<SettingsWindow>,
    /// The settings window is being prepared (its file and font read off this thread).
    opening: bool,
}

/// Another process's engine, reached over its control endpoint.
struct Remote {
    endpoint: crate::control::Endpoint,
    /// It is the system service (not this user's own daemon).
    system: bool,
    /// It does not let this user in (so there is nothing to drive).
    denied: bool,
}

impl Remote {
    /// The menu's first line: who runs the engine.
    fn label(&self) -> String {
        if self.system && cfg!(windows) {
            t!("menu.run_by_windows_service").into_owned()
        } else if self.system {
            t!("menu.run_by_system_service").into_owned()
        } else {
            t!("menu.run_by_daemon", endpoint = self.endpoint).into_owned()
        }
    }
}

/// Decodes one of the tray PNGs in `assets/icons`.
fn icon(state: IconState) -> Option<Icon> {
    let bytes: &[u8] = match state {
        IconState::Ok => include_bytes!("../../assets/icons/tray-ok.png"),
        IconState::Updating => include_bytes!("../../assets/icons/tray-updating.png"),
        IconState::Failing => include_bytes!("../../assets/icons/tray-failing.png"),
        IconState::Paused => include_bytes!("../../assets/icons/tray-paused.png"),
        IconState::Idle => include_bytes!("../../assets/icons/tray-idle.png"),
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
fn open_with_desktop(path: &Path) -> std::io::Result<()> {
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

impl App {
    fn toast(&self, level: Level, summary: impl Into<String>, body: impl Into<String>) {
        self.toaster.toast(Message {
            level,
            summary: summary.into(),
            body: body.into(),
        });
    }

    /// Opens the settings window (or brings it forward), with the config file's current contents. The
    /// file, the keyring and the font are read off this thread; the window opens when they arrive
    /// ([`Reply::Loaded`]).
    fn open_settings(&mut self) {
        if let Some(w) = &self.settings {
            w.focus();
            return;
        }
        if std::mem::replace(&mut self.opening, true) {
            return;
        }
        let path = self.paths.config.clone();
        let problems = !self.status.config_problems.is_empty();
        let proxy = self.proxy.clone();
        self.runtime.spawn_blocking(move || {
            let loaded = load_form(&path, problems).map(|mut form| {
                form.start_at_login =
                    super::autostart::state().is_ok_and(super::autostart::State::on);
                Box::new((form, super::fonts::find()))
            });
            let _ = proxy.send_event(UserEvent::Reply(Reply::Loaded(loaded)));
        });
    }

    /// The form and font arrived: the window opens.
    fn show_settings(
        &mut self,
        event_loop: &ActiveEventLoop,
        loaded: Result<Box<(SettingsForm, Option<super::fonts::Found>)>, String>,
    ) {
        self.opening = false;
        let (form, font) = match loaded {
            Ok(l) => *l,
            Err(e) => {
                self.toast(Level::Error, t!("toast.cannot_read_config"), e);
                return;
            }
        };
        let mut view = View::new(form, self.status.clone());
        view.drivable = self.handle.is_some() || self.remote.as_ref().is_some_and(|r| !r.denied);
        view.font_note = font.is_none().then(super::fonts::missing_note);
        match SettingsWindow::open(
            event_loop,
            &self.runtime,
            view,
            font,
            self.proxy.clone(),
            UserEvent::Repaint,
        ) {
            Ok(w) => self.settings = Some(w),
            Err(e) => {
                tracing::error!("{e}");
                self.toast(Level::Error, t!("toast.cannot_open_window"), e);
            }
        }
    }

    fn on_settings_event(&mut self, event: &WindowEvent) {
        let Some(window) = &mut self.settings else {
            return;
        };
        if let Some(request) = window.on_event(event) {
            self.on_request(request);
        }
    }

    /// Runs what the settings window asked for; anything slow goes off this thread and comes back as a
    /// [`Reply`].
    #[allow(clippy::too_many_lines)] // one arm per request
    fn on_request(&mut self, request: Request) {
        let Some(window) = &mut self.settings else {
            return;
        };
        let view = &mut window.view;
        let proxy = self.proxy.clone();
        let reply = move |r: Reply| {
            let _ = proxy.send_event(UserEvent::Reply(r));
        };
        match request {
            Request::Close => self.settings = None,
            Request::Save => {
                view.saving = true;
                let mut form = view.form.clone();
                let autostart_was = view.baseline.start_at_login;
                let path = self.paths.config.clone();
                self.runtime.spawn_blocking(move || {
                    let saved = settings::save(
                        &mut form,
                        &path,
                        &crate::config::secret::SystemLookup,
                        &settings::OsKeyring,
                    );
                    if saved.is_some()
                        && form.start_at_login != autostart_was
                        && let Err(e) = super::autostart::set(form.start_at_login)
                    {
                        form.message =
                            Some(t!("toast.cannot_change_autostart_body", error = e).into_owned());
                        form.start_at_login = autostart_was;
                    }
                    reply(Reply::Saved(Box::new(form), saved.map(Box::new)));
                });
            }
            Request::Test(i) => {
                view.tests.insert(i, Load::Running);
                let form = view.form.clone();
                self.runtime.spawn(async move {
                    let target = off_thread(move || {
                        form.test_target(i, &crate::config::secret::SystemLookup)
                    })
                    .await;
                    let result = match target {
                        Ok((provider, record, record_type)) => crate::provider::build(&provider)
                            .check(&record, record_type)
                            .await
                            .map_err(|e| e.to_string()),
                        Err(why) => Err(why),
                    };
                    reply(Reply::Tested(i, result));
                });
            }
            Request::DetectNow => {
                view.detect = Load::Running;
                let form = view.form.clone();
                self.runtime.spawn(async move {
                    let result = match form.detection() {
                        Err(e) => Err(e),
                        Ok((detect, families)) => {
                            let detector = crate::detect::Detector::from_settings(&detect);
                            let mut out = Vec::new();
                            for family in families {
                                let (sources, conclusion) = detector.report(family).await;
                                let conclusion = match conclusion {
                                    crate::detect::Detection::Known(ip) => Ok(ip),
                                    crate::detect::Detection::Unavailable(e) => Err(e),
                                };
                                out.push(Detected {
                                    family,
                                    sources,
                                    conclusion,
                                });
                            }
                            Ok(out)
                        }
                    };
                    reply(Reply::Detected(result));
                });
            }
            Request::LoadHistory => {
                view.history = Load::Running;
                let history = crate::history::History::in_dir(&self.paths.data_dir);
                self.runtime.spawn_blocking(move || {
                    reply(Reply::History(history.read().map_err(|e| e.to_string())));
                });
            }
            Request::TestAlert(i) => {
                view.alert_tests.insert(i, Load::Running);
                let form = view.form.clone();
                let config = self.paths.config.clone();
                self.runtime.spawn(async move {
                    let target = off_thread(move || {
                        form.notifier_target(i, &crate::config::secret::SystemLookup)
                    })
                    .await;
                    let result = match target {
                        Ok(n) => crate::notify::alerts::test(std::slice::from_ref(&n), &config)
                            .await
                            .pop()
                            .map_or_else(|| Err(String::new()), |(_, _, r)| r),
                        Err(e) => Err(e),
                    };
                    reply(Reply::AlertTested(i, result));
                });
            }
            Request::UpdateNow => self.on_menu(&MenuId::new(id::UPDATE)),
            Request::TogglePause => self.on_menu(&MenuId::new(id::PAUSE)),
        }
        if let Some(w) = &self.settings {
            w.request_redraw();
        }
    }

    /// Off-thread work for the settings window is done.
    fn on_reply(&mut self, event_loop: &ActiveEventLoop, reply: Reply) {
        if let Reply::Loaded(loaded) = reply {
            self.show_settings(event_loop, loaded);
            return;
        }
        let Some(window) = &mut self.settings else {
            return;
        };
        let view = &mut window.view;
        match reply {
            Reply::Loaded(_) => {}
            Reply::Saved(form, saved) => {
                view.saving = false;
                let Some(new) = saved else {
                    view.form = *form;
                    view.close_after_save = false;
                    window.request_redraw();
                    return;
                };
                view.saved(*form);
                let close = std::mem::take(&mut view.close_after_save);
                let before = crate::i18n::current();
                crate::i18n::set(new.language);
                self.ipv6 = new.ipv6;
                if self.handle.is_some() {
                    self.send(Command::Reload(new));
                } else if self.remote.is_none() {
                    self.start_engine(*new);
                }
                if close {
                    self.settings = None;
                } else if crate::i18n::current() != before
                    && let Some(w) = &self.settings
                {
                    w.set_title(&t!("window.title"));
                }
                self.relabel();
                self.refresh();
            }
            Reply::Tested(i, result) => {
                view.tests.insert(i, Load::Done(result));
            }
            Reply::Detected(result) => view.detect = Load::Done(result),
            Reply::History(result) => view.history = Load::Done(result),
            Reply::AlertTested(i, result) => {
                view.alert_tests.insert(i, Load::Done(result));
            }
        }
        if let Some(w) = &self.settings {
            w.request_redraw();
        }
    }

    #[allow(clippy::too_many_lines)] // the menu, item by item
    fn create_tray(&mut self) {
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
        // Another process's engine: driven over its endpoint (when it lets us), but its config is not ours.
        let own = self.remote.is_none();
        let drivable = self.remote.as_ref().is_none_or(|r| !r.denied);
        let pause = MenuItem::with_id(id::PAUSE, &labels.pause, drivable, None);
        let start_at_login = super::autostart::state();
        let autostart = CheckMenuItem::with_id(
            id::AUTOSTART,
            t!("menu.start_at_login"),
            start_at_login.is_ok(),
            start_at_login.is_ok_and(super::autostart::State::on),
            None,
        );
        let mut entries: Vec<&dyn tray_icon::menu::IsMenuItem> = vec![&ipv4];
        if let Some(i) = &ipv6 {
            entries.push(i);
        }
        let update = MenuItem::with_id(id::UPDATE, t!("menu.update_now"), drivable, None);
        let settings_item = MenuItem::with_id(id::SETTINGS, t!("menu.settings"), own, None);
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
        let state = model::icon_state(&self.status);
        let mut builder = TrayIconBuilder::new()
            .with_id("ddns-tray")
            .with_title(t!("tray.title"))
            .with_tooltip(model::tooltip(&self.status, self.ipv6, now))
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
        self.items = Some(Items {
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
        });
    }

    /// The language changed: every fixed label is read again from the catalogue.
    fn relabel(&self) {
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
    fn refresh(&mut self) {
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

    /// Sends a request to the daemon the tray drives; a refusal or failure becomes a toast.
    fn ask_remote(&self, request: crate::control::Request) {
        let Some(remote) = &self.remote else { return };
        let endpoint = remote.endpoint.clone();
        let toaster = self.toaster.clone();
        self.runtime.spawn(async move {
            let problem = match crate::control::Client::ask(&endpoint, request).await {
                Ok(crate::control::Reply::Error(e)) => e,
                Err(e) => e.to_string(),
                Ok(_) => return,
            };
            toaster.toast(Message {
                level: Level::Warning,
                summary: t!("toast.service_refused").into_owned(),
                body: problem,
            });
        });
    }

    fn send(&self, command: Command) {
        let Some(handle) = &self.handle else { return };
        if handle.commands.try_send(command).is_err() {
            tracing::warn!("the engine is busy or gone; the request was not sent");
        }
    }

    fn on_menu(&mut self, id: &MenuId) {
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

    fn copy(&mut self, ip: Option<std::net::IpAddr>) {
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

    fn edit_config(&self) {
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

    fn toggle_autostart(&self) {
        let on = super::autostart::state().is_ok_and(super::autostart::State::on);
        let result = super::autostart::set(!on).and_then(|()| super::autostart::state());
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

    /// Starts the engine on settings that loaded (at start, or once a config with problems was fixed).
    fn start_engine(&mut self, settings: Settings) {
        let store = match crate::store::FileStore::open(&self.paths.state_file()) {
            Ok(s) => s,
            Err(e) => {
                tracing::error!("{e}");
                self.status.config_problems = vec![e.to_string()];
                self.refresh();
                return;
            }
        };
        let notifications = settings.notifications;
        let engine = match crate::app::engine(&self.paths, settings, Box::new(store), true) {
            Ok(e) => e,
            Err(e) => {
                tracing::error!("{e}");
                self.status.config_problems = vec![e.to_string()];
                self.refresh();
                return;
            }
        };
        let (handle, commands) = engine.handle();
        let task = spawn_engine(
            &self.paths,
            &self.runtime,
            engine,
            commands,
            &handle,
            &self.proxy,
            &self.toaster,
            &self.shutdown,
            notifications,
        );
        self.status = handle.status.borrow().clone();
        self.handle = Some(handle);
        self.engine = Some(task);
        self.refresh();
    }

    /// Stops the engine (bounded), then leaves the loop.
    fn quit(&mut self) {
        self.shutdown.cancel();
        let task = self.engine.take();
        let proxy = self.proxy.clone();
        if task.is_none() {
            let _ = proxy.send_event(UserEvent::EngineStopped);
            return;
        }
        self.runtime.spawn(async move {
            if let Some(task) = task
                && tokio::time::timeout(Duration::from_secs(5), task)
                    .await
                    .is_err()
            {
                tracing::warn!("the engine did not stop within 5 s; quitting anyway");
            }
            let _ = proxy.send_event(UserEvent::EngineStopped);
        });
    }
}

impl ApplicationHandler<UserEvent> for App {
    fn new_events(&mut self, _event_loop: &ActiveEventLoop, cause: StartCause) {
        // The tray must be created once the loop runs (macOS needs the main run loop), and only once.
        if cause == StartCause::Init {
            self.create_tray();
            // Without a tray the user would have no way in: say so and show the settings instead.
            let shown = self.tray.is_some() && tray_host_present();
            if !shown {
                tracing::warn!(
                    "no system tray is shown on this desktop (on Linux it needs a StatusNotifier host: KDE, XFCE, Cinnamon; GNOME with the AppIndicator extension); ddns-tray keeps running and opens its settings window"
                );
                self.toast(
                    Level::Warning,
                    t!("toast.no_tray"),
                    t!("toast.no_tray_body"),
                );
            }
            if !shown || !self.status.config_problems.is_empty() {
                self.open_settings();
            }
        }
    }

    fn resumed(&mut self, _event_loop: &ActiveEventLoop) {}

    /// Sleeps until the next event, or until a frame the settings window asked for comes due.
    fn about_to_wait(&mut self, event_loop: &ActiveEventLoop) {
        let next = self.settings.as_mut().and_then(SettingsWindow::next_frame);
        event_loop.set_control_flow(next.map_or(ControlFlow::Wait, ControlFlow::WaitUntil));
    }

    fn user_event(&mut self, event_loop: &ActiveEventLoop, event: UserEvent) {
        match event {
            UserEvent::Status(status) => {
                self.status = *status;
                self.refresh();
                if let Some(w) = &mut self.settings {
                    w.view.status = self.status.clone();
                    w.request_redraw();
                }
            }
            UserEvent::Menu(id) => self.on_menu(&id),
            UserEvent::Quit => self.quit(),
            UserEvent::OpenSettings => self.open_settings(),
            UserEvent::Reply(reply) => self.on_reply(event_loop, reply),
            UserEvent::AccessKit(event) => {
                if let Some(w) = &mut self.settings
                    && w.id() == event.window_id
                {
                    w.on_accesskit(&event.window_event);
                }
            }
            UserEvent::Repaint(delay) => {
                if let Some(w) = &mut self.settings {
                    w.repaint_after(delay);
                }
            }
            UserEvent::EngineStopped => event_loop.exit(),
            UserEvent::Tick => {
                self.refresh();
                // "3 min ago" in the window becomes "4 min ago" too.
                if let Some(w) = &self.settings {
                    w.request_redraw();
                }
            }
        }
    }

    fn window_event(
        &mut self,
        _event_loop: &ActiveEventLoop,
        window: WindowId,
        event: WindowEvent,
    ) {
        if self.settings.as_ref().is_some_and(|w| w.id() == window) {
            self.on_settings_event(&event);
        }
    }
}

/// Runs `work` (validation that may read the keyring) on the blocking pool: neither on the UI thread nor on
/// the async workers.
async fn off_thread<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, String> + Send + 'static,
) -> Result<T, String> {
    tokio::task::spawn_blocking(work)
        .await
        .unwrap_or_else(|e| Err(e.to_string()))
}

/// The settings form for the config file at `path` (run off the UI thread: it reads the file, and the
/// keyring when `problems` asks for the config's problems to be shown at their fields).
fn load_form(path: &Path, problems: bool) -> Result<SettingsForm, String> {
    let text = match crate::fsutil::read_limited(path, crate::settings::MAX_CONFIG_BYTES) {
        Ok(None) => return Ok(SettingsForm::from_file(&config::file::ConfigFile::default())),
        Err(e) => return Err(format!("{}: {e}", path.display())),
        Ok(Some(bytes)) => String::from_utf8_lossy(&bytes).into_owned(),
    };
    let mut form = match config::file::parse(&text) {
        Ok(parsed) => {
            let mut form = SettingsForm::from_file(&parsed.file);
            if !parsed.issues.is_empty() {
                // What could not be read is not in the form: say so before a Save drops it.
                let paths: Vec<&str> = parsed
                    .issues
                    .iter()
                    .take(3)
                    .map(|i| i.path.as_str())
                    .collect();
                form.message = Some(
                    t!(
                        "save.unreadable_parts",
                        n = parsed.issues.len(),
                        paths = paths.join(", ")
                    )
                    .into_owned(),
                );
            }
            form
        }
        Err(issues) => {
            let mut form = SettingsForm::from_file(&config::file::ConfigFile::default());
            form.message = Some(
                t!(
                    "save.not_toml",
                    path = path.display(),
                    error = issues
                        .first()
                        .map(|i| i.message.lines().next().unwrap_or_default().to_owned())
                        .unwrap_or_default()
                )
                .into_owned(),
            );
            form
        }
    };
    if problems {
        // Show the problems next to their fields (validation writes nothing).
        let _ = form.validate(&crate::config::secret::SystemLookup);
    }
    Ok(form)
}

/// Starts the engine and the tasks around it on the runtime: the log and toast notifiers, the status bridge
/// to the event loop. Returns the engine's task.
#[allow(clippy::too_many_arguments)] // the parts the tray owns, passed once at start
fn spawn_engine(
    paths: &crate::app::Paths,
    runtime: &Runtime,
    engine: crate::engine::Engine,
    commands: tokio::sync::mpsc::Receiver<Command>,
    handle: &Handle,
    proxy: &EventLoopProxy<UserEvent>,
    toaster: &Toaster,
    shutdown: &CancellationToken,
    notifications: bool,
) -> JoinHandle<()> {
    let _guard = runtime.enter();
    // The log, alerts, history and metrics, as in the daemon.
    let _companions = crate::app::companions(
        paths,
        &engine,
        handle.status.clone(),
        shutdown.clone(),
        crate::app::Sinks::All,
    );
    let settings_in_force = engine.settings();
    tokio::spawn(crate::notify::desktop::run(
        engine.subscribe(),
        toaster.clone(),
        notifications,
    ));
    let token = shutdown.clone();
    let task = tokio::spawn(async move {
        engine.run(commands, token).await;
    });
    crate::app::watch_network(handle.commands.clone());
    crate::app::watch_router(handle.commands.clone(), settings_in_force);
    // The bridge: every new status goes to the event loop.
    let mut status = handle.status.clone();
    let status_proxy = proxy.clone();
    tokio::spawn(async move {
        while status.changed().await.is_ok() {
            let snapshot = status.borrow_and_update().clone();
            if status_proxy
                .send_event(UserEvent::Status(Box::new(snapshot)))
                .is_err()
            {
                break;
            }
        }
        // The engine is gone: leave the loop too.
        let _ = status_proxy.send_event(UserEvent::EngineStopped);
    });
    task
}

/// The event loop, as an accessory app on macOS (a menu-bar item, no Dock icon).
fn build_event_loop() -> Result<EventLoop<UserEvent>, winit::error::EventLoopError> {
    let mut builder = EventLoop::<UserEvent>::with_user_event();
    #[cfg(target_os = "macos")]
    {
        use winit::platform::macos::{ActivationPolicy, EventLoopBuilderExtMacOS};
        builder.with_activation_policy(ActivationPolicy::Accessory);
    }
    builder.build()
}

/// Without a display: the daemon, until Ctrl-C / SIGTERM.
fn run_headless(runtime: &Runtime, paths: &Paths, settings: Settings) -> Result<(), String> {
    let shutdown = CancellationToken::new();
    let stop = shutdown.clone();
    runtime.block_on(async move {
        tokio::spawn(async move {
            let mut signals = crate::app::signals::Signals::new();
            while signals.next().await == crate::app::signals::Signal::Reload {}
            stop.cancel();
        });
        let control = crate::control::Endpoint::user(&paths.data_dir);
        crate::app::daemon(paths, settings, shutdown, Some(control), |_| {}).await
    })
}

/// A running system service (or this user's own daemon) runs the engine: the tray shows and drives it instead
/// of starting a second one. Returns it and its status, or nothing when no daemon runs.
fn find_remote(
    runtime: &Runtime,
    proxy: &EventLoopProxy<UserEvent>,
    shutdown: &CancellationToken,
    paths: &Paths,
) -> (Option<Remote>, Option<Status>) {
    let found = runtime.block_on(async {
        // Longer than the client's own retries of a busy daemon (4 s).
        tokio::time::timeout(
            Duration::from_secs(6),
            crate::control::find(&paths.data_dir),
        )
        .await
        .unwrap_or(Ok(None))
    });
    match found {
        Ok(Some((endpoint, status))) => {
            let system = endpoint == crate::control::Endpoint::system();
            tracing::info!("a ddns-tray daemon runs at {endpoint}; the tray shows and drives it");
            spawn_remote(runtime, proxy, shutdown, endpoint.clone(), system);
            let remote = Remote {
                endpoint,
                system,
                denied: false,
            };
            (Some(remote), Some(status))
        }
        Err(e) => {
            // The service runs but keeps this user out: say so, and start no second engine next to it.
            tracing::warn!("{e}");
            let status = Status {
                last_error: Some(e.to_string()),
                ..Status::default()
            };
            let remote = Remote {
                endpoint: crate::control::Endpoint::system(),
                system: true,
                denied: true,
            };
            (Some(remote), Some(status))
        }
        Ok(None) => (None, None),
    }
}

/// Shows and follows the status of the daemon at `endpoint`: a watch connection streams every change (no
/// polling); when the daemon goes away the tray says so and reconnects with a growing pause (1 s to 15 s).
fn spawn_remote(
    runtime: &Runtime,
    proxy: &EventLoopProxy<UserEvent>,
    shutdown: &CancellationToken,
    endpoint: crate::control::Endpoint,
    system: bool,
) {
    use crate::control::{Client, Reply, Request};
    let proxy = proxy.clone();
    let token = shutdown.clone();
    runtime.spawn(async move {
        let gone = if system {
            "the ddns-tray system service is not running"
        } else {
            "the ddns-tray daemon this tray shows is not running"
        };
        let mut pause = Duration::from_secs(1);
        loop {
            let followed = async {
                let mut client = Client::connect(&endpoint).await?;
                client.send(Request::Watch).await?;
                while let Some(reply) = client.next().await? {
                    if let Reply::Status(status) = reply {
                        pause = Duration::from_secs(1);
                        if proxy.send_event(UserEvent::Status(status)).is_err() {
                            break;
                        }
                    }
                }
                Ok::<(), crate::control::ClientError>(())
            };
            let ended = tokio::select! {
                () = token.cancelled() => return,
                r = followed => r,
            };
            if let Err(e) = ended {
                tracing::debug!("{e}");
            }
            let status = Status {
                last_error: Some(gone.into()),
                ..Status::default()
            };
            if proxy
                .send_event(UserEvent::Status(Box::new(status)))
                .is_err()
            {
                return;
            }
            tokio::select! {
                () = token.cancelled() => return,
                () = tokio::time::sleep(pause) => {}
            }
            pause = (pause * 2).min(Duration::from_secs(15));
        }
    });
}

/// Whether a tray host will show the icon. On Linux that is a `StatusNotifierWatcher` on the session bus
/// (without one, ksni registers nothing and the icon is invisible); elsewhere the OS always has a tray.
#[cfg(target_os = "linux")]
fn tray_host_present() -> bool {
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
fn tray_host_present() -> bool {
    true
}

/// Why the tray app could not run.
#[derive(Debug)]
pub enum TrayError {
    /// No display, and the config cannot be loaded: its problems (the headless daemon needs a valid one).
    Config(Vec<String>),
    Other(String),
}

/// The tray app for `ddns-tray` with no command: loads the config (one that cannot be loaded does not stop
/// the tray: it shows the problems and opens the settings on them) and runs until Quit.
#[must_use]
pub fn start(paths: &Paths) -> crate::cli::Exit {
    let loaded = paths.load_config().map(|(_, s)| s).map_err(|e| match e {
        crate::settings::LoadError::Invalid { issues, .. } => {
            issues.iter().map(ToString::to_string).collect()
        }
        other => vec![other.to_string()],
    });
    match run(paths, loaded) {
        Ok(()) => crate::cli::Exit::Ok,
        Err(TrayError::Config(problems)) => {
            for p in &problems {
                eprintln!("{p}");
            }
            eprintln!(
                "{}",
                t!(
                    "cli.problems",
                    n = problems.len(),
                    path = paths.config.display()
                )
            );
            crate::cli::Exit::Invalid
        }
        Err(TrayError::Other(e)) => {
            crate::cli::print_error(&e);
            crate::cli::Exit::Failed
        }
    }
}

/// Runs the tray app until Quit. Without a display (no X11 or Wayland) it runs the headless daemon instead.
/// With a config that cannot be loaded (`Err` with its problems) it starts anyway: a red icon, the problems
/// in the menu and the log, and the settings window open on them; the engine starts once they are fixed.
pub fn run(paths: &Paths, loaded: Result<Settings, Vec<String>>) -> Result<(), TrayError> {
    // One worker besides the event loop's thread: the engine's work is waiting on the network.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .map_err(|e| TrayError::Other(e.to_string()))?;
    let listener = match super::instance::claim(&paths.data_dir, &runtime) {
        Ok(super::instance::Instance::Signalled) => {
            println!("{}", t!("cli.already_running"));
            return Ok(());
        }
        Ok(super::instance::Instance::First(listener)) => Some(listener),
        Err(e) => {
            tracing::warn!("cannot check for another running ddns-tray ({e}); going on");
            None
        }
    };
    let event_loop = match build_event_loop() {
        Ok(l) => l,
        Err(e) => {
            tracing::warn!(
                "no display for the tray ({e}); running headless. Use `ddns-tray run` on servers."
            );
            let settings = loaded.map_err(TrayError::Config)?;
            return run_headless(&runtime, paths, settings).map_err(TrayError::Other);
        }
    };
    event_loop.set_control_flow(ControlFlow::Wait);
    let proxy = event_loop.create_proxy();

    let ipv6 = loaded.as_ref().is_ok_and(|s| s.ipv6);
    let toaster = Toaster::start();
    let shutdown = CancellationToken::new();
    // Whatever runs the engine, SIGTERM/SIGINT (logout, `kill`) quit as if from the menu.
    let signal_proxy = proxy.clone();
    runtime.spawn(async move {
        // A reload (SIGHUP) means nothing to the tray: its own engine reads the file on Save.
        let mut signals = crate::app::signals::Signals::new();
        while signals.next().await == crate::app::signals::Signal::Reload {}
        let _ = signal_proxy.send_event(UserEvent::Quit);
    });
    let (remote, found_status) = find_remote(&runtime, &proxy, &shutdown, paths);
    let status = match (found_status, &loaded) {
        (Some(s), _) => s,
        (None, Err(problems)) => {
            for p in problems {
                tracing::error!("{p}");
            }
            tracing::error!(
                "the config {} has {} problem(s); fix them in Settings (the updates start once they are fixed)",
                paths.config.display(),
                problems.len()
            );
            Status {
                config_problems: problems.clone(),
                ..Status::default()
            }
        }
        (None, Ok(_)) => Status::default(),
    };
    if let Some(listener) = listener {
        let open_proxy = proxy.clone();
        listener.serve(&runtime, move || {
            let _ = open_proxy.send_event(UserEvent::OpenSettings);
        });
    }
    spawn_ticks(&runtime, proxy.clone());
    let menu_proxy = proxy.clone();
    MenuEvent::set_event_handler(Some(move |event: MenuEvent| {
        let _ = menu_proxy.send_event(UserEvent::Menu(event.id));
    }));

    let mut app = App {
        runtime,
        handle: None,
        remote,
        paths: paths.clone(),
        ipv6,
        toaster,
        shutdown,
        engine: None,
        proxy,
        status,
        tray: None,
        items: None,
        shown_icon: None,
        clipboard: None,
        settings: None,
        opening: false,
    };
    if let (true, Ok(settings)) = (app.remote.is_none(), loaded) {
        app.start_engine(settings);
    }
    let result = event_loop
        .run_app(&mut app)
        .map_err(|e| TrayError::Other(e.to_string()));
    app.settings = None;
    app.shutdown.cancel();
    drop(app.tray.take());
    app.runtime.shutdown_timeout(Duration::from_secs(2));
    result
}
