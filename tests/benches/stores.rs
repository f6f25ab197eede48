//! Benchmarks of the token stores on real engines (`cargo xtask bench`, or
//! `cargo xtask with-servers -- cargo bench -p oauth-e2e-tests --bench
//! stores`): `MemoryStore`, `FileStore` (in a temporary directory),
//! `PostgresStore` and `RedisStore` (on the servers named by
//! `OAUTH_TEST_POSTGRES_URL` and `OAUTH_TEST_REDIS_URL`; without them the
//! benchmark fails, saying how to start them).
//!
//! Each benchmark is a criterion benchmark and, at the end of the run, one
//! `name: value` line per engine with the figure and its baseline measured
//! in the same run (see `docs/performance.md`, "Token stores"):
//!
//! - `store_access_token_<engine>`: `TokenManager::access_token()` on a
//!   fresh token for a manager over the engine, against the same over a
//!   `MemoryStore` and a bare `Arc::clone` (medians of interleaved rounds,
//!   so that a change of load affects every side); heap allocations per call, and
//!   calls that reached the store (through a counting wrapper): the store
//!   is not on the hot path, so the ratios are about 1 and both counts 0;
//! - `lease_acquire_<engine>`: `acquire_lease` + `release_lease` of one
//!   account, each pair timed on its own (2 000 samples after 200 of
//!   warm-up): p50 and p99, against the `MemoryStore`'s;
//! - `store_save_<engine>`: a compare-and-swap `save` at the current
//!   version, sampled the same way, for context.
//!
//! The PostgreSQL table (a name of its own per run) is dropped at the end;
//! the Redis keys live under a prefix of their own per run (entries deleted
//! at the end, the fencing counters left on the throwaway server).
#![allow(
    unsafe_code,
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::print_stdout,
    clippy::print_stderr
)]

use criterion::Criterion;
use oauth_core::lifecycle::{Lease, LeaseOutcome, LeaseOwner, SaveOutcome, Versioned};
use oauth_core::{
    AccessToken, AccountKey, Error, FileStore, MemoryStore, RefreshGrant, RefreshToken,
    TokenHandle, TokenManager, TokenSet, TokenStore, async_trait,
};
use oauth_store_postgres::PostgresStore;
use oauth_store_redis::RedisStore;
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::RefCell;
use std::future::Future;
use std::hint::black_box;
use std::pin::pin;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant, SystemTime};

/// Counts heap allocations (`alloc`, `alloc_zeroed` and `realloc`), then
/// forwards to `System` (as in oauth-core's `lifecycle` benchmark).
struct CountingAllocator;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every method forwards its arguments unchanged to `System`, whose
// guarantees therefore hold; the counter is a plain atomic and never
// allocates.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: the caller upholds `GlobalAlloc::alloc`'s contract.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: the caller upholds `GlobalAlloc::alloc_zeroed`'s contract.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller upholds `GlobalAlloc::dealloc`'s contract.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: the caller upholds `GlobalAlloc::realloc`'s contract.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: CountingAllocator = CountingAllocator;

/// Heap allocations per call of `f`, over `calls` calls (every thread's
/// allocations count: the store clients' background tasks can only make
/// the figure worse, never hide one).
fn allocations_per_call(calls: u64, mut f: impl FnMut(u64)) -> f64 {
    let before = ALLOCATIONS.load(Ordering::SeqCst);
    for i in 0..calls {
        f(i);
    }
    let after = ALLOCATIONS.load(Ordering::SeqCst);
    after.saturating_sub(before) as f64 / calls as f64
}

const POSTGRES_URL_VAR: &str = "OAUTH_TEST_POSTGRES_URL";
const REDIS_URL_VAR: &str = "OAUTH_TEST_REDIS_URL";

/// Individually timed operations per engine, after the warm-up.
const SAMPLES: usize = 2_000;
const WARM_UP_SAMPLES: usize = 200;
/// The refresh lease's duration in the lease benchmark (never reached: each
/// lease is released at once).
const LEASE_TTL: Duration = Duration::from_secs(30);

