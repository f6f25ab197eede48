//! Settings per provider, from flags or `OAUTH_<PROVIDER>_<SETTING>` environment
//! variables, and the clients built from them.
//!
//! Every setting is optional for clap and checked here, so that a command names *all*
//! the settings it misses at once, with both ways to give each. Values are trimmed; an
//! empty credential counts as missing. An empty environment or base-URL setting is an
//! error naming it (it would otherwise fall back to the default host without a word).
//! Environment values are never shown in `--help` (`hide_env_values`), since some are
//! secrets.
//!
//! These types do not implement `Debug`: they hold secrets as plain strings until the
//! client is built, when each becomes a redacting `oauth_core` secret type.

use clap::Args;
use oauth_all::{aliexpress, ebay, eshopbox, orangeconnex};
use oauth_core::{AppSecret, ClientKey, ClientSecret, EndpointUrl, RefreshToken, Scopes};

use crate::error::CliError;

/// Collects the settings a command lacks, to report them all at once.
struct Missing {
    provider: &'static str,
    items: Vec<String>,
}

impl Missing {
    fn new(provider: &'static str) -> Self {
        Self {
            provider,
            items: Vec::new(),
        }
    }

    /// The trimmed value, or `""` after noting it as missing.
    fn take(&mut self, value: Option<&str>, what: &str, flag: &str, env: &str) -> String {
        match present(value) {
            Some(value) => value.to_owned(),
            None => {
                self.items.push(format!("{what} (--{flag} or {env})"));
                String::new()
            }
        }
    }

    fn finish(self) -> Result<(), CliError> {
        if self.items.is_empty() {
            return Ok(());
        }
        Err(CliError::configuration(format!(
            "missing {} settings: {}",
            self.provider,
            self.items.join(", ")
        )))
    }
}

/// The trimmed value when it is given and not blank.
fn present(value: Option<&str>) -> Option<&str> {
    value.map(str::trim).filter(|v| !v.is_empty())
}

/// Maps a client-building error to a configuration error naming the provider.
fn config_error(provider: &str) -> impl FnOnce(oauth_core::Error) -> CliError + '_ {
    move |error| CliError::configuration(format!("{provider} settings are invalid: {error}"))
}

/// A setting whose empty value must not silently mean "the default": `Ok(None)` when
/// it is not given, the trimmed value when it is, and a configuration error naming the
/// flag and the variable when it is given empty (`OAUTH_..._BASE_URL=""` would
/// otherwise send the request to the production host).
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

/// Parses an environment name (`sandbox` or `production`, any case).
fn environment_choice(
    value: Option<&str>,
    provider: &str,
    flag: &str,
    env: &str,
    base_env: &str,
) -> Result<Option<Tier>, CliError> {
    match not_blank(value, flag, env, "sandbox")? {
        None => Ok(None),
        Some(name) if name.eq_ignore_ascii_case("sandbox") => Ok(Some(Tier::Sandbox)),
        Some(name) if name.eq_ignore_ascii_case("production") => Ok(Some(Tier::Production)),
        // The value is not repeated: it could be a secret given to the wrong variable.
        Some(_) => Err(CliError::configuration(format!(
            "invalid {provider} environment (--{flag} or {env}): expected `sandbox` or \
             `production` (a base URL goes in --base-url, {base_env})"
        ))),
    }
}

/// Which environment of a provider to talk to when no base URL is given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tier {
    /// The provider's sandbox (eBay `*.sandbox.ebay.com`, OrangeConnex "stage"): the
    /// default of every provider that has one.
    Sandbox,
    /// The production hosts.
    Production,
}

