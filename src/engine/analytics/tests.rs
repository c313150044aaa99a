//! Analytics scenarios with hand-built trades on the real curve math, and
//! property tests against brute-force oracles.

use std::collections::HashMap;

use proptest::prelude::*;

use super::*;
use crate::domain::{Lamports, Signature, TokenAmount};
use crate::engine::curve::{Curve, Fees};

const SOL: u64 = 1_000_000_000;
/// A Monday, 00:00 UTC (day and hour boundaries are easy to read).
const T0: i64 = 1_760_918_400_000;
const SEC: i64 = 1_000;
const MIN: i64 = 60 * SEC;

fn wallet(n: u8) -> WalletAddress {
    WalletAddress::from_bytes([n; 32])
}

fn mint(n: u8) -> Mint {
    let mut b = [0xEE; 32];
    b[0] = n;
    Mint::from_bytes(b)
}

/// A market of curves that produces real trade events.
#[derive(Default)]
struct Market {
    curves: HashMap<u8, Curve>,
    held: HashMap<(u8, u8), u64>,
    n: u64,
}

impl Market {
    fn event(&mut self, w: u8, m: u8, side: Side, net: u64, tokens: u64, t: i64) -> TradeEvent {
        self.n += 1;
        let mut sig = [3u8; 64];
        sig[..8].copy_from_slice(&self.n.to_le_bytes());
        let c = self.curves[&m];
        TradeEvent {
            signature: Signature::from_bytes(&sig),
            mint: mint(m),
            trader: wallet(w),
            side,
            sol: Lamports(net),
            tokens: TokenAmount(tokens),
            timestamp_ms: t,
            slot: None,
            virtual_sol: Lamports(c.virtual_sol),
            virtual_tokens: TokenAmount(c.virtual_tokens),
            trader_balance_after: None,
            created: false,
            on_curve: true,
        }
    }

    /// Buys for `gross` lamports (fees included).
    fn buy(&mut self, w: u8, m: u8, gross: u64, t: i64) -> TradeEvent {
        let c = self.curves.entry(m).or_insert_with(Curve::fresh);
        let q = c.quote_buy(Lamports(gross), Fees::default());
        let net = q.sol.0 - q.fee.0;
        c.apply(true, net, q.tokens.0);
        *self.held.entry((w, m)).or_default() += q.tokens.0;
        self.event(w, m, Side::Buy, net, q.tokens.0, t)
    }

    fn sell(&mut self, w: u8, m: u8, tokens: u64, t: i64) -> TradeEvent {
        let c = self.curves.entry(m).or_insert_with(Curve::fresh);
        let gross = c.gross_sol_for_tokens(tokens);
        c.apply(false, gross, tokens);
        let h = self.held.entry((w, m)).or_default();
        *h = h.saturating_sub(tokens);
        self.event(w, m, Side::Sell, gross, tokens, t)
    }

    fn sell_all(&mut self, w: u8, m: u8, t: i64) -> Option<TradeEvent> {
        let n = self.held.get(&(w, m)).copied().unwrap_or(0);
        (n > 0).then(|| self.sell(w, m, n, t))
    }
}

fn cfg() -> AnalyticsConfig {
    AnalyticsConfig::default()
}

fn feed(a: &mut Analytics, ev: &TradeEvent) -> Vec<AnalyticsEvent> {
    a.on_trade(ev)
}

fn cost_of(ev: &TradeEvent) -> i128 {
    i128::from(ev.sol.0) * 10_125 / 10_000
}

fn proceeds_of(ev: &TradeEvent) -> i128 {
    i128::from(ev.sol.0) - i128::from(ev.sol.0) * 125 / 10_000
}

// ---------------------------------------------------------------- PnL

#[test]
fn realized_pnl_includes_both_fees() {
    let mut mk = Market::default();
    let mut a = Analytics::new(cfg());
    let b = mk.buy(1, 1, SOL, T0);
    feed(&mut a, &b);
    // Someone else pumps the price, then the wallet sells everything.
    feed(&mut a, &mk.buy(2, 1, 10 * SOL, T0 + SEC));
    let s = mk.sell_all(1, 1, T0 + 2 * SEC).unwrap();
    feed(&mut a, &s);
    let c = a.card(&wallet(1)).unwrap();
    let expected = proceeds_of(&s) - cost_of(&b);
    assert_eq!(i128::from(c.all_time.realized_pnl), expected);
    assert!(c.all_time.realized_pnl > 0);
    let cost = i128::from(b.sol.0) * 10_125 / 10_000;
    #[allow(clippy::cast_precision_loss)]
    let roi = expected as f64 / cost as f64;
    assert!((c.all_time.roi - roi).abs() < 1e-12);
    assert_eq!(
        (c.all_time.buys, c.all_time.sells, c.all_time.trades),
        (1, 1, 2)
    );
    assert_eq!(c.all_time.tokens, 1);
    assert_eq!(c.all_time.volume, b.sol.0 + s.sol.0);
    assert_eq!(c.all_time.avg_hold_ms, 2_000);
    assert_eq!(c.all_time.unrealized_pnl, 0);
    // The same figure in every window.
    for (_, st) in c.windows {
        assert_eq!(i128::from(st.realized_pnl), expected);
    }
}

#[test]
fn sells_without_lots_realize_nothing_and_are_counted() {
    let mut mk = Market::default();
    let mut a = Analytics::new(cfg());
    // Wallet 1 bought before we saw it: only its sell reaches us.
    let b = mk.buy(1, 1, SOL, T0);
    let s = mk.sell(1, 1, b.tokens.0 / 2, T0 + SEC);
    feed(&mut a, &s);
    let c = a.card(&wallet(1)).unwrap();
    assert_eq!(c.all_time.realized_pnl, 0);
    assert_eq!(c.all_time.sells, 1);
    assert_eq!(a.counters().unmatched_sells, 1);
    // Half matched, half not: only the matched half realizes.
    let b2 = mk.buy(1, 1, SOL, T0 + 2 * SEC);
    feed(&mut a, &b2);
    let s2 = mk.sell(1, 1, b2.tokens.0 * 2, T0 + 3 * SEC);
    feed(&mut a, &s2);
    let c = a.card(&wallet(1)).unwrap();
    let half = proceeds_of(&s2) * i128::from(b2.tokens.0) / i128::from(s2.tokens.0);
    assert_eq!(i128::from(c.all_time.realized_pnl), half - cost_of(&b2));
    assert_eq!(a.counters().unmatched_sells, 2);
}

