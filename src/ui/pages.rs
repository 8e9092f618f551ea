//! The settings window's pages, drawn by [`View::ui`] — the one function the real window and the kittest
//! tests both drive. A sidebar picks the page: **Status** (what the engine is doing), **Records**,
//! **Providers** (added kind first), **Detection**, **Alerts**, **History**, **General**.
//!
//! The view never does I/O: what needs the disk, the keyring, the network or the engine is asked of the app
//! as a [`Request`], which runs it off the UI thread and hands the answer back (`View::tests`, `history`,
//! `detect`, …). Every string comes from the catalogues (`i18n::t!`).

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;
use std::time::SystemTime;

use egui::{Color32, RichText, Ui};

use super::settings::{NotifierRow, ProviderRow, RecordRow, SOURCE_KINDS, SettingsForm, SourceRow};
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
    /// Send a test message through notifier `n` (as filled in, saved or not).
    TestAlert(usize),
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

    /// A kind's name, in the language in use (product names stay as they are).
    fn title(self, k: &KindInfo) -> String {
        let prefix = match self {
            Side::Provider => "kind_title",
            Side::Notifier => "notify_title",
        };
        translated(&format!("{prefix}.{}", k.kind), k.title)
    }

    /// What a kind needs, in the language in use.
    fn credential(self, k: &KindInfo) -> String {
        match self {
            Side::Provider => translated(&format!("kinds.{}", k.kind), k.credential),
            Side::Notifier => translated(&format!("notify_kinds.{}", k.kind), k.credential),
        }
    }

    fn help(self, kind: &str, f: &crate::provider::FieldInfo) -> String {
        match self {
            Side::Provider => translated(&format!("field_help.{}", f.name), f.help),
            Side::Notifier => translated(&format!("notify_help.{kind}.{}", f.name), f.help),
        }
    }
}

