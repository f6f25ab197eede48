//! The keys of an [`EncryptedStore`](super::EncryptedStore): [`StoreKey`],
//! [`KeyId`], [`Keyring`], and where they come from ([`KeyProvider`],
//! [`KeyFiles`], [`EnvKeys`]).

use crate::error::Error;
use async_trait::async_trait;
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};
use chacha20poly1305::XChaCha20Poly1305;
use chacha20poly1305::aead::KeyInit;
use std::fmt;
use std::io::{ErrorKind, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use zeroize::Zeroizing;

/// The length of a key: 32 bytes (256 bits).
pub const KEY_LEN: usize = 32;

/// The longest key id: 32 characters.
pub const MAX_KEY_ID_LEN: usize = 32;

/// The largest key file read: 4 KiB (a key file is about 150 bytes).
const MAX_KEY_FILE_BYTES: u64 = 4096;

/// What a key file holds, for error messages (never the content).
const KEY_TEXT_FORMAT: &str = "one line `<key id>:<32 bytes in base64 or 64 hex digits>` (lines starting with # are comments)";

/// The short name of a key, written in clear in every ciphertext it made so
/// that the store knows which key decrypts it.
///
/// 1 to 32 characters out of `A-Z a-z 0-9 . _ -`. Not a secret: it appears in
/// stored entries, errors and logs.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KeyId(Arc<str>);

impl KeyId {
    /// A key id, checked.
    ///
    /// # Errors
    /// [`Error::Configuration`] if `id` is empty, longer than
    /// [`MAX_KEY_ID_LEN`] or has other characters than `A-Z a-z 0-9 . _ -`.
    pub fn new(id: impl AsRef<str>) -> Result<Self, Error> {
        let id = id.as_ref();
        if is_key_id(id) {
            Ok(Self(Arc::from(id)))
        } else {
            Err(Error::configuration(format!(
                "a key id must be 1 to {MAX_KEY_ID_LEN} characters out of A-Z a-z 0-9 . _ -"
            )))
        }
    }

    /// A fresh random id: `k` and 8 hex digits (e.g. `k3f9a0c21`).
    ///
    /// # Errors
    /// [`Error::Configuration`] if the operating system's random source fails.
    pub fn generate() -> Result<Self, Error> {
        let mut bytes = [0_u8; 4];
        fill_random(&mut bytes)?;
        let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        Ok(Self(Arc::from(format!("k{hex}"))))
    }

    /// The id.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Whether `id` is a valid key id.
pub(crate) fn is_key_id(id: &str) -> bool {
    (1..=MAX_KEY_ID_LEN).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

impl fmt::Debug for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeyId({})", self.0)
    }
}

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A 256-bit key of an [`EncryptedStore`](super::EncryptedStore) and its id.
///
/// The key bytes are zeroized on drop and never shown: `Debug` prints the
/// id only, there is no `Display`, and errors about a key (a bad file, a bad
/// environment variable) name where it came from, never its content.
///
/// Keys come from a key file ([`from_file`](Self::from_file), written by
/// [`write_new_file`](Self::write_new_file) or `oauth store keygen`), an
/// environment variable ([`from_env`](Self::from_env)), or your own secret
/// manager ([`new`](Self::new), usually inside a [`KeyProvider`]).
///
/// The key file format is one line `<key id>:<key>`, the key being 32 bytes
/// in base64 (44 characters, padding optional) or in hex (64 digits); empty
/// lines and lines starting with `#` are ignored.
#[derive(Clone)]
pub struct StoreKey {
    id: KeyId,
    bytes: Zeroizing<[u8; KEY_LEN]>,
}

impl StoreKey {
    /// The key `bytes` under `id`, in a zeroizing box
    /// ([`oauth_core::zeroize::Zeroizing`](crate::zeroize::Zeroizing));
    /// zeroize any copy of your own.
    pub fn new(id: KeyId, bytes: Zeroizing<[u8; KEY_LEN]>) -> Self {
        Self { id, bytes }
    }

    /// A fresh random key from the operating system's random source.
    ///
    /// # Errors
    /// [`Error::Configuration`] if the random source fails.
    pub fn generate(id: KeyId) -> Result<Self, Error> {
        let mut bytes = Zeroizing::new([0_u8; KEY_LEN]);
        fill_random(bytes.as_mut())?;
        Ok(Self { id, bytes })
    }

    /// The key's id.
    pub fn id(&self) -> &KeyId {
        &self.id
    }

    /// Parses the key file format (see the type's documentation).
    ///
    /// # Errors
    /// [`Error::Configuration`] naming only the format, never the text.
    pub fn parse(text: &str) -> Result<Self, Error> {
        Self::parse_from(text, "the key text")
    }

    fn parse_from(text: &str, origin: &str) -> Result<Self, Error> {
        let bad = || {
            Error::configuration(format!(
                "{origin} is not a store key: expected {KEY_TEXT_FORMAT}"
            ))
        };
        let mut lines = text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'));
        let line = lines.next().ok_or_else(bad)?;
        if lines.next().is_some() {
            return Err(bad());
        }
        let (id, material) = line.split_once(':').ok_or_else(bad)?;
        let id = KeyId::new(id.trim()).map_err(|_| bad())?;
        let bytes = decode_key_material(material.trim()).ok_or_else(bad)?;
        Ok(Self { id, bytes })
    }

    /// The key file text of this key: a comment line, then
    /// `<key id>:<base64>`. Zeroized on drop; write it only where keys are
    /// kept.
    pub fn to_key_file_text(&self) -> Zeroizing<String> {
        let mut text = Zeroizing::new(String::with_capacity(256));
        text.push_str(&format!(
            "# oauth token-store key {}: keep this file private (mode 0600); the tokens it encrypted are lost with it\n",
            self.id
        ));
        text.push_str(self.id.as_str());
        text.push(':');
        let mut encoded = Zeroizing::new(String::with_capacity(48));
        STANDARD.encode_string(self.bytes.as_ref(), &mut encoded);
        text.push_str(&encoded);
        text.push('\n');
        text
    }

    /// Reads a key file. On Unix the file must be readable by its owner
    /// only: a file that group or other users may access at all
    /// (`mode & 0o077 != 0`) is refused. Symbolic links are followed (secret
    /// volumes mount keys through them); the file they reach is checked.
    ///
    /// # Errors
    /// [`Error::Configuration`] naming the path and what is wrong (missing,
    /// not a regular file, too open, larger than 4 KiB, not in the key file
    /// format), never the content.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self, Error> {
        let path = path.as_ref();
        let fail =
            |what: String| Error::configuration(format!("key file {}: {what}", path.display()));
        let file = std::fs::File::open(path).map_err(|e| fail(format!("cannot open it: {e}")))?;
        let metadata = file
            .metadata()
            .map_err(|e| fail(format!("cannot inspect it: {e}")))?;
        if !metadata.is_file() {
            return Err(fail("not a regular file".into()));
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = metadata.permissions().mode();
            if mode & 0o077 != 0 {
                return Err(fail(format!(
                    "group or other users may access it (mode {:o}): make it private with chmod 600",
                    mode & 0o7777
                )));
            }
        }
        if metadata.len() > MAX_KEY_FILE_BYTES {
            return Err(fail(format!(
                "larger than {MAX_KEY_FILE_BYTES} bytes: not a key file"
            )));
        }
        let mut bytes = Zeroizing::new(Vec::with_capacity(256));
        file.take(MAX_KEY_FILE_BYTES + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| fail(format!("cannot read it: {e}")))?;
        let text = std::str::from_utf8(&bytes)
            .map_err(|_| fail(format!("not a store key: expected {KEY_TEXT_FORMAT}")))?;
        Self::parse_from(text, &format!("key file {}", path.display()))
    }

    /// Reads a key from the environment variable `name`, in the key file
    /// format (one line `<key id>:<base64>` is enough).
    ///
    /// # Errors
    /// [`Error::Configuration`] if the variable is unset, not Unicode or not
    /// a key; the message names the variable, never its value.
    pub fn from_env(name: &str) -> Result<Self, Error> {
        let value = match std::env::var(name) {
            Ok(value) => Zeroizing::new(value),
            Err(std::env::VarError::NotPresent) => {
                return Err(Error::configuration(format!(
                    "environment variable {name} (a store key) is not set"
                )));
            }
            Err(std::env::VarError::NotUnicode(_)) => {
                return Err(Error::configuration(format!(
                    "environment variable {name} is not a store key: expected {KEY_TEXT_FORMAT}"
                )));
            }
        };
        Self::parse_from(&value, &format!("environment variable {name}"))
    }

    /// Writes this key to a new key file at `path`, created with mode 0600
    /// (owner read/write), fsynced with its directory. Never overwrites.
    ///
    /// # Errors
    /// [`Error::Configuration`] if something exists at `path` already (it is
    /// left untouched) or the file cannot be written (a partial file is
    /// removed).
    pub fn write_new_file(&self, path: impl AsRef<Path>) -> Result<(), Error> {
        let path = path.as_ref();
        let fail =
            |what: String| Error::configuration(format!("key file {}: {what}", path.display()));
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut file = options.open(path).map_err(|e| {
            if e.kind() == ErrorKind::AlreadyExists {
                fail("it already exists; refusing to overwrite a key file".into())
            } else {
                fail(format!("cannot create it: {e}"))
            }
        })?;
        let text = self.to_key_file_text();
        let written = file
            .write_all(text.as_bytes())
            .and_then(|()| file.sync_all());
        drop(file);
        if let Err(e) = written {
            let _ = std::fs::remove_file(path);
            return Err(fail(format!("cannot write it: {e}")));
        }
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => PathBuf::from("."),
        };
        // Best effort: the key is written; a directory that cannot be
        // fsynced (some file systems) does not undo that.
        if let Ok(dir) = std::fs::File::open(&dir) {
            let _ = dir.sync_all();
        }
        Ok(())
    }

    /// The cipher of this key.
    pub(crate) fn cipher(&self) -> Result<XChaCha20Poly1305, Error> {
        XChaCha20Poly1305::new_from_slice(self.bytes.as_ref())
            .map_err(|_| crate::lifecycle::store::store_error("invalid store key length"))
    }

    /// Whether both hold the same key bytes (compared in constant time).
    fn same_bytes(&self, other: &StoreKey) -> bool {
        use subtle::ConstantTimeEq;
        self.bytes.as_ref().ct_eq(other.bytes.as_ref()).into()
    }
}

