//! The copy pipeline, pure: profiles and their followed leaders, signals,
//! safety checks, the risk step, exits, and the positions the executors'
//! reports build. One decision path for paper and live: the engine decides
//! and hands out `RiskApproved<Order>`; an executor (paper or live) only
//! executes and reports back ([`CopyBook::on_execution`]).
//!
//! Every decision is a value: a [`CopyDecision`] places an approved order
//! or skips with a [`SkipReason`], and every one is kept in the skip log.
//!
//! State kept here and how it survives a restart (the application rebuilds
//! it from the store): profiles and follows; open positions with their exit
//! state; orders in flight (their reservations); each profile's risk state
//! for the day (rebuilt from the day's fills and recent round trips); the
//! mints each profile entered (first-buy-only).

pub mod exits;
pub mod reports;
pub mod risk;
pub mod safety;
pub mod screen;
pub mod signals;

#[cfg(test)]
mod tests;

use crate::engine::analytics::hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use crate::domain::{
    BuyMode, CopySells, DecisionRecord, Execution, ExitReason, Fill, Follow, IdempotencyKey,
    Intent, Lamports, Mint, Order, Overrides, Position, Profile, ProfileId, ProfileSettings,
    RiskEvent, RoundTrip, Side, SignalMode, Signature, SkipReason, TokenAmount, TradeEvent,
    UserRef, Verdict, WalletAddress,
};
use crate::engine::analytics::LeaderScore;
use crate::engine::curve::{Curve, Fees};
pub use exits::ExitConfig;
use risk::Reservation;
pub use risk::{RiskApproved, RiskConfig, RiskState};
use safety::MintTape;
use signals::{Vote, VoteTape};

/// Copy pipeline tunables (engine configuration).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CopyConfig {
    pub risk: RiskConfig,
    pub exits: ExitConfig,
}

/// Place an approved order, or skip with a reason.
#[derive(Debug, Clone, PartialEq, Eq)]
#[allow(
    clippy::large_enum_variant,
    reason = "moved once from the engine to the executor; boxing adds an allocation per order"
)]
pub enum CopyOutcome {
    Place(RiskApproved<Order>),
    Skip(SkipReason),
}

/// One profile's decision about one trade (or price move).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopyDecision {
    pub profile: ProfileId,
    pub user: UserRef,
    pub leader: WalletAddress,
    pub mint: Mint,
    pub side: Side,
    /// The leader trade it answers (none for exits by rule).
    pub signature: Option<Signature>,
    pub at_ms: i64,
    pub outcome: CopyOutcome,
}

impl CopyDecision {
    /// As the skip log keeps it.
    #[must_use]
    pub fn record(&self) -> DecisionRecord {
        DecisionRecord {
            profile: self.profile,
            user: self.user,
            leader: self.leader,
            mint: self.mint,
            side: self.side,
            signature: self.signature.clone(),
            at_ms: self.at_ms,
            verdict: self.verdict(),
        }
    }

    /// Placed (with the order's figures) or skipped (with the reason).
    #[must_use]
    pub fn verdict(&self) -> Verdict {
        match &self.outcome {
            CopyOutcome::Place(o) => Verdict::Placed {
                key: o.key.clone(),
                intent: o.intent,
                sol: o.sol_in,
                tokens: o.tokens_in,
            },
            CopyOutcome::Skip(reason) => Verdict::Skipped { reason: *reason },
        }
    }

    #[must_use]
    pub const fn order(&self) -> Option<&RiskApproved<Order>> {
        match &self.outcome {
            CopyOutcome::Place(o) => Some(o),
            CopyOutcome::Skip(_) => None,
        }
    }
}

/// A profile's risk event, with whom to tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RiskNotice {
    pub profile: ProfileId,
    pub user: UserRef,
    pub event: RiskEvent,
    pub at_ms: i64,
}

/// What applying an executor's report changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecOutcome {
    /// The skip log entry (`Filled` or `Rejected`).
    pub record: DecisionRecord,
    pub fill: Option<Fill>,
    /// The position after the fill (`tokens` 0 = closed).
    pub position: Option<Position>,
    pub closed: Option<RoundTrip>,
    pub risk: Vec<RiskNotice>,
}

/// What a trade tells the copy pipeline beyond the event itself.
#[derive(Debug, Clone, Copy)]
pub struct TradeContext {
    /// The mint's curve after the trade (the last known one off-curve).
    pub curve: Option<Curve>,
    /// The trading wallet's scores.
    pub score: LeaderScore,
    /// The leader's token balance before the trade, when known.
    pub leader_before: Option<u64>,
}

#[derive(Debug, Clone)]
struct FollowSlot {
    wallet: WalletAddress,
    overrides: Overrides,
    /// The profile's settings with this follow's overrides applied.
    effective: ProfileSettings,
}

