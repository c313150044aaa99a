//! Wallet analytics, scoring, anti-farming flags, tiers and leaderboards.
//! PURE like the rest of the engine: event time is the clock.
//!
//! Contract (the rest of the app builds on these types; internals may change):
//! - [`Analytics::on_trade`] is called for EVERY trade the feed sees (not only
//!   followed wallets), in feed order, after dedup, and returns tier changes
//!   and discoveries as [`AnalyticsEvent`]s.
//! - Money is lamports (i64/u64), fees included: a buy costs the SOL that
//!   went into the curve grossed up by the fee, a sell returns the curve's
//!   SOL minus the fee (exact definitions in [`fifo`]).
//! - Memory is bounded: old lots and windows are pruned, idle wallets
//!   compacted.
//!
//! How it works (`docs/benchmarks.md` has the figures):
//! - The clock is the latest event time (or [`Analytics::tick`]). Rolling
//!   windows are sparse hour/day buckets (`window.rs`), the Bayesian window
//!   a ring of twelve 5-minute slots; a figure changes only when the wallet
//!   trades or an outcome is decided, or when a boundary passes.
//!   Boundaries run the periodic work, in event time: every minute, expiry
//!   of outcomes of quiet mints; every Bayesian slot, re-keying of the
//!   wallets with recent outcomes; every `cluster_every_ms`, sybil
//!   clustering; every hour, compaction of idle wallets, eviction of idle
//!   mints and a full re-rank of every board (which ages the 24 h / 7 d /
//!   30 d windows, recency and tiers). So a leaderboard is exact at the
//!   clock; call `tick` with the wall clock when the feed is quiet so
//!   windows still age.
//! - Leaderboards are top-N structures updated incrementally on each change
//!   (`board.rs`): a query walks a `BTreeSet`, it never sorts.
//! - Lots: one map keyed by (wallet slot, mint slot), four lots inline per
//!   position (`position.rs`, rules in [`fifo`]).
//! - Outcomes: per mint, a VWAP tape of the last `vwap_trades` trades and
//!   the buys still pending in price-ordered heaps: O(log n) per decided
//!   buy, expiry by time (`mint.rs`, `pending.rs`).
//! - Flags: a buy is *copied* when another wallet buys the mint within
//!   `copy_window_ms`, *moved the price* when its own impact is at least
//!   `moved_price_bps`. QuickFlip: the median first-sell hold of the last 8
//!   copied or price-moving buys is under `quick_flip_ms` (3 samples at
//!   least). SoldIntoFollowers: a pattern across buys, not an instance:
//!   of the buys (lots) the wallet sold, those first sold within
//!   `sell_into_ms` of their first copier's buy are a majority with 95%
//!   confidence (Wilson lower bound ≥ `sold_into_share`, 3 at least). Sybil: see [`AnalyticsConfig::cobuy_share`]; every
//!   member of a cluster is flagged, the one with the best performance
//!   score stays ranked (the cluster's one place), the others are hidden.
//!   Other flagged wallets are not ranked.
//! - Discovery: a wallet entering the top `discover_top` of a board that
//!   was not seen there in the previous 24 h. Sightings are kept per
//!   (wallet, board) in one small map (top wallets only), taken at each
//!   change of the wallet and at each hourly re-rank, dropped after a day,
//!   and saved with the wallet.
//! - Scores: [`score`] holds the formulas. Tiers come from the performance
//!   score (S >= 75, A >= 60, B >= 45, else C) with a 5-point hysteresis;
//!   changes between None/C and C/None are not announced.

mod board;
pub mod fifo;
pub(crate) mod hash;
mod index;
mod mint;
mod pending;
pub mod position;
pub mod score;
mod wallet;
mod window;

#[cfg(test)]
mod tests;

use std::collections::BinaryHeap;

use serde::{Deserialize, Serialize};

use crate::domain::{Mint, Side, TradeEvent, WalletAddress};
use board::{Board, Entry, f64_key, i64_key};
use hash::FxHashMap;
use index::AddrIndex;
use mint::{MintState, RECENT_BUYS};
use position::{LOT_MOVED, Lot, Position};
use score::{PerformanceInputs, next_tier, performance, posterior, recency_boost, size_factor};
use wallet::{
    F_FARMING, F_INTO, F_QUICK, F_SYBIL, NO_CLUSTER, S_COMPACT, S_DIRTY, S_IN_RECENT, S_LIVE,
    SNAP_VERSION, SnapV1, Wallet,
};
use window::{Bucket, DAY_MS, Delta, HOUR_MS, MINUTE_MS, period};

pub use crate::domain::{Metric, Tier, WalletState, Window};
/// Hold samples a position's sells record (for the quick-flip flag).
pub use wallet::Holds;

/// Why a wallet is not trusted (each shown to users with an explanation).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Flag {
    /// Median hold time after buys that were copied or moved the price is
    /// under the threshold (farming its copiers).
    QuickFlip,
    /// Sells soon after other wallets buy the same mint following its buy.
    SoldIntoFollowers,
    /// Member of a sybil cluster (co-buys the same mints with other wallets);
    /// only the best of a cluster is ranked.
    Sybil,
}

/// Scores of a wallet, each explained to users.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Scores {
    /// Posterior mean of Beta(3 + wins, 5 + losses) over the last 60 min of
    /// outcomes, times recency boost (1.0–1.3) and size factor (1.0–1.5).
    pub bayesian: f64,
    /// The posterior mean alone (no boosts).
    pub posterior: f64,
    pub window_wins: u32,
    pub window_losses: u32,
    pub recency_boost: f64,
    pub size_factor: f64,
    /// 0–100: 40% win rate, 30% 7-day ROI (capped), 15% 7-day volume
    /// (capped), 15% recency.
    pub performance: f64,
    /// Wilson lower bound (95%) of the all-time win rate.
    pub wilson_lower: f64,
    /// Realized PnL without the single best trade, lamports.
    pub pnl_excluding_best: i64,
}

/// Activity and PnL figures over one window (or all time).
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct Stats {
    pub realized_pnl: i64,
    /// Unrealized PnL of open lots at the last curve price (all time only;
    /// 0 in windows).
    pub unrealized_pnl: i64,
    /// Realized PnL / cost of the sold lots.
    pub roi: f64,
    /// Decided buy outcomes (the outcome rule), by decision time.
    pub wins: u32,
    pub losses: u32,
    pub trades: u32,
    pub buys: u32,
    pub sells: u32,
    /// Positions opened: buys of a mint with no open lot (a re-entry after
    /// selling out counts again).
    pub tokens: u32,
    /// SOL traded (buys + sells), lamports, as the curve saw it (the
    /// events' `sol`, before fees).
    pub volume: u64,
    /// Mean hold of the lot pieces sold (sell time - buy time); seconds
    /// resolution in windows.
    pub avg_hold_ms: i64,
}

impl Stats {
    /// Wins / decided outcomes, 0 when none.
    #[must_use]
    pub fn win_rate(&self) -> f64 {
        let n = self.wins + self.losses;
        if n == 0 {
            0.0
        } else {
            f64::from(self.wins) / f64::from(n)
        }
    }
}

/// What copy decisions need of a leader's scores.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LeaderScore {
    /// The Bayesian score with its boosts, as the board shows it.
    pub score: f64,
    /// The Beta posterior alone (0.375 with no decided trades).
    pub posterior: f64,
}

/// Everything `/score` shows about a wallet.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WalletCard {
    pub wallet: WalletAddress,
    pub tier: Option<Tier>,
    /// Enough decided outcomes (`min_outcomes`), no farming flag
    /// (quick flip, sold into followers) and not hidden by its sybil
    /// cluster.
    pub ranked: bool,
    pub flags: Vec<Flag>,
    pub scores: Scores,
    pub all_time: Stats,
    pub windows: [(Window, Stats); 3],
    pub first_ms: i64,
    pub last_ms: i64,
    /// Other members of its sybil cluster, if any (at most a few).
    pub cluster: Vec<WalletAddress>,
}

/// One row of a leaderboard.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LeaderRow {
    /// 1-based.
    pub rank: u32,
    pub wallet: WalletAddress,
    /// The ranked metric's value (lamports for PnL/volume, ratio for ROI and
    /// win rate, score for score).
    pub value: f64,
    pub tier: Option<Tier>,
    pub score: f64,
    pub stats: Stats,
    pub flags: Vec<Flag>,
}

/// Something users should hear about.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum AnalyticsEvent {
    /// Tier promotion or demotion; win rates (0–1) before and after.
    TierChanged {
        wallet: WalletAddress,
        from: Option<Tier>,
        to: Option<Tier>,
        win_rate_before: f64,
        win_rate_after: f64,
        at_ms: i64,
    },
    /// A wallet entered the top `discover_top` of a board and was in it at
    /// no time in the previous `discover_quiet_ms` (24 h): a newcomer,
    /// surfaced once; a wallet that stays there is not announced again,
    /// one that comes back after a day away is.
    Discovered {
        wallet: WalletAddress,
        metric: Metric,
        window: Window,
        rank: u32,
        at_ms: i64,
    },
}

