//! [`PostgresStoreBuilder`]: the connection, the pool, the table and TLS,
//! validated once.

use crate::error::{Access, StatementLimit, Target, config_error, pg_error, pool_error};
use crate::schema::{DEFAULT_TABLE, Names};
use crate::store::PostgresStore;
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod, Runtime};
use oauth_core::Error;
use std::fmt;
use std::str::FromStr;
use std::time::Duration;
use tokio_postgres::config::{Host, SslMode};

/// The pool's default size: 8 connections.
pub const DEFAULT_POOL_SIZE: usize = 8;

/// How long an operation waits for a free pooled connection by default
/// before failing with [`Error::StoreBusy`]: 10 s.
pub const DEFAULT_WAIT_TIMEOUT: Duration = Duration::from_secs(10);

/// How long a new connection may take by default (unless the connection
/// string sets `connect_timeout`): 10 s.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// How long one statement may run by default before the store gives up on
/// it: 10 s (see [`PostgresStoreBuilder::statement_timeout`]).
pub const DEFAULT_STATEMENT_TIMEOUT: Duration = Duration::from_secs(10);

/// The longest statement timeout accepted: PostgreSQL's `statement_timeout`
/// is an `int` of milliseconds.
const MAX_STATEMENT_TIMEOUT_MS: u128 = i32::MAX as u128;

/// How a builder gets its connections.
enum Source {
    /// A connection string (URL or `key=value` form): never shown.
    Url(String),
    /// A pool the application built.
    Pool(Pool),
}

/// Builds a [`PostgresStore`]: from a connection string
/// ([`PostgresStore::builder`]) or a pool of yours
/// ([`PostgresStore::builder_from_pool`]). Every setting is checked in
/// [`build`](Self::build), which also connects once so that a wrong
/// address or password fails at start-up, not at the first refresh.
///
/// `Debug` never shows the connection string.
pub struct PostgresStoreBuilder {
    source: Source,
    pool_size: Option<usize>,
    wait_timeout: Option<Duration>,
    connect_timeout: Option<Duration>,
    statement_timeout: Option<Duration>,
    server_statement_timeout: Option<bool>,
    table: String,
    schema: Option<String>,
    #[cfg(feature = "tls")]
    tls: Option<crate::Tls>,
    check_connection: bool,
}

impl fmt::Debug for PostgresStoreBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let source = match &self.source {
            Source::Url(_) => "connection string (not shown)",
            Source::Pool(_) => "pool",
        };
        f.debug_struct("PostgresStoreBuilder")
            .field("source", &source)
            .field("pool_size", &self.pool_size)
            .field("wait_timeout", &self.wait_timeout)
            .field("connect_timeout", &self.connect_timeout)
            .field("statement_timeout", &self.statement_timeout)
            .field("server_statement_timeout", &self.server_statement_timeout)
            .field("table", &self.table)
            .field("schema", &self.schema)
            .field("check_connection", &self.check_connection)
            .finish_non_exhaustive()
    }
}

impl PostgresStore {
    /// A store on the server of `url` with the default settings: the table
    /// `oauth_tokens` in the role's `search_path`, a pool of
    /// [`DEFAULT_POOL_SIZE`] connections, TLS as the URL's `sslmode` says
    /// (see the crate's documentation). Connects once to check the address
    /// and credentials; does not create the table (see
    /// [`migrate`](Self::migrate)).
    ///
    /// `url` is a libpq-style URL (`postgres://user:password@host:port/db?sslmode=require`)
    /// or `key=value` string, as [`tokio_postgres::Config`] parses it.
    ///
    /// # Errors
    /// As [`PostgresStoreBuilder::build`].
    pub async fn connect(url: &str) -> Result<Self, Error> {
        Self::builder(url).build().await
    }

    /// A builder for a store on the server of `url` (see
    /// [`connect`](Self::connect) for its forms).
    pub fn builder(url: impl Into<String>) -> PostgresStoreBuilder {
        PostgresStoreBuilder::new(Source::Url(url.into()))
    }

    /// A builder for a store on a pool of yours (its size, timeouts and TLS
    /// are the pool's: the builder's [`pool_size`](PostgresStoreBuilder::pool_size),
    /// [`wait_timeout`](PostgresStoreBuilder::wait_timeout),
    /// [`connect_timeout`](PostgresStoreBuilder::connect_timeout),
    /// [`server_statement_timeout`](PostgresStoreBuilder::server_statement_timeout)
    /// and `tls` are refused with it; the
    /// [`statement_timeout`](PostgresStoreBuilder::statement_timeout) is
    /// then kept by the store alone, so also set PostgreSQL's
    /// `statement_timeout` on your pool's connections).
    pub fn builder_from_pool(pool: Pool) -> PostgresStoreBuilder {
        PostgresStoreBuilder::new(Source::Pool(pool))
    }

