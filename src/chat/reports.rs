//! Reports for people: `/why` (the last copy decisions in plain words),
//! `/profit`, `/daily` and the `/notify` switches. Pure: figures come from
//! the core, words from `locales/`.

use super::action::Action;
use super::i18n::t;
use super::render::{percent, tokens};
use super::trading::{self, pnl, signed_bps, sol};
use super::view::{Button, View};
use crate::domain::{
    Address, DecisionRecord, Intent, Lamports, Locale, NotifyKind, NotifyLevel, NotifyPrefs,
    Profile, ProfileId, RoundTrip, Side, Verdict,
};
use crate::service::{Daily, Profit};

/// Wallets named under "top wallets" in `/profit`.
const TOP_LEADERS: usize = 5;

fn mode(l: Locale, p: &Profile) -> String {
    t(l, &format!("mode.{}", p.settings.mode.code()), &[])
}

/// A button per other profile (`key` labels it with `{name}`), in rows of
/// three.
fn others(
    view: View,
    l: Locale,
    profiles: &[Profile],
    key: &str,
    action: fn(ProfileId) -> Action,
) -> View {
    let buttons: Vec<Button> = profiles
        .iter()
        .map(|p| Button {
            label: t(l, key, &[("name", p.name.as_str())]),
            action: action(p.id),
        })
        .collect();
    let mut view = view;
    for row in buttons.chunks(3) {
        view = view.with_row(row.to_vec());
    }
    view
}

/// `/why`: the decisions, newest first, each with its time, profile, side,
/// token and leader, and the verdict in words. `profiles` names the ids;
/// a deleted profile shows as `#id`.
#[must_use]
pub fn why(
    l: Locale,
    records: &[DecisionRecord],
    about: Option<&Address>,
    profiles: &[Profile],
    now_ms: i64,
) -> View {
    if records.is_empty() {
        return View::text(match about {
            Some(a) => t(l, "why.empty_about", &[("address", &a.to_string())]),
            None => t(l, "why.empty", &[]),
        });
    }
    let n = records.len().to_string();
    let mut lines = vec![match about {
        Some(a) => t(
            l,
            "why.header_about",
            &[("n", &n), ("address", &a.to_string())],
        ),
        None => t(l, "why.header", &[("n", &n)]),
    }];
    let today = trading::date(now_ms);
    for r in records {
        let day = trading::date(r.at_ms);
        let time = if day == today {
            trading::clock(r.at_ms)
        } else {
            format!("{day} {}", trading::clock(r.at_ms))
        };
        let profile = profiles
            .iter()
            .find(|p| p.id == r.profile)
            .map_or_else(|| format!("#{}", r.profile), |p| p.name.to_string());
        lines.push(t(
            l,
            "why.line",
            &[
                ("time", &time),
                ("profile", &profile),
                ("side", &t(l, &format!("why.side.{}", r.side.as_str()), &[])),
                ("mint", &r.mint.short()),
                ("leader", &r.leader.short()),
                ("verdict", &verdict(l, r)),
            ],
        ));
    }
    View::text(lines.join("\n"))
}

/// A decision's outcome in words.
#[must_use]
pub fn verdict(l: Locale, r: &DecisionRecord) -> String {
    match (&r.verdict, r.side) {
        (
            Verdict::Placed {
                intent: Intent::Consensus { voters, .. },
                sol: s,
                ..
            },
            _,
        ) => t(
            l,
            "why.placed.consensus",
            &[("voters", &voters.to_string()), ("sol", &sol(*s))],
        ),
        (Verdict::Placed { sol: s, .. }, Side::Buy) => t(l, "why.placed.buy", &[("sol", &sol(*s))]),
        (
            Verdict::Placed {
                intent: Intent::Exit(why),
                tokens: n,
                ..
            },
            Side::Sell,
        ) => t(
            l,
            "why.placed.exit",
            &[
                ("tokens", &tokens(*n)),
                ("why", &trading::exit_reason(l, *why)),
            ],
        ),
        (Verdict::Placed { tokens: n, .. }, Side::Sell) => {
            t(l, "why.placed.sell", &[("tokens", &tokens(*n))])
        }
        (Verdict::Skipped { reason }, _) => t(
            l,
            "why.skipped",
            &[("reason", &trading::reason(l, *reason))],
        ),
        (
            Verdict::Filled {
                sol: s, tokens: n, ..
            },
            side,
        ) => t(
            l,
            match side {
                Side::Buy => "why.filled.buy",
                Side::Sell => "why.filled.sell",
            },
            &[("tokens", &tokens(*n)), ("sol", &sol(*s))],
        ),
        (Verdict::Rejected { reason, .. }, _) => t(
            l,
            "why.rejected",
            &[("reason", &trading::reason(l, *reason))],
        ),
    }
}

fn trip_line(l: Locale, key: &str, trip: &RoundTrip) -> String {
    t(
        l,
        key,
        &[
            ("mint", &trip.mint.short()),
            ("pnl", &pnl(trip.pnl)),
            ("roi", &signed_bps(trip.roi_bps())),
            ("leader", &trip.leader.short()),
        ],
    )
}

