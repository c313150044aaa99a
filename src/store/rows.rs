//! Rows as the database returns them, and their conversion into domain
//! values. A stored value that no longer parses is an error naming the row,
//! never a panic.

use anyhow::Context;

use crate::domain::ports::{OutboxMessage, OutboxPayload, UserRecord};
use crate::domain::{
    Address, ChatRef, Fill, Lamports, Locale, Platform, Position, Side, Signature, TokenAmount,
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
    copy_lamports: i64,
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
                copy_lamports: Lamports(amount(self.copy_lamports, "copy_lamports")?),
                created_ms: self.created_ms,
            })
        })()
        .with_context(|| format!("decoding stored user {user}"))
    }
}

#[derive(sqlx::FromRow)]
pub(super) struct FollowRow {
    user_platform: String,
    user_id: i64,
    wallet: String,
}

impl FollowRow {
    pub(super) fn into_domain(self) -> anyhow::Result<(UserRef, Address)> {
        let user = UserRef::new(platform(&self.user_platform)?, self.user_id);
        let wallet = address(&self.wallet, "wallet")
            .with_context(|| format!("decoding a stored follow of {user}"))?;
        Ok((user, wallet))
    }
}

#[derive(sqlx::FromRow)]
pub(super) struct PositionRow {
    user_platform: String,
    user_id: i64,
    leader: String,
    mint: String,
    tokens: i64,
    cost: i64,
    realized_pnl: i64,
    opened_ms: i64,
    updated_ms: i64,
}

impl PositionRow {
    pub(super) fn into_domain(self) -> anyhow::Result<Position> {
        let user = UserRef::new(platform(&self.user_platform)?, self.user_id);
        (|| -> anyhow::Result<Position> {
            Ok(Position {
                user,
                mint: address(&self.mint, "mint")?,
                leader: address(&self.leader, "leader")?,
                tokens: TokenAmount(amount(self.tokens, "tokens")?),
                cost: Lamports(amount(self.cost, "cost")?),
                realized_pnl: self.realized_pnl,
                opened_ms: self.opened_ms,
                updated_ms: self.updated_ms,
            })
        })()
        .with_context(|| format!("decoding a stored position of {user} in {}", self.mint))
    }
}

#[derive(sqlx::FromRow)]
pub(super) struct FillRow {
    id: i64,
    user_platform: String,
    user_id: i64,
    mint: String,
    leader: String,
    leader_signature: String,
    side: String,
    sol: i64,
    tokens: i64,
    fee: i64,
    realized_pnl: i64,
    timestamp_ms: i64,
}

impl FillRow {
    pub(super) fn into_domain(self) -> anyhow::Result<Fill> {
        (|| -> anyhow::Result<Fill> {
            Ok(Fill {
                user: UserRef::new(platform(&self.user_platform)?, self.user_id),
                mint: address(&self.mint, "mint")?,
                leader: address(&self.leader, "leader")?,
                leader_signature: Signature::parse(&self.leader_signature)
                    .context("leader_signature")?,
                side: side(&self.side)?,
                sol: Lamports(amount(self.sol, "sol")?),
                tokens: TokenAmount(amount(self.tokens, "tokens")?),
                fee: Lamports(amount(self.fee, "fee")?),
                realized_pnl: self.realized_pnl,
                timestamp_ms: self.timestamp_ms,
            })
        })()
        .with_context(|| format!("decoding stored fill #{}", self.id))
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
}

impl OutboxRow {
    pub(super) fn into_domain(self) -> anyhow::Result<OutboxMessage> {
        (|| -> anyhow::Result<OutboxMessage> {
            Ok(OutboxMessage {
                id: self.id,
                chat: ChatRef::new(platform(&self.chat_platform)?, self.chat_id),
                user: UserRef::new(platform(&self.user_platform)?, self.user_id),
                payload: serde_json::from_str::<OutboxPayload>(&self.payload).context("payload")?,
                created_ms: self.created_ms,
                attempts: self.attempts,
            })
        })()
        .with_context(|| format!("decoding outbox message #{}", self.id))
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