impl fmt::Debug for StoreKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StoreKey")
            .field("id", &self.id.as_str())
            .field("key", &"[REDACTED]")
            .finish()
    }
}

/// 32 bytes from 64 hex digits or from base64 (padding optional).
fn decode_key_material(material: &str) -> Option<Zeroizing<[u8; KEY_LEN]>> {
    let mut out = Zeroizing::new([0_u8; KEY_LEN]);
    if material.len() == 2 * KEY_LEN && material.bytes().all(|b| b.is_ascii_hexdigit()) {
        for (byte, pair) in out.iter_mut().zip(material.as_bytes().chunks_exact(2)) {
            let text = std::str::from_utf8(pair).ok()?;
            *byte = u8::from_str_radix(text, 16).ok()?;
        }
        return Some(out);
    }
    let mut decoded = Zeroizing::new(Vec::with_capacity(KEY_LEN + 3));
    let unpadded = material.trim_end_matches('=');
    STANDARD_NO_PAD.decode_vec(unpadded, &mut decoded).ok()?;
    if decoded.len() != KEY_LEN {
        return None;
    }
    out.copy_from_slice(&decoded);
    Some(out)
}

fn fill_random(bytes: &mut [u8]) -> Result<(), Error> {
    getrandom::fill(bytes).map_err(|e| {
        Error::configuration(format!("the operating system's random source failed: {e}"))
    })
}