#[test]
fn unrealized_pnl_at_the_last_curve_price() {
    let mut mk = Market::default();
    let mut a = Analytics::new(cfg());
    let b = mk.buy(1, 1, SOL, T0);
    feed(&mut a, &b);
    let c = a.card(&wallet(1)).unwrap();
    // Selling right back loses about two fees.
    assert!(c.all_time.unrealized_pnl < 0);
    assert!(c.all_time.unrealized_pnl > -(SOL as i64) / 20);
    feed(&mut a, &mk.buy(2, 1, 20 * SOL, T0 + SEC));
    let c = a.card(&wallet(1)).unwrap();
    let value = Curve::new(mk.curves[&1].virtual_sol, mk.curves[&1].virtual_tokens)
        .quote_sell(b.tokens, Fees::default())
        .sol
        .0;
    assert_eq!(
        i128::from(c.all_time.unrealized_pnl),
        i128::from(value) - cost_of(&b)
    );
    let p = a.last_price(&mint(1)).unwrap();
    let c1 = mk.curves[&1];
    assert_eq!(
        p,
        u128::from(c1.virtual_sol) * 1_000_000_000 / u128::from(c1.virtual_tokens)
    );
    assert_eq!(a.last_price(&mint(9)), None);
}

/// One generated trade: wallet, mint, buy size or sell fraction, delay.
#[derive(Debug, Clone)]
struct Gen {
    w: u8,
    m: u8,
    buy: bool,
    amount: u64,
    dt: i64,
}

fn gen_trade() -> impl Strategy<Value = Gen> {
    (0u8..4, 0u8..3, any::<bool>(), 1u64..5_000, 0i64..120_000).prop_map(
        |(w, m, buy, amount, dt)| Gen {
            w,
            m,
            buy,
            amount,
            dt,
        },
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Through the whole analytics: once every position is closed, each
    /// wallet's realized PnL is exactly its cash flow, fees included; and
    /// the window sums agree with the all-time figures.
    #[test]
    fn realized_pnl_equals_cash_flow_of_closed_positions(
        trades in proptest::collection::vec(gen_trade(), 1..120),
    ) {
        let mut mk = Market::default();
        let mut a = Analytics::new(AnalyticsConfig { lots_per_mint: 3, ..cfg() });
        let mut cash: HashMap<u8, i128> = HashMap::new();
        let mut t = T0;
        let apply = |a: &mut Analytics, ev: TradeEvent, cash: &mut HashMap<u8, i128>| {
            let w = ev.trader.as_bytes()[0];
            let flow = match ev.side {
                Side::Buy => -cost_of(&ev),
                Side::Sell => proceeds_of(&ev),
            };
            *cash.entry(w).or_default() += flow;
            a.on_trade(&ev);
        };
        for g in &trades {
            t += g.dt;
            let w = g.w + 1;
            if g.buy {
                let ev = mk.buy(w, g.m, g.amount * 1_000_000, t);
                apply(&mut a, ev, &mut cash);
            } else {
                let held = mk.held.get(&(w, g.m)).copied().unwrap_or(0);
                let n = u64::try_from(u128::from(held) * u128::from(g.amount % 1001) / 1000).unwrap();
                if n > 0 {
                    let ev = mk.sell(w, g.m, n, t);
                    apply(&mut a, ev, &mut cash);
                }
            }
        }
        for w in 1..=4u8 {
            for m in 0..3u8 {
                t += 1;
                if let Some(ev) = mk.sell_all(w, m, t) {
                    apply(&mut a, ev, &mut cash);
                }
            }
        }
        prop_assert_eq!(a.counters().unmatched_sells, 0);
        for (w, flow) in cash {
            let c = a.card(&wallet(w)).unwrap();
            prop_assert_eq!(i128::from(c.all_time.realized_pnl), flow, "wallet {}", w);
            prop_assert_eq!(c.all_time.unrealized_pnl, 0);
            // 30 days covers the whole run.
            prop_assert_eq!(c.windows[2].1.realized_pnl, c.all_time.realized_pnl);
            prop_assert_eq!(c.windows[2].1.volume, c.all_time.volume);
        }
    }
}

/// The real pump.fun sample: realized PnL per wallet equals an independent
/// FIFO computation from the file (reserves do not matter for PnL).
#[test]
fn real_sample_realized_pnl_matches_an_independent_fifo() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../shared/data/pumpfun_onchain_swaps_2025-10-20.jsonl"
    );
    let Ok(text) = std::fs::read_to_string(path) else {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must have ../shared/data"
        );
        return;
    };
    let mut a = Analytics::new(cfg());
    let mut lots: HashMap<(String, String), std::collections::VecDeque<(u64, u64)>> =
        HashMap::new();
    let mut realized: HashMap<String, i128> = HashMap::new();
    let mut n = 0;
    for line in text.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        let user = v["user"].as_str().unwrap().to_owned();
        let mint_s = v["mint"].as_str().unwrap().to_owned();
        let sol = v["sol_lamports"].as_u64().unwrap();
        let tokens = v["token_raw"].as_u64().unwrap();
        let is_buy = v["is_buy"].as_bool().unwrap();
        let ev = TradeEvent {
            signature: Signature::parse(v["signature"].as_str().unwrap()).unwrap(),
            mint: Mint::parse(&mint_s).unwrap(),
            trader: WalletAddress::parse(&user).unwrap(),
            side: if is_buy { Side::Buy } else { Side::Sell },
            sol: Lamports(sol),
            tokens: TokenAmount(tokens),
            timestamp_ms: v["timestamp"].as_i64().unwrap() * 1000,
            slot: v["slot"].as_u64(),
            virtual_sol: Lamports(30 * SOL),
            virtual_tokens: TokenAmount(1_073_000_000_000_000),
            trader_balance_after: None,
            created: false,
            on_curve: true,
        };
        a.on_trade(&ev);
        n += 1;
        if tokens == 0 {
            continue;
        }
        // Independent FIFO: per-lot proceeds shares, summed.
        let q = lots.entry((user.clone(), mint_s)).or_default();
        let r = realized.entry(user).or_default();
        if is_buy {
            q.push_back((tokens, sol * 10_125 / 10_000));
        } else {
            let proceeds = u128::from(sol - sol * 125 / 10_000);
            let mut left = tokens;
            let mut matched = 0u64;
            let mut cost = 0u128;
            while left > 0 {
                let Some(lot) = q.front_mut() else { break };
                let take = left.min(lot.0);
                let part = if take == lot.0 {
                    u128::from(lot.1)
                } else {
                    u128::from(lot.1) * u128::from(take) / u128::from(lot.0)
                };
                lot.0 -= take;
                lot.1 -= u64::try_from(part).unwrap();
                left -= take;
                matched += take;
                cost += part;
                if lot.0 == 0 {
                    q.pop_front();
                }
            }
            let got = proceeds * u128::from(matched) / u128::from(tokens);
            *r += i128::try_from(got).unwrap() - i128::try_from(cost).unwrap();
        }
    }
    assert_eq!(n, 1_292);
    assert_eq!(a.tracked_wallets(), realized.len());
    let mut nonzero = 0;
    for (user, r) in realized {
        let c = a.card(&WalletAddress::parse(&user).unwrap()).unwrap();
        assert_eq!(i128::from(c.all_time.realized_pnl), r, "{user}");
        nonzero += usize::from(r != 0);
    }
    assert!(nonzero > 50, "{nonzero}");
}

