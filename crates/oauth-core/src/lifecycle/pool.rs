//! [`TokenPool`]: many accounts of one provider, refreshed ahead of expiry
//! without bursts.

use super::events::TokenEvent;
use super::handle::TokenHandle;
use super::manager::TokenManager;
use super::store::TokenStore;
use crate::clock::{SharedClock, system_clock};
use crate::error::Error;
use crate::grant::RefreshGrant;
use crate::token_set::TokenSet;
use std::collections::HashMap;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime};
use tokio::sync::{Semaphore, broadcast};
use tokio::task::JoinHandle;

/// The accounts of one provider, keyed by account id, sharing one grant
/// (and so one HTTP client), one store and one event channel.
///
/// Besides refreshing on demand (each account's [`TokenManager`]), a pool
/// can refresh **proactively** in the background: each account is due at
/// `expires_at - skew - jitter`, where the jitter is spread over the
/// `proactive_window` by a hash of the account id, and at most
/// `max_concurrent_refreshes` refreshes run at once, so even 100 000
/// accounts expiring at the same instant cause no burst.
///
/// ```
/// use oauth_core::{
///     AccessToken, Error, MemoryStore, RefreshGrant, RefreshToken, TokenPool, TokenSet,
///     TokenStore, async_trait,
/// };
/// use std::sync::Arc;
/// use std::time::{Duration, SystemTime};
///
/// // Every provider crate's `Client` is a `RefreshGrant` (one client for
/// // all the accounts); this stand-in issues a new access token each time.
/// #[derive(Debug)]
/// struct Provider;
///
/// #[async_trait]
/// impl RefreshGrant for Provider {
///     fn provider(&self) -> &'static str {
///         "example"
///     }
///     async fn refresh(&self, current: &TokenSet) -> Result<TokenSet, Error> {
///         let expires_at = SystemTime::now() + Duration::from_secs(3600);
///         Ok(TokenSet::new(AccessToken::new("refreshed"), expires_at).merge_previous(current))
///     }
///     fn rotates_refresh_token(&self) -> bool {
///         false
///     }
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Error> {
/// let store: Arc<dyn TokenStore> = Arc::new(MemoryStore::new());
/// let pool = TokenPool::builder(Arc::new(Provider), Arc::clone(&store)).build();
///
/// // Sellers connect one by one (after consent and code exchange).
/// let tokens = |access: &str| {
///     TokenSet::new(AccessToken::new(access), SystemTime::now() + Duration::from_secs(7200))
///         .with_refresh_token(RefreshToken::new("refresh-token"), None)
/// };
/// pool.install("seller-1", tokens("token-of-seller-1")).await?;
/// pool.install("seller-2", tokens("token-of-seller-2")).await?;
///
/// // After a restart, a new pool finds every account in the store.
/// let restarted = TokenPool::builder(Arc::new(Provider), store).build();
/// assert_eq!(restarted.load_accounts().await?, 2);
/// let _background = restarted.start_background_refresh(); // stops when dropped
/// let token = restarted.access_token("seller-2").await?;
/// assert_eq!(token.expose_secret(), "token-of-seller-2");
///
/// // An account the pool does not know is a typed error, not a revocation.
/// let err = restarted.access_token("seller-3").await.unwrap_err();
/// assert!(matches!(err, Error::UnknownAccount { .. }));
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct TokenPool {
    inner: Arc<PoolInner>,
}

struct PoolInner {
    grant: Arc<dyn RefreshGrant>,
    store: Arc<dyn TokenStore>,
    clock: SharedClock,
    skew: Duration,
    proactive_window: Duration,
    scan_interval: Duration,
    limit: Arc<Semaphore>,
    max_concurrent: usize,
    managers: RwLock<HashMap<Arc<str>, TokenManager>>,
    events: broadcast::Sender<TokenEvent>,
}

/// Builds a [`TokenPool`].
pub struct TokenPoolBuilder {
    grant: Arc<dyn RefreshGrant>,
    store: Arc<dyn TokenStore>,
    clock: SharedClock,
    skew: Option<Duration>,
    proactive_window: Duration,
    scan_interval: Duration,
    max_concurrent: usize,
}

impl fmt::Debug for TokenPoolBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenPoolBuilder")
            .field("provider", &self.grant.provider())
            .field("max_concurrent", &self.max_concurrent)
            .finish_non_exhaustive()
    }
}

