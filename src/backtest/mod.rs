//! Backtests: the engine run over a stream at full speed, with no chat and
//! no database, and the result measured. Trades go through
//! [`Engine::on_trade`] as in the running app (dedup on (signature, side),
//! curve tracking, follow matching with nobody following, then wallet
//! analytics), so a stream that repeats trades scores as the app would.
//!
//! - [`sim_report`]: the seeded simulator (a market whose wallets carry known
//!   [`WalletLabel`]s) through the engine for some simulated minutes, then
//!   the Score leaderboard and the flags scored against the labels
//!   (`alfabot sim --seed N --minutes M --report`).
//! - [`replay_report`]: a recorded file through the engine; throughput, the
//!   top of the leaderboard and, beside it, the best wallets by realized PnL
//!   whatever their sample (`alfabot replay PATH --report`).
//!
//! This is a use case beside the app, not part of the pure engine: it may
//! read files and the wall clock (to measure throughput). Engine time is
//! event time, as in the running app. The simulator's own bookkeeping and
//! the ground-truth figures ([`truth`]) are kept out of the measured
//! engine time.

pub mod metrics;
pub mod truth;

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::domain::money::format_sol;
use crate::domain::{TradeEvent, WalletAddress};
use crate::engine::analytics::{
    Analytics, AnalyticsConfig, Flag, LeaderRow, Metric, WalletCard, Window,
};
use crate::engine::{Engine, EngineConfig};
use crate::feed::read_replay;
use crate::feed::sim::{Simulator, WalletLabel};

pub use metrics::{Share, precision_at, ring_flagged};
pub use truth::Truth;

/// Acceptance targets (issue 3), checked by [`SimReport::meets_targets`].
pub const TARGET_PRECISION_AT_10: f64 = 0.9;
pub const TARGET_FARMERS_FLAGGED: f64 = 0.9;
pub const TARGET_RINGS_FLAGGED: f64 = 0.9;
pub const TARGET_SKILLED_FALSE_FLAGS: f64 = 0.05;

/// The leaderboard a report scores: Score over 24 h.
const BOARD: (Metric, Window) = (Metric::Score, Window::H24);
/// Events handed to the engine per timed batch.
const BATCH: usize = 8_192;

/// The simulator measured against its labels.
#[derive(Debug, Clone)]
pub struct SimReport {
    pub seed: u64,
    pub minutes: u32,
    pub events: u64,
    /// Wall time spent inside [`Engine::on_trade`] only.
    pub engine_time: Duration,
    pub tracked_wallets: usize,
    /// Rows of the Score/24 h leaderboard (the engine keeps its top N).
    pub board_rows: usize,
    pub precision_at_10: f64,
    pub precision_at_50: f64,
    /// Farmers with any flag.
    pub farmers_flagged: Share,
    /// Sybil rings flagged ([`ring_flagged`]): every active member
    /// flagged `Sybil`, one ranked at most.
    pub rings_flagged: Share,
    /// Skilled wallets with any flag (false flags).
    pub skilled_flagged: Share,
    /// Per label kind: the truth beside the engine's view.
    pub labels: Vec<LabelRow>,
    /// The top 10 of the Score/24 h leaderboard with the true labels.
    pub top: Vec<(LeaderRow, Option<WalletLabel>)>,
}

/// One label kind in a [`SimReport`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LabelRow {
    pub label: Option<WalletLabel>,
    pub wallets: usize,
    /// Wallets that traded at least once.
    pub traded: usize,
    pub buys: u64,
    /// Buy outcomes by the rule, computed from the stream
    /// ([`truth`]), not by the engine.
    pub wins: u64,
    pub losses: u64,
    /// FIFO realized PnL with fees (truth), lamports.
    pub realized: i64,
    pub median_hold_ms: Option<i64>,
    /// Engine view: ranked on the Score/24 h board, flagged (any flag), in
    /// its top 10 and top 50.
    pub ranked: usize,
    pub flagged: usize,
    /// Of which flagged quick flip, sold into followers, sybil.
    pub quick_flip: usize,
    pub sold_into: usize,
    pub sybil: usize,
    pub top10: usize,
    pub top50: usize,
}

impl SimReport {
    /// Events per second through the engine.
    #[must_use]
    pub fn events_per_sec(&self) -> f64 {
        per_sec(self.events, self.engine_time)
    }

    /// The acceptance targets: precision@10 ≥ 0.9, ≥ 90% of farmers and of
    /// sybil rings flagged, ≤ 5% of skilled wallets flagged.
    #[must_use]
    pub fn meets_targets(&self) -> bool {
        self.failures().is_empty()
    }

