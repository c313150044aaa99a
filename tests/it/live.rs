//! Live swaps end to end, offline: the real `RpcClient` (inside `Chain`)
//! and the real `Jupiter` client against the fake RPC node over litesvm and
//! the fake Jupiter backed by the same SVM. Every case checks the wallet's
//! balances on the SVM and how many transactions were sent.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use alfabot::domain::ScreenReason;
use alfabot::domain::{Address, Platform, Signature, UserRef};
use alfabot::exec::chain::Chain;
use alfabot::exec::jupiter::Jupiter;
use alfabot::exec::swap::{
    Balances, SwapConfig, SwapJournal, SwapOutcome, SwapRefusal, SwapRequest, SwapSide, Swapper,
    TOKEN_ACCOUNT_RENT,
};
use alfabot::vault::keys;
use alfabot::vault::{MasterKeys, Vault, VaultError};
use secrecy::SecretString;
use solana_keypair::Keypair;
use solana_pubkey::Pubkey;
use solana_signer::Signer as _;

use crate::support::jupiter::FakeJupiter;
use crate::support::svm::FakeSolana;

const SOL: u64 = 1_000_000_000;
const API_KEY: &str = "jup-test-key-not-secret";
const PRIORITY_FEE: u64 = 10_000;
/// Two signatures (the user and the pool) and the priority fee.
const NETWORK_FEE: u64 = 2 * 5_000 + PRIORITY_FEE;

struct Env {
    sol: FakeSolana,
    jup: FakeJupiter,
    user: Keypair,
    mint: Pubkey,
}

async fn env() -> Env {
    let sol = FakeSolana::start().await;
    let jup = FakeJupiter::start(&sol, 100 * SOL, 1_000_000_000 * 1_000_000).await;
    let user = Keypair::new();
    sol.airdrop(&user.pubkey(), 10 * SOL);
    let mint = jup.mint();
    Env {
        sol,
        jup,
        user,
        mint,
    }
}

fn config(poll: Duration) -> SwapConfig {
    SwapConfig {
        poll_interval: poll,
        max_requotes: 2,
        confirm_timeout: Duration::from_secs(20),
    }
}

impl Env {
    fn swapper(&self) -> Swapper {
        self.swapper_polling(Duration::from_millis(5))
    }

    fn swapper_polling(&self, poll: Duration) -> Swapper {
        let chain = Chain::new(self.sol.url(), Duration::from_secs(5));
        let jupiter = Jupiter::new(
            self.jup.url(),
            Some(SecretString::from(API_KEY)),
            Duration::from_secs(5),
        )
        .unwrap();
        Swapper::new(chain, jupiter).with_config(config(poll))
    }

    fn owner(&self) -> Address {
        addr(&self.user.pubkey())
    }

    fn balances(&self) -> Balances {
        Balances {
            lamports: self.sol.balance(&self.user.pubkey()),
            tokens: self.sol.token_balance(&self.user.pubkey(), &self.mint),
        }
    }

    /// A buy of `lamports` accepting exactly the current price.
    fn buy(&self, lamports: u64) -> SwapRequest {
        SwapRequest {
            side: SwapSide::Buy,
            mint: addr(&self.mint),
            amount: lamports,
            min_out: self.jup.price(true, lamports),
            slippage_bps: 100,
            priority_fee: PRIORITY_FEE,
        }
    }

    fn sell(&self, tokens: u64) -> SwapRequest {
        SwapRequest {
            side: SwapSide::Sell,
            mint: addr(&self.mint),
            amount: tokens,
            min_out: self.jup.price(false, tokens),
            slippage_bps: 100,
            priority_fee: PRIORITY_FEE,
        }
    }
}

fn addr(pk: &Pubkey) -> Address {
    Address::from_bytes(pk.to_bytes())
}

#[derive(Default)]
struct Journal(Mutex<Vec<(Signature, Balances)>>);

impl Journal {
    fn entries(&self) -> Vec<(Signature, Balances)> {
        self.0.lock().unwrap().clone()
    }
}

#[async_trait::async_trait]
impl SwapJournal for Journal {
    async fn sent(&self, tx: &Signature, before: Balances) -> anyhow::Result<()> {
        self.0.lock().unwrap().push((tx.clone(), before));
        Ok(())
    }
}

