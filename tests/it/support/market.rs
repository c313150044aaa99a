//! A small synthetic pump.fun market with known roles, built on the real
//! curve math, for tests that need wallet analytics to have something to
//! rank: each token is bought first by a "skilled" wallet, then pumped by a
//! crowd of later buyers spaced further apart than the co-buy window (so no
//! one looks like a sybil ring), and the skilled wallet takes profit minutes
//! later (a long hold, not a quick flip).
//!
//! Every skilled buy's token rises far above +20% within seconds (a win by
//! any outcome rule of the issue); the crowd's late buys decide later or not
//! at all. Event times are explicit, so the same trades mean the same in
//! process and through a live feed (recorded frames carry `timestamp`).

use alfabot::domain::{Lamports, Side, Signature, TokenAmount, TradeEvent, WalletAddress};
use alfabot::engine::curve::{Curve, Fees};

pub struct Market {
    /// In event-time order.
    pub events: Vec<TradeEvent>,
    /// The first buyer of each token, in token order.
    pub skilled: Vec<WalletAddress>,
    /// The crowd that pumps every token.
    pub crowd: Vec<WalletAddress>,
}

/// Deterministic, random-looking 32 bytes (splitmix64).
fn bytes32(kind: u64, index: u64) -> [u8; 32] {
    let mut x = kind.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ index.wrapping_add(0x1234_5678);
    let mut out = [0u8; 32];
    for chunk in out.chunks_mut(8) {
        x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = x;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        chunk.copy_from_slice(&z.to_le_bytes());
    }
    out
}

pub fn wallet(kind: u64, index: u64) -> WalletAddress {
    WalletAddress::from_bytes(bytes32(kind, index))
}

const SKILLED: u64 = 1;
const CROWD: u64 = 2;
const MINT: u64 = 3;
/// Between two buys of the same token: above the 5 s co-buy window.
const CROWD_GAP_MS: i64 = 7_000;
/// How long skilled wallets hold after the last crowd buy.
const HOLD_AFTER_PUMP_MS: i64 = 300_000;
/// Between token launches.
const LAUNCH_GAP_MS: i64 = 20_000;

/// `tokens` launches starting at `start_ms`, each pumped by `crowd` buyers.
pub fn pump_market(start_ms: i64, tokens: u64, crowd: u64) -> Market {
    let fees = Fees::default();
    let skilled: Vec<WalletAddress> = (0..tokens).map(|i| wallet(SKILLED, i)).collect();
    let crowd_w: Vec<WalletAddress> = (0..crowd).map(|j| wallet(CROWD, j)).collect();
    let mut events = Vec::new();
    let mut sig = 0u64;
    let mut next_sig = || {
        sig += 1;
        let mut b = [0u8; 64];
        b[..32].copy_from_slice(&bytes32(9, sig));
        b[32..].copy_from_slice(&bytes32(10, sig));
        Signature::from_bytes(&b)
    };
    for (i, &leader) in skilled.iter().enumerate() {
        let mint = WalletAddress::from_bytes(bytes32(MINT, i as u64));
        let t0 = start_ms + i as i64 * LAUNCH_GAP_MS;
        let mut curve = Curve::fresh();
        let mut trade = |curve: &mut Curve, trader, side, amount: u64, at, created| {
            let (net, tokens) = match side {
                Side::Buy => {
                    let q = curve.quote_buy(Lamports(amount), fees);
                    (q.sol.0 - q.fee.0, q.tokens.0)
                }
                Side::Sell => (curve.gross_sol_for_tokens(amount), amount),
            };
            curve.apply(side == Side::Buy, net, tokens);
            TradeEvent {
                signature: next_sig(),
                mint,
                trader,
                side,
                sol: Lamports(net),
                tokens: TokenAmount(tokens),
                timestamp_ms: at,
                slot: None,
                virtual_sol: Lamports(curve.virtual_sol),
                virtual_tokens: TokenAmount(curve.virtual_tokens),
                trader_balance_after: None,
                created,
                on_curve: true,
            }
        };
        let buy = trade(&mut curve, leader, Side::Buy, 500_000_000, t0, true);
        let held = buy.tokens.0;
        events.push(buy);
        for (j, &w) in crowd_w.iter().enumerate() {
            let at = t0 + 10_000 + j as i64 * CROWD_GAP_MS;
            events.push(trade(&mut curve, w, Side::Buy, 1_500_000_000, at, false));
        }
        let at = t0 + 10_000 + crowd as i64 * CROWD_GAP_MS + HOLD_AFTER_PUMP_MS;
        events.push(trade(&mut curve, leader, Side::Sell, held, at, false));
    }
    events.sort_by_key(|e| e.timestamp_ms);
    Market {
        events,
        skilled,
        crowd: crowd_w,
    }
}

/// When the last trade of [`pump_market`] happens, relative to `start_ms`.
pub fn market_span_ms(tokens: u64, crowd: u64) -> i64 {
    tokens.saturating_sub(1) as i64 * LAUNCH_GAP_MS
        + 10_000
        + crowd as i64 * CROWD_GAP_MS
        + HOLD_AFTER_PUMP_MS
}
