//! [`TokenManager`]: always-valid access tokens for one account.

use super::events::{TokenEvent, TokenEventKind};
use super::handle::{Published, TokenHandle};
use super::lease::{Lease, LeaseOutcome, LeaseOwner, LeaseSettings};
use super::store::{AccountKey, SaveOutcome, TokenStore};
use crate::clock::SharedClock;
use crate::error::{Error, ProviderDetails, TransientCause};
use crate::grant::RefreshGrant;
use crate::token_set::{RefreshStarted, TokenSet};
use crate::transport::RetryPolicy;
use arc_swap::ArcSwapOption;
use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::{Duration, SystemTime};
use tokio::sync::{Notify, broadcast};

/// Keeps one account's access token valid.
///
/// - [`access_token`](Self::access_token) returns the current token without
///   locking, allocating or awaiting while it is fresh (further than the
///   skew from expiry);
/// - otherwise one refresh runs (**single-flight**: any number of concurrent
///   callers cause one request and all get its result), as its own task, so
///   cancelling the caller that started it does not abort it;
/// - before refreshing, the store is read again: a newer set written by
///   another manager or process is used instead of refreshing with a stale
///   refresh token;
/// - new tokens are saved to the store **before** anyone receives them; if
///   saving fails they stay in memory, the error is returned (and traced),
///   and the next call retries the save;
/// - after [`Error::requires_reauthorization`] the manager stops calling
///   the provider and returns that error until [`install`](Self::install);
/// - after another failure, the still-valid old token keeps being served and
///   the next attempt waits for a jittered, growing backoff (one attempt in
///   flight at most);
/// - before spending a single-use (rotating) refresh token, the current set
///   is saved again with a durable "refresh started" record
///   ([`RefreshStarted`]): this proves the store writable, and if the
///   process dies before the new set is saved, the next manager that is
///   refused that token reports [`Error::RefreshInterrupted`] instead of an
///   ordinary revocation;
/// - a rotating refresh token refused while the store holds a newer set
///   (another manager or process won the race) is not a revocation: the
///   newer set is adopted, again if needed (at most 8 times), and
///   re-authorization is reported only when the store shows nothing newer.
///
/// Cheap to clone: clones share the same state.
///
/// ```
/// use oauth_core::{
///     AccessToken, Error, MemoryStore, RefreshGrant, RefreshToken, TokenManager, TokenSet,
///     async_trait,
/// };
/// use std::sync::Arc;
/// use std::time::{Duration, SystemTime};
///
/// // Every provider crate's `Client` is a `RefreshGrant`; this stand-in
/// // issues a new access token on each refresh.
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
///         Ok(TokenSet::new(AccessToken::new("second-access-token"), expires_at)
///             .merge_previous(current))
///     }
///     fn rotates_refresh_token(&self) -> bool {
///         false
///     }
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Error> {
/// let manager =
///     TokenManager::builder(Arc::new(Provider), Arc::new(MemoryStore::new()), "seller-42")
///         .build();
///
/// // After the seller's consent: the tokens from the code exchange.
/// let exchanged = TokenSet::new(
///     AccessToken::new("first-access-token"),
///     SystemTime::now() + Duration::from_secs(7200),
/// )
/// .with_refresh_token(RefreshToken::new("refresh-token"), None);
/// manager.install(exchanged).await?;
///
/// // On every API call: a lock-free read while the token is fresh; near
/// // expiry, one refresh for all concurrent callers, saved before use.
/// let token = manager.access_token().await?;
/// assert_eq!(token.expose_secret(), "first-access-token");
///
/// // The provider rejected the token (e.g. a 401): refresh now.
/// let token = manager.force_refresh().await?;
/// assert_eq!(token.expose_secret(), "second-access-token");
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct TokenManager {
    inner: Arc<Inner>,
}

/// One account's state. Kept small, since a pool holds one per account:
/// what all the accounts of a pool share is behind one pointer
/// ([`Shared`], reached through `Deref`), and the cold state (failures,
/// latches, the refresh in flight) is allocated only while there is some.
struct Inner {
    shared: Arc<Shared>,
    key: AccountKey,
    current: ArcSwapOption<Published>,
    /// Set while the hot path must not serve `current` blindly: a latched
    /// re-authorization error or unsaved tokens.
    attention: AtomicBool,
    state: Mutex<Option<Box<State>>>,
}

/// What the managers built together (by one builder, or by a pool) share.
pub(crate) struct Shared {
    pub(crate) grant: Arc<dyn RefreshGrant>,
    pub(crate) store: Arc<dyn TokenStore>,
    pub(crate) clock: SharedClock,
    pub(crate) skew: Duration,
    backoff: RetryPolicy,
    events: broadcast::Sender<TokenEvent>,
    /// The refresh lease: who we are, and for how long a lease is taken.
    pub(crate) lease: LeaseSettings,
    /// Set once the provider was seen issuing tokens that live no longer
    /// than the skew (warned about once).
    warned_short_lived: AtomicBool,
}

impl Shared {
    pub(crate) fn new(
        grant: Arc<dyn RefreshGrant>,
        store: Arc<dyn TokenStore>,
        clock: SharedClock,
        skew: Duration,
        backoff: RetryPolicy,
        events: broadcast::Sender<TokenEvent>,
        lease: LeaseSettings,
    ) -> Self {
        Self {
            grant,
            store,
            clock,
            skew,
            backoff,
            events,
            lease,
            warned_short_lived: AtomicBool::new(false),
        }
    }
}

impl Shared {
    /// The channel every manager built on these settings publishes to.
    pub(crate) fn events(&self) -> &broadcast::Sender<TokenEvent> {
        &self.events
    }
}

impl std::ops::Deref for Inner {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.shared
    }
}

/// The state of an account with nothing going on.
static IDLE: State = State {
    in_flight: None,
    latched: None,
    unsaved: None,
    failures: 0,
    retry_not_before: None,
    last_error: None,
    latch_checked_at: None,
    last_attempt: None,
};

/// The locked cold state: reads see [`IDLE`] when none is allocated; the
/// first write allocates it; it is freed again when the guard drops with
/// nothing left in it.
struct StateGuard<'a>(MutexGuard<'a, Option<Box<State>>>);

impl std::ops::Deref for StateGuard<'_> {
    type Target = State;

    fn deref(&self) -> &State {
        self.0.as_deref().unwrap_or(&IDLE)
    }
}

impl std::ops::DerefMut for StateGuard<'_> {
    fn deref_mut(&mut self) -> &mut State {
        self.0.get_or_insert_with(|| Box::new(State::default()))
    }
}

impl StateGuard<'_> {
    /// Forgets unsaved tokens, failures and their backoff (new tokens are
    /// in place), without allocating a state to do so.
    fn clear_failures(&mut self) {
        if let Some(state) = self.0.as_deref_mut() {
            state.unsaved = None;
            state.failures = 0;
            state.retry_not_before = None;
            state.last_error = None;
        }
    }
}

impl Drop for StateGuard<'_> {
    fn drop(&mut self) {
        if self.0.as_deref().is_some_and(State::is_idle) {
            *self.0 = None;
        }
    }
}

#[derive(Default)]
struct State {
    in_flight: Option<Arc<Flight>>,
    latched: Option<Box<Error>>,
    unsaved: Option<Box<TokenSet>>,
    failures: u32,
    retry_not_before: Option<SystemTime>,
    last_error: Option<Box<Error>>,
    latch_checked_at: Option<SystemTime>,
    /// The fingerprint of the last refresh token this manager spent, and
    /// whether the provider's answer showed the token was not rotated away
    /// unseen (a success, or an error response that leaves it unchanged).
    last_attempt: Option<(String, bool)>,
}