/// `/profit` of one profile, with buttons for the user's others.
#[must_use]
pub fn profit(l: Locale, p: &Profit) -> View {
    let r = &p.report;
    let mut lines = vec![
        t(
            l,
            "profit.header",
            &[
                ("profile", p.profile.name.as_str()),
                ("mode", &mode(l, &p.profile)),
            ],
        ),
        t(
            l,
            "profit.pnl",
            &[
                ("realized", &pnl(r.realized)),
                ("unrealized", &pnl(r.unrealized)),
            ],
        ),
    ];
    if r.trips == 0 {
        lines.push(t(l, "profit.empty", &[]));
    } else {
        lines.push(t(
            l,
            "profit.trips",
            &[
                ("trips", &r.trips.to_string()),
                ("wins", &r.wins.to_string()),
                ("losses", &r.losses.to_string()),
                ("wr", &percent(r.win_rate)),
            ],
        ));
        lines.push(match r.profit_factor {
            Some(pf) => t(l, "profit.factor", &[("pf", &format!("{pf:.2}"))]),
            None => t(l, "profit.no_loss", &[]),
        });
        lines.push(t(
            l,
            "profit.drawdown",
            &[("dd", &sol(Lamports(r.max_drawdown.unsigned_abs())))],
        ));
        if let Some(best) = &r.best {
            lines.push(trip_line(l, "profit.best", best));
        }
        if let Some(worst) = &r.worst
            && r.trips > 1
        {
            lines.push(trip_line(l, "profit.worst", worst));
        }
        lines.push(t(l, "profit.leaders", &[]));
        for (i, line) in r.per_leader.iter().take(TOP_LEADERS).enumerate() {
            lines.push(t(
                l,
                "profit.leader",
                &[
                    ("rank", &(i + 1).to_string()),
                    ("wallet", &line.leader.short()),
                    ("trips", &line.trips.to_string()),
                    ("wins", &line.wins.to_string()),
                    ("pnl", &pnl(line.pnl)),
                ],
            ));
        }
    }
    others(
        View::text(lines.join("\n")),
        l,
        &p.others,
        "button.profit_of",
        Action::Profit,
    )
}

/// `/daily`: one line per UTC day, newest first, and the total.
#[must_use]
pub fn daily(l: Locale, d: &Daily) -> View {
    let mut lines = vec![t(
        l,
        "daily.header",
        &[
            ("days", &d.days.len().to_string()),
            ("profile", d.profile.name.as_str()),
            ("mode", &mode(l, &d.profile)),
        ],
    )];
    let (mut trips, mut total, mut volume) = (0u32, 0i64, 0u64);
    for day in &d.days {
        let date = trading::date(day.day_ms);
        if day.trips == 0 {
            lines.push(t(l, "daily.none", &[("date", &date)]));
            continue;
        }
        trips += day.trips;
        total = total.saturating_add(day.pnl);
        volume = volume.saturating_add(day.volume);
        lines.push(t(
            l,
            "daily.line",
            &[
                ("date", &date),
                ("trips", &day.trips.to_string()),
                ("wins", &day.wins.to_string()),
                ("losses", &(day.trips - day.wins).to_string()),
                ("pnl", &pnl(day.pnl)),
                ("volume", &sol(Lamports(day.volume))),
            ],
        ));
    }
    lines.push(t(
        l,
        "daily.total",
        &[
            ("trips", &trips.to_string()),
            ("pnl", &pnl(total)),
            ("volume", &sol(Lamports(volume))),
        ],
    ));
    others(
        View::text(lines.join("\n")),
        l,
        &d.others,
        "button.daily_of",
        Action::Daily,
    )
}

fn kind_name(l: Locale, k: NotifyKind) -> String {
    t(l, &format!("notify.kind.{}", k.code()), &[])
}

fn level_name(l: Locale, level: NotifyLevel) -> String {
    t(
        l,
        match level {
            NotifyLevel::On => "notify.level.on",
            NotifyLevel::Silent => "notify.level.silent",
            NotifyLevel::Off => "notify.level.off",
        },
        &[],
    )
}

/// The toast after a notification switch.
#[must_use]
pub fn notify_changed(l: Locale, k: NotifyKind, level: NotifyLevel) -> String {
    t(
        l,
        "toast.notify",
        &[("name", &kind_name(l, k)), ("level", &level_name(l, level))],
    )
}

/// `/notify`: each kind with its level and what it is about; a button per
/// kind moves it to the next level.
#[must_use]
pub fn notify(l: Locale, prefs: &NotifyPrefs) -> View {
    let mut lines = vec![t(l, "notify.header", &[])];
    let mut view = View::default();
    for k in NotifyKind::ALL {
        let (name, level) = (kind_name(l, k), level_name(l, prefs.level(k)));
        let about = t(l, &format!("notify.about.{}", k.code()), &[]);
        let args = [
            ("name", name.as_str()),
            ("level", level.as_str()),
            ("about", about.as_str()),
        ];
        lines.push(t(l, "notify.line", &args));
        view = view.with_row(vec![Button {
            label: t(l, "button.notify", &args),
            action: Action::Notify(k),
        }]);
    }
    view.text = lines.join("\n");
    view
}
