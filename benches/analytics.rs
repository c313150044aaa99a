//! Analytics benchmarks (a plain bench binary: `cargo bench --bench analytics`).
//!
//! 1. Ingest: every trade through wallet analytics (FIFO PnL, outcomes,
//!    flags, scores, tiers, incremental leaderboards) plus follow matching
//!    as `Engine::on_trade` does it (the copy book's followers of the
//!    trader), with 100k trading wallets, 10k followed wallets and 100k
//!    users (one profile each). The copy decisions for the followers are
//!    the copy bench's subject (`benches/copy.rs`), not timed here.
//! 2. Leaderboards: top-100 pages over 1M ranked wallets, and the full
//!    re-rank the hourly boundary runs.
//! 3. FIFO PnL over 10M trades: the engine's own lots
//!    (`analytics::position::Position`) alone, without the map that finds
//!    them.
//! 4. Memory per tracked wallet at steady state (counted from the
//!    structures, and the process RSS delta from `/proc/self/statm`).
//!
//! `ALFABOT_BENCH_SCALE=0.02` shrinks every size (a smoke run, e.g. with
//! `--profile dev`).
//! Each figure is from one run of this binary; ratios, not timed tests.

use std::hint::black_box;
use std::time::{Duration, Instant};

use alfabot::domain::{
    Follow, Lamports, Mint, Overrides, Platform, Profile, ProfileId, ProfileName, ProfileSettings,
    Side, Signature, TokenAmount, TradeEvent, UserRef, WalletAddress,
};
use alfabot::engine::analytics::fifo::{buy_cost, sell_proceeds};
use alfabot::engine::analytics::position::{LOTS_INLINE, Lot, Position};
use alfabot::engine::analytics::{Analytics, AnalyticsConfig, Holds, Metric, Window};
use alfabot::engine::curve::{Curve, Fees};
use alfabot::engine::{Engine, EngineConfig};

const SOL: u64 = 1_000_000_000;
/// 2025-10-20 00:00 UTC plus a minute (no hour boundary right away).
const T0: i64 = 1_760_918_400_000 + 60_000;

/// xorshift64*: deterministic, cheap.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    #[allow(clippy::cast_precision_loss)]
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    fn bytes(&mut self) -> [u8; 32] {
        let mut b = [0u8; 32];
        for c in b.chunks_mut(8) {
            c.copy_from_slice(&self.next().to_le_bytes());
        }
        b
    }
}

fn scale() -> f64 {
    std::env::var("ALFABOT_BENCH_SCALE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1.0)
}

#[allow(
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    clippy::cast_precision_loss
)]
fn scaled(n: usize) -> usize {
    ((n as f64 * scale()) as usize).max(10)
}

/// CPU time of this thread (user + system), from `/proc/thread-self/stat`
/// in clock ticks of 10 ms: the machine is shared, wall time alone would
/// count other processes' turns.
fn cpu_time() -> Duration {
    let ticks = std::fs::read_to_string("/proc/thread-self/stat")
        .ok()
        .and_then(|s| {
            let rest = s.rsplit_once(')')?.1;
            let f: Vec<&str> = rest.split_whitespace().collect();
            Some(f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?)
        })
        .unwrap_or(0);
    Duration::from_millis(ticks * 10)
}

fn rss_bytes() -> usize {
    let page = 4096;
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1)?.parse::<usize>().ok())
        .map_or(0, |p| p * page)
}

/// A compact trade; materialized into one reused `TradeEvent` in the loop
/// (no allocation per event).
#[derive(Clone, Copy)]
struct Ev {
    w: u32,
    m: u32,
    buy: bool,
    sol: u64,
    tokens: u64,
    vs: u64,
    vt: u64,
    t: i64,
}

fn template() -> TradeEvent {
    TradeEvent {
        signature: Signature::from_bytes(&[7; 64]),
        mint: Mint::from_bytes([0; 32]),
        trader: WalletAddress::from_bytes([0; 32]),
        side: Side::Buy,
        sol: Lamports(0),
        tokens: TokenAmount(0),
        timestamp_ms: 0,
        slot: None,
        virtual_sol: Lamports(0),
        virtual_tokens: TokenAmount(0),
        trader_balance_after: None,
        created: false,
        on_curve: true,
    }
}

