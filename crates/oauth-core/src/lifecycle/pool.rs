//! [`TokenPool`]: many accounts of one provider, refreshed ahead of expiry
//! without bursts.

use super::events::TokenEvent;
use super::handle::TokenHandle;
use super::manager::{DEFAULT_REFRESH_BACKOFF, Shared, TokenManager};
use super::store::{AccountKey, TokenStore};
use crate::clock::{SharedClock, to_unix_millis};
use crate::error::Error;
use crate::grant::RefreshGrant;
use crate::token_set::TokenSet;
use std::collections::BTreeMap;
use std::fmt;
use std::hash::BuildHasher;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tokio::sync::{Semaphore, broadcast};
use tokio::task::JoinHandle;

/// The accounts of one provider, keyed by account id, sharing one grant
/// (and so one HTTP client), one store and one event channel.
///
/// Besides refreshing on demand (each account's [`TokenManager`]), a pool
/// can refresh **proactively** in the background: each account is due at
/// `expires_at - skew - jitter`, where the jitter is spread over the
/// `proactive_window` by a hash of the account id (and the lead is at most
/// half the token's lifetime), and at most `max_concurrent_refreshes`
/// refreshes run at once, so even 100 000 accounts expiring at the same
/// instant cause no burst.
///
/// - **Reads take no lock**: [`access_token`](Self::access_token) looks the
///   account up in a lock-free map (`papaya`) and returns the manager's
///   fresh token without cloning the manager or allocating.
/// - **Scheduling costs what is due**: accounts wait in a queue ordered by
///   due time; a pass of [`refresh_due`](Self::refresh_due) pops only the
///   due ones, holding the queue's lock for one pop or push at a time, so
///   adding, removing and reading accounts never wait on it.
/// - **Lean per account**: what every account shares (grant, store, clock,
///   skew, events) is held once by the pool.
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

type Accounts = papaya::HashMap<Arc<str>, Slot, foldhash::fast::RandomState>;

struct PoolInner {
    /// The settings every account's manager shares.
    shared: Arc<Shared>,
    proactive_window: Duration,
    scan_interval: Duration,
    limit: Arc<Semaphore>,
    max_concurrent: usize,
    accounts: Accounts,
    /// The accounts due in each second (Unix seconds, rounded up: every
    /// account of a bucket is due by its start). An account may have stale
    /// entries (its token changed since): they are recognised when popped.
    queue: Mutex<Queue>,
}

type Queue = BTreeMap<u64, Vec<Arc<str>>>;

/// The seed of the jitter hash ("oauth").
const JITTER_SEED: u64 = 0x006f_6175_7468;

/// One account of the pool.
struct Slot {
    manager: TokenManager,
}

/// Builds a [`TokenPool`].
pub struct TokenPoolBuilder {
    grant: Arc<dyn RefreshGrant>,
    store: Arc<dyn TokenStore>,
    clock: Option<SharedClock>,
    skew: Option<Duration>,
    proactive_window: Duration,
    scan_interval: Duration,
    max_concurrent: usize,
    lease_duration: Option<Duration>,
    lease_owner: Option<super::LeaseOwner>,
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

