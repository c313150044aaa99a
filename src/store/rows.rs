//! Rows as the database returns them, and their conversion into domain
//! values. A stored value that no longer parses is an error naming the row,
//! never a panic.

use anyhow::Context;

use crate::domain::ports::{
    DeletedKey, Expiring, KeyRecord, OrderRecord, OrderStatus, OutboxMessage, OutboxPayload,
    UserRecord,
};
use crate::domain::{
    Address, ChatRef, DecisionRecord, Fill, Follow, IdempotencyKey, Lamports, Locale, Mode,
    Platform, Position, Profile, ProfileId, ProfileName, RoundTrip, Side, Signature, TokenAmount,
    UserRef,
};
use crate::engine::analytics::WalletState;

#[derive(sqlx::FromRow)]
pub(super) struct UserRow {
    platform: String,
    user_id: i64,
    locale: String,
    home_chat_platform: String,
    home_chat_id: i64,
    active_profile: Option<i64>,
    notify: String,
    created_ms: i64,
}

impl UserRow {
    pub(super) fn into_domain(self) -> anyhow::Result<UserRecord> {
        let user = UserRef::new(platform(&self.platform)?, self.user_id);
        (|| -> anyhow::Result<UserRecord> {
            Ok(UserRecord {
                user,
                locale: Locale::parse(&self.locale)?,
                home_chat: ChatRef::new(platform(&self.home_chat_platform)?, self.home_chat_id),
                active_profile: self.active_profile.map(ProfileId),
                notify: json(&self.notify, "notify")?,
                created_ms: self.created_ms,
            })
        })()
        .with_context(|| format!("decoding stored user {user}"))
    }
}

#[derive(sqlx::FromRow)]
pub(super) struct ProfileRow {
    id: i64,
    user_platform: String,
    user_id: i64,
    name: String,
    settings: String,
    created_ms: i64,
}

impl ProfileRow {
    pub(super) fn into_domain(self) -> anyhow::Result<Profile> {
        (|| -> anyhow::Result<Profile> {
            Ok(Profile {
                id: ProfileId(self.id),
                user: UserRef::new(platform(&self.user_platform)?, self.user_id),
                name: ProfileName::parse(&self.name).context("name")?,
                settings: json(&self.settings, "settings")?,
                created_ms: self.created_ms,
            })
        })()
        .with_context(|| format!("decoding stored profile #{}", self.id))
    }
}

#[derive(sqlx::FromRow)]
pub(super) struct FollowRow {
    id: i64,
    profile_id: i64,
    user_platform: String,
    user_id: i64,
    wallet: String,
    overrides: String,
    created_ms: i64,
}

impl FollowRow {
    pub(super) fn into_domain(self) -> anyhow::Result<Follow> {
        (|| -> anyhow::Result<Follow> {
            Ok(Follow {
                id: self.id,
                profile: ProfileId(self.profile_id),
                user: UserRef::new(platform(&self.user_platform)?, self.user_id),
                wallet: address(&self.wallet, "wallet")?,
                overrides: json(&self.overrides, "overrides")?,
                created_ms: self.created_ms,
            })
        })()
        .with_context(|| format!("decoding stored follow #{}", self.id))
    }
}

#[derive(sqlx::FromRow)]
pub(super) struct PositionRow {
    profile_id: i64,
    user_platform: String,
    user_id: i64,
    leader: String,
    mint: String,
    mode: String,
    tokens: i64,
    cost: i64,
    realized_pnl: i64,
    bought_sol: i64,
    bought_tokens: i64,
    sold_sol: i64,
    opened_ms: i64,
    updated_ms: i64,
    exit_state: String,
}

