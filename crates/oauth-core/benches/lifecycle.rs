//! Benchmarks of the token lifecycle (`cargo xtask bench`, or
//! `cargo bench -p oauth-core --bench lifecycle`).
//!
//! Each benchmark is a criterion benchmark and, at the end of the run, one
//! `name: value` line with the figure and the ratio measured in the same
//! run (see `docs/performance.md`):
//!
//! - `cached_access_token`: `TokenManager::access_token()` on a fresh token
//!   against an `Arc::clone`, and heap allocations per call;
//! - `single_flight_10k`: 10 000 concurrent callers on an expired token
//!   against a loopback token endpoint answering in 20 ms;
//! - `pool_100k`: 100 000 accounts in a `TokenPool`: resident memory per
//!   account, the most refreshes in flight when all expire at once, and the
//!   cost of one proactive-refresh scan;
//! - `refresh_round_trip`: a refresh through `oauth_core::HttpClient`
//!   against a raw reqwest POST to the same loopback endpoint.
//!
//! Heap allocations are counted by a counting `#[global_allocator]`
//! wrapping `System` (the only `unsafe` code here, hence the local
//! `allow`). Resident memory needs a fresh process: this same binary,
//! re-executed with `OAUTH_BENCH_CHILD` set.
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

use criterion::{Criterion, SamplingMode};
use httpmock::prelude::*;
use oauth_core::{
    AccessToken, Clock, Error, HttpClient, ManualClock, MemoryStore, Params, RefreshGrant,
    RefreshToken, RetryPolicy, TokenHandle, TokenManager, TokenPool, TokenRequest, TokenSet,
    TokenStore, async_trait, from_unix_millis,
};
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::RefCell;
use std::future::Future;
use std::hint::black_box;
use std::pin::pin;
use std::process::Command;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant, SystemTime};
use url::Url;

/// Counts heap allocations (`alloc`, `alloc_zeroed` and `realloc`, which
/// may move) and the bytes live on the heap, then forwards to `System`.
struct CountingAllocator;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);
static LIVE_BYTES: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every method forwards its arguments unchanged to `System`, whose
// guarantees therefore hold; the counters are plain atomics and never
// allocate.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        LIVE_BYTES.fetch_add(layout.size(), Ordering::Relaxed);
        // SAFETY: the caller upholds `GlobalAlloc::alloc`'s contract.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        LIVE_BYTES.fetch_add(layout.size(), Ordering::Relaxed);
        // SAFETY: the caller upholds `GlobalAlloc::alloc_zeroed`'s contract.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE_BYTES.fetch_sub(layout.size(), Ordering::Relaxed);
        // SAFETY: the caller upholds `GlobalAlloc::dealloc`'s contract.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        LIVE_BYTES.fetch_add(new_size, Ordering::Relaxed);
        LIVE_BYTES.fetch_sub(layout.size(), Ordering::Relaxed);
        // SAFETY: the caller upholds `GlobalAlloc::realloc`'s contract.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: CountingAllocator = CountingAllocator;

/// Heap allocations per call of `f`, over `calls` calls (every thread's
/// allocations count, so a stray background allocation can only make the
/// figure worse, never hide one).
fn allocations_per_call(calls: u64, mut f: impl FnMut(u64)) -> f64 {
    let before = ALLOCATIONS.load(Ordering::SeqCst);
    for i in 0..calls {
        f(i);
    }
    let after = ALLOCATIONS.load(Ordering::SeqCst);
    after.saturating_sub(before) as f64 / calls as f64
}

/// Set in the environment of a re-executed child: what it must do.
const CHILD_ENV: &str = "OAUTH_BENCH_CHILD";

/// Accounts in the pool benchmark.
const POOL_ACCOUNTS: usize = 100_000;
/// The pool's cap on concurrent proactive refreshes (the default).
const POOL_CAP: usize = 8;
/// Concurrent callers in the single-flight benchmark.
const CALLERS: usize = 10_000;
/// Latency of the loopback token endpoint in the single-flight benchmark.
const ENDPOINT_LATENCY: Duration = Duration::from_millis(20);
/// A fixed instant for the simulated clocks (2027-01-15).
const T0_MS: u64 = 1_800_000_000_000;

