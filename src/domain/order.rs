//! The copy pipeline's vocabulary: orders and their idempotency keys, what
//! an executor reports back, why a copy was not made, the skip log, closed
//! round trips, risk tiers and notification preferences.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::{
    Lamports, Mint, Mode, ProfileId, Side, Signature, TokenAmount, UserRef, WalletAddress,
};

/// Why a position was (partly) sold. Recorded on every sell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExitReason {
    /// The copied leader sold.
    LeaderSold,
    StopLoss,
    /// First take-profit (a part of the position).
    TakeProfit,
    /// Fell back from its peak.
    Trailing,
    /// Fell back to cost after being up.
    BreakEven,
    /// Held for the longest time allowed.
    MaxHold,
    /// A take-profit ladder step (1-based).
    Ladder(u8),
}

impl ExitReason {
    #[must_use]
    pub const fn code(self) -> &'static str {
        match self {
            Self::LeaderSold => "leader_sold",
            Self::StopLoss => "stop_loss",
            Self::TakeProfit => "take_profit",
            Self::Trailing => "trailing",
            Self::BreakEven => "break_even",
            Self::MaxHold => "max_hold",
            Self::Ladder(_) => "ladder",
        }
    }
}

/// What an order is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Intent {
    /// A followed leader's buy, copied.
    Copy,
    /// Followed leaders agreed on a mint (weighted votes).
    Consensus { voters: u16, weight_milli: u32 },
    /// A position rule (or the leader's sell) closes some or all of it.
    Exit(ExitReason),
}

/// The key that makes an order happen at most once: stored before the
/// order is sent, unique in the store. A copy of a leader trade is keyed by
/// (profile, leader signature, side); an exit by the position and how many
/// exits it had.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    #[must_use]
    pub fn copy(profile: ProfileId, leader_signature: &Signature, side: Side) -> Self {
        use std::fmt::Write as _;
        // Sized once: one allocation per order on the hot path.
        let sig = leader_signature.as_str();
        let mut s = String::with_capacity(sig.len() + 24);
        let _ = write!(s, "{}", profile.0);
        s.push(':');
        s.push_str(sig);
        s.push(':');
        s.push_str(side_code(side));
        Self(s)
    }

    #[must_use]
    pub fn exit(
        profile: ProfileId,
        leader: &WalletAddress,
        mint: &Mint,
        opened_ms: i64,
        n: u32,
    ) -> Self {
        Self(format!("{profile}:x:{mint}:{leader}:{opened_ms}:{n}"))
    }

    /// A key read back from the store (written by one of the constructors).
    #[must_use]
    pub const fn from_stored(s: String) -> Self {
        Self(s)
    }

    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

const fn side_code(side: Side) -> &'static str {
    match side {
        Side::Buy => "b",
        Side::Sell => "s",
    }
}

impl fmt::Display for IdempotencyKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for IdempotencyKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Key({})", self.0)
    }
}

/// An order the risk step approved (the engine hands it out only as
/// `RiskApproved<Order>`). Buys spend `sol_in` (fees included); sells sell
/// `tokens_in`. `expected_out` is what the curve gave at decision time
/// (tokens for a buy, lamports for a sell); less than `min_out` is a skip.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Order {
    pub key: IdempotencyKey,
    pub profile: ProfileId,
    pub user: UserRef,
    pub mode: Mode,
    /// The signing wallet (live).
    pub wallet: Option<WalletAddress>,
    pub leader: WalletAddress,
    pub mint: Mint,
    pub side: Side,
    pub intent: Intent,
    pub sol_in: Lamports,
    pub tokens_in: TokenAmount,
    pub expected_out: u64,
    pub min_out: u64,
    pub slippage_bps: u32,
    pub priority_fee: Lamports,
    /// Paper fills are priced this long after `trigger_ms`.
    pub latency_ms: u32,
    /// When the trade (or price move) that caused the order happened.
    pub trigger_ms: i64,
    /// The engine's handle on the order while it is in flight in this
    /// process (0 = none: an order read back from the store). Not stored.
    #[serde(skip)]
    pub ticket: u64,
}

impl Order {
    /// The position this order moves.
    #[must_use]
    pub const fn position_key(&self) -> (ProfileId, WalletAddress, Mint) {
        (self.profile, self.leader, self.mint)
    }
}

