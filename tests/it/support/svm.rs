//! A fake Solana RPC node for the live-trading tests. Home-made: a small
//! JSON-RPC 2.0 front (axum, 127.0.0.1, random port) over an in-process
//! `litesvm::LiteSVM`, answering the methods the real `RpcClient` calls in
//! the shapes it parses (`{"context":{"slot":…},"value":…}` where the real
//! node wraps). It is not a validator: there are no forks, everything
//! executed is reported `finalized`, and time only moves when a test says
//! so.
//!
//! Block heights: the front keeps its own height. `getLatestBlockhash`
//! answers `lastValidBlockHeight = height + 150`; `expire_blockhash` makes
//! litesvm issue a new blockhash (litesvm only accepts the latest one) and
//! moves the height past the old one's last valid height.
//!
//! Test controls: count `sendTransaction` calls and wait for them
//! (`sends`, `wait_for_sends`), make the next N sends get lost (accepted and
//! answered, never executed), turn preflight simulation off (a failing
//! transaction then lands as failed instead of being refused), and reach
//! the SVM directly (`with_svm`) for setup. Token helpers (hand-encoded SPL
//! Token and ATA instructions) live in [`spl`].

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use alfabot::domain::Address;
use alfabot::engine::copy::screen::TOKEN_PROGRAM;
use alfabot::exec::chain::associated_token_account;
use axum::Json;
use axum::extract::State;
use axum::routing::post;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use litesvm::LiteSVM;
use serde_json::{Value, json};
use solana_hash::Hash;
use solana_keypair::Keypair;
use solana_message::{Message, VersionedMessage};
use solana_pubkey::Pubkey;
use solana_signer::Signer as _;
use solana_transaction::versioned::VersionedTransaction;
use solana_transaction_error::TransactionError;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// Blocks a blockhash stays valid for, as on mainnet.
pub const BLOCKHASH_VALIDITY: u64 = 150;

pub struct Chain {
    pub svm: LiteSVM,
    /// The front's block height.
    pub height: u64,
    /// Last valid block height of the current blockhash.
    pub last_valid: u64,
    /// The front's slot (moves with the height).
    pub slot: u64,
    sends: u64,
    lose_next: u32,
    preflight: bool,
}

impl Chain {
    /// Issues a new blockhash; the old one can no longer land and its last
    /// valid block height is in the past.
    pub fn expire_blockhash(&mut self) {
        self.svm.expire_blockhash();
        let step = self.last_valid + 1 - self.height;
        self.height += step;
        self.slot += step;
        self.last_valid = self.height + BLOCKHASH_VALIDITY;
    }

    pub fn balance(&self, addr: &Pubkey) -> u64 {
        self.svm.get_balance(addr).unwrap_or(0)
    }

    /// Raw tokens in `owner`'s associated SPL Token account for `mint`.
    pub fn token_balance(&self, owner: &Pubkey, mint: &Pubkey) -> u64 {
        let ata = spl::ata(owner, mint);
        self.svm
            .get_account(&ata)
            .and_then(|a| {
                a.data
                    .get(64..72)
                    .map(|b| u64::from_le_bytes(b.try_into().unwrap()))
            })
            .unwrap_or(0)
    }

    /// Signs and executes a legacy transaction; panics on failure (setup).
    pub fn execute(
        &mut self,
        payer: &Keypair,
        signers: &[&Keypair],
        ixs: &[solana_instruction::Instruction],
    ) {
        let msg =
            Message::new_with_blockhash(ixs, Some(&payer.pubkey()), &self.svm.latest_blockhash());
        let mut all: Vec<&Keypair> = vec![payer];
        all.extend(signers);
        let tx = sign(VersionedMessage::Legacy(msg), &all);
        self.svm.send_transaction(tx).expect("setup transaction");
    }

