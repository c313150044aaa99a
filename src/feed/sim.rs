//! A deterministic simulator of pump.fun launches and trades, on the real
//! curve math ([`Curve`], [`Fees`]). The embedded default feed: the demo
//! runs on it with no network, and tests and benchmarks get a reproducible
//! market from a seed.
//!
//! The model is event-driven: a time-ordered queue of launches, crowd trades
//! on each token, and the own decisions of "active" wallets. Tokens launch
//! at a steady rate (a creator's first buy), then live a lifecycle drawn at
//! launch: most die within a minute or two, some pump for minutes, a few run
//! to completion; creators sometimes dump. Wallets come from a population of
//! [`WalletKind`]s, each with behaviour parameters ([`WalletProfile`]); a
//! later issue adds skilled traders, farmers and sybil rings as more kinds.
//!
//! Trade sizes are log-normal around the recorded data
//! (`pumpfun_onchain_swaps_2025-10-20.jsonl`, 1,292 trades, measured for this
//! module; SOL net of fees):
//!
//! | | n | p10 | p25 | median | p75 | p90 | mean | max |
//! |---|---|---|---|---|---|---|---|---|
//! | buys | 611 | 0.0052 | 0.0199 | 0.0988 | 0.489 | 1.06 | 0.387 | 7.0 |
//! | sells | 681 | 0.0049 | 0.0175 | 0.105 | 0.512 | 1.17 | 0.500 | 66.4 |
//!
//! ln(buy lamports) has a standard deviation of 2.46; 47% of trades are
//! buys; 61% of wallets traded once in 76 s, the busiest 36 times. Noise
//! traders buy with a median of 0.1 SOL and a log-sd of 2.0, active wallets
//! 0.5 SOL and 0.8.
//!
//! Same seed, same stream (on one platform: the samplers use `f64::ln`).
//! Event time is `start_ms` plus the simulated offset; the running feed
//! starts at the wall clock and paces by the speed factor.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap, VecDeque};
use std::sync::Arc;

use rand::rngs::SmallRng;
use rand::{Rng as _, RngCore as _, SeedableRng as _};
use tokio::sync::{mpsc, watch};

use super::{Health, Pacer, Speed, deliver};
use crate::domain::{Lamports, Mint, Side, Signature, TokenAmount, TradeEvent, WalletAddress};
use crate::engine::curve::{Curve, Fees};

/// Event time of [`Simulator::new`] streams: the start of the recorded data.
pub const SIM_EPOCH_MS: i64 = 1_760_978_515_000;
const START_SLOT: u64 = 374_655_686;
const MS_PER_SLOT: i64 = 400;
const LAMPORTS_PER_SOL: f64 = 1e9;

/// What a wallet is, in the simulated market.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WalletKind {
    /// Trades when the crowd trades a token: buys early, sells late.
    Noise,
    /// Acts on its own clock, often: buys young tokens, sells positions.
    Active,
    /// Launches tokens with a first buy; sometimes dumps it.
    Creator,
}

/// Behaviour parameters of one wallet.
#[derive(Debug, Clone, PartialEq)]
pub struct WalletProfile {
    pub kind: WalletKind,
    /// Median gross buy in lamports.
    pub median_buy: u64,
    /// Standard deviation of ln(buy size).
    pub size_sigma: f64,
    /// Mean time between own decisions ([`WalletKind::Active`] only).
    pub mean_gap_ms: Option<f64>,
    /// Chance that a sell is the whole position.
    pub sell_all: f64,
}

impl WalletProfile {
    #[must_use]
    pub fn noise() -> Self {
        Self {
            kind: WalletKind::Noise,
            median_buy: 100_000_000,
            size_sigma: 2.0,
            mean_gap_ms: None,
            sell_all: 0.6,
        }
    }

    #[must_use]
    pub fn active(mean_gap_ms: f64) -> Self {
        Self {
            kind: WalletKind::Active,
            median_buy: 500_000_000,
            size_sigma: 0.8,
            mean_gap_ms: Some(mean_gap_ms),
            sell_all: 0.7,
        }
    }

