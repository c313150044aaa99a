//! Views as Discord messages: text within Discord's 2,000 characters,
//! buttons in rows of at most five, and lists too long for five rows as
//! select menus. Every button's `custom_id` is the chat layer's button
//! codec (≤ 64 bytes, within Discord's 100); a select menu's option value
//! is the same token, so a choice is a press.

use serenity::all::{
    ButtonStyle, CreateActionRow, CreateButton, CreateInputText, CreateModal, CreateSelectMenu,
    CreateSelectMenuKind, CreateSelectMenuOption, InputTextStyle,
};

use crate::chat::i18n::t;
use crate::chat::{Button, View};
use crate::domain::Locale;

/// Discord's longest message content, in characters.
pub const MAX_CONTENT: usize = 2_000;
/// Rows a message may hold, and buttons a row may hold.
const MAX_ROWS: usize = 5;
const MAX_PER_ROW: usize = 5;
/// Options of one select menu.
const MAX_OPTIONS: usize = 25;
/// A button label, a select option's label and value, a `custom_id`.
const MAX_LABEL: usize = 80;
const MAX_OPTION_LABEL: usize = 100;
/// A modal's title and a text input's label.
const MAX_TITLE: usize = 45;
/// A text input's placeholder.
const MAX_PLACEHOLDER: usize = 100;

/// The `custom_id` of the button that opens the answer form again (a
/// transport control, not a chat action: it only shows the form).
pub const ANSWER_ID: &str = "~answer";
/// The `custom_id` of the answer form and of its one field.
pub const MODAL_ID: &str = "~modal";
pub const FIELD_ID: &str = "~value";
/// Prefix of select menus' `custom_id` (their chosen value is the token).
const SELECT_PREFIX: &str = "~select:";

