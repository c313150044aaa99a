//! FIFO lots and realized PnL, fees included, in integers.
//!
//! Cash flows (the definitions every figure in analytics builds on):
//! - a buy's `TradeEvent::sol` is the SOL that went into the curve, net of
//!   the fee; the buyer paid `cost = sol * (10000 + bps) / 10000` (floor);
//! - a sell's `TradeEvent::sol` is the SOL the curve paid out before the
//!   fee; the seller received `proceeds = sol - sol * bps / 10000` (the fee
//!   is floored, as the curve math does).
//!
//! A sell takes the oldest lots first; a lot taken in part gives up its cost
//! pro rata (floor), and the last piece of a lot takes all the cost left, so
//! a closed position realizes exactly `sum(proceeds) - sum(costs)`. Tokens
//! sold beyond the known lots (bought before we saw the wallet, or lots
//! forgotten by the memory bounds) realize nothing: their share of the
//! proceeds is reported as unmatched.
//!
//! Memory bound: at most `cap` lots per book. A buy beyond it merges into
//! the newest lot (tokens and cost add up; the newest lot keeps its own
//! time), which keeps the closed-position identity exact and only blurs the
//! split of cost between partial sells and the hold time of that lot.

use std::collections::VecDeque;

const BPS: u128 = 10_000;

/// What a buy of `net` lamports into the curve cost the buyer.
#[must_use]
pub fn buy_cost(net: u64, fee_bps: u32) -> u64 {
    let v = u128::from(net) * (BPS + u128::from(fee_bps)) / BPS;
    u64::try_from(v).unwrap_or(u64::MAX)
}

/// What a sell for `gross` lamports out of the curve paid the seller.
#[must_use]
pub fn sell_proceeds(gross: u64, fee_bps: u32) -> u64 {
    let fee = u128::from(gross) * u128::from(fee_bps) / BPS;
    gross - u64::try_from(fee).unwrap_or(gross).min(gross)
}

/// One open lot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lot {
    pub tokens: u64,
    /// Cost of the tokens still in the lot, lamports, fees included.
    pub cost: u64,
    pub t_ms: i64,
}

/// Takes up to `want` tokens from a lot; returns (tokens taken, cost taken).
#[inline]
pub(crate) fn take(tokens: &mut u64, cost: &mut u64, want: u64) -> (u64, u64) {
    let got = want.min(*tokens);
    let part = if got == *tokens {
        *cost
    } else {
        u64::try_from(u128::from(*cost) * u128::from(got) / u128::from(*tokens)).unwrap_or(*cost)
    };
    *tokens -= got;
    *cost -= part;
    (got, part)
}

/// The result of matching one sell against the lots.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SellMatch {
    /// Tokens matched against lots.
    pub matched_tokens: u64,
    /// Cost of the matched tokens (the ROI denominator).
    pub matched_cost: u64,
    /// The matched tokens' share of the proceeds.
    pub matched_proceeds: u64,
    /// Tokens sold beyond the lots, and their share of the proceeds.
    pub unmatched_tokens: u64,
    pub unmatched_proceeds: u64,
    /// `matched_proceeds - matched_cost`.
    pub realized: i64,
    /// Lots touched, and the sum of their hold times (sell time - lot time).
    pub lots_touched: u32,
    pub hold_ms: i64,
}

impl SellMatch {
    /// Splits the proceeds between matched and unmatched tokens (floor for
    /// the matched share) and computes the realized PnL.
    pub(crate) fn finish(&mut self, sold: u64, proceeds: u64) {
        self.unmatched_tokens = sold - self.matched_tokens;
        self.matched_proceeds = if self.unmatched_tokens == 0 {
            proceeds
        } else {
            u64::try_from(
                u128::from(proceeds) * u128::from(self.matched_tokens) / u128::from(sold.max(1)),
            )
            .unwrap_or(proceeds)
        };
        self.unmatched_proceeds = proceeds - self.matched_proceeds;
        self.realized =
            i64::try_from(i128::from(self.matched_proceeds) - i128::from(self.matched_cost))
                .unwrap_or(i64::MIN);
    }
}

/// FIFO lots of one (wallet, mint). The analytics keep the same rules on a
/// per-wallet array (see the wallet module); this standalone book is the
/// reference, the benchmark subject and the property-test oracle.
#[derive(Debug, Clone)]
pub struct LotBook {
    lots: VecDeque<Lot>,
    cap: usize,
}

impl LotBook {
    /// A book holding at most `cap` lots (at least one).
    #[must_use]
    pub fn new(cap: usize) -> Self {
        Self {
            lots: VecDeque::new(),
            cap: cap.max(1),
        }
    }

    /// Records a buy of `tokens` for `cost` lamports (fees included).
    pub fn buy(&mut self, tokens: u64, cost: u64, t_ms: i64) {
        if tokens == 0 {
            return;
        }
        if self.lots.len() >= self.cap
            && let Some(last) = self.lots.back_mut()
        {
            last.tokens = last.tokens.saturating_add(tokens);
            last.cost = last.cost.saturating_add(cost);
            return;
        }
        self.lots.push_back(Lot { tokens, cost, t_ms });
    }

