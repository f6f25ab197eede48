//! Table names, the schema's SQL and its migration.

use crate::error::config_error;
use oauth_core::Error;

/// The default name of the token table: `oauth_tokens`.
pub const DEFAULT_TABLE: &str = "oauth_tokens";

/// The name of the table that records each token table's schema version:
/// `oauth_store_schema`, in the same PostgreSQL schema as the token table.
pub const SCHEMA_TABLE: &str = "oauth_store_schema";

/// The schema version this release of the crate creates and uses.
pub const SCHEMA_VERSION: i32 = 1;

/// The schema, for DBAs who create it themselves, with the default names
/// (`oauth_tokens`, `oauth_store_schema`, in the role's `search_path`): what
/// [`PostgresStore::migrate`](crate::PostgresStore::migrate) runs on an
/// empty database, less its advisory lock. The same text is shipped as the
/// crate's `sql/schema.sql`; [`PostgresStore::schema_sql`](crate::PostgresStore::schema_sql)
/// gives it for a configured table and schema.
pub const SCHEMA_SQL: &str = include_str!("../sql/schema.sql");

/// The key of the session-independent advisory lock that serializes
/// migrations (`pg_advisory_xact_lock`): ASCII "oauthstr".
pub(crate) const MIGRATION_LOCK_KEY: i64 = 0x6f61_7574_6873_7472;

/// The longest identifier PostgreSQL keeps (NAMEDATALEN - 1).
const MAX_IDENTIFIER_LEN: usize = 63;

/// Checks a table or schema name: 1 to 63 characters of lowercase ASCII
/// letters, digits and `_`, not starting with a digit. (Names are always
/// quoted in the SQL; lowercase keeps them the same names a DBA types
/// unquoted.)
pub(crate) fn validate_identifier(what: &str, name: &str) -> Result<(), Error> {
    let valid = !name.is_empty()
        && name.len() <= MAX_IDENTIFIER_LEN
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        && !name.as_bytes().first().is_some_and(u8::is_ascii_digit);
    if valid {
        Ok(())
    } else {
        Err(config_error(format!(
            "invalid PostgreSQL {what} name {name:?}: use 1 to {MAX_IDENTIFIER_LEN} lowercase \
             ASCII letters, digits and underscores, not starting with a digit"
        )))
    }
}

/// A validated table name, optionally in a schema.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Names {
    schema: Option<String>,
    table: String,
}

impl Names {
    /// `table` in `schema` (`None`: the role's `search_path`), validated.
    pub(crate) fn new(schema: Option<&str>, table: &str) -> Result<Self, Error> {
        validate_identifier("table", table)?;
        if table == SCHEMA_TABLE {
            return Err(config_error(format!(
                "the token table cannot be called {SCHEMA_TABLE}: that is the schema-version table"
            )));
        }
        if let Some(schema) = schema {
            validate_identifier("schema", schema)?;
        }
        Ok(Self {
            schema: schema.map(str::to_owned),
            table: table.to_owned(),
        })
    }

    /// `oauth_tokens` in the role's `search_path`.
    pub(crate) fn default_names() -> Self {
        Self {
            schema: None,
            table: DEFAULT_TABLE.to_owned(),
        }
    }

    /// The token table's name, unqualified.
    pub(crate) fn table(&self) -> &str {
        &self.table
    }

    fn qualify(&self, name: &str) -> String {
        match &self.schema {
            Some(schema) => format!("\"{schema}\".\"{name}\""),
            None => format!("\"{name}\""),
        }
    }

    /// The token table, quoted and qualified: `"s"."t"` or `"t"`.
    pub(crate) fn table_sql(&self) -> String {
        self.qualify(&self.table)
    }

    /// The schema-version table, quoted and qualified.
    pub(crate) fn schema_table_sql(&self) -> String {
        self.qualify(SCHEMA_TABLE)
    }

    /// The token table for messages: `s.t` or `t`.
    pub(crate) fn display(&self) -> String {
        match &self.schema {
            Some(schema) => format!("table {schema}.{}", self.table),
            None => format!("table {}", self.table),
        }
    }
}

/// The schema-version table.
pub(crate) fn schema_table_ddl(names: &Names) -> String {
    format!(
        "CREATE TABLE IF NOT EXISTS {} (\n    \
             table_name  text PRIMARY KEY,\n    \
             version     integer NOT NULL,\n    \
             migrated_at timestamptz NOT NULL DEFAULT now()\n\
         );\n",
        names.schema_table_sql()
    )
}