    #[must_use]
    pub fn creator() -> Self {
        Self {
            kind: WalletKind::Creator,
            median_buy: 1_000_000_000,
            size_sigma: 0.6,
            mean_gap_ms: None,
            sell_all: 1.0,
        }
    }
}

/// The population and pace of the simulated market.
#[derive(Debug, Clone, PartialEq)]
pub struct SimConfig {
    pub noise_wallets: usize,
    pub active_wallets: usize,
    pub creator_wallets: usize,
    /// Mean time between launches.
    pub mean_launch_gap_ms: f64,
    /// Mean decision gap of the most active wallet; each next active wallet
    /// waits 15% longer.
    pub active_gap_ms: f64,
    pub fees: Fees,
}

impl Default for SimConfig {
    fn default() -> Self {
        Self {
            noise_wallets: 500,
            active_wallets: 20,
            creator_wallets: 60,
            mean_launch_gap_ms: 8_000.0,
            active_gap_ms: 8_000.0,
            fees: Fees::default(),
        }
    }
}

/// How a token's life goes, drawn at launch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fate {
    Dud,
    Modest,
    Pump,
    Runner,
}

impl Fate {
    /// (peak age range s, end age range s, mean crowd gap ms, buy share
    /// before the peak)
    const fn params(self) -> ((f64, f64), (f64, f64), f64, f64) {
        match self {
            Self::Dud => ((5.0, 30.0), (30.0, 90.0), 5_000.0, 0.6),
            Self::Modest => ((30.0, 120.0), (120.0, 300.0), 6_000.0, 0.65),
            Self::Pump => ((120.0, 360.0), (360.0, 720.0), 4_000.0, 0.72),
            Self::Runner => ((300.0, 600.0), (720.0, 1_200.0), 2_500.0, 0.8),
        }
    }
}

#[derive(Debug)]
struct SimWallet {
    address: WalletAddress,
    profile: WalletProfile,
    /// Token ids with an open position (active wallets).
    positions: Vec<u64>,
}

#[derive(Debug)]
struct Token {
    mint: Mint,
    curve: Curve,
    born_ms: i64,
    creator: usize,
    peak_ms: i64,
    end_ms: i64,
    crowd_gap_ms: f64,
    buy_share: f64,
    /// (wallet, tokens held), launch order.
    holders: Vec<(usize, u64)>,
}

impl Token {
    fn holding(&self, wallet: usize) -> u64 {
        self.holders
            .iter()
            .find(|(w, _)| *w == wallet)
            .map_or(0, |(_, t)| *t)
    }

    fn add(&mut self, wallet: usize, delta: u64) {
        match self.holders.iter_mut().find(|(w, _)| *w == wallet) {
            Some((_, t)) => *t += delta,
            None => self.holders.push((wallet, delta)),
        }
    }

