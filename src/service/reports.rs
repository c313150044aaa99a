//! Reports for the chat layer: `/status`, `/profit`, `/daily` and `/why`.
//! Closed round trips and the skip log come from the store; open positions
//! and risk states from the engine, valued at the last known prices.

use anyhow::Context as _;

use super::Core;
use crate::domain::{Address, DecisionRecord, Profile, RiskTier, UserRef};
use crate::engine::PositionView;
use crate::engine::copy::reports::{self, DayLine, ProfitReport};

/// One profile's part of `/status`.
#[derive(Debug, Clone)]
pub struct ProfileStatus {
    pub profile: Profile,
    pub positions: Vec<PositionView>,
    pub tier: RiskTier,
    /// Entries made today.
    pub trades_today: u32,
    pub realized_today: i64,
    /// Entries rest until then (a losing streak's cooldown).
    pub cooldown_until_ms: Option<i64>,
    pub loss_limit_hit: bool,
}

/// `/status`: every profile with its open positions and risk state.
#[derive(Debug, Clone)]
pub struct Status {
    pub profiles: Vec<ProfileStatus>,
    pub active: Option<crate::domain::ProfileId>,
    pub now_ms: i64,
}

/// `/profit` for one profile.
#[derive(Debug, Clone)]
pub struct Profit {
    pub profile: Profile,
    pub report: ProfitReport,
    /// The user's other profiles (buttons to switch).
    pub others: Vec<Profile>,
}

/// `/daily` for one profile.
#[derive(Debug, Clone)]
pub struct Daily {
    pub profile: Profile,
    pub days: Vec<DayLine>,
    pub others: Vec<Profile>,
}

/// Days `/daily` shows.
pub const DAILY_DAYS: u32 = 7;
/// Decisions `/why` shows.
pub const WHY_LIMIT: u32 = 10;

impl Core {
    pub async fn status(&self, user: UserRef) -> anyhow::Result<Status> {
        let record = self.store.get_user(user).await.context("get user")?;
        let profiles = self.profiles(user).await?;
        let positions = self.positions_of(user);
        let now = self.engine_now_ms();
        let e = self.engine();
        let out = profiles
            .into_iter()
            .map(|profile| {
                let risk = e.copy().risk(profile.id).cloned().unwrap_or_default();
                let today = risk.day == now.div_euclid(crate::engine::copy::risk::DAY_MS);
                ProfileStatus {
                    positions: positions
                        .iter()
                        .filter(|v| v.position.profile == profile.id)
                        .cloned()
                        .collect(),
                    tier: if today { risk.tier } else { RiskTier::Normal },
                    trades_today: if today { risk.trades } else { 0 },
                    realized_today: if today { risk.realized } else { 0 },
                    cooldown_until_ms: (risk.cooldown_until_ms > now)
                        .then_some(risk.cooldown_until_ms),
                    loss_limit_hit: today && risk.loss_limit_hit,
                    profile,
                }
            })
            .collect();
        Ok(Status {
            profiles: out,
            active: record.and_then(|r| r.active_profile),
            now_ms: now,
        })
    }

    /// The profile a report is about: the given one (if the user's), else
    /// the active one; and the user's others.
    async fn report_profile(
        &self,
        user: UserRef,
        profile: Option<crate::domain::ProfileId>,
    ) -> anyhow::Result<(Profile, Vec<Profile>)> {
        let record = self.user(user, None).await?;
        let all = self.profiles(user).await?;
        let chosen = match profile.and_then(|id| all.iter().find(|p| p.id == id)) {
            Some(p) => p.clone(),
            None => self.active_profile(&record).await?,
        };
        let others = all.into_iter().filter(|p| p.id != chosen.id).collect();
        Ok((chosen, others))
    }

    pub async fn profit(
        &self,
        user: UserRef,
        profile: Option<crate::domain::ProfileId>,
    ) -> anyhow::Result<Profit> {
        let (profile, others) = self.report_profile(user, profile).await?;
        let trips = self
            .store
            .round_trips(Some(profile.id), 0)
            .await
            .context("load round trips")?;
        let (mut open_realized, mut unrealized) = (0i64, 0i64);
        for v in self
            .positions_of(user)
            .iter()
            .filter(|v| v.position.profile == profile.id)
        {
            open_realized = open_realized.saturating_add(v.position.realized_pnl);
            unrealized = unrealized.saturating_add(v.unrealized_pnl.unwrap_or(0));
        }
        Ok(Profit {
            report: reports::profit(&trips, open_realized, unrealized),
            profile,
            others,
        })
    }

    pub async fn daily(
        &self,
        user: UserRef,
        profile: Option<crate::domain::ProfileId>,
    ) -> anyhow::Result<Daily> {
        let (profile, others) = self.report_profile(user, profile).await?;
        let now = self.engine_now_ms();
        let since = now - i64::from(DAILY_DAYS) * crate::engine::copy::risk::DAY_MS;
        let trips = self
            .store
            .round_trips(Some(profile.id), since)
            .await
            .context("load round trips")?;
        Ok(Daily {
            days: reports::daily(&trips, now, DAILY_DAYS),
            profile,
            others,
        })
    }

    /// The user's latest copy decisions about a mint or leader (or all).
    pub async fn why(
        &self,
        user: UserRef,
        about: Option<Address>,
    ) -> anyhow::Result<Vec<DecisionRecord>> {
        self.store
            .decisions_of(user, about, WHY_LIMIT)
            .await
            .context("load decisions")
    }
}
