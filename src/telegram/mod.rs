//! Telegram transport (teloxide, long polling). Thin: an update becomes a
//! [`ChatRequest`], the chat service answers once, the answer becomes
//! messages, edits and callback answers. Every send goes through teloxide's
//! `Throttle` (per-chat and global limits).

use std::sync::Arc;

use anyhow::Context as _;
use async_trait::async_trait;
use secrecy::ExposeSecret as _;
use teloxide::adaptors::Throttle;
use teloxide::adaptors::throttle::Limits;
use teloxide::dispatching::{Dispatcher, UpdateFilterExt as _};
use teloxide::prelude::*;
use teloxide::types::{
    BotCommand, ChatId, InlineKeyboardButton, InlineKeyboardMarkup, Message, User,
};
use teloxide::{ApiError, RequestError};
use tokio::sync::watch;

use crate::chat::command::COMMANDS;
use crate::chat::{ChatRequest, ChatResponse, ChatService, Input, View, i18n};
use crate::config::TelegramSettings;
use crate::domain::{ChatKind, ChatRef, Locale, Platform, UserRef};
use crate::notify::expiring::{self, Deleter, Deletion};
use crate::notify::{ChatSender, Undeliverable};

pub type TgBot = Throttle<Bot>;

/// Telegram's documented limits: about one message per second in a chat,
/// 20 per minute in a group or channel, 30 per second overall. teloxide's
/// defaults also cap private chats at 20 per minute, which would delay a
/// burst of alerts for no reason.
const LIMITS: Limits = Limits {
    messages_per_sec_chat: 1,
    messages_per_min_chat: 60,
    messages_per_min_channel_or_supergroup: 20,
    messages_per_sec_overall: 30,
};

/// Builds the throttled bot for the configured API URL.
#[must_use]
pub fn bot(settings: &TelegramSettings) -> TgBot {
    Bot::new(settings.token.expose_secret())
        .set_api_url(settings.api_url.clone())
        .throttle(LIMITS)
}

/// Asks the Bot API who we are (validates the token) and registers the
/// command menu. Returns the bot's username.
pub async fn prepare(bot: &TgBot) -> anyhow::Result<Option<String>> {
    let me = bot
        .get_me()
        .await
        .context("Telegram getMe (is the token right?)")?;
    if let Err(e) = bot.set_my_commands(menu()).await {
        tracing::warn!(error = %e, "could not register the Telegram command menu");
    }
    Ok(me.user.username.clone())
}

/// The command menu registered with the Bot API: the chat layer's list.
#[must_use]
pub fn menu() -> Vec<BotCommand> {
    COMMANDS
        .iter()
        .map(|c| BotCommand::new(c.name, i18n::t(Locale::En, c.about, &[])))
        .collect()
}

/// Runs the long-polling dispatcher until shutdown.
pub async fn run(bot: TgBot, service: Arc<ChatService>, mut shutdown: watch::Receiver<bool>) {
    let (bot_for_sweeps, service_for_sweeps) = (bot.clone(), Arc::clone(&service));
    let handler = dptree::entry()
        .branch(Update::filter_message().endpoint(on_message))
        .branch(Update::filter_callback_query().endpoint(on_callback));
    let mut dispatcher = Dispatcher::builder(bot, handler)
        .dependencies(dptree::deps![service])
        .default_handler(|_| async {})
        .error_handler(LoggingErrorHandler::with_custom_text(
            "telegram handler failed",
        ))
        .build();
    let token = dispatcher.shutdown_token();
    let sweeper = tokio::spawn(expiring::sweep(
        service_for_sweeps,
        Platform::Telegram,
        Arc::new(TelegramDeleter(bot_for_sweeps)),
    ));
    tokio::spawn(async move {
        let _ = shutdown.changed().await;
        sweeper.abort();
        if let Ok(done) = token.shutdown() {
            done.await;
        }
    });
    dispatcher.dispatch().await;
}

/// Deletes Telegram messages for the expiring-message sweep.
struct TelegramDeleter(TgBot);

