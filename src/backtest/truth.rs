//! What the simulated market really did, per wallet, computed from the trade
//! stream alone (not by the analytics engine): FIFO realized PnL with fees,
//! hold times of sold lots, and buy outcomes by the rule. A report
//! shows these beside the engine's view so a reader can see that the labels
//! mean what they say (skilled wallets do profit; farmers sell into their
//! followers) and where the engine and the truth part ways.

use std::collections::{HashMap, VecDeque};

use crate::domain::{Mint, Side, TradeEvent, WalletAddress};
use crate::engine::analytics::AnalyticsConfig;

/// One wallet's figures.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct WalletTruth {
    pub buys: u32,
    pub sells: u32,
    /// FIFO realized PnL, fees included, lamports.
    pub realized: i64,
    /// Hold time of each sold lot (a lot split by sells counts per sell).
    pub holds_ms: Vec<i64>,
    pub wins: u32,
    pub losses: u32,
}

#[derive(Debug, Clone, Copy)]
struct Lot {
    tokens: u64,
    cost: u64,
    at_ms: i64,
}

#[derive(Debug, Clone, Copy)]
struct Pending {
    wallet: WalletAddress,
    /// The buy's price, lamports per raw token.
    price: f64,
    deadline_ms: i64,
}

#[derive(Debug, Default)]
struct Tape {
    /// (net SOL, tokens) of the last trades.
    trades: VecDeque<(u64, u64)>,
    sol: u128,
    tokens: u128,
    pending: Vec<Pending>,
}

/// Outcome of a pending buy at the current VWAP.
enum Decided {
    Win,
    Loss,
    Open,
}

/// Follows the stream and keeps [`WalletTruth`] per wallet.
#[derive(Debug)]
pub struct Truth {
    fee_bps: u64,
    win: f64,
    loss: f64,
    horizon_ms: i64,
    vwap_trades: usize,
    wallets: HashMap<WalletAddress, WalletTruth>,
    lots: HashMap<(WalletAddress, Mint), VecDeque<Lot>>,
    tapes: HashMap<Mint, Tape>,
    last_sweep_ms: i64,
}

impl Truth {
    /// Fees and the outcome rule come from the analytics configuration, so
    /// both sides measure the same thing.
    #[must_use]
    pub fn new(cfg: &AnalyticsConfig) -> Self {
        Self {
            fee_bps: u64::from(cfg.fee_bps),
            win: 1.0 + f64::from(cfg.win_bps) / 10_000.0,
            loss: 1.0 - f64::from(cfg.loss_bps) / 10_000.0,
            horizon_ms: cfg.outcome_horizon_ms,
            vwap_trades: cfg.vwap_trades.max(1),
            wallets: HashMap::new(),
            lots: HashMap::new(),
            tapes: HashMap::new(),
            last_sweep_ms: i64::MIN,
        }
    }

    #[must_use]
    pub fn wallet(&self, wallet: &WalletAddress) -> Option<&WalletTruth> {
        self.wallets.get(wallet)
    }

