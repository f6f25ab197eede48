//! What the tests share: a loopback API (HTTP/1.1, keep-alive) that accepts
//! a set of tokens, an in-process twin of it for the tower tests, and a
//! refresh grant that counts its refreshes.
#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::cast_possible_truncation
)]

use oauth_core::provider::rfc6749::Rfc6749;
use oauth_core::{
    AccessToken, Client, Error, MemoryStore, RefreshGrant, RefreshToken, TokenManager, TokenPool,
    TokenSet, TokenStore, async_trait,
};
use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// A body larger than the middleware's cap (1 MiB).
pub const BIG: usize = 2 * 1024 * 1024 + 17;

/// The API's state: the tokens it accepts and what it saw.
#[derive(Default)]
pub struct Api {
    accepted: Mutex<HashSet<String>>,
    /// The `Authorization` header of every request to `/api`, in order.
    pub seen: Mutex<Vec<String>>,
    /// Requests to any path.
    pub requests: AtomicUsize,
    /// When set, answers to `SENTINEL-AT-0` wait on it (so that concurrent
    /// calls are all rejected with the same token).
    pub hold: Mutex<Option<Arc<tokio::sync::Barrier>>>,
}

impl Api {
    pub fn new(accepted: &[&str]) -> Arc<Self> {
        let api = Self::default();
        api.accepted
            .lock()
            .unwrap()
            .extend(accepted.iter().map(|s| s.to_string()));
        Arc::new(api)
    }

    pub fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }

    /// The answer to `path` with `authorization`: (status, body).
    /// `/api`: 200 `ok <body>` for an accepted bearer token, otherwise 401
    /// with a JSON error that echoes the token (the middleware must scrub
    /// it); `/big`: a 401 of [`BIG`] bytes.
    pub fn answer(&self, path: &str, authorization: &str, body: &[u8]) -> (u16, Vec<u8>) {
        self.requests.fetch_add(1, Ordering::SeqCst);
        if path.starts_with("/big") {
            return (401, big_body());
        }
        self.seen.lock().unwrap().push(authorization.to_owned());
        let token = authorization.strip_prefix("Bearer ").unwrap_or("");
        if self.accepted.lock().unwrap().contains(token) {
            let mut answer = b"ok ".to_vec();
            answer.extend_from_slice(body);
            (200, answer)
        } else {
            let error = format!(
                r#"{{"error":"invalid_token","error_description":"token {token} expired"}}"#
            );
            (401, error.into_bytes())
        }
    }
}

pub fn big_body() -> Vec<u8> {
    (0..BIG).map(|i| (i % 251) as u8).collect()
}

