//! The keys that open the encrypted store, kept outside it.
//!
//! The store's SQLCipher key is 32 random bytes that are never written anywhere in the clear.
//! Each user has an X25519 key pair; its private half is wrapped (ChaCha20-Poly1305) by a key
//! derived with argon2id from their PIN or passphrase, and the pair travels in the
//! organisation document, so every laptop can seal (libsodium's sealed box, crypto_box) its
//! own store key to every active user's public key without ever knowing their PIN. The
//! recovery key works the same way with a pair of its own.
//!
//! The keyring file (`keyring.json`, beside the database) holds, for this laptop: each active
//! user's id, name and roles (the lock screen's tiles: nothing about members), their key pair
//! as the organisation document has it, and the store key sealed to them; the same for the
//! recovery key. It must hold nothing that opens the store without a secret.
//!
//! No cryptography is made here: argon2, chacha20poly1305 and crypto_box do it all. This module
//! must not read or decide anything about users beyond what it is given.

use std::fs;
use std::io::Write as _;
use std::path::Path;

use argon2::{Algorithm, Argon2, Params, Version};
use chacha20poly1305::aead::{Aead, KeyInit};
use chacha20poly1305::{ChaCha20Poly1305, Nonce};
use crypto_box::aead::OsRng;
use crypto_box::{PublicKey, SecretKey};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::domain::names::search_key;

/// The keyring file in the data directory.
pub const KEYRING_FILE: &str = "keyring.json";

/// How the key wrapping a private key is derived from a secret (argon2id). Kept with every
/// wrap, so the cost can rise later without breaking old wraps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct KdfCost {
    /// Memory in KiB.
    pub m_kib: u32,
    /// Passes.
    pub t: u32,
    /// Lanes.
    pub p: u32,
}

impl KdfCost {
    /// About one second per guess on a 2-core laptop of 2020 (measured: see the README's
    /// "Encryption at rest"), which is what slows down someone guessing PINs offline with a
    /// copy of the keyring.
    pub const STANDARD: KdfCost = KdfCost {
        m_kib: 256 * 1024,
        t: 2,
        p: 1,
    };

    /// For tests only: a wrap this cheap protects nothing. Reachable only through
    /// [`KdfCost::for_new_wraps`] in a debug build with HUBDESK_TEST_CHEAP_KDF=1, through an
    /// in-memory store, or through [`super::Store::use_cheap_kdf_for_tests`] in a debug build.
    pub const CHEAP_FOR_TESTS: KdfCost = KdfCost {
        m_kib: 64,
        t: 1,
        p: 1,
    };

    /// The cost for wraps made by a file store: [`Self::STANDARD`]. A debug build (tests; never
    /// what is shipped, which is a release build) takes HUBDESK_TEST_CHEAP_KDF=1 to make the
    /// end-to-end and command-line tests fast.
    pub fn for_new_wraps() -> KdfCost {
        if cfg!(debug_assertions) && std::env::var("HUBDESK_TEST_CHEAP_KDF").is_ok_and(|v| v == "1")
        {
            return Self::CHEAP_FOR_TESTS;
        }
        Self::STANDARD
    }

    fn argon2(&self) -> Result<Argon2<'static>, KeyError> {
        let params = Params::new(self.m_kib, self.t, self.p, Some(32))
            .map_err(|_| KeyError::Damaged("the key's settings are not usable".into()))?;
        Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
    }
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum KeyError {
    #[error("that PIN or passphrase is not {0}'s")]
    WrongSecret(String),
    #[error("that is not this organisation's recovery key")]
    WrongRecoveryKey,
    #[error("there is no user called \"{0}\" on this laptop")]
    NoSuchUser(String),
    #[error("more than one user is called \"{0}\"; type the name exactly as listed")]
    Ambiguous(String),
    #[error(
        "{0} has no key on this laptop yet: someone else unlocks first and {0} then unlocks once, or a manager sets a new PIN for them with `hubdesk user pin`"
    )]
    NoKeyYet(String),
    #[error("this laptop has no recovery key yet")]
    NoRecovery,
    #[error("the keyring is damaged: {0}")]
    Damaged(String),
    #[error("no randomness available")]
    NoRandomness,
}

/// The store's key. Its bytes are zeroed when it is dropped, and it never prints.
#[derive(Clone, PartialEq, Eq)]
pub struct StoreKey([u8; 32]);

impl std::fmt::Debug for StoreKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StoreKey(..)")
    }
}