#[inline]
fn fill(ev: &mut TradeEvent, e: &Ev, wallets: &[WalletAddress], mints: &[Mint], shift: i64) {
    ev.trader = wallets[e.w as usize];
    ev.mint = mints[e.m as usize];
    ev.side = if e.buy { Side::Buy } else { Side::Sell };
    ev.sol = Lamports(e.sol);
    ev.tokens = TokenAmount(e.tokens);
    ev.timestamp_ms = e.t + shift;
    ev.virtual_sol = Lamports(e.vs);
    ev.virtual_tokens = TokenAmount(e.vt);
}

/// A market: mints launch steadily, attention decays with age, a tenth of
/// the wallets make half the trades, buys are 0.01–5 SOL (log-uniform),
/// 40% of trades sell a recent buy (all or half).
struct Market {
    rng: Rng,
    curves: Vec<Curve>,
    recent: std::collections::VecDeque<(u32, u32, u64)>,
    wallets: u32,
    active: u64,
    launch_every: u64,
    n: u64,
}

impl Market {
    fn new(seed: u64, wallets: u32) -> Self {
        Self {
            rng: Rng(seed),
            curves: vec![Curve::fresh()],
            recent: std::collections::VecDeque::new(),
            wallets,
            active: 300,
            launch_every: 150,
            n: 0,
        }
    }

    #[allow(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        clippy::cast_precision_loss
    )]
    fn next(&mut self, t: i64) -> Option<Ev> {
        self.n += 1;
        if self.n.is_multiple_of(self.launch_every) {
            self.curves.push(Curve::fresh());
        }
        let fees = Fees::default();
        if self.rng.below(10) < 4 && self.recent.len() > 100 {
            // Sell a recent buy (held for a while: skip the newest).
            let i = self.rng.below(self.recent.len() as u64 - 50) as usize;
            let (w, m, held) = self.recent[i];
            let tokens = if self.rng.below(2) == 0 {
                held
            } else {
                held / 2
            };
            if tokens == 0 {
                return None;
            }
            if tokens == held {
                self.recent.swap_remove_back(i);
            } else {
                self.recent[i].2 = held - tokens;
            }
            let c = &mut self.curves[m as usize];
            let sol = c.gross_sol_for_tokens(tokens);
            c.apply(false, sol, tokens);
            return Some(Ev {
                w,
                m,
                buy: false,
                sol,
                tokens,
                vs: c.virtual_sol,
                vt: c.virtual_tokens,
                t,
            });
        }
        let w = if self.rng.below(2) == 0 {
            self.rng.below(u64::from(self.wallets) / 10)
        } else {
            self.rng.below(u64::from(self.wallets))
        } as u32;
        let newest = self.curves.len() as u64 - 1;
        let back = (self.rng.unit().powi(3) * self.active as f64) as u64;
        let m = newest.saturating_sub(back) as u32;
        let gross = (0.01 * 500f64.powf(self.rng.unit()) * SOL as f64) as u64;
        let c = &mut self.curves[m as usize];
        let q = c.quote_buy(Lamports(gross), fees);
        if q.tokens.0 == 0 {
            return None;
        }
        let net = q.sol.0 - q.fee.0;
        c.apply(true, net, q.tokens.0);
        self.recent.push_back((w, m, q.tokens.0));
        if self.recent.len() > 50_000 {
            self.recent.pop_front();
        }
        Some(Ev {
            w,
            m,
            buy: true,
            sol: net,
            tokens: q.tokens.0,
            vs: c.virtual_sol,
            vt: c.virtual_tokens,
            t,
        })
    }
}

fn addresses(rng: &mut Rng, n: usize) -> Vec<WalletAddress> {
    (0..n)
        .map(|_| WalletAddress::from_bytes(rng.bytes()))
        .collect()
}

struct Row {
    name: String,
    value: String,
    target: String,
    met: Option<bool>,
}

fn row(rows: &mut Vec<Row>, name: &str, value: String, target: &str, met: Option<bool>) {
    println!("  {name}: {value}");
    rows.push(Row {
        name: name.to_owned(),
        value,
        target: target.to_owned(),
        met,
    });
}

#[allow(clippy::cast_precision_loss)]
fn per_sec(n: usize, d: Duration) -> f64 {
    n as f64 / d.as_secs_f64()
}

