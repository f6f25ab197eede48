//! `oauth`: the command line of the commerce OAuth toolkit.
//!
//! - `oauth demo` runs every provider's whole OAuth lifecycle against the bundled
//!   sandbox, in process: no network, no credentials.
//! - `oauth <provider> authorize-url | exchange | refresh | token` (and
//!   `oauth ebay app-token`) work with real credentials from flags or
//!   `OAUTH_<PROVIDER>_<SETTING>` environment variables, keeping tokens in a JSON token
//!   file (`--store`).
//! - `oauth aliexpress sign` shows what an IOP signature covers.
//!
//! Nothing secret is ever printed, except the one value asked for: `token` prints the
//! access token. See the crate's README for every command.
#![warn(missing_docs)]
#![deny(rustdoc::broken_intra_doc_links)]

mod commands;
mod demo;
mod error;
mod output;
mod settings;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

use crate::commands::Context;
use crate::commands::aliexpress::AliExpressArgs;
use crate::commands::ebay::EbayArgs;
use crate::commands::eshopbox::EshopboxArgs;
use crate::commands::orangeconnex::OrangeConnexArgs;
use crate::error::CliError;

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
        (e.g. OAUTH_EBAY_CLIENT_ID); secrets are best given in the environment. Nothing secret \
        is printed, except the access token that `token` is asked for.\n\n\
        Exit codes: 0 success, 1 failure, 2 usage or configuration error, 3 the seller must \
        authorize again."
)]
struct Cli {
    #[command(flatten)]
    global: GlobalArgs,
    #[command(subcommand)]
    command: Command,
}

/// Options of every command.
#[derive(Args)]
struct GlobalArgs {
    /// Print machine-readable JSON on stdout.
    #[arg(long, global = true)]
    json: bool,
    /// The JSON token file (created with mode 0600; its directory must exist).
    #[arg(long, global = true, env = "OAUTH_STORE", value_name = "FILE")]
    store: Option<PathBuf>,
    /// The account the tokens are stored under in the token file.
    #[arg(
        long,
        global = true,
        env = "OAUTH_ACCOUNT",
        default_value = "default",
        value_name = "NAME"
    )]
    account: String,
}

/// The commands.
#[derive(Subcommand)]
enum Command {
    /// Run every provider's OAuth lifecycle against the bundled sandbox and print a table.
    Demo,
    /// eBay: consent URL, code exchange, refresh, user and application tokens.
    Ebay(EbayArgs),
    /// AliExpress: consent URL, token create, refresh (rotating), token, request signing.
    #[command(name = "aliexpress")]
    AliExpress(AliExpressArgs),
    /// OrangeConnex: authorization URL, code exchange, refresh, token.
    #[command(name = "orangeconnex")]
    OrangeConnex(OrangeConnexArgs),
    /// Eshopbox: custom-app tokens from the configured refresh token; partner authorize URL.
    Eshopbox(EshopboxArgs),
}

async fn dispatch(cli: Cli) -> Result<(), CliError> {
    let account = cli.global.account.trim().to_owned();
    if account.is_empty() {
        return Err(CliError::usage("--account must not be empty"));
    }
    let ctx = Context {
        json: cli.global.json,
        store: cli.global.store,
        account,
    };
    match cli.command {
        Command::Demo => demo::run(ctx.json).await,
        Command::Ebay(args) => commands::ebay::run(&ctx, args).await,
        Command::AliExpress(args) => commands::aliexpress::run(&ctx, args).await,
        Command::OrangeConnex(args) => commands::orangeconnex::run(&ctx, args).await,
        Command::Eshopbox(args) => commands::eshopbox::run(&ctx, args).await,
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            output::err(&format!("oauth: cannot start the async runtime: {e}"));
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(dispatch(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            output::err(&format!("oauth: {error}"));
            ExitCode::from(error.code())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn global_options_go_before_or_after_the_subcommand() {
        let before = Cli::try_parse_from([
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
        let after = Cli::try_parse_from([
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
        for cli in [&before, &after] {
            assert!(cli.global.json);
            assert_eq!(
                cli.global.store.as_deref(),
                Some(std::path::Path::new("t.json"))
            );
        }
        assert_eq!(after.global.account, "seller-1");
    }
}
