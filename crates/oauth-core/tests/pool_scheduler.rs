//! The pool's refresh queue: only due accounts are visited and refreshed,
//! refreshed accounts are queued again for their new token, failures are
//! retried after a scan interval, removed accounts and tokens refreshed on
//! demand are not refreshed again.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use oauth_core::{
    AccessToken, AccountKey, Clock, Error, ManualClock, MemoryStore, ProviderDetails, RefreshGrant,
    RefreshToken, TokenPool, TokenSet, TokenStore, TransientCause, async_trait, from_unix_millis,
};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, SystemTime};

const T0: u64 = 1_800_000_000_000;

fn at(offset_s: u64) -> SystemTime {
    from_unix_millis(T0 + offset_s * 1000)
}

/// Issues one-hour tokens, counting requests; fails while `failing`.
#[derive(Debug)]
struct Grant {
    clock: ManualClock,
    calls: AtomicUsize,
    failing: AtomicBool,
}

#[async_trait]
impl RefreshGrant for Grant {
    fn provider(&self) -> &'static str {
        "sched"
    }

    async fn refresh(&self, current: &TokenSet) -> Result<TokenSet, Error> {
        let n = self.calls.fetch_add(1, Ordering::SeqCst);
        if self.failing.load(Ordering::SeqCst) {
            return Err(Error::Transient {
                cause: TransientCause::ServerError,
                retry_after: None,
                details: ProviderDetails::new("sched").with_status(503),
            });
        }
        let now = self.clock.now();
        Ok(TokenSet::new(
            AccessToken::new(format!("new-{n}")),
            now + Duration::from_secs(3600),
        )
        .merge_previous(current))
    }

    fn rotates_refresh_token(&self) -> bool {
        false
    }
}

struct Fixture {
    clock: ManualClock,
    grant: Arc<Grant>,
    store: Arc<MemoryStore>,
    pool: TokenPool,
}

impl Fixture {
    fn new() -> Self {
        let clock = ManualClock::new(at(0));
        let grant = Arc::new(Grant {
            clock: clock.clone(),
            calls: AtomicUsize::new(0),
            failing: AtomicBool::new(false),
        });
        let store = Arc::new(MemoryStore::new());
        let pool = TokenPool::builder(grant.clone(), store.clone())
            .clock(Arc::new(clock.clone()))
            .skew(Duration::from_secs(60))
            .proactive_window(Duration::ZERO)
            .scan_interval(Duration::from_secs(1))
            .build();
        Self {
            clock,
            grant,
            store,
            pool,
        }
    }

    /// Installs `account` with a token issued an hour ago, expiring at
    /// `expires_at`.
    async fn install(&self, account: &str, expires_at: SystemTime) {
        let tokens = TokenSet::new(AccessToken::new(format!("old-{account}")), expires_at)
            .with_refresh_token(RefreshToken::new("rt"), None)
            .with_issued_at(at(0) - Duration::from_secs(3600));
        self.pool.install(account, tokens).await.unwrap();
    }

    fn calls(&self) -> usize {
        self.grant.calls.load(Ordering::SeqCst)
    }

    /// Runs one pass and lets its refreshes finish.
    async fn pass(&self) -> usize {
        let started = self.pool.refresh_due().await;
        for _ in 0..100 {
            tokio::task::yield_now().await;
        }
        started
    }
}

#[tokio::test(flavor = "current_thread")]
async fn only_due_accounts_are_refreshed_then_queued_for_their_new_token() {
    let f = Fixture::new();
    for i in 0..1_000 {
        // Ten accounts expire in 30 s (within the 60 s skew), the others in
        // two hours.
        let expires = if i % 100 == 0 { at(30) } else { at(7_200) };
        f.install(&format!("seller-{i:04}"), expires).await;
    }
    assert_eq!(f.pass().await, 10);
    assert_eq!(f.calls(), 10);
    let refreshed = f.pool.get("seller-0100").unwrap().current().unwrap();
    assert!(refreshed.expose_secret().starts_with("new-"));
    let untouched = f.pool.get("seller-0101").unwrap().current().unwrap();
    assert_eq!(untouched.expose_secret(), "old-seller-0101");
    // Nothing is due any more.
    assert_eq!(f.pass().await, 0);
    assert_eq!(f.calls(), 10);
    // The refreshed tokens (one hour from t=0) come due again 60 s before
    // they expire; the others still later.
    f.clock.set(at(3_600 - 60));
    assert_eq!(f.pass().await, 10);
    assert_eq!(f.calls(), 20);
    // At 7,140 s: the 990 others, and the 10 refreshed at 3,540 s (their
    // tokens expire at 7,140 s).
    f.clock.set(at(7_200 - 60));
    assert_eq!(f.pass().await, 1_000);
    assert_eq!(f.calls(), 1_020);
}

#[tokio::test(flavor = "current_thread")]
async fn a_failed_proactive_refresh_is_retried_after_the_scan_interval() {
    let f = Fixture::new();
    f.install("seller-1", at(30)).await;
    f.grant.failing.store(true, Ordering::SeqCst);
    assert_eq!(f.pass().await, 1);
    assert_eq!(f.calls(), 1);
    // Queued again for after the scan interval, not dropped and not
    // retried in the same instant.
    assert_eq!(f.pass().await, 0);
    f.grant.failing.store(false, Ordering::SeqCst);
    // The manager's own backoff (1 s, jittered, growing) may hold the
    // request back a little longer: the pool keeps coming back.
    for _ in 0..20 {
        f.clock.advance(Duration::from_secs(1));
        f.pass().await;
        if f.calls() == 2 {
            break;
        }
    }
    assert_eq!(f.calls(), 2);
    let current = f.pool.get("seller-1").unwrap().current().unwrap();
    assert!(current.expose_secret().starts_with("new-"));
}

#[tokio::test(flavor = "current_thread")]
async fn removed_accounts_and_tokens_refreshed_on_demand_are_not_refreshed_again() {
    let f = Fixture::new();
    f.install("seller-1", at(30)).await;
    f.install("seller-2", at(30)).await;
    f.pool.remove("seller-2");
    // seller-1's token is refreshed on demand first (it is within the skew).
    let token = f.pool.access_token("seller-1").await.unwrap();
    assert!(token.expose_secret().starts_with("new-"));
    assert_eq!(f.calls(), 1);
    // Its old queue entry is stale and seller-2 is gone: nothing to do.
    assert_eq!(f.pass().await, 0);
    assert_eq!(f.calls(), 1);
    // seller-2's tokens are still in the store.
    let stored = f
        .store
        .load(&AccountKey::new("sched", "seller-2"))
        .await
        .unwrap();
    assert!(stored.is_some());
}

#[tokio::test(flavor = "current_thread")]
async fn accounts_loaded_from_the_store_are_queued() {
    let f = Fixture::new();
    for i in 0..3 {
        let tokens = TokenSet::new(AccessToken::new("old"), at(30))
            .with_refresh_token(RefreshToken::new("rt"), None)
            .with_issued_at(at(0) - Duration::from_secs(3600));
        f.store
            .save(&AccountKey::new("sched", format!("s{i}")), &tokens, None)
            .await
            .unwrap();
    }
    assert_eq!(f.pool.load_accounts().await.unwrap(), 3);
    assert_eq!(f.pass().await, 3);
    assert_eq!(f.calls(), 3);
}
