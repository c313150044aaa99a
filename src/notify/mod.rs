//! Delivery of queued messages (alerts, fill notices) from the outbox.
//!
//! At-least-once: a message is marked sent only after the platform accepted
//! it, so a crash in between resends it on restart (never loses it). One
//! worker per process drains the outbox; within a chat messages go out in
//! order, chats are served concurrently so one slow chat does not hold up
//! the others. Platform rate limits live in each sender (Telegram: teloxide's
//! `Throttle`, which also waits out a 429's `retry_after` and retries).
//!
//! Failures are told apart by what the sender attaches ([`Undeliverable`]):
//! a chat that refuses messages for good (the bot was blocked or kicked,
//! the chat is gone) parks the message at once; a platform that asks to
//! wait holds the chat that long without counting an attempt; anything
//! else (network, 5xx) is transient: the chat backs off exponentially
//! (2 s doubling to 5 min) and the message is parked only after
//! [`GIVE_UP_AFTER`] attempts, about an hour of trying. Other chats are
//! served meanwhile: `Store::pending` caps each chat's share of a batch.

pub mod expiring;

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::watch;
use tokio::time::Instant;

use crate::chat::{View, render};
use crate::domain::ports::OutboxMessage;
use crate::domain::{ChatRef, Locale, Platform};
use crate::service::Core;

/// Sends a rendered view to a chat of one platform.
#[async_trait]
pub trait ChatSender: Send + Sync {
    /// Delivers the message (`silent`: without a sound, where the platform
    /// can); an error means it was not delivered. A sender that knows why
    /// attaches an [`Undeliverable`] (`anyhow::Error::new(…)` or as the
    /// error's context); any other error is taken as transient.
    async fn send(&self, chat: ChatRef, view: &View, silent: bool) -> anyhow::Result<()>;
}

/// Why a send failed, as far as the platform said.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Undeliverable {
    /// The chat will not take this message, ever (blocked, kicked, chat
    /// gone, refused as malformed): parked at once.
    #[error("the chat refuses the message: {0}")]
    Refused(String),
    /// The platform asks to wait this long before sending to the chat
    /// again; the message is not at fault, so no attempt is counted.
    #[error("rate limited; retry in {0:?}")]
    RetryAfter(Duration),
}

impl Undeliverable {
    /// The reason attached to `e`, as its context or as an error in its
    /// chain.
    fn of(e: &anyhow::Error) -> Option<&Self> {
        e.downcast_ref::<Self>()
            .or_else(|| e.chain().find_map(|c| c.downcast_ref::<Self>()))
    }
}

/// After this many transient failures a message is parked (with the
/// backoff below, about an hour of attempts).
pub const GIVE_UP_AFTER: i32 = 16;
/// How many messages one pass loads.
const BATCH: u32 = 200;
/// Poll interval when nothing signals (retries of failed sends).
const IDLE_POLL: Duration = Duration::from_secs(5);
/// Backoff of a chat after a transient failure: doubling from the first,
/// at most the last.
const BACKOFF_FIRST: Duration = Duration::from_secs(2);
const BACKOFF_MAX: Duration = Duration::from_secs(300);

/// A chat that is not to be sent to before `until`.
#[derive(Debug, Clone, Copy)]
struct Hold {
    until: Instant,
    /// Transient failures in a row (the backoff's exponent).
    streak: u32,
}

pub struct Delivery {
    core: Arc<Core>,
    senders: HashMap<Platform, Arc<dyn ChatSender>>,
    holds: Mutex<HashMap<ChatRef, Hold>>,
    /// The first and the longest backoff of a failing chat.
    backoff: (Duration, Duration),
}

impl Delivery {
    #[must_use]
    pub fn new(core: Arc<Core>, senders: HashMap<Platform, Arc<dyn ChatSender>>) -> Self {
        Self {
            core,
            senders,
            holds: Mutex::new(HashMap::new()),
            backoff: (BACKOFF_FIRST, BACKOFF_MAX),
        }
    }

