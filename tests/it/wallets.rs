//! Key custody in the core against a real store (SQLite file): when
//! deleting a key is refused and when it is allowed, checked again at
//! confirmation; archiving; deleted keys restored within their recovery
//! period (not past the key limit, not over a key imported anew) and
//! purged after it. Balances come from a chain stub whose wallets are
//! either known or unreachable; time from a manual clock.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use alfabot::domain::ports::{ChainView, UserRecord};
use alfabot::domain::{Lamports, Platform, ProfileSettings, Setting, UserRef, WalletAddress};
use alfabot::engine::curve::Fees;
use alfabot::engine::{Engine, EngineConfig};
use alfabot::exec::paper::PaperExecutor;
use alfabot::service::{
    Core, CoreParts, DUST, Executors, MAX_KEYS, NoSubscriptions, SettingChange, WalletError,
};
use alfabot::vault::{MasterKeys, Vault};

use crate::support::clock::ManualClock;

const T0: i64 = 1_773_144_000_000;
const DAY: i64 = 86_400_000;
const ANA: UserRef = UserRef::new(Platform::Telegram, 71);
const BEN: UserRef = UserRef::new(Platform::Telegram, 72);

/// Balances by wallet; a wallet not listed is one the RPC node does not
/// answer for.
#[derive(Default)]
struct Chain(Mutex<HashMap<WalletAddress, u64>>);

impl Chain {
    fn set(&self, wallet: WalletAddress, lamports: u64) {
        self.0.lock().unwrap().insert(wallet, lamports);
    }

    fn unreachable(&self, wallet: WalletAddress) {
        self.0.lock().unwrap().remove(&wallet);
    }
}

#[async_trait::async_trait]
impl ChainView for Chain {
    async fn balance(&self, wallet: WalletAddress) -> anyhow::Result<Lamports> {
        self.0
            .lock()
            .unwrap()
            .get(&wallet)
            .map(|&l| Lamports(l))
            .ok_or_else(|| anyhow::anyhow!("connection refused"))
    }
}

struct Custody {
    core: Arc<Core>,
    chain: Arc<Chain>,
    clock: Arc<ManualClock>,
    _dir: tempfile::TempDir,
}

impl Custody {
    async fn new(recovery: Duration) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let db = format!("sqlite://{}?mode=rwc", dir.path().join("k.db").display());
        let store = alfabot::store::connect(&db).await.unwrap();
        let chain = Arc::new(Chain::default());
        let clock = ManualClock::at(T0);
        let vault = Vault::new(MasterKeys::parse(&MasterKeys::generate_base64()).unwrap());
        let core = Core::new(CoreParts {
            engine: Engine::new(EngineConfig::default()),
            store: Arc::new(store),
            sessions: alfabot::session::connect(None).await.unwrap(),
            feed: Arc::new(NoSubscriptions),
            clock: clock.clone(),
            executors: Executors {
                paper: Arc::new(PaperExecutor::new(Fees::default())),
                live: None,
            },
            defaults: ProfileSettings::default(),
            wall_clock: true,
            vault: Some(Arc::new(vault)),
            chain: Some(chain.clone()),
        })
        .with_key_recovery(recovery);
        Self {
            core: Arc::new(core),
            chain,
            clock,
            _dir: dir,
        }
    }

    async fn user(&self, user: UserRef) -> UserRecord {
        let rec = self.core.user(user, None).await.unwrap();
        self.core.active_profile(&rec).await.unwrap();
        rec
    }

    /// A key the bot made for `user`, holding `lamports` (`None`: the
    /// balance cannot be read).
    async fn key(&self, user: UserRef, lamports: Option<u64>) -> WalletAddress {
        let w = self.core.create_key(user).await.unwrap();
        if let Some(l) = lamports {
            self.chain.set(w, l);
        }
        w
    }

    async fn listed(&self, user: UserRef) -> Vec<WalletAddress> {
        let list = self.core.keys(user, false).await.unwrap();
        list.keys.iter().map(|k| k.wallet).collect()
    }

    async fn use_key(&self, user: &UserRecord, wallet: WalletAddress) {
        self.set_wallet(user, &wallet.to_string()).await;
    }

    async fn unuse(&self, user: &UserRecord) {
        self.set_wallet(user, "off").await;
    }

    /// Types the active profile's signing wallet (`off` for none).
    async fn set_wallet(&self, user: &UserRecord, typed: &str) {
        let p = self.core.active_profile(user).await.unwrap();
        self.core
            .change_setting(
                user.user,
                p.id,
                Setting::Wallet,
                SettingChange::Typed(typed),
            )
            .await
            .unwrap();
    }
}

fn week() -> Duration {
    Duration::from_secs(7 * 86_400)
}

