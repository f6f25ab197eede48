//! Using the access token on OrangeConnex API calls.
//!
//! Every business API call (`<base>/openapi/...`, e.g.
//! `/openapi/3pp/sku/v3/creation`) carries two headers:
//!
//! ```text
//! Access-Token: Bearer <access_token>
//! clientKey: <client key>
//! ```
//!
//! [`ApiAuth`] adds both, marked sensitive, to any [`http::Request`](oauth_core::http_types::Request).
//!
//! - `getServiceList` needs neither header: call it without [`ApiAuth`].
//! - The SKU pages also list a `vAuthorization` header whose content is not
//!   documented in any source we have; it is out of scope until OrangeConnex
//!   documents it, and [`ApiAuth`] does not set it.

use crate::grant::CLIENT_KEY_HEADER;
use oauth_core::http_types::request::Parts;
use oauth_core::http_types::{HeaderMap, HeaderName, HeaderValue};
use oauth_core::{AccessToken, AttachToken, ClientKey, Error, HeaderToken, sensitive_header_value};
use std::fmt;

/// The header that carries the access token on API calls.
pub const ACCESS_TOKEN_HEADER: HeaderName = HeaderName::from_static("access-token");

/// Attaches `Access-Token: Bearer <token>` and, when a client key is
/// configured, `clientKey: <key>` to API requests. Both values are marked
/// sensitive (redacted in `Debug`).
///
/// ```
/// use oauth_core::{AccessToken, AttachTokenExt, ClientKey};
/// use oauth_core::http_types::Request;
/// use oauth_orangeconnex::ApiAuth;
///
/// let auth = ApiAuth::new(Some(ClientKey::new("my-client-key")))?;
/// let mut request = Request::post("https://openapi-stage-hk.orangeconnex.com/openapi/3pp/sku/v3/creation")
///     .body(())
///     .map_err(|_| oauth_core::Error::configuration("bad request"))?;
/// auth.attach_to(&AccessToken::new("access-token-1"), &mut request)?;
/// assert_eq!(request.headers()["access-token"], "Bearer access-token-1");
/// assert_eq!(request.headers()["clientkey"], "my-client-key");
/// # Ok::<(), oauth_core::Error>(())
/// ```
#[derive(Clone)]
pub struct ApiAuth {
    token: HeaderToken,
    client_key: Option<HeaderValue>,
}

impl fmt::Debug for ApiAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiAuth")
            .field("header", self.token.name())
            .field(
                "client_key",
                &self.client_key.as_ref().map(|_| "[REDACTED]"),
            )
            .finish()
    }
}

impl ApiAuth {
    /// Attaches the access token, and `client_key` when given.
    ///
    /// # Errors
    /// [`Error::Configuration`] if the client key has characters not allowed
    /// in a header (the key itself is not repeated).
    pub fn new(client_key: Option<ClientKey>) -> Result<Self, Error> {
        let client_key = match client_key {
            Some(key) => Some(sensitive_header_value(key.expose_secret())?),
            None => None,
        };
        Ok(Self::from_header(client_key))
    }

    /// With a client key already checked as a header value.
    pub(crate) fn from_header(client_key: Option<HeaderValue>) -> Self {
        Self {
            token: HeaderToken::new(ACCESS_TOKEN_HEADER, "Bearer "),
            client_key,
        }
    }

    /// Whether a `clientKey` header is attached.
    pub fn has_client_key(&self) -> bool {
        self.client_key.is_some()
    }
}

impl AttachToken for ApiAuth {
    fn attach(&self, token: &AccessToken, head: &mut Parts) -> Result<(), Error> {
        self.token_headers(token, &mut head.headers).map(drop)
    }

    /// `Access-Token` and `clientKey`, inserted: the fast path (no URL
    /// parsed, the values built once per token by a caller that caches
    /// them).
    fn token_headers(&self, token: &AccessToken, headers: &mut HeaderMap) -> Result<bool, Error> {
        self.token.token_headers(token, headers)?;
        if let Some(key) = &self.client_key {
            headers.insert(CLIENT_KEY_HEADER, key.clone());
        }
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use oauth_core::AttachTokenExt;
    use oauth_core::http_types::Request;

    #[test]
    fn headers_are_attached_and_sensitive() {
        let auth = ApiAuth::new(Some(ClientKey::new("SENTINEL-key-1234567"))).unwrap();
        let mut request = Request::get("https://h.example/openapi/x")
            .body(())
            .unwrap();
        auth.attach_to(&AccessToken::new("SENTINEL-at-1234567"), &mut request)
            .unwrap();
        let token = &request.headers()["access-token"];
        assert_eq!(token, "Bearer SENTINEL-at-1234567");
        assert!(token.is_sensitive());
        let key = &request.headers()["clientkey"];
        assert_eq!(key, "SENTINEL-key-1234567");
        assert!(key.is_sensitive());
        assert_eq!(request.headers().len(), 2);
        let debug = format!("{request:?} {auth:?}");
        assert!(!debug.contains("SENTINEL"), "{debug}");

        let mut bare = Request::get("https://h.example/openapi/x")
            .body(())
            .unwrap();
        ApiAuth::new(None)
            .unwrap()
            .attach_to(&AccessToken::new("t"), &mut bare)
            .unwrap();
        assert_eq!(bare.headers().len(), 1);
        assert!(bare.headers().get("clientkey").is_none());
    }
}
