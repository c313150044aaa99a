//! The live swap flow, independent of the engine: screen the mint, measure
//! balances, quote, build, check and sign the transaction, journal it,
//! send it, confirm it, and report what the wallet really paid and got.
//!
//! Rules it keeps (DESIGN §3 Jupiter, §5):
//! - the signature is journaled *before* the transaction is sent, so a
//!   crash after sending is reconciled from the journal, never re-sent;
//! - only the signer's signature slot is filled; a transaction whose fee
//!   payer is not the signer is refused before anything is sent;
//! - the swap works with the wallet's address; its key is only asked for
//!   a signature of each message, right before it is journaled and sent
//!   ([`WalletSigner`]: the vault-backed one opens the key for that one
//!   signature and wipes it after);
//! - a failed transaction is final (never retried); an expired one is
//!   re-quoted and rebuilt (a new message, never a re-signed old one), at
//!   most `max_requotes` times;
//! - amounts are measured as balance differences of the wallet, so fees,
//!   priority fees and token-account rent are all in `sol`.
//!
//! One swap at a time per wallet: a concurrent transfer in the same wallet
//! would be counted in the measured differences.

use std::time::{Duration, Instant};

use anyhow::Context as _;
use solana_keypair::Keypair;
use solana_message::VersionedMessage;
use solana_pubkey::Pubkey;
use solana_signer::Signer as _;
use solana_transaction::versioned::VersionedTransaction;

use super::chain::{Chain, SendError, TxStatus};
use super::jupiter::{Jupiter, SwapTx, WSOL_MINT};
use crate::domain::{Address, ScreenReason, Signature};
use crate::engine::copy::screen::screen_mint;

/// Lamports per signature on Solana (fixed by the protocol today).
pub const LAMPORTS_PER_SIGNATURE: u64 = 5_000;
/// Rent-exempt deposit of a 165-byte token account.
pub const TOKEN_ACCOUNT_RENT: u64 = 2_039_280;

const COMPUTE_BUDGET_PROGRAM: Pubkey =
    Pubkey::from_str_const("ComputeBudget111111111111111111111111111111");
const DEFAULT_UNITS_PER_INSTRUCTION: u64 = 200_000;
const MAX_COMPUTE_UNITS: u64 = 1_400_000;

/// Buy spends SOL for tokens; sell spends tokens for SOL.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SwapSide {
    Buy,
    Sell,
}

/// One swap to make.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SwapRequest {
    pub side: SwapSide,
    pub mint: Address,
    /// Lamports to spend for a buy; raw token units to sell.
    pub amount: u64,
    /// The least output accepted from the quote (tokens for a buy,
    /// lamports for a sell). On chain, the floor is the quote's
    /// `otherAmountThreshold` (its output less `slippage_bps`).
    pub min_out: u64,
    pub slippage_bps: u32,
    /// Priority fee in lamports, passed to Jupiter.
    pub priority_fee: u64,
}

/// A wallet's SOL and token balance at one moment (the store keeps them
/// with a sent order).
pub use crate::domain::ports::Balances;

/// Why a swap was not made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SwapRefusal {
    #[error("the quote gives {got}, less than the minimum {expected}")]
    Slippage { expected: u64, got: u64 },
    #[error("the swap transaction is not paid and signed by the wallet's key")]
    WrongKey,
    #[error("the wallet has {have}, the swap needs {need}")]
    InsufficientFunds { need: u64, have: u64 },
    #[error("no quote or swap transaction: {0}")]
    QuoteFailed(String),
    #[error("the transaction failed: {0}")]
    TxFailed(String),
    #[error("the transaction expired without landing, re-quotes included")]
    Expired,
    #[error("the token was refused: {0:?}")]
    TokenScreen(ScreenReason),
}

/// What a swap did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SwapOutcome {
    Filled {
        /// Lamports the wallet paid for a buy (every fee and a new token
        /// account's rent included), or received net for a sell.
        sol: u64,
        /// Raw token units received (buy) or sold (sell).
        tokens: u64,
        /// The network fee (signatures and priority) computed from the
        /// transaction; 0 when reconciled after a crash, where the message is
        /// no longer known (`sol` is still measured).
        fee: u64,
        tx: Signature,
    },
    Refused(SwapRefusal),
}