// ------------------------------------------------------------ outcomes

#[test]
fn outcome_win_when_vwap_rises_twenty_percent() {
    let mut mk = Market::default();
    let mut a = Analytics::new(cfg());
    feed(&mut a, &mk.buy(1, 1, SOL / 10, T0));
    let c = a.card(&wallet(1)).unwrap();
    assert_eq!(c.all_time.wins + c.all_time.losses, 0, "pending");
    // A whale pushes the price: the VWAP of the last trades passes +20%.
    feed(&mut a, &mk.buy(2, 1, 20 * SOL, T0 + SEC));
    let c = a.card(&wallet(1)).unwrap();
    assert_eq!((c.all_time.wins, c.all_time.losses), (1, 0));
    assert_eq!((c.scores.window_wins, c.scores.window_losses), (1, 0));
    assert_eq!(a.counters().wins, 1);
}

#[test]
fn outcome_loss_when_vwap_falls_eight_percent() {
    let mut mk = Market::default();
    let mut a = Analytics::new(cfg());
    feed(&mut a, &mk.buy(2, 1, 20 * SOL, T0));
    feed(&mut a, &mk.buy(1, 1, SOL / 10, T0 + SEC));
    // The whale's buy is itself still pending: it wins or loses too.
    let dump = mk.sell_all(2, 1, T0 + 2 * SEC).unwrap();
    feed(&mut a, &dump);
    let c = a.card(&wallet(1)).unwrap();
    assert_eq!((c.all_time.wins, c.all_time.losses), (0, 1));
}

#[test]
fn outcome_expires_as_a_loss_by_trade_or_by_tick() {
    let mut mk = Market::default();
    let mut a = Analytics::new(cfg());
    // Mint 1 keeps trading flat: the horizon passes on a trade.
    feed(&mut a, &mk.buy(1, 1, SOL / 10, T0));
    feed(&mut a, &mk.buy(3, 1, SOL / 1000, T0 + 14 * MIN));
    assert_eq!(a.card(&wallet(1)).unwrap().all_time.losses, 0);
    feed(&mut a, &mk.buy(3, 1, SOL / 1000, T0 + 15 * MIN + 1));
    assert_eq!(a.card(&wallet(1)).unwrap().all_time.losses, 1);
    // Mint 2 goes silent: a tick expires it.
    feed(&mut a, &mk.buy(4, 2, SOL / 10, T0 + 16 * MIN));
    a.tick(T0 + 30 * MIN);
    assert_eq!(a.card(&wallet(4)).unwrap().all_time.losses, 0);
    a.tick(T0 + 32 * MIN);
    assert_eq!(a.card(&wallet(4)).unwrap().all_time.losses, 1);
    assert!(a.counters().expired >= 2);
}

#[test]
fn pending_outcomes_are_capped_per_mint() {
    let mut mk = Market::default();
    let mut a = Analytics::new(AnalyticsConfig {
        max_pending_per_mint: 3,
        ..cfg()
    });
    for i in 0..5u8 {
        feed(&mut a, &mk.buy(10 + i, 1, SOL / 1000, T0 + i64::from(i)));
    }
    assert_eq!(a.counters().pending_dropped, 2);
}

// -------------------------------------------------------------- scores

#[test]
fn bayesian_score_on_the_card() {
    let mut a = Analytics::new(cfg());
    let mut mk = Market::default();
    // No outcome yet: the prior.
    feed(&mut a, &mk.buy(1, 1, SOL, T0));
    let s = a.card(&wallet(1)).unwrap().scores;
    assert!((s.posterior - 0.375).abs() < 1e-12);
    // Same hour, 1 SOL average buy: recency 1.3, size 1.25.
    assert!((s.recency_boost - 1.3).abs() < 1e-12);
    assert!((s.size_factor - 1.25).abs() < 1e-9);
    assert!((s.bayesian - 0.375 * 1.3 * 1.25).abs() < 1e-9);

    // Ten wins in the hour: 13/18.
    let mut a = Analytics::new(cfg());
    let mut mk = Market::default();
    for i in 0..10u8 {
        let t = T0 + i64::from(i) * MIN;
        feed(&mut a, &mk.buy(1, 10 + i, SOL / 10, t));
        feed(&mut a, &mk.buy(2, 10 + i, 20 * SOL, t + SEC));
    }
    let s = a.card(&wallet(1)).unwrap().scores;
    assert_eq!((s.window_wins, s.window_losses), (10, 0));
    assert!((s.posterior - 13.0 / 18.0).abs() < 1e-12);
    // 0.1 SOL average: no size factor.
    assert!((s.size_factor - 1.0).abs() < 1e-12);
    assert!((s.wilson_lower - 0.7225).abs() < 1e-4);

    // Ten losses: 3/18.
    let mut a = Analytics::new(cfg());
    let mut mk = Market::default();
    for i in 0..10u8 {
        let t = T0 + i64::from(i) * MIN;
        feed(&mut a, &mk.buy(2, 10 + i, 20 * SOL, t));
        feed(&mut a, &mk.buy(1, 10 + i, SOL / 10, t + SEC));
        feed(&mut a, &mk.sell_all(2, 10 + i, t + 2 * SEC).unwrap());
    }
    let s = a.card(&wallet(1)).unwrap().scores;
    assert_eq!((s.window_wins, s.window_losses), (0, 10));
    assert!((s.posterior - 3.0 / 18.0).abs() < 1e-12);
    // Sixty minutes later the window is empty again: back to the prior.
    a.tick(T0 + 9 * MIN + 61 * MIN);
    let s = a.card(&wallet(1)).unwrap().scores;
    assert_eq!((s.window_wins, s.window_losses), (0, 0));
    assert!((s.posterior - 0.375).abs() < 1e-12);
    assert!(s.recency_boost < 1.3);
}

#[test]
fn pnl_excluding_the_best_trade() {
    let mut mk = Market::default();
    let mut a = Analytics::new(cfg());
    let mut pnls = Vec::new();
    for (i, pump) in [20 * SOL, SOL, 0].into_iter().enumerate() {
        let m = u8::try_from(i).unwrap();
        let t = T0 + i64::from(m) * MIN;
        feed(&mut a, &mk.buy(1, m, SOL, t));
        if pump > 0 {
            feed(&mut a, &mk.buy(2, m, pump, t + SEC));
        }
        let s = mk.sell_all(1, m, t + 2 * SEC).unwrap();
        feed(&mut a, &s);
        pnls.push(a.card(&wallet(1)).unwrap().all_time.realized_pnl);
    }
    let c = a.card(&wallet(1)).unwrap();
    let best = pnls[0];
    assert!(best > 0);
    assert_eq!(c.scores.pnl_excluding_best, c.all_time.realized_pnl - best);
}

