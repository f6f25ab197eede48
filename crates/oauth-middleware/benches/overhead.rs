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
//!   retry: the common path);
//! - `header_only`: the same client with a trivial middleware that only
//!   inserts a prebuilt header value (a clone): the floor any middleware
//!   attaching a header pays (its boxed future, the header);
//! - with `--features tower` (or `--all-features`), the tower path over the
//!   same reqwest client, wrapped as a `Service<http::Request<Bytes>>`:
//!   `tower_service` (the wrapper alone: the request converted to reqwest's,
//!   the answer to `http`'s, one boxed future) and `tower_oauth` (the same
//!   service under `OAuthLayer`).
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

/// Inserts one prebuilt header value: the floor.
struct HeaderOnly(http::HeaderValue);

#[async_trait::async_trait]
impl reqwest_middleware::Middleware for HeaderOnly {
    async fn handle(
        &self,
        mut request: reqwest::Request,
        extensions: &mut http::Extensions,
        next: reqwest_middleware::Next<'_>,
    ) -> reqwest_middleware::Result<reqwest::Response> {
        request
            .headers_mut()
            .insert(http::header::AUTHORIZATION, self.0.clone());
        next.run(request, extensions).await
    }
}

struct Contenders {
    url: String,
    bare: reqwest::Client,
    plain: ClientWithMiddleware,
    oauth: ClientWithMiddleware,
    header_only: ClientWithMiddleware,
    #[cfg(feature = "tower")]
    tower: tower_path::Services,
}

/// The tower path: reqwest as a `Service<http::Request<Bytes>>`, alone and
/// under `OAuthLayer`.
#[cfg(feature = "tower")]
mod tower_path {
    use bytes::Bytes;
    use http_body_util::BodyExt;
    use oauth_middleware::{Authorizer, OAuthService};
    use std::future::Future;
    use std::pin::Pin;
    use std::task::{Context, Poll};
    use tower_layer::Layer;
    use tower_service::Service;

    #[derive(Clone)]
    pub struct ViaReqwest(reqwest::Client);

    type Answer = Result<http::Response<reqwest::Body>, reqwest::Error>;

    impl Service<http::Request<Bytes>> for ViaReqwest {
        type Response = http::Response<reqwest::Body>;
        type Error = reqwest::Error;
        type Future = Pin<Box<dyn Future<Output = Answer> + Send>>;

        fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), reqwest::Error>> {
            Poll::Ready(Ok(()))
        }

        fn call(&mut self, request: http::Request<Bytes>) -> Self::Future {
            let client = self.0.clone();
            Box::pin(async move {
                let request = reqwest::Request::try_from(request)?;
                Ok(http::Response::from(client.execute(request).await?))
            })
        }
    }

    pub struct Services {
        plain: ViaReqwest,
        oauth: OAuthService<ViaReqwest>,
    }

    impl Services {
        pub fn new(client: &reqwest::Client, authorizer: &Authorizer) -> Self {
            let plain = ViaReqwest(client.clone());
            Self {
                oauth: authorizer.layer().layer(plain.clone()),
                plain,
            }
        }

        pub async fn call(&self, url: &str, oauth: bool) -> usize {
            let request = http::Request::get(url).body(Bytes::new()).unwrap();
            if oauth {
                let mut service = self.oauth.clone();
                std::future::poll_fn(|cx| service.poll_ready(cx))
                    .await
                    .unwrap();
                let answer = service.call(request).await.unwrap();
                answer.into_body().collect().await.unwrap().to_bytes().len()
            } else {
                let mut service = self.plain.clone();
                let answer = service.call(request).await.unwrap();
                answer.into_body().collect().await.unwrap().to_bytes().len()
            }
        }
    }
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
        let authorizer = Authorizer::new(&client, manager);
        Self {
            url: format!("http://{addr}/sell/inventory/v1/inventory_item?limit=100"),
            plain: ClientBuilder::new(bare.clone()).build(),
            oauth: ClientBuilder::new(bare.clone())
                .with(authorizer.middleware())
                .build(),
            header_only: ClientBuilder::new(bare.clone())
                .with(HeaderOnly(
                    oauth_core::HeaderToken::authorization_bearer()
                        .value(&AccessToken::new("t".repeat(512)))
                        .unwrap(),
                ))
                .build(),
            #[cfg(feature = "tower")]
            tower: tower_path::Services::new(&bare, &authorizer),
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
            2 => {
                self.oauth
                    .get(&self.url)
                    .send()
                    .await
                    .unwrap()
                    .bytes()
                    .await
            }
            3 => {
                self.header_only
                    .get(&self.url)
                    .send()
                    .await
                    .unwrap()
                    .bytes()
                    .await
            }
            #[cfg(feature = "tower")]
            _ => {
                assert_eq!(self.tower.call(&self.url, k == 5).await, 11);
                return;
            }
            #[cfg(not(feature = "tower"))]
            _ => unreachable!(),
        };
        assert_eq!(bytes.unwrap().len(), 11);
    }
}

#[cfg(not(feature = "tower"))]
const NAMES: &[&str] = &[
    "bare_reqwest",
    "reqwest_middleware",
    "oauth_middleware",
    "header_only",
];
#[cfg(feature = "tower")]
const NAMES: &[&str] = &[
    "bare_reqwest",
    "reqwest_middleware",
    "oauth_middleware",
    "header_only",
    "tower_service",
    "tower_oauth",
];
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
    let mut times = vec![Vec::new(); NAMES.len()];
    runtime.block_on(async {
        for k in 0..NAMES.len() {
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
    let mut allocations = vec![0f64; NAMES.len()];
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
    println!(
        "overhead (floor): a middleware inserting a prebuilt header {:.1} µs ({:+.1} µs over reqwest-middleware), {:.1} allocs ({:+.1}); OAuthMiddleware over it: {:+.1} µs, {:+.1} allocs",
        ns[3] / 1e3,
        (ns[3] - ns[1]) / 1e3,
        allocations[3],
        allocations[3] - allocations[1],
        (ns[2] - ns[3]) / 1e3,
        allocations[2] - allocations[3],
    );
    #[cfg(feature = "tower")]
    println!(
        "overhead (tower): reqwest as a tower service {:.1} µs, {:.1} allocs; under OAuthLayer {:.1} µs ({:+.1} µs), {:.1} allocs ({:+.1})",
        ns[4] / 1e3,
        allocations[4],
        ns[5] / 1e3,
        (ns[5] - ns[4]) / 1e3,
        allocations[5],
        allocations[5] - allocations[4],
    );
}
