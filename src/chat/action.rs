//! Button actions and their codec. Telegram `callback_data` and Discord
//! `custom_id` go through here, within Telegram's 64-byte limit.
//!
//! Buttons about profiles and follows carry stored ids (a profile id, a
//! follow id) and short setting codes, never wallet addresses, so every
//! datum stays far below the limit; ownership is checked by the core on
//! every press, whatever the data says.

use crate::domain::{Address, NotifyKind, ProfileId, Section, Setting, WalletAddress};
use crate::engine::analytics::{Metric, Window};

/// The most bytes a platform accepts for a button's data (Telegram).
pub const MAX_ACTION_BYTES: usize = 64;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    Help,
    List,
    Status,
    Untrack(WalletAddress),
    /// Show a leaderboard page (0-based): `a:<metric>:<window>:<page>`.
    Board {
        metric: Metric,
        window: Window,
        page: u32,
    },
    /// Follow a wallet from the leaderboard or its card: `f:<wallet>`.
    Follow(WalletAddress),
    /// The copytrader profiles in a new message (from the menu): `ct`.
    Copytrader,
    /// Back to the profiles, in place: `pp`.
    Profiles,
    /// Asks for a new profile's name: `pn`.
    NewProfile,
    /// A profile's page: `p:<id>`.
    Profile(ProfileId),
    /// Makes a profile the active one: `pa:<id>`.
    Activate(ProfileId),
    /// Asks for a profile's new name: `pr:<id>`.
    Rename(ProfileId),
    /// Asks to confirm a deletion: `pd:<id>`.
    Delete(ProfileId),
    /// Deletes, confirmed: `pdy:<id>`.
    DeleteConfirmed(ProfileId),
    /// One section of a profile's settings: `pg:<id>:<section>`.
    Section {
        profile: ProfileId,
        section: Section,
    },
    /// A setting pressed on its section page: `ps:<id>:<setting>`.
    Setting {
        profile: ProfileId,
        setting: Setting,
    },
    /// A switch on the profile's page (pause, stop entries):
    /// `pq:<id>:<setting>`.
    Quick {
        profile: ProfileId,
        setting: Setting,
    },
    /// A page of a profile's wallets (0-based): `pl:<id>`, or
    /// `pl:<id>:<page>` after the first.
    Wallets {
        profile: ProfileId,
        page: u32,
    },
    /// A followed wallet's own settings: `fo:<follow>`.
    Followed(i64),
    /// A per-follow setting pressed: `fe:<follow>:<setting>`.
    Override {
        follow: i64,
        setting: Setting,
    },
    /// Drops a per-follow override: `fc:<follow>:<setting>`.
    ClearOverride {
        follow: i64,
        setting: Setting,
    },
    /// Removes the wallet from its profile: `fx:<follow>`.
    Unfollow(i64),
    /// `/profit` of a profile: `y:<id>`.
    Profit(ProfileId),
    /// `/daily` of a profile: `d:<id>`.
    Daily(ProfileId),
    /// Moves a notification kind to its next level: `n:<kind>`.
    Notify(NotifyKind),
    /// The wallet keys, in a new message: `w`.
    Keys,
    /// Creates a fresh key: `wn`.
    NewKey,
    /// Asks for a key to import: `wi`.
    ImportKey,
    /// Asks to confirm an export (with a warning): `we:<wallet>`.
    Export(WalletAddress),
    /// Shows the secret key, confirmed: `wey:<wallet>`.
    ExportConfirmed(WalletAddress),
    /// The wallet keys, in place (back from a question): `wl`.
    KeysHere,
    /// The archived keys, in place: `wla`.
    ArchivedKeys,
    /// Asks to confirm a key's deletion (or says why it cannot be): `wd:<wallet>`.
    DeleteKey(WalletAddress),
    /// Deletes a key (restorable for a while), confirmed: `wdy:<wallet>`.
    DeleteKeyConfirmed(WalletAddress),
    /// Hides a key from the list, keeping it: `wa:<wallet>`.
    ArchiveKey(WalletAddress),
    /// Brings an archived key back to the list: `wua:<wallet>`.
    UnarchiveKey(WalletAddress),
    /// Restores a recently deleted key: `wr:<wallet>`.
    RestoreKey(WalletAddress),
    /// Makes the active profile sign with this key: `wu:<wallet>`.
    UseKey(WalletAddress),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ActionError {
    #[error("button data is too long")]
    TooLong,
    #[error("unknown button {0:?}")]
    Unknown(String),
    #[error("button carries a bad address")]
    BadAddress,
    #[error("leaderboard button {0:?} is malformed")]
    BadBoard(String),
    #[error("button {0:?} is malformed")]
    Malformed(String),
}

