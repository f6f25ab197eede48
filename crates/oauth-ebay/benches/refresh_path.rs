//! The refresh path at raw-HTTP cost (`cargo bench -p oauth-ebay --bench
//! refresh_path`, also run by `cargo xtask bench`).
//!
//! A minimal loopback server (a tokio TCP listener answering every request
//! with one fixed HTTP/1.1 response, keep-alive, no allocation per request)
//! stands in for eBay's token endpoint, so that the figures show the
//! client's own cost rather than a mock server's (httpmock answers in about
//! a millisecond, which hides tens of microseconds). In the same run:
//!
//! - `raw_reqwest_post`: a reqwest POST of the same form body with the same
//!   headers, configured like `oauth_core::HttpClient` (timeouts, no
//!   redirects, user agent), reading the body as bytes;
//! - `ebay_refresh`: `oauth_ebay::Client` as a `RefreshGrant` (request built,
//!   sent through `HttpClient`, answer decoded into a `TokenSet`);
//! - `force_refresh`: `TokenManager::force_refresh` over that client with a
//!   `MemoryStore` (refresh, compare-and-swap save, publication).
//!
//! and the heap allocations per call of each, counted by a counting
//! `#[global_allocator]` (the only `unsafe` code here, hence the local
//! `allow`). The server runs on a thread of its own and its allocations are
//! counted apart (none per request once a connection is open).
//!
//! When measuring (`--bench`), the run ends with one line:
//! `refresh_path: ...` with each figure and its same-run baseline.
//! oauth2 5.0's figures come from `bench/compare-oauth2`, which runs the same
//! server (see `cargo xtask bench`).
#![allow(
    unsafe_code,
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::print_stdout,
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss
)]

use criterion::Criterion;
use oauth_core::{
    AccessToken, ClientSecret, HttpClient, MemoryStore, RefreshGrant, RefreshToken, RetryPolicy,
    Scopes, TokenManager, TokenSet,
};
use oauth_ebay::{Client, Environment};
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::{Cell, RefCell};
use std::hint::black_box;
use std::net::SocketAddr;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

// ---------------------------------------------------------------------------
// Allocation counting

/// Counts heap allocations (`alloc`, `alloc_zeroed`, `realloc`) per side:
/// the loopback server's thread apart from everything else.
struct CountingAllocator;

static CLIENT_ALLOCATIONS: AtomicU64 = AtomicU64::new(0);
static SERVER_ALLOCATIONS: AtomicU64 = AtomicU64::new(0);

thread_local! {
    /// Set on the server's thread. `const`, no destructor: reading it never
    /// allocates, so the allocator may use it.
    static IN_SERVER: Cell<bool> = const { Cell::new(false) };
}

fn count() {
    let server = IN_SERVER.try_with(Cell::get).unwrap_or(false);
    if server {
        SERVER_ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
    } else {
        CLIENT_ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
    }
}

// SAFETY: every method forwards its arguments unchanged to `System`, whose
// guarantees therefore hold; the counters are plain atomics and a `const`
// thread-local, neither of which allocates.
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

// ---------------------------------------------------------------------------
// The loopback token endpoint

/// eBay's refresh answer: an access token only (eBay does not rotate the
/// refresh token). Token lengths are plausible for eBay, whose user tokens
/// are long.
fn token_body() -> String {
    format!(
        r#"{{"access_token":"{}","expires_in":7200,"token_type":"User Access Token"}}"#,
        token_text("v^1.1#i^1#p^3#r^1#I^3#f^0#t^AT", 512)
    )
}

fn refresh_token_text() -> String {
    token_text("v^1.1#i^1#p^3#r^1#I^3#f^0#t^RT", 160)
}

fn token_text(prefix: &str, len: usize) -> String {
    let mut s = prefix.to_owned();
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut i = 0;
    while s.len() < len {
        s.push(char::from(alphabet[i % alphabet.len()]));
        i += 7;
    }
    s
}

