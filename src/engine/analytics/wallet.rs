//! One wallet's state: all-time totals, sparse hour and day buckets (in one
//! sorted vector: one heap block per wallet), an inline ring for the
//! Bayesian window, and the counters behind the anti-farming flags. The
//! slot is kept small (under 300 bytes): every trade touches it. Its open lots live in the analytics'
//! position map.
//!
//! A wallet idle for `idle_ms` is *compacted*: its positions are dropped
//! (later sells of those tokens realize nothing and count as unmatched),
//! buckets pruned, the vector shrunk. What stays is the summary the
//! leaderboards, cards and persistence need (a few hundred bytes, see
//! `docs/benchmarks.md`).

use serde::{Deserialize, Serialize};

use super::window::{Bucket, DAY_MS, DAY_TAG, Delta, HOUR_MS, HOUR_TAG, Series, TAGS, period};
use super::{Flag, Metric, Tier, Window};
use crate::domain::WalletAddress;

/// Wallet flag bits (persisted).
pub(crate) const F_QUICK: u8 = 1;
pub(crate) const F_INTO: u8 = 2;
/// Hidden member of a sybil cluster (every member shows `Flag::Sybil`;
/// the best is not hidden).
pub(crate) const F_SYBIL: u8 = 4;
pub(crate) const F_FARMING: u8 = F_QUICK | F_INTO | F_SYBIL;

/// State bits (not persisted).
pub(crate) const S_LIVE: u8 = 1;
pub(crate) const S_DIRTY: u8 = 2;
pub(crate) const S_IN_RECENT: u8 = 4;
pub(crate) const S_COMPACT: u8 = 8;

pub(crate) const NO_CLUSTER: u32 = u32::MAX;

/// Hold times kept for the quick-flip median.
pub(crate) const HOLD_SAMPLES: usize = 8;

/// Slots of the Bayesian window ring (each `bayes_window_ms / 12` long:
/// 5 minutes by default).
pub(crate) const BAYES_SLOTS: usize = 12;

/// Wins and losses of the Bayesian window by slot, inline (no heap): the
/// window at slot `n` is slots `n - 11 ..= n`, so with 5-minute slots an
/// outcome counts for 55 to 60 minutes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct BayesRing {
    /// Absolute index of the newest slot written.
    newest: u32,
    w: [u16; BAYES_SLOTS],
    l: [u16; BAYES_SLOTS],
}

impl BayesRing {
    const N: u32 = BAYES_SLOTS as u32;

    pub fn record(&mut self, slot: u32, win: bool) {
        if slot > self.newest {
            let clear = (slot - self.newest).min(Self::N);
            for k in 0..clear {
                let i = ((slot - k) % Self::N) as usize;
                self.w[i] = 0;
                self.l[i] = 0;
            }
            self.newest = slot;
        } else if slot.saturating_add(Self::N) <= self.newest {
            return; // older than the ring
        }
        let i = (slot % Self::N) as usize;
        if win {
            self.w[i] = self.w[i].saturating_add(1);
        } else {
            self.l[i] = self.l[i].saturating_add(1);
        }
    }

    /// Wins and losses in the window ending at slot `now`.
    pub fn counts(&self, now: u32) -> (u32, u32) {
        let mut wl = (0, 0);
        for k in 0..Self::N {
            let Some(abs) = self.newest.checked_sub(k) else {
                break;
            };
            if abs.saturating_add(Self::N) <= now {
                break;
            }
            if abs > now {
                continue;
            }
            let i = (abs % Self::N) as usize;
            wl.0 += u32::from(self.w[i]);
            wl.1 += u32::from(self.l[i]);
        }
        wl
    }

    /// Non-empty slots as (absolute slot, wins, losses), oldest first.
    pub fn entries(&self) -> Vec<(u32, u16, u16)> {
        (0..Self::N)
            .rev()
            .filter_map(|k| {
                let abs = self.newest.checked_sub(k)?;
                let i = (abs % Self::N) as usize;
                (self.w[i] > 0 || self.l[i] > 0).then_some((abs, self.w[i], self.l[i]))
            })
            .collect()
    }
}

