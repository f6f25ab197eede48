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

use crate::PROVIDER;
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

/// Checks any IOP answer (a token call or an API call): `Ok(())` when
/// neither its status nor its body says it failed.
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