/// What an executor did with an order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Execution {
    /// `sol` paid (buy, every fee included) or received (sell, net of every
    /// fee); `fee` is the part that went to fees (curve, network, priority).
    Filled {
        sol: Lamports,
        tokens: TokenAmount,
        fee: Lamports,
        /// The transaction (live).
        tx: Option<Signature>,
        at_ms: i64,
    },
    /// Not executed; nothing changed on chain.
    Rejected { reason: SkipReason, at_ms: i64 },
}

/// Why a token failed the live-mode mint screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ScreenReason {
    /// Someone can move anyone's tokens.
    PermanentDelegate,
    /// A program runs on every transfer (can block sells).
    TransferHook,
    /// Someone can freeze token accounts.
    FreezeAuthority,
    /// The account is not a token mint.
    NotAMint,
    /// The mint's extension data cannot be read.
    Malformed,
}

/// Why a copy was not made, or an order not executed. Every refusal of the
/// engine, the risk step and the executors is one of these; `chat/` renders
/// each in the user's language with its figures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "reason")]
pub enum SkipReason {
    /// The token left the bonding curve (PumpSwap); fills need a curve.
    OffCurve,
    /// The curve is complete: nothing left to buy.
    CurveComplete,
    /// The size buys nothing at the current price.
    TooSmall,
    /// The leader sold but the profile holds nothing copied from them.
    NoPosition,
    /// The copied buy has not filled yet.
    EntryPending,
    /// A sell of this position is already under way.
    SellPending,
    Paused,
    StopEntry,
    NotifyOnly,
    CopySellsOff,
    LeaderTooSmall {
        sol: Lamports,
        min: Lamports,
    },
    LeaderTooLarge {
        sol: Lamports,
        max: Lamports,
    },
    /// First-buy-only: this profile already entered the token.
    FirstBuyOnly,
    Blacklisted,
    McapTooLow {
        mcap: Lamports,
        min: Lamports,
    },
    McapTooHigh {
        mcap: Lamports,
        max: Lamports,
    },
    TooYoung {
        age_s: u32,
        min_s: u32,
    },
    TooOld {
        age_s: u32,
        max_s: u32,
    },
    /// An age gate is set and the token's launch was not seen.
    AgeUnknown,
    ProgressTooLow {
        bps: u32,
        min: u32,
    },
    ProgressTooHigh {
        bps: u32,
        max: u32,
    },
    /// The leader's score is below what the profile (or its risk tier)
    /// requires.
    LowScore {
        score_milli: u32,
        min_milli: u32,
    },
    /// No sell by a wallet other than the creator in the last minute.
    NotSellable,
    PriceImpact {
        bps: u32,
        max: u32,
    },
    MaxOpen {
        max: u32,
    },
    DailyCap {
        cap: Lamports,
    },
    LeaderCap {
        cap: Lamports,
    },
    /// The day's entries are used up (the tier sets how many).
    MaxTrades {
        max: u32,
        tier: RiskTier,
    },
    /// Too soon after the last entry (the tier sets the spacing).
    Spacing {
        wait_s: u32,
        tier: RiskTier,
    },
    /// Resting after a losing streak.
    Cooldown {
        until_ms: i64,
        losses: u32,
    },
    DailyLossLimit {
        pnl: i64,
        limit: Lamports,
    },
    /// Kelly sizing found no edge (the bet would be zero or negative).
    KellyNoEdge,
    /// Consensus: the votes so far do not reach the threshold.
    ConsensusPending {
        sum_milli: u32,
        needed_milli: u32,
    },
    /// Consensus: enough weight, but no voter scores high enough.
    ConsensusNoStrongVoter {
        best_milli: u32,
        needed_milli: u32,
    },
    /// Consensus already entered this mint.
    ConsensusEntered,
    /// The fill would have been worse than the slippage allows.
    Slippage {
        expected: u64,
        got: u64,
    },
    /// Live mode without a wallet.
    NoWallet,
    /// Live trading is not set up in this process (no live executor).
    LiveOff,
    /// The stored key does not sign for the profile's wallet.
    WrongKey,
    InsufficientFunds {
        need: Lamports,
        have: Lamports,
    },
    TokenScreen {
        screen: ScreenReason,
    },
    /// The swap API gave no route or failed.
    QuoteFailed,
    /// The transaction failed on chain (reported, not retried blindly).
    TxFailed,
    /// The transaction never landed before its blockhash expired, twice.
    Expired,
    /// The process stopped before the order was executed.
    Interrupted,
    /// The same order (idempotency key) was already recorded.
    Duplicate,
}

