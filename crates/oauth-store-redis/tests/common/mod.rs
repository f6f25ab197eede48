//! Shared by the integration tests: the test server's URL and helpers.
#![allow(dead_code, clippy::panic, clippy::unwrap_used, clippy::expect_used)]

use oauth_store_redis::RedisStore;

/// The variable naming the test server.
pub const URL_VAR: &str = "OAUTH_TEST_REDIS_URL";

/// The test server's URL; fails (never skips) when it is not set.
pub fn redis_url() -> String {
    match std::env::var(URL_VAR) {
        Ok(url) if !url.trim().is_empty() => url,
        _ => panic!(
            "{URL_VAR} is not set: these tests need a Redis server started with \
             `--appendonly yes --appendfsync always`. Run them with \
             `cargo xtask with-servers -- cargo test -p oauth-store-redis`, or start one \
             yourself and set {URL_VAR}=redis://127.0.0.1:PORT"
        ),
    }
}

/// A prefix unique to this run and `name`.
pub fn unique_prefix(name: &str) -> String {
    format!("test-{name}-{:016x}", fastrand::u64(..))
}

/// A store on the test server with a prefix of its own.
pub async fn store(name: &str) -> RedisStore {
    RedisStore::builder(redis_url())
        .prefix(unique_prefix(name))
        .build()
        .await
        .unwrap_or_else(|e| panic!("cannot connect to the test server at {URL_VAR}: {e}"))
}

/// A plain connection to the test server, to look behind the store.
pub async fn raw() -> redis::aio::MultiplexedConnection {
    redis::Client::open(redis_url())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap()
}
