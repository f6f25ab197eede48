//! Eshopbox's error answers, classified into [`oauth_core::Error`].
//!
//! Eshopbox does not document its error bodies. The response shape points to
//! an Auth0-style backend, so we read `error`, `error_description` and
//! `message` when present, and classify by status and body:
//!
//! | answer | error |
//! |---|---|
//! | 429, whatever the body | [`Error::RateLimited`] (with `Retry-After`) |
//! | 5xx, whatever the body | [`Error::Transient`] |
//! | 3xx | refused ([`Error::UnexpectedResponse`]) |
//! | a body that is not JSON (an HTML page) | [`Error::UnexpectedResponse`], masked excerpt |
//! | `error` = `invalid_client` / `unauthorized_client` | [`Error::InvalidClient`] |
//! | `error` = `invalid_grant`, or a complaint about the refresh token \* | [`Error::ReauthorizationRequired`] |
//! | `error` = `access_denied`, or prose naming the client \* | [`Error::InvalidClient`] |
//! | any other `error` code | the shared RFC 6749 mapping (`invalid_scope`, `temporarily_unavailable`, ...) |
//! | no code: 401 / other error status / 2xx | [`Error::InvalidClient`] / [`Error::Provider`] / [`Error::Provider`] |
//!
//! \* On 400, 401, 403 (or a 2xx carrying an error), and not when the code
//! is `invalid_request`, `unsupported_grant_type` or `invalid_scope`: a
//! malformed request is a bug to report, not a revoked token. A complaint
//! about the refresh token ("Unknown or invalid refresh token.") is read by
//! [`oauth_core::decode::is_refresh_token_complaint`], the same for every
//! provider, on the `error` code, the `error_description` and the
//! `message`.
//!
//! Every error carries the status, the provider's code and its sanitized
//! message. [`classify`] is the one place to change when Eshopbox's answers
//! are known.

use oauth_core::decode::is_refresh_token_complaint;
use oauth_core::transport::classify::{OAuthErrorBody, oauth_error, status_error};
use oauth_core::{Error, RawResponse, Scopes};

/// What a failed token answer with a JSON body means, when Eshopbox's own
/// reading decides. Internal: the public face is [`Error`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Class {
    /// The refresh token is unknown, invalid, expired or revoked.
    Reauthorize,
    /// The client id or secret is wrong.
    InvalidClient,
}

/// Classifies a failed token answer (see the [module documentation](self)).
pub(crate) fn token_error(response: &RawResponse) -> Error {
    let Some(body) = OAuthErrorBody::from_response(response) else {
        // Status classes, or a masked excerpt of a body that is not JSON.
        return oauth_error(response, &Scopes::new());
    };
    let details = body.details(response);
    if let Some(error) = status_error(response, details.clone()) {
        return error;
    }
    match classify(response.status(), &body) {
        Some(Class::Reauthorize) => Error::ReauthorizationRequired { details },
        Some(Class::InvalidClient) => Error::InvalidClient { details },
        // A 2xx carrying a bare `message`: the provider said no.
        None if body.error.is_none() && response.is_success() => Error::Provider { details },
        // RFC 6749 codes, then the status alone (a bare 401 is a bad client).
        None => oauth_error(response, &Scopes::new()),
    }
}

/// Eshopbox's reading of a JSON error body (statuses 429, 5xx and 3xx are
/// handled before); `None` leaves it to the shared RFC 6749 mapping.
fn classify(status: u16, body: &OAuthErrorBody) -> Option<Class> {
    let code = body.error.as_deref().map(str::trim).unwrap_or_default();
    // Reading the prose is for answers whose code says little: not for a
    // malformed request ("Missing required parameter: refresh_token" is a
    // bug to report, not a revoked token).
    let read_prose = matches!(status, 200..=299 | 400 | 401 | 403)
        && !matches!(
            code,
            "invalid_request" | "unsupported_grant_type" | "invalid_scope"
        );
    let prose = [body.error_description.as_deref(), body.message.as_deref()];

    if matches!(code, "invalid_client" | "unauthorized_client") {
        return Some(Class::InvalidClient);
    }
    // Core's reading wants the code in lowercase.
    let lowercase = code.to_ascii_lowercase();
    let complains_of_the_refresh_token = is_refresh_token_complaint(&lowercase, None)
        || prose
            .iter()
            .flatten()
            .any(|text| is_refresh_token_complaint(&lowercase, Some(text)));
    if code == "invalid_grant" || (read_prose && complains_of_the_refresh_token) {
        return Some(Class::Reauthorize);
    }
    let names_the_client = [Some(code)]
        .iter()
        .chain(&prose)
        .flatten()
        .any(|text| mentions_client(text));
    if code == "access_denied" || (read_prose && names_the_client) {
        return Some(Class::InvalidClient);
    }
    None
}

