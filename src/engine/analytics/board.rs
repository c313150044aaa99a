//! Incremental top-N leaderboards, one per (metric, window).
//!
//! A board keeps the best `cap = 2 * top_n` wallets in a `BTreeSet` ordered
//! best first, and a `floor`: an entry no better than any wallet outside the
//! board. Invariant: every member is better than `floor`, every eligible
//! non-member is no better than it, so the members are exactly the best
//! `len` wallets and a page is a walk of the set, never a sort.
//!
//! When a wallet's value changes, a non-member is compared with the floor
//! (one comparison for almost every wallet); a member is re-inserted, or
//! leaves the board if it fell under the floor. When fewer than `top_n`
//! members remain while wallets outside exist, the board is refilled by a
//! scan of all wallets (rare: it takes `top_n` members falling out).

use std::collections::BTreeSet;

use super::hash::FxHashMap;

/// A board entry; the derived order is the ranking: higher value first
/// (`inv` is the bitwise NOT of the order key), then wallet address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Entry {
    pub inv: u64,
    pub addr: [u8; 32],
    pub idx: u32,
}

impl Entry {
    pub fn new(key: u64, addr: [u8; 32], idx: u32) -> Self {
        Self {
            inv: !key,
            addr,
            idx,
        }
    }
}

/// Order-preserving map of an `f64` to `u64` (NaN is treated as 0).
#[inline]
pub(crate) fn f64_key(v: f64) -> u64 {
    let v = if v.is_nan() { 0.0 } else { v + 0.0 };
    let b = v.to_bits();
    if b >> 63 == 1 { !b } else { b | (1 << 63) }
}

/// Order-preserving map of an `i64` to `u64`.
#[inline]
pub(crate) fn i64_key(v: i64) -> u64 {
    (v as u64) ^ (1 << 63)
}

/// What an update did to the wallet's membership.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Update {
    pub member: bool,
    /// Another wallet pushed out of the board.
    pub evicted: Option<u32>,
}

#[derive(Debug, Clone)]
pub(crate) struct Board {
    set: BTreeSet<Entry>,
    members: FxHashMap<u32, Entry>,
    floor: Option<Entry>,
    top_n: usize,
    cap: usize,
    /// The `top_k`-th member (None: fewer members), recomputed lazily when
    /// a change reaches it: "is this wallet in the top k" is then one
    /// comparison.
    top_k: usize,
    gate: Option<Entry>,
    gate_dirty: bool,
}

impl Board {
    pub fn new(top_n: usize, top_k: usize) -> Self {
        let top_n = top_n.max(1);
        Self {
            set: BTreeSet::new(),
            members: FxHashMap::default(),
            floor: None,
            top_n,
            cap: top_n * 2,
            top_k: top_k.max(1),
            gate: None,
            gate_dirty: true,
        }
    }

    #[inline]
    fn touch_gate(&mut self, e: &Entry) {
        if self.gate.is_none_or(|g| *e <= g) {
            self.gate_dirty = true;
        }
    }

    pub const fn cap(&self) -> usize {
        self.cap
    }

    /// Applies a wallet's new order key (`None`: not eligible); `member`
    /// says whether it is on the board now (the caller tracks it).
    pub fn update(&mut self, idx: u32, addr: &[u8; 32], key: Option<u64>, member: bool) -> Update {
        if member && let Some(old) = self.members.get(&idx) {
            if key == Some(!old.inv) {
                return Update {
                    member: true,
                    evicted: None,
                };
            }
            let old = *old;
            self.members.remove(&idx);
            self.set.remove(&old);
            self.touch_gate(&old);
        }
        let out = Update {
            member: false,
            evicted: None,
        };
        let Some(key) = key else {
            return out;
        };
        let e = Entry::new(key, *addr, idx);
        if self.floor.is_some_and(|f| e >= f) {
            return out;
        }
        self.set.insert(e);
        self.members.insert(idx, e);
        self.touch_gate(&e);
        if self.set.len() > self.cap
            && let Some(worst) = self.set.pop_last()
        {
            self.members.remove(&worst.idx);
            self.touch_gate(&worst);
            self.floor = Some(worst);
            if worst.idx == idx {
                return out;
            }
            return Update {
                member: true,
                evicted: Some(worst.idx),
            };
        }
        Update {
            member: true,
            evicted: None,
        }
    }

