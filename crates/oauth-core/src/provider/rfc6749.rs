//! A provider for any standard OAuth 2.0 platform (RFC 6749), configured
//! with data alone: token and authorize URLs, client authentication, scope
//! separator, whether refresh tokens rotate, and the header that carries
//! the token.
//!
//! ```
//! use oauth_core::provider::rfc6749::{ClientAuth, Rfc6749};
//! use oauth_core::{Client, ClientSecret, CsrfState, Scopes};
//!
//! let shop = Rfc6749::new("shopx", "client-1", Some(ClientSecret::new("secret-1")))
//!     .production("https://auth.shopx.example")?
//!     .token_path("/oauth/token")
//!     .authorize_path("/oauth/authorize")
//!     .redirect_uri("https://app.example/callback")
//!     .scopes(Scopes::from(["orders.read", "orders.write"]))
//!     .client_auth(ClientAuth::RequestBody)
//!     .refresh_tokens_rotate(true);
//! let client = Client::builder(shop).build()?;
//! let url = client.authorize_url(&CsrfState::generate()?)?;
//! assert!(url.as_str().starts_with(
//!     "https://auth.shopx.example/oauth/authorize?response_type=code&client_id=client-1"
//! ));
//! # Ok::<(), oauth_core::Error>(())
//! ```

use super::{AttachContext, Endpoints, Environment, Grant, IntoTokenSet, Provider, RequestContext};
use crate::attach::HeaderToken;
use crate::error::{Error, ProviderDetails};
use crate::id::{ClientId, Scopes};
use crate::secret::{AccessToken, AuthorizationCode, ClientSecret, RefreshToken};
use crate::state::CsrfState;
use crate::token_set::{TokenSet, TokenType, expiry_after};
use crate::transport::classify::oauth_error;
use crate::transport::{EndpointUrl, Params, RawResponse, TokenRequest};
use serde::Deserialize;
use std::fmt;
use std::time::{Duration, SystemTime};

/// How the client authenticates at the token endpoint (RFC 6749 §2.3.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum ClientAuth {
    /// `Authorization: Basic base64(id:secret)` (the RFC's recommendation).
    #[default]
    Basic,
    /// `client_id` and `client_secret` in the form body.
    RequestBody,
}

/// Which grant keeps the account's tokens: the authorization code with
/// refresh tokens, or client credentials (a new token each time, no
/// consent).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum GrantType {
    /// Consent, code exchange, refresh tokens.
    #[default]
    AuthorizationCode,
    /// `grant_type=client_credentials`: the first token and every later one
    /// are fetched the same way.
    ClientCredentials,
}

/// The settings of a standard OAuth 2.0 platform; see the [module
/// documentation](self).
#[derive(Clone)]
pub struct Rfc6749 {
    name: &'static str,
    client_id: ClientId,
    client_secret: Option<ClientSecret>,
    production: Option<EndpointUrl>,
    sandbox: Option<EndpointUrl>,
    token_path: String,
    authorize_path: Option<String>,
    redirect_uri: Option<String>,
    scopes: Scopes,
    scope_separator: &'static str,
    client_auth: ClientAuth,
    grant_type: GrantType,
    rotates: bool,
    skew: Duration,
    default_lifetime: Duration,
    header: HeaderToken,
}

impl fmt::Debug for Rfc6749 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Rfc6749")
            .field("name", &self.name)
            .field("client_id", &self.client_id)
            .field("client_secret", &self.client_secret)
            .field("token_path", &self.token_path)
            .field("client_auth", &self.client_auth)
            .field("grant_type", &self.grant_type)
            .field("rotates", &self.rotates)
            .finish_non_exhaustive()
    }
}

impl Rfc6749 {
    /// A platform named `name` (in errors, tracing and stores), with its
    /// client id and, for confidential clients, secret. Defaults: token
    /// path `/oauth/token`, no consent page, Basic client authentication,
    /// space-separated scopes, refresh tokens that do not rotate,
    /// `Authorization: Bearer`, one hour when `expires_in` is absent.
    pub fn new(
        name: &'static str,
        client_id: impl Into<ClientId>,
        client_secret: Option<ClientSecret>,
    ) -> Self {
        Self {
            name,
            client_id: client_id.into(),
            client_secret,
            production: None,
            sandbox: None,
            token_path: "/oauth/token".to_owned(),
            authorize_path: None,
            redirect_uri: None,
            scopes: Scopes::new(),
            scope_separator: " ",
            client_auth: ClientAuth::Basic,
            grant_type: GrantType::AuthorizationCode,
            rotates: false,
            skew: crate::grant::DEFAULT_REFRESH_SKEW,
            default_lifetime: Duration::from_secs(3600),
            header: HeaderToken::authorization_bearer(),
        }
    }

