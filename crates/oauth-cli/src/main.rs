//! `oauth`: the command line of the commerce OAuth toolkit.
//!
//! - `oauth demo` runs every provider's whole OAuth lifecycle against the bundled
//!   sandbox, in process: no network, no credentials.
//! - `oauth <provider> authorize-url | exchange | refresh | token` (and
//!   `oauth ebay app-token`) work with real credentials from flags or
//!   `OAUTH_<PROVIDER>_<SETTING>` environment variables, keeping tokens where `--store`
//!   says: a JSON token file (one machine), or a PostgreSQL database or Redis server
//!   (`postgres://…`, `redis://…`) that scripts and cron jobs on several machines share,
//!   refreshing each account once between them (see [`location`]).
//! - `oauth <provider> api [METHOD] PATH` calls the provider's API with the stored token
//!   (refreshed and retried once when rejected, through `oauth-middleware`), in the
//!   spirit of `gh api` (the `commands::api` module).
//! - `oauth <provider> login` connects a seller in a browser (the `oauth-connect` flow
//!   once, on a loopback listener); `oauth serve` runs the connect router and its status
//!   page for every provider with settings (the `commands::login` and
//!   `commands::serve` modules).
//! - `oauth aliexpress sign` shows what an IOP signature covers.
//! - `oauth store init | keygen | rekey` creates a PostgreSQL store's table (or checks a
//!   Redis server), creates a key for the store and re-encrypts it (`--store-key-file`
//!   encrypts the tokens at rest, in every kind of store).
//!
//! Nothing secret is ever printed, except the one value asked for: `token` prints the
//! access token (visible ASCII only). With `--json`, a failure is also one JSON object
//! on stdout. A store URL is only ever shown redacted (scheme, hosts, ports, database,
//! table or prefix), never with its user or password. See the crate's README for every
//! command and exit code.
#![warn(missing_docs)]
#![deny(rustdoc::broken_intra_doc_links)]

mod commands;
mod demo;
mod error;
mod location;
mod output;
mod settings;
mod store;

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{ArgMatches, Args, CommandFactory, FromArgMatches, Parser, Subcommand};

use crate::commands::{Context, OpenedStore, registry};
use crate::error::{CliError, EXIT_USAGE};
use crate::location::StoreLocation;