/// Tunables. Defaults are the documented seed rules.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct AnalyticsConfig {
    pub fee_bps: u32,
    /// Outcome: win if VWAP(last `vwap_trades`) reaches +`win_bps` before
    /// −`loss_bps` within `outcome_horizon_ms` of the buy.
    pub win_bps: u32,
    pub loss_bps: u32,
    pub outcome_horizon_ms: i64,
    pub vwap_trades: usize,
    /// Bayesian prior Beta(alpha, beta) and its rolling window, kept in 12
    /// slots (5 minutes each by default: an outcome counts for 55 to 60
    /// minutes).
    pub prior_alpha: f64,
    pub prior_beta: f64,
    pub bayes_window_ms: i64,
    /// Minimum decided outcomes before a wallet is ranked.
    pub min_outcomes: u32,
    /// Quick-flip threshold on the median hold time (of the last 8 buys
    /// that were copied or moved the price; first sell after the buy).
    pub quick_flip_ms: i64,
    /// Sybil clustering: two wallets *co-buy* when they buy the same mint
    /// within `cobuy_window_ms`; a pair whose co-buys number at least
    /// `cobuy_min_pairs` and exceed `cobuy_share` of the buys of the less
    /// active wallet (the rule: most of its buys are co-buys) and
    /// `cobuy_share_busier` of the other's links them; clusters are the
    /// connected groups. The second bar keeps a wallet out of the cluster
    /// of a copier that copies a part of its buys only, and lets a ring
    /// member that skipped some of the ring's buys in (it co-bought nearly
    /// all of its own).
    pub cobuy_window_ms: i64,
    pub cobuy_share: f64,
    pub cobuy_share_busier: f64,
    /// A pair in which one wallet bought first in more than this share of
    /// the co-buys is a leader and its copier, not a ring (a copier buys
    /// after its leader every time; a ring's wallets in any order): the
    /// farming flags deal with copying, not the sybil flag.
    pub cobuy_max_lead: f64,
    /// Leaderboard depth maintained per (metric, window).
    pub top_n: usize,
    /// A buy is *copied* when another wallet buys the same mint within this
    /// long after it.
    pub copy_window_ms: i64,
    /// A buy *moved the price* when its own price impact is at least this.
    pub moved_price_bps: u32,
    /// A sell is *into followers* when it sells a copied lot within this
    /// long of its first copier's buy.
    pub sell_into_ms: i64,
    /// Samples a flag needs (quick-flip holds, buys sold into followers).
    pub flag_min_samples: u32,
    /// "Sold into followers" needs a pattern across buys, not an instance:
    /// the 95% Wilson lower bound of the share of the wallet's sold buys
    /// that went into followers must reach this (with 0.5: 4 of 4, 7 of
    /// 8, 12 of 16, 60% of 100). A trader that sometimes takes a quick
    /// profit on a busy token stays clear.
    pub sold_into_share: f64,
    /// Co-buys a pair needs before it can join a cluster.
    pub cobuy_min_pairs: u32,
    /// Size factor: 1.0 at or below this average buy, 1.5 at or above the
    /// cap (log-linear between).
    pub size_floor_lamports: u64,
    pub size_cap_lamports: u64,
    /// Performance score caps: 7-day ROI (1.0 = +100%) and 7-day volume.
    pub roi_cap: f64,
    pub volume_cap_lamports: u64,
    /// Performance score needed for S, A and B (C below), and the margin a
    /// score must clear to move (hysteresis).
    pub tier_thresholds: [f64; 3],
    pub tier_hysteresis: f64,
    /// Discovery: entering the first `discover_top` rows of a board after
    /// `discover_quiet_ms` out of them. Sightings in the top are kept per
    /// (wallet, board), at most `max_top_sightings` (the oldest go first;
    /// each is dropped once older than the quiet time).
    pub discover_top: usize,
    pub discover_quiet_ms: i64,
    pub max_top_sightings: usize,
    /// Lots kept per (wallet, mint), 1 to 4 (a buy beyond merges into the
    /// newest lot), and open positions tracked per wallet (buys opening
    /// more are not tracked: their sells realize nothing).
    pub lots_per_mint: usize,
    pub positions_per_wallet: usize,
    /// Pending outcomes kept per mint (the oldest is dropped beyond).
    pub max_pending_per_mint: usize,
    /// A wallet idle this long is compacted (its lots are dropped).
    pub idle_ms: i64,
    /// A wallet idle this long leaves memory (it is in the store).
    pub forget_ms: i64,
    /// A mint without trades this long is dropped.
    pub mint_idle_ms: i64,
    /// Co-buy pairs counted per buy: the nearest earlier buyers of the mint
    /// within `cobuy_window_ms` (a ring still connects through its nearest
    /// members).
    pub cobuy_partners: usize,
    /// Slots of the filter that remembers a co-buy pair seen once (4 bytes
    /// each); a pair enters the pair map on its second co-buy.
    pub cobuy_filter_slots: usize,
    /// Co-buy pairs: kept this long after their last co-buy (single co-buys
    /// only an hour, less when more than `max_pairs` exist).
    pub pair_ttl_ms: i64,
    pub max_pairs: usize,
    /// How often sybil clusters are recomputed (event time).
    pub cluster_every_ms: i64,
}

impl Default for AnalyticsConfig {
    fn default() -> Self {
        Self {
            fee_bps: 125,
            win_bps: 2_000,
            loss_bps: 800,
            outcome_horizon_ms: 15 * 60_000,
            vwap_trades: 20,
            prior_alpha: 3.0,
            prior_beta: 5.0,
            bayes_window_ms: 60 * 60_000,
            min_outcomes: 5,
            quick_flip_ms: 30_000,
            cobuy_window_ms: 5_000,
            cobuy_share: 0.7,
            cobuy_share_busier: 0.5,
            cobuy_max_lead: 0.8,
            top_n: 100,
            copy_window_ms: 5_000,
            moved_price_bps: 300,
            sell_into_ms: 120_000,
            flag_min_samples: 3,
            sold_into_share: 0.5,
            cobuy_min_pairs: 5,
            size_floor_lamports: 100_000_000,
            size_cap_lamports: 10_000_000_000,
            roi_cap: 1.0,
            volume_cap_lamports: 100_000_000_000,
            tier_thresholds: [75.0, 60.0, 45.0],
            tier_hysteresis: 5.0,
            discover_top: 10,
            discover_quiet_ms: DAY_MS,
            max_top_sightings: 100_000,
            lots_per_mint: 4,
            positions_per_wallet: 64,
            max_pending_per_mint: 512,
            idle_ms: 6 * HOUR_MS,
            forget_ms: 31 * DAY_MS,
            mint_idle_ms: 6 * HOUR_MS,
            cobuy_partners: 4,
            cobuy_filter_slots: 1 << 20,
            pair_ttl_ms: 7 * DAY_MS,
            max_pairs: 1_000_000,
            cluster_every_ms: 5 * MINUTE_MS,
        }
    }
}

impl AnalyticsConfig {
    /// Length of one slot of the Bayesian window.
    fn bayes_slot_ms(&self) -> i64 {
        (self.bayes_window_ms / wallet::BAYES_SLOTS as i64).max(1)
    }
}

/// Running counts, for reports and tests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counters {
    pub events: u64,
    /// Events with no tokens (nothing to price).
    pub skipped: u64,
    /// Sells with tokens beyond the known lots (bought before we saw the
    /// wallet, or forgotten to the memory bounds).
    pub unmatched_sells: u64,
    pub wins: u64,
    pub losses: u64,
    /// Of the losses, buys whose horizon passed undecided.
    pub expired: u64,
    /// Pending outcomes dropped to the per-mint cap (never decided).
    pub pending_dropped: u64,
    /// Buys not tracked: the wallet already had `positions_per_wallet`
    /// open positions.
    pub positions_untracked: u64,
    pub compacted: u64,
    pub forgotten_wallets: u64,
    pub evicted_mints: u64,
    /// Full re-ranks (hourly and forced) and single-board refills.
    pub rebuilds: u64,
    pub refills: u64,
    pub reclusters: u64,
}

/// Bytes held by the analytics, counted from the structures (table and
/// heap capacities plus 16 bytes per heap allocation; wallet slots in use).
/// `size_of` figures: see [`Analytics::slot_sizes`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemoryReport {
    pub wallets: usize,
    /// Wallet slots and their heap.
    pub wallet_bytes: usize,
    /// The address → slot index.
    pub index_bytes: usize,
    pub mint_bytes: usize,
    /// Open positions (lots) of active wallets.
    pub position_bytes: usize,
    pub pair_bytes: usize,
    pub board_bytes: usize,
}

impl MemoryReport {
    #[must_use]
    pub const fn total(&self) -> usize {
        self.wallet_bytes
            + self.index_bytes
            + self.mint_bytes
            + self.position_bytes
            + self.pair_bytes
            + self.board_bytes
    }
}

/// Times are kept in 0 ..= `MAX_TIME_MS` (year 10136): minute indices fit
/// in u32 and differences of times never overflow. Feeds give unix
/// milliseconds; anything outside is clamped, not trusted.
const MAX_TIME_MS: i64 = (u32::MAX as i64) * MINUTE_MS;