#[allow(clippy::too_many_lines, clippy::cast_precision_loss)]
fn ingest(rows: &mut Vec<Row>) {
    let n_wallets = scaled(100_000);
    let n_followed = scaled(10_000);
    let n_users = scaled(100_000);
    let n_events = scaled(1_000_000);
    println!(
        "\n## ingest: {n_events} events x 3 passes, {n_wallets} wallets, {n_followed} followed, {n_users} users"
    );
    let mut rng = Rng(0x5eed);
    let wallets = addresses(&mut rng, n_wallets);
    let mut market = Market::new(42, u32::try_from(n_wallets).unwrap());
    let mut tape = Vec::with_capacity(n_events);
    // Start at xx:40 so the second pass crosses an hour: the hourly sweep,
    // re-clustering and full re-rank are inside the timed passes.
    let t_start = T0 + 39 * 60_000;
    let mut t = t_start;
    while tape.len() < n_events {
        t += 1; // 1,000 trades per second of event time
        if let Some(e) = market.next(t) {
            tape.push(e);
        }
    }
    let span = t - t_start + 1;
    let mints: Vec<Mint> = (0..market.curves.len())
        .map(|_| Mint::from_bytes(rng.bytes()))
        .collect();
    let buys = tape.iter().filter(|e| e.buy).count();
    println!(
        "  tape: {} mints, {:.0}% buys, {:.1} min of event time per pass",
        mints.len(),
        100.0 * buys as f64 / tape.len() as f64,
        span as f64 / 60_000.0
    );

    // Follows as the running engine holds them: one profile per user,
    // following one to three wallets in the copy book.
    let mut engine = Engine::new(EngineConfig::default());
    let name = ProfileName::parse("main").unwrap();
    let mut entries = 0;
    for u in 0..n_users {
        let id = i64::try_from(u).unwrap() + 1;
        let profile = Profile {
            id: ProfileId(id),
            user: UserRef::new(Platform::Telegram, id),
            name: name.clone(),
            settings: ProfileSettings::default(),
            created_ms: 0,
        };
        engine.upsert_profile(profile.clone());
        for _ in 0..=rng.below(2) {
            // Followed wallets are among the busy tenth.
            let w = wallets[usize::try_from(rng.below(n_followed as u64)).unwrap()];
            entries += 1;
            engine.follow(&Follow {
                id: entries,
                profile: profile.id,
                user: profile.user,
                wallet: w,
                overrides: Overrides::default(),
                created_ms: 0,
            });
        }
    }
    let follows = engine.copy();
    println!(
        "  follows: {} followed wallets, {entries} follow entries",
        follows.followed_wallets().count()
    );

    let (ws, ps, ms) = Analytics::slot_sizes();
    println!("  sizes: wallet slot {ws} B, position {ps} B, mint slot {ms} B");
    let rss0 = rss_bytes();
    let mut a = Analytics::new(AnalyticsConfig::default());
    let mut ev = template();
    let mut events_out = 0usize;
    let mut matched = 0usize;
    let mut times = Vec::new();
    for pass in 0..3 {
        let shift = span * pass;
        let (start, cpu0) = (Instant::now(), cpu_time());
        for e in &tape {
            fill(&mut ev, e, &wallets, &mints, shift);
            events_out += a.on_trade(&ev).len();
            matched += follows.followers(&ev.trader).len();
        }
        let (d, cpu) = (start.elapsed(), cpu_time() - cpu0);
        println!(
            "  pass {pass}: {:.0} events/s wall ({:.0} ns/event), {:.0} events/s of CPU time",
            per_sec(tape.len(), d),
            d.as_nanos() as f64 / tape.len() as f64,
            per_sec(tape.len(), cpu)
        );
        times.push((d, cpu));
    }
    black_box((events_out, matched));
    let wall = (times[1].0 + times[2].0) / 2;
    let cpu = (times[1].1 + times[2].1) / 2;
    let eps = per_sec(tape.len(), cpu);
    row(
        rows,
        &format!(
            "ingest (analytics + follow matching), {n_wallets} wallets, {n_followed} followed, {n_users} users, steady state, per CPU second"
        ),
        format!(
            "{:.2} M events/s ({:.0} ns/event); wall clock {:.2} M events/s",
            eps / 1e6,
            1e9 / eps,
            per_sec(tape.len(), wall) / 1e6
        ),
        ">= 1 M events/s",
        Some(eps >= 1e6),
    );
    let cold = per_sec(tape.len(), times[0].1);
    row(
        rows,
        "ingest, first pass (wallets created), per CPU second",
        format!("{:.2} M events/s", cold / 1e6),
        "",
        None,
    );

    // Follow matching alone, for the split.
    let start = Instant::now();
    for e in &tape {
        matched += follows.followers(&wallets[e.w as usize]).len();
    }
    let d = start.elapsed();
    black_box(matched);
    row(
        rows,
        "of which follow matching alone (the copy book's followers of the trader)",
        format!("{:.0} ns/event", d.as_nanos() as f64 / tape.len() as f64),
        "",
        None,
    );
    let c = a.counters();
    println!(
        "  counters: {} wins, {} losses ({} expired), {} unmatched sells, {} refills, {} rebuilds, {} reclusters; {events_out} analytics events",
        c.wins, c.losses, c.expired, c.unmatched_sells, c.refills, c.rebuilds, c.reclusters
    );
    println!(
        "  boards: score/24h {} rows, flagged wallets {}",
        a.leaderboard_len(Metric::Score, Window::H24),
        a.flagged().len()
    );

    // Memory at steady state: active, then after everyone went idle.
    let m = a.memory();
    let tracked = a.tracked_wallets();
    println!(
        "  memory (active): {tracked} wallets, {:.1} MB counted = wallets {:.1} + index {:.1} + mints {:.1} + positions {:.1} + pairs {:.1} + boards {:.1}",
        m.total() as f64 / 1e6,
        m.wallet_bytes as f64 / 1e6,
        m.index_bytes as f64 / 1e6,
        m.mint_bytes as f64 / 1e6,
        m.position_bytes as f64 / 1e6,
        m.pair_bytes as f64 / 1e6,
        m.board_bytes as f64 / 1e6
    );
    row(
        rows,
        "memory per tracked wallet, active (all structures / wallets)",
        format!("{:.0} B", m.total() as f64 / tracked as f64),
        "",
        None,
    );
    let end = t_start + 3 * span;
    a.tick(end + 7 * 3_600_000);
    let m = a.memory();
    let mut sizes: Vec<usize> = wallets.iter().filter_map(|w| a.wallet_bytes(w)).collect();
    sizes.sort_unstable();
    let compacted = wallets.iter().filter(|w| a.is_compacted(w)).count();
    let per = (m.wallet_bytes + m.index_bytes) as f64 / tracked as f64;
    println!(
        "  memory (idle, 7 h later): {compacted} compacted, {:.1} MB counted = wallets {:.1} + index {:.1} + mints {:.1} + positions {:.1} + pairs {:.1} + boards {:.1}",
        m.total() as f64 / 1e6,
        m.wallet_bytes as f64 / 1e6,
        m.index_bytes as f64 / 1e6,
        m.mint_bytes as f64 / 1e6,
        m.position_bytes as f64 / 1e6,
        m.pair_bytes as f64 / 1e6,
        m.board_bytes as f64 / 1e6
    );
    row(
        rows,
        "memory per idle wallet (slot + heap + index entry), 7 h idle, mean",
        format!(
            "{per:.0} B (median {} B, p99 {} B)",
            sizes[sizes.len() / 2],
            sizes[sizes.len() * 99 / 100]
        ),
        "<= 512 B",
        Some(per <= 512.0),
    );
    row(
        rows,
        "memory per idle wallet, 7 h idle, all analytics structures / wallets",
        format!("{:.0} B", m.total() as f64 / tracked as f64),
        "",
        None,
    );
    // A day later the hour buckets are gone too.
    a.tick(end + 25 * 3_600_000);
    let m = a.memory();
    let mut sizes: Vec<usize> = wallets.iter().filter_map(|w| a.wallet_bytes(w)).collect();
    sizes.sort_unstable();
    let per = (m.wallet_bytes + m.index_bytes) as f64 / tracked as f64;
    row(
        rows,
        "memory per idle wallet, 25 h idle, mean",
        format!(
            "{per:.0} B (median {} B); all structures / wallets {:.0} B",
            sizes[sizes.len() / 2],
            m.total() as f64 / tracked as f64
        ),
        "<= 512 B",
        Some(per <= 512.0),
    );
    let rss1 = rss_bytes();
    row(
        rows,
        "process RSS growth during ingest / wallets (upper bound)",
        format!(
            "{:.0} B ({:.0} MB)",
            rss1.saturating_sub(rss0) as f64 / tracked as f64,
            rss1.saturating_sub(rss0) as f64 / 1e6
        ),
        "",
        None,
    );
}