/// "invalid client", "unknown client", "client_id", "client authentication
/// failed", "invalid client credentials" (case-insensitive; bounded: the
/// messages that matter are short).
fn mentions_client(text: &str) -> bool {
    const MAX: usize = 1024;
    let head: String = text.chars().take(MAX).collect();
    head.to_ascii_lowercase().contains("client")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::PROVIDER;
    use std::time::Duration;

    fn json(status: u16, body: &str) -> Error {
        token_error(&RawResponse::new(
            PROVIDER,
            status,
            Some("application/json"),
            body.to_owned(),
        ))
    }

    #[test]
    fn refresh_token_complaints_require_reauthorization() {
        for (status, body) in [
            (
                403,
                r#"{"error":"invalid_grant","error_description":"Unknown or invalid refresh token."}"#,
            ),
            (400, r#"{"error":"invalid_grant"}"#),
            (401, r#"{"message":"Invalid refresh_token"}"#),
            (403, r#"{"message":"refreshToken expired"}"#),
            (400, r#"{"error":"invalid_refresh_token"}"#),
            (
                403,
                r#"{"error":"access_denied","error_description":"Refresh token revoked"}"#,
            ),
            (200, r#"{"error":"invalid_grant"}"#),
        ] {
            let err = json(status, body);
            assert!(
                matches!(err, Error::ReauthorizationRequired { .. }),
                "{status} {body}: {err:?}"
            );
            assert_eq!(err.details().and_then(|d| d.status()), Some(status));
        }
    }

    /// `oauth_core::decode::is_refresh_token_complaint` (0.2): naming the
    /// refresh token is not enough, the message must say it is gone; the
    /// codes `invalid_token` and `expired_token` say so.
    #[test]
    fn the_shared_reading_of_complaints() {
        let err = json(403, r#"{"message":"refresh token grant not allowed"}"#);
        assert!(matches!(err, Error::Provider { .. }), "{err:?}");
        for code in ["invalid_token", "expired_token", "Refresh_Token_Expired"] {
            let err = json(400, &format!(r#"{{"error":"{code}"}}"#));
            assert!(err.requires_reauthorization(), "{code}: {err:?}");
        }
    }

    #[test]
    fn client_complaints_are_invalid_client() {
        for (status, body) in [
            (
                401,
                r#"{"error":"access_denied","error_description":"Unauthorized"}"#,
            ),
            (401, r#"{"error":"invalid_client"}"#),
            (
                400,
                r#"{"error":"unauthorized_client","error_description":"refresh token grant not allowed"}"#,
            ),
            (401, r#"{"message":"Unauthorized"}"#),
            (403, r#"{"message":"Invalid client credentials"}"#),
            (401, r#"{}"#),
        ] {
            let err = json(status, body);
            assert!(
                matches!(err, Error::InvalidClient { .. }),
                "{status} {body}: {err:?}"
            );
        }
    }

    #[test]
    fn other_answers() {
        let err = json(
            400,
            r#"{"error":"invalid_request","error_description":"x"}"#,
        );
        assert!(matches!(err, Error::Provider { .. }), "{err:?}");
        assert_eq!(err.provider_code(), Some("invalid_request"));
        let err = json(400, r#"{"error":"invalid_scope"}"#);
        assert!(matches!(err, Error::InvalidScope { .. }), "{err:?}");
        let err = json(400, r#"{"error":"temporarily_unavailable"}"#);
        assert!(err.is_retryable(), "{err:?}");
        let err = json(
            400,
            r#"{"error":"invalid_request","error_description":"Missing required parameter: refresh_token"}"#,
        );
        assert!(matches!(err, Error::Provider { .. }), "{err:?}");
        let err = json(
            403,
            r#"{"error":"unsupported_grant_type","error_description":"Unsupported grant type"}"#,
        );
        assert!(matches!(err, Error::Provider { .. }), "{err:?}");
        let err = json(403, r#"{"message":"Forbidden"}"#);
        assert!(matches!(err, Error::Provider { .. }), "{err:?}");
        let err = json(404, r#"{"message":"Missing Authentication Token"}"#);
        assert!(matches!(err, Error::Provider { .. }), "{err:?}");
        let limited = RawResponse::new(PROVIDER, 429, None, "Too Many Requests")
            .with_retry_after(Some(Duration::from_secs(30)));
        let err = token_error(&limited);
        assert_eq!(err.retry_after(), Some(Duration::from_secs(30)));
        assert!(matches!(err, Error::RateLimited { .. }));
        let err = json(503, r#"{"error":"invalid_grant"}"#);
        assert!(matches!(err, Error::Transient { .. }), "{err:?}");
        let err = token_error(&RawResponse::new(
            PROVIDER,
            401,
            Some("text/html"),
            "<h1>no</h1>",
        ));
        assert!(
            matches!(
                err,
                Error::UnexpectedResponse {
                    status: Some(401),
                    ..
                }
            ),
            "{err:?}"
        );
    }
}
