//! The settings of an OrangeConnex 3PP application ([`OrangeConnex`]), its
//! environments, and the [`Provider`] implementation that `oauth-core`'s
//! client runs.

use crate::api::ApiAuth;
use crate::grant::{AUTHORIZATION_CODE, CLIENT_KEY_HEADER, REFRESH_TOKEN};
use crate::token::TokenResponse;
use crate::{AUTHORIZE_PATH, PROVIDER, TOKEN_PATH};
use oauth_core::http_types::HeaderValue;
use oauth_core::url::Url;
use oauth_core::{
    AttachContext, AuthorizationCode, ClientId, ClientKey, CsrfState, Endpoints, Environment,
    Error, Grant, Params, Provider, ProviderDetails, RawResponse, RequestContext, TokenRequest,
    TokenSet, http_types, sensitive_header_value,
};
use std::time::SystemTime;

/// Base URL of the production environment.
///
/// *Unconfirmed* for the token endpoint: OrangeConnex documents this host for
/// `getAuthorizationCode` only; the token endpoint is assumed to live on the
/// same host. If it turns out to differ, use [`Environment::Custom`].
pub const PRODUCTION_BASE_URL: &str = "https://openapi-hk.orangeconnex.com";

/// Base URL of the sandbox ("stage") environment.
pub const SANDBOX_BASE_URL: &str = "https://openapi-stage-hk.orangeconnex.com";

/// The settings of one OrangeConnex 3PP application: the client id, the
/// redirect URI and the optional client key. Give it to
/// [`Client::builder`](crate::Client): the client checks it once
/// ([`Provider::validate`]) and does the rest.
///
/// ```
/// use oauth_orangeconnex::{Client, ClientKey, Environment, OrangeConnex};
///
/// let client = Client::builder(
///     OrangeConnex::new("my-3pp-client-id", "https://app.example/oc/callback")
///         .client_key(ClientKey::new("my-client-key")),
/// )
/// .environment(Environment::Sandbox)
/// .build()?;
/// assert_eq!(client.provider().client_id().as_str(), "my-3pp-client-id");
/// # Ok::<(), oauth_core::Error>(())
/// ```
///
/// `Debug` never shows the client key.
#[derive(Debug, Clone)]
pub struct OrangeConnex {
    client_id: ClientId,
    redirect_uri: String,
    client_key: Option<ClientKey>,
}

impl OrangeConnex {
    /// Settings for the 3PP `client_id` issued by OrangeConnex and the
    /// `redirect_uri` registered with it (sent verbatim, byte for byte, in
    /// the authorize URL and the code exchange).
    pub fn new(client_id: impl Into<ClientId>, redirect_uri: impl Into<String>) -> Self {
        Self {
            client_id: client_id.into(),
            redirect_uri: redirect_uri.into(),
            client_key: None,
        }
    }

    /// The partner's `clientKey`, sent as a header on token requests and API
    /// calls. Optional for the token endpoint; API calls need it.
    pub fn client_key(mut self, client_key: ClientKey) -> Self {
        self.client_key = Some(client_key);
        self
    }

    /// The 3PP client id.
    pub fn client_id(&self) -> &ClientId {
        &self.client_id
    }

    /// The redirect URI, as configured.
    pub fn redirect_uri(&self) -> &str {
        &self.redirect_uri
    }

    /// The client key, if configured.
    pub fn configured_client_key(&self) -> Option<&ClientKey> {
        self.client_key.as_ref()
    }

    /// The client key as a header value, marked sensitive.
    pub(crate) fn client_key_header(&self) -> Result<Option<HeaderValue>, Error> {
        match &self.client_key {
            Some(key) if key.is_empty() => Err(Error::configuration(
                "OrangeConnex client key is empty (leave it unset instead)",
            )),
            Some(key) => sensitive_header_value(key.expose_secret())
                .map(Some)
                .map_err(|_| {
                    Error::configuration(
                        "OrangeConnex client key contains characters not allowed in an HTTP header",
                    )
                }),
            None => Ok(None),
        }
    }

