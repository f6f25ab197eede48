//! How Eshopbox's answers to API calls (not to the token endpoint) are
//! classified, for [`Provider::api_answer_needs_body`](oauth_core::Provider::api_answer_needs_body)
//! and [`Provider::classify_api_response`](oauth_core::Provider::classify_api_response).
//!
//! Eshopbox documents no error bodies (eshopbox.md, "Errors": undocumented,
//! even for its token endpoint). API calls carry `Authorization: Bearer`,
//! so they are read as RFC 6750 and the usual API gateways answer them
//! (*unconfirmed*):
//!
//! | answer | [`Error`] |
//! |---|---|
//! | 2xx | `Ok` |
//! | 429 / 5xx / 3xx | [`Error::RateLimited`] / [`Error::Transient`] / refused |
//! | 401, any body (`{"message":"Unauthorized"}`, `invalid_token`, "jwt expired", none) | [`Error::AccessTokenRejected`] |
//! | 403 whose `error` is `invalid_token` / `expired_token`, or whose text says a token (access token, bearer token, JWT) is expired, invalid or revoked | [`Error::AccessTokenRejected`] |
//! | any other 403 (`insufficient_scope`, "Forbidden", "not authorized to access this resource", a text naming a scope or permission) | [`Error::Provider`]: a refresh would not fix it |
//! | any other status | [`Error::Provider`] |

use crate::PROVIDER;
use oauth_core::decode::says_gone;
use oauth_core::http_types::HeaderMap;
use oauth_core::transport::classify::{OAuthErrorBody, status_error};
use oauth_core::{Error, ProviderDetails, RawResponse};

/// A 401, or a 403 (some gateways answer an expired bearer token with a
/// 403 and say so in the body).
pub(crate) fn needs_body(status: u16, _headers: &HeaderMap) -> bool {
    matches!(status, 401 | 403)
}

/// Classifies an API call's answer (see the [module documentation](self)).
pub(crate) fn classify(response: &RawResponse) -> Result<(), Error> {
    if response.is_success() {
        return Ok(());
    }
    let body = OAuthErrorBody::from_response(response);
    let details = match &body {
        Some(body) => body.details(response),
        None => ProviderDetails::new(PROVIDER)
            .with_status(response.status())
            .with_message(response.excerpt()),
    };
    if let Some(error) = status_error(response, details.clone()) {
        return Err(error);
    }
    match response.status() {
        401 => Err(Error::AccessTokenRejected { details }),
        403 if body.as_ref().is_some_and(says_the_token_is_refused) => {
            Err(Error::AccessTokenRejected { details })
        }
        _ => Err(Error::Provider { details }),
    }
}

/// `invalid_token` / `expired_token`, or a text naming the access token
/// (not the refresh token, not a scope or permission) and saying it is
/// expired, invalid or revoked.
fn says_the_token_is_refused(body: &OAuthErrorBody) -> bool {
    let code = body
        .error
        .as_deref()
        .map(|c| c.trim().to_ascii_lowercase())
        .unwrap_or_default();
    match code.as_str() {
        "invalid_token" | "expired_token" => return true,
        "insufficient_scope" | "access_denied" | "invalid_request" => return false,
        _ => {}
    }
    [
        Some(code.as_str()),
        body.error_description.as_deref(),
        body.message.as_deref(),
    ]
    .into_iter()
    .flatten()
    .any(|text| {
        // Bounded: the messages that matter are short.
        let text: String = text
            .chars()
            .take(512)
            .collect::<String>()
            .to_ascii_lowercase();
        let names_token = ["token", "jwt"].iter().any(|n| text.contains(n));
        let names_other = ["refresh", "scope", "permission", "client"]
            .iter()
            .any(|n| text.contains(n));
        names_token && !names_other && says_gone(&text)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(json: &str) -> OAuthErrorBody {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn token_complaints_in_a_403() {
        for json in [
            r#"{"error":"invalid_token"}"#,
            r#"{"message":"jwt expired"}"#,
            r#"{"message":"Token has expired"}"#,
            r#"{"error":"unauthorized","error_description":"Invalid access token"}"#,
        ] {
            assert!(says_the_token_is_refused(&body(json)), "{json}");
        }
        for json in [
            r#"{"message":"Forbidden"}"#,
            r#"{"error":"insufficient_scope","error_description":"invalid token scope"}"#,
            r#"{"message":"Token lacks permission: invalid for this resource"}"#,
            r#"{"message":"Invalid refresh token"}"#,
            r#"{"message":"User is not authorized to access this resource with an explicit deny"}"#,
            r#"{}"#,
        ] {
            assert!(!says_the_token_is_refused(&body(json)), "{json}");
        }
    }
}