fn main() {
    let args: Vec<String> = std::env::args().collect();
    // Figures are printed only when measuring (`cargo bench`), not when
    // criterion merely checks that the benchmarks run (`--test`) or lists them.
    let measuring = args.iter().any(|a| a == "--bench")
        && !args
            .iter()
            .any(|a| a == "--test" || a == "--list" || a.starts_with("--profile-time"));
    let (postgres_url, redis_url) = (server_url(POSTGRES_URL_VAR), server_url(REDIS_URL_VAR));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let engines = runtime.block_on(Engines::open(&postgres_url, &redis_url, dir.path()));
    let load_before = load_average();

    let mut criterion = Criterion::default()
        .without_plots()
        .sample_size(20)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(1))
        .configure_from_args();
    let mut figures = Vec::new();
    store_access_token(&mut criterion, &mut figures, measuring, &runtime, &engines);
    lease_acquire(&mut criterion, &mut figures, measuring, &runtime, &engines);
    store_save(&mut criterion, &mut figures, measuring, &runtime, &engines);
    criterion.final_summary();
    runtime.block_on(engines.clean_up());
    if measuring {
        println!();
        println!(
            "stores figures (name: value; load average {load_before} before, {} after):",
            load_average()
        );
        for line in &figures {
            println!("{line}");
        }
    }
}

/// The server URL in `var`; fails (never skips) when it is not set.
fn server_url(var: &str) -> String {
    match std::env::var(var) {
        Ok(url) if !url.trim().is_empty() => url,
        _ => panic!(
            "{var} is not set: the stores benchmark needs PostgreSQL and Redis servers. Run it \
             with `cargo xtask with-servers -- cargo bench -p oauth-e2e-tests --bench stores` \
             (or `cargo xtask bench`), or set {POSTGRES_URL_VAR} and {REDIS_URL_VAR} yourself"
        ),
    }
}

// ---------------------------------------------------------------------------
// Shared pieces

/// The 1-minute load average (`/proc/loadavg`), to tell a busy machine.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|l| l.split_whitespace().next().map(str::to_owned))
        .unwrap_or_else(|| "unknown".to_owned())
}

/// A name unique to this run: `prefix_<pid>_<time>`.
fn unique(prefix: &str) -> String {
    let nanos = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!(
        "{prefix}_{:x}_{:x}",
        std::process::id(),
        nanos & 0xffff_ffff_ffff
    )
}

/// The engines, in the order of the figures; `memory` is the baseline.
struct Engines {
    all: Vec<(&'static str, Arc<dyn TokenStore>)>,
    postgres: PostgresStore,
    redis: RedisStore,
}

impl Engines {
    async fn open(postgres_url: &str, redis_url: &str, dir: &std::path::Path) -> Self {
        let postgres = PostgresStore::builder(postgres_url)
            .pool_size(4)
            .table(unique("bench_tokens"))
            .build()
            .await
            .unwrap_or_else(|e| panic!("cannot connect to {POSTGRES_URL_VAR}: {e}"));
        postgres.migrate().await.unwrap();
        let redis = RedisStore::builder(redis_url)
            .prefix(unique("bench"))
            .build()
            .await
            .unwrap_or_else(|e| panic!("cannot connect to {REDIS_URL_VAR}: {e}"));
        let all: Vec<(&'static str, Arc<dyn TokenStore>)> = vec![
            ("memory", Arc::new(MemoryStore::new())),
            ("file", Arc::new(FileStore::new(dir.join("tokens.json")))),
            ("postgres", Arc::new(postgres.clone())),
            ("redis", Arc::new(redis.clone())),
        ];
        Self {
            all,
            postgres,
            redis,
        }
    }

