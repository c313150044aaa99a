//! The risk step: the only place an order becomes [`RiskApproved`], and
//! each profile's risk state (the day's spend, trades and PnL, adaptive
//! tiers, losing-streak cooldowns, the daily loss limit, Kelly sizing).
//!
//! Two doors lead to an approval: [`RiskState::approve_entry`] (every
//! limit checked, then the SOL reserved) and [`approve_exit`] (a sell of
//! tokens the position holds). Each refusal is a [`SkipReason`].
//!
//! Days are UTC days of the engine clock (event time in replay and
//! simulation), so a backtest and a live run count the same.

use crate::engine::analytics::hash::FxHashMap as HashMap;

use crate::domain::{
    Lamports, Order, ProfileSettings, RiskEvent, RiskTier, Side, SkipReason, TokenAmount,
    WalletAddress,
};

/// An order that passed the risk step. It can only be built here (by
/// [`RiskState::approve_entry`] and [`approve_exit`]), so an executor
/// taking `RiskApproved<Order>` cannot be handed an order that skipped
/// risk. Code outside the risk step reads one:
///
/// ```
/// use alfabot::domain::{Lamports, Order};
/// use alfabot::engine::RiskApproved;
/// fn sol_in(o: &RiskApproved<Order>) -> Lamports {
///     o.get().sol_in
/// }
/// ```
///
/// but can neither call its constructor (private):
///
/// ```compile_fail,E0624
/// use alfabot::engine::RiskApproved;
/// let _ = RiskApproved::approve(alfabot::domain::Lamports(1));
/// ```
///
/// nor build the tuple (its field is private):
///
/// ```compile_fail,E0423
/// use alfabot::engine::RiskApproved;
/// let _ = RiskApproved(alfabot::domain::Lamports(1));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RiskApproved<T>(T);

impl<T> RiskApproved<T> {
    /// Approval is this module's alone: only the risk step's functions
    /// call it.
    const fn approve(t: T) -> Self {
        Self(t)
    }

    #[must_use]
    pub const fn get(&self) -> &T {
        &self.0
    }

    #[must_use]
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> std::ops::Deref for RiskApproved<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

pub const DAY_MS: i64 = 86_400_000;

/// What each adaptive tier allows.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TierRule {
    /// Entries per day.
    pub max_trades: u32,
    /// Seconds between entries.
    pub spacing_s: u32,
    /// Lowest leader score (the board's Bayesian score, boosts included:
    /// a wallet with no record and trading now scores 0.375 × 1.3) to copy.
    pub min_score: f64,
}

/// Adaptive risk tunables (engine configuration; the seed rule by default).
#[derive(Debug, Clone, PartialEq)]
pub struct RiskConfig {
    /// Day-loss thresholds (share of bankroll, bps) for Caution, Defensive,
    /// Critical.
    pub tier_loss_bps: [u32; 3],
    /// Rules for Normal, Caution, Defensive, Critical.
    pub tiers: [TierRule; 4],
    /// (losing streak, cooldown) pairs, longest streak last.
    pub cooldowns: [(u32, i64); 2],
    /// Kelly: the payoff ratio assumed until the profile has
    /// `kelly_min_trips` closed round trips with wins and losses.
    pub kelly_default_payoff: f64,
    pub kelly_min_trips: u32,
}

impl Default for RiskConfig {
    fn default() -> Self {
        Self {
            tier_loss_bps: [200, 400, 600],
            tiers: [
                TierRule {
                    max_trades: 20,
                    spacing_s: 120,
                    min_score: 0.0,
                },
                TierRule {
                    max_trades: 15,
                    spacing_s: 180,
                    min_score: 0.5,
                },
                TierRule {
                    max_trades: 10,
                    spacing_s: 300,
                    min_score: 0.6,
                },
                TierRule {
                    max_trades: 5,
                    spacing_s: 600,
                    min_score: 0.7,
                },
            ],
            cooldowns: [(3, 30 * 60_000), (5, 60 * 60_000)],
            kelly_default_payoff: 1.5,
            kelly_min_trips: 10,
        }
    }
}

impl RiskConfig {
    #[must_use]
    pub const fn rule(&self, tier: RiskTier) -> TierRule {
        match tier {
            RiskTier::Normal => self.tiers[0],
            RiskTier::Caution => self.tiers[1],
            RiskTier::Defensive => self.tiers[2],
            RiskTier::Critical => self.tiers[3],
        }
    }

