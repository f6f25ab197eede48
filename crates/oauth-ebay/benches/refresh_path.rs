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
//!   `MemoryStore` (refresh task, compare-and-swap save, publication).
//!
//! and the heap allocations per call of each, counted by a counting
//! `#[global_allocator]` (in `loopback/`, with the server and the
//! contenders; the only `unsafe` code here, hence the local `allow`). The
//! server runs on a thread of its own and its allocations are counted apart
//! (none per request once a connection is open).
//!
//! When measuring (`--bench`), the run ends with one line,
//! `refresh_path: ...`, with each figure and its same-run baseline, from
//! interleaved rounds (criterion's groups run one after the other, and a
//! shared machine's load drifts between them). oauth2 5.0's figures come
//! from `bench/compare-oauth2`, which includes `loopback/` (same server, same
//! fixture) and runs oauth2 next to this crate's refresh in one process
//! (`cargo xtask bench`).
#![allow(
    unsafe_code,
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::print_stdout,
    clippy::cast_possible_truncation,
    clippy::cast_precision_loss,
    clippy::cast_sign_loss
)]

mod loopback;

use criterion::Criterion;
use loopback::Ours;
use std::time::{Duration, Instant};

fn verdict(ok: bool) -> &'static str {
    if ok { "met" } else { "MISSED" }
}

/// Rounds and calls per contender and round of the interleaved figures.
const ROUNDS: usize = 101;
const BATCH: u32 = 200;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    // Figures only when measuring (`cargo bench`), not when criterion merely
    // checks that the benchmarks run (`--test`) or lists them.
    let measuring = args.iter().any(|a| a == "--bench")
        && !args
            .iter()
            .any(|a| a == "--test" || a == "--list" || a.starts_with("--profile-time"));
    let mut criterion = Criterion::default()
        .without_plots()
        .sample_size(30)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .configure_from_args();
    let addr = loopback::start_server(&loopback::token_body());
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let ours = runtime.block_on(Ours::new(&format!("http://{addr}")));
    let call = async |k: usize| match k {
        0 => ours.raw_post().await,
        1 => ours.ebay_refresh().await,
        _ => ours.force_refresh().await,
    };

    let mut group = criterion.benchmark_group("refresh_path");
    for (k, name) in ["raw_reqwest_post", "ebay_refresh", "force_refresh"]
        .into_iter()
        .enumerate()
    {
        group.bench_function(name, |b| {
            b.iter_custom(|iters| {
                runtime.block_on(async {
                    let start = Instant::now();
                    for _ in 0..iters {
                        call(k).await;
                    }
                    start.elapsed()
                })
            });
        });
    }
    group.finish();
    criterion.final_summary();
    if !measuring {
        return;
    }

    let times = runtime.block_on(loopback::interleaved(3, ROUNDS, BATCH, call));
    let [raw_ns, ebay_ns, forced_ns] = [0, 1, 2].map(|k| loopback::median_time(&times, k));
    let ebay_ratio = loopback::median_ratio(&times, 1, 0);
    let forced_ratio = loopback::median_ratio(&times, 2, 0);
    let ebay_extra = loopback::median_difference(&times, 1, 0);
    let forced_extra = loopback::median_difference(&times, 2, 0);
    let [raw, ebay, forced] = [0, 1, 2].map(|k| {
        runtime.block_on(loopback::allocations_per_call(2_000, async || {
            call(k).await
        }))
    });
    let server = raw.1.max(ebay.1).max(forced.1);
    println!();
    println!(
        "refresh_path: raw reqwest POST {:.1} us, {:.0} allocs/call; \
         ebay refresh {:.1} us ({ebay_ratio:.3}x raw, +{ebay_extra:.0} ns, target <= 1.05x {}), {:.0} allocs/call (+{:.0} over raw); \
         force_refresh {:.1} us ({forced_ratio:.3}x raw, +{forced_extra:.0} ns, target <= 1.10x {}), {:.0} allocs/call (+{:.0} over raw); \
         medians of {ROUNDS} interleaved rounds of {BATCH} calls; server allocs/call {server:.2}",
        raw_ns / 1e3,
        raw.0,
        ebay_ns / 1e3,
        verdict(ebay_ratio <= 1.05),
        ebay.0,
        ebay.0 - raw.0,
        forced_ns / 1e3,
        verdict(forced_ratio <= 1.10),
        forced.0,
        forced.0 - raw.0,
    );
}