// --------------------------------------------------------------- flags

/// Wallet 1 buys mint `m`; `copiers` wallets (new ones each round, so
/// they form no co-buy cluster with it) copy within 2 s; wallet 1 sells
/// after `hold`.
fn farm(a: &mut Analytics, mk: &mut Market, m: u8, t: i64, hold: i64, copiers: u8) {
    feed(a, &mk.buy(1, m, SOL / 2, t));
    for k in 0..copiers {
        feed(
            a,
            &mk.buy(20 + 4 * m + k, m, SOL / 4, t + 1_000 + i64::from(k) * 300),
        );
    }
    feed(a, &mk.sell_all(1, m, t + hold).unwrap());
}

#[test]
fn quick_flip_after_copied_buys() {
    let mut mk = Market::default();
    let mut a = Analytics::new(cfg());
    for i in 0..3u8 {
        farm(
            &mut a,
            &mut mk,
            i,
            T0 + i64::from(i) * 10 * MIN,
            10 * SEC,
            2,
        );
        let flagged = a.card(&wallet(1)).unwrap().flags.contains(&Flag::QuickFlip);
        assert_eq!(flagged, i == 2, "needs 3 samples");
    }
    let c = a.card(&wallet(1)).unwrap();
    assert!(!c.ranked);
    // Dumping on the copiers 10 s after their buys is also selling into
    // followers, once it is a pattern: three buys are not enough, the
    // fourth is.
    assert_eq!(a.flagged(), vec![(wallet(1), vec![Flag::QuickFlip])]);
    farm(&mut a, &mut mk, 3, T0 + 30 * MIN, 10 * SEC, 2);
    assert_eq!(
        a.flagged(),
        vec![(wallet(1), vec![Flag::QuickFlip, Flag::SoldIntoFollowers])]
    );

    // The same quick holds without copiers and with small buys: no flag.
    let mut mk = Market::default();
    let mut a = Analytics::new(cfg());
    for i in 0..4u8 {
        let t = T0 + i64::from(i) * 10 * MIN;
        feed(&mut a, &mk.buy(1, i, SOL / 100, t));
        feed(&mut a, &mk.sell_all(1, i, t + 10 * SEC).unwrap());
    }
    assert!(a.card(&wallet(1)).unwrap().flags.is_empty());
}

#[test]
fn quick_flip_after_buys_that_moved_the_price() {
    let mut mk = Market::default();
    let mut a = Analytics::new(cfg());
    for i in 0..3u8 {
        let t = T0 + i64::from(i) * 10 * MIN;
        // 3 SOL into a fresh curve moves the price ~20%.
        feed(&mut a, &mk.buy(1, i, 3 * SOL, t));
        feed(&mut a, &mk.sell_all(1, i, t + 5 * SEC).unwrap());
    }
    assert_eq!(a.card(&wallet(1)).unwrap().flags, vec![Flag::QuickFlip]);
}

#[test]
fn patient_copied_wallet_is_not_flagged() {
    let mut mk = Market::default();
    let mut a = Analytics::new(cfg());
    for i in 0..4u8 {
        farm(&mut a, &mut mk, i, T0 + i64::from(i) * 10 * MIN, 5 * MIN, 2);
    }
    assert!(a.card(&wallet(1)).unwrap().flags.is_empty());
}

#[test]
fn sold_into_followers() {
    let mut mk = Market::default();
    let mut a = Analytics::new(cfg());
    // Holds 60 s (not a quick flip), but each time sells within a minute
    // of the copiers' buys: four times in four is a pattern.
    for i in 0..4u8 {
        farm(
            &mut a,
            &mut mk,
            i,
            T0 + i64::from(i) * 10 * MIN,
            60 * SEC,
            3,
        );
    }
    let c = a.card(&wallet(1)).unwrap();
    assert_eq!(c.flags, vec![Flag::SoldIntoFollowers]);
    assert!(!c.ranked);
    // The copiers are not flagged: nobody copied them.
    assert!(a.card(&wallet(20)).unwrap().flags.is_empty());
}

/// A trader whose buys are copied and who sometimes takes a quick profit
/// (within a minute of its copiers) is not flagged: three such sells in
/// five buys is not yet a pattern (the old rule, half of the sells and
/// three at least, flagged it), nor is a third of its buys later on.
#[test]
fn an_occasional_quick_profit_is_not_selling_into_followers() {
    let mut mk = Market::default();
    let mut a = Analytics::new(cfg());
    let holds = [60, 60, 300, 60, 300, 300, 300, 60, 300, 300, 300, 300];
    for (i, hold) in holds.into_iter().enumerate() {
        let m = u8::try_from(i).unwrap();
        farm(
            &mut a,
            &mut mk,
            m,
            T0 + i64::from(m) * 10 * MIN,
            hold * SEC,
            2,
        );
        let c = a.card(&wallet(1)).unwrap();
        assert!(c.flags.is_empty(), "after buy {i}: {:?}", c.flags);
    }
}

/// Ring wallets 40..44 co-buy the same mints within a second and sell
/// five minutes later; wallet 50 trades the same mints on its own.
fn sybil_market(rounds: u8) -> Analytics {
    let mut mk = Market::default();
    let mut a = Analytics::new(AnalyticsConfig {
        min_outcomes: 1,
        ..cfg()
    });
    for r in 0..rounds {
        let m = r;
        let t = T0 + i64::from(r) * 10 * MIN;
        // In a different order each round, as a ring's wallets buy.
        for k in 0..4u8 {
            let who = 40 + (k + r) % 4;
            feed(&mut a, &mk.buy(who, m, SOL / 10, t + i64::from(k) * 200));
        }
        // A pump decides the ring's buys as wins.
        feed(&mut a, &mk.buy(60, m, 20 * SOL, t + 30 * SEC));
        feed(&mut a, &mk.buy(50, m, SOL / 10, t + 90 * SEC));
        for k in 0..4u8 {
            feed(&mut a, &mk.sell_all(40 + k, m, t + 5 * MIN).unwrap());
        }
    }
    a
}

#[test]
fn sybil_ring_is_clustered_and_only_its_best_ranked() {
    let mut a = sybil_market(6);
    a.tick(T0 + 6 * 10 * MIN + 6 * MIN);
    let ring: Vec<WalletCard> = (40..44u8).map(|k| a.card(&wallet(k)).unwrap()).collect();
    let ranked: Vec<&WalletCard> = ring.iter().filter(|c| c.ranked).collect();
    assert_eq!(ranked.len(), 1, "{ring:#?}");
    let best = ranked[0];
    assert_eq!(
        best.flags,
        vec![Flag::Sybil],
        "flagged, and its cluster's one place"
    );
    assert_eq!(best.cluster.len(), 3);
    for c in ring.iter().filter(|c| !c.ranked) {
        assert_eq!(c.flags, vec![Flag::Sybil]);
        assert!(c.cluster.contains(&best.wallet));
    }
    // The independent wallet and the whale are not in any cluster.
    assert!(a.card(&wallet(50)).unwrap().cluster.is_empty());
    assert!(a.card(&wallet(60)).unwrap().cluster.is_empty());
    // Only the best of the ring appears on the boards.
    let rows = a.leaderboard(Metric::Volume, Window::H24, 0, 100);
    let ring_rows = rows
        .iter()
        .filter(|r| (40..44).contains(&r.wallet.as_bytes()[0]))
        .count();
    assert_eq!(ring_rows, 1);
}