    /// The targets missed, in words.
    #[must_use]
    pub fn failures(&self) -> Vec<String> {
        let mut out = Vec::new();
        if self.precision_at_10 < TARGET_PRECISION_AT_10 {
            out.push(format!(
                "precision@10 {:.2} < {TARGET_PRECISION_AT_10}",
                self.precision_at_10
            ));
        }
        if self.farmers_flagged.of == 0 || self.farmers_flagged.ratio() < TARGET_FARMERS_FLAGGED {
            out.push(format!("farmers flagged {}", self.farmers_flagged));
        }
        if self.rings_flagged.of == 0 || self.rings_flagged.ratio() < TARGET_RINGS_FLAGGED {
            out.push(format!("sybil rings flagged {}", self.rings_flagged));
        }
        if self.skilled_flagged.of == 0 || self.skilled_flagged.ratio() > TARGET_SKILLED_FALSE_FLAGS
        {
            out.push(format!("skilled falsely flagged {}", self.skilled_flagged));
        }
        out
    }
}

/// Runs the default simulator for `seed` through the engine for `minutes`
/// of event time and scores the result against the labels.
#[must_use]
pub fn sim_report(seed: u64, minutes: u32, cfg: AnalyticsConfig) -> SimReport {
    sim_report_with(Simulator::new(seed), seed, minutes, cfg)
}

/// [`sim_report`] over a simulator built by the caller (another population
/// or start time).
#[must_use]
pub fn sim_report_with(
    mut sim: Simulator,
    seed: u64,
    minutes: u32,
    cfg: AnalyticsConfig,
) -> SimReport {
    let labels = sim.labels();
    // Before its first event, a simulator's clock is its start.
    let end_ms = sim.now_ms() + i64::from(minutes) * 60_000;
    let mut truth = Truth::new(&cfg);
    let mut engine = backtest_engine(cfg);
    let mut events = 0_u64;
    let mut engine_time = Duration::ZERO;
    let mut batch = Vec::with_capacity(BATCH);
    let mut done = false;
    while !done {
        batch.clear();
        while batch.len() < BATCH {
            let ev = sim.next_event();
            if ev.timestamp_ms > end_ms {
                done = true;
                break;
            }
            batch.push(ev);
        }
        let t0 = Instant::now();
        for ev in &batch {
            engine.on_trade(ev);
        }
        engine_time += t0.elapsed();
        for ev in &batch {
            truth.on_trade(ev);
        }
        events += batch.len() as u64;
    }
    truth.sweep(end_ms);
    score(
        seed,
        minutes,
        events,
        engine_time,
        &labels,
        engine.analytics(),
        &truth,
    )
}

/// An engine for a backtest: the default engine with these analytics
/// settings; no profile, so follow matching finds nobody.
fn backtest_engine(cfg: AnalyticsConfig) -> Engine {
    Engine::new(EngineConfig {
        analytics: cfg,
        ..EngineConfig::default()
    })
}

