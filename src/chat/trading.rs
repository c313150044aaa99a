//! Rendering of the copy pipeline for people: why a copy was skipped, the
//! alerts with what each profile did, fills, rejections, big winners, risk
//! notices and `/status`. Every figure is formatted here and every word
//! comes from `locales/`.

use super::i18n::t;
use super::view::View;
use crate::domain::money::format_sol;
use crate::domain::ports::CopyNote;
use crate::domain::{
    Alert, ExitReason, Fill, Intent, Lamports, Locale, Mode, Order, RiskEvent, RiskTier, RoundTrip,
    ScreenReason, Side, SkipReason, TokenAmount, Verdict,
};
use crate::engine::copy::RiskConfig;
use crate::service::Status;

pub(super) fn sol(l: Lamports) -> String {
    format_sol(i128::from(l.0))
}

pub(super) fn pnl(v: i64) -> String {
    let s = format_sol(i128::from(v));
    if v > 0 { format!("+{s}") } else { s }
}

/// Basis points as a percentage with at most two decimals (`2.5%`).
#[must_use]
pub fn bps(v: u32) -> String {
    let whole = v / 100;
    let frac = v % 100;
    if frac == 0 {
        format!("{whole}%")
    } else if frac.is_multiple_of(10) {
        format!("{whole}.{}%", frac / 10)
    } else {
        format!("{whole}.{frac:02}%")
    }
}

/// Signed basis points as a percentage (`+35%`, `-8.5%`).
#[must_use]
pub fn signed_bps(v: i64) -> String {
    let sign = if v < 0 { "-" } else { "+" };
    format!(
        "{sign}{}",
        bps(u32::try_from(v.unsigned_abs()).unwrap_or(u32::MAX))
    )
}

/// Thousandths as a decimal (`0.55`).
#[must_use]
pub fn milli(v: u32) -> String {
    let s = format!("{}.{:03}", v / 1000, v % 1000);
    let s = s.trim_end_matches('0');
    s.strip_suffix('.')
        .map_or_else(|| s.to_owned(), |w| format!("{w}.0"))
}

/// A UTC time of day (`14:05 UTC`).
#[must_use]
pub fn clock(ms: i64) -> String {
    let secs = ms.div_euclid(1000).rem_euclid(86_400);
    format!("{:02}:{:02} UTC", secs / 3_600, secs / 60 % 60)
}

/// A UTC date (`2026-12-01`).
#[must_use]
pub fn date(ms: i64) -> String {
    // Civil date from days since the epoch (Howard Hinnant's algorithm).
    let z = ms.div_euclid(86_400_000) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if m <= 2 { y + 1 } else { y };
    format!("{y:04}-{m:02}-{d:02}")
}

fn mode_label(locale: Locale, mode: Mode) -> String {
    t(locale, &format!("mode.{}", mode.code()), &[])
}

fn tier_label(locale: Locale, tier: RiskTier) -> String {
    t(locale, &format!("risk.tier.{}", tier.code()), &[])
}

/// An exit reason in words.
#[must_use]
pub fn exit_reason(locale: Locale, r: ExitReason) -> String {
    match r {
        ExitReason::Ladder(n) => t(locale, "exit.ladder", &[("n", &n.to_string())]),
        other => t(locale, &format!("exit.{}", other.code()), &[]),
    }
}

fn screen_reason(locale: Locale, s: ScreenReason) -> String {
    let key = match s {
        ScreenReason::PermanentDelegate => "screen.permanent_delegate",
        ScreenReason::TransferHook => "screen.transfer_hook",
        ScreenReason::FreezeAuthority => "screen.freeze_authority",
        ScreenReason::NotAMint => "screen.not_a_mint",
        ScreenReason::Malformed => "screen.malformed",
    };
    t(locale, key, &[])
}

/// How far `got` fell short of `expected`, as a percentage.
fn shortfall(expected: u64, got: u64) -> String {
    if expected == 0 {
        return bps(0);
    }
    let short = u128::from(expected.saturating_sub(got)) * 10_000 / u128::from(expected);
    bps(u32::try_from(short).unwrap_or(u32::MAX))
}

