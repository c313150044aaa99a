//! Copytrader profiles: a user's rules for copying leaders, and the one
//! list of settings every chat surface shows and edits.
//!
//! A profile is plain data with a parser per setting ([`Setting::parse`]):
//! a typed value from a chat goes through the same code as a button, and a
//! bad value is an error that names what was wrong while the old value
//! stays. Per-follow [`Overrides`] are the same typed values applied over
//! the profile ([`ProfileSettings::with_overrides`]).
//!
//! Amounts are integers (lamports, basis points, seconds, thousandths);
//! zero means "off" for every optional limit.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use super::{Address, Lamports, UserRef, WalletAddress};

/// A stored profile's id.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct ProfileId(pub i64);

impl fmt::Display for ProfileId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// Paper (simulated fills on the curve) or live (signed transactions).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    #[default]
    Paper,
    Live,
}

impl Mode {
    #[must_use]
    pub const fn code(self) -> &'static str {
        match self {
            Self::Paper => "paper",
            Self::Live => "live",
        }
    }
}

/// How a copied buy is sized.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BuyMode {
    /// `buy_sol` per copied buy.
    #[default]
    Fixed,
    /// `buy_pct` of the leader's buy.
    LeaderPct,
}

/// What to do when a copied leader sells.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CopySells {
    /// Ignore leader sells (exits are the profile's own rules).
    Off,
    /// Sell the same fraction of the position the leader sold of theirs.
    #[default]
    SamePct,
    /// Sell the whole position on any leader sell.
    SellAll,
}

/// Where entries come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SignalMode {
    /// Every followed leader's buy is a candidate entry.
    #[default]
    PerFollow,
    /// Enter only when followed leaders' weighted votes on a mint agree.
    Consensus,
}

/// One step of a take-profit ladder: at `gain_bps` above cost, sell
/// `sell_bps` of the position as it was when opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct LadderStep {
    pub gain_bps: u32,
    pub sell_bps: u32,
}

/// Every rule of a profile. Field names are the stored JSON; a missing
/// field reads as its default, so new settings need no data migration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ProfileSettings {
    // Execution.
    pub mode: Mode,
    /// The user's wallet that signs live orders.
    pub wallet: Option<WalletAddress>,
    pub slippage_bps: u32,
    pub priority_fee: Lamports,
    /// Paper fills are priced this long after the leader's trade.
    pub latency_ms: u32,
    // Sizing.
    pub buy_mode: BuyMode,
    pub buy_sol: Lamports,
    /// Percent of the leader's buy, in basis points (10 000 = 100%).
    pub buy_pct_bps: u32,
    pub min_buy: Lamports,
    pub max_buy: Lamports,
    pub max_per_trade: Lamports,
    pub kelly: bool,
    /// Fraction of the Kelly bet taken (5 000 = half Kelly).
    pub kelly_fraction_bps: u32,
    /// Largest Kelly bet, as a share of the bankroll.
    pub kelly_cap_bps: u32,
    // Limits and adaptive risk.
    pub bankroll: Lamports,
    /// Spend per leader per day.
    pub leader_cap: Lamports,
    /// Spend per day.
    pub daily_cap: Lamports,
    pub max_open: u32,
    /// Stop entries for the day at this loss, as a share of the bankroll.
    pub daily_loss_limit_bps: u32,
    /// Daily PnL tiers, cooldowns after losing streaks.
    pub adaptive: bool,
    // Filters.
    /// The leader's trade size range (SOL into the curve).
    pub leader_min: Lamports,
    pub leader_max: Lamports,
    /// Enter each token at most once.
    pub first_buy_only: bool,
    /// Market cap range from the curve, lamports.
    pub mcap_min: Lamports,
    pub mcap_max: Lamports,
    pub age_min_s: u32,
    pub age_max_s: u32,
    pub progress_min_bps: u32,
    pub progress_max_bps: u32,
    /// Mints and token creators never to enter.
    pub blacklist: Vec<Address>,
    /// Lowest leader score (thousandths of the Bayesian score).
    pub min_score_milli: u32,
    /// Largest price impact of the entry on the curve.
    pub impact_max_bps: u32,
    /// Require a sell by a non-creator wallet in the last minute.
    pub sellability: bool,
    // Exits.
    pub copy_sells: CopySells,
    /// Sell everything at this loss (0 = off).
    pub stop_loss_bps: u32,
    /// First take-profit: sell 12/20/30% of the position (by time to hit).
    pub tp1_bps: u32,
    pub trailing: bool,
    pub break_even: bool,
    pub max_hold_s: u32,
    pub ladder: Vec<LadderStep>,
    // Signals.
    pub signal: SignalMode,
    pub consensus_window_s: u32,
    /// Sum of vote weights needed (thousandths: 2 500 = 2.5).
    pub consensus_threshold_milli: u32,
    /// At least one voter must score this much (thousandths).
    pub consensus_min_score_milli: u32,
    // Control.
    /// Alerts only, no orders.
    pub notify_only: bool,
    /// Nothing is copied, exits included.
    pub paused: bool,
    /// No new entries; exits are still managed.
    pub stop_entry: bool,
}

