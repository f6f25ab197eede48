//! RedisStore against a real server: durability detection, error hygiene,
//! prefix isolation, lease expiry, the write check.
#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{raw, redis_url, store, unique_prefix};
use oauth_core::lifecycle::{LeaseOutcome, LeaseOwner, SaveOutcome};
use oauth_core::{AccessToken, AccountKey, Error, RefreshToken, TokenSet, TokenStore};
use oauth_store_redis::{Durability, Eviction, RedisStore, Timeouts};
use std::time::{Duration, Instant, SystemTime};

const SECRET: &str = "tok-s3cret-9d41e2";

/// Held by the tests that read or change the server's persistence settings
/// (`CONFIG SET` is server-wide).
static CONFIG_LOCK: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn tokens(tag: &str) -> TokenSet {
    TokenSet::new(
        AccessToken::new(format!("{SECRET}-access-{tag}")),
        SystemTime::now() + Duration::from_secs(3600),
    )
    .with_refresh_token(RefreshToken::new(format!("{SECRET}-refresh-{tag}")), None)
}

/// `e`'s Display and Debug, checked for `secrets`.
fn assert_hygienic(e: &Error, secrets: &[&str]) {
    let text = format!("{e} | {e:?}");
    for secret in secrets {
        assert!(!text.contains(secret), "{secret:?} leaked into {text}");
    }
}

#[tokio::test]
async fn durability_of_the_test_server_is_detected_as_always() {
    let _config = CONFIG_LOCK.lock().await;
    let store = store("durability").await;
    assert_eq!(
        store.durability(),
        Durability::Always,
        "the test server must run with --appendonly yes --appendfsync always"
    );
    assert!(store.durability().is_crash_safe());
    assert_eq!(store.eviction(), Eviction::NoEviction);
    let debug = format!("{store:?}");
    assert!(debug.contains("Always"), "{debug}");
}

#[tokio::test]
async fn durability_follows_the_server_configuration() {
    // CONFIG SET appendfsync is server-wide: only this test changes it, and
    // it puts the value back (the other tests only read it at build time,
    // and only the durability test asserts it).
    let _config = CONFIG_LOCK.lock().await;
    let mut con = raw().await;
    let before: Vec<String> = redis::cmd("CONFIG")
        .arg("GET")
        .arg("appendfsync")
        .query_async(&mut con)
        .await
        .unwrap();
    let before = before.get(1).cloned().unwrap();
    let _: () = redis::cmd("CONFIG")
        .arg("SET")
        .arg("appendfsync")
        .arg("everysec")
        .query_async(&mut con)
        .await
        .unwrap();
    let seen = RedisStore::connect(redis_url())
        .await
        .map(|s| s.durability());
    let _: () = redis::cmd("CONFIG")
        .arg("SET")
        .arg("appendfsync")
        .arg(&before)
        .query_async(&mut con)
        .await
        .unwrap();
    assert_eq!(seen.unwrap(), Durability::EverySecond);
}

#[tokio::test]
async fn durability_is_unknown_without_config_permission() {
    let user = format!("nocfg-{:x}", fastrand::u64(..));
    let password = format!("pw-{:x}", fastrand::u64(..));
    let mut con = raw().await;
    let _: () = redis::cmd("ACL")
        .arg("SETUSER")
        .arg(&user)
        .arg("on")
        .arg(format!(">{password}"))
        .arg("~*")
        .arg("+@all")
        .arg("-config")
        .query_async(&mut con)
        .await
        .unwrap();
    let url = with_credentials(&redis_url(), &user, &password);
    let store = RedisStore::connect(url).await;
    let _: i64 = redis::cmd("ACL")
        .arg("DELUSER")
        .arg(&user)
        .query_async(&mut con)
        .await
        .unwrap();
    let store = store.unwrap();
    assert_eq!(store.durability(), Durability::Unknown);
    assert_eq!(store.eviction(), Eviction::Unknown);
}

/// `url` with `user:password@` inserted.
fn with_credentials(url: &str, user: &str, password: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap();
    let rest = rest.rsplit_once('@').map_or(rest, |(_, host)| host);
    format!("{scheme}://{user}:{password}@{rest}")
}

