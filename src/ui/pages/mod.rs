//! The settings window's pages, drawn by [`View::ui`] — the one function the real window and the kittest
//! tests both drive. A sidebar picks the page: **Status** (what the engine is doing), **Records**,
//! **Providers** (added kind first), **Detection**, **Alerts**, **History**, **General**.
//!
//! The view never does I/O: what needs the disk, the keyring, the network or the engine is asked of the app
//! as a [`Request`], which runs it off the UI thread and hands the answer back (`View::tests`, `history`,
//! `detect`, …). Every string comes from the catalogues (`i18n::t!`).

mod detection;
mod dialog;
mod entries;
mod general;
mod history;
mod records;
mod status;
mod welcome;
mod widgets;

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;
use std::time::SystemTime;

use egui::{Color32, RichText, Ui};

use super::settings::{NotifierRow, ProviderRow, RecordRow, SettingsForm, SourceRow};
use crate::config::Family;
use crate::detect::SourceReport;
use crate::engine::{Phase, Status};
use crate::history::Entry;
use crate::i18n::{Language, t};
use crate::notify::status as model;
use crate::provider::{KINDS, KindInfo, kind_info};

const RED: Color32 = Color32::from_rgb(220, 60, 60);
const GREEN: Color32 = Color32::from_rgb(60, 170, 90);
const ORANGE: Color32 = Color32::from_rgb(230, 150, 40);

/// The pages, in sidebar order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Page {
    #[default]
    Status,
    Records,
    Providers,
    Detection,
    Alerts,
    History,
    General,
}

impl Page {
    pub const ALL: [Page; 7] = [
        Page::Status,
        Page::Records,
        Page::Providers,
        Page::Detection,
        Page::Alerts,
        Page::History,
        Page::General,
    ];

    #[must_use]
    pub fn title(self) -> String {
        match self {
            Page::Status => t!("page.status"),
            Page::Records => t!("page.records"),
            Page::Providers => t!("page.providers"),
            Page::Detection => t!("page.detection"),
            Page::Alerts => t!("page.alerts"),
            Page::History => t!("page.history"),
            Page::General => t!("page.general"),
        }
        .into_owned()
    }
}

/// What the view asks of the app.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Request {
    /// Validate, store secrets, write the file, reload.
    Save,
    /// Close the window (changes were saved or discarded).
    Close,
    /// Test provider `n` against its API (read-only).
    Test(usize),
    UpdateNow,
    TogglePause,
    /// Ask every detection source of the form's settings.
    DetectNow,
    /// Read the history file.
    LoadHistory,
    /// The welcome's Test: the domains its credential sees (`View::welcome_zones` takes the answer).
    WelcomeZones,
    /// "Import from another client…" (`View::welcome_imported` takes the answer).
    WelcomeImport,
    /// Send a test message through notifier `n` (as filled in, saved or not).
    TestAlert(usize),
    /// General's "Run unattended": the saved config moves into the system service (rights asked).
    RunUnattended,
    /// General's "Stop running unattended": the service's config comes back to this tray.
    StopUnattended,
}

/// Who runs the engine the window shows, for General's "Run unattended".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RunsAs {
    /// The tray itself: it may hand its config to the system service.
    #[default]
    Tray,
    /// The system service, which lets this user change it: it may take the config back.
    Service,
    /// Another daemon, or a service that keeps this user out: nothing to offer.
    Other,
}

/// Something the app fetches for the view.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Load<T> {
    #[default]
    Idle,
    Running,
    Done(Result<T, String>),
}

/// One family's "Detect now" answer.
#[derive(Debug, Clone)]
pub struct Detected {
    pub family: Family,
    pub sources: Vec<SourceReport>,
    pub conclusion: Result<IpAddr, String>,
    /// IPv4: why DDNS may not reach this host, from a `router` source's answer (see `detect::reach`).
    pub reach: Option<crate::detect::reach::Reach>,
}

/// A dialog over the page.
#[derive(Debug, Clone)]
enum Dialog {
    /// Adding (`index: None`) or editing a record.
    Record {
        index: Option<usize>,
        row: RecordRow,
        problem: Option<String>,
    },
    /// Adding a provider or a notifier: the kind first (`row.kind` empty), then its fields; or editing one.
    Provider {
        side: Side,
        index: Option<usize>,
        search: String,
        row: ProviderRow,
        /// A notifier's alerts (empty = the default three) and hourly limit.
        events: Vec<String>,
        max_per_hour: String,
        problem: Option<String>,
    },
}

