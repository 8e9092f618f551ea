//! The History page: what happened, newest first, in local time.

#[allow(clippy::wildcard_imports)] // the pages share their types and helpers
use super::*;

impl View {
    #[allow(clippy::too_many_lines)] // one page, drawn top to bottom
    pub(super) fn history_page(&mut self, ui: &mut Ui) -> Option<Request> {
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
                            let mut full = detail.clone();
                            if let Some(err) = &e.error {
                                if !detail.is_empty() {
                                    detail.push_str(": ");
                                    full.push_str(": ");
                                }
                                // What it means in the window's language, the provider's words after it.
                                let err = crate::notify::detail(err);
                                if let Some(class) = e.failure {
                                    let why = crate::notify::why(class);
                                    detail.push_str(&why);
                                    full.push_str(&why);
                                    full.push('\n');
                                    full.push_str(&t!("event.detail", detail = err));
                                } else {
                                    detail.push_str(&err);
                                    full.push_str(&err);
                                }
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
                            if e.omitted.is_some() {
                                full.clone_from(&detail);
                            }
                            long_cell(ui, None, &detail, &full);
                            ui.end_row();
                        }
                    },
                );
            }
        }
        request
    }
}

pub(super) fn history_event(event: &str) -> (Color32, String) {
    let (colour, text) = match event {
        "ip-changed" => (Color32::LIGHT_BLUE, t!("history.ip_changed")),
        "updated" => (GREEN, t!("history.updated")),
        "failed" => (RED, t!("history.failed")),
        "recovered" => (GREEN, t!("history.recovered")),
        "detection-failed" => (RED, t!("history.detection_failed")),
        "detection-recovered" => (GREEN, t!("history.detection_recovered")),
        "state-not-saved" => (RED, t!("history.state_not_saved")),
        "state-saved" => (GREEN, t!("history.state_saved")),
        "unreachable" => (ORANGE, t!("history.unreachable")),
        "reachable" => (GREEN, t!("history.reachable")),
        "round-summary" => (Color32::GRAY, t!("history.round_summary")),
        other => (Color32::GRAY, other.to_owned().into()),
    };
    (colour, text.into_owned())
}
