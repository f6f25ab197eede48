//! [`PostgresStore`]: the [`TokenStore`] implementation.

use crate::error::{Access, StatementLimit, Target, pg_error, pool_error, store_error};
use crate::schema::{self, MIGRATION_LOCK_KEY, Names, SCHEMA_VERSION};
use async_trait::async_trait;
use deadpool_postgres::{Object, Pool};
use oauth_core::lifecycle::{Lease, LeaseOutcome, LeaseOwner, SaveOutcome, Versioned};
use oauth_core::{AccountKey, Error, TokenSet, TokenStore};
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use tokio_postgres::Row;
use tokio_postgres::types::{FromSql, ToSql};

/// The longest lease granted, whatever `ttl` is asked: 1 day (a lease only
/// covers one refresh; the cap keeps the server's timestamp arithmetic in
/// range).
const MAX_LEASE_TTL: Duration = Duration::from_secs(24 * 3600);

/// How often an acquisition is retried when the lease it lost to was gone
/// by the time it was read (released or expired in between).
const LEASE_ATTEMPTS: usize = 3;

/// Token sets in a PostgreSQL table, one row per account, shared by every
/// replica of an application.
///
/// - **Compare-and-swap** saves: one conditional statement each
///   (`UPDATE … WHERE version = $n`, `INSERT … ON CONFLICT … DO UPDATE …
///   WHERE`), so two replicas never overwrite each other's tokens.
/// - **Refresh leases** with fencing numbers (see
///   [`oauth_core::lifecycle::lease`]): granted, refused and released by
///   single conditional statements, expiring by the server's clock
///   (`clock_timestamp()`), never by the replicas' clocks. A
///   [fenced save](TokenStore::save_fenced) checks the version and the
///   fencing number in the same `UPDATE`. Fencing numbers survive
///   [`delete`](TokenStore::delete): a deleted account keeps its row, with
///   no tokens, hidden from [`load`](TokenStore::load) and
///   [`list_accounts`](TokenStore::list_accounts).
/// - **Listing** in byte order (the column's collation is `"C"`), through
///   the primary key's index.
/// - **Write check**: [`check_writable`](TokenStore::check_writable) asks
///   the server whether the role may `SELECT`, `INSERT` and `UPDATE` the
///   table and whether the server is read-only (a standby, or
///   `default_transaction_read_only`), before a manager spends a
///   single-use code or refresh token.
///
/// Cloning is cheap: clones share the connection pool.
///
/// Errors name the server (host, port, database), the table and what
/// failed, never the password, a token or a statement's parameters.
///
/// Every statement is bounded by the builder's
/// [`statement_timeout`](crate::PostgresStoreBuilder::statement_timeout)
/// (10 s by default): a lock held by another session or a dropped
/// connection fails the operation instead of hanging it.
#[derive(Clone)]
pub struct PostgresStore {
    inner: Arc<Inner>,
}

struct Inner {
    pool: Pool,
    names: Names,
    target: Target,
    table_display: String,
    sql: Statements,
    limit: StatementLimit,
}

/// The statements, with the table's name in them.
struct Statements {
    load: String,
    create: String,
    create_fenced: String,
    update: String,
    state: String,
    delete: String,
    list_first: String,
    list_after: String,
    acquire: String,
    lease_state: String,
    release: String,
    check_writable: String,
}

