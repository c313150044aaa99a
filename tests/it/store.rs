//! Store conformance: every case runs against SQLite (a fresh file in a
//! temporary directory) and Postgres (a fresh database on the server named
//! by `DATABASE_URL`, dropped afterwards).
//!
//! Without a `postgres://` `DATABASE_URL` the Postgres cases print that they
//! are skipped, except under `CI=true`, where they fail: CI must prove both
//! backends. A `DATABASE_URL` that is set but unreachable always fails.

use std::future::Future;
use std::sync::atomic::{AtomicU32, Ordering};

use alfabot::domain::ports::{OutboxMessage, OutboxPayload, Store, UserRecord};
use alfabot::domain::{
    Address, Alert, ChatRef, Fill, Lamports, Locale, Platform, Position, Side, Signature,
    SkipReason, TokenAmount, UserRef, WalletAddress,
};
use alfabot::engine::analytics::{Tier, WalletState};
use alfabot::store::{self, Backend, SqlStore};
use sqlx::{AssertSqlSafe, Connection};

// ---------------------------------------------------------------- harness --

/// A database that exists for one test case.
struct TestDb {
    url: String,
    cleanup: Cleanup,
}

enum Cleanup {
    /// Removed with the directory when dropped.
    Sqlite(#[expect(dead_code, reason = "held for its Drop")] tempfile::TempDir),
    Postgres {
        admin_url: String,
        name: String,
    },
}

impl TestDb {
    fn sqlite() -> Self {
        let dir = tempfile::tempdir().expect("creating a temporary directory");
        // No `mode=rwc`: `connect` must create the file itself.
        let url = format!("sqlite://{}", dir.path().join("alfabot.db").display());
        Self {
            url,
            cleanup: Cleanup::Sqlite(dir),
        }
    }

    /// A fresh database on the `DATABASE_URL` server, or `None` (skip) when
    /// Postgres is not configured outside CI.
    async fn postgres(case: &str) -> Option<Self> {
        let configured = std::env::var("DATABASE_URL")
            .ok()
            .filter(|url| url.starts_with("postgres:") || url.starts_with("postgresql:"));
        let Some(server_url) = configured else {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "CI=true but DATABASE_URL is not a postgres:// URL: the Postgres store \
                 conformance suite must run in CI (case {case})"
            );
            eprintln!("skipped: postgres::{case} (set DATABASE_URL=postgres://… to run it)");
            return None;
        };
        let mut admin = url::Url::parse(&server_url).expect("DATABASE_URL is not a valid URL");
        admin.set_path("/postgres");
        let name = unique_database_name();
        let mut conn = sqlx::PgConnection::connect(admin.as_str())
            .await
            .unwrap_or_else(|e| {
                panic!(
                    "DATABASE_URL names a Postgres server at {}:{} that is unreachable: {e}",
                    admin.host_str().unwrap_or("?"),
                    admin.port().unwrap_or(5432)
                )
            });
        sqlx::raw_sql(AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut conn)
            .await
            .unwrap_or_else(|e| panic!("creating the test database {name}: {e}"));
        conn.close().await.ok();
        let mut url = url::Url::parse(&server_url).unwrap();
        url.set_path(&format!("/{name}"));
        Some(Self {
            url: url.into(),
            cleanup: Cleanup::Postgres {
                admin_url: admin.into(),
                name,
            },
        })
    }

    /// Runs `case` on its own task so that a failing case still drops its
    /// database, then re-raises the failure.
    async fn run<F, Fut>(self, case: F)
    where
        F: FnOnce(String) -> Fut,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let outcome = tokio::spawn(case(self.url.clone())).await;
        if let Cleanup::Postgres { admin_url, name } = &self.cleanup {
            drop_postgres_database(admin_url, name).await;
        }
        if let Err(err) = outcome {
            std::panic::resume_unwind(err.into_panic());
        }
    }
}

async fn drop_postgres_database(admin_url: &str, name: &str) {
    let Ok(mut conn) = sqlx::PgConnection::connect(admin_url).await else {
        eprintln!("could not reconnect to drop the test database {name}");
        return;
    };
    if let Err(e) = sqlx::raw_sql(AssertSqlSafe(format!(
        "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
    )))
    .execute(&mut conn)
    .await
    {
        eprintln!("could not drop the test database {name}: {e}");
    }
    conn.close().await.ok();
}

