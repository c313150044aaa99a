//! Replay of a recorded file, at any speed.
//!
//! Two line shapes are accepted, mixed freely:
//!
//! - on-chain rows (DESIGN §2): `{"signature","slot","timestamp","mint",
//!   "user","is_buy","sol_lamports","token_raw"}` (extra fields ignored,
//!   `timestamp` in unix seconds). They carry no reserves, so the reserves
//!   are rebuilt per mint from the curve math ([`ReserveRebuilder`]);
//! - recorded PumpPortal frames (trade or create frames, optionally with a
//!   `timestamp` in unix seconds or milliseconds and a `slot`). Acks are
//!   skipped.
//!
//! Rows and frames repeated (a reconnect, a file concatenated twice) are
//! dropped by (signature, side) before they reach the reserve rebuilder.
//!
//! A bad line is logged with its number and skipped. Event time comes from
//! the file, so the engine's windows mean the same at any speed.

use std::collections::HashMap;
use std::io::BufRead as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context as _;
use serde::Deserialize;
use serde_json::Value;
use tokio::io::AsyncBufReadExt as _;
use tokio::sync::{mpsc, watch};

use super::frame::{Frame, parse_value};
use super::{Health, Pacer, Speed, deliver, shutdown_requested, truncate};
use crate::domain::{Lamports, Mint, Side, Signature, TokenAmount, TradeEvent, WalletAddress};
use crate::engine::curve::{Curve, INITIAL_VIRTUAL_SOL};
use crate::engine::recent::RecentSet;

/// A solved first trade within this fraction of 30 SOL started a fresh curve.
const FRESH_TOLERANCE: f64 = 1e-4;
/// Tracked reserves further than this from a trade's own solution are stale
/// (dropped or reordered logs): re-anchor.
const REANCHOR_TOLERANCE: f64 = 0.01;
/// Trades smaller than this are too coarse (integer rounding) to anchor on.
const MIN_ANCHOR_LAMPORTS: u64 = 100_000;
const MIN_ANCHOR_TOKENS: u64 = 1_000_000;

/// What the rebuilder concluded about one trade.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rebuilt {
    /// Reserves after the trade.
    pub after: Curve,
    /// The first trade seen of its mint, a buy on a fresh curve.
    pub created: bool,
    /// The tracked reserves disagreed with the trade and were replaced.
    pub reanchored: bool,
}

/// Tracks a curve per mint to give reserve-less trades their reserves.
///
/// The first trade of a mint is solved from itself (same `k`); later trades
/// are applied to the tracked curve, unless the tracked reserves disagree by
/// more than 1% with what the trade implies, in which case the trade's own
/// solution wins.
#[derive(Debug, Default, Clone)]
pub struct ReserveRebuilder {
    curves: HashMap<Mint, Curve>,
    reanchors: u64,
}

impl ReserveRebuilder {
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Rebuilds the reserves around one trade (`net_sol` net of fees).
    pub fn rebuild(&mut self, mint: Mint, is_buy: bool, net_sol: u64, tokens: u64) -> Rebuilt {
        let implied = Curve::solve_before(is_buy, net_sol, tokens);
        let mut created = false;
        let mut reanchored = false;
        let before = match (self.curves.get(&mint), implied) {
            (None, Some(solved)) => {
                if relative_diff(solved.virtual_sol, INITIAL_VIRTUAL_SOL) <= FRESH_TOLERANCE {
                    created = is_buy;
                    Curve::fresh()
                } else {
                    solved
                }
            }
            (None, None) => {
                tracing::debug!(%mint, "first trade of a mint cannot be solved; assuming a fresh curve");
                Curve::fresh()
            }
            (Some(tracked), Some(solved))
                if net_sol >= MIN_ANCHOR_LAMPORTS
                    && tokens >= MIN_ANCHOR_TOKENS
                    && relative_diff(tracked.virtual_sol, solved.virtual_sol)
                        > REANCHOR_TOLERANCE =>
            {
                reanchored = true;
                self.reanchors += 1;
                tracing::debug!(%mint, ?tracked, ?solved, "tracked reserves disagree with the trade; re-anchoring");
                solved
            }
            (Some(tracked), _) => *tracked,
        };
        let mut after = before;
        after.apply(is_buy, net_sol, tokens);
        self.curves.insert(mint, after);
        Rebuilt {
            after,
            created,
            reanchored,
        }
    }

    /// Records reserves a source reported itself (a PumpPortal frame).
    pub fn observe(&mut self, mint: Mint, after: Curve) {
        self.curves.insert(mint, after);
    }

