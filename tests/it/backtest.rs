//! Backtests end to end: the replay report against an independent PnL
//! computation from the recorded file, and the simulator report against
//! the acceptance targets.

use std::collections::{HashMap, VecDeque};
use std::path::PathBuf;

use alfabot::backtest::{ReplayReport, replay_events_report, replay_report, sim_report};
use alfabot::domain::WalletAddress;
use alfabot::engine::analytics::{Analytics, AnalyticsConfig};
use alfabot::feed::frame::recorded_frame;
use alfabot::feed::read_replay;

const FEE_BPS: u128 = 125;

fn recorded() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/data/pumpfun_onchain_swaps_2025-10-20.jsonl")
}

/// Realized PnL per wallet computed from the raw file, without the feed
/// decoder or the engine: FIFO lots per (wallet, mint); a buy costs
/// `sol·(10000+125)/10000` (floor), a sell returns `sol − sol·125/10000`
/// (fee floored); a partly taken lot gives up its cost pro rata (floor) and
/// its last piece takes all the cost left; tokens sold beyond the lots
/// realize nothing and keep their share of the proceeds (floor) out.
fn independent_pnl(path: &PathBuf) -> (usize, HashMap<String, i128>) {
    let text = std::fs::read_to_string(path).expect("the recorded file (../shared/data)");
    let mut lots: HashMap<(String, String), VecDeque<(u128, u128)>> = HashMap::new();
    let mut pnl: HashMap<String, i128> = HashMap::new();
    let mut rows = 0;
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        rows += 1;
        let user = v["user"].as_str().unwrap().to_owned();
        let mint = v["mint"].as_str().unwrap().to_owned();
        let sol = u128::from(v["sol_lamports"].as_u64().unwrap());
        let tokens = u128::from(v["token_raw"].as_u64().unwrap());
        let book = lots.entry((user.clone(), mint)).or_default();
        let realized = pnl.entry(user).or_default();
        if v["is_buy"].as_bool().unwrap() {
            book.push_back((tokens, sol * (10_000 + FEE_BPS) / 10_000));
            continue;
        }
        let proceeds = sol - sol * FEE_BPS / 10_000;
        let (mut left, mut matched, mut cost) = (tokens, 0_u128, 0_u128);
        while left > 0 {
            let Some(lot) = book.front_mut() else { break };
            let take = left.min(lot.0);
            let part = if take == lot.0 {
                lot.1
            } else {
                lot.1 * take / lot.0
            };
            lot.0 -= take;
            lot.1 -= part;
            cost += part;
            matched += take;
            left -= take;
            if lot.0 == 0 {
                book.pop_front();
            }
        }
        if matched == 0 {
            continue;
        }
        let got = if matched == tokens {
            proceeds
        } else {
            proceeds * matched / tokens
        };
        *realized += i128::try_from(got).unwrap() - i128::try_from(cost).unwrap();
    }
    (rows, pnl)
}

#[test]
fn replay_report_pnl_matches_an_independent_computation() {
    let path = recorded();
    let (rows, pnl) = independent_pnl(&path);
    assert_eq!(rows, 1_292);
    let report = replay_report(&path).unwrap();
    assert_eq!((report.events, report.duplicates), (1_292, 0));
    assert_eq!(report.tracked_wallets, pnl.len());
    // Ranked wallets (few: 76 s of trades leave most wallets under the
    // minimum sample) carry their independent PnL.
    assert!(report.top.len() <= 10);
    for row in &report.top {
        assert_eq!(
            i128::from(row.stats.realized_pnl),
            pnl[&row.wallet.to_string()],
            "leaderboard row {} ({})",
            row.rank,
            row.wallet
        );
    }
    // The provisional list is the file's ten best wallets by realized PnL.
    let mut best: Vec<(&String, i128)> = pnl.iter().map(|(w, p)| (w, *p)).collect();
    best.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    let want: Vec<i128> = best.iter().take(10).map(|(_, p)| *p).collect();
    let got: Vec<i128> = report
        .provisional
        .iter()
        .map(|c| i128::from(c.all_time.realized_pnl))
        .collect();
    assert_eq!(got, want);
    assert!(want[0] > 0 && want[9] > 0, "{want:?}");
    for c in &report.provisional {
        assert_eq!(
            i128::from(c.all_time.realized_pnl),
            pnl[&c.wallet.to_string()],
            "{}",
            c.wallet
        );
    }
    let text = report.to_string();
    assert!(text.contains("events processed  1292"), "{text}");
    assert!(
        text.contains("PROVISIONAL top 10 by realized PnL"),
        "{text}"
    );
    for row in &report.top {
        assert!(text.contains(&row.wallet.to_string()), "full address shown");
    }
    for c in &report.provisional {
        let decided = c.all_time.wins + c.all_time.losses;
        let line = text
            .lines()
            .find(|l| l.contains(&c.wallet.to_string()))
            .expect("full address shown");
        if !c.ranked {
            assert!(
                line.contains(&format!("unranked, {decided}/5 outcomes")),
                "{line}"
            );
        }
    }

    // Every wallet of the file, not only the listed ones: the engine's
    // all-time realized PnL is the independent one.
    let mut analytics = Analytics::new(AnalyticsConfig::default());
    for ev in read_replay(&path).unwrap() {
        analytics.on_trade(&ev);
    }
    assert_eq!(analytics.tracked_wallets(), pnl.len());
    for (wallet, want) in &pnl {
        let address = WalletAddress::parse(wallet).unwrap();
        let card = analytics.card(&address).expect("every trader is tracked");
        assert_eq!(
            i128::from(card.all_time.realized_pnl),
            *want,
            "wallet {wallet}"
        );
    }
}

