//! A deterministic simulator of pump.fun launches and trades, on the real
//! curve math ([`Curve`], [`Fees`]): the embedded default feed (the demo runs
//! on it with no network) and a ground-truth market for backtests. Every
//! wallet carries a known [`WalletLabel`], so a ranking of wallets can be
//! scored against the truth (`crate::backtest`, `alfabot sim --report`).
//!
//! The model is event-driven: a time-ordered queue of launches, crowd trades
//! on each token, and the decisions of labelled wallets. A token launches
//! every 3 s on average (its creator's first buy) with a fate drawn at
//! launch: 50% duds (the crowd buys for 5–30 s, then leaves), 25% modest
//! (a rise of 30–120 s), 20% pumps and 5% runners. A pump first trades
//! quietly for 50–100 s (the crowd buys and sells about evenly), then rises
//! for 2–5 minutes (4–8 for a runner, which often completes the curve) and
//! falls until the crowd leaves. The crowd (noise wallets) decides where a
//! token goes; the labelled wallets act around it (default population):
//!
//! | label | wallets | behaviour |
//! |---|---|---|
//! | skilled | 60 | knows a token's fate (picks a pump 80–95% of the time): enters while the pump is quiet, from 30 s after launch (once the snipers are gone), at a moment of its own, never chasing (waits while the spot price is over 3% above the last 20 trades' VWAP); sells during the rise, at least 2.5 minutes later. A miss is a young token at random, sold 2.5–3.5 minutes later. A third of them are swing traders: after 60% of their buys they look again 40–110 s later and, if the token is busy (its last 20 trades within 40 s), take the profit then, into whoever bought after them. Buys every 1–3.3 minutes, median 0.4 SOL |
//! | farmer | 20 | buys a launch under 30 s old (median 1.5 SOL); its 3–6 copy bots pile in 0.4–2.5 s later; dumps into them 3–9 s after its buy |
//! | sybil | 8 rings of 3–5 | a ring's owner picks a launch under 30 s old (a pump half of the time); each member joins 90% of the ring's buys, all within 1.5 s; each sells 20–60 s later |
//! | sniper | 15 | buys 15–30% of launches 0.4–3 s after creation, sells 4–25 s later: mixed results |
//! | copy bot | 40 | follows every farmer (3–6 bots each, copying 60–95% of its buys) and half of the skilled wallets (1–2 bots, 20–45%); copies buys and sells 0.4–2.5 s later with a size of its own (0.1–1 SOL) |
//! | creator | 500 | launches in turn with the ruggers (one launch per wallet every ~30 minutes, so no launch wallet collects many outcomes); sells the dev bag later in 20% of its launches |
//! | rugger | 100 | its launches never pump; dumps the dev bag 5–40 s after launch |
//! | noise | 3,000 | the crowd; buys are log-normal (median 0.06 SOL, log-sd 2.3, clamped to 0.001–20 SOL); a few wallets are far busier than the rest (index ∝ u³); 40% of sells are the whole position |
//!
//! Shaped after the recorded data (`pumpfun_onchain_swaps_2025-10-20.jsonl`,
//! 1,292 trades, measured for this module; SOL net of fees):
//!
//! | | n | p10 | p25 | median | p75 | p90 | mean | max |
//! |---|---|---|---|---|---|---|---|---|
//! | buys | 611 | 0.0052 | 0.0199 | 0.0988 | 0.489 | 1.06 | 0.387 | 7.0 |
//! | sells | 681 | 0.0049 | 0.0175 | 0.105 | 0.512 | 1.17 | 0.500 | 66.4 |
//!
//! Beside it, 76 s of the simulator (seed 42, after a 10-minute warm-up),
//! pinned loosely by the `market_shape_follows_the_recorded_data` test:
//!
//! | | recorded | simulated |
//! |---|---|---|
//! | trades/s | 17 | 17 |
//! | mints traded | 143 | 68 |
//! | buys | 47% | 57% |
//! | buy median / p90, SOL | 0.099 / 1.06 | 0.188 / 1.10 |
//! | sd of ln(buy lamports) | 2.46 | 2.04 |
//! | wallets that traded once | 61% | 64% |
//! | busiest wallet's trades | 36 | 59 |
//!
//! The simulated market trades fewer mints and is more buy-heavy than the
//! sample (it needs pumps for skill to show), and its labelled wallets bet
//! more than the crowd, which lifts the buy median. Over 60 minutes a seed makes about
//! 70–80k trades.
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
const SOL: f64 = 1e9;

/// A copy bot reacts this long after its leader (ms).
const COPY_DELAY_MS: (f64, f64) = (400.0, 2_500.0);
/// A copy bot that missed its leader's sell exits on its own after this.
const COPY_SAFETY_EXIT_MS: i64 = 600_000;
/// A farmer dumps this long after its buy (ms): after its followers.
const FARMER_HOLD_MS: (f64, f64) = (3_000.0, 9_000.0);
/// Snipers buy this long after a launch and hold this long (ms).
const SNIPE_DELAY_MS: (f64, f64) = (400.0, 3_000.0);
const SNIPER_HOLD_MS: (f64, f64) = (4_000.0, 25_000.0);
/// Ring members buy within this spread of each other and hold this long.
const RING_SPREAD_MS: f64 = 1_500.0;
const RING_HOLD_MS: (f64, f64) = (20_000.0, 60_000.0);
/// Chance that a ring member joins one of its ring's buys.
const RING_JOIN: f64 = 0.9;
/// Skilled wallets enter pumping tokens while they are quiet: once the
/// snipers are gone (from this age; from a few seconds for a wallet's first
/// buy, so a demo sees trades at once), at least this long before the rise;
/// they plan to hold at least this long: they ride a pump for minutes.
/// Swing traders among them may take the profit sooner (below). Misses are
/// tokens up to the maximum age. Farmers and rings hunt launches under
/// 30 s.
const SKILLED_MIN_AGE_MS: i64 = 30_000;
const SKILLED_FIRST_MIN_AGE_MS: i64 = 3_000;
const SKILLED_MAX_AGE_MS: i64 = 100_000;
const SKILLED_QUIET_MARGIN_MS: i64 = 5_000;
const SKILLED_MIN_HOLD_MS: i64 = 150_000;
/// A swing trader looks again this long after a buy (ms) and sells if the
/// token is busy: its last `TAPE_TRADES` trades within `BUSY_SPAN_MS`. Such
/// a sell lands within 2 minutes of whoever bought after it, which a
/// "sold into followers" test sees: the engine must not take one such sell,
/// or a minority of them, for farming.
const SWING_CHECK_MS: (f64, f64) = (40_000.0, 110_000.0);
const BUSY_SPAN_MS: i64 = 40_000;
/// Skilled wallets do not chase: they wait while the spot price is more
/// than this many percent above the VWAP of the last `TAPE_TRADES` trades.
const SKILLED_CHASE_PCT: u128 = 3;
const TAPE_TRADES: usize = 20;
const FARMER_MAX_AGE_MS: i64 = 30_000;
const RING_MAX_AGE_MS: i64 = 30_000;
/// A wallet that found nothing to buy looks again this much later (ms).
const RETRY_MS: (f64, f64) = (2_000.0, 6_000.0);
/// A dead token is forgotten this long after its crowd left (every exit is
/// scheduled within 10 minutes of a buy).
const DROP_AFTER_MS: i64 = 660_000;
/// Noise buys: log-normal median (SOL) and log-sd; share of noise sells
/// that sell the whole position (the rest sell 30–70% of it).
const NOISE_MEDIAN_SOL: f64 = 0.06;
const NOISE_SIGMA: f64 = 2.3;
const NOISE_SELL_ALL: f64 = 0.4;
/// Shares of launch fates: dud, modest, pump (runner: the rest).
const FATE_SHARES: [f64; 3] = [0.5, 0.25, 0.2];
/// Share of regular launches whose creator sells the dev bag later.
const CREATOR_SELLS: f64 = 0.2;

