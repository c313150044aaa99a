//! Interactions, whichever way they came in (the gateway or signed HTTP
//! posts): a slash command, a button or menu press, a submitted form, or
//! a suggestion request becomes one [`ChatRequest`]; the chat service
//! answers once; the answer becomes Discord's replies.
//!
//! Discord wants a first answer within 3 s. A command is deferred at once
//! (Discord shows "thinking…"), then its placeholder is filled through
//! `PATCH /webhooks/{app}/{token}/messages/@original`. A press or a form
//! is answered directly when the chat service is quick (an in-place update,
//! a new message or a form), else acknowledged first and completed the
//! same way as a command.
//!
//! Privacy: in a server, a personal command's answer and every message a
//! press or a form brings are ephemeral (the caller alone sees them); a
//! public command (`/alfa`, `/score`) answers in the channel. Secrets need
//! a DM; the chat layer refuses them elsewhere.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use serenity::all::{
    AutocompleteChoice, ChannelId, CommandInteraction, ComponentInteraction,
    ComponentInteractionDataKind, CreateActionRow, CreateAutocompleteResponse,
    CreateInteractionResponse, CreateInteractionResponseFollowup, CreateInteractionResponseMessage,
    EditInteractionResponse, GuildId, Http, Interaction, InteractionId, MessageFlags,
    ModalInteraction, User,
};
use serenity::builder::Builder as _;
use tokio::sync::oneshot;

use super::commands;
use super::view::{self, ANSWER_ID, clip};
use crate::chat::command::Scope;
use crate::chat::i18n::t;
use crate::chat::{ChatRequest, ChatResponse, ChatService, Input, View};
use crate::domain::{ChatKind, ChatRef, Locale, Platform, UserRef};

/// How long a press or a form may take before it is acknowledged first
/// (Discord allows 3 s for the first answer).
const ANSWER_BUDGET: Duration = Duration::from_millis(2_000);
/// How often, and how far apart, an edit of an original not yet made is
/// tried.
const ORIGINAL_TRIES: u32 = 10;
const ORIGINAL_RETRY: Duration = Duration::from_millis(100);
/// Suggestions a menu shows, and the longest label and value.
const MAX_CHOICE: usize = 100;

/// Where an interaction's first answer goes: posted to its callback route
/// (gateway), or returned as the HTTP response (interactions endpoint).
#[async_trait]
pub trait FirstAnswer: Send {
    async fn send(self, answer: CreateInteractionResponse) -> anyhow::Result<()>;
}

/// The first answer posted to `POST /interactions/{id}/{token}/callback`.
pub struct Callback {
    http: Arc<Http>,
    id: InteractionId,
    token: String,
}

impl Callback {
    #[must_use]
    pub fn of(http: Arc<Http>, id: InteractionId, token: &str) -> Self {
        Self {
            http,
            id,
            token: token.to_owned(),
        }
    }
}

#[async_trait]
impl FirstAnswer for Callback {
    async fn send(self, answer: CreateInteractionResponse) -> anyhow::Result<()> {
        answer.execute(&*self.http, (self.id, &self.token)).await?;
        Ok(())
    }
}

/// The first answer handed to the HTTP endpoint, which returns it as the
/// response to Discord's post.
pub struct HttpReply(pub oneshot::Sender<CreateInteractionResponse>);

#[async_trait]
impl FirstAnswer for HttpReply {
    async fn send(self, answer: CreateInteractionResponse) -> anyhow::Result<()> {
        self.0.send(answer).map_err(|_| {
            anyhow::anyhow!("the interaction's HTTP request is gone (answered too late)")
        })
    }
}

/// Who asked, and where.
struct Who {
    user: UserRef,
    chat: ChatRef,
    guild: bool,
    name: String,
    language: String,
    token: String,
}

fn id64(id: u64) -> i64 {
    i64::try_from(id).unwrap_or(i64::MAX)
}

