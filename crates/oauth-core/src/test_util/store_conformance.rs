//! The token-store conformance suite: what every [`TokenStore`] must do,
//! checked against a real instance. The Memory, File, PostgreSQL and Redis
//! stores all run it; run it on your own store too, from a test with a
//! Tokio runtime whose timer is enabled (`#[tokio::test]` is enough):
//!
//! ```
//! use oauth_core::MemoryStore;
//! use oauth_core::test_util::store_conformance::{check_store, check_store_with_leases};
//! use std::sync::Arc;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let store = Arc::new(MemoryStore::new());
//! // Two handles on the same storage (here the same instance; for a
//! // database, two connections or clients; for a file, two stores on the
//! // same path).
//! check_store_with_leases(store.clone(), store.clone()).await;
//!
//! // A store without refresh leases (answering `LeaseOutcome::NotSupported`)
//! // runs `check_store`, which skips the lease checks with a warning.
//! check_store(store.clone(), store).await;
//! # }
//! ```
//!
//! Both functions panic on the first rule the store breaks, with a message
//! that names the check (in brackets) and the rule; a store error is a
//! failure too. The suite takes about a second on an in-memory store (it
//! sleeps past a 300 ms lease twice) and writes a few hundred times.
//!
//! # What is checked
//! - **compare-and-swap** (`cas`): creating an entry gives version 1, each
//!   save with the right expected version adds one; a wrong expected
//!   version, `None` on an existing entry or `Some` on a missing one is a
//!   [`SaveOutcome::Conflict`] carrying what is stored (the very tokens
//!   saved); versions are per entry; both handles see every change;
//! - **missing keys and deletes** (`delete`): loading a missing key is
//!   `None`, deleting it is no error; a deleted entry loads as `None`, is no
//!   longer listed, and a save expecting its old version conflicts with
//!   `current: None`. **Rule chosen** (as [`MemoryStore`](crate::MemoryStore)
//!   does): an entry created again after a delete (`expected: None`) starts
//!   again at **version 1**, like any new entry;
//! - **listing** (`listing`): the paging contract of
//!   [`TokenStore::list_accounts`] on 25 ids chosen to trip non-byte orders
//!   (digits, both cases, punctuation, a space, a `/`, multi-byte UTF-8),
//!   paged by 7, with an `after` that is not stored, `limit == 0`, and two
//!   neighbouring providers (`<p>-other`, `<p>0`) that must not show; and
//!   [`list_all_accounts`];
//! - **concurrent savers** (`savers`): 20 tasks across both handles each
//!   load and save (expecting the loaded version) until each has saved 3
//!   times, starting from no entry: every version from 1 to 60 is granted
//!   exactly once, and the final entry is the last one saved (no lost
//!   update);
//! - **fence 0** (`fence-zero`): on an account never leased,
//!   `save_fenced(.., 0)` is a plain save (creating gives version 1; this
//!   part runs without leases too); once a lease was granted (and even
//!   after its release), fence 0 is [`SaveOutcome::Fenced`], for an update
//!   as for a creation;
//! - **leases** (see [`lease`](crate::lifecycle::lease) for the contract),
//!   on accounts without a token entry as well as with one:
//!   - `lease-exclusion`: a second owner gets [`LeaseOutcome::Held`] with
//!     the holder's expiry (within 1 s); the holder is granted again with a
//!     higher fencing number; releasing with a wrong owner, or with the
//!     right owner but the fence from before its re-grant, is a no-op (a third party still gets `Held`); after the release
//!     another owner acquires at once; lease records never create an entry
//!     nor a listed account;
//!   - `lease-race`: 16 owners across both handles race for one account's
//!     lease: exactly one is granted, the others get `Held`;
//!   - `lease-delete`: fencing numbers keep growing across
//!     [`delete`](TokenStore::delete) of the entry, and a fence from before
//!     the delete is refused;
//!   - `lease-expiry`: with a 300 ms lease, a fenced save after the lease
//!     expired, nobody having taken it over, is still saved (time alone
//!     never refuses a write); another owner then acquires with a higher
//!     fence; the overtaken fence is [`SaveOutcome::Fenced`] and writes
//!     nothing; a fence never granted is `Fenced`; **`Fenced` wins over a
//!     version mismatch** (as `MemoryStore`: the fence is checked first); a
//!     wrong version with the current fence is `Conflict`;
//!   - `lease-large-fences`: fences never granted beyond a signed 64-bit
//!     integer (`u64::MAX`, `i64::MAX + 1`) and `i64::MAX` are `Fenced` and
//!     write nothing, on an account never leased and on a leased one with
//!     an entry, whatever the expected version; releasing with the
//!     holder's owner and such a fence is a no-op;
//!   - `lease-fenced-create`: creating (`expected: None`) with the current
//!     fence when the entry exists is a `Conflict` carrying the entry;
//!     expecting a version of a missing entry with the current fence is a
//!     `Conflict` with `current: None`;
//!   - `lease-plain-save`: **leases do not block plain saves**: a
//!     [`save`](TokenStore::save) creating or updating an entry while
//!     another owner holds an unexpired lease is saved, and leaves the
//!     lease held and its fence current (the holder's fenced save expecting
//!     the old version is then a `Conflict`, not `Fenced`).
//!
//!   Every fencing number granted during the suite is greater than every
//!   earlier one for the same account, and a granted lease names its owner
//!   and expires about `ttl` after the grant (within 5 s, for stores whose
//!   clock is another machine's).
//! - **secret hygiene**: every token saved contains a distinctive text,
//!   which must never appear in the `Debug` of either store handle, nor in
//!   the `Debug` of anything a store call returns (outcomes, loaded sets,
//!   errors).
//!
//! A store that answers [`LeaseOutcome::NotSupported`] passes
//! [`check_store`] without the lease checks (logged with `tracing::warn!`);
//! [`check_store_with_leases`] fails on it, for stores that must lease.
//!
//! Every check uses a provider name of its own, made unique per run
//! (`conformance-<check>-<random>`), so a database shared with other runs
//! (or other engineers) can be used as it is; nothing is cleaned up.

// Panicking is how this suite reports a broken rule: `panic!`, `unwrap` and
// `expect` are its assertions.
#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)]

use crate::clock::from_unix_millis;
use crate::error::Error;
use crate::lifecycle::{
    AccountKey, Lease, LeaseOutcome, LeaseOwner, SaveOutcome, TokenStore, Versioned,
    list_all_accounts,
};
use crate::secret::{AccessToken, RefreshToken};
use crate::token_set::TokenSet;
use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