#[derive(Debug, Clone)]
struct ProfileSlot {
    profile: Profile,
    follows: Vec<FollowSlot>,
    risk: RiskState,
    open: u32,
    pending_entries: u32,
    /// Entries in flight by mint (first-buy-only counts them).
    pending_mints: HashMap<Mint, u32>,
    entered: HashSet<Mint>,
}

impl ProfileSlot {
    fn follow(&self, wallet: &WalletAddress) -> Option<&FollowSlot> {
        self.follows.iter().find(|f| f.wallet == *wallet)
    }
}

#[derive(Debug, Clone)]
enum InFlight {
    Entry(Reservation),
    /// A sell; the exit state before it, restored if it fails.
    Sell(crate::domain::ExitState),
}

type PositionKey = (ProfileId, WalletAddress, Mint);

/// A position's owner, mode, holding and exit state, as a sell needs them.
type Owner = (
    UserRef,
    crate::domain::Mode,
    TokenAmount,
    crate::domain::ExitState,
);

/// The copy pipeline's state.
#[derive(Debug, Default)]
pub struct CopyBook {
    cfg: CopyConfig,
    fees: Fees,
    profiles: HashMap<ProfileId, ProfileSlot>,
    /// Profiles following each wallet.
    followers: HashMap<WalletAddress, Vec<ProfileId>>,
    positions: HashMap<PositionKey, Position>,
    /// Open positions by mint (exits on price moves).
    by_mint: HashMap<Mint, Vec<(ProfileId, WalletAddress)>>,
    /// Orders in flight by ticket (see [`Order::ticket`]).
    in_flight: HashMap<u64, InFlight>,
    last_ticket: u64,
    entries_pending: HashMap<PositionKey, u32>,
    sells_pending: HashSet<PositionKey>,
    tapes: HashMap<Mint, MintTape>,
    votes: VoteTape,
    consensus_entered: HashMap<(ProfileId, Mint), i64>,
    notices: Vec<RiskNotice>,
}

/// What a follow change means for the feed's subscriptions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FollowChange {
    /// First follower: subscribe to the wallet.
    FirstFollower,
    /// Last follower gone: unsubscribe.
    LastUnfollow,
    /// The set of followed wallets did not change.
    Unchanged,
    /// Nothing to do: already following / was not following.
    NoOp,
}

const fn min_out(expected: u64, slippage_bps: u32) -> u64 {
    let keep = 10_000u128.saturating_sub(slippage_bps as u128);
    (expected as u128 * keep / 10_000) as u64
}

impl CopyBook {
    #[must_use]
    pub fn new(cfg: CopyConfig, fees: Fees) -> Self {
        Self {
            cfg,
            fees,
            ..Self::default()
        }
    }

    #[must_use]
    pub const fn config(&self) -> &CopyConfig {
        &self.cfg
    }

    // ---- profiles and follows ----------------------------------------

    /// Adds a profile or replaces its name and settings (follows keep their
    /// overrides over the new settings).
    pub fn upsert_profile(&mut self, profile: Profile) {
        match self.profiles.get_mut(&profile.id) {
            Some(slot) => {
                for f in &mut slot.follows {
                    f.effective = profile.settings.with_overrides(&f.overrides);
                }
                slot.profile = profile;
            }
            None => {
                self.profiles.insert(
                    profile.id,
                    ProfileSlot {
                        profile,
                        follows: Vec::new(),
                        risk: RiskState::default(),
                        open: 0,
                        pending_entries: 0,
                        pending_mints: HashMap::default(),
                        entered: HashSet::default(),
                    },
                );
            }
        }
    }

    /// Removes a profile and its follows; returns the wallets no profile
    /// follows any more. Its open positions stay (closed by their own
    /// reports), but nothing new is copied.
    pub fn remove_profile(&mut self, id: ProfileId) -> Vec<WalletAddress> {
        let Some(slot) = self.profiles.remove(&id) else {
            return Vec::new();
        };
        slot.follows
            .iter()
            .filter(|f| self.drop_follower(f.wallet, id))
            .map(|f| f.wallet)
            .collect()
    }

    #[must_use]
    pub fn profile(&self, id: ProfileId) -> Option<&Profile> {
        self.profiles.get(&id).map(|s| &s.profile)
    }

    /// Adds a followed wallet to its profile (which must be known).
    pub fn follow(&mut self, follow: &Follow) -> FollowChange {
        let Some(slot) = self.profiles.get_mut(&follow.profile) else {
            return FollowChange::NoOp;
        };
        if let Some(f) = slot.follows.iter_mut().find(|f| f.wallet == follow.wallet) {
            f.overrides = follow.overrides.clone();
            f.effective = slot.profile.settings.with_overrides(&f.overrides);
            return FollowChange::NoOp;
        }
        slot.follows.push(FollowSlot {
            wallet: follow.wallet,
            overrides: follow.overrides.clone(),
            effective: slot.profile.settings.with_overrides(&follow.overrides),
        });
        let list = self.followers.entry(follow.wallet).or_default();
        list.push(follow.profile);
        if list.len() == 1 {
            FollowChange::FirstFollower
        } else {
            FollowChange::Unchanged
        }
    }