/// A Discord chat: a user's DM is the user's id (as Telegram's private
/// chats are), a server channel is its id negated (as Telegram's groups),
/// so the outbox can tell a person from a channel.
#[must_use]
pub fn chat_ref(user: &User, guild: Option<GuildId>, channel: ChannelId) -> ChatRef {
    match guild {
        Some(_) => ChatRef::new(Platform::Discord, -id64(channel.get())),
        None => ChatRef::new(Platform::Discord, id64(user.id.get())),
    }
}

impl Who {
    fn new(
        user: &User,
        guild: Option<GuildId>,
        channel: ChannelId,
        locale: &str,
        token: &str,
    ) -> Self {
        Self {
            user: UserRef::new(Platform::Discord, id64(user.id.get())),
            chat: chat_ref(user, guild, channel),
            guild: guild.is_some(),
            name: user
                .global_name
                .clone()
                .unwrap_or_else(|| user.name.clone()),
            language: locale.to_owned(),
            token: token.to_owned(),
        }
    }

    fn locale(&self) -> Locale {
        Locale::from_hint(Some(&self.language))
    }

    fn request(&self, input: Input, private_reply: bool) -> ChatRequest {
        ChatRequest {
            user: self.user,
            chat: self.chat,
            kind: if self.guild {
                ChatKind::Group
            } else {
                ChatKind::Private
            },
            name: self.name.clone(),
            language: Some(self.language.clone()),
            input,
            private_reply,
        }
    }
}

/// What the first answer left to fill in later.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Original {
    /// A "thinking…" placeholder (a deferred command or form): the first
    /// message goes there.
    Placeholder,
    /// The pressed message (a deferred press): an edit goes there.
    Pressed,
}

/// Handles interactions for both ways in.
pub struct Handler {
    service: Arc<ChatService>,
    http: Arc<Http>,
    rest: Arc<super::rest::Rest>,
}

impl Handler {
    #[must_use]
    pub fn new(service: Arc<ChatService>, http: Arc<Http>, rest: Arc<super::rest::Rest>) -> Self {
        Self {
            service,
            http,
            rest,
        }
    }

    #[must_use]
    pub fn http(&self) -> Arc<Http> {
        Arc::clone(&self.http)
    }

    /// Any interaction but a ping (the endpoint answers those itself).
    pub async fn interaction(&self, i: Interaction, first: impl FirstAnswer) {
        match i {
            Interaction::Command(c) => self.command(&c, first).await,
            Interaction::Autocomplete(c) => {
                let choices = self.suggestions(&c, focused_text(&c)).await;
                log_failure(
                    first
                        .send(CreateInteractionResponse::Autocomplete(choices))
                        .await,
                );
            }
            Interaction::Component(c) => self.component(&c, first).await,
            Interaction::Modal(m) => self.modal(&m, first).await,
            Interaction::Ping(_) => log_failure(first.send(CreateInteractionResponse::Pong).await),
            other => tracing::info!(kind = ?other.kind(), "interaction of an unknown kind ignored"),
        }
    }

    /// A slash command.
    pub async fn command(&self, i: &CommandInteraction, first: impl FirstAnswer) {
        let who = Who::new(&i.user, i.guild_id, i.channel_id, &i.locale, &i.token);
        let l = who.locale();
        let Some((spec, line)) = commands::line(i) else {
            tracing::info!(
                command = i.data.name,
                "a command this version does not know"
            );
            let msg = CreateInteractionResponseMessage::new()
                .content(t(l, "discord.unknown_command", &[]))
                .ephemeral(true);
            log_failure(first.send(CreateInteractionResponse::Message(msg)).await);
            return;
        };
        // Personal data is shown to the caller alone in a server.
        let personal = who.guild && spec.scope == Scope::Private;
        let defer = CreateInteractionResponseMessage::new().ephemeral(personal);
        if let Err(e) = first.send(CreateInteractionResponse::Defer(defer)).await {
            tracing::warn!(error = format!("{e:#}"), "could not defer a command");
            return;
        }
        let resp = self
            .service
            .handle(who.request(Input::Text(line), personal))
            .await;
        self.complete(&who, Original::Placeholder, resp).await;
    }

