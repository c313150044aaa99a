//! Slash commands, generated from the chat layer's command list: a command
//! added in `chat/` is registered here with no Discord code. Options come
//! from each command's [`OptionSpec`]s (fixed choices for metric, window
//! and on/off; suggestions for wallets and profile names), names and
//! descriptions in every locale from `locales/`.
//!
//! Every command runs the same action: its options, in order, become the
//! text a user would type (`/alfa pnl 7d`), which the chat layer parses as
//! on every platform.

use poise::{BoxFuture, CommandParameter};
use serenity::all::{
    CommandDataOption, CommandDataOptionValue, CommandInteraction, CommandOptionType,
    CreateAutocompleteResponse, CreateCommand, CreateCommandOption,
};

use super::{Data, Error};
use crate::chat::command::{COMMANDS, CommandSpec, OptionKind, OptionSpec, command_line};
use crate::chat::i18n::t;
use crate::chat::suggest::choices;
use crate::domain::Locale;

type CowStr = std::borrow::Cow<'static, str>;

/// Discord's longest command or option description.
const MAX_DESCRIPTION: usize = 100;

/// Discord's locale codes for each of ours (the first is the default's).
fn discord_locales(l: Locale) -> &'static [&'static str] {
    match l {
        Locale::En => &["en-US", "en-GB"],
        Locale::Es => &["es-ES", "es-419"],
    }
}

/// The localizations of a text key, for every locale but English (the
/// default).
fn localized(key: &str, f: impl Fn(String) -> String) -> Vec<(CowStr, CowStr)> {
    Locale::ALL
        .iter()
        .filter(|l| **l != Locale::En)
        .flat_map(|l| {
            let text = f(t(*l, key, &[]));
            discord_locales(*l)
                .iter()
                .map(move |code| (CowStr::Borrowed(code), CowStr::Owned(text.clone())))
        })
        .collect()
}

fn description(l: Locale, key: &str) -> String {
    super::view::clip(&t(l, key, &[]), MAX_DESCRIPTION)
}

/// Fixed choices, localized. One function per kind: poise takes a plain
/// function pointer.
fn with_choices(mut b: CreateCommandOption, kind: OptionKind) -> CreateCommandOption {
    b = b.kind(CommandOptionType::String);
    // Every locale lists the same choices in the same order.
    let others: Vec<(Locale, Vec<(&'static str, String)>)> = Locale::ALL
        .iter()
        .filter(|l| **l != Locale::En)
        .map(|l| (*l, choices(*l, kind)))
        .collect();
    for (n, (value, label)) in choices(Locale::En, kind).into_iter().enumerate() {
        let names: Vec<(&str, String)> = others
            .iter()
            .flat_map(|(l, cs)| {
                let name = cs[n].1.clone();
                discord_locales(*l)
                    .iter()
                    .map(move |code| (*code, name.clone()))
            })
            .collect();
        b = b.add_string_choice_localized(label, value, names);
    }
    b
}

fn metric_type(b: CreateCommandOption) -> CreateCommandOption {
    with_choices(b, OptionKind::Metric)
}
fn window_type(b: CreateCommandOption) -> CreateCommandOption {
    with_choices(b, OptionKind::Window)
}
fn on_off_type(b: CreateCommandOption) -> CreateCommandOption {
    with_choices(b, OptionKind::OnOff)
}
fn text_type(b: CreateCommandOption) -> CreateCommandOption {
    b.kind(CommandOptionType::String).max_length(100)
}

/// Suggestions while an option is typed (poise calls this for options
/// registered with autocomplete).
fn autocomplete<'a>(
    ctx: poise::ApplicationContext<'a, Data, Error>,
    typed: &'a str,
) -> BoxFuture<'a, CreateAutocompleteResponse> {
    Box::pin(async move { ctx.data().handler.suggestions(ctx.interaction, typed).await })
}

/// The one action of every command.
fn run<'a>(
    ctx: poise::ApplicationContext<'a, Data, Error>,
) -> BoxFuture<'a, Result<(), poise::FrameworkError<'a, Data, Error>>> {
    Box::pin(async move {
        let handler = &ctx.data().handler;
        let i = ctx.interaction;
        let first = super::interactions::Callback::of(handler.http(), i.id, &i.token);
        handler.command(ctx.interaction, first).await;
        Ok(())
    })
}

fn parameter(o: &OptionSpec) -> CommandParameter<Data, Error> {
    let suggest = matches!(
        o.kind,
        OptionKind::Wallet | OptionKind::Address | OptionKind::Profile
    );
    CommandParameter {
        name: o.name.into(),
        name_localizations: localized(&format!("slash.opt.{}", o.name), |s| s).into(),
        description: Some(description(Locale::En, o.about).into()),
        description_localizations: localized(o.about, |s| super::view::clip(&s, MAX_DESCRIPTION))
            .into(),
        required: o.required,
        channel_types: None,
        choices: Vec::new().into(),
        type_setter: Some(match o.kind {
            OptionKind::Metric => metric_type,
            OptionKind::Window => window_type,
            OptionKind::OnOff => on_off_type,
            OptionKind::Wallet | OptionKind::Address | OptionKind::Profile => text_type,
        }),
        autocomplete_callback: if suggest { Some(autocomplete) } else { None },
        __non_exhaustive: (),
    }
}