/// The last hold times (ms, saturating at u32) of buys that were copied or
/// moved the price.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Holds {
    s: [u32; HOLD_SAMPLES],
    len: u8,
    head: u8,
}

impl Holds {
    pub fn push(&mut self, ms: i64) {
        let v = u32::try_from(ms.max(0)).unwrap_or(u32::MAX);
        self.s[usize::from(self.head)] = v;
        self.head = (self.head + 1) % HOLD_SAMPLES as u8;
        if usize::from(self.len) < HOLD_SAMPLES {
            self.len += 1;
        }
    }

    #[must_use]
    pub fn len(&self) -> usize {
        usize::from(self.len)
    }

    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Oldest first.
    pub fn to_vec(self) -> Vec<u32> {
        let len = usize::from(self.len);
        let head = usize::from(self.head);
        (0..len)
            .map(|i| self.s[(head + HOLD_SAMPLES - len + i) % HOLD_SAMPLES])
            .collect()
    }

    pub fn from_slice(v: &[u32]) -> Self {
        let mut h = Self::default();
        for &x in v.iter().rev().take(HOLD_SAMPLES).rev() {
            h.push(i64::from(x));
        }
        h
    }

    /// The median (the lower middle for an even count).
    pub fn median(&self) -> Option<u32> {
        let n = usize::from(self.len);
        if n == 0 {
            return None;
        }
        let mut v = self.s;
        let v = &mut v[..n];
        v.sort_unstable();
        Some(v[(n - 1) / 2])
    }
}

/// All-time totals: a bucket plus what buckets do not carry.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Totals {
    pub b: Bucket,
    pub hold_ms: u64,
    /// Best single sell's realized PnL.
    pub best: i64,
    pub unmatched_sells: u32,
    pub unmatched_sol: u64,
    /// Sum of buy costs (the size factor's average bet).
    pub buy_cost: u64,
}

#[derive(Debug, Clone)]
pub(crate) struct Wallet {
    pub addr: WalletAddress,
    pub first_ms: i64,
    pub last_ms: i64,
    pub all: Totals,
    /// Hour buckets (`HOUR_TAG`) then day buckets (`DAY_TAG`), sorted.
    pub series: Series,
    pub bayes: BayesRing,
    pub holds: Holds,
    /// Open positions in the position map.
    pub open: u16,
    /// Sells that matched lots.
    pub matched_sells: u32,
    /// Buys (lots) sold from, and those of them sold into followers.
    pub sold_lots: u32,
    pub into_lots: u32,
    /// Cluster id (its best member's index) or `NO_CLUSTER`.
    pub cluster: u32,
    /// All-time win rate (bps) when the tier last changed.
    pub tier_wr_bps: u16,
    /// One bit per board the wallet is a member of.
    pub board_mask: u16,
    pub tier: Option<Tier>,
    pub flags: u8,
    pub state: u8,
}

impl Wallet {
    pub fn new(addr: WalletAddress, t_ms: i64) -> Self {
        Self {
            addr,
            first_ms: t_ms,
            last_ms: t_ms,
            all: Totals::default(),
            series: Series::default(),
            bayes: BayesRing::default(),
            holds: Holds::default(),
            open: 0,
            matched_sells: 0,
            sold_lots: 0,
            into_lots: 0,
            cluster: NO_CLUSTER,
            tier_wr_bps: 0,
            board_mask: 0,
            tier: None,
            flags: 0,
            state: S_LIVE,
        }
    }

    #[inline]
    pub fn touch(&mut self, t_ms: i64) {
        self.first_ms = self.first_ms.min(t_ms);
        self.last_ms = self.last_ms.max(t_ms);
        self.state &= !S_COMPACT;
    }