/// Which settings hold a provider's client credentials: the hint of an
/// `invalid_client` (or `IncompleteSignature`, `access_denied`) answer.
pub fn credentials_hint(cli_name: &str) -> &'static str {
    match cli_name {
        "ebay" => {
            "OAUTH_EBAY_CLIENT_ID / OAUTH_EBAY_CLIENT_SECRET (--client-id / --client-secret), \
             and that the keyset belongs to the environment in use (OAUTH_EBAY_ENVIRONMENT, \
             default sandbox; or OAUTH_EBAY_BASE_URL)"
        }
        "aliexpress" => {
            "OAUTH_ALIEXPRESS_APP_KEY / OAUTH_ALIEXPRESS_APP_SECRET (--app-key / --app-secret)"
        }
        "orangeconnex" => {
            "OAUTH_ORANGECONNEX_CLIENT_ID / OAUTH_ORANGECONNEX_CLIENT_KEY (--client-id / \
             --client-key), and that they belong to the environment in use \
             (OAUTH_ORANGECONNEX_ENVIRONMENT, default sandbox; or OAUTH_ORANGECONNEX_BASE_URL)"
        }
        "eshopbox" => {
            "OAUTH_ESHOPBOX_CLIENT_ID / OAUTH_ESHOPBOX_CLIENT_SECRET (--client-id / \
             --client-secret)"
        }
        _ => "the client id and secret settings",
    }
}

/// eBay settings (`OAUTH_EBAY_*`).
#[derive(Args, Clone, Default)]
pub struct EbaySettings {
    /// Client id ("App ID") of the keyset.
    #[arg(
        long,
        global = true,
        env = "OAUTH_EBAY_CLIENT_ID",
        hide_env_values = true
    )]
    pub client_id: Option<String>,
    /// Client secret ("Cert ID") of the keyset. Prefer the environment variable: a flag is
    /// visible to other users of the machine.
    #[arg(
        long,
        global = true,
        env = "OAUTH_EBAY_CLIENT_SECRET",
        hide_env_values = true
    )]
    pub client_secret: Option<String>,
    /// RuName of the keyset (sent as `redirect_uri`).
    #[arg(
        long,
        global = true,
        env = "OAUTH_EBAY_RU_NAME",
        hide_env_values = true
    )]
    pub ru_name: Option<String>,
    /// Scopes for user consent, space-separated [default: `https://api.ebay.com/oauth/api_scope`].
    #[arg(long, global = true, env = "OAUTH_EBAY_SCOPES", hide_env_values = true)]
    pub scopes: Option<String>,
    /// Scopes of application tokens, space-separated [default: `https://api.ebay.com/oauth/api_scope`].
    #[arg(
        long,
        global = true,
        env = "OAUTH_EBAY_APP_SCOPES",
        hide_env_values = true
    )]
    pub app_scopes: Option<String>,
    /// eBay environment used when no --base-url is given: `sandbox`
    /// (`auth.sandbox.ebay.com`, `api.sandbox.ebay.com`) or `production` (`auth.ebay.com`,
    /// `api.ebay.com`) [default: sandbox]. A keyset works in its own environment only.
    #[arg(
        long,
        global = true,
        env = "OAUTH_EBAY_ENVIRONMENT",
        hide_env_values = true,
        value_name = "sandbox|production"
    )]
    pub environment: Option<String>,
    /// One base URL for both eBay hosts (a proxy, or the local `oauth-sandbox`: its
    /// `<base>/ebay`). HTTPS, or plain HTTP on loopback only.
    #[arg(
        long,
        global = true,
        env = "OAUTH_EBAY_BASE_URL",
        hide_env_values = true
    )]
    pub base_url: Option<String>,
    /// A separate base URL for the consent page (needs --base-url).
    #[arg(
        long,
        global = true,
        env = "OAUTH_EBAY_AUTH_BASE_URL",
        hide_env_values = true
    )]
    pub auth_base_url: Option<String>,
}

/// What an eBay client is built for: the consent URL needs no secret and application
/// tokens need no RuName.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EbayPurpose {
    /// Only the consent URL is built.
    ConsentUrl,
    /// User tokens: exchange, refresh, token.
    UserTokens,
    /// Application tokens (client credentials).
    ApplicationTokens,
}

/// Stands in for a setting a purpose never sends (the builder insists on every value).
const UNUSED: &str = "unused-by-this-command";