fn unique_database_name() -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!(
        "alfabot_test_{}_{nanos}_{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// Connects (running migrations), runs a `&dyn Store` case, closes.
async fn with_store<F, Fut>(url: String, case: F)
where
    F: FnOnce(SqlStore) -> Fut,
    Fut: Future<Output = ()>,
{
    let store = store::connect(&url).await.expect("connecting the store");
    case(store.clone()).await;
    store.close().await;
}

/// Declares each case once per backend: `store::sqlite::<case>` and
/// `store::postgres::<case>`. `store` cases take a `&dyn Store`; `url` cases
/// take the database URL and connect themselves.
macro_rules! conformance {
    (store: [$($case:ident),* $(,)?], url: [$($url_case:ident),* $(,)?] $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test]
                async fn $case() {
                    super::TestDb::sqlite()
                        .run(|url| super::with_store(url, |s| async move { super::$case(&s).await }))
                        .await;
                }
            )*
            $(
                #[tokio::test]
                async fn $url_case() {
                    super::TestDb::sqlite().run(super::$url_case).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test]
                async fn $case() {
                    let Some(db) = super::TestDb::postgres(stringify!($case)).await else { return };
                    db.run(|url| super::with_store(url, |s| async move { super::$case(&s).await }))
                        .await;
                }
            )*
            $(
                #[tokio::test]
                async fn $url_case() {
                    let Some(db) = super::TestDb::postgres(stringify!($url_case)).await else {
                        return;
                    };
                    db.run(super::$url_case).await;
                }
            )*
        }
    };
}

conformance! {
    store: [
        upsert_user_keeps_copy_size_and_creation_time,
        users_are_keyed_by_platform_and_id,
        follows_add_remove_and_list_oldest_first,
        writes_for_unknown_users_fail_clearly,
        record_fill_is_idempotent,
        record_fill_is_idempotent_under_concurrency,
        record_fill_moves_then_closes_the_position,
        open_positions_per_user_and_overall,
        fills_newest_first_with_limit,
        outbox_pending_oldest_first_until_sent,
        outbox_failures_count_then_park,
        outbox_carries_tier_alerts,
        wallet_states_upsert_and_load_by_wallet,
        wallet_states_save_in_large_batches,
    ],
    url: [migrations_are_rerunnable, outbox_parks_undecodable_messages],
}

// ---------------------------------------------------------------- fixtures --

const ALICE: UserRef = UserRef::new(Platform::Telegram, 1001);
const BOB: UserRef = UserRef::new(Platform::Telegram, 1002);
/// Discord ids are snowflakes far above 2^32.
const DISCORD_ALICE: UserRef = UserRef::new(Platform::Discord, 1_234_567_890_123_456_789);
const NOBODY: UserRef = UserRef::new(Platform::Console, 1);

fn wallet(n: u8) -> WalletAddress {
    Address::from_bytes([n; 32])
}

fn signature(n: u8) -> Signature {
    Signature::from_bytes(&[n; 64])
}

fn record(user: UserRef, created_ms: i64) -> UserRecord {
    UserRecord {
        user,
        locale: Locale::En,
        home_chat: ChatRef::new(user.platform, user.id),
        copy_lamports: Lamports(100_000_000),
        created_ms,
    }
}

async fn given_users(store: &dyn Store, users: &[UserRef]) {
    for &user in users {
        store.upsert_user(&record(user, 1)).await.unwrap();
    }
}

struct Trade {
    user: UserRef,
    leader: WalletAddress,
    mint: WalletAddress,
    signature: Signature,
}

impl Trade {
    fn new(user: UserRef, leader: u8, mint: u8, signature_seed: u8) -> Self {
        Self {
            user,
            leader: wallet(leader),
            mint: wallet(mint),
            signature: signature(signature_seed),
        }
    }

    fn fill(&self, side: Side, sol: u64, tokens: u64, pnl: i64, at: i64) -> Fill {
        Fill {
            user: self.user,
            mint: self.mint,
            leader: self.leader,
            leader_signature: self.signature.clone(),
            side,
            sol: Lamports(sol),
            tokens: TokenAmount(tokens),
            fee: Lamports(sol / 100),
            realized_pnl: pnl,
            timestamp_ms: at,
        }
    }

    fn position(&self, tokens: u64, cost: u64, pnl: i64, opened: i64, updated: i64) -> Position {
        Position {
            user: self.user,
            mint: self.mint,
            leader: self.leader,
            tokens: TokenAmount(tokens),
            cost: Lamports(cost),
            realized_pnl: pnl,
            opened_ms: opened,
            updated_ms: updated,
        }
    }
}

