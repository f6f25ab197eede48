//! The cost of `EncryptedStore` (`cargo bench -p oauth-core --bench
//! encrypted_store`): save and load through the layer over a `MemoryStore`
//! against the bare `MemoryStore`, for a typical token set and an
//! eBay-sized one; a `FileStore` save with and without the layer; and
//! `TokenManager::access_token()` on a fresh token over both stores, to show
//! that the hot path never touches the store.
//!
//! At the end of a measuring run, one `encrypted_store: ...` line gives the
//! figures and the baselines measured in the same run (see
//! `docs/performance.md`).
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::print_stdout
)]

use criterion::Criterion;
use oauth_core::lifecycle::{EncryptedStore, KeyId, Keyring, SaveOutcome, StoreKey};
use oauth_core::{
    AccessToken, AccountKey, Error, FileStore, MemoryStore, RefreshGrant, RefreshToken, Scopes,
    TokenManager, TokenSet, TokenStore, async_trait, from_unix_millis,
};
use std::cell::RefCell;
use std::future::Future;
use std::hint::black_box;
use std::pin::pin;
use std::rc::Rc;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant, SystemTime};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let measuring = args.iter().any(|a| a == "--bench")
        && !args
            .iter()
            .any(|a| a == "--test" || a == "--list" || a.starts_with("--profile-time"));
    let mut criterion = Criterion::default()
        .without_plots()
        .sample_size(30)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .configure_from_args();
    let mut figures = Vec::new();
    store_overhead(&mut criterion, &mut figures);
    criterion.final_summary();
    if measuring {
        println!();
        println!("encrypted_store figures (name: value):");
        for line in &figures {
            println!("{line}");
        }
    }
}

/// Per-iteration times (ns) recorded by `iter_custom` routines; the
/// measured samples are the last `sample_size` entries.
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
        let mut last: Vec<f64> = all.iter().rev().take(n).copied().collect();
        last.sort_by(f64::total_cmp);
        let mid = last.len() / 2;
        Some(if last.len().is_multiple_of(2) {
            (last[mid - 1] + last[mid]) / 2.0
        } else {
            last[mid]
        })
    }
}

/// Polls a future that must be ready at once (the memory stores never
/// wait).
fn ready<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    match future
        .as_mut()
        .poll(&mut Context::from_waker(Waker::noop()))
    {
        Poll::Ready(output) => output,
        Poll::Pending => panic!("a memory store operation was not ready at once"),
    }
}

fn text(prefix: &str, len: usize) -> String {
    let mut s = format!("{prefix}-");
    while s.len() < len {
        s.push('x');
    }
    s
}

/// 64-character tokens, two scopes: most providers.
fn typical_set() -> TokenSet {
    TokenSet::new(
        AccessToken::new(text("AT", 64)),
        from_unix_millis(1_800_000_000_000),
    )
    .with_refresh_token(RefreshToken::new(text("RT", 64)), None)
    .with_scopes(Scopes::from(["api_scope", "sell.inventory"]))
    .with_issued_at(from_unix_millis(1_799_999_000_000))
}

/// An eBay user token (about 2 KB) and its refresh token.
fn ebay_set() -> TokenSet {
    TokenSet::new(
        AccessToken::new(text("v^1.1#i^1#AT", 2048)),
        from_unix_millis(1_800_000_000_000),
    )
    .with_refresh_token(RefreshToken::new(text("v^1.1#i^1#RT", 100)), None)
    .with_scopes(Scopes::from([
        "https://api.ebay.com/oauth/api_scope",
        "https://api.ebay.com/oauth/api_scope/sell.inventory",
    ]))
}

fn keyring() -> Keyring {
    Keyring::new(StoreKey::generate(KeyId::new("bench").unwrap()).unwrap())
}

/// Median ns per save (compare-and-swap on the current version) and per
/// load of `set` in `store`.
fn bench_store(
    c: &mut Criterion,
    group_name: &str,
    name: &str,
    store: &dyn TokenStore,
    set: &TokenSet,
) -> (Option<f64>, Option<f64>) {
    const SAMPLES: usize = 30;
    let key = AccountKey::new("ebay", "seller-1");
    let mut version = match ready(store.save(&key, set, None)).unwrap() {
        SaveOutcome::Saved { version } => version,
        other => panic!("{other:?}"),
    };
    let (saves, loads) = (Samples::default(), Samples::default());
    let mut group = c.benchmark_group(group_name);
    group.sample_size(SAMPLES);
    let samples = saves.clone();
    group.bench_function(format!("{name}_save"), |b| {
        b.iter_custom(|iters| {
            let start = Instant::now();
            for _ in 0..iters {
                match ready(store.save(&key, black_box(set), Some(version))).unwrap() {
                    SaveOutcome::Saved { version: v } => version = v,
                    other => panic!("{other:?}"),
                }
            }
            let took = start.elapsed();
            samples.record(took, iters);
            took
        });
    });
    let samples = loads.clone();
    group.bench_function(format!("{name}_load"), |b| {
        b.iter_custom(|iters| {
            let start = Instant::now();
            for _ in 0..iters {
                black_box(ready(store.load(black_box(&key))).unwrap());
            }
            let took = start.elapsed();
            samples.record(took, iters);
            took
        });
    });
    group.finish();
    (saves.median_of_last(SAMPLES), loads.median_of_last(SAMPLES))
}