impl EbaySettings {
    /// The eBay environment these settings point at: the base URLs when given, else
    /// `--environment` (default sandbox).
    ///
    /// # Errors
    /// A configuration error for an empty or invalid setting, or an auth base URL
    /// without a base URL.
    pub fn environment(&self) -> Result<ebay::Environment, CliError> {
        let base = not_blank(
            self.base_url.as_deref(),
            "base-url",
            "OAUTH_EBAY_BASE_URL",
            "the --environment's hosts",
        )?;
        let auth = not_blank(
            self.auth_base_url.as_deref(),
            "auth-base-url",
            "OAUTH_EBAY_AUTH_BASE_URL",
            "the --base-url",
        )?;
        let tier = environment_choice(
            self.environment.as_deref(),
            "eBay",
            "environment",
            "OAUTH_EBAY_ENVIRONMENT",
            "OAUTH_EBAY_BASE_URL",
        )?;
        match (base, auth) {
            (Some(base), None) => ebay::Environment::custom(base).map_err(config_error("eBay")),
            (Some(base), Some(auth)) => Ok(ebay::Environment::Custom {
                authorize: EndpointUrl::parse(auth).map_err(config_error("eBay"))?,
                api: EndpointUrl::parse(base).map_err(config_error("eBay"))?,
            }),
            (None, Some(_)) => Err(CliError::configuration(
                "--auth-base-url (OAUTH_EBAY_AUTH_BASE_URL) needs --base-url (OAUTH_EBAY_BASE_URL)",
            )),
            (None, None) => Ok(match tier {
                Some(Tier::Production) => ebay::Environment::Production,
                Some(Tier::Sandbox) | None => ebay::Environment::Sandbox,
            }),
        }
    }

    /// The eBay client for `purpose`.
    ///
    /// # Errors
    /// A usage error naming every missing setting, or the first invalid one.
    pub fn client(&self, purpose: EbayPurpose) -> Result<ebay::Client, CliError> {
        let mut missing = Missing::new("eBay");
        let client_id = missing.take(
            self.client_id.as_deref(),
            "client id",
            "client-id",
            "OAUTH_EBAY_CLIENT_ID",
        );
        let client_secret = match purpose {
            EbayPurpose::ConsentUrl => present(self.client_secret.as_deref())
                .unwrap_or(UNUSED)
                .to_owned(),
            _ => missing.take(
                self.client_secret.as_deref(),
                "client secret",
                "client-secret",
                "OAUTH_EBAY_CLIENT_SECRET",
            ),
        };
        let ru_name = match purpose {
            EbayPurpose::ApplicationTokens => present(self.ru_name.as_deref())
                .unwrap_or(UNUSED)
                .to_owned(),
            _ => missing.take(
                self.ru_name.as_deref(),
                "RuName",
                "ru-name",
                "OAUTH_EBAY_RU_NAME",
            ),
        };
        missing.finish()?;
        let scopes = scopes_or_default(self.scopes.as_deref(), ebay::API_SCOPE);
        let app_scopes = scopes_or_default(self.app_scopes.as_deref(), ebay::API_SCOPE);
        ebay::Client::builder(client_id, ClientSecret::new(client_secret))
            .ru_name(ru_name)
            .scopes(scopes)
            .application_scopes(app_scopes)
            .environment(self.environment()?)
            .build()
            .map_err(config_error("eBay"))
    }
}

fn scopes_or_default(value: Option<&str>, default: &str) -> Scopes {
    match present(value) {
        Some(text) => Scopes::from_space_separated(text),
        None => Scopes::from([default]),
    }
}

/// AliExpress settings (`OAUTH_ALIEXPRESS_*`).
#[derive(Args, Clone, Default)]
pub struct AliExpressSettings {
    /// App key.
    #[arg(
        long,
        global = true,
        env = "OAUTH_ALIEXPRESS_APP_KEY",
        hide_env_values = true
    )]
    pub app_key: Option<String>,
    /// App secret (the signing key). Prefer the environment variable: a flag is visible to
    /// other users of the machine.
    #[arg(
        long,
        global = true,
        env = "OAUTH_ALIEXPRESS_APP_SECRET",
        hide_env_values = true
    )]
    pub app_secret: Option<String>,
    /// The app's registered callback URL.
    #[arg(
        long,
        global = true,
        env = "OAUTH_ALIEXPRESS_REDIRECT_URI",
        hide_env_values = true
    )]
    pub redirect_uri: Option<String>,
    /// Base URL instead of `https://api-sg.aliexpress.com` (a proxy, or the local
    /// `oauth-sandbox`: its `<base>/aliexpress`).
    #[arg(
        long,
        global = true,
        env = "OAUTH_ALIEXPRESS_BASE_URL",
        hide_env_values = true
    )]
    pub base_url: Option<String>,
}