/// What a simulated wallet really is: the ground truth a backtest scores
/// rankings against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum WalletLabel {
    /// The crowd: buys and sells hot tokens at random.
    Noise,
    /// Buys early into tokens that later pump, exits with profit.
    Skilled,
    /// Buys, waits for its copy-bot followers to pile in, dumps within
    /// seconds.
    Farmer,
    /// One of several wallets of one owner (`ring`) that co-buy the same
    /// mints within a second or two.
    Sybil { ring: u32 },
    /// Buys in the first seconds of launches and sells quickly.
    Sniper,
    /// Copies the trades of the wallets it follows.
    CopyBot,
    /// Launches tokens with a first buy.
    Creator,
    /// Launches tokens and dumps the dev bag within seconds.
    Rugger,
}

impl WalletLabel {
    /// Every label kind (rings as ring 0), in report order.
    pub const KINDS: [Self; 8] = [
        Self::Skilled,
        Self::Farmer,
        Self::Sybil { ring: 0 },
        Self::Sniper,
        Self::CopyBot,
        Self::Creator,
        Self::Rugger,
        Self::Noise,
    ];

    /// Short name of the kind (rings not numbered).
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::Noise => "noise",
            Self::Skilled => "skilled",
            Self::Farmer => "farmer",
            Self::Sybil { .. } => "sybil",
            Self::Sniper => "sniper",
            Self::CopyBot => "copy_bot",
            Self::Creator => "creator",
            Self::Rugger => "rugger",
        }
    }

    /// The same kind, whatever the ring.
    #[must_use]
    pub fn same_kind(self, other: Self) -> bool {
        std::mem::discriminant(&self) == std::mem::discriminant(&other)
    }
}

/// The population and pace of the simulated market.
#[derive(Debug, Clone, PartialEq)]
pub struct SimConfig {
    pub noise_wallets: usize,
    pub skilled_wallets: usize,
    pub farmers: usize,
    pub sybil_rings: usize,
    /// Members per ring, inclusive range.
    pub ring_size: (usize, usize),
    pub snipers: usize,
    pub copy_bots: usize,
    pub creators: usize,
    pub ruggers: usize,
    /// Mean time between launches.
    pub mean_launch_gap_ms: f64,
    /// Mean gap between the buys of the most active skilled wallet; each next
    /// one waits 2% longer.
    pub skilled_gap_ms: f64,
    /// Share of skilled wallets that are swing traders, and the chance a
    /// swing trader looks for an early exit after a buy.
    pub skilled_swing_share: f64,
    pub swing_chance: f64,
    pub fees: Fees,
}

impl Default for SimConfig {
    fn default() -> Self {
        Self {
            noise_wallets: 3_000,
            skilled_wallets: 60,
            farmers: 20,
            sybil_rings: 8,
            ring_size: (3, 5),
            snipers: 15,
            copy_bots: 40,
            creators: 500,
            ruggers: 100,
            mean_launch_gap_ms: 3_000.0,
            skilled_gap_ms: 60_000.0,
            skilled_swing_share: 1.0 / 3.0,
            swing_chance: 0.6,
            fees: Fees::default(),
        }
    }
}

/// How a token's life goes, drawn at launch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Fate {
    Dud,
    Modest,
    Pump,
    Runner,
}

/// A token's crowd over its life: a quiet phase (pumping tokens only: the
/// crowd trades both ways and the price stays put), a rise to the peak, a
/// fall until the crowd leaves.
#[derive(Debug, Clone, Copy)]
struct Phases {
    /// Quiet phase length range, s (0 for none).
    quiet_s: (f64, f64),
    quiet_gap_ms: f64,
    quiet_buy_share: f64,
    /// Rise length range (quiet end to peak), s.
    rise_s: (f64, f64),
    rise_gap_ms: f64,
    rise_buy_share: f64,
    /// Fall length range (peak to the end), s.
    fall_s: (f64, f64),
}

impl Fate {
    const fn phases(self) -> Phases {
        match self {
            Self::Dud => Phases {
                quiet_s: (0.0, 0.0),
                quiet_gap_ms: 0.0,
                quiet_buy_share: 0.0,
                rise_s: (5.0, 30.0),
                rise_gap_ms: 5_000.0,
                rise_buy_share: 0.6,
                fall_s: (25.0, 60.0),
            },
            Self::Modest => Phases {
                quiet_s: (0.0, 0.0),
                quiet_gap_ms: 0.0,
                quiet_buy_share: 0.0,
                rise_s: (30.0, 120.0),
                rise_gap_ms: 6_000.0,
                rise_buy_share: 0.62,
                fall_s: (90.0, 180.0),
            },
            Self::Pump => Phases {
                quiet_s: (50.0, 100.0),
                quiet_gap_ms: 3_000.0,
                quiet_buy_share: 0.56,
                rise_s: (120.0, 300.0),
                rise_gap_ms: 2_500.0,
                rise_buy_share: 0.8,
                fall_s: (120.0, 360.0),
            },
            Self::Runner => Phases {
                quiet_s: (50.0, 100.0),
                quiet_gap_ms: 3_000.0,
                quiet_buy_share: 0.56,
                rise_s: (240.0, 480.0),
                rise_gap_ms: 1_500.0,
                rise_buy_share: 0.85,
                fall_s: (240.0, 480.0),
            },
        }
    }

    /// Tokens that later pump: what skilled wallets look for.
    const fn pumps(self) -> bool {
        matches!(self, Self::Pump | Self::Runner)
    }
}

