//! The token-store conformance suite (`oauth_core::test_util::store_conformance`)
//! on every store of this crate, the suite's own alarms, and `FileStore`'s
//! refresh lease across processes.
//!
//! Needs the `test-util` feature (`[[test]] required-features` in
//! `Cargo.toml`): `cargo test -p oauth-core --features test-util --test
//! store_conformance`; `EncryptedStore`'s runs need `encryption` too.
//!
//! The cross-process test re-executes this test binary: [`lease_child`]
//! acts as a lease contender when `OAUTH_LEASE_CHILD` names a token file,
//! and returns at once otherwise (in a normal test run).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::print_stderr
)]

#[cfg(feature = "encryption")]
use oauth_core::lifecycle::{EncryptedStore, KeyId, Keyring, StoreKey};
use oauth_core::lifecycle::{Lease, LeaseOutcome, LeaseOwner, SaveOutcome, Versioned};
use oauth_core::test_util::store_conformance::{check_store, check_store_with_leases};
use oauth_core::{
    AccessToken, AccountKey, Error, FileStore, MemoryStore, TokenSet, TokenStore, async_trait,
    from_unix_millis, list_all_accounts,
};
use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

/// The whole suite must stay quick on one store.
const SUITE_BUDGET: Duration = Duration::from_secs(3);