    /// The tier a day's PnL puts a bankroll in.
    #[must_use]
    pub fn tier_for(&self, daily_pnl: i64, bankroll: Lamports) -> RiskTier {
        if daily_pnl >= 0 || bankroll.0 == 0 {
            return RiskTier::Normal;
        }
        let loss_bps = i128::from(daily_pnl.unsigned_abs()) * 10_000 / i128::from(bankroll.0);
        let [c, d, x] = self.tier_loss_bps.map(i128::from);
        if loss_bps >= x {
            RiskTier::Critical
        } else if loss_bps >= d {
            RiskTier::Defensive
        } else if loss_bps >= c {
            RiskTier::Caution
        } else {
            RiskTier::Normal
        }
    }
}

/// One profile's risk state. Rebuilt at start from the day's fills and
/// recent round trips, so a restart forgets nothing that limits entries.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RiskState {
    /// The UTC day the counters are for.
    pub day: i64,
    /// SOL committed to entries today (pending orders included).
    pub spent: u64,
    pub leader_spent: HashMap<WalletAddress, u64>,
    /// Entries today (pending orders included).
    pub trades: u32,
    /// Realized PnL today.
    pub realized: i64,
    pub last_entry_ms: Option<i64>,
    pub tier: RiskTier,
    pub loss_streak: u32,
    pub cooldown_until_ms: i64,
    pub loss_limit_hit: bool,
    /// Closed round trips (all time since start/restore) for Kelly.
    pub wins: u32,
    pub losses: u32,
    pub win_sum: i128,
    pub loss_sum: i128,
}

/// The SOL an entry will commit, reserved while its order is pending.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reservation {
    pub day: i64,
    pub sol: u64,
    pub leader: WalletAddress,
    pub prev_entry_ms: Option<i64>,
}

impl RiskState {
    /// Starts a new day when `now_ms` is past the current one; returns the
    /// tier change it makes (a new day starts at Normal).
    pub fn roll(&mut self, now_ms: i64) -> Option<RiskEvent> {
        let day = now_ms.div_euclid(DAY_MS);
        if day <= self.day {
            return None;
        }
        let was = self.tier;
        self.day = day;
        self.spent = 0;
        self.leader_spent.clear();
        self.trades = 0;
        self.realized = 0;
        self.loss_limit_hit = false;
        self.tier = RiskTier::Normal;
        (was != RiskTier::Normal).then_some(RiskEvent::TierChanged {
            from: was,
            to: RiskTier::Normal,
            daily_pnl: 0,
        })
    }

    /// Checks every limit for an entry of `sol` from `leader` at `now_ms`.
    /// `open` counts open positions and pending entries.
    pub fn check_entry(
        &self,
        cfg: &RiskConfig,
        s: &ProfileSettings,
        leader: &WalletAddress,
        sol: u64,
        open: u32,
        now_ms: i64,
    ) -> Result<(), SkipReason> {
        if self.loss_limit_hit {
            return Err(SkipReason::DailyLossLimit {
                pnl: self.realized,
                limit: loss_limit(s),
            });
        }
        if s.adaptive && now_ms < self.cooldown_until_ms {
            return Err(SkipReason::Cooldown {
                until_ms: self.cooldown_until_ms,
                losses: self.loss_streak,
            });
        }
        if open >= s.max_open {
            return Err(SkipReason::MaxOpen { max: s.max_open });
        }
        if s.adaptive {
            let rule = cfg.rule(self.tier);
            if self.trades >= rule.max_trades {
                return Err(SkipReason::MaxTrades {
                    max: rule.max_trades,
                    tier: self.tier,
                });
            }
            if let Some(last) = self.last_entry_ms {
                let next = last + i64::from(rule.spacing_s) * 1_000;
                if now_ms < next {
                    return Err(SkipReason::Spacing {
                        wait_s: u32::try_from((next - now_ms + 999) / 1_000).unwrap_or(u32::MAX),
                        tier: self.tier,
                    });
                }
            }
        }
        if s.daily_cap.0 > 0 && self.spent.saturating_add(sol) > s.daily_cap.0 {
            return Err(SkipReason::DailyCap { cap: s.daily_cap });
        }
        let by_leader = self.leader_spent.get(leader).copied().unwrap_or(0);
        if s.leader_cap.0 > 0 && by_leader.saturating_add(sol) > s.leader_cap.0 {
            return Err(SkipReason::LeaderCap { cap: s.leader_cap });
        }
        Ok(())
    }