/// Why a copy was not made (or an order not executed), in words.
#[must_use]
#[allow(
    clippy::too_many_lines,
    reason = "one arm per reason, each a locale key"
)]
pub fn reason(locale: Locale, r: SkipReason) -> String {
    use SkipReason as R;
    let k = |key: &str, args: &[(&str, &str)]| t(locale, &format!("reason.{key}"), args);
    match r {
        R::OffCurve => k("off_curve", &[]),
        R::CurveComplete => k("curve_complete", &[]),
        R::TooSmall => k("too_small", &[]),
        R::NoPosition => k("no_position", &[]),
        R::EntryPending => k("entry_pending", &[]),
        R::SellPending => k("sell_pending", &[]),
        R::Paused => k("paused", &[]),
        R::StopEntry => k("stop_entry", &[]),
        R::NotifyOnly => k("notify_only", &[]),
        R::CopySellsOff => k("copy_sells_off", &[]),
        R::LeaderTooSmall { sol: s, min } => {
            k("leader_too_small", &[("sol", &sol(s)), ("min", &sol(min))])
        }
        R::LeaderTooLarge { sol: s, max } => {
            k("leader_too_large", &[("sol", &sol(s)), ("max", &sol(max))])
        }
        R::FirstBuyOnly => k("first_buy_only", &[]),
        R::Blacklisted => k("blacklisted", &[]),
        R::McapTooLow { mcap, min } => {
            k("mcap_too_low", &[("mcap", &sol(mcap)), ("min", &sol(min))])
        }
        R::McapTooHigh { mcap, max } => {
            k("mcap_too_high", &[("mcap", &sol(mcap)), ("max", &sol(max))])
        }
        R::TooYoung { age_s, min_s } => k(
            "too_young",
            &[("age", &secs(locale, age_s)), ("min", &secs(locale, min_s))],
        ),
        R::TooOld { age_s, max_s } => k(
            "too_old",
            &[("age", &secs(locale, age_s)), ("max", &secs(locale, max_s))],
        ),
        R::AgeUnknown => k("age_unknown", &[]),
        R::ProgressTooLow { bps: b, min } => {
            k("progress_too_low", &[("pct", &bps(b)), ("min", &bps(min))])
        }
        R::ProgressTooHigh { bps: b, max } => {
            k("progress_too_high", &[("pct", &bps(b)), ("max", &bps(max))])
        }
        R::LowScore {
            score_milli,
            min_milli,
        } => k(
            "low_score",
            &[("score", &milli(score_milli)), ("min", &milli(min_milli))],
        ),
        R::NotSellable => k("not_sellable", &[]),
        R::PriceImpact { bps: b, max } => {
            k("price_impact", &[("impact", &bps(b)), ("max", &bps(max))])
        }
        R::MaxOpen { max } => k("max_open", &[("max", &max.to_string())]),
        R::DailyCap { cap } => k("daily_cap", &[("cap", &sol(cap))]),
        R::LeaderCap { cap } => k("leader_cap", &[("cap", &sol(cap))]),
        R::MaxTrades { max, tier } => k(
            "max_trades",
            &[
                ("max", &max.to_string()),
                ("tier", &tier_label(locale, tier)),
            ],
        ),
        R::Spacing { wait_s, tier } => k(
            "spacing",
            &[
                ("wait", &secs(locale, wait_s)),
                ("tier", &tier_label(locale, tier)),
            ],
        ),
        R::Cooldown { until_ms, losses } => k(
            "cooldown",
            &[("losses", &losses.to_string()), ("until", &clock(until_ms))],
        ),
        R::DailyLossLimit { pnl: p, limit } => k(
            "daily_loss_limit",
            &[("pnl", &pnl(p)), ("limit", &sol(limit))],
        ),
        R::KellyNoEdge => k("kelly_no_edge", &[]),
        R::ConsensusPending {
            sum_milli,
            needed_milli,
        } => k(
            "consensus_pending",
            &[("sum", &milli(sum_milli)), ("needed", &milli(needed_milli))],
        ),
        R::ConsensusNoStrongVoter {
            best_milli,
            needed_milli,
        } => k(
            "consensus_no_strong_voter",
            &[
                ("best", &milli(best_milli)),
                ("needed", &milli(needed_milli)),
            ],
        ),
        R::ConsensusEntered => k("consensus_entered", &[]),
        R::Slippage { expected, got } => k("slippage", &[("pct", &shortfall(expected, got))]),
        R::NoWallet => k("no_wallet", &[]),
        R::LiveOff => k("live_off", &[]),
        R::WrongKey => k("wrong_key", &[]),
        R::InsufficientFunds { need, have } => k(
            "insufficient_funds",
            &[("need", &sol(need)), ("have", &sol(have))],
        ),
        R::TokenScreen { screen } => k(
            "token_screen",
            &[("screen", &screen_reason(locale, screen))],
        ),
        R::QuoteFailed => k("quote_failed", &[]),
        R::TxFailed => k("tx_failed", &[]),
        R::Expired => k("expired", &[]),
        R::Interrupted => k("interrupted", &[]),
        R::Duplicate => k("duplicate", &[]),
    }
}

