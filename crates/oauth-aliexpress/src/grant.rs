//! The token calls (`/auth/token/create`, `/auth/token/refresh`), the
//! rotation rules, and [`AliExpress`] as an [`oauth_core::Provider`].
//!
//! Both calls are signed system calls posted to the path-suffixed gateway
//! (`<base>/rest/auth/token/create`), common parameters in the query, the
//! code or refresh token in a form body (see the layout in `call.rs`).
//! Neither is retried once sent: codes are single-use and a refresh rotates
//! the refresh token.

use crate::PROVIDER;
use crate::api::ApiAuth;
use crate::call::{FORM_CONTENT_TYPE_UTF8, Layout, gateway_url};
use crate::config::AliExpress;
use crate::token::TokenResponse;
use oauth_core::transport::ParamValue;
use oauth_core::{
    AttachContext, AuthorizationCode, CsrfState, Endpoints, Environment, Error, Grant,
    IntoTokenSet, Provider, ProviderDetails, RawResponse, RefreshToken, RequestContext,
    TokenRequest, TokenSet, http_types,
};
use secrecy::SecretString;
use std::time::{Duration, SystemTime};

/// The API name of the code exchange.
pub const TOKEN_CREATE_API: &str = "/auth/token/create";
/// The API name of the refresh.
pub const TOKEN_REFRESH_API: &str = "/auth/token/refresh";

fn secret(value: &str) -> ParamValue {
    ParamValue::Secret(SecretString::from(value.to_owned()))
}

impl AliExpress {
    fn token_request(
        &self,
        cx: &RequestContext<'_>,
        api_name: &str,
        grant: &'static str,
        own: Vec<(String, ParamValue)>,
    ) -> Result<TokenRequest, Error> {
        let call = self.signed_call(api_name, own, Layout::QueryAndForm, cx.now)?;
        Ok(
            TokenRequest::post(PROVIDER, grant, gateway_url(cx.endpoints, api_name)?)
                .query(call.query)
                .form_with_content_type(call.body, FORM_CONTENT_TYPE_UTF8)
                .retry_safe(false),
        )
    }

    /// The signed `/auth/token/create` request for `code` and the `uuid`
    /// sent on the consent page, if any (a blank one is not sent).
    pub(crate) fn create_request(
        &self,
        cx: &RequestContext<'_>,
        code: &AuthorizationCode,
        uuid: Option<&str>,
    ) -> Result<TokenRequest, Error> {
        let mut own = vec![("code".to_owned(), secret(code.expose_secret()))];
        if let Some(uuid) = uuid {
            own.push(("uuid".to_owned(), secret(uuid)));
        }
        self.token_request(cx, TOKEN_CREATE_API, "authorization_code", own)
    }

    /// The signed `/auth/token/refresh` request for `refresh_token`.
    fn refresh_token_request(
        &self,
        cx: &RequestContext<'_>,
        refresh_token: &RefreshToken,
    ) -> Result<TokenRequest, Error> {
        let own = vec![(
            "refresh_token".to_owned(),
            secret(refresh_token.expose_secret()),
        )];
        self.token_request(cx, TOKEN_REFRESH_API, "refresh_token", own)
    }
}

fn refresh_not_supported() -> Error {
    Error::RefreshNotSupported {
        details: ProviderDetails::new(PROVIDER).with_message(
            "this token set has no refresh token (the grant was issued with refresh_expires_in = 0, \
             or without one): re-authorize the seller when the access token expires",
        ),
    }
}

/// AliExpress on the provider contract: [`Client`](crate::Client) is
/// `oauth_core::Client<AliExpress>`.
///
/// - refresh tokens **rotate** ([`rotates_refresh_tokens`](Self::rotates_refresh_tokens)
///   is `true`), and a refresh does not extend the refresh token's expiry
///   ([`refreshed`](Self::refreshed));
/// - the suggested refresh skew is 30 minutes, as the platform recommends;
/// - a set without refresh token (how a `refresh_expires_in == 0` grant is
///   recorded) fails to refresh at once, without a request, with
///   [`Error::RefreshNotSupported`].
impl Provider for AliExpress {
    type TokenResponse = TokenResponse;
    type Attachment = ApiAuth;

