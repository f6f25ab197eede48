//! [`RedisStore`] and its builder.

use crate::durability::{Durability, Eviction};
use crate::error::{Context, Op};
use crate::keys::{self, DEFAULT_PREFIX, MAX_PREFIX_LEN};
use crate::scripts;
use oauth_core::lifecycle::{Lease, LeaseOutcome, LeaseOwner, SaveOutcome, Versioned};
use oauth_core::{AccountKey, Error, TokenSet, TokenStore, async_trait};
use redis::aio::{ConnectionManager, ConnectionManagerConfig, MultiplexedConnection};
use redis::{AsyncConnectionConfig, Client, RedisResult};
use std::fmt;
use std::future::Future;
use std::time::{Duration, SystemTime};

/// The longest refresh lease granted: 30 days (longer requests are
/// shortened to it).
pub const MAX_LEASE_TTL: Duration = Duration::from_secs(30 * 24 * 3600);

/// How long the store waits for the server.
///
/// Every operation is bounded: at most `connect` to (re)establish the
/// connection, at most `response` for the answer, and at most their sum in
/// all. A server that accepts connections but never answers gives an error
/// ([`Error::StoreBusy`] for reads; [`Error::Store`] for writes, whose
/// outcome is then unknown), never a hang.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// The longest wait for a connection (TCP, TLS and authentication).
    pub connect: Duration,
    /// The longest wait for the answer to one command or script.
    pub response: Duration,
}

impl Timeouts {
    /// `connect` and `response`, both of which must be at least 1 ms.
    pub const fn new(connect: Duration, response: Duration) -> Self {
        Self { connect, response }
    }

    /// The bound of one whole operation.
    fn total(self) -> Duration {
        self.connect.saturating_add(self.response)
    }
}

impl Default for Timeouts {
    /// 5 s to connect, 5 s per answer.
    fn default() -> Self {
        Self::new(Duration::from_secs(5), Duration::from_secs(5))
    }
}

/// Configures a [`RedisStore`]; made by [`RedisStore::builder`].
pub struct RedisStoreBuilder {
    url: String,
    prefix: String,
    timeouts: Timeouts,
}

impl fmt::Debug for RedisStoreBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Not the URL: it may hold a password.
        f.debug_struct("RedisStoreBuilder")
            .field("prefix", &self.prefix)
            .field("timeouts", &self.timeouts)
            .finish_non_exhaustive()
    }
}

impl RedisStoreBuilder {
    /// The key prefix (default `oauth`): 1 to 64 characters among
    /// `A-Z a-z 0-9 _ . -`. Stores with different prefixes share nothing.
    #[must_use]
    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// How long to wait for the server (default [`Timeouts::default`]).
    #[must_use]
    pub fn timeouts(mut self, timeouts: Timeouts) -> Self {
        self.timeouts = timeouts;
        self
    }