    /// A store on a pool of yours, with the default table and
    /// [`DEFAULT_STATEMENT_TIMEOUT`] (kept by the store; the server's own
    /// `statement_timeout` is your pool's to set), without connecting. Give
    /// the pool a wait timeout (and [`Runtime::Tokio1`]) so that an
    /// exhausted pool answers [`Error::StoreBusy`] instead of waiting
    /// forever.
    pub fn from_pool(pool: Pool) -> Self {
        let names = Names::default_names();
        Self::from_parts(
            pool,
            names,
            Target::for_pool(),
            StatementLimit::client_only(DEFAULT_STATEMENT_TIMEOUT),
        )
    }
}

impl PostgresStoreBuilder {
    fn new(source: Source) -> Self {
        Self {
            source,
            pool_size: None,
            wait_timeout: None,
            connect_timeout: None,
            statement_timeout: None,
            server_statement_timeout: None,
            table: DEFAULT_TABLE.to_owned(),
            schema: None,
            #[cfg(feature = "tls")]
            tls: None,
            check_connection: true,
        }
    }

    /// The pool's size: at most `size` connections (default
    /// [`DEFAULT_POOL_SIZE`]; at least 1).
    #[must_use]
    pub fn pool_size(mut self, size: usize) -> Self {
        self.pool_size = Some(size);
        self
    }

    /// How long an operation waits for a free pooled connection before
    /// failing with [`Error::StoreBusy`] (default [`DEFAULT_WAIT_TIMEOUT`]).
    #[must_use]
    pub fn wait_timeout(mut self, timeout: Duration) -> Self {
        self.wait_timeout = Some(timeout);
        self
    }

