//! oauth2 5.0's refresh-token exchange against oauth-ebay's refresh: the
//! same loopback token endpoint, the same answer, the same client
//! credentials and refresh token, in one process, timed in interleaved
//! rounds, heap allocations counted by the same counting allocator
//! (`crates/oauth-ebay/benches/loopback/`, included below).
//!
//! Each side also runs a raw POST with its own reqwest (0.13 for ours, 0.12
//! for oauth2), configured alike (10 s connect timeout, 30 s timeout, no
//! redirects): each figure comes with its same-run baseline.
//!
//! `cargo run --release` here (or `cargo xtask bench`) prints one line,
//! `compare_oauth2: ...`.
#![allow(unsafe_code, clippy::unwrap_used)]

#[path = "../../../crates/oauth-ebay/benches/loopback/mod.rs"]
mod loopback;

use loopback::{CLIENT_ID, CLIENT_SECRET, Ours, SCOPE, TOKEN_PATH};
use oauth2::basic::BasicClient;
use oauth2::reqwest;
use oauth2::{EndpointNotSet, EndpointSet, RefreshToken, Scope, TokenResponse, TokenUrl};
use std::hint::black_box;
use std::time::Duration;

const ROUNDS: usize = 101;
const BATCH: u32 = 200;

/// oauth2 5.0 with its reqwest (0.12, rustls with ring), as its
/// documentation sets it up (no redirects), with our timeouts.
struct Theirs {
    http: reqwest::Client,
    client:
        BasicClient<EndpointNotSet, EndpointNotSet, EndpointNotSet, EndpointNotSet, EndpointSet>,
    refresh_token: RefreshToken,
    url: String,
    basic: String,
    form: String,
    expected: String,
}

impl Theirs {
    fn new(base: &str) -> Self {
        let url = format!("{base}{TOKEN_PATH}");
        let http = reqwest::ClientBuilder::new()
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(30))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let client = BasicClient::new(oauth2::ClientId::new(CLIENT_ID.to_owned()))
            .set_client_secret(oauth2::ClientSecret::new(CLIENT_SECRET.to_owned()))
            .set_token_uri(TokenUrl::new(url.clone()).unwrap());
        Self {
            http,
            client,
            refresh_token: RefreshToken::new(loopback::refresh_token_text()),
            url,
            basic: loopback::basic_header(),
            form: loopback::form_body(),
            expected: loopback::access_token_text(),
        }
    }

    /// The same POST as `Ours::raw_post`, with reqwest 0.12.
    async fn raw_post(&self) {
        let response = self
            .http
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

    /// `exchange_refresh_token` for the same scope, decoded into oauth2's
    /// `BasicTokenResponse`.
    async fn refresh(&self) {
        let token = self
            .client
            .exchange_refresh_token(&self.refresh_token)
            .add_scope(Scope::new(SCOPE.to_owned()))
            .request_async(&self.http)
            .await
            .unwrap();
        debug_assert_eq!(token.access_token().secret(), &self.expected);
        black_box(token.expires_in());
        black_box(token);
    }
}

fn main() {
    let addr = loopback::start_server(&loopback::token_body());
    let base = format!("http://{addr}");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let ours = runtime.block_on(Ours::new(&base));
    let theirs = Theirs::new(&base);
    let call = async |k: usize| match k {
        0 => ours.raw_post().await,
        1 => ours.ebay_refresh().await,
        2 => theirs.raw_post().await,
        _ => theirs.refresh().await,
    };
    // Warm-up: connections open, code and caches warm.
    runtime.block_on(loopback::interleaved(4, 5, BATCH, call));
    let times = runtime.block_on(loopback::interleaved(4, ROUNDS, BATCH, call));
    let [raw13, ours_ns, raw12, theirs_ns] = [0, 1, 2, 3].map(|k| loopback::median_time(&times, k));
    let ours_ratio = loopback::median_ratio(&times, 1, 0);
    let theirs_ratio = loopback::median_ratio(&times, 3, 2);
    let ours_vs_theirs = loopback::median_ratio(&times, 1, 3);
    let ours_extra = loopback::median_difference(&times, 1, 0);
    let theirs_extra = loopback::median_difference(&times, 3, 2);
    let [a13, a_ours, a12, a_theirs] = [0, 1, 2, 3].map(|k| {
        runtime
            .block_on(loopback::allocations_per_call(2_000, async || {
                call(k).await
            }))
            .0
    });
    println!(
        "compare_oauth2: oauth2 5.0 refresh {:.1} us ({theirs_ratio:.3}x its raw reqwest 0.12 POST {:.1} us, +{theirs_extra:.0} ns), {a_theirs:.0} allocs/call (raw 0.12: {a12:.0}); \
         oauth-ebay refresh {:.1} us ({ours_ratio:.3}x its raw reqwest 0.13 POST {:.1} us, +{ours_extra:.0} ns), {a_ours:.0} allocs/call (raw 0.13: {a13:.0}); \
         ours/oauth2 time {ours_vs_theirs:.3}x, allocs {a_ours:.0} vs {a_theirs:.0}; medians of {ROUNDS} interleaved rounds of {BATCH} calls",
        theirs_ns / 1e3,
        raw12 / 1e3,
        ours_ns / 1e3,
        raw13 / 1e3,
    );
}