impl Default for ProfileSettings {
    fn default() -> Self {
        Self {
            mode: Mode::Paper,
            wallet: None,
            slippage_bps: 500,
            priority_fee: Lamports(100_000),
            latency_ms: 400,
            buy_mode: BuyMode::Fixed,
            buy_sol: Lamports(100_000_000),
            buy_pct_bps: 1_000,
            min_buy: Lamports(0),
            max_buy: Lamports(0),
            max_per_trade: Lamports(1_000_000_000),
            kelly: false,
            kelly_fraction_bps: 5_000,
            kelly_cap_bps: 500,
            bankroll: Lamports(10_000_000_000),
            leader_cap: Lamports(0),
            daily_cap: Lamports(0),
            max_open: 10,
            daily_loss_limit_bps: 1_000,
            adaptive: true,
            leader_min: Lamports(0),
            leader_max: Lamports(0),
            first_buy_only: false,
            mcap_min: Lamports(0),
            mcap_max: Lamports(0),
            age_min_s: 0,
            age_max_s: 0,
            progress_min_bps: 0,
            progress_max_bps: 0,
            blacklist: Vec::new(),
            min_score_milli: 0,
            impact_max_bps: 100,
            sellability: true,
            copy_sells: CopySells::SamePct,
            stop_loss_bps: 2_500,
            tp1_bps: 2_000,
            trailing: true,
            break_even: true,
            max_hold_s: 900,
            ladder: Vec::new(),
            signal: SignalMode::PerFollow,
            consensus_window_s: 90,
            consensus_threshold_milli: 2_500,
            consensus_min_score_milli: 550,
            notify_only: false,
            paused: false,
            stop_entry: false,
        }
    }
}

/// Why a setting's value was refused. Rendered for users by `chat/`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SettingError {
    #[error("{0:?} is not a number")]
    NotANumber(String),
    #[error("{0:?} is not an amount of SOL")]
    NotSol(String),
    #[error("{0:?} is not on or off")]
    NotOnOff(String),
    #[error("{input:?} is not one of {choices}")]
    NotAChoice {
        input: String,
        choices: &'static str,
    },
    #[error("{input:?} is out of range ({min} to {max})")]
    OutOfRange {
        input: String,
        min: String,
        max: String,
    },
    #[error("{0:?} is not an address")]
    NotAnAddress(String),
    #[error("{0:?} is not a ladder such as 50:25 100:50")]
    NotALadder(String),
    #[error("the ladder sells more than 100%")]
    LadderOver100,
    #[error("the minimum is above the maximum")]
    MinAboveMax { min: Setting, max: Setting },
    #[error("live mode needs a wallet")]
    LiveNeedsWallet,
    #[error("this setting is per profile, not per followed wallet")]
    NotOverridable(Setting),
}

/// A setting's value, typed. What buttons and typed text both produce.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SettingValue {
    Bool(bool),
    /// Lamports; 0 = off where the setting is optional.
    Sol(Lamports),
    /// Basis points.
    Percent(u32),
    Seconds(u32),
    Count(u32),
    /// Thousandths (scores, vote sums).
    Milli(u32),
    Mode(Mode),
    BuyMode(BuyMode),
    CopySells(CopySells),
    Signal(SignalMode),
    Wallet(Option<WalletAddress>),
    Addresses(Vec<Address>),
    Ladder(Vec<LadderStep>),
}

/// How a setting is edited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SettingKind {
    /// A button flips it.
    Toggle,
    /// A button moves to the next choice.
    Choice,
    /// A typed value (the chat asks for it).
    Typed,
}

/// Groups of settings, one keyboard page each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Section {
    Buy,
    Limits,
    Filters,
    Exits,
    Signals,
    Execution,
}

impl Section {
    pub const ALL: [Self; 6] = [
        Self::Buy,
        Self::Limits,
        Self::Filters,
        Self::Exits,
        Self::Signals,
        Self::Execution,
    ];

    #[must_use]
    pub const fn code(self) -> &'static str {
        match self {
            Self::Buy => "buy",
            Self::Limits => "lim",
            Self::Filters => "flt",
            Self::Exits => "ext",
            Self::Signals => "sig",
            Self::Execution => "exe",
        }
    }

    #[must_use]
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|x| x.code() == s)
    }
}

macro_rules! settings {
    ($( $v:ident = $code:literal, $section:ident, $over:literal; )*) => {
        /// Every setting of a profile: the single list behind the keyboards,
        /// typed edits, overrides and their storage.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Setting { $($v),* }

        impl Setting {
            pub const ALL: &'static [Self] = &[$(Self::$v),*];

            /// Short stable code (button data, storage, locale keys).
            #[must_use]
            pub const fn code(self) -> &'static str {
                match self { $(Self::$v => $code),* }
            }

            #[must_use]
            pub const fn section(self) -> Section {
                match self { $(Self::$v => Section::$section),* }
            }

            /// Whether a followed wallet may override it.
            #[must_use]
            pub const fn overridable(self) -> bool {
                match self { $(Self::$v => $over),* }
            }
        }
    };
}

