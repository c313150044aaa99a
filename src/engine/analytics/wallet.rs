//! One wallet's state: all-time totals, sparse hourly/daily buckets, the
//! minute buckets of the Bayesian window, open lots, and the counters behind
//! the anti-farming flags.
//!
//! Two shapes with one type: an *active* wallet holds its open lots; a
//! wallet idle for `idle_ms` is *compacted*: lots dropped (later sells of
//! those tokens realize nothing and count as unmatched), hourly buckets
//! pruned, vectors shrunk. What stays is the summary the leaderboards,
//! cards and persistence need (a few hundred bytes, see `docs/benchmarks.md`).

use serde::{Deserialize, Serialize};

use super::fifo::{SellMatch, take};
use super::window::{
    Bucket, DAY_MS, Delta, HOUR_MS, MINUTE_MS, MinuteOutcomes, add_to, period, prune, sum_since,
};
use super::{Flag, Tier};
use crate::domain::WalletAddress;

/// Lot flags.
pub(crate) const LOT_COPIED: u8 = 1;
pub(crate) const LOT_MOVED: u8 = 2;
pub(crate) const LOT_MATCHED: u8 = 4;

/// Wallet flag bits (persisted).
pub(crate) const F_QUICK: u8 = 1;
pub(crate) const F_INTO: u8 = 2;
/// Hidden member of a sybil cluster.
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

/// An open lot of one mint in a wallet's lot array.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct WLot {
    pub mint: u32,
    pub generation: u32,
    pub tokens: u64,
    pub cost: u64,
    pub t_ms: i64,
    /// Time of the last copier's buy (when `LOT_COPIED`).
    pub follow_ms: i64,
    pub flags: u8,
}

