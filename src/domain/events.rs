//! Events that flow through the engine and the records it produces.

use serde::{Deserialize, Serialize};

use super::{Lamports, Mint, Signature, TokenAmount, UserRef, WalletAddress};

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

/// A paper (or, later, live) execution for a user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fill {
    pub user: UserRef,
    pub mint: Mint,
    pub leader: WalletAddress,
    /// The leader's trade this fill copies; with `side`, the idempotency key.
    pub leader_signature: Signature,
    pub side: Side,
    /// SOL paid (buy, fees included) or received (sell, fees deducted).
    pub sol: Lamports,
    pub tokens: TokenAmount,
    pub fee: Lamports,
    /// Realized PnL of this fill in lamports (sells only; 0 for buys).
    pub realized_pnl: i64,
    pub timestamp_ms: i64,
}

/// An open paper position of one user in one mint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Position {
    pub user: UserRef,
    pub mint: Mint,
    pub leader: WalletAddress,
    pub tokens: TokenAmount,
    /// SOL paid for the tokens still held, fees included.
    pub cost: Lamports,
    /// Realized PnL of the parts already sold, fees included.
    pub realized_pnl: i64,
    pub opened_ms: i64,
    pub updated_ms: i64,
}

/// Why a copy was not made. Rendered for users by `chat/`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SkipReason {
    /// The token left the bonding curve (PumpSwap); paper fills need a curve.
    OffCurve,
    /// The curve is complete: nothing left to buy.
    CurveComplete,
    /// The leader sold but the user holds nothing copied from them.
    NoPosition,
    /// The copy size buys zero tokens at the current price.
    TooSmall,
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