#[async_trait]
impl Deleter for TelegramDeleter {
    async fn delete(&self, chat: ChatRef, message_id: i64) -> Deletion {
        let id = i32::try_from(message_id).unwrap_or(i32::MAX);
        match self
            .0
            .delete_message(ChatId(chat.id), teloxide::types::MessageId(id))
            .await
        {
            Ok(_) => Deletion::Deleted,
            Err(
                e @ RequestError::Api(
                    ApiError::MessageToDeleteNotFound | ApiError::MessageCantBeDeleted,
                ),
            ) => Deletion::Gone(e.to_string()),
            // The chat refuses the bot (blocked, kicked, gone): the
            // message cannot be deleted by it any more.
            Err(e) if matches!(undeliverable(&e), Some(Undeliverable::Refused(_))) => {
                Deletion::Gone(e.to_string())
            }
            Err(e) => Deletion::Failed(e.to_string()),
        }
    }
}

fn chat_kind(msg: &Message) -> ChatKind {
    if msg.chat.is_private() {
        ChatKind::Private
    } else if msg.chat.is_channel() {
        ChatKind::Channel
    } else {
        ChatKind::Group
    }
}

#[allow(
    clippy::cast_possible_wrap,
    reason = "Telegram user ids fit in 52 bits"
)]
fn user_ref(u: &User) -> UserRef {
    UserRef::new(Platform::Telegram, u.id.0 as i64)
}

fn request(user: &User, msg: &Message, input: Input) -> ChatRequest {
    ChatRequest {
        user: user_ref(user),
        chat: ChatRef::new(Platform::Telegram, msg.chat.id.0),
        kind: chat_kind(msg),
        name: user.first_name.clone(),
        language: user.language_code.clone(),
        input,
        private_reply: false,
    }
}

async fn on_message(bot: TgBot, msg: Message, service: Arc<ChatService>) -> ResponseResult<()> {
    let (Some(user), Some(text)) = (msg.from.as_ref(), msg.text()) else {
        return Ok(());
    };
    let resp = service
        .handle(request(user, &msg, Input::Text(text.to_owned())))
        .await;
    if resp.delete_input
        && let Err(e) = bot.delete_message(msg.chat.id, msg.id).await
    {
        // Not fatal for the answer, but the user must know: the reply
        // says the message is deleted, so warn loudly in the log.
        tracing::warn!(chat = msg.chat.id.0, error = %e, "could not delete a message holding a secret");
    }
    deliver(&bot, &service, msg.chat.id, None, resp).await
}

async fn on_callback(
    bot: TgBot,
    q: CallbackQuery,
    service: Arc<ChatService>,
) -> ResponseResult<()> {
    let Some(msg) = q.regular_message() else {
        bot.answer_callback_query(q.id.clone()).await?;
        return Ok(());
    };
    let data = q.data.clone().unwrap_or_default();
    let resp = service
        .handle(request(&q.from, msg, Input::Button(data)))
        .await;
    let mut answer = bot.answer_callback_query(q.id.clone());
    if let Some(t) = &resp.toast {
        answer = answer.text(t.clone());
    }
    answer.await?;
    deliver(&bot, &service, msg.chat.id, Some(msg.id), resp).await
}

fn keyboard(view: &View) -> Option<InlineKeyboardMarkup> {
    if view.buttons.is_empty() {
        return None;
    }
    Some(InlineKeyboardMarkup::new(view.buttons.iter().map(|row| {
        row.iter()
            .map(|b| InlineKeyboardButton::callback(b.label.clone(), b.action.encode()))
            .collect::<Vec<_>>()
    })))
}