/// Every token the suite saves contains this; no `Debug` may show it.
const SECRET: &str = "s3cret-conformance-7f3a9c";

/// A lease that outlives the check using it.
const LONG_TTL: Duration = Duration::from_secs(30);
/// A lease the suite waits out.
const SHORT_TTL: Duration = Duration::from_millis(300);
/// How long past [`SHORT_TTL`] the suite sleeps.
const EXPIRY_MARGIN: Duration = Duration::from_millis(150);
/// How far a `Held` expiry may be from the holder's lease's.
const HELD_TOLERANCE: Duration = Duration::from_secs(1);
/// How far a granted lease's expiry may be from `ttl` after the call.
const GRANT_TOLERANCE: Duration = Duration::from_secs(5);

/// Runs every check against `a` and `b`, two handles on the same storage
/// (the same instance, two connections to one database, two stores on one
/// file). A store that answers [`LeaseOutcome::NotSupported`] skips the
/// lease checks (with a `tracing` warning); use
/// [`check_store_with_leases`] for a store that must lease.
///
/// See the [module documentation](self) for what is checked and how to run
/// it.
///
/// # Panics
/// On the first rule the store breaks (or on a store error), with a message
/// that names the check and the rule.
pub async fn check_store(a: Arc<dyn TokenStore>, b: Arc<dyn TokenStore>) {
    run(a, b, Leases::IfSupported).await;
}

/// [`check_store`], and fails if the store answers
/// [`LeaseOutcome::NotSupported`]: for stores that must implement refresh
/// leases (Memory, File, PostgreSQL, Redis), so that the lease checks can
/// never be skipped silently.
///
/// # Panics
/// As [`check_store`], and if the store does not support leases.
pub async fn check_store_with_leases(a: Arc<dyn TokenStore>, b: Arc<dyn TokenStore>) {
    run(a, b, Leases::Required).await;
}

/// Whether the lease checks may be skipped.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Leases {
    IfSupported,
    Required,
}

async fn run(a: Arc<dyn TokenStore>, b: Arc<dyn TokenStore>, leases: Leases) {
    let handles = Handles { a, b };
    compare_and_swap(&handles.check("cas")).await;
    missing_and_delete(&handles.check("delete")).await;
    listing(&handles.check("listing")).await;
    concurrent_savers(&handles.check("savers")).await;
    let leasing = lease_support(&handles.check("lease-support"), leases).await;
    fence_zero(&handles.check("fence-zero"), leasing).await;
    if leasing {
        lease_exclusion(&handles.check("lease-exclusion")).await;
        lease_race(&handles.check("lease-race")).await;
        lease_across_delete(&handles.check("lease-delete")).await;
        lease_expiry(&handles.check("lease-expiry")).await;
        lease_large_fences(&handles.check("lease-large-fences")).await;
        lease_fenced_create(&handles.check("lease-fenced-create")).await;
        lease_plain_saves(&handles.check("lease-plain-save")).await;
    }
    for (name, store) in [("a", &handles.a), ("b", &handles.b)] {
        assert_clean(
            "secret-hygiene",
            &format!("the Debug of store handle {name}"),
            &format!("{store:?}"),
        );
    }
}

/// The two handles of the run.
struct Handles {
    a: Arc<dyn TokenStore>,
    b: Arc<dyn TokenStore>,
}

impl Handles {
    /// Both handles, labelled for `check`.
    fn check(&self, check: &'static str) -> Pair {
        Pair {
            a: Handle {
                check,
                name: "a",
                store: self.a.clone(),
            },
            b: Handle {
                check,
                name: "b",
                store: self.b.clone(),
            },
            provider: provider(check),
        }
    }
}

/// Both handles for one check, and the check's provider name.
struct Pair {
    a: Handle,
    b: Handle,
    provider: String,
}

impl Pair {
    fn key(&self, account: &str) -> AccountKey {
        AccountKey::new(self.provider.clone(), account)
    }

    /// Handle `a` for even `i`, `b` for odd.
    fn either(&self, i: usize) -> &Handle {
        if i.is_multiple_of(2) {
            &self.a
        } else {
            &self.b
        }
    }
}

/// One store handle: every call fails the check on a store error and on a
/// result whose `Debug` shows a token.
#[derive(Clone)]
struct Handle {
    check: &'static str,
    name: &'static str,
    store: Arc<dyn TokenStore>,
}

impl Handle {
    fn ok<T: fmt::Debug>(&self, op: &str, result: Result<T, Error>) -> T {
        assert_clean(
            self.check,
            &format!("what {}.{op} returned", self.name),
            &format!("{result:?}"),
        );
        match result {
            Ok(value) => value,
            Err(e) => panic!(
                "store conformance [{}]: {}.{op} failed: {e:?}",
                self.check, self.name
            ),
        }
    }

    async fn load(&self, key: &AccountKey) -> Option<Versioned> {
        let result = self.store.load(key).await;
        self.ok("load", result)
    }

    async fn save(
        &self,
        key: &AccountKey,
        tokens: &TokenSet,
        expected: Option<u64>,
    ) -> SaveOutcome {
        let result = self.store.save(key, tokens, expected).await;
        self.ok("save", result)
    }

    async fn save_fenced(
        &self,
        key: &AccountKey,
        tokens: &TokenSet,
        expected: Option<u64>,
        fence: u64,
    ) -> SaveOutcome {
        let result = self.store.save_fenced(key, tokens, expected, fence).await;
        self.ok("save_fenced", result)
    }

    async fn delete(&self, key: &AccountKey) {
        let result = self.store.delete(key).await;
        self.ok("delete", result);
    }

    async fn list(&self, provider: &str, after: Option<&str>, limit: usize) -> Vec<String> {
        let result = self.store.list_accounts(provider, after, limit).await;
        self.ok("list_accounts", result)
    }

    async fn list_all(&self, provider: &str) -> Vec<String> {
        let result = list_all_accounts(&*self.store, provider).await;
        self.ok("list_all_accounts", result)
    }

    async fn acquire(&self, key: &AccountKey, owner: &LeaseOwner, ttl: Duration) -> LeaseOutcome {
        let result = self.store.acquire_lease(key, owner, ttl).await;
        self.ok("acquire_lease", result)
    }

