//! `/wallet`: the user's wallet keys for live trading. Create one, import
//! one (the message holding it is deleted at once), see addresses,
//! balances and whether each was ever exported, export one (a warning and
//! a confirmation first; the message with the secret deletes itself),
//! archive one (hidden, kept, back at any time), delete one (asked first,
//! refused when it could lose funds, restorable for a while), and make the
//! active profile sign with one. Private chats only.
//!
//! This module renders; the core decides ([`crate::service::Core::check_delete`]
//! and friends). Every key button names a wallet, and the core looks it up
//! among the presser's own keys only, so a button naming someone else's
//! wallet finds nothing.
//!
//! Secrets pass through here only inside the import dialogue's text and
//! the export's reply; nothing here logs them, and errors never hold them.
//! A message that looks like a secret key anywhere else is deleted too,
//! with a warning ([`looks_like_secret`]).

use super::action::Action;
use super::copytrader::toast;
use super::dialogue::{self, Dialogue};
use super::i18n::t;
use super::trading::date;
use super::view::{Button, ChatResponse, View};
use super::{ChatRequest, ChatService, profile_error};
use crate::domain::money::format_sol;
use crate::domain::ports::UserRecord;
use crate::domain::{Lamports, Locale, Setting, WalletAddress};
use crate::service::{DeletePreview, KeyList, MAX_KEYS, SettingChange, WalletError};
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
        WalletError::NotBackedUp {
            wallet,
            balance: None,
        } => t(
            l,
            "wallet.error.unbacked.unknown",
            &[("wallet", &wallet.to_string())],
        ),
        WalletError::NotBackedUp {
            wallet,
            balance: Some(b),
        } => t(
            l,
            "wallet.error.unbacked.funds",
            &[("wallet", &wallet.to_string()), ("balance", &sol(b))],
        ),
        WalletError::Taken => t(l, "wallet.error.taken", &[]),
        WalletError::Sealed => t(l, "wallet.error.sealed", &[]),
        WalletError::Unexpected(e) => return Err(e),
    })
}

fn sol(b: Lamports) -> String {
    format_sol(i128::from(b.0))
}

fn balance_text(l: Locale, balance: Option<Lamports>) -> String {
    balance.map_or_else(
        || t(l, "wallet.balance.unknown", &[]),
        |b| format!("{} SOL", sol(b)),
    )
}

fn back_row(l: Locale) -> Vec<Button> {
    vec![Button {
        label: t(l, "button.back_to_keys", &[]),
        action: Action::KeysHere,
    }]
}

