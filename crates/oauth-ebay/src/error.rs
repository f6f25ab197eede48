//! How eBay's error answers map to [`oauth_core::Error`] (the table is
//! in the [crate documentation](crate#errors)): eBay's REST error shape,
//! `{"errors":[{"errorId":..,"message":..}]}`, here; the RFC 6749 body by
//! `oauth-core`'s classifier.

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
/// error): eBay's REST shape here, the RFC 6749 body by `oauth-core`'s
/// [`oauth_error`]. `requested` names the scopes the request asked for; it
/// is reported in [`Error::InvalidScope`].
///
/// Pure and total: any status and any bytes give an error, never a panic.
pub(crate) fn token_error(response: &RawResponse, requested: &Scopes) -> Error {
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
pub(crate) fn rest_error_details(response: &RawResponse) -> Option<ProviderDetails> {
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
