//! [`MemoryStore`]: a token store in process memory.

use super::store::{AccountKey, SaveOutcome, TokenStore, Versioned};
use crate::error::Error;
use crate::token_set::TokenSet;
use async_trait::async_trait;
use std::collections::HashMap;
use std::sync::Mutex;

/// Token sets kept in memory: for tests, short-lived processes, and as the
/// default when nothing needs to survive a restart.
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
    entries: Mutex<HashMap<AccountKey, Versioned>>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<AccountKey, Versioned>> {
        // A panic while holding the lock cannot leave a half-written entry
        // (every update is a single insert), so a poisoned lock is usable.
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[async_trait]
impl TokenStore for MemoryStore {
    async fn load(&self, key: &AccountKey) -> Result<Option<Versioned>, Error> {
        Ok(self.lock().get(key).cloned())
    }

    async fn save(
        &self,
        key: &AccountKey,
        tokens: &TokenSet,
        expected: Option<u64>,
    ) -> Result<SaveOutcome, Error> {
        let mut entries = self.lock();
        let current = entries.get(key);
        if current.map(|v| v.version) != expected {
            return Ok(SaveOutcome::Conflict {
                current: current.cloned(),
            });
        }
        let version = expected.unwrap_or(0) + 1;
        entries.insert(
            key.clone(),
            Versioned {
                tokens: tokens.clone(),
                version,
            },
        );
        Ok(SaveOutcome::Saved { version })
    }

    async fn delete(&self, key: &AccountKey) -> Result<(), Error> {
        self.lock().remove(key);
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