    /// The risk step for an entry: the order must buy with SOL (and no
    /// tokens in), else it buys nothing and is refused as
    /// [`SkipReason::TooSmall`]; every limit is checked for its size and
    /// leader ([`Self::check_entry`]), then its SOL is reserved
    /// ([`Self::reserve`]) until it fills or fails. `open` counts open
    /// positions and pending entries. Nothing is reserved on a refusal.
    pub(super) fn approve_entry(
        &mut self,
        cfg: &RiskConfig,
        s: &ProfileSettings,
        open: u32,
        order: Order,
    ) -> Result<(RiskApproved<Order>, Reservation), SkipReason> {
        if order.side != Side::Buy || order.sol_in.0 == 0 || order.tokens_in.0 != 0 {
            return Err(SkipReason::TooSmall);
        }
        let now = order.trigger_ms;
        self.check_entry(cfg, s, &order.leader, order.sol_in.0, open, now)?;
        let r = self.reserve(order.leader, order.sol_in.0, now);
        Ok((RiskApproved::approve(order), r))
    }

    /// Commits an approved entry (until its order fills or fails).
    pub fn reserve(&mut self, leader: WalletAddress, sol: u64, now_ms: i64) -> Reservation {
        let r = Reservation {
            day: self.day,
            sol,
            leader,
            prev_entry_ms: self.last_entry_ms,
        };
        self.spent = self.spent.saturating_add(sol);
        *self.leader_spent.entry(leader).or_default() += sol;
        self.trades += 1;
        self.last_entry_ms = Some(now_ms);
        r
    }

    /// An entry filled for `paid` instead of the reserved amount.
    pub fn settle(&mut self, r: &Reservation, paid: u64) {
        if r.day != self.day {
            return;
        }
        self.spent = self.spent.saturating_sub(r.sol).saturating_add(paid);
        let e = self.leader_spent.entry(r.leader).or_default();
        *e = e.saturating_sub(r.sol).saturating_add(paid);
    }

    /// An entry was not executed: give everything back.
    pub fn release(&mut self, r: &Reservation) {
        if r.day != self.day {
            return;
        }
        self.spent = self.spent.saturating_sub(r.sol);
        if let Some(e) = self.leader_spent.get_mut(&r.leader) {
            *e = e.saturating_sub(r.sol);
        }
        self.trades = self.trades.saturating_sub(1);
        self.last_entry_ms = r.prev_entry_ms;
    }

    /// Realized PnL from a sell today; returns the tier change and the
    /// loss limit when either happens.
    pub fn on_realized(
        &mut self,
        cfg: &RiskConfig,
        s: &ProfileSettings,
        pnl: i64,
    ) -> Vec<RiskEvent> {
        self.realized = self.realized.saturating_add(pnl);
        let mut out = Vec::new();
        let tier = cfg.tier_for(self.realized, s.bankroll);
        if s.adaptive && tier != self.tier {
            out.push(RiskEvent::TierChanged {
                from: self.tier,
                to: tier,
                daily_pnl: self.realized,
            });
            self.tier = tier;
        }
        let limit = loss_limit(s);
        if limit.0 > 0
            && !self.loss_limit_hit
            && self.realized <= -(i64::try_from(limit.0).unwrap_or(i64::MAX))
        {
            self.loss_limit_hit = true;
            out.push(RiskEvent::LossLimit {
                pnl: self.realized,
                limit,
            });
        }
        out
    }

