//! Deletion of messages that must not stay (an exported key): one sweep
//! for every platform. The chat service stores each such message with its
//! due time; [`sweep`] deletes them as they fall due through the
//! platform's [`Deleter`], from the start, so messages that fell due while
//! the process was down go at once. A message already gone or out of the
//! bot's reach is forgotten; other failures are retried on the next sweep,
//! for up to two days (Telegram lets a bot delete its messages for 48
//! hours).

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

use crate::chat::ChatService;
use crate::domain::{ChatRef, Platform};

/// How often stored expiring messages are looked at.
const SWEEP_EVERY: Duration = Duration::from_secs(1);
/// Messages due in one sweep.
const BATCH: u32 = 100;
/// A deletion still failing this long after its time is given up.
const GIVE_UP_AFTER_MS: i64 = 48 * 3_600_000;

/// What deleting a message came to.
#[derive(Debug)]
pub enum Deletion {
    Deleted,
    /// Already gone, or in a chat the bot can no longer reach: nothing
    /// left to do.
    Gone(String),
    /// May pass later.
    Failed(String),
}

/// Deletes one message on a platform.
#[async_trait]
pub trait Deleter: Send + Sync {
    async fn delete(&self, chat: ChatRef, message_id: i64) -> Deletion;
}

/// Deletes `platform`'s stored expiring messages as they fall due,
/// forever (abort the task to stop it).
pub async fn sweep(service: Arc<ChatService>, platform: Platform, deleter: Arc<dyn Deleter>) {
    let mut every = tokio::time::interval(SWEEP_EVERY);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        every.tick().await;
        let due = match service.expiring_due(platform, BATCH).await {
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
            let forget = match deleter.delete(m.chat, m.message_id).await {
                Deletion::Deleted => true,
                Deletion::Gone(why) => {
                    tracing::info!(chat = %m.chat, message = m.message_id, why,
                        "expiring message already gone or out of reach");
                    true
                }
                Deletion::Failed(error) => {
                    let overdue = service.now_ms() - m.delete_at_ms;
                    tracing::warn!(chat = %m.chat, message = m.message_id, overdue_ms = overdue,
                        error, "could not delete an expiring message; retrying");
                    overdue > GIVE_UP_AFTER_MS
                }
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

/// Has a sent message deleted after `secs`: stored, so a restart does not
/// leave it up; if it cannot be stored, a timer in this process does it
/// (lost on restart, and said so in the log).
pub async fn expire(
    service: &ChatService,
    deleter: Arc<dyn Deleter>,
    chat: ChatRef,
    message_id: i64,
    secs: u32,
) {
    let Err(e) = service.expire_message(chat, message_id, secs).await else {
        return;
    };
    tracing::error!(
        chat = %chat,
        error = format!("{e:#}"),
        "could not store a message to delete; deleting it from memory (lost on restart)"
    );
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_secs(u64::from(secs))).await;
        match deleter.delete(chat, message_id).await {
            Deletion::Deleted | Deletion::Gone(_) => {}
            Deletion::Failed(error) => {
                tracing::warn!(chat = %chat, error, "could not delete an expiring message");
            }
        }
    });
}
