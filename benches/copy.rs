//! Copy pipeline benchmark (a plain bench binary: `cargo bench --bench copy`).
//!
//! Feed frame → order handed to the executor, on loopback, with 10,000
//! profiles (of 10,000 users) following one leader:
//!
//! 1. A websocket server on 127.0.0.1 plays PumpPortal trade frames of the
//!    leader (a buy of a new token each time). The real PumpPortal client
//!    (`feed::spawn`) parses them into trade events; one consumer runs each
//!    through the engine (analytics, follow matching, signals, safety,
//!    risk) and hands every approved order to an executor queue. Times are
//!    taken on one monotonic clock: the frame leaves the server → the first
//!    and the last of the frame's 10,000 orders are handed over.
//! 2. The same frames through the application core with a SQLite store:
//!    frame → the first and the last order handed to the paper executor,
//!    each after its batch's decisions were logged and idempotency keys
//!    stored (alerts are queued after the orders), for the cost of
//!    persistence.
//!
//! `ALFABOT_BENCH_SCALE=0.1` shrinks the follower count (a smoke run).
//! Each figure is from one run of this binary; no timed tests.

use std::sync::Arc;
use std::time::{Duration, Instant};

use alfabot::domain::ports::SystemClock;
use alfabot::domain::{
    Follow, Lamports, Overrides, Platform, Profile, ProfileId, ProfileName, ProfileSettings, Side,
    Signature, TokenAmount, TradeEvent, UserRef, WalletAddress,
};
use alfabot::engine::curve::{Curve, Fees};
use alfabot::engine::{Engine, EngineConfig};
use alfabot::feed::frame::trade_frame;
use alfabot::feed::pumpportal::PumpPortalSettings;
use alfabot::feed::{FeedSettings, FeedSpec, Speed};
use futures_util::{SinkExt as _, StreamExt as _};
use tokio::sync::{mpsc, watch};
use tokio_tungstenite::tungstenite::Message;

const SOL: u64 = 1_000_000_000;

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

fn leader() -> WalletAddress {
    WalletAddress::from_bytes([1; 32])
}

fn settings() -> ProfileSettings {
    // Every frame is a placed order for every follower: no spacing, no
    // open-position limit, no sellability history needed.
    ProfileSettings {
        adaptive: false,
        sellability: false,
        max_open: 1_000_000,
        ..ProfileSettings::default()
    }
}

fn profile(i: usize) -> Profile {
    Profile {
        id: ProfileId(i64::try_from(i).unwrap() + 1),
        user: UserRef::new(Platform::Telegram, i64::try_from(i).unwrap() + 1),
        name: ProfileName::parse("main").unwrap(),
        settings: settings(),
        created_ms: 0,
    }
}

/// An engine with `followers` profiles (of as many users) following the
/// leader.
fn engine_with(followers: usize) -> Engine {
    let mut engine = Engine::new(EngineConfig::default());
    for i in 0..followers {
        let p = profile(i);
        engine.upsert_profile(p.clone());
        engine.follow(&Follow {
            id: i64::try_from(i).unwrap(),
            profile: p.id,
            user: p.user,
            wallet: leader(),
            overrides: Overrides::default(),
            created_ms: 0,
        });
    }
    engine
}

/// The leader's buy of a fresh token `n`.
fn leader_buy(n: u32) -> TradeEvent {
    let mut c = Curve::fresh();
    let q = c.quote_buy(Lamports(SOL / 2), Fees::default());
    c.apply(true, q.sol.0 - q.fee.0, q.tokens.0);
    let mut mint = [7u8; 32];
    mint[..4].copy_from_slice(&n.to_le_bytes());
    let mut sig = [9u8; 64];
    sig[..4].copy_from_slice(&n.to_le_bytes());
    TradeEvent {
        signature: Signature::from_bytes(&sig),
        mint: WalletAddress::from_bytes(mint),
        trader: leader(),
        side: Side::Buy,
        sol: Lamports(q.sol.0 - q.fee.0),
        tokens: q.tokens,
        timestamp_ms: 0,
        slot: None,
        virtual_sol: Lamports(c.virtual_sol),
        virtual_tokens: TokenAmount(c.virtual_tokens),
        trader_balance_after: None,
        created: false,
        on_curve: true,
    }
}