fn main() {
    if let Ok(mode) = std::env::var(CHILD_ENV) {
        child::run(&mode);
        return;
    }
    let args: Vec<String> = std::env::args().collect();
    // Figures are printed only when measuring (`cargo bench`), not when
    // criterion merely checks that the benchmarks run (`--test`) or lists them.
    let measuring = args.iter().any(|a| a == "--bench")
        && !args
            .iter()
            .any(|a| a == "--test" || a == "--list" || a.starts_with("--profile-time"));
    let mut criterion = Criterion::default()
        .without_plots()
        .sample_size(20)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .configure_from_args();
    let mut figures = Vec::new();
    cached_access_token(&mut criterion, &mut figures, measuring);
    single_flight_10k(&mut criterion, &mut figures, measuring);
    pool_100k(&mut criterion, &mut figures, measuring);
    pool_read(&mut criterion, &mut figures, measuring);
    refresh_round_trip(&mut criterion, &mut figures, measuring);
    criterion.final_summary();
    if measuring {
        println!();
        println!("lifecycle figures (name: value):");
        for line in &figures {
            println!("{line}");
        }
    }
}

// ---------------------------------------------------------------------------
// Shared pieces

/// Per-iteration times (ns) recorded by an `iter_custom` routine. Criterion
/// calls the routine during warm-up too; the measured samples are the last
/// `sample_size` entries.
#[derive(Clone, Default)]
struct Samples(Rc<RefCell<Vec<f64>>>);

impl Samples {
    fn record(&self, took: Duration, iters: u64) {
        let per_iter = took.as_nanos() as f64 / iters.max(1) as f64;
        self.0.borrow_mut().push(per_iter);
    }

    /// The median of the last `n` samples, `None` if the benchmark did not
    /// run (filtered out).
    fn median_of_last(&self, n: usize) -> Option<f64> {
        let all = self.0.borrow();
        if all.is_empty() {
            return None;
        }
        let mut last: Vec<f64> = all[all.len().saturating_sub(n)..].to_vec();
        last.sort_by(f64::total_cmp);
        let mid = last.len() / 2;
        Some(if last.len().is_multiple_of(2) {
            (last[mid - 1] + last[mid]) / 2.0
        } else {
            last[mid]
        })
    }
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

/// A plausible token of `len` characters (providers' tokens are 40-100
/// characters; eBay user tokens are much longer).
fn token_text(prefix: &str, n: usize, len: usize) -> String {
    let mut s = format!("{prefix}-{n}-");
    while s.len() < len {
        s.push('x');
    }
    s
}

/// A token set expiring at `expires_at`, with a refresh token.
fn token_set(n: usize, expires_at: SystemTime) -> TokenSet {
    TokenSet::new(AccessToken::new(token_text("AT", n, 64)), expires_at)
        .with_refresh_token(RefreshToken::new(token_text("RT", n, 64)), None)
}

/// A minimal RFC 6749 refresh-token grant over `oauth_core::HttpClient`.
#[derive(Debug)]
struct HttpGrant {
    http: HttpClient,
    url: Url,
}

impl HttpGrant {
    fn new(url: &str) -> Arc<Self> {
        Arc::new(Self {
            http: HttpClient::builder()
                .retry_policy(RetryPolicy::none())
                .build()
                .unwrap(),
            url: Url::parse(url).unwrap(),
        })
    }
}

#[async_trait]
impl RefreshGrant for HttpGrant {
    fn provider(&self) -> &'static str {
        "bench"
    }

    async fn refresh(&self, current: &TokenSet) -> Result<TokenSet, Error> {
        let refresh_token = current
            .refresh_token
            .as_ref()
            .map(RefreshToken::expose_secret)
            .unwrap_or_default();
        let request = TokenRequest::post("bench", "refresh_token", self.url.clone()).form(
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
        let mut set = TokenSet::new(
            AccessToken::new(body.access_token),
            oauth_core::expiry_after(SystemTime::now(), Duration::from_secs(body.expires_in)),
        );
        if let Some(rt) = body.refresh_token {
            set = set.with_refresh_token(RefreshToken::new(rt), None);
        }
        Ok(set.merge_previous(current))
    }

    fn rotates_refresh_token(&self) -> bool {
        true
    }
}

/// The JSON a loopback token endpoint answers with.
fn token_response_body() -> String {
    format!(
        r#"{{"access_token":"{}","token_type":"Bearer","expires_in":3600,"refresh_token":"{}"}}"#,
        token_text("AT", 2, 64),
        token_text("RT", 2, 64)
    )
}

async fn token_endpoint(server: &MockServer, latency: Duration) -> httpmock::Mock<'_> {
    let body = token_response_body();
    server
        .mock_async(|when, then| {
            when.method(POST).path("/token");
            then.status(200)
                .header("content-type", "application/json")
                .delay(latency)
                .body(body);
        })
        .await
}

// ---------------------------------------------------------------------------
// 1. cached_access_token

/// A manager holding a token that expires in a year, with the system clock
/// (the configuration every application runs).
fn fresh_manager(runtime: &tokio::runtime::Runtime) -> TokenManager {
    let grant = HttpGrant::new("http://127.0.0.1:9/token");
    let manager = TokenManager::builder(grant, Arc::new(MemoryStore::new()), "seller-1").build();
    install_fresh(runtime, &manager);
    manager
}