fn secs(locale: Locale, s: u32) -> String {
    super::render::duration(locale, i64::from(s) * 1_000)
}

/// A leader trade alert with one line per profile that follows it.
#[must_use]
pub fn alert(locale: Locale, a: &Alert, copies: &[CopyNote]) -> View {
    let key = match a.side {
        Side::Buy => "alert.buy",
        Side::Sell => "alert.sell",
    };
    let mut lines = vec![t(
        locale,
        key,
        &[
            ("wallet", &a.wallet.to_string()),
            ("mint", &a.mint.to_string()),
            ("tokens", &super::render::tokens(a.tokens)),
            ("sol", &sol(a.sol)),
        ],
    )];
    for c in copies {
        lines.push(copy_note(locale, c));
    }
    View::text(lines.join("\n"))
}

fn copy_note(locale: Locale, c: &CopyNote) -> String {
    let profile = c.profile_name.as_str();
    let mode = mode_label(locale, c.mode);
    match &c.verdict {
        Verdict::Placed {
            intent,
            sol: s,
            tokens,
            ..
        } => match intent {
            Intent::Exit(_) => t(
                locale,
                "note.selling",
                &[
                    ("profile", profile),
                    ("mode", &mode),
                    ("tokens", &super::render::tokens(*tokens)),
                ],
            ),
            Intent::Consensus {
                voters,
                weight_milli,
            } => t(
                locale,
                "note.consensus",
                &[
                    ("profile", profile),
                    ("mode", &mode),
                    ("sol", &sol(*s)),
                    ("voters", &voters.to_string()),
                    ("weight", &milli(*weight_milli)),
                ],
            ),
            Intent::Copy => t(
                locale,
                "note.buying",
                &[("profile", profile), ("mode", &mode), ("sol", &sol(*s))],
            ),
        },
        Verdict::Skipped { reason: r } | Verdict::Rejected { reason: r, .. } => t(
            locale,
            "note.skipped",
            &[("profile", profile), ("reason", &reason(locale, *r))],
        ),
        Verdict::Filled { sol: s, .. } => t(
            locale,
            "note.buying",
            &[("profile", profile), ("mode", &mode), ("sol", &sol(*s))],
        ),
    }
}

