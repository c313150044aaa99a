//! The platform-neutral interaction layer. A command is written once here
//! and every transport (Telegram, console, later Discord) serves it:
//! transports turn updates into a [`ChatRequest`], call [`ChatService::handle`]
//! once, and render the [`ChatResponse`].
//!
//! Must not import any transport crate; it talks to the application core.

pub mod action;
pub mod command;
mod copytrader;
pub mod dialogue;
pub mod i18n;
pub mod profiles;
pub mod render;
pub mod reports;
pub mod settings;
pub mod suggest;
pub mod trading;
pub mod view;
pub mod wallet;

#[cfg(test)]
mod tests;

use std::sync::Arc;

use action::Action;
use command::{COMMANDS, Command, CommandError, Scope};
use dialogue::Dialogue;
use i18n::t;
pub use view::{Button, ChatResponse, View};

use crate::domain::ports::UserRecord;
use crate::domain::{
    Address, AddressError, ChatKind, ChatRef, Locale, ProfileId, UserRef, WalletAddress,
};
use crate::engine::analytics::{Metric, Window};
use crate::service::{Core, ProfileError};

/// What the user did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// A text message (commands start with `/`).
    Text(String),
    /// A pressed button with its raw data.
    Button(String),
}

/// One incoming interaction, already stripped of platform details.
#[derive(Debug, Clone)]
pub struct ChatRequest {
    pub user: UserRef,
    pub chat: ChatRef,
    pub kind: ChatKind,
    /// Display name, for greetings only.
    pub name: String,
    /// The platform's language hint (used when the user is created).
    pub language: Option<String>,
    pub input: Input,
    /// The platform shows the answer to the caller alone, even in a group
    /// (a Discord interaction answered ephemerally): personal commands
    /// work there. Secrets still need a private chat.
    pub private_reply: bool,
}

impl ChatRequest {
    /// Whether personal data may be shown in the answer.
    #[must_use]
    pub fn personal(&self) -> bool {
        self.kind == ChatKind::Private || self.private_reply
    }
}

/// Handles requests from every platform.
pub struct ChatService {
    core: Arc<Core>,
    bot_username: Option<String>,
}

impl ChatService {
    #[must_use]
    pub fn new(core: Arc<Core>, bot_username: Option<String>) -> Self {
        Self { core, bot_username }
    }

    /// Records a sent message to delete after `after_s` seconds (an
    /// exported key). Stored, so a restart does not leave it up; the
    /// transport deletes it when [`Self::expiring_due`] hands it out.
    pub async fn expire_message(
        &self,
        chat: ChatRef,
        message_id: i64,
        after_s: u32,
    ) -> anyhow::Result<()> {
        let m = crate::domain::ports::Expiring {
            chat,
            message_id,
            delete_at_ms: self.core.now_ms() + i64::from(after_s) * 1_000,
        };
        self.core.store().add_expiring(&m).await
    }

    /// Messages of `platform` due for deletion now, most overdue first.
    pub async fn expiring_due(
        &self,
        platform: crate::domain::Platform,
        limit: u32,
    ) -> anyhow::Result<Vec<crate::domain::ports::Expiring>> {
        self.core
            .store()
            .expiring_due(platform, self.core.now_ms(), limit)
            .await
    }

    /// The wall clock the service runs on.
    #[must_use]
    pub fn now_ms(&self) -> i64 {
        self.core.now_ms()
    }

    /// Forgets a message handed out by [`Self::expiring_due`]: deleted,
    /// or past deleting.
    pub async fn expired(&self, chat: ChatRef, message_id: i64) -> anyhow::Result<()> {
        self.core.store().remove_expiring(chat, message_id).await
    }

    /// Whether the user was asked a question in this chat (so a typed
    /// number is an answer, not a button press on a console).
    pub async fn awaits_answer(&self, chat: ChatRef, user: UserRef) -> bool {
        matches!(
            dialogue::load(self.core.sessions().as_ref(), chat, user).await,
            Ok(Some(_))
        )
    }

    /// Handles one request. Never fails: unexpected errors are logged once
    /// with their whole chain and answered with a localized apology.
    pub async fn handle(&self, req: ChatRequest) -> ChatResponse {
        let user = match self.core.user(req.user, req.language.as_deref()).await {
            Ok(u) => u,
            Err(e) => return internal_error(Locale::from_hint(req.language.as_deref()), &e),
        };
        let locale = user.locale;
        match self.dispatch(&req, &user).await {
            Ok(resp) => resp,
            Err(e) => internal_error(locale, &e),
        }
    }

