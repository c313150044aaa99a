//! The engine: PURE. No async, no I/O, no SDK or transport crates (CI greps
//! for them). It takes events and a clock reading and returns decisions as
//! values; the application persists and delivers them.
//!
//! It covers wallet analytics (every trade of every wallet feeds
//! [`analytics::Analytics`]: stats, scores, tiers, leaderboards), follow
//! matching, curve tracking and the paper copy of followed wallets' trades.
//! Signals and risk plug in here later without changing the shape:
//! `on_trade` in, a [`TradeOutput`] of values out.

pub mod analytics;
pub mod curve;
pub mod follows;
pub mod recent;

use std::collections::HashMap;

use crate::domain::{
    Alert, Fill, Lamports, Mint, Position, Side, Signature, SkipReason, TokenAmount, TradeEvent,
    UserRef, WalletAddress,
};
use analytics::{
    Analytics, AnalyticsConfig, AnalyticsEvent, LeaderRow, Metric, WalletCard, WalletState, Window,
};
use curve::{Curve, Fees};
pub use follows::{FollowChange, FollowIndex};
use recent::RecentSet;

/// Engine settings (from configuration).
#[derive(Debug, Clone)]
pub struct EngineConfig {
    pub fees: Fees,
    /// Wallet analytics: outcomes, scores, tiers, leaderboards.
    pub analytics: AnalyticsConfig,
    /// Paper copy size for users that have not chosen one.
    pub default_copy: Lamports,
    /// How many trade signatures are remembered for dedup.
    pub dedup_capacity: usize,
    /// Curves of mints not traded for this long (and not held) are dropped.
    pub curve_idle_ms: i64,
}

impl Default for EngineConfig {
    fn default() -> Self {
        Self {
            fees: Fees::default(),
            analytics: AnalyticsConfig::default(),
            default_copy: Lamports(100_000_000),
            dedup_capacity: 200_000,
            curve_idle_ms: 6 * 60 * 60 * 1000,
        }
    }
}

/// What the engine decided about copying one leader trade for one user.
#[derive(Debug, Clone, PartialEq, Eq)]
#[allow(
    clippy::large_enum_variant,
    reason = "moved once from the engine to the store; boxing would add an allocation per copy"
)]
pub enum Decision {
    /// A paper fill and the position after it (tokens 0 = closed).
    Fill {
        fill: Fill,
        position: Position,
    },
    Skip(SkipReason),
}

/// The engine's answer for one follower of a trading wallet: the alert and
/// the copy decision, delivered together.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub alert: Alert,
    pub decision: Decision,
}

/// Everything one trade produced: per-follower alerts and copy decisions,
/// and what wallet analytics has to tell (tier changes, discoveries).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TradeOutput {
    pub outcomes: Vec<Outcome>,
    pub analytics: Vec<AnalyticsEvent>,
}

impl TradeOutput {
    /// Nothing to store or deliver.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.outcomes.is_empty() && self.analytics.is_empty()
    }
}

/// An open position valued at the last known price.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PositionView {
    pub position: Position,
    /// What selling everything now would return (fees deducted).
    pub value: Option<Lamports>,
    /// `value - cost`, when a price is known.
    pub unrealized_pnl: Option<i64>,
}

#[derive(Debug, Clone, Copy)]
struct CurveState {
    curve: Curve,
    last_ms: i64,
}

/// The engine state. Single-threaded; the application serializes access.
#[derive(Debug)]
pub struct Engine {
    cfg: EngineConfig,
    analytics: Analytics,
    follows: FollowIndex,
    copy_size: HashMap<UserRef, Lamports>,
    curves: HashMap<Mint, CurveState>,
    positions: HashMap<(UserRef, WalletAddress, Mint), Position>,
    /// Token balances of followed wallets as observed from their trades, used
    /// to copy a sell with the same fraction when the feed lacks balances.
    leader_balances: HashMap<(WalletAddress, Mint), u64>,
    /// Trades already processed, by (signature, side): one transaction can
    /// hold a buy and a sell.
    seen: RecentSet<(Signature, Side)>,
    prune_countdown: u32,
}

