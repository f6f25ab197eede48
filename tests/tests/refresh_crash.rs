//! A process killed during a rotating refresh: what is and is not lost.
//!
//! A child process (this test binary, see [`refresh_crash_child`]) refreshes
//! one AliExpress account in a loop against the sandbox, whose refresh tokens
//! are single-use, with a `TokenManager` over a `FileStore`. The parent kills
//! it with SIGKILL at a random moment, then checks the account with a
//! manager of its own over the same file:
//! - **survived**: the stored refresh token still works (the kill came before
//!   the provider rotated it, or after the new set reached the disk);
//! - **lost, reported**: the kill came inside the window no client can close
//!   alone (the provider rotated the token, the new set never reached the
//!   disk); the durable "refresh started" record makes the refusal an
//!   `Error::RefreshInterrupted`, not an ordinary revocation;
//! - **lost, unreported**: a plain "authorize again" — must never happen.
//!
//! A killed child also leaves the account's refresh lease behind (the token
//! file leases across processes): the next process, here the parent,
//! waits for it to lapse (4 s at most) before it refreshes.
//!
//! The child also reports, for each refresh it completed, how long the new
//! set took to reach the disk after the provider's answer arrived (the
//! `persist_us` field of the manager's "new tokens saved" debug event): the
//! size of the window. The figures are printed.
#![cfg(unix)]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::print_stdout,
    clippy::print_stderr
)]

mod support;

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use oauth_all::aliexpress;
use oauth_all::core::{
    AppSecret, Error, FileStore, HttpClient, RetryPolicy, TokenManager, TokenStore,
};
use support::{ACCESS_LIFETIME, Harness, Sweep};

const CHILD_ENV: &str = "OAUTH_REFRESH_CRASH_CHILD";
const CHILD_TEST: &str = "refresh_crash_child";
const ACCOUNT: &str = "seller-1";
const KILLS: usize = 40;
/// Each token request's time limit.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(2);
/// The refresh lease: the next process after a kill may wait this long.
const LEASE: Duration = Duration::from_secs(4);
/// A child left alone stops by itself after this long.
const CHILD_LIFETIME: Duration = Duration::from_secs(20);

/// What the child needs, passed in its environment.
struct ChildConfig {
    base_url: String,
    redirect_uri: String,
    app_key: String,
    app_secret: String,
    store: PathBuf,
}

impl ChildConfig {
    fn to_env(&self) -> String {
        [
            self.base_url.as_str(),
            &self.redirect_uri,
            &self.app_key,
            &self.app_secret,
            &self.store.to_string_lossy(),
        ]
        .join("\n")
    }

    fn from_env(text: &str) -> Self {
        let mut parts = text.split('\n');
        let mut next = || parts.next().unwrap().to_owned();
        Self {
            base_url: next(),
            redirect_uri: next(),
            app_key: next(),
            app_secret: next(),
            store: PathBuf::from(next()),
        }
    }
}

fn client(config: &ChildConfig) -> aliexpress::Client {
    let http = HttpClient::builder()
        .connect_timeout(REQUEST_TIMEOUT)
        .timeout(REQUEST_TIMEOUT)
        .retry_policy(RetryPolicy::none())
        .build()
        .unwrap();
    aliexpress::Client::builder(
        aliexpress::AliExpress::new(
            config.app_key.as_str(),
            AppSecret::new(config.app_secret.clone()),
        )
        .redirect_uri(config.redirect_uri.clone()),
    )
    .environment(aliexpress::Environment::custom(&config.base_url).unwrap())
    .http_client(http)
    .build()
    .unwrap()
}

fn manager(config: &ChildConfig) -> TokenManager {
    let store: Arc<dyn TokenStore> = Arc::new(FileStore::new(&config.store));
    // A killed child leaves its refresh lease behind: the next process
    // waits for it to lapse, so keep it short (the request's limit plus the
    // least margin).
    TokenManager::builder(Arc::new(client(config)), store, ACCOUNT)
        .lease_duration(LEASE)
        .unwrap()
        .build()
}

/// The child: refreshes in a loop, printing `refreshed` after each, and the
/// manager's debug events (with `persist_us`) on stdout.
#[test]
fn refresh_crash_child() {
    let Ok(config) = std::env::var(CHILD_ENV) else {
        return;
    };
    let config = ChildConfig::from_env(&config);
    let subscriber = tracing_subscriber::fmt()
        .with_writer(std::io::stdout)
        .with_max_level(tracing::Level::DEBUG)
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let manager = manager(&config);
        let started = Instant::now();
        while started.elapsed() < CHILD_LIFETIME {
            match manager.force_refresh().await {
                Ok(_) => println!("refreshed"),
                Err(error) => {
                    println!("failed: {error}");
                    return;
                }
            }
        }
    });
}

