//! The application core: where chat requests and feed events meet the
//! engine and the store. Async and I/O-aware, but platform-neutral: it knows
//! ports, never concrete adapters (only `app.rs` does).
//!
//! Ordering rules it keeps:
//! - a follow is stored before the engine and the feed learn of it;
//! - a fill is stored (idempotently) before its notice is queued;
//! - the engine lock is never held across an await;
//! - wallet analytics is saved in batches ([`Core::flush_analytics`], called
//!   by a worker every few seconds and at shutdown), never per event, and
//!   restored ([`Core::restore`]) before the first trade is ingested.

use std::collections::{HashSet, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use anyhow::Context as _;
use tokio::sync::Notify;

use crate::domain::ports::{Clock, OutboxPayload, SessionStore, Store, UserRecord};
use crate::domain::{ChatRef, Lamports, Locale, TradeEvent, UserRef, WalletAddress};
use crate::engine::analytics::{
    AnalyticsConfig, AnalyticsEvent, LeaderRow, Metric, WalletCard, WalletState, Window,
};
use crate::engine::{Decision, Engine, FollowChange, Outcome, PositionView, TradeOutput};

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

/// What [`Core::restore`] loaded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Restored {
    pub follows: usize,
    pub positions: usize,
    /// Wallet analytics states handed to the engine.
    pub wallets: usize,
}

/// One page of a leaderboard, with what paging needs.
#[derive(Debug, Clone, PartialEq)]
pub struct BoardPage {
    pub metric: Metric,
    pub window: Window,
    /// 0-based, clamped to the last page.
    pub page: usize,
    /// At least 1 (an empty board has one empty page).
    pub pages: usize,
    /// Ranked wallets on the whole board.
    pub total: usize,
    pub rows: Vec<LeaderRow>,
}

/// A wallet that entered a top list ([`AnalyticsEvent::Discovered`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Discovery {
    pub wallet: WalletAddress,
    pub metric: Metric,
    pub window: Window,
    pub rank: u32,
    pub at_ms: i64,
}

