//! The copy pipeline through the application core with the live executor,
//! offline: the engine decides, the core stores the order's key, the live
//! executor opens the user's key from the vault to sign and swaps through
//! the real `RpcClient` and Jupiter client against the fake RPC node over
//! litesvm and the fake Jupiter. Balances are asserted on the SVM.
//!
//! Also: keys that do not sign for the profile's wallet refuse the order
//! before anything is sent; a process killed right after sending is
//! reconciled on restart (no second order); a sent transaction the cluster
//! never saw expires after 180 s; and paper and live make the same
//! decisions on the same trades (one decision path, two executors).

use std::sync::Arc;
use std::time::Duration;

use alfabot::domain::ports::{Balances, Clock, OrderStatus, OutboxPayload, SystemClock};
use alfabot::domain::{
    Address, ExitReason, IdempotencyKey, Intent, Lamports, Mode, Order, Platform, ProfileSettings,
    Setting, Side, Signature, SkipReason, TokenAmount, TradeEvent, UserRef, Verdict, WalletAddress,
};
use alfabot::engine::curve::Fees;
use alfabot::engine::{Engine, EngineConfig};
use alfabot::exec::chain::Chain;
use alfabot::exec::jupiter::Jupiter;
use alfabot::exec::live::LiveExecutor;
use alfabot::exec::paper::PaperExecutor;
use alfabot::exec::swap::{SwapConfig, Swapper};
use alfabot::service::{Core, CoreParts, Executors, NoSubscriptions, SettingChange};
use alfabot::vault::keys::SecretKey;
use alfabot::vault::{MasterKeys, Vault, keys};
use solana_pubkey::Pubkey;

use crate::support::clock::ManualClock;
use crate::support::jupiter::FakeJupiter;
use crate::support::svm::FakeSolana;
use crate::support::tape::Tape;

const SOL: u64 = 1_000_000_000;
const LEADER: &str = "8jGai9a8U4RSzDnweCgeVZJBLxMTrNsrhHbGrCF8F3Ks";
const MASTER: &str = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";

fn vault() -> Arc<Vault> {
    Arc::new(Vault::new(MasterKeys::parse(MASTER).unwrap()))
}

fn settings() -> ProfileSettings {
    ProfileSettings {
        latency_ms: 0,
        sellability: false,
        slippage_bps: 500,
        ..ProfileSettings::default()
    }
}

fn leader() -> WalletAddress {
    WalletAddress::parse(LEADER).unwrap()
}

fn addr(pk: &Pubkey) -> Address {
    Address::from_bytes(pk.to_bytes())
}

fn now() -> i64 {
    SystemClock.now_ms()
}

/// A core whose live orders go to the fake chain, polling every `poll`.
async fn core(db: &str, sol: &FakeSolana, jup: &FakeJupiter, poll: Duration) -> Arc<Core> {
    core_with(db, sol, jup, poll, Arc::new(SystemClock), settings()).await
}

async fn core_with(
    db: &str,
    sol: &FakeSolana,
    jup: &FakeJupiter,
    poll: Duration,
    clock: Arc<dyn Clock>,
    defaults: ProfileSettings,
) -> Arc<Core> {
    let store: Arc<dyn alfabot::domain::ports::Store> =
        Arc::new(alfabot::store::connect(db).await.expect("store"));
    let vault = vault();
    let swapper = Swapper::new(
        Chain::new(sol.url(), Duration::from_secs(5)),
        Jupiter::new(jup.url(), None, Duration::from_secs(5)).unwrap(),
    )
    .with_config(SwapConfig {
        poll_interval: poll,
        max_requotes: 2,
        confirm_timeout: Duration::from_secs(20),
    });
    let live = LiveExecutor::new(
        swapper,
        Arc::clone(&vault),
        Arc::clone(&store),
        Arc::clone(&clock),
    );
    let core = Arc::new(Core::new(CoreParts {
        engine: Engine::new(EngineConfig::default()),
        store,
        sessions: alfabot::session::connect(None).await.unwrap(),
        feed: Arc::new(NoSubscriptions),
        clock,
        executors: Executors {
            paper: Arc::new(PaperExecutor::new(Fees::default())),
            live: Some(Arc::new(live)),
        },
        defaults,
        wall_clock: false,
        vault: Some(vault),
        chain: Some(Arc::new(Chain::new(sol.url(), Duration::from_secs(5)))),
    }));
    core.restore().await.expect("restore");
    core
}

