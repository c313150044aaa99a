//! Buys waiting for their outcome, per mint, judged on each trade of the
//! mint in O(log n) per decided buy (not O(pending) per trade):
//! - a min-heap on the win threshold: every buy whose threshold the VWAP
//!   reached is a win;
//! - a max-heap on the loss threshold: every buy whose threshold is at or
//!   above the VWAP is a loss;
//! - a queue in buy order: buys older than the horizon expire as losses.
//!
//! A buy decided through one structure stays in the others as a dead
//! entry (its slot's generation moved on) and is skipped when it surfaces;
//! the heaps are rebuilt when dead entries outnumber live ones.
//!
//! Prices are `lamports << 64 / tokens` (u128); thresholds are compared
//! multiplied out in basis points, so no division per comparison.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};

/// A price as `sol * 2^64 / tokens` (saturating; 0 without tokens).
#[inline]
pub(crate) fn price_key(sol: u128, tokens: u128) -> u128 {
    sol.saturating_mul(1 << 64).checked_div(tokens).unwrap_or(0)
}

#[derive(Debug, Clone, Copy)]
struct Slot {
    wallet: u32,
    generation: u32,
    t_ms: i64,
    live: bool,
}

/// (threshold, slot, generation).
type Key = (u128, u32, u32);

#[derive(Debug, Clone, Default)]
pub(crate) struct PendingBook {
    slots: Vec<Slot>,
    free: Vec<u32>,
    wins: BinaryHeap<Reverse<Key>>,
    losses: BinaryHeap<Key>,
    order: VecDeque<(u32, u32)>,
    live: usize,
}

