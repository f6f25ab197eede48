//! A Redis token store for the commerce OAuth toolkit.
//!
//! [`RedisStore`] implements [`oauth_core::TokenStore`] on a Redis (or
//! Valkey) server, for services that run several instances sharing one set
//! of tokens: every read-check-write is one server-side Lua script, so
//! saves are compare-and-swap on a version, and refresh **leases** are
//! owned and fenced: one refresh per account across all instances, and a
//! holder that stalled past its lease cannot overwrite the work of the one
//! that took over.
//!
//! ```no_run
//! use oauth_core::{AccessToken, AccountKey, TokenSet, TokenStore};
//! use oauth_store_redis::{Durability, RedisStore, Timeouts};
//! use std::time::{Duration, SystemTime};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), oauth_core::Error> {
//! let store = RedisStore::builder("redis://:password@127.0.0.1:6379/0")
//!     .prefix("shop-prod")
//!     .timeouts(Timeouts::new(Duration::from_secs(2), Duration::from_secs(2)))
//!     .build()
//!     .await?;
//! if store.durability() != Durability::Always {
//!     // A warning was logged; decide whether to accept the window.
//! }
//! store.check_writable().await?;
//!
//! let key = AccountKey::new("ebay", "seller-1");
//! let tokens = TokenSet::new(
//!     AccessToken::new("access-token"),
//!     SystemTime::now() + Duration::from_secs(7200),
//! );
//! store.save(&key, &tokens, None).await?;
//! assert_eq!(store.load(&key).await?.map(|v| v.version), Some(1));
//! assert_eq!(store.list_accounts("ebay", None, 100).await?, ["seller-1"]);
//! # Ok(())
//! # }
//! ```
//!
//! Give the store to a token manager or pool as any other store
//! (`Arc::new(store)`); wrap it in oauth-core's `EncryptedStore` to keep the
//! tokens encrypted at rest in Redis.
//!
//! # Setup
//! - **Server**: Redis 6.2 or later (listing uses `ZRANGE … BYLEX`), or
//!   Valkey; a standalone primary. Redis Cluster is **not** supported: the
//!   client connects to one node, and a save updates the account's entry
//!   and its provider's listing (a per-provider sorted set, in another slot)
//!   in one script. The keys of one account do share a hash tag, so they
//!   would stay together in one slot.
//! - **Persistence**: `appendonly yes` and `appendfsync always` (see
//!   [Durability](#durability)); `maxmemory-policy noeviction`, the only
//!   safe policy (see [`Eviction`]): `volatile-*` policies can evict live
//!   refresh leases.
//! - **User** (ACL): the store runs `EVALSHA`/`EVAL` (and `SCRIPT LOAD`),
//!   `HMGET`, `ZRANGE`, `PING`, and reads `CONFIG GET` when built (optional:
//!   without it, durability is [`Durability::Unknown`]). The scripts call
//!   `GET`, `SET`, `DEL`, `INCR`, `PTTL`, `HMGET`, `HSET`, `ZADD`, `ZREM`
//!   on keys under the prefix: e.g.
//!   `ACL SETUSER tokens on >PASSWORD ~oauth:* +evalsha +eval +script|load +hmget +zrange +ping +get +set +del +incr +pttl +hset +zadd +zrem +config|get`.
//! - **URL**: `redis://[user:password@]host[:port][/db]`, `unix:///path`, or
//!   `rediss://…` with the `tls` feature.
//!
//! # Key layout
//! With the prefix `P` (default `oauth`, set with
//! [`RedisStoreBuilder::prefix`]), a provider `prov` of `n` bytes and an
//! account `acct`:
//!
//! | key | type | holds |
//! | --- | --- | --- |
//! | `P:{n:prov:acct}:tok` | hash | `v`: the version, `t`: the token set (JSON) |
//! | `P:{n:prov:acct}:lease` | string, `PX` expiry | `FENCE OWNER` of the current lease |
//! | `P:{n:prov:acct}:fence` | integer | the highest fencing number granted |
//! | `P:idx:n:prov` | sorted set, scores 0 | the provider's account ids |
//! | `P:probe` | string | written and deleted by `check_writable` |
//!
//! The byte length `n` keeps the layout unambiguous whatever the names
//! contain; prefixes cannot contain `:`, so stores with different prefixes
//! never share a key. Fencing counters stay after a delete (fencing numbers
//! never go down): one small key per account that ever took a lease.
//!
//! # Guarantees
//! - **Compare-and-swap saves**: a save names the version it replaces and
//!   is refused ([`SaveOutcome::Conflict`](oauth_core::lifecycle::SaveOutcome),
//!   with what is stored) otherwise; the entry and the listing change
//!   together, atomically.
//! - **Leases** (the contract of `oauth_core::lifecycle::lease`): acquiring
//!   increments the account's fencing counter (`INCR`, never reset) and
//!   sets the lease key to `FENCE OWNER` with a `PX` expiry, unless another
//!   owner's lease is unexpired, when the answer is `Held` with the
//!   remaining time (`PTTL`). Releasing deletes the lease only if it still
//!   holds that fence and owner. A fenced save is accepted only while its
//!   fence is the counter's value, whether or not the lease expired
//!   meanwhile. Expiry is the server's clock; the `expires_at` returned is
//!   the local clock plus the time to live, counted from before the
//!   request (so it errs early). Times to live are whole milliseconds
//!   (rounded up), at most [`MAX_LEASE_TTL`].
//! - **Listing** without `KEYS` or `SCAN`: `ZRANGE key (after + BYLEX LIMIT
//!   0 limit` on the provider's sorted set, whose members all score 0, so
//!   they come in byte order, as [`str`]'s `Ord` sorts them.
//! - **Bounded waits**: every operation is bounded by [`Timeouts`]; the
//!   connection is re-established after a failure.
//! - **Errors** ([`oauth_core::Error::Store`], or
//!   [`StoreBusy`](oauth_core::Error::StoreBusy) when the server is
//!   loading, running a long script, or a read timed out) name the
//!   operation, the account and the server's error code; never the URL,
//!   its password, a token or a script argument. A write that timed out is
//!   reported as possibly applied.
//! - [`check_writable`](oauth_core::TokenStore::check_writable) writes and
//!   deletes a scratch key (`P:probe`) through a script: it fails on a
//!   read-only replica (`READONLY`), a full server (`OOM`), a server that
//!   cannot persist (`MISCONF`), or a user without write permission, and
//!   never touches an entry.
//!
//! # Durability
//! A rotated refresh token may exist nowhere but in the store: if the server
//! loses the write that saved it, the account needs a new authorization.
//! When built, the store reads `CONFIG GET appendonly` and `appendfsync`
//! and keeps the finding ([`RedisStore::durability`]):
//!
//! | server | [`Durability`] | logged |
//! | --- | --- | --- |
//! | `appendonly yes`, `appendfsync always` | `Always` | nothing |
//! | `appendonly yes`, `appendfsync everysec` | `EverySecond` | info: up to ~1 s of writes can be lost |
//! | `appendonly yes`, `appendfsync no` | `OsFlush` | warning |
//! | `appendonly no` | `NotPersisted` | warning: a restart can lose writes |
//! | `CONFIG` unavailable (managed services) | `Unknown` | warning: cannot be checked |
//!
//! What a token store needs: the append-only file with `appendfsync
//! always`, or a deliberate acceptance of the ~1 s window of `everysec`
//! (Redis's default when AOF is on). Replication does not replace it: a
//! replica is updated asynchronously, so a failover can lose acknowledged
//! writes too. It also reads `maxmemory-policy` ([`RedisStore::eviction`])
//! and warns unless it is `noeviction`.
//!
//! **Lease exclusion and fencing need `maxmemory-policy noeviction` and no
//! lost writes** (AOF with `appendfsync always`, and no failover to a
//! replica that may lag):
//! - lease keys carry an expiry (`PX`), so a `volatile-*` policy can evict
//!   a *live* lease, and an `allkeys-*` policy can evict leases, fencing
//!   counters and token entries. With an evicted or lost lease, a second
//!   process takes the lease while the holder is still waiting for the
//!   provider and spends the same refresh token: fencing refuses the late
//!   holder's save, but cannot undo the second spend at the provider, which
//!   may revoke the token (the seller must then authorize again);
//! - a fencing counter lost by a crash under `appendfsync everysec` (or
//!   `no`, or without AOF), a restart from an older snapshot, or a failover
//!   to a replica that had not received the last writes, hands out a
//!   fencing number a second time, so a stale holder's save can be
//!   accepted.
//!
//! # Crate feature flags
//! - `tls` (off by default): `rediss://` URLs, through redis's rustls
//!   support with the ring crypto provider (unless the application
//!   installed another) and the platform's root certificates. Off, the
//!   crate has no TLS stack at all, which keeps the default build small.
#![cfg_attr(docsrs, feature(doc_cfg))]
#![forbid(unsafe_code)]
#![warn(missing_docs)]
#![deny(rustdoc::broken_intra_doc_links)]

mod durability;
mod error;
mod keys;
mod scripts;
mod store;
#[cfg(feature = "tls")]
mod tls;

pub use durability::{Durability, Eviction};
pub use store::{MAX_LEASE_TTL, RedisStore, RedisStoreBuilder, Timeouts};
