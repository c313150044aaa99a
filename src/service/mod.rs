//! The application core: where chat requests, feed events and executors
//! meet the engine and the store. Async and I/O-aware, but
//! platform-neutral: it knows ports, never concrete adapters (only
//! `app.rs` does).
//!
//! Ordering rules it keeps:
//! - a profile or follow is stored before the engine and the feed learn of
//!   it;
//! - an order's idempotency key is stored before the order goes to its
//!   executor; a key stored before (a replayed trade, a restart) is never
//!   executed again;
//! - an order this process runs is *owned* from before its key is stored
//!   until its execution is applied (through the paper due queue or a live
//!   task); [`Core::reconcile`] leaves owned orders alone, so a pending
//!   order is never settled behind the back of the executor running it;
//! - a fill is stored (idempotently, with its position and round trip)
//!   before its notice is queued;
//! - paper orders run when the engine clock reaches their latency, before
//!   the next trade is applied, so they are priced on the curve as it stood
//!   then, at any replay speed; live orders run at once, off the ingest path;
//! - the engine lock is never held across an await;
//! - wallet analytics and exit states are saved in batches
//!   ([`Core::flush`]), never per event.

mod profiles;
mod reports;
mod wallets;

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use anyhow::Context as _;
use tokio::sync::Notify;

pub use profiles::{MAX_FOLLOWS, MAX_PROFILES, ProfileError, SettingChange};
pub use reports::{DAILY_DAYS, Daily, ProfileStatus, Profit, Status, WHY_LIMIT};
pub use wallets::{
    DEFAULT_KEY_RECOVERY, DUST, DeletePreview, DeletedKeyView, KeyList, KeyView, MAX_KEYS,
    WalletError,
};

use crate::domain::ports::{
    Aftermath, Clock, Discovered, NewMessage, OrderRecord, OutboxPayload, SessionStore, Store,
    UserRecord,
};
use crate::domain::{
    ChatRef, DecisionRecord, Execution, IdempotencyKey, Mode, NotifyLevel, Order, ProfileSettings,
    SkipReason, TradeEvent, UserRef, WalletAddress,
};
use crate::engine::analytics::{
    AnalyticsConfig, AnalyticsEvent, LeaderRow, Metric, WalletCard, WalletState, Window,
};
use crate::engine::copy::{CopyDecision, CopyOutcome, ExecOutcome, RiskNotice};
use crate::engine::{Engine, FollowChange, RiskApproved, TickOutput, TradeOutput, UserAlert};
use crate::exec::{Executor, Market};

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
    pub orders: std::sync::atomic::AtomicU64,
    pub fills: std::sync::atomic::AtomicU64,
    pub skips: std::sync::atomic::AtomicU64,
    pub rejects: std::sync::atomic::AtomicU64,
}

/// What [`Core::restore`] loaded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Restored {
    pub profiles: usize,
    pub follows: usize,
    pub positions: usize,
    /// Wallet analytics states handed to the engine.
    pub wallets: usize,
    /// Unfinished orders settled (filled or rejected) at start.
    pub reconciled: usize,
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

/// Days of discoveries waiting for their digest: the day going on and the
/// one before it (sent when the clock first passes its end).
#[derive(Debug, Default)]
struct Digest {
    /// The day the clock was last seen in; `None` until the first tick.
    day: Option<i64>,
    days: std::collections::BTreeMap<i64, HashMap<WalletAddress, Discovered>>,
}

impl Digest {
    /// Keeps a discovery under its day, the wallet's best rank only.
    fn add(&mut self, d: &Discovery) {
        let day = d.at_ms.div_euclid(DAY_MS);
        let best = self.days.entry(day).or_default();
        let new = Discovered {
            wallet: d.wallet,
            metric: d.metric,
            window: d.window,
            rank: d.rank,
        };
        best.entry(d.wallet)
            .and_modify(|b| {
                if new.rank < b.rank {
                    *b = new;
                }
            })
            .or_insert(new);
    }

    /// Moves the clock to `now_ms`; when yesterday ended since the last
    /// call, yesterday (its start, wallets best placed first), if it had
    /// any. When the clock jumped further (a process stopped for days, a
    /// replay), the days it jumped over are dropped unsent: stale news.
    fn roll(&mut self, now_ms: i64) -> Option<(i64, Vec<Discovered>)> {
        let today = now_ms.div_euclid(DAY_MS);
        let last = self.day.replace(today);
        if last.is_none_or(|day| day >= today) {
            return None;
        }
        let yesterday = today - 1;
        let wallets = (last == Some(yesterday))
            .then(|| self.days.remove(&yesterday))
            .flatten();
        self.days.retain(|&day, _| day >= today);
        let mut wallets: Vec<Discovered> = wallets?.into_values().collect();
        wallets.sort_by_key(|d| (d.rank, d.metric, d.window, d.wallet));
        Some((yesterday * DAY_MS, wallets))
    }
}

