//! Rendering of domain values into localized views. The only place where
//! money, tokens and addresses are formatted for people.

use super::action::Action;
use super::command::{COMMANDS, Scope};
use super::i18n::t;
use super::trading::{self, pnl};
use super::view::{Button, View};
use crate::domain::money::format_sol;
use crate::domain::ports::{Discovered, OutboxPayload};
use crate::domain::{Follow, Lamports, Locale, Profile, TokenAmount, WalletAddress};
use crate::engine::analytics::{
    AnalyticsConfig, Flag, LeaderRow, Metric, Stats, Tier, WalletCard, Window,
};
use crate::service::{BoardPage, Discovery};

fn sol(l: Lamports) -> String {
    format_sol(i128::from(l.0))
}

/// Token amounts in UI units with thousands grouping (`1,234,567.89`).
#[must_use]
pub fn tokens(a: TokenAmount) -> String {
    let whole = a.0 / 1_000_000;
    let frac = (a.0 % 1_000_000) / 10_000;
    let digits = whole.to_string();
    let mut grouped = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(c);
    }
    if frac == 0 {
        grouped
    } else {
        format!("{grouped}.{frac:02}")
    }
}

#[must_use]
pub fn welcome(locale: Locale, name: &str, profile: &Profile) -> View {
    let mode = t(
        locale,
        &format!("mode.{}", profile.settings.mode.code()),
        &[],
    );
    View::text(t(
        locale,
        "welcome",
        &[
            ("name", name),
            ("profile", profile.name.as_str()),
            ("mode", &mode),
            ("copy", &sol(profile.settings.buy_sol)),
        ],
    ))
    .with_row(vec![Button {
        label: t(locale, "button.copytrader", &[]),
        action: Action::Copytrader,
    }])
    .with_row(vec![
        Button {
            label: t(locale, "button.list", &[]),
            action: Action::List,
        },
        Button {
            label: t(locale, "button.status", &[]),
            action: Action::Status,
        },
    ])
    .with_row(vec![Button {
        label: t(locale, "button.help", &[]),
        action: Action::Help,
    }])
}

/// /help, generated from the command list.
#[must_use]
pub fn help(locale: Locale) -> View {
    let mut lines = vec![t(locale, "help.header", &[])];
    for c in COMMANDS {
        let args = c.arg.key().map(|a| t(locale, a, &[])).unwrap_or_default();
        let mut line = t(
            locale,
            "help.line",
            &[
                ("command", c.name),
                ("args", &args),
                ("about", &t(locale, c.about, &[])),
            ],
        )
        .replace("  ", " ");
        if c.scope == Scope::Private {
            line.push_str(&t(locale, "help.private", &[]));
        }
        lines.push(line);
        if !c.aliases.is_empty() {
            lines.push(t(
                locale,
                "help.aliases",
                &[("aliases", &c.aliases.join(", /"))],
            ));
        }
    }
    lines.push(t(locale, "help.footer", &[]));
    View::text(lines.join("\n"))
}

/// /list with one untrack button per wallet.
#[must_use]
pub fn list(locale: Locale, follows: &[Follow], profiles: &[Profile]) -> View {
    let mut wallets: Vec<WalletAddress> = Vec::new();
    for f in follows {
        if !wallets.contains(&f.wallet) {
            wallets.push(f.wallet);
        }
    }
    if wallets.is_empty() {
        return View::text(t(locale, "list.empty", &[]));
    }
    let mut lines = vec![t(
        locale,
        "list.header",
        &[("count", &wallets.len().to_string())],
    )];
    let mut view = View::default();
    for w in &wallets {
        let names: Vec<&str> = follows
            .iter()
            .filter(|f| f.wallet == *w)
            .filter_map(|f| profiles.iter().find(|p| p.id == f.profile))
            .map(|p| p.name.as_str())
            .collect();
        lines.push(t(
            locale,
            "list.line",
            &[("wallet", &w.to_string()), ("profiles", &names.join(", "))],
        ));
        view = view.with_row(vec![Button {
            label: t(locale, "button.untrack", &[("wallet", &w.short())]),
            action: Action::Untrack(*w),
        }]);
    }
    view.text = lines.join("\n");
    view
}

// ------------------------------------------------------------ analytics --

/// Rows per leaderboard page.
pub const BOARD_PAGE_SIZE: usize = 10;
/// Discovered wallets named in the leaderboard's footer.
const DISCOVERIES_SHOWN: usize = 5;

#[allow(clippy::cast_precision_loss, reason = "display only")]
fn lamports_f64(v: f64) -> String {
    // Values are whole lamports carried in an f64 by the leaderboard.
    #[allow(
        clippy::cast_possible_truncation,
        reason = "display only; SOL amounts are far below 2^127"
    )]
    let v = v.round() as i128;
    format_sol(v)
}