    /// Deletes what the run stored: the PostgreSQL table, the Redis entries.
    async fn clean_up(&self) {
        for account in ACCOUNTS {
            let key = AccountKey::new(PROVIDER, account);
            self.redis.delete(&key).await.unwrap();
        }
        let table = self.postgres.table_name();
        let client = self.postgres.pool().get().await.unwrap();
        client
            .batch_execute(&format!(
                "DROP TABLE IF EXISTS \"{table}\"; \
                 DELETE FROM \"oauth_store_schema\" WHERE table_name = '{table}';"
            ))
            .await
            .unwrap();
    }
}

const PROVIDER: &str = "bench";
/// Every account the benchmarks store (for the clean-up).
const ACCOUNTS: [&str; 3] = ["seller-hot", "seller-lease", "seller-save"];

/// A plausible token of 64 characters.
fn token_text(prefix: &str, n: usize) -> String {
    let mut s = format!("{prefix}-{n}-");
    while s.len() < 64 {
        s.push('x');
    }
    s
}

/// A token set expiring in a year, with a refresh token.
fn token_set(n: usize) -> TokenSet {
    TokenSet::new(
        AccessToken::new(token_text("AT", n)),
        SystemTime::now() + Duration::from_secs(365 * 24 * 3600),
    )
    .with_refresh_token(RefreshToken::new(token_text("RT", n)), None)
}

/// A grant the hot path never calls: the token is fresh.
#[derive(Debug)]
struct NoRefresh;

#[async_trait]
impl RefreshGrant for NoRefresh {
    fn provider(&self) -> &'static str {
        PROVIDER
    }

    async fn refresh(&self, _current: &TokenSet) -> Result<TokenSet, Error> {
        panic!("the benchmark's token is fresh: nothing may refresh it")
    }

    fn rotates_refresh_token(&self) -> bool {
        true
    }
}

/// A store that counts the calls reaching it, then forwards them.
#[derive(Debug)]
struct Counted {
    inner: Arc<dyn TokenStore>,
    calls: AtomicUsize,
}

impl Counted {
    fn new(inner: Arc<dyn TokenStore>) -> Arc<Self> {
        Arc::new(Self {
            inner,
            calls: AtomicUsize::new(0),
        })
    }

    fn count(&self) {
        self.calls.fetch_add(1, Ordering::SeqCst);
    }

    fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }
}

#[async_trait]
impl TokenStore for Counted {
    async fn load(&self, key: &AccountKey) -> Result<Option<Versioned>, Error> {
        self.count();
        self.inner.load(key).await
    }

    async fn save(
        &self,
        key: &AccountKey,
        tokens: &TokenSet,
        expected: Option<u64>,
    ) -> Result<SaveOutcome, Error> {
        self.count();
        self.inner.save(key, tokens, expected).await
    }

    async fn delete(&self, key: &AccountKey) -> Result<(), Error> {
        self.count();
        self.inner.delete(key).await
    }

    async fn list_accounts(
        &self,
        provider: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<String>, Error> {
        self.count();
        self.inner.list_accounts(provider, after, limit).await
    }

    async fn check_writable(&self) -> Result<(), Error> {
        self.count();
        self.inner.check_writable().await
    }

    async fn acquire_lease(
        &self,
        key: &AccountKey,
        owner: &LeaseOwner,
        ttl: Duration,
    ) -> Result<LeaseOutcome, Error> {
        self.count();
        self.inner.acquire_lease(key, owner, ttl).await
    }

    async fn release_lease(&self, key: &AccountKey, lease: &Lease) -> Result<(), Error> {
        self.count();
        self.inner.release_lease(key, lease).await
    }

    async fn save_fenced(
        &self,
        key: &AccountKey,
        tokens: &TokenSet,
        expected: Option<u64>,
        fence: u64,
    ) -> Result<SaveOutcome, Error> {
        self.count();
        self.inner.save_fenced(key, tokens, expected, fence).await
    }
}

/// Per-iteration times (ns) recorded by an `iter_custom` routine, for
/// criterion's report; empty if criterion's filter left the benchmark out,
/// and then its figure too.
#[derive(Clone, Default)]
struct Samples(Rc<RefCell<Vec<f64>>>);

impl Samples {
    fn record(&self, took: Duration, iters: u64) {
        let per_iter = took.as_nanos() as f64 / iters.max(1) as f64;
        self.0.borrow_mut().push(per_iter);
    }