    /// Adds a delta to the totals and to the hour and day buckets of `t_ms`.
    #[inline]
    pub fn apply(&mut self, d: &Delta, t_ms: i64) {
        self.all.b.apply(d);
        self.all.hold_ms = self
            .all
            .hold_ms
            .saturating_add(u64::try_from(d.hold_ms.max(0)).unwrap_or(0));
        self.series.add(HOUR_TAG | period(t_ms, HOUR_MS), d);
        self.series.add(DAY_TAG | period(t_ms, DAY_MS), d);
    }

    /// Records a decided outcome at `t_ms` (in Bayesian slots of
    /// `slot_ms`); `true` when the wallet was not listed for the Bayesian
    /// window's aging.
    pub fn record_outcome(&mut self, win: bool, t_ms: i64, slot_ms: i64) -> bool {
        let d = Delta {
            wins: u32::from(win),
            losses: u32::from(!win),
            ..Delta::default()
        };
        self.apply(&d, t_ms);
        self.bayes.record(period(t_ms, slot_ms), win);
        let newly = self.state & S_IN_RECENT == 0;
        self.state |= S_IN_RECENT;
        newly
    }

    /// Wins and losses in the Bayesian window at `now_ms`.
    pub fn bayes_counts(&self, now_ms: i64, slot_ms: i64) -> (u32, u32) {
        self.bayes.counts(period(now_ms, slot_ms))
    }

    /// Drops buckets that left every window.
    pub fn prune(&mut self, now_ms: i64) {
        let min_h = HOUR_TAG | period(now_ms, HOUR_MS).saturating_sub(23);
        let min_d = DAY_TAG | period(now_ms, DAY_MS).saturating_sub(29);
        let s = self.series.as_slice();
        if s.first().is_some_and(|b| b.t < min_h) || s.iter().any(|b| b.t >= DAY_TAG && b.t < min_d)
        {
            self.series.retain(|b| {
                if b.t >= DAY_TAG {
                    b.t >= min_d
                } else {
                    b.t >= min_h
                }
            });
        }
    }

    /// Window sums at `now`: [24 h, 7 d, 30 d].
    #[inline]
    pub fn window_sums(&self, now_ms: i64) -> [Bucket; 3] {
        let min_h = HOUR_TAG | period(now_ms, HOUR_MS).saturating_sub(23);
        let d = period(now_ms, DAY_MS);
        let (min7, min30) = (
            DAY_TAG | d.saturating_sub(6),
            DAY_TAG | d.saturating_sub(29),
        );
        let mut h24 = Bucket::default();
        let mut d7 = Bucket::default();
        let mut d30 = Bucket::default();
        for b in self.series.as_slice() {
            if b.t >= DAY_TAG {
                if b.t >= min30 {
                    d30.add(b);
                    if b.t >= min7 {
                        d7.add(b);
                    }
                }
            } else if b.t >= min_h {
                h24.add(b);
            }
        }
        [h24, d7, d30]
    }

    /// Hour and day buckets, untagged (persistence).
    pub fn split_series(&self) -> (Vec<Bucket>, Vec<Bucket>) {
        let untag = |b: &Bucket| Bucket {
            t: b.t & !TAGS,
            ..*b
        };
        let s = self.series.as_slice();
        let h = s.iter().filter(|b| b.t < DAY_TAG).map(untag).collect();
        let d = s.iter().filter(|b| b.t >= DAY_TAG).map(untag).collect();
        (h, d)
    }

    pub fn decided(&self) -> u32 {
        self.all.b.wins.saturating_add(self.all.b.losses)
    }

    pub fn avg_buy(&self) -> u64 {
        if self.all.b.buys == 0 {
            0
        } else {
            self.all.buy_cost / u64::from(self.all.b.buys)
        }
    }

    pub fn win_rate_bps(&self) -> u16 {
        let n = self.decided();
        if n == 0 {
            0
        } else {
            u16::try_from(u64::from(self.all.b.wins) * 10_000 / u64::from(n)).unwrap_or(10_000)
        }
    }