const SCOPE: &str = "https://api.ebay.com/oauth/api_scope/sell.inventory";
const CLIENT_ID: &str = "ExampleI-Example-PRD-1a2b3c4d5-6e7f8a9b";
const CLIENT_SECRET: &str = "PRD-1a2b3c4d5e6f-7a8b-9c0d-1e2f-3a4b";

/// Starts the server on its own thread and runtime; returns its address.
fn start_server(body: &str) -> SocketAddr {
    let response: &'static [u8] = format!(
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncache-control: no-store\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
    .leak();
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
                let (stream, _) = listener.accept().await.unwrap();
                tokio::spawn(serve_connection(stream, response));
            }
        });
    });
    rx.recv().unwrap()
}

/// Answers every complete request on `stream` with `response`. One buffer
/// per connection, reused: no allocation per request.
async fn serve_connection(mut stream: tokio::net::TcpStream, response: &'static [u8]) {
    let _ = stream.set_nodelay(true);
    let mut buf = vec![0u8; 64 * 1024];
    let mut filled = 0;
    loop {
        while let Some(len) = request_len(&buf[..filled]) {
            if stream.write_all(response).await.is_err() {
                return;
            }
            buf.copy_within(len..filled, 0);
            filled -= len;
        }
        match stream.read(&mut buf[filled..]).await {
            Ok(0) | Err(_) => return,
            Ok(n) => filled += n,
        }
    }
}

/// The length of the first complete request in `buf` (head and
/// `Content-Length` body), if it is all there.
fn request_len(buf: &[u8]) -> Option<usize> {
    let head = buf.windows(4).position(|w| w == b"\r\n\r\n")? + 4;
    let mut body = 0;
    for line in buf[..head].split(|&b| b == b'\n') {
        let Some(colon) = line.iter().position(|&b| b == b':') else {
            continue;
        };
        if line[..colon].eq_ignore_ascii_case(b"content-length") {
            let value = std::str::from_utf8(&line[colon + 1..]).ok()?.trim();
            body = value.parse().ok()?;
        }
    }
    (buf.len() >= head + body).then_some(head + body)
}

// ---------------------------------------------------------------------------
// The three contenders

struct Setup {
    runtime: tokio::runtime::Runtime,
    raw: reqwest::Client,
    url: String,
    basic: String,
    form: String,
    client: Client,
    current: TokenSet,
    manager: TokenManager,
    expected: String,
}

impl Setup {
    fn new() -> Self {
        let addr = start_server(&token_body());
        let base = format!("http://{addr}");
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        // Configured like `HttpClient`'s defaults: what is compared is our
        // layer over reqwest, not two reqwest configurations. A rustls
        // configuration of its own (ring, no roots: plain HTTP only here),
        // since reqwest is built without a default crypto provider.
        let tls = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(rustls::RootCertStore::empty())
        .with_no_client_auth();
        let raw = reqwest::Client::builder()
            .tls_backend_preconfigured(tls)
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(30))
            .redirect(reqwest::redirect::Policy::none())
            .user_agent("oauth-core/0.1.0")
            .build()
            .unwrap();
        let http = HttpClient::builder()
            .retry_policy(RetryPolicy::none())
            .build()
            .unwrap();
        let client = Client::builder(CLIENT_ID, ClientSecret::new(CLIENT_SECRET))
            .ru_name("Example_Inc-Example-PRD-abcd")
            .scopes(Scopes::from([SCOPE]))
            .environment(Environment::custom(&base).unwrap())
            .http_client(http)
            .build()
            .unwrap();
        let current = TokenSet::new(
            AccessToken::new("v^1.1#old"),
            SystemTime::now() + Duration::from_secs(3600),
        )
        .with_refresh_token(RefreshToken::new(refresh_token_text()), None)
        .with_scopes(Scopes::from([SCOPE]));
        let manager = TokenManager::builder(
            Arc::new(client.clone()),
            Arc::new(MemoryStore::new()),
            "seller-1",
        )
        .build();
        runtime.block_on(manager.install(current.clone())).unwrap();
        let form = format!(
            "grant_type=refresh_token&refresh_token={}&scope={}",
            encode(&refresh_token_text()),
            encode(SCOPE)
        );
        let basic = {
            use base64::Engine;
            format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD
                    .encode(format!("{CLIENT_ID}:{CLIENT_SECRET}"))
            )
        };
        let expected =
            serde_json::from_str::<serde_json::Value>(&token_body()).unwrap()["access_token"]
                .as_str()
                .unwrap()
                .to_owned();
        Self {
            runtime,
            raw,
            url: format!("{base}{}", oauth_ebay::TOKEN_PATH),
            basic,
            form,
            client,
            current,
            manager,
            expected,
        }
    }

    async fn raw_post(&self) {
        let response = self
            .raw
            .post(&self.url)
            .header("authorization", &self.basic)
            .header("accept", "application/json")
            .header("content-type", "application/x-www-form-urlencoded")
            .body(self.form.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        black_box(response.bytes().await.unwrap());
    }

    async fn ebay_refresh(&self) {
        let set = self.client.refresh(&self.current).await.unwrap();
        debug_assert_eq!(set.access_token.expose_secret(), self.expected);
        black_box(set);
    }

    async fn force_refresh(&self) {
        let handle = self.manager.force_refresh().await.unwrap();
        debug_assert_eq!(handle.expose_secret(), self.expected);
        black_box(handle);
    }
}