impl State {
    /// Whether nothing is going on (the state need not be kept).
    fn is_idle(&self) -> bool {
        self.in_flight.is_none()
            && self.latched.is_none()
            && self.unsaved.is_none()
            && self.failures == 0
            && self.retry_not_before.is_none()
            && self.last_error.is_none()
            && self.latch_checked_at.is_none()
            && self.last_attempt.is_none()
    }
}

/// How many times one refresh may adopt a newer set saved by another
/// manager sharing the store (and refresh again with it) before giving up.
const MAX_ADOPTIONS: u32 = 8;

/// Whether a failed refresh left the refresh token as it was: the provider
/// answered with a classified error. A timeout, a broken connection or an
/// unreadable success (any 2xx that could not be decoded) may hide a
/// rotation.
fn provider_kept_the_token(error: &Error) -> bool {
    match error {
        Error::Transient { cause, .. } => {
            matches!(cause, TransientCause::Connect | TransientCause::ServerError)
        }
        Error::UnexpectedResponse { status, .. } => {
            !status.is_some_and(|s| (200..300).contains(&s))
        }
        Error::Store { .. } | Error::StoreBusy { .. } => false,
        _ => true,
    }
}

/// While re-authorization is latched, how often the store is read again
/// for tokens installed by another manager or process.
const LATCH_RECHECK: Duration = Duration::from_secs(1);

/// Builds a [`TokenManager`].
pub struct TokenManagerBuilder {
    key: AccountKey,
    grant: Arc<dyn RefreshGrant>,
    store: Arc<dyn TokenStore>,
    clock: Option<SharedClock>,
    skew: Option<Duration>,
    backoff: RetryPolicy,
    events: Option<broadcast::Sender<TokenEvent>>,
    lease_duration: Option<Duration>,
    lease_owner: Option<LeaseOwner>,
}

impl fmt::Debug for TokenManagerBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenManagerBuilder")
            .field("key", &self.key)
            .field("skew", &self.skew)
            .finish_non_exhaustive()
    }
}

/// How long a manager of a rotating grant that was told "invalid refresh
/// token" watches the store for the set another manager (sharing the store)
/// may be saving, before reporting re-authorization.
pub const ROTATION_RACE_GRACE: Duration = Duration::from_millis(1500);

/// The default backoff between failed refresh attempts: 1 s growing to 5 min.
pub const DEFAULT_REFRESH_BACKOFF: RetryPolicy = RetryPolicy {
    max_attempts: u32::MAX,
    base_delay: Duration::from_secs(1),
    max_delay: Duration::from_secs(300),
};

impl TokenManagerBuilder {
    /// Refresh when the token is within `skew` of expiry (default: the
    /// grant's [`default_refresh_skew`](RefreshGrant::default_refresh_skew),
    /// 60 s unless the provider says otherwise).
    ///
    /// The margin in force for a token is at most **half its lifetime**
    /// (from [`TokenSet::issued_at`], which the manager stamps on the sets it
    /// receives or installs, or else from when it first saw the set): a skew of 30 minutes on 75-second tokens refreshes
    /// them 37 s before expiry, not on every call. A provider issuing tokens
    /// that live no longer than the skew is reported once with a `tracing`
    /// warning.
    pub fn skew(mut self, skew: Duration) -> Self {
        self.skew = Some(skew);
        self
    }

    /// The clock expiries are compared with. The default, and the right
    /// choice almost always, is the grant's own
    /// ([`RefreshGrant::clock`]): the clock that stamped the sets it
    /// returns, so that one clock makes and reads every expiry. Set it only
    /// for a grant without a clock of its own (a test double).
    pub fn clock(mut self, clock: SharedClock) -> Self {
        self.clock = Some(clock);
        self
    }

    /// The backoff between failed refresh attempts (only `base_delay` and
    /// `max_delay` are used). Default [`DEFAULT_REFRESH_BACKOFF`].
    pub fn backoff(mut self, backoff: RetryPolicy) -> Self {
        self.backoff = backoff;
        self
    }

    /// Publish events on this channel (e.g. one shared by a pool) instead of
    /// a channel of the manager's own.
    pub fn events(mut self, sender: broadcast::Sender<TokenEvent>) -> Self {
        self.events = Some(sender);
        self
    }

    /// How long the refresh lease is taken for, on stores that lease (see
    /// [`lease`](super::lease)): other processes wait up to this long for a
    /// holder that died before they take over. Default: the grant's
    /// [`max_refresh_duration`](RefreshGrant::max_refresh_duration) plus
    /// [`DEFAULT_LEASE_MARGIN`](super::DEFAULT_LEASE_MARGIN) (40 s for a
    /// client with a 10 s timeout and 3 attempts, 104 s with the default
    /// 30 s timeout), or [`DEFAULT_LEASE_DURATION`](super::DEFAULT_LEASE_DURATION)
    /// when the grant does not say.
    ///
    /// # Errors
    /// [`Error::Configuration`] if the lease would not outlast the grant's
    /// longest refresh (all retries included) by
    /// [`MIN_LEASE_MARGIN`](super::MIN_LEASE_MARGIN): a lease that lapses
    /// while its holder still waits for the provider would let a second
    /// process spend the same refresh token.
    pub fn lease_duration(mut self, duration: Duration) -> Result<Self, Error> {
        super::lease::check_lease_duration(&*self.grant, duration)?;
        self.lease_duration = Some(duration);
        Ok(self)
    }

    /// Who this manager is when it takes leases (default: a fresh
    /// [`LeaseOwner::generate`]); the manager adds an id of its own
    /// (`<owner>/<16 hex digits>`), so two managers never share an owner.
    pub fn lease_owner(mut self, owner: LeaseOwner) -> Self {
        self.lease_owner = Some(owner);
        self
    }

    /// Builds the manager. Nothing is read or sent yet: the first call to
    /// [`access_token`](TokenManager::access_token) loads the stored set.
    pub fn build(self) -> TokenManager {
        let skew = self
            .skew
            .unwrap_or_else(|| self.grant.default_refresh_skew());
        let events = self.events.unwrap_or_else(|| broadcast::channel(64).0);
        let lease = LeaseSettings::new(&*self.grant, self.lease_duration, self.lease_owner);
        let clock = self.clock.unwrap_or_else(|| self.grant.clock());
        let shared = Shared::new(
            self.grant,
            self.store,
            clock,
            skew,
            self.backoff,
            events,
            lease,
        );
        TokenManager::with_shared(Arc::new(shared), self.key)
    }
}

impl fmt::Debug for TokenManager {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenManager")
            .field("account", &self.inner.key)
            .field("provider", &self.inner.grant.provider())
            .field("skew", &self.inner.skew)
            .finish_non_exhaustive()
    }
}

impl TokenManager {
    /// A builder for the tokens of `account` obtained through `grant`,
    /// persisted in `store`.
    pub fn builder(
        grant: Arc<dyn RefreshGrant>,
        store: Arc<dyn TokenStore>,
        account: impl AsRef<str>,
    ) -> TokenManagerBuilder {
        let key = AccountKey::new(grant.provider(), account);
        TokenManagerBuilder {
            key,
            grant,
            store,
            clock: None,
            skew: None,
            backoff: DEFAULT_REFRESH_BACKOFF,
            events: None,
            lease_duration: None,
            lease_owner: None,
        }
    }

