//! The refresh-token grant, the only token grant Eshopbox documents.

use crate::PROVIDER;
use crate::config::Client;
use crate::token::{TokenResponse, decode_token_response};
use oauth_core::{Error, Params, RefreshGrant, RefreshToken, TokenRequest, TokenSet, async_trait};
use std::time::Duration;

/// The grant name used in tracing spans.
const REFRESH_GRANT: &str = "refresh_token";

/// How long before expiry the token lifecycle refreshes an Eshopbox token:
/// 5 minutes.
///
/// Eshopbox asks clients to cache the access token and to call the token
/// endpoint only when the cached token is about to expire: repeated calls
/// are rate-limited. Tokens live 24 hours (`expires_in: 86400`; the
/// documentation also says 30 days), so a 5-minute margin means one refresh
/// per ~23 h 55 min per app, while leaving room for a slow or rate-limited
/// refresh (the old token stays valid meanwhile) and for clock drift between
/// instances. A larger margin buys nothing but extra calls; a smaller one
/// risks API calls with a token that expires in flight.
pub const DEFAULT_REFRESH_SKEW: Duration = Duration::from_secs(5 * 60);

impl Client {
    /// The request [`refresh_with`](Self::refresh_with) sends:
    /// `POST <token url>` with `Content-Type: application/json` and the body
    /// `{"client_id":"…","client_secret":"…","grant_type":"refresh_token","refresh_token":"…"}`.
    ///
    /// The secret and the refresh token travel only in the body (never in
    /// the URL or a header). The request is safe to retry after a 5xx, 429 or
    /// timeout: Eshopbox does not rotate the refresh token.
    pub fn refresh_request(&self, refresh_token: &RefreshToken) -> TokenRequest {
        let body = Params::new()
            .plain("client_id", self.client_id.as_str())
            .secret("client_secret", self.client_secret.expose_secret())
            .plain("grant_type", "refresh_token")
            .secret("refresh_token", refresh_token.expose_secret());
        TokenRequest::post(PROVIDER, REFRESH_GRANT, self.token_url.as_url().clone())
            .json(body)
            .retry_safe(true)
    }

    /// Runs the refresh grant with `refresh_token` and returns the typed
    /// answer.
    ///
    /// # Errors
    /// As classified by [`decode_token_response`]:
    /// [`Error::ReauthorizationRequired`] for an unknown or revoked refresh
    /// token, [`Error::InvalidClient`] for wrong credentials,
    /// [`Error::RateLimited`], [`Error::Transient`], ...
    pub async fn refresh_with(&self, refresh_token: &RefreshToken) -> Result<TokenResponse, Error> {
        let response = self.http.send(&self.refresh_request(refresh_token)).await?;
        let decoded = decode_token_response(&response).map_err(|e| response.scrub_error(e));
        match &decoded {
            Ok(_) => tracing::debug!(
                provider = PROVIDER,
                grant = REFRESH_GRANT,
                status = response.status(),
                "eshopbox access token issued"
            ),
            Err(_) => tracing::debug!(
                provider = PROVIDER,
                grant = REFRESH_GRANT,
                status = response.status(),
                "eshopbox token request refused"
            ),
        }
        decoded
    }

    /// The first token of a custom app: the refresh grant with the refresh
    /// token the client was built with (custom apps have no consent screen,
    /// so this is the whole flow). Returns the typed answer.
    ///
    /// # Errors
    /// As [`refresh_with`](Self::refresh_with).
    pub async fn fetch_token(&self) -> Result<TokenResponse, Error> {
        self.refresh_with(&self.refresh_token).await
    }

    /// [`fetch_token`](Self::fetch_token) as a [`TokenSet`] ready for the
    /// token lifecycle: absolute expiry from the client's clock, and the
    /// configured refresh token kept in the set.
    ///
    /// # Errors
    /// As [`refresh_with`](Self::refresh_with).
    pub async fn initial_token_set(&self) -> Result<TokenSet, Error> {
        let response = self.fetch_token().await?;
        Ok(self.complete(response, &self.refresh_token, None))
    }

    /// The refresh token a refresh of `current` uses: the one stored in the
    /// set, or the configured one when the set has none. This is the one
    /// place to change should Eshopbox's behaviour turn out otherwise.
    fn refresh_token_for<'a>(&'a self, current: &'a TokenSet) -> &'a RefreshToken {
        current
            .refresh_token
            .as_ref()
            .unwrap_or(&self.refresh_token)
    }

    /// Converts an answer into a set: expiry from the clock, the previous
    /// set's refresh token and scopes kept when the answer has none, and the
    /// refresh token just used when nothing else is known.
    fn complete(
        &self,
        response: TokenResponse,
        used: &RefreshToken,
        previous: Option<&TokenSet>,
    ) -> TokenSet {
        let mut set = response.into_token_set(self.clock.now());
        if let Some(previous) = previous {
            set = set.merge_previous(previous);
        }
        if set.refresh_token.is_none() {
            set = set.with_refresh_token(used.clone(), None);
        }
        set
    }
}

#[async_trait]
impl RefreshGrant for Client {
    fn provider(&self) -> &'static str {
        PROVIDER
    }

    /// Refreshes with the set's refresh token (or the configured one if the
    /// set has none). The answer carries no refresh token: the one used is
    /// kept, with the previous scopes if the answer has none.
    async fn refresh(&self, current: &TokenSet) -> Result<TokenSet, Error> {
        let refresh_token = self.refresh_token_for(current);
        let response = self.refresh_with(refresh_token).await?;
        Ok(self.complete(response, refresh_token, Some(current)))
    }

    fn max_refresh_duration(&self) -> Option<Duration> {
        Some(self.http.max_send_duration())
    }

    /// `false`: Eshopbox's refresh token is long-lived and never replaced.
    fn rotates_refresh_token(&self) -> bool {
        false
    }

    /// [`DEFAULT_REFRESH_SKEW`] (5 minutes) unless the builder set another.
    fn default_refresh_skew(&self) -> Duration {
        self.refresh_skew
    }

    /// Always possible: a custom app needs no consent, the configured
    /// refresh token mints the first token ([`Client::initial_token_set`]).
    async fn fetch_initial(&self) -> Option<Result<TokenSet, Error>> {
        Some(self.initial_token_set().await)
    }
}