#[allow(clippy::cast_precision_loss, clippy::too_many_lines)]
fn leaderboards(rows: &mut Vec<Row>) {
    let n_wallets = scaled(1_000_000);
    let n_mints = 2_000u32;
    println!("\n## leaderboards: {n_wallets} wallets, 5 buys and 2 sells each");
    let mut rng = Rng(0xb0a2d);
    let wallets = addresses(&mut rng, n_wallets);
    let mints: Vec<Mint> = (0..n_mints)
        .map(|_| Mint::from_bytes(rng.bytes()))
        .collect();
    let mut curves = vec![Curve::fresh(); n_mints as usize];
    let mut a = Analytics::new(AnalyticsConfig::default());
    let mut ev = template();
    let fees = Fees::default();
    let mut queue = std::collections::VecDeque::new();
    let mut t = T0;
    let mut n = 0usize;
    let start = Instant::now();
    let nw = u32::try_from(n_wallets).unwrap();
    for round in 0..5u32 {
        for i in 0..nw {
            // Every wallet once per round, in a scrambled order.
            let w = (u64::from(i) * 7_919 + u64::from(round) * 104_729) % u64::from(nw);
            let w = u32::try_from(w).unwrap();
            if n.is_multiple_of(10) {
                t += 1; // 10,000 trades per second of event time
            }
            let m = u32::try_from(rng.below(u64::from(n_mints))).unwrap();
            let c = &mut curves[m as usize];
            if c.real_tokens() < 100_000_000_000_000 {
                *c = Curve::fresh();
            }
            let gross = (0.01 * 500f64.powf(rng.unit()) * SOL as f64) as u64;
            let q = c.quote_buy(Lamports(gross), fees);
            let net = q.sol.0 - q.fee.0;
            c.apply(true, net, q.tokens.0);
            let e = Ev {
                w,
                m,
                buy: true,
                sol: net,
                tokens: q.tokens.0,
                vs: c.virtual_sol,
                vt: c.virtual_tokens,
                t,
            };
            fill(&mut ev, &e, &wallets, &mints, 0);
            a.on_trade(&ev);
            n += 1;
            if round < 2 {
                queue.push_back((w, m, q.tokens.0));
            }
            // Sell an older buy (held ~20 s of event time).
            if queue.len() > 200_000
                && let Some((sw, sm, tokens)) = queue.pop_front()
            {
                let c = &mut curves[sm as usize];
                let sol = c.gross_sol_for_tokens(tokens);
                c.apply(false, sol, tokens);
                let e = Ev {
                    w: sw,
                    m: sm,
                    buy: false,
                    sol,
                    tokens,
                    vs: c.virtual_sol,
                    vt: c.virtual_tokens,
                    t,
                };
                fill(&mut ev, &e, &wallets, &mints, 0);
                a.on_trade(&ev);
                n += 1;
            }
        }
    }
    // Decide what is still pending.
    a.tick(t + 16 * 60_000);
    let fill_time = start.elapsed();
    println!(
        "  filled with {n} events in {:.1} s ({:.2} M events/s, wallets created on the way)",
        fill_time.as_secs_f64(),
        per_sec(n, fill_time) / 1e6
    );
    let ranked = a.leaderboard_len(Metric::Volume, Window::H24);
    let flagged = a.flagged().len();
    println!(
        "  {} wallets tracked, {flagged} flagged, boards hold {ranked} rows (top 100 + slack are kept)",
        a.tracked_wallets()
    );

    // Full re-rank: what each hour boundary costs.
    let start = Instant::now();
    black_box(a.rebuild_leaderboards());
    let rebuild = start.elapsed();
    row(
        rows,
        &format!("full re-rank of all 15 boards over {n_wallets} wallets (hourly)"),
        format!("{:.0} ms", rebuild.as_secs_f64() * 1e3),
        "",
        None,
    );

    // Top-100 page of every board, many times.
    let reps = 200;
    let mut worst = Duration::ZERO;
    let mut total = Duration::ZERO;
    let mut rows_out = 0;
    for _ in 0..reps {
        for metric in Metric::ALL {
            for window in Window::ALL {
                let s = Instant::now();
                let page = a.leaderboard(metric, window, 0, 100);
                let d = s.elapsed();
                rows_out += page.len();
                black_box(page);
                worst = worst.max(d);
                total += d;
            }
        }
    }
    let mean = total / (reps * 15);
    row(
        rows,
        &format!("leaderboard top-100 page over {n_wallets} wallets"),
        format!(
            "{:.1} us mean, {:.1} us worst ({} rows/page)",
            mean.as_secs_f64() * 1e6,
            worst.as_secs_f64() * 1e6,
            rows_out / (usize::try_from(reps).unwrap() * 15)
        ),
        "<= 5 ms",
        Some(worst <= Duration::from_millis(5)),
    );
    let m = a.memory();
    row(
        rows,
        &format!("memory at {n_wallets} wallets, all structures / wallets"),
        format!(
            "{:.0} B ({:.0} MB)",
            m.total() as f64 / a.tracked_wallets() as f64,
            m.total() as f64 / 1e6
        ),
        "",
        None,
    );
}

