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
//! ([`DiscordSender`], over [`rest::Rest`]: spaced under Discord's global
//! and per-channel limits, a 429's `retry_after` honoured). serenity's own
//! calls go through its rate limiter (per-route buckets, 429s waited out);
//! with `DISCORD_API_URL` set, serenity's proxy mode, whose rate limiter
//! is off (it would ignore the proxy), as with a rate-limiting proxy.
//!
//! Chats: a user's DM is `ChatRef(discord, user id)`, a server channel
//! `ChatRef(discord, -channel id)`.

pub mod commands;
pub mod endpoint;
pub mod interactions;
pub mod rest;
pub mod view;

use std::sync::Arc;

use anyhow::Context as _;
use async_trait::async_trait;
use secrecy::ExposeSecret as _;
use serenity::all::{
    ApplicationId, ClientBuilder, Command, CreateMessage, FullEvent, GatewayIntents, GuildId, Http,
    HttpBuilder, MessageFlags,
};
use tokio::sync::watch;

use crate::chat::{ChatService, View};
use crate::config::DiscordSettings;
use crate::domain::{ChatRef, Locale, Platform};
use crate::notify::{ChatSender, Undeliverable, expiring};
use interactions::Handler;
use rest::Rest;

/// The framework's data: the interaction handler.
pub struct Data {
    pub handler: Arc<Handler>,
}

pub type Error = anyhow::Error;

/// A connected Discord client: the REST client and the application.
pub struct Discord {
    pub http: Arc<Http>,
    pub application: ApplicationId,
    settings: DiscordSettings,
    pub rest: Arc<Rest>,
}

/// serenity's REST client: Discord's own with its rate limiter, or
/// `DISCORD_API_URL` as serenity's proxy (whose rate limiter would ignore
/// the proxy, so it is off, as serenity documents for proxies).
fn http_builder(settings: &DiscordSettings) -> HttpBuilder {
    let builder = HttpBuilder::new(settings.token.expose_secret());
    match &settings.api_url {
        Some(url) => builder
            .proxy(url.as_str().trim_end_matches('/'))
            .ratelimiter_disabled(true),
        None => builder,
    }
}

/// Builds the REST client on `DISCORD_API_URL`, learns the application
/// (checks the token), and registers the slash commands: globally, or in
/// `DISCORD_GUILD_ID` only.
pub async fn prepare(settings: &DiscordSettings) -> anyhow::Result<Discord> {
    if let Some(key) = &settings.public_key {
        endpoint::verifier(key).context("DISCORD_PUBLIC_KEY is not an Ed25519 public key")?;
    }
    let mut builder = http_builder(settings);
    if let Some(id) = settings.application_id {
        builder = builder.application_id(ApplicationId::new(id));
    }
    let http = Arc::new(builder.build());
    let base = settings
        .api_url
        .as_ref()
        .map_or(rest::DISCORD, |u| u.as_str());
    let rest = Arc::new(Rest::new(base, settings.token.clone()).context("Discord REST client")?);
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
        rest,
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
        http_builder(&self.settings)
            .application_id(self.application)
            .build()
    }

    /// The outbox's sender of DMs and channel messages.
    #[must_use]
    pub fn sender(&self) -> DiscordSender {
        DiscordSender::new(Arc::clone(&self.rest))
    }

    /// The interaction handler over `service`.
    #[must_use]
    pub fn handler(&self, service: Arc<ChatService>) -> Arc<Handler> {
        Arc::new(Handler::new(
            service,
            Arc::clone(&self.http),
            Arc::clone(&self.rest),
        ))
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
        let sweeper = tokio::spawn(expiring::sweep(
            service,
            Platform::Discord,
            Arc::clone(&self.rest) as Arc<dyn expiring::Deleter>,
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

/// What a failed send means for the outbox.
fn undeliverable(e: &rest::RestError) -> Option<Undeliverable> {
    let rest::RestError::Api {
        status,
        code,
        retry_after,
        ..
    } = e
    else {
        return None;
    };
    if let Some(wait) = retry_after {
        return Some(Undeliverable::RetryAfter(*wait));
    }
    match (status, code) {
        // Cannot send messages to this user (DMs closed, no shared server),
        // unknown channel or user, missing access or permissions, a body
        // Discord refuses.
        (_, 50_007 | 10_003 | 10_013 | 50_001 | 50_013 | 50_035) | (400 | 403 | 404, _) => Some(
            Undeliverable::Refused(format!("Discord refused it (HTTP {status}, code {code})")),
        ),
        _ => None,
    }
}

/// Sends outbox messages to Discord: a user's by DM, a channel's to it.
pub struct DiscordSender {
    rest: Arc<Rest>,
}

impl DiscordSender {
    #[must_use]
    pub const fn new(rest: Arc<Rest>) -> Self {
        Self { rest }
    }
}

#[async_trait]
impl ChatSender for DiscordSender {
    async fn send(&self, chat: ChatRef, view: &View, silent: bool) -> anyhow::Result<()> {
        // The outbox holds no locale; buttons carry their own labels and
        // only a select menu's hint needs one.
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
            let body = serde_json::to_value(&msg)?;
            if let Err(e) = self.rest.send(chat, &body).await {
                let why = undeliverable(&e);
                let err = anyhow::Error::new(e).context("Discord: send a message");
                return Err(match why {
                    Some(why) => err.context(why),
                    None => err,
                });
            }
        }
        Ok(())
    }
}