/// A loopback PumpPortal: sends each frame it is given, with its send time.
async fn server(
    mut frames: mpsc::Receiver<String>,
    sent: mpsc::UnboundedSender<Instant>,
) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("ws://{}/api/data", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let (stream, _) = listener.accept().await.unwrap();
        let ws = tokio_tungstenite::accept_async(stream).await.unwrap();
        let (mut out, mut incoming) = ws.split();
        // Subscriptions are read and dropped; the bench pushes regardless.
        tokio::spawn(async move { while let Some(Ok(_)) = incoming.next().await {} });
        while let Some(f) = frames.recv().await {
            let at = Instant::now();
            out.send(Message::text(f)).await.unwrap();
            let _ = sent.send(at);
        }
    });
    url
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    #[allow(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        clippy::cast_precision_loss
    )]
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn us(d: Duration) -> String {
    format!("{:.0} µs", d.as_secs_f64() * 1e6)
}

struct Figures {
    /// Frame sent → trade event in the engine's hands.
    feed: Vec<Duration>,
    first: Vec<Duration>,
    last: Vec<Duration>,
    orders: usize,
}

impl Figures {
    fn report(&mut self, what: &str, rows: &mut Vec<(String, String, String)>, target: &str) {
        self.first.sort_unstable();
        self.last.sort_unstable();
        let line = |v: &[Duration]| {
            format!(
                "p50 {} · p99 {} · max {}",
                us(percentile(v, 0.5)),
                us(percentile(v, 0.99)),
                us(*v.last().unwrap())
            )
        };
        if !self.feed.is_empty() {
            self.feed.sort_unstable();
            println!("  {what}: frame → event {}", line(&self.feed));
            rows.push((
                format!("{what}, frame → trade event"),
                line(&self.feed),
                String::new(),
            ));
        }
        println!("  {what}: first order {}", line(&self.first));
        println!("  {what}: last order  {}", line(&self.last));
        rows.push((
            format!("{what}, first order"),
            line(&self.first),
            target.to_owned(),
        ));
        rows.push((
            format!("{what}, last order"),
            line(&self.last),
            String::new(),
        ));
        println!("  orders handed over: {}", self.orders);
    }
}