impl PositionRow {
    pub(super) fn into_domain(self) -> anyhow::Result<Position> {
        (|| -> anyhow::Result<Position> {
            Ok(Position {
                profile: ProfileId(self.profile_id),
                user: UserRef::new(platform(&self.user_platform)?, self.user_id),
                mint: address(&self.mint, "mint")?,
                leader: address(&self.leader, "leader")?,
                mode: mode(&self.mode)?,
                tokens: TokenAmount(amount(self.tokens, "tokens")?),
                cost: Lamports(amount(self.cost, "cost")?),
                realized_pnl: self.realized_pnl,
                bought_sol: Lamports(amount(self.bought_sol, "bought_sol")?),
                bought_tokens: TokenAmount(amount(self.bought_tokens, "bought_tokens")?),
                sold_sol: Lamports(amount(self.sold_sol, "sold_sol")?),
                opened_ms: self.opened_ms,
                updated_ms: self.updated_ms,
                exit: json(&self.exit_state, "exit_state")?,
            })
        })()
        .with_context(|| {
            format!(
                "decoding the stored position of profile #{} in {}",
                self.profile_id, self.mint
            )
        })
    }
}

#[derive(sqlx::FromRow)]
pub(super) struct FillRow {
    id: i64,
    order_key: String,
    profile_id: i64,
    user_platform: String,
    user_id: i64,
    mint: String,
    leader: String,
    side: String,
    mode: String,
    sol: i64,
    tokens: i64,
    fee: i64,
    realized_pnl: i64,
    reason: Option<String>,
    tx: Option<String>,
    timestamp_ms: i64,
}

impl FillRow {
    pub(super) fn into_domain(self) -> anyhow::Result<Fill> {
        (|| -> anyhow::Result<Fill> {
            Ok(Fill {
                profile: ProfileId(self.profile_id),
                user: UserRef::new(platform(&self.user_platform)?, self.user_id),
                mint: address(&self.mint, "mint")?,
                leader: address(&self.leader, "leader")?,
                key: IdempotencyKey::from_stored(self.order_key.clone()),
                side: side(&self.side)?,
                mode: mode(&self.mode)?,
                sol: Lamports(amount(self.sol, "sol")?),
                tokens: TokenAmount(amount(self.tokens, "tokens")?),
                fee: Lamports(amount(self.fee, "fee")?),
                realized_pnl: self.realized_pnl,
                reason: self
                    .reason
                    .as_deref()
                    .map(|r| json(r, "reason"))
                    .transpose()?,
                tx: self
                    .tx
                    .as_deref()
                    .map(|t| Signature::parse(t).context("tx"))
                    .transpose()?,
                timestamp_ms: self.timestamp_ms,
            })
        })()
        .with_context(|| format!("decoding stored fill #{}", self.id))
    }
}

#[derive(sqlx::FromRow)]
pub(super) struct OrderRow {
    order_key: String,
    body: String,
    status: String,
    tx: Option<String>,
    sends: i64,
    balances: Option<String>,
    reason: Option<String>,
    created_ms: i64,
    updated_ms: i64,
}

impl OrderRow {
    pub(super) fn into_domain(self) -> anyhow::Result<OrderRecord> {
        (|| -> anyhow::Result<OrderRecord> {
            Ok(OrderRecord {
                order: json(&self.body, "body")?,
                status: OrderStatus::parse(&self.status)
                    .with_context(|| format!("unknown status {:?}", self.status))?,
                tx: self
                    .tx
                    .as_deref()
                    .map(|t| Signature::parse(t).context("tx"))
                    .transpose()?,
                sends: u32::try_from(self.sends).context("sends")?,
                before: self
                    .balances
                    .as_deref()
                    .map(|b| json(b, "balances"))
                    .transpose()?,
                reason: self
                    .reason
                    .as_deref()
                    .map(|r| json(r, "reason"))
                    .transpose()?,
                created_ms: self.created_ms,
                updated_ms: self.updated_ms,
            })
        })()
        .with_context(|| format!("decoding stored order {}", self.order_key))
    }
}