    /// A `POST <token endpoint>?<query>` with an empty body and the
    /// `clientKey` header when configured.
    pub(crate) fn token_request(
        &self,
        context: &RequestContext<'_>,
        grant: &'static str,
        query: Params,
    ) -> Result<TokenRequest, Error> {
        let mut request = TokenRequest::post(PROVIDER, grant, context.endpoints.token().clone())
            .query(query)
            // A code is single-use and a refresh may rotate the refresh
            // token: never repeat either after a 5xx or a timeout.
            .retry_safe(false);
        if let Some(value) = self.client_key_header()? {
            request = request.header(CLIENT_KEY_HEADER, value, true);
        }
        Ok(request)
    }
}

impl Provider for OrangeConnex {
    type TokenResponse = TokenResponse;
    type Attachment = ApiAuth;

    fn name(&self) -> &'static str {
        PROVIDER
    }

    /// `true`, conservatively: whether OrangeConnex rotates refresh tokens
    /// is *unconfirmed*. The lifecycle therefore persists every refreshed
    /// set before using it and never repeats a refresh request blindly,
    /// which is correct whichever way OrangeConnex behaves.
    fn rotates_refresh_tokens(&self) -> bool {
        true
    }

    /// Refuses an empty client id, an empty, padded or relative redirect
    /// URI, and an empty client key or one that cannot be a header value;
    /// the values themselves are never repeated.
    fn validate(&self) -> Result<(), Error> {
        if self.client_id.as_str().trim().is_empty() {
            return Err(Error::configuration("OrangeConnex client id is empty"));
        }
        if self.redirect_uri.trim().is_empty() {
            return Err(Error::configuration("OrangeConnex redirect URI is empty"));
        }
        if self.redirect_uri.trim() != self.redirect_uri {
            return Err(Error::configuration(
                "OrangeConnex redirect URI has leading or trailing whitespace",
            ));
        }
        Url::parse(&self.redirect_uri).map_err(|_| {
            Error::configuration("OrangeConnex redirect URI is not an absolute URL")
        })?;
        self.client_key_header().map(drop)
    }

    /// `<base>/oauth/authorize`, `<base>/oauth/token`, and the base itself
    /// for the APIs (`<base>/openapi/...`), where the base is
    /// [`PRODUCTION_BASE_URL`], [`SANDBOX_BASE_URL`] or the custom one.
    fn endpoints(&self, environment: &Environment) -> Result<Endpoints, Error> {
        let base = environment.base(PROVIDER, PRODUCTION_BASE_URL, Some(SANDBOX_BASE_URL))?;
        Ok(Endpoints::new(base.join_path(TOKEN_PATH))
            .with_authorize(base.join_path(AUTHORIZE_PATH))
            .with_api(base.as_url().clone()))
    }

    /// `response_type=code&client_id=..&redirect_uri=..&state=..`: all four
    /// are required by OrangeConnex and always present; there is no scope.
    /// Keep `state` in the seller's session and check it with
    /// [`oauth_core::parse_callback`] when they come back.
    fn authorize_params(&self, state: &CsrfState) -> Result<Vec<(&'static str, String)>, Error> {
        Ok(vec![
            ("response_type", "code".to_owned()),
            ("client_id", self.client_id.as_str().to_owned()),
            ("redirect_uri", self.redirect_uri.clone()),
            ("state", state.as_str().to_owned()),
        ])
    }

    /// `POST <base>/oauth/token?client_id=..&grant_type=authorization_code&redirect_uri=..&code=..`,
    /// empty body, `clientKey` header when a client key is configured.
    ///
    /// `code` is the value decoded once from the callback (as
    /// [`oauth_core::parse_callback`] returns it); it is percent-encoded
    /// exactly once here, so a code that is itself URL-encoded base64
    /// (`...%2F...`) goes on the wire as `...%252F...`, as OrangeConnex's
    /// documentation shows.
    fn exchange_request(
        &self,
        context: &RequestContext<'_>,
        code: &AuthorizationCode,
    ) -> Result<TokenRequest, Error> {
        let query = Params::new()
            .plain("client_id", self.client_id.as_str())
            .plain("grant_type", AUTHORIZATION_CODE)
            .plain("redirect_uri", self.redirect_uri.as_str())
            .secret("code", code.expose_secret());
        self.token_request(context, AUTHORIZATION_CODE, query)
    }

    /// `POST <base>/oauth/token?client_id=..&grant_type=refresh_token&refresh_token=..`,
    /// empty body, `clientKey` header when a client key is configured.
    /// Without a stored refresh token nothing is sent: the seller must
    /// authorize again.
    fn refresh_request(
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
            .plain("client_id", self.client_id.as_str())
            .plain("grant_type", REFRESH_TOKEN)
            .secret("refresh_token", refresh_token.expose_secret());
        self.token_request(context, REFRESH_TOKEN, query)
    }

    fn decode_token_response(
        &self,
        response: &RawResponse,
        _grant: &Grant<'_>,
        received_at: SystemTime,
    ) -> Result<TokenResponse, Error> {
        TokenResponse::decode(response, received_at)
    }

    fn refreshed(&self, response: TokenResponse, current: &TokenSet) -> TokenSet {
        crate::grant::refreshed(response, current)
    }

    fn attachment(&self, _context: &AttachContext<'_>) -> ApiAuth {
        // `validate` refused a client key that is not a header value before
        // the client asks for its attachment.
        ApiAuth::from_header(self.client_key_header().ok().flatten())
    }

    /// A 401 only (RFC 6750: a refused bearer token); every other answer
    /// passes through unread. See the [crate documentation](crate#errors-of-api-calls).
    fn api_answer_needs_body(&self, status: u16, headers: &http_types::HeaderMap) -> bool {
        crate::api_answer::needs_body(status, headers)
    }

    /// `invalid_token` / `expired_token`, or a 401 without another reason,
    /// is [`Error::AccessTokenRejected`]; a client-key complaint
    /// [`Error::InvalidClient`]; a scope or permission problem
    /// [`Error::Provider`]. See the [crate documentation](crate#errors-of-api-calls).
    fn classify_api_response(&self, response: &RawResponse) -> Result<(), Error> {
        crate::api_answer::classify(response)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Client;
    use oauth_core::EndpointUrl;

    #[test]
    fn built_in_environments_have_valid_urls() {
        let client = Client::builder(OrangeConnex::new("id", "https://app.example/cb"))
            .environment(Environment::Production)
            .build()
            .unwrap();
        assert_eq!(
            client.endpoints().token().as_str(),
            "https://openapi-hk.orangeconnex.com/oauth/token"
        );
        assert_eq!(
            client.endpoints().authorize().unwrap().as_str(),
            "https://openapi-hk.orangeconnex.com/oauth/authorize"
        );
        let client = Client::builder(OrangeConnex::new("id", "https://app.example/cb"))
            .environment(Environment::Sandbox)
            .build()
            .unwrap();
        assert_eq!(
            client.endpoints().token().as_str(),
            "https://openapi-stage-hk.orangeconnex.com/oauth/token"
        );
        assert_eq!(
            client.endpoints().api().unwrap().as_str(),
            "https://openapi-stage-hk.orangeconnex.com/"
        );
    }

    #[test]
    fn custom_base_path_is_kept() {
        let base = EndpointUrl::parse("http://127.0.0.1:9000/orangeconnex/").unwrap();
        let client = Client::builder(OrangeConnex::new("id", "https://app.example/cb"))
            .environment(Environment::Custom(base))
            .build()
            .unwrap();
        assert_eq!(
            client.endpoints().token().as_str(),
            "http://127.0.0.1:9000/orangeconnex/oauth/token"
        );
    }

    #[test]
    fn invalid_settings_are_refused() {
        let cases = [
            OrangeConnex::new("", "https://app.example/cb"),
            OrangeConnex::new("  ", "https://app.example/cb"),
            OrangeConnex::new("id", ""),
            OrangeConnex::new("id", "/relative/cb"),
            OrangeConnex::new("id", " https://app.example/cb"),
            OrangeConnex::new("id", "https://app.example/cb").client_key(ClientKey::new("")),
            OrangeConnex::new("id", "https://app.example/cb").client_key(ClientKey::new("k\nx")),
        ];
        for settings in cases {
            let err = Client::builder(settings).build().unwrap_err();
            assert!(matches!(err, Error::Configuration { .. }), "{err:?}");
        }
    }
}