impl Statements {
    fn new(names: &Names) -> Self {
        let t = names.table_sql();
        Self {
            load: format!(
                "SELECT tokens::text, version FROM {t} \
                 WHERE provider = $1 AND account = $2 AND tokens IS NOT NULL"
            ),
            // $4: the fencing number of a fenced save, NULL or 0 here (NULL:
            // not fenced). A new row has fencing number 0: a fenced creation
            // with fence 0 is accepted only while no lease was ever granted.
            create: format!(
                "INSERT INTO {t} AS r (provider, account, tokens, version, updated_at) \
                 VALUES ($1, $2, $3::text::jsonb, 1, clock_timestamp()) \
                 ON CONFLICT (provider, account) DO UPDATE \
                 SET tokens = EXCLUDED.tokens, version = 1, updated_at = EXCLUDED.updated_at \
                 WHERE r.tokens IS NULL AND ($4::bigint IS NULL OR r.fence = $4::bigint) \
                 RETURNING r.version"
            ),
            // A fenced creation with a fence above 0: the grant made the
            // row, so it can only be an update of a row without tokens.
            create_fenced: format!(
                "UPDATE {t} SET tokens = $3::text::jsonb, version = 1, \
                 updated_at = clock_timestamp() \
                 WHERE provider = $1 AND account = $2 AND tokens IS NULL AND fence = $4::bigint \
                 RETURNING version"
            ),
            update: format!(
                "UPDATE {t} SET tokens = $3::text::jsonb, version = version + 1, \
                 updated_at = clock_timestamp() \
                 WHERE provider = $1 AND account = $2 AND tokens IS NOT NULL \
                 AND version = $4::bigint AND ($5::bigint IS NULL OR fence = $5::bigint) \
                 RETURNING version"
            ),
            state: format!(
                "SELECT tokens::text, version, fence FROM {t} WHERE provider = $1 AND account = $2"
            ),
            delete: format!(
                "UPDATE {t} SET tokens = NULL, version = 0, updated_at = clock_timestamp() \
                 WHERE provider = $1 AND account = $2 AND tokens IS NOT NULL"
            ),
            list_first: format!(
                "SELECT account FROM {t} WHERE provider = $1 AND tokens IS NOT NULL \
                 ORDER BY account COLLATE \"C\" LIMIT $2"
            ),
            list_after: format!(
                "SELECT account FROM {t} \
                 WHERE provider = $1 AND account COLLATE \"C\" > $2 AND tokens IS NOT NULL \
                 ORDER BY account COLLATE \"C\" LIMIT $3"
            ),
            // Granted when there is no lease, it was released, it expired by
            // the server's clock, or the owner already holds it; the
            // fencing number grows by one with every grant.
            acquire: format!(
                "INSERT INTO {t} AS r \
                 (provider, account, tokens, version, lease_owner, lease_expires_at, fence, updated_at) \
                 VALUES ($1, $2, NULL, 0, $3, \
                 clock_timestamp() + $4::bigint * interval '1 microsecond', 1, clock_timestamp()) \
                 ON CONFLICT (provider, account) DO UPDATE \
                 SET lease_owner = EXCLUDED.lease_owner, \
                 lease_expires_at = clock_timestamp() + $4::bigint * interval '1 microsecond', \
                 fence = r.fence + 1, updated_at = clock_timestamp() \
                 WHERE r.lease_owner IS NULL OR r.lease_expires_at IS NULL \
                 OR r.lease_owner = EXCLUDED.lease_owner OR r.lease_expires_at <= clock_timestamp() \
                 RETURNING r.fence, r.lease_expires_at"
            ),
            lease_state: format!(
                "SELECT lease_owner, lease_expires_at, lease_expires_at > clock_timestamp() \
                 FROM {t} WHERE provider = $1 AND account = $2"
            ),
            release: format!(
                "UPDATE {t} SET lease_owner = NULL, lease_expires_at = NULL, \
                 updated_at = clock_timestamp() \
                 WHERE provider = $1 AND account = $2 AND lease_owner = $3 AND fence = $4::bigint"
            ),
            check_writable: "SELECT has_table_privilege($1, 'SELECT') \
                 AND has_table_privilege($1, 'INSERT') AND has_table_privilege($1, 'UPDATE'), \
                 pg_is_in_recovery(), current_setting('transaction_read_only') = 'on'"
                .to_owned(),
        }
    }
}

impl fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PostgresStore")
            .field("server", &self.inner.target.describe())
            .field("table", &self.inner.table_display)
            .field("pool_size", &self.inner.pool.status().max_size)
            .finish_non_exhaustive()
    }
}

/// A stored number (version or fencing number) as a `u64`.
fn to_u64(value: i64) -> Result<u64, Error> {
    u64::try_from(value).map_err(|_| store_error("a stored version or fencing number is negative"))
}

