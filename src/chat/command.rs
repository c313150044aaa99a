//! Commands: the one list every platform serves, and the parser.

/// Where a command may be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Anywhere, including groups.
    Anywhere,
    /// Only in a private chat (shows or changes personal data).
    Private,
}

/// What a command takes after its name. The keys name the argument in
/// `locales/` (`arg.wallet`), for /help and error replies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arg {
    None,
    /// One word, which must be there.
    Required(&'static str),
    /// Any number of words, all optional.
    Optional(&'static str),
}

impl Arg {
    /// The locale key of the argument's name, if the command takes one.
    #[must_use]
    pub const fn key(self) -> Option<&'static str> {
        match self {
            Self::None => None,
            Self::Required(k) | Self::Optional(k) => Some(k),
        }
    }
}

/// A command's definition: the single source for parsing, /help and the
/// platforms' command menus.
#[derive(Debug, Clone, Copy)]
pub struct CommandSpec {
    pub name: &'static str,
    pub aliases: &'static [&'static str],
    pub arg: Arg,
    /// The argument as typed options, for platforms with forms (Discord's
    /// slash commands). Their values, in order, make the same text a user
    /// types after the name, so one parser serves both.
    pub options: &'static [OptionSpec],
    /// Locale key of the one-line description.
    pub about: &'static str,
    pub scope: Scope,
}

/// What an option holds: decides its type, choices and suggestions on
/// platforms that show forms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OptionKind {
    /// A wallet address (suggested: the user's follows, the top of /alfa).
    Wallet,
    /// A wallet or token address (suggested: the user's follows).
    Address,
    /// A leaderboard metric (fixed choices).
    Metric,
    /// A leaderboard timeframe (fixed choices).
    Window,
    /// One of the user's profile names (suggested).
    Profile,
    /// `on` or `off` (fixed choices).
    OnOff,
}

/// One typed option of a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OptionSpec {
    /// Lower-case ASCII, unique within the command.
    pub name: &'static str,
    pub kind: OptionKind,
    pub required: bool,
    /// Locale key of the option's description.
    pub about: &'static str,
}

const WALLET: OptionSpec = OptionSpec {
    name: "wallet",
    kind: OptionKind::Wallet,
    required: true,
    about: "opt.wallet",
};
const METRIC: OptionSpec = OptionSpec {
    name: "metric",
    kind: OptionKind::Metric,
    required: false,
    about: "opt.metric",
};
const WINDOW: OptionSpec = OptionSpec {
    name: "window",
    kind: OptionKind::Window,
    required: false,
    about: "opt.window",
};
const ON_OFF: OptionSpec = OptionSpec {
    name: "state",
    kind: OptionKind::OnOff,
    required: false,
    about: "opt.on_off",
};
const PROFILE: OptionSpec = OptionSpec {
    name: "profile",
    kind: OptionKind::Profile,
    required: false,
    about: "opt.profile",
};
const ABOUT: OptionSpec = OptionSpec {
    name: "address",
    kind: OptionKind::Address,
    required: false,
    about: "opt.why",
};

/// The text a user would type for `command` with these option values (in
/// the spec's order; empty values left out), so a form's answer goes
/// through [`parse`] like a typed message.
#[must_use]
pub fn command_line(command: &str, values: &[&str]) -> String {
    let mut line = format!("/{command}");
    for v in values.iter().map(|v| v.trim()).filter(|v| !v.is_empty()) {
        line.push(' ');
        line.push_str(v);
    }
    line
}