    fn remove(&mut self, wallet: usize, delta: u64) {
        if let Some(i) = self.holders.iter().position(|(w, _)| *w == wallet) {
            self.holders[i].1 = self.holders[i].1.saturating_sub(delta);
            if self.holders[i].1 == 0 {
                self.holders.remove(i);
            }
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Action {
    /// A launch; `chain` launches schedule the next one.
    Launch {
        chain: bool,
    },
    Crowd(u64),
    CreatorDump(u64),
    Act(usize),
}

/// The simulated market. `next_event` is pure: no clock, no I/O.
#[derive(Debug)]
pub struct Simulator {
    rng: SmallRng,
    config: SimConfig,
    start_ms: i64,
    now_ms: i64,
    seq: u64,
    queue: BinaryHeap<Reverse<(i64, u64, Action)>>,
    wallets: Vec<SimWallet>,
    noise: Vec<usize>,
    active: Vec<usize>,
    creators: Vec<usize>,
    tokens: BTreeMap<u64, Token>,
    /// Live token ids in launch order.
    live: VecDeque<u64>,
    next_token: u64,
}

impl Simulator {
    /// A simulator whose event time starts at [`SIM_EPOCH_MS`].
    #[must_use]
    pub fn new(seed: u64) -> Self {
        Self::with_config(seed, SIM_EPOCH_MS, SimConfig::default())
    }

    /// A simulator whose event time starts at `start_ms` (the feed uses the
    /// wall clock). The stream is otherwise the same as [`Self::new`]'s.
    #[must_use]
    pub fn with_start(seed: u64, start_ms: i64) -> Self {
        Self::with_config(seed, start_ms, SimConfig::default())
    }

    #[must_use]
    pub fn with_config(seed: u64, start_ms: i64, config: SimConfig) -> Self {
        let mut rng = SmallRng::seed_from_u64(seed);
        let mut wallets = Vec::new();
        let mut new_wallet = |rng: &mut SmallRng, profile: WalletProfile| {
            let mut bytes = [0_u8; 32];
            rng.fill_bytes(&mut bytes);
            wallets.push(SimWallet {
                address: WalletAddress::from_bytes(bytes),
                profile,
                positions: Vec::new(),
            });
            wallets.len() - 1
        };
        // Active wallets first, most active first: `demo_wallets` takes a
        // prefix.
        let active: Vec<usize> = (0..config.active_wallets)
            .map(|i| {
                let gap =
                    config.active_gap_ms * 1.15_f64.powi(i32::try_from(i).unwrap_or(i32::MAX));
                new_wallet(&mut rng, WalletProfile::active(gap))
            })
            .collect();
        let noise = (0..config.noise_wallets)
            .map(|_| new_wallet(&mut rng, WalletProfile::noise()))
            .collect();
        let creators = (0..config.creator_wallets.max(1))
            .map(|_| new_wallet(&mut rng, WalletProfile::creator()))
            .collect();
        let mut sim = Self {
            rng,
            config,
            start_ms,
            now_ms: 0,
            seq: 0,
            queue: BinaryHeap::new(),
            wallets,
            noise,
            active,
            creators,
            tokens: BTreeMap::new(),
            live: VecDeque::new(),
            next_token: 0,
        };
        // A few launches at once so a demo shows activity from the start.
        for at in [0, 300, 900] {
            sim.schedule(at, Action::Launch { chain: false });
        }
        let first_launch = sim.exp(sim.config.mean_launch_gap_ms) + 1_500;
        sim.schedule(first_launch, Action::Launch { chain: true });
        // The i-th most active wallet first acts within 2 s + 0.6 s·i, so
        // the 20 most active all trade within the first ~14 s.
        for (i, w) in sim.active.clone().into_iter().enumerate() {
            #[allow(clippy::cast_precision_loss, reason = "a small index")]
            let window = 2_000.0 + 600.0 * i as f64;
            let at = 1_000 + sim.uniform_ms(0.0, window);
            sim.schedule(at, Action::Act(w));
        }
        sim
    }

    /// The `n` most active wallets (fewer if the population is smaller):
    /// they trade within the first ~20 s of event time, so a demo that
    /// follows them shows alerts within a minute.
    #[must_use]
    pub fn demo_wallets(&self, n: usize) -> Vec<WalletAddress> {
        self.active
            .iter()
            .take(n)
            .map(|&w| self.wallets[w].address)
            .collect()
    }

    /// Every simulated wallet and its kind.
    pub fn wallets(&self) -> impl Iterator<Item = (WalletAddress, WalletKind)> + '_ {
        self.wallets.iter().map(|w| (w.address, w.profile.kind))
    }

    /// Event time of the last event, unix ms.
    #[must_use]
    pub const fn now_ms(&self) -> i64 {
        self.start_ms + self.now_ms
    }

    /// The next trade, in event-time order.
    pub fn next_event(&mut self) -> TradeEvent {
        loop {
            let Some(Reverse((at, _, action))) = self.queue.pop() else {
                // Unreachable by construction (a launch is always queued);
                // recover rather than stall.
                self.schedule(self.now_ms + 1_000, Action::Launch { chain: true });
                continue;
            };
            self.now_ms = at;
            if let Some(ev) = self.perform(action) {
                return ev;
            }
        }
    }

    fn schedule(&mut self, at_ms: i64, action: Action) {
        self.seq += 1;
        self.queue.push(Reverse((at_ms, self.seq, action)));
    }

    fn perform(&mut self, action: Action) -> Option<TradeEvent> {
        match action {
            Action::Launch { chain } => {
                if chain {
                    let gap = self.exp(self.config.mean_launch_gap_ms);
                    self.schedule(self.now_ms + gap, Action::Launch { chain: true });
                }
                Some(self.launch())
            }
            Action::Crowd(id) => self.crowd(id),
            Action::CreatorDump(id) => {
                let creator = self.tokens.get(&id)?.creator;
                let held = self.tokens.get(&id)?.holding(creator);
                self.sell(id, creator, held)
            }
            Action::Act(w) => {
                let gap = self.wallets[w].profile.mean_gap_ms.unwrap_or(10_000.0);
                let next = self.now_ms + self.exp(gap);
                self.schedule(next, Action::Act(w));
                self.act(w)
            }
        }
    }

    fn launch(&mut self) -> TradeEvent {
        let id = self.next_token;
        self.next_token += 1;
        let mut bytes = [0_u8; 32];
        self.rng.fill_bytes(&mut bytes);
        let creator = self.creators[self.rng.random_range(0..self.creators.len())];
        let fate = match self.rng.random::<f64>() {
            x if x < 0.62 => Fate::Dud,
            x if x < 0.90 => Fate::Modest,
            x if x < 0.98 => Fate::Pump,
            _ => Fate::Runner,
        };
        let ((p0, p1), (e0, e1), gap, buy_share) = fate.params();
        let peak_ms = self.uniform_ms(p0 * 1_000.0, p1 * 1_000.0);
        let end_ms = self
            .uniform_ms(e0 * 1_000.0, e1 * 1_000.0)
            .max(peak_ms + 1_000);
        self.tokens.insert(
            id,
            Token {
                mint: Mint::from_bytes(bytes),
                curve: Curve::fresh(),
                born_ms: self.now_ms,
                creator,
                peak_ms,
                end_ms,
                crowd_gap_ms: gap,
                buy_share,
                holders: Vec::new(),
            },
        );
        self.live.push_back(id);
        // Creators dump a third of the time, before the peak.
        if self.rng.random::<f64>() < 0.35 {
            let at = self.now_ms + self.uniform_ms(3_000.0, peak_ms.max(4_000) as f64);
            self.schedule(at, Action::CreatorDump(id));
        }
        let first_crowd = self.now_ms + 200 + self.exp(1_500.0);
        self.schedule(first_crowd, Action::Crowd(id));
        let gross = self.buy_size(creator);
        let mut ev = self
            .buy(id, creator, gross)
            .expect("a fresh curve always sells tokens");
        ev.created = true;
        ev
    }

    fn crowd(&mut self, id: u64) -> Option<TradeEvent> {
        let (age, peak, end, gap, share, creator, has_sellers) = {
            let t = self.tokens.get(&id)?;
            (
                self.now_ms - t.born_ms,
                t.peak_ms,
                t.end_ms,
                t.crowd_gap_ms,
                t.buy_share,
                t.creator,
                t.holders.iter().any(|(w, _)| *w != t.creator),
            )
        };
        if age >= end {
            self.retire(id);
            return None;
        }
        // After the peak the crowd thins out and turns to selling.
        #[allow(clippy::cast_precision_loss, reason = "time ratios")]
        let (gap, buy_share) = if age <= peak {
            (gap, share)
        } else {
            let late = (age - peak) as f64 / (end - peak).max(1) as f64;
            (gap * (1.0 + 2.0 * late), 0.3)
        };
        let next = self.now_ms + self.exp(gap);
        self.schedule(next, Action::Crowd(id));
        if has_sellers && self.rng.random::<f64>() >= buy_share {
            let (seller, held) = {
                let t = self.tokens.get(&id)?;
                let sellers: Vec<(usize, u64)> = t
                    .holders
                    .iter()
                    .copied()
                    .filter(|(w, _)| *w != creator)
                    .collect();
                sellers[self.rng.random_range(0..sellers.len())]
            };
            let amount = self.sell_amount(seller, held);
            return self.sell(id, seller, amount);
        }
        // Some noise wallets are much busier than others.
        let u: f64 = self.rng.random();
        #[allow(
            clippy::cast_precision_loss,
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            reason = "an index in 0..len"
        )]
        let i = ((u * u) * self.noise.len() as f64) as usize;
        let buyer = self.noise[i.min(self.noise.len() - 1)];
        let gross = self.buy_size(buyer);
        self.buy(id, buyer, gross)
    }