/// Column `idx` of `row`: an error, not a panic, if the table's column
/// has another type than this crate creates (a table altered by hand).
fn col<'a, T: FromSql<'a>>(row: &'a Row, idx: usize) -> Result<T, Error> {
    row.try_get(idx).map_err(|_| {
        store_error(format!(
            "the token table's columns are not what oauth-store-postgres expects (column {idx} \
             of a result has another type): was the table altered?"
        ))
    })
}

/// Whether `text` can be stored in a PostgreSQL `text` column (which
/// cannot hold NUL).
fn storable(text: &str) -> bool {
    !text.contains('\0')
}

impl PostgresStore {
    pub(crate) fn from_parts(
        pool: Pool,
        names: Names,
        target: Target,
        limit: StatementLimit,
    ) -> Self {
        let sql = Statements::new(&names);
        let table_display = names.display();
        Self {
            inner: Arc::new(Inner {
                pool,
                names,
                target,
                table_display,
                sql,
                limit,
            }),
        }
    }

    /// The connection pool (shared with the store's clones).
    pub fn pool(&self) -> &Pool {
        &self.inner.pool
    }

    /// The token table's name, unqualified (`oauth_tokens` by default).
    pub fn table_name(&self) -> &str {
        self.inner.names.table()
    }

    /// The schema's SQL for this store's table (and schema, if one was
    /// configured): what [`migrate`](Self::migrate) runs on an empty
    /// database, for DBAs who create tables themselves. With the default
    /// names it is [`SCHEMA_SQL`](crate::SCHEMA_SQL).
    pub fn schema_sql(&self) -> String {
        schema::script(&self.inner.names)
    }

    async fn client(&self, operation: &str) -> Result<Object, Error> {
        self.inner
            .pool
            .get()
            .await
            .map_err(|e| pool_error(&self.inner.target, operation, &e))
    }

    fn error(&self, operation: &str, error: &tokio_postgres::Error) -> Error {
        pg_error(
            &self.inner.target,
            &self.inner.table_display,
            operation,
            error,
        )
    }

    /// The error for `operation`, which got no answer in time; `client`,
    /// which may still be waiting for one, is taken out of the pool (and
    /// closed once the server answers or the connection breaks) so that
    /// no other operation queues behind the lost statement.
    fn timed_out(&self, client: Object, operation: &str, access: Access) -> Error {
        drop(Object::take(client));
        self.inner.limit.timed_out(
            &self.inner.target,
            &self.inner.table_display,
            operation,
            access,
        )
    }