settings! {
    Mode = "mode", Execution, false;
    Wallet = "wal", Execution, false;
    Slippage = "slip", Execution, true;
    PriorityFee = "prio", Execution, true;
    Latency = "lat", Execution, false;
    BuyMode = "bmode", Buy, true;
    BuySol = "bsol", Buy, true;
    BuyPct = "bpct", Buy, true;
    MinBuy = "bmin", Buy, true;
    MaxBuy = "bmax", Buy, true;
    MaxPerTrade = "mpt", Buy, true;
    Kelly = "kelly", Buy, false;
    KellyFraction = "kfr", Buy, false;
    KellyCap = "kcap", Buy, false;
    Bankroll = "bank", Limits, false;
    LeaderCap = "lcap", Limits, true;
    DailyCap = "dcap", Limits, false;
    MaxOpen = "mopen", Limits, false;
    DailyLossLimit = "dloss", Limits, false;
    Adaptive = "adapt", Limits, false;
    LeaderMin = "lmin", Filters, true;
    LeaderMax = "lmax", Filters, true;
    FirstBuyOnly = "first", Filters, true;
    McapMin = "mcmin", Filters, true;
    McapMax = "mcmax", Filters, true;
    AgeMin = "agemin", Filters, true;
    AgeMax = "agemax", Filters, true;
    ProgressMin = "prmin", Filters, true;
    ProgressMax = "prmax", Filters, true;
    Blacklist = "black", Filters, false;
    MinScore = "minsc", Filters, false;
    ImpactMax = "imp", Filters, true;
    Sellability = "sell", Filters, true;
    CopySells = "csell", Exits, true;
    StopLoss = "sl", Exits, true;
    Tp1 = "tp1", Exits, true;
    Trailing = "trail", Exits, true;
    BreakEven = "be", Exits, true;
    MaxHold = "hold", Exits, true;
    Ladder = "ladder", Exits, true;
    Signal = "signal", Signals, false;
    ConsensusWindow = "cwin", Signals, false;
    ConsensusThreshold = "cthr", Signals, false;
    ConsensusMinScore = "cmin", Signals, false;
    NotifyOnly = "notify", Execution, true;
    Paused = "pause", Execution, true;
    StopEntry = "stop", Execution, false;
}

impl Serialize for Setting {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.code())
    }
}

impl<'de> Deserialize<'de> for Setting {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Self::parse(&s).ok_or_else(|| serde::de::Error::custom(format!("unknown setting {s:?}")))
    }
}

const MAX_SOL: u64 = 10_000 * 1_000_000_000;
const DAY_S: u32 = 86_400;

