//! Trade feeds: the sources of [`TradeEvent`]s.
//!
//! Three sources behind one spawn function, chosen by [`FeedSpec`]:
//!
//! - [`pumpportal`]: the live PumpPortal websocket (new tokens plus the
//!   account trades of followed wallets), with reconnects and dedup;
//! - [`replay`]: a recorded file (on-chain JSONL or PumpPortal frames),
//!   reserves rebuilt from the curve math where the file lacks them;
//! - [`sim`]: a deterministic, seeded simulator of pump.fun launches on the
//!   real curve math, the embedded default feed.
//!
//! A running feed is a tokio task that sends events into an
//! `mpsc::Sender<TradeEvent>` and stops when the shutdown watch turns `true`
//! (or its sender is dropped). The returned [`FeedHandle`] keeps the live
//! account subscriptions in step with the followed wallets and exposes the
//! feed's health for `/healthz`.
//!
//! This module is an adapter: it may use tokio, tokio-tungstenite and the
//! engine's pure curve math, and the engine must never import it.

pub mod frame;
pub mod pumpportal;
pub mod replay;
pub mod sim;

use std::fmt;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

use crate::domain::ports::{Clock, SystemClock};
use crate::domain::{TradeEvent, WalletAddress};

pub use pumpportal::{PumpPortalSettings, PumpPortalTiming};
pub use replay::read_replay;
pub use sim::Simulator;

/// Default simulator seed (`sim` without `:SEED`).
pub const DEFAULT_SIM_SEED: u64 = 42;

/// A feed is healthy when it delivered a frame this recently.
pub const HEALTHY_WITHIN: Duration = Duration::from_secs(30);

/// Which feed to run (`ALFABOT_FEED`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FeedSpec {
    PumpPortal,
    Replay(PathBuf),
    Sim { seed: u64 },
}

/// Why an `ALFABOT_FEED` value was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FeedSpecError {
    #[error("the feed is empty; use `pumpportal`, `replay:PATH`, `sim` or `sim:SEED`")]
    Empty,
    #[error("`replay:` needs a file path, as in `replay:trades.jsonl`")]
    MissingPath,
    #[error("the simulator seed {0:?} is not a whole number (0 to 18446744073709551615)")]
    Seed(String),
    #[error("unknown feed {0:?}; use `pumpportal`, `replay:PATH`, `sim` or `sim:SEED`")]
    Unknown(String),
}

impl FeedSpec {
    /// Parses `pumpportal`, `replay:PATH`, `sim` or `sim:SEED`.
    pub fn parse(input: &str) -> Result<Self, FeedSpecError> {
        let s = input.trim();
        if s.is_empty() {
            return Err(FeedSpecError::Empty);
        }
        let (kind, arg) = match s.split_once(':') {
            Some((k, a)) => (k, Some(a)),
            None => (s, None),
        };
        match (kind.to_ascii_lowercase().as_str(), arg) {
            ("pumpportal", None) => Ok(Self::PumpPortal),
            ("replay", Some(path)) if !path.trim().is_empty() => {
                Ok(Self::Replay(PathBuf::from(path.trim())))
            }
            ("replay", _) => Err(FeedSpecError::MissingPath),
            ("sim", None) => Ok(Self::Sim {
                seed: DEFAULT_SIM_SEED,
            }),
            ("sim", Some(seed)) => seed
                .trim()
                .parse()
                .map(|seed| Self::Sim { seed })
                .map_err(|_| FeedSpecError::Seed(seed.to_owned())),
            _ => Err(FeedSpecError::Unknown(s.to_owned())),
        }
    }

    /// Short name for logs and `/healthz`.
    #[must_use]
    pub const fn kind(&self) -> &'static str {
        match self {
            Self::PumpPortal => "pumpportal",
            Self::Replay(_) => "replay",
            Self::Sim { .. } => "sim",
        }
    }
}

impl std::str::FromStr for FeedSpec {
    type Err = FeedSpecError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl fmt::Display for FeedSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::PumpPortal => f.write_str("pumpportal"),
            Self::Replay(p) => write!(f, "replay:{}", p.display()),
            Self::Sim { seed } => write!(f, "sim:{seed}"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SpeedError {
    #[error(
        "the speed {0:?} is not a number; use 1 for real time, 10 for ten times faster, 0 for as fast as possible"
    )]
    NotANumber(String),
    #[error("the speed must be zero or positive, got {0}")]
    Negative(String),
}

/// Replay/simulation pace (`ALFABOT_REPLAY_SPEED`): 1 = real time, 10 = ten
/// times faster, 0 = as fast as possible.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd)]
pub struct Speed(f64);

