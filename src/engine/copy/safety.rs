//! Safety checks before an entry, and the token gates of a profile:
//! sellability (someone other than the creator sold lately), price impact
//! on the curve, curve state, market cap, age and curve progress, the
//! blacklist; and the live-mode mint screen (Token-2022 extensions and
//! freeze authority), a pure function of the mint account's bytes.

use crate::domain::{
    Address, Mint, ProfileSettings, ScreenReason, SkipReason, TradeEvent, WalletAddress,
};
use crate::engine::curve::Curve;

/// How far back a non-creator sell proves the token sellable.
pub const SELLABLE_WITHIN_MS: i64 = 60_000;

/// What the engine remembers of a mint for safety checks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MintTape {
    /// The wallet that launched it, when the launch was seen.
    pub creator: Option<WalletAddress>,
    pub launched_ms: Option<i64>,
    /// The last sell by a wallet other than the creator.
    pub last_foreign_sell_ms: Option<i64>,
    pub last_ms: i64,
}

impl MintTape {
    pub fn observe(&mut self, ev: &TradeEvent) {
        if ev.created {
            self.creator = Some(ev.trader);
            self.launched_ms = Some(ev.timestamp_ms);
        }
        if ev.side == crate::domain::Side::Sell && self.creator != Some(ev.trader) {
            self.last_foreign_sell_ms = Some(ev.timestamp_ms);
        }
        self.last_ms = self.last_ms.max(ev.timestamp_ms);
    }

    /// A wallet other than the creator sold within the last minute. When
    /// the launch was not seen, any seller counts (the creator is unknown).
    #[must_use]
    pub fn sellable(&self, now_ms: i64) -> bool {
        self.last_foreign_sell_ms
            .is_some_and(|t| now_ms - t <= SELLABLE_WITHIN_MS)
    }
}

/// The token gates and curve checks that need no size: blacklist, curve
/// state, market cap, age, progress and sellability.
pub fn check_token(
    s: &ProfileSettings,
    mint: &Mint,
    curve: &Curve,
    tape: &MintTape,
    now_ms: i64,
) -> Result<(), SkipReason> {
    let listed = |a: &Address| s.blacklist.contains(a);
    if listed(mint) || tape.creator.as_ref().is_some_and(listed) {
        return Err(SkipReason::Blacklisted);
    }
    if curve.is_complete() {
        return Err(SkipReason::CurveComplete);
    }
    let mcap = curve.market_cap();
    if s.mcap_min.0 > 0 && mcap < s.mcap_min {
        return Err(SkipReason::McapTooLow {
            mcap,
            min: s.mcap_min,
        });
    }
    if s.mcap_max.0 > 0 && mcap > s.mcap_max {
        return Err(SkipReason::McapTooHigh {
            mcap,
            max: s.mcap_max,
        });
    }
    if s.age_min_s > 0 || s.age_max_s > 0 {
        let Some(launched) = tape.launched_ms else {
            return Err(SkipReason::AgeUnknown);
        };
        let age_s = u32::try_from((now_ms - launched).max(0) / 1_000).unwrap_or(u32::MAX);
        if s.age_min_s > 0 && age_s < s.age_min_s {
            return Err(SkipReason::TooYoung {
                age_s,
                min_s: s.age_min_s,
            });
        }
        if s.age_max_s > 0 && age_s > s.age_max_s {
            return Err(SkipReason::TooOld {
                age_s,
                max_s: s.age_max_s,
            });
        }
    }
    let progress = u32::from(curve.progress_bps());
    if s.progress_min_bps > 0 && progress < s.progress_min_bps {
        return Err(SkipReason::ProgressTooLow {
            bps: progress,
            min: s.progress_min_bps,
        });
    }
    if s.progress_max_bps > 0 && progress > s.progress_max_bps {
        return Err(SkipReason::ProgressTooHigh {
            bps: progress,
            max: s.progress_max_bps,
        });
    }
    if s.sellability && !tape.sellable(now_ms) {
        return Err(SkipReason::NotSellable);
    }
    Ok(())
}

/// The price impact of buying with `net` lamports (after fees) on the
/// curve, in basis points: the average price paid over the spot price,
/// minus one. On a constant product curve that is `net / VS`.
#[must_use]
pub fn buy_impact_bps(curve: &Curve, net: u64) -> u32 {
    if curve.virtual_sol == 0 {
        return u32::MAX;
    }
    u32::try_from(u128::from(net) * 10_000 / u128::from(curve.virtual_sol)).unwrap_or(u32::MAX)
}

/// The SPL Token program.
pub const TOKEN_PROGRAM: Address = Address::from_bytes([
    6, 221, 246, 225, 215, 101, 161, 147, 217, 203, 225, 70, 206, 235, 121, 172, 28, 180, 133, 237,
    95, 91, 55, 145, 58, 140, 245, 133, 126, 255, 0, 169,
]);
/// The SPL Token-2022 program.
pub const TOKEN_2022_PROGRAM: Address = Address::from_bytes([
    6, 221, 246, 225, 238, 117, 143, 222, 24, 66, 93, 188, 228, 108, 205, 218, 182, 26, 252, 77,
    131, 185, 13, 39, 254, 189, 249, 40, 216, 161, 139, 252,
]);

/// Size of a base SPL mint account.
const MINT_LEN: usize = 82;
/// Token-2022: the account type byte sits after the base account padded to
/// the size of a token account.
const ACCOUNT_TYPE_OFFSET: usize = 165;
const ACCOUNT_TYPE_MINT: u8 = 1;
const EXT_PERMANENT_DELEGATE: u16 = 12;
const EXT_TRANSFER_HOOK: u16 = 14;

