//! `Client<P>`: the one client every provider crate re-exports.

use super::{AttachContext, Endpoints, Environment, Grant, IntoTokenSet, Provider, RequestContext};
use crate::authorize::authorize_url;
use crate::clock::{SharedClock, system_clock};
use crate::error::Error;
use crate::grant::{AuthorizationCodeGrant, RefreshGrant};
use crate::secret::AuthorizationCode;
use crate::state::CsrfState;
use crate::token_set::TokenSet;
use crate::transport::{HttpClient, RawResponse, TokenRequest};
use async_trait::async_trait;
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use url::Url;

/// Builds a [`Client`]: the provider's settings, then the settings every
/// provider shares (environment, HTTP client, clock). Everything is
/// checked once, in [`build`](Self::build).
pub struct ClientBuilder<P> {
    provider: P,
    environment: Environment,
    http: Option<HttpClient>,
    clock: Option<SharedClock>,
}

impl<P: Provider> fmt::Debug for ClientBuilder<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("provider", &self.provider)
            .field("environment", &self.environment)
            .field("http", &self.http)
            .finish_non_exhaustive()
    }
}

impl<P: Provider> ClientBuilder<P> {
    /// A builder for `provider`'s settings, in the default environment
    /// ([`Environment::Production`]).
    pub fn new(provider: P) -> Self {
        Self {
            provider,
            environment: Environment::default(),
            http: None,
            clock: None,
        }
    }

    /// Production (the default), the provider's sandbox, or a custom base.
    pub fn environment(mut self, environment: Environment) -> Self {
        self.environment = environment;
        self
    }

    /// The HTTP client to send token requests with (default: a new
    /// [`HttpClient`] with default settings). Share one between all the
    /// accounts and providers of a service: clones share a connection pool.
    pub fn http_client(mut self, http: HttpClient) -> Self {
        self.http = Some(http);
        self
    }

    /// The clock (default: the system clock). It stamps when answers
    /// arrive, which is when their `expires_in` counts from, and a token
    /// manager driving this client compares expiries with the same clock.
    pub fn clock(mut self, clock: SharedClock) -> Self {
        self.clock = Some(clock);
        self
    }

    /// Checks the settings and builds the client.
    ///
    /// # Errors
    /// [`Error::Configuration`] when the provider's settings are invalid
    /// ([`Provider::validate`]), the environment does not exist for the
    /// provider, or the default HTTP client cannot be built.
    pub fn build(self) -> Result<Client<P>, Error> {
        self.provider.validate()?;
        let endpoints = self.provider.endpoints(&self.environment)?;
        let http = match self.http {
            Some(http) => http,
            None => HttpClient::new()?,
        };
        let clock = self.clock.unwrap_or_else(system_clock);
        let attachment = self.provider.attachment(&AttachContext {
            endpoints: &endpoints,
            clock: &clock,
        });
        Ok(Client {
            inner: Arc::new(Inner {
                provider: self.provider,
                environment: self.environment,
                endpoints,
                http,
                clock,
                attachment,
            }),
        })
    }
}

/// An OAuth client for one application of provider `P`: authorize URLs,
/// code exchange, refresh, and how to attach a token to API calls.
///
/// Every provider crate re-exports `Client<ItsSettings>` as its `Client`,
/// so the same names work everywhere: [`authorize_url`](Self::authorize_url),
/// [`exchange_code`](Self::exchange_code), [`refresh`](Self::refresh),
/// [`attachment`](Self::attachment). It implements
/// [`RefreshGrant`] and [`AuthorizationCodeGrant`] for the token lifecycle.
///
/// Cheap to clone (one reference count); `Debug` never shows a secret.
pub struct Client<P: Provider> {
    inner: Arc<Inner<P>>,
}

struct Inner<P: Provider> {
    provider: P,
    environment: Environment,
    endpoints: Endpoints,
    http: HttpClient,
    clock: SharedClock,
    attachment: P::Attachment,
}

impl<P: Provider> Clone for Client<P> {
    fn clone(&self) -> Self {
        Self {
            inner: Arc::clone(&self.inner),
        }
    }
}