/// An order filled.
#[must_use]
pub fn fill(locale: Locale, f: &Fill, profile: &str) -> View {
    let key = match (f.mode, f.side) {
        (Mode::Paper, Side::Buy) => "fill.paper.buy",
        (Mode::Paper, Side::Sell) => "fill.paper.sell",
        (Mode::Live, Side::Buy) => "fill.live.buy",
        (Mode::Live, Side::Sell) => "fill.live.sell",
    };
    let why = f.reason.map(|r| exit_reason(locale, r)).unwrap_or_default();
    let mut text = t(
        locale,
        key,
        &[
            ("profile", profile),
            ("mint", &f.mint.to_string()),
            ("leader", &f.leader.short()),
            ("tokens", &super::render::tokens(f.tokens)),
            ("sol", &sol(f.sol)),
            ("fee", &sol(f.fee)),
            ("pnl", &pnl(f.realized_pnl)),
            ("why", &why),
        ],
    );
    if let Some(tx) = &f.tx {
        text.push('\n');
        text.push_str(&t(locale, "fill.tx", &[("tx", tx.as_str())]));
    }
    View::text(text)
}

/// An approved order was not executed.
#[must_use]
pub fn rejected(locale: Locale, o: &Order, profile: &str, r: SkipReason) -> View {
    let key = match o.side {
        Side::Buy => "rejected.buy",
        Side::Sell => "rejected.sell",
    };
    View::text(t(
        locale,
        key,
        &[
            ("profile", profile),
            ("mint", &o.mint.to_string()),
            ("reason", &reason(locale, r)),
        ],
    ))
}

/// A big winner closed.
#[must_use]
pub fn closed(locale: Locale, trip: &RoundTrip, profile: &str) -> View {
    View::text(t(
        locale,
        "closed.big_win",
        &[
            ("profile", profile),
            ("mint", &trip.mint.to_string()),
            ("roi", &signed_bps(trip.roi_bps())),
            ("pnl", &pnl(trip.pnl)),
            (
                "held",
                &super::render::duration(locale, trip.closed_ms - trip.opened_ms),
            ),
            ("why", &exit_reason(locale, trip.exit)),
        ],
    ))
}

/// A profile's risk state changed.
#[must_use]
pub fn risk(locale: Locale, profile: &str, event: &RiskEvent) -> View {
    View::text(match *event {
        RiskEvent::TierChanged {
            from,
            to,
            daily_pnl,
        } => {
            let rule = RiskConfig::default().rule(to);
            t(
                locale,
                "risk.tier_changed",
                &[
                    ("profile", profile),
                    ("from", &tier_label(locale, from)),
                    ("to", &tier_label(locale, to)),
                    ("pnl", &pnl(daily_pnl)),
                    ("max", &rule.max_trades.to_string()),
                    ("spacing", &secs(locale, rule.spacing_s)),
                ],
            )
        }
        RiskEvent::Cooldown { until_ms, losses } => t(
            locale,
            "risk.cooldown",
            &[
                ("profile", profile),
                ("losses", &losses.to_string()),
                ("until", &clock(until_ms)),
            ],
        ),
        RiskEvent::LossLimit { pnl: p, limit } => t(
            locale,
            "risk.loss_limit",
            &[
                ("profile", profile),
                ("pnl", &pnl(p)),
                ("limit", &sol(limit)),
            ],
        ),
    })
}

