//! The token requests (`AccessToken` and `Refresh AccessToken`) and the
//! grant traits.
//!
//! Both are `POST <base>/oauth/token` with **every parameter in the query
//! string**, an empty body, no client secret and no Basic auth; the optional
//! `clientKey` header carries the partner's client key. Because the code
//! and the refresh token travel in the URL, the URL never reaches an error,
//! a log line or a tracing span (the HTTP plumbing of `oauth-core` strips
//! it; this crate's tests prove it with sentinel tokens).

use crate::PROVIDER;
use crate::config::Client;
use crate::token::{TokenResponse, decode_token_response};
use oauth_core::http_types::HeaderName;
use oauth_core::url::Url;
use oauth_core::{
    AuthorizationCode, AuthorizationCodeGrant, CsrfState, Error, Params, ProviderDetails,
    RefreshGrant, RefreshToken, TokenRequest, TokenSet, async_trait,
};
use std::time::Duration;

/// Path of the token endpoint, relative to the environment's base.
pub const TOKEN_PATH: &str = "/oauth/token";

/// The header that carries the client key, on token requests and API calls.
/// (HTTP header names are case-insensitive; OrangeConnex spells it
/// `clientKey`.)
pub const CLIENT_KEY_HEADER: HeaderName = HeaderName::from_static("clientkey");

/// Grant names, as used in tracing spans and on the wire.
const AUTHORIZATION_CODE: &str = "authorization_code";
const REFRESH_TOKEN: &str = "refresh_token";

impl Client {
    /// The code exchange request:
    /// `POST <base>/oauth/token?client_id=..&grant_type=authorization_code&redirect_uri=..&code=..`,
    /// empty body, `clientKey` header when a client key is configured.
    ///
    /// `code` is the value decoded once from the callback (as
    /// [`oauth_core::parse_callback`] returns it); it is percent-encoded
    /// exactly once here, so a code that is itself URL-encoded base64
    /// (`...%2F...`) goes on the wire as `...%252F...`, as OrangeConnex's
    /// documentation shows.
    pub fn code_exchange_request(&self, code: &AuthorizationCode) -> TokenRequest {
        let query = Params::new()
            .plain("client_id", self.client_id.as_str())
            .plain("grant_type", AUTHORIZATION_CODE)
            .plain("redirect_uri", self.redirect_uri.as_str())
            .secret("code", code.expose_secret());
        self.token_request(AUTHORIZATION_CODE, query)
    }

    /// The refresh request:
    /// `POST <base>/oauth/token?client_id=..&grant_type=refresh_token&refresh_token=..`,
    /// empty body, `clientKey` header when a client key is configured.
    pub fn refresh_request(&self, refresh_token: &RefreshToken) -> TokenRequest {
        let query = Params::new()
            .plain("client_id", self.client_id.as_str())
            .plain("grant_type", REFRESH_TOKEN)
            .secret("refresh_token", refresh_token.expose_secret());
        self.token_request(REFRESH_TOKEN, query)
    }

    fn token_request(&self, grant: &'static str, query: Params) -> TokenRequest {
        let mut request = TokenRequest::post(PROVIDER, grant, self.token_endpoint.clone())
            .query(query)
            // A code is single-use and a refresh may rotate the refresh
            // token: never repeat either after a 5xx or a timeout.
            .retry_safe(false);
        if let Some(value) = &self.client_key_header {
            request = request.header(CLIENT_KEY_HEADER, value.clone(), true);
        }
        request
    }

    /// Exchanges an authorization code (`AccessToken`) and returns the typed
    /// response. [`AuthorizationCodeGrant::exchange_code`] does the same and
    /// returns a [`TokenSet`].
    ///
    /// # Errors
    /// [`Error::ReauthorizationRequired`] for an invalid, expired or used
    /// code; [`Error::InvalidClient`] for a rejected client id or key; any
    /// other failure as classified by
    /// [`decode_token_response`](crate::decode_token_response), or a
    /// transport failure ([`Error::Transient`]).
    pub async fn exchange_authorization_code(
        &self,
        code: &AuthorizationCode,
    ) -> Result<TokenResponse, Error> {
        let request = self.code_exchange_request(code);
        self.send(&request).await
    }

    /// Refreshes the access token (`Refresh AccessToken`) and returns the
    /// typed response. [`RefreshGrant::refresh`] does the same, completes the
    /// answer with the previous refresh token when none is returned, and
    /// returns a [`TokenSet`].
    ///
    /// # Errors
    /// [`Error::ReauthorizationRequired`] when the refresh token is invalid,
    /// expired or revoked; otherwise as
    /// [`exchange_authorization_code`](Self::exchange_authorization_code).
    pub async fn refresh_access_token(
        &self,
        refresh_token: &RefreshToken,
    ) -> Result<TokenResponse, Error> {
        let request = self.refresh_request(refresh_token);
        self.send(&request).await
    }

    async fn send(&self, request: &TokenRequest) -> Result<TokenResponse, Error> {
        let response = self.http.send(request).await?;
        let status = response.status();
        let grant = request.grant();
        // Errors are scrubbed of the code or refresh token sent, in case the
        // provider echoes it back (RawResponse::scrub_error).
        let result = decode_token_response(&response);
        match &result {
            Ok(_) => tracing::debug!(provider = PROVIDER, grant, status, "token issued"),
            Err(_) => tracing::debug!(provider = PROVIDER, grant, status, "token request refused"),
        }
        result
    }
}

#[async_trait]
impl AuthorizationCodeGrant for Client {
    fn authorize_url(&self, state: &CsrfState) -> Url {
        Client::authorize_url(self, state)
    }

    async fn exchange_code(&self, code: &AuthorizationCode) -> Result<TokenSet, Error> {
        let response = self.exchange_authorization_code(code).await?;
        Ok(response.into_token_set(self.clock.now()))
    }
}

#[async_trait]
impl RefreshGrant for Client {
    fn provider(&self) -> &'static str {
        PROVIDER
    }

    /// Refreshes `current`. A refresh token in the response replaces the old
    /// one (with a fresh [`REFRESH_TOKEN_LIFETIME`](crate::REFRESH_TOKEN_LIFETIME)
    /// unless it is the same token, which keeps its expiry); an absent one
    /// keeps the old token and its expiry.
    ///
    /// # Errors
    /// [`Error::ReauthorizationRequired`] when `current` has no refresh
    /// token or the provider rejects it; otherwise as
    /// [`Client::refresh_access_token`].
    async fn refresh(&self, current: &TokenSet) -> Result<TokenSet, Error> {
        let Some(refresh_token) = &current.refresh_token else {
            return Err(Error::ReauthorizationRequired {
                details: ProviderDetails::new(PROVIDER)
                    .with_message("no refresh token is stored for this account"),
            });
        };
        let response = self.refresh_access_token(refresh_token).await?;
        let mut set = response.into_token_set(self.clock.now());
        if set.refresh_token.as_ref() == Some(refresh_token) {
            // The same token sent back: its lifetime was not extended.
            set.refresh_token_expires_at = current.refresh_token_expires_at;
        }
        Ok(set.merge_previous(current))
    }

    fn max_refresh_duration(&self) -> Option<Duration> {
        Some(self.http.max_send_duration())
    }

    /// `true`, conservatively: whether OrangeConnex rotates refresh tokens
    /// is *unconfirmed*. The lifecycle therefore persists every refreshed
    /// set before using it and never repeats a refresh request blindly,
    /// which is correct whichever way OrangeConnex behaves.
    fn rotates_refresh_token(&self) -> bool {
        true
    }
}
