//! The first run: with no records, the window opens on a short welcome instead of its pages. Which DNS
//! service (the searchable kind list), its credential and where to create it, Test (the domains the
//! credential sees are listed), then the domain picked from that list (typed when the API cannot list),
//! the record's name and family, and Save. The Status page then shows the first round. `init` asks the same
//! questions in a terminal.

#[allow(clippy::wildcard_imports)] // the pages share their types and helpers
use super::*;

/// Where the welcome is.
#[derive(Debug, Clone, Default, PartialEq)]
pub enum Step {
    /// Which DNS service.
    #[default]
    Kind,
    /// Its credential; Test lists the domains.
    Credential,
    /// The domain and the record.
    Record,
}

/// The welcome's answers so far.
#[derive(Debug, Clone, Default)]
pub struct Welcome {
    pub step: Step,
    search: String,
    pub row: ProviderRow,
    /// The domains the credential sees (`None`: the API cannot list them).
    pub zones: Load<Option<Vec<String>>>,
    /// The domain picked (or the full name typed when there is no list).
    zone: String,
    host: String,
    /// 0 IPv4, 1 IPv6, 2 both.
    family: usize,
    focus: bool,
    /// "Import from another client…": the other client's config file, and the import's answer.
    pub import_path: String,
    pub import: Load<()>,
}

impl Welcome {
    fn new() -> Self {
        Self {
            focus: true,
            ..Self::default()
        }
    }

    /// The record's full name.
    fn name(&self) -> String {
        let zone = crate::provider::canonical(self.zone.trim());
        let host = crate::provider::canonical(self.host.trim());
        match (&self.zones, host.as_str()) {
            (Load::Done(Ok(None)), _) | (_, "" | "@") => zone,
            _ if crate::provider::in_zone(&host, &zone) => host,
            _ => format!("{host}.{zone}"),
        }
    }
}

impl View {
    /// Opens the window on the welcome (the tray does this when the config has no records).
    pub fn start_welcome(&mut self) {
        self.welcome = Some(Welcome::new());
    }

    /// The provider the welcome is setting up (its Test needs it), with its name.
    #[must_use]
    pub fn welcome_row(&self) -> Option<ProviderRow> {
        self.welcome.as_ref().map(|w| ProviderRow {
            name: w.row.kind.clone(),
            ..w.row.clone()
        })
    }

    /// The answer of "Test" in the welcome: the domains the credential sees, or why it was refused.
    pub fn welcome_zones(&mut self, zones: Result<Option<Vec<String>>, String>) {
        if let Some(w) = &mut self.welcome {
            if let Ok(Some(list)) = &zones
                && let Some(first) = list.first()
                && w.zone.is_empty()
            {
                w.zone.clone_from(first);
            }
            if matches!(zones, Ok(Some(ref list)) if !list.is_empty()) || matches!(zones, Ok(None))
            {
                w.step = Step::Record;
            }
            w.zones = Load::Done(zones);
        }
    }

    /// Draws the welcome in the central panel; returns what it asks of the app.
    #[allow(clippy::too_many_lines)] // one page, drawn top to bottom
    pub(super) fn welcome_ui(&mut self, ui: &mut Ui) -> Option<Request> {
        let w = self.welcome.as_mut()?;
        ui.heading(t!("welcome.title"));
        ui.label(t!("welcome.intro"));
        ui.add_space(8.0);
        let mut request = None;
        match w.step {
            Step::Kind => {
                ui.collapsing(t!("welcome.import"), |ui| {
                    ui.label(t!("welcome.import_help"));
                    ui.horizontal(|ui| {
                        let l = ui.label(t!("welcome.import_path"));
                        ui.add(
                            egui::TextEdit::singleline(&mut w.import_path)
                                .hint_text(t!("welcome.import_path_hint"))
                                .desired_width(380.0),
                        )
                        .labelled_by(l.id);
                        let running = w.import == Load::Running;
                        if ui
                            .add_enabled(
                                !running && !w.import_path.trim().is_empty(),
                                egui::Button::new(t!("welcome.import_button")),
                            )
                            .clicked()
                        {
                            w.import = Load::Running;
                            request = Some(Request::WelcomeImport);
                        }
                        if running {
                            ui.spinner();
                        }
                    });
                    if let Load::Done(Err(e)) = &w.import {
                        ui.colored_label(RED, e);
                    }
                });
                ui.add_space(6.0);
                let keep = kind_list(
                    ui,
                    Side::Provider,
                    &mut w.search,
                    &mut w.row,
                    &[],
                    &mut w.focus,
                );
                if !w.row.kind.is_empty() {
                    w.step = Step::Credential;
                }
                if !keep {
                    self.welcome = None;
                }
            }
            Step::Credential => {
                let Some(info) = kind_info(&w.row.kind) else {
                    w.step = Step::Kind;
                    return None;
                };
                ui.label(
                    RichText::new(t!("welcome.step_credential", kind = info.title())).strong(),
                );
                ui.label(info.credential());
                if !info.credential_url.is_empty() {
                    ui.hyperlink_to(t!("welcome.create_it"), info.credential_url);
                }
                ui.add_space(6.0);
                egui::Grid::new("welcome_fields")
                    .num_columns(2)
                    .spacing([12.0, 8.0])
                    .show(ui, |ui| {
                        for f in info.fields.iter().filter(|f| f.required && !f.boolean) {
                            provider_field(
                                ui,
                                &BTreeMap::new(),
                                &mut w.row,
                                f,
                                &info.help(f.name),
                                &mut self.reveal,
                            );
                        }
                    });
                ui.add_space(8.0);
                let complete = info
                    .fields
                    .iter()
                    .filter(|f| f.required && !f.boolean)
                    .all(|f| {
                        w.row
                            .fields
                            .get(f.name)
                            .is_some_and(|v| !v.trim().is_empty())
                    });
                ui.horizontal(|ui| {
                    if ui.button(t!("welcome.back")).clicked() {
                        w.row = ProviderRow::default();
                        w.zones = Load::Idle;
                        w.step = Step::Kind;
                        w.focus = true;
                    }
                    let running = w.zones == Load::Running;
                    if ui
                        .add_enabled(complete && !running, egui::Button::new(t!("welcome.test")))
                        .clicked()
                    {
                        w.zones = Load::Running;
                        request = Some(Request::WelcomeZones);
                    }
                    if running {
                        ui.spinner();
                        ui.label(t!("providers.testing"));
                    }
                });
                match &w.zones {
                    Load::Done(Err(e)) => {
                        ui.colored_label(RED, t!("welcome.refused", error = e));
                    }
                    Load::Done(Ok(Some(list))) if list.is_empty() => {
                        ui.colored_label(RED, crate::provider::zones_line(&[]));
                    }
                    _ => {}
                }
            }
            Step::Record => request = record_step(ui, w),
        }
        if request == Some(Request::Save) {
            // The welcome only runs on an empty config: its answers are the whole form.
            let w = self.welcome.as_ref()?;
            let name = w.name();
            self.form.providers = vec![ProviderRow {
                name: w.row.kind.clone(),
                ..w.row.clone()
            }];
            let types: &[&str] = match w.family {
                1 => &["AAAA"],
                2 => &["A", "AAAA"],
                _ => &["A"],
            };
            self.form.ipv4 = types.contains(&"A");
            self.form.ipv6 = types.contains(&"AAAA");
            self.form.records = types
                .iter()
                .map(|t| RecordRow {
                    name: name.clone(),
                    provider: w.row.kind.clone(),
                    record_type: if types.len() == 1 {
                        String::new()
                    } else {
                        (*t).to_owned()
                    },
                    ..RecordRow::default()
                })
                .collect();
        }
        request
    }

