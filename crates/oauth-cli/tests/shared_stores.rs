//! `--store postgres://…` and `--store redis://…`: the `oauth` binary against real
//! servers and the in-process sandbox.
//!
//! The servers come from `OAUTH_TEST_POSTGRES_URL` and `OAUTH_TEST_REDIS_URL`, which
//! `cargo xtask with-servers -- cargo nextest run -p oauth-cli` sets; a test fails (it
//! does not skip) when its variable is unset. Each test uses its own PostgreSQL table
//! (`?table=`) or Redis key prefix (`?prefix=`), so tests run in parallel on one server.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::print_stdout,
    clippy::print_stderr
)]

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, SystemTime};

use oauth_core::{AccountKey, TokenStore};
use oauth_sandbox::{Provider, Sandbox};
use oauth_store_postgres::PostgresStore;
use oauth_store_redis::RedisStore;
use serde_json::Value;

mod support;
use support::{Run, aliexpress_env, consent, ebay_env};

/// `oauth args` with exactly `env`, killed after 60 s (see [`support::oauth`]).
fn oauth(args: &[&str], env: &[(&str, String)]) -> impl Future<Output = Run> + Send + use<> {
    support::oauth(args, env, Duration::from_secs(60))
}

/// The server URL in `var`: a test that needs a server fails without one.
fn server_url(var: &str) -> String {
    match std::env::var(var) {
        Ok(url) if !url.trim().is_empty() => url.trim().trim_end_matches('/').to_owned(),
        _ => panic!(
            "{var} is not set: this test needs a server; run the tests through \
             `cargo xtask with-servers -- cargo nextest run -p oauth-cli`, which starts \
             throwaway PostgreSQL and Redis servers and sets OAUTH_TEST_POSTGRES_URL and \
             OAUTH_TEST_REDIS_URL"
        ),
    }
}

/// A name no other test (or run) uses: `{stem}_{pid}_{n}_{nanos}`.
fn unique(stem: &str) -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!("{stem}_{}_{n}_{nanos}", std::process::id())
}

/// Which shared store a test runs against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Postgres,
    Redis,
}

/// A fresh shared store: its own PostgreSQL table (created with `oauth store init`) or
/// Redis prefix.
struct Shared {
    kind: Kind,
    /// The server's URL, without the CLI's parameters.
    server: String,
    /// The table or the prefix.
    name: String,
    /// What `--store` gets.
    arg: String,
}

impl Shared {
    fn new(kind: Kind) -> Self {
        let (server, name, arg) = match kind {
            Kind::Postgres => {
                let server = server_url("OAUTH_TEST_POSTGRES_URL");
                let table = unique("cli");
                let arg = format!("{server}?sslmode=disable&table={table}");
                (server, table, arg)
            }
            Kind::Redis => {
                let server = server_url("OAUTH_TEST_REDIS_URL");
                let prefix = unique("cli");
                let arg = format!("{server}?prefix={prefix}");
                (server, prefix, arg)
            }
        };
        Self {
            kind,
            server,
            name,
            arg,
        }
    }

    /// A fresh store, initialized (`oauth store init`).
    async fn ready(kind: Kind) -> Self {
        let shared = Self::new(kind);
        let init = oauth(&["store", "init", "--store", &shared.arg, "--json"], &[])
            .await
            .ok()
            .json();
        assert_eq!(init["action"], "init");
        assert_eq!(init["warning"], Value::Null, "{init}");
        shared
    }

    /// The store, opened by the test itself (to look at or change what is stored).
    async fn open(&self) -> Arc<dyn TokenStore> {
        match self.kind {
            Kind::Postgres => Arc::new(
                PostgresStore::builder(format!("{}?sslmode=disable", self.server))
                    .table(self.name.clone())
                    .build()
                    .await
                    .unwrap(),
            ),
            Kind::Redis => Arc::new(
                RedisStore::builder(self.server.clone())
                    .prefix(self.name.clone())
                    .build()
                    .await
                    .unwrap(),
            ),
        }
    }

    /// How the CLI shows this store: no credentials.
    fn shown(&self) -> String {
        match self.kind {
            Kind::Postgres => {
                let (scheme, rest) = self.server.split_once("://").unwrap();
                let rest = rest.rsplit_once('@').map_or(rest, |(_, hosts)| hosts);
                format!("{scheme}://{rest}?table={}", self.name)
            }
            Kind::Redis => {
                let (scheme, rest) = self.server.split_once("://").unwrap();
                let rest = rest.rsplit_once('@').map_or(rest, |(_, hosts)| hosts);
                let db = if rest.contains('/') { "" } else { "/0" };
                format!("{scheme}://{rest}{db}?prefix={}", self.name)
            }
        }
    }
}