    /// A lease that must be granted: checks its owner and expiry.
    async fn granted(
        &self,
        key: &AccountKey,
        owner: &LeaseOwner,
        ttl: Duration,
        rule: &str,
    ) -> Lease {
        let before = SystemTime::now();
        let outcome = self.acquire(key, owner, ttl).await;
        let after = SystemTime::now();
        let LeaseOutcome::Acquired(lease) = outcome else {
            panic!(
                "store conformance [{}]: {rule}: {}.acquire_lease for {owner} must be granted, got {outcome:?}",
                self.check, self.name
            );
        };
        assert_eq!(
            lease.owner, *owner,
            "store conformance [{}]: a granted lease names the owner that asked for it",
            self.check
        );
        let earliest = (before + ttl)
            .checked_sub(GRANT_TOLERANCE)
            .unwrap_or(before);
        assert!(
            lease.expires_at >= earliest && lease.expires_at <= after + ttl + GRANT_TOLERANCE,
            "store conformance [{}]: a lease granted for {ttl:?} expires about {ttl:?} after the grant \
             (within {GRANT_TOLERANCE:?} of this host's clock), got {:?} from now",
            self.check,
            lease.expires_at.duration_since(after).ok()
        );
        lease
    }

    /// An acquire that must answer `Held` with `holder`'s expiry.
    async fn held(&self, key: &AccountKey, owner: &LeaseOwner, holder: &Lease, rule: &str) {
        match self.acquire(key, owner, LONG_TTL).await {
            LeaseOutcome::Held { expires_at } => assert!(
                close(expires_at, holder.expires_at, HELD_TOLERANCE),
                "store conformance [{}]: {rule}: Held must report the holder's expiry \
                 ({:?}), got {expires_at:?}",
                self.check,
                holder.expires_at
            ),
            other => panic!(
                "store conformance [{}]: {rule}: {}.acquire_lease for {owner} while {} holds \
                 the lease (fence {}) must answer Held, got {other:?}",
                self.check, self.name, holder.owner, holder.fence
            ),
        }
    }

    async fn release(&self, key: &AccountKey, lease: &Lease) {
        let result = self.store.release_lease(key, lease).await;
        self.ok("release_lease", result);
    }
}

/// Fails `check` if `shown` contains a token.
fn assert_clean(check: &str, what: &str, shown: &str) {
    // The text is not printed: it holds a token.
    assert!(
        !shown.contains(SECRET),
        "store conformance [{check}]: secret hygiene: {what} shows a token in its Debug output"
    );
}

/// A provider name unique to this run and `check`.
fn provider(check: &str) -> String {
    format!("conformance-{check}-{:016x}", fastrand::u64(..))
}

/// A distinct token set per `tag`, every secret containing [`SECRET`];
/// instants in whole milliseconds, as every serializing store keeps them.
fn tokens(tag: &str) -> TokenSet {
    TokenSet::new(
        AccessToken::new(format!("AT-{SECRET}-{tag}")),
        from_unix_millis(1_900_000_000_123),
    )
    .with_refresh_token(
        RefreshToken::new(format!("RT-{SECRET}-{tag}")),
        Some(from_unix_millis(1_990_000_000_456)),
    )
    .with_issued_at(from_unix_millis(1_800_000_000_789))
}

fn owner(name: &str) -> LeaseOwner {
    LeaseOwner::new(format!("conformance-{name}")).expect("a valid owner")
}

fn close(x: SystemTime, y: SystemTime, tolerance: Duration) -> bool {
    let distance = x
        .duration_since(y)
        .or_else(|_| y.duration_since(x))
        .unwrap_or(Duration::MAX);
    distance <= tolerance
}

/// Fails unless `outcome` is `Saved` at `version`.
fn expect_saved(check: &str, outcome: &SaveOutcome, version: u64, rule: &str) {
    assert_eq!(
        *outcome,
        SaveOutcome::Saved { version },
        "store conformance [{check}]: {rule}"
    );
}

/// Fails unless `outcome` is a `Conflict` reporting `current` (version and
/// tokens).
fn expect_conflict(
    check: &str,
    outcome: &SaveOutcome,
    current: Option<(u64, &TokenSet)>,
    rule: &str,
) {
    let SaveOutcome::Conflict { current: reported } = outcome else {
        panic!("store conformance [{check}]: {rule}: expected a Conflict, got {outcome:?}");
    };
    match (reported, current) {
        (None, None) => {}
        (Some(reported), Some((version, tokens))) => {
            assert_eq!(
                reported.version, version,
                "store conformance [{check}]: {rule}: a Conflict reports the stored version"
            );
            assert!(
                reported.tokens == *tokens,
                "store conformance [{check}]: {rule}: a Conflict reports the stored tokens, \
                 equal to what was saved"
            );
        }
        (reported, _) => panic!(
            "store conformance [{check}]: {rule}: a Conflict reports what is stored: expected \
             version {:?}, got {:?}",
            current.map(|(v, _)| v),
            reported.as_ref().map(|v| v.version)
        ),
    }
}

/// Fails unless `loaded` is the entry `version` holding `tokens`.
fn expect_entry(
    check: &str,
    loaded: Option<&Versioned>,
    version: u64,
    tokens: &TokenSet,
    rule: &str,
) {
    assert_eq!(
        loaded.map(|v| v.version),
        Some(version),
        "store conformance [{check}]: {rule}: the entry's version"
    );
    assert!(
        loaded.is_some_and(|v| v.tokens == *tokens),
        "store conformance [{check}]: {rule}: the entry's tokens equal what was saved"
    );
}

