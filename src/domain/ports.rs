//! Ports: the traits the application core depends on and the adapters
//! implement. Only `app.rs` knows the concrete types.
//!
//! Every port method documents its contract. Errors are `anyhow::Error` with
//! context added by the adapter at each I/O step; domain-level refusals are
//! values, not errors.

use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use super::{ChatRef, Fill, Lamports, Locale, Position, Tier, UserRef, WalletAddress, WalletState};

/// Time, injected so the engine and tests are deterministic.
pub trait Clock: Send + Sync {
    /// Unix milliseconds.
    fn now_ms(&self) -> i64;
}

/// The wall clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> i64 {
        let d = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
    }
}

/// A stored user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserRecord {
    pub user: UserRef,
    pub locale: Locale,
    /// Where private notifications go (the user's private chat).
    pub home_chat: ChatRef,
    /// Paper copy size for followed wallets' buys.
    pub copy_lamports: Lamports,
    pub created_ms: i64,
}

/// What an outbox row carries: structured, rendered at delivery time in the
/// recipient's locale.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[allow(
    clippy::large_enum_variant,
    reason = "built once per queued message and serialized at once; boxing buys nothing"
)]
pub enum OutboxPayload {
    /// A followed wallet traded; with the paper copy made for it, or the
    /// reason none was made.
    Trade {
        alert: super::Alert,
        fill: Option<Fill>,
        /// Why no copy was made, when none was.
        skipped: Option<super::SkipReason>,
    },
    /// A followed wallet was promoted or demoted (`None` = unranked).
    TierChanged {
        wallet: WalletAddress,
        from: Option<Tier>,
        to: Option<Tier>,
        /// Win rates before and after, in basis points (0–10 000).
        win_rate_before_bps: u32,
        win_rate_after_bps: u32,
        at_ms: i64,
    },
}

/// A message waiting to be delivered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxMessage {
    pub id: i64,
    pub chat: ChatRef,
    pub user: UserRef,
    pub payload: OutboxPayload,
    pub created_ms: i64,
    pub attempts: i32,
}

/// Durable state: users, follows, paper positions and fills, outbox, and
/// the wallet analytics snapshot.
///
/// Contract: every method is atomic; writes about a user (follows, fills)
/// require that user to be stored first (`upsert_user`), else they fail; `record_fill` writes the fill and the
/// resulting position (or its removal when `tokens` reaches 0) in one
/// transaction and is idempotent on (user, leader_signature, side): a second
/// call with the same key returns `Ok(false)` and changes nothing.
#[async_trait]
pub trait Store: Send + Sync {
    /// Creates the user or updates locale/home chat; keeps `copy_lamports`
    /// and `created_ms` of an existing user. Returns the stored record.
    async fn upsert_user(&self, user: &UserRecord) -> anyhow::Result<UserRecord>;
    async fn get_user(&self, user: UserRef) -> anyhow::Result<Option<UserRecord>>;

    /// Adds a follow; `Ok(false)` if it already existed.
    async fn add_follow(
        &self,
        user: UserRef,
        wallet: WalletAddress,
        now_ms: i64,
    ) -> anyhow::Result<bool>;
    /// Removes a follow; `Ok(false)` if there was none.
    async fn remove_follow(&self, user: UserRef, wallet: WalletAddress) -> anyhow::Result<bool>;
    /// A user's follows, oldest first.
    async fn follows_of(&self, user: UserRef) -> anyhow::Result<Vec<WalletAddress>>;
    /// Every (user, wallet) follow, for rebuilding the engine at start.
    async fn all_follows(&self) -> anyhow::Result<Vec<(UserRef, WalletAddress)>>;

    /// Stores a fill and the position after it (see the trait contract).
    async fn record_fill(&self, fill: &Fill, position_after: &Position) -> anyhow::Result<bool>;
    async fn open_positions(&self, user: UserRef) -> anyhow::Result<Vec<Position>>;
    async fn all_open_positions(&self) -> anyhow::Result<Vec<Position>>;
    /// A user's fills, newest first, at most `limit`.
    async fn fills_of(&self, user: UserRef, limit: u32) -> anyhow::Result<Vec<Fill>>;

    /// Queues a message; returns its id.
    async fn enqueue(
        &self,
        chat: ChatRef,
        user: UserRef,
        payload: &OutboxPayload,
        now_ms: i64,
    ) -> anyhow::Result<i64>;
    /// Unsent messages, oldest first, at most `limit`.
    async fn pending(&self, limit: u32) -> anyhow::Result<Vec<OutboxMessage>>;
    async fn mark_sent(&self, id: i64, now_ms: i64) -> anyhow::Result<()>;
    /// Records a failed attempt; after `give_up_after` attempts the message
    /// is parked (never returned by `pending` again) with the error text.
    async fn mark_failed(&self, id: i64, error: &str, give_up_after: i32) -> anyhow::Result<()>;

    /// Saves analytics wallet states in one transaction: each wallet's row is
    /// inserted or replaced (`last_ms` and `data`). When a wallet appears
    /// more than once in `states`, the last one wins. Empty `states` is a
    /// no-op. Either every state is saved or none is (the caller keeps them
    /// to retry). Meant for batches (thousands per call), not per event.
    async fn save_wallet_states(&self, states: &[WalletState]) -> anyhow::Result<()>;
    /// Every saved wallet state, ordered by wallet (its bytes), for
    /// restoring analytics at start. A row that no longer decodes is an error naming it.
    async fn load_wallet_states(&self) -> anyhow::Result<Vec<WalletState>>;
}

/// Short-lived conversational state shared by every instance.
///
/// Contract: values are opaque strings; every key has a TTL and is gone
/// after it; `claim` is an atomic set-if-absent (true for the first caller
/// only, across processes when the backend is shared).
#[async_trait]
pub trait SessionStore: Send + Sync {
    /// The dialogue state of a user in a chat, if any and not expired.
    async fn get_dialogue(&self, chat: ChatRef, user: UserRef) -> anyhow::Result<Option<String>>;
    async fn set_dialogue(
        &self,
        chat: ChatRef,
        user: UserRef,
        state: &str,
        ttl: Duration,
    ) -> anyhow::Result<()>;
    async fn clear_dialogue(&self, chat: ChatRef, user: UserRef) -> anyhow::Result<()>;

    /// Stores a payload too large for callback data; returns a short token
    /// (at most 16 ASCII characters).
    async fn put_callback(&self, payload: &str, ttl: Duration) -> anyhow::Result<String>;
    /// The payload of a token, if it exists and has not expired.
    async fn get_callback(&self, token: &str) -> anyhow::Result<Option<String>>;

    /// Claims a dedup key for `ttl`: `Ok(true)` for the first claim only.
    async fn claim(&self, key: &str, ttl: Duration) -> anyhow::Result<bool>;
}