fn command(spec: &CommandSpec) -> poise::Command<Data, Error> {
    poise::Command {
        slash_action: Some(run),
        name: spec.name.into(),
        qualified_name: spec.name.into(),
        identifying_name: spec.name.into(),
        source_code_name: spec.name.into(),
        name_localizations: localized(&format!("slash.{}", spec.name), |s| s).into(),
        description: Some(description(Locale::En, spec.about).into()),
        description_localizations: localized(spec.about, |s| {
            super::view::clip(&s, MAX_DESCRIPTION)
        })
        .into(),
        parameters: spec.options.iter().map(parameter).collect(),
        ..Default::default()
    }
}

/// The framework's commands: one per chat command, in the chat layer's
/// order.
#[must_use]
pub fn all() -> Vec<poise::Command<Data, Error>> {
    COMMANDS.iter().map(command).collect()
}

/// The registration bodies of [`all`].
#[must_use]
pub fn registration() -> Vec<CreateCommand> {
    poise::builtins::create_application_commands(&all())
}

/// An option's value as typed text (choices are strings; numbers as
/// Discord sent them).
fn text_of(o: &CommandDataOption) -> String {
    match &o.value {
        CommandDataOptionValue::String(s) => s.clone(),
        CommandDataOptionValue::Integer(i) => i.to_string(),
        CommandDataOptionValue::Number(n) => n.to_string(),
        CommandDataOptionValue::Boolean(b) => if *b { "on" } else { "off" }.to_owned(),
        CommandDataOptionValue::Autocomplete { value, .. } => value.clone(),
        _ => String::new(),
    }
}

/// The command's spec and the line a user would have typed for this
/// interaction; `None` for a command this version does not know (an old
/// registration).
#[must_use]
pub fn line(i: &CommandInteraction) -> Option<(&'static CommandSpec, String)> {
    let spec = COMMANDS.iter().find(|c| c.name == i.data.name)?;
    let values: Vec<String> = spec
        .options
        .iter()
        .map(|o| {
            i.data
                .options
                .iter()
                .find(|d| d.name == o.name)
                .map(text_of)
                .unwrap_or_default()
        })
        .collect();
    let refs: Vec<&str> = values.iter().map(String::as_str).collect();
    Some((spec, command_line(spec.name, &refs)))
}

/// The kind of the option being typed in an autocomplete interaction.
#[must_use]
pub fn focused(i: &CommandInteraction) -> Option<OptionKind> {
    let spec = COMMANDS.iter().find(|c| c.name == i.data.name)?;
    let focused = i.data.autocomplete()?;
    spec.options
        .iter()
        .find(|o| o.name == focused.name)
        .map(|o| o.kind)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn registered() -> Vec<serde_json::Value> {
        registration()
            .iter()
            .map(|c| serde_json::to_value(c).unwrap())
            .collect()
    }

    #[test]
    fn every_chat_command_is_registered_once_with_its_options() {
        let cmds = registered();
        let names: Vec<&str> = cmds.iter().map(|c| c["name"].as_str().unwrap()).collect();
        let chat: Vec<&str> = COMMANDS.iter().map(|c| c.name).collect();
        assert_eq!(names, chat);
        for (c, spec) in cmds.iter().zip(COMMANDS) {
            let d = c["description"].as_str().unwrap();
            assert!(!d.is_empty() && d.chars().count() <= MAX_DESCRIPTION, "{d}");
            assert_eq!(
                c["description_localizations"]["es-ES"],
                description(Locale::Es, spec.about)
            );
            let opts = c["options"].as_array().cloned().unwrap_or_default();
            assert_eq!(opts.len(), spec.options.len(), "{}", spec.name);
            for (o, s) in opts.iter().zip(spec.options) {
                assert_eq!(o["name"], s.name);
                assert_eq!(o["type"], 3, "string options");
                assert_eq!(o["required"], s.required);
            }
        }
    }

    #[test]
    fn names_follow_discords_rules_in_every_locale_and_stay_unique() {
        let ok = |n: &str| {
            !n.is_empty()
                && n.chars().count() <= 32
                && n.chars()
                    .all(|c| c.is_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
        };
        for l in Locale::ALL {
            let mut seen = std::collections::HashSet::new();
            for spec in COMMANDS {
                let n = t(l, &format!("slash.{}", spec.name), &[]);
                assert!(ok(&n), "{n}");
                assert!(seen.insert(n.clone()), "{n} twice in {}", l.code());
                for o in spec.options {
                    assert!(ok(&t(l, &format!("slash.opt.{}", o.name), &[])));
                }
            }
        }
    }

    #[test]
    fn fixed_choices_are_the_values_the_parser_takes() {
        let cmds = registered();
        let alfa = cmds.iter().find(|c| c["name"] == "alfa").unwrap();
        let metric = &alfa["options"][0];
        let values: Vec<&str> = metric["choices"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["value"].as_str().unwrap())
            .collect();
        assert_eq!(values, ["score", "pnl", "roi", "wr", "vol"]);
        assert_eq!(
            metric["choices"][3]["name_localizations"]["es-ES"],
            "Acierto"
        );
        let track = cmds.iter().find(|c| c["name"] == "track").unwrap();
        assert_eq!(track["options"][0]["autocomplete"], true);
        assert_eq!(track["name_localizations"]["es-ES"], "seguir");
    }
}