/// Discoveries kept for the daily note: the last day's, at most this many.
const DISCOVERIES_KEPT: usize = 500;
const DAY_MS: i64 = 24 * 3_600_000;

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
    /// Analytics states taken from the engine but not yet saved (a failed
    /// flush keeps them for the next one). The async lock also makes
    /// flushes run one at a time.
    unsaved: tokio::sync::Mutex<Vec<WalletState>>,
    discoveries: Mutex<VecDeque<Discovery>>,
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
            unsaved: tokio::sync::Mutex::new(Vec::new()),
            discoveries: Mutex::new(VecDeque::new()),
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

    /// Loads follows, open positions and wallet analytics into the engine
    /// and subscribes the feed to every followed wallet. Called once at
    /// start, before the first trade is ingested.
    pub async fn restore(&self) -> anyhow::Result<Restored> {
        let follows = self.store.all_follows().await.context("load follows")?;
        let positions = self
            .store
            .all_open_positions()
            .await
            .context("load open positions")?;
        let states = self
            .store
            .load_wallet_states()
            .await
            .context("load wallet analytics")?;
        let restored = Restored {
            follows: follows.len(),
            positions: positions.len(),
            wallets: states.len(),
        };
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
            e.restore_analytics(states);
        }
        for w in subscribe {
            self.feed.subscribe(w);
        }
        Ok(restored)
    }

    /// Saves the wallet analytics states changed since the last flush, in
    /// one batch; returns how many were saved. On failure the states are
    /// kept and saved by the next flush (newer states of a wallet replace
    /// older ones), so a database outage loses nothing while the process
    /// lives.
    pub async fn flush_analytics(&self) -> anyhow::Result<usize> {
        let mut unsaved = self.unsaved.lock().await;
        let fresh = self.engine().take_analytics_dirty();
        unsaved.extend(fresh);
        if unsaved.is_empty() {
            return Ok(0);
        }
        keep_last_per_wallet(&mut unsaved);
        let n = unsaved.len();
        self.store
            .save_wallet_states(&unsaved)
            .await
            .with_context(|| format!("save {n} wallet analytics states (kept for a retry)"))?;
        unsaved.clear();
        Ok(n)
    }

    /// The analytics settings (thresholds shown in explanations).
    #[must_use]
    pub fn analytics_config(&self) -> AnalyticsConfig {
        self.engine().config().analytics.clone()
    }

    /// A page of a leaderboard, `per_page` rows; a page past the end shows
    /// the last one.
    #[must_use]
    pub fn leaderboard(
        &self,
        metric: Metric,
        window: Window,
        page: usize,
        per_page: usize,
    ) -> BoardPage {
        let per_page = per_page.max(1);
        let e = self.engine();
        let total = e.leaderboard_len(metric, window);
        let pages = total.div_ceil(per_page).max(1);
        let page = page.min(pages - 1);
        let rows = e.leaderboard(metric, window, page * per_page, per_page);
        BoardPage {
            metric,
            window,
            page,
            pages,
            total,
            rows,
        }
    }

    /// A wallet's card, if it was seen trading.
    #[must_use]
    pub fn card(&self, wallet: &WalletAddress) -> Option<WalletCard> {
        self.engine().card(wallet)
    }

    /// Distinct wallets that entered a top list in the day before the
    /// latest discovery, newest first.
    #[must_use]
    pub fn recent_discoveries(&self) -> Vec<Discovery> {
        let kept = self
            .discoveries
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let Some(newest) = kept.back().map(|d| d.at_ms) else {
            return Vec::new();
        };
        let mut seen = HashSet::new();
        kept.iter()
            .rev()
            .take_while(|d| d.at_ms > newest - DAY_MS)
            .filter(|d| seen.insert(d.wallet))
            .copied()
            .collect()
    }

    /// Acts on what analytics reported: a tier change is queued for every
    /// follower of that wallet (rendered in each one's language at
    /// delivery); a discovery is logged and kept for the daily note.
    /// Returns how many messages were queued.
    pub async fn publish(&self, events: &[AnalyticsEvent]) -> anyhow::Result<usize> {
        let mut queue: Vec<(Vec<UserRef>, OutboxPayload)> = Vec::new();
        {
            let e = self.engine();
            for ev in events {
                match ev {
                    AnalyticsEvent::TierChanged {
                        wallet,
                        from,
                        to,
                        win_rate_before,
                        win_rate_after,
                        at_ms,
                    } => {
                        let followers = e.followers(wallet).to_vec();
                        tracing::info!(%wallet, ?from, ?to, followers = followers.len(), "tier changed");
                        if !followers.is_empty() {
                            queue.push((
                                followers,
                                OutboxPayload::TierChanged {
                                    wallet: *wallet,
                                    from: *from,
                                    to: *to,
                                    win_rate_before_bps: rate_bps(*win_rate_before),
                                    win_rate_after_bps: rate_bps(*win_rate_after),
                                    at_ms: *at_ms,
                                },
                            ));
                        }
                    }
                    AnalyticsEvent::Discovered {
                        wallet,
                        metric,
                        window,
                        rank,
                        at_ms,
                    } => {
                        tracing::info!(%wallet, metric = metric.code(), window = window.code(),
                            rank, "wallet discovered");
                        self.remember(Discovery {
                            wallet: *wallet,
                            metric: *metric,
                            window: *window,
                            rank: *rank,
                            at_ms: *at_ms,
                        });
                    }
                }
            }
        }
        let now = self.now_ms();
        let mut queued = 0;
        for (followers, payload) in queue {
            for user in followers {
                self.enqueue(user, &payload, now).await?;
                queued += 1;
            }
        }
        Ok(queued)
    }

    fn remember(&self, d: Discovery) {
        let mut kept = self
            .discoveries
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        kept.push_back(d);
        while kept.len() > DISCOVERIES_KEPT
            || kept.front().is_some_and(|f| f.at_ms <= d.at_ms - DAY_MS)
        {
            kept.pop_front();
        }
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

    /// Runs one trade through the engine; stores fills and queues alerts,
    /// fill notices and then tier alerts (a copy never waits on, or fails
    /// with, the analytics news of the same trade).
    pub async fn ingest(&self, ev: &TradeEvent) -> anyhow::Result<()> {
        use std::sync::atomic::Ordering::Relaxed;
        self.counters.trades.fetch_add(1, Relaxed);
        let TradeOutput {
            outcomes,
            analytics,
        } = self.engine().on_trade(ev);
        if outcomes.is_empty() && analytics.is_empty() {
            return Ok(());
        }
        let queued = self.copy_and_alert(outcomes).await;
        let published = if analytics.is_empty() {
            Ok(0)
        } else {
            self.publish(&analytics).await
        };
        if matches!(queued, Ok(n) if n > 0) || matches!(published, Ok(n) if n > 0) {
            self.outbox.notify_one();
        }
        queued?;
        published?;
        Ok(())
    }

    /// Records each follower's fill and queues its alert; returns how many
    /// messages were queued.
    async fn copy_and_alert(&self, outcomes: Vec<Outcome>) -> anyhow::Result<usize> {
        use std::sync::atomic::Ordering::Relaxed;
        let now = self.now_ms();
        let mut queued = 0;
        for Outcome { alert, decision } in outcomes {
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
            queued += 1;
        }
        Ok(queued)
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

/// A rate (0–1) in basis points, clamped.
#[allow(
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    reason = "clamped to 0..=10000 first"
)]
fn rate_bps(rate: f64) -> u32 {
    if rate.is_finite() {
        (rate * 10_000.0).round().clamp(0.0, 10_000.0) as u32
    } else {
        0
    }
}

/// Drops all but the last state of each wallet, keeping order.
fn keep_last_per_wallet(states: &mut Vec<WalletState>) {
    let mut seen = HashSet::with_capacity(states.len());
    let mut kept: Vec<WalletState> = states
        .drain(..)
        .rev()
        .filter(|s| seen.insert(s.wallet))
        .collect();
    kept.reverse();
    *states = kept;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_become_clamped_basis_points() {
        assert_eq!(rate_bps(0.62), 6_200);
        assert_eq!(rate_bps(0.41237), 4_124);
        assert_eq!(rate_bps(1.5), 10_000);
        assert_eq!(rate_bps(-0.1), 0);
        assert_eq!(rate_bps(f64::NAN), 0);
    }

    #[test]
    fn the_newest_state_of_a_wallet_wins() {
        let w = |n: u8| WalletAddress::from_bytes([n; 32]);
        let st = |n: u8, last_ms: i64| WalletState {
            wallet: w(n),
            last_ms,
            data: serde_json::json!({ "v": last_ms }),
        };
        let mut v = vec![st(1, 1), st(2, 2), st(1, 3), st(3, 4), st(2, 5)];
        keep_last_per_wallet(&mut v);
        let got: Vec<(WalletAddress, i64)> = v.iter().map(|s| (s.wallet, s.last_ms)).collect();
        assert_eq!(got, vec![(w(1), 3), (w(3), 4), (w(2), 5)]);
    }
}