    /// Runs `sql` (prepared once per connection) and returns its rows,
    /// within the statement timeout.
    async fn query(
        &self,
        operation: &str,
        access: Access,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Vec<Row>, Error> {
        let client = self.client(operation).await?;
        let run = async {
            let statement = client.prepare_cached(sql).await?;
            client.query(&statement, params).await
        };
        match tokio::time::timeout(self.inner.limit.wait(), run).await {
            Ok(rows) => rows.map_err(|e| self.error(operation, &e)),
            Err(_) => Err(self.timed_out(client, operation, access)),
        }
    }

    /// Runs `sql` and returns its row, if any (at most one is expected).
    async fn query_opt(
        &self,
        operation: &str,
        access: Access,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Option<Row>, Error> {
        Ok(self
            .query(operation, access, sql, params)
            .await?
            .into_iter()
            .next())
    }

    fn decode(&self, key: &AccountKey, text: &str) -> Result<TokenSet, Error> {
        // serde_json's message may quote the stored text: not shown.
        serde_json::from_str(text).map_err(|e| {
            store_error(format!(
                "the stored tokens of {key} in {} are not a token set ({:?} error at line {}, \
                 column {}): written by an incompatible version, or by hand?",
                self.inner.table_display,
                e.classify(),
                e.line(),
                e.column()
            ))
        })
    }

    fn versioned(&self, key: &AccountKey, tokens: &str, version: i64) -> Result<Versioned, Error> {
        Ok(Versioned {
            tokens: self.decode(key, tokens)?,
            version: to_u64(version)?,
        })
    }

    /// Creates or updates the tables of this store to the schema version of
    /// this release ([`SCHEMA_VERSION`](crate::SCHEMA_VERSION)), recording
    /// it in the `oauth_store_schema` table next to the token table.
    ///
    /// Idempotent, and safe to call from every replica at start-up: it runs
    /// in one transaction under a PostgreSQL advisory lock
    /// (`pg_advisory_xact_lock`), so replicas starting together migrate one
    /// after the other, and the later ones find nothing to do. The role
    /// needs the right to create tables in the schema (or the DBA runs
    /// [`schema_sql`](Self::schema_sql) instead).
    ///
    /// Not bounded by the
    /// [`statement_timeout`](crate::PostgresStoreBuilder::statement_timeout)
    /// (the transaction sets PostgreSQL's `statement_timeout` to 0 for
    /// itself): it may wait for another replica's migration, and DDL on a
    /// large table may take long.
    ///
    /// # Errors
    /// [`Error::Store`] if the server refuses (missing privileges, a
    /// missing schema), or if the table was migrated by a newer release of
    /// this crate (its schema version is higher than this one's).
    pub async fn migrate(&self) -> Result<(), Error> {
        let names = &self.inner.names;
        let operation = "migrating the schema";
        let mut client = self.client(operation).await?;
        let err = |e: tokio_postgres::Error| self.error(operation, &e);
        let tx = client.transaction().await.map_err(err)?;
        tx.batch_execute("SET LOCAL statement_timeout = 0")
            .await
            .map_err(err)?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK_KEY])
            .await
            .map_err(err)?;
        tx.batch_execute(&schema::schema_table_ddl(names))
            .await
            .map_err(err)?;
        let current: i32 = tx
            .query_opt(
                &format!(
                    "SELECT version FROM {} WHERE table_name = $1",
                    names.schema_table_sql()
                ),
                &[&names.table()],
            )
            .await
            .map_err(err)?
            .map(|row| row.try_get(0))
            .transpose()
            .map_err(err)?
            .unwrap_or(0);
        if current > SCHEMA_VERSION {
            return Err(store_error(format!(
                "{} is at schema version {current}, newer than this release of \
                 oauth-store-postgres knows ({SCHEMA_VERSION}): upgrade the crate",
                self.inner.table_display
            )));
        }
        for (version, step) in schema::migrations(names) {
            if version > current {
                tx.batch_execute(&step).await.map_err(err)?;
                tracing::info!(
                    table = %self.inner.table_display,
                    version,
                    "oauth-store-postgres: schema migrated"
                );
            }
        }
        if current < SCHEMA_VERSION {
            tx.execute(
                &schema::record_version_sql(names),
                &[&names.table(), &SCHEMA_VERSION],
            )
            .await
            .map_err(err)?;
        }
        tx.commit().await.map_err(err)
    }

    /// The schema version recorded for this store's table, `None` if it was
    /// never migrated (no `oauth_store_schema` table, or no row for it).
    ///
    /// # Errors
    /// [`Error::Store`] if the server cannot be queried.
    pub async fn schema_version(&self) -> Result<Option<i32>, Error> {
        let names = &self.inner.names;
        let operation = "reading the schema version";
        let client = self.client(operation).await?;
        let schema_table = names.schema_table_sql();
        let run = async {
            let row = client
                .query_one("SELECT to_regclass($1) IS NOT NULL", &[&schema_table])
                .await?;
            if !row.try_get::<_, bool>(0)? {
                return Ok(None);
            }
            client
                .query_opt(
                    &format!("SELECT version FROM {schema_table} WHERE table_name = $1"),
                    &[&names.table()],
                )
                .await
        };
        let row = match tokio::time::timeout(self.inner.limit.wait(), run).await {
            Ok(row) => row.map_err(|e| self.error(operation, &e))?,
            Err(_) => return Err(self.timed_out(client, operation, Access::Read)),
        };
        row.map(|row| col(&row, 0)).transpose()
    }