    /// A position closed with `pnl`: the losing streak and its cooldown.
    pub fn on_closed(
        &mut self,
        cfg: &RiskConfig,
        s: &ProfileSettings,
        pnl: i64,
        now_ms: i64,
    ) -> Option<RiskEvent> {
        if pnl >= 0 {
            self.wins += 1;
            self.win_sum += i128::from(pnl);
            self.loss_streak = 0;
            return None;
        }
        self.losses += 1;
        self.loss_sum += i128::from(pnl.unsigned_abs());
        self.loss_streak += 1;
        if !s.adaptive {
            return None;
        }
        let pause = cfg
            .cooldowns
            .iter()
            .rev()
            .find(|(streak, _)| self.loss_streak >= *streak)
            .map(|(_, ms)| *ms)?;
        // A cooldown starts when a streak length is reached (3, then 5,
        // then every further loss at 5 or more).
        let first = cfg.cooldowns[0].0;
        let last = cfg.cooldowns[cfg.cooldowns.len() - 1].0;
        if self.loss_streak != first && self.loss_streak < last {
            return None;
        }
        self.cooldown_until_ms = now_ms + pause;
        Some(RiskEvent::Cooldown {
            until_ms: self.cooldown_until_ms,
            losses: self.loss_streak,
        })
    }

    /// The payoff ratio (average win / average loss) for Kelly sizing.
    #[must_use]
    #[allow(clippy::cast_precision_loss, reason = "a ratio for sizing")]
    pub fn payoff(&self, cfg: &RiskConfig) -> f64 {
        if self.wins + self.losses < cfg.kelly_min_trips || self.wins == 0 || self.losses == 0 {
            return cfg.kelly_default_payoff;
        }
        let avg_win = self.win_sum as f64 / f64::from(self.wins);
        let avg_loss = self.loss_sum as f64 / f64::from(self.losses);
        if avg_loss <= 0.0 {
            cfg.kelly_default_payoff
        } else {
            avg_win / avg_loss
        }
    }
}

/// The risk step for an exit: the order must sell tokens the position
/// holds (`0 < tokens_in <= held`) and put no SOL in. A sell of nothing is
/// refused as [`SkipReason::TooSmall`]; anything else that is not a sell
/// of what the position holds (a buy, SOL in, more tokens than held) as
/// [`SkipReason::NoPosition`].
pub(super) fn approve_exit(
    order: Order,
    held: TokenAmount,
) -> Result<RiskApproved<Order>, SkipReason> {
    if order.side != Side::Sell || order.sol_in.0 != 0 || order.tokens_in.0 > held.0 {
        return Err(SkipReason::NoPosition);
    }
    if order.tokens_in.0 == 0 {
        return Err(SkipReason::TooSmall);
    }
    Ok(RiskApproved::approve(order))
}

/// The daily loss limit in lamports (0 = off).
#[must_use]
pub fn loss_limit(s: &ProfileSettings) -> Lamports {
    Lamports(
        u64::try_from(u128::from(s.bankroll.0) * u128::from(s.daily_loss_limit_bps) / 10_000)
            .unwrap_or(u64::MAX),
    )
}