    async fn dispatch(&self, req: &ChatRequest, user: &UserRecord) -> anyhow::Result<ChatResponse> {
        let l = user.locale;
        let personal = req.personal();
        match &req.input {
            Input::Text(text) => {
                let Some(parsed) = command::parse(text, self.bot_username.as_deref()) else {
                    let dialogue = if personal {
                        self.open_dialogue(req).await?
                    } else {
                        None
                    };
                    if dialogue == Some(Dialogue::ImportKey) {
                        return self.import_input(req, user, text).await;
                    }
                    // A secret key pasted anywhere else is taken down.
                    if wallet::looks_like_secret(text) {
                        return Ok(self.pasted_secret(req, l));
                    }
                    // Groups talk among themselves; only commands concern us.
                    if !personal {
                        return Ok(ChatResponse::default());
                    }
                    if let Some(d) = dialogue {
                        return self.dialogue_input(req, user, d, text).await;
                    }
                    return Ok(ChatResponse::reply(View::text(t(
                        l,
                        "error.not_a_command",
                        &[],
                    ))));
                };
                // Any command ends an open question (dialogues only live
                // in private chats).
                let ended = personal && self.end_dialogue(req).await;
                match parsed {
                    Err(CommandError::Unknown(name)) => Ok(ChatResponse::reply(View::text(t(
                        l,
                        "error.unknown_command",
                        &[("command", &name)],
                    )))),
                    Err(CommandError::MissingArgument { command }) => {
                        let arg = COMMANDS
                            .iter()
                            .find(|c| c.name == command)
                            .and_then(|c| c.arg.key())
                            .unwrap_or("arg.wallet");
                        Ok(ChatResponse::reply(View::text(t(
                            l,
                            "error.missing_argument",
                            &[
                                ("command", command),
                                ("arg", &t(l, arg, &[])),
                                ("example", EXAMPLE_WALLET),
                            ],
                        ))))
                    }
                    Ok(cmd) => self.command(req, user, cmd, ended).await,
                }
            }
            Input::Button(data) => self.button(req, user, data).await,
        }
    }

    async fn command(
        &self,
        req: &ChatRequest,
        user: &UserRecord,
        cmd: Command,
        ended_dialogue: bool,
    ) -> anyhow::Result<ChatResponse> {
        let l = user.locale;
        let spec = cmd.spec();
        if spec.scope == Scope::Private && !req.personal() {
            return Ok(ChatResponse::reply(View::text(t(
                l,
                "error.private_only",
                &[("command", spec.name)],
            ))));
        }
        let view = match cmd {
            Command::Start if req.personal() => {
                render::welcome(l, &req.name, &self.core.active_profile(user).await?)
            }
            Command::Start => View::text(t(l, "welcome.group", &[])),
            Command::Help => render::help(l),
            Command::Track(arg) => match Address::parse(&arg) {
                Err(e) => address_error(l, &arg, &e),
                Ok(wallet) => self.track(user, wallet).await?,
            },
            Command::Untrack(arg) => match Address::parse(&arg) {
                Err(e) => address_error(l, &arg, &e),
                Ok(wallet) => self.untrack(user, wallet).await?,
            },
            Command::List => self.list(user).await?,
            Command::Status => trading::status(l, &self.core.status(user.user).await?),
            Command::Alfa(words) => match board_options(&words) {
                Ok((metric, window)) => self.board(l, metric, window, 0),
                Err(bad) => render::board_bad_option(l, bad),
            },
            Command::Score(arg) => match Address::parse(&arg) {
                Err(e) => address_error(l, &arg, &e),
                Ok(wallet) => self.card(l, &wallet),
            },
            Command::Copytrader => self.profiles_view(user, None).await?,
            Command::Wallet => self.wallet_view(user).await?,
            Command::Pause => self.pause(user, true).await?,
            Command::Resume => self.pause(user, false).await?,
            Command::StopEntry(arg) => self.stop_entry(user, &arg).await?,
            Command::Why(arg) if arg.is_empty() => self.why(user, None).await?,
            Command::Why(arg) => match Address::parse(&arg) {
                Err(e) => address_error(l, &arg, &e),
                Ok(about) => self.why(user, Some(about)).await?,
            },
            Command::Profit(name) => match self.named_profile(user, &name).await? {
                Ok(id) => reports::profit(l, &self.core.profit(user.user, id).await?),
                Err(unknown) => unknown,
            },
            Command::Daily(name) => match self.named_profile(user, &name).await? {
                Ok(id) => reports::daily(l, &self.core.daily(user.user, id).await?),
                Err(unknown) => unknown,
            },
            Command::Notify => reports::notify(l, &user.notify),
            Command::Cancel => View::text(t(
                l,
                if ended_dialogue {
                    "ct.cancelled"
                } else {
                    "ct.nothing_to_cancel"
                },
                &[],
            )),
        };
        Ok(ChatResponse::reply(view))
    }

