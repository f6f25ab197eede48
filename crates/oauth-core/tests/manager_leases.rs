//! Refresh leases in the token manager: managers and pools that share a
//! store (here in one process, each with its own lease owner, as separate
//! processes would be) refresh each account once, a dead holder's lease
//! lapses and another takes over, an overtaken holder still saves the only
//! valid refresh token, and the lease must outlast the refresh.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use oauth_core::lifecycle::{Lease, LeaseOutcome, LeaseOwner};
use oauth_core::{
    AccessToken, AccountKey, Error, MemoryStore, ProviderDetails, RefreshGrant, RefreshToken,
    TokenManager, TokenPool, TokenSet, TokenStore, async_trait,
};
use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

/// A provider with single-use refresh tokens (AliExpress-like): a spent
/// refresh token is refused as an invalid grant, as a real provider does.
#[derive(Debug)]
struct Rotating {
    valid: Mutex<HashSet<String>>,
    calls: AtomicUsize,
    refused: AtomicUsize,
    delay: Duration,
    lifetime: Duration,
    max_refresh: Option<Duration>,
}

impl Rotating {
    fn new(delay: Duration) -> Arc<Self> {
        Arc::new(Self {
            valid: Mutex::new(HashSet::new()),
            calls: AtomicUsize::new(0),
            refused: AtomicUsize::new(0),
            delay,
            lifetime: Duration::from_secs(3600),
            max_refresh: None,
        })
    }

    /// A first token set for `account`, expired already (due at once).
    fn expired_set(&self, account: &str) -> TokenSet {
        let refresh = format!("rt-{account}-0");
        self.valid.lock().unwrap().insert(refresh.clone());
        TokenSet::new(
            AccessToken::new(format!("at-{account}-0")),
            SystemTime::now() - Duration::from_secs(1),
        )
        .with_refresh_token(RefreshToken::new(refresh), None)
    }

    fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }
}

#[async_trait]
impl RefreshGrant for Rotating {
    fn provider(&self) -> &'static str {
        "rotating"
    }

    async fn refresh(&self, current: &TokenSet) -> Result<TokenSet, Error> {
        let n = self.calls.fetch_add(1, Ordering::SeqCst) + 1;
        tokio::time::sleep(self.delay).await;
        let spent = current
            .refresh_token
            .as_ref()
            .map(|t| t.expose_secret().to_owned())
            .unwrap_or_default();
        if !self.valid.lock().unwrap().remove(&spent) {
            self.refused.fetch_add(1, Ordering::SeqCst);
            return Err(Error::ReauthorizationRequired {
                details: ProviderDetails::new("rotating").with_message("invalid refresh token"),
            });
        }
        let refresh = format!("rt-{n}");
        self.valid.lock().unwrap().insert(refresh.clone());
        Ok(TokenSet::new(
            AccessToken::new(format!("at-{n}")),
            SystemTime::now() + self.lifetime,
        )
        .with_refresh_token(RefreshToken::new(refresh), None))
    }

    fn rotates_refresh_token(&self) -> bool {
        true
    }

    fn max_refresh_duration(&self) -> Option<Duration> {
        self.max_refresh
    }
}

/// A store that answers only the required methods: no leases.
#[derive(Debug, Default)]
struct NoLeases(MemoryStore);

#[async_trait]
impl TokenStore for NoLeases {
    async fn load(
        &self,
        key: &AccountKey,
    ) -> Result<Option<oauth_core::lifecycle::Versioned>, Error> {
        self.0.load(key).await
    }
    async fn save(
        &self,
        key: &AccountKey,
        tokens: &TokenSet,
        expected: Option<u64>,
    ) -> Result<oauth_core::lifecycle::SaveOutcome, Error> {
        self.0.save(key, tokens, expected).await
    }
    async fn delete(&self, key: &AccountKey) -> Result<(), Error> {
        self.0.delete(key).await
    }
    async fn list_accounts(
        &self,
        provider: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<String>, Error> {
        self.0.list_accounts(provider, after, limit).await
    }
}

/// How a test store departs from a plain `MemoryStore`, playing another
/// process: each hook defaults to the memory store's own answer.
#[async_trait]
trait Script: Send + Sync + std::fmt::Debug {
    fn memory(&self) -> &MemoryStore;

    async fn save_fenced(
        &self,
        key: &AccountKey,
        tokens: &TokenSet,
        expected: Option<u64>,
        fence: u64,
    ) -> Result<oauth_core::lifecycle::SaveOutcome, Error> {
        self.memory()
            .save_fenced(key, tokens, expected, fence)
            .await
    }

