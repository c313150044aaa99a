//! Ports: the traits the application core depends on and the adapters
//! implement. Only `app.rs` knows the concrete types.
//!
//! Every port method documents its contract. Errors are `anyhow::Error` with
//! context added by the adapter at each I/O step; domain-level refusals are
//! values, not errors.

use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use super::{
    Address, ChatRef, DecisionRecord, ExitReason, Fill, Follow, IdempotencyKey, Locale, Metric,
    Mint, Mode, NotifyKind, NotifyPrefs, Order, Overrides, Platform, Position, Profile, ProfileId,
    ProfileName, ProfileSettings, RiskEvent, RoundTrip, Signature, SkipReason, Tier, UserRef,
    Verdict, WalletAddress, WalletState, Window,
};

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

/// The most messages of one chat that [`Store::pending`] returns at once.
pub const PENDING_PER_CHAT: u32 = 20;

/// A stored user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserRecord {
    pub user: UserRef,
    pub locale: Locale,
    /// Where private notifications go (the user's private chat).
    pub home_chat: ChatRef,
    /// The profile that `/track` and the leaderboard's follow buttons add
    /// wallets to (the first one when unset).
    pub active_profile: Option<ProfileId>,
    pub notify: NotifyPrefs,
    pub created_ms: i64,
}

/// What one profile did about a followed wallet's trade, for the alert.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CopyNote {
    pub profile_name: String,
    pub mode: Mode,
    /// `Placed` or `Skipped`.
    pub verdict: Verdict,
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
    /// A followed wallet traded, with what each of the user's profiles
    /// following it did.
    Trade {
        alert: super::Alert,
        copies: Vec<CopyNote>,
    },
    /// An order filled (entries, copied sells and exits by rule).
    Fill { fill: Fill, profile_name: String },
    /// An approved order was not executed.
    Rejected {
        order: Order,
        profile_name: String,
        reason: SkipReason,
    },
    /// A position closed; sent for big winners.
    Closed {
        trip: RoundTrip,
        profile_name: String,
    },
    /// A profile's risk state changed.
    Risk {
        profile_name: String,
        event: RiskEvent,
        at_ms: i64,
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
    /// The daily digest: wallets that entered the top of a leaderboard in
    /// the UTC day starting at `day_ms`, best placed first.
    Discoveries {
        day_ms: i64,
        wallets: Vec<Discovered>,
    },
}

/// A wallet new to the top of a leaderboard: the board and its best rank
/// there (1 = first).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Discovered {
    pub wallet: WalletAddress,
    pub metric: Metric,
    pub window: Window,
    pub rank: u32,
}

impl OutboxPayload {
    /// The notification switch that governs it.
    #[must_use]
    pub fn kind(&self) -> NotifyKind {
        match self {
            Self::Trade { .. } => NotifyKind::Alerts,
            Self::Fill { fill, .. } => match fill.reason {
                None | Some(ExitReason::LeaderSold) => NotifyKind::Fills,
                Some(ExitReason::StopLoss) => NotifyKind::StopLosses,
                Some(_) => NotifyKind::Exits,
            },
            Self::Rejected { .. } => NotifyKind::Fills,
            Self::Closed { .. } => NotifyKind::BigWins,
            Self::Risk { .. } => NotifyKind::Risk,
            Self::TierChanged { .. } => NotifyKind::Tiers,
            Self::Discoveries { .. } => NotifyKind::Discoveries,
        }
    }
}

/// A message to queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewMessage {
    pub chat: ChatRef,
    pub user: UserRef,
    pub payload: OutboxPayload,
    /// Deliver without a sound.
    pub silent: bool,
}

/// What is written in the same transaction as an order's settlement (a
/// rejection or a fill): its skip-log entries and its owner's notices. One
/// commit means a reader that sees the order settled also sees why, and a
/// crash cannot keep the settlement and lose the notice.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Aftermath {
    pub decisions: Vec<DecisionRecord>,
    pub notices: Vec<NewMessage>,
    /// When the notices were queued.
    pub now_ms: i64,
}