/// Signs swap messages for one wallet. The address is known without the
/// key (it is the stored public key); a signer backed by the vault opens
/// the key for each signature only.
pub trait WalletSigner: Send + Sync {
    /// The wallet that pays for and signs the swap.
    fn address(&self) -> Address;
    /// Signs `message` with the wallet's key, or says why it cannot.
    fn sign(&self, message: &[u8]) -> Result<solana_signature::Signature, SignError>;
}

/// Why a wallet's key did not sign. Never carries any part of the key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SignError {
    /// Sealed for another user, under a master key that is not loaded, or
    /// tampered with.
    #[error("the stored key does not open")]
    Sealed,
    #[error("the stored key is not a keypair")]
    NotAKeypair,
    #[error("the key signs for another wallet")]
    OtherWallet,
}

/// A keypair in memory signs for its own address (tests, tools).
impl WalletSigner for Keypair {
    fn address(&self) -> Address {
        Address::from_bytes(self.pubkey().to_bytes())
    }

    fn sign(&self, message: &[u8]) -> Result<solana_signature::Signature, SignError> {
        Ok(self.sign_message(message))
    }
}

/// Records a swap's transaction before it is sent.
#[async_trait::async_trait]
pub trait SwapJournal: Send + Sync {
    /// Called once per transaction, before sending it; an error aborts the
    /// swap with nothing sent. `before` is what `reconcile` measures against.
    async fn sent(&self, tx: &Signature, before: Balances) -> anyhow::Result<()>;
}

/// Timing of the confirmation loop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SwapConfig {
    /// Pause between status polls.
    pub poll_interval: Duration,
    /// Re-quotes after an expired transaction.
    pub max_requotes: u32,
    /// Give up watching one transaction after this long even if the block
    /// height cannot be read (the swap then ends in an error: reconcile).
    pub confirm_timeout: Duration,
}

impl Default for SwapConfig {
    fn default() -> Self {
        Self {
            poll_interval: Duration::from_millis(400),
            max_requotes: 2,
            confirm_timeout: Duration::from_secs(120),
        }
    }
}

/// How watching one transaction ended.
enum Watch {
    Confirmed,
    Failed(String),
    Expired,
}

/// Makes live swaps through Jupiter and an RPC node.
#[derive(Debug)]
pub struct Swapper {
    pub chain: Chain,
    pub jupiter: Jupiter,
    pub config: SwapConfig,
}

impl Swapper {
    #[must_use]
    pub fn new(chain: Chain, jupiter: Jupiter) -> Self {
        Self {
            chain,
            jupiter,
            config: SwapConfig::default(),
        }
    }

    #[must_use]
    pub const fn with_config(mut self, config: SwapConfig) -> Self {
        self.config = config;
        self
    }