/// A user with an imported key (funded on the SVM) and a live profile
/// following the leader.
struct LiveUser {
    user: UserRef,
    pk: Pubkey,
    secret: SecretKey,
}

async fn live_user(core: &Arc<Core>, sol: &FakeSolana, id: i64) -> LiveUser {
    let user = UserRef::new(Platform::Telegram, id);
    let rec = core.user(user, Some("en")).await.unwrap();
    let (addr, secret) = keys::generate();
    let wallet = core
        .import_key(user, &keys::export_base58(&secret))
        .await
        .unwrap();
    assert_eq!(wallet, addr);
    let pk = Pubkey::new_from_array(*addr.as_bytes());
    sol.airdrop(&pk, 5 * SOL);
    let profile = core.active_profile(&rec).await.unwrap();
    core.change_setting(
        user,
        profile.id,
        Setting::Wallet,
        SettingChange::Typed(&addr.to_string()),
    )
    .await
    .unwrap();
    let p = core
        .change_setting(user, profile.id, Setting::Mode, SettingChange::Next)
        .await
        .unwrap();
    assert_eq!(p.settings.mode, Mode::Live);
    core.follow(&rec, leader()).await.unwrap();
    LiveUser { user, pk, secret }
}

/// Waits until the order copying `sig` on `side` for profile 1 is final.
async fn settled(core: &Core, key: &str) -> OrderStatus {
    let key = alfabot::domain::IdempotencyKey::from_stored(key.to_owned());
    for _ in 0..400 {
        if let Some(r) = core.store().get_order(&key).await.unwrap()
            && r.status.is_final()
        {
            return r.status;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("order {key} did not settle");
}

fn key(profile: i64, ev: &TradeEvent) -> String {
    format!(
        "{profile}:{}:{}",
        ev.signature,
        if ev.side == Side::Buy { "b" } else { "s" }
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_live_copy_signs_sends_confirms_and_records_the_fill() {
    let sol = FakeSolana::start().await;
    let jup = FakeJupiter::start(&sol, 30 * SOL, 1_073_000_000 * 1_000_000).await;
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}?mode=rwc", dir.path().join("live.db").display());
    let core = core(&db, &sol, &jup, Duration::from_millis(10)).await;
    let LiveUser { user, pk, .. } = live_user(&core, &sol, 1).await;
    let mut tape = Tape::new(now());
    let mint = addr(&jup.mint());
    let lamports_before = sol.balance(&pk);

    let buy = tape.trade(mint, leader(), Side::Buy, SOL / 2);
    core.ingest(&buy).await.unwrap();
    assert_eq!(settled(&core, &key(1, &buy)).await, OrderStatus::Filled);
    assert_eq!(sol.sends(), 1);
    let fills = core.store().fills_of(user, 10).await.unwrap();
    let f = &fills[0];
    assert_eq!((f.mode, f.side), (Mode::Live, Side::Buy));
    assert!(f.tx.is_some());
    let held = sol.token_balance(&pk, &jup.mint());
    assert_eq!(f.tokens.0, held, "the fill is what the wallet holds");
    assert_eq!(
        f.sol.0,
        lamports_before - sol.balance(&pk),
        "paid as measured"
    );
    let pos = core.positions_of(user);
    assert_eq!(pos[0].position.tokens.0, held);

    // The leader sells everything: the copy sells everything.
    let sell = tape.trade(mint, leader(), Side::Sell, buy.tokens.0);
    core.ingest(&sell).await.unwrap();
    assert_eq!(settled(&core, &key(1, &sell)).await, OrderStatus::Filled);
    assert_eq!(sol.sends(), 2);
    assert_eq!(sol.token_balance(&pk, &jup.mint()), 0);
    assert!(core.positions_of(user).is_empty());
    let trips = core.store().round_trips(None, 0).await.unwrap();
    assert_eq!(trips.len(), 1);
    let spent = i64::try_from(lamports_before).unwrap() - i64::try_from(sol.balance(&pk)).unwrap();
    assert_eq!(
        trips[0].pnl, -spent,
        "the round trip's PnL is the wallet's change"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_or_refused_live_order_is_reported_not_retried() {
    let sol = FakeSolana::start().await;
    let jup = FakeJupiter::start(&sol, 30 * SOL, 1_073_000_000 * 1_000_000).await;
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}?mode=rwc", dir.path().join("f.db").display());
    let core = core(&db, &sol, &jup, Duration::from_millis(10)).await;
    let LiveUser { user, .. } = live_user(&core, &sol, 1).await;
    let mut tape = Tape::new(now());
    let mint = addr(&jup.mint());
    jup.drain_pool_next();
    let buy = tape.trade(mint, leader(), Side::Buy, SOL / 2);
    core.ingest(&buy).await.unwrap();
    assert_eq!(settled(&core, &key(1, &buy)).await, OrderStatus::Rejected);
    assert_eq!(sol.sends(), 1, "not retried blindly");
    assert!(core.positions_of(user).is_empty());
    let r = core
        .store()
        .get_order(&alfabot::domain::IdempotencyKey::from_stored(key(1, &buy)))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(r.reason, Some(SkipReason::TxFailed));
    // The user is told, in words.
    let pending = core.store().pending(10).await.unwrap();
    assert!(pending.iter().any(|m| matches!(
        m.payload,
        alfabot::domain::ports::OutboxPayload::Rejected {
            reason: SkipReason::TxFailed,
            ..
        }
    )));
    // A transaction paid by another key: refused before any send, as a
    // wrong key, and the user is told. (Another mint: the pool of the
    // first has no tokens left to quote.)
    jup.wrong_payer_next();
    let other = addr(&jup.add_mint(1_073_000_000 * 1_000_000));
    let buy2 = tape.trade(other, leader(), Side::Buy, SOL / 10);
    // Adaptive spacing would refuse a second entry this soon; turn it off.
    let p = core.profiles(user).await.unwrap().remove(0);
    core.change_setting(user, p.id, Setting::Adaptive, SettingChange::Next)
        .await
        .unwrap();
    core.ingest(&buy2).await.unwrap();
    assert_eq!(settled(&core, &key(1, &buy2)).await, OrderStatus::Rejected);
    assert_eq!(sol.sends(), 1);
    assert_refused(&core, user, &key(1, &buy2), SkipReason::WrongKey).await;
}

/// The order is stored rejected for `reason`, the skip log says so, and the
/// user has a notice saying so.
async fn assert_refused(core: &Core, user: UserRef, key: &str, reason: SkipReason) {
    let key = IdempotencyKey::from_stored(key.to_owned());
    let r = core.store().get_order(&key).await.unwrap().unwrap();
    assert_eq!((r.status, r.reason), (OrderStatus::Rejected, Some(reason)));
    let why = core.why(user, None).await.unwrap();
    assert!(
        why.iter().any(|d| matches!(
            &d.verdict,
            Verdict::Rejected { key: k, reason: r, .. } if *k == key && *r == reason
        )),
        "{why:?}"
    );
    let told = core.store().pending(100).await.unwrap();
    assert!(
        told.iter().any(|m| m.user == user
            && matches!(
                &m.payload,
                OutboxPayload::Rejected { order, reason: r, .. } if order.key == key && *r == reason
            )),
        "{told:?}"
    );
}

/// The stored key is swapped for one that does not sign for the profile's
/// wallet: sealed for another user, sealed under a master key this process
/// does not have, or another wallet's key. The key is only opened to sign,
/// so each swap gets as far as a built transaction; each is refused as a
/// wrong key there, nothing is sent, and each owner is told.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_that_do_not_sign_for_the_wallet_refuse_the_order_before_sending() {
    let sol = FakeSolana::start().await;
    let jup = FakeJupiter::start(&sol, 30 * SOL, 1_073_000_000 * 1_000_000).await;
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}?mode=rwc", dir.path().join("w.db").display());
    let core = core(&db, &sol, &jup, Duration::from_millis(10)).await;
    let mut users = Vec::new();
    for id in 1..=3 {
        users.push(live_user(&core, &sol, id).await);
    }
    let ours = vault();
    let unloaded = Vault::new(MasterKeys::parse(&MasterKeys::generate_base64()).unwrap());
    let (_, another_wallets) = keys::generate();
    let stranger = UserRef::new(Platform::Telegram, 99);
    let bad = [
        ours.seal(stranger, users[0].secret.expose()).unwrap(),
        unloaded
            .seal(users[1].user, users[1].secret.expose())
            .unwrap(),
        ours.seal(users[2].user, another_wallets.expose()).unwrap(),
    ];
    for (u, sealed) in users.iter().zip(&bad) {
        let mut k = core
            .store()
            .get_key(u.user, addr(&u.pk))
            .await
            .unwrap()
            .unwrap();
        k.sealed = sealed.as_str().to_owned();
        core.store().reseal_keys(&[k], &[]).await.unwrap();
    }
    let lamports: Vec<u64> = users.iter().map(|u| sol.balance(&u.pk)).collect();

    let mut tape = Tape::new(now());
    let buy = tape.trade(addr(&jup.mint()), leader(), Side::Buy, SOL / 2);
    core.ingest(&buy).await.unwrap();
    for (u, before) in users.iter().zip(lamports) {
        let profile = core.profiles(u.user).await.unwrap()[0].id;
        let k = key(profile.0, &buy);
        assert_eq!(settled(&core, &k).await, OrderStatus::Rejected, "{k}");
        assert_refused(&core, u.user, &k, SkipReason::WrongKey).await;
        assert_eq!(sol.balance(&u.pk), before);
        assert_eq!(sol.token_balance(&u.pk, &jup.mint()), 0);
        assert!(core.positions_of(u.user).is_empty());
    }
    assert_eq!(
        jup.swaps(),
        3,
        "each swap was built before the key was asked"
    );
    assert_eq!(sol.sends(), 0, "nothing sent");
}

/// A transaction journaled as sent that the cluster never saw (the process
/// died between journaling and sending) stays unsettled while its
/// blockhash could still land it, and expires 180 s after it was sent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sent_order_unknown_to_the_cluster_expires_after_180_seconds() {
    let sol = FakeSolana::start().await;
    let jup = FakeJupiter::start(&sol, 30 * SOL, 1_073_000_000 * 1_000_000).await;
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}?mode=rwc", dir.path().join("x.db").display());
    let t0 = now();
    let clock = ManualClock::at(t0);
    let core = core_with(
        &db,
        &sol,
        &jup,
        Duration::from_millis(10),
        Arc::clone(&clock) as Arc<dyn Clock>,
        settings(),
    )
    .await;
    let u = live_user(&core, &sol, 1).await;
    let profile = core.profiles(u.user).await.unwrap()[0].id;
    let order = Order {
        key: IdempotencyKey::copy(profile, &Signature::from_bytes(&[3; 64]), Side::Buy),
        profile,
        user: u.user,
        mode: Mode::Live,
        wallet: Some(addr(&u.pk)),
        leader: leader(),
        mint: addr(&jup.mint()),
        side: Side::Buy,
        intent: Intent::Copy,
        sol_in: Lamports(SOL / 10),
        tokens_in: TokenAmount(0),
        expected_out: 1_000,
        min_out: 950,
        slippage_bps: 500,
        priority_fee: Lamports(0),
        latency_ms: 0,
        trigger_ms: t0,
        ticket: 0,
    };
    let store = core.store();
    assert_eq!(
        store
            .insert_orders(std::slice::from_ref(&order), t0)
            .await
            .unwrap(),
        vec![true]
    );
    let before = Balances {
        lamports: sol.balance(&u.pk),
        tokens: 0,
    };
    let never_sent = Signature::from_bytes(&[4; 64]);
    store
        .order_sent(&order.key, &never_sent, before, t0)
        .await
        .unwrap();

    clock.advance(179_999);
    assert_eq!(core.reconcile().await.unwrap(), 0, "it could still land");
    let r = store.get_order(&order.key).await.unwrap().unwrap();
    assert_eq!((r.status, r.reason), (OrderStatus::Sent, None));

    clock.advance(1);
    assert_eq!(core.reconcile().await.unwrap(), 1);
    assert_refused(&core, u.user, order.key.as_str(), SkipReason::Expired).await;
    assert_eq!(core.reconcile().await.unwrap(), 0, "settled once");
    assert_eq!(sol.sends(), 0, "reconciling never sends");
    assert_eq!(sol.balance(&u.pk), before.lamports);
}