    /// The clock expiries are compared with (default: the grant's,
    /// [`RefreshGrant::clock`]; set it only for a grant without a clock of
    /// its own).
    pub fn clock(mut self, clock: SharedClock) -> Self {
        self.clock = Some(clock);
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

    /// How long the refresh lease is taken for, on stores that lease: as
    /// [`TokenManagerBuilder::lease_duration`](super::TokenManagerBuilder::lease_duration).
    ///
    /// # Errors
    /// [`Error::Configuration`] if the lease would not outlast the grant's
    /// longest refresh by [`MIN_LEASE_MARGIN`](super::MIN_LEASE_MARGIN).
    pub fn lease_duration(mut self, duration: Duration) -> Result<Self, Error> {
        super::lease::check_lease_duration(&*self.grant, duration)?;
        self.lease_duration = Some(duration);
        Ok(self)
    }

    /// Who this pool is when it takes leases (default: a fresh
    /// [`LeaseOwner::generate`](super::LeaseOwner::generate)). Give every
    /// replica its own.
    pub fn lease_owner(mut self, owner: super::LeaseOwner) -> Self {
        self.lease_owner = Some(owner);
        self
    }

    /// Builds the pool.
    pub fn build(self) -> TokenPool {
        let skew = self
            .skew
            .unwrap_or_else(|| self.grant.default_refresh_skew());
        let lease =
            super::lease::LeaseSettings::new(&*self.grant, self.lease_duration, self.lease_owner);
        let clock = self.clock.unwrap_or_else(|| self.grant.clock());
        let shared = Shared::new(
            self.grant,
            self.store,
            clock,
            skew,
            DEFAULT_REFRESH_BACKOFF,
            broadcast::channel(1024).0,
            lease,
        );
        TokenPool {
            inner: Arc::new(PoolInner {
                shared: Arc::new(shared),
                proactive_window: self.proactive_window,
                scan_interval: self.scan_interval,
                limit: Arc::new(Semaphore::new(self.max_concurrent)),
                max_concurrent: self.max_concurrent,
                accounts: papaya::HashMap::with_hasher(foldhash::fast::RandomState::default()),
                queue: Mutex::new(BTreeMap::new()),
            }),
        }
    }
}

impl fmt::Debug for TokenPool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenPool")
            .field("provider", &self.inner.shared.grant.provider())
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
            clock: None,
            skew: None,
            proactive_window: Duration::from_secs(600),
            scan_interval: Duration::from_secs(1),
            max_concurrent: 8,
            lease_duration: None,
            lease_owner: None,
        }
    }

    /// The manager of `account`, if the pool holds it.
    pub fn get(&self, account: &str) -> Option<TokenManager> {
        self.inner
            .accounts
            .pin()
            .get(account)
            .map(|slot| slot.manager.clone())
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
        let shared = &self.inner.shared;
        let manager = TokenManager::with_shared(
            Arc::clone(shared),
            AccountKey::new(shared.grant.provider(), account),
        );
        // The map key shares the manager's copy of the account id.
        let key = Arc::clone(manager.account().account_arc());
        let slot = Slot { manager };
        self.inner
            .accounts
            .pin()
            .get_or_insert(key, slot)
            .manager
            .clone()
    }

    /// Adds every account of this pool's provider that the store holds
    /// (paging through [`TokenStore::list_accounts`]) and loads its tokens,
    /// so that a restarted service serves and refreshes all of them without
    /// knowing them up front. Returns how many accounts the store listed.
    ///
    /// # Errors
    /// [`Error::Store`] if the store cannot be listed or read.
    pub async fn load_accounts(&self) -> Result<usize, Error> {
        let shared = &self.inner.shared;
        let accounts =
            super::store::list_all_accounts(shared.store.as_ref(), shared.grant.provider()).await?;
        for account in &accounts {
            if let Some(handle) = self.add(account).reload().await? {
                self.note(account, &handle);
            }
        }
        Ok(accounts.len())
    }

    /// A valid access token for `account`.
    ///
    /// # Errors
    /// [`Error::UnknownAccount`] if the pool does not hold `account` and the
    /// store has no tokens for it; otherwise as
    /// [`TokenManager::access_token`].
    pub async fn access_token(&self, account: &str) -> Result<TokenHandle, Error> {
        let manager = {
            let accounts = self.inner.accounts.pin();
            match accounts.get(account) {
                Some(slot) => {
                    if let Some(handle) = slot.manager.fresh() {
                        // One relaxed load: the queue already has this token.
                        if !handle.0.queued.load(Ordering::Relaxed) {
                            self.schedule(account, slot, &handle);
                        }
                        return Ok(handle);
                    }
                    Some(slot.manager.clone())
                }
                None => None,
            }
        };
        let manager = match manager {
            Some(manager) => manager,
            None => self.known(account).await?,
        };
        let handle = manager.access_token().await?;
        self.note(account, &handle);
        Ok(handle)
    }

    /// The manager of an account that is not in the pool yet: added if the
    /// store holds tokens for it, otherwise [`Error::UnknownAccount`] (a typo
    /// is not a revoked seller: no manager, no request, no event).
    async fn known(&self, account: &str) -> Result<TokenManager, Error> {
        let shared = &self.inner.shared;
        let key = AccountKey::new(shared.grant.provider(), account);
        match shared.store.load(&key).await? {
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
        let handle = self.add(account).install(tokens).await?;
        self.note(account, &handle);
        Ok(handle)
    }

    /// Removes `account` from the pool (its stored tokens stay).
    pub fn remove(&self, account: &str) {
        self.inner.accounts.pin().remove(account);
    }

    /// Number of accounts.
    pub fn len(&self) -> usize {
        self.inner.accounts.len()
    }

    /// Whether the pool has no accounts.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Subscribes to the events of every account.
    pub fn subscribe(&self) -> broadcast::Receiver<TokenEvent> {
        self.inner.shared.events().subscribe()
    }

    fn lock_queue(&self) -> MutexGuard<'_, Queue> {
        // Every update is a single insert or pop: a poisoned lock is usable.
        self.inner.queue.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Makes sure the queue has an entry for `handle`'s token, if the pool
    /// still holds `account`.
    fn note(&self, account: &str, handle: &TokenHandle) {
        let accounts = self.inner.accounts.pin();
        if let Some(slot) = accounts.get(account)
            && !handle.0.queued.load(Ordering::Relaxed)
        {
            self.schedule(account, slot, handle);
        }
    }

    /// Queues `account` at the due time of `handle`'s token.
    fn schedule(&self, account: &str, slot: &Slot, handle: &TokenHandle) {
        let due = self.due_at(account, handle);
        let key = Arc::clone(slot.manager.account().account_arc());
        handle.0.queued.store(true, Ordering::Relaxed);
        self.enqueue(due, key);
    }

    /// Adds `account` to the bucket of `due_ms`.
    fn enqueue(&self, due_ms: u64, account: Arc<str>) {
        self.lock_queue()
            .entry(due_ms.div_ceil(1000))
            .or_default()
            .push(account);
    }

    /// When `account`'s token is due for proactive refresh (Unix ms):
    /// `expires_at - lead`, the lead being `skew + jitter` (the jitter in
    /// `[0, proactive_window)`, chosen by a hash of the account id, stable)
    /// and at most half the token's lifetime when its issue time is known.
    fn due_at(&self, account: &str, handle: &TokenHandle) -> u64 {
        let window_ms = u64::try_from(self.inner.proactive_window.as_millis()).unwrap_or(u64::MAX);
        let jitter = if window_ms == 0 {
            0
        } else {
            // A fixed-key hash: the same account gets the same jitter in
            // every process sharing a store.
            foldhash::fast::FixedState::with_seed(JITTER_SEED).hash_one(account) % window_ms
        };
        let skew_ms = u64::try_from(self.inner.shared.skew.as_millis()).unwrap_or(u64::MAX);
        let mut lead = skew_ms.saturating_add(jitter);
        let tokens = handle.token_set();
        let expires = to_unix_millis(tokens.expires_at);
        if let Some(issued) = tokens.issued_at {
            lead = lead.min(expires.saturating_sub(to_unix_millis(issued)) / 2);
        }
        expires.saturating_sub(lead)
    }

    /// The earliest bucket of accounts, if all of them are due at `now`
    /// (Unix ms).
    fn pop_due(&self, now: u64) -> Option<Vec<Arc<str>>> {
        let mut queue = self.lock_queue();
        match queue.first_key_value() {
            Some((second, _)) if second.saturating_mul(1000) <= now => {
                queue.pop_first().map(|(_, accounts)| accounts)
            }
            _ => None,
        }
    }

    /// One pass of proactive refresh: every queued account whose token is
    /// due is refreshed, earliest due first, with at most
    /// `max_concurrent_refreshes` in flight (the pass waits for a free slot
    /// before starting the next). Returns how many refreshes were started.
    /// Only due accounts are visited; accounts whose tokens are not loaded
    /// yet are queued once they are (on first use, `install` or
    /// `load_accounts`).
    pub async fn refresh_due(&self) -> usize {
        let now = to_unix_millis(self.inner.shared.clock.now());
        let mut started = 0;
        while let Some(bucket) = self.pop_due(now) {
            for account in bucket {
                let Some((manager, before)) = self.due_manager(&account, now) else {
                    continue;
                };
                let Ok(permit) = Arc::clone(&self.inner.limit).acquire_owned().await else {
                    return started;
                };
                started += 1;
                let pool = self.clone();
                // Refresh unless the token is fresh beyond the whole window.
                let within = self.inner.shared.skew + self.inner.proactive_window;
                tokio::spawn(async move {
                    let outcome = manager.refresh_ahead(within).await;
                    drop(permit);
                    match outcome {
                        Ok(handle) if !handle.same_as(&before) => pool.note(&account, &handle),
                        outcome => {
                            if let Err(error) = outcome {
                                tracing::debug!(account = %manager.account(), %error, "proactive refresh failed");
                            }
                            // Not refreshed (a failure, or the manager's
                            // backoff): look again after a scan interval.
                            let retry = to_unix_millis(pool.inner.shared.clock.now())
                                .saturating_add(
                                    u64::try_from(pool.inner.scan_interval.as_millis())
                                        .unwrap_or(u64::MAX)
                                        .max(1_000),
                                );
                            pool.enqueue(retry, account);
                        }
                    }
                });
            }
        }
        started
    }

    /// The manager of a popped `account` and its current token, if the
    /// token is due at `now`; a stale entry (the token changed since it was
    /// queued) queues the current token instead, unless that is done.
    fn due_manager(&self, account: &str, now: u64) -> Option<(TokenManager, TokenHandle)> {
        let accounts = self.inner.accounts.pin();
        let slot = accounts.get(account)?; // removed from the pool
        let current = slot.manager.current()?;
        if self.due_at(account, &current) > now {
            if !current.0.queued.load(Ordering::Relaxed) {
                self.schedule(account, slot, &current);
            }
            return None;
        }
        Some((slot.manager.clone(), current))
    }

    /// Starts the background task that calls [`refresh_due`](Self::refresh_due)
    /// every `scan_interval`. It stops when the returned value is dropped.
    pub fn start_background_refresh(&self) -> BackgroundRefresh {
        let pool = self.clone();
        let interval = self.inner.scan_interval;
        BackgroundRefresh {
            task: tokio::spawn(async move {
                loop {
                    pool.refresh_due().await;
                    tokio::time::sleep(interval).await;
                }
            }),
            limit: Arc::clone(&self.inner.limit),
            max_concurrent: self.inner.max_concurrent,
        }
    }
}

