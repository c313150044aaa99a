//! The Telegram side of end-to-end tests: starts the compatibility front
//! (`tests/e2e/telegram`, npm telegram-test-api 4.2.1 patched for teloxide)
//! and talks to its test-client API as a user would.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

use serde::Deserialize;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

pub const TOKEN: &str = "123456:alfabot-e2e";

fn front_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/e2e/telegram")
}

/// Installs the front's npm packages from the committed lockfile once.
/// Serialized: the end-to-end tests run in parallel and two `npm ci` in one
/// directory break each other.
async fn ensure_npm_packages() {
    static INSTALL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    let _one_at_a_time = INSTALL.lock().await;
    let dir = front_dir();
    if dir.join("node_modules/telegram-test-api").exists() {
        return;
    }
    let status = Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund"])
        .current_dir(&dir)
        .status()
        .await
        .expect("npm is needed for the Telegram end-to-end test (Node 20)");
    assert!(status.success(), "npm ci in {} failed", dir.display());
}

#[derive(Debug, Clone, Deserialize)]
pub struct BotMessage {
    pub message_id: i64,
    pub text: String,
    pub reply_markup: Option<Value>,
    pub received_at_ms: i64,
    pub edit_count: i64,
    /// Deleted by the bot (the front keeps the record).
    #[serde(default)]
    pub deleted: bool,
}

impl BotMessage {
    /// Callback data of every inline button, in order.
    pub fn buttons(&self) -> Vec<String> {
        self.reply_markup
            .as_ref()
            .and_then(|m| m["inline_keyboard"].as_array())
            .map(|rows| {
                rows.iter()
                    .flat_map(|r| r.as_array().cloned().unwrap_or_default())
                    .filter_map(|b| b["callback_data"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    }
}

pub struct TelegramFront {
    child: Child,
    pub url: String,
    http: reqwest::Client,
}

impl TelegramFront {
    pub async fn start() -> Self {
        ensure_npm_packages().await;
        let mut child = Command::new("node")
            .arg("front.mjs")
            .current_dir(front_dir())
            .env("FRONT_QUIET", "1")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .expect("start node front.mjs");
        let stdout = child.stdout.take().expect("front stdout");
        let mut lines = BufReader::new(stdout).lines();
        let line = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
            .await
            .expect("the Telegram front did not start within 30 s")
            .expect("read front stdout")
            .expect("the Telegram front exited");
        let ready: Value = serde_json::from_str(
            line.strip_prefix("READY ")
                .unwrap_or_else(|| panic!("unexpected front output {line}")),
        )
        .expect("front READY json");
        // Keep draining stdout so the child never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Self {
            child,
            url: ready["url"].as_str().expect("url").to_owned(),
            http: reqwest::Client::new(),
        }
    }

    async fn post(&self, path: &str, body: Value) -> Value {
        let r = self
            .http
            .post(format!("{}{path}", self.url))
            .json(&body)
            .send()
            .await
            .expect("front request");
        let v: Value = r.json().await.expect("front json");
        assert_eq!(v["ok"], true, "{path}: {v}");
        v
    }

    /// A user types `text` in a chat (private when `chat_id == user_id`).
    pub async fn send(&self, chat_id: i64, user_id: i64, text: &str) {
        let chat_type = if chat_id == user_id {
            "private"
        } else {
            "group"
        };
        self.post(
            "/test/send",
            json!({"token": TOKEN, "chat_id": chat_id, "chat_type": chat_type,
                   "user_id": user_id, "first_name": "Ada", "text": text, "language_code": "en"}),
        )
        .await;
    }

    /// A user presses a button of a bot message.
    pub async fn press(&self, chat_id: i64, user_id: i64, message_id: i64, data: &str) {
        let chat_type = if chat_id == user_id {
            "private"
        } else {
            "group"
        };
        self.post(
            "/test/press",
            json!({"token": TOKEN, "chat_id": chat_id, "chat_type": chat_type,
                   "user_id": user_id, "message_id": message_id, "data": data}),
        )
        .await;
    }

    /// The next `times` sendMessage calls to `chat_id` fail with
    /// `error_code` (429 carries `retry_after` seconds; 0 times = until
    /// the front is reset).
    pub async fn fail_sends(&self, chat_id: i64, error_code: u16, retry_after: u32, times: u32) {
        self.post(
            "/test/inject_error",
            json!({"token": TOKEN, "method": "sendMessage", "chat_id": chat_id,
                   "error_code": error_code, "retry_after": retry_after, "times": times}),
        )
        .await;
    }

    /// Every message the bot sent to a chat, current text after edits.
    pub async fn messages(&self, chat_id: i64) -> Vec<BotMessage> {
        let v: Value = self
            .http
            .get(format!("{}/test/messages", self.url))
            .query(&[("token", TOKEN), ("chat_id", &chat_id.to_string())])
            .send()
            .await
            .expect("front messages")
            .json()
            .await
            .expect("front json");
        serde_json::from_value(v["messages"].clone()).expect("messages shape")
    }

    /// What users sent in a chat (with a `deleted` flag per message).
    pub async fn user_messages(&self, chat_id: i64) -> Vec<Value> {
        let v: Value = self
            .http
            .get(format!("{}/test/user_messages", self.url))
            .query(&[("token", TOKEN), ("chat_id", &chat_id.to_string())])
            .send()
            .await
            .expect("front user messages")
            .json()
            .await
            .expect("front json");
        v["messages"].as_array().cloned().unwrap_or_default()
    }

    pub async fn callback_answers(&self) -> Vec<Value> {
        let v: Value = self
            .http
            .get(format!("{}/test/callback_answers", self.url))
            .query(&[("token", TOKEN)])
            .send()
            .await
            .expect("front answers")
            .json()
            .await
            .expect("front json");
        v["answers"].as_array().cloned().unwrap_or_default()
    }

    /// Waits until the chat has a message (after the first `skip`) matching
    /// `pred`, and returns it.
    pub async fn wait_for(
        &self,
        chat_id: i64,
        skip: usize,
        what: &str,
        pred: impl Fn(&BotMessage) -> bool,
    ) -> BotMessage {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let msgs = self.messages(chat_id).await;
            if let Some(m) = msgs.iter().skip(skip).find(|m| pred(m)) {
                return m.clone();
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what} in chat {chat_id}; got {:#?}",
                msgs.iter().skip(skip).map(|m| &m.text).collect::<Vec<_>>()
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

impl Drop for TelegramFront {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
    }
}