#[allow(clippy::too_many_lines, reason = "one pass over the labels")]
fn score(
    seed: u64,
    minutes: u32,
    events: u64,
    engine_time: Duration,
    labels: &[(WalletAddress, WalletLabel)],
    analytics: &Analytics,
    truth: &Truth,
) -> SimReport {
    let (metric, window) = BOARD;
    let min_buys = analytics.config().cobuy_min_pairs;
    let board = analytics.leaderboard(metric, window, 0, 50);
    let ranking: Vec<WalletAddress> = board.iter().map(|r| r.wallet).collect();
    let flags: HashMap<WalletAddress, Vec<Flag>> = analytics.flagged().into_iter().collect();
    let flagged = |w: &WalletAddress| flags.get(w).is_some_and(|f| !f.is_empty());
    let sybil: HashSet<WalletAddress> = flags
        .iter()
        .filter(|(_, f)| f.contains(&Flag::Sybil))
        .map(|(w, _)| *w)
        .collect();
    let ranked: HashSet<WalletAddress> = labels
        .iter()
        .filter(|(w, _)| analytics.card(w).is_some_and(|c| c.ranked))
        .map(|(w, _)| *w)
        .collect();
    let of_kind = |kind: WalletLabel| {
        labels
            .iter()
            .filter(move |(_, l)| l.same_kind(kind))
            .map(|(w, _)| *w)
    };
    let skilled: HashSet<WalletAddress> = of_kind(WalletLabel::Skilled).collect();
    // Ring members with their buys (truth).
    let mut rings: HashMap<u32, Vec<(WalletAddress, u32)>> = HashMap::new();
    for (w, l) in labels {
        if let WalletLabel::Sybil { ring } = l {
            let buys = truth.wallet(w).map_or(0, |t| t.buys);
            rings.entry(*ring).or_default().push((*w, buys));
        }
    }
    let label_of: HashMap<WalletAddress, WalletLabel> = labels.iter().copied().collect();
    let top10: HashSet<WalletAddress> = ranking.iter().take(10).copied().collect();
    let top50: HashSet<WalletAddress> = ranking.iter().copied().collect();
    let rows = WalletLabel::KINDS
        .into_iter()
        .map(|kind| {
            let mut row = LabelRow {
                label: Some(kind),
                ..LabelRow::default()
            };
            let mut holds = Vec::new();
            for w in of_kind(kind) {
                row.wallets += 1;
                if let Some(t) = truth.wallet(&w) {
                    row.traded += usize::from(t.buys + t.sells > 0);
                    row.buys += u64::from(t.buys);
                    row.wins += u64::from(t.wins);
                    row.losses += u64::from(t.losses);
                    row.realized += t.realized;
                    holds.extend_from_slice(&t.holds_ms);
                }
                row.ranked += usize::from(ranked.contains(&w));
                row.flagged += usize::from(flagged(&w));
                let has = |f: Flag| flags.get(&w).is_some_and(|fs| fs.contains(&f));
                row.quick_flip += usize::from(has(Flag::QuickFlip));
                row.sold_into += usize::from(has(Flag::SoldIntoFollowers));
                row.sybil += usize::from(has(Flag::Sybil));
                row.top10 += usize::from(top10.contains(&w));
                row.top50 += usize::from(top50.contains(&w));
            }
            holds.sort_unstable();
            row.median_hold_ms = holds.get(holds.len() / 2).copied();
            row
        })
        .collect();
    let mut ring_ids: Vec<&u32> = rings.keys().collect();
    ring_ids.sort_unstable();
    SimReport {
        seed,
        minutes,
        events,
        engine_time,
        tracked_wallets: analytics.tracked_wallets(),
        board_rows: analytics.leaderboard_len(metric, window),
        precision_at_10: precision_at(&ranking, &skilled, 10),
        precision_at_50: precision_at(&ranking, &skilled, 50),
        farmers_flagged: Share::count(of_kind(WalletLabel::Farmer), |w| flagged(w)),
        rings_flagged: Share::count(ring_ids, |r| {
            ring_flagged(&rings[*r], min_buys, &sybil, &ranked)
        }),
        skilled_flagged: Share::count(skilled.iter(), |w| flagged(w)),
        labels: rows,
        top: board
            .into_iter()
            .take(10)
            .map(|r| {
                let label = label_of.get(&r.wallet).copied();
                (r, label)
            })
            .collect(),
    }
}

/// A replay file run through the engine.
#[derive(Debug, Clone)]
pub struct ReplayReport {
    pub path: PathBuf,
    /// Trades processed (each once).
    pub events: u64,
    /// Trades seen before (same signature and side) that the engine
    /// dropped; repeated lines of a file are already dropped when read.
    pub duplicates: u64,
    /// Reading and decoding the file.
    pub read_time: Duration,
    /// Wall time inside [`Engine::on_trade`] only.
    pub engine_time: Duration,
    pub tracked_wallets: usize,
    /// Decided outcomes a wallet needs to be ranked.
    pub min_outcomes: u32,
    /// Rows of the Score/24 h leaderboard (the engine keeps its top N).
    pub board_rows: usize,
    /// Its top 10.
    pub top: Vec<LeaderRow>,
    /// The 10 wallets with the best all-time realized PnL, ranked or not,
    /// best first (ties by address). Not a ranking: the report shows it
    /// beside the board, labelled provisional with each wallet's sample,
    /// because a short file leaves most wallets under `min_outcomes`.
    pub provisional: Vec<WalletCard>,
}

impl ReplayReport {
    /// Trades handed to the engine (duplicates included) per second.
    #[must_use]
    pub fn events_per_sec(&self) -> f64 {
        per_sec(self.events + self.duplicates, self.engine_time)
    }
}

/// Runs a replay file (DESIGN.md §2 format, or recorded PumpPortal frames)
/// through the engine with the default configuration at full speed.
pub fn replay_report(path: impl AsRef<Path>) -> anyhow::Result<ReplayReport> {
    replay_report_with(path, AnalyticsConfig::default())
}