#[tokio::test]
async fn a_wrong_password_is_reported_without_it() {
    let password = format!("hunter2-{:x}", fastrand::u64(..));
    let url = with_credentials(
        &redis_url(),
        &format!("nobody-{:x}", fastrand::u64(..)),
        &password,
    );
    let started = Instant::now();
    let e = RedisStore::connect(url).await.unwrap_err();
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "not retried for long"
    );
    assert!(matches!(e, Error::Store { .. }), "{e:?}");
    assert!(e.to_string().contains("authentication"), "{e}");
    assert_hygienic(&e, &[&password]);
}

#[tokio::test]
async fn an_unreachable_port_is_reported_without_the_password() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let password = format!("hunter2-{:x}", fastrand::u64(..));
    let url = format!("redis://app:{password}@127.0.0.1:{port}/0");
    let e = RedisStore::builder(url)
        .timeouts(Timeouts::new(
            Duration::from_secs(1),
            Duration::from_secs(1),
        ))
        .build()
        .await
        .unwrap_err();
    assert!(
        matches!(e, Error::Store { .. } | Error::StoreBusy { .. }),
        "{e:?}"
    );
    assert_hygienic(&e, &[&password]);
}

#[tokio::test]
async fn a_server_that_never_answers_gives_an_error_not_a_hang() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    // Accepts connections and reads nothing, answers nothing.
    let server = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    let password = format!("hunter2-{:x}", fastrand::u64(..));
    let started = Instant::now();
    let e = RedisStore::builder(format!("redis://app:{password}@127.0.0.1:{port}"))
        .timeouts(Timeouts::new(
            Duration::from_millis(300),
            Duration::from_millis(300),
        ))
        .build()
        .await
        .unwrap_err();
    let elapsed = started.elapsed();
    server.abort();
    assert!(elapsed < Duration::from_secs(3), "took {elapsed:?}");
    assert!(
        matches!(e, Error::StoreBusy { .. } | Error::Store { .. }),
        "{e:?}"
    );
    assert!(
        e.is_retryable(),
        "a connection that timed out is retryable: {e:?}"
    );
    assert_hygienic(&e, &[&password]);
}

#[tokio::test]
async fn invalid_configuration_is_refused_before_connecting() {
    let e = RedisStore::builder("http://x:hunter2@127.0.0.1")
        .build()
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Configuration { .. }), "{e:?}");
    assert_hygienic(&e, &["hunter2"]);
    for prefix in ["", "a:b", "{x}", "white space"] {
        let e = RedisStore::builder(redis_url())
            .prefix(prefix)
            .build()
            .await
            .unwrap_err();
        assert!(
            matches!(e, Error::Configuration { .. }),
            "{prefix:?}: {e:?}"
        );
    }
    let e = RedisStore::builder(redis_url())
        .timeouts(Timeouts::new(Duration::ZERO, Duration::from_secs(1)))
        .build()
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Configuration { .. }), "{e:?}");
    #[cfg(not(feature = "tls"))]
    {
        let e = RedisStore::connect("rediss://:hunter2@127.0.0.1:1")
            .await
            .unwrap_err();
        assert!(e.to_string().contains("tls"), "{e}");
        assert_hygienic(&e, &["hunter2"]);
    }
}

#[tokio::test]
async fn a_corrupt_entry_is_an_error_that_quotes_nothing() {
    let store = store("corrupt").await;
    let key = AccountKey::new("ebay", "seller-1");
    let mut con = raw().await;
    let entry = format!("{}:{{4:ebay:seller-1}}:tok", store.prefix());
    let _: () = redis::cmd("HSET")
        .arg(&entry)
        .arg("v")
        .arg("1")
        .arg("t")
        .arg(format!("{{\"access_token\": \"{SECRET}\""))
        .query_async(&mut con)
        .await
        .unwrap();
    let e = store.load(&key).await.unwrap_err();
    assert!(matches!(e, Error::Store { .. }), "{e:?}");
    assert_hygienic(&e, &[SECRET]);
    // A conflict that would return the corrupt entry fails the same way.
    let e = store.save(&key, &tokens("x"), None).await.unwrap_err();
    assert_hygienic(&e, &[SECRET]);

    // A key of the wrong type: the server's error (which names the script)
    // is reduced to its code; the script's arguments (the tokens) never show.
    let _: () = redis::cmd("DEL")
        .arg(&entry)
        .query_async(&mut con)
        .await
        .unwrap();
    let _: () = redis::cmd("SET")
        .arg(&entry)
        .arg("not a hash")
        .query_async(&mut con)
        .await
        .unwrap();
    let e = store.save(&key, &tokens("y"), None).await.unwrap_err();
    assert!(matches!(e, Error::Store { .. }), "{e:?}");
    assert_hygienic(&e, &[SECRET]);
    let e = store.load(&key).await.unwrap_err();
    assert_hygienic(&e, &[SECRET]);
}