impl AliExpressSettings {
    /// The AliExpress client. The consent URL (`for_consent_url`) does not need the app
    /// secret; every other command does.
    ///
    /// # Errors
    /// A usage error naming every missing setting, or the first invalid one.
    pub fn client(&self, for_consent_url: bool) -> Result<aliexpress::Client, CliError> {
        let mut missing = Missing::new("AliExpress");
        let app_key = missing.take(
            self.app_key.as_deref(),
            "app key",
            "app-key",
            "OAUTH_ALIEXPRESS_APP_KEY",
        );
        let app_secret = if for_consent_url {
            present(self.app_secret.as_deref())
                .unwrap_or(UNUSED)
                .to_owned()
        } else {
            self.app_secret(&mut missing)
        };
        let redirect_uri = missing.take(
            self.redirect_uri.as_deref(),
            "redirect URI",
            "redirect-uri",
            "OAUTH_ALIEXPRESS_REDIRECT_URI",
        );
        missing.finish()?;
        let base_url = not_blank(
            self.base_url.as_deref(),
            "base-url",
            "OAUTH_ALIEXPRESS_BASE_URL",
            "https://api-sg.aliexpress.com",
        )?;
        let mut builder = aliexpress::Client::builder(app_key, AppSecret::new(app_secret))
            .redirect_uri(redirect_uri);
        if let Some(base) = base_url {
            builder = builder.environment(
                aliexpress::Environment::custom(base).map_err(config_error("AliExpress"))?,
            );
        }
        builder.build().map_err(config_error("AliExpress"))
    }

    fn app_secret(&self, missing: &mut Missing) -> String {
        missing.take(
            self.app_secret.as_deref(),
            "app secret",
            "app-secret",
            "OAUTH_ALIEXPRESS_APP_SECRET",
        )
    }

    /// The signer and the app key (if set) for `aliexpress sign`.
    ///
    /// # Errors
    /// A usage error when the app secret is missing or unusable.
    pub fn signer(&self) -> Result<(aliexpress::Signer, Option<String>), CliError> {
        let mut missing = Missing::new("AliExpress");
        let secret = self.app_secret(&mut missing);
        missing.finish()?;
        let signer =
            aliexpress::Signer::new(&AppSecret::new(secret)).map_err(config_error("AliExpress"))?;
        Ok((signer, present(self.app_key.as_deref()).map(str::to_owned)))
    }
}

/// OrangeConnex settings (`OAUTH_ORANGECONNEX_*`).
#[derive(Args, Clone, Default)]
pub struct OrangeConnexSettings {
    /// 3PP client id.
    #[arg(
        long,
        global = true,
        env = "OAUTH_ORANGECONNEX_CLIENT_ID",
        hide_env_values = true
    )]
    pub client_id: Option<String>,
    /// The `clientKey` header value (optional for tokens, needed on API calls).
    #[arg(
        long,
        global = true,
        env = "OAUTH_ORANGECONNEX_CLIENT_KEY",
        hide_env_values = true
    )]
    pub client_key: Option<String>,
    /// The registered redirect URI.
    #[arg(
        long,
        global = true,
        env = "OAUTH_ORANGECONNEX_REDIRECT_URI",
        hide_env_values = true
    )]
    pub redirect_uri: Option<String>,
    /// OrangeConnex environment used when no --base-url is given: `sandbox` (the
    /// "stage" host) or `production` [default: sandbox].
    #[arg(
        long,
        global = true,
        env = "OAUTH_ORANGECONNEX_ENVIRONMENT",
        hide_env_values = true,
        value_name = "sandbox|production"
    )]
    pub environment: Option<String>,
    /// Base URL (a proxy, or the local `oauth-sandbox`: its `<base>/orangeconnex`).
    #[arg(
        long,
        global = true,
        env = "OAUTH_ORANGECONNEX_BASE_URL",
        hide_env_values = true
    )]
    pub base_url: Option<String>,
}

