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

use crate::domain::ports::{
    Aftermath, Balances, DeletedKey, Expiring, KeyRecord, KeyRestore, NewMessage, OrderRecord,
    OrderStatus, OutboxMessage, PENDING_PER_CHAT, Store, UserRecord,
};
use crate::domain::{
    Address, ChatRef, DecisionRecord, Fill, Follow, IdempotencyKey, Mint, NotifyPrefs, Order,
    Overrides, Platform, Position, Profile, ProfileId, ProfileName, ProfileSettings, RoundTrip,
    Signature, SkipReason, UserRef, WalletAddress,
};
use crate::engine::analytics::WalletState;

use rows::{
    DecisionRow, DeletedKeyRow, ExpiringRow, FillRow, FollowRow, KeyRow, OrderRow, OutboxRow,
    PositionRow, ProfileRow, RoundTripRow, UserRow, WalletStateRow, column,
};

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

/// Appends skip-log rows, `(record, verdict JSON)` pairs from
/// [`decision_rows`], through the open transaction `$tx`.
macro_rules! insert_decisions {
    ($tx:expr, $rows:expr) => {
        for chunk in $rows.chunks(ROWS_PER_STATEMENT) {
            let mut q = sqlx::QueryBuilder::new(
                "INSERT INTO decisions (profile_id, user_platform, user_id, leader, mint, side, \
                 signature, at_ms, verdict) ",
            );
            q.push_values(chunk, |mut b, (r, verdict)| {
                b.push_bind(r.profile.0)
                    .push_bind(r.user.platform.as_str())
                    .push_bind(r.user.id)
                    .push_bind(r.leader.to_string())
                    .push_bind(r.mint.to_string())
                    .push_bind(r.side.as_str())
                    .push_bind(r.signature.as_ref().map(|s| s.as_str().to_owned()))
                    .push_bind(r.at_ms)
                    .push_bind(verdict.as_str());
            });
            q.build()
                .execute(&mut *$tx)
                .await
                .context("inserting a batch of decisions")?;
        }
    };
}

/// Queues outbox rows, `(message, payload JSON)` pairs from
/// [`message_rows`], through the open transaction `$tx`; evaluates to
/// their ids.
macro_rules! insert_messages {
    ($tx:expr, $rows:expr, $now_ms:expr) => {{
        let mut ids: Vec<i64> = Vec::with_capacity($rows.len());
        for chunk in $rows.chunks(ROWS_PER_STATEMENT) {
            let mut q = sqlx::QueryBuilder::new(
                "INSERT INTO outbox (chat_platform, chat_id, user_platform, user_id, payload, \
                 silent, created_ms) ",
            );
            q.push_values(chunk, |mut b, (m, payload)| {
                b.push_bind(m.chat.platform.as_str())
                    .push_bind(m.chat.id)
                    .push_bind(m.user.platform.as_str())
                    .push_bind(m.user.id)
                    .push_bind(payload.as_str())
                    .push_bind(m.silent)
                    .push_bind($now_ms);
            });
            q.push(" RETURNING id");
            let got: Vec<i64> = q
                .build_query_scalar()
                .fetch_all(&mut *$tx)
                .await
                .context("inserting a batch of messages")?;
            ids.extend(got);
        }
        ids
    }};
}

fn decision_rows(records: &[DecisionRecord]) -> anyhow::Result<Vec<(&DecisionRecord, String)>> {
    records
        .iter()
        .map(|r| Ok((r, to_json(&r.verdict, "a verdict")?)))
        .collect()
}

