//! Hostile-input regressions of the token lifecycle: refresh floods when the
//! skew exceeds the token's lifetime, repeated rotation races between
//! managers sharing a store, refreshes interrupted before their result was
//! saved, pools asked for unknown accounts, and tokens with control
//! characters in a store.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use oauth_core::{
    AccessToken, AccountKey, Clock, Error, ManualClock, MemoryStore, ProviderDetails, RefreshGrant,
    RefreshStarted, RefreshToken, TokenEventKind, TokenManager, TokenPool, TokenSet, TokenStore,
    TransientCause, async_trait, from_unix_millis,
};
use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

const T0: u64 = 1_800_000_000_000;
const ACCOUNT: &str = "seller-1";

fn at(offset_ms: u64) -> SystemTime {
    from_unix_millis(T0 + offset_ms)
}

/// What the scripted provider does on its next refresh (when the script
/// is empty: issue a new set).
#[derive(Debug)]
enum Step {
    /// Answer with this error.
    Fail(Error),
    /// Another manager sharing the store spent the refresh token first and
    /// saved its rotated set: the provider refuses ours.
    Stolen,
}

/// A rotating grant driven by a script, counting its requests; when the
/// script is empty it issues new tokens.
#[derive(Debug)]
struct Scripted {
    clock: ManualClock,
    lifetime: Duration,
    store: Arc<MemoryStore>,
    script: Mutex<VecDeque<Step>>,
    calls: AtomicUsize,
    /// What the store held while each request was made.
    seen_in_store: Mutex<Vec<Option<TokenSet>>>,
}

impl Scripted {
    fn new(clock: &ManualClock, lifetime: Duration, store: &Arc<MemoryStore>) -> Arc<Self> {
        Arc::new(Self {
            clock: clock.clone(),
            lifetime,
            store: Arc::clone(store),
            script: Mutex::new(VecDeque::new()),
            calls: AtomicUsize::new(0),
            seen_in_store: Mutex::new(Vec::new()),
        })
    }

    fn then(&self, step: Step) {
        self.script.lock().unwrap().push_back(step);
    }

    fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }

    fn issue(&self, n: usize) -> TokenSet {
        tokens(
            &format!("at-{n}"),
            &format!("rt-{n}"),
            self.clock.now() + self.lifetime,
        )
    }
}

fn invalid_grant() -> Error {
    Error::ReauthorizationRequired {
        details: ProviderDetails::new("scripted")
            .with_status(400)
            .with_code("invalid_grant"),
    }
}

#[async_trait]
impl RefreshGrant for Scripted {
    fn provider(&self) -> &'static str {
        "scripted"
    }

    async fn refresh(&self, _current: &TokenSet) -> Result<TokenSet, Error> {
        let n = self.calls.fetch_add(1, Ordering::SeqCst) + 1;
        let key = AccountKey::new("scripted", ACCOUNT);
        let stored = self.store.load(&key).await.unwrap();
        self.seen_in_store
            .lock()
            .unwrap()
            .push(stored.as_ref().map(|s| s.tokens.clone()));
        let step = self.script.lock().unwrap().pop_front();
        match step {
            None => Ok(self.issue(n)),
            Some(Step::Fail(error)) => Err(error),
            Some(Step::Stolen) => {
                let version = stored.map(|s| s.version);
                let theirs = tokens(
                    &format!("their-at-{n}"),
                    &format!("their-rt-{n}"),
                    self.clock.now() + self.lifetime,
                );
                self.store.save(&key, &theirs, version).await.unwrap();
                Err(invalid_grant())
            }
        }
    }

    fn rotates_refresh_token(&self) -> bool {
        true
    }

    fn default_refresh_skew(&self) -> Duration {
        // AliExpress's: far longer than the tokens below.
        Duration::from_secs(30 * 60)
    }
}

fn tokens(access: &str, refresh: &str, expires_at: SystemTime) -> TokenSet {
    TokenSet::new(AccessToken::new(access), expires_at)
        .with_refresh_token(RefreshToken::new(refresh), None)
}

struct Fixture {
    clock: ManualClock,
    store: Arc<MemoryStore>,
    grant: Arc<Scripted>,
}