    /// A manager of `key` built on `shared` settings (a pool's).
    pub(crate) fn with_shared(shared: Arc<Shared>, key: AccountKey) -> Self {
        TokenManager {
            inner: Arc::new(Inner {
                shared,
                key,
                current: ArcSwapOption::empty(),
                attention: AtomicBool::new(false),
                state: Mutex::new(None),
            }),
        }
    }

    /// The current token, if it is fresh: the lock-free, allocation-free
    /// hot path of [`access_token`](Self::access_token), without awaiting.
    pub(crate) fn fresh(&self) -> Option<TokenHandle> {
        self.inner.fresh(self.inner.skew)
    }

    /// The account this manager serves.
    pub fn account(&self) -> &AccountKey {
        &self.inner.key
    }

    /// The refresh skew in force.
    pub fn skew(&self) -> Duration {
        self.inner.skew
    }

    /// Subscribes to the manager's events.
    pub fn subscribe(&self) -> broadcast::Receiver<TokenEvent> {
        self.inner.events.subscribe()
    }

    /// A valid access token: the current one while it is fresh, otherwise
    /// the result of a (shared) refresh.
    ///
    /// # Errors
    /// The refresh's error: [`Error::ReauthorizationRequired`] (also when no
    /// tokens are installed and the grant cannot fetch any), a store failure,
    /// or a provider failure while no valid token is left.
    pub async fn access_token(&self) -> Result<TokenHandle, Error> {
        if let Some(handle) = self.inner.fresh(self.inner.skew) {
            return Ok(handle);
        }
        // Boxed: the fresh path's future stays a few words (the slow path's
        // state is large), and the box is only allocated when refreshing.
        Box::pin(self.inner.slow_path(self.inner.skew, false)).await
    }

    /// Reads the store and takes its set if it differs from the one held
    /// (another manager or process saved since, or nothing was loaded yet).
    /// Does not refresh. Returns the current token, if any.
    ///
    /// # Errors
    /// [`Error::Store`] if the store cannot be read.
    pub async fn reload(&self) -> Result<Option<TokenHandle>, Error> {
        let inner = &self.inner;
        let seen = inner.current.load_full();
        let ours = seen.as_ref().and_then(|c| c.version());
        if let Some(stored) = inner.store.load(&inner.key).await?
            && Some(stored.version) != ours
        {
            // Only over the set seen before the read: a refresh published
            // meanwhile is newer than what was read.
            let loaded = inner.published(stored.tokens, Some(stored.version));
            inner.current.compare_and_swap(&seen, Some(loaded));
        }
        Ok(self.current())
    }

    /// The current token set if one is loaded, without refreshing.
    pub fn current(&self) -> Option<TokenHandle> {
        self.inner.current.load_full().map(TokenHandle)
    }

    /// Refreshes now if the token expires within `within` (or is missing),
    /// sharing any refresh already in flight. Used for proactive refresh.
    ///
    /// # Errors
    /// As [`access_token`](Self::access_token).
    pub async fn refresh_ahead(&self, within: Duration) -> Result<TokenHandle, Error> {
        let within = within.max(self.inner.skew);
        if let Some(handle) = self.inner.fresh(within) {
            return Ok(handle);
        }
        self.inner.slow_path(within, false).await
    }

    /// Refreshes now whatever the expiry (e.g. after the provider rejected
    /// the access token), sharing any refresh already in flight.
    ///
    /// # Errors
    /// As [`access_token`](Self::access_token), except that a failed refresh
    /// is always an error here, even while the old token is still valid
    /// (`access_token` would serve the old token).
    pub async fn force_refresh(&self) -> Result<TokenHandle, Error> {
        self.inner.slow_path(Duration::MAX, true).await
    }

    /// Marks `handle`'s token as no longer usable (the provider rejected it,
    /// e.g. AliExpress `IllegalAccessToken`): the next call refreshes. Does
    /// nothing if the manager already moved on to another token.
    pub fn invalidate(&self, handle: &TokenHandle) {
        let current = self.inner.current.load_full();
        if let Some(current) = current
            && Arc::ptr_eq(&current, &handle.0)
        {
            let mut tokens = current.tokens.clone();
            tokens.expires_at = self.inner.clock.now();
            let replacement = Arc::new(current.replaced(tokens));
            self.inner
                .current
                .compare_and_swap(&current, Some(replacement));
        }
    }

    /// Installs tokens obtained from a consent flow: saves them (replacing
    /// whatever is stored), serves them, and lifts a re-authorization latch.
    ///
    /// # Errors
    /// [`Error::Store`] if they cannot be saved (then nothing changes).
    pub async fn install(&self, mut tokens: TokenSet) -> Result<TokenHandle, Error> {
        let inner = &self.inner;
        tokens.issued_at.get_or_insert_with(|| inner.clock.now());
        let expected = inner.store.load(&inner.key).await?.map(|v| v.version);
        let version = inner.save_newest(&tokens, expected, &mut None).await?;
        let expires_at = tokens.expires_at;
        let published = inner.published(tokens, Some(version));
        {
            let mut state = inner.lock_state();
            inner.current.store(Some(Arc::clone(&published)));
            state.latched = None;
            state.unsaved = None;
            state.failures = 0;
            state.retry_not_before = None;
            state.last_error = None;
            inner.attention.store(false, Ordering::Release);
        }
        inner.emit(TokenEventKind::Installed { expires_at });
        Ok(TokenHandle(published))
    }
}