/// The same with a [`ManualClock`] (an atomic load instead of reading the
/// system clock): the manager's own share of the hot path.
fn fresh_manager_manual_clock(runtime: &tokio::runtime::Runtime) -> TokenManager {
    let grant = HttpGrant::new("http://127.0.0.1:9/token");
    let manager = TokenManager::builder(grant, Arc::new(MemoryStore::new()), "seller-1")
        .clock(Arc::new(ManualClock::new(SystemTime::now())))
        .build();
    install_fresh(runtime, &manager);
    manager
}

fn install_fresh(runtime: &tokio::runtime::Runtime, manager: &TokenManager) {
    let expires_at = SystemTime::now() + Duration::from_secs(365 * 24 * 3600);
    runtime
        .block_on(manager.install(token_set(1, expires_at)))
        .unwrap();
}

fn cached_access_token(c: &mut Criterion, figures: &mut Vec<String>, measuring: bool) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let manager = fresh_manager(&runtime);
    let manual = fresh_manager_manual_clock(&runtime);
    let first = poll_once(manager.access_token()).unwrap();
    let baseline_arc = Arc::new(7_u64);
    let (arc_samples, token_samples) = (Samples::default(), Samples::default());
    let (now_samples, manual_samples) = (Samples::default(), Samples::default());
    let sample_size = 50;

    let mut group = c.benchmark_group("cached_access_token");
    group
        .sample_size(sample_size)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(2));
    let samples = arc_samples.clone();
    group.bench_function("arc_clone", |b| {
        b.iter_custom(|iters| {
            let start = Instant::now();
            for _ in 0..iters {
                black_box(Arc::clone(black_box(&baseline_arc)));
            }
            let took = start.elapsed();
            samples.record(took, iters);
            took
        });
    });
    let samples = token_samples.clone();
    group.bench_function("access_token", |b| {
        b.iter_custom(|iters| {
            let start = Instant::now();
            for _ in 0..iters {
                let handle: TokenHandle = poll_once(black_box(&manager).access_token()).unwrap();
                black_box(handle);
            }
            let took = start.elapsed();
            samples.record(took, iters);
            took
        });
    });
    // Where the time goes: reading the system clock, and the manager
    // without it.
    let samples = now_samples.clone();
    group.bench_function("system_time_now", |b| {
        b.iter_custom(|iters| {
            let start = Instant::now();
            for _ in 0..iters {
                black_box(SystemTime::now());
            }
            let took = start.elapsed();
            samples.record(took, iters);
            took
        });
    });
    let samples = manual_samples.clone();
    group.bench_function("access_token_manual_clock", |b| {
        b.iter_custom(|iters| {
            let start = Instant::now();
            for _ in 0..iters {
                black_box(poll_once(black_box(&manual).access_token()).unwrap());
            }
            let took = start.elapsed();
            samples.record(took, iters);
            took
        });
    });
    group.finish();

    // The hot path serves the installed token itself, not a copy.
    assert!(poll_once(manager.access_token()).unwrap().same_as(&first));

    let (Some(arc_ns), Some(token_ns)) = (
        arc_samples.median_of_last(sample_size),
        token_samples.median_of_last(sample_size),
    ) else {
        return;
    };
    if !measuring {
        return;
    }
    // Allocations per call, with a control that allocates once per call:
    // if the counter does not see those, it cannot be trusted for the rest.
    const CALLS: u64 = 1_000_000;
    let token_allocs = allocations_per_call(CALLS, |_| {
        black_box(poll_once(black_box(&manager).access_token()).unwrap());
    });
    let arc_allocs = allocations_per_call(CALLS, |_| {
        black_box(Arc::clone(black_box(&baseline_arc)));
    });
    let control = allocations_per_call(CALLS, |i| {
        black_box(Box::new(black_box(i)));
    });
    assert!(
        (control - 1.0).abs() < 0.01,
        "the counting allocator saw {control} allocations per Box::new"
    );
    let allocations = format!(
        "{token_allocs} per call over {CALLS} calls (Arc::clone {arc_allocs}, control Box::new {control}); {}",
        verdict(token_ns <= 50.0 && token_allocs == 0.0),
    );
    let breakdown = match (
        now_samples.median_of_last(sample_size),
        manual_samples.median_of_last(sample_size),
    ) {
        (Some(now_ns), Some(manual_ns)) => format!(
            " [SystemTime::now() alone {now_ns:.1} ns; with a ManualClock {manual_ns:.1} ns]"
        ),
        _ => String::new(),
    };
    figures.push(format!(
        "cached_access_token: median {token_ns:.1} ns vs Arc::clone {arc_ns:.1} ns (ratio {:.1}x, target <= 50 ns){breakdown}; allocations {allocations}",
        token_ns / arc_ns
    ));
}