async fn timed(name: &str, suite: impl Future<Output = ()>) {
    let started = Instant::now();
    suite.await;
    let took = started.elapsed();
    assert!(
        took < SUITE_BUDGET,
        "the conformance suite took {took:?} on {name} (budget {SUITE_BUDGET:?})"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memory_store_conforms() {
    let store = Arc::new(MemoryStore::new());
    timed("MemoryStore", check_store_with_leases(store.clone(), store)).await;
}

#[tokio::test(flavor = "current_thread")]
async fn memory_store_conforms_on_a_single_thread() {
    let store = Arc::new(MemoryStore::new());
    check_store_with_leases(store.clone(), store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn file_store_conforms_with_two_instances_on_one_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tokens.json");
    let a = Arc::new(FileStore::new(&path));
    let b = Arc::new(FileStore::new(&path));
    timed("FileStore", check_store_with_leases(a, b.clone())).await;

    // What the suite left: lease records next to the entries, in the same
    // file; an account with only a lease record is not listed.
    let text = std::fs::read_to_string(&path).unwrap();
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    let entries: BTreeSet<&String> = json["accounts"].as_object().unwrap().keys().collect();
    let leases = json["leases"].as_object().unwrap();
    assert!(leases.keys().any(|k| !entries.contains(k)));
    for (key, record) in leases {
        assert!(record["fence"].as_u64().is_some_and(|f| f > 0), "{record}");
        let (provider, account) = key.split_once('/').unwrap();
        let listed = list_all_accounts(&*b, provider).await.unwrap();
        assert_eq!(
            listed.iter().any(|a| a == account),
            entries.contains(key),
            "{key}"
        );
    }
}

#[cfg(feature = "encryption")]
fn keyring() -> Keyring {
    Keyring::new(StoreKey::generate(KeyId::new("conformance").unwrap()).unwrap())
}

#[cfg(feature = "encryption")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn encrypted_store_over_memory_conforms() {
    let inner = Arc::new(MemoryStore::new());
    let keys = keyring();
    let a = Arc::new(EncryptedStore::from_arc(inner.clone(), keys.clone()));
    let b = Arc::new(EncryptedStore::from_arc(inner, keys));
    timed("EncryptedStore<MemoryStore>", check_store_with_leases(a, b)).await;
}

#[cfg(feature = "encryption")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn encrypted_store_over_a_file_conforms() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tokens.json");
    let keys = keyring();
    let a = Arc::new(EncryptedStore::new(FileStore::new(&path), keys.clone()));
    let b = Arc::new(EncryptedStore::new(FileStore::new(&path), keys));
    check_store_with_leases(a, b).await;
}

/// A store with only the required methods: no leases (the trait's
/// defaults), like the example in `TokenStore`'s documentation.
#[derive(Debug, Default)]
struct PlainStore(Mutex<BTreeMap<(String, String), Versioned>>);

fn id(key: &AccountKey) -> (String, String) {
    (key.provider().to_owned(), key.account().to_owned())
}

#[async_trait]
impl TokenStore for PlainStore {
    async fn load(&self, key: &AccountKey) -> Result<Option<Versioned>, Error> {
        Ok(self.0.lock().unwrap().get(&id(key)).cloned())
    }

    async fn save(
        &self,
        key: &AccountKey,
        tokens: &TokenSet,
        expected: Option<u64>,
    ) -> Result<SaveOutcome, Error> {
        let mut rows = self.0.lock().unwrap();
        let current = rows.get(&id(key)).cloned();
        if current.as_ref().map(|v| v.version) != expected {
            return Ok(SaveOutcome::Conflict { current });
        }
        let version = expected.unwrap_or(0) + 1;
        rows.insert(
            id(key),
            Versioned {
                tokens: tokens.clone(),
                version,
            },
        );
        Ok(SaveOutcome::Saved { version })
    }

    async fn delete(&self, key: &AccountKey) -> Result<(), Error> {
        self.0.lock().unwrap().remove(&id(key));
        Ok(())
    }

    async fn list_accounts(
        &self,
        provider: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<String>, Error> {
        let rows = self.0.lock().unwrap();
        Ok(rows
            .keys()
            .filter(|(p, a)| p == provider && after.is_none_or(|after| a.as_str() > after))
            .map(|(_, a)| a.clone())
            .take(limit)
            .collect())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_without_leases_passes_check_store() {
    let store = Arc::new(PlainStore::default());
    timed("PlainStore", check_store(store.clone(), store)).await;
}

#[tokio::test]
#[should_panic(expected = "answers LeaseOutcome::NotSupported")]
async fn check_store_with_leases_refuses_a_store_without_leases() {
    let store = Arc::new(PlainStore::default());
    check_store_with_leases(store.clone(), store).await;
}

/// A faulty MemoryStore, to prove the suite notices.
#[derive(Default)]
struct Faulty {
    inner: MemoryStore,
    fault: Fault,
    /// The last access token saved (shown by `Fault::LeakyDebug`).
    last: Mutex<String>,
    /// `Fault::FencesResetOnDelete`: per account, the last fence the inner
    /// store granted and the one it had at the last delete (subtracted
    /// from what is shown).
    fences: Mutex<std::collections::HashMap<AccountKey, (u64, u64)>>,
}

impl Faulty {
    /// The base subtracted from `key`'s fences.
    fn base(&self, key: &AccountKey) -> u64 {
        self.fences.lock().unwrap().get(key).map_or(0, |f| f.1)
    }
}

#[derive(Default, Clone, Copy, PartialEq, Eq)]
enum Fault {
    #[default]
    None,
    /// `save_fenced` ignores the fence.
    UnfencedSaves,
    /// Lists in case-insensitive order.
    CaseInsensitiveListing,
    /// Shows the last access token in `Debug`.
    LeakyDebug,
    /// Forgets fencing numbers on delete.
    FencesResetOnDelete,
    /// `save_fenced` with fence 0 is a plain save, even after a grant.
    FenceZeroUnfenced,
    /// Keeps fencing numbers in 63 bits: the top bit of a fence is lost.
    FencesIn63Bits,
    /// A fenced creation (`expected: None`) with the current fence
    /// overwrites an existing entry.
    FencedCreateOverwrites,
    /// A plain save is refused (`Conflict`) on an account ever leased.
    LeasesBlockPlainSaves,
}

impl std::fmt::Debug for Faulty {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.fault == Fault::LeakyDebug {
            write!(f, "Faulty({})", self.last.lock().unwrap())
        } else {
            f.write_str("Faulty")
        }
    }
}

#[async_trait]
impl TokenStore for Faulty {
    async fn load(&self, key: &AccountKey) -> Result<Option<Versioned>, Error> {
        self.inner.load(key).await
    }
    async fn save(
        &self,
        key: &AccountKey,
        tokens: &TokenSet,
        expected: Option<u64>,
    ) -> Result<SaveOutcome, Error> {
        tokens
            .access_token
            .expose_secret()
            .clone_into(&mut self.last.lock().unwrap());
        if self.fault == Fault::LeasesBlockPlainSaves
            && self.fences.lock().unwrap().contains_key(key)
        {
            let current = self.inner.load(key).await?;
            return Ok(SaveOutcome::Conflict { current });
        }
        self.inner.save(key, tokens, expected).await
    }
    async fn save_fenced(
        &self,
        key: &AccountKey,
        tokens: &TokenSet,
        expected: Option<u64>,
        fence: u64,
    ) -> Result<SaveOutcome, Error> {
        match self.fault {
            Fault::UnfencedSaves => return self.inner.save(key, tokens, expected).await,
            Fault::FenceZeroUnfenced if fence == 0 => {
                return self.inner.save(key, tokens, expected).await;
            }
            Fault::FencedCreateOverwrites if expected.is_none() => {
                let expected = self.inner.load(key).await?.map(|v| v.version);
                return self.inner.save_fenced(key, tokens, expected, fence).await;
            }
            _ => {}
        }
        let fence = if self.fault == Fault::FencesIn63Bits {
            fence & i64::MAX.unsigned_abs()
        } else {
            fence + self.base(key)
        };
        self.inner.save_fenced(key, tokens, expected, fence).await
    }
    async fn acquire_lease(
        &self,
        key: &AccountKey,
        owner: &LeaseOwner,
        ttl: Duration,
    ) -> Result<LeaseOutcome, Error> {
        let outcome = self.inner.acquire_lease(key, owner, ttl).await?;
        let LeaseOutcome::Acquired(mut lease) = outcome else {
            return Ok(outcome);
        };
        let mut fences = self.fences.lock().unwrap();
        let entry = fences.entry(key.clone()).or_default();
        entry.0 = lease.fence;
        lease.fence -= entry.1;
        Ok(LeaseOutcome::Acquired(lease))
    }
    async fn release_lease(&self, key: &AccountKey, lease: &Lease) -> Result<(), Error> {
        let mut lease = lease.clone();
        lease.fence += self.base(key);
        self.inner.release_lease(key, &lease).await
    }
    async fn delete(&self, key: &AccountKey) -> Result<(), Error> {
        if self.fault == Fault::FencesResetOnDelete {
            let mut fences = self.fences.lock().unwrap();
            let entry = fences.entry(key.clone()).or_default();
            entry.1 = entry.0;
        }
        self.inner.delete(key).await
    }
    async fn list_accounts(
        &self,
        provider: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<String>, Error> {
        let mut all = self.inner.list_accounts(provider, None, usize::MAX).await?;
        if self.fault == Fault::CaseInsensitiveListing {
            all.sort_by_key(|a| a.to_lowercase());
            let start = after.map_or(0, |after| {
                all.iter().position(|a| a == after).map_or(0, |i| i + 1)
            });
            return Ok(all.into_iter().skip(start).take(limit).collect());
        }
        self.inner.list_accounts(provider, after, limit).await
    }
}

async fn check_faulty(fault: Fault) {
    let store = Arc::new(Faulty {
        fault,
        ..Faulty::default()
    });
    check_store_with_leases(store.clone(), store).await;
}

#[tokio::test]
async fn the_faultless_wrapper_passes() {
    check_faulty(Fault::None).await;
}

#[tokio::test]
#[should_panic(expected = "Fenced")]
async fn the_suite_catches_unfenced_saves() {
    check_faulty(Fault::UnfencedSaves).await;
}

#[tokio::test]
#[should_panic(expected = "ascending byte order")]
async fn the_suite_catches_a_case_insensitive_listing() {
    check_faulty(Fault::CaseInsensitiveListing).await;
}

#[tokio::test]
#[should_panic(expected = "secret hygiene")]
async fn the_suite_catches_a_token_in_debug() {
    check_faulty(Fault::LeakyDebug).await;
}

#[tokio::test]
#[should_panic(expected = "higher fencing number")]
async fn the_suite_catches_fences_reset_by_a_delete() {
    check_faulty(Fault::FencesResetOnDelete).await;
}

#[tokio::test]
#[should_panic(expected = "[fence-zero]: fence 0 after a lease was granted is Fenced")]
async fn the_suite_catches_fence_zero_accepted_after_a_grant() {
    check_faulty(Fault::FenceZeroUnfenced).await;
}

#[tokio::test]
#[should_panic(expected = "[lease-large-fences]: fence i64::MAX + 1 (never granted)")]
async fn the_suite_catches_fences_beyond_i64_wrapping() {
    check_faulty(Fault::FencesIn63Bits).await;
}

#[tokio::test]
#[should_panic(
    expected = "[lease-fenced-create]: creating (expected None) with the current fence when the entry exists is a Conflict"
)]
async fn the_suite_catches_a_fenced_creation_overwriting_an_entry() {
    check_faulty(Fault::FencedCreateOverwrites).await;
}

#[tokio::test]
#[should_panic(
    expected = "[lease-plain-save]: a plain save creating an entry while another owner holds"
)]
async fn the_suite_catches_leases_blocking_plain_saves() {
    check_faulty(Fault::LeasesBlockPlainSaves).await;
}