/// Creation, versions, conflicts, seen through both handles.
async fn compare_and_swap(p: &Pair) {
    let c = p.a.check;
    let key = p.key("seller-1");
    let (t1, t2, t3, tx) = (
        tokens("cas-1"),
        tokens("cas-2"),
        tokens("cas-3"),
        tokens("cas-x"),
    );

    assert!(
        p.a.load(&key).await.is_none(),
        "store conformance [{c}]: a new key has no entry"
    );
    let outcome = p.a.save(&key, &t1, Some(1)).await;
    expect_conflict(
        c,
        &outcome,
        None,
        "saving a missing entry expecting version 1 conflicts (current: None)",
    );
    let outcome = p.a.save(&key, &t1, None).await;
    expect_saved(
        c,
        &outcome,
        1,
        "creating an entry (expected None) gives version 1",
    );

    let seen = p.b.load(&key).await;
    expect_entry(
        c,
        seen.as_ref(),
        1,
        &t1,
        "the other handle sees the created entry",
    );
    let outcome = p.b.save(&key, &tx, None).await;
    expect_conflict(
        c,
        &outcome,
        Some((1, &t1)),
        "creating an existing entry (expected None) conflicts",
    );
    let outcome = p.b.save(&key, &t2, Some(1)).await;
    expect_saved(
        c,
        &outcome,
        2,
        "a save expecting the current version adds one to it",
    );

    let outcome = p.a.save(&key, &tx, Some(1)).await;
    expect_conflict(
        c,
        &outcome,
        Some((2, &t2)),
        "a save expecting an older version conflicts",
    );
    let outcome = p.a.save(&key, &tx, Some(7)).await;
    expect_conflict(
        c,
        &outcome,
        Some((2, &t2)),
        "a save expecting a version never stored conflicts",
    );
    let seen = p.a.load(&key).await;
    expect_entry(
        c,
        seen.as_ref(),
        2,
        &t2,
        "a conflicting save writes nothing",
    );

    let outcome = p.a.save(&key, &t3, Some(2)).await;
    expect_saved(
        c,
        &outcome,
        3,
        "a save expecting the current version adds one to it",
    );
    let seen = p.b.load(&key).await;
    expect_entry(c, seen.as_ref(), 3, &t3, "the other handle sees every save");

    // Versions belong to entries.
    let other = p.key("seller-2");
    let outcome = p.b.save(&other, &t1, None).await;
    expect_saved(
        c,
        &outcome,
        1,
        "another account's entry starts at version 1",
    );
    let seen = p.a.load(&key).await;
    expect_entry(
        c,
        seen.as_ref(),
        3,
        &t3,
        "saving one account leaves the others alone",
    );
}

/// Missing keys, deletes, and entries created again.
async fn missing_and_delete(p: &Pair) {
    let c = p.a.check;
    let key = p.key("seller-1");
    let kept = p.key("seller-2");
    let (t1, t2, t3) = (tokens("del-1"), tokens("del-2"), tokens("del-3"));

    assert!(
        p.a.load(&key).await.is_none(),
        "store conformance [{c}]: loading a missing key gives None"
    );
    p.a.delete(&key).await; // no error: it is absent
    assert!(
        p.b.load(&key).await.is_none(),
        "store conformance [{c}]: deleting a missing key creates nothing"
    );

    expect_saved(
        c,
        &p.a.save(&key, &t1, None).await,
        1,
        "creating an entry gives version 1",
    );
    expect_saved(
        c,
        &p.a.save(&key, &t2, Some(1)).await,
        2,
        "a save adds one to the version",
    );
    expect_saved(
        c,
        &p.a.save(&kept, &t1, None).await,
        1,
        "creating an entry gives version 1",
    );
    p.a.delete(&key).await;
    assert!(
        p.b.load(&key).await.is_none(),
        "store conformance [{c}]: a deleted entry loads as None (through the other handle too)"
    );
    assert_eq!(
        p.b.list(&p.provider, None, 10).await,
        ["seller-2"],
        "store conformance [{c}]: a deleted entry is no longer listed, the others are"
    );
    let seen = p.a.load(&kept).await;
    expect_entry(
        c,
        seen.as_ref(),
        1,
        &t1,
        "deleting one entry leaves the others",
    );

    let outcome = p.b.save(&key, &t3, Some(2)).await;
    expect_conflict(
        c,
        &outcome,
        None,
        "a save expecting the version of a deleted entry conflicts (current: None)",
    );
    // The rule (MemoryStore's): an entry created again starts at version 1.
    let outcome = p.b.save(&key, &t3, None).await;
    expect_saved(
        c,
        &outcome,
        1,
        "an entry created again after a delete (expected None) starts again at version 1",
    );
    let seen = p.a.load(&key).await;
    expect_entry(
        c,
        seen.as_ref(),
        1,
        &t3,
        "the entry created again is seen by the other handle",
    );
    assert_eq!(
        p.a.list(&p.provider, None, 10).await,
        ["seller-1", "seller-2"],
        "store conformance [{c}]: an entry created again is listed again"
    );

    p.a.delete(&key).await;
    p.b.delete(&key).await; // twice: no error
    assert!(
        p.a.load(&key).await.is_none(),
        "store conformance [{c}]: deleting twice leaves nothing"
    );
}

/// 25 ids whose byte order differs from case-insensitive, numeric and
/// locale orders.
const LISTED: [&str; 25] = [
    "seller-1",
    "a",
    "B",
    "0",
    "10",
    "9",
    "00",
    "A",
    "AB",
    "Z",
    "_",
    "a b",
    "a-b",
    "a/b",
    "a0",
    "aB",
    "ab",
    "b",
    "z",
    "~",
    "\u{e9}",
    "\u{df}",
    "\u{65e5}\u{672c}",
    "\u{1f44d}",
    "Seller-1",
];

