//! `Chain`: the few Solana JSON-RPC calls live trading needs, as a thin
//! async wrapper over the nonblocking `RpcClient` at `confirmed`
//! commitment. It owns the RPC vocabulary (base64 encodings, signature
//! statuses, preflight errors) so that the swap flow speaks in our own
//! types: `Address`, `Signature`, `TxStatus`, `SendError`.
//!
//! Every call adds context naming the call and its subject, so a log line
//! says what failed without a backtrace.

use std::time::Duration;

use anyhow::Context as _;
use solana_account_decoder_client_types::UiAccountEncoding;
use solana_commitment_config::CommitmentConfig;
use solana_hash::Hash;
use solana_pubkey::Pubkey;
use solana_rpc_client::api::config::{RpcAccountInfoConfig, RpcSendTransactionConfig};
use solana_rpc_client::nonblocking::rpc_client::RpcClient;
use solana_transaction::versioned::VersionedTransaction;
use solana_transaction_error::TransactionError;

use crate::domain::{Address, Signature};
use crate::engine::copy::screen::{TOKEN_2022_PROGRAM, TOKEN_PROGRAM};

/// The associated token account program.
const ATA_PROGRAM: Pubkey = Pubkey::from_str_const("ATokenGPvbdGVxr1b2hvZbsiqW5xWH25efTNsLJA8knL");

/// Where a token account keeps its amount (after mint and owner).
const TOKEN_AMOUNT: std::ops::Range<usize> = 64..72;

/// An account as `getAccountInfo` returns it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountInfo {
    /// The program that owns the account.
    pub owner: Address,
    pub lamports: u64,
    pub data: Vec<u8>,
}

/// A recent blockhash and the last block height at which a transaction
/// using it can still land.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Blockhash {
    pub hash: Hash,
    pub last_valid_block_height: u64,
}

/// What the cluster says about a signature it knows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TxStatus {
    /// Executed in a block that is not confirmed yet (it may still be
    /// dropped with its fork).
    Processed,
    /// Confirmed (or finalized) and succeeded.
    Confirmed,
    /// Confirmed (or finalized) and failed; the transaction error's text.
    Failed(String),
}

/// Why `send` did not hand the transaction over.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// The node refused it without forwarding (preflight simulation failed,
    /// or the blockhash is unknown): it will not land as sent.
    #[error("the node refused the transaction: {reason}")]
    Rejected {
        reason: String,
        /// The refusal was `BlockhashNotFound`: re-quote, do not give up.
        blockhash_expired: bool,
    },
    /// The request failed in a way that leaves it unknown whether the node
    /// got the transaction: watch its signature.
    #[error("sending the transaction failed; it may or may not have arrived")]
    Unknown(#[source] anyhow::Error),
}

/// Solana JSON-RPC at `confirmed` commitment.
pub struct Chain {
    rpc: RpcClient,
}

impl std::fmt::Debug for Chain {
    // The URL may carry a provider's key in its path or query.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Chain").finish_non_exhaustive()
    }
}

impl Chain {
    /// A client for `url` with a per-request timeout.
    #[must_use]
    pub fn new(url: impl Into<String>, timeout: Duration) -> Self {
        Self {
            rpc: RpcClient::new_with_timeout_and_commitment(
                url.into(),
                timeout,
                CommitmentConfig::confirmed(),
            ),
        }
    }

    /// Lamports held by `addr` (0 for an account that does not exist).
    pub async fn balance(&self, addr: Address) -> anyhow::Result<u64> {
        self.rpc
            .get_balance(&pubkey(addr))
            .await
            .with_context(|| format!("getBalance {addr}"))
    }

    /// Raw units of `mint` in `owner`'s associated token account, 0 when it
    /// does not exist. Works for SPL Token and Token-2022 mints (the mint's
    /// owner program picks the associated account).
    pub async fn token_balance(&self, owner: Address, mint: Address) -> anyhow::Result<u64> {
        Ok(self.token_account(owner, mint).await?.unwrap_or(0))
    }

