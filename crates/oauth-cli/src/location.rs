//! `--store`: where the tokens live, parsed once into a [`StoreLocation`].
//!
//! - a path: a JSON token file ([`FileStore`]), for one machine;
//! - `postgres://…` / `postgresql://…`: a table in a PostgreSQL database
//!   ([`PostgresStore`]), shared by every machine that can reach it;
//! - `redis://…` / `rediss://…`: keys on a Redis server ([`RedisStore`]), shared alike.
//!
//! Credentials come from the URL or the environment: for PostgreSQL, as libpq does, a
//! URL without a password takes `PGPASSWORD` (and one without a user `PGUSER`), which
//! tokio-postgres does not read by itself; for Redis, a URL without a password takes
//! `REDIS_PASSWORD`. The CLI's own URL parameters (PostgreSQL `table` and `schema`,
//! Redis `prefix`) are taken out before the URL reaches the driver.
//!
//! A location is only ever shown redacted ([`fmt::Display`], [`fmt::Debug`]): scheme,
//! hosts and ports, database, and the CLI's parameters; never the user, the password
//! or another query parameter. The URL used to connect is private to this module, and
//! [`StoreLocation::secrets`] lists the passwords so that error reporting can scrub
//! them from anything a driver might ever echo.

use std::ffi::OsStr;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use oauth_core::url::Url;
use oauth_core::{Error, FileStore, TokenStore, encode_component};
use oauth_store_postgres::{PostgresStore, SCHEMA_VERSION};
use oauth_store_redis::{Durability, RedisStore};

use crate::error::{CliError, EXIT_FAILURE, EXIT_USAGE, Hints};

/// The connections a CLI process opens to PostgreSQL at most.
const POSTGRES_POOL_SIZE: usize = 2;

/// The schemes `--store` understands, for messages.
const SCHEMES: &str = "postgres://, postgresql://, redis:// or rediss://";

/// Where `--store` keeps the tokens.
#[derive(Clone)]
pub enum StoreLocation {
    /// A JSON token file.
    File(PathBuf),
    /// A PostgreSQL database.
    Postgres(PostgresUrl),
    /// A Redis server.
    Redis(RedisUrl),
}

/// A PostgreSQL `--store`. No `Debug` derive: the connection URL may hold a password.
#[derive(Clone)]
pub struct PostgresUrl {
    /// What tokio-postgres gets: the URL without the CLI's parameters, with
    /// `PGPASSWORD`/`PGUSER` filled in. Never shown.
    connect: String,
    /// The password in use, decoded and as written, to scrub from messages.
    secrets: Vec<String>,
    /// The redacted form.
    shown: String,
    /// `?table=` (default: the store's `oauth_tokens`).
    table: Option<String>,
    /// `?schema=` (default: the role's `search_path`).
    schema: Option<String>,
}

/// A Redis `--store`. No `Debug` derive: the connection URL may hold a password.
#[derive(Clone)]
pub struct RedisUrl {
    /// What the redis client gets: the URL without `prefix`, with `REDIS_PASSWORD`
    /// filled in. Never shown.
    connect: String,
    /// The password in use, decoded and as written, to scrub from messages.
    secrets: Vec<String>,
    /// The redacted form.
    shown: String,
    /// `?prefix=` (default: the store's `oauth`).
    prefix: Option<String>,
}

impl fmt::Display for StoreLocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::File(path) => write!(f, "{}", path.display()),
            Self::Postgres(url) => f.write_str(&url.shown),
            Self::Redis(url) => f.write_str(&url.shown),
        }
    }
}

impl fmt::Debug for StoreLocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self {
            Self::File(_) => "File",
            Self::Postgres(_) => "Postgres",
            Self::Redis(_) => "Redis",
        };
        write!(f, "{kind}({self})")
    }
}

