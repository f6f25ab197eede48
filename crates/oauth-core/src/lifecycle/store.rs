//! The [`TokenStore`] trait: versioned entries with compare-and-swap saves.

use super::lease::{Lease, LeaseOutcome, LeaseOwner};
use crate::error::Error;
use crate::token_set::TokenSet;
use async_trait::async_trait;
use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

/// Which account's tokens: a provider name and the account's id at that
/// provider (a seller id, a user name, whatever the application uses).
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AccountKey {
    // Usually a `&'static str` (a grant's provider name): no allocation.
    provider: Cow<'static, str>,
    // Shared, so that a pool's map and its managers hold one copy.
    account: Arc<str>,
}

impl AccountKey {
    /// The key of `account` at `provider`.
    pub fn new(provider: impl Into<Cow<'static, str>>, account: impl AsRef<str>) -> Self {
        Self {
            provider: provider.into(),
            account: Arc::from(account.as_ref()),
        }
    }

    /// The account id, shared.
    pub(crate) fn account_arc(&self) -> &Arc<str> {
        &self.account
    }

    /// The provider name.
    pub fn provider(&self) -> &str {
        &self.provider
    }

    /// The account id.
    pub fn account(&self) -> &str {
        &self.account
    }

    /// `provider/account`, the form stores use as a key.
    pub fn to_key_string(&self) -> String {
        format!("{}/{}", self.provider, self.account)
    }
}

impl fmt::Debug for AccountKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AccountKey({}/{})", self.provider, self.account)
    }
}

impl fmt::Display for AccountKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.provider, self.account)
    }
}

/// A stored token set and its version. Versions start at 1 and grow by one
/// with every successful save.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Versioned {
    /// The tokens.
    pub tokens: TokenSet,
    /// The entry's version.
    pub version: u64,
}

/// The result of a compare-and-swap save.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SaveOutcome {
    /// Saved; the entry now has this version.
    Saved {
        /// The new version.
        version: u64,
    },
    /// Someone saved first: the entry is not at the expected version.
    Conflict {
        /// What is stored now (`None` if the entry was deleted).
        current: Option<Versioned>,
    },
    /// A [fenced save](TokenStore::save_fenced) whose lease was overtaken:
    /// a newer lease was granted for the account since, so nothing was
    /// written. The entry may or may not still be at the expected version.
    Fenced,
}

/// Persistent storage for token sets, shared by token managers.
///
/// `save` is a compare-and-swap on the entry's version, so that several
/// managers (in one process, or across instances with a shared store) never
/// overwrite a newer set with an older one.
///
/// Implementing it over your own storage (a database maps `save` onto a
/// conditional `UPDATE … WHERE version = $expected`):
///
/// ```
/// use oauth_core::lifecycle::{SaveOutcome, Versioned};
/// use oauth_core::{AccountKey, Error, TokenSet, TokenStore, async_trait};
/// use std::collections::BTreeMap;
/// use std::sync::Mutex;
///
/// #[derive(Debug, Default)]
/// struct MyStore(Mutex<BTreeMap<(String, String), Versioned>>);
///
/// fn id(key: &AccountKey) -> (String, String) {
///     (key.provider().to_owned(), key.account().to_owned())
/// }
///
/// #[async_trait]
/// impl TokenStore for MyStore {
///     async fn load(&self, key: &AccountKey) -> Result<Option<Versioned>, Error> {
///         Ok(self.0.lock().unwrap().get(&id(key)).cloned())
///     }
///     async fn save(
///         &self,
///         key: &AccountKey,
///         tokens: &TokenSet,
///         expected: Option<u64>,
///     ) -> Result<SaveOutcome, Error> {
///         let mut rows = self.0.lock().unwrap();
///         let current = rows.get(&id(key)).cloned();
///         if current.as_ref().map(|v| v.version) != expected {
///             return Ok(SaveOutcome::Conflict { current });
///         }
///         let version = expected.unwrap_or(0) + 1;
///         rows.insert(id(key), Versioned { tokens: tokens.clone(), version });
///         Ok(SaveOutcome::Saved { version })
///     }
///     async fn delete(&self, key: &AccountKey) -> Result<(), Error> {
///         self.0.lock().unwrap().remove(&id(key));
///         Ok(())
///     }
///     async fn list_accounts(
///         &self,
///         provider: &str,
///         after: Option<&str>,
///         limit: usize,
///     ) -> Result<Vec<String>, Error> {
///         let rows = self.0.lock().unwrap();
///         Ok(rows
///             .keys()
///             .filter(|(p, a)| p == provider && after.is_none_or(|after| a.as_str() > after))
///             .map(|(_, a)| a.clone())
///             .take(limit)
///             .collect())
///     }
/// }
/// # let _ = MyStore::default();
/// ```
#[async_trait]
pub trait TokenStore: Send + Sync + fmt::Debug {
    /// The stored set of `key`, if any.
    ///
    /// # Errors
    /// [`Error::Store`] if the storage cannot be read.
    async fn load(&self, key: &AccountKey) -> Result<Option<Versioned>, Error>;

    /// [`load`](Self::load) for a caller that holds version `known` of the
    /// entry already: `None` when the entry is at that version (as when
    /// nothing is stored), so that a store can skip copying or decoding a
    /// set the caller has. The default loads and compares.
    ///
    /// # Errors
    /// As [`load`](Self::load).
    async fn load_changed(&self, key: &AccountKey, known: u64) -> Result<Option<Versioned>, Error> {
        Ok(self
            .load(key)
            .await?
            .filter(|stored| stored.version != known))
    }