impl Action {
    #[must_use]
    pub fn encode(&self) -> String {
        match self {
            Self::Help => "h".to_owned(),
            Self::List => "l".to_owned(),
            Self::Status => "s".to_owned(),
            Self::Untrack(w) => format!("u:{w}"),
            Self::Board {
                metric,
                window,
                page,
            } => format!("a:{}:{}:{page}", metric.code(), window.code()),
            Self::Follow(w) => format!("f:{w}"),
            Self::Copytrader => "ct".to_owned(),
            Self::Profiles => "pp".to_owned(),
            Self::NewProfile => "pn".to_owned(),
            Self::Profile(id) => format!("p:{id}"),
            Self::Activate(id) => format!("pa:{id}"),
            Self::Rename(id) => format!("pr:{id}"),
            Self::Delete(id) => format!("pd:{id}"),
            Self::DeleteConfirmed(id) => format!("pdy:{id}"),
            Self::Section { profile, section } => format!("pg:{profile}:{}", section.code()),
            Self::Setting { profile, setting } => format!("ps:{profile}:{}", setting.code()),
            Self::Quick { profile, setting } => format!("pq:{profile}:{}", setting.code()),
            Self::Wallets { profile, page: 0 } => format!("pl:{profile}"),
            Self::Wallets { profile, page } => format!("pl:{profile}:{page}"),
            Self::Followed(f) => format!("fo:{f}"),
            Self::Override { follow, setting } => format!("fe:{follow}:{}", setting.code()),
            Self::ClearOverride { follow, setting } => {
                format!("fc:{follow}:{}", setting.code())
            }
            Self::Unfollow(f) => format!("fx:{f}"),
            Self::Profit(id) => format!("y:{id}"),
            Self::Daily(id) => format!("d:{id}"),
            Self::Notify(kind) => format!("n:{}", kind.code()),
            Self::Keys => "w".to_owned(),
            Self::NewKey => "wn".to_owned(),
            Self::ImportKey => "wi".to_owned(),
            Self::Export(w) => format!("we:{w}"),
            Self::ExportConfirmed(w) => format!("wey:{w}"),
            Self::KeysHere => "wl".to_owned(),
            Self::ArchivedKeys => "wla".to_owned(),
            Self::DeleteKey(w) => format!("wd:{w}"),
            Self::DeleteKeyConfirmed(w) => format!("wdy:{w}"),
            Self::ArchiveKey(w) => format!("wa:{w}"),
            Self::UnarchiveKey(w) => format!("wua:{w}"),
            Self::RestoreKey(w) => format!("wr:{w}"),
            Self::UseKey(w) => format!("wu:{w}"),
        }
    }

    pub fn decode(data: &str) -> Result<Self, ActionError> {
        if data.len() > MAX_ACTION_BYTES {
            return Err(ActionError::TooLong);
        }
        match data.split_once(':') {
            None => match data {
                "h" => Ok(Self::Help),
                "l" => Ok(Self::List),
                "s" => Ok(Self::Status),
                "ct" => Ok(Self::Copytrader),
                "pp" => Ok(Self::Profiles),
                "pn" => Ok(Self::NewProfile),
                "w" => Ok(Self::Keys),
                "wn" => Ok(Self::NewKey),
                "wi" => Ok(Self::ImportKey),
                "wl" => Ok(Self::KeysHere),
                "wla" => Ok(Self::ArchivedKeys),
                _ => Err(ActionError::Unknown(data.to_owned())),
            },
            Some(("u", w)) => Address::parse(w)
                .map(Self::Untrack)
                .map_err(|_| ActionError::BadAddress),
            Some(("f", w)) => Address::parse(w)
                .map(Self::Follow)
                .map_err(|_| ActionError::BadAddress),
            Some((tag @ ("we" | "wey" | "wd" | "wdy" | "wa" | "wua" | "wr" | "wu"), w)) => {
                let w = Address::parse(w).map_err(|_| ActionError::BadAddress)?;
                Ok(match tag {
                    "we" => Self::Export(w),
                    "wey" => Self::ExportConfirmed(w),
                    "wd" => Self::DeleteKey(w),
                    "wdy" => Self::DeleteKeyConfirmed(w),
                    "wa" => Self::ArchiveKey(w),
                    "wua" => Self::UnarchiveKey(w),
                    "wr" => Self::RestoreKey(w),
                    _ => Self::UseKey(w),
                })
            }
            Some(("a", rest)) => {
                decode_board(rest).ok_or_else(|| ActionError::BadBoard(data.to_owned()))
            }
            Some((
                tag @ ("p" | "pa" | "pr" | "pd" | "pdy" | "pg" | "ps" | "pq" | "pl" | "fo" | "fe"
                | "fc" | "fx" | "y" | "d" | "n"),
                rest,
            )) => decode_personal(tag, rest).ok_or_else(|| ActionError::Malformed(data.to_owned())),
            Some(_) => Err(ActionError::Unknown(data.to_owned())),
        }
    }
}

