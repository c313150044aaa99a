//! Store conformance: every case runs against SQLite (a fresh file in a
//! temporary directory) and Postgres (a fresh database on the server named
//! by `DATABASE_URL`, dropped afterwards).
//!
//! Without a `postgres://` `DATABASE_URL` the Postgres cases print that they
//! are skipped, except under `CI=true`, where they fail: CI must prove both
//! backends. A `DATABASE_URL` that is set but unreachable always fails.
//!
//! The cases follow the `Store` contract in `domain::ports` method by
//! method; where the contract leaves a choice to the schema (history that
//! outlives profiles, fills without a profile), the case names what the
//! schema does.

use std::collections::HashSet;
use std::future::Future;
use std::sync::atomic::{AtomicU32, Ordering};

use alfabot::domain::ports::{
    Aftermath, Balances, CopyNote, DeletedKey, Discovered, Expiring, KeyRecord, KeyRestore,
    NewMessage, OrderRecord, OrderStatus, OutboxMessage, OutboxPayload, Store, UserRecord,
};
use alfabot::domain::{
    Address, Alert, BuyMode, ChatRef, CopySells, DecisionRecord, ExitReason, ExitState, Fill,
    Follow, IdempotencyKey, Intent, LadderStep, Lamports, Locale, Metric, Mint, Mode, NotifyKind,
    NotifyLevel, NotifyPrefs, Order, Overrides, Platform, Position, Profile, ProfileId,
    ProfileName, ProfileSettings, RiskEvent, RiskTier, RoundTrip, ScreenReason, Setting, Side,
    SignalMode, Signature, SkipReason, Tier, TokenAmount, UserRef, Verdict, WalletAddress,
    WalletState, Window,
};
use alfabot::store::{self, Backend, SqlStore};
use sqlx::migrate::Migrate;
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
        upsert_user_keeps_profile_notify_and_creation_time,
        users_are_keyed_by_platform_and_id,
        user_settings_round_trip,
        writes_for_unknown_users_fail_clearly,
        profiles_round_trip_their_settings,
        profile_names_are_unique_per_user_ignoring_case,
        profiles_list_oldest_first,
        delete_profile_takes_its_follows_and_keeps_history,
        follows_are_per_profile_and_added_once,
        follow_overrides_round_trip,
        follows_list_oldest_first_and_remove,
        follows_need_their_profile,
        insert_orders_claims_each_key_once,
        orders_move_from_pending_to_sent_filled_or_rejected,
        orders_keep_every_rejection_reason,
        settled_orders_are_not_flipped,
        orders_insert_in_batches_larger_than_one_statement,
        record_fill_is_idempotent,
        record_fill_is_idempotent_under_concurrency,
        settlements_commit_their_aftermath_once,
        record_fill_moves_then_closes_the_position,
        record_fill_after_the_profile_is_gone,
        save_exit_states_touches_only_open_positions_exit_state,
        open_positions_per_user_and_overall,
        fills_newest_first_with_limit,
        fills_since_and_entered_mints,
        round_trips_per_profile_or_all_since,
        decisions_newest_first_about_a_mint_or_leader,
        decisions_keep_every_verdict,
        decisions_log_in_batches_larger_than_one_statement,
        keys_add_get_list_and_delete,
        keys_reseal_all_or_nothing,
        key_records_never_print_the_sealed_text,
        keys_record_exports_and_archiving,
        deleted_keys_are_tombstones_until_restored_or_purged,
        restoring_a_key_stored_again_is_refused,
        deleted_keys_reseal_with_the_stored_ones,
        deleted_keys_purge_once_under_concurrency,
        outbox_pending_oldest_first_until_sent,
        outbox_enqueues_batches_in_order_with_silent_flags,
        outbox_failures_count_then_park,
        outbox_pending_caps_each_chats_share,
        expiring_messages_fall_due_by_platform_and_time,
        outbox_carries_tier_alerts,
        outbox_carries_every_payload_kind,
        wallet_states_upsert_and_load_by_wallet,
        wallet_states_save_in_large_batches,
    ],
    url: [
        migrations_are_rerunnable,
        outbox_parks_undecodable_messages,
        migration_0003_moves_old_data_into_main_profiles,
    ],
}

// ---------------------------------------------------------------- fixtures --

const ALICE: UserRef = UserRef::new(Platform::Telegram, 1001);
const BOB: UserRef = UserRef::new(Platform::Telegram, 1002);
/// Discord ids are snowflakes far above 2^32.
const DISCORD_ALICE: UserRef = UserRef::new(Platform::Discord, 1_234_567_890_123_456_789);
const NOBODY: UserRef = UserRef::new(Platform::Console, 1);
/// No case creates this many profiles.
const GHOST: ProfileId = ProfileId(999_999);

fn wallet(n: u8) -> WalletAddress {
    Address::from_bytes([n; 32])
}

/// Distinct addresses for big batches.
fn nth_address(seed: u8, i: u32) -> Address {
    let mut b = [seed; 32];
    b[..4].copy_from_slice(&i.to_le_bytes());
    Address::from_bytes(b)
}

fn signature(n: u8) -> Signature {
    Signature::from_bytes(&[n; 64])
}

fn record(user: UserRef, created_ms: i64) -> UserRecord {
    UserRecord {
        user,
        locale: Locale::En,
        home_chat: ChatRef::new(user.platform, user.id),
        active_profile: None,
        notify: NotifyPrefs::default(),
        created_ms,
    }
}

async fn given_users(store: &dyn Store, users: &[UserRef]) {
    for &user in users {
        store.upsert_user(&record(user, 1)).await.unwrap();
    }
}

fn name(s: &str) -> ProfileName {
    ProfileName::parse(s).unwrap()
}

async fn given_profile(store: &dyn Store, user: UserRef, profile: &str, at: i64) -> Profile {
    store
        .create_profile(user, &name(profile), &ProfileSettings::default(), at)
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("{user} already has a profile named {profile:?}"))
}

/// Settings far from the defaults, lists and options included.
fn rich_settings() -> ProfileSettings {
    ProfileSettings {
        mode: Mode::Live,
        wallet: Some(wallet(200)),
        slippage_bps: 250,
        priority_fee: Lamports(2_500_000),
        buy_mode: BuyMode::LeaderPct,
        buy_sol: Lamports(1_500_000_000),
        buy_pct_bps: 2_500,
        max_buy: Lamports(2_000_000_000),
        kelly: true,
        daily_cap: Lamports(30_000_000_000),
        blacklist: vec![wallet(201), wallet(202)],
        min_score_milli: 550,
        age_max_s: 7_200,
        copy_sells: CopySells::SellAll,
        ladder: vec![
            LadderStep {
                gain_bps: 5_000,
                sell_bps: 2_500,
            },
            LadderStep {
                gain_bps: 10_000,
                sell_bps: 5_000,
            },
        ],
        signal: SignalMode::Consensus,
        stop_entry: true,
        ..ProfileSettings::default()
    }
}

/// One leader trade copied by one profile: the fills, positions, orders
/// and round trips it leads to.
#[derive(Clone)]
struct Trade {
    profile: ProfileId,
    user: UserRef,
    leader: WalletAddress,
    mint: Mint,
    signature: Signature,
}

impl Trade {
    fn new(profile: &Profile, leader: u8, mint: u8, signature_seed: u8) -> Self {
        Self {
            profile: profile.id,
            user: profile.user,
            leader: wallet(leader),
            mint: wallet(mint),
            signature: signature(signature_seed),
        }
    }

    fn key(&self, side: Side) -> IdempotencyKey {
        IdempotencyKey::copy(self.profile, &self.signature, side)
    }

    /// A paper fill; sells were the leader's.
    fn fill(&self, side: Side, sol: u64, tokens: u64, pnl: i64, at: i64) -> Fill {
        Fill {
            profile: self.profile,
            user: self.user,
            mint: self.mint,
            leader: self.leader,
            key: self.key(side),
            side,
            mode: Mode::Paper,
            sol: Lamports(sol),
            tokens: TokenAmount(tokens),
            fee: Lamports(sol / 100),
            realized_pnl: pnl,
            reason: (side == Side::Sell).then_some(ExitReason::LeaderSold),
            tx: None,
            timestamp_ms: at,
        }
    }

    fn position(&self, tokens: u64, cost: u64, pnl: i64, opened: i64, updated: i64) -> Position {
        Position {
            profile: self.profile,
            user: self.user,
            mint: self.mint,
            leader: self.leader,
            mode: Mode::Paper,
            tokens: TokenAmount(tokens),
            cost: Lamports(cost),
            realized_pnl: pnl,
            bought_sol: Lamports(cost),
            bought_tokens: TokenAmount(tokens),
            sold_sol: Lamports(0),
            opened_ms: opened,
            updated_ms: updated,
            exit: ExitState::default(),
        }
    }

    fn trip(
        &self,
        opened: i64,
        closed: i64,
        cost: u64,
        proceeds: u64,
        exit: ExitReason,
    ) -> RoundTrip {
        RoundTrip {
            profile: self.profile,
            user: self.user,
            leader: self.leader,
            mint: self.mint,
            mode: Mode::Paper,
            opened_ms: opened,
            closed_ms: closed,
            cost: Lamports(cost),
            proceeds: Lamports(proceeds),
            pnl: i64::try_from(proceeds).unwrap() - i64::try_from(cost).unwrap(),
            exit,
        }
    }

    /// An order with every field set away from its default.
    fn live_order(&self, side: Side, at: i64) -> Order {
        Order {
            key: self.key(side),
            profile: self.profile,
            user: self.user,
            mode: Mode::Live,
            wallet: Some(wallet(200)),
            leader: self.leader,
            mint: self.mint,
            side,
            intent: Intent::Consensus {
                voters: 3,
                weight_milli: 2_750,
            },
            sol_in: Lamports(250_000_000),
            tokens_in: TokenAmount(7_000_000_000),
            expected_out: 8_000_000_000,
            min_out: 7_600_000_000,
            slippage_bps: 500,
            priority_fee: Lamports(100_000),
            latency_ms: 400,
            trigger_ms: at,
            ticket: 0,
        }
    }

    fn order(&self, side: Side, at: i64) -> Order {
        Order {
            mode: Mode::Paper,
            wallet: None,
            intent: Intent::Copy,
            ..self.live_order(side, at)
        }
    }
}

/// The `i`th of many exit orders of one profile (distinct positions).
fn exit_order(profile: &Profile, i: u32) -> Order {
    let trade = Trade {
        mint: nth_address(9, i),
        ..Trade::new(profile, 1, 2, 1)
    };
    Order {
        key: IdempotencyKey::exit(profile.id, &trade.leader, &trade.mint, i64::from(i), i % 3),
        intent: Intent::Exit(ExitReason::Trailing),
        ..trade.order(Side::Sell, i64::from(i))
    }
}

fn pending_order(order: &Order, at: i64) -> OrderRecord {
    OrderRecord {
        order: order.clone(),
        status: OrderStatus::Pending,
        tx: None,
        sends: 0,
        before: None,
        reason: None,
        created_ms: at,
        updated_ms: at,
    }
}

fn position_key(p: &Position) -> (ProfileId, WalletAddress, Mint) {
    (p.profile, p.leader, p.mint)
}

fn by_key(mut positions: Vec<Position>) -> Vec<Position> {
    positions.sort_by_key(position_key);
    positions
}

fn decision(profile: &Profile, leader: u8, mint: u8, at: i64, verdict: Verdict) -> DecisionRecord {
    DecisionRecord {
        profile: profile.id,
        user: profile.user,
        leader: wallet(leader),
        mint: wallet(mint),
        side: Side::Buy,
        signature: Some(signature(leader.wrapping_add(mint))),
        at_ms: at,
        verdict,
    }
}

fn skipped(reason: SkipReason) -> Verdict {
    Verdict::Skipped { reason }
}

/// Every skip reason, with figures where it has them.
fn every_skip_reason() -> Vec<SkipReason> {
    use SkipReason as R;
    let sol = Lamports;
    let all = vec![
        R::OffCurve,
        R::CurveComplete,
        R::TooSmall,
        R::NoPosition,
        R::EntryPending,
        R::SellPending,
        R::Paused,
        R::StopEntry,
        R::NotifyOnly,
        R::CopySellsOff,
        R::LeaderTooSmall {
            sol: sol(10_000_000),
            min: sol(50_000_000),
        },
        R::LeaderTooLarge {
            sol: sol(90_000_000_000),
            max: sol(10_000_000_000),
        },
        R::FirstBuyOnly,
        R::Blacklisted,
        R::McapTooLow {
            mcap: sol(27_000_000_000),
            min: sol(30_000_000_000),
        },
        R::McapTooHigh {
            mcap: sol(400_000_000_000),
            max: sol(300_000_000_000),
        },
        R::TooYoung {
            age_s: 4,
            min_s: 30,
        },
        R::TooOld {
            age_s: 90_000,
            max_s: 7_200,
        },
        R::AgeUnknown,
        R::ProgressTooLow { bps: 120, min: 500 },
        R::ProgressTooHigh {
            bps: 9_900,
            max: 8_000,
        },
        R::LowScore {
            score_milli: 410,
            min_milli: 550,
        },
        R::NotSellable,
        R::PriceImpact { bps: 310, max: 100 },
        R::MaxOpen { max: 10 },
        R::DailyCap {
            cap: sol(5_000_000_000),
        },
        R::LeaderCap {
            cap: sol(1_000_000_000),
        },
        R::MaxTrades {
            max: 5,
            tier: RiskTier::Defensive,
        },
        R::Spacing {
            wait_s: 120,
            tier: RiskTier::Critical,
        },
        R::Cooldown {
            until_ms: 1_760_000_000_000,
            losses: 4,
        },
        R::DailyLossLimit {
            pnl: -1_234_567_890,
            limit: sol(1_000_000_000),
        },
        R::KellyNoEdge,
        R::ConsensusPending {
            sum_milli: 1_800,
            needed_milli: 2_500,
        },
        R::ConsensusNoStrongVoter {
            best_milli: 500,
            needed_milli: 550,
        },
        R::ConsensusEntered,
        R::Slippage {
            expected: u64::MAX,
            got: 0,
        },
        R::NoWallet,
        R::LiveOff,
        R::WrongKey,
        R::InsufficientFunds {
            need: sol(250_000_000),
            have: sol(1),
        },
        R::TokenScreen {
            screen: ScreenReason::PermanentDelegate,
        },
        R::TokenScreen {
            screen: ScreenReason::TransferHook,
        },
        R::TokenScreen {
            screen: ScreenReason::FreezeAuthority,
        },
        R::TokenScreen {
            screen: ScreenReason::NotAMint,
        },
        R::QuoteFailed,
        R::TxFailed,
        R::Expired,
        R::Interrupted,
        R::Duplicate,
    ];
    for r in &all {
        // Fails to compile when a reason is added: list it above too.
        match r {
            R::OffCurve
            | R::CurveComplete
            | R::TooSmall
            | R::NoPosition
            | R::EntryPending
            | R::SellPending
            | R::Paused
            | R::StopEntry
            | R::NotifyOnly
            | R::CopySellsOff
            | R::LeaderTooSmall { .. }
            | R::LeaderTooLarge { .. }
            | R::FirstBuyOnly
            | R::Blacklisted
            | R::McapTooLow { .. }
            | R::McapTooHigh { .. }
            | R::TooYoung { .. }
            | R::TooOld { .. }
            | R::AgeUnknown
            | R::ProgressTooLow { .. }
            | R::ProgressTooHigh { .. }
            | R::LowScore { .. }
            | R::NotSellable
            | R::PriceImpact { .. }
            | R::MaxOpen { .. }
            | R::DailyCap { .. }
            | R::LeaderCap { .. }
            | R::MaxTrades { .. }
            | R::Spacing { .. }
            | R::Cooldown { .. }
            | R::DailyLossLimit { .. }
            | R::KellyNoEdge
            | R::ConsensusPending { .. }
            | R::ConsensusNoStrongVoter { .. }
            | R::ConsensusEntered
            | R::Slippage { .. }
            | R::NoWallet
            | R::LiveOff
            | R::WrongKey
            | R::InsufficientFunds { .. }
            | R::TokenScreen { .. }
            | R::QuoteFailed
            | R::TxFailed
            | R::Expired
            | R::Interrupted
            | R::Duplicate => {}
        }
    }
    let kinds: HashSet<String> = all
        .iter()
        .map(|r| serde_json::to_value(r).unwrap()["reason"].to_string())
        .collect();
    assert_eq!(
        kinds.len(),
        46,
        "every kind of reason once (TokenScreen ×4)"
    );
    all
}

