//! The Status page: what the engine is doing, one row per record.

#[allow(clippy::wildcard_imports)] // the pages share their types and helpers
use super::*;

impl View {
    #[allow(clippy::too_many_lines)] // one page, drawn top to bottom
    pub(super) fn status_page(&mut self, ui: &mut Ui, now: SystemTime) -> Option<Request> {
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
                model::IconState::Unreachable => (ORANGE, t!("state.unreachable")),
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
        if let Some(reach) = &status.reach {
            ui.colored_label(ORANGE, crate::notify::reach(reach));
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
            return self.welcome_offer(ui).or(request);
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
                            // What it means in the user's language; the provider's words in the tooltip.
                            let detail = crate::notify::detail(e);
                            let (shown, full) = match r.last_error_class {
                                Some(class) => {
                                    let why = crate::notify::why(class);
                                    let full =
                                        format!("{why}\n{}", t!("event.detail", detail = detail));
                                    (why, full)
                                }
                                None => (model::shorten(&detail, 60), detail),
                            };
                            long_cell(ui, Some(RED), &shown, &full);
                        }
                        None => {
                            ui.label("–");
                        }
                    }
                    ui.end_row();
                }
            },
        );
        self.welcome_offer(ui).or(request)
    }

    /// The welcome ends on this page: a PC that should keep its name current with no one logged in is
    /// offered to run unattended.
    fn welcome_offer(&mut self, ui: &mut Ui) -> Option<Request> {
        if self.offer_unattended && self.runs_as == RunsAs::Tray {
            self.unattended_section(ui)
        } else {
            None
        }
    }
}
