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
//! The lots themselves live in [`super::position::Position`] (at most a
//! few per position: a buy beyond merges into the newest lot, which keeps
//! the closed-position identity exact and only blurs the split of cost
//! between partial sells and the hold time of that lot).

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fee_definitions() {
        // 1 SOL into the curve cost 1.0125 SOL at 125 bps.
        assert_eq!(buy_cost(1_000_000_000, 125), 1_012_500_000);
        // The curve paid 1 SOL: the seller got 0.9875 SOL.
        assert_eq!(sell_proceeds(1_000_000_000, 125), 987_500_000);
        assert_eq!(sell_proceeds(79, 125), 79, "fee floors to 0");
    }
}
