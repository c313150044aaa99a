//! Key custody: envelope encryption of users' secrets (wallet keypairs)
//! under master keys, with XChaCha20-Poly1305.
//!
//! - A random 24-byte nonce per seal; the owner (`UserRef`) is the
//!   associated data, so a ciphertext moved to another user fails to open.
//! - Every sealed value names the master key id it was sealed with, so
//!   `rotate` can re-seal everything under the newest key without losing
//!   anything sealed under older ones.
//! - Secrets live in `Zeroizing` buffers and are wiped when dropped; no type
//!   here prints a secret (`Debug` is redacted).
//!
//! Master keys come from `ALFABOT_MASTER_KEY` / `ALFABOT_MASTER_KEY_FILE`
//! as comma-separated base64 32-byte keys; the last is the one that seals.
//! A key's id is derived from the key itself, so rotation is: append a new
//! key, run `alfabot keys rotate`, drop the old key.
//!
//! `keys` holds the wallet-key helpers (generate, import, export, sign).

pub mod keys;

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use rand::RngCore as _;
use zeroize::Zeroizing;

use crate::domain::UserRef;

const FORMAT: &str = "v2";

#[derive(Debug, thiserror::Error)]
pub enum VaultError {
    #[error("no master key is configured")]
    NoKeys,
    #[error("master key {index} is not base64 of 32 bytes")]
    BadKey { index: usize },
    #[error("master key {index} is listed twice")]
    DuplicateKey { index: usize },
    #[error("sealed value is malformed")]
    Malformed,
    #[error("sealed with master key {0}, which is not configured")]
    UnknownKey(u32),
    /// Wrong key, wrong owner or tampered ciphertext: indistinguishable on
    /// purpose.
    #[error("sealed value does not open for this user")]
    Open,
    #[error("encryption failed")]
    Seal,
}

/// A master key's id: the first four bytes of a SHA-256 of the key, so a
/// sealed value names its key whatever the order of the configured list
/// and after older keys are dropped from it (not a secret: it only tells
/// keys apart).
fn key_id(key: &[u8; 32]) -> u32 {
    use sha2::Digest as _;
    let digest = sha2::Sha256::new()
        .chain_update(b"alfabot vault master key id\0")
        .chain_update(key)
        .finalize();
    u32::from_be_bytes([digest[0], digest[1], digest[2], digest[3]])
}

/// The configured master keys.
pub struct MasterKeys {
    keys: Vec<(u32, Zeroizing<[u8; 32]>)>,
}

impl fmt::Debug for MasterKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MasterKeys")
            .field(
                "ids",
                &self.keys.iter().map(|(id, _)| id).collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}

impl MasterKeys {
    /// Parses `base64,base64,…` (whitespace and newlines allowed).
    pub fn parse(text: &str) -> Result<Self, VaultError> {
        let mut keys = Vec::new();
        for (i, part) in text
            .split([',', '\n'])
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .enumerate()
        {
            let bytes = Zeroizing::new(
                B64.decode(part)
                    .map_err(|_| VaultError::BadKey { index: i + 1 })?,
            );
            let key: [u8; 32] = bytes
                .as_slice()
                .try_into()
                .map_err(|_| VaultError::BadKey { index: i + 1 })?;
            let id = key_id(&key);
            if keys.iter().any(|(k, _)| *k == id) {
                return Err(VaultError::DuplicateKey { index: i + 1 });
            }
            keys.push((id, Zeroizing::new(key)));
        }
        if keys.is_empty() {
            return Err(VaultError::NoKeys);
        }
        Ok(Self { keys })
    }

    /// A fresh random key, base64 (for first-run generation).
    #[must_use]
    pub fn generate_base64() -> Zeroizing<String> {
        let mut key = Zeroizing::new([0u8; 32]);
        rand::rng().fill_bytes(key.as_mut());
        Zeroizing::new(B64.encode(key.as_ref()))
    }

    fn current(&self) -> (u32, &[u8; 32]) {
        let (id, key) = self.keys.last().expect("parse guarantees one key");
        (*id, key)
    }

    fn get(&self, id: u32) -> Option<&[u8; 32]> {
        self.keys
            .iter()
            .find(|(k, _)| *k == id)
            .map(|(_, key)| &**key)
    }
}

/// A sealed secret as stored: `v2:<key id>:<base64 nonce>:<base64 ciphertext>`.
#[derive(Clone, PartialEq, Eq)]
pub struct Sealed(String);