/// A chat message to delete at a time (an exported key's message).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Expiring {
    pub chat: ChatRef,
    /// The platform's id of the message in that chat.
    pub message_id: i64,
    pub delete_at_ms: i64,
}

/// A message waiting to be delivered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxMessage {
    pub id: i64,
    pub chat: ChatRef,
    pub user: UserRef,
    pub payload: OutboxPayload,
    pub silent: bool,
    pub created_ms: i64,
    pub attempts: i32,
}

/// Where an order stands in the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderStatus {
    /// Recorded (its key claimed), not sent.
    Pending,
    /// A signed transaction was sent (live); the outcome is not recorded.
    Sent,
    Filled,
    Rejected,
}

impl OrderStatus {
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Sent => "sent",
            Self::Filled => "filled",
            Self::Rejected => "rejected",
        }
    }

    #[must_use]
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "pending" => Some(Self::Pending),
            "sent" => Some(Self::Sent),
            "filled" => Some(Self::Filled),
            "rejected" => Some(Self::Rejected),
            _ => None,
        }
    }

    /// Filled or rejected: nothing more will happen to it.
    #[must_use]
    pub const fn is_final(self) -> bool {
        matches!(self, Self::Filled | Self::Rejected)
    }
}

/// The signing wallet's balances before a live order was sent, so the fill
/// can be measured from the chain after a restart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Balances {
    pub lamports: u64,
    pub tokens: u64,
}

/// A stored order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderRecord {
    pub order: Order,
    pub status: OrderStatus,
    /// The last transaction sent for it (live).
    pub tx: Option<Signature>,
    /// How many transactions were sent (a re-quote after an expired
    /// blockhash sends a new one; an old message is never signed again).
    pub sends: u32,
    pub before: Option<Balances>,
    /// Why it was rejected.
    pub reason: Option<SkipReason>,
    pub created_ms: i64,
    pub updated_ms: i64,
}

/// A user's stored wallet key, sealed by the vault.
#[derive(Clone, PartialEq, Eq)]
pub struct KeyRecord {
    pub user: UserRef,
    pub wallet: WalletAddress,
    /// `vault::Sealed` text; opens only for `user`.
    pub sealed: String,
    pub created_ms: i64,
    /// When the secret was last shown to its owner (the time only): a key
    /// never exported may be the only copy of its wallet's key.
    pub exported_ms: Option<i64>,
    /// When it was archived: hidden from the list, still stored.
    pub archived_ms: Option<i64>,
}

impl std::fmt::Debug for KeyRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyRecord")
            .field("user", &self.user)
            .field("wallet", &self.wallet)
            .field("sealed", &format_args!("<{} bytes>", self.sealed.len()))
            .field("created_ms", &self.created_ms)
            .field("exported_ms", &self.exported_ms)
            .field("archived_ms", &self.archived_ms)
            .finish()
    }
}

/// A deleted key kept, still sealed, so its owner can restore it until
/// `purge_at_ms` (a tombstone). `key.archived_ms` is always `None`: a
/// restored key comes back in the list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeletedKey {
    pub key: KeyRecord,
    pub deleted_ms: i64,
    pub purge_at_ms: i64,
}

/// What [`Store::restore_key`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyRestore {
    /// The key is back among the user's keys; its tombstone is gone.
    Restored,
    /// No tombstone of that wallet for that user, or it is past its time.
    Missing,
    /// The user stores that wallet again (imported anew); nothing changed.
    Taken,
}

