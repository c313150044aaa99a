//! Engine scenarios with hand-built trades and fixed timestamps.

use super::*;
use crate::domain::Platform;

fn wallet(n: u8) -> WalletAddress {
    WalletAddress::from_bytes([n; 32])
}

fn sig(n: u16) -> Signature {
    let mut b = [1u8; 64];
    b[..2].copy_from_slice(&n.to_le_bytes());
    Signature::from_bytes(&b)
}

/// A trade on a curve that starts at `curve`, applied with real math.
fn trade(
    curve: &mut Curve,
    n: u16,
    trader: WalletAddress,
    side: Side,
    amount: u64,
    balance_after: Option<u64>,
) -> TradeEvent {
    let fees = Fees::default();
    let (net, tokens) = match side {
        Side::Buy => {
            let q = curve.quote_buy(Lamports(amount), fees);
            (q.sol.0 - q.fee.0, q.tokens.0)
        }
        Side::Sell => (curve.gross_sol_for_tokens(amount), amount),
    };
    curve.apply(side == Side::Buy, net, tokens);
    TradeEvent {
        signature: sig(n),
        mint: wallet(200),
        trader,
        side,
        sol: Lamports(net),
        tokens: TokenAmount(tokens),
        timestamp_ms: 1_000 * i64::from(n),
        slot: None,
        virtual_sol: Lamports(curve.virtual_sol),
        virtual_tokens: TokenAmount(curve.virtual_tokens),
        trader_balance_after: balance_after.map(TokenAmount),
        created: false,
        on_curve: true,
    }
}

fn fills(out: &[Outcome]) -> Vec<(&Fill, &Position)> {
    out.iter()
        .filter_map(|o| match &o.decision {
            Decision::Fill { fill, position } => Some((fill, position)),
            Decision::Skip(_) => None,
        })
        .collect()
}

#[test]
fn unfollowed_trades_produce_nothing_but_move_the_price() {
    let mut e = Engine::new(EngineConfig::default());
    let mut c = Curve::fresh();
    let ev = trade(&mut c, 1, wallet(1), Side::Buy, 1_000_000_000, None);
    assert!(e.on_trade(&ev).outcomes.is_empty());
    assert_eq!(e.curve(&ev.mint), Some(c));
}

#[test]
fn followed_buy_alerts_and_paper_copies_then_sells_same_fraction() {
    let user = UserRef::new(Platform::Telegram, 42);
    let leader = wallet(1);
    let mut e = Engine::new(EngineConfig::default());
    e.follow(user, leader);
    e.set_copy_size(user, Lamports(500_000_000));
    let mut c = Curve::fresh();

    let buy = trade(&mut c, 1, leader, Side::Buy, 2_000_000_000, None);
    let out = e.on_trade(&buy).outcomes;
    assert_eq!((out[0].alert.user, out[0].alert.side), (user, Side::Buy));
    let f = fills(&out);
    assert_eq!(f.len(), 1);
    let (fill, pos) = f[0];
    assert_eq!(fill.sol, Lamports(500_000_000));
    assert_eq!(fill.fee.0, 500_000_000 - 500_000_000 * 10_000 / 10_125);
    // Priced after the leader's trade: fewer tokens than at the fresh curve.
    assert!(
        fill.tokens
            < Curve::fresh()
                .quote_buy(Lamports(500_000_000), Fees::default())
                .tokens
    );
    assert_eq!(pos.tokens, fill.tokens);
    assert_eq!(pos.cost, Lamports(500_000_000));
    let bought = pos.tokens.0;

    // Someone else pumps it; the user's position gains value.
    let pump = trade(&mut c, 2, wallet(9), Side::Buy, 5_000_000_000, None);
    assert!(e.on_trade(&pump).outcomes.is_empty());
    let views = e.positions_of(user);
    assert_eq!(views.len(), 1);
    assert!(views[0].unrealized_pnl.unwrap() > 0);

    // The leader sells half of what they hold: the copy sells half too.
    let leader_tokens = buy.tokens.0;
    let sell = trade(&mut c, 3, leader, Side::Sell, leader_tokens / 2, None);
    let out = e.on_trade(&sell).outcomes;
    let f = fills(&out);
    let (fill, pos) = f[0];
    assert_eq!(fill.side, Side::Sell);
    assert_eq!(fill.tokens.0, bought / 2);
    assert_eq!(pos.tokens.0, bought - bought / 2);
    let first_pnl = fill.realized_pnl;
    let first_proceeds = fill.sol.0;

    // The leader sells the rest: the position closes.
    let sell2 = trade(
        &mut c,
        4,
        leader,
        Side::Sell,
        leader_tokens - leader_tokens / 2,
        None,
    );
    let out = e.on_trade(&sell2).outcomes;
    let (fill, pos) = fills(&out)[0];
    assert_eq!(pos.tokens.0, 0);
    assert!(e.positions_of(user).is_empty());
    // Realized PnL of a closed position equals its cash flow, fees included.
    let cash = i64::try_from(first_proceeds + fill.sol.0).unwrap() - 500_000_000;
    assert_eq!(first_pnl + fill.realized_pnl, cash);
    assert_eq!(pos.realized_pnl, cash);
}

