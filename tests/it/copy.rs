//! The copy pipeline through the application core with the live executor,
//! offline: the engine decides, the core stores the order's key, the live
//! executor opens the user's key from the vault and swaps through the real
//! `RpcClient` and Jupiter client against the fake RPC node over litesvm and
//! the fake Jupiter. Balances are asserted on the SVM.
//!
//! Also: a process killed right after sending is reconciled on restart
//! (no second order), and paper and live make the same decisions on the
//! same trades (one decision path, two executors).

use std::sync::Arc;
use std::time::Duration;

use alfabot::domain::ports::{OrderStatus, SystemClock};
use alfabot::domain::{
    Address, Lamports, Mode, Platform, ProfileSettings, Setting, Side, Signature, SkipReason,
    TokenAmount, TradeEvent, UserRef, Verdict, WalletAddress,
};
use alfabot::engine::curve::{Curve, Fees};
use alfabot::engine::{Engine, EngineConfig};
use alfabot::exec::chain::Chain;
use alfabot::exec::jupiter::Jupiter;
use alfabot::exec::live::LiveExecutor;
use alfabot::exec::paper::PaperExecutor;
use alfabot::exec::swap::{SwapConfig, Swapper};
use alfabot::service::{Core, CoreParts, Executors, NoSubscriptions, SettingChange};
use alfabot::vault::{MasterKeys, Vault, keys};
use solana_pubkey::Pubkey;

use crate::support::jupiter::FakeJupiter;
use crate::support::svm::FakeSolana;

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

/// A core whose live orders go to the fake chain, polling every `poll`.
async fn core(db: &str, sol: &FakeSolana, jup: &FakeJupiter, poll: Duration) -> Arc<Core> {
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
        Arc::new(SystemClock),
    );
    let core = Arc::new(Core::new(CoreParts {
        engine: Engine::new(EngineConfig::default()),
        store,
        sessions: alfabot::session::connect(None).await.unwrap(),
        feed: Arc::new(NoSubscriptions),
        clock: Arc::new(SystemClock),
        executors: Executors {
            paper: Arc::new(PaperExecutor::new(Fees::default())),
            live: Some(Arc::new(live)),
        },
        defaults: settings(),
        wall_clock: false,
        vault: Some(vault),
        chain: Some(Arc::new(Chain::new(sol.url(), Duration::from_secs(5)))),
    }));
    core.restore().await.expect("restore");
    core
}

/// A market for the fake pool's mint: a curve walked by the leader's trades.
struct Tape {
    mint: WalletAddress,
    curve: Curve,
    n: u8,
    at: i64,
    leader: WalletAddress,
}

impl Tape {
    fn new(mint: &Pubkey) -> Self {
        Self {
            mint: Address::from_bytes(mint.to_bytes()),
            curve: Curve::fresh(),
            n: 0,
            at: alfabot::domain::ports::Clock::now_ms(&SystemClock),
            leader: WalletAddress::parse(LEADER).unwrap(),
        }
    }

    fn trade(&mut self, trader: WalletAddress, side: Side, amount: u64) -> TradeEvent {
        self.n += 1;
        self.at += 1_000;
        let (net, tokens) = match side {
            Side::Buy => {
                let q = self.curve.quote_buy(Lamports(amount), Fees::default());
                (q.sol.0 - q.fee.0, q.tokens.0)
            }
            Side::Sell => (self.curve.gross_sol_for_tokens(amount), amount),
        };
        self.curve.apply(side == Side::Buy, net, tokens);
        TradeEvent {
            signature: Signature::from_bytes(&[self.n; 64]),
            mint: self.mint,
            trader,
            side,
            sol: Lamports(net),
            tokens: TokenAmount(tokens),
            timestamp_ms: self.at,
            slot: None,
            virtual_sol: Lamports(self.curve.virtual_sol),
            virtual_tokens: TokenAmount(self.curve.virtual_tokens),
            trader_balance_after: None,
            created: false,
            on_curve: true,
        }
    }
}

