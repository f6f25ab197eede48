//! Mapping of OrangeConnex error bodies to [`oauth_core::Error`].
//!
//! OrangeConnex reports failures in the token object itself
//! (`{"error":"...","error_description":"..."}`), with an undocumented
//! status. The mapping:
//!
//! | `error` | status | [`Error`] |
//! |---|---|---|
//! | `invalid_client`, `unauthorized_client` | any | [`Error::InvalidClient`] |
//! | `invalid_grant` | any | [`Error::ReauthorizationRequired`] |
//! | `temporarily_unavailable`, `server_error` | any | [`Error::Transient`] |
//! | `invalid_token`, `expired_token`, a code naming the refresh token as invalid, expired or revoked (`refresh_token_expired`), or a description saying so of the refresh token or code ("Invalid refresh token (expired): ...") | any | [`Error::ReauthorizationRequired`] |
//! | anything else | 401 | [`Error::InvalidClient`] (RFC 6749 §5.2: client authentication failed) |
//! | anything else | 5xx | [`Error::Transient`] |
//! | anything else | other | [`Error::Provider`], with the code and description |
//!
//! Only an answer that says the grant is gone means re-authorization: sending
//! the seller through consent again is expensive, and it cannot fix a bug on
//! our side. So:
//!
//! - the client checks come first: `unauthorized_client` with "Unauthorized
//!   grant type: refresh_token" is a client configuration problem;
//! - a malformed request (`invalid_request`, `unsupported_grant_type`) is
//!   never read as a verdict on the grant, whatever its description says:
//!   "Missing required parameter: refresh_token" is a request we built
//!   wrong ([`Error::Provider`]);
//! - a description counts only when it names the refresh token (or the
//!   authorization code) *and* says it is invalid, expired, revoked or
//!   unknown, and does not say it is missing or required.

use oauth_core::{Error, ProviderDetails, TransientCause};

/// Classifies an OrangeConnex `error` code (with its `error_description`
/// and the HTTP status) as one of our error classes; see the
/// [module docs](self) for the table. `details` should already carry the
/// status, code and (sanitized) message.
pub fn classify_error_code(
    code: &str,
    description: Option<&str>,
    status: u16,
    details: ProviderDetails,
) -> Error {
    let code = code.trim().to_ascii_lowercase();
    match code.as_str() {
        "invalid_client" | "unauthorized_client" => Error::InvalidClient { details },
        "invalid_grant" => Error::ReauthorizationRequired { details },
        "temporarily_unavailable" | "server_error" => Error::Transient {
            cause: TransientCause::ServerError,
            retry_after: None,
            details,
        },
        _ if !is_malformed_request(&code) && is_refresh_token_complaint(&code, description) => {
            Error::ReauthorizationRequired { details }
        }
        _ if status == 401 => Error::InvalidClient { details },
        _ if status >= 500 => Error::Transient {
            cause: TransientCause::ServerError,
            retry_after: None,
            details,
        },
        _ => Error::Provider { details },
    }
}

/// Whether a (lowercase) code says the request itself was malformed (RFC 6749
/// §5.2: a missing, repeated or unsupported parameter): our bug, never a
/// verdict on the grant.
fn is_malformed_request(code: &str) -> bool {
    matches!(code, "invalid_request" | "unsupported_grant_type")
}

/// Whether an error (lowercase `code`, and its description) says that the
/// refresh token (or the authorization code) is invalid, expired or revoked:
/// `invalid_token`, `expired_token`, a code naming the refresh token and
/// saying so (`refresh_token_expired`), or a description naming the refresh
/// token or the code and saying so ("Invalid refresh token (expired): ...").
/// A description that says the token is missing or required ("Missing
/// required parameter: refresh_token") is not a complaint about the grant.
pub fn is_refresh_token_complaint(code: &str, description: Option<&str>) -> bool {
    if matches!(code, "invalid_token" | "expired_token") {
        return true;
    }
    if code.contains("refresh") && says_gone(code) && !says_missing(code) {
        return true;
    }
    description.is_some_and(|d| {
        // Bounded: descriptions that matter are short.
        let head: String = d.chars().take(512).collect::<String>().to_ascii_lowercase();
        names_the_grant(&head) && says_gone(&head) && !says_missing(&head)
    })
}