impl Fixture {
    fn new(lifetime: Duration) -> Self {
        let clock = ManualClock::new(at(0));
        let store = Arc::new(MemoryStore::new());
        let grant = Scripted::new(&clock, lifetime, &store);
        Self {
            clock,
            store,
            grant,
        }
    }

    fn manager(&self) -> TokenManager {
        TokenManager::builder(self.grant.clone(), self.store.clone(), ACCOUNT)
            .clock(Arc::new(self.clock.clone()))
            .build()
    }

    fn key(&self) -> AccountKey {
        AccountKey::new("scripted", ACCOUNT)
    }
}

#[tokio::test(flavor = "current_thread")]
async fn a_skew_longer_than_the_token_lifetime_does_not_refresh_on_every_call() {
    // 75-second tokens (the sandbox's, and test-status apps') under a
    // 30-minute default skew.
    let f = Fixture::new(Duration::from_secs(75));
    let manager = f.manager();
    assert_eq!(manager.skew(), Duration::from_secs(1800));
    manager
        .install(tokens("at-0", "rt-0", at(75_000)))
        .await
        .unwrap();
    // 40 s later, 35 s are left: within half the lifetime, so one refresh.
    f.clock.advance(Duration::from_secs(40));
    // 2,000 calls over 10 s.
    for _ in 0..2_000 {
        manager.access_token().await.unwrap();
        f.clock.advance(Duration::from_millis(5));
    }
    assert_eq!(f.grant.calls(), 1, "at most one refresh in 10 s");
}

#[tokio::test(flavor = "current_thread")]
async fn tokens_shorter_than_the_skew_are_reported_once_in_the_log() {
    let output = Arc::new(Mutex::new(Vec::<u8>::new()));
    let writer = {
        let output = Arc::clone(&output);
        move || CaptureWriter(Arc::clone(&output))
    };
    let subscriber = tracing_subscriber::fmt()
        .with_writer(writer)
        .with_max_level(tracing::Level::WARN)
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let f = Fixture::new(Duration::from_secs(75));
    let manager = f.manager();
    manager
        .install(tokens("at-0", "rt-0", at(10_000)))
        .await
        .unwrap();
    for _ in 0..3 {
        f.clock.advance(Duration::from_secs(70));
        manager.access_token().await.unwrap();
    }
    assert_eq!(f.grant.calls(), 3);
    let text = String::from_utf8(output.lock().unwrap().clone()).unwrap();
    assert_eq!(
        text.matches("live no longer than the refresh skew").count(),
        1,
        "{text}"
    );
    assert!(
        text.contains("lifetime_s=75") && text.contains("skew_s=1800"),
        "{text}"
    );
}

struct CaptureWriter(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for CaptureWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test(flavor = "current_thread")]
async fn repeated_rotation_races_adopt_the_newer_set_instead_of_reporting_revocation() {
    // Three times in a row another manager sharing the store spends the
    // refresh token just before this one and saves its rotated set.
    let f = Fixture::new(Duration::from_secs(3600));
    let manager = f.manager();
    manager
        .install(tokens("at-0", "rt-0", at(1_000)))
        .await
        .unwrap();
    f.clock.advance(Duration::from_secs(2));
    for _ in 0..3 {
        f.grant.then(Step::Stolen);
    }
    let handle = manager.force_refresh().await.unwrap();
    // Each "stolen" set is newer than ours and is adopted; the fourth
    // request succeeds.
    assert_eq!(f.grant.calls(), 4);
    assert_eq!(handle.expose_secret(), "at-4");
    let stored = f.store.load(&f.key()).await.unwrap().unwrap();
    assert_eq!(stored.tokens.access_token.expose_secret(), "at-4");
    assert_eq!(stored.tokens.refresh_started, None);
}

#[tokio::test(flavor = "current_thread")]
async fn a_refused_token_with_nothing_newer_in_the_store_is_a_revocation() {
    let f = Fixture::new(Duration::from_secs(3600));
    let manager = f.manager();
    manager
        .install(tokens("at-0", "rt-0", at(1_000)))
        .await
        .unwrap();
    f.clock.advance(Duration::from_secs(2));
    f.grant.then(Step::Fail(invalid_grant()));
    let err = manager.access_token().await.unwrap_err();
    assert!(
        matches!(err, Error::ReauthorizationRequired { .. }),
        "{err:?}"
    );
    assert_eq!(f.grant.calls(), 1);
}