fn sorted<T: Ord>(mut v: Vec<T>) -> Vec<T> {
    v.sort();
    v
}

fn position_key(p: &Position) -> (UserRef, WalletAddress, WalletAddress) {
    (p.user, p.leader, p.mint)
}

// ------------------------------------------------------------------ users --

async fn upsert_user_keeps_copy_size_and_creation_time(store: &dyn Store) {
    assert_eq!(store.get_user(ALICE).await.unwrap(), None);

    let first = record(ALICE, 1_000);
    assert_eq!(store.upsert_user(&first).await.unwrap(), first);
    assert_eq!(store.get_user(ALICE).await.unwrap(), Some(first.clone()));

    let again = UserRecord {
        user: ALICE,
        locale: Locale::Es,
        home_chat: ChatRef::new(Platform::Telegram, -100_200_300),
        copy_lamports: Lamports(5_000_000_000),
        created_ms: 9_999,
    };
    let stored = store.upsert_user(&again).await.unwrap();
    let expected = UserRecord {
        locale: Locale::Es,
        home_chat: again.home_chat,
        ..first
    };
    assert_eq!(
        stored, expected,
        "locale and home chat change; copy size and creation stay"
    );
    assert_eq!(store.get_user(ALICE).await.unwrap(), Some(expected));

    let too_big = UserRecord {
        copy_lamports: Lamports(u64::MAX),
        ..record(BOB, 1)
    };
    let err = store.upsert_user(&too_big).await.unwrap_err();
    assert!(format!("{err:#}").contains("copy_lamports"), "{err:#}");
    assert_eq!(store.get_user(BOB).await.unwrap(), None);
}

async fn users_are_keyed_by_platform_and_id(store: &dyn Store) {
    let telegram = record(UserRef::new(Platform::Telegram, 42), 1);
    let discord = UserRecord {
        locale: Locale::Es,
        copy_lamports: Lamports(7),
        ..record(UserRef::new(Platform::Discord, 42), 2)
    };
    let snowflake = record(DISCORD_ALICE, 3);
    for user in [&telegram, &discord, &snowflake] {
        store.upsert_user(user).await.unwrap();
    }
    for user in [&telegram, &discord, &snowflake] {
        assert_eq!(
            store.get_user(user.user).await.unwrap().as_ref(),
            Some(user)
        );
    }
}

// ---------------------------------------------------------------- follows --

async fn follows_add_remove_and_list_oldest_first(store: &dyn Store) {
    given_users(store, &[ALICE, BOB]).await;
    let (w1, w2, w3) = (wallet(1), wallet(2), wallet(3));

    assert!(store.add_follow(ALICE, w3, 10).await.unwrap());
    assert!(store.add_follow(ALICE, w1, 20).await.unwrap());
    // Same millisecond: insertion order decides.
    assert!(store.add_follow(ALICE, w2, 20).await.unwrap());
    assert!(!store.add_follow(ALICE, w1, 30).await.unwrap(), "duplicate");
    assert!(store.add_follow(BOB, w1, 5).await.unwrap());

    assert_eq!(store.follows_of(ALICE).await.unwrap(), vec![w3, w1, w2]);
    assert_eq!(store.follows_of(BOB).await.unwrap(), vec![w1]);
    assert_eq!(store.follows_of(NOBODY).await.unwrap(), vec![]);
    assert_eq!(
        sorted(store.all_follows().await.unwrap()),
        sorted(vec![(ALICE, w3), (ALICE, w1), (ALICE, w2), (BOB, w1)])
    );

    assert!(store.remove_follow(ALICE, w1).await.unwrap());
    assert!(
        !store.remove_follow(ALICE, w1).await.unwrap(),
        "already removed"
    );
    assert!(
        !store.remove_follow(ALICE, wallet(9)).await.unwrap(),
        "never followed"
    );
    assert_eq!(store.follows_of(ALICE).await.unwrap(), vec![w3, w2]);
    assert_eq!(
        store.follows_of(BOB).await.unwrap(),
        vec![w1],
        "others untouched"
    );

    // Re-following puts the wallet last.
    assert!(store.add_follow(ALICE, w1, 40).await.unwrap());
    assert_eq!(store.follows_of(ALICE).await.unwrap(), vec![w3, w2, w1]);
}

