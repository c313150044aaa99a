//! PumpPortal frames: parsing them into [`TradeEvent`]s and building them
//! back (for recordings and the test server).
//!
//! PumpPortal sends amounts as JSON floats in UI units (tokens/1e6, SOL).
//! They are converted to integers here, at the edge, through their shortest
//! decimal form, so `0.1` SOL is exactly 100 000 000 lamports.

use serde::Deserialize;
use serde_json::{Value, json};

use crate::domain::{Lamports, Mint, Side, Signature, TokenAmount, TradeEvent, WalletAddress};
use crate::engine::curve::Curve;

/// Token decimals (pump.fun tokens have 6).
pub const TOKEN_DECIMALS: u32 = 6;
/// SOL decimals (lamports).
pub const SOL_DECIMALS: u32 = 9;

/// One frame from the data socket, understood.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    /// A subscription acknowledgement (`{"message": …}`).
    Ack(String),
    /// A buy, sell, or the first buy of a created token.
    Trade(TradeEvent),
    /// A token was created without a buy: nothing traded.
    CreateWithoutBuy { mint: Mint },
}

/// Why a frame was skipped.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    #[error("not JSON: {0}")]
    Json(String),
    #[error("not a PumpPortal trade or acknowledgement")]
    Unknown,
    #[error("missing field {0}")]
    Missing(&'static str),
    #[error("field {field}: {reason}")]
    Invalid { field: &'static str, reason: String },
    #[error("unknown txType {0:?}")]
    TxType(String),
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawTrade {
    signature: Option<String>,
    mint: Option<String>,
    trader_public_key: Option<String>,
    tx_type: Option<String>,
    token_amount: Option<f64>,
    sol_amount: Option<f64>,
    new_token_balance: Option<f64>,
    v_tokens_in_bonding_curve: Option<f64>,
    v_sol_in_bonding_curve: Option<f64>,
    initial_buy: Option<f64>,
    pool: Option<String>,
    /// Not sent live; recordings may add it (unix seconds, or milliseconds
    /// when at least 1e11).
    timestamp: Option<f64>,
    slot: Option<u64>,
}

/// Parses one text frame; `received_ms` is the event time when the frame has
/// no `timestamp` (live frames never do).
pub fn parse_frame(text: &str, received_ms: i64) -> Result<Frame, FrameError> {
    let value: Value = serde_json::from_str(text).map_err(|e| FrameError::Json(e.to_string()))?;
    parse_value(&value, received_ms)
}

/// [`parse_frame`] on an already parsed JSON value.
pub fn parse_value(value: &Value, received_ms: i64) -> Result<Frame, FrameError> {
    let Some(obj) = value.as_object() else {
        return Err(FrameError::Unknown);
    };
    if !obj.contains_key("txType") {
        return match obj.get("message") {
            Some(m) if !obj.contains_key("mint") => Ok(Frame::Ack(
                m.as_str().map_or_else(|| m.to_string(), str::to_owned),
            )),
            _ => Err(FrameError::Unknown),
        };
    }
    let raw: RawTrade = serde_json::from_value(value.clone()).map_err(|e| FrameError::Invalid {
        field: "frame",
        reason: e.to_string(),
    })?;
    trade_from_raw(raw, received_ms)
}

fn trade_from_raw(raw: RawTrade, received_ms: i64) -> Result<Frame, FrameError> {
    let tx_type = raw
        .tx_type
        .as_deref()
        .ok_or(FrameError::Missing("txType"))?;
    let (side, created) = match tx_type {
        "buy" => (Side::Buy, false),
        "sell" => (Side::Sell, false),
        "create" => (Side::Buy, true),
        other => return Err(FrameError::TxType(other.to_owned())),
    };
    let mint = address(raw.mint.as_deref(), "mint")?;
    let signature = Signature::parse(
        raw.signature
            .as_deref()
            .ok_or(FrameError::Missing("signature"))?,
    )
    .map_err(|e| invalid("signature", e))?;
    let trader = address(raw.trader_public_key.as_deref(), "traderPublicKey")?;

    let token_ui = if created {
        raw.initial_buy.or(raw.token_amount)
    } else {
        raw.token_amount
    };
    let tokens = match token_ui {
        Some(t) => ui_amount(t, TOKEN_DECIMALS, "tokenAmount")?,
        None if created => 0,
        None => return Err(FrameError::Missing("tokenAmount")),
    };
    if created && tokens == 0 {
        return Ok(Frame::CreateWithoutBuy { mint });
    }
    let vs = raw
        .v_sol_in_bonding_curve
        .map(|v| ui_amount(v, SOL_DECIMALS, "vSolInBondingCurve"))
        .transpose()?;
    let vt = raw
        .v_tokens_in_bonding_curve
        .map(|v| ui_amount(v, TOKEN_DECIMALS, "vTokensInBondingCurve"))
        .transpose()?;
    let sol = match raw.sol_amount {
        Some(s) => ui_amount(s, SOL_DECIMALS, "solAmount")?,
        // A create frame without `solAmount`: the first buy moved a fresh
        // curve to the reserves it reports.
        None if created => vs
            .map(|vs| vs.saturating_sub(Curve::fresh().virtual_sol))
            .ok_or(FrameError::Missing("solAmount"))?,
        None => return Err(FrameError::Missing("solAmount")),
    };
    let on_curve = raw.pool.as_deref().is_none_or(|p| p == "pump");
    let is_buy = side == Side::Buy;
    let (virtual_sol, virtual_tokens) = match (vs, vt) {
        (Some(vs), Some(vt)) => (vs, vt),
        // Off the curve there are no curve reserves to report.
        _ if !on_curve => (vs.unwrap_or(0), vt.unwrap_or(0)),
        // On the curve but not reported: rebuild them from the trade alone.
        _ => {
            let mut c = if created {
                Some(Curve::fresh())
            } else {
                Curve::solve_before(is_buy, sol, tokens)
            }
            .ok_or(FrameError::Missing("vSolInBondingCurve"))?;
            c.apply(is_buy, sol, tokens);
            (c.virtual_sol, c.virtual_tokens)
        }
    };
    let trader_balance_after = raw
        .new_token_balance
        .map(|b| ui_amount(b, TOKEN_DECIMALS, "newTokenBalance").map(TokenAmount))
        .transpose()?;
    let timestamp_ms = match raw.timestamp {
        Some(t) => timestamp_ms(t)?,
        None => received_ms,
    };
    Ok(Frame::Trade(TradeEvent {
        signature,
        mint,
        trader,
        side,
        sol: Lamports(sol),
        tokens: TokenAmount(tokens),
        timestamp_ms,
        slot: raw.slot,
        virtual_sol: Lamports(virtual_sol),
        virtual_tokens: TokenAmount(virtual_tokens),
        trader_balance_after,
        created,
        on_curve,
    }))
}

fn invalid(field: &'static str, e: impl std::fmt::Display) -> FrameError {
    FrameError::Invalid {
        field,
        reason: e.to_string(),
    }
}

fn address(s: Option<&str>, field: &'static str) -> Result<WalletAddress, FrameError> {
    WalletAddress::parse(s.ok_or(FrameError::Missing(field))?).map_err(|e| invalid(field, e))
}

fn ui_amount(x: f64, decimals: u32, field: &'static str) -> Result<u64, FrameError> {
    ui_to_raw(x, decimals).ok_or_else(|| invalid(field, format!("{x} is not a valid amount")))
}

fn timestamp_ms(t: f64) -> Result<i64, FrameError> {
    unix_ms(t).ok_or_else(|| invalid("timestamp", format!("{t} is not a unix time")))
}

/// A unix time in seconds, or in milliseconds when at least 1e11 (year
/// 5138 in seconds), as milliseconds.
#[allow(
    clippy::cast_possible_truncation,
    reason = "checked to be finite and within i64 before the cast"
)]
pub(crate) fn unix_ms(t: f64) -> Option<i64> {
    if !t.is_finite() || !(0.0..=1e15).contains(&t) {
        return None;
    }
    Some(if t >= 1e11 {
        t.round()
    } else {
        (t * 1000.0).round()
    } as i64)
}

