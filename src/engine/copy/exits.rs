//! Exit rules of a position, evaluated on every price move of its mint and
//! on the clock: max hold, stop loss, break-even stop, trailing stops,
//! the dynamic first take-profit and an optional ladder. Pure: a position,
//! its value now and the profile's rules in, at most one exit out.
//!
//! Gains are the position's liquidation value (what selling everything now
//! returns, sell fees deducted) over its cost (fees included), so a
//! position at +0% would get back exactly what it paid.
//!
//! The seed rules, in the order they are checked:
//! 1. max hold: sell all after `max_hold_s`;
//! 2. stop loss: sell all at −`stop_loss_bps`;
//! 3. break-even stop: once the gain reaches +8%, a stop at cost is armed
//!    (never below cost from then on); after 60 s armed, the stop trails
//!    the peak at 85% of the peak value unless a trailing tier applies;
//! 4. trailing stops: a peak of +30% reached within 2 min trails at 85% of
//!    the peak value; a peak of +60% trails at 82%. A tier that applies
//!    sets the trail, so a +60% peak trails at 82% with or without the
//!    break-even stop.
//! 5. first take-profit at +`tp1_bps`: sell 12% of the position if hit in
//!    under 60 s, 20% in 1–3 min, 30% later;
//! 6. ladder: each step sells its share of what was bought, once.

use crate::domain::{ExitReason, ExitState, LadderStep, Position, ProfileSettings};

/// Exit rule tunables (engine configuration; the seed rule by default).
#[derive(Debug, Clone, PartialEq)]
pub struct ExitConfig {
    pub be_arm_bps: i64,
    pub be_window_ms: i64,
    /// Trail ratio (bps of the peak value) after the break-even window.
    pub be_trail_bps: i64,
    pub trail1_peak_bps: i64,
    pub trail1_within_ms: i64,
    pub trail1_bps: i64,
    pub trail2_peak_bps: i64,
    pub trail2_bps: i64,
    /// (hit before, share of the position in bps) for the first
    /// take-profit; the last share applies after the last time.
    pub tp1_shares: [(i64, u32); 2],
    pub tp1_late_share: u32,
}

impl Default for ExitConfig {
    fn default() -> Self {
        Self {
            be_arm_bps: 800,
            be_window_ms: 60_000,
            be_trail_bps: 8_500,
            trail1_peak_bps: 3_000,
            trail1_within_ms: 120_000,
            trail1_bps: 8_500,
            trail2_peak_bps: 6_000,
            trail2_bps: 8_200,
            tp1_shares: [(60_000, 1_200), (180_000, 2_000)],
            tp1_late_share: 3_000,
        }
    }
}

/// What the rules decided: sell `tokens` for `reason`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Exit {
    pub reason: ExitReason,
    pub tokens: u64,
}

/// The gain of `value` over `cost`, basis points.
#[must_use]
pub fn gain_bps(value: u64, cost: u64) -> i64 {
    if cost == 0 {
        return 0;
    }
    let g = (i128::from(value) - i128::from(cost)) * 10_000 / i128::from(cost);
    i64::try_from(g).unwrap_or(if g < 0 { i64::MIN } else { i64::MAX })
}

/// Updates the position's peak and break-even state for a new value, then
/// returns the exit the rules call for, if any. `value` is the liquidation
/// value now; `now_ms` the engine clock.
pub fn evaluate(
    cfg: &ExitConfig,
    s: &ProfileSettings,
    p: &mut Position,
    value: u64,
    now_ms: i64,
) -> Option<Exit> {
    let held = p.tokens.0;
    if held == 0 {
        return None;
    }
    let gain = gain_bps(value, p.cost.0);
    let age = now_ms - p.opened_ms;
    track(cfg, &mut p.exit, gain, age, now_ms);
    let all = |reason| {
        Some(Exit {
            reason,
            tokens: held,
        })
    };

    if s.max_hold_s > 0 && age >= i64::from(s.max_hold_s) * 1_000 {
        return all(ExitReason::MaxHold);
    }
    if s.stop_loss_bps > 0 && gain <= -i64::from(s.stop_loss_bps) {
        return all(ExitReason::StopLoss);
    }
    if let Some(reason) = stop_hit(cfg, s, &p.exit, gain, now_ms) {
        return all(reason);
    }
    if s.tp1_bps > 0 && !p.exit.tp1_done && gain >= i64::from(s.tp1_bps) {
        let share = cfg
            .tp1_shares
            .iter()
            .find(|(before, _)| age < *before)
            .map_or(cfg.tp1_late_share, |(_, share)| *share);
        p.exit.tp1_done = true;
        return part(held, held, share, ExitReason::TakeProfit);
    }
    ladder_step(&s.ladder, p, gain)
}

