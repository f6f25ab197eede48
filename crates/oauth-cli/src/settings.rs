//! Provider settings from flags or `OAUTH_<PROVIDER>_<KEY>` environment variables, read
//! the same way for every provider of the registry ([`oauth_all::PROVIDERS`]), and the
//! clients built from them.
//!
//! A provider's [`Setting`]s become its flags and variables (`client_id`: `--client-id`,
//! `OAUTH_EBAY_CLIENT_ID`); `--environment` and `--base-url` are common to every
//! provider. Every setting is optional for clap and checked here, so that a command
//! names *all* the settings it misses at once, with both ways to give each. Values are
//! trimmed; an empty credential counts as missing. An empty environment or base-URL
//! setting is an error naming it (it would otherwise fall back to the default host
//! without a word). Environment values are never shown in `--help`
//! (`hide_env_values`), since some are secrets.
//!
//! [`ProviderSettings`] does not implement `Debug` with values: the settings are held
//! in a [`SettingValues`], whose `Debug` shows the keys only.

use clap::{Arg, ArgMatches};
use oauth_all::PROVIDERS;
use oauth_core::provider::registry::{
    AnyClient, ClientOptions, Configure, ProviderEntry, Setting, SettingValues,
};
use oauth_core::{Client, Environment};

use crate::error::CliError;

/// The argument id (and key) of `--environment`, common to every provider.
pub const ENVIRONMENT: &str = "environment";
/// The argument id (and key) of `--base-url`, common to every provider.
pub const BASE_URL: &str = "base_url";
/// The key of a setting that holds a refresh token the provider starts from (a grant,
/// not a client credential): the first token of a provider without consent comes from
/// it, and a stored set minted from another one is stale.
pub const REFRESH_TOKEN: &str = "refresh_token";
/// Stands in for a required setting a command never sends (the client insists on every
/// value): the secrets of an authorize URL, eBay's RuName for application tokens.
pub const UNUSED: &str = "unused-by-this-command";

/// A provider as the command line sees it: its registry entry.
#[derive(Debug, Clone, Copy)]
pub struct ProviderCli {
    /// The provider's entry in [`oauth_all::PROVIDERS`].
    pub entry: &'static ProviderEntry,
}

impl ProviderCli {
    /// Every provider of the registry, in its order.
    pub fn all() -> impl Iterator<Item = Self> {
        PROVIDERS.iter().map(|entry| Self { entry })
    }

    /// The provider named `name` (its subcommand), if the registry has it.
    pub fn find(name: &str) -> Option<Self> {
        Self::all().find(|p| p.name() == name)
    }