fn signed_sol_f64(v: f64) -> String {
    let s = lamports_f64(v);
    if v >= 0.5 { format!("+{s}") } else { s }
}

/// A ratio as a whole percentage (`64%`).
#[must_use]
pub fn percent(ratio: f64) -> String {
    format!("{:.0}%", ratio * 100.0)
}

/// A signed ratio as a percentage (`+35%`, `-8%`).
fn signed_percent(ratio: f64) -> String {
    format!("{:+.0}%", ratio * 100.0)
}

fn tier_label(locale: Locale, tier: Option<Tier>) -> String {
    match tier {
        Some(Tier::S) => "S".to_owned(),
        Some(Tier::A) => "A".to_owned(),
        Some(Tier::B) => "B".to_owned(),
        Some(Tier::C) => "C".to_owned(),
        None => t(locale, "tier.none", &[]),
    }
}

const fn flag_emoji(flag: Flag) -> &'static str {
    match flag {
        Flag::QuickFlip => "⚡",
        Flag::SoldIntoFollowers => "🎯",
        Flag::Sybil => "👥",
    }
}

const fn flag_key(flag: Flag) -> &'static str {
    match flag {
        Flag::QuickFlip => "flag.quick_flip",
        Flag::SoldIntoFollowers => "flag.sold_into_followers",
        Flag::Sybil => "flag.sybil",
    }
}

fn metric_label(locale: Locale, metric: Metric) -> String {
    t(locale, &format!("metric.{}", metric.code()), &[])
}

fn window_label(locale: Locale, window: Window) -> String {
    t(locale, &format!("window.{}", window.code()), &[])
}

/// A leaderboard value in the metric's unit.
fn metric_value(metric: Metric, value: f64) -> String {
    match metric {
        Metric::Score => format!("{value:.2}"),
        Metric::Pnl => format!("{} SOL", signed_sol_f64(value)),
        Metric::Roi => signed_percent(value),
        Metric::WinRate => percent(value),
        Metric::Volume => format!("{} SOL", lamports_f64(value)),
    }
}

/// A span of time in the largest two units (`3 min 20 s`, `2 h 5 min`).
#[must_use]
pub fn duration(locale: Locale, ms: i64) -> String {
    let secs = ms.max(0) / 1000;
    let unit = |key: &str, n: i64| t(locale, key, &[("n", &n.to_string())]);
    let (d, h, m, s) = (secs / 86_400, secs / 3_600 % 24, secs / 60 % 60, secs % 60);
    let parts = if d > 0 {
        [unit("unit.d", d), unit("unit.h", h)]
    } else if h > 0 {
        [unit("unit.h", h), unit("unit.min", m)]
    } else if m > 0 {
        [unit("unit.min", m), unit("unit.s", s)]
    } else {
        return unit("unit.s", s);
    };
    if parts[1].starts_with('0') {
        parts[0].clone()
    } else {
        parts.join(" ")
    }
}

/// How long ago `then_ms` was, in its largest unit (`3 min ago`).
#[must_use]
pub fn ago(locale: Locale, now_ms: i64, then_ms: i64) -> String {
    let secs = (now_ms - then_ms) / 1000;
    if secs < 5 {
        return t(locale, "time.just_now", &[]);
    }
    let (key, n) = match secs {
        s if s < 60 => ("unit.s", s),
        s if s < 3_600 => ("unit.min", s / 60),
        s if s < 172_800 => ("unit.h", s / 3_600),
        s => ("unit.d", s / 86_400),
    };
    let span = t(locale, key, &[("n", &n.to_string())]);
    t(locale, "time.ago", &[("span", &span)])
}

fn board_button(locale: Locale, label: String, current: bool, action: Action) -> Button {
    let label = if current {
        t(locale, "button.current", &[("label", &label)])
    } else {
        label
    };
    Button { label, action }
}

fn board_action(metric: Metric, window: Window, page: usize) -> Action {
    Action::Board {
        metric,
        window,
        page: u32::try_from(page).unwrap_or(u32::MAX),
    }
}