impl Sealed {
    /// Wraps a stored value (checked when opened).
    #[must_use]
    pub const fn from_stored(s: String) -> Self {
        Self(s)
    }

    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The master key id it was sealed with.
    pub fn key_id(&self) -> Result<u32, VaultError> {
        self.parts().map(|(id, _, _)| id)
    }

    fn parts(&self) -> Result<(u32, [u8; 24], Vec<u8>), VaultError> {
        let mut it = self.0.split(':');
        let (Some(FORMAT), Some(id), Some(nonce), Some(ct), None) =
            (it.next(), it.next(), it.next(), it.next(), it.next())
        else {
            return Err(VaultError::Malformed);
        };
        let id = id.parse().map_err(|_| VaultError::Malformed)?;
        let nonce: [u8; 24] = B64
            .decode(nonce)
            .ok()
            .and_then(|n| n.try_into().ok())
            .ok_or(VaultError::Malformed)?;
        let ct = B64.decode(ct).map_err(|_| VaultError::Malformed)?;
        Ok((id, nonce, ct))
    }
}

impl fmt::Debug for Sealed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Sealed(key {:?}, {} bytes)",
            self.key_id().ok(),
            self.0.len()
        )
    }
}

fn aad(owner: UserRef) -> Vec<u8> {
    format!("alfabot:{FORMAT}:{owner}").into_bytes()
}

fn cipher(key: &[u8; 32]) -> XChaCha20Poly1305 {
    XChaCha20Poly1305::new(key.into())
}

/// Encrypts and decrypts users' secrets.
#[derive(Debug)]
pub struct Vault {
    keys: MasterKeys,
}

impl Vault {
    #[must_use]
    pub const fn new(keys: MasterKeys) -> Self {
        Self { keys }
    }

    /// Seals `secret` for `owner` under the newest master key.
    pub fn seal(&self, owner: UserRef, secret: &[u8]) -> Result<Sealed, VaultError> {
        let (id, key) = self.keys.current();
        let mut nonce = [0u8; 24];
        rand::rng().fill_bytes(&mut nonce);
        let ct = cipher(key)
            .encrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: secret,
                    aad: &aad(owner),
                },
            )
            .map_err(|_| VaultError::Seal)?;
        Ok(Sealed(format!(
            "{FORMAT}:{id}:{}:{}",
            B64.encode(nonce),
            B64.encode(ct)
        )))
    }

    /// Opens a sealed secret of `owner`; the plaintext is wiped on drop.
    pub fn open(&self, owner: UserRef, sealed: &Sealed) -> Result<Zeroizing<Vec<u8>>, VaultError> {
        let (id, nonce, ct) = sealed.parts()?;
        let key = self.keys.get(id).ok_or(VaultError::UnknownKey(id))?;
        cipher(key)
            .decrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: &ct,
                    aad: &aad(owner),
                },
            )
            .map(Zeroizing::new)
            .map_err(|_| VaultError::Open)
    }

    /// The id of the key that seals (the newest).
    #[must_use]
    pub fn current_key_id(&self) -> u32 {
        self.keys.current().0
    }

    /// Re-seals under the newest key; `None` when it already is.
    pub fn rotate(&self, owner: UserRef, sealed: &Sealed) -> Result<Option<Sealed>, VaultError> {
        if sealed.key_id()? == self.keys.current().0 {
            return Ok(None);
        }
        let secret = self.open(owner, sealed)?;
        self.seal(owner, &secret).map(Some)
    }
}

/// Where the master keys came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeySource {
    /// `ALFABOT_MASTER_KEY`.
    Environment,
    /// An existing key file.
    File(std::path::PathBuf),
    /// A key generated into this file on first run.
    Generated(std::path::PathBuf),
}

/// The default key file, in the working (data) directory.
pub const DEFAULT_KEY_FILE: &str = "alfabot.master.key";

