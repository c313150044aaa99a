//! Profiles and follows as the chat layer changes them: every change is
//! stored first, then taught to the engine, then to the feed's
//! subscriptions. Ownership is checked here: a user only ever reaches their
//! own profiles and follows, whatever a button's data says.

use std::sync::Arc;

use anyhow::Context as _;

use super::Core;
use crate::domain::ports::UserRecord;
use crate::domain::{
    Follow, Mode, Profile, ProfileId, ProfileName, Setting, SettingError, SettingValue, UserRef,
    WalletAddress,
};
use crate::engine::FollowChange;

/// The most profiles one user may have.
pub const MAX_PROFILES: usize = 10;
/// The most wallets one profile may follow.
pub const MAX_FOLLOWS: usize = 100;

/// Why a profile change was refused (rendered for users by `chat/`).
#[derive(Debug, thiserror::Error)]
pub enum ProfileError {
    #[error("a profile with that name exists")]
    NameTaken,
    #[error("at most {max} profiles")]
    TooMany { max: usize },
    #[error("at most {max} wallets per profile")]
    TooManyFollows { max: usize },
    #[error("no such profile or follow")]
    NotFound,
    #[error("the profile has {count} open positions")]
    HasOpenPositions { count: usize },
    #[error("the last profile cannot be deleted")]
    LastProfile,
    #[error(transparent)]
    Setting(#[from] SettingError),
    /// Live mode's wallet must be one of the user's stored keys.
    #[error("that wallet is not one of your keys")]
    UnknownWallet,
    #[error("that key is archived")]
    ArchivedWallet,
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

/// How a setting changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SettingChange<'a> {
    /// A typed value.
    Typed(&'a str),
    /// A button: the flipped toggle or the next choice.
    Next,
    /// Drop a per-follow override (the profile's value applies).
    Clear,
}

impl Core {
    /// The user's first profile is made on first contact.
    pub(super) async fn ensure_profile(&self, user: &UserRecord) -> anyhow::Result<Profile> {
        if let Some(p) = self
            .store
            .profiles_of(user.user)
            .await
            .context("list profiles")?
            .into_iter()
            .next()
        {
            return Ok(p);
        }
        let name = ProfileName::parse("main").context("the default profile name")?;
        let settings = self.defaults_for(user.user).await?;
        let profile = self
            .store
            .create_profile(user.user, &name, &settings, self.now_ms())
            .await
            .context("create the first profile")?
            .context("the first profile's name is taken")?;
        self.engine().upsert_profile(profile.clone());
        Ok(profile)
    }

    /// A user's profiles, oldest first.
    pub async fn profiles(&self, user: UserRef) -> anyhow::Result<Vec<Profile>> {
        self.store.profiles_of(user).await.context("list profiles")
    }

    /// The profile `/track` and follow buttons add to: the active one, else
    /// the first.
    pub async fn active_profile(&self, user: &UserRecord) -> anyhow::Result<Profile> {
        let profiles = self.profiles(user.user).await?;
        if let Some(p) = user
            .active_profile
            .and_then(|id| profiles.iter().find(|p| p.id == id))
        {
            return Ok(p.clone());
        }
        match profiles.into_iter().next() {
            Some(p) => Ok(p),
            None => self.ensure_profile(user).await,
        }
    }

    /// One of the user's profiles.
    pub async fn profile_of(&self, user: UserRef, id: ProfileId) -> Result<Profile, ProfileError> {
        match self.store.get_profile(id).await? {
            Some(p) if p.user == user => Ok(p),
            _ => Err(ProfileError::NotFound),
        }
    }

    /// Creates a profile with the default settings; it becomes the active
    /// one.
    pub async fn create_profile(
        &self,
        user: &UserRecord,
        name: &ProfileName,
    ) -> Result<Profile, ProfileError> {
        if self.profiles(user.user).await?.len() >= MAX_PROFILES {
            return Err(ProfileError::TooMany { max: MAX_PROFILES });
        }
        let settings = self.defaults_for(user.user).await?;
        let profile = self
            .store
            .create_profile(user.user, name, &settings, self.now_ms())
            .await?
            .ok_or(ProfileError::NameTaken)?;
        self.store
            .set_active_profile(user.user, profile.id)
            .await
            .context("make the new profile active")?;
        self.engine().upsert_profile(profile.clone());
        Ok(profile)
    }

    pub async fn set_active(&self, user: UserRef, id: ProfileId) -> Result<Profile, ProfileError> {
        let profile = self.profile_of(user, id).await?;
        self.store
            .set_active_profile(user, id)
            .await
            .context("set the active profile")?;
        Ok(profile)
    }

    pub async fn rename_profile(
        &self,
        user: UserRef,
        id: ProfileId,
        name: &ProfileName,
    ) -> Result<Profile, ProfileError> {
        let mut profile = self.profile_of(user, id).await?;
        if !self
            .store
            .update_profile(id, name, &profile.settings)
            .await?
        {
            return Err(ProfileError::NameTaken);
        }
        profile.name = name.clone();
        self.engine().upsert_profile(profile.clone());
        Ok(profile)
    }

    /// Deletes a profile with no open positions (and not the last one).
    pub async fn delete_profile(&self, user: UserRef, id: ProfileId) -> Result<(), ProfileError> {
        let profile = self.profile_of(user, id).await?;
        if self.profiles(user).await?.len() <= 1 {
            return Err(ProfileError::LastProfile);
        }
        let open = self
            .engine()
            .positions_of(user)
            .iter()
            .filter(|v| v.position.profile == profile.id)
            .count();
        if open > 0 {
            return Err(ProfileError::HasOpenPositions { count: open });
        }
        self.store
            .delete_profile(id)
            .await
            .context("delete the profile")?;
        // The active profile moves to the oldest one left.
        if let Some(first) = self.profiles(user).await?.first() {
            self.store
                .set_active_profile(user, first.id)
                .await
                .context("move the active profile")?;
        }
        let gone = self.engine().remove_profile(id);
        for w in gone {
            self.feed.unsubscribe(w);
        }
        Ok(())
    }

    /// Changes one setting of a profile; a bad value is refused and the
    /// old one kept.
    pub async fn change_setting(
        &self,
        user: UserRef,
        id: ProfileId,
        setting: Setting,
        change: SettingChange<'_>,
    ) -> Result<Profile, ProfileError> {
        let mut profile = self.profile_of(user, id).await?;
        let value = match change {
            SettingChange::Typed(input) => setting.parse_value(input, &profile.settings)?,
            SettingChange::Next | SettingChange::Clear => match setting.next(&profile.settings) {
                Some(v) => v,
                None => return Ok(profile),
            },
        };
        self.check_wallet(user, &value).await?;
        profile.settings.apply(setting, value)?;
        if !self
            .store
            .update_profile(id, &profile.name, &profile.settings)
            .await?
        {
            return Err(ProfileError::NotFound);
        }
        self.engine().upsert_profile(profile.clone());
        Ok(profile)
    }

    /// A live wallet must be one the user's keys sign for.
    async fn check_wallet(&self, user: UserRef, value: &SettingValue) -> Result<(), ProfileError> {
        if let SettingValue::Wallet(Some(w)) = value {
            match self.store.get_key(user, *w).await? {
                None => return Err(ProfileError::UnknownWallet),
                // An archived key is hidden and must not trade.
                Some(k) if k.archived_ms.is_some() => return Err(ProfileError::ArchivedWallet),
                Some(_) => {}
            }
        }
        Ok(())
    }

    /// Follows a wallet in the user's active profile; returns the profile,
    /// the follow and whether it is new.
    pub async fn follow(
        &self,
        user: &UserRecord,
        wallet: WalletAddress,
    ) -> Result<(Profile, Follow, bool), ProfileError> {
        let profile = self.active_profile(user).await?;
        let (follow, new) = self.follow_into(&profile, wallet).await?;
        Ok((profile, follow, new))
    }

    /// Follows a wallet in a given profile (the caller checked ownership).
    pub async fn follow_into(
        &self,
        profile: &Profile,
        wallet: WalletAddress,
    ) -> Result<(Follow, bool), ProfileError> {
        let count = self
            .store
            .follows_of(profile.user)
            .await
            .context("list follows")?
            .iter()
            .filter(|f| f.profile == profile.id)
            .count();
        if count >= MAX_FOLLOWS {
            return Err(ProfileError::TooManyFollows { max: MAX_FOLLOWS });
        }
        let (follow, new) = self
            .store
            .add_follow(profile.id, wallet, self.now_ms())
            .await
            .context("store the follow")?;
        let change = {
            let mut e = self.engine();
            if e.copy().profile(profile.id).is_none() {
                e.upsert_profile(profile.clone());
            }
            e.follow(&follow)
        };
        if change == FollowChange::FirstFollower {
            self.feed.subscribe(wallet);
        }
        Ok((follow, new))
    }

    /// Stops following a wallet in every profile of the user; `false` if
    /// none followed it.
    pub async fn unfollow(&self, user: UserRef, wallet: WalletAddress) -> anyhow::Result<bool> {
        let follows = self.follows(user).await?;
        let mut removed = false;
        for f in follows.iter().filter(|f| f.wallet == wallet) {
            removed |= self.unfollow_in(f.profile, wallet).await?;
        }
        Ok(removed)
    }

    /// Stops following a wallet in one of the user's profiles.
    pub async fn unfollow_from(
        &self,
        user: UserRef,
        id: ProfileId,
        wallet: WalletAddress,
    ) -> Result<bool, ProfileError> {
        self.profile_of(user, id).await?;
        Ok(self.unfollow_in(id, wallet).await?)
    }

    async fn unfollow_in(&self, id: ProfileId, wallet: WalletAddress) -> anyhow::Result<bool> {
        let removed = self
            .store
            .remove_follow(id, wallet)
            .await
            .context("store the unfollow")?;
        let change = self.engine().unfollow(id, wallet);
        if change == FollowChange::LastUnfollow {
            self.feed.unsubscribe(wallet);
        }
        Ok(removed)
    }

    /// A user's follows across profiles, oldest first.
    pub async fn follows(&self, user: UserRef) -> anyhow::Result<Vec<Follow>> {
        self.store.follows_of(user).await.context("list follows")
    }

    /// One of the user's follows, with its profile.
    pub async fn follow_of(
        &self,
        user: UserRef,
        follow_id: i64,
    ) -> Result<(Profile, Follow), ProfileError> {
        let follow = match self.store.get_follow(follow_id).await? {
            Some(f) if f.user == user => f,
            _ => return Err(ProfileError::NotFound),
        };
        let profile = self.profile_of(user, follow.profile).await?;
        Ok((profile, follow))
    }

    /// Changes (or clears) one per-follow override.
    pub async fn change_override(
        &self,
        user: UserRef,
        follow_id: i64,
        setting: Setting,
        change: SettingChange<'_>,
    ) -> Result<(Profile, Follow), ProfileError> {
        let (profile, mut follow) = self.follow_of(user, follow_id).await?;
        match change {
            SettingChange::Clear => {
                follow.overrides.clear(setting);
            }
            SettingChange::Typed(input) => {
                follow.overrides.set(&profile.settings, setting, input)?;
            }
            SettingChange::Next => {
                let effective = profile.settings.with_overrides(&follow.overrides);
                if let Some(v) = setting.next(&effective) {
                    follow.overrides.apply(&profile.settings, setting, v)?;
                }
            }
        }
        if !self
            .store
            .set_follow_overrides(follow.id, &follow.overrides)
            .await?
        {
            return Err(ProfileError::NotFound);
        }
        self.engine().follow(&follow);
        Ok((profile, follow))
    }

    /// The settings a user's new profile starts with: the configured
    /// defaults; live mode (`ALFABOT_MODE=live`) only with a wallet to sign,
    /// the user's first key, else paper until one is set.
    async fn defaults_for(&self, user: UserRef) -> anyhow::Result<crate::domain::ProfileSettings> {
        let mut s = self.defaults.clone();
        if s.mode == Mode::Live {
            let keys = self.store.keys_of(user).await.context("list keys")?;
            match keys.iter().find(|k| k.archived_ms.is_none()) {
                Some(k) => s.wallet = Some(k.wallet),
                None => s.mode = Mode::Paper,
            }
        }
        Ok(s)
    }

    /// Registers profiles and follows made outside the chat (benches,
    /// tests that build a core directly). Stores first.
    pub async fn seed_profile(
        self: &Arc<Self>,
        user: &UserRecord,
        name: &ProfileName,
        settings: crate::domain::ProfileSettings,
    ) -> Result<Profile, ProfileError> {
        let profile = self
            .store
            .create_profile(user.user, name, &settings, self.now_ms())
            .await?
            .ok_or(ProfileError::NameTaken)?;
        self.engine().upsert_profile(profile.clone());
        Ok(profile)
    }
}