const fn clamp_time(t: i64) -> i64 {
    if t < 0 {
        0
    } else if t > MAX_TIME_MS {
        MAX_TIME_MS
    } else {
        t
    }
}

const BOARDS: usize = Metric::ALL.len() * Window::ALL.len();
const ALL_BOARDS: u16 = (1 << BOARDS) - 1;
/// Boards of one metric (bits of its three windows).
const fn metric_boards(m: Metric) -> u16 {
    0b111 << (board_of(m, Window::H24) as u16)
}
/// What a Bayesian window's aging changes.
const SCORE_BOARDS: u16 = metric_boards(Metric::Score);
/// What a decided outcome changes (the windows' trades, PnL and volume do
/// not move).
const OUTCOME_BOARDS: u16 = SCORE_BOARDS | metric_boards(Metric::WinRate);

const fn board_of(metric: Metric, window: Window) -> usize {
    let m = match metric {
        Metric::Score => 0,
        Metric::Pnl => 1,
        Metric::Roi => 2,
        Metric::WinRate => 3,
        Metric::Volume => 4,
    };
    let w = match window {
        Window::H24 => 0,
        Window::D7 => 1,
        Window::D30 => 2,
    };
    m * 3 + w
}

const fn metric_of(board: usize) -> Metric {
    Metric::ALL[board / 3]
}

const fn window_of(board: usize) -> Window {
    Window::ALL[board % 3]
}

/// A co-buy pair's count, the minute of its last co-buy, and how many of
/// its co-buys the wallet of the higher slot made second (a copier always
/// buys second; a ring's wallets buy in any order).
#[derive(Debug, Clone, Copy)]
struct Pair {
    count: u32,
    last_min: u32,
    hi_second: u32,
}

impl Pair {
    /// The share of co-buys in which the same wallet bought first.
    fn lead_share(&self) -> f64 {
        let lead = self
            .hi_second
            .max(self.count.saturating_sub(self.hi_second));
        f64::from(lead) / f64::from(self.count.max(1))
    }
}

/// The discovery memory's key of (wallet slot, board).
const fn top_key(wi: u32, board: usize) -> u64 {
    ((wi as u64) << 8) | board as u64
}

const fn pair_key(a: u32, b: u32) -> u64 {
    let (lo, hi) = if a < b { (a, b) } else { (b, a) };
    ((lo as u64) << 32) | hi as u64
}

/// What the boards and tiers read from a wallet at one time.
#[derive(Debug, Clone, Copy)]
struct View {
    /// [24 h, 7 d, 30 d].
    sums: [Bucket; 3],
    wins60: u32,
    losses60: u32,
    posterior: f64,
    recency: f64,
    size: f64,
}

impl View {
    fn bayesian(&self) -> f64 {
        self.posterior * self.recency * self.size
    }

    /// The order key of a board, `None` when not active in its window.
    #[inline]
    fn key(&self, board: usize) -> Option<u64> {
        let s = &self.sums[board % 3];
        if s.trades() == 0 {
            return None;
        }
        Some(match metric_of(board) {
            Metric::Score => f64_key(self.bayesian()),
            Metric::Pnl => i64_key(s.pnl),
            Metric::Roi => f64_key(s.roi()),
            Metric::WinRate => f64_key(s.win_rate()),
            Metric::Volume => s.volume,
        })
    }

    #[allow(clippy::cast_precision_loss, reason = "display of lamports")]
    fn value(&self, board: usize) -> f64 {
        let s = &self.sums[board % 3];
        match metric_of(board) {
            Metric::Score => self.bayesian(),
            Metric::Pnl => s.pnl as f64,
            Metric::Roi => s.roi(),
            Metric::WinRate => s.win_rate(),
            Metric::Volume => s.volume as f64,
        }
    }
}

fn view(cfg: &AnalyticsConfig, w: &Wallet, now: i64) -> View {
    let (wins60, losses60) = w.bayes_counts(now, cfg.bayes_slot_ms());
    let age_h = i64::from(period(now, HOUR_MS)) - i64::from(period(w.last_ms, HOUR_MS));
    View {
        sums: w.window_sums(now),
        wins60,
        losses60,
        posterior: posterior(cfg.prior_alpha, cfg.prior_beta, wins60, losses60),
        recency: recency_boost(age_h),
        size: size_factor(w.avg_buy(), cfg.size_floor_lamports, cfg.size_cap_lamports),
    }
}

fn perf(cfg: &AnalyticsConfig, w: &Wallet, v: &View) -> f64 {
    let all = &w.all.b;
    performance(
        PerformanceInputs {
            win_rate: all.win_rate(),
            roi_7d: v.sums[1].roi(),
            volume_7d: v.sums[1].volume,
            active_24h: v.sums[0].trades() > 0,
            active_7d: v.sums[1].trades() > 0,
        },
        cfg.roi_cap,
        cfg.volume_cap_lamports,
    )
}

fn is_ranked(cfg: &AnalyticsConfig, w: &Wallet) -> bool {
    w.decided() >= cfg.min_outcomes && w.flags & F_FARMING == 0
}

/// `true` when a tier change is worth telling followers (not the noise of
/// wallets entering or leaving the ranking at C).
const fn notable(from: Option<Tier>, to: Option<Tier>) -> bool {
    !matches!((from, to), (None | Some(Tier::C), None | Some(Tier::C)))
}

/// The price moved by at least `bps` through this buy (curve reserves
/// before vs after).
fn moved_price(ev: &TradeEvent, bps: u32) -> bool {
    let (vs, vt) = (
        u128::from(ev.virtual_sol.0),
        u128::from(ev.virtual_tokens.0),
    );
    let (s, t) = (u128::from(ev.sol.0), u128::from(ev.tokens.0));
    if !ev.on_curve || vt == 0 || vs <= s {
        return false;
    }
    // (vs / vt) >= (vs - s) / (vt + t) * (1 + bps); saturating for
    // nonsense reserves (real ones are far below 2^64).
    vs.saturating_mul(vt + t).saturating_mul(10_000)
        >= (vs - s)
            .saturating_mul(vt)
            .saturating_mul(10_000 + u128::from(bps))
}

/// Wallet analytics over the whole trade stream.
pub struct Analytics {
    cfg: AnalyticsConfig,
    started: bool,
    now_ms: i64,
    minute: u32,
    hour: u32,
    bayes_slot: u32,
    next_cluster_ms: i64,
    wallets: Vec<Wallet>,
    index: AddrIndex,
    free: Vec<u32>,
    mints: Vec<MintState>,
    mint_index: FxHashMap<Mint, u32>,
    free_mints: Vec<u32>,
    /// Mints with pending outcomes (for expiry).
    sweep_mints: Vec<u32>,
    /// Wallets with outcomes in the Bayesian window (for its aging).
    recent_wallets: Vec<u32>,
    dirty: Vec<u32>,
    /// Open lots by (wallet slot, mint slot).
    positions: FxHashMap<u64, Position>,
    pairs: FxHashMap<u64, Pair>,
    /// Fingerprints of co-buy pairs seen once (direct-mapped, lossy).
    cobuy_seen: Vec<u32>,
    /// Sybil clusters by id (the best member's slot), members sorted.
    clusters: FxHashMap<u32, Vec<u32>>,
    boards: Vec<Board>,
    /// Discovery memory: the minute a wallet was last seen in the top
    /// `discover_top` of a board, by [`top_key`].
    top_seen: FxHashMap<u64, u32>,
    counters: Counters,
    /// Wallets to refresh this event, with the boards their change
    /// reaches.
    touched: Vec<(u32, u16)>,
    /// Outcomes to record: (wallet, win, time).
    decided: Vec<(u32, bool, i64)>,
    restore_skipped: usize,
}

impl std::fmt::Debug for Analytics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Analytics")
            .field("now_ms", &self.now_ms)
            .field("wallets", &self.index.len())
            .field("mints", &self.mint_index.len())
            .field("pairs", &self.pairs.len())
            .field("clusters", &self.clusters.len())
            .field("counters", &self.counters)
            .finish_non_exhaustive()
    }
}

impl Default for Analytics {
    fn default() -> Self {
        Self::new(AnalyticsConfig::default())
    }
}

impl Analytics {
    #[must_use]
    pub fn new(cfg: AnalyticsConfig) -> Self {
        let boards = (0..BOARDS)
            .map(|_| Board::new(cfg.top_n, cfg.discover_top))
            .collect();
        Self {
            started: false,
            now_ms: 0,
            minute: 0,
            hour: 0,
            bayes_slot: 0,
            next_cluster_ms: 0,
            wallets: Vec::new(),
            index: AddrIndex::default(),
            free: Vec::new(),
            mints: Vec::new(),
            mint_index: FxHashMap::default(),
            free_mints: Vec::new(),
            sweep_mints: Vec::new(),
            recent_wallets: Vec::new(),
            dirty: Vec::new(),
            positions: FxHashMap::default(),
            pairs: FxHashMap::default(),
            cobuy_seen: vec![0; cfg.cobuy_filter_slots.max(1)],
            clusters: FxHashMap::default(),
            boards,
            top_seen: FxHashMap::default(),
            counters: Counters::default(),
            touched: Vec::new(),
            decided: Vec::new(),
            restore_skipped: 0,
            cfg,
        }
    }