    fn ran(&self) -> bool {
        !self.0.borrow().is_empty()
    }
}

/// The `p`th percentile of sorted `values` (nearest rank).
fn percentile(sorted: &[f64], p: usize) -> f64 {
    let rank = (p * sorted.len()).div_ceil(100);
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// Polls a future once with a no-op waker: the hot path must be ready at
/// once (no await), otherwise the benchmark is wrong and stops.
fn poll_once<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    match future.as_mut().poll(&mut cx) {
        Poll::Ready(output) => output,
        Poll::Pending => panic!("access_token() awaited on a fresh token"),
    }
}

fn verdict(ok: bool) -> &'static str {
    if ok { "target met" } else { "TARGET MISSED" }
}

/// Times `op` alone, `SAMPLES` times after `WARM_UP_SAMPLES`; the sorted
/// latencies in µs.
async fn sample<F, Fut>(mut op: F) -> Vec<f64>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = ()>,
{
    for _ in 0..WARM_UP_SAMPLES {
        op().await;
    }
    let mut took = Vec::with_capacity(SAMPLES);
    for _ in 0..SAMPLES {
        let start = Instant::now();
        op().await;
        took.push(start.elapsed().as_nanos() as f64 / 1e3);
    }
    took.sort_by(f64::total_cmp);
    took
}

/// `p50 X us, p99 Y us`, with a precision that suits the magnitude.
fn p50_p99(sorted: &[f64]) -> String {
    let us = |v: f64| {
        if v < 10.0 {
            format!("{v:.2} us")
        } else {
            format!("{v:.0} us")
        }
    };
    format!(
        "p50 {}, p99 {}",
        us(percentile(sorted, 50)),
        us(percentile(sorted, 99))
    )
}

// ---------------------------------------------------------------------------
// 1. store_access_token