/// `/alfa`: one page of a leaderboard with buttons for the timeframe, the
/// metric, paging, and following each wallet shown. Every button but
/// "follow" replaces this message in place.
#[must_use]
pub fn leaderboard(
    locale: Locale,
    board: &BoardPage,
    cfg: &AnalyticsConfig,
    discoveries: &[Discovery],
) -> View {
    let (metric, window) = (board.metric, board.window);
    let mut lines = Vec::new();
    if board.rows.is_empty() {
        lines.push(t(
            locale,
            "board.empty",
            &[
                ("window", &window_label(locale, window)),
                ("metric", &metric_label(locale, metric)),
                ("min", &cfg.min_outcomes.to_string()),
                ("win", &(cfg.win_bps / 100).to_string()),
                ("loss", &(cfg.loss_bps / 100).to_string()),
                ("horizon", &(cfg.outcome_horizon_ms / 60_000).to_string()),
            ],
        ));
    } else {
        lines.push(t(
            locale,
            "board.header",
            &[
                ("metric", &metric_label(locale, metric)),
                ("window", &window_label(locale, window)),
                ("page", &(board.page + 1).to_string()),
                ("pages", &board.pages.to_string()),
                ("total", &board.total.to_string()),
            ],
        ));
        for row in &board.rows {
            lines.push(board_line(locale, metric, row));
        }
        if board.rows.iter().any(|r| !r.flags.is_empty()) {
            lines.push(t(locale, "board.legend", &[]));
        }
        lines.push(t(locale, "board.hint", &[]));
    }
    if !discoveries.is_empty() {
        let mut names: Vec<String> = discoveries
            .iter()
            .take(DISCOVERIES_SHOWN)
            .map(|d| d.wallet.short())
            .collect();
        if discoveries.len() > DISCOVERIES_SHOWN {
            names.push(t(
                locale,
                "board.more",
                &[("n", &(discoveries.len() - DISCOVERIES_SHOWN).to_string())],
            ));
        }
        lines.push(t(
            locale,
            "board.discovered",
            &[("wallets", &names.join(", "))],
        ));
    }

    let timeframes = Window::ALL
        .iter()
        .map(|&w| {
            board_button(
                locale,
                window_label(locale, w),
                w == window,
                board_action(metric, w, 0),
            )
        })
        .collect();
    let metrics = Metric::ALL
        .iter()
        .map(|&m| {
            board_button(
                locale,
                metric_label(locale, m),
                m == metric,
                board_action(m, window, 0),
            )
        })
        .collect();
    let mut view = View::text(lines.join("\n"))
        .with_row(timeframes)
        .with_row(metrics);
    if board.pages > 1 {
        let last = board.pages - 1;
        let prev = if board.page == 0 {
            last
        } else {
            board.page - 1
        };
        let next = if board.page == last {
            0
        } else {
            board.page + 1
        };
        view = view.with_row(vec![
            Button {
                label: t(locale, "button.prev", &[]),
                action: board_action(metric, window, prev),
            },
            Button {
                label: t(
                    locale,
                    "button.page",
                    &[
                        ("page", &(board.page + 1).to_string()),
                        ("pages", &board.pages.to_string()),
                    ],
                ),
                action: board_action(metric, window, board.page),
            },
            Button {
                label: t(locale, "button.next", &[]),
                action: board_action(metric, window, next),
            },
        ]);
    }
    for pair in board.rows.chunks(2) {
        view = view.with_row(
            pair.iter()
                .map(|r| Button {
                    label: t(
                        locale,
                        "button.follow",
                        &[("rank", &r.rank.to_string()), ("wallet", &r.wallet.short())],
                    ),
                    action: Action::Follow(r.wallet),
                })
                .collect(),
        );
    }
    view
}

fn board_line(locale: Locale, metric: Metric, row: &LeaderRow) -> String {
    let flags: String = row
        .flags
        .iter()
        .map(|f| format!(" {}", flag_emoji(*f)))
        .collect();
    t(
        locale,
        "board.line",
        &[
            ("rank", &row.rank.to_string()),
            ("wallet", &row.wallet.short()),
            ("value", &metric_value(metric, row.value)),
            ("tier", &tier_label(locale, row.tier)),
            ("wr", &percent(row.stats.win_rate())),
            ("pnl", &pnl(row.stats.realized_pnl)),
            ("flags", &flags),
        ],
    )
}

/// An `/alfa` option that is neither a metric nor a timeframe.
#[must_use]
pub fn board_bad_option(locale: Locale, input: &str) -> View {
    let shown: String = input.chars().take(30).collect();
    View::text(t(locale, "board.bad_option", &[("input", &shown)]))
}

/// `/score` of a wallet never seen trading.
#[must_use]
pub fn unknown_wallet(locale: Locale, wallet: &WalletAddress) -> View {
    View::text(t(
        locale,
        "card.unknown",
        &[("wallet", &wallet.to_string())],
    ))
}