impl Speed {
    pub const REAL_TIME: Self = Self(1.0);
    pub const UNLIMITED: Self = Self(0.0);

    pub fn new(factor: f64) -> Result<Self, SpeedError> {
        if !factor.is_finite() {
            return Err(SpeedError::NotANumber(factor.to_string()));
        }
        if factor < 0.0 {
            return Err(SpeedError::Negative(factor.to_string()));
        }
        Ok(Self(factor))
    }

    pub fn parse(input: &str) -> Result<Self, SpeedError> {
        let s = input.trim();
        let factor: f64 = s
            .parse()
            .map_err(|_| SpeedError::NotANumber(s.to_owned()))?;
        Self::new(factor)
    }

    #[must_use]
    pub const fn factor(self) -> f64 {
        self.0
    }

    #[must_use]
    pub fn is_unlimited(self) -> bool {
        self.0 == 0.0
    }

    /// Wall time to wait for `event_ms` of event time at this speed; `None`
    /// when unlimited.
    #[must_use]
    pub fn wall_delay(self, event_ms: i64) -> Option<Duration> {
        if self.is_unlimited() {
            return None;
        }
        #[allow(
            clippy::cast_precision_loss,
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            reason = "pacing only; non-negative and saturating"
        )]
        let nanos = (event_ms.max(0) as f64 * 1e6 / self.0).round() as u64;
        Some(Duration::from_nanos(nanos))
    }
}

impl Default for Speed {
    fn default() -> Self {
        Self::REAL_TIME
    }
}

/// Everything a feed needs besides its spec; built by `app.rs` from the
/// configuration.
#[derive(Debug, Clone, Default)]
pub struct FeedSettings {
    pub pumpportal: PumpPortalSettings,
    /// Pace of replay and simulation (ignored live).
    pub speed: Speed,
}

/// Changes to the followed-wallet set, for the live feed's subscriptions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Command {
    Follow(WalletAddress),
    Unfollow(WalletAddress),
    SetFollowed(Vec<WalletAddress>),
}

/// Shared liveness counters, written by the feed task.
#[derive(Debug, Default)]
pub(crate) struct Health {
    last_frame_ms: AtomicI64,
    events: AtomicU64,
    connected: AtomicBool,
    finished: AtomicBool,
}

impl Health {
    pub(crate) fn frame(&self) {
        self.last_frame_ms
            .store(SystemClock.now_ms(), Ordering::Relaxed);
    }
    pub(crate) fn event(&self) {
        self.events.fetch_add(1, Ordering::Relaxed);
    }
    pub(crate) fn set_connected(&self, on: bool) {
        self.connected.store(on, Ordering::Relaxed);
    }
}

/// A handle on a running feed. Cheap to clone; every clone controls the same
/// feed.
#[derive(Clone)]
pub struct FeedHandle {
    kind: &'static str,
    commands: Option<mpsc::UnboundedSender<Command>>,
    health: Arc<Health>,
    task: Arc<Mutex<Option<JoinHandle<anyhow::Result<()>>>>>,
}

impl fmt::Debug for FeedHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FeedHandle")
            .field("kind", &self.kind)
            .field("last_frame_ms", &self.last_frame_ms())
            .field("events", &self.events())
            .finish_non_exhaustive()
    }
}

/// The core keeps the feed's subscriptions in step with the followed
/// wallets through this handle.
impl crate::service::FeedControl for FeedHandle {
    fn subscribe(&self, wallet: WalletAddress) {
        self.follow(wallet);
    }
    fn unsubscribe(&self, wallet: WalletAddress) {
        self.unfollow(wallet);
    }
}