    /// A button or a select menu.
    pub async fn component(&self, i: &ComponentInteraction, first: impl FirstAnswer) {
        let who = Who::new(&i.user, i.guild_id, i.channel_id, &i.locale, &i.token);
        let l = who.locale();
        let data = match &i.data.kind {
            ComponentInteractionDataKind::StringSelect { values } => {
                values.first().cloned().unwrap_or_default()
            }
            _ => i.data.custom_id.clone(),
        };
        if data == ANSWER_ID {
            let answer = if self.service.awaits_answer(who.chat, who.user).await {
                CreateInteractionResponse::Modal(view::modal(l, &i.message.content))
            } else {
                CreateInteractionResponse::Message(
                    CreateInteractionResponseMessage::new()
                        .content(t(l, "discord.expired", &[]))
                        .ephemeral(true),
                )
            };
            log_failure(first.send(answer).await);
            return;
        }
        // A press on a message only its presser sees may show personal
        // data; on a message the whole channel sees it may not.
        let on_ephemeral = i
            .message
            .flags
            .is_some_and(|f| f.contains(MessageFlags::EPHEMERAL));
        let req = who.request(Input::Button(data), who.guild && on_ephemeral);
        self.answer(&who, req, first, true, true).await;
    }

    /// A submitted answer form.
    pub async fn modal(&self, m: &ModalInteraction, first: impl FirstAnswer) {
        let who = Who::new(&m.user, m.guild_id, m.channel_id, &m.locale, &m.token);
        let value = m
            .data
            .components
            .iter()
            .flat_map(|row| row.components.iter())
            .find_map(|c| match c {
                serenity::all::ActionRowComponent::InputText(t)
                    if t.custom_id == view::FIELD_ID =>
                {
                    t.value.clone()
                }
                _ => None,
            })
            .unwrap_or_default();
        // Answers are personal: in a server they are ephemeral.
        let req = who.request(Input::Text(value), who.guild);
        self.answer(&who, req, first, m.message.is_some(), false)
            .await;
    }

    /// Suggestions for the option being typed.
    pub async fn suggestions(
        &self,
        i: &CommandInteraction,
        typed: &str,
    ) -> CreateAutocompleteResponse {
        let Some(kind) = commands::focused(i) else {
            return CreateAutocompleteResponse::new();
        };
        let user = UserRef::new(Platform::Discord, id64(i.user.id.get()));
        let found = self
            .service
            .suggest(user, Some(&i.locale), kind, typed)
            .await;
        CreateAutocompleteResponse::new().set_choices(
            found
                .into_iter()
                .filter(|s| s.value.chars().count() <= MAX_CHOICE)
                .map(|s| AutocompleteChoice::new(clip(&s.label, MAX_CHOICE), s.value))
                .collect(),
        )
    }

    /// Runs a press or a form: answered directly when quick, else
    /// acknowledged and completed. `can_update`: the interaction came from
    /// a message that an edit may replace; `can_ask`: a form may be the
    /// answer (not to a form).
    async fn answer(
        &self,
        who: &Who,
        req: ChatRequest,
        first: impl FirstAnswer,
        can_update: bool,
        can_ask: bool,
    ) {
        let service = Arc::clone(&self.service);
        let mut work = tokio::spawn(async move { service.handle(req).await });
        let resp = match tokio::time::timeout(ANSWER_BUDGET, &mut work).await {
            Ok(Ok(resp)) => resp,
            Ok(Err(e)) => {
                tracing::error!(error = %e, "a Discord interaction's handler panicked");
                return;
            }
            Err(_) => {
                let ack = if can_update {
                    CreateInteractionResponse::Acknowledge
                } else {
                    CreateInteractionResponse::Defer(
                        CreateInteractionResponseMessage::new().ephemeral(who.guild),
                    )
                };
                if let Err(e) = first.send(ack).await {
                    tracing::warn!(
                        error = format!("{e:#}"),
                        "could not acknowledge an interaction"
                    );
                    return;
                }
                match work.await {
                    Ok(resp) => {
                        let original = if can_update {
                            Original::Pressed
                        } else {
                            Original::Placeholder
                        };
                        self.complete(who, original, resp).await;
                    }
                    Err(e) => {
                        tracing::error!(error = %e, "a Discord interaction's handler panicked")
                    }
                }
                return;
            }
        };
        self.answer_now(who, first, resp, can_update, can_ask).await;
    }

