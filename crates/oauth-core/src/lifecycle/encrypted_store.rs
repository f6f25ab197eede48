//! [`EncryptedStore`]: tokens encrypted at rest over any [`TokenStore`].

mod keys;

pub use keys::{EnvKeys, KEY_LEN, KeyFiles, KeyId, KeyProvider, Keyring, MAX_KEY_ID_LEN, StoreKey};

use super::lease::{Lease, LeaseOutcome, LeaseOwner};
use super::store::{
    AccountKey, SaveOutcome, TokenStore, Versioned, list_all_accounts, store_error,
};
use crate::error::{DecryptionFailure, Error};
use crate::secret::AccessToken;
use crate::token_set::TokenSet;
use arc_swap::ArcSwap;
use async_trait::async_trait;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chacha20poly1305::XNonce;
use chacha20poly1305::aead::AeadInOut;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;
use zeroize::Zeroizing;

/// The prefix of every envelope this version writes.
const ENVELOPE_PREFIX: &str = "enc:v1:";
/// The prefix shared by every envelope version.
const ENVELOPE_FAMILY: &str = "enc:";
/// XChaCha20-Poly1305's nonce and tag lengths.
const NONCE_LEN: usize = 24;
const TAG_LEN: usize = 16;
/// Domain separation of the associated data.
const AAD_DOMAIN: &[u8] = b"oauth-core EncryptedStore v1\0";
/// How many times [`EncryptedStore::rekey_account`] re-reads an entry that
/// keeps changing under it before giving up.
const MAX_REKEY_ATTEMPTS: u32 = 16;

/// Tokens encrypted at rest, over any [`TokenStore`]: the file store, the
/// memory store, a database store, your own.
///
/// Every save encrypts the whole token set (access and refresh tokens,
/// their expiries, scopes, the *refresh started* record) with
/// XChaCha20-Poly1305 under the keyring's current key and a fresh random
/// 192-bit nonce, and hands the inner store a token set that holds, in
/// clear, only what is listed below. Every load decrypts. The associated
/// data binds each ciphertext to its provider, account and key id: a
/// ciphertext copied onto another account's entry (or another provider's)
/// fails to decrypt ([`Error::Decryption`]), as does any altered byte.
///
/// **In clear** in the inner store: the account key (provider and account
/// id: the inner store's key), the entry's version, the access token's
/// expiry and token type (copies, for operators and database queries; the
/// encrypted ones are authoritative), the envelope's format version and the
/// key id, and the ciphertext's length (about the tokens' length). Nothing
/// else: no token, no refresh expiry, no scope, no fingerprint.
///
/// The inner entry's `access_token` holds the envelope
/// `enc:v1:<key id>:<base64url(nonce ‖ ciphertext ‖ tag)>` (visible ASCII,
/// so every store that checks token characters keeps it) and its
/// `refresh_token` is absent.
///
/// **Keys and rotation.** A [`Keyring`] has one current key (encrypts) and
/// old keys (decrypt only). An entry under an old key is re-encrypted with
/// the current key on its next save; [`rekey`](Self::rekey) does it now for
/// every entry, with compare-and-swap saves, so concurrent refreshes are
/// never lost. Keys come from key files, environment variables or a
/// [`KeyProvider`] of yours.
///
/// **Plaintext entries** (written before encryption was turned on) are read
/// as they are and encrypted on their next save (or by `rekey`), unless
/// [`refuse_plaintext(true)`](Self::refuse_plaintext).
///
/// **Failures** are typed and change nothing in the store: an unknown key id
/// ([`DecryptionFailure::UnknownKey`]), a ciphertext that does not
/// authenticate (tampered, moved, wrong key:
/// [`DecryptionFailure::Authentication`]), a malformed envelope.
///
/// Costs a few microseconds per save and load (see `docs/performance.md`),
/// none on [`TokenManager::access_token`](super::TokenManager::access_token)'s
/// fresh path, which never touches the store.
///
/// ```
/// use oauth_core::lifecycle::{EncryptedStore, KeyId, Keyring, StoreKey};
/// use oauth_core::{
///     AccessToken, AccountKey, MemoryStore, RefreshToken, TokenSet, TokenStore, from_unix_millis,
/// };
/// use std::sync::Arc;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), oauth_core::Error> {
/// // Usually `StoreKey::from_file(path)?` or `StoreKey::from_env("OAUTH_STORE_KEY")?`.
/// let key = StoreKey::generate(KeyId::new("2026-05")?)?;
/// let inner = Arc::new(MemoryStore::new());
/// let store = EncryptedStore::from_arc(inner.clone(), Keyring::new(key));
///
/// let account = AccountKey::new("ebay", "seller-1");
/// // (Instants are stored in milliseconds, as by every serializing store.)
/// let tokens = TokenSet::new(AccessToken::new("access-token"), from_unix_millis(1_800_000_000_000))
/// .with_refresh_token(RefreshToken::new("refresh-token"), None);
/// store.save(&account, &tokens, None).await?;
///
/// // Through the layer: the tokens. In the inner store: an envelope.
/// assert_eq!(store.load(&account).await?.map(|v| v.tokens), Some(tokens));
/// let raw = inner.load(&account).await?.expect("saved");
/// assert!(raw.tokens.access_token.expose_secret().starts_with("enc:v1:2026-05:"));
/// assert!(raw.tokens.refresh_token.is_none());
///
/// // Rotation: a new current key, the old one kept for reading, then rekey.
/// let old = StoreKey::generate(KeyId::new("2026-05")?)?; // (the real old key)
/// # let old = store.keyring().current().clone();
/// let new = StoreKey::generate(KeyId::new("2026-11")?)?;
/// store.replace_keys(Keyring::new(new).with_old_key(old)?);
/// let report = store.rekey(&["ebay"]).await?;
/// assert_eq!(report.rekeyed, 1);
/// # Ok(())
/// # }
/// ```
pub struct EncryptedStore<S: ?Sized = dyn TokenStore> {
    keys: ArcSwap<Keyring>,
    refuse_plaintext: bool,
    inner: Arc<S>,
}