    /// The provider's name: its subcommand, its stores' key prefix (`ebay`).
    pub fn name(&self) -> &'static str {
        self.entry.name
    }

    /// Its name for people (`eBay`).
    pub fn title(&self) -> &'static str {
        self.entry.title
    }

    /// Whether its first tokens come from the user's consent (`authorize-url` and
    /// `exchange`), rather than from its settings alone.
    pub fn needs_consent(&self) -> bool {
        self.entry.needs_consent
    }

    /// The variable of setting `key` (`OAUTH_EBAY_CLIENT_ID`).
    pub fn env_var(&self, key: &str) -> String {
        format!(
            "OAUTH_{}_{}",
            self.name().to_ascii_uppercase(),
            key.to_ascii_uppercase()
        )
    }

    /// The setting `key`, if the provider reads one.
    pub fn setting(&self, key: &str) -> Option<&'static Setting> {
        self.entry.settings.iter().find(|s| s.key == key)
    }

    /// The environment without `--environment` or `--base-url`: the sandbox when the
    /// provider has one, else production.
    pub fn default_tier(&self) -> &'static str {
        if self.entry.has_sandbox {
            "sandbox"
        } else {
            "production"
        }
    }

    /// The flags of its settings, `--environment` and `--base-url`: global to the
    /// provider's subcommands (given before or after them).
    pub fn args(&self) -> Vec<Arg> {
        let mut args: Vec<Arg> = self
            .entry
            .settings
            .iter()
            .map(|setting| {
                let help = if setting.secret {
                    format!(
                        "{} Prefer the environment variable: a flag is visible to other users \
                         of the machine.",
                        setting.help
                    )
                } else {
                    setting.help.to_owned()
                };
                self.arg(setting.key, help)
            })
            .collect();
        let hosts = if self.entry.has_sandbox {
            format!(
                "`sandbox` or `production` [default: {}]. Credentials work in their own \
                 environment only.",
                self.default_tier()
            )
        } else {
            format!(
                "`production` [default] ({} has no sandbox: the local `oauth-sandbox` goes in \
                 --base-url).",
                self.title()
            )
        };
        args.push(
            self.arg(
                ENVIRONMENT,
                format!(
                    "{} environment used when no --base-url is given: {hosts}",
                    self.title()
                ),
            )
            .value_name(if self.entry.has_sandbox {
                "sandbox|production"
            } else {
                "production"
            }),
        );
        args.push(self.arg(
            BASE_URL,
            format!(
                "One base URL for every {} host, the provider's paths appended to it (a \
                 proxy, or the local `oauth-sandbox`: its `<base>/{}`). HTTPS, or plain HTTP \
                 on loopback only.",
                self.title(),
                self.name()
            ),
        ));
        args
    }

    /// The global, hidden-value flag and variable of `key`.
    pub fn arg(&self, key: &'static str, help: String) -> Arg {
        Arg::new(key)
            .long(key.replace('_', "-"))
            .env(self.env_var(key))
            .value_name(key.to_ascii_uppercase())
            .hide_env_values(true)
            .global(true)
            .help(help)
    }

    /// Which settings hold the client credentials, the hint of an `invalid_client` (or
    /// `IncompleteSignature`, `access_denied`) answer: the first setting (the client's
    /// identity: client id, app key) and every secret one but a refresh token.
    pub fn credentials_hint(&self) -> String {
        let settings: Vec<&Setting> = self
            .entry
            .settings
            .iter()
            .enumerate()
            .filter(|(index, s)| *index == 0 || (s.secret && s.key != REFRESH_TOKEN))
            .map(|(_, s)| s)
            .collect();
        let vars: Vec<String> = settings.iter().map(|s| self.env_var(s.key)).collect();
        let flags: Vec<String> = settings.iter().map(|s| format!("--{}", s.flag())).collect();
        let mut hint = format!("{} ({})", vars.join(" / "), flags.join(" / "));
        if self.entry.has_sandbox {
            hint.push_str(&format!(
                ", and that they belong to the environment in use ({}, default {}; or {})",
                self.env_var(ENVIRONMENT),
                self.default_tier(),
                self.env_var(BASE_URL)
            ));
        }
        hint
    }

    /// What to suggest when the seller must authorize again: consent again, or (without
    /// consent) a new refresh token, or the credentials to check.
    pub fn reauthorize_hint(&self) -> String {
        let name = self.name();
        if self.needs_consent() {
            return format!(
                "run `oauth {name} authorize-url`, consent in a browser, then \
                 `oauth {name} exchange --store FILE --state STATE --redirect-url URL`"
            );
        }
        match self.setting(REFRESH_TOKEN) {
            Some(setting) => format!(
                "create a new {} in the {} app, set {}, then run `oauth {name} refresh`",
                setting.label,
                self.title(),
                self.env_var(setting.key)
            ),
            None => format!(
                "check {}, then run `oauth {name} refresh`",
                self.credentials_hint()
            ),
        }
    }
}

/// What a client is built for: an authorize URL never carries a secret, so the
/// provider's secret settings are not needed for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// Only the authorize URL is built.
    AuthorizeUrl,
    /// Tokens: exchange, refresh, token.
    Tokens,
}

/// The settings one command line gives a provider (flags and variables), before they
/// are checked.
#[derive(Clone)]
pub struct ProviderSettings {
    /// The provider.
    pub provider: ProviderCli,
    values: SettingValues,
    environment: Option<String>,
    base_url: Option<String>,
}

impl ProviderSettings {
    /// The values of `provider`'s flags and variables in `matches` (the provider's
    /// subcommand or one of its own: the flags are global to them).
    pub fn from_matches(provider: ProviderCli, matches: &ArgMatches) -> Self {
        Self::from_lookup(provider, &|id| {
            matches.try_get_one::<String>(id).ok().flatten().cloned()
        })
    }