    fn act(&mut self, w: usize) -> Option<TradeEvent> {
        self.wallets[w]
            .positions
            .retain(|id| self.tokens.contains_key(id));
        let positions = self.wallets[w].positions.len();
        let sell = positions > 0 && (positions >= 3 || self.rng.random::<f64>() < 0.45);
        if sell {
            let id = self.wallets[w].positions[0];
            let held = self.tokens.get(&id).map_or(0, |t| t.holding(w));
            let amount = self.sell_amount(w, held);
            return self.sell(id, w, amount);
        }
        // Buy a young token, preferring the newest.
        let candidates: Vec<u64> = self
            .live
            .iter()
            .rev()
            .copied()
            .filter(|id| {
                self.tokens
                    .get(id)
                    .is_some_and(|t| self.now_ms - t.born_ms < 90_000 && t.holding(w) == 0)
            })
            .take(4)
            .collect();
        if candidates.is_empty() {
            return None;
        }
        let id = candidates[self.rng.random_range(0..candidates.len())];
        let gross = self.buy_size(w);
        self.buy(id, w, gross)
    }

    fn retire(&mut self, id: u64) {
        self.tokens.remove(&id);
        self.live.retain(|t| *t != id);
    }

    fn buy(&mut self, id: u64, wallet: usize, gross: u64) -> Option<TradeEvent> {
        let fees = self.config.fees;
        let t = self.tokens.get(&id)?;
        let quote = t.curve.quote_buy(Lamports(gross), fees);
        let mut net = quote.sol.0 - quote.fee.0;
        let tokens = quote.tokens.0;
        if tokens == 0 {
            return None;
        }
        if tokens == t.curve.real_tokens() {
            // The buy completes the curve: pay only for what is left.
            let c = t.curve;
            net = u64::try_from(
                (u128::from(tokens) * u128::from(c.virtual_sol))
                    .div_ceil(u128::from(c.virtual_tokens - tokens)),
            )
            .unwrap_or(net);
        }
        let ev = self.trade(id, wallet, Side::Buy, net, tokens);
        if self.wallets[wallet].profile.kind == WalletKind::Active {
            self.wallets[wallet].positions.push(id);
        }
        Some(ev)
    }