    #[must_use]
    pub const fn config(&self) -> &AnalyticsConfig {
        &self.cfg
    }

    /// The analytics clock: the latest event time or tick seen.
    #[must_use]
    pub const fn now_ms(&self) -> i64 {
        self.now_ms
    }

    #[must_use]
    pub const fn counters(&self) -> &Counters {
        &self.counters
    }

    /// Updates every view with one trade (event time is the clock).
    pub fn on_trade(&mut self, ev: &TradeEvent) -> Vec<AnalyticsEvent> {
        let mut out = Vec::new();
        let t = clamp_time(ev.timestamp_ms);
        self.advance(t, &mut out);
        self.counters.events += 1;
        let (sol, tokens) = (ev.sol.0, ev.tokens.0);
        if tokens == 0 {
            self.counters.skipped += 1;
            return out;
        }
        // The trader first: its cache misses overlap with the mint's work.
        let wi = self.wallet_slot(&ev.trader, t);
        let mi = self.mint_slot(&ev.mint, t);
        {
            let m = &mut self.mints[mi as usize];
            m.last_ms = m.last_ms.max(t);
            m.on_trade(
                sol,
                tokens,
                ev.virtual_sol.0,
                ev.virtual_tokens.0,
                ev.on_curve,
                self.cfg.vwap_trades,
            );
        }
        self.touched.clear();
        self.judge_pending(mi, t);
        match ev.side {
            Side::Buy => self.on_buy(wi, mi, ev, t),
            Side::Sell => self.on_sell(wi, mi, ev, t),
        }
        self.mark_dirty(wi);
        self.touched.push((wi, ALL_BOARDS));
        self.refresh_touched(&mut out);
        self.refill(&mut out);
        out
    }

    /// Advances the clock without a trade (ages windows, expires outcomes,
    /// re-ranks on hour boundaries). Call it periodically with the wall
    /// clock in live mode; times before the clock are ignored.
    pub fn tick(&mut self, now_ms: i64) -> Vec<AnalyticsEvent> {
        let mut out = Vec::new();
        self.advance(clamp_time(now_ms), &mut out);
        self.refill(&mut out);
        out
    }

    /// Re-ranks every board from all wallets now (what the hourly boundary
    /// does). For tests and benchmarks; never needed for correctness.
    pub fn rebuild_leaderboards(&mut self) -> Vec<AnalyticsEvent> {
        let mut out = Vec::new();
        self.rebuild(ALL_BOARDS, true, true, &mut out);
        out
    }

    fn advance(&mut self, ts: i64, out: &mut Vec<AnalyticsEvent>) {
        if !self.started {
            self.started = true;
            self.set_clock(ts);
            return;
        }
        if ts <= self.now_ms {
            return;
        }
        self.now_ms = ts;
        let m = period(ts, MINUTE_MS);
        if m != self.minute {
            self.minute = m;
            self.on_minute(out);
        }
        let h = period(ts, HOUR_MS);
        if h != self.hour {
            self.hour = h;
            self.on_hour(out);
        }
    }

    fn set_clock(&mut self, ts: i64) {
        self.now_ms = ts;
        self.minute = period(ts, MINUTE_MS);
        self.hour = period(ts, HOUR_MS);
        self.bayes_slot = period(ts, self.cfg.bayes_slot_ms());
        self.next_cluster_ms = ts.saturating_add(self.cfg.cluster_every_ms);
    }

    fn mint_slot(&mut self, mint: &Mint, t: i64) -> u32 {
        if let Some(&i) = self.mint_index.get(mint) {
            return i;
        }
        let i = if let Some(i) = self.free_mints.pop() {
            self.mints[i as usize].reuse(*mint);
            i
        } else {
            self.mints.push(MintState::new(*mint, self.cfg.vwap_trades));
            u32::try_from(self.mints.len() - 1).unwrap_or(u32::MAX)
        };
        self.mints[i as usize].last_ms = t;
        self.mint_index.insert(*mint, i);
        i
    }

    fn wallet_slot(&mut self, addr: &WalletAddress, t: i64) -> u32 {
        if let Some(i) = self.slot_of(addr) {
            return i;
        }
        let w = Wallet::new(*addr, t);
        let i = if let Some(i) = self.free.pop() {
            self.wallets[i as usize] = w;
            i
        } else {
            self.wallets.push(w);
            u32::try_from(self.wallets.len() - 1).unwrap_or(u32::MAX)
        };
        self.index.insert(*addr, i);
        i
    }

    #[inline]
    fn slot_of(&self, addr: &WalletAddress) -> Option<u32> {
        let wallets = &self.wallets;
        self.index.get(addr, |i| wallets[i as usize].addr)
    }

    fn mark_dirty(&mut self, wi: u32) {
        let w = &mut self.wallets[wi as usize];
        if w.state & S_DIRTY == 0 {
            w.state |= S_DIRTY;
            self.dirty.push(wi);
        }
    }

    /// Judges the mint's pending buys on its new VWAP; expired ones lose.
    fn judge_pending(&mut self, mi: u32, t: i64) {
        let m = &mut self.mints[mi as usize];
        if m.pending.is_empty() {
            return;
        }
        let vwap = m.vwap_key();
        let before = self.decided.len();
        m.pending
            .judge(vwap, t, self.cfg.outcome_horizon_ms, &mut self.decided);
        self.counters.expired += self.decided[before..]
            .iter()
            .filter(|d| !d.1 && d.2 != t)
            .count() as u64;
        self.record_decided();
    }

    /// Records `self.decided` into the wallets and lists them in
    /// `touched`. An expired buy's loss is dated at its deadline.
    fn record_decided(&mut self) {
        let mut decided = std::mem::take(&mut self.decided);
        for &(wi, win, at) in &decided {
            if win {
                self.counters.wins += 1;
            } else {
                self.counters.losses += 1;
            }
            let w = &mut self.wallets[wi as usize];
            if w.state & S_LIVE == 0 {
                continue;
            }
            if w.record_outcome(win, at, self.cfg.bayes_slot_ms()) {
                self.recent_wallets.push(wi);
            }
            self.mark_dirty(wi);
            self.touched.push((wi, OUTCOME_BOARDS));
        }
        decided.clear();
        self.decided = decided;
    }

    fn on_buy(&mut self, wi: u32, mi: u32, ev: &TradeEvent, t: i64) {
        let cfg = &self.cfg;
        let cost = fifo::buy_cost(ev.sol.0, cfg.fee_bps);
        let moved = moved_price(ev, cfg.moved_price_bps);
        let m = &mut self.mints[mi as usize];
        let generation = m.generation;

        // Copies and co-buys: earlier buyers of this mint within the windows.
        // Each earlier buy is marked copied once (by its first copier).
        let reach = cfg.copy_window_ms.max(cfg.cobuy_window_ms);
        let mut copied = [(0u32, 0i64); RECENT_BUYS];
        let mut n_copied = 0;
        let mut partners = [0u32; RECENT_BUYS];
        let mut n_partners = 0;
        for slot in m.recent_slots() {
            let rb = m.recent_buy(slot);
            let dt = t - rb.t_ms;
            if dt > reach {
                break;
            }
            if rb.wallet == wi || dt < 0 {
                continue;
            }
            if dt <= cfg.copy_window_ms && !rb.copied {
                rb.copied = true;
                copied[n_copied] = (rb.wallet, rb.t_ms);
                n_copied += 1;
            }
            if dt <= cfg.cobuy_window_ms
                && n_partners < cfg.cobuy_partners
                && !partners[..n_partners].contains(&rb.wallet)
            {
                partners[n_partners] = rb.wallet;
                n_partners += 1;
            }
        }
        m.push_buy(wi, t);
        let price = pending::price_key(u128::from(ev.sol.0), u128::from(ev.tokens.0));
        if m.pending.push(
            wi,
            t,
            price,
            cfg.win_bps,
            cfg.loss_bps,
            cfg.max_pending_per_mint,
        ) {
            self.counters.pending_dropped += 1;
        }
        if !m.in_sweep {
            m.in_sweep = true;
            self.sweep_mints.push(mi);
        }
        for &(other, t_buy) in &copied[..n_copied] {
            if let Some(p) = self.positions.get_mut(&position::key(other, mi))
                && p.generation == generation
            {
                p.mark_copied(t_buy, t);
            }
        }
        let minute = period(t, MINUTE_MS);
        for &other in &partners[..n_partners] {
            self.cobuy(pair_key(wi, other), wi > other, minute);
        }

        // The lot.
        let lot = Lot {
            tokens: ev.tokens.0,
            cost,
            t_ms: t,
            follow_dt: 0,
            flags: if moved { LOT_MOVED } else { 0 },
        };
        let cap = self.cfg.lots_per_mint;
        let w = &mut self.wallets[wi as usize];
        w.touch(t);
        let mut opened = false;
        match self.positions.entry(position::key(wi, mi)) {
            std::collections::hash_map::Entry::Occupied(mut o) => {
                let p = o.get_mut();
                if p.generation != generation || p.is_empty() {
                    // A stale position of a reused mint slot.
                    *p = Position::new(generation);
                    opened = true;
                }
                p.buy(lot, cap);
            }
            std::collections::hash_map::Entry::Vacant(v) => {
                if usize::from(w.open) < self.cfg.positions_per_wallet {
                    let mut p = Position::new(generation);
                    p.buy(lot, cap);
                    v.insert(p);
                    w.open += 1;
                    opened = true;
                } else {
                    self.counters.positions_untracked += 1;
                }
            }
        }
        w.all.buy_cost = w.all.buy_cost.saturating_add(cost);
        w.apply(
            &Delta {
                buys: 1,
                opens: u32::from(opened),
                volume: ev.sol.0,
                ..Delta::default()
            },
            t,
        );
    }