    /// Creates an SPL Token mint owned by `authority` (who pays).
    pub fn create_mint(
        &mut self,
        authority: &Keypair,
        decimals: u8,
        freeze: Option<Pubkey>,
    ) -> Pubkey {
        self.create_mint_in(spl::token_program(), authority, decimals, freeze)
    }

    /// Creates a mint of `program` (SPL Token or Token-2022, no
    /// extensions) owned by `authority` (who pays).
    pub fn create_mint_in(
        &mut self,
        program: Pubkey,
        authority: &Keypair,
        decimals: u8,
        freeze: Option<Pubkey>,
    ) -> Pubkey {
        let mint = Keypair::new();
        let rent = self.svm.minimum_balance_for_rent_exemption(82);
        let ixs = [
            solana_system_interface::instruction::create_account(
                &authority.pubkey(),
                &mint.pubkey(),
                rent,
                82,
                &program,
            ),
            spl::initialize_mint2(
                program,
                &mint.pubkey(),
                decimals,
                &authority.pubkey(),
                freeze,
            ),
        ];
        self.execute(authority, &[&mint], &ixs);
        mint.pubkey()
    }

    /// Creates a Token-2022 mint whose extensions are initialized by the
    /// Token-2022 program itself (each instruction before
    /// `InitializeMint2`), owned by `authority` (who pays). `size` is the
    /// mint account's length with those extensions.
    pub fn create_mint_2022_with(
        &mut self,
        authority: &Keypair,
        size: usize,
        extensions: &[solana_instruction::Instruction],
    ) -> Pubkey {
        let program = spl::token_2022_program();
        let mint = Keypair::new();
        let rent = self.svm.minimum_balance_for_rent_exemption(size);
        let mut ixs = vec![solana_system_interface::instruction::create_account(
            &authority.pubkey(),
            &mint.pubkey(),
            rent,
            u64::try_from(size).unwrap(),
            &program,
        )];
        ixs.extend(extensions.iter().map(|ix| {
            let mut ix = ix.clone();
            for meta in &mut ix.accounts {
                if meta.pubkey == Pubkey::default() {
                    meta.pubkey = mint.pubkey();
                }
            }
            ix
        }));
        ixs.push(spl::initialize_mint2(
            program,
            &mint.pubkey(),
            6,
            &authority.pubkey(),
            None,
        ));
        self.execute(authority, &[&mint], &ixs);
        mint.pubkey()
    }

    /// Mints `amount` to `owner`'s associated account (created if needed).
    pub fn mint_to(&mut self, authority: &Keypair, mint: &Pubkey, owner: &Pubkey, amount: u64) {
        self.mint_to_in(spl::token_program(), authority, mint, owner, amount);
    }

    /// [`Self::mint_to`] for a mint of `program`.
    pub fn mint_to_in(
        &mut self,
        program: Pubkey,
        authority: &Keypair,
        mint: &Pubkey,
        owner: &Pubkey,
        amount: u64,
    ) {
        let ata = spl::ata_in(program, owner, mint);
        let ixs = [
            spl::create_ata_idempotent_in(program, &authority.pubkey(), owner, mint),
            spl::mint_to(program, mint, &ata, &authority.pubkey(), amount),
        ];
        self.execute(authority, &[], &ixs);
    }
}

/// A transaction with every required signature that `keys` can make;
/// slots of missing signers stay zeroed.
pub fn sign(message: VersionedMessage, keys: &[&Keypair]) -> VersionedTransaction {
    let bytes = message.serialize();
    let required = usize::from(message.header().num_required_signatures);
    let signatures = message.static_account_keys()[..required]
        .iter()
        .map(|k| {
            keys.iter()
                .find(|kp| kp.pubkey() == *k)
                .map(|kp| kp.sign_message(&bytes))
                .unwrap_or_default()
        })
        .collect();
    VersionedTransaction {
        signatures,
        message,
    }
}

pub type Shared = Arc<Mutex<Chain>>;

pub struct FakeSolana {
    addr: SocketAddr,
    chain: Shared,
    sends: watch::Receiver<u64>,
    task: JoinHandle<()>,
}