/// The keys of an [`EncryptedStore`](super::EncryptedStore): one current
/// key, which encrypts every save, and any number of old keys, which only
/// decrypt entries not yet re-encrypted.
///
/// `Debug` shows the key ids only.
#[derive(Clone)]
pub struct Keyring {
    current: StoreKey,
    old: Vec<StoreKey>,
}

impl Keyring {
    /// A keyring whose current key is `current`, with no old keys.
    pub fn new(current: StoreKey) -> Self {
        Self {
            current,
            old: Vec::new(),
        }
    }

    /// Adds an old key, used to read entries it encrypted (they are
    /// re-encrypted with the current key on their next save, or by
    /// [`rekey`](super::EncryptedStore::rekey)). The same key given twice
    /// (same id, same bytes) is kept once.
    ///
    /// # Errors
    /// [`Error::Configuration`] if another key already has this id.
    pub fn with_old_key(mut self, key: StoreKey) -> Result<Self, Error> {
        if let Some(existing) = self.get(key.id().as_str()) {
            if existing.same_bytes(&key) {
                return Ok(self);
            }
            return Err(Error::configuration(format!(
                "two different store keys have the id {}: key ids must be unique",
                key.id()
            )));
        }
        self.old.push(key);
        Ok(self)
    }

    /// The current key's id.
    pub fn current_id(&self) -> &KeyId {
        self.current.id()
    }

    /// Every key's id, the current one first.
    pub fn key_ids(&self) -> Vec<KeyId> {
        std::iter::once(&self.current)
            .chain(&self.old)
            .map(|k| k.id().clone())
            .collect()
    }

    /// The current key (the one every save encrypts with).
    pub fn current(&self) -> &StoreKey {
        &self.current
    }