/// `/status`: each profile with its mode, risk state and open positions.
#[must_use]
pub fn status(locale: Locale, s: &Status) -> View {
    let unknown = t(locale, "status.unpriced", &[]);
    let mut lines = Vec::new();
    let mut any = false;
    for p in &s.profiles {
        let active = if Some(p.profile.id) == s.active || s.profiles.len() == 1 {
            t(locale, "status.active", &[])
        } else {
            String::new()
        };
        lines.push(t(
            locale,
            "status.profile",
            &[
                ("profile", p.profile.name.as_str()),
                ("mode", &mode_label(locale, p.profile.settings.mode)),
                ("active", &active),
                ("tier", &tier_label(locale, p.tier)),
                ("trades", &p.trades_today.to_string()),
                ("realized", &pnl(p.realized_today)),
            ],
        ));
        let st = &p.profile.settings;
        if st.paused {
            lines.push(t(locale, "status.paused", &[]));
        } else if st.stop_entry {
            lines.push(t(locale, "status.stop_entry", &[]));
        }
        if let Some(until) = p.cooldown_until_ms {
            lines.push(t(locale, "status.cooldown", &[("until", &clock(until))]));
        }
        if p.loss_limit_hit {
            lines.push(t(locale, "status.loss_limit", &[]));
        }
        if p.positions.is_empty() {
            lines.push(t(locale, "status.no_positions", &[]));
            continue;
        }
        any = true;
        let mut unrealized: i64 = 0;
        for v in &p.positions {
            let pos = &v.position;
            let pct = v.unrealized_pnl.filter(|_| pos.cost.0 > 0).map_or_else(
                || unknown.clone(),
                |u| {
                    signed_bps(
                        i64::try_from(i128::from(u) * 10_000 / i128::from(pos.cost.0)).unwrap_or(0),
                    )
                },
            );
            unrealized = unrealized.saturating_add(v.unrealized_pnl.unwrap_or(0));
            lines.push(t(
                locale,
                "status.line",
                &[
                    ("mint", &pos.mint.to_string()),
                    ("leader", &pos.leader.short()),
                    ("tokens", &super::render::tokens(pos.tokens)),
                    ("cost", &sol(pos.cost)),
                    ("value", &v.value.map_or_else(|| unknown.clone(), sol)),
                    (
                        "pnl",
                        &v.unrealized_pnl.map_or_else(|| unknown.clone(), pnl),
                    ),
                    ("pct", &pct),
                    (
                        "held",
                        &super::render::duration(locale, s.now_ms - pos.opened_ms),
                    ),
                ],
            ));
        }
        lines.push(t(
            locale,
            "status.footer",
            &[
                ("unrealized", &pnl(unrealized)),
                ("count", &p.positions.len().to_string()),
            ],
        ));
    }
    if !any {
        lines.push(t(locale, "status.hint", &[]));
    }
    View::text(lines.join("\n"))
}

