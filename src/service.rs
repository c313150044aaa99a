//! The application core: where chat requests and feed events meet the
//! engine and the store. Async and I/O-aware, but platform-neutral: it knows
//! ports, never concrete adapters (only `app.rs` does).
//!
//! Ordering rules it keeps:
//! - a follow is stored before the engine and the feed learn of it;
//! - a fill is stored (idempotently) before its notice is queued;
//! - the engine lock is never held across an await.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use anyhow::Context as _;
use tokio::sync::Notify;

use crate::domain::ports::{Clock, OutboxPayload, SessionStore, Store, UserRecord};
use crate::domain::{ChatRef, Lamports, Locale, TradeEvent, UserRef, WalletAddress};
use crate::engine::{Decision, Engine, FollowChange, Outcome, PositionView};

/// Keeps a live feed's subscriptions in step with the followed wallets.
pub trait FeedControl: Send + Sync {
    fn subscribe(&self, wallet: WalletAddress);
    fn unsubscribe(&self, wallet: WalletAddress);
}

/// A feed with nothing to subscribe to (replay, simulator).
#[derive(Debug, Default)]
pub struct NoSubscriptions;

impl FeedControl for NoSubscriptions {
    fn subscribe(&self, _: WalletAddress) {}
    fn unsubscribe(&self, _: WalletAddress) {}
}

/// Counters for /metrics and the closing figures.
#[derive(Debug, Default)]
pub struct Counters {
    pub trades: std::sync::atomic::AtomicU64,
    pub alerts: std::sync::atomic::AtomicU64,
    pub fills: std::sync::atomic::AtomicU64,
    pub skips: std::sync::atomic::AtomicU64,
}

/// A user's open positions and realized PnL.
#[derive(Debug, Clone)]
pub struct Status {
    pub positions: Vec<PositionView>,
    pub realized_pnl: i64,
}

pub struct Core {
    engine: Mutex<Engine>,
    store: Arc<dyn Store>,
    sessions: Arc<dyn SessionStore>,
    feed: Arc<dyn FeedControl>,
    clock: Arc<dyn Clock>,
    outbox: Arc<Notify>,
    pub counters: Counters,
}

