//! Follow matching: which users follow a wallet, in O(1) per trade.

use std::collections::HashMap;

use crate::domain::{UserRef, WalletAddress};

/// Followers by wallet. A wallet with no follower is absent, so the set of
/// keys is exactly the set of wallets a live feed must subscribe to.
#[derive(Debug, Default, Clone)]
pub struct FollowIndex {
    by_wallet: HashMap<WalletAddress, Vec<UserRef>>,
}

/// What a follow change means for the feed's subscriptions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FollowChange {
    /// First follower: subscribe to the wallet.
    FirstFollower,
    /// Last follower gone: unsubscribe.
    LastUnfollow,
    /// The set of followed wallets did not change.
    Unchanged,
    /// Nothing to do: already following / was not following.
    NoOp,
}

impl FollowIndex {
    pub fn follow(&mut self, user: UserRef, wallet: WalletAddress) -> FollowChange {
        let followers = self.by_wallet.entry(wallet).or_default();
        if followers.contains(&user) {
            return FollowChange::NoOp;
        }
        followers.push(user);
        if followers.len() == 1 {
            FollowChange::FirstFollower
        } else {
            FollowChange::Unchanged
        }
    }

    pub fn unfollow(&mut self, user: UserRef, wallet: WalletAddress) -> FollowChange {
        let Some(followers) = self.by_wallet.get_mut(&wallet) else {
            return FollowChange::NoOp;
        };
        let Some(i) = followers.iter().position(|u| *u == user) else {
            return FollowChange::NoOp;
        };
        followers.swap_remove(i);
        if followers.is_empty() {
            self.by_wallet.remove(&wallet);
            FollowChange::LastUnfollow
        } else {
            FollowChange::Unchanged
        }
    }

    #[must_use]
    pub fn followers(&self, wallet: &WalletAddress) -> &[UserRef] {
        self.by_wallet.get(wallet).map_or(&[], Vec::as_slice)
    }

    #[must_use]
    pub fn is_followed(&self, wallet: &WalletAddress) -> bool {
        self.by_wallet.contains_key(wallet)
    }

    pub fn wallets(&self) -> impl Iterator<Item = &WalletAddress> {
        self.by_wallet.keys()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Platform;

    #[test]
    fn first_and_last_follower_drive_subscriptions() {
        let w = WalletAddress::from_bytes([7; 32]);
        let a = UserRef::new(Platform::Telegram, 1);
        let b = UserRef::new(Platform::Discord, 1);
        let mut idx = FollowIndex::default();
        assert_eq!(idx.follow(a, w), FollowChange::FirstFollower);
        assert_eq!(idx.follow(a, w), FollowChange::NoOp);
        assert_eq!(idx.follow(b, w), FollowChange::Unchanged);
        assert_eq!(idx.followers(&w), &[a, b]);
        assert_eq!(idx.unfollow(a, w), FollowChange::Unchanged);
        assert_eq!(idx.unfollow(a, w), FollowChange::NoOp);
        assert_eq!(idx.unfollow(b, w), FollowChange::LastUnfollow);
        assert!(!idx.is_followed(&w));
        assert_eq!(idx.wallets().count(), 0);
    }
}
