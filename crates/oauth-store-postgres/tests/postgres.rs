//! Tests against a real PostgreSQL server, named by `OAUTH_TEST_POSTGRES_URL`
//! (e.g. `postgres://postgres@127.0.0.1:5432/postgres`, a role that may
//! create tables and roles). Without it every test fails, saying how to run
//! them: `cargo xtask with-servers -- cargo test -p oauth-store-postgres`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use oauth_core::lifecycle::{LeaseOutcome, LeaseOwner, SaveOutcome};
use oauth_core::test_util::store_conformance::check_store_with_leases;
use oauth_core::{AccessToken, AccountKey, Error, RefreshToken, TokenSet, TokenStore};
use oauth_store_postgres::{DEFAULT_TABLE, PostgresStore, SCHEMA_SQL, SCHEMA_VERSION};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

/// The test server's URL, or a failure that says how to get one.
fn url() -> String {
    match std::env::var("OAUTH_TEST_POSTGRES_URL") {
        Ok(url) if !url.is_empty() => url,
        _ => panic!(
            "OAUTH_TEST_POSTGRES_URL is not set: these tests need a PostgreSQL server. Run them \
             with `cargo xtask with-servers -- cargo test -p oauth-store-postgres`, or set \
             OAUTH_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/postgres (a role that \
             may create tables and roles) yourself"
        ),
    }
}

/// `url` with `key=value` added to its query.
fn with_param(url: &str, param: &str) -> String {
    if url.contains('?') {
        format!("{url}&{param}")
    } else {
        format!("{url}?{param}")
    }
}

/// A name unique to this run: `prefix_<random>`.
fn unique(prefix: &str) -> String {
    let nanos = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!(
        "{prefix}_{:x}_{:x}",
        std::process::id(),
        nanos & 0xffff_ffff_ffff
    )
}

/// A store on a pool of its own, on `table`, migrated.
async fn store_on(table: &str) -> PostgresStore {
    let store = PostgresStore::builder(url())
        .pool_size(4)
        .table(table)
        .build()
        .await
        .unwrap();
    store.migrate().await.unwrap();
    store
}

fn tokens(access: &str) -> TokenSet {
    TokenSet::new(
        AccessToken::new(access),
        SystemTime::now() + Duration::from_secs(3600),
    )
    .with_refresh_token(RefreshToken::new(format!("{access}-refresh")), None)
}

/// Runs SQL as the test role (table and role set-up for a test).
async fn admin(sql: &str) {
    let store = PostgresStore::connect(&url()).await.unwrap();
    let client = store.pool().get().await.unwrap();
    client.batch_execute(sql).await.unwrap();
}