/// The paging contract of `list_accounts`, and `list_all_accounts`.
async fn listing(p: &Pair) {
    let c = p.a.check;
    let t = tokens("list");
    for (i, account) in LISTED.iter().enumerate() {
        let outcome = p.either(i).save(&p.key(account), &t, None).await;
        expect_saved(c, &outcome, 1, "creating an entry gives version 1");
    }
    // Neighbours: `<p>-other` sorts before `<p>/`, `<p>0` after it.
    for neighbour in [format!("{}-other", p.provider), format!("{}0", p.provider)] {
        for account in ["0", "m", "\u{1f44d}"] {
            let key = AccountKey::new(neighbour.clone(), account);
            expect_saved(
                c,
                &p.b.save(&key, &t, None).await,
                1,
                "creating an entry gives version 1",
            );
        }
    }
    let mut expected: Vec<String> = LISTED.iter().map(|s| (*s).to_owned()).collect();
    expected.sort();

    for (name, handle) in [("a", &p.a), ("b", &p.b)] {
        // Pages of 7: 7, 7, 7, 4, then nothing.
        let mut after: Option<String> = None;
        for (pages, chunk) in expected.chunks(7).enumerate() {
            let page = handle.list(&p.provider, after.as_deref(), 7).await;
            assert_eq!(
                page, chunk,
                "store conformance [{c}]: page {pages} (by 7, after {after:?}) through {name}: ids in \
                 ascending byte order, strictly after `after`, exactly `limit` while more remain, \
                 no other provider's"
            );
            after = page.last().cloned();
        }
        let rest = handle.list(&p.provider, after.as_deref(), 7).await;
        assert!(
            rest.is_empty(),
            "store conformance [{c}]: after the last id, the page is empty (got {rest:?})"
        );
    }

    // `after` need not be stored: "a." sorts between "a-b" and "a/b".
    let page = p.a.list(&p.provider, Some("a."), 100).await;
    let tail: Vec<String> = expected
        .iter()
        .filter(|id| id.as_str() > "a.")
        .cloned()
        .collect();
    assert_eq!(
        page, tail,
        "store conformance [{c}]: an `after` that is not a stored id pages from where it would sort"
    );
    let page = p.b.list(&p.provider, Some(""), 100).await;
    assert_eq!(
        page, expected,
        "store conformance [{c}]: `after` \"\" lists every id"
    );
    let page = p.b.list(&p.provider, Some("\u{1f44d}"), 100).await;
    assert!(
        page.is_empty(),
        "store conformance [{c}]: nothing comes after the greatest id (got {page:?})"
    );
    let page = p.a.list(&p.provider, None, 3).await;
    assert_eq!(
        page,
        expected.get(..3).unwrap_or_default(),
        "store conformance [{c}]: a first page of 3 is the 3 smallest ids"
    );
    for after in [None, Some("0")] {
        let page = p.a.list(&p.provider, after, 0).await;
        assert!(
            page.is_empty(),
            "store conformance [{c}]: limit 0 gives an empty page (after {after:?})"
        );
    }
    let page = p.a.list(&p.provider, None, 1000).await;
    assert_eq!(
        page, expected,
        "store conformance [{c}]: a limit above the count lists every id once"
    );
    assert!(
        p.a.list(&format!("{}-none", p.provider), None, 10)
            .await
            .is_empty(),
        "store conformance [{c}]: a provider without entries lists nothing"
    );

    assert_eq!(
        p.b.list_all(&p.provider).await,
        expected,
        "store conformance [{c}]: list_all_accounts gives every id in ascending byte order"
    );

    // Deleting removes from the listing.
    p.a.delete(&p.key("a/b")).await;
    p.b.delete(&p.key("\u{1f44d}")).await;
    expected.retain(|id| id != "a/b" && id != "\u{1f44d}");
    assert_eq!(
        p.a.list_all(&p.provider).await,
        expected,
        "store conformance [{c}]: a deleted account is no longer listed"
    );
    assert_eq!(
        p.b.list(&p.provider, Some("a-b"), 2).await,
        ["a0", "aB"],
        "store conformance [{c}]: paging skips deleted accounts"
    );
}

/// Tasks, each on one handle, that load then save (expecting the loaded
/// version) until each has saved `SAVES` times.
async fn concurrent_savers(p: &Pair) {
    const TASKS: usize = 20;
    const SAVES: usize = 3;
    let c = p.a.check;
    let key = p.key("seller-1");
    let start = Arc::new(tokio::sync::Barrier::new(TASKS));
    let mut tasks = Vec::new();
    for i in 0..TASKS {
        let handle = p.either(i).clone();
        let key = key.clone();
        let start = start.clone();
        tasks.push(tokio::spawn(async move {
            start.wait().await;
            let mut saved = Vec::new();
            let mut attempts = 0;
            while saved.len() < SAVES {
                attempts += 1;
                assert!(
                    attempts < 20_000,
                    "store conformance [{c}]: task {i} could not save {SAVES} times in 20000 attempts"
                );
                let expected = handle.load(&key).await.map(|v| v.version);
                let tag = format!("saver-{i}-{}", saved.len());
                match handle.save(&key, &tokens(&tag), expected).await {
                    SaveOutcome::Saved { version } => {
                        assert_eq!(
                            version,
                            expected.unwrap_or(0) + 1,
                            "store conformance [{c}]: a save adds one to the expected version"
                        );
                        saved.push((version, tag));
                    }
                    SaveOutcome::Conflict { .. } => tokio::task::yield_now().await,
                    other => panic!("store conformance [{c}]: a save answered {other:?}"),
                }
            }
            saved
        }));
    }
    let mut versions = BTreeMap::new();
    for task in tasks {
        let saved = match task.await {
            Ok(saved) => saved,
            Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
            Err(e) => panic!("store conformance [{c}]: a saver task failed: {e}"),
        };
        for (version, tag) in saved {
            assert!(
                versions.insert(version, tag).is_none(),
                "store conformance [{c}]: version {version} was granted to two saves (a lost update)"
            );
        }
    }
    let total = u64::try_from(TASKS * SAVES).unwrap_or(u64::MAX);
    assert!(
        versions.keys().copied().eq(1..=total),
        "store conformance [{c}]: {total} successful saves from no entry give versions 1 to {total}, each once"
    );
    let last = versions.get(&total).expect("the last save");
    let seen = p.a.load(&key).await;
    expect_entry(
        c,
        seen.as_ref(),
        total,
        &tokens(last),
        "after concurrent saves the entry is the last one saved",
    );
}

/// Whether to run the lease checks: the store answers something other than
/// `NotSupported` (or fails the run if leases are required).
async fn lease_support(p: &Pair, leases: Leases) -> bool {
    let c = p.a.check;
    let key = p.key("seller-1");
    match p.a.acquire(&key, &owner("probe"), LONG_TTL).await {
        LeaseOutcome::NotSupported if leases == Leases::Required => panic!(
            "store conformance [{c}]: check_store_with_leases: the store answers \
             LeaseOutcome::NotSupported; a store that must lease implements acquire_lease, \
             release_lease and save_fenced"
        ),
        LeaseOutcome::NotSupported => {
            tracing::warn!(
                "store conformance: the store does not support refresh leases \
                 (acquire_lease answers NotSupported): the lease checks were skipped"
            );
            false
        }
        LeaseOutcome::Acquired(_) => true,
        LeaseOutcome::Held { .. } => {
            panic!(
                "store conformance [{c}]: the first lease of a fresh account must be granted, got Held"
            )
        }
    }
}

/// Fencing numbers seen for one account: each must exceed the last.
struct Fences {
    check: &'static str,
    last: u64,
}

impl Fences {
    fn grant(&mut self, lease: &Lease, rule: &str) {
        assert!(
            lease.fence > self.last,
            "store conformance [{}]: {rule}: every grant has a higher fencing number than the \
             previous ones ({} after {})",
            self.check,
            lease.fence,
            self.last
        );
        self.last = lease.fence;
    }
}

