//! The few REST calls alfabot makes on its own (DMs and their deletion),
//! over reqwest, so each failure is read whole: a 429's `retry_after` (body
//! or `Retry-After` header) and whether it is global, and Discord's JSON
//! error code. serenity's client drops both in proxy mode, and its rate
//! limiter ignores the proxy (so `DISCORD_API_URL` could not be honoured
//! with it on).
//!
//! Limits kept here: sends are spaced to Discord's global 50 requests a
//! second (a little under), and to one message a second per channel
//! (Discord's per-channel bucket is 5 per 5 s); a global 429 holds every
//! call for its `retry_after`.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use reqwest::{Method, StatusCode};
use secrecy::{ExposeSecret as _, SecretString};
use serde_json::Value;
use tokio::time::Instant;

use crate::domain::ChatRef;
use crate::notify::expiring::{Deleter, Deletion};

/// Discord's own API base.
pub const DISCORD: &str = "https://discord.com";
/// Spacing of calls under the global limit.
const GLOBAL_SPACING: Duration = Duration::from_millis(25);
/// Spacing of messages in one channel.
const CHANNEL_SPACING: Duration = Duration::from_secs(1);
/// One call's timeout.
const TIMEOUT: Duration = Duration::from_secs(15);
/// The longest wait a 429 may ask that is honoured in place (longer ones
/// are handed to the caller).
const LONGEST_WAIT: Duration = Duration::from_secs(60);

/// A failed call.
#[derive(Debug, thiserror::Error)]
pub enum RestError {
    /// Discord answered with an error.
    #[error("Discord answered HTTP {status}, code {code}: {message}")]
    Api {
        status: u16,
        code: i64,
        message: String,
        /// For a 429: how long to wait.
        retry_after: Option<Duration>,
    },
    /// The request did not get an answer.
    #[error("Discord request failed: {0}")]
    Transport(#[from] reqwest::Error),
    /// An answer without what it should hold.
    #[error("Discord's answer lacks {0}")]
    Unreadable(&'static str),
}

impl RestError {
    /// The HTTP status and Discord's code, for an API error.
    #[must_use]
    pub const fn api(&self) -> Option<(u16, i64)> {
        match self {
            Self::Api { status, code, .. } => Some((*status, *code)),
            Self::Transport(_) | Self::Unreadable(_) => None,
        }
    }
}

pub struct Rest {
    client: reqwest::Client,
    /// `{base}/api/v10`.
    api: String,
    token: SecretString,
    next_global: tokio::sync::Mutex<Instant>,
    next_in_channel: Mutex<HashMap<u64, Instant>>,
    dms: Mutex<HashMap<u64, u64>>,
}

impl Rest {
    /// A client of `base` (`https://discord.com` or `DISCORD_API_URL`).
    ///
    /// # Errors
    /// When the HTTP client cannot be built (no TLS roots).
    pub fn new(base: &str, token: SecretString) -> anyhow::Result<Self> {
        Ok(Self {
            client: reqwest::Client::builder()
                .timeout(TIMEOUT)
                .user_agent(concat!(
                    "DiscordBot (https://github.com/alfabot, ",
                    env!("CARGO_PKG_VERSION"),
                    ")"
                ))
                .build()?,
            api: format!("{}/api/v10", base.trim_end_matches('/')),
            token,
            next_global: tokio::sync::Mutex::new(Instant::now()),
            next_in_channel: Mutex::new(HashMap::new()),
            dms: Mutex::new(HashMap::new()),
        })
    }

    /// Waits for a slot under the global limit (and the channel's).
    async fn slot(&self, channel: Option<u64>) {
        let now = Instant::now();
        let in_channel = channel.map_or(now, |c| {
            let mut map = self
                .next_in_channel
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            let at = map.get(&c).copied().unwrap_or(now).max(now);
            map.insert(c, at + CHANNEL_SPACING);
            if map.len() > 10_000 {
                map.retain(|_, t| *t > now);
            }
            at
        });
        let at = {
            let mut next = self.next_global.lock().await;
            let at = (*next).max(in_channel);
            *next = at + GLOBAL_SPACING;
            at
        };
        tokio::time::sleep_until(at).await;
    }

    /// Holds every call for `d` (a global 429).
    async fn hold_all(&self, d: Duration) {
        let mut next = self.next_global.lock().await;
        *next = (*next).max(Instant::now() + d);
    }

    /// One call; a 429 with a short wait is waited out and tried again
    /// (at most three times).
    async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
        channel: Option<u64>,
    ) -> Result<Value, RestError> {
        let mut tries = 0;
        loop {
            tries += 1;
            self.slot(channel).await;
            let mut req = self
                .client
                .request(method.clone(), format!("{}{path}", self.api))
                .header(
                    "Authorization",
                    format!("Bot {}", self.token.expose_secret()),
                );
            if let Some(b) = body {
                req = req.json(b);
            }
            let resp = req.send().await?;
            let status = resp.status();
            if status.is_success() {
                if status == StatusCode::NO_CONTENT {
                    return Ok(Value::Null);
                }
                return Ok(resp.json().await.unwrap_or(Value::Null));
            }
            let header_wait = resp
                .headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse::<f64>().ok());
            let global = resp.headers().contains_key("x-ratelimit-global");
            let json: Value = resp.json().await.unwrap_or(Value::Null);
            let retry_after = (status == StatusCode::TOO_MANY_REQUESTS).then(|| {
                let secs = json["retry_after"]
                    .as_f64()
                    .or(header_wait)
                    .unwrap_or(1.0)
                    .clamp(0.0, 3_600.0);
                Duration::from_secs_f64(secs)
            });
            if let Some(wait) = retry_after {
                if global || json["global"].as_bool() == Some(true) {
                    self.hold_all(wait).await;
                }
                tracing::info!(path, wait_ms = wait.as_millis(), "Discord asked to wait");
                if tries < 3 && wait <= LONGEST_WAIT {
                    tokio::time::sleep(wait).await;
                    continue;
                }
            }
            return Err(RestError::Api {
                status: status.as_u16(),
                code: json["code"].as_i64().unwrap_or(0),
                message: json["message"].as_str().unwrap_or("").to_owned(),
                retry_after,
            });
        }
    }

