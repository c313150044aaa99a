//! A market tape for core-level copy tests: pump.fun curves walked by
//! trades, one curve per mint, on an event clock the test moves. Each
//! trade carries the reserves after it, as PumpPortal frames do, so the
//! engine's curve is the tape's.

use std::collections::HashMap;

use alfabot::domain::{Lamports, Mint, Side, Signature, TokenAmount, TradeEvent, WalletAddress};
use alfabot::engine::curve::{Curve, Fees};

pub struct Tape {
    curves: HashMap<Mint, Curve>,
    n: u32,
    /// The time of the last trade (or of the start).
    pub at: i64,
}

impl Tape {
    pub fn new(start_ms: i64) -> Self {
        Self {
            curves: HashMap::new(),
            n: 0,
            at: start_ms,
        }
    }

    /// The curve of `mint` now (fresh before its first trade).
    pub fn curve(&self, mint: &Mint) -> Curve {
        self.curves.get(mint).copied().unwrap_or_else(Curve::fresh)
    }

    /// Moves the clock without a trade.
    pub fn wait(&mut self, ms: i64) {
        self.at += ms;
    }

    /// A trade one second after the last one.
    pub fn trade(
        &mut self,
        mint: Mint,
        trader: WalletAddress,
        side: Side,
        amount: u64,
    ) -> TradeEvent {
        self.trade_after(1_000, mint, trader, side, amount)
    }

    /// A trade `ms` after the last one: `amount` is the gross lamports of a
    /// buy (the curve fee included) or the raw tokens of a sell.
    pub fn trade_after(
        &mut self,
        ms: i64,
        mint: Mint,
        trader: WalletAddress,
        side: Side,
        amount: u64,
    ) -> TradeEvent {
        self.n += 1;
        self.at += ms;
        let curve = self.curves.entry(mint).or_insert_with(Curve::fresh);
        let mut sig = [0x5a; 64];
        sig[..4].copy_from_slice(&self.n.to_le_bytes());
        let mut ev = trade_on(
            curve,
            mint,
            trader,
            side,
            amount,
            Signature::from_bytes(&sig),
        );
        ev.timestamp_ms = self.at;
        ev
    }
}

/// A trade by `trader` that moves `curve` (reserves after it in the
/// event, time 0): `amount` is the gross lamports of a buy (the curve fee
/// included) or the raw tokens of a sell.
pub fn trade_on(
    curve: &mut Curve,
    mint: Mint,
    trader: WalletAddress,
    side: Side,
    amount: u64,
    signature: Signature,
) -> TradeEvent {
    let (net, tokens) = match side {
        Side::Buy => {
            let q = curve.quote_buy(Lamports(amount), Fees::default());
            (q.sol.0 - q.fee.0, q.tokens.0)
        }
        Side::Sell => (curve.gross_sol_for_tokens(amount), amount),
    };
    curve.apply(side == Side::Buy, net, tokens);
    TradeEvent {
        signature,
        mint,
        trader,
        side,
        sol: Lamports(net),
        tokens: TokenAmount(tokens),
        timestamp_ms: 0,
        slot: None,
        virtual_sol: Lamports(curve.virtual_sol),
        virtual_tokens: TokenAmount(curve.virtual_tokens),
        trader_balance_after: None,
        created: false,
        on_curve: true,
    }
}