#[test]
fn a_process_killed_after_sending_is_reconciled_without_a_second_order() {
    let main = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}?mode=rwc", dir.path().join("k.db").display());
    let (sol, jup) = main.block_on(async {
        let sol = FakeSolana::start().await;
        let jup = FakeJupiter::start(&sol, 30 * SOL, 1_073_000_000 * 1_000_000).await;
        (sol, jup)
    });
    let mut tape = Tape::new(now());
    let buy = tape.trade(addr(&jup.mint()), leader(), Side::Buy, SOL / 2);

    // The first process: its own runtime, shut down right after the send
    // reached the node (before it could see the confirmation: it polls
    // every 2 s).
    let first = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let pk = first.block_on(async {
        let core = core(&db, &sol, &jup, Duration::from_secs(2)).await;
        let pk = live_user(&core, &sol, 1).await.pk;
        core.ingest(&buy).await.unwrap();
        pk
    });
    main.block_on(sol.wait_for_sends(1, Duration::from_secs(10)));
    first.shutdown_background();
    let tokens_after_one_swap = sol.token_balance(&pk, &jup.mint());
    assert!(tokens_after_one_swap > 0, "the swap landed");

    main.block_on(async {
        let key = alfabot::domain::IdempotencyKey::from_stored(key(1, &buy));
        // The store says sent, not filled: the crash came in between.
        let check = alfabot::store::connect(&db).await.unwrap();
        let r = alfabot::domain::ports::Store::get_order(&check, &key)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(r.status, OrderStatus::Sent);
        assert!(r.tx.is_some() && r.before.is_some());

        // The restart reconciles from the signature instead of sending.
        let core = core(&db, &sol, &jup, Duration::from_millis(10)).await;
        let user = UserRef::new(Platform::Telegram, 1);
        let r = core.store().get_order(&key).await.unwrap().unwrap();
        assert_eq!(r.status, OrderStatus::Filled);
        let fills = core.store().fills_of(user, 10).await.unwrap();
        assert_eq!(fills.len(), 1);
        assert_eq!(fills[0].tokens.0, tokens_after_one_swap);
        assert_eq!(
            core.positions_of(user)[0].position.tokens.0,
            tokens_after_one_swap
        );
        // The feed replays the leader's trade: its key is stored, nothing
        // is sent again.
        core.ingest(&buy).await.unwrap();
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(sol.sends(), 1, "one order, one transaction");
        assert_eq!(sol.token_balance(&pk, &jup.mint()), tokens_after_one_swap);
    });
}

