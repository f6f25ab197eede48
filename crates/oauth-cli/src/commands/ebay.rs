//! What is particular to eBay on the command line: `oauth ebay app-token`
//! (application tokens, client credentials), the consent page's own flags on the
//! generic `authorize-url` (`--prompt-login`, `--locale`, `--auth-base-url`), and
//! `--trading` on the generic `api` (the Trading API's `X-EBAY-API-IAF-TOKEN` header).

use std::sync::Arc;

use clap::builder::FalseyValueParser;
use clap::{Arg, ArgAction, ArgMatches, Args, FromArgMatches};
use oauth_all::ebay::{AUTHORIZE_PATH, ApiAuth, ClientExt, ConsentOptions, Ebay};
use oauth_core::url::Url;
use oauth_core::{AttachToken, CsrfState, EndpointUrl, Environment};
use reqwest::header::{HeaderName, HeaderValue};

use super::registry::{Extras, Run};
use super::{Context, Origin, TokenArgs};
use crate::error::CliError;
use crate::settings::{BASE_URL, ProviderSettings, config_error, not_blank};

/// eBay's extras.
#[derive(Debug, Clone, Copy)]
pub struct EbayExtras;

/// The flag of `ebay api` for Trading (XML) API calls.
const TRADING: &str = "trading";
/// The header naming a Trading API call.
const TRADING_CALL_HEADER: &str = "x-ebay-api-call-name";

impl Extras for EbayExtras {
    fn provider(&self) -> &'static str {
        oauth_all::ebay::PROVIDER
    }

    fn about(&self) -> &'static str {
        ", application tokens"
    }

    fn subcommands(&self) -> Vec<clap::Command> {
        vec![
            TokenArgs::augment_args(clap::Command::new("app-token")).about(
                "Print a valid application access token (client credentials), cached in \
                 --store when given (under the account `application:<account>`). Needs no \
                 RuName.",
            ),
        ]
    }

    fn authorize_url_args(&self, command: clap::Command) -> clap::Command {
        let about = command.get_about().cloned();
        let command = AuthorizeUrlArgs::augment_args(command);
        match about {
            Some(about) => command.about(about),
            None => command,
        }
    }

    fn authorize_url(
        &self,
        settings: &ProviderSettings,
        matches: &ArgMatches,
        state: &CsrfState,
    ) -> Option<Result<Url, CliError>> {
        Some(consent_url(settings, matches, state))
    }

    fn api_args(&self, command: clap::Command) -> clap::Command {
        command.arg(
            Arg::new(TRADING)
                .long(TRADING)
                .action(ArgAction::SetTrue)
                .help(
                    "A Trading (XML) API call (`POST /ws/api.dll`): the token goes in \
                     X-EBAY-API-IAF-TOKEN instead of Authorization: Bearer. Name the call \
                     with --header X-EBAY-API-CALL-NAME:<Call> (real calls also need \
                     X-EBAY-API-SITEID and X-EBAY-API-COMPATIBILITY-LEVEL).",
                ),
        )
    }

    fn api_attachment(
        &self,
        matches: &ArgMatches,
        headers: &[(HeaderName, HeaderValue)],
    ) -> Option<Result<Arc<dyn AttachToken>, CliError>> {
        if !matches.get_flag(TRADING) {
            return None;
        }
        if !headers.iter().any(|(name, _)| name == TRADING_CALL_HEADER) {
            return Some(Err(CliError::usage(
                "--trading needs the call's name: --header X-EBAY-API-CALL-NAME:<Call> (e.g. \
                 GeteBayOfficialTime)",
            )));
        }
        Some(Ok(Arc::new(ApiAuth::Trading)))
    }

    fn run<'a>(
        &'a self,
        ctx: &'a Context,
        settings: &'a ProviderSettings,
        name: &'a str,
        matches: &'a ArgMatches,
    ) -> Run<'a> {
        Box::pin(async move {
            match name {
                "app-token" => app_token(ctx, settings, matches).await,
                other => Err(CliError::usage(format!(
                    "`oauth ebay {other}` is not a command"
                ))),
            }
        })
    }
}

/// `ebay app-token`: the application token grant of a client that needs no RuName.
async fn app_token(
    ctx: &Context,
    settings: &ProviderSettings,
    matches: &ArgMatches,
) -> Result<(), CliError> {
    let args = TokenArgs::from_arg_matches(matches).map_err(|e| CliError::usage(e.to_string()))?;
    let values = settings.checked(&|setting| setting.key == "ru_name")?;
    let client = settings.typed_client::<Ebay>(&values)?;
    let grant = client.application_token_grant();
    let account = format!("application:{}", ctx.account);
    super::token(
        ctx,
        settings.provider,
        Arc::new(grant),
        &account,
        &args,
        Origin::Configuration,
    )
    .await
}

/// The consent URL with eBay's options; on `--auth-base-url`'s host when given.
fn consent_url(
    settings: &ProviderSettings,
    matches: &ArgMatches,
    state: &CsrfState,
) -> Result<Url, CliError> {
    let args =
        AuthorizeUrlArgs::from_arg_matches(matches).map_err(|e| CliError::usage(e.to_string()))?;
    let options = args.consent_options()?;
    let auth_base = args.auth_base()?;
    let values = settings.checked(&|setting| setting.secret)?;
    let client = settings.typed_client::<Ebay>(&values)?;
    let url = client
        .authorize_url_with(state, &options)
        .map_err(config_error("eBay"))?;
    match auth_base {
        None => Ok(url),
        Some(auth) => {
            if !matches!(settings.environment()?, Environment::Custom(_)) {
                return Err(CliError::configuration(format!(
                    "--auth-base-url (OAUTH_EBAY_AUTH_BASE_URL) needs --base-url ({})",
                    settings.provider.env_var(BASE_URL)
                )));
            }
            let mut moved = auth.join_path(AUTHORIZE_PATH);
            moved.set_query(url.query());
            Ok(moved)
        }
    }
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
    /// A separate base URL for the consent page (`/oauth2/authorize` is appended), with
    /// --base-url for the API host: the authorize URL is moved to it. Read by
    /// `authorize-url` only, the one command that uses the consent host.
    #[arg(
        long,
        env = "OAUTH_EBAY_AUTH_BASE_URL",
        hide_env_values = true,
        value_name = "URL"
    )]
    pub auth_base_url: Option<String>,
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

    /// The consent page's own base URL, if given.
    ///
    /// # Errors
    /// A configuration error for an empty or invalid URL.
    pub fn auth_base(&self) -> Result<Option<EndpointUrl>, CliError> {
        not_blank(
            self.auth_base_url.as_deref(),
            "auth-base-url",
            "OAUTH_EBAY_AUTH_BASE_URL",
            "the --base-url",
        )?
        .map(|url| EndpointUrl::parse(url).map_err(config_error("eBay")))
        .transpose()
    }
}
