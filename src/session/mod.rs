//! Session adapters: the two implementations of the [`SessionStore`] port.
//!
//! This module owns short-lived conversational state: dialogue state per
//! (chat, user), callback tokens for payloads too large for a button, and
//! dedup claims. [`MemorySessions`] serves a single process (the embedded
//! default and tests); [`RedisSessions`] is shared by every instance of a
//! deployment, which is what makes `claim` a cross-process dedup and lets a
//! button pressed on one instance be answered by another.
//!
//! Both backends agree on these details so the conformance suite
//! (`tests/it/session.rs`) can hold them to one contract:
//!
//! - Every key expires. TTLs are whole milliseconds, clamped to
//!   `1 ms ..= MAX_TTL` (Redis rejects `PX 0`, and an unbounded TTL would be a
//!   leak by another name), so a zero TTL means "gone almost at once".
//! - Callback tokens are [`CALLBACK_TOKEN_LEN`] random base62 characters from
//!   a cryptographic RNG: URL-safe, unguessable (~71 bits), well inside
//!   Telegram's 64-byte `callback_data`. A string that cannot be a token is
//!   answered with `None` without touching the backend, since callback data
//!   arrives from clients and is untrusted.
//!
//! Must not be imported by `domain/` or `engine/`; only `app.rs` names the
//! concrete types, everyone else holds an `Arc<dyn SessionStore>`.

mod memory;
mod redis;

use std::sync::Arc;
use std::time::Duration;

use rand::Rng as _;

pub use self::memory::MemorySessions;
pub use self::redis::{DEFAULT_PREFIX, RedisSessions};
use crate::domain::ports::SessionStore;
use crate::domain::{ChatRef, UserRef};

/// Length of the callback tokens both backends hand out.
pub const CALLBACK_TOKEN_LEN: usize = 12;

/// The longest TTL either backend stores (about ten years).
pub const MAX_TTL: Duration = Duration::from_hours(10 * 365 * 24);

/// The session store for this process: Redis when a URL is given, memory
/// otherwise.
///
/// # Errors
/// An unparseable URL or an unreachable Redis. The error names the server
/// with its password masked.
pub async fn connect(redis_url: Option<&str>) -> anyhow::Result<Arc<dyn SessionStore>> {
    match redis_url {
        None => {
            tracing::info!("session store: in memory (single process)");
            Ok(Arc::new(MemorySessions::new()))
        }
        Some(url) => {
            let store = RedisSessions::connect(url, DEFAULT_PREFIX).await?;
            tracing::info!(server = %redact_url(url), "session store: redis");
            Ok(Arc::new(store))
        }
    }
}

/// A TTL as whole milliseconds within `1 ..= MAX_TTL`; sub-millisecond
/// remainders round up so a key never lives shorter than asked.
fn ttl_ms(ttl: Duration) -> u64 {
    let ttl = ttl.min(MAX_TTL);
    let ms = ttl.as_millis() + u128::from(!ttl.subsec_nanos().is_multiple_of(1_000_000));
    u64::try_from(ms).unwrap_or(u64::MAX).max(1)
}

/// A fresh callback token: [`CALLBACK_TOKEN_LEN`] base62 characters from
/// the thread-local CSPRNG (seeded from the OS), so tokens cannot be guessed
/// from earlier ones.
fn new_token() -> String {
    rand::rng()
        .sample_iter(rand::distr::Alphanumeric)
        .take(CALLBACK_TOKEN_LEN)
        .map(char::from)
        .collect()
}