#[tokio::test(flavor = "current_thread")]
async fn a_durable_refresh_started_record_is_written_before_the_token_is_spent() {
    let f = Fixture::new(Duration::from_secs(3600));
    let manager = f.manager();
    manager
        .install(tokens("at-0", "rt-0", at(1_000)))
        .await
        .unwrap();
    f.clock.advance(Duration::from_secs(2));
    manager.access_token().await.unwrap();
    let seen = f.grant.seen_in_store.lock().unwrap()[0].clone().unwrap();
    let record = seen.refresh_started.expect("recorded before the request");
    assert_eq!(
        record.fingerprint,
        RefreshStarted::fingerprint_of(&RefreshToken::new("rt-0"))
    );
    assert_eq!(record.fingerprint.len(), 16);
    assert!(!record.fingerprint.contains("rt-0"));
    assert_eq!(record.at, at(2_000));
    // The new set, saved, carries no record.
    let stored = f.store.load(&f.key()).await.unwrap().unwrap();
    assert_eq!(stored.tokens.refresh_started, None);
    assert_eq!(stored.tokens.access_token.expose_secret(), "at-1");
}

#[tokio::test(flavor = "current_thread")]
async fn a_refused_token_after_an_interrupted_refresh_says_so() {
    // A previous process spent rt-0 and died before saving the answer: the
    // store holds rt-0 with the record of that refresh.
    let f = Fixture::new(Duration::from_secs(3600));
    let mut interrupted = tokens("at-0", "rt-0", at(1_000));
    interrupted.refresh_started = Some(RefreshStarted {
        at: at(500),
        fingerprint: RefreshStarted::fingerprint_of(&RefreshToken::new("rt-0")),
        refused_at: None,
    });
    f.store.save(&f.key(), &interrupted, None).await.unwrap();
    f.clock.advance(Duration::from_secs(2));
    f.grant.then(Step::Fail(invalid_grant()));

    let manager = f.manager();
    let mut events = manager.subscribe();
    let err = manager.access_token().await.unwrap_err();
    assert!(matches!(err, Error::RefreshInterrupted { .. }), "{err:?}");
    assert!(err.requires_reauthorization());
    assert_eq!(err.provider_code(), Some("invalid_grant"));
    assert!(err.to_string().contains("interrupted"), "{err}");
    let mut kinds = Vec::new();
    while let Ok(event) = events.try_recv() {
        kinds.push(event.kind);
    }
    assert!(
        kinds.contains(&TokenEventKind::RefreshInterrupted),
        "{kinds:?}"
    );
    assert!(
        kinds.contains(&TokenEventKind::ReauthorizationRequired),
        "{kinds:?}"
    );
}

#[tokio::test(flavor = "current_thread")]
async fn a_record_for_another_refresh_token_is_not_an_interruption() {
    let f = Fixture::new(Duration::from_secs(3600));
    let mut stale = tokens("at-0", "rt-0", at(1_000));
    stale.refresh_started = Some(RefreshStarted {
        at: at(500),
        fingerprint: RefreshStarted::fingerprint_of(&RefreshToken::new("rt-older")),
        refused_at: None,
    });
    f.store.save(&f.key(), &stale, None).await.unwrap();
    f.clock.advance(Duration::from_secs(2));
    f.grant.then(Step::Fail(invalid_grant()));
    let err = f.manager().access_token().await.unwrap_err();
    assert!(
        matches!(err, Error::ReauthorizationRequired { .. }),
        "{err:?}"
    );
}

/// After a first failed attempt, the next one is refused: an interruption
/// only when the first attempt's outcome is unknown (a timeout may hide a
/// rotation); a 503 answer left the token as it was.
async fn second_refusal_after(first: Error) -> Error {
    let f = Fixture::new(Duration::from_secs(3600));
    let manager = f.manager();
    manager
        .install(tokens("at-0", "rt-0", at(1_000)))
        .await
        .unwrap();
    f.clock.advance(Duration::from_secs(2));
    f.grant.then(Step::Fail(first));
    f.grant.then(Step::Fail(invalid_grant()));
    manager.access_token().await.unwrap_err();
    f.clock.advance(Duration::from_secs(600));
    let err = manager.access_token().await.unwrap_err();
    assert_eq!(f.grant.calls(), 2);
    err
}

