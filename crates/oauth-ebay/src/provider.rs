//! [`Ebay`] on `oauth-core`'s provider contract: the pieces of the other
//! modules, put together.

use crate::api::ApiAuth;
use crate::api_answer;
use crate::authorize::ConsentOptions;
use crate::token::{TokenResponse, decode};
use crate::{Ebay, PROVIDER};
use oauth_core::{
    AttachContext, AuthorizationCode, CsrfState, Endpoints, Environment, Error, Grant, Provider,
    RawResponse, RequestContext, Scopes, TokenRequest, TokenSet, http_types,
};
use std::time::SystemTime;

/// The grant name of application-token requests (client credentials), in
/// [`Grant::Other`] and tracing.
pub(crate) const CLIENT_CREDENTIALS: &str = "client_credentials";

impl Ebay {
    /// The scopes a request of kind `grant` asks for, which its answer
    /// records and an `invalid_scope` error names.
    fn requested<'a>(&'a self, grant: &Grant<'a>) -> &'a Scopes {
        match grant {
            Grant::Refresh { current } => self.recorded_scopes(current),
            Grant::Other(CLIENT_CREDENTIALS) => &self.application_scopes,
            _ => &self.scopes,
        }
    }
}

/// eBay on the provider contract: the RuName as `redirect_uri`, Basic
/// client authentication, refresh for the scopes the token set records
/// (eBay does not echo scopes), refresh tokens that do not rotate, the
/// default refresh skew (one minute of eBay's two-hour access tokens), and
/// [`ApiAuth::Rest`] on API calls.
impl Provider for Ebay {
    type TokenResponse = TokenResponse;
    type Attachment = ApiAuth;

    fn name(&self) -> &'static str {
        PROVIDER
    }

    /// `false`: a refresh answers with an access token only; the refresh
    /// token and its original expiry are kept.
    fn rotates_refresh_tokens(&self) -> bool {
        false
    }

    fn validate(&self) -> Result<(), Error> {
        self.check()
    }

    fn endpoints(&self, environment: &Environment) -> Result<Endpoints, Error> {
        Self::endpoints_in(environment)
    }

    fn authorize_params(&self, state: &CsrfState) -> Result<Vec<(&'static str, String)>, Error> {
        Ok(self.consent_params(state, &ConsentOptions::new()))
    }

    fn exchange_request(
        &self,
        context: &RequestContext<'_>,
        code: &AuthorizationCode,
    ) -> Result<TokenRequest, Error> {
        Ok(self.code_exchange(context, code))
    }

    fn refresh_request(
        &self,
        context: &RequestContext<'_>,
        current: &TokenSet,
    ) -> Result<TokenRequest, Error> {
        self.refresh_for(context, current, self.recorded_scopes(current))
    }

    /// Decodes and classifies any answer of eBay's token endpoint (see the
    /// [crate documentation](crate#errors)); the token response records
    /// the scopes the request of kind `grant` asked for.
    fn decode_token_response(
        &self,
        response: &RawResponse,
        grant: &Grant<'_>,
        received_at: SystemTime,
    ) -> Result<TokenResponse, Error> {
        decode(response, self.requested(grant), received_at)
    }

    fn attachment(&self, _context: &AttachContext<'_>) -> ApiAuth {
        ApiAuth::Rest
    }

    /// A 401 (REST APIs), or a 2xx whose `Content-Type` is XML (the Trading
    /// API reports a refused token inside a 200); every other answer passes
    /// through unread. See the [crate documentation](crate#errors-of-api-calls).
    fn api_answer_needs_body(&self, status: u16, headers: &http_types::HeaderMap) -> bool {
        api_answer::needs_body(status, headers)
    }

    /// REST: 401 is [`Error::AccessTokenRejected`], 403 (missing scope or
    /// permission) and other 4xx a [`Error::Provider`], with the first
    /// `errors[]` entry's id and message. Trading API: a 200 with
    /// `<Ack>Failure</Ack>` and a token error code
    /// ([`TOKEN_REJECTED_CODES`](crate::TOKEN_REJECTED_CODES)) is
    /// [`Error::AccessTokenRejected`], any other failure a
    /// [`Error::Provider`] (a `SystemError` is [`Error::Transient`]). See
    /// the [crate documentation](crate#errors-of-api-calls).
    fn classify_api_response(&self, response: &RawResponse) -> Result<(), Error> {
        api_answer::classify(response)
    }
}