impl Engine {
    #[must_use]
    pub fn new(cfg: EngineConfig) -> Self {
        let seen = RecentSet::new(cfg.dedup_capacity);
        let analytics = Analytics::new(cfg.analytics.clone());
        Self {
            cfg,
            analytics,
            follows: FollowIndex::default(),
            copy_size: HashMap::new(),
            curves: HashMap::new(),
            positions: HashMap::new(),
            leader_balances: HashMap::new(),
            seen,
            prune_countdown: PRUNE_EVERY,
        }
    }

    #[must_use]
    pub const fn config(&self) -> &EngineConfig {
        &self.cfg
    }

    #[must_use]
    pub const fn follows(&self) -> &FollowIndex {
        &self.follows
    }

    /// The users following a wallet (no particular order).
    #[must_use]
    pub fn followers(&self, wallet: &WalletAddress) -> &[UserRef] {
        self.follows.followers(wallet)
    }

    /// Wallet analytics, for reports and read-only queries.
    #[must_use]
    pub const fn analytics(&self) -> &Analytics {
        &self.analytics
    }

    /// A wallet's card (`/score`), if the wallet was seen trading.
    #[must_use]
    pub fn card(&self, wallet: &WalletAddress) -> Option<WalletCard> {
        self.analytics.card(wallet)
    }

    /// A page of a leaderboard (ranked wallets only), `offset` rows in.
    #[must_use]
    pub fn leaderboard(
        &self,
        metric: Metric,
        window: Window,
        offset: usize,
        limit: usize,
    ) -> Vec<LeaderRow> {
        self.analytics.leaderboard(metric, window, offset, limit)
    }

    /// How many wallets a leaderboard ranks (for paging).
    #[must_use]
    pub fn leaderboard_len(&self, metric: Metric, window: Window) -> usize {
        self.analytics.leaderboard_len(metric, window)
    }

    /// Wallet states changed since the last call, for batched persistence.
    pub fn take_analytics_dirty(&mut self) -> Vec<WalletState> {
        self.analytics.take_dirty()
    }

    /// Restores saved wallet states (at start, before any trade).
    pub fn restore_analytics(&mut self, states: Vec<WalletState>) {
        self.analytics.restore(states);
    }

    pub fn follow(&mut self, user: UserRef, wallet: WalletAddress) -> FollowChange {
        self.follows.follow(user, wallet)
    }

    pub fn unfollow(&mut self, user: UserRef, wallet: WalletAddress) -> FollowChange {
        let change = self.follows.unfollow(user, wallet);
        if change == FollowChange::LastUnfollow {
            self.leader_balances.retain(|(w, _), _| *w != wallet);
        }
        change
    }

    /// Sets a user's paper copy size.
    pub fn set_copy_size(&mut self, user: UserRef, size: Lamports) {
        self.copy_size.insert(user, size);
    }

    /// Restores an open position (at start, from the store).
    pub fn restore_position(&mut self, position: Position) {
        self.positions
            .insert((position.user, position.leader, position.mint), position);
    }

    /// Drops a position (before restoring the stored truth).
    pub fn forget_position(&mut self, user: UserRef, leader: WalletAddress, mint: Mint) {
        self.positions.remove(&(user, leader, mint));
    }

    /// The last known curve of a mint.
    #[must_use]
    pub fn curve(&self, mint: &Mint) -> Option<Curve> {
        self.curves.get(mint).map(|c| c.curve)
    }