/// OAuth for eBay, AliExpress, OrangeConnex and Eshopbox from a terminal.
#[derive(Parser)]
#[command(
    name = "oauth",
    version,
    about,
    long_about = "OAuth for eBay, AliExpress, OrangeConnex and Eshopbox from a terminal.\n\n\
        Start with `oauth demo`: every provider's whole lifecycle against a local sandbox, \
        with no network and no credentials.\n\n\
        Provider settings come from flags or OAUTH_<PROVIDER>_<SETTING> environment variables \
        (e.g. OAUTH_EBAY_CLIENT_ID); secrets are best given in the environment. Every \
        provider takes --base-url and --environment (OAUTH_<PROVIDER>_BASE_URL, \
        OAUTH_<PROVIDER>_ENVIRONMENT); an empty base-URL or environment setting is an error, \
        never a silent fallback. Without a base URL, a provider that has a sandbox (eBay, \
        OrangeConnex) talks to it unless --environment production; the others (AliExpress, \
        Eshopbox) have production hosts only. Nothing secret is printed, except the access \
        token that `token` is asked for.\n\n\
        With --json, a failure prints one object on stdout: {\"error\": {\"kind\", \
        \"message\", \"hint\", \"provider\", \"provider_code\", \"retryable\", \
        \"reauthorize\", \"exit_code\"}} (null where unknown); stderr gets the same message.\n\n\
        Token stores (--store, OAUTH_STORE):\n  \
        FILE                  a JSON token file, for one machine\n  \
        postgres://USER[:PASSWORD]@HOST[:PORT]/DB[?sslmode=disable&table=T&schema=S]\n                        \
        (or postgresql://) a table shared by every machine; create it once with \
        `oauth store init`; a URL without a password uses PGPASSWORD, one without a user \
        PGUSER\n  \
        redis://[[USER]:PASSWORD@]HOST[:PORT][/DB][?prefix=P]\n                        \
        (or rediss://) keys on a Redis server shared by every machine (configure it with \
        appendonly yes, appendfsync always); a URL without a password uses REDIS_PASSWORD\n\
        Processes sharing a PostgreSQL or Redis store refresh an account once: the others \
        wait for the refresh lease and take the new tokens. TLS: sslmode=require (or the \
        default, prefer) and rediss:// verify the server's certificate against the \
        platform's trust store; a certificate that does not verify is an error, never a \
        fallback to plain text. Store URLs are shown redacted, never with their user or \
        password.\n\n\
        Exit codes:\n  \
        0  success\n  \
        1  failure: provider, network or store error; a store that cannot be reached \
        (retryable); a refresh that did not happen (store not writable); a token that is \
        not visible ASCII\n  \
        2  usage or configuration error: missing, empty or invalid settings; client \
        credentials rejected by the provider (invalid_client and alike); a store URL that \
        cannot be used or whose server refuses its credentials; a PostgreSQL store whose \
        table was never created (run `oauth store init`)\n  \
        3  the seller must authorize again: no tokens for this account in the store, \
        the consent of `login` declined, \
        refresh token (or code) invalid, expired or revoked\n  \
        4  no such token file, or its directory does not exist (check --store / \
        OAUTH_STORE; files only)\n  \
        5  `api`: the API answered an error (a status outside 2xx, or a 2xx its provider \
        calls an error); the body is on stdout. A token rejected again after a refresh is \
        3\n\n\
        Encryption at rest: with --store-key-file (OAUTH_STORE_KEY_FILE) the store's \
        tokens are encrypted (XChaCha20-Poly1305) with the key in that file, whatever the \
        kind of store; create one with `oauth store keygen FILE`. Entries saved in clear \
        before are read and encrypted when next saved (`oauth store rekey` encrypts all of \
        them now). A token file holding encrypted tokens is refused without its key (exit \
        2) and never written; so is an encrypted entry of a PostgreSQL or Redis store."
)]
struct Cli {
    #[command(flatten)]
    global: GlobalArgs,
    #[command(subcommand)]
    command: Builtin,
}

/// Options of every command.
#[derive(Args)]
struct GlobalArgs {
    /// Print machine-readable JSON on stdout.
    #[arg(long, global = true)]
    json: bool,
    /// Where the tokens live: a JSON token file, or a store shared by several machines,
    /// `postgres://…` (`postgresql://…`) or `redis://…` (`rediss://…`). A token file is
    /// created by `exchange`, Eshopbox `token`/`refresh` and `ebay app-token` (mode 0600;
    /// its directory must exist); a PostgreSQL store's table by `oauth store init`.
    #[arg(
        long,
        global = true,
        env = "OAUTH_STORE",
        value_name = "FILE|URL",
        hide_env_values = true
    )]
    store: Option<OsString>,
    /// The account the tokens are stored under in the store.
    #[arg(
        long,
        global = true,
        env = "OAUTH_ACCOUNT",
        default_value = "default",
        value_name = "NAME"
    )]
    account: String,
    /// Encrypt the store's tokens with the key in this file (from `oauth store keygen`;
    /// mode 0600 required), in a token file, PostgreSQL or Redis alike. Entries in clear
    /// are encrypted when next saved.
    #[arg(
        long,
        global = true,
        env = "OAUTH_STORE_KEY_FILE",
        value_name = "KEY_FILE"
    )]
    store_key_file: Option<OsString>,
    /// An earlier key of the store, to read entries not yet re-encrypted under the
    /// current one (repeatable); see `oauth store rekey`.
    #[arg(long, global = true, value_name = "KEY_FILE")]
    old_key_file: Vec<PathBuf>,
}

/// The commands that are not a provider's (the providers' come from the registry:
/// [`registry::subcommands`]).
#[derive(Subcommand)]
enum Builtin {
    /// Run every provider's OAuth lifecycle against the bundled sandbox and print a table.
    Demo,
    /// The store: create a PostgreSQL store's table (init), create a key (keygen),
    /// re-encrypt every entry (rekey).
    #[command(display_order = 1000)]
    Store(store::StoreArgs),
    /// Serve the seller connect flow and the operator status page (every provider with
    /// settings), until Ctrl-C or SIGTERM.
    #[command(display_order = 1001)]
    Serve(commands::serve::ServeArgs),
}