    /// The production base URL.
    ///
    /// # Errors
    /// [`Error::Configuration`] unless HTTPS (or plain HTTP on loopback).
    pub fn production(mut self, base: &str) -> Result<Self, Error> {
        self.production = Some(EndpointUrl::parse(base)?);
        Ok(self)
    }

    /// The sandbox base URL, if the platform has one.
    ///
    /// # Errors
    /// As [`production`](Self::production).
    pub fn sandbox(mut self, base: &str) -> Result<Self, Error> {
        self.sandbox = Some(EndpointUrl::parse(base)?);
        Ok(self)
    }

    /// The token endpoint's path under the base.
    pub fn token_path(mut self, path: impl Into<String>) -> Self {
        self.token_path = path.into();
        self
    }

    /// The consent page's path under the base.
    pub fn authorize_path(mut self, path: impl Into<String>) -> Self {
        self.authorize_path = Some(path.into());
        self
    }

    /// The registered redirect URI, sent on the consent URL and in the
    /// code exchange.
    pub fn redirect_uri(mut self, uri: impl Into<String>) -> Self {
        self.redirect_uri = Some(uri.into());
        self
    }

    /// The scopes asked for.
    pub fn scopes(mut self, scopes: Scopes) -> Self {
        self.scopes = scopes;
        self
    }

    /// The scope separator (a space per RFC 6749; some platforms use `,`).
    pub fn scope_separator(mut self, separator: &'static str) -> Self {
        self.scope_separator = separator;
        self
    }

    /// How the client authenticates.
    pub fn client_auth(mut self, auth: ClientAuth) -> Self {
        self.client_auth = auth;
        self
    }

    /// Which grant keeps the tokens.
    pub fn grant_type(mut self, grant_type: GrantType) -> Self {
        self.grant_type = grant_type;
        self
    }

    /// Whether a refresh invalidates the refresh token it used.
    pub fn refresh_tokens_rotate(mut self, rotates: bool) -> Self {
        self.rotates = rotates;
        self
    }

    /// The suggested refresh skew (the token manager's default).
    pub fn refresh_skew(mut self, skew: Duration) -> Self {
        self.skew = skew;
        self
    }

    /// The lifetime assumed when an answer has no `expires_in`.
    pub fn default_lifetime(mut self, lifetime: Duration) -> Self {
        self.default_lifetime = lifetime;
        self
    }

    /// The header that carries the token on API calls (default
    /// `Authorization: Bearer`).
    pub fn token_header(mut self, header: HeaderToken) -> Self {
        self.header = header;
        self
    }

    /// A token request with the client authentication and `form`.
    fn token_request(
        &self,
        cx: &RequestContext<'_>,
        grant: &'static str,
        mut form: Params,
    ) -> TokenRequest {
        let url = cx.endpoints.token().clone();
        let request = TokenRequest::post(self.name, grant, url);
        match (&self.client_secret, self.client_auth) {
            (Some(secret), ClientAuth::Basic) => request
                .basic_auth(self.client_id.as_str(), secret)
                .form(form),
            (Some(secret), ClientAuth::RequestBody) => {
                form = form
                    .plain("client_id", self.client_id.as_str())
                    .secret("client_secret", secret.expose_secret());
                request.form(form)
            }
            (None, _) => request.form(form.plain("client_id", self.client_id.as_str())),
        }
    }

    fn client_credentials_request(&self, cx: &RequestContext<'_>) -> TokenRequest {
        let mut form = Params::new().plain("grant_type", "client_credentials");
        if !self.scopes.is_empty() {
            form = form.plain("scope", self.scopes.join(self.scope_separator));
        }
        self.token_request(cx, "client_credentials", form)
            .retry_safe(true)
    }
}