    fn sell(&mut self, id: u64, wallet: usize, tokens: u64) -> Option<TradeEvent> {
        if tokens == 0 {
            return None;
        }
        let sol = self.tokens.get(&id)?.curve.gross_sol_for_tokens(tokens);
        let ev = self.trade(id, wallet, Side::Sell, sol, tokens);
        if self.tokens.get(&id).is_some_and(|t| t.holding(wallet) == 0) {
            self.wallets[wallet].positions.retain(|p| *p != id);
        }
        Some(ev)
    }

    /// Applies a trade to the token's curve and holdings and builds the event.
    fn trade(
        &mut self,
        id: u64,
        wallet: usize,
        side: Side,
        net_sol: u64,
        tokens: u64,
    ) -> TradeEvent {
        let mut sig = [0_u8; 64];
        self.rng.fill_bytes(&mut sig);
        let timestamp_ms = self.now_ms();
        let slot = START_SLOT + u64::try_from(self.now_ms / MS_PER_SLOT).unwrap_or(0);
        let address = self.wallets[wallet].address;
        let t = self
            .tokens
            .get_mut(&id)
            .expect("trades are only built for live tokens");
        let is_buy = side == Side::Buy;
        t.curve.apply(is_buy, net_sol, tokens);
        if is_buy {
            t.add(wallet, tokens);
        } else {
            t.remove(wallet, tokens);
        }
        let ev = TradeEvent {
            signature: Signature::from_bytes(&sig),
            mint: t.mint,
            trader: address,
            side,
            sol: Lamports(net_sol),
            tokens: TokenAmount(tokens),
            timestamp_ms,
            slot: Some(slot),
            virtual_sol: Lamports(t.curve.virtual_sol),
            virtual_tokens: TokenAmount(t.curve.virtual_tokens),
            trader_balance_after: Some(TokenAmount(t.holding(wallet))),
            created: false,
            on_curve: true,
        };
        if t.curve.is_complete() {
            // Graduated to PumpSwap: the simulated curve market ends here.
            self.retire(id);
        }
        ev
    }