/// Durable state: users, profiles, follows, orders, fills and positions,
/// closed round trips, the skip log, sealed keys, the outbox and the wallet
/// analytics snapshot.
///
/// Contract: every method is atomic. Users, profiles, follows, open
/// positions and keys require their user (and profile) to be stored first,
/// else the call fails; history (fills, round trips, orders, decisions,
/// outbox rows) outlives profiles and is accepted for any profile id. Idempotency: `insert_orders` claims each
/// order's key once; `record_fill` stores a fill once per order key, with
/// the position after it, the order's status and (when the position closed)
/// its round trip, all in one transaction; a second call with the same key
/// returns `Ok(false)` and changes nothing.
#[async_trait]
pub trait Store: Send + Sync {
    /// Creates the user or updates locale and home chat; keeps the rest of
    /// an existing user. Returns the stored record.
    async fn upsert_user(&self, user: &UserRecord) -> anyhow::Result<UserRecord>;
    async fn get_user(&self, user: UserRef) -> anyhow::Result<Option<UserRecord>>;
    /// Every user, oldest first (the daily digest's recipients).
    async fn all_users(&self) -> anyhow::Result<Vec<UserRecord>>;
    async fn set_active_profile(&self, user: UserRef, profile: ProfileId) -> anyhow::Result<()>;
    async fn set_notify(&self, user: UserRef, prefs: &NotifyPrefs) -> anyhow::Result<()>;

    /// Creates a profile; `Ok(None)` when the user already has one by that
    /// name (names are unique per user, case-insensitively).
    async fn create_profile(
        &self,
        user: UserRef,
        name: &ProfileName,
        settings: &ProfileSettings,
        now_ms: i64,
    ) -> anyhow::Result<Option<Profile>>;
    /// Replaces a profile's name and settings; `Ok(false)` if there is no
    /// such profile, or the name is taken by another of the user's.
    async fn update_profile(
        &self,
        id: ProfileId,
        name: &ProfileName,
        settings: &ProfileSettings,
    ) -> anyhow::Result<bool>;
    /// Deletes a profile and its follows; `Ok(false)` if there was none.
    /// Fills, round trips and decisions stay (history).
    async fn delete_profile(&self, id: ProfileId) -> anyhow::Result<bool>;
    async fn get_profile(&self, id: ProfileId) -> anyhow::Result<Option<Profile>>;
    /// A user's profiles, oldest first.
    async fn profiles_of(&self, user: UserRef) -> anyhow::Result<Vec<Profile>>;
    async fn all_profiles(&self) -> anyhow::Result<Vec<Profile>>;

    /// Adds a wallet to a profile; returns the follow and whether it is new
    /// (an existing follow comes back unchanged).
    async fn add_follow(
        &self,
        profile: ProfileId,
        wallet: WalletAddress,
        now_ms: i64,
    ) -> anyhow::Result<(Follow, bool)>;
    /// Removes a wallet from a profile; `Ok(false)` if it was not there.
    async fn remove_follow(
        &self,
        profile: ProfileId,
        wallet: WalletAddress,
    ) -> anyhow::Result<bool>;
    /// Replaces a follow's overrides; `Ok(false)` if there is no such follow.
    async fn set_follow_overrides(&self, id: i64, overrides: &Overrides) -> anyhow::Result<bool>;
    async fn get_follow(&self, id: i64) -> anyhow::Result<Option<Follow>>;
    /// A user's follows across profiles, oldest first.
    async fn follows_of(&self, user: UserRef) -> anyhow::Result<Vec<Follow>>;
    /// Every follow, for rebuilding the engine at start.
    async fn all_follows(&self) -> anyhow::Result<Vec<Follow>>;

    /// Claims the orders' idempotency keys and stores them as pending, in
    /// one transaction. Returns, per order in input order, whether it is
    /// new (`false`: that key was already stored, by this or an earlier
    /// process, and the order must not be executed again).
    async fn insert_orders(&self, orders: &[Order], now_ms: i64) -> anyhow::Result<Vec<bool>>;
    /// Records the transaction about to be sent for an order (live),
    /// before it is sent, with the wallet's balances before it.
    async fn order_sent(
        &self,
        key: &IdempotencyKey,
        tx: &Signature,
        before: Balances,
        now_ms: i64,
    ) -> anyhow::Result<()>;
    /// Marks an unfinished (pending or sent) order rejected with its
    /// reason; returns whether it did. `false`: no such order, or it was
    /// settled before (a rejection never overwrites a fill, nor an earlier
    /// rejection's reason). A fill marks an order filled through
    /// `record_fill`. `then` is written in the same transaction, and only
    /// when the rejection is.
    async fn reject_order(
        &self,
        key: &IdempotencyKey,
        reason: SkipReason,
        now_ms: i64,
        then: &Aftermath,
    ) -> anyhow::Result<bool>;
    async fn get_order(&self, key: &IdempotencyKey) -> anyhow::Result<Option<OrderRecord>>;
    /// Orders that are pending or sent, oldest first (reconciled at start).
    async fn unfinished_orders(&self) -> anyhow::Result<Vec<OrderRecord>>;