/// `payload` for `user`'s private chat, as their switch for its kind says
/// (off: none; silent: no sound).
fn private_message(
    user: UserRef,
    payload: OutboxPayload,
    prefs: &crate::domain::NotifyPrefs,
) -> Option<NewMessage> {
    let level = prefs.level(payload.kind());
    (level != NotifyLevel::Off).then(|| NewMessage {
        chat: ChatRef::new(user.platform, user.id),
        user,
        payload,
        silent: level == NotifyLevel::Silent,
    })
}

/// How long a sent digest's claim is kept (several instances, restarts).
const DIGEST_CLAIM_TTL: std::time::Duration = std::time::Duration::from_secs(3 * 24 * 3_600);

/// Discoveries kept for the /alfa footer: the last day's, at most this many.
const DISCOVERIES_KEPT: usize = 500;
const DAY_MS: i64 = 24 * 3_600_000;
/// How far back round trips are loaded to restore losing streaks.
const STREAK_LOOKBACK_MS: i64 = 7 * DAY_MS;
/// Orders whose keys are stored (and decisions logged) in one write before
/// they are handed over.
const ORDER_BATCH: usize = 256;
/// A big winner: a position closed at this gain or more (bps).
pub const BIG_WIN_BPS: i64 = 5_000;

/// The executors by mode.
pub struct Executors {
    pub paper: Arc<dyn Executor>,
    /// `None` when live trading is not configured (live orders are
    /// rejected with a reason).
    pub live: Option<Arc<dyn Executor>>,
}

impl Executors {
    fn of(&self, mode: Mode) -> Option<&Arc<dyn Executor>> {
        match mode {
            Mode::Paper => Some(&self.paper),
            Mode::Live => self.live.as_ref(),
        }
    }
}

/// Orders waiting for their time (paper latency), earliest first.
#[derive(Default)]
struct DueQueue {
    heap: BinaryHeap<Reverse<(i64, u64)>>,
    orders: HashMap<u64, RiskApproved<Order>>,
    seq: u64,
}

impl DueQueue {
    fn push(&mut self, at_ms: i64, order: RiskApproved<Order>) {
        self.seq += 1;
        self.heap.push(Reverse((at_ms, self.seq)));
        self.orders.insert(self.seq, order);
    }

    fn pop_due(&mut self, now_ms: i64) -> Option<(i64, RiskApproved<Order>)> {
        let Reverse((at, seq)) = *self.heap.peek()?;
        if at > now_ms {
            return None;
        }
        self.heap.pop();
        self.orders.remove(&seq).map(|o| (at, o))
    }
}

pub struct Core {
    engine: Mutex<Engine>,
    store: Arc<dyn Store>,
    sessions: Arc<dyn SessionStore>,
    feed: Arc<dyn FeedControl>,
    clock: Arc<dyn Clock>,
    executors: Executors,
    /// Settings of new profiles (mode and size from configuration).
    defaults: ProfileSettings,
    /// Whether the engine clock follows the wall clock between trades (a
    /// live feed) or only event time (replay, simulation).
    wall_clock: bool,
    due: tokio::sync::Mutex<DueQueue>,
    /// Orders this process runs: claimed before their key is stored,
    /// released once their execution is applied (or its outcome is unknown
    /// and left to reconciling). Reconciling skips them.
    owned: Mutex<HashSet<IdempotencyKey>>,
    /// Live orders of this process whose outcome was unknown, with their
    /// engine tickets, so reconciling one settles its reservation.
    unknown: Mutex<HashMap<IdempotencyKey, u64>>,
    outbox: Arc<Notify>,
    /// Analytics states taken from the engine but not yet saved (a failed
    /// flush keeps them for the next one). The async lock also makes
    /// flushes run one at a time.
    unsaved: tokio::sync::Mutex<Vec<WalletState>>,
    discoveries: Mutex<VecDeque<Discovery>>,
    /// The daily digest: the UTC day (days since the epoch) last seen by
    /// the clock, and each day's discoveries by wallet, best rank kept.
    digest: Mutex<Digest>,
    /// Notification switches by user, loaded on first use.
    prefs: Mutex<HashMap<UserRef, crate::domain::NotifyPrefs>>,
    /// Key custody; `None` only in tests that need none.
    vault: Option<Arc<crate::vault::Vault>>,
    /// Balances for `/wallet`; `None` when no RPC node is configured.
    chain: Option<Arc<dyn crate::domain::ports::ChainView>>,
    /// How long a deleted wallet key can be restored.
    key_recovery: std::time::Duration,
    pub counters: Counters,
}

