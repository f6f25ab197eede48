//! Using the access token on Eshopbox API calls.

use oauth_core::http_types::request::Parts;
use oauth_core::http_types::{HeaderValue, header};
use oauth_core::{AccessToken, AttachToken, Error, HeaderToken};

/// Puts an access token on an Eshopbox API request the way Eshopbox wants
/// it: `Authorization: Bearer <access_token>` (marked sensitive) and
/// `Content-Type: application/json`. It is the client's
/// [`attachment`](oauth_core::Client::attachment).
///
/// The content type is added only when the request has none, so an explicit
/// choice is never overwritten; the `Authorization` header is replaced.
///
/// ```
/// use oauth_core::http_types::Request;
/// use oauth_core::{AccessToken, AttachTokenExt};
/// use oauth_eshopbox::ApiAuth;
///
/// let mut request = Request::builder()
///     .method("GET")
///     .uri("https://wms.myeshopbox.com/api/v1/orders")
///     .body(())?;
/// ApiAuth.attach_to(&AccessToken::new("eyJhbGci"), &mut request)?;
/// assert_eq!(request.headers()["authorization"], "Bearer eyJhbGci");
/// assert_eq!(request.headers()["content-type"], "application/json");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ApiAuth;

impl AttachToken for ApiAuth {
    fn attach(&self, token: &AccessToken, head: &mut Parts) -> Result<(), Error> {
        HeaderToken::authorization_bearer().attach(token, head)?;
        head.headers
            .entry(header::CONTENT_TYPE)
            .or_insert(HeaderValue::from_static("application/json"));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
    use super::*;
    use oauth_core::AttachTokenExt;
    use oauth_core::http_types::Request;

    #[test]
    fn bearer_and_json_content_type() {
        let mut request = Request::builder()
            .uri("https://wms.myeshopbox.com/api/x")
            .header("authorization", "Bearer old")
            .body(())
            .unwrap();
        ApiAuth
            .attach_to(&AccessToken::new("SENTINEL-at-1"), &mut request)
            .unwrap();
        let auth: Vec<_> = request.headers().get_all("authorization").iter().collect();
        assert_eq!(auth.len(), 1);
        assert_eq!(auth[0], "Bearer SENTINEL-at-1");
        assert!(auth[0].is_sensitive());
        assert_eq!(request.headers()["content-type"], "application/json");
        assert!(!format!("{request:?}").contains("SENTINEL"));
    }

    #[test]
    fn explicit_content_type_is_kept() {
        let mut request = Request::builder()
            .uri("https://wms.myeshopbox.com/api/x")
            .header("content-type", "application/json; charset=utf-8")
            .body(())
            .unwrap();
        ApiAuth
            .attach_to(&AccessToken::new("at"), &mut request)
            .unwrap();
        assert_eq!(
            request.headers()["content-type"],
            "application/json; charset=utf-8"
        );
        let err = ApiAuth
            .attach_to(&AccessToken::new("bad\nSENTINEL"), &mut request)
            .unwrap_err();
        assert!(matches!(err, Error::Configuration { .. }));
        assert!(!err.to_string().contains("SENTINEL"));
    }
}
