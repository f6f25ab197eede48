//! Mapping Redis errors onto [`oauth_core::Error`] without leaking secrets.
//!
//! Messages are built from our own words, the operation, the account key
//! and the server's error *code* (one upper-case word such as `READONLY`);
//! never from the client's error text or the server's error detail, which
//! can quote the URL, script arguments or values.

use oauth_core::{AccountKey, Error};
use redis::{ErrorKind, RedisError, ServerErrorKind};
use std::io;
use std::time::Duration;

/// What the store was doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Op {
    Connect,
    Load,
    Save,
    Delete,
    List,
    CheckWritable,
    AcquireLease,
    ReleaseLease,
}

impl Op {
    fn name(self) -> &'static str {
        match self {
            Self::Connect => "connecting",
            Self::Load => "load",
            Self::Save => "save",
            Self::Delete => "delete",
            Self::List => "listing accounts",
            Self::CheckWritable => "write check",
            Self::AcquireLease => "acquiring the refresh lease",
            Self::ReleaseLease => "releasing the refresh lease",
        }
    }

    /// Whether a lost answer leaves the outcome unknown (the command may
    /// have been applied).
    fn writes(self) -> bool {
        matches!(
            self,
            Self::Save | Self::Delete | Self::AcquireLease | Self::ReleaseLease
        )
    }
}

/// The context of an error: the operation and, when there is one, the
/// account.
pub(crate) struct Context<'a> {
    pub(crate) op: Op,
    pub(crate) key: Option<&'a AccountKey>,
}

impl Context<'_> {
    fn head(&self) -> String {
        match self.key {
            Some(key) => format!("Redis {} of {key}", self.op.name()),
            None => format!("Redis {}", self.op.name()),
        }
    }

    /// A [`Error::Store`] with `what`.
    pub(crate) fn store(&self, what: &str) -> Error {
        Error::Store {
            message: format!("{}: {what}", self.head()),
        }
    }

    fn busy(&self, what: &str) -> Error {
        Error::StoreBusy {
            message: format!("{}: {what}", self.head()),
        }
    }

    /// The error for an operation that got no answer within `deadline`.
    pub(crate) fn timed_out(&self, deadline: Duration) -> Error {
        let ms = deadline.as_millis();
        if self.op.writes() {
            self.store(&format!(
                "no answer from the server within {ms} ms; the write may or may not have been applied"
            ))
        } else {
            self.busy(&format!("no answer from the server within {ms} ms"))
        }
    }

    /// The error for `e`.
    pub(crate) fn redis(&self, e: &RedisError) -> Error {
        if e.is_timeout() {
            // Connection timeouts surface as I/O timeouts too; nothing was
            // sent then, but the client does not tell which.
            return if self.op == Op::Connect {
                self.busy("the server did not answer in time")
            } else {
                self.timed_out_unknown()
            };
        }
        if e.is_connection_refusal() {
            return self.store("connection refused (is the server running, and the port right?)");
        }
        let code = e.code().filter(|c| is_error_code(c));
        // A command refused by ACL inside a script comes back as a plain
        // `ERR`: recognised by the server's fixed wording, never quoted.
        let code = match (code, e.detail()) {
            (Some("ERR"), Some(detail)) if detail.contains("can't run this command") => {
                Some("NOPERM")
            }
            _ => code,
        };
        match (e.kind(), code) {
            (ErrorKind::Server(ServerErrorKind::ReadOnly), _) | (_, Some("READONLY")) => self
                .store("the server is a read-only replica (READONLY): connect to the primary"),
            (_, Some("OOM")) => self.store(
                "the server is out of memory and refuses writes (OOM): raise maxmemory (keep maxmemory-policy noeviction)",
            ),
            (_, Some("MISCONF")) => self.store(
                "the server refuses writes because it cannot persist them (MISCONF): check its disk",
            ),
            (_, Some("NOREPLICAS")) => {
                self.store("the server refuses writes: not enough replicas (NOREPLICAS)")
            }
            (_, Some(c @ ("WRONGPASS" | "NOAUTH"))) | (ErrorKind::AuthenticationFailed, Some(c)) => {
                self.store(&format!("authentication failed ({c}): check the user and password"))
            }
            (ErrorKind::AuthenticationFailed, None) => {
                self.store("authentication failed: check the user and password")
            }
            (ErrorKind::Server(ServerErrorKind::NoPerm), _) | (_, Some("NOPERM")) => self.store(
                "the user lacks a permission the store needs (NOPERM): see the crate's setup notes",
            ),
            (ErrorKind::Server(ServerErrorKind::BusyLoading), _) => {
                self.busy("the server is loading its data set (LOADING)")
            }
            (_, Some("BUSY")) => self.busy("the server is busy running a script (BUSY)"),
            (ErrorKind::Server(ServerErrorKind::TryAgain), _) => self.busy("TRYAGAIN"),
            (ErrorKind::Server(ServerErrorKind::MasterDown), _) => {
                self.busy("the replica's primary is down (MASTERDOWN)")
            }
            (ErrorKind::Server(ServerErrorKind::Moved | ServerErrorKind::Ask), _)
            | (_, Some("CROSSSLOT")) => self.store(
                "the server is a Redis Cluster node, which this store does not support (MOVED/ASK/CROSSSLOT)",
            ),
            (ErrorKind::Io, _) => self.store(&format!(
                "connection failed ({})",
                io_kind(e).map_or_else(|| "I/O error".to_owned(), |k| k.to_string())
            )),
            (ErrorKind::InvalidClientConfig, _) => self.store("invalid client configuration"),
            (ErrorKind::Parse | ErrorKind::UnexpectedReturnType, _) => {
                self.store("unexpected answer from the server")
            }
            (_, Some(code)) => self.store(&format!("the server answered with an error ({code})")),
            (kind, None) => self.store(&format!("{} error", kind_name(kind))),
        }
    }

    fn timed_out_unknown(&self) -> Error {
        if self.op.writes() {
            self.store(
                "no answer from the server in time; the write may or may not have been applied",
            )
        } else {
            self.busy("no answer from the server in time")
        }
    }
}

