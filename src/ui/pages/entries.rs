//! The Providers and Alerts pages: the lists of `[[provider]]` and `[[notify]]` entries, grouped by kind, and the dialog that adds or edits one (the kind first, from a searchable list; then the kind's fields).

#[allow(clippy::wildcard_imports)] // the pages share their types and helpers
use super::*;

/// `cloudflare`, `cloudflare-2`, … : a name no provider has yet.
pub(super) fn unique_name(kind: &str, taken: &[String]) -> String {
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

/// What an alert takes, under its name: its events and hourly limit, or that it is a heartbeat.
pub(super) fn alert_summary(n: &NotifierRow) -> String {
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
pub(super) enum EntryAction {
    Edit,
    Test,
    Remove,
}

/// One provider or notifier in its list: name and service, Edit / Test / Remove, a summary line, what its
/// last test found, and Save's problems with it.
pub(super) fn entry_group(
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
                    .map_or_else(|| row.kind.clone(), crate::config::kinds::KindInfo::title),
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
pub(super) fn entry_problem(
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

impl View {
    pub(super) fn providers_page(&mut self, ui: &mut Ui) -> Option<Request> {
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

    pub(super) fn alerts_page(&mut self, ui: &mut Ui) -> Option<Request> {
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

    /// A provider or alert list: "none yet", one box per entry (with `summaries[i]` under its name), then
    /// the Add button.
    pub(super) fn entry_list(
        &mut self,
        ui: &mut Ui,
        side: Side,
        summaries: &[String],
    ) -> Option<Request> {
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
    pub(super) fn open_entry(&mut self, side: Side, index: Option<usize>) {
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
    pub(super) fn on_entry(
        &mut self,
        side: Side,
        chosen: Option<(EntryAction, usize)>,
    ) -> Option<Request> {
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
}
