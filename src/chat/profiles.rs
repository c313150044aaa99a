//! The copytrader screens as views: the profiles, a profile's page, one
//! section of its settings, its wallets, and one wallet's own settings
//! (overrides). Pure: the handlers in `copytrader.rs` fetch, these render.

use super::action::Action;
use super::i18n::t;
use super::settings;
use super::view::{Button, View};
use crate::domain::{
    BuyMode, Follow, Locale, Profile, ProfileId, ProfileSettings, Section, Setting,
};
use crate::service::MAX_PROFILES;

/// Followed wallets per page of the wallets screen.
pub const WALLETS_PAGE: usize = 20;

fn button(label: String, action: Action) -> Button {
    Button { label, action }
}

/// Buttons in rows of `n`.
fn rows(view: View, buttons: Vec<Button>, n: usize) -> View {
    let mut view = view;
    let mut buttons = buttons.into_iter().peekable();
    while buttons.peek().is_some() {
        view = view.with_row(buttons.by_ref().take(n).collect());
    }
    view
}

fn mode(l: Locale, p: &Profile) -> String {
    t(l, &format!("mode.{}", p.settings.mode.code()), &[])
}

fn active_mark(l: Locale, active: bool) -> String {
    if active {
        t(l, "ct.active", &[])
    } else {
        String::new()
    }
}

/// A setting's current value in words.
#[must_use]
pub fn value(l: Locale, s: Setting, of: &ProfileSettings) -> String {
    settings::value(l, s, &s.read(of))
}

/// The toast after a switch: `✅ Name: value`.
#[must_use]
pub fn changed(l: Locale, s: Setting, of: &ProfileSettings) -> String {
    t(
        l,
        "toast.setting",
        &[("name", &settings::name(l, s)), ("value", &value(l, s, of))],
    )
}

/// One profile in the list: the profile, whether it is the active one and
/// how many wallets it follows.
#[derive(Debug, Clone, Copy)]
pub struct Entry<'a> {
    pub profile: &'a Profile,
    pub active: bool,
    pub wallets: usize,
}