/// Median ns per `FileStore` save (fsync, rename, directory fsync) of `set`.
fn bench_file_save(
    c: &mut Criterion,
    runtime: &tokio::runtime::Runtime,
    name: &str,
    store: &dyn TokenStore,
    set: &TokenSet,
) -> Option<f64> {
    const SAMPLES: usize = 10;
    let key = AccountKey::new("ebay", "seller-1");
    let mut version = None;
    let samples = Samples::default();
    let mut group = c.benchmark_group("encrypted_store_file");
    group
        .sample_size(SAMPLES)
        .measurement_time(Duration::from_secs(3));
    let recorded = samples.clone();
    group.bench_function(name, |b| {
        b.iter_custom(|iters| {
            let start = Instant::now();
            for _ in 0..iters {
                match runtime.block_on(store.save(&key, set, version)).unwrap() {
                    SaveOutcome::Saved { version: v } => version = Some(v),
                    other => panic!("{other:?}"),
                }
            }
            let took = start.elapsed();
            recorded.record(took, iters);
            took
        });
    });
    group.finish();
    samples.median_of_last(SAMPLES)
}

/// A grant that is never called: the manager's token stays fresh.
#[derive(Debug)]
struct NeverCalled;

#[async_trait]
impl RefreshGrant for NeverCalled {
    fn provider(&self) -> &'static str {
        "ebay"
    }
    async fn refresh(&self, _current: &TokenSet) -> Result<TokenSet, Error> {
        panic!("the benchmark's token is fresh: no refresh expected")
    }
    fn rotates_refresh_token(&self) -> bool {
        false
    }
}

/// Median ns per `access_token()` on a fresh token held by a manager over
/// `store`.
fn bench_access_token(
    c: &mut Criterion,
    runtime: &tokio::runtime::Runtime,
    name: &str,
    store: Arc<dyn TokenStore>,
) -> Option<f64> {
    const SAMPLES: usize = 30;
    let manager = TokenManager::builder(Arc::new(NeverCalled), store, "seller-1").build();
    let fresh = TokenSet::new(
        AccessToken::new(text("AT", 64)),
        SystemTime::now() + Duration::from_secs(365 * 24 * 3600),
    );
    runtime.block_on(manager.install(fresh)).unwrap();
    let samples = Samples::default();
    let mut group = c.benchmark_group("encrypted_store_access_token");
    group.sample_size(SAMPLES);
    let recorded = samples.clone();
    group.bench_function(name, |b| {
        b.iter_custom(|iters| {
            let start = Instant::now();
            for _ in 0..iters {
                black_box(ready(black_box(&manager).access_token()).unwrap());
            }
            let took = start.elapsed();
            recorded.record(took, iters);
            took
        });
    });
    group.finish();
    samples.median_of_last(SAMPLES)
}

fn store_overhead(c: &mut Criterion, figures: &mut Vec<String>) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut parts = Vec::new();
    for (label, set) in [("typical", typical_set()), ("ebay_2kb", ebay_set())] {
        let bare = MemoryStore::new();
        let encrypted = EncryptedStore::new(MemoryStore::new(), keyring());
        let (bare_save, bare_load) = bench_store(
            c,
            "encrypted_store",
            &format!("memory_{label}"),
            &bare,
            &set,
        );
        let (enc_save, enc_load) = bench_store(
            c,
            "encrypted_store",
            &format!("encrypted_{label}"),
            &encrypted,
            &set,
        );
        if let (Some(bs), Some(bl), Some(es), Some(el)) = (bare_save, bare_load, enc_save, enc_load)
        {
            parts.push(format!(
                "{label} set: save {:.2} us vs {:.2} us bare MemoryStore (+{:.2} us), load {:.2} us vs {:.2} us (+{:.2} us)",
                es / 1e3,
                bs / 1e3,
                (es - bs) / 1e3,
                el / 1e3,
                bl / 1e3,
                (el - bl) / 1e3
            ));
        }
    }

    let dir = tempfile::tempdir().unwrap();
    let file_bare = FileStore::new(dir.path().join("bare.json"));
    let file_encrypted =
        EncryptedStore::new(FileStore::new(dir.path().join("enc.json")), keyring());
    let set = typical_set();
    if let (Some(bare), Some(enc)) = (
        bench_file_save(c, &runtime, "file_save_bare", &file_bare, &set),
        bench_file_save(c, &runtime, "file_save_encrypted", &file_encrypted, &set),
    ) {
        parts.push(format!(
            "FileStore save {:.0} us encrypted vs {:.0} us bare",
            enc / 1e3,
            bare / 1e3
        ));
    }

    let over_bare = bench_access_token(c, &runtime, "over_memory", Arc::new(MemoryStore::new()));
    let over_encrypted = bench_access_token(
        c,
        &runtime,
        "over_encrypted",
        Arc::new(EncryptedStore::new(MemoryStore::new(), keyring())),
    );
    if let (Some(bare), Some(enc)) = (over_bare, over_encrypted) {
        parts.push(format!(
            "access_token() on a fresh token {enc:.1} ns over EncryptedStore vs {bare:.1} ns over MemoryStore (the hot path never reads the store)"
        ));
    }
    if !parts.is_empty() {
        figures.push(format!("encrypted_store: {}", parts.join("; ")));
    }
}