fn transient(cause: TransientCause) -> Error {
    Error::Transient {
        cause,
        retry_after: None,
        details: ProviderDetails::new("scripted"),
    }
}

#[tokio::test(flavor = "current_thread")]
async fn only_an_attempt_without_an_answer_counts_as_interrupted() {
    let after_503 = second_refusal_after(transient(TransientCause::ServerError)).await;
    assert!(
        matches!(after_503, Error::ReauthorizationRequired { .. }),
        "{after_503:?}"
    );
    let after_timeout = second_refusal_after(transient(TransientCause::Timeout)).await;
    assert!(
        matches!(after_timeout, Error::RefreshInterrupted { .. }),
        "{after_timeout:?}"
    );
}

#[tokio::test(flavor = "current_thread")]
async fn a_pool_asked_for_an_unknown_account_says_so_and_reports_no_revocation() {
    let f = Fixture::new(Duration::from_secs(3600));
    let pool = TokenPool::builder(f.grant.clone(), f.store.clone())
        .clock(Arc::new(f.clock.clone()))
        .build();
    let mut events = pool.subscribe();
    let err = pool.access_token("sellr-1").await.unwrap_err();
    assert!(matches!(err, Error::UnknownAccount { .. }), "{err:?}");
    assert!(!err.requires_reauthorization());
    assert_eq!(
        err.to_string(),
        "unknown account scripted/sellr-1: add it to the pool (or install tokens) first"
    );
    assert!(pool.is_empty());
    assert!(events.try_recv().is_err(), "no event for a typo");
    assert_eq!(f.grant.calls(), 0);

    // An account whose tokens are in the store is served (and added).
    f.store
        .save(&f.key(), &tokens("at-0", "rt-0", at(3_600_000)), None)
        .await
        .unwrap();
    assert_eq!(
        pool.access_token(ACCOUNT).await.unwrap().expose_secret(),
        "at-0"
    );
    assert_eq!(pool.len(), 1);
    // An explicit add is there without tokens.
    pool.add("new-seller");
    assert!(pool.get("new-seller").is_some());
}

#[tokio::test(flavor = "current_thread")]
async fn a_pool_loads_every_account_of_its_provider_from_the_store() {
    let f = Fixture::new(Duration::from_secs(3600));
    for i in 0..1_500 {
        let key = AccountKey::new("scripted", format!("seller-{i:04}"));
        f.store
            .save(&key, &tokens("at", "rt", at(3_600_000)), None)
            .await
            .unwrap();
    }
    let other = AccountKey::new("other-provider", "seller-x");
    f.store
        .save(&other, &tokens("at", "rt", at(3_600_000)), None)
        .await
        .unwrap();
    let pool = TokenPool::builder(f.grant.clone(), f.store.clone())
        .clock(Arc::new(f.clock.clone()))
        .build();
    assert_eq!(pool.load_accounts().await.unwrap(), 1_500);
    assert_eq!(pool.len(), 1_500);
    let manager = pool.get("seller-0999").unwrap();
    assert!(manager.current().is_some(), "tokens loaded");
    assert!(pool.get("seller-x").is_none());
    assert_eq!(f.grant.calls(), 0);
}

#[test]
fn a_stored_token_with_control_characters_is_refused_without_repeating_it() {
    for bad in [
        "SENTINEL\r\nX-Injected: evil",
        "SENTINEL\u{1b}[2J",
        "SENTINEL\u{0}",
    ] {
        let json = serde_json::json!({
            "access_token": bad,
            "expires_at": 1,
        })
        .to_string();
        let err = serde_json::from_str::<TokenSet>(&json).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("visible ASCII"), "{text}");
        assert!(
            !text.contains("SENTINEL") && !text.contains("Injected"),
            "{text}"
        );
        let json = serde_json::json!({
            "access_token": "ok",
            "expires_at": 1,
            "refresh_token": bad,
        })
        .to_string();
        assert!(serde_json::from_str::<TokenSet>(&json).is_err());
    }
    let ebay_like = serde_json::json!({
        "access_token": "v^1.1#i^1#p^3#r^1#f^0#t^H4sIAAAA+/=",
        "expires_at": 1,
    })
    .to_string();
    assert!(serde_json::from_str::<TokenSet>(&ebay_like).is_ok());
}