    /// The values `get` gives for the provider's keys (its settings, `environment`,
    /// `base_url`): for `oauth serve`, whose flags carry the provider's name.
    pub fn from_lookup(provider: ProviderCli, get: &dyn Fn(&str) -> Option<String>) -> Self {
        let mut values = SettingValues::new();
        for setting in provider.entry.settings {
            if let Some(value) = get(setting.key) {
                values.set(setting.key, &value);
            }
        }
        Self {
            provider,
            values,
            environment: get(ENVIRONMENT),
            base_url: get(BASE_URL),
        }
    }

    /// Whether any of the provider's own settings is given (not blank); `--environment`
    /// and `--base-url` do not count.
    pub fn any_given(&self) -> bool {
        self.provider
            .entry
            .settings
            .iter()
            .any(|setting| self.get(setting.key).is_some())
    }

    /// Sets `key` (the redirect URI `login` and `serve` listen at).
    pub fn set(&mut self, key: &str, value: &str) {
        self.values.set(key, value);
    }

    /// The value of setting `key`, trimmed, if given and not blank.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.values.get(key)
    }

    /// The values, checked: every required setting is given, except those `unneeded`
    /// says this command never sends (filled with [`UNUSED`]).
    ///
    /// # Errors
    /// A configuration error naming every missing setting, with its flag and variable.
    pub fn checked(&self, unneeded: &dyn Fn(&Setting) -> bool) -> Result<SettingValues, CliError> {
        let mut values = self.values.clone();
        let mut missing = Missing::new(self.provider);
        for setting in self.provider.entry.settings {
            if !setting.required || values.get(setting.key).is_some() {
                continue;
            }
            if unneeded(setting) {
                values.set(setting.key, UNUSED);
            } else {
                missing.note(setting);
            }
        }
        missing.finish()?;
        Ok(values)
    }

    /// The environment these settings point at: the base URL when given, else
    /// `--environment` (default: the sandbox when the provider has one, else
    /// production).
    ///
    /// # Errors
    /// A configuration error for an empty or invalid setting.
    pub fn environment(&self) -> Result<Environment, CliError> {
        let provider = self.provider;
        let base_var = provider.env_var(BASE_URL);
        let env_var = provider.env_var(ENVIRONMENT);
        let base = not_blank(
            self.base_url.as_deref(),
            "base-url",
            &base_var,
            if provider.entry.has_sandbox {
                "the --environment's hosts"
            } else {
                "the production hosts"
            },
        )?;
        let tier = not_blank(
            self.environment.as_deref(),
            "environment",
            &env_var,
            provider.default_tier(),
        )?;
        let tier = match tier {
            None => None,
            Some(name) if name.eq_ignore_ascii_case("production") => Some(Environment::Production),
            Some(name) if name.eq_ignore_ascii_case("sandbox") && provider.entry.has_sandbox => {
                Some(Environment::Sandbox)
            }
            Some(name) if name.eq_ignore_ascii_case("sandbox") => {
                return Err(CliError::configuration(format!(
                    "invalid {} environment (--environment or {env_var}): {} has no sandbox; \
                     expected `production` (a base URL, such as the local oauth-sandbox's, \
                     goes in --base-url, {base_var})",
                    provider.title(),
                    provider.title()
                )));
            }
            // The value is not repeated: it could be a secret given to the wrong variable.
            Some(_) => {
                return Err(CliError::configuration(format!(
                    "invalid {} environment (--environment or {env_var}): expected {} (a base \
                     URL goes in --base-url, {base_var})",
                    provider.title(),
                    if provider.entry.has_sandbox {
                        "`sandbox` or `production`"
                    } else {
                        "`production`"
                    }
                )));
            }
        };
        match base {
            Some(base) => Environment::custom(base).map_err(config_error(provider.title())),
            None => Ok(tier.unwrap_or(if provider.entry.has_sandbox {
                Environment::Sandbox
            } else {
                Environment::Production
            })),
        }
    }

    /// The provider's client for `purpose`, through its registry entry.
    ///
    /// # Errors
    /// A configuration error naming every missing setting, or the first invalid one.
    pub fn client(&self, purpose: Purpose) -> Result<AnyClient, CliError> {
        let values = self.checked(&|setting| purpose == Purpose::AuthorizeUrl && setting.secret)?;
        let options = ClientOptions {
            environment: self.environment()?,
            ..ClientOptions::default()
        };
        self.provider
            .entry
            .build(&values, options)
            .map_err(config_error(self.provider.title()))
    }

    /// The provider's typed client (for its own commands), from values
    /// [`checked`](Self::checked) before.
    ///
    /// # Errors
    /// A configuration error for an invalid setting.
    pub fn typed_client<P: Configure>(
        &self,
        values: &SettingValues,
    ) -> Result<Client<P>, CliError> {
        let title = self.provider.title();
        let settings = P::from_settings(values).map_err(config_error(title))?;
        Client::builder(settings)
            .environment(self.environment()?)
            .build()
            .map_err(config_error(title))
    }
}