    pub fn unfollow(&mut self, profile: ProfileId, wallet: WalletAddress) -> FollowChange {
        let Some(slot) = self.profiles.get_mut(&profile) else {
            return FollowChange::NoOp;
        };
        let Some(i) = slot.follows.iter().position(|f| f.wallet == wallet) else {
            return FollowChange::NoOp;
        };
        slot.follows.swap_remove(i);
        if self.drop_follower(wallet, profile) {
            FollowChange::LastUnfollow
        } else {
            FollowChange::Unchanged
        }
    }

    /// True when the wallet lost its last follower.
    fn drop_follower(&mut self, wallet: WalletAddress, profile: ProfileId) -> bool {
        let Some(list) = self.followers.get_mut(&wallet) else {
            return false;
        };
        list.retain(|p| *p != profile);
        if list.is_empty() {
            self.followers.remove(&wallet);
            true
        } else {
            false
        }
    }

    /// The profiles following a wallet.
    #[must_use]
    pub fn followers(&self, wallet: &WalletAddress) -> &[ProfileId] {
        self.followers.get(wallet).map_or(&[], Vec::as_slice)
    }

    /// Distinct users following a wallet through any profile.
    #[must_use]
    pub fn follower_users(&self, wallet: &WalletAddress) -> Vec<UserRef> {
        let mut users: Vec<UserRef> = self
            .followers(wallet)
            .iter()
            .filter_map(|p| self.profiles.get(p).map(|s| s.profile.user))
            .collect();
        users.sort_unstable();
        users.dedup();
        users
    }

    #[must_use]
    pub fn is_followed(&self, wallet: &WalletAddress) -> bool {
        self.followers.contains_key(wallet)
    }

    pub fn followed_wallets(&self) -> impl Iterator<Item = &WalletAddress> {
        self.followers.keys()
    }

    /// A profile's risk state (reports, tests).
    #[must_use]
    pub fn risk(&self, profile: ProfileId) -> Option<&RiskState> {
        self.profiles.get(&profile).map(|s| &s.risk)
    }

    // ---- positions -----------------------------------------------------

    /// Restores an open position (at start, from the store).
    pub fn restore_position(&mut self, p: Position) {
        let key = (p.profile, p.leader, p.mint);
        if let Some(slot) = self.profiles.get_mut(&p.profile) {
            slot.entered.insert(p.mint);
            if !self.positions.contains_key(&key) {
                slot.open += 1;
            }
        }
        if !self.positions.contains_key(&key) {
            self.by_mint
                .entry(p.mint)
                .or_default()
                .push((p.profile, p.leader));
        }
        self.positions.insert(key, p);
    }

    /// Replaces the in-memory position with the stored truth (after a
    /// duplicate fill), or drops it.
    pub fn resync_position(&mut self, key: PositionKey, stored: Option<Position>) {
        self.remove_position(&key);
        if let Some(p) = stored {
            self.restore_position(p);
        }
    }

    fn remove_position(&mut self, key: &PositionKey) -> Option<Position> {
        let p = self.positions.remove(key)?;
        if let Some(list) = self.by_mint.get_mut(&key.2) {
            list.retain(|(pr, l)| (*pr, *l) != (key.0, key.1));
            if list.is_empty() {
                self.by_mint.remove(&key.2);
            }
        }
        if let Some(slot) = self.profiles.get_mut(&key.0) {
            slot.open = slot.open.saturating_sub(1);
        }
        Some(p)
    }

    /// A mint the profile entered before (first-buy-only across restarts).
    pub fn restore_entered(&mut self, profile: ProfileId, mint: Mint) {
        if let Some(slot) = self.profiles.get_mut(&profile) {
            slot.entered.insert(mint);
        }
    }

    /// Replays one of today's fills into the risk state (at start).
    pub fn restore_fill(&mut self, fill: &Fill) {
        let Some(slot) = self.profiles.get_mut(&fill.profile) else {
            return;
        };
        slot.risk.roll(fill.timestamp_ms);
        if fill.timestamp_ms.div_euclid(risk::DAY_MS) != slot.risk.day {
            return;
        }
        match fill.side {
            Side::Buy if fill.reason.is_none() => {
                let r = slot
                    .risk
                    .reserve(fill.leader, fill.sol.0, fill.timestamp_ms);
                slot.risk.settle(&r, fill.sol.0);
            }
            Side::Buy => {}
            Side::Sell => {
                let settings = slot.profile.settings.clone();
                slot.risk
                    .on_realized(&self.cfg.risk, &settings, fill.realized_pnl);
            }
        }
    }