/// Daily-PnL risk tiers: the deeper the day's loss (as a share of the
/// bankroll), the fewer and more selective the entries.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum RiskTier {
    #[default]
    Normal,
    /// Down 2% or more today.
    Caution,
    /// Down 4% or more.
    Defensive,
    /// Down 6% or more.
    Critical,
}

impl RiskTier {
    pub const ALL: [Self; 4] = [Self::Normal, Self::Caution, Self::Defensive, Self::Critical];

    #[must_use]
    pub const fn code(self) -> &'static str {
        match self {
            Self::Normal => "normal",
            Self::Caution => "caution",
            Self::Defensive => "defensive",
            Self::Critical => "critical",
        }
    }
}

/// A change of a profile's risk state worth telling its owner.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "event")]
pub enum RiskEvent {
    /// The day's PnL moved the profile to another tier.
    TierChanged {
        from: RiskTier,
        to: RiskTier,
        daily_pnl: i64,
    },
    /// A losing streak started a cooldown.
    Cooldown { until_ms: i64, losses: u32 },
    /// The day's loss reached the limit: no entries until tomorrow (UTC).
    LossLimit { pnl: i64, limit: Lamports },
}

/// A copy decision as the skip log keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "verdict")]
pub enum Verdict {
    /// An order was approved and handed to the executor.
    Placed {
        key: IdempotencyKey,
        intent: Intent,
        sol: Lamports,
        tokens: TokenAmount,
    },
    Skipped {
        reason: SkipReason,
    },
    /// The executor filled it.
    Filled {
        key: IdempotencyKey,
        sol: Lamports,
        tokens: TokenAmount,
    },
    /// The executor refused or failed it.
    Rejected {
        key: IdempotencyKey,
        reason: SkipReason,
    },
}

/// One entry of the skip log (`/why`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DecisionRecord {
    pub profile: ProfileId,
    pub user: UserRef,
    pub leader: WalletAddress,
    pub mint: Mint,
    pub side: Side,
    /// The leader trade it answers, when there was one.
    pub signature: Option<Signature>,
    pub at_ms: i64,
    pub verdict: Verdict,
}

/// A closed position: everything bought and sold, for reports.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoundTrip {
    pub profile: ProfileId,
    pub user: UserRef,
    pub leader: WalletAddress,
    pub mint: Mint,
    pub mode: Mode,
    pub opened_ms: i64,
    pub closed_ms: i64,
    /// SOL paid for every buy, fees included.
    pub cost: Lamports,
    /// SOL received from every sell, net of fees.
    pub proceeds: Lamports,
    pub pnl: i64,
    /// Why the last part was sold.
    pub exit: ExitReason,
}

impl RoundTrip {
    /// PnL as a share of cost, in basis points.
    #[must_use]
    pub fn roi_bps(&self) -> i64 {
        if self.cost.0 == 0 {
            return 0;
        }
        i64::try_from(i128::from(self.pnl) * 10_000 / i128::from(self.cost.0)).unwrap_or(0)
    }
}

/// What a notification is about; each is switched per user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NotifyKind {
    /// A followed wallet traded (with what each profile did).
    Alerts,
    /// Copy fills and failed orders.
    Fills,
    /// Exits by rule (take profit, trailing, break-even, max hold, ladder).
    Exits,
    /// A position closed at +50% or more.
    BigWins,
    StopLosses,
    /// Risk tier changes, cooldowns, the daily loss limit.
    Risk,
    /// Leaderboard tier changes of followed wallets.
    Tiers,
    /// The daily list of wallets new to the top of the leaderboards.
    Discoveries,
}

impl NotifyKind {
    pub const ALL: [Self; 8] = [
        Self::Alerts,
        Self::Fills,
        Self::Exits,
        Self::BigWins,
        Self::StopLosses,
        Self::Risk,
        Self::Tiers,
        Self::Discoveries,
    ];