    /// The channel a chat's messages go to: the user's DM channel (opened
    /// once and remembered) for a user, else the channel itself.
    ///
    /// # Errors
    /// When Discord refuses to open the DM.
    pub async fn channel(&self, chat: ChatRef) -> Result<u64, RestError> {
        if chat.id < 0 {
            return Ok(chat.id.unsigned_abs());
        }
        let user = chat.id.unsigned_abs();
        if let Some(c) = self
            .dms
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&user)
        {
            return Ok(*c);
        }
        let dm = self
            .call(
                Method::POST,
                "/users/@me/channels",
                Some(&serde_json::json!({ "recipient_id": user.to_string() })),
                None,
            )
            .await?;
        let id = dm["id"]
            .as_str()
            .and_then(|s| s.parse::<u64>().ok())
            .ok_or(RestError::Unreadable("the DM channel's id"))?;
        self.dms
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(user, id);
        Ok(id)
    }

    /// Sends a message (a serialized `CreateMessage`) to a chat; returns
    /// its id.
    ///
    /// # Errors
    /// Discord's refusal or a transport failure.
    pub async fn send(&self, chat: ChatRef, message: &Value) -> Result<u64, RestError> {
        let channel = self.channel(chat).await?;
        let sent = self
            .call(
                Method::POST,
                &format!("/channels/{channel}/messages"),
                Some(message),
                Some(channel),
            )
            .await?;
        Ok(sent["id"]
            .as_str()
            .and_then(|s| s.parse().ok())
            .unwrap_or_default())
    }

    /// Deletes a message in a chat.
    ///
    /// # Errors
    /// Discord's refusal (404 for a message already gone) or a transport
    /// failure.
    pub async fn delete(&self, chat: ChatRef, message_id: i64) -> Result<(), RestError> {
        let channel = self.channel(chat).await?;
        self.call(
            Method::DELETE,
            &format!("/channels/{channel}/messages/{}", message_id.unsigned_abs()),
            None,
            None,
        )
        .await
        .map(drop)
    }
}

#[async_trait::async_trait]
impl Deleter for Rest {
    async fn delete(&self, chat: ChatRef, message_id: i64) -> Deletion {
        match Self::delete(self, chat, message_id).await {
            Ok(()) => Deletion::Deleted,
            // Unknown message, channel or user; no access.
            Err(
                e @ RestError::Api {
                    status: 403 | 404, ..
                },
            ) => Deletion::Gone(e.to_string()),
            Err(e) => Deletion::Failed(e.to_string()),
        }
    }
}
