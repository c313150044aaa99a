//! Domain vocabulary shared by every layer: parsed newtypes, events and the
//! port traits the adapters implement.
//!
//! Must not import any transport, database, network or Solana crate (CI checks
//! this): the engine builds on these types and stays pure.

mod events;
mod ids;
pub mod money;
pub mod ports;

pub use events::{Alert, Fill, Position, Side, SkipReason, Tier, TradeEvent, WalletState};
pub use ids::{
    Address, AddressError, ChatKind, ChatRef, Locale, LocaleError, Mint, Platform, Signature,
    SignatureError, UserRef, WalletAddress,
};
pub use money::{Bps, BpsError, Lamports, LamportsError, TokenAmount};