/// `/score`: the wallet card, every score with a one-line explanation.
#[must_use]
pub fn card(locale: Locale, c: &WalletCard, cfg: &AnalyticsConfig, now_ms: i64) -> View {
    let l = locale;
    let mut lines = vec![t(
        l,
        "card.header",
        &[
            ("short", &c.wallet.short()),
            ("wallet", &c.wallet.to_string()),
        ],
    )];
    let decided = c.all_time.wins + c.all_time.losses;
    let status = if c.ranked {
        t(l, "card.ranked", &[])
    } else if decided < cfg.min_outcomes {
        t(
            l,
            "card.unranked.samples",
            &[
                ("have", &decided.to_string()),
                ("min", &cfg.min_outcomes.to_string()),
            ],
        )
    } else if c.flags.contains(&Flag::Sybil) || !c.cluster.is_empty() {
        t(l, "card.unranked.cluster", &[])
    } else {
        t(l, "card.unranked", &[])
    };
    lines.push(t(
        l,
        "card.tier",
        &[("tier", &tier_label(l, c.tier)), ("status", &status)],
    ));

    if c.flags.is_empty() {
        lines.push(t(l, "card.flags.none", &[]));
    } else {
        lines.push(t(l, "card.flags", &[]));
        for &flag in &c.flags {
            let cluster: Vec<String> = c.cluster.iter().map(WalletAddress::short).collect();
            lines.push(format!(
                "{} {}",
                flag_emoji(flag),
                t(
                    l,
                    flag_key(flag),
                    &[
                        ("secs", &(cfg.quick_flip_ms / 1000).to_string()),
                        ("cluster", &cluster.join(", ")),
                    ],
                )
            ));
        }
    }

    let s = &c.scores;
    let prior = cfg.prior_alpha / (cfg.prior_alpha + cfg.prior_beta);
    lines.push(String::new());
    lines.push(t(l, "card.scores", &[]));
    lines.push(t(
        l,
        "card.bayesian",
        &[
            ("score", &format!("{:.2}", s.bayesian)),
            ("wins", &s.window_wins.to_string()),
            ("losses", &s.window_losses.to_string()),
            ("minutes", &(cfg.bayes_window_ms / 60_000).to_string()),
            ("prior", &format!("{:.1}%", prior * 100.0)),
            ("posterior", &format!("{:.2}", s.posterior)),
            ("recency", &format!("{:.2}", s.recency_boost)),
            ("size", &format!("{:.2}", s.size_factor)),
        ],
    ));
    lines.push(t(
        l,
        "card.performance",
        &[("score", &format!("{:.0}", s.performance))],
    ));
    lines.push(t(
        l,
        "card.wilson",
        &[
            ("score", &percent(s.wilson_lower)),
            ("wr", &percent(c.all_time.win_rate())),
        ],
    ));
    lines.push(t(
        l,
        "card.robust_pnl",
        &[("pnl", &pnl(s.pnl_excluding_best))],
    ));

    let a = &c.all_time;
    lines.push(String::new());
    lines.push(t(l, "card.all_time", &[]));
    lines.push(t(
        l,
        "card.pnl",
        &[
            ("realized", &pnl(a.realized_pnl)),
            ("unrealized", &pnl(a.unrealized_pnl)),
        ],
    ));
    lines.push(t(
        l,
        "card.win_rate",
        &[
            ("wr", &percent(a.win_rate())),
            ("wins", &a.wins.to_string()),
            ("losses", &a.losses.to_string()),
            ("roi", &signed_percent(a.roi)),
        ],
    ));
    lines.push(t(
        l,
        "card.activity",
        &[
            ("trades", &a.trades.to_string()),
            ("buys", &a.buys.to_string()),
            ("sells", &a.sells.to_string()),
            ("tokens", &a.tokens.to_string()),
            ("volume", &sol(Lamports(a.volume))),
        ],
    ));
    lines.push(t(l, "card.hold", &[("hold", &duration(l, a.avg_hold_ms))]));
    for (w, st) in &c.windows {
        lines.push(window_line(l, *w, st));
    }
    lines.push(t(
        l,
        "card.seen",
        &[
            ("first", &ago(l, now_ms, c.first_ms)),
            ("last", &ago(l, now_ms, c.last_ms)),
        ],
    ));
    View::text(lines.join("\n")).with_row(vec![Button {
        label: t(l, "button.follow_wallet", &[("wallet", &c.wallet.short())]),
        action: Action::Follow(c.wallet),
    }])
}

fn window_line(locale: Locale, w: Window, st: &Stats) -> String {
    t(
        locale,
        "card.window",
        &[
            ("window", &window_label(locale, w)),
            ("pnl", &pnl(st.realized_pnl)),
            ("wr", &percent(st.win_rate())),
            ("trades", &st.trades.to_string()),
            ("volume", &sol(Lamports(st.volume))),
        ],
    )
}

/// A followed wallet changed tier.
#[must_use]
pub fn tier_change(
    locale: Locale,
    wallet: &WalletAddress,
    from: Option<Tier>,
    to: Option<Tier>,
    before_bps: u32,
    after_bps: u32,
) -> View {
    let rate = |bps: u32| percent(f64::from(bps) / 10_000.0);
    // Tiers order S < A < B < C; unranked is below them all.
    let rank = |tier: Option<Tier>| tier.map_or(u8::MAX, |tier| tier as u8);
    let key = match to {
        None => "tier.alert.unranked",
        Some(Tier::S) if from != Some(Tier::S) => "tier.alert.new_s",
        Some(_) if rank(to) < rank(from) => "tier.alert.up",
        Some(_) => "tier.alert.down",
    };
    View::text(t(
        locale,
        key,
        &[
            ("wallet", &wallet.to_string()),
            ("from", &tier_label(locale, from)),
            ("to", &tier_label(locale, to)),
            ("before", &rate(before_bps)),
            ("after", &rate(after_bps)),
        ],
    ))
}