#[derive(sqlx::FromRow)]
pub(super) struct RoundTripRow {
    id: i64,
    profile_id: i64,
    user_platform: String,
    user_id: i64,
    leader: String,
    mint: String,
    mode: String,
    opened_ms: i64,
    closed_ms: i64,
    cost: i64,
    proceeds: i64,
    pnl: i64,
    exit: String,
}

impl RoundTripRow {
    pub(super) fn into_domain(self) -> anyhow::Result<RoundTrip> {
        (|| -> anyhow::Result<RoundTrip> {
            Ok(RoundTrip {
                profile: ProfileId(self.profile_id),
                user: UserRef::new(platform(&self.user_platform)?, self.user_id),
                leader: address(&self.leader, "leader")?,
                mint: address(&self.mint, "mint")?,
                mode: mode(&self.mode)?,
                opened_ms: self.opened_ms,
                closed_ms: self.closed_ms,
                cost: Lamports(amount(self.cost, "cost")?),
                proceeds: Lamports(amount(self.proceeds, "proceeds")?),
                pnl: self.pnl,
                exit: json(&self.exit, "exit")?,
            })
        })()
        .with_context(|| format!("decoding stored round trip #{}", self.id))
    }
}

#[derive(sqlx::FromRow)]
pub(super) struct DecisionRow {
    id: i64,
    profile_id: i64,
    user_platform: String,
    user_id: i64,
    leader: String,
    mint: String,
    side: String,
    signature: Option<String>,
    at_ms: i64,
    verdict: String,
}

impl DecisionRow {
    pub(super) fn into_domain(self) -> anyhow::Result<DecisionRecord> {
        (|| -> anyhow::Result<DecisionRecord> {
            Ok(DecisionRecord {
                profile: ProfileId(self.profile_id),
                user: UserRef::new(platform(&self.user_platform)?, self.user_id),
                leader: address(&self.leader, "leader")?,
                mint: address(&self.mint, "mint")?,
                side: side(&self.side)?,
                signature: self
                    .signature
                    .as_deref()
                    .map(|t| Signature::parse(t).context("signature"))
                    .transpose()?,
                at_ms: self.at_ms,
                verdict: json(&self.verdict, "verdict")?,
            })
        })()
        .with_context(|| format!("decoding stored decision #{}", self.id))
    }
}

#[derive(sqlx::FromRow)]
pub(super) struct KeyRow {
    user_platform: String,
    user_id: i64,
    wallet: String,
    sealed: String,
    created_ms: i64,
    exported_ms: Option<i64>,
    archived_ms: Option<i64>,
}

impl KeyRow {
    pub(super) fn into_domain(self) -> anyhow::Result<KeyRecord> {
        (|| -> anyhow::Result<KeyRecord> {
            Ok(KeyRecord {
                user: UserRef::new(platform(&self.user_platform)?, self.user_id),
                wallet: address(&self.wallet, "wallet")?,
                sealed: self.sealed.clone(),
                created_ms: self.created_ms,
                exported_ms: self.exported_ms,
                archived_ms: self.archived_ms,
            })
        })()
        .with_context(|| format!("decoding the stored key of {}", self.wallet))
    }
}

#[derive(sqlx::FromRow)]
pub(super) struct DeletedKeyRow {
    user_platform: String,
    user_id: i64,
    wallet: String,
    sealed: String,
    created_ms: i64,
    exported_ms: Option<i64>,
    deleted_ms: i64,
    purge_at_ms: i64,
}

impl DeletedKeyRow {
    pub(super) fn into_domain(self) -> anyhow::Result<DeletedKey> {
        (|| -> anyhow::Result<DeletedKey> {
            Ok(DeletedKey {
                key: KeyRecord {
                    user: UserRef::new(platform(&self.user_platform)?, self.user_id),
                    wallet: address(&self.wallet, "wallet")?,
                    sealed: self.sealed.clone(),
                    created_ms: self.created_ms,
                    exported_ms: self.exported_ms,
                    archived_ms: None,
                },
                deleted_ms: self.deleted_ms,
                purge_at_ms: self.purge_at_ms,
            })
        })()
        .with_context(|| format!("decoding the deleted key of {}", self.wallet))
    }
}

