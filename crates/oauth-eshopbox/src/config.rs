//! Client configuration: the token endpoint and the custom app's credentials.

use crate::PROVIDER;
use oauth_core::{
    ClientId, ClientSecret, EndpointUrl, Error, HttpClient, RefreshToken, SharedClock,
};
use std::fmt;
use std::time::Duration;

/// The production token endpoint (the same for every workspace).
pub const PRODUCTION_TOKEN_URL: &str = "https://auth.myeshopbox.com/api/v1/generateToken";

/// Where the token endpoint is.
///
/// Eshopbox has no separate sandbox host: test mode means a development
/// *workspace* on the production endpoint. [`Custom`](Self::Custom) points
/// the client elsewhere (a local emulator, a proxy, a test server).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Environment {
    /// `https://auth.myeshopbox.com/api/v1/generateToken`.
    #[default]
    Production,
    /// The **full** token URL, path included (e.g.
    /// `http://127.0.0.1:8080/api/v1/generateToken`): nothing is appended to
    /// it, so a proxy or emulator may serve the grant at any path.
    Custom(EndpointUrl),
}

impl Environment {
    /// [`Environment::Custom`] from text: the **full** token URL (HTTPS, or
    /// plain HTTP on loopback only).
    ///
    /// # Errors
    /// [`Error::Configuration`] for a URL [`EndpointUrl`] refuses.
    pub fn custom(token_url: &str) -> Result<Self, Error> {
        EndpointUrl::parse(token_url).map(Self::Custom)
    }

    /// The token URL of this environment.
    ///
    /// # Errors
    /// [`Error::Configuration`] only if the built-in production URL were
    /// invalid (it is not; the check keeps this free of `unwrap`).
    pub fn token_url(&self) -> Result<EndpointUrl, Error> {
        match self {
            Self::Production => EndpointUrl::parse(PRODUCTION_TOKEN_URL),
            Self::Custom(url) => Ok(url.clone()),
        }
    }
}

/// Builds a [`Client`], validating every setting once.
///
/// Obtain one with [`Client::builder`].
pub struct ClientBuilder {
    client_id: ClientId,
    client_secret: ClientSecret,
    refresh_token: RefreshToken,
    environment: Environment,
    http: Option<HttpClient>,
    clock: Option<SharedClock>,
    refresh_skew: Duration,
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("client_id", &self.client_id)
            .field("client_secret", &self.client_secret)
            .field("refresh_token", &self.refresh_token)
            .field("environment", &self.environment)
            .field("refresh_skew", &self.refresh_skew)
            .finish_non_exhaustive()
    }
}

impl ClientBuilder {
    /// The environment (default [`Environment::Production`]).
    pub fn environment(mut self, environment: Environment) -> Self {
        self.environment = environment;
        self
    }

    /// The HTTP client to use. Share one between all accounts of a service
    /// (clones share a connection pool). Default: [`HttpClient::new`].
    pub fn http_client(mut self, http: HttpClient) -> Self {
        self.http = Some(http);
        self
    }

    /// The clock that turns `expires_in` into an absolute expiry (default:
    /// the system clock). Tests use [`oauth_core::ManualClock`].
    pub fn clock(mut self, clock: SharedClock) -> Self {
        self.clock = Some(clock);
        self
    }

    /// How long before expiry the token lifecycle should refresh (default
    /// [`DEFAULT_REFRESH_SKEW`](crate::DEFAULT_REFRESH_SKEW), 5 minutes).
    /// Returned by [`RefreshGrant::default_refresh_skew`](oauth_core::RefreshGrant::default_refresh_skew).
    pub fn refresh_skew(mut self, skew: Duration) -> Self {
        self.refresh_skew = skew;
        self
    }