fn filled(outcome: SwapOutcome) -> (u64, u64, u64, Signature) {
    match outcome {
        SwapOutcome::Filled {
            sol,
            tokens,
            fee,
            tx,
        } => (sol, tokens, fee, tx),
        SwapOutcome::Refused(r) => panic!("expected a fill, got {r:?}"),
    }
}

fn refused(outcome: SwapOutcome) -> SwapRefusal {
    match outcome {
        SwapOutcome::Refused(r) => r,
        f @ SwapOutcome::Filled { .. } => panic!("expected a refusal, got {f:?}"),
    }
}

#[tokio::test]
async fn buy_then_sell_through_the_real_clients() {
    let e = env().await;
    let swapper = e.swapper();
    let journal = Journal::default();
    let start = e.balances();
    let pool_start = e.sol.balance(&e.jup.pool());
    let buy = e.buy(SOL);
    let expected_tokens = buy.min_out;

    let (sol, tokens, fee, tx) = filled(swapper.swap(buy, &e.user, &journal).await.unwrap());
    let after_buy = e.balances();
    assert_eq!(tokens, expected_tokens);
    assert_eq!(after_buy.tokens, tokens, "the tokens arrived");
    assert_eq!(
        sol,
        start.lamports - after_buy.lamports,
        "SOL paid is measured"
    );
    assert_eq!(fee, NETWORK_FEE);
    assert_eq!(
        sol,
        SOL + fee + TOKEN_ACCOUNT_RENT,
        "amount, fees and the new token account"
    );
    assert_eq!(e.sol.balance(&e.jup.pool()), pool_start + SOL);
    assert_eq!(e.sol.sends(), 1);
    assert_eq!(
        journal.entries(),
        vec![(tx, start)],
        "journaled before sending"
    );

    let sell = e.sell(tokens);
    let expected_sol = sell.min_out;
    let (sol, sold, fee, tx) = filled(swapper.swap(sell, &e.user, &journal).await.unwrap());
    let after_sell = e.balances();
    assert_eq!(sold, tokens);
    assert_eq!(after_sell.tokens, 0);
    assert_eq!(
        sol,
        after_sell.lamports - after_buy.lamports,
        "SOL received is measured"
    );
    assert_eq!(sol, expected_sol - fee, "net of fees");
    assert_eq!(e.sol.sends(), 2);
    assert_eq!(journal.entries()[1], (tx, after_buy));
    // The key went in a header on every request.
    let keys = e.jup.api_keys();
    assert_eq!(keys.len(), 4);
    assert!(keys.iter().all(|k| k.as_deref() == Some(API_KEY)));
}

#[tokio::test]
async fn blockhash_expired_before_send_is_requoted_once() {
    let e = env().await;
    let journal = Journal::default();
    let start = e.balances();
    e.jup.stale_blockhash_next();

    let (sol, tokens, fee, tx) = filled(
        e.swapper()
            .swap(e.buy(SOL), &e.user, &journal)
            .await
            .unwrap(),
    );
    assert_eq!(
        (e.jup.quotes(), e.jup.swaps()),
        (2, 2),
        "exactly one re-quote"
    );
    let sent = journal.entries();
    assert_eq!(sent.len(), 2);
    assert_ne!(
        sent[0].0, sent[1].0,
        "a new transaction, not a re-signed one"
    );
    assert_eq!(tx, sent[1].0);
    assert_eq!(e.sol.sends(), 2, "the stale one was refused by the node");
    let now = e.balances();
    assert_eq!(now.tokens, tokens, "one swap's tokens");
    assert_eq!(start.lamports - now.lamports, sol);
    assert_eq!(sol, SOL + fee + TOKEN_ACCOUNT_RENT, "one swap's SOL");
}