#[derive(sqlx::FromRow)]
pub(super) struct OutboxRow {
    pub(super) id: i64,
    chat_platform: String,
    chat_id: i64,
    user_platform: String,
    user_id: i64,
    payload: String,
    created_ms: i64,
    attempts: i32,
    silent: bool,
}

impl OutboxRow {
    pub(super) fn into_domain(self) -> anyhow::Result<OutboxMessage> {
        (|| -> anyhow::Result<OutboxMessage> {
            Ok(OutboxMessage {
                id: self.id,
                chat: ChatRef::new(platform(&self.chat_platform)?, self.chat_id),
                user: UserRef::new(platform(&self.user_platform)?, self.user_id),
                payload: serde_json::from_str::<OutboxPayload>(&self.payload).context("payload")?,
                silent: self.silent,
                created_ms: self.created_ms,
                attempts: self.attempts,
            })
        })()
        .with_context(|| format!("decoding outbox message #{}", self.id))
    }
}

#[derive(sqlx::FromRow)]
pub(super) struct ExpiringRow {
    chat_platform: String,
    chat_id: i64,
    message_id: i64,
    delete_at_ms: i64,
}

impl ExpiringRow {
    pub(super) fn into_domain(self) -> anyhow::Result<Expiring> {
        Ok(Expiring {
            chat: ChatRef::new(
                platform(&self.chat_platform)
                    .with_context(|| format!("decoding expiring message {}", self.message_id))?,
                self.chat_id,
            ),
            message_id: self.message_id,
            delete_at_ms: self.delete_at_ms,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(super) struct WalletStateRow {
    wallet: String,
    last_ms: i64,
    data: String,
}

impl WalletStateRow {
    pub(super) fn into_domain(self) -> anyhow::Result<WalletState> {
        (|| -> anyhow::Result<WalletState> {
            Ok(WalletState {
                wallet: address(&self.wallet, "wallet")?,
                last_ms: self.last_ms,
                data: serde_json::from_str(&self.data).context("data is not JSON")?,
            })
        })()
        .with_context(|| format!("decoding the stored analytics state of {}", self.wallet))
    }
}

fn platform(s: &str) -> anyhow::Result<Platform> {
    Platform::parse(s).with_context(|| format!("unknown platform {s:?}"))
}

fn address(s: &str, what: &str) -> anyhow::Result<Address> {
    Address::parse(s).with_context(|| format!("{what} {s:?}"))
}

fn json<T: serde::de::DeserializeOwned>(s: &str, what: &str) -> anyhow::Result<T> {
    serde_json::from_str(s).with_context(|| format!("{what} is not valid JSON for its type"))
}

fn mode(s: &str) -> anyhow::Result<Mode> {
    match s {
        "paper" => Ok(Mode::Paper),
        "live" => Ok(Mode::Live),
        _ => anyhow::bail!("unknown mode {s:?}"),
    }
}

fn side(s: &str) -> anyhow::Result<Side> {
    match s {
        "buy" => Ok(Side::Buy),
        "sell" => Ok(Side::Sell),
        _ => anyhow::bail!("unknown side {s:?}"),
    }
}

/// A non-negative integer column back into an unsigned amount.
fn amount(v: i64, what: &str) -> anyhow::Result<u64> {
    u64::try_from(v).with_context(|| format!("{what} is negative ({v})"))
}

/// An unsigned amount into a BIGINT column (every real amount fits).
pub(super) fn column(v: u64, what: &str) -> anyhow::Result<i64> {
    i64::try_from(v).with_context(|| format!("{what} {v} does not fit a BIGINT column"))
}
