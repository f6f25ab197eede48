//! Mapping of Eshopbox's error answers to [`oauth_core::Error`].
//!
//! Eshopbox does not document its error bodies. The response shape points to
//! an Auth0-style backend, so we read `error`, `error_description` and
//! `message` when present, and classify by status and body (see
//! [`token_error`] for the exact rules). All of it lives in
//! [`classify`], the one place to change when Eshopbox's answers are known.

use oauth_core::redact;
use oauth_core::transport::classify::{OAuthErrorBody, oauth_code_error, status_error};
use oauth_core::{Error, ProviderDetails, RawResponse, Scopes};

/// What a failed token request means for the caller. Internal: the public
/// face is [`Error`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Class {
    /// The refresh token is unknown, invalid, expired or revoked.
    Reauthorize,
    /// The client id or secret is wrong.
    InvalidClient,
    /// An OAuth code we leave to the shared mapping (`invalid_scope`,
    /// `temporarily_unavailable`, unknown codes).
    OAuthCode,
    /// Anything else the provider reported.
    Provider,
}

/// Classifies a failed token answer:
///
/// 1. 429 is [`Error::RateLimited`] (with `Retry-After`), 5xx is
///    [`Error::Transient`], 3xx is refused, whatever the body;
/// 2. a body that is not JSON is [`Error::UnexpectedResponse`] with a masked
///    excerpt (an HTML error page, for instance);
/// 3. `error` = `invalid_client` / `unauthorized_client` is
///    [`Error::InvalidClient`];
/// 4. `error` = `invalid_grant`, or an `error` / `error_description` /
///    `message` that complains about the refresh token ("Unknown or invalid
///    refresh token."), on 400/401/403 (or a 2xx carrying an error) is
///    [`Error::ReauthorizationRequired`];
/// 5. `error` = `access_denied`, or a complaint about the client (same
///    statuses), is [`Error::InvalidClient`];
///
///    the prose of rules 4 and 5 is not read when the code is
///    `invalid_request`, `unsupported_grant_type` or `invalid_scope`: a
///    malformed request is a bug to report, not a revoked token;
/// 6. any other `error` code goes through the shared RFC 6749 mapping
///    (`invalid_scope`, `temporarily_unavailable`, ...);
/// 7. otherwise a 401 is [`Error::InvalidClient`], anything else
///    [`Error::Provider`].
///
/// Every error carries the status, the provider's code and its sanitized
/// message.
pub fn token_error(response: &RawResponse) -> Error {
    let body = OAuthErrorBody::from_response(response);
    let details = match &body {
        Some(body) => body.details(response),
        None => ProviderDetails::new(response.provider())
            .with_status(response.status())
            .with_message(redact::excerpt(response.body())),
    };
    if let Some(error) = status_error(response, details.clone()) {
        return error;
    }
    let Some(body) = body else {
        return response.unexpected(if response.is_success() {
            "success status without the expected token fields"
        } else {
            "error status without a JSON error body"
        });
    };
    let code = body.error.as_deref().map(str::trim).unwrap_or_default();
    match classify(response.status(), &body) {
        Class::Reauthorize => Error::ReauthorizationRequired { details },
        Class::InvalidClient => Error::InvalidClient { details },
        Class::OAuthCode => {
            oauth_code_error(code, details, &Scopes::new()).with_retry_after(response.retry_after())
        }
        Class::Provider => Error::Provider { details },
    }
}

/// The rules of [`token_error`] for a JSON body (statuses 429, 5xx
/// and 3xx are handled before).
fn classify(status: u16, body: &OAuthErrorBody) -> Class {
    let code = body.error.as_deref().map(str::trim).unwrap_or_default();
    let text = normalized([
        body.error.as_deref(),
        body.error_description.as_deref(),
        body.message.as_deref(),
    ]);
    // Reading the prose is for answers whose code says little: not for a
    // malformed request ("Missing required parameter: refresh_token" is a
    // bug to report, not a revoked token).
    let read_prose = matches!(status, 200..=299 | 400 | 401 | 403)
        && !matches!(
            code,
            "invalid_request" | "unsupported_grant_type" | "invalid_scope"
        );

    if matches!(code, "invalid_client" | "unauthorized_client") {
        return Class::InvalidClient;
    }
    if code == "invalid_grant" || (read_prose && mentions_refresh_token(&text)) {
        return Class::Reauthorize;
    }
    if code == "access_denied" || (read_prose && mentions_client(&text)) {
        return Class::InvalidClient;
    }
    if !code.is_empty() {
        return Class::OAuthCode;
    }
    if status == 401 {
        return Class::InvalidClient;
    }
    Class::Provider
}

/// The texts joined, lowercased, with `_` and `-` read as spaces, cut to a
/// bounded length (messages are short; the cap keeps the work bounded).
fn normalized<const N: usize>(parts: [Option<&str>; N]) -> String {
    const MAX: usize = 1024;
    let mut out = String::new();
    for part in parts.into_iter().flatten() {
        for c in part.chars().take(MAX) {
            out.push(match c {
                '_' | '-' => ' ',
                c => c.to_ascii_lowercase(),
            });
        }
        out.push(' ');
    }
    out
}

/// "refresh token", "refresh_token", "refreshToken", "invalid_refresh_token".
fn mentions_refresh_token(text: &str) -> bool {
    text.contains("refresh token") || text.contains("refreshtoken")
}

/// "invalid client", "unknown client", "client_id", "client authentication
/// failed", "invalid client credentials".
fn mentions_client(text: &str) -> bool {
    text.contains("client")
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