impl Drop for StoreKey {
    fn drop(&mut self) {
        for b in self.0.iter_mut() {
            // SAFETY: a plain write to a byte we own; volatile so the zeroing is not dropped
            // as a dead store.
            unsafe { std::ptr::write_volatile(b, 0) };
        }
    }
}

impl StoreKey {
    pub fn generate() -> Result<StoreKey, KeyError> {
        let mut k = [0u8; 32];
        getrandom::fill(&mut k).map_err(|_| KeyError::NoRandomness)?;
        Ok(StoreKey(k))
    }

    /// From the old key file's hex text (stores made before the keyring).
    pub(crate) fn from_hex(s: &str) -> Option<StoreKey> {
        let bytes = hex::decode(s.trim()).ok()?;
        Some(StoreKey(bytes.try_into().ok()?))
    }

    /// The SQLCipher raw key literal's hex.
    pub(crate) fn hex(&self) -> String {
        hex::encode(self.0)
    }

    /// The key's bytes, for a backup that must be opened by the same secrets.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    pub fn from_bytes(bytes: [u8; 32]) -> StoreKey {
        StoreKey(bytes)
    }
}

/// Some bytes encrypted with a key derived from a secret by argon2id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Wrapped {
    pub kdf: String,
    pub cost: KdfCost,
    pub salt: String,
    pub nonce: String,
    pub data: String,
}

impl Wrapped {
    fn seal(secret: &str, plain: &[u8], cost: KdfCost) -> Result<Wrapped, KeyError> {
        let mut salt = [0u8; 16];
        let mut nonce = [0u8; 12];
        getrandom::fill(&mut salt).map_err(|_| KeyError::NoRandomness)?;
        getrandom::fill(&mut nonce).map_err(|_| KeyError::NoRandomness)?;
        let key = derive(secret, &salt, cost)?;
        let data = ChaCha20Poly1305::new((&key).into())
            .encrypt(Nonce::from_slice(&nonce), plain)
            .map_err(|_| KeyError::Damaged("could not wrap".into()))?;
        Ok(Wrapped {
            kdf: "argon2id".into(),
            cost,
            salt: hex::encode(salt),
            nonce: hex::encode(nonce),
            data: hex::encode(data),
        })
    }

    /// The bytes, or None when `secret` is not the one they were wrapped with.
    fn open(&self, secret: &str) -> Result<Option<Vec<u8>>, KeyError> {
        let damaged = || KeyError::Damaged("a wrapped key cannot be read".into());
        if self.kdf != "argon2id" {
            return Err(damaged());
        }
        let salt = hex::decode(&self.salt).map_err(|_| damaged())?;
        let nonce = hex::decode(&self.nonce).map_err(|_| damaged())?;
        let data = hex::decode(&self.data).map_err(|_| damaged())?;
        if nonce.len() != 12 {
            return Err(damaged());
        }
        let key = derive(secret, &salt, self.cost)?;
        Ok(ChaCha20Poly1305::new((&key).into())
            .decrypt(Nonce::from_slice(&nonce), data.as_slice())
            .ok())
    }
}

fn derive(secret: &str, salt: &[u8], cost: KdfCost) -> Result<[u8; 32], KeyError> {
    let mut key = [0u8; 32];
    cost.argon2()?
        .hash_password_into(secret.as_bytes(), salt, &mut key)
        .map_err(|_| KeyError::Damaged("the key's settings are not usable".into()))?;
    Ok(key)
}

/// A user's (or the recovery key's) X25519 key pair: the public half in the clear, the private
/// half wrapped by their secret. This is what the organisation document carries, as one text
/// value (so two laptops changing it at once keep one whole pair, never halves of two).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyPair {
    pub public: String,
    pub private: Wrapped,
}

impl KeyPair {
    /// A new pair whose private half only `secret` opens.
    pub fn generate(secret: &str, cost: KdfCost) -> Result<KeyPair, KeyError> {
        let private = SecretKey::generate(&mut OsRng);
        let public = hex::encode(private.public_key().as_bytes());
        let wrapped = Wrapped::seal(secret, &private.to_bytes(), cost)?;
        Ok(KeyPair {
            public,
            private: wrapped,
        })
    }