/// Cuts `s` to at most `max` characters, marking the cut.
#[must_use]
pub fn clip(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_owned();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// Splits a long text into messages of at most [`MAX_CONTENT`]
/// characters, at line breaks where it can.
#[must_use]
pub fn split(text: &str) -> Vec<String> {
    let mut parts: Vec<String> = Vec::new();
    let mut current = String::new();
    let mut len = 0;
    for line in text.split_inclusive('\n') {
        let n = line.chars().count();
        if len + n > MAX_CONTENT && !current.is_empty() {
            parts.push(std::mem::take(&mut current));
            len = 0;
        }
        if n > MAX_CONTENT {
            // One line longer than a message: hard cut.
            let chars: Vec<char> = line.chars().collect();
            for chunk in chars.chunks(MAX_CONTENT) {
                parts.push(chunk.iter().collect());
            }
            continue;
        }
        current.push_str(line);
        len += n;
    }
    if !current.is_empty() || parts.is_empty() {
        parts.push(current);
    }
    parts
}

fn button(b: &Button) -> CreateButton {
    CreateButton::new(b.action.encode())
        .label(clip(&b.label, MAX_LABEL))
        .style(ButtonStyle::Secondary)
}

/// The components of a view: its rows of buttons, each split into rows of
/// five. When that makes more than five rows, the last row stays buttons
/// (it holds navigation: back, pages) and the others become select menus
/// of their buttons, 25 options each.
#[must_use]
pub fn components(l: Locale, view: &View) -> Vec<CreateActionRow> {
    let rows: Vec<&[Button]> = view
        .buttons
        .iter()
        .flat_map(|row| row.chunks(MAX_PER_ROW))
        .collect();
    if rows.len() <= MAX_ROWS {
        return rows
            .iter()
            .map(|row| CreateActionRow::Buttons(row.iter().map(button).collect()))
            .collect();
    }
    let (listed, kept) = rows.split_at(rows.len() - 1);
    let options: Vec<&Button> = listed.iter().flat_map(|r| r.iter()).collect();
    let menus = options.chunks(MAX_OPTIONS).take(MAX_ROWS - kept.len());
    if options.len() > MAX_OPTIONS * (MAX_ROWS - kept.len()) {
        tracing::warn!(
            buttons = options.len(),
            "a view has more choices than a Discord message can hold; the rest are left out"
        );
    }
    let mut out: Vec<CreateActionRow> = menus
        .enumerate()
        .map(|(i, chunk)| {
            let options = chunk
                .iter()
                .map(|b| {
                    CreateSelectMenuOption::new(clip(&b.label, MAX_OPTION_LABEL), b.action.encode())
                })
                .collect();
            CreateActionRow::SelectMenu(
                CreateSelectMenu::new(
                    format!("{SELECT_PREFIX}{i}"),
                    CreateSelectMenuKind::String { options },
                )
                .placeholder(t(l, "discord.select", &[])),
            )
        })
        .collect();
    out.extend(
        kept.iter()
            .map(|row| CreateActionRow::Buttons(row.iter().map(button).collect())),
    );
    out
}

/// The button that opens the answer form (after a message that asks for a
/// typed answer where a form could not be the reply).
pub fn answer_row(l: Locale) -> CreateActionRow {
    CreateActionRow::Buttons(vec![
        CreateButton::new(ANSWER_ID)
            .label(t(l, "discord.answer", &[]))
            .style(ButtonStyle::Primary),
    ])
}

/// The answer form: one field, the question's first line as its hint.
pub fn modal(l: Locale, question: &str) -> CreateModal {
    let hint = question
        .lines()
        .find(|s| !s.trim().is_empty())
        .unwrap_or("");
    CreateModal::new(MODAL_ID, clip(&t(l, "discord.modal.title", &[]), MAX_TITLE)).components(vec![
        CreateActionRow::InputText(
            CreateInputText::new(
                InputTextStyle::Paragraph,
                clip(&t(l, "discord.modal.label", &[]), MAX_TITLE),
                FIELD_ID,
            )
            .placeholder(clip(hint, MAX_PLACEHOLDER))
            .max_length(1_000)
            .required(true),
        ),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chat::action::Action;

    fn b(i: u32) -> Button {
        Button {
            label: format!("row {i}"),
            action: Action::Board {
                metric: crate::engine::analytics::Metric::Score,
                window: crate::engine::analytics::Window::H24,
                page: i,
            },
        }
    }

    fn json(rows: &[CreateActionRow]) -> serde_json::Value {
        serde_json::to_value(rows).unwrap()
    }

    #[test]
    fn short_views_keep_their_buttons_and_long_rows_wrap_at_five() {
        let view = View::text("x")
            .with_row((0..7).map(b).collect())
            .with_row(vec![b(9)]);
        let rows = json(&components(Locale::En, &view));
        let rows = rows.as_array().unwrap();
        assert_eq!(rows.len(), 3);
        assert_eq!(rows[0]["components"].as_array().unwrap().len(), 5);
        assert_eq!(rows[1]["components"].as_array().unwrap().len(), 2);
        assert_eq!(rows[2]["components"][0]["custom_id"], "a:score:24h:9");
        assert_eq!(rows[2]["components"][0]["type"], 2);
    }

    #[test]
    fn more_than_five_rows_become_select_menus_with_the_last_row_kept() {
        let mut view = View::text("x");
        for i in 0..30 {
            view = view.with_row(vec![b(i)]);
        }
        view = view.with_row(vec![b(100), b(101)]);
        let rows = json(&components(Locale::En, &view));
        let rows = rows.as_array().unwrap();
        assert_eq!(rows.len(), 3, "two menus (25 + 5 options) and the kept row");
        let menu = &rows[0]["components"][0];
        assert_eq!(menu["type"], 3);
        assert_eq!(menu["options"].as_array().unwrap().len(), 25);
        assert_eq!(menu["options"][3]["value"], "a:score:24h:3");
        assert_eq!(
            rows[1]["components"][0]["options"]
                .as_array()
                .unwrap()
                .len(),
            5
        );
        assert_eq!(rows[2]["components"].as_array().unwrap().len(), 2);
        assert_eq!(rows[2]["components"][1]["custom_id"], "a:score:24h:101");
    }

    #[test]
    fn long_texts_split_at_lines_within_the_limit() {
        let line = "x".repeat(150) + "\n";
        let text = line.repeat(30);
        let parts = split(&text);
        assert!(parts.len() > 1);
        assert!(parts.iter().all(|p| p.chars().count() <= MAX_CONTENT));
        assert_eq!(parts.concat(), text);
        let huge = "y".repeat(4_500);
        let parts = split(&huge);
        assert_eq!(parts.len(), 3);
        assert_eq!(parts.concat(), huge);
        assert_eq!(split(""), vec![String::new()]);
    }

    #[test]
    fn the_answer_form_has_one_required_field_within_discord_limits() {
        let m = serde_json::to_value(modal(Locale::Es, &"¿Cuánto? ".repeat(40))).unwrap();
        assert_eq!(m["custom_id"], MODAL_ID);
        assert!(m["title"].as_str().unwrap().chars().count() <= MAX_TITLE);
        let field = &m["components"][0]["components"][0];
        assert_eq!(field["custom_id"], FIELD_ID);
        assert_eq!(field["required"], true);
        assert!(field["placeholder"].as_str().unwrap().chars().count() <= MAX_PLACEHOLDER);
    }
}
