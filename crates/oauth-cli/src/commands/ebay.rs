//! `oauth ebay ...`: consent URL, code exchange, refresh, user and application tokens.

use std::sync::Arc;

use clap::{Args, Subcommand};

use super::{Context, ExchangeArgs, TokenArgs};
use crate::error::CliError;
use crate::settings::{EbayPurpose, EbaySettings};

/// `oauth ebay`.
#[derive(Args)]
pub struct EbayArgs {
    #[command(subcommand)]
    command: EbayCommand,
    #[command(flatten)]
    settings: EbaySettings,
}

/// The eBay subcommands.
#[derive(Subcommand, Debug, Clone)]
pub enum EbayCommand {
    /// Print the consent URL (stdout) and its state (stderr). Needs the client id and
    /// RuName.
    AuthorizeUrl,
    /// Exchange the code of the URL you landed on after consent; save the tokens to --store.
    Exchange(ExchangeArgs),
    /// Refresh the user access token now and save it to --store.
    Refresh,
    /// Print a valid user access token, refreshing and saving it first when needed.
    Token(TokenArgs),
    /// Print a valid application access token (client credentials), cached in --store
    /// when given (under the account `application:<account>`).
    AppToken(TokenArgs),
}

/// Runs an eBay subcommand.
///
/// # Errors
/// The command's failure, ready for stderr.
pub async fn run(ctx: &Context, args: EbayArgs) -> Result<(), CliError> {
    let settings = &args.settings;
    match &args.command {
        EbayCommand::AuthorizeUrl => {
            let client = settings.client(EbayPurpose::ConsentUrl)?;
            let state = super::new_state()?;
            super::print_authorize_url(ctx, "ebay", &client.consent_url(&state), &state);
            Ok(())
        }
        EbayCommand::Exchange(exchange) => {
            let client = settings.client(EbayPurpose::UserTokens)?;
            super::exchange(ctx, "ebay", Arc::new(client), exchange).await
        }
        EbayCommand::Refresh => {
            let client = settings.client(EbayPurpose::UserTokens)?;
            super::refresh(ctx, "ebay", Arc::new(client), false).await
        }
        EbayCommand::Token(token) => {
            let client = settings.client(EbayPurpose::UserTokens)?;
            super::token(ctx, "ebay", Arc::new(client), &ctx.account, token).await
        }
        EbayCommand::AppToken(token) => {
            let client = settings.client(EbayPurpose::ApplicationTokens)?;
            let grant = client.application_token_grant();
            let account = format!("application:{}", ctx.account);
            super::token(ctx, "ebay", Arc::new(grant), &account, token).await
        }
    }
}