impl OrangeConnexSettings {
    /// The OrangeConnex client.
    ///
    /// # Errors
    /// A usage error naming every missing setting, or the first invalid one.
    pub fn client(&self) -> Result<orangeconnex::Client, CliError> {
        let mut missing = Missing::new("OrangeConnex");
        let client_id = missing.take(
            self.client_id.as_deref(),
            "client id",
            "client-id",
            "OAUTH_ORANGECONNEX_CLIENT_ID",
        );
        let redirect_uri = missing.take(
            self.redirect_uri.as_deref(),
            "redirect URI",
            "redirect-uri",
            "OAUTH_ORANGECONNEX_REDIRECT_URI",
        );
        missing.finish()?;
        let base_url = not_blank(
            self.base_url.as_deref(),
            "base-url",
            "OAUTH_ORANGECONNEX_BASE_URL",
            "the --environment's host",
        )?;
        let tier = environment_choice(
            self.environment.as_deref(),
            "OrangeConnex",
            "environment",
            "OAUTH_ORANGECONNEX_ENVIRONMENT",
            "OAUTH_ORANGECONNEX_BASE_URL",
        )?;
        let environment = match base_url {
            Some(base) => orangeconnex::Environment::Custom(
                EndpointUrl::parse(base).map_err(config_error("OrangeConnex"))?,
            ),
            None => match tier {
                Some(Tier::Production) => orangeconnex::Environment::Production,
                Some(Tier::Sandbox) | None => orangeconnex::Environment::Sandbox,
            },
        };
        let mut builder =
            orangeconnex::Client::builder(client_id, redirect_uri).environment(environment);
        if let Some(key) = present(self.client_key.as_deref()) {
            builder = builder.client_key(ClientKey::new(key));
        }
        builder.build().map_err(config_error("OrangeConnex"))
    }
}

/// Eshopbox settings (`OAUTH_ESHOPBOX_*`).
#[derive(Args, Clone, Default)]
pub struct EshopboxSettings {
    /// Client id of the custom (or partner) app.
    #[arg(
        long,
        global = true,
        env = "OAUTH_ESHOPBOX_CLIENT_ID",
        hide_env_values = true
    )]
    pub client_id: Option<String>,
    /// Client secret of the custom app. Prefer the environment variable.
    #[arg(
        long,
        global = true,
        env = "OAUTH_ESHOPBOX_CLIENT_SECRET",
        hide_env_values = true
    )]
    pub client_secret: Option<String>,
    /// The custom app's long-lived refresh token. Prefer the environment variable.
    #[arg(
        long,
        global = true,
        env = "OAUTH_ESHOPBOX_REFRESH_TOKEN",
        hide_env_values = true
    )]
    pub refresh_token: Option<String>,
    /// The full token URL instead of `https://auth.myeshopbox.com/api/v1/generateToken` (a
    /// proxy, or the local `oauth-sandbox`: its `<base>/eshopbox/api/v1/generateToken`).
    #[arg(
        long,
        global = true,
        env = "OAUTH_ESHOPBOX_TOKEN_URL",
        hide_env_values = true
    )]
    pub token_url: Option<String>,
    /// Partner apps: the registered redirect URI.
    #[arg(
        long,
        global = true,
        env = "OAUTH_ESHOPBOX_REDIRECT_URI",
        hide_env_values = true
    )]
    pub redirect_uri: Option<String>,
    /// Partner apps: scopes, space-separated (sent comma-separated).
    #[arg(
        long,
        global = true,
        env = "OAUTH_ESHOPBOX_SCOPES",
        hide_env_values = true
    )]
    pub scopes: Option<String>,
    /// Partner apps: the `audience` parameter.
    #[arg(
        long,
        global = true,
        env = "OAUTH_ESHOPBOX_AUDIENCE",
        hide_env_values = true
    )]
    pub audience: Option<String>,
    /// Partner apps: the authorize page instead of
    /// `https://partners.myeshopbox.com/installation/authorize`.
    #[arg(
        long,
        global = true,
        env = "OAUTH_ESHOPBOX_AUTHORIZE_URL",
        hide_env_values = true
    )]
    pub authorize_url: Option<String>,
}