/// Converts a UI amount (`1.5` SOL, `35215492.28` tokens) to raw units,
/// rounding to the nearest unit. Goes through the float's shortest decimal
/// form, so any amount PumpPortal prints with up to 15 significant digits
/// converts exactly. `None` for negative, non-finite or too large values.
#[must_use]
pub fn ui_to_raw(x: f64, decimals: u32) -> Option<u64> {
    if !x.is_finite() || x < 0.0 {
        return None;
    }
    // Display for f64 is the shortest round-trip form and never uses an
    // exponent.
    let text = x.to_string();
    let (whole, frac) = text.split_once('.').unwrap_or((&text, ""));
    let d = decimals as usize;
    let mut value: u64 = whole.parse().ok()?;
    value = value.checked_mul(10_u64.checked_pow(decimals)?)?;
    let kept = &frac[..frac.len().min(d)];
    let frac_val: u64 = if kept.is_empty() {
        0
    } else {
        format!("{kept:0<d$}").parse().ok()?
    };
    let round_up = frac.as_bytes().get(d).is_some_and(|c| *c >= b'5');
    value
        .checked_add(frac_val)?
        .checked_add(u64::from(round_up))
}

/// A raw amount in UI units, for frames and display.
#[must_use]
#[allow(
    clippy::cast_precision_loss,
    reason = "frames carry floats by contract"
)]
pub fn raw_to_ui(raw: u64, decimals: u32) -> f64 {
    raw as f64 / 10_f64.powi(i32::try_from(decimals).unwrap_or(9))
}