async fn deliver(
    bot: &TgBot,
    service: &ChatService,
    chat: ChatId,
    pressed: Option<teloxide::types::MessageId>,
    resp: ChatResponse,
) -> ResponseResult<()> {
    if let (Some(id), Some(view)) = (pressed, &resp.edit) {
        let mut edit = bot.edit_message_text(chat, id, view.text.clone());
        edit = match keyboard(view) {
            Some(kb) => edit.reply_markup(kb),
            None => edit.reply_markup(InlineKeyboardMarkup::default()),
        };
        match edit.await {
            // Pressing the button of the view already shown (a refresh with
            // nothing new) changes nothing; Telegram says so as an error.
            Err(RequestError::Api(ApiError::MessageNotModified)) => {}
            other => {
                other?;
            }
        }
    }
    for view in &resp.messages {
        let sent = send_view(bot, chat, view, false).await?;
        if let Some(secs) = view.expires_s {
            expiring::expire(
                service,
                Arc::new(TelegramDeleter(bot.clone())),
                ChatRef::new(Platform::Telegram, chat.0),
                i64::from(sent.id.0),
                secs,
            )
            .await;
        }
    }
    Ok(())
}

async fn send_view(
    bot: &TgBot,
    chat: ChatId,
    view: &View,
    silent: bool,
) -> ResponseResult<Message> {
    let mut req = bot.send_message(chat, view.text.clone());
    if let Some(kb) = keyboard(view) {
        req = req.reply_markup(kb);
    }
    if silent {
        req = req.disable_notification(true);
    }
    req.await
}

/// Sends outbox messages to Telegram chats.
pub struct TelegramSender {
    bot: TgBot,
}

impl TelegramSender {
    #[must_use]
    pub const fn new(bot: TgBot) -> Self {
        Self { bot }
    }
}

#[async_trait]
impl ChatSender for TelegramSender {
    /// Outbox views never expire (`render::outbox` sets no expiry); only
    /// replies do, through `deliver`.
    async fn send(&self, chat: ChatRef, view: &View, silent: bool) -> anyhow::Result<()> {
        match send_view(&self.bot, ChatId(chat.id), view, silent).await {
            Ok(_) => Ok(()),
            Err(e) => {
                let why = undeliverable(&e);
                let err = anyhow::Error::new(e).context("Telegram sendMessage");
                Err(match why {
                    Some(why) => err.context(why),
                    None => err,
                })
            }
        }
    }
}

/// What a failed send means for the outbox: a chat that refuses the bot
/// for good, a wait the Bot API asked for, or (`None`) something that may
/// pass.
fn undeliverable(e: &RequestError) -> Option<Undeliverable> {
    match e {
        RequestError::RetryAfter(secs) => Some(Undeliverable::RetryAfter(secs.duration())),
        RequestError::MigrateToChatId(to) => Some(Undeliverable::Refused(format!(
            "the group became the supergroup {to}"
        ))),
        RequestError::Api(
            api @ (ApiError::BotBlocked
            | ApiError::BotKicked
            | ApiError::BotKickedFromSupergroup
            | ApiError::BotKickedFromChannel
            | ApiError::UserDeactivated
            | ApiError::CantInitiateConversation
            | ApiError::CantTalkWithBots
            | ApiError::ChatNotFound
            | ApiError::NotEnoughRightsToPostMessages
            | ApiError::MessageIsTooLong
            | ApiError::MessageTextIsEmpty),
        ) => Some(Undeliverable::Refused(api.to_string())),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use teloxide::types::Seconds;

    use super::*;

    #[test]
    fn send_errors_say_what_the_outbox_should_do() {
        assert_eq!(
            undeliverable(&RequestError::RetryAfter(Seconds::from_seconds(7))),
            Some(Undeliverable::RetryAfter(Duration::from_secs(7)))
        );
        for gone in [
            ApiError::BotBlocked,
            ApiError::ChatNotFound,
            ApiError::UserDeactivated,
        ] {
            assert!(
                matches!(
                    undeliverable(&RequestError::Api(gone)),
                    Some(Undeliverable::Refused(_))
                ),
                "refused for good"
            );
        }
        // Anything else may pass: retried with backoff.
        assert_eq!(
            undeliverable(&RequestError::Api(ApiError::Unknown("Bad Gateway".into()))),
            None
        );
        let e = RequestError::Io(std::sync::Arc::new(std::io::Error::other("reset")));
        assert_eq!(undeliverable(&e), None);
    }
}
