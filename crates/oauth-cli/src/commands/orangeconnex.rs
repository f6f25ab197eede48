//! `oauth orangeconnex ...`: authorization URL, code exchange, refresh, token.

use std::sync::Arc;

use clap::{Args, Subcommand};

use super::{Context, ExchangeArgs, Origin, TokenArgs};
use crate::error::CliError;
use crate::settings::OrangeConnexSettings;

/// `oauth orangeconnex`.
#[derive(Args)]
pub struct OrangeConnexArgs {
    #[command(subcommand)]
    command: OrangeConnexCommand,
    #[command(flatten)]
    settings: OrangeConnexSettings,
}

/// The OrangeConnex subcommands.
#[derive(Subcommand, Debug, Clone)]
pub enum OrangeConnexCommand {
    /// Print the authorization URL (stdout) and its state (stderr).
    AuthorizeUrl,
    /// Exchange the code of the URL you landed on after consent; save the tokens to --store.
    Exchange(ExchangeArgs),
    /// Refresh the access token now and save it to --store.
    Refresh,
    /// Print a valid access token, refreshing and saving it first when needed.
    Token(TokenArgs),
}

/// Runs an OrangeConnex subcommand.
///
/// # Errors
/// The command's failure, ready for stderr.
pub async fn run(ctx: &Context, args: OrangeConnexArgs) -> Result<(), CliError> {
    let client = args.settings.client()?;
    match &args.command {
        OrangeConnexCommand::AuthorizeUrl => {
            let state = super::new_state()?;
            super::print_authorize_url(ctx, "orangeconnex", &client.authorize_url(&state), &state);
            Ok(())
        }
        OrangeConnexCommand::Exchange(exchange) => {
            super::exchange(ctx, "orangeconnex", Arc::new(client), exchange).await
        }
        OrangeConnexCommand::Refresh => {
            super::refresh(ctx, "orangeconnex", Arc::new(client), Origin::Consent).await
        }
        OrangeConnexCommand::Token(token) => {
            super::token(
                ctx,
                "orangeconnex",
                Arc::new(client),
                &ctx.account,
                token,
                Origin::Consent,
            )
            .await
        }
    }
}
