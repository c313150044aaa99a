//! pump.fun bonding-curve math on virtual reserves, in integers (u128).
//!
//! Constant product `k = VS * VT`. Fees are taken from the SOL side:
//! a buy of `a` gross lamports puts `net = a * 10000 / (10000 + bps)` into the
//! curve; a sell returns the curve's SOL minus `bps` of it.

use crate::domain::{Bps, Lamports, TokenAmount};

/// Initial virtual SOL reserve (30 SOL).
pub const INITIAL_VIRTUAL_SOL: u64 = 30_000_000_000;
/// Initial virtual token reserve (1.073e9 tokens, 6 decimals).
pub const INITIAL_VIRTUAL_TOKENS: u64 = 1_073_000_000_000_000;
/// Tokens sellable by the curve before it completes (793.1e6 tokens).
pub const INITIAL_REAL_TOKENS: u64 = 793_100_000_000_000;
/// Total supply (1e9 tokens).
pub const TOTAL_SUPPLY: u64 = 1_000_000_000_000_000;
/// The virtual token reserve at which the curve completes.
pub const COMPLETE_AT_VIRTUAL_TOKENS: u64 = INITIAL_VIRTUAL_TOKENS - INITIAL_REAL_TOKENS;
/// Default fee: 0.95% protocol + 0.30% creator.
pub const DEFAULT_FEE_BPS: u16 = 125;

const BPS_DENOM: u128 = 10_000;

/// The fee table. Only the total matters for pricing; the split is kept for
/// reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fees {
    pub protocol: Bps,
    pub creator: Bps,
}

impl Fees {
    #[must_use]
    pub fn total_bps(self) -> u128 {
        u128::from(self.protocol.get()) + u128::from(self.creator.get())
    }
}

impl Default for Fees {
    fn default() -> Self {
        Self {
            protocol: Bps::new(95).unwrap_or_default(),
            creator: Bps::new(30).unwrap_or_default(),
        }
    }
}

/// A quote: what a trade would do at the current reserves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quote {
    /// SOL paid (buy, fee included) or received (sell, fee deducted).
    pub sol: Lamports,
    pub tokens: TokenAmount,
    pub fee: Lamports,
}

/// Virtual reserves of one curve.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Curve {
    pub virtual_sol: u64,
    pub virtual_tokens: u64,
}

impl Default for Curve {
    fn default() -> Self {
        Self::fresh()
    }
}

#[allow(
    clippy::cast_possible_truncation,
    reason = "results are bounded by reserves that fit in u64"
)]
fn to_u64(v: u128) -> u64 {
    v.min(u128::from(u64::MAX)) as u64
}

impl Curve {
    /// A curve before its first trade.
    #[must_use]
    pub const fn fresh() -> Self {
        Self {
            virtual_sol: INITIAL_VIRTUAL_SOL,
            virtual_tokens: INITIAL_VIRTUAL_TOKENS,
        }
    }

    #[must_use]
    pub const fn new(virtual_sol: u64, virtual_tokens: u64) -> Self {
        Self {
            virtual_sol,
            virtual_tokens,
        }
    }

    /// The constant product of a standard pump.fun curve.
    #[must_use]
    pub const fn standard_k() -> u128 {
        INITIAL_VIRTUAL_SOL as u128 * INITIAL_VIRTUAL_TOKENS as u128
    }

    /// Tokens the curve can still sell.
    #[must_use]
    pub const fn real_tokens(&self) -> u64 {
        self.virtual_tokens
            .saturating_sub(COMPLETE_AT_VIRTUAL_TOKENS)
    }

    #[must_use]
    pub const fn is_complete(&self) -> bool {
        self.real_tokens() == 0
    }

    /// Progress toward completion in basis points (0 = fresh, 10000 = done).
    #[must_use]
    pub fn progress_bps(&self) -> u16 {
        let sold = u128::from(INITIAL_REAL_TOKENS - self.real_tokens().min(INITIAL_REAL_TOKENS));
        u16::try_from(sold * BPS_DENOM / u128::from(INITIAL_REAL_TOKENS)).unwrap_or(10_000)
    }

    /// Market cap in lamports: price (VS/VT) times total supply.
    #[must_use]
    pub fn market_cap(&self) -> Lamports {
        if self.virtual_tokens == 0 {
            return Lamports(u64::MAX);
        }
        Lamports(to_u64(
            u128::from(self.virtual_sol) * u128::from(TOTAL_SUPPLY)
                / u128::from(self.virtual_tokens),
        ))
    }

    /// Tokens received for `net` lamports put into the curve (fees already
    /// taken), capped by what the curve can still sell.
    #[must_use]
    pub fn tokens_for_net_sol(&self, net: u64) -> u64 {
        let vs = u128::from(self.virtual_sol);
        let vt = u128::from(self.virtual_tokens);
        let n = u128::from(net);
        to_u64((n * vt / (vs + n)).min(u128::from(self.real_tokens())))
    }

    /// SOL the curve pays for `tokens` before fees.
    #[must_use]
    pub fn gross_sol_for_tokens(&self, tokens: u64) -> u64 {
        let vs = u128::from(self.virtual_sol);
        let vt = u128::from(self.virtual_tokens);
        let t = u128::from(tokens);
        to_u64(t * vs / (vt + t))
    }

    /// Quote a buy of `gross` lamports, fees included.
    #[must_use]
    pub fn quote_buy(&self, gross: Lamports, fees: Fees) -> Quote {
        let bps = fees.total_bps();
        let net = to_u64(u128::from(gross.0) * BPS_DENOM / (BPS_DENOM + bps));
        Quote {
            sol: gross,
            tokens: TokenAmount(self.tokens_for_net_sol(net)),
            fee: Lamports(gross.0 - net),
        }
    }