/// The PumpPortal frame for a trade, as the live service sends it (no
/// timestamp). Created tokens become `create` frames with `initialBuy`.
#[must_use]
pub fn trade_frame(ev: &TradeEvent) -> Value {
    let tx_type = match (ev.created, ev.side) {
        (true, _) => "create",
        (false, Side::Buy) => "buy",
        (false, Side::Sell) => "sell",
    };
    let curve = Curve::new(ev.virtual_sol.0, ev.virtual_tokens.0);
    let mut frame = json!({
        "signature": ev.signature.as_str(),
        "mint": ev.mint.to_string(),
        "traderPublicKey": ev.trader.to_string(),
        "txType": tx_type,
        "tokenAmount": raw_to_ui(ev.tokens.0, TOKEN_DECIMALS),
        "solAmount": raw_to_ui(ev.sol.0, SOL_DECIMALS),
        "vTokensInBondingCurve": raw_to_ui(ev.virtual_tokens.0, TOKEN_DECIMALS),
        "vSolInBondingCurve": raw_to_ui(ev.virtual_sol.0, SOL_DECIMALS),
        "marketCapSol": raw_to_ui(curve.market_cap().0, SOL_DECIMALS),
        "pool": if ev.on_curve { "pump" } else { "pump-amm" },
    });
    if let Some(b) = ev.trader_balance_after {
        frame["newTokenBalance"] = json!(raw_to_ui(b.0, TOKEN_DECIMALS));
    }
    if ev.created {
        let short = &ev.mint.to_string()[..4];
        frame["initialBuy"] = json!(raw_to_ui(ev.tokens.0, TOKEN_DECIMALS));
        frame["name"] = json!(format!("Token {short}"));
        frame["symbol"] = json!(short.to_uppercase());
        frame["uri"] = json!(format!("https://example.invalid/{short}.json"));
    }
    frame
}

