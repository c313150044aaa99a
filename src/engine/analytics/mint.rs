//! Per-mint state: the last price, the VWAP tape of the last N trades, the
//! buys waiting for their outcome, and the last buyers (to see which buys
//! were copied and which wallets co-buy).
//!
//! Memory: a fixed tape and buyer ring per mint (allocated once per slot),
//! pending buys capped per mint; mints idle for `mint_idle_ms` are dropped.

use super::pending::{PendingBook, price_key};
use crate::domain::Mint;
use crate::engine::curve::Curve;

/// Buyers remembered per mint for copy/co-buy detection.
pub(crate) const RECENT_BUYS: usize = 16;

#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct RecentBuy {
    pub wallet: u32,
    /// A later buy by another wallet already marked this one copied.
    pub copied: bool,
    pub t_ms: i64,
}

#[derive(Debug, Clone)]
pub(crate) struct MintState {
    pub addr: Mint,
    /// Bumped each time the slot is reused, so stale lots never match.
    pub generation: u32,
    pub live: bool,
    pub last_ms: i64,
    /// Last reserves (on the curve), or the last trade's SOL and tokens.
    pub vs: u64,
    pub vt: u64,
    pub on_curve: bool,
    tape: Vec<(u64, u64)>,
    tape_head: usize,
    sum_sol: u128,
    sum_tok: u128,
    recent: [RecentBuy; RECENT_BUYS],
    recent_len: u8,
    recent_head: u8,
    pub pending: PendingBook,
    /// Listed in the analytics' sweep list of mints with pending buys.
    pub in_sweep: bool,
}

impl MintState {
    pub fn new(addr: Mint, tape: usize) -> Self {
        Self {
            addr,
            generation: 0,
            live: true,
            last_ms: 0,
            vs: 0,
            vt: 0,
            on_curve: true,
            tape: Vec::with_capacity(tape.max(1)),
            tape_head: 0,
            sum_sol: 0,
            sum_tok: 0,
            recent: [RecentBuy::default(); RECENT_BUYS],
            recent_len: 0,
            recent_head: 0,
            pending: PendingBook::default(),
            in_sweep: false,
        }
    }

    /// Frees what a dropped mint held beyond its slot (busy mints grow
    /// their pending heaps).
    pub fn release(&mut self) {
        self.live = false;
        self.generation = self.generation.wrapping_add(1);
        self.pending = PendingBook::default();
        // `in_sweep` stays: the slot may still be listed for the sweep,
        // which unlists it once its pending book is empty.
    }

    /// Clears the slot for another mint (keeps the tape's allocation).
    pub fn reuse(&mut self, addr: Mint) {
        self.addr = addr;
        self.generation = self.generation.wrapping_add(1);
        self.live = true;
        self.vs = 0;
        self.vt = 0;
        self.tape.clear();
        self.tape_head = 0;
        self.sum_sol = 0;
        self.sum_tok = 0;
        self.recent_len = 0;
        self.recent_head = 0;
        self.pending.clear();
    }

    /// Records a trade: price and tape.
    #[inline]
    pub fn on_trade(&mut self, sol: u64, tokens: u64, vs: u64, vt: u64, on_curve: bool, n: usize) {
        if on_curve && vt > 0 {
            (self.vs, self.vt) = (vs, vt);
        } else {
            (self.vs, self.vt) = (sol, tokens);
        }
        self.on_curve = on_curve;
        let n = n.max(1);
        if self.tape.len() < n {
            self.tape.push((sol, tokens));
        } else {
            let old = std::mem::replace(&mut self.tape[self.tape_head], (sol, tokens));
            self.sum_sol -= u128::from(old.0);
            self.sum_tok -= u128::from(old.1);
            self.tape_head = (self.tape_head + 1) % n;
        }
        self.sum_sol += u128::from(sol);
        self.sum_tok += u128::from(tokens);
    }

    /// The VWAP of the tape as a [`price_key`].
    #[inline]
    pub fn vwap_key(&self) -> u128 {
        price_key(self.sum_sol, self.sum_tok)
    }

    /// The VWAP of the tape, lamports per raw token.
    #[cfg(test)]
    #[allow(clippy::cast_precision_loss, reason = "test display")]
    pub fn vwap(&self) -> f64 {
        if self.sum_tok == 0 {
            0.0
        } else {
            self.sum_sol as f64 / self.sum_tok as f64
        }
    }

    /// Price in lamports per raw token × 1e9.
    pub fn price_e9(&self) -> Option<u128> {
        (self.vt > 0).then(|| u128::from(self.vs) * 1_000_000_000 / u128::from(self.vt))
    }

    /// What selling `tokens` now would return, fees deducted: the curve
    /// quote on the curve, the last trade's price after it.
    pub fn liquidation_value(&self, tokens: u64, fee_bps: u32) -> u64 {
        if self.vt == 0 {
            return 0;
        }
        let gross = if self.on_curve {
            Curve::new(self.vs, self.vt).gross_sol_for_tokens(tokens)
        } else {
            u64::try_from(u128::from(tokens) * u128::from(self.vs) / u128::from(self.vt))
                .unwrap_or(u64::MAX)
        };
        super::fifo::sell_proceeds(gross, fee_bps)
    }

    /// Ring positions of the last buyers, newest first.
    #[inline]
    pub fn recent_slots(&self) -> impl Iterator<Item = usize> + use<> {
        let len = usize::from(self.recent_len);
        let head = usize::from(self.recent_head);
        (0..len).map(move |i| (head + RECENT_BUYS - 1 - i) % RECENT_BUYS)
    }

    #[inline]
    pub fn recent_buy(&mut self, slot: usize) -> &mut RecentBuy {
        &mut self.recent[slot]
    }

    /// The last buyers, newest first.
    #[cfg(test)]
    pub fn recent_buys(&self) -> impl Iterator<Item = RecentBuy> + '_ {
        self.recent_slots().map(|i| self.recent[i])
    }

    #[inline]
    pub fn push_buy(&mut self, wallet: u32, t_ms: i64) {
        self.recent[usize::from(self.recent_head)] = RecentBuy {
            wallet,
            copied: false,
            t_ms,
        };
        self.recent_head =
            u8::try_from((usize::from(self.recent_head) + 1) % RECENT_BUYS).unwrap_or(0);
        if usize::from(self.recent_len) < RECENT_BUYS {
            self.recent_len += 1;
        }
    }

    pub fn heap_bytes(&self) -> usize {
        self.tape.capacity() * 16 + self.pending.heap_bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tape_is_a_ring_of_the_last_n_trades() {
        let mut m = MintState::new(Mint::from_bytes([1; 32]), 2);
        m.on_trade(100, 10, 0, 0, false, 2);
        m.on_trade(300, 10, 0, 0, false, 2);
        assert!((m.vwap() - 20.0).abs() < 1e-12);
        m.on_trade(500, 10, 0, 0, false, 2);
        assert!((m.vwap() - 40.0).abs() < 1e-12);
        assert_eq!(m.price_e9(), Some(50_000_000_000));
    }

    #[test]
    fn recent_buyers_newest_first_and_bounded() {
        let mut m = MintState::new(Mint::from_bytes([1; 32]), 1);
        for i in 0..20u32 {
            m.push_buy(i, i64::from(i));
        }
        let got: Vec<u32> = m.recent_buys().map(|b| b.wallet).collect();
        assert_eq!(got.len(), RECENT_BUYS);
        assert_eq!(got[0], 19);
        assert_eq!(got[15], 4);
    }
}
