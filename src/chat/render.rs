//! Rendering of domain values into localized views. The only place where
//! money, tokens and addresses are formatted for people.

use super::action::Action;
use super::command::{COMMANDS, Scope};
use super::i18n::t;
use super::view::{Button, View};
use crate::domain::money::format_sol;
use crate::domain::ports::OutboxPayload;
use crate::domain::{Alert, Fill, Lamports, Locale, Side, SkipReason, TokenAmount, WalletAddress};
use crate::engine::PositionView;
use crate::engine::analytics::Tier;

fn sol(l: Lamports) -> String {
    format_sol(i128::from(l.0))
}

fn pnl(v: i64) -> String {
    let s = format_sol(i128::from(v));
    if v > 0 { format!("+{s}") } else { s }
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
pub fn welcome(locale: Locale, name: &str, copy: Lamports) -> View {
    View::text(t(
        locale,
        "welcome",
        &[("name", name), ("copy", &sol(copy))],
    ))
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
        let args = c.arg.map(|a| t(locale, a, &[])).unwrap_or_default();
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
pub fn list(locale: Locale, wallets: &[WalletAddress]) -> View {
    if wallets.is_empty() {
        return View::text(t(locale, "list.empty", &[]));
    }
    let mut lines = vec![t(
        locale,
        "list.header",
        &[("count", &wallets.len().to_string())],
    )];
    let mut view = View::default();
    for w in wallets {
        lines.push(t(locale, "list.line", &[("wallet", &w.to_string())]));
        view = view.with_row(vec![Button {
            label: t(locale, "button.untrack", &[("wallet", &w.short())]),
            action: Action::Untrack(*w),
        }]);
    }
    view.text = lines.join("\n");
    view
}

/// /status: open positions valued at the last price, and realized PnL.
#[must_use]
pub fn status(locale: Locale, positions: &[PositionView], realized: i64) -> View {
    if positions.is_empty() {
        return View::text(t(locale, "status.empty", &[("realized", &pnl(realized))]));
    }
    let unknown = t(locale, "status.unpriced", &[]);
    let mut lines = vec![t(
        locale,
        "status.header",
        &[("count", &positions.len().to_string())],
    )];
    let mut unrealized: i64 = 0;
    for v in positions {
        let p = &v.position;
        let pct = v.unrealized_pnl.filter(|_| p.cost.0 > 0).map_or_else(
            || unknown.clone(),
            #[allow(clippy::cast_precision_loss, reason = "display only")]
            |u| format!("{:+.1}%", u as f64 * 100.0 / p.cost.0 as f64),
        );
        unrealized = unrealized.saturating_add(v.unrealized_pnl.unwrap_or(0));
        lines.push(t(
            locale,
            "status.line",
            &[
                ("mint", &p.mint.to_string()),
                ("leader", &p.leader.short()),
                ("cost", &sol(p.cost)),
                ("value", &v.value.map_or_else(|| unknown.clone(), sol)),
                (
                    "pnl",
                    &v.unrealized_pnl.map_or_else(|| unknown.clone(), pnl),
                ),
                ("pct", &pct),
            ],
        ));
    }
    lines.push(t(
        locale,
        "status.footer",
        &[
            ("unrealized", &pnl(unrealized)),
            ("realized", &pnl(realized)),
        ],
    ));
    View::text(lines.join("\n"))
}

#[must_use]
pub fn alert(locale: Locale, a: &Alert) -> View {
    let key = match a.side {
        Side::Buy => "alert.buy",
        Side::Sell => "alert.sell",
    };
    View::text(t(
        locale,
        key,
        &[
            ("wallet", &a.wallet.to_string()),
            ("mint", &a.mint.to_string()),
            ("tokens", &tokens(a.tokens)),
            ("sol", &sol(a.sol)),
        ],
    ))
}

#[must_use]
pub fn fill(locale: Locale, f: &Fill) -> View {
    let key = match f.side {
        Side::Buy => "fill.buy",
        Side::Sell => "fill.sell",
    };
    View::text(t(
        locale,
        key,
        &[
            ("mint", &f.mint.to_string()),
            ("leader", &f.leader.short()),
            ("tokens", &tokens(f.tokens)),
            ("sol", &sol(f.sol)),
            ("fee", &sol(f.fee)),
            ("pnl", &pnl(f.realized_pnl)),
        ],
    ))
}

/// Why a copy was not made, in words.
#[must_use]
pub fn skip_reason(locale: Locale, reason: SkipReason) -> String {
    let key = match reason {
        SkipReason::OffCurve => "skip.off_curve",
        SkipReason::CurveComplete => "skip.curve_complete",
        SkipReason::NoPosition => "skip.no_position",
        SkipReason::TooSmall => "skip.too_small",
    };
    t(locale, "skip.line", &[("reason", &t(locale, key, &[]))])
}

// ------------------------------------------------------------ analytics --

/// A ratio as a whole percentage (`64%`).
#[must_use]
pub fn percent(ratio: f64) -> String {
    format!("{:.0}%", ratio * 100.0)
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
        OutboxPayload::Trade {
            alert: a,
            fill: f,
            skipped,
        } => {
            let mut view = alert(locale, a);
            if let Some(f) = f {
                view.text = format!("{}\n{}", view.text, fill(locale, f).text);
            } else if let Some(r) = skipped {
                view.text = format!("{}\n{}", view.text, skip_reason(locale, *r));
            }
            view
        }
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

    fn w(n: u8) -> WalletAddress {
        WalletAddress::from_bytes([n; 32])
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
}