    pub fn flag_list(&self) -> Vec<Flag> {
        let mut v = Vec::new();
        if self.flags & F_QUICK != 0 {
            v.push(Flag::QuickFlip);
        }
        if self.flags & F_INTO != 0 {
            v.push(Flag::SoldIntoFollowers);
        }
        if self.flags & F_SYBIL != 0 || self.cluster != NO_CLUSTER {
            v.push(Flag::Sybil);
        }
        v
    }

    /// Marks an idle wallet compacted (the caller drops its positions),
    /// prunes its buckets and trims spare capacity; `true` the first time.
    pub fn compact(&mut self, now_ms: i64) -> bool {
        let before = self.series.as_slice().len();
        self.prune(now_ms);
        let first = self.state & S_COMPACT == 0;
        if first || self.series.as_slice().len() != before {
            self.series.shrink();
        }
        self.state |= S_COMPACT;
        first
    }

    /// Heap bytes owned (capacity), counting an allocator header of 16
    /// bytes per allocation.
    pub fn heap_bytes(&self) -> usize {
        self.series.heap_bytes()
    }
}

/// The persisted form of a wallet, version 1 (short keys, arrays for
/// buckets: it is written in batches for every changed wallet).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct SnapV1 {
    pub v: u32,
    pub first: i64,
    pub last: i64,
    pub all: Bucket,
    pub hold_ms: u64,
    pub best: i64,
    pub um_sells: u32,
    pub um_sol: u64,
    pub buy_cost: u64,
    pub h: Vec<Bucket>,
    pub d: Vec<Bucket>,
    /// Bayesian window slots: (slot index, wins, losses).
    pub o: Vec<(u32, u16, u16)>,
    pub holds: Vec<u32>,
    pub ms: u32,
    /// Buys sold from, and of them sold into followers (0 in states saved
    /// when the flag counted sells: it starts again).
    #[serde(default)]
    pub sl: u32,
    #[serde(default)]
    pub il: u32,
    pub tier: Option<Tier>,
    pub twr: u16,
    /// Last sightings in the top of a board (discovery memory), by board:
    /// (metric, window, minute index). Absent in states saved before it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub top: Vec<(Metric, Window, u32)>,
    pub f: u8,
    /// Cluster mates and the co-buy count with each (restores clusters).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mates: Vec<(WalletAddress, u32)>,
}

pub(crate) const SNAP_VERSION: u32 = 1;

impl Wallet {
    pub fn snapshot(
        &self,
        mates: Vec<(WalletAddress, u32)>,
        top: Vec<(Metric, Window, u32)>,
    ) -> SnapV1 {
        let (h, d) = self.split_series();
        SnapV1 {
            v: SNAP_VERSION,
            first: self.first_ms,
            last: self.last_ms,
            all: self.all.b,
            hold_ms: self.all.hold_ms,
            best: self.all.best,
            um_sells: self.all.unmatched_sells,
            um_sol: self.all.unmatched_sol,
            buy_cost: self.all.buy_cost,
            h,
            d,
            o: self.bayes.entries(),
            holds: self.holds.to_vec(),
            ms: self.matched_sells,
            sl: self.sold_lots,
            il: self.into_lots,
            tier: self.tier,
            twr: self.tier_wr_bps,
            top,
            f: self.flags,
            mates,
        }
    }