// ---------------------------------------------------------------------------
// FileStore leases across processes.

/// The token file; set only in a child.
const CHILD_ENV: &str = "OAUTH_LEASE_CHILD";
/// The child's lease owner.
const OWNER_ENV: &str = "OAUTH_LEASE_OWNER";
/// The child's lease ttl in milliseconds.
const TTL_ENV: &str = "OAUTH_LEASE_TTL_MS";
/// When set: a child granted the lease saves (fenced) then exits; otherwise
/// it holds on (until killed, or for 30 s).
const SAVE_ENV: &str = "OAUTH_LEASE_SAVE";
const CHILD_TEST: &str = "lease_child";

fn lease_key() -> AccountKey {
    AccountKey::new("lease-processes", "seller-1")
}

/// The set the takeover child saves.
fn child_tokens() -> TokenSet {
    TokenSet::new(
        AccessToken::new("saved-by-the-takeover-child"),
        from_unix_millis(1_900_000_000_000),
    )
}

/// A lease contender: says `ready`, waits for a line on stdin, acquires,
/// and reports `lease-child=acquired:<fence>:<expires ms>` or
/// `lease-child=held:<expires ms>` (then `lease-child=saved:<version>` if
/// asked to save).
#[test]
fn lease_child() {
    use std::io::{BufRead, Write};
    let Some(path) = std::env::var_os(CHILD_ENV) else {
        return;
    };
    let owner = LeaseOwner::new(std::env::var(OWNER_ENV).unwrap()).unwrap();
    let ttl = Duration::from_millis(std::env::var(TTL_ENV).unwrap().parse().unwrap());
    let save = std::env::var_os(SAVE_ENV).is_some();
    let store = FileStore::new(path);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "lease-child=ready").unwrap();
    stdout.flush().unwrap();
    let mut go = String::new();
    std::io::stdin().lock().read_line(&mut go).unwrap();
    runtime.block_on(async {
        match store
            .acquire_lease(&lease_key(), &owner, ttl)
            .await
            .unwrap()
        {
            LeaseOutcome::Acquired(lease) => {
                let expires = oauth_core::to_unix_millis(lease.expires_at);
                writeln!(stdout, "lease-child=acquired:{}:{expires}", lease.fence).unwrap();
                stdout.flush().unwrap();
                if save {
                    let current = store.load(&lease_key()).await.unwrap().map(|v| v.version);
                    let outcome = store
                        .save_fenced(&lease_key(), &child_tokens(), current, lease.fence)
                        .await
                        .unwrap();
                    let SaveOutcome::Saved { version } = outcome else {
                        panic!("the takeover child's save: {outcome:?}");
                    };
                    writeln!(stdout, "lease-child=saved:{version}").unwrap();
                    stdout.flush().unwrap();
                } else {
                    // Hold on until killed (a child left alone stops).
                    tokio::time::sleep(Duration::from_secs(30)).await;
                }
            }
            LeaseOutcome::Held { expires_at } => {
                let expires = oauth_core::to_unix_millis(expires_at);
                writeln!(stdout, "lease-child=held:{expires}").unwrap();
                stdout.flush().unwrap();
            }
            other => panic!("unexpected lease outcome {other:?}"),
        }
    });
}