#[test]
fn few_co_buys_do_not_make_a_cluster() {
    // Four rounds: under `cobuy_min_pairs` (5).
    let mut a = sybil_market(4);
    a.tick(T0 + 50 * MIN);
    for k in 40..44u8 {
        assert!(a.card(&wallet(k)).unwrap().cluster.is_empty());
    }
}

/// Ten rounds of co-buys a second apart by wallets 1, 2 and 3; wallet 3
/// joins the rounds in `joins` only. `order` gives who buys first.
fn co_buy_rounds(joins: &[u8], order: impl Fn(u8) -> [u8; 3]) -> Analytics {
    let mut mk = Market::default();
    let mut a = Analytics::new(cfg());
    for r in 0..10u8 {
        let t = T0 + i64::from(r) * 5 * MIN;
        let mut k = 0;
        for w in order(r) {
            if w == 3 && !joins.contains(&r) {
                continue;
            }
            feed(&mut a, &mk.buy(w, r, SOL / 10, t + k * SEC));
            k += 1;
        }
    }
    a.tick(T0 + 60 * MIN);
    a
}

fn cluster_of(a: &Analytics, w: u8) -> Vec<WalletAddress> {
    let mut c = a.card(&wallet(w)).unwrap().cluster;
    c.sort();
    c
}

#[test]
fn a_ring_member_that_skips_some_buys_still_joins_its_ring() {
    // Wallet 3 joins six of the ten rounds: every one of its buys is a
    // co-buy (most of its buys, the rule), though only six in
    // ten of the others' (a pair rule on both sides missed it).
    let rotate = |r: u8| [1 + r % 3, 1 + (r + 1) % 3, 1 + (r + 2) % 3];
    let a = co_buy_rounds(&[0, 2, 3, 5, 7, 9], rotate);
    let mut want = vec![wallet(1), wallet(2)];
    want.sort();
    assert_eq!(cluster_of(&a, 3), want);
    // Joining half of the rounds: not over half of the others' buys.
    let a = co_buy_rounds(&[0, 2, 4, 6, 8], rotate);
    assert!(cluster_of(&a, 3).is_empty());
    assert_eq!(cluster_of(&a, 1), vec![wallet(2)]);
}

#[test]
fn a_copier_that_always_buys_second_is_not_a_ring() {
    // Wallet 1 leads every time; wallets 2 and 3 copy it a second and two
    // later: they are followers of wallet 1, not its ring. Between the two
    // copiers the order is mixed, so they are a cluster of their own.
    let a = co_buy_rounds(&[0, 1, 2, 3, 4, 5, 6, 7, 8, 9], |r| {
        if r % 2 == 0 { [1, 2, 3] } else { [1, 3, 2] }
    });
    assert!(cluster_of(&a, 1).is_empty());
    assert_eq!(a.card(&wallet(1)).unwrap().flags, vec![]);
    assert_eq!(cluster_of(&a, 2), vec![wallet(3)]);
}

// ------------------------------------------------------- tiers, events

#[test]
fn tier_promotion_and_demotion_events() {
    let mut mk = Market::default();
    let mut a = Analytics::new(cfg());
    let mut events = Vec::new();
    // Five winning round trips, then a run of losses.
    for i in 0..5u8 {
        let t = T0 + i64::from(i) * 2 * MIN;
        events.extend(feed(&mut a, &mk.buy(1, i, 2 * SOL, t)));
        events.extend(feed(&mut a, &mk.buy(2, i, 30 * SOL, t + 10 * SEC)));
        events.extend(feed(&mut a, &mk.sell_all(1, i, t + 60 * SEC).unwrap()));
    }
    let promoted: Vec<&AnalyticsEvent> = events
        .iter()
        .filter(|e| matches!(e, AnalyticsEvent::TierChanged { wallet: w, .. } if *w == wallet(1)))
        .collect();
    assert_eq!(promoted.len(), 1, "{events:#?}");
    let AnalyticsEvent::TierChanged {
        from,
        to,
        win_rate_after,
        ..
    } = promoted[0]
    else {
        unreachable!()
    };
    assert_eq!(*from, None);
    assert_eq!(*to, Some(Tier::S));
    assert!((win_rate_after - 1.0).abs() < 1e-9);
    assert_eq!(a.card(&wallet(1)).unwrap().tier, Some(Tier::S));

    events.clear();
    for i in 5..30u8 {
        let t = T0 + 10 * MIN + i64::from(i) * 2 * MIN;
        events.extend(feed(&mut a, &mk.buy(3, i, 30 * SOL, t)));
        events.extend(feed(&mut a, &mk.buy(1, i, 2 * SOL, t + SEC)));
        events.extend(feed(&mut a, &mk.sell_all(3, i, t + 2 * SEC).unwrap()));
        // Held a minute: a loser, not a farmer.
        events.extend(feed(&mut a, &mk.sell_all(1, i, t + 60 * SEC).unwrap()));
    }
    let changes: Vec<(Option<Tier>, Option<Tier>, f64, f64)> = events
        .iter()
        .filter_map(|e| match e {
            AnalyticsEvent::TierChanged {
                wallet: w,
                from,
                to,
                win_rate_before,
                win_rate_after,
                ..
            } if *w == wallet(1) => Some((*from, *to, *win_rate_before, *win_rate_after)),
            _ => None,
        })
        .collect();
    assert!(!changes.is_empty());
    // Each step goes down, and reports the win rate before and after.
    let mut last = Some(Tier::S);
    for (from, to, before, after) in &changes {
        assert_eq!(*from, last);
        assert!(to > from, "{changes:?}");
        assert!(after < before, "{changes:?}");
        last = *to;
    }
    assert_eq!(last, Some(Tier::C), "{changes:?}");
}

/// Discoveries of `w`, as (metric, window), sorted.
fn discovered(events: &[AnalyticsEvent], w: u8) -> Vec<(Metric, Window)> {
    let mut v: Vec<(Metric, Window)> = events
        .iter()
        .filter_map(|e| match e {
            AnalyticsEvent::Discovered {
                wallet: x,
                metric,
                window,
                ..
            } if *x == wallet(w) => Some((*metric, *window)),
            _ => None,
        })
        .collect();
    v.sort_unstable();
    v
}

