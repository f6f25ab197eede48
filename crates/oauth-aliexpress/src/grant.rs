//! The token calls (`/auth/token/create`, `/auth/token/refresh`) and the
//! grant traits.
//!
//! Both are signed system calls posted to the path-suffixed gateway
//! (`<base>/rest/auth/token/create`), common parameters in the query, the
//! code or refresh token in a form body (see the layout in `call.rs`).
//! Neither is retried once sent: codes are single-use and a refresh rotates
//! the refresh token.

use crate::PROVIDER;
use crate::call::{FORM_CONTENT_TYPE_UTF8, Layout};
use crate::config::Client;
use crate::token::{TokenResponse, decode_token_response};
use oauth_core::transport::ParamValue;
use oauth_core::url::Url;
use oauth_core::{
    AuthorizationCode, AuthorizationCodeGrant, CsrfState, Error, ProviderDetails, RefreshGrant,
    RefreshToken, TokenRequest, TokenSet, async_trait,
};
use secrecy::SecretString;
use std::time::{Duration, SystemTime};

/// The API name of the code exchange.
pub const TOKEN_CREATE_API: &str = "/auth/token/create";
/// The API name of the refresh.
pub const TOKEN_REFRESH_API: &str = "/auth/token/refresh";
/// AliExpress recommends refreshing about 30 minutes before expiry.
pub const DEFAULT_REFRESH_SKEW: Duration = Duration::from_secs(30 * 60);

fn secret(value: &str) -> ParamValue {
    ParamValue::Secret(SecretString::from(value.to_owned()))
}

impl Client {
    fn token_request(
        &self,
        api_name: &str,
        grant: &'static str,
        own: Vec<(String, ParamValue)>,
    ) -> TokenRequest {
        let call = self.signed_call(api_name, own, Layout::QueryAndForm);
        TokenRequest::post(PROVIDER, grant, call.url)
            .query(call.query)
            .form_with_content_type(call.body, FORM_CONTENT_TYPE_UTF8)
            .retry_safe(false)
    }

    /// The signed `/auth/token/create` request for `code` (and the `uuid`
    /// sent on the consent page, if any), timestamped now. Its `Debug` is
    /// redacted; send it with [`oauth_core::HttpClient::send`].
    pub fn create_token_request(
        &self,
        code: &AuthorizationCode,
        uuid: Option<&str>,
    ) -> TokenRequest {
        let mut own = vec![("code".to_owned(), secret(code.expose_secret()))];
        if let Some(uuid) = uuid {
            own.push(("uuid".to_owned(), secret(uuid)));
        }
        self.token_request(TOKEN_CREATE_API, "authorization_code", own)
    }

    /// The signed `/auth/token/refresh` request for `refresh_token`,
    /// timestamped now.
    pub fn refresh_token_request(&self, refresh_token: &RefreshToken) -> TokenRequest {
        let own = vec![(
            "refresh_token".to_owned(),
            secret(refresh_token.expose_secret()),
        )];
        self.token_request(TOKEN_REFRESH_API, "refresh_token", own)
    }

    /// Exchanges an authorization code (`/auth/token/create`). Pass the
    /// `uuid` given to [`authorize_url_with_uuid`](Self::authorize_url_with_uuid),
    /// if any. Not retried once sent (codes are single-use).
    ///
    /// # Errors
    /// [`Error::ReauthorizationRequired`] for a bad or used code, any other
    /// classified failure (see [`crate::error`]).
    pub async fn create_token(
        &self,
        code: &AuthorizationCode,
        uuid: Option<&str>,
    ) -> Result<TokenResponse, Error> {
        let response = self
            .http
            .send(&self.create_token_request(code, uuid))
            .await?;
        decode_token_response(&response).map_err(|e| response.scrub_error(e))
    }

    /// Refreshes (`/auth/token/refresh`). The answer carries a **new**
    /// refresh token: the old one is dead from now on, save the new one at
    /// once. Not retried once sent.
    ///
    /// # Errors
    /// [`Error::ReauthorizationRequired`] for an invalid or expired refresh
    /// token, [`Error::RefreshNotSupported`] for grants that cannot be
    /// refreshed, any other classified failure.
    pub async fn refresh_token(
        &self,
        refresh_token: &RefreshToken,
    ) -> Result<TokenResponse, Error> {
        let response = self
            .http
            .send(&self.refresh_token_request(refresh_token))
            .await?;
        decode_token_response(&response).map_err(|e| response.scrub_error(e))
    }

    /// [`create_token`](Self::create_token), converted into a [`TokenSet`]
    /// at the client clock's time.
    ///
    /// # Errors
    /// As [`create_token`](Self::create_token).
    pub async fn exchange_code_with_uuid(
        &self,
        code: &AuthorizationCode,
        uuid: Option<&str>,
    ) -> Result<TokenSet, Error> {
        let response = self.create_token(code, uuid).await?;
        Ok(response.into_token_set(self.now()))
    }
}