    /// Like [`Self::token_balance`], but `None` when the associated token
    /// account (or the mint) does not exist.
    pub async fn token_account(
        &self,
        owner: Address,
        mint: Address,
    ) -> anyhow::Result<Option<u64>> {
        let Some(mint_account) = self
            .account(mint)
            .await
            .with_context(|| format!("token balance of {owner}: reading mint {mint}"))?
        else {
            return Ok(None);
        };
        let program = *mint_account.owner.as_bytes();
        anyhow::ensure!(
            program == TOKEN_PROGRAM || program == TOKEN_2022_PROGRAM,
            "token balance of {owner}: {mint} is owned by {}, not a token program",
            mint_account.owner
        );
        let ata = associated_token_account(owner, mint, Address::from_bytes(program));
        let Some(account) = self
            .account(ata)
            .await
            .with_context(|| format!("token balance of {owner} in {mint}"))?
        else {
            return Ok(None);
        };
        token_account_amount(&account.data)
            .map(Some)
            .with_context(|| format!("token account {ata} of {owner} in {mint}"))
    }

    /// The account at `addr`, `None` when it does not exist (base64 data).
    pub async fn account(&self, addr: Address) -> anyhow::Result<Option<AccountInfo>> {
        let config = RpcAccountInfoConfig {
            encoding: Some(UiAccountEncoding::Base64),
            commitment: Some(self.rpc.commitment()),
            data_slice: None,
            min_context_slot: None,
        };
        let response = self
            .rpc
            .get_ui_account_with_config(&pubkey(addr), config)
            .await
            .with_context(|| format!("getAccountInfo {addr}"))?;
        let Some(ui) = response.value else {
            return Ok(None);
        };
        let account = ui
            .to_account()
            .with_context(|| format!("getAccountInfo {addr}: undecodable account data"))?;
        Ok(Some(AccountInfo {
            owner: Address::from_bytes(account.owner.to_bytes()),
            lamports: account.lamports,
            data: account.data,
        }))
    }

    /// The latest blockhash and its last valid block height.
    pub async fn latest_blockhash(&self) -> anyhow::Result<Blockhash> {
        let (hash, last_valid_block_height) = self
            .rpc
            .get_latest_blockhash_with_commitment(self.rpc.commitment())
            .await
            .context("getLatestBlockhash")?;
        Ok(Blockhash {
            hash,
            last_valid_block_height,
        })
    }

    /// The current block height.
    pub async fn block_height(&self) -> anyhow::Result<u64> {
        self.rpc.get_block_height().await.context("getBlockHeight")
    }

    /// Whether a transaction using `hash` can still land.
    pub async fn is_blockhash_valid(&self, hash: &Hash) -> anyhow::Result<bool> {
        self.rpc
            .is_blockhash_valid(hash, self.rpc.commitment())
            .await
            .with_context(|| format!("isBlockhashValid {hash}"))
    }

    /// Sends a signed transaction (base64, with preflight at `confirmed`).
    /// The node keeps rebroadcasting the same bytes until the blockhash
    /// expires (its default), which cannot execute it twice; after that the
    /// caller re-quotes. Returns its signature (the fee payer's).
    pub async fn send(&self, tx: &VersionedTransaction) -> Result<Signature, SendError> {
        let signature = tx
            .signatures
            .first()
            .map(|s| Signature::from_bytes(s.as_array()))
            .ok_or_else(|| {
                // Nothing was sent, but `Unknown` keeps callers watching,
                // the safe reading of any doubt.
                SendError::Unknown(anyhow::anyhow!("the transaction has no signature"))
            })?;
        let config = RpcSendTransactionConfig {
            skip_preflight: false,
            preflight_commitment: Some(self.rpc.commitment().commitment),
            encoding: None, // base64, the client's default
            max_retries: None,
            min_context_slot: None,
        };
        match self.rpc.send_transaction_with_config(tx, config).await {
            Ok(_) => Ok(signature),
            Err(err) => match err.get_transaction_error() {
                Some(tx_err) => Err(SendError::Rejected {
                    blockhash_expired: tx_err == TransactionError::BlockhashNotFound,
                    reason: tx_err.to_string(),
                }),
                None => Err(SendError::Unknown(
                    anyhow::Error::new(err).context(format!("sendTransaction {signature}")),
                )),
            },
        }
    }

