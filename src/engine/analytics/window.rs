//! Rolling windows as sparse time buckets.
//!
//! A wallet keeps one bucket per *hour* it was active in the last 24 hours
//! and one per *UTC day* it was active in the last 30 days, never a
//! per-trade list. Windows at time `now`:
//! - 24 h = the current hour and the 23 before it (hourly buckets);
//! - 7 d / 30 d = the current UTC day and the 6 / 29 before it (daily).
//!
//! So a window's edge moves in whole hours (24 h) or days (7 d, 30 d), and a
//! figure stays constant between those boundaries; the analytics re-rank on
//! each boundary.

use serde::{Deserialize, Serialize};

use super::Stats;

pub(crate) const MINUTE_MS: i64 = 60_000;
pub(crate) const HOUR_MS: i64 = 3_600_000;
pub(crate) const DAY_MS: i64 = 86_400_000;

/// Tags of hour and day buckets kept in one sorted vector (hours first).
/// Period indices stay far below 2^30 (minutes until year 4011).
pub(crate) const HOUR_TAG: u32 = 1 << 30;
pub(crate) const DAY_TAG: u32 = 2 << 30;
pub(crate) const TAGS: u32 = HOUR_TAG | DAY_TAG;

/// The index of the `unit`-long period holding `ms` (0 before 1970).
#[inline]
pub(crate) fn period(ms: i64, unit: i64) -> u32 {
    u32::try_from(ms.div_euclid(unit).max(0)).unwrap_or(u32::MAX)
}

/// What one trade or outcome adds to a bucket.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Delta {
    pub buys: u32,
    pub sells: u32,
    pub wins: u32,
    pub losses: u32,
    /// Lot pieces closed by sells (the hold-time denominator).
    pub closes: u32,
    /// Positions opened (a buy with no open lot in that mint).
    pub opens: u32,
    pub hold_ms: i64,
    pub pnl: i64,
    /// Cost basis of the sold tokens.
    pub cost: u64,
    pub volume: u64,
}

/// Activity in one hour or day. 56 bytes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "BucketRepr", into = "BucketRepr")]
pub(crate) struct Bucket {
    /// Hour or day index since the epoch.
    pub t: u32,
    pub buys: u32,
    pub sells: u32,
    pub wins: u32,
    pub losses: u32,
    pub closes: u32,
    pub opens: u32,
    /// Sum of hold times, seconds (saturating).
    pub hold_s: u32,
    pub pnl: i64,
    pub cost: u64,
    pub volume: u64,
}

/// The persisted form: a JSON array, not an object (compact).
#[derive(Serialize, Deserialize)]
struct BucketRepr(u32, u32, u32, u32, u32, u32, u32, u32, i64, u64, u64);

impl From<BucketRepr> for Bucket {
    fn from(r: BucketRepr) -> Self {
        Self {
            t: r.0,
            buys: r.1,
            sells: r.2,
            wins: r.3,
            losses: r.4,
            closes: r.5,
            opens: r.6,
            hold_s: r.7,
            pnl: r.8,
            cost: r.9,
            volume: r.10,
        }
    }
}

impl From<Bucket> for BucketRepr {
    fn from(b: Bucket) -> Self {
        Self(
            b.t, b.buys, b.sells, b.wins, b.losses, b.closes, b.opens, b.hold_s, b.pnl, b.cost,
            b.volume,
        )
    }
}

impl Bucket {
    #[inline]
    pub fn apply(&mut self, d: &Delta) {
        self.buys = self.buys.saturating_add(d.buys);
        self.sells = self.sells.saturating_add(d.sells);
        self.wins = self.wins.saturating_add(d.wins);
        self.losses = self.losses.saturating_add(d.losses);
        self.closes = self.closes.saturating_add(d.closes);
        self.opens = self.opens.saturating_add(d.opens);
        if d.hold_ms > 0 {
            let s = u32::try_from(d.hold_ms / 1000).unwrap_or(u32::MAX);
            self.hold_s = self.hold_s.saturating_add(s);
        }
        self.pnl = self.pnl.saturating_add(d.pnl);
        self.cost = self.cost.saturating_add(d.cost);
        self.volume = self.volume.saturating_add(d.volume);
    }

    #[inline]
    pub fn add(&mut self, o: &Self) {
        self.buys = self.buys.saturating_add(o.buys);
        self.sells = self.sells.saturating_add(o.sells);
        self.wins = self.wins.saturating_add(o.wins);
        self.losses = self.losses.saturating_add(o.losses);
        self.closes = self.closes.saturating_add(o.closes);
        self.opens = self.opens.saturating_add(o.opens);
        self.hold_s = self.hold_s.saturating_add(o.hold_s);
        self.pnl = self.pnl.saturating_add(o.pnl);
        self.cost = self.cost.saturating_add(o.cost);
        self.volume = self.volume.saturating_add(o.volume);
    }

    #[inline]
    pub fn trades(&self) -> u32 {
        self.buys.saturating_add(self.sells)
    }