    /// A compare-and-swap save, fenced when `fence` is given.
    async fn save_inner(
        &self,
        key: &AccountKey,
        tokens: &TokenSet,
        expected: Option<u64>,
        fence: Option<u64>,
    ) -> Result<SaveOutcome, Error> {
        if !storable(key.provider()) || !storable(key.account()) {
            return Err(store_error(format!(
                "cannot save {key:?}: PostgreSQL text cannot hold a NUL character"
            )));
        }
        let Ok(fence_param) = fence.map(i64::try_from).transpose() else {
            // No fencing number this large was ever granted.
            return Ok(SaveOutcome::Fenced);
        };
        let operation = format!("saving {key}");
        let text = serde_json::to_string(tokens)
            .map_err(|_| store_error(format!("cannot serialize the token set of {key}")))?;
        let provider = key.provider();
        let account = key.account();
        let saved = match expected {
            None => {
                let sql = match fence_param {
                    Some(fence) if fence != 0 => &self.inner.sql.create_fenced,
                    _ => &self.inner.sql.create,
                };
                self.query_opt(
                    &operation,
                    Access::Write,
                    sql,
                    &[&provider, &account, &text, &fence_param],
                )
                .await?
            }
            Some(expected) => match i64::try_from(expected) {
                Ok(expected) => {
                    self.query_opt(
                        &operation,
                        Access::Write,
                        &self.inner.sql.update,
                        &[&provider, &account, &text, &expected, &fence_param],
                    )
                    .await?
                }
                // No stored version is this large.
                Err(_) => None,
            },
        };
        if let Some(row) = saved {
            return Ok(SaveOutcome::Saved {
                version: to_u64(col(&row, 0)?)?,
            });
        }
        // Not written: say why, from the row as it is now (a separate read,
        // which only reports: nothing is written after it).
        let row = self
            .query_opt(
                &format!("reading {key} after a refused save"),
                Access::Read,
                &self.inner.sql.state,
                &[&provider, &account],
            )
            .await?;
        let stored_fence: i64 = match &row {
            Some(row) => col(row, 2)?,
            None => 0,
        };
        if let Some(fence) = fence_param
            && fence != stored_fence
        {
            return Ok(SaveOutcome::Fenced);
        }
        let current = match row {
            Some(row) => match col::<Option<&str>>(&row, 0)? {
                Some(tokens) => Some(self.versioned(key, tokens, col(&row, 1)?)?),
                None => None,
            },
            None => None,
        };
        Ok(SaveOutcome::Conflict { current })
    }
}

#[async_trait]
impl TokenStore for PostgresStore {
    async fn load(&self, key: &AccountKey) -> Result<Option<Versioned>, Error> {
        if !storable(key.provider()) || !storable(key.account()) {
            return Ok(None);
        }
        let row = self
            .query_opt(
                &format!("loading {key}"),
                Access::Read,
                &self.inner.sql.load,
                &[&key.provider(), &key.account()],
            )
            .await?;
        match row {
            Some(row) => Ok(Some(self.versioned(key, col(&row, 0)?, col(&row, 1)?)?)),
            None => Ok(None),
        }
    }

    async fn save(
        &self,
        key: &AccountKey,
        tokens: &TokenSet,
        expected: Option<u64>,
    ) -> Result<SaveOutcome, Error> {
        self.save_inner(key, tokens, expected, None).await
    }

    async fn save_fenced(
        &self,
        key: &AccountKey,
        tokens: &TokenSet,
        expected: Option<u64>,
        fence: u64,
    ) -> Result<SaveOutcome, Error> {
        self.save_inner(key, tokens, expected, Some(fence)).await
    }