    /// Makes one swap for `signer`'s wallet. `Ok(Refused)` means nothing
    /// landed; `Err` after the journal recorded a transaction means its fate
    /// is unknown: call `reconcile` with the journaled signature.
    pub async fn swap(
        &self,
        req: SwapRequest,
        signer: &dyn WalletSigner,
        journal: &dyn SwapJournal,
    ) -> anyhow::Result<SwapOutcome> {
        let owner = signer.address();
        if req.side == SwapSide::Buy
            && let Err(risk) = self.screen(req.mint).await?
        {
            return Ok(SwapOutcome::Refused(SwapRefusal::TokenScreen(risk)));
        }
        let (before, has_token_account) = self.balances(owner, req.mint).await?;
        if let Some(refusal) = funds_refusal(&req, before, has_token_account) {
            return Ok(SwapOutcome::Refused(refusal));
        }
        let (input, output) = match req.side {
            SwapSide::Buy => (WSOL_MINT, req.mint),
            SwapSide::Sell => (req.mint, WSOL_MINT),
        };
        for attempt in 0..=self.config.max_requotes {
            let quote = match self
                .jupiter
                .quote(input, output, req.amount, req.slippage_bps)
                .await
            {
                Ok(q) => q,
                Err(e) => {
                    tracing::warn!(mint = %req.mint, attempt, error = %e, "quote failed");
                    return Ok(SwapOutcome::Refused(SwapRefusal::QuoteFailed(
                        e.to_string(),
                    )));
                }
            };
            if quote.out_amount < req.min_out {
                return Ok(SwapOutcome::Refused(SwapRefusal::Slippage {
                    expected: req.min_out,
                    got: quote.out_amount,
                }));
            }
            let built = match self.jupiter.swap(&quote, owner, req.priority_fee).await {
                Ok(s) => s,
                Err(e) => {
                    tracing::warn!(mint = %req.mint, attempt, error = %e, "swap build failed");
                    return Ok(SwapOutcome::Refused(SwapRefusal::QuoteFailed(
                        e.to_string(),
                    )));
                }
            };
            let SwapTx {
                mut tx,
                last_valid_block_height,
            } = built;
            if let Err(e) = sign_own_slot(&mut tx, signer) {
                tracing::warn!(wallet = %owner, error = %e, "the swap was not signed");
                return Ok(SwapOutcome::Refused(SwapRefusal::WrongKey));
            }
            let fee = network_fee(&tx.message);
            let sig = tx_signature(&tx);
            journal
                .sent(&sig, before)
                .await
                .with_context(|| format!("journaling {sig} before sending"))?;
            tracing::info!(%sig, mint = %req.mint, side = ?req.side, attempt, out = quote.out_amount, "sending swap");
            match self.chain.send(&tx).await {
                Ok(_) => {}
                Err(SendError::Rejected {
                    blockhash_expired: true,
                    ..
                }) => {
                    tracing::info!(%sig, "blockhash expired before sending; re-quoting");
                    continue;
                }
                Err(SendError::Rejected { reason, .. }) => {
                    return Ok(SwapOutcome::Refused(SwapRefusal::TxFailed(reason)));
                }
                Err(SendError::Unknown(e)) => {
                    // It may have arrived: watching it decides.
                    tracing::warn!(%sig, error = %format!("{e:#}"), "send failed; watching the signature");
                }
            }
            match self.watch(&sig, last_valid_block_height).await? {
                Watch::Confirmed => {
                    let outcome = self
                        .measure(req.side, owner, req.mint, before, fee, sig)
                        .await?;
                    return Ok(outcome);
                }
                Watch::Failed(reason) => {
                    return Ok(SwapOutcome::Refused(SwapRefusal::TxFailed(reason)));
                }
                Watch::Expired => {
                    tracing::info!(%sig, attempt, "transaction expired; re-quoting");
                }
            }
        }
        Ok(SwapOutcome::Refused(SwapRefusal::Expired))
    }

    /// After a crash: the fate of a journaled transaction. Confirmed →
    /// `Filled` measured against `before`; failed → `TxFailed`; unknown to
    /// the cluster → `None` (the caller decides, e.g. once its blockhash
    /// has expired).
    pub async fn reconcile(
        &self,
        tx: &Signature,
        owner: Address,
        mint: Address,
        side: SwapSide,
        before: Balances,
    ) -> anyhow::Result<Option<SwapOutcome>> {
        match self.chain.status(tx).await? {
            Some(TxStatus::Confirmed) => self
                .measure(side, owner, mint, before, 0, tx.clone())
                .await
                .map(Some),
            Some(TxStatus::Failed(reason)) => {
                Ok(Some(SwapOutcome::Refused(SwapRefusal::TxFailed(reason))))
            }
            Some(TxStatus::Processed) | None => Ok(None),
        }
    }

    async fn screen(&self, mint: Address) -> anyhow::Result<Result<(), ScreenReason>> {
        let account = self
            .chain
            .account(mint)
            .await
            .with_context(|| format!("screening mint {mint}"))?;
        Ok(match account {
            None => Err(ScreenReason::NotAMint),
            Some(a) => screen_mint(a.owner.as_bytes(), &a.data),
        })
    }

    /// The wallet's balances, and whether its token account exists.
    async fn balances(&self, owner: Address, mint: Address) -> anyhow::Result<(Balances, bool)> {
        let lamports = self.chain.balance(owner).await?;
        let tokens = self.chain.token_account(owner, mint).await?;
        Ok((
            Balances {
                lamports,
                tokens: tokens.unwrap_or(0),
            },
            tokens.is_some(),
        ))
    }