    /// Validates the configuration, connects, checks the server's
    /// persistence settings (see [`RedisStore::durability`]) and returns
    /// the store.
    ///
    /// # Errors
    /// [`Error::Configuration`] for an invalid URL, prefix or timeouts (or
    /// a `rediss://` URL without the `tls` feature); [`Error::Store`] or
    /// [`Error::StoreBusy`] if the server cannot be reached or refuses the
    /// credentials. No message contains the URL's password.
    pub async fn build(self) -> Result<RedisStore, Error> {
        let Self {
            url,
            prefix,
            timeouts,
        } = self;
        if !keys::valid_prefix(&prefix) {
            return Err(Error::configuration(format!(
                "a Redis token store prefix must be 1 to {MAX_PREFIX_LEN} characters among A-Z a-z 0-9 _ . -"
            )));
        }
        if timeouts.connect < Duration::from_millis(1)
            || timeouts.response < Duration::from_millis(1)
        {
            return Err(Error::configuration(
                "Redis token store timeouts must be at least 1 ms",
            ));
        }
        let client = open_client(&url)?;
        let ctx = Context {
            op: Op::Connect,
            key: None,
        };

        // One direct connection (a single attempt, bounded) to check the
        // credentials and read the configuration; the connection manager
        // would retry failures such as a wrong password several times.
        let config = AsyncConnectionConfig::new()
            .set_connection_timeout(Some(timeouts.connect))
            .set_response_timeout(Some(timeouts.response));
        let mut probe = bounded(&ctx, timeouts.total(), async {
            client
                .get_multiplexed_async_connection_with_config(&config)
                .await
        })
        .await?;
        bounded(&ctx, timeouts.total(), async {
            redis::cmd("PING").query_async::<String>(&mut probe).await
        })
        .await?;
        let durability = Durability::from_config(
            config_get(&mut probe, "appendonly", timeouts)
                .await
                .as_deref(),
            config_get(&mut probe, "appendfsync", timeouts)
                .await
                .as_deref(),
        );
        let eviction = Eviction::from_config(
            config_get(&mut probe, "maxmemory-policy", timeouts)
                .await
                .as_deref(),
        );
        drop(probe);
        durability.log();
        eviction.log();

        let manager_config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(timeouts.connect))
            .set_response_timeout(Some(timeouts.response))
            .set_number_of_retries(3)
            .set_max_delay(Duration::from_secs(1));
        let connection = bounded(&ctx, timeouts.total(), async {
            ConnectionManager::new_with_config(client, manager_config).await
        })
        .await?;
        Ok(RedisStore {
            connection,
            prefix,
            timeouts,
            durability,
            eviction,
        })
    }
}

/// The client for `url`, without ever quoting it in an error.
fn open_client(url: &str) -> Result<Client, Error> {
    let scheme = url.split_once("://").map(|(s, _)| s.to_ascii_lowercase());
    match scheme.as_deref() {
        Some("redis" | "unix" | "redis+unix") => {}
        Some("rediss") => {
            #[cfg(not(feature = "tls"))]
            return Err(Error::configuration(
                "a rediss:// URL needs the `tls` feature of oauth-store-redis",
            ));
            #[cfg(feature = "tls")]
            crate::tls::ensure_crypto_provider();
        }
        _ => {
            return Err(Error::configuration(
                "a Redis URL must start with redis://, rediss:// or unix://",
            ));
        }
    }
    Client::open(url).map_err(|_| {
        Error::configuration(
            "invalid Redis URL (expected redis://[user:password@]host[:port][/db])",
        )
    })
}

/// The value of one configuration parameter, `None` if it cannot be read
/// (`CONFIG` renamed, disabled or not permitted).
async fn config_get(
    connection: &mut MultiplexedConnection,
    parameter: &str,
    timeouts: Timeouts,
) -> Option<String> {
    let mut command = redis::cmd("CONFIG");
    command.arg("GET").arg(parameter);
    let query = command.query_async::<Vec<String>>(connection);
    match tokio::time::timeout(timeouts.total(), query).await {
        Ok(Ok(pair)) => match pair.as_slice() {
            [name, value] if name.eq_ignore_ascii_case(parameter) => Some(value.clone()),
            _ => None,
        },
        _ => None,
    }
}

/// Runs `work`, bounded by `deadline`, mapping its errors.
async fn bounded<T>(
    ctx: &Context<'_>,
    deadline: Duration,
    work: impl Future<Output = RedisResult<T>>,
) -> Result<T, Error> {
    match tokio::time::timeout(deadline, work).await {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(e)) => Err(ctx.redis(&e)),
        Err(_) => Err(ctx.timed_out(deadline)),
    }
}

/// A [`TokenStore`] on a Redis (or Valkey) server: compare-and-swap saves,
/// fenced refresh leases, listing, all through server-side scripts.
///
/// Cheap to clone: clones share one multiplexed connection, which is
/// re-established after a failure. See the [crate documentation](crate) for
/// the key layout, the guarantees and what the server must be configured
/// for.
#[derive(Clone)]
pub struct RedisStore {
    connection: ConnectionManager,
    prefix: String,
    timeouts: Timeouts,
    durability: Durability,
    eviction: Eviction,
}