/// Whether `s` could be a token we issued. Anything else is unknown by
/// definition, which keeps client-supplied junk away from the backend.
fn is_token(s: &str) -> bool {
    s.len() == CALLBACK_TOKEN_LEN && s.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// Key layout, shared by both backends (Redis adds its prefix).
mod keys {
    use super::{ChatRef, UserRef};

    pub(super) fn dialogue(chat: ChatRef, user: UserRef) -> String {
        format!(
            "dlg:{}:{}:{}:{}",
            chat.platform, chat.id, user.platform, user.id
        )
    }

    pub(super) fn callback(token: &str) -> String {
        format!("cb:{token}")
    }

    pub(super) fn dedup(key: &str) -> String {
        format!("dd:{key}")
    }
}

/// A connection URL fit for logs and errors: the password (and a unix
/// socket's `pass` query parameter) replaced by `***`.
fn redact_url(raw: &str) -> String {
    let Ok(mut url) = url::Url::parse(raw) else {
        return "<unparseable URL>".to_owned();
    };
    if url.password().is_some() {
        // Fails only for URLs that cannot carry a password at all.
        let _ = url.set_password(Some("***"));
    }
    let secret_query = url
        .query_pairs()
        .any(|(k, _)| matches!(k.as_ref(), "pass" | "password"));
    if secret_query {
        let pairs: Vec<(String, String)> = url
            .query_pairs()
            .map(|(k, v)| {
                let v = if matches!(k.as_ref(), "pass" | "password") {
                    "***".to_owned()
                } else {
                    v.into_owned()
                };
                (k.into_owned(), v)
            })
            .collect();
        url.query_pairs_mut().clear().extend_pairs(pairs);
    }
    url.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Platform;

    #[test]
    fn ttl_is_whole_ms_at_least_one_and_bounded() {
        assert_eq!(ttl_ms(Duration::ZERO), 1);
        assert_eq!(ttl_ms(Duration::from_micros(1)), 1);
        assert_eq!(ttl_ms(Duration::from_micros(1_500)), 2);
        assert_eq!(ttl_ms(Duration::from_millis(200)), 200);
        assert_eq!(ttl_ms(Duration::MAX), ttl_ms(MAX_TTL));
        assert_eq!(u128::from(ttl_ms(MAX_TTL)), MAX_TTL.as_millis());
    }

    #[test]
    fn tokens_are_short_base62_and_recognised() {
        let mut seen = std::collections::HashSet::new();
        for _ in 0..1_000 {
            let t = new_token();
            assert_eq!(t.len(), CALLBACK_TOKEN_LEN);
            assert!(t.bytes().all(|b| b.is_ascii_alphanumeric()), "{t}");
            assert!(is_token(&t));
            assert!(seen.insert(t), "duplicate token");
        }
        const { assert!(CALLBACK_TOKEN_LEN <= 16) };
    }

    #[test]
    fn junk_is_not_a_token() {
        for junk in [
            "",
            "abc",
            "abcdefghijklmnop",
            "abc:def:ghij",
            "abcdefghij*k",
            "abcdefghijkñ",
        ] {
            assert!(!is_token(junk), "{junk:?}");
        }
    }

    #[test]
    fn key_layout() {
        let chat = ChatRef::new(Platform::Telegram, -100_123);
        let user = UserRef::new(Platform::Discord, 42);
        assert_eq!(
            keys::dialogue(chat, user),
            "dlg:telegram:-100123:discord:42"
        );
        assert_eq!(keys::callback("Ab12"), "cb:Ab12");
        assert_eq!(keys::dedup("sig:x"), "dd:sig:x");
    }

    #[test]
    fn redaction_hides_passwords_and_keeps_the_server() {
        let r = redact_url("redis://user:hunter2@cache.internal:6380/2");
        assert_eq!(r, "redis://user:***@cache.internal:6380/2");
        let r = redact_url("redis://:hunter2@127.0.0.1:6379");
        assert!(
            !r.contains("hunter2") && r.contains("127.0.0.1:6379"),
            "{r}"
        );
        let r = redact_url("redis+unix:///run/redis.sock?db=1&pass=hunter2");
        assert!(!r.contains("hunter2") && r.contains("db=1"), "{r}");
        assert_eq!(redact_url("redis://127.0.0.1"), "redis://127.0.0.1");
        assert_eq!(redact_url("not a url :hunter2@"), "<unparseable URL>");
    }

    #[tokio::test]
    async fn no_url_means_memory() {
        let store = connect(None).await.unwrap();
        assert!(store.claim("k", Duration::from_secs(1)).await.unwrap());
    }
}
