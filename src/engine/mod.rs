//! The engine: PURE. No async, no I/O, no SDK or transport crates (CI greps
//! for them). It takes events and a clock reading and returns decisions as
//! values; the application persists and delivers them.
//!
//! It covers wallet analytics (every trade of every wallet feeds
//! [`analytics::Analytics`]: stats, scores, tiers, leaderboards), curve
//! tracking, and the copy pipeline ([`copy::CopyBook`]): follow matching,
//! signals, safety, risk, exits and positions. `on_trade` and `tick` in,
//! decisions (approved orders or skips with reasons) out; executors report
//! back through `on_execution`.

pub mod analytics;
pub mod copy;
pub mod curve;
pub mod recent;

use analytics::hash::FxHashMap as HashMap;

use crate::domain::ports::CopyNote;
use crate::domain::{
    Alert, Execution, Follow, Lamports, Mint, Order, Position, Profile, ProfileId, Side, Signature,
    TradeEvent, UserRef, WalletAddress,
};
use analytics::{
    Analytics, AnalyticsConfig, AnalyticsEvent, LeaderRow, Metric, WalletCard, WalletState, Window,
};
use copy::{CopyBook, CopyConfig, CopyDecision, ExecOutcome, RiskNotice, TradeContext};
pub use copy::{CopyOutcome, FollowChange, RiskApproved};
use curve::{Curve, Fees};
use recent::RecentSet;

/// Engine settings (from configuration).
#[derive(Debug, Clone)]
pub struct EngineConfig {
    pub fees: Fees,
    /// Wallet analytics: outcomes, scores, tiers, leaderboards.
    pub analytics: AnalyticsConfig,
    /// The copy pipeline's risk and exit tunables.
    pub copy: CopyConfig,
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
            copy: CopyConfig::default(),
            dedup_capacity: 200_000,
            curve_idle_ms: 6 * 60 * 60 * 1000,
        }
    }
}

/// A followed wallet traded: one alert per following user, with what each
/// of the user's profiles following it did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserAlert {
    pub alert: Alert,
    pub copies: Vec<CopyNote>,
}

/// Everything one trade produced: copy decisions (entries, copied sells,
/// exits on the price move), risk notices, and what wallet analytics has to
/// tell (tier changes, discoveries). The followers' alerts are built from
/// the decisions by [`Engine::alerts`], after the orders are on their way.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TradeOutput {
    pub decisions: Vec<CopyDecision>,
    pub risk: Vec<RiskNotice>,
    pub analytics: Vec<AnalyticsEvent>,
}

impl TradeOutput {
    /// Nothing to store or deliver.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.decisions.is_empty() && self.risk.is_empty() && self.analytics.is_empty()
    }
}

/// What the clock produced: time-based exits and risk notices. (What wallet
/// analytics produced on the clock waits in [`Engine::take_clock_events`].)
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TickOutput {
    pub decisions: Vec<CopyDecision>,
    pub risk: Vec<RiskNotice>,
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
    copy: CopyBook,
    curves: HashMap<Mint, CurveState>,
    /// Token balances of followed wallets as observed from their trades, used
    /// to copy a sell with the same fraction when the feed lacks balances.
    leader_balances: HashMap<(WalletAddress, Mint), u64>,
    /// Trades already processed, by (signature, side): one transaction can
    /// hold a buy and a sell.
    seen: RecentSet<(Signature, Side)>,
    prune_countdown: u32,
    /// Analytics events the clock produced (tier changes as windows and
    /// recency age, discoveries at the hourly re-rank), handed out by
    /// [`Self::take_clock_events`] or with the next trade's output.
    /// Bounded: a quiet clock changes each tiered wallet's tier a few
    /// times at most, and discoveries are per board and day.
    clock_events: Vec<AnalyticsEvent>,
}

impl Engine {
    #[must_use]
    pub fn new(cfg: EngineConfig) -> Self {
        let seen = RecentSet::new(cfg.dedup_capacity);
        let analytics = Analytics::new(cfg.analytics.clone());
        let copy = CopyBook::new(cfg.copy.clone(), cfg.fees);
        Self {
            cfg,
            analytics,
            copy,
            curves: HashMap::default(),
            leader_balances: HashMap::default(),
            seen,
            prune_countdown: PRUNE_EVERY,
            clock_events: Vec::new(),
        }
    }