/// `key` from the catalogue, or `english` when it has none.
fn translated(key: &str, english: &str) -> String {
    let text = t!(key);
    if text == key {
        english.to_owned()
    } else {
        text.into_owned()
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
    dialog: Option<Dialog>,
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
            dialog: None,
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
    }

    /// The window's close button: closes at once, or asks first when there are unsaved changes.
    pub fn close_requested(&mut self) -> Option<Request> {
        if self.dirty() {
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
                        && !selected
                    {
                        self.page = page;
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
                    .add_enabled(!self.saving, egui::Button::new(t!("button.save")))
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

    #[allow(clippy::too_many_lines)] // one page, drawn top to bottom
    fn status_page(&mut self, ui: &mut Ui, now: SystemTime) -> Option<Request> {
        let mut request = None;
        let status = &self.status;
        ui.heading(t!("page.status"));
        ui.add_space(4.0);
        ui.horizontal(|ui| {
            if ui
                .add_enabled(self.drivable, egui::Button::new(t!("menu.update_now")))
                .clicked()
            {
                request = Some(Request::UpdateNow);
            }
            let pause = if status.paused {
                t!("menu.resume")
            } else {
                t!("menu.pause")
            };
            if ui
                .add_enabled(self.drivable, egui::Button::new(pause))
                .clicked()
            {
                request = Some(Request::TogglePause);
            }
            let (colour, state) = match model::icon_state(status) {
                model::IconState::Ok => (GREEN, t!("state.ok")),
                model::IconState::Updating => (ORANGE, t!("state.updating")),
                model::IconState::Failing => (RED, t!("state.failing")),
                model::IconState::Paused => (Color32::GRAY, t!("state.paused")),
                model::IconState::Idle => (Color32::GRAY, t!("state.idle")),
            };
            ui.colored_label(colour, RichText::new(state).strong());
        });
        ui.add_space(6.0);
        let labels = model::menu_labels(status, self.form.ipv6 || status.ipv6.is_some(), now);
        egui::Grid::new("addresses")
            .num_columns(2)
            .spacing([16.0, 6.0])
            .show(ui, |ui| {
                ui.label(t!("status.ipv4"));
                ui.monospace(labels.ipv4.split_once(": ").map_or("", |(_, v)| v));
                ui.end_row();
                if let Some(v6) = &labels.ipv6 {
                    ui.label(t!("status.ipv6"));
                    ui.monospace(v6.split_once(": ").map_or("", |(_, v)| v));
                    ui.end_row();
                }
                ui.label(t!("status.last_update"));
                ui.label(status.last_update.map_or_else(
                    || t!("status.never").into_owned(),
                    |at| model::when(at, now),
                ));
                ui.end_row();
                ui.label(t!("status.last_check"));
                ui.label(status.last_check.map_or_else(
                    || t!("status.never").into_owned(),
                    |at| model::when(at, now),
                ));
                ui.end_row();
                ui.label(t!("status.network"));
                ui.label(model::network_events(&status.network_events));
                ui.end_row();
            });
        for problem in status
            .config_problems
            .iter()
            .chain(&status.store_error)
            .chain(status.detect_errors.values())
        {
            ui.colored_label(RED, problem);
        }
        ui.add_space(10.0);
        ui.heading(t!("page.records"));
        if status.records.is_empty() {
            ui.label(t!("status.no_records"));
            if ui.link(t!("status.add_first")).clicked() {
                self.page = if self.form.providers.is_empty() {
                    Page::Providers
                } else {
                    Page::Records
                };
            }
            return request;
        }
        table(
            ui,
            "records-status",
            &[
                t!("records.name"),
                t!("records.provider"),
                t!("status.published"),
                t!("status.state"),
                t!("status.updated"),
                t!("status.next"),
                t!("status.error"),
            ],
            |ui| {
                for r in &status.records {
                    ui.label(format!("{} {}", r.name, r.record_type));
                    let line = r
                        .line
                        .as_ref()
                        .map(|l| format!(" [{l}]"))
                        .unwrap_or_default();
                    ui.label(format!("{}{line}", r.provider));
                    ui.monospace(
                        r.published
                            .map_or_else(|| "–".to_owned(), |ip| ip.to_string()),
                    );
                    let (colour, text) = match r.phase {
                        Phase::Ok => (GREEN, t!("state.ok").into_owned()),
                        Phase::Pending => (Color32::GRAY, t!("state.pending").into_owned()),
                        Phase::Failing => {
                            (ORANGE, t!("state.failing_n", n = r.failures).into_owned())
                        }
                        Phase::Stopped => (RED, t!("state.stopped").into_owned()),
                    };
                    ui.colored_label(colour, text);
                    ui.label(
                        r.published_at
                            .map_or_else(|| "–".to_owned(), |at| model::when(at, now)),
                    );
                    ui.label(
                        r.next_attempt
                            .map_or_else(|| "–".to_owned(), |at| model::when(at, now)),
                    );
                    match &r.last_error {
                        Some(e) => {
                            ui.colored_label(RED, model::shorten(e, 60))
                                .on_hover_text(e);
                        }
                        None => {
                            ui.label("–");
                        }
                    }
                    ui.end_row();
                }
            },
        );
        request
    }

    #[allow(clippy::too_many_lines)] // one page, drawn top to bottom
    fn records_page(&mut self, ui: &mut Ui) -> Option<Request> {
        ui.heading(t!("page.records"));
        ui.label(t!("records.intro"));
        ui.add_space(6.0);
        let errors = &self.form.errors;
        let mut edit = None;
        let mut remove = None;
        if self.form.records.is_empty() {
            ui.label(t!("records.none"));
        } else {
            table(
                ui,
                "records",
                &[
                    t!("records.name"),
                    t!("records.type"),
                    t!("records.provider"),
                    t!("records.ttl"),
                    t!("records.line"),
                    "".into(),
                ],
                |ui| {
                    for (i, r) in self.form.records.iter().enumerate() {
                        ui.label(&r.name);
                        ui.label(if r.record_type.is_empty() {
                            t!("records.type_auto").into_owned()
                        } else {
                            r.record_type.clone()
                        });
                        ui.label(&r.provider);
                        ui.label(if r.ttl.is_empty() {
                            t!("records.ttl_default").into_owned()
                        } else {
                            r.ttl.clone()
                        });
                        ui.label(if r.line.is_empty() { "–" } else { &r.line });
                        ui.horizontal(|ui| {
                            if ui
                                .button(t!("button.edit"))
                                .on_hover_text(&r.name)
                                .clicked()
                            {
                                edit = Some(i);
                            }
                            if ui.button(t!("button.remove")).clicked() {
                                remove = Some(i);
                            }
                        });
                        ui.end_row();
                        let problems = entry_errors(errors, &format!("record[{i}]"));
                        if !problems.is_empty() {
                            ui.label("");
                            ui.colored_label(RED, problems.join("\n"));
                            ui.end_row();
                        }
                    }
                },
            );
        }
        ui.add_space(6.0);
        if ui.button(t!("records.add")).clicked() {
            self.dialog = Some(Dialog::Record {
                index: None,
                row: RecordRow {
                    provider: self
                        .form
                        .providers
                        .first()
                        .map(|p| p.name.clone())
                        .unwrap_or_default(),
                    ..RecordRow::default()
                },
                problem: None,
            });
        }
        if let Some(i) = edit {
            self.dialog = Some(Dialog::Record {
                index: Some(i),
                row: self.form.records[i].clone(),
                problem: None,
            });
        }
        if let Some(i) = remove {
            self.form.records.remove(i);
            self.form.errors.clear();
        }
        None
    }

    fn providers_page(&mut self, ui: &mut Ui) -> Option<Request> {
        ui.heading(t!("page.providers"));
        ui.label(t!("providers.intro"));
        ui.add_space(6.0);
        let summaries: Vec<String> = self
            .form
            .providers
            .iter()
            .map(|p| {
                let used = self
                    .form
                    .records
                    .iter()
                    .filter(|r| r.provider == p.name)
                    .count();
                t!("providers.used_by", n = used).into_owned()
            })
            .collect();
        self.entry_list(ui, Side::Provider, &summaries)
    }

    #[allow(clippy::too_many_lines)] // one page, drawn top to bottom
    fn detection_page(&mut self, ui: &mut Ui) -> Option<Request> {
        let mut request = None;
        ui.heading(t!("page.detection"));
        ui.label(t!("detection.intro"));
        ui.add_space(6.0);
        let errors = self.form.errors.clone();
        egui::Grid::new("policy")
            .num_columns(2)
            .spacing([16.0, 6.0])
            .show(ui, |ui| {
                let l = ui.label(t!("detection.policy"));
                egui::ComboBox::from_id_salt("policy")
                    .selected_text(policy_name(&self.form.policy))
                    .show_ui(ui, |ui| {
                        for p in ["confirm", "first", "agree"] {
                            ui.selectable_value(
                                &mut self.form.policy,
                                p.to_owned(),
                                policy_name(p),
                            );
                        }
                    })
                    .response
                    .labelled_by(l.id);
                ui.end_row();
            });
        for (f, family) in [(0, Family::V4), (1, Family::V6)] {
            let key = family.key();
            ui.add_space(8.0);
            ui.strong(family.to_string());
            let mut builtin = self.form.sources[f].is_none();
            if ui
                .checkbox(&mut builtin, t!("detection.builtin", family = family))
                .changed()
            {
                self.form.sources[f] = if builtin {
                    None
                } else {
                    Some(vec![SourceRow {
                        kind: "http".into(),
                        ..SourceRow::default()
                    }])
                };
            }
            show_error(ui, &errors, &format!("detect.{key}"));
            let Some(rows) = &mut self.form.sources[f] else {
                continue;
            };
            let mut remove = None;
            for (i, row) in rows.iter_mut().enumerate() {
                let path = format!("detect.{key}[{i}]");
                let n = i + 1;
                ui.group(|ui| {
                    egui::Grid::new(&path)
                        .num_columns(2)
                        .spacing([16.0, 6.0])
                        .show(ui, |ui| {
                            let l = ui.label(t!("detection.source_kind", family = family, n = n));
                            egui::ComboBox::from_id_salt(format!("{path}.kind"))
                                .selected_text(row.kind.clone())
                                .show_ui(ui, |ui| {
                                    for k in SOURCE_KINDS {
                                        ui.selectable_value(&mut row.kind, (*k).to_owned(), *k);
                                    }
                                })
                                .response
                                .labelled_by(l.id);
                            ui.end_row();
                            let names: &[&str] = match row.kind.as_str() {
                                "http" | "cloudflare-trace" => &["url"],
                                "dns" => &["server", "name", "type"],
                                "interface" => &["name"],
                                "command" => &["command"],
                                "router" => &["protocol", "gateway"],
                                _ => &[],
                            };
                            for name in names {
                                let value = row.fields.entry((*name).to_owned()).or_default();
                                let label = t!(
                                    "detection.source_field",
                                    family = family,
                                    n = n,
                                    field = source_field_name(name)
                                );
                                typed_row(
                                    ui,
                                    &errors,
                                    &label,
                                    value,
                                    (&format!("{path}.{name}"), ""),
                                    Typed::Text,
                                );
                            }
                            let label = t!("detection.source_timeout", family = family, n = n);
                            typed_row(
                                ui,
                                &errors,
                                &label,
                                &mut row.timeout,
                                (&format!("{path}.timeout"), "5s"),
                                Typed::Duration,
                            );
                            ui.label("");
                            ui.checkbox(&mut row.allow_private, t!("detection.allow_private"));
                            ui.end_row();
                        });
                    show_error(ui, &errors, &path);
                    if ui
                        .button(t!("detection.remove_source", family = family, n = n))
                        .clicked()
                    {
                        remove = Some(i);
                    }
                });
            }
            if let Some(i) = remove {
                rows.remove(i);
            }
            if ui
                .button(t!("detection.add_source", family = family))
                .clicked()
            {
                rows.push(SourceRow {
                    kind: "http".into(),
                    ..SourceRow::default()
                });
            }
        }
        ui.add_space(10.0);
        ui.horizontal(|ui| {
            let running = matches!(self.detect, Load::Running);
            if ui
                .add_enabled(!running, egui::Button::new(t!("detection.detect_now")))
                .clicked()
            {
                request = Some(Request::DetectNow);
            }
            if running {
                ui.spinner();
            }
        });
        match &self.detect {
            Load::Done(Ok(families)) => {
                for d in families {
                    ui.add_space(4.0);
                    match &d.conclusion {
                        Ok(ip) => ui.colored_label(GREEN, format!("{}: {ip}", d.family)),
                        Err(e) => ui.colored_label(RED, format!("{}: {e}", d.family)),
                    };
                    egui::Grid::new(format!("detected-{}", d.family.key()))
                        .striped(true)
                        .num_columns(3)
                        .spacing([12.0, 4.0])
                        .show(ui, |ui| {
                            for r in &d.sources {
                                ui.label(&r.source);
                                match (&r.ip, &r.error) {
                                    (Some(ip), _) => ui.monospace(ip.to_string()),
                                    (None, e) => {
                                        ui.colored_label(RED, e.clone().unwrap_or_default())
                                    }
                                };
                                ui.label(t!("detection.latency", ms = r.latency_ms));
                                ui.end_row();
                            }
                        });
                }
            }
            Load::Done(Err(e)) => {
                ui.colored_label(RED, e);
            }
            _ => {}
        }
        request
    }

    fn alerts_page(&mut self, ui: &mut Ui) -> Option<Request> {
        ui.heading(t!("page.alerts"));
        ui.label(t!("alerts.intro"));
        ui.add_space(6.0);
        let summaries: Vec<String> = self.form.notifiers.iter().map(alert_summary).collect();
        let request = self.entry_list(ui, Side::Notifier, &summaries);
        if let Some(listen) = self
            .form
            .kept_sections
            .get("metrics")
            .and_then(|m| m.get("listen"))
            .and_then(toml::Value::as_str)
        {
            ui.add_space(8.0);
            ui.label(t!("alerts.metrics", listen = listen));
        }
        request
    }

    #[allow(clippy::too_many_lines)] // one page, drawn top to bottom
    fn history_page(&mut self, ui: &mut Ui) -> Option<Request> {
        let mut request = None;
        ui.horizontal(|ui| {
            ui.heading(t!("page.history"));
            if ui.button(t!("history.refresh")).clicked() {
                request = Some(Request::LoadHistory);
            }
        });
        if request.is_some() || self.history == Load::Idle {
            self.history = Load::Running;
            request = Some(Request::LoadHistory);
        }
        match &self.history {
            Load::Idle => {}
            Load::Running => {
                ui.spinner();
            }
            Load::Done(Err(e)) => {
                ui.colored_label(RED, e);
            }
            Load::Done(Ok(entries)) if entries.is_empty() => {
                ui.label(t!("history.none"));
            }
            Load::Done(Ok(entries)) => {
                table(
                    ui,
                    "history",
                    &[
                        t!("history.when"),
                        t!("history.what"),
                        t!("history.record"),
                        t!("history.detail"),
                    ],
                    |ui| {
                        for e in entries.iter().rev().take(500) {
                            let at = humantime::parse_rfc3339(&e.at)
                                .map_or_else(|_| e.at.clone(), model::date_time);
                            ui.label(at);
                            let (colour, what) = history_event(&e.event);
                            ui.colored_label(colour, what);
                            let who = match (&e.record, &e.family) {
                                (Some(r), _) => r.clone(),
                                (None, Some(f)) => f.to_string(),
                                _ => "–".to_owned(),
                            };
                            ui.label(who);
                            let mut detail = match (&e.old, &e.new) {
                                (Some(o), Some(n)) => format!("{o} → {n}"),
                                (None, Some(n)) => n.to_string(),
                                _ => String::new(),
                            };
                            if let Some(err) = &e.error {
                                if !detail.is_empty() {
                                    detail.push_str(": ");
                                }
                                detail.push_str(&model::shorten(err, 80));
                            }
                            if let Some(o) = &e.omitted {
                                detail = t!(
                                    "history.omitted",
                                    updated = o.updated,
                                    failed = o.failed,
                                    recovered = o.recovered
                                )
                                .into_owned();
                            }
                            ui.label(detail);
                            ui.end_row();
                        }
                    },
                );
            }
        }
        request
    }

    #[allow(clippy::too_many_lines)] // one page, drawn top to bottom
    fn general_page(&mut self, ui: &mut Ui) -> Option<Request> {
        ui.heading(t!("page.general"));
        ui.add_space(6.0);
        let errors = self.form.errors.clone();
        egui::Grid::new("general")
            .num_columns(2)
            .spacing([16.0, 8.0])
            .show(ui, |ui| {
                typed_row(
                    ui,
                    &errors,
                    &t!("general.interval"),
                    &mut self.form.interval,
                    ("interval", "5m"),
                    Typed::Duration,
                );
                typed_row(
                    ui,
                    &errors,
                    &t!("general.keep_alive"),
                    &mut self.form.max_interval,
                    ("max_interval", &t!("general.keep_alive_hint")),
                    Typed::Duration,
                );
                ui.label(t!("general.families"));
                ui.horizontal(|ui| {
                    ui.checkbox(&mut self.form.ipv4, "IPv4");
                    ui.checkbox(&mut self.form.ipv6, "IPv6");
                });
                ui.end_row();
                if let Some(e) = errors.get("ipv4") {
                    ui.label("");
                    ui.colored_label(RED, e);
                    ui.end_row();
                }
                ui.label(t!("general.notifications"));
                ui.checkbox(&mut self.form.notifications, t!("general.notifications_on"));
                ui.end_row();
                ui.label(t!("general.start_at_login"));
                ui.checkbox(
                    &mut self.form.start_at_login,
                    t!("general.start_at_login_on"),
                );
                ui.end_row();
                let l = ui.label(t!("general.language"));
                let current = Language::parse(&self.form.language).unwrap_or_default();
                egui::ComboBox::from_id_salt("language")
                    .selected_text(current.native_name())
                    .show_ui(ui, |ui| {
                        for lang in [Language::Auto, Language::English, Language::Chinese] {
                            ui.selectable_value(
                                &mut self.form.language,
                                lang.code().to_owned(),
                                lang.native_name(),
                            );
                        }
                    })
                    .response
                    .labelled_by(l.id);
                ui.end_row();
                if let Some(e) = errors.get("language") {
                    ui.label("");
                    ui.colored_label(RED, e);
                    ui.end_row();
                }
            });
        if let Some(note) = &self.font_note {
            ui.add_space(8.0);
            ui.colored_label(ORANGE, note);
        }
        ui.add_space(12.0);
        ui.small(t!("general.about", version = env!("CARGO_PKG_VERSION")));
        None
    }

    /// A provider or alert list: "none yet", one box per entry (with `summaries[i]` under its name), then
    /// the Add button.
    fn entry_list(&mut self, ui: &mut Ui, side: Side, summaries: &[String]) -> Option<Request> {
        if summaries.is_empty() {
            ui.label(match side {
                Side::Provider => t!("providers.none"),
                Side::Notifier => t!("alerts.none"),
            });
        }
        let mut chosen = None;
        for (i, summary) in summaries.iter().enumerate() {
            let (row, test) = match side {
                Side::Provider => (&self.form.providers[i], self.tests.get(&i)),
                Side::Notifier => (&self.form.notifiers[i].entry, self.alert_tests.get(&i)),
            };
            if let Some(action) = entry_group(ui, side, i, row, summary, test, &self.form.errors) {
                chosen = Some((action, i));
            }
        }
        ui.add_space(6.0);
        let add = match side {
            Side::Provider => t!("providers.add"),
            Side::Notifier => t!("alerts.add"),
        };
        if ui.button(add).clicked() {
            self.open_entry(side, None);
        }
        self.on_entry(side, chosen)
    }

    /// Opens the kind-first dialog for a new entry (`None`) or entry `index` of `side`'s list.
    fn open_entry(&mut self, side: Side, index: Option<usize>) {
        let (row, events, max_per_hour) = match (side, index) {
            (_, None) => (ProviderRow::default(), Vec::new(), String::new()),
            (Side::Provider, Some(i)) => {
                (self.form.providers[i].clone(), Vec::new(), String::new())
            }
            (Side::Notifier, Some(i)) => {
                let n = &self.form.notifiers[i];
                (n.entry.clone(), n.events.clone(), n.max_per_hour.clone())
            }
        };
        self.search_focus = index.is_none();
        self.dialog = Some(Dialog::Provider {
            side,
            index,
            search: String::new(),
            row,
            events,
            max_per_hour,
            problem: None,
        });
    }

    /// What a button on an entry of `side`'s list asks for.
    fn on_entry(&mut self, side: Side, chosen: Option<(EntryAction, usize)>) -> Option<Request> {
        let (action, i) = chosen?;
        match action {
            EntryAction::Edit => self.open_entry(side, Some(i)),
            EntryAction::Test => {
                return Some(match side {
                    Side::Provider => Request::Test(i),
                    Side::Notifier => Request::TestAlert(i),
                });
            }
            EntryAction::Remove => {
                match side {
                    Side::Provider => {
                        self.form.providers.remove(i);
                        self.tests.clear();
                    }
                    Side::Notifier => {
                        self.form.notifiers.remove(i);
                        self.alert_tests.clear();
                    }
                }
                self.form.errors.clear();
            }
        }
        None
    }

    /// The dialog's OK: the entry goes into its list (a renamed provider's records follow it).
    fn accept(
        &mut self,
        side: Side,
        index: Option<usize>,
        row: ProviderRow,
        events: Vec<String>,
        max_per_hour: String,
    ) {
        match (side, index) {
            (Side::Provider, Some(i)) => {
                let old = self.form.providers[i].name.clone();
                for r in &mut self.form.records {
                    if r.provider == old {
                        r.provider.clone_from(&row.name);
                    }
                }
                self.form.providers[i] = row;
            }
            (Side::Provider, None) => self.form.providers.push(row),
            (Side::Notifier, index) => {
                let entry = NotifierRow {
                    entry: row,
                    events,
                    max_per_hour,
                };
                match index {
                    Some(i) => self.form.notifiers[i] = entry,
                    None => self.form.notifiers.push(entry),
                }
            }
        }
    }

    /// The open dialog, if any.
    #[allow(clippy::too_many_lines)] // one page, drawn top to bottom
    fn dialog_ui(&mut self, ui: &mut Ui) -> Option<Request> {
        let mut dialog = self.dialog.take()?;
        let mut keep = true;
        let ctx = ui.ctx().clone();
        let provider_names: Vec<String> =
            self.form.providers.iter().map(|p| p.name.clone()).collect();
        egui::Modal::new(ui.scope_id().with("dialog")).show(&ctx, |ui| {
            ui.set_width(520.0);
            match &mut dialog {
                Dialog::Record {
                    index,
                    row,
                    problem,
                } => {
                    ui.heading(if index.is_some() {
                        t!("records.edit_title")
                    } else {
                        t!("records.add_title")
                    });
                    ui.add_space(6.0);
                    let errors = index.map_or_else(BTreeMap::new, |i| {
                        rebase(&self.form.errors, &format!("record[{i}]"))
                    });
                    let lines = self
                        .form
                        .providers
                        .iter()
                        .find(|p| p.name == row.provider)
                        .and_then(|p| kind_info(&p.kind))
                        .is_some_and(|k| k.fields.iter().any(|f| f.name == "line"));
                    egui::Grid::new("record-dialog")
                        .num_columns(2)
                        .spacing([16.0, 8.0])
                        .show(ui, |ui| {
                            typed_row(
                                ui,
                                &errors,
                                &t!("records.name"),
                                &mut row.name,
                                ("name", "home.example.com"),
                                Typed::Text,
                            );
                            let l = ui.label(t!("records.provider"));
                            egui::ComboBox::from_id_salt("record-provider")
                                .selected_text(row.provider.clone())
                                .show_ui(ui, |ui| {
                                    for name in &provider_names {
                                        ui.selectable_value(&mut row.provider, name.clone(), name);
                                    }
                                })
                                .response
                                .labelled_by(l.id);
                            ui.end_row();
                            let l = ui.label(t!("records.type"));
                            egui::ComboBox::from_id_salt("record-type")
                                .selected_text(if row.record_type.is_empty() {
                                    t!("records.type_auto").into_owned()
                                } else {
                                    row.record_type.clone()
                                })
                                .show_ui(ui, |ui| {
                                    ui.selectable_value(
                                        &mut row.record_type,
                                        String::new(),
                                        t!("records.type_auto"),
                                    );
                                    ui.selectable_value(&mut row.record_type, "A".to_owned(), "A");
                                    ui.selectable_value(
                                        &mut row.record_type,
                                        "AAAA".to_owned(),
                                        "AAAA",
                                    );
                                })
                                .response
                                .labelled_by(l.id);
                            ui.end_row();
                            typed_row(
                                ui,
                                &errors,
                                &t!("records.ttl"),
                                &mut row.ttl,
                                ("ttl", &t!("records.ttl_default")),
                                Typed::Number,
                            );
                            if lines {
                                typed_row(
                                    ui,
                                    &errors,
                                    &t!("records.line"),
                                    &mut row.line,
                                    ("line", &t!("records.line_hint")),
                                    Typed::Text,
                                );
                            }
                        });
                    match dialog_footer(ui, problem.as_deref(), false) {
                        Some(Pressed::Ok) => {
                            *problem = record_problem(row, *index, &self.form);
                            if problem.is_none() {
                                let row = row.clone();
                                match index {
                                    Some(i) => self.form.records[*i] = row,
                                    None => self.form.records.push(row),
                                }
                                keep = false;
                            }
                        }
                        Some(Pressed::Cancel) => keep = false,
                        Some(Pressed::Back) | None => {}
                    }
                }
                Dialog::Provider {
                    side,
                    index,
                    search,
                    row,
                    events,
                    max_per_hour,
                    problem,
                } => {
                    let side = *side;
                    let taken: Vec<String> = match side {
                        Side::Provider => provider_names.clone(),
                        Side::Notifier => self
                            .form
                            .notifiers
                            .iter()
                            .map(|n| n.entry.name.clone())
                            .collect(),
                    };
                    if row.kind.is_empty() {
                        keep = kind_list(ui, side, search, row, &taken, &mut self.search_focus);
                    } else {
                        let info = side.info(&row.kind);
                        ui.heading(info.map_or_else(|| row.kind.clone(), |k| side.title(k)));
                        if let Some(k) = info {
                            ui.label(t!("providers.credential", what = side.credential(k)));
                            if !k.credential_url.is_empty() {
                                ui.hyperlink_to(
                                    t!("providers.where", url = k.credential_url),
                                    k.credential_url,
                                );
                            }
                        }
                        ui.add_space(6.0);
                        let errors = index.map_or_else(BTreeMap::new, |i| {
                            rebase(&self.form.errors, &side.path(i))
                        });
                        egui::Grid::new("provider-dialog")
                            .num_columns(2)
                            .spacing([16.0, 8.0])
                            .show(ui, |ui| {
                                typed_row(
                                    ui,
                                    &errors,
                                    &t!("providers.name"),
                                    &mut row.name,
                                    ("name", ""),
                                    Typed::Text,
                                );
                                if let Some(k) = info {
                                    for f in k.fields {
                                        let help = side.help(k.kind, f);
                                        provider_field(
                                            ui,
                                            &errors,
                                            row,
                                            f,
                                            &help,
                                            &mut self.reveal,
                                        );
                                    }
                                }
                                if side == Side::Notifier
                                    && info.is_some_and(|k| {
                                        !matches!(k.kind, "healthchecks" | "uptime-kuma")
                                    })
                                {
                                    events_row(ui, &errors, events);
                                    typed_row(
                                        ui,
                                        &errors,
                                        &t!("alerts.limit_field"),
                                        max_per_hour,
                                        ("max_per_hour", "20"),
                                        Typed::Number,
                                    );
                                }
                            });
                        match dialog_footer(ui, problem.as_deref(), index.is_none()) {
                            Some(Pressed::Ok) => {
                                *problem = entry_problem(row, *index, &taken, info);
                                if problem.is_none() {
                                    self.accept(
                                        side,
                                        *index,
                                        row.clone(),
                                        events.clone(),
                                        max_per_hour.clone(),
                                    );
                                    keep = false;
                                }
                            }
                            Some(Pressed::Back) => row.kind.clear(),
                            Some(Pressed::Cancel) => keep = false,
                            None => {}
                        }
                    }
                }
            }
        });
        if keep {
            self.dialog = Some(dialog);
        }
        None
    }
}

/// The form without what is not the user's input (messages, errors).
fn comparable(form: &SettingsForm) -> SettingsForm {
    let mut f = form.clone();
    f.errors.clear();
    f.message = None;
    f.keyring_entries.clear();
    f
}

fn policy_name(p: &str) -> String {
    match p {
        "agree" => t!("detection.policy_agree").into_owned(),
        "first" => t!("detection.policy_first").into_owned(),
        // No policy in the file: the default, `confirm`.
        _ => t!("detection.policy_confirm").into_owned(),
    }
}

fn source_field_name(name: &str) -> String {
    match name {
        "url" => t!("detection.field_url"),
        "server" => t!("detection.field_server"),
        "name" => t!("detection.field_name"),
        "type" => t!("detection.field_type"),
        "command" => t!("detection.field_command"),
        "protocol" => t!("detection.field_protocol"),
        "gateway" => t!("detection.field_gateway"),
        _ => name.into(),
    }
    .into_owned()
}

fn history_event(event: &str) -> (Color32, String) {
    let (colour, text) = match event {
        "ip-changed" => (Color32::LIGHT_BLUE, t!("history.ip_changed")),
        "updated" => (GREEN, t!("history.updated")),
        "failed" => (RED, t!("history.failed")),
        "recovered" => (GREEN, t!("history.recovered")),
        "detection-failed" => (RED, t!("history.detection_failed")),
        "detection-recovered" => (GREEN, t!("history.detection_recovered")),
        "state-not-saved" => (RED, t!("history.state_not_saved")),
        "state-saved" => (GREEN, t!("history.state_saved")),
        "round-summary" => (Color32::GRAY, t!("history.round_summary")),
        other => (Color32::GRAY, other.to_owned().into()),
    };
    (colour, text.into_owned())
}

/// The errors of one entry (`record[2]` and its fields), each as "field: message".
fn entry_errors(errors: &BTreeMap<String, String>, prefix: &str) -> Vec<String> {
    errors
        .iter()
        .filter(|(path, _)| {
            path.as_str() == prefix
                || path
                    .strip_prefix(prefix)
                    .is_some_and(|rest| rest.starts_with('.'))
        })
        .map(|(path, e)| {
            let field = path
                .strip_prefix(prefix)
                .unwrap_or("")
                .trim_start_matches('.');
            if field.is_empty() {
                e.clone()
            } else {
                format!("{field}: {e}")
            }
        })
        .collect()
}

/// The errors under `prefix` (`provider[1]`), keyed by the field path after it (`token`), for a dialog.
fn rebase(errors: &BTreeMap<String, String>, prefix: &str) -> BTreeMap<String, String> {
    errors
        .iter()
        .filter_map(|(path, e)| {
            let rest = path.strip_prefix(prefix)?.strip_prefix('.')?;
            Some((rest.to_owned(), e.clone()))
        })
        .collect()
}

fn show_error(ui: &mut Ui, errors: &BTreeMap<String, String>, path: &str) {
    if let Some(e) = errors.get(path) {
        ui.colored_label(RED, e);
    }
}

/// What a single-line field holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Typed {
    Text,
    /// "5m", "1h30m": checked as it is typed.
    Duration,
    /// A whole number (TTL): only digits can be typed.
    Number,
}

/// A label and a single-line field in a grid, with its problem under it.
fn typed_row(
    ui: &mut Ui,
    errors: &BTreeMap<String, String>,
    label: &str,
    value: &mut String,
    (path, hint): (&str, &str),
    typed: Typed,
) {
    let l = ui.label(label);
    ui.vertical(|ui| {
        let width = if typed == Typed::Text { 300.0 } else { 120.0 };
        let r = ui
            .add(
                egui::TextEdit::singleline(value)
                    .hint_text(hint)
                    .desired_width(width),
            )
            .labelled_by(l.id);
        if typed == Typed::Number && r.changed() {
            value.retain(|c| c.is_ascii_digit());
        }
        let text = value.trim();
        if typed == Typed::Duration
            && !text.is_empty()
            && text != "0"
            && humantime::parse_duration(text).is_err()
        {
            ui.colored_label(RED, t!("field.bad_duration", text = text));
        } else if let Some(e) = errors.get(path) {
            ui.colored_label(RED, e);
        }
    });
    ui.end_row();
}

/// One field of a provider kind, as the right widget: a checkbox for true/false, a masked field with
/// Show/Hide for secrets, several lines for headers, else one line.
fn provider_field(
    ui: &mut Ui,
    errors: &BTreeMap<String, String>,
    row: &mut ProviderRow,
    f: &crate::provider::FieldInfo,
    help: &str,
    reveal: &mut BTreeSet<String>,
) {
    let name = field_label(f.name);
    let label = if f.required {
        format!("{name} *")
    } else {
        name
    };
    let kept = row
        .kept
        .get(f.name)
        .filter(|_| row.fields.get(f.name).is_none_or(String::is_empty))
        .map(super::settings::kept_source);
    let help_text = help.to_owned();
    let value = row.fields.entry(f.name.to_owned()).or_default();
    let l = ui.label(&label).on_hover_text(help_text.clone());
    ui.vertical(|ui| {
        if f.boolean {
            // Three states: unset (the provider's default, shown as "–"), on, off.
            let unset = value.trim().is_empty();
            let mut on = value.trim() == "true";
            if ui
                .add(egui::Checkbox::new(&mut on, help_text.clone()).indeterminate(unset))
                .labelled_by(l.id)
                .changed()
            {
                *value = if on { "true".into() } else { "false".into() };
            }
        } else if f.name == "headers" {
            ui.add(
                egui::TextEdit::multiline(value)
                    .desired_rows(2)
                    .hint_text(t!("providers.headers_hint"))
                    .desired_width(300.0),
            )
            .labelled_by(l.id);
        } else {
            ui.horizontal(|ui| {
                let key = format!("{}.{}", row.name, f.name);
                let shown = reveal.contains(&key);
                let hint = kept.clone().unwrap_or_default();
                ui.add(
                    egui::TextEdit::singleline(value)
                        .password(f.secret && !shown)
                        .hint_text(hint)
                        .desired_width(if f.secret { 230.0 } else { 300.0 }),
                )
                .labelled_by(l.id);
                if f.secret {
                    let text = if shown {
                        t!("button.hide")
                    } else {
                        t!("button.show")
                    };
                    if ui
                        .button(text)
                        .on_hover_text(t!("providers.reveal_help", field = f.name))
                        .clicked()
                    {
                        if shown {
                            reveal.remove(&key);
                        } else {
                            reveal.insert(key);
                        }
                    }
                }
            });
            if !f.boolean {
                ui.small(help_text.clone());
            }
        }
        if let Some(e) = errors.get(f.name) {
            ui.colored_label(RED, e);
        }
    });
    ui.end_row();
}

/// A field's label: the catalogue's name for it, or the config key.
fn field_label(name: &str) -> String {
    translated(&format!("field.{name}"), name)
}

/// `cloudflare`, `cloudflare-2`, … : a name no provider has yet.
fn unique_name(kind: &str, taken: &[String]) -> String {
    (1..=taken.len() + 1)
        .map(|n| {
            if n == 1 {
                kind.to_owned()
            } else {
                format!("{kind}-{n}")
            }
        })
        .find(|n| !taken.contains(n))
        .unwrap_or_default()
}

/// What stops the record dialog's OK (the rest is checked at Save, like `ddns-tray check`).
fn record_problem(row: &RecordRow, index: Option<usize>, form: &SettingsForm) -> Option<String> {
    if row.name.trim().is_empty() {
        return Some(t!("records.need_name").into_owned());
    }
    if row.provider.is_empty() {
        return Some(t!("records.need_provider").into_owned());
    }
    let same = form.records.iter().enumerate().any(|(i, r)| {
        Some(i) != index
            && r.name.trim().eq_ignore_ascii_case(row.name.trim())
            && r.record_type == row.record_type
            && r.line == row.line
    });
    same.then(|| t!("records.duplicate", name = row.name.trim()).into_owned())
}

/// A striped table whose first row is `headings` (a blank heading over a column of buttons).
fn table(
    ui: &mut Ui,
    id: &str,
    headings: &[std::borrow::Cow<'_, str>],
    rows: impl FnOnce(&mut Ui),
) {
    egui::Grid::new(id)
        .striped(true)
        .num_columns(headings.len())
        .spacing([12.0, 6.0])
        .show(ui, |ui| {
            for h in headings {
                ui.strong(h.as_ref());
            }
            ui.end_row();
            rows(ui);
        });
}

/// A dialog's button.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pressed {
    Ok,
    /// Back to the list of kinds (adding a provider or alert).
    Back,
    Cancel,
}

/// A dialog's last lines: what stops its OK, then OK, [Back] and Cancel.
fn dialog_footer(ui: &mut Ui, problem: Option<&str>, back: bool) -> Option<Pressed> {
    if let Some(p) = problem {
        ui.colored_label(RED, p);
    }
    ui.add_space(8.0);
    let mut pressed = None;
    ui.horizontal(|ui| {
        if ui.button(t!("button.ok")).clicked() {
            pressed = Some(Pressed::Ok);
        }
        if back && ui.button(t!("providers.back")).clicked() {
            pressed = Some(Pressed::Back);
        }
        if ui.button(t!("button.cancel")).clicked() {
            pressed = Some(Pressed::Cancel);
        }
    });
    pressed
}

/// What an alert takes, under its name: its events and hourly limit, or that it is a heartbeat.
fn alert_summary(n: &NotifierRow) -> String {
    if matches!(n.entry.kind.as_str(), "healthchecks" | "uptime-kuma") {
        return t!("alerts.heartbeat").into_owned();
    }
    let events = if n.events.is_empty() {
        t!("alerts.default_events").into_owned()
    } else {
        n.events
            .iter()
            .map(|e| match e.as_str() {
                "change" => t!("alerts.event_change").into_owned(),
                "failure" => t!("alerts.event_failure").into_owned(),
                "recovery" => t!("alerts.event_recovery").into_owned(),
                other => other.to_owned(),
            })
            .collect::<Vec<_>>()
            .join(&t!("alerts.separator"))
    };
    let limit = if n.max_per_hour.trim().is_empty() {
        "20"
    } else {
        n.max_per_hour.trim()
    };
    t!("alerts.summary", events = events, limit = limit).into_owned()
}

/// A button on an entry of a list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum EntryAction {
    Edit,
    Test,
    Remove,
}

/// One provider or notifier in its list: name and service, Edit / Test / Remove, a summary line, what its
/// last test found, and Save's problems with it.
fn entry_group(
    ui: &mut Ui,
    side: Side,
    i: usize,
    row: &ProviderRow,
    summary: &str,
    test: Option<&Load<String>>,
    errors: &BTreeMap<String, String>,
) -> Option<EntryAction> {
    let mut action = None;
    let (test_label, test_help, running) = match side {
        Side::Provider => (
            t!("button.test"),
            t!("providers.test_help"),
            t!("providers.testing"),
        ),
        Side::Notifier => (
            t!("alerts.send_test"),
            t!("alerts.send_test_help"),
            t!("alerts.sending"),
        ),
    };
    ui.group(|ui| {
        ui.set_width(ui.available_width());
        ui.horizontal(|ui| {
            ui.strong(&row.name);
            ui.label(
                side.info(&row.kind)
                    .map_or_else(|| row.kind.clone(), |k| side.title(k)),
            );
            ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                if ui
                    .button(t!("button.remove"))
                    .on_hover_text(t!("providers.remove_help", name = row.name))
                    .clicked()
                {
                    action = Some(EntryAction::Remove);
                }
                let busy = test == Some(&Load::Running);
                if ui
                    .add_enabled(!busy, egui::Button::new(test_label))
                    .on_hover_text(test_help)
                    .clicked()
                {
                    action = Some(EntryAction::Test);
                }
                if ui.button(t!("button.edit")).clicked() {
                    action = Some(EntryAction::Edit);
                }
            });
        });
        ui.small(summary);
        match test {
            Some(Load::Running) => {
                ui.horizontal(|ui| {
                    ui.spinner();
                    ui.label(running);
                });
            }
            Some(Load::Done(Ok(answer))) => {
                let said = match side {
                    Side::Provider => answer.clone(),
                    Side::Notifier => t!("alerts.sent", answer = answer).into_owned(),
                };
                ui.colored_label(GREEN, said);
            }
            Some(Load::Done(Err(e))) => {
                ui.colored_label(RED, e);
            }
            _ => {}
        }
        let problems = entry_errors(errors, &side.path(i));
        if !problems.is_empty() {
            ui.colored_label(RED, problems.join("\n"));
        }
    });
    action
}

