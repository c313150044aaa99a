//! Durable state behind the [`Store`] port: users, follows, paper positions
//! and fills, the delivery outbox and the wallet analytics snapshot, kept in
//! SQLite or Postgres with sqlx.
//!
//! This is the only module with SQL. Both backends run the same statements
//! (`$N` placeholders, `ON CONFLICT`, `RETURNING` mean the same in both);
//! only the schema in `migrations/sqlite` and `migrations/postgres` differs
//! where the dialects force it. Queries bind at runtime (no `query!`
//! macros), so building needs no database; both migration sets are embedded
//! and the one matching the URL runs at [`connect`].
//!
//! Domain values go in as their canonical text or integers and come back
//! through their parsers, so a corrupted row is an error naming the row, not
//! a wrong value. Nothing else in the crate may import sqlx; `app.rs` builds
//! a [`SqlStore`] and hands it out as `dyn Store`.

mod rows;

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use anyhow::{Context, bail, ensure};
use async_trait::async_trait;
use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

use crate::domain::ports::{OutboxMessage, OutboxPayload, Store, UserRecord};
use crate::domain::{ChatRef, Fill, Mint, Position, UserRef, WalletAddress};
use crate::engine::analytics::WalletState;

use rows::{FillRow, FollowRow, OutboxRow, PositionRow, UserRow, WalletStateRow, column};

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/postgres");

/// How long a SQLite writer waits for the lock before failing.
const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a caller waits for a pooled connection.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(10);
const POSTGRES_MAX_CONNECTIONS: u32 = 10;
/// Longest delivery error kept on an outbox row (chat APIs can be verbose).
const MAX_ERROR_CHARS: usize = 1000;
/// Rows per multi-row upsert of wallet states: 3 binds each, far below
/// SQLite's 32 766 and Postgres' 65 535 bound parameters per statement.
const WALLET_STATES_PER_STATEMENT: usize = 1000;

/// The database behind a [`SqlStore`], chosen by the URL scheme.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// `sqlite:` → SQLite; `postgres:` or `postgresql:` → Postgres.
    pub fn from_url(database_url: &str) -> anyhow::Result<Self> {
        let scheme = database_url
            .split_once(':')
            .map(|(scheme, _)| scheme.to_ascii_lowercase())
            .unwrap_or_default();
        match scheme.as_str() {
            "sqlite" => Ok(Self::Sqlite),
            "postgres" | "postgresql" => Ok(Self::Postgres),
            _ => bail!(
                "unsupported database URL scheme {scheme:?}: expected sqlite://… or postgres://…"
            ),
        }
    }

    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Sqlite => "sqlite",
            Self::Postgres => "postgres",
        }
    }
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The [`Store`] implementation for both backends. Cheap to clone (a pool
/// handle).
#[derive(Clone)]
pub struct SqlStore {
    pool: Pool,
}

#[derive(Clone)]
enum Pool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// Not derived: the pools' `Debug` prints connect options, password included.
impl fmt::Debug for SqlStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SqlStore")
            .field("backend", &self.backend())
            .finish_non_exhaustive()
    }
}

/// Runs `$body` with `$pool` bound to whichever typed pool the store holds.
/// The body is written once and compiled once per backend, which keeps one
/// copy of every statement without the `Any` driver (that one would lose
/// SQLite's connect options and native Postgres types).
macro_rules! with_pool {
    ($store:expr, $pool:ident => $body:expr) => {
        match &$store.pool {
            Pool::Sqlite($pool) => $body,
            Pool::Postgres($pool) => $body,
        }
    };
}

/// Opens the database at `database_url` and brings its schema up to date.
///
/// SQLite: the file (and its directory) is created if missing; connections
/// use WAL, `synchronous = NORMAL`, foreign keys and a busy timeout.
/// Postgres: a pool of up to ten connections. Errors name the database with
/// its password and query string removed.
pub async fn connect(database_url: &str) -> anyhow::Result<SqlStore> {
    let store = open(database_url).await?;
    store.run_migrations().await?;
    Ok(store)
}

/// Applies pending migrations and closes the pool (`alfabot migrate`).
pub async fn migrate(database_url: &str) -> anyhow::Result<()> {
    let store = connect(database_url).await?;
    store.close().await;
    Ok(())
}