/// Kelly bet: bankroll × min(fraction × (p − (1 − p) / b), cap); `None`
/// when there is no edge.
#[must_use]
#[allow(
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    clippy::cast_precision_loss,
    reason = "a bet size from a probability, clamped to the bankroll"
)]
pub fn kelly_size(s: &ProfileSettings, p: f64, payoff: f64) -> Option<u64> {
    if !(p.is_finite() && payoff.is_finite()) || payoff <= 0.0 {
        return None;
    }
    let f = p - (1.0 - p) / payoff;
    if f <= 0.0 {
        return None;
    }
    let share =
        (f * f64::from(s.kelly_fraction_bps) / 10_000.0).min(f64::from(s.kelly_cap_bps) / 10_000.0);
    let size = (s.bankroll.0 as f64 * share).floor();
    (size >= 1.0).then_some(size as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(n: u8) -> WalletAddress {
        WalletAddress::from_bytes([n; 32])
    }

    #[test]
    fn tiers_follow_the_days_loss() {
        let cfg = RiskConfig::default();
        let bank = Lamports(10_000_000_000);
        assert_eq!(cfg.tier_for(0, bank), RiskTier::Normal);
        assert_eq!(cfg.tier_for(-199_000_000, bank), RiskTier::Normal);
        assert_eq!(cfg.tier_for(-200_000_000, bank), RiskTier::Caution);
        assert_eq!(cfg.tier_for(-400_000_000, bank), RiskTier::Defensive);
        assert_eq!(cfg.tier_for(-600_000_000, bank), RiskTier::Critical);
        assert_eq!(cfg.tier_for(5_000_000_000, bank), RiskTier::Normal);
        let rules: Vec<(u32, u32)> = RiskTier::ALL
            .iter()
            .map(|t| (cfg.rule(*t).max_trades, cfg.rule(*t).spacing_s))
            .collect();
        assert_eq!(rules, [(20, 120), (15, 180), (10, 300), (5, 600)]);
    }

    #[test]
    fn each_tier_spaces_and_counts_entries() {
        let cfg = RiskConfig::default();
        let s = ProfileSettings::default();
        for (tier, spacing, max) in [
            (RiskTier::Normal, 120, 20),
            (RiskTier::Caution, 180, 15),
            (RiskTier::Defensive, 300, 10),
            (RiskTier::Critical, 600, 5),
        ] {
            let mut r = RiskState {
                tier,
                ..RiskState::default()
            };
            r.reserve(w(1), 1, 0);
            let too_soon = i64::from(spacing) * 1_000 - 1_000;
            assert_eq!(
                r.check_entry(&cfg, &s, &w(1), 1, 0, too_soon),
                Err(SkipReason::Spacing { wait_s: 1, tier })
            );
            let later = i64::from(spacing) * 1_000;
            assert!(r.check_entry(&cfg, &s, &w(1), 1, 0, later).is_ok());
            r.trades = max;
            assert_eq!(
                r.check_entry(&cfg, &s, &w(1), 1, 0, later),
                Err(SkipReason::MaxTrades { max, tier })
            );
            let off = ProfileSettings {
                adaptive: false,
                ..ProfileSettings::default()
            };
            assert!(
                r.check_entry(&cfg, &off, &w(1), 1, 0, 0).is_ok(),
                "no tiers when off"
            );
        }
    }

    #[test]
    fn cooldowns_after_three_and_five_losses() {
        let cfg = RiskConfig::default();
        let s = ProfileSettings::default();
        let mut r = RiskState::default();
        assert_eq!(r.on_closed(&cfg, &s, -1, 0), None);
        assert_eq!(r.on_closed(&cfg, &s, -1, 0), None);
        assert_eq!(
            r.on_closed(&cfg, &s, -1, 1_000),
            Some(RiskEvent::Cooldown {
                until_ms: 1_000 + 30 * 60_000,
                losses: 3
            })
        );
        assert_eq!(r.on_closed(&cfg, &s, -1, 2_000), None);
        assert_eq!(
            r.on_closed(&cfg, &s, -1, 3_000),
            Some(RiskEvent::Cooldown {
                until_ms: 3_000 + 60 * 60_000,
                losses: 5
            })
        );
        assert!(matches!(
            r.on_closed(&cfg, &s, -1, 4_000),
            Some(RiskEvent::Cooldown { losses: 6, .. })
        ));
        assert_eq!(r.on_closed(&cfg, &s, 5, 5_000), None);
        assert_eq!(r.loss_streak, 0);
    }

    #[test]
    fn reservations_are_released_and_settled() {
        let cfg = RiskConfig::default();
        let s = ProfileSettings {
            daily_cap: Lamports(300),
            ..ProfileSettings::default()
        };
        let mut r = RiskState::default();
        r.roll(0);
        let a = r.reserve(w(1), 200, 1_000);
        assert_eq!(
            r.check_entry(&cfg, &s, &w(1), 200, 1, 500_000),
            Err(SkipReason::DailyCap { cap: Lamports(300) })
        );
        r.release(&a);
        assert_eq!(r.trades, 0);
        assert_eq!(r.last_entry_ms, None);
        assert!(r.check_entry(&cfg, &s, &w(1), 200, 0, 1_000).is_ok());
        let b = r.reserve(w(1), 200, 1_000);
        r.settle(&b, 150);
        assert_eq!(r.spent, 150);
        assert_eq!(r.leader_spent[&w(1)], 150);
    }

    /// A paper order of profile 1 copying wallet 1 in mint 2.
    fn order(side: Side, sol: u64, tokens: u64) -> Order {
        use crate::domain::{
            ExitReason, IdempotencyKey, Intent, Mode, Platform, ProfileId, Signature, UserRef,
        };
        Order {
            key: IdempotencyKey::copy(ProfileId(1), &Signature::from_bytes(&[3; 64]), side),
            profile: ProfileId(1),
            user: UserRef::new(Platform::Telegram, 1),
            mode: Mode::Paper,
            wallet: None,
            leader: w(1),
            mint: w(2),
            side,
            intent: match side {
                Side::Buy => Intent::Copy,
                Side::Sell => Intent::Exit(ExitReason::LeaderSold),
            },
            sol_in: Lamports(sol),
            tokens_in: TokenAmount(tokens),
            expected_out: 1,
            min_out: 1,
            slippage_bps: 500,
            priority_fee: Lamports(0),
            latency_ms: 0,
            trigger_ms: 7_000,
            ticket: 1,
        }
    }

    #[test]
    fn an_exit_is_approved_only_as_a_sell_of_held_tokens() {
        let held = TokenAmount(1_000);
        for (o, refusal, why) in [
            (order(Side::Buy, 0, 500), SkipReason::NoPosition, "a buy"),
            (
                order(Side::Sell, 0, 1_001),
                SkipReason::NoPosition,
                "more than held",
            ),
            (order(Side::Sell, 5, 500), SkipReason::NoPosition, "SOL in"),
            (order(Side::Sell, 0, 0), SkipReason::TooSmall, "no tokens"),
        ] {
            assert_eq!(approve_exit(o, held), Err(refusal), "{why}");
        }
        assert_eq!(
            approve_exit(order(Side::Sell, 0, 1), TokenAmount(0)),
            Err(SkipReason::NoPosition),
            "nothing held"
        );
        let all = approve_exit(order(Side::Sell, 0, 1_000), held).unwrap();
        assert_eq!(all.tokens_in, held);
        let one = approve_exit(order(Side::Sell, 0, 1), held).unwrap();
        assert_eq!(one.into_inner(), order(Side::Sell, 0, 1));
    }

    #[test]
    fn an_entry_is_approved_only_through_the_checks_and_a_reservation() {
        let cfg = RiskConfig::default();
        let s = ProfileSettings {
            daily_cap: Lamports(300),
            ..ProfileSettings::default()
        };
        let mut r = RiskState::default();
        r.roll(0);
        for (o, why) in [
            (order(Side::Sell, 100, 0), "a sell"),
            (order(Side::Buy, 0, 0), "no SOL"),
            (order(Side::Buy, 100, 5), "tokens in"),
        ] {
            assert_eq!(
                r.approve_entry(&cfg, &s, 0, o),
                Err(SkipReason::TooSmall),
                "{why}"
            );
        }
        // Refused by a limit: nothing reserved.
        assert_eq!(
            r.approve_entry(&cfg, &s, 10, order(Side::Buy, 100, 0)),
            Err(SkipReason::MaxOpen { max: 10 })
        );
        assert_eq!(
            r.approve_entry(&cfg, &s, 0, order(Side::Buy, 400, 0)),
            Err(SkipReason::DailyCap { cap: Lamports(300) })
        );
        assert_eq!((r.spent, r.trades, r.last_entry_ms), (0, 0, None));
        // Approved: the order as built, its SOL reserved for its leader.
        let (o, res) = r
            .approve_entry(&cfg, &s, 0, order(Side::Buy, 200, 0))
            .unwrap();
        assert_eq!(o.get(), &order(Side::Buy, 200, 0));
        assert_eq!((res.sol, res.leader, res.prev_entry_ms), (200, w(1), None));
        assert_eq!((r.spent, r.trades, r.last_entry_ms), (200, 1, Some(7_000)));
        assert_eq!(r.leader_spent[&w(1)], 200);
        // The next one is checked against that reservation (spacing first).
        assert!(matches!(
            r.approve_entry(&cfg, &s, 1, order(Side::Buy, 200, 0)),
            Err(SkipReason::Spacing { .. })
        ));
    }

    #[test]
    fn kelly_sizes_with_fraction_and_cap() {
        let mut s = ProfileSettings {
            bankroll: Lamports(10_000_000_000),
            ..ProfileSettings::default()
        };
        // p = 0.6, b = 1.5: f = 0.6 - 0.4 / 1.5 = 0.3333; half = 0.1667; cap 5%.
        assert_eq!(kelly_size(&s, 0.6, 1.5), Some(500_000_000));
        s.kelly_cap_bps = 10_000;
        let half = kelly_size(&s, 0.6, 1.5).unwrap();
        assert!((1_666_000_000..=1_667_000_000).contains(&half), "{half}");
        assert_eq!(kelly_size(&s, 0.3, 1.5), None);
    }
}
