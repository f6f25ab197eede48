//! The provider subcommands, built from the registry ([`oauth_all::PROVIDERS`]): one
//! `oauth <provider>` per entry, whose settings become its flags and
//! `OAUTH_<PROVIDER>_<KEY>` variables ([`ProviderCli::args`]), with the generic commands
//!
//! - `authorize-url` and `exchange` when the provider's first tokens need consent
//!   ([`ProviderEntry::needs_consent`](oauth_core::provider::registry::ProviderEntry)),
//! - `refresh` and `token` for every provider (without consent, the first `token` or
//!   `refresh` fetches the first tokens from the settings and creates the token file),
//! - `api` for every provider: a call to its API with the account's token, a method and
//!   a path under its API base ([`api`](super::api)),
//!
//! all run by the same code for every provider. A provider's own commands and flags
//! (`oauth ebay app-token`, `oauth aliexpress sign`, `oauth eshopbox authorize-url`) are
//! its [`Extras`], beside the generic ones; a provider without extras needs no code
//! here at all.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use clap::{ArgMatches, Args, FromArgMatches};
use oauth_core::provider::registry::ClientOptions;
use oauth_core::url::Url;
use oauth_core::{AccountKey, AttachToken, CsrfState, RefreshGrant, RefreshToken};
use reqwest::header::{HeaderName, HeaderValue};

use super::{Context, ExchangeArgs, Origin, TokenArgs};
use crate::error::CliError;
use crate::settings::{ProviderCli, ProviderSettings, Purpose, REFRESH_TOKEN, config_error};

/// What a command of a provider's own returns.
pub type Run<'a> = Pin<Box<dyn Future<Output = Result<(), CliError>> + 'a>>;

/// A setting the command no longer reads: given (flag or variable, even empty), it is
/// a configuration error that says what replaces it, never silently ignored.
#[derive(Debug, Clone, Copy)]
pub struct Retired {
    /// Its key (`token_url`: `--token-url`, `OAUTH_<PROVIDER>_TOKEN_URL`).
    pub key: &'static str,
    /// What to give instead.
    pub instead: &'static str,
}

/// What is particular to one provider on the command line: its own commands, flags of
/// the generic `authorize-url`, retired settings. Every method has a default: a
/// provider without extras needs none.
pub trait Extras: Sync {
    /// The provider these are for ([`ProviderCli::name`]).
    fn provider(&self) -> &'static str;

    /// Appended to the provider's one-line description (`, application tokens`).
    fn about(&self) -> &'static str {
        ""
    }

    /// The provider's own subcommands.
    fn subcommands(&self) -> Vec<clap::Command> {
        Vec::new()
    }

    /// Flags of its own on the generic `authorize-url`.
    fn authorize_url_args(&self, command: clap::Command) -> clap::Command {
        command
    }

    /// The authorize URL when the provider's flags change it (`None`: the generic one).
    fn authorize_url(
        &self,
        _settings: &ProviderSettings,
        _matches: &ArgMatches,
        _state: &CsrfState,
    ) -> Option<Result<Url, CliError>> {
        None
    }

    /// The help of `api`'s `[METHOD] PATH` argument, when the provider reads it
    /// otherwise ([`api_target`](Self::api_target)).
    fn api_target_help(&self) -> Option<&'static str> {
        None
    }

    /// Flags of its own on the generic `api` (eBay's `--trading`).
    fn api_args(&self, command: clap::Command) -> clap::Command {
        command
    }

    /// The URL `api` calls for `target` when the provider names its calls otherwise
    /// than by a path under its API `base` (AliExpress: a business API name). `None`:
    /// the generic path ([`api::join_path`](super::api::join_path)).
    fn api_target(&self, _base: &Url, _target: &str) -> Option<Result<Url, CliError>> {
        None
    }

    /// How `api` attaches the token when the provider's flags choose another way than
    /// the client's ([`Client::attachment`](oauth_core::Client::attachment)); the
    /// request's `headers` are there to be checked. `None`: the client's.
    fn api_attachment(
        &self,
        _matches: &ArgMatches,
        _headers: &[(HeaderName, HeaderValue)],
    ) -> Option<Result<Arc<dyn AttachToken>, CliError>> {
        None
    }

    /// Settings the command no longer reads.
    fn retired(&self) -> &'static [Retired] {
        &[]
    }

    /// Runs the provider's own subcommand `name` (one of [`subcommands`](Self::subcommands)).
    fn run<'a>(
        &'a self,
        ctx: &'a Context,
        settings: &'a ProviderSettings,
        name: &'a str,
        matches: &'a ArgMatches,
    ) -> Run<'a>;
}