/// Collects the settings a command lacks, to report them all at once.
struct Missing {
    provider: ProviderCli,
    items: Vec<String>,
}

impl Missing {
    fn new(provider: ProviderCli) -> Self {
        Self {
            provider,
            items: Vec::new(),
        }
    }

    fn note(&mut self, setting: &Setting) {
        self.items.push(format!(
            "{} (--{} or {})",
            setting.label,
            setting.flag(),
            self.provider.env_var(setting.key)
        ));
    }

    fn finish(self) -> Result<(), CliError> {
        if self.items.is_empty() {
            return Ok(());
        }
        Err(CliError::configuration(format!(
            "missing {} settings: {}",
            self.provider.title(),
            self.items.join(", ")
        )))
    }
}

/// Maps a client-building error to a configuration error naming the provider.
pub fn config_error(title: &str) -> impl FnOnce(oauth_core::Error) -> CliError + '_ {
    move |error| CliError::configuration(format!("{title} settings are invalid: {error}"))
}

/// A setting whose empty value must not silently mean "the default": `Ok(None)` when
/// it is not given, the trimmed value when it is, and a configuration error naming the
/// flag and the variable when it is given empty (`OAUTH_..._BASE_URL=""` would
/// otherwise send the request to the production host).
///
/// # Errors
/// The configuration error for an empty value.
pub fn not_blank<'a>(
    value: Option<&'a str>,
    flag: &str,
    env: &str,
    default: &str,
) -> Result<Option<&'a str>, CliError> {
    let env_blank = || std::env::var_os(env).is_some_and(|v| v.to_string_lossy().trim().is_empty());
    match value.map(str::trim) {
        Some("") => Err(blank_setting(flag, env, default)),
        Some(value) => Ok(Some(value)),
        None if env_blank() => Err(blank_setting(flag, env, default)),
        None => Ok(None),
    }
}

