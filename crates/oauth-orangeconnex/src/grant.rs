//! The token endpoint (`AccessToken` and `Refresh AccessToken`): its path,
//! the client-key header, and how a refresh answer completes the previous
//! token set. The requests are [`OrangeConnex`](crate::OrangeConnex)'s
//! `Provider::exchange_request` and `Provider::refresh_request`.
//!
//! Both are `POST <base>/oauth/token` with **every parameter in the query
//! string**, an empty body, no client secret and no Basic auth; the optional
//! `clientKey` header carries the partner's client key. Because the code
//! and the refresh token travel in the URL, the URL never reaches an error,
//! a log line or a tracing span (the HTTP plumbing of `oauth-core` strips
//! it; this crate's tests prove it with sentinel tokens).

use crate::token::TokenResponse;
use oauth_core::http_types::HeaderName;
use oauth_core::{IntoTokenSet, TokenSet};

/// Path of the token endpoint, relative to the environment's base.
pub const TOKEN_PATH: &str = "/oauth/token";

/// The header that carries the client key, on token requests and API calls.
/// (HTTP header names are case-insensitive; OrangeConnex spells it
/// `clientKey`.)
pub const CLIENT_KEY_HEADER: HeaderName = HeaderName::from_static("clientkey");

/// Grant names, as used in tracing spans and on the wire.
pub(crate) const AUTHORIZATION_CODE: &str = "authorization_code";
pub(crate) const REFRESH_TOKEN: &str = "refresh_token";

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