// ---------------------------------------------------------------------------
// 2. single_flight_10k

/// One round: a new manager holding an expired token, `callers` tasks
/// asking for a token at once. Returns the wall time from the first spawn
/// to the last answer, and the requests the endpoint received.
async fn single_flight_round(
    grant: &Arc<HttpGrant>,
    mock: &httpmock::Mock<'_>,
    callers: usize,
) -> (Duration, usize) {
    let manager = TokenManager::builder(
        Arc::clone(grant) as Arc<dyn RefreshGrant>,
        Arc::new(MemoryStore::new()),
        "seller-1",
    )
    .build();
    let expired = SystemTime::now() - Duration::from_secs(1);
    manager.install(token_set(1, expired)).await.unwrap();
    let before = mock.calls_async().await;

    let start = Instant::now();
    let mut tasks = Vec::with_capacity(callers);
    for _ in 0..callers {
        let manager = manager.clone();
        tasks.push(tokio::spawn(async move { manager.access_token().await }));
    }
    let mut first: Option<TokenHandle> = None;
    for task in tasks {
        let handle = task.await.unwrap().unwrap();
        match &first {
            Some(first) => assert!(handle.same_as(first), "callers got different tokens"),
            None => first = Some(handle),
        }
    }
    let took = start.elapsed();
    let requests = mock.calls_async().await - before;
    let served = first.unwrap();
    assert_eq!(served.expose_secret(), token_text("AT", 2, 64));
    (took, requests)
}

fn single_flight_10k(c: &mut Criterion, figures: &mut Vec<String>, measuring: bool) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let server = runtime.block_on(MockServer::start_async());
    let mock = runtime.block_on(token_endpoint(&server, ENDPOINT_LATENCY));
    let grant = HttpGrant::new(&server.url("/token"));
    let (one_samples, many_samples) = (Samples::default(), Samples::default());
    let requests_per_round = RefCell::new(Vec::new());
    let sample_size = 10;

    let mut group = c.benchmark_group("single_flight_10k");
    group
        .sample_size(sample_size)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(1));
    for (name, callers, samples) in [
        ("one_caller", 1, &one_samples),
        ("10k_callers", CALLERS, &many_samples),
    ] {
        group.bench_function(name, |b| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    let (took, requests) =
                        runtime.block_on(single_flight_round(&grant, &mock, callers));
                    requests_per_round.borrow_mut().push((callers, requests));
                    total += took;
                }
                samples.record(total, iters);
                total
            });
        });
    }
    group.finish();

    let rounds = requests_per_round.borrow();
    // Exactly one request per round, whatever the number of callers: this
    // is the property itself, so a failure stops the benchmark.
    assert!(
        rounds.iter().all(|&(_, requests)| requests == 1),
        "single flight broken: (callers, requests) per round {rounds:?}"
    );
    let crowded: Vec<usize> = rounds
        .iter()
        .filter(|&&(callers, _)| callers == CALLERS)
        .map(|&(_, requests)| requests)
        .collect();
    let (Some(one), Some(many)) = (
        one_samples.median_of_last(sample_size),
        many_samples.median_of_last(sample_size),
    ) else {
        return;
    };
    if !measuring {
        return;
    }
    let ratio = many / one;
    figures.push(format!(
        "single_flight_10k: {} refresh request per round for {CALLERS} concurrent callers (max over {} rounds, target 1); wall median {:.1} ms vs one refresh {:.1} ms ({} ms endpoint latency): ratio {ratio:.2}x (target <= 1.5x); {}",
        crowded.iter().max().unwrap_or(&0),
        crowded.len(),
        many / 1e6,
        one / 1e6,
        ENDPOINT_LATENCY.as_millis(),
        verdict(ratio <= 1.5),
    ));
}

// ---------------------------------------------------------------------------
// 3. pool_100k

/// A refresh grant that answers after `delay` (tokio time) and counts the
/// calls in flight.
#[derive(Debug)]
struct CountingGrant {
    clock: ManualClock,
    delay: Duration,
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
    done: AtomicUsize,
}

#[async_trait]
impl RefreshGrant for CountingGrant {
    fn provider(&self) -> &'static str {
        "bench"
    }

    async fn refresh(&self, current: &TokenSet) -> Result<TokenSet, Error> {
        let now = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        self.max_in_flight.fetch_max(now, Ordering::SeqCst);
        tokio::time::sleep(self.delay).await;
        self.in_flight.fetch_sub(1, Ordering::SeqCst);
        self.done.fetch_add(1, Ordering::SeqCst);
        let fresh = TokenSet::new(
            AccessToken::new(token_text("AT2", 0, 64)),
            self.clock.now() + Duration::from_secs(3600),
        )
        .with_refresh_token(RefreshToken::new(token_text("RT2", 0, 64)), None);
        Ok(fresh.merge_previous(current))
    }

    fn rotates_refresh_token(&self) -> bool {
        true
    }
}