#[tokio::test]
async fn a_dropped_transaction_is_rebuilt_after_its_blockhash_expires() {
    let e = env().await;
    let journal = Journal::default();
    let start = e.balances();
    e.sol.lose_next_sends(1);
    let swapper = e.swapper();
    let swap = swapper.swap(e.buy(SOL), &e.user, &journal);
    let expire = async {
        e.sol.wait_for_sends(1, Duration::from_secs(10)).await;
        e.sol.expire_blockhash();
    };
    let (outcome, ()) = tokio::join!(swap, expire);
    let (sol, tokens, _, tx) = filled(outcome.unwrap());
    assert_eq!(e.sol.sends(), 2);
    assert_eq!(e.jup.quotes(), 2);
    let sent = journal.entries();
    assert_eq!(sent.len(), 2);
    assert_ne!(sent[0].0, tx);
    assert_eq!(e.balances().tokens, tokens);
    assert_eq!(start.lamports - e.balances().lamports, sol);
}

#[tokio::test]
async fn gives_up_after_two_requotes() {
    let e = env().await;
    let journal = Journal::default();
    let start = e.balances();
    e.sol.lose_next_sends(3);
    let swapper = e.swapper();
    let swap = swapper.swap(e.buy(SOL), &e.user, &journal);
    let expire = async {
        for n in 1..=3 {
            e.sol.wait_for_sends(n, Duration::from_secs(10)).await;
            e.sol.expire_blockhash();
        }
    };
    let (outcome, ()) = tokio::join!(swap, expire);
    assert_eq!(refused(outcome.unwrap()), SwapRefusal::Expired);
    assert_eq!(e.sol.sends(), 3, "the first try and two re-quotes");
    assert_eq!(e.balances(), start, "nothing landed");
}

#[tokio::test]
async fn a_failed_transaction_is_not_retried() {
    // Refused by the node's preflight simulation: no fee paid.
    let e = env().await;
    let journal = Journal::default();
    let start = e.balances();
    e.jup.drain_pool_next();
    let r = refused(
        e.swapper()
            .swap(e.buy(SOL), &e.user, &journal)
            .await
            .unwrap(),
    );
    assert!(matches!(r, SwapRefusal::TxFailed(_)), "{r:?}");
    assert_eq!(e.sol.sends(), 1);
    assert_eq!(e.jup.quotes(), 1);
    assert_eq!(e.balances(), start);
}

#[tokio::test]
async fn a_transaction_that_fails_on_chain_is_not_retried() {
    // Without preflight it lands, fails, and costs its fee.
    let e = env().await;
    e.sol.set_preflight(false);
    let journal = Journal::default();
    let start = e.balances();
    e.jup.drain_pool_next();
    let swapper = e.swapper();
    let r = refused(swapper.swap(e.buy(SOL), &e.user, &journal).await.unwrap());
    let SwapRefusal::TxFailed(reason) = r else {
        panic!("expected TxFailed, got {r:?}");
    };
    assert!(reason.contains("custom program error"), "{reason}");
    assert_eq!(e.sol.sends(), 1);
    assert_eq!(e.jup.quotes(), 1);
    let now = e.balances();
    assert_eq!(now.tokens, 0);
    assert_eq!(
        start.lamports - now.lamports,
        NETWORK_FEE,
        "only the fee was paid"
    );

    // Reconciling the journaled signature says the same.
    let (sig, before) = journal.entries().remove(0);
    let again = swapper
        .reconcile(&sig, e.owner(), addr(&e.mint), SwapSide::Buy, before)
        .await
        .unwrap();
    assert!(
        matches!(again, Some(SwapOutcome::Refused(SwapRefusal::TxFailed(_)))),
        "{again:?}"
    );
}

