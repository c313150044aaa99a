//! Money is integers: lamports, raw token units, basis points. Floats exist
//! only for display.

use std::fmt;

use serde::{Deserialize, Serialize};

pub const LAMPORTS_PER_SOL: u64 = 1_000_000_000;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LamportsError {
    #[error("{0:?} is not a number of SOL")]
    NotANumber(String),
    #[error("the amount must be greater than zero")]
    NotPositive,
    #[error("SOL has at most 9 decimal places")]
    TooPrecise,
    #[error("the amount is too large")]
    TooLarge,
}

/// An amount of SOL in lamports (1e-9 SOL).
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Lamports(pub u64);

impl Lamports {
    pub const ZERO: Self = Self(0);

    /// Parses a positive decimal SOL amount such as `0.25` or `1`.
    pub fn parse_sol(input: &str) -> Result<Self, LamportsError> {
        let s = input.trim();
        let bad = || LamportsError::NotANumber(s.to_owned());
        if s.is_empty() || s.starts_with('-') {
            return Err(if s.starts_with('-') {
                LamportsError::NotPositive
            } else {
                bad()
            });
        }
        let (whole, frac) = s.split_once('.').unwrap_or((s, ""));
        if whole.is_empty() && frac.is_empty() {
            return Err(bad());
        }
        if !whole.chars().all(|c| c.is_ascii_digit()) || !frac.chars().all(|c| c.is_ascii_digit()) {
            return Err(bad());
        }
        if frac.len() > 9 {
            return Err(LamportsError::TooPrecise);
        }
        let whole: u64 = if whole.is_empty() {
            0
        } else {
            whole.parse().map_err(|_| LamportsError::TooLarge)?
        };
        let frac_val: u64 = if frac.is_empty() {
            0
        } else {
            format!("{frac:0<9}").parse().map_err(|_| bad())?
        };
        let total = whole
            .checked_mul(LAMPORTS_PER_SOL)
            .and_then(|w| w.checked_add(frac_val))
            .ok_or(LamportsError::TooLarge)?;
        if total == 0 {
            return Err(LamportsError::NotPositive);
        }
        Ok(Self(total))
    }

    /// SOL as a float, for display and statistics only.
    #[must_use]
    #[allow(clippy::cast_precision_loss, reason = "display only")]
    pub fn as_sol(self) -> f64 {
        self.0 as f64 / LAMPORTS_PER_SOL as f64
    }

    #[must_use]
    pub const fn saturating_sub(self, other: Self) -> Self {
        Self(self.0.saturating_sub(other.0))
    }
}

impl fmt::Display for Lamports {
    /// `1.234567891` SOL trimmed of trailing zeros, at least one decimal.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", format_sol(i128::from(self.0)))
    }
}

/// Formats a signed lamport amount as SOL with up to 4 decimals (display).
#[must_use]
pub fn format_sol(lamports: i128) -> String {
    let sign = if lamports < 0 { "-" } else { "" };
    let abs = lamports.unsigned_abs();
    let whole = abs / u128::from(LAMPORTS_PER_SOL);
    // Round to 4 decimals.
    let frac = (abs % u128::from(LAMPORTS_PER_SOL) + 50_000) / 100_000;
    let (whole, frac) = if frac == 10_000 {
        (whole + 1, 0)
    } else {
        (whole, frac)
    };
    let mut frac_s = format!("{frac:04}");
    while frac_s.len() > 1 && frac_s.ends_with('0') {
        frac_s.pop();
    }
    format!("{sign}{whole}.{frac_s}")
}

/// Raw token units (pump.fun tokens have 6 decimals).
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct TokenAmount(pub u64);

impl TokenAmount {
    pub const DECIMALS: u32 = 6;

    /// UI amount (raw / 1e6), for display only.
    #[must_use]
    #[allow(clippy::cast_precision_loss, reason = "display only")]
    pub fn as_ui(self) -> f64 {
        self.0 as f64 / 1e6
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BpsError {
    #[error("basis points must be between 0 and 10000, got {0}")]
    OutOfRange(u32),
}

/// Basis points (1/100 of a percent), 0..=10000.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
#[serde(try_from = "u32", into = "u32")]
pub struct Bps(u16);

impl Bps {
    pub fn new(v: u32) -> Result<Self, BpsError> {
        u16::try_from(v)
            .ok()
            .filter(|v| *v <= 10_000)
            .map(Self)
            .ok_or(BpsError::OutOfRange(v))
    }

    #[must_use]
    pub const fn get(self) -> u16 {
        self.0
    }
}

impl TryFrom<u32> for Bps {
    type Error = BpsError;
    fn try_from(v: u32) -> Result<Self, Self::Error> {
        Self::new(v)
    }
}

impl From<Bps> for u32 {
    fn from(b: Bps) -> Self {
        u32::from(b.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_sol_amounts() {
        assert_eq!(Lamports::parse_sol("1").unwrap(), Lamports(1_000_000_000));
        assert_eq!(Lamports::parse_sol("0.25").unwrap(), Lamports(250_000_000));
        assert_eq!(Lamports::parse_sol(".5").unwrap(), Lamports(500_000_000));
        assert_eq!(Lamports::parse_sol("0.000000001").unwrap(), Lamports(1));
        assert_eq!(Lamports::parse_sol("0"), Err(LamportsError::NotPositive));
        assert_eq!(Lamports::parse_sol("-1"), Err(LamportsError::NotPositive));
        assert_eq!(
            Lamports::parse_sol("0.0000000001"),
            Err(LamportsError::TooPrecise)
        );
        assert!(matches!(
            Lamports::parse_sol("abc"),
            Err(LamportsError::NotANumber(_))
        ));
        assert_eq!(
            Lamports::parse_sol("99999999999999"),
            Err(LamportsError::TooLarge)
        );
    }

    #[test]
    fn formats_sol() {
        assert_eq!(Lamports(1_500_000_000).to_string(), "1.5");
        assert_eq!(Lamports(0).to_string(), "0.0");
        assert_eq!(format_sol(-12_345_678), "-0.0123");
        assert_eq!(format_sol(999_999_999), "1.0");
    }

    #[test]
    fn bps_range() {
        assert!(Bps::new(125).is_ok());
        assert_eq!(Bps::new(10_001), Err(BpsError::OutOfRange(10_001)));
    }
}