    /// A user's open positions valued at the last known prices, oldest first.
    #[must_use]
    pub fn positions_of(&self, user: UserRef) -> Vec<PositionView> {
        let mut out: Vec<PositionView> = self
            .positions
            .values()
            .filter(|p| p.user == user)
            .map(|p| {
                let value = self
                    .curve(&p.mint)
                    .map(|c| c.quote_sell(p.tokens, self.cfg.fees).sol);
                PositionView {
                    position: p.clone(),
                    value,
                    unrealized_pnl: value
                        .map(|v| i128_to_i64(i128::from(v.0) - i128::from(p.cost.0))),
                }
            })
            .collect();
        out.sort_by_key(|v| (v.position.opened_ms, v.position.mint));
        out
    }

    /// Processes one trade: feeds wallet analytics (every trade, followed or
    /// not, before follow matching), updates curves, and for each follower
    /// of the trader makes an alert and a copy decision. A signature seen
    /// before produces nothing and is not counted twice.
    pub fn on_trade(&mut self, ev: &TradeEvent) -> TradeOutput {
        if !self.seen.insert((ev.signature.clone(), ev.side)) {
            return TradeOutput::default();
        }
        let analytics = self.analytics.on_trade(ev);
        if ev.on_curve {
            self.curves.insert(
                ev.mint,
                CurveState {
                    curve: Curve::new(ev.virtual_sol.0, ev.virtual_tokens.0),
                    last_ms: ev.timestamp_ms,
                },
            );
        }
        self.maybe_prune(ev.timestamp_ms);

        let followers = self.follows.followers(&ev.trader);
        if followers.is_empty() {
            return TradeOutput {
                outcomes: Vec::new(),
                analytics,
            };
        }
        let followers = followers.to_vec();
        let leader_before = self.observe_leader(ev);

        let mut out = Vec::with_capacity(followers.len());
        for user in followers {
            let decision = match ev.side {
                Side::Buy => self.copy_buy(user, ev),
                Side::Sell => self.copy_sell(user, ev, leader_before),
            };
            out.push(Outcome {
                alert: Alert {
                    user,
                    wallet: ev.trader,
                    mint: ev.mint,
                    side: ev.side,
                    sol: ev.sol,
                    tokens: ev.tokens,
                    signature: ev.signature.clone(),
                    timestamp_ms: ev.timestamp_ms,
                },
                decision,
            });
        }
        TradeOutput {
            outcomes: out,
            analytics,
        }
    }

    /// Updates the observed balance of a followed leader; returns the
    /// balance before this trade when known.
    fn observe_leader(&mut self, ev: &TradeEvent) -> Option<u64> {
        let key = (ev.trader, ev.mint);
        let tracked = self.leader_balances.get(&key).copied();
        let before = match (ev.side, ev.trader_balance_after) {
            (Side::Buy, Some(after)) => Some(after.0.saturating_sub(ev.tokens.0)),
            (Side::Sell, Some(after)) => Some(after.0.saturating_add(ev.tokens.0)),
            (_, None) => tracked,
        };
        let after = ev.trader_balance_after.map(|b| b.0).unwrap_or_else(|| {
            let base = tracked.unwrap_or(0);
            match ev.side {
                Side::Buy => base.saturating_add(ev.tokens.0),
                Side::Sell => base.saturating_sub(ev.tokens.0),
            }
        });
        if after == 0 {
            self.leader_balances.remove(&key);
        } else {
            self.leader_balances.insert(key, after);
        }
        before
    }