    /// Counts one co-buy of a pair (`hi_second`: the wallet of the higher
    /// slot bought second): the first sighting only sets a filter slot
    /// (bit 1 keeps its order); the second enters the pair map.
    fn cobuy(&mut self, key: u64, hi_second: bool, minute: u32) {
        let second = u32::from(hi_second);
        if let Some(p) = self.pairs.get_mut(&key) {
            p.count = p.count.saturating_add(1);
            p.hi_second = p.hi_second.saturating_add(second);
            p.last_min = p.last_min.max(minute);
            return;
        }
        let h = key.wrapping_mul(0x9e37_79b9_7f4a_7c15);
        let slot = usize::try_from(h >> 32).unwrap_or(0) % self.cobuy_seen.len();
        let fp = (u32::try_from(h & 0xffff_ffff).unwrap_or(1) & !2) | 1;
        let seen = self.cobuy_seen[slot];
        if seen & !2 == fp {
            self.cobuy_seen[slot] = 0;
            self.pairs.insert(
                key,
                Pair {
                    count: 2,
                    last_min: minute,
                    hi_second: second + (seen >> 1 & 1),
                },
            );
        } else {
            self.cobuy_seen[slot] = fp | second << 1;
        }
    }

    fn on_sell(&mut self, wi: u32, mi: u32, ev: &TradeEvent, t: i64) {
        let cfg = &self.cfg;
        let proceeds = fifo::sell_proceeds(ev.sol.0, cfg.fee_bps);
        let generation = self.mints[mi as usize].generation;
        let w = &mut self.wallets[wi as usize];
        w.touch(t);
        let key = position::key(wi, mi);
        let (m, exits) = match self.positions.get_mut(&key) {
            Some(p) if p.generation == generation => {
                let r = p.sell(ev.tokens.0, proceeds, t, cfg.sell_into_ms, &mut w.holds);
                if p.is_empty() {
                    self.positions.remove(&key);
                    w.open = w.open.saturating_sub(1);
                }
                r
            }
            other => {
                if other.is_some() {
                    self.positions.remove(&key);
                    w.open = w.open.saturating_sub(1);
                }
                let mut m = fifo::SellMatch::default();
                m.finish(ev.tokens.0, proceeds);
                (m, position::Exits::default())
            }
        };
        if m.matched_tokens > 0 {
            w.matched_sells = w.matched_sells.saturating_add(1);
            w.sold_lots = w.sold_lots.saturating_add(exits.lots);
            w.into_lots = w.into_lots.saturating_add(exits.into);
            w.all.best = if w.all.b.sells == 0 || w.matched_sells == 1 {
                m.realized
            } else {
                w.all.best.max(m.realized)
            };
        }
        if m.unmatched_tokens > 0 {
            w.all.unmatched_sells = w.all.unmatched_sells.saturating_add(1);
            w.all.unmatched_sol = w.all.unmatched_sol.saturating_add(m.unmatched_proceeds);
            self.counters.unmatched_sells += 1;
        }
        w.apply(
            &Delta {
                sells: 1,
                closes: m.lots_touched,
                hold_ms: m.hold_ms,
                pnl: m.realized,
                cost: m.matched_cost,
                volume: ev.sol.0,
                ..Delta::default()
            },
            t,
        );
        // Farming flags (sticky: they follow the counters).
        let min = cfg.flag_min_samples.max(1);
        let mut flags = w.flags & !(F_QUICK | F_INTO);
        if w.holds.len() >= min as usize
            && w.holds
                .median()
                .is_some_and(|m| i64::from(m) < cfg.quick_flip_ms)
        {
            flags |= F_QUICK;
        }
        if w.into_lots >= min
            && score::wilson_lower(w.into_lots, w.sold_lots) >= cfg.sold_into_share
        {
            flags |= F_INTO;
        }
        w.flags = flags;
    }

    fn refresh_touched(&mut self, out: &mut Vec<AnalyticsEvent>) {
        let mut touched = std::mem::take(&mut self.touched);
        if touched.len() > 1 {
            touched.sort_unstable();
            // One refresh per wallet, with the union of the boards.
            let mut j = 0;
            for i in 1..touched.len() {
                if touched[i].0 == touched[j].0 {
                    touched[j].1 |= touched[i].1;
                } else {
                    j += 1;
                    touched[j] = touched[i];
                }
            }
            touched.truncate(j + 1);
        }
        for &(wi, boards) in &touched {
            self.refresh(wi, boards, out);
        }
        touched.clear();
        self.touched = touched;
    }

    /// Re-evaluates one wallet: the keys of `boards` (the others did not
    /// change), tier, discovery.
    fn refresh(&mut self, wi: u32, boards: u16, out: &mut Vec<AnalyticsEvent>) {
        let now = self.now_ms;
        let cfg = &self.cfg;
        let w = &mut self.wallets[wi as usize];
        if w.state & S_LIVE == 0 {
            return;
        }
        w.prune(now);
        let ranked = is_ranked(cfg, w);
        if !ranked && w.board_mask == 0 && w.tier.is_none() {
            return;
        }
        let v = view(cfg, w, now);
        let addr = *w.addr.as_bytes();
        // A wallet leaving or entering the ranking changes every board.
        let boards = if ranked && w.board_mask != 0 || !ranked && w.board_mask == 0 {
            boards
        } else {
            ALL_BOARDS
        };
        for b in 0..BOARDS {
            let bit = 1u16 << b;
            if boards & bit == 0 {
                continue;
            }
            let key = if ranked { v.key(b) } else { None };
            let member = self.wallets[wi as usize].board_mask & bit != 0;
            if key.is_none() && !member {
                continue;
            }
            let up = self.boards[b].update(wi, &addr, key, member);
            if let Some(e) = up.evicted {
                self.wallets[e as usize].board_mask &= !bit;
            }
            let w = &mut self.wallets[wi as usize];
            if up.member {
                w.board_mask |= bit;
                self.discover(wi, b, out);
            } else {
                w.board_mask &= !bit;
            }
        }
        self.update_tier(wi, ranked, &v, out);
    }

    /// Records a sighting of a board member in the board's top
    /// `discover_top`; announces it when it was not seen there in the
    /// previous `discover_quiet_ms`. Sightings come from every change of
    /// the wallet and from the hourly re-rank, so a wallet that stays in
    /// the top is seen at least hourly.
    fn discover(&mut self, wi: u32, b: usize, out: &mut Vec<AnalyticsEvent>) {
        let Some(r) = self.boards[b].top_rank(wi) else {
            return;
        };
        let now_min = period(self.now_ms, MINUTE_MS);
        let quiet_min = u32::try_from(self.cfg.discover_quiet_ms / MINUTE_MS).unwrap_or(u32::MAX);
        let before = self.top_seen.insert(top_key(wi, b), now_min);
        let new = before.is_none_or(|m| now_min.saturating_sub(m) > quiet_min);
        if new {
            let w = &self.wallets[wi as usize];
            out.push(AnalyticsEvent::Discovered {
                wallet: w.addr,
                metric: metric_of(b),
                window: window_of(b),
                rank: u32::try_from(r + 1).unwrap_or(u32::MAX),
                at_ms: self.now_ms,
            });
        }
        // A wallet that stays in the top is saved again when its sighting
        // enters a new quarter of the quiet time: a restart forgets at
        // most that much of its stay, for a few writes a day.
        let quarter = (quiet_min / 4).max(1);
        if new || before.is_some_and(|m| m / quarter != now_min / quarter) {
            self.mark_dirty(wi);
        }
    }

    /// A wallet's sightings in the tops (persistence).
    fn top_sightings(&self, wi: u32) -> Vec<(Metric, Window, u32)> {
        if self.top_seen.is_empty() {
            return Vec::new();
        }
        (0..BOARDS)
            .filter_map(|b| {
                let m = self.top_seen.get(&top_key(wi, b))?;
                Some((metric_of(b), window_of(b), *m))
            })
            .collect()
    }

