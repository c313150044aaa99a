//! The scoring formulas, as pure functions (pinned by unit tests, explained
//! to users by `chat/`).

use super::Tier;

/// Posterior mean of Beta(`alpha` + wins, `beta` + losses).
#[must_use]
pub fn posterior(alpha: f64, beta: f64, wins: u32, losses: u32) -> f64 {
    let a = alpha + f64::from(wins);
    let b = beta + f64::from(losses);
    if a + b <= 0.0 { 0.0 } else { a / (a + b) }
}

/// Recency boost by whole hours since the last trade: 1.3 in the current
/// hour, falling linearly to 1.0 at 24 hours and after.
#[must_use]
pub fn recency_boost(age_hours: i64) -> f64 {
    #[allow(clippy::cast_precision_loss, reason = "clamped to 0..=24")]
    let age = age_hours.clamp(0, 24) as f64;
    1.0 + 0.3 * (24.0 - age) / 24.0
}

/// Size factor by the average buy (lamports, fees included): 1.0 at or
/// below `floor`, 1.5 at or above `cap`, log-linear in between (a 1 SOL
/// average sits half way between 0.1 and 10 SOL).
#[must_use]
#[allow(clippy::cast_precision_loss, reason = "a factor for a score")]
pub fn size_factor(avg_buy: u64, floor: u64, cap: u64) -> f64 {
    if avg_buy <= floor {
        return 1.0;
    }
    if avg_buy >= cap {
        return 1.5;
    }
    let x = (avg_buy as f64 / floor.max(1) as f64).ln() / (cap as f64 / floor.max(1) as f64).ln();
    1.0 + 0.5 * x.clamp(0.0, 1.0)
}

/// Wilson score interval lower bound (95%) of `wins` out of `n`.
#[must_use]
pub fn wilson_lower(wins: u32, n: u32) -> f64 {
    if n == 0 {
        return 0.0;
    }
    let z = 1.96_f64;
    let p = f64::from(wins.min(n)) / f64::from(n);
    let n = f64::from(n);
    let z2 = z * z;
    let centre = p + z2 / (2.0 * n);
    let margin = z * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt();
    ((centre - margin) / (1.0 + z2 / n)).max(0.0)
}

/// Inputs of the performance score.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PerformanceInputs {
    /// All-time win rate of decided outcomes, 0–1.
    pub win_rate: f64,
    /// Realized 7-day ROI (0.5 = +50%).
    pub roi_7d: f64,
    /// 7-day volume, lamports.
    pub volume_7d: u64,
    /// Traded in the 24-hour / 7-day window.
    pub active_24h: bool,
    pub active_7d: bool,
}

/// Performance score 0–100: 40% win rate, 30% 7-day ROI (0 at or below
/// 0, full at `roi_cap`), 15% 7-day volume (full at `volume_cap`), 15%
/// recency (100 if active in 24 h, 50 in 7 d, else 0).
#[must_use]
#[allow(clippy::cast_precision_loss, reason = "a score")]
pub fn performance(i: PerformanceInputs, roi_cap: f64, volume_cap: u64) -> f64 {
    let wr = i.win_rate.clamp(0.0, 1.0) * 100.0;
    let roi = if roi_cap > 0.0 {
        (i.roi_7d / roi_cap).clamp(0.0, 1.0) * 100.0
    } else {
        0.0
    };
    let vol = if volume_cap == 0 {
        100.0
    } else {
        (i.volume_7d as f64 / volume_cap as f64).clamp(0.0, 1.0) * 100.0
    };
    let rec = if i.active_24h {
        100.0
    } else if i.active_7d {
        50.0
    } else {
        0.0
    };
    0.40 * wr + 0.30 * roi + 0.15 * vol + 0.15 * rec
}

/// The tier a score earns with no history: S/A/B at or above
/// `thresholds[0..3]`, C below.
#[must_use]
pub fn tier_for(score: f64, thresholds: [f64; 3]) -> Tier {
    if score >= thresholds[0] {
        Tier::S
    } else if score >= thresholds[1] {
        Tier::A
    } else if score >= thresholds[2] {
        Tier::B
    } else {
        Tier::C
    }
}