/// Peak, early-peak and break-even bookkeeping; `age` is the time since
/// the position opened.
fn track(cfg: &ExitConfig, e: &mut ExitState, gain: i64, age: i64, now_ms: i64) {
    if gain > e.peak_gain_bps || e.peak_ms == 0 {
        e.peak_gain_bps = e.peak_gain_bps.max(gain);
        e.peak_ms = now_ms;
    }
    if gain >= cfg.trail1_peak_bps && age <= cfg.trail1_within_ms {
        e.early_peak = true;
    }
    if !e.be_armed && gain >= cfg.be_arm_bps {
        e.be_armed = true;
        e.be_since_ms = Some(now_ms);
    }
}

/// The break-even and trailing stops. A trailing tier sets the trail;
/// the break-even's trail (after its window) applies only when no tier
/// does; the break-even floor (at cost) applies whenever it is armed.
fn stop_hit(
    cfg: &ExitConfig,
    s: &ProfileSettings,
    e: &ExitState,
    gain: i64,
    now_ms: i64,
) -> Option<ExitReason> {
    let peak = e.peak_gain_bps;
    // The value as a share of the peak value, bps.
    let of_peak = (10_000 + gain) * 10_000 / (10_000 + peak).max(1);
    let mut trail: Option<i64> = None;
    if s.trailing {
        if peak >= cfg.trail2_peak_bps {
            trail = Some(cfg.trail2_bps);
        } else if e.early_peak {
            trail = Some(cfg.trail1_bps);
        }
    }
    if s.break_even && e.be_armed {
        let armed_at = e.be_since_ms.unwrap_or(now_ms);
        if trail.is_none() && now_ms - armed_at >= cfg.be_window_ms {
            trail = Some(cfg.be_trail_bps);
        }
        if gain <= 0 {
            return Some(ExitReason::BreakEven);
        }
    }
    match trail {
        Some(t) if of_peak <= t && peak > 0 => Some(ExitReason::Trailing),
        _ => None,
    }
}

/// `share` bps of `of` tokens, at most `held`, at least one.
fn part(held: u64, of: u64, share: u32, reason: ExitReason) -> Option<Exit> {
    let n = u64::try_from(u128::from(of) * u128::from(share) / 10_000).unwrap_or(held);
    let tokens = n.clamp(1, held);
    Some(Exit { reason, tokens })
}

fn ladder_step(steps: &[LadderStep], p: &mut Position, gain: i64) -> Option<Exit> {
    for (i, step) in steps.iter().enumerate().take(8) {
        let bit = 1u8 << i;
        if p.exit.ladder_done & bit != 0 || gain < i64::from(step.gain_bps) {
            continue;
        }
        p.exit.ladder_done |= bit;
        let n = u8::try_from(i + 1).unwrap_or(u8::MAX);
        return part(
            p.tokens.0,
            p.bought_tokens.0,
            step.sell_bps,
            ExitReason::Ladder(n),
        );
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A +70% peak reached early; break-even armed at 0.
    fn high_peak() -> ExitState {
        ExitState {
            peak_gain_bps: 7_000,
            peak_ms: 90_000,
            be_armed: true,
            be_since_ms: Some(0),
            early_peak: true,
            ..ExitState::default()
        }
    }

    #[test]
    fn a_trailing_tier_sets_the_trail_after_the_break_even_window() {
        let cfg = ExitConfig::default();
        let s = ProfileSettings::default();
        assert!(s.break_even && s.trailing);
        let e = high_peak();
        let after_window = 120_000;
        // 84% of the peak value (1.7 × 0.84 = 1.428): above the 82% tier.
        assert_eq!(stop_hit(&cfg, &s, &e, 4_280, after_window), None);
        // 82% (1.394).
        assert_eq!(
            stop_hit(&cfg, &s, &e, 3_940, after_window),
            Some(ExitReason::Trailing)
        );
        // Without the break-even stop the tier is the same.
        let no_be = ProfileSettings {
            break_even: false,
            ..ProfileSettings::default()
        };
        assert_eq!(stop_hit(&cfg, &no_be, &e, 4_280, after_window), None);
        assert_eq!(
            stop_hit(&cfg, &no_be, &e, 3_940, after_window),
            Some(ExitReason::Trailing)
        );
    }

    #[test]
    fn the_break_even_trail_applies_only_without_a_tier() {
        let cfg = ExitConfig::default();
        let s = ProfileSettings::default();
        // A slow +20% peak: no tier.
        let e = ExitState {
            peak_gain_bps: 2_000,
            early_peak: false,
            ..high_peak()
        };
        // Inside the window: no trail, only the floor at cost.
        assert_eq!(stop_hit(&cfg, &s, &e, 100, 59_999), None);
        assert_eq!(
            stop_hit(&cfg, &s, &e, 0, 59_999),
            Some(ExitReason::BreakEven)
        );
        // After it: 85% of the peak value (1.2 × 0.85 = 1.02).
        assert_eq!(stop_hit(&cfg, &s, &e, 300, 60_000), None);
        assert_eq!(
            stop_hit(&cfg, &s, &e, 200, 60_000),
            Some(ExitReason::Trailing)
        );
        // The floor stays with a tier active.
        assert_eq!(
            stop_hit(&cfg, &s, &high_peak(), -10, 120_000),
            Some(ExitReason::BreakEven)
        );
    }
}
