//! A server that stops answering once the store is built: bounded, typed
//! errors, then recovery. Its own test binary: it pauses the whole server.
#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{raw, redis_url, unique_prefix};
use oauth_core::{AccessToken, AccountKey, Error, TokenSet, TokenStore};
use oauth_store_redis::{RedisStore, Timeouts};
use std::time::{Duration, Instant, SystemTime};

const SECRET: &str = "tok-s3cret-51be07";

fn tokens(tag: &str) -> TokenSet {
    TokenSet::new(
        AccessToken::new(format!("{SECRET}-access-{tag}")),
        SystemTime::now() + Duration::from_secs(3600),
    )
}

#[tokio::test]
async fn a_server_that_stops_answering_mid_way_gives_typed_errors() {
    let store = RedisStore::builder(redis_url())
        .prefix(unique_prefix("paused"))
        .timeouts(Timeouts::new(
            Duration::from_secs(1),
            Duration::from_millis(300),
        ))
        .build()
        .await
        .unwrap();
    let key = AccountKey::new("ebay", "seller-1");
    store.save(&key, &tokens("p"), None).await.unwrap();
    // Server-wide, for 1.2 s: hence a test binary of its own (cargo runs
    // test binaries one after another), so that no other test is paused.
    let mut con = raw().await;
    let _: () = redis::cmd("CLIENT")
        .arg("PAUSE")
        .arg(1200)
        .arg("ALL")
        .query_async(&mut con)
        .await
        .unwrap();
    let started = Instant::now();
    let load = store.load(&key).await.unwrap_err();
    let save = store.save(&key, &tokens("q"), Some(1)).await.unwrap_err();
    let elapsed = started.elapsed();
    assert!(elapsed < Duration::from_millis(1100), "took {elapsed:?}");
    assert!(matches!(load, Error::StoreBusy { .. }), "{load:?}");
    assert!(matches!(save, Error::Store { .. }), "{save:?}");
    assert!(save.to_string().contains("may or may not"), "{save}");
    let text = format!("{save} {save:?} {load} {load:?}");
    assert!(!text.contains(SECRET), "{text}");
    // Reconnects and carries on once the server answers again.
    let mut loaded = None;
    for _ in 0..20 {
        if let Ok(v) = store.load(&key).await {
            loaded = v;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // The timed-out save had reached the server, which ran it once the
    // pause ended: exactly why its error says "may or may not".
    let version = loaded.map(|v| v.version);
    assert!(matches!(version, Some(1 | 2)), "{version:?}");
}