impl Core {
    pub fn new(
        engine: Engine,
        store: Arc<dyn Store>,
        sessions: Arc<dyn SessionStore>,
        feed: Arc<dyn FeedControl>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            engine: Mutex::new(engine),
            store,
            sessions,
            feed,
            clock,
            outbox: Arc::new(Notify::new()),
            counters: Counters::default(),
        }
    }

    fn engine(&self) -> MutexGuard<'_, Engine> {
        // The engine has no invariants a panic mid-call could break that a
        // restart would repair better; keep serving.
        self.engine.lock().unwrap_or_else(PoisonError::into_inner)
    }

    #[must_use]
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    #[must_use]
    pub fn sessions(&self) -> &Arc<dyn SessionStore> {
        &self.sessions
    }

    /// Woken whenever messages are queued.
    #[must_use]
    pub fn outbox_signal(&self) -> Arc<Notify> {
        Arc::clone(&self.outbox)
    }

    #[must_use]
    pub fn now_ms(&self) -> i64 {
        self.clock.now_ms()
    }

    /// Loads follows and open positions into the engine and subscribes the
    /// feed to every followed wallet. Called once at start.
    pub async fn restore(&self) -> anyhow::Result<usize> {
        let follows = self.store.all_follows().await.context("load follows")?;
        let positions = self
            .store
            .all_open_positions()
            .await
            .context("load open positions")?;
        let mut subscribe = Vec::new();
        {
            let mut e = self.engine();
            for (user, wallet) in &follows {
                if e.follow(*user, *wallet) == FollowChange::FirstFollower {
                    subscribe.push(*wallet);
                }
            }
            for p in positions {
                e.restore_position(p);
            }
        }
        for w in subscribe {
            self.feed.subscribe(w);
        }
        Ok(follows.len())
    }

    /// The stored user, created on first contact with the platform's
    /// language hint. Also teaches the engine the user's copy size.
    pub async fn user(&self, user: UserRef, language: Option<&str>) -> anyhow::Result<UserRecord> {
        if let Some(rec) = self.store.get_user(user).await.context("get user")? {
            return Ok(rec);
        }
        let rec = UserRecord {
            user,
            locale: Locale::from_hint(language),
            home_chat: ChatRef::new(user.platform, user.id),
            copy_lamports: self.engine().config().default_copy,
            created_ms: self.now_ms(),
        };
        let rec = self.store.upsert_user(&rec).await.context("create user")?;
        self.engine().set_copy_size(user, rec.copy_lamports);
        Ok(rec)
    }

    /// Follows a wallet; `false` if already followed.
    pub async fn follow(&self, user: &UserRecord, wallet: WalletAddress) -> anyhow::Result<bool> {
        let added = self
            .store
            .add_follow(user.user, wallet, self.now_ms())
            .await
            .context("store follow")?;
        let change = {
            let mut e = self.engine();
            e.set_copy_size(user.user, user.copy_lamports);
            e.follow(user.user, wallet)
        };
        if change == FollowChange::FirstFollower {
            self.feed.subscribe(wallet);
        }
        Ok(added)
    }

    /// Unfollows a wallet; `false` if it was not followed.
    pub async fn unfollow(&self, user: UserRef, wallet: WalletAddress) -> anyhow::Result<bool> {
        let removed = self
            .store
            .remove_follow(user, wallet)
            .await
            .context("store unfollow")?;
        let change = self.engine().unfollow(user, wallet);
        if change == FollowChange::LastUnfollow {
            self.feed.unsubscribe(wallet);
        }
        Ok(removed)
    }

    pub async fn follows(&self, user: UserRef) -> anyhow::Result<Vec<WalletAddress>> {
        self.store.follows_of(user).await.context("list follows")
    }

    pub async fn status(&self, user: UserRef) -> anyhow::Result<Status> {
        let positions = self.engine().positions_of(user);
        let fills = self
            .store
            .fills_of(user, 100_000)
            .await
            .context("load fills")?;
        let realized_pnl = fills.iter().map(|f| f.realized_pnl).sum();
        Ok(Status {
            positions,
            realized_pnl,
        })
    }

    /// The default copy size for new users.
    #[must_use]
    pub fn default_copy(&self) -> Lamports {
        self.engine().config().default_copy
    }

    /// Runs one trade through the engine; stores fills and queues alerts
    /// and fill notices.
    pub async fn ingest(&self, ev: &TradeEvent) -> anyhow::Result<()> {
        use std::sync::atomic::Ordering::Relaxed;
        self.counters.trades.fetch_add(1, Relaxed);
        let outputs = self.engine().on_trade(ev);
        if outputs.is_empty() {
            return Ok(());
        }
        let now = self.now_ms();
        for Outcome { alert, decision } in outputs {
            self.counters.alerts.fetch_add(1, Relaxed);
            let user = alert.user;
            let (fill, skipped) = match decision {
                Decision::Fill { fill, position } => {
                    let inserted = self
                        .store
                        .record_fill(&fill, &position)
                        .await
                        .context("record paper fill")?;
                    if !inserted {
                        // Already copied (a frame replayed after a restart):
                        // the store is the truth; nothing new to tell.
                        self.resync_position(&fill).await?;
                        continue;
                    }
                    self.counters.fills.fetch_add(1, Relaxed);
                    (Some(fill), None)
                }
                Decision::Skip(reason) => {
                    self.counters.skips.fetch_add(1, Relaxed);
                    tracing::info!(%user, leader = %alert.wallet, mint = %alert.mint,
                        side = alert.side.as_str(), ?reason, "copy skipped");
                    (None, Some(reason))
                }
            };
            let payload = OutboxPayload::Trade {
                alert,
                fill,
                skipped,
            };
            self.enqueue(user, &payload, now).await?;
        }
        self.outbox.notify_one();
        Ok(())
    }

    async fn resync_position(&self, fill: &crate::domain::Fill) -> anyhow::Result<()> {
        let stored = self
            .store
            .open_positions(fill.user)
            .await
            .context("reload position")?
            .into_iter()
            .find(|p| p.leader == fill.leader && p.mint == fill.mint);
        let mut e = self.engine();
        e.forget_position(fill.user, fill.leader, fill.mint);
        if let Some(p) = stored {
            e.restore_position(p);
        }
        Ok(())
    }

    async fn enqueue(
        &self,
        user: UserRef,
        payload: &OutboxPayload,
        now: i64,
    ) -> anyhow::Result<()> {
        let chat = ChatRef::new(user.platform, user.id);
        self.store
            .enqueue(chat, user, payload, now)
            .await
            .context("queue message")?;
        Ok(())
    }
}
