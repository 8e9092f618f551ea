//! The dialog that adds or edits a provider or an alert: the kind first, from a searchable list; then the kind's fields (the right widget for each), its events and hourly limit for alerts, and OK only when it is complete.

#[allow(clippy::wildcard_imports)] // the pages share their types and helpers
use super::*;

/// One field of a provider kind, as the right widget: a checkbox for true/false, a masked field with
/// Show/Hide for secrets, several lines for headers, else one line.
pub(super) fn provider_field(
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
        .map(crate::ui::settings::kept_source);
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

/// The searchable list of kinds a dialog starts with; false when it was cancelled.
pub(super) fn kind_list(
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
                    || k.title_in("en").to_lowercase().contains(&s)
                    || k.title().to_lowercase().contains(&s)
                    || k.credential().to_lowercase().contains(&s)
            }) {
                let button = egui::Button::new(RichText::new(k.title()).strong())
                    .right_text(RichText::new(k.kind).weak())
                    .min_size(egui::vec2(ui.available_width(), 24.0));
                let r = ui.add(button);
                ui.small(k.credential());
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
pub(super) fn events_row(ui: &mut Ui, errors: &BTreeMap<String, String>, events: &mut Vec<String>) {
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

impl View {
    /// The dialog's OK: the entry goes into its list (a renamed provider's records follow it).
    pub(super) fn accept(
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
    pub(super) fn dialog_ui(&mut self, ui: &mut Ui) -> Option<Request> {
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
                        ui.heading(info.map_or_else(
                            || row.kind.clone(),
                            crate::config::kinds::KindInfo::title,
                        ));
                        if let Some(k) = info {
                            ui.label(t!("providers.credential", what = k.credential()));
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
                                        let help = k.help(f.name);
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
