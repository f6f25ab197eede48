//! Environments, the client builder and the client.

use crate::PROVIDER;
use oauth_core::http_types::HeaderValue;
use oauth_core::url::Url;
use oauth_core::{
    ClientId, ClientKey, EndpointUrl, Error, HttpClient, SharedClock, sensitive_header_value,
    system_clock,
};
use std::fmt;

/// Base URL of the production environment.
///
/// *Unconfirmed* for the token endpoint: OrangeConnex documents this host for
/// `getAuthorizationCode` only; the token endpoint is assumed to live on the
/// same host. If it turns out to differ, use [`Environment::Custom`].
pub const PRODUCTION_BASE_URL: &str = "https://openapi-hk.orangeconnex.com";

/// Base URL of the sandbox ("stage") environment.
pub const SANDBOX_BASE_URL: &str = "https://openapi-stage-hk.orangeconnex.com";

/// Where the OAuth endpoints live.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Environment {
    /// [`PRODUCTION_BASE_URL`] (token host *unconfirmed*, see there).
    Production,
    /// [`SANDBOX_BASE_URL`], the "stage" environment.
    #[default]
    Sandbox,
    /// Any other base URL: a local sandbox, a mock server, a proxy. The
    /// paths `/oauth/authorize` and `/oauth/token` are appended to it (its
    /// own path is kept).
    Custom(EndpointUrl),
}

impl Environment {
    /// The base URL of this environment.
    ///
    /// # Errors
    /// Never for the built-in environments (their URLs are constants that
    /// pass validation); kept fallible so no `unwrap` is needed.
    pub fn base_url(&self) -> Result<EndpointUrl, Error> {
        match self {
            Self::Production => EndpointUrl::parse(PRODUCTION_BASE_URL),
            Self::Sandbox => EndpointUrl::parse(SANDBOX_BASE_URL),
            Self::Custom(url) => Ok(url.clone()),
        }
    }
}

/// Builds a [`Client`], validating every setting once.
///
/// ```
/// use oauth_orangeconnex::{Client, Environment};
/// use oauth_core::ClientKey;
///
/// let client = Client::builder("my-3pp-client-id", "https://app.example/oc/callback")
///     .client_key(ClientKey::new("my-client-key"))
///     .environment(Environment::Sandbox)
///     .build()?;
/// assert_eq!(client.client_id().as_str(), "my-3pp-client-id");
/// # Ok::<(), oauth_core::Error>(())
/// ```
#[derive(Clone)]
pub struct ClientBuilder {
    client_id: ClientId,
    redirect_uri: String,
    client_key: Option<ClientKey>,
    environment: Environment,
    http: Option<HttpClient>,
    clock: Option<SharedClock>,
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("client_id", &self.client_id)
            .field("redirect_uri", &self.redirect_uri)
            .field("client_key", &self.client_key)
            .field("environment", &self.environment)
            .field("http", &self.http)
            .field("clock", &self.clock)
            .finish()
    }
}

impl ClientBuilder {
    /// A builder for the 3PP `client_id` issued by OrangeConnex and the
    /// `redirect_uri` registered with it (sent verbatim, byte for byte, in
    /// the authorize URL and the code exchange). The environment defaults to
    /// [`Environment::Sandbox`].
    pub fn new(client_id: impl Into<ClientId>, redirect_uri: impl Into<String>) -> Self {
        Self {
            client_id: client_id.into(),
            redirect_uri: redirect_uri.into(),
            client_key: None,
            environment: Environment::default(),
            http: None,
            clock: None,
        }
    }

    /// The partner's `clientKey`, sent as a header on token requests and API
    /// calls. Optional for the token endpoint; API calls need it.
    pub fn client_key(mut self, client_key: ClientKey) -> Self {
        self.client_key = Some(client_key);
        self
    }

    /// The environment (default: [`Environment::Sandbox`]).
    pub fn environment(mut self, environment: Environment) -> Self {
        self.environment = environment;
        self
    }

    /// The HTTP client to send token requests with. Share one between all
    /// the accounts of a service (clones share a connection pool). Default:
    /// [`HttpClient::new`].
    pub fn http_client(mut self, http: HttpClient) -> Self {
        self.http = Some(http);
        self
    }

    /// The clock that turns `expires_in` into absolute expiries (default:
    /// the system clock).
    pub fn clock(mut self, clock: SharedClock) -> Self {
        self.clock = Some(clock);
        self
    }