/// Whether `text` names a refresh token or an authorization code.
fn names_the_grant(text: &str) -> bool {
    [
        "refresh token",
        "refresh_token",
        "refreshtoken",
        "refresh-token",
        "authorization code",
        "authorization_code",
        "auth code",
    ]
    .iter()
    .any(|name| text.contains(name))
}

/// Whether `text` says something is invalid, expired, revoked or unknown.
fn says_gone(text: &str) -> bool {
    [
        "invalid",
        "expired",
        "revoked",
        "unknown",
        "not found",
        "not valid",
        "no longer",
    ]
    .iter()
    .any(|word| text.contains(word))
}

/// Whether `text` says something is missing or required (a malformed request).
fn says_missing(text: &str) -> bool {
    [
        "missing",
        "required",
        "must be supplied",
        "must be provided",
    ]
    .iter()
    .any(|word| text.contains(word))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn details() -> ProviderDetails {
        ProviderDetails::new("orangeconnex")
    }

    #[test]
    fn codes_are_classified() {
        let reauth = [
            ("invalid_grant", None, 400),
            ("INVALID_GRANT", None, 200),
            (
                "invalid_token",
                Some("Invalid refresh token (expired): x"),
                401,
            ),
            ("refresh_token_expired", None, 400),
            ("expired_token", None, 500),
            (
                "access_denied",
                Some("Refresh token revoked by the user"),
                400,
            ),
            ("bad_code", Some("Authorization code not found"), 400),
        ];
        for (code, description, status) in reauth {
            let e = classify_error_code(code, description, status, details());
            assert!(
                matches!(e, Error::ReauthorizationRequired { .. }),
                "{code}: {e:?}"
            );
        }
        let client = [
            ("invalid_client", None, 400),
            (
                "unauthorized_client",
                Some("Unauthorized grant type: refresh_token"),
                400,
            ),
            ("unauthorized", Some("Full authentication is required"), 401),
        ];
        for (code, description, status) in client {
            let e = classify_error_code(code, description, status, details());
            assert!(matches!(e, Error::InvalidClient { .. }), "{code}: {e:?}");
        }
        let e = classify_error_code("server_error", None, 200, details());
        assert!(e.is_retryable());
        let e = classify_error_code("weird", None, 503, details());
        assert!(e.is_retryable());
        // A malformed request is our bug: never "authorize again".
        let provider = [
            ("invalid_request", Some("Missing grant type"), 400),
            (
                "invalid_request",
                Some("Missing required parameter: refresh_token"),
                400,
            ),
            ("invalid_request", Some("Invalid Refresh_Token"), 400),
            ("invalid_request", Some("Invalid refresh token"), 200),
            (
                "unsupported_grant_type",
                Some("Unsupported grant type: refresh_token"),
                400,
            ),
            ("refresh_token_missing", None, 400),
            ("bad_request", Some("The refresh token is required"), 400),
            (
                "bad_request",
                Some("Invalid request: refresh_token is missing"),
                400,
            ),
        ];
        for (code, description, status) in provider {
            let e = classify_error_code(code, description, status, details());
            assert!(matches!(e, Error::Provider { .. }), "{code}: {e:?}");
            assert!(!e.requires_reauthorization(), "{code}");
        }
        // The status rules still apply to a malformed request.
        let e = classify_error_code(
            "invalid_request",
            Some("Invalid refresh token"),
            401,
            details(),
        );
        assert!(matches!(e, Error::InvalidClient { .. }), "{e:?}");
        let e = classify_error_code("invalid_request", None, 503, details());
        assert!(e.is_retryable(), "{e:?}");
    }
}