/// Which list a kind-first dialog edits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Side {
    Provider,
    Notifier,
}

impl Side {
    fn kinds(self) -> &'static [KindInfo] {
        match self {
            Side::Provider => KINDS,
            Side::Notifier => crate::notifier::NOTIFY_KINDS,
        }
    }

    fn info(self, kind: &str) -> Option<&'static KindInfo> {
        self.kinds().iter().find(|k| k.kind == kind)
    }

    /// Where Save's problems about entry `i` are filed.
    fn path(self, i: usize) -> String {
        match self {
            Side::Provider => format!("provider[{i}]"),
            Side::Notifier => format!("notify[{i}]"),
        }
    }
}

/// Everything the window shows.
pub struct View {
    pub page: Page,
    pub form: SettingsForm,
    /// The form as last loaded or saved: changes are the difference.
    pub baseline: SettingsForm,
    /// The engine's status (the tray's copy).
    pub status: Status,
    /// Update now / Pause reach an engine.
    pub drivable: bool,
    pub history: Load<Vec<Entry>>,
    pub detect: Load<Vec<Detected>>,
    /// Test results by provider row.
    pub tests: BTreeMap<usize, Load<String>>,
    /// Test results by notifier row.
    pub alert_tests: BTreeMap<usize, Load<String>>,
    /// A Save is running: the form is read-only until it answers.
    pub saving: bool,
    /// The window's close button was pressed with unsaved changes.
    pub close_prompt: bool,
    /// Close once the running Save succeeds.
    pub close_after_save: bool,
    /// A line about the fonts (no CJK font found), shown in General.
    pub font_note: Option<String>,
    /// Why this config cannot be saved from here (the followed service does not let this user change it):
    /// Save is off and the reason is shown beside it.
    pub read_only: Option<String>,
    /// Who runs the engine (General offers to run unattended, or to stop).
    pub runs_as: RunsAs,
    /// "Run unattended" or stopping it: running, or what it reported.
    pub unattended: Load<String>,
    /// The welcome was just saved: the Status page offers to run unattended too.
    pub offer_unattended: bool,
    dialog: Option<Dialog>,
    /// The first-run welcome, shown instead of the pages while it runs.
    welcome: Option<welcome::Welcome>,
    /// Secret fields shown in clear ("Show").
    reveal: BTreeSet<String>,
    search_focus: bool,
}

impl View {
    #[must_use]
    pub fn new(form: SettingsForm, status: Status) -> Self {
        let page = if form.providers.is_empty() {
            Page::Providers
        } else {
            Page::Status
        };
        Self {
            page,
            baseline: comparable(&form),
            form,
            status,
            drivable: true,
            history: Load::Idle,
            detect: Load::Idle,
            tests: BTreeMap::new(),
            alert_tests: BTreeMap::new(),
            saving: false,
            close_prompt: false,
            close_after_save: false,
            font_note: None,
            read_only: None,
            runs_as: RunsAs::Tray,
            unattended: Load::Idle,
            offer_unattended: false,
            dialog: None,
            welcome: None,
            reveal: BTreeSet::new(),
            search_focus: false,
        }
    }

    /// The form differs from what was loaded or last saved.
    #[must_use]
    pub fn dirty(&self) -> bool {
        comparable(&self.form) != self.baseline
    }

    /// A Save succeeded with `form` (secrets moved to the keyring): it is the new baseline.
    pub fn saved(&mut self, form: SettingsForm) {
        self.baseline = comparable(&form);
        self.form = form;
        self.welcome_saved();
    }

    /// The window's close button: closes at once, or asks first when there are unsaved changes.
    pub fn close_requested(&mut self) -> Option<Request> {
        // Nothing can be saved from a read-only window: no question to ask.
        if self.dirty() && self.read_only.is_none() {
            self.close_prompt = true;
            None
        } else {
            Some(Request::Close)
        }
    }

