//! Discord transport (serenity 0.12 + poise 0.7). Thin, like Telegram's:
//! an interaction becomes a [`crate::chat::ChatRequest`], the chat service
//! answers once, the answer becomes Discord messages, components and
//! forms. The slash commands are generated from the chat layer's command
//! list ([`commands`]); no command logic lives here.
//!
//! Two ways in: the gateway (poise's framework on serenity's client), or,
//! with `DISCORD_PUBLIC_KEY` set, signed HTTP posts to
//! `/discord/interactions` ([`endpoint`]); both run [`interactions`].
//! Alerts and reports reach users by DM through the outbox
//! ([`DiscordSender`]); every REST call goes through serenity's rate
//! limiter (per-route buckets, 429s waited out), and outbox sends are
//! also spaced to Discord's global 50 requests a second.
//!
//! Chats: a user's DM is `ChatRef(discord, user id)`, a server channel
//! `ChatRef(discord, -channel id)`.

pub mod commands;
pub mod endpoint;
pub mod interactions;
pub mod view;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use anyhow::Context as _;
use async_trait::async_trait;
use secrecy::ExposeSecret as _;
use serenity::all::{
    ApplicationId, ChannelId, ClientBuilder, Command, CreateMessage, FullEvent, GatewayIntents,
    GuildId, Http, HttpBuilder, MessageFlags, MessageId, UserId,
};
use serenity::http::HttpError;
use tokio::sync::watch;
use tokio::time::Instant;

use crate::chat::{ChatService, View};
use crate::config::DiscordSettings;
use crate::domain::{ChatRef, Locale, Platform};
use crate::notify::{ChatSender, Undeliverable};
use interactions::Handler;

/// The framework's data: the interaction handler.
pub struct Data {
    pub handler: Arc<Handler>,
}

pub type Error = anyhow::Error;

/// Discord's global limit is 50 requests a second; outbox sends are spaced
/// a little under it, leaving room for interaction answers.
const SEND_SPACING: Duration = Duration::from_millis(25);

/// A connected Discord client: the REST client and the application.
pub struct Discord {
    pub http: Arc<Http>,
    pub application: ApplicationId,
    settings: DiscordSettings,
    pub dms: Arc<Dms>,
}

/// Builds the REST client on `DISCORD_API_URL`, learns the application
/// (checks the token), and registers the slash commands: globally, or in
/// `DISCORD_GUILD_ID` only.
pub async fn prepare(settings: &DiscordSettings) -> anyhow::Result<Discord> {
    if let Some(key) = &settings.public_key {
        endpoint::verifier(key).context("DISCORD_PUBLIC_KEY is not an Ed25519 public key")?;
    }
    let mut builder = HttpBuilder::new(settings.token.expose_secret());
    if let Some(url) = &settings.api_url {
        builder = builder.proxy(url.as_str().trim_end_matches('/'));
    }
    if let Some(id) = settings.application_id {
        builder = builder.application_id(ApplicationId::new(id));
    }
    let http = Arc::new(builder.build());
    let application = match settings.application_id {
        Some(id) => ApplicationId::new(id),
        None => {
            let app = http
                .get_current_application_info()
                .await
                .context("Discord: read the application (is DISCORD_BOT_TOKEN right?)")?;
            http.set_application_id(app.id);
            app.id
        }
    };
    let registration = commands::registration();
    let count = registration.len();
    match settings.guild_id {
        Some(guild) => {
            GuildId::new(guild)
                .set_commands(&*http, registration)
                .await
                .context("Discord: register the commands in DISCORD_GUILD_ID")?;
        }
        None => {
            Command::set_global_commands(&*http, registration)
                .await
                .context("Discord: register the commands")?;
        }
    }
    tracing::info!(application = %application, commands = count, guild = ?settings.guild_id, "Discord commands registered");
    Ok(Discord {
        dms: Arc::new(Dms::new(Arc::clone(&http))),
        http,
        application,
        settings: settings.clone(),
    })
}

impl Discord {
    /// Whether interactions come as signed HTTP posts (no gateway).
    #[must_use]
    pub const fn over_http(&self) -> bool {
        self.settings.public_key.is_some()
    }

    fn gateway_http(&self) -> Http {
        let mut builder =
            HttpBuilder::new(self.settings.token.expose_secret()).application_id(self.application);
        if let Some(url) = &self.settings.api_url {
            builder = builder.proxy(url.as_str().trim_end_matches('/'));
        }
        builder.build()
    }

    /// The outbox's sender of DMs and channel messages.
    #[must_use]
    pub fn sender(&self) -> DiscordSender {
        DiscordSender::new(Arc::clone(&self.http), Arc::clone(&self.dms))
    }

    /// The interaction handler over `service`.
    #[must_use]
    pub fn handler(&self, service: Arc<ChatService>) -> Arc<Handler> {
        Arc::new(Handler::new(service, Arc::clone(&self.http)))
    }

