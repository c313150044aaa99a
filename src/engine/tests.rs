//! Engine scenarios with hand-built trades and fixed timestamps.

use super::*;
use crate::domain::{Platform, TokenAmount};

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

/// Profile `id` of user `user` following `wallets`, copying without the
/// adaptive limits.
fn follow(e: &mut Engine, user: UserRef, id: i64, wallets: &[WalletAddress]) {
    use crate::domain::{Follow, Overrides, Profile, ProfileId, ProfileName, ProfileSettings};
    e.upsert_profile(Profile {
        id: ProfileId(id),
        user,
        name: ProfileName::parse(&format!("p{id}")).unwrap(),
        settings: ProfileSettings {
            adaptive: false,
            sellability: false,
            ..ProfileSettings::default()
        },
        created_ms: 0,
    });
    for (i, w) in wallets.iter().enumerate() {
        e.follow(&Follow {
            id: id * 10 + i64::try_from(i).unwrap(),
            profile: ProfileId(id),
            user,
            wallet: *w,
            overrides: Overrides::default(),
            created_ms: 0,
        });
    }
}

#[test]
fn unfollowed_trades_produce_nothing_but_move_the_price() {
    let mut e = Engine::new(EngineConfig::default());
    let mut c = Curve::fresh();
    let ev = trade(&mut c, 1, wallet(1), Side::Buy, 1_000_000_000, None);
    let out = e.on_trade(&ev);
    assert!(out.decisions.is_empty() && e.alerts(&ev, &out.decisions).is_empty());
    assert_eq!(e.curve(&ev.mint), Some(c));
}

#[test]
fn one_alert_per_user_with_a_note_per_profile() {
    let leader = wallet(1);
    let mut e = Engine::new(EngineConfig::default());
    let a = UserRef::new(Platform::Telegram, 1);
    let b = UserRef::new(Platform::Discord, 2);
    follow(&mut e, a, 1, &[leader]);
    follow(&mut e, a, 2, &[leader]);
    follow(&mut e, b, 3, &[leader]);
    let mut c = Curve::fresh();
    let ev = trade(&mut c, 1, leader, Side::Buy, 1_000_000_000, None);
    let out = e.on_trade(&ev);
    let user_alerts = e.alerts(&ev, &out.decisions);
    assert_eq!(out.decisions.len(), 3);
    assert!(out.decisions.iter().all(|d| d.order().is_some()));
    let mut alerts: Vec<(UserRef, usize)> = user_alerts
        .iter()
        .map(|a| (a.alert.user, a.copies.len()))
        .collect();
    alerts.sort();
    assert_eq!(alerts, vec![(a, 2), (b, 1)]);
    assert_eq!(user_alerts[0].alert.wallet, leader);
    assert_eq!(e.follower_users(&leader), vec![a, b]);
}

#[test]
fn duplicates_and_unfollows() {
    let user = UserRef::new(Platform::Telegram, 7);
    let leader = wallet(1);
    let mut e = Engine::new(EngineConfig::default());
    follow(&mut e, user, 1, &[leader]);
    let mut c = Curve::fresh();
    let buy = trade(&mut c, 2, leader, Side::Buy, 1_000_000_000, None);
    assert_eq!(e.on_trade(&buy).decisions.len(), 1);
    assert!(e.on_trade(&buy).is_empty(), "same signature twice");
    assert_eq!(
        e.unfollow(crate::domain::ProfileId(1), leader),
        FollowChange::LastUnfollow
    );
    let later = trade(&mut c, 4, leader, Side::Buy, 1_000_000_000, None);
    assert!(e.on_trade(&later).decisions.is_empty());
}