    /// Replays a closed round trip into the losing streak and the Kelly
    /// payoff (at start, oldest first).
    pub fn restore_round_trip(&mut self, trip: &RoundTrip) {
        if let Some(slot) = self.profiles.get_mut(&trip.profile) {
            let settings = slot.profile.settings.clone();
            slot.risk
                .on_closed(&self.cfg.risk, &settings, trip.pnl, trip.closed_ms);
        }
    }

    /// A user's open positions, oldest first.
    #[must_use]
    pub fn positions_of(&self, user: UserRef) -> Vec<&Position> {
        let mut v: Vec<&Position> = self.positions.values().filter(|p| p.user == user).collect();
        v.sort_by_key(|p| (p.opened_ms, p.mint, p.leader));
        v
    }

    #[must_use]
    pub fn position(&self, key: &PositionKey) -> Option<&Position> {
        self.positions.get(key)
    }

    /// Every open position (exit states are saved in batches).
    pub fn positions(&self) -> impl Iterator<Item = &Position> {
        self.positions.values()
    }

    #[must_use]
    pub fn holds(&self, mint: &Mint) -> bool {
        self.by_mint.contains_key(mint)
    }

    /// Risk events since the last call (day rolls, tier changes, cooldowns).
    pub fn take_notices(&mut self) -> Vec<RiskNotice> {
        std::mem::take(&mut self.notices)
    }

    // ---- trades ----------------------------------------------------------

    /// Forgets mint tapes idle for `idle_ms` unless a position holds the mint.
    pub fn prune(&mut self, now_ms: i64, idle_ms: i64) {
        let held = &self.by_mint;
        self.tapes
            .retain(|m, t| now_ms - t.last_ms < idle_ms || held.contains_key(m));
    }

    /// Every trade, followed or not: the mint tape (sellability, launch).
    pub fn observe(&mut self, ev: &TradeEvent) {
        self.tapes.entry(ev.mint).or_default().observe(ev);
    }

    /// A followed wallet traded: one decision per profile following it.
    pub fn on_leader_trade(&mut self, ev: &TradeEvent, ctx: &TradeContext) -> Vec<CopyDecision> {
        let Some(profiles) = self.followers.get(&ev.trader).cloned() else {
            return Vec::new();
        };
        if ev.side == Side::Buy {
            self.votes.record(
                ev.mint,
                Vote {
                    wallet: ev.trader,
                    sol: ev.sol,
                    at_ms: ev.timestamp_ms,
                    score: ctx.score.posterior,
                },
            );
        }
        let mut out = Vec::with_capacity(profiles.len());
        for id in profiles {
            let outcome = match ev.side {
                Side::Buy => self.entry(id, ev, ctx),
                Side::Sell => self.copy_sell(id, ev, ctx),
            };
            let Some(slot) = self.profiles.get(&id) else {
                continue;
            };
            out.push(CopyDecision {
                profile: id,
                user: slot.profile.user,
                leader: ev.trader,
                mint: ev.mint,
                side: ev.side,
                signature: Some(ev.signature.clone()),
                at_ms: ev.timestamp_ms,
                outcome,
            });
        }
        out
    }

    fn entry(&mut self, id: ProfileId, ev: &TradeEvent, ctx: &TradeContext) -> CopyOutcome {
        match self.try_entry(id, ev, ctx) {
            Ok(order) => CopyOutcome::Place(order),
            Err(reason) => CopyOutcome::Skip(reason),
        }
    }

