//! Commands: the one list every platform serves, and the parser.

/// Where a command may be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Anywhere, including groups.
    Anywhere,
    /// Only in a private chat (shows or changes personal data).
    Private,
}

/// A command's definition: the single source for parsing, /help and the
/// platforms' command menus.
#[derive(Debug, Clone, Copy)]
pub struct CommandSpec {
    pub name: &'static str,
    pub aliases: &'static [&'static str],
    /// Locale key of the argument's name (`arg.wallet`), if it takes one.
    pub arg: Option<&'static str>,
    /// Locale key of the one-line description.
    pub about: &'static str,
    pub scope: Scope,
}

pub const COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        name: "start",
        aliases: &[],
        arg: None,
        about: "cmd.start",
        scope: Scope::Anywhere,
    },
    CommandSpec {
        name: "help",
        aliases: &[],
        arg: None,
        about: "cmd.help",
        scope: Scope::Anywhere,
    },
    CommandSpec {
        name: "track",
        aliases: &["follow"],
        arg: Some("arg.wallet"),
        about: "cmd.track",
        scope: Scope::Private,
    },
    CommandSpec {
        name: "untrack",
        aliases: &["unfollow"],
        arg: Some("arg.wallet"),
        about: "cmd.untrack",
        scope: Scope::Private,
    },
    CommandSpec {
        name: "list",
        aliases: &[],
        arg: None,
        about: "cmd.list",
        scope: Scope::Private,
    },
    CommandSpec {
        name: "status",
        aliases: &[],
        arg: None,
        about: "cmd.status",
        scope: Scope::Private,
    },
];

/// A parsed command. Arguments stay raw here: they are parsed into domain
/// types by the handler so the error reply can name what was wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Start,
    Help,
    Track(String),
    Untrack(String),
    List,
    Status,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CommandError {
    #[error("unknown command /{0}")]
    Unknown(String),
    #[error("/{command} needs an argument")]
    MissingArgument { command: &'static str },
}

impl Command {
    #[must_use]
    pub fn spec(&self) -> &'static CommandSpec {
        let name = match self {
            Self::Start => "start",
            Self::Help => "help",
            Self::Track(_) => "track",
            Self::Untrack(_) => "untrack",
            Self::List => "list",
            Self::Status => "status",
        };
        COMMANDS
            .iter()
            .find(|c| c.name == name)
            .unwrap_or(&COMMANDS[0])
    }
}

/// Parses a message. `None` when it is not a command at all. A `/cmd@bot`
/// suffix is accepted only when `bot_username` matches (or is unknown).
#[must_use]
pub fn parse(text: &str, bot_username: Option<&str>) -> Option<Result<Command, CommandError>> {
    let text = text.trim();
    let rest = text.strip_prefix('/')?;
    let (head, arg) = rest
        .split_once(char::is_whitespace)
        .map_or((rest, ""), |(h, a)| (h, a.trim()));
    let (name, target) = head
        .split_once('@')
        .map_or((head, None), |(n, b)| (n, Some(b)));
    if let (Some(target), Some(me)) = (target, bot_username)
        && !target.eq_ignore_ascii_case(me)
    {
        return None; // addressed to another bot in the group
    }
    let name = name.to_ascii_lowercase();
    let spec = COMMANDS
        .iter()
        .find(|c| c.name == name || c.aliases.contains(&name.as_str()));
    let Some(spec) = spec else {
        return Some(Err(CommandError::Unknown(name)));
    };
    let arg = arg.split_whitespace().next().unwrap_or_default().to_owned();
    if spec.arg.is_some() && arg.is_empty() {
        return Some(Err(CommandError::MissingArgument { command: spec.name }));
    }
    Some(Ok(match spec.name {
        "start" => Command::Start,
        "help" => Command::Help,
        "track" => Command::Track(arg),
        "untrack" => Command::Untrack(arg),
        "list" => Command::List,
        _ => Command::Status,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_commands_aliases_and_bot_suffix() {
        assert_eq!(parse("/start", None), Some(Ok(Command::Start)));
        assert_eq!(
            parse("/follow  AbC  extra", None),
            Some(Ok(Command::Track("AbC".into())))
        );
        assert_eq!(
            parse("/Track@AlfaBot xyz", Some("alfabot")),
            Some(Ok(Command::Track("xyz".into())))
        );
        assert_eq!(parse("/track@otherbot xyz", Some("alfabot")), None);
        assert_eq!(parse("hello", None), None);
        assert_eq!(
            parse("/track", None),
            Some(Err(CommandError::MissingArgument { command: "track" }))
        );
        assert_eq!(
            parse("/nope", None),
            Some(Err(CommandError::Unknown("nope".into())))
        );
    }

    #[test]
    fn every_command_round_trips_through_its_spec() {
        for spec in COMMANDS {
            let text = if spec.arg.is_some() {
                format!("/{} x", spec.name)
            } else {
                format!("/{}", spec.name)
            };
            let cmd = parse(&text, None).unwrap().unwrap();
            assert_eq!(cmd.spec().name, spec.name);
        }
    }

    proptest::proptest! {
        #[test]
        fn never_panics(s in "\\PC{0,80}") {
            let _ = parse(&s, Some("alfabot"));
        }
    }
}