/// Whether `code` looks like a Redis error code (an upper-case word), so
/// that nothing else is ever quoted.
fn is_error_code(code: &str) -> bool {
    !code.is_empty()
        && code.len() <= 24
        && code.bytes().all(|b| b.is_ascii_uppercase() || b == b'_')
}

fn io_kind(e: &RedisError) -> Option<io::ErrorKind> {
    std::error::Error::source(e)
        .and_then(|s| s.downcast_ref::<io::Error>())
        .map(io::Error::kind)
}

fn kind_name(kind: ErrorKind) -> &'static str {
    match kind {
        ErrorKind::Client => "client",
        ErrorKind::Extension => "server",
        ErrorKind::Server(_) => "server",
        _ => "Redis",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx(op: Op) -> Context<'static> {
        Context { op, key: None }
    }

    #[test]
    fn codes_only_when_they_look_like_codes() {
        assert!(is_error_code("READONLY"));
        assert!(is_error_code("WRONGPASS"));
        assert!(!is_error_code("secret-token"));
        assert!(!is_error_code("ERR with words"));
        assert!(!is_error_code(""));
    }

    #[test]
    fn timeouts_of_writes_say_the_outcome_is_unknown() {
        let save = ctx(Op::Save).timed_out(Duration::from_millis(1500));
        assert!(matches!(save, Error::Store { .. }), "{save:?}");
        assert!(save.to_string().contains("may or may not"), "{save}");
        let load = ctx(Op::Load).timed_out(Duration::from_millis(1500));
        assert!(matches!(load, Error::StoreBusy { .. }), "{load:?}");
        assert!(load.is_retryable());
    }

    #[test]
    fn server_errors_are_classified_without_their_detail() {
        let e = RedisError::from((
            ErrorKind::Server(ServerErrorKind::ReadOnly),
            "You can't write",
            "against a read only replica; secret-detail".to_owned(),
        ));
        let mapped = ctx(Op::Save).redis(&e);
        assert!(matches!(mapped, Error::Store { .. }));
        let text = format!("{mapped} {mapped:?}");
        assert!(text.contains("READONLY"), "{text}");
        assert!(!text.contains("secret-detail"), "{text}");
    }
}