#[tokio::test]
async fn a_swap_killed_after_sending_is_reconciled_from_the_journal() {
    let e = Arc::new(env().await);
    let journal = Arc::new(Journal::default());
    let start = e.balances();
    // Slow polling keeps the task inside its confirmation wait.
    let task = {
        let (e, journal) = (Arc::clone(&e), Arc::clone(&journal));
        tokio::spawn(async move {
            let swapper = e.swapper_polling(Duration::from_secs(60));
            swapper.swap(e.buy(SOL), &e.user, journal.as_ref()).await
        })
    };
    e.sol.wait_for_sends(1, Duration::from_secs(10)).await;
    task.abort();
    assert!(task.await.unwrap_err().is_cancelled());

    let (sig, before) = journal.entries().remove(0);
    assert_eq!(before, start);
    let fresh = e.swapper();
    let outcome = fresh
        .reconcile(&sig, e.owner(), addr(&e.mint), SwapSide::Buy, before)
        .await
        .unwrap()
        .expect("the transaction is known");
    let (sol, tokens, _, tx) = filled(outcome);
    assert_eq!(tx, sig);
    let now = e.balances();
    assert_eq!(now.tokens, tokens);
    assert!(tokens > 0);
    assert_eq!(sol, start.lamports - now.lamports);
    assert_eq!(sol, SOL + NETWORK_FEE + TOKEN_ACCOUNT_RENT, "one swap");
    assert_eq!(e.sol.sends(), 1, "reconciling never sends");

    // A signature the cluster never saw: the caller decides.
    let unknown = Signature::from_bytes(&[9; 64]);
    let none = fresh
        .reconcile(&unknown, e.owner(), addr(&e.mint), SwapSide::Buy, before)
        .await
        .unwrap();
    assert_eq!(none, None);
}

#[tokio::test]
async fn a_transaction_paid_by_another_key_is_refused_before_sending() {
    let e = env().await;
    let journal = Journal::default();
    let start = e.balances();
    e.jup.wrong_payer_next();
    let r = refused(
        e.swapper()
            .swap(e.buy(SOL), &e.user, &journal)
            .await
            .unwrap(),
    );
    assert_eq!(r, SwapRefusal::WrongKey);
    assert_eq!(e.sol.sends(), 0);
    assert!(journal.entries().is_empty());
    assert_eq!(e.balances(), start);
}

#[tokio::test]
async fn a_quote_below_the_minimum_is_refused() {
    let e = env().await;
    let journal = Journal::default();
    let start = e.balances();
    let mut req = e.buy(SOL);
    let price = req.min_out;
    req.min_out = price + 1;
    let r = refused(e.swapper().swap(req, &e.user, &journal).await.unwrap());
    assert_eq!(
        r,
        SwapRefusal::Slippage {
            expected: price + 1,
            got: price
        }
    );
    assert_eq!(e.jup.swaps(), 0, "no transaction was even built");
    assert_eq!(e.sol.sends(), 0);
    assert_eq!(e.balances(), start);
}

#[tokio::test]
async fn mints_with_a_freeze_authority_are_not_bought() {
    let e = env().await;
    let journal = Journal::default();
    let start = e.balances();
    let creator = Keypair::new();
    e.sol.airdrop(&creator.pubkey(), SOL);
    let frozen = e
        .sol
        .with(|c| c.create_mint(&creator, 6, Some(creator.pubkey())));
    let mut req = e.buy(SOL);
    req.mint = addr(&frozen);
    let r = refused(e.swapper().swap(req, &e.user, &journal).await.unwrap());
    assert_eq!(r, SwapRefusal::TokenScreen(ScreenReason::FreezeAuthority));

    req.mint = addr(&Pubkey::new_unique());
    let r = refused(e.swapper().swap(req, &e.user, &journal).await.unwrap());
    assert_eq!(r, SwapRefusal::TokenScreen(ScreenReason::NotAMint));

    assert_eq!(e.jup.quotes(), 0);
    assert_eq!(e.sol.sends(), 0);
    assert_eq!(e.balances(), start);
}

