//! The console transport: a chat on stdin/stdout for the no-token demo and
//! as a plain test surface. One user (`console:1`) in a private chat.
//! Buttons are printed numbered; typing the number presses it.

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::sync::watch;

use crate::chat::{ChatRequest, ChatService, Input, View};
use crate::domain::{ChatKind, ChatRef, Platform, UserRef};
use crate::notify::ChatSender;

pub const CONSOLE_USER: UserRef = UserRef::new(Platform::Console, 1);
pub const CONSOLE_CHAT: ChatRef = ChatRef::new(Platform::Console, 1);

/// Buttons shown last, so a typed number can press one.
#[derive(Default)]
pub struct Console {
    last_buttons: Mutex<Vec<String>>,
}

impl Console {
    fn print(&self, view: &View) {
        let mut lines = vec![view.text.clone()];
        let mut data = Vec::new();
        for row in &view.buttons {
            let cells: Vec<String> = row
                .iter()
                .map(|b| {
                    data.push(b.action.encode());
                    format!("[{}] {}", data.len(), b.label)
                })
                .collect();
            lines.push(cells.join("  "));
        }
        if !data.is_empty() {
            *self
                .last_buttons
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner) = data;
        }
        println!("{}\n", lines.join("\n"));
    }

    /// Reads commands until stdin closes or shutdown; the app keeps running
    /// after EOF (alerts still print).
    pub async fn run(
        self: Arc<Self>,
        service: Arc<ChatService>,
        mut shutdown: watch::Receiver<bool>,
    ) {
        let mut lines = BufReader::new(tokio::io::stdin()).lines();
        loop {
            let line = tokio::select! {
                l = lines.next_line() => l,
                _ = shutdown.changed() => return,
            };
            let line = match line {
                Ok(Some(l)) => l,
                Ok(None) => return,
                Err(e) => {
                    tracing::warn!(error = %e, "console input closed");
                    return;
                }
            };
            let trimmed = line.trim();
            if trimmed.is_empty() {
                continue;
            }
            let answering = service.awaits_answer(CONSOLE_CHAT, CONSOLE_USER).await;
            let input = match trimmed.parse::<usize>() {
                // A number typed as the answer to a question is a value.
                Ok(_) if answering => Input::Text(trimmed.to_owned()),
                Ok(n) => {
                    let data = self
                        .last_buttons
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner)
                        .get(n.wrapping_sub(1))
                        .cloned();
                    match data {
                        Some(d) => Input::Button(d),
                        None => Input::Text(trimmed.to_owned()),
                    }
                }
                Err(_) => Input::Text(trimmed.to_owned()),
            };
            let resp = service
                .handle(ChatRequest {
                    user: CONSOLE_USER,
                    chat: CONSOLE_CHAT,
                    kind: ChatKind::Private,
                    name: "console".to_owned(),
                    language: std::env::var("LANG").ok(),
                    input,
                    private_reply: false,
                })
                .await;
            if let Some(t) = &resp.toast {
                println!("({t})");
            }
            if resp.delete_input {
                // A terminal cannot take back what was typed; say so.
                println!("(the line you typed held a secret: clear your terminal history)");
            }
            if let Some(v) = &resp.edit {
                self.print(v);
            }
            for v in &resp.messages {
                self.print(v);
            }
        }
    }
}

#[async_trait]
impl ChatSender for Console {
    /// A terminal has no sound to silence: silent messages print the same.
    async fn send(&self, _chat: ChatRef, view: &View, _silent: bool) -> anyhow::Result<()> {
        self.print(view);
        Ok(())
    }
}
