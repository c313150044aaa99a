//! Safety checks before an entry, and the token gates of a profile:
//! sellability (someone other than the creator sold lately), price impact
//! on the curve, curve state, market cap, age and curve progress, the
//! blacklist. The live-mode mint screen is [`super::screen`].

use crate::domain::{Address, Mint, ProfileSettings, SkipReason, TradeEvent, WalletAddress};
use crate::engine::curve::Curve;

/// How far back a non-creator sell proves the token sellable.
pub const SELLABLE_WITHIN_MS: i64 = 60_000;

/// What the engine remembers of a mint for safety checks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MintTape {
    /// The wallet that launched it, when the launch was seen.
    pub creator: Option<WalletAddress>,
    pub launched_ms: Option<i64>,
    /// The last sell by a wallet other than the creator.
    pub last_foreign_sell_ms: Option<i64>,
    pub last_ms: i64,
}

impl MintTape {
    pub fn observe(&mut self, ev: &TradeEvent) {
        if ev.created {
            self.creator = Some(ev.trader);
            self.launched_ms = Some(ev.timestamp_ms);
        }
        if ev.side == crate::domain::Side::Sell && self.creator != Some(ev.trader) {
            self.last_foreign_sell_ms = Some(ev.timestamp_ms);
        }
        self.last_ms = self.last_ms.max(ev.timestamp_ms);
    }

    /// A wallet other than the creator sold within the last minute. When
    /// the launch was not seen, any seller counts (the creator is unknown).
    #[must_use]
    pub fn sellable(&self, now_ms: i64) -> bool {
        self.last_foreign_sell_ms
            .is_some_and(|t| now_ms - t <= SELLABLE_WITHIN_MS)
    }
}

/// The token gates and curve checks that need no size: blacklist, curve
/// state, market cap, age, progress and sellability.
pub fn check_token(
    s: &ProfileSettings,
    mint: &Mint,
    curve: &Curve,
    tape: &MintTape,
    now_ms: i64,
) -> Result<(), SkipReason> {
    let listed = |a: &Address| s.blacklist.contains(a);
    if listed(mint) || tape.creator.as_ref().is_some_and(listed) {
        return Err(SkipReason::Blacklisted);
    }
    if curve.is_complete() {
        return Err(SkipReason::CurveComplete);
    }
    let mcap = curve.market_cap();
    if s.mcap_min.0 > 0 && mcap < s.mcap_min {
        return Err(SkipReason::McapTooLow {
            mcap,
            min: s.mcap_min,
        });
    }
    if s.mcap_max.0 > 0 && mcap > s.mcap_max {
        return Err(SkipReason::McapTooHigh {
            mcap,
            max: s.mcap_max,
        });
    }
    if s.age_min_s > 0 || s.age_max_s > 0 {
        let Some(launched) = tape.launched_ms else {
            return Err(SkipReason::AgeUnknown);
        };
        let age_s = u32::try_from((now_ms - launched).max(0) / 1_000).unwrap_or(u32::MAX);
        if s.age_min_s > 0 && age_s < s.age_min_s {
            return Err(SkipReason::TooYoung {
                age_s,
                min_s: s.age_min_s,
            });
        }
        if s.age_max_s > 0 && age_s > s.age_max_s {
            return Err(SkipReason::TooOld {
                age_s,
                max_s: s.age_max_s,
            });
        }
    }
    let progress = u32::from(curve.progress_bps());
    if s.progress_min_bps > 0 && progress < s.progress_min_bps {
        return Err(SkipReason::ProgressTooLow {
            bps: progress,
            min: s.progress_min_bps,
        });
    }
    if s.progress_max_bps > 0 && progress > s.progress_max_bps {
        return Err(SkipReason::ProgressTooHigh {
            bps: progress,
            max: s.progress_max_bps,
        });
    }
    if s.sellability && !tape.sellable(now_ms) {
        return Err(SkipReason::NotSellable);
    }
    Ok(())
}

/// The price impact of buying with `net` lamports (after fees) on the
/// curve, in basis points: the average price paid over the spot price,
/// minus one. On a constant product curve that is `net / VS`.
#[must_use]
pub fn buy_impact_bps(curve: &Curve, net: u64) -> u32 {
    if curve.virtual_sol == 0 {
        return u32::MAX;
    }
    u32::try_from(u128::from(net) * 10_000 / u128::from(curve.virtual_sol)).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn impact_is_net_over_virtual_sol() {
        let c = Curve::new(30_000_000_000, 1_073_000_000_000_000);
        assert_eq!(buy_impact_bps(&c, 300_000_000), 100);
        assert_eq!(buy_impact_bps(&c, 30_000_000), 10);
    }
}
