//! Environments, the client builder and the client.

use crate::sign::Signer;
use oauth_core::url::Url;
use oauth_core::{AppSecret, ClientId, EndpointUrl, Error, HttpClient, SharedClock, system_clock};
use std::fmt;
use std::time::SystemTime;

/// The production host: consent page, system (`/rest`) and business
/// (`/sync`) gateways all live on it.
pub const PRODUCTION_BASE_URL: &str = "https://api-sg.aliexpress.com";
/// Path of the consent page under the base URL.
pub const AUTHORIZE_PATH: &str = "/oauth/authorize";
/// Path of the system-interface gateway; the API path is appended to it
/// (`/rest/auth/token/create`).
pub const REST_PATH: &str = "/rest";
/// Path of the business-interface gateway (`/sync?method=<api name>`).
pub const SYNC_PATH: &str = "/sync";

/// Where the AliExpress endpoints live.
///
/// | | consent page | system APIs | business APIs |
/// |---|---|---|---|
/// | `Production` | `https://api-sg.aliexpress.com/oauth/authorize` | `https://api-sg.aliexpress.com/rest{path}` | `https://api-sg.aliexpress.com/sync` |
/// | `Custom(base)` | `<base>/oauth/authorize` | `<base>/rest{path}` | `<base>/sync` |
///
/// There is **no separate sandbox**: apps in "test" status get short-lived
/// tokens (1 day access, 2 days refresh) on the production host. Use
/// [`Custom`](Self::Custom) for a local emulator, a proxy or a mock server
/// (any base path is kept).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Environment {
    /// `https://api-sg.aliexpress.com`.
    #[default]
    Production,
    /// Another base URL (`https`, or `http` on a loopback host).
    Custom(EndpointUrl),
}

impl Environment {
    /// A custom base URL, validated.
    ///
    /// # Errors
    /// [`Error::Configuration`] unless `base` is an `https` URL, or an
    /// `http` URL on a loopback host, without credentials, query or fragment.
    pub fn custom(base: &str) -> Result<Self, Error> {
        EndpointUrl::parse(base).map(Self::Custom)
    }

    /// The base URL of this environment.
    ///
    /// # Errors
    /// [`Error::Configuration`] only if the built-in production URL were
    /// invalid (it is not; the check keeps this free of `unwrap`).
    pub fn base_url(&self) -> Result<EndpointUrl, Error> {
        match self {
            Self::Production => EndpointUrl::parse(PRODUCTION_BASE_URL),
            Self::Custom(base) => Ok(base.clone()),
        }
    }
}

/// Builds a [`Client`]; every setting is checked once, in
/// [`build`](Self::build), so that an invalid client cannot exist.
///
/// Required: app key, app secret ([`Client::builder`]) and the redirect URI
/// registered for the app ([`redirect_uri`](Self::redirect_uri)).
/// Defaults: [`Environment::Production`], `force_auth=true`, no
/// `partner_id`, a new [`HttpClient`], the system clock.
pub struct ClientBuilder {
    app_key: ClientId,
    app_secret: AppSecret,
    redirect_uri: Option<String>,
    environment: Environment,
    force_auth: bool,
    partner_id: Option<String>,
    http: Option<HttpClient>,
    clock: Option<SharedClock>,
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("app_key", &self.app_key)
            .field("app_secret", &self.app_secret)
            .field("redirect_uri", &self.redirect_uri)
            .field("environment", &self.environment)
            .field("force_auth", &self.force_auth)
            .field("partner_id", &self.partner_id)
            .finish_non_exhaustive()
    }
}

impl ClientBuilder {
    /// The callback URL registered for the app (sent as `redirect_uri` on
    /// the consent page; it must match the registration exactly).
    pub fn redirect_uri(mut self, redirect_uri: impl Into<String>) -> Self {
        self.redirect_uri = Some(redirect_uri.into());
        self
    }

    /// The environment (default [`Environment::Production`]).
    pub fn environment(mut self, environment: Environment) -> Self {
        self.environment = environment;
        self
    }

    /// Whether the consent page asks the seller to log in again
    /// (`force_auth`, default `true`).
    pub fn force_auth(mut self, force_auth: bool) -> Self {
        self.force_auth = force_auth;
        self
    }

    /// A free-form `partner_id` tag sent (and signed) with every call, as
    /// the official SDKs do with their SDK name. Default: none.
    pub fn partner_id(mut self, partner_id: impl Into<String>) -> Self {
        self.partner_id = Some(partner_id.into());
        self
    }

    /// The HTTP client to use. Share one between all accounts of a service
    /// (clones share a connection pool). Default: [`HttpClient::new`].
    pub fn http_client(mut self, http: HttpClient) -> Self {
        self.http = Some(http);
        self
    }

    /// The clock for request timestamps and token expiries (default: the
    /// system clock; tests use [`oauth_core::ManualClock`]).
    pub fn clock(mut self, clock: SharedClock) -> Self {
        self.clock = Some(clock);
        self
    }