fn every_exit_reason() -> Vec<ExitReason> {
    use ExitReason as X;
    let all = vec![
        X::LeaderSold,
        X::StopLoss,
        X::TakeProfit,
        X::Trailing,
        X::BreakEven,
        X::MaxHold,
        X::Ladder(1),
        X::Ladder(8),
    ];
    for x in &all {
        // Fails to compile when a reason is added: list it above too.
        match x {
            X::LeaderSold
            | X::StopLoss
            | X::TakeProfit
            | X::Trailing
            | X::BreakEven
            | X::MaxHold
            | X::Ladder(_) => {}
        }
    }
    all
}

/// Every verdict and intent, and every skip and exit reason inside them.
fn every_verdict(profile: &Profile) -> Vec<Verdict> {
    let key = IdempotencyKey::copy(profile.id, &signature(1), Side::Buy);
    let exit_key = IdempotencyKey::exit(profile.id, &wallet(1), &wallet(2), 1_000, 2);
    let mut all = vec![
        Verdict::Placed {
            key: key.clone(),
            intent: Intent::Copy,
            sol: Lamports(100_000_000),
            tokens: TokenAmount(0),
        },
        Verdict::Placed {
            key: key.clone(),
            intent: Intent::Consensus {
                voters: 4,
                weight_milli: 3_100,
            },
            sol: Lamports(250_000_000),
            tokens: TokenAmount(0),
        },
        Verdict::Filled {
            key: key.clone(),
            sol: Lamports(101_000_000),
            tokens: TokenAmount(3_141_592_653_589),
        },
        Verdict::Rejected {
            key: exit_key.clone(),
            reason: SkipReason::Slippage {
                expected: 10,
                got: 9,
            },
        },
    ];
    all.extend(every_exit_reason().into_iter().map(|exit| Verdict::Placed {
        key: exit_key.clone(),
        intent: Intent::Exit(exit),
        sol: Lamports(0),
        tokens: TokenAmount(5_000),
    }));
    all.extend(every_skip_reason().into_iter().map(skipped));
    for v in &all {
        // Fails to compile when a verdict or intent is added: list it above.
        match v {
            Verdict::Placed {
                intent: Intent::Copy | Intent::Consensus { .. } | Intent::Exit(_),
                ..
            }
            | Verdict::Skipped { .. }
            | Verdict::Filled { .. }
            | Verdict::Rejected { .. } => {}
        }
    }
    all
}

// ------------------------------------------------------------------ users --

async fn upsert_user_keeps_profile_notify_and_creation_time(store: &dyn Store) {
    assert_eq!(store.get_user(ALICE).await.unwrap(), None);

    let first = record(ALICE, 1_000);
    assert_eq!(store.upsert_user(&first).await.unwrap(), first);
    assert_eq!(store.get_user(ALICE).await.unwrap(), Some(first.clone()));

    let main = given_profile(store, ALICE, "main", 1_100).await;
    store.set_active_profile(ALICE, main.id).await.unwrap();
    let mut prefs = NotifyPrefs::default();
    prefs.set(NotifyKind::Alerts, NotifyLevel::Off);
    prefs.set(NotifyKind::Fills, NotifyLevel::Silent);
    store.set_notify(ALICE, &prefs).await.unwrap();

    // What a transport sends on every update: no profile, default switches.
    let again = UserRecord {
        user: ALICE,
        locale: Locale::Es,
        home_chat: ChatRef::new(Platform::Telegram, -100_200_300),
        active_profile: None,
        notify: NotifyPrefs::default(),
        created_ms: 9_999,
    };
    let stored = store.upsert_user(&again).await.unwrap();
    let expected = UserRecord {
        locale: Locale::Es,
        home_chat: again.home_chat,
        active_profile: Some(main.id),
        notify: prefs,
        ..first
    };
    assert_eq!(
        stored, expected,
        "locale and home chat change; active profile, switches and creation stay"
    );
    assert_eq!(store.get_user(ALICE).await.unwrap(), Some(expected));
}

async fn users_are_keyed_by_platform_and_id(store: &dyn Store) {
    let telegram = record(UserRef::new(Platform::Telegram, 42), 1);
    let mut notify = NotifyPrefs::default();
    notify.set(NotifyKind::Tiers, NotifyLevel::Off);
    let discord = UserRecord {
        locale: Locale::Es,
        notify,
        ..record(UserRef::new(Platform::Discord, 42), 2)
    };
    let snowflake = record(DISCORD_ALICE, 3);
    assert_eq!(store.all_users().await.unwrap(), vec![]);
    // Inserted out of creation order; listed oldest first.
    for user in [&snowflake, &telegram, &discord] {
        assert_eq!(&store.upsert_user(user).await.unwrap(), user);
    }
    for user in [&telegram, &discord, &snowflake] {
        assert_eq!(
            store.get_user(user.user).await.unwrap().as_ref(),
            Some(user)
        );
    }
    assert_eq!(
        store.all_users().await.unwrap(),
        vec![telegram, discord, snowflake]
    );
}

async fn user_settings_round_trip(store: &dyn Store) {
    given_users(store, &[ALICE, BOB]).await;
    let one = given_profile(store, ALICE, "one", 1).await;
    let two = given_profile(store, ALICE, "two", 2).await;

    store.set_active_profile(ALICE, one.id).await.unwrap();
    assert_eq!(
        store.get_user(ALICE).await.unwrap().unwrap().active_profile,
        Some(one.id)
    );
    store.set_active_profile(ALICE, two.id).await.unwrap();
    assert_eq!(
        store.get_user(ALICE).await.unwrap().unwrap().active_profile,
        Some(two.id)
    );
    assert_eq!(
        store.get_user(BOB).await.unwrap(),
        Some(record(BOB, 1)),
        "others untouched"
    );

    let mut prefs = NotifyPrefs::default();
    for (i, kind) in NotifyKind::ALL.into_iter().enumerate() {
        let level = if i % 2 == 0 {
            NotifyLevel::Silent
        } else {
            NotifyLevel::Off
        };
        prefs.set(kind, level);
    }
    store.set_notify(ALICE, &prefs).await.unwrap();
    let stored = store.get_user(ALICE).await.unwrap().unwrap();
    assert_eq!(stored.notify, prefs);
    for kind in NotifyKind::ALL {
        assert_eq!(stored.notify.level(kind), prefs.level(kind), "{kind:?}");
    }
    store
        .set_notify(ALICE, &NotifyPrefs::default())
        .await
        .unwrap();
    assert_eq!(
        store.get_user(ALICE).await.unwrap().unwrap(),
        UserRecord {
            active_profile: Some(two.id),
            ..record(ALICE, 1)
        }
    );
}

async fn writes_for_unknown_users_fail_clearly(store: &dyn Store) {
    given_users(store, &[ALICE]).await;
    let alices = given_profile(store, ALICE, "main", 1).await;

    let err = store
        .set_active_profile(NOBODY, alices.id)
        .await
        .unwrap_err();
    assert!(format!("{err:#}").contains("no such user"), "{err:#}");
    let err = store
        .set_notify(NOBODY, &NotifyPrefs::default())
        .await
        .unwrap_err();
    assert!(format!("{err:#}").contains("no such user"), "{err:#}");

    let err = store
        .create_profile(NOBODY, &name("main"), &ProfileSettings::default(), 1)
        .await
        .unwrap_err();
    assert!(format!("{err:#}").contains("upsert_user"), "{err:#}");

    let key = KeyRecord {
        user: NOBODY,
        wallet: wallet(1),
        sealed: "sealed".into(),
        created_ms: 1,
        exported_ms: None,
        archived_ms: None,
    };
    let err = store.add_key(&key).await.unwrap_err();
    assert!(format!("{err:#}").contains("upsert_user"), "{err:#}");

    assert_eq!(store.get_user(NOBODY).await.unwrap(), None, "not created");
    assert!(store.profiles_of(NOBODY).await.unwrap().is_empty());
    assert!(store.keys_of(NOBODY).await.unwrap().is_empty());
    assert_eq!(store.all_profiles().await.unwrap(), vec![alices]);
}

// --------------------------------------------------------------- profiles --

async fn profiles_round_trip_their_settings(store: &dyn Store) {
    given_users(store, &[ALICE]).await;
    let settings = rich_settings();
    let created = store
        .create_profile(ALICE, &name("Degen 2"), &settings, 1_234)
        .await
        .unwrap()
        .expect("a new name");
    assert_eq!(
        created,
        Profile {
            id: created.id,
            user: ALICE,
            name: name("Degen 2"),
            settings: settings.clone(),
            created_ms: 1_234,
        }
    );
    assert_eq!(
        store.get_profile(created.id).await.unwrap(),
        Some(created.clone())
    );

    let plain = given_profile(store, ALICE, "plain", 1_235).await;
    assert_ne!(plain.id, created.id);
    assert_eq!(plain.settings, ProfileSettings::default());
    assert_eq!(store.get_profile(plain.id).await.unwrap(), Some(plain));

    assert_eq!(store.get_profile(GHOST).await.unwrap(), None);
}

async fn profile_names_are_unique_per_user_ignoring_case(store: &dyn Store) {
    given_users(store, &[ALICE, BOB]).await;
    let main = given_profile(store, ALICE, "Main", 1).await;
    for taken in ["main", "MAIN", "  mAiN  "] {
        assert_eq!(
            store
                .create_profile(ALICE, &name(taken), &rich_settings(), 2)
                .await
                .unwrap(),
            None,
            "{taken:?}"
        );
    }
    // Case is folded beyond ASCII.
    let accented = given_profile(store, ALICE, "Ñandú", 3).await;
    assert_eq!(
        store
            .create_profile(ALICE, &name("ñANDÚ"), &ProfileSettings::default(), 4)
            .await
            .unwrap(),
        None
    );
    // Another user may use the same names.
    let bobs = given_profile(store, BOB, "main", 5).await;
    let bobs_moon = given_profile(store, BOB, "Moon", 6).await;
    assert_ne!(bobs.id, main.id);
    assert_eq!(
        store.profiles_of(ALICE).await.unwrap(),
        vec![main.clone(), accented.clone()],
        "refused names created nothing"
    );

    // Renaming onto another of the user's names is refused, case ignored…
    assert!(
        !store
            .update_profile(accented.id, &name("MAIN"), &rich_settings())
            .await
            .unwrap()
    );
    assert_eq!(
        store.get_profile(accented.id).await.unwrap(),
        Some(accented.clone()),
        "a refused update changes nothing"
    );
    // …but changing the case of its own name is fine, and so is taking
    // another user's name.
    assert!(
        store
            .update_profile(main.id, &name("MAIN"), &main.settings)
            .await
            .unwrap()
    );
    assert!(
        store
            .update_profile(accented.id, &name("moon"), &rich_settings())
            .await
            .unwrap()
    );
    let moon = Profile {
        name: name("moon"),
        settings: rich_settings(),
        ..accented
    };
    assert_eq!(
        store.profiles_of(ALICE).await.unwrap(),
        vec![
            Profile {
                name: name("MAIN"),
                ..main
            },
            moon.clone(),
        ],
        "id, owner and creation time stay"
    );
    assert_eq!(store.profiles_of(BOB).await.unwrap(), vec![bobs, bobs_moon]);
    // The old name is free again.
    given_profile(store, ALICE, "ñandú", 7).await;

    assert!(
        !store
            .update_profile(GHOST, &name("ghost"), &ProfileSettings::default())
            .await
            .unwrap()
    );
    assert_eq!(store.get_profile(GHOST).await.unwrap(), None);
}

async fn profiles_list_oldest_first(store: &dyn Store) {
    given_users(store, &[ALICE, BOB]).await;
    let late = given_profile(store, ALICE, "late", 30).await;
    let early = given_profile(store, ALICE, "early", 10).await;
    // Same millisecond: creation order decides.
    let mid_a = given_profile(store, ALICE, "mid a", 20).await;
    let mid_b = given_profile(store, ALICE, "mid b", 20).await;
    let bobs = given_profile(store, BOB, "bob", 5).await;

    assert_eq!(
        store.profiles_of(ALICE).await.unwrap(),
        vec![early.clone(), mid_a.clone(), mid_b.clone(), late.clone()]
    );
    assert_eq!(store.profiles_of(BOB).await.unwrap(), vec![bobs.clone()]);
    assert!(store.profiles_of(NOBODY).await.unwrap().is_empty());

    let mut all = store.all_profiles().await.unwrap();
    all.sort_by_key(|p| p.id);
    assert_eq!(all, vec![late, early, mid_a, mid_b, bobs]);
}

async fn delete_profile_takes_its_follows_and_keeps_history(store: &dyn Store) {
    given_users(store, &[ALICE]).await;
    let doomed = given_profile(store, ALICE, "doomed", 1).await;
    let kept = given_profile(store, ALICE, "kept", 2).await;
    let (gone, _) = store.add_follow(doomed.id, wallet(1), 10).await.unwrap();
    store.add_follow(doomed.id, wallet(2), 11).await.unwrap();
    let (stays, _) = store.add_follow(kept.id, wallet(1), 12).await.unwrap();

    // An open position, a closed round trip, a decision and an order.
    let open = Trade::new(&doomed, 1, 20, 1);
    assert!(
        store
            .record_fill(
                &open.fill(Side::Buy, 100, 1_000, 0, 100),
                &open.position(1_000, 100, 0, 100, 100),
                None,
                &Aftermath::default(),
            )
            .await
            .unwrap()
    );
    let closed = Trade::new(&doomed, 2, 21, 2);
    let trip = closed.trip(200, 300, 100, 150, ExitReason::LeaderSold);
    assert!(
        store
            .record_fill(
                &closed.fill(Side::Buy, 100, 1_000, 0, 200),
                &closed.position(1_000, 100, 0, 200, 200),
                None,
                &Aftermath::default(),
            )
            .await
            .unwrap()
    );
    assert!(
        store
            .record_fill(
                &closed.fill(Side::Sell, 150, 1_000, 50, 300),
                &closed.position(0, 0, 50, 200, 300),
                Some(&trip),
                &Aftermath::default(),
            )
            .await
            .unwrap()
    );
    let why = decision(&doomed, 1, 22, 350, skipped(SkipReason::TooSmall));
    store
        .log_decisions(std::slice::from_ref(&why))
        .await
        .unwrap();
    let order = Trade::new(&doomed, 3, 23, 3).order(Side::Buy, 400);
    assert_eq!(
        store
            .insert_orders(std::slice::from_ref(&order), 400)
            .await
            .unwrap(),
        vec![true]
    );

    assert!(store.delete_profile(doomed.id).await.unwrap());
    assert!(!store.delete_profile(doomed.id).await.unwrap(), "gone");
    assert!(!store.delete_profile(GHOST).await.unwrap(), "never was");

    assert_eq!(store.get_profile(doomed.id).await.unwrap(), None);
    assert_eq!(store.profiles_of(ALICE).await.unwrap(), vec![kept.clone()]);
    assert_eq!(store.all_profiles().await.unwrap(), vec![kept]);
    // Its follows go with it.
    assert_eq!(store.follows_of(ALICE).await.unwrap(), vec![stays.clone()]);
    assert_eq!(store.all_follows().await.unwrap(), vec![stays]);
    assert_eq!(store.get_follow(gone.id).await.unwrap(), None);
    // So do its open positions (the service refuses to delete a profile
    // that holds any).
    assert!(store.open_positions(ALICE).await.unwrap().is_empty());
    assert!(store.all_open_positions().await.unwrap().is_empty());
    // History stays.
    assert_eq!(store.fills_of(ALICE, 10).await.unwrap().len(), 3);
    assert_eq!(
        store.round_trips(Some(doomed.id), 0).await.unwrap(),
        vec![trip]
    );
    assert_eq!(
        store.decisions_of(ALICE, None, 10).await.unwrap(),
        vec![why]
    );
    assert_eq!(
        store.get_order(&order.key).await.unwrap(),
        Some(pending_order(&order, 400))
    );
    let mut entered = store.entered_mints().await.unwrap();
    entered.sort();
    assert_eq!(
        entered,
        vec![(doomed.id, wallet(20)), (doomed.id, wallet(21))]
    );
}