/// Exclusion, re-grant to the holder, checked release; on an account
/// without a token entry.
async fn lease_exclusion(p: &Pair) {
    let c = p.a.check;
    let key = p.key("seller-1");
    let (one, two, three) = (owner("one"), owner("two"), owner("three"));
    let mut fences = Fences { check: c, last: 0 };

    let first =
        p.a.granted(
            &key,
            &one,
            LONG_TTL,
            "a lease of an account without an entry",
        )
        .await;
    fences.grant(&first, "the first grant");
    p.b.held(
        &key,
        &two,
        &first,
        "exclusion: another owner, through the other handle",
    )
    .await;
    p.a.held(&key, &three, &first, "exclusion: a third owner")
        .await;

    let second =
        p.b.granted(
            &key,
            &one,
            LONG_TTL,
            "the holder asking again is granted a new lease",
        )
        .await;
    fences.grant(&second, "a grant to the same owner");
    p.a.held(
        &key,
        &two,
        &second,
        "exclusion after the holder's new grant",
    )
    .await;

    // Releases that are not of the current lease are no-ops.
    p.a.release(&key, &first).await;
    p.b.held(
        &key,
        &three,
        &second,
        "releasing with the holder's owner but an old fencing number (from before a re-grant \
         to the same owner) is a no-op",
    )
    .await;
    let impostor = Lease {
        owner: two.clone(),
        ..second.clone()
    };
    p.b.release(&key, &impostor).await;
    p.a.held(
        &key,
        &three,
        &second,
        "releasing with the wrong owner is a no-op",
    )
    .await;
    let unknown = p.key("never-leased");
    p.a.release(&unknown, &second).await; // no error

    p.b.release(&key, &second).await;
    let third =
        p.a.granted(
            &key,
            &two,
            LONG_TTL,
            "after a release another owner acquires at once",
        )
        .await;
    fences.grant(&third, "a grant after a release");
    p.b.held(
        &key,
        &one,
        &third,
        "the former holder is excluded by the new one",
    )
    .await;
    p.a.release(&key, &second).await; // the old lease again: a no-op
    p.b.held(
        &key,
        &three,
        &third,
        "releasing an already released lease is a no-op",
    )
    .await;

    assert!(
        p.a.load(&key).await.is_none() && p.b.load(&unknown).await.is_none(),
        "store conformance [{c}]: leases create no token entry"
    );
    assert!(
        p.b.list(&p.provider, None, 10).await.is_empty(),
        "store conformance [{c}]: leased accounts without a token entry are not listed"
    );
    // First fetch: the lease holder creates the entry.
    let t = tokens("lease-1");
    let outcome = p.b.save_fenced(&key, &t, None, third.fence).await;
    expect_saved(
        c,
        &outcome,
        1,
        "a fenced save creating the entry with the current fence",
    );
    let seen = p.a.load(&key).await;
    expect_entry(
        c,
        seen.as_ref(),
        1,
        &t,
        "the fenced save is seen by the other handle",
    );
}

/// Owners race for one account's lease: exactly one wins.
async fn lease_race(p: &Pair) {
    const OWNERS: usize = 16;
    let c = p.a.check;
    let key = p.key("seller-1");
    let start = Arc::new(tokio::sync::Barrier::new(OWNERS));
    let mut tasks = Vec::new();
    for i in 0..OWNERS {
        let handle = p.either(i).clone();
        let key = key.clone();
        let start = start.clone();
        tasks.push(tokio::spawn(async move {
            start.wait().await;
            handle
                .acquire(&key, &owner(&format!("racer-{i}")), LONG_TTL)
                .await
        }));
    }
    let mut granted = Vec::new();
    let mut held = Vec::new();
    for task in tasks {
        match task.await {
            Ok(LeaseOutcome::Acquired(lease)) => granted.push(lease),
            Ok(LeaseOutcome::Held { expires_at }) => held.push(expires_at),
            Ok(LeaseOutcome::NotSupported) => {
                panic!(
                    "store conformance [{c}]: acquire_lease answered NotSupported after granting leases"
                )
            }
            Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
            Err(e) => panic!("store conformance [{c}]: a racing task failed: {e}"),
        }
    }
    assert_eq!(
        granted.len(),
        1,
        "store conformance [{c}]: {OWNERS} owners racing for one lease: exactly one is granted \
         (granted: {granted:?})"
    );
    let winner = granted.first().expect("one winner");
    assert!(
        held.iter()
            .all(|e| close(*e, winner.expires_at, HELD_TOLERANCE)),
        "store conformance [{c}]: the losers are told the winner's expiry"
    );
    p.b.held(
        &key,
        &owner("late"),
        winner,
        "after the race the winner holds the lease",
    )
    .await;
}

/// Fencing numbers keep growing across deletes of the entry.
async fn lease_across_delete(p: &Pair) {
    let c = p.a.check;
    let key = p.key("seller-1");
    let (one, two) = (owner("one"), owner("two"));
    let mut fences = Fences { check: c, last: 0 };
    let (t1, t2) = (tokens("fd-1"), tokens("fd-2"));

    let first = p.a.granted(&key, &one, LONG_TTL, "a first lease").await;
    fences.grant(&first, "the first grant");
    expect_saved(
        c,
        &p.a.save_fenced(&key, &t1, None, first.fence).await,
        1,
        "a fenced save with the current fence",
    );
    p.b.delete(&key).await;
    assert!(
        p.a.load(&key).await.is_none(),
        "store conformance [{c}]: a deleted entry loads as None"
    );

    // The holder asks again (always granted): a higher number despite the delete.
    let second =
        p.b.granted(&key, &one, LONG_TTL, "a lease after the entry was deleted")
            .await;
    fences.grant(&second, "a grant after a delete of the entry");
    let outcome = p.a.save_fenced(&key, &t2, None, first.fence).await;
    assert_eq!(
        outcome,
        SaveOutcome::Fenced,
        "store conformance [{c}]: a fence from before the delete, overtaken since, is refused"
    );
    assert!(
        p.b.load(&key).await.is_none(),
        "store conformance [{c}]: a Fenced save writes nothing"
    );
    let outcome = p.b.save_fenced(&key, &t2, None, second.fence).await;
    expect_saved(
        c,
        &outcome,
        1,
        "a fenced save with the current fence creates the entry again at version 1",
    );

    p.a.release(&key, &second).await;
    p.a.delete(&key).await;
    let third =
        p.b.granted(
            &key,
            &two,
            LONG_TTL,
            "another owner after a release and a delete",
        )
        .await;
    fences.grant(&third, "a grant after a release and a delete");
    p.b.release(&key, &third).await;
    let fourth =
        p.a.granted(&key, &one, LONG_TTL, "a grant after a release")
            .await;
    fences.grant(&fourth, "a grant after a release");
}