#[allow(clippy::cast_precision_loss)]
fn fifo(rows: &mut Vec<Row>) {
    let n = scaled(10_000_000);
    let books = 10_000usize;
    println!(
        "\n## FIFO: {n} trades over {books} positions (analytics::position::Position, {LOTS_INLINE} lots each, as the engine keeps them)"
    );
    let mut rng = Rng(0xf1f0);
    // (position, buy?, amount): pre-generated so only the lots are timed.
    let trades: Vec<(u32, bool, u64)> = (0..n)
        .map(|_| {
            let b = u32::try_from(rng.below(books as u64)).unwrap();
            (b, rng.below(10) < 6, 1 + rng.below(1_000_000_000))
        })
        .collect();
    let mut book: Vec<Position> = (0..books).map(|_| Position::new(0)).collect();
    let mut holds = vec![Holds::default(); books];
    let mut realized = 0i64;
    let start = Instant::now();
    for (i, &(b, buy, x)) in trades.iter().enumerate() {
        let t = i64::try_from(i).unwrap();
        let b = b as usize;
        let held = book[b].tokens();
        if buy || held == 0 {
            let lot = Lot {
                tokens: x * 1_000,
                cost: buy_cost(x, 125),
                t_ms: t,
                ..Lot::default()
            };
            book[b].buy(lot, LOTS_INLINE);
        } else {
            // Sell half, or everything one time in three.
            let tokens = if x % 3 == 0 { held } else { held / 2 };
            let (m, _) = book[b].sell(tokens, sell_proceeds(x, 125), t, 120_000, &mut holds[b]);
            realized += m.realized;
        }
    }
    let d = start.elapsed();
    black_box((realized, &book));
    let per_10m = d.as_secs_f64() * (10_000_000.0 / n as f64);
    row(
        rows,
        "FIFO PnL, 10M trades over 10k positions (the engine's Position)",
        format!(
            "{:.0} ms ({:.0} ns/trade{})",
            per_10m * 1e3,
            d.as_nanos() as f64 / n as f64,
            if n == 10_000_000 {
                String::new()
            } else {
                format!("; {n} trades timed, scaled to 10M")
            }
        ),
        "<= 1 s",
        Some(per_10m <= 1.0),
    );
}