/// Token-2022 mints made by the Token-2022 program itself (not hand-built
/// bytes): a permanent delegate or a transfer hook program refuses the
/// buy before any quote; a harmless extension (close authority) and a
/// transfer hook extension with no program pass the screen.
#[tokio::test]
async fn token_2022_mints_with_a_delegate_or_a_hook_are_not_bought() {
    use crate::support::svm::spl;
    let e = env().await;
    let journal = Journal::default();
    let creator = Keypair::new();
    e.sol.airdrop(&creator.pubkey(), SOL);
    let other = Pubkey::new_unique();
    let hook_program = Pubkey::new_unique();
    let mint = |size: usize, exts: Vec<solana_instruction::Instruction>| {
        e.sol
            .with(|c| c.create_mint_2022_with(&creator, size, &exts))
    };
    let delegated = mint(
        spl::mint_2022_len(&[32]),
        vec![spl::initialize_permanent_delegate(&other)],
    );
    let hooked = mint(
        spl::mint_2022_len(&[64]),
        vec![spl::initialize_transfer_hook(&other, Some(&hook_program))],
    );
    let harmless = mint(
        spl::mint_2022_len(&[32, 64]),
        vec![
            spl::initialize_close_authority(&other),
            spl::initialize_transfer_hook(&other, None),
        ],
    );
    let chain = Chain::new(e.sol.url(), Duration::from_secs(5));
    for (m, want) in [
        (delegated, Err(ScreenReason::PermanentDelegate)),
        (hooked, Err(ScreenReason::TransferHook)),
        (harmless, Ok(())),
    ] {
        let account = chain.account(addr(&m)).await.unwrap().expect("the mint");
        assert_eq!(account.owner, addr(&spl::token_2022_program()));
        assert_eq!(
            alfabot::engine::copy::screen::screen_mint(account.owner.as_bytes(), &account.data),
            want,
            "{m}"
        );
    }
    for (m, reason) in [
        (delegated, ScreenReason::PermanentDelegate),
        (hooked, ScreenReason::TransferHook),
    ] {
        let mut req = e.buy(SOL);
        req.mint = addr(&m);
        let r = refused(e.swapper().swap(req, &e.user, &journal).await.unwrap());
        assert_eq!(r, SwapRefusal::TokenScreen(reason));
    }
    assert_eq!(e.jup.quotes(), 0, "refused before any quote");
    assert_eq!(e.sol.sends(), 0);
}

#[tokio::test]
async fn a_wallet_that_cannot_pay_is_refused_before_quoting() {
    let e = env().await;
    let poor = Keypair::new();
    e.sol.airdrop(&poor.pubkey(), SOL / 2);
    let journal = Journal::default();
    let r = refused(e.swapper().swap(e.buy(SOL), &poor, &journal).await.unwrap());
    assert_eq!(
        r,
        SwapRefusal::InsufficientFunds {
            need: SOL + NETWORK_FEE + TOKEN_ACCOUNT_RENT,
            have: SOL / 2
        }
    );
    let r = refused(e.swapper().swap(e.sell(1), &poor, &journal).await.unwrap());
    assert_eq!(r, SwapRefusal::InsufficientFunds { need: 1, have: 0 });
    assert_eq!(e.jup.quotes(), 0);
    assert_eq!(e.sol.sends(), 0);
}

/// Collects everything the `tracing` subscriber writes.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn vault_keys_stay_with_their_owner_and_out_of_the_logs() {
    let alice = UserRef::new(Platform::Telegram, 1);
    let bob = UserRef::new(Platform::Telegram, 2);
    let vault = Vault::new(MasterKeys::parse(&MasterKeys::generate_base64()).unwrap());

    let (address, secret) = keys::generate();
    let sealed = vault.seal(alice, secret.expose()).unwrap();
    assert!(matches!(vault.open(bob, &sealed), Err(VaultError::Open)));
    let opened = vault.open(alice, &sealed).unwrap();
    assert_eq!(keys::address_of(&keys::keypair(&opened).unwrap()), address);

    // A known key, imported as Phantom exports it, then used for a real swap
    // with every log line captured.
    let known = Keypair::new_from_array([42; 32]);
    let exported = known.to_base58_string();
    let as_json = format!("{:?}", known.to_bytes().to_vec()).replace(' ', "");
    let (imported, secret) = keys::parse_import(&exported).unwrap();
    assert_eq!(imported, addr(&known.pubkey()));
    assert_eq!(keys::parse_import(&as_json).unwrap().0, imported);
    assert_eq!(*keys::export_base58(&secret), exported);

    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let e = env().await;
    let signer = keys::keypair(secret.expose()).unwrap();
    e.sol.airdrop(&signer.pubkey(), 5 * SOL);
    let journal = Journal::default();
    let outcome = e
        .swapper()
        .swap(e.buy(SOL), &signer, &journal)
        .await
        .unwrap();
    filled(outcome.clone());
    let bad = keys::parse_import(&exported[..exported.len() - 1]).unwrap_err();

    let mut shown = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(
        shown.contains("sending swap"),
        "logs were captured: {shown}"
    );
    for text in [
        format!("{outcome:?}"),
        format!("{secret:?}"),
        format!("{signer:?}"),
        format!("{bad} {bad:?}"),
        format!("{:?} {sealed:?}", e.swapper()),
    ] {
        shown.push_str(&text);
    }
    let secret_half = bs58::encode(&known.to_bytes()[..32]).into_string();
    for needle in [
        exported.as_str(),
        as_json.as_str(),
        secret_half.as_str(),
        API_KEY,
    ] {
        assert!(!shown.contains(needle), "output leaks {needle}");
    }
}

