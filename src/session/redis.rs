//! The shared session store: Redis through one multiplexed, self-reconnecting
//! `ConnectionManager`.
//!
//! Every key lives under a prefix (default [`DEFAULT_PREFIX`]) and is written
//! with `PX`, so nothing this store writes outlives its TTL, even when a
//! process dies. `claim` is `SET key 1 NX PX ttl`: atomic across every
//! process that shares the server.

use std::time::Duration;

use anyhow::Context as _;
use async_trait::async_trait;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{Cmd, Value};

use super::{is_token, keys, new_token, redact_url, ttl_ms};
use crate::domain::ports::SessionStore;
use crate::domain::{ChatRef, UserRef};

/// The prefix of every key alfabot writes to Redis.
pub const DEFAULT_PREFIX: &str = "alfabot:";

/// How often `put_callback` draws a fresh token when the first is taken.
/// One collision is already a ~2^-71 event; more means something is wrong.
const TOKEN_ATTEMPTS: u32 = 4;

/// Sessions in Redis. Cloning is cheap and shares the connection.
#[derive(Clone)]
pub struct RedisSessions {
    conn: ConnectionManager,
    prefix: String,
}

impl std::fmt::Debug for RedisSessions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisSessions")
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

impl RedisSessions {
    /// Connects to `url` (`redis://[user][:password@]host[:port][/db]`) and
    /// writes every key under `prefix`.
    ///
    /// # Errors
    /// An unparseable URL, or no connection after a few retries (a few
    /// seconds). The error names the server with its password masked.
    pub async fn connect(url: &str, prefix: &str) -> anyhow::Result<Self> {
        let server = redact_url(url);
        let client =
            redis::Client::open(url).with_context(|| format!("invalid Redis URL {server}"))?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_secs(2)))
            .set_response_timeout(Some(Duration::from_secs(2)))
            .set_number_of_retries(3);
        let conn = ConnectionManager::new_with_config(client, config)
            .await
            .with_context(|| format!("connecting to Redis at {server}"))?;
        Ok(Self::from_manager(conn, prefix))
    }

    /// Wraps an existing connection (for tests and for sharing one
    /// connection with other Redis users).
    #[must_use]
    pub fn from_manager(conn: ConnectionManager, prefix: &str) -> Self {
        Self {
            conn,
            prefix: prefix.to_owned(),
        }
    }

    /// The prefix every key of this store starts with.
    #[must_use]
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    fn key(&self, key: &str) -> String {
        format!("{}{key}", self.prefix)
    }

    /// `SET key value PX ttl [NX]`; for `NX`, whether the key was set.
    async fn set(
        &self,
        key: &str,
        value: &str,
        ttl: Duration,
        nx: bool,
    ) -> redis::RedisResult<bool> {
        let mut cmd = Cmd::new();
        cmd.arg("SET")
            .arg(self.key(key))
            .arg(value)
            .arg("PX")
            .arg(ttl_ms(ttl));
        if nx {
            cmd.arg("NX");
        }
        match cmd.query_async::<Value>(&mut self.conn.clone()).await? {
            Value::Okay => Ok(true),
            Value::Nil => Ok(false),
            other => Err(redis::RedisError::from((
                redis::ErrorKind::UnexpectedReturnType,
                "SET answered neither OK nor nil",
                format!("{other:?}"),
            ))),
        }
    }

    async fn get(&self, key: &str) -> redis::RedisResult<Option<String>> {
        Cmd::get(self.key(key))
            .query_async(&mut self.conn.clone())
            .await
    }
}

#[async_trait]
impl SessionStore for RedisSessions {
    async fn get_dialogue(&self, chat: ChatRef, user: UserRef) -> anyhow::Result<Option<String>> {
        self.get(&keys::dialogue(chat, user))
            .await
            .context("redis GET dialogue")
    }

    async fn set_dialogue(
        &self,
        chat: ChatRef,
        user: UserRef,
        state: &str,
        ttl: Duration,
    ) -> anyhow::Result<()> {
        self.set(&keys::dialogue(chat, user), state, ttl, false)
            .await
            .context("redis SET dialogue")?;
        Ok(())
    }

    async fn clear_dialogue(&self, chat: ChatRef, user: UserRef) -> anyhow::Result<()> {
        Cmd::del(self.key(&keys::dialogue(chat, user)))
            .query_async::<()>(&mut self.conn.clone())
            .await
            .context("redis DEL dialogue")
    }

    async fn put_callback(&self, payload: &str, ttl: Duration) -> anyhow::Result<String> {
        for _ in 0..TOKEN_ATTEMPTS {
            let token = new_token();
            let fresh = self
                .set(&keys::callback(&token), payload, ttl, true)
                .await
                .context("redis SET callback")?;
            if fresh {
                return Ok(token);
            }
        }
        anyhow::bail!("redis SET callback: {TOKEN_ATTEMPTS} random tokens in a row were taken")
    }

    async fn get_callback(&self, token: &str) -> anyhow::Result<Option<String>> {
        if !is_token(token) {
            return Ok(None);
        }
        self.get(&keys::callback(token))
            .await
            .context("redis GET callback")
    }

    async fn claim(&self, key: &str, ttl: Duration) -> anyhow::Result<bool> {
        self.set(&keys::dedup(key), "1", ttl, true)
            .await
            .context("redis SET NX dedup")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn connection_errors_mask_the_password() {
        // Port 1 on loopback refuses at once; nothing listens there.
        let err = RedisSessions::connect("redis://:hunter2@127.0.0.1:1", DEFAULT_PREFIX)
            .await
            .unwrap_err();
        let text = format!("{err:#} {err:?}");
        assert!(!text.contains("hunter2"), "{text}");
        assert!(text.contains("redis://:***@127.0.0.1:1"), "{text}");
    }

    #[tokio::test]
    async fn bad_urls_are_rejected_without_echoing_them() {
        for url in ["http://:hunter2@127.0.0.1", "redis://:hunter2@0.0.0.0:6379"] {
            let err = RedisSessions::connect(url, DEFAULT_PREFIX)
                .await
                .unwrap_err();
            let text = format!("{err:#} {err:?}");
            assert!(!text.contains("hunter2"), "{text}");
        }
    }
}
