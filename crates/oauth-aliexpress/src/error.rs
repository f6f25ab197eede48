//! AliExpress error bodies and their mapping to [`oauth_core::Error`].
//!
//! Two shapes are seen, on HTTP 200 **and** 400:
//! - shape A (`/rest`): `{"type":"ISV","code":"IllegalRefreshToken","message":"...","request_id":"..."}`
//! - shape B (`/sync`): `{"error_response":{"type":"ISV","code":"...","msg":"...","request_id":"..."}}`
//!
//! A top-level `code` of `"0"` means success. The mapping:
//!
//! | `code` | [`Error`] variant |
//! |---|---|
//! | `IllegalRefreshToken` | [`ReauthorizationRequired`](Error::ReauthorizationRequired) |
//! | `AUTH_TYPE_UNSUPPORTED` | [`RefreshNotSupported`](Error::RefreshNotSupported) |
//! | `IllegalAccessToken` | [`AccessTokenRejected`](Error::AccessTokenRejected) |
//! | `IncompleteSignature` | [`InvalidClient`](Error::InvalidClient) |
//! | `InvalidCode` (unconfirmed) | [`ReauthorizationRequired`](Error::ReauthorizationRequired) |
//! | anything else | [`Provider`](Error::Provider) |
//!
//! Every variant keeps the provider's code, message (sanitized) and request
//! id in its [`ProviderDetails`]. HTTP 429 and 5xx are classified by status
//! first ([`RateLimited`](Error::RateLimited), [`Transient`](Error::Transient)).
//!
//! # API calls
//! The same table classifies the answers of API calls
//! ([`Provider::classify_api_response`](oauth_core::Provider::classify_api_response)
//! of [`AliExpress`](crate::AliExpress), which is [`classify_api_response`]):
//! the gateway reports a refused access token **inside an HTTP 200** (or a
//! 400), so a middleware must read those bodies
//! ([`Provider::api_answer_needs_body`](oauth_core::Provider::api_answer_needs_body)):
//!
//! | answer | read by the middleware | [`Error`] variant |
//! |---|---|---|
//! | 2xx or 4xx (not 429), `Content-Type` JSON, `text/plain`, JavaScript or none | yes | as the body says: |
//! | &nbsp;&nbsp;`code` `IllegalAccessToken` (shape A or B) | | [`AccessTokenRejected`](Error::AccessTokenRejected): refresh, retry once |
//! | &nbsp;&nbsp;any other IOP `code` (not `"0"`) | | as the table above ([`Provider`](Error::Provider) for business errors) |
//! | &nbsp;&nbsp;no IOP error: 2xx | | `Ok` |
//! | &nbsp;&nbsp;no IOP error: 4xx | | [`Provider`](Error::Provider) (JSON) or [`UnexpectedResponse`](Error::UnexpectedResponse) |
//! | 2xx or 4xx with another content type (a file, an HTML page) | no | `Ok` / [`UnexpectedResponse`](Error::UnexpectedResponse) when classified |
//! | 429, 5xx | no | [`RateLimited`](Error::RateLimited), [`Transient`](Error::Transient) |
//!
//! Only `IllegalAccessToken` means a refused token: it is the one access
//! token code the platform documents (aliexpress.md, "Errors"); an HTTP 401
//! alone is not a verdict on the token (the gateway is not documented to
//! use it), and every other code (permissions, parameters, business
//! errors) stays what the table says, never a refused token: a refresh
//! would not fix it. Other access token codes (an expired-session code,
//! say) are *not documented*: [`ILLEGAL_ACCESS_TOKEN`] is matched exactly,
//! and `error_for_code` is the one place to add one.

use crate::PROVIDER;
use oauth_core::http_types::{HeaderMap, header};
use oauth_core::transport::classify::status_error;
use oauth_core::{Error, ProviderDetails, RawResponse};
use serde_json::{Map, Value};

