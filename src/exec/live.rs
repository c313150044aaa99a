//! The live executor: an approved order becomes a signed Jupiter swap from
//! the user's own wallet.
//!
//! - The user's key stays sealed while the swap screens the mint, measures
//!   balances, quotes and builds (it works with the wallet's address, the
//!   stored public key). It is opened from the vault only to sign each
//!   transaction message, and the secret and the keypair built from it are
//!   wiped right after that signature (both zeroize on drop). A key that
//!   does not open for the user, or signs for another wallet than the
//!   profile's, refuses the order (`WrongKey`) before anything is sent.
//! - The transaction's signature and the wallet's balances are journaled in
//!   the order's row (`Store::order_sent`) before it is sent; after a crash,
//!   [`Executor::reconcile`] asks the cluster what became of that signature
//!   instead of sending again.
//! - One swap at a time per wallet (balances are measured as differences).
//! - The mint screen (freeze authority, permanent delegate, transfer hook)
//!   runs before every buy.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use anyhow::Context as _;
use async_trait::async_trait;

use super::swap::{
    SignError, SwapJournal, SwapOutcome, SwapRefusal, SwapRequest, SwapSide, Swapper, WalletSigner,
};
use super::{Executor, Market};
use crate::domain::ports::{Balances, Clock, OrderRecord, OrderStatus, Store};
use crate::domain::{
    Address, Execution, IdempotencyKey, Lamports, Order, Side, Signature, SkipReason, TokenAmount,
    UserRef, WalletAddress,
};
use crate::engine::RiskApproved;
use crate::vault::{Sealed, Vault, keys};

/// A sent transaction unknown to the cluster this long after it was sent
/// can no longer land (its blockhash lives about a minute): it expired.
pub const UNKNOWN_IS_EXPIRED_AFTER: Duration = Duration::from_secs(180);

pub struct LiveExecutor {
    swapper: Swapper,
    vault: Arc<Vault>,
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    wallets: Mutex<HashMap<WalletAddress, Arc<tokio::sync::Mutex<()>>>>,
}

impl LiveExecutor {
    #[must_use]
    pub fn new(
        swapper: Swapper,
        vault: Arc<Vault>,
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            swapper,
            vault,
            store,
            clock,
            wallets: Mutex::new(HashMap::new()),
        }
    }

    fn wallet_lock(&self, wallet: WalletAddress) -> Arc<tokio::sync::Mutex<()>> {
        let mut locks = self.wallets.lock().unwrap_or_else(PoisonError::into_inner);
        Arc::clone(locks.entry(wallet).or_default())
    }

    fn rejected(&self, reason: SkipReason) -> Execution {
        Execution::Rejected {
            reason,
            at_ms: self.clock.now_ms(),
        }
    }

    fn outcome(&self, outcome: SwapOutcome) -> Execution {
        match outcome {
            SwapOutcome::Filled {
                sol,
                tokens,
                fee,
                tx,
            } => Execution::Filled {
                sol: Lamports(sol),
                tokens: TokenAmount(tokens),
                fee: Lamports(fee),
                tx: Some(tx),
                at_ms: self.clock.now_ms(),
            },
            SwapOutcome::Refused(r) => {
                tracing::info!(refusal = %r, "live order refused");
                self.rejected(refusal_reason(r))
            }
        }
    }
}

/// The skip reason users read for a swap refusal.
#[must_use]
pub fn refusal_reason(r: SwapRefusal) -> SkipReason {
    match r {
        SwapRefusal::Slippage { expected, got } => SkipReason::Slippage { expected, got },
        SwapRefusal::WrongKey => SkipReason::WrongKey,
        SwapRefusal::InsufficientFunds { need, have } => SkipReason::InsufficientFunds {
            need: Lamports(need),
            have: Lamports(have),
        },
        SwapRefusal::QuoteFailed(_) => SkipReason::QuoteFailed,
        SwapRefusal::TxFailed(_) => SkipReason::TxFailed,
        SwapRefusal::Expired => SkipReason::Expired,
        SwapRefusal::TokenScreen(screen) => SkipReason::TokenScreen { screen },
    }
}

const fn swap_side(side: Side) -> SwapSide {
    match side {
        Side::Buy => SwapSide::Buy,
        Side::Sell => SwapSide::Sell,
    }
}

/// A wallet's sealed key, opened for one signature at a time.
struct SealedKey<'a> {
    vault: &'a Vault,
    owner: UserRef,
    wallet: WalletAddress,
    sealed: Sealed,
}