impl FeedHandle {
    /// `pumpportal`, `replay` or `sim`.
    #[must_use]
    pub const fn kind(&self) -> &'static str {
        self.kind
    }

    /// Subscribe to a wallet's trades (live feed; no-op for replay and sim,
    /// which carry every wallet). Following a wallet twice sends nothing.
    pub fn follow(&self, wallet: WalletAddress) {
        self.command(Command::Follow(wallet));
    }

    /// Stop the subscription to a wallet's trades. The app calls this when the
    /// last follower leaves; unfollowing a wallet that is not followed sends
    /// nothing.
    pub fn unfollow(&self, wallet: WalletAddress) {
        self.command(Command::Unfollow(wallet));
    }

    /// Replace the whole followed set (at start, or to resynchronize): only
    /// the difference is sent to the service.
    pub fn set_followed(&self, wallets: impl IntoIterator<Item = WalletAddress>) {
        self.command(Command::SetFollowed(wallets.into_iter().collect()));
    }

    fn command(&self, cmd: Command) {
        if let Some(tx) = &self.commands
            && tx.send(cmd).is_err()
        {
            tracing::debug!(
                feed = self.kind,
                "feed task has ended; subscription change dropped"
            );
        }
    }

    /// Unix milliseconds (wall clock) of the last frame received (live) or
    /// event emitted (replay, sim); `None` before the first.
    #[must_use]
    pub fn last_frame_ms(&self) -> Option<i64> {
        match self.health.last_frame_ms.load(Ordering::Relaxed) {
            0 => None,
            ms => Some(ms),
        }
    }

    /// Events sent to the engine so far.
    #[must_use]
    pub fn events(&self) -> u64 {
        self.health.events.load(Ordering::Relaxed)
    }

    /// The live socket is open (replay and sim: always `false`).
    #[must_use]
    pub fn is_connected(&self) -> bool {
        self.health.connected.load(Ordering::Relaxed)
    }

    /// The feed task has ended (a replay reached the end of its file, or
    /// shutdown).
    #[must_use]
    pub fn is_finished(&self) -> bool {
        self.health.finished.load(Ordering::Relaxed)
    }

    /// "A frame in the last 30 s" at wall time `now_ms`.
    #[must_use]
    pub fn is_healthy(&self, now_ms: i64) -> bool {
        self.last_frame_ms().is_some_and(|last| {
            now_ms.saturating_sub(last) <= i64::try_from(HEALTHY_WITHIN.as_millis()).unwrap_or(0)
        })
    }

    /// Waits for the feed task to end and returns its result. Only the first
    /// caller gets the task's result; later calls return `Ok(())`.
    pub async fn join(&self) -> anyhow::Result<()> {
        let task = self.task.lock().ok().and_then(|mut t| t.take());
        match task {
            Some(task) => task
                .await
                .map_err(|e| anyhow::anyhow!("feed task failed: {e}"))?,
            None => Ok(()),
        }
    }
}

/// Starts the feed described by `spec` as a tokio task (call inside a
/// runtime). Events go to `tx`; the task stops when `shutdown` turns `true`,
/// when its sender is dropped, or when `tx`'s receiver is dropped. A replay
/// also stops at the end of its file.
///
/// Fails at once for a replay file that cannot be opened.
pub fn spawn(
    spec: FeedSpec,
    settings: FeedSettings,
    tx: mpsc::Sender<TradeEvent>,
    shutdown: watch::Receiver<bool>,
) -> anyhow::Result<FeedHandle> {
    let health = Arc::new(Health::default());
    let kind = spec.kind();
    let (commands, task) = match spec {
        FeedSpec::PumpPortal => {
            let (ctx, crx) = mpsc::unbounded_channel();
            let h = Arc::clone(&health);
            let task = tokio::spawn(pumpportal::run(settings.pumpportal, tx, crx, shutdown, h));
            (Some(ctx), task)
        }
        FeedSpec::Replay(path) => {
            let file = std::fs::File::open(&path).map_err(|e| {
                anyhow::anyhow!("cannot open the replay file {}: {e}", path.display())
            })?;
            let h = Arc::clone(&health);
            let task = tokio::spawn(replay::run(file, path, settings.speed, tx, shutdown, h));
            (None, task)
        }
        FeedSpec::Sim { seed } => {
            let h = Arc::clone(&health);
            let sim = Simulator::with_start(seed, SystemClock.now_ms());
            let task = tokio::spawn(sim::run(sim, settings.speed, tx, shutdown, h));
            (None, task)
        }
    };
    let finished = Arc::clone(&health);
    let task = tokio::spawn(async move {
        let result = task
            .await
            .map_err(|e| anyhow::anyhow!("feed task panicked: {e}"))
            .and_then(|r| r);
        finished.finished.store(true, Ordering::Relaxed);
        finished.set_connected(false);
        if let Err(e) = &result {
            tracing::error!(error = format!("{e:#}"), "feed stopped with an error");
        }
        result
    });
    Ok(FeedHandle {
        kind,
        commands,
        health,
        task: Arc::new(Mutex::new(Some(task))),
    })
}

/// Paces events by event time: event `t` is released `(t - t0) / speed`
/// after the first one, measured from one origin so sleeps never drift.
#[derive(Debug)]
pub(crate) struct Pacer {
    speed: Speed,
    origin: Option<(i64, tokio::time::Instant)>,
}

impl Pacer {
    pub(crate) const fn new(speed: Speed) -> Self {
        Self {
            speed,
            origin: None,
        }
    }