impl<P: Provider> fmt::Debug for Client<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("provider", &self.inner.provider)
            .field("environment", &self.inner.environment)
            .field("endpoints", &self.inner.endpoints)
            .field("http", &self.inner.http)
            .finish_non_exhaustive()
    }
}

impl<P: Provider> Client<P> {
    /// A [`ClientBuilder`] for `provider`'s settings.
    pub fn builder(provider: P) -> ClientBuilder<P> {
        ClientBuilder::new(provider)
    }

    /// The provider's settings (`client.provider().client_id()`...).
    ///
    /// Not to be confused with [`RefreshGrant::provider`], the provider's
    /// name, which this inherent method shadows on a `Client`: call
    /// `RefreshGrant::provider(&client)` (or `client.provider().name()`)
    /// for the name.
    pub fn provider(&self) -> &P {
        &self.inner.provider
    }

    /// The environment.
    pub fn environment(&self) -> &Environment {
        &self.inner.environment
    }

    /// The endpoints in the client's environment.
    pub fn endpoints(&self) -> &Endpoints {
        &self.inner.endpoints
    }

    /// The HTTP client token requests go through.
    pub fn http_client(&self) -> &HttpClient {
        &self.inner.http
    }

    /// The client's clock.
    pub fn clock(&self) -> &SharedClock {
        &self.inner.clock
    }

    /// How an access token goes on this provider's API requests.
    pub fn attachment(&self) -> &P::Attachment {
        &self.inner.attachment
    }

    /// Classifies an API call's answer the provider's way
    /// ([`Provider::classify_api_response`]): `Ok` for a success,
    /// [`Error::AccessTokenRejected`] for a refused access token.
    ///
    /// # Errors
    /// The answer's class, when it is not a success.
    pub fn classify_api_response(&self, response: &RawResponse) -> Result<(), Error> {
        self.inner.provider.classify_api_response(response)
    }