    /// Stores a fill, the position after it (deleted when `tokens` is 0),
    /// the order as filled and the round trip when the position closed (see
    /// the trait contract).
    ///
    /// A settled order is not flipped by a fill that never happened: a
    /// fill without a transaction (paper) on an order stored as rejected
    /// is refused (`Ok(false)`, nothing changed). A fill with a transaction
    /// (live) is recorded even then and marks the order filled: the chain
    /// is the truth (a transaction that confirmed after its order was given
    /// up, e.g. as expired). `then` is written in the same transaction,
    /// and only when the fill is.
    async fn record_fill(
        &self,
        fill: &Fill,
        position_after: &Position,
        closed: Option<&RoundTrip>,
        then: &Aftermath,
    ) -> anyhow::Result<bool>;
    /// Saves the exit state of open positions (trailing peaks and such), in
    /// one batch; positions that closed meanwhile are skipped.
    async fn save_exit_states(&self, positions: &[Position]) -> anyhow::Result<()>;
    /// A user's open positions, oldest first.
    async fn open_positions(&self, user: UserRef) -> anyhow::Result<Vec<Position>>;
    async fn all_open_positions(&self) -> anyhow::Result<Vec<Position>>;
    /// A user's fills, newest first, at most `limit`.
    async fn fills_of(&self, user: UserRef, limit: u32) -> anyhow::Result<Vec<Fill>>;
    /// Every fill at or after `since_ms`, oldest first (restores the day's
    /// risk state).
    async fn fills_since(&self, since_ms: i64) -> anyhow::Result<Vec<Fill>>;
    /// Every (profile, mint) a profile ever bought (first-buy-only).
    async fn entered_mints(&self) -> anyhow::Result<Vec<(ProfileId, Mint)>>;
    /// Round trips closed at or after `since_ms`, oldest first; one
    /// profile's or (`None`) everyone's.
    async fn round_trips(
        &self,
        profile: Option<ProfileId>,
        since_ms: i64,
    ) -> anyhow::Result<Vec<RoundTrip>>;

    /// Appends to the skip log, in one batch.
    async fn log_decisions(&self, records: &[DecisionRecord]) -> anyhow::Result<()>;
    /// A user's latest decisions, newest first, at most `limit`; only those
    /// about a mint or leader when `about` is given.
    async fn decisions_of(
        &self,
        user: UserRef,
        about: Option<Address>,
        limit: u32,
    ) -> anyhow::Result<Vec<DecisionRecord>>;