impl fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Not the URL or the connection: they may hold a password.
        f.debug_struct("RedisStore")
            .field("prefix", &self.prefix)
            .field("timeouts", &self.timeouts)
            .field("durability", &self.durability)
            .field("eviction", &self.eviction)
            .finish_non_exhaustive()
    }
}

/// The answer of the save script.
type SaveReply = Vec<Option<String>>;

impl RedisStore {
    /// The default key prefix, `oauth`.
    pub const DEFAULT_PREFIX: &'static str = DEFAULT_PREFIX;

    /// A store on `url` (`redis://[user:password@]host[:port][/db]`, or
    /// `rediss://…` with the `tls` feature) with the default prefix and
    /// timeouts: `RedisStore::builder(url).build()`.
    ///
    /// # Errors
    /// As [`RedisStoreBuilder::build`].
    pub async fn connect(url: impl Into<String>) -> Result<Self, Error> {
        Self::builder(url).build().await
    }

    /// A builder for a store on `url`.
    pub fn builder(url: impl Into<String>) -> RedisStoreBuilder {
        RedisStoreBuilder {
            url: url.into(),
            prefix: DEFAULT_PREFIX.to_owned(),
            timeouts: Timeouts::default(),
        }
    }

    /// How durable acknowledged writes are, as read from the server's
    /// configuration when the store was built (logged then: a warning
    /// unless [`Durability::Always`] or [`Durability::EverySecond`]).
    pub fn durability(&self) -> Durability {
        self.durability
    }

    /// Whether the server may evict the store's keys, as read from its
    /// configuration when the store was built (a warning was logged unless
    /// [`Eviction::NoEviction`], the only safe policy).
    pub fn eviction(&self) -> Eviction {
        self.eviction
    }

    /// The key prefix.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// The timeouts.
    pub fn timeouts(&self) -> Timeouts {
        self.timeouts
    }

    /// Runs `work` on a handle of the connection, bounded, mapping errors.
    async fn run<'a, T, F, Fut>(&self, ctx: Context<'a>, work: F) -> Result<T, Error>
    where
        F: FnOnce(ConnectionManager) -> Fut,
        Fut: Future<Output = RedisResult<T>>,
    {
        bounded(&ctx, self.timeouts.total(), work(self.connection.clone())).await
    }

    async fn save_script(
        &self,
        key: &AccountKey,
        tokens: &TokenSet,
        expected: Option<u64>,
        fence: Option<u64>,
    ) -> Result<SaveOutcome, Error> {
        let ctx = Context {
            op: Op::Save,
            key: Some(key),
        };
        let new_version = expected
            .unwrap_or(0)
            .checked_add(1)
            .ok_or_else(|| ctx.store("the entry's version cannot grow any more"))?;
        let json = serde_json::to_string(tokens)
            .map_err(|_| ctx.store("the token set cannot be serialized"))?;
        let k = keys::account_keys(&self.prefix, key);
        let expected = expected.map(|v| v.to_string()).unwrap_or_default();
        let fence = fence.map(|f| f.to_string()).unwrap_or_default();
        let reply: SaveReply = self
            .run(
                Context {
                    op: Op::Save,
                    key: Some(key),
                },
                |mut con| async move {
                    scripts::SAVE
                        .key(&k.tokens)
                        .key(&k.index)
                        .key(&k.fence)
                        .arg(&expected)
                        .arg(new_version.to_string())
                        .arg(&json)
                        .arg(&fence)
                        .arg(key.account())
                        .invoke_async(&mut con)
                        .await
                },
            )
            .await?;
        match reply.as_slice() {
            [Some(tag)] if tag == "saved" => Ok(SaveOutcome::Saved {
                version: new_version,
            }),
            [Some(tag)] if tag == "fenced" => Ok(SaveOutcome::Fenced),
            [Some(tag), version, tokens] if tag == "conflict" => Ok(SaveOutcome::Conflict {
                current: decode_entry(&ctx, version.as_deref(), tokens.as_deref())?,
            }),
            _ => Err(ctx.store("unexpected answer from the save script")),
        }
    }
}