#[derive(Debug)]
struct SimWallet {
    address: WalletAddress,
    label: WalletLabel,
    /// Median gross buy, lamports.
    median_buy: f64,
    /// Standard deviation of ln(buy size).
    size_sigma: f64,
    /// Mean gap between own decisions (skilled, farmers), ms.
    gap_ms: f64,
    /// Skilled: chance to pick a token that will pump. Sniper: chance to
    /// snipe a launch.
    skill: f64,
    /// Skilled swing traders: chance to look for an early exit after a buy.
    swing: f64,
    /// Copy bots following this wallet, with their chance to copy a buy.
    followers: Vec<(usize, f64)>,
    /// Made its first own decision.
    acted: bool,
}

#[derive(Debug)]
struct Ring {
    members: Vec<usize>,
    gap_ms: f64,
    skill: f64,
}

#[derive(Debug)]
struct Token {
    mint: Mint,
    curve: Curve,
    born_ms: i64,
    fate: Fate,
    phases: Phases,
    /// Ages (ms since launch) at which the quiet phase ends, the price
    /// peaks and the crowd leaves.
    quiet_ms: i64,
    peak_ms: i64,
    end_ms: i64,
    /// Skilled wallets that chose this token.
    skilled_picks: u32,
    /// The last trades (net SOL, tokens, time), for the recent VWAP and
    /// pace skilled wallets watch.
    tape: VecDeque<(u64, u64, i64)>,
    /// The crowd has left (or the curve completed): no more buys.
    dead: bool,
    /// The curve completed: trading moved off the curve.
    graduated: bool,
    /// (wallet, tokens held), first buy order.
    holders: Vec<(usize, u64)>,
}

impl Token {
    /// The spot price is no more than `SKILLED_CHASE` above the VWAP of the
    /// last trades (or there are too few trades to tell).
    fn calm(&self) -> bool {
        let (sol, tokens) = self
            .tape
            .iter()
            .fold((0_u128, 0_u128), |(s, t), (a, b, _)| {
                (s + u128::from(*a), t + u128::from(*b))
            });
        if self.tape.len() < 5 || tokens == 0 {
            return true;
        }
        // spot = VS/VT; vwap = sol/tokens; calm when spot·tokens·100 ≤
        // vwap·(100 + chase)·... in integers.
        u128::from(self.curve.virtual_sol) * tokens * 100
            <= sol * u128::from(self.curve.virtual_tokens) * (100 + SKILLED_CHASE_PCT)
    }