    /// The key with id `id`, if held.
    pub(crate) fn get(&self, id: &str) -> Option<&StoreKey> {
        std::iter::once(&self.current)
            .chain(&self.old)
            .find(|k| k.id().as_str() == id)
    }
}

impl fmt::Debug for Keyring {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Keyring")
            .field("current", &self.current.id().as_str())
            .field(
                "old",
                &self.old.iter().map(|k| k.id().as_str()).collect::<Vec<_>>(),
            )
            .finish()
    }
}

/// Where an [`EncryptedStore`](super::EncryptedStore) gets its keys: a key
/// management service, a secret manager, files, the environment.
///
/// Called by [`EncryptedStore::with_key_provider`](super::EncryptedStore::with_key_provider)
/// and [`EncryptedStore::reload_keys`](super::EncryptedStore::reload_keys)
/// (not on every save or load). Implementations must never put key material
/// in their `Debug` output or errors.
///
/// ```
/// use oauth_core::lifecycle::{KeyId, KeyProvider, Keyring, StoreKey};
/// use oauth_core::{Error, async_trait};
/// use oauth_core::zeroize::Zeroizing;
///
/// /// Fetches the key from a secret manager (here: a stand-in).
/// #[derive(Debug)]
/// struct SecretManager;
///
/// #[async_trait]
/// impl KeyProvider for SecretManager {
///     async fn keyring(&self) -> Result<Keyring, Error> {
///         let bytes = Zeroizing::new([7_u8; 32]); // fetched, never logged
///         Ok(Keyring::new(StoreKey::new(KeyId::new("2026-05")?, bytes)))
///     }
/// }
/// ```
#[async_trait]
pub trait KeyProvider: Send + Sync + fmt::Debug {
    /// The keys to use now: the current key and the old ones.
    ///
    /// # Errors
    /// [`Error::Configuration`] (or [`Error::Store`]) if the keys cannot be
    /// obtained; never with key material in the message.
    async fn keyring(&self) -> Result<Keyring, Error>;
}

#[async_trait]
impl KeyProvider for Keyring {
    async fn keyring(&self) -> Result<Keyring, Error> {
        Ok(self.clone())
    }
}

/// Keys read from key files ([`StoreKey::from_file`]) each time they are
/// asked for: the current key's file and the old keys' files.
#[derive(Debug, Clone)]
pub struct KeyFiles {
    current: PathBuf,
    old: Vec<PathBuf>,
}

impl KeyFiles {
    /// The current key is in the file at `current`.
    pub fn new(current: impl Into<PathBuf>) -> Self {
        Self {
            current: current.into(),
            old: Vec::new(),
        }
    }

    /// An old key (read-only) is in the file at `path`.
    #[must_use]
    pub fn with_old(mut self, path: impl Into<PathBuf>) -> Self {
        self.old.push(path.into());
        self
    }

    /// Reads the files now.
    ///
    /// # Errors
    /// As [`StoreKey::from_file`] and [`Keyring::with_old_key`].
    pub fn read(&self) -> Result<Keyring, Error> {
        let mut keyring = Keyring::new(StoreKey::from_file(&self.current)?);
        for path in &self.old {
            keyring = keyring.with_old_key(StoreKey::from_file(path)?)?;
        }
        Ok(keyring)
    }
}

#[async_trait]
impl KeyProvider for KeyFiles {
    async fn keyring(&self) -> Result<Keyring, Error> {
        let files = self.clone();
        tokio::task::spawn_blocking(move || files.read())
            .await
            .map_err(|_| Error::configuration("reading the key files was cancelled"))?
    }
}

/// Keys read from environment variables ([`StoreKey::from_env`]) each time
/// they are asked for.
#[derive(Debug, Clone)]
pub struct EnvKeys {
    current: String,
    old: Vec<String>,
}

impl EnvKeys {
    /// The current key is in the variable `name`.
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            current: name.into(),
            old: Vec::new(),
        }
    }

    /// An old key (read-only) is in the variable `name`.
    #[must_use]
    pub fn with_old(mut self, name: impl Into<String>) -> Self {
        self.old.push(name.into());
        self
    }

    /// Reads the variables now.
    ///
    /// # Errors
    /// As [`StoreKey::from_env`] and [`Keyring::with_old_key`].
    pub fn read(&self) -> Result<Keyring, Error> {
        let mut keyring = Keyring::new(StoreKey::from_env(&self.current)?);
        for name in &self.old {
            keyring = keyring.with_old_key(StoreKey::from_env(name)?)?;
        }
        Ok(keyring)
    }
}

#[async_trait]
impl KeyProvider for EnvKeys {
    async fn keyring(&self) -> Result<Keyring, Error> {
        self.read()
    }
}