#[tokio::test]
async fn delete_is_refused_while_a_profile_signs_with_the_key() {
    let c = Custody::new(week()).await;
    let ana = c.user(ANA).await;
    let w = c.key(ANA, Some(0)).await;
    c.core.export_key(ANA, w).await.unwrap();
    c.use_key(&ana, w).await;
    for refused in [
        c.core.check_delete(ANA, w).await.unwrap_err(),
        c.core.delete_key(ANA, w).await.unwrap_err(),
        c.core.archive_key(ANA, w).await.unwrap_err(),
    ] {
        assert!(
            matches!(&refused, WalletError::InUse { profile } if profile == "main"),
            "{refused:?}"
        );
    }
    assert_eq!(c.listed(ANA).await, vec![w]);
    c.unuse(&ana).await;
    c.core.delete_key(ANA, w).await.unwrap();
    assert!(c.listed(ANA).await.is_empty());
}

#[tokio::test]
async fn delete_is_refused_when_the_balance_is_unknown_and_the_key_never_exported() {
    let c = Custody::new(week()).await;
    c.user(ANA).await;
    let w = c.key(ANA, None).await;
    for refused in [
        c.core.check_delete(ANA, w).await.unwrap_err(),
        c.core.delete_key(ANA, w).await.unwrap_err(),
    ] {
        assert!(
            matches!(refused, WalletError::NotBackedUp { wallet, balance: None } if wallet == w),
            "{refused:?}"
        );
    }
    assert_eq!(c.listed(ANA).await, vec![w], "nothing changed");
}

#[tokio::test]
async fn delete_is_refused_above_dust_when_the_key_was_never_exported() {
    let c = Custody::new(week()).await;
    c.user(ANA).await;
    let w = c.key(ANA, Some(DUST.0 + 1)).await;
    let refused = c.core.delete_key(ANA, w).await.unwrap_err();
    assert!(
        matches!(refused, WalletError::NotBackedUp { balance: Some(b), .. } if b.0 == DUST.0 + 1),
        "{refused:?}"
    );
    assert_eq!(c.listed(ANA).await, vec![w]);
}

#[tokio::test]
async fn delete_is_allowed_once_the_key_was_exported() {
    let c = Custody::new(week()).await;
    c.user(ANA).await;
    let rich = c.key(ANA, Some(5_000_000_000)).await;
    let unknown = c.key(ANA, None).await;
    for w in [rich, unknown] {
        c.core.export_key(ANA, w).await.unwrap();
        let asked = c.core.check_delete(ANA, w).await.unwrap();
        assert_eq!(asked.exported_ms, Some(T0));
        assert_eq!(asked.recovery, week());
        c.core.delete_key(ANA, w).await.unwrap();
    }
    let asked_balance = c.core.keys(ANA, false).await.unwrap();
    assert!(asked_balance.keys.is_empty());
    assert_eq!(asked_balance.deleted.len(), 2);
}

#[tokio::test]
async fn delete_is_allowed_at_dust_when_the_key_was_never_exported() {
    let c = Custody::new(week()).await;
    c.user(ANA).await;
    let empty = c.key(ANA, Some(0)).await;
    let dust = c.key(ANA, Some(DUST.0)).await;
    for w in [empty, dust] {
        let asked = c.core.check_delete(ANA, w).await.unwrap();
        assert_eq!(asked.exported_ms, None, "the question says so");
        assert!(asked.balance.is_some_and(|b| b <= DUST));
        c.core.delete_key(ANA, w).await.unwrap();
    }
    assert!(c.listed(ANA).await.is_empty());
}

/// The question and the answer are two presses apart: what changed in
/// between decides.
#[tokio::test]
async fn refusals_are_checked_again_when_the_deletion_is_confirmed() {
    let c = Custody::new(week()).await;
    let ana = c.user(ANA).await;
    let w = c.key(ANA, Some(0)).await;
    c.core.check_delete(ANA, w).await.unwrap();
    // Funds arrive before "Yes".
    c.chain.set(w, 2 * DUST.0);
    assert!(matches!(
        c.core.delete_key(ANA, w).await,
        Err(WalletError::NotBackedUp { .. })
    ));
    // The node stops answering.
    c.chain.unreachable(w);
    assert!(matches!(
        c.core.delete_key(ANA, w).await,
        Err(WalletError::NotBackedUp { balance: None, .. })
    ));
    // Exported, but meanwhile a profile signs with it.
    c.core.export_key(ANA, w).await.unwrap();
    c.core.check_delete(ANA, w).await.unwrap();
    c.use_key(&ana, w).await;
    assert!(matches!(
        c.core.delete_key(ANA, w).await,
        Err(WalletError::InUse { .. })
    ));
    assert_eq!(c.listed(ANA).await, vec![w]);
}