    /// A gross buy size for `wallet`: log-normal around its median,
    /// clamped to [0.001, 20] SOL.
    #[allow(
        clippy::cast_precision_loss,
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        reason = "clamped to a positive range first"
    )]
    fn buy_size(&mut self, wallet: usize) -> u64 {
        let p = &self.wallets[wallet].profile;
        let (median, sigma) = (p.median_buy as f64, p.size_sigma);
        let z = self.normal();
        (median * (sigma * z).exp()).clamp(0.001 * LAMPORTS_PER_SOL, 20.0 * LAMPORTS_PER_SOL) as u64
    }

    #[allow(
        clippy::cast_precision_loss,
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        reason = "a fraction of a held amount"
    )]
    fn sell_amount(&mut self, wallet: usize, held: u64) -> u64 {
        if self.rng.random::<f64>() < self.wallets[wallet].profile.sell_all {
            held
        } else {
            (held as f64 * self.rng.random_range(0.3..0.7)) as u64
        }
    }

    /// A standard normal sample (Box–Muller).
    fn normal(&mut self) -> f64 {
        let u1: f64 = 1.0 - self.rng.random::<f64>();
        let u2: f64 = self.rng.random();
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }

    /// An exponential wait in whole ms with the given mean.
    #[allow(
        clippy::cast_possible_truncation,
        reason = "waits are far below i64::MAX ms"
    )]
    fn exp(&mut self, mean_ms: f64) -> i64 {
        let u: f64 = 1.0 - self.rng.random::<f64>();
        (-mean_ms * u.ln()).round() as i64
    }

    #[allow(
        clippy::cast_possible_truncation,
        reason = "waits are far below i64::MAX ms"
    )]
    fn uniform_ms(&mut self, lo: f64, hi: f64) -> i64 {
        if hi <= lo {
            return lo as i64;
        }
        self.rng.random_range(lo..hi).round() as i64
    }
}