/// Part 1: the feed client and the engine, in process, no I/O but the
/// loopback socket.
async fn engine_path(followers: usize, frames: u32) -> Figures {
    let mut engine = engine_with(followers);
    let (ftx, frx) = mpsc::channel(16);
    let (stx, mut srx) = mpsc::unbounded_channel();
    let url = server(frx, stx).await;
    let (etx, mut erx) = mpsc::channel(1024);
    let (_shutdown_tx, shutdown) = watch::channel(false);
    let feed = alfabot::feed::spawn(
        FeedSpec::PumpPortal,
        FeedSettings {
            pumpportal: PumpPortalSettings::new(url, None),
            speed: Speed::parse("1").unwrap(),
        },
        etx,
        shutdown,
    )
    .unwrap();
    feed.follow(leader());
    while !feed.is_connected() {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // The engine worker, as in the app: one task consuming the feed. It
    // reports, per frame, when the event arrived and when the first and
    // the last order were handed to the executor queue.
    let (rtx, mut rrx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        let mut queue: Vec<alfabot::engine::RiskApproved<alfabot::domain::Order>> =
            Vec::with_capacity(followers);
        while let Some(ev) = erx.recv().await {
            let got = Instant::now();
            let out = engine.on_trade(&ev);
            let mut first = None;
            for d in out.decisions {
                if let alfabot::engine::CopyOutcome::Place(o) = d.outcome {
                    queue.push(o);
                    first.get_or_insert_with(Instant::now);
                }
            }
            let last = Instant::now();
            let n = queue.len();
            // Not timed: the executor's reports give the reservations back.
            for o in queue.drain(..) {
                engine.on_execution(
                    o.get(),
                    &alfabot::domain::Execution::Rejected {
                        reason: alfabot::domain::SkipReason::Interrupted,
                        at_ms: 0,
                    },
                );
            }
            if rtx.send((got, first, last, n)).is_err() {
                break;
            }
        }
    });
    let mut fig = Figures {
        feed: Vec::new(),
        first: Vec::new(),
        last: Vec::new(),
        orders: 0,
    };
    for n in 0..frames + 20 {
        ftx.send(trade_frame(&leader_buy(n)).to_string())
            .await
            .unwrap();
        let (got, first, last, placed) = rrx.recv().await.unwrap();
        let sent = srx.recv().await.unwrap();
        assert_eq!(placed, followers, "every follower's order");
        // The first 20 frames warm the caches up.
        if n >= 20 {
            fig.feed.push(got - sent);
            fig.first.push(first.unwrap() - sent);
            fig.last.push(last - sent);
            fig.orders += placed;
        }
    }
    fig
}

/// CPU time of this thread, from `/proc/thread-self/stat` (10 ms ticks):
/// the machine is shared, so wall time alone counts other processes' turns.
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

/// Part 0: the engine alone, one thread: the decision path's CPU cost per
/// leader trade (wall and CPU time), without the socket.
fn engine_alone(followers: usize, frames: u32) -> (Duration, Duration) {
    let mut engine = engine_with(followers);
    let events: Vec<TradeEvent> = (0..frames).map(|n| leader_buy(2_000_000 + n)).collect();
    let (mut wall, mut cpu) = (Duration::ZERO, Duration::ZERO);
    for ev in &events {
        let (w0, c0) = (Instant::now(), cpu_time());
        let out = engine.on_trade(ev);
        let orders: Vec<_> = out
            .decisions
            .into_iter()
            .filter_map(|d| match d.outcome {
                alfabot::engine::CopyOutcome::Place(o) => Some(o),
                alfabot::engine::CopyOutcome::Skip(_) => None,
            })
            .collect();
        wall += w0.elapsed();
        cpu += cpu_time() - c0;
        assert_eq!(orders.len(), followers);
        for o in orders {
            engine.on_execution(
                o.get(),
                &alfabot::domain::Execution::Rejected {
                    reason: alfabot::domain::SkipReason::Interrupted,
                    at_ms: 0,
                },
            );
        }
    }
    (wall / frames, cpu / frames)
}

/// The paper executor, noting when each order is handed to it.
struct Stamped {
    inner: alfabot::exec::paper::PaperExecutor,
    handed: std::sync::Mutex<Vec<Instant>>,
}

#[async_trait::async_trait]
impl alfabot::exec::Executor for Stamped {
    fn ready_at(&self, order: &alfabot::domain::Order) -> Option<i64> {
        self.handed.lock().unwrap().push(Instant::now());
        self.inner.ready_at(order)
    }

    async fn execute(
        &self,
        order: &alfabot::engine::RiskApproved<alfabot::domain::Order>,
        market: &alfabot::exec::Market,
    ) -> anyhow::Result<alfabot::domain::Execution> {
        self.inner.execute(order, market).await
    }

    async fn reconcile(
        &self,
        record: &alfabot::domain::ports::OrderRecord,
        market: &alfabot::exec::Market,
    ) -> anyhow::Result<Option<alfabot::domain::Execution>> {
        self.inner.reconcile(record, market).await
    }
}