/// The refresh token is invalid or expired: re-authorize.
pub const ILLEGAL_REFRESH_TOKEN: &str = "IllegalRefreshToken";
/// This authorization type cannot be refreshed: re-authorize.
pub const AUTH_TYPE_UNSUPPORTED: &str = "AUTH_TYPE_UNSUPPORTED";
/// The access token is invalid: refresh it, then retry once.
pub const ILLEGAL_ACCESS_TOKEN: &str = "IllegalAccessToken";
/// The signature is wrong: the app key or secret is wrong.
pub const INCOMPLETE_SIGNATURE: &str = "IncompleteSignature";
/// The authorization code is invalid or already used (unconfirmed code name).
pub const INVALID_CODE: &str = "InvalidCode";
/// The `code` of a successful answer.
pub const SUCCESS_CODE: &str = "0";

/// An IOP error body (shape A or B), leniently decoded.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct IopError {
    /// `type`: `ISV` (caller's fault), `ISP` (platform's), `SYSTEM`.
    pub error_type: Option<String>,
    /// `code`, e.g. `IllegalRefreshToken`.
    pub code: Option<String>,
    /// `message` (shape A) or `msg` (shape B), as sent (it is sanitized
    /// when it goes into an [`Error`]).
    pub message: Option<String>,
    /// `request_id`.
    pub request_id: Option<String>,
}

