//! The tray app: one winit event loop on the main thread owns the tray icon and its menu; the engine runs on
//! tokio threads. They meet only here:
//! - menu clicks arrive through `MenuEvent::set_event_handler`, which forwards the item id through the
//!   `EventLoopProxy` (no polling; menu items hold `Rc`, so only ids cross threads);
//! - a bridge task forwards each new engine [`Status`] through the same proxy;
//! - commands go to the engine over its `mpsc` channel.
//!
//! Toasts come from the engine's events through [`crate::notify::desktop`], off this thread.

mod engine;
mod menu;
mod requests;

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

use crate::app::Paths;
use crate::config;
use crate::engine::{Command, Handle, Status};
use crate::i18n::t;
use crate::notify::desktop::Toaster;
use crate::notify::status::{self as model, IconState};
use crate::notify::{Level, Message};
use crate::settings::Settings;
use crate::ui::pages::{Detected, Load, Request, View};
use crate::ui::settings::{self, SettingsForm};
use crate::ui::window::SettingsWindow;

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

/// What the settings window opens with.
#[derive(Debug)]
pub struct Loaded {
    pub form: SettingsForm,
    pub font: Option<crate::ui::fonts::Found>,
    /// Why Save is not offered (the followed daemon does not let this user change its config).
    pub read_only: Option<String>,
}

/// What the settings window's off-thread work (files, keyring, network) hands back.
#[derive(Debug)]
pub enum Reply {
    /// The config (the tray's file, or the followed daemon's) read into a form, a CJK font, and why the
    /// form cannot be saved (a daemon that does not let this user change it), for the window about to open.
    Loaded(Result<Box<Loaded>, String>),
    /// The followed daemon wrote the form and reloaded: its config as it reads now.
    SavedRemote(Box<SettingsForm>),
    /// A Save finished: the form (with its problems, or with secrets moved to the keyring) and, when it
    /// was written, the settings to reload.
    Saved(Box<SettingsForm>, Option<Box<Settings>>),
    /// "Test" on provider `n`.
    Tested(usize, Result<String, String>),
    Detected(Result<Vec<Detected>, String>),
    History(Result<Vec<crate::history::Entry>, String>),
    /// The welcome's Test: the domains its credential sees.
    WelcomeZones(Result<Option<Vec<String>>, String>),
    /// The welcome's import: the form and what was left out.
    WelcomeImported(Result<Box<(SettingsForm, String)>, String>),
    /// "Send test" on notifier `n`.
    AlertTested(usize, Result<String, String>),
    /// "Run unattended" (`to_service`) or "Stop running unattended" ended: what it reported, or why not.
    Unattended {
        to_service: bool,
        result: Result<String, String>,
    },
}

/// How often the relative times in the menu and tooltip are brought up to date.
const TICK_EVERY: Duration = Duration::from_mins(1);

/// Whatever runs the engine, SIGTERM/SIGINT (logout, `kill`) quit as if from the menu.
fn spawn_quit_on_signal(runtime: &tokio::runtime::Runtime, proxy: EventLoopProxy<UserEvent>) {
    runtime.spawn(async move {
        // A reload (SIGHUP) means nothing to the tray: its own engine reads the file on Save.
        let mut signals = crate::app::signals::Signals::new();
        while signals.next().await == crate::app::signals::Signal::Reload {}
        let _ = proxy.send_event(UserEvent::Quit);
    });
}

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
    /// Ends the engine the tray shows now (its own, or its watch of a daemon): a child of `shutdown`,
    /// replaced when "Run unattended" switches between them.
    driving: CancellationToken,
    /// Engines stopped by such a switch whose end has not been heard yet (their end is not the app's).
    retired: usize,
    /// What "Run unattended" (or stopping it) reported, for the window that opens after the switch.
    unattended_note: Option<Result<String, String>>,
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
    /// No records yet (in the tray's config, or the followed service's): the window opens at start, on the
    /// welcome.
    first_run: bool,
}

#[allow(clippy::wildcard_imports)]
use {engine::*, menu::*};

impl App {
    fn toast(&self, level: Level, summary: impl Into<String>, body: impl Into<String>) {
        self.toaster.toast(Message {
            level,
            summary: summary.into(),
            body: body.into(),
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
            if !shown || !self.status.config_problems.is_empty() || self.first_run {
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
            // An engine retired by a switch ended: the tray goes on with the other.
            UserEvent::EngineStopped if self.retired > 0 && !self.shutdown.is_cancelled() => {
                self.retired -= 1;
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

/// No records yet, in the followed service's status or the tray's own config: the window opens at start.
fn first_run(found: Option<&Status>, loaded: &Result<Settings, Vec<String>>) -> bool {
    match (found, loaded) {
        (Some(s), _) => s.records.is_empty() && s.config_problems.is_empty(),
        (None, Ok(settings)) => settings.records.is_empty(),
        (None, Err(_)) => false,
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
    let listener = match crate::ui::instance::claim(&paths.data_dir, &runtime) {
        Ok(crate::ui::instance::Instance::Signalled) => {
            println!("{}", t!("cli.already_running"));
            return Ok(());
        }
        Ok(crate::ui::instance::Instance::First(listener)) => Some(listener),
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
    spawn_quit_on_signal(&runtime, proxy.clone());
    let driving = shutdown.child_token();
    let (remote, found_status) = find_remote(&runtime, &proxy, &driving, paths, &toaster);
    let first_run = first_run(found_status.as_ref(), &loaded);
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
        driving,
        retired: 0,
        unattended_note: None,
        engine: None,
        proxy,
        status,
        tray: None,
        items: None,
        shown_icon: None,
        clipboard: None,
        settings: None,
        opening: false,
        first_run,
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