    #[must_use]
    pub const fn code(self) -> &'static str {
        match self {
            Self::Alerts => "alerts",
            Self::Fills => "fills",
            Self::Exits => "exits",
            Self::BigWins => "wins",
            Self::StopLosses => "sl",
            Self::Risk => "risk",
            Self::Tiers => "tiers",
            Self::Discoveries => "new",
        }
    }

    #[must_use]
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.code() == s)
    }
}

/// How a kind of notification is delivered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NotifyLevel {
    #[default]
    On,
    /// Delivered without a sound.
    Silent,
    Off,
}

impl NotifyLevel {
    /// The next level a button press gives.
    #[must_use]
    pub const fn next(self) -> Self {
        match self {
            Self::On => Self::Silent,
            Self::Silent => Self::Off,
            Self::Off => Self::On,
        }
    }
}

/// A user's notification switches (anything unset is on).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct NotifyPrefs(pub std::collections::BTreeMap<NotifyKind, NotifyLevel>);

impl NotifyPrefs {
    #[must_use]
    pub fn level(&self, kind: NotifyKind) -> NotifyLevel {
        self.0.get(&kind).copied().unwrap_or_default()
    }

    pub fn set(&mut self, kind: NotifyKind, level: NotifyLevel) {
        if level == NotifyLevel::On {
            self.0.remove(&kind);
        } else {
            self.0.insert(kind, level);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Platform;

    #[test]
    fn keys_name_profile_trade_and_side() {
        let sig = Signature::from_bytes(&[7; 64]);
        let k = IdempotencyKey::copy(ProfileId(3), &sig, Side::Buy);
        assert_eq!(k.as_str(), format!("3:{sig}:b"));
        assert_ne!(k, IdempotencyKey::copy(ProfileId(3), &sig, Side::Sell));
        assert_ne!(k, IdempotencyKey::copy(ProfileId(4), &sig, Side::Buy));
        let w = WalletAddress::from_bytes([1; 32]);
        let e = IdempotencyKey::exit(ProfileId(3), &w, &w, 5, 1);
        assert_ne!(e, IdempotencyKey::exit(ProfileId(3), &w, &w, 5, 2));
        assert!(e.as_str().len() < 200);
    }

    #[test]
    fn reasons_serialize_with_their_figures() {
        let r = SkipReason::Spacing {
            wait_s: 42,
            tier: RiskTier::Caution,
        };
        let json = serde_json::to_string(&r).unwrap();
        assert_eq!(json, r#"{"reason":"spacing","wait_s":42,"tier":"caution"}"#);
        assert_eq!(serde_json::from_str::<SkipReason>(&json).unwrap(), r);
        let rec = DecisionRecord {
            profile: ProfileId(1),
            user: UserRef::new(Platform::Telegram, 9),
            leader: WalletAddress::from_bytes([2; 32]),
            mint: WalletAddress::from_bytes([3; 32]),
            side: Side::Buy,
            signature: None,
            at_ms: 1,
            verdict: Verdict::Skipped {
                reason: SkipReason::TokenScreen {
                    screen: ScreenReason::TransferHook,
                },
            },
        };
        let back: DecisionRecord =
            serde_json::from_str(&serde_json::to_string(&rec).unwrap()).unwrap();
        assert_eq!(back, rec);
    }

    #[test]
    fn notify_prefs_default_on_and_cycle() {
        let mut p = NotifyPrefs::default();
        assert_eq!(p.level(NotifyKind::Fills), NotifyLevel::On);
        p.set(NotifyKind::Fills, NotifyLevel::On.next());
        assert_eq!(p.level(NotifyKind::Fills), NotifyLevel::Silent);
        p.set(NotifyKind::Fills, NotifyLevel::Off.next());
        assert!(p.0.is_empty());
        for k in NotifyKind::ALL {
            assert_eq!(NotifyKind::parse(k.code()), Some(k));
        }
    }

    #[test]
    fn round_trip_roi() {
        let w = WalletAddress::from_bytes([2; 32]);
        let rt = RoundTrip {
            profile: ProfileId(1),
            user: UserRef::new(Platform::Telegram, 9),
            leader: w,
            mint: w,
            mode: Mode::Paper,
            opened_ms: 0,
            closed_ms: 1,
            cost: Lamports(100),
            proceeds: Lamports(150),
            pnl: 50,
            exit: ExitReason::Trailing,
        };
        assert_eq!(rt.roi_bps(), 5_000);
    }
}