/// `authorize-url --json`, consent, `exchange --store STORE --json`: the exchange's JSON.
async fn authorize_and_exchange(provider: &str, env: &[(&str, String)], store: &str) -> Value {
    let authorize = oauth(&[provider, "authorize-url", "--json"], env)
        .await
        .ok()
        .json();
    let state = authorize["state"].as_str().unwrap().to_owned();
    let landed = consent(authorize["url"].as_str().unwrap()).await;
    oauth(
        &[
            provider,
            "exchange",
            "--store",
            store,
            "--state",
            &state,
            "--redirect-url",
            &landed,
            "--json",
        ],
        env,
    )
    .await
    .ok()
    .json()
}

/// The stored refresh token of `provider/default` (read by the test, in clear).
async fn stored_refresh_token(store: &dyn TokenStore, provider: &'static str) -> String {
    let stored = store
        .load(&AccountKey::new(provider, "default"))
        .await
        .unwrap()
        .expect("stored tokens");
    stored
        .tokens
        .refresh_token
        .as_ref()
        .map(|t| t.expose_secret().to_owned())
        .expect("a refresh token")
}

/// `exchange` → `token` → `token --min-valid` (a refresh) → `refresh`, for AliExpress
/// (rotating refresh tokens) and eBay, exactly as with a token file.
async fn lifecycle(kind: Kind) {
    let sandbox = Sandbox::start().await.unwrap();
    let shared = Shared::ready(kind).await;
    let store = shared.open().await;
    let arg = shared.arg.as_str();
    for (provider, env, sandbox_provider) in [
        ("aliexpress", aliexpress_env(&sandbox), Provider::AliExpress),
        ("ebay", ebay_env(&sandbox), Provider::Ebay),
    ] {
        let exchanged = authorize_and_exchange(provider, &env, arg).await;
        assert_eq!(exchanged["action"], "exchange", "{exchanged}");
        assert_eq!(exchanged["store"], shared.shown(), "{exchanged}");
        assert_eq!(sandbox.token_requests(sandbox_provider), 1);
        let first_refresh = stored_refresh_token(store.as_ref(), provider).await;

        // Fresh: served from the shared store, no request.
        let token = oauth(&[provider, "token", "--store", arg], &env).await.ok();
        let access = token.stdout.trim().to_owned();
        assert!(!access.is_empty(), "{token:#?}");
        assert_eq!(sandbox.token_requests(sandbox_provider), 1);

        // Due within --min-valid: refreshed and saved.
        let refreshed = oauth(
            &[
                provider,
                "token",
                "--store",
                arg,
                "--min-valid",
                "999999999",
            ],
            &env,
        )
        .await
        .ok();
        assert_ne!(refreshed.stdout.trim(), access, "{refreshed:#?}");
        assert_eq!(sandbox.token_requests(sandbox_provider), 2);
        let again = oauth(&[provider, "token", "--store", arg], &env).await.ok();
        assert_eq!(again.stdout, refreshed.stdout);
        assert_eq!(sandbox.token_requests(sandbox_provider), 2);

        // `refresh`: forced; AliExpress rotates its refresh token, and the new one is
        // saved in the shared store.
        let before = stored_refresh_token(store.as_ref(), provider).await;
        let forced = oauth(&[provider, "refresh", "--store", arg, "--json"], &env)
            .await
            .ok()
            .json();
        assert_eq!(forced["action"], "refresh", "{forced}");
        assert_eq!(forced["store"], shared.shown(), "{forced}");
        assert_eq!(sandbox.token_requests(sandbox_provider), 3);
        let after = stored_refresh_token(store.as_ref(), provider).await;
        let rotates = provider == "aliexpress";
        assert_eq!(forced["refresh_token_rotated"], rotates, "{forced}");
        assert_eq!(after != before, rotates);
        assert_eq!(first_refresh != after, rotates);
        let text = oauth(&[provider, "refresh", "--store", arg], &env)
            .await
            .ok();
        assert!(
            text.stdout.starts_with(&format!(
                "{provider}: tokens of account \"default\" saved to {}\n",
                shared.shown()
            )),
            "{text:#?}"
        );

        // An account without tokens: exit 3, as with a file.
        let none = oauth(
            &[provider, "token", "--store", arg, "--account", "nobody"],
            &env,
        )
        .await;
        assert_eq!(none.code, Some(3), "{none:#?}");
        assert!(
            none.stderr.contains(&format!(
                "no tokens are stored for account \"nobody\" in {}",
                shared.shown()
            )),
            "{none:#?}"
        );
    }
    // eBay application tokens are cached in the shared store too.
    let env = ebay_env(&sandbox);
    let app = oauth(&["ebay", "app-token", "--store", arg], &env)
        .await
        .ok();
    let app_again = oauth(&["ebay", "app-token", "--store", arg], &env)
        .await
        .ok();
    assert_eq!(app.stdout, app_again.stdout);
    assert_eq!(sandbox.token_requests(Provider::Ebay), 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_exchange_token_refresh() {
    lifecycle(Kind::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_exchange_token_refresh() {
    lifecycle(Kind::Redis).await;
}

/// 8 `oauth aliexpress token` processes at once, on one account whose access token has
/// expired: all print the same new token, and the sandbox saw one refresh in all (the
/// others waited for the refresh lease and took the set the holder saved).
async fn expired_token_is_refreshed_once(kind: Kind) {
    let sandbox = Sandbox::start().await.unwrap();
    let env = aliexpress_env(&sandbox);
    let shared = Shared::ready(kind).await;
    let store = shared.open().await;
    authorize_and_exchange("aliexpress", &env, &shared.arg).await;
    assert_eq!(sandbox.token_requests(Provider::AliExpress), 1);

    // Expire the stored access token (compare-and-swap, as any writer).
    let key = AccountKey::new("aliexpress", "default");
    let mut stored = store.load(&key).await.unwrap().unwrap();
    let old_access = stored.tokens.access_token.expose_secret().to_owned();
    stored.tokens.expires_at = SystemTime::now() - Duration::from_secs(60);
    store
        .save(&key, &stored.tokens, Some(stored.version))
        .await
        .unwrap();

    let runs = futures_join_all(
        (0..8)
            .map(|_| oauth(&["aliexpress", "token", "--store", &shared.arg], &env))
            .collect(),
    )
    .await;
    let tokens: Vec<String> = runs
        .into_iter()
        .map(|run| run.ok().stdout.trim().to_owned())
        .collect();
    assert_eq!(
        sandbox.token_requests(Provider::AliExpress),
        2,
        "one refresh for 8 processes"
    );
    assert!(tokens.iter().all(|t| *t == tokens[0]), "{tokens:?}");
    assert_ne!(tokens[0], old_access);
    let now = store.load(&key).await.unwrap().unwrap();
    assert_eq!(now.tokens.access_token.expose_secret(), tokens[0]);
    assert!(now.tokens.expires_at > SystemTime::now());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_eight_processes_refresh_an_expired_token_once() {
    expired_token_is_refreshed_once(Kind::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_eight_processes_refresh_an_expired_token_once() {
    expired_token_is_refreshed_once(Kind::Redis).await;
}

/// 8 `oauth aliexpress refresh` processes at once: `refresh` forces a refresh, so each
/// may make one (one after the other, under the lease; a process that waited on the
/// lease takes the holder's new set instead). All succeed, no rotated refresh token is
/// lost: the one stored at the end is the live one (a further refresh works).
async fn forced_refreshes_all_succeed(kind: Kind) {
    let sandbox = Sandbox::start().await.unwrap();
    let env = aliexpress_env(&sandbox);
    let shared = Shared::ready(kind).await;
    authorize_and_exchange("aliexpress", &env, &shared.arg).await;
    let runs = futures_join_all(
        (0..8)
            .map(|_| oauth(&["aliexpress", "refresh", "--store", &shared.arg], &env))
            .collect(),
    )
    .await;
    for run in runs {
        run.ok();
    }
    let requests = sandbox.token_requests(Provider::AliExpress) - 1;
    eprintln!("{kind:?}: 8 concurrent forced refreshes made {requests} refresh requests");
    assert!((1..=8).contains(&requests), "{requests} refreshes");
    oauth(&["aliexpress", "refresh", "--store", &shared.arg], &env)
        .await
        .ok();
    assert_eq!(
        sandbox.token_requests(Provider::AliExpress),
        requests + 2,
        "the stored refresh token is the live one"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_concurrent_forced_refreshes_all_succeed() {
    forced_refreshes_all_succeed(Kind::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_concurrent_forced_refreshes_all_succeed() {
    forced_refreshes_all_succeed(Kind::Redis).await;
}

/// Awaits every future (they run concurrently: each is a blocking task already).
async fn futures_join_all(futures: Vec<impl Future<Output = Run> + Send + 'static>) -> Vec<Run> {
    let handles: Vec<_> = futures.into_iter().map(tokio::spawn).collect();
    let mut runs = Vec::with_capacity(handles.len());
    for handle in handles {
        runs.push(handle.await.unwrap());
    }
    runs
}

/// A PostgreSQL store whose table was never created: exit 2 pointing to `oauth store
/// init`, which creates it (idempotently).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_without_its_table_points_to_store_init() {
    let sandbox = Sandbox::start().await.unwrap();
    let env = aliexpress_env(&sandbox);
    let shared = Shared::new(Kind::Postgres);
    let run = oauth(
        &["aliexpress", "token", "--store", &shared.arg, "--json"],
        &env,
    )
    .await;
    assert_eq!(run.code, Some(2), "{run:#?}");
    let error = &run.json()["error"];
    assert_eq!(error["kind"], "store_not_initialized", "{run:#?}");
    assert!(
        error["hint"].as_str().unwrap().contains("oauth store init"),
        "{run:#?}"
    );
    assert!(run.stderr.contains(&shared.name), "{run:#?}");
    for _ in 0..2 {
        let init = oauth(&["store", "init", "--store", &shared.arg], &[])
            .await
            .ok();
        assert!(init.stdout.contains("ready"), "{init:#?}");
    }
    let run = oauth(&["aliexpress", "token", "--store", &shared.arg], &env).await;
    assert_eq!(run.code, Some(3), "no tokens yet: {run:#?}");
    assert_eq!(sandbox.token_requests(Provider::AliExpress), 0);
}

/// The password of a store URL, or of PGPASSWORD / REDIS_PASSWORD, appears in no output:
/// a server that cannot be reached (exit 1, retryable, "unreachable"), in text and JSON.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn store_passwords_are_never_printed() {
    let sandbox = Sandbox::start().await.unwrap();
    let env = aliexpress_env(&sandbox);
    let password = "Zq7-SENTINEL-p4ss";
    // A port nothing listens on: bind one, then free it.
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let cases: Vec<(String, Vec<(&str, String)>)> = vec![
        (
            format!("postgres://app:{password}@127.0.0.1:{port}/db?sslmode=disable&table=t1"),
            vec![],
        ),
        (
            format!("postgresql://app@127.0.0.1:{port}/db?table=t1"),
            vec![("PGPASSWORD", password.to_owned())],
        ),
        (
            format!("redis://user:{password}@127.0.0.1:{port}/1?prefix=p1"),
            vec![],
        ),
        (
            format!("redis://127.0.0.1:{port}"),
            vec![("REDIS_PASSWORD", password.to_owned())],
        ),
    ];
    for (url, extra) in cases {
        let mut run_env = env.clone();
        run_env.extend(extra);
        for json in [false, true] {
            for command in [
                &["aliexpress", "token"][..],
                &["aliexpress", "refresh"][..],
                &["store", "init"][..],
            ] {
                let mut args = command.to_vec();
                args.extend(["--store", url.as_str()]);
                if json {
                    args.push("--json");
                }
                let run = oauth(&args, &run_env).await;
                assert_eq!(run.code, Some(1), "{url}: {run:#?}");
                assert!(!run.all().contains(password), "{url}: {run:#?}");
                assert!(!run.all().contains("SENTINEL"), "{url}: {run:#?}");
                assert!(run.stderr.contains("is unreachable"), "{run:#?}");
                assert!(run.stderr.contains(&format!(":{port}")), "{run:#?}");
                if json {
                    let error = &run.json()["error"];
                    assert_eq!(error["kind"], "store_unreachable", "{run:#?}");
                    assert_eq!(error["retryable"], true, "{run:#?}");
                    assert_eq!(error["exit_code"], 1, "{run:#?}");
                }
            }
        }
    }
    assert_eq!(sandbox.token_requests(Provider::AliExpress), 0);

    // A reachable server (its test instance trusts any password): nothing printed
    // shows it either, in any command's output.
    let server = server_url("OAUTH_TEST_POSTGRES_URL");
    let (scheme, rest) = server.split_once("://").unwrap();
    let hosts = rest.rsplit_once('@').map_or(rest, |(_, hosts)| hosts);
    let table = unique("cli_pw");
    let url = format!("{scheme}://postgres:{password}@{hosts}?sslmode=disable&table={table}");
    let init = oauth(&["store", "init", "--store", &url, "--json"], &[])
        .await
        .ok();
    assert!(!init.all().contains("SENTINEL"), "{init:#?}");
    let exchanged = authorize_and_exchange("aliexpress", &env, &url).await;
    assert!(!exchanged.to_string().contains("SENTINEL"), "{exchanged}");
    for json in [false, true] {
        let mut args = vec!["aliexpress", "refresh", "--store", &url];
        if json {
            args.push("--json");
        }
        let run = oauth(&args, &env).await.ok();
        assert!(!run.all().contains("SENTINEL"), "{run:#?}");
    }
}

/// `--store-key-file` over a shared store: the table or keys hold envelopes only, the
/// commands read through the key, an encrypted entry is refused without it (exit 2),
/// and `oauth store rekey` re-encrypts every entry under a new key.
async fn encrypted_shared_store(kind: Kind) {
    let sandbox = Sandbox::start().await.unwrap();
    let shared = Shared::ready(kind).await;
    let store = shared.open().await;
    let dir = tempfile::tempdir().unwrap();
    let old_key = dir.path().join("old.key");
    let new_key = dir.path().join("new.key");
    let old_arg = old_key.to_str().unwrap();
    let new_arg = new_key.to_str().unwrap();
    oauth(&["store", "keygen", old_arg, "--key-id", "k-old"], &[])
        .await
        .ok();
    oauth(&["store", "keygen", new_arg, "--key-id", "k-new"], &[])
        .await
        .ok();
    let mut env = aliexpress_env(&sandbox);
    env.push(("OAUTH_STORE_KEY_FILE", old_arg.to_owned()));
    authorize_and_exchange("aliexpress", &env, &shared.arg).await;
    let key = AccountKey::new("aliexpress", "default");
    let raw = store.load(&key).await.unwrap().unwrap();
    assert!(
        raw.tokens
            .access_token
            .expose_secret()
            .starts_with("enc:v1:k-old:"),
        "envelopes only"
    );
    assert!(raw.tokens.refresh_token.is_none());
    let token = oauth(&["aliexpress", "token", "--store", &shared.arg], &env)
        .await
        .ok();
    assert!(!token.stdout.starts_with("enc:"), "{token:#?}");

    // Without the key: refused, nothing printed.
    let plain = aliexpress_env(&sandbox);
    let run = oauth(
        &["aliexpress", "token", "--store", &shared.arg, "--json"],
        &plain,
    )
    .await;
    assert_eq!(run.code, Some(2), "{run:#?}");
    assert_eq!(run.json()["error"]["kind"], "store_key_required");
    assert!(!run.stdout.contains("enc:"), "{run:#?}");

    // rekey lists the accounts of the shared store.
    let rekey = oauth(
        &[
            "store",
            "rekey",
            "--store",
            &shared.arg,
            "--store-key-file",
            new_arg,
            "--old-key-file",
            old_arg,
            "--json",
        ],
        &[],
    )
    .await
    .ok()
    .json();
    assert_eq!(rekey["accounts"], 1, "{rekey}");
    assert_eq!(rekey["rekeyed"], 1, "{rekey}");
    assert_eq!(rekey["store"], shared.shown(), "{rekey}");
    let raw = store.load(&key).await.unwrap().unwrap();
    assert!(
        raw.tokens
            .access_token
            .expose_secret()
            .starts_with("enc:v1:k-new:")
    );
    let mut env = aliexpress_env(&sandbox);
    env.push(("OAUTH_STORE_KEY_FILE", new_arg.to_owned()));
    let again = oauth(&["aliexpress", "token", "--store", &shared.arg], &env)
        .await
        .ok();
    assert_eq!(again.stdout, token.stdout);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_store_encrypted_and_rekeyed() {
    encrypted_shared_store(Kind::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_store_encrypted_and_rekeyed() {
    encrypted_shared_store(Kind::Redis).await;
}