    fn copy_buy(&mut self, user: UserRef, ev: &TradeEvent) -> Decision {
        if !ev.on_curve {
            return Decision::Skip(SkipReason::OffCurve);
        }
        let curve = Curve::new(ev.virtual_sol.0, ev.virtual_tokens.0);
        if curve.is_complete() {
            return Decision::Skip(SkipReason::CurveComplete);
        }
        let size = self
            .copy_size
            .get(&user)
            .copied()
            .unwrap_or(self.cfg.default_copy);
        let quote = curve.quote_buy(size, self.cfg.fees);
        if quote.tokens.0 == 0 {
            return Decision::Skip(SkipReason::TooSmall);
        }
        let position = self
            .positions
            .entry((user, ev.trader, ev.mint))
            .or_insert_with(|| Position {
                user,
                mint: ev.mint,
                leader: ev.trader,
                tokens: TokenAmount(0),
                cost: Lamports(0),
                realized_pnl: 0,
                opened_ms: ev.timestamp_ms,
                updated_ms: ev.timestamp_ms,
            });
        position.tokens.0 += quote.tokens.0;
        position.cost.0 += quote.sol.0;
        position.updated_ms = ev.timestamp_ms;
        Decision::Fill {
            fill: Fill {
                user,
                mint: ev.mint,
                leader: ev.trader,
                leader_signature: ev.signature.clone(),
                side: Side::Buy,
                sol: quote.sol,
                tokens: quote.tokens,
                fee: quote.fee,
                realized_pnl: 0,
                timestamp_ms: ev.timestamp_ms,
            },
            position: position.clone(),
        }
    }

    fn copy_sell(
        &mut self,
        user: UserRef,
        ev: &TradeEvent,
        leader_before: Option<u64>,
    ) -> Decision {
        let key = (user, ev.trader, ev.mint);
        let Some(position) = self.positions.get_mut(&key) else {
            return Decision::Skip(SkipReason::NoPosition);
        };
        // Sell the same fraction of the position as the leader sold of theirs;
        // everything when the leader's balance is unknown or fully sold.
        let held = u128::from(position.tokens.0);
        let to_sell = match leader_before {
            Some(before) if before > ev.tokens.0 => {
                let part = held * u128::from(ev.tokens.0) / u128::from(before);
                u64::try_from(part).unwrap_or(position.tokens.0).max(1)
            }
            _ => position.tokens.0,
        };
        let curve = if ev.on_curve {
            Some(Curve::new(ev.virtual_sol.0, ev.virtual_tokens.0))
        } else {
            self.curves.get(&ev.mint).map(|c| c.curve)
        };
        let Some(curve) = curve else {
            return Decision::Skip(SkipReason::OffCurve);
        };
        let quote = curve.quote_sell(TokenAmount(to_sell), self.cfg.fees);
        let cost_part =
            u64::try_from(u128::from(position.cost.0) * u128::from(to_sell) / held.max(1))
                .unwrap_or(position.cost.0);
        let realized = i128_to_i64(i128::from(quote.sol.0) - i128::from(cost_part));
        position.tokens.0 -= to_sell;
        position.cost.0 -= cost_part;
        position.realized_pnl = position.realized_pnl.saturating_add(realized);
        position.updated_ms = ev.timestamp_ms;
        let snapshot = position.clone();
        if snapshot.tokens.0 == 0 {
            self.positions.remove(&key);
        }
        Decision::Fill {
            fill: Fill {
                user,
                mint: ev.mint,
                leader: ev.trader,
                leader_signature: ev.signature.clone(),
                side: Side::Sell,
                sol: quote.sol,
                tokens: quote.tokens,
                fee: quote.fee,
                realized_pnl: realized,
                timestamp_ms: ev.timestamp_ms,
            },
            position: snapshot,
        }
    }

    fn maybe_prune(&mut self, now_ms: i64) {
        self.prune_countdown -= 1;
        if self.prune_countdown > 0 {
            return;
        }
        self.prune_countdown = PRUNE_EVERY;
        let idle = self.cfg.curve_idle_ms;
        let held: std::collections::HashSet<Mint> =
            self.positions.values().map(|p| p.mint).collect();
        self.curves
            .retain(|mint, c| now_ms - c.last_ms < idle || held.contains(mint));
    }
}

const PRUNE_EVERY: u32 = 10_000;

fn i128_to_i64(v: i128) -> i64 {
    i64::try_from(v).unwrap_or(if v < 0 { i64::MIN } else { i64::MAX })
}

#[cfg(test)]
mod tests;
