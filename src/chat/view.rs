//! What a reply looks like, independent of the platform: text plus rows of
//! buttons. Transports turn it into messages and keyboards.

use super::action::Action;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Button {
    pub label: String,
    pub action: Action,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct View {
    pub text: String,
    pub buttons: Vec<Vec<Button>>,
    /// Delete the sent message after this many seconds (an exported
    /// secret key must not stay in the chat history).
    pub expires_s: Option<u32>,
}

impl View {
    #[must_use]
    pub fn text(text: impl Into<String>) -> Self {
        Self {
            text: text.into(),
            buttons: Vec::new(),
            expires_s: None,
        }
    }

    #[must_use]
    pub fn with_row(mut self, row: Vec<Button>) -> Self {
        if !row.is_empty() {
            self.buttons.push(row);
        }
        self
    }
}

/// The answer to one request.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ChatResponse {
    /// New messages to send to the chat, in order.
    pub messages: Vec<View>,
    /// Replacement for the message whose button was pressed.
    pub edit: Option<View>,
    /// A short notice for the button press (Telegram's callback answer).
    pub toast: Option<String>,
    /// Delete the user's message this answers at once (it held a secret).
    pub delete_input: bool,
    /// The first message asks for a typed answer (a dialogue is open):
    /// platforms with forms (Discord) show a form with one field instead,
    /// and its answer comes back as text.
    pub asks: bool,
}

impl ChatResponse {
    #[must_use]
    pub fn reply(view: View) -> Self {
        Self {
            messages: vec![view],
            ..Self::default()
        }
    }

    /// A question whose answer is typed next (the dialogue is saved by the
    /// caller).
    #[must_use]
    pub fn question(view: View) -> Self {
        Self {
            messages: vec![view],
            asks: true,
            ..Self::default()
        }
    }
}