    /// Waits until event time `event_ms` is due; `false` on shutdown.
    pub(crate) async fn wait(
        &mut self,
        event_ms: i64,
        shutdown: &mut watch::Receiver<bool>,
    ) -> bool {
        let (t0, start) = *self
            .origin
            .get_or_insert_with(|| (event_ms, tokio::time::Instant::now()));
        let Some(delay) = self.speed.wall_delay(event_ms.saturating_sub(t0)) else {
            // Unlimited: still yield so shutdown and other tasks get a turn.
            tokio::task::yield_now().await;
            return !*shutdown.borrow();
        };
        let due = start
            .checked_add(delay)
            .unwrap_or_else(|| tokio::time::Instant::now() + Duration::from_secs(86_400 * 365));
        tokio::select! {
            () = shutdown_requested(shutdown) => false,
            () = tokio::time::sleep_until(due) => true,
        }
    }
}

/// Sends one event to the engine, giving up on shutdown so a stalled
/// receiver cannot hold the feed open; `false` when the feed should stop.
pub(crate) async fn deliver(
    tx: &mpsc::Sender<TradeEvent>,
    ev: TradeEvent,
    shutdown: &mut watch::Receiver<bool>,
) -> bool {
    tokio::select! {
        () = shutdown_requested(shutdown) => false,
        sent = tx.send(ev) => {
            if sent.is_err() {
                tracing::info!("trade receiver dropped; stopping the feed");
            }
            sent.is_ok()
        }
    }
}

/// Resolves when the shutdown watch is `true` or its sender is gone.
pub(crate) async fn shutdown_requested(shutdown: &mut watch::Receiver<bool>) {
    let _ = shutdown.wait_for(|stop| *stop).await;
}

/// Cuts `s` to at most `max` characters, for logging untrusted frames.
pub(crate) fn truncate(s: &str, max: usize) -> &str {
    match s.char_indices().nth(max) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_feed_specs() {
        assert_eq!(FeedSpec::parse("pumpportal"), Ok(FeedSpec::PumpPortal));
        assert_eq!(
            FeedSpec::parse(" replay:/tmp/a b.jsonl"),
            Ok(FeedSpec::Replay(PathBuf::from("/tmp/a b.jsonl")))
        );
        assert_eq!(
            FeedSpec::parse("replay:C:\\x.jsonl"),
            Ok(FeedSpec::Replay(PathBuf::from("C:\\x.jsonl")))
        );
        assert_eq!(FeedSpec::parse("sim"), Ok(FeedSpec::Sim { seed: 42 }));
        assert_eq!(FeedSpec::parse("SIM:7"), Ok(FeedSpec::Sim { seed: 7 }));
        assert_eq!(FeedSpec::parse(""), Err(FeedSpecError::Empty));
        assert_eq!(FeedSpec::parse("replay:"), Err(FeedSpecError::MissingPath));
        assert_eq!(FeedSpec::parse("replay"), Err(FeedSpecError::MissingPath));
        assert_eq!(
            FeedSpec::parse("sim:-1"),
            Err(FeedSpecError::Seed("-1".into()))
        );
        assert!(matches!(
            FeedSpec::parse("pumpportal:x"),
            Err(FeedSpecError::Unknown(_))
        ));
        assert!(matches!(
            FeedSpec::parse("helius"),
            Err(FeedSpecError::Unknown(_))
        ));
        for s in ["pumpportal", "replay:x.jsonl", "sim:9"] {
            assert_eq!(FeedSpec::parse(s).unwrap().to_string(), s);
        }
    }

    #[test]
    fn parses_speeds() {
        assert_eq!(Speed::parse("1"), Ok(Speed::REAL_TIME));
        assert!(Speed::parse("0").unwrap().is_unlimited());
        assert_eq!(Speed::parse("2.5").unwrap().factor(), 2.5);
        assert!(matches!(Speed::parse("-1"), Err(SpeedError::Negative(_))));
        assert!(matches!(
            Speed::parse("fast"),
            Err(SpeedError::NotANumber(_))
        ));
        assert!(matches!(
            Speed::parse("inf"),
            Err(SpeedError::NotANumber(_))
        ));
        assert_eq!(
            Speed::new(10.0).unwrap().wall_delay(5_000),
            Some(Duration::from_millis(500))
        );
        assert_eq!(Speed::UNLIMITED.wall_delay(5_000), None);
    }

    #[test]
    fn truncates_on_char_boundaries() {
        assert_eq!(truncate("héllo", 2), "hé");
        assert_eq!(truncate("hi", 200), "hi");
    }
}
