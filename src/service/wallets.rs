//! Key custody as the chat layer uses it: create or import a wallet key
//! (sealed by the vault for its owner before it is stored), list keys with
//! their balances, export one (the caller confirms and warns first; the
//! export's time is recorded), archive one (hidden, kept), and delete one.
//! Secrets only pass through zeroizing buffers and are never logged or put
//! in errors.
//!
//! Deleting is where funds can be lost for good: a key the bot made and
//! never showed is the only copy of its wallet's key. So a deletion is
//! refused while a profile signs with the key, and while the key was never
//! exported and its wallet holds more than [`DUST`] or its balance cannot
//! be read; the same checks run when the user asks and again when they
//! confirm ([`Core::check_delete`], [`Core::delete_key`]). Even then the
//! sealed key is not dropped: it becomes a tombstone its owner can restore
//! for the recovery period (`ALFABOT_KEY_RECOVERY_DAYS`), and
//! [`Core::purge_deleted_keys`] removes it after that.

use std::time::Duration;

use anyhow::Context as _;
use zeroize::Zeroizing;

use super::Core;
use crate::domain::ports::{KeyRecord, KeyRestore};
use crate::domain::{Lamports, UserRef, WalletAddress};
use crate::vault::keys::{self, KeyImportError};
use crate::vault::{Sealed, VaultError};

/// The most keys one user may store, archived keys included.
///
/// Archived keys count because archiving only hides a key: it is still a
/// sealed secret in the bot's custody and comes back with one press, which
/// must not be refused for want of room. If they did not count, archiving
/// would be a way around the limit. Deleted keys (tombstones) do not count:
/// they are gone for good after the recovery period, and restoring one is
/// refused while the user is at the limit.
pub const MAX_KEYS: usize = 5;

/// A balance at or below this may be lost with a never-exported key
/// (0.001 SOL: about the rent-exempt minimum of an empty account, a few
/// cents); above it, deleting such a key is refused.
pub const DUST: Lamports = Lamports(1_000_000);

/// How long a deleted key can be restored, unless configured.
pub const DEFAULT_KEY_RECOVERY: Duration = Duration::from_secs(7 * 24 * 3_600);

/// Why a key operation was refused (rendered for users by `chat/`).
#[derive(Debug, thiserror::Error)]
pub enum WalletError {
    #[error("key custody is not configured")]
    NoVault,
    #[error("the key was refused: {0}")]
    Import(KeyImportError),
    #[error("that wallet is already stored")]
    Duplicate,
    #[error("no such key")]
    NotFound,
    #[error("at most {max} keys")]
    TooMany { max: usize },
    #[error("profile {profile} uses this wallet")]
    InUse { profile: String },
    /// Never exported, and the wallet holds more than dust, or its balance
    /// could not be read (`None`): deleting could lose the funds for good.
    #[error("the key was never exported and its wallet may hold funds")]
    NotBackedUp {
        wallet: WalletAddress,
        balance: Option<Lamports>,
    },
    /// A deleted key cannot come back: the user stores that wallet again.
    #[error("that wallet is stored again")]
    Taken,
    /// The sealed key does not open (another master key, or tampered).
    #[error("the stored key does not open")]
    Sealed,
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

/// A stored key with its balance (`None` when the chain could not say).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyView {
    pub wallet: WalletAddress,
    pub balance: Option<Lamports>,
    /// Profiles that sign with it.
    pub profiles: Vec<String>,
    /// When it was last exported.
    pub exported_ms: Option<i64>,
}

/// A deleted key that can still be restored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeletedKeyView {
    pub wallet: WalletAddress,
    pub deleted_ms: i64,
    /// When it is gone for good.
    pub purge_at_ms: i64,
}

/// What `/wallet` shows: the listed keys (or the archived ones), how many
/// are archived, and the recently deleted ones.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyList {
    /// The keys in the list, or the archived keys when those were asked
    /// for; oldest first, with balances.
    pub keys: Vec<KeyView>,
    /// Keys stored, archived included (what [`MAX_KEYS`] counts).
    pub stored: usize,
    pub archived: usize,
    /// Most recently deleted first.
    pub deleted: Vec<DeletedKeyView>,
}

/// What a user is asked to confirm before a key is deleted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeletePreview {
    pub wallet: WalletAddress,
    pub balance: Option<Lamports>,
    pub exported_ms: Option<i64>,
    /// How long it can be restored after the deletion.
    pub recovery: Duration,
}

impl Core {
    fn vault(&self) -> Result<&crate::vault::Vault, WalletError> {
        self.vault.as_deref().ok_or(WalletError::NoVault)
    }

    /// How long a deleted key can be restored.
    #[must_use]
    pub const fn key_recovery(&self) -> Duration {
        self.key_recovery
    }