    fn name(&self) -> &'static str {
        PROVIDER
    }

    fn rotates_refresh_tokens(&self) -> bool {
        true
    }

    /// AliExpress recommends refreshing about 30 minutes before expiry.
    fn default_refresh_skew(&self) -> Duration {
        Duration::from_secs(30 * 60)
    }

    /// An empty app key or one with control characters, an empty app
    /// secret, a missing or invalid redirect URI.
    fn validate(&self) -> Result<(), Error> {
        self.check()
    }

    /// Production or a custom base; there is no sandbox.
    fn endpoints(&self, environment: &Environment) -> Result<Endpoints, Error> {
        Self::endpoints_in(environment)
    }

    fn authorize_params(&self, state: &CsrfState) -> Result<Vec<(&'static str, String)>, Error> {
        self.consent_params(state)
    }

    /// `/auth/token/create` without `uuid`.
    fn exchange_request(
        &self,
        cx: &RequestContext<'_>,
        code: &AuthorizationCode,
    ) -> Result<TokenRequest, Error> {
        self.create_request(cx, code, None)
    }

    /// `/auth/token/refresh`; [`Error::RefreshNotSupported`] for a set
    /// without refresh token.
    fn refresh_request(
        &self,
        cx: &RequestContext<'_>,
        current: &TokenSet,
    ) -> Result<TokenRequest, Error> {
        let Some(refresh_token) = &current.refresh_token else {
            return Err(refresh_not_supported());
        };
        self.refresh_token_request(cx, refresh_token)
    }

    fn decode_token_response(
        &self,
        response: &RawResponse,
        _grant: &Grant<'_>,
        received_at: SystemTime,
    ) -> Result<TokenResponse, Error> {
        TokenResponse::decode(response, received_at)
    }

    /// The rotation rules, in one place:
    /// - a new refresh token replaces the old one, and keeps the
    ///   **original** refresh expiry (`current.refresh_token_expires_at`;
    ///   the platform does not extend it), or the answer's when the previous
    ///   one was unknown;
    /// - an answer without refresh token keeps the previous one and its
    ///   expiry (not seen on the wire: a safe reading of an unconfirmed
    ///   case);
    /// - an answer with `refresh_expires_in == 0` gives a set without
    ///   refresh token, which cannot be refreshed again.
    fn refreshed(&self, response: TokenResponse, current: &TokenSet) -> TokenSet {
        let not_refreshable = response.refresh_expires_in == Some(0);
        let rotated = response.refresh_token.is_some();
        let mut set = response.into_token_set();
        if not_refreshable {
            return set;
        }
        if rotated {
            set.refresh_token_expires_at = current
                .refresh_token_expires_at
                .or(set.refresh_token_expires_at);
        }
        set.merge_previous(current)
    }

    fn attachment(&self, context: &AttachContext<'_>) -> ApiAuth {
        ApiAuth::new(self.clone(), context)
    }

    /// A 2xx or 4xx with a JSON (or `text/plain`, JavaScript, or no)
    /// content type: the gateway reports `IllegalAccessToken` inside an
    /// HTTP 200 or 400, so those bodies are read; 429, 5xx, 3xx and other
    /// content types are not. See the [error table](crate::error#api-calls).
    fn api_answer_needs_body(&self, status: u16, headers: &http_types::HeaderMap) -> bool {
        crate::error::api_answer_needs_body(status, headers)
    }

    /// [`classify_api_response`](crate::classify_api_response):
    /// `IllegalAccessToken` (shape A or B, any status) is
    /// [`Error::AccessTokenRejected`]; other IOP codes as the [error
    /// table](crate::error); a 2xx without an IOP error is `Ok`.
    fn classify_api_response(&self, response: &RawResponse) -> Result<(), Error> {
        crate::error::classify_api_response(response)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use oauth_core::{AccessToken, AppSecret, from_unix_millis, to_unix_millis};

    fn settings() -> AliExpress {
        AliExpress::new("1", AppSecret::new("s")).redirect_uri("https://app.example/cb")
    }

    fn merge(body: &str, previous: &TokenSet) -> TokenSet {
        let raw = RawResponse::new(PROVIDER, 200, None, body.to_owned());
        let response = TokenResponse::decode(&raw, from_unix_millis(2_000)).unwrap();
        settings().refreshed(response, previous)
    }

    fn previous() -> TokenSet {
        TokenSet::new(AccessToken::new("a0"), from_unix_millis(1_000))
            .with_refresh_token(RefreshToken::new("r0"), Some(from_unix_millis(50_000)))
    }

    #[test]
    fn rotation_keeps_the_original_refresh_expiry() {
        let set = merge(
            r#"{"access_token":"a1","refresh_token":"r1","expires_in":10,"refresh_expires_in":90}"#,
            &previous(),
        );
        assert_eq!(set.access_token.expose_secret(), "a1");
        assert_eq!(set.refresh_token, Some(RefreshToken::new("r1")));
        assert_eq!(
            set.refresh_token_expires_at.map(to_unix_millis),
            Some(50_000)
        );
        assert_eq!(to_unix_millis(set.expires_at), 12_000);
    }

    #[test]
    fn unknown_previous_expiry_takes_the_answer() {
        let previous = TokenSet::new(AccessToken::new("a0"), from_unix_millis(1_000))
            .with_refresh_token(RefreshToken::new("r0"), None);
        let set = merge(
            r#"{"access_token":"a1","refresh_token":"r1","expire_time":9000,"refresh_token_valid_time":70000}"#,
            &previous,
        );
        assert_eq!(
            set.refresh_token_expires_at.map(to_unix_millis),
            Some(70_000)
        );
    }

    #[test]
    fn answer_without_refresh_token_keeps_the_old_one() {
        let set = merge(r#"{"access_token":"a1","expires_in":10}"#, &previous());
        assert_eq!(set.refresh_token, Some(RefreshToken::new("r0")));
        assert_eq!(
            set.refresh_token_expires_at.map(to_unix_millis),
            Some(50_000)
        );
    }

    #[test]
    fn answer_that_cannot_be_refreshed_drops_the_refresh_token() {
        let set = merge(
            r#"{"access_token":"a1","refresh_token":"r1","expires_in":10,"refresh_expires_in":"0"}"#,
            &previous(),
        );
        assert_eq!(set.refresh_token, None);
        assert_eq!(set.refresh_token_expires_at, None);
    }

    #[test]
    fn provider_facts() {
        let ae = settings();
        assert_eq!(ae.name(), "aliexpress");
        assert!(ae.rotates_refresh_tokens());
        assert_eq!(ae.default_refresh_skew(), Duration::from_secs(1_800));
    }
}