/// How one kill ended.
#[derive(Debug, Default)]
struct Outcomes {
    survived: usize,
    lost_reported: usize,
    lost_unreported: usize,
    child_refreshes: usize,
    persist_us: Vec<u64>,
}

fn seed() -> u64 {
    std::env::var("OAUTH_REFRESH_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap();
            (now.as_secs() << 20) ^ u64::from(now.subsec_nanos()) | 1
        })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kill_during_a_rotating_refresh_is_reported_never_silently_lost() {
    // The child signs with the real clock: keep the sandbox's tolerance off.
    let h = Harness::start_with(|b| b.timestamp_tolerance(None)).await;
    let mut sweep = Sweep::new();
    let creds = h.sandbox.credentials().aliexpress.clone();
    let config = ChildConfig {
        base_url: h.sandbox.aliexpress_base_url(),
        redirect_uri: creds.redirect_uri.clone(),
        app_key: creds.app_key.clone(),
        app_secret: creds.app_secret.clone(),
        store: h.store_path(),
    };
    let consent_client = support::aliexpress_client(&h, &mut sweep);
    let tokens =
        support::aliexpress_consent(&h, &mut sweep, &consent_client, ACCESS_LIFETIME).await;
    manager(&config).install(tokens).await.unwrap();

    let seed = seed();
    println!("refresh crash loop: seed {seed} (set OAUTH_REFRESH_CRASH_SEED to replay)");
    let mut rng = seed;
    let mut next_delay = move || {
        // xorshift64*: delays uniform in 0..25 ms.
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        Duration::from_micros(rng.wrapping_mul(0x2545_f491_4f6c_dd1d) % 25_000)
    };

    let mut outcomes = Outcomes::default();
    for round in 0..KILLS {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args([
                CHILD_TEST,
                "--exact",
                "--test-threads=1",
                "--nocapture",
                "--quiet",
            ])
            .env(CHILD_ENV, config.to_env())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (lines, received) = mpsc::channel();
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if lines.send(line).is_err() {
                    break;
                }
            }
        });
        // Kill at a random moment once the child has refreshed once (it is
        // then in its steady loop).
        let mut early = Vec::new();
        loop {
            let line = received.recv_timeout(Duration::from_secs(15));
            let line = line.unwrap_or_else(|_| panic!("round {round}: the child never refreshed"));
            let refreshed = line == "refreshed";
            early.push(line);
            if refreshed {
                break;
            }
        }
        std::thread::sleep(next_delay());
        child.kill().unwrap();
        child.wait().unwrap();
        reader.join().unwrap();
        for line in early.into_iter().chain(received.try_iter()) {
            if line.starts_with("failed") {
                panic!("round {round}: the child failed: {line}");
            }
            if line == "refreshed" {
                outcomes.child_refreshes += 1;
            }
            if let Some(us) = line
                .split_whitespace()
                .find_map(|field| field.strip_prefix("persist_us="))
            {
                outcomes.persist_us.push(us.parse().unwrap());
            }
        }

        // The account, as the next process finds it.
        match manager(&config).force_refresh().await {
            Ok(_) => outcomes.survived += 1,
            Err(error) if error.requires_reauthorization() => {
                if matches!(error, Error::RefreshInterrupted { .. }) {
                    outcomes.lost_reported += 1;
                } else {
                    outcomes.lost_unreported += 1;
                }
                let tokens =
                    support::aliexpress_consent(&h, &mut sweep, &consent_client, ACCESS_LIFETIME)
                        .await;
                manager(&config).install(tokens).await.unwrap();
            }
            Err(error) => panic!("round {round}: unexpected error: {error}"),
        }
    }

    outcomes.persist_us.sort_unstable();
    let n = outcomes.persist_us.len();
    assert!(
        n > 0,
        "the children refreshed (the window was measured): {outcomes:?}"
    );
    let pct = |p: usize| outcomes.persist_us[(n * p / 100).min(n - 1)];
    println!(
        "refresh crash loop: {KILLS} kills; survived {}, lost and reported as interrupted {}, lost unreported {}; children completed {} refreshes; window (answer received -> new set on disk) p50 {} us, p99 {} us, max {} us over {n} refreshes",
        outcomes.survived,
        outcomes.lost_reported,
        outcomes.lost_unreported,
        outcomes.child_refreshes,
        pct(50),
        pct(99),
        outcomes.persist_us[n - 1],
    );
    assert_eq!(outcomes.lost_unreported, 0, "{outcomes:?}");
    assert_eq!(outcomes.survived + outcomes.lost_reported, KILLS);
    // The store still serves the account, and nothing secret was printed.
    manager(&config).force_refresh().await.unwrap();
    sweep.assert_clean(&[]);
}