fn blank_setting(flag: &str, env: &str, default: &str) -> CliError {
    CliError::configuration(format!(
        "{env} (--{flag}) is set but empty: unset it to use the default ({default}), or give a value"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn provider(name: &str) -> ProviderCli {
        ProviderCli::find(name).unwrap()
    }

    /// The settings of `name` given by `pairs` (flag ids and values), as clap reads them.
    fn given(name: &str, pairs: &[(&str, &str)]) -> ProviderSettings {
        let provider = provider(name);
        let mut args = vec!["x".to_owned()];
        for (id, value) in pairs {
            args.push(format!("--{}={value}", id.replace('_', "-")));
        }
        let command = provider
            .args()
            .into_iter()
            .fold(clap::Command::new("x"), |c, a| c.arg(a));
        let matches = command.try_get_matches_from(args).unwrap();
        ProviderSettings::from_matches(provider, &matches)
    }

    fn message(result: Result<impl Sized, CliError>) -> Option<String> {
        result.err().map(|e| e.to_string())
    }

    #[test]
    fn every_missing_setting_is_named_once() {
        let err = message(given("ebay", &[]).client(Purpose::Tokens));
        assert_eq!(
            err.as_deref(),
            Some(
                "missing eBay settings: client id (--client-id or OAUTH_EBAY_CLIENT_ID), \
                 client secret (--client-secret or OAUTH_EBAY_CLIENT_SECRET), \
                 RuName (--ru-name or OAUTH_EBAY_RU_NAME)"
            )
        );
        let consent_only = message(
            given("ebay", &[("client_id", "id"), ("ru_name", " ")]).client(Purpose::AuthorizeUrl),
        );
        assert_eq!(
            consent_only.as_deref(),
            Some("missing eBay settings: RuName (--ru-name or OAUTH_EBAY_RU_NAME)")
        );
    }

    #[test]
    fn invalid_values_never_repeat_a_secret() {
        let settings = given(
            "ebay",
            &[
                ("client_id", "id"),
                ("client_secret", "SENTINEL-secret"),
                ("ru_name", "ru"),
                ("base_url", "http://example.com/ebay"),
            ],
        );
        let err = message(settings.client(Purpose::Tokens)).unwrap_or_default();
        assert!(err.starts_with("eBay settings are invalid: "), "{err}");
        assert!(err.contains("https"), "{err}");
        assert!(!err.contains("SENTINEL"), "{err}");
    }

    #[test]
    fn environments_and_base_urls() {
        let settings = given("ebay", &[("base_url", "https://api.example")]);
        let Ok(Environment::Custom(base)) = settings.environment() else {
            panic!("expected a custom environment");
        };
        assert_eq!(base.as_url().as_str(), "https://api.example/");
        assert_eq!(
            given("ebay", &[]).environment().ok(),
            Some(Environment::Sandbox),
            "sandbox is the default of a provider that has one"
        );
        assert_eq!(
            given("aliexpress", &[]).environment().ok(),
            Some(Environment::Production),
            "production is the default of a provider without a sandbox"
        );
        assert_eq!(
            given("ebay", &[("environment", "Production")])
                .environment()
                .ok(),
            Some(Environment::Production)
        );
        assert_eq!(
            message(given("ebay", &[("environment", "prod")]).environment()).as_deref(),
            Some(
                "invalid eBay environment (--environment or OAUTH_EBAY_ENVIRONMENT): \
                 expected `sandbox` or `production` (a base URL goes in --base-url, \
                 OAUTH_EBAY_BASE_URL)"
            )
        );
        let err = message(given("eshopbox", &[("environment", "sandbox")]).environment());
        assert!(
            err.as_deref()
                .is_some_and(|e| e.contains("Eshopbox has no sandbox")),
            "{err:?}"
        );
    }

    #[test]
    fn empty_base_urls_and_environments_are_errors_naming_the_variable() {
        let err = given("ebay", &[("environment", " ")])
            .environment()
            .err()
            .map(|e| (e.code(), e.to_string()));
        assert_eq!(
            err,
            Some((
                2,
                "OAUTH_EBAY_ENVIRONMENT (--environment) is set but empty: unset it to use the \
                 default (sandbox), or give a value"
                    .to_owned()
            ))
        );
        for name in ["ebay", "aliexpress", "orangeconnex", "eshopbox"] {
            let err = message(given(name, &[("base_url", "")]).environment());
            let var = provider(name).env_var(BASE_URL);
            assert!(
                err.as_deref()
                    .is_some_and(|e| e.starts_with(&format!("{var} (--base-url) is set but empty"))),
                "{err:?}"
            );
        }
    }

    #[test]
    fn hints_come_from_the_registry() {
        assert_eq!(
            provider("ebay").credentials_hint(),
            "OAUTH_EBAY_CLIENT_ID / OAUTH_EBAY_CLIENT_SECRET (--client-id / --client-secret), \
             and that they belong to the environment in use (OAUTH_EBAY_ENVIRONMENT, default \
             sandbox; or OAUTH_EBAY_BASE_URL)"
        );
        assert!(
            provider("orangeconnex")
                .credentials_hint()
                .starts_with("OAUTH_ORANGECONNEX_CLIENT_ID / OAUTH_ORANGECONNEX_CLIENT_KEY (")
        );
        assert_eq!(
            provider("eshopbox").credentials_hint(),
            "OAUTH_ESHOPBOX_CLIENT_ID / OAUTH_ESHOPBOX_CLIENT_SECRET (--client-id / \
             --client-secret)"
        );
        assert!(provider("eshopbox").reauthorize_hint().starts_with(
            "create a new refresh token in the Eshopbox app, set OAUTH_ESHOPBOX_REFRESH_TOKEN"
        ));
        assert!(
            provider("aliexpress")
                .reauthorize_hint()
                .starts_with("run `oauth aliexpress authorize-url`")
        );
    }

    #[test]
    fn every_provider_builds_from_its_example_settings() {
        for provider in ProviderCli::all() {
            let pairs: Vec<(&str, &str)> = provider.entry.example_settings.to_vec();
            let client = given(provider.name(), &pairs)
                .client(Purpose::Tokens)
                .unwrap_or_else(|e| panic!("{}: {e}", provider.name()));
            assert_eq!(client.provider(), provider.name());
        }
    }
}