async fn open(database_url: &str) -> anyhow::Result<SqlStore> {
    let shown = redact(database_url);
    let pool = match Backend::from_url(database_url)? {
        Backend::Sqlite => {
            let options = SqliteConnectOptions::from_str(database_url)
                .with_context(|| format!("parsing the SQLite URL {shown}"))?
                .create_if_missing(true)
                .foreign_keys(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .busy_timeout(SQLITE_BUSY_TIMEOUT);
            let in_memory =
                database_url.contains(":memory:") || database_url.contains("mode=memory");
            let mut pool = SqlitePoolOptions::new().acquire_timeout(ACQUIRE_TIMEOUT);
            if in_memory {
                // An in-memory database lives as long as its last connection.
                pool = pool
                    .max_connections(1)
                    .idle_timeout(None)
                    .max_lifetime(None);
            } else if let Some(dir) = options
                .get_filename()
                .parent()
                .filter(|d| !d.as_os_str().is_empty())
            {
                tokio::fs::create_dir_all(dir)
                    .await
                    .with_context(|| format!("creating the directory {}", dir.display()))?;
            }
            Pool::Sqlite(
                pool.connect_with(options)
                    .await
                    .with_context(|| format!("opening the SQLite database {shown}"))?,
            )
        }
        Backend::Postgres => {
            let options = PgConnectOptions::from_str(database_url)
                .with_context(|| format!("parsing the Postgres URL {shown}"))?;
            Pool::Postgres(
                PgPoolOptions::new()
                    .max_connections(POSTGRES_MAX_CONNECTIONS)
                    .acquire_timeout(ACQUIRE_TIMEOUT)
                    .connect_with(options)
                    .await
                    .with_context(|| format!("connecting to Postgres at {shown}"))?,
            )
        }
    };
    Ok(SqlStore { pool })
}

/// The URL without password or query string, for messages and logs.
fn redact(database_url: &str) -> String {
    match url::Url::parse(database_url) {
        Ok(mut url) => {
            // Fails only for URLs without an authority, which have no password.
            let _ = url.set_password(None);
            url.set_query(None);
            url.to_string()
        }
        Err(_) => format!("<a {} URL>", database_url.split(':').next().unwrap_or("")),
    }
}

impl SqlStore {
    #[must_use]
    pub const fn backend(&self) -> Backend {
        match self.pool {
            Pool::Sqlite(_) => Backend::Sqlite,
            Pool::Postgres(_) => Backend::Postgres,
        }
    }

    /// A round trip to the database, for health checks.
    pub async fn ping(&self) -> anyhow::Result<()> {
        with_pool!(self, pool => sqlx::query("SELECT 1").execute(pool).await.map(|_| ()))
            .with_context(|| format!("pinging the {} database", self.backend()))?;
        Ok(())
    }

    /// Waits for checked-out connections to return, then closes the pool.
    pub async fn close(&self) {
        with_pool!(self, pool => pool.close().await);
    }

    async fn run_migrations(&self) -> anyhow::Result<()> {
        match &self.pool {
            Pool::Sqlite(pool) => SQLITE_MIGRATIONS.run(pool).await,
            Pool::Postgres(pool) => POSTGRES_MIGRATIONS.run(pool).await,
        }
        .with_context(|| format!("running the {} migrations", self.backend()))
    }

    /// Parks an outbox row that can no longer be delivered.
    async fn park(&self, id: i64, reason: &str) -> anyhow::Result<()> {
        with_pool!(self, pool => {
            sqlx::query("UPDATE outbox SET parked = TRUE, last_error = $2 WHERE id = $1")
                .bind(id)
                .bind(truncate(reason, MAX_ERROR_CHARS))
                .execute(pool)
                .await
                .map(|done| done.rows_affected())
        })
        .with_context(|| format!("parking outbox message #{id}"))?;
        Ok(())
    }
}

/// Turns a foreign-key violation on a user's row into the mistake it means.
fn user_must_exist(err: sqlx::Error, user: UserRef) -> anyhow::Error {
    let missing_user = matches!(&err, sqlx::Error::Database(db) if db.is_foreign_key_violation());
    let err = anyhow::Error::new(err);
    if missing_user {
        err.context(format!(
            "user {user} is not stored: upsert_user must come first"
        ))
    } else {
        err
    }
}

fn truncate(s: &str, max_chars: usize) -> &str {
    s.char_indices()
        .nth(max_chars)
        .map_or(s, |(end, _)| &s[..end])
}

#[async_trait]
impl Store for SqlStore {
    async fn upsert_user(&self, user: &UserRecord) -> anyhow::Result<UserRecord> {
        let copy_lamports = column(user.copy_lamports.0, "copy_lamports")?;
        let row: UserRow = with_pool!(self, pool => {
            sqlx::query_as(
                "INSERT INTO users
                     (platform, user_id, locale, home_chat_platform, home_chat_id,
                      copy_lamports, created_ms)
                 VALUES ($1, $2, $3, $4, $5, $6, $7)
                 ON CONFLICT (platform, user_id) DO UPDATE SET
                     locale = excluded.locale,
                     home_chat_platform = excluded.home_chat_platform,
                     home_chat_id = excluded.home_chat_id
                 RETURNING platform, user_id, locale, home_chat_platform, home_chat_id,
                           copy_lamports, created_ms",
            )
            .bind(user.user.platform.as_str())
            .bind(user.user.id)
            .bind(user.locale.code())
            .bind(user.home_chat.platform.as_str())
            .bind(user.home_chat.id)
            .bind(copy_lamports)
            .bind(user.created_ms)
            .fetch_one(pool)
            .await
        })
        .with_context(|| format!("upserting user {}", user.user))?;
        row.into_domain()
    }

    async fn get_user(&self, user: UserRef) -> anyhow::Result<Option<UserRecord>> {
        let row: Option<UserRow> = with_pool!(self, pool => {
            sqlx::query_as(
                "SELECT platform, user_id, locale, home_chat_platform, home_chat_id,
                        copy_lamports, created_ms
                 FROM users WHERE platform = $1 AND user_id = $2",
            )
            .bind(user.platform.as_str())
            .bind(user.id)
            .fetch_optional(pool)
            .await
        })
        .with_context(|| format!("reading user {user}"))?;
        row.map(UserRow::into_domain).transpose()
    }

    async fn add_follow(
        &self,
        user: UserRef,
        wallet: WalletAddress,
        now_ms: i64,
    ) -> anyhow::Result<bool> {
        let done = with_pool!(self, pool => {
            sqlx::query(
                "INSERT INTO follows (user_platform, user_id, wallet, created_ms)
                 VALUES ($1, $2, $3, $4)
                 ON CONFLICT (user_platform, user_id, wallet) DO NOTHING",
            )
            .bind(user.platform.as_str())
            .bind(user.id)
            .bind(wallet.to_string())
            .bind(now_ms)
            .execute(pool)
            .await
            .map(|done| done.rows_affected())
        })
        .map_err(|e| user_must_exist(e, user))
        .with_context(|| format!("adding the follow of {wallet} by {user}"))?;
        Ok(done == 1)
    }

    async fn remove_follow(&self, user: UserRef, wallet: WalletAddress) -> anyhow::Result<bool> {
        let done = with_pool!(self, pool => {
            sqlx::query(
                "DELETE FROM follows WHERE user_platform = $1 AND user_id = $2 AND wallet = $3",
            )
            .bind(user.platform.as_str())
            .bind(user.id)
            .bind(wallet.to_string())
            .execute(pool)
            .await
            .map(|done| done.rows_affected())
        })
        .with_context(|| format!("removing the follow of {wallet} by {user}"))?;
        Ok(done > 0)
    }

    async fn follows_of(&self, user: UserRef) -> anyhow::Result<Vec<WalletAddress>> {
        let rows: Vec<FollowRow> = with_pool!(self, pool => {
            sqlx::query_as(
                "SELECT user_platform, user_id, wallet FROM follows
                 WHERE user_platform = $1 AND user_id = $2
                 ORDER BY created_ms, id",
            )
            .bind(user.platform.as_str())
            .bind(user.id)
            .fetch_all(pool)
            .await
        })
        .with_context(|| format!("reading the follows of {user}"))?;
        rows.into_iter()
            .map(|row| row.into_domain().map(|(_, wallet)| wallet))
            .collect()
    }

    async fn all_follows(&self) -> anyhow::Result<Vec<(UserRef, WalletAddress)>> {
        let rows: Vec<FollowRow> = with_pool!(self, pool => {
            sqlx::query_as(
                "SELECT user_platform, user_id, wallet FROM follows
                 ORDER BY user_platform, user_id, created_ms, id",
            )
            .fetch_all(pool)
            .await
        })
        .context("reading all follows")?;
        rows.into_iter().map(FollowRow::into_domain).collect()
    }

    async fn record_fill(&self, fill: &Fill, position_after: &Position) -> anyhow::Result<bool> {
        ensure!(
            (
                position_after.user,
                position_after.leader,
                position_after.mint
            ) == (fill.user, fill.leader, fill.mint),
            "the position after a fill must be the fill's own (user, leader, mint): \
             fill {}/{}/{}, position {}/{}/{}",
            fill.user,
            fill.leader,
            fill.mint,
            position_after.user,
            position_after.leader,
            position_after.mint,
        );
        let key = PositionKey {
            user: fill.user,
            leader: fill.leader,
            mint: fill.mint,
        };
        let (sol, tokens, fee) = (
            column(fill.sol.0, "sol")?,
            column(fill.tokens.0, "tokens")?,
            column(fill.fee.0, "fee")?,
        );
        let (position_tokens, position_cost) = (
            column(position_after.tokens.0, "position tokens")?,
            column(position_after.cost.0, "position cost")?,
        );
        let inserted = with_pool!(self, pool => async {
            let mut tx = pool.begin().await.context("starting a transaction")?;
            let done = sqlx::query(
                "INSERT INTO fills
                     (user_platform, user_id, mint, leader, leader_signature, side,
                      sol, tokens, fee, realized_pnl, timestamp_ms)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
                 ON CONFLICT (user_platform, user_id, leader_signature, side) DO NOTHING",
            )
            .bind(key.user.platform.as_str())
            .bind(key.user.id)
            .bind(key.mint.to_string())
            .bind(key.leader.to_string())
            .bind(fill.leader_signature.as_str())
            .bind(fill.side.as_str())
            .bind(sol)
            .bind(tokens)
            .bind(fee)
            .bind(fill.realized_pnl)
            .bind(fill.timestamp_ms)
            .execute(&mut *tx)
            .await
            .map_err(|e| user_must_exist(e, key.user))
            .context("inserting the fill")?;
            if done.rows_affected() == 0 {
                // Already recorded: leave the position as that first call left it.
                tx.rollback().await.context("ending the transaction")?;
                return anyhow::Ok(false);
            }
            if position_after.tokens.0 == 0 {
                sqlx::query(
                    "DELETE FROM positions
                     WHERE user_platform = $1 AND user_id = $2 AND leader = $3 AND mint = $4",
                )
                .bind(key.user.platform.as_str())
                .bind(key.user.id)
                .bind(key.leader.to_string())
                .bind(key.mint.to_string())
                .execute(&mut *tx)
                .await
                .context("deleting the closed position")?;
            } else {
                sqlx::query(
                    "INSERT INTO positions
                         (user_platform, user_id, leader, mint, tokens, cost, realized_pnl,
                          opened_ms, updated_ms)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
                     ON CONFLICT (user_platform, user_id, leader, mint) DO UPDATE SET
                         tokens = excluded.tokens,
                         cost = excluded.cost,
                         realized_pnl = excluded.realized_pnl,
                         opened_ms = excluded.opened_ms,
                         updated_ms = excluded.updated_ms",
                )
                .bind(key.user.platform.as_str())
                .bind(key.user.id)
                .bind(key.leader.to_string())
                .bind(key.mint.to_string())
                .bind(position_tokens)
                .bind(position_cost)
                .bind(position_after.realized_pnl)
                .bind(position_after.opened_ms)
                .bind(position_after.updated_ms)
                .execute(&mut *tx)
                .await
                .context("writing the position")?;
            }
            tx.commit().await.context("committing")?;
            anyhow::Ok(true)
        }
        .await)
        .with_context(|| {
            format!(
                "recording the {} fill of {} in {} copying {}",
                fill.side.as_str(),
                fill.user,
                fill.mint,
                fill.leader_signature
            )
        })?;
        Ok(inserted)
    }

    async fn open_positions(&self, user: UserRef) -> anyhow::Result<Vec<Position>> {
        let rows: Vec<PositionRow> = with_pool!(self, pool => {
            sqlx::query_as(
                "SELECT user_platform, user_id, leader, mint, tokens, cost, realized_pnl,
                        opened_ms, updated_ms
                 FROM positions WHERE user_platform = $1 AND user_id = $2
                 ORDER BY opened_ms, leader, mint",
            )
            .bind(user.platform.as_str())
            .bind(user.id)
            .fetch_all(pool)
            .await
        })
        .with_context(|| format!("reading the open positions of {user}"))?;
        rows.into_iter().map(PositionRow::into_domain).collect()
    }

    async fn all_open_positions(&self) -> anyhow::Result<Vec<Position>> {
        let rows: Vec<PositionRow> = with_pool!(self, pool => {
            sqlx::query_as(
                "SELECT user_platform, user_id, leader, mint, tokens, cost, realized_pnl,
                        opened_ms, updated_ms
                 FROM positions
                 ORDER BY user_platform, user_id, opened_ms, leader, mint",
            )
            .fetch_all(pool)
            .await
        })
        .context("reading all open positions")?;
        rows.into_iter().map(PositionRow::into_domain).collect()
    }

    async fn fills_of(&self, user: UserRef, limit: u32) -> anyhow::Result<Vec<Fill>> {
        let rows: Vec<FillRow> = with_pool!(self, pool => {
            sqlx::query_as(
                "SELECT id, user_platform, user_id, mint, leader, leader_signature, side,
                        sol, tokens, fee, realized_pnl, timestamp_ms
                 FROM fills WHERE user_platform = $1 AND user_id = $2
                 ORDER BY timestamp_ms DESC, id DESC
                 LIMIT $3",
            )
            .bind(user.platform.as_str())
            .bind(user.id)
            .bind(i64::from(limit))
            .fetch_all(pool)
            .await
        })
        .with_context(|| format!("reading the fills of {user}"))?;
        rows.into_iter().map(FillRow::into_domain).collect()
    }

    async fn enqueue(
        &self,
        chat: ChatRef,
        user: UserRef,
        payload: &OutboxPayload,
        now_ms: i64,
    ) -> anyhow::Result<i64> {
        let json = serde_json::to_string(payload).context("serializing an outbox payload")?;
        let id: i64 = with_pool!(self, pool => {
            sqlx::query_scalar(
                "INSERT INTO outbox
                     (chat_platform, chat_id, user_platform, user_id, payload, created_ms)
                 VALUES ($1, $2, $3, $4, $5, $6)
                 RETURNING id",
            )
            .bind(chat.platform.as_str())
            .bind(chat.id)
            .bind(user.platform.as_str())
            .bind(user.id)
            .bind(&json)
            .bind(now_ms)
            .fetch_one(pool)
            .await
        })
        .with_context(|| format!("queueing a message to {chat} for {user}"))?;
        Ok(id)
    }

    /// Rows that no longer decode (a payload from an incompatible version)
    /// are parked with the reason and logged, so one bad row cannot block
    /// delivery; the call returns the others.
    async fn pending(&self, limit: u32) -> anyhow::Result<Vec<OutboxMessage>> {
        let rows: Vec<OutboxRow> = with_pool!(self, pool => {
            sqlx::query_as(
                "SELECT id, chat_platform, chat_id, user_platform, user_id, payload,
                        created_ms, attempts
                 FROM outbox WHERE sent_ms IS NULL AND NOT parked
                 ORDER BY id
                 LIMIT $1",
            )
            .bind(i64::from(limit))
            .fetch_all(pool)
            .await
        })
        .context("reading pending outbox messages")?;
        let mut messages = Vec::with_capacity(rows.len());
        for row in rows {
            let id = row.id;
            match row.into_domain() {
                Ok(message) => messages.push(message),
                Err(err) => {
                    let reason = format!("{err:#}");
                    tracing::warn!(id, error = %reason, "parking an undecodable outbox message");
                    self.park(id, &reason).await?;
                }
            }
        }
        Ok(messages)
    }

    async fn mark_sent(&self, id: i64, now_ms: i64) -> anyhow::Result<()> {
        let done = with_pool!(self, pool => {
            // A second delivery report keeps the first time.
            sqlx::query("UPDATE outbox SET sent_ms = COALESCE(sent_ms, $2) WHERE id = $1")
                .bind(id)
                .bind(now_ms)
                .execute(pool)
                .await
                .map(|done| done.rows_affected())
        })
        .with_context(|| format!("marking outbox message #{id} sent"))?;
        ensure!(
            done == 1,
            "marking outbox message #{id} sent: no such message"
        );
        Ok(())
    }

    async fn mark_failed(&self, id: i64, error: &str, give_up_after: i32) -> anyhow::Result<()> {
        let done = with_pool!(self, pool => {
            sqlx::query(
                "UPDATE outbox SET
                     attempts = attempts + 1,
                     last_error = $2,
                     parked = (parked OR attempts + 1 >= $3)
                 WHERE id = $1",
            )
            .bind(id)
            .bind(truncate(error, MAX_ERROR_CHARS))
            .bind(give_up_after)
            .execute(pool)
            .await
            .map(|done| done.rows_affected())
        })
        .with_context(|| format!("recording a failed delivery of outbox message #{id}"))?;
        ensure!(
            done == 1,
            "recording a failed delivery of outbox message #{id}: no such message"
        );
        Ok(())
    }

    async fn save_wallet_states(&self, states: &[WalletState]) -> anyhow::Result<()> {
        let rows = wallet_state_rows(states)?;
        if rows.is_empty() {
            return Ok(());
        }
        with_pool!(self, pool => async {
            let mut tx = pool.begin().await.context("starting a transaction")?;
            for chunk in rows.chunks(WALLET_STATES_PER_STATEMENT) {
                let mut upsert =
                    sqlx::QueryBuilder::new("INSERT INTO wallet_stats (wallet, last_ms, data) ");
                upsert.push_values(chunk, |mut row, (wallet, last_ms, data)| {
                    row.push_bind(wallet.as_str())
                        .push_bind(*last_ms)
                        .push_bind(data.as_str());
                });
                upsert.push(
                    " ON CONFLICT (wallet) DO UPDATE SET
                         last_ms = excluded.last_ms,
                         data = excluded.data",
                );
                upsert
                    .build()
                    .execute(&mut *tx)
                    .await
                    .context("upserting a batch of wallet states")?;
            }
            tx.commit().await.context("committing")?;
            anyhow::Ok(())
        }
        .await)
        .with_context(|| format!("saving {} wallet analytics states", rows.len()))
    }

    async fn load_wallet_states(&self) -> anyhow::Result<Vec<WalletState>> {
        let rows: Vec<WalletStateRow> = with_pool!(self, pool => {
            sqlx::query_as("SELECT wallet, last_ms, data FROM wallet_stats")
                .fetch_all(pool)
                .await
        })
        .context("reading the wallet analytics states")?;
        let mut states = rows
            .into_iter()
            .map(WalletStateRow::into_domain)
            .collect::<anyhow::Result<Vec<_>>>()?;
        // Sorted here, not in SQL: text collations differ between servers.
        states.sort_unstable_by_key(|s| s.wallet);
        Ok(states)
    }
}

/// Wallet states as rows to upsert: one per wallet (the last state given
/// for it wins, as one statement may not touch a row twice), in input order.
fn wallet_state_rows(states: &[WalletState]) -> anyhow::Result<Vec<(String, i64, String)>> {
    let mut seen = std::collections::HashSet::with_capacity(states.len());
    let mut rows = Vec::with_capacity(states.len());
    for state in states.iter().rev() {
        if !seen.insert(state.wallet) {
            continue;
        }
        let data = serde_json::to_string(&state.data)
            .with_context(|| format!("serializing the analytics state of {}", state.wallet))?;
        rows.push((state.wallet.to_string(), state.last_ms, data));
    }
    rows.reverse();
    Ok(rows)
}

/// Which position a fill moves.
#[derive(Clone, Copy)]
struct PositionKey {
    user: UserRef,
    leader: WalletAddress,
    mint: Mint,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn picks_the_backend_from_the_scheme() {
        assert_eq!(
            Backend::from_url("sqlite://alfabot.db?mode=rwc").unwrap(),
            Backend::Sqlite
        );
        assert_eq!(
            Backend::from_url("sqlite::memory:").unwrap(),
            Backend::Sqlite
        );
        assert_eq!(
            Backend::from_url("postgres://u@h/db").unwrap(),
            Backend::Postgres
        );
        assert_eq!(
            Backend::from_url("PostgreSQL://u@h/db").unwrap(),
            Backend::Postgres
        );
        let err = Backend::from_url("mysql://u:secret@h/db").unwrap_err();
        assert!(err.to_string().contains("\"mysql\""), "{err}");
        assert!(!err.to_string().contains("secret"), "{err}");
        assert!(Backend::from_url("alfabot.db").is_err());
    }

    #[test]
    fn redacts_passwords_and_query_strings() {
        assert_eq!(
            redact("postgres://alfa:hunter2@db:5432/alfabot?password=x&sslmode=require"),
            "postgres://alfa@db:5432/alfabot"
        );
        assert_eq!(
            redact("sqlite://data/alfabot.db?mode=rwc"),
            "sqlite://data/alfabot.db"
        );
        assert!(!redact("postgres://a:b c@[bad/").contains("b c"));
    }

    #[test]
    fn truncates_on_character_boundaries() {
        assert_eq!(truncate("héllo", 2), "hé");
        assert_eq!(truncate("hi", 10), "hi");
    }
}
