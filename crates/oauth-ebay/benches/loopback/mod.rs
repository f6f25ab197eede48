//! What the refresh-path comparisons share: a counting global allocator,
//! the loopback token endpoint, the fixture (an eBay refresh: its answer,
//! form body and credentials), our contenders (a raw reqwest POST, the eBay
//! client's refresh, `TokenManager::force_refresh`) and interleaved timing.
//!
//! Used by `benches/refresh_path.rs` and, through `#[path]`, by the
//! out-of-workspace `bench/compare-oauth2` (oauth2 5.0 against the same
//! server in the same process), so that both measure the same thing.

use oauth_core::{
    AccessToken, ClientSecret, HttpClient, MemoryStore, RefreshGrant, RefreshToken, RetryPolicy,
    Scopes, TokenManager, TokenSet,
};
use oauth_ebay::{Client, Ebay, Environment};
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::hint::black_box;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

// ---------------------------------------------------------------------------
// Allocation counting

/// Counts heap allocations (`alloc`, `alloc_zeroed`, `realloc`) per side:
/// the loopback server's thread apart from everything else.
pub struct CountingAllocator;

static CLIENT_ALLOCATIONS: AtomicU64 = AtomicU64::new(0);
static SERVER_ALLOCATIONS: AtomicU64 = AtomicU64::new(0);

thread_local! {
    /// Set on the server's thread. `const`, no destructor: reading it never
    /// allocates, so the allocator may use it.
    static IN_SERVER: Cell<bool> = const { Cell::new(false) };
}

