//! The client (`oauth_core::Client<AliExpress>`) and what only AliExpress
//! does with it ([`ClientExt`]).

use crate::api::{ApiRequest, SignedApiRequest};
use crate::authorize::with_uuid;
use crate::config::AliExpress;
use crate::token::TokenResponse;
use oauth_core::url::Url;
use oauth_core::{AccessToken, AuthorizationCode, CsrfState, Error, Grant, async_trait};

/// An AliExpress (IOP) client for one app: authorize URLs, token create and
/// refresh, and signing of API calls. Build it with
/// `Client::builder(AliExpress::new(..))`; the common operations
/// (`authorize_url`, `exchange_code`, `refresh`, `attachment`) are
/// [`oauth_core::Client`]'s, the AliExpress-only ones [`ClientExt`]'s.
pub type Client = oauth_core::Client<AliExpress>;

/// Builds a [`Client`]: [`AliExpress`] settings, then environment, HTTP
/// client and clock; everything is checked once, in `build`.
pub type ClientBuilder = oauth_core::ClientBuilder<AliExpress>;

mod sealed {
    pub trait Sealed {}
    impl Sealed for super::Client {}
}

/// What only an AliExpress [`Client`] does, beside the common operations.
///
/// Sealed: implemented for [`Client`] only. Every request goes through the
/// client's one sending path (scrubbing, receive time, tracing).
#[async_trait]
pub trait ClientExt: sealed::Sealed {
    /// The consent page URL for `state` with a `uuid` that binds the code to
    /// this flow: pass the same `uuid` to
    /// [`exchange_code_with_uuid`](Self::exchange_code_with_uuid). A blank
    /// `uuid` is left out.
    ///
    /// # Errors
    /// As [`Client::authorize_url`](oauth_core::Client::authorize_url).
    fn authorize_url_with_uuid(&self, state: &CsrfState, uuid: &str) -> Result<Url, Error>;

    /// Exchanges an authorization code (`/auth/token/create`) with the
    /// `uuid` given to [`authorize_url_with_uuid`](Self::authorize_url_with_uuid),
    /// if any (`None` or an empty one: as
    /// [`exchange_code`](oauth_core::Client::exchange_code)). Not retried
    /// once sent (codes are single-use).
    ///
    /// # Errors
    /// [`Error::Configuration`] for an empty code (before any request);
    /// [`Error::ReauthorizationRequired`] for a bad or used code; any other
    /// classified failure (see [`crate::error`]).
    async fn exchange_code_with_uuid(
        &self,
        code: &AuthorizationCode,
        uuid: Option<&str>,
    ) -> Result<TokenResponse, Error>;

    /// Signs an API call with `token`, timestamped now on the client's
    /// clock ([`ApiAuth::sign`](crate::ApiAuth::sign) of the client's
    /// attachment).
    ///
    /// # Errors
    /// As [`ApiRequest::sign`].
    fn sign_api_request(
        &self,
        request: &ApiRequest,
        token: &AccessToken,
    ) -> Result<SignedApiRequest, Error>;
}

#[async_trait]
impl ClientExt for Client {
    fn authorize_url_with_uuid(&self, state: &CsrfState, uuid: &str) -> Result<Url, Error> {
        Ok(with_uuid(self.authorize_url(state)?, uuid))
    }

    async fn exchange_code_with_uuid(
        &self,
        code: &AuthorizationCode,
        uuid: Option<&str>,
    ) -> Result<TokenResponse, Error> {
        let Some(uuid) = uuid.filter(|u| !u.is_empty()) else {
            return self.exchange_code(code).await;
        };
        if code.is_empty() {
            return Err(Error::configuration("the authorization code is empty"));
        }
        let request = self
            .provider()
            .create_request(&self.request_context(), code, Some(uuid))?;
        self.request_token(&request, &Grant::AuthorizationCode)
            .await
    }

    fn sign_api_request(
        &self,
        request: &ApiRequest,
        token: &AccessToken,
    ) -> Result<SignedApiRequest, Error> {
        self.attachment().sign(request, token)
    }
}