struct Ctx {
    chain: Shared,
    sends: watch::Sender<u64>,
}

impl FakeSolana {
    pub async fn start() -> Self {
        let svm = LiteSVM::new();
        let height = 1_000;
        let chain = Arc::new(Mutex::new(Chain {
            svm,
            height,
            last_valid: height + BLOCKHASH_VALIDITY,
            slot: height + 5_000,
            sends: 0,
            lose_next: 0,
            preflight: true,
        }));
        let (tx, rx) = watch::channel(0);
        let ctx = Arc::new(Ctx {
            chain: Arc::clone(&chain),
            sends: tx,
        });
        let app = axum::Router::new().route("/", post(rpc)).with_state(ctx);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        Self {
            addr,
            chain,
            sends: rx,
            task,
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The shared state, for the fake Jupiter.
    pub fn shared(&self) -> Shared {
        Arc::clone(&self.chain)
    }

    /// Runs `f` on the chain state (setup and assertions).
    pub fn with<R>(&self, f: impl FnOnce(&mut Chain) -> R) -> R {
        f(&mut self.chain.lock().unwrap())
    }

    pub fn airdrop(&self, to: &Pubkey, lamports: u64) {
        let ok = self.with(|c| c.svm.airdrop(to, lamports).is_ok());
        assert!(ok, "airdrop to {to}");
    }

    pub fn balance(&self, addr: &Pubkey) -> u64 {
        self.with(|c| c.balance(addr))
    }

    pub fn token_balance(&self, owner: &Pubkey, mint: &Pubkey) -> u64 {
        self.with(|c| c.token_balance(owner, mint))
    }

    pub fn expire_blockhash(&self) {
        self.with(Chain::expire_blockhash);
    }

    /// `sendTransaction` calls so far (lost ones included).
    pub fn sends(&self) -> u64 {
        self.with(|c| c.sends)
    }

    /// The next `n` sends are answered with their signature but never run.
    pub fn lose_next_sends(&self, n: u32) {
        self.with(|c| c.lose_next = n);
    }

    /// With preflight off, failing transactions land (as failed, fee paid)
    /// instead of being refused by simulation.
    pub fn set_preflight(&self, on: bool) {
        self.with(|c| c.preflight = on);
    }

    /// Waits until `n` sends have been handled (executed or lost).
    pub async fn wait_for_sends(&self, n: u64, timeout: Duration) {
        let mut rx = self.sends.clone();
        tokio::time::timeout(timeout, rx.wait_for(|&s| s >= n))
            .await
            .unwrap_or_else(|_| panic!("timed out waiting for {n} sends"))
            .unwrap();
    }
}

impl Drop for FakeSolana {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn context(slot: u64, value: Value) -> Value {
    json!({ "context": { "slot": slot, "apiVersion": "4.2.2" }, "value": value })
}

fn rpc_error(code: i64, message: impl Into<String>, data: Option<Value>) -> Result<Value, Value> {
    let mut e = json!({ "code": code, "message": message.into() });
    if let Some(d) = data {
        e["data"] = d;
    }
    Err(e)
}

fn param_pubkey(params: &Value, i: usize) -> Result<Pubkey, Value> {
    match params[i].as_str().and_then(|s| s.parse().ok()) {
        Some(pk) => Ok(pk),
        None => Err(json!({ "code": -32602, "message": "Invalid param: not a pubkey" })),
    }
}

async fn rpc(State(ctx): State<Arc<Ctx>>, Json(req): Json<Value>) -> Json<Value> {
    let id = req["id"].clone();
    let method = req["method"].as_str().unwrap_or_default().to_owned();
    let params = req["params"].clone();
    let result = {
        let mut chain = ctx.chain.lock().unwrap();
        handle(&mut chain, &method, &params)
    };
    if method == "sendTransaction" {
        let sends = ctx.chain.lock().unwrap().sends;
        ctx.sends.send_replace(sends);
    }
    Json(match result {
        Ok(result) => json!({ "jsonrpc": "2.0", "id": id, "result": result }),
        Err(error) => json!({ "jsonrpc": "2.0", "id": id, "error": error }),
    })
}

fn handle(c: &mut Chain, method: &str, params: &Value) -> Result<Value, Value> {
    let slot = c.slot;
    match method {
        "getVersion" => Ok(json!({ "solana-core": "4.2.2", "feature-set": 0 })),
        "getSlot" => Ok(json!(slot)),
        "getBlockHeight" => Ok(json!(c.height)),
        "getLatestBlockhash" => Ok(context(
            slot,
            json!({
                "blockhash": c.svm.latest_blockhash().to_string(),
                "lastValidBlockHeight": c.last_valid,
            }),
        )),
        "isBlockhashValid" => {
            let hash: Option<Hash> = params[0].as_str().and_then(|s| s.parse().ok());
            Ok(context(slot, json!(hash == Some(c.svm.latest_blockhash()))))
        }
        "getMinimumBalanceForRentExemption" => {
            let len = params[0].as_u64().unwrap_or(0);
            Ok(json!(c.svm.minimum_balance_for_rent_exemption(
                usize::try_from(len).unwrap()
            )))
        }
        "getBalance" => {
            let pk = param_pubkey(params, 0)?;
            Ok(context(slot, json!(c.balance(&pk))))
        }
        "getAccountInfo" => {
            let pk = param_pubkey(params, 0)?;
            // Always base64: the client decodes by the encoding we name.
            let value = c.svm.get_account(&pk).filter(|a| a.lamports > 0).map(|a| {
                json!({
                    "lamports": a.lamports,
                    "owner": a.owner.to_string(),
                    "data": [B64.encode(&a.data), "base64"],
                    "executable": a.executable,
                    "rentEpoch": a.rent_epoch,
                    "space": a.data.len(),
                })
            });
            Ok(context(slot, value.unwrap_or(Value::Null)))
        }
        "getTokenAccountBalance" => {
            let pk = param_pubkey(params, 0)?;
            let Some(account) = c.svm.get_account(&pk).filter(|a| a.data.len() >= 165) else {
                return rpc_error(-32602, "Invalid param: could not find account", None);
            };
            let amount = u64::from_le_bytes(account.data[64..72].try_into().unwrap());
            let mint = Pubkey::try_from(&account.data[0..32]).unwrap();
            let decimals = c.svm.get_account(&mint).map_or(0, |m| m.data[44]);
            let ui = amount as f64 / 10f64.powi(i32::from(decimals));
            Ok(context(
                slot,
                json!({
                    "amount": amount.to_string(),
                    "decimals": decimals,
                    "uiAmount": ui,
                    "uiAmountString": ui.to_string(),
                }),
            ))
        }
        "getSignatureStatuses" => {
            let sigs = params[0].as_array().cloned().unwrap_or_default();
            let statuses: Vec<Value> = sigs
                .iter()
                .map(|s| {
                    let Some(sig) = s
                        .as_str()
                        .and_then(|s| s.parse::<solana_signature::Signature>().ok())
                    else {
                        return Value::Null;
                    };
                    match c.svm.get_transaction(&sig) {
                        None => Value::Null,
                        Some(Ok(_)) => json!({
                            "slot": slot,
                            "confirmations": null,
                            "status": { "Ok": null },
                            "err": null,
                            "confirmationStatus": "finalized",
                        }),
                        Some(Err(failed)) => {
                            let err = serde_json::to_value(&failed.err).unwrap();
                            json!({
                                "slot": slot,
                                "confirmations": null,
                                "status": { "Err": err },
                                "err": err,
                                "confirmationStatus": "finalized",
                            })
                        }
                    }
                })
                .collect();
            Ok(context(slot, json!(statuses)))
        }
        "sendTransaction" => send_transaction(c, params),
        other => rpc_error(-32601, format!("Method not found: {other}"), None),
    }
}

fn send_transaction(c: &mut Chain, params: &Value) -> Result<Value, Value> {
    c.sends += 1;
    let config = &params[1];
    let encoding = config["encoding"].as_str().unwrap_or("base58");
    if encoding != "base64" {
        return rpc_error(
            -32602,
            format!("unsupported encoding {encoding} (fake takes base64)"),
            None,
        );
    }
    let Some(bytes) = params[0].as_str().and_then(|s| B64.decode(s).ok()) else {
        return rpc_error(-32602, "invalid base64", None);
    };
    let Ok(tx) = bincode::deserialize::<VersionedTransaction>(&bytes) else {
        return rpc_error(-32602, "failed to deserialize VersionedTransaction", None);
    };
    let sig = tx
        .signatures
        .first()
        .copied()
        .unwrap_or_default()
        .to_string();
    if c.lose_next > 0 {
        c.lose_next -= 1;
        return Ok(json!(sig));
    }
    let skip_preflight = config["skipPreflight"].as_bool().unwrap_or(false);
    if c.preflight
        && !skip_preflight
        && let Err(failed) = c.svm.simulate_transaction(tx.clone())
    {
        return preflight_failure(
            &failed.err,
            &failed.meta.logs,
            failed.meta.compute_units_consumed,
        );
    }
    // Failures that pay a fee are kept in the history (and reported by
    // getSignatureStatuses); others (bad blockhash) vanish, as on a node.
    let _ = c.svm.send_transaction(tx);
    Ok(json!(sig))
}

fn preflight_failure(err: &TransactionError, logs: &[String], units: u64) -> Result<Value, Value> {
    rpc_error(
        -32002,
        format!("Transaction simulation failed: {err}"),
        Some(json!({
            "err": serde_json::to_value(err).unwrap(),
            "logs": logs,
            "accounts": null,
            "unitsConsumed": units,
            "returnData": null,
        })),
    )
}

/// Hand-encoded SPL Token / Token-2022 and associated-token-account
/// instructions (the two token programs share these encodings).
pub mod spl {
    use super::*;
    use alfabot::engine::copy::screen::TOKEN_2022_PROGRAM;
    use solana_instruction::{AccountMeta, Instruction};

    pub fn token_program() -> Pubkey {
        Pubkey::new_from_array(TOKEN_PROGRAM)
    }

    pub fn token_2022_program() -> Pubkey {
        Pubkey::new_from_array(TOKEN_2022_PROGRAM)
    }

    pub fn ata_program() -> Pubkey {
        Pubkey::from_str_const("ATokenGPvbdGVxr1b2hvZbsiqW5xWH25efTNsLJA8knL")
    }

    /// The associated SPL Token account, derived by the code under test.
    pub fn ata(owner: &Pubkey, mint: &Pubkey) -> Pubkey {
        ata_in(token_program(), owner, mint)
    }

    /// The associated account under `program`, derived by the code under
    /// test (the ATA program checks it when creating one).
    pub fn ata_in(program: Pubkey, owner: &Pubkey, mint: &Pubkey) -> Pubkey {
        let a = associated_token_account(
            Address::from_bytes(owner.to_bytes()),
            Address::from_bytes(mint.to_bytes()),
            Address::from_bytes(program.to_bytes()),
        );
        Pubkey::new_from_array(*a.as_bytes())
    }

    /// `InitializeMint2` (20): decimals, mint authority, optional freeze
    /// authority (1-byte tag in instruction data).
    pub fn initialize_mint2(
        program: Pubkey,
        mint: &Pubkey,
        decimals: u8,
        authority: &Pubkey,
        freeze: Option<Pubkey>,
    ) -> Instruction {
        let mut data = vec![20, decimals];
        data.extend_from_slice(authority.as_ref());
        match freeze {
            Some(f) => {
                data.push(1);
                data.extend_from_slice(f.as_ref());
            }
            None => data.push(0),
        }
        Instruction::new_with_bytes(program, &data, vec![AccountMeta::new(*mint, false)])
    }

    /// The length of a Token-2022 mint account with extensions of these
    /// value lengths: the mint padded to an account's 165 bytes, the
    /// account type byte, then a 4-byte TLV header per extension.
    pub fn mint_2022_len(values: &[usize]) -> usize {
        165 + 1 + values.iter().map(|v| 4 + v).sum::<usize>()
    }

    /// `InitializePermanentDelegate` (35) for the mint at the default
    /// address (filled in by `create_mint_2022_with`).
    pub fn initialize_permanent_delegate(delegate: &Pubkey) -> Instruction {
        let mut data = vec![35];
        data.extend_from_slice(delegate.as_ref());
        Instruction::new_with_bytes(
            token_2022_program(),
            &data,
            vec![AccountMeta::new(Pubkey::default(), false)],
        )
    }

    /// `TransferHookExtension::Initialize` (36, 0): authority and hook
    /// program (all zeros = none), for the mint at the default address.
    pub fn initialize_transfer_hook(authority: &Pubkey, program: Option<&Pubkey>) -> Instruction {
        let mut data = vec![36, 0];
        data.extend_from_slice(authority.as_ref());
        data.extend_from_slice(program.map_or(&[0u8; 32][..], |p| p.as_ref()));
        Instruction::new_with_bytes(
            token_2022_program(),
            &data,
            vec![AccountMeta::new(Pubkey::default(), false)],
        )
    }

    /// `InitializeMintCloseAuthority` (25): a harmless extension.
    pub fn initialize_close_authority(authority: &Pubkey) -> Instruction {
        let mut data = vec![25, 1];
        data.extend_from_slice(authority.as_ref());
        Instruction::new_with_bytes(
            token_2022_program(),
            &data,
            vec![AccountMeta::new(Pubkey::default(), false)],
        )
    }

    /// `MintTo` (7).
    pub fn mint_to(
        program: Pubkey,
        mint: &Pubkey,
        to: &Pubkey,
        authority: &Pubkey,
        amount: u64,
    ) -> Instruction {
        let mut data = vec![7];
        data.extend_from_slice(&amount.to_le_bytes());
        Instruction::new_with_bytes(
            program,
            &data,
            vec![
                AccountMeta::new(*mint, false),
                AccountMeta::new(*to, false),
                AccountMeta::new_readonly(*authority, true),
            ],
        )
    }

    /// SPL Token `Transfer` (3) between token accounts.
    pub fn transfer(from: &Pubkey, to: &Pubkey, authority: &Pubkey, amount: u64) -> Instruction {
        let mut data = vec![3];
        data.extend_from_slice(&amount.to_le_bytes());
        Instruction::new_with_bytes(
            token_program(),
            &data,
            vec![
                AccountMeta::new(*from, false),
                AccountMeta::new(*to, false),
                AccountMeta::new_readonly(*authority, true),
            ],
        )
    }

    /// ATA `CreateIdempotent` (1) for an SPL Token mint.
    pub fn create_ata_idempotent(payer: &Pubkey, owner: &Pubkey, mint: &Pubkey) -> Instruction {
        create_ata_idempotent_in(token_program(), payer, owner, mint)
    }

    /// ATA `CreateIdempotent` (1) for a mint of `program`.
    pub fn create_ata_idempotent_in(
        program: Pubkey,
        payer: &Pubkey,
        owner: &Pubkey,
        mint: &Pubkey,
    ) -> Instruction {
        Instruction::new_with_bytes(
            ata_program(),
            &[1],
            vec![
                AccountMeta::new(*payer, true),
                AccountMeta::new(ata_in(program, owner, mint), false),
                AccountMeta::new_readonly(*owner, false),
                AccountMeta::new_readonly(*mint, false),
                AccountMeta::new_readonly(solana_system_interface::program::ID, false),
                AccountMeta::new_readonly(program, false),
            ],
        )
    }
}