/// Every provider's extras.
const EXTRAS: &[&dyn Extras] = &[
    &super::ebay::EbayExtras,
    &super::aliexpress::AliExpressExtras,
    &super::eshopbox::EshopboxExtras,
];

fn extras_of(provider: ProviderCli) -> Option<&'static dyn Extras> {
    EXTRAS
        .iter()
        .copied()
        .find(|extras| extras.provider() == provider.name())
}

/// Every provider's subcommand, in the registry's order.
pub fn subcommands() -> Vec<clap::Command> {
    ProviderCli::all().map(provider_command).collect()
}

/// Whether `name` is a provider's subcommand.
pub fn is_provider(name: &str) -> bool {
    ProviderCli::find(name).is_some()
}

/// `oauth <provider>` and its subcommands.
fn provider_command(provider: ProviderCli) -> clap::Command {
    let extras = extras_of(provider);
    let title = provider.title();
    let about = if provider.needs_consent() {
        format!("{title}: login, authorize URL, code exchange, refresh, token, API calls")
    } else {
        format!(
            "{title}: tokens from the configured settings (no consent), refresh, token, API calls"
        )
    };
    let about = format!("{about}{}.", extras.map_or("", |e| e.about()));
    let mut command = clap::Command::new(provider.name())
        .about(about)
        .subcommand_required(true)
        .arg_required_else_help(true);
    for arg in provider.args() {
        command = command.arg(arg);
    }
    for retired in extras.map_or(&[][..], |e| e.retired()) {
        command = command.arg(
            provider
                .arg(retired.key, format!("No longer read: {}.", retired.instead))
                .hide(true),
        );
    }
    if provider.needs_consent() {
        let authorize = clap::Command::new("authorize-url").about(
            "Print the authorize (consent) URL on stdout and its state on stderr. Needs no \
             secret setting.",
        );
        command = command.subcommand(match extras {
            Some(extras) => extras.authorize_url_args(authorize),
            None => authorize,
        });
        command = command.subcommand(
            super::login::LoginArgs::augment_args(clap::Command::new("login")).about(format!(
                "Connect the seller in a browser: print the URL to open, wait for {title}'s \
                 callback on a loopback listener, save the tokens to --store for --account."
            )),
        );
        // `about` after the arguments: `augment_args` sets the struct's own.
        command = command.subcommand(
            ExchangeArgs::augment_args(clap::Command::new("exchange")).about(
                "Exchange the code of the URL you landed on after consent; save the tokens to \
                 --store.",
            ),
        );
    }
    let (refresh, token) = if provider.needs_consent() {
        (
            "Refresh the access token now and save it to --store.",
            "Print a valid access token, refreshing and saving it first when needed.",
        )
    } else {
        (
            "Fetch an access token now from the configured settings and save it to --store.",
            "Print a valid access token, fetching and saving one first when needed.",
        )
    };
    command = command.subcommand(clap::Command::new("refresh").about(refresh));
    let margin = refresh_margin(provider).map_or_else(String::new, |secs| format!(": {secs}"));
    command = command.subcommand(
        TokenArgs::augment_args(clap::Command::new("token"))
            .about(token)
            .mut_arg("min_valid", |arg| {
                arg.help(format!(
                    "Refresh first if the token expires within this many seconds [default: \
                     the provider's refresh margin{margin}]"
                ))
            }),
    );
    command = command.subcommand(super::api::command(extras));
    for subcommand in extras.map_or_else(Vec::new, |e| e.subcommands()) {
        command = command.subcommand(subcommand);
    }
    command
}

/// The provider's default refresh margin in seconds, from a client of its example
/// settings (no request is sent).
fn refresh_margin(provider: ProviderCli) -> Option<u64> {
    let client = provider
        .entry
        .build(&provider.entry.example_values(), ClientOptions::default())
        .ok()?;
    Some(client.default_refresh_skew().as_secs())
}