    /// How long opening a connection may take (default: the connection
    /// string's `connect_timeout`, else [`DEFAULT_CONNECT_TIMEOUT`]).
    #[must_use]
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = Some(timeout);
        self
    }

    /// How long one statement may run (default
    /// [`DEFAULT_STATEMENT_TIMEOUT`], 10 s; more than 0 and at most
    /// `i32::MAX` ms, about 24 days), so that a lock held by another session
    /// or a silently dropped connection fails the operation instead of
    /// hanging it (and every caller waiting on that account) for as long as
    /// TCP retransmission lasts.
    ///
    /// Two limits follow from it:
    /// - **the server's**: the connections the store opens set
    ///   PostgreSQL's `statement_timeout` to this value (the startup
    ///   parameter `options=-c statement_timeout=…`, put before the
    ///   connection string's own `options`, which win), so the server
    ///   abandons a statement that waits for a lock or runs too long and
    ///   rolls it back: the operation fails with [`Error::StoreBusy`]
    ///   (retryable; nothing was written). See
    ///   [`server_statement_timeout`](Self::server_statement_timeout).
    /// - **the store's**: when no answer at all arrives 1 s after that (a
    ///   dead connection, or the server's limit not in force), the store
    ///   stops waiting and discards the connection: [`Error::StoreBusy`]
    ///   for reads and lease grants (a grant may have been made; it lapses
    ///   at the end of its term), [`Error::Store`] saying that the write
    ///   may or may not have been applied for saves, deletes and lease
    ///   releases.
    ///
    /// The limit is per statement: most operations are one statement, a
    /// refused save or lease reads once more, and a contended lease grant
    /// is retried at most twice. Waiting for a pooled connection
    /// ([`wait_timeout`](Self::wait_timeout)) and connecting
    /// ([`connect_timeout`](Self::connect_timeout)) have their own limits.
    /// [`PostgresStore::migrate`] is not limited (it waits for another
    /// replica's migration, and DDL may take long).
    #[must_use]
    pub fn statement_timeout(mut self, timeout: Duration) -> Self {
        self.statement_timeout = Some(timeout);
        self
    }

    /// Whether the connections the store opens set PostgreSQL's own
    /// `statement_timeout` to the [`statement_timeout`](Self::statement_timeout)
    /// (default `true`). Turn it off only behind a connection pooler that
    /// refuses the `options` startup parameter (PgBouncer without
    /// `ignore_startup_parameters = options`): the store then only stops
    /// waiting after the limit, and a statement it gave up on may still be
    /// applied later.
    #[must_use]
    pub fn server_statement_timeout(mut self, enabled: bool) -> Self {
        self.server_statement_timeout = Some(enabled);
        self
    }

    /// The token table's name (default `oauth_tokens`): 1 to 63 lowercase
    /// ASCII letters, digits and `_`, not starting with a digit.
    #[must_use]
    pub fn table(mut self, table: impl Into<String>) -> Self {
        self.table = table.into();
        self
    }

    /// The PostgreSQL schema of the token table (and of its
    /// `oauth_store_schema` table); default: none, the role's
    /// `search_path`. Same rules as [`table`](Self::table); the schema must
    /// exist.
    #[must_use]
    pub fn schema(mut self, schema: impl Into<String>) -> Self {
        self.schema = Some(schema.into());
        self
    }

    /// How the connections are encrypted when the connection string's
    /// `sslmode` is `prefer` (the default) or `require` (default:
    /// [`Tls::platform_verifier`](crate::Tls::platform_verifier)).
    #[cfg(feature = "tls")]
    #[cfg_attr(docsrs, doc(cfg(feature = "tls")))]
    #[must_use]
    pub fn tls(mut self, tls: crate::Tls) -> Self {
        self.tls = Some(tls);
        self
    }

    /// Whether [`build`](Self::build) connects once to check the address
    /// and credentials (default `true`).
    #[must_use]
    pub fn check_connection(mut self, check: bool) -> Self {
        self.check_connection = check;
        self
    }

    /// The store.
    ///
    /// # Errors
    /// - [`Error::Configuration`]: an invalid table or schema name, an
    ///   unparsable connection string, a pool size of 0, a statement
    ///   timeout of 0 or above `i32::MAX` ms, pool settings given with a
    ///   pool of yours, or TLS asked for (`sslmode=require`,
    ///   or `prefer` towards a host that is not this machine) in a build
    ///   without the `tls` feature;
    /// - [`Error::Store`] / [`Error::StoreBusy`]: the check connection
    ///   failed (unreachable server, wrong password, missing database).
    ///
    /// No message contains the connection string or its password.
    pub async fn build(self) -> Result<PostgresStore, Error> {
        let names = Names::new(self.schema.as_deref(), &self.table)?;
        let check = self.check_connection;
        let statement_timeout = self.statement_timeout.unwrap_or(DEFAULT_STATEMENT_TIMEOUT);
        let timeout_ms = statement_timeout.as_nanos().div_ceil(1_000_000);
        if timeout_ms == 0 || timeout_ms > MAX_STATEMENT_TIMEOUT_MS {
            return Err(config_error(
                "the statement timeout must be more than 0 and at most i32::MAX milliseconds \
                 (about 24 days)",
            ));
        }
        let (pool, target, limit) = match self.source {
            Source::Pool(pool) => {
                let tls_given = {
                    #[cfg(feature = "tls")]
                    {
                        self.tls.is_some()
                    }
                    #[cfg(not(feature = "tls"))]
                    {
                        false
                    }
                };
                if self.pool_size.is_some()
                    || self.wait_timeout.is_some()
                    || self.connect_timeout.is_some()
                    || self.server_statement_timeout.is_some()
                    || tls_given
                {
                    return Err(config_error(
                        "pool size, wait, connect and server-side statement timeouts and TLS \
                         are the pool's settings: configure the deadpool_postgres pool you pass \
                         instead",
                    ));
                }
                (
                    pool,
                    Target::for_pool(),
                    StatementLimit::client_only(statement_timeout),
                )
            }
            Source::Url(url) => {
                let mut config = tokio_postgres::Config::from_str(&url)
                    .map_err(|e| config_error(describe_parse_error(&e)))?;
                drop(url);
                let target = Target::from_config(&config);
                if config.get_connect_timeout().is_none() || self.connect_timeout.is_some() {
                    config.connect_timeout(self.connect_timeout.unwrap_or(DEFAULT_CONNECT_TIMEOUT));
                }
                let limit = if self.server_statement_timeout.unwrap_or(true) {
                    // Ours first: the connection string's own options win.
                    let ours = format!("-c statement_timeout={timeout_ms}");
                    let options = match config.get_options() {
                        Some(theirs) if !theirs.trim().is_empty() => format!("{ours} {theirs}"),
                        _ => ours,
                    };
                    config.options(options);
                    StatementLimit::with_server(statement_timeout)
                } else {
                    StatementLimit::client_only(statement_timeout)
                };
                let size = self.pool_size.unwrap_or(DEFAULT_POOL_SIZE);
                if size == 0 {
                    return Err(config_error("the pool size must be at least 1"));
                }
                let manager_config = ManagerConfig {
                    recycling_method: RecyclingMethod::Fast,
                };
                #[cfg(feature = "tls")]
                let manager = {
                    if config.get_ssl_mode() == SslMode::Disable {
                        Manager::from_config(config, tokio_postgres::NoTls, manager_config)
                    } else {
                        let tls = match self.tls {
                            Some(tls) => tls,
                            None => crate::Tls::platform_verifier()?,
                        };
                        Manager::from_config(config, tls.into_connector(), manager_config)
                    }
                };
                #[cfg(not(feature = "tls"))]
                let manager = {
                    check_plaintext_allowed(&config)?;
                    Manager::from_config(config, tokio_postgres::NoTls, manager_config)
                };
                let pool = Pool::builder(manager)
                    .max_size(size)
                    .wait_timeout(Some(self.wait_timeout.unwrap_or(DEFAULT_WAIT_TIMEOUT)))
                    .recycle_timeout(Some(Duration::from_secs(5)))
                    .runtime(Runtime::Tokio1)
                    .build()
                    .map_err(|e| config_error(format!("cannot build the connection pool: {e}")))?;
                (pool, target, limit)
            }
        };
        if check {
            let operation = "connecting";
            let client = pool
                .get()
                .await
                .map_err(|e| pool_error(&target, operation, &e))?;
            match tokio::time::timeout(limit.wait(), client.simple_query("SELECT 1")).await {
                Ok(answer) => {
                    answer.map_err(|e| pg_error(&target, &names.display(), operation, &e))?;
                }
                Err(_) => {
                    drop(deadpool_postgres::Object::take(client));
                    return Err(limit.timed_out(
                        &target,
                        &names.display(),
                        operation,
                        Access::Read,
                    ));
                }
            }
        }
        Ok(PostgresStore::from_parts(pool, names, target, limit))
    }
}

