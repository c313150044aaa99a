//! Per-mint state: the last price, the VWAP tape of the last N trades, the
//! buys waiting for their outcome, and the last buyers (to see which buys
//! were copied and which wallets co-buy).
//!
//! Memory: a fixed tape and buyer ring per mint (allocated once per slot),
//! pending buys capped per mint; mints idle for `mint_idle_ms` are dropped.

use std::collections::VecDeque;

use crate::domain::Mint;
use crate::engine::curve::Curve;

/// Buyers remembered per mint for copy/co-buy detection.
pub(crate) const RECENT_BUYS: usize = 16;

#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct RecentBuy {
    pub wallet: u32,
    pub t_ms: i64,
}

/// A buy waiting for its outcome. The thresholds are pre-multiplied so that
/// judging it against the VWAP is two integer products.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Pending {
    pub wallet: u32,
    pub t_ms: i64,
    /// `sol * (10000 + win_bps)`, `sol * (10000 - loss_bps)`, `tokens * 10000`.
    win_a: u128,
    loss_a: u128,
    b: u128,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    Open,
    Win,
    Loss,
}

impl Pending {
    /// A buy of `tokens` for `sol` (net, as the tape counts it).
    pub fn new(wallet: u32, t_ms: i64, sol: u64, tokens: u64, win_bps: u32, loss_bps: u32) -> Self {
        let sol = u128::from(sol);
        Self {
            wallet,
            t_ms,
            win_a: sol * (10_000 + u128::from(win_bps)),
            loss_a: sol * 10_000u128.saturating_sub(u128::from(loss_bps)),
            b: u128::from(tokens) * 10_000,
        }
    }
}

/// SOL and token sums of the tape: VWAP = `sum_sol / sum_tok`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct TapeSums {
    sum_sol: u128,
    sum_tok: u128,
}

impl TapeSums {
    /// Judges a pending buy against the VWAP (no time check):
    /// `vwap >= price * (1 + win)` is a win, `vwap <= price * (1 - loss)`
    /// a loss, cross-multiplied in integers.
    #[inline]
    pub fn judge(self, p: &Pending) -> Verdict {
        if self.sum_tok == 0 {
            return Verdict::Open;
        }
        let lhs = self.sum_sol.saturating_mul(p.b);
        if lhs >= p.win_a.saturating_mul(self.sum_tok) {
            Verdict::Win
        } else if lhs <= p.loss_a.saturating_mul(self.sum_tok) {
            Verdict::Loss
        } else {
            Verdict::Open
        }
    }
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
    pub pending: VecDeque<Pending>,
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
            pending: VecDeque::new(),
            in_sweep: false,
        }
    }

    /// Clears the slot for another mint (keeps the allocations).
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
        self.in_sweep = false;
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

    /// The tape's sums (a copy, to judge while the pending list is
    /// borrowed).
    #[inline]
    pub fn clone_sums(&self) -> TapeSums {
        TapeSums {
            sum_sol: self.sum_sol,
            sum_tok: self.sum_tok,
        }
    }

    /// Judges a pending buy against the current VWAP (no time check).
    #[cfg(test)]
    pub fn judge(&self, p: &Pending) -> Verdict {
        self.clone_sums().judge(p)
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

    /// The last buyers, newest first.
    #[inline]
    pub fn recent_buys(&self) -> impl Iterator<Item = RecentBuy> + '_ {
        let len = usize::from(self.recent_len);
        let head = usize::from(self.recent_head);
        (0..len).map(move |i| self.recent[(head + RECENT_BUYS - 1 - i) % RECENT_BUYS])
    }

    #[inline]
    pub fn push_buy(&mut self, wallet: u32, t_ms: i64) {
        self.recent[usize::from(self.recent_head)] = RecentBuy { wallet, t_ms };
        self.recent_head =
            u8::try_from((usize::from(self.recent_head) + 1) % RECENT_BUYS).unwrap_or(0);
        if usize::from(self.recent_len) < RECENT_BUYS {
            self.recent_len += 1;
        }
    }

    pub fn heap_bytes(&self) -> usize {
        self.tape.capacity() * 16 + self.pending.capacity() * size_of::<Pending>()
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
    fn judges_at_the_thresholds() {
        let mut m = MintState::new(Mint::from_bytes([1; 32]), 1);
        // Bought at 10 lamports/token; +20% = 12, -8% = 9.2.
        let p = Pending::new(0, 0, 1_000, 100, 2_000, 800);
        m.on_trade(1_100, 100, 0, 0, false, 1);
        assert_eq!(m.judge(&p), Verdict::Open);
        m.on_trade(1_200, 100, 0, 0, false, 1);
        assert_eq!(m.judge(&p), Verdict::Win);
        m.on_trade(921, 100, 0, 0, false, 1);
        assert_eq!(m.judge(&p), Verdict::Open);
        m.on_trade(920, 100, 0, 0, false, 1);
        assert_eq!(m.judge(&p), Verdict::Loss);
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