#[tokio::test]
async fn prefixes_isolate_stores() {
    let a = store("iso-a").await;
    let b = store("iso-b").await;
    let key = AccountKey::new("ebay", "seller-1");
    assert_eq!(
        a.save(&key, &tokens("a"), None).await.unwrap(),
        SaveOutcome::Saved { version: 1 }
    );
    assert_eq!(b.load(&key).await.unwrap(), None);
    assert!(b.list_accounts("ebay", None, 10).await.unwrap().is_empty());
    assert_eq!(
        b.save(&key, &tokens("b"), None).await.unwrap(),
        SaveOutcome::Saved { version: 1 }
    );
    let owner = LeaseOwner::new("owner-a").unwrap();
    let LeaseOutcome::Acquired(lease) = a
        .acquire_lease(&key, &owner, Duration::from_secs(30))
        .await
        .unwrap()
    else {
        panic!("a lease on a fresh prefix is granted");
    };
    let other = LeaseOwner::new("owner-b").unwrap();
    assert!(
        matches!(
            b.acquire_lease(&key, &other, Duration::from_secs(30))
                .await
                .unwrap(),
            LeaseOutcome::Acquired(_)
        ),
        "a's lease does not hold b's account"
    );
    a.delete(&key).await.unwrap();
    assert_eq!(a.load(&key).await.unwrap(), None);
    assert_eq!(b.load(&key).await.unwrap().map(|v| v.version), Some(1));
    assert_eq!(
        b.list_accounts("ebay", None, 10).await.unwrap(),
        ["seller-1"]
    );
    a.release_lease(&key, &lease).await.unwrap();
}

#[tokio::test]
async fn an_expired_lease_is_taken_over_and_its_holder_fenced() {
    let store = store("lease-ttl").await;
    let key = AccountKey::new("aliexpress", "seller-7");
    let (one, two) = (
        LeaseOwner::new("holder-1").unwrap(),
        LeaseOwner::new("holder-2").unwrap(),
    );
    assert_eq!(
        store.save(&key, &tokens("v1"), None).await.unwrap(),
        SaveOutcome::Saved { version: 1 }
    );
    let before = SystemTime::now();
    let LeaseOutcome::Acquired(first) = store
        .acquire_lease(&key, &one, Duration::from_millis(250))
        .await
        .unwrap()
    else {
        panic!("first grant");
    };
    assert_eq!(first.owner, one);
    assert!(first.expires_at >= before + Duration::from_millis(250));
    assert!(first.expires_at <= SystemTime::now() + Duration::from_millis(250));
    match store
        .acquire_lease(&key, &two, Duration::from_secs(30))
        .await
        .unwrap()
    {
        LeaseOutcome::Held { expires_at } => {
            let now = SystemTime::now();
            assert!(expires_at > now && expires_at <= now + Duration::from_millis(250));
        }
        other => panic!("an unexpired lease is held, got {other:?}"),
    }
    // Let the key expire by its TTL on the server.
    tokio::time::sleep(Duration::from_millis(400)).await;
    let mut con = raw().await;
    let lease_key = format!("{}:{{10:aliexpress:seller-7}}:lease", store.prefix());
    let exists: i64 = redis::cmd("EXISTS")
        .arg(&lease_key)
        .query_async(&mut con)
        .await
        .unwrap();
    assert_eq!(exists, 0, "the lease key expired on the server");

    let LeaseOutcome::Acquired(second) = store
        .acquire_lease(&key, &two, Duration::from_secs(30))
        .await
        .unwrap()
    else {
        panic!("an expired lease is granted to another owner");
    };
    assert_eq!(second.fence, first.fence + 1);
    // The stalled holder wakes up: its save is fenced and writes nothing,
    // its release is a no-op.
    assert_eq!(
        store
            .save_fenced(&key, &tokens("stale"), Some(1), first.fence)
            .await
            .unwrap(),
        SaveOutcome::Fenced
    );
    store.release_lease(&key, &first).await.unwrap();
    assert!(matches!(
        store
            .acquire_lease(&key, &one, Duration::from_secs(30))
            .await
            .unwrap(),
        LeaseOutcome::Held { .. }
    ));
    assert_eq!(
        store
            .save_fenced(&key, &tokens("v2"), Some(1), second.fence)
            .await
            .unwrap(),
        SaveOutcome::Saved { version: 2 }
    );
    store.release_lease(&key, &second).await.unwrap();
    let exists: i64 = redis::cmd("EXISTS")
        .arg(&lease_key)
        .query_async(&mut con)
        .await
        .unwrap();
    assert_eq!(exists, 0, "released");
    // Deleting the entry keeps the fencing counter.
    store.delete(&key).await.unwrap();
    let LeaseOutcome::Acquired(third) = store
        .acquire_lease(&key, &one, Duration::from_secs(30))
        .await
        .unwrap()
    else {
        panic!("granted after the release");
    };
    assert_eq!(third.fence, second.fence + 1);
}