// ---------------------------------------------------------------- follows --

async fn follows_are_per_profile_and_added_once(store: &dyn Store) {
    given_users(store, &[ALICE, BOB]).await;
    let a1 = given_profile(store, ALICE, "a1", 1).await;
    let a2 = given_profile(store, ALICE, "a2", 2).await;
    let b1 = given_profile(store, BOB, "b1", 3).await;
    let w = wallet(1);

    let (first, new) = store.add_follow(a1.id, w, 10).await.unwrap();
    assert!(new);
    assert_eq!(
        first,
        Follow {
            id: first.id,
            profile: a1.id,
            user: ALICE,
            wallet: w,
            overrides: Overrides::default(),
            created_ms: 10,
        }
    );
    let mut overrides = Overrides::default();
    overrides.set(&a1.settings, Setting::BuySol, "0.5").unwrap();
    assert!(
        store
            .set_follow_overrides(first.id, &overrides)
            .await
            .unwrap()
    );
    let stored = Follow {
        overrides,
        ..first.clone()
    };

    // Adding it again changes nothing and hands back the stored follow.
    let (again, new) = store.add_follow(a1.id, w, 99).await.unwrap();
    assert!(!new);
    assert_eq!(again, stored);

    // The same wallet in another profile of the same user, or in another
    // user's, is a follow of its own.
    let (other, new) = store.add_follow(a2.id, w, 20).await.unwrap();
    assert!(new);
    assert_ne!(other.id, first.id);
    assert_eq!(
        (other.profile, other.user, other.wallet, other.created_ms),
        (a2.id, ALICE, w, 20)
    );
    assert!(other.overrides.is_empty(), "overrides are per follow");
    let (bobs, new) = store.add_follow(b1.id, w, 30).await.unwrap();
    assert!(new);
    assert_eq!((bobs.profile, bobs.user), (b1.id, BOB));

    assert_eq!(
        store.get_follow(first.id).await.unwrap(),
        Some(stored.clone())
    );
    assert_eq!(
        store.get_follow(other.id).await.unwrap(),
        Some(other.clone())
    );
    assert_eq!(store.follows_of(ALICE).await.unwrap(), vec![stored, other]);
    assert_eq!(store.follows_of(BOB).await.unwrap(), vec![bobs]);
}

async fn follow_overrides_round_trip(store: &dyn Store) {
    given_users(store, &[ALICE]).await;
    let profile = store
        .create_profile(ALICE, &name("main"), &rich_settings(), 1)
        .await
        .unwrap()
        .unwrap();
    let (follow, _) = store.add_follow(profile.id, wallet(1), 10).await.unwrap();
    let base = &profile.settings;

    let mut overrides = Overrides::default();
    for (setting, input) in [
        (Setting::BuySol, "0.25"),
        (Setting::Slippage, "2.5%"),
        (Setting::StopLoss, "30%"),
        (Setting::MaxHold, "15m"),
        (Setting::CopySells, "same"),
        (Setting::Trailing, "off"),
        (Setting::Ladder, "50:25 100:50"),
        (Setting::LeaderMin, "0.5"),
        (Setting::Paused, "on"),
    ] {
        overrides
            .set(base, setting, input)
            .unwrap_or_else(|e| panic!("{setting:?} = {input:?}: {e}"));
    }
    assert_eq!(overrides.0.len(), 9);
    assert!(
        store
            .set_follow_overrides(follow.id, &overrides)
            .await
            .unwrap()
    );
    let expected = Follow {
        overrides: overrides.clone(),
        ..follow.clone()
    };
    assert_eq!(
        store.get_follow(follow.id).await.unwrap(),
        Some(expected.clone())
    );
    assert_eq!(
        store.follows_of(ALICE).await.unwrap(),
        vec![expected.clone()]
    );
    assert_eq!(store.all_follows().await.unwrap(), vec![expected]);
    // What the engine makes of them after a restart.
    let stored = store.get_follow(follow.id).await.unwrap().unwrap();
    assert_eq!(
        base.with_overrides(&stored.overrides),
        base.with_overrides(&overrides)
    );

    assert!(overrides.clear(Setting::BuySol));
    assert!(
        store
            .set_follow_overrides(follow.id, &overrides)
            .await
            .unwrap()
    );
    assert_eq!(
        store
            .get_follow(follow.id)
            .await
            .unwrap()
            .unwrap()
            .overrides,
        overrides,
        "replaced, not merged"
    );
    assert!(
        store
            .set_follow_overrides(follow.id, &Overrides::default())
            .await
            .unwrap()
    );
    assert_eq!(
        store.get_follow(follow.id).await.unwrap(),
        Some(follow.clone())
    );

    assert!(
        !store
            .set_follow_overrides(follow.id + 1_000, &overrides)
            .await
            .unwrap()
    );
    assert_eq!(store.get_follow(follow.id + 1_000).await.unwrap(), None);
}

async fn follows_list_oldest_first_and_remove(store: &dyn Store) {
    given_users(store, &[ALICE, BOB]).await;
    let a1 = given_profile(store, ALICE, "a1", 1).await;
    let a2 = given_profile(store, ALICE, "a2", 2).await;
    let b1 = given_profile(store, BOB, "b1", 3).await;
    let (w1, w2, w3) = (wallet(1), wallet(2), wallet(3));

    let (f3, _) = store.add_follow(a1.id, w3, 10).await.unwrap();
    let (f1, _) = store.add_follow(a2.id, w1, 20).await.unwrap();
    // Same millisecond, other profile: insertion order decides.
    let (f2, _) = store.add_follow(a1.id, w2, 20).await.unwrap();
    let (fb, _) = store.add_follow(b1.id, w1, 5).await.unwrap();

    assert_eq!(
        store.follows_of(ALICE).await.unwrap(),
        vec![f3.clone(), f1.clone(), f2.clone()],
        "across profiles, oldest first"
    );
    assert_eq!(store.follows_of(BOB).await.unwrap(), vec![fb.clone()]);
    assert!(store.follows_of(NOBODY).await.unwrap().is_empty());
    let mut all = store.all_follows().await.unwrap();
    all.sort_by_key(|f| f.id);
    assert_eq!(all, vec![f3.clone(), f1.clone(), f2.clone(), fb.clone()]);

    assert!(store.remove_follow(a2.id, w1).await.unwrap());
    assert!(!store.remove_follow(a2.id, w1).await.unwrap(), "removed");
    assert!(
        !store.remove_follow(a1.id, w1).await.unwrap(),
        "followed in another profile only"
    );
    assert!(!store.remove_follow(a1.id, wallet(9)).await.unwrap());
    assert!(!store.remove_follow(GHOST, w1).await.unwrap());
    assert_eq!(store.get_follow(f1.id).await.unwrap(), None);
    assert_eq!(
        store.follows_of(ALICE).await.unwrap(),
        vec![f3.clone(), f2.clone()]
    );
    assert_eq!(
        store.follows_of(BOB).await.unwrap(),
        vec![fb],
        "others untouched"
    );

    // Following again makes a new follow, listed last.
    let (back, new) = store.add_follow(a2.id, w1, 40).await.unwrap();
    assert!(new);
    assert_ne!(back.id, f1.id);
    assert_eq!(store.follows_of(ALICE).await.unwrap(), vec![f3, f2, back]);
}

async fn follows_need_their_profile(store: &dyn Store) {
    given_users(store, &[ALICE]).await;
    let err = store.add_follow(GHOST, wallet(1), 1).await.unwrap_err();
    assert!(format!("{err:#}").contains("does not exist"), "{err:#}");

    let deleted = given_profile(store, ALICE, "deleted", 1).await;
    assert!(store.delete_profile(deleted.id).await.unwrap());
    assert!(store.add_follow(deleted.id, wallet(1), 2).await.is_err());

    assert!(store.all_follows().await.unwrap().is_empty());
    assert!(store.follows_of(ALICE).await.unwrap().is_empty());
}

// ----------------------------------------------------------------- orders --

async fn insert_orders_claims_each_key_once(store: &dyn Store) {
    given_users(store, &[ALICE]).await;
    let p = given_profile(store, ALICE, "main", 1).await;
    let live = Trade::new(&p, 1, 2, 1).live_order(Side::Buy, 900);
    let paper = Trade::new(&p, 1, 2, 2).order(Side::Buy, 950);
    let exit = Order {
        key: IdempotencyKey::exit(p.id, &wallet(1), &wallet(2), 900, 0),
        intent: Intent::Exit(ExitReason::Ladder(2)),
        sol_in: Lamports(0),
        ..Trade::new(&p, 1, 2, 1).order(Side::Sell, 1_900)
    };

    assert!(store.insert_orders(&[], 5).await.unwrap().is_empty());
    assert_eq!(
        store
            .insert_orders(std::slice::from_ref(&live), 1_000)
            .await
            .unwrap(),
        vec![true]
    );
    assert_eq!(
        store.get_order(&live.key).await.unwrap(),
        Some(pending_order(&live, 1_000)),
        "the whole order round-trips"
    );

    // A key already stored is not new, whatever else the order says; the
    // same key twice in one call is new the first time only.
    let replayed = Order {
        sol_in: Lamports(1),
        ..live.clone()
    };
    let paper_again = Order {
        min_out: 1,
        ..paper.clone()
    };
    assert_eq!(
        store
            .insert_orders(&[replayed, paper.clone(), exit.clone(), paper_again], 2_000)
            .await
            .unwrap(),
        vec![false, true, true, false]
    );
    assert_eq!(
        store.get_order(&live.key).await.unwrap(),
        Some(pending_order(&live, 1_000)),
        "the first claim stays"
    );
    assert_eq!(
        store.get_order(&paper.key).await.unwrap(),
        Some(pending_order(&paper, 2_000))
    );
    assert_eq!(
        store.get_order(&exit.key).await.unwrap(),
        Some(pending_order(&exit, 2_000))
    );
    let unknown = IdempotencyKey::copy(p.id, &signature(99), Side::Buy);
    assert_eq!(store.get_order(&unknown).await.unwrap(), None);
    assert_eq!(store.unfinished_orders().await.unwrap().len(), 3);
}

async fn orders_move_from_pending_to_sent_filled_or_rejected(store: &dyn Store) {
    given_users(store, &[ALICE]).await;
    let p = given_profile(store, ALICE, "main", 1).await;
    let (t1, t2, t3) = (
        Trade::new(&p, 1, 2, 1),
        Trade::new(&p, 1, 3, 2),
        Trade::new(&p, 1, 4, 3),
    );
    let (o1, o2, o3) = (
        t1.live_order(Side::Buy, 1),
        t2.live_order(Side::Buy, 1),
        t3.order(Side::Buy, 1),
    );
    for (order, at) in [(&o1, 3_000), (&o2, 1_000), (&o3, 2_000)] {
        assert_eq!(
            store
                .insert_orders(std::slice::from_ref(order), at)
                .await
                .unwrap(),
            vec![true]
        );
    }
    let keys = |records: Vec<OrderRecord>| -> Vec<IdempotencyKey> {
        records.into_iter().map(|r| r.order.key).collect()
    };
    assert_eq!(
        keys(store.unfinished_orders().await.unwrap()),
        vec![o2.key.clone(), o3.key.clone(), o1.key.clone()],
        "oldest first"
    );

    // Sent, then re-sent with a new transaction (an expired blockhash).
    let before = Balances {
        lamports: 5_000_000_000,
        tokens: 0,
    };
    store
        .order_sent(&o1.key, &signature(50), before, 3_500)
        .await
        .unwrap();
    let sent = OrderRecord {
        status: OrderStatus::Sent,
        tx: Some(signature(50)),
        sends: 1,
        before: Some(before),
        updated_ms: 3_500,
        ..pending_order(&o1, 3_000)
    };
    assert_eq!(store.get_order(&o1.key).await.unwrap(), Some(sent.clone()));
    let later = Balances {
        lamports: 4_999_995_000,
        tokens: 12,
    };
    store
        .order_sent(&o1.key, &signature(51), later, 3_600)
        .await
        .unwrap();
    let resent = OrderRecord {
        tx: Some(signature(51)),
        sends: 2,
        before: Some(later),
        updated_ms: 3_600,
        ..sent
    };
    assert_eq!(
        store.get_order(&o1.key).await.unwrap(),
        Some(resent.clone())
    );
    assert_eq!(
        keys(store.unfinished_orders().await.unwrap()),
        vec![o2.key.clone(), o3.key.clone(), o1.key.clone()],
        "sent is still unfinished"
    );

    // Rejected: final; a later rejection or send does not change it.
    let reason = SkipReason::InsufficientFunds {
        need: Lamports(250_000_000),
        have: Lamports(3),
    };
    assert!(
        store
            .reject_order(&o2.key, reason, 4_000, &Aftermath::default())
            .await
            .unwrap()
    );
    let rejected = OrderRecord {
        status: OrderStatus::Rejected,
        reason: Some(reason),
        updated_ms: 4_000,
        ..pending_order(&o2, 1_000)
    };
    assert_eq!(
        store.get_order(&o2.key).await.unwrap(),
        Some(rejected.clone())
    );
    assert!(
        !store
            .reject_order(&o2.key, SkipReason::Expired, 4_500, &Aftermath::default())
            .await
            .unwrap(),
        "the first reason stays"
    );
    let err = store
        .order_sent(&o2.key, &signature(52), before, 4_600)
        .await
        .unwrap_err();
    assert!(
        format!("{err:#}").contains("no unfinished order"),
        "{err:#}"
    );
    assert_eq!(store.get_order(&o2.key).await.unwrap(), Some(rejected));
    assert_eq!(
        keys(store.unfinished_orders().await.unwrap()),
        vec![o3.key.clone(), o1.key.clone()]
    );

    // Filled through its fill; what the send recorded stays.
    let fill = Fill {
        mode: Mode::Live,
        tx: Some(signature(51)),
        ..t1.fill(Side::Buy, 250_000_000, 7_000_000_000, 0, 5_000)
    };
    assert!(
        store
            .record_fill(
                &fill,
                &t1.position(7_000_000_000, 250_000_000, 0, 5_000, 5_000),
                None,
                &Aftermath::default()
            )
            .await
            .unwrap()
    );
    let filled = OrderRecord {
        status: OrderStatus::Filled,
        updated_ms: 5_000,
        ..resent
    };
    assert_eq!(
        store.get_order(&o1.key).await.unwrap(),
        Some(filled.clone())
    );
    assert!(
        !store
            .reject_order(&o1.key, SkipReason::Duplicate, 6_000, &Aftermath::default())
            .await
            .unwrap()
    );
    assert!(
        store
            .order_sent(&o1.key, &signature(53), before, 6_000)
            .await
            .is_err()
    );
    assert_eq!(
        store.get_order(&o1.key).await.unwrap(),
        Some(filled),
        "a filled order stays filled"
    );
    assert_eq!(
        keys(store.unfinished_orders().await.unwrap()),
        vec![o3.key.clone()]
    );

    // Unknown keys: a send is an error, a rejection changes nothing.
    let unknown = IdempotencyKey::copy(p.id, &signature(99), Side::Sell);
    assert!(
        store
            .order_sent(&unknown, &signature(54), before, 7_000)
            .await
            .is_err()
    );
    assert!(
        !store
            .reject_order(
                &unknown,
                SkipReason::Interrupted,
                7_000,
                &Aftermath::default()
            )
            .await
            .unwrap()
    );
    assert_eq!(store.get_order(&unknown).await.unwrap(), None);
}