/// How an entry is stored in the inner store ([`EncryptedStore::stored_form`]).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum StoredForm {
    /// In clear (written before encryption was turned on).
    Plaintext,
    /// Encrypted under the key with this id.
    Encrypted {
        /// The key id named by the envelope.
        key_id: KeyId,
    },
}

/// What [`EncryptedStore::rekey_account`] did to one entry.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RekeyOutcome {
    /// The entry was already encrypted under the current key.
    AlreadyCurrent,
    /// The entry was re-encrypted under the current key.
    Rekeyed {
        /// The key it was under before (`None`: it was in clear).
        from: Option<KeyId>,
    },
    /// There is no such entry (deleted meanwhile).
    Missing,
}

/// One entry [`EncryptedStore::rekey`] could not re-encrypt.
#[derive(Debug, Clone)]
pub struct RekeyFailure {
    /// The entry.
    pub account: AccountKey,
    /// Why (never holds a token or key).
    pub error: Error,
}

/// What [`EncryptedStore::rekey`] did.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct RekeyReport {
    /// Entries listed.
    pub accounts: usize,
    /// Entries re-encrypted under the current key (including plaintext
    /// ones, also counted in [`from_plaintext`](Self::from_plaintext)).
    pub rekeyed: usize,
    /// Of those, entries that were in clear.
    pub from_plaintext: usize,
    /// Entries already under the current key.
    pub already_current: usize,
    /// Entries deleted while rekeying.
    pub missing: usize,
    /// Entries left as they were, and why (e.g. under a key not in the
    /// keyring).
    pub failed: Vec<RekeyFailure>,
}

impl RekeyReport {
    /// Whether every listed entry is now under the current key (or gone).
    pub fn is_complete(&self) -> bool {
        self.failed.is_empty()
    }
}

impl<S: TokenStore> EncryptedStore<S> {
    /// Encrypts what goes into `inner` with `keys`.
    pub fn new(inner: S, keys: Keyring) -> Self {
        Self::from_arc(Arc::new(inner), keys)
    }
}