    /// Creates a fresh keypair for the user; returns its address.
    pub async fn create_key(&self, user: UserRef) -> Result<WalletAddress, WalletError> {
        let (wallet, secret) = keys::generate();
        self.store_key(user, wallet, secret.expose()).await?;
        tracing::info!(%user, %wallet, "wallet key created");
        Ok(wallet)
    }

    /// Imports a secret key (base58 or a JSON array of 64 numbers).
    pub async fn import_key(
        &self,
        user: UserRef,
        text: &str,
    ) -> Result<WalletAddress, WalletError> {
        let (wallet, secret) = keys::parse_import(text).map_err(WalletError::Import)?;
        self.store_key(user, wallet, secret.expose()).await?;
        tracing::info!(%user, %wallet, "wallet key imported");
        Ok(wallet)
    }

    async fn store_key(
        &self,
        user: UserRef,
        wallet: WalletAddress,
        secret: &[u8],
    ) -> Result<(), WalletError> {
        let vault = self.vault()?;
        if self.store.keys_of(user).await?.len() >= MAX_KEYS {
            return Err(WalletError::TooMany { max: MAX_KEYS });
        }
        let sealed = vault
            .seal(user, secret)
            .map_err(|e| anyhow::anyhow!("sealing a key: {e}"))?;
        let added = self
            .store
            .add_key(&KeyRecord {
                user,
                wallet,
                sealed: sealed.as_str().to_owned(),
                created_ms: self.now_ms(),
                exported_ms: None,
                archived_ms: None,
            })
            .await
            .context("store the sealed key")?;
        if added {
            Ok(())
        } else {
            Err(WalletError::Duplicate)
        }
    }

    /// The wallet's balance, `None` when the chain cannot say.
    async fn balance_of(&self, wallet: WalletAddress) -> Option<Lamports> {
        let chain = self.chain.as_ref()?;
        match chain.balance(wallet).await {
            Ok(b) => Some(b),
            Err(e) => {
                tracing::warn!(%wallet, error = format!("{e:#}"), "balance unavailable");
                None
            }
        }
    }

    /// `/wallet`: the listed keys (or, with `archived`, the archived ones)
    /// with balances and the profiles using them, and the recently deleted
    /// keys.
    pub async fn keys(&self, user: UserRef, archived: bool) -> Result<KeyList, WalletError> {
        let stored = self.store.keys_of(user).await?;
        let profiles = self.profiles(user).await?;
        let archived_count = stored.iter().filter(|k| k.archived_ms.is_some()).count();
        let mut keys = Vec::new();
        for k in stored
            .iter()
            .filter(|k| k.archived_ms.is_some() == archived)
        {
            keys.push(KeyView {
                wallet: k.wallet,
                balance: self.balance_of(k.wallet).await,
                profiles: profiles
                    .iter()
                    .filter(|p| p.settings.wallet == Some(k.wallet))
                    .map(|p| p.name.to_string())
                    .collect(),
                exported_ms: k.exported_ms,
            });
        }
        let deleted = self
            .store
            .deleted_keys_of(user, self.now_ms())
            .await?
            .into_iter()
            .map(|d| DeletedKeyView {
                wallet: d.key.wallet,
                deleted_ms: d.deleted_ms,
                purge_at_ms: d.purge_at_ms,
            })
            .collect();
        Ok(KeyList {
            keys,
            stored: stored.len(),
            archived: archived_count,
            deleted,
        })
    }

    /// The user's secret key in base58 (Phantom/Solflare import format).
    ///
    /// The export is recorded before the secret is handed back: a key
    /// recorded as exported whose message then failed to arrive is the
    /// lesser risk (its deletion still asks, shows the export date, and
    /// stays restorable), and a shown key recorded as never exported only
    /// makes deleting it stricter.
    pub async fn export_key(
        &self,
        user: UserRef,
        wallet: WalletAddress,
    ) -> Result<Zeroizing<String>, WalletError> {
        let vault = self.vault()?;
        let stored = self
            .store
            .get_key(user, wallet)
            .await?
            .ok_or(WalletError::NotFound)?;
        let secret = vault
            .open(user, &Sealed::from_stored(stored.sealed))
            .map_err(|e| match e {
                VaultError::Open | VaultError::UnknownKey(_) | VaultError::Malformed => {
                    WalletError::Sealed
                }
                other => WalletError::Unexpected(anyhow::anyhow!("opening a key: {other}")),
            })?;
        let key = keys::SecretKey::from_slice(&secret).map_err(WalletError::Import)?;
        if !self
            .store
            .mark_key_exported(user, wallet, self.now_ms())
            .await?
        {
            return Err(WalletError::NotFound);
        }
        tracing::info!(%user, %wallet, "wallet key exported");
        Ok(keys::export_base58(&key))
    }