impl Setting {
    #[must_use]
    pub fn parse(code: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|s| s.code() == code)
    }

    /// The settings of one keyboard page, in display order.
    pub fn in_section(section: Section) -> impl Iterator<Item = Self> {
        Self::ALL
            .iter()
            .copied()
            .filter(move |s| s.section() == section)
    }

    #[must_use]
    pub const fn kind(self) -> SettingKind {
        match self {
            Self::Kelly
            | Self::Adaptive
            | Self::FirstBuyOnly
            | Self::Sellability
            | Self::Trailing
            | Self::BreakEven
            | Self::NotifyOnly
            | Self::Paused
            | Self::StopEntry => SettingKind::Toggle,
            Self::Mode | Self::BuyMode | Self::CopySells | Self::Signal => SettingKind::Choice,
            _ => SettingKind::Typed,
        }
    }

    /// Whether 0 means "off" (shown as such).
    #[must_use]
    pub const fn zero_is_off(self) -> bool {
        matches!(
            self,
            Self::MinBuy
                | Self::MaxBuy
                | Self::LeaderCap
                | Self::DailyCap
                | Self::DailyLossLimit
                | Self::LeaderMin
                | Self::LeaderMax
                | Self::McapMin
                | Self::McapMax
                | Self::AgeMin
                | Self::AgeMax
                | Self::ProgressMin
                | Self::ProgressMax
                | Self::MinScore
                | Self::ImpactMax
                | Self::StopLoss
                | Self::Tp1
                | Self::MaxHold
                | Self::PriorityFee
                | Self::Latency
        )
    }

    /// The current value in `s`.
    #[must_use]
    pub fn read(self, s: &ProfileSettings) -> SettingValue {
        use SettingValue as V;
        match self {
            Self::Mode => V::Mode(s.mode),
            Self::Wallet => V::Wallet(s.wallet),
            Self::Slippage => V::Percent(s.slippage_bps),
            Self::PriorityFee => V::Sol(s.priority_fee),
            Self::Latency => V::Count(s.latency_ms),
            Self::BuyMode => V::BuyMode(s.buy_mode),
            Self::BuySol => V::Sol(s.buy_sol),
            Self::BuyPct => V::Percent(s.buy_pct_bps),
            Self::MinBuy => V::Sol(s.min_buy),
            Self::MaxBuy => V::Sol(s.max_buy),
            Self::MaxPerTrade => V::Sol(s.max_per_trade),
            Self::Kelly => V::Bool(s.kelly),
            Self::KellyFraction => V::Percent(s.kelly_fraction_bps),
            Self::KellyCap => V::Percent(s.kelly_cap_bps),
            Self::Bankroll => V::Sol(s.bankroll),
            Self::LeaderCap => V::Sol(s.leader_cap),
            Self::DailyCap => V::Sol(s.daily_cap),
            Self::MaxOpen => V::Count(s.max_open),
            Self::DailyLossLimit => V::Percent(s.daily_loss_limit_bps),
            Self::Adaptive => V::Bool(s.adaptive),
            Self::LeaderMin => V::Sol(s.leader_min),
            Self::LeaderMax => V::Sol(s.leader_max),
            Self::FirstBuyOnly => V::Bool(s.first_buy_only),
            Self::McapMin => V::Sol(s.mcap_min),
            Self::McapMax => V::Sol(s.mcap_max),
            Self::AgeMin => V::Seconds(s.age_min_s),
            Self::AgeMax => V::Seconds(s.age_max_s),
            Self::ProgressMin => V::Percent(s.progress_min_bps),
            Self::ProgressMax => V::Percent(s.progress_max_bps),
            Self::Blacklist => V::Addresses(s.blacklist.clone()),
            Self::MinScore => V::Milli(s.min_score_milli),
            Self::ImpactMax => V::Percent(s.impact_max_bps),
            Self::Sellability => V::Bool(s.sellability),
            Self::CopySells => V::CopySells(s.copy_sells),
            Self::StopLoss => V::Percent(s.stop_loss_bps),
            Self::Tp1 => V::Percent(s.tp1_bps),
            Self::Trailing => V::Bool(s.trailing),
            Self::BreakEven => V::Bool(s.break_even),
            Self::MaxHold => V::Seconds(s.max_hold_s),
            Self::Ladder => V::Ladder(s.ladder.clone()),
            Self::Signal => V::Signal(s.signal),
            Self::ConsensusWindow => V::Seconds(s.consensus_window_s),
            Self::ConsensusThreshold => V::Milli(s.consensus_threshold_milli),
            Self::ConsensusMinScore => V::Milli(s.consensus_min_score_milli),
            Self::NotifyOnly => V::Bool(s.notify_only),
            Self::Paused => V::Bool(s.paused),
            Self::StopEntry => V::Bool(s.stop_entry),
        }
    }

    /// Writes `v` into `s` when it is this setting's type; a value of
    /// another type is ignored (it cannot come from [`Setting::parse_value`]).
    fn write(self, s: &mut ProfileSettings, v: SettingValue) {
        use SettingValue as V;
        match (self, v) {
            (Self::Mode, V::Mode(m)) => s.mode = m,
            (Self::Wallet, V::Wallet(w)) => s.wallet = w,
            (Self::Slippage, V::Percent(p)) => s.slippage_bps = p,
            (Self::PriorityFee, V::Sol(l)) => s.priority_fee = l,
            (Self::Latency, V::Count(n)) => s.latency_ms = n,
            (Self::BuyMode, V::BuyMode(m)) => s.buy_mode = m,
            (Self::BuySol, V::Sol(l)) => s.buy_sol = l,
            (Self::BuyPct, V::Percent(p)) => s.buy_pct_bps = p,
            (Self::MinBuy, V::Sol(l)) => s.min_buy = l,
            (Self::MaxBuy, V::Sol(l)) => s.max_buy = l,
            (Self::MaxPerTrade, V::Sol(l)) => s.max_per_trade = l,
            (Self::Kelly, V::Bool(b)) => s.kelly = b,
            (Self::KellyFraction, V::Percent(p)) => s.kelly_fraction_bps = p,
            (Self::KellyCap, V::Percent(p)) => s.kelly_cap_bps = p,
            (Self::Bankroll, V::Sol(l)) => s.bankroll = l,
            (Self::LeaderCap, V::Sol(l)) => s.leader_cap = l,
            (Self::DailyCap, V::Sol(l)) => s.daily_cap = l,
            (Self::MaxOpen, V::Count(n)) => s.max_open = n,
            (Self::DailyLossLimit, V::Percent(p)) => s.daily_loss_limit_bps = p,
            (Self::Adaptive, V::Bool(b)) => s.adaptive = b,
            (Self::LeaderMin, V::Sol(l)) => s.leader_min = l,
            (Self::LeaderMax, V::Sol(l)) => s.leader_max = l,
            (Self::FirstBuyOnly, V::Bool(b)) => s.first_buy_only = b,
            (Self::McapMin, V::Sol(l)) => s.mcap_min = l,
            (Self::McapMax, V::Sol(l)) => s.mcap_max = l,
            (Self::AgeMin, V::Seconds(n)) => s.age_min_s = n,
            (Self::AgeMax, V::Seconds(n)) => s.age_max_s = n,
            (Self::ProgressMin, V::Percent(p)) => s.progress_min_bps = p,
            (Self::ProgressMax, V::Percent(p)) => s.progress_max_bps = p,
            (Self::Blacklist, V::Addresses(a)) => s.blacklist = a,
            (Self::MinScore, V::Milli(n)) => s.min_score_milli = n,
            (Self::ImpactMax, V::Percent(p)) => s.impact_max_bps = p,
            (Self::Sellability, V::Bool(b)) => s.sellability = b,
            (Self::CopySells, V::CopySells(c)) => s.copy_sells = c,
            (Self::StopLoss, V::Percent(p)) => s.stop_loss_bps = p,
            (Self::Tp1, V::Percent(p)) => s.tp1_bps = p,
            (Self::Trailing, V::Bool(b)) => s.trailing = b,
            (Self::BreakEven, V::Bool(b)) => s.break_even = b,
            (Self::MaxHold, V::Seconds(n)) => s.max_hold_s = n,
            (Self::Ladder, V::Ladder(l)) => s.ladder = l,
            (Self::Signal, V::Signal(m)) => s.signal = m,
            (Self::ConsensusWindow, V::Seconds(n)) => s.consensus_window_s = n,
            (Self::ConsensusThreshold, V::Milli(n)) => s.consensus_threshold_milli = n,
            (Self::ConsensusMinScore, V::Milli(n)) => s.consensus_min_score_milli = n,
            (Self::NotifyOnly, V::Bool(b)) => s.notify_only = b,
            (Self::Paused, V::Bool(b)) => s.paused = b,
            (Self::StopEntry, V::Bool(b)) => s.stop_entry = b,
            _ => {}
        }
    }

    /// The value a button press gives: the flipped toggle or the next
    /// choice. `None` for typed settings.
    #[must_use]
    pub fn next(self, s: &ProfileSettings) -> Option<SettingValue> {
        use SettingValue as V;
        Some(match self.read(s) {
            V::Bool(b) => V::Bool(!b),
            V::Mode(Mode::Paper) => V::Mode(Mode::Live),
            V::Mode(Mode::Live) => V::Mode(Mode::Paper),
            V::BuyMode(BuyMode::Fixed) => V::BuyMode(BuyMode::LeaderPct),
            V::BuyMode(BuyMode::LeaderPct) => V::BuyMode(BuyMode::Fixed),
            V::CopySells(CopySells::Off) => V::CopySells(CopySells::SamePct),
            V::CopySells(CopySells::SamePct) => V::CopySells(CopySells::SellAll),
            V::CopySells(CopySells::SellAll) => V::CopySells(CopySells::Off),
            V::Signal(SignalMode::PerFollow) => V::Signal(SignalMode::Consensus),
            V::Signal(SignalMode::Consensus) => V::Signal(SignalMode::PerFollow),
            _ => return None,
        })
    }

    /// Parses a typed value for this setting. `current` is needed by the
    /// blacklist, where a typed address is added, or removed when present.
    pub fn parse_value(
        self,
        input: &str,
        current: &ProfileSettings,
    ) -> Result<SettingValue, SettingError> {
        use SettingValue as V;
        let input = input.trim();
        let off = is_off(input);
        Ok(match self {
            Self::Mode => V::Mode(match input.to_ascii_lowercase().as_str() {
                "paper" => Mode::Paper,
                "live" => Mode::Live,
                _ => return Err(not_a_choice(input, "paper, live")),
            }),
            Self::BuyMode => V::BuyMode(match input.to_ascii_lowercase().as_str() {
                "fixed" | "sol" => BuyMode::Fixed,
                "pct" | "percent" | "%" => BuyMode::LeaderPct,
                _ => return Err(not_a_choice(input, "fixed, pct")),
            }),
            Self::CopySells => V::CopySells(match input.to_ascii_lowercase().as_str() {
                "off" | "no" => CopySells::Off,
                "same" | "pct" | "%" => CopySells::SamePct,
                "all" => CopySells::SellAll,
                _ => return Err(not_a_choice(input, "off, same, all")),
            }),
            Self::Signal => V::Signal(match input.to_ascii_lowercase().as_str() {
                "follow" | "each" | "per-follow" => SignalMode::PerFollow,
                "consensus" | "vote" => SignalMode::Consensus,
                _ => return Err(not_a_choice(input, "follow, consensus")),
            }),
            Self::Wallet if off => V::Wallet(None),
            Self::Wallet => V::Wallet(Some(
                Address::parse(input).map_err(|_| SettingError::NotAnAddress(input.to_owned()))?,
            )),
            Self::Blacklist if input.eq_ignore_ascii_case("clear") => V::Addresses(Vec::new()),
            Self::Blacklist => {
                let mut list = current.blacklist.clone();
                for word in input.split([' ', ',', '\n']).filter(|w| !w.is_empty()) {
                    let a = Address::parse(word)
                        .map_err(|_| SettingError::NotAnAddress(word.to_owned()))?;
                    if let Some(i) = list.iter().position(|x| *x == a) {
                        list.remove(i);
                    } else {
                        list.push(a);
                    }
                }
                if list.len() > 100 {
                    return Err(out_of_range(input, "0", "100"));
                }
                V::Addresses(list)
            }
            Self::Ladder if off => V::Ladder(Vec::new()),
            Self::Ladder => V::Ladder(parse_ladder(input)?),
            _ => match self.kind() {
                SettingKind::Toggle => V::Bool(parse_bool(input)?),
                _ => self.parse_number(input, off)?,
            },
        })
    }

    fn parse_number(self, input: &str, off: bool) -> Result<SettingValue, SettingError> {
        use SettingValue as V;
        if off && self.zero_is_off() {
            return Ok(match self.read(&ProfileSettings::default()) {
                V::Sol(_) => V::Sol(Lamports(0)),
                V::Percent(_) => V::Percent(0),
                V::Seconds(_) => V::Seconds(0),
                V::Milli(_) => V::Milli(0),
                _ => V::Count(0),
            });
        }
        let min_sol = if self.zero_is_off() { 0 } else { 1 };
        Ok(match self {
            Self::Slippage => V::Percent(percent(input, 1, 5_000)?),
            Self::BuyPct => V::Percent(percent(input, 1, 100_000)?),
            Self::KellyFraction => V::Percent(percent(input, 1, 10_000)?),
            Self::KellyCap => V::Percent(percent(input, 1, 10_000)?),
            Self::DailyLossLimit => V::Percent(percent(input, 0, 10_000)?),
            Self::ProgressMin | Self::ProgressMax => V::Percent(percent(input, 0, 10_000)?),
            Self::ImpactMax => V::Percent(percent(input, 0, 5_000)?),
            Self::StopLoss => V::Percent(percent(input, 0, 9_900)?),
            Self::Tp1 => V::Percent(percent(input, 0, 1_000_000)?),
            Self::Latency => V::Count(count(input, 0, 10_000)?),
            Self::MaxOpen => V::Count(count(input, 1, 1_000)?),
            Self::AgeMin | Self::AgeMax => V::Seconds(seconds(input, 0, 30 * DAY_S)?),
            Self::MaxHold => V::Seconds(seconds(input, 0, 30 * DAY_S)?),
            Self::ConsensusWindow => V::Seconds(seconds(input, 5, 3_600)?),
            Self::MinScore => V::Milli(milli(input, 0, 2_000)?),
            Self::ConsensusMinScore => V::Milli(milli(input, 0, 2_000)?),
            Self::ConsensusThreshold => V::Milli(milli(input, 100, 100_000)?),
            Self::PriorityFee => V::Sol(sol(input, 0, 1_000_000_000)?),
            _ => V::Sol(sol(input, min_sol, MAX_SOL)?),
        })
    }
}