    fn try_entry(
        &mut self,
        id: ProfileId,
        ev: &TradeEvent,
        ctx: &TradeContext,
    ) -> Result<RiskApproved<Order>, SkipReason> {
        let now = ev.timestamp_ms;
        let cfg = &self.cfg;
        let slot = self.profiles.get_mut(&id).ok_or(SkipReason::Paused)?;
        if let Some(e) = slot.risk.roll(now) {
            self.notices.push(RiskNotice {
                profile: id,
                user: slot.profile.user,
                event: e,
                at_ms: now,
            });
        }
        let follow = slot
            .follows
            .iter()
            .find(|f| f.wallet == ev.trader)
            .ok_or(SkipReason::Paused)?;
        let s = &follow.effective;
        if s.paused {
            return Err(SkipReason::Paused);
        }
        if s.notify_only {
            return Err(SkipReason::NotifyOnly);
        }
        if s.stop_entry {
            return Err(SkipReason::StopEntry);
        }
        let curve = match ctx.curve {
            Some(c) if ev.on_curve => c,
            _ => return Err(SkipReason::OffCurve),
        };
        if s.leader_min.0 > 0 && ev.sol < s.leader_min {
            return Err(SkipReason::LeaderTooSmall {
                sol: ev.sol,
                min: s.leader_min,
            });
        }
        if s.leader_max.0 > 0 && ev.sol > s.leader_max {
            return Err(SkipReason::LeaderTooLarge {
                sol: ev.sol,
                max: s.leader_max,
            });
        }
        let key = (id, ev.trader, ev.mint);
        if s.first_buy_only
            && (slot.entered.contains(&ev.mint) || slot.pending_mints.contains_key(&ev.mint))
        {
            return Err(SkipReason::FirstBuyOnly);
        }
        let tape = self.tapes.get(&ev.mint).copied().unwrap_or_default();
        safety::check_token(s, &ev.mint, &curve, &tape, now)?;
        let rule = cfg.risk.rule(slot.risk.tier);
        let min_score = f64::from(s.min_score_milli) / 1_000.0;
        let min_score = if s.adaptive {
            min_score.max(rule.min_score)
        } else {
            min_score
        };
        if ctx.score.score < min_score {
            return Err(SkipReason::LowScore {
                score_milli: milli(ctx.score.score),
                min_milli: milli(min_score),
            });
        }
        let mut intent = Intent::Copy;
        if s.signal == SignalMode::Consensus {
            if self.consensus_entered.contains_key(&(id, ev.mint)) {
                return Err(SkipReason::ConsensusEntered);
            }
            let window = i64::from(s.consensus_window_s) * 1_000;
            let t = self
                .votes
                .tally(&ev.mint, now, window, |w| slot.follow(w).is_some());
            let needed = f64::from(s.consensus_threshold_milli) / 1_000.0;
            if t.sum < needed {
                return Err(SkipReason::ConsensusPending {
                    sum_milli: milli(t.sum),
                    needed_milli: s.consensus_threshold_milli,
                });
            }
            let strong = f64::from(s.consensus_min_score_milli) / 1_000.0;
            if t.best_score < strong {
                return Err(SkipReason::ConsensusNoStrongVoter {
                    best_milli: milli(t.best_score),
                    needed_milli: s.consensus_min_score_milli,
                });
            }
            intent = Intent::Consensus {
                voters: t.voters,
                weight_milli: milli(t.sum),
            };
        }
        let mut size = match s.buy_mode {
            BuyMode::Fixed => s.buy_sol.0,
            BuyMode::LeaderPct => {
                // The leader paid its net SOL plus the curve fee.
                let gross = u128::from(ev.sol.0) * (10_000 + self.fees.total_bps()) / 10_000;
                u64::try_from(gross * u128::from(s.buy_pct_bps) / 10_000).unwrap_or(u64::MAX)
            }
        };
        if s.kelly {
            size = risk::kelly_size(s, ctx.score.posterior, slot.risk.payoff(&cfg.risk))
                .ok_or(SkipReason::KellyNoEdge)?;
        }
        if s.min_buy.0 > 0 {
            size = size.max(s.min_buy.0);
        }
        if s.max_buy.0 > 0 {
            size = size.min(s.max_buy.0);
        }
        if s.max_per_trade.0 > 0 {
            size = size.min(s.max_per_trade.0);
        }
        let quote = curve.quote_buy(Lamports(size), self.fees);
        if quote.tokens.0 == 0 {
            return Err(SkipReason::TooSmall);
        }
        let impact = safety::buy_impact_bps(&curve, quote.sol.0 - quote.fee.0);
        if s.impact_max_bps > 0 && impact > s.impact_max_bps {
            return Err(SkipReason::PriceImpact {
                bps: impact,
                max: s.impact_max_bps,
            });
        }
        if s.mode == crate::domain::Mode::Live && s.wallet.is_none() {
            return Err(SkipReason::NoWallet);
        }
        let order = Order {
            key: IdempotencyKey::copy(id, &ev.signature, Side::Buy),
            profile: id,
            user: slot.profile.user,
            mode: s.mode,
            wallet: s.wallet,
            leader: ev.trader,
            mint: ev.mint,
            side: Side::Buy,
            intent,
            sol_in: Lamports(size),
            tokens_in: TokenAmount(0),
            expected_out: quote.tokens.0,
            min_out: min_out(quote.tokens.0, s.slippage_bps),
            slippage_bps: s.slippage_bps,
            priority_fee: s.priority_fee,
            latency_ms: s.latency_ms,
            trigger_ms: now,
            ticket: self.last_ticket + 1,
        };
        // The risk step: every limit, then the reservation.
        let open = slot.open + slot.pending_entries;
        let (order, reservation) = slot.risk.approve_entry(&cfg.risk, s, open, order)?;
        self.last_ticket = order.ticket;
        slot.pending_entries += 1;
        *slot.pending_mints.entry(ev.mint).or_default() += 1;
        if matches!(intent, Intent::Consensus { .. }) {
            self.consensus_entered.insert((id, ev.mint), now);
        }
        *self.entries_pending.entry(key).or_default() += 1;
        self.in_flight
            .insert(order.ticket, InFlight::Entry(reservation));
        Ok(order)
    }

    fn copy_sell(&mut self, id: ProfileId, ev: &TradeEvent, ctx: &TradeContext) -> CopyOutcome {
        match self.try_copy_sell(id, ev, ctx) {
            Ok(order) => CopyOutcome::Place(order),
            Err(reason) => CopyOutcome::Skip(reason),
        }
    }