    /// Validates the settings and builds the client.
    ///
    /// # Errors
    /// [`Error::Configuration`] for an empty client id, client secret or
    /// refresh token, or when the default HTTP client cannot be built.
    pub fn build(self) -> Result<Client, Error> {
        if self.client_id.as_str().trim().is_empty() {
            return Err(Error::configuration("eshopbox: the client id is empty"));
        }
        if self.client_secret.expose_secret().trim().is_empty() {
            return Err(Error::configuration("eshopbox: the client secret is empty"));
        }
        if self.refresh_token.expose_secret().trim().is_empty() {
            return Err(Error::configuration("eshopbox: the refresh token is empty"));
        }
        let token_url = self.environment.token_url()?;
        let http = match self.http {
            Some(http) => http,
            None => HttpClient::new()?,
        };
        Ok(Client {
            client_id: self.client_id,
            client_secret: self.client_secret,
            refresh_token: self.refresh_token,
            environment: self.environment,
            token_url,
            http,
            clock: self.clock.unwrap_or_else(oauth_core::system_clock),
            refresh_skew: self.refresh_skew,
        })
    }
}

/// An Eshopbox client for one custom app (one workspace): its credentials,
/// the token endpoint, the HTTP client and the clock.
///
/// Cheap to clone. `Debug` never shows the client secret or the refresh
/// token.
#[derive(Clone)]
pub struct Client {
    pub(crate) client_id: ClientId,
    pub(crate) client_secret: ClientSecret,
    pub(crate) refresh_token: RefreshToken,
    pub(crate) environment: Environment,
    pub(crate) token_url: EndpointUrl,
    pub(crate) http: HttpClient,
    pub(crate) clock: SharedClock,
    pub(crate) refresh_skew: Duration,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("provider", &PROVIDER)
            .field("client_id", &self.client_id)
            .field("client_secret", &self.client_secret)
            .field("refresh_token", &self.refresh_token)
            .field("environment", &self.environment)
            .field("refresh_skew", &self.refresh_skew)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// Starts building a client from the three values a custom app shows
    /// (Apps > Create a custom app): client id, client secret and the app's
    /// long-lived refresh token.
    pub fn builder(
        client_id: impl Into<ClientId>,
        client_secret: ClientSecret,
        refresh_token: RefreshToken,
    ) -> ClientBuilder {
        ClientBuilder {
            client_id: client_id.into(),
            client_secret,
            refresh_token,
            environment: Environment::Production,
            http: None,
            clock: None,
            refresh_skew: crate::DEFAULT_REFRESH_SKEW,
        }
    }

    /// The client id.
    pub fn client_id(&self) -> &ClientId {
        &self.client_id
    }

    /// The environment.
    pub fn environment(&self) -> &Environment {
        &self.environment
    }

    /// The token URL requests go to.
    pub fn token_url(&self) -> &EndpointUrl {
        &self.token_url
    }

    /// The clock used to turn `expires_in` into an absolute expiry.
    pub fn clock(&self) -> &SharedClock {
        &self.clock
    }

    /// The refresh margin handed to the token lifecycle.
    pub fn refresh_skew(&self) -> Duration {
        self.refresh_skew
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    fn builder() -> ClientBuilder {
        Client::builder(
            "cid",
            ClientSecret::new("SENTINEL-cs-1"),
            RefreshToken::new("SENTINEL-rt-1"),
        )
    }

    #[test]
    fn defaults_to_production() {
        let client = builder().build().unwrap();
        assert_eq!(client.token_url().as_url().as_str(), PRODUCTION_TOKEN_URL);
        assert_eq!(client.environment(), &Environment::Production);
        assert_eq!(client.refresh_skew(), Duration::from_secs(300));
        let debug = format!("{client:?} {:?}", builder());
        assert!(!debug.contains("SENTINEL"), "{debug}");
    }

    #[test]
    fn custom_url_is_used_as_is() {
        let client = builder()
            .environment(Environment::custom("http://127.0.0.1:9/x/token").unwrap())
            .build()
            .unwrap();
        assert_eq!(
            client.token_url().as_url().as_str(),
            "http://127.0.0.1:9/x/token"
        );
        assert!(Environment::custom("http://example.com/token").is_err());
    }

    #[test]
    fn empty_values_are_refused() {
        let cases = [
            Client::builder("", ClientSecret::new("s"), RefreshToken::new("r")),
            Client::builder(" ", ClientSecret::new("s"), RefreshToken::new("r")),
            Client::builder("c", ClientSecret::new(""), RefreshToken::new("r")),
            Client::builder("c", ClientSecret::new("s"), RefreshToken::new(" ")),
        ];
        for case in cases {
            let err = case.build().unwrap_err();
            assert!(matches!(err, Error::Configuration { .. }), "{err:?}");
        }
    }
}
