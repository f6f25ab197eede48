//! `oauth eshopbox ...`: custom apps (refresh grant from the configured refresh token)
//! and the partner-app authorize URL.

use std::sync::Arc;

use clap::{Args, Subcommand};
use oauth_core::{AccountKey, RefreshGrant};

use super::{Context, Origin, TokenArgs};
use crate::error::CliError;
use crate::settings::EshopboxSettings;

/// `oauth eshopbox`.
#[derive(Args)]
pub struct EshopboxArgs {
    #[command(subcommand)]
    command: EshopboxCommand,
    #[command(flatten)]
    settings: EshopboxSettings,
}

/// The Eshopbox subcommands. Custom apps have no consent screen and no code exchange:
/// the configured refresh token is the whole flow.
#[derive(Subcommand, Debug, Clone)]
pub enum EshopboxCommand {
    /// Partner apps: print the authorize URL (stdout) and its state (stderr). Eshopbox
    /// does not document the partner code exchange, so there is no `exchange`.
    AuthorizeUrl,
    /// Mint an access token now from the configured refresh token and save it to --store.
    Refresh,
    /// Print a valid access token, minting and saving one first when needed.
    Token(TokenArgs),
}

/// Runs an Eshopbox subcommand.
///
/// # Errors
/// The command's failure, ready for stderr.
pub async fn run(ctx: &Context, args: EshopboxArgs) -> Result<(), CliError> {
    match &args.command {
        EshopboxCommand::AuthorizeUrl => {
            let partner = args.settings.partner_authorization()?;
            let state = super::new_state()?;
            super::print_authorize_url(ctx, "eshopbox", &partner.authorize_url(&state), &state);
            Ok(())
        }
        EshopboxCommand::Refresh => {
            let (client, _) = args.settings.client()?;
            super::refresh(ctx, "eshopbox", Arc::new(client), Origin::Configuration).await
        }
        EshopboxCommand::Token(token) => {
            let (client, configured) = args.settings.client()?;
            if let Some(location) = &ctx.store {
                // A stored set minted from another refresh token (the admin issued a new
                // one after a revocation) would keep using the old one: drop it.
                let store = ctx.open_store(location).await?;
                let key = AccountKey::new(client.provider(), ctx.account.as_str());
                let stored = super::load(store.as_ref(), &key).await?;
                if stored.is_some_and(|s| s.tokens.refresh_token.as_ref() != Some(&configured)) {
                    store.delete(&key).await.map_err(|e| {
                        CliError::failure(format!("cannot update the token store: {e}"))
                    })?;
                }
            }
            super::token(
                ctx,
                "eshopbox",
                Arc::new(client),
                &ctx.account,
                token,
                Origin::Configuration,
            )
            .await
        }
    }
}