/// A settled order is not flipped: a paper fill never lands on a rejected
/// order (it never ran), a rejection never lands on a filled one; a live
/// fill (with its transaction) of a rejected order is recorded, because
/// the chain is the truth.
async fn settled_orders_are_not_flipped(store: &dyn Store) {
    given_users(store, &[ALICE]).await;
    let p = given_profile(store, ALICE, "main", 1).await;
    let (paper, live) = (Trade::new(&p, 1, 2, 1), Trade::new(&p, 1, 3, 2));
    let (po, lo) = (paper.order(Side::Buy, 1), live.live_order(Side::Buy, 1));
    assert_eq!(
        store
            .insert_orders(&[po.clone(), lo.clone()], 1_000)
            .await
            .unwrap(),
        vec![true, true]
    );

    // Paper: rejected (interrupted), then its fill comes late: refused.
    assert!(
        store
            .reject_order(
                &po.key,
                SkipReason::Interrupted,
                2_000,
                &Aftermath::default()
            )
            .await
            .unwrap()
    );
    let late = paper.fill(Side::Buy, 100, 1_000, 0, 3_000);
    assert!(
        !store
            .record_fill(
                &late,
                &paper.position(1_000, 100, 0, 3_000, 3_000),
                None,
                &Aftermath::default()
            )
            .await
            .unwrap(),
        "a paper fill does not land on a rejected order"
    );
    let rec = store.get_order(&po.key).await.unwrap().unwrap();
    assert_eq!(
        (rec.status, rec.reason),
        (OrderStatus::Rejected, Some(SkipReason::Interrupted))
    );
    assert!(store.fills_of(ALICE, 10).await.unwrap().is_empty());
    assert!(store.open_positions(ALICE).await.unwrap().is_empty());

    // Live: given up as expired, then the chain shows it landed.
    assert!(
        store
            .reject_order(&lo.key, SkipReason::Expired, 2_000, &Aftermath::default())
            .await
            .unwrap()
    );
    let landed = Fill {
        mode: Mode::Live,
        tx: Some(signature(60)),
        ..live.fill(Side::Buy, 200, 2_000, 0, 4_000)
    };
    let position = Position {
        mode: Mode::Live,
        ..live.position(2_000, 200, 0, 4_000, 4_000)
    };
    assert!(
        store
            .record_fill(&landed, &position, None, &Aftermath::default())
            .await
            .unwrap()
    );
    let rec = store.get_order(&lo.key).await.unwrap().unwrap();
    assert_eq!(
        (rec.status, rec.reason, rec.updated_ms),
        (OrderStatus::Filled, None, 4_000),
        "the chain is the truth"
    );
    assert_eq!(
        store.fills_of(ALICE, 10).await.unwrap(),
        vec![landed.clone()]
    );
    assert_eq!(store.open_positions(ALICE).await.unwrap(), vec![position]);

    // Filled stays filled: a rejection is refused, a replayed fill too.
    assert!(
        !store
            .reject_order(
                &lo.key,
                SkipReason::Interrupted,
                5_000,
                &Aftermath::default()
            )
            .await
            .unwrap()
    );
    assert_eq!(
        store.get_order(&lo.key).await.unwrap().unwrap().status,
        OrderStatus::Filled
    );
    assert!(
        !store
            .record_fill(
                &landed,
                &live.position(1, 1, 0, 4_000, 5_000),
                None,
                &Aftermath::default()
            )
            .await
            .unwrap()
    );
    assert_eq!(store.fills_of(ALICE, 10).await.unwrap().len(), 1);
}

async fn orders_keep_every_rejection_reason(store: &dyn Store) {
    given_users(store, &[ALICE]).await;
    let p = given_profile(store, ALICE, "main", 1).await;
    let reasons = every_skip_reason();
    let orders: Vec<Order> = (0..u32::try_from(reasons.len()).unwrap())
        .map(|i| exit_order(&p, i))
        .collect();
    assert!(
        store
            .insert_orders(&orders, 10)
            .await
            .unwrap()
            .iter()
            .all(|&new| new)
    );
    for (order, reason) in orders.iter().zip(&reasons) {
        assert!(
            store
                .reject_order(&order.key, *reason, 20, &Aftermath::default())
                .await
                .unwrap()
        );
    }
    for (order, reason) in orders.iter().zip(&reasons) {
        let stored = store.get_order(&order.key).await.unwrap().unwrap();
        assert_eq!(
            (stored.status, stored.reason),
            (OrderStatus::Rejected, Some(*reason))
        );
        assert_eq!(&stored.order, order);
    }
    assert!(store.unfinished_orders().await.unwrap().is_empty());
}

async fn orders_insert_in_batches_larger_than_one_statement(store: &dyn Store) {
    given_users(store, &[ALICE]).await;
    let p = given_profile(store, ALICE, "main", 1).await;
    let orders: Vec<Order> = (0..1_200).map(|i| exit_order(&p, i)).collect();

    // Claimed earlier, in what become different statements of the batch.
    assert_eq!(
        store
            .insert_orders(&[orders[3].clone(), orders[777].clone()], 1)
            .await
            .unwrap(),
        vec![true, true]
    );
    let mut batch = orders.clone();
    // The same key again, far enough to land in another statement.
    batch.push(orders[10].clone());
    let new = store.insert_orders(&batch, 2).await.unwrap();
    assert_eq!(new.len(), batch.len());
    let refused: Vec<usize> = new
        .iter()
        .enumerate()
        .filter(|(_, new)| !**new)
        .map(|(i, _)| i)
        .collect();
    assert_eq!(refused, vec![3, 777, 1_200]);

    let unfinished = store.unfinished_orders().await.unwrap();
    assert_eq!(unfinished.len(), 1_200);
    let first_two: HashSet<IdempotencyKey> = unfinished[..2]
        .iter()
        .map(|r| r.order.key.clone())
        .collect();
    assert_eq!(
        first_two,
        HashSet::from([orders[3].key.clone(), orders[777].key.clone()]),
        "oldest first"
    );
    assert!(unfinished.iter().all(|r| r.status == OrderStatus::Pending));
    let stored: HashSet<IdempotencyKey> = unfinished.into_iter().map(|r| r.order.key).collect();
    assert_eq!(
        stored,
        orders.iter().map(|o| o.key.clone()).collect::<HashSet<_>>()
    );
}

// ------------------------------------------------------ fills & positions --

async fn record_fill_is_idempotent(store: &dyn Store) {
    given_users(store, &[ALICE, BOB]).await;
    let alices = given_profile(store, ALICE, "main", 1).await;
    let bobs = given_profile(store, BOB, "main", 1).await;
    let trade = Trade::new(&alices, 1, 2, 7);
    let order = trade.order(Side::Buy, 900);
    store
        .insert_orders(std::slice::from_ref(&order), 900)
        .await
        .unwrap();
    let buy = trade.fill(Side::Buy, 100_000_000, 3_000_000_000, 0, 1_000);
    let position = trade.position(3_000_000_000, 100_000_000, 0, 1_000, 1_000);

    assert!(
        store
            .record_fill(&buy, &position, None, &Aftermath::default())
            .await
            .unwrap()
    );
    let filled = store.get_order(&order.key).await.unwrap();

    // A second call with the same key changes nothing: not the fill, the
    // position, the order, nor a round trip it brings.
    let replayed_position = trade.position(6_000_000_000, 200_000_000, 0, 1_000, 2_000);
    assert!(
        !store
            .record_fill(&buy, &replayed_position, None, &Aftermath::default())
            .await
            .unwrap(),
        "same order key"
    );
    let changed = Fill {
        sol: Lamports(1),
        timestamp_ms: 9_000,
        ..buy.clone()
    };
    let closing = trade.trip(1_000, 9_000, 100_000_000, 1, ExitReason::StopLoss);
    assert!(
        !store
            .record_fill(
                &changed,
                &trade.position(0, 0, 0, 1_000, 9_000),
                Some(&closing),
                &Aftermath::default()
            )
            .await
            .unwrap(),
        "the key is the order's, not the amounts"
    );
    assert_eq!(
        store.open_positions(ALICE).await.unwrap(),
        vec![position.clone()]
    );
    assert_eq!(store.fills_of(ALICE, 10).await.unwrap(), vec![buy.clone()]);
    assert!(store.round_trips(None, 0).await.unwrap().is_empty());
    assert_eq!(store.get_order(&order.key).await.unwrap(), filled);
    assert_eq!(filled.unwrap().updated_ms, 1_000);

    // The other side of the same leader trade, or another profile's copy of
    // it, is another fill.
    let sell = trade.fill(Side::Sell, 50_000_000, 3_000_000_000, -50_000_000, 2_000);
    let trip = trade.trip(
        1_000,
        2_000,
        100_000_000,
        50_000_000,
        ExitReason::LeaderSold,
    );
    assert!(
        store
            .record_fill(
                &sell,
                &trade.position(0, 0, -50_000_000, 1_000, 2_000),
                Some(&trip),
                &Aftermath::default()
            )
            .await
            .unwrap()
    );
    assert!(
        !store
            .record_fill(
                &sell,
                &trade.position(0, 0, -50_000_000, 1_000, 2_000),
                Some(&trip),
                &Aftermath::default()
            )
            .await
            .unwrap()
    );
    let bob = Trade::new(&bobs, 1, 2, 7);
    assert_ne!(bob.key(Side::Buy), buy.key);
    assert!(
        store
            .record_fill(
                &bob.fill(Side::Buy, 100, 1_000, 0, 1_000),
                &bob.position(1_000, 100, 0, 1_000, 1_000),
                None,
                &Aftermath::default(),
            )
            .await
            .unwrap()
    );
    assert_eq!(store.fills_of(ALICE, 10).await.unwrap(), vec![sell, buy]);
    assert!(store.open_positions(ALICE).await.unwrap().is_empty());
    assert_eq!(store.round_trips(None, 0).await.unwrap(), vec![trip]);
}

async fn record_fill_is_idempotent_under_concurrency(store: &dyn Store) {
    given_users(store, &[ALICE]).await;
    let p = given_profile(store, ALICE, "main", 1).await;
    let trade = Trade::new(&p, 1, 2, 8);
    let buy = trade.fill(Side::Buy, 100, 1_000, 0, 1_000);
    let position = trade.position(1_000, 100, 0, 1_000, 1_000);

    let none = Aftermath::default();
    let outcomes = futures_util::future::join_all(
        (0..8).map(|_| store.record_fill(&buy, &position, None, &none)),
    )
    .await;
    let inserted = outcomes
        .into_iter()
        .map(|r| r.expect("a concurrent record_fill failed"))
        .filter(|&inserted| inserted)
        .count();
    assert_eq!(inserted, 1, "exactly one concurrent call records the fill");
    assert_eq!(store.fills_of(ALICE, 10).await.unwrap().len(), 1);
    assert_eq!(store.open_positions(ALICE).await.unwrap(), vec![position]);
}

/// A settlement's skip-log entries and notices commit with it and only
/// with it: rejecting a settled order, a paper fill of a rejected order and
/// all but one of eight concurrent copies of a fill write none of theirs.
async fn settlements_commit_their_aftermath_once(store: &dyn Store) {
    given_users(store, &[ALICE]).await;
    let p = given_profile(store, ALICE, "main", 1).await;
    let private = ChatRef::new(Platform::Telegram, ALICE.id);
    // The decision and the notice of one aftermath share their time.
    let then = |mint: u8, at: i64| Aftermath {
        decisions: vec![decision(&p, 1, mint, at, skipped(SkipReason::Expired))],
        notices: vec![message(private, ALICE, alert(ALICE, at), false)],
        now_ms: at,
    };
    let (given_up, landed) = (Trade::new(&p, 1, 2, 1), Trade::new(&p, 1, 3, 2));
    let (go, lo) = (given_up.order(Side::Buy, 1), landed.order(Side::Buy, 1));
    store
        .insert_orders(&[go.clone(), lo.clone()], 1_000)
        .await
        .unwrap();

    let rejected = then(2, 2_000);
    assert!(
        store
            .reject_order(&go.key, SkipReason::Expired, 2_000, &rejected)
            .await
            .unwrap()
    );
    assert!(
        !store
            .reject_order(&go.key, SkipReason::Interrupted, 2_100, &then(2, 2_100))
            .await
            .unwrap()
    );
    let never_ran = given_up.fill(Side::Buy, 100, 1_000, 0, 2_200);
    assert!(
        !store
            .record_fill(
                &never_ran,
                &given_up.position(1_000, 100, 0, 2_200, 2_200),
                None,
                &then(2, 2_200),
            )
            .await
            .unwrap()
    );

    let buy = landed.fill(Side::Buy, 100, 1_000, 0, 3_000);
    let position = landed.position(1_000, 100, 0, 3_000, 3_000);
    let each: Vec<Aftermath> = (0..8).map(|i| then(3, 3_000 + i)).collect();
    let inserted = futures_util::future::join_all(
        each.iter()
            .map(|then| store.record_fill(&buy, &position, None, then)),
    )
    .await
    .into_iter()
    .map(|r| r.expect("a concurrent record_fill failed"))
    .filter(|&inserted| inserted)
    .count();
    assert_eq!(inserted, 1);

    let logged = store.decisions_of(ALICE, None, 10).await.unwrap();
    assert_eq!(logged.len(), 2, "{logged:?}");
    assert_eq!(logged[1], rejected.decisions[0]);
    let won = logged[0].at_ms;
    assert!((3_000..3_008).contains(&won), "{won}");
    let told: Vec<OutboxPayload> = store
        .pending(100)
        .await
        .unwrap()
        .into_iter()
        .map(|m| m.payload)
        .collect();
    assert_eq!(told, vec![alert(ALICE, 2_000), alert(ALICE, won)]);
}

