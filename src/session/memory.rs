//! The in-process session store: one mutex around one map.
//!
//! Time comes from `tokio::time::Instant`, which is the wall-clock monotonic
//! instant in production and a controllable one under a paused Tokio test
//! clock, so TTL tests need neither sleeps nor an extra clock parameter.

use std::collections::HashMap;
use std::collections::hash_map::Entry as MapEntry;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use async_trait::async_trait;
use tokio::time::Instant;

use super::{is_token, keys, new_token, ttl_ms};
use crate::domain::ports::SessionStore;
use crate::domain::{ChatRef, UserRef};

/// Every this many writes, expired entries are swept out, so the map holds
/// at most the live entries plus this many dead ones.
const SWEEP_EVERY: u32 = 256;

#[derive(Debug)]
struct Entry {
    value: String,
    expires: Instant,
}

impl Entry {
    fn live(&self, now: Instant) -> bool {
        now < self.expires
    }
}

#[derive(Debug, Default)]
struct State {
    map: HashMap<String, Entry>,
    writes_since_sweep: u32,
}

impl State {
    fn get(&mut self, key: &str, now: Instant) -> Option<String> {
        match self.map.get(key) {
            Some(e) if e.live(now) => Some(e.value.clone()),
            Some(_) => {
                self.map.remove(key);
                None
            }
            None => None,
        }
    }

    /// Inserts, replacing whatever was there.
    fn set(&mut self, key: String, value: String, ttl: Duration, now: Instant) {
        self.note_write(now);
        self.map.insert(key, Entry::new(value, ttl, now));
    }

    /// Inserts only if there is no live entry; true if it inserted.
    fn set_if_absent(&mut self, key: String, value: String, ttl: Duration, now: Instant) -> bool {
        self.note_write(now);
        match self.map.entry(key) {
            MapEntry::Occupied(e) if e.get().live(now) => false,
            MapEntry::Occupied(mut e) => {
                e.insert(Entry::new(value, ttl, now));
                true
            }
            MapEntry::Vacant(e) => {
                e.insert(Entry::new(value, ttl, now));
                true
            }
        }
    }

    fn note_write(&mut self, now: Instant) {
        self.writes_since_sweep += 1;
        if self.writes_since_sweep >= SWEEP_EVERY {
            self.writes_since_sweep = 0;
            self.map.retain(|_, e| e.live(now));
        }
    }
}

impl Entry {
    fn new(value: String, ttl: Duration, now: Instant) -> Self {
        let ttl = Duration::from_millis(ttl_ms(ttl));
        // `ttl_ms` caps the TTL at about ten years, far from overflow; the
        // fallback is only for an `Instant` already near its own limit.
        let expires = now.checked_add(ttl).unwrap_or(now);
        Self { value, expires }
    }
}

/// Sessions held in this process. Cheap to create; share it behind an `Arc`.
///
/// Not shared between processes: with several instances, use
/// [`RedisSessions`](super::RedisSessions) or `claim` stops deduplicating.
#[derive(Debug, Default)]
pub struct MemorySessions {
    state: Mutex<State>,
}

impl MemorySessions {
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // No method leaves the map half-updated, so a panic elsewhere while
        // holding the lock does not make the data wrong.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Entries held, expired or not (for tests of the sweep).
    #[cfg(test)]
    fn held(&self) -> usize {
        self.lock().map.len()
    }
}

#[async_trait]
impl SessionStore for MemorySessions {
    async fn get_dialogue(&self, chat: ChatRef, user: UserRef) -> anyhow::Result<Option<String>> {
        Ok(self.lock().get(&keys::dialogue(chat, user), Instant::now()))
    }

    async fn set_dialogue(
        &self,
        chat: ChatRef,
        user: UserRef,
        state: &str,
        ttl: Duration,
    ) -> anyhow::Result<()> {
        self.lock().set(
            keys::dialogue(chat, user),
            state.to_owned(),
            ttl,
            Instant::now(),
        );
        Ok(())
    }

    async fn clear_dialogue(&self, chat: ChatRef, user: UserRef) -> anyhow::Result<()> {
        self.lock().map.remove(&keys::dialogue(chat, user));
        Ok(())
    }

