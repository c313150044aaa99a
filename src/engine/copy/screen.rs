//! Mint screening for live buys (the live mode's part of the safety
//! checks): a pure function over a mint account's owner program and raw
//! data, so the live executor runs it on whatever the chain returned and it
//! is unit-tested with hand-built bytes.
//!
//! It refuses mints whose authorities can take the tokens back or block a
//! sale: a freeze authority (SPL Token and Token-2022), a Token-2022
//! permanent delegate and a Token-2022 transfer hook. Anything that is not a
//! well-formed initialized mint of one of the two token programs is refused
//! too, because the rest of the flow would misread it.
//!
//! Layouts (little endian): the base mint is 82 bytes, `is_initialized` at
//! byte 45, `freeze_authority` a `COption<Pubkey>` (u32 tag + 32 bytes) at
//! 46. A Token-2022 mint with extensions pads the base to 165 bytes, puts the
//! account type at byte 165 (1 = mint) and TLV entries (u16 type, u16
//! length, value) from byte 166.

/// SPL Token program (`TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA`).
pub const TOKEN_PROGRAM: [u8; 32] = [
    6, 221, 246, 225, 215, 101, 161, 147, 217, 203, 225, 70, 206, 235, 121, 172, 28, 180, 133, 237,
    95, 91, 55, 145, 58, 140, 245, 133, 126, 255, 0, 169,
];

/// Token-2022 program (`TokenzQdBNbLqP5VEhdkAS6EPFLC1PHnBqCXEpPxuEb`).
pub const TOKEN_2022_PROGRAM: [u8; 32] = [
    6, 221, 246, 225, 238, 117, 143, 222, 24, 66, 93, 188, 228, 108, 205, 218, 182, 26, 252, 77,
    131, 185, 13, 39, 254, 189, 249, 40, 216, 161, 139, 252,
];

use crate::domain::ScreenReason;

const MINT_LEN: usize = 82;
const IS_INITIALIZED: usize = 45;
const FREEZE_AUTHORITY: usize = 46;
const ACCOUNT_TYPE: usize = 165;
const ACCOUNT_TYPE_MINT: u8 = 1;
const TLV_START: usize = 166;
const EXT_PERMANENT_DELEGATE: u16 = 12;
const EXT_TRANSFER_HOOK: u16 = 14;

/// Checks a mint account; `Ok(())` means none of the risks was found.
pub fn screen_mint(owner_program: &[u8; 32], data: &[u8]) -> Result<(), ScreenReason> {
    let token_2022 = match *owner_program {
        TOKEN_PROGRAM => false,
        TOKEN_2022_PROGRAM => true,
        _ => return Err(ScreenReason::NotAMint),
    };
    if data.len() < MINT_LEN || (!token_2022 && data.len() != MINT_LEN) {
        return Err(ScreenReason::NotAMint);
    }
    if data[IS_INITIALIZED] != 1 {
        return Err(ScreenReason::NotAMint);
    }
    if coption_is_some(&data[FREEZE_AUTHORITY..FREEZE_AUTHORITY + 36])? {
        return Err(ScreenReason::FreezeAuthority);
    }
    if data.len() == MINT_LEN {
        return Ok(());
    }
    // Token-2022 with extensions: the account type byte follows the
    // padding, then TLV entries.
    if data.len() <= ACCOUNT_TYPE || data[ACCOUNT_TYPE] != ACCOUNT_TYPE_MINT {
        return Err(ScreenReason::NotAMint);
    }
    for entry in Tlv::new(&data[TLV_START..]) {
        let (kind, value) = entry?;
        match kind {
            EXT_PERMANENT_DELEGATE if nonzero(value.get(..32))? => {
                return Err(ScreenReason::PermanentDelegate);
            }
            // Value: authority (32 bytes), then the hook program id.
            EXT_TRANSFER_HOOK if nonzero(value.get(32..64))? => {
                return Err(ScreenReason::TransferHook);
            }
            _ => {}
        }
    }
    Ok(())
}