impl Provider for Rfc6749 {
    type TokenResponse = StandardTokenResponse;
    type Attachment = HeaderToken;

    fn name(&self) -> &'static str {
        self.name
    }

    fn rotates_refresh_tokens(&self) -> bool {
        self.rotates
    }

    fn default_refresh_skew(&self) -> Duration {
        self.skew
    }

    fn validate(&self) -> Result<(), Error> {
        if self.client_id.as_str().trim().is_empty() {
            return Err(Error::configuration(format!(
                "{} client id is empty",
                self.name
            )));
        }
        if self
            .client_secret
            .as_ref()
            .is_some_and(|s| s.expose_secret().trim().is_empty())
        {
            return Err(Error::configuration(format!(
                "{} client secret is empty",
                self.name
            )));
        }
        if self.grant_type == GrantType::AuthorizationCode
            && self.authorize_path.is_some()
            && self.redirect_uri.is_none()
        {
            return Err(Error::configuration(format!(
                "{} needs a redirect URI for its consent page",
                self.name
            )));
        }
        Ok(())
    }

    fn endpoints(&self, environment: &Environment) -> Result<Endpoints, Error> {
        let base = match environment {
            Environment::Production => self.production.clone(),
            Environment::Sandbox => self.sandbox.clone(),
            Environment::Custom(base) => Some(base.clone()),
        }
        .ok_or_else(|| {
            Error::configuration(format!(
                "{} has no {} base URL",
                self.name,
                environment.name()
            ))
        })?;
        let mut endpoints = Endpoints::new(base.join_path(&self.token_path));
        if let Some(path) = &self.authorize_path {
            endpoints = endpoints.with_authorize(base.join_path(path));
        }
        Ok(endpoints)
    }

    fn authorize_params(&self, state: &CsrfState) -> Result<Vec<(&'static str, String)>, Error> {
        let mut params = vec![
            ("response_type", "code".to_owned()),
            ("client_id", self.client_id.as_str().to_owned()),
        ];
        if let Some(uri) = &self.redirect_uri {
            params.push(("redirect_uri", uri.clone()));
        }
        if !self.scopes.is_empty() {
            params.push(("scope", self.scopes.join(self.scope_separator)));
        }
        params.push(("state", state.as_str().to_owned()));
        Ok(params)
    }

    fn exchange_request(
        &self,
        cx: &RequestContext<'_>,
        code: &AuthorizationCode,
    ) -> Result<TokenRequest, Error> {
        let mut form = Params::new()
            .plain("grant_type", "authorization_code")
            .secret("code", code.expose_secret());
        if let Some(uri) = &self.redirect_uri {
            form = form.plain("redirect_uri", uri.clone());
        }
        // A code is single-use: never repeated after a 5xx or a timeout.
        Ok(self
            .token_request(cx, "authorization_code", form)
            .retry_safe(false))
    }

    fn refresh_request(
        &self,
        cx: &RequestContext<'_>,
        current: &TokenSet,
    ) -> Result<TokenRequest, Error> {
        if self.grant_type == GrantType::ClientCredentials {
            return Ok(self.client_credentials_request(cx));
        }
        let token = current
            .refresh_token
            .as_ref()
            .filter(|t| !t.is_empty())
            .ok_or_else(|| Error::ReauthorizationRequired {
                details: ProviderDetails::new(self.name).with_message(
                    "the token set has no refresh token: the user must authorize again",
                ),
            })?;
        let form = Params::new()
            .plain("grant_type", "refresh_token")
            .secret("refresh_token", token.expose_secret());
        // A rotating refresh token must not be presented twice.
        Ok(self
            .token_request(cx, "refresh_token", form)
            .retry_safe(!self.rotates))
    }

    fn initial_request(&self, cx: &RequestContext<'_>) -> Option<Result<TokenRequest, Error>> {
        (self.grant_type == GrantType::ClientCredentials)
            .then(|| Ok(self.client_credentials_request(cx)))
    }

    fn decode_token_response(
        &self,
        response: &RawResponse,
        grant: &Grant<'_>,
        received_at: SystemTime,
    ) -> Result<StandardTokenResponse, Error> {
        let requested = match grant {
            Grant::Refresh { current } if !current.scopes.is_empty() => &current.scopes,
            _ => &self.scopes,
        };
        StandardTokenResponse::decode(
            response,
            received_at,
            requested,
            self.scope_separator,
            self.default_lifetime,
        )
    }

    fn refreshed(&self, response: StandardTokenResponse, current: &TokenSet) -> TokenSet {
        let set = response.into_token_set();
        if self.grant_type == GrantType::ClientCredentials {
            return set;
        }
        set.merge_previous(current)
    }

    fn attachment(&self, _context: &AttachContext<'_>) -> HeaderToken {
        self.header.clone()
    }
}

