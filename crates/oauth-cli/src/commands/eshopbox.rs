//! What is particular to Eshopbox on the command line: the partner apps' authorize URL
//! (`oauth eshopbox authorize-url`: Eshopbox does not document the partner code
//! exchange, so there is no `exchange`), and the retired `OAUTH_ESHOPBOX_TOKEN_URL`.
//! Custom-app tokens (`token`, `refresh`) are the generic commands: the configured
//! refresh token is the whole flow.

use clap::{ArgMatches, Args, FromArgMatches};
use oauth_all::eshopbox::PartnerAuthorization;
use oauth_core::{EndpointUrl, Scopes};

use super::Context;
use super::registry::{Extras, Retired, Run};
use crate::error::CliError;
use crate::settings::{ProviderSettings, config_error, not_blank};

/// Eshopbox's extras.
#[derive(Debug, Clone, Copy)]
pub struct EshopboxExtras;

/// `OAUTH_ESHOPBOX_TOKEN_URL` was the full token URL; the custom base is now a base URL
/// like every provider's.
const RETIRED: &[Retired] = &[Retired {
    key: "token_url",
    instead: "give the base URL in OAUTH_ESHOPBOX_BASE_URL (--base-url): the token URL \
              without its `/api/v1/generateToken` path (e.g. `https://auth.myeshopbox.com`, or \
              the local oauth-sandbox's `<base>/eshopbox`)",
}];

impl Extras for EshopboxExtras {
    fn provider(&self) -> &'static str {
        oauth_all::eshopbox::PROVIDER
    }

    fn about(&self) -> &'static str {
        "; partner authorize URL"
    }

    fn subcommands(&self) -> Vec<clap::Command> {
        vec![
            PartnerArgs::augment_args(clap::Command::new("authorize-url")).about(
                "Partner apps: print the authorize URL (stdout) and its state (stderr). \
                 Eshopbox does not document the partner code exchange, so there is no \
                 `exchange`.",
            ),
        ]
    }

    fn retired(&self) -> &'static [Retired] {
        RETIRED
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
                "authorize-url" => {
                    let args = PartnerArgs::from_arg_matches(matches)
                        .map_err(|e| CliError::usage(e.to_string()))?;
                    let partner = args.partner_authorization(settings)?;
                    let state = super::new_state()?;
                    super::print_authorize_url(
                        ctx,
                        "eshopbox",
                        &partner.authorize_url(&state),
                        &state,
                    );
                    Ok(())
                }
                other => Err(CliError::usage(format!(
                    "`oauth eshopbox {other}` is not a command"
                ))),
            }
        })
    }
}

/// The partner app's settings (`oauth eshopbox authorize-url` only); its client id is
/// the provider's `--client-id` (`OAUTH_ESHOPBOX_CLIENT_ID`).
#[derive(Args, Debug, Clone)]
pub struct PartnerArgs {
    /// Partner apps: the registered redirect URI.
    #[arg(long, env = "OAUTH_ESHOPBOX_REDIRECT_URI", hide_env_values = true)]
    pub redirect_uri: Option<String>,
    /// Partner apps: scopes, space-separated (sent comma-separated).
    #[arg(long, env = "OAUTH_ESHOPBOX_SCOPES", hide_env_values = true)]
    pub scopes: Option<String>,
    /// Partner apps: the `audience` parameter.
    #[arg(long, env = "OAUTH_ESHOPBOX_AUDIENCE", hide_env_values = true)]
    pub audience: Option<String>,
    /// Partner apps: the authorize page instead of
    /// `https://partners.myeshopbox.com/installation/authorize`.
    #[arg(long, env = "OAUTH_ESHOPBOX_AUTHORIZE_URL", hide_env_values = true)]
    pub authorize_url: Option<String>,
}

impl PartnerArgs {
    /// The partner-app authorization (URL only).
    ///
    /// # Errors
    /// A configuration error naming every missing setting, or the first invalid one.
    pub fn partner_authorization(
        &self,
        settings: &ProviderSettings,
    ) -> Result<PartnerAuthorization, CliError> {
        let trimmed = |value: &Option<String>| {
            value
                .as_deref()
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(str::to_owned)
        };
        let mut missing = Vec::new();
        let client_id = settings.get("client_id").map(str::to_owned);
        if client_id.is_none() {
            missing.push("client id (--client-id or OAUTH_ESHOPBOX_CLIENT_ID)");
        }
        let redirect_uri = trimmed(&self.redirect_uri);
        if redirect_uri.is_none() {
            missing.push("redirect URI (--redirect-uri or OAUTH_ESHOPBOX_REDIRECT_URI)");
        }
        let (Some(client_id), Some(redirect_uri)) = (client_id, redirect_uri) else {
            return Err(CliError::configuration(format!(
                "missing Eshopbox settings: {}",
                missing.join(", ")
            )));
        };
        let authorize_url = not_blank(
            self.authorize_url.as_deref(),
            "authorize-url",
            "OAUTH_ESHOPBOX_AUTHORIZE_URL",
            "https://partners.myeshopbox.com/installation/authorize",
        )?;
        let mut builder = PartnerAuthorization::builder(client_id, redirect_uri);
        if let Some(scopes) = trimmed(&self.scopes) {
            builder = builder.scopes(Scopes::from_space_separated(&scopes));
        }
        if let Some(audience) = trimmed(&self.audience) {
            builder = builder.audience(audience);
        }
        if let Some(url) = authorize_url {
            builder = builder.endpoint(EndpointUrl::parse(url).map_err(config_error("Eshopbox"))?);
        }
        builder.build().map_err(config_error("Eshopbox"))
    }
}