fn count() {
    if IN_SERVER.try_with(Cell::get).unwrap_or(false) {
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

/// Allocations so far: (client side, server side).
fn allocations_so_far() -> (u64, u64) {
    (
        CLIENT_ALLOCATIONS.load(Ordering::SeqCst),
        SERVER_ALLOCATIONS.load(Ordering::SeqCst),
    )
}

/// Allocations per call of `f`, client side and server side, over `calls`
/// calls made after 100 warm-up calls (the connection is open and pooled).
pub async fn allocations_per_call(calls: u64, f: impl AsyncFn()) -> (f64, f64) {
    for _ in 0..100 {
        f().await;
    }
    let (client, server) = allocations_so_far();
    for _ in 0..calls {
        f().await;
    }
    let (client_after, server_after) = allocations_so_far();
    (
        (client_after - client) as f64 / calls as f64,
        (server_after - server) as f64 / calls as f64,
    )
}

// ---------------------------------------------------------------------------
// The fixture: an eBay refresh

pub const SCOPE: &str = "https://api.ebay.com/oauth/api_scope/sell.inventory";
pub const CLIENT_ID: &str = "ExampleI-Example-PRD-1a2b3c4d5-6e7f8a9b";
pub const CLIENT_SECRET: &str = "PRD-1a2b3c4d5e6f-7a8b-9c0d-1e2f-3a4b";
pub const TOKEN_PATH: &str = "/identity/v1/oauth2/token";

/// A token of `len` characters from eBay's alphabet.
fn token_text(prefix: &str, len: usize) -> String {
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut s = prefix.to_owned();
    let mut i = 0;
    while s.len() < len {
        s.push(char::from(alphabet[i % alphabet.len()]));
        i += 7;
    }
    s
}

/// The access token the endpoint answers with (eBay's are long).
pub fn access_token_text() -> String {
    token_text("v^1.1#i^1#p^3#r^1#I^3#f^0#t^AT", 512)
}

/// The refresh token every contender sends.
pub fn refresh_token_text() -> String {
    token_text("v^1.1#i^1#p^3#r^1#I^3#f^0#t^RT", 160)
}

/// eBay's refresh answer: an access token only (eBay does not rotate the
/// refresh token).
pub fn token_body() -> String {
    format!(
        r#"{{"access_token":"{}","expires_in":7200,"token_type":"User Access Token"}}"#,
        access_token_text()
    )
}

/// The form body of the refresh (what oauth-ebay sends).
pub fn form_body() -> String {
    let encode = |text: &str| -> String {
        oauth_core::url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
    };
    format!(
        "grant_type=refresh_token&refresh_token={}&scope={}",
        encode(&refresh_token_text()),
        encode(SCOPE)
    )
}

/// `Authorization: Basic` for the client credentials.
pub fn basic_header() -> String {
    use base64::Engine;
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{CLIENT_ID}:{CLIENT_SECRET}"))
    )
}

// ---------------------------------------------------------------------------
// The loopback token endpoint

/// Starts the server on a thread and runtime of its own, answering every
/// request with `body` as `application/json`; returns its address.
pub fn start_server(body: &str) -> SocketAddr {
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
// Our contenders

/// A raw reqwest POST, oauth-ebay's refresh and `force_refresh`, against
/// the endpoint at `base`.
pub struct Ours {
    raw: reqwest::Client,
    url: String,
    basic: String,
    form: String,
    client: Client,
    current: TokenSet,
    manager: TokenManager,
    expected: String,
}

impl Ours {
    /// Call from within a tokio runtime (the manager's first install).
    pub async fn new(base: &str) -> Self {
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
        let settings = Ebay::new(CLIENT_ID, ClientSecret::new(CLIENT_SECRET))
            .ru_name("Example_Inc-Example-PRD-abcd")
            .scopes(Scopes::from([SCOPE]));
        let client = Client::builder(settings)
            .environment(Environment::custom(base).unwrap())
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
        manager.install(current.clone()).await.unwrap();
        Self {
            raw,
            url: format!("{base}{TOKEN_PATH}"),
            basic: basic_header(),
            form: form_body(),
            client,
            current,
            manager,
            expected: access_token_text(),
        }
    }

    /// A reqwest POST of the same form body with the same headers, the
    /// body read as bytes.
    pub async fn raw_post(&self) {
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

    /// oauth-ebay's `RefreshGrant::refresh`: request built, sent through
    /// `HttpClient`, answer decoded into a `TokenSet`.
    pub async fn ebay_refresh(&self) {
        let set = RefreshGrant::refresh(&self.client, &self.current)
            .await
            .unwrap();
        debug_assert_eq!(set.access_token.expose_secret(), self.expected);
        black_box(set);
    }

    /// `TokenManager::force_refresh` over the eBay client and a
    /// `MemoryStore`.
    #[allow(dead_code)]
    pub async fn force_refresh(&self) {
        let handle = self.manager.force_refresh().await.unwrap();
        debug_assert_eq!(handle.expose_secret(), self.expected);
        black_box(handle);
    }
}

// ---------------------------------------------------------------------------
// Timing

pub fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    if values.len().is_multiple_of(2) {
        (values[mid - 1] + values[mid]) / 2.0
    } else {
        values[mid]
    }
}

/// Interleaved rounds: in each of `rounds` rounds, every contender
/// (`run(k)` for `k` in `0..contenders`) makes `batch` calls in turn, the
/// order rotating, so that all see the same load on a shared machine.
/// Returns each round's time per call (ns), per contender.
pub async fn interleaved(
    contenders: usize,
    rounds: usize,
    batch: u32,
    run: impl AsyncFn(usize),
) -> Vec<Vec<f64>> {
    let mut times = vec![Vec::with_capacity(rounds); contenders];
    for round in 0..rounds {
        for k in 0..contenders {
            let which = (round + k) % contenders;
            let start = Instant::now();
            for _ in 0..batch {
                run(which).await;
            }
            times[which].push(start.elapsed().as_nanos() as f64 / f64::from(batch));
        }
    }
    times
}

/// The median time per call of contender `k` (ns).
pub fn median_time(times: &[Vec<f64>], k: usize) -> f64 {
    median(&mut times[k].clone())
}

/// The median over rounds of contender `a`'s time over contender `b`'s.
pub fn median_ratio(times: &[Vec<f64>], a: usize, b: usize) -> f64 {
    let mut ratios: Vec<f64> = times[a].iter().zip(&times[b]).map(|(x, y)| x / y).collect();
    median(&mut ratios)
}

/// The median over rounds of contender `a`'s time per call minus contender
/// `b`'s (ns): the overhead in absolute terms, steadier than a ratio when
/// the machine's round-trip time drifts.
pub fn median_difference(times: &[Vec<f64>], a: usize, b: usize) -> f64 {
    let mut differences: Vec<f64> = times[a].iter().zip(&times[b]).map(|(x, y)| x - y).collect();
    median(&mut differences)
}
