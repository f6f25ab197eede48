//! [`MemoryStore`]: a token store in process memory.

use super::lease::{Lease, LeaseOutcome, LeaseOwner, lease_expiry};
use super::store::{AccountKey, SaveOutcome, TokenStore, Versioned};
use crate::error::Error;
use crate::token_set::TokenSet;
use async_trait::async_trait;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

/// Token sets kept in memory: for tests, short-lived processes, and as the
/// default when nothing needs to survive a restart.
///
/// It implements refresh [leases](super::lease) (by the system clock), so
/// that several managers or pools in one process sharing it refresh each
/// account once.
///
/// ```
/// use oauth_core::lifecycle::SaveOutcome;
/// use oauth_core::{AccessToken, AccountKey, MemoryStore, TokenSet, TokenStore};
/// use std::time::{Duration, SystemTime};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), oauth_core::Error> {
/// let store = MemoryStore::new();
/// let key = AccountKey::new("ebay", "seller-1");
/// let tokens = TokenSet::new(
///     AccessToken::new("access-token"),
///     SystemTime::now() + Duration::from_secs(7200),
/// );
/// // Compare-and-swap: `None` means "create"; then each save names the
/// // version it replaces.
/// assert_eq!(store.save(&key, &tokens, None).await?, SaveOutcome::Saved { version: 1 });
/// assert!(matches!(store.save(&key, &tokens, None).await?, SaveOutcome::Conflict { .. }));
/// assert_eq!(store.load(&key).await?.map(|v| v.version), Some(1));
/// assert_eq!(store.list_accounts("ebay", None, 100).await?, ["seller-1"]);
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Default)]
pub struct MemoryStore {
    entries: Mutex<Entries>,
}

#[derive(Debug, Default)]
struct Entries {
    tokens: HashMap<AccountKey, Versioned>,
    /// Kept across deletes: fencing numbers never go down.
    leases: HashMap<AccountKey, LeaseRecord>,
}

