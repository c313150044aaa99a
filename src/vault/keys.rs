//! Wallet key custody helpers: generating, importing and exporting Solana
//! keypairs as the 64-byte `secret ‖ public` form that wallets use, and
//! turning a stored secret into a signing `Keypair`.
//!
//! Secrets only live in `Zeroizing` buffers here. Errors never carry any
//! part of the input (not even the offending character of a bad base58
//! string or a bad number of a JSON array), because the input is a secret;
//! they name the shape that was wrong and, at most, a length.

use std::fmt;

use solana_keypair::Keypair;
use solana_signer::Signer as _;
use zeroize::Zeroizing;

use crate::domain::Address;

/// Length of a keypair's secret form: 32 secret bytes, then the public key.
pub const SECRET_LEN: usize = 64;

/// A 64-byte secret key (`secret ‖ public`), wiped on drop. `Debug` is
/// redacted; the bytes are only reachable through [`SecretKey::expose`].
pub struct SecretKey(Zeroizing<[u8; SECRET_LEN]>);

impl SecretKey {
    /// A stored secret (as the vault opens it), checked to be a keypair.
    pub fn from_slice(secret: &[u8]) -> Result<Self, KeyImportError> {
        keypair(secret)?;
        let bytes: [u8; SECRET_LEN] = secret
            .try_into()
            .map_err(|_| KeyImportError::Length(secret.len()))?;
        Ok(Self(Zeroizing::new(bytes)))
    }

    /// The raw bytes, for sealing in the vault or building a `Keypair`.
    #[must_use]
    pub fn expose(&self) -> &[u8; SECRET_LEN] {
        &self.0
    }
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretKey(<redacted>)")
    }
}

/// Why an imported or stored key was refused. Never contains the key.
#[derive(Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyImportError {
    #[error("the key is empty")]
    Empty,
    #[error("the key is neither base58 nor a JSON array of numbers")]
    Format,
    #[error("the JSON array must hold numbers from 0 to 255")]
    JsonNumbers,
    #[error("the key has {0} bytes; a Solana secret key has 64")]
    Length(usize),
    #[error("the public half of the key does not match its secret half")]
    Mismatch,
}

// Derived Debug would be just as safe today; written out so that adding a
// field can never start printing input.
impl fmt::Debug for KeyImportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Empty => f.write_str("Empty"),
            Self::Format => f.write_str("Format"),
            Self::JsonNumbers => f.write_str("JsonNumbers"),
            Self::Length(n) => write!(f, "Length({n})"),
            Self::Mismatch => f.write_str("Mismatch"),
        }
    }
}

/// A fresh random keypair: its address and its secret.
#[must_use]
pub fn generate() -> (Address, SecretKey) {
    let kp = Keypair::new();
    let secret = SecretKey(Zeroizing::new(kp.to_bytes()));
    (address_of(&kp), secret)
}

/// Parses a secret key as wallets export it: base58 of the 64 bytes
/// (Phantom, Solflare) or a JSON array of 64 numbers (a `solana-keygen`
/// file). The public half must match the secret half.
pub fn parse_import(text: &str) -> Result<(Address, SecretKey), KeyImportError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(KeyImportError::Empty);
    }
    let bytes = if text.starts_with('[') {
        json_bytes(text)?
    } else {
        Zeroizing::new(
            bs58::decode(text)
                .into_vec()
                .map_err(|_| KeyImportError::Format)?,
        )
    };
    let secret = SecretKey(Zeroizing::new(
        bytes
            .as_slice()
            .try_into()
            .map_err(|_| KeyImportError::Length(bytes.len()))?,
    ));
    let kp = keypair(secret.expose())?;
    Ok((address_of(&kp), secret))
}

/// The base58 form wallets import (Phantom's "private key").
#[must_use]
pub fn export_base58(secret: &SecretKey) -> Zeroizing<String> {
    Zeroizing::new(bs58::encode(secret.expose()).into_string())
}

/// A signing keypair from a 64-byte secret (as stored in the vault),
/// checking that its public half matches.
pub fn keypair(secret: &[u8]) -> Result<Keypair, KeyImportError> {
    if secret.len() != SECRET_LEN {
        return Err(KeyImportError::Length(secret.len()));
    }
    Keypair::try_from(secret).map_err(|_| KeyImportError::Mismatch)
}

/// The address of a keypair.
#[must_use]
pub fn address_of(kp: &Keypair) -> Address {
    Address::from_bytes(kp.pubkey().to_bytes())
}

