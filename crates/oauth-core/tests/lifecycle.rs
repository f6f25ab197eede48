//! The token lifecycle, deterministic: a manual clock and a loopback
//! token endpoint (httpmock) whose hit count is the number of refreshes.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use httpmock::prelude::*;
use oauth_core::lifecycle::{SaveOutcome, Versioned};
use oauth_core::{
    AccessToken, AccountKey, Error, FileStore, HttpClient, ManualClock, MemoryStore, Params,
    RefreshGrant, RefreshToken, RetryPolicy, TokenEventKind, TokenManager, TokenPool, TokenRequest,
    TokenSet, TokenStore, async_trait, from_unix_millis,
};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, SystemTime};
use url::Url;

const T0: u64 = 1_800_000_000_000;

fn at(offset_secs: u64) -> SystemTime {
    from_unix_millis(T0 + offset_secs * 1000)
}

/// A minimal RFC 6749 refresh grant against the mock server.
#[derive(Debug)]
struct TestGrant {
    http: HttpClient,
    url: Url,
    clock: ManualClock,
    rotates: bool,
}

#[async_trait]
impl RefreshGrant for TestGrant {
    fn provider(&self) -> &'static str {
        "test"
    }

    async fn refresh(&self, current: &TokenSet) -> Result<TokenSet, Error> {
        let refresh_token = current
            .refresh_token
            .as_ref()
            .map(RefreshToken::expose_secret)
            .unwrap_or("");
        let request = TokenRequest::post("test", "refresh_token", self.url.clone()).form(
            Params::new()
                .plain("grant_type", "refresh_token")
                .secret("refresh_token", refresh_token),
        );
        let response = self.http.send(&request).await?;
        if !response.is_success() {
            return Err(oauth_core::transport::classify::oauth_error(
                &response,
                &current.scopes,
            ));
        }
        #[derive(serde::Deserialize)]
        struct Body {
            access_token: String,
            expires_in: u64,
            refresh_token: Option<String>,
        }
        let body: Body = response.json()?;
        let now = oauth_core::Clock::now(&self.clock);
        let mut set = TokenSet::new(
            AccessToken::new(body.access_token),
            now + Duration::from_secs(body.expires_in),
        );
        if let Some(rt) = body.refresh_token {
            set = set.with_refresh_token(RefreshToken::new(rt), None);
        }
        Ok(set.merge_previous(current))
    }

    fn rotates_refresh_token(&self) -> bool {
        self.rotates
    }
}

struct Fixture {
    server: MockServer,
    clock: ManualClock,
    store: Arc<MemoryStore>,
}

impl Fixture {
    async fn new() -> Self {
        Self {
            server: MockServer::start_async().await,
            clock: ManualClock::new(at(0)),
            store: Arc::new(MemoryStore::new()),
        }
    }

    fn grant(&self) -> Arc<TestGrant> {
        Arc::new(TestGrant {
            http: HttpClient::builder()
                .retry_policy(RetryPolicy::none())
                .build()
                .unwrap(),
            url: Url::parse(&self.server.url("/token")).unwrap(),
            clock: self.clock.clone(),
            rotates: true,
        })
    }

    fn manager_with_store(&self, store: Arc<dyn TokenStore>) -> TokenManager {
        TokenManager::builder(self.grant(), store, "seller-1")
            .clock(Arc::new(self.clock.clone()))
            .skew(Duration::from_secs(60))
            .build()
    }

    fn manager(&self) -> TokenManager {
        self.manager_with_store(self.store.clone())
    }

    async fn token_endpoint(
        &self,
        access: &str,
        refresh: &str,
        delay_ms: u64,
    ) -> httpmock::Mock<'_> {
        let body = format!(
            r#"{{"access_token":"{access}","expires_in":3600,"refresh_token":"{refresh}"}}"#
        );
        self.server
            .mock_async(|when, then| {
                when.method(POST).path("/token");
                then.status(200)
                    .header("content-type", "application/json")
                    .delay(Duration::from_millis(delay_ms))
                    .body(body);
            })
            .await
    }
}

fn tokens(access: &str, refresh: &str, expires_at: SystemTime) -> TokenSet {
    TokenSet::new(AccessToken::new(access), expires_at)
        .with_refresh_token(RefreshToken::new(refresh), None)
}