/// Screens a mint account (owner program and data) for what can trap a
/// buyer: a freeze authority, a permanent delegate, a transfer hook.
pub fn screen_mint(owner: &Address, data: &[u8]) -> Result<(), ScreenReason> {
    if *owner != TOKEN_PROGRAM && *owner != TOKEN_2022_PROGRAM {
        return Err(ScreenReason::NotAMint);
    }
    if data.len() < MINT_LEN || data[45] != 1 {
        // Too short, or `is_initialized` is false.
        return Err(ScreenReason::NotAMint);
    }
    // freeze_authority: COption<Pubkey> at 46 (u32 tag, then 32 bytes).
    let tag = u32::from_le_bytes([data[46], data[47], data[48], data[49]]);
    if tag == 1 {
        return Err(ScreenReason::FreezeAuthority);
    }
    if *owner == TOKEN_PROGRAM || data.len() == MINT_LEN {
        return Ok(());
    }
    if data.len() <= ACCOUNT_TYPE_OFFSET || data[ACCOUNT_TYPE_OFFSET] != ACCOUNT_TYPE_MINT {
        return Err(ScreenReason::NotAMint);
    }
    // TLV extensions: u16 type, u16 length, value.
    let mut at = ACCOUNT_TYPE_OFFSET + 1;
    while at + 4 <= data.len() {
        let ty = u16::from_le_bytes([data[at], data[at + 1]]);
        let len = usize::from(u16::from_le_bytes([data[at + 2], data[at + 3]]));
        let value = data.get(at + 4..at + 4 + len).unwrap_or(&[]);
        match ty {
            0 => break, // uninitialized: the rest is padding
            EXT_PERMANENT_DELEGATE if value.iter().any(|b| *b != 0) => {
                return Err(ScreenReason::PermanentDelegate);
            }
            // TransferHook { authority, program_id }: a hook is set when the
            // program id is not the zero key.
            EXT_TRANSFER_HOOK if value.get(32..64).is_some_and(|p| p.iter().any(|b| *b != 0)) => {
                return Err(ScreenReason::TransferHook);
            }
            _ => {}
        }
        at += 4 + len;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base_mint(freeze: bool) -> Vec<u8> {
        let mut d = vec![0u8; MINT_LEN];
        d[44] = 6; // decimals
        d[45] = 1; // initialized
        if freeze {
            d[46] = 1;
            d[50..82].fill(7);
        }
        d
    }

    fn with_extensions(exts: &[(u16, Vec<u8>)]) -> Vec<u8> {
        let mut d = base_mint(false);
        d.resize(ACCOUNT_TYPE_OFFSET, 0);
        d.push(ACCOUNT_TYPE_MINT);
        for (ty, v) in exts {
            d.extend_from_slice(&ty.to_le_bytes());
            d.extend_from_slice(&u16::try_from(v.len()).unwrap().to_le_bytes());
            d.extend_from_slice(v);
        }
        d
    }

    #[test]
    fn program_ids_are_the_real_ones() {
        assert_eq!(
            TOKEN_PROGRAM.to_string(),
            "TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA"
        );
        assert_eq!(
            TOKEN_2022_PROGRAM.to_string(),
            "TokenzQdBNbLqP5VEhdkAS6EPFLC1PHnBqCXEpPxuEb"
        );
    }

    #[test]
    fn screens_freeze_authority_delegate_and_hook() {
        assert_eq!(screen_mint(&TOKEN_PROGRAM, &base_mint(false)), Ok(()));
        assert_eq!(
            screen_mint(&TOKEN_PROGRAM, &base_mint(true)),
            Err(ScreenReason::FreezeAuthority)
        );
        assert_eq!(
            screen_mint(&Address::from_bytes([1; 32]), &base_mint(false)),
            Err(ScreenReason::NotAMint)
        );
        // Metadata pointer (18) is harmless.
        let ok = with_extensions(&[(18, vec![3; 64])]);
        assert_eq!(screen_mint(&TOKEN_2022_PROGRAM, &ok), Ok(()));
        let pd = with_extensions(&[(18, vec![3; 64]), (EXT_PERMANENT_DELEGATE, vec![9; 32])]);
        assert_eq!(
            screen_mint(&TOKEN_2022_PROGRAM, &pd),
            Err(ScreenReason::PermanentDelegate)
        );
        let unset_pd = with_extensions(&[(EXT_PERMANENT_DELEGATE, vec![0; 32])]);
        assert_eq!(screen_mint(&TOKEN_2022_PROGRAM, &unset_pd), Ok(()));
        let mut hook = vec![0u8; 64];
        hook[40] = 5;
        let th = with_extensions(&[(EXT_TRANSFER_HOOK, hook)]);
        assert_eq!(
            screen_mint(&TOKEN_2022_PROGRAM, &th),
            Err(ScreenReason::TransferHook)
        );
        let unset_hook = with_extensions(&[(EXT_TRANSFER_HOOK, vec![0; 64])]);
        assert_eq!(screen_mint(&TOKEN_2022_PROGRAM, &unset_hook), Ok(()));
        assert_eq!(
            screen_mint(&TOKEN_2022_PROGRAM, &[1, 2, 3]),
            Err(ScreenReason::NotAMint)
        );
    }

    #[test]
    fn impact_is_net_over_virtual_sol() {
        let c = Curve::new(30_000_000_000, 1_073_000_000_000_000);
        assert_eq!(buy_impact_bps(&c, 300_000_000), 100);
        assert_eq!(buy_impact_bps(&c, 30_000_000), 10);
    }
}
