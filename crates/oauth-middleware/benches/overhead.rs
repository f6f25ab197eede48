//! The middleware's cost per call (`cargo bench -p oauth-middleware --bench
//! overhead`): in one run, against one fast loopback server (a thread of
//! its own answering every GET with one fixed `200`, keep-alive, no
//! allocation per request):
//!
//! - `bare_reqwest`: `reqwest::Client` GET, body read;
//! - `reqwest_middleware`: the same client in a `ClientWithMiddleware`
//!   without middleware;
//! - `oauth_middleware`: the same with `OAuthMiddleware` (one account's
//!   `TokenManager` over a `MemoryStore`, fresh token, `200`: no read, no
//!   retry: the common path).
//!
//! and heap allocations per call, counted by a counting
//! `#[global_allocator]` (the server's thread counted apart). When
//! measuring (`--bench`), the run ends with one line, `overhead: ...`,
//! from interleaved rounds (a shared machine's load drifts between
//! criterion's groups).
#![allow(
    unsafe_code,
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::indexing_slicing,
    clippy::cast_possible_truncation,
    clippy::cast_precision_loss
)]

use criterion::Criterion;
use oauth_core::provider::rfc6749::Rfc6749;
use oauth_core::{
    AccessToken, Client, Error, MemoryStore, RefreshGrant, TokenManager, TokenSet, async_trait,
};
use oauth_middleware::Authorizer;
use reqwest_middleware::{ClientBuilder, ClientWithMiddleware};
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

struct CountingAllocator;

static CLIENT_ALLOCATIONS: AtomicU64 = AtomicU64::new(0);

thread_local! {
    /// Set on the server's thread (`const`, no destructor: never allocates).
    static IN_SERVER: Cell<bool> = const { Cell::new(false) };
}

fn count() {
    if !IN_SERVER.try_with(Cell::get).unwrap_or(false) {
        CLIENT_ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
    }
}

// SAFETY: every method forwards its arguments unchanged to `System`; the
// counter is a plain atomic and the flag a `const` thread-local.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count();
        // SAFETY: the caller upholds `GlobalAlloc::alloc`'s contract.
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        count();
        // SAFETY: the caller upholds `GlobalAlloc::alloc_zeroed`'s contract.
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller upholds `GlobalAlloc::dealloc`'s contract.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count();
        // SAFETY: the caller upholds `GlobalAlloc::realloc`'s contract.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: CountingAllocator = CountingAllocator;

/// Answers every request with one fixed `200` on a thread of its own.
fn start_server() -> SocketAddr {
    const RESPONSE: &[u8] =
        b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 11\r\n\r\n{\"ok\":true}";
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        IN_SERVER.with(|s| s.set(true));
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_io()
            .build()
            .unwrap();
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            tx.send(listener.local_addr().unwrap()).unwrap();
            loop {
                let (mut stream, _) = listener.accept().await.unwrap();
                tokio::spawn(async move {
                    let _ = stream.set_nodelay(true);
                    let mut buf = vec![0u8; 64 * 1024];
                    let mut filled = 0;
                    loop {
                        while let Some(end) =
                            buf[..filled].windows(4).position(|w| w == b"\r\n\r\n")
                        {
                            if stream.write_all(RESPONSE).await.is_err() {
                                return;
                            }
                            buf.copy_within(end + 4..filled, 0);
                            filled -= end + 4;
                        }
                        match stream.read(&mut buf[filled..]).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => filled += n,
                        }
                    }
                });
            }
        });
    });
    rx.recv().unwrap()
}

#[derive(Debug)]
struct Grant;

#[async_trait]
impl RefreshGrant for Grant {
    fn provider(&self) -> &'static str {
        "shopx"
    }
    async fn refresh(&self, _: &TokenSet) -> Result<TokenSet, Error> {
        Err(Error::configuration("not in this benchmark"))
    }
    fn rotates_refresh_token(&self) -> bool {
        false
    }
}

struct Contenders {
    url: String,
    bare: reqwest::Client,
    plain: ClientWithMiddleware,
    oauth: ClientWithMiddleware,
}