const HOUR: i64 = 60 * MIN;

/// A newcomer to the top is surfaced once per board; a wallet that stays
/// in the top is not surfaced again the next day (or the one after); one
/// that was out of a board's top for more than a day is surfaced again,
/// on those boards only.
#[test]
fn discovery_surfaces_newcomers_not_the_standing_top() {
    let mut mk = Market::default();
    let mut a = Analytics::new(AnalyticsConfig {
        min_outcomes: 1,
        ..cfg()
    });
    let mut events = Vec::new();
    // Every two hours for 50 hours, wallet 1 buys and a whale (wallet 2)
    // pumps its buy: it stays ranked and active in every window.
    let mut round = |a: &mut Analytics, i: u8, t: i64, events: &mut Vec<AnalyticsEvent>| {
        events.extend(feed(a, &mk.buy(1, i, SOL, t)));
        events.extend(feed(a, &mk.buy(2, i, 20 * SOL, t + SEC)));
    };
    round(&mut a, 0, T0, &mut events);
    let all: Vec<(Metric, Window)> = {
        let mut v: Vec<(Metric, Window)> = Metric::ALL
            .into_iter()
            .flat_map(|m| Window::ALL.map(|w| (m, w)))
            .collect();
        v.sort_unstable();
        v
    };
    assert_eq!(discovered(&events, 1), all, "a newcomer, once per board");
    events.clear();
    for i in 1..=25u8 {
        round(&mut a, i, T0 + i64::from(i) * 2 * HOUR, &mut events);
        events.extend(a.tick(T0 + i64::from(i) * 2 * HOUR + HOUR));
    }
    assert_eq!(a.now_ms(), T0 + 51 * HOUR);
    assert!(a.card(&wallet(1)).unwrap().ranked);
    assert_eq!(
        discovered(&events, 1),
        vec![],
        "stayed in the top for two days"
    );

    // Quiet for three days (the clock ticks): out of the 24 h boards, its
    // 7 d and 30 d figures stay in the top. Back: a newcomer to the 24 h
    // boards only.
    events.clear();
    let back = T0 + 51 * HOUR + 3 * 24 * HOUR;
    for h in 52..51 + 3 * 24 {
        events.extend(a.tick(T0 + h * HOUR));
    }
    assert_eq!(discovered(&events, 1), vec![]);
    assert_eq!(a.leaderboard_len(Metric::Score, Window::H24), 0);
    let d7 = a.leaderboard(Metric::Score, Window::D7, 0, 10);
    assert!(d7.iter().any(|r| r.wallet == wallet(1)));
    round(&mut a, 30, back, &mut events);
    let h24: Vec<(Metric, Window)> = Metric::ALL.map(|m| (m, Window::H24)).to_vec();
    let mut h24 = h24;
    h24.sort_unstable();
    assert_eq!(discovered(&events, 1), h24);
}

/// The discovery memory is saved with the wallet: after a restart the
/// standing top is not announced again.
#[test]
fn discovery_memory_survives_a_restart() {
    let mut mk = Market::default();
    let c = AnalyticsConfig {
        min_outcomes: 1,
        ..cfg()
    };
    let mut a = Analytics::new(c.clone());
    let mut events = feed(&mut a, &mk.buy(1, 1, SOL, T0));
    events.extend(feed(&mut a, &mk.buy(2, 1, 20 * SOL, T0 + SEC)));
    assert_eq!(discovered(&events, 1).len(), 15);
    let saved = a.take_dirty();
    let mut b = Analytics::new(c.clone());
    b.restore(saved.clone());
    let events = b.tick(T0 + HOUR);
    assert!(b.card(&wallet(1)).unwrap().ranked);
    assert_eq!(discovered(&events, 1), vec![]);
    // Without the memory (a state saved before it), the same re-rank
    // announces it.
    let mut c2 = Analytics::new(c);
    let stripped: Vec<WalletState> = saved
        .into_iter()
        .map(|mut s| {
            s.data.as_object_mut().unwrap().remove("top");
            s
        })
        .collect();
    c2.restore(stripped);
    assert_eq!(discovered(&c2.tick(T0 + HOUR), 1).len(), 15);
}

/// Out of a board's top for a few hours only: not a newcomer when back.
#[test]
fn a_short_absence_from_the_top_is_not_a_discovery() {
    let mut mk = Market::default();
    let mut a = Analytics::new(AnalyticsConfig {
        min_outcomes: 2,
        discover_top: 1,
        ..cfg()
    });
    let mut events = Vec::new();
    // A buy of `w` on a fresh mint, pumped by a wallet of its own (one
    // outcome: never ranked).
    let mut n = 0u8;
    let mut buy = |a: &mut Analytics, w: u8, gross: u64, t: i64| {
        n += 1;
        let mut out = feed(a, &mk.buy(w, n, gross, t));
        out.extend(feed(a, &mk.buy(100 + n, n, 20 * SOL, t + SEC)));
        out
    };
    let board = (Metric::Volume, Window::H24);
    let top = |a: &Analytics| a.leaderboard(board.0, board.1, 0, 1)[0].wallet;
    events.extend(buy(&mut a, 1, 2 * SOL, T0));
    events.extend(buy(&mut a, 1, 2 * SOL, T0 + MIN));
    assert_eq!(top(&a), wallet(1));
    assert!(discovered(&events, 1).contains(&board));
    // An hour later wallet 3 trades more volume and takes the top.
    events.clear();
    events.extend(buy(&mut a, 3, 3 * SOL, T0 + HOUR));
    events.extend(buy(&mut a, 3, 3 * SOL, T0 + HOUR + MIN));
    assert_eq!(top(&a), wallet(3));
    assert!(discovered(&events, 3).contains(&board));
    // Three hours later wallet 1 buys more and is back on top: seen there
    // within the day, so not a discovery.
    events.clear();
    events.extend(buy(&mut a, 1, 3 * SOL, T0 + 4 * HOUR));
    assert_eq!(top(&a), wallet(1));
    assert!(!discovered(&events, 1).contains(&board), "{events:#?}");
}

// -------------------------------------------------------- leaderboards

/// A small deterministic generator for leaderboard data.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn brute_force(
    a: &Analytics,
    metric: Metric,
    window: Window,
    wallets: &[u8],
) -> Vec<WalletAddress> {
    let wi = Window::ALL.iter().position(|w| *w == window).unwrap();
    let mut rows: Vec<(f64, WalletAddress)> = wallets
        .iter()
        .filter_map(|&n| {
            let c = a.card(&wallet(n))?;
            let s = c.windows[wi].1;
            if !c.ranked || s.trades == 0 {
                return None;
            }
            #[allow(clippy::cast_precision_loss)]
            let v = match metric {
                Metric::Score => c.scores.bayesian,
                Metric::Pnl => s.realized_pnl as f64,
                Metric::Roi => s.roi,
                Metric::WinRate => s.win_rate(),
                Metric::Volume => s.volume as f64,
            };
            Some((v + 0.0, c.wallet))
        })
        .collect();
    rows.sort_by(|x, y| y.0.total_cmp(&x.0).then(x.1.cmp(&y.1)));
    rows.into_iter().map(|r| r.1).collect()
}