    /// Draws the window; returns what the user asked for.
    #[allow(clippy::too_many_lines)] // one page, drawn top to bottom
    pub fn ui(&mut self, ui: &mut Ui) -> Option<Request> {
        let mut request = None;
        let now = SystemTime::now();
        // Ctrl+1 … Ctrl+7 (⌘ on macOS) go to a page; Tab moves between fields (egui).
        let keys = [
            egui::Key::Num1,
            egui::Key::Num2,
            egui::Key::Num3,
            egui::Key::Num4,
            egui::Key::Num5,
            egui::Key::Num6,
            egui::Key::Num7,
        ];
        if self.dialog.is_none()
            && let Some(page) = ui.input(|i| {
                keys.iter()
                    .position(|k| i.modifiers.command && i.key_pressed(*k))
                    .map(|n| Page::ALL[n])
            })
            && page != self.page
        {
            self.page = page;
            if page == Page::History && self.history == Load::Idle {
                self.history = Load::Running;
                request = Some(Request::LoadHistory);
            }
        }
        egui::Panel::left("pages")
            .resizable(false)
            .exact_size(150.0)
            .show(ui, |ui| {
                ui.add_space(8.0);
                ui.heading(t!("tray.title"));
                ui.add_space(8.0);
                for page in Page::ALL {
                    let title = page.title();
                    let selected = self.page == page;
                    if ui
                        .add_sized(
                            [ui.available_width(), 28.0],
                            egui::Button::selectable(selected, title),
                        )
                        .on_hover_text(format!(
                            "{}+{}",
                            if cfg!(target_os = "macos") {
                                "⌘"
                            } else {
                                "Ctrl"
                            },
                            Page::ALL.iter().position(|p| *p == page).unwrap_or(0) + 1
                        ))
                        .clicked()
                        && (!selected || self.welcome.is_some())
                    {
                        self.page = page;
                        self.welcome = None;
                        if page == Page::History && self.history == Load::Idle {
                            self.history = Load::Running;
                            request = Some(Request::LoadHistory);
                        }
                    }
                }
            });
        egui::Panel::bottom("buttons").show(ui, |ui| {
            ui.add_space(4.0);
            ui.horizontal(|ui| {
                let dirty = self.dirty();
                if ui
                    .add_enabled(
                        !self.saving && self.read_only.is_none(),
                        egui::Button::new(t!("button.save")),
                    )
                    .on_disabled_hover_text(self.read_only.clone().unwrap_or_default())
                    .clicked()
                {
                    request = Some(Request::Save);
                }
                if ui
                    .add_enabled(
                        dirty && !self.saving,
                        egui::Button::new(t!("button.revert")),
                    )
                    .on_hover_text(t!("button.revert_help"))
                    .clicked()
                {
                    let keep = (self.form.keyring_entries.clone(), self.form.start_at_login);
                    self.form = self.baseline.clone();
                    (self.form.keyring_entries, _) = keep;
                }
                if self.saving {
                    ui.spinner();
                    ui.label(t!("save.saving"));
                } else if dirty {
                    ui.colored_label(ORANGE, t!("save.unsaved"));
                }
                if let Some(m) = &self.form.message {
                    ui.label(m);
                }
            });
            ui.add_space(4.0);
        });
        egui::CentralPanel::default().show(ui, |ui| {
            egui::ScrollArea::vertical()
                .auto_shrink([false, false])
                .show(ui, |ui| {
                    ui.add_enabled_ui(!self.saving, |ui| {
                        let asked = match self.page {
                            _ if self.welcome.is_some() => self.welcome_ui(ui),
                            Page::Status => self.status_page(ui, now),
                            Page::Records => self.records_page(ui),
                            Page::Providers => self.providers_page(ui),
                            Page::Detection => self.detection_page(ui),
                            Page::Alerts => self.alerts_page(ui),
                            Page::History => self.history_page(ui),
                            Page::General => self.general_page(ui),
                        };
                        if asked.is_some() {
                            request = asked;
                        }
                    });
                });
        });
        if let Some(r) = self.dialog_ui(ui) {
            request = Some(r);
        }
        if self.close_prompt {
            let modal = egui::Modal::new(ui.scope_id().with("unsaved")).show(ui.ctx(), |ui| {
                ui.set_max_width(360.0);
                ui.heading(t!("close.title"));
                ui.label(t!("close.body"));
                ui.add_space(8.0);
                let mut chosen = None;
                ui.horizontal(|ui| {
                    if ui.button(t!("close.save")).clicked() {
                        chosen = Some(Request::Save);
                    }
                    if ui.button(t!("close.discard")).clicked() {
                        chosen = Some(Request::Close);
                    }
                    if ui.button(t!("close.keep")).clicked() {
                        self.close_prompt = false;
                    }
                });
                chosen
            });
            if modal.should_close() {
                self.close_prompt = false;
            }
            if let Some(r) = modal.inner {
                self.close_prompt = false;
                self.close_after_save = r == Request::Save;
                request = Some(r);
            }
        }
        request
    }
}

#[allow(clippy::wildcard_imports)]
use {detection::*, dialog::*, entries::*, records::*, widgets::*};

#[cfg(test)]
mod tests;