    /// A profile of the user's that signs with `wallet`, as a refusal.
    async fn refuse_in_use(&self, user: UserRef, wallet: WalletAddress) -> Result<(), WalletError> {
        match self
            .profiles(user)
            .await?
            .into_iter()
            .find(|p| p.settings.wallet == Some(wallet))
        {
            Some(p) => Err(WalletError::InUse {
                profile: p.name.to_string(),
            }),
            None => Ok(()),
        }
    }

    /// Whether the key may be deleted now, and what to show before asking:
    /// refused while a profile signs with it, and while it was never
    /// exported and its wallet holds more than [`DUST`] or its balance is
    /// unknown.
    pub async fn check_delete(
        &self,
        user: UserRef,
        wallet: WalletAddress,
    ) -> Result<DeletePreview, WalletError> {
        let key = self
            .store
            .get_key(user, wallet)
            .await?
            .ok_or(WalletError::NotFound)?;
        self.refuse_in_use(user, wallet).await?;
        let balance = self.balance_of(wallet).await;
        if key.exported_ms.is_none() && balance.is_none_or(|b| b > DUST) {
            return Err(WalletError::NotBackedUp { wallet, balance });
        }
        Ok(DeletePreview {
            wallet,
            balance,
            exported_ms: key.exported_ms,
            recovery: self.key_recovery,
        })
    }

    /// Deletes a key, confirmed: the checks of [`Core::check_delete`] run
    /// again (things may have changed since the question), then the key
    /// becomes a tombstone restorable until the returned time.
    pub async fn delete_key(
        &self,
        user: UserRef,
        wallet: WalletAddress,
    ) -> Result<i64, WalletError> {
        self.check_delete(user, wallet).await?;
        let now = self.now_ms();
        let until =
            now.saturating_add(i64::try_from(self.key_recovery.as_millis()).unwrap_or(i64::MAX));
        if self.store.tombstone_key(user, wallet, now, until).await? {
            tracing::info!(%user, %wallet, purge_at_ms = until, "wallet key deleted (restorable)");
            Ok(until)
        } else {
            Err(WalletError::NotFound)
        }
    }

    /// Hides a key from the list; it stays stored and can come back at any
    /// time. Refused while a profile signs with it (a hidden key must not
    /// be one that trades).
    pub async fn archive_key(
        &self,
        user: UserRef,
        wallet: WalletAddress,
    ) -> Result<(), WalletError> {
        if self.store.get_key(user, wallet).await?.is_none() {
            return Err(WalletError::NotFound);
        }
        self.refuse_in_use(user, wallet).await?;
        if self
            .store
            .set_key_archived(user, wallet, Some(self.now_ms()))
            .await?
        {
            tracing::info!(%user, %wallet, "wallet key archived");
            Ok(())
        } else {
            Err(WalletError::NotFound)
        }
    }

    /// Brings an archived key back to the list.
    pub async fn unarchive_key(
        &self,
        user: UserRef,
        wallet: WalletAddress,
    ) -> Result<(), WalletError> {
        if self.store.set_key_archived(user, wallet, None).await? {
            tracing::info!(%user, %wallet, "wallet key unarchived");
            Ok(())
        } else {
            Err(WalletError::NotFound)
        }
    }

    /// Restores a deleted key within its recovery period. Refused when the
    /// user is at [`MAX_KEYS`], or stores that wallet again.
    pub async fn restore_key(
        &self,
        user: UserRef,
        wallet: WalletAddress,
    ) -> Result<(), WalletError> {
        let now = self.now_ms();
        let stored = self.store.keys_of(user).await?;
        if stored.iter().any(|k| k.wallet == wallet) {
            return Err(WalletError::Taken);
        }
        if !self
            .store
            .deleted_keys_of(user, now)
            .await?
            .iter()
            .any(|d| d.key.wallet == wallet)
        {
            return Err(WalletError::NotFound);
        }
        if stored.len() >= MAX_KEYS {
            return Err(WalletError::TooMany { max: MAX_KEYS });
        }
        match self.store.restore_key(user, wallet, now).await? {
            KeyRestore::Restored => {
                tracing::info!(%user, %wallet, "wallet key restored");
                Ok(())
            }
            KeyRestore::Missing => Err(WalletError::NotFound),
            KeyRestore::Taken => Err(WalletError::Taken),
        }
    }

    /// Drops deleted keys past their recovery period; returns how many.
    /// Safe to run from several instances at once.
    pub async fn purge_deleted_keys(&self) -> anyhow::Result<u64> {
        let purged = self
            .store
            .purge_deleted_keys(self.now_ms())
            .await
            .context("purge deleted keys")?;
        if purged > 0 {
            tracing::info!(
                purged,
                "deleted wallet keys purged after their recovery period"
            );
        }
        Ok(purged)
    }
}