    /// Stores a sealed key (with its export and archive times as given);
    /// `Ok(false)` if the user already has that wallet. A tombstone of the
    /// same wallet does not stop it (see [`Store::restore_key`]).
    async fn add_key(&self, key: &KeyRecord) -> anyhow::Result<bool>;
    /// One of the user's keys, archived or not (never a deleted one).
    async fn get_key(
        &self,
        user: UserRef,
        wallet: WalletAddress,
    ) -> anyhow::Result<Option<KeyRecord>>;
    /// A user's keys, archived ones included, oldest first.
    async fn keys_of(&self, user: UserRef) -> anyhow::Result<Vec<KeyRecord>>;
    /// Every stored key, archived ones included (not tombstones).
    async fn all_keys(&self) -> anyhow::Result<Vec<KeyRecord>>;
    /// Replaces sealed values (key rotation) of stored keys and of
    /// tombstones, all or none: a key (or tombstone) that is not stored
    /// fails the call, except a tombstone that is gone (purged or
    /// restored meanwhile), which is skipped.
    async fn reseal_keys(&self, keys: &[KeyRecord], deleted: &[KeyRecord]) -> anyhow::Result<()>;
    /// Records that the key was exported at `at_ms`; `Ok(false)` if the
    /// user has no such key.
    async fn mark_key_exported(
        &self,
        user: UserRef,
        wallet: WalletAddress,
        at_ms: i64,
    ) -> anyhow::Result<bool>;
    /// Archives the key (`Some(time)`) or brings it back (`None`);
    /// `Ok(false)` if the user has no such key.
    async fn set_key_archived(
        &self,
        user: UserRef,
        wallet: WalletAddress,
        archived_ms: Option<i64>,
    ) -> anyhow::Result<bool>;
    /// Deletes a key recoverably, in one transaction: it leaves the user's
    /// keys and becomes a tombstone (replacing an older tombstone of the
    /// same wallet) until `purge_at_ms`. `Ok(false)` if the user has no
    /// such key (nothing changed).
    async fn tombstone_key(
        &self,
        user: UserRef,
        wallet: WalletAddress,
        deleted_ms: i64,
        purge_at_ms: i64,
    ) -> anyhow::Result<bool>;
    /// A user's tombstones not yet due at `now_ms`, most recently deleted
    /// first.
    async fn deleted_keys_of(&self, user: UserRef, now_ms: i64) -> anyhow::Result<Vec<DeletedKey>>;
    /// Every tombstone, due or not (key rotation re-seals them too).
    async fn all_deleted_keys(&self) -> anyhow::Result<Vec<DeletedKey>>;
    /// Moves a tombstone not yet due at `now_ms` back among the user's
    /// keys (not archived), in one transaction. Limits are the caller's.
    async fn restore_key(
        &self,
        user: UserRef,
        wallet: WalletAddress,
        now_ms: i64,
    ) -> anyhow::Result<KeyRestore>;
    /// Drops every tombstone due at `now_ms` (`purge_at_ms <= now_ms`);
    /// returns how many. Idempotent, and safe to run from several
    /// processes at once.
    async fn purge_deleted_keys(&self, now_ms: i64) -> anyhow::Result<u64>;

    /// Queues messages in one batch; returns their ids in order.
    async fn enqueue(&self, messages: &[NewMessage], now_ms: i64) -> anyhow::Result<Vec<i64>>;
    /// Unsent messages, oldest first, at most `limit`, and at most
    /// [`PENDING_PER_CHAT`] of any one chat (the oldest), so a chat that
    /// cannot take messages now does not hide the others'.
    async fn pending(&self, limit: u32) -> anyhow::Result<Vec<OutboxMessage>>;
    async fn mark_sent(&self, id: i64, now_ms: i64) -> anyhow::Result<()>;
    /// Records a failed attempt; after `give_up_after` attempts the message
    /// is parked (never returned by `pending` again) with the error text.
    async fn mark_failed(&self, id: i64, error: &str, give_up_after: i32) -> anyhow::Result<()>;

    /// Records a message to delete at its time (kept across restarts);
    /// recording the same message again moves its time.
    async fn add_expiring(&self, message: &Expiring) -> anyhow::Result<()>;
    /// A platform's messages due for deletion at `now_ms`, most overdue
    /// first, at most `limit`.
    async fn expiring_due(
        &self,
        platform: Platform,
        now_ms: i64,
        limit: u32,
    ) -> anyhow::Result<Vec<Expiring>>;
    /// Forgets a message (deleted, or past deleting).
    async fn remove_expiring(&self, chat: ChatRef, message_id: i64) -> anyhow::Result<()>;

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

/// What the chat shows of the chain (a wallet's balance); the live
/// executor's RPC node implements it.
#[async_trait]
pub trait ChainView: Send + Sync {
    /// The wallet's SOL balance.
    async fn balance(&self, wallet: WalletAddress) -> anyhow::Result<super::Lamports>;
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