/// How the core is put together (app.rs and tests).
pub struct CoreParts {
    pub engine: Engine,
    pub store: Arc<dyn Store>,
    pub sessions: Arc<dyn SessionStore>,
    pub feed: Arc<dyn FeedControl>,
    pub clock: Arc<dyn Clock>,
    pub executors: Executors,
    pub defaults: ProfileSettings,
    pub wall_clock: bool,
    pub vault: Option<Arc<crate::vault::Vault>>,
    pub chain: Option<Arc<dyn crate::domain::ports::ChainView>>,
}

impl Core {
    #[must_use]
    pub fn new(parts: CoreParts) -> Self {
        Self {
            engine: Mutex::new(parts.engine),
            store: parts.store,
            sessions: parts.sessions,
            feed: parts.feed,
            clock: parts.clock,
            executors: parts.executors,
            defaults: parts.defaults,
            wall_clock: parts.wall_clock,
            due: tokio::sync::Mutex::new(DueQueue::default()),
            owned: Mutex::new(HashSet::new()),
            unknown: Mutex::new(HashMap::new()),
            outbox: Arc::new(Notify::new()),
            unsaved: tokio::sync::Mutex::new(Vec::new()),
            discoveries: Mutex::new(VecDeque::new()),
            digest: Mutex::new(Digest::default()),
            prefs: Mutex::new(HashMap::new()),
            vault: parts.vault,
            chain: parts.chain,
            key_recovery: DEFAULT_KEY_RECOVERY,
            counters: Counters::default(),
        }
    }

    /// Sets how long a deleted wallet key can be restored
    /// (`ALFABOT_KEY_RECOVERY_DAYS`; [`DEFAULT_KEY_RECOVERY`] otherwise).
    #[must_use]
    pub const fn with_key_recovery(mut self, recovery: std::time::Duration) -> Self {
        self.key_recovery = recovery;
        self
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

    /// Wall-clock time (for records made by people: profiles, keys).
    #[must_use]
    pub fn now_ms(&self) -> i64 {
        self.clock.now_ms()
    }

    /// The engine's notion of now: event time in replay and simulation,
    /// the wall clock with a live feed.
    #[must_use]
    pub fn engine_now_ms(&self) -> i64 {
        let event = self.engine().now_ms();
        if self.wall_clock {
            event.max(self.clock.now_ms())
        } else {
            event
        }
    }

    /// The settings a new profile starts with.
    #[must_use]
    pub const fn defaults(&self) -> &ProfileSettings {
        &self.defaults
    }

    /// Loads profiles, follows, open positions, the day's risk state and
    /// wallet analytics into the engine, subscribes the feed to every
    /// followed wallet, and settles orders an earlier process left
    /// unfinished. Called once at start, before the first trade.
    pub async fn restore(&self) -> anyhow::Result<Restored> {
        let profiles = self.store.all_profiles().await.context("load profiles")?;
        let follows = self.store.all_follows().await.context("load follows")?;
        let positions = self
            .store
            .all_open_positions()
            .await
            .context("load open positions")?;
        let now = self.clock.now_ms();
        let today = now - now.rem_euclid(DAY_MS);
        let fills = self.store.fills_since(today).await.context("load fills")?;
        let trips = self
            .store
            .round_trips(None, now - STREAK_LOOKBACK_MS)
            .await
            .context("load round trips")?;
        let entered = self
            .store
            .entered_mints()
            .await
            .context("load entered mints")?;
        let states = self
            .store
            .load_wallet_states()
            .await
            .context("load wallet analytics")?;
        let mut restored = Restored {
            profiles: profiles.len(),
            follows: follows.len(),
            positions: positions.len(),
            wallets: states.len(),
            reconciled: 0,
        };
        let mut subscribe = Vec::new();
        {
            let mut e = self.engine();
            for p in profiles {
                e.upsert_profile(p);
            }
            for f in &follows {
                if e.follow(f) == FollowChange::FirstFollower {
                    subscribe.push(f.wallet);
                }
            }
            for p in positions {
                e.restore_position(p);
            }
            e.restore_risk(&fills, &trips, &entered);
            e.restore_analytics(states);
        }
        for w in subscribe {
            self.feed.subscribe(w);
        }
        restored.reconciled = self.reconcile().await?;
        Ok(restored)
    }

    /// Settles unfinished orders (at start, and periodically for live
    /// orders whose outcome was unknown): each executor says what became
    /// of it; one it cannot tell yet stays for the next pass. Orders this
    /// process is running (owned) are left to it.
    pub async fn reconcile(&self) -> anyhow::Result<usize> {
        let records = self
            .store
            .unfinished_orders()
            .await
            .context("load unfinished orders")?;
        let mut settled = 0;
        for record in records {
            if self.owns(&record.order.key) {
                continue;
            }
            if self.reconcile_one(&record).await? {
                settled += 1;
            }
        }
        Ok(settled)
    }

    async fn reconcile_one(&self, record: &OrderRecord) -> anyhow::Result<bool> {
        let mut order = record.order.clone();
        let ticket = self
            .unknown
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&order.key)
            .copied();
        order.ticket = ticket.unwrap_or(0);
        let order = &order;
        let market = self.market(order);
        let exec = match self.executors.of(order.mode) {
            Some(x) => x.reconcile(record, &market).await,
            None => Ok(Some(Execution::Rejected {
                reason: SkipReason::Interrupted,
                at_ms: market.now_ms,
            })),
        };
        match exec {
            Ok(Some(exec)) => {
                tracing::info!(key = %order.key, status = ?record.status, "order reconciled");
                self.unknown
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .remove(&order.key);
                self.apply_execution(order, exec).await?;
                Ok(true)
            }
            Ok(None) => Ok(false),
            Err(e) => {
                tracing::warn!(key = %order.key, error = format!("{e:#}"), "reconcile failed; retried later");
                Ok(false)
            }
        }
    }