/// [`replay_report`] with a configuration.
pub fn replay_report_with(
    path: impl AsRef<Path>,
    cfg: AnalyticsConfig,
) -> anyhow::Result<ReplayReport> {
    let path = path.as_ref();
    let t0 = Instant::now();
    let events = read_replay(path)?;
    let read_time = t0.elapsed();
    let mut report = replay_events_report(path, &events, cfg);
    report.read_time = read_time;
    Ok(report)
}

/// [`replay_report_with`] over trades already decoded (a feed's output),
/// `source` naming them in the report.
#[must_use]
pub fn replay_events_report(
    source: impl Into<PathBuf>,
    events: &[TradeEvent],
    cfg: AnalyticsConfig,
) -> ReplayReport {
    let min_outcomes = cfg.min_outcomes;
    let mut engine = backtest_engine(cfg);
    let t1 = Instant::now();
    for ev in events {
        engine.on_trade(ev);
    }
    let engine_time = t1.elapsed();
    let analytics = engine.analytics();
    let processed = analytics.counters().events;
    let (metric, window) = BOARD;
    ReplayReport {
        path: source.into(),
        events: processed,
        duplicates: (events.len() as u64).saturating_sub(processed),
        read_time: Duration::ZERO,
        engine_time,
        tracked_wallets: analytics.tracked_wallets(),
        min_outcomes,
        board_rows: analytics.leaderboard_len(metric, window),
        top: analytics.leaderboard(metric, window, 0, 10),
        provisional: best_by_realized_pnl(analytics, events, 10),
    }
}

/// The `n` traders of `events` with the best all-time realized PnL,
/// ranked or not (ties by address).
fn best_by_realized_pnl(analytics: &Analytics, events: &[TradeEvent], n: usize) -> Vec<WalletCard> {
    let traders: HashSet<WalletAddress> = events.iter().map(|e| e.trader).collect();
    let mut cards: Vec<WalletCard> = traders.iter().filter_map(|w| analytics.card(w)).collect();
    cards.sort_by(|a, b| {
        b.all_time
            .realized_pnl
            .cmp(&a.all_time.realized_pnl)
            .then(a.wallet.cmp(&b.wallet))
    });
    cards.truncate(n);
    cards
}

#[allow(clippy::cast_precision_loss, reason = "a rate for display")]
fn per_sec(events: u64, time: Duration) -> f64 {
    let s = time.as_secs_f64();
    if s > 0.0 { events as f64 / s } else { 0.0 }
}

fn flag_names(flags: &[Flag]) -> String {
    if flags.is_empty() {
        return "-".to_owned();
    }
    flags
        .iter()
        .map(|f| match f {
            Flag::QuickFlip => "quick_flip",
            Flag::SoldIntoFollowers => "sold_into_followers",
            Flag::Sybil => "sybil",
        })
        .collect::<Vec<_>>()
        .join(",")
}

fn write_row(f: &mut fmt::Formatter<'_>, r: &LeaderRow, label: Option<&str>) -> fmt::Result {
    let tier = r.tier.map_or_else(|| "-".to_owned(), |t| format!("{t:?}"));
    write!(
        f,
        "{:>3}  {:<44}  score {:.3}  tier {tier}  WR {:>5.1}%  trades {:>4}  PnL {:>10} SOL  flags {}",
        r.rank,
        r.wallet.to_string(),
        r.score,
        r.stats.win_rate() * 100.0,
        r.stats.trades,
        format_sol(i128::from(r.stats.realized_pnl)),
        flag_names(&r.flags),
    )?;
    if let Some(l) = label {
        write!(f, "  [{l}]")?;
    }
    writeln!(f)
}