    /// The last `TAPE_TRADES` trades all came within `BUSY_SPAN_MS`.
    fn busy(&self, now_ms: i64) -> bool {
        self.tape.len() >= TAPE_TRADES
            && self
                .tape
                .front()
                .is_some_and(|(_, _, t)| now_ms - t <= BUSY_SPAN_MS)
    }

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
    /// A launch; `chain` launches schedule the next one; `fate` forces one.
    Launch {
        chain: bool,
        fate: Option<Fate>,
    },
    Crowd(u64),
    /// A skilled wallet's or farmer's own decision.
    Act(usize),
    /// A sybil ring's decision.
    Ring(usize),
    Buy {
        wallet: usize,
        token: u64,
    },
    /// Sell the whole position.
    Sell {
        wallet: usize,
        token: u64,
    },
    /// A swing trader sells its position if the token is busy.
    TakeProfit {
        wallet: usize,
        token: u64,
    },
    /// Forget a dead token.
    Drop(u64),
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
    skilled: Vec<usize>,
    /// Creators and ruggers, shuffled: they launch in turn.
    launchers: Vec<usize>,
    next_launcher: usize,
    snipers: Vec<usize>,
    rings: Vec<Ring>,
    tokens: BTreeMap<u64, Token>,
    /// Token ids with a crowd, in launch order.
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
    #[allow(
        clippy::cast_precision_loss,
        clippy::cast_possible_truncation,
        reason = "small indices and counts"
    )]
    pub fn with_config(seed: u64, start_ms: i64, config: SimConfig) -> Self {
        let mut sim = Self {
            rng: SmallRng::seed_from_u64(seed),
            config,
            start_ms,
            now_ms: 0,
            seq: 0,
            queue: BinaryHeap::new(),
            wallets: Vec::new(),
            noise: Vec::new(),
            skilled: Vec::new(),
            launchers: Vec::new(),
            next_launcher: 0,
            snipers: Vec::new(),
            rings: Vec::new(),
            tokens: BTreeMap::new(),
            live: VecDeque::new(),
            next_token: 0,
        };
        let c = sim.config.clone();
        // Skilled wallets first, most active first: `demo_wallets` takes a
        // prefix.
        for i in 0..c.skilled_wallets {
            let gap = c.skilled_gap_ms * 1.02_f64.powi(i as i32);
            let skill = sim.uniform(0.8, 0.95);
            let w = sim.new_wallet(WalletLabel::Skilled, 0.4 * SOL, 0.3, gap, skill);
            // Every third (by default) is a swing trader, spread over the
            // activity ranks.
            #[allow(clippy::cast_precision_loss, reason = "small counts")]
            let swing = ((i + 1) as f64 * c.skilled_swing_share).floor()
                > (i as f64 * c.skilled_swing_share).floor();
            if swing {
                sim.wallets[w].swing = c.swing_chance;
            }
            sim.skilled.push(w);
        }
        let farmers: Vec<usize> = (0..c.farmers)
            .map(|_| {
                let gap = sim.uniform(40_000.0, 90_000.0);
                sim.new_wallet(WalletLabel::Farmer, 1.5 * SOL, 0.4, gap, 0.0)
            })
            .collect();
        for r in 0..c.sybil_rings {
            let (lo, hi) = (
                c.ring_size.0.max(2),
                c.ring_size.1.max(c.ring_size.0.max(2)),
            );
            let n = sim.rng.random_range(lo..=hi);
            let label = WalletLabel::Sybil { ring: r as u32 };
            let members = (0..n)
                .map(|_| sim.new_wallet(label, 0.8 * SOL, 0.5, 0.0, 0.0))
                .collect();
            let gap_ms = sim.uniform(60_000.0, 150_000.0);
            sim.rings.push(Ring {
                members,
                gap_ms,
                skill: 0.5,
            });
        }
        for _ in 0..c.snipers {
            let chance = sim.uniform(0.15, 0.3);
            let w = sim.new_wallet(WalletLabel::Sniper, 0.5 * SOL, 0.6, 0.0, chance);
            sim.snipers.push(w);
        }
        let bots: Vec<usize> = (0..c.copy_bots)
            .map(|_| {
                // Each bot copies with a size of its own (0.1–1 SOL).
                let size = (sim.uniform(0.1_f64.ln(), 1.0_f64.ln())).exp() * SOL;
                sim.new_wallet(WalletLabel::CopyBot, size, 0.1, 0.0, 0.0)
            })
            .collect();
        for _ in 0..c.noise_wallets {
            let w = sim.new_wallet(
                WalletLabel::Noise,
                NOISE_MEDIAN_SOL * SOL,
                NOISE_SIGMA,
                0.0,
                0.0,
            );
            sim.noise.push(w);
        }
        for i in 0..c.creators + c.ruggers {
            let label = if i < c.creators {
                WalletLabel::Creator
            } else {
                WalletLabel::Rugger
            };
            let w = sim.new_wallet(label, 1.0 * SOL, 0.6, 0.0, 0.0);
            sim.launchers.push(w);
        }
        if sim.launchers.is_empty() {
            let w = sim.new_wallet(WalletLabel::Creator, 1.0 * SOL, 0.6, 0.0, 0.0);
            sim.launchers.push(w);
        }
        let all = sim.launchers.clone();
        sim.launchers = sim.pick_distinct(&all, all.len());
        // Followers: farmers make sure they have several; half of the skilled
        // wallets are popular enough for one or two.
        if !bots.is_empty() {
            for &f in &farmers {
                let k = sim.rng.random_range(3..=6);
                for bot in sim.pick_distinct(&bots, k) {
                    let p = sim.uniform(0.6, 0.95);
                    sim.wallets[f].followers.push((bot, p));
                }
            }
            for s in sim.skilled.clone() {
                if sim.chance(0.5) {
                    let k = sim.rng.random_range(1..=2);
                    for bot in sim.pick_distinct(&bots, k) {
                        let p = sim.uniform(0.2, 0.45);
                        sim.wallets[s].followers.push((bot, p));
                    }
                }
            }
        }
        // A few launches at once so a demo shows activity from the start,
        // two of them worth a skilled wallet's money.
        for (at, fate) in [
            (0, Fate::Pump),
            (300, Fate::Runner),
            (900, Fate::Modest),
            (1_500, Fate::Pump),
            (2_500, Fate::Dud),
        ] {
            sim.schedule(
                at,
                Action::Launch {
                    chain: false,
                    fate: Some(fate),
                },
            );
        }
        let first_launch = sim.exp(sim.config.mean_launch_gap_ms) + 1_500;
        sim.schedule(
            first_launch,
            Action::Launch {
                chain: true,
                fate: None,
            },
        );
        // The i-th most active skilled wallet first acts within 2 s + 0.6 s·i,
        // so the 20 most active all trade within the first ~14 s.
        for (i, w) in sim.skilled.clone().into_iter().enumerate() {
            let at = 1_000 + sim.uniform_ms(0.0, 2_000.0 + 600.0 * i as f64);
            sim.schedule(at, Action::Act(w));
        }
        for f in farmers {
            let at = sim.exp(sim.wallets[f].gap_ms);
            sim.schedule(at, Action::Act(f));
        }
        for r in 0..sim.rings.len() {
            let at = sim.exp(sim.rings[r].gap_ms);
            sim.schedule(at, Action::Ring(r));
        }
        sim
    }

    fn new_wallet(
        &mut self,
        label: WalletLabel,
        median_buy: f64,
        size_sigma: f64,
        gap_ms: f64,
        skill: f64,
    ) -> usize {
        let mut bytes = [0_u8; 32];
        self.rng.fill_bytes(&mut bytes);
        self.wallets.push(SimWallet {
            address: WalletAddress::from_bytes(bytes),
            label,
            median_buy,
            size_sigma,
            gap_ms,
            skill,
            swing: 0.0,
            followers: Vec::new(),
            acted: false,
        });
        self.wallets.len() - 1
    }

    fn pick_distinct(&mut self, from: &[usize], k: usize) -> Vec<usize> {
        let mut pool = from.to_vec();
        let k = k.min(pool.len());
        for i in 0..k {
            let j = self.rng.random_range(i..pool.len());
            pool.swap(i, j);
        }
        pool.truncate(k);
        pool
    }

    /// The `n` most active skilled wallets (fewer if the population is
    /// smaller): they trade within the first ~20 s of event time, so a demo
    /// that follows them shows alerts within a minute, and they are the
    /// wallets worth following.
    #[must_use]
    pub fn demo_wallets(&self, n: usize) -> Vec<WalletAddress> {
        self.skilled
            .iter()
            .take(n)
            .map(|&w| self.wallets[w].address)
            .collect()
    }

    /// Every simulated wallet and what it really is.
    #[must_use]
    pub fn labels(&self) -> Vec<(WalletAddress, WalletLabel)> {
        self.wallets.iter().map(|w| (w.address, w.label)).collect()
    }

    #[must_use]
    pub const fn config(&self) -> &SimConfig {
        &self.config
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
                self.schedule(
                    self.now_ms + 1_000,
                    Action::Launch {
                        chain: true,
                        fate: None,
                    },
                );
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
            Action::Launch { chain, fate } => {
                if chain {
                    let gap = self.exp(self.config.mean_launch_gap_ms);
                    self.schedule(
                        self.now_ms + gap,
                        Action::Launch {
                            chain: true,
                            fate: None,
                        },
                    );
                }
                Some(self.launch(fate))
            }
            Action::Crowd(id) => self.crowd(id),
            Action::Act(w) => match self.wallets[w].label {
                WalletLabel::Skilled => self.skilled_act(w),
                WalletLabel::Farmer => self.farmer_act(w),
                _ => None,
            },
            Action::Ring(r) => {
                self.ring_act(r);
                None
            }
            Action::Buy { wallet, token } => self.scheduled_buy(wallet, token),
            Action::Sell { wallet, token } => self.sell_all(wallet, token),
            Action::TakeProfit { wallet, token } => {
                let busy = self.tokens.get(&token)?.busy(self.now_ms);
                if busy {
                    self.sell_all(wallet, token)
                } else {
                    None
                }
            }
            Action::Drop(id) => {
                self.tokens.remove(&id);
                None
            }
        }
    }

    fn launch(&mut self, forced: Option<Fate>) -> TradeEvent {
        let id = self.next_token;
        self.next_token += 1;
        let mut bytes = [0_u8; 32];
        self.rng.fill_bytes(&mut bytes);
        // Launchers take turns (most launch wallets launch once or twice).
        let creator = self.launchers[self.next_launcher % self.launchers.len()];
        self.next_launcher += 1;
        let rug = self.wallets[creator].label == WalletLabel::Rugger;
        let drawn = match self.rng.random::<f64>() {
            x if x < FATE_SHARES[0] => Fate::Dud,
            x if x < FATE_SHARES[0] + FATE_SHARES[1] => Fate::Modest,
            x if x < FATE_SHARES[0] + FATE_SHARES[1] + FATE_SHARES[2] => Fate::Pump,
            _ => Fate::Runner,
        };
        // A rugged token never pumps.
        let fate = forced.unwrap_or(if rug { Fate::Dud } else { drawn });
        let phases = fate.phases();
        let quiet_ms = self.uniform_ms(phases.quiet_s.0 * 1e3, phases.quiet_s.1 * 1e3);
        let peak_ms = quiet_ms + self.uniform_ms(phases.rise_s.0 * 1e3, phases.rise_s.1 * 1e3);
        let end_ms = peak_ms + self.uniform_ms(phases.fall_s.0 * 1e3, phases.fall_s.1 * 1e3);
        self.tokens.insert(
            id,
            Token {
                mint: Mint::from_bytes(bytes),
                curve: Curve::fresh(),
                born_ms: self.now_ms,
                fate,
                phases,
                quiet_ms,
                peak_ms,
                end_ms,
                skilled_picks: 0,
                tape: VecDeque::with_capacity(TAPE_TRADES + 1),
                dead: false,
                graduated: false,
                holders: Vec::new(),
            },
        );
        self.live.push_back(id);
        if rug {
            let at = self.now_ms + self.uniform_ms(5_000.0, 40_000.0);
            self.schedule(
                at,
                Action::Sell {
                    wallet: creator,
                    token: id,
                },
            );
        } else if self.chance(CREATOR_SELLS) {
            #[allow(clippy::cast_precision_loss, reason = "ms offsets")]
            let at = self.now_ms + self.uniform_ms(peak_ms as f64 * 0.5, end_ms as f64);
            self.schedule(
                at,
                Action::Sell {
                    wallet: creator,
                    token: id,
                },
            );
        }
        for s in self.snipers.clone() {
            if self.chance(self.wallets[s].skill) {
                let at = self.now_ms + self.uniform_ms(SNIPE_DELAY_MS.0, SNIPE_DELAY_MS.1);
                self.schedule(
                    at,
                    Action::Buy {
                        wallet: s,
                        token: id,
                    },
                );
            }
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
        let (age, gap, buy_share, has_sellers) = {
            let t = self.tokens.get(&id).filter(|t| !t.dead)?;
            let age = self.now_ms - t.born_ms;
            let p = t.phases;
            #[allow(clippy::cast_precision_loss, reason = "time ratios")]
            let (gap, share) = if age < t.quiet_ms {
                (p.quiet_gap_ms, p.quiet_buy_share)
            } else if age <= t.peak_ms {
                (p.rise_gap_ms, p.rise_buy_share)
            } else {
                // After the peak the crowd thins out and turns to selling.
                let late = (age - t.peak_ms) as f64 / (t.end_ms - t.peak_ms).max(1) as f64;
                (p.rise_gap_ms * (1.0 + 2.0 * late), 0.3)
            };
            let has_sellers = t
                .holders
                .iter()
                .any(|(w, _)| self.wallets[*w].label == WalletLabel::Noise);
            (age, gap, share, has_sellers)
        };
        if age >= self.tokens.get(&id)?.end_ms {
            self.retire(id);
            return None;
        }
        let next = self.now_ms + self.exp(gap);
        self.schedule(next, Action::Crowd(id));
        if has_sellers && self.rng.random::<f64>() >= buy_share {
            let (seller, held) = {
                let t = self.tokens.get(&id)?;
                let sellers: Vec<(usize, u64)> = t
                    .holders
                    .iter()
                    .copied()
                    .filter(|(w, _)| self.wallets[*w].label == WalletLabel::Noise)
                    .collect();
                sellers[self.rng.random_range(0..sellers.len())]
            };
            let amount = self.sell_amount(held);
            return self.sell(id, seller, amount);
        }
        // A few noise wallets are far busier than the rest.
        let u: f64 = self.rng.random();
        #[allow(
            clippy::cast_precision_loss,
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            reason = "an index in 0..len"
        )]
        let i = ((u * u * u) * self.noise.len() as f64) as usize;
        let buyer = self.noise[i.min(self.noise.len().saturating_sub(1))];
        let gross = self.buy_size(buyer);
        self.buy(id, buyer, gross)
    }

    /// Live tokens born at most `max_age_ms` ago that `wallet` does not
    /// hold, newest first.
    fn young(&self, wallet: usize, max_age_ms: i64) -> Vec<(u64, Fate)> {
        self.live
            .iter()
            .rev()
            .map_while(|id| {
                let t = self.tokens.get(id)?;
                (self.now_ms - t.born_ms <= max_age_ms).then_some((*id, t))
            })
            .filter(|(_, t)| !t.dead && t.holding(wallet) == 0)
            .map(|(id, t)| (id, t.fate))
            .collect()
    }

    fn pick(&mut self, among: &[(u64, Fate)], pumping: bool) -> Option<(u64, Fate)> {
        let pool: Vec<(u64, Fate)> = among
            .iter()
            .copied()
            .filter(|(_, f)| !pumping || f.pumps())
            .collect();
        if pool.is_empty() {
            return None;
        }
        Some(pool[self.rng.random_range(0..pool.len())])
    }

    fn retry(&mut self, action: Action) {
        let at = self.now_ms + self.uniform_ms(RETRY_MS.0, RETRY_MS.1);
        self.schedule(at, action);
    }

    /// A skilled wallet picks a token it expects to pump while the token is
    /// quiet (the one fewest skilled wallets picked) and buys it at a moment
    /// of its own before the rise; a miss is a young token at random, bought
    /// at once. A wallet's first buy is immediate (the demo follows these).
    fn skilled_act(&mut self, w: usize) -> Option<TradeEvent> {
        let first = !self.wallets[w].acted;
        let min_age = if first {
            SKILLED_FIRST_MIN_AGE_MS
        } else {
            SKILLED_MIN_AGE_MS
        };
        let aims = self.chance(self.wallets[w].skill);
        let choice = if aims {
            let quiet: Vec<(u64, u32)> = self
                .young(w, SKILLED_MAX_AGE_MS)
                .into_iter()
                .filter_map(|(id, fate)| {
                    let t = self.tokens.get(&id)?;
                    let age = self.now_ms - t.born_ms;
                    let entry = age >= min_age && age + SKILLED_QUIET_MARGIN_MS < t.quiet_ms;
                    (fate.pumps() && entry).then_some((id, t.skilled_picks))
                })
                .collect();
            let least = quiet.iter().map(|(_, n)| *n).min();
            let best: Vec<u64> = quiet
                .iter()
                .filter(|(_, n)| Some(*n) == least)
                .map(|(id, _)| *id)
                .collect();
            (!best.is_empty()).then(|| best[self.rng.random_range(0..best.len())])
        } else {
            let young = self.young(w, SKILLED_MAX_AGE_MS);
            self.pick(&young, false).map(|(id, _)| id)
        };
        let Some(id) = choice else {
            self.retry(Action::Act(w));
            return None;
        };
        let next = self.now_ms + self.exp(self.wallets[w].gap_ms);
        self.schedule(next, Action::Act(w));
        let (born, quiet, pumps) = {
            let t = self.tokens.get_mut(&id)?;
            t.skilled_picks += 1;
            (t.born_ms, t.quiet_ms, t.fate.pumps())
        };
        let last_entry = born + quiet - SKILLED_QUIET_MARGIN_MS;
        if first || !pumps || last_entry <= self.now_ms {
            // (A first buy is not held back by the calm rule.)
            let ev = self.scheduled_buy(w, id);
            self.wallets[w].acted = true;
            return ev;
        }
        self.wallets[w].acted = true;
        #[allow(clippy::cast_precision_loss, reason = "ms times")]
        let at = self.uniform_ms(self.now_ms as f64, last_entry as f64);
        self.schedule(
            at,
            Action::Buy {
                wallet: w,
                token: id,
            },
        );
        None
    }

    /// A skilled wallet sells a pumping token during its rise, a miss
    /// later; never within `SKILLED_MIN_HOLD_MS` of buying (swing trades,
    /// not flips).
    fn plan_skilled_exit(&mut self, w: usize, id: u64) {
        let Some((born, fate, quiet, peak)) = self
            .tokens
            .get(&id)
            .map(|t| (t.born_ms, t.fate, t.quiet_ms, t.peak_ms))
        else {
            return;
        };
        let min_exit = self.now_ms + SKILLED_MIN_HOLD_MS;
        let exit = if fate.pumps() {
            #[allow(clippy::cast_precision_loss, reason = "ms offsets")]
            let into_rise =
                self.uniform_ms((peak - quiet) as f64 * 0.4, (peak - quiet) as f64 * 0.9);
            (born + quiet + into_rise).max(min_exit)
        } else {
            min_exit + self.uniform_ms(0.0, 60_000.0)
        };
        self.schedule(
            exit,
            Action::Sell {
                wallet: w,
                token: id,
            },
        );
    }

    /// A farmer buys a young token and dumps it into its followers.
    fn farmer_act(&mut self, w: usize) -> Option<TradeEvent> {
        let young = self.young(w, FARMER_MAX_AGE_MS);
        let Some((id, _)) = self.pick(&young, false) else {
            self.retry(Action::Act(w));
            return None;
        };
        let next = self.now_ms + self.exp(self.wallets[w].gap_ms);
        self.schedule(next, Action::Act(w));
        let ev = self.buy_copied(w, id)?;
        let exit = self.now_ms + self.uniform_ms(FARMER_HOLD_MS.0, FARMER_HOLD_MS.1);
        self.schedule(
            exit,
            Action::Sell {
                wallet: w,
                token: id,
            },
        );
        Some(ev)
    }

    /// A sybil ring's owner picks a token; its wallets buy it within a
    /// second or two and sell it later.
    fn ring_act(&mut self, r: usize) {
        let (members, skill, gap) = {
            let ring = &self.rings[r];
            (ring.members.clone(), ring.skill, ring.gap_ms)
        };
        let young = self.young(members[0], RING_MAX_AGE_MS);
        let aims = self.chance(skill);
        let Some((id, _)) = self.pick(&young, aims) else {
            self.retry(Action::Ring(r));
            return;
        };
        let next = self.now_ms + self.exp(gap);
        self.schedule(next, Action::Ring(r));
        let mut joined: Vec<usize> = members
            .iter()
            .copied()
            .filter(|_| self.chance(RING_JOIN))
            .collect();
        if joined.len() < 2 {
            joined = members.iter().copied().take(2).collect();
        }
        for m in joined {
            let buy_at = self.now_ms + self.uniform_ms(0.0, RING_SPREAD_MS);
            let sell_at = buy_at + self.uniform_ms(RING_HOLD_MS.0, RING_HOLD_MS.1);
            self.schedule(
                buy_at,
                Action::Buy {
                    wallet: m,
                    token: id,
                },
            );
            self.schedule(
                sell_at,
                Action::Sell {
                    wallet: m,
                    token: id,
                },
            );
        }
    }

    /// A buy planned earlier (skilled entries, snipers, ring members,
    /// copies), and the exit it implies.
    fn scheduled_buy(&mut self, w: usize, id: u64) -> Option<TradeEvent> {
        if self.wallets[w].label == WalletLabel::Skilled && self.wallets[w].acted {
            let (calm, rise_at) = self
                .tokens
                .get(&id)
                .map(|t| (t.calm(), t.born_ms + t.quiet_ms))?;
            if !calm {
                // Wait for the spike to fade, until the rise starts.
                let retry = self.now_ms + self.uniform_ms(RETRY_MS.0, RETRY_MS.1);
                if retry < rise_at {
                    self.schedule(
                        retry,
                        Action::Buy {
                            wallet: w,
                            token: id,
                        },
                    );
                }
                return None;
            }
        }
        let ev = self.buy_copied(w, id)?;
        let exit = match self.wallets[w].label {
            WalletLabel::Skilled => {
                self.plan_skilled_exit(w, id);
                let swing = self.wallets[w].swing;
                if swing > 0.0 && self.chance(swing) {
                    let at = self.now_ms + self.uniform_ms(SWING_CHECK_MS.0, SWING_CHECK_MS.1);
                    self.schedule(
                        at,
                        Action::TakeProfit {
                            wallet: w,
                            token: id,
                        },
                    );
                }
                None
            }
            WalletLabel::Sniper => Some(self.uniform_ms(SNIPER_HOLD_MS.0, SNIPER_HOLD_MS.1)),
            WalletLabel::CopyBot => Some(COPY_SAFETY_EXIT_MS),
            _ => None,
        };
        if let Some(after) = exit {
            self.schedule(
                self.now_ms + after,
                Action::Sell {
                    wallet: w,
                    token: id,
                },
            );
        }
        Some(ev)
    }

    /// Buys a live token and lets the wallet's copy bots follow.
    fn buy_copied(&mut self, w: usize, id: u64) -> Option<TradeEvent> {
        if self.tokens.get(&id).is_none_or(|t| t.dead) {
            return None;
        }
        let gross = self.buy_size(w);
        let ev = self.buy(id, w, gross)?;
        for i in 0..self.wallets[w].followers.len() {
            let (bot, p) = self.wallets[w].followers[i];
            if self.chance(p) {
                let at = self.now_ms + self.uniform_ms(COPY_DELAY_MS.0, COPY_DELAY_MS.1);
                self.schedule(
                    at,
                    Action::Buy {
                        wallet: bot,
                        token: id,
                    },
                );
            }
        }
        Some(ev)
    }

    /// Sells the wallet's whole position (if any, and still on the curve);
    /// copy bots holding the token follow.
    fn sell_all(&mut self, w: usize, id: u64) -> Option<TradeEvent> {
        let t = self.tokens.get(&id).filter(|t| !t.graduated)?;
        let held = t.holding(w);
        let ev = self.sell(id, w, held)?;
        for i in 0..self.wallets[w].followers.len() {
            let (bot, _) = self.wallets[w].followers[i];
            if self.tokens.get(&id).is_some_and(|t| t.holding(bot) > 0) {
                let at = self.now_ms + self.uniform_ms(COPY_DELAY_MS.0, COPY_DELAY_MS.1);
                self.schedule(
                    at,
                    Action::Sell {
                        wallet: bot,
                        token: id,
                    },
                );
            }
        }
        Some(ev)
    }

    /// The crowd left or the curve completed: no more buys; exits still run
    /// until the token is dropped.
    fn retire(&mut self, id: u64) {
        let Some(t) = self.tokens.get_mut(&id) else {
            return;
        };
        if t.dead {
            return;
        }
        t.dead = true;
        self.live.retain(|x| *x != id);
        self.schedule(self.now_ms + DROP_AFTER_MS, Action::Drop(id));
    }

    fn buy(&mut self, id: u64, wallet: usize, gross: u64) -> Option<TradeEvent> {
        let fees = self.config.fees;
        let t = self.tokens.get(&id).filter(|t| !t.dead)?;
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
        Some(self.trade(id, wallet, Side::Buy, net, tokens))
    }

    fn sell(&mut self, id: u64, wallet: usize, tokens: u64) -> Option<TradeEvent> {
        if tokens == 0 {
            return None;
        }
        let sol = self.tokens.get(&id)?.curve.gross_sol_for_tokens(tokens);
        Some(self.trade(id, wallet, Side::Sell, sol, tokens))
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
        let now = self.now_ms;
        let slot = START_SLOT + u64::try_from(self.now_ms / MS_PER_SLOT).unwrap_or(0);
        let address = self.wallets[wallet].address;
        let t = self
            .tokens
            .get_mut(&id)
            .expect("trades are only built for known tokens");
        let is_buy = side == Side::Buy;
        t.curve.apply(is_buy, net_sol, tokens);
        t.tape.push_back((net_sol, tokens, now));
        if t.tape.len() > TAPE_TRADES {
            t.tape.pop_front();
        }
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
            t.graduated = true;
            self.retire(id);
        }
        ev
    }

    /// A gross buy size for `wallet`: log-normal around its median,
    /// clamped to [0.001, 20] SOL.
    #[allow(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        reason = "clamped to a positive range first"
    )]
    fn buy_size(&mut self, wallet: usize) -> u64 {
        let (median, sigma) = {
            let w = &self.wallets[wallet];
            (w.median_buy, w.size_sigma)
        };
        let z = self.normal();
        (median * (sigma * z).exp()).clamp(0.001 * SOL, 20.0 * SOL) as u64
    }

    /// A crowd sell: the whole position `NOISE_SELL_ALL` of the time, else
    /// 30–70% of it.
    #[allow(
        clippy::cast_precision_loss,
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        reason = "a fraction of a held amount"
    )]
    fn sell_amount(&mut self, held: u64) -> u64 {
        if self.chance(NOISE_SELL_ALL) {
            held
        } else {
            (held as f64 * self.rng.random_range(0.3..0.7)) as u64
        }
    }

    fn chance(&mut self, p: f64) -> bool {
        self.rng.random::<f64>() < p
    }

    fn uniform(&mut self, lo: f64, hi: f64) -> f64 {
        if hi <= lo {
            return lo;
        }
        self.rng.random_range(lo..hi)
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
        self.uniform(lo, hi).round() as i64
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

    /// Events of seed 42 between `from_s` and `to_s` of event time.
    fn window(sim: &mut Simulator, from_s: i64, to_s: i64) -> Vec<TradeEvent> {
        let mut out = Vec::new();
        loop {
            let ev = sim.next_event();
            let t = ev.timestamp_ms - SIM_EPOCH_MS;
            if t > to_s * 1_000 {
                return out;
            }
            if t >= from_s * 1_000 {
                out.push(ev);
            }
        }
    }

    fn quantile(sorted: &[u64], q: f64) -> u64 {
        #[allow(
            clippy::cast_precision_loss,
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            reason = "an index"
        )]
        let i = ((sorted.len() - 1) as f64 * q) as usize;
        sorted[i]
    }

    /// 76 s of a running market (after a 10-minute warm-up) against the
    /// recorded file's figures (module docs): the same kind of market, not a
    /// copy of it.
    #[test]
    #[allow(clippy::cast_precision_loss, reason = "statistics")]
    fn market_shape_follows_the_recorded_data() {
        let mut sim = Simulator::new(42);
        let events = window(&mut sim, 600, 676);
        let per_s = events.len() as f64 / 76.0;
        assert!((12.0..40.0).contains(&per_s), "{per_s} trades/s");
        let mut buys: Vec<u64> = events
            .iter()
            .filter(|e| e.side == Side::Buy)
            .map(|e| e.sol.0)
            .collect();
        buys.sort_unstable();
        let median = quantile(&buys, 0.5);
        assert!(
            (50_000_000..300_000_000).contains(&median),
            "median buy {median}"
        );
        let p90 = quantile(&buys, 0.9);
        assert!((600_000_000..2_500_000_000).contains(&p90), "p90 buy {p90}");
        let ln: Vec<f64> = buys.iter().map(|b| (*b as f64).ln()).collect();
        let mean = ln.iter().sum::<f64>() / ln.len() as f64;
        let sd = (ln.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / ln.len() as f64).sqrt();
        assert!((1.7..3.0).contains(&sd), "ln-sd {sd}");
        let buy_share = buys.len() as f64 / events.len() as f64;
        assert!((0.4..0.65).contains(&buy_share), "{buy_share} buys");
        let mut per_wallet: HashMap<WalletAddress, u32> = HashMap::new();
        for e in &events {
            *per_wallet.entry(e.trader).or_default() += 1;
        }
        let once =
            per_wallet.values().filter(|n| **n == 1).count() as f64 / per_wallet.len() as f64;
        assert!(
            (0.45..0.75).contains(&once),
            "{once} of wallets traded once"
        );
        let mints: HashSet<_> = events.iter().map(|e| e.mint).collect();
        assert!((50..250).contains(&mints.len()), "{} mints", mints.len());
    }

    #[test]
    fn labels_are_the_configured_population() {
        let sim = Simulator::new(42);
        let c = sim.config().clone();
        let labels = sim.labels();
        let count = |kind: WalletLabel| labels.iter().filter(|(_, l)| l.same_kind(kind)).count();
        assert_eq!(count(WalletLabel::Skilled), c.skilled_wallets);
        assert_eq!(count(WalletLabel::Farmer), c.farmers);
        assert_eq!(count(WalletLabel::Sniper), c.snipers);
        assert_eq!(count(WalletLabel::CopyBot), c.copy_bots);
        assert_eq!(count(WalletLabel::Creator), c.creators);
        assert_eq!(count(WalletLabel::Rugger), c.ruggers);
        assert_eq!(count(WalletLabel::Noise), c.noise_wallets);
        let mut rings: HashMap<u32, usize> = HashMap::new();
        for (_, l) in &labels {
            if let WalletLabel::Sybil { ring } = l {
                *rings.entry(*ring).or_default() += 1;
            }
        }
        let mut ids: Vec<u32> = rings.keys().copied().collect();
        ids.sort_unstable();
        assert_eq!(ids, (0..8).collect::<Vec<u32>>());
        assert!(rings.values().all(|n| (3..=5).contains(n)), "{rings:?}");
        let unique: HashSet<_> = labels.iter().map(|(w, _)| *w).collect();
        assert_eq!(unique.len(), labels.len());
        // Same seed, same population; another seed, other wallets.
        assert_eq!(labels, Simulator::new(42).labels());
        assert_ne!(labels, Simulator::new(43).labels());
        let small = SimConfig {
            noise_wallets: 10,
            skilled_wallets: 2,
            farmers: 1,
            sybil_rings: 1,
            snipers: 0,
            copy_bots: 0,
            creators: 1,
            ruggers: 0,
            ..SimConfig::default()
        };
        let mut sim = Simulator::with_config(1, 0, small);
        assert_eq!(
            sim.labels().len(),
            10 + 2 + 1 + 1 + sim.rings[0].members.len()
        );
        for _ in 0..2_000 {
            sim.next_event();
        }
    }

    /// The labels mean what they say, checked on 20 minutes of seed 42.
    #[test]
    #[allow(clippy::too_many_lines, reason = "one check per label")]
    fn labelled_wallets_behave_as_labelled() {
        let mut sim = Simulator::new(42);
        let labels: HashMap<WalletAddress, WalletLabel> = sim.labels().into_iter().collect();
        let events = window(&mut sim, 0, 1_200);
        let label = |e: &TradeEvent| labels[&e.trader];
        let created: HashMap<Mint, i64> = events
            .iter()
            .filter(|e| e.created)
            .map(|e| (e.mint, e.timestamp_ms))
            .collect();
        // Open buys per (wallet, mint) → time of the first.
        let mut open: HashMap<(WalletAddress, Mint), i64> = HashMap::new();
        let mut holds: HashMap<&'static str, Vec<i64>> = HashMap::new();
        let (mut farmer_buys, mut farmer_copied) = (0, 0);
        let (mut ring_buys, mut ring_cobought) = (0, 0);
        for (i, e) in events.iter().enumerate() {
            let key = (e.trader, e.mint);
            match e.side {
                Side::Buy => {
                    open.entry(key).or_insert(e.timestamp_ms);
                }
                Side::Sell => {
                    if let Some(t0) = open.remove(&key) {
                        holds
                            .entry(label(e).name())
                            .or_default()
                            .push(e.timestamp_ms - t0);
                    }
                }
            }
            if e.side != Side::Buy {
                continue;
            }
            match label(e) {
                WalletLabel::Sniper => {
                    let age = e.timestamp_ms - created[&e.mint];
                    assert!((400..=3_000).contains(&age), "sniped at {age} ms");
                }
                WalletLabel::Farmer => {
                    farmer_buys += 1;
                    let copied = events[i + 1..]
                        .iter()
                        .take_while(|x| x.timestamp_ms <= e.timestamp_ms + 2_500)
                        .any(|x| x.mint == e.mint && label(x) == WalletLabel::CopyBot);
                    farmer_copied += usize::from(copied);
                }
                WalletLabel::Sybil { ring } => {
                    ring_buys += 1;
                    let near = events
                        .iter()
                        .skip_while(|x| x.timestamp_ms < e.timestamp_ms - 1_500)
                        .take_while(|x| x.timestamp_ms <= e.timestamp_ms + 1_500)
                        .any(|x| {
                            x.mint == e.mint
                                && x.trader != e.trader
                                && x.side == Side::Buy
                                && label(x) == (WalletLabel::Sybil { ring })
                        });
                    ring_cobought += usize::from(near);
                }
                WalletLabel::CopyBot => {
                    // A copy follows a farmer's or skilled wallet's buy.
                    let led = events[..i]
                        .iter()
                        .rev()
                        .take_while(|x| x.timestamp_ms >= e.timestamp_ms - 2_500)
                        .any(|x| {
                            x.mint == e.mint
                                && x.side == Side::Buy
                                && matches!(label(x), WalletLabel::Farmer | WalletLabel::Skilled)
                        });
                    assert!(led, "a copy without a leader");
                }
                _ => {}
            }
        }
        let median = |name: &str| {
            let mut v = holds[name].clone();
            v.sort_unstable();
            v[v.len() / 2]
        };
        assert!(farmer_buys > 100 && farmer_copied * 10 >= farmer_buys * 9);
        assert!(ring_buys > 100 && ring_cobought * 20 >= ring_buys * 19);
        assert!(holds["farmer"].iter().all(|h| (3_000..=9_000).contains(h)));
        assert!(holds["sniper"].iter().all(|h| (4_000..=25_000).contains(h)));
        assert!(holds["rugger"].iter().all(|h| (5_000..=40_000).contains(h)));
        assert!(median("skilled") >= 60_000, "{}", median("skilled"));
        // Swing traders sometimes take a profit within two minutes: a
        // minority of the skilled wallets' exits.
        let skilled = &holds["skilled"];
        let quick = skilled.iter().filter(|h| **h < 120_000).count();
        assert!(
            quick >= 10 && quick * 5 < skilled.len(),
            "{quick} of {} skilled exits within 2 minutes",
            skilled.len()
        );
        assert!(median("copy_bot") < 15_000);
    }

    #[test]
    fn demo_wallets_trade_in_the_first_seconds() {
        let sim = Simulator::new(42);
        let demo = sim.demo_wallets(20);
        assert_eq!(demo.len(), 20);
        assert_eq!(sim.demo_wallets(1000).len(), sim.config().skilled_wallets);
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
        let labels = sim.labels();
        for w in &demo {
            assert!(labels.contains(&(*w, WalletLabel::Skilled)));
        }
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