/// `/copytrader`: every profile as a button, and "new profile".
#[must_use]
pub fn list(l: Locale, entries: &[Entry<'_>]) -> View {
    let mut lines = vec![t(
        l,
        "ct.header",
        &[
            ("count", &entries.len().to_string()),
            ("max", &MAX_PROFILES.to_string()),
        ],
    )];
    let mut view = View::default();
    for e in entries {
        let st = &e.profile.settings;
        let state = if st.paused {
            t(l, "ct.state.paused", &[])
        } else if st.stop_entry {
            t(l, "ct.state.stopped", &[])
        } else {
            String::new()
        };
        let args: [(&str, &str); 5] = [
            ("name", e.profile.name.as_str()),
            ("active", &active_mark(l, e.active)),
            ("mode", &mode(l, e.profile)),
            ("wallets", &e.wallets.to_string()),
            ("state", &state),
        ];
        lines.push(t(l, "ct.line", &args));
        view = view.with_row(vec![button(
            t(l, "ct.button", &args),
            Action::Profile(e.profile.id),
        )]);
    }
    lines.push(t(l, "ct.hint", &[]));
    view.text = lines.join("\n");
    view.with_row(vec![button(
        t(l, "button.new_profile", &[]),
        Action::NewProfile,
    )])
}

/// A profile's page: a short summary and its controls.
#[must_use]
pub fn profile(l: Locale, p: &Profile, active: bool, wallets: usize) -> View {
    let s = &p.settings;
    let v = |setting: Setting| value(l, setting, s);
    let mut lines = vec![
        t(
            l,
            "pv.header",
            &[
                ("name", p.name.as_str()),
                ("active", &active_mark(l, active)),
                ("mode", &mode(l, p)),
            ],
        ),
        match s.buy_mode {
            BuyMode::Fixed => t(l, "pv.buy.fixed", &[("sol", &v(Setting::BuySol))]),
            BuyMode::LeaderPct => t(l, "pv.buy.pct", &[("pct", &v(Setting::BuyPct))]),
        },
        t(
            l,
            "pv.exits",
            &[
                ("sl", &v(Setting::StopLoss)),
                ("tp", &v(Setting::Tp1)),
                ("hold", &v(Setting::MaxHold)),
            ],
        ),
        t(
            l,
            "pv.limits",
            &[
                ("open", &v(Setting::MaxOpen)),
                ("cap", &v(Setting::DailyCap)),
                ("loss", &v(Setting::DailyLossLimit)),
            ],
        ),
        t(l, "pv.signal", &[("signal", &v(Setting::Signal))]),
        t(l, "pv.wallets", &[("n", &wallets.to_string())]),
    ];
    if s.paused {
        lines.push(t(l, "pv.paused", &[]));
    }
    if s.stop_entry {
        lines.push(t(l, "pv.stopped", &[]));
    }
    if s.notify_only {
        lines.push(t(l, "pv.notify_only", &[]));
    }
    lines.push(t(l, "pv.hint", &[]));

    let id = p.id;
    let sections = Section::ALL
        .iter()
        .map(|&section| {
            button(
                settings::section(l, section),
                Action::Section {
                    profile: id,
                    section,
                },
            )
        })
        .collect();
    let quick = |setting, on: bool, on_key: &str, off_key: &str| {
        button(
            t(l, if on { on_key } else { off_key }, &[]),
            Action::Quick {
                profile: id,
                setting,
            },
        )
    };
    let mut manage = Vec::new();
    if !active {
        manage.push(button(
            t(l, "button.make_active", &[]),
            Action::Activate(id),
        ));
    }
    manage.push(button(t(l, "button.rename", &[]), Action::Rename(id)));
    manage.push(button(t(l, "button.delete", &[]), Action::Delete(id)));
    rows(View::text(lines.join("\n")), sections, 3)
        .with_row(vec![button(
            t(l, "button.wallets", &[("n", &wallets.to_string())]),
            Action::Wallets {
                profile: id,
                page: 0,
            },
        )])
        .with_row(vec![
            quick(Setting::Paused, s.paused, "button.resume", "button.pause"),
            quick(
                Setting::StopEntry,
                s.stop_entry,
                "button.allow_entries",
                "button.stop_entries",
            ),
        ])
        .with_row(manage)
        .with_row(vec![button(t(l, "button.profiles", &[]), Action::Profiles)])
}

fn back_to(l: Locale, p: &Profile) -> Button {
    button(
        t(l, "button.back_to", &[("name", p.name.as_str())]),
        Action::Profile(p.id),
    )
}

/// Asks to confirm a deletion.
#[must_use]
pub fn confirm_delete(l: Locale, p: &Profile, wallets: usize) -> View {
    View::text(t(
        l,
        "pv.delete.confirm",
        &[("name", p.name.as_str()), ("n", &wallets.to_string())],
    ))
    .with_row(vec![
        button(
            t(l, "button.delete_yes", &[]),
            Action::DeleteConfirmed(p.id),
        ),
        button(t(l, "button.keep", &[]), Action::Profile(p.id)),
    ])
}

/// One section of a profile's settings: each with its value, and a button
/// per setting.
#[must_use]
pub fn section(l: Locale, p: &Profile, section: Section) -> View {
    let mut lines = vec![t(
        l,
        "sec.header",
        &[
            ("section", &settings::section(l, section)),
            ("profile", p.name.as_str()),
        ],
    )];
    let mut view = View::default();
    for setting in Setting::in_section(section) {
        let (name, val) = (settings::name(l, setting), value(l, setting, &p.settings));
        let args = [("name", name.as_str()), ("value", val.as_str())];
        lines.push(t(l, "sec.line", &args));
        view = view.with_row(vec![button(
            t(l, "button.setting", &args),
            Action::Setting {
                profile: p.id,
                setting,
            },
        )]);
    }
    lines.push(t(l, "sec.hint", &[]));
    view.text = lines.join("\n");
    view.with_row(vec![back_to(l, p)])
}

/// A page of a profile's wallets (`follows` are this profile's), one
/// button each.
#[must_use]
pub fn wallets(l: Locale, p: &Profile, follows: &[&Follow], page: usize) -> View {
    let name = p.name.as_str();
    if follows.is_empty() {
        return View::text(t(l, "wl.empty", &[("profile", name)])).with_row(vec![back_to(l, p)]);
    }
    let pages = follows.len().div_ceil(WALLETS_PAGE);
    let page = page.min(pages - 1);
    let mut lines = vec![t(
        l,
        "wl.header",
        &[("profile", name), ("count", &follows.len().to_string())],
    )];
    let mut buttons = Vec::new();
    for (i, f) in follows
        .iter()
        .enumerate()
        .skip(page * WALLETS_PAGE)
        .take(WALLETS_PAGE)
    {
        let n = f.overrides.0.len();
        let (own, own_short) = if n == 0 {
            (String::new(), String::new())
        } else {
            (
                t(l, "wl.overrides", &[("n", &n.to_string())]),
                t(l, "button.wallet.overrides", &[("n", &n.to_string())]),
            )
        };
        lines.push(t(
            l,
            "wl.line",
            &[
                ("n", &(i + 1).to_string()),
                ("wallet", &f.wallet.to_string()),
                ("overrides", &own),
            ],
        ));
        buttons.push(button(
            t(
                l,
                "button.wallet",
                &[("wallet", &f.wallet.short()), ("overrides", &own_short)],
            ),
            Action::Followed(f.id),
        ));
    }
    lines.push(t(l, "wl.hint", &[]));
    let mut view = rows(View::text(lines.join("\n")), buttons, 2);
    if pages > 1 {
        let at = |page: usize| Action::Wallets {
            profile: p.id,
            page: u32::try_from(page).unwrap_or(0),
        };
        view = view.with_row(vec![
            button(
                t(l, "button.prev", &[]),
                at(if page == 0 { pages - 1 } else { page - 1 }),
            ),
            button(
                t(
                    l,
                    "button.page",
                    &[
                        ("page", &(page + 1).to_string()),
                        ("pages", &pages.to_string()),
                    ],
                ),
                at(page),
            ),
            button(
                t(l, "button.next", &[]),
                at(if page + 1 == pages { 0 } else { page + 1 }),
            ),
        ]);
    }
    view.with_row(vec![back_to(l, p)])
}

/// One followed wallet's settings: every overridable setting with the
/// value that applies to this wallet, marked when it is the wallet's own.
#[must_use]
pub fn follow(l: Locale, p: &Profile, f: &Follow) -> View {
    let effective = p.settings.with_overrides(&f.overrides);
    let mut lines = vec![t(
        l,
        "fw.header",
        &[
            ("wallet", &f.wallet.to_string()),
            ("profile", p.name.as_str()),
        ],
    )];
    let mut edits = Vec::new();
    let mut clears = Vec::new();
    for section in Section::ALL {
        let mut own_section = Setting::in_section(section)
            .filter(|s| s.overridable())
            .peekable();
        if own_section.peek().is_none() {
            continue;
        }
        lines.push(t(
            l,
            "fw.section",
            &[("section", &settings::section(l, section))],
        ));
        for setting in own_section {
            let own = f.overrides.0.contains_key(&setting);
            let name = settings::name(l, setting);
            let val = value(l, setting, &effective);
            let args = [("name", name.as_str()), ("value", val.as_str())];
            lines.push(t(
                l,
                if own {
                    "fw.line.own"
                } else {
                    "fw.line.profile"
                },
                &args,
            ));
            edits.push(button(
                t(
                    l,
                    if own {
                        "button.override.own"
                    } else {
                        "button.setting"
                    },
                    &args,
                ),
                Action::Override {
                    follow: f.id,
                    setting,
                },
            ));
            if own {
                clears.push(button(
                    t(l, "button.clear_override", &[("name", &name)]),
                    Action::ClearOverride {
                        follow: f.id,
                        setting,
                    },
                ));
            }
        }
    }
    lines.push(t(l, "fw.hint", &[]));
    let view = rows(View::text(lines.join("\n")), edits, 2);
    rows(view, clears, 3)
        .with_row(vec![button(
            t(l, "button.unfollow", &[]),
            Action::Unfollow(f.id),
        )])
        .with_row(vec![
            button(
                t(l, "button.wallets_back", &[]),
                Action::Wallets {
                    profile: p.id,
                    page: 0,
                },
            ),
            back_to(l, p),
        ])
}

/// The active profile among `profiles`: the user's choice when it still
/// exists, else the first (as the core's `active_profile` decides).
#[must_use]
pub fn active_id(chosen: Option<ProfileId>, profiles: &[Profile]) -> Option<ProfileId> {
    chosen
        .filter(|id| profiles.iter().any(|p| p.id == *id))
        .or_else(|| profiles.first().map(|p| p.id))
}