    /// Reserves currently tracked for `mint`.
    #[must_use]
    pub fn curve(&self, mint: &Mint) -> Option<Curve> {
        self.curves.get(mint).copied()
    }

    /// How many times tracked reserves were replaced.
    #[must_use]
    pub const fn reanchors(&self) -> u64 {
        self.reanchors
    }
}

#[allow(clippy::cast_precision_loss, reason = "a tolerance check")]
fn relative_diff(a: u64, b: u64) -> f64 {
    if b == 0 {
        return f64::INFINITY;
    }
    a.abs_diff(b) as f64 / b as f64
}

/// One on-chain row (DESIGN §2).
#[derive(Debug, Deserialize)]
struct Row {
    signature: String,
    slot: Option<u64>,
    timestamp: f64,
    mint: String,
    user: String,
    is_buy: bool,
    sol_lamports: u64,
    token_raw: u64,
}

/// Turns lines into events, keeping the per-mint curves between lines.
#[derive(Debug)]
pub struct ReplayDecoder {
    rebuilder: ReserveRebuilder,
    seen: RecentSet<(Signature, Side)>,
    last_ms: i64,
}

impl Default for ReplayDecoder {
    fn default() -> Self {
        Self::new()
    }
}

impl ReplayDecoder {
    #[must_use]
    pub fn new() -> Self {
        Self {
            rebuilder: ReserveRebuilder::new(),
            seen: RecentSet::new(super::pumpportal::DEDUP_CAPACITY),
            last_ms: 0,
        }
    }

    /// Decodes one line: `Ok(None)` for lines that carry no trade (blank
    /// lines, acks, repeated rows and frames), `Err` with the reason for bad
    /// lines.
    pub fn decode(&mut self, line: &str) -> Result<Option<TradeEvent>, String> {
        let line = line.trim();
        if line.is_empty() {
            return Ok(None);
        }
        let value: Value = serde_json::from_str(line).map_err(|e| format!("not JSON: {e}"))?;
        let ev = if value.get("is_buy").is_some() {
            match self.row(value)? {
                Some(ev) => ev,
                None => return Ok(None),
            }
        } else if value.get("txType").is_some() || value.get("message").is_some() {
            // Frames without a timestamp keep the previous event time.
            match parse_value(&value, self.last_ms).map_err(|e| e.to_string())? {
                Frame::Trade(ev) => {
                    if !self.seen.insert((ev.signature.clone(), ev.side)) {
                        tracing::debug!(signature = %ev.signature, "duplicate frame in replay dropped");
                        return Ok(None);
                    }
                    if ev.on_curve {
                        self.rebuilder
                            .observe(ev.mint, Curve::new(ev.virtual_sol.0, ev.virtual_tokens.0));
                    }
                    ev
                }
                Frame::Ack(_) | Frame::CreateWithoutBuy { .. } => return Ok(None),
            }
        } else {
            return Err("neither an on-chain trade row nor a PumpPortal frame".to_owned());
        };
        self.last_ms = ev.timestamp_ms;
        Ok(Some(ev))
    }

    /// A row; `None` for a row seen before (its trade must not move the
    /// rebuilt curve twice).
    fn row(&mut self, value: Value) -> Result<Option<TradeEvent>, String> {
        let row: Row = serde_json::from_value(value).map_err(|e| format!("bad trade row: {e}"))?;
        let signature = Signature::parse(&row.signature).map_err(|e| format!("signature: {e}"))?;
        let mint = Mint::parse(&row.mint).map_err(|e| format!("mint: {e}"))?;
        let trader = WalletAddress::parse(&row.user).map_err(|e| format!("user: {e}"))?;
        let timestamp_ms = super::frame::unix_ms(row.timestamp)
            .ok_or_else(|| format!("timestamp {} is not a unix time", row.timestamp))?;
        let side = if row.is_buy { Side::Buy } else { Side::Sell };
        if !self.seen.insert((signature.clone(), side)) {
            tracing::debug!(%signature, "duplicate row in replay dropped");
            return Ok(None);
        }
        let r = self
            .rebuilder
            .rebuild(mint, row.is_buy, row.sol_lamports, row.token_raw);
        Ok(Some(TradeEvent {
            signature,
            mint,
            trader,
            side,
            sol: Lamports(row.sol_lamports),
            tokens: TokenAmount(row.token_raw),
            timestamp_ms,
            slot: row.slot,
            virtual_sol: Lamports(r.after.virtual_sol),
            virtual_tokens: TokenAmount(r.after.virtual_tokens),
            trader_balance_after: None,
            created: r.created,
            on_curve: true,
        }))
    }

    /// The per-mint reserve tracker.
    #[must_use]
    pub const fn rebuilder(&self) -> &ReserveRebuilder {
        &self.rebuilder
    }
}

