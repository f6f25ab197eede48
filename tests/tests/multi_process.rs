//! The multi-process proof: several worker processes share one token store and
//! refresh each account once per expiry, whatever the store.
//!
//! 8 worker processes (this test binary, re-executed: see [`multi_process_worker`])
//! each run a `TokenPool` over the same store holding 100 AliExpress accounts, against
//! the sandbox, whose AliExpress refresh tokens are single-use (rotating) and whose
//! access tokens live a few seconds. Every worker calls `access_token` for every
//! account in rounds and runs the pool's proactive refresh, so that each account is
//! due in all 8 processes at the same moment. The store's refresh lease lets one of
//! them refresh; the others wait and adopt the new set.
//!
//! What is checked, at the sandbox and in the store, for File, PostgreSQL and Redis:
//! - **one token request per account per expiry**: the sandbox refused no request (a
//!   second request for the same expiry would present a refresh token already spent by
//!   rotation, which the sandbox counts as `refresh_token_reuse`), and no account was
//!   refreshed more often than its token's half-life allows;
//! - **0 false "authorize again"**: no worker got `ReauthorizationRequired` or
//!   `RefreshInterrupted`;
//! - **0 lost refresh tokens**: afterwards, every stored refresh token still works.
//!
//! Then the same with workers SIGKILLed at random moments (and replaced): the others
//! take over each dead holder's leases when they lapse. A kill between the provider's
//! rotation and the save loses that account's refresh token (the window no client can
//! close alone, see docs/security.md): such accounts are counted and must all be reported
//! as `RefreshInterrupted`, never as a plain revocation.
//!
//! `OAUTH_PROOF_SECONDS` sets how long each phase runs (default 12 s); `cargo xtask
//! proof` runs a longer variant and prints the figures.
#![cfg(unix)]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::print_stdout,
    clippy::print_stderr,
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss
)]

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use oauth_all::aliexpress;
use oauth_all::core::{
    AccessToken, AccountKey, AppSecret, Error, FileStore, HttpClient, RefreshToken, RetryPolicy,
    TokenManager, TokenPool, TokenSet, TokenStore,
};
use oauth_sandbox::{Provider, Sandbox};
use oauth_store_postgres::PostgresStore;
use oauth_store_redis::RedisStore;
use serde_json::{Value, json};

const WORKER_ENV: &str = "OAUTH_MULTI_PROCESS_WORKER";
/// What starts a worker's tally line.
const TALLY: &str = "worker-tally: ";
const WORKERS: usize = 8;
const ACCOUNTS: usize = 100;
/// The sandbox's access-token lifetime: due after half of it.
const ACCESS_LIFETIME: Duration = Duration::from_secs(8);
/// Each token request's time limit (one attempt): the workers' refresh lease is
/// the default for it, this plus 10 s.
const HTTP_TIMEOUT: Duration = Duration::from_secs(2);
/// The pause between two rounds of calls in a worker.
const ROUND_PAUSE: Duration = Duration::from_millis(200);

fn phase_duration() -> Duration {
    let seconds = std::env::var("OAUTH_PROOF_SECONDS")
        .ok()
        .and_then(|s| s.parse::<u64>().ok())
        .unwrap_or(12);
    Duration::from_secs(seconds.max(4))
}

/// Where the workers' store is, as passed to them.
#[derive(Debug, Clone)]
enum StoreSpec {
    File(PathBuf),
    Postgres {
        url: String,
        table: String,
    },
    Redis {
        url: String,
        prefix: String,
    },
    /// Redis, with the store's leases hidden from the managers: the
    /// baseline of what leases prevent.
    RedisWithoutLeases {
        url: String,
        prefix: String,
    },
}