fn account(i: usize) -> String {
    format!("seller-{i:06}")
}

/// Fills `store` with `n` accounts' tokens (expiring one hour after T0),
/// then loads each into `pool` (the store's copy and the manager's copy are
/// then both resident, as in a running service).
async fn fill_store(store: &MemoryStore, n: usize) {
    let expires_at = from_unix_millis(T0_MS + 3_600_000);
    for i in 0..n {
        let key = oauth_core::AccountKey::new("bench", account(i));
        store
            .save(&key, &token_set(i, expires_at), None)
            .await
            .unwrap();
    }
}

async fn load_pool(pool: &TokenPool, n: usize) {
    for i in 0..n {
        pool.access_token(&account(i)).await.unwrap();
    }
}

fn pool_100k(c: &mut Criterion, figures: &mut Vec<String>, measuring: bool) {
    // The scan that the background task runs every second, over 100 000
    // accounts of which none is due.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let clock = ManualClock::new(from_unix_millis(T0_MS));
    let grant = Arc::new(CountingGrant {
        clock: clock.clone(),
        delay: Duration::from_millis(1),
        in_flight: AtomicUsize::new(0),
        max_in_flight: AtomicUsize::new(0),
        done: AtomicUsize::new(0),
    });
    let scan_samples = Samples::default();
    let sample_size = 10;
    let mut pool = None;
    let mut group = c.benchmark_group("pool_100k");
    group
        .sample_size(sample_size)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(1));
    group.bench_function("scan_none_due", |b| {
        let pool = pool.get_or_insert_with(|| {
            let store = Arc::new(MemoryStore::new());
            runtime.block_on(fill_store(&store, POOL_ACCOUNTS));
            let pool = TokenPool::builder(Arc::clone(&grant) as Arc<dyn RefreshGrant>, store)
                .clock(Arc::new(clock.clone()))
                .max_concurrent_refreshes(POOL_CAP)
                .build();
            runtime.block_on(load_pool(&pool, POOL_ACCOUNTS));
            pool
        });
        b.iter_custom(|iters| {
            let start = Instant::now();
            for _ in 0..iters {
                assert_eq!(runtime.block_on(pool.refresh_due()), 0);
            }
            let took = start.elapsed();
            scan_samples.record(took, iters);
            took
        });
    });
    group.finish();
    drop(pool);

    let Some(scan_ns) = scan_samples.median_of_last(sample_size) else {
        return;
    };
    if !measuring {
        return;
    }
    let figure = match child_figures("pool") {
        Ok(f) => {
            let get = |k: &str| f.iter().find(|(key, _)| key == k).map(|(_, v)| *v);
            let (
                Some(base),
                Some(store),
                Some(pool),
                Some(heap_base),
                Some(heap_store),
                Some(heap_pool),
                Some(max),
                Some(refreshed),
                Some(secs),
                Some(floor),
                Some(heap_floor),
            ) = (
                get("rss_base_kib"),
                get("rss_store_kib"),
                get("rss_pool_kib"),
                get("heap_base_bytes"),
                get("heap_store_bytes"),
                get("heap_pool_bytes"),
                get("max_in_flight"),
                get("refreshed"),
                get("refresh_all_ms"),
                get("rss_floor_kib"),
                get("heap_floor_bytes"),
            )
            else {
                panic!("the pool child did not report every figure: {f:?}");
            };
            let per = |kib: f64| kib * 1024.0 / POOL_ACCOUNTS as f64;
            let total = per(pool - base);
            let managers = per(pool - store);
            let stored = per(store - base);
            let heap = |bytes: f64| bytes / POOL_ACCOUNTS as f64;
            let (heap_managers, heap_stored) =
                (heap(heap_pool - heap_store), heap(heap_store - heap_base));
            assert!(
                max <= POOL_CAP as f64,
                "{max} refreshes in flight, above the cap {POOL_CAP}"
            );
            assert_eq!(refreshed, POOL_ACCOUNTS as f64);
            let floor_rss = per(floor - pool);
            let floor_heap = heap(heap_floor - heap_pool);
            let (rss_ratio, heap_ratio) = (managers / floor_rss, heap_managers / floor_heap);
            let vs_floor = format!(
                "pool + managers vs a plain HashMap<Arc<str>, ArcSwap<TokenSet>> of the same tokens: resident {managers:.0} B vs {floor_rss:.0} B ({rss_ratio:.2}x), live heap {heap_managers:.0} B vs {floor_heap:.0} B ({heap_ratio:.2}x); target <= 1.5x: {}",
                verdict(rss_ratio <= 1.5 && heap_ratio <= 1.5)
            );
            format!(
                "pool_100k: resident memory {total:.0} B per account ({managers:.0} B pool + manager, {stored:.0} B MemoryStore copy; target <= 1024 B: {}, {} without the store's copy; live heap bytes {heap_managers:.0} B + {heap_stored:.0} B); {max:.0} refreshes in flight at most when all {POOL_ACCOUNTS} expire at once (cap {POOL_CAP}: {}); all refreshed in {secs:.0} ms of wall time; one pass with none due {:.1} us; {vs_floor}",
                verdict(total <= 1024.0),
                verdict(managers <= 1024.0),
                verdict(max == POOL_CAP as f64),
                scan_ns / 1e3,
            )
        }
        Err(why) => format!(
            "pool_100k: child failed ({why}); one pass with none due {:.1} us",
            scan_ns / 1e3
        ),
    };
    figures.push(figure);
}