    /// Quote a sell of `tokens`; `sol` is what the seller receives.
    #[must_use]
    pub fn quote_sell(&self, tokens: TokenAmount, fees: Fees) -> Quote {
        let gross = self.gross_sol_for_tokens(tokens.0);
        let fee = to_u64(u128::from(gross) * fees.total_bps() / BPS_DENOM);
        Quote {
            sol: Lamports(gross - fee),
            tokens,
            fee: Lamports(fee),
        }
    }

    /// Applies a trade (SOL net of fees, as on chain) to the reserves.
    pub fn apply(&mut self, is_buy: bool, net_sol: u64, tokens: u64) {
        if is_buy {
            self.virtual_sol = self.virtual_sol.saturating_add(net_sol);
            self.virtual_tokens = self.virtual_tokens.saturating_sub(tokens);
        } else {
            self.virtual_sol = self.virtual_sol.saturating_sub(net_sol);
            self.virtual_tokens = self.virtual_tokens.saturating_add(tokens);
        }
    }

    /// Solves the reserves *before* a trade from that trade alone, on a
    /// standard curve (same `k`). Returns `None` for degenerate input.
    ///
    /// Buy of `s` net lamports for `t` tokens: `t·VS² + t·s·VS − s·k = 0`;
    /// sell: `t·VS² − s·t·VS − s·k = 0`. Solved in f64 (the result is a
    /// reserve estimate; ~1e-12 relative error), then rounded.
    #[must_use]
    #[allow(
        clippy::cast_precision_loss,
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        reason = "estimate checked to be finite and positive before the cast"
    )]
    pub fn solve_before(is_buy: bool, net_sol: u64, tokens: u64) -> Option<Self> {
        if net_sol == 0 || tokens == 0 {
            return None;
        }
        let k = Self::standard_k() as f64;
        let s = net_sol as f64;
        let t = tokens as f64;
        let b = if is_buy { t * s } else { -t * s };
        let disc = b * b + 4.0 * t * s * k;
        let vs = (-b + disc.sqrt()) / (2.0 * t);
        if !vs.is_finite() || vs <= 0.0 {
            return None;
        }
        let vs = vs.round();
        let vt = (k / vs).round();
        if vt <= 0.0 || vt > u64::MAX as f64 || vs > u64::MAX as f64 {
            return None;
        }
        Some(Self::new(vs as u64, vt as u64))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fresh_curve_numbers() {
        let c = Curve::fresh();
        assert_eq!(c.real_tokens(), INITIAL_REAL_TOKENS);
        assert_eq!(c.progress_bps(), 0);
        // 30 SOL * 1e15 / 1.073e15 = ~27.96 SOL market cap.
        assert_eq!(c.market_cap(), Lamports(27_958_993_476));
    }

    #[test]
    fn buy_quote_takes_fee_from_sol_side() {
        let c = Curve::fresh();
        let q = c.quote_buy(Lamports(1_012_500_000), Fees::default());
        // net = 1.0125e9 * 10000 / 10125 = 1e9 exactly.
        assert_eq!(q.fee, Lamports(12_500_000));
        // tokens = 1e9 * 1.073e15 / 31e9
        assert_eq!(q.tokens, TokenAmount(34_612_903_225_806));
    }

    #[test]
    fn sell_after_buy_loses_about_two_fees() {
        let fees = Fees::default();
        let mut c = Curve::fresh();
        let q = c.quote_buy(Lamports(1_000_000_000), fees);
        c.apply(true, q.sol.0 - q.fee.0, q.tokens.0);
        let back = c.quote_sell(q.tokens, fees);
        let lost = 1_000_000_000 - back.sol.0;
        // ~1.23% on the way in plus 1.25% of the way out.
        assert!((24_000_000..25_500_000).contains(&lost), "{lost}");
    }

    #[test]
    fn buy_cannot_exceed_real_tokens() {
        let c = Curve::fresh();
        let q = c.quote_buy(Lamports(10_000_000_000_000), Fees::default());
        assert_eq!(q.tokens.0, INITIAL_REAL_TOKENS);
    }

    #[test]
    fn solve_before_recovers_reserves() {
        let fees = Fees::default();
        let mut c = Curve::fresh();
        for (buy, amount) in [(true, 2_000_000_000_u64), (true, 500_000_000), (false, 0)] {
            let before = c;
            let (net, tokens) = if buy {
                let q = c.quote_buy(Lamports(amount), fees);
                (q.sol.0 - q.fee.0, q.tokens.0)
            } else {
                let t = 10_000_000_000_000;
                (c.gross_sol_for_tokens(t), t)
            };
            c.apply(buy, net, tokens);
            let solved = Curve::solve_before(buy, net, tokens).unwrap();
            let err = solved.virtual_sol.abs_diff(before.virtual_sol);
            assert!(
                err * 1_000_000 <= before.virtual_sol,
                "{solved:?} vs {before:?}"
            );
        }
        assert_eq!(Curve::solve_before(true, 0, 5), None);
    }

    proptest::proptest! {
        #[test]
        fn round_trip_never_profits(amount in 1_000_u64..50_000_000_000) {
            let fees = Fees::default();
            let mut c = Curve::fresh();
            let q = c.quote_buy(Lamports(amount), fees);
            c.apply(true, q.sol.0 - q.fee.0, q.tokens.0);
            let back = c.quote_sell(q.tokens, fees);
            proptest::prop_assert!(back.sol.0 <= amount);
        }
    }
}
