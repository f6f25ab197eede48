//! Helpers that turn provider error responses into [`Error`]s.
//!
//! Provider crates decode success bodies themselves and use these for the
//! rest, so that every provider classifies statuses and RFC 6749 error codes
//! the same way.

use super::response::RawResponse;
use crate::error::{Error, ProviderDetails, TransientCause};
use crate::id::Scopes;
use serde::Deserialize;

/// The RFC 6749 error body, leniently decoded; `message` is the field some
/// providers (Eshopbox) use instead of `error_description`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct OAuthErrorBody {
    /// `error`.
    #[serde(default, deserialize_with = "crate::decode::opt_text")]
    pub error: Option<String>,
    /// `error_description`.
    #[serde(default, deserialize_with = "crate::decode::opt_text")]
    pub error_description: Option<String>,
    /// `message`.
    #[serde(default, deserialize_with = "crate::decode::opt_text")]
    pub message: Option<String>,
}

impl OAuthErrorBody {
    /// Decodes the body if it is a JSON object; `None` otherwise (an array
    /// is not an error body, though serde would read `["x"]` as one).
    pub fn from_response(response: &RawResponse) -> Option<Self> {
        let first = response.body().iter().find(|b| !b.is_ascii_whitespace());
        if first != Some(&b'{') {
            return None;
        }
        serde_json::from_slice(response.body()).ok()
    }

    /// The description, or the message.
    pub fn description(&self) -> Option<&str> {
        self.error_description
            .as_deref()
            .or(self.message.as_deref())
    }

    /// Details for an error from this body.
    pub fn details(&self, response: &RawResponse) -> ProviderDetails {
        let mut details = ProviderDetails::new(response.provider()).with_status(response.status());
        if let Some(code) = &self.error {
            details = details.with_code(code);
        }
        if let Some(description) = self.description() {
            details = details.with_message(description);
        }
        details
    }
}

/// The media type of a `Content-Type` value: before any parameter, trimmed
/// and lower-cased (`"Application/JSON; charset=UTF-8"` is
/// `"application/json"`); empty for an empty value.
pub fn media_type(content_type: &str) -> String {
    content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase()
}

/// Classifies by status alone the answers whose body does not matter:
/// 429 (rate limited), 5xx (transient) and 3xx (a redirect we refuse to
/// follow). `None` for any other status.
pub fn status_error(response: &RawResponse, details: ProviderDetails) -> Option<Error> {
    let status = response.status();
    match status {
        429 => Some(Error::RateLimited {
            retry_after: response.retry_after(),
            details,
        }),
        500..=599 => Some(Error::Transient {
            cause: TransientCause::ServerError,
            retry_after: response.retry_after(),
            details,
        }),
        300..=399 => {
            Some(response.unexpected("redirect refused (token endpoints must not redirect)"))
        }
        _ => None,
    }
}

/// Maps an RFC 6749 error code to our error classes: `invalid_grant` means
/// re-authorization, `invalid_client`/`unauthorized_client` a bad client,
/// `invalid_scope` a configuration error naming `requested`,
/// `temporarily_unavailable`/`server_error` transient; anything else is a
/// provider error.
pub fn oauth_code_error(code: &str, details: ProviderDetails, requested: &Scopes) -> Error {
    match code {
        "invalid_grant" => Error::ReauthorizationRequired { details },
        "invalid_client" | "unauthorized_client" => Error::InvalidClient { details },
        "invalid_scope" => Error::InvalidScope {
            requested: requested.clone(),
            details,
        },
        "temporarily_unavailable" | "server_error" => Error::Transient {
            cause: TransientCause::ServerError,
            retry_after: None,
            details,
        },
        _ => Error::Provider { details },
    }
}

/// Classifies a non-success response of a standard OAuth token endpoint:
/// status errors first (429, 5xx, 3xx), then the RFC 6749 `error` code,
/// then the status alone (401 means an invalid client), and a non-JSON body
/// becomes [`Error::UnexpectedResponse`] with a masked excerpt.
pub fn oauth_error(response: &RawResponse, requested: &Scopes) -> Error {
    let body = OAuthErrorBody::from_response(response);
    let details = match &body {
        Some(body) => body.details(response),
        None => ProviderDetails::new(response.provider())
            .with_status(response.status())
            .with_message(crate::redact::excerpt(response.body())),
    };
    if let Some(error) = status_error(response, details.clone()) {
        return error;
    }
    match body {
        Some(OAuthErrorBody {
            error: Some(code), ..
        }) => oauth_code_error(&code, details, requested).with_retry_after(response.retry_after()),
        Some(_) if response.status() == 401 => Error::InvalidClient { details },
        Some(_) if !response.is_success() => Error::Provider { details },
        _ => response.unexpected(if response.is_success() {
            "success status without the expected token fields"
        } else {
            "error status without a JSON error body"
        }),
    }
}