impl EshopboxSettings {
    /// The custom-app client and its configured refresh token.
    ///
    /// # Errors
    /// A usage error naming every missing setting, or the first invalid one.
    pub fn client(&self) -> Result<(eshopbox::Client, RefreshToken), CliError> {
        let mut missing = Missing::new("Eshopbox");
        let client_id = missing.take(
            self.client_id.as_deref(),
            "client id",
            "client-id",
            "OAUTH_ESHOPBOX_CLIENT_ID",
        );
        let client_secret = missing.take(
            self.client_secret.as_deref(),
            "client secret",
            "client-secret",
            "OAUTH_ESHOPBOX_CLIENT_SECRET",
        );
        let refresh_token = missing.take(
            self.refresh_token.as_deref(),
            "refresh token",
            "refresh-token",
            "OAUTH_ESHOPBOX_REFRESH_TOKEN",
        );
        missing.finish()?;
        let token_url = not_blank(
            self.token_url.as_deref(),
            "token-url",
            "OAUTH_ESHOPBOX_TOKEN_URL",
            "https://auth.myeshopbox.com/api/v1/generateToken",
        )?;
        let refresh_token = RefreshToken::new(refresh_token);
        let mut builder = eshopbox::Client::builder(
            client_id,
            ClientSecret::new(client_secret),
            refresh_token.clone(),
        );
        if let Some(url) = token_url {
            builder = builder
                .environment(eshopbox::Environment::custom(url).map_err(config_error("Eshopbox"))?);
        }
        let client = builder.build().map_err(config_error("Eshopbox"))?;
        Ok((client, refresh_token))
    }