async fn record_fill_moves_then_closes_the_position(store: &dyn Store) {
    given_users(store, &[ALICE]).await;
    let p = given_profile(store, ALICE, "main", 1).await;
    let other = given_profile(store, ALICE, "other", 2).await;
    let leg = |seed| Trade::new(&p, 1, 2, seed);
    // Live fills with transactions and reasons, positions with every column
    // away from its default.
    let fill = |seed: u8, side, sol, tokens, pnl, at, reason| Fill {
        mode: Mode::Live,
        tx: Some(signature(100 + seed)),
        reason,
        ..leg(seed).fill(side, sol, tokens, pnl, at)
    };
    let exit = |exits| ExitState {
        peak_gain_bps: 4_200,
        peak_ms: 2_500,
        tp1_done: true,
        ladder_done: 0b11,
        be_since_ms: Some(2_600),
        be_armed: true,
        early_peak: true,
        exits,
    };
    #[expect(clippy::too_many_arguments, reason = "one column each")]
    fn position(
        p: &Profile,
        tokens: u64,
        cost: u64,
        pnl: i64,
        bought: (u64, u64),
        sold_sol: u64,
        updated_ms: i64,
        exit: ExitState,
    ) -> Position {
        Position {
            profile: p.id,
            user: p.user,
            mint: wallet(2),
            leader: wallet(1),
            mode: Mode::Live,
            tokens: TokenAmount(tokens),
            cost: Lamports(cost),
            realized_pnl: pnl,
            bought_sol: Lamports(bought.0),
            bought_tokens: TokenAmount(bought.1),
            sold_sol: Lamports(sold_sol),
            opened_ms: 1_000,
            updated_ms,
            exit,
        }
    }

    let steps = [
        (
            fill(1, Side::Buy, 100, 1_000, 0, 1_000, None),
            position(
                &p,
                1_000,
                100,
                0,
                (100, 1_000),
                0,
                1_000,
                ExitState::default(),
            ),
        ),
        (
            fill(2, Side::Buy, 200, 2_000, 0, 2_000, None),
            position(
                &p,
                3_000,
                300,
                0,
                (300, 3_000),
                0,
                2_000,
                ExitState::default(),
            ),
        ),
        (
            fill(
                3,
                Side::Sell,
                150,
                2_000,
                -50,
                3_000,
                Some(ExitReason::TakeProfit),
            ),
            position(&p, 1_000, 100, -50, (300, 3_000), 150, 3_000, exit(1)),
        ),
    ];
    for (fill, after) in &steps {
        assert!(
            store
                .record_fill(fill, after, None, &Aftermath::default())
                .await
                .unwrap()
        );
        assert_eq!(
            store.open_positions(ALICE).await.unwrap(),
            vec![after.clone()]
        );
        assert_eq!(
            store.all_open_positions().await.unwrap(),
            vec![after.clone()]
        );
        assert_eq!(store.fills_of(ALICE, 1).await.unwrap(), vec![fill.clone()]);
    }

    // Selling the rest closes it: the row goes, the round trip is written.
    let close = fill(
        4,
        Side::Sell,
        180,
        1_000,
        80,
        4_000,
        Some(ExitReason::Trailing),
    );
    let trip = RoundTrip {
        mode: Mode::Live,
        pnl: 30,
        ..leg(4).trip(1_000, 4_000, 300, 330, ExitReason::Trailing)
    };
    let closed = position(&p, 0, 0, 30, (300, 3_000), 330, 4_000, exit(2));
    assert!(
        store
            .record_fill(&close, &closed, Some(&trip), &Aftermath::default())
            .await
            .unwrap()
    );
    assert!(store.open_positions(ALICE).await.unwrap().is_empty());
    assert!(store.all_open_positions().await.unwrap().is_empty());
    assert_eq!(
        store.fills_of(ALICE, 10).await.unwrap(),
        vec![
            close,
            steps[2].0.clone(),
            steps[1].0.clone(),
            steps[0].0.clone()
        ],
        "every field round-trips"
    );
    assert_eq!(
        store.round_trips(Some(p.id), 0).await.unwrap(),
        vec![trip.clone()]
    );
    // A second closing fill of that same position (another order) does
    // not write its round trip twice.
    let straggler = fill(5, Side::Sell, 1, 0, 0, 4_100, Some(ExitReason::Trailing));
    assert!(
        store
            .record_fill(&straggler, &closed, Some(&trip), &Aftermath::default())
            .await
            .unwrap()
    );
    assert_eq!(store.round_trips(None, 0).await.unwrap(), vec![trip]);

    // A later buy opens a new position.
    let reopened = leg(6).position(500, 60, 0, 5_000, 5_000);
    assert!(
        store
            .record_fill(
                &leg(6).fill(Side::Buy, 60, 500, 0, 5_000),
                &reopened,
                None,
                &Aftermath::default()
            )
            .await
            .unwrap()
    );
    assert_eq!(
        store.open_positions(ALICE).await.unwrap(),
        vec![reopened.clone()]
    );

    // A fill whose position belongs elsewhere is a caller bug, refused whole.
    let stray_order = leg(7).order(Side::Buy, 6_000);
    store
        .insert_orders(std::slice::from_ref(&stray_order), 6_000)
        .await
        .unwrap();
    let stray = leg(7).fill(Side::Buy, 1, 1, 0, 6_000);
    for elsewhere in [
        Trade::new(&p, 1, 9, 7).position(1, 1, 0, 6_000, 6_000),
        Trade::new(&p, 9, 2, 7).position(1, 1, 0, 6_000, 6_000),
        Trade::new(&other, 1, 2, 7).position(1, 1, 0, 6_000, 6_000),
    ] {
        let err = store
            .record_fill(&stray, &elsewhere, None, &Aftermath::default())
            .await
            .unwrap_err();
        assert!(format!("{err:#}").contains("fill's own"), "{err:#}");
    }
    assert_eq!(store.fills_of(ALICE, 10).await.unwrap().len(), 6);
    assert_eq!(store.all_open_positions().await.unwrap(), vec![reopened]);
    assert_eq!(
        store.get_order(&stray_order.key).await.unwrap(),
        Some(pending_order(&stray_order, 6_000))
    );
}

/// Fills and round trips have no foreign keys (history outlives profiles);
/// open positions reference their profile.
async fn record_fill_after_the_profile_is_gone(store: &dyn Store) {
    given_users(store, &[ALICE]).await;
    let gone = given_profile(store, ALICE, "gone", 1).await;
    let trade = Trade::new(&gone, 1, 2, 3);
    assert!(store.delete_profile(gone.id).await.unwrap());

    // A fill that leaves tokens open needs the profile: refused whole.
    let buy = trade.fill(Side::Buy, 100, 1_000, 0, 10);
    assert!(
        store
            .record_fill(
                &buy,
                &trade.position(1_000, 100, 0, 10, 10),
                None,
                &Aftermath::default()
            )
            .await
            .is_err()
    );
    assert!(store.fills_of(ALICE, 10).await.unwrap().is_empty());
    assert!(store.all_open_positions().await.unwrap().is_empty());

    // A fill that leaves nothing open (an order that was under way when the
    // profile was deleted) is kept as history, with its round trip.
    let sell = trade.fill(Side::Sell, 150, 1_000, 50, 20);
    let trip = trade.trip(10, 20, 100, 150, ExitReason::LeaderSold);
    assert!(
        store
            .record_fill(
                &sell,
                &trade.position(0, 0, 50, 10, 20),
                Some(&trip),
                &Aftermath::default()
            )
            .await
            .unwrap()
    );
    assert_eq!(store.fills_of(ALICE, 10).await.unwrap(), vec![sell]);
    assert_eq!(
        store.round_trips(Some(gone.id), 0).await.unwrap(),
        vec![trip]
    );
    assert!(store.all_open_positions().await.unwrap().is_empty());
}

async fn save_exit_states_touches_only_open_positions_exit_state(store: &dyn Store) {
    given_users(store, &[ALICE]).await;
    let p = given_profile(store, ALICE, "main", 1).await;
    let (a, b, closed) = (
        Trade::new(&p, 1, 2, 1),
        Trade::new(&p, 1, 3, 2),
        Trade::new(&p, 1, 4, 3),
    );
    let pa = a.position(1_000, 100, 0, 1_000, 1_000);
    let pb = b.position(2_000, 200, 0, 2_000, 2_000);
    for (trade, position) in [(&a, &pa), (&b, &pb)] {
        let fill = trade.fill(
            Side::Buy,
            position.cost.0,
            position.tokens.0,
            0,
            position.opened_ms,
        );
        assert!(
            store
                .record_fill(&fill, position, None, &Aftermath::default())
                .await
                .unwrap()
        );
    }
    store.save_exit_states(&[]).await.unwrap();

    let peaked = ExitState {
        peak_gain_bps: 4_200,
        peak_ms: 5_000,
        tp1_done: true,
        ladder_done: 0b101,
        be_since_ms: Some(4_000),
        be_armed: true,
        early_peak: true,
        exits: 3,
    };
    // Only the exit state is saved, whatever else the caller's copy says;
    // a position that closed meanwhile is skipped.
    let moved = Position {
        tokens: TokenAmount(1),
        cost: Lamports(1),
        realized_pnl: 99,
        updated_ms: 9_999,
        exit: peaked,
        ..pa.clone()
    };
    let gone = Position {
        exit: peaked,
        ..closed.position(3_000, 300, 0, 3_000, 3_000)
    };
    store.save_exit_states(&[moved, gone]).await.unwrap();
    assert_eq!(
        store.open_positions(ALICE).await.unwrap(),
        vec![
            Position {
                exit: peaked,
                ..pa.clone()
            },
            pb.clone()
        ]
    );

    let again = ExitState {
        peak_gain_bps: -300,
        be_since_ms: None,
        ..ExitState::default()
    };
    store
        .save_exit_states(&[
            Position {
                exit: again,
                ..pa.clone()
            },
            Position {
                exit: peaked,
                ..pb.clone()
            },
        ])
        .await
        .unwrap();
    assert_eq!(
        store.open_positions(ALICE).await.unwrap(),
        vec![
            Position {
                exit: again,
                ..pa.clone()
            },
            Position { exit: peaked, ..pb }
        ]
    );

    // A snapshot taken before the position closed and reopened (same
    // profile, leader and mint, opened later) is of a position that closed
    // meanwhile: skipped, the new position keeps its own state.
    let stale = Position {
        exit: peaked,
        ..pa.clone()
    };
    let sell = a.fill(Side::Sell, 150, 1_000, 50, 6_000);
    assert!(
        store
            .record_fill(
                &sell,
                &a.position(0, 0, 50, 1_000, 6_000),
                None,
                &Aftermath::default()
            )
            .await
            .unwrap()
    );
    let again_trade = Trade::new(&p, 1, 2, 4);
    let reopened = again_trade.position(500, 70, 0, 7_000, 7_000);
    assert!(
        store
            .record_fill(
                &again_trade.fill(Side::Buy, 70, 500, 0, 7_000),
                &reopened,
                None,
                &Aftermath::default()
            )
            .await
            .unwrap()
    );
    store.save_exit_states(&[stale]).await.unwrap();
    assert_eq!(
        store.open_positions(ALICE).await.unwrap()[1],
        reopened,
        "the reopened position's exit state stays"
    );
}

async fn open_positions_per_user_and_overall(store: &dyn Store) {
    given_users(store, &[ALICE, BOB]).await;
    let one = given_profile(store, ALICE, "one", 1).await;
    let two = given_profile(store, ALICE, "two", 2).await;
    let bobs = given_profile(store, BOB, "bob", 3).await;
    let trades = [
        (Trade::new(&one, 1, 10, 1), 3_000),
        // Same leader and mint in another profile: a position of its own.
        (Trade::new(&two, 1, 10, 2), 1_000),
        // Same mint, another leader: a position of its own.
        (Trade::new(&one, 2, 10, 3), 2_000),
        (Trade::new(&one, 1, 11, 4), 4_000),
        (Trade::new(&bobs, 1, 10, 5), 500),
    ];
    let mut opened = Vec::new();
    for (i, (trade, at)) in trades.iter().enumerate() {
        let n = u64::try_from(i).unwrap() + 1;
        let position = trade.position(1_000 * n, 100 * n, 0, *at, *at);
        let fill = trade.fill(Side::Buy, 100 * n, 1_000 * n, 0, *at);
        assert!(
            store
                .record_fill(&fill, &position, None, &Aftermath::default())
                .await
                .unwrap()
        );
        opened.push(position);
    }

    assert_eq!(
        store.open_positions(ALICE).await.unwrap(),
        vec![
            opened[1].clone(),
            opened[2].clone(),
            opened[0].clone(),
            opened[3].clone()
        ],
        "oldest first, across profiles"
    );
    assert_eq!(
        store.open_positions(BOB).await.unwrap(),
        vec![opened[4].clone()]
    );
    assert!(store.open_positions(NOBODY).await.unwrap().is_empty());
    assert_eq!(
        by_key(store.all_open_positions().await.unwrap()),
        by_key(opened)
    );
}