async fn writes_for_unknown_users_fail_clearly(store: &dyn Store) {
    let err = store.add_follow(NOBODY, wallet(1), 1).await.unwrap_err();
    assert!(format!("{err:#}").contains("upsert_user"), "{err:#}");

    let trade = Trade::new(NOBODY, 1, 2, 3);
    let err = store
        .record_fill(
            &trade.fill(Side::Buy, 100, 1_000, 0, 1),
            &trade.position(1_000, 100, 0, 1, 1),
        )
        .await
        .unwrap_err();
    assert!(format!("{err:#}").contains("upsert_user"), "{err:#}");
    assert!(store.all_open_positions().await.unwrap().is_empty());
}

// ------------------------------------------------------ fills & positions --

async fn record_fill_is_idempotent(store: &dyn Store) {
    given_users(store, &[ALICE, BOB]).await;
    let trade = Trade::new(ALICE, 1, 2, 7);
    let buy = trade.fill(Side::Buy, 100_000_000, 3_000_000_000, 0, 1_000);
    let position = trade.position(3_000_000_000, 100_000_000, 0, 1_000, 1_000);

    assert!(store.record_fill(&buy, &position).await.unwrap());
    let replayed_position = trade.position(6_000_000_000, 200_000_000, 0, 1_000, 2_000);
    assert!(
        !store.record_fill(&buy, &replayed_position).await.unwrap(),
        "same (user, leader_signature, side)"
    );
    // The key is the signature and side, not the amounts.
    let changed = Fill {
        sol: Lamports(1),
        ..buy.clone()
    };
    assert!(
        !store
            .record_fill(&changed, &replayed_position)
            .await
            .unwrap()
    );

    assert_eq!(
        store.open_positions(ALICE).await.unwrap(),
        vec![position.clone()]
    );
    assert_eq!(store.fills_of(ALICE, 10).await.unwrap(), vec![buy.clone()]);

    // Another side of the same leader trade, or another user, is another fill.
    let sell = trade.fill(Side::Sell, 50_000_000, 3_000_000_000, -50_000_000, 2_000);
    assert!(
        store
            .record_fill(&sell, &trade.position(0, 0, -50_000_000, 1_000, 2_000))
            .await
            .unwrap()
    );
    let bob = Trade::new(BOB, 1, 2, 7);
    assert!(
        store
            .record_fill(
                &bob.fill(Side::Buy, 100, 1_000, 0, 1_000),
                &bob.position(1_000, 100, 0, 1_000, 1_000),
            )
            .await
            .unwrap()
    );
    assert_eq!(store.fills_of(ALICE, 10).await.unwrap(), vec![sell, buy]);
    assert!(store.open_positions(ALICE).await.unwrap().is_empty());
}

async fn record_fill_is_idempotent_under_concurrency(store: &dyn Store) {
    given_users(store, &[ALICE]).await;
    let trade = Trade::new(ALICE, 1, 2, 8);
    let buy = trade.fill(Side::Buy, 100, 1_000, 0, 1_000);
    let position = trade.position(1_000, 100, 0, 1_000, 1_000);

    let outcomes =
        futures_util::future::join_all((0..8).map(|_| store.record_fill(&buy, &position))).await;
    let inserted = outcomes
        .into_iter()
        .map(|r| r.expect("a concurrent record_fill failed"))
        .filter(|&inserted| inserted)
        .count();
    assert_eq!(inserted, 1, "exactly one concurrent call records the fill");
    assert_eq!(store.fills_of(ALICE, 10).await.unwrap().len(), 1);
    assert_eq!(store.open_positions(ALICE).await.unwrap(), vec![position]);
}