/// `[1, 2, …]` into bytes without serde (whose errors quote the input).
fn json_bytes(text: &str) -> Result<Zeroizing<Vec<u8>>, KeyImportError> {
    let inner = text
        .strip_prefix('[')
        .and_then(|t| t.strip_suffix(']'))
        .ok_or(KeyImportError::Format)?;
    let mut out = Zeroizing::new(Vec::with_capacity(SECRET_LEN));
    for part in inner.split(',') {
        let part = part.trim();
        if part.is_empty() || !part.bytes().all(|b| b.is_ascii_digit()) {
            return Err(KeyImportError::JsonNumbers);
        }
        let n: u8 = part.parse().map_err(|_| KeyImportError::JsonNumbers)?;
        out.push(n);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    // A fixed test key: secret half 1..=32, public half derived.
    fn fixed() -> Keypair {
        let seed: [u8; 32] = std::array::from_fn(|i| u8::try_from(i + 1).unwrap());
        Keypair::new_from_array(seed)
    }

    fn assert_no_secret(err: &KeyImportError, input: &str) {
        if input.len() < 8 {
            return; // too short to be a secret (and "" is in every string)
        }
        for shown in [format!("{err}"), format!("{err:?}")] {
            assert!(!shown.contains(input), "{shown} leaks the input");
            // Not even a long chunk of it.
            if input.len() > 12 {
                assert!(!shown.contains(&input[4..12]), "{shown} leaks a part");
            }
        }
    }

    #[test]
    fn generated_keys_round_trip_through_base58() {
        let (addr, secret) = generate();
        let text = export_base58(&secret);
        let (addr2, secret2) = parse_import(&text).unwrap();
        assert_eq!(addr, addr2);
        assert_eq!(secret.expose(), secret2.expose());
        assert_eq!(address_of(&keypair(secret.expose()).unwrap()), addr);
        assert_eq!(format!("{secret:?}"), "SecretKey(<redacted>)");
    }

    #[test]
    fn imports_phantom_base58_and_keygen_json() {
        let kp = fixed();
        let b58 = kp.to_base58_string();
        let json = format!(
            "[{}]",
            kp.to_bytes()
                .iter()
                .map(u8::to_string)
                .collect::<Vec<_>>()
                .join(",")
        );
        let want = address_of(&kp);
        assert_eq!(parse_import(&b58).unwrap().0, want);
        assert_eq!(parse_import(&format!("  {json}\n")).unwrap().0, want);
        assert_eq!(
            parse_import(&json.replace(',', ", ")).unwrap().0,
            want,
            "keygen files may carry spaces"
        );
    }

    #[test]
    fn refusals_never_show_the_secret() {
        let kp = fixed();
        let mut bytes = kp.to_bytes();
        bytes[40] ^= 1; // public half no longer matches
        let mismatched = bs58::encode(bytes).into_string();
        let good = kp.to_base58_string();
        assert!(good.len() > 80);
        let cases = [
            (String::new(), KeyImportError::Empty),
            (mismatched, KeyImportError::Mismatch),
            (format!("{good}0"), KeyImportError::Format),
            (
                bs58::encode([7u8; 32]).into_string(),
                KeyImportError::Length(32),
            ),
            (
                format!("[{}]", kp.to_bytes().map(|b| b.to_string()).join(","))
                    .replace("]", ",300]"),
                KeyImportError::JsonNumbers,
            ),
            ("[1,2,x]".to_owned(), KeyImportError::JsonNumbers),
            ("[1,2,3".to_owned(), KeyImportError::Format),
            ("[1,2,3]".to_owned(), KeyImportError::Length(3)),
        ];
        for (input, want) in cases {
            let err = parse_import(&input).unwrap_err();
            assert_eq!(err, want, "input of {} chars", input.len());
            assert_no_secret(&err, &input);
        }
    }

    #[test]
    fn keypair_checks_the_stored_secret() {
        let kp = fixed();
        assert_eq!(
            keypair(&kp.to_bytes()[..32]).unwrap_err(),
            KeyImportError::Length(32)
        );
        let mut bad = kp.to_bytes();
        bad[63] ^= 1;
        assert_eq!(keypair(&bad).unwrap_err(), KeyImportError::Mismatch);
        assert_eq!(
            address_of(&keypair(&kp.to_bytes()).unwrap()),
            address_of(&kp)
        );
    }
}