fn is_off(s: &str) -> bool {
    matches!(
        s.to_ascii_lowercase().as_str(),
        "off" | "none" | "no" | "-" | "0"
    )
}

fn not_a_choice(input: &str, choices: &'static str) -> SettingError {
    SettingError::NotAChoice {
        input: input.to_owned(),
        choices,
    }
}

fn out_of_range(input: &str, min: &str, max: &str) -> SettingError {
    SettingError::OutOfRange {
        input: input.to_owned(),
        min: min.to_owned(),
        max: max.to_owned(),
    }
}

fn parse_bool(s: &str) -> Result<bool, SettingError> {
    match s.to_ascii_lowercase().as_str() {
        "on" | "yes" | "true" | "1" | "si" | "sí" => Ok(true),
        "off" | "no" | "false" | "0" => Ok(false),
        _ => Err(SettingError::NotOnOff(s.to_owned())),
    }
}

/// A decimal with at most `scale` decimals, as an integer times 10^scale.
fn fixed(s: &str, scale: u32) -> Option<u64> {
    let (whole, frac) = s.split_once('.').unwrap_or((s, ""));
    if (whole.is_empty() && frac.is_empty())
        || !whole.chars().all(|c| c.is_ascii_digit())
        || !frac.chars().all(|c| c.is_ascii_digit())
        || frac.len() > scale as usize
    {
        return None;
    }
    let w: u64 = if whole.is_empty() {
        0
    } else {
        whole.parse().ok()?
    };
    let f: u64 = if frac.is_empty() {
        0
    } else {
        format!("{frac:0<width$}", width = scale as usize)
            .parse()
            .ok()?
    };
    w.checked_mul(10u64.pow(scale))?.checked_add(f)
}