/// A command line, understood.
enum Parsed {
    /// `demo` or `store`.
    Builtin(Builtin),
    /// `oauth <provider> ...`: the provider's name and its subcommand's matches.
    Provider(String, ArgMatches),
}

/// The whole command: the built-in commands and one subcommand per provider of the
/// registry.
fn cli_command() -> clap::Command {
    registry::subcommands()
        .into_iter()
        .enumerate()
        .fold(Cli::command(), |cli, (index, provider)| {
            cli.subcommand(provider.display_order(index + 1))
        })
        .mut_subcommand("serve", commands::serve::with_provider_args)
}

/// Parses `args` (the program name first).
fn parse(args: &[OsString]) -> Result<(GlobalArgs, Parsed), clap::Error> {
    let matches = cli_command().try_get_matches_from(args)?;
    let global = GlobalArgs::from_arg_matches(&matches)?;
    match matches.subcommand() {
        Some((name, sub)) if registry::is_provider(name) => {
            Ok((global, Parsed::Provider(name.to_owned(), sub.clone())))
        }
        Some(("serve", sub)) => {
            let mut args = commands::serve::ServeArgs::from_arg_matches(sub)?;
            args.settings = commands::serve::read_settings(sub);
            Ok((global, Parsed::Builtin(Builtin::Serve(args))))
        }
        _ => Ok((
            global,
            Parsed::Builtin(Cli::from_arg_matches(&matches)?.command),
        )),
    }
}

/// The context of every command, from the global options.
fn context(global: GlobalArgs) -> Result<Context, CliError> {
    let account = global.account.trim().to_owned();
    if account.is_empty() {
        return Err(CliError::usage("--account must not be empty"));
    }
    let store = match global.store {
        Some(value) if value.to_string_lossy().trim().is_empty() => {
            return Err(CliError::configuration(
                "OAUTH_STORE (--store) is set but empty: give the token file or store URL, or \
                 unset it",
            ));
        }
        Some(value) => Some(StoreLocation::parse(&value, &|name| {
            std::env::var(name).ok()
        })?),
        None => None,
    };
    let store_key_file = match global.store_key_file {
        Some(path) if path.to_string_lossy().trim().is_empty() => {
            return Err(CliError::configuration(
                "OAUTH_STORE_KEY_FILE (--store-key-file) is set but empty: give the key file, \
                 or unset it",
            ));
        }
        Some(path) => Some(PathBuf::from(path)),
        None => None,
    };
    if store_key_file.is_none() && !global.old_key_file.is_empty() {
        return Err(CliError::usage(
            "--old-key-file needs the current key too: pass --store-key-file FILE (or set \
             OAUTH_STORE_KEY_FILE)",
        ));
    }
    Ok(Context {
        json: global.json,
        store,
        account,
        store_key_file,
        old_key_files: global.old_key_file,
        opened: OpenedStore::default(),
    })
}

async fn dispatch(command: Parsed, ctx: Context) -> Result<(), CliError> {
    match command {
        Parsed::Builtin(Builtin::Demo) => demo::run(ctx.json).await,
        Parsed::Builtin(Builtin::Store(args)) => store::run(&ctx, args).await,
        Parsed::Builtin(Builtin::Serve(args)) => commands::serve::run(&ctx, args).await,
        Parsed::Provider(name, matches) => registry::run(&ctx, &name, &matches).await,
    }
}

/// Reports `error`: its text on stderr and, with `--json`, the JSON object on stdout.
/// Returns the exit code.
fn report(error: &CliError, json: bool) -> ExitCode {
    output::err(&format!("oauth: {error}"));
    if json {
        output::json_out(&error.to_json());
    }
    ExitCode::from(error.code())
}

/// Whether `--json` is among the arguments (before a `--`), for the errors clap reports
/// before the command line is understood.
fn wants_json(args: &[OsString]) -> bool {
    args.iter()
        .skip(1)
        .take_while(|arg| *arg != "--")
        .any(|arg| arg == "--json")
}