/// The last hold times (ms, saturating at u32) of buys that were copied or
/// moved the price.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Holds {
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

    pub fn len(&self) -> usize {
        usize::from(self.len)
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

/// Caps on the lot array.
#[derive(Debug, Clone, Copy)]
pub(crate) struct LotCaps {
    pub per_mint: usize,
    pub per_wallet: usize,
}

#[derive(Debug, Clone)]
pub(crate) struct Wallet {
    pub addr: WalletAddress,
    pub first_ms: i64,
    pub last_ms: i64,
    pub all: Totals,
    pub hourly: Vec<Bucket>,
    pub daily: Vec<Bucket>,
    pub recent: Vec<MinuteOutcomes>,
    pub lots: Vec<WLot>,
    pub holds: Holds,
    /// Sells that matched lots, and those of them sold into followers.
    pub matched_sells: u32,
    pub into_sells: u32,
    /// Cluster id (its best member's index) or `NO_CLUSTER`.
    pub cluster: u32,
    /// All-time win rate (bps) when the tier last changed.
    pub tier_wr_bps: u16,
    /// Discovery: the day of `disc_mask` and one bit per board.
    pub disc_day: u16,
    pub disc_mask: u16,
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
            hourly: Vec::new(),
            daily: Vec::new(),
            recent: Vec::new(),
            lots: Vec::new(),
            holds: Holds::default(),
            matched_sells: 0,
            into_sells: 0,
            cluster: NO_CLUSTER,
            tier_wr_bps: 0,
            disc_day: 0,
            disc_mask: 0,
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
        add_to(&mut self.hourly, period(t_ms, HOUR_MS), d);
        add_to(&mut self.daily, period(t_ms, DAY_MS), d);
    }

    /// Records a decided outcome at `t_ms`; `true` when the wallet's
    /// Bayesian window was empty before (list it for aging).
    pub fn record_outcome(&mut self, win: bool, t_ms: i64) -> bool {
        let d = Delta {
            wins: u32::from(win),
            losses: u32::from(!win),
            ..Delta::default()
        };
        self.apply(&d, t_ms);
        let m = period(t_ms, MINUTE_MS);
        match self.recent.last_mut() {
            Some(last) if last.m == m => {
                if win {
                    last.w = last.w.saturating_add(1);
                } else {
                    last.l = last.l.saturating_add(1);
                }
            }
            _ => self.recent.push(MinuteOutcomes {
                m,
                w: u16::from(win),
                l: u16::from(!win),
            }),
        }
        let newly = self.state & S_IN_RECENT == 0;
        self.state |= S_IN_RECENT;
        newly
    }

    /// Drops buckets that left every window; `true` when the Bayesian
    /// window (`bayes_min` minutes) lost outcomes.
    pub fn prune(&mut self, now_ms: i64, bayes_min: u32) -> bool {
        prune(&mut self.hourly, period(now_ms, HOUR_MS).saturating_sub(23));
        prune(&mut self.daily, period(now_ms, DAY_MS).saturating_sub(29));
        let min_m = period(now_ms, MINUTE_MS).saturating_sub(bayes_min.max(1) - 1);
        let n = self.recent.iter().take_while(|o| o.m < min_m).count();
        if n > 0 {
            self.recent.drain(..n);
        }
        n > 0
    }

    /// Wins and losses decided in the Bayesian window: the current minute
    /// and the `bayes_min - 1` before it.
    pub fn bayes_counts(&self, now_ms: i64, bayes_min: u32) -> (u32, u32) {
        let min_m = period(now_ms, MINUTE_MS).saturating_sub(bayes_min.max(1) - 1);
        self.recent
            .iter()
            .filter(|o| o.m >= min_m)
            .fold((0, 0), |(w, l), o| (w + u32::from(o.w), l + u32::from(o.l)))
    }

    /// Window sums at `now`: [24 h, 7 d, 30 d].
    #[inline]
    pub fn window_sums(&self, now_ms: i64) -> [Bucket; 3] {
        let h24 = sum_since(&self.hourly, period(now_ms, HOUR_MS).saturating_sub(23));
        let d = period(now_ms, DAY_MS);
        let (min7, min30) = (d.saturating_sub(6), d.saturating_sub(29));
        let mut d7 = Bucket::default();
        let mut d30 = Bucket::default();
        for b in self.daily.iter().rev() {
            if b.t < min30 {
                break;
            }
            d30.add(b);
            if b.t >= min7 {
                d7.add(b);
            }
        }
        [h24, d7, d30]
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
        if self.flags & F_SYBIL != 0 {
            v.push(Flag::Sybil);
        }
        v
    }

    /// Adds a lot for a buy; `true` when it opens a position (no open lot of
    /// that mint). Returns also how many lots were forgotten to the caps.
    pub fn buy_lot(&mut self, lot: WLot, caps: LotCaps) -> (bool, u32) {
        let mut same = 0usize;
        let mut newest = None;
        for (i, l) in self.lots.iter().enumerate() {
            if l.mint == lot.mint && l.generation == lot.generation {
                same += 1;
                newest = Some(i);
            }
        }
        let opened = same == 0;
        if same >= caps.per_mint.max(1)
            && let Some(i) = newest
        {
            let l = &mut self.lots[i];
            l.tokens = l.tokens.saturating_add(lot.tokens);
            l.cost = l.cost.saturating_add(lot.cost);
            l.flags |= lot.flags & LOT_MOVED;
            return (opened, 0);
        }
        let mut forgotten = 0;
        if self.lots.len() >= caps.per_wallet.max(1) {
            self.lots.remove(0);
            forgotten = 1;
        }
        self.lots.push(lot);
        (opened, forgotten)
    }

    /// Marks the newest lot of `mint` bought at or before `t_buy` as copied
    /// by a buy at `t_follow`.
    pub fn mark_copied(&mut self, mint: u32, generation: u32, t_buy: i64, t_follow: i64) {
        if let Some(l) = self
            .lots
            .iter_mut()
            .rev()
            .find(|l| l.mint == mint && l.generation == generation && l.t_ms <= t_buy)
        {
            l.flags |= LOT_COPIED;
            l.follow_ms = l.follow_ms.max(t_follow);
        }
    }

    /// Matches a sell against the lots of one mint, oldest first. Records
    /// the first hold of each copied or price-moving lot, and whether the
    /// sell went into followers (a copied lot sold within `sell_into_ms` of
    /// its last copier's buy).
    pub fn sell_lots(
        &mut self,
        mint: u32,
        generation: u32,
        tokens: u64,
        proceeds: u64,
        t_ms: i64,
        sell_into_ms: i64,
    ) -> (SellMatch, bool) {
        let mut m = SellMatch::default();
        let mut into = false;
        let mut want = tokens;
        let mut i = 0;
        while want > 0 && i < self.lots.len() {
            let l = &mut self.lots[i];
            if l.mint != mint || l.generation != generation {
                i += 1;
                continue;
            }
            let (got, part) = take(&mut l.tokens, &mut l.cost, want);
            want -= got;
            m.matched_tokens += got;
            m.matched_cost += part;
            m.lots_touched += 1;
            let hold = t_ms - l.t_ms;
            m.hold_ms += hold;
            if l.flags & LOT_MATCHED == 0 {
                l.flags |= LOT_MATCHED;
                if l.flags & (LOT_COPIED | LOT_MOVED) != 0 {
                    self.holds.push(hold);
                }
            }
            let l = &self.lots[i];
            if l.flags & LOT_COPIED != 0 && t_ms - l.follow_ms <= sell_into_ms {
                into = true;
            }
            if l.tokens == 0 {
                self.lots.remove(i);
            } else {
                i += 1;
            }
        }
        m.finish(tokens, proceeds);
        (m, into)
    }

    /// Drops per-mint state and spare capacity (an idle wallet).
    pub fn compact(&mut self, now_ms: i64, bayes_min: u32) -> bool {
        if self.state & S_COMPACT != 0 {
            return false;
        }
        self.prune(now_ms, bayes_min);
        self.lots = Vec::new();
        self.hourly.shrink_to_fit();
        self.daily.shrink_to_fit();
        self.recent.shrink_to_fit();
        self.state |= S_COMPACT;
        true
    }

    /// Heap bytes owned (capacity), counting an allocator header of 16
    /// bytes per allocation.
    pub fn heap_bytes(&self) -> usize {
        fn v<T>(x: &Vec<T>) -> usize {
            if x.capacity() == 0 {
                0
            } else {
                x.capacity() * size_of::<T>() + 16
            }
        }
        v(&self.hourly) + v(&self.daily) + v(&self.recent) + v(&self.lots)
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
    pub o: Vec<(u32, u16, u16)>,
    pub holds: Vec<u32>,
    pub ms: u32,
    pub is: u32,
    pub tier: Option<Tier>,
    pub twr: u16,
    pub disc: (u16, u16),
    pub f: u8,
    /// Cluster mates and the co-buy count with each (restores clusters).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mates: Vec<(WalletAddress, u32)>,
}

pub(crate) const SNAP_VERSION: u32 = 1;

impl Wallet {
    pub fn snapshot(&self, mates: Vec<(WalletAddress, u32)>) -> SnapV1 {
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
            h: self.hourly.clone(),
            d: self.daily.clone(),
            o: self.recent.iter().map(|o| (o.m, o.w, o.l)).collect(),
            holds: self.holds.to_vec(),
            ms: self.matched_sells,
            is: self.into_sells,
            tier: self.tier,
            twr: self.tier_wr_bps,
            disc: (self.disc_day, self.disc_mask),
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
        w.hourly = s.h;
        w.daily = s.d;
        w.recent =
            s.o.into_iter()
                .map(|(m, w, l)| MinuteOutcomes { m, w, l })
                .collect();
        w.holds = Holds::from_slice(&s.holds);
        w.matched_sells = s.ms;
        w.into_sells = s.is;
        w.tier = s.tier;
        w.tier_wr_bps = s.twr;
        (w.disc_day, w.disc_mask) = s.disc;
        w.flags = s.f & F_FARMING;
        w.state = S_LIVE | S_COMPACT;
        w
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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

    fn lot(mint: u32, tokens: u64, cost: u64, t_ms: i64) -> WLot {
        WLot {
            mint,
            generation: 0,
            tokens,
            cost,
            t_ms,
            follow_ms: 0,
            flags: 0,
        }
    }

    #[test]
    fn lots_of_different_mints_are_independent_fifos() {
        let caps = LotCaps {
            per_mint: 8,
            per_wallet: 64,
        };
        let mut w = Wallet::new(WalletAddress::from_bytes([1; 32]), 0);
        assert!(w.buy_lot(lot(1, 10, 100, 0), caps).0);
        assert!(w.buy_lot(lot(2, 10, 500, 1), caps).0);
        assert!(!w.buy_lot(lot(1, 10, 300, 2), caps).0);
        let (m, _) = w.sell_lots(1, 0, 15, 1_000, 10, 0);
        assert_eq!(m.matched_cost, 100 + 150);
        assert_eq!(m.realized, 750);
        assert_eq!(m.hold_ms, 10 + 8);
        assert_eq!(w.lots.len(), 2);
        // Another generation of the same slot is another mint.
        let (m, _) = w.sell_lots(2, 1, 10, 1_000, 10, 0);
        assert_eq!(m.unmatched_tokens, 10);
    }

    #[test]
    fn caps_merge_per_mint_and_forget_oldest_per_wallet() {
        let caps = LotCaps {
            per_mint: 2,
            per_wallet: 3,
        };
        let mut w = Wallet::new(WalletAddress::from_bytes([1; 32]), 0);
        for i in 0..3 {
            w.buy_lot(lot(1, 1, 10, i), caps);
        }
        assert_eq!(w.lots.len(), 2);
        assert_eq!(w.lots[1].tokens, 2);
        w.buy_lot(lot(2, 1, 10, 5), caps);
        let (_, forgotten) = w.buy_lot(lot(3, 1, 10, 6), caps);
        assert_eq!(forgotten, 1);
        assert_eq!(w.lots.len(), 3);
        assert_eq!(w.lots[0].tokens, 2, "the oldest lot went");
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
        w.record_outcome(true, t0 + 2 * DAY_MS);
        let now = t0 + 2 * DAY_MS + 30 * MINUTE_MS;
        let [h24, d7, d30] = w.window_sums(now);
        assert_eq!((h24.buys, d7.buys, d30.buys), (1, 2, 2));
        assert_eq!(w.bayes_counts(now, 60), (1, 0));
        assert_eq!(w.bayes_counts(now + 29 * MINUTE_MS, 60), (1, 0));
        assert_eq!(w.bayes_counts(now + 30 * MINUTE_MS, 60), (0, 0));
        let later = t0 + 8 * DAY_MS;
        let [h24, d7, d30] = w.window_sums(later);
        assert_eq!((h24.buys, d7.buys, d30.buys), (0, 1, 2));
        assert!(w.prune(later, 60));
        assert!(w.recent.is_empty());
        assert_eq!(w.daily.len(), 2);
        assert!(w.hourly.is_empty());
    }
}