/// Wallets the daily digest lists by name (the rest are counted).
const DIGEST_SHOWN: usize = 10;

/// The daily digest of wallets new to the top of the leaderboards, with a
/// follow button for each one listed.
#[must_use]
pub fn digest(locale: Locale, day_ms: i64, wallets: &[Discovered]) -> View {
    let mut lines = vec![t(
        locale,
        "digest.header",
        &[
            ("date", &trading::date(day_ms)),
            ("n", &wallets.len().to_string()),
        ],
    )];
    let shown = &wallets[..wallets.len().min(DIGEST_SHOWN)];
    for (i, d) in shown.iter().enumerate() {
        lines.push(t(
            locale,
            "digest.line",
            &[
                ("n", &(i + 1).to_string()),
                ("wallet", &d.wallet.to_string()),
                ("rank", &d.rank.to_string()),
                ("metric", &metric_label(locale, d.metric)),
                ("window", &window_label(locale, d.window)),
            ],
        ));
    }
    if wallets.len() > shown.len() {
        lines.push(t(
            locale,
            "board.more",
            &[("n", &(wallets.len() - shown.len()).to_string())],
        ));
    }
    lines.push(t(locale, "digest.hint", &[]));
    let mut view = View::text(lines.join("\n"));
    let buttons: Vec<Button> = shown
        .iter()
        .enumerate()
        .map(|(i, d)| Button {
            label: t(
                locale,
                "button.follow",
                &[
                    ("rank", &(i + 1).to_string()),
                    ("wallet", &d.wallet.short()),
                ],
            ),
            action: Action::Follow(d.wallet),
        })
        .collect();
    for pair in buttons.chunks(2) {
        view = view.with_row(pair.to_vec());
    }
    view
}