    fn try_copy_sell(
        &mut self,
        id: ProfileId,
        ev: &TradeEvent,
        ctx: &TradeContext,
    ) -> Result<RiskApproved<Order>, SkipReason> {
        let slot = self.profiles.get(&id).ok_or(SkipReason::Paused)?;
        let s = &slot.follow(&ev.trader).ok_or(SkipReason::Paused)?.effective;
        if s.paused {
            return Err(SkipReason::Paused);
        }
        if s.notify_only {
            return Err(SkipReason::NotifyOnly);
        }
        if s.copy_sells == CopySells::Off {
            return Err(SkipReason::CopySellsOff);
        }
        let key = (id, ev.trader, ev.mint);
        let Some(position) = self.positions.get(&key) else {
            return Err(if self.entries_pending.contains_key(&key) {
                SkipReason::EntryPending
            } else {
                SkipReason::NoPosition
            });
        };
        if self.sells_pending.contains(&key) {
            return Err(SkipReason::SellPending);
        }
        let held = position.tokens.0;
        let owner = (position.user, position.mode, position.tokens, position.exit);
        let tokens = match (s.copy_sells, ctx.leader_before) {
            (CopySells::SamePct, Some(before)) if before > ev.tokens.0 => {
                let part = u128::from(held) * u128::from(ev.tokens.0) / u128::from(before);
                u64::try_from(part).unwrap_or(held).clamp(1, held)
            }
            _ => held,
        };
        let curve = ctx.curve.ok_or(SkipReason::OffCurve)?;
        let quote = curve.quote_sell(TokenAmount(tokens), self.fees);
        let s = s.clone();
        self.sell_order(
            key,
            &s,
            owner,
            tokens,
            quote.sol.0,
            IdempotencyKey::copy(id, &ev.signature, Side::Sell),
            ExitReason::LeaderSold,
            ev.timestamp_ms,
        )
    }

    /// Builds a sell of the position at `key`, passes it through the risk
    /// step and marks the position as selling; `before` is its exit state
    /// to restore if the sell fails.
    #[allow(clippy::too_many_arguments, reason = "one private constructor")]
    fn sell_order(
        &mut self,
        key: PositionKey,
        s: &ProfileSettings,
        (user, mode, held, before): Owner,
        tokens: u64,
        expected: u64,
        order_key: IdempotencyKey,
        reason: ExitReason,
        now: i64,
    ) -> Result<RiskApproved<Order>, SkipReason> {
        let order = Order {
            key: order_key,
            profile: key.0,
            user,
            mode,
            wallet: s.wallet,
            leader: key.1,
            mint: key.2,
            side: Side::Sell,
            intent: Intent::Exit(reason),
            sol_in: Lamports(0),
            tokens_in: TokenAmount(tokens),
            expected_out: expected,
            min_out: min_out(expected, s.slippage_bps),
            slippage_bps: s.slippage_bps,
            priority_fee: s.priority_fee,
            latency_ms: s.latency_ms,
            trigger_ms: now,
            ticket: self.last_ticket + 1,
        };
        let order = risk::approve_exit(order, held)?;
        self.last_ticket = order.ticket;
        self.sells_pending.insert(key);
        self.in_flight.insert(order.ticket, InFlight::Sell(before));
        Ok(order)
    }

    // ---- exits -----------------------------------------------------------

    /// The mint's price moved: exit rules of the positions in it.
    pub fn on_price(&mut self, mint: &Mint, curve: &Curve, now_ms: i64) -> Vec<CopyDecision> {
        let Some(keys) = self.by_mint.get(mint).cloned() else {
            return Vec::new();
        };
        keys.into_iter()
            .filter_map(|(profile, leader)| {
                self.exit_check((profile, leader, *mint), curve, now_ms)
            })
            .collect()
    }

    /// The clock moved: time-based exit rules of every position (curves
    /// are the last known ones).
    pub fn tick(
        &mut self,
        now_ms: i64,
        curve_of: impl Fn(&Mint) -> Option<Curve>,
    ) -> Vec<CopyDecision> {
        for slot in self.profiles.values_mut() {
            if let Some(e) = slot.risk.roll(now_ms) {
                self.notices.push(RiskNotice {
                    profile: slot.profile.id,
                    user: slot.profile.user,
                    event: e,
                    at_ms: now_ms,
                });
            }
        }
        self.consensus_entered
            .retain(|_, at| now_ms - *at <= signals::MAX_WINDOW_MS);
        self.votes.prune(now_ms);
        let mut keys: Vec<PositionKey> = self.positions.keys().copied().collect();
        keys.sort_unstable();
        keys.into_iter()
            .filter_map(|key| {
                let curve = curve_of(&key.2)?;
                self.exit_check(key, &curve, now_ms)
            })
            .collect()
    }