/// The token set after a refresh of `previous` answered with `response`
/// at `now`. The rotation rules, in one place:
/// - a new refresh token replaces the old one, and keeps the **original**
///   refresh expiry (`previous.refresh_token_expires_at`; the platform does
///   not extend it), or the answer's when the previous one was unknown;
/// - an answer without refresh token keeps the previous one and its expiry
///   (not seen on the wire: a safe reading of an unconfirmed case);
/// - an answer with `refresh_expires_in == 0` gives a set without refresh
///   token, which cannot be refreshed again.
pub fn merge_refreshed(response: TokenResponse, previous: &TokenSet, now: SystemTime) -> TokenSet {
    let not_refreshable = response.refresh_expires_in == Some(0);
    let rotated = response.refresh_token.is_some();
    let mut set = response.into_token_set(now);
    if not_refreshable {
        return set;
    }
    if rotated {
        set.refresh_token_expires_at = previous
            .refresh_token_expires_at
            .or(set.refresh_token_expires_at);
    }
    set.merge_previous(previous)
}

fn refresh_not_supported() -> Error {
    Error::RefreshNotSupported {
        details: ProviderDetails::new(PROVIDER).with_message(
            "this token set has no refresh token (the grant was issued with refresh_expires_in = 0, \
             or without one): re-authorize the seller when the access token expires",
        ),
    }
}

#[async_trait]
impl RefreshGrant for Client {
    fn provider(&self) -> &'static str {
        PROVIDER
    }

    /// Refreshes `current`; fails at once, without any request, with
    /// [`Error::RefreshNotSupported`] when `current` has no refresh token
    /// (how a `refresh_expires_in == 0` grant is recorded).
    async fn refresh(&self, current: &TokenSet) -> Result<TokenSet, Error> {
        let Some(refresh_token) = &current.refresh_token else {
            tracing::debug!(
                provider = PROVIDER,
                grant = "refresh_token",
                "refresh not supported"
            );
            return Err(refresh_not_supported());
        };
        let response = self.refresh_token(refresh_token).await?;
        Ok(merge_refreshed(response, current, self.now()))
    }

    fn max_refresh_duration(&self) -> Option<Duration> {
        Some(self.http.max_send_duration())
    }

    fn rotates_refresh_token(&self) -> bool {
        true
    }

    fn default_refresh_skew(&self) -> Duration {
        DEFAULT_REFRESH_SKEW
    }
}

#[async_trait]
impl AuthorizationCodeGrant for Client {
    fn authorize_url(&self, state: &CsrfState) -> Url {
        Client::authorize_url(self, state)
    }

    async fn exchange_code(&self, code: &AuthorizationCode) -> Result<TokenSet, Error> {
        self.exchange_code_with_uuid(code, None).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::token::decode_token_response;
    use oauth_core::{AccessToken, RawResponse, from_unix_millis, to_unix_millis};

    fn response(body: &str) -> TokenResponse {
        decode_token_response(&RawResponse::new(PROVIDER, 200, None, body.to_owned())).unwrap()
    }

    fn previous() -> TokenSet {
        TokenSet::new(AccessToken::new("a0"), from_unix_millis(1_000))
            .with_refresh_token(RefreshToken::new("r0"), Some(from_unix_millis(50_000)))
    }

    #[test]
    fn rotation_keeps_the_original_refresh_expiry() {
        let set = merge_refreshed(
            response(
                r#"{"access_token":"a1","refresh_token":"r1","expires_in":10,"refresh_expires_in":90}"#,
            ),
            &previous(),
            from_unix_millis(2_000),
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
        let set = merge_refreshed(
            response(
                r#"{"access_token":"a1","refresh_token":"r1","expire_time":9000,"refresh_token_valid_time":70000}"#,
            ),
            &previous,
            from_unix_millis(2_000),
        );
        assert_eq!(
            set.refresh_token_expires_at.map(to_unix_millis),
            Some(70_000)
        );
    }

    #[test]
    fn answer_without_refresh_token_keeps_the_old_one() {
        let set = merge_refreshed(
            response(r#"{"access_token":"a1","expires_in":10}"#),
            &previous(),
            from_unix_millis(2_000),
        );
        assert_eq!(set.refresh_token, Some(RefreshToken::new("r0")));
        assert_eq!(
            set.refresh_token_expires_at.map(to_unix_millis),
            Some(50_000)
        );
    }

    #[test]
    fn answer_that_cannot_be_refreshed_drops_the_refresh_token() {
        let set = merge_refreshed(
            response(
                r#"{"access_token":"a1","refresh_token":"r1","expires_in":10,"refresh_expires_in":"0"}"#,
            ),
            &previous(),
            from_unix_millis(2_000),
        );
        assert_eq!(set.refresh_token, None);
        assert_eq!(set.refresh_token_expires_at, None);
    }
}