/// A stored id exactly as [`Action::encode`] writes it (no sign, no
/// leading zeros), so every datum has one spelling.
fn id(s: &str) -> Option<i64> {
    s.parse::<i64>().ok().filter(|v| v.to_string() == s)
}

fn profile_id(s: &str) -> Option<ProfileId> {
    id(s).map(ProfileId)
}

/// `<id>:<code>`.
fn id_and<T>(rest: &str, code: impl Fn(&str) -> Option<T>) -> Option<(i64, T)> {
    let (a, b) = rest.split_once(':')?;
    Some((id(a)?, code(b)?))
}

/// The profile, follow, report and notification buttons after their tag.
fn decode_personal(tag: &str, rest: &str) -> Option<Action> {
    use Action as A;
    Some(match tag {
        "p" => A::Profile(profile_id(rest)?),
        "pa" => A::Activate(profile_id(rest)?),
        "pr" => A::Rename(profile_id(rest)?),
        "pd" => A::Delete(profile_id(rest)?),
        "pdy" => A::DeleteConfirmed(profile_id(rest)?),
        "pg" => {
            let (p, section) = id_and(rest, Section::parse)?;
            A::Section {
                profile: ProfileId(p),
                section,
            }
        }
        "ps" | "pq" => {
            let (p, setting) = id_and(rest, Setting::parse)?;
            let profile = ProfileId(p);
            if tag == "ps" {
                A::Setting { profile, setting }
            } else {
                A::Quick { profile, setting }
            }
        }
        "pl" => match rest.split_once(':') {
            None => A::Wallets {
                profile: profile_id(rest)?,
                page: 0,
            },
            Some((p, page)) => {
                let page: u32 = page
                    .parse()
                    .ok()
                    .filter(|n: &u32| *n > 0 && n.to_string() == page)?;
                A::Wallets {
                    profile: profile_id(p)?,
                    page,
                }
            }
        },
        "fo" => A::Followed(id(rest)?),
        "fe" | "fc" => {
            let (follow, setting) = id_and(rest, Setting::parse)?;
            if tag == "fe" {
                A::Override { follow, setting }
            } else {
                A::ClearOverride { follow, setting }
            }
        }
        "fx" => A::Unfollow(id(rest)?),
        "y" => A::Profit(profile_id(rest)?),
        "d" => A::Daily(profile_id(rest)?),
        "n" => A::Notify(NotifyKind::parse(rest)?),
        _ => return None,
    })
}

