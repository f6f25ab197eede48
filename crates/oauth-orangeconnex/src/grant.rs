//! The token requests (`AccessToken` and `Refresh AccessToken`) and how a
//! refresh answer completes the previous token set.
//!
//! Both are `POST <base>/oauth/token` with **every parameter in the query
//! string**, an empty body, no client secret and no Basic auth; the optional
//! `clientKey` header carries the partner's client key. Because the code
//! and the refresh token travel in the URL, the URL never reaches an error,
//! a log line or a tracing span (the HTTP plumbing of `oauth-core` strips
//! it; this crate's tests prove it with sentinel tokens).

use crate::token::TokenResponse;
use crate::{OrangeConnex, PROVIDER};
use oauth_core::http_types::HeaderName;
use oauth_core::{
    AuthorizationCode, Error, IntoTokenSet, Params, ProviderDetails, RequestContext, TokenRequest,
    TokenSet,
};

/// Path of the token endpoint, relative to the environment's base.
pub const TOKEN_PATH: &str = "/oauth/token";

/// The header that carries the client key, on token requests and API calls.
/// (HTTP header names are case-insensitive; OrangeConnex spells it
/// `clientKey`.)
pub const CLIENT_KEY_HEADER: HeaderName = HeaderName::from_static("clientkey");

/// Grant names, as used in tracing spans and on the wire.
const AUTHORIZATION_CODE: &str = "authorization_code";
const REFRESH_TOKEN: &str = "refresh_token";

impl OrangeConnex {
    /// The code exchange request:
    /// `POST <base>/oauth/token?client_id=..&grant_type=authorization_code&redirect_uri=..&code=..`,
    /// empty body, `clientKey` header when a client key is configured.
    ///
    /// `code` is the value decoded once from the callback (as
    /// [`oauth_core::parse_callback`] returns it); it is percent-encoded
    /// exactly once here, so a code that is itself URL-encoded base64
    /// (`...%2F...`) goes on the wire as `...%252F...`, as OrangeConnex's
    /// documentation shows.
    pub(crate) fn code_exchange_request(
        &self,
        context: &RequestContext<'_>,
        code: &AuthorizationCode,
    ) -> Result<TokenRequest, Error> {
        let query = Params::new()
            .plain("client_id", self.client_id().as_str())
            .plain("grant_type", AUTHORIZATION_CODE)
            .plain("redirect_uri", self.redirect_uri())
            .secret("code", code.expose_secret());
        self.token_request(context, AUTHORIZATION_CODE, query)
    }

    /// The refresh request:
    /// `POST <base>/oauth/token?client_id=..&grant_type=refresh_token&refresh_token=..`,
    /// empty body, `clientKey` header when a client key is configured.
    /// Without a stored refresh token, nothing can be sent: the seller must
    /// authorize again.
    pub(crate) fn refresh_token_request(
        &self,
        context: &RequestContext<'_>,
        current: &TokenSet,
    ) -> Result<TokenRequest, Error> {
        let Some(refresh_token) = &current.refresh_token else {
            return Err(Error::ReauthorizationRequired {
                details: ProviderDetails::new(PROVIDER)
                    .with_message("no refresh token is stored for this account"),
            });
        };
        let query = Params::new()
            .plain("client_id", self.client_id().as_str())
            .plain("grant_type", REFRESH_TOKEN)
            .secret("refresh_token", refresh_token.expose_secret());
        self.token_request(context, REFRESH_TOKEN, query)
    }
}

/// The token set after a refresh of `current`: a refresh token in the
/// answer replaces the old one (with a fresh
/// [`REFRESH_TOKEN_LIFETIME`](crate::REFRESH_TOKEN_LIFETIME) unless it is the
/// same token, which keeps its expiry); an absent one keeps the old token
/// and its expiry ([`TokenSet::merge_previous`]).
pub(crate) fn refreshed(response: TokenResponse, current: &TokenSet) -> TokenSet {
    let mut set = response.into_token_set();
    if set.refresh_token.is_some() && set.refresh_token == current.refresh_token {
        // The same token sent back: its lifetime was not extended.
        set.refresh_token_expires_at = current.refresh_token_expires_at;
    }
    set.merge_previous(current)
}