    /// Forgets sightings older than the quiet time (they announce nothing
    /// any more), then the oldest beyond `max_top_sightings`.
    fn prune_top_sightings(&mut self) {
        let now_min = period(self.now_ms, MINUTE_MS);
        let quiet_min = u32::try_from(self.cfg.discover_quiet_ms / MINUTE_MS).unwrap_or(u32::MAX);
        self.top_seen
            .retain(|_, m| now_min.saturating_sub(*m) <= quiet_min);
        let cap = self.cfg.max_top_sightings;
        if self.top_seen.len() > cap {
            let mut ages: Vec<u32> = self.top_seen.values().copied().collect();
            let cut = ages.len() - cap;
            let (_, oldest_kept, _) = ages.select_nth_unstable(cut);
            let oldest_kept = *oldest_kept;
            self.top_seen.retain(|_, m| *m >= oldest_kept);
        }
    }

    fn update_tier(&mut self, wi: u32, ranked: bool, v: &View, out: &mut Vec<AnalyticsEvent>) {
        let cfg = &self.cfg;
        let w = &mut self.wallets[wi as usize];
        let to = ranked.then(|| {
            next_tier(
                w.tier,
                perf(cfg, w, v),
                cfg.tier_thresholds,
                cfg.tier_hysteresis,
            )
        });
        if to == w.tier {
            return;
        }
        let from = w.tier;
        let after = w.win_rate_bps();
        let before = if from.is_some() { w.tier_wr_bps } else { after };
        w.tier = to;
        w.tier_wr_bps = after;
        if notable(from, to) {
            out.push(AnalyticsEvent::TierChanged {
                wallet: w.addr,
                from,
                to,
                win_rate_before: f64::from(before) / 10_000.0,
                win_rate_after: f64::from(after) / 10_000.0,
                at_ms: self.now_ms,
            });
        }
        self.mark_dirty(wi);
    }

    /// Refills boards that lost too many members.
    fn refill(&mut self, out: &mut Vec<AnalyticsEvent>) {
        let mut mask = 0u16;
        for (b, board) in self.boards.iter().enumerate() {
            if board.needs_refill() {
                mask |= 1 << b;
            }
        }
        if mask != 0 {
            self.counters.refills += 1;
            self.rebuild(mask, false, true, out);
        }
    }

    /// Re-ranks the boards in `mask` from a scan of all wallets (and, with
    /// `tiers`, re-evaluates every tier).
    fn rebuild(&mut self, mask: u16, tiers: bool, discover: bool, out: &mut Vec<AnalyticsEvent>) {
        if mask == ALL_BOARDS {
            self.counters.rebuilds += 1;
        }
        let now = self.now_ms;
        let cap1 = self.boards[0].cap() + 1;
        let mut heaps: Vec<BinaryHeap<Entry>> = (0..BOARDS).map(|_| BinaryHeap::new()).collect();
        for i in 0..self.wallets.len() {
            let wi = u32::try_from(i).unwrap_or(u32::MAX);
            let w = &mut self.wallets[i];
            if w.state & S_LIVE == 0 {
                continue;
            }
            w.board_mask &= !mask;
            w.prune(now);
            let ranked = is_ranked(&self.cfg, w);
            let tier_may_drop = tiers && w.tier.is_some();
            if !ranked && !tier_may_drop {
                continue;
            }
            let v = view(&self.cfg, w, now);
            if ranked {
                let addr = *w.addr.as_bytes();
                for (b, heap) in heaps.iter_mut().enumerate() {
                    if mask & (1 << b) == 0 {
                        continue;
                    }
                    let Some(k) = v.key(b) else { continue };
                    let e = Entry::new(k, addr, wi);
                    if heap.len() < cap1 {
                        heap.push(e);
                    } else if heap.peek().is_some_and(|top| e < *top) {
                        heap.pop();
                        heap.push(e);
                    }
                }
            }
            if tiers {
                self.update_tier(wi, ranked, &v, out);
            }
        }
        for (b, heap) in heaps.into_iter().enumerate() {
            if mask & (1 << b) == 0 {
                continue;
            }
            self.boards[b].replace(heap.into_vec());
            let members: Vec<u32> = self.boards[b].iter().map(|e| e.idx).collect();
            for &wi in &members {
                self.wallets[wi as usize].board_mask |= 1 << b;
            }
            if discover {
                for &wi in members.iter().take(self.cfg.discover_top) {
                    self.discover(wi, b, out);
                }
            }
        }
    }

    fn on_minute(&mut self, out: &mut Vec<AnalyticsEvent>) {
        let now = self.now_ms;
        let horizon = self.cfg.outcome_horizon_ms;
        // Expire the outcomes of mints that stopped trading.
        let mut i = 0;
        while i < self.sweep_mints.len() {
            let mi = self.sweep_mints[i] as usize;
            let m = &mut self.mints[mi];
            let before = self.decided.len();
            m.pending.expire(now, horizon, &mut self.decided);
            self.counters.expired += (self.decided.len() - before) as u64;
            if m.pending.is_empty() {
                m.in_sweep = false;
                self.sweep_mints.swap_remove(i);
            } else {
                i += 1;
            }
        }
        self.touched.clear();
        self.record_decided();
        // Age the Bayesian window: when a slot boundary passes, re-rank
        // the wallets with outcomes in it; forget those it emptied.
        let slot_ms = self.cfg.bayes_slot_ms();
        let slot = period(now, slot_ms);
        if slot != self.bayes_slot {
            self.bayes_slot = slot;
            let mut j = 0;
            while j < self.recent_wallets.len() {
                let wi = self.recent_wallets[j];
                let w = &mut self.wallets[wi as usize];
                self.touched.push((wi, SCORE_BOARDS));
                if w.bayes_counts(now, slot_ms) == (0, 0) {
                    w.state &= !S_IN_RECENT;
                    self.recent_wallets.swap_remove(j);
                } else {
                    j += 1;
                }
            }
        }
        self.refresh_touched(out);
        if self.pairs.len() > self.cfg.max_pairs {
            self.prune_pairs();
        }
        if now >= self.next_cluster_ms {
            self.next_cluster_ms = now.saturating_add(self.cfg.cluster_every_ms.max(MINUTE_MS));
            self.recluster(out);
        }
    }

    fn on_hour(&mut self, out: &mut Vec<AnalyticsEvent>) {
        self.sweep();
        self.recluster(out);
        self.rebuild(ALL_BOARDS, true, true, out);
    }

    /// Memory bounds: prunes co-buy pairs, compacts idle wallets, forgets
    /// very idle ones and drops idle mints.
    fn sweep(&mut self) {
        self.prune_pairs();
        self.prune_top_sightings();
        let now = self.now_ms;
        let cfg = &self.cfg;
        // A wallet is forgotten only after its pairs expired.
        let forget = cfg.forget_ms.max(cfg.pair_ttl_ms + HOUR_MS);
        for i in 0..self.wallets.len() {
            let w = &mut self.wallets[i];
            if w.state & S_LIVE == 0 {
                continue;
            }
            let idle = now - w.last_ms;
            if idle > forget && w.state & (S_DIRTY | S_IN_RECENT) == 0 && w.cluster == NO_CLUSTER {
                let addr = w.addr;
                let mask = w.board_mask;
                let wi = u32::try_from(i).unwrap_or(u32::MAX);
                for b in 0..BOARDS {
                    if mask & (1 << b) != 0 {
                        self.boards[b].update(wi, addr.as_bytes(), None, true);
                    }
                }
                self.index.remove(&addr, wi);
                for b in 0..BOARDS {
                    self.top_seen.remove(&top_key(wi, b));
                }
                let mut dead = Wallet::new(addr, 0);
                dead.state = 0;
                self.wallets[i] = dead;
                self.free.push(wi);
                self.counters.forgotten_wallets += 1;
            } else if idle > cfg.idle_ms && w.compact(now) {
                self.counters.compacted += 1;
            }
        }
        for i in 0..self.mints.len() {
            let m = &mut self.mints[i];
            if m.live && now - m.last_ms > cfg.mint_idle_ms && m.pending.is_empty() {
                m.release();
                self.mint_index.remove(&m.addr);
                self.free_mints.push(u32::try_from(i).unwrap_or(u32::MAX));
                self.counters.evicted_mints += 1;
            }
        }
        // Positions of compacted or forgotten wallets and of dropped mints.
        let (wallets, mints) = (&mut self.wallets, &self.mints);
        self.positions.retain(|&k, p| {
            let w = &mut wallets[position::wallet_of(k) as usize];
            let m = &mints[position::mint_of(k) as usize];
            let keep =
                w.state & (S_LIVE | S_COMPACT) == S_LIVE && m.live && m.generation == p.generation;
            if !keep {
                w.open = w.open.saturating_sub(1);
            }
            keep
        });
        if self.positions.capacity() > 4 * self.positions.len().max(1024) {
            self.positions.shrink_to_fit();
        }
    }