fn store_access_token(
    c: &mut Criterion,
    figures: &mut Vec<String>,
    measuring: bool,
    runtime: &tokio::runtime::Runtime,
    engines: &Engines,
) {
    // One manager per engine, each over a counting wrapper of the store,
    // holding a token that expires in a year.
    let managers: Vec<(&str, Arc<Counted>, TokenManager)> = engines
        .all
        .iter()
        .map(|(name, store)| {
            let counted = Counted::new(Arc::clone(store));
            let manager = TokenManager::builder(
                Arc::new(NoRefresh),
                Arc::clone(&counted) as Arc<dyn TokenStore>,
                ACCOUNTS[0],
            )
            .build();
            runtime.block_on(manager.install(token_set(1))).unwrap();
            (*name, counted, manager)
        })
        .collect();
    let baseline_arc = Arc::new(7_u64);
    let arc_samples = Samples::default();
    let samples: Vec<Samples> = managers.iter().map(|_| Samples::default()).collect();
    let sample_size = 30;

    let mut group = c.benchmark_group("store_access_token");
    group
        .sample_size(sample_size)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(1));
    let arc = arc_samples.clone();
    group.bench_function("arc_clone", |b| {
        b.iter_custom(|iters| {
            let start = Instant::now();
            for _ in 0..iters {
                black_box(Arc::clone(black_box(&baseline_arc)));
            }
            let took = start.elapsed();
            arc.record(took, iters);
            took
        });
    });
    for ((name, _, manager), samples) in managers.iter().zip(&samples) {
        group.bench_function(*name, |b| {
            b.iter_custom(|iters| {
                let start = Instant::now();
                for _ in 0..iters {
                    let handle: TokenHandle = poll_once(black_box(manager).access_token()).unwrap();
                    black_box(handle);
                }
                let took = start.elapsed();
                samples.record(took, iters);
                took
            });
        });
    }
    group.finish();

    if !measuring || !arc_samples.ran() || !samples[0].ran() {
        return;
    }
    // Criterion measures one function after the other, so a change of load
    // on a shared machine between them moves the ratios. The figures come
    // from interleaved rounds instead: each round times `ROUND_CALLS` calls
    // of the `Arc::clone` and of every manager in turn; each one's figure is
    // the median of its rounds.
    const ROUNDS: usize = 31;
    const ROUND_CALLS: u32 = 200_000;
    let ran: Vec<&(&str, Arc<Counted>, TokenManager)> = managers
        .iter()
        .zip(&samples)
        .filter(|(_, samples)| samples.ran())
        .map(|(manager, _)| manager)
        .collect();
    let mut rounds: Vec<Vec<f64>> = vec![Vec::with_capacity(ROUNDS); ran.len() + 1];
    let per_call = |took: Duration| took.as_nanos() as f64 / f64::from(ROUND_CALLS);
    for _ in 0..ROUNDS {
        let start = Instant::now();
        for _ in 0..ROUND_CALLS {
            black_box(Arc::clone(black_box(&baseline_arc)));
        }
        rounds[0].push(per_call(start.elapsed()));
        for (i, (_, _, manager)) in ran.iter().enumerate() {
            let start = Instant::now();
            for _ in 0..ROUND_CALLS {
                black_box(poll_once(black_box(manager).access_token()).unwrap());
            }
            rounds[i + 1].push(per_call(start.elapsed()));
        }
    }
    let medians: Vec<f64> = rounds
        .iter_mut()
        .map(|r| {
            r.sort_by(f64::total_cmp);
            percentile(r, 50)
        })
        .collect();
    let (arc_ns, memory_ns) = (medians[0], medians[1]);

    const CALLS: u64 = 1_000_000;
    let control = allocations_per_call(CALLS, |i| {
        black_box(Box::new(black_box(i)));
    });
    assert!(
        (control - 1.0).abs() < 0.01,
        "the counting allocator saw {control} allocations per Box::new"
    );
    for ((name, counted, manager), ns) in ran.iter().zip(&medians[1..]) {
        let calls_before = counted.calls();
        let allocs = allocations_per_call(CALLS, |_| {
            black_box(poll_once(black_box(manager).access_token()).unwrap());
        });
        let store_calls = counted.calls() - calls_before;
        let ratio = ns / memory_ns;
        let versus = if *name == "memory" {
            format!(
                "(the baseline; Arc::clone {arc_ns:.1} ns: ratio {:.1}x)",
                ns / arc_ns
            )
        } else {
            format!(
                "vs {memory_ns:.1} ns over a MemoryStore (ratio {ratio:.2}x, target <= 1.25x; Arc::clone {arc_ns:.1} ns)"
            )
        };
        figures.push(format!(
            "store_access_token_{name}: median {ns:.1} ns {versus} over {ROUNDS} interleaved rounds of {ROUND_CALLS} calls; {allocs} allocations and {store_calls} store calls per call over {CALLS} calls (control Box::new {control}); {}",
            verdict(ratio <= 1.25 && allocs == 0.0 && store_calls == 0),
        ));
    }
}

// ---------------------------------------------------------------------------
// 2. lease_acquire

/// Takes and releases the lease of `key`; it must be granted.
async fn lease_round(store: &dyn TokenStore, key: &AccountKey, owner: &LeaseOwner) {
    match store.acquire_lease(key, owner, LEASE_TTL).await.unwrap() {
        LeaseOutcome::Acquired(lease) => store.release_lease(key, &lease).await.unwrap(),
        other => panic!("the lease was not granted: {other:?}"),
    }
}