pub(crate) async fn run(
    mut sim: Simulator,
    speed: Speed,
    tx: mpsc::Sender<TradeEvent>,
    mut shutdown: watch::Receiver<bool>,
    health: Arc<Health>,
) -> anyhow::Result<()> {
    let mut pacer = Pacer::new(speed);
    let mut sent = 0_u64;
    tracing::info!(speed = speed.factor(), "simulator started");
    loop {
        let ev = sim.next_event();
        if !pacer.wait(ev.timestamp_ms, &mut shutdown).await {
            break;
        }
        health.frame();
        health.event();
        if !deliver(&tx, ev, &mut shutdown).await {
            break;
        }
        sent += 1;
    }
    tracing::info!(events = sent, "simulator stopped");
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::collections::{HashMap, HashSet};

    use super::*;

    fn stream(seed: u64, n: usize) -> Vec<TradeEvent> {
        let mut sim = Simulator::new(seed);
        (0..n).map(|_| sim.next_event()).collect()
    }

    #[test]
    fn same_seed_same_stream() {
        let a = stream(7, 3_000);
        assert_eq!(a, stream(7, 3_000));
        assert_ne!(a, stream(8, 3_000));
        // A different start shifts event time only.
        let mut shifted = Simulator::with_start(7, 1_000);
        for ev in &a[..100] {
            let b = shifted.next_event();
            assert_eq!(b.timestamp_ms - 1_000, ev.timestamp_ms - SIM_EPOCH_MS);
            assert_eq!(b.signature, ev.signature);
        }
    }

    #[test]
    fn events_follow_the_curve_and_time() {
        let events = stream(42, 20_000);
        let mut curves: HashMap<Mint, Curve> = HashMap::new();
        let mut sigs = HashSet::new();
        for pair in events.windows(2) {
            assert!(pair[0].timestamp_ms <= pair[1].timestamp_ms);
        }
        for ev in &events {
            assert!(sigs.insert(ev.signature.clone()));
            let is_buy = ev.side == Side::Buy;
            let before = match curves.get(&ev.mint) {
                Some(c) => *c,
                None => {
                    assert!(ev.created, "a mint's first trade is its creation");
                    Curve::fresh()
                }
            };
            let mut after = before;
            after.apply(is_buy, ev.sol.0, ev.tokens.0);
            assert_eq!(
                (after.virtual_sol, after.virtual_tokens),
                (ev.virtual_sol.0, ev.virtual_tokens.0)
            );
            if is_buy && !after.is_complete() {
                // The tokens are what the curve gives for the net SOL.
                assert_eq!(before.tokens_for_net_sol(ev.sol.0), ev.tokens.0);
            } else if !is_buy {
                assert_eq!(before.gross_sol_for_tokens(ev.tokens.0), ev.sol.0);
            }
            curves.insert(ev.mint, after);
        }
    }

    #[test]
    fn market_shape_is_plausible() {
        let events = stream(42, 20_000);
        let span_s = (events.last().unwrap().timestamp_ms - events[0].timestamp_ms) / 1000;
        let per_s = events.len() as i64 / span_s.max(1);
        assert!((2..=10).contains(&per_s), "{per_s} trades/s");
        let mut buys: Vec<u64> = events
            .iter()
            .filter(|e| e.side == Side::Buy && !e.created)
            .map(|e| e.sol.0)
            .collect();
        buys.sort_unstable();
        let median = buys[buys.len() / 2];
        assert!(
            (50_000_000..400_000_000).contains(&median),
            "median buy {median}"
        );
        let buy_share = buys.len() * 100 / events.len();
        assert!((40..75).contains(&buy_share), "{buy_share}% buys");
        let mints: HashSet<_> = events.iter().map(|e| e.mint).collect();
        let created = events.iter().filter(|e| e.created).count();
        assert_eq!(mints.len(), created);
    }

    #[test]
    fn demo_wallets_trade_in_the_first_seconds() {
        let sim = Simulator::new(42);
        let demo = sim.demo_wallets(20);
        assert_eq!(demo.len(), 20);
        assert_eq!(sim.demo_wallets(1000).len(), 20);
        let mut sim = sim;
        let mut seen = HashSet::new();
        loop {
            let ev = sim.next_event();
            if ev.timestamp_ms > SIM_EPOCH_MS + 20_000 {
                break;
            }
            seen.insert(ev.trader);
        }
        for w in &demo {
            assert!(seen.contains(w), "{w} did not trade in the first 20 s");
        }
        assert!(
            sim.wallets()
                .filter(|(_, k)| *k == WalletKind::Noise)
                .count()
                == 500
        );
    }

    #[tokio::test]
    async fn a_stalled_receiver_does_not_block_shutdown() {
        let (tx, _rx) = mpsc::channel(1);
        let (stop, shutdown) = watch::channel(false);
        let health = Arc::new(Health::default());
        let sim = Simulator::new(3);
        let task = tokio::spawn(run(sim, Speed::UNLIMITED, tx, shutdown, health));
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        stop.send(true).unwrap();
        tokio::time::timeout(std::time::Duration::from_secs(5), task)
            .await
            .expect("the feed stops while the engine is stalled")
            .unwrap()
            .unwrap();
    }

    #[tokio::test(start_paused = true)]
    async fn runs_paced_and_stops_on_shutdown() {
        let (tx, mut rx) = mpsc::channel(16);
        let (stop, shutdown) = watch::channel(false);
        let health = Arc::new(Health::default());
        let sim = Simulator::with_start(1, 0);
        let task = tokio::spawn(run(
            sim,
            Speed::REAL_TIME,
            tx,
            shutdown,
            Arc::clone(&health),
        ));
        let start = tokio::time::Instant::now();
        let mut last = None;
        for _ in 0..50 {
            let ev = rx.recv().await.unwrap();
            // Real time: event time and (paused, auto-advanced) wall time agree.
            assert_eq!(
                u128::try_from(ev.timestamp_ms).unwrap(),
                start.elapsed().as_millis()
            );
            last = Some(ev);
        }
        assert!(last.is_some());
        stop.send(true).unwrap();
        task.await.unwrap().unwrap();
    }
}
