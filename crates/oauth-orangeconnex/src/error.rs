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
//! | `invalid_token`, `expired_token`, or any other code or description that complains about the refresh token | any | [`Error::ReauthorizationRequired`] |
//! | anything else | 401 | [`Error::InvalidClient`] (RFC 6749 §5.2: client authentication failed) |
//! | anything else | 5xx | [`Error::Transient`] |
//! | anything else | other | [`Error::Provider`], with the code and description |
//!
//! The client checks come first: `unauthorized_client` with "Unauthorized
//! grant type: refresh_token" is a client configuration problem, which
//! re-authorizing the seller would not fix.

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
        _ if is_refresh_token_complaint(&code, description) => {
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

/// Whether an error (lowercase `code`, and its description) says that the
/// refresh token is invalid, expired or revoked: `invalid_token`,
/// `expired_token`, a code mentioning `refresh`, or a description mentioning
/// a refresh token ("Invalid refresh token (expired): ...").
pub fn is_refresh_token_complaint(code: &str, description: Option<&str>) -> bool {
    if matches!(code, "invalid_token" | "expired_token") || code.contains("refresh") {
        return true;
    }
    description.is_some_and(|d| {
        // Bounded: descriptions that matter are short.
        let head: String = d.chars().take(512).collect::<String>().to_ascii_lowercase();
        head.contains("refresh token")
            || head.contains("refresh_token")
            || head.contains("refreshtoken")
            || head.contains("refresh-token")
    })
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
            ("invalid_request", Some("Invalid Refresh_Token"), 400),
            ("refresh_token_expired", None, 400),
            ("expired_token", None, 500),
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
        let e = classify_error_code(
            "invalid_request",
            Some("Missing grant type"),
            400,
            details(),
        );
        assert!(matches!(e, Error::Provider { .. }), "{e:?}");
    }
}