/// A standard RFC 6749 §5.1 token answer.
///
/// `Debug` never shows a token.
#[derive(Clone)]
#[non_exhaustive]
pub struct StandardTokenResponse {
    /// `access_token`.
    pub access_token: AccessToken,
    /// `token_type`.
    pub token_type: TokenType,
    /// `expires_in`, or the provider's default lifetime when absent.
    pub expires_in: Duration,
    /// `refresh_token`, when sent.
    pub refresh_token: Option<RefreshToken>,
    /// `scope` when sent, otherwise the scopes asked for.
    pub scopes: Scopes,
    /// When the answer arrived.
    pub received_at: SystemTime,
}

impl fmt::Debug for StandardTokenResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StandardTokenResponse")
            .field("access_token", &self.access_token)
            .field("token_type", &self.token_type)
            .field("expires_in", &self.expires_in)
            .field("refresh_token", &self.refresh_token)
            .field("scopes", &self.scopes)
            .finish_non_exhaustive()
    }
}

#[derive(Deserialize)]
struct Wire {
    #[serde(default, deserialize_with = "crate::decode::opt_text")]
    access_token: Option<String>,
    #[serde(default, deserialize_with = "crate::decode::opt_text")]
    token_type: Option<String>,
    #[serde(default, deserialize_with = "crate::decode::opt_u64")]
    expires_in: Option<u64>,
    #[serde(default, deserialize_with = "crate::decode::opt_text")]
    refresh_token: Option<String>,
    #[serde(default, deserialize_with = "crate::decode::opt_text")]
    scope: Option<String>,
}

impl StandardTokenResponse {
    /// Decodes a standard token answer: a 2xx JSON object with
    /// `access_token`; anything else is classified with
    /// [`oauth_error`]
    /// (`invalid_grant` → re-authorize, `invalid_client` → bad client, 429
    /// and 5xx retryable, ...). Tokens are checked with
    /// [`RawResponse::token`]; lenient numbers (a numeric string
    /// `expires_in`); a negative lifetime is an error.
    ///
    /// # Errors
    /// The classified failure.
    pub fn decode(
        response: &RawResponse,
        received_at: SystemTime,
        requested: &Scopes,
        separator: &str,
        default_lifetime: Duration,
    ) -> Result<Self, Error> {
        if !response.is_success() || !response.looks_like_json() {
            return Err(oauth_error(response, requested));
        }
        let wire: Wire = response.json()?;
        let Some(access_token) = wire.access_token else {
            return Err(oauth_error(response, requested));
        };
        let refresh_token = match wire.refresh_token {
            Some(token) => Some(response.token::<RefreshToken>("refresh_token", token)?),
            None => None,
        };
        let scopes = match wire.scope {
            Some(text) => match separator.chars().next() {
                Some(c) if separator.len() == c.len_utf8() => Scopes::from_separated(&text, c),
                _ => Scopes::from_space_separated(&text),
            },
            None => requested.clone(),
        };
        Ok(Self {
            access_token: response.token("access_token", access_token)?,
            token_type: wire
                .token_type
                .map_or_else(TokenType::bearer, TokenType::new),
            expires_in: wire
                .expires_in
                .map_or(default_lifetime, Duration::from_secs),
            refresh_token,
            scopes,
            received_at,
        })
    }
}

impl IntoTokenSet for StandardTokenResponse {
    fn into_token_set(self) -> TokenSet {
        let mut set = TokenSet::new(
            self.access_token,
            expiry_after(self.received_at, self.expires_in),
        )
        .with_token_type(self.token_type)
        .with_scopes(self.scopes)
        .with_issued_at(self.received_at);
        if let Some(token) = self.refresh_token {
            set = set.with_refresh_token(token, None);
        }
        set
    }
}