/// The vault from `ALFABOT_MASTER_KEY`, else from the key file (default
/// [`DEFAULT_KEY_FILE`] in `data_dir`); when neither exists a key is generated into the
/// file (owner-only permissions) and the caller warns: losing that file
/// loses every stored wallet key.
pub fn load_or_create(
    key: Option<&str>,
    file: Option<&std::path::Path>,
    data_dir: &std::path::Path,
) -> anyhow::Result<(Vault, KeySource)> {
    use anyhow::Context as _;
    if let Some(k) = key {
        let keys = MasterKeys::parse(k).context("ALFABOT_MASTER_KEY")?;
        return Ok((Vault::new(keys), KeySource::Environment));
    }
    let path = file.map_or_else(
        || data_dir.join(DEFAULT_KEY_FILE),
        std::path::Path::to_path_buf,
    );
    if path.exists() {
        let text = Zeroizing::new(
            std::fs::read_to_string(&path)
                .with_context(|| format!("read the master key file {}", path.display()))?,
        );
        let keys = MasterKeys::parse(&text)
            .with_context(|| format!("the master key file {}", path.display()))?;
        return Ok((Vault::new(keys), KeySource::File(path)));
    }
    if file.is_some() {
        anyhow::bail!(
            "ALFABOT_MASTER_KEY_FILE names {}, which does not exist",
            path.display()
        );
    }
    let generated = MasterKeys::generate_base64();
    write_private(&path, generated.as_bytes())
        .with_context(|| format!("write a new master key to {}", path.display()))?;
    let keys = MasterKeys::parse(&generated).context("the generated master key")?;
    Ok((Vault::new(keys), KeySource::Generated(path)))
}

/// `alfabot keys rotate`: re-seals every stored key, and every deleted key
/// still restorable, under the newest master key in one transaction (all
/// or nothing). Every key must open first, so a missing old master key
/// stops the rotation before anything is written. Returns a one-line
/// report.
pub async fn rotate_all(settings: &crate::config::Settings) -> anyhow::Result<String> {
    use crate::domain::ports::{KeyRecord, Store as _};
    use anyhow::Context as _;
    use secrecy::ExposeSecret as _;
    if settings.master_key.is_none()
        && settings.master_key_file.is_none()
        && !std::path::Path::new(DEFAULT_KEY_FILE).exists()
    {
        anyhow::bail!(
            "no master key is configured (ALFABOT_MASTER_KEY or ALFABOT_MASTER_KEY_FILE)"
        );
    }
    let (vault, _) = load_or_create(
        settings.master_key.as_ref().map(|k| k.expose_secret()),
        settings.master_key_file.as_deref(),
        std::path::Path::new("."),
    )?;
    let store = crate::store::connect(settings.database_url.expose_secret()).await?;
    let keys = store.all_keys().await.context("read the stored keys")?;
    let deleted: Vec<KeyRecord> = store
        .all_deleted_keys()
        .await
        .context("read the deleted keys")?
        .into_iter()
        .map(|d| d.key)
        .collect();
    let reseal = |keys: &[KeyRecord], what: &str| -> anyhow::Result<Vec<KeyRecord>> {
        let mut resealed = Vec::new();
        for k in keys {
            let sealed = Sealed::from_stored(k.sealed.clone());
            if let Some(new) = vault.rotate(k.user, &sealed).with_context(|| {
                format!(
                    "the {what} key of {} for {} does not open",
                    k.wallet, k.user
                )
            })? {
                resealed.push(KeyRecord {
                    sealed: new.as_str().to_owned(),
                    ..k.clone()
                });
            }
        }
        Ok(resealed)
    };
    let resealed = reseal(&keys, "stored")?;
    let resealed_deleted = reseal(&deleted, "deleted")?;
    store
        .reseal_keys(&resealed, &resealed_deleted)
        .await
        .context("write the re-sealed keys")?;
    store.close().await;
    Ok(format!(
        "{} of {} stored keys and {} of {} deleted keys re-sealed under master key {}",
        resealed.len(),
        keys.len(),
        resealed_deleted.len(),
        deleted.len(),
        vault.current_key_id()
    ))
}

