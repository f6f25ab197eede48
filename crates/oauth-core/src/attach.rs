//! Attaching an access token to an outgoing API request, the way each
//! provider wants it, with `http` types so it works with any HTTP client.

use crate::error::Error;
use crate::secret::AccessToken;
use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue};
use std::fmt;

/// Puts an access token on an API request: a header (`Authorization:
/// Bearer`, eBay's `X-EBAY-API-IAF-TOKEN`, OrangeConnex's `Access-Token`)
/// or a signature over the query (AliExpress).
///
/// Object-safe: an `Arc<dyn AttachToken>` can be held for any provider.
/// Implementations work on the request's head
/// ([`http::request::Parts`]); [`AttachTokenExt::attach_to`] applies one
/// to a whole `http::Request<B>` whatever its body type.
pub trait AttachToken: Send + Sync + fmt::Debug {
    /// Adds the token (and whatever else the provider needs with it) to
    /// the head of a request. Header values carrying secrets are marked
    /// sensitive.
    ///
    /// # Errors
    /// [`Error::Configuration`] if the token cannot be carried (e.g. it
    /// contains characters not allowed in a header) or the request is not
    /// one the provider can sign; neither the token nor the URL is
    /// repeated.
    fn attach(&self, token: &AccessToken, head: &mut http::request::Parts) -> Result<(), Error>;

    /// The fast path, for an attachment that only inserts headers whose
    /// values depend on nothing but the token: writes them into `headers`
    /// and returns `Ok(true)`. `Ok(false)` (the default) means it needs the
    /// request's whole head ([`attach`](Self::attach): e.g. AliExpress
    /// signs the query) and nothing was written.
    ///
    /// An implementation that returns `Ok(true)` promises that
    /// [`attach`](Self::attach) does exactly this: inserts each header
    /// written (one value per name, replacing the request's own), touches
    /// nothing else. A caller may then skip building the head (no URL
    /// parsed) and compute the headers once per token, into an empty map,
    /// to insert clones of them into every request made with that token.
    ///
    /// # Errors
    /// As [`attach`](Self::attach).
    fn token_headers(&self, token: &AccessToken, headers: &mut HeaderMap) -> Result<bool, Error> {
        let _ = (token, headers);
        Ok(false)
    }
}

/// [`AttachToken`] on a whole `http::Request<B>`, for any attachment
/// (trait objects included).
pub trait AttachTokenExt: AttachToken {
    /// Adds the token to `request` (see [`AttachToken::attach`]). The body
    /// is not touched.
    ///
    /// # Errors
    /// As [`AttachToken::attach`]; `request` is left as it was.
    fn attach_to<B>(
        &self,
        token: &AccessToken,
        request: &mut http::Request<B>,
    ) -> Result<(), Error> {
        // Move the head out (swaps, no copy), attach, move it back.
        let (mut head, ()) = http::Request::new(()).into_parts();
        swap_head(&mut head, request);
        let before = (head.uri.clone(), head.headers.clone());
        let outcome = self.attach(token, &mut head);
        if outcome.is_err() {
            (head.uri, head.headers) = before;
        }
        swap_head(&mut head, request);
        outcome
    }
}

impl<T: AttachToken + ?Sized> AttachTokenExt for T {}

fn swap_head<B>(head: &mut http::request::Parts, request: &mut http::Request<B>) {
    std::mem::swap(&mut head.method, request.method_mut());
    std::mem::swap(&mut head.uri, request.uri_mut());
    std::mem::swap(&mut head.version, request.version_mut());
    std::mem::swap(&mut head.headers, request.headers_mut());
    std::mem::swap(&mut head.extensions, request.extensions_mut());
}