pub const COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        name: "start",
        aliases: &[],
        arg: Arg::None,
        options: &[],
        about: "cmd.start",
        scope: Scope::Anywhere,
    },
    CommandSpec {
        name: "help",
        aliases: &[],
        arg: Arg::None,
        options: &[],
        about: "cmd.help",
        scope: Scope::Anywhere,
    },
    CommandSpec {
        name: "copytrader",
        aliases: &["profiles", "ct"],
        arg: Arg::None,
        options: &[],
        about: "cmd.copytrader",
        scope: Scope::Private,
    },
    CommandSpec {
        name: "wallet",
        aliases: &["wallets", "keys"],
        arg: Arg::None,
        options: &[],
        about: "cmd.wallet",
        scope: Scope::Private,
    },
    CommandSpec {
        name: "track",
        aliases: &["follow"],
        arg: Arg::Required("arg.wallet"),
        options: &[WALLET],
        about: "cmd.track",
        scope: Scope::Private,
    },
    CommandSpec {
        name: "untrack",
        aliases: &["unfollow"],
        arg: Arg::Required("arg.wallet"),
        options: &[WALLET],
        about: "cmd.untrack",
        scope: Scope::Private,
    },
    CommandSpec {
        name: "list",
        aliases: &[],
        arg: Arg::None,
        options: &[],
        about: "cmd.list",
        scope: Scope::Private,
    },
    CommandSpec {
        name: "status",
        aliases: &[],
        arg: Arg::None,
        options: &[],
        about: "cmd.status",
        scope: Scope::Private,
    },
    CommandSpec {
        name: "pause",
        aliases: &[],
        arg: Arg::None,
        options: &[],
        about: "cmd.pause",
        scope: Scope::Private,
    },
    CommandSpec {
        name: "resume",
        aliases: &[],
        arg: Arg::None,
        options: &[],
        about: "cmd.resume",
        scope: Scope::Private,
    },
    CommandSpec {
        name: "stopentry",
        aliases: &[],
        arg: Arg::Optional("arg.on_off"),
        options: &[ON_OFF],
        about: "cmd.stopentry",
        scope: Scope::Private,
    },
    CommandSpec {
        name: "profit",
        aliases: &[],
        arg: Arg::Optional("arg.profile"),
        options: &[PROFILE],
        about: "cmd.profit",
        scope: Scope::Private,
    },
    CommandSpec {
        name: "daily",
        aliases: &[],
        arg: Arg::Optional("arg.profile"),
        options: &[PROFILE],
        about: "cmd.daily",
        scope: Scope::Private,
    },
    CommandSpec {
        name: "why",
        aliases: &[],
        arg: Arg::Optional("arg.why"),
        options: &[ABOUT],
        about: "cmd.why",
        scope: Scope::Private,
    },
    CommandSpec {
        name: "notify",
        aliases: &[],
        arg: Arg::None,
        options: &[],
        about: "cmd.notify",
        scope: Scope::Private,
    },
    CommandSpec {
        name: "alfa",
        aliases: &["leaderboard"],
        arg: Arg::Optional("arg.board"),
        options: &[METRIC, WINDOW],
        about: "cmd.alfa",
        scope: Scope::Anywhere,
    },
    CommandSpec {
        name: "score",
        aliases: &[],
        arg: Arg::Required("arg.wallet"),
        options: &[WALLET],
        about: "cmd.score",
        scope: Scope::Anywhere,
    },
    CommandSpec {
        name: "cancel",
        aliases: &[],
        arg: Arg::None,
        options: &[],
        about: "cmd.cancel",
        scope: Scope::Anywhere,
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
    /// The leaderboard; the words after the command (metric, window), raw.
    Alfa(Vec<String>),
    Score(String),
    /// The copytrader profiles.
    Copytrader,
    /// The wallet keys.
    Wallet,
    Pause,
    Resume,
    /// `on`, `off`, or empty (switch).
    StopEntry(String),
    /// A profile name (everything after the command; empty = the active one).
    Profit(String),
    Daily(String),
    /// A mint or leader address, or empty (all).
    Why(String),
    Notify,
    /// Ends a dialogue.
    Cancel,
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
            Self::Alfa(_) => "alfa",
            Self::Score(_) => "score",
            Self::Copytrader => "copytrader",
            Self::Wallet => "wallet",
            Self::Pause => "pause",
            Self::Resume => "resume",
            Self::StopEntry(_) => "stopentry",
            Self::Profit(_) => "profit",
            Self::Daily(_) => "daily",
            Self::Why(_) => "why",
            Self::Notify => "notify",
            Self::Cancel => "cancel",
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
    let words: Vec<String> = arg.split_whitespace().map(str::to_owned).collect();
    let first = words.first().cloned().unwrap_or_default();
    if matches!(spec.arg, Arg::Required(_)) && first.is_empty() {
        return Some(Err(CommandError::MissingArgument { command: spec.name }));
    }
    Some(Ok(match spec.name {
        "start" => Command::Start,
        "help" => Command::Help,
        "track" => Command::Track(first),
        "untrack" => Command::Untrack(first),
        "list" => Command::List,
        "alfa" => Command::Alfa(words),
        "score" => Command::Score(first),
        "copytrader" => Command::Copytrader,
        "wallet" => Command::Wallet,
        "pause" => Command::Pause,
        "resume" => Command::Resume,
        "stopentry" => Command::StopEntry(first),
        // Profile names may hold spaces: the whole rest is the name.
        "profit" => Command::Profit(arg.to_owned()),
        "daily" => Command::Daily(arg.to_owned()),
        "why" => Command::Why(first),
        "notify" => Command::Notify,
        "cancel" => Command::Cancel,
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
    fn alfa_takes_optional_words_and_score_needs_a_wallet() {
        assert_eq!(parse("/alfa", None), Some(Ok(Command::Alfa(vec![]))));
        assert_eq!(
            parse("/leaderboard@alfabot  pnl   7d ", Some("alfabot")),
            Some(Ok(Command::Alfa(vec!["pnl".into(), "7d".into()])))
        );
        assert_eq!(
            parse("/score AbC", None),
            Some(Ok(Command::Score("AbC".into())))
        );
        assert_eq!(
            parse("/score", None),
            Some(Err(CommandError::MissingArgument { command: "score" }))
        );
    }

    #[test]
    fn every_command_round_trips_through_its_spec() {
        for spec in COMMANDS {
            let text = if spec.arg.key().is_some() {
                format!("/{} x", spec.name)
            } else {
                format!("/{}", spec.name)
            };
            let cmd = parse(&text, None).unwrap().unwrap();
            assert_eq!(cmd.spec().name, spec.name);
        }
    }

    #[test]
    fn copytrader_commands_and_their_arguments() {
        for text in ["/copytrader", "/profiles", "/CT@alfabot"] {
            assert_eq!(parse(text, Some("alfabot")), Some(Ok(Command::Copytrader)));
        }
        assert_eq!(
            parse("/stopentry", None),
            Some(Ok(Command::StopEntry(String::new())))
        );
        assert_eq!(
            parse("/stopentry OFF", None),
            Some(Ok(Command::StopEntry("OFF".into())))
        );
        assert_eq!(
            parse("/profit  my degen  profile ", None),
            Some(Ok(Command::Profit("my degen  profile".into())))
        );
        assert_eq!(
            parse("/daily", None),
            Some(Ok(Command::Daily(String::new())))
        );
        assert_eq!(parse("/why", None), Some(Ok(Command::Why(String::new()))));
        assert_eq!(
            parse("/why AbC more", None),
            Some(Ok(Command::Why("AbC".into())))
        );
        assert_eq!(parse("/pause", None), Some(Ok(Command::Pause)));
        assert_eq!(parse("/resume", None), Some(Ok(Command::Resume)));
        assert_eq!(parse("/notify", None), Some(Ok(Command::Notify)));
        assert_eq!(parse("/cancel", None), Some(Ok(Command::Cancel)));
    }

    #[test]
    fn typed_options_give_the_line_the_parser_reads() {
        for spec in COMMANDS {
            // A command with an argument has options, and required ones
            // match a required argument.
            assert_eq!(
                spec.arg.key().is_some(),
                !spec.options.is_empty(),
                "{}",
                spec.name
            );
            let required = spec.options.iter().any(|o| o.required);
            assert_eq!(
                required,
                matches!(spec.arg, Arg::Required(_)),
                "{}",
                spec.name
            );
            for o in spec.options {
                assert!(o.name.bytes().all(|b| b.is_ascii_lowercase()), "{}", o.name);
            }
        }
        assert_eq!(command_line("alfa", &["pnl", " ", "7d"]), "/alfa pnl 7d");
        assert_eq!(
            parse(&command_line("alfa", &["", "30d"]), None),
            Some(Ok(Command::Alfa(vec!["30d".into()])))
        );
        assert_eq!(
            parse(&command_line("profit", &["my degen"]), None),
            Some(Ok(Command::Profit("my degen".into())))
        );
    }

    #[test]
    fn names_and_aliases_are_unique() {
        let mut seen = std::collections::HashSet::new();
        for c in COMMANDS {
            assert!(seen.insert(c.name), "{}", c.name);
            for a in c.aliases {
                assert!(seen.insert(a), "{a}");
            }
        }
    }

    proptest::proptest! {
        #[test]
        fn never_panics(s in "\\PC{0,80}") {
            let _ = parse(&s, Some("alfabot"));
        }
    }
}