/// Runs `oauth <provider> ...`: the generic commands, or the provider's own.
///
/// # Errors
/// The command's failure, ready for stderr.
pub async fn run(ctx: &Context, name: &str, matches: &ArgMatches) -> Result<(), CliError> {
    let provider = ProviderCli::find(name)
        .ok_or_else(|| CliError::usage(format!("no provider named `{name}`")))?;
    let Some((command, matches)) = matches.subcommand() else {
        return Err(CliError::usage(format!(
            "`oauth {name}` needs a subcommand: see `oauth {name} --help`"
        )));
    };
    let extras = extras_of(provider);
    check_retired(provider, extras, matches)?;
    let settings = ProviderSettings::from_matches(provider, matches);
    let origin = if provider.needs_consent() {
        Origin::Consent
    } else {
        Origin::Configuration
    };
    match command {
        "authorize-url" if provider.needs_consent() => {
            let state = super::new_state()?;
            let url = match extras.and_then(|e| e.authorize_url(&settings, matches, &state)) {
                Some(url) => url?,
                None => settings
                    .client(Purpose::AuthorizeUrl)?
                    .authorize_url(&state)
                    .map_err(config_error(provider.title()))?,
            };
            super::print_authorize_url(ctx, provider.name(), &url, &state);
            Ok(())
        }
        "exchange" if provider.needs_consent() => {
            let args = ExchangeArgs::from_arg_matches(matches).map_err(|e| usage(&e))?;
            let client = settings.client(Purpose::Tokens)?;
            super::exchange(ctx, provider, client, &args).await
        }
        "login" if provider.needs_consent() => {
            let args = super::login::LoginArgs::from_arg_matches(matches).map_err(|e| usage(&e))?;
            super::login::run(ctx, provider, settings, &args).await
        }
        "refresh" => {
            let client = settings.client(Purpose::Tokens)?;
            super::refresh(ctx, provider, client, origin).await
        }
        "token" => {
            let args = TokenArgs::from_arg_matches(matches).map_err(|e| usage(&e))?;
            let client = settings.client(Purpose::Tokens)?;
            if origin == Origin::Configuration {
                drop_stale(ctx, &settings, client.as_ref()).await?;
            }
            super::token(ctx, provider, client, &ctx.account, &args, origin).await
        }
        "api" => {
            if origin == Origin::Configuration {
                let client = settings.client(Purpose::Tokens)?;
                drop_stale(ctx, &settings, client.as_ref()).await?;
            }
            super::api::run(ctx, provider, extras, &settings, matches, origin).await
        }
        other => match extras {
            Some(extras) => extras.run(ctx, &settings, other, matches).await,
            None => Err(CliError::usage(format!(
                "`oauth {name} {other}` is not a command"
            ))),
        },
    }
}

fn usage(error: &clap::Error) -> CliError {
    CliError::usage(error.to_string())
}

/// A retired setting given (flag or variable, even empty) is an error that says what
/// replaces it.
fn check_retired(
    provider: ProviderCli,
    extras: Option<&dyn Extras>,
    matches: &ArgMatches,
) -> Result<(), CliError> {
    for retired in extras.map_or(&[][..], |e| e.retired()) {
        let var = provider.env_var(retired.key);
        let given = std::env::var_os(&var).is_some()
            || matches
                .try_get_one::<String>(retired.key)
                .ok()
                .flatten()
                .is_some();
        if given {
            return Err(CliError::configuration(format!(
                "{var} (--{}) is no longer read: {}",
                retired.key.replace('_', "-"),
                retired.instead
            ))
            .with_kind("retired_setting")
            .with_hint(format!("unset {var}")));
        }
    }
    Ok(())
}

/// For a provider that starts from a configured refresh token: a stored set minted from
/// another refresh token (an administrator issued a new one after a revocation) would
/// keep using the old one, so it is dropped before `token` and `api`.
async fn drop_stale(
    ctx: &Context,
    settings: &ProviderSettings,
    grant: &dyn RefreshGrant,
) -> Result<(), CliError> {
    let (Some(location), Some(configured)) = (&ctx.store, settings.get(REFRESH_TOKEN)) else {
        return Ok(());
    };
    let configured = RefreshToken::new(configured);
    let store = ctx.open_store(location).await?;
    let key = AccountKey::new(grant.provider(), ctx.account.as_str());
    let stored = super::load(store.as_ref(), &key).await?;
    if stored.is_some_and(|s| s.tokens.refresh_token.as_ref() != Some(&configured)) {
        store
            .delete(&key)
            .await
            .map_err(|e| CliError::failure(format!("cannot update the token store: {e}")))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_provider_has_its_generic_commands() {
        for command in subcommands() {
            let provider = ProviderCli::find(command.get_name()).unwrap();
            let names: Vec<&str> = command.get_subcommands().map(|c| c.get_name()).collect();
            for generic in ["refresh", "token", "api"] {
                assert!(names.contains(&generic), "{names:?}");
            }
            assert_eq!(
                names.contains(&"exchange"),
                provider.needs_consent(),
                "{names:?}"
            );
            assert_eq!(
                names.contains(&"login"),
                provider.needs_consent(),
                "{names:?}"
            );
            for setting in provider.entry.settings {
                assert!(
                    command
                        .get_arguments()
                        .any(|a| a.get_long() == Some(setting.flag().as_str())),
                    "{}: --{}",
                    provider.name(),
                    setting.flag()
                );
            }
        }
    }

    #[test]
    fn extras_belong_to_registered_providers() {
        for extras in EXTRAS {
            assert!(is_provider(extras.provider()), "{}", extras.provider());
        }
    }
}
