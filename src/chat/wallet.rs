//! `/wallet`: the user's wallet keys for live trading. Create one, import
//! one (the message holding it is deleted at once), see addresses and
//! balances, export one (a warning and a confirmation first; the message
//! with the secret deletes itself), delete one, and make the active profile
//! sign with one. Private chats only.
//!
//! Secrets pass through here only inside the import dialogue's text and
//! the export's reply; nothing here logs them, and errors never hold them.
//! A message that looks like a secret key anywhere else is deleted too,
//! with a warning ([`looks_like_secret`]).

use super::action::Action;
use super::copytrader::toast;
use super::dialogue::{self, Dialogue};
use super::i18n::t;
use super::view::{Button, ChatResponse, View};
use super::{ChatRequest, ChatService, profile_error};
use crate::domain::money::format_sol;
use crate::domain::ports::UserRecord;
use crate::domain::{Locale, Setting, WalletAddress};
use crate::service::{KeyView, MAX_KEYS, SettingChange, WalletError};
use crate::vault::keys::{self, KeyImportError};

/// How long an exported secret stays in the chat.
pub const EXPORT_EXPIRES_S: u32 = 60;

/// Whether a text is a Solana secret key (so it is deleted wherever it is
/// pasted).
#[must_use]
pub fn looks_like_secret(text: &str) -> bool {
    keys::parse_import(text).is_ok()
}

fn import_reason(l: Locale, e: &KeyImportError) -> String {
    let key = match e {
        KeyImportError::Empty => "wallet.import.empty",
        KeyImportError::Format => "wallet.import.format",
        KeyImportError::JsonNumbers => "wallet.import.json",
        KeyImportError::Length(_) => "wallet.import.length",
        KeyImportError::Mismatch => "wallet.import.mismatch",
    };
    let n = match e {
        KeyImportError::Length(n) => n.to_string(),
        _ => String::new(),
    };
    t(l, key, &[("n", &n)])
}

/// A refused key operation in words; unexpected errors go up.
fn wallet_error(l: Locale, e: WalletError) -> anyhow::Result<String> {
    Ok(match e {
        WalletError::NoVault => t(l, "wallet.error.no_vault", &[]),
        WalletError::Import(why) => t(
            l,
            "wallet.error.import",
            &[("reason", &import_reason(l, &why))],
        ),
        WalletError::Duplicate => t(l, "wallet.error.duplicate", &[]),
        WalletError::NotFound => t(l, "wallet.error.not_found", &[]),
        WalletError::TooMany { max } => t(l, "wallet.error.too_many", &[("max", &max.to_string())]),
        WalletError::InUse { profile } => t(l, "wallet.error.in_use", &[("profile", &profile)]),
        WalletError::Sealed => t(l, "wallet.error.sealed", &[]),
        WalletError::Unexpected(e) => return Err(e),
    })
}

/// The keys page.
fn keys_view(l: Locale, keys: &[KeyView], active: Option<(&str, Option<WalletAddress>)>) -> View {
    let mut lines = Vec::new();
    let mut view = View::default();
    if keys.is_empty() {
        lines.push(t(l, "wallet.empty", &[]));
    } else {
        lines.push(t(
            l,
            "wallet.header",
            &[
                ("count", &keys.len().to_string()),
                ("max", &MAX_KEYS.to_string()),
            ],
        ));
    }
    for k in keys {
        let balance = k.balance.map_or_else(
            || t(l, "wallet.balance.unknown", &[]),
            |b| format!("{} SOL", format_sol(i128::from(b.0))),
        );
        let used = if k.profiles.is_empty() {
            t(l, "wallet.unused", &[])
        } else {
            t(l, "wallet.used_by", &[("profiles", &k.profiles.join(", "))])
        };
        lines.push(t(
            l,
            "wallet.line",
            &[
                ("wallet", &k.wallet.to_string()),
                ("balance", &balance),
                ("used", &used),
            ],
        ));
        let short = k.wallet.short();
        let mut row = vec![
            Button {
                label: t(l, "button.export_key", &[("wallet", &short)]),
                action: Action::Export(k.wallet),
            },
            Button {
                label: t(l, "button.delete_key", &[("wallet", &short)]),
                action: Action::DeleteKey(k.wallet),
            },
        ];
        if let Some((profile, current)) = active
            && current != Some(k.wallet)
        {
            row.push(Button {
                label: t(l, "button.use_key", &[("profile", profile)]),
                action: Action::UseKey(k.wallet),
            });
        }
        view = view.with_row(row);
    }
    lines.push(t(l, "wallet.hint", &[]));
    view.text = lines.join("\n");
    view.with_row(vec![
        Button {
            label: t(l, "button.new_key", &[]),
            action: Action::NewKey,
        },
        Button {
            label: t(l, "button.import_key", &[]),
            action: Action::ImportKey,
        },
    ])
}

impl ChatService {
    /// `/wallet`.
    pub(super) async fn wallet_view(&self, user: &UserRecord) -> anyhow::Result<View> {
        let l = user.locale;
        let keys = match self.core.keys(user.user).await {
            Ok(k) => k,
            Err(e) => return Ok(View::text(wallet_error(l, e)?)),
        };
        let active = self.core.active_profile(user).await?;
        Ok(keys_view(
            l,
            &keys,
            Some((active.name.as_str(), active.settings.wallet)),
        ))
    }