    async fn acquire_lease(
        &self,
        key: &AccountKey,
        owner: &LeaseOwner,
        ttl: Duration,
    ) -> Result<LeaseOutcome, Error> {
        self.memory().acquire_lease(key, owner, ttl).await
    }
}

/// A `MemoryStore` driven by a [`Script`].
#[derive(Debug)]
struct Scripted<S>(S);

#[async_trait]
impl<S: Script> TokenStore for Scripted<S> {
    async fn load(
        &self,
        key: &AccountKey,
    ) -> Result<Option<oauth_core::lifecycle::Versioned>, Error> {
        self.0.memory().load(key).await
    }
    async fn save(
        &self,
        key: &AccountKey,
        tokens: &TokenSet,
        expected: Option<u64>,
    ) -> Result<oauth_core::lifecycle::SaveOutcome, Error> {
        self.0.memory().save(key, tokens, expected).await
    }
    async fn save_fenced(
        &self,
        key: &AccountKey,
        tokens: &TokenSet,
        expected: Option<u64>,
        fence: u64,
    ) -> Result<oauth_core::lifecycle::SaveOutcome, Error> {
        self.0.save_fenced(key, tokens, expected, fence).await
    }
    async fn acquire_lease(
        &self,
        key: &AccountKey,
        owner: &LeaseOwner,
        ttl: Duration,
    ) -> Result<LeaseOutcome, Error> {
        self.0.acquire_lease(key, owner, ttl).await
    }
    async fn release_lease(&self, key: &AccountKey, lease: &Lease) -> Result<(), Error> {
        self.0.memory().release_lease(key, lease).await
    }
    async fn delete(&self, key: &AccountKey) -> Result<(), Error> {
        self.0.memory().delete(key).await
    }
    async fn list_accounts(
        &self,
        provider: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<String>, Error> {
        self.0.memory().list_accounts(provider, after, limit).await
    }
}

fn manager(grant: &Arc<Rotating>, store: &Arc<dyn TokenStore>, account: &str) -> TokenManager {
    // One builder each: separate lease owners, as separate processes.
    TokenManager::builder(grant.clone(), Arc::clone(store), account).build()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn managers_sharing_a_leasing_store_refresh_once() {
    let grant = Rotating::new(Duration::from_millis(150));
    let store: Arc<dyn TokenStore> = Arc::new(MemoryStore::new());
    let key = AccountKey::new("rotating", "seller-1");
    store
        .save(&key, &grant.expired_set("seller-1"), None)
        .await
        .unwrap();
    // Eight "processes", each with its own manager for the same account.
    let managers: Vec<_> = (0..8)
        .map(|_| manager(&grant, &store, "seller-1"))
        .collect();
    let calls: Vec<_> = managers
        .iter()
        .map(|m| {
            let m = m.clone();
            tokio::spawn(
                async move { m.access_token().await.map(|t| t.expose_secret().to_owned()) },
            )
        })
        .collect();
    let mut tokens = HashSet::new();
    for call in calls {
        tokens.insert(call.await.unwrap().unwrap());
    }
    assert_eq!(grant.calls(), 1, "one refresh across all the managers");
    assert_eq!(
        grant.refused.load(Ordering::SeqCst),
        0,
        "no refresh token spent twice"
    );
    assert_eq!(
        tokens.len(),
        1,
        "every manager got the one new token: {tokens:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_leases_the_same_managers_spend_the_token_more_than_once() {
    // The baseline that shows what the lease prevents: the store has no
    // leases, so the managers race (the losers adopt the winner's set).
    let grant = Rotating::new(Duration::from_millis(150));
    let store: Arc<dyn TokenStore> = Arc::new(NoLeases::default());
    let key = AccountKey::new("rotating", "seller-1");
    store
        .save(&key, &grant.expired_set("seller-1"), None)
        .await
        .unwrap();
    let managers: Vec<_> = (0..8)
        .map(|_| manager(&grant, &store, "seller-1"))
        .collect();
    let calls: Vec<_> = managers
        .iter()
        .map(|m| {
            let m = m.clone();
            tokio::spawn(async move { m.access_token().await.is_ok() })
        })
        .collect();
    for call in calls {
        assert!(
            call.await.unwrap(),
            "managers without leases still recover by adoption"
        );
    }
    assert!(
        grant.calls() > 1,
        "without leases more than one request is made ({})",
        grant.calls()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pools_on_every_replica_refresh_each_due_account_once() {
    let grant = Rotating::new(Duration::from_millis(20));
    let store: Arc<dyn TokenStore> = Arc::new(MemoryStore::new());
    let accounts: Vec<String> = (0..40).map(|i| format!("seller-{i:02}")).collect();
    for account in &accounts {
        let key = AccountKey::new("rotating", account);
        store
            .save(&key, &grant.expired_set(account), None)
            .await
            .unwrap();
    }
    // Three replicas, each with a pool over the whole store.
    let mut pools = Vec::new();
    for _ in 0..3 {
        let pool = TokenPool::builder(grant.clone(), Arc::clone(&store))
            .max_concurrent_refreshes(8)
            .build();
        assert_eq!(pool.load_accounts().await.unwrap(), accounts.len());
        pools.push(pool);
    }
    let mut calls = Vec::new();
    for pool in &pools {
        for account in &accounts {
            let pool = pool.clone();
            let account = account.clone();
            calls.push(tokio::spawn(
                async move { pool.access_token(&account).await },
            ));
        }
    }
    for call in calls {
        call.await.unwrap().unwrap();
    }
    assert_eq!(
        grant.calls(),
        accounts.len(),
        "each due account refreshed once in total, not once per replica"
    );
    assert_eq!(grant.refused.load(Ordering::SeqCst), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_holders_lease_lapses_and_another_manager_takes_over() {
    let grant = Rotating::new(Duration::ZERO);
    let store: Arc<dyn TokenStore> = Arc::new(MemoryStore::new());
    let key = AccountKey::new("rotating", "seller-1");
    store
        .save(&key, &grant.expired_set("seller-1"), None)
        .await
        .unwrap();
    // A process took the lease and died: it is never released.
    let dead = LeaseOwner::new("dead-process").unwrap();
    let LeaseOutcome::Acquired(dead_lease) = store
        .acquire_lease(&key, &dead, Duration::from_millis(600))
        .await
        .unwrap()
    else {
        panic!("the lease is free")
    };
    let manager = manager(&grant, &store, "seller-1");
    let started = std::time::Instant::now();
    let token = manager.access_token().await.unwrap();
    assert!(
        started.elapsed() >= Duration::from_millis(500),
        "the manager waited for the lease to lapse ({:?})",
        started.elapsed()
    );
    assert_eq!(token.expose_secret(), "at-1");
    assert_eq!(grant.calls(), 1);
    // The dead holder, were it to wake, could not overwrite the new set.
    let stored = store.load(&key).await.unwrap().unwrap();
    let outcome = store
        .save_fenced(
            &key,
            &grant.expired_set("late"),
            Some(stored.version),
            dead_lease.fence,
        )
        .await
        .unwrap();
    assert_eq!(outcome, oauth_core::lifecycle::SaveOutcome::Fenced);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lease_held_for_longer_than_the_wait_is_a_retryable_busy_error() {
    let grant = Rotating::new(Duration::ZERO);
    let store: Arc<dyn TokenStore> = Arc::new(MemoryStore::new());
    let key = AccountKey::new("rotating", "seller-1");
    store
        .save(&key, &grant.expired_set("seller-1"), None)
        .await
        .unwrap();
    let other = LeaseOwner::new("other-process").unwrap();
    // Held far longer than this manager's lease (2 s) plus its slack.
    store
        .acquire_lease(&key, &other, Duration::from_secs(60))
        .await
        .unwrap();
    let manager = TokenManager::builder(grant.clone(), Arc::clone(&store), "seller-1")
        .lease_duration(Duration::from_secs(2))
        .unwrap()
        .build();
    let error = manager.access_token().await.unwrap_err();
    assert!(matches!(error, Error::StoreBusy { .. }), "{error:?}");
    assert!(error.is_retryable());
    assert_eq!(grant.calls(), 0, "nothing was spent");
}

/// A store whose lease another process overtakes while the refresh is in
/// flight (the holder's lease lapses at once, the thief takes it and
/// releases it): the first fenced save of the new set is refused.
#[derive(Debug)]
struct Overtaken {
    inner: MemoryStore,
    overtake: Mutex<bool>,
}

#[async_trait]
impl Script for Overtaken {
    fn memory(&self) -> &MemoryStore {
        &self.inner
    }
    async fn save_fenced(
        &self,
        key: &AccountKey,
        tokens: &TokenSet,
        expected: Option<u64>,
        fence: u64,
    ) -> Result<oauth_core::lifecycle::SaveOutcome, Error> {
        // The save of the new tokens (not the "refresh started" record):
        // first let another owner take the lapsed lease and release it.
        if tokens.refresh_started.is_none() && std::mem::take(&mut *self.overtake.lock().unwrap()) {
            let thief = LeaseOwner::new("thief").unwrap();
            if let LeaseOutcome::Acquired(lease) = self
                .inner
                .acquire_lease(key, &thief, Duration::ZERO)
                .await?
            {
                self.inner.release_lease(key, &lease).await?;
            }
        }
        self.inner.save_fenced(key, tokens, expected, fence).await
    }
    async fn acquire_lease(
        &self,
        key: &AccountKey,
        owner: &LeaseOwner,
        ttl: Duration,
    ) -> Result<LeaseOutcome, Error> {
        // Until the overtake happened, the manager's lease lapses at once
        // (as if the holder had stalled past it).
        let ttl = if *self.overtake.lock().unwrap() {
            Duration::ZERO
        } else {
            ttl
        };
        self.inner.acquire_lease(key, owner, ttl).await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_overtaken_holder_takes_the_lease_again_to_save_the_only_valid_refresh_token() {
    let grant = Rotating::new(Duration::ZERO);
    let store = Arc::new(Scripted(Overtaken {
        inner: MemoryStore::new(),
        overtake: Mutex::new(false),
    }));
    let key = AccountKey::new("rotating", "seller-1");
    store
        .save(&key, &grant.expired_set("seller-1"), None)
        .await
        .unwrap();
    *store.0.overtake.lock().unwrap() = true;
    let dyn_store: Arc<dyn TokenStore> = store.clone();
    let manager = manager(&grant, &dyn_store, "seller-1");
    let token = manager.access_token().await.unwrap();
    assert_eq!(token.expose_secret(), "at-1");
    let stored = store.load(&key).await.unwrap().unwrap();
    assert_eq!(stored.tokens.access_token.expose_secret(), "at-1");
    assert_eq!(
        stored.tokens.refresh_token.unwrap().expose_secret(),
        "rt-1",
        "the rotated refresh token was saved despite the overtaken lease"
    );
    assert!(
        !*store.0.overtake.lock().unwrap(),
        "the lease really was overtaken"
    );
}

#[test]
fn the_lease_must_outlast_the_longest_refresh() {
    let mut grant = Rotating::new(Duration::ZERO);
    Arc::get_mut(&mut grant).unwrap().max_refresh = Some(Duration::from_secs(30));
    let store: Arc<dyn TokenStore> = Arc::new(MemoryStore::new());
    let too_short = TokenManager::builder(grant.clone(), Arc::clone(&store), "a")
        .lease_duration(Duration::from_secs(31))
        .unwrap_err();
    assert!(
        matches!(too_short, Error::Configuration { .. }),
        "{too_short:?}"
    );
    assert!(too_short.to_string().contains("30000 ms"), "{too_short}");
    assert!(
        TokenManager::builder(grant.clone(), Arc::clone(&store), "a")
            .lease_duration(Duration::from_secs(32))
            .is_ok()
    );
    assert!(
        TokenPool::builder(grant.clone(), Arc::clone(&store))
            .lease_duration(Duration::from_secs(31))
            .is_err()
    );
    // A grant that does not say: any lease of at least the margin.
    let unknown = Rotating::new(Duration::ZERO);
    assert!(
        TokenManager::builder(unknown.clone(), Arc::clone(&store), "a")
            .lease_duration(Duration::from_secs(1))
            .is_err()
    );
    assert!(
        TokenManager::builder(unknown, store, "a")
            .lease_duration(Duration::from_secs(2))
            .is_ok()
    );
}

#[test]
fn the_http_clients_longest_send_counts_every_attempt_and_wait() {
    use oauth_core::transport::{HttpClient, RetryPolicy};
    let client = HttpClient::builder()
        .timeout(Duration::from_secs(10))
        .retry_policy(RetryPolicy {
            max_attempts: 3,
            base_delay: Duration::from_millis(200),
            max_delay: Duration::from_secs(2),
        })
        .build()
        .unwrap();
    assert_eq!(client.max_send_duration(), Duration::from_secs(34));
    let once = HttpClient::builder()
        .timeout(Duration::from_secs(5))
        .retry_policy(RetryPolicy::none())
        .build()
        .unwrap();
    assert_eq!(once.max_send_duration(), Duration::from_secs(5));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_token_rewritten_by_others_neither_lifts_the_latch_nor_is_spent_again() {
    let grant = Rotating::new(Duration::ZERO);
    let store: Arc<dyn TokenStore> = Arc::new(MemoryStore::new());
    let key = AccountKey::new("rotating", "seller-1");
    let mut set = grant.expired_set("seller-1");
    // The provider no longer knows this refresh token (another process spent
    // it and died before saving its successor).
    grant.valid.lock().unwrap().clear();
    store.save(&key, &set, None).await.unwrap();
    let manager = manager(&grant, &store, "seller-1");
    let error = manager.access_token().await.unwrap_err();
    assert!(error.requires_reauthorization(), "{error:?}");
    assert_eq!(grant.calls(), 1);
    // The refusal released the lease at once: another process gets it.
    let other = LeaseOwner::new("other-process").unwrap();
    let LeaseOutcome::Acquired(lease) = store
        .acquire_lease(&key, &other, Duration::from_secs(60))
        .await
        .unwrap()
    else {
        panic!("the lease is still held after the refusal")
    };
    store.release_lease(&key, &lease).await.unwrap();
    // Other processes try the same dead token and write their "refresh
    // started" records: new versions of the same tokens.
    for _ in 0..3 {
        let stored = store.load(&key).await.unwrap().unwrap();
        set = stored.tokens.clone();
        set.refresh_started = Some(oauth_core::RefreshStarted {
            at: SystemTime::now(),
            fingerprint: oauth_core::RefreshStarted::fingerprint_of(
                set.refresh_token.as_ref().unwrap(),
            ),
            refused_at: None,
        });
        store.save(&key, &set, Some(stored.version)).await.unwrap();
    }
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let again = manager.access_token().await.unwrap_err();
    assert!(again.requires_reauthorization(), "{again:?}");
    assert_eq!(grant.calls(), 1, "the refused token was not spent again");
    // New tokens installed elsewhere do lift it.
    let fresh = grant.expired_set("reinstalled");
    let fresh = TokenSet::new(
        AccessToken::new("at-new"),
        SystemTime::now() + Duration::from_secs(600),
    )
    .with_refresh_token(fresh.refresh_token.unwrap(), None);
    let stored = store.load(&key).await.unwrap().unwrap();
    store
        .save(&key, &fresh, Some(stored.version))
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(
        manager.access_token().await.unwrap().expose_secret(),
        "at-new"
    );
}

/// A store whose "refresh started" save is slow, optionally letting another
/// owner take the (lapsed) lease meanwhile; it counts lease grants.
#[derive(Debug)]
struct SlowMarker {
    inner: MemoryStore,
    pause: Duration,
    thief: Thief,
    grants: AtomicUsize,
}

/// What another process does while the "refresh started" save is slow.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Thief {
    /// Nothing.
    None,
    /// Takes the lapsed lease and keeps it.
    Holds,
    /// Takes the lapsed lease, refreshes (saves a new set under its fence)
    /// and releases it.
    Refreshes,
}

#[async_trait]
impl Script for SlowMarker {
    fn memory(&self) -> &MemoryStore {
        &self.inner
    }
    async fn save_fenced(
        &self,
        key: &AccountKey,
        tokens: &TokenSet,
        expected: Option<u64>,
        fence: u64,
    ) -> Result<oauth_core::lifecycle::SaveOutcome, Error> {
        let outcome = self.inner.save_fenced(key, tokens, expected, fence).await?;
        if tokens.refresh_started.is_some() {
            tokio::time::sleep(self.pause).await;
            if self.thief != Thief::None {
                let thief = LeaseOwner::new("thief").unwrap();
                let taken = self
                    .inner
                    .acquire_lease(key, &thief, Duration::from_secs(60))
                    .await?;
                let LeaseOutcome::Acquired(lease) = taken else {
                    panic!("the lapsed lease is free: {taken:?}")
                };
                if self.thief == Thief::Refreshes {
                    let stored = self.inner.load(key).await?.unwrap();
                    let theirs = TokenSet::new(
                        AccessToken::new("at-thief"),
                        SystemTime::now() + Duration::from_secs(3600),
                    )
                    .with_refresh_token(RefreshToken::new("rt-thief"), None);
                    let saved = self
                        .inner
                        .save_fenced(key, &theirs, Some(stored.version), lease.fence)
                        .await?;
                    assert!(matches!(
                        saved,
                        oauth_core::lifecycle::SaveOutcome::Saved { .. }
                    ));
                    self.inner.release_lease(key, &lease).await?;
                }
            }
        }
        Ok(outcome)
    }
    async fn acquire_lease(
        &self,
        key: &AccountKey,
        owner: &LeaseOwner,
        ttl: Duration,
    ) -> Result<LeaseOutcome, Error> {
        let outcome = self.inner.acquire_lease(key, owner, ttl).await?;
        if matches!(outcome, LeaseOutcome::Acquired(_)) {
            self.grants.fetch_add(1, Ordering::SeqCst);
        }
        Ok(outcome)
    }
}

async fn slow_marker_run(
    thief: Thief,
) -> (
    Arc<Rotating>,
    Arc<Scripted<SlowMarker>>,
    Result<String, Error>,
) {
    let grant = Rotating::new(Duration::ZERO);
    let store = Arc::new(Scripted(SlowMarker {
        inner: MemoryStore::new(),
        // Past half of the 2-second lease; with a thief, past all of it.
        pause: Duration::from_millis(if thief == Thief::None { 1200 } else { 2100 }),
        thief,
        grants: AtomicUsize::new(0),
    }));
    let key = AccountKey::new("rotating", "seller-1");
    store
        .save(&key, &grant.expired_set("seller-1"), None)
        .await
        .unwrap();
    let dyn_store: Arc<dyn TokenStore> = store.clone();
    let manager = TokenManager::builder(grant.clone(), dyn_store, "seller-1")
        .lease_duration(Duration::from_secs(2))
        .unwrap()
        .build();
    let result = manager
        .access_token()
        .await
        .map(|t| t.expose_secret().to_owned());
    (grant, store, result)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lease_worn_down_by_slow_store_writes_is_renewed_before_the_token_is_spent() {
    let (grant, store, result) = slow_marker_run(Thief::None).await;
    assert_eq!(result.unwrap(), "at-1");
    assert_eq!(grant.calls(), 1);
    assert_eq!(
        store.0.grants.load(Ordering::SeqCst),
        2,
        "taken, then renewed"
    );
    let stored = store
        .load(&AccountKey::new("rotating", "seller-1"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.tokens.refresh_token.unwrap().expose_secret(), "rt-1");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lease_lost_before_the_token_is_spent_stops_the_refresh() {
    let (grant, _store, result) = slow_marker_run(Thief::Holds).await;
    let error = result.unwrap_err();
    assert!(matches!(error, Error::StoreBusy { .. }), "{error:?}");
    assert_eq!(grant.calls(), 0, "nothing was spent under a lost lease");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_holder_whose_lapsed_lease_was_used_by_another_adopts_its_set_instead_of_spending() {
    let (grant, _store, result) = slow_marker_run(Thief::Refreshes).await;
    assert_eq!(
        result.unwrap(),
        "at-thief",
        "the other process's set is adopted"
    );
    assert_eq!(
        grant.calls(),
        0,
        "the token the other process spent is not spent again"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_managers_of_one_account_in_one_pool_exclude_each_other() {
    // A pool's account removed and added again while its refresh is in
    // flight: two managers of one account, one lease group.
    let grant = Rotating::new(Duration::from_millis(300));
    let store: Arc<dyn TokenStore> = Arc::new(MemoryStore::new());
    let key = AccountKey::new("rotating", "seller-1");
    store
        .save(&key, &grant.expired_set("seller-1"), None)
        .await
        .unwrap();
    let pool = TokenPool::builder(grant.clone(), Arc::clone(&store)).build();
    let first = pool.add("seller-1");
    let first_call = tokio::spawn(async move { first.access_token().await.map(|_| ()) });
    while grant.calls() == 0 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    pool.remove("seller-1");
    let second = pool.add("seller-1");
    second.access_token().await.unwrap();
    first_call.await.unwrap().unwrap();
    assert_eq!(
        grant.calls(),
        1,
        "one refresh: the second manager waited for the first"
    );
    assert_eq!(grant.refused.load(Ordering::SeqCst), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stopping_the_background_refresh_waits_for_the_refreshes_in_flight() {
    let grant = Rotating::new(Duration::from_millis(400));
    let store: Arc<dyn TokenStore> = Arc::new(MemoryStore::new());
    for i in 0..4 {
        let account = format!("seller-{i}");
        let key = AccountKey::new("rotating", &account);
        store
            .save(&key, &grant.expired_set(&account), None)
            .await
            .unwrap();
    }
    let pool = TokenPool::builder(grant.clone(), Arc::clone(&store))
        .scan_interval(Duration::from_millis(20))
        .build();
    pool.load_accounts().await.unwrap();
    let background = pool.start_background_refresh();
    while grant.calls() < 4 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // Every refresh is now waiting for the provider's answer.
    background.stop().await;
    for i in 0..4 {
        let stored = store
            .load(&AccountKey::new("rotating", format!("seller-{i}")))
            .await
            .unwrap()
            .unwrap();
        assert!(
            stored
                .tokens
                .access_token
                .expose_secret()
                .starts_with("at-")
                && !stored.tokens.access_token.expose_secret().ends_with("-0"),
            "seller-{i}'s refresh was saved before stop returned"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_refresh_token_is_recorded_and_not_presented_again_by_others() {
    let grant = Rotating::new(Duration::ZERO);
    let store: Arc<dyn TokenStore> = Arc::new(MemoryStore::new());
    let key = AccountKey::new("rotating", "seller-1");
    let set = grant.expired_set("seller-1");
    // Spent by a process that died before saving its successor.
    grant.valid.lock().unwrap().clear();
    store.save(&key, &set, None).await.unwrap();
    let first = manager(&grant, &store, "seller-1");
    assert!(
        first
            .access_token()
            .await
            .unwrap_err()
            .requires_reauthorization()
    );
    assert_eq!(grant.calls(), 1);
    let record = store
        .load(&key)
        .await
        .unwrap()
        .unwrap()
        .tokens
        .refresh_started
        .expect("the refusal is recorded");
    assert!(record.refused_at.is_some());
    // Other processes (managers of their own) do not present it again, and
    // say the grant is lost to an interrupted refresh.
    for _ in 0..3 {
        let other = manager(&grant, &store, "seller-1");
        let error = other.access_token().await.unwrap_err();
        assert!(
            matches!(error, Error::RefreshInterrupted { .. }),
            "{error:?}"
        );
    }
    assert_eq!(
        grant.calls(),
        1,
        "the refused token was presented once in all"
    );
    assert_eq!(grant.refused.load(Ordering::SeqCst), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forced_refresh_by_a_manager_that_holds_no_token_yet_refreshes() {
    // The CLI's `refresh`: a new manager, the stored token still valid.
    let grant = Rotating::new(Duration::ZERO);
    let store: Arc<dyn TokenStore> = Arc::new(MemoryStore::new());
    let key = AccountKey::new("rotating", "seller-1");
    let mut valid = grant.expired_set("seller-1");
    valid.expires_at = SystemTime::now() + Duration::from_secs(3600);
    store.save(&key, &valid, None).await.unwrap();
    let fresh = manager(&grant, &store, "seller-1");
    let token = fresh.force_refresh().await.unwrap();
    assert_eq!(
        token.expose_secret(),
        "at-1",
        "a new token, not the stored one"
    );
    assert_eq!(grant.calls(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forced_refresh_waiting_for_a_lease_is_not_answered_by_the_set_it_replaces() {
    // The next process after a crash: the dead holder's lease is still
    // held, and the stored set is the one to replace.
    let grant = Rotating::new(Duration::ZERO);
    let store: Arc<dyn TokenStore> = Arc::new(MemoryStore::new());
    let key = AccountKey::new("rotating", "seller-1");
    let mut valid = grant.expired_set("seller-1");
    valid.expires_at = SystemTime::now() + Duration::from_secs(3600);
    store.save(&key, &valid, None).await.unwrap();
    let dead = LeaseOwner::new("dead-process").unwrap();
    store
        .acquire_lease(&key, &dead, Duration::from_millis(500))
        .await
        .unwrap();
    let fresh = manager(&grant, &store, "seller-1");
    let token = fresh.force_refresh().await.unwrap();
    assert_eq!(
        token.expose_secret(),
        "at-1",
        "a new token after the lease lapsed"
    );
    assert_eq!(grant.calls(), 1);
}

/// A store whose first lease request finds the lease held by a holder that
/// saves a fresh set at that very moment, then releases it.
#[derive(Debug)]
struct SavedBeforeWeLooked {
    inner: MemoryStore,
    first: Mutex<bool>,
}

#[async_trait]
impl Script for SavedBeforeWeLooked {
    fn memory(&self) -> &MemoryStore {
        &self.inner
    }
    async fn save_fenced(
        &self,
        key: &AccountKey,
        tokens: &TokenSet,
        expected: Option<u64>,
        fence: u64,
    ) -> Result<oauth_core::lifecycle::SaveOutcome, Error> {
        self.inner.save_fenced(key, tokens, expected, fence).await
    }
    async fn acquire_lease(
        &self,
        key: &AccountKey,
        owner: &LeaseOwner,
        ttl: Duration,
    ) -> Result<LeaseOutcome, Error> {
        if std::mem::take(&mut *self.first.lock().unwrap()) {
            let stored = self.inner.load(key).await?.unwrap();
            let theirs = TokenSet::new(
                AccessToken::new("at-holder"),
                SystemTime::now() + Duration::from_secs(3600),
            )
            .with_refresh_token(RefreshToken::new("rt-holder"), None);
            self.inner.save(key, &theirs, Some(stored.version)).await?;
            return Ok(LeaseOutcome::Held {
                expires_at: SystemTime::now(),
            });
        }
        self.inner.acquire_lease(key, owner, ttl).await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_set_the_holder_saved_before_we_first_looked_is_used_not_refreshed_again() {
    // A new process (the CLI's `token`) on an expired token, while another
    // one finishes its refresh.
    let grant = Rotating::new(Duration::ZERO);
    let store = Arc::new(Scripted(SavedBeforeWeLooked {
        inner: MemoryStore::new(),
        first: Mutex::new(true),
    }));
    let key = AccountKey::new("rotating", "seller-1");
    store
        .save(&key, &grant.expired_set("seller-1"), None)
        .await
        .unwrap();
    let dyn_store: Arc<dyn TokenStore> = store.clone();
    let fresh = manager(&grant, &dyn_store, "seller-1");
    let token = fresh.access_token().await.unwrap();
    assert_eq!(token.expose_secret(), "at-holder");
    assert_eq!(grant.calls(), 0, "the holder's fresh set needs no refresh");
}

/// A `MemoryStore` that counts the lease requests it gets.
#[derive(Debug, Default)]
struct CountsLeases {
    memory: MemoryStore,
    leases: AtomicUsize,
}

#[async_trait]
impl Script for CountsLeases {
    fn memory(&self) -> &MemoryStore {
        &self.memory
    }

    async fn acquire_lease(
        &self,
        key: &AccountKey,
        owner: &LeaseOwner,
        ttl: Duration,
    ) -> Result<LeaseOutcome, Error> {
        self.leases.fetch_add(1, Ordering::SeqCst);
        self.memory.acquire_lease(key, owner, ttl).await
    }
}

#[tokio::test]
async fn a_fresh_stored_set_is_loaded_without_the_lease_and_a_due_one_with_it() {
    let grant = Rotating::new(Duration::ZERO);
    let store = Arc::new(Scripted(CountsLeases::default()));
    let dyn_store: Arc<dyn TokenStore> = store.clone();
    let fresh = TokenSet::new(
        AccessToken::new("at-fresh"),
        SystemTime::now() + Duration::from_secs(3600),
    )
    .with_refresh_token(RefreshToken::new("rt-fresh"), None);
    for account in ["seller-1", "seller-2"] {
        store
            .save(&AccountKey::new("rotating", account), &fresh, None)
            .await
            .unwrap();
    }
    store
        .save(
            &AccountKey::new("rotating", "seller-3"),
            &grant.expired_set("seller-3"),
            None,
        )
        .await
        .unwrap();

    // A manager's first call (a restart) and a pool's (accounts loaded on
    // demand): the fresh stored set, no lease, no refresh.
    let token = manager(&grant, &dyn_store, "seller-1")
        .access_token()
        .await
        .unwrap();
    assert_eq!(token.expose_secret(), "at-fresh");
    let pool = TokenPool::builder(grant.clone(), Arc::clone(&dyn_store)).build();
    let token = pool.access_token("seller-2").await.unwrap();
    assert_eq!(token.expose_secret(), "at-fresh");
    assert_eq!(store.0.leases.load(Ordering::SeqCst), 0, "no lease taken");
    assert_eq!(grant.calls(), 0);

    // A due one is refreshed under the lease, once.
    let token = pool.access_token("seller-3").await.unwrap();
    assert_eq!(token.expose_secret(), "at-1");
    assert_eq!(store.0.leases.load(Ordering::SeqCst), 1, "one lease taken");
    assert_eq!(grant.calls(), 1);
    let stored = store
        .load(&AccountKey::new("rotating", "seller-3"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.tokens.access_token.expose_secret(), "at-1");
}

/// A `MemoryStore` whose next `load` reads, then waits for a go-ahead
/// before answering (another call acts in between).
#[derive(Debug, Default)]
struct HeldLoad {
    memory: MemoryStore,
    hold_next: std::sync::atomic::AtomicBool,
    reading: tokio::sync::Notify,
    go: tokio::sync::Notify,
}

#[async_trait]
impl TokenStore for HeldLoad {
    async fn load(
        &self,
        key: &AccountKey,
    ) -> Result<Option<oauth_core::lifecycle::Versioned>, Error> {
        let read = self.memory.load(key).await;
        if self.hold_next.swap(false, Ordering::SeqCst) {
            self.reading.notify_one();
            self.go.notified().await;
        }
        read
    }
    async fn save(
        &self,
        key: &AccountKey,
        tokens: &TokenSet,
        expected: Option<u64>,
    ) -> Result<oauth_core::lifecycle::SaveOutcome, Error> {
        self.memory.save(key, tokens, expected).await
    }
    async fn delete(&self, key: &AccountKey) -> Result<(), Error> {
        self.memory.delete(key).await
    }
    async fn list_accounts(
        &self,
        provider: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<String>, Error> {
        self.memory.list_accounts(provider, after, limit).await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_installed_while_a_first_call_reads_the_store_are_kept() {
    let grant = Rotating::new(Duration::ZERO);
    let store = Arc::new(HeldLoad::default());
    let dyn_store: Arc<dyn TokenStore> = store.clone();
    let key = AccountKey::new("rotating", "seller-1");
    let old = TokenSet::new(
        AccessToken::new("at-old"),
        SystemTime::now() + Duration::from_secs(3600),
    )
    .with_refresh_token(RefreshToken::new("rt-old"), None);
    store.save(&key, &old, None).await.unwrap();
    let manager = manager(&grant, &dyn_store, "seller-1");

    // The first call reads the old set, and is held before it publishes.
    store.hold_next.store(true, Ordering::SeqCst);
    let reading = store.reading.notified();
    let first = tokio::spawn({
        let manager = manager.clone();
        async move {
            manager
                .access_token()
                .await
                .map(|t| t.expose_secret().to_owned())
        }
    });
    reading.await;
    // Meanwhile the seller reconnects: new tokens installed.
    let new = TokenSet::new(
        AccessToken::new("at-new"),
        SystemTime::now() + Duration::from_secs(3600),
    )
    .with_refresh_token(RefreshToken::new("rt-new"), None);
    manager.install(new).await.unwrap();
    store.go.notify_one();

    assert_eq!(first.await.unwrap().unwrap(), "at-new");
    assert_eq!(
        manager.access_token().await.unwrap().expose_secret(),
        "at-new",
        "the installed set was not replaced by the older one read before it"
    );
    assert_eq!(grant.calls(), 0);
}