async fn fills_newest_first_with_limit(store: &dyn Store) {
    given_users(store, &[ALICE, BOB]).await;
    let main = given_profile(store, ALICE, "main", 1).await;
    let side_profile = given_profile(store, ALICE, "side", 2).await;
    let bobs = given_profile(store, BOB, "main", 3).await;
    let mut recorded = Vec::new();
    for (seed, at) in [(1, 3_000), (2, 1_000), (3, 5_000), (4, 2_000), (5, 4_000)] {
        let trade = Trade::new(&main, 1, 2, seed);
        let fill = if seed % 2 == 0 {
            trade.fill(Side::Sell, 1_234_567_891, 987_654_321_000, -42_000_001, at)
        } else {
            trade.fill(Side::Buy, 250_000_000, 8_000_000_000_000, 0, at)
        };
        assert!(
            store
                .record_fill(
                    &fill,
                    &trade.position(1, 1, 0, 1_000, at),
                    None,
                    &Aftermath::default()
                )
                .await
                .unwrap()
        );
        recorded.push(fill);
    }
    // Another of her profiles: her fills too.
    let side = Trade::new(&side_profile, 3, 4, 6);
    let side_fill = Fill {
        reason: Some(ExitReason::Ladder(3)),
        mode: Mode::Live,
        tx: Some(signature(66)),
        ..side.fill(Side::Sell, 7, 8, 1, 3_500)
    };
    assert!(
        store
            .record_fill(
                &side_fill,
                &side.position(0, 0, 1, 3_000, 3_500),
                None,
                &Aftermath::default()
            )
            .await
            .unwrap()
    );
    recorded.push(side_fill);
    let bob = Trade::new(&bobs, 1, 2, 1);
    store
        .record_fill(
            &bob.fill(Side::Buy, 1, 1, 0, 9_000),
            &bob.position(1, 1, 0, 9_000, 9_000),
            None,
            &Aftermath::default(),
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

async fn fills_since_and_entered_mints(store: &dyn Store) {
    given_users(store, &[ALICE, BOB]).await;
    let a = given_profile(store, ALICE, "a", 1).await;
    let a2 = given_profile(store, ALICE, "a2", 2).await;
    let b = given_profile(store, BOB, "b", 3).await;
    // (profile, leader, mint, side, at)
    let legs = [
        (&a, 1, 10, Side::Buy, 1_000),
        (&a, 2, 10, Side::Buy, 3_000),
        (&a, 1, 11, Side::Buy, 2_000),
        (&a, 1, 12, Side::Sell, 4_000),
        (&a2, 1, 12, Side::Sell, 2_500),
        (&b, 1, 10, Side::Buy, 2_000),
        (&b, 1, 13, Side::Sell, 5_000),
    ];
    let mut fills = Vec::new();
    for (seed, (profile, leader, mint, side, at)) in legs.into_iter().enumerate() {
        let trade = Trade::new(profile, leader, mint, u8::try_from(seed).unwrap() + 1);
        let fill = trade.fill(side, 100, 1_000, 0, at);
        let after = match side {
            Side::Buy => trade.position(1_000, 100, 0, at, at),
            Side::Sell => trade.position(0, 0, 0, at, at),
        };
        assert!(
            store
                .record_fill(&fill, &after, None, &Aftermath::default())
                .await
                .unwrap()
        );
        fills.push(fill);
    }
    let since = |ms: i64| {
        let mut v: Vec<Fill> = fills
            .iter()
            .filter(|f| f.timestamp_ms >= ms)
            .cloned()
            .collect();
        v.sort_by_key(|f| f.timestamp_ms);
        v
    };

    let got = store.fills_since(2_000).await.unwrap();
    assert_eq!(got.len(), 6, "at or after, every user");
    assert_eq!(
        got.iter().map(|f| f.timestamp_ms).collect::<Vec<_>>(),
        vec![2_000, 2_000, 2_500, 3_000, 4_000, 5_000],
        "oldest first"
    );
    // The two at 2 000 in the order they were recorded.
    assert_eq!(got, since(2_000));
    assert_eq!(store.fills_since(i64::MIN).await.unwrap(), since(i64::MIN));
    assert_eq!(store.fills_since(5_000).await.unwrap(), since(5_000));
    assert!(store.fills_since(5_001).await.unwrap().is_empty());

    let mut entered = store.entered_mints().await.unwrap();
    entered.sort();
    assert_eq!(
        entered,
        vec![(a.id, wallet(10)), (a.id, wallet(11)), (b.id, wallet(10))],
        "each bought (profile, mint) once; sells do not count"
    );
}

async fn round_trips_per_profile_or_all_since(store: &dyn Store) {
    given_users(store, &[ALICE, BOB]).await;
    let a = given_profile(store, ALICE, "a", 1).await;
    let b = given_profile(store, BOB, "b", 2).await;
    let exits = every_exit_reason();
    let closes = [
        (&a, 3_000),
        (&b, 2_000),
        (&a, 1_000),
        (&a, 5_000),
        (&b, 4_000),
        (&a, 4_000),
        (&b, 6_000),
        (&a, 7_000),
    ];
    assert_eq!(closes.len(), exits.len());
    let mut trips = Vec::new();
    for (i, ((profile, closed_ms), exit)) in closes.into_iter().zip(exits).enumerate() {
        let seed = u8::try_from(i).unwrap() + 1;
        let trade = Trade::new(profile, 1, 10 + seed, seed);
        let trip = trade.trip(
            closed_ms - 500,
            closed_ms,
            100,
            100 + u64::from(seed) * 7,
            exit,
        );
        let sell = Fill {
            reason: Some(exit),
            ..trade.fill(Side::Sell, trip.proceeds.0, 1_000, trip.pnl, closed_ms)
        };
        assert!(
            store
                .record_fill(
                    &sell,
                    &trade.position(0, 0, trip.pnl, closed_ms - 500, closed_ms),
                    Some(&trip),
                    &Aftermath::default()
                )
                .await
                .unwrap()
        );
        trips.push(trip);
    }
    let expect = |profile: Option<ProfileId>, since: i64| {
        let mut v: Vec<RoundTrip> = trips
            .iter()
            .filter(|t| profile.is_none_or(|p| t.profile == p) && t.closed_ms >= since)
            .cloned()
            .collect();
        v.sort_by_key(|t| t.closed_ms);
        v
    };

    let alices = store.round_trips(Some(a.id), 0).await.unwrap();
    assert_eq!(
        alices.iter().map(|t| t.closed_ms).collect::<Vec<_>>(),
        vec![1_000, 3_000, 4_000, 5_000, 7_000],
        "oldest first"
    );
    assert_eq!(alices, expect(Some(a.id), 0), "every field round-trips");
    assert_eq!(
        store.round_trips(Some(a.id), 4_000).await.unwrap(),
        expect(Some(a.id), 4_000),
        "at or after"
    );
    assert_eq!(
        store.round_trips(Some(b.id), 0).await.unwrap(),
        expect(Some(b.id), 0)
    );
    assert_eq!(store.round_trips(None, 0).await.unwrap(), expect(None, 0));
    assert_eq!(
        store.round_trips(None, i64::MIN).await.unwrap(),
        expect(None, 0)
    );
    assert_eq!(
        store.round_trips(None, 4_000).await.unwrap(),
        expect(None, 4_000)
    );
    assert!(store.round_trips(None, 7_001).await.unwrap().is_empty());
    assert!(store.round_trips(Some(GHOST), 0).await.unwrap().is_empty());
}

// -------------------------------------------------------------- decisions --

async fn decisions_newest_first_about_a_mint_or_leader(store: &dyn Store) {
    given_users(store, &[ALICE, BOB]).await;
    let a = given_profile(store, ALICE, "a", 1).await;
    let a2 = given_profile(store, ALICE, "a2", 2).await;
    let b = given_profile(store, BOB, "b", 3).await;
    let placed = |sol| Verdict::Placed {
        key: IdempotencyKey::copy(a.id, &signature(1), Side::Buy),
        intent: Intent::Copy,
        sol: Lamports(sol),
        tokens: TokenAmount(0),
    };
    // The address 50 is a leader in one and a mint in another.
    let alices = [
        decision(&a, 1, 10, 100, placed(1)),
        decision(&a2, 2, 10, 200, skipped(SkipReason::TooSmall)),
        decision(&a, 1, 11, 300, skipped(SkipReason::FirstBuyOnly)),
        decision(&a, 3, 12, 400, skipped(SkipReason::Blacklisted)),
        decision(&a, 50, 11, 500, skipped(SkipReason::NotSellable)),
        DecisionRecord {
            side: Side::Sell,
            signature: None,
            ..decision(&a2, 2, 50, 600, skipped(SkipReason::NoPosition))
        },
    ];
    let bobs = decision(&b, 1, 10, 250, placed(2));
    store.log_decisions(&[]).await.unwrap();
    let mut batch = alices.to_vec();
    batch.insert(2, bobs.clone());
    store.log_decisions(&batch).await.unwrap();
    let newest_first = |picks: &[usize]| -> Vec<DecisionRecord> {
        picks.iter().map(|&i| alices[i].clone()).collect()
    };
    let of = |about: Option<u8>, limit| store.decisions_of(ALICE, about.map(wallet), limit);

    assert_eq!(
        of(None, 100).await.unwrap(),
        newest_first(&[5, 4, 3, 2, 1, 0])
    );
    assert_eq!(of(None, 2).await.unwrap(), newest_first(&[5, 4]));
    assert!(of(None, 0).await.unwrap().is_empty());
    assert_eq!(
        of(Some(10), 100).await.unwrap(),
        newest_first(&[1, 0]),
        "mint"
    );
    assert_eq!(
        of(Some(1), 100).await.unwrap(),
        newest_first(&[2, 0]),
        "leader"
    );
    assert_eq!(
        of(Some(50), 100).await.unwrap(),
        newest_first(&[5, 4]),
        "mint or leader"
    );
    assert_eq!(of(Some(50), 1).await.unwrap(), newest_first(&[5]));
    assert!(of(Some(99), 10).await.unwrap().is_empty());
    assert_eq!(
        store.decisions_of(BOB, None, 10).await.unwrap(),
        vec![bobs.clone()]
    );
    assert_eq!(
        store.decisions_of(BOB, Some(wallet(10)), 10).await.unwrap(),
        vec![bobs]
    );
    assert!(
        store
            .decisions_of(NOBODY, None, 10)
            .await
            .unwrap()
            .is_empty()
    );

    // A later batch is newer.
    let latest = decision(&a, 1, 10, 700, skipped(SkipReason::Paused));
    store
        .log_decisions(std::slice::from_ref(&latest))
        .await
        .unwrap();
    assert_eq!(
        of(Some(10), 2).await.unwrap(),
        vec![latest, alices[1].clone()]
    );
}

async fn decisions_keep_every_verdict(store: &dyn Store) {
    given_users(store, &[ALICE]).await;
    let p = given_profile(store, ALICE, "main", 1).await;
    let records: Vec<DecisionRecord> = every_verdict(&p)
        .into_iter()
        .enumerate()
        .map(|(i, verdict)| {
            let i = i64::try_from(i).unwrap();
            DecisionRecord {
                side: if i % 2 == 0 { Side::Buy } else { Side::Sell },
                signature: (i % 3 != 0).then(|| signature(7)),
                ..decision(&p, 1, 2, 1_000 + i, verdict)
            }
        })
        .collect();
    store.log_decisions(&records).await.unwrap();
    let mut got = store.decisions_of(ALICE, None, 1_000).await.unwrap();
    got.reverse();
    assert_eq!(got, records, "every field of every verdict round-trips");
}

async fn decisions_log_in_batches_larger_than_one_statement(store: &dyn Store) {
    given_users(store, &[ALICE]).await;
    let p = given_profile(store, ALICE, "main", 1).await;
    let records: Vec<DecisionRecord> = (0..1_234)
        .map(|i| DecisionRecord {
            mint: nth_address(8, i),
            ..decision(&p, 1, 2, i64::from(i), skipped(SkipReason::TooSmall))
        })
        .collect();
    store.log_decisions(&records).await.unwrap();

    let mut newest_first = records.clone();
    newest_first.reverse();
    assert_eq!(
        store.decisions_of(ALICE, None, 2_000).await.unwrap(),
        newest_first
    );
    assert_eq!(
        store.decisions_of(ALICE, None, 10).await.unwrap(),
        newest_first[..10].to_vec()
    );
    assert_eq!(
        store
            .decisions_of(ALICE, Some(nth_address(8, 600)), 10)
            .await
            .unwrap(),
        vec![records[600].clone()]
    );
    assert_eq!(
        store.decisions_of(ALICE, Some(wallet(1)), 5).await.unwrap(),
        newest_first[..5].to_vec()
    );
}

// ------------------------------------------------------------------- keys --

fn key(user: UserRef, wallet_seed: u8, created_ms: i64, sealed: &str) -> KeyRecord {
    KeyRecord {
        user,
        wallet: wallet(wallet_seed),
        sealed: sealed.to_owned(),
        created_ms,
        exported_ms: None,
        archived_ms: None,
    }
}

async fn all_keys_by_owner(store: &dyn Store) -> Vec<KeyRecord> {
    let mut keys = store.all_keys().await.unwrap();
    keys.sort_by_key(|k| (k.user, k.wallet));
    keys
}

async fn keys_add_get_list_and_delete(store: &dyn Store) {
    given_users(store, &[ALICE, BOB]).await;
    let k1 = key(ALICE, 1, 20, "v1:alice:one");
    let k2 = key(ALICE, 2, 10, "v1:alice:two");
    let k3 = key(BOB, 1, 5, "v1:bob:one");
    for k in [&k1, &k2, &k3] {
        assert!(store.add_key(k).await.unwrap(), "{k:?}");
    }
    // The same user and wallet again: refused, the stored key stays.
    let other = KeyRecord {
        sealed: "v1:someone else".into(),
        created_ms: 99,
        ..k1.clone()
    };
    assert!(!store.add_key(&other).await.unwrap());

    assert_eq!(
        store.get_key(ALICE, wallet(1)).await.unwrap(),
        Some(k1.clone())
    );
    assert_eq!(
        store.get_key(ALICE, wallet(2)).await.unwrap(),
        Some(k2.clone())
    );
    assert_eq!(
        store.get_key(BOB, wallet(1)).await.unwrap(),
        Some(k3.clone())
    );
    assert_eq!(store.get_key(BOB, wallet(2)).await.unwrap(), None);
    assert_eq!(store.get_key(NOBODY, wallet(1)).await.unwrap(), None);
    assert_eq!(
        store.keys_of(ALICE).await.unwrap(),
        vec![k2.clone(), k1.clone()],
        "oldest first"
    );
    assert_eq!(store.keys_of(BOB).await.unwrap(), vec![k3.clone()]);
    assert!(store.keys_of(NOBODY).await.unwrap().is_empty());
    assert_eq!(
        all_keys_by_owner(store).await,
        vec![k1.clone(), k2.clone(), k3.clone()]
    );

    assert!(
        store
            .tombstone_key(ALICE, wallet(1), 30, 1_000)
            .await
            .unwrap()
    );
    assert!(
        !store
            .tombstone_key(ALICE, wallet(1), 31, 1_000)
            .await
            .unwrap(),
        "deleted"
    );
    assert!(
        !store
            .tombstone_key(NOBODY, wallet(1), 30, 1_000)
            .await
            .unwrap()
    );
    assert_eq!(store.get_key(ALICE, wallet(1)).await.unwrap(), None);
    assert_eq!(store.keys_of(ALICE).await.unwrap(), vec![k2]);
    assert_eq!(
        store.get_key(BOB, wallet(1)).await.unwrap(),
        Some(k3),
        "the same wallet of another user stays"
    );
    assert!(store.add_key(&k1).await.unwrap(), "stored again");
}

async fn keys_reseal_all_or_nothing(store: &dyn Store) {
    given_users(store, &[ALICE, BOB]).await;
    let keys = [
        key(ALICE, 1, 20, "v1:alice:one"),
        key(ALICE, 2, 10, "v1:alice:two"),
        key(BOB, 1, 5, "v1:bob:one"),
    ];
    for k in &keys {
        assert!(store.add_key(k).await.unwrap());
    }
    let rotated = |k: &KeyRecord| KeyRecord {
        sealed: format!("v2:{}", k.sealed),
        ..k.clone()
    };

    let never_stored = key(ALICE, 9, 1, "v2:never stored");
    let err = store
        .reseal_keys(&[rotated(&keys[0]), rotated(&keys[2]), never_stored], &[])
        .await
        .unwrap_err();
    assert!(format!("{err:#}").contains("no stored key"), "{err:#}");
    assert_eq!(all_keys_by_owner(store).await, keys, "nothing changed");
    // Keys are per user: Bob has no key for Alice's second wallet.
    let bobs_guess = KeyRecord {
        user: BOB,
        ..rotated(&keys[1])
    };
    assert!(
        store
            .reseal_keys(&[rotated(&keys[0]), bobs_guess], &[])
            .await
            .is_err()
    );
    assert_eq!(all_keys_by_owner(store).await, keys, "nothing changed");

    store.reseal_keys(&[], &[]).await.unwrap();
    // Only the sealed text changes.
    let sent: Vec<KeyRecord> = keys
        .iter()
        .map(|k| KeyRecord {
            created_ms: 0,
            ..rotated(k)
        })
        .collect();
    store.reseal_keys(&sent, &[]).await.unwrap();
    assert_eq!(
        all_keys_by_owner(store).await,
        keys.iter().map(rotated).collect::<Vec<_>>()
    );
}

async fn key_records_never_print_the_sealed_text(store: &dyn Store) {
    given_users(store, &[ALICE]).await;
    let secret = "v1:c2VjcmV0LXNlYWxlZC1rZXktbWF0ZXJpYWw";
    assert!(store.add_key(&key(ALICE, 1, 1, secret)).await.unwrap());
    let stored = store.get_key(ALICE, wallet(1)).await.unwrap().unwrap();
    assert_eq!(stored.sealed, secret);
    for text in [
        format!("{stored:?}"),
        format!("{stored:#?}"),
        format!("{:?}", store.keys_of(ALICE).await.unwrap()),
        format!("{:?}", store.all_keys().await.unwrap()),
    ] {
        assert!(!text.contains("c2VjcmV0"), "{text}");
        assert!(
            text.contains(&format!("<{} bytes>", secret.len())),
            "{text}"
        );
        assert!(text.contains(&wallet(1).to_string()), "{text}");
    }
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

fn note(profile_name: &str, mode: Mode, verdict: Verdict) -> CopyNote {
    CopyNote {
        profile_name: profile_name.to_owned(),
        mode,
        verdict,
    }
}

/// An alert whose copy was skipped.
fn alert(user: UserRef, at: i64) -> OutboxPayload {
    OutboxPayload::Trade {
        alert: leader_alert(user, Side::Buy, at),
        copies: vec![note("main", Mode::Paper, skipped(SkipReason::NoPosition))],
    }
}

/// An alert with the copies its profiles placed and skipped.
fn paper_fill(user: UserRef, at: i64) -> OutboxPayload {
    let placed = Verdict::Placed {
        key: IdempotencyKey::copy(ProfileId(1), &signature(3), Side::Sell),
        intent: Intent::Exit(ExitReason::LeaderSold),
        sol: Lamports(0),
        tokens: TokenAmount(20),
    };
    OutboxPayload::Trade {
        alert: leader_alert(user, Side::Sell, at),
        copies: vec![
            note("main", Mode::Paper, placed),
            note("degen", Mode::Live, skipped(SkipReason::CopySellsOff)),
        ],
    }
}

fn message(chat: ChatRef, user: UserRef, payload: OutboxPayload, silent: bool) -> NewMessage {
    NewMessage {
        chat,
        user,
        payload,
        silent,
    }
}

/// Queues one message; its id.
async fn enqueue_one(store: &dyn Store, chat: ChatRef, payload: OutboxPayload, at: i64) -> i64 {
    let ids = store
        .enqueue(&[message(chat, ALICE, payload, false)], at)
        .await
        .unwrap();
    assert_eq!(ids.len(), 1);
    ids[0]
}

async fn expiring_messages_fall_due_by_platform_and_time(store: &dyn Store) {
    let private = ChatRef::new(Platform::Telegram, ALICE.id);
    let group = ChatRef::new(Platform::Telegram, -1_001_234_567_890);
    let discord = ChatRef::new(Platform::Discord, 987_654_321_987_654_321);
    let at = |chat, message_id, delete_at_ms| Expiring {
        chat,
        message_id,
        delete_at_ms,
    };
    let telegram = |now, limit| store.expiring_due(Platform::Telegram, now, limit);
    assert_eq!(telegram(i64::MAX, 10).await.unwrap(), vec![]);
    for m in [
        at(private, 7, 3_000),
        at(group, 2_147_483_647, 1_000),
        at(private, 8, 2_000),
        at(discord, 1_234_567_890_123, 500),
    ] {
        store.add_expiring(&m).await.unwrap();
    }
    assert_eq!(telegram(999, 10).await.unwrap(), vec![], "none due yet");
    assert_eq!(
        telegram(2_000, 10).await.unwrap(),
        vec![at(group, 2_147_483_647, 1_000), at(private, 8, 2_000)],
        "due ones, most overdue first"
    );
    assert_eq!(
        telegram(5_000, 1).await.unwrap(),
        vec![at(group, 2_147_483_647, 1_000)]
    );
    assert_eq!(
        store
            .expiring_due(Platform::Discord, 5_000, 10)
            .await
            .unwrap(),
        vec![at(discord, 1_234_567_890_123, 500)]
    );
    // Recording a message again moves its time.
    store.add_expiring(&at(private, 7, 100)).await.unwrap();
    store.remove_expiring(group, 2_147_483_647).await.unwrap();
    store.remove_expiring(group, 1).await.unwrap();
    assert_eq!(
        telegram(5_000, 10).await.unwrap(),
        vec![at(private, 7, 100), at(private, 8, 2_000)]
    );
}

async fn outbox_pending_oldest_first_until_sent(store: &dyn Store) {
    let private = ChatRef::new(Platform::Telegram, ALICE.id);
    let group = ChatRef::new(Platform::Telegram, -1_001_234_567_890);
    let discord = ChatRef::new(Platform::Discord, 987_654_321_987_654_321);
    let sent = [
        (private, ALICE, alert(ALICE, 100), false, 100),
        (group, ALICE, paper_fill(ALICE, 200), true, 200),
        (
            discord,
            DISCORD_ALICE,
            alert(DISCORD_ALICE, 300),
            false,
            300,
        ),
    ];
    let mut expected = Vec::new();
    for (chat, user, payload, silent, at) in sent {
        let ids = store
            .enqueue(&[message(chat, user, payload.clone(), silent)], at)
            .await
            .unwrap();
        assert_eq!(ids.len(), 1);
        expected.push(OutboxMessage {
            id: ids[0],
            chat,
            user,
            payload,
            silent,
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

async fn outbox_enqueues_batches_in_order_with_silent_flags(store: &dyn Store) {
    assert!(store.enqueue(&[], 1).await.unwrap().is_empty());
    assert!(store.pending(10).await.unwrap().is_empty());

    let chat = ChatRef::new(Platform::Telegram, ALICE.id);
    let batch: Vec<NewMessage> = (0..3)
        .map(|i| message(chat, ALICE, alert(ALICE, i), i != 1))
        .collect();
    let ids = store.enqueue(&batch, 100).await.unwrap();
    assert_eq!(ids.len(), 3);
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "ascending: {ids:?}");
    let as_pending = |ids: &[i64], batch: &[NewMessage], at: i64| -> Vec<OutboxMessage> {
        ids.iter()
            .zip(batch)
            .map(|(&id, m)| OutboxMessage {
                id,
                chat: m.chat,
                user: m.user,
                payload: m.payload.clone(),
                silent: m.silent,
                created_ms: at,
                attempts: 0,
            })
            .collect()
    };
    assert_eq!(
        store.pending(10).await.unwrap(),
        as_pending(&ids, &batch, 100)
    );

    // More than one statement carries, in one transaction; ids still
    // follow the input.
    let big: Vec<NewMessage> = (0..1_100)
        .map(|i| {
            message(
                ChatRef::new(Platform::Telegram, i),
                ALICE,
                alert(ALICE, i),
                i % 3 == 0,
            )
        })
        .collect();
    let big_ids = store.enqueue(&big, 200).await.unwrap();
    assert_eq!(big_ids.len(), 1_100);
    assert!(big_ids.windows(2).all(|w| w[0] < w[1]));
    assert!(big_ids[0] > ids[2]);
    let pending = store.pending(2_000).await.unwrap();
    assert_eq!(pending.len(), 1_103);
    assert_eq!(pending[3..].to_vec(), as_pending(&big_ids, &big, 200));
}

/// A chat with a long queue (say, one that is failing) takes at most
/// `PENDING_PER_CHAT` places of a batch, its oldest, so other chats'
/// messages are still loaded.
async fn outbox_pending_caps_each_chats_share(store: &dyn Store) {
    let busy = ChatRef::new(Platform::Telegram, ALICE.id);
    let quiet = ChatRef::new(Platform::Telegram, -1_009);
    let per_chat = alfabot::domain::ports::PENDING_PER_CHAT;
    let many: Vec<NewMessage> = (0..per_chat + 15)
        .map(|i| message(busy, ALICE, alert(ALICE, i64::from(i)), false))
        .collect();
    let busy_ids = store.enqueue(&many, 1).await.unwrap();
    let quiet_id = enqueue_one(store, quiet, alert(ALICE, 999), 2).await;

    let pending = store.pending(1_000).await.unwrap();
    let busy_got: Vec<i64> = pending
        .iter()
        .filter(|m| m.chat == busy)
        .map(|m| m.id)
        .collect();
    assert_eq!(
        busy_got,
        busy_ids[..per_chat as usize],
        "the busy chat's oldest"
    );
    assert_eq!(
        pending.iter().filter(|m| m.chat == quiet).count(),
        1,
        "the quiet chat's message is loaded behind the busy chat's queue"
    );
    assert_eq!(pending.last().map(|m| m.id), Some(quiet_id), "oldest first");
    // The limit still applies, oldest first across chats.
    let first = store.pending(5).await.unwrap();
    assert_eq!(
        first.iter().map(|m| m.id).collect::<Vec<_>>(),
        busy_ids[..5]
    );
    // Once the busy chat's first messages are sent, the next ones come up.
    for id in &busy_ids[..10] {
        store.mark_sent(*id, 3).await.unwrap();
    }
    let busy_next: Vec<i64> = store
        .pending(1_000)
        .await
        .unwrap()
        .iter()
        .filter(|m| m.chat == busy)
        .map(|m| m.id)
        .collect();
    assert_eq!(busy_next, busy_ids[10..10 + per_chat as usize]);
}

async fn outbox_failures_count_then_park(store: &dyn Store) {
    let chat = ChatRef::new(Platform::Telegram, ALICE.id);
    let first = enqueue_one(store, chat, alert(ALICE, 1), 1).await;
    let second = enqueue_one(store, chat, alert(ALICE, 2), 2).await;

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
    let bad = enqueue_one(&store, chat, alert(ALICE, 1), 1).await;
    let good = enqueue_one(&store, chat, alert(ALICE, 2), 2).await;

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
        enqueue_one(store, chat, p.clone(), 20 + i as i64).await;
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

async fn outbox_carries_every_payload_kind(store: &dyn Store) {
    let trade = Trade {
        profile: ProfileId(7),
        user: ALICE,
        leader: wallet(1),
        mint: wallet(2),
        signature: signature(3),
    };
    let main = || "main".to_owned();
    let payloads = vec![
        OutboxPayload::Trade {
            alert: leader_alert(ALICE, Side::Buy, 10),
            copies: vec![
                note(
                    "main",
                    Mode::Paper,
                    Verdict::Placed {
                        key: trade.key(Side::Buy),
                        intent: Intent::Consensus {
                            voters: 3,
                            weight_milli: 2_750,
                        },
                        sol: Lamports(100_000_000),
                        tokens: TokenAmount(0),
                    },
                ),
                note(
                    "live one",
                    Mode::Live,
                    skipped(SkipReason::MaxTrades {
                        max: 5,
                        tier: RiskTier::Caution,
                    }),
                ),
            ],
        },
        OutboxPayload::Trade {
            alert: leader_alert(ALICE, Side::Sell, 11),
            copies: vec![],
        },
        OutboxPayload::Fill {
            fill: Fill {
                mode: Mode::Live,
                tx: Some(signature(9)),
                reason: Some(ExitReason::Ladder(2)),
                ..trade.fill(Side::Sell, 1_234_567_891, 987, -42, 12)
            },
            profile_name: main(),
        },
        OutboxPayload::Rejected {
            order: trade.live_order(Side::Buy, 13),
            profile_name: main(),
            reason: SkipReason::TokenScreen {
                screen: ScreenReason::FreezeAuthority,
            },
        },
        OutboxPayload::Closed {
            trip: trade.trip(1, 14, 100, 250, ExitReason::TakeProfit),
            profile_name: main(),
        },
        OutboxPayload::Risk {
            profile_name: main(),
            event: RiskEvent::TierChanged {
                from: RiskTier::Normal,
                to: RiskTier::Critical,
                daily_pnl: -600_000_000,
            },
            at_ms: 15,
        },
        OutboxPayload::Risk {
            profile_name: main(),
            event: RiskEvent::Cooldown {
                until_ms: 1_760_000_000_000,
                losses: 4,
            },
            at_ms: 16,
        },
        OutboxPayload::Risk {
            profile_name: main(),
            event: RiskEvent::LossLimit {
                pnl: -1_000_000_001,
                limit: Lamports(1_000_000_000),
            },
            at_ms: 17,
        },
        OutboxPayload::TierChanged {
            wallet: wallet(5),
            from: None,
            to: Some(Tier::B),
            win_rate_before_bps: 0,
            win_rate_after_bps: 6_000,
            at_ms: 18,
        },
        OutboxPayload::Discoveries {
            day_ms: 1_764_892_800_000,
            wallets: vec![
                Discovered {
                    wallet: wallet(6),
                    metric: Metric::WinRate,
                    window: Window::D30,
                    rank: 1,
                },
                Discovered {
                    wallet: wallet(7),
                    metric: Metric::Pnl,
                    window: Window::H24,
                    rank: 10,
                },
            ],
        },
    ];
    for p in &payloads {
        // Fails to compile when a payload or risk event is added: list it.
        match p {
            OutboxPayload::Risk {
                event:
                    RiskEvent::TierChanged { .. }
                    | RiskEvent::Cooldown { .. }
                    | RiskEvent::LossLimit { .. },
                ..
            }
            | OutboxPayload::Trade { .. }
            | OutboxPayload::Fill { .. }
            | OutboxPayload::Rejected { .. }
            | OutboxPayload::Closed { .. }
            | OutboxPayload::TierChanged { .. }
            | OutboxPayload::Discoveries { .. } => {}
        }
    }
    let chat = ChatRef::new(Platform::Discord, 987_654_321_987_654_321);
    let messages: Vec<NewMessage> = payloads
        .iter()
        .map(|p| message(chat, DISCORD_ALICE, p.clone(), false))
        .collect();
    store.enqueue(&messages, 20).await.unwrap();
    let got: Vec<OutboxPayload> = store
        .pending(100)
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
    let profile = given_profile(&store, ALICE, "main", 1).await;
    let (follow, _) = store.add_follow(profile.id, wallet(1), 1).await.unwrap();
    store.close().await;

    let store = store::connect(&url).await.expect("connect again");
    assert_eq!(store.get_user(ALICE).await.unwrap(), Some(record(ALICE, 1)));
    assert_eq!(store.profiles_of(ALICE).await.unwrap(), vec![profile]);
    assert_eq!(store.follows_of(ALICE).await.unwrap(), vec![follow]);
    store.ping().await.unwrap();
    store.close().await;
}

/// The table sqlx records applied migrations in (what `connect` reads).
const MIGRATIONS_TABLE: &str = "_sqlx_migrations";

/// Brings a new database to the previous release's schema (migrations 0001
/// and 0002, applied by sqlx's migrator from the same files, so `connect`
/// later sees them as applied) and fills it with `rows`.
async fn given_old_schema(url: &str, rows: String) {
    let backend = Backend::from_url(url).unwrap();
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("migrations")
        .join(backend.as_str());
    let migrator = sqlx::migrate::Migrator::new(dir.as_path()).await.unwrap();
    assert!(
        migrator.iter().any(|m| m.version == 3),
        "0003 is among the migrations in {}",
        dir.display()
    );
    sqlx::any::install_default_drivers();
    let raw_url = match backend {
        // The file does not exist yet.
        Backend::Sqlite => format!("{url}?mode=rwc"),
        Backend::Postgres => url.to_owned(),
    };
    let mut conn = sqlx::AnyConnection::connect(&raw_url).await.unwrap();
    // Step by step rather than `Migrator::run_to`, whose future is not
    // provably `Send` here.
    conn.ensure_migrations_table(MIGRATIONS_TABLE)
        .await
        .unwrap();
    for migration in migrator.iter().filter(|m| m.version <= 2) {
        conn.apply(MIGRATIONS_TABLE, migration)
            .await
            .unwrap_or_else(|e| panic!("migration {}: {e}", migration.version));
    }
    sqlx::raw_sql(AssertSqlSafe(rows))
        .execute(&mut conn)
        .await
        .expect("old rows");
    conn.close().await.unwrap();
}

/// Rows as the previous release wrote them: Alice with two follows, an open
/// position, a buy and a sell and two queued messages; Discord Alice with a
/// follow and a buy; Bob with nothing but a copy size of 0.
fn old_rows() -> String {
    let (w1, w3, w5) = (wallet(1), wallet(3), wallet(5));
    let (m, m2) = (wallet(20), wallet(21));
    let (s1, s2) = (signature(1), signature(2));
    let old_user = serde_json::json!({"platform": "telegram", "id": 1001});
    let old_trade = serde_json::json!({
        "kind": "trade",
        "alert": {
            "user": old_user, "wallet": w1.to_string(), "mint": m.to_string(), "side": "buy",
            "sol": 1_500_000_000_u64, "tokens": 35_000_000_000_u64,
            "signature": s1.to_string(), "timestamp_ms": 1_100
        },
        "fill": {
            "user": old_user, "mint": m.to_string(), "leader": w1.to_string(),
            "leader_signature": s1.to_string(), "side": "buy", "sol": 100_000_000_u64,
            "tokens": 3_000_000_000_u64, "fee": 1_000_000_u64, "realized_pnl": 0,
            "timestamp_ms": 1_100
        },
        "skipped": null
    });
    let old_tier = serde_json::json!({
        "kind": "tier_changed", "wallet": w5.to_string(), "from": "A", "to": "S",
        "win_rate_before_bps": 5_500, "win_rate_after_bps": 7_125, "at_ms": 1_700
    });
    format!(
        r#"
INSERT INTO users (platform, user_id, locale, home_chat_platform, home_chat_id, copy_lamports,
                   created_ms) VALUES
    ('telegram', 1001, 'es', 'telegram', -100200300, 250000000, 1000),
    ('discord', 1234567890123456789, 'en', 'discord', 55, 100000000, 2000),
    ('telegram', 1002, 'en', 'telegram', 1002, 0, 3000);
INSERT INTO follows (user_platform, user_id, wallet, created_ms) VALUES
    ('telegram', 1001, '{w3}', 30),
    ('telegram', 1001, '{w1}', 10),
    ('discord', 1234567890123456789, '{w1}', 20);
INSERT INTO positions (user_platform, user_id, leader, mint, tokens, cost, realized_pnl,
                       opened_ms, updated_ms) VALUES
    ('telegram', 1001, '{w1}', '{m}', 2000000000, 66666667, 4666667, 1100, 1500);
INSERT INTO fills (user_platform, user_id, mint, leader, leader_signature, side, sol, tokens,
                   fee, realized_pnl, timestamp_ms) VALUES
    ('telegram', 1001, '{m}', '{w1}', '{s1}', 'buy', 100000000, 3000000000, 1000000, 0, 1100),
    ('telegram', 1001, '{m}', '{w1}', '{s2}', 'sell', 38000000, 1000000000, 380000, 4666667,
     1500),
    ('discord', 1234567890123456789, '{m2}', '{w1}', '{s1}', 'buy', 100000000, 5, 0, 0, 2100);
INSERT INTO outbox (chat_platform, chat_id, user_platform, user_id, payload, created_ms) VALUES
    ('telegram', 1001, 'telegram', 1001, '{old_trade}', 1600),
    ('telegram', 1001, 'telegram', 1001, '{old_tier}', 1700);
INSERT INTO wallet_stats (wallet, last_ms, data) VALUES ('{w1}', 1500, '{{"v":1}}');
"#
    )
}

async fn migration_0003_moves_old_data_into_main_profiles(url: String) {
    given_old_schema(&url, old_rows()).await;
    store::migrate(&url).await.expect("0003 on old data");
    let store = store::connect(&url).await.unwrap();

    // Users keep what they had; the new columns start empty.
    assert_eq!(
        store.get_user(ALICE).await.unwrap(),
        Some(UserRecord {
            locale: Locale::Es,
            home_chat: ChatRef::new(Platform::Telegram, -100_200_300),
            ..record(ALICE, 1_000)
        })
    );
    assert_eq!(
        store.get_user(DISCORD_ALICE).await.unwrap(),
        Some(UserRecord {
            home_chat: ChatRef::new(Platform::Discord, 55),
            ..record(DISCORD_ALICE, 2_000)
        })
    );

    // One profile "main" per user, holding the old copy size.
    let mut mains = Vec::new();
    for (user, buy_sol, created_ms) in [
        (ALICE, 250_000_000, 1_000),
        (DISCORD_ALICE, 100_000_000, 2_000),
        (BOB, 0, 3_000),
    ] {
        let profiles = store.profiles_of(user).await.unwrap();
        assert_eq!(profiles.len(), 1, "{user}: {profiles:?}");
        assert_eq!(
            profiles[0],
            Profile {
                id: profiles[0].id,
                user,
                name: name("main"),
                settings: ProfileSettings {
                    buy_sol: Lamports(buy_sol),
                    ..ProfileSettings::default()
                },
                created_ms,
            }
        );
        mains.push(profiles[0].clone());
    }
    let (main, discord_main) = (mains[0].clone(), mains[1].clone());
    let mut all = store.all_profiles().await.unwrap();
    all.sort_by_key(|p| p.id);
    mains.sort_by_key(|p| p.id);
    assert_eq!(all, mains);

    // Follows moved into it, oldest first, without overrides.
    let summary = |follows: Vec<Follow>| -> Vec<(ProfileId, UserRef, WalletAddress, i64, bool)> {
        follows
            .into_iter()
            .map(|f| {
                (
                    f.profile,
                    f.user,
                    f.wallet,
                    f.created_ms,
                    f.overrides.is_empty(),
                )
            })
            .collect()
    };
    assert_eq!(
        summary(store.follows_of(ALICE).await.unwrap()),
        vec![
            (main.id, ALICE, wallet(1), 10, true),
            (main.id, ALICE, wallet(3), 30, true)
        ]
    );
    assert_eq!(
        summary(store.follows_of(DISCORD_ALICE).await.unwrap()),
        vec![(discord_main.id, DISCORD_ALICE, wallet(1), 20, true)]
    );
    assert!(store.follows_of(BOB).await.unwrap().is_empty());
    let old_follows = store.all_follows().await.unwrap();
    assert_eq!(old_follows.len(), 3);

    // The open position: paper, in that profile, everything bought still
    // held, no exit state yet.
    let trade = Trade {
        profile: main.id,
        user: ALICE,
        leader: wallet(1),
        mint: wallet(20),
        signature: signature(1),
    };
    let position = Position {
        realized_pnl: 4_666_667,
        updated_ms: 1_500,
        ..trade.position(2_000_000_000, 66_666_667, 0, 1_100, 1_500)
    };
    assert_eq!(
        store.open_positions(ALICE).await.unwrap(),
        vec![position.clone()]
    );
    assert_eq!(
        store.all_open_positions().await.unwrap(),
        vec![position.clone()]
    );

    // Fills keyed as copies are keyed now (so a replay of an old copy is
    // recognized); the old sells were the leader's.
    let buy = Fill {
        fee: Lamports(1_000_000),
        ..trade.fill(Side::Buy, 100_000_000, 3_000_000_000, 0, 1_100)
    };
    let sell = Fill {
        fee: Lamports(380_000),
        ..Trade {
            signature: signature(2),
            ..trade.clone()
        }
        .fill(Side::Sell, 38_000_000, 1_000_000_000, 4_666_667, 1_500)
    };
    assert_eq!(buy.key.as_str(), format!("{}:{}:b", main.id, signature(1)));
    assert_eq!(sell.key.as_str(), format!("{}:{}:s", main.id, signature(2)));
    assert_eq!(sell.reason, Some(ExitReason::LeaderSold));
    assert_eq!(
        store.fills_of(ALICE, 10).await.unwrap(),
        vec![sell, buy.clone()]
    );
    let discord_buy = Fill {
        fee: Lamports(0),
        ..Trade {
            profile: discord_main.id,
            user: DISCORD_ALICE,
            mint: wallet(21),
            ..trade.clone()
        }
        .fill(Side::Buy, 100_000_000, 5, 0, 2_100)
    };
    assert_eq!(
        store.fills_of(DISCORD_ALICE, 10).await.unwrap(),
        vec![discord_buy]
    );
    assert!(
        !store
            .record_fill(&buy, &position, None, &Aftermath::default())
            .await
            .unwrap()
    );
    let mut entered = store.entered_mints().await.unwrap();
    entered.sort();
    let mut expected = vec![(main.id, wallet(20)), (discord_main.id, wallet(21))];
    expected.sort();
    assert_eq!(entered, expected);

    // Queued messages: a tier alert has the same shape and is delivered; a
    // trade alert of the old shape no longer decodes and is parked.
    let pending = store.pending(10).await.unwrap();
    assert_eq!(
        pending
            .into_iter()
            .map(|m| (
                m.chat,
                m.user,
                m.payload,
                m.silent,
                m.created_ms,
                m.attempts
            ))
            .collect::<Vec<_>>(),
        vec![(
            ChatRef::new(Platform::Telegram, 1001),
            ALICE,
            OutboxPayload::TierChanged {
                wallet: wallet(5),
                from: Some(Tier::A),
                to: Some(Tier::S),
                win_rate_before_bps: 5_500,
                win_rate_after_bps: 7_125,
                at_ms: 1_700,
            },
            false,
            1_700,
            0
        )]
    );
    sqlx::any::install_default_drivers();
    let mut raw = sqlx::AnyConnection::connect(&url).await.unwrap();
    let parked: Option<String> =
        sqlx::query_scalar("SELECT last_error FROM outbox WHERE created_ms = 1600")
            .fetch_one(&mut raw)
            .await
            .unwrap();
    let parked = parked.expect("the old trade alert is parked with its reason");
    assert!(parked.contains("copies"), "{parked}");
    raw.close().await.unwrap();
    assert_eq!(store.pending(10).await.unwrap().len(), 1);

    // The analytics snapshot is untouched.
    assert_eq!(
        store.load_wallet_states().await.unwrap(),
        vec![WalletState {
            wallet: wallet(1),
            last_ms: 1_500,
            data: serde_json::json!({"v": 1}),
        }]
    );

    // The new tables take new rows after the old ones.
    assert_eq!(
        store
            .create_profile(ALICE, &name("MAIN"), &ProfileSettings::default(), 5_000)
            .await
            .unwrap(),
        None,
        "the migrated name counts, case ignored"
    );
    let second = given_profile(&store, ALICE, "second", 5_000).await;
    assert!(all.iter().all(|p| p.id < second.id));
    let (follow, new) = store.add_follow(main.id, wallet(4), 40).await.unwrap();
    assert!(new);
    assert!(old_follows.iter().all(|f| f.id < follow.id));
    assert_eq!(store.follows_of(ALICE).await.unwrap().last(), Some(&follow));
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

async fn keys_record_exports_and_archiving(store: &dyn Store) {
    given_users(store, &[ALICE, BOB]).await;
    let given = KeyRecord {
        exported_ms: Some(7),
        archived_ms: Some(8),
        ..key(ALICE, 1, 5, "v1:one")
    };
    assert!(store.add_key(&given).await.unwrap());
    assert_eq!(
        store.get_key(ALICE, wallet(1)).await.unwrap(),
        Some(given.clone()),
        "both times round-trip"
    );
    assert!(store.add_key(&key(ALICE, 2, 6, "v1:two")).await.unwrap());

    assert!(store.mark_key_exported(ALICE, wallet(2), 40).await.unwrap());
    assert!(store.mark_key_exported(ALICE, wallet(2), 50).await.unwrap());
    assert!(!store.mark_key_exported(BOB, wallet(2), 60).await.unwrap());
    assert!(!store.mark_key_exported(ALICE, wallet(3), 60).await.unwrap());
    let two = store.get_key(ALICE, wallet(2)).await.unwrap().unwrap();
    assert_eq!((two.exported_ms, two.archived_ms), (Some(50), None));

    assert!(
        store
            .set_key_archived(ALICE, wallet(2), Some(70))
            .await
            .unwrap()
    );
    assert!(
        !store
            .set_key_archived(BOB, wallet(2), Some(70))
            .await
            .unwrap()
    );
    assert_eq!(
        store
            .keys_of(ALICE)
            .await
            .unwrap()
            .iter()
            .map(|k| (k.wallet, k.archived_ms))
            .collect::<Vec<_>>(),
        vec![(wallet(1), Some(8)), (wallet(2), Some(70))],
        "archived keys are still the user's keys"
    );
    assert!(
        store
            .set_key_archived(ALICE, wallet(1), None)
            .await
            .unwrap()
    );
    assert_eq!(
        store
            .get_key(ALICE, wallet(1))
            .await
            .unwrap()
            .unwrap()
            .archived_ms,
        None
    );
    assert_eq!(store.all_keys().await.unwrap().len(), 2);
}

async fn deleted_keys_are_tombstones_until_restored_or_purged(store: &dyn Store) {
    given_users(store, &[ALICE, BOB]).await;
    let one = KeyRecord {
        exported_ms: Some(3),
        archived_ms: Some(4),
        ..key(ALICE, 1, 1, "v1:alice:one")
    };
    let two = key(ALICE, 2, 2, "v1:alice:two");
    let bobs = key(BOB, 1, 3, "v1:bob:one");
    for k in [&one, &two, &bobs] {
        assert!(store.add_key(k).await.unwrap());
    }
    assert!(
        store
            .tombstone_key(ALICE, wallet(1), 100, 1_100)
            .await
            .unwrap()
    );
    assert!(
        store
            .tombstone_key(ALICE, wallet(2), 200, 1_200)
            .await
            .unwrap()
    );
    assert_eq!(store.get_key(ALICE, wallet(1)).await.unwrap(), None, "gone");
    assert!(store.keys_of(ALICE).await.unwrap().is_empty());
    assert_eq!(store.all_keys().await.unwrap(), vec![bobs.clone()]);

    let tomb_one = DeletedKey {
        key: KeyRecord {
            archived_ms: None,
            ..one.clone()
        },
        deleted_ms: 100,
        purge_at_ms: 1_100,
    };
    let tomb_two = DeletedKey {
        key: two.clone(),
        deleted_ms: 200,
        purge_at_ms: 1_200,
    };
    assert_eq!(
        store.deleted_keys_of(ALICE, 500).await.unwrap(),
        vec![tomb_two.clone(), tomb_one.clone()],
        "most recently deleted first, the export time kept"
    );
    assert_eq!(
        store.deleted_keys_of(ALICE, 1_100).await.unwrap(),
        vec![tomb_two.clone()],
        "a tombstone due is not offered"
    );
    assert!(store.deleted_keys_of(BOB, 500).await.unwrap().is_empty());
    assert_eq!(store.all_deleted_keys().await.unwrap().len(), 2);

    // Only its owner restores it, and only before its time.
    assert_eq!(
        store.restore_key(BOB, wallet(2), 500).await.unwrap(),
        KeyRestore::Missing
    );
    assert_eq!(
        store.restore_key(ALICE, wallet(2), 1_200).await.unwrap(),
        KeyRestore::Missing,
        "due"
    );
    assert_eq!(
        store.restore_key(ALICE, wallet(1), 500).await.unwrap(),
        KeyRestore::Restored
    );
    assert_eq!(
        store.get_key(ALICE, wallet(1)).await.unwrap(),
        Some(tomb_one.key.clone()),
        "back as it was, not archived"
    );
    assert_eq!(
        store.restore_key(ALICE, wallet(1), 500).await.unwrap(),
        KeyRestore::Missing,
        "restored once"
    );
    assert_eq!(
        store.deleted_keys_of(ALICE, 500).await.unwrap(),
        vec![tomb_two.clone()]
    );

    // Deleted again: one tombstone per wallet, the latest.
    assert!(
        store
            .tombstone_key(ALICE, wallet(1), 300, 1_300)
            .await
            .unwrap()
    );
    assert!(store.add_key(&one).await.unwrap(), "imported anew");
    assert!(
        store
            .tombstone_key(ALICE, wallet(1), 400, 1_400)
            .await
            .unwrap()
    );
    assert_eq!(
        store.deleted_keys_of(ALICE, 500).await.unwrap(),
        vec![
            DeletedKey {
                deleted_ms: 400,
                purge_at_ms: 1_400,
                ..tomb_one.clone()
            },
            tomb_two.clone()
        ]
    );

    // Purging drops what is due, once.
    assert_eq!(store.purge_deleted_keys(1_199).await.unwrap(), 0);
    assert_eq!(store.purge_deleted_keys(1_200).await.unwrap(), 1);
    assert_eq!(
        store.purge_deleted_keys(1_200).await.unwrap(),
        0,
        "idempotent"
    );
    assert_eq!(store.all_deleted_keys().await.unwrap().len(), 1);
    assert_eq!(
        store.restore_key(ALICE, wallet(2), 0).await.unwrap(),
        KeyRestore::Missing,
        "purged for good"
    );
    assert_eq!(store.purge_deleted_keys(i64::MAX).await.unwrap(), 1);
    assert!(store.all_deleted_keys().await.unwrap().is_empty());
    assert_eq!(
        store.get_key(BOB, wallet(1)).await.unwrap(),
        Some(bobs),
        "another user's key of the same wallet is untouched throughout"
    );
}

async fn restoring_a_key_stored_again_is_refused(store: &dyn Store) {
    given_users(store, &[ALICE]).await;
    let old = KeyRecord {
        exported_ms: Some(1),
        ..key(ALICE, 1, 1, "v1:old")
    };
    assert!(store.add_key(&old).await.unwrap());
    assert!(
        store
            .tombstone_key(ALICE, wallet(1), 10, 1_000)
            .await
            .unwrap()
    );
    let anew = key(ALICE, 1, 20, "v1:anew");
    assert!(
        store.add_key(&anew).await.unwrap(),
        "a tombstone does not block an import"
    );
    assert_eq!(
        store.restore_key(ALICE, wallet(1), 30).await.unwrap(),
        KeyRestore::Taken
    );
    assert_eq!(
        store.get_key(ALICE, wallet(1)).await.unwrap(),
        Some(anew),
        "the stored key is untouched"
    );
    assert_eq!(
        store.deleted_keys_of(ALICE, 30).await.unwrap().len(),
        1,
        "the tombstone stays (nothing changed)"
    );
}

async fn deleted_keys_reseal_with_the_stored_ones(store: &dyn Store) {
    given_users(store, &[ALICE]).await;
    let live = key(ALICE, 1, 1, "v1:live");
    let dead = key(ALICE, 2, 2, "v1:dead");
    assert!(store.add_key(&live).await.unwrap());
    assert!(store.add_key(&dead).await.unwrap());
    assert!(
        store
            .tombstone_key(ALICE, wallet(2), 10, 1_000)
            .await
            .unwrap()
    );
    let rotated = |k: &KeyRecord| KeyRecord {
        sealed: format!("v2:{}", k.sealed),
        ..k.clone()
    };
    // A stored key that is not there fails the whole call.
    let err = store
        .reseal_keys(&[key(ALICE, 9, 1, "v2:never")], &[rotated(&dead)])
        .await
        .unwrap_err();
    assert!(format!("{err:#}").contains("no stored key"), "{err:#}");
    assert_eq!(
        store.all_deleted_keys().await.unwrap()[0].key.sealed,
        "v1:dead",
        "nothing changed"
    );
    // A tombstone that is gone (purged meanwhile) is skipped.
    let purged = key(ALICE, 3, 3, "v2:purged");
    store
        .reseal_keys(&[rotated(&live)], &[rotated(&dead), purged])
        .await
        .unwrap();
    assert_eq!(
        store
            .get_key(ALICE, wallet(1))
            .await
            .unwrap()
            .unwrap()
            .sealed,
        "v2:v1:live"
    );
    let tombs = store.all_deleted_keys().await.unwrap();
    assert_eq!(tombs.len(), 1);
    assert_eq!(tombs[0].key.sealed, "v2:v1:dead");
    assert_eq!((tombs[0].deleted_ms, tombs[0].purge_at_ms), (10, 1_000));
}

/// Two instances' sweepers at once: each tombstone is purged by exactly
/// one of them, and neither fails.
async fn deleted_keys_purge_once_under_concurrency(store: &dyn Store) {
    given_users(store, &[ALICE]).await;
    for n in 1..=5 {
        assert!(store.add_key(&key(ALICE, n, 1, "v1:k")).await.unwrap());
        assert!(
            store
                .tombstone_key(ALICE, wallet(n), 10, 100 + i64::from(n))
                .await
                .unwrap()
        );
    }
    let (a, b) = tokio::join!(store.purge_deleted_keys(104), store.purge_deleted_keys(104));
    assert_eq!(a.unwrap() + b.unwrap(), 4, "purged once between them");
    let left = store.all_deleted_keys().await.unwrap();
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].key.wallet, wallet(5));
}