impl StoreSpec {
    fn name(&self) -> &'static str {
        match self {
            StoreSpec::File(_) => "file",
            StoreSpec::Postgres { .. } => "postgres",
            StoreSpec::Redis { .. } => "redis",
            StoreSpec::RedisWithoutLeases { .. } => "redis_without_leases",
        }
    }

    fn to_json(&self) -> Value {
        match self {
            StoreSpec::File(path) => json!({"kind": "file", "path": path}),
            StoreSpec::Postgres { url, table } => {
                json!({"kind": "postgres", "url": url, "table": table})
            }
            StoreSpec::Redis { url, prefix } => {
                json!({"kind": "redis", "url": url, "prefix": prefix})
            }
            StoreSpec::RedisWithoutLeases { url, prefix } => {
                json!({"kind": "redis-without-leases", "url": url, "prefix": prefix})
            }
        }
    }

    fn from_json(value: &Value) -> Self {
        let text = |k: &str| value[k].as_str().unwrap().to_owned();
        match value["kind"].as_str().unwrap() {
            "file" => StoreSpec::File(PathBuf::from(text("path"))),
            "postgres" => StoreSpec::Postgres {
                url: text("url"),
                table: text("table"),
            },
            "redis" => StoreSpec::Redis {
                url: text("url"),
                prefix: text("prefix"),
            },
            _ => StoreSpec::RedisWithoutLeases {
                url: text("url"),
                prefix: text("prefix"),
            },
        }
    }

    async fn open(&self) -> Arc<dyn TokenStore> {
        match self {
            StoreSpec::File(path) => Arc::new(FileStore::new(path)),
            StoreSpec::Postgres { url, table } => Arc::new(
                PostgresStore::builder(url.clone())
                    .table(table.clone())
                    .pool_size(4)
                    .build()
                    .await
                    .unwrap(),
            ),
            StoreSpec::Redis { url, prefix } => Arc::new(
                RedisStore::builder(url.clone())
                    .prefix(prefix.clone())
                    .build()
                    .await
                    .unwrap(),
            ),
            StoreSpec::RedisWithoutLeases { url, prefix } => Arc::new(NoLeases(Arc::new(
                RedisStore::builder(url.clone())
                    .prefix(prefix.clone())
                    .build()
                    .await
                    .unwrap(),
            ))),
        }
    }
}

/// A store with its leases hidden (only the required methods delegated): what
/// a user's own store without leases gives.
#[derive(Debug)]
struct NoLeases(Arc<dyn TokenStore>);

#[oauth_all::core::async_trait]
impl TokenStore for NoLeases {
    async fn load(
        &self,
        key: &AccountKey,
    ) -> Result<Option<oauth_all::core::lifecycle::Versioned>, Error> {
        self.0.load(key).await
    }
    async fn save(
        &self,
        key: &AccountKey,
        tokens: &TokenSet,
        expected: Option<u64>,
    ) -> Result<oauth_all::core::lifecycle::SaveOutcome, Error> {
        self.0.save(key, tokens, expected).await
    }
    async fn delete(&self, key: &AccountKey) -> Result<(), Error> {
        self.0.delete(key).await
    }
    async fn list_accounts(
        &self,
        provider: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<String>, Error> {
        self.0.list_accounts(provider, after, limit).await
    }
}

/// What a worker needs, passed as JSON in its environment.
#[derive(Debug, Clone)]
struct WorkerConfig {
    base_url: String,
    redirect_uri: String,
    app_key: String,
    app_secret: String,
    store: StoreSpec,
    run_for: Duration,
}

impl WorkerConfig {
    fn to_env(&self) -> String {
        json!({
            "base_url": self.base_url,
            "redirect_uri": self.redirect_uri,
            "app_key": self.app_key,
            "app_secret": self.app_secret,
            "store": self.store.to_json(),
            "run_for_ms": self.run_for.as_millis() as u64,
        })
        .to_string()
    }

    fn from_env(text: &str) -> Self {
        let v: Value = serde_json::from_str(text).unwrap();
        let text = |k: &str| v[k].as_str().unwrap().to_owned();
        Self {
            base_url: text("base_url"),
            redirect_uri: text("redirect_uri"),
            app_key: text("app_key"),
            app_secret: text("app_secret"),
            store: StoreSpec::from_json(&v["store"]),
            run_for: Duration::from_millis(v["run_for_ms"].as_u64().unwrap()),
        }
    }