async fn record_fill_moves_then_closes_the_position(store: &dyn Store) {
    given_users(store, &[ALICE]).await;
    let leg = |seed| Trade::new(ALICE, 1, 2, seed);

    let steps = [
        (
            leg(1).fill(Side::Buy, 100, 1_000, 0, 1_000),
            leg(1).position(1_000, 100, 0, 1_000, 1_000),
        ),
        (
            leg(2).fill(Side::Buy, 200, 2_000, 0, 2_000),
            leg(2).position(3_000, 300, 0, 1_000, 2_000),
        ),
        (
            leg(3).fill(Side::Sell, 150, 2_000, -50, 3_000),
            leg(3).position(1_000, 100, -50, 1_000, 3_000),
        ),
    ];
    for (fill, after) in &steps {
        assert!(store.record_fill(fill, after).await.unwrap());
        assert_eq!(
            store.open_positions(ALICE).await.unwrap(),
            vec![after.clone()]
        );
        assert_eq!(
            store.all_open_positions().await.unwrap(),
            vec![after.clone()]
        );
    }

    // Selling the rest closes it: the row goes away.
    let close = leg(4).fill(Side::Sell, 180, 1_000, 30, 4_000);
    assert!(
        store
            .record_fill(&close, &leg(4).position(0, 0, 30, 1_000, 4_000))
            .await
            .unwrap()
    );
    assert!(store.open_positions(ALICE).await.unwrap().is_empty());
    assert!(store.all_open_positions().await.unwrap().is_empty());
    assert_eq!(store.fills_of(ALICE, 10).await.unwrap().len(), 4);

    // A later buy opens a new position.
    let reopened = leg(5).position(500, 60, 0, 5_000, 5_000);
    assert!(
        store
            .record_fill(&leg(5).fill(Side::Buy, 60, 500, 0, 5_000), &reopened)
            .await
            .unwrap()
    );
    assert_eq!(store.open_positions(ALICE).await.unwrap(), vec![reopened]);

    // A fill whose position belongs elsewhere is a caller bug, refused whole.
    let stray = leg(6).fill(Side::Buy, 1, 1, 0, 6_000);
    let elsewhere = Trade::new(ALICE, 1, 9, 6).position(1, 1, 0, 6_000, 6_000);
    assert!(store.record_fill(&stray, &elsewhere).await.is_err());
    assert_eq!(store.fills_of(ALICE, 10).await.unwrap().len(), 5);
}

async fn open_positions_per_user_and_overall(store: &dyn Store) {
    given_users(store, &[ALICE, BOB]).await;
    let a1 = Trade::new(ALICE, 1, 10, 1);
    let a2 = Trade::new(ALICE, 1, 11, 2);
    // Same mint, another leader: a separate position.
    let a3 = Trade::new(ALICE, 2, 10, 3);
    let b1 = Trade::new(BOB, 1, 10, 4);
    let mut expected = Vec::new();
    for (i, trade) in [&a1, &a2, &a3, &b1].into_iter().enumerate() {
        let n = u64::try_from(i).unwrap() + 1;
        let at = 1_000 * i64::try_from(n).unwrap();
        let position = trade.position(1_000 * n, 100 * n, 0, at, at);
        assert!(
            store
                .record_fill(
                    &trade.fill(Side::Buy, 100, position.tokens.0, 0, at),
                    &position
                )
                .await
                .unwrap()
        );
        expected.push(position);
    }

    let by_key = |mut v: Vec<Position>| {
        v.sort_by_key(position_key);
        v
    };
    assert_eq!(
        by_key(store.open_positions(ALICE).await.unwrap()),
        by_key(expected[..3].to_vec())
    );
    assert_eq!(
        store.open_positions(BOB).await.unwrap(),
        expected[3..].to_vec()
    );
    assert!(store.open_positions(NOBODY).await.unwrap().is_empty());
    assert_eq!(
        by_key(store.all_open_positions().await.unwrap()),
        by_key(expected)
    );
}

async fn fills_newest_first_with_limit(store: &dyn Store) {
    given_users(store, &[ALICE, BOB]).await;
    let mut recorded = Vec::new();
    for (seed, at) in [(1, 3_000), (2, 1_000), (3, 5_000), (4, 2_000), (5, 4_000)] {
        let trade = Trade::new(ALICE, 1, 2, seed);
        let fill = if seed % 2 == 0 {
            trade.fill(Side::Sell, 1_234_567_891, 987_654_321_000, -42_000_001, at)
        } else {
            trade.fill(Side::Buy, 250_000_000, 8_000_000_000_000, 0, at)
        };
        assert!(
            store
                .record_fill(&fill, &trade.position(1, 1, 0, 1_000, at))
                .await
                .unwrap()
        );
        recorded.push(fill);
    }
    let bob = Trade::new(BOB, 1, 2, 1);
    store
        .record_fill(
            &bob.fill(Side::Buy, 1, 1, 0, 9_000),
            &bob.position(1, 1, 0, 9_000, 9_000),
        )
        .await
        .unwrap();

    recorded.sort_by_key(|f| std::cmp::Reverse(f.timestamp_ms));
    let fills = store.fills_of(ALICE, 10).await.unwrap();
    assert_eq!(fills, recorded, "every field round-trips, newest first");
    assert_eq!(
        store.fills_of(ALICE, 2).await.unwrap(),
        recorded[..2].to_vec()
    );
    assert!(store.fills_of(ALICE, 0).await.unwrap().is_empty());
    assert!(store.fills_of(NOBODY, 10).await.unwrap().is_empty());
}