impl<S: TokenStore + ?Sized> EncryptedStore<S> {
    /// Encrypts what goes into a shared `inner` store (e.g. an
    /// `Arc<dyn TokenStore>`) with `keys`.
    pub fn from_arc(inner: Arc<S>, keys: Keyring) -> Self {
        Self {
            keys: ArcSwap::from_pointee(keys),
            refuse_plaintext: false,
            inner,
        }
    }

    /// Encrypts what goes into `inner` with the keys `provider` gives now.
    ///
    /// # Errors
    /// The provider's error.
    pub async fn with_key_provider(
        inner: Arc<S>,
        provider: &dyn KeyProvider,
    ) -> Result<Self, Error> {
        Ok(Self::from_arc(inner, provider.keyring().await?))
    }

    /// Refuses entries stored in clear ([`DecryptionFailure::PlaintextRefused`])
    /// instead of reading them (and encrypting them on their next save).
    /// Once every entry is encrypted (after a [`rekey`](Self::rekey)), this
    /// stops anyone who can write the inner store but has no key from
    /// planting tokens of their choosing.
    #[must_use]
    pub fn refuse_plaintext(mut self, refuse: bool) -> Self {
        self.refuse_plaintext = refuse;
        self
    }

    /// The inner store (which holds envelopes, not tokens).
    pub fn inner(&self) -> &Arc<S> {
        &self.inner
    }

    /// The keys in use now.
    pub fn keyring(&self) -> Arc<Keyring> {
        self.keys.load_full()
    }

    /// Replaces the keys: from now on saves encrypt under `keys`' current
    /// key, and loads decrypt with any of its keys. Operations already
    /// running finish with the keys they started with.
    pub fn replace_keys(&self, keys: Keyring) {
        tracing::info!(
            current_key = %keys.current_id(),
            keys = keys.key_ids().len(),
            "token store keys replaced"
        );
        self.keys.store(Arc::new(keys));
    }

    /// Asks `provider` for the keys again and uses them
    /// ([`replace_keys`](Self::replace_keys)).
    ///
    /// # Errors
    /// The provider's error; the keys in use are then kept.
    pub async fn reload_keys(&self, provider: &dyn KeyProvider) -> Result<(), Error> {
        self.replace_keys(provider.keyring().await?);
        Ok(())
    }

    /// How `key`'s entry is stored (`None`: no entry), without decrypting it.
    ///
    /// # Errors
    /// The inner store's errors; [`Error::Decryption`] with
    /// [`DecryptionFailure::Malformed`] for an envelope this version cannot
    /// read.
    pub async fn stored_form(&self, key: &AccountKey) -> Result<Option<StoredForm>, Error> {
        let Some(stored) = self.inner.load(key).await? else {
            return Ok(None);
        };
        Ok(Some(match parse_envelope(&stored.tokens) {
            Envelope::Plaintext => StoredForm::Plaintext,
            Envelope::Encrypted { key_id, .. } => StoredForm::Encrypted {
                key_id: KeyId::new(key_id)
                    .map_err(|_| failure(key, DecryptionFailure::Malformed))?,
            },
            Envelope::Malformed => return Err(failure(key, DecryptionFailure::Malformed)),
        }))
    }