/// The entry stored as `version` and `tokens` (`None`: no entry).
fn decode_entry(
    ctx: &Context<'_>,
    version: Option<&str>,
    tokens: Option<&str>,
) -> Result<Option<Versioned>, Error> {
    match (version, tokens) {
        (None, None) => Ok(None),
        (Some(version), Some(tokens)) => {
            let version = version
                .parse::<u64>()
                .map_err(|_| ctx.store("the stored entry has an invalid version"))?;
            // serde_json's error text can quote the value: never shown.
            let tokens = serde_json::from_str::<TokenSet>(tokens)
                .map_err(|_| ctx.store("the stored entry is not a valid token set"))?;
            Ok(Some(Versioned { tokens, version }))
        }
        _ => Err(ctx.store("the stored entry is incomplete (written by something else?)")),
    }
}

/// `ttl` in whole milliseconds for `PX`: at least 1, at most
/// [`MAX_LEASE_TTL`], rounded up.
fn lease_millis(ttl: Duration) -> u64 {
    let ttl = ttl.min(MAX_LEASE_TTL);
    let millis = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX);
    let millis = if !ttl.subsec_nanos().is_multiple_of(1_000_000) {
        millis.saturating_add(1)
    } else {
        millis
    };
    millis.max(1)
}

/// The value of a lease key.
fn lease_value(fence: u64, owner: &LeaseOwner) -> String {
    format!("{fence} {}", owner.as_str())
}

fn after_now(millis: u64) -> SystemTime {
    oauth_core::expiry_after(SystemTime::now(), Duration::from_millis(millis))
}

#[async_trait]
impl TokenStore for RedisStore {
    async fn load(&self, key: &AccountKey) -> Result<Option<Versioned>, Error> {
        let ctx = Context {
            op: Op::Load,
            key: Some(key),
        };
        let k = keys::account_keys(&self.prefix, key);
        let (version, tokens): (Option<String>, Option<String>) = self
            .run(
                Context {
                    op: Op::Load,
                    key: Some(key),
                },
                |mut con| async move {
                    redis::cmd("HMGET")
                        .arg(&k.tokens)
                        .arg("v")
                        .arg("t")
                        .query_async(&mut con)
                        .await
                },
            )
            .await?;
        decode_entry(&ctx, version.as_deref(), tokens.as_deref())
    }

    async fn save(
        &self,
        key: &AccountKey,
        tokens: &TokenSet,
        expected: Option<u64>,
    ) -> Result<SaveOutcome, Error> {
        self.save_script(key, tokens, expected, None).await
    }

    async fn save_fenced(
        &self,
        key: &AccountKey,
        tokens: &TokenSet,
        expected: Option<u64>,
        fence: u64,
    ) -> Result<SaveOutcome, Error> {
        self.save_script(key, tokens, expected, Some(fence)).await
    }

    async fn delete(&self, key: &AccountKey) -> Result<(), Error> {
        let k = keys::account_keys(&self.prefix, key);
        self.run(
            Context {
                op: Op::Delete,
                key: Some(key),
            },
            |mut con| async move {
                scripts::DELETE
                    .key(&k.tokens)
                    .key(&k.index)
                    .arg(key.account())
                    .invoke_async::<i64>(&mut con)
                    .await
            },
        )
        .await?;
        Ok(())
    }

    async fn list_accounts(
        &self,
        provider: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<String>, Error> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let index = keys::index_key(&self.prefix, provider);
        // `(x`: strictly greater than x; members all score 0, so BYLEX
        // orders them by their bytes, as `str`'s `Ord` does.
        let min: Vec<u8> = match after {
            Some(after) => [b"(".as_slice(), after.as_bytes()].concat(),
            None => b"-".to_vec(),
        };
        let count = i64::try_from(limit).unwrap_or(i64::MAX);
        self.run(
            Context {
                op: Op::List,
                key: None,
            },
            |mut con| async move {
                redis::cmd("ZRANGE")
                    .arg(&index)
                    .arg(&min)
                    .arg("+")
                    .arg("BYLEX")
                    .arg("LIMIT")
                    .arg(0)
                    .arg(count)
                    .query_async(&mut con)
                    .await
            },
        )
        .await
    }