    /// Matches a sell of `tokens` returning `proceeds` lamports (fees
    /// deducted) against the oldest lots.
    pub fn sell(&mut self, tokens: u64, proceeds: u64, t_ms: i64) -> SellMatch {
        let mut m = SellMatch::default();
        let mut want = tokens;
        while want > 0 {
            let Some(lot) = self.lots.front_mut() else {
                break;
            };
            let (got, part) = take(&mut lot.tokens, &mut lot.cost, want);
            want -= got;
            m.matched_tokens += got;
            m.matched_cost = m.matched_cost.saturating_add(part);
            m.lots_touched += 1;
            m.hold_ms = m.hold_ms.saturating_add(t_ms.saturating_sub(lot.t_ms));
            if lot.tokens == 0 {
                self.lots.pop_front();
            }
        }
        m.finish(tokens, proceeds);
        m
    }

    /// Tokens held.
    #[must_use]
    pub fn tokens(&self) -> u64 {
        self.lots
            .iter()
            .fold(0u64, |a, l| a.saturating_add(l.tokens))
    }

    /// Cost of the tokens held.
    #[must_use]
    pub fn cost(&self) -> u64 {
        self.lots.iter().fold(0u64, |a, l| a.saturating_add(l.cost))
    }

    #[must_use]
    pub fn lots(&self) -> usize {
        self.lots.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn fee_definitions() {
        // 1 SOL into the curve cost 1.0125 SOL at 125 bps.
        assert_eq!(buy_cost(1_000_000_000, 125), 1_012_500_000);
        // The curve paid 1 SOL: the seller got 0.9875 SOL.
        assert_eq!(sell_proceeds(1_000_000_000, 125), 987_500_000);
        assert_eq!(sell_proceeds(79, 125), 79, "fee floors to 0");
    }

    #[test]
    fn fifo_takes_oldest_first_and_splits_cost_pro_rata() {
        let mut b = LotBook::new(8);
        b.buy(100, 1_000, 0);
        b.buy(100, 3_000, 10);
        let m = b.sell(150, 6_000, 20);
        // 100 @ 1000 + 50 of the second lot (1500).
        assert_eq!(m.matched_cost, 2_500);
        assert_eq!(m.realized, 3_500);
        assert_eq!(m.lots_touched, 2);
        assert_eq!(m.hold_ms, 20 + 10);
        assert_eq!((b.tokens(), b.cost()), (50, 1_500));
        let m = b.sell(100, 1_000, 30);
        assert_eq!(m.matched_tokens, 50);
        assert_eq!(m.unmatched_tokens, 50);
        assert_eq!(m.matched_proceeds, 500);
        assert_eq!(m.unmatched_proceeds, 500);
        assert_eq!(m.realized, 500 - 1_500);
    }

    #[test]
    fn cap_merges_into_the_newest_lot() {
        let mut b = LotBook::new(2);
        b.buy(1, 10, 0);
        b.buy(1, 10, 1);
        b.buy(1, 10, 2);
        assert_eq!(b.lots(), 2);
        assert_eq!((b.tokens(), b.cost()), (3, 30));
    }

    /// One trade of a generated position: buy `n` lamports into the curve
    /// for `t` tokens, or sell a fraction (per mille) of what is held.
    #[derive(Debug, Clone)]
    enum Step {
        Buy { net: u64, tokens: u64 },
        Sell { per_mille: u64, gross: u64 },
    }

    fn step() -> impl Strategy<Value = Step> {
        prop_oneof![
            (1u64..50_000_000_000, 1u64..100_000_000_000_000)
                .prop_map(|(net, tokens)| Step::Buy { net, tokens }),
            (1u64..=1000, 0u64..80_000_000_000)
                .prop_map(|(per_mille, gross)| Step::Sell { per_mille, gross }),
        ]
    }

    proptest! {
        /// Closing a position realizes exactly its cash flow, fees included,
        /// whatever the order and sizes of buys and partial sells, and
        /// whether or not the lot cap merges lots.
        #[test]
        fn closed_position_realizes_its_cash_flow(
            steps in proptest::collection::vec(step(), 1..60),
            cap in 1usize..10,
            bps in 0u32..500,
        ) {
            let mut b = LotBook::new(cap);
            let mut cash: i128 = 0;
            let mut realized: i128 = 0;
            for (i, s) in steps.iter().enumerate() {
                let t = i64::try_from(i).unwrap() * 1_000;
                match *s {
                    Step::Buy { net, tokens } => {
                        let c = buy_cost(net, bps);
                        cash -= i128::from(c);
                        b.buy(tokens, c, t);
                    }
                    Step::Sell { per_mille, gross } => {
                        let held = b.tokens();
                        let n = u64::try_from(u128::from(held) * u128::from(per_mille) / 1000).unwrap();
                        if n == 0 { continue; }
                        let p = sell_proceeds(gross, bps);
                        cash += i128::from(p);
                        let m = b.sell(n, p, t);
                        prop_assert_eq!(m.unmatched_tokens, 0);
                        realized += i128::from(m.realized);
                    }
                }
            }
            // Close what is left.
            let held = b.tokens();
            if held > 0 {
                let p = sell_proceeds(1_000_000, bps);
                cash += i128::from(p);
                realized += i128::from(b.sell(held, p, 0).realized);
            }
            prop_assert_eq!(b.tokens(), 0);
            prop_assert_eq!(b.cost(), 0);
            prop_assert_eq!(realized, cash);
        }
    }
}