    /// Re-encrypts `key`'s entry under the current key, unless it already
    /// is. A compare-and-swap on the entry's version: if another writer
    /// (a refreshing manager) saves in between, the entry is read again and
    /// the attempt repeated, so its tokens are never overwritten.
    ///
    /// # Errors
    /// The inner store's errors; [`Error::Decryption`] if the entry cannot
    /// be decrypted (it is left as it is); [`Error::Store`] if the entry
    /// kept changing over 16 attempts.
    pub async fn rekey_account(&self, key: &AccountKey) -> Result<RekeyOutcome, Error> {
        for _ in 0..MAX_REKEY_ATTEMPTS {
            let Some(stored) = self.inner.load(key).await? else {
                return Ok(RekeyOutcome::Missing);
            };
            let keys = self.keys.load_full();
            let from = match parse_envelope(&stored.tokens) {
                Envelope::Encrypted { key_id, .. } if key_id == keys.current_id().as_str() => {
                    return Ok(RekeyOutcome::AlreadyCurrent);
                }
                Envelope::Encrypted { key_id, .. } => Some(
                    KeyId::new(key_id).map_err(|_| failure(key, DecryptionFailure::Malformed))?,
                ),
                Envelope::Plaintext | Envelope::Malformed => None,
            };
            let tokens = self.open(key, stored.tokens, &keys)?;
            let sealed = seal(key, &tokens, &keys)?;
            match self.inner.save(key, &sealed, Some(stored.version)).await? {
                SaveOutcome::Saved { version } => {
                    tracing::debug!(account = %key, version, from = ?from.as_ref().map(KeyId::as_str), to = %keys.current_id(), "entry re-encrypted");
                    return Ok(RekeyOutcome::Rekeyed { from });
                }
                // Someone saved (or deleted) since we read: read again. (A
                // plain save is never fenced.)
                SaveOutcome::Conflict { .. } | SaveOutcome::Fenced => {}
            }
        }
        Err(store_error(format!(
            "the entry of {key} kept changing while it was re-encrypted ({MAX_REKEY_ATTEMPTS} attempts)"
        )))
    }

    /// Re-encrypts under the current key every entry of every provider in
    /// `providers` that is not yet under it (old keys, plaintext), one
    /// compare-and-swap at a time (see [`rekey_account`](Self::rekey_account)),
    /// safe while managers refresh. Give every process the new keyring
    /// (new current key, old key kept for reading) before rekeying, so
    /// that none writes under the old key again.
    ///
    /// An entry that cannot be re-encrypted (an unknown key, a tampered
    /// ciphertext) is left as it is and reported in
    /// [`RekeyReport::failed`]; the others go on.
    ///
    /// # Errors
    /// The inner store's listing errors (entries already done stay done).
    pub async fn rekey(&self, providers: &[&str]) -> Result<RekeyReport, Error> {
        let mut report = RekeyReport::default();
        for &provider in providers {
            let accounts = list_all_accounts(self, provider).await?;
            for account in accounts {
                report.accounts += 1;
                let key = AccountKey::new(provider.to_owned(), &account);
                match self.rekey_account(&key).await {
                    Ok(RekeyOutcome::AlreadyCurrent) => report.already_current += 1,
                    Ok(RekeyOutcome::Rekeyed { from }) => {
                        report.rekeyed += 1;
                        if from.is_none() {
                            report.from_plaintext += 1;
                        }
                    }
                    Ok(RekeyOutcome::Missing) => report.missing += 1,
                    Err(error) => {
                        tracing::warn!(account = %key, %error, "entry not re-encrypted");
                        report.failed.push(RekeyFailure {
                            account: key,
                            error,
                        });
                    }
                }
            }
        }
        tracing::info!(
            accounts = report.accounts,
            rekeyed = report.rekeyed,
            from_plaintext = report.from_plaintext,
            already_current = report.already_current,
            failed = report.failed.len(),
            current_key = %self.keys.load().current_id(),
            "token store rekeyed"
        );
        Ok(report)
    }

    /// The tokens of a stored entry: decrypted, or as they are for a
    /// plaintext entry (unless refused).
    fn open(&self, key: &AccountKey, stored: TokenSet, keys: &Keyring) -> Result<TokenSet, Error> {
        let (key_id, payload) = match parse_envelope(&stored) {
            Envelope::Plaintext if self.refuse_plaintext => {
                return Err(failure(key, DecryptionFailure::PlaintextRefused));
            }
            Envelope::Plaintext => {
                tracing::debug!(account = %key, "read an entry stored in clear; it is encrypted on its next save");
                return Ok(stored);
            }
            Envelope::Malformed => return Err(failure(key, DecryptionFailure::Malformed)),
            Envelope::Encrypted { key_id, payload } => (key_id, payload),
        };
        let Some(store_key) = keys.get(key_id) else {
            return Err(failure(
                key,
                DecryptionFailure::UnknownKey {
                    key_id: key_id.to_owned(),
                },
            ));
        };
        let raw = URL_SAFE_NO_PAD
            .decode(payload)
            .map_err(|_| failure(key, DecryptionFailure::Malformed))?;
        if raw.len() < NONCE_LEN + TAG_LEN {
            return Err(failure(key, DecryptionFailure::Malformed));
        }
        let (nonce, ciphertext) = raw.split_at(NONCE_LEN);
        let nonce =
            XNonce::try_from(nonce).map_err(|_| failure(key, DecryptionFailure::Malformed))?;
        let mut buffer = Zeroizing::new(ciphertext.to_vec());
        store_key
            .cipher()?
            .decrypt_in_place(&nonce, &associated_data(key, key_id), &mut *buffer)
            .map_err(|_| failure(key, DecryptionFailure::Authentication))?;
        serde_json::from_slice(&buffer)
            .map_err(|_| failure(key, DecryptionFailure::InvalidContents))
    }
}

