//! `oauth ebay ...`: consent URL, code exchange, refresh, user and application tokens.

use std::sync::Arc;

use clap::builder::FalseyValueParser;
use clap::{Args, Subcommand};
use oauth_all::ebay::ConsentOptions;

use super::{Context, ExchangeArgs, Origin, TokenArgs};
use crate::error::CliError;
use crate::settings::{EbayPurpose, EbaySettings, not_blank};

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
    AuthorizeUrl(AuthorizeUrlArgs),
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

/// Arguments of `ebay authorize-url`.
#[derive(Args, Debug, Clone)]
pub struct AuthorizeUrlArgs {
    /// Send `prompt=login`: the seller must sign in again even with a live eBay session
    /// (to consent for another seller account). The variable takes true/false, 1/0,
    /// yes/no, on/off.
    #[arg(
        long,
        env = "OAUTH_EBAY_PROMPT_LOGIN",
        value_parser = FalseyValueParser::new()
    )]
    pub prompt_login: bool,
    /// The language of the consent page, sent as `locale` (e.g. `de-DE`, `en-US`).
    #[arg(long, env = "OAUTH_EBAY_LOCALE", value_name = "LOCALE")]
    pub locale: Option<String>,
}

impl AuthorizeUrlArgs {
    /// The consent options these flags ask for.
    ///
    /// # Errors
    /// A configuration error for an empty or malformed locale.
    pub fn consent_options(&self) -> Result<ConsentOptions, CliError> {
        let mut options = ConsentOptions::new();
        if self.prompt_login {
            options = options.prompt_login();
        }
        if let Some(locale) = not_blank(
            self.locale.as_deref(),
            "locale",
            "OAUTH_EBAY_LOCALE",
            "eBay's choice",
        )? {
            let well_formed = (2..=35).contains(&locale.len())
                && locale
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
                && locale
                    .bytes()
                    .next()
                    .is_some_and(|b| b.is_ascii_alphabetic());
            if !well_formed {
                return Err(CliError::configuration(
                    "invalid locale (--locale or OAUTH_EBAY_LOCALE): expected a language tag \
                     such as `de-DE` (letters, digits, `-` or `_`)",
                ));
            }
            options = options.locale(locale);
        }
        Ok(options)
    }
}

/// Runs an eBay subcommand.
///
/// # Errors
/// The command's failure, ready for stderr.
pub async fn run(ctx: &Context, args: EbayArgs) -> Result<(), CliError> {
    let settings = &args.settings;
    match &args.command {
        EbayCommand::AuthorizeUrl(authorize) => {
            let client = settings.client(EbayPurpose::ConsentUrl)?;
            let options = authorize.consent_options()?;
            let state = super::new_state()?;
            let url = client.consent_url_with(&state, &options);
            super::print_authorize_url(ctx, "ebay", &url, &state);
            Ok(())
        }
        EbayCommand::Exchange(exchange) => {
            let client = settings.client(EbayPurpose::UserTokens)?;
            super::exchange(ctx, "ebay", Arc::new(client), exchange).await
        }
        EbayCommand::Refresh => {
            let client = settings.client(EbayPurpose::UserTokens)?;
            super::refresh(ctx, "ebay", Arc::new(client), Origin::Consent).await
        }
        EbayCommand::Token(token) => {
            let client = settings.client(EbayPurpose::UserTokens)?;
            super::token(
                ctx,
                "ebay",
                Arc::new(client),
                &ctx.account,
                token,
                Origin::Consent,
            )
            .await
        }
        EbayCommand::AppToken(token) => {
            let client = settings.client(EbayPurpose::ApplicationTokens)?;
            let grant = client.application_token_grant();
            let account = format!("application:{}", ctx.account);
            super::token(
                ctx,
                "ebay",
                Arc::new(grant),
                &account,
                token,
                Origin::Configuration,
            )
            .await
        }
    }
}