/// Serves `api` on a loopback port; returns its base URL.
pub async fn serve(api: Arc<Api>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((mut socket, _)) = listener.accept().await else {
                return;
            };
            let api = Arc::clone(&api);
            tokio::spawn(async move {
                let mut buffer = Vec::new();
                let mut chunk = [0u8; 8192];
                loop {
                    // One request: the head, then Content-Length bytes.
                    let head_end = loop {
                        if let Some(i) = find(&buffer, b"\r\n\r\n") {
                            break i + 4;
                        }
                        match socket.read(&mut chunk).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => buffer.extend_from_slice(&chunk[..n]),
                        }
                    };
                    let head = String::from_utf8_lossy(&buffer[..head_end]).into_owned();
                    let mut lines = head.split("\r\n");
                    let path = lines
                        .next()
                        .and_then(|l| l.split(' ').nth(1))
                        .unwrap_or("/")
                        .to_owned();
                    let mut length = 0usize;
                    let mut authorization = String::new();
                    for line in lines {
                        if let Some((name, value)) = line.split_once(':') {
                            let value = value.trim();
                            match name.to_ascii_lowercase().as_str() {
                                "content-length" => length = value.parse().unwrap_or(0),
                                "authorization" => authorization = value.to_owned(),
                                _ => {}
                            }
                        }
                    }
                    while buffer.len() < head_end + length {
                        match socket.read(&mut chunk).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => buffer.extend_from_slice(&chunk[..n]),
                        }
                    }
                    let body = buffer[head_end..head_end + length].to_vec();
                    buffer.drain(..head_end + length);
                    let hold = api.hold.lock().unwrap().clone();
                    if let Some(barrier) = hold
                        && authorization == "Bearer SENTINEL-AT-0"
                    {
                        barrier.wait().await;
                    }
                    let (status, answer) = api.answer(&path, &authorization, &body);
                    let reason = if status == 200 { "OK" } else { "Unauthorized" };
                    let mut out = format!(
                        "HTTP/1.1 {status} {reason}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
                        answer.len()
                    )
                    .into_bytes();
                    out.extend_from_slice(&answer);
                    if socket.write_all(&out).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    format!("http://{addr}")
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// A refresh grant issuing `SENTINEL-AT-1`, `SENTINEL-AT-2`, ... (after a
/// short pause, so that concurrent callers pile up on the flight).
#[derive(Debug, Default)]
pub struct Grant {
    pub refreshes: AtomicUsize,
}

#[async_trait]
impl RefreshGrant for Grant {
    fn provider(&self) -> &'static str {
        "shopx"
    }
    async fn refresh(&self, current: &TokenSet) -> Result<TokenSet, Error> {
        let n = self.refreshes.fetch_add(1, Ordering::SeqCst) + 1;
        tokio::time::sleep(Duration::from_millis(20)).await;
        Ok(TokenSet::new(
            AccessToken::new(format!("SENTINEL-AT-{n}")),
            SystemTime::now() + Duration::from_secs(3600),
        )
        .merge_previous(current))
    }
    fn rotates_refresh_token(&self) -> bool {
        false
    }
}

impl Grant {
    pub fn refreshes(&self) -> usize {
        self.refreshes.load(Ordering::SeqCst)
    }
}

/// A token set with `access` valid for an hour.
pub fn tokens(access: &str) -> TokenSet {
    TokenSet::new(
        AccessToken::new(access),
        SystemTime::now() + Duration::from_secs(3600),
    )
    .with_refresh_token(RefreshToken::new("SENTINEL-RT"), None)
}

/// The client whose attachment (`Authorization: Bearer`) and classifier
/// (401 = rejected token) the middleware uses.
pub fn client() -> Client<Rfc6749> {
    let spec = Rfc6749::new("shopx", "shopx-client", None)
        .production("https://auth.shopx.example")
        .unwrap();
    Client::builder(spec).build().unwrap()
}

/// One account (`seller-42`) holding `SENTINEL-AT-0`.
pub async fn manager(grant: &Arc<Grant>) -> TokenManager {
    let store: Arc<dyn TokenStore> = Arc::new(MemoryStore::new());
    let manager = TokenManager::builder(grant.clone(), store, "seller-42").build();
    manager.install(tokens("SENTINEL-AT-0")).await.unwrap();
    manager
}

/// Two accounts: `seller-1` (`SENTINEL-S1`) and `seller-2` (`SENTINEL-S2`).
pub async fn pool(grant: &Arc<Grant>) -> TokenPool {
    let store: Arc<dyn TokenStore> = Arc::new(MemoryStore::new());
    let pool = TokenPool::builder(grant.clone(), store).build();
    pool.install("seller-1", tokens("SENTINEL-S1"))
        .await
        .unwrap();
    pool.install("seller-2", tokens("SENTINEL-S2"))
        .await
        .unwrap();
    pool
}

/// A plain reqwest client (ring as the process's TLS crypto: oauth-core's
/// reqwest has none of its own).
pub fn http() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::new()
}

/// Collects what a `tracing` subscriber writes.
#[derive(Clone, Default)]
pub struct Captured(pub Arc<Mutex<Vec<u8>>>);

impl Captured {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Captured {
    type Writer = Captured;
    fn make_writer(&'a self) -> Captured {
        self.clone()
    }
}