impl fmt::Display for SimReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let pct = |x: f64| x * 100.0;
        writeln!(
            f,
            "alfabot simulator report: seed {}, {} simulated minutes",
            self.seed, self.minutes
        )?;
        writeln!(
            f,
            "events processed  {}  (engine {:.3} s, {:.0} events/s)",
            self.events,
            self.engine_time.as_secs_f64(),
            self.events_per_sec()
        )?;
        let ranked: usize = self.labels.iter().map(|r| r.ranked).sum();
        writeln!(
            f,
            "wallets tracked   {}; ranked {ranked}; score/24h board rows {}",
            self.tracked_wallets, self.board_rows
        )?;
        writeln!(f)?;
        writeln!(
            f,
            "precision@10             {:.2}   (target >= {TARGET_PRECISION_AT_10})",
            self.precision_at_10
        )?;
        writeln!(f, "precision@50             {:.2}", self.precision_at_50)?;
        writeln!(
            f,
            "farmers flagged          {}   (target >= {:.0}%)",
            self.farmers_flagged,
            pct(TARGET_FARMERS_FLAGGED)
        )?;
        writeln!(
            f,
            "sybil rings flagged      {}   (target >= {:.0}%)",
            self.rings_flagged,
            pct(TARGET_RINGS_FLAGGED)
        )?;
        writeln!(
            f,
            "skilled falsely flagged  {}   (target <= {:.0}%)",
            self.skilled_flagged,
            pct(TARGET_SKILLED_FALSE_FLAGS)
        )?;
        let failures = self.failures();
        if failures.is_empty() {
            writeln!(f, "targets: met")?;
        } else {
            writeln!(f, "targets: NOT met ({})", failures.join("; "))?;
        }
        writeln!(f)?;
        writeln!(
            f,
            "label     wallets traded   buys  win%(rule)  realized SOL  med.hold s  ranked flagged (quick/into/sybil) top10 top50"
        )?;
        for r in &self.labels {
            let decided = r.wins + r.losses;
            #[allow(clippy::cast_precision_loss, reason = "display")]
            let wr = if decided == 0 {
                0.0
            } else {
                r.wins as f64 * 100.0 / decided as f64
            };
            #[allow(clippy::cast_precision_loss, reason = "display")]
            let hold = r
                .median_hold_ms
                .map_or_else(|| "-".to_owned(), |h| format!("{:.1}", h as f64 / 1e3));
            writeln!(
                f,
                "{:<9} {:>7} {:>6} {:>6}  {:>9.1}  {:>12}  {:>10}  {:>6} {:>7} {:>16} {:>5} {:>5}",
                r.label.map_or("?", WalletLabel::name),
                r.wallets,
                r.traded,
                r.buys,
                wr,
                format_sol(i128::from(r.realized)),
                hold,
                r.ranked,
                r.flagged,
                format!("({}/{}/{})", r.quick_flip, r.sold_into, r.sybil),
                r.top10,
                r.top50
            )?;
        }
        writeln!(f)?;
        writeln!(f, "top 10 by score (24h):")?;
        if self.top.is_empty() {
            writeln!(f, "  (no wallet ranked)")?;
        }
        for (row, label) in &self.top {
            write_row(f, row, Some(label.map_or("unknown", WalletLabel::name)))?;
        }
        Ok(())
    }
}

impl fmt::Display for ReplayReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "alfabot replay report: {}", self.path.display())?;
        writeln!(
            f,
            "events processed  {}  (read {:.3} s; engine {:.3} s, {:.0} events/s)",
            self.events,
            self.read_time.as_secs_f64(),
            self.engine_time.as_secs_f64(),
            self.events_per_sec()
        )?;
        if self.duplicates > 0 {
            writeln!(
                f,
                "duplicates        {}  (seen before: dropped)",
                self.duplicates
            )?;
        }
        writeln!(
            f,
            "wallets tracked   {}; score/24h board rows {}",
            self.tracked_wallets, self.board_rows
        )?;
        writeln!(f)?;
        writeln!(f, "top 10 by score (24h):")?;
        if self.top.is_empty() {
            writeln!(
                f,
                "  (no wallet ranked: none has {} decided outcomes yet)",
                self.min_outcomes
            )?;
        }
        for row in &self.top {
            write_row(f, row, None)?;
        }
        if self.top.len() < 10 && !self.provisional.is_empty() {
            writeln!(f)?;
            writeln!(
                f,
                "PROVISIONAL top {} by realized PnL (all wallets, ranked or not; small samples, not a ranking):",
                self.provisional.len()
            )?;
            for (i, c) in self.provisional.iter().enumerate() {
                let decided = c.all_time.wins + c.all_time.losses;
                let status = if c.ranked {
                    "ranked".to_owned()
                } else {
                    format!("unranked, {decided}/{} outcomes", self.min_outcomes)
                };
                writeln!(
                    f,
                    "{:>3}  {:<44}  PnL {:>10} SOL  wins {}/{decided}  trades {:>4}  flags {}  [{status}]",
                    i + 1,
                    c.wallet.to_string(),
                    format_sol(i128::from(c.all_time.realized_pnl)),
                    c.all_time.wins,
                    c.all_time.trades,
                    flag_names(&c.flags),
                )?;
            }
        }
        Ok(())
    }
}
