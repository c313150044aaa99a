//! The copytrader handlers: `/copytrader` and its buttons (profiles,
//! sections, settings, wallets, per-wallet settings), `/pause`, `/resume`,
//! `/stopentry`, and the typed answers to the questions they ask (a name,
//! a setting's value). Each handler parses, calls the core, renders; the
//! rules (limits, ownership, valid values) are the core's.

use super::action::Action;
use super::dialogue::{self, Dialogue};
use super::i18n::t;
use super::profiles::{self, Entry};
use super::view::{ChatResponse, View};
use super::{ChatRequest, ChatService, profile_error, settings};
use crate::domain::ports::UserRecord;
use crate::domain::profile::ProfileNameError;
use crate::domain::{Locale, Profile, ProfileId, ProfileName, Setting, SettingError, SettingKind};
use crate::service::{ProfileError, SettingChange};

/// A reply that is only a toast (the button press's answer).
pub(super) fn toast(text: String) -> ChatResponse {
    ChatResponse {
        toast: Some(text),
        ..ChatResponse::default()
    }
}

fn edit(view: View, toast: Option<String>) -> ChatResponse {
    ChatResponse {
        edit: Some(view),
        toast,
        ..ChatResponse::default()
    }
}

fn replies(views: Vec<View>) -> ChatResponse {
    ChatResponse {
        messages: views,
        ..ChatResponse::default()
    }
}

fn name_error(l: Locale, e: &ProfileNameError) -> String {
    t(
        l,
        match e {
            ProfileNameError::Length => "ct.name.length",
            ProfileNameError::Character => "ct.name.character",
        },
        &[],
    )
}

/// A refusal with what to do next: `error\nretry`.
fn refusal(l: Locale, error: String, retry: &str) -> View {
    View::text(format!("{error}\n{}", t(l, retry, &[])))
}

impl ChatService {
    async fn save_dialogue(&self, req: &ChatRequest, d: Dialogue) -> anyhow::Result<()> {
        dialogue::save(self.core.sessions().as_ref(), req.chat, req.user, d).await
    }

    /// The open question of this user in this chat, if any.
    pub(super) async fn open_dialogue(
        &self,
        req: &ChatRequest,
    ) -> anyhow::Result<Option<Dialogue>> {
        dialogue::load(self.core.sessions().as_ref(), req.chat, req.user).await
    }

    /// Ends the open question (any command does); `true` if there was one.
    /// Best effort: a session outage must not block commands.
    pub(super) async fn end_dialogue(&self, req: &ChatRequest) -> bool {
        match dialogue::end(self.core.sessions().as_ref(), req.chat, req.user).await {
            Ok(had) => had,
            Err(e) => {
                tracing::warn!(error = format!("{e:#}"), "ending a dialogue failed");
                false
            }
        }
    }

    /// `/copytrader`: the user's profiles. `active` overrides the stored
    /// choice when this request just changed it.
    pub(super) async fn profiles_view(
        &self,
        user: &UserRecord,
        active: Option<ProfileId>,
    ) -> anyhow::Result<View> {
        let all = self.core.profiles(user.user).await?;
        let follows = self.core.follows(user.user).await?;
        let active = profiles::active_id(active.or(user.active_profile), &all);
        let entries: Vec<Entry<'_>> = all
            .iter()
            .map(|p| Entry {
                profile: p,
                active: Some(p.id) == active,
                wallets: follows.iter().filter(|f| f.profile == p.id).count(),
            })
            .collect();
        Ok(profiles::list(user.locale, &entries))
    }

    /// A profile's page.
    async fn profile_view(
        &self,
        user: &UserRecord,
        profile: &Profile,
        active: Option<ProfileId>,
    ) -> anyhow::Result<View> {
        let all = self.core.profiles(user.user).await?;
        let active = profiles::active_id(active.or(user.active_profile), &all);
        let wallets = self.wallet_count(user, profile.id).await?;
        Ok(profiles::profile(
            user.locale,
            profile,
            active == Some(profile.id),
            wallets,
        ))
    }

    async fn wallet_count(&self, user: &UserRecord, id: ProfileId) -> anyhow::Result<usize> {
        Ok(self
            .core
            .follows(user.user)
            .await?
            .iter()
            .filter(|f| f.profile == id)
            .count())
    }

    async fn wallets_view(
        &self,
        user: &UserRecord,
        profile: &Profile,
        page: u32,
    ) -> anyhow::Result<View> {
        let follows = self.core.follows(user.user).await?;
        let mine: Vec<_> = follows.iter().filter(|f| f.profile == profile.id).collect();
        Ok(profiles::wallets(
            user.locale,
            profile,
            &mine,
            usize::try_from(page).unwrap_or(usize::MAX),
        ))
    }

