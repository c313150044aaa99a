//! Identifiers: Solana addresses and signatures (base58), chat-side user and
//! chat references, and locales. Each parses once and is trusted afterwards.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Why a string is not a Solana address. The messages name exactly what was
/// wrong, because users see them (localized through `chat/`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AddressError {
    #[error("the address is empty")]
    Empty,
    #[error("the address has {len} characters; Solana addresses have 32 to 44")]
    Length { len: usize },
    #[error("character {ch:?} at position {position} is not base58")]
    Character { ch: char, position: usize },
    #[error("the address decodes to {bytes} bytes; a Solana address is 32 bytes")]
    Bytes { bytes: usize },
}

/// A 32-byte Solana public key in its canonical base58 form.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Address([u8; 32]);

impl Address {
    /// Parses a base58 address, trimming surrounding whitespace.
    pub fn parse(input: &str) -> Result<Self, AddressError> {
        let s = input.trim();
        if s.is_empty() {
            return Err(AddressError::Empty);
        }
        if let Some((position, ch)) = s.chars().enumerate().find(|(_, c)| !is_base58(*c)) {
            return Err(AddressError::Character {
                ch,
                position: position + 1,
            });
        }
        if !(32..=44).contains(&s.len()) {
            return Err(AddressError::Length { len: s.len() });
        }
        let bytes = bs58::decode(s)
            .into_vec()
            .map_err(|_| AddressError::Length { len: s.len() })?;
        let arr: [u8; 32] = bytes
            .as_slice()
            .try_into()
            .map_err(|_| AddressError::Bytes { bytes: bytes.len() })?;
        Ok(Self(arr))
    }

    #[must_use]
    pub const fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    #[must_use]
    pub const fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// First and last four characters, for compact display (`AbCd…WxYz`).
    #[must_use]
    pub fn short(&self) -> String {
        let s = self.to_string();
        format!("{}…{}", &s[..4], &s[s.len() - 4..])
    }
}

fn is_base58(c: char) -> bool {
    c.is_ascii_alphanumeric() && !matches!(c, '0' | 'O' | 'I' | 'l')
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&bs58::encode(self.0).into_string())
    }
}

impl fmt::Debug for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{self}")
    }
}

impl FromStr for Address {
    type Err = AddressError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl Serialize for Address {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Address {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// A wallet that trades (a leader, or a user's own wallet).
pub type WalletAddress = Address;
/// A token mint.
pub type Mint = Address;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("the signature is not base58")]
    Base58,
    #[error("the signature decodes to {0} bytes; expected 64")]
    Bytes(usize),
}

/// A transaction signature (64 bytes, base58). Kept as its string form: it
/// is used as a dedup and idempotency key and printed far more than compared
/// bytewise. Shared (`Arc<str>`): one leader trade's signature is copied
/// into every follower's decision and order, and a clone must not allocate.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Signature(std::sync::Arc<str>);

impl Signature {
    pub fn parse(input: &str) -> Result<Self, SignatureError> {
        let s = input.trim();
        let bytes = bs58::decode(s)
            .into_vec()
            .map_err(|_| SignatureError::Base58)?;
        if bytes.len() != 64 {
            return Err(SignatureError::Bytes(bytes.len()));
        }
        Ok(Self(s.into()))
    }

    #[must_use]
    pub fn from_bytes(bytes: &[u8; 64]) -> Self {
        Self(bs58::encode(bytes).into_string().into())
    }

    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Signature {
    type Error = SignatureError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<Signature> for String {
    fn from(s: Signature) -> Self {
        s.0.to_string()
    }
}

impl fmt::Display for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The chat platform a user or chat lives on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Platform {
    Telegram,
    Discord,
    Console,
}

impl Platform {
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Telegram => "telegram",
            Self::Discord => "discord",
            Self::Console => "console",
        }
    }