    async fn check_writable(&self) -> Result<(), Error> {
        let probe = keys::probe_key(&self.prefix);
        self.run(
            Context {
                op: Op::CheckWritable,
                key: None,
            },
            |mut con| async move {
                scripts::PROBE
                    .key(&probe)
                    .invoke_async::<i64>(&mut con)
                    .await
            },
        )
        .await?;
        Ok(())
    }

    async fn acquire_lease(
        &self,
        key: &AccountKey,
        owner: &LeaseOwner,
        ttl: Duration,
    ) -> Result<LeaseOutcome, Error> {
        let ctx = Context {
            op: Op::AcquireLease,
            key: Some(key),
        };
        let millis = lease_millis(ttl);
        // The lease starts on the server after this instant: an expiry
        // counted from here errs on the early side.
        let sent_at = SystemTime::now();
        let k = keys::account_keys(&self.prefix, key);
        let (tag, value): (String, String) = self
            .run(
                Context {
                    op: Op::AcquireLease,
                    key: Some(key),
                },
                |mut con| async move {
                    scripts::ACQUIRE
                        .key(&k.lease)
                        .key(&k.fence)
                        .arg(owner.as_str())
                        .arg(millis)
                        .invoke_async(&mut con)
                        .await
                },
            )
            .await?;
        match tag.as_str() {
            "acquired" => {
                let fence = value
                    .parse::<u64>()
                    .map_err(|_| ctx.store("the fencing counter is not a number"))?;
                Ok(LeaseOutcome::Acquired(Lease {
                    owner: owner.clone(),
                    fence,
                    expires_at: oauth_core::expiry_after(sent_at, Duration::from_millis(millis)),
                }))
            }
            "held" => {
                let remaining = value
                    .parse::<u64>()
                    .map_err(|_| ctx.store("unexpected answer from the lease script"))?;
                Ok(LeaseOutcome::Held {
                    expires_at: after_now(remaining),
                })
            }
            _ => Err(ctx.store("unexpected answer from the lease script")),
        }
    }

    async fn release_lease(&self, key: &AccountKey, lease: &Lease) -> Result<(), Error> {
        let k = keys::account_keys(&self.prefix, key);
        let value = lease_value(lease.fence, &lease.owner);
        self.run(
            Context {
                op: Op::ReleaseLease,
                key: Some(key),
            },
            |mut con| async move {
                scripts::RELEASE
                    .key(&k.lease)
                    .arg(&value)
                    .invoke_async::<i64>(&mut con)
                    .await
            },
        )
        .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lease_ttls_are_whole_milliseconds_within_bounds() {
        assert_eq!(lease_millis(Duration::ZERO), 1);
        assert_eq!(lease_millis(Duration::from_micros(1)), 1);
        assert_eq!(lease_millis(Duration::from_micros(1500)), 2);
        assert_eq!(lease_millis(Duration::from_secs(10)), 10_000);
        assert_eq!(
            lease_millis(Duration::MAX),
            u64::try_from(MAX_LEASE_TTL.as_millis()).unwrap_or(0)
        );
    }

    #[test]
    fn urls_are_checked_without_being_quoted() {
        for url in [
            "http://user:hunter2@localhost",
            "hunter2",
            "redis://:hunter2@[bad",
        ] {
            match open_client(url) {
                Err(e) => {
                    let text = format!("{e} {e:?}");
                    assert!(!text.contains("hunter2"), "{text}");
                    assert!(matches!(e, Error::Configuration { .. }), "{e:?}");
                }
                Ok(_) => panic!("{url} accepted"),
            }
        }
    }

    #[test]
    fn lease_values_hold_fence_and_owner() {
        let owner = LeaseOwner::new("host:1:abc").unwrap_or_else(|_| LeaseOwner::generate());
        assert_eq!(lease_value(7, &owner), "7 host:1:abc");
    }
}