    /// The pair as the organisation document stores it.
    pub fn to_text(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// A pair from the organisation document; None for an empty or unreadable value (a user
    /// made before key pairs, or a value from a newer hubdesk).
    pub fn from_text(s: &str) -> Option<KeyPair> {
        if s.is_empty() {
            return None;
        }
        serde_json::from_str(s).ok()
    }

    /// Whether `secret` opens this pair (costs one argon2id derivation).
    pub fn opens_with(&self, secret: &str) -> bool {
        matches!(self.private.open(secret), Ok(Some(_)))
    }

    fn public_key(&self) -> Result<PublicKey, KeyError> {
        let bytes: [u8; 32] = hex::decode(&self.public)
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| KeyError::Damaged("a public key cannot be read".into()))?;
        Ok(PublicKey::from_bytes(bytes))
    }

    fn secret_key(&self, secret: &str) -> Result<Option<SecretKey>, KeyError> {
        let Some(bytes) = self.private.open(secret)? else {
            return Ok(None);
        };
        let bytes: [u8; 32] = bytes
            .try_into()
            .map_err(|_| KeyError::Damaged("a private key cannot be read".into()))?;
        Ok(Some(SecretKey::from_bytes(bytes)))
    }

    /// The store key sealed to this pair's public half.
    fn seal(&self, key: &StoreKey) -> Result<String, KeyError> {
        let sealed = self
            .public_key()?
            .seal(&mut OsRng, &key.0)
            .map_err(|_| KeyError::Damaged("could not seal".into()))?;
        Ok(hex::encode(sealed))
    }

    /// Opens `sealed` with the private half `secret` unwraps. Ok(None): wrong secret.
    fn unseal(&self, secret: &str, sealed: &str) -> Result<Option<StoreKey>, KeyError> {
        let Some(private) = self.secret_key(secret)? else {
            return Ok(None);
        };
        let damaged = || KeyError::Damaged("a sealed key cannot be read".into());
        let sealed = hex::decode(sealed).map_err(|_| damaged())?;
        let key = private.unseal(&sealed).map_err(|_| damaged())?;
        let key: [u8; 32] = key.try_into().map_err(|_| damaged())?;
        Ok(Some(StoreKey(key)))
    }
}

/// A key pair with this laptop's store key sealed to it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sealed {
    pub pair: KeyPair,
    pub store_key: String,
}

/// A lock-screen tile and the key that user opens the store with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyringUser {
    pub id: Uuid,
    pub name: String,
    pub roles: Vec<String>,
    /// None for a user who has no key pair yet (made before the keyring: they get one at
    /// their next unlock, once someone else has opened the store).
    pub sealed: Option<Sealed>,
}

/// A user as the organisation document has them, for [`Keyring::seal`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyHolder {
    pub id: Uuid,
    pub name: String,
    pub roles: Vec<String>,
    pub keys: Option<KeyPair>,
}

/// Who opens the store.
#[derive(Clone, Copy)]
pub enum Unlock<'a> {
    /// A user by name (as on their tile; case and accents do not matter) and their secret.
    User { name: &'a str, secret: &'a str },
    /// The organisation's recovery key.
    Recovery(&'a str),
}

impl std::fmt::Debug for Unlock<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Unlock::User { name, .. } => write!(f, "Unlock::User({name:?}, ..)"),
            Unlock::Recovery(_) => f.write_str("Unlock::Recovery(..)"),
        }
    }
}

/// The keyring file's content. Do not rename fields: files on laptops carry them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Keyring {
    pub version: u32,
    pub users: Vec<KeyringUser>,
    pub recovery: Option<Sealed>,
}

impl Keyring {
    /// Seals `key` for every holder that has a key pair and for the recovery pair. Inactive
    /// users are not given: the caller passes only active ones.
    pub fn seal(
        key: &StoreKey,
        holders: &[KeyHolder],
        recovery: Option<&KeyPair>,
    ) -> Result<Keyring, KeyError> {
        let users = holders
            .iter()
            .map(|h| {
                let sealed = match &h.keys {
                    Some(pair) => Some(Sealed {
                        store_key: pair.seal(key)?,
                        pair: pair.clone(),
                    }),
                    None => None,
                };
                Ok(KeyringUser {
                    id: h.id,
                    name: h.name.clone(),
                    roles: h.roles.clone(),
                    sealed,
                })
            })
            .collect::<Result<Vec<_>, KeyError>>()?;
        let recovery = match recovery {
            Some(pair) => Some(Sealed {
                store_key: pair.seal(key)?,
                pair: pair.clone(),
            }),
            None => None,
        };
        Ok(Keyring {
            version: 1,
            users,
            recovery,
        })
    }