    /// Polls until the transaction is confirmed or failed, or its blockhash
    /// has expired with the transaction still unknown.
    async fn watch(&self, sig: &Signature, last_valid_block_height: u64) -> anyhow::Result<Watch> {
        let deadline = Instant::now() + self.config.confirm_timeout;
        loop {
            tokio::time::sleep(self.config.poll_interval).await;
            match self.chain.status(sig).await {
                Ok(Some(TxStatus::Confirmed)) => return Ok(Watch::Confirmed),
                Ok(Some(TxStatus::Failed(reason))) => return Ok(Watch::Failed(reason)),
                // Landed but not confirmed yet: it can still confirm.
                Ok(Some(TxStatus::Processed)) => {}
                Ok(None) => match self.chain.block_height().await {
                    // One last look: it may have landed in the last valid block.
                    Ok(height) if height > last_valid_block_height => {
                        match self.chain.status(sig).await? {
                            Some(TxStatus::Confirmed) => return Ok(Watch::Confirmed),
                            Some(TxStatus::Failed(reason)) => return Ok(Watch::Failed(reason)),
                            Some(TxStatus::Processed) => {}
                            None => return Ok(Watch::Expired),
                        }
                    }
                    Ok(_) => {}
                    Err(e) => {
                        tracing::warn!(%sig, error = %format!("{e:#}"), "block height unavailable")
                    }
                },
                Err(e) => tracing::warn!(%sig, error = %format!("{e:#}"), "status unavailable"),
            }
            anyhow::ensure!(
                Instant::now() < deadline,
                "transaction {sig} still unconfirmed after {:?}; reconcile it later",
                self.config.confirm_timeout
            );
        }
    }

    async fn measure(
        &self,
        side: SwapSide,
        owner: Address,
        mint: Address,
        before: Balances,
        fee: u64,
        tx: Signature,
    ) -> anyhow::Result<SwapOutcome> {
        let (after, _) = self
            .balances(owner, mint)
            .await
            .with_context(|| format!("measuring the balances after {tx}"))?;
        let (sol, tokens) = match side {
            SwapSide::Buy => (
                before.lamports.saturating_sub(after.lamports),
                after.tokens.saturating_sub(before.tokens),
            ),
            SwapSide::Sell => (
                after.lamports.saturating_sub(before.lamports),
                before.tokens.saturating_sub(after.tokens),
            ),
        };
        Ok(SwapOutcome::Filled {
            sol,
            tokens,
            fee,
            tx,
        })
    }
}

/// Refuses a swap the wallet cannot pay. Fees are the priority fee and two
/// signatures; a buy also needs the amount and, without a token account
/// yet, its rent; a sell needs the tokens (checked first) and the fees.
fn funds_refusal(
    req: &SwapRequest,
    before: Balances,
    has_token_account: bool,
) -> Option<SwapRefusal> {
    let fees = req.priority_fee.saturating_add(2 * LAMPORTS_PER_SIGNATURE);
    let lamports_needed = match req.side {
        SwapSide::Buy => {
            let rent = if has_token_account {
                0
            } else {
                TOKEN_ACCOUNT_RENT
            };
            fees.saturating_add(req.amount).saturating_add(rent)
        }
        SwapSide::Sell => {
            if before.tokens < req.amount {
                return Some(SwapRefusal::InsufficientFunds {
                    need: req.amount,
                    have: before.tokens,
                });
            }
            fees
        }
    };
    (before.lamports < lamports_needed).then_some(SwapRefusal::InsufficientFunds {
        need: lamports_needed,
        have: before.lamports,
    })
}