impl Inner {
    fn lock_state(&self) -> StateGuard<'_> {
        // State updates are single assignments: a panic elsewhere cannot
        // leave it half-written, so a poisoned lock is still usable.
        StateGuard(self.state.lock().unwrap_or_else(|p| p.into_inner()))
    }

    fn emit(&self, kind: TokenEventKind) {
        let _ = self.events.send(TokenEvent {
            account: self.key.clone(),
            kind,
        });
    }

    /// The hot path: the current token if nothing needs attention and it is
    /// further than `within` from expiry.
    fn fresh(&self, within: Duration) -> Option<TokenHandle> {
        if self.attention.load(Ordering::Acquire) {
            return None;
        }
        let guard = self.current.load();
        let current = guard.as_ref()?;
        // A coarse clock is enough to compare with a skew of seconds.
        if current.due(self.clock.now_coarse(), within) {
            return None;
        }
        Some(TokenHandle(Arc::clone(current)))
    }

    fn valid_current(&self, now: SystemTime) -> Option<TokenHandle> {
        let current = self.current.load_full()?;
        current
            .tokens
            .is_valid_at(now)
            .then_some(TokenHandle(current))
    }

    async fn slow_path(
        self: &Arc<Self>,
        within: Duration,
        force: bool,
    ) -> Result<TokenHandle, Error> {
        if let Some(latched) = self.check_latch().await {
            return latched;
        }
        let flight = {
            let mut state = self.lock_state();
            if let Some(error) = &state.latched {
                return Err((**error).clone());
            }
            if !force
                && state.unsaved.is_none()
                && let Some(handle) = self.fresh(within)
            {
                return Ok(handle);
            }
            match &state.in_flight {
                Some(flight) => Arc::clone(flight),
                None => {
                    if let Some(not_before) = state.retry_not_before
                        && let now = self.clock.now()
                        && now < not_before
                        && state.unsaved.is_none()
                    {
                        if let Some(handle) = self.valid_current(now) {
                            return Ok(handle);
                        }
                        if let Some(error) = &state.last_error {
                            return Err((**error).clone());
                        }
                    }
                    let flight = Arc::new(Flight::default());
                    state.in_flight = Some(Arc::clone(&flight));
                    // Created before the spawn: even a task dropped before its
                    // first poll clears the in-flight marker and ends the
                    // flight (with an error).
                    let mut guard = FlightGuard {
                        inner: Arc::clone(self),
                        flight: Arc::clone(&flight),
                        result: None,
                    };
                    tokio::spawn(async move {
                        let result = guard.inner.refresh_flow(within, force).await;
                        // Published when the guard drops, right after.
                        guard.keep(result);
                    });
                    flight
                }
            }
        };
        flight.wait().await
    }

    /// While re-authorization is latched: the latched error, except that
    /// at most every [`LATCH_RECHECK`] the store is read again, and a set
    /// installed there by another manager or process lifts the latch
    /// (`None`: go on as usual).
    async fn check_latch(&self) -> Option<Result<TokenHandle, Error>> {
        let error = {
            let mut state = self.lock_state();
            let error = state.latched.clone()?;
            // Read only when latched (the clock is not free).
            let now = self.clock.now();
            let recently = state.latch_checked_at.is_some_and(|at| {
                now.duration_since(at)
                    .is_ok_and(|since| since < LATCH_RECHECK)
            });
            if recently {
                return Some(Err(*error));
            }
            state.latch_checked_at = Some(now);
            error
        };
        // New tokens lift the latch, not a new version of the same ones
        // (another manager's "refresh started" record for the refused
        // token rewrites the entry without changing its tokens).
        let ours = self.current.load_full();
        let installed = |stored: &TokenSet| {
            ours.as_ref().is_none_or(|ours| {
                ours.tokens.refresh_token != stored.refresh_token
                    || ours.tokens.access_token.expose_secret()
                        != stored.access_token.expose_secret()
            })
        };
        match self.store.load(&self.key).await {
            Ok(Some(stored))
                if ours.as_ref().and_then(|c| c.version()) != Some(stored.version)
                    && installed(&stored.tokens) =>
            {
                let expires_at = stored.tokens.expires_at;
                let mut state = self.lock_state();
                self.current
                    .store(Some(self.published(stored.tokens, Some(stored.version))));
                state.latched = None;
                state.latch_checked_at = None;
                state.failures = 0;
                state.retry_not_before = None;
                state.last_error = None;
                self.attention
                    .store(state.unsaved.is_some(), Ordering::Release);
                drop(state);
                tracing::info!(account = %self.key, "tokens installed elsewhere lift the re-authorization latch");
                self.emit(TokenEventKind::Adopted { expires_at });
                None
            }
            _ => Some(Err(*error)),
        }
    }

    /// The single refresh, run as its own task.
    async fn refresh_flow(&self, within: Duration, force: bool) -> Result<TokenHandle, Error> {
        // 1. Tokens obtained earlier but not yet saved: save them first.
        let unsaved = self.lock_state().unsaved.clone();
        if let Some(tokens) = unsaved {
            let expected = self.current.load().as_ref().and_then(|c| c.version());
            let expected = match self.store.load(&self.key).await {
                Ok(stored) => stored.map(|s| s.version).or(expected),
                Err(e) => return Err(self.save_failed(e)),
            };
            match self.save_newest(&tokens, expected, &mut None).await {
                Ok(version) => {
                    let handle = self.publish(*tokens, version, self.clock.now());
                    tracing::info!(account = %self.key, "saved tokens that an earlier save failed to write");
                    if !force && !handle.0.due(self.clock.now(), within) {
                        return Ok(handle);
                    }
                }
                Err(e) => return Err(self.save_failed(e)),
            }
        }

        // 2. and 3. Another manager or process may have refreshed already:
        //    read the store, and on a store that leases, first take the
        //    account's refresh lease, so that one manager in all the
        //    processes sharing the store refreshes (or adopt what the
        //    holder saves meanwhile).
        let mut ours = self.current.load_full();
        // A manager that holds no set yet (a pool's first call for an
        // account, a process that just started): a fresh stored set answers
        // the call without the lease, which is a write on most stores (and
        // would leave a lease record behind for every account loaded). It
        // is published only if nothing was installed meanwhile. A due (or
        // absent) one goes the lease path below with no base, as before: the
        // store is read again in full under the lease (an entry deleted
        // meanwhile is not refreshed back into existence).
        if ours.is_none()
            && !force
            && let Some(stored) = self.store.load(&self.key).await?
        {
            let read = self.published(stored.tokens, Some(stored.version));
            if !read.due(self.clock.now(), within) {
                let previous = self
                    .current
                    .compare_and_swap(&None::<Arc<Published>>, Some(Arc::clone(&read)));
                if previous.is_none() {
                    self.lock_state().clear_failures();
                    return Ok(TokenHandle(read));
                }
                // Tokens were installed meanwhile: they answer the call
                // if fresh, and are the base otherwise.
                if let Some(handle) = self.fresh(within) {
                    return Ok(handle);
                }
                ours = self.current.load_full();
            }
        }
        let (base, mut lease) = match self.take_lease(ours, within, force).await {
            LeaseStep::Refresh { base, lease } => (base, lease),
            LeaseStep::Done(result) => return result,
        };
        let now = self.clock.now();
        let result = self.spend(base, within, force, now, &mut lease).await;
        if let Some(held) = lease {
            self.release(&held.lease).await;
        }
        result
    }

    /// Steps 4 and 5 of [`refresh_flow`](Self::refresh_flow): spend the
    /// refresh token (under `lease`, if the store leases) and save what
    /// comes back.
    async fn spend(
        &self,
        base: Option<Arc<Published>>,
        within: Duration,
        force: bool,
        now: SystemTime,
        lease: &mut Option<HeldLease>,
    ) -> Result<TokenHandle, Error> {
        // 4. and 5., repeated (a bounded number of times) while another
        //    manager sharing the store is seen to have moved on.
        let mut base = base;
        let mut adoptions = 0;
        let result = loop {
            // 4. Before spending a single-use refresh token, make sure the
            //    store can take the rotated one: rewrite the current set
            //    (compare-and-swap) with a durable "refresh started" record.
            //    A store that cannot be written fails here, not after the
            //    provider has invalidated the old refresh token.
            let mut spent = None;
            // A refresh token another manager sharing the store was refused
            // is not presented again.
            let mut refused_before = false;
            if self.grant.rotates_refresh_token()
                && let Some(current) = base.clone()
                && let Some(refresh_token) = &current.tokens.refresh_token
                && let Some(record) = &current.tokens.refresh_started
                && record.refused_at.is_some()
                && record.fingerprint == RefreshStarted::fingerprint_of(refresh_token)
            {
                refused_before = true;
                // Refused after a start whose outcome nobody knows: an
                // interruption, as for the manager that was refused.
                spent = Some((record.fingerprint.clone(), true));
            }
            if self.grant.rotates_refresh_token()
                && !refused_before
                && let Some(current) = base.clone()
                && let Some(refresh_token) = &current.tokens.refresh_token
            {
                let fingerprint = RefreshStarted::fingerprint_of(refresh_token);
                let mut marked = current.tokens.clone();
                marked.refresh_started = Some(RefreshStarted::new(now, refresh_token));
                match self
                    .save_maybe_fenced(&marked, current.version(), lease.as_ref().map(|h| &h.lease))
                    .await
                {
                    Ok(SaveOutcome::Saved { version }) => {
                        // Same tokens, same handle: only the version moves.
                        current.set_version(version);
                    }
                    Ok(SaveOutcome::Conflict {
                        current: Some(stored),
                    }) if adoptions < MAX_ADOPTIONS => {
                        // Someone saved meanwhile: theirs is the live set.
                        adoptions += 1;
                        let adopted = self.published(stored.tokens, Some(stored.version));
                        self.current.store(Some(Arc::clone(&adopted)));
                        self.emit(TokenEventKind::Adopted {
                            expires_at: adopted.tokens.expires_at,
                        });
                        if !force && !adopted.due(now, within) {
                            return Ok(TokenHandle(adopted));
                        }
                        base = Some(adopted);
                        continue;
                    }
                    Ok(SaveOutcome::Conflict { current: Some(_) }) => {
                        return Err(crate::lifecycle::store::store_error(
                            "the stored entry kept changing before the refresh",
                        ));
                    }
                    // Deleted meanwhile: refresh and save anew, as without
                    // a store entry.
                    Ok(SaveOutcome::Conflict { current: None }) => {}
                    // Our lease was overtaken before anything was spent:
                    // the new holder refreshes.
                    Ok(SaveOutcome::Fenced) => {
                        tracing::warn!(account = %self.key, "the refresh lease was overtaken before the refresh; leaving it to the new holder");
                        return self.valid_current(now).ok_or_else(|| Error::StoreBusy {
                            message: format!(
                                "the refresh lease of {} was taken over by another process",
                                self.key
                            ),
                        });
                    }
                    Err(e) => {
                        tracing::error!(account = %self.key, error = %e, "the token store cannot be written: not refreshing (the refresh token would be lost)");
                        self.emit(TokenEventKind::SaveFailed);
                        return self.valid_current(now).ok_or(e);
                    }
                }
                // Was an earlier refresh of this very token left without a
                // known outcome? Recorded in the store by another process or
                // an earlier run (and not answered since in this one), or
                // an earlier attempt of this manager that got no answer.
                let last = self.lock_state().last_attempt.clone();
                let unresolved_here = last.as_ref() == Some(&(fingerprint.clone(), false));
                let answered_here = last.as_ref() == Some(&(fingerprint.clone(), true));
                let recorded = current
                    .tokens
                    .refresh_started
                    .as_ref()
                    .is_some_and(|r| r.fingerprint == fingerprint);
                let interrupted = unresolved_here || (recorded && !answered_here);
                spent = Some((fingerprint, interrupted));
            }

            // The store's writes may have been slow: spend the token only
            // with enough of the lease left for the request and the save,
            // renewing it if needed (a lease lost meanwhile stops us here,
            // before anything is spent).
            if let Some(held) = lease.as_mut()
                && !refused_before
                && self.lease_running_short(held)
            {
                let asked = std::time::Instant::now();
                match self
                    .store
                    .acquire_lease(&self.key, &held.owner, self.lease.ttl)
                    .await
                {
                    Ok(LeaseOutcome::Acquired(renewed)) => {
                        // Every grant is one more than the last: a gap
                        // means another owner held the lease meanwhile and
                        // may have refreshed (the lapse was ours).
                        let overtaken = renewed.fence != held.lease.fence.saturating_add(1);
                        held.lease = renewed;
                        held.since = asked;
                        if overtaken {
                            let stored = match self.store.load(&self.key).await {
                                Ok(stored) => stored,
                                Err(e) => return self.valid_current(now).ok_or(e),
                            };
                            match stored {
                                Some(stored)
                                    if Some(stored.version)
                                        != base.as_ref().and_then(|b| b.version()) =>
                                {
                                    if adoptions >= MAX_ADOPTIONS {
                                        return Err(crate::lifecycle::store::store_error(
                                            "the stored entry kept changing before the refresh",
                                        ));
                                    }
                                    adoptions += 1;
                                    let adopted =
                                        self.published(stored.tokens, Some(stored.version));
                                    self.current.store(Some(Arc::clone(&adopted)));
                                    self.emit(TokenEventKind::Adopted {
                                        expires_at: adopted.tokens.expires_at,
                                    });
                                    if !force && !adopted.due(self.clock.now(), within) {
                                        return Ok(TokenHandle(adopted));
                                    }
                                    base = Some(adopted);
                                    continue;
                                }
                                // Deleted: nothing to refresh from.
                                None => {
                                    return self.valid_current(now).ok_or_else(|| {
                                        crate::lifecycle::store::store_error(
                                            "the stored entry was deleted before the refresh",
                                        )
                                    });
                                }
                                Some(_) => {}
                            }
                        }
                    }
                    Ok(_) => {
                        *lease = None;
                        tracing::warn!(account = %self.key, "the refresh lease lapsed before the refresh and was taken over; leaving it to the new holder");
                        return self.valid_current(now).ok_or_else(|| Error::StoreBusy {
                            message: format!(
                                "the refresh lease of {} was taken over by another process",
                                self.key
                            ),
                        });
                    }
                    Err(e) => return self.valid_current(now).ok_or(e),
                }
            }

            // 5. Ask the provider.
            let result = if refused_before {
                Err(Error::ReauthorizationRequired {
                    details: ProviderDetails::new(self.grant.provider()).with_message(
                        "the provider refused this refresh token before (recorded in the token store)",
                    ),
                })
            } else {
                self.ask_provider(base.as_deref(), now)
                    .await
                    .map(|mut tokens| {
                        tokens.issued_at.get_or_insert_with(|| self.clock.now());
                        tokens
                    })
            };
            if let Some((fingerprint, _)) = &spent
                && !refused_before
            {
                let answered = match &result {
                    Ok(_) => true,
                    Err(e) => provider_kept_the_token(e),
                };
                self.lock_state().last_attempt = Some((fingerprint.clone(), answered));
            }
            // A rotating grant whose refresh token was just used by another
            // manager (another instance sharing the store) answers "invalid
            // refresh token": the store then holds the winner's newer set.
            // Adopt it instead of latching, and refresh with it if needed;
            // again (bounded) if that one was spent meanwhile too. Only when
            // the store shows nothing newer is re-authorization reported.
            if result.as_ref().is_err_and(Error::requires_reauthorization) {
                // Record the refusal for the others sharing the store, while
                // we still hold the lease (best effort: a failure only means
                // they may try the token too).
                if !refused_before
                    && let Some((fingerprint, _)) = &spent
                    && let Some(current) = base.as_deref()
                {
                    let mut refused = current.tokens.clone();
                    refused.refresh_started = Some(RefreshStarted {
                        at: now,
                        fingerprint: fingerprint.clone(),
                        refused_at: Some(self.clock.now()),
                    });
                    match self
                        .save_maybe_fenced(
                            &refused,
                            current.version(),
                            lease.as_ref().map(|h| &h.lease),
                        )
                        .await
                    {
                        Ok(SaveOutcome::Saved { version }) => current.set_version(version),
                        Ok(_) => {}
                        Err(error) => {
                            tracing::debug!(account = %self.key, %error, "cannot record the refused refresh token");
                        }
                    }
                }
                // Nothing to save: let a holder that was overtaken (and
                // still has the newer set to save) take the lease back
                // while we look for its set.
                let released = lease.take();
                if let Some(held) = &released {
                    self.release(&held.lease).await;
                }
                if adoptions < MAX_ADOPTIONS
                    // Boxed: a rare path, kept out of the refresh task's size.
                    && let Some(newer) = Box::pin(self.newer_in_store(base.as_deref())).await
                {
                    adoptions += 1;
                    self.current.store(Some(Arc::clone(&newer)));
                    self.emit(TokenEventKind::Adopted {
                        expires_at: newer.tokens.expires_at,
                    });
                    if !force && !newer.due(self.clock.now(), within) {
                        self.lock_state().clear_failures();
                        return Ok(TokenHandle(newer));
                    }
                    base = Some(newer);
                    if let Some(released) = released {
                        match Box::pin(self.retake_lease(released.owner)).await {
                            Ok(held) => *lease = held,
                            Err(e) => return self.valid_current(self.clock.now()).ok_or(e),
                        }
                    }
                    continue;
                }
                if let (Some((_, true)), Err(error)) = (&spent, &result) {
                    let details = error
                        .details()
                        .cloned()
                        .unwrap_or_else(|| ProviderDetails::new(self.grant.provider()));
                    tracing::warn!(account = %self.key, %error, "the refresh token was refused after an earlier refresh of it was interrupted: the provider probably rotated it and the new one was never saved");
                    self.emit(TokenEventKind::RefreshInterrupted);
                    break Err(Error::RefreshInterrupted { details });
                }
            }
            break result;
        };
        let received = std::time::Instant::now();

        match result {
            Ok(tokens) => {
                // The texts compared directly: both are ours (the token
                // sent and the one answered, often a copy of it), and the
                // constant-time `==` pays a call per byte on every refresh.
                fn text(set: &TokenSet) -> Option<&str> {
                    set.refresh_token.as_ref().map(|t| t.expose_secret())
                }
                let rotated = tokens.refresh_token.is_some()
                    && base
                        .as_ref()
                        .is_some_and(|b| text(&b.tokens) != text(&tokens));
                let expected = base.as_ref().and_then(|b| b.version());
                match self.save_newest(&tokens, expected, lease).await {
                    Ok(version) => {
                        tracing::debug!(
                            account = %self.key,
                            persist_us = u64::try_from(received.elapsed().as_micros()).unwrap_or(u64::MAX),
                            "new tokens saved"
                        );
                        let now = self.clock.now();
                        self.warn_if_short_lived(&tokens, now);
                        let expires_at = tokens.expires_at;
                        let handle = self.publish(tokens, version, now);
                        self.emit(TokenEventKind::Refreshed {
                            expires_at,
                            refresh_token_rotated: rotated,
                        });
                        Ok(handle)
                    }
                    Err(e) => {
                        let mut state = self.lock_state();
                        state.unsaved = Some(Box::new(tokens));
                        self.attention.store(true, Ordering::Release);
                        drop(state);
                        Err(self.save_failed(e))
                    }
                }
            }
            Err(error) if error.requires_reauthorization() => {
                tracing::warn!(account = %self.key, %error, "re-authorization required");
                let mut state = self.lock_state();
                state.latched = Some(Box::new(error.clone()));
                state.latch_checked_at = Some(self.clock.now());
                self.attention.store(true, Ordering::Release);
                drop(state);
                self.emit(TokenEventKind::ReauthorizationRequired);
                Err(error)
            }
            Err(error) => {
                let now = self.clock.now();
                let mut state = self.lock_state();
                state.failures = state.failures.saturating_add(1);
                let mut delay = self.backoff_delay(state.failures);
                if let Some(after) = error.retry_after() {
                    delay = delay.max(after);
                }
                let retry_at = crate::token_set::expiry_after(now, delay);
                state.retry_not_before = Some(retry_at);
                state.last_error = Some(Box::new(error.clone()));
                drop(state);
                self.emit(TokenEventKind::RefreshFailed {
                    error: error.class(),
                    retry_at,
                });
                match self.valid_current(now) {
                    Some(handle) if !force => {
                        tracing::warn!(account = %self.key, %error, "refresh failed; serving the still-valid token");
                        Ok(handle)
                    }
                    _ => {
                        tracing::warn!(account = %self.key, %error, "refresh failed");
                        Err(error)
                    }
                }
            }
        }
    }

    /// One request to the provider: a refresh from `base`, or a first
    /// fetch when there is nothing yet.
    async fn ask_provider(
        &self,
        base: Option<&Published>,
        now: SystemTime,
    ) -> Result<TokenSet, Error> {
        match base {
            Some(current) if current.tokens.refresh_token_expired_at(now) => {
                Err(Error::ReauthorizationRequired {
                    details: ProviderDetails::new(self.grant.provider())
                        .with_message("the refresh token has expired"),
                })
            }
            Some(current) => self.grant.refresh(&current.tokens).await,
            None => match self.grant.fetch_initial().await {
                Some(result) => result,
                None => Err(Error::ReauthorizationRequired {
                    details: ProviderDetails::new(self.grant.provider())
                        .with_message("no tokens are installed for this account"),
                }),
            },
        }
    }

    /// The stored set, if it is newer than `base` (another writer saved
    /// since `base` was read). For a rotating grant the winner of a race
    /// may still be saving when the loser hears "invalid refresh token", so
    /// the store is polled for [`ROTATION_RACE_GRACE`] before giving up.
    async fn newer_in_store(&self, base: Option<&Published>) -> Option<Arc<Published>> {
        let mut delay = Duration::from_millis(25);
        let mut waited = Duration::ZERO;
        loop {
            if let Some(newer) = self.newer_in_store_now(base).await {
                return Some(newer);
            }
            if !self.grant.rotates_refresh_token() || waited >= ROTATION_RACE_GRACE {
                return None;
            }
            tokio::time::sleep(delay).await;
            waited += delay;
            delay = (delay * 2).min(Duration::from_millis(400));
        }
    }

    /// The stored set, if it holds other tokens than `base` (a new version
    /// with the same tokens, such as another manager's "refresh started"
    /// record, is not newer: adopting it would spend a refused token again).
    async fn newer_in_store_now(&self, base: Option<&Published>) -> Option<Arc<Published>> {
        let stored = self.store.load(&self.key).await.ok()??;
        let newer = base.is_none_or(|b| {
            b.version().is_none_or(|v| stored.version != v)
                && (b.tokens.refresh_token != stored.tokens.refresh_token
                    || b.tokens.access_token.expose_secret()
                        != stored.tokens.access_token.expose_secret())
        });
        newer.then(|| self.published(stored.tokens, Some(stored.version)))
    }

    /// `tokens` at `version`, first seen now.
    fn published(&self, tokens: TokenSet, version: Option<u64>) -> Arc<Published> {
        Arc::new(Published::new(tokens, version, self.clock.now()))
    }

    /// Warns (once per manager) when the provider issues access tokens that
    /// live (from `now`) no longer than the configured skew: the margin is then bounded by
    /// half the token's lifetime, so that not every call refreshes.
    fn warn_if_short_lived(&self, tokens: &TokenSet, now: SystemTime) {
        let lifetime = tokens.expires_at.duration_since(now).unwrap_or_default();
        if lifetime <= self.skew && !self.warned_short_lived.swap(true, Ordering::Relaxed) {
            tracing::warn!(
                account = %self.key,
                lifetime_s = lifetime.as_secs(),
                skew_s = self.skew.as_secs(),
                "the provider issues access tokens that live no longer than the refresh skew: refreshing at half their lifetime instead"
            );
        }
    }

    fn backoff_delay(&self, failures: u32) -> Duration {
        let policy = RetryPolicy {
            max_attempts: u32::MAX,
            ..self.backoff
        };
        policy.backoff(failures)
    }

    fn save_failed(&self, error: Error) -> Error {
        tracing::error!(account = %self.key, %error, "cannot save new tokens; keeping them in memory and retrying on the next call");
        self.emit(TokenEventKind::SaveFailed);
        error
    }

    /// Publishes saved tokens, seen at `now`, and clears the failure state.
    fn publish(&self, tokens: TokenSet, version: u64, now: SystemTime) -> TokenHandle {
        let published = Arc::new(Published::new(tokens, Some(version), now));
        let mut state = self.lock_state();
        self.current.store(Some(Arc::clone(&published)));
        state.clear_failures();
        self.attention
            .store(state.latched.is_some(), Ordering::Release);
        TokenHandle(published)
    }

    /// Saves tokens that were just issued: they are the newest, so a
    /// version conflict (another writer since we read) is resolved by
    /// saving over the newer version. Under a lease the save is fenced; if
    /// the lease was overtaken (we outlived it), it is taken again (bounded
    /// wait) and the save repeated under the new one, since these tokens
    /// may hold the only valid refresh token.
    async fn save_newest(
        &self,
        tokens: &TokenSet,
        mut expected: Option<u64>,
        lease: &mut Option<HeldLease>,
    ) -> Result<u64, Error> {
        for _ in 0..8 {
            // Decided in one statement: the outcome (a whole set, on a
            // conflict) is not kept in the refresh task across what follows.
            let fenced = match self
                .save_maybe_fenced(tokens, expected, lease.as_ref().map(|h| &h.lease))
                .await?
            {
                SaveOutcome::Saved { version } => return Ok(version),
                SaveOutcome::Conflict { current } => {
                    expected = current.map(|c| c.version);
                    false
                }
                SaveOutcome::Fenced => true,
            };
            if fenced {
                tracing::warn!(account = %self.key, "the refresh lease lapsed and was taken over before the new tokens were saved; taking it again to save them");
                let owner = lease
                    .as_ref()
                    .map_or_else(|| self.lease_owner(), |held| held.owner.clone());
                // Boxed: a rare path, kept out of the refresh task's size.
                *lease = Box::pin(self.retake_lease(owner)).await?;
                expected = self.store.load(&self.key).await?.map(|s| s.version);
            }
        }
        Err(crate::lifecycle::store::store_error(
            "the stored entry kept changing during the save",
        ))
    }

    /// A compare-and-swap save, fenced by `lease` when there is one.
    async fn save_maybe_fenced(
        &self,
        tokens: &TokenSet,
        expected: Option<u64>,
        lease: Option<&Lease>,
    ) -> Result<SaveOutcome, Error> {
        match lease {
            Some(lease) => {
                self.store
                    .save_fenced(&self.key, tokens, expected, lease.fence)
                    .await
            }
            None => self.store.save(&self.key, tokens, expected).await,
        }
    }

    /// Step 2 on a store without leases: adopt a set another manager saved
    /// (done if it is not due), else refresh from ours.
    async fn adopt_stored(
        &self,
        ours: Option<Arc<Published>>,
        within: Duration,
        force: bool,
    ) -> LeaseStep {
        let now = self.clock.now();
        let stored = match self.store.load(&self.key).await {
            Ok(stored) => stored,
            Err(e) => {
                tracing::warn!(account = %self.key, error = %e, "cannot read the token store");
                return LeaseStep::Done(self.valid_current(now).ok_or(e));
            }
        };
        let base = match stored {
            Some(stored)
                if ours
                    .as_ref()
                    .is_none_or(|c| c.version().is_none_or(|v| stored.version != v)) =>
            {
                let adopted = self.published(stored.tokens, Some(stored.version));
                self.current.store(Some(Arc::clone(&adopted)));
                if ours.is_some() {
                    self.emit(TokenEventKind::Adopted {
                        expires_at: adopted.tokens.expires_at,
                    });
                }
                if !force && !adopted.due(now, within) {
                    self.lock_state().clear_failures();
                    return LeaseStep::Done(Ok(TokenHandle(adopted)));
                }
                Some(adopted)
            }
            _ => ours,
        };
        LeaseStep::Refresh { base, lease: None }
    }

    /// Steps 2 and 3 of [`refresh_flow`](Self::refresh_flow): the refresh
    /// lease and the stored set read under it (or, on a store without
    /// leases, the stored set), or the set a holder saved while we waited
    /// (when that answers the call), or the reason to stop.
    async fn take_lease(
        &self,
        mut base: Option<Arc<Published>>,
        within: Duration,
        force: bool,
    ) -> LeaseStep {
        // What the caller saw: for a forced refresh, a set with another
        // access token answers the call.
        let seen = base.clone();
        let started = std::time::Instant::now();
        let limit = self.lease.ttl.saturating_add(LEASE_WAIT_SLACK);
        let mut delay = LEASE_POLL_FIRST;
        // Made once for this refresh, and kept with the lease.
        let owner = self.lease_owner();
        // When we last asked for the lease (the first time: as we started).
        let mut asked = started;
        // Whether the store was read for a caller that held no set.
        let mut base_read = false;
        loop {
            let outcome = self
                .store
                .acquire_lease(&self.key, &owner, self.lease.ttl)
                .await;
            match outcome {
                Ok(LeaseOutcome::Acquired(lease)) => {
                    // The previous holder may have saved just before it
                    // released the lease: read again now that it is ours
                    // (without copying the set when it is still the one
                    // we hold).
                    let known = base.as_ref().and_then(|b| b.version());
                    let stored = match known {
                        Some(known) => self.store.load_changed(&self.key, known).await,
                        None => self.store.load(&self.key).await,
                    };
                    let stored = match stored {
                        Ok(stored) => stored,
                        Err(e) => {
                            self.release(&lease).await;
                            return LeaseStep::Done(self.valid_current(self.clock.now()).ok_or(e));
                        }
                    };
                    if let Some(stored) = stored
                        && base
                            .as_ref()
                            .is_none_or(|b| b.version() != Some(stored.version))
                    {
                        let adopted = self.published(stored.tokens, Some(stored.version));
                        self.current.store(Some(Arc::clone(&adopted)));
                        if base.is_some() {
                            self.emit(TokenEventKind::Adopted {
                                expires_at: adopted.tokens.expires_at,
                            });
                        }
                        // What was stored before this call answers a forced
                        // refresh only if the caller had seen another token
                        // (someone refreshed since); a caller that had none
                        // asked for a refresh.
                        if (!force || seen.is_some())
                            && self.answers(&adopted, seen.as_deref(), within, force)
                        {
                            self.release(&lease).await;
                            self.lock_state().clear_failures();
                            return LeaseStep::Done(Ok(TokenHandle(adopted)));
                        }
                        base = Some(adopted);
                    } else if !force
                        && let Some(read) =
                            base.as_ref().filter(|b| !b.due(self.clock.now(), within))
                    {
                        // The set read while the lease was held (by a
                        // holder that saved it before we first looked) is
                        // fresh: nothing to refresh.
                        let read = Arc::clone(read);
                        self.current.store(Some(Arc::clone(&read)));
                        self.release(&lease).await;
                        self.lock_state().clear_failures();
                        return LeaseStep::Done(Ok(TokenHandle(read)));
                    }
                    return LeaseStep::Refresh {
                        base,
                        lease: Some(HeldLease {
                            lease,
                            owner,
                            since: asked,
                        }),
                    };
                }
                Ok(LeaseOutcome::Held { expires_at }) => {
                    if started.elapsed() >= limit {
                        tracing::warn!(account = %self.key, waited_ms = u64::try_from(limit.as_millis()).unwrap_or(u64::MAX), "the refresh lease stayed held by another process");
                        return LeaseStep::Done(self.valid_current(self.clock.now()).ok_or_else(
                            || Error::StoreBusy {
                                message: format!(
                                    "the refresh lease of {} stayed held by another process for {} s",
                                    self.key,
                                    limit.as_secs()
                                ),
                            },
                        ));
                    }
                    // A caller that holds no set yet: what the store holds
                    // now is the base, so that only what the holder saves
                    // from here on answers the call (a forced refresh must
                    // not be answered by the set it was called to replace).
                    if base.is_none() && !base_read {
                        base_read = true;
                        if let Ok(Some(stored)) = self.store.load(&self.key).await {
                            base = Some(self.published(stored.tokens, Some(stored.version)));
                        }
                    }
                    // Until the lease lapses (by our clock, at most a
                    // lease from now, and again at least every second in
                    // case it is released without a new set), only read
                    // the store for the set the holder saves: asking for
                    // the lease is a write on some stores.
                    let ask_again = std::time::Instant::now()
                        + expires_at
                            .duration_since(SystemTime::now())
                            .unwrap_or_default()
                            .min(self.lease.ttl)
                            .min(LEASE_ASK_AGAIN);
                    loop {
                        tokio::time::sleep(delay).await;
                        delay = (delay * 2).min(LEASE_POLL_MAX);
                        if let Some(newer) = self.newer_in_store_now(base.as_deref()).await {
                            self.current.store(Some(Arc::clone(&newer)));
                            self.emit(TokenEventKind::Adopted {
                                expires_at: newer.tokens.expires_at,
                            });
                            if self.answers(&newer, seen.as_deref(), within, force) {
                                self.lock_state().clear_failures();
                                return LeaseStep::Done(Ok(TokenHandle(newer)));
                            }
                            base = Some(newer);
                        }
                        if std::time::Instant::now() >= ask_again || started.elapsed() >= limit {
                            break;
                        }
                    }
                    asked = std::time::Instant::now();
                }
                Ok(_) => return self.adopt_stored(base, within, force).await,
                Err(e) => {
                    tracing::warn!(account = %self.key, error = %e, "cannot take the refresh lease: not refreshing");
                    return LeaseStep::Done(self.valid_current(self.clock.now()).ok_or(e));
                }
            }
        }
    }

    /// Takes the lease again after it was overtaken, waiting (bounded) for
    /// the holder to finish.
    async fn retake_lease(&self, owner: LeaseOwner) -> Result<Option<HeldLease>, Error> {
        let started = std::time::Instant::now();
        let limit = self.lease.ttl.saturating_add(LEASE_WAIT_SLACK);
        let mut delay = LEASE_POLL_FIRST;
        loop {
            let asked = std::time::Instant::now();
            match self
                .store
                .acquire_lease(&self.key, &owner, self.lease.ttl)
                .await?
            {
                LeaseOutcome::Acquired(lease) => {
                    return Ok(Some(HeldLease {
                        lease,
                        owner,
                        since: asked,
                    }));
                }
                LeaseOutcome::Held { .. } if started.elapsed() < limit => {
                    tokio::time::sleep(delay).await;
                    delay = (delay * 2).min(LEASE_POLL_MAX);
                }
                LeaseOutcome::Held { .. } => {
                    return Err(Error::StoreBusy {
                        message: format!(
                            "the refresh lease of {} stayed held by another process for {} s",
                            self.key,
                            limit.as_secs()
                        ),
                    });
                }
                _ => return Ok(None),
            }
        }
    }

    /// The owner this manager takes leases as: its group's, with an id of
    /// its own (its address, salted: unique while it lives, and it lives
    /// while a refresh of it runs).
    fn lease_owner(&self) -> LeaseOwner {
        self.lease.owner_of(std::ptr::from_ref(self) as usize)
    }

    /// Whether less of `held` remains than the grant's longest refresh plus
    /// half the lease's margin beyond it (measured from before the lease
    /// was asked for, so never optimistic).
    fn lease_running_short(&self, held: &HeldLease) -> bool {
        let longest = self.grant.max_refresh_duration().unwrap_or_default();
        let margin = self.lease.ttl.saturating_sub(longest);
        let remaining = self.lease.ttl.saturating_sub(held.since.elapsed());
        remaining < longest.saturating_add(margin / 2)
    }

    /// Releases `lease` (a failure only shortens nothing: it lapses).
    async fn release(&self, lease: &Lease) {
        if let Err(error) = self.store.release_lease(&self.key, lease).await {
            tracing::warn!(account = %self.key, %error, "cannot release the refresh lease; it lapses by itself");
        }
    }

    /// Whether `new`, saved by another manager while we waited, answers
    /// this refresh: it is not due, and for a forced refresh its access
    /// token is not the one the caller had.
    fn answers(
        &self,
        new: &Published,
        seen: Option<&Published>,
        within: Duration,
        force: bool,
    ) -> bool {
        !new.due(self.clock.now(), within)
            && (!force
                || seen.is_none_or(|seen| {
                    seen.tokens.access_token.expose_secret()
                        != new.tokens.access_token.expose_secret()
                }))
    }
}