fn lease_acquire(
    c: &mut Criterion,
    figures: &mut Vec<String>,
    measuring: bool,
    runtime: &tokio::runtime::Runtime,
    engines: &Engines,
) {
    let key = AccountKey::new(PROVIDER, ACCOUNTS[1]);
    let owner = LeaseOwner::generate();
    let ran: Vec<Samples> = engines.all.iter().map(|_| Samples::default()).collect();

    let mut group = c.benchmark_group("lease_acquire");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(1));
    for ((name, store), ran) in engines.all.iter().zip(&ran) {
        group.bench_function(*name, |b| {
            b.iter_custom(|iters| {
                runtime.block_on(async {
                    let start = Instant::now();
                    for _ in 0..iters {
                        lease_round(store.as_ref(), &key, &owner).await;
                    }
                    let took = start.elapsed();
                    ran.record(took, iters);
                    took
                })
            });
        });
    }
    group.finish();
    if !measuring || !ran[0].ran() {
        return;
    }
    let mut baseline = None;
    for ((name, store), ran) in engines.all.iter().zip(&ran) {
        if !ran.ran() {
            continue;
        }
        let took = runtime.block_on(sample(|| lease_round(store.as_ref(), &key, &owner)));
        let figure = p50_p99(&took);
        let versus = match &baseline {
            None => "the baseline".to_owned(),
            Some((p50, base)) => format!(
                "MemoryStore {base}; p50 ratio {:.0}x",
                percentile(&took, 50) / p50
            ),
        };
        figures.push(format!(
            "lease_acquire_{name}: acquire_lease + release_lease {figure} ({versus}); {SAMPLES} samples"
        ));
        if baseline.is_none() {
            baseline = Some((percentile(&took, 50), figure));
        }
    }
}

// ---------------------------------------------------------------------------
// 3. store_save

/// One compare-and-swap save at `version`; the next version.
async fn save_round(
    store: &dyn TokenStore,
    key: &AccountKey,
    tokens: &TokenSet,
    version: u64,
) -> u64 {
    match store.save(key, tokens, Some(version)).await.unwrap() {
        SaveOutcome::Saved { version } => version,
        other => panic!("the save was refused: {other:?}"),
    }
}

fn store_save(
    c: &mut Criterion,
    figures: &mut Vec<String>,
    measuring: bool,
    runtime: &tokio::runtime::Runtime,
    engines: &Engines,
) {
    let key = AccountKey::new(PROVIDER, ACCOUNTS[2]);
    let tokens = token_set(2);
    // The entry's version in each store.
    let versions: Vec<std::cell::Cell<u64>> = engines
        .all
        .iter()
        .map(|(_, store)| {
            runtime.block_on(async {
                let current = store.load(&key).await.unwrap().map(|v| v.version);
                match store.save(&key, &tokens, current).await.unwrap() {
                    SaveOutcome::Saved { version } => std::cell::Cell::new(version),
                    other => panic!("the first save was refused: {other:?}"),
                }
            })
        })
        .collect();
    let ran: Vec<Samples> = engines.all.iter().map(|_| Samples::default()).collect();

    let mut group = c.benchmark_group("store_save");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(1));
    for (((name, store), ran), version) in engines.all.iter().zip(&ran).zip(&versions) {
        group.bench_function(*name, |b| {
            b.iter_custom(|iters| {
                runtime.block_on(async {
                    let start = Instant::now();
                    for _ in 0..iters {
                        version.set(save_round(store.as_ref(), &key, &tokens, version.get()).await);
                    }
                    let took = start.elapsed();
                    ran.record(took, iters);
                    took
                })
            });
        });
    }
    group.finish();
    if !measuring || !ran[0].ran() {
        return;
    }
    let mut baseline = None;
    for (((name, store), ran), version) in engines.all.iter().zip(&ran).zip(&versions) {
        if !ran.ran() {
            continue;
        }
        let took = runtime.block_on(sample(|| async {
            version.set(save_round(store.as_ref(), &key, &tokens, version.get()).await);
        }));
        let figure = p50_p99(&took);
        let versus = match &baseline {
            None => "the baseline".to_owned(),
            Some((p50, base)) => format!(
                "MemoryStore {base}; p50 ratio {:.0}x",
                percentile(&took, 50) / p50
            ),
        };
        figures.push(format!(
            "store_save_{name}: compare-and-swap save {figure} ({versus}); {SAMPLES} samples"
        ));
        if baseline.is_none() {
            baseline = Some((percentile(&took, 50), figure));
        }
    }
}