#[tokio::test]
async fn check_writable_probes_without_touching_entries() {
    let store = store("writable").await;
    let key = AccountKey::new("ebay", "seller-1");
    store.save(&key, &tokens("w"), None).await.unwrap();
    store.check_writable().await.unwrap();
    assert_eq!(store.load(&key).await.unwrap().map(|v| v.version), Some(1));
    let mut con = raw().await;
    let probe: i64 = redis::cmd("EXISTS")
        .arg(format!("{}:probe", store.prefix()))
        .query_async(&mut con)
        .await
        .unwrap();
    assert_eq!(probe, 0, "the probe key is removed");
}

#[tokio::test]
async fn check_writable_fails_for_a_user_that_cannot_write() {
    let prefix = unique_prefix("readonly");
    let user = format!("ro-{:x}", fastrand::u64(..));
    let password = format!("pw-{:x}", fastrand::u64(..));
    let mut con = raw().await;
    let _: () = redis::cmd("ACL")
        .arg("SETUSER")
        .arg(&user)
        .arg("on")
        .arg(format!(">{password}"))
        .arg("~*")
        .arg("+@all")
        .arg("-@write")
        .query_async(&mut con)
        .await
        .unwrap();
    let url = with_credentials(&redis_url(), &user, &password);
    let result = async {
        let store = RedisStore::builder(url).prefix(prefix).build().await?;
        store.check_writable().await
    }
    .await;
    let _: i64 = redis::cmd("ACL")
        .arg("DELUSER")
        .arg(&user)
        .query_async(&mut con)
        .await
        .unwrap();
    let e = result.unwrap_err();
    assert!(matches!(e, Error::Store { .. }), "{e:?}");
    assert!(e.to_string().contains("NOPERM"), "{e}");
    assert_hygienic(&e, &[&password]);
}

#[tokio::test]
async fn listing_pages_in_byte_order() {
    let store = store("listing").await;
    let ids = ["b", "a", "B", "é", "a b", "a/b", "10", "9", "z"];
    for id in ids {
        store
            .save(&AccountKey::new("ebay", id), &tokens(id), None)
            .await
            .unwrap();
    }
    store
        .save(&AccountKey::new("ebay2", "other"), &tokens("o"), None)
        .await
        .unwrap();
    let mut expected: Vec<&str> = ids.to_vec();
    expected.sort_unstable();
    assert_eq!(
        store.list_accounts("ebay", None, 100).await.unwrap(),
        expected
    );
    assert_eq!(
        store.list_accounts("ebay", None, 3).await.unwrap(),
        expected[..3]
    );
    assert_eq!(
        store.list_accounts("ebay", Some("a"), 2).await.unwrap(),
        ["a b", "a/b"]
    );
    assert_eq!(
        store.list_accounts("ebay", Some("y"), 5).await.unwrap(),
        ["z", "é"]
    );
    assert!(
        store
            .list_accounts("ebay", None, 0)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        oauth_core::list_all_accounts(&store, "ebay").await.unwrap(),
        expected
    );
}