/// A user with an imported key (funded on the SVM) and a live profile
/// following the leader; returns the user, the key's pubkey, the profile.
async fn live_user(core: &Arc<Core>, sol: &FakeSolana, id: i64) -> (UserRef, Pubkey) {
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
    core.follow(&rec, WalletAddress::parse(LEADER).unwrap())
        .await
        .unwrap();
    (user, pk)
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
    let (user, pk) = live_user(&core, &sol, 1).await;
    let mut tape = Tape::new(&jup.mint());
    let lamports_before = sol.balance(&pk);

    let buy = tape.trade(tape.leader, Side::Buy, SOL / 2);
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
    let sell = tape.trade(tape.leader, Side::Sell, buy.tokens.0);
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
    let (user, _) = live_user(&core, &sol, 1).await;
    let mut tape = Tape::new(&jup.mint());
    jup.drain_pool_next();
    let buy = tape.trade(tape.leader, Side::Buy, SOL / 2);
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
    // A key that does not sign for the wallet: refused before any send.
    jup.wrong_payer_next();
    let buy2 = tape.trade(tape.leader, Side::Buy, SOL / 10);
    // Adaptive spacing would refuse a second entry this soon; turn it off.
    let p = core.profiles(user).await.unwrap().remove(0);
    core.change_setting(user, p.id, Setting::Adaptive, SettingChange::Next)
        .await
        .unwrap();
    core.ingest(&buy2).await.unwrap();
    assert_eq!(settled(&core, &key(1, &buy2)).await, OrderStatus::Rejected);
    assert_eq!(sol.sends(), 1);
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
    let mut tape = Tape::new(&jup.mint());
    let buy = tape.trade(tape.leader, Side::Buy, SOL / 2);

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
        let (_, pk) = live_user(&core, &sol, 1).await;
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

/// What a decision was, without the executor's figures.
fn shape(v: &Verdict) -> String {
    match v {
        Verdict::Placed { intent, sol, .. } => format!("placed {intent:?} {}", sol.0),
        Verdict::Skipped { reason } => format!("skipped {reason:?}"),
        Verdict::Filled { .. } => "filled".into(),
        Verdict::Rejected { reason, .. } => format!("rejected {reason:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paper_and_live_make_the_same_decisions() {
    let sol = FakeSolana::start().await;
    let jup = FakeJupiter::start(&sol, 30 * SOL, 1_073_000_000 * 1_000_000).await;
    let dir = tempfile::tempdir().unwrap();
    let paper_db = format!("sqlite://{}?mode=rwc", dir.path().join("p.db").display());
    let live_db = format!("sqlite://{}?mode=rwc", dir.path().join("l.db").display());
    let paper = core(&paper_db, &sol, &jup, Duration::from_millis(10)).await;
    let live = core(&live_db, &sol, &jup, Duration::from_millis(10)).await;
    let user = UserRef::new(Platform::Telegram, 1);
    let rec = paper.user(user, Some("en")).await.unwrap();
    paper
        .follow(&rec, WalletAddress::parse(LEADER).unwrap())
        .await
        .unwrap();
    live_user(&live, &sol, 1).await;
    // The same rules in both but the mode: a minimum leader size.
    for core in [&paper, &live] {
        let p = core.profiles(user).await.unwrap().remove(0);
        core.change_setting(user, p.id, Setting::LeaderMin, SettingChange::Typed("0.2"))
            .await
            .unwrap();
    }
    let mut tape = Tape::new(&jup.mint());
    let leader = tape.leader;
    let other = WalletAddress::from_bytes([9; 32]);
    let mut script = vec![
        tape.trade(leader, Side::Buy, SOL / 2),  // placed
        tape.trade(other, Side::Buy, SOL),       // not followed
        tape.trade(leader, Side::Buy, SOL / 10), // below the leader minimum
        tape.trade(leader, Side::Buy, SOL / 2),  // spacing (adaptive risk)
    ];
    // The leader sells everything it bought: the copy sells everything.
    let held: u64 = [0, 2, 3].iter().map(|i| script[*i].tokens.0).sum();
    script.push(tape.trade(leader, Side::Sell, held));
    for (i, ev) in script.iter().enumerate() {
        for core in [&paper, &live] {
            core.ingest(ev).await.unwrap();
            core.tick().await.unwrap();
        }
        if i == 0 {
            assert_eq!(settled(&live, &key(1, ev)).await, OrderStatus::Filled);
        }
    }
    let sell = &script[4];
    assert_eq!(settled(&live, &key(1, sell)).await, OrderStatus::Filled);
    paper.tick().await.unwrap();
    let decisions = |core: &Arc<Core>| {
        let core = Arc::clone(core);
        async move {
            let mut d = core.why(user, None).await.unwrap();
            d.reverse();
            d.into_iter()
                .map(|r| (r.side, shape(&r.verdict)))
                .collect::<Vec<_>>()
        }
    };
    let (p, l) = (decisions(&paper).await, decisions(&live).await);
    assert_eq!(p, l, "paper {p:#?}\nlive {l:#?}");
    let kinds: Vec<&str> = p
        .iter()
        .map(|(_, s)| s.split(' ').next().unwrap())
        .collect();
    assert_eq!(
        kinds,
        ["placed", "filled", "skipped", "skipped", "placed", "filled"],
        "{p:#?}"
    );
    let fills = |db: &Arc<Core>| {
        let db = Arc::clone(db);
        async move { db.store().fills_of(user, 10).await.unwrap() }
    };
    let (pf, lf) = (fills(&paper).await, fills(&live).await);
    assert_eq!(pf.len(), 2);
    assert_eq!(lf.len(), 2);
    assert!(pf.iter().all(|f| f.mode == Mode::Paper && f.tx.is_none()));
    assert!(lf.iter().all(|f| f.mode == Mode::Live && f.tx.is_some()));
}

/// `alfabot keys rotate`: every stored key re-sealed under the newest
/// master key, every one still opening to the same secret; without the old
/// key the rotation stops before writing anything.
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
            })
            .await
            .unwrap();
        secrets.push((user, wallet, *secret.expose()));
    }
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
        format!("3 of 3 stored keys re-sealed under master key {id}")
    );
    // The old key can be dropped now: the new one alone opens everything.
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
        format!("0 of 3 stored keys re-sealed under master key {id}")
    );
}