    /// Bounds the co-buy pairs: pairs expire `pair_ttl_ms` after their last
    /// co-buy, single co-buys after an hour; above `max_pairs`, single
    /// co-buys go from the oldest (halving their age limit down to a
    /// minute), then pairs by count.
    fn prune_pairs(&mut self) {
        let now = self.now_ms;
        let min_multi = period(now - self.cfg.pair_ttl_ms, MINUTE_MS);
        let now_min = period(now, MINUTE_MS);
        let mut single_age = 60u32;
        loop {
            let min_single = now_min.saturating_sub(single_age);
            self.pairs.retain(|_, p| {
                p.last_min >= min_multi && (p.count >= 2 || p.last_min >= min_single)
            });
            if self.pairs.len() <= self.cfg.max_pairs || single_age <= 1 {
                break;
            }
            single_age /= 2;
        }
        let mut c = 2;
        while self.pairs.len() > self.cfg.max_pairs && c < u32::MAX / 2 {
            self.pairs.retain(|_, p| p.count >= c);
            c *= 2;
        }
    }

    /// Recomputes sybil clusters from the co-buy pairs: a pair is an edge
    /// when its co-buys number at least `cobuy_min_pairs` and exceed
    /// `cobuy_share` of the less active wallet's buys and
    /// `cobuy_share_busier` of the other's; clusters are the connected
    /// components; every member shows `Sybil`, the best (performance
    /// score) stays ranked, the others are hidden.
    fn recluster(&mut self, out: &mut Vec<AnalyticsEvent>) {
        self.counters.reclusters += 1;
        let cfg = &self.cfg;
        let mut parent: FxHashMap<u32, u32> = FxHashMap::default();
        fn find(parent: &mut FxHashMap<u32, u32>, x: u32) -> u32 {
            let mut r = x;
            while let Some(&p) = parent.get(&r) {
                if p == r {
                    break;
                }
                r = p;
            }
            let mut y = x;
            while y != r {
                let next = parent.get(&y).copied().unwrap_or(r);
                parent.insert(y, r);
                y = next;
            }
            r
        }
        for (&k, p) in &self.pairs {
            if p.count < cfg.cobuy_min_pairs.max(1) {
                continue;
            }
            let (a, b) = ((k >> 32) as u32, k as u32);
            let (wa, wb) = (&self.wallets[a as usize], &self.wallets[b as usize]);
            if wa.state & S_LIVE == 0 || wb.state & S_LIVE == 0 {
                continue;
            }
            let (few, many) = (
                wa.all.b.buys.min(wb.all.b.buys),
                wa.all.b.buys.max(wb.all.b.buys),
            );
            let count = f64::from(p.count);
            if count <= cfg.cobuy_share * f64::from(few)
                || count <= cfg.cobuy_share_busier * f64::from(many)
                || p.lead_share() > cfg.cobuy_max_lead
            {
                continue;
            }
            parent.entry(a).or_insert(a);
            parent.entry(b).or_insert(b);
            let (ra, rb) = (find(&mut parent, a), find(&mut parent, b));
            if ra != rb {
                parent.insert(ra.max(rb), ra.min(rb));
            }
        }
        let nodes: Vec<u32> = parent.keys().copied().collect();
        let mut groups: FxHashMap<u32, Vec<u32>> = FxHashMap::default();
        for x in nodes {
            let r = find(&mut parent, x);
            groups.entry(r).or_default().push(x);
        }

        // Forget the old assignment, remembering who was hidden.
        let mut prev: FxHashMap<u32, (u32, bool)> = FxHashMap::default();
        for members in std::mem::take(&mut self.clusters).into_values() {
            for m in members {
                let w = &mut self.wallets[m as usize];
                prev.insert(m, (w.cluster, w.flags & F_SYBIL != 0));
                w.cluster = NO_CLUSTER;
                w.flags &= !F_SYBIL;
            }
        }
        let now = self.now_ms;
        for (_, mut members) in groups {
            if members.len() < 2 {
                continue;
            }
            members.sort_unstable();
            let best = members
                .iter()
                .copied()
                .max_by(|&a, &b| {
                    let (wa, wb) = (&self.wallets[a as usize], &self.wallets[b as usize]);
                    let pa = perf(&self.cfg, wa, &view(&self.cfg, wa, now));
                    let pb = perf(&self.cfg, wb, &view(&self.cfg, wb, now));
                    pa.total_cmp(&pb)
                        .then(wa.decided().cmp(&wb.decided()))
                        .then(wb.addr.cmp(&wa.addr))
                })
                .unwrap_or(members[0]);
            for &m in &members {
                let w = &mut self.wallets[m as usize];
                w.cluster = best;
                if m != best {
                    w.flags |= F_SYBIL;
                }
            }
            self.clusters.insert(best, members);
        }
        // Re-rank and persist the wallets whose status changed.
        let mut changed: Vec<u32> = Vec::new();
        for (&m, &(cl, hidden)) in &prev {
            let w = &self.wallets[m as usize];
            if w.cluster != cl || (w.flags & F_SYBIL != 0) != hidden {
                changed.push(m);
            }
        }
        for members in self.clusters.values() {
            for &m in members {
                if !prev.contains_key(&m) {
                    changed.push(m);
                }
            }
        }
        changed.sort_unstable();
        for wi in changed {
            self.mark_dirty(wi);
            self.refresh(wi, ALL_BOARDS, out);
        }
    }

    /// A wallet's scores for copy decisions, cheaply (no card): the board's
    /// Bayesian score and the plain posterior; the prior for a wallet never
    /// seen.
    #[must_use]
    pub fn leader_score(&self, wallet: &WalletAddress) -> LeaderScore {
        match self.slot_of(wallet) {
            Some(wi) => {
                let v = view(&self.cfg, &self.wallets[wi as usize], self.now_ms);
                LeaderScore {
                    score: v.bayesian(),
                    posterior: v.posterior,
                }
            }
            None => {
                let p = posterior(self.cfg.prior_alpha, self.cfg.prior_beta, 0, 0);
                LeaderScore {
                    score: p,
                    posterior: p,
                }
            }
        }
    }

    /// The wallet's card, if the wallet was seen.
    #[must_use]
    pub fn card(&self, wallet: &WalletAddress) -> Option<WalletCard> {
        let wi = self.slot_of(wallet)?;
        let w = &self.wallets[wi as usize];
        let now = self.now_ms;
        let v = view(&self.cfg, w, now);
        let mut all_time = w.all.b.stats();
        all_time.avg_hold_ms = if w.all.b.closes == 0 {
            0
        } else {
            i64::try_from(w.all.hold_ms / u64::from(w.all.b.closes)).unwrap_or(i64::MAX)
        };
        all_time.unrealized_pnl = self.unrealized(wi, w);
        let cluster = if w.cluster == NO_CLUSTER {
            Vec::new()
        } else {
            self.clusters
                .get(&w.cluster)
                .map(|ms| {
                    ms.iter()
                        .filter(|&&m| m != wi)
                        .take(5)
                        .map(|&m| self.wallets[m as usize].addr)
                        .collect()
                })
                .unwrap_or_default()
        };
        Some(WalletCard {
            wallet: w.addr,
            tier: w.tier,
            ranked: is_ranked(&self.cfg, w),
            flags: w.flag_list(),
            scores: self.scores(w, &v),
            all_time,
            windows: [
                (Window::H24, v.sums[0].stats()),
                (Window::D7, v.sums[1].stats()),
                (Window::D30, v.sums[2].stats()),
            ],
            first_ms: w.first_ms,
            last_ms: w.last_ms,
            cluster,
        })
    }

    fn scores(&self, w: &Wallet, v: &View) -> Scores {
        let best = w.all.best.max(0);
        Scores {
            bayesian: v.bayesian(),
            posterior: v.posterior,
            window_wins: v.wins60,
            window_losses: v.losses60,
            recency_boost: v.recency,
            size_factor: v.size,
            performance: perf(&self.cfg, w, v),
            wilson_lower: score::wilson_lower(w.all.b.wins, w.decided()),
            pnl_excluding_best: if w.matched_sells == 0 {
                w.all.b.pnl
            } else {
                w.all.b.pnl.saturating_sub(best)
            },
        }
    }

    /// Open lots valued at the last price of their mint, minus their cost.
    /// Scans the position map (a card is rare; a trade never does this).
    fn unrealized(&self, wi: u32, w: &Wallet) -> i64 {
        if w.open == 0 {
            return 0;
        }
        let mut total: i128 = 0;
        for (&k, p) in &self.positions {
            if position::wallet_of(k) != wi {
                continue;
            }
            let m = &self.mints[position::mint_of(k) as usize];
            if !m.live || m.generation != p.generation {
                continue;
            }
            let value = m.liquidation_value(p.tokens(), self.cfg.fee_bps);
            total += i128::from(value) - i128::from(p.cost());
        }
        i64::try_from(total).unwrap_or(if total < 0 { i64::MIN } else { i64::MAX })
    }

    /// A page of a leaderboard (ranked wallets only).
    #[must_use]
    pub fn leaderboard(
        &self,
        metric: Metric,
        window: Window,
        offset: usize,
        limit: usize,
    ) -> Vec<LeaderRow> {
        let b = board_of(metric, window);
        let board = &self.boards[b];
        let now = self.now_ms;
        board
            .iter()
            .take(board.len())
            .enumerate()
            .skip(offset)
            .take(limit)
            .map(|(i, e)| {
                let w = &self.wallets[e.idx as usize];
                let v = view(&self.cfg, w, now);
                LeaderRow {
                    rank: u32::try_from(i + 1).unwrap_or(u32::MAX),
                    wallet: w.addr,
                    value: v.value(b),
                    tier: w.tier,
                    score: v.bayesian(),
                    stats: v.sums[b % 3].stats(),
                    flags: w.flag_list(),
                }
            })
            .collect()
    }