/// The next tier with hysteresis: a wallet is promoted only when its score
/// clears the better tier's threshold by `margin`, and demoted only when it
/// falls `margin` below its tier's threshold.
#[must_use]
pub fn next_tier(current: Option<Tier>, score: f64, thresholds: [f64; 3], margin: f64) -> Tier {
    let Some(cur) = current else {
        return tier_for(score, thresholds);
    };
    // Tier derives Ord with S < A < B < C: "less" is better.
    let up = tier_for(score - margin, thresholds);
    if up < cur {
        return up;
    }
    let down = tier_for(score + margin, thresholds);
    if down > cur {
        return down;
    }
    cur
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    #[test]
    fn bayesian_known_values() {
        assert!(close(posterior(3.0, 5.0, 0, 0), 0.375));
        assert!(close(posterior(3.0, 5.0, 10, 0), 13.0 / 18.0));
        assert!((posterior(3.0, 5.0, 10, 0) - 0.722).abs() < 1e-3);
        assert!(close(posterior(3.0, 5.0, 0, 10), 3.0 / 18.0));
        assert!((posterior(3.0, 5.0, 0, 10) - 0.167).abs() < 1e-3);
    }

    #[test]
    fn boosts_are_bounded() {
        assert!(close(recency_boost(0), 1.3));
        assert!(close(recency_boost(12), 1.15));
        assert!(close(recency_boost(24), 1.0));
        assert!(close(recency_boost(1_000), 1.0));
        let (f, c) = (100_000_000, 10_000_000_000);
        assert!(close(size_factor(0, f, c), 1.0));
        assert!(close(size_factor(f, f, c), 1.0));
        assert!(close(size_factor(1_000_000_000, f, c), 1.25));
        assert!(close(size_factor(c, f, c), 1.5));
        assert!(close(size_factor(u64::MAX, f, c), 1.5));
    }

    #[test]
    fn wilson_lower_bound() {
        assert!(close(wilson_lower(0, 0), 0.0));
        // 10/10: 0.7225 (the textbook value).
        assert!((wilson_lower(10, 10) - 0.7225).abs() < 1e-4);
        // 50/100: 0.4038.
        assert!((wilson_lower(50, 100) - 0.4038).abs() < 1e-4);
        assert!(wilson_lower(5, 5) < wilson_lower(50, 50));
    }

    #[test]
    fn performance_weights() {
        let full = PerformanceInputs {
            win_rate: 1.0,
            roi_7d: 5.0,
            volume_7d: u64::MAX,
            active_24h: true,
            active_7d: true,
        };
        assert!(close(performance(full, 1.0, 100), 100.0));
        let half = PerformanceInputs {
            win_rate: 0.5,
            roi_7d: 0.5,
            volume_7d: 50,
            active_24h: false,
            active_7d: true,
        };
        assert!(close(performance(half, 1.0, 100), 50.0));
        let none = PerformanceInputs {
            win_rate: 0.0,
            roi_7d: -3.0,
            volume_7d: 0,
            active_24h: false,
            active_7d: false,
        };
        assert!(close(performance(none, 1.0, 100), 0.0));
    }

    #[test]
    fn tiers_have_hysteresis() {
        let th = [75.0, 60.0, 45.0];
        assert_eq!(next_tier(None, 76.0, th, 5.0), Tier::S);
        assert_eq!(next_tier(None, 50.0, th, 5.0), Tier::B);
        // A at 62 stays A until it falls under 55, and needs 80 for S.
        assert_eq!(next_tier(Some(Tier::A), 78.0, th, 5.0), Tier::A);
        assert_eq!(next_tier(Some(Tier::A), 80.0, th, 5.0), Tier::S);
        assert_eq!(next_tier(Some(Tier::A), 56.0, th, 5.0), Tier::A);
        assert_eq!(next_tier(Some(Tier::A), 54.9, th, 5.0), Tier::B);
        // A collapse falls through several tiers at once.
        assert_eq!(next_tier(Some(Tier::S), 10.0, th, 5.0), Tier::C);
        assert_eq!(next_tier(Some(Tier::C), 90.0, th, 5.0), Tier::S);
    }
}