    /// The HTTP interactions endpoint's state, when configured.
    #[must_use]
    pub fn endpoint(&self, handler: Arc<Handler>) -> Option<endpoint::Endpoint> {
        self.settings
            .public_key
            .as_deref()
            .and_then(|k| endpoint::Endpoint::new(k, handler).ok())
    }

    /// Runs the gateway (unless interactions come over HTTP) and the
    /// deletion of expiring messages, until shutdown.
    pub async fn run(
        self,
        handler: Arc<Handler>,
        service: Arc<ChatService>,
        mut shutdown: watch::Receiver<bool>,
    ) {
        let sweeper = tokio::spawn(delete_expired(
            Arc::clone(&self.http),
            Arc::clone(&self.dms),
            service,
        ));
        if self.over_http() {
            let _ = shutdown.changed().await;
            sweeper.abort();
            return;
        }
        let framework = poise::Framework::builder()
            .options(poise::FrameworkOptions {
                commands: commands::all(),
                event_handler: |framework, event| Box::pin(on_event(event, framework.user_data)),
                on_error: |e| Box::pin(on_error(e)),
                ..Default::default()
            })
            .setup(move |_ctx, ready, _framework| {
                Box::pin(async move {
                    tracing::info!(user = %ready.user.name, guilds = ready.guilds.len(), "Discord gateway ready");
                    Ok(Data { handler })
                })
            })
            .build();
        // The gateway client gets a REST client of its own (serenity takes
        // it by value); interactions are answered through `self.http`.
        let client = ClientBuilder::new_with_http(self.gateway_http(), GatewayIntents::GUILDS)
            .framework(framework)
            .await;
        let mut client = match client {
            Ok(c) => c,
            Err(e) => {
                tracing::error!(error = %e, "Discord client could not be built");
                sweeper.abort();
                return;
            }
        };
        let shards = Arc::clone(&client.shard_manager);
        tokio::spawn(async move {
            let _ = shutdown.changed().await;
            shards.shutdown_all().await;
        });
        if let Err(e) = client.start().await {
            tracing::error!(error = %e, "Discord gateway stopped");
        }
        sweeper.abort();
    }
}

/// Presses and forms (poise runs commands and suggestions itself).
async fn on_event(event: &FullEvent, data: &Data) -> Result<(), Error> {
    if let FullEvent::InteractionCreate { interaction } = event {
        let handler = &data.handler;
        match interaction {
            serenity::all::Interaction::Component(c) => {
                let first = interactions::Callback::of(handler.http(), c.id, &c.token);
                handler.component(c, first).await;
            }
            serenity::all::Interaction::Modal(m) => {
                let first = interactions::Callback::of(handler.http(), m.id, &m.token);
                handler.modal(m, first).await;
            }
            _ => {}
        }
    }
    Ok(())
}

async fn on_error(e: poise::FrameworkError<'_, Data, Error>) {
    match e {
        poise::FrameworkError::Setup { error, .. } => {
            tracing::error!(error = format!("{error:#}"), "Discord setup failed");
        }
        other => tracing::warn!(error = %other, "Discord framework error"),
    }
}

/// DM channels by user, created on first need and remembered.
pub struct Dms {
    http: Option<Arc<Http>>,
    channels: Mutex<HashMap<u64, ChannelId>>,
}

impl Default for Dms {
    fn default() -> Self {
        Self {
            http: None,
            channels: Mutex::new(HashMap::new()),
        }
    }
}

impl Dms {
    #[must_use]
    pub fn new(http: Arc<Http>) -> Self {
        Self {
            http: Some(http),
            ..Self::default()
        }
    }

    /// The channel a chat's messages go to: the user's DM channel for a
    /// user, else the channel itself.
    async fn channel(&self, http: &Http, chat: ChatRef) -> Result<ChannelId, serenity::Error> {
        if chat.id < 0 {
            return Ok(ChannelId::new(chat.id.unsigned_abs()));
        }
        let user = chat.id.unsigned_abs().max(1);
        if let Some(c) = self
            .channels
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&user)
        {
            return Ok(*c);
        }
        let http = self.http.as_deref().unwrap_or(http);
        let dm = UserId::new(user).create_dm_channel(http).await?;
        self.channels
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(user, dm.id);
        Ok(dm.id)
    }
}

/// Deletes one message in a chat.
pub(crate) async fn delete_message(
    http: &Http,
    dms: &Dms,
    chat: ChatRef,
    message_id: i64,
) -> Result<(), serenity::Error> {
    let channel = dms.channel(http, chat).await?;
    let id = MessageId::new(message_id.unsigned_abs().max(1));
    channel.delete_message(http, id).await
}