    pub fn from_snapshot(addr: WalletAddress, s: SnapV1) -> Self {
        let mut w = Self::new(addr, s.first);
        w.last_ms = s.last;
        w.all = Totals {
            b: s.all,
            hold_ms: s.hold_ms,
            best: s.best,
            unmatched_sells: s.um_sells,
            unmatched_sol: s.um_sol,
            buy_cost: s.buy_cost,
        };
        for (slot, wins, losses) in s.o {
            for _ in 0..wins {
                w.bayes.record(slot, true);
            }
            for _ in 0..losses {
                w.bayes.record(slot, false);
            }
        }
        let mut series: Vec<Bucket> =
            s.h.into_iter()
                .map(|b| Bucket {
                    t: HOUR_TAG | (b.t & !TAGS),
                    ..b
                })
                .chain(s.d.into_iter().map(|b| Bucket {
                    t: DAY_TAG | (b.t & !TAGS),
                    ..b
                }))
                .collect();
        series.sort_unstable_by_key(|b| b.t);
        w.series = Series::from_sorted(series);
        w.holds = Holds::from_slice(&s.holds);
        w.matched_sells = s.ms;
        w.sold_lots = s.sl;
        w.into_lots = s.il.min(s.sl);
        w.tier = s.tier;
        w.tier_wr_bps = s.twr;
        w.flags = s.f & F_FARMING;
        w.state = S_LIVE | S_COMPACT;
        w
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::analytics::window::MINUTE_MS;

    #[test]
    fn holds_keep_the_last_samples_and_median() {
        let mut h = Holds::default();
        assert_eq!(h.median(), None);
        for x in [50, 10, 30] {
            h.push(x);
        }
        assert_eq!(h.median(), Some(30));
        for x in 0..10 {
            h.push(x * 1_000);
        }
        assert_eq!(h.len(), HOLD_SAMPLES);
        assert_eq!(h.to_vec(), (2..10).map(|x| x * 1_000).collect::<Vec<u32>>());
        assert_eq!(h.median(), Some(5_000));
        assert_eq!(Holds::from_slice(&h.to_vec()).to_vec(), h.to_vec());
        h.push(-5);
        assert_eq!(h.to_vec()[7], 0);
    }

    #[test]
    fn bayes_ring_keeps_twelve_slots() {
        let mut r = BayesRing::default();
        r.record(100, true);
        r.record(100, false);
        r.record(105, true);
        assert_eq!(r.counts(105), (2, 1));
        assert_eq!(r.counts(111), (2, 1));
        assert_eq!(r.counts(112), (1, 0), "slot 100 left");
        assert_eq!(r.counts(117), (0, 0));
        assert_eq!(r.entries(), vec![(100, 1, 1), (105, 1, 0)]);
        r.record(130, true);
        assert_eq!(r.entries(), vec![(130, 1, 0)]);
        r.record(110, true); // too old: ignored
        assert_eq!(r.counts(130), (1, 0));
    }

    #[test]
    fn windows_and_bayes_window_roll() {
        let mut w = Wallet::new(WalletAddress::from_bytes([1; 32]), 0);
        let t0 = 100 * DAY_MS;
        let d = Delta {
            buys: 1,
            volume: 10,
            ..Delta::default()
        };
        w.apply(&d, t0);
        w.apply(&d, t0 + 2 * DAY_MS);
        w.record_outcome(true, t0 + 2 * DAY_MS, 5 * MINUTE_MS);
        let now = t0 + 2 * DAY_MS + 30 * MINUTE_MS;
        let [h24, d7, d30] = w.window_sums(now);
        assert_eq!((h24.buys, d7.buys, d30.buys), (1, 2, 2));
        let slot = 5 * MINUTE_MS;
        assert_eq!(w.bayes_counts(now, slot), (1, 0));
        assert_eq!(w.bayes_counts(now + 29 * MINUTE_MS, slot), (1, 0));
        assert_eq!(w.bayes_counts(now + 30 * MINUTE_MS, slot), (0, 0));
        let later = t0 + 8 * DAY_MS;
        let [h24, d7, d30] = w.window_sums(later);
        assert_eq!((h24.buys, d7.buys, d30.buys), (0, 1, 2));
        w.prune(later);
        assert_eq!(w.bayes_counts(later, 5 * MINUTE_MS), (0, 0));
        let (h, d) = w.split_series();
        assert!(h.is_empty());
        assert_eq!(d.iter().map(|b| b.t).collect::<Vec<_>>(), [100, 102]);
        let t = Wallet::from_snapshot(w.addr, w.snapshot(Vec::new(), Vec::new()));
        assert_eq!(t.series, w.series);
        // A month on, the days go too.
        w.prune(t0 + 31 * DAY_MS);
        assert_eq!(w.split_series().1.len(), 1);
    }
}
