//! Eshopbox on `oauth-core`'s provider contract: the refresh-token grant,
//! the only token grant Eshopbox documents, is the whole flow.

use crate::config::{Eshopbox, PRODUCTION_BASE_URL, REFRESH_GRANT};
use crate::token::TokenResponse;
use crate::{ApiAuth, Client, PROVIDER};
use oauth_core::{
    AttachContext, Endpoints, Environment, Error, Grant, IntoTokenSet, Provider, RawResponse,
    RefreshToken, RequestContext, TokenRequest, TokenSet, async_trait, http_types,
};
use std::time::{Duration, SystemTime};

/// How long before expiry the token lifecycle refreshes an Eshopbox token
/// by default: 5 minutes ([`Provider::default_refresh_skew`]).
///
/// Eshopbox asks clients to cache the access token and to call the token
/// endpoint only when the cached token is about to expire: repeated calls
/// are rate-limited. Tokens live 24 hours (`expires_in: 86400`; the
/// documentation also says 30 days), so a 5-minute margin means one refresh
/// per ~23 h 55 min per app, while leaving room for a slow or rate-limited
/// refresh (the old token stays valid meanwhile) and for clock drift between
/// instances. A larger margin buys nothing but extra calls; a smaller one
/// risks API calls with a token that expires in flight.
const REFRESH_SKEW: Duration = Duration::from_secs(5 * 60);

impl Eshopbox {
    /// The refresh token a refresh of `current` uses: the one stored in the
    /// set, or the configured one when the set has none. This is the one
    /// place to change should Eshopbox's behaviour turn out otherwise.
    fn refresh_token_for<'a>(&'a self, current: &'a TokenSet) -> &'a RefreshToken {
        current
            .refresh_token
            .as_ref()
            .unwrap_or(&self.refresh_token)
    }
}

impl Provider for Eshopbox {
    type TokenResponse = TokenResponse;
    type Attachment = ApiAuth;

    fn name(&self) -> &'static str {
        PROVIDER
    }

    /// `false`: Eshopbox's refresh token is long-lived and never replaced.
    fn rotates_refresh_tokens(&self) -> bool {
        false
    }

    /// 5 minutes (see the crate documentation, "Refresh margin and rate
    /// limiting"); the token manager's `skew` overrides it.
    fn default_refresh_skew(&self) -> Duration {
        REFRESH_SKEW
    }

    /// Refuses an empty client id, client secret or refresh token (the
    /// message names the value, never repeats it).
    fn validate(&self) -> Result<(), Error> {
        if self.client_id.as_str().trim().is_empty() {
            return Err(Error::configuration("eshopbox: the client id is empty"));
        }
        if self.client_secret.expose_secret().trim().is_empty() {
            return Err(Error::configuration("eshopbox: the client secret is empty"));
        }
        if self.refresh_token.expose_secret().trim().is_empty() {
            return Err(Error::configuration("eshopbox: the refresh token is empty"));
        }
        Ok(())
    }

    /// [`PRODUCTION_BASE_URL`] or the custom base, with the token path;
    /// Eshopbox has no sandbox.
    fn endpoints(&self, environment: &Environment) -> Result<Endpoints, Error> {
        let base = environment.base(PROVIDER, PRODUCTION_BASE_URL, None)?;
        Ok(Endpoints::new(base.join_path(&self.token_path)))
    }

    /// The refresh grant with the set's refresh token, or the configured one
    /// if the set has none ([`Eshopbox::grant_request`]).
    fn refresh_request(
        &self,
        context: &RequestContext<'_>,
        current: &TokenSet,
    ) -> Result<TokenRequest, Error> {
        Ok(self.grant_request(context, self.refresh_token_for(current)))
    }

    /// Always possible: a custom app needs no consent, the configured
    /// refresh token mints the first token.
    fn initial_request(&self, context: &RequestContext<'_>) -> Option<Result<TokenRequest, Error>> {
        Some(Ok(self.grant_request(context, &self.refresh_token)))
    }

    /// The same decoder and classifier for every grant (see the crate
    /// documentation, "Errors").
    fn decode_token_response(
        &self,
        response: &RawResponse,
        _grant: &Grant<'_>,
        received_at: SystemTime,
    ) -> Result<TokenResponse, Error> {
        crate::token::decode(response, received_at)
    }

    /// The answer carries no refresh token: the one used is kept (the
    /// set's, or the configured one), with the previous scopes if the
    /// answer has none. A new refresh token in the answer replaces the old.
    fn refreshed(&self, response: TokenResponse, current: &TokenSet) -> TokenSet {
        let set = response.into_token_set().merge_previous(current);
        with_refresh_token(set, self.refresh_token_for(current))
    }

    /// The first set keeps the configured refresh token (unless the answer
    /// carries one).
    fn initial(&self, response: TokenResponse) -> TokenSet {
        with_refresh_token(response.into_token_set(), &self.refresh_token)
    }

    fn attachment(&self, _context: &AttachContext<'_>) -> ApiAuth {
        ApiAuth
    }

    /// A 401 or a 403; every other answer passes through unread. See the
    /// [crate documentation](crate#errors-of-api-calls).
    fn api_answer_needs_body(&self, status: u16, headers: &http_types::HeaderMap) -> bool {
        crate::api_answer::needs_body(status, headers)
    }

    /// A 401, or a 403 whose body says the token is invalid or expired, is
    /// [`Error::AccessTokenRejected`]; any other 403 (scope, permission)
    /// an [`Error::Provider`]. See the [crate documentation](crate#errors-of-api-calls).
    fn classify_api_response(&self, response: &RawResponse) -> Result<(), Error> {
        crate::api_answer::classify(response)
    }
}

/// `set`, with `used` as its refresh token when it has none.
fn with_refresh_token(set: TokenSet, used: &RefreshToken) -> TokenSet {
    if set.refresh_token.is_some() {
        return set;
    }
    set.with_refresh_token(used.clone(), None)
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for super::Client {}
}

/// Eshopbox-only operations of [`Client`], beside the common ones
/// (`fetch_initial`, `refresh`, `attachment`). They send through
/// [`Client::send_token_request`](oauth_core::Client::send_token_request),
/// so that errors are scrubbed of the secrets sent and the outcome traced
/// like every other token request. Sealed: implemented for [`Client`] only.
#[async_trait]
pub trait ClientExt: sealed::Sealed {
    /// Runs the refresh grant with a bare `refresh_token` (not a stored
    /// set) and returns the typed answer, `id_token` included.
    /// `client.refresh_with(client.provider().refresh_token())` is the
    /// typed answer of [`fetch_initial`](oauth_core::Client::fetch_initial).
    ///
    /// # Errors
    /// As classified by [`Provider::decode_token_response`]:
    /// [`Error::ReauthorizationRequired`] for an unknown or revoked refresh
    /// token, [`Error::InvalidClient`] for wrong credentials,
    /// [`Error::RateLimited`], [`Error::Transient`], ...
    async fn refresh_with(&self, refresh_token: &RefreshToken) -> Result<TokenResponse, Error>;
}

#[async_trait]
impl ClientExt for Client {
    async fn refresh_with(&self, refresh_token: &RefreshToken) -> Result<TokenResponse, Error> {
        let request = self
            .provider()
            .grant_request(&self.request_context(), refresh_token);
        self.request_token(&request, &Grant::Other(REFRESH_GRANT))
            .await
    }
}
