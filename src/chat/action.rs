//! Button actions and their codec. Telegram `callback_data` and Discord
//! `custom_id` go through here, within Telegram's 64-byte limit.

use crate::domain::{Address, WalletAddress};
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
                _ => Err(ActionError::Unknown(data.to_owned())),
            },
            Some(("u", w)) => Address::parse(w)
                .map(Self::Untrack)
                .map_err(|_| ActionError::BadAddress),
            Some(("f", w)) => Address::parse(w)
                .map(Self::Follow)
                .map_err(|_| ActionError::BadAddress),
            Some(("a", rest)) => {
                decode_board(rest).ok_or_else(|| ActionError::BadBoard(data.to_owned()))
            }
            Some(_) => Err(ActionError::Unknown(data.to_owned())),
        }
    }
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

    proptest::proptest! {
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