#[tokio::test]
async fn archived_keys_are_hidden_kept_counted_and_come_back() {
    let c = Custody::new(week()).await;
    c.user(ANA).await;
    c.user(BEN).await;
    let keys: Vec<WalletAddress> = {
        let mut v = Vec::new();
        for _ in 0..MAX_KEYS {
            v.push(c.key(ANA, None).await);
        }
        v
    };
    c.core.archive_key(ANA, keys[0]).await.unwrap();
    let list = c.core.keys(ANA, false).await.unwrap();
    assert_eq!(list.keys.len(), MAX_KEYS - 1);
    assert!(!list.keys.iter().any(|k| k.wallet == keys[0]));
    assert_eq!((list.stored, list.archived), (MAX_KEYS, 1));
    let archived = c.core.keys(ANA, true).await.unwrap();
    assert_eq!(
        archived.keys.iter().map(|k| k.wallet).collect::<Vec<_>>(),
        vec![keys[0]]
    );
    // Archived keys count toward the limit.
    assert!(matches!(
        c.core.create_key(ANA).await,
        Err(WalletError::TooMany { .. })
    ));
    // Kept: it still exports, and only its owner can bring it back.
    c.core.export_key(ANA, keys[0]).await.unwrap();
    assert!(matches!(
        c.core.unarchive_key(BEN, keys[0]).await,
        Err(WalletError::NotFound)
    ));
    assert!(matches!(
        c.core.archive_key(BEN, keys[1]).await,
        Err(WalletError::NotFound)
    ));
    c.core.unarchive_key(ANA, keys[0]).await.unwrap();
    // Same creation time (a still clock): listed in address order.
    let (mut listed, mut all) = (c.listed(ANA).await, keys);
    listed.sort();
    all.sort();
    assert_eq!(listed, all);
}

#[tokio::test]
async fn deleted_keys_restore_within_their_period_and_are_purged_after() {
    let c = Custody::new(Duration::from_secs(2 * 86_400)).await;
    c.user(ANA).await;
    c.user(BEN).await;
    let w = c.key(ANA, Some(0)).await;
    let until = c.core.delete_key(ANA, w).await.unwrap();
    assert_eq!(until, T0 + 2 * DAY);
    let list = c.core.keys(ANA, false).await.unwrap();
    assert!(list.keys.is_empty());
    assert_eq!(list.deleted.len(), 1);
    assert_eq!(
        (list.deleted[0].wallet, list.deleted[0].purge_at_ms),
        (w, until)
    );
    // Not someone else's to restore.
    assert!(matches!(
        c.core.restore_key(BEN, w).await,
        Err(WalletError::NotFound)
    ));
    c.clock.advance(DAY);
    c.core.restore_key(ANA, w).await.unwrap();
    assert_eq!(c.listed(ANA).await, vec![w]);
    // The restored key still opens: the secret came back, not a copy.
    c.core.export_key(ANA, w).await.unwrap();

    // Deleted again, and the period passes: the sweeper purges it, once.
    c.core.delete_key(ANA, w).await.unwrap();
    assert_eq!(c.core.purge_deleted_keys().await.unwrap(), 0, "not due");
    c.clock.advance(2 * DAY);
    assert!(c.core.keys(ANA, false).await.unwrap().deleted.is_empty());
    assert!(matches!(
        c.core.restore_key(ANA, w).await,
        Err(WalletError::NotFound)
    ));
    assert_eq!(c.core.purge_deleted_keys().await.unwrap(), 1);
    assert_eq!(c.core.purge_deleted_keys().await.unwrap(), 0, "idempotent");
    assert!(c.core.store().all_deleted_keys().await.unwrap().is_empty());
}

#[tokio::test]
async fn a_restore_over_the_limit_or_over_a_reimported_key_is_refused() {
    let c = Custody::new(week()).await;
    c.user(ANA).await;
    // A key imported, deleted, then imported anew: the old copy cannot
    // come back over it.
    let (addr, secret) = alfabot::vault::keys::generate();
    let text = alfabot::vault::keys::export_base58(&secret);
    c.core.import_key(ANA, &text).await.unwrap();
    c.chain.set(addr, 0);
    c.core.delete_key(ANA, addr).await.unwrap();
    c.core.import_key(ANA, &text).await.unwrap();
    assert!(matches!(
        c.core.restore_key(ANA, addr).await,
        Err(WalletError::Taken)
    ));
    assert_eq!(c.listed(ANA).await, vec![addr]);

    // At the limit, a deleted key cannot come back until there is room.
    let gone = c.key(ANA, Some(0)).await;
    c.core.delete_key(ANA, gone).await.unwrap();
    let mut others = Vec::new();
    while c.core.keys(ANA, false).await.unwrap().stored < MAX_KEYS {
        others.push(c.key(ANA, Some(0)).await);
    }
    assert!(matches!(
        c.core.restore_key(ANA, gone).await,
        Err(WalletError::TooMany { max: MAX_KEYS })
    ));
    c.core.delete_key(ANA, others[0]).await.unwrap();
    c.core.restore_key(ANA, gone).await.unwrap();
    assert!(c.listed(ANA).await.contains(&gone));
}
