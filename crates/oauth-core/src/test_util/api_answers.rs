//! A provider's answers to API calls as the middleware sees them, for the
//! provider crates' tests of [`Provider::api_answer_needs_body`] and
//! [`Provider::classify_api_response`]: an answer built from a status, a
//! `Content-Type` and a body, read or not as the head decides.

use crate::error::Error;
use crate::provider::Provider;
use crate::transport::RawResponse;
use http::{HeaderMap, HeaderValue, header};

/// The head of an answer: its `Content-Type`, if any.
///
/// # Panics
/// If `content_type` is not a valid header value (a test's mistake).
pub fn headers(content_type: Option<&str>) -> HeaderMap {
    let mut headers = HeaderMap::new();
    if let Some(content_type) = content_type {
        let value = HeaderValue::from_str(content_type);
        assert!(
            value.is_ok(),
            "invalid Content-Type in a test: {content_type:?}"
        );
        if let Ok(value) = value {
            headers.insert(header::CONTENT_TYPE, value);
        }
    }
    headers
}

/// The answer as [`RawResponse::from_http`] builds it for `provider`.
pub fn response<P: Provider>(
    provider: &P,
    status: u16,
    content_type: Option<&str>,
    body: impl Into<Vec<u8>>,
) -> RawResponse {
    RawResponse::from_http(provider.name(), status, &headers(content_type), body.into())
}

/// What the middleware does with the answer: `None` when the head alone
/// says it is no token problem (the body is not read), otherwise the
/// provider's classification of the whole answer.
pub fn middleware_view<P: Provider>(
    provider: &P,
    status: u16,
    content_type: Option<&str>,
    body: impl Into<Vec<u8>>,
) -> Option<Result<(), Error>> {
    if !provider.api_answer_needs_body(status, &headers(content_type)) {
        return None;
    }
    Some(classify(provider, status, content_type, body))
}

/// The provider's classification of the answer, body read.
///
/// # Errors
/// The answer's class, when it is not a success.
pub fn classify<P: Provider>(
    provider: &P,
    status: u16,
    content_type: Option<&str>,
    body: impl Into<Vec<u8>>,
) -> Result<(), Error> {
    provider.classify_api_response(&response(provider, status, content_type, body))
}
