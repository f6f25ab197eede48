//! The settings of one custom app ([`Eshopbox`]) and where its token
//! endpoint is.

use crate::PROVIDER;
use oauth_core::{ClientId, ClientSecret, Params, RefreshToken, RequestContext, TokenRequest};

/// The production token endpoint (the same for every workspace):
/// [`PRODUCTION_BASE_URL`] + [`TOKEN_PATH`].
pub const PRODUCTION_TOKEN_URL: &str = "https://auth.myeshopbox.com/api/v1/generateToken";

/// The base URL of Eshopbox's authentication API in production.
pub const PRODUCTION_BASE_URL: &str = "https://auth.myeshopbox.com";

/// The token endpoint's path under the base URL (the default of
/// [`Eshopbox::token_path`]).
pub const TOKEN_PATH: &str = "/api/v1/generateToken";

/// The grant name of the token request, in tracing.
pub(crate) const REFRESH_GRANT: &str = "refresh_token";

/// The settings of one Eshopbox custom app (one workspace): the three values
/// the app shows, and the token path. Give it to
/// [`Client::builder`](crate::Client::builder).
///
/// Eshopbox has no sandbox host (test mode is a development *workspace* on
/// the production endpoint): [`Environment::Sandbox`](crate::Environment::Sandbox) is a configuration
/// error; [`Environment::Custom`](crate::Environment::Custom) is a base URL (a local emulator, a proxy)
/// that [`TOKEN_PATH`] is appended to.
///
/// `Debug` never shows the client secret or the refresh token.
#[derive(Debug, Clone)]
pub struct Eshopbox {
    pub(crate) client_id: ClientId,
    pub(crate) client_secret: ClientSecret,
    pub(crate) refresh_token: RefreshToken,
    pub(crate) token_path: String,
}

impl Eshopbox {
    /// The three values a custom app shows (Apps > Create a custom app):
    /// client id, client secret and the app's long-lived refresh token.
    pub fn new(
        client_id: impl Into<ClientId>,
        client_secret: ClientSecret,
        refresh_token: RefreshToken,
    ) -> Self {
        Self {
            client_id: client_id.into(),
            client_secret,
            refresh_token,
            token_path: TOKEN_PATH.to_owned(),
        }
    }

    /// The token endpoint's path under the environment's base URL (default
    /// [`TOKEN_PATH`]). The documentation's prose also speaks of "the
    /// /oauth/token endpoint", while the URL it gives, and every client,
    /// uses `/api/v1/generateToken`; a proxy may serve the grant elsewhere.
    pub fn token_path(mut self, path: impl Into<String>) -> Self {
        self.token_path = path.into();
        self
    }

    /// The client id.
    pub fn client_id(&self) -> &ClientId {
        &self.client_id
    }

    /// The refresh token the client was built with: the first token set is
    /// minted with it, and a set without refresh token is refreshed with it.
    pub fn refresh_token(&self) -> &RefreshToken {
        &self.refresh_token
    }

    /// The request of the refresh grant with `refresh_token`:
    /// `POST <token url>` with `Content-Type: application/json` and the body
    /// `{"client_id":"…","client_secret":"…","grant_type":"refresh_token","refresh_token":"…"}`.
    ///
    /// The secret and the refresh token travel only in the body (never in
    /// the URL or a header). The request is safe to retry after a 5xx, 429 or
    /// timeout: Eshopbox does not rotate the refresh token.
    pub fn grant_request(
        &self,
        context: &RequestContext<'_>,
        refresh_token: &RefreshToken,
    ) -> TokenRequest {
        let body = Params::new()
            .plain("client_id", self.client_id.as_str())
            .secret("client_secret", self.client_secret.expose_secret())
            .plain("grant_type", "refresh_token")
            .secret("refresh_token", refresh_token.expose_secret());
        TokenRequest::post(PROVIDER, REFRESH_GRANT, context.endpoints.token().clone())
            .json(body)
            .retry_safe(true)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use crate::Client;
    use oauth_core::{Environment, Error, RefreshGrant};
    use std::time::Duration;

    fn settings() -> Eshopbox {
        Eshopbox::new(
            "cid",
            ClientSecret::new("SENTINEL-cs-1"),
            RefreshToken::new("SENTINEL-rt-1"),
        )
    }

    #[test]
    fn defaults_to_production() {
        let client = Client::builder(settings()).build().unwrap();
        assert_eq!(client.endpoints().token().as_str(), PRODUCTION_TOKEN_URL);
        assert_eq!(
            format!("{PRODUCTION_BASE_URL}{TOKEN_PATH}"),
            PRODUCTION_TOKEN_URL
        );
        assert_eq!(client.environment(), &Environment::Production);
        assert_eq!(client.default_refresh_skew(), Duration::from_secs(300));
        let debug = format!("{client:?} {:?}", Client::builder(settings()));
        assert!(!debug.contains("SENTINEL"), "{debug}");
    }

    #[test]
    fn custom_base_gets_the_token_path() {
        let token_url = |settings: Eshopbox| {
            let custom = Environment::custom("http://127.0.0.1:9/x").unwrap();
            let client = Client::builder(settings).environment(custom).build();
            client.unwrap().endpoints().token().to_string()
        };
        assert_eq!(
            token_url(settings()),
            "http://127.0.0.1:9/x/api/v1/generateToken"
        );
        assert_eq!(
            token_url(settings().token_path("/oauth/token")),
            "http://127.0.0.1:9/x/oauth/token"
        );
        assert!(Environment::custom("http://example.com/token").is_err());
    }

    /// Eshopbox has no sandbox host (core's message says so).
    #[test]
    fn there_is_no_sandbox() {
        let sandbox = Client::builder(settings()).environment(Environment::Sandbox);
        assert!(matches!(sandbox.build(), Err(Error::Configuration { .. })));
    }

    #[test]
    fn empty_values_are_refused() {
        let cases = [
            Eshopbox::new("", ClientSecret::new("s"), RefreshToken::new("r")),
            Eshopbox::new(" ", ClientSecret::new("s"), RefreshToken::new("r")),
            Eshopbox::new("c", ClientSecret::new(""), RefreshToken::new("r")),
            Eshopbox::new("c", ClientSecret::new("s"), RefreshToken::new(" ")),
        ];
        for case in cases {
            let err = Client::builder(case).build().unwrap_err();
            assert!(matches!(err, Error::Configuration { .. }), "{err:?}");
        }
    }
}