/// A running contender and the lines it reported.
#[cfg(unix)]
struct Contender {
    child: std::process::Child,
    stdin: Option<std::process::ChildStdin>,
    lines: std::sync::mpsc::Receiver<String>,
}

#[cfg(unix)]
impl Contender {
    fn spawn(path: &std::path::Path, owner: &str, ttl: Duration, save: bool) -> Self {
        use std::io::BufRead;
        use std::process::{Command, Stdio};
        let mut command = Command::new(std::env::current_exe().unwrap());
        command
            .args([CHILD_TEST, "--exact", "--test-threads=1", "--quiet"])
            .env(CHILD_ENV, path)
            .env(OWNER_ENV, owner)
            .env(TTL_ENV, ttl.as_millis().to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        if save {
            command.env(SAVE_ENV, "1");
        } else {
            command.env_remove(SAVE_ENV);
        }
        let mut child = command.spawn().unwrap();
        let stdin = child.stdin.take();
        let stdout = child.stdout.take().unwrap();
        let (sender, lines) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                // The harness may print on the same line.
                for word in line.split_whitespace() {
                    if let Some(report) = word.strip_prefix("lease-child=") {
                        let _ = sender.send(report.to_owned());
                    }
                }
            }
        });
        Self {
            child,
            stdin,
            lines,
        }
    }

    /// The next report, within 10 s.
    fn next(&self) -> String {
        self.lines
            .recv_timeout(Duration::from_secs(10))
            .expect("the child did not report in time")
    }

    fn go(&mut self) {
        use std::io::Write;
        let stdin = self.stdin.as_mut().unwrap();
        stdin.write_all(b"go\n").unwrap();
        stdin.flush().unwrap();
    }
}