    /// Buttons of the copytrader screens (private chats only; checked by
    /// the caller).
    #[allow(
        clippy::too_many_lines,
        reason = "one arm per button, each a call and a render"
    )]
    pub(super) async fn copytrader_button(
        &self,
        req: &ChatRequest,
        user: &UserRecord,
        action: Action,
    ) -> anyhow::Result<ChatResponse> {
        let l = user.locale;
        let me = user.user;
        // A refusal (a stale button, a bad value) is a toast; unexpected
        // errors go up.
        macro_rules! or_toast {
            ($e:expr) => {
                match $e {
                    Ok(v) => v,
                    Err(e) => return Ok(toast(profile_error(l, e)?)),
                }
            };
        }
        Ok(match action {
            Action::Copytrader => ChatResponse {
                messages: vec![self.profiles_view(user, None).await?],
                toast: Some(t(l, "toast.done", &[])),
                ..ChatResponse::default()
            },
            Action::Profiles => edit(self.profiles_view(user, None).await?, None),
            Action::NewProfile => {
                self.save_dialogue(req, Dialogue::NewProfile).await?;
                ChatResponse::question(View::text(t(l, "ct.new.prompt", &[])))
            }
            Action::Profile(id) => {
                let p = or_toast!(self.core.profile_of(me, id).await);
                edit(self.profile_view(user, &p, None).await?, None)
            }
            Action::Activate(id) => {
                let p = or_toast!(self.core.set_active(me, id).await);
                edit(
                    self.profile_view(user, &p, Some(id)).await?,
                    Some(t(l, "toast.active", &[("name", p.name.as_str())])),
                )
            }
            Action::Rename(id) => {
                let p = or_toast!(self.core.profile_of(me, id).await);
                self.save_dialogue(req, Dialogue::Rename { profile: id })
                    .await?;
                ChatResponse::question(View::text(t(
                    l,
                    "ct.rename.prompt",
                    &[("name", p.name.as_str())],
                )))
            }
            Action::Delete(id) => {
                let p = or_toast!(self.core.profile_of(me, id).await);
                let wallets = self.wallet_count(user, id).await?;
                edit(profiles::confirm_delete(l, &p, wallets), None)
            }
            Action::DeleteConfirmed(id) => {
                let p = or_toast!(self.core.profile_of(me, id).await);
                match self.core.delete_profile(me, id).await {
                    Ok(()) => edit(
                        self.profiles_view(user, None).await?,
                        Some(t(l, "toast.deleted", &[("name", p.name.as_str())])),
                    ),
                    // Refused: back to the profile, with the reason.
                    Err(e) => edit(
                        self.profile_view(user, &p, None).await?,
                        Some(profile_error(l, e)?),
                    ),
                }
            }
            Action::Section {
                profile: id,
                section,
            } => {
                let p = or_toast!(self.core.profile_of(me, id).await);
                edit(profiles::section(l, &p, section), None)
            }
            Action::Setting {
                profile: id,
                setting,
            }
            | Action::Quick {
                profile: id,
                setting,
            } => {
                if setting.kind() == SettingKind::Typed {
                    let p = or_toast!(self.core.profile_of(me, id).await);
                    self.save_dialogue(
                        req,
                        Dialogue::Setting {
                            profile: id,
                            setting,
                        },
                    )
                    .await?;
                    return Ok(ChatResponse::question(View::text(settings::prompt(
                        l,
                        setting,
                        &setting.read(&p.settings),
                    ))));
                }
                let p = or_toast!(
                    self.core
                        .change_setting(me, id, setting, SettingChange::Next)
                        .await
                );
                let page = if matches!(action, Action::Quick { .. }) {
                    self.profile_view(user, &p, None).await?
                } else {
                    profiles::section(l, &p, setting.section())
                };
                edit(page, Some(profiles::changed(l, setting, &p.settings)))
            }
            Action::Wallets { profile: id, page } => {
                let p = or_toast!(self.core.profile_of(me, id).await);
                edit(self.wallets_view(user, &p, page).await?, None)
            }
            Action::Followed(follow) => {
                let (p, f) = or_toast!(self.core.follow_of(me, follow).await);
                edit(profiles::follow(l, &p, &f), None)
            }
            Action::Override { follow, setting } => {
                if !setting.overridable() {
                    return Ok(toast(settings::error(
                        l,
                        &SettingError::NotOverridable(setting),
                    )));
                }
                if setting.kind() == SettingKind::Typed {
                    let (p, f) = or_toast!(self.core.follow_of(me, follow).await);
                    self.save_dialogue(req, Dialogue::Override { follow, setting })
                        .await?;
                    let effective = p.settings.with_overrides(&f.overrides);
                    return Ok(ChatResponse::question(View::text(settings::prompt(
                        l,
                        setting,
                        &setting.read(&effective),
                    ))));
                }
                let (p, f) = or_toast!(
                    self.core
                        .change_override(me, follow, setting, SettingChange::Next)
                        .await
                );
                let effective = p.settings.with_overrides(&f.overrides);
                edit(
                    profiles::follow(l, &p, &f),
                    Some(t(
                        l,
                        "toast.override",
                        &[
                            ("name", &settings::name(l, setting)),
                            ("value", &profiles::value(l, setting, &effective)),
                        ],
                    )),
                )
            }
            Action::ClearOverride { follow, setting } => {
                let (p, f) = or_toast!(
                    self.core
                        .change_override(me, follow, setting, SettingChange::Clear)
                        .await
                );
                edit(
                    profiles::follow(l, &p, &f),
                    Some(t(
                        l,
                        "toast.override_cleared",
                        &[
                            ("name", &settings::name(l, setting)),
                            ("value", &profiles::value(l, setting, &p.settings)),
                        ],
                    )),
                )
            }
            Action::Unfollow(follow) => {
                let (p, f) = or_toast!(self.core.follow_of(me, follow).await);
                or_toast!(self.core.unfollow_from(me, p.id, f.wallet).await);
                edit(
                    self.wallets_view(user, &p, 0).await?,
                    Some(t(
                        l,
                        "toast.unfollowed",
                        &[("wallet", &f.wallet.short()), ("profile", p.name.as_str())],
                    )),
                )
            }
            // Not copytrader buttons; the caller answers them.
            Action::Help
            | Action::List
            | Action::Status
            | Action::Untrack(_)
            | Action::Board { .. }
            | Action::Follow(_)
            | Action::Profit(_)
            | Action::Daily(_)
            | Action::Notify(_)
            | Action::Keys
            | Action::NewKey
            | Action::ImportKey
            | Action::Export(_)
            | Action::ExportConfirmed(_)
            | Action::KeysHere
            | Action::ArchivedKeys
            | Action::DeleteKey(_)
            | Action::DeleteKeyConfirmed(_)
            | Action::ArchiveKey(_)
            | Action::UnarchiveKey(_)
            | Action::RestoreKey(_)
            | Action::UseKey(_) => ChatResponse::default(),
        })
    }

    /// A text message that answers an open question. Success ends the
    /// question; a refused answer says why, keeps the old value and asks
    /// again.
    pub(super) async fn dialogue_input(
        &self,
        req: &ChatRequest,
        user: &UserRecord,
        d: Dialogue,
        text: &str,
    ) -> anyhow::Result<ChatResponse> {
        let l = user.locale;
        let me = user.user;
        let ask_again = || self.save_dialogue(req, d);
        let done = || self.end_dialogue(req);
        match d {
            Dialogue::NewProfile | Dialogue::Rename { .. } => {
                let name = match ProfileName::parse(text) {
                    Ok(n) => n,
                    Err(e) => {
                        ask_again().await?;
                        return Ok(ChatResponse::question(refusal(
                            l,
                            name_error(l, &e),
                            "ct.try_again",
                        )));
                    }
                };
                let result = match d {
                    Dialogue::Rename { profile } => {
                        self.core.rename_profile(me, profile, &name).await
                    }
                    _ => self.core.create_profile(user, &name).await,
                };
                match result {
                    Ok(p) => {
                        done().await;
                        let (key, active) = match d {
                            Dialogue::Rename { .. } => ("ct.renamed", None),
                            _ => ("ct.created", Some(p.id)),
                        };
                        Ok(replies(vec![
                            View::text(t(l, key, &[("name", p.name.as_str())])),
                            self.profile_view(user, &p, active).await?,
                        ]))
                    }
                    // Another name may do.
                    Err(ProfileError::NameTaken) => {
                        ask_again().await?;
                        Ok(ChatResponse::question(refusal(
                            l,
                            profile_error(l, ProfileError::NameTaken)?,
                            "ct.try_again",
                        )))
                    }
                    // Nothing typed can help (too many profiles, gone).
                    Err(e) => {
                        done().await;
                        Ok(replies(vec![View::text(profile_error(l, e)?)]))
                    }
                }
            }
            Dialogue::Setting { profile, setting } => {
                match self
                    .core
                    .change_setting(me, profile, setting, SettingChange::Typed(text))
                    .await
                {
                    Ok(p) => {
                        done().await;
                        Ok(replies(vec![
                            View::text(saved(l, setting, &p.settings)),
                            profiles::section(l, &p, setting.section()),
                        ]))
                    }
                    Err(e) => self.refused(req, l, e, d).await,
                }
            }
            // Answered before any other dialogue (see `dispatch`).
            Dialogue::ImportKey => self.import_input(req, user, text).await,
            Dialogue::Override { follow, setting } => {
                match self
                    .core
                    .change_override(me, follow, setting, SettingChange::Typed(text))
                    .await
                {
                    Ok((p, f)) => {
                        done().await;
                        let effective = p.settings.with_overrides(&f.overrides);
                        Ok(replies(vec![
                            View::text(t(
                                l,
                                "fw.saved",
                                &[
                                    ("name", &settings::name(l, setting)),
                                    ("value", &profiles::value(l, setting, &effective)),
                                    ("wallet", &f.wallet.short()),
                                ],
                            )),
                            profiles::follow(l, &p, &f),
                        ]))
                    }
                    Err(e) => self.refused(req, l, e, d).await,
                }
            }
        }
    }

    /// A typed value was refused: why, that the old value stays, and the
    /// question again — unless the profile or follow is gone, which ends
    /// it.
    async fn refused(
        &self,
        req: &ChatRequest,
        l: Locale,
        e: ProfileError,
        d: Dialogue,
    ) -> anyhow::Result<ChatResponse> {
        if matches!(e, ProfileError::NotFound) {
            self.end_dialogue(req).await;
            return Ok(replies(vec![View::text(profile_error(l, e)?)]));
        }
        let why = profile_error(l, e)?;
        self.save_dialogue(req, d).await?;
        Ok(ChatResponse::question(View::text(format!(
            "{why}\n{}\n{}",
            t(l, "setting.kept", &[]),
            t(l, "ct.setting.retry", &[])
        ))))
    }

    /// `/pause` and `/resume` on the active profile.
    pub(super) async fn pause(&self, user: &UserRecord, pause: bool) -> anyhow::Result<View> {
        let l = user.locale;
        let p = self.core.active_profile(user).await?;
        let name = p.name.as_str();
        if p.settings.paused == pause {
            let key = if pause {
                "pause.already"
            } else {
                "resume.already"
            };
            return Ok(View::text(t(l, key, &[("profile", name)])));
        }
        let value = if pause { "on" } else { "off" };
        let p = match self
            .core
            .change_setting(
                user.user,
                p.id,
                Setting::Paused,
                SettingChange::Typed(value),
            )
            .await
        {
            Ok(p) => p,
            Err(e) => return Ok(View::text(profile_error(l, e)?)),
        };
        let name = p.name.as_str();
        let mut text = t(
            l,
            if pause { "pause.done" } else { "resume.done" },
            &[("profile", name)],
        );
        if !pause && p.settings.stop_entry {
            text.push('\n');
            text.push_str(&t(l, "resume.still_stopped", &[]));
        }
        Ok(View::text(text))
    }

    /// `/stopentry [on|off]` on the active profile; no argument switches.
    pub(super) async fn stop_entry(&self, user: &UserRecord, arg: &str) -> anyhow::Result<View> {
        let l = user.locale;
        let p = self.core.active_profile(user).await?;
        let change = if arg.is_empty() {
            SettingChange::Next
        } else {
            SettingChange::Typed(arg)
        };
        Ok(
            match self
                .core
                .change_setting(user.user, p.id, Setting::StopEntry, change)
                .await
            {
                Ok(p) => View::text(t(
                    l,
                    if p.settings.stop_entry {
                        "stopentry.on"
                    } else {
                        "stopentry.off"
                    },
                    &[("profile", p.name.as_str())],
                )),
                Err(ProfileError::Setting(e)) => View::text(format!(
                    "{}\n{}",
                    settings::error(l, &e),
                    t(l, "stopentry.usage", &[])
                )),
                Err(e) => View::text(profile_error(l, e)?),
            },
        )
    }
}

/// `✅ Name is now value.`
fn saved(l: Locale, s: Setting, of: &crate::domain::ProfileSettings) -> String {
    t(
        l,
        "setting.saved",
        &[
            ("name", &settings::name(l, s)),
            ("value", &profiles::value(l, s, of)),
        ],
    )
}