/// A lease we hold, the owner we asked for it as, and when we asked.
struct HeldLease {
    lease: Lease,
    owner: LeaseOwner,
    since: std::time::Instant,
}

/// What [`Inner::take_lease`] decided.
enum LeaseStep {
    /// Refresh from `base`, under `lease` (`None`: the store does not
    /// lease).
    Refresh {
        base: Option<Arc<Published>>,
        lease: Option<HeldLease>,
    },
    /// The call is answered (a set the holder saved) or cannot go on.
    Done(Result<TokenHandle, Error>),
}

/// How much longer than a lease a manager waits for its holder.
const LEASE_WAIT_SLACK: Duration = Duration::from_secs(2);
/// The first pause between reads of the store while a lease is held.
const LEASE_POLL_FIRST: Duration = Duration::from_millis(50);
/// While a lease is held by another owner, how often to ask for it again
/// at least (it may have been released without a new set).
const LEASE_ASK_AGAIN: Duration = Duration::from_secs(1);
/// The longest pause between reads of the store while a lease is held.
const LEASE_POLL_MAX: Duration = Duration::from_millis(250);

/// A refresh in flight: its result, once it ends, for every caller that
/// waits for it (one allocation, shared by all of them).
#[derive(Default)]
struct Flight {
    result: OnceLock<Result<TokenHandle, Error>>,
    done: Notify,
}

impl Flight {
    /// The refresh's result, once it ends.
    async fn wait(&self) -> Result<TokenHandle, Error> {
        loop {
            // Registered before the check: a result published in between
            // still wakes it.
            let done = self.done.notified();
            if let Some(result) = self.result.get() {
                return result.clone();
            }
            done.await;
        }
    }
}

/// Ends the flight when the refresh task ends, even by panic (or when the
/// task is dropped unpolled): clears the in-flight marker, then publishes
/// the result (an error if the task left none) and wakes the waiters.
struct FlightGuard {
    inner: Arc<Inner>,
    flight: Arc<Flight>,
    result: Option<Result<TokenHandle, Error>>,
}

impl FlightGuard {
    /// The result to publish.
    fn keep(&mut self, result: Result<TokenHandle, Error>) {
        self.result = Some(result);
    }
}

impl Drop for FlightGuard {
    fn drop(&mut self) {
        self.inner.lock_state().in_flight = None;
        let result = self.result.take().unwrap_or_else(|| {
            Err(crate::lifecycle::store::store_error(
                "the refresh task ended without a result (it panicked or the runtime shut down)",
            ))
        });
        let _ = self.flight.result.set(result);
        self.flight.done.notify_waiters();
    }
}
