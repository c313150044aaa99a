//! Open positions: the FIFO lots of one (wallet, mint), kept in one map
//! keyed by (wallet slot, mint slot) so a trade finds its lots in one
//! lookup. Lots follow the rules of [`super::fifo`]; a position holds at
//! most [`LOTS_INLINE`] lots inline (a buy beyond merges into the newest).
//! Public so the benchmarks time the type the engine runs.

use super::fifo::{SellMatch, take};
use super::wallet::Holds;

/// Lots per position (inline, no allocation per position).
pub const LOTS_INLINE: usize = 4;

/// Lot flags.
pub const LOT_COPIED: u8 = 1;
pub const LOT_MOVED: u8 = 2;
pub const LOT_MATCHED: u8 = 4;

/// One lot (a buy), 32 bytes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Lot {
    pub tokens: u64,
    pub cost: u64,
    pub t_ms: i64,
    /// Delay of the first copier's buy after this one, ms (when
    /// `LOT_COPIED`; saturating).
    pub follow_dt: u32,
    pub flags: u8,
}

/// The map key of a position.
#[inline]
pub(crate) const fn key(wallet: u32, mint: u32) -> u64 {
    ((wallet as u64) << 32) | mint as u64
}

#[inline]
pub(crate) const fn wallet_of(key: u64) -> u32 {
    (key >> 32) as u32
}

#[inline]
pub(crate) const fn mint_of(key: u64) -> u32 {
    key as u32
}

/// The lots of one (wallet, mint), oldest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    /// The mint slot's generation when the position opened.
    pub generation: u32,
    len: u8,
    lots: [Lot; LOTS_INLINE],
}

impl Position {
    #[must_use]
    pub fn new(generation: u32) -> Self {
        Self {
            generation,
            len: 0,
            lots: [Lot::default(); LOTS_INLINE],
        }
    }

    pub fn lots(&self) -> &[Lot] {
        &self.lots[..usize::from(self.len)]
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn tokens(&self) -> u64 {
        self.lots()
            .iter()
            .fold(0u64, |a, l| a.saturating_add(l.tokens))
    }

    pub fn cost(&self) -> u64 {
        self.lots()
            .iter()
            .fold(0u64, |a, l| a.saturating_add(l.cost))
    }

    /// Adds a lot; beyond `cap` lots (at most [`LOTS_INLINE`]) it merges
    /// into the newest.
    pub fn buy(&mut self, lot: Lot, cap: usize) {
        let cap = cap.clamp(1, LOTS_INLINE);
        let n = usize::from(self.len);
        if n >= cap {
            let last = &mut self.lots[n - 1];
            last.tokens = last.tokens.saturating_add(lot.tokens);
            last.cost = last.cost.saturating_add(lot.cost);
            last.flags |= lot.flags & LOT_MOVED;
            return;
        }
        self.lots[n] = lot;
        self.len += 1;
    }

    /// Marks the newest lot bought at or before `t_buy` as copied by a buy
    /// at `t_follow`.
    pub fn mark_copied(&mut self, t_buy: i64, t_follow: i64) {
        let n = usize::from(self.len);
        if let Some(l) = self.lots[..n].iter_mut().rev().find(|l| l.t_ms <= t_buy)
            && l.flags & LOT_COPIED == 0
        {
            l.flags |= LOT_COPIED;
            l.follow_dt = u32::try_from((t_follow - l.t_ms).max(0)).unwrap_or(u32::MAX);
        }
    }

    /// Matches a sell, oldest lots first. For each lot sold for the first
    /// time: records its hold in `holds` when it was copied or moved the
    /// price, and counts it in [`Exits`] (into followers when copied and
    /// sold within `sell_into_ms` of its first copier's buy).
    pub fn sell(
        &mut self,
        tokens: u64,
        proceeds: u64,
        t_ms: i64,
        sell_into_ms: i64,
        holds: &mut Holds,
    ) -> (SellMatch, Exits) {
        let mut m = SellMatch::default();
        let mut exits = Exits::default();
        let mut want = tokens;
        let mut gone = 0;
        let n = usize::from(self.len);
        for l in &mut self.lots[..n] {
            if want == 0 {
                break;
            }
            let (got, part) = take(&mut l.tokens, &mut l.cost, want);
            want -= got;
            m.matched_tokens += got;
            m.matched_cost = m.matched_cost.saturating_add(part);
            m.lots_touched += 1;
            let hold = t_ms - l.t_ms;
            m.hold_ms = m.hold_ms.saturating_add(hold);
            if l.flags & LOT_MATCHED == 0 {
                l.flags |= LOT_MATCHED;
                exits.lots += 1;
                if l.flags & (LOT_COPIED | LOT_MOVED) != 0 {
                    holds.push(hold);
                }
                if l.flags & LOT_COPIED != 0 && hold - i64::from(l.follow_dt) <= sell_into_ms {
                    exits.into += 1;
                }
            }
            if l.tokens == 0 {
                gone += 1;
            }
        }
        if gone > 0 {
            self.lots.copy_within(gone..n, 0);
            self.len -= u8::try_from(gone).unwrap_or(self.len);
        }
        m.finish(tokens, proceeds);
        (m, exits)
    }
}

/// Lots (buys) a sell took from for the first time, and those of them
/// sold into followers. Later pieces of a lot do not count again: the
/// "sold into followers" flag weighs buys, not sells.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Exits {
    pub lots: u32,
    pub into: u32,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::analytics::fifo::{buy_cost, sell_proceeds};
    use proptest::prelude::*;

    fn lot(tokens: u64, cost: u64, t_ms: i64) -> Lot {
        Lot {
            tokens,
            cost,
            t_ms,
            ..Lot::default()
        }
    }

