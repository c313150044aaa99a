//! Suggestions for a typed option while the user types it (Discord's
//! autocomplete): their follows and the top of the leaderboard for a
//! wallet, their profile names for a profile. Written once here; a
//! transport only shows them.

use super::ChatService;
use super::command::OptionKind;
use super::i18n::t;
use crate::domain::{Locale, UserRef};
use crate::engine::analytics::{Metric, Window};

/// The most suggestions a platform shows (Discord: 25).
pub const MAX_SUGGESTIONS: usize = 25;
/// Leaderboard rows offered for a wallet option.
const TOP_ROWS: usize = 10;

/// One suggestion: what is shown and what is filled in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suggestion {
    pub label: String,
    pub value: String,
}

/// The fixed choices of an option (value, label), in the user's language;
/// empty for free options.
#[must_use]
pub fn choices(l: Locale, kind: OptionKind) -> Vec<(&'static str, String)> {
    match kind {
        OptionKind::Metric => Metric::ALL
            .iter()
            .map(|m| (m.code(), t(l, &format!("metric.{}", m.code()), &[])))
            .collect(),
        OptionKind::Window => Window::ALL
            .iter()
            .map(|w| (w.code(), t(l, &format!("window.{}", w.code()), &[])))
            .collect(),
        OptionKind::OnOff => vec![
            ("on", t(l, "choice.on", &[])),
            ("off", t(l, "choice.off", &[])),
        ],
        OptionKind::Wallet | OptionKind::Address | OptionKind::Profile => Vec::new(),
    }
}

/// Whether `typed` (what the user has typed so far) matches `text`.
fn matches(text: &str, typed: &str) -> bool {
    typed.is_empty() || text.to_lowercase().contains(&typed.trim().to_lowercase())
}

impl ChatService {
    /// Suggestions for an option of `kind` while `user` types `typed`;
    /// empty for options with fixed choices. Errors are logged and give no
    /// suggestions: a suggestion list is a convenience, never a failure.
    pub async fn suggest(
        &self,
        user: UserRef,
        language: Option<&str>,
        kind: OptionKind,
        typed: &str,
    ) -> Vec<Suggestion> {
        match self.suggestions(user, language, kind, typed).await {
            Ok(mut s) => {
                s.truncate(MAX_SUGGESTIONS);
                s
            }
            Err(e) => {
                tracing::warn!(error = format!("{e:#}"), "suggestions failed");
                Vec::new()
            }
        }
    }

    async fn suggestions(
        &self,
        user: UserRef,
        language: Option<&str>,
        kind: OptionKind,
        typed: &str,
    ) -> anyhow::Result<Vec<Suggestion>> {
        let me = self.core.user(user, language).await?;
        let l = me.locale;
        let mut out: Vec<Suggestion> = Vec::new();
        let push = |out: &mut Vec<Suggestion>, label: String, value: String| {
            if !out.iter().any(|s| s.value == value)
                && (matches(&value, typed) || matches(&label, typed))
            {
                out.push(Suggestion { label, value });
            }
        };
        match kind {
            OptionKind::Wallet | OptionKind::Address => {
                let profiles = self.core.profiles(user).await?;
                for f in self.core.follows(user).await? {
                    let profile = profiles
                        .iter()
                        .find(|p| p.id == f.profile)
                        .map_or("", |p| p.name.as_str());
                    push(
                        &mut out,
                        t(
                            l,
                            "suggest.followed",
                            &[("wallet", &f.wallet.short()), ("profile", profile)],
                        ),
                        f.wallet.to_string(),
                    );
                }
                if kind == OptionKind::Wallet {
                    let board = self
                        .core
                        .leaderboard(Metric::Score, Window::H24, 0, TOP_ROWS);
                    for row in board.rows {
                        push(
                            &mut out,
                            t(
                                l,
                                "suggest.top",
                                &[
                                    ("rank", &row.rank.to_string()),
                                    ("wallet", &row.wallet.short()),
                                    ("score", &format!("{:.0}", row.score)),
                                ],
                            ),
                            row.wallet.to_string(),
                        );
                    }
                }
            }
            OptionKind::Profile => {
                for p in self.core.profiles(user).await? {
                    push(
                        &mut out,
                        p.name.as_str().to_owned(),
                        p.name.as_str().to_owned(),
                    );
                }
            }
            OptionKind::Metric | OptionKind::Window | OptionKind::OnOff => {}
        }
        Ok(out)
    }
}