    /// Whether this keyring already seals for exactly `holders` and `recovery` (the sealed
    /// bytes differ every time, so it is the inputs that are compared).
    pub fn seals_for(&self, holders: &[KeyHolder], recovery: Option<&KeyPair>) -> bool {
        self.users.len() == holders.len()
            && self.users.iter().zip(holders).all(|(u, h)| {
                u.id == h.id
                    && u.name == h.name
                    && u.roles == h.roles
                    && u.sealed.as_ref().map(|s| &s.pair) == h.keys.as_ref()
            })
            && self.recovery.as_ref().map(|s| &s.pair) == recovery
    }

    /// The user a tile name means: the exact name, else the one whose name matches ignoring
    /// case and accents.
    pub fn find_user(&self, name: &str) -> Result<&KeyringUser, KeyError> {
        let name = name.trim();
        if let Some(u) = self.users.iter().find(|u| u.name == name) {
            return Ok(u);
        }
        let key = search_key(name);
        let matches: Vec<&KeyringUser> = self
            .users
            .iter()
            .filter(|u| search_key(&u.name) == key)
            .collect();
        match matches.as_slice() {
            [one] => Ok(one),
            [] => Err(KeyError::NoSuchUser(name.to_string())),
            _ => Err(KeyError::Ambiguous(name.to_string())),
        }
    }

    /// The store key, opened by a user's secret or the recovery key (one argon2id derivation).
    pub fn open(&self, who: Unlock<'_>) -> Result<StoreKey, KeyError> {
        match who {
            Unlock::User { name, secret } => {
                let user = self.find_user(name)?;
                let sealed = user
                    .sealed
                    .as_ref()
                    .ok_or_else(|| KeyError::NoKeyYet(user.name.clone()))?;
                sealed
                    .pair
                    .unseal(secret, &sealed.store_key)?
                    .ok_or_else(|| KeyError::WrongSecret(user.name.clone()))
            }
            Unlock::Recovery(code) => {
                let sealed = self.recovery.as_ref().ok_or(KeyError::NoRecovery)?;
                sealed
                    .pair
                    .unseal(&normalise_recovery_key(code), &sealed.store_key)?
                    .ok_or(KeyError::WrongRecoveryKey)
            }
        }
    }

    /// The keyring in `dir`, if there is one.
    pub fn read(dir: &Path) -> Result<Option<Keyring>, std::io::Error> {
        match fs::read(dir.join(KEYRING_FILE)) {
            Ok(bytes) => serde_json::from_slice(&bytes).map(Some).map_err(|e| {
                std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    format!("the keyring is damaged: {e}"),
                )
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Writes the keyring to `dir` whole or not at all: a temporary file beside it (readable by
    /// this laptop's user only), flushed, then renamed over the old one, and the folder
    /// flushed so the rename survives a power cut.
    pub fn write(&self, dir: &Path) -> Result<(), std::io::Error> {
        let bytes = serde_json::to_vec_pretty(self).map_err(std::io::Error::other)?;
        let mut suffix = [0u8; 6];
        getrandom::fill(&mut suffix).map_err(std::io::Error::other)?;
        let temp = dir.join(format!(".{KEYRING_FILE}.{}.part", hex::encode(suffix)));
        let mut options = fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt as _;
            options.mode(0o600);
        }
        let written = options.open(&temp).and_then(|mut f| {
            f.write_all(&bytes)?;
            f.sync_all()
        });
        if let Err(e) = written.and_then(|_| fs::rename(&temp, dir.join(KEYRING_FILE))) {
            let _ = fs::remove_file(&temp);
            return Err(e);
        }
        if let Ok(d) = fs::File::open(dir) {
            let _ = d.sync_all();
        }
        Ok(())
    }
}

/// Letters and digits a recovery key is made of: no 0/O, 1/I/L, U (Crockford's base 32), so
/// a printed key reads back without doubt.
const RECOVERY_ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// A new recovery key: 160 random bits as 32 characters in eight groups of four
/// ("7KQ2-...").
pub fn new_recovery_key() -> Result<String, KeyError> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|_| KeyError::NoRandomness)?;
    let chars: Vec<char> = bytes
        .iter()
        .map(|b| RECOVERY_ALPHABET[usize::from(b % 32)] as char)
        .collect();
    Ok(chars
        .chunks(4)
        .map(|c| c.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join("-"))
}

/// A recovery key as typed: case, spaces and dashes do not matter, and the letters people
/// confuse with digits read as those digits.
pub fn normalise_recovery_key(typed: &str) -> String {
    let plain: String = typed
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| match c.to_ascii_uppercase() {
            'O' => '0',
            'I' | 'L' => '1',
            c => c,
        })
        .collect();
    plain
        .as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join("-")
}

#[cfg(test)]
mod tests {
    use super::*;