/// A decryption failure of `key`'s entry, logged (without any secret).
fn failure(key: &AccountKey, reason: DecryptionFailure) -> Error {
    tracing::warn!(account = %key, %reason, "cannot decrypt a stored entry; it is left as it is");
    Error::Decryption {
        account: key.to_key_string(),
        reason,
    }
}

/// What a stored entry's access token holds.
enum Envelope<'a> {
    /// Not an envelope: a token stored in clear.
    Plaintext,
    /// An envelope of this version.
    Encrypted { key_id: &'a str, payload: &'a str },
    /// An envelope this version cannot read, or an inconsistent entry.
    Malformed,
}

fn parse_envelope(stored: &TokenSet) -> Envelope<'_> {
    let text = stored.access_token.expose_secret();
    if !text.starts_with(ENVELOPE_FAMILY) {
        return Envelope::Plaintext;
    }
    let Some(rest) = text.strip_prefix(ENVELOPE_PREFIX) else {
        return Envelope::Malformed;
    };
    match rest.split_once(':') {
        // An encrypted entry's refresh token lives in the ciphertext only.
        Some((key_id, payload)) if keys::is_key_id(key_id) && stored.refresh_token.is_none() => {
            Envelope::Encrypted { key_id, payload }
        }
        _ => Envelope::Malformed,
    }
}

/// Binds a ciphertext to its provider, account and key id (each
/// length-prefixed, so no two different triples give the same bytes).
fn associated_data(key: &AccountKey, key_id: &str) -> Vec<u8> {
    let provider = key.provider().as_bytes();
    let account = key.account().as_bytes();
    let mut aad =
        Vec::with_capacity(AAD_DOMAIN.len() + 16 + provider.len() + account.len() + key_id.len());
    aad.extend_from_slice(AAD_DOMAIN);
    aad.extend_from_slice(&(provider.len() as u64).to_be_bytes());
    aad.extend_from_slice(provider);
    aad.extend_from_slice(&(account.len() as u64).to_be_bytes());
    aad.extend_from_slice(account);
    aad.extend_from_slice(key_id.as_bytes());
    aad
}

/// The token set the inner store keeps for `tokens`: an envelope under the
/// current key, and the non-secret copies listed in the type's docs.
fn seal(key: &AccountKey, tokens: &TokenSet, keys: &Keyring) -> Result<TokenSet, Error> {
    let current = keys.current();
    let key_id = current.id().as_str();
    // Sized up front so that serializing never reallocates (a reallocation
    // would leave an unzeroized copy of the plaintext behind): escaping at
    // most doubles a visible-ASCII token, and the rest of the JSON (names,
    // numbers, token type, fingerprint) is well under 512 bytes.
    let token_bytes = tokens.access_token.expose_secret().len()
        + tokens
            .refresh_token
            .as_ref()
            .map_or(0, |t| t.expose_secret().len())
        + tokens
            .scopes
            .iter()
            .map(|s| s.as_str().len() + 3)
            .sum::<usize>();
    let estimate = 512 + 2 * token_bytes + TAG_LEN;
    let mut buffer = Zeroizing::new(Vec::with_capacity(estimate));
    serde_json::to_writer(&mut *buffer, tokens)
        .map_err(|_| store_error("cannot serialize the token set"))?;
    let mut nonce = [0_u8; NONCE_LEN];
    getrandom::fill(&mut nonce)
        .map_err(|e| store_error(format!("the operating system's random source failed: {e}")))?;
    current
        .cipher()?
        .encrypt_in_place(
            &XNonce::from(nonce),
            &associated_data(key, key_id),
            &mut *buffer,
        )
        .map_err(|_| store_error("cannot encrypt the token set"))?;
    let mut raw = Vec::with_capacity(NONCE_LEN + buffer.len());
    raw.extend_from_slice(&nonce);
    raw.extend_from_slice(&buffer);
    let mut envelope =
        String::with_capacity(ENVELOPE_PREFIX.len() + key_id.len() + 1 + raw.len() * 4 / 3 + 4);
    envelope.push_str(ENVELOPE_PREFIX);
    envelope.push_str(key_id);
    envelope.push(':');
    URL_SAFE_NO_PAD.encode_string(&raw, &mut envelope);
    Ok(TokenSet {
        access_token: AccessToken::new(envelope),
        token_type: tokens.token_type.clone(),
        expires_at: tokens.expires_at,
        refresh_token: None,
        refresh_token_expires_at: None,
        scopes: crate::id::Scopes::new(),
        issued_at: None,
        refresh_started: None,
    })
}