fn in_range(
    input: &str,
    v: u64,
    min: u64,
    max: u64,
    show: impl Fn(u64) -> String,
) -> Result<u32, SettingError> {
    if v < min || v > max {
        return Err(out_of_range(input, &show(min), &show(max)));
    }
    u32::try_from(v).map_err(|_| out_of_range(input, &show(min), &show(max)))
}

/// `25`, `25%`, `2.5%` → basis points.
fn percent(input: &str, min: u32, max: u32) -> Result<u32, SettingError> {
    let s = input.trim().trim_end_matches('%').trim();
    let v = fixed(s, 2).ok_or_else(|| SettingError::NotANumber(input.to_owned()))?;
    in_range(input, v, min.into(), max.into(), |b| {
        let b = b as f64 / 100.0;
        format!("{b}%")
    })
}

fn count(input: &str, min: u32, max: u32) -> Result<u32, SettingError> {
    let v: u64 = input
        .trim()
        .parse()
        .map_err(|_| SettingError::NotANumber(input.to_owned()))?;
    in_range(input, v, min.into(), max.into(), |n| n.to_string())
}

/// `90`, `90s`, `15m`, `2h`, `1d` → seconds.
fn seconds(input: &str, min: u32, max: u32) -> Result<u32, SettingError> {
    let s = input.trim().to_ascii_lowercase();
    let (num, unit) = match s.char_indices().find(|(_, c)| c.is_ascii_alphabetic()) {
        Some((i, _)) => (s[..i].trim(), s[i..].trim()),
        None => (s.as_str(), "s"),
    };
    let mult = match unit {
        "s" | "sec" | "secs" => 1,
        "m" | "min" | "mins" => 60,
        "h" | "hr" | "hours" | "hour" => 3_600,
        "d" | "day" | "days" => 86_400,
        _ => return Err(SettingError::NotANumber(input.to_owned())),
    };
    let n: u64 = num
        .parse()
        .map_err(|_| SettingError::NotANumber(input.to_owned()))?;
    let v = n.saturating_mul(mult);
    in_range(input, v, min.into(), max.into(), |n| format!("{n}s"))
}

/// `0.55` → 550.
fn milli(input: &str, min: u32, max: u32) -> Result<u32, SettingError> {
    let v = fixed(input.trim(), 3).ok_or_else(|| SettingError::NotANumber(input.to_owned()))?;
    in_range(input, v, min.into(), max.into(), |m| {
        let m = m as f64 / 1000.0;
        format!("{m}")
    })
}

fn sol(input: &str, min: u64, max: u64) -> Result<Lamports, SettingError> {
    let s = input.trim();
    let s = s
        .strip_suffix("SOL")
        .or_else(|| s.strip_suffix("sol"))
        .unwrap_or(s)
        .trim();
    let v = fixed(s, 9).ok_or_else(|| SettingError::NotSol(input.to_owned()))?;
    if v < min || v > max {
        return Err(out_of_range(
            input,
            &super::money::format_sol(i128::from(min)),
            &super::money::format_sol(i128::from(max)),
        ));
    }
    Ok(Lamports(v))
}

/// `50:25 100:50` → steps at +50% selling 25% and +100% selling 50%.
fn parse_ladder(input: &str) -> Result<Vec<LadderStep>, SettingError> {
    let bad = || SettingError::NotALadder(input.to_owned());
    let mut steps = Vec::new();
    for part in input.split([' ', ',']).filter(|p| !p.is_empty()) {
        let (gain, sell) = part.split_once(':').ok_or_else(bad)?;
        let gain = percent(gain, 1, 1_000_000).map_err(|_| bad())?;
        let sell = percent(sell, 1, 10_000).map_err(|_| bad())?;
        steps.push(LadderStep {
            gain_bps: gain,
            sell_bps: sell,
        });
    }
    if steps.is_empty() || steps.len() > 8 {
        return Err(bad());
    }
    steps.sort_by_key(|s| s.gain_bps);
    if steps.iter().map(|s| s.sell_bps).sum::<u32>() > 10_000 {
        return Err(SettingError::LadderOver100);
    }
    Ok(steps)
}

