//! A PostgreSQL [`TokenStore`](oauth_core::TokenStore) for the commerce
//! OAuth toolkit: the tokens of every account in one table, shared by all
//! the replicas of an application, with compare-and-swap saves and fenced
//! refresh leases so that each account's refresh token is spent once per
//! expiry, whichever replica gets there first.
//!
//! ```no_run
//! use oauth_core::{AccessToken, AccountKey, TokenSet, TokenStore};
//! use oauth_store_postgres::PostgresStore;
//! use std::time::{Duration, SystemTime};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), oauth_core::Error> {
//! // Connects once (wrong addresses and passwords fail here), then creates
//! // or upgrades the table: safe to run from every replica at start-up.
//! let store = PostgresStore::builder("postgres://app:secret@db.internal/app?sslmode=require")
//!     .pool_size(4)
//!     .build()
//!     .await?;
//! store.migrate().await?;
//! store.check_writable().await?;
//!
//! let key = AccountKey::new("ebay", "seller-1");
//! let tokens = TokenSet::new(
//!     AccessToken::new("access-token"),
//!     SystemTime::now() + Duration::from_secs(7200),
//! );
//! store.save(&key, &tokens, None).await?;
//! assert_eq!(store.load(&key).await?.map(|v| v.version), Some(1));
//! # Ok(())
//! # }
//! ```
//!
//! Hand the store to a `TokenManager` or `TokenPool` (as an
//! `Arc<dyn TokenStore>`) like any other store; wrap it in oauth-core's
//! `EncryptedStore` (feature `encryption`) to keep the tokens
//! encrypted at rest (the table otherwise holds them in clear, readable by
//! whoever can read the table or its backups).
//!
//! # Setting up the database
//! - **Let the application do it**: [`PostgresStore::migrate`] creates the
//!   token table (`oauth_tokens` by default, see
//!   [`table`](PostgresStoreBuilder::table) and
//!   [`schema`](PostgresStoreBuilder::schema)) and the
//!   `oauth_store_schema` table that records its schema version, or
//!   upgrades them. It is idempotent, runs in one transaction and takes an
//!   advisory lock, so every replica can call it at start-up. The role
//!   needs the right to create tables in the schema.
//! - **Or let a DBA do it**: [`SCHEMA_SQL`] (also shipped as the crate's
//!   `sql/schema.sql`) is the same script for the default names;
//!   [`PostgresStore::schema_sql`] gives it for the configured ones. The
//!   application's role then only needs `SELECT, INSERT, UPDATE` on the
//!   token table and `SELECT` on `oauth_store_schema`
//!   (no `DELETE`: deleting an account keeps its row, see below).
//!
//! The table has one row per account, keyed by `(provider, account)` (both
//! `text COLLATE "C"`, so that listing is in byte order through the primary
//! key's index): the tokens (`jsonb`, `NULL` once deleted), their
//! `version`, the refresh lease (`lease_owner`, `lease_expires_at`), the
//! highest fencing number granted (`fence`) and `updated_at`. Deleting an
//! account's tokens keeps its row, so that its fencing number never goes
//! down; such rows are hidden from loads and listings.
//!
//! # What is guaranteed
//! - **Compare-and-swap**: every save names the version it replaces and is
//!   one conditional statement; a replica that lost the race gets
//!   [`SaveOutcome::Conflict`](oauth_core::lifecycle::SaveOutcome::Conflict)
//!   with the winner's tokens, never a lost update.
//! - **One refresh per account per expiry across replicas**: managers take
//!   the account's refresh lease before spending a refresh token. Leases
//!   are granted, refused and released by single conditional statements
//!   and expire by the server's clock (`clock_timestamp()`), so the
//!   replicas' clocks do not matter. Each grant raises the account's
//!   fencing number, and the holder's save is accepted only while its
//!   number is the highest: a replica that stalled past its lease and was
//!   overtaken cannot overwrite the newer holder's tokens.
//! - **Durability** is PostgreSQL's: a save is durable when its commit is.
//!   Keep `synchronous_commit` at `on` (the default), or `remote_apply` /
//!   `remote_write` with synchronous standbys if a fail-over must not lose
//!   a rotated refresh token; `off` can lose the last saves on a server
//!   crash, and a lost rotated refresh token means re-authorizing the
//!   seller.
//! - **No secrets in errors**: errors name the server (host, port,
//!   database), the table and what failed, with the server's SQLSTATE;
//!   never the connection string's password, a token or a statement's
//!   parameters (server messages of the classes that may quote values are
//!   reduced to their SQLSTATE).
//! - **No hanging on a lock or a dead connection**: every statement is
//!   bounded by the
//!   [`statement_timeout`](PostgresStoreBuilder::statement_timeout)
//!   (default [`DEFAULT_STATEMENT_TIMEOUT`], 10 s), see [Errors](#errors).
//!
//! # Errors
//! - [`Error::StoreBusy`](oauth_core::Error::StoreBusy) (retryable): no
//!   pooled connection became free within the
//!   [`wait_timeout`](PostgresStoreBuilder::wait_timeout), or connecting
//!   took too long; the server abandoned a statement and rolled it back
//!   (its `statement_timeout`, which the store sets on its connections, a
//!   `lock_timeout` or a cancel: SQLSTATE 57014, 55P03), so nothing was
//!   written; or a read (load, listing, write check) or a lease grant got
//!   no answer 1 s past the statement timeout (a lost connection, or the
//!   server's limit not in force). A lease grant without an answer may or
//!   may not have been made: if it was, it lapses at the end of its term,
//!   only delaying the other replicas.
//! - [`Error::Store`](oauth_core::Error::Store): everything else, among
//!   them a save, delete or lease release without an answer 1 s past the
//!   statement timeout, whose message says that the write *may or may not
//!   have been applied*.
//!
//! A connection whose statement got no answer is discarded, never handed
//! to another operation. The limit is per statement; most operations are
//! one, a refused save or lease reads once more, and a contended lease
//! grant is tried at most three times. [`PostgresStore::migrate`] is not
//! bounded. Behind a pooler that refuses the `options` startup parameter,
//! build with
//! [`server_statement_timeout(false)`](PostgresStoreBuilder::server_statement_timeout);
//! with a pool of yours the store keeps only its own limit: set
//! `statement_timeout` for the role then (`ALTER ROLE app SET
//! statement_timeout = '10s'`), or a statement the store gave up on may
//! still be applied later.
//!
//! # TLS
//! The connection string's `sslmode` decides: `disable` (never TLS),
//! `prefer` (the default: TLS when the server offers it) or `require`
//! (TLS or no connection). TLS needs the `tls` feature; the server's
//! certificate is then verified (CA and host name, whatever the `sslmode`)
//! by the platform's verifier, or as [`Tls`] says; with `prefer`, a server
//! that offers TLS with a certificate that does not verify is an error,
//! never a fallback to clear. Without the feature,
//! [`build`](PostgresStoreBuilder::build) refuses `sslmode=require`, and
//! `prefer` towards a host other than this machine (loopback addresses and
//! Unix sockets are fine): add `sslmode=disable` to connect in clear
//! knowingly.
//!
//! # Crate feature flags
//! - `tls` (off): TLS to the server with rustls (tokio-postgres-rustls),
//!   the ring crypto provider and the platform's verifier and trust store
//!   ([`Tls`], [`PostgresStoreBuilder::tls`]). Off, the build has no TLS
//!   stack at all (tokio-postgres and deadpool-postgres only).
//!
//! # Rust version policy
//! The minimum supported Rust version is the workspace's `rust-version`;
//! raising it is a minor-version change.
#![cfg_attr(docsrs, feature(doc_cfg))]
#![forbid(unsafe_code)]
#![warn(missing_docs)]
#![deny(rustdoc::broken_intra_doc_links)]

mod builder;
mod error;
mod schema;
mod store;
#[cfg(feature = "tls")]
mod tls;

pub use builder::{
    DEFAULT_CONNECT_TIMEOUT, DEFAULT_POOL_SIZE, DEFAULT_STATEMENT_TIMEOUT, DEFAULT_WAIT_TIMEOUT,
    PostgresStoreBuilder,
};
pub use schema::{DEFAULT_TABLE, SCHEMA_SQL, SCHEMA_TABLE, SCHEMA_VERSION};
pub use store::PostgresStore;
#[cfg(feature = "tls")]
#[cfg_attr(docsrs, doc(cfg(feature = "tls")))]
pub use tls::Tls;

/// Re-exported `deadpool-postgres` (and through it `tokio-postgres`), for
/// [`PostgresStore::from_pool`] and [`PostgresStore::pool`].
pub use deadpool_postgres;
/// Re-exported `rustls`, for [`Tls::from_config`].
#[cfg(feature = "tls")]
#[cfg_attr(docsrs, doc(cfg(feature = "tls")))]
pub use rustls;