#[test]
fn feed_balances_set_the_sell_fraction() {
    use crate::exec::paper::PaperExecutor;
    let user = UserRef::new(Platform::Console, 1);
    let leader = wallet(1);
    let mut e = Engine::new(EngineConfig::default());
    follow(&mut e, user, 1, &[leader]);
    let paper = PaperExecutor::new(Fees::default());
    let mut c = Curve::fresh();
    // The leader already held tokens bought before we followed.
    let before = 4 * 34_000_000_000_000_u64;
    let buy = trade(&mut c, 1, leader, Side::Buy, 1_000_000_000, Some(before));
    let d = e.on_trade(&buy).decisions;
    let o = d[0].order().unwrap().get().clone();
    let exec = paper.fill(&o, e.curve(&o.mint), 1_000);
    let bought = e.on_execution(&o, &exec).fill.unwrap().tokens.0;
    // Selling a quarter of the reported balance sells a quarter of the copy.
    let sell = trade(
        &mut c,
        2,
        leader,
        Side::Sell,
        before / 4,
        Some(before - before / 4),
    );
    let d = e.on_trade(&sell).decisions;
    assert_eq!(d[0].order().unwrap().tokens_in.0, bought / 4);
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
    follow(
        &mut engine,
        UserRef::new(Platform::Telegram, 1),
        1,
        &[wallet(1)],
    );
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

/// A trade of `mint` at `at_ms` on a curve that starts at `curve`.
fn trade_at(
    curve: &mut Curve,
    n: u16,
    mint: u8,
    trader: WalletAddress,
    side: Side,
    amount: u64,
    at_ms: i64,
) -> TradeEvent {
    let mut ev = trade(curve, n, trader, side, amount, None);
    ev.mint = wallet(mint);
    ev.timestamp_ms = at_ms;
    ev
}

/// Winning round trips of wallet 1, two minutes apart from `t0`: rounds
/// `rounds` of them, each in a mint of its own (a whale pumps each buy by
/// more than +20% on the VWAP ten seconds later; wallet 1 sells at 60 s).
fn winning_rounds(e: &mut Engine, t0: i64, rounds: std::ops::Range<u8>) -> Vec<AnalyticsEvent> {
    let mut out = Vec::new();
    for i in rounds {
        let t = t0 + i64::from(i) * 120_000;
        let n = 3 * u16::from(i);
        let m = 100 + i;
        let mut c = Curve::fresh();
        let buy = trade_at(&mut c, n, m, wallet(1), Side::Buy, 2_000_000_000, t);
        let whale = trade_at(
            &mut c,
            n + 1,
            m,
            wallet(2),
            Side::Buy,
            30_000_000_000,
            t + 10_000,
        );
        let sell = trade_at(
            &mut c,
            n + 2,
            m,
            wallet(1),
            Side::Sell,
            buy.tokens.0,
            t + 60_000,
        );
        for ev in [buy, whale, sell] {
            out.extend(e.on_trade(&ev).analytics);
        }
    }
    out
}

/// The minimum-sample rule with the default settings: four decided
/// outcomes rank a wallet on no board, the fifth on every board.
#[test]
fn a_wallet_is_ranked_from_its_fifth_decided_outcome() {
    let t0 = 1_760_918_400_000;
    let mut e = Engine::new(EngineConfig::default());
    assert_eq!(e.config().analytics.min_outcomes, 5);
    let w = wallet(1);
    let boards_with = |e: &Engine| {
        let mut n = 0;
        for metric in Metric::ALL {
            for window in Window::ALL {
                let rows = e.leaderboard(metric, window, 0, 100);
                n += rows.iter().filter(|r| r.wallet == w).count();
            }
        }
        n
    };
    winning_rounds(&mut e, t0, 0..4);
    let c = e.card(&w).unwrap();
    assert_eq!((c.all_time.wins, c.all_time.losses), (4, 0));
    assert!(!c.ranked);
    assert_eq!(c.tier, None);
    assert_eq!(boards_with(&e), 0);

    let events = winning_rounds(&mut e, t0, 4..5);
    let c = e.card(&w).unwrap();
    assert_eq!((c.all_time.wins, c.all_time.losses), (5, 0));
    assert!(c.ranked);
    assert_eq!(boards_with(&e), Metric::ALL.len() * Window::ALL.len());
    assert!(events.iter().any(|a| matches!(a,
        AnalyticsEvent::TierChanged { wallet, from: None, to: Some(_), .. } if *wallet == w)));
}

/// The clock alone ages wallet analytics (no trade for a week): the 24 h
/// and 7 d windows empty, the recency boost falls to 1.0, an undecided buy
/// expires as a loss at its horizon, and the tier drops; the demotion is
/// handed out by `take_clock_events`.
#[test]
fn a_quiet_clock_ages_wallet_analytics() {
    const HOUR: i64 = 3_600_000;
    let t0 = 1_760_918_400_000; // a Monday, 00:00 UTC
    let mut e = Engine::new(EngineConfig::default());
    let promoted = winning_rounds(&mut e, t0, 0..5);
    let w = wallet(1);
    assert!(promoted.iter().any(|a| matches!(a,
        AnalyticsEvent::TierChanged { wallet, to: Some(analytics::Tier::S), .. } if *wallet == w)));
    // One more buy nobody follows: it is decided by time alone.
    let mut c = Curve::fresh();
    let last = t0 + 20 * 60_000;
    e.on_trade(&trade_at(
        &mut c,
        90,
        120,
        w,
        Side::Buy,
        1_000_000_000,
        last,
    ));
    let before = e.card(&w).unwrap();
    assert_eq!(
        (before.windows[0].1.trades, before.windows[1].1.trades),
        (11, 11)
    );
    assert!((before.scores.recency_boost - 1.3).abs() < 1e-12);
    assert_eq!((before.all_time.wins, before.all_time.losses), (5, 0));
    assert_eq!(before.tier, Some(analytics::Tier::S));

    // Quiet for half an hour: the buy's 15-minute horizon passed.
    e.tick(last + 30 * 60_000);
    assert_eq!(e.now_ms(), last + 30 * 60_000);
    let c = e.card(&w).unwrap();
    assert_eq!((c.all_time.wins, c.all_time.losses), (5, 1));

    // Quiet for eight days: out of the 24 h and 7 d windows, no recency.
    let later = last + 8 * 24 * HOUR;
    e.tick(later);
    let after = e.card(&w).unwrap();
    assert_eq!(e.now_ms(), later);
    assert_eq!(after.windows[0].1.trades, 0, "24 h window");
    assert_eq!(after.windows[1].1.trades, 0, "7 d window");
    assert_eq!(after.windows[2].1.trades, 11, "30 d window");
    assert!((after.scores.recency_boost - 1.0).abs() < 1e-12);
    assert_ne!(after.tier, Some(analytics::Tier::S));
    let demoted: Vec<AnalyticsEvent> = e
        .take_clock_events()
        .into_iter()
        .filter(|a| matches!(a, AnalyticsEvent::TierChanged { wallet, .. } if *wallet == w))
        .collect();
    assert_eq!(demoted.len(), 1, "{demoted:?}");
    let AnalyticsEvent::TierChanged {
        from, to, at_ms, ..
    } = &demoted[0]
    else {
        unreachable!()
    };
    assert_eq!(
        (*from, *to, *at_ms),
        (Some(analytics::Tier::S), after.tier, later)
    );
    assert!(e.take_clock_events().is_empty(), "handed out once");

    // A tick behind the clock moves nothing.
    e.tick(t0);
    assert_eq!(e.now_ms(), later);
    assert_eq!(e.card(&w), Some(after));
}