/// A command line clap refused: its message (plain, sanitized) on stderr, and with
/// `--json` a `usage` error object on stdout. `--help` and `--version` print as usual.
fn parse_error(error: &clap::Error, json: bool) -> ExitCode {
    if !error.use_stderr() {
        let _ = error.print();
        return ExitCode::SUCCESS;
    }
    let text = error.render().to_string();
    output::err(text.trim_end());
    if json {
        // The first line, without clap's `error: ` prefix.
        let first = text.lines().next().unwrap_or_default();
        let message = first.strip_prefix("error: ").unwrap_or(first);
        output::json_out(&CliError::usage(message).to_json());
    }
    ExitCode::from(EXIT_USAGE)
}

fn main() -> ExitCode {
    let args: Vec<OsString> = std::env::args_os().collect();
    let (global, command) = match parse(&args) {
        Ok(parsed) => parsed,
        Err(error) => return parse_error(&error, wants_json(&args)),
    };
    let json = global.json;
    let provider = match &command {
        Parsed::Provider(name, _) => Some(name.clone()),
        Parsed::Builtin(_) => None,
    };
    // The store's passwords: scrubbed from any error, whatever its source.
    let mut secrets = Vec::new();
    let result = match context(global) {
        Ok(ctx) => match tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        {
            Ok(runtime) => {
                if let Some(location) = &ctx.store {
                    secrets = location.secrets();
                }
                runtime.block_on(dispatch(command, ctx))
            }
            Err(e) => Err(CliError::failure(format!(
                "cannot start the async runtime: {e}"
            ))),
        },
        Err(error) => Err(error),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            let error = match &provider {
                Some(provider) => error.or_provider(provider),
                None => error,
            }
            .scrubbed(&secrets);
            report(&error, json)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(args: &[&str]) -> Result<(GlobalArgs, Parsed), clap::Error> {
        parse(&args.iter().map(OsString::from).collect::<Vec<_>>())
    }

    #[test]
    fn the_command_line_is_consistent() {
        cli_command().debug_assert();
    }

    #[test]
    fn every_provider_of_the_registry_is_a_command() {
        for entry in oauth_all::PROVIDERS {
            let Ok((_, Parsed::Provider(name, matches))) =
                parsed(&["oauth", entry.name, "token", "--min-valid", "5"])
            else {
                panic!("{}", entry.name);
            };
            assert_eq!(name, entry.name);
            assert_eq!(matches.subcommand_name(), Some("token"));
        }
    }

    #[test]
    fn a_state_starting_with_a_hyphen_is_a_value() {
        // URL-safe base64: one generated state in 64 starts with `-`.
        for provider in ["ebay", "aliexpress", "orangeconnex"] {
            let parsed = parsed(&[
                "oauth",
                provider,
                "exchange",
                "--state",
                "-Xyz_abc",
                "--redirect-url",
                "https://app.example/cb?code=c&state=-Xyz_abc",
            ]);
            assert!(parsed.is_ok(), "{provider}: {:?}", parsed.err());
        }
    }

    #[test]
    fn global_options_go_before_or_after_the_subcommand() {
        let (before, _) = parsed(&[
            "oauth",
            "--json",
            "--store",
            "t.json",
            "ebay",
            "token",
            "--min-valid",
            "30",
        ])
        .unwrap();
        let (after, _) = parsed(&[
            "oauth",
            "ebay",
            "token",
            "--store",
            "t.json",
            "--json",
            "--account",
            "seller-1",
        ])
        .unwrap();
        for global in [&before, &after] {
            assert!(global.json);
            assert_eq!(
                global.store.as_deref(),
                Some(std::ffi::OsStr::new("t.json"))
            );
        }
        assert_eq!(after.account, "seller-1");
    }

    #[test]
    fn json_is_found_before_a_double_dash_only() {
        let args = |list: &[&str]| list.iter().map(OsString::from).collect::<Vec<_>>();
        assert!(wants_json(&args(&["oauth", "ebay", "--json", "--bogus"])));
        assert!(!wants_json(&args(&["oauth", "ebay", "--", "--json"])));
        assert!(!wants_json(&args(&["--json", "ebay"])));
    }
}
