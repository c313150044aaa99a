//! A fake Jupiter swap API for the live-trading tests. Home-made: it serves
//! `GET /swap/v1/quote` and `POST /swap/v1/swap` in Jupiter's shapes
//! (amounts as strings, the quote posted back verbatim, a base64 bincode
//! `VersionedTransaction` with the user's signature slot zeroed), backed by
//! the same litesvm as [`super::svm::FakeSolana`].
//!
//! Its "pool" is a keypair holding SOL and the SPL token mints it created
//! on the SVM (one at start, more with `add_mint`). Quotes price with a
//! constant product (0.25% fee) over the pool's real balances, or over
//! reserves the test sets for a mint (`price_on`, e.g. a pump.fun curve's
//! virtual reserves, so live quotes follow the same market as paper fills). Swap transactions are real v0 transactions: compute
//! budget (limit 200k, price from the priority fee), the user's ATA created
//! idempotently, SOL by a system transfer and tokens by an SPL transfer,
//! partially signed by the pool.
//!
//! Test controls, each for the next swap only: a fee payer other than the
//! user (`wrong_payer_next`), a blockhash that expires right after the
//! transaction is built (`stale_blockhash_next`), and the pool's tokens
//! moved away right after it is built so the transfer fails on chain
//! (`drain_pool_next`). It records the `x-api-key` header of every request.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::Json;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use serde_json::{Value, json};
use solana_instruction::Instruction;
use solana_keypair::Keypair;
use solana_message::{VersionedMessage, v0};
use solana_pubkey::Pubkey;
use solana_signer::Signer as _;
use tokio::task::JoinHandle;

use super::svm::{FakeSolana, Shared, sign, spl};

pub const WSOL: &str = "So11111111111111111111111111111111111111112";
const FEE_BPS: u128 = 25;
const COMPUTE_UNITS: u32 = 200_000;

#[derive(Default)]
struct Controls {
    wrong_payer: bool,
    stale_blockhash: bool,
    drain_pool: bool,
}

struct State_ {
    pool: Keypair,
    /// The first is [`FakeJupiter::mint`].
    mints: Vec<Pubkey>,
    /// Reserves (SOL, tokens) that price a mint instead of the balances.
    reserves: std::collections::HashMap<Pubkey, (u64, u64)>,
    sink: Keypair,
    quotes: u32,
    swaps: u32,
    issued: Vec<Value>,
    api_keys: Vec<Option<String>>,
    next: Controls,
}

struct Ctx {
    chain: Shared,
    state: Mutex<State_>,
}

pub struct FakeJupiter {
    addr: SocketAddr,
    ctx: Arc<Ctx>,
    task: JoinHandle<()>,
}