    fn exit_check(&mut self, key: PositionKey, curve: &Curve, now_ms: i64) -> Option<CopyDecision> {
        if self.sells_pending.contains(&key) {
            return None;
        }
        let slot = self.profiles.get(&key.0)?;
        let s = slot
            .follow(&key.1)
            .map_or_else(|| slot.profile.settings.clone(), |f| f.effective.clone());
        if s.paused {
            return None;
        }
        let p = self.positions.get_mut(&key)?;
        let value = curve.quote_sell(p.tokens, self.fees).sol.0;
        let before = p.exit;
        let exit = exits::evaluate(&self.cfg.exits, &s, p, value, now_ms)?;
        p.exit.exits += 1;
        let n = p.exit.exits;
        let opened = p.opened_ms;
        let user = p.user;
        let mode = p.mode;
        let held = p.tokens;
        let expected = curve.quote_sell(TokenAmount(exit.tokens), self.fees).sol.0;
        let order_key = IdempotencyKey::exit(key.0, &key.1, &key.2, opened, n);
        // A failed exit restores the rule flags it set (so it is retried),
        // keeping the count (so the retry has a new key); so does a refusal.
        let outcome = match self.sell_order(
            key,
            &s,
            (user, mode, held, before),
            exit.tokens,
            expected,
            order_key,
            exit.reason,
            now_ms,
        ) {
            Ok(order) => CopyOutcome::Place(order),
            Err(reason) => {
                if let Some(p) = self.positions.get_mut(&key) {
                    p.exit = crate::domain::ExitState { exits: n, ..before };
                }
                CopyOutcome::Skip(reason)
            }
        };
        Some(CopyDecision {
            profile: key.0,
            user,
            leader: key.1,
            mint: key.2,
            side: Side::Sell,
            signature: None,
            at_ms: now_ms,
            outcome,
        })
    }

    // ---- execution reports ---------------------------------------------

    /// An executor's report on an order this book approved. Unknown orders
    /// (already settled) change nothing but still get their log entry.
    pub fn on_execution(&mut self, order: &Order, exec: &Execution) -> ExecOutcome {
        let key = order.position_key();
        let flight = self.in_flight.remove(&order.ticket);
        match order.side {
            Side::Buy => {
                if flight.is_some() {
                    if let Some(n) = self.entries_pending.get_mut(&key) {
                        *n -= 1;
                        if *n == 0 {
                            self.entries_pending.remove(&key);
                        }
                    }
                    if let Some(slot) = self.profiles.get_mut(&order.profile) {
                        slot.pending_entries = slot.pending_entries.saturating_sub(1);
                        if let Some(n) = slot.pending_mints.get_mut(&order.mint) {
                            *n -= 1;
                            if *n == 0 {
                                slot.pending_mints.remove(&order.mint);
                            }
                        }
                    }
                }
            }
            Side::Sell => {
                self.sells_pending.remove(&key);
            }
        }
        let record = |verdict| DecisionRecord {
            profile: order.profile,
            user: order.user,
            leader: order.leader,
            mint: order.mint,
            side: order.side,
            signature: None,
            at_ms: exec_time(exec),
            verdict,
        };
        match exec {
            Execution::Rejected { reason, .. } => {
                match flight {
                    Some(InFlight::Entry(r)) => {
                        if let Some(slot) = self.profiles.get_mut(&order.profile) {
                            slot.risk.release(&r);
                        }
                        if matches!(order.intent, Intent::Consensus { .. }) {
                            self.consensus_entered.remove(&(order.profile, order.mint));
                        }
                    }
                    Some(InFlight::Sell(before)) => {
                        if let Some(p) = self.positions.get_mut(&key) {
                            let exits = p.exit.exits;
                            p.exit = before;
                            p.exit.exits = exits;
                        }
                    }
                    None => {}
                }
                ExecOutcome {
                    record: record(Verdict::Rejected {
                        key: order.key.clone(),
                        reason: *reason,
                    }),
                    fill: None,
                    position: None,
                    closed: None,
                    risk: Vec::new(),
                }
            }
            Execution::Filled {
                sol,
                tokens,
                fee,
                tx,
                at_ms,
            } => {
                let record = record(Verdict::Filled {
                    key: order.key.clone(),
                    sol: *sol,
                    tokens: *tokens,
                });
                let mut fill = Fill {
                    profile: order.profile,
                    user: order.user,
                    mint: order.mint,
                    leader: order.leader,
                    key: order.key.clone(),
                    side: order.side,
                    mode: order.mode,
                    sol: *sol,
                    tokens: *tokens,
                    fee: *fee,
                    realized_pnl: 0,
                    reason: match order.intent {
                        Intent::Exit(r) => Some(r),
                        _ => None,
                    },
                    tx: tx.clone(),
                    timestamp_ms: *at_ms,
                };
                let (position, closed, risk) = match order.side {
                    Side::Buy => (Some(self.apply_buy(order, &fill, flight)), None, Vec::new()),
                    Side::Sell => self.apply_sell(order, &mut fill),
                };
                ExecOutcome {
                    record,
                    fill: Some(fill),
                    position,
                    closed,
                    risk,
                }
            }
        }
    }

