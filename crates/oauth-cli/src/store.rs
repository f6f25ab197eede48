//! `oauth store`: setting up a store, and its encryption at rest.
//!
//! - `init` creates or upgrades a PostgreSQL store's table (`--store postgres://…`;
//!   idempotent, under an advisory lock, so several machines may run it at once), checks
//!   a Redis server (reachable, writable, and whether it persists every write), and
//!   says that a token file needs nothing.
//! - `keygen FILE` writes a new random key (32 bytes, base64, with a key id) to a new
//!   file, mode 0600; it never overwrites a file and never prints the key.
//! - `rekey` re-encrypts every entry of the store (`--store`: a token file, PostgreSQL or
//!   Redis; it lists the accounts of every provider) under the current key
//!   (`--store-key-file`), reading entries under earlier keys (`--old-key-file`) or in
//!   clear; each entry is a compare-and-swap, so a concurrent refresh is never lost.

use std::path::PathBuf;

use clap::{Args, Subcommand};
use oauth_core::Error;
use oauth_core::lifecycle::{EncryptedStore, KeyId, RekeyReport, StoreKey};
use serde_json::json;

use crate::commands::Context;
use crate::error::{CliError, EXIT_FAILURE, EXIT_USAGE, Hints};
use crate::location::StoreLocation;
use crate::output::{err, json_out, out};

/// Arguments of `oauth store`.
#[derive(Debug, Args)]
pub struct StoreArgs {
    #[command(subcommand)]
    command: StoreCommand,
}

#[derive(Debug, Subcommand)]
enum StoreCommand {
    /// Prepare the store (--store): create or upgrade a PostgreSQL store's token table
    /// (idempotent; the role needs the right to create tables), check that a Redis server
    /// is reachable, writable and persists every write. A token file needs nothing.
    Init,
    /// Write a new random key to a new key file (mode 0600; never overwrites a file).
    /// Prints the key's id, never the key. Keep a copy where you keep secrets: the
    /// tokens it encrypts are lost with it.
    Keygen {
        /// The key file to create (its directory must exist).
        path: PathBuf,
        /// The key's id, written in clear beside every ciphertext it makes [default: `k`
        /// and 8 random hex digits].
        #[arg(long, value_name = "ID")]
        key_id: Option<String>,
    },
    /// Re-encrypt every entry of the store (--store: a token file, PostgreSQL or Redis)
    /// under the current key
    /// (--store-key-file), reading entries under earlier keys (--old-key-file, repeatable)
    /// or in clear. Safe while other commands refresh.
    Rekey,
}

/// Runs `oauth store ...`.
pub async fn run(ctx: &Context, args: StoreArgs) -> Result<(), CliError> {
    match args.command {
        StoreCommand::Init => init(ctx).await,
        StoreCommand::Keygen { path, key_id } => keygen(ctx, &path, key_id.as_deref()),
        StoreCommand::Rekey => rekey(ctx).await,
    }
}

fn keygen(ctx: &Context, path: &std::path::Path, key_id: Option<&str>) -> Result<(), CliError> {
    let id = match key_id {
        Some(id) => KeyId::new(id.trim()),
        None => KeyId::generate(),
    }
    .map_err(|e| CliError::from_provider("oauth store keygen", &e, Hints::NONE))?;
    let key = StoreKey::generate(id.clone())
        .map_err(|e| CliError::from_provider("oauth store keygen", &e, Hints::NONE))?;
    key.write_new_file(path)
        .map_err(|e| CliError::from_provider("oauth store keygen", &e, Hints::NONE))?;
    if ctx.json {
        json_out(&json!({
            "action": "keygen",
            "key_id": id.as_str(),
            "key_file": path.display().to_string(),
        }));
    } else {
        out(&format!(
            "key {id} written to {} (mode 0600)",
            path.display()
        ));
        out(&format!(
            "use it with --store-key-file {} (or OAUTH_STORE_KEY_FILE); keep a copy where you \
             keep secrets: the tokens it encrypts are lost with it",
            path.display()
        ));
    }
    Ok(())
}