/// What stops a provider's or notifier's OK: a name that is missing or taken, required fields left empty.
fn entry_problem(
    row: &ProviderRow,
    index: Option<usize>,
    taken: &[String],
    info: Option<&KindInfo>,
) -> Option<String> {
    let name = row.name.trim();
    if name.is_empty() {
        return Some(t!("providers.need_name").into_owned());
    }
    if taken
        .iter()
        .enumerate()
        .any(|(i, n)| Some(i) != index && n == name)
    {
        return Some(t!("providers.duplicate", name = name).into_owned());
    }
    let missing: Vec<String> = info?
        .fields
        .iter()
        .filter(|f| {
            f.required
                && row.fields.get(f.name).is_none_or(|v| v.trim().is_empty())
                && !row.kept.contains_key(f.name)
        })
        .map(|f| field_label(f.name))
        .collect();
    (!missing.is_empty()).then(|| t!("providers.missing", fields = missing.join(", ")).into_owned())
}

/// The searchable list of kinds a dialog starts with; false when it was cancelled.
fn kind_list(
    ui: &mut Ui,
    side: Side,
    search: &mut String,
    row: &mut ProviderRow,
    taken: &[String],
    focus: &mut bool,
) -> bool {
    ui.heading(match side {
        Side::Provider => t!("providers.choose_kind"),
        Side::Notifier => t!("alerts.choose_kind"),
    });
    ui.add_space(6.0);
    let l = ui.label(t!("providers.search"));
    let hint = match side {
        Side::Provider => t!("providers.search_hint"),
        Side::Notifier => t!("alerts.search_hint"),
    };
    let field = ui
        .add(
            egui::TextEdit::singleline(search)
                .hint_text(hint)
                .desired_width(f32::INFINITY),
        )
        .labelled_by(l.id);
    if std::mem::take(focus) {
        field.request_focus();
    }
    ui.add_space(6.0);
    egui::ScrollArea::vertical()
        .max_height(380.0)
        .show(ui, |ui| {
            for k in side.kinds().iter().filter(|k| {
                let s = search.trim().to_lowercase();
                s.is_empty()
                    || k.kind.contains(&s)
                    || k.title.to_lowercase().contains(&s)
                    || side.title(k).to_lowercase().contains(&s)
                    || side.credential(k).to_lowercase().contains(&s)
            }) {
                let button = egui::Button::new(RichText::new(side.title(k)).strong())
                    .right_text(RichText::new(k.kind).weak())
                    .min_size(egui::vec2(ui.available_width(), 24.0));
                let r = ui.add(button);
                ui.small(side.credential(k));
                ui.add_space(4.0);
                if r.clicked() {
                    k.kind.clone_into(&mut row.kind);
                    if row.name.is_empty() {
                        row.name = unique_name(k.kind, taken);
                    }
                }
            }
        });
    ui.add_space(8.0);
    !ui.button(t!("button.cancel")).clicked()
}

/// Which alerts a notifier takes: a check box each (none ticked = the default three).
fn events_row(ui: &mut Ui, errors: &BTreeMap<String, String>, events: &mut Vec<String>) {
    ui.label(t!("alerts.events"));
    ui.vertical(|ui| {
        ui.horizontal(|ui| {
            for (event, label) in [
                ("change", t!("alerts.event_change")),
                ("failure", t!("alerts.event_failure")),
                ("recovery", t!("alerts.event_recovery")),
            ] {
                let mut on = events.is_empty() || events.iter().any(|e| e == event);
                if ui.checkbox(&mut on, label).changed() {
                    if events.is_empty() {
                        *events = ["change", "failure", "recovery"]
                            .map(str::to_owned)
                            .to_vec();
                    }
                    events.retain(|e| e != event);
                    if on {
                        events.push(event.to_owned());
                    }
                    if events.len() == 3 {
                        events.clear();
                    }
                }
            }
        });
        if let Some(e) = errors.get("events") {
            ui.colored_label(RED, e);
        }
    });
    ui.end_row();
}

#[cfg(test)]
#[path = "pages_tests.rs"]
mod tests;
