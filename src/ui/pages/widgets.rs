//! Widgets the pages share: a table that fits or scrolls, error lines under a field, a dialog's footer.

/// The errors of one entry (`record[2]` and its fields), each as "field: message".
pub(super) fn entry_errors(errors: &BTreeMap<String, String>, prefix: &str) -> Vec<String> {
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
pub(super) fn rebase(errors: &BTreeMap<String, String>, prefix: &str) -> BTreeMap<String, String> {
    errors
        .iter()
        .filter_map(|(path, e)| {
            let rest = path.strip_prefix(prefix)?.strip_prefix('.')?;
            Some((rest.to_owned(), e.clone()))
        })
        .collect()
}

pub(super) fn show_error(ui: &mut Ui, errors: &BTreeMap<String, String>, path: &str) {
    if let Some(e) = errors.get(path) {
        ui.colored_label(RED, e);
    }
}

/// A striped table whose first row is `headings` (a blank heading over a column of buttons).
pub(super) fn table(
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

/// A table's last cell: cut to the window's width with an ellipsis, the whole text (`full`) on hover, and
/// a click copies it.
pub(super) fn long_cell(ui: &mut Ui, colour: Option<Color32>, shown: &str, full: &str) {
    let text = match colour {
        Some(c) => RichText::new(shown).color(c),
        None => RichText::new(shown),
    };
    let r = ui
        .add(
            egui::Label::new(text)
                .truncate()
                .sense(egui::Sense::click()),
        )
        .on_hover_text(format!("{full}\n\n{}", t!("table.click_copies")));
    if r.clicked() {
        ui.ctx().copy_text(full.to_owned());
    }
}

/// A dialog's button.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Pressed {
    Ok,
    /// Back to the list of kinds (adding a provider or alert).
    Back,
    Cancel,
}

/// A dialog's last lines: what stops its OK, then OK, [Back] and Cancel.
pub(super) fn dialog_footer(ui: &mut Ui, problem: Option<&str>, back: bool) -> Option<Pressed> {
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

#[allow(clippy::wildcard_imports)] // the pages share their types and helpers
use super::*;

/// What a single-line field holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Typed {
    Text,
    /// "5m", "1h30m": checked as it is typed.
    Duration,
    /// A whole number (TTL): only digits can be typed.
    Number,
}

/// A label and a single-line field in a grid, with its problem under it.
pub(super) fn typed_row(
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

/// A field's label: the catalogue's name for it, or the config key.
pub(super) fn field_label(name: &str) -> String {
    crate::config::kinds::label(name)
}
