//! Reports from closed round trips and open positions: `/profit` (realized
//! and unrealized PnL, win rate, profit factor, max drawdown, best and
//! worst, per leader) and `/daily` (the last days, UTC).

use std::collections::HashMap;

use crate::domain::{RoundTrip, WalletAddress};

use super::risk::DAY_MS;

/// One leader's share of a profile's results.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeaderLine {
    pub leader: WalletAddress,
    pub trips: u32,
    pub wins: u32,
    pub pnl: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ProfitReport {
    /// Closed round trips plus partial sells of open positions.
    pub realized: i64,
    pub unrealized: i64,
    pub trips: u32,
    pub wins: u32,
    pub losses: u32,
    /// Wins / closed round trips (0 with none).
    pub win_rate: f64,
    /// Gross profit / gross loss; `None` without a losing trip.
    pub profit_factor: Option<f64>,
    /// Largest fall of cumulative realized PnL from a running peak, in
    /// lamports (0 or positive), by close time.
    pub max_drawdown: i64,
    pub best: Option<RoundTrip>,
    pub worst: Option<RoundTrip>,
    /// Best leader first.
    pub per_leader: Vec<LeaderLine>,
}

/// The report over `trips` (any order) plus what open positions add.
#[must_use]
#[allow(clippy::cast_precision_loss, reason = "ratios for display")]
pub fn profit(trips: &[RoundTrip], open_realized: i64, unrealized: i64) -> ProfitReport {
    let mut sorted: Vec<&RoundTrip> = trips.iter().collect();
    sorted.sort_by_key(|t| (t.closed_ms, t.opened_ms));
    let (mut gross_win, mut gross_loss) = (0i128, 0i128);
    let (mut wins, mut losses) = (0u32, 0u32);
    let (mut cum, mut peak, mut dd) = (0i128, 0i128, 0i128);
    let mut by_leader: HashMap<WalletAddress, LeaderLine> = HashMap::new();
    for t in &sorted {
        if t.pnl >= 0 {
            wins += 1;
            gross_win += i128::from(t.pnl);
        } else {
            losses += 1;
            gross_loss += i128::from(t.pnl.unsigned_abs());
        }
        cum += i128::from(t.pnl);
        peak = peak.max(cum);
        dd = dd.max(peak - cum);
        let line = by_leader.entry(t.leader).or_insert(LeaderLine {
            leader: t.leader,
            trips: 0,
            wins: 0,
            pnl: 0,
        });
        line.trips += 1;
        line.wins += u32::from(t.pnl >= 0);
        line.pnl = line.pnl.saturating_add(t.pnl);
    }
    let n = wins + losses;
    let mut per_leader: Vec<LeaderLine> = by_leader.into_values().collect();
    per_leader.sort_by(|a, b| b.pnl.cmp(&a.pnl).then(a.leader.cmp(&b.leader)));
    let realized = i64::try_from(cum)
        .unwrap_or(i64::MAX)
        .saturating_add(open_realized);
    ProfitReport {
        realized,
        unrealized,
        trips: n,
        wins,
        losses,
        win_rate: if n == 0 {
            0.0
        } else {
            f64::from(wins) / f64::from(n)
        },
        profit_factor: (gross_loss > 0).then(|| gross_win as f64 / gross_loss as f64),
        max_drawdown: i64::try_from(dd).unwrap_or(i64::MAX),
        best: sorted
            .iter()
            .max_by_key(|t| (t.pnl, -t.closed_ms))
            .map(|t| (*t).clone()),
        worst: sorted
            .iter()
            .min_by_key(|t| (t.pnl, t.closed_ms))
            .map(|t| (*t).clone()),
        per_leader,
    }
}

/// One UTC day of results.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DayLine {
    /// Unix ms of the day's start.
    pub day_ms: i64,
    pub trips: u32,
    pub wins: u32,
    pub pnl: i64,
    /// SOL put into the trips that closed that day.
    pub volume: u64,
}

/// The last `days` UTC days up to the one holding `now_ms`, newest first,
/// days without trips included.
#[must_use]
pub fn daily(trips: &[RoundTrip], now_ms: i64, days: u32) -> Vec<DayLine> {
    let today = now_ms.div_euclid(DAY_MS);
    (0..i64::from(days))
        .map(|back| {
            let day = today - back;
            let mut line = DayLine {
                day_ms: day * DAY_MS,
                trips: 0,
                wins: 0,
                pnl: 0,
                volume: 0,
            };
            for t in trips
                .iter()
                .filter(|t| t.closed_ms.div_euclid(DAY_MS) == day)
            {
                line.trips += 1;
                line.wins += u32::from(t.pnl >= 0);
                line.pnl = line.pnl.saturating_add(t.pnl);
                line.volume = line.volume.saturating_add(t.cost.0);
            }
            line
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{ExitReason, Lamports, Mode, Platform, ProfileId, UserRef};

    fn trip(leader: u8, closed_ms: i64, pnl: i64) -> RoundTrip {
        let w = WalletAddress::from_bytes([leader; 32]);
        RoundTrip {
            profile: ProfileId(1),
            user: UserRef::new(Platform::Telegram, 1),
            leader: w,
            mint: w,
            mode: Mode::Paper,
            opened_ms: closed_ms - 1,
            closed_ms,
            cost: Lamports(100),
            proceeds: Lamports(u64::try_from(100 + pnl).unwrap()),
            pnl,
            exit: ExitReason::Trailing,
        }
    }

    #[test]
    fn profit_factor_drawdown_best_worst_and_leaders() {
        let trips = vec![
            trip(1, 1, 50),
            trip(2, 2, -20),
            trip(1, 3, -40),
            trip(2, 4, 30),
            trip(1, 5, 10),
        ];
        let r = profit(&trips, 5, -7);
        assert_eq!(r.realized, 35);
        assert_eq!(r.unrealized, -7);
        assert_eq!((r.trips, r.wins, r.losses), (5, 3, 2));
        assert!((r.win_rate - 0.6).abs() < 1e-9);
        assert!((r.profit_factor.unwrap() - 90.0 / 60.0).abs() < 1e-9);
        // Cumulative 50, 30, -10, 20, 30: peak 50, trough -10.
        assert_eq!(r.max_drawdown, 60);
        assert_eq!(r.best.unwrap().pnl, 50);
        assert_eq!(r.worst.unwrap().pnl, -40);
        assert_eq!(r.per_leader[0].pnl, 20);
        assert_eq!(r.per_leader[0].trips, 3);
        assert_eq!(r.per_leader[1].pnl, 10);
        let empty = profit(&[], 0, 0);
        assert_eq!(empty.profit_factor, None);
        assert_eq!(empty.best, None);
    }

    #[test]
    fn daily_lines_cover_empty_days() {
        let now = 10 * DAY_MS + 5;
        let trips = vec![trip(1, 10 * DAY_MS + 1, 5), trip(1, 8 * DAY_MS, -3)];
        let d = daily(&trips, now, 3);
        assert_eq!(d.len(), 3);
        assert_eq!((d[0].trips, d[0].pnl), (1, 5));
        assert_eq!(d[1].trips, 0);
        assert_eq!((d[2].trips, d[2].pnl, d[2].wins), (1, -3, 0));
    }
}