impl<S: TokenStore + ?Sized> EncryptedStore<S> {
    /// `outcome` with the stored set of a conflict decrypted.
    fn opened_outcome(
        &self,
        key: &AccountKey,
        outcome: SaveOutcome,
        keys: &Keyring,
    ) -> Result<SaveOutcome, Error> {
        match outcome {
            SaveOutcome::Conflict {
                current: Some(current),
            } => Ok(SaveOutcome::Conflict {
                current: Some(Versioned {
                    tokens: self.open(key, current.tokens, keys)?,
                    version: current.version,
                }),
            }),
            outcome => Ok(outcome),
        }
    }
}

impl<S: TokenStore + ?Sized> fmt::Debug for EncryptedStore<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EncryptedStore")
            .field("inner", &self.inner)
            .field("keys", &**self.keys.load())
            .field("refuse_plaintext", &self.refuse_plaintext)
            .finish()
    }
}

#[async_trait]
impl<S: TokenStore + ?Sized> TokenStore for EncryptedStore<S> {
    async fn load(&self, key: &AccountKey) -> Result<Option<Versioned>, Error> {
        let Some(stored) = self.inner.load(key).await? else {
            return Ok(None);
        };
        let keys = self.keys.load_full();
        Ok(Some(Versioned {
            tokens: self.open(key, stored.tokens, &keys)?,
            version: stored.version,
        }))
    }

    async fn save(
        &self,
        key: &AccountKey,
        tokens: &TokenSet,
        expected: Option<u64>,
    ) -> Result<SaveOutcome, Error> {
        let keys = self.keys.load_full();
        let sealed = seal(key, tokens, &keys)?;
        let outcome = self.inner.save(key, &sealed, expected).await?;
        self.opened_outcome(key, outcome, &keys)
    }

    async fn save_fenced(
        &self,
        key: &AccountKey,
        tokens: &TokenSet,
        expected: Option<u64>,
        fence: u64,
    ) -> Result<SaveOutcome, Error> {
        let keys = self.keys.load_full();
        let sealed = seal(key, tokens, &keys)?;
        let outcome = self
            .inner
            .save_fenced(key, &sealed, expected, fence)
            .await?;
        self.opened_outcome(key, outcome, &keys)
    }

    async fn acquire_lease(
        &self,
        key: &AccountKey,
        owner: &LeaseOwner,
        ttl: Duration,
    ) -> Result<LeaseOutcome, Error> {
        self.inner.acquire_lease(key, owner, ttl).await
    }

    async fn release_lease(&self, key: &AccountKey, lease: &Lease) -> Result<(), Error> {
        self.inner.release_lease(key, lease).await
    }

    async fn delete(&self, key: &AccountKey) -> Result<(), Error> {
        self.inner.delete(key).await
    }

    async fn list_accounts(
        &self,
        provider: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<String>, Error> {
        self.inner.list_accounts(provider, after, limit).await
    }

    async fn check_writable(&self) -> Result<(), Error> {
        self.inner.check_writable().await
    }
}