    fn client(&self) -> aliexpress::Client {
        let http = HttpClient::builder()
            .connect_timeout(HTTP_TIMEOUT)
            .timeout(HTTP_TIMEOUT)
            .retry_policy(RetryPolicy::none())
            .build()
            .unwrap();
        aliexpress::Client::builder(
            aliexpress::AliExpress::new(
                self.app_key.as_str(),
                AppSecret::new(self.app_secret.clone()),
            )
            .redirect_uri(self.redirect_uri.clone()),
        )
        .environment(aliexpress::Environment::custom(&self.base_url).unwrap())
        .http_client(http)
        .build()
        .unwrap()
    }
}

/// What one worker saw, printed as one JSON line on its standard output.
#[derive(Debug, Default, Clone, Copy)]
struct Tally {
    calls: u64,
    ok: u64,
    reauthorization: u64,
    interrupted: u64,
    busy: u64,
    other: u64,
}

impl Tally {
    fn add(&mut self, other: &Tally) {
        self.calls += other.calls;
        self.ok += other.ok;
        self.reauthorization += other.reauthorization;
        self.interrupted += other.interrupted;
        self.busy += other.busy;
        self.other += other.other;
    }

    fn from_json(v: &Value) -> Self {
        let n = |k: &str| v[k].as_u64().unwrap();
        Tally {
            calls: n("calls"),
            ok: n("ok"),
            reauthorization: n("reauthorization"),
            interrupted: n("interrupted"),
            busy: n("busy"),
            other: n("other"),
        }
    }
}

fn account(i: usize) -> String {
    format!("seller-{i:03}")
}

/// The worker: a pool over the shared store, calls in rounds until its time is up,
/// then one JSON line with its tally.
#[test]
fn multi_process_worker() {
    let Ok(config) = std::env::var(WORKER_ENV) else {
        return;
    };
    let config = WorkerConfig::from_env(&config);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async move {
        let store = config.store.open().await;
        let pool = TokenPool::builder(Arc::new(config.client()), store)
            .proactive_window(Duration::from_secs(1))
            .scan_interval(Duration::from_millis(250))
            .max_concurrent_refreshes(16)
            .build();
        let loaded = pool.load_accounts().await.unwrap();
        assert_eq!(loaded, ACCOUNTS);
        let background = pool.start_background_refresh();
        let mut tally = Tally::default();
        let mut samples: Vec<String> = Vec::new();
        let deadline = Instant::now() + config.run_for;
        while Instant::now() < deadline {
            let mut round = tokio::task::JoinSet::new();
            for i in 0..ACCOUNTS {
                let pool = pool.clone();
                round.spawn(async move { pool.access_token(&account(i)).await.map(|_| ()) });
            }
            while let Some(outcome) = round.join_next().await {
                tally.calls += 1;
                match outcome.unwrap() {
                    Ok(()) => tally.ok += 1,
                    Err(Error::RefreshInterrupted { .. }) => tally.interrupted += 1,
                    Err(e) if e.requires_reauthorization() => {
                        tally.reauthorization += 1;
                        if samples.len() < 3 {
                            samples.push(e.to_string());
                        }
                    }
                    Err(Error::StoreBusy { .. }) => tally.busy += 1,
                    Err(e) => {
                        tally.other += 1;
                        if samples.len() < 3 {
                            samples.push(e.to_string());
                        }
                    }
                }
            }
            tokio::time::sleep(ROUND_PAUSE).await;
        }
        // A graceful shutdown: the refreshes in flight finish and are saved.
        background.stop().await;
        // On a line of its own: libtest may have written "test … ... " before it.
        println!(
            "\n{TALLY}{}",
            json!({
                "calls": tally.calls,
                "ok": tally.ok,
                "reauthorization": tally.reauthorization,
                "interrupted": tally.interrupted,
                "busy": tally.busy,
                "other": tally.other,
                "samples": samples,
            })
        );
    });
}

/// A running worker.
struct Worker {
    child: Child,
}

impl Worker {
    fn spawn(config: &WorkerConfig) -> Worker {
        let child = Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "multi_process_worker",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(WORKER_ENV, config.to_env())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        Worker { child }
    }