    #[allow(clippy::cast_precision_loss, reason = "prices for the outcome rule")]
    pub fn on_trade(&mut self, ev: &TradeEvent) {
        let now = ev.timestamp_ms;
        if now.saturating_sub(self.last_sweep_ms) >= 60_000 {
            self.sweep(now);
        }
        let (sol, tokens) = (ev.sol.0, ev.tokens.0);
        let key = (ev.trader, ev.mint);
        match ev.side {
            Side::Buy => {
                let cost = sol * (10_000 + self.fee_bps) / 10_000;
                self.lots.entry(key).or_default().push_back(Lot {
                    tokens,
                    cost,
                    at_ms: now,
                });
                self.entry(ev.trader).buys += 1;
            }
            Side::Sell => {
                let proceeds = sol - sol * self.fee_bps / 10_000;
                let (realized, holds) = self.match_sell(key, tokens, proceeds, now);
                let w = self.entry(ev.trader);
                w.sells += 1;
                w.realized += realized;
                w.holds_ms.extend(holds);
            }
        }
        // The tape includes this trade, then pending buys are judged on it.
        let n = self.vwap_trades;
        let tape = self.tapes.entry(ev.mint).or_default();
        tape.trades.push_back((sol, tokens));
        tape.sol += u128::from(sol);
        tape.tokens += u128::from(tokens);
        if tape.trades.len() > n
            && let Some((s, t)) = tape.trades.pop_front()
        {
            tape.sol -= u128::from(s);
            tape.tokens -= u128::from(t);
        }
        let vwap = if tape.tokens == 0 {
            0.0
        } else {
            tape.sol as f64 / tape.tokens as f64
        };
        let mut decided = Vec::new();
        let (win, loss) = (self.win, self.loss);
        tape.pending
            .retain(|p| match judge(p, vwap, now, win, loss) {
                Decided::Open => true,
                Decided::Win => {
                    decided.push((p.wallet, true));
                    false
                }
                Decided::Loss => {
                    decided.push((p.wallet, false));
                    false
                }
            });
        if ev.side == Side::Buy && tokens > 0 {
            tape.pending.push(Pending {
                wallet: ev.trader,
                price: sol as f64 / tokens as f64,
                deadline_ms: now + self.horizon_ms,
            });
        }
        for (wallet, won) in decided {
            self.tally(wallet, won);
        }
    }

    /// Buys whose horizon passed without a decision are losses.
    pub fn sweep(&mut self, now_ms: i64) {
        self.last_sweep_ms = now_ms;
        let mut lost = Vec::new();
        self.tapes.retain(|_, tape| {
            tape.pending.retain(|p| {
                let open = p.deadline_ms > now_ms;
                if !open {
                    lost.push(p.wallet);
                }
                open
            });
            // A quiet token with nothing pending is dropped; its tape would
            // restart on its next trade (rare in a simulation).
            !tape.pending.is_empty() || tape.trades.len() < 2
        });
        for wallet in lost {
            self.tally(wallet, false);
        }
    }

    fn tally(&mut self, wallet: WalletAddress, won: bool) {
        let w = self.entry(wallet);
        if won {
            w.wins += 1;
        } else {
            w.losses += 1;
        }
    }

    fn entry(&mut self, wallet: WalletAddress) -> &mut WalletTruth {
        self.wallets.entry(wallet).or_default()
    }

    /// FIFO: the sold tokens take the oldest lots' cost pro rata (floor; the
    /// last piece of a lot takes all its cost left); tokens sold beyond the
    /// known lots realize nothing (they keep their share of the proceeds
    /// out, floor). The same convention as the analytics engine's, written
    /// separately.
    fn match_sell(
        &mut self,
        key: (WalletAddress, Mint),
        tokens: u64,
        proceeds: u64,
        now_ms: i64,
    ) -> (i64, Vec<i64>) {
        let Some(lots) = self.lots.get_mut(&key) else {
            return (0, Vec::new());
        };
        let (mut left, mut matched, mut cost) = (tokens, 0_u64, 0_u128);
        let mut holds = Vec::new();
        while left > 0 {
            let Some(lot) = lots.front_mut() else { break };
            let take = left.min(lot.tokens);
            let part = if take == lot.tokens {
                lot.cost
            } else {
                u64::try_from(u128::from(lot.cost) * u128::from(take) / u128::from(lot.tokens))
                    .unwrap_or(lot.cost)
            };
            holds.push(now_ms - lot.at_ms);
            cost += u128::from(part);
            matched += take;
            lot.tokens -= take;
            lot.cost -= part;
            left -= take;
            if lot.tokens == 0 {
                lots.pop_front();
            }
        }
        if lots.is_empty() {
            self.lots.remove(&key);
        }
        let got = if matched == tokens {
            u128::from(proceeds)
        } else {
            u128::from(proceeds) * u128::from(matched) / u128::from(tokens.max(1))
        };
        let realized =
            i128::try_from(got).unwrap_or(i128::MAX) - i128::try_from(cost).unwrap_or(i128::MAX);
        (i64::try_from(realized).unwrap_or(i64::MAX), holds)
    }
}

