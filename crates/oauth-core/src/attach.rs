//! Attaching an access token to an outgoing API request, the way each
//! provider wants it, with `http` types so it works with any HTTP client.

use crate::error::Error;
use crate::secret::AccessToken;
use http::{HeaderName, HeaderValue};

/// Puts an access token on an API request.
///
/// Header-based providers use [`HeaderToken`]; AliExpress signs the token
/// into the query string with its own implementation.
pub trait AttachToken {
    /// Adds the token (and whatever else the provider needs with it) to
    /// `request`. Header values carrying secrets are marked sensitive.
    ///
    /// # Errors
    /// [`Error::Configuration`] if the token cannot be carried (e.g. it
    /// contains characters not allowed in a header).
    fn attach_to<B>(
        &self,
        token: &AccessToken,
        request: &mut http::Request<B>,
    ) -> Result<(), Error>;
}

/// A token carried in a header, with an optional prefix:
/// `Authorization: Bearer <token>`, `Access-Token: Bearer <token>`,
/// `X-EBAY-API-IAF-TOKEN: <token>`.
#[derive(Debug, Clone)]
pub struct HeaderToken {
    name: HeaderName,
    prefix: &'static str,
}

impl HeaderToken {
    /// `Authorization: Bearer <token>` (RFC 6750).
    pub fn authorization_bearer() -> Self {
        Self {
            name: http::header::AUTHORIZATION,
            prefix: "Bearer ",
        }
    }

    /// `<name>: <prefix><token>`.
    pub fn new(name: HeaderName, prefix: &'static str) -> Self {
        Self { name, prefix }
    }

    /// The header name.
    pub fn name(&self) -> &HeaderName {
        &self.name
    }

    /// The header value for `token`, marked sensitive.
    ///
    /// # Errors
    /// [`Error::Configuration`] if the token is not a valid header value.
    pub fn value(&self, token: &AccessToken) -> Result<HeaderValue, Error> {
        sensitive_header_value(&format!("{}{}", self.prefix, token.expose_secret()))
    }
}

impl AttachToken for HeaderToken {
    fn attach_to<B>(
        &self,
        token: &AccessToken,
        request: &mut http::Request<B>,
    ) -> Result<(), Error> {
        let value = self.value(token)?;
        request.headers_mut().insert(self.name.clone(), value);
        Ok(())
    }
}

/// A header value marked sensitive (redacted in `Debug`, skipped by HTTP/2
/// header compression).
///
/// # Errors
/// [`Error::Configuration`] if `text` has characters not allowed in a header
/// (the text itself is not repeated).
pub fn sensitive_header_value(text: &str) -> Result<HeaderValue, Error> {
    let mut value = HeaderValue::from_str(text).map_err(|_| {
        Error::configuration("a token contains characters not allowed in an HTTP header")
    })?;
    value.set_sensitive(true);
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_header_is_attached_and_sensitive() {
        let mut request = http::Request::builder()
            .uri("https://api.example/x")
            .body(())
            .unwrap();
        HeaderToken::authorization_bearer()
            .attach_to(&AccessToken::new("SENTINEL-AT-1"), &mut request)
            .unwrap();
        let value = request.headers().get("authorization").unwrap();
        assert_eq!(value.to_str().unwrap(), "Bearer SENTINEL-AT-1");
        assert!(value.is_sensitive());
        assert!(!format!("{request:?}").contains("SENTINEL"));
        let err = HeaderToken::authorization_bearer()
            .attach_to(&AccessToken::new("bad\nSENTINEL"), &mut request)
            .unwrap_err();
        assert!(!err.to_string().contains("SENTINEL"));
    }
}