/// The migration steps: `(version, SQL)`, each taking the table from the
/// previous version (0: nothing) to `version`. Each step is idempotent on
/// its own too (`IF NOT EXISTS`), so that a table created by hand from an
/// older script is taken over.
pub(crate) fn migrations(names: &Names) -> Vec<(i32, String)> {
    let table = names.table_sql();
    vec![(
        1,
        format!(
            "CREATE TABLE IF NOT EXISTS {table} (\n    \
                 provider         text COLLATE \"C\" NOT NULL,\n    \
                 account          text COLLATE \"C\" NOT NULL,\n    \
                 tokens           jsonb,\n    \
                 version          bigint NOT NULL DEFAULT 0 CHECK (version >= 0),\n    \
                 lease_owner      text,\n    \
                 lease_expires_at timestamptz,\n    \
                 fence            bigint NOT NULL DEFAULT 0 CHECK (fence >= 0),\n    \
                 updated_at       timestamptz NOT NULL DEFAULT now(),\n    \
                 PRIMARY KEY (provider, account)\n\
             );\n"
        ),
    )]
}

/// Records `version` for the token table.
pub(crate) fn record_version_sql(names: &Names) -> String {
    format!(
        "INSERT INTO {} (table_name, version, migrated_at) VALUES ($1, $2, now())\n\
         ON CONFLICT (table_name) DO UPDATE SET version = EXCLUDED.version, migrated_at = now()",
        names.schema_table_sql()
    )
}

/// The whole script for `names`: what `migrate` does on an empty database.
pub(crate) fn script(names: &Names) -> String {
    let mut sql = String::from(
        "-- oauth-store-postgres: the token table and its schema version.\n\
         -- Run once as a role that may create tables; the application's role\n\
         -- needs SELECT, INSERT and UPDATE on the token table, and SELECT on\n\
         -- the schema-version table.\n\
         BEGIN;\n\n",
    );
    sql.push_str(&schema_table_ddl(names));
    for (_, step) in migrations(names) {
        sql.push('\n');
        sql.push_str(&step);
    }
    sql.push_str(&format!(
        "\nINSERT INTO {} (table_name, version) VALUES ('{}', {SCHEMA_VERSION})\n\
         ON CONFLICT (table_name) DO UPDATE\n\
         SET version = GREATEST({}.version, EXCLUDED.version), migrated_at = now();\n\n\
         COMMIT;\n",
        names.schema_table_sql(),
        names.table(),
        names.schema_table_sql()
    ));
    sql
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_are_validated() {
        for good in ["oauth_tokens", "t", "_x1", &"a".repeat(63)] {
            assert!(validate_identifier("table", good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "1abc",
            "Tokens",
            "a-b",
            "a b",
            "a\"b",
            "x;drop table y",
            "é",
            &"a".repeat(64),
        ] {
            assert!(validate_identifier("table", bad).is_err(), "{bad}");
        }
        assert!(Names::new(None, SCHEMA_TABLE).is_err());
        assert!(Names::new(Some("Bad"), "t").is_err());
        assert_eq!(
            Names::new(Some("s"), "t").map(|n| n.table_sql()).ok(),
            Some("\"s\".\"t\"".to_owned())
        );
    }

    #[test]
    fn the_shipped_script_is_the_generated_one() -> Result<(), Error> {
        let names = Names::new(None, DEFAULT_TABLE)?;
        assert_eq!(names, Names::default_names());
        assert_eq!(script(&names), SCHEMA_SQL, "regenerate sql/schema.sql");
        assert_eq!(
            migrations(&names).last().map(|(v, _)| *v),
            Some(SCHEMA_VERSION)
        );
        Ok(())
    }
}
#[cfg(test)]
mod regenerate {
    /// `OAUTH_REGENERATE_SQL=1 cargo test -p oauth-store-postgres regenerate`
    /// rewrites `sql/schema.sql` from the code.
    #[test]
    fn regenerate_schema_sql() -> std::io::Result<()> {
        if std::env::var_os("OAUTH_REGENERATE_SQL").is_some() {
            let names = super::Names::default_names();
            let path = concat!(env!("CARGO_MANIFEST_DIR"), "/sql/schema.sql");
            std::fs::write(path, super::script(&names))?;
        }
        Ok(())
    }
}