    #[must_use]
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "telegram" => Some(Self::Telegram),
            "discord" => Some(Self::Discord),
            "console" => Some(Self::Console),
            _ => None,
        }
    }
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A user of one platform (Telegram user id, Discord user id, console = 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct UserRef {
    pub platform: Platform,
    pub id: i64,
}

impl UserRef {
    #[must_use]
    pub const fn new(platform: Platform, id: i64) -> Self {
        Self { platform, id }
    }
}

impl fmt::Display for UserRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.platform, self.id)
    }
}

/// A chat a message can be delivered to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ChatRef {
    pub platform: Platform,
    pub id: i64,
}

impl ChatRef {
    #[must_use]
    pub const fn new(platform: Platform, id: i64) -> Self {
        Self { platform, id }
    }
}

impl fmt::Display for ChatRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.platform, self.id)
    }
}

/// Private conversations see personal data; groups and channels never do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ChatKind {
    Private,
    Group,
    Channel,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unsupported language {0:?}")]
pub struct LocaleError(pub String);

/// The languages alfabot speaks. Every user has one; every lookup names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Locale {
    #[default]
    En,
    Es,
}

impl Locale {
    pub const ALL: [Self; 2] = [Self::En, Self::Es];

    #[must_use]
    pub const fn code(self) -> &'static str {
        match self {
            Self::En => "en",
            Self::Es => "es",
        }
    }

    /// Parses a language tag such as `es`, `es-AR` or `EN`.
    pub fn parse(tag: &str) -> Result<Self, LocaleError> {
        let primary = tag.trim().split(['-', '_']).next().unwrap_or_default();
        match primary.to_ascii_lowercase().as_str() {
            "en" => Ok(Self::En),
            "es" => Ok(Self::Es),
            _ => Err(LocaleError(tag.to_owned())),
        }
    }

    /// The locale for a platform-provided language hint, English when unknown.
    #[must_use]
    pub fn from_hint(tag: Option<&str>) -> Self {
        tag.and_then(|t| Self::parse(t).ok()).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const WALLET: &str = "8jGai9a8U4RSzDnweCgeVZJBLxMTrNsrhHbGrCF8F3Ks";

    #[test]
    fn parses_real_wallet_and_round_trips() {
        let a = Address::parse(WALLET).unwrap();
        assert_eq!(a.to_string(), WALLET);
        assert_eq!(a.short(), "8jGa…F3Ks");
        let json = serde_json::to_string(&a).unwrap();
        assert_eq!(serde_json::from_str::<Address>(&json).unwrap(), a);
    }

    #[test]
    fn rejects_bad_addresses_with_a_reason() {
        assert_eq!(Address::parse(""), Err(AddressError::Empty));
        assert_eq!(
            Address::parse("not-a-wallet"),
            Err(AddressError::Character {
                ch: '-',
                position: 4
            })
        );
        assert_eq!(Address::parse("abc"), Err(AddressError::Length { len: 3 }));
        assert!(matches!(
            Address::parse(&WALLET.replace('8', "0")),
            Err(AddressError::Character { ch: '0', .. })
        ));
        // 44 base58 characters that decode to 33 bytes.
        assert!(matches!(
            Address::parse("zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz"),
            Err(AddressError::Bytes { .. })
        ));
    }

    #[test]
    fn locale_hints() {
        assert_eq!(Locale::from_hint(Some("es-AR")), Locale::Es);
        assert_eq!(Locale::from_hint(Some("fr")), Locale::En);
        assert_eq!(Locale::from_hint(None), Locale::En);
    }

    proptest::proptest! {
        #[test]
        fn any_32_bytes_round_trip(bytes in proptest::array::uniform32(proptest::num::u8::ANY)) {
            let a = Address::from_bytes(bytes);
            proptest::prop_assert_eq!(Address::parse(&a.to_string()).unwrap(), a);
        }

        #[test]
        fn parse_never_panics(s in ".{0,60}") {
            let _ = Address::parse(&s);
        }
    }
}
