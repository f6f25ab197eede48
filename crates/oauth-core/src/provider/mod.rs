//! The provider contract: what a provider crate supplies, as data and pure
//! functions, and the one client (`Client<P>`) that `oauth-core` builds on
//! it.
//!
//! A provider crate implements [`Provider`] for a small settings type (its
//! credentials and whatever is particular to it: a RuName, a redirect URI,
//! a client key) and re-exports `Client<ThatType>` as its `Client`. The
//! provider says:
//! - where its endpoints are, per [`Environment`] ([`Provider::endpoints`]);
//! - the authorize URL's parameters ([`Provider::authorize_params`]);
//! - the code-exchange, refresh and (for grants that need no consent)
//!   initial token requests, as [`TokenRequest`]s, without I/O;
//! - how a token answer decodes, and how a failed one is classified, over a
//!   [`RawResponse`] ([`Provider::decode_token_response`]);
//! - how a refreshed answer completes the previous set
//!   ([`Provider::refreshed`]);
//! - whether refresh tokens rotate, its suggested refresh skew, and how an
//!   access token is attached to an API request ([`Provider::Attachment`]).
//!
//! [`Client`] owns everything else, once: the builder (environment, HTTP
//! client, clock), sending (size cap, retries, no redirects, HTTPS or
//! loopback), **always** scrubbing echoed secrets from errors, stamping
//! the receive time with the client's clock, tracing, and the
//! [`RefreshGrant`](crate::RefreshGrant) and
//! [`AuthorizationCodeGrant`](crate::AuthorizationCodeGrant)
//! implementations the token lifecycle drives. [`rfc6749`] is a provider
//! written on this contract for any standard OAuth 2.0 platform.

mod client;
mod environment;
pub mod registry;
pub mod rfc6749;

pub use client::{Client, ClientBuilder};
pub use environment::Environment;

use crate::attach::AttachToken;
use crate::error::Error;
use crate::secret::AuthorizationCode;
use crate::state::CsrfState;
use crate::token_set::TokenSet;
use crate::transport::{RawResponse, TokenRequest};
use std::fmt;
use std::time::{Duration, SystemTime};
use url::Url;

/// What a provider crate supplies; see the [module documentation](self).
///
/// Implemented by a provider's settings type (e.g. `oauth_ebay::Ebay`),
/// which holds its credentials and options; [`Client<P>`] does the rest.
/// Every method is pure: no I/O, no clock (the time a request needs comes
/// in its [`RequestContext`]).
pub trait Provider: Send + Sync + fmt::Debug + 'static {
    /// The provider's name, in errors, tracing and stores (e.g. `"ebay"`).
    /// A method, not a constant, so that a provider configured at run time
    /// ([`rfc6749::Rfc6749`]) can be named.
    fn name(&self) -> &'static str;

    /// Whether a successful refresh invalidates the refresh token it used
    /// (AliExpress). The token lifecycle then persists the new set before
    /// anyone uses it, and never repeats a refresh request blindly.
    fn rotates_refresh_tokens(&self) -> bool;

    /// How long before expiry the provider suggests refreshing. The token
    /// manager decides (its `skew` setting); this is only its default.
    fn default_refresh_skew(&self) -> Duration {
        crate::grant::DEFAULT_REFRESH_SKEW
    }

    /// A decoded token answer, with what the provider sent beyond the
    /// token set (e.g. AliExpress's seller account).
    type TokenResponse: IntoTokenSet;

    /// How an access token goes on an API request.
    type Attachment: AttachToken + Clone + Send + Sync + 'static;

    /// Checks the settings, once, when the client is built.
    ///
    /// # Errors
    /// [`Error::Configuration`] naming what is wrong (never repeating a
    /// secret).
    fn validate(&self) -> Result<(), Error> {
        Ok(())
    }

    /// The endpoints in `environment`.
    ///
    /// # Errors
    /// [`Error::Configuration`] for an environment the provider does not
    /// have (a sandbox, for some).
    fn endpoints(&self, environment: &Environment) -> Result<Endpoints, Error>;

    /// The authorize URL's query parameters, in order, for `state`. The
    /// default is an error: the provider has no consent step.
    ///
    /// # Errors
    /// [`Error::Configuration`] when the provider or its settings do not
    /// support a consent step.
    fn authorize_params(&self, state: &CsrfState) -> Result<Vec<(&'static str, String)>, Error> {
        let _ = state;
        Err(no_consent(self.name()))
    }

    /// The request that exchanges an authorization code. The default is an
    /// error: the provider has no consent step.
    ///
    /// # Errors
    /// [`Error::Configuration`] when the provider or its settings do not
    /// support the code exchange.
    fn exchange_request(
        &self,
        context: &RequestContext<'_>,
        code: &AuthorizationCode,
    ) -> Result<TokenRequest, Error> {
        let _ = (context, code);
        Err(no_consent(self.name()))
    }

    /// The request that refreshes `current`.
    ///
    /// # Errors
    /// [`Error::ReauthorizationRequired`] when `current` cannot be
    /// refreshed (no refresh token), [`Error::Configuration`] for settings
    /// that forbid it.
    fn refresh_request(
        &self,
        context: &RequestContext<'_>,
        current: &TokenSet,
    ) -> Result<TokenRequest, Error>;

    /// The request that obtains a first token set without user consent
    /// (Eshopbox custom apps), or `None` (the default) when the user must
    /// authorize first.
    fn initial_request(&self, context: &RequestContext<'_>) -> Option<Result<TokenRequest, Error>> {
        let _ = context;
        None
    }

    /// Decodes the answer to a token request of kind `grant`, received at
    /// `received_at`: the token, or the classified error for any other
    /// answer (any status, any bytes; never a panic). The client scrubs
    /// the secrets the request sent from the error afterwards.
    ///
    /// # Errors
    /// The classified failure: [`Error::ReauthorizationRequired`],
    /// [`Error::InvalidClient`], [`Error::RateLimited`],
    /// [`Error::Transient`], [`Error::UnexpectedResponse`], ...
    fn decode_token_response(
        &self,
        response: &RawResponse,
        grant: &Grant<'_>,
        received_at: SystemTime,
    ) -> Result<Self::TokenResponse, Error>;

    /// The token set after a refresh of `current` answered with
    /// `response`. The default keeps what the provider did not resend
    /// ([`TokenSet::merge_previous`]).
    fn refreshed(&self, response: Self::TokenResponse, current: &TokenSet) -> TokenSet {
        response.into_token_set().merge_previous(current)
    }

    /// The token set from the answer to the [initial
    /// request](Self::initial_request). The default is the answer as is.
    fn initial(&self, response: Self::TokenResponse) -> TokenSet {
        response.into_token_set()
    }

    /// How a token goes on this provider's API requests, made once when
    /// the client is built.
    fn attachment(&self, context: &AttachContext<'_>) -> Self::Attachment;

    /// Whether an API call's answer with this status and these headers must
    /// be read to be classified ([`classify_api_response`](Self::classify_api_response)):
    /// a middleware passes every other answer through without reading it.
    /// The default reads `401`s only; a provider that reports a rejected
    /// token inside a `200` (AliExpress, eBay's Trading API) says so.
    fn api_answer_needs_body(&self, status: u16, headers: &http::HeaderMap) -> bool {
        let _ = headers;
        status == 401
    }

    /// Classifies an API call's answer (not a token endpoint's): `Ok` for
    /// a success, [`Error::AccessTokenRejected`] when the provider refused
    /// the access token (refresh it and retry once), or the answer's other
    /// class. The default is [`api_error`](crate::transport::classify::api_error)
    /// (`401` = rejected token).
    ///
    /// # Errors
    /// The answer's class, when it is not a success.
    fn classify_api_response(&self, response: &RawResponse) -> Result<(), Error> {
        crate::transport::classify::api_error(response)
    }
}