/// The parts of a replay report that must not depend on repeated trades.
fn essence(r: &ReplayReport) -> impl PartialEq + std::fmt::Debug {
    (
        r.events,
        r.tracked_wallets,
        r.board_rows,
        r.top.clone(),
        r.provisional.clone(),
    )
}

/// Repeated trades change nothing: trades the engine sees twice (a feed's
/// reconnect) are dropped by the engine, and lines a file repeats (JSONL
/// rows or recorded PumpPortal frames) are dropped when read, before they
/// move the rebuilt curves.
#[test]
fn repeated_trades_do_not_change_a_replay_report() {
    let path = recorded();
    let clean = replay_report(&path).unwrap();
    let events = read_replay(&path).unwrap();

    // Trades: every 7th replayed right away, and a burst of 50 replayed
    // 200 trades later.
    let mut repeated = Vec::new();
    for (i, ev) in events.iter().enumerate() {
        repeated.push(ev.clone());
        if i % 7 == 0 {
            repeated.push(ev.clone());
        }
        if i == 700 {
            repeated.extend(events[450..500].iter().cloned());
        }
    }
    let extra = (repeated.len() - events.len()) as u64;
    let again = replay_events_report(&path, &repeated, AnalyticsConfig::default());
    assert_eq!(again.duplicates, extra);
    assert_eq!(essence(&again), essence(&clean));
    assert!(
        again
            .to_string()
            .contains(&format!("duplicates        {extra}"))
    );

    // Lines of a file: JSONL rows, then recorded frames.
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    let rows = dir.path().join("rows.jsonl");
    std::fs::write(&rows, with_repeats(&lines)).unwrap();
    let from_rows = replay_report(&rows).unwrap();
    assert_eq!(from_rows.duplicates, 0, "dropped when read");
    assert_eq!(essence(&from_rows), essence(&clean));

    let frames: Vec<String> = events
        .iter()
        .map(|e| recorded_frame(e).to_string())
        .collect();
    let frames: Vec<&str> = frames.iter().map(String::as_str).collect();
    let once = dir.path().join("frames.jsonl");
    std::fs::write(&once, frames.join("\n")).unwrap();
    let twice = dir.path().join("frames-repeated.jsonl");
    std::fs::write(&twice, with_repeats(&frames)).unwrap();
    let (once, twice) = (
        replay_report(&once).unwrap(),
        replay_report(&twice).unwrap(),
    );
    assert_eq!(once.events, 1_292);
    assert_eq!(essence(&twice), essence(&once));
}

/// `lines` with every 5th line written twice and the last 100 written
/// again at the end (a recording across a reconnect).
fn with_repeats(lines: &[&str]) -> String {
    let mut out = Vec::new();
    for (i, l) in lines.iter().enumerate() {
        out.push(*l);
        if i % 5 == 0 {
            out.push(*l);
        }
    }
    out.extend_from_slice(&lines[lines.len() - 100..]);
    out.join("\n")
}

#[test]
fn sim_report_is_deterministic_and_labelled() {
    let a = sim_report(7, 3, AnalyticsConfig::default());
    let b = sim_report(7, 3, AnalyticsConfig::default());
    assert!(a.events > 1_000, "{} events in 3 minutes", a.events);
    assert_eq!(a.events, b.events);
    assert_eq!(a.labels, b.labels);
    assert_eq!(
        (a.precision_at_10, a.farmers_flagged, a.rings_flagged),
        (b.precision_at_10, b.farmers_flagged, b.rings_flagged)
    );
    let skilled = a
        .labels
        .iter()
        .find(|r| r.label.map(|l| l.name()) == Some("skilled"));
    assert_eq!(skilled.unwrap().wallets, 60);
    assert_eq!(a.farmers_flagged.of, 20);
    assert_eq!(a.rings_flagged.of, 8);
    assert_eq!(a.skilled_flagged.of, 60);
    let text = a.to_string();
    for needle in [
        "precision@10",
        "farmers flagged",
        "sybil rings flagged",
        "skilled",
    ] {
        assert!(text.contains(needle), "{text}");
    }
}

/// The acceptance targets of issue 3 on three seeds: precision@10 ≥ 0.9,
/// ≥ 90% of farmers and of sybil rings flagged, ≤ 5% of skilled
/// wallets flagged. 60 simulated minutes per seed (the Bayesian window):
/// about 75k events each.
#[test]
fn sim_meets_the_acceptance_targets_on_three_seeds() {
    let mut failures = Vec::new();
    for seed in [1, 2, 3] {
        let report = sim_report(seed, SIM_MINUTES, AnalyticsConfig::default());
        println!("{report}");
        if !report.meets_targets() {
            failures.push(format!("seed {seed}: {}", report.failures().join("; ")));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

const SIM_MINUTES: u32 = 60;