    /// Validates the settings and builds the client.
    ///
    /// # Errors
    /// [`Error::Configuration`] for an empty app key or secret, a missing or
    /// invalid redirect URI, an invalid base URL, or an HTTP client that
    /// cannot be built.
    pub fn build(self) -> Result<Client, Error> {
        let app_key = self.app_key.as_str().trim();
        if app_key.is_empty() {
            return Err(Error::configuration("the AliExpress app key is empty"));
        }
        if app_key.chars().any(char::is_control) {
            return Err(Error::configuration(
                "the AliExpress app key contains control characters",
            ));
        }
        let signer = Signer::new(&self.app_secret)?;
        let redirect_uri = self.redirect_uri.as_deref().map(str::trim).ok_or_else(|| {
            Error::configuration("the AliExpress redirect URI (the app's callback) is not set")
        })?;
        let redirect_uri = Url::parse(redirect_uri).map_err(|e| {
            Error::configuration(format!("the AliExpress redirect URI is not a URL: {e}"))
        })?;
        let base = self.environment.base_url()?;
        let partner_id = self
            .partner_id
            .map(|p| p.trim().to_owned())
            .filter(|p| !p.is_empty());
        let http = match self.http {
            Some(http) => http,
            None => HttpClient::new()?,
        };
        Ok(Client {
            app_key: ClientId::new(app_key),
            signer,
            base,
            redirect_uri,
            force_auth: self.force_auth,
            partner_id,
            http,
            clock: self.clock.unwrap_or_else(system_clock),
        })
    }
}

/// An AliExpress (IOP) client for one app: authorize URLs, token create and
/// refresh, and signing of API calls.
///
/// Cheap to clone. `Debug` never shows the app secret.
#[derive(Clone)]
pub struct Client {
    pub(crate) app_key: ClientId,
    pub(crate) signer: Signer,
    pub(crate) base: EndpointUrl,
    pub(crate) redirect_uri: Url,
    pub(crate) force_auth: bool,
    pub(crate) partner_id: Option<String>,
    pub(crate) http: HttpClient,
    pub(crate) clock: SharedClock,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("app_key", &self.app_key)
            .field("signer", &self.signer)
            .field("base", &self.base)
            .field("redirect_uri", &self.redirect_uri.as_str())
            .field("force_auth", &self.force_auth)
            .field("partner_id", &self.partner_id)
            .field("http", &self.http)
            .field("clock", &self.clock)
            .finish()
    }
}

impl Client {
    /// A builder for the app with `app_key` (the OAuth `client_id`) and
    /// `app_secret` (the signing key).
    pub fn builder(app_key: impl Into<String>, app_secret: AppSecret) -> ClientBuilder {
        ClientBuilder {
            app_key: ClientId::new(app_key.into()),
            app_secret,
            redirect_uri: None,
            environment: Environment::Production,
            force_auth: true,
            partner_id: None,
            http: None,
            clock: None,
        }
    }

    /// The app key.
    pub fn app_key(&self) -> &ClientId {
        &self.app_key
    }

    /// The signer keyed with the app secret (to sign or debug calls by hand).
    pub fn signer(&self) -> &Signer {
        &self.signer
    }

    /// The base URL of the environment.
    pub fn base_url(&self) -> &EndpointUrl {
        &self.base
    }

    /// The redirect URI sent on the consent page.
    pub fn redirect_uri(&self) -> &Url {
        &self.redirect_uri
    }

    /// The clock used for timestamps and expiries.
    pub fn clock(&self) -> &SharedClock {
        &self.clock
    }

    /// The current time on the client's clock.
    pub fn now(&self) -> SystemTime {
        self.clock.now()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn builder() -> ClientBuilder {
        Client::builder("12345678", AppSecret::new("helloworld"))
            .redirect_uri("https://app.example/callback")
    }

    #[test]
    fn valid_settings_build() {
        let client = builder().build().unwrap();
        assert_eq!(client.app_key().as_str(), "12345678");
        assert_eq!(
            client.base_url().as_url().as_str(),
            "https://api-sg.aliexpress.com/"
        );
        assert!(client.force_auth);
        assert_eq!(client.partner_id, None);
    }

    #[test]
    fn invalid_settings_are_refused() {
        let cases = [
            Client::builder("", AppSecret::new("s")).redirect_uri("https://a.example/cb"),
            Client::builder(" ", AppSecret::new("s")).redirect_uri("https://a.example/cb"),
            Client::builder("1", AppSecret::new("")).redirect_uri("https://a.example/cb"),
            Client::builder("1", AppSecret::new("s")),
            Client::builder("1", AppSecret::new("s")).redirect_uri("not a url"),
        ];
        for case in cases {
            let err = case.build().unwrap_err();
            assert!(matches!(err, Error::Configuration { .. }), "{err:?}");
        }
        assert!(matches!(
            Environment::custom("http://example.com"),
            Err(Error::Configuration { .. })
        ));
    }

    #[test]
    fn custom_environment_keeps_base_path() {
        let env = Environment::custom("http://127.0.0.1:9/ae/").unwrap();
        let client = builder().environment(env).build().unwrap();
        assert_eq!(
            client
                .base_url()
                .join_path("/rest/auth/token/create")
                .as_str(),
            "http://127.0.0.1:9/ae/rest/auth/token/create"
        );
    }
}