    async fn delete(&self, key: &AccountKey) -> Result<(), Error> {
        if !storable(key.provider()) || !storable(key.account()) {
            return Ok(());
        }
        self.query(
            &format!("deleting {key}"),
            Access::Write,
            &self.inner.sql.delete,
            &[&key.provider(), &key.account()],
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
        if limit == 0 || !storable(provider) {
            return Ok(Vec::new());
        }
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let operation = format!("listing the accounts of {provider}");
        let rows = match after {
            None => {
                self.query(
                    &operation,
                    Access::Read,
                    &self.inner.sql.list_first,
                    &[&provider, &limit],
                )
                .await?
            }
            Some(after) => {
                // Stored ids hold no NUL, so "greater than `p\0…`" is
                // "greater than `p`" for them.
                let after = after.split('\0').next().unwrap_or_default();
                self.query(
                    &operation,
                    Access::Read,
                    &self.inner.sql.list_after,
                    &[&provider, &after, &limit],
                )
                .await?
            }
        };
        rows.iter().map(|row| col(row, 0)).collect()
    }

    async fn check_writable(&self) -> Result<(), Error> {
        let operation = "checking that the table is writable";
        let row = self
            .query_opt(
                operation,
                Access::Read,
                &self.inner.sql.check_writable,
                &[&self.inner.names.table_sql()],
            )
            .await?
            .ok_or_else(|| store_error(format!("{operation}: no answer")))?;
        let (privileged, in_recovery, read_only): (bool, bool, bool) =
            (col(&row, 0)?, col(&row, 1)?, col(&row, 2)?);
        let table = &self.inner.table_display;
        let server = self.inner.target.describe();
        if in_recovery {
            return Err(store_error(format!(
                "{table} on {server} is not writable: the server is a standby (in recovery)"
            )));
        }
        if read_only {
            return Err(store_error(format!(
                "{table} on {server} is not writable: the session is read-only \
                 (default_transaction_read_only)"
            )));
        }
        if !privileged {
            return Err(store_error(format!(
                "{table} on {server} is not writable: the role lacks SELECT, INSERT or UPDATE \
                 on it"
            )));
        }
        Ok(())
    }

    async fn acquire_lease(
        &self,
        key: &AccountKey,
        owner: &LeaseOwner,
        ttl: Duration,
    ) -> Result<LeaseOutcome, Error> {
        if !storable(key.provider()) || !storable(key.account()) {
            return Err(store_error(format!(
                "cannot lease {key:?}: PostgreSQL text cannot hold a NUL character"
            )));
        }
        let micros = i64::try_from(ttl.min(MAX_LEASE_TTL).as_micros()).unwrap_or(i64::MAX);
        let operation = format!("acquiring the refresh lease of {key}");
        let (provider, account, owner_text) = (key.provider(), key.account(), owner.as_str());
        let mut last_expiry = None;
        for _ in 0..LEASE_ATTEMPTS {
            let granted = self
                .query_opt(
                    &operation,
                    Access::Lease,
                    &self.inner.sql.acquire,
                    &[&provider, &account, &owner_text, &micros],
                )
                .await?;
            if let Some(row) = granted {
                return Ok(LeaseOutcome::Acquired(Lease {
                    owner: owner.clone(),
                    fence: to_u64(col(&row, 0)?)?,
                    expires_at: col(&row, 1)?,
                }));
            }
            // Held by another owner: by whom until when (a separate read,
            // which only reports).
            let state = self
                .query_opt(
                    &operation,
                    Access::Read,
                    &self.inner.sql.lease_state,
                    &[&provider, &account],
                )
                .await?;
            if let Some(row) = state {
                let holder: Option<&str> = col(&row, 0)?;
                let expires_at: Option<SystemTime> = col(&row, 1)?;
                let live: Option<bool> = col(&row, 2)?;
                if let (Some(holder), Some(expires_at), Some(true)) = (holder, expires_at, live)
                    && holder != owner_text
                {
                    return Ok(LeaseOutcome::Held { expires_at });
                }
                last_expiry = expires_at;
            }
            // Released or expired in between: try again.
        }
        Ok(LeaseOutcome::Held {
            expires_at: last_expiry.unwrap_or_else(SystemTime::now),
        })
    }

    async fn release_lease(&self, key: &AccountKey, lease: &Lease) -> Result<(), Error> {
        let Ok(fence) = i64::try_from(lease.fence) else {
            return Ok(());
        };
        if !storable(key.provider()) || !storable(key.account()) {
            return Ok(());
        }
        self.query(
            &format!("releasing the refresh lease of {key}"),
            Access::Write,
            &self.inner.sql.release,
            &[
                &key.provider(),
                &key.account(),
                &lease.owner.as_str(),
                &fence,
            ],
        )
        .await?;
        Ok(())
    }
}