/// Expiry, and what fenced saves accept.
async fn lease_expiry(p: &Pair) {
    let c = p.a.check;
    let key = p.key("seller-1");
    let (one, two, three) = (owner("one"), owner("two"), owner("three"));
    let mut fences = Fences { check: c, last: 0 };
    let (t1, t2, t3, tx) = (
        tokens("fx-1"),
        tokens("fx-2"),
        tokens("fx-3"),
        tokens("fx-x"),
    );

    let short = p.a.granted(&key, &one, SHORT_TTL, "a short lease").await;
    fences.grant(&short, "the first grant");
    p.b.held(
        &key,
        &two,
        &short,
        "a short lease excludes others until it expires",
    )
    .await;
    expect_saved(
        c,
        &p.a.save_fenced(&key, &t1, None, short.fence).await,
        1,
        "a fenced save with the current fence",
    );
    tokio::time::sleep(SHORT_TTL + EXPIRY_MARGIN).await;

    // Expired, not taken over: time alone never refuses a write.
    let outcome = p.b.save_fenced(&key, &t2, Some(1), short.fence).await;
    expect_saved(
        c,
        &outcome,
        2,
        "a fenced save with the current fence of an expired lease that nobody took over is saved",
    );

    let taken =
        p.b.granted(
            &key,
            &two,
            LONG_TTL,
            "another owner acquires once the lease expired",
        )
        .await;
    fences.grant(&taken, "a grant after an expiry");
    let outcome = p.a.save_fenced(&key, &tx, Some(2), short.fence).await;
    assert_eq!(
        outcome,
        SaveOutcome::Fenced,
        "store conformance [{c}]: a fenced save with an overtaken fence (right version) is Fenced"
    );
    let seen = p.b.load(&key).await;
    expect_entry(c, seen.as_ref(), 2, &t2, "a Fenced save writes nothing");
    let outcome = p.a.save_fenced(&key, &tx, Some(1), short.fence).await;
    assert_eq!(
        outcome,
        SaveOutcome::Fenced,
        "store conformance [{c}]: an overtaken fence with a wrong version is Fenced (the fence is checked first)"
    );
    let outcome = p.a.save_fenced(&key, &tx, Some(2), taken.fence + 1).await;
    assert_eq!(
        outcome,
        SaveOutcome::Fenced,
        "store conformance [{c}]: a fencing number never granted is Fenced"
    );
    let outcome = p.a.save_fenced(&key, &tx, Some(1), taken.fence).await;
    expect_conflict(
        c,
        &outcome,
        Some((2, &t2)),
        "the current fence with a wrong version is a Conflict",
    );
    let outcome = p.a.save_fenced(&key, &t3, Some(2), taken.fence).await;
    expect_saved(
        c,
        &outcome,
        3,
        "the current fence with the right version is saved",
    );
    let seen = p.b.load(&key).await;
    expect_entry(
        c,
        seen.as_ref(),
        3,
        &t3,
        "the other handle sees the fenced save",
    );

    // The expired holder cannot release the new lease, nor take it back.
    p.a.release(&key, &short).await;
    p.b.held(
        &key,
        &one,
        &taken,
        "an expired holder's release is a no-op; the new holder excludes it",
    )
    .await;
    p.a.held(&key, &three, &taken, "the new lease excludes others")
        .await;
}

/// Fence 0: a plain save on an account never leased (also for stores
/// without leases, whose `save_fenced` is a plain save); refused once a
/// lease was granted.
async fn fence_zero(p: &Pair, leasing: bool) {
    let c = p.a.check;
    let key = p.key("seller-1");
    let (t1, tx) = (tokens("f0-1"), tokens("f0-x"));

    let outcome = p.a.save_fenced(&key, &t1, None, 0).await;
    expect_saved(
        c,
        &outcome,
        1,
        "fence 0 on an account never leased is a plain save: creating gives version 1",
    );
    let seen = p.b.load(&key).await;
    expect_entry(
        c,
        seen.as_ref(),
        1,
        &t1,
        "a save with fence 0 on an account never leased is written",
    );
    if !leasing {
        return;
    }

    let lease =
        p.b.granted(&key, &owner("one"), LONG_TTL, "a first lease")
            .await;
    let outcome = p.a.save_fenced(&key, &tx, Some(1), 0).await;
    assert_eq!(
        outcome,
        SaveOutcome::Fenced,
        "store conformance [{c}]: fence 0 after a lease was granted is Fenced (right version)"
    );
    p.b.release(&key, &lease).await;
    let outcome = p.b.save_fenced(&key, &tx, Some(1), 0).await;
    assert_eq!(
        outcome,
        SaveOutcome::Fenced,
        "store conformance [{c}]: fence 0 after a lease was granted and released is Fenced"
    );
    let seen = p.a.load(&key).await;
    expect_entry(c, seen.as_ref(), 1, &t1, "a Fenced save writes nothing");

    // Fence 0 creating the entry of an account leased before.
    let fresh = p.key("seller-2");
    let lease =
        p.a.granted(
            &fresh,
            &owner("two"),
            LONG_TTL,
            "a lease of an account without an entry",
        )
        .await;
    let outcome = p.b.save_fenced(&fresh, &tx, None, 0).await;
    assert_eq!(
        outcome,
        SaveOutcome::Fenced,
        "store conformance [{c}]: fence 0 creating the entry of an account leased before is Fenced"
    );
    assert!(
        p.a.load(&fresh).await.is_none(),
        "store conformance [{c}]: a Fenced creation writes nothing"
    );
    p.a.release(&fresh, &lease).await;
}