/// An outbox message, rendered in the recipient's locale at delivery time.
#[must_use]
pub fn outbox(locale: Locale, payload: &OutboxPayload) -> View {
    match payload {
        OutboxPayload::TierChanged {
            wallet,
            from,
            to,
            win_rate_before_bps,
            win_rate_after_bps,
            at_ms: _,
        } => tier_change(
            locale,
            wallet,
            *from,
            *to,
            *win_rate_before_bps,
            *win_rate_after_bps,
        ),
        OutboxPayload::Trade { alert, copies } => trading::alert(locale, alert, copies),
        OutboxPayload::Fill { fill, profile_name } => trading::fill(locale, fill, profile_name),
        OutboxPayload::Rejected {
            order,
            profile_name,
            reason,
        } => trading::rejected(locale, order, profile_name, *reason),
        OutboxPayload::Closed { trip, profile_name } => trading::closed(locale, trip, profile_name),
        OutboxPayload::Risk {
            profile_name,
            event,
            at_ms: _,
        } => trading::risk(locale, profile_name, event),
        OutboxPayload::Discoveries { day_ms, wallets } => digest(locale, *day_ms, wallets),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_grouping() {
        assert_eq!(tokens(TokenAmount(1_234_567_890_000)), "1,234,567.89");
        assert_eq!(tokens(TokenAmount(999_000_000)), "999");
        assert_eq!(tokens(TokenAmount(0)), "0");
    }

    #[test]
    fn help_lists_every_command_in_each_locale() {
        for l in Locale::ALL {
            let h = help(l).text;
            for c in COMMANDS {
                assert!(h.contains(&format!("/{}", c.name)), "{h}");
            }
            assert!(h.contains("/follow"));
        }
    }

    // ------------------------------------------------------- analytics --

    use crate::engine::analytics::Scores;

    fn w(n: u8) -> WalletAddress {
        WalletAddress::from_bytes([n; 32])
    }

    fn stats(wins: u32, losses: u32, pnl: i64) -> Stats {
        Stats {
            realized_pnl: pnl,
            unrealized_pnl: -100_000_000,
            roi: 0.35,
            wins,
            losses,
            trades: 42,
            buys: 25,
            sells: 17,
            tokens: 12,
            volume: 34_500_000_000,
            avg_hold_ms: 200_000,
        }
    }

    fn row(rank: u32, flags: Vec<Flag>) -> LeaderRow {
        LeaderRow {
            rank,
            wallet: w(u8::try_from(rank).unwrap()),
            value: 0.7 - f64::from(rank) / 100.0,
            tier: Some(Tier::A),
            score: 0.7,
            stats: stats(16, 9, 1_230_000_000),
            flags,
        }
    }

    fn page(rows: Vec<LeaderRow>, page: usize, total: usize) -> BoardPage {
        BoardPage {
            metric: Metric::Score,
            window: Window::H24,
            page,
            pages: total.div_ceil(BOARD_PAGE_SIZE).max(1),
            total,
            rows,
        }
    }

    fn data(view: &View) -> Vec<Vec<String>> {
        view.buttons
            .iter()
            .map(|r| r.iter().map(|b| b.action.encode()).collect())
            .collect()
    }

    /// No placeholder or key left unresolved.
    fn assert_resolved(text: &str) {
        for bad in [
            "{", "}", "board.", "card.", "flag.", "metric.", "window.", "unit.",
        ] {
            assert!(!text.contains(bad), "{bad:?} left in {text}");
        }
    }

    #[test]
    fn leaderboard_page_shows_rows_and_every_control() {
        let mut rows: Vec<LeaderRow> = (1..=10).map(|r| row(r, vec![])).collect();
        rows[2].flags = vec![Flag::QuickFlip, Flag::Sybil];
        rows[3].tier = None;
        let board = page(rows, 0, 12);
        let v = leaderboard(Locale::En, &board, &AnalyticsConfig::default(), &[]);
        let lines: Vec<&str> = v.text.lines().collect();
        assert_eq!(
            lines[0],
            "🏆 Top wallets by Score · 24h · page 1/2 (12 ranked)"
        );
        assert_eq!(
            lines[1],
            format!(
                "1. {} · 0.69 · tier A · WR 64% · PnL +1.23 SOL",
                w(1).short()
            )
        );
        assert!(lines[3].ends_with("⚡ 👥"), "{}", lines[3]);
        assert!(lines[4].contains("tier –"), "{}", lines[4]);
        assert!(v.text.contains("⚡ quick flips"), "legend: {}", v.text);
        assert_resolved(&v.text);

        let d = data(&v);
        assert_eq!(d[0], ["a:score:24h:0", "a:score:7d:0", "a:score:30d:0"]);
        assert_eq!(
            d[1],
            [
                "a:score:24h:0",
                "a:pnl:24h:0",
                "a:roi:24h:0",
                "a:wr:24h:0",
                "a:vol:24h:0"
            ]
        );
        // ◀ wraps to the last page, the middle one refreshes, ▶ goes on.
        assert_eq!(d[2], ["a:score:24h:1", "a:score:24h:0", "a:score:24h:1"]);
        assert_eq!(v.buttons[2][1].label, "1/2 🔄");
        let follows: Vec<String> = d[3..].concat();
        assert_eq!(follows.len(), 10);
        assert_eq!(follows[0], format!("f:{}", w(1)));
        assert!(d[3..].iter().all(|r| r.len() <= 2));
        // The current choices are marked, the others not.
        assert_eq!(v.buttons[0][0].label, "• 24h");
        assert_eq!(v.buttons[0][1].label, "7d");
        assert_eq!(v.buttons[1][0].label, "• Score");
        for b in v.buttons.iter().flatten() {
            let enc = b.action.encode();
            assert!(enc.len() <= super::super::action::MAX_ACTION_BYTES);
            assert_eq!(Action::decode(&enc).unwrap(), b.action);
        }
    }

    #[test]
    fn last_page_wraps_forward_to_the_first() {
        let board = BoardPage {
            metric: Metric::Pnl,
            window: Window::D30,
            ..page(vec![row(21, vec![])], 2, 21)
        };
        let v = leaderboard(Locale::Es, &board, &AnalyticsConfig::default(), &[]);
        assert_eq!(data(&v)[2], ["a:pnl:30d:1", "a:pnl:30d:2", "a:pnl:30d:0"]);
        assert!(v.text.contains("página 3/3"), "{}", v.text);
        assert_resolved(&v.text);
    }

    #[test]
    fn empty_board_says_what_ranking_needs() {
        let cfg = AnalyticsConfig {
            min_outcomes: 7,
            ..AnalyticsConfig::default()
        };
        for l in Locale::ALL {
            let v = leaderboard(l, &page(vec![], 0, 0), &cfg, &[]);
            assert!(
                v.text.contains('7') && v.text.contains("+20%"),
                "{}",
                v.text
            );
            assert_resolved(&v.text);
            // Timeframe and metric rows only: nothing to page or follow.
            assert_eq!(v.buttons.len(), 2);
        }
        let v = leaderboard(Locale::En, &page(vec![], 0, 0), &cfg, &[]);
        assert!(v.text.starts_with("🏆 No ranked wallets yet"), "{}", v.text);
    }

    #[test]
    fn discoveries_are_named_in_the_footer() {
        let found: Vec<Discovery> = (1..=7)
            .map(|n| Discovery {
                wallet: w(n),
                metric: Metric::Score,
                window: Window::H24,
                rank: 3,
                at_ms: 0,
            })
            .collect();
        let v = leaderboard(
            Locale::En,
            &page(vec![row(1, vec![])], 0, 1),
            &AnalyticsConfig::default(),
            &found,
        );
        let last = v.text.lines().last().unwrap();
        assert!(last.starts_with("🆕 New in the top lists today:"), "{last}");
        assert!(last.contains(&w(5).short()) && !last.contains(&w(6).short()));
        assert!(last.ends_with("+2 more"), "{last}");
    }

    #[test]
    fn the_daily_digest_lists_ten_wallets_with_follow_buttons() {
        let found: Vec<Discovered> = (1..=12)
            .map(|n| Discovered {
                wallet: w(n),
                metric: if n == 1 { Metric::Pnl } else { Metric::Score },
                window: Window::D7,
                rank: u32::from(n),
            })
            .collect();
        let day = 1_764_892_800_000; // 2025-12-05
        let v = digest(Locale::En, day, &found);
        let lines: Vec<&str> = v.text.lines().collect();
        assert_eq!(
            lines[0],
            "🆕 New in the top lists on 2025-12-05: 12 wallets that were not there the day before."
        );
        assert_eq!(lines[1], format!("1. {} · #1 by PnL · 7d", w(1)));
        assert!(lines[10].starts_with(&format!("10. {} · #10 by", w(10))));
        assert_eq!(lines[11], "+2 more");
        assert!(!v.text.contains(&w(11).to_string()));
        let follows: Vec<&Action> = v.buttons.iter().flatten().map(|b| &b.action).collect();
        assert_eq!(follows.len(), 10);
        assert_eq!(follows[0], &Action::Follow(w(1)));
        assert_eq!(v.buttons.len(), 5, "two buttons a row");
        let es = digest(Locale::Es, day, &found[..1]).text;
        assert!(
            es.starts_with("🆕 Nuevas en las clasificaciones el 2025-12-05: 1 "),
            "{es}"
        );
        assert!(!es.contains('{'), "{es}");
    }

    #[test]
    fn values_in_the_metrics_units() {
        assert_eq!(metric_value(Metric::Score, 0.7222), "0.72");
        assert_eq!(metric_value(Metric::Pnl, 1_234_500_000.0), "+1.2345 SOL");
        assert_eq!(metric_value(Metric::Pnl, -500_000_000.0), "-0.5 SOL");
        assert_eq!(metric_value(Metric::Roi, 0.354), "+35%");
        assert_eq!(metric_value(Metric::Roi, -0.08), "-8%");
        assert_eq!(metric_value(Metric::WinRate, 0.625), "62%");
        assert_eq!(metric_value(Metric::Volume, 34_500_000_000.0), "34.5 SOL");
    }

    fn card_of(ranked: bool, flags: Vec<Flag>) -> WalletCard {
        let now = 1_760_000_000_000;
        WalletCard {
            wallet: w(7),
            tier: ranked.then_some(Tier::S),
            ranked,
            flags,
            scores: Scores {
                bayesian: 0.936,
                posterior: 0.7222,
                window_wins: 10,
                window_losses: 0,
                recency_boost: 1.3,
                size_factor: 1.0,
                performance: 78.4,
                wilson_lower: 0.48,
                pnl_excluding_best: 450_000_000,
            },
            all_time: stats(16, 9, 1_230_000_000),
            windows: [
                (Window::H24, stats(4, 1, 500_000_000)),
                (Window::D7, stats(10, 5, 900_000_000)),
                (Window::D30, stats(16, 9, 1_230_000_000)),
            ],
            first_ms: now - 2 * 3_600_000,
            last_ms: now - 3 * 60_000,
            cluster: vec![w(8), w(9)],
        }
    }

    #[test]
    fn card_explains_every_score_and_figure() {
        let c = card_of(true, vec![]);
        let now = c.last_ms + 3 * 60_000;
        let v = card(Locale::En, &c, &AnalyticsConfig::default(), now);
        let text = &v.text;
        for want in [
            format!("📇 Wallet {}", w(7).short()),
            w(7).to_string(),
            "Tier: S · ranked".to_owned(),
            "Flags: none".to_owned(),
            "• Bayesian 0.94: 10 W / 0 L in the last 60 min on a 37.5% prior give 0.72; ×1.30 for recent activity, ×1.00 for bet size.".to_owned(),
            "• Performance 78/100".to_owned(),
            "• Wilson 48%".to_owned(),
            "• PnL without its best trade: +0.45 SOL".to_owned(),
            "PnL: realized +1.23 SOL · unrealized -0.1 SOL".to_owned(),
            "Win rate 64% (16 W / 9 L) · ROI +35%".to_owned(),
            "Trades: 42 (buys 25, sells 17) · tokens: 12 · volume 34.5 SOL".to_owned(),
            "Average hold: 3 min 20 s".to_owned(),
            "24h: PnL +0.5 SOL · WR 80% · trades 42".to_owned(),
            "7d: PnL +0.9 SOL".to_owned(),
            "First seen 2 h ago · last active 3 min ago".to_owned(),
        ] {
            assert!(text.contains(&want), "missing {want:?} in\n{text}");
        }
        assert_resolved(text);
        assert_eq!(data(&v), [[format!("f:{}", w(7))]]);
    }

    #[test]
    fn card_flags_and_why_a_wallet_is_not_ranked() {
        let cfg = AnalyticsConfig::default();
        let mut c = card_of(
            false,
            vec![Flag::QuickFlip, Flag::SoldIntoFollowers, Flag::Sybil],
        );
        let v = card(Locale::En, &c, &cfg, c.last_ms);
        assert!(
            v.text
                .contains("Tier: – · not ranked: another wallet of its sybil cluster"),
            "{}",
            v.text
        );
        assert!(
            v.text.contains("⚡ Quick flips: its median hold") && v.text.contains("under 30 s")
        );
        assert!(v.text.contains("🎯 Sells into followers"));
        assert!(
            v.text.contains(&format!(
                "👥 Sybil cluster: it co-buys the same tokens at the same moments as {}, {}",
                w(8).short(),
                w(9).short()
            )),
            "{}",
            v.text
        );
        assert!(v.text.contains("last active just now"));

        c.all_time.wins = 1;
        c.all_time.losses = 2;
        c.flags.clear();
        c.cluster.clear();
        let v = card(Locale::En, &c, &cfg, c.last_ms);
        assert!(
            v.text.contains("not ranked yet: 3 of 5 decided trades"),
            "{}",
            v.text
        );
        for l in Locale::ALL {
            assert_resolved(&card(l, &c, &cfg, c.last_ms + 3 * 86_400_000).text);
        }
        let es = card(Locale::Es, &c, &cfg, c.last_ms + 3 * 86_400_000).text;
        assert!(es.contains("última actividad hace 3 d"), "{es}");
    }

    #[test]
    fn tier_alerts_read_as_promotions_and_demotions() {
        let wallet = w(3);
        let text = |from, to, b, a| tier_change(Locale::En, &wallet, from, to, b, a).text;
        assert_eq!(
            text(Some(Tier::A), Some(Tier::S), 5_500, 7_125),
            format!("⭐ new S-tier: {wallet} (55% → 71% WR)")
        );
        assert_eq!(
            text(Some(Tier::A), Some(Tier::B), 6_200, 4_100),
            format!("📉 {wallet} demoted to B: 62% → 41% WR")
        );
        assert_eq!(
            text(Some(Tier::C), Some(Tier::B), 3_000, 4_000),
            format!("⬆️ {wallet} promoted to B: 30% → 40% WR")
        );
        assert_eq!(
            text(None, Some(Tier::C), 0, 4_000),
            format!("⬆️ {wallet} promoted to C: 0% → 40% WR")
        );
        assert!(text(Some(Tier::B), None, 4_000, 2_000).contains("no longer ranked (was B)"));
        let payload = OutboxPayload::TierChanged {
            wallet,
            from: Some(Tier::A),
            to: Some(Tier::B),
            win_rate_before_bps: 6_200,
            win_rate_after_bps: 4_100,
            at_ms: 1,
        };
        let es = outbox(Locale::Es, &payload).text;
        assert_eq!(
            es,
            format!("📉 {wallet} baja al nivel B: acierto 62% → 41%")
        );
    }

    #[test]
    fn durations_and_relative_times() {
        let l = Locale::En;
        assert_eq!(duration(l, 0), "0 s");
        assert_eq!(duration(l, 59_999), "59 s");
        assert_eq!(duration(l, 200_000), "3 min 20 s");
        assert_eq!(duration(l, 180_000), "3 min");
        assert_eq!(duration(l, 2 * 3_600_000 + 5 * 60_000), "2 h 5 min");
        assert_eq!(duration(l, 27 * 3_600_000), "1 d 3 h");
        assert_eq!(duration(l, -5), "0 s");
        assert_eq!(ago(l, 100_000, 100_000), "just now");
        assert_eq!(ago(l, 100_000, 200_000), "just now");
        assert_eq!(ago(l, 40_000, 0), "40 s ago");
        assert_eq!(ago(l, 3 * 60_000 + 59_000, 0), "3 min ago");
        assert_eq!(ago(l, 47 * 3_600_000, 0), "47 h ago");
        assert_eq!(ago(l, 9 * 86_400_000, 0), "9 d ago");
        assert_eq!(ago(Locale::Es, 3 * 60_000, 0), "hace 3 min");
    }
}