/// The scheme of `text` (lower case) when it starts like a URL (`scheme://`).
fn scheme_of(text: &str) -> Option<String> {
    let (scheme, _) = text.split_once("://")?;
    let mut chars = scheme.chars();
    let first = chars.next()?;
    (first.is_ascii_alphabetic()
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.')))
    .then(|| scheme.to_ascii_lowercase())
}

/// `text` percent-decoded as tokio-postgres and redis decode user names and passwords
/// (`+` stays `+`; an invalid escape is kept as it is; invalid UTF-8 is replaced).
fn percent_decode(text: &str) -> String {
    let mut out = Vec::with_capacity(text.len());
    let mut rest = text.as_bytes();
    while let Some((&first, tail)) = rest.split_first() {
        let escaped = tail
            .get(..2)
            .filter(|hex| first == b'%' && hex.iter().all(u8::is_ascii_hexdigit))
            .and_then(|hex| std::str::from_utf8(hex).ok())
            .and_then(|hex| u8::from_str_radix(hex, 16).ok());
        match escaped {
            Some(byte) => {
                out.push(byte);
                rest = tail.get(2..).unwrap_or_default();
            }
            None => {
                out.push(first);
                rest = tail;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A configuration error about `--store` that quotes nothing of its value.
fn invalid(message: impl fmt::Display) -> CliError {
    CliError::configuration(format!("--store (OAUTH_STORE): {message}"))
}

impl StoreLocation {
    /// Parses `--store`: a URL of a known scheme, or else a file path. `env` reads the
    /// environment (`PGPASSWORD`, `PGUSER`, `REDIS_PASSWORD`).
    ///
    /// # Errors
    /// A configuration error (exit code 2) for an unknown scheme or an unusable URL;
    /// it never quotes the URL.
    pub fn parse(value: &OsStr, env: &dyn Fn(&str) -> Option<String>) -> Result<Self, CliError> {
        let Some(text) = value.to_str() else {
            return Ok(Self::File(PathBuf::from(value)));
        };
        let text = text.trim();
        match scheme_of(text).as_deref() {
            None => Ok(Self::File(PathBuf::from(value))),
            Some(scheme @ ("postgres" | "postgresql")) => {
                PostgresUrl::parse(scheme, text, env).map(Self::Postgres)
            }
            Some(scheme @ ("redis" | "rediss")) => {
                RedisUrl::parse(scheme, text, env).map(Self::Redis)
            }
            Some(other) if other.len() <= 16 => Err(invalid(format_args!(
                "unsupported scheme `{other}://`: give a token file path, or a URL starting \
                 with {SCHEMES}"
            ))),
            Some(_) => Err(invalid(format_args!(
                "unsupported URL scheme: give a token file path, or a URL starting with {SCHEMES}"
            ))),
        }
    }

    /// The token file, for a file location.
    pub fn file(&self) -> Option<&Path> {
        match self {
            Self::File(path) => Some(path),
            _ => None,
        }
    }

    /// What the location is called in messages: "token file" or "token store".
    pub fn noun(&self) -> &'static str {
        match self {
            Self::File(_) => "token file",
            Self::Postgres(_) | Self::Redis(_) => "token store",
        }
    }

    /// The passwords this location connects with, to scrub from every message.
    pub fn secrets(&self) -> Vec<String> {
        match self {
            Self::File(_) => Vec::new(),
            Self::Postgres(url) => url.secrets.clone(),
            Self::Redis(url) => url.secrets.clone(),
        }
    }

    /// What to check when the store cannot be written.
    pub fn write_hint(&self) -> &'static str {
        match self {
            Self::File(_) => {
                "make the token file, its directory and its `.lock` file writable by this \
                 user, then run the command again"
            }
            Self::Postgres(_) => {
                "the role needs SELECT, INSERT and UPDATE on the token table, on a primary \
                 (not a read-only standby); then run the command again"
            }
            Self::Redis(_) => {
                "connect to the primary (not a read-only replica), check that it has memory \
                 left and can persist, and that the user may write keys under the prefix; \
                 then run the command again"
            }
        }
    }

    /// The store at this location, in clear: a [`FileStore`] for a file (opened
    /// lazily), a connected [`PostgresStore`] or [`RedisStore`] otherwise. PostgreSQL:
    /// the token table must exist at this release's schema version.
    ///
    /// # Errors
    /// - exit code 1, kind `store_unreachable` (retryable): the server cannot be reached;
    /// - exit code 2: the URL is unusable (kind `configuration`), the server refused
    ///   the credentials or the database (`store_access_denied`), or the table was not
    ///   created (`store_not_initialized`: run `oauth store init`).
    pub async fn connect(&self) -> Result<Arc<dyn TokenStore>, CliError> {
        match self {
            Self::File(path) => Ok(Arc::new(FileStore::new(path))),
            Self::Postgres(url) => {
                let store = url.build(self).await?;
                self.check_schema(&store).await?;
                Ok(Arc::new(store))
            }
            Self::Redis(url) => Ok(Arc::new(url.build(self).await?)),
        }
    }

    /// The table's schema version must be this release's.
    async fn check_schema(&self, store: &PostgresStore) -> Result<(), CliError> {
        let version = store
            .schema_version()
            .await
            .map_err(|e| self.open_error(&e))?;
        let table = store.table_name();
        match version {
            Some(v) if v == SCHEMA_VERSION => Ok(()),
            Some(v) if v > SCHEMA_VERSION => Err(CliError::new(
                "store_schema_newer",
                EXIT_USAGE,
                format!(
                    "the token table {table} of {self} is at schema version {v}, newer than \
                     this `oauth` knows ({SCHEMA_VERSION}); nothing was read or written"
                ),
            )
            .with_hint("upgrade `oauth` to the release that migrated the table")),
            found => Err(CliError::new(
                "store_not_initialized",
                EXIT_USAGE,
                match found {
                    Some(v) => format!(
                        "the token table {table} of {self} is at schema version {v}; this \
                         `oauth` needs version {SCHEMA_VERSION}"
                    ),
                    None => format!(
                        "the token store {self} has no token table {table} (its schema was \
                         never created)"
                    ),
                },
            )
            .with_hint(
                "create or upgrade it once with `oauth store init` and the same --store (the \
                 role needs the right to create tables), or have a DBA run the SQL of \
                 oauth_store_postgres::PostgresStore::schema_sql",
            )),
        }
    }

    /// `oauth store init`: creates or upgrades the PostgreSQL schema (idempotent, under
    /// an advisory lock); checks a Redis server (reachable, writable, durable). Returns
    /// what to report, and a warning for a Redis server that can lose writes.
    ///
    /// # Errors
    /// As [`connect`](Self::connect), and the migration's failure.
    pub async fn init(&self) -> Result<Initialized, CliError> {
        match self {
            Self::File(path) => Ok(Initialized {
                message: format!(
                    "{}: a token file needs no initialization: `exchange` (or the first \
                     Eshopbox or `ebay app-token` token) creates it",
                    path.display()
                ),
                details: serde_json::json!({ "kind": "file" }),
                warning: None,
            }),
            Self::Postgres(url) => {
                let store = url.build(self).await?;
                store.migrate().await.map_err(|e| self.open_error(&e))?;
                self.check_schema(&store).await?;
                let table = store.table_name().to_owned();
                Ok(Initialized {
                    message: format!(
                        "{self}: token table {table} ready (schema version {SCHEMA_VERSION})"
                    ),
                    details: serde_json::json!({
                        "kind": "postgres",
                        "table": table,
                        "schema_version": SCHEMA_VERSION,
                    }),
                    warning: None,
                })
            }
            Self::Redis(url) => {
                let store = url.build(self).await?;
                store
                    .check_writable()
                    .await
                    .map_err(|e| self.open_error(&e))?;
                let durability = store.durability();
                let name = durability_name(durability);
                let warning = (durability != Durability::Always).then(|| {
                    format!(
                        "the Redis server of {self} is not configured to persist every write \
                         before acknowledging it ({name}): a rotated refresh token saved just \
                         before a crash can be lost, and the seller must then authorize \
                         again; set `appendonly yes` and `appendfsync always`"
                    )
                });
                Ok(Initialized {
                    message: format!(
                        "{self}: Redis store ready (prefix {}, durability {name}); it needs no \
                         schema",
                        store.prefix()
                    ),
                    details: serde_json::json!({
                        "kind": "redis",
                        "prefix": store.prefix(),
                        "durability": name,
                    }),
                    warning,
                })
            }
        }
    }

    /// A store error met while connecting, classified: exit code 2 for what only a
    /// change of configuration fixes (an unusable URL, refused credentials, a missing
    /// database, missing privileges), else exit code 1 "unreachable", retryable.
    pub fn open_error(&self, error: &Error) -> CliError {
        if let Error::Configuration { .. } = error {
            return CliError::from_provider(
                &format!("the {} {self} cannot be used", self.noun()),
                error,
                Hints::NONE,
            );
        }
        let text = error.to_string();
        let denied = [
            "(SQLSTATE 28",     // invalid authorization: user or password
            "(SQLSTATE 3D000)", // no such database
            "(SQLSTATE 3F000)", // no such schema
            "(SQLSTATE 42501)", // insufficient privilege
            "authentication failed",
            "(NOPERM)",
        ]
        .iter()
        .any(|marker| text.contains(marker));
        if denied {
            let credentials = match self {
                Self::Redis(_) => "the user and password (in the URL, or REDIS_PASSWORD)",
                _ => {
                    "the user and password (in the URL, or PGPASSWORD), the database and the role's privileges"
                }
            };
            return CliError::new(
                "store_access_denied",
                EXIT_USAGE,
                format!("the {} {self} refused access: {error}", self.noun()),
            )
            .with_hint(format!("check {credentials} in --store (OAUTH_STORE)"));
        }
        CliError::new(
            "store_unreachable",
            EXIT_FAILURE,
            format!(
                "the {} {self} is unreachable (a temporary failure: retry): {error}",
                self.noun()
            ),
        )
        .with_retryable()
        .with_hint(
            "check that the server runs and that --store (OAUTH_STORE) names its host and port, \
             then run the command again; nothing was read or written",
        )
    }
}

/// What `oauth store init` did.
pub struct Initialized {
    /// The line to print.
    pub message: String,
    /// The JSON fields of `--json`.
    pub details: serde_json::Value,
    /// A warning for stderr.
    pub warning: Option<String>,
}

fn durability_name(durability: Durability) -> &'static str {
    match durability {
        Durability::Always => "always",
        Durability::EverySecond => "every-second",
        Durability::OsFlush => "os-flush",
        Durability::NotPersisted => "not-persisted",
        _ => "unknown",
    }
}

impl PostgresUrl {
    /// Parses a PostgreSQL URL the way tokio-postgres does (`user:password@` up to the
    /// first `@`; hosts up to `/` or `?`; the database up to `?`; `key=value` options),
    /// takes out `table` and `schema`, and fills in `PGPASSWORD` / `PGUSER`.
    fn parse(
        scheme: &str,
        text: &str,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Self, CliError> {
        let rest = text.split_once("://").map_or("", |(_, rest)| rest);
        let (creds, rest) = match rest.split_once('@') {
            Some((creds, rest)) => (Some(creds), rest),
            None => (None, rest),
        };
        let (before_query, query) = match rest.split_once('?') {
            Some((before, query)) => (before, Some(query)),
            None => (rest, None),
        };
        let (hosts, database) = match before_query.split_once('/') {
            Some((hosts, database)) => (hosts, Some(database)),
            None => (before_query, None),
        };
        if hosts.contains('@') || database.is_some_and(|d| d.contains('@')) {
            // Another `@`: a password with a raw `@`, which the driver would split at
            // the first one, taking the rest of the password for a host name.
            return Err(invalid(
                "a PostgreSQL URL has one `@`, after the user and password: percent-encode \
                 `@` in a password as %40 (and `/` as %2F, `?` as %3F)",
            ));
        }
        if !hosts.split(',').all(is_host_and_port) {
            // Most likely `USER:PASSWORD` without `@HOST`: the host part would be
            // shown, password and all. Quote nothing of it.
            return Err(invalid(
                "the host part of a PostgreSQL URL is HOST[:PORT] (several separated by `,`, \
                 an IPv6 address in brackets), and a `:` there must be followed by a port \
                 number; a user and password go before an `@`: \
                 postgres://USER:PASSWORD@HOST[:PORT]/DATABASE",
            ));
        }
        let (mut user, mut url_password) = match creds {
            Some(creds) => match creds.split_once(':') {
                Some((user, password)) => (user.to_owned(), Some(password.to_owned())),
                None => (creds.to_owned(), None),
            },
            None => (String::new(), None),
        };
        let mut table = None;
        let mut schema = None;
        let mut options = Vec::new();
        let mut user_option = false;
        for pair in query.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            match key {
                "table" => table = Some(percent_decode(value)),
                "schema" => schema = Some(percent_decode(value)),
                _ => {
                    if key == "password" && url_password.as_deref().is_none_or(str::is_empty) {
                        url_password = Some(value.to_owned());
                    }
                    user_option |= key == "user" && !value.is_empty();
                    options.push(pair);
                }
            }
        }
        let raw_password = url_password.filter(|p| !p.is_empty());
        let mut password = raw_password.as_deref().map(percent_decode);
        if user.is_empty() && !user_option {
            match env("PGUSER").filter(|u| !u.trim().is_empty()) {
                Some(from_env) => user = encode_component(from_env.trim()),
                None => {
                    return Err(invalid(
                        "the PostgreSQL URL names no user: postgres://USER@HOST/DATABASE (the \
                         password in the URL or in PGPASSWORD), or set PGUSER",
                    ));
                }
            }
        }
        let mut creds = user;
        match &password {
            Some(_) => {
                // As given: the URL's own (encoded) password, or `password=` below.
                if let Some((_, given)) = creds_password(text) {
                    creds = format!("{creds}:{given}");
                }
            }
            None => {
                if let Some(from_env) = env("PGPASSWORD").filter(|p| !p.is_empty()) {
                    creds = format!("{creds}:{}", encode_component(&from_env));
                    password = Some(from_env);
                }
            }
        }
        let mut connect = format!("{scheme}://");
        if !creds.is_empty() {
            connect.push_str(&creds);
            connect.push('@');
        }
        connect.push_str(hosts);
        if let Some(database) = database {
            connect.push('/');
            connect.push_str(database);
        }
        if !options.is_empty() {
            connect.push('?');
            connect.push_str(&options.join("&"));
        }
        let mut shown = format!("{scheme}://{hosts}");
        if let Some(database) = database.filter(|d| !d.is_empty()) {
            shown.push('/');
            shown.push_str(database);
        }
        let mut params = Vec::new();
        if let Some(schema) = &schema {
            params.push(format!("schema={}", encode_component(schema)));
        }
        if let Some(table) = &table {
            params.push(format!("table={}", encode_component(table)));
        }
        if !params.is_empty() {
            shown.push('?');
            shown.push_str(&params.join("&"));
        }
        Ok(Self {
            connect,
            secrets: secrets_of(password, raw_password),
            shown,
            table,
            schema,
        })
    }

    async fn build(&self, location: &StoreLocation) -> Result<PostgresStore, CliError> {
        let mut builder =
            PostgresStore::builder(self.connect.clone()).pool_size(POSTGRES_POOL_SIZE);
        if let Some(table) = &self.table {
            builder = builder.table(table.clone());
        }
        if let Some(schema) = &self.schema {
            builder = builder.schema(schema.clone());
        }
        builder.build().await.map_err(|e| location.open_error(&e))
    }
}

/// A password in use, decoded, encoded and as written: what error reporting scrubs.
fn secrets_of(password: Option<String>, raw: Option<String>) -> Vec<String> {
    let mut secrets = Vec::new();
    if let Some(password) = password {
        secrets.push(encode_component(&password));
        secrets.push(password);
    }
    secrets.extend(raw);
    secrets.retain(|s| !s.is_empty());
    secrets.sort();
    secrets.dedup();
    // The longest first, so that scrubbing one does not leave part of another.
    secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
    secrets
}

/// Whether `chunk`, one host of a PostgreSQL URL's host list, is `HOST`, `HOST:PORT`,
/// `[IPV6]` or `[IPV6]:PORT` (split as tokio-postgres splits it: at the first `:`,
/// or after the `]`), with a port of 1 to 5 digits that fits 16 bits. Anything else
/// may be `USER:PASSWORD` whose `@HOST` was forgotten.
fn is_host_and_port(chunk: &str) -> bool {
    let port = if let Some(bracketed) = chunk.strip_prefix('[') {
        match bracketed.split_once(']') {
            Some((_, "")) => return true,
            Some((_, after)) => after.strip_prefix(':'),
            None => None,
        }
    } else {
        match chunk.split_once(':') {
            Some((_, port)) => Some(port),
            None => return true,
        }
    };
    port.is_some_and(|p| {
        (1..=5).contains(&p.len())
            && p.bytes().all(|b| b.is_ascii_digit())
            && p.parse::<u16>().is_ok()
    })
}

/// The `user:password` of a PostgreSQL URL's credentials, split at the first `:`, when
/// it has a non-empty password there.
fn creds_password(text: &str) -> Option<(&str, &str)> {
    let rest = text.split_once("://")?.1;
    let creds = rest.split_once('@')?.0;
    creds.split_once(':').filter(|(_, p)| !p.is_empty())
}

impl RedisUrl {
    /// Parses a Redis URL, takes out `prefix`, and fills in `REDIS_PASSWORD`.
    fn parse(
        scheme: &str,
        text: &str,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Self, CliError> {
        let mut url = Url::parse(text).map_err(|_| {
            invalid(
                "invalid Redis URL (expected redis://[[user]:password@]host[:port][/db][?prefix=NAME]; \
                 percent-encode special characters of the password)",
            )
        })?;
        let Some(host) = url.host_str().map(str::to_owned).filter(|h| !h.is_empty()) else {
            return Err(invalid("the Redis URL names no host"));
        };
        let mut prefix = None;
        let mut others = Vec::new();
        for (key, value) in url.query_pairs() {
            if key == "prefix" {
                prefix = Some(value.into_owned());
            } else {
                others.push((key.into_owned(), value.into_owned()));
            }
        }
        if others.is_empty() {
            url.set_query(None);
        } else {
            url.query_pairs_mut().clear().extend_pairs(others);
        }
        let mut raw_password = url.password().filter(|p| !p.is_empty()).map(str::to_owned);
        let mut password = raw_password.as_deref().map(percent_decode);
        if password.is_none()
            && let Some(from_env) = env("REDIS_PASSWORD").filter(|p| !p.is_empty())
        {
            url.set_password(Some(&from_env))
                .map_err(|()| invalid("cannot put REDIS_PASSWORD into the Redis URL"))?;
            raw_password = url.password().map(str::to_owned);
            password = Some(from_env);
        }
        let port = url.port().unwrap_or(6379);
        let database = match url.path().trim_matches('/') {
            "" => "0".to_owned(),
            db if db.bytes().all(|b| b.is_ascii_digit()) && db.len() <= 9 => db.to_owned(),
            // Not shown: whatever it is, it is no database number (a misplaced
            // password, perhaps).
            _ => {
                return Err(invalid(
                    "the path of a Redis URL is a database number: \
                     redis://[[USER]:PASSWORD@]HOST[:PORT][/DB]",
                ));
            }
        };
        let mut shown = format!("{scheme}://{host}:{port}/{database}");
        if let Some(prefix) = &prefix {
            shown.push_str("?prefix=");
            shown.push_str(&encode_component(prefix));
        }
        Ok(Self {
            connect: url.into(),
            secrets: secrets_of(password, raw_password),
            shown,
            prefix,
        })
    }

    async fn build(&self, location: &StoreLocation) -> Result<RedisStore, CliError> {
        let mut builder = RedisStore::builder(self.connect.clone());
        if let Some(prefix) = &self.prefix {
            builder = builder.prefix(prefix.clone());
        }
        builder.build().await.map_err(|e| location.open_error(&e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env_of(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |name| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_owned())
        }
    }

    fn parse(text: &str, env: &'static [(&'static str, &'static str)]) -> StoreLocation {
        StoreLocation::parse(OsStr::new(text), &env_of(env)).unwrap()
    }

    fn connect_url(location: &StoreLocation) -> &str {
        match location {
            StoreLocation::Postgres(url) => &url.connect,
            StoreLocation::Redis(url) => &url.connect,
            StoreLocation::File(_) => panic!("a file"),
        }
    }

    #[test]
    fn paths_stay_paths() {
        for path in [
            "tokens.json",
            "./dir/t.json",
            "/abs/t.json",
            "C:\\t.json",
            "a:b",
        ] {
            let location = parse(path, &[]);
            assert_eq!(location.file(), Some(Path::new(path)), "{path}");
            assert_eq!(location.to_string(), path);
        }
    }

    #[test]
    fn unknown_schemes_are_refused_without_quoting_the_value() {
        let err = StoreLocation::parse(OsStr::new("mysql://u:SECRET@h/db"), &env_of(&[]))
            .err()
            .unwrap();
        assert_eq!(err.code(), EXIT_USAGE);
        assert!(err.to_string().contains("`mysql://`"), "{err}");
        assert!(!err.to_string().contains("SECRET"), "{err}");
    }

    #[test]
    fn postgres_urls_are_shown_without_credentials() {
        let location = parse(
            "postgresql://app:S3cr%40t@db.internal:6543/tokens?sslmode=disable&password=X&table=oauth_t",
            &[("PGPASSWORD", "ENVPW")],
        );
        assert_eq!(
            location.to_string(),
            "postgresql://db.internal:6543/tokens?table=oauth_t"
        );
        assert_eq!(
            connect_url(&location),
            "postgresql://app:S3cr%40t@db.internal:6543/tokens?sslmode=disable&password=X"
        );
        assert_eq!(location.secrets(), ["S3cr%40t", "S3cr@t"]);
        assert_eq!(format!("{location:?}"), format!("Postgres({location})"));
    }

    #[test]
    fn pgpassword_and_pguser_fill_in_what_the_url_lacks() {
        let location = parse(
            "postgres://app@127.0.0.1/db?schema=s1",
            &[("PGPASSWORD", "p@ss word"), ("PGUSER", "other")],
        );
        assert_eq!(
            connect_url(&location),
            "postgres://app:p%40ss%20word@127.0.0.1/db"
        );
        assert_eq!(location.secrets(), ["p%40ss%20word", "p@ss word"]);
        assert_eq!(location.to_string(), "postgres://127.0.0.1/db?schema=s1");

        let location = parse("postgres://127.0.0.1:5432", &[("PGUSER", "ops")]);
        assert_eq!(connect_url(&location), "postgres://ops@127.0.0.1:5432");
        assert!(location.secrets().is_empty());

        // A password in the URL wins over PGPASSWORD (as with libpq).
        let location = parse("postgres://u:mine@h/db", &[("PGPASSWORD", "env")]);
        assert_eq!(connect_url(&location), "postgres://u:mine@h/db");
        assert_eq!(location.secrets(), ["mine"]);

        let err = StoreLocation::parse(OsStr::new("postgres://h/db"), &env_of(&[]))
            .err()
            .unwrap();
        assert!(err.to_string().contains("PGUSER"), "{err}");
    }

    #[test]
    fn a_raw_at_sign_in_a_postgres_password_is_refused() {
        let err = StoreLocation::parse(OsStr::new("postgres://u:pa@SECRET@h/db"), &env_of(&[]))
            .err()
            .unwrap();
        assert!(err.to_string().contains("%40"), "{err}");
        assert!(!err.to_string().contains("SECRET"), "{err}");
    }

    #[test]
    fn redis_urls_are_shown_without_credentials() {
        let location = parse("redis://user:Pw%2F1@cache:6380/3?prefix=shop-1", &[]);
        assert_eq!(location.to_string(), "redis://cache:6380/3?prefix=shop-1");
        assert_eq!(connect_url(&location), "redis://user:Pw%2F1@cache:6380/3");
        assert_eq!(location.secrets(), ["Pw%2F1", "Pw/1"]);

        let location = parse("redis://127.0.0.1", &[("REDIS_PASSWORD", "a:b@c")]);
        assert_eq!(location.to_string(), "redis://127.0.0.1:6379/0");
        assert_eq!(location.secrets(), ["a%3Ab%40c", "a:b@c"]);
        let url = Url::parse(connect_url(&location)).unwrap();
        assert_eq!(url.password().map(percent_decode).as_deref(), Some("a:b@c"));

        let location = parse("rediss://h?protocol=resp3", &[]);
        assert_eq!(connect_url(&location), "rediss://h?protocol=resp3");
        assert!(location.secrets().is_empty());
    }

    /// The password of every malformed URL below.
    const PASSWORD: &str = "hunter2";

    /// URLs whose credentials are misplaced or mangled, each with [`PASSWORD`].
    const MALFORMED: &[&str] = &[
        "postgres://admin:hunter2",
        "postgres://admin:hunter2/db",
        "postgresql://admin:hunter2?sslmode=disable",
        "postgres://admin:hunter2:5432/db",
        "postgres://admin:hunter2,h2/db",
        "postgres://h1,admin:hunter2/db",
        "postgres://:hunter2",
        "postgres://[::1]:hunter2/db",
        "postgres://u:hunter2@",
        "postgres://u:hunter2@/db",
        "postgres://u:pa@ss@h/db",
        "postgres://u:pa@hunter2@h/db",
        "postgres://u:hunter2@h@/db",
        "redis://:hunter2",
        "redis://admin:hunter2",
        "redis://admin:hunter2/0",
        "redis://:hunter2@",
        "rediss://u:hunter2@/0",
        "redis://h/hunter2",
        "redis://h:6379/admin:hunter2",
    ];

    /// Environments the URLs are parsed in.
    const ENVS: &[&[(&str, &str)]] = &[
        &[],
        &[("PGUSER", "ops")],
        &[("PGUSER", "ops"), ("PGPASSWORD", "envpw")],
        &[("REDIS_PASSWORD", "envpw")],
    ];

    /// Every text an error can show: the message with its hint, and the JSON form.
    fn error_texts(err: &CliError) -> String {
        format!("{err}\n{}\n{err:?}", err.to_json())
    }

    #[test]
    fn a_malformed_url_never_shows_its_password() {
        for &text in MALFORMED {
            for &env in ENVS {
                match StoreLocation::parse(OsStr::new(text), &env_of(env)) {
                    Err(err) => {
                        assert_eq!(err.code(), EXIT_USAGE, "{text} {env:?}");
                        let shown = error_texts(&err);
                        assert!(!shown.contains(PASSWORD), "{text} {env:?}: {shown}");
                        assert!(!shown.contains("pa@ss"), "{text} {env:?}: {shown}");
                    }
                    Ok(location) => {
                        for shown in [location.to_string(), format!("{location:?}")] {
                            assert!(!shown.contains(PASSWORD), "{text} {env:?}: {shown}");
                        }
                        // The errors of a location that cannot be used, of every class.
                        let message = "x".to_owned();
                        for error in [
                            Error::Configuration {
                                message: message.clone(),
                            },
                            Error::Store {
                                message: message.clone(),
                            },
                            Error::Store {
                                message: "password authentication failed".to_owned(),
                            },
                        ] {
                            let shown = error_texts(&location.open_error(&error));
                            assert!(!shown.contains(PASSWORD), "{text} {env:?}: {shown}");
                        }
                        // Whatever reaches the driver with the password is scrubbed
                        // from what it may echo.
                        assert!(
                            !connect_url(&location).contains(PASSWORD)
                                || location.secrets().iter().any(|s| s.contains(PASSWORD)),
                            "{text} {env:?}: the password is not among the secrets"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn a_postgres_password_without_host_is_a_configuration_error() {
        for text in ["postgres://admin:hunter2", "postgres://admin:hunter2/db"] {
            // With PGUSER the URL parsed, taking `admin:hunter2` for the host part.
            let err = StoreLocation::parse(OsStr::new(text), &env_of(&[("PGUSER", "ops")]))
                .err()
                .unwrap();
            assert_eq!(err.kind(), "configuration", "{text}");
            assert_eq!(err.code(), EXIT_USAGE, "{text}");
            assert!(err.to_string().contains("port number"), "{err}");
            assert!(err.to_string().contains("@HOST"), "{err}");
            assert!(!err.to_string().contains(PASSWORD), "{err}");
        }
    }

    #[test]
    fn postgres_host_lists_and_ports_are_accepted() {
        for (text, shown) in [
            ("postgres://u@h/db", "postgres://h/db"),
            ("postgres://u@h:5432/db", "postgres://h:5432/db"),
            (
                "postgres://u@h1:5432,h2:65535/db",
                "postgres://h1:5432,h2:65535/db",
            ),
            ("postgres://u@h1,h2/db", "postgres://h1,h2/db"),
            ("postgres://u@[::1]/db", "postgres://[::1]/db"),
            ("postgres://u@[::1]:6543/db", "postgres://[::1]:6543/db"),
            (
                "postgres://u@[fe80::1%25eth0]:5432,h/db",
                "postgres://[fe80::1%25eth0]:5432,h/db",
            ),
            (
                "postgres://u@%2Fvar%2Frun%2Fpostgresql/db",
                "postgres://%2Fvar%2Frun%2Fpostgresql/db",
            ),
            ("postgres://u@/db?host=/tmp", "postgres:///db"),
        ] {
            assert_eq!(parse(text, &[]).to_string(), shown, "{text}");
        }
        for text in [
            "postgres://u@h:/db",
            "postgres://u@h:65536/db",
            "postgres://u@h:123456/db",
            "postgres://u@h:54a/db",
            "postgres://u@h:+543/db",
            "postgres://u@[::1]x/db",
            "postgres://u@[::1/db",
            "postgres://u@h:5432:5433/db",
        ] {
            let err = StoreLocation::parse(OsStr::new(text), &env_of(&[]))
                .err()
                .unwrap_or_else(|| panic!("{text} must be refused"));
            assert!(err.to_string().contains("HOST[:PORT]"), "{text}: {err}");
        }
    }

    #[test]
    fn a_redis_path_other_than_a_database_number_is_refused_unquoted() {
        assert_eq!(parse("redis://h/15", &[]).to_string(), "redis://h:6379/15");
        assert_eq!(parse("redis://h/", &[]).to_string(), "redis://h:6379/0");
        for text in ["redis://h/hunter2", "redis://h/1/hunter2", "redis://h/-1"] {
            let err = StoreLocation::parse(OsStr::new(text), &env_of(&[]))
                .err()
                .unwrap_or_else(|| panic!("{text} must be refused"));
            assert!(err.to_string().contains("database number"), "{err}");
            assert!(!err.to_string().contains(PASSWORD), "{err}");
        }
    }
}