    /// Waits for the worker and reads its tally.
    fn finish(mut self) -> Tally {
        let stdout = self.child.stdout.take().unwrap();
        let mut tally = None;
        for line in BufReader::new(stdout).lines() {
            let line = line.unwrap();
            if let Some((_, tally_json)) = line.split_once(TALLY) {
                let v: Value = serde_json::from_str(tally_json).unwrap();
                if let Some(samples) = v["samples"].as_array()
                    && !samples.is_empty()
                {
                    eprintln!("worker errors: {samples:?}");
                }
                tally = Some(Tally::from_json(&v));
            }
        }
        let status = self.child.wait().unwrap();
        assert!(status.success(), "a worker failed: {status}");
        tally.expect("the worker printed its tally")
    }

    fn kill(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

/// The outcome of one phase.
#[derive(Debug, Default)]
struct Phase {
    workers: Tally,
    kills: usize,
    refreshes: u64,
    rejected: u64,
    reuse: u64,
    most_refreshes_of_an_account: u64,
    fewest_refreshes_of_an_account: u64,
    survived: usize,
    lost_reported: usize,
    lost_unreported: usize,
    seconds: f64,
}

fn random_below(n: u64) -> u64 {
    fastrand_u64() % n.max(1)
}

fn fastrand_u64() -> u64 {
    // A little xorshift seeded from the clock: no extra dependency for the test.
    use std::cell::Cell;
    thread_local!(static STATE: Cell<u64> = Cell::new({
        let now = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).unwrap();
        (now.as_nanos() as u64) | 1
    }));
    STATE.with(|s| {
        let mut x = s.get();
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        s.set(x);
        x
    })
}

/// Seeds the accounts at the sandbox and writes their tokens to the store, their
/// expiries spread over one lifetime as in a service that has run for a while (the
/// stored expiry is at most the real one: such a token is only refreshed early).
async fn seed(sandbox: &Sandbox, store: &dyn TokenStore) {
    for i in 0..ACCOUNTS {
        let seeded = sandbox.seed_account(Provider::AliExpress, &account(i));
        let now = SystemTime::now();
        let lifetime = Duration::from_secs(seeded.expires_in);
        let spread = lifetime.mul_f64(i as f64 / ACCOUNTS as f64);
        let mut tokens = TokenSet::new(
            AccessToken::new(seeded.access_token.clone()),
            now + lifetime - spread,
        )
        .with_refresh_token(
            RefreshToken::new(seeded.refresh_token.clone()),
            seeded
                .refresh_token_expires_in
                .map(|s| now + Duration::from_secs(s)),
        );
        tokens.issued_at = Some(now - spread);
        let key = AccountKey::new("aliexpress", account(i));
        store.save(&key, &tokens, None).await.unwrap();
    }
}

/// Runs one phase: 8 workers (some killed and replaced when `kills` is set) for
/// `run_for`, then reads the sandbox's counters and checks every account's stored
/// refresh token.
async fn phase(sandbox: &Sandbox, config: &WorkerConfig, kills: bool) -> Phase {
    let started = Instant::now();
    sandbox.reset_counters();
    let mut workers: Vec<Option<Worker>> =
        (0..WORKERS).map(|_| Some(Worker::spawn(config))).collect();
    let mut phase = Phase::default();
    if kills {
        let deadline = started + config.run_for;
        loop {
            let pause = Duration::from_millis(700 + random_below(1300));
            if Instant::now() + pause + Duration::from_secs(3) >= deadline {
                break;
            }
            tokio::time::sleep(pause).await;
            let victim = random_below(WORKERS as u64) as usize;
            if let Some(worker) = workers[victim].take() {
                worker.kill();
                phase.kills += 1;
            }
            let remaining = deadline.saturating_duration_since(Instant::now());
            let replacement = WorkerConfig {
                run_for: remaining,
                ..config.clone()
            };
            workers[victim] = Some(Worker::spawn(&replacement));
        }
    }
    for worker in workers.into_iter().flatten() {
        let tally = tokio::task::spawn_blocking(move || worker.finish())
            .await
            .unwrap();
        phase.workers.add(&tally);
    }
    phase.seconds = started.elapsed().as_secs_f64();

    let counters = sandbox.counters();
    let ae = counters.provider(Provider::AliExpress);
    phase.refreshes = ae.totals.refresh_token;
    phase.rejected = ae.totals.rejected;
    phase.reuse = ae.totals.refresh_token_reuse;
    let per_account: Vec<u64> = (0..ACCOUNTS)
        .map(|i| ae.accounts.get(&account(i)).map_or(0, |c| c.refresh_token))
        .collect();
    phase.most_refreshes_of_an_account = per_account.iter().copied().max().unwrap_or(0);
    phase.fewest_refreshes_of_an_account = per_account.iter().copied().min().unwrap_or(0);

    // Every stored refresh token must still work (or, after a kill inside the window,
    // be reported as interrupted).
    let store = config.store.open().await;
    let client = Arc::new(config.client());
    let mut checks = tokio::task::JoinSet::new();
    for i in 0..ACCOUNTS {
        let manager = TokenManager::builder(client.clone(), Arc::clone(&store), account(i)).build();
        checks.spawn(async move { manager.force_refresh().await.map(|_| ()) });
    }
    while let Some(outcome) = checks.join_next().await {
        match outcome.unwrap() {
            Ok(()) => phase.survived += 1,
            Err(Error::RefreshInterrupted { .. }) => phase.lost_reported += 1,
            Err(e) if e.requires_reauthorization() => phase.lost_unreported += 1,
            Err(e) => panic!("the final check of an account failed: {e}"),
        }
    }
    phase
}

fn report(store: &str, mode: &str, p: &Phase) {
    // On a line of its own: libtest may have written "test … ... " before it.
    println!(
        "\nmulti_process_{store}_{mode}: {} token requests for {} accounts in {:.1} s over {} workers \
         ({} refreshes, {} refused of which {} reused a spent refresh token; per account {}..{}), \
         {:.1} refreshes/s; {} calls: {} ok, {} false re-authorizations, {} interrupted, {} busy, \
         {} other; kills {}; accounts lost {} (reported {}, unreported {}), survived {}",
        p.refreshes + p.rejected,
        ACCOUNTS,
        p.seconds,
        WORKERS,
        p.refreshes,
        p.rejected,
        p.reuse,
        p.fewest_refreshes_of_an_account,
        p.most_refreshes_of_an_account,
        p.refreshes as f64 / p.seconds,
        p.workers.calls,
        p.workers.ok,
        p.workers.reauthorization,
        p.workers.interrupted,
        p.workers.busy,
        p.workers.other,
        p.kills,
        p.lost_reported + p.lost_unreported,
        p.lost_reported,
        p.lost_unreported,
        p.survived,
    );
}

async fn prove(store: StoreSpec) {
    let (sandbox, config) = start(&store).await;
    prove_on(&sandbox, &config, &store).await;
}

/// A sandbox, the workers' configuration, and the accounts seeded.
async fn start(store: &StoreSpec) -> (Sandbox, WorkerConfig) {
    let sandbox = Sandbox::builder()
        .access_token_lifetime(ACCESS_LIFETIME)
        .refresh_token_lifetime(Duration::from_secs(24 * 3600))
        .provider_rotates_refresh_tokens(Provider::AliExpress, true)
        .aliexpress_app(
            oauth_sandbox::credentials::DEFAULT_ALIEXPRESS_APP_KEY,
            format!("ae-secret-{:016x}", fastrand_u64()),
        )
        .start()
        .await
        .unwrap();
    let config = WorkerConfig {
        base_url: sandbox.aliexpress_base_url(),
        redirect_uri: sandbox.callback_url(Provider::AliExpress),
        app_key: sandbox.credentials().aliexpress.app_key.clone(),
        app_secret: sandbox.credentials().aliexpress.app_secret.clone(),
        store: store.clone(),
        run_for: phase_duration(),
    };
    let opened = store.open().await;
    seed(&sandbox, &*opened).await;
    drop(opened);
    (sandbox, config)
}

async fn prove_on(sandbox: &Sandbox, config: &WorkerConfig, store: &StoreSpec) {
    let run_for = config.run_for.as_secs_f64();
    // Each account is due once its token is half its lifetime old: at most one
    // refresh per half-life, plus the first and some slack for the lease's waits.
    let bound = (run_for / (ACCESS_LIFETIME.as_secs_f64() / 2.0)).ceil() as u64 + 2;

    let calm = phase(sandbox, config, false).await;
    report(store.name(), "calm", &calm);
    assert_eq!(
        calm.rejected, 0,
        "no token request was refused: none reused a spent refresh token"
    );
    assert_eq!(
        calm.workers.reauthorization, 0,
        "no false 'authorize again'"
    );
    assert_eq!(calm.workers.interrupted, 0, "no refresh was interrupted");
    assert_eq!(calm.workers.other, 0, "no other error");
    assert!(
        calm.workers.busy * 100 <= calm.workers.calls,
        "at most 1% of the calls waited out a lease ({} of {})",
        calm.workers.busy,
        calm.workers.calls
    );
    assert_eq!(calm.survived, ACCOUNTS, "no refresh token lost");
    assert!(
        calm.fewest_refreshes_of_an_account >= 1,
        "every account was refreshed (its token lives {ACCESS_LIFETIME:?})"
    );
    assert!(
        calm.most_refreshes_of_an_account <= bound,
        "at most one refresh per account per half-life ({} > {bound})",
        calm.most_refreshes_of_an_account
    );

    let killed = phase(sandbox, config, true).await;
    report(store.name(), "kills", &killed);
    assert!(killed.kills >= 1, "workers were killed");
    assert_eq!(
        killed.workers.reauthorization, 0,
        "no false 'authorize again' despite the kills"
    );
    assert_eq!(
        killed.lost_unreported, 0,
        "every lost refresh token is reported as interrupted"
    );
    assert_eq!(killed.workers.other, 0, "no other error");
    assert_eq!(
        killed.survived + killed.lost_reported,
        ACCOUNTS,
        "every account either survived or was reported lost"
    );
    // Refusals can only come from accounts lost in the window (their successor
    // spends the dead holder's spent token once per process that tries).
    if killed.lost_reported == 0 {
        assert_eq!(
            killed.reuse, 0,
            "no spent refresh token was presented again"
        );
    }
}

/// The same calm phase over a store whose leases are hidden: the baseline of
/// the figures above, measured by `cargo xtask proof` (it asserts nothing: how
/// often processes without leases collide depends on timing).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a measurement for cargo xtask proof"]
async fn eight_processes_share_a_redis_store_without_leases_baseline() {
    let url = server_url("OAUTH_TEST_REDIS_URL");
    let store = StoreSpec::RedisWithoutLeases {
        url,
        prefix: unique("baseline"),
    };
    let (sandbox, config) = start(&store).await;
    let calm = phase(&sandbox, &config, false).await;
    report(store.name(), "calm", &calm);
}

fn server_url(var: &str) -> String {
    std::env::var(var).unwrap_or_else(|_| {
        panic!(
            "{var} is not set: this test needs a real server; run it with \
             `cargo xtask with-servers -- cargo nextest run -p oauth-e2e-tests --test multi_process`"
        )
    })
}

fn unique(prefix: &str) -> String {
    format!("{prefix}_{:012x}", fastrand_u64() & 0xffff_ffff_ffff)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eight_processes_share_a_file_store() {
    let dir = tempfile::tempdir().unwrap();
    prove(StoreSpec::File(dir.path().join("tokens.json"))).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eight_processes_share_a_postgres_store() {
    let url = server_url("OAUTH_TEST_POSTGRES_URL");
    let table = unique("proof");
    PostgresStore::builder(url.clone())
        .table(table.clone())
        .build()
        .await
        .unwrap()
        .migrate()
        .await
        .unwrap();
    prove(StoreSpec::Postgres { url, table }).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eight_processes_share_a_redis_store() {
    let url = server_url("OAUTH_TEST_REDIS_URL");
    prove(StoreSpec::Redis {
        url,
        prefix: unique("proof"),
    })
    .await;
}