    /// The file "Import from another client…" names (the app reads and converts it off the UI thread).
    #[must_use]
    pub fn welcome_import_path(&self) -> Option<String> {
        self.welcome
            .as_ref()
            .map(|w| w.import_path.trim().to_owned())
    }

    /// The import's answer: the other client's settings as the form (secrets typed in, so Save stores
    /// them as it stores any), and what was left out, shown on the Records page until Save. An error keeps
    /// the welcome, with the reason.
    pub fn welcome_imported(&mut self, imported: Result<(SettingsForm, String), String>) {
        match imported {
            Ok((form, report)) => {
                let keep = (self.form.keyring_entries.clone(), self.form.start_at_login);
                self.form = form;
                (self.form.keyring_entries, self.form.start_at_login) = keep;
                self.form.message = Some(report);
                self.welcome = None;
                self.page = Page::Records;
            }
            Err(e) => {
                if let Some(w) = &mut self.welcome {
                    w.import = Load::Done(Err(e));
                }
            }
        }
    }

    /// A Save of the welcome succeeded: the window shows its pages, the Status page first, which ends by
    /// offering to run unattended.
    pub(super) fn welcome_saved(&mut self) {
        if self.welcome.take().is_some() {
            self.page = Page::Status;
            self.offer_unattended = true;
        }
    }
}

/// The domain (picked, or typed when the API cannot list), the record's name and family, and Save.
fn record_step(ui: &mut Ui, w: &mut Welcome) -> Option<Request> {
    let mut request = None;
    ui.label(RichText::new(t!("welcome.step_record")).strong());
    if let Load::Done(Ok(Some(list))) = &w.zones {
        ui.label(crate::provider::zones_line(list));
        let l = ui.label(t!("welcome.domain"));
        egui::ComboBox::from_id_salt("welcome_zone")
            .selected_text(w.zone.clone())
            .width(300.0)
            .show_ui(ui, |ui| {
                for z in list {
                    ui.selectable_value(&mut w.zone, z.clone(), z);
                }
            })
            .response
            .labelled_by(l.id);
        let l = ui.label(t!("welcome.host", zone = w.zone));
        ui.add(
            egui::TextEdit::singleline(&mut w.host)
                .hint_text(t!("welcome.host_hint"))
                .desired_width(300.0),
        )
        .labelled_by(l.id);
    } else {
        ui.label(t!("welcome.no_list"));
        let l = ui.label(t!("welcome.full_name"));
        ui.add(
            egui::TextEdit::singleline(&mut w.zone)
                .hint_text(t!("welcome.full_name_hint"))
                .desired_width(300.0),
        )
        .labelled_by(l.id);
    }
    ui.add_space(6.0);
    ui.horizontal(|ui| {
        for (i, label) in [t!("welcome.ipv4"), t!("welcome.ipv6"), t!("welcome.both")]
            .into_iter()
            .enumerate()
        {
            ui.radio_value(&mut w.family, i, label);
        }
    });
    let name = w.name();
    let valid = name.contains('.')
        && name
            .split('.')
            .all(|l| !l.is_empty() && l.len() <= 63 && !l.contains(char::is_whitespace));
    ui.add_space(6.0);
    if valid {
        ui.label(t!("welcome.will_publish", name = name));
    }
    ui.horizontal(|ui| {
        if ui.button(t!("welcome.back")).clicked() {
            w.step = Step::Credential;
        }
        if ui
            .add_enabled(valid, egui::Button::new(t!("welcome.save")))
            .clicked()
        {
            request = Some(Request::Save);
        }
    });
    request
}