// ---------------------------------------------------------------------------
// pool_read: `TokenPool::access_token` against the manager's own, on a pool
// of 100 000 accounts, with 1 task and with 8 tasks on 2 worker threads.

/// ns per call of `calls` calls of `f` by each of `tasks` threads, 2 at a
/// time (the machine's cores): wall time x 2 / all calls.
fn contended_ns(tasks: usize, calls: u64, f: impl Fn() + Sync) -> f64 {
    let gate = std::sync::Barrier::new(tasks);
    let (gate, f) = (&gate, &f);
    let start = Instant::now();
    std::thread::scope(|scope| {
        for _ in 0..tasks {
            scope.spawn(move || {
                gate.wait();
                for _ in 0..calls {
                    f();
                }
            });
        }
    });
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get().min(tasks));
    start.elapsed().as_nanos() as f64 * cores as f64 / (tasks as u64 * calls) as f64
}

fn pool_read(c: &mut Criterion, figures: &mut Vec<String>, measuring: bool) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let clock = ManualClock::new(from_unix_millis(T0_MS));
    let grant = Arc::new(CountingGrant {
        clock: clock.clone(),
        delay: Duration::from_millis(1),
        in_flight: AtomicUsize::new(0),
        max_in_flight: AtomicUsize::new(0),
        done: AtomicUsize::new(0),
    });
    let store = Arc::new(MemoryStore::new());
    runtime.block_on(fill_store(&store, POOL_ACCOUNTS));
    let pool = TokenPool::builder(Arc::clone(&grant) as Arc<dyn RefreshGrant>, store)
        .clock(Arc::new(clock))
        .build();
    runtime.block_on(load_pool(&pool, POOL_ACCOUNTS));
    let name = account(POOL_ACCOUNTS / 2);
    let manager = pool.get(&name).unwrap();
    let (manager_samples, pool_samples) = (Samples::default(), Samples::default());
    let sample_size = 50;
    let mut group = c.benchmark_group("pool_read");
    group
        .sample_size(sample_size)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    let samples = manager_samples.clone();
    group.bench_function("manager_access_token", |b| {
        b.iter_custom(|iters| {
            let start = Instant::now();
            for _ in 0..iters {
                black_box(poll_once(black_box(&manager).access_token()).unwrap());
            }
            let took = start.elapsed();
            samples.record(took, iters);
            took
        });
    });
    let samples = pool_samples.clone();
    group.bench_function("pool_access_token", |b| {
        b.iter_custom(|iters| {
            let start = Instant::now();
            for _ in 0..iters {
                black_box(poll_once(black_box(&pool).access_token(black_box(&name))).unwrap());
            }
            let took = start.elapsed();
            samples.record(took, iters);
            took
        });
    });
    group.finish();
    let (Some(manager_ns), Some(pool_ns)) = (
        manager_samples.median_of_last(sample_size),
        pool_samples.median_of_last(sample_size),
    ) else {
        return;
    };
    if !measuring {
        return;
    }
    // 8 tasks on 2 cores, each reading its own account (min of 3 runs).
    const CALLS: u64 = 2_000_000;
    let names: Vec<String> = (0..8).map(|i| account(i * 997)).collect();
    let managers: Vec<TokenManager> = names.iter().map(|n| pool.get(n).unwrap()).collect();
    let next = AtomicUsize::new(0);
    let min3 = |f: &dyn Fn() -> f64| (0..3).map(|_| f()).fold(f64::MAX, f64::min);
    let manager8 = min3(&|| {
        next.store(0, Ordering::SeqCst);
        contended_ns(8, CALLS, || {
            thread_local!(static MINE: std::cell::Cell<usize> = const { std::cell::Cell::new(usize::MAX) });
            let i = MINE.with(|m| {
                if m.get() == usize::MAX {
                    m.set(next.fetch_add(1, Ordering::SeqCst) % 8);
                }
                m.get()
            });
            black_box(poll_once(managers[i].access_token()).unwrap());
        })
    });
    let pool8 = min3(&|| {
        next.store(0, Ordering::SeqCst);
        contended_ns(8, CALLS, || {
            thread_local!(static MINE: std::cell::Cell<usize> = const { std::cell::Cell::new(usize::MAX) });
            let i = MINE.with(|m| {
                if m.get() == usize::MAX {
                    m.set(next.fetch_add(1, Ordering::SeqCst) % 8);
                }
                m.get()
            });
            black_box(poll_once(pool.access_token(&names[i])).unwrap());
        })
    });
    let pool_allocs = allocations_per_call(1_000_000, |_| {
        black_box(poll_once(pool.access_token(&name)).unwrap());
    });
    let (ratio1, ratio8) = (pool_ns / manager_ns, pool8 / manager8);
    figures.push(format!(
        "pool_read: pool.access_token {pool_ns:.1} ns vs the manager's own {manager_ns:.1} ns with 1 task (ratio {ratio1:.2}x), {pool8:.1} ns vs {manager8:.1} ns per call per core with 8 tasks on 2 cores (ratio {ratio8:.2}x); target <= 1.3x: {}; {pool_allocs} allocations per call: {}",
        verdict(ratio1 <= 1.3 && ratio8 <= 1.3),
        verdict(pool_allocs == 0.0),
    ));
}