/// Discord's JSON error code of a failed request, with its HTTP status.
fn api_error(e: &serenity::Error) -> Option<(u16, isize)> {
    match e {
        serenity::Error::Http(HttpError::UnsuccessfulRequest(r)) => {
            Some((r.status_code.as_u16(), r.error.code))
        }
        _ => None,
    }
}

/// What a failed send means for the outbox.
fn undeliverable(e: &serenity::Error) -> Option<Undeliverable> {
    let (status, code) = api_error(e)?;
    match (status, code) {
        // Rate limited after serenity's own retries.
        (429, _) => Some(Undeliverable::RetryAfter(Duration::from_secs(5))),
        // Cannot send messages to this user (DMs closed, no shared server),
        // unknown channel/user, missing access or permissions, a body
        // Discord refuses.
        (_, 50_007 | 10_003 | 10_013 | 50_001 | 50_013 | 50_035) | (403 | 404, _) => Some(
            Undeliverable::Refused(format!("Discord refused it (HTTP {status}, code {code})")),
        ),
        _ => None,
    }
}

/// Sends outbox messages to Discord: a user's by DM, a channel's to it.
pub struct DiscordSender {
    http: Arc<Http>,
    dms: Arc<Dms>,
    /// The next moment a send may start (spaced to the global limit).
    next: tokio::sync::Mutex<Instant>,
}

impl DiscordSender {
    #[must_use]
    pub fn new(http: Arc<Http>, dms: Arc<Dms>) -> Self {
        Self {
            http,
            dms,
            next: tokio::sync::Mutex::new(Instant::now()),
        }
    }

    /// Waits for this send's slot under the global rate.
    async fn slot(&self) {
        let at = {
            let mut next = self.next.lock().await;
            let at = (*next).max(Instant::now());
            *next = at + SEND_SPACING;
            at
        };
        tokio::time::sleep_until(at).await;
    }
}

#[async_trait]
impl ChatSender for DiscordSender {
    async fn send(&self, chat: ChatRef, view: &View, silent: bool) -> anyhow::Result<()> {
        let fail = |e: serenity::Error, what: &'static str| {
            let why = undeliverable(&e);
            let err = anyhow::Error::new(e).context(what);
            match why {
                Some(why) => err.context(why),
                None => err,
            }
        };
        self.slot().await;
        let channel = self
            .dms
            .channel(&self.http, chat)
            .await
            .map_err(|e| fail(e, "Discord: open the DM channel"))?;
        // The outbox holds no locale; buttons carry their own labels and
        // only the select menu's hint needs one.
        let parts = view::split(&view.text);
        let last = parts.len() - 1;
        for (n, part) in parts.into_iter().enumerate() {
            let mut msg = CreateMessage::new().content(part);
            if n == last {
                msg = msg.components(view::components(Locale::En, view));
            }
            if silent {
                msg = msg.flags(MessageFlags::SUPPRESS_NOTIFICATIONS);
            }
            if n > 0 {
                self.slot().await;
            }
            channel
                .send_message(&*self.http, msg)
                .await
                .map_err(|e| fail(e, "Discord: send a message"))?;
        }
        Ok(())
    }
}

/// How often stored expiring messages are looked at.
const SWEEP_EVERY: Duration = Duration::from_secs(1);
/// Stop retrying a deletion after two days.
const GIVE_UP_AFTER_MS: i64 = 48 * 3_600_000;

/// Deletes stored expiring Discord messages as they fall due, forever,
/// from the start (so ones that fell due while the process was down go at
/// once). A message already gone or out of reach is forgotten; other
/// failures are retried on the next sweep, for up to two days.
async fn delete_expired(http: Arc<Http>, dms: Arc<Dms>, service: Arc<ChatService>) {
    let mut every = tokio::time::interval(SWEEP_EVERY);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        every.tick().await;
        let due = match service.expiring_due(Platform::Discord, 100).await {
            Ok(due) => due,
            Err(e) => {
                tracing::warn!(
                    error = format!("{e:#}"),
                    "reading the messages to delete failed"
                );
                continue;
            }
        };
        for m in due {
            let forget = match delete_message(&http, &dms, m.chat, m.message_id).await {
                Ok(()) => true,
                Err(e) => match api_error(&e) {
                    // Unknown message, channel or user; no access.
                    Some((403 | 404, _)) => {
                        tracing::info!(chat = %m.chat, message = m.message_id, error = %e, "expiring message already gone or out of reach");
                        true
                    }
                    _ => {
                        let overdue = service.now_ms() - m.delete_at_ms;
                        tracing::warn!(chat = %m.chat, message = m.message_id, overdue_ms = overdue, error = %e, "could not delete an expiring message; retrying");
                        overdue > GIVE_UP_AFTER_MS
                    }
                },
            };
            if forget && let Err(e) = service.expired(m.chat, m.message_id).await {
                tracing::warn!(
                    error = format!("{e:#}"),
                    "forgetting a deleted message failed"
                );
            }
        }
    }
}