impl WalletSigner for SealedKey<'_> {
    fn address(&self) -> Address {
        self.wallet
    }

    fn sign(&self, message: &[u8]) -> Result<solana_signature::Signature, SignError> {
        use solana_signer::Signer as _;
        let secret = self.vault.open(self.owner, &self.sealed).map_err(|e| {
            tracing::warn!(user = %self.owner, wallet = %self.wallet, error = %e,
                "the stored key does not open");
            SignError::Sealed
        })?;
        let keypair = keys::keypair(&secret).map_err(|_| SignError::NotAKeypair)?;
        drop(secret);
        if keys::address_of(&keypair) != self.wallet {
            tracing::warn!(user = %self.owner, wallet = %self.wallet,
                "the stored key signs for another wallet");
            return Err(SignError::OtherWallet);
        }
        Ok(keypair.sign_message(message))
        // `keypair` is dropped (and wiped) here.
    }
}

/// Journals each transaction in the order's row before it is sent.
struct OrderJournal<'a> {
    store: &'a dyn Store,
    clock: &'a dyn Clock,
    key: &'a IdempotencyKey,
}

#[async_trait]
impl SwapJournal for OrderJournal<'_> {
    async fn sent(&self, tx: &Signature, before: Balances) -> anyhow::Result<()> {
        self.store
            .order_sent(self.key, tx, before, self.clock.now_ms())
            .await
    }
}

#[async_trait]
impl Executor for LiveExecutor {
    /// Live orders run at once: their latency is the real one.
    fn ready_at(&self, _order: &Order) -> Option<i64> {
        None
    }

    async fn execute(
        &self,
        order: &RiskApproved<Order>,
        _market: &Market,
    ) -> anyhow::Result<Execution> {
        let Some(wallet) = order.wallet else {
            return Ok(self.rejected(SkipReason::NoWallet));
        };
        let Some(stored) = self
            .store
            .get_key(order.user, wallet)
            .await
            .context("read the wallet's key")?
        else {
            return Ok(self.rejected(SkipReason::NoWallet));
        };
        // The stored public key names the wallet: no need to open the key.
        if stored.wallet != wallet {
            return Ok(self.rejected(SkipReason::WrongKey));
        }
        let signer = SealedKey {
            vault: &self.vault,
            owner: order.user,
            wallet,
            sealed: Sealed::from_stored(stored.sealed),
        };
        let req = SwapRequest {
            side: swap_side(order.side),
            mint: order.mint,
            amount: match order.side {
                Side::Buy => order.sol_in.0,
                Side::Sell => order.tokens_in.0,
            },
            min_out: order.min_out,
            slippage_bps: order.slippage_bps,
            priority_fee: order.priority_fee.0,
        };
        let lock = self.wallet_lock(wallet);
        let _one_at_a_time = lock.lock().await;
        let journal = OrderJournal {
            store: self.store.as_ref(),
            clock: self.clock.as_ref(),
            key: &order.key,
        };
        let outcome = self.swapper.swap(req, &signer, &journal).await?;
        Ok(self.outcome(outcome))
    }

    async fn reconcile(
        &self,
        record: &OrderRecord,
        _market: &Market,
    ) -> anyhow::Result<Option<Execution>> {
        let order = &record.order;
        match (record.status, &record.tx, record.before, order.wallet) {
            // The journal comes before the send: nothing was sent.
            (OrderStatus::Pending, _, _, _) => Ok(Some(self.rejected(SkipReason::Interrupted))),
            (OrderStatus::Sent, Some(tx), Some(before), Some(wallet)) => {
                let lock = self.wallet_lock(wallet);
                let _one_at_a_time = lock.lock().await;
                match self
                    .swapper
                    .reconcile(tx, wallet, order.mint, swap_side(order.side), before)
                    .await?
                {
                    Some(outcome) => Ok(Some(self.outcome(outcome))),
                    None => {
                        let age = self.clock.now_ms() - record.updated_ms;
                        let expired =
                            i64::try_from(UNKNOWN_IS_EXPIRED_AFTER.as_millis()).unwrap_or(i64::MAX);
                        Ok((age >= expired).then(|| self.rejected(SkipReason::Expired)))
                    }
                }
            }
            (OrderStatus::Sent, ..) => {
                anyhow::bail!("order {} is sent but its journal is incomplete", order.key)
            }
            (OrderStatus::Filled | OrderStatus::Rejected, ..) => Ok(None),
        }
    }
}