    /// Validates the settings and builds the client.
    ///
    /// # Errors
    /// [`Error::Configuration`] for an empty client id, an empty or relative
    /// redirect URI, an empty client key, or when the default HTTP client
    /// cannot be built. The values themselves are never repeated.
    pub fn build(self) -> Result<Client, Error> {
        if self.client_id.as_str().trim().is_empty() {
            return Err(Error::configuration("OrangeConnex client id is empty"));
        }
        if self.redirect_uri.trim().is_empty() {
            return Err(Error::configuration("OrangeConnex redirect URI is empty"));
        }
        if self.redirect_uri.trim() != self.redirect_uri {
            return Err(Error::configuration(
                "OrangeConnex redirect URI has leading or trailing whitespace",
            ));
        }
        Url::parse(&self.redirect_uri).map_err(|_| {
            Error::configuration("OrangeConnex redirect URI is not an absolute URL")
        })?;
        let client_key_header = match &self.client_key {
            Some(key) if key.is_empty() => {
                return Err(Error::configuration(
                    "OrangeConnex client key is empty (leave it unset instead)",
                ));
            }
            Some(key) => Some(sensitive_header_value(key.expose_secret()).map_err(|_| {
                Error::configuration(
                    "OrangeConnex client key contains characters not allowed in an HTTP header",
                )
            })?),
            None => None,
        };
        let base = self.environment.base_url()?;
        let authorize_endpoint = base.join_path(crate::authorize::AUTHORIZE_PATH);
        let token_endpoint = base.join_path(crate::grant::TOKEN_PATH);
        let http = match self.http {
            Some(http) => http,
            None => HttpClient::new()?,
        };
        Ok(Client {
            client_id: self.client_id,
            redirect_uri: self.redirect_uri,
            client_key: self.client_key,
            client_key_header,
            environment: self.environment,
            authorize_endpoint,
            token_endpoint,
            http,
            clock: self.clock.unwrap_or_else(system_clock),
        })
    }
}

/// An OrangeConnex OAuth client for one 3PP application: builds authorize
/// URLs, exchanges codes, refreshes tokens, and tells how to attach a token
/// to API calls.
///
/// Cheap to clone; `Debug` never shows the client key. Build it with
/// [`Client::builder`].
#[derive(Clone)]
pub struct Client {
    pub(crate) client_id: ClientId,
    pub(crate) redirect_uri: String,
    pub(crate) client_key: Option<ClientKey>,
    /// The client key as a header value, marked sensitive (validated once).
    pub(crate) client_key_header: Option<HeaderValue>,
    pub(crate) environment: Environment,
    pub(crate) authorize_endpoint: Url,
    pub(crate) token_endpoint: Url,
    pub(crate) http: HttpClient,
    pub(crate) clock: SharedClock,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("provider", &PROVIDER)
            .field("client_id", &self.client_id)
            .field("redirect_uri", &self.redirect_uri)
            .field("client_key", &self.client_key)
            .field("environment", &self.environment)
            .field("http", &self.http)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// A [`ClientBuilder`]; see [`ClientBuilder::new`].
    pub fn builder(
        client_id: impl Into<ClientId>,
        redirect_uri: impl Into<String>,
    ) -> ClientBuilder {
        ClientBuilder::new(client_id, redirect_uri)
    }

    /// The 3PP client id.
    pub fn client_id(&self) -> &ClientId {
        &self.client_id
    }

    /// The redirect URI, as configured.
    pub fn redirect_uri(&self) -> &str {
        &self.redirect_uri
    }

    /// The client key, if configured.
    pub fn client_key(&self) -> Option<&ClientKey> {
        self.client_key.as_ref()
    }

    /// The environment.
    pub fn environment(&self) -> &Environment {
        &self.environment
    }

    /// `<base>/oauth/authorize`.
    pub fn authorize_endpoint(&self) -> &Url {
        &self.authorize_endpoint
    }

    /// `<base>/oauth/token`.
    pub fn token_endpoint(&self) -> &Url {
        &self.token_endpoint
    }

    /// The HTTP client token requests are sent with.
    pub fn http_client(&self) -> &HttpClient {
        &self.http
    }

    /// The clock expiries are computed with.
    pub fn clock(&self) -> &SharedClock {
        &self.clock
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_in_environments_have_valid_urls() {
        assert_eq!(
            Environment::Production
                .base_url()
                .unwrap()
                .as_url()
                .as_str(),
            "https://openapi-hk.orangeconnex.com/"
        );
        assert_eq!(
            Environment::Sandbox.base_url().unwrap().as_url().as_str(),
            "https://openapi-stage-hk.orangeconnex.com/"
        );
        let client = Client::builder("id", "https://app.example/cb")
            .environment(Environment::Production)
            .build()
            .unwrap();
        assert_eq!(
            client.token_endpoint().as_str(),
            "https://openapi-hk.orangeconnex.com/oauth/token"
        );
        assert_eq!(
            client.authorize_endpoint().as_str(),
            "https://openapi-hk.orangeconnex.com/oauth/authorize"
        );
    }

    #[test]
    fn custom_base_path_is_kept() {
        let base = EndpointUrl::parse("http://127.0.0.1:9000/orangeconnex/").unwrap();
        let client = Client::builder("id", "https://app.example/cb")
            .environment(Environment::Custom(base))
            .build()
            .unwrap();
        assert_eq!(
            client.token_endpoint().as_str(),
            "http://127.0.0.1:9000/orangeconnex/oauth/token"
        );
    }

    #[test]
    fn invalid_settings_are_refused() {
        let cases = [
            Client::builder("", "https://app.example/cb"),
            Client::builder("  ", "https://app.example/cb"),
            Client::builder("id", ""),
            Client::builder("id", "/relative/cb"),
            Client::builder("id", " https://app.example/cb"),
            Client::builder("id", "https://app.example/cb").client_key(ClientKey::new("")),
            Client::builder("id", "https://app.example/cb").client_key(ClientKey::new("k\nx")),
        ];
        for builder in cases {
            let err = builder.build().unwrap_err();
            assert!(matches!(err, Error::Configuration { .. }), "{err:?}");
        }
    }
}