fn no_consent(provider: &str) -> Error {
    Error::configuration(format!("{provider} has no authorization-code flow"))
}

/// A decoded token answer that becomes a [`TokenSet`]: absolute expiries
/// from the receive time it recorded.
pub trait IntoTokenSet: Send + fmt::Debug + 'static {
    /// The token set for the lifecycle.
    fn into_token_set(self) -> TokenSet;
}

/// The kind of a token request, given to the decoder with what it needs.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub enum Grant<'a> {
    /// An authorization-code exchange.
    AuthorizationCode,
    /// A refresh of this token set.
    Refresh {
        /// The set being refreshed.
        current: &'a TokenSet,
    },
    /// A first token set obtained without consent
    /// ([`Provider::initial_request`]).
    Initial,
    /// A provider-specific request (e.g. eBay application tokens).
    Other(&'static str),
}

impl Grant<'_> {
    /// The grant's name in tracing (`authorization_code`, `refresh_token`,
    /// `initial`, or the provider's own).
    pub fn name(&self) -> &'static str {
        match self {
            Self::AuthorizationCode => "authorization_code",
            Self::Refresh { .. } => "refresh_token",
            Self::Initial => "initial",
            Self::Other(name) => name,
        }
    }
}

/// What a request builder may need besides the provider's settings.
#[derive(Debug, Clone, Copy)]
pub struct RequestContext<'a> {
    /// The endpoints of the client's environment.
    pub endpoints: &'a Endpoints,
    /// The time the request is made at (the client's clock), for
    /// providers that timestamp or sign requests.
    pub now: SystemTime,
}

/// What an [`Attachment`](Provider::Attachment) may need besides the
/// provider's settings.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct AttachContext<'a> {
    /// The endpoints of the client's environment.
    pub endpoints: &'a Endpoints,
    /// The client's clock (for providers that timestamp API calls).
    pub clock: &'a crate::clock::SharedClock,
}

/// A provider's endpoints in one environment.
#[derive(Clone, PartialEq, Eq)]
pub struct Endpoints {
    authorize: Option<Url>,
    token: Url,
    api: Option<Url>,
}

impl Endpoints {
    /// Endpoints with a token URL only (no consent page, no API base).
    pub fn new(token: Url) -> Self {
        Self {
            authorize: None,
            token,
            api: None,
        }
    }

    /// Sets the consent page's URL.
    pub fn with_authorize(mut self, authorize: Url) -> Self {
        self.authorize = Some(authorize);
        self
    }

    /// Sets the API base URL.
    pub fn with_api(mut self, api: Url) -> Self {
        self.api = Some(api);
        self
    }

    /// The consent page, if the provider has one.
    pub fn authorize(&self) -> Option<&Url> {
        self.authorize.as_ref()
    }

    /// The token endpoint.
    pub fn token(&self) -> &Url {
        &self.token
    }

    /// The base of the provider's APIs, when it is known.
    pub fn api(&self) -> Option<&Url> {
        self.api.as_ref()
    }
}

impl fmt::Debug for Endpoints {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Endpoints")
            .field("authorize", &self.authorize.as_ref().map(Url::as_str))
            .field("token", &self.token.as_str())
            .field("api", &self.api.as_ref().map(Url::as_str))
            .finish()
    }
}