impl TokenPoolBuilder {
    /// The refresh skew of every account (default: the grant's).
    pub fn skew(mut self, skew: Duration) -> Self {
        self.skew = Some(skew);
        self
    }

    /// The clock (default: the system clock).
    pub fn clock(mut self, clock: SharedClock) -> Self {
        self.clock = clock;
        self
    }

    /// How far ahead of `expires_at - skew` proactive refreshes are spread
    /// (default 10 minutes).
    pub fn proactive_window(mut self, window: Duration) -> Self {
        self.proactive_window = window;
        self
    }

    /// How often the background task looks for due accounts (default 1 s).
    pub fn scan_interval(mut self, interval: Duration) -> Self {
        self.scan_interval = interval;
        self
    }

    /// The most proactive refreshes in flight at once (default 8, at least 1).
    pub fn max_concurrent_refreshes(mut self, max: usize) -> Self {
        self.max_concurrent = max.max(1);
        self
    }

    /// Builds the pool.
    pub fn build(self) -> TokenPool {
        let skew = self
            .skew
            .unwrap_or_else(|| self.grant.default_refresh_skew());
        TokenPool {
            inner: Arc::new(PoolInner {
                grant: self.grant,
                store: self.store,
                clock: self.clock,
                skew,
                proactive_window: self.proactive_window,
                scan_interval: self.scan_interval,
                limit: Arc::new(Semaphore::new(self.max_concurrent)),
                max_concurrent: self.max_concurrent,
                managers: RwLock::new(HashMap::new()),
                events: broadcast::channel(1024).0,
            }),
        }
    }
}

impl fmt::Debug for TokenPool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenPool")
            .field("provider", &self.inner.grant.provider())
            .field("accounts", &self.len())
            .field("max_concurrent", &self.inner.max_concurrent)
            .finish_non_exhaustive()
    }
}

impl TokenPool {
    /// A pool of accounts using `grant`, persisted in `store`.
    pub fn builder(grant: Arc<dyn RefreshGrant>, store: Arc<dyn TokenStore>) -> TokenPoolBuilder {
        TokenPoolBuilder {
            grant,
            store,
            clock: system_clock(),
            skew: None,
            proactive_window: Duration::from_secs(600),
            scan_interval: Duration::from_secs(1),
            max_concurrent: 8,
        }
    }

    /// The manager of `account`, if the pool holds it.
    pub fn get(&self, account: &str) -> Option<TokenManager> {
        self.read().get(account).cloned()
    }

    /// Adds `account` to the pool (nothing happens if it is there already)
    /// and returns its manager. Nothing is read or sent yet: the manager
    /// loads the stored tokens on first use.
    ///
    /// Accounts whose tokens are in the store are added by
    /// [`load_accounts`](Self::load_accounts) or on first use by
    /// [`access_token`](Self::access_token); `add` is for the others, such as
    /// grants that fetch their first token without consent.
    pub fn add(&self, account: &str) -> TokenManager {
        if let Some(manager) = self.get(account) {
            return manager;
        }
        let manager = TokenManager::builder(
            Arc::clone(&self.inner.grant),
            Arc::clone(&self.inner.store),
            account,
        )
        .clock(Arc::clone(&self.inner.clock))
        .skew(self.inner.skew)
        .events(self.inner.events.clone())
        .build();
        let mut managers = self
            .inner
            .managers
            .write()
            .unwrap_or_else(|p| p.into_inner());
        // The map key shares the manager's copy of the account id.
        let key = Arc::clone(manager.account().account_arc());
        managers.entry(key).or_insert(manager).clone()
    }