#[tokio::test]
async fn jupiter_errors_name_the_status_and_body_but_not_the_key() {
    let e = env().await;
    let jupiter = Jupiter::new(
        e.jup.url(),
        Some(SecretString::from(API_KEY)),
        Duration::from_secs(5),
    )
    .unwrap();
    let unknown = addr(&Pubkey::new_unique());
    let err = jupiter
        .quote(alfabot::exec::jupiter::WSOL_MINT, unknown, SOL, 50)
        .await
        .unwrap_err();
    let shown = format!("{err} {err:?}");
    assert!(shown.contains("HTTP 400"), "{shown}");
    assert!(shown.contains("not tradable"), "{shown}");
    assert!(!shown.contains(API_KEY), "{shown}");

    // A quote passed back verbatim (the fake checks) builds a transaction
    // paid by the user, with the user's slot zeroed.
    let quote = jupiter
        .quote(alfabot::exec::jupiter::WSOL_MINT, addr(&e.mint), SOL, 50)
        .await
        .unwrap();
    assert_eq!(quote.in_amount, SOL);
    assert_eq!(quote.out_amount, e.jup.price(true, SOL));
    assert!(quote.other_amount_threshold < quote.out_amount);
    let swap = jupiter.swap(&quote, e.owner(), 0).await.unwrap();
    assert_eq!(
        swap.tx.message.static_account_keys()[0],
        e.user.pubkey(),
        "paid by the user"
    );
    assert_eq!(
        swap.tx.signatures[0],
        solana_signature::Signature::default(),
        "the user's slot is left for us"
    );
}

#[tokio::test]
async fn chain_reads_accounts_and_token_balances_under_both_token_programs() {
    use crate::support::svm::spl;
    let e = env().await;
    let chain = Chain::new(e.sol.url(), Duration::from_secs(5));
    let authority = Keypair::new();
    e.sol.airdrop(&authority.pubkey(), SOL);
    let holder = Keypair::new();
    for program in [spl::token_program(), spl::token_2022_program()] {
        let mint = e.sol.with(|c| {
            let mint = c.create_mint_in(program, &authority, 6, None);
            c.mint_to_in(program, &authority, &mint, &holder.pubkey(), 777);
            mint
        });
        let (h, m) = (addr(&holder.pubkey()), addr(&mint));
        assert_eq!(chain.token_balance(h, m).await.unwrap(), 777, "{program}");
        assert_eq!(chain.token_account(h, m).await.unwrap(), Some(777));
        // No account yet: 0, not an error.
        let nobody = addr(&Pubkey::new_unique());
        assert_eq!(chain.token_balance(nobody, m).await.unwrap(), 0);
        assert_eq!(chain.token_account(nobody, m).await.unwrap(), None);
        let account = chain.account(m).await.unwrap().expect("the mint exists");
        assert_eq!(account.owner, addr(&program));
        assert_eq!(
            alfabot::engine::copy::screen::screen_mint(account.owner.as_bytes(), &account.data),
            Ok(())
        );
    }
    assert_eq!(
        chain.account(addr(&Pubkey::new_unique())).await.unwrap(),
        None
    );
    assert_eq!(chain.balance(e.owner()).await.unwrap(), 10 * SOL);
    let hash = chain.latest_blockhash().await.unwrap();
    assert!(chain.is_blockhash_valid(&hash.hash).await.unwrap());
    let height = chain.block_height().await.unwrap();
    assert!(hash.last_valid_block_height > height);
    e.sol.expire_blockhash();
    assert!(!chain.is_blockhash_valid(&hash.hash).await.unwrap());
    assert!(chain.block_height().await.unwrap() > hash.last_valid_block_height);
}
