//! The Detection page: the policy, each family's sources with their fields, and Detect now.

#[allow(clippy::wildcard_imports)] // the pages share their types and helpers
use super::*;

impl View {
    #[allow(clippy::too_many_lines)] // one page, drawn top to bottom
    pub(super) fn detection_page(&mut self, ui: &mut Ui) -> Option<Request> {
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
                                    for k in crate::detect::settings::KINDS {
                                        ui.selectable_value(
                                            &mut row.kind,
                                            k.kind.to_owned(),
                                            k.kind,
                                        )
                                        .on_hover_text(k.credential());
                                    }
                                })
                                .response
                                .labelled_by(l.id);
                            ui.end_row();
                            let info = crate::detect::settings::KINDS
                                .iter()
                                .find(|k| k.kind == row.kind);
                            for f in info.map_or(&[][..], |k| k.fields) {
                                let name = f.name;
                                let value = row.fields.entry(name.to_owned()).or_default();
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
                                if let Some(k) = info {
                                    ui.label("");
                                    ui.small(k.help(name));
                                    ui.end_row();
                                }
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
                    if let Some(reach) = &d.reach {
                        ui.colored_label(ORANGE, crate::notify::reach(reach));
                    }
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
}

/// The form without what is not the user's input (messages, errors).
pub(super) fn comparable(form: &SettingsForm) -> SettingsForm {
    let mut f = form.clone();
    f.errors.clear();
    f.message = None;
    f.keyring_entries.clear();
    f
}

pub(super) fn policy_name(p: &str) -> String {
    match p {
        "agree" => t!("detection.policy_agree").into_owned(),
        "first" => t!("detection.policy_first").into_owned(),
        // No policy in the file: the default, `confirm`.
        _ => t!("detection.policy_confirm").into_owned(),
    }
}

pub(super) fn source_field_name(name: &str) -> String {
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