/// The default classification of an API call's answer (not a token
/// endpoint's), for providers that signal a rejected token with a `401`:
/// a 2xx is fine; `401` means [`Error::AccessTokenRejected`] (refresh,
/// retry once); 429, 5xx and 3xx as [`status_error`]; any other status a
/// [`Error::Provider`] with the body's RFC 6749 / `message` fields or a
/// masked excerpt. Providers with their own shapes override
/// [`Provider::classify_api_response`](crate::Provider::classify_api_response).
///
/// # Errors
/// The answer's class, when it is not a success.
pub fn api_error(response: &RawResponse) -> Result<(), Error> {
    if response.is_success() {
        return Ok(());
    }
    let details = match OAuthErrorBody::from_response(response) {
        Some(body) => body.details(response),
        None => ProviderDetails::new(response.provider())
            .with_status(response.status())
            .with_message(response.excerpt()),
    };
    if response.status() == 401 {
        return Err(Error::AccessTokenRejected { details });
    }
    Err(status_error(response, details.clone()).unwrap_or(Error::Provider { details }))
}

#[cfg(test)]
mod tests {

    #[test]
    fn media_types_lose_parameters_space_and_case() {
        assert_eq!(
            media_type("Application/JSON; charset=UTF-8"),
            "application/json"
        );
        assert_eq!(media_type(" text/xml ;q=1"), "text/xml");
        assert_eq!(media_type("application/soap+xml"), "application/soap+xml");
        assert_eq!(media_type(""), "");
        assert_eq!(media_type("; charset=utf-8"), "");
    }
    use super::*;
    use std::time::Duration;

    #[test]
    fn an_array_is_not_an_error_body() {
        let response = RawResponse::new("p", 400, Some("application/json"), r#"["invalid_grant"]"#);
        assert!(OAuthErrorBody::from_response(&response).is_none());
        let response = RawResponse::new("p", 400, None, r#" {"error":"invalid_grant"}"#);
        assert!(OAuthErrorBody::from_response(&response).is_some());
    }

    fn resp(status: u16, body: &str) -> RawResponse {
        RawResponse::new("p", status, Some("application/json"), body.to_owned())
    }

    #[test]
    fn rfc_codes_are_mapped() {
        let none = Scopes::new();
        let e = oauth_error(
            &resp(
                400,
                r#"{"error":"invalid_grant","error_description":"bad"}"#,
            ),
            &none,
        );
        assert!(e.requires_reauthorization());
        assert_eq!(e.provider_code(), Some("invalid_grant"));
        let e = oauth_error(&resp(401, r#"{"error":"invalid_client"}"#), &none);
        assert!(matches!(e, Error::InvalidClient { .. }));
        let e = oauth_error(
            &resp(400, r#"{"error":"invalid_scope"}"#),
            &Scopes::from(["s"]),
        );
        assert!(
            matches!(e, Error::InvalidScope { ref requested, .. } if requested.join(" ") == "s")
        );
        let e = oauth_error(&resp(400, r#"{"error":"weird"}"#), &none);
        assert!(matches!(e, Error::Provider { .. }));
        let e = oauth_error(&resp(401, r#"{}"#), &none);
        assert!(matches!(e, Error::InvalidClient { .. }));
    }

    #[test]
    fn retry_after_reaches_errors_classified_by_their_body() {
        let busy = resp(200, r#"{"error":"temporarily_unavailable"}"#)
            .with_retry_after(Some(Duration::from_secs(7)));
        let e = oauth_error(&busy, &Scopes::new());
        assert!(
            matches!(e, Error::Transient { retry_after: Some(d), .. } if d.as_secs() == 7),
            "{e:?}"
        );
    }

    #[test]
    fn statuses_win_over_bodies() {
        let none = Scopes::new();
        let limited = resp(429, "{}").with_retry_after(Some(Duration::from_secs(7)));
        let e = oauth_error(&limited, &none);
        assert!(matches!(e, Error::RateLimited { retry_after: Some(d), .. } if d.as_secs() == 7));
        let html = RawResponse::new(
            "p",
            502,
            Some("text/html"),
            "<html><body>502 Bad Gateway</body></html>",
        );
        let e = oauth_error(&html, &none);
        assert!(e.is_retryable());
        assert!(e.to_string().contains("502 Bad Gateway"), "{e}");
        let e = oauth_error(&resp(302, ""), &none);
        assert!(matches!(
            e,
            Error::UnexpectedResponse {
                status: Some(302),
                ..
            }
        ));
        let e = oauth_error(
            &RawResponse::new("p", 400, Some("text/html"), "<h1>no</h1>"),
            &none,
        );
        assert!(matches!(
            e,
            Error::UnexpectedResponse {
                status: Some(400),
                ..
            }
        ));
    }
}