    /// Adds every account of this pool's provider that the store holds
    /// (paging through [`TokenStore::list_accounts`]) and loads its tokens,
    /// so that a restarted service serves and refreshes all of them without
    /// knowing them up front. Returns how many accounts the store listed.
    ///
    /// # Errors
    /// [`Error::Store`] if the store cannot be listed or read.
    pub async fn load_accounts(&self) -> Result<usize, Error> {
        let provider = self.inner.grant.provider();
        let accounts = super::store::list_all_accounts(self.inner.store.as_ref(), provider).await?;
        for account in &accounts {
            self.add(account).reload().await?;
        }
        Ok(accounts.len())
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, HashMap<Arc<str>, TokenManager>> {
        self.inner
            .managers
            .read()
            .unwrap_or_else(|p| p.into_inner())
    }

    /// A valid access token for `account`.
    ///
    /// # Errors
    /// [`Error::UnknownAccount`] if the pool does not hold `account` and the
    /// store has no tokens for it; otherwise as
    /// [`TokenManager::access_token`].
    pub async fn access_token(&self, account: &str) -> Result<TokenHandle, Error> {
        if let Some(manager) = self.get(account) {
            return manager.access_token().await;
        }
        self.known(account).await?.access_token().await
    }

    /// The manager of an account that is not in the pool yet: added if the
    /// store holds tokens for it, otherwise [`Error::UnknownAccount`] (a typo
    /// is not a revoked seller: no manager, no request, no event).
    async fn known(&self, account: &str) -> Result<TokenManager, Error> {
        let key = super::store::AccountKey::new(self.inner.grant.provider(), account);
        match self.inner.store.load(&key).await? {
            Some(_) => Ok(self.add(account)),
            None => Err(Error::UnknownAccount {
                account: key.to_string(),
            }),
        }
    }

    /// Installs tokens for `account` (after consent).
    ///
    /// # Errors
    /// As [`TokenManager::install`].
    pub async fn install(&self, account: &str, tokens: TokenSet) -> Result<TokenHandle, Error> {
        self.add(account).install(tokens).await
    }

    /// Removes `account` from the pool (its stored tokens stay).
    pub fn remove(&self, account: &str) {
        self.inner
            .managers
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .remove(account);
    }

    /// Number of accounts.
    pub fn len(&self) -> usize {
        self.read().len()
    }

    /// Whether the pool has no accounts.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Subscribes to the events of every account.
    pub fn subscribe(&self) -> broadcast::Receiver<TokenEvent> {
        self.inner.events.subscribe()
    }

    /// When `account`'s token is due for proactive refresh:
    /// `expires_at - skew - jitter`, the jitter in `[0, proactive_window)`
    /// chosen by a hash of the account id (stable across scans).
    fn due_at(&self, account: &str, expires_at: SystemTime) -> SystemTime {
        let window_ms = u64::try_from(self.inner.proactive_window.as_millis()).unwrap_or(u64::MAX);
        let jitter = if window_ms == 0 {
            0
        } else {
            let mut hasher = std::collections::hash_map::DefaultHasher::new();
            account.hash(&mut hasher);
            hasher.finish() % window_ms
        };
        let lead = self.inner.skew + Duration::from_millis(jitter);
        expires_at
            .checked_sub(lead)
            .unwrap_or(SystemTime::UNIX_EPOCH)
    }

    /// One pass of proactive refresh: every account whose token is due is
    /// refreshed, earliest expiry first, with at most
    /// `max_concurrent_refreshes` in flight (the pass waits for a free slot
    /// before starting the next). Returns how many refreshes were started.
    /// Accounts without loaded tokens are skipped (they load on first use).
    pub async fn refresh_due(&self) -> usize {
        let now = self.inner.clock.now();
        let mut due: Vec<(SystemTime, TokenManager)> = self
            .read()
            .iter()
            .filter_map(|(account, manager)| {
                let current = manager.current()?;
                let expires_at = current.expires_at();
                (self.due_at(account, expires_at) <= now).then(|| (expires_at, manager.clone()))
            })
            .collect();
        due.sort_by_key(|(expires_at, _)| *expires_at);
        let started = due.len();
        for (_, manager) in due {
            let Ok(permit) = Arc::clone(&self.inner.limit).acquire_owned().await else {
                break;
            };
            // Refresh unless the token is fresh beyond the whole window.
            let within = self.inner.skew + self.inner.proactive_window;
            tokio::spawn(async move {
                if let Err(error) = manager.refresh_ahead(within).await {
                    tracing::debug!(account = %manager.account(), %error, "proactive refresh failed");
                }
                drop(permit);
            });
        }
        started
    }

    /// Starts the background task that calls [`refresh_due`](Self::refresh_due)
    /// every `scan_interval`. It stops when the returned value is dropped.
    pub fn start_background_refresh(&self) -> BackgroundRefresh {
        let pool = self.clone();
        let interval = self.inner.scan_interval;
        BackgroundRefresh(tokio::spawn(async move {
            loop {
                pool.refresh_due().await;
                tokio::time::sleep(interval).await;
            }
        }))
    }
}

/// The background refresh task of a [`TokenPool`]; aborted on drop.
#[derive(Debug)]
pub struct BackgroundRefresh(JoinHandle<()>);

impl Drop for BackgroundRefresh {
    fn drop(&mut self) {
        self.0.abort();
    }
}
