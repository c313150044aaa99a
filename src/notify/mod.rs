//! Delivery of queued messages (alerts, fill notices) from the outbox.
//!
//! At-least-once: a message is marked sent only after the platform accepted
//! it, so a crash in between resends it on restart (never loses it). One
//! worker per process drains the outbox; within a chat messages go out in
//! order, chats are served concurrently so one slow chat does not hold up
//! the others. Platform rate limits live in each sender (Telegram: teloxide's
//! `Throttle`).

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::watch;

use crate::chat::{View, render};
use crate::domain::ports::OutboxMessage;
use crate::domain::{ChatRef, Locale, Platform};
use crate::service::Core;

/// Sends a rendered view to a chat of one platform.
#[async_trait]
pub trait ChatSender: Send + Sync {
    /// Delivers the message (`silent`: without a sound, where the platform
    /// can); an error means it was not delivered.
    async fn send(&self, chat: ChatRef, view: &View, silent: bool) -> anyhow::Result<()>;
}

/// After this many failed attempts a message is parked.
const GIVE_UP_AFTER: i32 = 8;
/// How many messages one pass loads.
const BATCH: u32 = 200;
/// Poll interval when nothing signals (retries of failed sends).
const IDLE_POLL: Duration = Duration::from_secs(5);

pub struct Delivery {
    core: Arc<Core>,
    senders: HashMap<Platform, Arc<dyn ChatSender>>,
}

impl Delivery {
    #[must_use]
    pub fn new(core: Arc<Core>, senders: HashMap<Platform, Arc<dyn ChatSender>>) -> Self {
        Self { core, senders }
    }

    /// Drains the outbox whenever signalled (and every few seconds) until
    /// shutdown.
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        let signal = self.core.outbox_signal();
        loop {
            if let Err(e) = self.drain().await {
                tracing::error!(error = format!("{e:#}"), "outbox delivery failed");
            }
            tokio::select! {
                () = signal.notified() => {}
                () = tokio::time::sleep(IDLE_POLL) => {}
                _ = shutdown.changed() => break,
            }
        }
    }

    /// Delivers pending messages until none is left (or only failing ones).
    pub async fn drain(&self) -> anyhow::Result<usize> {
        let mut delivered = 0;
        loop {
            let batch = self.core.store().pending(BATCH).await?;
            if batch.is_empty() {
                return Ok(delivered);
            }
            let full = batch.len() == BATCH as usize;
            let mut by_chat: BTreeMap<ChatRef, Vec<OutboxMessage>> = BTreeMap::new();
            for m in batch {
                by_chat.entry(m.chat).or_default().push(m);
            }
            let results = futures_util::future::join_all(
                by_chat.into_values().map(|msgs| self.deliver_chat(msgs)),
            )
            .await;
            let (ok, failed): (usize, usize) = results
                .into_iter()
                .fold((0, 0), |(o, f), (a, b)| (o + a, f + b));
            delivered += ok;
            // Stop when everything left is failing; the next pass retries.
            if !full || ok == 0 && failed > 0 {
                return Ok(delivered);
            }
        }
    }

    /// Sends one chat's messages in order; stops at the first failure so
    /// order is kept. Returns (sent, failed).
    async fn deliver_chat(&self, msgs: Vec<OutboxMessage>) -> (usize, usize) {
        let mut sent = 0;
        let store = self.core.store();
        let mut locale: Option<Locale> = None;
        for m in msgs {
            let result = match self.senders.get(&m.chat.platform) {
                None => Err(anyhow::anyhow!("{} is not enabled", m.chat.platform)),
                Some(sender) => {
                    let l = match locale {
                        Some(l) => l,
                        None => {
                            let l = store
                                .get_user(m.user)
                                .await
                                .ok()
                                .flatten()
                                .map_or_else(Locale::default, |u| u.locale);
                            locale = Some(l);
                            l
                        }
                    };
                    sender
                        .send(m.chat, &render::outbox(l, &m.payload), m.silent)
                        .await
                }
            };
            match result {
                Ok(()) => {
                    sent += 1;
                    if let Err(e) = store.mark_sent(m.id, self.core.now_ms()).await {
                        tracing::error!(id = m.id, error = format!("{e:#}"), "mark sent failed");
                    }
                }
                Err(e) => {
                    tracing::warn!(id = m.id, chat = %m.chat, error = format!("{e:#}"), "delivery failed");
                    if let Err(e2) = store
                        .mark_failed(m.id, &format!("{e:#}"), GIVE_UP_AFTER)
                        .await
                    {
                        tracing::error!(id = m.id, error = format!("{e2:#}"), "mark failed failed");
                    }
                    return (sent, 1);
                }
            }
        }
        (sent, 0)
    }
}