// ----------------------------------------------------------------- outbox --

fn leader_alert(user: UserRef, side: Side, at: i64) -> Alert {
    Alert {
        user,
        wallet: wallet(1),
        mint: wallet(2),
        side,
        sol: Lamports(1_500_000_000),
        tokens: TokenAmount(35_000_000_000),
        signature: signature(3),
        timestamp_ms: at,
    }
}

/// An alert whose copy was skipped.
fn alert(user: UserRef, at: i64) -> OutboxPayload {
    OutboxPayload::Trade {
        alert: leader_alert(user, Side::Buy, at),
        fill: None,
        skipped: Some(SkipReason::NoPosition),
    }
}

/// An alert with its paper fill.
fn paper_fill(user: UserRef, at: i64) -> OutboxPayload {
    OutboxPayload::Trade {
        alert: leader_alert(user, Side::Sell, at),
        fill: Some(Trade::new(user, 1, 2, 4).fill(Side::Sell, 10, 20, -5, at)),
        skipped: None,
    }
}

async fn outbox_pending_oldest_first_until_sent(store: &dyn Store) {
    let private = ChatRef::new(Platform::Telegram, ALICE.id);
    let group = ChatRef::new(Platform::Telegram, -1_001_234_567_890);
    let discord = ChatRef::new(Platform::Discord, 987_654_321_987_654_321);
    let sent = [
        (private, ALICE, alert(ALICE, 100), 100),
        (group, ALICE, paper_fill(ALICE, 200), 200),
        (discord, DISCORD_ALICE, alert(DISCORD_ALICE, 300), 300),
    ];
    let mut expected = Vec::new();
    for (chat, user, payload, at) in sent {
        let id = store.enqueue(chat, user, &payload, at).await.unwrap();
        expected.push(OutboxMessage {
            id,
            chat,
            user,
            payload,
            created_ms: at,
            attempts: 0,
        });
    }
    assert!(expected.windows(2).all(|w| w[0].id < w[1].id), "ids grow");

    assert_eq!(store.pending(10).await.unwrap(), expected);
    assert_eq!(store.pending(2).await.unwrap(), expected[..2].to_vec());
    assert!(store.pending(0).await.unwrap().is_empty());

    store.mark_sent(expected[1].id, 400).await.unwrap();
    store.mark_sent(expected[1].id, 500).await.unwrap();
    assert_eq!(
        store.pending(10).await.unwrap(),
        vec![expected[0].clone(), expected[2].clone()]
    );
    assert!(
        store.mark_sent(expected[2].id + 1_000, 1).await.is_err(),
        "unknown id"
    );
}

async fn outbox_failures_count_then_park(store: &dyn Store) {
    let chat = ChatRef::new(Platform::Telegram, ALICE.id);
    let first = store
        .enqueue(chat, ALICE, &alert(ALICE, 1), 1)
        .await
        .unwrap();
    let second = store
        .enqueue(chat, ALICE, &alert(ALICE, 2), 2)
        .await
        .unwrap();

    for attempts in 1..=2 {
        store
            .mark_failed(first, "429 Too Many Requests", 3)
            .await
            .unwrap();
        let pending = store.pending(10).await.unwrap();
        assert_eq!(pending.len(), 2);
        assert_eq!((pending[0].id, pending[0].attempts), (first, attempts));
    }
    // The third failure reaches `give_up_after`: parked, never pending again.
    store
        .mark_failed(first, &"x".repeat(10_000), 3)
        .await
        .unwrap();
    let ids: Vec<i64> = store
        .pending(10)
        .await
        .unwrap()
        .iter()
        .map(|m| m.id)
        .collect();
    assert_eq!(ids, vec![second]);
    // Later reports about a parked message do not bring it back.
    store.mark_failed(first, "again", 100).await.unwrap();
    assert_eq!(store.pending(10).await.unwrap().len(), 1);

    store
        .mark_failed(second, "chat not found", 1)
        .await
        .unwrap();
    assert!(store.pending(10).await.unwrap().is_empty());
    assert!(
        store.mark_failed(second + 1_000, "?", 3).await.is_err(),
        "unknown id"
    );
}