#[derive(Debug)]
struct LeaseRecord {
    /// The highest fencing number granted.
    fence: u64,
    /// The holder and the lease's expiry, while it is not released.
    held: Option<(LeaseOwner, SystemTime)>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Entries> {
        // A panic while holding the lock cannot leave a half-written entry
        // (every update is a single insert), so a poisoned lock is usable.
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Entries {
    /// A compare-and-swap save.
    fn save(&mut self, key: &AccountKey, tokens: &TokenSet, expected: Option<u64>) -> SaveOutcome {
        // One lookup: the entry is replaced in place (its key kept).
        match (self.tokens.get_mut(key), expected) {
            (Some(current), Some(expected)) if current.version == expected => {
                let version = expected + 1;
                *current = Versioned {
                    tokens: tokens.clone(),
                    version,
                };
                SaveOutcome::Saved { version }
            }
            (None, None) => {
                self.tokens.insert(
                    key.clone(),
                    Versioned {
                        tokens: tokens.clone(),
                        version: 1,
                    },
                );
                SaveOutcome::Saved { version: 1 }
            }
            (current, _) => SaveOutcome::Conflict {
                current: current.cloned(),
            },
        }
    }
}

#[async_trait]
impl TokenStore for MemoryStore {
    async fn load(&self, key: &AccountKey) -> Result<Option<Versioned>, Error> {
        Ok(self.lock().tokens.get(key).cloned())
    }

    async fn load_changed(&self, key: &AccountKey, known: u64) -> Result<Option<Versioned>, Error> {
        // The set is copied only when the caller does not have it.
        Ok(self
            .lock()
            .tokens
            .get(key)
            .filter(|stored| stored.version != known)
            .cloned())
    }

    async fn save(
        &self,
        key: &AccountKey,
        tokens: &TokenSet,
        expected: Option<u64>,
    ) -> Result<SaveOutcome, Error> {
        Ok(self.lock().save(key, tokens, expected))
    }

    async fn save_fenced(
        &self,
        key: &AccountKey,
        tokens: &TokenSet,
        expected: Option<u64>,
        fence: u64,
    ) -> Result<SaveOutcome, Error> {
        let mut entries = self.lock();
        if entries.leases.get(key).map_or(0, |l| l.fence) != fence {
            return Ok(SaveOutcome::Fenced);
        }
        Ok(entries.save(key, tokens, expected))
    }

    async fn acquire_lease(
        &self,
        key: &AccountKey,
        owner: &LeaseOwner,
        ttl: Duration,
    ) -> Result<LeaseOutcome, Error> {
        let now = SystemTime::now();
        let mut entries = self.lock();
        // The key is copied only for the account's first lease.
        let record = match entries.leases.get_mut(key) {
            Some(record) => record,
            None => entries.leases.entry(key.clone()).or_insert(LeaseRecord {
                fence: 0,
                held: None,
            }),
        };
        if let Some((holder, expires_at)) = &record.held
            && holder != owner
            && *expires_at > now
        {
            return Ok(LeaseOutcome::Held {
                expires_at: *expires_at,
            });
        }
        record.fence += 1;
        let expires_at = lease_expiry(now, ttl);
        record.held = Some((owner.clone(), expires_at));
        Ok(LeaseOutcome::Acquired(Lease {
            owner: owner.clone(),
            fence: record.fence,
            expires_at,
        }))
    }

    async fn release_lease(&self, key: &AccountKey, lease: &Lease) -> Result<(), Error> {
        let mut entries = self.lock();
        if let Some(record) = entries.leases.get_mut(key)
            && record.fence == lease.fence
            && record.held.as_ref().is_some_and(|(o, _)| *o == lease.owner)
        {
            record.held = None;
        }
        Ok(())
    }

    async fn delete(&self, key: &AccountKey) -> Result<(), Error> {
        self.lock().tokens.remove(key);
        Ok(())
    }

    async fn list_accounts(
        &self,
        provider: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<String>, Error> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let entries = self.lock();
        let mut accounts: Vec<&str> = entries
            .tokens
            .keys()
            .filter(|key| key.provider() == provider)
            .map(AccountKey::account)
            .filter(|account| after.is_none_or(|after| *account > after))
            .collect();
        // Only the first `limit` need sorting.
        if accounts.len() > limit {
            accounts.select_nth_unstable(limit);
            accounts.truncate(limit);
        }
        accounts.sort_unstable();
        Ok(accounts.into_iter().map(str::to_owned).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::AccessToken;

    fn set(token: &str) -> TokenSet {
        TokenSet::new(AccessToken::new(token), SystemTime::UNIX_EPOCH)
    }

    #[tokio::test]
    async fn load_changed_skips_only_the_known_version() {
        let store = MemoryStore::new();
        let key = AccountKey::new("p", "a");
        assert_eq!(store.load_changed(&key, 1).await.unwrap(), None);
        store.save(&key, &set("one"), None).await.unwrap();
        assert_eq!(store.load_changed(&key, 1).await.unwrap(), None);
        assert_eq!(
            store.load_changed(&key, 7).await.unwrap(),
            store.load(&key).await.unwrap()
        );
        store.save(&key, &set("two"), Some(1)).await.unwrap();
        let changed = store.load_changed(&key, 1).await.unwrap().unwrap();
        assert_eq!(changed.version, 2);
        assert_eq!(changed.tokens.access_token.expose_secret(), "two");
    }

    #[tokio::test]
    async fn saves_compare_and_swap() {
        let store = MemoryStore::new();
        let key = AccountKey::new("p", "a");
        let conflict = |current: Option<Versioned>| SaveOutcome::Conflict { current };
        assert_eq!(
            store.save(&key, &set("x"), Some(1)).await.unwrap(),
            conflict(None)
        );
        assert_eq!(
            store.save(&key, &set("one"), None).await.unwrap(),
            SaveOutcome::Saved { version: 1 }
        );
        let one = store.load(&key).await.unwrap();
        assert_eq!(
            store.save(&key, &set("x"), None).await.unwrap(),
            conflict(one.clone())
        );
        assert_eq!(
            store.save(&key, &set("x"), Some(2)).await.unwrap(),
            conflict(one)
        );
        assert_eq!(
            store.save(&key, &set("two"), Some(1)).await.unwrap(),
            SaveOutcome::Saved { version: 2 }
        );
        let two = store.load(&key).await.unwrap().unwrap();
        assert_eq!(
            (two.version, two.tokens.access_token.expose_secret()),
            (2, "two")
        );
    }
}
