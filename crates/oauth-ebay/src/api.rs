//! Using an access token on eBay API calls.

use oauth_core::http_types::{HeaderMap, HeaderName, HeaderValue, request};
use oauth_core::{AccessToken, AttachToken, Error, HeaderToken};

/// The header the Trading (XML) API reads an OAuth token from.
pub const TRADING_TOKEN_HEADER: &str = "x-ebay-api-iaf-token";

/// Which eBay API a token goes to, and so how it is carried: the
/// [`Provider::Attachment`](oauth_core::Provider::Attachment) of
/// [`Ebay`](crate::Ebay). [`Client::attachment`](oauth_core::Client::attachment)
/// is [`ApiAuth::Rest`].
///
/// ```
/// use oauth_core::{AccessToken, AttachTokenExt, http_types};
/// use oauth_ebay::ApiAuth;
///
/// let token = AccessToken::new("v^1.1#i^1#p^3#r^1");
/// let mut request = http_types::Request::get("https://api.ebay.com/sell/inventory/v1/inventory_item")
///     .body(())?;
/// ApiAuth::Rest.attach_to(&token, &mut request)?;
/// assert_eq!(request.headers()["authorization"], "Bearer v^1.1#i^1#p^3#r^1");
///
/// let mut trading = http_types::Request::post("https://api.ebay.com/ws/api.dll").body(())?;
/// ApiAuth::Trading.attach_to(&token, &mut trading)?;
/// assert_eq!(trading.headers()["x-ebay-api-iaf-token"], "v^1.1#i^1#p^3#r^1");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ApiAuth {
    /// REST APIs (Sell, Buy, Commerce, ...): `Authorization: Bearer <token>`.
    Rest,
    /// The Trading (XML) API: `X-EBAY-API-IAF-TOKEN: <token>`.
    Trading,
}

impl ApiAuth {
    /// The header that carries the token, with its prefix.
    pub fn header(self) -> HeaderToken {
        match self {
            Self::Rest => HeaderToken::authorization_bearer(),
            Self::Trading => HeaderToken::new(HeaderName::from_static(TRADING_TOKEN_HEADER), ""),
        }
    }

    /// The header name.
    pub fn header_name(self) -> HeaderName {
        self.header().name().clone()
    }

    /// The header value for `token`, marked sensitive.
    ///
    /// # Errors
    /// [`Error::Configuration`] if the token is not a valid header value.
    pub fn header_value(self, token: &AccessToken) -> Result<HeaderValue, Error> {
        self.header().value(token)
    }
}

impl AttachToken for ApiAuth {
    fn attach(&self, token: &AccessToken, head: &mut request::Parts) -> Result<(), Error> {
        self.header().attach(token, head)
    }

    /// One header: the fast path (no URL parsed, the value built once per
    /// token by a caller that caches it).
    fn token_headers(&self, token: &AccessToken, headers: &mut HeaderMap) -> Result<bool, Error> {
        self.header().token_headers(token, headers)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use oauth_core::{AttachTokenExt, http_types};

    #[test]
    fn headers_are_exact_and_sensitive() {
        let token = AccessToken::new("SENTINEL-at");
        let rest = ApiAuth::Rest.header_value(&token).unwrap();
        assert_eq!(rest.to_str().unwrap(), "Bearer SENTINEL-at");
        assert!(rest.is_sensitive());
        assert_eq!(ApiAuth::Rest.header_name().as_str(), "authorization");
        let trading = ApiAuth::Trading.header_value(&token).unwrap();
        assert_eq!(trading.to_str().unwrap(), "SENTINEL-at");
        assert!(trading.is_sensitive());
        assert_eq!(
            ApiAuth::Trading.header_name().as_str(),
            "x-ebay-api-iaf-token"
        );
        let mut request = http_types::Request::new(());
        ApiAuth::Trading.attach_to(&token, &mut request).unwrap();
        assert_eq!(request.headers().len(), 1);
        assert!(!format!("{request:?}").contains("SENTINEL"));
    }
}