/// Asserts that neither rendering of `error` contains any of `secrets`.
fn assert_clean(error: &Error, secrets: &[&str]) {
    let shown = format!("{error} / {error:?}");
    for secret in secrets {
        assert!(!shown.contains(secret), "{secret:?} shown in: {shown}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conformance_suite_on_two_pools() {
    // Two stores, two pools, one table: as two replicas would share it.
    let a = store_on(DEFAULT_TABLE).await;
    let b = store_on(DEFAULT_TABLE).await;
    check_store_with_leases(Arc::new(a), Arc::new(b)).await;
}

#[tokio::test]
async fn migration_is_idempotent_and_versioned() {
    let table = unique("idem");
    let store = PostgresStore::builder(url())
        .table(&table)
        .build()
        .await
        .unwrap();
    assert_eq!(store.schema_version().await.unwrap(), None);
    store.migrate().await.unwrap();
    assert_eq!(store.schema_version().await.unwrap(), Some(SCHEMA_VERSION));

    let key = AccountKey::new("idem", "seller-1");
    assert_eq!(
        store.save(&key, &tokens("idem-1"), None).await.unwrap(),
        SaveOutcome::Saved { version: 1 }
    );
    // Again and again: nothing changes, nothing is lost.
    store.migrate().await.unwrap();
    store.migrate().await.unwrap();
    assert_eq!(store.schema_version().await.unwrap(), Some(SCHEMA_VERSION));
    assert_eq!(store.load(&key).await.unwrap().map(|v| v.version), Some(1));

    // A table at a newer schema version than this release knows is refused.
    admin(&format!(
        "UPDATE oauth_store_schema SET version = {} WHERE table_name = '{table}'",
        SCHEMA_VERSION + 1
    ))
    .await;
    let error = store.migrate().await.unwrap_err();
    assert!(
        matches!(&error, Error::Store { message } if message.contains("newer")),
        "{error:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_migrations_from_four_tasks() {
    let table = unique("race");
    let mut tasks = Vec::new();
    for _ in 0..4 {
        let table = table.clone();
        tasks.push(tokio::spawn(async move {
            // A pool each: four replicas starting together.
            let store = PostgresStore::builder(url())
                .pool_size(1)
                .table(table)
                .build()
                .await
                .unwrap();
            store.migrate().await.map(|()| store)
        }));
    }
    let mut stores = Vec::new();
    for task in tasks {
        stores.push(task.await.unwrap().unwrap());
    }
    for store in &stores {
        assert_eq!(store.schema_version().await.unwrap(), Some(SCHEMA_VERSION));
    }
    let key = AccountKey::new("race", "seller-1");
    assert_eq!(
        stores[0].save(&key, &tokens("race-1"), None).await.unwrap(),
        SaveOutcome::Saved { version: 1 }
    );
    assert_eq!(
        stores[3].load(&key).await.unwrap().map(|v| v.version),
        Some(1)
    );
}

#[tokio::test]
async fn the_shipped_sql_creates_what_migrate_expects() {
    // The DBA's way: the script in a schema of its own, then the store.
    let schema = unique("dba");
    let store_schema_sql = {
        let store = PostgresStore::builder(url())
            .schema(&schema)
            .check_connection(false)
            .build()
            .await
            .unwrap();
        store.schema_sql()
    };
    assert!(SCHEMA_SQL.contains("\"oauth_tokens\""));
    admin(&format!("CREATE SCHEMA {schema}")).await;
    admin(&store_schema_sql).await;
    let store = PostgresStore::builder(url())
        .schema(&schema)
        .build()
        .await
        .unwrap();
    assert_eq!(store.schema_version().await.unwrap(), Some(SCHEMA_VERSION));
    store.migrate().await.unwrap(); // nothing to do
    store.check_writable().await.unwrap();
    let key = AccountKey::new("dba", "seller-1");
    store.save(&key, &tokens("dba-1"), None).await.unwrap();
    assert_eq!(
        store.list_accounts("dba", None, 10).await.unwrap(),
        ["seller-1"]
    );
}

#[tokio::test]
async fn connects_without_tls() {
    // The test URL has no sslmode (`prefer`): in clear towards this machine,
    // with or without the `tls` feature; `sslmode=disable` too.
    let store = PostgresStore::connect(&url()).await.unwrap();
    store.migrate().await.unwrap();
    store.check_writable().await.unwrap();
    let store = PostgresStore::connect(&with_param(&url(), "sslmode=disable"))
        .await
        .unwrap();
    store.check_writable().await.unwrap();
}

#[cfg(not(feature = "tls"))]
#[tokio::test]
async fn without_the_tls_feature_tls_is_refused_not_skipped() {
    // sslmode=require cannot be honoured: refused before connecting.
    let error = PostgresStore::connect(&with_param(&url(), "sslmode=require"))
        .await
        .unwrap_err();
    assert!(
        matches!(&error, Error::Configuration { message } if message.contains("tls")),
        "{error:?}"
    );
    // `prefer` towards another machine would silently go in clear: refused
    // (nothing is sent: the check comes first; TEST-NET-1 is never routed).
    let error = PostgresStore::connect("postgres://app:pw@192.0.2.1:5432/app")
        .await
        .unwrap_err();
    assert!(
        matches!(&error, Error::Configuration { message } if message.contains("sslmode=disable")),
        "{error:?}"
    );
}

#[tokio::test]
async fn errors_never_show_the_password_tokens_or_parameters() {
    const PASSWORD: &str = "Pw-d0nt-leak-9431";
    // A role that logs in with a password (the throwaway server of `cargo
    // xtask with-servers` trusts every other role, not this one).
    admin(
        "DO $$ BEGIN \
           IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'oauth_pw_test') THEN \
             CREATE ROLE oauth_pw_test LOGIN PASSWORD 'right-password-1'; \
           END IF; END $$",
    )
    .await;
    let base = tokio_postgres_config();
    let host = base.0;
    let port = base.1;

    // A wrong password.
    let wrong = format!("postgres://oauth_pw_test:{PASSWORD}@{host}:{port}/postgres");
    match PostgresStore::connect(&wrong).await {
        Err(error) => {
            assert!(matches!(error, Error::Store { .. }), "{error:?}");
            assert_clean(&error, &[PASSWORD, &wrong]);
            assert!(
                error.to_string().contains(&format!("{host}:{port}")),
                "{error}"
            );
        }
        Ok(_) => panic!(
            "the server let oauth_pw_test in without its password: this test needs a server \
             that asks it for one (`cargo xtask with-servers` starts such a server)"
        ),
    }
    // A database that does not exist, with a password in the URL.
    let missing = format!("postgres://oauth_pw_test:{PASSWORD}@{host}:{port}/no_such_db_x");
    if let Err(error) = PostgresStore::connect(&missing).await {
        assert_clean(&error, &[PASSWORD, &missing]);
    }
    // A port nobody listens on.
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let unreachable = format!("postgres://oauth_pw_test:{PASSWORD}@127.0.0.1:{closed}/postgres");
    let error = PostgresStore::connect(&unreachable).await.unwrap_err();
    assert!(matches!(error, Error::Store { .. }), "{error:?}");
    assert_clean(&error, &[PASSWORD, &unreachable]);
    assert!(error.to_string().contains("refused"), "{error}");
    // The builder's Debug hides the connection string.
    let builder = PostgresStore::builder(unreachable.clone());
    assert!(!format!("{builder:?}").contains(PASSWORD));
    // An unparsable connection string with a password in it.
    let garbled = format!("postgres://u:{PASSWORD}@127.0.0.1:notaport/db");
    let error = PostgresStore::connect(&garbled).await.unwrap_err();
    assert!(matches!(error, Error::Configuration { .. }), "{error:?}");
    assert_clean(&error, &[PASSWORD]);
    let garbled = format!("host=127.0.0.1 password='{PASSWORD}");
    let error = PostgresStore::connect(&garbled).await.unwrap_err();
    assert_clean(&error, &[PASSWORD]);

    // Tokens: a save to a table that does not exist, a row that is not a
    // token set; neither error shows the tokens or the stored text.
    let store = PostgresStore::builder(url())
        .table(unique("missing"))
        .build()
        .await
        .unwrap();
    let key = AccountKey::new("hygiene", "seller-1");
    let secret = "tok-s3cret-hygiene-1";
    let error = store.save(&key, &tokens(secret), None).await.unwrap_err();
    assert!(error.to_string().contains("migrate"), "{error}");
    assert_clean(&error, &[secret]);

    let table = unique("corrupt");
    let store = store_on(&table).await;
    admin(&format!(
        "INSERT INTO {table} (provider, account, tokens, version) \
         VALUES ('hygiene', 'seller-1', '{{\"access_token\": \"{secret}\", \"expires_at\": \"{secret}\"}}', 1)"
    ))
    .await;
    let error = store.load(&key).await.unwrap_err();
    assert_clean(&error, &[secret]);
    // A value the server rejects (a version out of range for the column is
    // impossible from the API; a NUL is refused before any SQL).
    let nul = AccountKey::new("hygiene", "seller\0x");
    let error = store.save(&nul, &tokens(secret), None).await.unwrap_err();
    assert_clean(&error, &[secret]);
    assert!(!format!("{store:?}").contains(PASSWORD));
}

/// The test URL's host and port.
fn tokio_postgres_config() -> (String, u16) {
    use oauth_store_postgres::deadpool_postgres::tokio_postgres::config::{Config, Host};
    let config: Config = url().parse().unwrap();
    let host = match config.get_hosts().first() {
        Some(Host::Tcp(host)) => host.clone(),
        _ => "127.0.0.1".to_owned(),
    };
    (host, config.get_ports().first().copied().unwrap_or(5432))
}

#[tokio::test]
async fn table_names_are_validated() {
    for bad in [
        "",
        "Tokens",
        "1tokens",
        "tokens;drop",
        "a\"b",
        "oauth_store_schema",
    ] {
        let error = PostgresStore::builder(url())
            .table(bad)
            .build()
            .await
            .unwrap_err();
        assert!(
            matches!(error, Error::Configuration { .. }),
            "{bad}: {error:?}"
        );
    }
    let error = PostgresStore::builder(url())
        .schema("public.x")
        .build()
        .await
        .unwrap_err();
    assert!(matches!(error, Error::Configuration { .. }), "{error:?}");
    let error = PostgresStore::builder(url())
        .pool_size(0)
        .build()
        .await
        .unwrap_err();
    assert!(matches!(error, Error::Configuration { .. }), "{error:?}");
    // A reserved word is fine: names are always quoted.
    let store = store_on(&unique("order")).await;
    store.check_writable().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn leases_across_two_pools_expire_by_the_servers_clock() {
    let table = unique("lease");
    let a = store_on(&table).await;
    let b = store_on(&table).await;
    let key = AccountKey::new("lease", "seller-1");
    assert_eq!(
        a.save(&key, &tokens("lease-1"), None).await.unwrap(),
        SaveOutcome::Saved { version: 1 }
    );
    let owner_a = LeaseOwner::new("replica-a").unwrap();
    let owner_b = LeaseOwner::new("replica-b").unwrap();

    let LeaseOutcome::Acquired(lease_a) = a
        .acquire_lease(&key, &owner_a, Duration::from_millis(800))
        .await
        .unwrap()
    else {
        panic!("the first owner gets the lease");
    };
    // The expiry is the server's: the very value in the row.
    let client = a.pool().get().await.unwrap();
    let row = client
        .query_one(
            &format!(
                "SELECT lease_expires_at, fence, lease_owner, clock_timestamp() FROM {table} \
                 WHERE provider = 'lease' AND account = 'seller-1'"
            ),
            &[],
        )
        .await
        .unwrap();
    let stored: SystemTime = row.get(0);
    assert_eq!(stored, lease_a.expires_at);
    assert_eq!(row.get::<_, i64>(1), i64::try_from(lease_a.fence).unwrap());
    assert_eq!(row.get::<_, &str>(2), "replica-a");
    let server_now: SystemTime = row.get(3);
    let left = lease_a.expires_at.duration_since(server_now).unwrap();
    assert!(left <= Duration::from_millis(800), "{left:?}");

    // The other replica is refused, with the holder's expiry.
    match b
        .acquire_lease(&key, &owner_b, Duration::from_secs(30))
        .await
        .unwrap()
    {
        LeaseOutcome::Held { expires_at } => assert_eq!(expires_at, lease_a.expires_at),
        other => panic!("the lease is held: {other:?}"),
    }
    // Past the expiry (by the server's clock), the other replica gets it,
    // with a higher fence; the first one's fenced save is then refused.
    tokio::time::sleep(Duration::from_millis(900)).await;
    let LeaseOutcome::Acquired(lease_b) = b
        .acquire_lease(&key, &owner_b, Duration::from_secs(30))
        .await
        .unwrap()
    else {
        panic!("an expired lease is granted to another owner");
    };
    assert!(lease_b.fence > lease_a.fence);
    assert_eq!(
        a.save_fenced(&key, &tokens("lease-a"), Some(1), lease_a.fence)
            .await
            .unwrap(),
        SaveOutcome::Fenced
    );
    assert_eq!(
        b.save_fenced(&key, &tokens("lease-b"), Some(1), lease_b.fence)
            .await
            .unwrap(),
        SaveOutcome::Saved { version: 2 }
    );
    // A stale release is a no-op; the holder's own release frees it.
    a.release_lease(&key, &lease_a).await.unwrap();
    assert!(matches!(
        a.acquire_lease(&key, &owner_a, Duration::from_secs(30))
            .await
            .unwrap(),
        LeaseOutcome::Held { .. }
    ));
    b.release_lease(&key, &lease_b).await.unwrap();
    assert!(matches!(
        a.acquire_lease(&key, &owner_a, Duration::from_secs(30))
            .await
            .unwrap(),
        LeaseOutcome::Acquired(lease) if lease.fence > lease_b.fence
    ));
}

#[tokio::test]
async fn check_writable_refuses_a_read_only_role_and_session() {
    let table = unique("ro");
    let store = store_on(&table).await;
    store.check_writable().await.unwrap();
    admin(&format!(
        "DO $$ BEGIN \
           IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'oauth_ro_test') THEN \
             CREATE ROLE oauth_ro_test LOGIN PASSWORD 'ro-password-1'; \
           END IF; END $$; \
         GRANT SELECT ON {table} TO oauth_ro_test"
    ))
    .await;
    let (host, port) = tokio_postgres_config();
    let reader = PostgresStore::builder(format!(
        "postgres://oauth_ro_test:ro-password-1@{host}:{port}/postgres"
    ))
    .table(&table)
    .build()
    .await
    .unwrap();
    let error = reader.check_writable().await.unwrap_err();
    assert!(
        matches!(&error, Error::Store { message } if message.contains("lacks")),
        "{error:?}"
    );
    // A session that is read-only.
    let read_only = PostgresStore::builder(with_param(
        &url(),
        "options=-c%20default_transaction_read_only%3Don",
    ))
    .table(&table)
    .build()
    .await
    .unwrap();
    let error = read_only.check_writable().await.unwrap_err();
    assert!(
        matches!(&error, Error::Store { message } if message.contains("read-only")),
        "{error:?}"
    );
    // And its save fails too, without showing the token.
    let error = read_only
        .save(&AccountKey::new("ro", "s"), &tokens("ro-secret-1"), None)
        .await
        .unwrap_err();
    assert_clean(&error, &["ro-secret-1"]);
}

#[tokio::test]
async fn pool_exhaustion_is_store_busy() {
    let store = PostgresStore::builder(url())
        .pool_size(1)
        .wait_timeout(Duration::from_millis(200))
        .build()
        .await
        .unwrap();
    store.migrate().await.unwrap();
    let _held = store.pool().get().await.unwrap();
    let error = store
        .load(&AccountKey::new("busy", "seller-1"))
        .await
        .unwrap_err();
    assert!(matches!(error, Error::StoreBusy { .. }), "{error:?}");
    assert!(error.is_retryable());
}

#[cfg(feature = "tls")]
#[tokio::test]
async fn with_the_tls_feature_require_insists_on_tls() {
    use oauth_store_postgres::Tls;
    // The test server may or may not offer TLS; with `require` either the
    // handshake succeeds (verified) or the connection fails cleanly.
    match PostgresStore::connect(&with_param(&url(), "sslmode=require")).await {
        Ok(store) => store.check_writable().await.unwrap(),
        Err(error) => {
            assert!(matches!(error, Error::Store { .. }), "{error:?}");
            assert!(error.to_string().contains("TLS"), "{error}");
        }
    }
    // CA certificates that are not PEM are refused at once.
    let error = Tls::with_root_certificates_pem(b"not a certificate").unwrap_err();
    assert!(matches!(error, Error::Configuration { .. }), "{error:?}");
    // A custom configuration is taken as it is.
    let tls = Tls::platform_verifier().unwrap();
    let store = PostgresStore::builder(with_param(&url(), "sslmode=disable"))
        .tls(tls)
        .build()
        .await
        .unwrap();
    store.check_writable().await.unwrap();
}

/// A store on `table` (migrated) with a statement timeout of 1 s.
async fn store_with_limit(table: &str, server_side: bool, pool_size: usize) -> PostgresStore {
    let store = PostgresStore::builder(url())
        .pool_size(pool_size)
        .table(table)
        .statement_timeout(Duration::from_secs(1))
        .server_statement_timeout(server_side)
        .build()
        .await
        .unwrap();
    store.migrate().await.unwrap();
    store
}

/// Another session, which opens a transaction and locks `key`'s row of
/// `table` (`FOR UPDATE`), plus the whole table when `whole_table`.
async fn lock_row(table: &str, key: &AccountKey, whole_table: bool) -> deadpool_postgres::Object {
    let other = PostgresStore::connect(&url()).await.unwrap();
    let session = other.pool().get().await.unwrap();
    session
        .batch_execute(&format!(
            "BEGIN; SELECT 1 FROM {table} WHERE provider = '{}' AND account = '{}' FOR UPDATE",
            key.provider(),
            key.account()
        ))
        .await
        .unwrap();
    if whole_table {
        session
            .batch_execute(&format!("LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE"))
            .await
            .unwrap();
    }
    session
}

/// Runs `op`, asserting that it fails after about `from`..`to` seconds,
/// and returns its error.
async fn fails_in<T: std::fmt::Debug>(
    from: f64,
    to: f64,
    op: impl Future<Output = Result<T, Error>>,
) -> Error {
    let started = std::time::Instant::now();
    let error = op.await.unwrap_err();
    let took = started.elapsed().as_secs_f64();
    assert!(
        (from..to).contains(&took),
        "failed after {took:.2} s, not within {from}..{to} s: {error:?}"
    );
    error
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_locked_row_fails_saves_and_leases_within_the_statement_timeout() {
    let table = unique("locked");
    let store = store_with_limit(&table, true, 2).await;
    let key = AccountKey::new("locked", "seller-1");
    let owner = LeaseOwner::new("replica-a").unwrap();
    assert_eq!(
        store.save(&key, &tokens("locked-1"), None).await.unwrap(),
        SaveOutcome::Saved { version: 1 }
    );

    let holder = lock_row(&table, &key, false).await;
    // The server abandons the statement at 1 s and rolls it back: busy
    // (retryable), nothing written.
    let error = fails_in(0.8, 3.0, store.save(&key, &tokens("locked-2"), Some(1))).await;
    assert!(matches!(error, Error::StoreBusy { .. }), "{error:?}");
    assert!(error.to_string().contains("nothing was written"), "{error}");
    assert_clean(&error, &["locked-2"]);
    let error = fails_in(
        0.8,
        3.0,
        store.acquire_lease(&key, &owner, Duration::from_secs(30)),
    )
    .await;
    assert!(matches!(error, Error::StoreBusy { .. }), "{error:?}");
    // A row lock does not stop reads.
    assert_eq!(store.load(&key).await.unwrap().map(|v| v.version), Some(1));
    // A table lock does: bounded too.
    holder
        .batch_execute(&format!("LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE"))
        .await
        .unwrap();
    let error = fails_in(0.8, 3.0, store.load(&key)).await;
    assert!(matches!(error, Error::StoreBusy { .. }), "{error:?}");
    holder.batch_execute("ROLLBACK").await.unwrap();

    // Nothing was written, and everything works again.
    let stored = store.load(&key).await.unwrap().unwrap();
    assert_eq!(stored.version, 1);
    assert_eq!(stored.tokens.access_token.expose_secret(), "locked-1");
    assert_eq!(
        store
            .save(&key, &tokens("locked-3"), Some(1))
            .await
            .unwrap(),
        SaveOutcome::Saved { version: 2 }
    );
    assert!(matches!(
        store
            .acquire_lease(&key, &owner, Duration::from_secs(30))
            .await
            .unwrap(),
        LeaseOutcome::Acquired(_)
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_the_servers_limit_the_store_gives_up_and_discards_the_connection() {
    let table = unique("gaveup");
    // One connection: a connection left waiting for a lost answer would
    // block every later operation if it went back to the pool.
    let store = store_with_limit(&table, false, 1).await;
    let key = AccountKey::new("gaveup", "seller-1");
    let owner = LeaseOwner::new("replica-a").unwrap();
    store.save(&key, &tokens("gaveup-1"), None).await.unwrap();

    let holder = lock_row(&table, &key, false).await;
    let error = fails_in(0.8, 3.0, store.save(&key, &tokens("gaveup-2"), Some(1))).await;
    assert!(matches!(error, Error::Store { .. }), "{error:?}");
    assert!(
        error
            .to_string()
            .contains("the write may or may not have been applied"),
        "{error}"
    );
    assert_clean(&error, &["gaveup-2"]);
    let error = fails_in(
        0.8,
        3.0,
        store.acquire_lease(&key, &owner, Duration::from_secs(30)),
    )
    .await;
    assert!(matches!(error, Error::StoreBusy { .. }), "{error:?}");
    assert!(error.is_retryable());
    assert!(
        error
            .to_string()
            .contains("may or may not have been granted"),
        "{error}"
    );
    let error = fails_in(0.8, 3.0, store.delete(&key)).await;
    assert!(matches!(error, Error::Store { .. }), "{error:?}");
    // The statements given up on still wait for the row on the server, and
    // run once it is free (the save, the grant and the delete may or may
    // not happen): a table lock on this table could deadlock with them, so
    // the reads are tried on a table of their own.
    holder.batch_execute("ROLLBACK").await.unwrap();

    let read_table = unique("gaveup_reads");
    let reader = store_with_limit(&read_table, false, 1).await;
    reader.save(&key, &tokens("gaveup-r"), None).await.unwrap();
    let holder = lock_row(&read_table, &key, true).await;
    let error = fails_in(0.8, 3.0, reader.load(&key)).await;
    assert!(matches!(error, Error::StoreBusy { .. }), "{error:?}");
    let error = fails_in(0.8, 3.0, reader.list_accounts("gaveup", None, 10)).await;
    assert!(matches!(error, Error::StoreBusy { .. }), "{error:?}");
    holder.batch_execute("ROLLBACK").await.unwrap();

    // The store works again, on a fresh connection.
    let current = store.load(&key).await.unwrap();
    let version = current.as_ref().map(|v| v.version);
    assert!(matches!(
        store
            .save(&key, &tokens("gaveup-3"), version)
            .await
            .unwrap(),
        SaveOutcome::Saved { .. }
    ));
    assert!(matches!(
        store
            .acquire_lease(&key, &owner, Duration::from_secs(30))
            .await
            .unwrap(),
        LeaseOutcome::Acquired(_)
    ));
}

#[tokio::test]
async fn the_statement_timeout_is_validated_and_set_on_the_server() {
    for bad in [Duration::ZERO, Duration::from_secs(30 * 24 * 3600)] {
        let error = PostgresStore::builder(url())
            .statement_timeout(bad)
            .build()
            .await
            .unwrap_err();
        assert!(matches!(error, Error::Configuration { .. }), "{error:?}");
    }
    let pool = PostgresStore::connect(&url()).await.unwrap().pool().clone();
    let error = PostgresStore::builder_from_pool(pool.clone())
        .server_statement_timeout(true)
        .build()
        .await
        .unwrap_err();
    assert!(matches!(error, Error::Configuration { .. }), "{error:?}");
    // The store's own limit is kept with a pool of yours.
    PostgresStore::builder_from_pool(pool)
        .statement_timeout(Duration::from_secs(2))
        .build()
        .await
        .unwrap();

    async fn server_setting(store: &PostgresStore) -> String {
        let client = store.pool().get().await.unwrap();
        let row = client
            .query_one("SHOW statement_timeout", &[])
            .await
            .unwrap();
        row.get(0)
    }
    let store = PostgresStore::builder(url())
        .statement_timeout(Duration::from_millis(1500))
        .build()
        .await
        .unwrap();
    assert_eq!(server_setting(&store).await, "1500ms");
    let store = PostgresStore::connect(&url()).await.unwrap();
    assert_eq!(server_setting(&store).await, "10s");
    // The connection string's own options win.
    let store = PostgresStore::connect(&with_param(&url(), "options=-c%20statement_timeout%3D7s"))
        .await
        .unwrap();
    assert_eq!(server_setting(&store).await, "7s");
    let store = PostgresStore::builder(url())
        .server_statement_timeout(false)
        .build()
        .await
        .unwrap();
    assert_ne!(server_setting(&store).await, "10s");
}
