//! Key custody as the chat layer uses it: create or import a wallet key
//! (sealed by the vault for its owner before it is stored), list keys with
//! their balances, export one (the caller confirms and warns first), delete
//! one no profile uses. Secrets only pass through zeroizing buffers and are
//! never logged or put in errors.

use anyhow::Context as _;
use zeroize::Zeroizing;

use super::Core;
use crate::domain::ports::KeyRecord;
use crate::domain::{Lamports, UserRef, WalletAddress};
use crate::vault::keys::{self, KeyImportError};
use crate::vault::{Sealed, VaultError};

/// The most keys one user may store.
pub const MAX_KEYS: usize = 5;

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
}

impl Core {
    fn vault(&self) -> Result<&crate::vault::Vault, WalletError> {
        self.vault.as_deref().ok_or(WalletError::NoVault)
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
            })
            .await
            .context("store the sealed key")?;
        if added {
            Ok(())
        } else {
            Err(WalletError::Duplicate)
        }
    }

    /// The user's keys with balances and the profiles using them.
    pub async fn keys(&self, user: UserRef) -> Result<Vec<KeyView>, WalletError> {
        let stored = self.store.keys_of(user).await?;
        let profiles = self.profiles(user).await?;
        let mut out = Vec::with_capacity(stored.len());
        for k in stored {
            let balance = match &self.chain {
                Some(c) => match c.balance(k.wallet).await {
                    Ok(b) => Some(b),
                    Err(e) => {
                        tracing::warn!(wallet = %k.wallet, error = format!("{e:#}"), "balance unavailable");
                        None
                    }
                },
                None => None,
            };
            out.push(KeyView {
                wallet: k.wallet,
                balance,
                profiles: profiles
                    .iter()
                    .filter(|p| p.settings.wallet == Some(k.wallet))
                    .map(|p| p.name.to_string())
                    .collect(),
            });
        }
        Ok(out)
    }

    /// The user's secret key in base58 (Phantom/Solflare import format).
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
        tracing::info!(%user, %wallet, "wallet key exported");
        Ok(keys::export_base58(&key))
    }

    /// Deletes a key no profile signs with.
    pub async fn delete_key(
        &self,
        user: UserRef,
        wallet: WalletAddress,
    ) -> Result<(), WalletError> {
        if let Some(p) = self
            .profiles(user)
            .await?
            .into_iter()
            .find(|p| p.settings.wallet == Some(wallet))
        {
            return Err(WalletError::InUse {
                profile: p.name.to_string(),
            });
        }
        if self.store.delete_key(user, wallet).await? {
            tracing::info!(%user, %wallet, "wallet key deleted");
            Ok(())
        } else {
            Err(WalletError::NotFound)
        }
    }
}