    /// The partner-app authorization (URL only: Eshopbox does not document the code
    /// exchange of partner apps).
    ///
    /// # Errors
    /// A usage error naming every missing setting, or the first invalid one.
    pub fn partner_authorization(&self) -> Result<eshopbox::PartnerAuthorization, CliError> {
        let mut missing = Missing::new("Eshopbox");
        let client_id = missing.take(
            self.client_id.as_deref(),
            "client id",
            "client-id",
            "OAUTH_ESHOPBOX_CLIENT_ID",
        );
        let redirect_uri = missing.take(
            self.redirect_uri.as_deref(),
            "redirect URI",
            "redirect-uri",
            "OAUTH_ESHOPBOX_REDIRECT_URI",
        );
        missing.finish()?;
        let authorize_url = not_blank(
            self.authorize_url.as_deref(),
            "authorize-url",
            "OAUTH_ESHOPBOX_AUTHORIZE_URL",
            "https://partners.myeshopbox.com/installation/authorize",
        )?;
        let mut builder = eshopbox::PartnerAuthorization::builder(client_id, redirect_uri);
        if let Some(scopes) = present(self.scopes.as_deref()) {
            builder = builder.scopes(Scopes::from_space_separated(scopes));
        }
        if let Some(audience) = present(self.audience.as_deref()) {
            builder = builder.audience(audience);
        }
        if let Some(url) = authorize_url {
            builder = builder.endpoint(EndpointUrl::parse(url).map_err(config_error("Eshopbox"))?);
        }
        builder.build().map_err(config_error("Eshopbox"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_missing_setting_is_named_once() {
        let err = EbaySettings::default()
            .client(EbayPurpose::UserTokens)
            .err()
            .map(|e| e.to_string());
        assert_eq!(
            err.as_deref(),
            Some(
                "missing eBay settings: client id (--client-id or OAUTH_EBAY_CLIENT_ID), \
                 client secret (--client-secret or OAUTH_EBAY_CLIENT_SECRET), \
                 RuName (--ru-name or OAUTH_EBAY_RU_NAME)"
            )
        );
        let consent_only = EbaySettings {
            client_id: Some("id".into()),
            ru_name: Some(" ".into()),
            ..EbaySettings::default()
        }
        .client(EbayPurpose::ConsentUrl)
        .err()
        .map(|e| e.to_string());
        assert_eq!(
            consent_only.as_deref(),
            Some("missing eBay settings: RuName (--ru-name or OAUTH_EBAY_RU_NAME)")
        );
    }

    #[test]
    fn invalid_values_never_repeat_a_secret() {
        let settings = EbaySettings {
            client_id: Some("id".into()),
            client_secret: Some("SENTINEL-secret".into()),
            ru_name: Some("ru".into()),
            base_url: Some("http://example.com/ebay".into()),
            ..EbaySettings::default()
        };
        let err = settings
            .client(EbayPurpose::UserTokens)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.starts_with("eBay settings are invalid: "), "{err}");
        assert!(err.contains("https"), "{err}");
        assert!(!err.contains("SENTINEL"), "{err}");
    }

    #[test]
    fn ebay_base_urls() {
        let mut settings = EbaySettings {
            auth_base_url: Some("https://auth.example".into()),
            ..EbaySettings::default()
        };
        assert!(settings.environment().is_err());
        settings.base_url = Some("https://api.example".into());
        let Ok(ebay::Environment::Custom { authorize, api }) = settings.environment() else {
            panic!("expected a custom environment");
        };
        assert_eq!(authorize.as_url().as_str(), "https://auth.example/");
        assert_eq!(api.as_url().as_str(), "https://api.example/");
        settings.base_url = None;
        settings.auth_base_url = None;
        assert_eq!(
            settings.environment().ok(),
            Some(ebay::Environment::Sandbox),
            "sandbox is the default"
        );
        settings.environment = Some("Production".into());
        assert_eq!(
            settings.environment().ok(),
            Some(ebay::Environment::Production)
        );
        settings.environment = Some("prod".into());
        let err = settings.environment().err().map(|e| e.to_string());
        assert_eq!(
            err.as_deref(),
            Some(
                "invalid eBay environment (--environment or OAUTH_EBAY_ENVIRONMENT): \
                 expected `sandbox` or `production` (a base URL goes in --base-url, \
                 OAUTH_EBAY_BASE_URL)"
            )
        );
    }

    #[test]
    fn empty_base_urls_and_environments_are_errors_naming_the_variable() {
        let ebay = EbaySettings {
            environment: Some(" ".into()),
            ..EbaySettings::default()
        };
        let err = ebay.environment().err().map(|e| (e.code(), e.to_string()));
        assert_eq!(
            err,
            Some((
                2,
                "OAUTH_EBAY_ENVIRONMENT (--environment) is set but empty: unset it to use the \
                 default (sandbox), or give a value"
                    .to_owned()
            ))
        );
        let ebay = EbaySettings {
            base_url: Some(String::new()),
            ..EbaySettings::default()
        };
        let err = ebay.environment().err().map(|e| e.to_string());
        assert!(
            err.as_deref()
                .is_some_and(|e| e.starts_with("OAUTH_EBAY_BASE_URL (--base-url) is set but empty")),
            "{err:?}"
        );
        let ae = AliExpressSettings {
            app_key: Some("k".into()),
            app_secret: Some("s".into()),
            redirect_uri: Some("https://example.com/cb".into()),
            base_url: Some(String::new()),
        };
        let err = ae.client(false).err().map(|e| e.to_string());
        assert!(
            err.as_deref().is_some_and(|e| e.starts_with(
                "OAUTH_ALIEXPRESS_BASE_URL (--base-url) is set but empty: unset it to use the \
                 default (https://api-sg.aliexpress.com)"
            )),
            "{err:?}"
        );
        let oc = OrangeConnexSettings {
            client_id: Some("id".into()),
            redirect_uri: Some("https://example.com/cb".into()),
            environment: Some(String::new()),
            ..OrangeConnexSettings::default()
        };
        let err = oc.client().err().map(|e| e.to_string());
        assert!(
            err.as_deref()
                .is_some_and(|e| e.starts_with("OAUTH_ORANGECONNEX_ENVIRONMENT (--environment)")),
            "{err:?}"
        );
        let esb = EshopboxSettings {
            client_id: Some("id".into()),
            client_secret: Some("secret".into()),
            refresh_token: Some("rt".into()),
            token_url: Some("  ".into()),
            ..EshopboxSettings::default()
        };
        let err = esb.client().err().map(|e| e.to_string());
        assert!(
            err.as_deref()
                .is_some_and(|e| e.starts_with("OAUTH_ESHOPBOX_TOKEN_URL (--token-url)")),
            "{err:?}"
        );
    }
}
