//! Profile settings for people: each setting's name, its value as shown on
//! a button or a line, the prompt asking for a typed value, and why a value
//! was refused. Names and prompts are `setting.<code>` and
//! `setting.<code>.prompt` in `locales/`.

use super::i18n::t;
use super::trading::{bps, milli};
use crate::domain::money::format_sol;
use crate::domain::{
    BuyMode, CopySells, Locale, Mode, Section, Setting, SettingError, SettingValue, SignalMode,
};

/// A setting's name.
#[must_use]
pub fn name(l: Locale, s: Setting) -> String {
    t(l, &format!("setting.{}", s.code()), &[])
}

/// A section's name.
#[must_use]
pub fn section(l: Locale, s: Section) -> String {
    t(l, &format!("section.{}", s.code()), &[])
}

/// The question asked for a typed value, with the current value.
#[must_use]
pub fn prompt(l: Locale, s: Setting, current: &SettingValue) -> String {
    t(
        l,
        "setting.prompt",
        &[
            ("name", &name(l, s)),
            ("value", &value(l, s, current)),
            ("help", &t(l, &format!("setting.{}.prompt", s.code()), &[])),
        ],
    )
}

/// A value as shown to users.
#[must_use]
pub fn value(l: Locale, s: Setting, v: &SettingValue) -> String {
    let off = || t(l, "value.off", &[]);
    match v {
        SettingValue::Bool(true) => t(l, "value.on", &[]),
        SettingValue::Bool(false) => off(),
        SettingValue::Sol(x) if x.0 == 0 && s.zero_is_off() => off(),
        SettingValue::Sol(x) => format!("{} SOL", format_sol(i128::from(x.0))),
        SettingValue::Percent(0) if s.zero_is_off() => off(),
        SettingValue::Percent(p) => bps(*p),
        SettingValue::Seconds(0) if s.zero_is_off() => off(),
        SettingValue::Seconds(n) => super::render::duration(l, i64::from(*n) * 1_000),
        SettingValue::Count(0) if s.zero_is_off() => off(),
        SettingValue::Count(n) if s == Setting::Latency => format!("{n} ms"),
        SettingValue::Count(n) => n.to_string(),
        SettingValue::Milli(0) if s.zero_is_off() => off(),
        SettingValue::Milli(m) => milli(*m),
        SettingValue::Mode(m) => t(
            l,
            match m {
                Mode::Paper => "mode.paper",
                Mode::Live => "mode.live",
            },
            &[],
        ),
        SettingValue::BuyMode(m) => t(
            l,
            match m {
                BuyMode::Fixed => "value.buy.fixed",
                BuyMode::LeaderPct => "value.buy.pct",
            },
            &[],
        ),
        SettingValue::CopySells(c) => t(
            l,
            match c {
                CopySells::Off => "value.off",
                CopySells::SamePct => "value.sells.same",
                CopySells::SellAll => "value.sells.all",
            },
            &[],
        ),
        SettingValue::Signal(m) => t(
            l,
            match m {
                SignalMode::PerFollow => "value.signal.follow",
                SignalMode::Consensus => "value.signal.consensus",
            },
            &[],
        ),
        SettingValue::Wallet(None) => t(l, "value.none", &[]),
        SettingValue::Wallet(Some(w)) => w.short(),
        SettingValue::Addresses(a) if a.is_empty() => t(l, "value.none", &[]),
        SettingValue::Addresses(a) => t(l, "value.entries", &[("n", &a.len().to_string())]),
        SettingValue::Ladder(steps) if steps.is_empty() => off(),
        SettingValue::Ladder(steps) => steps
            .iter()
            .map(|st| format!("+{}→{}", bps(st.gain_bps), bps(st.sell_bps)))
            .collect::<Vec<_>>()
            .join(" "),
    }
}