/// `<metric>:<window>:<page>`, exactly as [`Action::encode`] writes it.
fn decode_board(rest: &str) -> Option<Action> {
    let mut parts = rest.split(':');
    let (metric, window, page) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || page.starts_with('+') {
        return None;
    }
    Some(Action::Board {
        metric: Metric::parse(metric)?,
        window: Window::parse(window)?,
        page: page.parse().ok()?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(w: WalletAddress, page: u32) -> Vec<Action> {
        let mut v = vec![
            Action::Help,
            Action::List,
            Action::Status,
            Action::Untrack(w),
            Action::Follow(w),
            Action::Copytrader,
            Action::Profiles,
            Action::NewProfile,
            Action::Keys,
            Action::NewKey,
            Action::ImportKey,
            Action::Export(w),
            Action::ExportConfirmed(w),
            Action::KeysHere,
            Action::ArchivedKeys,
            Action::DeleteKey(w),
            Action::DeleteKeyConfirmed(w),
            Action::ArchiveKey(w),
            Action::UnarchiveKey(w),
            Action::RestoreKey(w),
            Action::UseKey(w),
        ];
        for metric in Metric::ALL {
            for window in Window::ALL {
                v.push(Action::Board {
                    metric,
                    window,
                    page,
                });
            }
        }
        v
    }

    #[test]
    fn rejects_garbage() {
        assert!(matches!(Action::decode("x"), Err(ActionError::Unknown(_))));
        assert_eq!(Action::decode("u:0OIl"), Err(ActionError::BadAddress));
        assert_eq!(Action::decode("f:0OIl"), Err(ActionError::BadAddress));
        assert_eq!(Action::decode(&"h".repeat(65)), Err(ActionError::TooLong));
        for bad in [
            "a:score:24h",
            "a:score:24h:x",
            "a:score:24h:-1",
            "a:score:24h:+1",
            "a:score:1y:0",
            "a:apy:24h:0",
            "a:score:24h:0:0",
            "a:score:24h:99999999999",
        ] {
            assert!(
                matches!(Action::decode(bad), Err(ActionError::BadBoard(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn board_data_is_short_and_readable() {
        let a = Action::Board {
            metric: Metric::WinRate,
            window: Window::D30,
            page: 3,
        };
        assert_eq!(a.encode(), "a:wr:30d:3");
        assert_eq!(Action::decode("a:wr:30d:3"), Ok(a));
    }

    /// Every profile, follow, report and notification button for these ids
    /// (the match makes a new variant a compile error here until listed).
    fn personal(profile: ProfileId, follow: i64, page: u32) -> Vec<Action> {
        let mut v = vec![
            Action::Profile(profile),
            Action::Activate(profile),
            Action::Rename(profile),
            Action::Delete(profile),
            Action::DeleteConfirmed(profile),
            Action::Wallets { profile, page },
            Action::Followed(follow),
            Action::Unfollow(follow),
            Action::Profit(profile),
            Action::Daily(profile),
        ];
        for section in Section::ALL {
            v.push(Action::Section { profile, section });
        }
        for &setting in Setting::ALL {
            v.push(Action::Setting { profile, setting });
            v.push(Action::Quick { profile, setting });
            v.push(Action::Override { follow, setting });
            v.push(Action::ClearOverride { follow, setting });
        }
        for kind in NotifyKind::ALL {
            v.push(Action::Notify(kind));
        }
        for a in &v {
            match a {
                Action::Help
                | Action::List
                | Action::Status
                | Action::Untrack(_)
                | Action::Board { .. }
                | Action::Follow(_)
                | Action::Copytrader
                | Action::Profiles
                | Action::NewProfile
                | Action::Profile(_)
                | Action::Activate(_)
                | Action::Rename(_)
                | Action::Delete(_)
                | Action::DeleteConfirmed(_)
                | Action::Section { .. }
                | Action::Setting { .. }
                | Action::Quick { .. }
                | Action::Wallets { .. }
                | Action::Followed(_)
                | Action::Override { .. }
                | Action::ClearOverride { .. }
                | Action::Unfollow(_)
                | Action::Profit(_)
                | Action::Daily(_)
                | Action::Notify(_)
                | Action::Keys
                | Action::NewKey
                | Action::ImportKey
                | Action::Export(_)
                | Action::ExportConfirmed(_)
                | Action::KeysHere
                | Action::ArchivedKeys
                | Action::DeleteKey(_)
                | Action::DeleteKeyConfirmed(_)
                | Action::ArchiveKey(_)
                | Action::UnarchiveKey(_)
                | Action::RestoreKey(_)
                | Action::UseKey(_) => {}
            }
        }
        v
    }

    #[test]
    fn personal_data_is_short_and_readable() {
        let p = ProfileId(42);
        let cases = [
            (Action::Copytrader, "ct"),
            (Action::Profiles, "pp"),
            (Action::NewProfile, "pn"),
            (Action::Profile(p), "p:42"),
            (Action::DeleteConfirmed(p), "pdy:42"),
            (
                Action::Section {
                    profile: p,
                    section: Section::Exits,
                },
                "pg:42:ext",
            ),
            (
                Action::Setting {
                    profile: p,
                    setting: Setting::BuySol,
                },
                "ps:42:bsol",
            ),
            (
                Action::Quick {
                    profile: p,
                    setting: Setting::Paused,
                },
                "pq:42:pause",
            ),
            (
                Action::Wallets {
                    profile: p,
                    page: 0,
                },
                "pl:42",
            ),
            (
                Action::Wallets {
                    profile: p,
                    page: 2,
                },
                "pl:42:2",
            ),
            (Action::Followed(7), "fo:7"),
            (
                Action::Override {
                    follow: 7,
                    setting: Setting::StopLoss,
                },
                "fe:7:sl",
            ),
            (
                Action::ClearOverride {
                    follow: 7,
                    setting: Setting::StopLoss,
                },
                "fc:7:sl",
            ),
            (Action::Unfollow(7), "fx:7"),
            (Action::Profit(p), "y:42"),
            (Action::Daily(p), "d:42"),
            (Action::Notify(NotifyKind::BigWins), "n:wins"),
        ];
        for (a, data) in cases {
            assert_eq!(a.encode(), data);
            assert_eq!(Action::decode(data), Ok(a));
        }
    }

    /// The key buttons: short tags, the wallet in full, within the limit
    /// for the longest address, and a bad address refused.
    #[test]
    fn key_data_is_short_and_readable() {
        let w = Address::from_bytes([255; 32]);
        let s = w.to_string();
        let cases = [
            (Action::KeysHere, "wl".to_owned()),
            (Action::ArchivedKeys, "wla".to_owned()),
            (Action::DeleteKey(w), format!("wd:{s}")),
            (Action::DeleteKeyConfirmed(w), format!("wdy:{s}")),
            (Action::ArchiveKey(w), format!("wa:{s}")),
            (Action::UnarchiveKey(w), format!("wua:{s}")),
            (Action::RestoreKey(w), format!("wr:{s}")),
        ];
        for (a, data) in cases {
            assert!(data.len() <= MAX_ACTION_BYTES, "{data}");
            assert_eq!(a.encode(), data);
            assert_eq!(Action::decode(&data), Ok(a));
        }
        for bad in ["wdy:0OIl", "wa:", "wua:abc", "wr:0"] {
            assert_eq!(Action::decode(bad), Err(ActionError::BadAddress), "{bad}");
        }
        for unknown in ["wlx", "wdz:1"] {
            assert!(
                matches!(Action::decode(unknown), Err(ActionError::Unknown(_))),
                "{unknown}"
            );
        }
    }

    #[test]
    fn rejects_malformed_personal_buttons() {
        for bad in [
            "p:",
            "p:x",
            "p:+1",
            "p:01",
            "p:-0",
            "p:1:2",
            "pa:",
            "pdy:1.5",
            "pg:1",
            "pg:1:",
            "pg:1:nope",
            "pg:x:buy",
            "ps:1:nope",
            "ps:1",
            "pq::pause",
            "pl:",
            "pl:1:0",
            "pl:1:01",
            "pl:1:-1",
            "pl:1:x",
            "pl:1:1:1",
            "fo:",
            "fo:1:2",
            "fe:1:zz",
            "fc:1",
            "fx:abc",
            "y:",
            "d:one",
            "n:",
            "n:all",
            "n:fills:1",
            "p:99999999999999999999",
        ] {
            assert!(
                matches!(Action::decode(bad), Err(ActionError::Malformed(_))),
                "{bad}"
            );
        }
        assert!(matches!(
            Action::decode("pz:1"),
            Err(ActionError::Unknown(_))
        ));
        assert!(matches!(
            Action::decode("cta"),
            Err(ActionError::Unknown(_))
        ));
    }

    proptest::proptest! {
        #[test]
        fn personal_round_trips_within_limit(
            profile in proptest::num::i64::ANY,
            follow in proptest::num::i64::ANY,
            page in proptest::num::u32::ANY,
        ) {
            for a in personal(ProfileId(profile), follow, page) {
                let data = a.encode();
                proptest::prop_assert!(data.len() <= MAX_ACTION_BYTES, "{data}");
                proptest::prop_assert_eq!(Action::decode(&data).unwrap(), a);
            }
        }

        #[test]
        fn round_trips_within_limit(
            bytes in proptest::array::uniform32(proptest::num::u8::ANY),
            page in proptest::num::u32::ANY,
        ) {
            for a in all(Address::from_bytes(bytes), page) {
                let data = a.encode();
                proptest::prop_assert!(data.len() <= MAX_ACTION_BYTES);
                proptest::prop_assert_eq!(Action::decode(&data).unwrap(), a);
            }
        }

        #[test]
        fn decode_never_panics(s in "\\PC{0,80}") {
            let _ = Action::decode(&s);
        }
    }
}
