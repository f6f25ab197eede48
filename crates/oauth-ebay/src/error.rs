//! How eBay's error answers map to [`oauth_core::Error`].
//!
//! | situation | status | `error` | [`Error`] |
//! |---|---|---|---|
//! | refresh token invalid, expired or revoked | 400 | `invalid_grant` | [`Error::ReauthorizationRequired`] |
//! | code invalid, expired or already used | 400 | `invalid_grant` | [`Error::ReauthorizationRequired`] |
//! | bad client id or secret | 401 | `invalid_client` | [`Error::InvalidClient`] |
//! | scopes not granted | 400 | `invalid_scope` | [`Error::InvalidScope`] naming the requested scopes |
//! | too many requests | 429 | any | [`Error::RateLimited`] (with `Retry-After`) |
//! | server error, maintenance page | 5xx | any, or HTML | [`Error::Transient`] (with a masked excerpt) |
//! | other RFC 6749 codes | 4xx | e.g. `invalid_request` | [`Error::Provider`] |
//!
//! Besides the RFC 6749 body, eBay's gateway sometimes answers with the
//! shape of its REST APIs, `{"errors":[{"errorId":..,"message":..}]}`: the
//! first entry's id and message become the error's code and message.

use oauth_core::transport::classify::{oauth_error, status_error};
use oauth_core::{Error, ProviderDetails, RawResponse, Scopes};
use serde::Deserialize;

/// eBay's REST error shape, as far as we read it.
#[derive(Deserialize)]
struct RestErrorBody {
    #[serde(default)]
    error: Option<serde_json::Value>,
    #[serde(default)]
    errors: Option<Vec<RestErrorEntry>>,
}

#[derive(Deserialize)]
struct RestErrorEntry {
    #[serde(
        default,
        rename = "errorId",
        deserialize_with = "oauth_core::decode::opt_id"
    )]
    error_id: Option<String>,
    #[serde(default, deserialize_with = "oauth_core::decode::opt_text")]
    message: Option<String>,
}

/// Classifies a failed token-endpoint answer (or a 2xx that carries an
/// error). `requested` names the scopes the request asked for; it is
/// reported in [`Error::InvalidScope`].
///
/// Pure and total: any status and any bytes give an error, never a panic.
pub fn token_error(response: &RawResponse, requested: &Scopes) -> Error {
    if let Some(details) = rest_error_details(response) {
        if let Some(error) = status_error(response, details.clone()) {
            return error;
        }
        return match response.status() {
            401 => Error::InvalidClient { details },
            _ => Error::Provider { details },
        };
    }
    oauth_error(response, requested)
}

/// Details from a `{"errors":[...]}` body without an RFC 6749 `error`.
fn rest_error_details(response: &RawResponse) -> Option<ProviderDetails> {
    if !response.looks_like_json() {
        return None;
    }
    let body: RestErrorBody = serde_json::from_slice(response.body()).ok()?;
    if body.error.is_some() {
        return None;
    }
    let first = body.errors?.into_iter().next()?;
    let mut details = ProviderDetails::new(response.provider()).with_status(response.status());
    if let Some(id) = first.error_id {
        details = details.with_code(id);
    }
    if let Some(message) = first.message {
        details = details.with_message(message);
    }
    Some(details)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::PROVIDER;

    fn resp(status: u16, body: &str) -> RawResponse {
        RawResponse::new(PROVIDER, status, Some("application/json"), body.to_owned())
    }

    #[test]
    fn rest_shape_is_read() {
        let e = token_error(
            &resp(
                400,
                r#"{"errors":[{"errorId":1001,"domain":"OAuth","message":"Invalid request"}]}"#,
            ),
            &Scopes::new(),
        );
        assert!(matches!(e, Error::Provider { .. }), "{e:?}");
        assert_eq!(e.provider_code(), Some("1001"));
        let e = token_error(
            &resp(401, r#"{"errors":[{"errorId":"x"}]}"#),
            &Scopes::new(),
        );
        assert!(matches!(e, Error::InvalidClient { .. }), "{e:?}");
        let e = token_error(&resp(503, r#"{"errors":[]}"#), &Scopes::new());
        assert!(e.is_retryable(), "{e:?}");
    }
}