    #[must_use]
    pub const fn config(&self) -> &EngineConfig {
        &self.cfg
    }

    /// The engine clock: the latest event time seen.
    #[must_use]
    pub const fn now_ms(&self) -> i64 {
        self.analytics.now_ms()
    }

    /// The copy pipeline (read-only: profiles, positions, risk states).
    #[must_use]
    pub const fn copy(&self) -> &CopyBook {
        &self.copy
    }

    /// Distinct users following a wallet through any profile.
    #[must_use]
    pub fn follower_users(&self, wallet: &WalletAddress) -> Vec<UserRef> {
        self.copy.follower_users(wallet)
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

    /// Adds or updates a profile.
    pub fn upsert_profile(&mut self, profile: Profile) {
        self.copy.upsert_profile(profile);
    }

    /// Removes a profile; returns the wallets nobody follows any more.
    pub fn remove_profile(&mut self, id: ProfileId) -> Vec<WalletAddress> {
        let gone = self.copy.remove_profile(id);
        for w in &gone {
            self.leader_balances.retain(|(x, _), _| x != w);
        }
        gone
    }

    /// Adds (or updates the overrides of) a followed wallet.
    pub fn follow(&mut self, follow: &Follow) -> FollowChange {
        self.copy.follow(follow)
    }

    pub fn unfollow(&mut self, profile: ProfileId, wallet: WalletAddress) -> FollowChange {
        let change = self.copy.unfollow(profile, wallet);
        if change == FollowChange::LastUnfollow {
            self.leader_balances.retain(|(w, _), _| *w != wallet);
        }
        change
    }

    /// Restores an open position (at start, from the store).
    pub fn restore_position(&mut self, position: Position) {
        self.copy.restore_position(position);
    }

    /// Replaces a position with the stored truth, or drops it.
    pub fn resync_position(
        &mut self,
        key: (ProfileId, WalletAddress, Mint),
        stored: Option<Position>,
    ) {
        self.copy.resync_position(key, stored);
    }

    /// Restores a profile's risk state and first-buy memory (at start):
    /// today's fills, recent round trips oldest first, entered mints.
    pub fn restore_risk(
        &mut self,
        fills: &[crate::domain::Fill],
        trips: &[crate::domain::RoundTrip],
        entered: &[(ProfileId, Mint)],
    ) {
        for t in trips {
            self.copy.restore_round_trip(t);
        }
        for f in fills {
            self.copy.restore_fill(f);
        }
        for (p, m) in entered {
            self.copy.restore_entered(*p, *m);
        }
    }

    /// The last known curve of a mint.
    #[must_use]
    pub fn curve(&self, mint: &Mint) -> Option<Curve> {
        self.curves.get(mint).map(|c| c.curve)
    }

    /// A user's open positions valued at the last known prices, oldest first.
    #[must_use]
    pub fn positions_of(&self, user: UserRef) -> Vec<PositionView> {
        self.copy
            .positions_of(user)
            .into_iter()
            .map(|p| self.view(p))
            .collect()
    }

    /// A position valued at its mint's last known price.
    #[must_use]
    pub fn view(&self, p: &Position) -> PositionView {
        let value = self
            .curve(&p.mint)
            .map(|c| c.quote_sell(p.tokens, self.cfg.fees).sol);
        PositionView {
            position: p.clone(),
            value,
            unrealized_pnl: value.map(|v| i128_to_i64(i128::from(v.0) - i128::from(p.cost.0))),
        }
    }

    /// Processes one trade: feeds wallet analytics (every trade, followed or
    /// not, before follow matching), updates curves and the mint tape, makes
    /// each following profile's decision and one alert per following user,
    /// and runs the exit rules of positions in the mint. A signature seen
    /// before produces nothing and is not counted twice. Analytics events
    /// the clock produced since the last call come first in `analytics`.
    pub fn on_trade(&mut self, ev: &TradeEvent) -> TradeOutput {
        if !self.seen.insert((ev.signature.clone(), ev.side)) {
            return TradeOutput::default();
        }
        let mut analytics = std::mem::take(&mut self.clock_events);
        analytics.extend(self.analytics.on_trade(ev));
        if ev.on_curve {
            self.curves.insert(
                ev.mint,
                CurveState {
                    curve: Curve::new(ev.virtual_sol.0, ev.virtual_tokens.0),
                    last_ms: ev.timestamp_ms,
                },
            );
        }
        self.copy.observe(ev);
        self.maybe_prune(ev.timestamp_ms);

        let mut out = TradeOutput {
            analytics,
            ..TradeOutput::default()
        };
        if self.copy.is_followed(&ev.trader) {
            let ctx = TradeContext {
                curve: self.curve(&ev.mint),
                score: self.analytics.leader_score(&ev.trader),
                leader_before: self.observe_leader(ev),
            };
            out.decisions = self.copy.on_leader_trade(ev, &ctx);
        }
        if ev.on_curve && self.copy.holds(&ev.mint) {
            let curve = Curve::new(ev.virtual_sol.0, ev.virtual_tokens.0);
            let exits = self.copy.on_price(&ev.mint, &curve, ev.timestamp_ms);
            out.decisions.extend(exits);
        }
        out.risk = self.copy.take_notices();
        out
    }

    /// The clock moved (no trade needed): wallet analytics ages (rolling
    /// windows, recency, the Bayesian window, expiry of undecided outcomes,
    /// the hourly re-rank), then time-based exits (max hold, the break-even
    /// window) at the last known prices, the day's roll-over. A time before
    /// the engine clock moves nothing in analytics. What analytics has to
    /// tell waits in [`Self::take_clock_events`].
    pub fn tick(&mut self, now_ms: i64) -> TickOutput {
        let events = self.analytics.tick(now_ms);
        self.clock_events.extend(events);
        let curves = &self.curves;
        let decisions = self.copy.tick(now_ms, |m| curves.get(m).map(|c| c.curve));
        TickOutput {
            decisions,
            risk: self.copy.take_notices(),
        }
    }

    /// Analytics events the clock produced since they were last taken
    /// (tier changes, discoveries), oldest first. Those not taken here come
    /// with the next trade's [`TradeOutput::analytics`].
    pub fn take_clock_events(&mut self) -> Vec<AnalyticsEvent> {
        std::mem::take(&mut self.clock_events)
    }

    /// An executor's report on an approved order.
    pub fn on_execution(&mut self, order: &Order, exec: &Execution) -> ExecOutcome {
        self.copy.on_execution(order, exec)
    }

    /// One alert per user following the trader of `ev`, with each of the
    /// user's profiles' note, from the trade's decisions (exits by rule are
    /// not alerts).
    #[must_use]
    pub fn alerts(&self, ev: &TradeEvent, decisions: &[CopyDecision]) -> Vec<UserAlert> {
        let mut out: Vec<UserAlert> = Vec::with_capacity(decisions.len());
        let mut at: HashMap<UserRef, usize> = HashMap::default();
        at.reserve(decisions.len());
        for d in decisions
            .iter()
            .filter(|d| d.signature.is_some() && d.leader == ev.trader)
        {
            let Some(profile) = self.copy.profile(d.profile) else {
                continue;
            };
            let note = CopyNote {
                profile_name: profile.name.to_string(),
                mode: profile.settings.mode,
                verdict: d.verdict(),
            };
            let i = *at.entry(d.user).or_insert_with(|| {
                out.push(UserAlert {
                    alert: Alert {
                        user: d.user,
                        wallet: ev.trader,
                        mint: ev.mint,
                        side: ev.side,
                        sol: ev.sol,
                        tokens: ev.tokens,
                        signature: ev.signature.clone(),
                        timestamp_ms: ev.timestamp_ms,
                    },
                    copies: Vec::new(),
                });
                out.len() - 1
            });
            out[i].copies.push(note);
        }
        out
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

    fn maybe_prune(&mut self, now_ms: i64) {
        self.prune_countdown -= 1;
        if self.prune_countdown > 0 {
            return;
        }
        self.prune_countdown = PRUNE_EVERY;
        let idle = self.cfg.curve_idle_ms;
        self.copy.prune(now_ms, idle);
        let copy = &self.copy;
        self.curves
            .retain(|mint, c| now_ms - c.last_ms < idle || copy.holds(mint));
    }
}

const PRUNE_EVERY: u32 = 10_000;

fn i128_to_i64(v: i128) -> i64 {
    i64::try_from(v).unwrap_or(if v < 0 { i64::MIN } else { i64::MAX })
}

#[cfg(test)]
mod tests;