    fn market(&self, order: &Order) -> Market {
        // Two statements: the engine lock is not reentrant.
        let curve = self.engine().curve(&order.mint);
        Market {
            curve,
            now_ms: self.engine_now_ms(),
        }
    }

    /// Saves, in batches, what changed since the last flush: wallet
    /// analytics and the exit state of open positions. Returns how many
    /// analytics states were saved. On failure the states are kept and
    /// saved by the next flush, so a database outage loses nothing while
    /// the process lives.
    pub async fn flush(&self) -> anyhow::Result<usize> {
        let positions: Vec<crate::domain::Position> =
            self.engine().copy().positions().cloned().collect();
        self.store
            .save_exit_states(&positions)
            .await
            .context("save exit states")?;
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
    /// delivery); a discovery is logged and kept for the /alfa footer and the daily
    /// digest ([`Core::tick`] sends it after midnight UTC).
    /// Returns how many messages were queued.
    pub async fn publish(&self, events: &[AnalyticsEvent]) -> anyhow::Result<usize> {
        let mut queue: Vec<(UserRef, OutboxPayload)> = Vec::new();
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
                        let followers = e.follower_users(wallet);
                        tracing::info!(%wallet, ?from, ?to, followers = followers.len(), "tier changed");
                        for user in followers {
                            queue.push((
                                user,
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
        self.notify(queue).await
    }

    fn remember(&self, d: Discovery) {
        self.digest
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .add(&d);
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

    // ---- the trade path ------------------------------------------------

    /// Runs one trade through the engine: paper orders due before it run
    /// first, then the engine's decisions are recorded and handed to the
    /// executors, and alerts, risk notices and analytics news are queued.
    pub async fn ingest(self: &Arc<Self>, ev: &TradeEvent) -> anyhow::Result<()> {
        use std::sync::atomic::Ordering::Relaxed;
        self.counters.trades.fetch_add(1, Relaxed);
        self.run_due(ev.timestamp_ms).await?;
        let (
            TradeOutput {
                decisions,
                risk,
                analytics,
            },
            alerts,
        ) = {
            let mut e = self.engine();
            let out = e.on_trade(ev);
            let alerts = e.alerts(ev, &out.decisions);
            (out, alerts)
        };
        if alerts.is_empty() && decisions.is_empty() && risk.is_empty() && analytics.is_empty() {
            return Ok(());
        }
        let placed = self.dispatch(decisions).await;
        let alerted = self.alert(alerts).await;
        let risked = self.risk_notices(risk).await;
        let published = if analytics.is_empty() {
            Ok(0)
        } else {
            self.publish(&analytics).await
        };
        placed?;
        alerted?;
        risked?;
        published?;
        Ok(())
    }

    /// The clock moved without a trade: due paper orders, time-based exits,
    /// day roll-overs, and wallet analytics aging (tier changes and
    /// discoveries the clock alone brings are published as a trade's are).
    /// Called by a worker a few times a second.
    pub async fn tick(self: &Arc<Self>) -> anyhow::Result<()> {
        let now = self.engine_now_ms();
        self.run_due(now).await?;
        let (TickOutput { decisions, risk }, aged) = {
            let mut e = self.engine();
            let out = e.tick(now);
            (out, e.take_clock_events())
        };
        self.dispatch(decisions).await?;
        self.risk_notices(risk).await?;
        if !aged.is_empty() {
            self.publish(&aged).await?;
        }
        let ended = self
            .digest
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .roll(now);
        if let Some((day_ms, wallets)) = ended {
            self.send_digest(day_ms, wallets).await?;
        }
        Ok(())
    }

    /// Queues the daily digest of a day's discoveries to every user whose
    /// switch for it is not off. Sent once per day across restarts and
    /// instances: the day is claimed in the session store first.
    async fn send_digest(&self, day_ms: i64, wallets: Vec<Discovered>) -> anyhow::Result<usize> {
        if wallets.is_empty() {
            return Ok(0);
        }
        let claimed = self
            .sessions
            .claim(&format!("digest:{day_ms}"), DIGEST_CLAIM_TTL)
            .await
            .context("claim the daily digest")?;
        if !claimed {
            tracing::info!(day_ms, "daily digest already sent");
            return Ok(0);
        }
        let users = self.store.all_users().await.context("list the users")?;
        let messages: Vec<NewMessage> = users
            .into_iter()
            .filter_map(|u| {
                let payload = OutboxPayload::Discoveries {
                    day_ms,
                    wallets: wallets.clone(),
                };
                private_message(u.user, payload, &u.notify)
            })
            .collect();
        tracing::info!(
            day_ms,
            wallets = wallets.len(),
            users = messages.len(),
            "daily digest"
        );
        self.queue(messages).await.context("the daily digest")
    }

    /// Records every decision in the skip log and claims the placed orders'
    /// keys, then routes each new order to its executor. An order whose key
    /// was stored before is dropped (never executed twice).
    ///
    /// Orders go first, in batches of [`ORDER_BATCH`]: each batch's
    /// decisions are logged and its keys stored, then its orders are handed
    /// over, so with thousands of followers the first copies do not wait
    /// for the last ones' writes. Skips are logged last.
    async fn dispatch(self: &Arc<Self>, decisions: Vec<CopyDecision>) -> anyhow::Result<()> {
        use std::sync::atomic::Ordering::Relaxed;
        if decisions.is_empty() {
            return Ok(());
        }
        let mut skipped = Vec::new();
        let mut placed = Vec::new();
        for d in decisions {
            let record = d.record();
            match d.outcome {
                CopyOutcome::Place(o) => placed.push((record, o)),
                CopyOutcome::Skip(reason) => {
                    self.counters.skips.fetch_add(1, Relaxed);
                    tracing::debug!(profile = %d.profile, leader = %d.leader, mint = %d.mint,
                        side = d.side.as_str(), ?reason, "copy skipped");
                    skipped.push(record);
                }
            }
        }
        let mut result = Ok(());
        let mut placed = placed.into_iter().peekable();
        while placed.peek().is_some() {
            let (records, orders): (Vec<_>, Vec<_>) = placed.by_ref().take(ORDER_BATCH).unzip();
            let r = self.place(orders, &records).await;
            if result.is_ok() {
                result = r;
            }
        }
        let logged = self.store.log_decisions(&skipped).await;
        result?;
        logged.context("log decisions")
    }

    /// Logs the orders' decisions and stores their keys, then hands each
    /// new order to its executor.
    async fn place(
        self: &Arc<Self>,
        orders: Vec<RiskApproved<Order>>,
        records: &[DecisionRecord],
    ) -> anyhow::Result<()> {
        use std::sync::atomic::Ordering::Relaxed;
        if orders.is_empty() {
            return Ok(());
        }
        // Logged first, so /why reads a decision before what became of it;
        // a failure to log holds no order back.
        let logged = self
            .store
            .log_decisions(records)
            .await
            .context("log decisions");
        // Owned before stored: a reconcile pass that reads the stored order
        // finds it owned. A key this process already runs is a duplicate.
        let mut claimed = Vec::with_capacity(orders.len());
        for order in orders {
            if self.own(&order.key) {
                claimed.push(order);
            } else {
                tracing::info!(key = %order.key, "order already running here; not executed again");
                self.release(order.get(), SkipReason::Duplicate).await;
            }
        }
        if claimed.is_empty() {
            return logged;
        }
        let plain: Vec<Order> = claimed.iter().map(|o| o.get().clone()).collect();
        let fresh = match self.store.insert_orders(&plain, self.now_ms()).await {
            Ok(f) => f,
            Err(e) => {
                // Nothing was claimed, so nothing may run: give every
                // reservation back.
                for o in &plain {
                    self.disown(&o.key);
                    self.release(o, SkipReason::Interrupted).await;
                }
                return Err(e.context("record orders"));
            }
        };
        let mut result = logged;
        for (order, new) in claimed.into_iter().zip(fresh) {
            if !new {
                tracing::info!(key = %order.key, "order already recorded; not executed again");
                self.disown(&order.key);
                self.release(order.get(), SkipReason::Duplicate).await;
                continue;
            }
            self.counters.orders.fetch_add(1, Relaxed);
            // One order's failure does not strand the others.
            let routed = self.route(order).await;
            if result.is_ok() {
                result = routed;
            }
        }
        result
    }

    /// Claims an order for this process; `false` if it already runs here.
    fn own(&self, key: &IdempotencyKey) -> bool {
        self.owned
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(key.clone())
    }

    /// Leaves an order to reconciling from now on.
    fn disown(&self, key: &IdempotencyKey) {
        self.owned
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(key);
    }

    fn owns(&self, key: &IdempotencyKey) -> bool {
        self.owned
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .contains(key)
    }

    /// Gives an order's reservation back in the engine without storing a
    /// rejection (the stored order, if any, is another process's truth).
    async fn release(&self, order: &Order, reason: SkipReason) {
        let at_ms = self.engine_now_ms();
        let out = self
            .engine()
            .on_execution(order, &Execution::Rejected { reason, at_ms });
        if reason == SkipReason::Duplicate {
            let stored = self
                .store
                .open_positions(order.user)
                .await
                .ok()
                .and_then(|ps| {
                    ps.into_iter()
                        .find(|p| (p.profile, p.leader, p.mint) == order.position_key())
                });
            self.engine().resync_position(order.position_key(), stored);
        }
        if let Err(e) = self.store.log_decisions(&[out.record]).await {
            tracing::warn!(error = format!("{e:#}"), "logging a dropped order failed");
        }
    }

    /// Hands a recorded, owned order to its executor: paper orders wait
    /// for their latency in the due queue; live orders run in their own
    /// task. Whoever ends up with the order disowns it once applied.
    async fn route(self: &Arc<Self>, order: RiskApproved<Order>) -> anyhow::Result<()> {
        let Some(executor) = self.executors.of(order.mode) else {
            tracing::warn!(key = %order.key, mode = ?order.mode, "no executor for the order's mode");
            let at_ms = self.engine_now_ms();
            let exec = Execution::Rejected {
                reason: SkipReason::LiveOff,
                at_ms,
            };
            let applied = self.apply_execution(order.get(), exec).await;
            self.disown(&order.key);
            return applied;
        };
        match executor.ready_at(&order) {
            Some(at) => {
                self.due.lock().await.push(at, order);
                Ok(())
            }
            None => {
                self.spawn_live(Arc::clone(executor), order);
                Ok(())
            }
        }
    }

    fn spawn_live(self: &Arc<Self>, executor: Arc<dyn Executor>, order: RiskApproved<Order>) {
        let me = Arc::clone(self);
        tokio::spawn(async move {
            let market = me.market(&order);
            match executor.execute(&order, &market).await {
                Ok(exec) => {
                    if let Err(e) = me.apply_execution(order.get(), exec).await {
                        tracing::error!(key = %order.key, error = format!("{e:#}"), "recording a live execution failed");
                    }
                }
                Err(e) => {
                    tracing::warn!(key = %order.key, error = format!("{e:#}"),
                        "live order outcome unknown; it will be reconciled");
                    me.unknown
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .insert(order.key.clone(), order.ticket);
                }
            }
            // Applied, or unknown and left to reconciling (which also
            // settles one whose recording failed).
            me.disown(&order.key);
        });
    }

    /// Runs the paper orders due at or before `now_ms`, in time order, on
    /// the curves as the engine has them now.
    async fn run_due(&self, now_ms: i64) -> anyhow::Result<()> {
        loop {
            let next = self.due.lock().await.pop_due(now_ms);
            let Some((at, order)) = next else {
                return Ok(());
            };
            let market = Market {
                curve: self.engine().curve(&order.mint),
                now_ms: at,
            };
            let exec = match self.executors.of(order.mode) {
                Some(x) => x.execute(&order, &market).await,
                None => Ok(Execution::Rejected {
                    reason: SkipReason::LiveOff,
                    at_ms: at,
                }),
            };
            let applied = match exec {
                Ok(exec) => self.apply_execution(order.get(), exec).await,
                Err(e) => {
                    // Left pending: the next reconcile settles it.
                    tracing::error!(key = %order.key, error = format!("{e:#}"), "paper execution failed");
                    Ok(())
                }
            };
            self.disown(&order.key);
            applied?;
        }
    }

    /// Applies an executor's report: the engine's positions and risk, then
    /// in one store transaction the settlement (the fill, position and
    /// round trip, or the rejection), its skip-log entry and the owner's
    /// notifications, so whoever sees the order settled also sees why.
    pub async fn apply_execution(&self, order: &Order, exec: Execution) -> anyhow::Result<()> {
        use std::sync::atomic::Ordering::Relaxed;
        let outcome = self.engine().on_execution(order, &exec);
        let ExecOutcome {
            record,
            fill,
            position,
            closed,
            risk,
        } = outcome;
        let name = self.profile_name(order.profile);
        let mut notes: Vec<(UserRef, OutboxPayload)> = Vec::new();
        let settled = match (&exec, fill, position) {
            (Execution::Rejected { reason, at_ms }, _, _) => {
                if *reason != SkipReason::Duplicate {
                    notes.push((
                        order.user,
                        OutboxPayload::Rejected {
                            order: order.clone(),
                            profile_name: name.clone(),
                            reason: *reason,
                        },
                    ));
                }
                notes.extend(self.risk_payloads(risk));
                let then = self.aftermath(record, notes).await;
                let rejected = self
                    .store
                    .reject_order(&order.key, *reason, *at_ms, &then)
                    .await
                    .context("record the rejection")?;
                if rejected {
                    self.counters.rejects.fetch_add(1, Relaxed);
                } else {
                    // Settled before (filled or rejected): the store is the
                    // truth, and nothing new is told.
                    tracing::info!(key = %order.key, ?reason, "order already settled; rejection not recorded");
                }
                (rejected, then.notices.is_empty())
            }
            (Execution::Filled { .. }, Some(fill), Some(position)) => {
                notes.push((
                    order.user,
                    OutboxPayload::Fill {
                        fill: fill.clone(),
                        profile_name: name.clone(),
                    },
                ));
                if let Some(trip) = &closed
                    && trip.roi_bps() >= BIG_WIN_BPS
                {
                    notes.push((
                        order.user,
                        OutboxPayload::Closed {
                            trip: trip.clone(),
                            profile_name: name.clone(),
                        },
                    ));
                }
                notes.extend(self.risk_payloads(risk));
                let then = self.aftermath(record, notes).await;
                let inserted = self
                    .store
                    .record_fill(&fill, &position, closed.as_ref(), &then)
                    .await
                    .context("record the fill")?;
                if inserted {
                    self.counters.fills.fetch_add(1, Relaxed);
                } else {
                    // Already recorded by an earlier run, or a paper fill of
                    // an order settled as rejected: the store is the truth,
                    // and nothing new is told.
                    tracing::info!(key = %order.key, "order already settled; fill not recorded");
                }
                (inserted, then.notices.is_empty())
            }
            (Execution::Filled { .. }, fill, _) => {
                tracing::warn!(key = %order.key, ?fill, "a fill without a position; not recorded");
                self.store
                    .log_decisions(&[record])
                    .await
                    .context("log the execution")?;
                self.risk_notices(risk).await?;
                return Ok(());
            }
        };
        match settled {
            (false, _) => self.resync(order).await?,
            (true, false) => self.outbox.notify_one(),
            (true, true) => {}
        }
        Ok(())
    }

    /// The skip-log entry and notifications that go with a settlement.
    async fn aftermath(
        &self,
        record: DecisionRecord,
        notes: Vec<(UserRef, OutboxPayload)>,
    ) -> Aftermath {
        Aftermath {
            decisions: vec![record],
            notices: self.messages(notes).await,
            now_ms: self.now_ms(),
        }
    }

    /// Puts the engine's position of an order back as the store has it.
    async fn resync(&self, order: &Order) -> anyhow::Result<()> {
        let stored = self
            .store
            .open_positions(order.user)
            .await
            .context("reload the position")?
            .into_iter()
            .find(|p| (p.profile, p.leader, p.mint) == order.position_key());
        self.engine().resync_position(order.position_key(), stored);
        Ok(())
    }

    fn profile_name(&self, id: crate::domain::ProfileId) -> String {
        self.engine()
            .copy()
            .profile(id)
            .map_or_else(|| format!("#{id}"), |p| p.name.to_string())
    }

    /// Queues one alert per following user.
    async fn alert(&self, alerts: Vec<UserAlert>) -> anyhow::Result<usize> {
        use std::sync::atomic::Ordering::Relaxed;
        self.counters.alerts.fetch_add(alerts.len() as u64, Relaxed);
        let queue = alerts
            .into_iter()
            .map(|UserAlert { alert, copies }| (alert.user, OutboxPayload::Trade { alert, copies }))
            .collect();
        self.notify(queue).await
    }

    async fn risk_notices(&self, risk: Vec<RiskNotice>) -> anyhow::Result<usize> {
        let queue = self.risk_payloads(risk);
        self.notify(queue).await
    }

    fn risk_payloads(&self, risk: Vec<RiskNotice>) -> Vec<(UserRef, OutboxPayload)> {
        risk.into_iter()
            .map(|n| {
                tracing::info!(profile = %n.profile, event = ?n.event, "risk state changed");
                (
                    n.user,
                    OutboxPayload::Risk {
                        profile_name: self.profile_name(n.profile),
                        event: n.event,
                        at_ms: n.at_ms,
                    },
                )
            })
            .collect()
    }

    /// Queues messages to their users' private chats, as each user's
    /// notification switches say (off: dropped; silent: no sound).
    async fn notify(&self, queue: Vec<(UserRef, OutboxPayload)>) -> anyhow::Result<usize> {
        let messages = self.messages(queue).await;
        self.queue(messages).await
    }

    /// Stores messages in the outbox and wakes delivery.
    async fn queue(&self, messages: Vec<NewMessage>) -> anyhow::Result<usize> {
        if messages.is_empty() {
            return Ok(0);
        }
        let n = messages.len();
        self.store
            .enqueue(&messages, self.now_ms())
            .await
            .context("queue messages")?;
        self.outbox.notify_one();
        Ok(n)
    }

    /// The messages for `queue`, as each user's notification switches say
    /// (off: dropped; silent: no sound).
    async fn messages(&self, queue: Vec<(UserRef, OutboxPayload)>) -> Vec<NewMessage> {
        let mut messages = Vec::with_capacity(queue.len());
        for (user, payload) in queue {
            let prefs = self.prefs_of(user).await;
            messages.extend(private_message(user, payload, &prefs));
        }
        messages
    }

    async fn prefs_of(&self, user: UserRef) -> crate::domain::NotifyPrefs {
        if let Some(p) = self
            .prefs
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&user)
        {
            return p.clone();
        }
        let prefs = match self.store.get_user(user).await {
            Ok(Some(u)) => u.notify,
            Ok(None) => crate::domain::NotifyPrefs::default(),
            Err(e) => {
                tracing::warn!(%user, error = format!("{e:#}"), "reading notification settings failed");
                return crate::domain::NotifyPrefs::default();
            }
        };
        self.prefs
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(user, prefs.clone());
        prefs
    }

    // ---- users -----------------------------------------------------------

    /// The stored user, created on first contact with the platform's
    /// language hint, with a first profile ("main").
    pub async fn user(&self, user: UserRef, language: Option<&str>) -> anyhow::Result<UserRecord> {
        if let Some(rec) = self.store.get_user(user).await.context("get user")? {
            return Ok(rec);
        }
        let rec = UserRecord {
            user,
            locale: crate::domain::Locale::from_hint(language),
            home_chat: ChatRef::new(user.platform, user.id),
            active_profile: None,
            notify: crate::domain::NotifyPrefs::default(),
            created_ms: self.now_ms(),
        };
        let rec = self.store.upsert_user(&rec).await.context("create user")?;
        self.ensure_profile(&rec).await?;
        Ok(rec)
    }

    /// Saves a user's notification switches.
    pub async fn set_notify(
        &self,
        user: UserRef,
        prefs: &crate::domain::NotifyPrefs,
    ) -> anyhow::Result<()> {
        self.store
            .set_notify(user, prefs)
            .await
            .context("save notification settings")?;
        self.prefs
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(user, prefs.clone());
        Ok(())
    }

    /// A user's open positions valued at the last known prices.
    #[must_use]
    pub fn positions_of(&self, user: UserRef) -> Vec<crate::engine::PositionView> {
        self.engine().positions_of(user)
    }

    /// Paper orders waiting for their latency.
    pub async fn due_len(&self) -> usize {
        self.due.lock().await.orders.len()
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