/// Part 2: the application core with a SQLite store: each batch of orders
/// has its decisions logged and keys stored before it is handed over;
/// alerts are queued after the orders.
async fn core_path(followers: usize, frames: u32) -> Figures {
    use alfabot::exec::paper::PaperExecutor;
    use alfabot::service::{Core, CoreParts, Executors, NoSubscriptions};
    let paper = Arc::new(Stamped {
        inner: PaperExecutor::new(Fees::default()),
        handed: std::sync::Mutex::new(Vec::new()),
    });
    let dir = tempfile::tempdir().unwrap();
    let db = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("bench.db").display()
    );
    let store = alfabot::store::connect(&db).await.unwrap();
    let core = Arc::new(Core::new(CoreParts {
        engine: Engine::new(EngineConfig::default()),
        store: Arc::new(store),
        sessions: alfabot::session::connect(None).await.unwrap(),
        feed: Arc::new(NoSubscriptions),
        clock: Arc::new(SystemClock),
        executors: Executors {
            paper: paper.clone(),
            live: None,
        },
        defaults: settings(),
        wall_clock: false,
        vault: None,
        chain: None,
    }));
    for i in 0..followers {
        let user = UserRef::new(Platform::Telegram, i64::try_from(i).unwrap() + 1);
        let rec = core.user(user, Some("en")).await.unwrap();
        core.follow(&rec, leader()).await.unwrap();
    }
    let mut fig = Figures {
        feed: Vec::new(),
        first: Vec::new(),
        last: Vec::new(),
        orders: 0,
    };
    for n in 0..frames {
        let frame = trade_frame(&leader_buy(1_000_000 + n)).to_string();
        let sent = Instant::now();
        let ev = match alfabot::feed::frame::parse_frame(&frame, 0).unwrap() {
            alfabot::feed::frame::Frame::Trade(ev) => ev,
            other => panic!("{other:?}"),
        };
        paper.handed.lock().unwrap().clear();
        let before = core.due_len().await;
        core.ingest(&ev).await.unwrap();
        let handed = core.due_len().await - before;
        assert_eq!(handed, followers, "every order reached the executor queue");
        let stamps = std::mem::take(&mut *paper.handed.lock().unwrap());
        assert_eq!(stamps.len(), followers);
        fig.first.push(stamps[0] - sent);
        fig.last.push(stamps[stamps.len() - 1] - sent);
        fig.orders += handed;
        // Not timed: fill (and forget) them.
        core.tick().await.unwrap();
    }
    fig
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let followers = scaled(10_000);
    println!(
        "alfabot copy pipeline benchmark (scale {}, {} CPUs visible)\n",
        scale(),
        std::thread::available_parallelism().map_or(0, std::num::NonZero::get)
    );
    let mut rows = Vec::new();
    println!("## the engine alone: one leader trade → {followers} approved orders");
    let (wall, cpu) = engine_alone(followers, 200);
    println!(
        "  mean per trade: wall {} · CPU {} ({} ns of CPU per follower)",
        us(wall),
        us(cpu),
        cpu.as_nanos() / followers as u128
    );
    rows.push((
        "engine alone, one trade → every follower's order (mean)".to_owned(),
        format!("wall {} · CPU {}", us(wall), us(cpu)),
        String::new(),
    ));
    println!(
        "\n## frame → orders handed to the executor, {followers} followers of one leader, loopback websocket"
    );
    let mut a = engine_path(followers, 200).await;
    a.report("feed + engine", &mut rows, "p99 <= 1 ms");
    // `ALFABOT_BENCH_PART=1` stops here (for profiling the hot path).
    if std::env::var("ALFABOT_BENCH_PART").as_deref() != Ok("1") {
        println!("\n## the same through the core with SQLite (keys stored before handing over)");
        let mut b = core_path(followers, 20).await;
        b.report("core + SQLite", &mut rows, "");
    }
    println!("\n| measurement | result | target |\n|---|---|---|");
    for (m, r, t) in rows {
        println!("| {m} | {r} | {t} |");
    }
}