    /// What a request builder needs: the endpoints and the clock's time.
    pub fn request_context(&self) -> RequestContext<'_> {
        RequestContext {
            endpoints: &self.inner.endpoints,
            now: self.inner.clock.now(),
        }
    }

    /// The consent page URL carrying `state`, with the provider's
    /// parameters ([`Provider::authorize_params`]).
    ///
    /// # Errors
    /// [`Error::Configuration`] when the provider has no consent step (or
    /// not with these settings).
    pub fn authorize_url(&self, state: &CsrfState) -> Result<Url, Error> {
        let endpoint = self.inner.endpoints.authorize().ok_or_else(|| {
            Error::configuration(format!(
                "{} has no consent page",
                self.inner.provider.name()
            ))
        })?;
        let params = self.inner.provider.authorize_params(state)?;
        let pairs: Vec<(&str, &str)> = params
            .iter()
            .map(|(name, value)| (*name, value.as_str()))
            .collect();
        Ok(authorize_url(endpoint, &pairs))
    }

    /// Exchanges the authorization code from the callback (as
    /// [`parse_callback`](crate::parse_callback) returns it: decoded once)
    /// for the provider's token answer; `into_token_set()` makes the set
    /// to store.
    ///
    /// # Errors
    /// [`Error::Configuration`] for an empty code (before any request);
    /// [`Error::ReauthorizationRequired`] for an invalid, expired or used
    /// code; [`Error::InvalidClient`]; any other classified failure.
    pub async fn exchange_code(&self, code: &AuthorizationCode) -> Result<P::TokenResponse, Error> {
        if code.is_empty() {
            return Err(Error::configuration("the authorization code is empty"));
        }
        let request = self
            .inner
            .provider
            .exchange_request(&self.request_context(), code)?;
        self.request_token(&request, &Grant::AuthorizationCode)
            .await
    }

    /// Refreshes `current`: the provider's refresh request, the answer
    /// completed with what it did not resend ([`Provider::refreshed`]).
    /// For a provider whose refresh tokens rotate, store the result before
    /// anything else: the old refresh token is dead.
    ///
    /// # Errors
    /// [`Error::ReauthorizationRequired`] when the refresh token is
    /// invalid, expired or revoked; any other classified failure.
    pub async fn refresh(&self, current: &TokenSet) -> Result<TokenSet, Error> {
        let request = self
            .inner
            .provider
            .refresh_request(&self.request_context(), current)?;
        let response = self
            .request_token(&request, &Grant::Refresh { current })
            .await?;
        Ok(self.inner.provider.refreshed(response, current))
    }

    /// A first token set without consent, for providers that can
    /// ([`Provider::initial_request`]); `None` when the user must
    /// authorize first.
    pub async fn fetch_initial(&self) -> Option<Result<TokenSet, Error>> {
        let request = match self
            .inner
            .provider
            .initial_request(&self.request_context())?
        {
            Ok(request) => request,
            Err(error) => return Some(Err(error)),
        };
        Some(
            self.request_token(&request, &Grant::Initial)
                .await
                .map(|response| self.inner.provider.initial(response)),
        )
    }

    /// Sends a token request and decodes the answer with the provider's
    /// decoder ([`Provider::decode_token_response`]).
    ///
    /// # Errors
    /// As [`send_token_request`](Self::send_token_request).
    pub async fn request_token(
        &self,
        request: &TokenRequest,
        grant: &Grant<'_>,
    ) -> Result<P::TokenResponse, Error> {
        // The request's own grant name, as its tracing span says.
        self.send_token_request(request, request.grant(), |response, received_at| {
            self.inner
                .provider
                .decode_token_response(response, grant, received_at)
        })
        .await
    }

    /// The one place token requests are sent: sends `request` through the
    /// HTTP client, stamps the receive time with the client's clock, runs
    /// `decode` on the answer, **always** scrubs the secrets the request
    /// sent from a failure (a provider may echo them back), and traces the
    /// outcome (provider, grant and status; never a token). Provider crates
    /// send their own operations (eBay application tokens...) through it.
    ///
    /// # Errors
    /// A transport failure ([`Error::Transient`], [`Error::Configuration`]
    /// for a URL that is not HTTPS or loopback) or `decode`'s error,
    /// scrubbed.
    pub async fn send_token_request<T>(
        &self,
        request: &TokenRequest,
        grant: &'static str,
        decode: impl FnOnce(&RawResponse, SystemTime) -> Result<T, Error>,
    ) -> Result<T, Error> {
        let response = self.inner.http.send(request).await?;
        let received_at = self.inner.clock.now();
        let status = response.status();
        let provider = self.inner.provider.name();
        match decode(&response, received_at) {
            Ok(decoded) => {
                tracing::debug!(provider, grant, status, "token issued");
                Ok(decoded)
            }
            Err(error) => {
                let error = response.scrub_error(error);
                tracing::debug!(provider, grant, status, %error, "token request refused");
                Err(error)
            }
        }
    }
}

#[async_trait]
impl<P: Provider> RefreshGrant for Client<P> {
    fn provider(&self) -> &'static str {
        self.inner.provider.name()
    }

    async fn refresh(&self, current: &TokenSet) -> Result<TokenSet, Error> {
        Client::refresh(self, current).await
    }

    fn rotates_refresh_token(&self) -> bool {
        self.inner.provider.rotates_refresh_tokens()
    }

    fn default_refresh_skew(&self) -> Duration {
        self.inner.provider.default_refresh_skew()
    }

    fn max_refresh_duration(&self) -> Option<Duration> {
        Some(self.inner.http.max_send_duration())
    }

    fn clock(&self) -> SharedClock {
        SharedClock::clone(&self.inner.clock)
    }

    async fn fetch_initial(&self) -> Option<Result<TokenSet, Error>> {
        Client::fetch_initial(self).await
    }
}

#[async_trait]
impl<P: Provider> AuthorizationCodeGrant for Client<P> {
    fn authorize_url(&self, state: &CsrfState) -> Result<Url, Error> {
        Client::authorize_url(self, state)
    }

    /// The code exchange as a [`TokenSet`] ([`IntoTokenSet`]).
    async fn exchange_code(&self, code: &AuthorizationCode) -> Result<TokenSet, Error> {
        Ok(Client::exchange_code(self, code).await?.into_token_set())
    }
}
