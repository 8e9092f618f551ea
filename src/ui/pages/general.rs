//! The General page: check interval, address families, language, notifications, start at login.

#[allow(clippy::wildcard_imports)] // the pages share their types and helpers
use super::*;

impl View {
    #[allow(clippy::too_many_lines)] // one page, drawn top to bottom
    pub(super) fn general_page(&mut self, ui: &mut Ui) -> Option<Request> {
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
        let asked = self.unattended_section(ui);
        ui.add_space(12.0);
        ui.small(t!("general.about", version = env!("CARGO_PKG_VERSION")));
        asked
    }

    /// "Run unattended (as a system service)", or "Stop running unattended" when the service runs these
    /// settings; what the last attempt reported.
    pub(super) fn unattended_section(&mut self, ui: &mut Ui) -> Option<Request> {
        if self.runs_as == RunsAs::Other {
            return None;
        }
        let mut asked = None;
        ui.add_space(12.0);
        ui.separator();
        ui.strong(t!("unattended.heading"));
        let running = matches!(self.unattended, Load::Running);
        if self.runs_as == RunsAs::Service {
            ui.label(t!("unattended.service_runs"));
            let stop = ui.add_enabled(
                !running && self.read_only.is_none(),
                egui::Button::new(t!("unattended.stop")),
            );
            ui.small(t!("unattended.stop_explained"));
            if stop.clicked() {
                asked = Some(Request::StopUnattended);
            }
        } else {
            ui.label(t!("unattended.explained"));
            // What moves is the file as saved: changes not yet saved would stay behind.
            let ready = !self.dirty() && !self.baseline.records.is_empty();
            let run = ui.add_enabled(!running && ready, egui::Button::new(t!("unattended.run")));
            if !ready {
                ui.small(if self.dirty() {
                    t!("unattended.save_first")
                } else {
                    t!("unattended.add_record_first")
                });
            }
            if run.clicked() {
                asked = Some(Request::RunUnattended);
            }
        }
        match &self.unattended {
            Load::Idle => {}
            Load::Running => {
                ui.horizontal(|ui| {
                    ui.spinner();
                    ui.label(t!("unattended.waiting"));
                });
            }
            Load::Done(Ok(report)) => {
                // The sentence in green; the service's first round as it reads (it may have failed).
                let (done, round) = report.split_once('\n').unwrap_or((report, ""));
                ui.colored_label(GREEN, done);
                if !round.is_empty() {
                    ui.label(round);
                }
            }
            Load::Done(Err(e)) => {
                ui.colored_label(RED, e);
            }
        }
        asked
    }
}