/// Text of a JSON value: strings (non-blank), numbers and booleans; `None`
/// for anything else, so that an odd field never hides the error.
fn text(object: &Map<String, Value>, key: &str) -> Option<String> {
    match object.get(key)? {
        Value::String(s) if !s.trim().is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

impl IopError {
    /// The error in a decoded JSON object, if it is one: an
    /// `error_response` object (shape B), or a top-level `code` other than
    /// `"0"` (shape A). `None` for a success body.
    pub fn from_object(object: &Map<String, Value>) -> Option<Self> {
        if let Some(Value::Object(inner)) = object.get("error_response") {
            return Some(Self::from_fields(inner));
        }
        match text(object, "code") {
            Some(code) if code.trim() != SUCCESS_CODE => Some(Self::from_fields(object)),
            _ => None,
        }
    }

    /// The error in `response`'s body, if its body is a JSON object that
    /// carries one. Decoding is bounded by the body (which the HTTP client
    /// caps at 64 KiB) and never panics.
    pub fn from_response(response: &RawResponse) -> Option<Self> {
        Self::from_object(&json_object(response)?)
    }

    fn from_fields(object: &Map<String, Value>) -> Self {
        Self {
            error_type: text(object, "type"),
            code: text(object, "code"),
            message: text(object, "message").or_else(|| text(object, "msg")),
            request_id: text(object, "request_id"),
        }
    }

    /// Details for an error from this body, with the HTTP `status`.
    pub fn details(&self, status: u16) -> ProviderDetails {
        let mut details = ProviderDetails::new(PROVIDER).with_status(status);
        if let Some(code) = &self.code {
            details = details.with_code(code);
        }
        if let Some(message) = &self.message {
            details = details.with_message(message);
        }
        if let Some(id) = &self.request_id {
            details = details.with_request_id(id);
        }
        details
    }

    /// The classified error (the table in the [module documentation](self)).
    pub fn to_error(&self, status: u16) -> Error {
        error_for_code(self.code.as_deref(), self.details(status))
    }
}

/// Maps an IOP error `code` to our error classes (table in the module
/// documentation); `details` are kept as given.
fn error_for_code(code: Option<&str>, details: ProviderDetails) -> Error {
    match code.map(str::trim) {
        Some(ILLEGAL_REFRESH_TOKEN | INVALID_CODE) => Error::ReauthorizationRequired { details },
        Some(AUTH_TYPE_UNSUPPORTED) => Error::RefreshNotSupported { details },
        Some(ILLEGAL_ACCESS_TOKEN) => Error::AccessTokenRejected { details },
        Some(INCOMPLETE_SIGNATURE) => Error::InvalidClient { details },
        _ => Error::Provider { details },
    }
}

/// The body as a JSON object, if it is one.
pub(crate) fn json_object(response: &RawResponse) -> Option<Map<String, Value>> {
    if !response.looks_like_json() {
        return None;
    }
    match serde_json::from_slice::<Value>(response.body()) {
        Ok(Value::Object(object)) => Some(object),
        _ => None,
    }
}

/// Whether an API call's answer with `status` and `headers` must be read:
/// a 2xx or 4xx (not 429) whose `Content-Type` is JSON, `text/plain`, JavaScript, or
/// absent (an IOP error, `IllegalAccessToken` included, hides in such a
/// body, on HTTP 200 as well as 400). Reads the head only.
pub(crate) fn api_answer_needs_body(status: u16, headers: &HeaderMap) -> bool {
    // 429 is classified by its status alone.
    if status == 429 || !matches!(status, 200..=299 | 400..=499) {
        return false;
    }
    let Some(content_type) = headers.get(header::CONTENT_TYPE) else {
        return true;
    };
    let Ok(content_type) = content_type.to_str() else {
        return false;
    };
    let essence = oauth_core::transport::classify::media_type(content_type);
    essence.is_empty()
        || essence.ends_with("/json")
        || essence.ends_with("+json")
        || matches!(
            essence.as_str(),
            "text/plain" | "text/javascript" | "application/javascript"
        )
}

/// Checks any IOP answer (a token call or an API call): `Ok(())` when
/// neither its status nor its body says it failed. It is what
/// [`AliExpress`](crate::AliExpress)'s
/// [`Provider::classify_api_response`](oauth_core::Provider::classify_api_response)
/// does (the same function; this one needs no settings), and what the
/// token decoder runs first.
///
/// Order: 429 and 5xx (and refused redirects) by status; then an IOP error
/// body (shape A or B) on any status; then any other non-2xx status is a
/// [`Error::Provider`] (JSON body) or [`Error::UnexpectedResponse`]
/// (anything else). Use it on API responses to learn that the access token
/// was rejected ([`Error::AccessTokenRejected`]).
///
/// # Errors
/// The classified failure.
pub fn classify_api_response(response: &RawResponse) -> Result<(), Error> {
    let object = json_object(response);
    let iop_error = object.as_ref().and_then(IopError::from_object);
    let details = match &iop_error {
        Some(error) => error.details(response.status()),
        None => ProviderDetails::new(PROVIDER).with_status(response.status()),
    };
    if let Some(error) = status_error(response, details.clone()) {
        return Err(error);
    }
    if let Some(error) = iop_error {
        return Err(error.to_error(response.status()));
    }
    if response.is_success() {
        return Ok(());
    }
    match object {
        Some(_) => Err(Error::Provider { details }),
        None => Err(response.unexpected("error status without a JSON error body")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resp(status: u16, body: &str) -> RawResponse {
        RawResponse::new(PROVIDER, status, Some("application/json"), body.to_owned())
    }

    #[test]
    fn success_code_zero_is_not_an_error() {
        assert!(classify_api_response(&resp(200, r#"{"code":"0","access_token":"x"}"#)).is_ok());
        assert!(classify_api_response(&resp(200, r#"{"code":0}"#)).is_ok());
        assert!(classify_api_response(&resp(200, r#"{"access_token":"x"}"#)).is_ok());
    }

    #[test]
    fn odd_field_types_do_not_hide_the_error() {
        let err = classify_api_response(&resp(
            200,
            r#"{"code":"IllegalRefreshToken","message":{"x":1},"request_id":7}"#,
        ))
        .unwrap_err();
        assert!(matches!(err, Error::ReauthorizationRequired { .. }));
        assert_eq!(err.request_id(), Some("7"));
        let err = classify_api_response(&resp(200, r#"{"error_response":{"msg":"no code"}}"#))
            .unwrap_err();
        assert!(matches!(err, Error::Provider { .. }), "{err:?}");
    }

    #[test]
    fn non_json_bodies() {
        let err = classify_api_response(&RawResponse::new(
            PROVIDER,
            400,
            Some("text/html"),
            "<h1>x</h1>",
        ))
        .unwrap_err();
        assert!(matches!(
            err,
            Error::UnexpectedResponse {
                status: Some(400),
                ..
            }
        ));
        let err = classify_api_response(&resp(400, "{}")).unwrap_err();
        assert!(matches!(err, Error::Provider { .. }));
        let err = classify_api_response(&resp(503, "{}")).unwrap_err();
        assert!(err.is_retryable());
    }
}