#[cfg(unix)]
impl Drop for Contender {
    fn drop(&mut self) {
        // Only this test's own child.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `acquired:<fence>:<expires>` → `(fence, expires)`.
#[cfg(unix)]
fn acquired(report: &str) -> Option<(u64, u64)> {
    let (fence, expires) = report.strip_prefix("acquired:")?.split_once(':')?;
    Some((fence.parse().ok()?, expires.parse().ok()?))
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn file_store_lease_is_exclusive_across_processes_and_fences_a_killed_holder() {
    const RACERS: usize = 4;
    // Long enough for the probe below to come before the lapse even on a
    // loaded machine.
    const TTL: Duration = Duration::from_secs(5);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tokens.json");
    let parent = FileStore::new(&path);
    let me = LeaseOwner::new("parent").unwrap();
    let key = lease_key();

    let mut racers: Vec<Contender> = (0..RACERS)
        .map(|i| Contender::spawn(&path, &format!("racer-{i}"), TTL, false))
        .collect();
    for racer in &racers {
        assert_eq!(racer.next(), "ready");
    }
    for racer in &mut racers {
        racer.go();
    }
    let reports: Vec<String> = racers.iter().map(Contender::next).collect();
    let winners: Vec<usize> = (0..RACERS)
        .filter(|&i| acquired(&reports[i]).is_some())
        .collect();
    assert_eq!(
        winners.len(),
        1,
        "exactly one of {RACERS} processes gets the lease: {reports:?}"
    );
    let winner = winners[0];
    let (fence, expires_ms) = acquired(&reports[winner]).unwrap();
    for (i, report) in reports.iter().enumerate() {
        if i != winner {
            assert_eq!(
                *report,
                format!("held:{expires_ms}"),
                "the losers see the holder's expiry"
            );
        }
    }

    // The holder dies; its lease outlives it until it expires: another
    // process (this one) is refused it.
    let mut holder = racers.swap_remove(winner);
    holder.child.kill().unwrap(); // SIGKILL
    holder.child.wait().unwrap();
    let expires = from_unix_millis(expires_ms);
    assert!(
        SystemTime::now() + Duration::from_millis(200) < expires,
        "the probe comes before the lease lapses (the machine took over 4.8 s to get here)"
    );
    let outcome = parent.acquire_lease(&key, &me, TTL).await.unwrap();
    assert_eq!(
        outcome,
        LeaseOutcome::Held {
            expires_at: expires
        },
        "the killed holder's lease holds until it expires"
    );
    if let Ok(left) = expires.duration_since(SystemTime::now()) {
        tokio::time::sleep(left + Duration::from_millis(50)).await;
    }

    // After its ttl another process takes over, with a higher fence.
    let mut taker = Contender::spawn(&path, "taker", TTL, true);
    assert_eq!(taker.next(), "ready");
    taker.go();
    let report = taker.next();
    let (new_fence, _) = acquired(&report).unwrap_or_else(|| panic!("takeover: {report}"));
    assert!(new_fence > fence, "{new_fence} > {fence}");
    assert_eq!(taker.next(), "saved:1");

    // The dead holder's fenced save would be refused, and writes nothing.
    let late = TokenSet::new(
        AccessToken::new("late-write-of-the-dead-holder"),
        from_unix_millis(1_900_000_000_000),
    );
    for expected in [None, Some(1)] {
        let outcome = parent
            .save_fenced(&key, &late, expected, fence)
            .await
            .unwrap();
        assert_eq!(outcome, SaveOutcome::Fenced);
    }
    let stored = parent.load(&key).await.unwrap().unwrap();
    assert_eq!(stored.version, 1);
    assert_eq!(stored.tokens, child_tokens());
    // The taker's fence is the current one.
    let outcome = parent
        .save_fenced(&key, &late, Some(1), new_fence)
        .await
        .unwrap();
    assert_eq!(outcome, SaveOutcome::Saved { version: 2 });
    drop(racers);
}