    /// Realized PnL / cost of the sold tokens; 0 when nothing was sold.
    #[allow(
        clippy::cast_precision_loss,
        reason = "a ratio for display and ranking"
    )]
    pub fn roi(&self) -> f64 {
        if self.cost == 0 {
            0.0
        } else {
            self.pnl as f64 / self.cost as f64
        }
    }

    pub fn win_rate(&self) -> f64 {
        let n = self.wins.saturating_add(self.losses);
        if n == 0 {
            0.0
        } else {
            f64::from(self.wins) / f64::from(n)
        }
    }

    pub fn stats(&self) -> Stats {
        Stats {
            realized_pnl: self.pnl,
            unrealized_pnl: 0,
            roi: self.roi(),
            wins: self.wins,
            losses: self.losses,
            trades: self.trades(),
            buys: self.buys,
            sells: self.sells,
            tokens: self.opens,
            volume: self.volume,
            avg_hold_ms: if self.closes == 0 {
                0
            } else {
                i64::from(self.hold_s) * 1000 / i64::from(self.closes)
            },
        }
    }
}

/// A sorted series of buckets (one heap block per wallet).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Series {
    v: Vec<Bucket>,
}

impl Series {
    #[inline]
    pub fn as_slice(&self) -> &[Bucket] {
        &self.v
    }

    /// Adds `d` to the bucket of (tagged) period `t`, creating it in order.
    #[inline]
    pub fn add(&mut self, t: u32, d: &Delta) {
        add_to(&mut self.v, t, d);
    }

    /// Keeps the buckets for which `keep` holds.
    pub fn retain(&mut self, keep: impl Fn(&Bucket) -> bool) {
        self.v.retain(|b| keep(b));
    }

    /// Trims spare capacity.
    pub fn shrink(&mut self) {
        self.v.shrink_to_fit();
    }

    /// A series from sorted buckets.
    pub fn from_sorted(v: Vec<Bucket>) -> Self {
        let mut s = Self { v };
        s.shrink();
        s
    }

    pub fn heap_bytes(&self) -> usize {
        if self.v.capacity() == 0 {
            0
        } else {
            self.v.capacity() * size_of::<Bucket>() + 16
        }
    }
}

/// Adds `d` to the bucket of period `t`, creating it in order.
#[inline]
pub(crate) fn add_to(series: &mut Vec<Bucket>, t: u32, d: &Delta) {
    if let Some(last) = series.last_mut() {
        if last.t == t {
            last.apply(d);
            return;
        }
        if last.t > t {
            // Out of order (rare: feeds are in time order): find or insert.
            let i = series.partition_point(|b| b.t < t);
            if series.get(i).is_some_and(|b| b.t == t) {
                series[i].apply(d);
            } else {
                let mut b = Bucket {
                    t,
                    ..Bucket::default()
                };
                b.apply(d);
                series.insert(i, b);
            }
            return;
        }
    }
    let mut b = Bucket {
        t,
        ..Bucket::default()
    };
    b.apply(d);
    series.push(b);
}

/// The sum of the buckets from `min_t` on.
#[cfg(test)]
pub(crate) fn sum_since(series: &[Bucket], min_t: u32) -> Bucket {
    let mut s = Bucket::default();
    for b in series.iter().rev() {
        if b.t < min_t {
            break;
        }
        s.add(b);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(buys: u32, pnl: i64) -> Delta {
        Delta {
            buys,
            pnl,
            ..Delta::default()
        }
    }

    #[test]
    fn buckets_stay_sorted_and_sum_by_window() {
        let mut s = Vec::new();
        add_to(&mut s, 10, &d(1, 5));
        add_to(&mut s, 12, &d(1, 5));
        add_to(&mut s, 12, &d(1, 5));
        add_to(&mut s, 11, &d(1, -1));
        assert_eq!(s.iter().map(|b| b.t).collect::<Vec<_>>(), [10, 11, 12]);
        assert_eq!(sum_since(&s, 11).buys, 3);
        assert_eq!(sum_since(&s, 11).pnl, 9);
        assert_eq!(sum_since(&s, 0).buys, 4);
    }

    #[test]
    fn series_keeps_order_and_trims() {
        let mut s = Series::default();
        s.add(5, &d(1, 0));
        s.add(3, &d(1, 0));
        s.add(4, &d(1, 0));
        s.add(4, &d(1, 0));
        assert_eq!(
            s.as_slice().iter().map(|b| b.t).collect::<Vec<_>>(),
            [3, 4, 5]
        );
        assert_eq!(s.as_slice()[1].buys, 2);
        s.retain(|b| b.t != 4);
        s.shrink();
        assert_eq!(s.heap_bytes(), 2 * size_of::<Bucket>() + 16);
        assert_eq!(Series::from_sorted(s.as_slice().to_vec()), s);
    }

    #[test]
    fn periods() {
        assert_eq!(period(-5, HOUR_MS), 0);
        assert_eq!(period(HOUR_MS * 3 + 1, HOUR_MS), 3);
        assert_eq!(period(DAY_MS - 1, DAY_MS), 0);
    }

    #[test]
    fn bucket_persists_as_an_array() {
        let b = Bucket {
            t: 7,
            buys: 1,
            pnl: -3,
            ..Bucket::default()
        };
        let j = serde_json::to_string(&b).unwrap();
        assert_eq!(j, "[7,1,0,0,0,0,0,0,-3,0,0]");
        assert_eq!(serde_json::from_str::<Bucket>(&j).unwrap(), b);
    }
}