    /// Fewer than `top_n` members while better wallets may exist outside.
    pub fn needs_refill(&self) -> bool {
        self.set.len() < self.top_n && self.floor.is_some()
    }

    /// Replaces the content with the `cap + 1` best entries of a full scan
    /// (sorted or not): the best `cap` become members, the next the floor.
    pub fn replace(&mut self, mut best: Vec<Entry>) {
        best.sort_unstable();
        self.floor = if best.len() > self.cap {
            best.truncate(self.cap + 1);
            best.pop()
        } else {
            None
        };
        self.members = best.iter().map(|e| (e.idx, *e)).collect();
        self.set = best.into_iter().collect();
        self.gate_dirty = true;
    }

    /// Members, best first.
    pub fn iter(&self) -> impl Iterator<Item = &Entry> {
        self.set.iter()
    }

    /// Rows a page may show: the exact top, at most `top_n`.
    pub fn len(&self) -> usize {
        self.set.len().min(self.top_n)
    }

    #[cfg(test)]
    pub fn is_member(&self, idx: u32) -> bool {
        self.members.contains_key(&idx)
    }

    /// The member's 0-based rank when it is among the first `top_k`.
    pub fn top_rank(&mut self, idx: u32) -> Option<usize> {
        let e = *self.members.get(&idx)?;
        if self.gate_dirty {
            self.gate = self.set.iter().nth(self.top_k - 1).copied();
            self.gate_dirty = false;
        }
        if self.gate.is_some_and(|g| e > g) {
            return None;
        }
        self.set.iter().take(self.top_k).position(|x| x.idx == idx)
    }

    pub fn heap_bytes(&self) -> usize {
        // BTreeSet nodes hold up to 11 entries; count them as full-ish.
        self.set.len() * (size_of::<Entry>() + 8) + self.members.capacity() * 60
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn up(b: &mut Board, idx: u32, key: Option<u64>) -> Update {
        let member = b.is_member(idx);
        b.update(idx, &[0; 32], key, member)
    }

    #[test]
    fn keys_preserve_order() {
        let xs = [
            -1e300,
            -2.5,
            -0.0,
            0.0,
            1e-9,
            0.375,
            1.0,
            7e10,
            f64::INFINITY,
        ];
        for w in xs.windows(2) {
            assert!(f64_key(w[0]) <= f64_key(w[1]), "{w:?}");
        }
        assert_eq!(f64_key(-0.0), f64_key(0.0));
        let is = [i64::MIN, -5, 0, 5, i64::MAX];
        for w in is.windows(2) {
            assert!(i64_key(w[0]) < i64_key(w[1]));
        }
    }

    #[test]
    fn keeps_the_best_and_a_floor() {
        let mut b = Board::new(2, 2); // cap 4
        for i in 0..6u32 {
            up(&mut b, i, Some(u64::from(i)));
        }
        let got: Vec<u32> = b.iter().map(|e| e.idx).collect();
        assert_eq!(got, [5, 4, 3, 2]);
        // 0 and 1 were pushed out: 1 is the floor, 0 stays under it.
        assert!(!up(&mut b, 0, Some(0)).member);
        // A member falling under the floor leaves.
        assert!(!up(&mut b, 2, Some(0)).member);
        assert!(!b.is_member(2));
        assert!(!b.needs_refill());
        up(&mut b, 3, None);
        up(&mut b, 4, None);
        assert!(b.needs_refill(), "one member left, wallets outside");
    }

    #[test]
    fn top_rank_follows_changes_at_the_top() {
        let mut b = Board::new(10, 3);
        for i in 0..8u32 {
            up(&mut b, i, Some(u64::from(i)));
        }
        assert_eq!(b.top_rank(7), Some(0));
        assert_eq!(b.top_rank(5), Some(2));
        assert_eq!(b.top_rank(4), None);
        // 4 jumps to the top; 5 falls out of the top 3.
        up(&mut b, 4, Some(100));
        assert_eq!(b.top_rank(4), Some(0));
        assert_eq!(b.top_rank(5), None);
        // The leader leaves: 5 is back in.
        up(&mut b, 4, None);
        assert_eq!(b.top_rank(5), Some(2));
        assert_eq!(b.top_rank(99), None, "not a member");
    }
}