impl Contenders {
    async fn new(addr: SocketAddr) -> Self {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let bare = reqwest::Client::new();
        let spec = Rfc6749::new("shopx", "client", None)
            .production("https://auth.shopx.example")
            .unwrap();
        let client = Client::builder(spec).build().unwrap();
        let manager =
            TokenManager::builder(Arc::new(Grant), Arc::new(MemoryStore::new()), "seller-42")
                .build();
        let token = "t".repeat(512);
        manager
            .install(TokenSet::new(
                AccessToken::new(token),
                SystemTime::now() + Duration::from_secs(3600),
            ))
            .await
            .unwrap();
        Self {
            url: format!("http://{addr}/sell/inventory/v1/inventory_item?limit=100"),
            plain: ClientBuilder::new(bare.clone()).build(),
            oauth: ClientBuilder::new(bare.clone())
                .with(Authorizer::new(&client, manager).middleware())
                .build(),
            bare,
        }
    }

    async fn call(&self, k: usize) {
        let bytes = match k {
            0 => self.bare.get(&self.url).send().await.unwrap().bytes().await,
            1 => {
                self.plain
                    .get(&self.url)
                    .send()
                    .await
                    .unwrap()
                    .bytes()
                    .await
            }
            _ => {
                self.oauth
                    .get(&self.url)
                    .send()
                    .await
                    .unwrap()
                    .bytes()
                    .await
            }
        };
        assert_eq!(bytes.unwrap().len(), 11);
    }
}

const NAMES: [&str; 3] = ["bare_reqwest", "reqwest_middleware", "oauth_middleware"];
const ROUNDS: usize = 41;
const BATCH: u32 = 200;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let measuring = args.iter().any(|a| a == "--bench")
        && !args
            .iter()
            .any(|a| a == "--test" || a == "--list" || a.starts_with("--profile-time"));
    let mut criterion = Criterion::default()
        .without_plots()
        .sample_size(20)
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(1))
        .configure_from_args();
    let addr = start_server();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let contenders = runtime.block_on(Contenders::new(addr));
    let mut group = criterion.benchmark_group("overhead");
    for (k, name) in NAMES.iter().enumerate() {
        group.bench_function(*name, |b| {
            b.to_async(&runtime).iter(|| contenders.call(k));
        });
    }
    group.finish();
    if !measuring {
        return;
    }
    // Interleaved rounds: median ns per call of each, and allocations.
    let mut times = [const { Vec::new() }; 3];
    runtime.block_on(async {
        for k in 0..3 {
            for _ in 0..BATCH {
                contenders.call(k).await;
            }
        }
        for _ in 0..ROUNDS {
            for (k, samples) in times.iter_mut().enumerate() {
                let start = Instant::now();
                for _ in 0..BATCH {
                    contenders.call(k).await;
                }
                samples.push(start.elapsed().as_nanos() as f64 / f64::from(BATCH));
            }
        }
    });
    let mut allocations = [0f64; 3];
    runtime.block_on(async {
        for (k, a) in allocations.iter_mut().enumerate() {
            let before = CLIENT_ALLOCATIONS.load(Ordering::Relaxed);
            for _ in 0..BATCH {
                contenders.call(k).await;
            }
            *a = (CLIENT_ALLOCATIONS.load(Ordering::Relaxed) - before) as f64 / f64::from(BATCH);
        }
    });
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let ns: Vec<f64> = times.iter_mut().map(median).collect();
    println!(
        "overhead: per call (median of {ROUNDS} interleaved rounds of {BATCH}): bare reqwest {:.1} µs, {:.1} allocs; reqwest-middleware without middleware {:.1} µs ({:+.1} µs), {:.1} allocs; with OAuthMiddleware {:.1} µs ({:+.1} µs over reqwest-middleware, {:+.1} µs over bare), {:.1} allocs ({:+.1})",
        ns[0] / 1e3,
        allocations[0],
        ns[1] / 1e3,
        (ns[1] - ns[0]) / 1e3,
        allocations[1],
        ns[2] / 1e3,
        (ns[2] - ns[1]) / 1e3,
        (ns[2] - ns[0]) / 1e3,
        allocations[2],
        allocations[2] - allocations[1],
    );
}