#[test]
fn feed_balances_set_the_sell_fraction() {
    let user = UserRef::new(Platform::Console, 1);
    let leader = wallet(1);
    let mut e = Engine::new(EngineConfig::default());
    e.follow(user, leader);
    let mut c = Curve::fresh();
    // The leader already held tokens bought before we followed.
    let buy = trade(
        &mut c,
        1,
        leader,
        Side::Buy,
        1_000_000_000,
        Some(4 * 34_000_000_000_000),
    );
    let out = e.on_trade(&buy).outcomes;
    let bought = fills(&out)[0].1.tokens.0;
    // Selling a quarter of the reported balance sells a quarter of the copy.
    let before = 4 * 34_000_000_000_000_u64;
    let sell = trade(
        &mut c,
        2,
        leader,
        Side::Sell,
        before / 4,
        Some(before - before / 4),
    );
    let out = e.on_trade(&sell).outcomes;
    assert_eq!(fills(&out)[0].0.tokens.0, bought / 4);
}

#[test]
fn duplicates_off_curve_and_unheld_sells() {
    let user = UserRef::new(Platform::Telegram, 7);
    let leader = wallet(1);
    let mut e = Engine::new(EngineConfig::default());
    e.follow(user, leader);
    let mut c = Curve::fresh();

    let sell = trade(&mut c, 1, leader, Side::Sell, 1_000, None);
    let out = e.on_trade(&sell).outcomes;
    assert_eq!(out[0].decision, Decision::Skip(SkipReason::NoPosition));

    let buy = trade(&mut c, 2, leader, Side::Buy, 1_000_000_000, None);
    assert_eq!(e.on_trade(&buy).outcomes.len(), 1);
    assert!(e.on_trade(&buy).is_empty(), "same signature twice");

    let mut amm = trade(&mut c, 3, leader, Side::Buy, 1_000_000_000, None);
    amm.on_curve = false;
    assert_eq!(
        e.on_trade(&amm).outcomes[0].decision,
        Decision::Skip(SkipReason::OffCurve)
    );

    e.unfollow(user, leader);
    let later = trade(&mut c, 4, leader, Side::Buy, 1_000_000_000, None);
    assert!(e.on_trade(&later).outcomes.is_empty());
}

#[test]
fn every_follower_gets_its_own_copy() {
    let leader = wallet(1);
    let mut e = Engine::new(EngineConfig::default());
    for id in 0..3 {
        e.follow(UserRef::new(Platform::Telegram, id), leader);
    }
    let mut c = Curve::fresh();
    let out = e
        .on_trade(&trade(&mut c, 1, leader, Side::Buy, 1_000_000_000, None))
        .outcomes;
    assert_eq!(out.len(), 3);
    assert_eq!(fills(&out).len(), 3);
}

/// A little market: two wallets buy early, others pump, the early ones
/// sell; with a replayed (duplicate) trade in the middle.
fn market() -> Vec<TradeEvent> {
    let mut c = Curve::fresh();
    let mut out = vec![
        trade(&mut c, 1, wallet(1), Side::Buy, 500_000_000, None),
        trade(&mut c, 2, wallet(2), Side::Buy, 700_000_000, None),
    ];
    for n in 3..30 {
        let trader = wallet(10 + u8::try_from(n % 7).unwrap());
        out.push(trade(&mut c, n, trader, Side::Buy, 2_000_000_000, None));
    }
    let held = out[0].tokens.0;
    out.push(trade(&mut c, 30, wallet(1), Side::Sell, held, None));
    let held = out[1].tokens.0;
    out.push(trade(&mut c, 31, wallet(2), Side::Sell, held / 2, None));
    out
}