    /// The `/wallet` buttons (private chats only; checked by the caller).
    pub(super) async fn wallet_button(
        &self,
        req: &ChatRequest,
        user: &UserRecord,
        action: Action,
    ) -> anyhow::Result<ChatResponse> {
        let l = user.locale;
        let me = user.user;
        Ok(match action {
            Action::Keys => ChatResponse {
                messages: vec![self.wallet_view(user).await?],
                toast: Some(t(l, "toast.done", &[])),
                ..ChatResponse::default()
            },
            Action::NewKey => match self.core.create_key(me).await {
                Ok(wallet) => ChatResponse {
                    messages: vec![
                        View::text(t(l, "wallet.created", &[("wallet", &wallet.to_string())])),
                        self.wallet_view(user).await?,
                    ],
                    ..ChatResponse::default()
                },
                Err(e) => toast(wallet_error(l, e)?),
            },
            Action::ImportKey => {
                dialogue::save(
                    self.core.sessions().as_ref(),
                    req.chat,
                    req.user,
                    Dialogue::ImportKey,
                )
                .await?;
                ChatResponse::question(View::text(t(l, "wallet.import.prompt", &[])))
            }
            Action::Export(wallet) => {
                if self.core.store().get_key(me, wallet).await?.is_none() {
                    return Ok(toast(wallet_error(l, WalletError::NotFound)?));
                }
                ChatResponse::reply(
                    View::text(t(
                        l,
                        "wallet.export.confirm",
                        &[
                            ("wallet", &wallet.to_string()),
                            ("secs", &EXPORT_EXPIRES_S.to_string()),
                        ],
                    ))
                    .with_row(vec![
                        Button {
                            label: t(l, "button.export_yes", &[]),
                            action: Action::ExportConfirmed(wallet),
                        },
                        Button {
                            label: t(l, "button.export_no", &[]),
                            action: Action::Keys,
                        },
                    ]),
                )
            }
            Action::ExportConfirmed(wallet) => match self.core.export_key(me, wallet).await {
                Ok(secret) => {
                    let mut secret_view = View::text(t(
                        l,
                        "wallet.export.secret",
                        &[
                            ("wallet", &wallet.to_string()),
                            ("secret", secret.as_str()),
                            ("secs", &EXPORT_EXPIRES_S.to_string()),
                        ],
                    ));
                    secret_view.expires_s = Some(EXPORT_EXPIRES_S);
                    ChatResponse {
                        // The confirmation message loses its buttons.
                        edit: Some(View::text(t(
                            l,
                            "wallet.export.shown",
                            &[("wallet", &wallet.short())],
                        ))),
                        messages: vec![secret_view],
                        ..ChatResponse::default()
                    }
                }
                Err(e) => toast(wallet_error(l, e)?),
            },
            Action::DeleteKey(wallet) => match self.core.delete_key(me, wallet).await {
                Ok(()) => ChatResponse {
                    edit: Some(self.wallet_view(user).await?),
                    toast: Some(t(l, "wallet.deleted", &[("wallet", &wallet.short())])),
                    ..ChatResponse::default()
                },
                Err(e) => toast(wallet_error(l, e)?),
            },
            Action::UseKey(wallet) => {
                let profile = self.core.active_profile(user).await?;
                match self
                    .core
                    .change_setting(
                        me,
                        profile.id,
                        Setting::Wallet,
                        SettingChange::Typed(&wallet.to_string()),
                    )
                    .await
                {
                    Ok(p) => ChatResponse {
                        edit: Some(self.wallet_view(user).await?),
                        toast: Some(t(
                            l,
                            "wallet.used",
                            &[("profile", p.name.as_str()), ("wallet", &wallet.short())],
                        )),
                        ..ChatResponse::default()
                    },
                    Err(e) => toast(profile_error(l, e)?),
                }
            }
            _ => ChatResponse::default(),
        })
    }

    /// The answer to the import question: the message is deleted whatever
    /// it held.
    pub(super) async fn import_input(
        &self,
        req: &ChatRequest,
        user: &UserRecord,
        text: &str,
    ) -> anyhow::Result<ChatResponse> {
        let l = user.locale;
        self.end_dialogue(req).await;
        let mut resp = match self.core.import_key(user.user, text).await {
            Ok(wallet) => ChatResponse {
                messages: vec![
                    View::text(t(l, "wallet.imported", &[("wallet", &wallet.to_string())])),
                    self.wallet_view(user).await?,
                ],
                ..ChatResponse::default()
            },
            Err(e) => ChatResponse::reply(View::text(format!(
                "{}\n{}",
                wallet_error(l, e)?,
                t(l, "wallet.import.deleted", &[])
            ))),
        };
        resp.delete_input = true;
        Ok(resp)
    }

    /// A secret key pasted outside the import question: deleted, with a
    /// warning (in a group, others may have seen it).
    pub(super) fn pasted_secret(&self, req: &ChatRequest, l: Locale) -> ChatResponse {
        let key = if req.kind == crate::domain::ChatKind::Private {
            "wallet.pasted.private"
        } else {
            "wallet.pasted.group"
        };
        let mut resp = ChatResponse::reply(View::text(t(l, key, &[])));
        resp.delete_input = true;
        resp
    }
}