    /// `/why`: the user's latest decisions, about one address or all.
    async fn why(&self, user: &UserRecord, about: Option<Address>) -> anyhow::Result<View> {
        let records = self.core.why(user.user, about).await?;
        let profiles = self.core.profiles(user.user).await?;
        Ok(reports::why(
            user.locale,
            &records,
            about.as_ref(),
            &profiles,
            self.core.now_ms(),
        ))
    }

    /// The profile a report names: `Ok(None)` for the active one (no name),
    /// `Err(reply)` when the user has no profile by that name.
    async fn named_profile(
        &self,
        user: &UserRecord,
        name: &str,
    ) -> anyhow::Result<Result<Option<ProfileId>, View>> {
        if name.trim().is_empty() {
            return Ok(Ok(None));
        }
        let norm = |s: &str| {
            s.split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
                .to_lowercase()
        };
        let wanted = norm(name);
        let all = self.core.profiles(user.user).await?;
        if let Some(p) = all.iter().find(|p| norm(p.name.as_str()) == wanted) {
            return Ok(Ok(Some(p.id)));
        }
        let shown: String = name.trim().chars().take(30).collect();
        let names: Vec<&str> = all.iter().map(|p| p.name.as_str()).collect();
        Ok(Err(View::text(t(
            user.locale,
            "profit.unknown",
            &[("input", &shown), ("names", &names.join(", "))],
        ))))
    }

    /// A leaderboard page (public data: fine in groups).
    fn board(&self, l: Locale, metric: Metric, window: Window, page: usize) -> View {
        let board = self
            .core
            .leaderboard(metric, window, page, render::BOARD_PAGE_SIZE);
        render::leaderboard(
            l,
            &board,
            &self.core.analytics_config(),
            &self.core.recent_discoveries(),
        )
    }

    /// A wallet's card (public data: fine in groups).
    fn card(&self, l: Locale, wallet: &WalletAddress) -> View {
        match self.core.card(wallet) {
            Some(card) => render::card(l, &card, &self.core.analytics_config(), self.core.now_ms()),
            None => render::unknown_wallet(l, wallet),
        }
    }

    /// Follows from a button: the answer is a toast (private chats only).
    async fn follow_button(
        &self,
        req: &ChatRequest,
        user: &UserRecord,
        wallet: WalletAddress,
    ) -> anyhow::Result<ChatResponse> {
        let l = user.locale;
        let short = wallet.short();
        let toast = if req.personal() {
            match self.core.follow(user, wallet).await {
                Ok((profile, _, new)) => t(
                    l,
                    if new {
                        "toast.followed"
                    } else {
                        "toast.already_following"
                    },
                    &[("wallet", &short), ("profile", profile.name.as_str())],
                ),
                Err(e) => profile_error(l, e)?,
            }
        } else {
            // Following changes personal data and sends private alerts; the
            // toast is seen by the presser only.
            t(l, "toast.follow_private", &[("wallet", &short)])
        };
        Ok(ChatResponse {
            toast: Some(toast),
            ..ChatResponse::default()
        })
    }

    /// `/track`: follow in the active profile.
    async fn track(&self, user: &UserRecord, wallet: WalletAddress) -> anyhow::Result<View> {
        let l = user.locale;
        Ok(match self.core.follow(user, wallet).await {
            Ok((profile, _, new)) => View::text(t(
                l,
                if new { "track.ok" } else { "track.already" },
                &[
                    ("wallet", &wallet.to_string()),
                    ("profile", profile.name.as_str()),
                    (
                        "mode",
                        &t(l, &format!("mode.{}", profile.settings.mode.code()), &[]),
                    ),
                    ("copy", &profile.settings.buy_sol.to_string()),
                ],
            )),
            Err(e) => View::text(profile_error(l, e)?),
        })
    }