fn main() {
    // `cargo bench` passes `--bench`; a name filter may follow.
    let filter: Option<String> = std::env::args().skip(1).find(|a| !a.starts_with('-'));
    let want = |name: &str| filter.as_deref().is_none_or(|f| name.contains(f));
    println!(
        "alfabot analytics benchmarks (scale {}, {} CPUs visible, single-threaded)",
        scale(),
        std::thread::available_parallelism().map_or(1, std::num::NonZero::get)
    );
    let mut rows = Vec::new();
    if want("ingest") {
        ingest(&mut rows);
    }
    if want("leaderboard") {
        leaderboards(&mut rows);
    }
    if want("fifo") {
        fifo(&mut rows);
    }
    // The targets first, then the figures that explain them.
    let (targets, others): (Vec<Row>, Vec<Row>) = rows.into_iter().partition(|r| r.met.is_some());
    println!("\n### targets\n\n| measurement | result | target | met |\n|---|---|---|---|");
    for r in &targets {
        let met = if r.met == Some(true) { "yes" } else { "**no**" };
        println!("| {} | {} | {} | {met} |", r.name, r.value, r.target);
    }
    println!("\n### other figures\n\n| measurement | result |\n|---|---|");
    for r in &others {
        println!("| {} | {} |", r.name, r.value);
    }
}