/// Why a transaction was left unsigned.
#[derive(Debug, thiserror::Error)]
enum Unsigned {
    #[error("the transaction is not paid by the wallet")]
    NotOurs,
    #[error(transparent)]
    Key(#[from] SignError),
    #[error("the signature does not verify for the wallet")]
    BadSignature,
}

/// Fills the signer's signature slot, leaving the others as they are. The
/// signer must be the fee payer (key 0, whose signature names the
/// transaction), and its signature must verify for that address.
fn sign_own_slot(tx: &mut VersionedTransaction, signer: &dyn WalletSigner) -> Result<(), Unsigned> {
    let me = Pubkey::new_from_array(*signer.address().as_bytes());
    let required = usize::from(tx.message.header().num_required_signatures);
    let keys = tx.message.static_account_keys();
    if required == 0 || keys.first() != Some(&me) || tx.signatures.len() != required {
        return Err(Unsigned::NotOurs);
    }
    let message = tx.message.serialize();
    let signature = signer.sign(&message)?;
    if !signature.verify(me.as_ref(), &message) {
        return Err(Unsigned::BadSignature);
    }
    tx.signatures[0] = signature;
    Ok(())
}

fn tx_signature(tx: &VersionedTransaction) -> Signature {
    // `sign_own_slot` checked that slot 0 exists.
    tx.signatures
        .first()
        .map(|s| Signature::from_bytes(s.as_array()))
        .unwrap_or_else(|| Signature::from_bytes(&[0; 64]))
}

/// Signature fees plus the priority fee (`ceil(price × limit / 10⁶)`),
/// from the message's compute-budget instructions. Without a limit
/// instruction the limit is the runtime's default of 200k units per
/// instruction (capped at 1.4M).
#[must_use]
pub fn network_fee(message: &VersionedMessage) -> u64 {
    let keys = message.static_account_keys();
    let mut limit: Option<u64> = None;
    let mut price: u64 = 0; // micro-lamports per compute unit
    let mut others: u64 = 0;
    for ix in message.instructions() {
        let is_budget = keys.get(usize::from(ix.program_id_index)) == Some(&COMPUTE_BUDGET_PROGRAM);
        match (is_budget, ix.data.split_first()) {
            (true, Some((2, rest))) if rest.len() >= 4 => {
                limit = Some(u64::from(u32::from_le_bytes([
                    rest[0], rest[1], rest[2], rest[3],
                ])));
            }
            (true, Some((3, rest))) if rest.len() >= 8 => {
                let mut b = [0u8; 8];
                b.copy_from_slice(&rest[..8]);
                price = u64::from_le_bytes(b);
            }
            (true, _) => {}
            (false, _) => others += 1,
        }
    }
    let limit = limit
        .unwrap_or(others * DEFAULT_UNITS_PER_INSTRUCTION)
        .min(MAX_COMPUTE_UNITS);
    let priority = (u128::from(price) * u128::from(limit)).div_ceil(1_000_000);
    let signatures = u64::from(message.header().num_required_signatures) * LAMPORTS_PER_SIGNATURE;
    signatures.saturating_add(u64::try_from(priority).unwrap_or(u64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;
    use solana_hash::Hash;
    use solana_message::compiled_instruction::CompiledInstruction;
    use solana_message::{MessageHeader, v0};

    fn message(payer: Pubkey, signers: u8, ixs: Vec<(u8, Vec<u8>)>) -> VersionedMessage {
        let mut keys = vec![payer];
        for _ in 1..signers {
            keys.push(Pubkey::new_unique());
        }
        keys.push(COMPUTE_BUDGET_PROGRAM);
        keys.push(Pubkey::new_unique()); // some other program
        let budget = u8::try_from(keys.len() - 2).unwrap();
        VersionedMessage::V0(v0::Message {
            header: MessageHeader {
                num_required_signatures: signers,
                num_readonly_signed_accounts: 0,
                num_readonly_unsigned_accounts: 2,
            },
            account_keys: keys,
            recent_blockhash: Hash::new_unique(),
            instructions: ixs
                .into_iter()
                .map(|(program, data)| CompiledInstruction {
                    program_id_index: budget + program,
                    accounts: vec![],
                    data,
                })
                .collect(),
            address_table_lookups: vec![],
        })
    }

    fn limit(units: u32) -> (u8, Vec<u8>) {
        let mut d = vec![2];
        d.extend_from_slice(&units.to_le_bytes());
        (0, d)
    }

    fn price(micro: u64) -> (u8, Vec<u8>) {
        let mut d = vec![3];
        d.extend_from_slice(&micro.to_le_bytes());
        (0, d)
    }

    #[test]
    fn fee_counts_signatures_and_priority() {
        let payer = Pubkey::new_unique();
        let plain = message(payer, 2, vec![(1, vec![])]);
        assert_eq!(network_fee(&plain), 10_000);
        let priced = message(payer, 1, vec![limit(200_000), price(5), (1, vec![])]);
        assert_eq!(network_fee(&priced), 5_000 + 1);
        let rounded_up = message(payer, 1, vec![limit(300_001), price(10), (1, vec![])]);
        assert_eq!(network_fee(&rounded_up), 5_000 + 4);
        // No limit: 200k per non-budget instruction.
        let default_limit = message(payer, 1, vec![price(1_000_000), (1, vec![]), (1, vec![])]);
        assert_eq!(network_fee(&default_limit), 5_000 + 400_000);
        // Truncated data is ignored, never a panic.
        let junk = message(payer, 1, vec![(0, vec![3, 1]), (0, vec![])]);
        assert_eq!(network_fee(&junk), 5_000);
    }

    #[test]
    fn only_the_fee_payer_slot_is_signed() {
        let me = Keypair::new();
        let msg = message(me.pubkey(), 2, vec![(1, vec![])]);
        let pool_sig = solana_signature::Signature::from([7u8; 64]);
        let mut tx = VersionedTransaction {
            signatures: vec![solana_signature::Signature::default(), pool_sig],
            message: msg,
        };
        sign_own_slot(&mut tx, &me).unwrap();
        assert_eq!(tx.signatures[1], pool_sig, "others' signatures kept");
        assert!(tx.signatures[0].verify(me.pubkey().as_ref(), &tx.message.serialize()));

        let other = Keypair::new();
        let mut theirs = VersionedTransaction {
            signatures: vec![solana_signature::Signature::default(); 2],
            message: message(other.pubkey(), 2, vec![]),
        };
        assert!(sign_own_slot(&mut theirs, &me).is_err());
        // Signature slots that do not match the header are refused too.
        let mut short = VersionedTransaction {
            signatures: vec![],
            message: message(me.pubkey(), 1, vec![]),
        };
        assert!(sign_own_slot(&mut short, &me).is_err());
    }

    /// Claims one wallet, signs with whatever it holds.
    struct Claims(Pubkey, Result<Keypair, SignError>);

    impl WalletSigner for Claims {
        fn address(&self) -> Address {
            Address::from_bytes(self.0.to_bytes())
        }
        fn sign(&self, message: &[u8]) -> Result<solana_signature::Signature, SignError> {
            self.1
                .as_ref()
                .map(|k| k.sign_message(message))
                .map_err(|e| *e)
        }
    }

    #[test]
    fn a_key_that_does_not_sign_for_the_wallet_leaves_the_slot_empty() {
        let me = Keypair::new();
        let unsigned = || VersionedTransaction {
            signatures: vec![solana_signature::Signature::default(); 2],
            message: message(me.pubkey(), 2, vec![(1, vec![])]),
        };
        for (signer, expected) in [
            (Claims(me.pubkey(), Err(SignError::Sealed)), "does not open"),
            (Claims(me.pubkey(), Ok(Keypair::new())), "does not verify"),
        ] {
            let mut tx = unsigned();
            let err = sign_own_slot(&mut tx, &signer).unwrap_err();
            assert!(err.to_string().contains(expected), "{err}");
            assert_eq!(tx.signatures, unsigned().signatures, "nothing signed");
        }
        let mut tx = unsigned();
        sign_own_slot(&mut tx, &Claims(me.pubkey(), Ok(me.insecure_clone()))).unwrap();
        assert!(tx.signatures[0].verify(me.pubkey().as_ref(), &tx.message.serialize()));
    }

    #[test]
    fn funds_check_includes_fees_and_rent() {
        let req = SwapRequest {
            side: SwapSide::Buy,
            mint: Address::from_bytes([1; 32]),
            amount: 1_000_000,
            min_out: 0,
            slippage_bps: 100,
            priority_fee: 1_000,
        };
        let need = 1_000_000 + 1_000 + 10_000;
        let have = |lamports| Balances {
            lamports,
            tokens: 0,
        };
        assert_eq!(funds_refusal(&req, have(need), true), None);
        assert_eq!(
            funds_refusal(&req, have(need), false),
            Some(SwapRefusal::InsufficientFunds {
                need: need + TOKEN_ACCOUNT_RENT,
                have: need
            })
        );
        let sell = SwapRequest {
            side: SwapSide::Sell,
            amount: 50,
            ..req
        };
        assert_eq!(
            funds_refusal(
                &sell,
                Balances {
                    lamports: 0,
                    tokens: 49
                },
                true
            ),
            Some(SwapRefusal::InsufficientFunds { need: 50, have: 49 })
        );
        // Enough tokens but nothing to pay the fees with.
        assert_eq!(
            funds_refusal(
                &sell,
                Balances {
                    lamports: 10_999,
                    tokens: 50
                },
                true
            ),
            Some(SwapRefusal::InsufficientFunds {
                need: 11_000,
                have: 10_999
            })
        );
    }
}