/// Why a value was refused (the old value stays).
#[must_use]
pub fn error(l: Locale, e: &SettingError) -> String {
    match e {
        SettingError::NotANumber(input) => t(l, "setting.error.number", &[("input", input)]),
        SettingError::NotSol(input) => t(l, "setting.error.sol", &[("input", input)]),
        SettingError::NotOnOff(input) => t(l, "setting.error.on_off", &[("input", input)]),
        SettingError::NotAChoice { input, choices } => t(
            l,
            "setting.error.choice",
            &[("input", input), ("choices", choices)],
        ),
        SettingError::OutOfRange { input, min, max } => t(
            l,
            "setting.error.range",
            &[("input", input), ("min", min), ("max", max)],
        ),
        SettingError::NotAnAddress(input) => {
            let shown: String = input.chars().take(60).collect();
            t(l, "setting.error.address", &[("input", &shown)])
        }
        SettingError::NotALadder(input) => t(l, "setting.error.ladder", &[("input", input)]),
        SettingError::LadderOver100 => t(l, "setting.error.ladder_over", &[]),
        SettingError::MinAboveMax { min, max } => t(
            l,
            "setting.error.min_max",
            &[("min", &name(l, *min)), ("max", &name(l, *max))],
        ),
        SettingError::LiveNeedsWallet => t(l, "setting.error.live_wallet", &[]),
        SettingError::NotOverridable(s) => t(
            l,
            "setting.error.not_overridable",
            &[("name", &name(l, *s))],
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ProfileSettings;

    #[test]
    fn every_setting_has_a_name_and_a_prompt_in_every_locale() {
        let p = ProfileSettings::default();
        for l in Locale::ALL {
            for &s in Setting::ALL {
                let n = name(l, s);
                assert!(!n.starts_with("setting."), "{l:?} {s:?}");
                let pr = prompt(l, s, &s.read(&p));
                assert!(!pr.contains("setting."), "{l:?} {s:?}: {pr}");
                assert!(!pr.contains('{'), "{l:?} {s:?}: {pr}");
            }
            for sec in Section::ALL {
                assert!(!section(l, sec).starts_with("section."));
            }
        }
    }

    #[test]
    fn values_read_well() {
        let l = Locale::En;
        let p = ProfileSettings::default();
        assert_eq!(
            value(l, Setting::BuySol, &Setting::BuySol.read(&p)),
            "0.1 SOL"
        );
        assert_eq!(
            value(l, Setting::DailyCap, &Setting::DailyCap.read(&p)),
            "off"
        );
        assert_eq!(
            value(l, Setting::Slippage, &Setting::Slippage.read(&p)),
            "5%"
        );
        assert_eq!(
            value(l, Setting::MaxHold, &Setting::MaxHold.read(&p)),
            "15 min"
        );
        assert_eq!(
            value(l, Setting::Latency, &Setting::Latency.read(&p)),
            "400 ms"
        );
        assert_eq!(
            value(
                l,
                Setting::ConsensusThreshold,
                &Setting::ConsensusThreshold.read(&p)
            ),
            "2.5"
        );
        assert_eq!(value(l, Setting::Trailing, &SettingValue::Bool(true)), "on");
    }

    #[test]
    fn every_error_has_words() {
        for l in Locale::ALL {
            for e in [
                SettingError::NotANumber("x".into()),
                SettingError::NotSol("x".into()),
                SettingError::NotOnOff("x".into()),
                SettingError::NotAChoice {
                    input: "x".into(),
                    choices: "a, b",
                },
                SettingError::OutOfRange {
                    input: "x".into(),
                    min: "1".into(),
                    max: "2".into(),
                },
                SettingError::NotAnAddress("x".into()),
                SettingError::NotALadder("x".into()),
                SettingError::LadderOver100,
                SettingError::MinAboveMax {
                    min: Setting::MinBuy,
                    max: Setting::MaxBuy,
                },
                SettingError::LiveNeedsWallet,
                SettingError::NotOverridable(Setting::Bankroll),
            ] {
                let text = error(l, &e);
                assert!(!text.starts_with("setting."), "{l:?} {e:?}");
                assert!(!text.contains('{'), "{l:?} {e:?}: {text}");
            }
        }
    }
}