fn encode(text: &str) -> String {
    oauth_core::url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

// ---------------------------------------------------------------------------
// Measurement

/// Per-iteration times (ns) recorded by an `iter_custom` routine; the
/// measured samples are the last `sample_size` entries (criterion calls the
/// routine during warm-up too).
#[derive(Clone, Default)]
struct Samples(Rc<RefCell<Vec<f64>>>);

impl Samples {
    fn record(&self, took: Duration, iters: u64) {
        self.0
            .borrow_mut()
            .push(took.as_nanos() as f64 / iters.max(1) as f64);
    }

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

/// Allocations per call, client side and server side, over `calls` calls
/// made after a warm-up (the connection is open and pooled).
fn allocations(setup: &Setup, calls: u64, f: &impl AsyncFn(&Setup)) -> (f64, f64) {
    setup.runtime.block_on(async {
        for _ in 0..100 {
            f(setup).await;
        }
        let client = CLIENT_ALLOCATIONS.load(Ordering::SeqCst);
        let server = SERVER_ALLOCATIONS.load(Ordering::SeqCst);
        for _ in 0..calls {
            f(setup).await;
        }
        let client = CLIENT_ALLOCATIONS.load(Ordering::SeqCst) - client;
        let server = SERVER_ALLOCATIONS.load(Ordering::SeqCst) - server;
        (client as f64 / calls as f64, server as f64 / calls as f64)
    })
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    if values.len().is_multiple_of(2) {
        (values[mid - 1] + values[mid]) / 2.0
    } else {
        values[mid]
    }
}

/// The same-run comparison: `rounds` rounds, each running every contender
/// for `batch` calls in turn (the order rotating), so that all three see
/// the same machine load. Returns the median time per call of each
/// contender (ns) and the median of the per-round ratios to the raw POST.
fn interleaved(setup: &Setup, rounds: usize, batch: u32) -> ([f64; 3], [f64; 2]) {
    let mut times: [Vec<f64>; 3] = Default::default();
    let mut ratios: [Vec<f64>; 2] = Default::default();
    setup.runtime.block_on(async {
        for round in 0..rounds {
            let mut took = [0.0; 3];
            for k in 0..3 {
                let which = (round + k) % 3;
                let start = Instant::now();
                for _ in 0..batch {
                    match which {
                        0 => setup.raw_post().await,
                        1 => setup.ebay_refresh().await,
                        _ => setup.force_refresh().await,
                    }
                }
                took[which] = start.elapsed().as_nanos() as f64 / f64::from(batch);
            }
            for (k, t) in took.iter().enumerate() {
                times[k].push(*t);
            }
            ratios[0].push(took[1] / took[0]);
            ratios[1].push(took[2] / took[0]);
        }
    });
    let [raw, ebay, forced] = &mut times;
    let [ebay_ratio, forced_ratio] = &mut ratios;
    (
        [median(raw), median(ebay), median(forced)],
        [median(ebay_ratio), median(forced_ratio)],
    )
}

fn verdict(ok: bool) -> &'static str {
    if ok { "met" } else { "MISSED" }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    // Figures only when measuring (`cargo bench`), not when criterion merely
    // checks that the benchmarks run (`--test`) or lists them.
    let measuring = args.iter().any(|a| a == "--bench")
        && !args
            .iter()
            .any(|a| a == "--test" || a == "--list" || a.starts_with("--profile-time"));
    let sample_size = 30;
    let mut criterion = Criterion::default()
        .without_plots()
        .sample_size(sample_size)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .configure_from_args();
    let setup = Setup::new();
    let samples = [Samples::default(), Samples::default(), Samples::default()];

    let mut group = criterion.benchmark_group("refresh_path");
    group.bench_function("raw_reqwest_post", |b| {
        b.iter_custom(|iters| {
            setup.runtime.block_on(async {
                let start = Instant::now();
                for _ in 0..iters {
                    setup.raw_post().await;
                }
                let took = start.elapsed();
                samples[0].record(took, iters);
                took
            })
        });
    });
    group.bench_function("ebay_refresh", |b| {
        b.iter_custom(|iters| {
            setup.runtime.block_on(async {
                let start = Instant::now();
                for _ in 0..iters {
                    setup.ebay_refresh().await;
                }
                let took = start.elapsed();
                samples[1].record(took, iters);
                took
            })
        });
    });
    group.bench_function("force_refresh", |b| {
        b.iter_custom(|iters| {
            setup.runtime.block_on(async {
                let start = Instant::now();
                for _ in 0..iters {
                    setup.force_refresh().await;
                }
                let took = start.elapsed();
                samples[2].record(took, iters);
                took
            })
        });
    });
    group.finish();
    criterion.final_summary();

    let ran = samples
        .iter()
        .all(|s| s.median_of_last(sample_size).is_some());
    if !measuring || !ran {
        return;
    }
    // The figures: interleaved rounds (criterion's groups run one after the
    // other, and a shared machine's load drifts between them).
    let ([raw_ns, ebay_ns, forced_ns], [ebay_ratio, forced_ratio]) = interleaved(&setup, 101, 200);
    let calls = 2_000;
    let (raw_allocs, raw_server) = allocations(&setup, calls, &Setup::raw_post);
    let (ebay_allocs, ebay_server) = allocations(&setup, calls, &Setup::ebay_refresh);
    let (forced_allocs, forced_server) = allocations(&setup, calls, &Setup::force_refresh);
    let server = raw_server.max(ebay_server).max(forced_server);
    println!();
    println!(
        "refresh_path: raw reqwest POST {:.1} us, {raw_allocs:.0} allocs/call; \
         ebay refresh {:.1} us ({ebay_ratio:.3}x raw, target <= 1.05x {}), {ebay_allocs:.0} allocs/call (+{:.0} over raw); \
         force_refresh {:.1} us ({forced_ratio:.3}x raw, target <= 1.10x {}), {forced_allocs:.0} allocs/call (+{:.0} over raw); \
         medians of 101 interleaved rounds of 200 calls; server allocs/call {server:.2}",
        raw_ns / 1e3,
        ebay_ns / 1e3,
        verdict(ebay_ratio <= 1.05),
        ebay_allocs - raw_allocs,
        forced_ns / 1e3,
        verdict(forced_ratio <= 1.10),
        forced_allocs - raw_allocs,
    );
}
