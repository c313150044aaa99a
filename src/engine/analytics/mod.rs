//! Wallet analytics, scoring, anti-farming flags, tiers and leaderboards.
//! PURE like the rest of the engine: event time is the clock.
//!
//! Contract (the rest of the app builds on these types; internals may change):
//! - [`Analytics::on_trade`] is called for EVERY trade the feed sees (not only
//!   followed wallets), in feed order, and returns tier changes and
//!   discoveries as [`AnalyticsEvent`]s.
//! - Money is lamports (i64/u64), fees included: a buy costs the SOL that
//!   went into the curve grossed up by the fee, a sell returns the curve's
//!   SOL minus the fee.
//! - Memory is bounded: old lots and windows are pruned, idle wallets
//!   compacted.

#[allow(dead_code, reason = "used by Analytics in the next commit")]
mod board;
pub mod fifo;
#[allow(dead_code, reason = "used by Analytics in the next commit")]
mod hash;
#[allow(dead_code, reason = "used by Analytics in the next commit")]
mod mint;
pub mod score;
#[allow(dead_code, reason = "used by Analytics in the next commit")]
mod wallet;
#[allow(dead_code, reason = "used by Analytics in the next commit")]
mod window;

use serde::{Deserialize, Serialize};

use crate::domain::{Mint, TradeEvent, WalletAddress};

/// Rolling windows of the leaderboards and wallet cards.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Window {
    H24,
    D7,
    D30,
}

impl Window {
    pub const ALL: [Self; 3] = [Self::H24, Self::D7, Self::D30];

    #[must_use]
    pub const fn millis(self) -> i64 {
        match self {
            Self::H24 => 24 * 3_600_000,
            Self::D7 => 7 * 24 * 3_600_000,
            Self::D30 => 30 * 24 * 3_600_000,
        }
    }

    /// Short code for button data and commands: `24h`, `7d`, `30d`.
    #[must_use]
    pub const fn code(self) -> &'static str {
        match self {
            Self::H24 => "24h",
            Self::D7 => "7d",
            Self::D30 => "30d",
        }
    }

    #[must_use]
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|w| w.code().eq_ignore_ascii_case(s))
    }
}

/// What a leaderboard ranks by (higher is better for all).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    /// The Bayesian score (with boosts).
    Score,
    /// Realized PnL in the window, lamports.
    Pnl,
    Roi,
    WinRate,
    Volume,
}

impl Metric {
    pub const ALL: [Self; 5] = [
        Self::Score,
        Self::Pnl,
        Self::Roi,
        Self::WinRate,
        Self::Volume,
    ];

    /// Short code: `score`, `pnl`, `roi`, `wr`, `vol`.
    #[must_use]
    pub const fn code(self) -> &'static str {
        match self {
            Self::Score => "score",
            Self::Pnl => "pnl",
            Self::Roi => "roi",
            Self::WinRate => "wr",
            Self::Volume => "vol",
        }
    }

    #[must_use]
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|m| m.code().eq_ignore_ascii_case(s))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Tier {
    S,
    A,
    B,
    C,
}

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
    pub wins: u32,
    pub losses: u32,
    pub trades: u32,
    pub buys: u32,
    pub sells: u32,
    pub tokens: u32,
    /// SOL traded (buys + sells), lamports.
    pub volume: u64,
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

/// Everything `/score` shows about a wallet.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WalletCard {
    pub wallet: WalletAddress,
    pub tier: Option<Tier>,
    /// Enough samples and not hidden by its sybil cluster.
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
    /// A wallet entered a top-N for the first time (daily discovery).
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
pub struct AnalyticsConfig {
    pub fee_bps: u32,
    /// Outcome: win if VWAP(last `vwap_trades`) reaches +`win_bps` before
    /// −`loss_bps` within `outcome_horizon_ms` of the buy.
    pub win_bps: u32,
    pub loss_bps: u32,
    pub outcome_horizon_ms: i64,
    pub vwap_trades: usize,
    /// Bayesian prior Beta(alpha, beta) and its rolling window.
    pub prior_alpha: f64,
    pub prior_beta: f64,
    pub bayes_window_ms: i64,
    /// Minimum decided outcomes before a wallet is ranked.
    pub min_outcomes: u32,
    /// Quick-flip threshold on the median hold time.
    pub quick_flip_ms: i64,
    /// Co-buy window and share for sybil clustering.
    pub cobuy_window_ms: i64,
    pub cobuy_share: f64,
    /// Leaderboard depth maintained per (metric, window).
    pub top_n: usize,
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
            top_n: 100,
        }
    }
}

/// The state of one wallet, for batched persistence (serde; opaque to the
/// store).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WalletState {
    pub wallet: WalletAddress,
    pub last_ms: i64,
    /// Internal representation; versioned by the analytics module.
    pub data: serde_json::Value,
}

/// Wallet analytics over the whole trade stream.
#[derive(Debug, Default)]
pub struct Analytics {
    cfg: AnalyticsConfig,
}

impl Analytics {
    #[must_use]
    pub fn new(cfg: AnalyticsConfig) -> Self {
        Self { cfg }
    }

    #[must_use]
    pub const fn config(&self) -> &AnalyticsConfig {
        &self.cfg
    }

    /// Updates every view with one trade (event time is the clock).
    pub fn on_trade(&mut self, ev: &TradeEvent) -> Vec<AnalyticsEvent> {
        let _ = ev;
        Vec::new()
    }

    /// The wallet's card, if the wallet was seen.
    #[must_use]
    pub fn card(&self, wallet: &WalletAddress) -> Option<WalletCard> {
        let _ = wallet;
        None
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
        let _ = (metric, window, offset, limit);
        Vec::new()
    }

    /// How many ranked wallets a leaderboard holds (for paging).
    #[must_use]
    pub fn leaderboard_len(&self, metric: Metric, window: Window) -> usize {
        let _ = (metric, window);
        0
    }

    /// Wallets seen and currently tracked in memory.
    #[must_use]
    pub fn tracked_wallets(&self) -> usize {
        0
    }

    /// Flags of every flagged wallet (for reports).
    #[must_use]
    pub fn flagged(&self) -> Vec<(WalletAddress, Vec<Flag>)> {
        Vec::new()
    }

    /// Wallets changed since the last call (for batched persistence), with
    /// their state.
    pub fn take_dirty(&mut self) -> Vec<WalletState> {
        Vec::new()
    }

    /// Restores wallets saved by [`Self::take_dirty`] (at start).
    pub fn restore(&mut self, states: Vec<WalletState>) {
        let _ = states;
    }

    /// The last known price of a mint's curve, lamports per raw token × 1e9.
    #[must_use]
    pub fn last_price(&self, mint: &Mint) -> Option<u128> {
        let _ = mint;
        None
    }
}