fn check_boards(a: &Analytics, wallets: &[u8], top_n: usize) -> Result<(), TestCaseError> {
    for metric in Metric::ALL {
        for window in Window::ALL {
            let truth = brute_force(a, metric, window, wallets);
            let want: Vec<WalletAddress> = truth.iter().copied().take(top_n).collect();
            let got: Vec<WalletAddress> = a
                .leaderboard(metric, window, 0, usize::MAX)
                .iter()
                .map(|r| r.wallet)
                .collect();
            prop_assert_eq!(&got, &want, "{:?} {:?} at {}", metric, window, a.now_ms());
            prop_assert_eq!(a.leaderboard_len(metric, window), want.len());
            for off in (0..want.len()).step_by(3) {
                let page = a.leaderboard(metric, window, off, 3);
                let ranks: Vec<u32> = page.iter().map(|r| r.rank).collect();
                let expect: Vec<u32> = (off..(off + 3).min(want.len()))
                    .map(|i| u32::try_from(i + 1).unwrap())
                    .collect();
                prop_assert_eq!(ranks, expect);
                prop_assert_eq!(
                    page.iter().map(|r| r.wallet).collect::<Vec<_>>(),
                    want[off..(off + 3).min(want.len())].to_vec()
                );
            }
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(12))]

    /// Incremental boards equal a brute-force sort of every wallet's card,
    /// at several times (across minute, hour and day boundaries), with a
    /// small depth so that pushing out, the floor and refills all happen.
    #[test]
    fn leaderboards_equal_brute_force(seed in 1u64..u64::MAX) {
        let top_n = 4;
        let mut a = Analytics::new(AnalyticsConfig { min_outcomes: 1, top_n, ..cfg() });
        let mut mk = Market::default();
        let mut rng = Rng(seed);
        let wallets: Vec<u8> = (1..=40).collect();
        let mut t = T0 + i64::try_from(rng.below(86_400_000)).unwrap();
        for step in 0..600 {
            t += i64::try_from(rng.below(if step % 100 == 99 { 2 * 86_400_000 } else { 90_000 })).unwrap();
            let w = wallets[usize::try_from(rng.below(40)).unwrap()];
            let m = u8::try_from(rng.below(6)).unwrap();
            let ev = if rng.below(3) == 0 {
                mk.sell_all(w, m, t)
            } else {
                Some(mk.buy(w, m, (1 + rng.below(3_000)) * 1_000_000, t))
            };
            if let Some(ev) = ev {
                a.on_trade(&ev);
            }
            if step % 150 == 149 {
                check_boards(&a, &wallets, top_n)?;
            }
        }
        // Time passes with no trade: windows age.
        for h in [1, 25, 24 * 8, 24 * 31] {
            a.tick(t + h * 3_600_000);
            check_boards(&a, &wallets, top_n)?;
        }
    }
}

#[test]
fn rolling_windows_drop_old_activity() {
    let mut mk = Market::default();
    let mut a = Analytics::new(AnalyticsConfig {
        min_outcomes: 1,
        ..cfg()
    });
    feed(&mut a, &mk.buy(1, 1, SOL, T0 + 10 * MIN));
    feed(&mut a, &mk.buy(2, 1, 20 * SOL, T0 + 11 * MIN));
    let on = |a: &Analytics, w: Window| {
        a.leaderboard(Metric::Volume, w, 0, 10)
            .iter()
            .any(|r| r.wallet == wallet(1))
    };
    assert!(on(&a, Window::H24) && on(&a, Window::D7) && on(&a, Window::D30));
    // 24 h later (the same hour a day on has left the 24 h window).
    a.tick(T0 + 24 * 60 * MIN);
    let c = a.card(&wallet(1)).unwrap();
    assert_eq!(c.windows[0].1.trades, 0);
    assert_eq!(c.windows[1].1.trades, 1);
    assert!(!on(&a, Window::H24) && on(&a, Window::D7));
    a.tick(T0 + 7 * 24 * 60 * MIN);
    let c = a.card(&wallet(1)).unwrap();
    assert_eq!((c.windows[1].1.trades, c.windows[2].1.trades), (0, 1));
    assert!(!on(&a, Window::D7) && on(&a, Window::D30));
    assert_eq!(c.all_time.trades, 1);
    a.tick(T0 + 30 * 24 * 60 * MIN);
    assert!(!on(&a, Window::D30));
    assert_eq!(a.card(&wallet(1)).unwrap().windows[2].1.trades, 0);
    assert_eq!(a.leaderboard_len(Metric::Volume, Window::D30), 0);
}

// ---------------------------------------------------------- memory

#[test]
fn idle_wallets_are_compacted_then_forgotten_and_mints_dropped() {
    let mut mk = Market::default();
    let mut a = Analytics::new(cfg());
    feed(&mut a, &mk.buy(1, 1, SOL, T0));
    assert!(!a.is_compacted(&wallet(1)));
    let before = a.wallet_bytes(&wallet(1)).unwrap();
    a.tick(T0 + 7 * 60 * MIN);
    assert!(a.is_compacted(&wallet(1)));
    assert!(
        a.wallet_bytes(&wallet(1)).unwrap() < before,
        "{before} {:?}",
        a.wallet_bytes(&wallet(1))
    );
    assert_eq!(a.last_price(&mint(1)), None, "idle mint dropped");
    // Its lots are gone: a later sell realizes nothing.
    feed(&mut a, &mk.sell_all(1, 1, T0 + 8 * 60 * MIN).unwrap());
    assert_eq!(a.card(&wallet(1)).unwrap().all_time.realized_pnl, 0);
    assert!(!a.is_compacted(&wallet(1)));
    let _ = a.take_dirty();
    a.tick(T0 + 40 * 24 * 60 * MIN);
    assert_eq!(a.tracked_wallets(), 0);
    assert!(a.card(&wallet(1)).is_none());
    assert_eq!(a.counters().forgotten_wallets, 1);
    // The slot is reused.
    feed(&mut a, &mk.buy(7, 1, SOL, T0 + 41 * 24 * 60 * MIN));
    assert_eq!(a.tracked_wallets(), 1);
    assert_eq!(a.card(&wallet(7)).unwrap().all_time.buys, 1);
}