/// What a decision was, without the executor's figures: an entry's size
/// is the profile's (deterministic); a sell's size and a fill's amounts are
/// the market's and are compared separately.
fn shape(side: Side, v: &Verdict) -> String {
    match v {
        Verdict::Placed { intent, sol, .. } if side == Side::Buy => {
            format!("placed {intent:?} {}", sol.0)
        }
        Verdict::Placed { intent, .. } => format!("placed {intent:?}"),
        Verdict::Skipped { reason } => format!("skipped {reason:?}"),
        Verdict::Filled { .. } => "filled".into(),
        Verdict::Rejected { reason, .. } => format!("rejected {reason:?}"),
    }
}

/// Waits until no order of the core is unfinished.
async fn quiet(core: &Core) {
    for _ in 0..400 {
        if core.store().unfinished_orders().await.unwrap().is_empty() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("orders did not settle");
}

/// Two mints the fake pool trades, two followed leaders and a crowd; the
/// same trades through a paper core and a live core (the fake Jupiter
/// quotes on the same curve as the tape): entries, a leader's partial and
/// full sells (same %), a stop loss, and skips by size, spacing and the
/// blacklist. Both make the same decisions in the same order, and sell the
/// same shares of what they hold.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paper_and_live_make_the_same_decisions() {
    let sol = FakeSolana::start().await;
    let jup = FakeJupiter::start(&sol, 30 * SOL, 1_073_000_000 * 1_000_000).await;
    let (a_pk, b_pk) = (jup.mint(), jup.add_mint(1_073_000_000 * 1_000_000));
    let (a, b) = (addr(&a_pk), addr(&b_pk));
    let c = WalletAddress::from_bytes([0xcc; 32]);
    let defaults = ProfileSettings {
        leader_min: Lamports(SOL / 5),
        blacklist: vec![c],
        // The stop loss is the rule under test; the others would fire at
        // different times (a live fill is stamped by the wall clock).
        stop_loss_bps: 2_500,
        tp1_bps: 0,
        trailing: false,
        break_even: false,
        max_hold_s: 0,
        ..settings()
    };
    let dir = tempfile::tempdir().unwrap();
    let mut cores = Vec::new();
    for name in ["p.db", "l.db"] {
        let db = format!("sqlite://{}?mode=rwc", dir.path().join(name).display());
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        cores.push(
            core_with(
                &db,
                &sol,
                &jup,
                Duration::from_millis(10),
                clock,
                defaults.clone(),
            )
            .await,
        );
    }
    let (paper, live) = (Arc::clone(&cores[0]), Arc::clone(&cores[1]));
    let (l1, l2, crowd) = (
        leader(),
        WalletAddress::from_bytes([0x22; 32]),
        WalletAddress::from_bytes([9; 32]),
    );
    let user = UserRef::new(Platform::Telegram, 1);
    let rec = paper.user(user, Some("en")).await.unwrap();
    paper.follow(&rec, l1).await.unwrap();
    live_user(&live, &sol, 1).await;
    for core in [&paper, &live] {
        let rec = core.user(user, None).await.unwrap();
        core.follow(&rec, l2).await.unwrap();
    }

    let mut tape = Tape::new(now());
    let mut script = vec![
        tape.trade(a, l1, Side::Buy, SOL / 2),     // copied
        tape.trade(a, crowd, Side::Buy, SOL),      // not followed
        tape.trade(a, l1, Side::Buy, SOL / 10),    // below the leader minimum
        tape.trade(b, l2, Side::Buy, SOL / 2),     // spacing (adaptive risk)
        tape.trade(b, crowd, Side::Buy, 10 * SOL), // a pump before the entry
    ];
    tape.wait(130_000);
    script.push(tape.trade(b, l2, Side::Buy, SOL / 2)); // copied, at the top
    script.push(tape.trade(c, l2, Side::Buy, SOL / 2)); // blacklisted
    // The leader sells half of what it holds (its two buys): so does the copy.
    let l1_holds = script[0].tokens.0 + script[2].tokens.0;
    script.push(tape.trade(a, l1, Side::Sell, l1_holds / 2));
    // The crowd dumps B: the stop loss sells the copy of L2's entry.
    let dumped = script[4].tokens.0;
    script.push(tape.trade(b, crowd, Side::Sell, dumped));
    // The leader sells the rest: so does the copy.
    script.push(tape.trade(a, l1, Side::Sell, l1_holds - l1_holds / 2));

    for ev in &script {
        if ev.mint != c {
            let mint = Pubkey::new_from_array(*ev.mint.as_bytes());
            jup.price_on(&mint, ev.virtual_sol.0, ev.virtual_tokens.0);
        }
        for core in [&paper, &live] {
            core.ingest(ev).await.unwrap();
            core.tick().await.unwrap();
            quiet(core).await;
        }
    }

    let decisions = |core: &Arc<Core>| {
        let core = Arc::clone(core);
        async move {
            let mut d = core.store().decisions_of(user, None, 100).await.unwrap();
            d.reverse();
            d.into_iter()
                .map(|r| (r.mint, r.side, shape(r.side, &r.verdict)))
                .collect::<Vec<_>>()
        }
    };
    let (p, l) = (decisions(&paper).await, decisions(&live).await);
    assert_eq!(p, l, "paper {p:#?}\nlive {l:#?}");
    let seen: Vec<String> = p
        .iter()
        .map(|(m, side, s)| {
            let m = [(a, "A"), (b, "B"), (c, "C")]
                .iter()
                .find(|(x, _)| x == m)
                .map(|(_, n)| *n)
                .unwrap();
            let word = s.split(' ').take(2).collect::<Vec<_>>().join(" ");
            let word = word.split(['{', '(']).next().unwrap().trim().to_owned();
            format!("{m} {} {word}", side.as_str())
        })
        .collect();
    assert_eq!(
        seen,
        [
            "A buy placed Copy",
            "A buy filled",
            "A buy skipped LeaderTooSmall",
            "B buy skipped Spacing",
            "B buy placed Copy",
            "B buy filled",
            "C buy skipped Blacklisted",
            "A sell placed Exit",
            "A sell filled",
            "B sell placed Exit",
            "B sell filled",
            "A sell placed Exit",
            "A sell filled",
        ],
        "{p:#?}"
    );

    // The fills: same sides and exit reasons; each executor sells the same
    // shares of what it holds.
    for (core, mode) in [(&paper, Mode::Paper), (&live, Mode::Live)] {
        let mut fills = core.store().fills_of(user, 100).await.unwrap();
        fills.reverse();
        let what: Vec<_> = fills
            .iter()
            .map(|f| (f.mint, f.side, f.reason, f.mode, f.tx.is_some()))
            .collect();
        let live = mode == Mode::Live;
        assert_eq!(
            what,
            [
                (a, Side::Buy, None, mode, live),
                (b, Side::Buy, None, mode, live),
                (a, Side::Sell, Some(ExitReason::LeaderSold), mode, live),
                (b, Side::Sell, Some(ExitReason::StopLoss), mode, live),
                (a, Side::Sell, Some(ExitReason::LeaderSold), mode, live),
            ],
            "{mode:?}"
        );
        let (held_a, held_b) = (u128::from(fills[0].tokens.0), fills[1].tokens.0);
        let half = u128::from(l1_holds / 2) * held_a / u128::from(l1_holds);
        assert_eq!(u128::from(fills[2].tokens.0), half, "{mode:?}: same %");
        assert_eq!(fills[3].tokens.0, held_b, "{mode:?}: all of B");
        assert_eq!(
            u128::from(fills[4].tokens.0),
            held_a - half,
            "{mode:?}: the rest of A"
        );
        assert!(core.positions_of(user).is_empty(), "{mode:?}");
        assert_eq!(core.store().round_trips(None, 0).await.unwrap().len(), 2);
    }
    assert_eq!(sol.sends(), 5, "one transaction per live fill");
}