fn message_rows(messages: &[NewMessage]) -> anyhow::Result<Vec<(&NewMessage, String)>> {
    messages
        .iter()
        .map(|m| Ok((m, to_json(&m.payload, "an outbox payload")?)))
        .collect()
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

    /// Runs `sql`, an update of one time column of a stored key (`$1`–`$3`
    /// name the key, `$4` is the time); `false` when the user has no such
    /// key.
    async fn set_key_time(
        &self,
        sql: &'static str,
        user: UserRef,
        wallet: WalletAddress,
        at_ms: Option<i64>,
    ) -> anyhow::Result<bool> {
        let done = with_pool!(self, pool => {
            sqlx::query(sql)
                .bind(user.platform.as_str())
                .bind(user.id)
                .bind(wallet.to_string())
                .bind(at_ms)
                .execute(pool)
                .await
                .map(|d| d.rows_affected())
        })?;
        Ok(done == 1)
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

macro_rules! user_cols {
    () => {
        "platform, user_id, locale, home_chat_platform, home_chat_id, active_profile, notify, created_ms"
    };
}
macro_rules! profile_cols {
    () => {
        "id, user_platform, user_id, name, settings, created_ms"
    };
}
macro_rules! follow_cols {
    () => {
        "id, profile_id, user_platform, user_id, wallet, overrides, created_ms"
    };
}
macro_rules! position_cols {
    () => {
        "profile_id, user_platform, user_id, leader, mint, mode, tokens, cost, realized_pnl, \
         bought_sol, bought_tokens, sold_sol, opened_ms, updated_ms, exit_state"
    };
}
macro_rules! fill_cols {
    () => {
        "id, order_key, profile_id, user_platform, user_id, mint, leader, side, mode, sol, tokens, \
         fee, realized_pnl, reason, tx, timestamp_ms"
    };
}
macro_rules! order_cols {
    () => {
        "order_key, body, status, tx, sends, balances, reason, created_ms, updated_ms"
    };
}
macro_rules! trip_cols {
    () => {
        "id, profile_id, user_platform, user_id, leader, mint, mode, opened_ms, closed_ms, cost, \
         proceeds, pnl, exit"
    };
}
macro_rules! decision_cols {
    () => {
        "id, profile_id, user_platform, user_id, leader, mint, side, signature, at_ms, verdict"
    };
}
macro_rules! key_cols {
    () => {
        "user_platform, user_id, wallet, sealed, created_ms, exported_ms, archived_ms"
    };
}
macro_rules! deleted_key_cols {
    () => {
        "user_platform, user_id, wallet, sealed, created_ms, exported_ms, deleted_ms, purge_at_ms"
    };
}

fn to_json<T: serde::Serialize>(v: &T, what: &str) -> anyhow::Result<String> {
    serde_json::to_string(v).with_context(|| format!("serializing {what}"))
}

/// The lower-case form that makes profile names unique per user.
fn name_key(name: &ProfileName) -> String {
    name.as_str().to_lowercase()
}

/// Rows per multi-row insert (binds per row × rows stays far below both
/// backends' limits).
const ROWS_PER_STATEMENT: usize = 500;

#[async_trait]
impl Store for SqlStore {
    async fn upsert_user(&self, user: &UserRecord) -> anyhow::Result<UserRecord> {
        let notify = to_json(&user.notify, "notification settings")?;
        let row: UserRow = with_pool!(self, pool => {
            sqlx::query_as(concat!(
                "INSERT INTO users
                     (platform, user_id, locale, home_chat_platform, home_chat_id,
                      active_profile, notify, created_ms)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
                 ON CONFLICT (platform, user_id) DO UPDATE SET
                     locale = excluded.locale,
                     home_chat_platform = excluded.home_chat_platform,
                     home_chat_id = excluded.home_chat_id
                 RETURNING ", user_cols!()))
            .bind(user.user.platform.as_str())
            .bind(user.user.id)
            .bind(user.locale.code())
            .bind(user.home_chat.platform.as_str())
            .bind(user.home_chat.id)
            .bind(user.active_profile.map(|p| p.0))
            .bind(&notify)
            .bind(user.created_ms)
            .fetch_one(pool)
            .await
        })
        .with_context(|| format!("upserting user {}", user.user))?;
        row.into_domain()
    }

    async fn get_user(&self, user: UserRef) -> anyhow::Result<Option<UserRecord>> {
        let row: Option<UserRow> = with_pool!(self, pool => {
            sqlx::query_as(concat!("SELECT ", user_cols!(),
                " FROM users WHERE platform = $1 AND user_id = $2"))
            .bind(user.platform.as_str())
            .bind(user.id)
            .fetch_optional(pool)
            .await
        })
        .with_context(|| format!("reading user {user}"))?;
        row.map(UserRow::into_domain).transpose()
    }

    async fn all_users(&self) -> anyhow::Result<Vec<UserRecord>> {
        let rows: Vec<UserRow> = with_pool!(self, pool => {
            sqlx::query_as(concat!("SELECT ", user_cols!(),
                " FROM users ORDER BY created_ms, platform, user_id"))
            .fetch_all(pool)
            .await
        })
        .context("reading the users")?;
        rows.into_iter().map(UserRow::into_domain).collect()
    }

    async fn set_active_profile(&self, user: UserRef, profile: ProfileId) -> anyhow::Result<()> {
        let done = with_pool!(self, pool => {
            sqlx::query("UPDATE users SET active_profile = $3 WHERE platform = $1 AND user_id = $2")
                .bind(user.platform.as_str())
                .bind(user.id)
                .bind(profile.0)
                .execute(pool)
                .await
                .map(|d| d.rows_affected())
        })
        .with_context(|| format!("setting the active profile of {user}"))?;
        ensure!(
            done == 1,
            "setting the active profile of {user}: no such user"
        );
        Ok(())
    }

    async fn set_notify(&self, user: UserRef, prefs: &NotifyPrefs) -> anyhow::Result<()> {
        let notify = to_json(prefs, "notification settings")?;
        let done = with_pool!(self, pool => {
            sqlx::query("UPDATE users SET notify = $3 WHERE platform = $1 AND user_id = $2")
                .bind(user.platform.as_str())
                .bind(user.id)
                .bind(&notify)
                .execute(pool)
                .await
                .map(|d| d.rows_affected())
        })
        .with_context(|| format!("saving the notification settings of {user}"))?;
        ensure!(
            done == 1,
            "saving the notification settings of {user}: no such user"
        );
        Ok(())
    }

    async fn create_profile(
        &self,
        user: UserRef,
        name: &ProfileName,
        settings: &ProfileSettings,
        now_ms: i64,
    ) -> anyhow::Result<Option<Profile>> {
        let json = to_json(settings, "profile settings")?;
        let row: Option<ProfileRow> = with_pool!(self, pool => {
            sqlx::query_as(concat!(
                "INSERT INTO profiles (user_platform, user_id, name, name_key, settings, created_ms)
                 VALUES ($1, $2, $3, $4, $5, $6)
                 ON CONFLICT (user_platform, user_id, name_key) DO NOTHING
                 RETURNING ", profile_cols!()))
            .bind(user.platform.as_str())
            .bind(user.id)
            .bind(name.as_str())
            .bind(name_key(name))
            .bind(&json)
            .bind(now_ms)
            .fetch_optional(pool)
            .await
        })
        .map_err(|e| user_must_exist(e, user))
        .with_context(|| format!("creating profile {name:?} of {user}"))?;
        row.map(ProfileRow::into_domain).transpose()
    }

    async fn update_profile(
        &self,
        id: ProfileId,
        name: &ProfileName,
        settings: &ProfileSettings,
    ) -> anyhow::Result<bool> {
        let json = to_json(settings, "profile settings")?;
        let result = with_pool!(self, pool => {
            sqlx::query("UPDATE profiles SET name = $2, name_key = $3, settings = $4 WHERE id = $1")
                .bind(id.0)
                .bind(name.as_str())
                .bind(name_key(name))
                .bind(&json)
                .execute(pool)
                .await
                .map(|d| d.rows_affected())
        });
        match result {
            Ok(n) => Ok(n == 1),
            Err(sqlx::Error::Database(db)) if db.is_unique_violation() => Ok(false),
            Err(e) => Err(anyhow::Error::new(e).context(format!("updating profile #{id}"))),
        }
    }

    async fn delete_profile(&self, id: ProfileId) -> anyhow::Result<bool> {
        let done = with_pool!(self, pool => {
            sqlx::query("DELETE FROM profiles WHERE id = $1")
                .bind(id.0)
                .execute(pool)
                .await
                .map(|d| d.rows_affected())
        })
        .with_context(|| format!("deleting profile #{id}"))?;
        Ok(done == 1)
    }

    async fn get_profile(&self, id: ProfileId) -> anyhow::Result<Option<Profile>> {
        let row: Option<ProfileRow> = with_pool!(self, pool => {
            sqlx::query_as(concat!("SELECT ", profile_cols!(), " FROM profiles WHERE id = $1"))
                .bind(id.0)
                .fetch_optional(pool)
                .await
        })
        .with_context(|| format!("reading profile #{id}"))?;
        row.map(ProfileRow::into_domain).transpose()
    }

    async fn profiles_of(&self, user: UserRef) -> anyhow::Result<Vec<Profile>> {
        let rows: Vec<ProfileRow> = with_pool!(self, pool => {
            sqlx::query_as(concat!("SELECT ", profile_cols!(),
                " FROM profiles WHERE user_platform = $1 AND user_id = $2 ORDER BY created_ms, id"))
            .bind(user.platform.as_str())
            .bind(user.id)
            .fetch_all(pool)
            .await
        })
        .with_context(|| format!("reading the profiles of {user}"))?;
        rows.into_iter().map(ProfileRow::into_domain).collect()
    }

    async fn all_profiles(&self) -> anyhow::Result<Vec<Profile>> {
        let rows: Vec<ProfileRow> = with_pool!(self, pool => {
            sqlx::query_as(concat!("SELECT ", profile_cols!(), " FROM profiles ORDER BY id"))
                .fetch_all(pool)
                .await
        })
        .context("reading all profiles")?;
        rows.into_iter().map(ProfileRow::into_domain).collect()
    }

    async fn add_follow(
        &self,
        profile: ProfileId,
        wallet: WalletAddress,
        now_ms: i64,
    ) -> anyhow::Result<(Follow, bool)> {
        let wallet_s = wallet.to_string();
        let (row, new): (FollowRow, bool) = with_pool!(self, pool => async {
            let mut tx = pool.begin().await.context("starting a transaction")?;
            let inserted: Option<FollowRow> = sqlx::query_as(concat!(
                "INSERT INTO follows (profile_id, user_platform, user_id, wallet, created_ms)
                 SELECT id, user_platform, user_id, $2, $3 FROM profiles WHERE id = $1
                 ON CONFLICT (profile_id, wallet) DO NOTHING
                 RETURNING ", follow_cols!()))
            .bind(profile.0)
            .bind(&wallet_s)
            .bind(now_ms)
            .fetch_optional(&mut *tx)
            .await
            .context("inserting the follow")?;
            let out = match inserted {
                Some(row) => (row, true),
                None => {
                    let row: Option<FollowRow> = sqlx::query_as(concat!("SELECT ", follow_cols!(),
                        " FROM follows WHERE profile_id = $1 AND wallet = $2"))
                    .bind(profile.0)
                    .bind(&wallet_s)
                    .fetch_optional(&mut *tx)
                    .await
                    .context("reading the existing follow")?;
                    let row = row.with_context(|| format!("profile #{profile} does not exist"))?;
                    (row, false)
                }
            };
            tx.commit().await.context("committing")?;
            anyhow::Ok(out)
        }
        .await)
        .with_context(|| format!("adding {wallet} to profile #{profile}"))?;
        Ok((row.into_domain()?, new))
    }

    async fn remove_follow(
        &self,
        profile: ProfileId,
        wallet: WalletAddress,
    ) -> anyhow::Result<bool> {
        let done = with_pool!(self, pool => {
            sqlx::query("DELETE FROM follows WHERE profile_id = $1 AND wallet = $2")
                .bind(profile.0)
                .bind(wallet.to_string())
                .execute(pool)
                .await
                .map(|d| d.rows_affected())
        })
        .with_context(|| format!("removing {wallet} from profile #{profile}"))?;
        Ok(done > 0)
    }

    async fn set_follow_overrides(&self, id: i64, overrides: &Overrides) -> anyhow::Result<bool> {
        let json = to_json(overrides, "follow overrides")?;
        let done = with_pool!(self, pool => {
            sqlx::query("UPDATE follows SET overrides = $2 WHERE id = $1")
                .bind(id)
                .bind(&json)
                .execute(pool)
                .await
                .map(|d| d.rows_affected())
        })
        .with_context(|| format!("saving the overrides of follow #{id}"))?;
        Ok(done == 1)
    }

    async fn get_follow(&self, id: i64) -> anyhow::Result<Option<Follow>> {
        let row: Option<FollowRow> = with_pool!(self, pool => {
            sqlx::query_as(concat!("SELECT ", follow_cols!(), " FROM follows WHERE id = $1"))
                .bind(id)
                .fetch_optional(pool)
                .await
        })
        .with_context(|| format!("reading follow #{id}"))?;
        row.map(FollowRow::into_domain).transpose()
    }

    async fn follows_of(&self, user: UserRef) -> anyhow::Result<Vec<Follow>> {
        let rows: Vec<FollowRow> = with_pool!(self, pool => {
            sqlx::query_as(concat!("SELECT ", follow_cols!(),
                " FROM follows WHERE user_platform = $1 AND user_id = $2 ORDER BY created_ms, id"))
            .bind(user.platform.as_str())
            .bind(user.id)
            .fetch_all(pool)
            .await
        })
        .with_context(|| format!("reading the follows of {user}"))?;
        rows.into_iter().map(FollowRow::into_domain).collect()
    }

    async fn all_follows(&self) -> anyhow::Result<Vec<Follow>> {
        let rows: Vec<FollowRow> = with_pool!(self, pool => {
            sqlx::query_as(concat!("SELECT ", follow_cols!(), " FROM follows ORDER BY id"))
                .fetch_all(pool)
                .await
        })
        .context("reading all follows")?;
        rows.into_iter().map(FollowRow::into_domain).collect()
    }

    async fn insert_orders(&self, orders: &[Order], now_ms: i64) -> anyhow::Result<Vec<bool>> {
        if orders.is_empty() {
            return Ok(Vec::new());
        }
        let mut rows = Vec::with_capacity(orders.len());
        for o in orders {
            rows.push((o, to_json(o, "an order")?));
        }
        let inserted: std::collections::HashSet<String> = with_pool!(self, pool => async {
            let mut tx = pool.begin().await.context("starting a transaction")?;
            let mut keys = std::collections::HashSet::new();
            for chunk in rows.chunks(ROWS_PER_STATEMENT) {
                let mut q = sqlx::QueryBuilder::new(
                    "INSERT INTO orders (order_key, profile_id, user_platform, user_id, mode, mint, \
                     side, body, status, created_ms, updated_ms) ",
                );
                q.push_values(chunk, |mut b, (o, body)| {
                    b.push_bind(o.key.as_str())
                        .push_bind(o.profile.0)
                        .push_bind(o.user.platform.as_str())
                        .push_bind(o.user.id)
                        .push_bind(o.mode.code())
                        .push_bind(o.mint.to_string())
                        .push_bind(o.side.as_str())
                        .push_bind(body.as_str())
                        .push_bind(OrderStatus::Pending.as_str())
                        .push_bind(now_ms)
                        .push_bind(now_ms);
                });
                q.push(" ON CONFLICT (order_key) DO NOTHING RETURNING order_key");
                let got: Vec<String> = q
                    .build_query_scalar()
                    .fetch_all(&mut *tx)
                    .await
                    .context("inserting a batch of orders")?;
                keys.extend(got);
            }
            tx.commit().await.context("committing")?;
            anyhow::Ok(keys)
        }
        .await)
        .with_context(|| format!("recording {} orders", orders.len()))?;
        // A key given twice in one call is new only the first time.
        let mut seen = std::collections::HashSet::new();
        Ok(orders
            .iter()
            .map(|o| inserted.contains(o.key.as_str()) && seen.insert(o.key.as_str()))
            .collect())
    }

    async fn order_sent(
        &self,
        key: &IdempotencyKey,
        tx: &Signature,
        before: Balances,
        now_ms: i64,
    ) -> anyhow::Result<()> {
        let balances = to_json(&before, "balances")?;
        let done = with_pool!(self, pool => {
            sqlx::query(
                "UPDATE orders SET status = 'sent', tx = $2, sends = sends + 1, balances = $3,
                     updated_ms = $4
                 WHERE order_key = $1 AND status IN ('pending', 'sent')",
            )
            .bind(key.as_str())
            .bind(tx.as_str())
            .bind(&balances)
            .bind(now_ms)
            .execute(pool)
            .await
            .map(|d| d.rows_affected())
        })
        .with_context(|| format!("recording the send of order {key}"))?;
        ensure!(
            done == 1,
            "recording the send of order {key}: no unfinished order with that key"
        );
        Ok(())
    }

    async fn reject_order(
        &self,
        key: &IdempotencyKey,
        reason: SkipReason,
        now_ms: i64,
        then: &Aftermath,
    ) -> anyhow::Result<bool> {
        let reason = to_json(&reason, "a skip reason")?;
        let (decisions, notices) = (
            decision_rows(&then.decisions)?,
            message_rows(&then.notices)?,
        );
        let done = with_pool!(self, pool => async {
            let mut tx = pool.begin().await.context("starting a transaction")?;
            let done = sqlx::query(
                "UPDATE orders SET status = 'rejected', reason = $2, updated_ms = $3
                 WHERE order_key = $1 AND status IN ('pending', 'sent')",
            )
            .bind(key.as_str())
            .bind(&reason)
            .bind(now_ms)
            .execute(&mut *tx)
            .await
            .context("marking the order rejected")?
            .rows_affected();
            if done != 1 {
                tx.rollback().await.context("ending the transaction")?;
                return anyhow::Ok(false);
            }
            insert_decisions!(tx, decisions);
            insert_messages!(tx, notices, then.now_ms);
            tx.commit().await.context("committing")?;
            anyhow::Ok(true)
        }
        .await)
        .with_context(|| format!("rejecting order {key}"))?;
        Ok(done)
    }

    async fn get_order(&self, key: &IdempotencyKey) -> anyhow::Result<Option<OrderRecord>> {
        let row: Option<OrderRow> = with_pool!(self, pool => {
            sqlx::query_as(concat!("SELECT ", order_cols!(), " FROM orders WHERE order_key = $1"))
                .bind(key.as_str())
                .fetch_optional(pool)
                .await
        })
        .with_context(|| format!("reading order {key}"))?;
        row.map(OrderRow::into_domain).transpose()
    }

    async fn unfinished_orders(&self) -> anyhow::Result<Vec<OrderRecord>> {
        let rows: Vec<OrderRow> = with_pool!(self, pool => {
            sqlx::query_as(concat!("SELECT ", order_cols!(),
                " FROM orders WHERE status IN ('pending', 'sent') ORDER BY created_ms, order_key"))
            .fetch_all(pool)
            .await
        })
        .context("reading unfinished orders")?;
        rows.into_iter().map(OrderRow::into_domain).collect()
    }

    async fn record_fill(
        &self,
        fill: &Fill,
        position_after: &Position,
        closed: Option<&RoundTrip>,
        then: &Aftermath,
    ) -> anyhow::Result<bool> {
        ensure!(
            (
                position_after.profile,
                position_after.leader,
                position_after.mint
            ) == (fill.profile, fill.leader, fill.mint),
            "the position after a fill must be the fill's own (profile, leader, mint): \
             fill #{}/{}/{}, position #{}/{}/{}",
            fill.profile,
            fill.leader,
            fill.mint,
            position_after.profile,
            position_after.leader,
            position_after.mint,
        );
        let (sol, tokens, fee) = (
            column(fill.sol.0, "sol")?,
            column(fill.tokens.0, "tokens")?,
            column(fill.fee.0, "fee")?,
        );
        let reason = fill
            .reason
            .as_ref()
            .map(|r| to_json(r, "an exit reason"))
            .transpose()?;
        let p = PositionColumns::of(position_after)?;
        let trip = closed.map(TripColumns::of).transpose()?;
        let (decisions, notices) = (
            decision_rows(&then.decisions)?,
            message_rows(&then.notices)?,
        );
        let inserted = with_pool!(self, pool => async {
            let mut tx = pool.begin().await.context("starting a transaction")?;
            // The order first: its row stays locked to the end, so a
            // concurrent rejection waits and then finds it filled.
            let marked = sqlx::query(
                "UPDATE orders SET status = 'filled', reason = NULL, updated_ms = $2
                 WHERE order_key = $1
                   AND (status IN ('pending', 'sent') OR (status = 'rejected' AND $3))",
            )
            .bind(fill.key.as_str())
            .bind(fill.timestamp_ms)
            .bind(fill.tx.is_some())
            .execute(&mut *tx)
            .await
            .context("marking the order filled")?
            .rows_affected();
            if marked == 0 {
                let status: Option<String> =
                    sqlx::query_scalar("SELECT status FROM orders WHERE order_key = $1")
                        .bind(fill.key.as_str())
                        .fetch_optional(&mut *tx)
                        .await
                        .context("reading the order's status")?;
                if status.as_deref() == Some(OrderStatus::Rejected.as_str()) {
                    // A paper fill of an order that was given up never ran.
                    tx.rollback().await.context("ending the transaction")?;
                    return anyhow::Ok(false);
                }
            }
            let done = sqlx::query(
                "INSERT INTO fills
                     (order_key, profile_id, user_platform, user_id, mint, leader, side, mode,
                      sol, tokens, fee, realized_pnl, reason, tx, timestamp_ms)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
                 ON CONFLICT (order_key) DO NOTHING",
            )
            .bind(fill.key.as_str())
            .bind(fill.profile.0)
            .bind(fill.user.platform.as_str())
            .bind(fill.user.id)
            .bind(fill.mint.to_string())
            .bind(fill.leader.to_string())
            .bind(fill.side.as_str())
            .bind(fill.mode.code())
            .bind(sol)
            .bind(tokens)
            .bind(fee)
            .bind(fill.realized_pnl)
            .bind(reason.as_deref())
            .bind(fill.tx.as_ref().map(Signature::as_str))
            .bind(fill.timestamp_ms)
            .execute(&mut *tx)
            .await
            .context("inserting the fill")?;
            if done.rows_affected() == 0 {
                // Already recorded: leave everything as that first call left it.
                tx.rollback().await.context("ending the transaction")?;
                return anyhow::Ok(false);
            }
            if position_after.tokens.0 == 0 {
                sqlx::query("DELETE FROM positions WHERE profile_id = $1 AND leader = $2 AND mint = $3")
                    .bind(position_after.profile.0)
                    .bind(&p.leader)
                    .bind(&p.mint)
                    .execute(&mut *tx)
                    .await
                    .context("deleting the closed position")?;
            } else {
                sqlx::query(
                    "INSERT INTO positions
                         (profile_id, user_platform, user_id, leader, mint, mode, tokens, cost,
                          realized_pnl, bought_sol, bought_tokens, sold_sol, opened_ms, updated_ms,
                          exit_state)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
                     ON CONFLICT (profile_id, leader, mint) DO UPDATE SET
                         tokens = excluded.tokens,
                         cost = excluded.cost,
                         realized_pnl = excluded.realized_pnl,
                         bought_sol = excluded.bought_sol,
                         bought_tokens = excluded.bought_tokens,
                         sold_sol = excluded.sold_sol,
                         opened_ms = excluded.opened_ms,
                         updated_ms = excluded.updated_ms,
                         exit_state = excluded.exit_state",
                )
                .bind(position_after.profile.0)
                .bind(position_after.user.platform.as_str())
                .bind(position_after.user.id)
                .bind(&p.leader)
                .bind(&p.mint)
                .bind(position_after.mode.code())
                .bind(p.tokens)
                .bind(p.cost)
                .bind(position_after.realized_pnl)
                .bind(p.bought_sol)
                .bind(p.bought_tokens)
                .bind(p.sold_sol)
                .bind(position_after.opened_ms)
                .bind(position_after.updated_ms)
                .bind(&p.exit_state)
                .execute(&mut *tx)
                .await
                .context("writing the position")?;
            }
            if let (Some(rt), Some(t)) = (closed, &trip) {
                sqlx::query(
                    "INSERT INTO round_trips
                         (profile_id, user_platform, user_id, leader, mint, mode, opened_ms,
                          closed_ms, cost, proceeds, pnl, exit)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
                     ON CONFLICT (profile_id, leader, mint, opened_ms) DO NOTHING",
                )
                .bind(rt.profile.0)
                .bind(rt.user.platform.as_str())
                .bind(rt.user.id)
                .bind(rt.leader.to_string())
                .bind(rt.mint.to_string())
                .bind(rt.mode.code())
                .bind(rt.opened_ms)
                .bind(rt.closed_ms)
                .bind(t.cost)
                .bind(t.proceeds)
                .bind(rt.pnl)
                .bind(&t.exit)
                .execute(&mut *tx)
                .await
                .context("recording the round trip")?;
            }
            insert_decisions!(tx, decisions);
            insert_messages!(tx, notices, then.now_ms);
            tx.commit().await.context("committing")?;
            anyhow::Ok(true)
        }
        .await)
        .with_context(|| {
            format!(
                "recording the {} fill of profile #{} in {} ({})",
                fill.side.as_str(),
                fill.profile,
                fill.mint,
                fill.key
            )
        })?;
        Ok(inserted)
    }

    async fn save_exit_states(&self, positions: &[Position]) -> anyhow::Result<()> {
        if positions.is_empty() {
            return Ok(());
        }
        let mut rows = Vec::with_capacity(positions.len());
        for p in positions {
            rows.push((p, to_json(&p.exit, "an exit state")?));
        }
        with_pool!(self, pool => async {
            let mut tx = pool.begin().await.context("starting a transaction")?;
            for (p, exit) in &rows {
                // `opened_ms` too: a position that closed and reopened since
                // the snapshot is another position, and keeps its own state.
                sqlx::query(
                    "UPDATE positions SET exit_state = $4
                     WHERE profile_id = $1 AND leader = $2 AND mint = $3 AND opened_ms = $5",
                )
                .bind(p.profile.0)
                .bind(p.leader.to_string())
                .bind(p.mint.to_string())
                .bind(exit.as_str())
                .bind(p.opened_ms)
                .execute(&mut *tx)
                .await
                .context("updating an exit state")?;
            }
            tx.commit().await.context("committing")?;
            anyhow::Ok(())
        }
        .await)
        .with_context(|| format!("saving {} exit states", positions.len()))
    }

    async fn open_positions(&self, user: UserRef) -> anyhow::Result<Vec<Position>> {
        let rows: Vec<PositionRow> = with_pool!(self, pool => {
            sqlx::query_as(concat!("SELECT ", position_cols!(),
                " FROM positions WHERE user_platform = $1 AND user_id = $2
                 ORDER BY opened_ms, profile_id, leader, mint"))
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
            sqlx::query_as(concat!("SELECT ", position_cols!(),
                " FROM positions ORDER BY profile_id, opened_ms, leader, mint"))
            .fetch_all(pool)
            .await
        })
        .context("reading all open positions")?;
        rows.into_iter().map(PositionRow::into_domain).collect()
    }

    async fn fills_of(&self, user: UserRef, limit: u32) -> anyhow::Result<Vec<Fill>> {
        let rows: Vec<FillRow> = with_pool!(self, pool => {
            sqlx::query_as(concat!("SELECT ", fill_cols!(),
                " FROM fills WHERE user_platform = $1 AND user_id = $2
                 ORDER BY timestamp_ms DESC, id DESC LIMIT $3"))
            .bind(user.platform.as_str())
            .bind(user.id)
            .bind(i64::from(limit))
            .fetch_all(pool)
            .await
        })
        .with_context(|| format!("reading the fills of {user}"))?;
        rows.into_iter().map(FillRow::into_domain).collect()
    }

    async fn fills_since(&self, since_ms: i64) -> anyhow::Result<Vec<Fill>> {
        let rows: Vec<FillRow> = with_pool!(self, pool => {
            sqlx::query_as(concat!("SELECT ", fill_cols!(),
                " FROM fills WHERE timestamp_ms >= $1 ORDER BY timestamp_ms, id"))
            .bind(since_ms)
            .fetch_all(pool)
            .await
        })
        .context("reading recent fills")?;
        rows.into_iter().map(FillRow::into_domain).collect()
    }

    async fn entered_mints(&self) -> anyhow::Result<Vec<(ProfileId, Mint)>> {
        let rows: Vec<(i64, String)> = with_pool!(self, pool => {
            sqlx::query_as(
                "SELECT DISTINCT profile_id, mint FROM fills WHERE side = 'buy'
                 ORDER BY profile_id, mint",
            )
            .fetch_all(pool)
            .await
        })
        .context("reading the mints profiles entered")?;
        rows.into_iter()
            .map(|(p, m)| {
                Address::parse(&m)
                    .map(|m| (ProfileId(p), m))
                    .with_context(|| format!("a stored fill's mint {m:?}"))
            })
            .collect()
    }

    async fn round_trips(
        &self,
        profile: Option<ProfileId>,
        since_ms: i64,
    ) -> anyhow::Result<Vec<RoundTrip>> {
        let rows: Vec<RoundTripRow> = with_pool!(self, pool => {
            match profile {
                Some(p) => sqlx::query_as(concat!("SELECT ", trip_cols!(),
                    " FROM round_trips WHERE profile_id = $1 AND closed_ms >= $2
                     ORDER BY closed_ms, id"))
                    .bind(p.0)
                    .bind(since_ms)
                    .fetch_all(pool)
                    .await,
                None => sqlx::query_as(concat!("SELECT ", trip_cols!(),
                    " FROM round_trips WHERE closed_ms >= $1 ORDER BY closed_ms, id"))
                    .bind(since_ms)
                    .fetch_all(pool)
                    .await,
            }
        })
        .context("reading round trips")?;
        rows.into_iter().map(RoundTripRow::into_domain).collect()
    }

    async fn log_decisions(&self, records: &[DecisionRecord]) -> anyhow::Result<()> {
        if records.is_empty() {
            return Ok(());
        }
        let rows = decision_rows(records)?;
        with_pool!(self, pool => async {
            let mut tx = pool.begin().await.context("starting a transaction")?;
            insert_decisions!(tx, rows);
            tx.commit().await.context("committing")?;
            anyhow::Ok(())
        }
        .await)
        .with_context(|| format!("logging {} decisions", records.len()))
    }

    async fn decisions_of(
        &self,
        user: UserRef,
        about: Option<Address>,
        limit: u32,
    ) -> anyhow::Result<Vec<DecisionRecord>> {
        let rows: Vec<DecisionRow> = with_pool!(self, pool => {
            match about {
                Some(a) => sqlx::query_as(concat!("SELECT ", decision_cols!(),
                    " FROM decisions WHERE user_platform = $1 AND user_id = $2
                       AND (mint = $3 OR leader = $3)
                     ORDER BY id DESC LIMIT $4"))
                    .bind(user.platform.as_str())
                    .bind(user.id)
                    .bind(a.to_string())
                    .bind(i64::from(limit))
                    .fetch_all(pool)
                    .await,
                None => sqlx::query_as(concat!("SELECT ", decision_cols!(),
                    " FROM decisions WHERE user_platform = $1 AND user_id = $2
                     ORDER BY id DESC LIMIT $3"))
                    .bind(user.platform.as_str())
                    .bind(user.id)
                    .bind(i64::from(limit))
                    .fetch_all(pool)
                    .await,
            }
        })
        .with_context(|| format!("reading the decisions of {user}"))?;
        rows.into_iter().map(DecisionRow::into_domain).collect()
    }

    async fn add_key(&self, key: &KeyRecord) -> anyhow::Result<bool> {
        let done = with_pool!(self, pool => {
            sqlx::query(
                "INSERT INTO wallet_keys (user_platform, user_id, wallet, sealed, created_ms,
                                          exported_ms, archived_ms)
                 VALUES ($1, $2, $3, $4, $5, $6, $7)
                 ON CONFLICT (user_platform, user_id, wallet) DO NOTHING",
            )
            .bind(key.user.platform.as_str())
            .bind(key.user.id)
            .bind(key.wallet.to_string())
            .bind(&key.sealed)
            .bind(key.created_ms)
            .bind(key.exported_ms)
            .bind(key.archived_ms)
            .execute(pool)
            .await
            .map(|d| d.rows_affected())
        })
        .map_err(|e| user_must_exist(e, key.user))
        .with_context(|| format!("storing the key of {} for {}", key.wallet, key.user))?;
        Ok(done == 1)
    }

    async fn get_key(
        &self,
        user: UserRef,
        wallet: WalletAddress,
    ) -> anyhow::Result<Option<KeyRecord>> {
        let row: Option<KeyRow> = with_pool!(self, pool => {
            sqlx::query_as(concat!("SELECT ", key_cols!(),
                " FROM wallet_keys WHERE user_platform = $1 AND user_id = $2 AND wallet = $3"))
            .bind(user.platform.as_str())
            .bind(user.id)
            .bind(wallet.to_string())
            .fetch_optional(pool)
            .await
        })
        .with_context(|| format!("reading the key of {wallet} for {user}"))?;
        row.map(KeyRow::into_domain).transpose()
    }

    async fn keys_of(&self, user: UserRef) -> anyhow::Result<Vec<KeyRecord>> {
        let rows: Vec<KeyRow> = with_pool!(self, pool => {
            sqlx::query_as(concat!("SELECT ", key_cols!(),
                " FROM wallet_keys WHERE user_platform = $1 AND user_id = $2
                 ORDER BY created_ms, wallet"))
            .bind(user.platform.as_str())
            .bind(user.id)
            .fetch_all(pool)
            .await
        })
        .with_context(|| format!("reading the keys of {user}"))?;
        rows.into_iter().map(KeyRow::into_domain).collect()
    }

    async fn all_keys(&self) -> anyhow::Result<Vec<KeyRecord>> {
        let rows: Vec<KeyRow> = with_pool!(self, pool => {
            sqlx::query_as(concat!("SELECT ", key_cols!(),
                " FROM wallet_keys ORDER BY user_platform, user_id, wallet"))
            .fetch_all(pool)
            .await
        })
        .context("reading all keys")?;
        rows.into_iter().map(KeyRow::into_domain).collect()
    }

    async fn reseal_keys(&self, keys: &[KeyRecord], deleted: &[KeyRecord]) -> anyhow::Result<()> {
        with_pool!(self, pool => async {
            let mut tx = pool.begin().await.context("starting a transaction")?;
            for k in keys {
                let done = sqlx::query(
                    "UPDATE wallet_keys SET sealed = $4
                     WHERE user_platform = $1 AND user_id = $2 AND wallet = $3",
                )
                .bind(k.user.platform.as_str())
                .bind(k.user.id)
                .bind(k.wallet.to_string())
                .bind(&k.sealed)
                .execute(&mut *tx)
                .await
                .context("updating a sealed key")?;
                ensure!(
                    done.rows_affected() == 1,
                    "no stored key of {} for {}",
                    k.wallet,
                    k.user
                );
            }
            // A tombstone purged or restored meanwhile is no longer ours
            // to re-seal (a restored one is a stored key again).
            for k in deleted {
                sqlx::query(
                    "UPDATE deleted_wallet_keys SET sealed = $4
                     WHERE user_platform = $1 AND user_id = $2 AND wallet = $3",
                )
                .bind(k.user.platform.as_str())
                .bind(k.user.id)
                .bind(k.wallet.to_string())
                .bind(&k.sealed)
                .execute(&mut *tx)
                .await
                .context("updating a sealed deleted key")?;
            }
            tx.commit().await.context("committing")?;
            anyhow::Ok(())
        }
        .await)
        .with_context(|| {
            format!(
                "resealing {} keys and {} deleted keys",
                keys.len(),
                deleted.len()
            )
        })
    }

    async fn mark_key_exported(
        &self,
        user: UserRef,
        wallet: WalletAddress,
        at_ms: i64,
    ) -> anyhow::Result<bool> {
        self.set_key_time(
            "UPDATE wallet_keys SET exported_ms = $4
             WHERE user_platform = $1 AND user_id = $2 AND wallet = $3",
            user,
            wallet,
            Some(at_ms),
        )
        .await
        .with_context(|| format!("recording the export of {wallet} for {user}"))
    }

    async fn set_key_archived(
        &self,
        user: UserRef,
        wallet: WalletAddress,
        archived_ms: Option<i64>,
    ) -> anyhow::Result<bool> {
        self.set_key_time(
            "UPDATE wallet_keys SET archived_ms = $4
             WHERE user_platform = $1 AND user_id = $2 AND wallet = $3",
            user,
            wallet,
            archived_ms,
        )
        .await
        .with_context(|| format!("archiving the key of {wallet} for {user}"))
    }

    async fn tombstone_key(
        &self,
        user: UserRef,
        wallet: WalletAddress,
        deleted_ms: i64,
        purge_at_ms: i64,
    ) -> anyhow::Result<bool> {
        with_pool!(self, pool => async {
            let mut tx = pool.begin().await.context("starting a transaction")?;
            let row: Option<KeyRow> = sqlx::query_as(concat!(
                "DELETE FROM wallet_keys WHERE user_platform = $1 AND user_id = $2 AND wallet = $3
                 RETURNING ", key_cols!()))
            .bind(user.platform.as_str())
            .bind(user.id)
            .bind(wallet.to_string())
            .fetch_optional(&mut *tx)
            .await
            .context("taking the key out")?;
            let Some(row) = row else {
                return anyhow::Ok(false);
            };
            let key = row.into_domain()?;
            sqlx::query(
                "INSERT INTO deleted_wallet_keys (user_platform, user_id, wallet, sealed,
                     created_ms, exported_ms, deleted_ms, purge_at_ms)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
                 ON CONFLICT (user_platform, user_id, wallet) DO UPDATE SET
                     sealed = excluded.sealed,
                     created_ms = excluded.created_ms,
                     exported_ms = excluded.exported_ms,
                     deleted_ms = excluded.deleted_ms,
                     purge_at_ms = excluded.purge_at_ms",
            )
            .bind(user.platform.as_str())
            .bind(user.id)
            .bind(wallet.to_string())
            .bind(&key.sealed)
            .bind(key.created_ms)
            .bind(key.exported_ms)
            .bind(deleted_ms)
            .bind(purge_at_ms)
            .execute(&mut *tx)
            .await
            .context("storing the tombstone")?;
            tx.commit().await.context("committing")?;
            anyhow::Ok(true)
        }
        .await)
        .with_context(|| format!("deleting the key of {wallet} for {user}"))
    }

    async fn deleted_keys_of(&self, user: UserRef, now_ms: i64) -> anyhow::Result<Vec<DeletedKey>> {
        let rows: Vec<DeletedKeyRow> = with_pool!(self, pool => {
            sqlx::query_as(concat!("SELECT ", deleted_key_cols!(),
                " FROM deleted_wallet_keys WHERE user_platform = $1 AND user_id = $2
                   AND purge_at_ms > $3
                 ORDER BY deleted_ms DESC, wallet"))
            .bind(user.platform.as_str())
            .bind(user.id)
            .bind(now_ms)
            .fetch_all(pool)
            .await
        })
        .with_context(|| format!("reading the deleted keys of {user}"))?;
        rows.into_iter().map(DeletedKeyRow::into_domain).collect()
    }

    async fn all_deleted_keys(&self) -> anyhow::Result<Vec<DeletedKey>> {
        let rows: Vec<DeletedKeyRow> = with_pool!(self, pool => {
            sqlx::query_as(concat!("SELECT ", deleted_key_cols!(),
                " FROM deleted_wallet_keys ORDER BY user_platform, user_id, wallet"))
            .fetch_all(pool)
            .await
        })
        .context("reading all deleted keys")?;
        rows.into_iter().map(DeletedKeyRow::into_domain).collect()
    }

    async fn restore_key(
        &self,
        user: UserRef,
        wallet: WalletAddress,
        now_ms: i64,
    ) -> anyhow::Result<KeyRestore> {
        with_pool!(self, pool => async {
            let mut tx = pool.begin().await.context("starting a transaction")?;
            let row: Option<DeletedKeyRow> = sqlx::query_as(concat!(
                "DELETE FROM deleted_wallet_keys
                 WHERE user_platform = $1 AND user_id = $2 AND wallet = $3 AND purge_at_ms > $4
                 RETURNING ", deleted_key_cols!()))
            .bind(user.platform.as_str())
            .bind(user.id)
            .bind(wallet.to_string())
            .bind(now_ms)
            .fetch_optional(&mut *tx)
            .await
            .context("taking the tombstone")?;
            let Some(row) = row else {
                return anyhow::Ok(KeyRestore::Missing);
            };
            let key = row.into_domain()?.key;
            let done = sqlx::query(
                "INSERT INTO wallet_keys (user_platform, user_id, wallet, sealed, created_ms,
                                          exported_ms, archived_ms)
                 VALUES ($1, $2, $3, $4, $5, $6, NULL)
                 ON CONFLICT (user_platform, user_id, wallet) DO NOTHING",
            )
            .bind(user.platform.as_str())
            .bind(user.id)
            .bind(wallet.to_string())
            .bind(&key.sealed)
            .bind(key.created_ms)
            .bind(key.exported_ms)
            .execute(&mut *tx)
            .await
            .context("putting the key back")?;
            if done.rows_affected() == 0 {
                // Dropping the transaction rolls back: the tombstone stays.
                return anyhow::Ok(KeyRestore::Taken);
            }
            tx.commit().await.context("committing")?;
            anyhow::Ok(KeyRestore::Restored)
        }
        .await)
        .with_context(|| format!("restoring the key of {wallet} for {user}"))
    }

    async fn purge_deleted_keys(&self, now_ms: i64) -> anyhow::Result<u64> {
        with_pool!(self, pool => {
            sqlx::query("DELETE FROM deleted_wallet_keys WHERE purge_at_ms <= $1")
                .bind(now_ms)
                .execute(pool)
                .await
                .map(|d| d.rows_affected())
        })
        .context("purging deleted keys past their time")
    }

    async fn enqueue(&self, messages: &[NewMessage], now_ms: i64) -> anyhow::Result<Vec<i64>> {
        if messages.is_empty() {
            return Ok(Vec::new());
        }
        let rows = message_rows(messages)?;
        let mut ids: Vec<i64> = with_pool!(self, pool => async {
            let mut tx = pool.begin().await.context("starting a transaction")?;
            let ids = insert_messages!(tx, rows, now_ms);
            tx.commit().await.context("committing")?;
            anyhow::Ok(ids)
        }
        .await)
        .with_context(|| format!("queueing {} messages", messages.len()))?;
        // Ids are assigned in insertion order; RETURNING need not list them so.
        ids.sort_unstable();
        Ok(ids)
    }

    /// Rows that no longer decode (a payload from an incompatible version)
    /// are parked with the reason and logged, so one bad row cannot block
    /// delivery; the call returns the others.
    async fn pending(&self, limit: u32) -> anyhow::Result<Vec<OutboxMessage>> {
        let rows: Vec<OutboxRow> = with_pool!(self, pool => {
            sqlx::query_as(
                "SELECT id, chat_platform, chat_id, user_platform, user_id, payload,
                        created_ms, attempts, silent
                 FROM (SELECT id, chat_platform, chat_id, user_platform, user_id, payload,
                              created_ms, attempts, silent,
                              ROW_NUMBER() OVER (PARTITION BY chat_platform, chat_id
                                                 ORDER BY id) AS nth
                       FROM outbox WHERE sent_ms IS NULL AND NOT parked) AS waiting
                 WHERE nth <= $2
                 ORDER BY id
                 LIMIT $1",
            )
            .bind(i64::from(limit))
            .bind(i64::from(PENDING_PER_CHAT))
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

    async fn add_expiring(&self, m: &Expiring) -> anyhow::Result<()> {
        with_pool!(self, pool => {
            sqlx::query(
                "INSERT INTO expiring_messages (chat_platform, chat_id, message_id, delete_at_ms)
                 VALUES ($1, $2, $3, $4)
                 ON CONFLICT (chat_platform, chat_id, message_id)
                 DO UPDATE SET delete_at_ms = excluded.delete_at_ms",
            )
            .bind(m.chat.platform.as_str())
            .bind(m.chat.id)
            .bind(m.message_id)
            .bind(m.delete_at_ms)
            .execute(pool)
            .await
            .map(|_| ())
        })
        .with_context(|| format!("recording message {} in {} to delete", m.message_id, m.chat))?;
        Ok(())
    }

    async fn expiring_due(
        &self,
        platform: Platform,
        now_ms: i64,
        limit: u32,
    ) -> anyhow::Result<Vec<Expiring>> {
        let rows: Vec<ExpiringRow> = with_pool!(self, pool => {
            sqlx::query_as(
                "SELECT chat_platform, chat_id, message_id, delete_at_ms FROM expiring_messages
                 WHERE chat_platform = $1 AND delete_at_ms <= $2
                 ORDER BY delete_at_ms, chat_id, message_id LIMIT $3",
            )
            .bind(platform.as_str())
            .bind(now_ms)
            .bind(i64::from(limit))
            .fetch_all(pool)
            .await
        })
        .context("reading the messages due for deletion")?;
        rows.into_iter().map(ExpiringRow::into_domain).collect()
    }

    async fn remove_expiring(&self, chat: ChatRef, message_id: i64) -> anyhow::Result<()> {
        with_pool!(self, pool => {
            sqlx::query(
                "DELETE FROM expiring_messages
                 WHERE chat_platform = $1 AND chat_id = $2 AND message_id = $3",
            )
            .bind(chat.platform.as_str())
            .bind(chat.id)
            .bind(message_id)
            .execute(pool)
            .await
            .map(|_| ())
        })
        .with_context(|| format!("forgetting message {message_id} in {chat} to delete"))?;
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

/// A position's columns that need converting.
struct PositionColumns {
    leader: String,
    mint: String,
    tokens: i64,
    cost: i64,
    bought_sol: i64,
    bought_tokens: i64,
    sold_sol: i64,
    exit_state: String,
}

impl PositionColumns {
    fn of(p: &Position) -> anyhow::Result<Self> {
        Ok(Self {
            leader: p.leader.to_string(),
            mint: p.mint.to_string(),
            tokens: column(p.tokens.0, "position tokens")?,
            cost: column(p.cost.0, "position cost")?,
            bought_sol: column(p.bought_sol.0, "bought_sol")?,
            bought_tokens: column(p.bought_tokens.0, "bought_tokens")?,
            sold_sol: column(p.sold_sol.0, "sold_sol")?,
            exit_state: to_json(&p.exit, "an exit state")?,
        })
    }
}

/// A round trip's columns that need converting.
struct TripColumns {
    cost: i64,
    proceeds: i64,
    exit: String,
}

impl TripColumns {
    fn of(t: &RoundTrip) -> anyhow::Result<Self> {
        Ok(Self {
            cost: column(t.cost.0, "round trip cost")?,
            proceeds: column(t.proceeds.0, "round trip proceeds")?,
            exit: to_json(&t.exit, "an exit reason")?,
        })
    }
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
