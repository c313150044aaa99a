//! Entry signals. Per-follow: every followed leader's buy is a candidate.
//! Consensus (the seed rule): a weighted vote of the profile's followed
//! leaders that bought the same mint within a window (90 s),
//! `weight = score × recency × size`, enters when the sum reaches the
//! threshold (2.5) and at least one voter scores at least the minimum
//! (0.55). All three are profile settings.
//!
//! - score: the leader's Beta posterior win probability (0.375 for a wallet
//!   with no decided trades; the board's boosts are not counted twice);
//! - recency: 1.0 for a vote cast now, falling linearly to 0.5 at the end of
//!   the window;
//! - size: the analytics size factor of the leader's buy (1.0 at 0.1 SOL
//!   and below, 1.5 at 10 SOL and above, log-linear between).

use std::collections::VecDeque;

use crate::engine::analytics::hash::FxHashMap as HashMap;

use crate::domain::{Lamports, Mint, WalletAddress};
use crate::engine::analytics::score::size_factor;

/// How long buys are kept for votes (the longest window a profile may set).
pub const MAX_WINDOW_MS: i64 = 3_600_000;
/// Buys kept per mint.
const PER_MINT: usize = 64;

/// One followed leader's recent buy.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Vote {
    pub wallet: WalletAddress,
    pub sol: Lamports,
    pub at_ms: i64,
    /// The leader's posterior when it bought.
    pub score: f64,
}

/// Recent buys of followed wallets, by mint.
#[derive(Debug, Default)]
pub struct VoteTape {
    by_mint: HashMap<Mint, VecDeque<Vote>>,
}

/// The tally of one profile's votes on a mint.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Tally {
    pub voters: u16,
    pub sum: f64,
    pub best_score: f64,
}

impl VoteTape {
    pub fn record(&mut self, mint: Mint, vote: Vote) {
        let q = self.by_mint.entry(mint).or_default();
        while q
            .front()
            .is_some_and(|v| vote.at_ms - v.at_ms > MAX_WINDOW_MS)
            || q.len() >= PER_MINT
        {
            q.pop_front();
        }
        q.push_back(vote);
    }

    /// Tallies the votes on `mint` within `window_ms` of `now_ms` by wallets
    /// `follows` accepts; a wallet's latest buy counts once.
    pub fn tally(
        &self,
        mint: &Mint,
        now_ms: i64,
        window_ms: i64,
        follows: impl Fn(&WalletAddress) -> bool,
    ) -> Tally {
        let mut t = Tally {
            voters: 0,
            sum: 0.0,
            best_score: 0.0,
        };
        let Some(q) = self.by_mint.get(mint) else {
            return t;
        };
        let mut counted: Vec<WalletAddress> = Vec::new();
        for v in q.iter().rev() {
            let age = now_ms - v.at_ms;
            if age > window_ms {
                break;
            }
            if age < 0 || counted.contains(&v.wallet) || !follows(&v.wallet) {
                continue;
            }
            counted.push(v.wallet);
            t.voters += 1;
            t.sum += weight(v, age, window_ms);
            t.best_score = t.best_score.max(v.score);
        }
        t
    }

    /// Drops mints with no vote in the longest window.
    pub fn prune(&mut self, now_ms: i64) {
        self.by_mint
            .retain(|_, q| q.back().is_some_and(|v| now_ms - v.at_ms <= MAX_WINDOW_MS));
    }
}

/// `score × recency × size` of one vote.
#[must_use]
#[allow(clippy::cast_precision_loss, reason = "a vote weight")]
pub fn weight(v: &Vote, age_ms: i64, window_ms: i64) -> f64 {
    let recency = if window_ms <= 0 {
        1.0
    } else {
        1.0 - 0.5 * (age_ms.clamp(0, window_ms) as f64 / window_ms as f64)
    };
    v.score * recency * size_factor(v.sol.0, 100_000_000, 10_000_000_000)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(n: u8) -> WalletAddress {
        WalletAddress::from_bytes([n; 32])
    }

    fn vote(n: u8, at_ms: i64, score: f64) -> Vote {
        Vote {
            wallet: w(n),
            sol: Lamports(100_000_000),
            at_ms,
            score,
        }
    }

    #[test]
    fn weights_fall_with_age_and_rise_with_size() {
        let v = vote(1, 0, 0.6);
        assert!((weight(&v, 0, 90_000) - 0.6).abs() < 1e-9);
        assert!((weight(&v, 90_000, 90_000) - 0.3).abs() < 1e-9);
        let big = Vote {
            sol: Lamports(10_000_000_000),
            ..v
        };
        assert!((weight(&big, 0, 90_000) - 0.9).abs() < 1e-9);
    }

    #[test]
    fn tally_counts_followed_wallets_once_within_the_window() {
        let mint = w(200);
        let mut tape = VoteTape::default();
        tape.record(mint, vote(1, 0, 0.5));
        tape.record(mint, vote(2, 50_000, 0.6));
        tape.record(mint, vote(1, 60_000, 0.7));
        tape.record(mint, vote(3, 60_000, 0.9));
        let t = tape.tally(&mint, 100_000, 90_000, |x| *x != w(3));
        assert_eq!(t.voters, 2);
        assert!((t.best_score - 0.7).abs() < 1e-9);
        let expect = 0.7 * (1.0 - 0.5 * 40.0 / 90.0) + 0.6 * (1.0 - 0.5 * 50.0 / 90.0);
        assert!((t.sum - expect).abs() < 1e-9, "{} vs {expect}", t.sum);
        tape.prune(100_000 + MAX_WINDOW_MS + 1);
        assert_eq!(tape.tally(&mint, 100_000, 90_000, |_| true).voters, 0);
    }
}