/// `alfabot keys rotate`: every stored key, and every deleted key still
/// restorable, re-sealed under the newest master key, every one still
/// opening to the same secret; without the old key the rotation stops
/// before writing anything.
#[tokio::test]
async fn keys_rotate_reseals_every_key_and_loses_nothing() {
    use alfabot::domain::ports::Store as _;
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}?mode=rwc", dir.path().join("r.db").display());
    let old = MasterKeys::generate_base64();
    let new = MasterKeys::generate_base64();
    let env = |keys: &str| {
        let vars: std::collections::HashMap<String, String> = [
            ("DATABASE_URL".to_owned(), db.clone()),
            ("ALFABOT_MASTER_KEY".to_owned(), keys.to_owned()),
        ]
        .into();
        alfabot::config::Settings::from_sources(None, &vars).unwrap()
    };
    // Three users' keys sealed under the old master key.
    let store = alfabot::store::connect(&db).await.unwrap();
    let vault_old = Vault::new(MasterKeys::parse(&old).unwrap());
    let mut secrets = Vec::new();
    for id in 1..=3 {
        let user = UserRef::new(Platform::Telegram, id);
        store
            .upsert_user(&alfabot::domain::ports::UserRecord {
                user,
                locale: alfabot::domain::Locale::En,
                home_chat: alfabot::domain::ChatRef::new(Platform::Telegram, id),
                active_profile: None,
                notify: alfabot::domain::NotifyPrefs::default(),
                created_ms: 0,
            })
            .await
            .unwrap();
        let (wallet, secret) = keys::generate();
        let sealed = vault_old.seal(user, secret.expose()).unwrap();
        store
            .add_key(&alfabot::domain::ports::KeyRecord {
                user,
                wallet,
                sealed: sealed.as_str().to_owned(),
                created_ms: 0,
                exported_ms: None,
                archived_ms: None,
            })
            .await
            .unwrap();
        secrets.push((user, wallet, *secret.expose()));
    }
    // The third user deleted theirs: a tombstone, restorable, so re-sealed
    // too (else dropping the old master key would make it unrestorable).
    let (deleted_user, deleted_wallet, _) = secrets[2];
    assert!(
        store
            .tombstone_key(deleted_user, deleted_wallet, 1, i64::MAX)
            .await
            .unwrap()
    );
    // Without the old key nothing opens: refused, nothing written.
    let before = store.all_keys().await.unwrap();
    let err = alfabot::vault::rotate_all(&env(&new)).await.unwrap_err();
    assert!(format!("{err:#}").contains("does not open"), "{err:#}");
    assert_eq!(store.all_keys().await.unwrap(), before);
    // With both, every key moves to key 2.
    let report = alfabot::vault::rotate_all(&env(&format!("{},{}", &*old, &*new)))
        .await
        .unwrap();
    let only_new = Vault::new(MasterKeys::parse(&new).unwrap());
    let id = only_new.current_key_id();
    assert_eq!(
        report,
        format!("2 of 2 stored keys and 1 of 1 deleted keys re-sealed under master key {id}")
    );
    // The old key can be dropped now: the new one alone opens everything,
    // the deleted key once restored too.
    assert_eq!(
        store
            .restore_key(deleted_user, deleted_wallet, 2)
            .await
            .unwrap(),
        alfabot::domain::ports::KeyRestore::Restored
    );
    for (user, wallet, secret) in &secrets {
        let k = store.get_key(*user, *wallet).await.unwrap().unwrap();
        let sealed = alfabot::vault::Sealed::from_stored(k.sealed);
        assert_eq!(sealed.key_id().unwrap(), id);
        assert_eq!(&only_new.open(*user, &sealed).unwrap()[..], &secret[..]);
    }
    // A second run has nothing to do.
    let again = alfabot::vault::rotate_all(&env(&new)).await.unwrap();
    assert_eq!(
        again,
        format!("0 of 3 stored keys and 0 of 0 deleted keys re-sealed under master key {id}")
    );
}
