//! Events that flow through the engine and the records it produces.

use serde::{Deserialize, Serialize};

use super::{
    ExitReason, IdempotencyKey, Lamports, Mint, Mode, ProfileId, Signature, TokenAmount, UserRef,
    WalletAddress,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Side {
    Buy,
    Sell,
}

impl Side {
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Buy => "buy",
            Self::Sell => "sell",
        }
    }
}

/// One trade on a pump.fun bonding curve, from any feed.
///
/// `sol` is the SOL that went into (buy) or came out of (sell) the curve,
/// net of fees, as the on-chain `TradeEvent` reports it. Reserves are the
/// curve's virtual reserves *after* the trade; feeds that lack them rebuild
/// them from the curve math, so the engine can always price.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TradeEvent {
    pub signature: Signature,
    pub mint: Mint,
    pub trader: WalletAddress,
    pub side: Side,
    pub sol: Lamports,
    pub tokens: TokenAmount,
    /// Unix milliseconds: event time in replay/simulation, receive time live.
    pub timestamp_ms: i64,
    pub slot: Option<u64>,
    pub virtual_sol: Lamports,
    pub virtual_tokens: TokenAmount,
    /// The trader's token balance after the trade, when the feed knows it.
    pub trader_balance_after: Option<TokenAmount>,
    /// The token was created in this transaction (its first buy).
    pub created: bool,
    /// Trades after the curve completed (PumpSwap) carry no curve state.
    pub on_curve: bool,
}

/// A followed wallet traded: tell the follower.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Alert {
    pub user: UserRef,
    pub wallet: WalletAddress,
    pub mint: Mint,
    pub side: Side,
    pub sol: Lamports,
    pub tokens: TokenAmount,
    pub signature: Signature,
    pub timestamp_ms: i64,
}

/// An execution (paper or live) of one profile's order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fill {
    pub profile: ProfileId,
    pub user: UserRef,
    pub mint: Mint,
    pub leader: WalletAddress,
    /// The order it executes; unique, so a fill is recorded at most once.
    pub key: IdempotencyKey,
    pub side: Side,
    pub mode: Mode,
    /// SOL paid (buy, every fee included) or received (sell, net of fees).
    pub sol: Lamports,
    pub tokens: TokenAmount,
    /// Curve, network and priority fees in `sol`.
    pub fee: Lamports,
    /// Realized PnL of this fill in lamports (sells only; 0 for buys).
    pub realized_pnl: i64,
    /// Why a sell happened (none for buys).
    pub reason: Option<ExitReason>,
    /// The transaction (live).
    pub tx: Option<Signature>,
    pub timestamp_ms: i64,
}

/// Where a position's exit rules stand (kept with the position, so a
/// restart resumes trailing from the same peak).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct ExitState {
    /// Highest gain over cost seen, basis points (value net of sell fees).
    pub peak_gain_bps: i64,
    /// When the peak was reached.
    pub peak_ms: i64,
    pub tp1_done: bool,
    /// Ladder steps done, one bit each.
    pub ladder_done: u8,
    /// When the break-even stop was armed.
    pub be_since_ms: Option<i64>,
    /// The break-even stop is armed (the gain reached the arm level).
    pub be_armed: bool,
    /// The first trailing level was reached soon enough after opening.
    pub early_peak: bool,
    /// Exit orders made so far (part of their idempotency keys).
    pub exits: u32,
}

/// An open position of one profile in one mint, copied from one leader.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Position {
    pub profile: ProfileId,
    pub user: UserRef,
    pub mint: Mint,
    pub leader: WalletAddress,
    pub mode: Mode,
    pub tokens: TokenAmount,
    /// SOL paid for the tokens still held, fees included.
    pub cost: Lamports,
    /// Realized PnL of the parts already sold, fees included.
    pub realized_pnl: i64,
    /// Everything bought into the position (fees included) and every
    /// token bought, for the round trip and ladder steps.
    pub bought_sol: Lamports,
    pub bought_tokens: TokenAmount,
    /// Everything received from sells so far.
    pub sold_sol: Lamports,
    pub opened_ms: i64,
    pub updated_ms: i64,
    pub exit: ExitState,
}

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

/// A wallet's tier on the leaderboards (S best).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Tier {
    S,
    A,
    B,
    C,
}

/// The analytics state of one wallet, for batched persistence (serde;
/// opaque to the store, versioned by the engine's analytics module).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WalletState {
    pub wallet: WalletAddress,
    pub last_ms: i64,
    pub data: serde_json::Value,
}