/// A board as (values in rank order, rows by wallet without their rank):
/// equal for two boards that differ only in how ties are ordered.
fn tie_free(rows: Vec<analytics::LeaderRow>) -> (Vec<f64>, Vec<analytics::LeaderRow>) {
    let values = rows.iter().map(|r| r.value).collect();
    let mut rows: Vec<analytics::LeaderRow> = rows
        .into_iter()
        .map(|r| analytics::LeaderRow { rank: 0, ..r })
        .collect();
    rows.sort_by_key(|r| r.wallet);
    (values, rows)
}

fn wallets_of(trades: &[TradeEvent]) -> Vec<WalletAddress> {
    let mut w: Vec<WalletAddress> = trades.iter().map(|t| t.trader).collect();
    w.sort();
    w.dedup();
    w
}

#[test]
fn analytics_sees_every_trade_once_followed_or_not() {
    let cfg = EngineConfig::default();
    let mut engine = Engine::new(cfg.clone());
    engine.follow(UserRef::new(Platform::Telegram, 1), wallet(1));
    let mut reference = analytics::Analytics::new(cfg.analytics.clone());
    let trades = market();

    let (mut from_engine, mut expected) = (Vec::new(), Vec::new());
    for (i, ev) in trades.iter().enumerate() {
        from_engine.extend(engine.on_trade(ev).analytics);
        expected.extend(reference.on_trade(ev));
        if i == 5 {
            // A replayed frame reaches neither follow matching nor analytics.
            assert!(engine.on_trade(&trades[3]).is_empty());
        }
    }
    assert_eq!(from_engine, expected);
    for w in wallets_of(&trades) {
        assert_eq!(engine.card(&w), reference.card(&w), "card of {w}");
    }
    for metric in Metric::ALL {
        for window in Window::ALL {
            assert_eq!(
                engine.leaderboard_len(metric, window),
                reference.leaderboard_len(metric, window)
            );
            assert_eq!(
                tie_free(engine.leaderboard(metric, window, 0, 50)),
                tie_free(reference.leaderboard(metric, window, 0, 50)),
                "{metric:?} {window:?}"
            );
        }
    }
    assert_eq!(
        engine.analytics().tracked_wallets(),
        reference.tracked_wallets()
    );
}

#[test]
fn analytics_state_survives_take_dirty_and_restore() {
    let mut first = Engine::new(EngineConfig::default());
    let trades = market();
    for ev in &trades {
        first.on_trade(ev);
    }
    let saved = first.take_analytics_dirty();
    assert!(
        first.take_analytics_dirty().is_empty(),
        "dirty states are handed out once"
    );
    let mut wallets: Vec<WalletAddress> = saved.iter().map(|s| s.wallet).collect();
    wallets.sort();
    wallets.dedup();
    assert_eq!(wallets.len(), saved.len(), "one state per wallet");
    for w in &wallets {
        assert!(wallets_of(&trades).contains(w), "{w} never traded");
    }

    let mut second = Engine::new(EngineConfig::default());
    second.restore_analytics(saved);
    // Open lots are not persisted (analytics `restore` docs): unrealized PnL
    // starts again from the next trade; everything else survives.
    let settled = |c: Option<WalletCard>| {
        c.map(|mut c| {
            c.all_time.unrealized_pnl = 0;
            c
        })
    };
    for w in wallets_of(&trades) {
        assert_eq!(
            settled(second.card(&w)),
            settled(first.card(&w)),
            "card of {w}"
        );
    }
    for metric in Metric::ALL {
        assert_eq!(
            tie_free(second.leaderboard(metric, Window::D7, 0, 100)),
            tie_free(first.leaderboard(metric, Window::D7, 0, 100))
        );
    }
}

#[test]
fn followers_of_a_wallet() {
    let mut e = Engine::new(EngineConfig::default());
    let (a, b) = (
        UserRef::new(Platform::Telegram, 1),
        UserRef::new(Platform::Discord, 2),
    );
    e.follow(a, wallet(1));
    e.follow(b, wallet(1));
    e.follow(b, wallet(2));
    let mut f = e.followers(&wallet(1)).to_vec();
    f.sort();
    assert_eq!(f, vec![a, b]);
    assert_eq!(e.followers(&wallet(2)), &[b]);
    assert!(e.followers(&wallet(3)).is_empty());
}
