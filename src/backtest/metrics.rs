//! The measures a simulator report scores a ranking by, as pure functions
//! over addresses (easy to get wrong, so tested on hand-made rankings).

use std::collections::HashSet;
use std::fmt;

use crate::domain::WalletAddress;

/// Precision at `k`: the share of the first `k` places held by relevant
/// wallets. A ranking shorter than `k` counts its empty places as misses
/// (ten places asked for, eight filled with skilled wallets: 0.8), so a
/// leaderboard cannot score well by ranking fewer wallets. 0 for `k` = 0.
#[must_use]
#[allow(clippy::cast_precision_loss, reason = "small counts")]
pub fn precision_at(ranking: &[WalletAddress], relevant: &HashSet<WalletAddress>, k: usize) -> f64 {
    if k == 0 {
        return 0.0;
    }
    let hits = ranking
        .iter()
        .take(k)
        .filter(|w| relevant.contains(w))
        .count();
    hits as f64 / k as f64
}

/// A sybil ring is *flagged* when every member active enough to be linked
/// by co-buys (at least `min_buys` buys: a pair needs that many co-buys to
/// join a cluster) carries the `Sybil` flag, at least two members are that
/// active, and at most one member is ranked (the cluster's one place on
/// the leaderboard).
///
/// Every active member, not a majority: one owner runs the ring, and an
/// active member without the flag is a wallet through which the owner
/// still farms. Members that barely traded cannot be linked by anyone's
/// co-buy rule and are never ranked (too few outcomes), so they do not
/// count either way; a ring with fewer than two active members shows no
/// ring at all and counts as missed.
#[must_use]
pub fn ring_flagged(
    members: &[(WalletAddress, u32)],
    min_buys: u32,
    sybil_flagged: &HashSet<WalletAddress>,
    ranked: &HashSet<WalletAddress>,
) -> bool {
    let active: Vec<&WalletAddress> = members
        .iter()
        .filter(|(_, buys)| *buys >= min_buys)
        .map(|(w, _)| w)
        .collect();
    active.len() >= 2
        && active.iter().all(|w| sybil_flagged.contains(w))
        && members.iter().filter(|(w, _)| ranked.contains(w)).count() <= 1
}

/// `hit` of `of`, shown as a count and a percentage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Share {
    pub hit: usize,
    pub of: usize,
}

impl Share {
    /// How many of `items` pass `test`.
    pub fn count<T>(items: impl IntoIterator<Item = T>, mut test: impl FnMut(&T) -> bool) -> Self {
        let mut share = Self::default();
        for item in items {
            share.of += 1;
            if test(&item) {
                share.hit += 1;
            }
        }
        share
    }

    /// `hit / of`; 0 when there is nothing to count.
    #[must_use]
    #[allow(clippy::cast_precision_loss, reason = "small counts")]
    pub fn ratio(self) -> f64 {
        if self.of == 0 {
            0.0
        } else {
            self.hit as f64 / self.of as f64
        }
    }
}

impl fmt::Display for Share {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{} ({:.1}%)", self.hit, self.of, self.ratio() * 100.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(i: u8) -> WalletAddress {
        WalletAddress::from_bytes([i; 32])
    }

    fn set(ids: &[u8]) -> HashSet<WalletAddress> {
        ids.iter().map(|&i| w(i)).collect()
    }

    fn ranking(ids: &[u8]) -> Vec<WalletAddress> {
        ids.iter().map(|&i| w(i)).collect()
    }

    #[test]
    fn precision_counts_hits_among_the_first_k() {
        let skilled = set(&[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
        // Nine of the first ten, the miss in the middle.
        let r = ranking(&[1, 2, 3, 4, 99, 5, 6, 7, 8, 9, 10, 11]);
        assert!((precision_at(&r, &skilled, 10) - 0.9).abs() < 1e-12);
        // Places beyond k do not count.
        let r = ranking(&[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 98, 97]);
        assert!((precision_at(&r, &skilled, 10) - 1.0).abs() < 1e-12);
        assert!((precision_at(&r, &skilled, 12) - 10.0 / 12.0).abs() < 1e-12);
        assert!((precision_at(&r, &skilled, 1) - 1.0).abs() < 1e-12);
        // A miss at the top counts like any other.
        let r = ranking(&[99, 1, 2]);
        assert!((precision_at(&r, &skilled, 3) - 2.0 / 3.0).abs() < 1e-12);
    }

    #[test]
    fn a_short_ranking_counts_empty_places_as_misses() {
        let skilled = set(&[1, 2, 3]);
        let r = ranking(&[1, 2, 3]);
        assert!((precision_at(&r, &skilled, 10) - 0.3).abs() < 1e-12);
        assert!((precision_at(&r, &skilled, 50) - 0.06).abs() < 1e-12);
        assert!(precision_at(&[], &skilled, 10).abs() < 1e-12);
        assert!(precision_at(&r, &skilled, 0).abs() < 1e-12);
        assert!(precision_at(&r, &HashSet::new(), 3).abs() < 1e-12);
    }

    #[test]
    fn duplicates_in_a_ranking_are_not_deduplicated() {
        // A leaderboard must not list a wallet twice; if it does, each
        // place counts (the report measures places, not wallets).
        let skilled = set(&[1]);
        let r = ranking(&[1, 1, 2, 3]);
        assert!((precision_at(&r, &skilled, 4) - 0.5).abs() < 1e-12);
    }

    #[test]
    fn a_ring_is_flagged_when_every_active_member_is_and_one_ranks_at_most() {
        // Four members; member 4 bought twice (under the 3 a link needs).
        let ring = [(w(1), 30), (w(2), 25), (w(3), 3), (w(4), 2)];
        let flagged =
            |sybil: &[u8], ranked: &[u8]| ring_flagged(&ring, 3, &set(sybil), &set(ranked));
        // Every active member flagged; the best one ranked.
        assert!(flagged(&[1, 2, 3], &[1]));
        assert!(flagged(&[1, 2, 3, 4], &[]));
        // An active member without the flag: not flagged, ranked or not.
        assert!(!flagged(&[1, 2], &[1]));
        assert!(!flagged(&[2, 3], &[]));
        // Unflagged and unranked (the old "caught") is not flagged.
        assert!(!flagged(&[], &[]));
        // Two members ranked: not flagged even with every flag.
        assert!(!flagged(&[1, 2, 3, 4], &[1, 2]));
        // Flags on wallets outside the ring do not help.
        assert!(!flagged(&[1, 2, 7], &[]));
        // A ring with one active member shows no ring: missed.
        let quiet = [(w(1), 9), (w(2), 1), (w(3), 0)];
        assert!(!ring_flagged(&quiet, 3, &set(&[1, 2, 3]), &set(&[])));
    }

    #[test]
    fn shares_count_and_divide() {
        let s = Share::count([1, 2, 3, 4], |x| *x % 2 == 0);
        assert_eq!(s, Share { hit: 2, of: 4 });
        assert!((s.ratio() - 0.5).abs() < 1e-12);
        assert_eq!(s.to_string(), "2/4 (50.0%)");
        let none = Share::count(Vec::<u8>::new(), |_| true);
        assert!(none.ratio().abs() < 1e-12);
        assert_eq!(none.to_string(), "0/0 (0.0%)");
    }
}