/// Runs this binary as a child in `mode` and parses its `key=value` lines.
fn child_figures(mode: &str) -> Result<Vec<(String, f64)>, String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let output = Command::new(exe)
        .env(CHILD_ENV, mode)
        .output()
        .map_err(|e| format!("cannot start the child: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "child `{mode}` exited with {}: {}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    Ok(String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| {
            let (key, value) = line.split_once('=')?;
            Some((key.to_owned(), value.trim().parse().ok()?))
        })
        .collect())
}

// ---------------------------------------------------------------------------
// 4. refresh_round_trip

fn refresh_round_trip(c: &mut Criterion, figures: &mut Vec<String>, measuring: bool) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let server = runtime.block_on(MockServer::start_async());
    let _mock = runtime.block_on(token_endpoint(&server, Duration::ZERO));
    let url = server.url("/token");
    let grant = HttpGrant::new(&url);
    let raw = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let current = token_set(1, SystemTime::now());
    let form = format!(
        "grant_type=refresh_token&refresh_token={}",
        token_text("RT", 1, 64)
    );
    let expected = token_text("AT", 2, 64);
    let (raw_samples, grant_samples) = (Samples::default(), Samples::default());
    let sample_size = 20;

    let mut group = c.benchmark_group("refresh_round_trip");
    group
        .sample_size(sample_size)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    group.bench_function("raw_reqwest_post", |b| {
        b.iter_custom(|iters| {
            runtime.block_on(async {
                let start = Instant::now();
                for _ in 0..iters {
                    let response = raw
                        .post(&url)
                        .header("content-type", "application/x-www-form-urlencoded")
                        .header("accept", "application/json")
                        .body(form.clone())
                        .send()
                        .await
                        .unwrap();
                    assert_eq!(response.status(), 200);
                    black_box(response.bytes().await.unwrap());
                }
                let took = start.elapsed();
                raw_samples.record(took, iters);
                took
            })
        });
    });
    group.bench_function("http_client_grant", |b| {
        b.iter_custom(|iters| {
            runtime.block_on(async {
                let start = Instant::now();
                for _ in 0..iters {
                    let set = grant.refresh(&current).await.unwrap();
                    assert_eq!(set.access_token.expose_secret(), expected);
                    black_box(set);
                }
                let took = start.elapsed();
                grant_samples.record(took, iters);
                took
            })
        });
    });
    group.finish();

    let (Some(raw_ns), Some(grant_ns)) = (
        raw_samples.median_of_last(sample_size),
        grant_samples.median_of_last(sample_size),
    ) else {
        return;
    };
    if measuring {
        figures.push(format!(
            "refresh_round_trip: median {:.1} us through HttpClient + decode vs raw reqwest POST {:.1} us to the same loopback endpoint (ratio {:.2}x)",
            grant_ns / 1e3,
            raw_ns / 1e3,
            grant_ns / raw_ns
        ));
    }
}

// ---------------------------------------------------------------------------
// Children: re-executions of this binary for figures that need a process of
// their own.