impl FakeJupiter {
    /// Creates the pool (SOL and a fresh 6-decimal mint) on `solana`'s SVM
    /// and starts serving.
    pub async fn start(solana: &FakeSolana, pool_lamports: u64, pool_tokens: u64) -> Self {
        let pool = Keypair::new();
        let sink = Keypair::new();
        solana.airdrop(&pool.pubkey(), pool_lamports);
        solana.airdrop(&sink.pubkey(), 10_000_000);
        let mint = solana.with(|c| {
            let mint = c.create_mint(&pool, 6, None);
            c.mint_to(&pool, &mint, &pool.pubkey(), pool_tokens);
            mint
        });
        let ctx = Arc::new(Ctx {
            chain: solana.shared(),
            state: Mutex::new(State_ {
                pool,
                mints: vec![mint],
                reserves: std::collections::HashMap::new(),
                sink,
                quotes: 0,
                swaps: 0,
                issued: Vec::new(),
                api_keys: Vec::new(),
                next: Controls::default(),
            }),
        });
        let app = axum::Router::new()
            .route("/swap/v1/quote", get(quote))
            .route("/swap/v1/swap", post(swap))
            .with_state(Arc::clone(&ctx));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        Self { addr, ctx, task }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn mint(&self) -> Pubkey {
        self.ctx.state.lock().unwrap().mints[0]
    }

    /// Another mint the pool trades, holding `tokens` of it.
    pub fn add_mint(&self, tokens: u64) -> Pubkey {
        let mut st = self.ctx.state.lock().unwrap();
        let mut chain = self.ctx.chain.lock().unwrap();
        let mint = chain.create_mint(&st.pool, 6, None);
        chain.mint_to(&st.pool, &mint, &st.pool.pubkey(), tokens);
        st.mints.push(mint);
        mint
    }

    /// Prices `mint` on these reserves from now on (the pool still pays
    /// from its balances).
    pub fn price_on(&self, mint: &Pubkey, sol: u64, tokens: u64) {
        self.ctx
            .state
            .lock()
            .unwrap()
            .reserves
            .insert(*mint, (sol, tokens));
    }

    pub fn pool(&self) -> Pubkey {
        self.ctx.state.lock().unwrap().pool.pubkey()
    }

    pub fn quotes(&self) -> u32 {
        self.ctx.state.lock().unwrap().quotes
    }

    pub fn swaps(&self) -> u32 {
        self.ctx.state.lock().unwrap().swaps
    }

    /// The `x-api-key` header of every request, in order.
    pub fn api_keys(&self) -> Vec<Option<String>> {
        self.ctx.state.lock().unwrap().api_keys.clone()
    }

    /// The next swap transaction is paid by another key.
    pub fn wrong_payer_next(&self) {
        self.ctx.state.lock().unwrap().next.wrong_payer = true;
    }

    /// The next swap transaction's blockhash expires right after it is
    /// built (between quote and send, as seen by the client).
    pub fn stale_blockhash_next(&self) {
        self.ctx.state.lock().unwrap().next.stale_blockhash = true;
    }

    /// Right after building the next swap transaction, the pool's tokens
    /// are moved away, so its token transfer fails on chain.
    pub fn drain_pool_next(&self) {
        self.ctx.state.lock().unwrap().next.drain_pool = true;
    }

    /// What the pool would give for `amount` in (`buy`: lamports in) of
    /// the first mint.
    pub fn price(&self, buy: bool, amount: u64) -> u64 {
        let st = self.ctx.state.lock().unwrap();
        let chain = self.ctx.chain.lock().unwrap();
        out_amount(&chain, &st, &st.mints[0], buy, amount)
    }
}

impl Drop for FakeJupiter {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn out_amount(
    chain: &super::svm::Chain,
    st: &State_,
    mint: &Pubkey,
    buy: bool,
    amount: u64,
) -> u64 {
    let (sol, tokens) = st.reserves.get(mint).copied().unwrap_or_else(|| {
        (
            chain.balance(&st.pool.pubkey()),
            chain.token_balance(&st.pool.pubkey(), mint),
        )
    });
    let (sol, tokens) = (u128::from(sol), u128::from(tokens));
    let (reserve_in, reserve_out) = if buy { (sol, tokens) } else { (tokens, sol) };
    let net = u128::from(amount) * (10_000 - FEE_BPS) / 10_000;
    u64::try_from(net * reserve_out / (reserve_in + net)).unwrap()
}

fn bad_request(message: &str, code: &str) -> Response {
    (
        StatusCode::BAD_REQUEST,
        Json(json!({ "error": message, "errorCode": code })),
    )
        .into_response()
}

fn record_key(ctx: &Ctx, headers: &HeaderMap) {
    let key = headers
        .get("x-api-key")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    ctx.state.lock().unwrap().api_keys.push(key);
}

async fn quote(
    State(ctx): State<Arc<Ctx>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let q: std::collections::HashMap<String, String> =
        url::form_urlencoded::parse(query.unwrap_or_default().as_bytes())
            .into_owned()
            .collect();
    record_key(&ctx, &headers);
    let mut st = ctx.state.lock().unwrap();
    st.quotes += 1;
    let (input, output) = (
        q.get("inputMint").cloned().unwrap_or_default(),
        q.get("outputMint").cloned().unwrap_or_default(),
    );
    let traded = |m: &str| st.mints.iter().copied().find(|t| t.to_string() == m);
    let (buy, mint) = match (input.as_str(), output.as_str()) {
        (WSOL, m) if traded(m).is_some() => (true, traded(m).unwrap()),
        (m, WSOL) if traded(m).is_some() => (false, traded(m).unwrap()),
        _ => return bad_request("The token is not tradable", "TOKEN_NOT_TRADABLE"),
    };
    let Some(amount) = q.get("amount").and_then(|a| a.parse::<u64>().ok()) else {
        return bad_request("amount is not a number", "INVALID_AMOUNT");
    };
    let slippage: u64 = q
        .get("slippageBps")
        .and_then(|s| s.parse().ok())
        .unwrap_or(50);
    let (out, slot) = {
        let chain = ctx.chain.lock().unwrap();
        (out_amount(&chain, &st, &mint, buy, amount), chain.slot)
    };
    if out == 0 {
        return bad_request("No routes found", "COULD_NOT_FIND_ANY_ROUTE");
    }
    let threshold = u128::from(out) * u128::from(10_000 - slippage) / 10_000;
    let fee = u128::from(amount) * FEE_BPS / 10_000;
    let body = json!({
        "inputMint": input,
        "inAmount": amount.to_string(),
        "outputMint": output,
        "outAmount": out.to_string(),
        "otherAmountThreshold": threshold.to_string(),
        "swapMode": "ExactIn",
        "slippageBps": slippage,
        "platformFee": null,
        "priceImpactPct": "0.0012",
        "routePlan": [{
            "swapInfo": {
                "ammKey": st.pool.pubkey().to_string(),
                "label": "Fake Pool",
                "inputMint": input,
                "outputMint": output,
                "inAmount": amount.to_string(),
                "outAmount": out.to_string(),
                "feeAmount": fee.to_string(),
                "feeMint": input,
            },
            "percent": 100,
        }],
        "contextSlot": slot,
        "timeTaken": 0.001,
    });
    st.issued.push(body.clone());
    Json(body).into_response()
}

async fn swap(
    State(ctx): State<Arc<Ctx>>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    record_key(&ctx, &headers);
    let mut st = ctx.state.lock().unwrap();
    st.swaps += 1;
    let quote = &body["quoteResponse"];
    if !st.issued.contains(quote) {
        return bad_request(
            "quoteResponse is not a quote we issued (altered?)",
            "INVALID_QUOTE",
        );
    }
    let Some(user) = body["userPublicKey"]
        .as_str()
        .and_then(|s| s.parse::<Pubkey>().ok())
    else {
        return bad_request("userPublicKey is not a pubkey", "INVALID_USER");
    };
    let priority = body["prioritizationFeeLamports"].as_u64().unwrap_or(0);
    let amount: u64 = quote["inAmount"].as_str().unwrap().parse().unwrap();
    let out: u64 = quote["outAmount"].as_str().unwrap().parse().unwrap();
    let buy = quote["inputMint"] == WSOL;
    let traded = if buy {
        &quote["outputMint"]
    } else {
        &quote["inputMint"]
    };
    let mint: Pubkey = traded.as_str().unwrap().parse().unwrap();
    let next = std::mem::take(&mut st.next);
    let pool = st.pool.pubkey();

    let mut ixs: Vec<Instruction> = vec![compute_limit(COMPUTE_UNITS)];
    if priority > 0 {
        ixs.push(compute_price(
            priority * 1_000_000 / u64::from(COMPUTE_UNITS),
        ));
    }
    ixs.push(spl::create_ata_idempotent(&user, &user, &mint));
    if buy {
        ixs.push(solana_system_interface::instruction::transfer(
            &user, &pool, amount,
        ));
        ixs.push(spl::transfer(
            &spl::ata(&pool, &mint),
            &spl::ata(&user, &mint),
            &pool,
            out,
        ));
    } else {
        ixs.push(spl::transfer(
            &spl::ata(&user, &mint),
            &spl::ata(&pool, &mint),
            &user,
            amount,
        ));
        ixs.push(solana_system_interface::instruction::transfer(
            &pool, &user, out,
        ));
    }
    let other = Keypair::new();
    let payer = if next.wrong_payer {
        other.pubkey()
    } else {
        user
    };

    let mut chain = ctx.chain.lock().unwrap();
    let blockhash = chain.svm.latest_blockhash();
    let last_valid = chain.last_valid;
    let message = v0::Message::try_compile(&payer, &ixs, &[], blockhash).unwrap();
    let tx = sign(VersionedMessage::V0(message), &[&st.pool]);
    if next.stale_blockhash {
        chain.expire_blockhash();
    }
    if next.drain_pool {
        let sink = st.sink.pubkey();
        let all = chain.token_balance(&pool, &mint);
        let drain = [
            spl::create_ata_idempotent(&sink, &sink, &mint),
            spl::transfer(&spl::ata(&pool, &mint), &spl::ata(&sink, &mint), &pool, all),
        ];
        chain.execute(&st.sink, &[&st.pool], &drain);
    }
    let bytes = bincode::serialize(&tx).unwrap();
    Json(json!({
        "swapTransaction": B64.encode(bytes),
        "lastValidBlockHeight": last_valid,
        "prioritizationFeeLamports": priority,
        "computeUnitLimit": COMPUTE_UNITS,
        "prioritizationType": { "computeBudget": { "microLamports": priority * 5, "estimatedMicroLamports": priority * 5 } },
        "dynamicSlippageReport": null,
        "simulationError": null,
    }))
    .into_response()
}

fn compute_budget() -> Pubkey {
    Pubkey::from_str_const("ComputeBudget111111111111111111111111111111")
}

fn compute_limit(units: u32) -> Instruction {
    let mut data = vec![2];
    data.extend_from_slice(&units.to_le_bytes());
    Instruction::new_with_bytes(compute_budget(), &data, vec![])
}

fn compute_price(micro_lamports: u64) -> Instruction {
    let mut data = vec![3];
    data.extend_from_slice(&micro_lamports.to_le_bytes());
    Instruction::new_with_bytes(compute_budget(), &data, vec![])
}
