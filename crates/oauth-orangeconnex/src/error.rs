//! OrangeConnex's own reading of an `error` code; the RFC 6749 codes are
//! `oauth-core`'s ([`oauth_code_error`]).
//!
//! | `error` | status | [`Error`] |
//! |---|---|---|
//! | an RFC 6749 code (`invalid_grant`, `invalid_client`, `unauthorized_client`, `invalid_scope`, `server_error`, `temporarily_unavailable`), any case | any | as [`oauth_code_error`] maps it |
//! | a refresh-token complaint ([`is_refresh_token_complaint`]: `invalid_token`, `expired_token`, `refresh_token_expired`, "Invalid refresh token (expired): ..."), unless the request was malformed | any | [`Error::ReauthorizationRequired`] |
//! | anything else | 401 | [`Error::InvalidClient`] (RFC 6749 §5.2: client authentication failed) |
//! | anything else | 5xx | [`Error::Transient`] |
//! | anything else | other | [`Error::Provider`], with the code and description |
//!
//! A malformed request (`invalid_request`, `unsupported_grant_type`) is
//! never read as a verdict on the grant, whatever its description says:
//! "Missing required parameter: refresh_token" is a request we built wrong,
//! which sending the seller through consent again cannot fix.

use oauth_core::decode::is_refresh_token_complaint;
use oauth_core::transport::classify::oauth_code_error;
use oauth_core::{Error, ProviderDetails, Scopes, TransientCause};

/// Classifies an `error` code (with its description and the HTTP status);
/// see the [module docs](self). `details` carries the status, code and
/// message.
pub(crate) fn classify(
    code: &str,
    description: Option<&str>,
    status: u16,
    details: ProviderDetails,
) -> Error {
    let code = code.trim().to_ascii_lowercase();
    // OrangeConnex asks for no scope: `invalid_scope` names none.
    match oauth_code_error(&code, details, &Scopes::new()) {
        Error::Provider { details } => own_code_error(&code, description, status, details),
        classified => classified,
    }
}

/// The codes RFC 6749 does not define.
fn own_code_error(
    code: &str,
    description: Option<&str>,
    status: u16,
    details: ProviderDetails,
) -> Error {
    let malformed = matches!(code, "invalid_request" | "unsupported_grant_type");
    if !malformed && is_refresh_token_complaint(code, description) {
        Error::ReauthorizationRequired { details }
    } else if status == 401 {
        Error::InvalidClient { details }
    } else if status >= 500 {
        Error::Transient {
            cause: TransientCause::ServerError,
            retry_after: None,
            details,
        }
    } else {
        Error::Provider { details }
    }
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
            let e = classify(code, description, status, details());
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
            let e = classify(code, description, status, details());
            assert!(matches!(e, Error::InvalidClient { .. }), "{code}: {e:?}");
        }
        let e = classify("server_error", None, 200, details());
        assert!(e.is_retryable());
        let e = classify("weird", None, 503, details());
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
            let e = classify(code, description, status, details());
            assert!(matches!(e, Error::Provider { .. }), "{code}: {e:?}");
            assert!(!e.requires_reauthorization(), "{code}");
        }
        // The status rules still apply to a malformed request.
        let e = classify(
            "invalid_request",
            Some("Invalid refresh token"),
            401,
            details(),
        );
        assert!(matches!(e, Error::InvalidClient { .. }), "{e:?}");
        let e = classify("invalid_request", None, 503, details());
        assert!(e.is_retryable(), "{e:?}");
    }
}