mod child {
    use super::*;

    pub(super) fn run(mode: &str) {
        let parts: Vec<&str> = mode.split(':').collect();
        match parts.as_slice() {
            ["pool"] => pool_memory(),
            _ => panic!("unknown {CHILD_ENV} mode `{mode}`"),
        }
    }

    /// Resident memory in KiB (`VmRSS` of /proc/self/status).
    fn rss_kib() -> f64 {
        let status = std::fs::read_to_string("/proc/self/status").unwrap();
        status
            .lines()
            .find_map(|line| line.strip_prefix("VmRSS:"))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|kib| kib.parse().ok())
            .unwrap()
    }

    /// 100 000 accounts: resident memory of the store's copies, then of the
    /// pool's managers; then all expire at once and one `refresh_due` pass
    /// refreshes them with a grant that counts the calls in flight. Paused
    /// tokio time: the grant's 10 ms "latency" costs no wall time.
    fn pool_memory() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .start_paused(true)
            .build()
            .unwrap();
        let clock = ManualClock::new(from_unix_millis(T0_MS));
        let grant = Arc::new(CountingGrant {
            clock: clock.clone(),
            delay: Duration::from_millis(10),
            in_flight: AtomicUsize::new(0),
            max_in_flight: AtomicUsize::new(0),
            done: AtomicUsize::new(0),
        });
        let accounts: Vec<String> = (0..POOL_ACCOUNTS).map(account).collect();
        let (base, heap_base) = (rss_kib(), LIVE_BYTES.load(Ordering::SeqCst));
        let store = Arc::new(MemoryStore::new());
        runtime.block_on(fill_store(&store, POOL_ACCOUNTS));
        let (with_store, heap_store) = (rss_kib(), LIVE_BYTES.load(Ordering::SeqCst));
        let pool = TokenPool::builder(Arc::clone(&grant) as Arc<dyn RefreshGrant>, store)
            .clock(Arc::new(clock.clone()))
            .max_concurrent_refreshes(POOL_CAP)
            .build();
        runtime.block_on(load_pool(&pool, POOL_ACCOUNTS));
        let (with_pool, heap_pool) = (rss_kib(), LIVE_BYTES.load(Ordering::SeqCst));
        assert_eq!(pool.len(), POOL_ACCOUNTS);

        // The floor: a plain map from account id to an atomically swappable
        // copy of the same tokens.
        let floor: std::collections::HashMap<Arc<str>, arc_swap::ArcSwap<TokenSet>> = runtime
            .block_on(async {
                let mut map = std::collections::HashMap::with_capacity(POOL_ACCOUNTS);
                for name in &accounts {
                    let tokens = pool
                        .get(name)
                        .unwrap()
                        .current()
                        .unwrap()
                        .token_set()
                        .clone();
                    map.insert(
                        Arc::from(name.as_str()),
                        arc_swap::ArcSwap::from_pointee(tokens),
                    );
                }
                map
            });
        let (with_floor, heap_floor) = (rss_kib(), LIVE_BYTES.load(Ordering::SeqCst));
        assert_eq!(floor.len(), POOL_ACCOUNTS);

        // Everyone expires at the same instant.
        clock.set(from_unix_millis(T0_MS + 3_600_000 + 1_000));
        let start = Instant::now();
        let started = runtime.block_on(async {
            let started = pool.refresh_due().await;
            // The pass returns once the last refresh has started; wait
            // (bounded) for the rest.
            for _ in 0..10_000 {
                if grant.done.load(Ordering::SeqCst) >= started {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            started
        });
        let took = start.elapsed();
        assert_eq!(started, POOL_ACCOUNTS);
        assert_eq!(grant.done.load(Ordering::SeqCst), POOL_ACCOUNTS);
        // Every account now holds the refreshed token.
        let sample = runtime
            .block_on(pool.access_token(&accounts[POOL_ACCOUNTS / 2]))
            .unwrap();
        assert_eq!(sample.expose_secret(), token_text("AT2", 0, 64));

        println!("rss_base_kib={base}");
        println!("rss_store_kib={with_store}");
        println!("rss_pool_kib={with_pool}");
        println!("heap_base_bytes={heap_base}");
        println!("heap_store_bytes={heap_store}");
        println!("heap_pool_bytes={heap_pool}");
        println!("rss_floor_kib={with_floor}");
        println!("heap_floor_bytes={heap_floor}");
        drop(floor);
        println!(
            "max_in_flight={}",
            grant.max_in_flight.load(Ordering::SeqCst)
        );
        println!("refreshed={}", grant.done.load(Ordering::SeqCst));
        println!("refresh_all_ms={}", took.as_millis());
    }
}