/// Tokens as a short amount for a note.
#[must_use]
pub fn token_amount(a: TokenAmount) -> String {
    super::render::tokens(a)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_well() {
        assert_eq!(bps(250), "2.5%");
        assert_eq!(bps(2_500), "25%");
        assert_eq!(bps(1), "0.01%");
        assert_eq!(signed_bps(-850), "-8.5%");
        assert_eq!(signed_bps(5_000), "+50%");
        assert_eq!(milli(550), "0.55");
        assert_eq!(milli(2_500), "2.5");
        assert_eq!(milli(1_000), "1.0");
        assert_eq!(clock(3_600_000 * 14 + 300_000), "14:05 UTC");
        assert_eq!(date(0), "1970-01-01");
        assert_eq!(date(1_764_547_200_000), "2025-12-01");
    }

    /// One of every reason (the match makes a new variant a compile error
    /// here until it is listed).
    fn all_reasons() -> Vec<SkipReason> {
        use crate::domain::RiskTier::Caution;
        use SkipReason as R;
        let l = Lamports(1_500_000_000);
        let v = vec![
            R::OffCurve,
            R::CurveComplete,
            R::TooSmall,
            R::NoPosition,
            R::EntryPending,
            R::SellPending,
            R::Paused,
            R::StopEntry,
            R::NotifyOnly,
            R::CopySellsOff,
            R::LeaderTooSmall { sol: l, min: l },
            R::LeaderTooLarge { sol: l, max: l },
            R::FirstBuyOnly,
            R::Blacklisted,
            R::McapTooLow { mcap: l, min: l },
            R::McapTooHigh { mcap: l, max: l },
            R::TooYoung {
                age_s: 5,
                min_s: 60,
            },
            R::TooOld {
                age_s: 7_200,
                max_s: 3_600,
            },
            R::AgeUnknown,
            R::ProgressTooLow { bps: 100, min: 500 },
            R::ProgressTooHigh {
                bps: 9_000,
                max: 8_000,
            },
            R::LowScore {
                score_milli: 400,
                min_milli: 550,
            },
            R::NotSellable,
            R::PriceImpact { bps: 250, max: 100 },
            R::MaxOpen { max: 3 },
            R::DailyCap { cap: l },
            R::LeaderCap { cap: l },
            R::MaxTrades {
                max: 15,
                tier: Caution,
            },
            R::Spacing {
                wait_s: 42,
                tier: Caution,
            },
            R::Cooldown {
                until_ms: 3_600_000,
                losses: 3,
            },
            R::DailyLossLimit {
                pnl: -1_000_000_000,
                limit: l,
            },
            R::KellyNoEdge,
            R::ConsensusPending {
                sum_milli: 1_200,
                needed_milli: 2_500,
            },
            R::ConsensusNoStrongVoter {
                best_milli: 500,
                needed_milli: 550,
            },
            R::ConsensusEntered,
            R::Slippage {
                expected: 1_000,
                got: 900,
            },
            R::NoWallet,
            R::LiveOff,
            R::WrongKey,
            R::InsufficientFunds { need: l, have: l },
            R::TokenScreen {
                screen: ScreenReason::TransferHook,
            },
            R::QuoteFailed,
            R::TxFailed,
            R::Expired,
            R::Interrupted,
            R::Duplicate,
        ];
        for r in &v {
            match r {
                R::OffCurve
                | R::CurveComplete
                | R::TooSmall
                | R::NoPosition
                | R::EntryPending
                | R::SellPending
                | R::Paused
                | R::StopEntry
                | R::NotifyOnly
                | R::CopySellsOff
                | R::LeaderTooSmall { .. }
                | R::LeaderTooLarge { .. }
                | R::FirstBuyOnly
                | R::Blacklisted
                | R::McapTooLow { .. }
                | R::McapTooHigh { .. }
                | R::TooYoung { .. }
                | R::TooOld { .. }
                | R::AgeUnknown
                | R::ProgressTooLow { .. }
                | R::ProgressTooHigh { .. }
                | R::LowScore { .. }
                | R::NotSellable
                | R::PriceImpact { .. }
                | R::MaxOpen { .. }
                | R::DailyCap { .. }
                | R::LeaderCap { .. }
                | R::MaxTrades { .. }
                | R::Spacing { .. }
                | R::Cooldown { .. }
                | R::DailyLossLimit { .. }
                | R::KellyNoEdge
                | R::ConsensusPending { .. }
                | R::ConsensusNoStrongVoter { .. }
                | R::ConsensusEntered
                | R::Slippage { .. }
                | R::NoWallet
                | R::LiveOff
                | R::WrongKey
                | R::InsufficientFunds { .. }
                | R::TokenScreen { .. }
                | R::QuoteFailed
                | R::TxFailed
                | R::Expired
                | R::Interrupted
                | R::Duplicate => {}
            }
        }
        v
    }

    #[test]
    fn every_reason_has_words_in_every_locale() {
        for l in Locale::ALL {
            for r in all_reasons() {
                let text = reason(l, r);
                assert!(!text.starts_with("reason."), "{l:?} {r:?}: {text}");
                assert!(!text.contains('{'), "{l:?} {r:?}: {text}");
            }
            for s in [
                ScreenReason::PermanentDelegate,
                ScreenReason::TransferHook,
                ScreenReason::FreezeAuthority,
                ScreenReason::NotAMint,
                ScreenReason::Malformed,
            ] {
                assert!(!screen_reason(l, s).starts_with("screen."));
            }
            for r in [
                ExitReason::LeaderSold,
                ExitReason::StopLoss,
                ExitReason::TakeProfit,
                ExitReason::Trailing,
                ExitReason::BreakEven,
                ExitReason::MaxHold,
                ExitReason::Ladder(2),
            ] {
                assert!(!exit_reason(l, r).starts_with("exit."));
            }
            for tier in RiskTier::ALL {
                assert!(!tier_label(l, tier).starts_with("risk."));
            }
        }
        let slip = reason(
            Locale::En,
            SkipReason::Slippage {
                expected: 1_000,
                got: 900,
            },
        );
        assert!(slip.contains("10%"), "{slip}");
    }
}