/// A token carried in a header, with an optional prefix:
/// `Authorization: Bearer <token>`, `Access-Token: Bearer <token>`,
/// `X-EBAY-API-IAF-TOKEN: <token>`.
#[derive(Debug, Clone, PartialEq, Eq)]
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
        // One allocation: the bytes are built in place and the header value
        // takes them over (checked, not copied).
        let token = token.expose_secret();
        let mut text = Vec::with_capacity(self.prefix.len() + token.len());
        text.extend_from_slice(self.prefix.as_bytes());
        text.extend_from_slice(token.as_bytes());
        // `HeaderValue::from_str`'s rule (visible ASCII and tabs), stricter
        // than `from_maybe_shared`'s (which lets bytes above 127 through).
        if !text.iter().all(|&b| b == b'\t' || (32..127).contains(&b)) {
            return Err(not_header());
        }
        let mut value =
            HeaderValue::from_maybe_shared(Bytes::from(text)).map_err(|_| not_header())?;
        value.set_sensitive(true);
        Ok(value)
    }
}

impl AttachToken for HeaderToken {
    fn attach(&self, token: &AccessToken, head: &mut http::request::Parts) -> Result<(), Error> {
        self.token_headers(token, &mut head.headers).map(drop)
    }

    fn token_headers(&self, token: &AccessToken, headers: &mut HeaderMap) -> Result<bool, Error> {
        let value = self.value(token)?;
        headers.insert(self.name.clone(), value);
        Ok(true)
    }
}

/// A header value marked sensitive (redacted in `Debug`, skipped by HTTP/2
/// header compression).
///
/// # Errors
/// [`Error::Configuration`] if `text` has characters not allowed in a header
/// (the text itself is not repeated).
pub fn sensitive_header_value(text: &str) -> Result<HeaderValue, Error> {
    let mut value = HeaderValue::from_str(text).map_err(|_| not_header())?;
    value.set_sensitive(true);
    Ok(value)
}

fn not_header() -> Error {
    Error::configuration("a token contains characters not allowed in an HTTP header")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

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

    #[test]
    fn works_as_a_trait_object_and_keeps_the_request_whole() {
        let attach: Arc<dyn AttachToken> = Arc::new(HeaderToken::new(
            HeaderName::from_static("access-token"),
            "Bearer ",
        ));
        let mut request = http::Request::post("https://api.example/x?a=1")
            .header("x-other", "1")
            .body(vec![1u8, 2, 3])
            .unwrap();
        attach
            .attach_to(&AccessToken::new("AT"), &mut request)
            .unwrap();
        assert_eq!(request.method(), http::Method::POST);
        assert_eq!(request.uri().query(), Some("a=1"));
        assert_eq!(request.headers()["x-other"], "1");
        assert_eq!(request.headers()["access-token"], "Bearer AT");
        assert_eq!(request.body(), &vec![1u8, 2, 3]);
        let before = request.headers().clone();
        assert!(
            attach
                .attach_to(&AccessToken::new("a\nb"), &mut request)
                .is_err()
        );
        assert_eq!(request.headers(), &before);
    }

    #[test]
    fn header_only_fast_path_matches_attach() {
        let token = AccessToken::new("SENTINEL-AT-2");
        let attach = HeaderToken::new(HeaderName::from_static("access-token"), "Bearer ");
        let mut headers = HeaderMap::new();
        assert!(attach.token_headers(&token, &mut headers).unwrap());
        let mut request = http::Request::new(());
        attach.attach_to(&token, &mut request).unwrap();
        assert_eq!(request.headers(), &headers);
        assert!(headers["access-token"].is_sensitive());
        // Not ASCII: refused, as `HeaderValue::from_str` would.
        for bad in ["caf\u{e9}", "a\x7fb", "a\rb"] {
            let err = attach
                .token_headers(&AccessToken::new(bad), &mut headers)
                .unwrap_err();
            assert!(!err.to_string().contains(bad));
        }
        assert_eq!(headers.len(), 1);
        // The default: the whole head is needed, nothing written.
        #[derive(Debug)]
        struct Whole;
        impl AttachToken for Whole {
            fn attach(&self, _: &AccessToken, _: &mut http::request::Parts) -> Result<(), Error> {
                Ok(())
            }
        }
        let mut empty = HeaderMap::new();
        assert!(!Whole.token_headers(&token, &mut empty).unwrap());
        assert!(empty.is_empty());
    }
}