    #[test]
    fn fifo_within_a_position() {
        let mut p = Position::new(0);
        let mut h = Holds::default();
        p.buy(lot(10, 100, 0), 4);
        p.buy(lot(10, 300, 2), 4);
        let (m, exits) = p.sell(15, 1_000, 10, 0, &mut h);
        assert_eq!(exits, Exits { lots: 2, into: 0 });
        assert_eq!(m.matched_cost, 100 + 150);
        assert_eq!(m.realized, 750);
        assert_eq!(m.hold_ms, 10 + 8);
        assert_eq!(p.lots().len(), 1);
        assert_eq!((p.tokens(), p.cost()), (5, 150));
        let (m, exits) = p.sell(10, 1_000, 11, 0, &mut h);
        assert_eq!(m.unmatched_tokens, 5);
        assert_eq!(exits.lots, 0, "the second lot was sold from before");
        assert!(p.is_empty());
    }

    #[test]
    fn cap_merges_into_the_newest_lot() {
        let mut p = Position::new(0);
        for i in 0..6 {
            p.buy(lot(1, 10, i), 2);
        }
        assert_eq!(p.lots().len(), 2);
        assert_eq!(p.lots()[1].tokens, 5);
        assert_eq!((p.tokens(), p.cost()), (6, 60));
    }

    #[test]
    fn copied_and_moved_lots_give_hold_samples() {
        let mut p = Position::new(0);
        let mut h = Holds::default();
        p.buy(lot(10, 100, 0), 4);
        p.buy(
            Lot {
                flags: LOT_MOVED,
                ..lot(10, 100, 5)
            },
            4,
        );
        p.mark_copied(0, 1_000);
        p.mark_copied(0, 2_000);
        assert_eq!(p.lots()[0].follow_dt, 1_000, "the first copier counts");
        let (_, exits) = p.sell(20, 500, 61_000, 60_000, &mut h);
        // The copied lot went 60 s after its copier's buy; the other lot
        // was not copied.
        assert_eq!(exits, Exits { lots: 2, into: 1 });
        assert_eq!(h.to_vec(), vec![61_000, 60_995]);
    }

    #[test]
    fn a_lot_sold_in_pieces_is_one_exit() {
        let mut p = Position::new(0);
        let mut h = Holds::default();
        p.buy(lot(30, 300, 0), 4);
        p.mark_copied(0, 1_000);
        let mut total = Exits::default();
        for t in [5_000, 6_000, 7_000] {
            let (_, e) = p.sell(10, 100, t, 120_000, &mut h);
            total.lots += e.lots;
            total.into += e.into;
        }
        assert_eq!(total, Exits { lots: 1, into: 1 });
        assert_eq!(h.len(), 1);
        // Sold after the window: an exit, not into followers.
        let mut late = Position::new(0);
        late.buy(lot(10, 100, 0), 4);
        late.mark_copied(0, 1_000);
        assert_eq!(
            late.sell(10, 100, 122_000, 120_000, &mut h).1,
            Exits { lots: 1, into: 0 }
        );
    }

    /// One trade of a generated position: buy `net` lamports into the
    /// curve for `tokens` tokens, or sell a fraction (per mille) of what is
    /// held for `gross` lamports out of the curve.
    #[derive(Debug, Clone)]
    enum Step {
        Buy { net: u64, tokens: u64 },
        Sell { per_mille: u64, gross: u64 },
    }

    fn step() -> impl Strategy<Value = Step> {
        prop_oneof![
            (1u64..50_000_000_000, 1u64..100_000_000_000_000)
                .prop_map(|(net, tokens)| Step::Buy { net, tokens }),
            (1u64..=1000, 0u64..80_000_000_000)
                .prop_map(|(per_mille, gross)| Step::Sell { per_mille, gross }),
        ]
    }

    proptest! {
        /// Closing a position realizes exactly its cash flow, fees
        /// included, whatever the order and sizes of buys and partial
        /// sells, and whether or not the lot cap merges lots.
        #[test]
        fn closed_position_realizes_its_cash_flow(
            steps in proptest::collection::vec(step(), 1..60),
            cap in 1usize..=LOTS_INLINE,
            bps in 0u32..500,
        ) {
            let mut p = Position::new(0);
            let mut h = Holds::default();
            let mut cash: i128 = 0;
            let mut realized: i128 = 0;
            for (i, s) in steps.iter().enumerate() {
                let t = i64::try_from(i).unwrap() * 1_000;
                match *s {
                    Step::Buy { net, tokens } => {
                        let c = buy_cost(net, bps);
                        cash -= i128::from(c);
                        p.buy(Lot { tokens, cost: c, t_ms: t, ..Lot::default() }, cap);
                    }
                    Step::Sell { per_mille, gross } => {
                        let held = p.tokens();
                        let n = u64::try_from(u128::from(held) * u128::from(per_mille) / 1000).unwrap();
                        if n == 0 { continue; }
                        let got = sell_proceeds(gross, bps);
                        cash += i128::from(got);
                        let (m, _) = p.sell(n, got, t, 0, &mut h);
                        prop_assert_eq!(m.unmatched_tokens, 0);
                        realized += i128::from(m.realized);
                    }
                }
                prop_assert!(p.lots().len() <= cap);
            }
            // Close what is left.
            let held = p.tokens();
            if held > 0 {
                let got = sell_proceeds(1_000_000, bps);
                cash += i128::from(got);
                realized += i128::from(p.sell(held, got, 0, 0, &mut h).0.realized);
            }
            prop_assert!(p.is_empty());
            prop_assert_eq!((p.tokens(), p.cost()), (0, 0));
            prop_assert_eq!(realized, cash);
        }
    }
}