/// A `COption<Pubkey>` as the token programs pack it: u32 tag, 32 bytes.
fn coption_is_some(bytes: &[u8]) -> Result<bool, ScreenReason> {
    match bytes.get(..4) {
        Some([0, 0, 0, 0]) => Ok(false),
        Some([1, 0, 0, 0]) => Ok(true),
        _ => Err(ScreenReason::NotAMint),
    }
}

fn nonzero(bytes: Option<&[u8]>) -> Result<bool, ScreenReason> {
    bytes
        .map(|b| b.iter().any(|&x| x != 0))
        .ok_or(ScreenReason::Malformed)
}

/// Iterates `(type, value)` over TLV data; type 0 (uninitialized) ends it.
struct Tlv<'a> {
    rest: &'a [u8],
}

impl<'a> Tlv<'a> {
    const fn new(rest: &'a [u8]) -> Self {
        Self { rest }
    }
}

impl<'a> Iterator for Tlv<'a> {
    type Item = Result<(u16, &'a [u8]), ScreenReason>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.rest.len() < 4 {
            // Trailing bytes shorter than a header: only zero padding is fine.
            return (!self.rest.iter().all(|&b| b == 0)).then_some(Err(ScreenReason::Malformed));
        }
        let kind = u16::from_le_bytes([self.rest[0], self.rest[1]]);
        if kind == 0 {
            self.rest = &[];
            return None;
        }
        let len = usize::from(u16::from_le_bytes([self.rest[2], self.rest[3]]));
        let Some(value) = self.rest.get(4..4 + len) else {
            self.rest = &[];
            return Some(Err(ScreenReason::Malformed));
        };
        self.rest = &self.rest[4 + len..];
        Some(Ok((kind, value)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base_mint(freeze: Option<[u8; 32]>) -> Vec<u8> {
        let mut d = vec![0u8; MINT_LEN];
        d[0] = 1; // mint authority: Some
        d[4..36].copy_from_slice(&[7; 32]);
        d[36..44].copy_from_slice(&1_000_000u64.to_le_bytes());
        d[44] = 6; // decimals
        d[IS_INITIALIZED] = 1;
        if let Some(f) = freeze {
            d[46] = 1;
            d[50..82].copy_from_slice(&f);
        }
        d
    }

    fn with_extensions(exts: &[(u16, Vec<u8>)]) -> Vec<u8> {
        let mut d = base_mint(None);
        d.resize(ACCOUNT_TYPE, 0);
        d.push(ACCOUNT_TYPE_MINT);
        for (kind, value) in exts {
            d.extend_from_slice(&kind.to_le_bytes());
            d.extend_from_slice(&u16::try_from(value.len()).unwrap().to_le_bytes());
            d.extend_from_slice(value);
        }
        d
    }

    #[test]
    fn program_ids_are_the_real_ones() {
        assert_eq!(
            bs58::encode(TOKEN_PROGRAM).into_string(),
            "TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA"
        );
        assert_eq!(
            bs58::encode(TOKEN_2022_PROGRAM).into_string(),
            "TokenzQdBNbLqP5VEhdkAS6EPFLC1PHnBqCXEpPxuEb"
        );
    }

    #[test]
    fn plain_mints_pass_under_both_programs() {
        assert_eq!(screen_mint(&TOKEN_PROGRAM, &base_mint(None)), Ok(()));
        assert_eq!(screen_mint(&TOKEN_2022_PROGRAM, &base_mint(None)), Ok(()));
    }

    #[test]
    fn freeze_authority_is_refused() {
        let d = base_mint(Some([9; 32]));
        assert_eq!(
            screen_mint(&TOKEN_PROGRAM, &d),
            Err(ScreenReason::FreezeAuthority)
        );
        assert_eq!(
            screen_mint(&TOKEN_2022_PROGRAM, &d),
            Err(ScreenReason::FreezeAuthority)
        );
    }

    #[test]
    fn not_a_mint() {
        assert_eq!(
            screen_mint(&[1; 32], &base_mint(None)),
            Err(ScreenReason::NotAMint)
        );
        // A 165-byte token account is not a mint.
        assert_eq!(
            screen_mint(&TOKEN_PROGRAM, &[0u8; 165]),
            Err(ScreenReason::NotAMint)
        );
        let mut uninit = base_mint(None);
        uninit[IS_INITIALIZED] = 0;
        assert_eq!(
            screen_mint(&TOKEN_PROGRAM, &uninit),
            Err(ScreenReason::NotAMint)
        );
        let mut bad_tag = base_mint(None);
        bad_tag[46] = 2;
        assert_eq!(
            screen_mint(&TOKEN_PROGRAM, &bad_tag),
            Err(ScreenReason::NotAMint)
        );
        assert_eq!(
            screen_mint(&TOKEN_PROGRAM, &[]),
            Err(ScreenReason::NotAMint)
        );
        // Token-2022 data longer than the base must carry the mint type byte.
        let mut account_type = with_extensions(&[]);
        account_type[ACCOUNT_TYPE] = 2;
        assert_eq!(
            screen_mint(&TOKEN_2022_PROGRAM, &account_type),
            Err(ScreenReason::NotAMint)
        );
    }

    #[test]
    fn permanent_delegate_only_when_set() {
        let set = with_extensions(&[(EXT_PERMANENT_DELEGATE, vec![3; 32])]);
        assert_eq!(
            screen_mint(&TOKEN_2022_PROGRAM, &set),
            Err(ScreenReason::PermanentDelegate)
        );
        let unset = with_extensions(&[(EXT_PERMANENT_DELEGATE, vec![0; 32])]);
        assert_eq!(screen_mint(&TOKEN_2022_PROGRAM, &unset), Ok(()));
    }

    #[test]
    fn transfer_hook_only_with_a_program() {
        let mut value = vec![5; 32]; // authority set
        value.extend_from_slice(&[0; 32]); // no program
        let no_program = with_extensions(&[(EXT_TRANSFER_HOOK, value.clone())]);
        assert_eq!(screen_mint(&TOKEN_2022_PROGRAM, &no_program), Ok(()));
        value[40] = 1;
        let hook = with_extensions(&[(EXT_TRANSFER_HOOK, value)]);
        assert_eq!(
            screen_mint(&TOKEN_2022_PROGRAM, &hook),
            Err(ScreenReason::TransferHook)
        );
    }

    #[test]
    fn risky_extension_found_after_harmless_ones() {
        // Metadata pointer (18) and mint close authority (3) first.
        let d = with_extensions(&[
            (18, vec![1; 64]),
            (3, vec![0; 32]),
            (EXT_PERMANENT_DELEGATE, vec![8; 32]),
        ]);
        assert_eq!(
            screen_mint(&TOKEN_2022_PROGRAM, &d),
            Err(ScreenReason::PermanentDelegate)
        );
        // Zero padding after the entries ends the walk.
        let mut padded = with_extensions(&[(18, vec![1; 64])]);
        padded.extend_from_slice(&[0; 10]);
        assert_eq!(screen_mint(&TOKEN_2022_PROGRAM, &padded), Ok(()));
    }

    #[test]
    fn malformed_extensions() {
        let mut d = with_extensions(&[]);
        d.extend_from_slice(&EXT_PERMANENT_DELEGATE.to_le_bytes());
        d.extend_from_slice(&32u16.to_le_bytes());
        d.extend_from_slice(&[1; 10]); // shorter than its length
        assert_eq!(
            screen_mint(&TOKEN_2022_PROGRAM, &d),
            Err(ScreenReason::Malformed)
        );
        let short = with_extensions(&[(EXT_PERMANENT_DELEGATE, vec![1; 8])]);
        assert_eq!(
            screen_mint(&TOKEN_2022_PROGRAM, &short),
            Err(ScreenReason::Malformed)
        );
        let mut trailing = with_extensions(&[]);
        trailing.extend_from_slice(&[1, 0]);
        assert_eq!(
            screen_mint(&TOKEN_2022_PROGRAM, &trailing),
            Err(ScreenReason::Malformed)
        );
    }

    proptest::proptest! {
        #[test]
        fn never_panics(data in proptest::collection::vec(proptest::num::u8::ANY, 0..400), t22 in proptest::bool::ANY) {
            let program = if t22 { TOKEN_2022_PROGRAM } else { TOKEN_PROGRAM };
            let _ = screen_mint(&program, &data);
        }
    }
}