/// The store location of `oauth store <command>`.
fn location<'a>(ctx: &'a Context, command: &str) -> Result<&'a StoreLocation, CliError> {
    ctx.store.as_ref().ok_or_else(|| {
        CliError::usage(format!(
            "`oauth store {command}` needs the store: pass --store FILE or --store \
             postgres://… / redis://… (or set OAUTH_STORE)"
        ))
    })
}

async fn init(ctx: &Context) -> Result<(), CliError> {
    let location = location(ctx, "init")?;
    let done = location.init().await?;
    if let Some(warning) = &done.warning {
        err(&format!("oauth: warning: {warning}"));
    }
    if ctx.json {
        let mut value = json!({
            "action": "init",
            "store": location.to_string(),
            "warning": done.warning,
        });
        if let (Some(object), Some(details)) = (value.as_object_mut(), done.details.as_object()) {
            object.extend(details.clone());
        }
        json_out(&value);
    } else {
        out(&done.message);
    }
    Ok(())
}

async fn rekey(ctx: &Context) -> Result<(), CliError> {
    let location = location(ctx, "rekey")?;
    let keys = ctx.keyring()?.ok_or_else(|| {
        CliError::usage(
            "`oauth store rekey` needs the current key: pass --store-key-file FILE (or set \
             OAUTH_STORE_KEY_FILE), and --old-key-file FILE for each earlier key",
        )
    })?;
    if let Some(path) = location.file()
        && std::fs::symlink_metadata(path).is_err()
    {
        return Err(
            CliError::no_token_file(format!("there is no token file {}", path.display()))
                .with_hint("check --store (or OAUTH_STORE)"),
        );
    }
    let current = keys.current_id().clone();
    let store = EncryptedStore::from_arc(location.connect().await?, keys);
    // Every provider of the CLI: the registry's.
    let providers: Vec<&str> = oauth_all::PROVIDERS
        .iter()
        .map(|entry| entry.name)
        .collect();
    let report = store
        .rekey(&providers)
        .await
        .map_err(|e| CliError::from_provider("oauth store rekey", &e, Hints::NONE))?;
    if !report.failed.is_empty() {
        return Err(failures(&report, &current));
    }
    if ctx.json {
        json_out(&json!({
            "action": "rekey",
            "store": location.to_string(),
            "key_id": current.as_str(),
            "accounts": report.accounts,
            "rekeyed": report.rekeyed,
            "from_plaintext": report.from_plaintext,
            "already_current": report.already_current,
            "missing": report.missing,
        }));
    } else {
        out(&format!(
            "{location}: {} of {} entries re-encrypted under key {current} ({} of them were in \
             clear); {} already under it",
            report.rekeyed, report.accounts, report.from_plaintext, report.already_current
        ));
    }
    Ok(())
}

/// The entries `rekey` left as they were: a configuration error (exit code 2) when every
/// one is a decryption failure (a missing or wrong key), a failure (1) otherwise.
fn failures(report: &RekeyReport, current: &KeyId) -> CliError {
    let all_keys = report
        .failed
        .iter()
        .all(|f| matches!(f.error, Error::Decryption { .. }));
    let list: Vec<String> = report
        .failed
        .iter()
        .map(|f| format!("{}: {}", f.account, f.error))
        .collect();
    let message = format!(
        "{} of {} entries could not be re-encrypted and were left as they were ({} \
         re-encrypted under key {current}): {}",
        report.failed.len(),
        report.accounts,
        report.rekeyed,
        list.join("; ")
    );
    if all_keys {
        CliError::new("decryption", EXIT_USAGE, message).with_hint(
            "pass the key each entry was encrypted with by --old-key-file, then run \
             `oauth store rekey` again",
        )
    } else {
        CliError::new("failure", EXIT_FAILURE, message)
    }
}