/// A row from an incompatible version must not block delivery of the rest.
async fn outbox_parks_undecodable_messages(url: String) {
    let store = store::connect(&url).await.unwrap();
    let chat = ChatRef::new(Platform::Telegram, ALICE.id);
    let bad = store
        .enqueue(chat, ALICE, &alert(ALICE, 1), 1)
        .await
        .unwrap();
    let good = store
        .enqueue(chat, ALICE, &alert(ALICE, 2), 2)
        .await
        .unwrap();

    sqlx::any::install_default_drivers();
    let mut raw = sqlx::AnyConnection::connect(&url).await.unwrap();
    sqlx::query("UPDATE outbox SET payload = $1 WHERE id = $2")
        .bind(r#"{"kind":"from_the_future"}"#)
        .bind(bad)
        .execute(&mut raw)
        .await
        .unwrap();

    let ids: Vec<i64> = store
        .pending(10)
        .await
        .unwrap()
        .iter()
        .map(|m| m.id)
        .collect();
    assert_eq!(ids, vec![good]);
    assert_eq!(store.pending(10).await.unwrap().len(), 1, "stays parked");
    let reason: String = sqlx::query_scalar("SELECT last_error FROM outbox WHERE id = $1")
        .bind(bad)
        .fetch_one(&mut raw)
        .await
        .unwrap();
    assert!(reason.contains(&format!("#{bad}")), "{reason}");

    store
        .mark_failed(good, "Forbidden: bot was blocked by the user", 1)
        .await
        .unwrap();
    let reason: String = sqlx::query_scalar("SELECT last_error FROM outbox WHERE id = $1")
        .bind(good)
        .fetch_one(&mut raw)
        .await
        .unwrap();
    assert_eq!(reason, "Forbidden: bot was blocked by the user");
    raw.close().await.unwrap();
    store.close().await;
}

async fn outbox_carries_tier_alerts(store: &dyn Store) {
    let chat = ChatRef::new(Platform::Telegram, ALICE.id);
    let payloads = [
        OutboxPayload::TierChanged {
            wallet: wallet(5),
            from: Some(Tier::A),
            to: Some(Tier::S),
            win_rate_before_bps: 5_500,
            win_rate_after_bps: 7_125,
            at_ms: 10,
        },
        OutboxPayload::TierChanged {
            wallet: wallet(6),
            from: Some(Tier::C),
            to: None,
            win_rate_before_bps: 0,
            win_rate_after_bps: 10_000,
            at_ms: 11,
        },
    ];
    for (i, p) in payloads.iter().enumerate() {
        store.enqueue(chat, ALICE, p, 20 + i as i64).await.unwrap();
    }
    let got: Vec<OutboxPayload> = store
        .pending(10)
        .await
        .unwrap()
        .into_iter()
        .map(|m| m.payload)
        .collect();
    assert_eq!(got, payloads);
}

// --------------------------------------------------------- wallet stats --

fn state(wallet: WalletAddress, last_ms: i64, data: serde_json::Value) -> WalletState {
    WalletState {
        wallet,
        last_ms,
        data,
    }
}

/// Sorted as `load_wallet_states` returns them: by wallet.
fn by_wallet(mut states: Vec<WalletState>) -> Vec<WalletState> {
    states.sort_by_key(|s| s.wallet);
    states
}

async fn wallet_states_upsert_and_load_by_wallet(store: &dyn Store) {
    assert!(store.load_wallet_states().await.unwrap().is_empty());
    store.save_wallet_states(&[]).await.unwrap();
    assert!(store.load_wallet_states().await.unwrap().is_empty());

    // Opaque JSON comes back exactly: nesting, floats, big integers, text.
    let rich = serde_json::json!({
        "v": 1,
        "lots": [{"mint": "So11111111111111111111111111111111111111112", "raw": 18_446_744_073_709_551_615_u64}],
        "wr": 0.615_384_615_384_615_4,
        "pnl": -1_234_567_890_i64,
        "note": "ñ → ⭐",
        "none": null
    });
    let first = vec![
        state(wallet(3), 3_000, rich.clone()),
        state(wallet(1), 1_000, serde_json::json!({"v": 1, "n": 1})),
        state(wallet(2), 2_000, serde_json::json!([])),
    ];
    store.save_wallet_states(&first).await.unwrap();
    assert_eq!(
        store.load_wallet_states().await.unwrap(),
        by_wallet(first.clone())
    );

    // A later batch replaces rows by wallet; within a batch the last state
    // of a wallet wins; rows not in the batch stay.
    let newest = state(wallet(1), 9_000, serde_json::json!({"v": 2, "n": 3}));
    store
        .save_wallet_states(&[
            state(wallet(1), 5_000, serde_json::json!({"v": 2, "n": 2})),
            state(wallet(4), 4_000, serde_json::json!({"v": 2})),
            newest.clone(),
        ])
        .await
        .unwrap();
    assert_eq!(
        store.load_wallet_states().await.unwrap(),
        by_wallet(vec![
            newest,
            first[2].clone(),
            first[0].clone(),
            state(wallet(4), 4_000, serde_json::json!({"v": 2})),
        ])
    );
}

async fn wallet_states_save_in_large_batches(store: &dyn Store) {
    let wallet_n = |i: u32| {
        let mut b = [7u8; 32];
        b[..4].copy_from_slice(&i.to_le_bytes());
        Address::from_bytes(b)
    };
    // More rows than one statement carries, so several run in one transaction.
    let states: Vec<WalletState> = (0..2_500)
        .map(|i| state(wallet_n(i), i64::from(i), serde_json::json!({ "i": i })))
        .collect();
    store.save_wallet_states(&states).await.unwrap();
    let loaded = store.load_wallet_states().await.unwrap();
    assert_eq!(loaded, by_wallet(states.clone()));

    let updated: Vec<WalletState> = states
        .iter()
        .map(|s| {
            state(
                s.wallet,
                s.last_ms + 1,
                serde_json::json!({ "again": s.last_ms }),
            )
        })
        .collect();
    store.save_wallet_states(&updated).await.unwrap();
    assert_eq!(
        store.load_wallet_states().await.unwrap(),
        by_wallet(updated)
    );
}

// -------------------------------------------------------------- migrations --

async fn migrations_are_rerunnable(url: String) {
    store::migrate(&url).await.expect("first migrate");
    store::migrate(&url).await.expect("second migrate");

    let store = store::connect(&url).await.expect("connect after migrate");
    store.upsert_user(&record(ALICE, 1)).await.unwrap();
    store.add_follow(ALICE, wallet(1), 1).await.unwrap();
    store.close().await;

    let store = store::connect(&url).await.expect("connect again");
    assert_eq!(store.get_user(ALICE).await.unwrap(), Some(record(ALICE, 1)));
    assert_eq!(store.follows_of(ALICE).await.unwrap(), vec![wallet(1)]);
    store.ping().await.unwrap();
    store.close().await;
}

// ---------------------------------------------------- backend selection --

#[tokio::test]
async fn sqlite_creates_its_file_and_directory_and_uses_wal() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nested/data/alfabot.db");
    let url = format!("sqlite://{}", path.display());
    let store = store::connect(&url).await.unwrap();
    assert_eq!(store.backend(), Backend::Sqlite);
    assert!(path.exists());
    store.upsert_user(&record(ALICE, 1)).await.unwrap();
    store.close().await;

    let mut conn = sqlx::SqliteConnection::connect(&url).await.unwrap();
    let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(mode, "wal");
}

#[tokio::test]
async fn sqlite_in_memory_keeps_its_data() {
    let store = store::connect("sqlite::memory:").await.unwrap();
    store.upsert_user(&record(ALICE, 1)).await.unwrap();
    assert_eq!(store.get_user(ALICE).await.unwrap(), Some(record(ALICE, 1)));
    store.close().await;
}

#[tokio::test]
async fn unknown_schemes_and_bad_servers_are_clear_errors_without_secrets() {
    let err = store::connect("mysql://root:hunter2@localhost/alfabot")
        .await
        .unwrap_err();
    let text = format!("{err:#}");
    assert!(
        text.contains("mysql") && !text.contains("hunter2"),
        "{text}"
    );

    // (An unreachable server is retried until the pool's acquire timeout,
    // too slow for this suite; the redaction it uses is unit-tested.)
    let err = store::connect("postgres://alfa:hunter2@127.0.0.1:port/alfabot")
        .await
        .unwrap_err();
    let text = format!("{err:#}");
    assert!(text.contains("Postgres URL"), "{text}");
    assert!(!text.contains("hunter2"), "{text}");
    assert!(!format!("{err:?}").contains("hunter2"));
}