#[test]
fn positions_are_capped_per_wallet() {
    let mut mk = Market::default();
    let mut a = Analytics::new(AnalyticsConfig {
        positions_per_wallet: 4,
        ..cfg()
    });
    for m in 0..6u8 {
        feed(&mut a, &mk.buy(1, m, SOL / 10, T0 + i64::from(m)));
    }
    assert_eq!(a.counters().positions_untracked, 2);
    // The newest positions were not tracked: their sells are unmatched.
    feed(&mut a, &mk.sell_all(1, 5, T0 + 10).unwrap());
    assert_eq!(a.counters().unmatched_sells, 1);
    feed(&mut a, &mk.sell_all(1, 0, T0 + 11).unwrap());
    assert_eq!(a.counters().unmatched_sells, 1);
    // A closed position frees its place.
    feed(&mut a, &mk.buy(1, 7, SOL / 10, T0 + 12));
    assert_eq!(a.counters().positions_untracked, 2);
}

#[test]
fn co_buy_pairs_are_bounded() {
    let mut mk = Market::default();
    let mut a = Analytics::new(AnalyticsConfig {
        max_pairs: 10,
        ..cfg()
    });
    // 30 wallets buy the same 3 mints in a burst, twice: many repeated pairs.
    for round in 0..2 {
        for m in 0..3u8 {
            for w in 0..30u8 {
                let t = T0 + i64::from(round) * 10 * MIN + i64::from(m) * MIN + i64::from(w) * 100;
                feed(&mut a, &mk.buy(100 + w, m, SOL / 100, t));
            }
        }
    }
    assert!(a.pairs.len() > 10);
    a.tick(T0 + 25 * MIN);
    assert!(a.pairs.len() <= 10, "{}", a.pairs.len());
}

#[test]
fn co_buy_pairs_enter_the_map_on_their_second_co_buy() {
    let mut a = sybil_market(1);
    assert!(a.pairs.is_empty());
    a = sybil_market(2);
    assert_eq!(a.pairs.len(), 6, "4 ring wallets: 6 pairs");
    assert!(a.pairs.values().all(|p| p.count == 2));
}

// ---------------------------------------------------------- persistence

#[test]
fn snapshot_round_trip_keeps_cards_and_leaderboards() {
    let mut a = sybil_market(6);
    a.tick(T0 + 70 * MIN);
    assert!(a.flagged().iter().any(|(_, f)| f.contains(&Flag::Sybil)));
    let states = a.take_dirty();
    assert!(states.len() >= 6);
    assert!(a.take_dirty().is_empty(), "taken once");
    assert!(states.iter().all(|s| s.data["v"] == 1));

    let mut b = Analytics::new(a.config().clone());
    b.restore(states.clone());
    assert_eq!(b.restore_skipped(), 0);
    assert_eq!(b.now_ms(), states.iter().map(|s| s.last_ms).max().unwrap());
    b.tick(a.now_ms());
    assert_eq!(b.tracked_wallets(), a.tracked_wallets());
    for s in &states {
        let (mut x, mut y) = (a.card(&s.wallet).unwrap(), b.card(&s.wallet).unwrap());
        // Open lots are not persisted.
        x.all_time.unrealized_pnl = 0;
        y.all_time.unrealized_pnl = 0;
        assert_eq!(x, y);
    }
    for metric in Metric::ALL {
        for window in Window::ALL {
            assert_eq!(
                a.leaderboard(metric, window, 0, 100),
                b.leaderboard(metric, window, 0, 100),
                "{metric:?} {window:?}"
            );
        }
    }
    // Nothing changed since the restore: nothing to save.
    assert!(b.take_dirty().is_empty());

    // Unknown versions are skipped and counted.
    let mut bad = states[0].clone();
    bad.data["v"] = serde_json::json!(99);
    let mut c = Analytics::new(cfg());
    c.restore(vec![
        bad,
        WalletState {
            wallet: wallet(99),
            last_ms: 0,
            data: serde_json::json!({"nonsense": true}),
        },
    ]);
    assert_eq!(c.restore_skipped(), 2);
    assert_eq!(c.tracked_wallets(), 0);
}

#[test]
fn snapshot_is_compact() {
    let a = {
        let mut mk = Market::default();
        let mut a = Analytics::new(cfg());
        for i in 0..5u8 {
            let t = T0 + i64::from(i) * 2 * MIN;
            feed(&mut a, &mk.buy(1, i, SOL, t));
            feed(&mut a, &mk.sell_all(1, i, t + MIN).unwrap());
        }
        a
    };
    let mut a = a;
    let s = a
        .take_dirty()
        .into_iter()
        .find(|s| s.wallet == wallet(1))
        .unwrap();
    let bytes = serde_json::to_vec(&s.data).unwrap().len();
    assert!(bytes < 600, "{bytes}: {}", s.data);
}

// ---------------------------------------------------------- robustness

fn any_event() -> impl Strategy<Value = TradeEvent> {
    (
        (0u8..6, 0u8..3, any::<bool>(), any::<bool>()),
        (
            prop_oneof![Just(0u64), 1u64..1_000_000_000_000, Just(u64::MAX)],
            prop_oneof![Just(0u64), 1u64..1_000_000_000_000_000, Just(u64::MAX)],
            prop_oneof![Just(0u64), any::<u64>()],
            prop_oneof![Just(0u64), any::<u64>()],
        ),
        prop_oneof![
            Just(i64::MIN),
            Just(i64::MAX),
            Just(0i64),
            -1_000_000i64..1_000_000,
            T0..T0 + 40 * 86_400_000,
        ],
    )
        .prop_map(
            |((w, m, buy, on_curve), (sol, tokens, vs, vt), t)| TradeEvent {
                signature: Signature::from_bytes(&[5; 64]),
                mint: mint(m),
                trader: wallet(w),
                side: if buy { Side::Buy } else { Side::Sell },
                sol: Lamports(sol),
                tokens: TokenAmount(tokens),
                timestamp_ms: t,
                slot: None,
                virtual_sol: Lamports(vs),
                virtual_tokens: TokenAmount(vt),
                trader_balance_after: None,
                created: false,
                on_curve,
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// No input makes the analytics panic: extreme times, zero and huge
    /// amounts, nonsense reserves, out-of-order events; queries, ticks and
    /// a persistence round trip afterwards.
    #[test]
    fn never_panics(events in proptest::collection::vec(any_event(), 1..80),
                    ticks in proptest::collection::vec(any::<i64>(), 0..4)) {
        let mut a = Analytics::new(AnalyticsConfig { min_outcomes: 1, ..cfg() });
        for ev in &events {
            a.on_trade(ev);
        }
        for t in ticks {
            a.tick(t);
        }
        for w in 0..6u8 {
            let _ = a.card(&wallet(w));
        }
        for metric in Metric::ALL {
            for window in Window::ALL {
                let _ = a.leaderboard(metric, window, 0, 10);
            }
        }
        let _ = a.rebuild_leaderboards();
        let _ = a.memory();
        let states = a.take_dirty();
        let mut b = Analytics::new(a.config().clone());
        b.restore(states);
        prop_assert_eq!(b.restore_skipped(), 0);
    }
}
