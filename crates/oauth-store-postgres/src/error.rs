//! Driver errors turned into [`oauth_core::Error`]s that never carry a
//! secret: no connection string or password, no tokens, no SQL parameters.

use deadpool_postgres::{PoolError, TimeoutType};
use oauth_core::Error;
use std::error::Error as _;
use std::time::Duration;
use tokio_postgres::error::{DbError, SqlState};

/// What the store knows about its server, for error messages: the host(s),
/// port(s), database and user, never the password.
/// No `Debug`: it holds the password.
#[derive(Clone, Default)]
pub(crate) struct Target {
    /// `host:port, host:port` (or the socket directories).
    pub(crate) hosts: String,
    /// The database name, if the connection string gave one.
    pub(crate) dbname: Option<String>,
    /// The password, only to scrub it from messages if a driver ever
    /// echoes it (none is known to).
    pub(crate) password: Option<Vec<u8>>,
}

impl Target {
    /// `PostgreSQL at 127.0.0.1:5432 (database app)`.
    pub(crate) fn describe(&self) -> String {
        match &self.dbname {
            Some(db) => format!("PostgreSQL at {} (database {db})", self.hosts),
            None => format!("PostgreSQL at {}", self.hosts),
        }
    }

    /// `message` with every occurrence of the password replaced by `***`.
    pub(crate) fn scrub(&self, message: String) -> String {
        match &self.password {
            Some(password) if !password.is_empty() => match std::str::from_utf8(password) {
                Ok(p) if message.contains(p) => message.replace(p, "***"),
                _ => message,
            },
            _ => message,
        }
    }
}

/// SQLSTATE classes whose server messages name objects, roles and
/// settings but never echo values (so never a token or a parameter):
/// connection exceptions, invalid authorization, invalid catalog or schema
/// names, invalid transaction state, transaction rollbacks, syntax errors
/// and access rule violations, insufficient resources, object state,
/// operator intervention, system errors.
const SAFE_CLASSES: [&str; 12] = [
    "08", "0A", "28", "3D", "3F", "25", "40", "42", "53", "55", "57", "58",
];

/// The server's error, as far as it is safe to show: its SQLSTATE code,
/// and its primary message when the code's class never echoes values
/// (never the DETAIL, HINT, WHERE or the statement).
fn describe_db_error(db: &DbError) -> String {
    let code = db.code().code();
    let safe = SAFE_CLASSES.iter().any(|class| code.starts_with(class));
    if safe {
        format!("{} (SQLSTATE {code})", db.message())
    } else {
        format!("the server refused the statement (SQLSTATE {code})")
    }
}

/// A driver error, described without secrets: the driver's kind (its
/// `Display` never includes the configuration), the server's error as far
/// as [`describe_db_error`] shows it, and the cause of a client-side
/// failure (an OS error such as "connection refused", a TLS or
/// authentication failure), which names no value either.
pub(crate) fn describe_pg_error(error: &tokio_postgres::Error) -> String {
    if let Some(db) = error.as_db_error() {
        return describe_db_error(db);
    }
    match error.source() {
        Some(source) => format!("{error}: {source}"),
        None => error.to_string(),
    }
}

/// What a statement does, for what a lost answer means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Access {
    /// Reads only: nothing to be unsure about.
    Read,
    /// Grants a refresh lease: a grant may have been made; it lapses at
    /// the end of its term, only delaying the other replicas.
    Lease,
    /// Saves, deletes or releases: may or may not have been applied.
    Write,
}

/// How long the store waits for a statement's answer.
#[derive(Debug, Clone, Copy)]
pub(crate) struct StatementLimit {
    /// The configured statement timeout.
    limit: Duration,
    /// How long the store waits: the limit, plus a grace for the server's
    /// own answer when the server enforces the limit too.
    wait: Duration,
}

/// How long the store waits beyond the server's `statement_timeout` for the
/// server's own answer (which, unlike the store giving up, says that
/// nothing was written).
const SERVER_ANSWER_GRACE: Duration = Duration::from_secs(1);

impl StatementLimit {
    /// A limit the server enforces too (its `statement_timeout`).
    pub(crate) fn with_server(limit: Duration) -> Self {
        Self {
            limit,
            wait: limit.saturating_add(SERVER_ANSWER_GRACE),
        }
    }

