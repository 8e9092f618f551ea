//! The Records page: the records as a table, added and edited in a dialog.

#[allow(clippy::wildcard_imports)] // the pages share their types and helpers
use super::*;

impl View {
    #[allow(clippy::too_many_lines)] // one page, drawn top to bottom
    pub(super) fn records_page(&mut self, ui: &mut Ui) -> Option<Request> {
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
}

/// What stops the record dialog's OK (the rest is checked at Save, like `ddns-tray check`).
pub(super) fn record_problem(
    row: &RecordRow,
    index: Option<usize>,
    form: &SettingsForm,
) -> Option<String> {
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