fn key() -> AccountKey {
    AccountKey::new("test", "seller-1")
}

#[tokio::test]
async fn skew_boundaries() {
    let f = Fixture::new().await;
    let mock = f.token_endpoint("AT-2", "RT-2", 0).await;
    let manager = f.manager();
    manager
        .install(tokens("AT-1", "RT-1", at(1000)))
        .await
        .unwrap();

    f.clock.set(at(1000 - 61));
    assert_eq!(
        manager.access_token().await.unwrap().expose_secret(),
        "AT-1"
    );
    f.clock.set(at(1000 - 60) - Duration::from_millis(1));
    assert_eq!(
        manager.access_token().await.unwrap().expose_secret(),
        "AT-1"
    );
    assert_eq!(mock.calls_async().await, 0);

    f.clock.set(at(1000 - 60));
    assert_eq!(
        manager.access_token().await.unwrap().expose_secret(),
        "AT-2"
    );
    assert_eq!(mock.calls_async().await, 1);
    // The new token is fresh: no further request.
    assert_eq!(
        manager.access_token().await.unwrap().expose_secret(),
        "AT-2"
    );
    assert_eq!(mock.calls_async().await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_concurrent_callers_cause_one_request() {
    let f = Fixture::new().await;
    let mock = f.token_endpoint("AT-2", "RT-2", 100).await;
    let manager = f.manager();
    manager
        .install(tokens("AT-1", "RT-1", at(10)))
        .await
        .unwrap();
    f.clock.set(at(20));

    let mut tasks = Vec::new();
    for _ in 0..1000 {
        let manager = manager.clone();
        tasks.push(tokio::spawn(async move { manager.access_token().await }));
    }
    for task in tasks {
        assert_eq!(task.await.unwrap().unwrap().expose_secret(), "AT-2");
    }
    assert_eq!(mock.calls_async().await, 1);
    let stored = f.store.load(&key()).await.unwrap().unwrap();
    assert_eq!(stored.tokens.refresh_token.unwrap().expose_secret(), "RT-2");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropping_the_triggering_caller_does_not_abort_the_refresh() {
    let f = Fixture::new().await;
    let mock = f.token_endpoint("AT-2", "RT-2", 300).await;
    let manager = f.manager();
    manager
        .install(tokens("AT-1", "RT-1", at(10)))
        .await
        .unwrap();
    f.clock.set(at(20));

    let first = {
        let manager = manager.clone();
        tokio::spawn(async move { manager.access_token().await })
    };
    // Wait until the request reached the server, then cancel the caller.
    while mock.calls_async().await == 0 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    first.abort();
    assert!(first.await.unwrap_err().is_cancelled());

    let second = manager.access_token().await.unwrap();
    assert_eq!(second.expose_secret(), "AT-2");
    assert_eq!(mock.calls_async().await, 1);
    let stored = f.store.load(&key()).await.unwrap().unwrap();
    assert_eq!(stored.tokens.access_token.expose_secret(), "AT-2");
    assert_eq!(stored.tokens.refresh_token.unwrap().expose_secret(), "RT-2");
}

/// A store whose saves can be made to fail.
#[derive(Debug, Default)]
struct FlakyStore {
    inner: MemoryStore,
    fail_saves: AtomicBool,
    /// While failing: this many more saves still succeed first.
    grace_saves: AtomicUsize,
    save_attempts: AtomicUsize,
}

#[async_trait]
impl TokenStore for FlakyStore {
    async fn load(&self, key: &AccountKey) -> Result<Option<Versioned>, Error> {
        self.inner.load(key).await
    }

    async fn save(
        &self,
        key: &AccountKey,
        tokens: &TokenSet,
        expected: Option<u64>,
    ) -> Result<SaveOutcome, Error> {
        self.save_attempts.fetch_add(1, Ordering::SeqCst);
        let graced = self
            .grace_saves
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok();
        if self.fail_saves.load(Ordering::SeqCst) && !graced {
            return Err(Error::Store {
                message: "disk full".into(),
            });
        }
        self.inner.save(key, tokens, expected).await
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
}

#[tokio::test]
async fn a_failed_save_keeps_the_tokens_and_is_retried_before_anything_is_served() {
    let f = Fixture::new().await;
    let mock = f.token_endpoint("AT-2", "RT-2", 0).await;
    let store = Arc::new(FlakyStore::default());
    let manager = f.manager_with_store(store.clone());
    manager
        .install(tokens("AT-1", "RT-1", at(10)))
        .await
        .unwrap();
    let mut events = manager.subscribe();
    f.clock.set(at(20));

    // The pre-refresh write check passes, the save of the rotated set fails.
    store.grace_saves.store(1, Ordering::SeqCst);
    store.fail_saves.store(true, Ordering::SeqCst);
    let err = manager.access_token().await.unwrap_err();
    assert!(matches!(err, Error::Store { .. }), "{err:?}");
    assert_eq!(mock.calls_async().await, 1);
    assert_eq!(
        events.recv().await.unwrap().kind,
        TokenEventKind::SaveFailed
    );
    // Still failing: the save is retried, no new refresh request is made.
    let attempts = store.save_attempts.load(Ordering::SeqCst);
    assert!(manager.access_token().await.is_err());
    assert!(store.save_attempts.load(Ordering::SeqCst) > attempts);
    assert_eq!(mock.calls_async().await, 1);

    store.fail_saves.store(false, Ordering::SeqCst);
    let handle = manager.access_token().await.unwrap();
    assert_eq!(handle.expose_secret(), "AT-2");
    assert_eq!(
        mock.calls_async().await,
        1,
        "the rotated refresh token was reused, not re-requested"
    );
    let stored = store.load(&key()).await.unwrap().unwrap();
    assert_eq!(stored.tokens.refresh_token.unwrap().expose_secret(), "RT-2");
}

#[tokio::test]
async fn an_unwritable_store_stops_a_rotating_refresh_before_the_request() {
    let f = Fixture::new().await;
    let mock = f.token_endpoint("AT-2", "RT-2", 0).await;
    let store = Arc::new(FlakyStore::default());
    let manager = f.manager_with_store(store.clone());
    manager
        .install(tokens("AT-1", "RT-1", at(10)))
        .await
        .unwrap();
    f.clock.set(at(20));
    store.fail_saves.store(true, Ordering::SeqCst);
    let err = manager.access_token().await.unwrap_err();
    assert!(matches!(err, Error::Store { .. }), "{err:?}");
    // The single-use refresh token was not spent.
    assert_eq!(mock.calls_async().await, 0);
    store.fail_saves.store(false, Ordering::SeqCst);
    assert_eq!(
        manager.access_token().await.unwrap().expose_secret(),
        "AT-2"
    );
    assert_eq!(mock.calls_async().await, 1);
}

#[tokio::test]
async fn a_latch_is_lifted_by_tokens_installed_by_another_manager() {
    let f = Fixture::new().await;
    f.server
        .mock_async(|when, then| {
            when.method(POST).path("/token");
            then.status(400)
                .header("content-type", "application/json")
                .body(r#"{"error":"invalid_grant"}"#);
        })
        .await;
    let worker = f.manager();
    // Nothing installed yet: latched.
    assert!(
        worker
            .access_token()
            .await
            .unwrap_err()
            .requires_reauthorization()
    );
    // The web instance handles the callback and installs into the shared store.
    let web = f.manager();
    web.install(tokens("AT-9", "RT-9", at(5000))).await.unwrap();
    // Within the recheck interval the latch holds; after it, the store is read.
    assert!(worker.access_token().await.is_err());
    f.clock.advance(Duration::from_secs(2));
    assert_eq!(worker.access_token().await.unwrap().expose_secret(), "AT-9");
}

#[tokio::test]
async fn reauthorization_latches_until_new_tokens_are_installed() {
    let f = Fixture::new().await;
    let denied = f
        .server
        .mock_async(|when, then| {
            when.method(POST)
                .path("/token")
                .body_includes("refresh_token=RT-1");
            then.status(400)
                .header("content-type", "application/json")
                .body(r#"{"error":"invalid_grant","error_description":"revoked"}"#);
        })
        .await;
    let manager = f.manager();
    manager
        .install(tokens("AT-1", "RT-1", at(10)))
        .await
        .unwrap();
    f.clock.set(at(20));
    for _ in 0..5 {
        let err = manager.access_token().await.unwrap_err();
        assert!(err.requires_reauthorization(), "{err:?}");
    }
    assert_eq!(denied.calls_async().await, 1);

    manager
        .install(tokens("AT-9", "RT-9", at(5000)))
        .await
        .unwrap();
    assert_eq!(
        manager.access_token().await.unwrap().expose_secret(),
        "AT-9"
    );
    assert_eq!(denied.calls_async().await, 1);
}

#[tokio::test]
async fn a_transient_failure_serves_the_still_valid_token_and_backs_off() {
    let f = Fixture::new().await;
    let failing = f
        .server
        .mock_async(|when, then| {
            when.method(POST).path("/token");
            then.status(503).body("<html>down</html>");
        })
        .await;
    let manager = f.manager();
    manager
        .install(tokens("AT-1", "RT-1", at(100)))
        .await
        .unwrap();
    f.clock.set(at(50)); // within the 60 s skew, still valid
    assert_eq!(
        manager.access_token().await.unwrap().expose_secret(),
        "AT-1"
    );
    assert_eq!(failing.calls_async().await, 1);
    // During the backoff: the old token, no request.
    assert_eq!(
        manager.access_token().await.unwrap().expose_secret(),
        "AT-1"
    );
    assert_eq!(failing.calls_async().await, 1);
    // After the backoff (at most 1 s for the first failure): one retry.
    f.clock.advance(Duration::from_secs(2));
    assert_eq!(
        manager.access_token().await.unwrap().expose_secret(),
        "AT-1"
    );
    assert_eq!(failing.calls_async().await, 2);
    // A forced refresh reports the failure instead of the old token.
    f.clock.advance(Duration::from_secs(4));
    let err = manager.force_refresh().await.unwrap_err();
    assert!(err.is_retryable(), "{err:?}");
    assert_eq!(failing.calls_async().await, 3);
    // Once expired, the error itself comes back.
    f.clock.set(at(200));
    let err = manager.access_token().await.unwrap_err();
    assert!(err.is_retryable(), "{err:?}");
}

#[tokio::test]
async fn a_newer_stored_set_is_adopted_without_a_request() {
    let f = Fixture::new().await;
    let mock = f.token_endpoint("AT-X", "RT-X", 0).await;
    let manager = f.manager();
    manager
        .install(tokens("AT-1", "RT-1", at(10)))
        .await
        .unwrap();
    let mut events = manager.subscribe();
    // Another process refreshed and saved (version 2).
    let other = f
        .store
        .save(&key(), &tokens("AT-2", "RT-2", at(4000)), Some(1))
        .await
        .unwrap();
    assert_eq!(other, SaveOutcome::Saved { version: 2 });
    f.clock.set(at(20));
    assert_eq!(
        manager.access_token().await.unwrap().expose_secret(),
        "AT-2"
    );
    assert_eq!(mock.calls_async().await, 0);
    assert!(matches!(
        events.recv().await.unwrap().kind,
        TokenEventKind::Adopted { .. }
    ));
}

#[tokio::test]
async fn no_tokens_means_reauthorization_unless_the_grant_can_fetch() {
    let f = Fixture::new().await;
    let manager = f.manager();
    let err = manager.access_token().await.unwrap_err();
    assert!(err.requires_reauthorization(), "{err:?}");

    #[derive(Debug)]
    struct AppGrant(AtomicUsize);
    #[async_trait]
    impl RefreshGrant for AppGrant {
        fn provider(&self) -> &'static str {
            "app"
        }
        async fn refresh(&self, _current: &TokenSet) -> Result<TokenSet, Error> {
            self.fetch_initial().await.unwrap()
        }
        fn rotates_refresh_token(&self) -> bool {
            false
        }
        async fn fetch_initial(&self) -> Option<Result<TokenSet, Error>> {
            let n = self.0.fetch_add(1, Ordering::SeqCst);
            Some(Ok(TokenSet::new(
                AccessToken::new(format!("APP-{n}")),
                at(7200),
            )))
        }
    }
    let grant = Arc::new(AppGrant(AtomicUsize::new(0)));
    let manager = TokenManager::builder(grant.clone(), Arc::new(MemoryStore::new()), "app")
        .clock(Arc::new(f.clock.clone()))
        .build();
    assert_eq!(
        manager.access_token().await.unwrap().expose_secret(),
        "APP-0"
    );
    assert_eq!(
        manager.access_token().await.unwrap().expose_secret(),
        "APP-0"
    );
    f.clock.set(at(7200 - 30));
    assert_eq!(
        manager.access_token().await.unwrap().expose_secret(),
        "APP-1"
    );
}

#[tokio::test]
async fn an_expired_refresh_token_latches_without_a_request() {
    let f = Fixture::new().await;
    let mock = f.token_endpoint("AT-2", "RT-2", 0).await;
    let manager = f.manager();
    let set = TokenSet::new(AccessToken::new("AT-1"), at(10))
        .with_refresh_token(RefreshToken::new("RT-1"), Some(at(15)));
    manager.install(set).await.unwrap();
    f.clock.set(at(20));
    assert!(
        manager
            .access_token()
            .await
            .unwrap_err()
            .requires_reauthorization()
    );
    assert_eq!(mock.calls_async().await, 0);
}

#[tokio::test]
async fn invalidate_forces_a_refresh_of_a_rejected_token() {
    let f = Fixture::new().await;
    let mock = f.token_endpoint("AT-2", "RT-2", 0).await;
    let manager = f.manager();
    let handle = manager
        .install(tokens("AT-1", "RT-1", at(5000)))
        .await
        .unwrap();
    manager.invalidate(&handle);
    assert_eq!(
        manager.access_token().await.unwrap().expose_secret(),
        "AT-2"
    );
    // Invalidating an old handle does nothing.
    manager.invalidate(&handle);
    assert_eq!(
        manager.access_token().await.unwrap().expose_secret(),
        "AT-2"
    );
    assert_eq!(mock.calls_async().await, 1);
}

#[tokio::test]
async fn file_store_round_trip_mode_and_conflicts() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tokens.json");
    let store = FileStore::new(&path);
    let k = key();
    assert_eq!(store.load(&k).await.unwrap(), None);
    assert_eq!(
        store
            .save(&k, &tokens("AT-1", "RT-1", at(10)), None)
            .await
            .unwrap(),
        SaveOutcome::Saved { version: 1 }
    );
    let other = AccountKey::new("test", "seller-2");
    store
        .save(&other, &tokens("AT-B", "RT-B", at(10)), None)
        .await
        .unwrap();
    // A stale writer loses.
    match store
        .save(&k, &tokens("AT-0", "RT-0", at(10)), None)
        .await
        .unwrap()
    {
        SaveOutcome::Conflict {
            current: Some(current),
        } => assert_eq!(current.version, 1),
        other => panic!("{other:?}"),
    }
    let loaded = store.load(&k).await.unwrap().unwrap();
    assert_eq!(loaded.tokens.access_token.expose_secret(), "AT-1");
    assert_eq!(store.load(&other).await.unwrap().unwrap().version, 1);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
    store.delete(&k).await.unwrap();
    assert_eq!(store.load(&k).await.unwrap(), None);
}

#[tokio::test]
async fn file_store_survives_a_crash_between_write_and_rename() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tokens.json");
    let store = FileStore::new(&path);
    store
        .save(&key(), &tokens("AT-1", "RT-1", at(10)), None)
        .await
        .unwrap();
    // A crash after writing (part of) the temp file, before the rename:
    std::fs::write(
        dir.path().join(".tokens.json.999.0.tmp"),
        br#"{"format":1,"accounts":{"test/sel"#,
    )
    .unwrap();
    let loaded = store.load(&key()).await.unwrap().unwrap();
    assert_eq!(loaded.tokens.access_token.expose_secret(), "AT-1");
    assert_eq!(
        store
            .save(&key(), &tokens("AT-2", "RT-2", at(10)), Some(1))
            .await
            .unwrap(),
        SaveOutcome::Saved { version: 2 }
    );
    assert_eq!(
        store
            .load(&key())
            .await
            .unwrap()
            .unwrap()
            .tokens
            .access_token
            .expose_secret(),
        "AT-2"
    );
    // The next save removed the dead writer's temp file (it held tokens).
    assert!(!dir.path().join(".tokens.json.999.0.tmp").exists());
}

#[tokio::test]
async fn a_corrupt_file_is_reported_never_overwritten() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tokens.json");
    std::fs::write(&path, b"{ not json").unwrap();
    let store = FileStore::new(&path);
    let err = store.load(&key()).await.unwrap_err();
    assert!(
        matches!(err, Error::Store { .. }) && err.to_string().contains("corrupt"),
        "{err}"
    );
    assert!(
        store
            .save(&key(), &tokens("AT-1", "RT-1", at(10)), None)
            .await
            .is_err()
    );
    assert_eq!(std::fs::read(&path).unwrap(), b"{ not json");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn several_managers_share_one_file_without_losing_a_rotation() {
    let f = Fixture::new().await;
    let mock = f.token_endpoint("AT-2", "RT-2", 50).await;
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn TokenStore> = Arc::new(FileStore::new(dir.path().join("tokens.json")));
    let first = f.manager_with_store(store.clone());
    first.install(tokens("AT-1", "RT-1", at(10))).await.unwrap();
    let second = f.manager_with_store(store.clone());
    f.clock.set(at(20));
    assert_eq!(first.access_token().await.unwrap().expose_secret(), "AT-2");
    // The second manager finds the rotated set in the file: no request.
    assert_eq!(second.access_token().await.unwrap().expose_secret(), "AT-2");
    assert_eq!(mock.calls_async().await, 1);
}

/// A grant that records how many refreshes run at once.
#[derive(Debug, Default)]
struct CountingGrant {
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
    calls: AtomicUsize,
}

#[async_trait]
impl RefreshGrant for CountingGrant {
    fn provider(&self) -> &'static str {
        "count"
    }
    async fn refresh(&self, current: &TokenSet) -> Result<TokenSet, Error> {
        let now = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        self.max_in_flight.fetch_max(now, Ordering::SeqCst);
        self.calls.fetch_add(1, Ordering::SeqCst);
        tokio::time::sleep(Duration::from_millis(5)).await;
        self.in_flight.fetch_sub(1, Ordering::SeqCst);
        Ok(TokenSet::new(
            AccessToken::new("new"),
            current.expires_at + Duration::from_secs(7200),
        )
        .merge_previous(current))
    }
    fn rotates_refresh_token(&self) -> bool {
        false
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pool_spreads_refreshes_and_caps_concurrency() {
    let clock = ManualClock::new(at(0));
    let grant = Arc::new(CountingGrant::default());
    let pool = TokenPool::builder(grant.clone(), Arc::new(MemoryStore::new()))
        .clock(Arc::new(clock.clone()))
        .skew(Duration::from_secs(60))
        .proactive_window(Duration::from_secs(600))
        .max_concurrent_refreshes(4)
        .build();
    for i in 0..200 {
        pool.install(&format!("acct-{i}"), tokens("old", "rt", at(3600)))
            .await
            .unwrap();
    }
    // Far from expiry: nothing is due.
    clock.set(at(3600 - 60 - 601));
    assert_eq!(pool.refresh_due().await, 0);
    // Partway into the window: only some accounts are due (spread).
    clock.set(at(3600 - 60 - 300));
    let some = pool.refresh_due().await;
    assert!(some > 20 && some < 180, "{some}");
    wait_for_calls(&grant, some).await;
    // All expire together: every remaining one is due, at most 4 at once.
    clock.set(at(3600));
    let rest = pool.refresh_due().await;
    assert_eq!(some + rest, 200);
    wait_for_calls(&grant, 200).await;
    assert_eq!(grant.calls.load(Ordering::SeqCst), 200);
    assert_eq!(grant.max_in_flight.load(Ordering::SeqCst), 4);
    assert_eq!(
        pool.access_token("acct-7").await.unwrap().expose_secret(),
        "new"
    );
}

async fn wait_for_calls(grant: &CountingGrant, calls: usize) {
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while grant.calls.load(Ordering::SeqCst) < calls || grant.in_flight.load(Ordering::SeqCst) > 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "only {} refreshes",
            grant.calls.load(Ordering::SeqCst)
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}