/// The keys page: the listed keys, a button to the archived ones, and the
/// recently deleted ones with restore buttons. With `archived`, the
/// archived keys instead, each with a button to bring it back.
fn keys_view(
    l: Locale,
    list: &KeyList,
    archived: bool,
    active: Option<(&str, Option<WalletAddress>)>,
) -> View {
    let mut lines = Vec::new();
    let mut view = View::default();
    if archived {
        lines.push(if list.keys.is_empty() {
            t(l, "wallet.archived.empty", &[])
        } else {
            t(
                l,
                "wallet.archived.header",
                &[("n", &list.keys.len().to_string())],
            )
        });
    } else if list.stored == 0 {
        lines.push(t(l, "wallet.empty", &[]));
    } else {
        lines.push(t(
            l,
            "wallet.header",
            &[
                ("count", &list.stored.to_string()),
                ("max", &MAX_KEYS.to_string()),
            ],
        ));
    }
    for k in &list.keys {
        let used = if k.profiles.is_empty() {
            t(l, "wallet.unused", &[])
        } else {
            t(l, "wallet.used_by", &[("profiles", &k.profiles.join(", "))])
        };
        let backup = k.exported_ms.map_or_else(
            || t(l, "wallet.backup.never", &[]),
            |ms| t(l, "wallet.backup.at", &[("date", &date(ms))]),
        );
        lines.push(t(
            l,
            "wallet.line",
            &[
                ("wallet", &k.wallet.to_string()),
                ("balance", &balance_text(l, k.balance)),
                ("used", &used),
                ("backup", &backup),
            ],
        ));
        let short = k.wallet.short();
        let delete = Button {
            label: t(l, "button.delete_key", &[("wallet", &short)]),
            action: Action::DeleteKey(k.wallet),
        };
        let row = if archived {
            vec![
                Button {
                    label: t(l, "button.unarchive_key", &[("wallet", &short)]),
                    action: Action::UnarchiveKey(k.wallet),
                },
                delete,
            ]
        } else {
            let mut row = vec![
                Button {
                    label: t(l, "button.export_key", &[("wallet", &short)]),
                    action: Action::Export(k.wallet),
                },
                delete,
            ];
            if let Some((profile, current)) = active
                && current != Some(k.wallet)
            {
                row.push(Button {
                    label: t(l, "button.use_key", &[("profile", profile)]),
                    action: Action::UseKey(k.wallet),
                });
            }
            row
        };
        view = view.with_row(row);
    }
    if archived {
        view.text = lines.join("\n");
        return view.with_row(back_row(l));
    }
    if list.archived > 0 {
        lines.push(t(
            l,
            "wallet.archived.some",
            &[("n", &list.archived.to_string())],
        ));
        view = view.with_row(vec![Button {
            label: t(
                l,
                "button.show_archived",
                &[("n", &list.archived.to_string())],
            ),
            action: Action::ArchivedKeys,
        }]);
    }
    if !list.deleted.is_empty() {
        lines.push(t(l, "wallet.recent.header", &[]));
        for d in &list.deleted {
            lines.push(t(
                l,
                "wallet.recent.line",
                &[
                    ("wallet", &d.wallet.to_string()),
                    ("deleted", &date(d.deleted_ms)),
                    ("until", &date(d.purge_at_ms)),
                ],
            ));
            view = view.with_row(vec![Button {
                label: t(l, "button.restore_key", &[("wallet", &d.wallet.short())]),
                action: Action::RestoreKey(d.wallet),
            }]);
        }
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

/// The question before a deletion: the wallet, its balance, whether the
/// key was ever exported, and how long it stays restorable.
fn delete_question(l: Locale, p: &DeletePreview) -> View {
    let backup = p.exported_ms.map_or_else(
        || t(l, "wallet.delete.never_exported", &[]),
        |ms| t(l, "wallet.delete.exported", &[("date", &date(ms))]),
    );
    let days = p.recovery.as_secs() / 86_400;
    View::text(t(
        l,
        "wallet.delete.confirm",
        &[
            ("wallet", &p.wallet.to_string()),
            ("balance", &balance_text(l, p.balance)),
            ("backup", &backup),
            ("days", &days.to_string()),
        ],
    ))
    .with_row(vec![
        Button {
            label: t(l, "button.key_delete_yes", &[]),
            action: Action::DeleteKeyConfirmed(p.wallet),
        },
        Button {
            label: t(l, "button.key_delete_no", &[]),
            action: Action::KeysHere,
        },
    ])
    .with_row(vec![Button {
        label: t(l, "button.key_archive", &[]),
        action: Action::ArchiveKey(p.wallet),
    }])
}

/// A refused deletion, in place of the question: the reason, and the ways
/// out as buttons (export it or archive it instead, when those can help).
fn delete_refused(l: Locale, wallet: WalletAddress, e: WalletError) -> anyhow::Result<View> {
    let unbacked = matches!(e, WalletError::NotBackedUp { .. });
    let reason = wallet_error(l, e)?;
    let mut view = View::text(t(l, "wallet.delete.refused", &[("reason", &reason)]));
    if unbacked {
        view = view.with_row(vec![
            Button {
                label: t(l, "button.export_key", &[("wallet", &wallet.short())]),
                action: Action::Export(wallet),
            },
            Button {
                label: t(l, "button.key_archive", &[]),
                action: Action::ArchiveKey(wallet),
            },
        ]);
    }
    Ok(view.with_row(back_row(l)))
}

/// The answer to a delete button: the next view in place, or a toast when
/// the key is not (or no longer) there.
fn delete_answer(l: Locale, wallet: WalletAddress, e: WalletError) -> anyhow::Result<ChatResponse> {
    Ok(match e {
        e @ (WalletError::InUse { .. } | WalletError::NotBackedUp { .. }) => ChatResponse {
            edit: Some(delete_refused(l, wallet, e)?),
            ..ChatResponse::default()
        },
        e => toast(wallet_error(l, e)?),
    })
}

impl ChatService {
    /// `/wallet`.
    pub(super) async fn wallet_view(&self, user: &UserRecord) -> anyhow::Result<View> {
        self.keys_page(user, false).await
    }

    /// The keys page, or (`archived`) the archived keys.
    async fn keys_page(&self, user: &UserRecord, archived: bool) -> anyhow::Result<View> {
        let l = user.locale;
        let list = match self.core.keys(user.user, archived).await {
            Ok(k) => k,
            Err(e) => return Ok(View::text(wallet_error(l, e)?)),
        };
        let active = self.core.active_profile(user).await?;
        Ok(keys_view(
            l,
            &list,
            archived,
            Some((active.name.as_str(), active.settings.wallet)),
        ))
    }

    /// The keys page in place of the pressed message, with a toast.
    async fn keys_in_place(
        &self,
        user: &UserRecord,
        archived: bool,
        toast: Option<String>,
    ) -> anyhow::Result<ChatResponse> {
        Ok(ChatResponse {
            edit: Some(self.keys_page(user, archived).await?),
            toast,
            ..ChatResponse::default()
        })
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
            Action::KeysHere => self.keys_in_place(user, false, None).await?,
            Action::ArchivedKeys => self.keys_in_place(user, true, None).await?,
            // Asks first, or says why not (and what to do instead).
            Action::DeleteKey(wallet) => match self.core.check_delete(me, wallet).await {
                Ok(preview) => ChatResponse {
                    edit: Some(delete_question(l, &preview)),
                    ..ChatResponse::default()
                },
                Err(e) => delete_answer(l, wallet, e)?,
            },
            // The core checks again: things may have changed since.
            Action::DeleteKeyConfirmed(wallet) => match self.core.delete_key(me, wallet).await {
                Ok(until) => {
                    let done = t(
                        l,
                        "wallet.deleted",
                        &[("wallet", &wallet.short()), ("date", &date(until))],
                    );
                    self.keys_in_place(user, false, Some(done)).await?
                }
                Err(e) => delete_answer(l, wallet, e)?,
            },
            Action::ArchiveKey(wallet) => match self.core.archive_key(me, wallet).await {
                Ok(()) => {
                    let done = t(l, "wallet.archived", &[("wallet", &wallet.short())]);
                    self.keys_in_place(user, false, Some(done)).await?
                }
                Err(e) => toast(wallet_error(l, e)?),
            },
            Action::UnarchiveKey(wallet) => match self.core.unarchive_key(me, wallet).await {
                Ok(()) => {
                    let done = t(l, "wallet.unarchived", &[("wallet", &wallet.short())]);
                    self.keys_in_place(user, false, Some(done)).await?
                }
                Err(e) => toast(wallet_error(l, e)?),
            },
            Action::RestoreKey(wallet) => match self.core.restore_key(me, wallet).await {
                Ok(()) => {
                    let done = t(l, "wallet.restored", &[("wallet", &wallet.short())]);
                    self.keys_in_place(user, false, Some(done)).await?
                }
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