impl ProfileSettings {
    /// Sets one setting from typed input; on any error `self` is unchanged.
    pub fn set(&mut self, setting: Setting, input: &str) -> Result<(), SettingError> {
        let value = setting.parse_value(input, self)?;
        self.apply(setting, value)
    }

    /// Applies a typed value, then checks the whole profile; on error the
    /// old value is kept.
    pub fn apply(&mut self, setting: Setting, value: SettingValue) -> Result<(), SettingError> {
        let mut next = self.clone();
        setting.write(&mut next, value);
        next.validate()?;
        *self = next;
        Ok(())
    }

    /// Rules across settings.
    pub fn validate(&self) -> Result<(), SettingError> {
        let pairs = [
            (
                self.min_buy.0,
                self.max_buy.0,
                Setting::MinBuy,
                Setting::MaxBuy,
            ),
            (
                self.leader_min.0,
                self.leader_max.0,
                Setting::LeaderMin,
                Setting::LeaderMax,
            ),
            (
                self.mcap_min.0,
                self.mcap_max.0,
                Setting::McapMin,
                Setting::McapMax,
            ),
            (
                u64::from(self.age_min_s),
                u64::from(self.age_max_s),
                Setting::AgeMin,
                Setting::AgeMax,
            ),
            (
                u64::from(self.progress_min_bps),
                u64::from(self.progress_max_bps),
                Setting::ProgressMin,
                Setting::ProgressMax,
            ),
        ];
        for (lo, hi, min, max) in pairs {
            if lo > 0 && hi > 0 && lo > hi {
                return Err(SettingError::MinAboveMax { min, max });
            }
        }
        if self.mode == Mode::Live && self.wallet.is_none() {
            return Err(SettingError::LiveNeedsWallet);
        }
        Ok(())
    }

    /// The profile as one followed wallet sees it.
    #[must_use]
    pub fn with_overrides(&self, overrides: &Overrides) -> Self {
        let mut s = self.clone();
        for (setting, value) in &overrides.0 {
            setting.write(&mut s, value.clone());
        }
        s
    }
}

/// Per-follow overrides of a profile's settings.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Overrides(pub BTreeMap<Setting, SettingValue>);

impl Overrides {
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Sets an override from typed input, checked against the profile it
    /// overrides; on error nothing changes.
    pub fn set(
        &mut self,
        base: &ProfileSettings,
        setting: Setting,
        input: &str,
    ) -> Result<(), SettingError> {
        if !setting.overridable() {
            return Err(SettingError::NotOverridable(setting));
        }
        let effective = base.with_overrides(self);
        let value = setting.parse_value(input, &effective)?;
        self.apply(base, setting, value)
    }

    /// Sets an override to a typed value (a button), checked likewise.
    pub fn apply(
        &mut self,
        base: &ProfileSettings,
        setting: Setting,
        value: SettingValue,
    ) -> Result<(), SettingError> {
        if !setting.overridable() {
            return Err(SettingError::NotOverridable(setting));
        }
        let mut next = self.clone();
        next.0.insert(setting, value);
        base.with_overrides(&next).validate()?;
        *self = next;
        Ok(())
    }