    /// The first answer carries what it can of `resp`; follow-ups the rest.
    async fn answer_now(
        &self,
        who: &Who,
        first: impl FirstAnswer,
        mut resp: ChatResponse,
        can_update: bool,
        can_ask: bool,
    ) {
        let l = who.locale();
        let eph = who.guild;
        if resp.asks && can_ask && !resp.messages.is_empty() {
            let question = resp.messages.remove(0);
            log_failure(
                first
                    .send(CreateInteractionResponse::Modal(view::modal(
                        l,
                        &question.text,
                    )))
                    .await,
            );
            return;
        }
        let mut messages = std::mem::take(&mut resp.messages);
        let asks = resp.asks;
        let mut toast = resp.toast.take();
        let answer = match resp.edit.take() {
            Some(edit) if can_update => {
                CreateInteractionResponse::UpdateMessage(message_data(l, &edit, false))
            }
            edit => {
                if let Some(edit) = edit {
                    messages.insert(0, edit);
                }
                // A message that expires must be a follow-up (its id is
                // needed to delete it); one too long for a message too.
                if messages
                    .first()
                    .is_some_and(|m| m.expires_s.is_none() && view::split(&m.text).len() == 1)
                {
                    let view = messages.remove(0);
                    CreateInteractionResponse::Message(message_data(l, &view, asks).ephemeral(eph))
                } else if let Some(text) = toast.take().filter(|_| messages.is_empty()) {
                    CreateInteractionResponse::Message(
                        CreateInteractionResponseMessage::new()
                            .content(clip(&text, view::MAX_CONTENT))
                            .ephemeral(true),
                    )
                } else if can_update {
                    CreateInteractionResponse::Acknowledge
                } else {
                    CreateInteractionResponse::Defer(
                        CreateInteractionResponseMessage::new().ephemeral(eph),
                    )
                }
            }
        };
        let deferred = matches!(answer, CreateInteractionResponse::Defer(_));
        if let Err(e) = first.send(answer).await {
            tracing::warn!(error = format!("{e:#}"), "could not answer an interaction");
            return;
        }
        let rest = ChatResponse {
            messages,
            toast,
            asks: asks && deferred,
            ..ChatResponse::default()
        };
        let original = if deferred {
            Original::Placeholder
        } else {
            Original::Pressed
        };
        self.complete(who, original, rest).await;
    }

    /// Fills in the rest of an answer after the first: the original
    /// message (a placeholder or the pressed message), then follow-ups.
    /// In a server, new messages are for the caller alone.
    async fn complete(&self, who: &Who, original: Original, resp: ChatResponse) {
        let eph = who.guild;
        let l = who.locale();
        let ChatResponse {
            mut messages,
            edit,
            toast,
            asks,
            ..
        } = resp;
        match original {
            Original::Pressed => {
                if let Some(edit) = edit {
                    let body = EditInteractionResponse::new()
                        .content(clip(&edit.text, view::MAX_CONTENT))
                        .components(view::components(l, &edit));
                    log_failure(self.edit_original(who, body).await.map(drop));
                }
            }
            Original::Placeholder => {
                if let Some(edit) = edit {
                    messages.insert(0, edit);
                }
                let used_toast = messages.is_empty();
                let placeholder = if used_toast {
                    View::text(toast.clone().unwrap_or_else(|| t(l, "toast.done", &[])))
                } else {
                    messages.remove(0)
                };
                let parts = view::split(&placeholder.text);
                let mut rows = view::components(l, &placeholder);
                if asks {
                    rows.push(view::answer_row(l));
                }
                let body = EditInteractionResponse::new()
                    .content(first_part(&placeholder.text))
                    .components(if parts.len() == 1 { rows } else { Vec::new() });
                match self.edit_original(who, body).await {
                    Ok(sent) => self.expire(who, &placeholder, sent.id.get()).await,
                    Err(e) => {
                        tracing::warn!(error = %e, "could not fill an interaction's answer");
                        return;
                    }
                }
                if parts.len() > 1 {
                    // The rest of a long first message, with its buttons.
                    let mut rest = placeholder.clone();
                    rest.text = parts[1..].concat();
                    messages.insert(0, rest);
                }
                for view in &messages {
                    self.follow_up(who, view, eph, false).await;
                }
                if !used_toast && let Some(text) = toast {
                    self.follow_up(who, &View::text(text), true, false).await;
                }
                return;
            }
        }
        for (n, view) in messages.iter().enumerate() {
            self.follow_up(who, view, eph, asks && n == 0).await;
        }
        if let Some(text) = toast {
            self.follow_up(who, &View::text(text), true, false).await;
        }
    }