    /// Another backoff than 2 s doubling to 5 min (tests).
    #[must_use]
    pub const fn with_backoff(mut self, first: Duration, max: Duration) -> Self {
        self.backoff = (first, max);
        self
    }

    fn holds(&self) -> std::sync::MutexGuard<'_, HashMap<ChatRef, Hold>> {
        self.holds.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Whether the chat is waiting out a backoff or a platform's request.
    fn held(&self, chat: ChatRef, now: Instant) -> bool {
        self.holds().get(&chat).is_some_and(|h| h.until > now)
    }

    /// Holds the chat after a failure: `wait` when the platform named it,
    /// else the next step of its backoff.
    fn hold(&self, chat: ChatRef, wait: Option<Duration>) {
        let mut holds = self.holds();
        let h = holds.entry(chat).or_insert(Hold {
            until: Instant::now(),
            streak: 0,
        });
        let wait = wait.unwrap_or_else(|| {
            h.streak = h.streak.saturating_add(1);
            let (first, max) = self.backoff;
            first
                .saturating_mul(1 << h.streak.saturating_sub(1).min(16))
                .min(max)
        });
        h.until = Instant::now() + wait;
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

    /// Delivers pending messages until none is left but those of chats
    /// that are held (failing, or asked to wait); the next pass retries
    /// those.
    pub async fn drain(&self) -> anyhow::Result<usize> {
        let mut delivered = 0;
        loop {
            let batch = self.core.store().pending(BATCH).await?;
            if batch.is_empty() {
                return Ok(delivered);
            }
            let full = batch.len() == BATCH as usize;
            let now = Instant::now();
            let mut by_chat: BTreeMap<ChatRef, Vec<OutboxMessage>> = BTreeMap::new();
            for m in batch {
                if !self.held(m.chat, now) {
                    by_chat.entry(m.chat).or_default().push(m);
                }
            }
            let results = futures_util::future::join_all(
                by_chat.into_values().map(|msgs| self.deliver_chat(msgs)),
            )
            .await;
            let done: usize = results.into_iter().sum();
            delivered += done;
            if !full || done == 0 {
                return Ok(delivered);
            }
        }
    }

    /// Sends one chat's messages in order; stops at the first failure that
    /// may pass (so order is kept), and goes on past a message the chat
    /// refused for good. Returns how many were sent or parked.
    async fn deliver_chat(&self, msgs: Vec<OutboxMessage>) -> usize {
        let mut done = 0;
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
            let err = match result {
                Ok(()) => {
                    done += 1;
                    self.holds().remove(&m.chat);
                    if let Err(e) = store.mark_sent(m.id, self.core.now_ms()).await {
                        tracing::error!(id = m.id, error = format!("{e:#}"), "mark sent failed");
                    }
                    continue;
                }
                Err(e) => e,
            };
            let give_up_after = match Undeliverable::of(&err) {
                Some(Undeliverable::RetryAfter(wait)) => {
                    tracing::info!(id = m.id, chat = %m.chat, ?wait, "delivery rate limited; waiting");
                    self.hold(m.chat, Some(*wait));
                    return done;
                }
                Some(Undeliverable::Refused(_)) => {
                    tracing::warn!(id = m.id, chat = %m.chat, error = format!("{err:#}"),
                        "the chat refuses messages; parked");
                    done += 1;
                    1
                }
                None => {
                    tracing::warn!(id = m.id, chat = %m.chat, attempt = m.attempts + 1,
                        error = format!("{err:#}"), "delivery failed; retried later");
                    self.hold(m.chat, None);
                    GIVE_UP_AFTER
                }
            };
            if let Err(e2) = store
                .mark_failed(m.id, &format!("{err:#}"), give_up_after)
                .await
            {
                tracing::error!(id = m.id, error = format!("{e2:#}"), "mark failed failed");
            }
            if give_up_after != 1 {
                return done;
            }
        }
        done
    }
}