fn write_private(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write as _;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let mut f = options.open(path)?;
    f.write_all(bytes)?;
    f.write_all(b"\n")?;
    f.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Platform;

    const ALICE: UserRef = UserRef::new(Platform::Telegram, 1);
    const BOB: UserRef = UserRef::new(Platform::Telegram, 2);

    fn keys(n: usize) -> String {
        (0..n)
            .map(|i| B64.encode([u8::try_from(i).unwrap(); 32]))
            .collect::<Vec<_>>()
            .join(",")
    }

    fn vault(n: usize) -> Vault {
        Vault::new(MasterKeys::parse(&keys(n)).unwrap())
    }

    #[test]
    fn round_trip_with_fresh_nonces() {
        let v = vault(1);
        let a = v.seal(ALICE, b"secret key bytes").unwrap();
        let b = v.seal(ALICE, b"secret key bytes").unwrap();
        assert_ne!(a, b, "random nonce per seal");
        assert_eq!(&*v.open(ALICE, &a).unwrap(), b"secret key bytes");
        assert!(!a.as_str().contains("secret"));
        assert!(!format!("{a:?}").contains(a.as_str()));
    }

    #[test]
    fn another_user_or_a_tampered_value_fails() {
        let v = vault(1);
        let s = v.seal(ALICE, b"k").unwrap();
        assert!(matches!(v.open(BOB, &s), Err(VaultError::Open)));
        let mut raw = s.as_str().to_owned();
        let last = raw.pop().unwrap();
        raw.push(if last == 'A' { 'B' } else { 'A' });
        assert!(matches!(
            v.open(ALICE, &Sealed::from_stored(raw)),
            Err(VaultError::Open | VaultError::Malformed)
        ));
        assert!(matches!(
            v.open(ALICE, &Sealed::from_stored("v1:1:x".into())),
            Err(VaultError::Malformed)
        ));
    }

    #[test]
    fn rotation_keeps_everything_readable() {
        let old = vault(1);
        let sealed: Vec<Sealed> = (0..5).map(|i| old.seal(ALICE, &[i; 64]).unwrap()).collect();
        let new = vault(2);
        for (i, s) in sealed.iter().enumerate() {
            let rotated = new.rotate(ALICE, s).unwrap().unwrap();
            assert_eq!(rotated.key_id().unwrap(), new.current_key_id());
            assert_eq!(
                &*new.open(ALICE, &rotated).unwrap(),
                &[u8::try_from(i).unwrap(); 64]
            );
            assert!(new.rotate(ALICE, &rotated).unwrap().is_none());
        }
        // Without the old key, old seals cannot open: rotation runs first.
        // After it, the old key can go: the new seals name the new key.
        let only_new = Vault::new(MasterKeys::parse(&B64.encode([1u8; 32])).unwrap());
        assert!(matches!(
            only_new.open(ALICE, &sealed[0]),
            Err(VaultError::UnknownKey(_))
        ));
        let rotated = new.rotate(ALICE, &sealed[0]).unwrap().unwrap();
        assert_eq!(&*only_new.open(ALICE, &rotated).unwrap(), &[0u8; 64]);
    }

    #[test]
    fn a_key_file_is_made_once_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k");
        let missing = load_or_create(None, Some(&path), dir.path()).unwrap_err();
        assert!(format!("{missing:#}").contains("does not exist"));
        // The default file is created when nothing is configured.
        let file = dir.path().join(DEFAULT_KEY_FILE);
        let (v, src) = load_or_create(None, None, dir.path()).unwrap();
        let (_, again) = load_or_create(None, None, dir.path()).unwrap();
        assert_eq!(src, KeySource::Generated(file.clone()));
        assert_eq!(again, KeySource::File(file.clone()));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(&file).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let (v2, _) = load_or_create(None, Some(&file), dir.path()).unwrap();
        let sealed = v.seal(ALICE, b"s").unwrap();
        assert_eq!(&*v2.open(ALICE, &sealed).unwrap(), b"s");
        let (_, env) = load_or_create(Some(&keys(2)), Some(&path), dir.path()).unwrap();
        assert_eq!(env, KeySource::Environment);
    }

    #[test]
    fn key_parsing() {
        assert!(matches!(MasterKeys::parse(""), Err(VaultError::NoKeys)));
        assert!(matches!(
            MasterKeys::parse(&format!("{},abc", keys(1))),
            Err(VaultError::BadKey { index: 2 })
        ));
        let k = MasterKeys::parse(&keys(3)).unwrap();
        assert_eq!(k.current().0, key_id(&[2u8; 32]), "the last key seals");
        assert!(matches!(
            MasterKeys::parse(&format!("{},{}", keys(1), keys(1))),
            Err(VaultError::DuplicateKey { index: 2 })
        ));
        assert!(!format!("{k:?}").contains(&B64.encode([0u8; 32])));
        let fresh = MasterKeys::generate_base64();
        let k = MasterKeys::parse(&fresh).unwrap();
        let bytes: [u8; 32] = B64.decode(fresh.as_str()).unwrap().try_into().unwrap();
        assert_eq!(k.current().0, key_id(&bytes));
    }
}