    async fn list(&self, user: &UserRecord) -> anyhow::Result<View> {
        let follows = self.core.follows(user.user).await?;
        let profiles = self.core.profiles(user.user).await?;
        Ok(render::list(user.locale, &follows, &profiles))
    }

    async fn untrack(&self, user: &UserRecord, wallet: Address) -> anyhow::Result<View> {
        let key = if self.core.unfollow(user.user, wallet).await? {
            "untrack.ok"
        } else {
            "untrack.missing"
        };
        Ok(View::text(t(
            user.locale,
            key,
            &[("wallet", &wallet.to_string())],
        )))
    }

    async fn button(
        &self,
        req: &ChatRequest,
        user: &UserRecord,
        data: &str,
    ) -> anyhow::Result<ChatResponse> {
        let l = user.locale;
        let Ok(action) = Action::decode(data) else {
            tracing::info!(data, "undecodable button");
            return Ok(ChatResponse {
                toast: Some(t(l, "error.bad_button", &[])),
                ..ChatResponse::default()
            });
        };
        // Leaderboard buttons show public data and work anywhere; they edit
        // the message they belong to.
        match action {
            Action::Board {
                metric,
                window,
                page,
            } => {
                let page = usize::try_from(page).unwrap_or(usize::MAX);
                return Ok(ChatResponse {
                    edit: Some(self.board(l, metric, window, page)),
                    ..ChatResponse::default()
                });
            }
            Action::Follow(wallet) => return self.follow_button(req, user, wallet).await,
            _ => {}
        }
        // The other buttons act on personal data.
        if !req.personal() {
            return Ok(ChatResponse {
                toast: Some(t(
                    l,
                    "error.private_only",
                    &[("command", command_of(&action))],
                )),
                ..ChatResponse::default()
            });
        }
        // Secrets are typed or shown only in a private chat, never in a
        // group, even where the platform would show the answer to the
        // presser alone.
        if req.kind != ChatKind::Private
            && matches!(
                action,
                Action::ImportKey | Action::Export(_) | Action::ExportConfirmed(_)
            )
        {
            return Ok(ChatResponse {
                toast: Some(t(l, "error.dm_only", &[])),
                ..ChatResponse::default()
            });
        }
        // A press answers no open question: it ends it (a press that asks
        // one stores it anew).
        self.end_dialogue(req).await;
        let done = Some(t(l, "toast.done", &[]));
        Ok(match action {
            Action::Help => ChatResponse {
                messages: vec![render::help(l)],
                toast: done,
                ..ChatResponse::default()
            },
            Action::List => ChatResponse {
                messages: vec![self.list(user).await?],
                toast: done,
                ..ChatResponse::default()
            },
            Action::Status => ChatResponse {
                messages: vec![trading::status(l, &self.core.status(user.user).await?)],
                toast: done,
                ..ChatResponse::default()
            },
            Action::Untrack(wallet) => {
                let confirmation = self.untrack(user, wallet).await?;
                // The list message is edited in place to what is left.
                ChatResponse {
                    messages: vec![confirmation],
                    edit: Some(self.list(user).await?),
                    toast: done,
                    ..ChatResponse::default()
                }
            }
            Action::Profit(id) => ChatResponse {
                edit: Some(reports::profit(
                    l,
                    &self.core.profit(user.user, Some(id)).await?,
                )),
                ..ChatResponse::default()
            },
            Action::Daily(id) => ChatResponse {
                edit: Some(reports::daily(
                    l,
                    &self.core.daily(user.user, Some(id)).await?,
                )),
                ..ChatResponse::default()
            },
            Action::Notify(kind) => {
                let mut prefs = user.notify.clone();
                let level = prefs.level(kind).next();
                prefs.set(kind, level);
                self.core.set_notify(user.user, &prefs).await?;
                ChatResponse {
                    edit: Some(reports::notify(l, &prefs)),
                    toast: Some(reports::notify_changed(l, kind, level)),
                    ..ChatResponse::default()
                }
            }
            // Answered above.
            Action::Board { .. } | Action::Follow(_) => ChatResponse::default(),
            // The keys' buttons: those `command_of` files under /wallet.
            keys if command_of(&keys) == "wallet" => self.wallet_button(req, user, keys).await?,
            copytrader => self.copytrader_button(req, user, copytrader).await?,
        })
    }
}