fn judge(p: &Pending, vwap: f64, now_ms: i64, win: f64, loss: f64) -> Decided {
    if vwap >= p.price * win {
        Decided::Win
    } else if vwap <= p.price * loss || now_ms >= p.deadline_ms {
        Decided::Loss
    } else {
        Decided::Open
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Lamports, Signature, TokenAmount};

    fn ev(wallet: u8, side: Side, sol: u64, tokens: u64, at: i64) -> TradeEvent {
        TradeEvent {
            signature: Signature::from_bytes(&[wallet; 64]),
            mint: Mint::from_bytes([9; 32]),
            trader: WalletAddress::from_bytes([wallet; 32]),
            side,
            sol: Lamports(sol),
            tokens: TokenAmount(tokens),
            timestamp_ms: at,
            slot: None,
            virtual_sol: Lamports(30_000_000_000),
            virtual_tokens: TokenAmount(1_000_000_000_000_000),
            trader_balance_after: None,
            created: false,
            on_curve: true,
        }
    }

    fn cfg(vwap_trades: usize) -> AnalyticsConfig {
        AnalyticsConfig {
            vwap_trades,
            ..AnalyticsConfig::default()
        }
    }

    #[test]
    fn fifo_pnl_with_fees_and_partial_lots() {
        let mut t = Truth::new(&cfg(20));
        let a = WalletAddress::from_bytes([1; 32]);
        // Two lots: 1 SOL for 1000 tokens, 2 SOL for 1000 tokens (net).
        t.on_trade(&ev(1, Side::Buy, 1_000_000_000, 1_000, 0));
        t.on_trade(&ev(1, Side::Buy, 2_000_000_000, 1_000, 1_000));
        // Sell 1500 tokens for 3 SOL net of the curve: proceeds 2.9625 SOL;
        // cost 1.0125 + half of 2.025 = 2.025 SOL.
        t.on_trade(&ev(1, Side::Sell, 3_000_000_000, 1_500, 5_000));
        let w = t.wallet(&a).unwrap();
        assert_eq!(w.realized, 2_962_500_000 - 2_025_000_000);
        assert_eq!(w.holds_ms, vec![5_000, 4_000]);
        // Selling more than is held realizes only the held part.
        t.on_trade(&ev(1, Side::Sell, 1_000_000_000, 1_000, 6_000));
        let w = t.wallet(&a).unwrap();
        let proceeds_half = (1_000_000_000 - 12_500_000) / 2;
        assert_eq!(
            w.realized,
            2_962_500_000 - 2_025_000_000 + proceeds_half - 1_012_500_000
        );
        // A sell with no lots realizes nothing.
        t.on_trade(&ev(2, Side::Sell, 1_000_000_000, 1_000, 7_000));
        assert_eq!(
            t.wallet(&WalletAddress::from_bytes([2; 32]))
                .unwrap()
                .realized,
            0
        );
    }

    #[test]
    fn outcomes_follow_the_vwap_rule() {
        let mut t = Truth::new(&cfg(1));
        let a = WalletAddress::from_bytes([1; 32]);
        let b = WalletAddress::from_bytes([2; 32]);
        // Buy at price 1.0; a trade at 1.19 decides nothing, 1.2 is a win.
        t.on_trade(&ev(1, Side::Buy, 1_000, 1_000, 0));
        t.on_trade(&ev(3, Side::Buy, 1_190, 1_000, 1_000));
        assert_eq!(t.wallet(&a).unwrap().wins, 0);
        t.on_trade(&ev(3, Side::Sell, 1_200, 1_000, 2_000));
        assert_eq!(
            (t.wallet(&a).unwrap().wins, t.wallet(&a).unwrap().losses),
            (1, 0)
        );
        // Buy at 1.2; a trade at 1.104 (−8%) is a loss.
        t.on_trade(&ev(2, Side::Buy, 1_200, 1_000, 3_000));
        t.on_trade(&ev(3, Side::Sell, 1_104, 1_000, 4_000));
        assert_eq!(t.wallet(&b).unwrap().losses, 1);
        // Undecided past the horizon: a loss at the sweep.
        t.on_trade(&ev(2, Side::Buy, 1_104, 1_000, 5_000));
        t.sweep(5_000 + 15 * 60_000);
        assert_eq!(t.wallet(&b).unwrap().losses, 2);
    }
}