    /// How many ranked wallets a leaderboard holds (for paging).
    #[must_use]
    pub fn leaderboard_len(&self, metric: Metric, window: Window) -> usize {
        self.boards[board_of(metric, window)].len()
    }

    /// Wallets seen and currently tracked in memory.
    #[must_use]
    pub fn tracked_wallets(&self) -> usize {
        self.index.len()
    }

    /// Flags of every flagged wallet (for reports), by address.
    #[must_use]
    pub fn flagged(&self) -> Vec<(WalletAddress, Vec<Flag>)> {
        let mut v: Vec<(WalletAddress, Vec<Flag>)> = self
            .wallets
            .iter()
            .filter(|w| w.state & S_LIVE != 0 && (w.flags != 0 || w.cluster != NO_CLUSTER))
            .map(|w| (w.addr, w.flag_list()))
            .collect();
        v.sort_unstable_by_key(|(a, _)| *a);
        v
    }

    /// Wallets changed since the last call (for batched persistence), with
    /// their state.
    pub fn take_dirty(&mut self) -> Vec<WalletState> {
        let dirty = std::mem::take(&mut self.dirty);
        let mut out = Vec::with_capacity(dirty.len());
        for wi in dirty {
            let w = &self.wallets[wi as usize];
            if w.state & S_LIVE == 0 || w.state & S_DIRTY == 0 {
                continue;
            }
            let snap = w.snapshot(self.mates(wi), self.top_sightings(wi));
            let state = WalletState {
                wallet: w.addr,
                last_ms: w.last_ms,
                data: serde_json::to_value(snap).unwrap_or(serde_json::Value::Null),
            };
            self.wallets[wi as usize].state &= !S_DIRTY;
            out.push(state);
        }
        out
    }

    /// Cluster mates of a wallet with the co-buy count of each pair.
    fn mates(&self, wi: u32) -> Vec<(WalletAddress, u32)> {
        let w = &self.wallets[wi as usize];
        if w.cluster == NO_CLUSTER {
            return Vec::new();
        }
        self.clusters
            .get(&w.cluster)
            .map(|ms| {
                ms.iter()
                    .filter(|&&m| m != wi)
                    .take(16)
                    .map(|&m| {
                        let c = self.pairs.get(&pair_key(wi, m)).map_or(0, |p| p.count);
                        (self.wallets[m as usize].addr, c)
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Restores wallets saved by [`Self::take_dirty`] (at start). States of
    /// an unknown version or shape are skipped and counted
    /// ([`Self::restore_skipped`]). Open lots and pending outcomes are not
    /// persisted: sells of tokens bought before the restart realize nothing.
    pub fn restore(&mut self, states: Vec<WalletState>) {
        let mut mates: Vec<(u32, WalletAddress, u32)> = Vec::new();
        let mut latest = if self.started { self.now_ms } else { i64::MIN };
        for s in states {
            let mut snap: SnapV1 = match serde_json::from_value(s.data) {
                Ok(snap) if snap_ok(&snap) => snap,
                _ => {
                    self.restore_skipped += 1;
                    continue;
                }
            };
            let ms = std::mem::take(&mut snap.mates);
            let top = std::mem::take(&mut snap.top);
            snap.first = clamp_time(snap.first);
            snap.last = clamp_time(snap.last);
            let w = Wallet::from_snapshot(s.wallet, snap);
            latest = latest.max(w.last_ms);
            let wi = if let Some(wi) = self.slot_of(&s.wallet) {
                let old = &self.wallets[wi as usize];
                for b in 0..BOARDS {
                    if old.board_mask & (1 << b) != 0 {
                        self.boards[b].update(wi, s.wallet.as_bytes(), None, true);
                    }
                }
                self.wallets[wi as usize] = w;
                wi
            } else {
                let wi = self.wallet_slot(&s.wallet, 0);
                self.wallets[wi as usize] = w;
                wi
            };
            for b in 0..BOARDS {
                self.top_seen.remove(&top_key(wi, b));
            }
            for (metric, window, minute) in top {
                self.top_seen
                    .insert(top_key(wi, board_of(metric, window)), minute);
            }
            let w = &mut self.wallets[wi as usize];
            if !w.bayes.entries().is_empty() {
                w.state |= S_IN_RECENT;
                self.recent_wallets.push(wi);
            }
            for (mate, count) in ms {
                mates.push((wi, mate, count));
            }
        }
        for (wi, mate, count) in mates {
            let Some(mj) = self.slot_of(&mate) else {
                continue;
            };
            if count == 0 || mj == wi {
                continue;
            }
            let last_min = period(self.wallets[wi as usize].last_ms, MINUTE_MS);
            let p = self.pairs.entry(pair_key(wi, mj)).or_insert(Pair {
                count: 0,
                last_min,
                hi_second: 0,
            });
            p.count = p.count.max(count);
            p.last_min = p.last_min.max(last_min);
            // The order is not saved: mates were clustered, so mixed.
            p.hi_second = p.count / 2;
        }
        if latest == i64::MIN {
            return;
        }
        if self.started {
            self.now_ms = self.now_ms.max(latest);
        } else {
            self.started = true;
            self.set_clock(latest);
        }
        let mut ignored = Vec::new();
        self.recluster(&mut ignored);
        self.rebuild(ALL_BOARDS, false, false, &mut ignored);
        // A restored state is what the store has: nothing to save.
        for wi in std::mem::take(&mut self.dirty) {
            self.wallets[wi as usize].state &= !S_DIRTY;
        }
    }

    /// States skipped by [`Self::restore`] so far (unknown version or shape).
    #[must_use]
    pub const fn restore_skipped(&self) -> usize {
        self.restore_skipped
    }

    /// The last known price of a mint's curve, lamports per raw token × 1e9.
    #[must_use]
    pub fn last_price(&self, mint: &Mint) -> Option<u128> {
        let &mi = self.mint_index.get(mint)?;
        self.mints[mi as usize].price_e9()
    }

    /// Bytes held, counted from the structures.
    #[must_use]
    pub fn memory(&self) -> MemoryReport {
        fn map_bytes<K, V>(cap: usize) -> usize {
            // hashbrown: one control byte per bucket, 8/7 buckets per slot.
            cap * (size_of::<(K, V)>() + 1) * 8 / 7
        }
        // Slots in use: the vector's spare capacity is reserved address
        // space the allocator never touched (not resident).
        let wallet_bytes = self.wallets.len() * size_of::<Wallet>()
            + self.wallets.iter().map(Wallet::heap_bytes).sum::<usize>()
            + self.free.capacity() * 4
            + (self.dirty.capacity() + self.recent_wallets.capacity()) * 4;
        MemoryReport {
            wallets: self.index.len(),
            wallet_bytes,
            index_bytes: self.index.bytes(),
            mint_bytes: self.mints.capacity() * size_of::<MintState>()
                + self.mints.iter().map(MintState::heap_bytes).sum::<usize>()
                + map_bytes::<Mint, u32>(self.mint_index.capacity()),
            position_bytes: map_bytes::<u64, Position>(self.positions.capacity()),
            pair_bytes: map_bytes::<u64, Pair>(self.pairs.capacity())
                + self.cobuy_seen.capacity() * 4
                + self
                    .clusters
                    .values()
                    .map(|v| v.capacity() * 4 + 40)
                    .sum::<usize>(),
            board_bytes: self.boards.iter().map(Board::heap_bytes).sum::<usize>()
                + map_bytes::<u64, u32>(self.top_seen.capacity()),
        }
    }

    /// Bytes one wallet takes: its slot, its heap, its index entry and its
    /// open positions.
    #[must_use]
    pub fn wallet_bytes(&self, wallet: &WalletAddress) -> Option<usize> {
        let wi = self.slot_of(wallet)?;
        let w = &self.wallets[wi as usize];
        let entry = |kv: usize| (kv + 1) * 8 / 7;
        Some(
            size_of::<Wallet>()
                + w.heap_bytes()
                + entry(size_of::<(u64, u32)>())
                + usize::from(w.open) * entry(size_of::<(u64, Position)>()),
        )
    }

    /// `size_of` of a wallet slot, a position entry's value and a mint
    /// slot, for reports.
    #[must_use]
    pub const fn slot_sizes() -> (usize, usize, usize) {
        (
            size_of::<Wallet>(),
            size_of::<Position>(),
            size_of::<MintState>(),
        )
    }

    /// Whether a wallet is compacted (idle: lots dropped).
    #[must_use]
    pub fn is_compacted(&self, wallet: &WalletAddress) -> bool {
        self.slot_of(wallet)
            .is_some_and(|wi| self.wallets[wi as usize].state & S_COMPACT != 0)
    }
}

fn snap_ok(s: &SnapV1) -> bool {
    s.v == SNAP_VERSION
}