    /// A limit only the store keeps.
    pub(crate) fn client_only(limit: Duration) -> Self {
        Self { limit, wait: limit }
    }

    /// How long the store waits for an answer.
    pub(crate) fn wait(&self) -> Duration {
        self.wait
    }

    /// The error for `operation`, which got no answer within
    /// [`wait`](Self::wait).
    pub(crate) fn timed_out(
        &self,
        target: &Target,
        table: &str,
        operation: &str,
        access: Access,
    ) -> Error {
        let head = format!(
            "{operation} in {table} on {}: no answer within {} ms (statement timeout {} ms; a \
             lock held by another session, an overloaded server or a lost connection)",
            target.describe(),
            self.wait.as_millis(),
            self.limit.as_millis()
        );
        match access {
            Access::Read => Error::StoreBusy {
                message: target.scrub(head),
            },
            Access::Lease => Error::StoreBusy {
                message: target.scrub(format!(
                    "{head}; the lease may or may not have been granted (if it was, it lapses \
                     at the end of its term)"
                )),
            },
            Access::Write => Error::Store {
                message: target.scrub(format!(
                    "{head}; the write may or may not have been applied"
                )),
            },
        }
    }
}

/// A failed `operation` (e.g. `loading ebay/seller-1`) on `table`.
pub(crate) fn pg_error(
    target: &Target,
    table: &str,
    operation: &str,
    error: &tokio_postgres::Error,
) -> Error {
    if let Some(code) = error.code()
        && (*code == SqlState::QUERY_CANCELED || *code == SqlState::LOCK_NOT_AVAILABLE)
    {
        // The server abandoned the statement (its statement_timeout or
        // lock_timeout, or an administrator's cancel) and rolled it back.
        return Error::StoreBusy {
            message: target.scrub(format!(
                "{operation} in {table} on {}: {}; the server abandoned the statement and \
                 nothing was written (a lock held by another session, or an overloaded server)",
                target.describe(),
                describe_pg_error(error)
            )),
        };
    }
    let hint = match error.code() {
        Some(code) if *code == SqlState::UNDEFINED_TABLE => {
            " (run PostgresStore::migrate, or the SQL of PostgresStore::schema_sql, first)"
        }
        Some(code) if *code == SqlState::INSUFFICIENT_PRIVILEGE => {
            " (the role needs SELECT, INSERT and UPDATE on the table)"
        }
        Some(code) if *code == SqlState::READ_ONLY_SQL_TRANSACTION => {
            " (connected to a read-only server or standby)"
        }
        _ => "",
    };
    Error::Store {
        message: target.scrub(format!(
            "{operation} in {table} on {}: {}{hint}",
            target.describe(),
            describe_pg_error(error)
        )),
    }
}

/// A connection could not be taken from the pool: a timeout is
/// [`Error::StoreBusy`] (retryable), anything else [`Error::Store`].
pub(crate) fn pool_error(target: &Target, operation: &str, error: &PoolError) -> Error {
    let message = match error {
        PoolError::Timeout(kind) => {
            let what = match kind {
                TimeoutType::Wait => "no pooled connection became free",
                TimeoutType::Create => "connecting took too long",
                TimeoutType::Recycle => "checking a pooled connection took too long",
            };
            return Error::StoreBusy {
                message: target.scrub(format!(
                    "{operation}: {what} within the pool's timeout ({})",
                    target.describe()
                )),
            };
        }
        PoolError::Backend(e) => format!(
            "{operation}: cannot connect to {}: {}",
            target.describe(),
            describe_pg_error(e)
        ),
        PoolError::Closed => format!("{operation}: the connection pool is closed"),
        PoolError::NoRuntimeSpecified => format!(
            "{operation}: the connection pool has no runtime: build it with \
             deadpool_postgres::Runtime::Tokio1 to use timeouts"
        ),
        PoolError::PostCreateHook(_) => format!(
            "{operation}: the connection pool's post-create hook failed ({})",
            target.describe()
        ),
    };
    Error::Store {
        message: target.scrub(message),
    }
}

/// A store error with a message of ours.
pub(crate) fn store_error(message: impl Into<String>) -> Error {
    Error::Store {
        message: message.into(),
    }
}

/// A configuration error.
pub(crate) fn config_error(message: impl Into<String>) -> Error {
    Error::Configuration {
        message: message.into(),
    }
}