/// The command a personal button belongs to (named when a group is told
/// to use a private chat).
const fn command_of(action: &Action) -> &'static str {
    match action {
        Action::Help => "help",
        Action::List => "list",
        Action::Untrack(_) => "untrack",
        Action::Status | Action::Board { .. } | Action::Follow(_) => "status",
        Action::Profit(_) => "profit",
        Action::Daily(_) => "daily",
        Action::Notify(_) => "notify",
        Action::Keys
        | Action::NewKey
        | Action::ImportKey
        | Action::Export(_)
        | Action::ExportConfirmed(_)
        | Action::KeysHere
        | Action::ArchivedKeys
        | Action::DeleteKey(_)
        | Action::DeleteKeyConfirmed(_)
        | Action::ArchiveKey(_)
        | Action::UnarchiveKey(_)
        | Action::RestoreKey(_)
        | Action::UseKey(_) => "wallet",
        Action::Copytrader
        | Action::Profiles
        | Action::NewProfile
        | Action::Profile(_)
        | Action::Activate(_)
        | Action::Rename(_)
        | Action::Delete(_)
        | Action::DeleteConfirmed(_)
        | Action::Section { .. }
        | Action::Setting { .. }
        | Action::Quick { .. }
        | Action::Wallets { .. }
        | Action::Followed(_)
        | Action::Override { .. }
        | Action::ClearOverride { .. }
        | Action::Unfollow(_) => "copytrader",
    }
}

/// `/alfa` options: a metric and/or a timeframe, in any order (defaults:
/// score, 24h). Returns the first word that is neither.
fn board_options(words: &[String]) -> Result<(Metric, Window), &str> {
    let (mut metric, mut window) = (Metric::Score, Window::H24);
    for w in words {
        if let Some(m) = Metric::parse(w) {
            metric = m;
        } else if let Some(win) = Window::parse(w) {
            window = win;
        } else {
            return Err(w);
        }
    }
    Ok((metric, window))
}

const EXAMPLE_WALLET: &str = "8jGai9a8U4RSzDnweCgeVZJBLxMTrNsrhHbGrCF8F3Ks";

fn address_error(l: Locale, input: &str, e: &AddressError) -> View {
    let shown: String = input.chars().take(60).collect();
    View::text(match e {
        AddressError::Empty => t(l, "error.address.empty", &[]),
        AddressError::Length { len } => t(
            l,
            "error.address.length",
            &[("input", &shown), ("len", &len.to_string())],
        ),
        AddressError::Character { ch, position } => t(
            l,
            "error.address.character",
            &[
                ("input", &shown),
                ("ch", &ch.to_string()),
                ("position", &position.to_string()),
            ],
        ),
        AddressError::Bytes { bytes } => t(
            l,
            "error.address.bytes",
            &[("input", &shown), ("bytes", &bytes.to_string())],
        ),
    })
}

/// A refused profile change in words; unexpected errors go up.
fn profile_error(l: Locale, e: ProfileError) -> anyhow::Result<String> {
    Ok(match e {
        ProfileError::NameTaken => t(l, "profile.error.name_taken", &[]),
        ProfileError::TooMany { max } => {
            t(l, "profile.error.too_many", &[("max", &max.to_string())])
        }
        ProfileError::TooManyFollows { max } => t(
            l,
            "profile.error.too_many_follows",
            &[("max", &max.to_string())],
        ),
        ProfileError::NotFound => t(l, "profile.error.not_found", &[]),
        ProfileError::HasOpenPositions { count } => t(
            l,
            "profile.error.open_positions",
            &[("count", &count.to_string())],
        ),
        ProfileError::LastProfile => t(l, "profile.error.last", &[]),
        ProfileError::UnknownWallet => t(l, "profile.error.unknown_wallet", &[]),
        ProfileError::ArchivedWallet => t(l, "profile.error.archived_wallet", &[]),
        ProfileError::Setting(e) => settings::error(l, &e),
        ProfileError::Unexpected(e) => return Err(e),
    })
}

fn internal_error(l: Locale, e: &anyhow::Error) -> ChatResponse {
    tracing::error!(error = format!("{e:#}"), "chat request failed");
    ChatResponse::reply(View::text(t(l, "error.internal", &[])))
}