/// Fencing numbers beyond any grant, up to `u64::MAX` (beyond a signed
/// 64-bit integer, which some databases store): always `Fenced`, and a
/// release with one is a no-op.
async fn lease_large_fences(p: &Pair) {
    let c = p.a.check;
    let large = [
        (u64::MAX, "u64::MAX"),
        (i64::MAX.unsigned_abs() + 1, "i64::MAX + 1"),
        (i64::MAX.unsigned_abs(), "i64::MAX"),
    ];
    let tx = tokens("lf-x");

    // An account never leased, without an entry.
    let fresh = p.key("never-leased");
    for (fence, name) in large {
        for expected in [None, Some(1)] {
            let outcome = p.a.save_fenced(&fresh, &tx, expected, fence).await;
            assert_eq!(
                outcome,
                SaveOutcome::Fenced,
                "store conformance [{c}]: fence {name} (never granted) on an account never leased, \
                 expecting {expected:?}, is Fenced"
            );
        }
    }
    assert!(
        p.b.load(&fresh).await.is_none(),
        "store conformance [{c}]: a Fenced save with a very large fence writes nothing"
    );

    // An account with an entry and a lease.
    let key = p.key("seller-1");
    let t1 = tokens("lf-1");
    expect_saved(c, &p.a.save(&key, &t1, None).await, 1, "creating an entry");
    let one = owner("one");
    let lease =
        p.b.granted(&key, &one, LONG_TTL, "a lease of an account with an entry")
            .await;
    for (fence, name) in large {
        for expected in [None, Some(1), Some(2)] {
            let outcome = p.b.save_fenced(&key, &tx, expected, fence).await;
            assert_eq!(
                outcome,
                SaveOutcome::Fenced,
                "store conformance [{c}]: fence {name} (never granted) on a leased account with \
                 an entry at version 1, expecting {expected:?}, is Fenced"
            );
        }
        let seen = p.a.load(&key).await;
        expect_entry(
            c,
            seen.as_ref(),
            1,
            &t1,
            "a Fenced save with a very large fence writes nothing",
        );
        p.a.release(
            &key,
            &Lease {
                fence,
                ..lease.clone()
            },
        )
        .await;
        p.b.held(
            &key,
            &owner("two"),
            &lease,
            &format!(
                "releasing with the holder's owner and fence {name} (never granted) is a no-op"
            ),
        )
        .await;
    }
    let outcome = p.a.save_fenced(&key, &tx, Some(1), lease.fence).await;
    expect_saved(
        c,
        &outcome,
        2,
        "after refused very large fences, the current fence is still saved",
    );
}

/// Fenced creations and updates that conflict: the current fence does not
/// excuse a wrong version, and a `Conflict` reports what is stored.
async fn lease_fenced_create(p: &Pair) {
    let c = p.a.check;
    let key = p.key("seller-1");
    let (t1, t2, tx) = (tokens("fc-1"), tokens("fc-2"), tokens("fc-x"));

    expect_saved(c, &p.a.save(&key, &t1, None).await, 1, "creating an entry");
    let lease =
        p.b.granted(
            &key,
            &owner("one"),
            LONG_TTL,
            "a lease of an account with an entry",
        )
        .await;
    let outcome = p.a.save_fenced(&key, &tx, None, lease.fence).await;
    expect_conflict(
        c,
        &outcome,
        Some((1, &t1)),
        "creating (expected None) with the current fence when the entry exists is a Conflict \
         carrying the entry",
    );
    let outcome = p.b.save_fenced(&key, &t2, Some(1), lease.fence).await;
    expect_saved(
        c,
        &outcome,
        2,
        "after a conflicting fenced creation, the current fence and version are saved",
    );
    let seen = p.a.load(&key).await;
    expect_entry(
        c,
        seen.as_ref(),
        2,
        &t2,
        "a conflicting fenced creation wrote nothing",
    );

    // Expecting a version of an entry that does not exist, with the current fence.
    let fresh = p.key("seller-2");
    let lease =
        p.a.granted(
            &fresh,
            &owner("two"),
            LONG_TTL,
            "a lease of an account without an entry",
        )
        .await;
    let outcome = p.b.save_fenced(&fresh, &tx, Some(1), lease.fence).await;
    expect_conflict(
        c,
        &outcome,
        None,
        "expecting version 1 of a missing entry with the current fence is a Conflict (current: None)",
    );
    assert!(
        p.a.load(&fresh).await.is_none(),
        "store conformance [{c}]: a conflicting fenced save writes nothing"
    );
}

/// Leases do not block plain saves: a store checks fences only in
/// `save_fenced`.
async fn lease_plain_saves(p: &Pair) {
    let c = p.a.check;
    let (one, two) = (owner("one"), owner("two"));
    let (t1, t2, t3, t4, tx) = (
        tokens("ps-1"),
        tokens("ps-2"),
        tokens("ps-3"),
        tokens("ps-4"),
        tokens("ps-x"),
    );

    // Creating the entry of an account leased by another owner.
    let key = p.key("seller-1");
    let lease =
        p.a.granted(
            &key,
            &one,
            LONG_TTL,
            "a lease of an account without an entry",
        )
        .await;
    let outcome = p.b.save(&key, &t1, None).await;
    expect_saved(
        c,
        &outcome,
        1,
        "a plain save creating an entry while another owner holds an unexpired lease is saved \
         (leases do not block plain saves)",
    );
    let outcome = p.b.save(&key, &t2, Some(1)).await;
    expect_saved(
        c,
        &outcome,
        2,
        "a plain save while another owner holds an unexpired lease is saved (leases do not \
         block plain saves)",
    );
    p.b.held(&key, &two, &lease, "a plain save leaves the lease held")
        .await;

    // The holder's fence is still current: its version, not its fence, is stale.
    let outcome = p.a.save_fenced(&key, &tx, Some(1), lease.fence).await;
    expect_conflict(
        c,
        &outcome,
        Some((2, &t2)),
        "after a plain save, the holder's fenced save expecting the old version is a Conflict \
         (a plain save grants no fence)",
    );
    let outcome = p.a.save_fenced(&key, &t3, Some(2), lease.fence).await;
    expect_saved(
        c,
        &outcome,
        3,
        "after a plain save, the holder's fenced save expecting the new version is saved",
    );

    // A plain save is accepted on an entry whose lease was taken over too.
    let taken =
        p.b.granted(&key, &one, LONG_TTL, "the holder asking again")
            .await;
    let outcome = p.a.save(&key, &t4, Some(3)).await;
    expect_saved(
        c,
        &outcome,
        4,
        "a plain save while a lease is held is saved, whatever fences were granted",
    );
    let seen = p.b.load(&key).await;
    expect_entry(
        c,
        seen.as_ref(),
        4,
        &t4,
        "the other handle sees the plain save",
    );
    p.b.release(&key, &taken).await;
}