/// A connection string's parse error, without the string: the driver's
/// description when it only names an option, else a generic one.
fn describe_parse_error(error: &tokio_postgres::Error) -> String {
    use std::error::Error as _;
    let generic = "invalid PostgreSQL connection string (expected \
                   postgres://user:password@host:port/database?option=value, or key=value pairs)";
    match error.source().map(ToString::to_string) {
        Some(cause)
            if cause.starts_with("invalid value for option `")
                || cause.starts_with("unknown option `") =>
        {
            format!("{generic}: {cause}")
        }
        _ => generic.to_owned(),
    }
}

/// Without the `tls` feature, a connection in clear must be what the
/// connection string asks for: `sslmode=disable`, or the default `prefer`
/// towards this machine only (loopback addresses, Unix sockets).
#[cfg(not(feature = "tls"))]
fn check_plaintext_allowed(config: &tokio_postgres::Config) -> Result<(), Error> {
    match config.get_ssl_mode() {
        SslMode::Disable => Ok(()),
        SslMode::Require => Err(config_error(
            "the connection string has sslmode=require, but this build of oauth-store-postgres \
             has no TLS: enable its `tls` feature",
        )),
        _ => {
            let local = config.get_hosts().iter().all(|host| match host {
                Host::Tcp(name) => is_loopback(name),
                #[cfg(unix)]
                Host::Unix(_) => true,
            }) && config
                .get_hostaddrs()
                .iter()
                .all(std::net::IpAddr::is_loopback);
            if local {
                Ok(())
            } else {
                Err(config_error(
                    "this build of oauth-store-postgres has no TLS (its `tls` feature is off) \
                     and the server is not on this machine: enable the feature, or add \
                     sslmode=disable to the connection string to connect in clear knowingly",
                ))
            }
        }
    }
}

#[cfg(not(feature = "tls"))]
fn is_loopback(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost")
        || host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

impl Target {
    fn for_pool() -> Self {
        Target {
            hosts: "the application's pool".to_owned(),
            dbname: None,
            password: None,
        }
    }

    fn from_config(config: &tokio_postgres::Config) -> Self {
        let ports = config.get_ports();
        let hosts: Vec<String> = config
            .get_hosts()
            .iter()
            .enumerate()
            .map(|(i, host)| {
                let name = match host {
                    Host::Tcp(name) => name.clone(),
                    #[cfg(unix)]
                    Host::Unix(path) => path.display().to_string(),
                };
                let port = ports
                    .get(i)
                    .or_else(|| ports.first())
                    .copied()
                    .unwrap_or(5432);
                format!("{name}:{port}")
            })
            .collect();
        let hosts = if hosts.is_empty() {
            let addrs: Vec<String> = config
                .get_hostaddrs()
                .iter()
                .map(ToString::to_string)
                .collect();
            if addrs.is_empty() {
                "the default host".to_owned()
            } else {
                addrs.join(", ")
            }
        } else {
            hosts.join(", ")
        };
        Target {
            hosts,
            dbname: config.get_dbname().map(str::to_owned),
            password: config.get_password().map(<[u8]>::to_vec),
        }
    }
}