    /// Edits the interaction's original message. Over HTTP the first
    /// answer reaches Discord as this request's response, so an edit can
    /// arrive before Discord made the original: a "not found" is tried
    /// again a few times.
    async fn edit_original(
        &self,
        who: &Who,
        body: EditInteractionResponse,
    ) -> anyhow::Result<serenity::all::Message> {
        let mut tries = 0;
        loop {
            tries += 1;
            match body.clone().execute(&*self.http, &who.token).await {
                Err(serenity::Error::Http(serenity::http::HttpError::UnsuccessfulRequest(r)))
                    if r.status_code.as_u16() == 404 && tries < ORIGINAL_TRIES =>
                {
                    tokio::time::sleep(ORIGINAL_RETRY).await;
                }
                other => return Ok(other?),
            }
        }
    }

    /// A follow-up message (split when too long; buttons on the last part).
    async fn follow_up(&self, who: &Who, view: &View, eph: bool, asks: bool) {
        let l = who.locale();
        let parts = view::split(&view.text);
        let last = parts.len() - 1;
        for (n, part) in parts.into_iter().enumerate() {
            let mut body = CreateInteractionResponseFollowup::new()
                .content(part)
                .ephemeral(eph);
            if n == last {
                let mut rows = view::components(l, view);
                if asks {
                    rows.push(view::answer_row(l));
                }
                body = body.components(rows);
            }
            match body.execute(&*self.http, (None, &who.token)).await {
                Ok(sent) if n == last => self.expire(who, view, sent.id.get()).await,
                Ok(_) => {}
                Err(e) => {
                    tracing::warn!(error = %e, "could not send a follow-up message");
                    return;
                }
            }
        }
    }

    /// Has a sent message that expires deleted after its time: stored, so
    /// a restart does not leave it up (only in DMs: secrets never go
    /// elsewhere, and ephemeral messages vanish by themselves).
    async fn expire(&self, who: &Who, view: &View, message_id: u64) {
        let Some(secs) = view.expires_s else {
            return;
        };
        if who.guild {
            tracing::error!("an expiring message was sent in a server; it cannot be deleted there");
            return;
        }
        crate::notify::expiring::expire(
            &self.service,
            Arc::clone(&self.rest) as Arc<dyn crate::notify::expiring::Deleter>,
            who.chat,
            id64(message_id),
            secs,
        )
        .await;
    }
}

/// The first message's text (the rest follows in other messages).
fn first_part(text: &str) -> String {
    view::split(text).into_iter().next().unwrap_or_default()
}

/// A view as an interaction message (text clipped; see [`view::split`]
/// for the callers that split).
fn message_data(l: Locale, v: &View, asks: bool) -> CreateInteractionResponseMessage {
    let mut rows: Vec<CreateActionRow> = view::components(l, v);
    if asks {
        rows.push(view::answer_row(l));
    }
    CreateInteractionResponseMessage::new()
        .content(clip(&v.text, view::MAX_CONTENT))
        .components(rows)
}

/// The text of the option being typed in an autocomplete interaction.
fn focused_text(c: &CommandInteraction) -> &str {
    c.data.autocomplete().map_or("", |o| o.value)
}

fn log_failure(r: anyhow::Result<()>) {
    if let Err(e) = r {
        tracing::warn!(
            error = format!("{e:#}"),
            "could not answer a Discord interaction"
        );
    }
}