/// Reads a whole replay file (for the CLI, backtests and tests). Bad lines
/// are logged and skipped; I/O errors fail.
pub fn read_replay(path: impl AsRef<Path>) -> anyhow::Result<Vec<TradeEvent>> {
    let path = path.as_ref();
    let file = std::fs::File::open(path)
        .with_context(|| format!("cannot open the replay file {}", path.display()))?;
    let mut decoder = ReplayDecoder::new();
    let mut events = Vec::new();
    let mut skipped = 0_u64;
    for (i, line) in std::io::BufReader::new(file).lines().enumerate() {
        let line = line.with_context(|| format!("reading {} line {}", path.display(), i + 1))?;
        match decoder.decode(&line) {
            Ok(Some(ev)) => events.push(ev),
            Ok(None) => {}
            Err(reason) => {
                skipped += 1;
                tracing::warn!(file = %path.display(), line = i + 1, reason, text = truncate(&line, 200), "skipped a replay line");
            }
        }
    }
    tracing::debug!(file = %path.display(), events = events.len(), skipped, "replay file read");
    Ok(events)
}

pub(crate) async fn run(
    file: std::fs::File,
    path: PathBuf,
    speed: Speed,
    tx: mpsc::Sender<TradeEvent>,
    mut shutdown: watch::Receiver<bool>,
    health: Arc<Health>,
) -> anyhow::Result<()> {
    let mut lines = tokio::io::BufReader::new(tokio::fs::File::from_std(file)).lines();
    let mut decoder = ReplayDecoder::new();
    let mut pacer = Pacer::new(speed);
    let (mut line_no, mut sent, mut skipped) = (0_u64, 0_u64, 0_u64);
    tracing::info!(file = %path.display(), speed = speed.factor(), "replay started");
    loop {
        let line = tokio::select! {
            () = shutdown_requested(&mut shutdown) => break,
            line = lines.next_line() => line
                .with_context(|| format!("reading {} line {}", path.display(), line_no + 1))?,
        };
        let Some(line) = line else {
            break;
        };
        line_no += 1;
        let ev = match decoder.decode(&line) {
            Ok(Some(ev)) => ev,
            Ok(None) => continue,
            Err(reason) => {
                skipped += 1;
                tracing::warn!(file = %path.display(), line = line_no, reason, text = truncate(&line, 200), "skipped a replay line");
                continue;
            }
        };
        if !pacer.wait(ev.timestamp_ms, &mut shutdown).await {
            break;
        }
        health.frame();
        health.event();
        if !deliver(&tx, ev, &mut shutdown).await {
            break;
        }
        sent += 1;
    }
    tracing::info!(file = %path.display(), events = sent, skipped, lines = line_no, "replay finished");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) const DATA: &str = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../shared/data/pumpfun_onchain_swaps_2025-10-20.jsonl"
    );

    #[test]
    fn rebuilt_reserves_chain_across_the_real_file() {
        let events = read_replay(DATA).unwrap();
        assert_eq!(events.len(), 1_292, "every real row replays");
        // Reserves after trade n should be the reserves before trade n+1 of
        // the same mint, which trade n+1 implies on its own.
        let mut last: HashMap<Mint, Curve> = HashMap::new();
        let (mut pairs, mut close) = (0, 0);
        for ev in &events {
            let is_buy = ev.side == Side::Buy;
            if let (Some(prev), Some(solved)) = (
                last.get(&ev.mint),
                Curve::solve_before(is_buy, ev.sol.0, ev.tokens.0),
            ) && ev.sol.0 >= MIN_ANCHOR_LAMPORTS
            {
                pairs += 1;
                if relative_diff(prev.virtual_sol, solved.virtual_sol) < 1e-3 {
                    close += 1;
                }
            }
            last.insert(ev.mint, Curve::new(ev.virtual_sol.0, ev.virtual_tokens.0));
        }
        assert!(pairs > 900, "{pairs}");
        assert!(
            close * 100 >= pairs * 99,
            "{close} of {pairs} consecutive pairs agree"
        );
        // Some tokens were born inside the window.
        let created = events.iter().filter(|e| e.created).count();
        assert!((10..=40).contains(&created), "{created}");
        assert!(events.iter().all(|e| e.on_curve && e.virtual_sol.0 > 0));
        assert_eq!(events[0].timestamp_ms, 1_760_978_515_000);
    }

    #[test]
    fn first_trade_on_a_fresh_curve_is_a_creation() {
        let fees = crate::engine::curve::Fees::default();
        let mint = Mint::from_bytes([9; 32]);
        let mut r = ReserveRebuilder::new();
        let q = Curve::fresh().quote_buy(Lamports(1_500_000_000), fees);
        let first = r.rebuild(mint, true, q.sol.0 - q.fee.0, q.tokens.0);
        assert!(first.created && !first.reanchored);
        let mut expect = Curve::fresh();
        expect.apply(true, q.sol.0 - q.fee.0, q.tokens.0);
        assert_eq!(first.after, expect);

        // A later trade consistent with the tracked curve is applied to it.
        let t = 1_000_000_000_000;
        let sol = expect.gross_sol_for_tokens(t);
        let second = r.rebuild(mint, false, sol, t);
        expect.apply(false, sol, t);
        assert_eq!(second.after, expect);
        assert!(!second.created && !second.reanchored);
    }

    #[test]
    fn reanchors_after_missing_trades() {
        let mint = Mint::from_bytes([3; 32]);
        let mut r = ReserveRebuilder::new();
        r.observe(mint, Curve::fresh());
        // A trade far up the curve (as if many buys were never seen).
        let far = Curve::new(
            60_000_000_000,
            Curve::standard_k().div_ceil(60_000_000_000) as u64,
        );
        let tokens = far.tokens_for_net_sol(500_000_000);
        let got = r.rebuild(mint, true, 500_000_000, tokens);
        assert!(got.reanchored);
        assert!(
            relative_diff(got.after.virtual_sol, 60_500_000_000) < 1e-6,
            "{got:?}"
        );
        assert_eq!(r.reanchors(), 1);
    }

    #[test]
    fn decodes_rows_frames_and_reports_bad_lines() {
        let mut d = ReplayDecoder::new();
        let ev = Signature::from_bytes(&[1; 64]);
        let row = format!(
            r#"{{"id":1,"signature":"{ev}","slot":5,"timestamp":1760978515,"mint":"{m}","user":"{u}","is_buy":true,"sol_lamports":1000000000,"token_raw":34612903225806}}"#,
            m = Mint::from_bytes([4; 32]),
            u = WalletAddress::from_bytes([5; 32]),
        );
        let got = d.decode(&row).unwrap().unwrap();
        assert!(got.created);
        assert_eq!(got.slot, Some(5));
        assert_eq!(got.virtual_sol, Lamports(31_000_000_000));

        // The same trade as a recorded frame; then again (dropped).
        let mut frame = super::super::frame::recorded_frame(&got);
        frame["signature"] = Value::from(Signature::from_bytes(&[2; 64]).to_string());
        let text = frame.to_string();
        assert!(d.decode(&text).unwrap().is_some());
        assert_eq!(d.decode(&text), Ok(None));
        assert_eq!(
            d.decode(r#"{"message":"Successfully subscribed"}"#),
            Ok(None)
        );
        assert_eq!(d.decode("   "), Ok(None));

        assert!(d.decode("{oops").unwrap_err().contains("not JSON"));
        assert!(d.decode(r#"{"hello":1}"#).unwrap_err().contains("neither"));
        assert!(
            d.decode(&row.replace("1000000000", "-1"))
                .unwrap_err()
                .contains("bad trade row")
        );
        assert!(
            d.decode(&row.replace(&ev.to_string(), "xyz"))
                .unwrap_err()
                .contains("signature")
        );
    }

    #[tokio::test(start_paused = true)]
    async fn paced_replay_follows_event_time() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.jsonl");
        let lines: Vec<String> = read_replay(DATA)
            .unwrap()
            .iter()
            .take(40)
            .map(|e| super::super::frame::recorded_frame(e).to_string())
            .chain(["garbage".to_owned()])
            .collect();
        std::fs::write(&path, lines.join("\n")).unwrap();
        let (tx, mut rx) = mpsc::channel(100);
        let (_stop, shutdown) = watch::channel(false);
        let start = tokio::time::Instant::now();
        let file = std::fs::File::open(&path).unwrap();
        let health = Arc::new(Health::default());
        let task = tokio::spawn(run(
            file,
            path,
            Speed::new(10.0).unwrap(),
            tx,
            shutdown,
            Arc::clone(&health),
        ));
        let mut got = Vec::new();
        while let Some(ev) = rx.recv().await {
            got.push((ev, start.elapsed()));
        }
        task.await.unwrap().unwrap();
        assert_eq!(got.len(), 40);
        let span_ms = got[39].0.timestamp_ms - got[0].0.timestamp_ms;
        let wall = got[39].1 - got[0].1;
        assert_eq!(wall.as_millis(), u128::try_from(span_ms / 10).unwrap());
        assert_eq!(health.events.load(std::sync::atomic::Ordering::Relaxed), 40);
    }
}
