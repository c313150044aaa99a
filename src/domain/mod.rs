//! Domain vocabulary shared by every layer: parsed newtypes, events and the
//! port traits the adapters implement.
//!
//! Must not import any transport, database, network or Solana crate (CI checks
//! this): the engine builds on these types and stays pure.

mod events;
mod ids;
pub mod money;
pub mod order;
pub mod ports;
pub mod profile;

pub use events::{
    Alert, ExitState, Fill, Metric, Position, Side, Tier, TradeEvent, WalletState, Window,
};
pub use ids::{
    Address, AddressError, ChatKind, ChatRef, Locale, LocaleError, Mint, Platform, Signature,
    SignatureError, UserRef, WalletAddress,
};
pub use money::{Bps, BpsError, Lamports, LamportsError, TokenAmount};
pub use order::{
    DecisionRecord, Execution, ExitReason, IdempotencyKey, Intent, NotifyKind, NotifyLevel,
    NotifyPrefs, Order, RiskEvent, RiskTier, RoundTrip, ScreenReason, SkipReason, Verdict,
};
pub use profile::{
    BuyMode, CopySells, Follow, LadderStep, Mode, Overrides, Profile, ProfileId, ProfileName,
    ProfileSettings, Section, Setting, SettingError, SettingKind, SettingValue, SignalMode,
};