    /// Drops an override (the profile's value applies again).
    pub fn clear(&mut self, setting: Setting) -> bool {
        self.0.remove(&setting).is_some()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProfileNameError {
    #[error("a profile name has 1 to 24 characters")]
    Length,
    #[error("a profile name uses letters, digits, spaces, - and _")]
    Character,
}

/// A profile's display name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ProfileName(String);

impl ProfileName {
    pub fn parse(input: &str) -> Result<Self, ProfileNameError> {
        let s = input.trim();
        let n = s.chars().count();
        if n == 0 || n > 24 {
            return Err(ProfileNameError::Length);
        }
        if !s
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, ' ' | '-' | '_'))
        {
            return Err(ProfileNameError::Character);
        }
        Ok(Self(s.to_owned()))
    }

    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for ProfileName {
    type Error = ProfileNameError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<ProfileName> for String {
    fn from(n: ProfileName) -> Self {
        n.0
    }
}

impl fmt::Display for ProfileName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A stored profile.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Profile {
    pub id: ProfileId,
    pub user: UserRef,
    pub name: ProfileName,
    pub settings: ProfileSettings,
    pub created_ms: i64,
}

/// A followed wallet within a profile.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Follow {
    /// Stored id (short button data for per-follow settings).
    pub id: i64,
    pub profile: ProfileId,
    pub user: UserRef,
    pub wallet: WalletAddress,
    pub overrides: Overrides,
    pub created_ms: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s() -> ProfileSettings {
        ProfileSettings::default()
    }

    #[test]
    fn codes_are_unique_short_and_round_trip() {
        let mut seen = std::collections::HashSet::new();
        for &setting in Setting::ALL {
            assert!(seen.insert(setting.code()), "{setting:?}");
            assert!(setting.code().len() <= 6, "{setting:?}");
            assert_eq!(Setting::parse(setting.code()), Some(setting));
        }
        for section in Section::ALL {
            assert!(Setting::in_section(section).count() > 0);
        }
    }

    #[test]
    fn typed_values_parse_with_units() {
        let mut p = s();
        p.set(Setting::BuySol, "0.25").unwrap();
        assert_eq!(p.buy_sol, Lamports(250_000_000));
        p.set(Setting::BuySol, "1.5 SOL").unwrap();
        assert_eq!(p.buy_sol, Lamports(1_500_000_000));
        p.set(Setting::Slippage, "2.5%").unwrap();
        assert_eq!(p.slippage_bps, 250);
        p.set(Setting::MaxHold, "15m").unwrap();
        assert_eq!(p.max_hold_s, 900);
        p.set(Setting::AgeMax, "2h").unwrap();
        assert_eq!(p.age_max_s, 7_200);
        p.set(Setting::MinScore, "0.55").unwrap();
        assert_eq!(p.min_score_milli, 550);
        p.set(Setting::MaxOpen, "3").unwrap();
        assert_eq!(p.max_open, 3);
        p.set(Setting::DailyCap, "off").unwrap();
        assert_eq!(p.daily_cap, Lamports(0));
        p.set(Setting::Kelly, "on").unwrap();
        assert!(p.kelly);
        p.set(Setting::Ladder, "100:50 50:25").unwrap();
        assert_eq!(
            p.ladder,
            vec![
                LadderStep {
                    gain_bps: 5_000,
                    sell_bps: 2_500
                },
                LadderStep {
                    gain_bps: 10_000,
                    sell_bps: 5_000
                }
            ]
        );
        p.set(Setting::CopySells, "all").unwrap();
        assert_eq!(p.copy_sells, CopySells::SellAll);
    }

    #[test]
    fn bad_values_are_refused_and_keep_the_old_value() {
        let mut p = s();
        let before = p.clone();
        assert!(matches!(
            p.set(Setting::BuySol, "lots"),
            Err(SettingError::NotSol(_))
        ));
        assert!(matches!(
            p.set(Setting::BuySol, "0"),
            Err(SettingError::OutOfRange { .. })
        ));
        assert!(matches!(
            p.set(Setting::Slippage, "80%"),
            Err(SettingError::OutOfRange { .. })
        ));
        assert!(matches!(
            p.set(Setting::MaxHold, "10 fortnights"),
            Err(SettingError::NotANumber(_))
        ));
        assert!(matches!(
            p.set(Setting::Trailing, "maybe"),
            Err(SettingError::NotOnOff(_))
        ));
        assert!(matches!(
            p.set(Setting::Ladder, "50:60 100:60"),
            Err(SettingError::LadderOver100)
        ));
        assert!(matches!(
            p.set(Setting::Mode, "live"),
            Err(SettingError::LiveNeedsWallet)
        ));
        assert!(matches!(
            p.set(Setting::Blacklist, "not-an-address"),
            Err(SettingError::NotAnAddress(_))
        ));
        p.set(Setting::MaxBuy, "1").unwrap();
        let with_max = p.clone();
        assert_eq!(
            p.set(Setting::MinBuy, "2"),
            Err(SettingError::MinAboveMax {
                min: Setting::MinBuy,
                max: Setting::MaxBuy
            })
        );
        assert_eq!(p, with_max);
        assert_eq!(before.max_buy, Lamports(0));
    }

    #[test]
    fn buttons_flip_toggles_and_cycle_choices() {
        let p = s();
        assert_eq!(Setting::Trailing.next(&p), Some(SettingValue::Bool(false)));
        assert_eq!(
            Setting::CopySells.next(&p),
            Some(SettingValue::CopySells(CopySells::SellAll))
        );
        assert_eq!(Setting::BuySol.next(&p), None);
    }

    #[test]
    fn blacklist_typing_adds_and_removes() {
        let a = Address::from_bytes([9; 32]);
        let mut p = s();
        p.set(Setting::Blacklist, &a.to_string()).unwrap();
        assert_eq!(p.blacklist, vec![a]);
        p.set(Setting::Blacklist, &a.to_string()).unwrap();
        assert!(p.blacklist.is_empty());
    }

    #[test]
    fn overrides_apply_over_the_profile_and_are_checked() {
        let mut base = s();
        base.set(Setting::MaxBuy, "1").unwrap();
        let mut o = Overrides::default();
        o.set(&base, Setting::BuySol, "0.5").unwrap();
        assert_eq!(base.with_overrides(&o).buy_sol, Lamports(500_000_000));
        assert_eq!(
            o.set(&base, Setting::Bankroll, "5"),
            Err(SettingError::NotOverridable(Setting::Bankroll))
        );
        assert!(o.set(&base, Setting::MinBuy, "3").is_err());
        assert_eq!(o.0.len(), 1);
        let json = serde_json::to_string(&o).unwrap();
        assert_eq!(json, r#"{"bsol":{"sol":500000000}}"#);
        assert_eq!(serde_json::from_str::<Overrides>(&json).unwrap(), o);
        assert!(o.clear(Setting::BuySol));
    }

    #[test]
    fn settings_json_fills_missing_fields_with_defaults() {
        let p: ProfileSettings = serde_json::from_str(r#"{"buy_sol":5}"#).unwrap();
        assert_eq!(p.buy_sol, Lamports(5));
        assert_eq!(p.max_hold_s, 900);
        let round: ProfileSettings =
            serde_json::from_str(&serde_json::to_string(&s()).unwrap()).unwrap();
        assert_eq!(round, s());
    }

    #[test]
    fn profile_names() {
        assert!(ProfileName::parse("Main").is_ok());
        assert!(ProfileName::parse("degen 2_x-y").is_ok());
        assert_eq!(ProfileName::parse("  "), Err(ProfileNameError::Length));
        assert_eq!(
            ProfileName::parse(&"x".repeat(25)),
            Err(ProfileNameError::Length)
        );
        assert_eq!(
            ProfileName::parse("a;drop"),
            Err(ProfileNameError::Character)
        );
    }

    proptest::proptest! {
        #[test]
        fn parsing_never_panics(input in "\\PC{0,40}") {
            let p = ProfileSettings::default();
            for &setting in Setting::ALL {
                let _ = setting.parse_value(&input, &p);
            }
        }
    }
}
