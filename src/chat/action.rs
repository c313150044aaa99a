//! Button actions and their codec. Telegram `callback_data` and Discord
//! `custom_id` go through here, within Telegram's 64-byte limit.

use crate::domain::{Address, WalletAddress};

/// The most bytes a platform accepts for a button's data (Telegram).
pub const MAX_ACTION_BYTES: usize = 64;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    Help,
    List,
    Status,
    Untrack(WalletAddress),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ActionError {
    #[error("button data is too long")]
    TooLong,
    #[error("unknown button {0:?}")]
    Unknown(String),
    #[error("button carries a bad address")]
    BadAddress,
}

impl Action {
    #[must_use]
    pub fn encode(&self) -> String {
        match self {
            Self::Help => "h".to_owned(),
            Self::List => "l".to_owned(),
            Self::Status => "s".to_owned(),
            Self::Untrack(w) => format!("u:{w}"),
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
            Some(_) => Err(ActionError::Unknown(data.to_owned())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(w: WalletAddress) -> Vec<Action> {
        vec![
            Action::Help,
            Action::List,
            Action::Status,
            Action::Untrack(w),
        ]
    }

    #[test]
    fn rejects_garbage() {
        assert!(matches!(Action::decode("x"), Err(ActionError::Unknown(_))));
        assert_eq!(Action::decode("u:0OIl"), Err(ActionError::BadAddress));
        assert_eq!(Action::decode(&"h".repeat(65)), Err(ActionError::TooLong));
    }

    proptest::proptest! {
        #[test]
        fn round_trips_within_limit(bytes in proptest::array::uniform32(proptest::num::u8::ANY)) {
            for a in all(Address::from_bytes(bytes)) {
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