    fn apply_buy(&mut self, order: &Order, fill: &Fill, flight: Option<InFlight>) -> Position {
        let key = order.position_key();
        if let Some(slot) = self.profiles.get_mut(&order.profile) {
            if let Some(InFlight::Entry(r)) = &flight {
                slot.risk.settle(r, fill.sol.0);
            }
            slot.entered.insert(order.mint);
        }
        if !self.positions.contains_key(&key) {
            self.restore_position(Position {
                profile: order.profile,
                user: order.user,
                mint: order.mint,
                leader: order.leader,
                mode: order.mode,
                tokens: TokenAmount(0),
                cost: Lamports(0),
                realized_pnl: 0,
                bought_sol: Lamports(0),
                bought_tokens: TokenAmount(0),
                sold_sol: Lamports(0),
                opened_ms: fill.timestamp_ms,
                updated_ms: fill.timestamp_ms,
                exit: crate::domain::ExitState::default(),
            });
        }
        let p = self
            .positions
            .get_mut(&key)
            .expect("inserted above when missing");
        p.tokens.0 = p.tokens.0.saturating_add(fill.tokens.0);
        p.cost.0 = p.cost.0.saturating_add(fill.sol.0);
        p.bought_sol.0 = p.bought_sol.0.saturating_add(fill.sol.0);
        p.bought_tokens.0 = p.bought_tokens.0.saturating_add(fill.tokens.0);
        p.updated_ms = fill.timestamp_ms;
        p.clone()
    }

    fn apply_sell(
        &mut self,
        order: &Order,
        fill: &mut Fill,
    ) -> (Option<Position>, Option<RoundTrip>, Vec<RiskNotice>) {
        let key = order.position_key();
        let Some(p) = self.positions.get_mut(&key) else {
            // Nothing held here (settled elsewhere): the proceeds are profit.
            fill.realized_pnl = i64::try_from(fill.sol.0).unwrap_or(i64::MAX);
            return (None, None, Vec::new());
        };
        let held = p.tokens.0.max(1);
        let sold = fill.tokens.0.min(p.tokens.0);
        let cost_part = u64::try_from(u128::from(p.cost.0) * u128::from(sold) / u128::from(held))
            .unwrap_or(p.cost.0);
        let realized = i128_to_i64(i128::from(fill.sol.0) - i128::from(cost_part));
        fill.realized_pnl = realized;
        p.tokens.0 -= sold;
        p.cost.0 -= cost_part;
        p.realized_pnl = p.realized_pnl.saturating_add(realized);
        p.sold_sol.0 = p.sold_sol.0.saturating_add(fill.sol.0);
        p.updated_ms = fill.timestamp_ms;
        let after = p.clone();
        let mut notices = Vec::new();
        let user = order.user;
        let at = fill.timestamp_ms;
        let slot = self.profiles.get_mut(&order.profile);
        let settings = slot
            .as_ref()
            .map(|s| s.profile.settings.clone())
            .unwrap_or_default();
        let mut closed = None;
        if let Some(slot) = slot {
            slot.risk.roll(at);
            for e in slot.risk.on_realized(&self.cfg.risk, &settings, realized) {
                notices.push(RiskNotice {
                    profile: order.profile,
                    user,
                    event: e,
                    at_ms: at,
                });
            }
        }
        if after.tokens.0 == 0 {
            let trip = RoundTrip {
                profile: after.profile,
                user: after.user,
                leader: after.leader,
                mint: after.mint,
                mode: after.mode,
                opened_ms: after.opened_ms,
                closed_ms: at,
                cost: after.bought_sol,
                proceeds: after.sold_sol,
                pnl: after.realized_pnl,
                exit: fill.reason.unwrap_or(ExitReason::LeaderSold),
            };
            self.remove_position(&key);
            if let Some(slot) = self.profiles.get_mut(&order.profile)
                && let Some(e) = slot.risk.on_closed(&self.cfg.risk, &settings, trip.pnl, at)
            {
                notices.push(RiskNotice {
                    profile: order.profile,
                    user,
                    event: e,
                    at_ms: at,
                });
            }
            closed = Some(trip);
        }
        (Some(after), closed, notices)
    }
}

const fn exec_time(e: &Execution) -> i64 {
    match e {
        Execution::Filled { at_ms, .. } | Execution::Rejected { at_ms, .. } => *at_ms,
    }
}

#[allow(
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    reason = "clamped to the u32 range first"
)]
fn milli(v: f64) -> u32 {
    if v.is_finite() {
        (v * 1_000.0).round().clamp(0.0, f64::from(u32::MAX)) as u32
    } else {
        0
    }
}

fn i128_to_i64(v: i128) -> i64 {
    i64::try_from(v).unwrap_or(if v < 0 { i64::MIN } else { i64::MAX })
}
