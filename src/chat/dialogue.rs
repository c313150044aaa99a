//! Typed conversation state: what the next text message of a user in a
//! chat answers (a new profile's name, a setting's value). It is a serde
//! enum stored through the [`SessionStore`] port with a TTL, so any
//! instance can take the answer and an abandoned question is forgotten.
//!
//! Must not know a session backend; it sees only the port.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::domain::ports::SessionStore;
use crate::domain::{ChatRef, ProfileId, Setting, UserRef};

/// How long a question waits for its answer.
pub const TTL: Duration = Duration::from_secs(10 * 60);

/// What the user was asked to type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "step", rename_all = "snake_case")]
pub enum Dialogue {
    /// The name of a new profile.
    NewProfile,
    /// A profile's new name.
    Rename { profile: ProfileId },
    /// A typed value for a profile's setting.
    Setting {
        profile: ProfileId,
        setting: Setting,
    },
    /// A typed value for one followed wallet's own setting.
    Override { follow: i64, setting: Setting },
    /// A secret key to import (the message holding it is deleted at once).
    ImportKey,
}

impl Dialogue {
    /// The stored form (short JSON: `{"step":"setting","profile":3,"setting":"bsol"}`).
    ///
    /// # Errors
    /// Never in practice (every field serializes); kept as a value so a
    /// future field cannot panic here.
    pub fn encode(&self) -> anyhow::Result<String> {
        Ok(serde_json::to_string(self)?)
    }

    /// `None` for anything this version did not write.
    #[must_use]
    pub fn decode(s: &str) -> Option<Self> {
        serde_json::from_str(s).ok()
    }
}

/// The open question of `user` in `chat`. A stored state this version
/// cannot read (written by another version, say) is dropped.
pub async fn load(
    sessions: &dyn SessionStore,
    chat: ChatRef,
    user: UserRef,
) -> anyhow::Result<Option<Dialogue>> {
    let Some(raw) = sessions.get_dialogue(chat, user).await? else {
        return Ok(None);
    };
    match Dialogue::decode(&raw) {
        Some(d) => Ok(Some(d)),
        None => {
            tracing::info!(%user, state = raw, "unreadable dialogue state dropped");
            sessions.clear_dialogue(chat, user).await?;
            Ok(None)
        }
    }
}

/// Asks (or asks again, with a fresh TTL).
pub async fn save(
    sessions: &dyn SessionStore,
    chat: ChatRef,
    user: UserRef,
    dialogue: Dialogue,
) -> anyhow::Result<()> {
    sessions
        .set_dialogue(chat, user, &dialogue.encode()?, TTL)
        .await
}

/// Ends the open question; `true` if there was one.
pub async fn end(
    sessions: &dyn SessionStore,
    chat: ChatRef,
    user: UserRef,
) -> anyhow::Result<bool> {
    if sessions.get_dialogue(chat, user).await?.is_none() {
        return Ok(false);
    }
    sessions.clear_dialogue(chat, user).await?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Platform;
    use crate::session::MemorySessions;

    #[test]
    fn states_round_trip_and_stay_small() {
        let all = [
            Dialogue::NewProfile,
            Dialogue::Rename {
                profile: ProfileId(i64::MAX),
            },
            Dialogue::Setting {
                profile: ProfileId(3),
                setting: Setting::BuySol,
            },
            Dialogue::Override {
                follow: i64::MIN,
                setting: Setting::ConsensusThreshold,
            },
        ];
        for d in all {
            let s = d.encode().unwrap();
            assert!(s.len() < 100, "{s}");
            assert_eq!(Dialogue::decode(&s), Some(d));
        }
        assert_eq!(
            Dialogue::Setting {
                profile: ProfileId(3),
                setting: Setting::BuySol
            }
            .encode()
            .unwrap(),
            r#"{"step":"setting","profile":3,"setting":"bsol"}"#
        );
        assert_eq!(Dialogue::decode(r#"{"step":"setting","profile":3}"#), None);
        assert_eq!(
            Dialogue::decode(r#"{"step":"setting","profile":3,"setting":"nope"}"#),
            None
        );
        assert_eq!(Dialogue::decode("garbage"), None);
    }

    #[tokio::test]
    async fn stored_with_a_ttl_and_unreadable_states_are_dropped() {
        let s = MemorySessions::new();
        let (chat, user) = (
            ChatRef::new(Platform::Telegram, 1),
            UserRef::new(Platform::Telegram, 1),
        );
        assert_eq!(load(&s, chat, user).await.unwrap(), None);
        save(&s, chat, user, Dialogue::NewProfile).await.unwrap();
        assert_eq!(
            load(&s, chat, user).await.unwrap(),
            Some(Dialogue::NewProfile)
        );
        assert!(end(&s, chat, user).await.unwrap());
        assert!(!end(&s, chat, user).await.unwrap());
        s.set_dialogue(chat, user, "{\"step\":\"old\"}", TTL)
            .await
            .unwrap();
        assert_eq!(load(&s, chat, user).await.unwrap(), None);
        assert_eq!(s.get_dialogue(chat, user).await.unwrap(), None);
    }

    #[tokio::test(start_paused = true)]
    async fn an_unanswered_question_is_forgotten_after_the_ttl() {
        let s = MemorySessions::new();
        let (chat, user) = (
            ChatRef::new(Platform::Telegram, 1),
            UserRef::new(Platform::Telegram, 1),
        );
        save(&s, chat, user, Dialogue::NewProfile).await.unwrap();
        tokio::time::advance(TTL - Duration::from_secs(1)).await;
        assert!(load(&s, chat, user).await.unwrap().is_some());
        tokio::time::advance(Duration::from_secs(2)).await;
        assert_eq!(load(&s, chat, user).await.unwrap(), None);
    }
}