    /// The status of `sig`, searching the transaction history; `None` when
    /// the cluster does not know it.
    pub async fn status(&self, sig: &Signature) -> anyhow::Result<Option<TxStatus>> {
        let parsed: solana_signature::Signature = sig
            .as_str()
            .parse()
            .with_context(|| format!("signature {sig} is not a signature"))?;
        let statuses = self
            .rpc
            .get_signature_statuses_with_history(&[parsed])
            .await
            .with_context(|| format!("getSignatureStatuses {sig}"))?;
        let Some(status) = statuses.value.into_iter().next().flatten() else {
            return Ok(None);
        };
        if !status.satisfies_commitment(CommitmentConfig::confirmed()) {
            return Ok(Some(TxStatus::Processed));
        }
        Ok(Some(match status.err {
            None => TxStatus::Confirmed,
            Some(err) => TxStatus::Failed(err.to_string()),
        }))
    }
}

fn pubkey(addr: Address) -> Pubkey {
    Pubkey::new_from_array(*addr.as_bytes())
}

/// The associated token account of `owner` for `mint` under
/// `token_program`.
#[must_use]
pub fn associated_token_account(owner: Address, mint: Address, token_program: Address) -> Address {
    let (ata, _) = Pubkey::find_program_address(
        &[owner.as_bytes(), token_program.as_bytes(), mint.as_bytes()],
        &ATA_PROGRAM,
    );
    Address::from_bytes(ata.to_bytes())
}

/// The amount of an SPL Token / Token-2022 account (bytes 64..72).
fn token_account_amount(data: &[u8]) -> anyhow::Result<u64> {
    let bytes: [u8; 8] = data
        .get(TOKEN_AMOUNT)
        .and_then(|b| b.try_into().ok())
        .with_context(|| format!("not a token account ({} bytes)", data.len()))?;
    Ok(u64::from_le_bytes(bytes))
}

#[async_trait::async_trait]
impl crate::domain::ports::ChainView for Chain {
    async fn balance(
        &self,
        wallet: crate::domain::WalletAddress,
    ) -> anyhow::Result<crate::domain::Lamports> {
        Chain::balance(self, wallet)
            .await
            .map(crate::domain::Lamports)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn associated_token_account_depends_on_the_token_program() {
        // The integration tests check the derivation against the real ATA
        // program running in litesvm.
        let owner = Address::parse("8jGai9a8U4RSzDnweCgeVZJBLxMTrNsrhHbGrCF8F3Ks").unwrap();
        let mint = Address::parse("EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v").unwrap();
        let ata = associated_token_account(owner, mint, Address::from_bytes(TOKEN_PROGRAM));
        // Derivation is deterministic and differs per token program.
        let ata22 = associated_token_account(owner, mint, Address::from_bytes(TOKEN_2022_PROGRAM));
        assert_ne!(ata, ata22);
        assert_eq!(
            ata,
            associated_token_account(owner, mint, Address::from_bytes(TOKEN_PROGRAM))
        );
    }

    #[test]
    fn token_amount_is_read_from_its_offset() {
        let mut data = vec![0u8; 165];
        data[64..72].copy_from_slice(&123_456u64.to_le_bytes());
        assert_eq!(token_account_amount(&data).unwrap(), 123_456);
        assert!(token_account_amount(&data[..70]).is_err());
    }
}