/// The background refresh task of a [`TokenPool`]; aborted on drop.
///
/// Dropping it stops the scheduling at once, but refreshes already started
/// go on as tasks of their own; a process that exits right after may cut
/// one between the provider's answer and the save, and with a rotating
/// provider that loses the account's refresh token. On shutdown, call
/// [`stop`](Self::stop) instead and await it before exiting.
#[derive(Debug)]
pub struct BackgroundRefresh {
    task: JoinHandle<()>,
    /// The pool's refresh slots: every proactive refresh in flight holds
    /// one until its new set is saved (or it failed).
    limit: Arc<Semaphore>,
    max_concurrent: usize,
}

impl BackgroundRefresh {
    /// Stops scheduling proactive refreshes and waits until those in
    /// flight have finished, their new tokens saved: the way to shut a
    /// service down without losing a rotated refresh token. (Refreshes
    /// started on demand by [`TokenPool::access_token`] callers are
    /// awaited by those callers.)
    pub async fn stop(self) {
        self.task.abort();
        let all = u32::try_from(self.max_concurrent).unwrap_or(u32::MAX);
        // Closed never: the pool owns the semaphore and never closes it.
        let _ = self.limit.acquire_many(all).await;
    }
}

impl Drop for BackgroundRefresh {
    fn drop(&mut self) {
        self.task.abort();
    }
}