    async fn put_callback(&self, payload: &str, ttl: Duration) -> anyhow::Result<String> {
        let mut state = self.lock();
        let now = Instant::now();
        // A collision needs two equal 71-bit random tokens alive at once;
        // looping keeps even that case correct.
        loop {
            let token = new_token();
            if state.set_if_absent(keys::callback(&token), payload.to_owned(), ttl, now) {
                return Ok(token);
            }
        }
    }

    async fn get_callback(&self, token: &str) -> anyhow::Result<Option<String>> {
        if !is_token(token) {
            return Ok(None);
        }
        Ok(self.lock().get(&keys::callback(token), Instant::now()))
    }

    async fn claim(&self, key: &str, ttl: Duration) -> anyhow::Result<bool> {
        Ok(self
            .lock()
            .set_if_absent(keys::dedup(key), String::new(), ttl, Instant::now()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Platform;

    const CHAT: ChatRef = ChatRef::new(Platform::Telegram, 7);
    const USER: UserRef = UserRef::new(Platform::Telegram, 9);

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[tokio::test(start_paused = true)]
    async fn dialogue_lives_exactly_its_ttl() {
        let s = MemorySessions::new();
        s.set_dialogue(CHAT, USER, "a", ms(200)).await.unwrap();
        tokio::time::advance(ms(199)).await;
        assert_eq!(
            s.get_dialogue(CHAT, USER).await.unwrap().as_deref(),
            Some("a")
        );
        tokio::time::advance(ms(1)).await;
        assert_eq!(s.get_dialogue(CHAT, USER).await.unwrap(), None);
        // Reading an expired entry drops it.
        assert_eq!(s.held(), 0);
    }

    #[tokio::test(start_paused = true)]
    async fn claim_is_free_again_after_ttl_and_not_before() {
        let s = MemorySessions::new();
        assert!(s.claim("sig", ms(100)).await.unwrap());
        tokio::time::advance(ms(99)).await;
        assert!(!s.claim("sig", ms(100)).await.unwrap());
        // A refused claim does not extend the first one.
        tokio::time::advance(ms(1)).await;
        assert!(s.claim("sig", ms(100)).await.unwrap());
    }

    #[tokio::test(start_paused = true)]
    async fn callback_expires() {
        let s = MemorySessions::new();
        let t = s.put_callback("payload", ms(50)).await.unwrap();
        assert_eq!(
            s.get_callback(&t).await.unwrap().as_deref(),
            Some("payload")
        );
        tokio::time::advance(ms(50)).await;
        assert_eq!(s.get_callback(&t).await.unwrap(), None);
    }

    #[tokio::test(start_paused = true)]
    async fn expired_entries_are_swept_without_being_read() {
        let s = MemorySessions::new();
        for i in 0..SWEEP_EVERY - 1 {
            s.claim(&format!("old{i}"), ms(10)).await.unwrap();
        }
        assert_eq!(s.held(), (SWEEP_EVERY - 1) as usize);
        tokio::time::advance(ms(10)).await;
        // The next write triggers the sweep; only it survives.
        s.claim("new", ms(10)).await.unwrap();
        assert_eq!(s.held(), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn memory_stays_bounded_under_churn() {
        let s = MemorySessions::new();
        for i in 0..10_000 {
            s.claim(&format!("k{i}"), ms(1)).await.unwrap();
            tokio::time::advance(ms(1)).await;
        }
        assert!(s.held() <= SWEEP_EVERY as usize, "{}", s.held());
    }

    #[tokio::test]
    async fn zero_ttl_is_one_millisecond_not_forever() {
        let s = MemorySessions::new();
        assert!(s.claim("k", Duration::ZERO).await.unwrap());
        tokio::time::sleep(ms(5)).await;
        assert!(s.claim("k", Duration::ZERO).await.unwrap());
    }

    #[tokio::test]
    async fn huge_ttl_does_not_panic() {
        let s = MemorySessions::new();
        s.set_dialogue(CHAT, USER, "x", Duration::MAX)
            .await
            .unwrap();
        assert_eq!(
            s.get_dialogue(CHAT, USER).await.unwrap().as_deref(),
            Some("x")
        );
    }
}