    const CHEAP: KdfCost = KdfCost::CHEAP_FOR_TESTS;

    fn holder(name: &str, secret: &str) -> KeyHolder {
        KeyHolder {
            id: Uuid::now_v7(),
            name: name.into(),
            roles: vec!["desk".into()],
            keys: Some(KeyPair::generate(secret, CHEAP).unwrap()),
        }
    }

    #[test]
    fn each_user_and_the_recovery_key_open_the_same_store_key() {
        let key = StoreKey::generate().unwrap();
        let code = new_recovery_key().unwrap();
        let recovery = KeyPair::generate(&code, CHEAP).unwrap();
        let ring = Keyring::seal(
            &key,
            &[
                holder("Ann Desk", "135790"),
                holder("Bo Staff", "a long passphrase"),
            ],
            Some(&recovery),
        )
        .unwrap();
        let by = |name, secret| ring.open(Unlock::User { name, secret }).unwrap();
        assert_eq!(by("Ann Desk", "135790"), key);
        assert_eq!(by("bo staff", "a long passphrase"), key);
        assert_eq!(
            ring.open(Unlock::Recovery(&code.to_lowercase().replace('-', " ")))
                .unwrap(),
            key
        );
    }

    #[test]
    fn a_wrong_secret_or_recovery_key_opens_nothing() {
        let key = StoreKey::generate().unwrap();
        let recovery = KeyPair::generate(&new_recovery_key().unwrap(), CHEAP).unwrap();
        let ring = Keyring::seal(&key, &[holder("Ann Desk", "135790")], Some(&recovery)).unwrap();
        assert_eq!(
            ring.open(Unlock::User {
                name: "Ann Desk",
                secret: "135791"
            }),
            Err(KeyError::WrongSecret("Ann Desk".into()))
        );
        assert_eq!(
            ring.open(Unlock::Recovery(&new_recovery_key().unwrap())),
            Err(KeyError::WrongRecoveryKey)
        );
        assert_eq!(
            ring.open(Unlock::User {
                name: "Nobody",
                secret: "135790"
            }),
            Err(KeyError::NoSuchUser("Nobody".into()))
        );
    }

    #[test]
    fn the_keyring_file_holds_no_store_key_and_no_secret() {
        let key = StoreKey::generate().unwrap();
        let ring = Keyring::seal(&key, &[holder("Ann Desk", "135790")], None).unwrap();
        let dir = tempfile::tempdir().unwrap();
        ring.write(dir.path()).unwrap();
        let bytes = fs::read(dir.path().join(KEYRING_FILE)).unwrap();
        for needle in [key.hex().into_bytes(), key.0.to_vec(), b"135790".to_vec()] {
            assert!(!bytes.windows(needle.len()).any(|w| w == needle.as_slice()));
        }
        assert_eq!(Keyring::read(dir.path()).unwrap(), Some(ring));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = fs::metadata(dir.path().join(KEYRING_FILE))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn a_keyring_seals_for_the_same_people_until_one_changes() {
        let key = StoreKey::generate().unwrap();
        let mut people = vec![holder("Ann Desk", "135790")];
        let ring = Keyring::seal(&key, &people, None).unwrap();
        assert!(ring.seals_for(&people, None));
        people[0].roles = vec!["staff".into()];
        assert!(!ring.seals_for(&people, None));
    }

    #[test]
    fn recovery_keys_are_long_and_grouped_for_reading() {
        let code = new_recovery_key().unwrap();
        assert_eq!(code.len(), 39);
        assert_eq!(code.split('-').count(), 8);
        assert_eq!(normalise_recovery_key(&code), code);
        assert_ne!(code, new_recovery_key().unwrap());
    }

    /// How long one guess takes at the standard cost (`cargo test --lib -- --ignored
    /// argon2_standard_cost --nocapture`; argon2 is optimised in test builds too).
    #[test]
    #[ignore]
    fn argon2_standard_cost_takes_about_a_second() {
        let pair = KeyPair::generate("135790", KdfCost::STANDARD).unwrap();
        let start = std::time::Instant::now();
        assert!(pair.opens_with("135790"));
        println!(
            "one guess at {:?}: {:?}",
            KdfCost::STANDARD,
            start.elapsed()
        );
    }
}