    /// Saves `tokens` if the entry is at version `expected` (`None`: the
    /// entry must not exist).
    ///
    /// # Errors
    /// [`Error::Store`] if the storage cannot be written; a version mismatch
    /// is not an error but [`SaveOutcome::Conflict`].
    async fn save(
        &self,
        key: &AccountKey,
        tokens: &TokenSet,
        expected: Option<u64>,
    ) -> Result<SaveOutcome, Error>;

    /// Removes the entry of `key` (no error if absent).
    ///
    /// # Errors
    /// [`Error::Store`] if the storage cannot be written.
    async fn delete(&self, key: &AccountKey) -> Result<(), Error>;

    /// One page of the account ids (the [`AccountKey::account`] part) stored
    /// for `provider`.
    ///
    /// Paging contract:
    /// - ids come in ascending byte order (the order of [`str`]'s `Ord`),
    ///   each at most once;
    /// - only ids strictly greater than `after` are returned, when it is
    ///   given (pass the last id of the previous page to get the next one;
    ///   `after` need not be a stored id);
    /// - at most `limit` ids are returned, and exactly `limit` while at
    ///   least that many remain: a page shorter than `limit` is the last
    ///   one. `limit == 0` returns an empty page.
    ///
    /// Entries saved or deleted while paging may or may not show up; the
    /// ids already returned stay in order. [`list_all_accounts`] pages
    /// through everything.
    ///
    /// # Errors
    /// [`Error::Store`] if the storage cannot be read.
    async fn list_accounts(
        &self,
        provider: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<String>, Error>;

    /// Proves, as far as the store can tell, that a [`save`](Self::save)
    /// would be accepted now, without changing anything: called before
    /// spending a single-use authorization code or rotating refresh token,
    /// so that the tokens the provider returns are not lost to a store that
    /// cannot be written.
    ///
    /// A store that cannot tell returns `Ok(())` (the default).
    ///
    /// # Errors
    /// [`Error::Store`] if a save would fail (read-only storage, a corrupt
    /// file, missing permissions), [`Error::StoreBusy`] if the store is held
    /// by another writer for longer than the store is willing to wait.
    async fn check_writable(&self) -> Result<(), Error> {
        Ok(())
    }

    /// Takes the refresh lease of `key` for `owner` for `ttl` (see
    /// [`lease`](super::lease) for the contract). The default answers
    /// [`LeaseOutcome::NotSupported`]: no cross-process coordination.
    ///
    /// # Errors
    /// [`Error::Store`] if the storage cannot be read or written,
    /// [`Error::StoreBusy`] if it is held by another writer for too long.
    async fn acquire_lease(
        &self,
        key: &AccountKey,
        owner: &LeaseOwner,
        ttl: Duration,
    ) -> Result<LeaseOutcome, Error> {
        let _ = (key, owner, ttl);
        Ok(LeaseOutcome::NotSupported)
    }

    /// Releases `lease` if it is still the account's lease (same owner and
    /// fencing number); anything else is a no-op. The default does nothing.
    ///
    /// # Errors
    /// [`Error::Store`] if the storage cannot be written.
    async fn release_lease(&self, key: &AccountKey, lease: &Lease) -> Result<(), Error> {
        let _ = (key, lease);
        Ok(())
    }

    /// [`save`](Self::save), but only while `fence` is the highest fencing
    /// number granted for `key`: otherwise nothing is written and the answer
    /// is [`SaveOutcome::Fenced`]. The default, for stores without leases,
    /// is a plain [`save`](Self::save).
    ///
    /// # Errors
    /// As [`save`](Self::save).
    async fn save_fenced(
        &self,
        key: &AccountKey,
        tokens: &TokenSet,
        expected: Option<u64>,
        fence: u64,
    ) -> Result<SaveOutcome, Error> {
        let _ = fence;
        self.save(key, tokens, expected).await
    }
}

/// The page size of [`list_all_accounts`].
const LIST_PAGE_SIZE: usize = 1000;

/// Every account id stored for `provider`, in ascending byte order, read
/// with [`TokenStore::list_accounts`] in pages of 1000.
///
/// # Errors
/// The store's errors; [`Error::Store`] if the store breaks the paging
/// contract (a page that does not move past the previous one).
pub async fn list_all_accounts(
    store: &dyn TokenStore,
    provider: &str,
) -> Result<Vec<String>, Error> {
    let mut all: Vec<String> = Vec::new();
    loop {
        let page = store
            .list_accounts(provider, all.last().map(String::as_str), LIST_PAGE_SIZE)
            .await?;
        let full = page.len() >= LIST_PAGE_SIZE;
        for account in page {
            // Each id must move past the last one: a store that repeats or
            // reorders ids would otherwise page forever.
            if all.last().is_some_and(|last| account <= *last) {
                return Err(store_error(format!(
                    "the token store listed the accounts of {provider} out of order: its list_accounts breaks the paging contract"
                )));
            }
            all.push(account);
        }
        if !full {
            return Ok(all);
        }
    }
}

/// A store error with `message` (which must never contain a token).
pub(crate) fn store_error(message: impl Into<String>) -> Error {
    Error::Store {
        message: message.into(),
    }
}