impl PendingBook {
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.live
    }

    pub fn is_empty(&self) -> bool {
        self.live == 0
    }

    pub fn clear(&mut self) {
        self.slots.clear();
        self.free.clear();
        self.wins.clear();
        self.losses.clear();
        self.order.clear();
        self.live = 0;
    }

    #[inline]
    fn alive(&self, slot: u32, generation: u32) -> bool {
        let s = &self.slots[slot as usize];
        s.live && s.generation == generation
    }

    fn kill(&mut self, slot: u32) -> Slot {
        let s = &mut self.slots[slot as usize];
        let out = *s;
        s.live = false;
        s.generation = s.generation.wrapping_add(1);
        self.free.push(slot);
        self.live -= 1;
        out
    }

    /// Adds a buy at `price` (a [`price_key`]); beyond `cap` live buys the
    /// oldest is dropped undecided (returned: `true`).
    pub fn push(
        &mut self,
        wallet: u32,
        t_ms: i64,
        price: u128,
        win_bps: u32,
        loss_bps: u32,
        cap: usize,
    ) -> bool {
        let mut dropped = false;
        if self.live >= cap.max(1) {
            while let Some((slot, generation)) = self.order.pop_front() {
                if self.alive(slot, generation) {
                    self.kill(slot);
                    dropped = true;
                    break;
                }
            }
        }
        let slot = if let Some(s) = self.free.pop() {
            let e = &mut self.slots[s as usize];
            e.wallet = wallet;
            e.t_ms = t_ms;
            e.live = true;
            s
        } else {
            self.slots.push(Slot {
                wallet,
                generation: 0,
                t_ms,
                live: true,
            });
            u32::try_from(self.slots.len() - 1).unwrap_or(u32::MAX)
        };
        let generation = self.slots[slot as usize].generation;
        self.live += 1;
        let win = price.saturating_mul(10_000 + u128::from(win_bps));
        let loss = price.saturating_mul(10_000u128.saturating_sub(u128::from(loss_bps)));
        self.wins.push(Reverse((win, slot, generation)));
        self.losses.push((loss, slot, generation));
        self.order.push_back((slot, generation));
        dropped
    }

    /// Expires buys older than `horizon_ms` at `now_ms` (losses dated at
    /// their deadline); appends (wallet, win, at) to `out`.
    pub fn expire(&mut self, now_ms: i64, horizon_ms: i64, out: &mut Vec<(u32, bool, i64)>) {
        while let Some(&(slot, generation)) = self.order.front() {
            if !self.alive(slot, generation) {
                self.order.pop_front();
                continue;
            }
            let t = self.slots[slot as usize].t_ms;
            if now_ms - t <= horizon_ms {
                break;
            }
            self.order.pop_front();
            let s = self.kill(slot);
            out.push((s.wallet, false, t + horizon_ms));
        }
        self.maybe_compact();
    }

    /// Judges the buys on the VWAP (a [`price_key`]) at `now_ms`, after
    /// expiring those past the horizon.
    pub fn judge(
        &mut self,
        vwap: u128,
        now_ms: i64,
        horizon_ms: i64,
        out: &mut Vec<(u32, bool, i64)>,
    ) {
        self.expire(now_ms, horizon_ms, out);
        let v = vwap.saturating_mul(10_000);
        while let Some(&Reverse((k, slot, generation))) = self.wins.peek() {
            if !self.alive(slot, generation) {
                self.wins.pop();
                continue;
            }
            if v < k {
                break;
            }
            self.wins.pop();
            let s = self.kill(slot);
            out.push((s.wallet, true, now_ms));
        }
        while let Some(&(k, slot, generation)) = self.losses.peek() {
            if !self.alive(slot, generation) {
                self.losses.pop();
                continue;
            }
            if v > k {
                break;
            }
            self.losses.pop();
            let s = self.kill(slot);
            out.push((s.wallet, false, now_ms));
        }
        self.maybe_compact();
    }

    /// Drops dead heap entries when they outnumber the live ones.
    fn maybe_compact(&mut self) {
        let dead = self.wins.len() + self.losses.len() + self.order.len() - 3 * self.live;
        if dead <= 3 * self.live + 64 {
            return;
        }
        let slots = &self.slots;
        let alive = |slot: u32, generation: u32| {
            let s = &slots[slot as usize];
            s.live && s.generation == generation
        };
        self.wins.retain(|&Reverse((_, s, g))| alive(s, g));
        self.losses.retain(|&(_, s, g)| alive(s, g));
        self.order.retain(|&(s, g)| alive(s, g));
    }

    pub fn heap_bytes(&self) -> usize {
        self.slots.capacity() * size_of::<Slot>()
            + self.free.capacity() * 4
            + (self.wins.capacity() + self.losses.capacity()) * size_of::<Key>()
            + self.order.capacity() * 8
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(sol: u128, tokens: u128) -> u128 {
        price_key(sol, tokens)
    }

    #[test]
    fn judges_at_the_thresholds() {
        let mut b = PendingBook::default();
        let mut out = Vec::new();
        // Bought at 10 lamports/token: +20% = 12, -8% = 9.2.
        b.push(7, 0, key(1_000, 100), 2_000, 800, 10);
        b.judge(key(1_100, 100), 1, 100, &mut out);
        b.judge(key(921, 100), 1, 100, &mut out);
        assert!(out.is_empty());
        b.judge(key(1_200, 100), 2, 100, &mut out);
        assert_eq!(out, vec![(7, true, 2)]);
        b.push(8, 3, key(1_000, 100), 2_000, 800, 10);
        b.judge(key(920, 100), 4, 100, &mut out);
        assert_eq!(out[1], (8, false, 4));
        assert!(b.is_empty());
    }

    #[test]
    fn one_move_decides_many_and_expiry_is_dated_at_the_deadline() {
        let mut b = PendingBook::default();
        let mut out = Vec::new();
        for (i, p) in [10u128, 11, 12, 13, 20].into_iter().enumerate() {
            let w = u32::try_from(i).unwrap();
            b.push(w, i64::from(w), key(p, 1), 2_000, 800, 10);
        }
        // VWAP 14.5: buys at 10, 11 and 12 win (+20% = 12, 13.2, 14.4);
        // the buy at 20 loses (-8% = 18.4).
        b.judge(key(145, 10), 10, 100, &mut out);
        let mut won: Vec<u32> = out.iter().filter(|o| o.1).map(|o| o.0).collect();
        won.sort_unstable();
        assert_eq!(won, [0, 1, 2]);
        assert_eq!(
            out.iter().filter(|o| !o.1).map(|o| o.0).collect::<Vec<_>>(),
            [4]
        );
        assert_eq!(b.len(), 1);
        // The one left expires at its deadline, 3 + 100.
        out.clear();
        b.expire(200, 100, &mut out);
        assert_eq!(out, vec![(3, false, 103)]);
        assert!(b.is_empty());
    }

    #[test]
    fn cap_drops_the_oldest_and_slots_are_reused_safely() {
        let mut b = PendingBook::default();
        let mut out = Vec::new();
        assert!(!b.push(1, 0, key(10, 1), 2_000, 800, 2));
        assert!(!b.push(2, 1, key(10, 1), 2_000, 800, 2));
        assert!(b.push(3, 2, key(10, 1), 2_000, 800, 2));
        assert_eq!(b.len(), 2);
        // The dropped buy's stale heap entries never decide anything.
        b.judge(key(100, 1), 3, 100, &mut out);
        let mut w: Vec<u32> = out.iter().map(|o| o.0).collect();
        w.sort_unstable();
        assert_eq!(w, [2, 3]);
        for i in 0..500 {
            b.push(9, 10 + i, key(10, 1), 2_000, 800, 4);
            b.judge(key(10, 1), 10 + i, 100, &mut out);
        }
        assert!(b.heap_bytes() < 64 * 1024, "dead entries are compacted");
    }
}