/// [`trade_frame`] plus the event's `timestamp` (unix milliseconds) and
/// `slot`: the form a recording stores so a replay keeps event time.
#[must_use]
pub fn recorded_frame(ev: &TradeEvent) -> Value {
    let mut frame = trade_frame(ev);
    frame["timestamp"] = json!(ev.timestamp_ms);
    if let Some(slot) = ev.slot {
        frame["slot"] = json!(slot);
    }
    frame
}

#[cfg(test)]
mod tests {
    use super::*;

    const SIG: &str =
        "4TXTdsLfWBD2nE7mNvsm6edBC4Gmg6YcdEF1FohFpQg8GKZsrQB8SgYy7JjL3HKNkHD6js85bonZXHFgchUmGE4N";
    const MINT: &str = "CzqAumajgyvVFCrtnYQrRRtoRiaG8Kbn2fEcnfZipump";
    const USER: &str = "8jGai9a8U4RSzDnweCgeVZJBLxMTrNsrhHbGrCF8F3Ks";

    fn frame(tx: &str, extra: &str) -> String {
        format!(
            r#"{{"signature":"{SIG}","mint":"{MINT}","traderPublicKey":"{USER}","txType":"{tx}",
            "bondingCurveKey":"{USER}","marketCapSol":29.9{extra}}}"#
        )
    }

    fn trade(text: &str) -> TradeEvent {
        match parse_frame(text, 1_000).unwrap() {
            Frame::Trade(ev) => ev,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn parses_a_buy_with_exact_integer_amounts() {
        let ev = trade(&frame(
            "buy",
            r#","tokenAmount":35215492.280001,"solAmount":0.1,"newTokenBalance":35215492.280001,
            "vTokensInBondingCurve":1037784507.719999,"vSolInBondingCurve":31.012345678,"pool":"pump""#,
        ));
        assert_eq!(ev.side, Side::Buy);
        assert_eq!(ev.tokens, TokenAmount(35_215_492_280_001));
        assert_eq!(ev.sol, Lamports(100_000_000));
        assert_eq!(
            ev.trader_balance_after,
            Some(TokenAmount(35_215_492_280_001))
        );
        assert_eq!(ev.virtual_tokens, TokenAmount(1_037_784_507_719_999));
        assert_eq!(ev.virtual_sol, Lamports(31_012_345_678));
        assert_eq!(ev.timestamp_ms, 1_000, "live frames take the receive time");
        assert!(ev.on_curve && !ev.created);
        assert_eq!(ev.trader.to_string(), USER);
        assert_eq!(ev.mint.to_string(), MINT);
    }

    #[test]
    fn parses_sells_creates_and_amm_trades() {
        let ev = trade(&frame(
            "sell",
            r#","tokenAmount":1000,"solAmount":0.03,"vTokensInBondingCurve":1e9,
            "vSolInBondingCurve":32.1,"pool":"pump-amm","timestamp":1760978515"#,
        ));
        assert_eq!(ev.side, Side::Sell);
        assert_eq!(ev.tokens, TokenAmount(1_000_000_000));
        assert!(!ev.on_curve);
        assert_eq!(ev.timestamp_ms, 1_760_978_515_000);

        let ev = trade(&frame(
            "create",
            r#","initialBuy":34612903.225806,"solAmount":1,"vTokensInBondingCurve":1038387096.774194,
            "vSolInBondingCurve":31,"name":"X","symbol":"X","uri":"u","pool":"pump""#,
        ));
        assert!(ev.created);
        assert_eq!(ev.side, Side::Buy);
        assert_eq!(ev.tokens, TokenAmount(34_612_903_225_806));

        // No solAmount: the fresh curve's growth is the buy.
        let ev = trade(&frame(
            "create",
            r#","initialBuy":34612903.225806,"vTokensInBondingCurve":1038387096.774194,"vSolInBondingCurve":31"#,
        ));
        assert_eq!(ev.sol, Lamports(1_000_000_000));

        assert_eq!(
            parse_frame(&frame("create", r#","vSolInBondingCurve":30"#), 0),
            Ok(Frame::CreateWithoutBuy {
                mint: Mint::parse(MINT).unwrap()
            })
        );
    }

    #[test]
    fn rebuilds_missing_reserves_on_the_curve() {
        let ev = trade(&frame(
            "buy",
            r#","tokenAmount":34612903.225806,"solAmount":1"#,
        ));
        // Fresh curve + 1 SOL (the test vector of engine::curve).
        assert_eq!(ev.virtual_sol, Lamports(31_000_000_000));
        assert!(
            ev.virtual_tokens
                .0
                .abs_diff(1_073_000_000_000_000 - 34_612_903_225_806)
                < 1_000_000
        );
    }

    #[test]
    fn acks_and_bad_frames() {
        assert_eq!(
            parse_frame(r#"{"message":"Successfully subscribed to keys."}"#, 0),
            Ok(Frame::Ack("Successfully subscribed to keys.".into()))
        );
        assert!(matches!(
            parse_frame("not json", 0),
            Err(FrameError::Json(_))
        ));
        assert_eq!(parse_frame("[1,2]", 0), Err(FrameError::Unknown));
        assert_eq!(
            parse_frame(r#"{"errors":"x"}"#, 0),
            Err(FrameError::Unknown)
        );
        assert_eq!(
            parse_frame(&frame("swap", r#","tokenAmount":1,"solAmount":1"#), 0),
            Err(FrameError::TxType("swap".into()))
        );
        assert_eq!(
            parse_frame(&frame("buy", r#","solAmount":1"#), 0),
            Err(FrameError::Missing("tokenAmount"))
        );
        assert!(matches!(
            parse_frame(&frame("buy", r#","tokenAmount":-1,"solAmount":1"#), 0),
            Err(FrameError::Invalid {
                field: "tokenAmount",
                ..
            })
        ));
        assert!(matches!(
            parse_frame(&frame("buy", r#","tokenAmount":"12","solAmount":1"#), 0),
            Err(FrameError::Invalid { field: "frame", .. })
        ));
        let bad_mint = frame("buy", r#","tokenAmount":1,"solAmount":1"#).replace(MINT, "nope");
        assert!(matches!(
            parse_frame(&bad_mint, 0),
            Err(FrameError::Invalid { field: "mint", .. })
        ));
    }

    #[test]
    fn ui_amounts_round_to_nearest() {
        assert_eq!(ui_to_raw(0.1, 9), Some(100_000_000));
        assert_eq!(ui_to_raw(1e-10, 9), Some(0));
        assert_eq!(ui_to_raw(6e-10, 9), Some(1));
        assert_eq!(ui_to_raw(1.0000000005, 9), Some(1_000_000_001));
        assert_eq!(ui_to_raw(42.0, 6), Some(42_000_000));
        assert_eq!(ui_to_raw(-0.5, 6), None);
        assert_eq!(ui_to_raw(f64::NAN, 6), None);
        assert_eq!(ui_to_raw(1e30, 6), None);
    }

    proptest::proptest! {
        #[test]
        fn frames_round_trip_integers(
            tokens in 0_u64..2_000_000_000_000_000,
            sol in 0_u64..500_000_000_000,
            vt in 0_u64..2_000_000_000_000_000,
            vs in 0_u64..500_000_000_000,
        ) {
            let ev = TradeEvent {
                signature: Signature::parse(SIG).unwrap(),
                mint: Mint::parse(MINT).unwrap(),
                trader: WalletAddress::parse(USER).unwrap(),
                side: Side::Sell,
                sol: Lamports(sol),
                tokens: TokenAmount(tokens),
                timestamp_ms: 1_760_978_515_123,
                slot: Some(7),
                virtual_sol: Lamports(vs),
                virtual_tokens: TokenAmount(vt),
                trader_balance_after: Some(TokenAmount(tokens)),
                created: false,
                on_curve: true,
            };
            let text = recorded_frame(&ev).to_string();
            proptest::prop_assert_eq!(parse_frame(&text, 0), Ok(Frame::Trade(ev)));
        }
    }
}
