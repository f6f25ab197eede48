//! How OrangeConnex's answers to API calls (not to the token endpoint) are
//! classified, for [`Provider::api_answer_needs_body`](oauth_core::Provider::api_answer_needs_body)
//! and [`Provider::classify_api_response`](oauth_core::Provider::classify_api_response).
//!
//! OrangeConnex documents no error shape for its business APIs
//! (orangeconnex.md documents the token endpoint only). Its token endpoint
//! answers in the shape of a Spring Security OAuth2 server (RFC 6749
//! `error`/`error_description`, "Full authentication is required to access
//! this resource"), so API calls are read as that server's resource side
//! answers them (RFC 6750), *unconfirmed*:
//!
//! | answer | [`Error`] |
//! |---|---|
//! | 2xx | `Ok` |
//! | 429 / 5xx / 3xx | [`Error::RateLimited`] / [`Error::Transient`] / refused |
//! | `error` or description naming the client key (`clientKey`, "client key"), or `invalid_client` / `unauthorized_client` | [`Error::InvalidClient`] |
//! | `error` = `invalid_token` / `expired_token` (4xx) | [`Error::AccessTokenRejected`] |
//! | `error` = `insufficient_scope`, `access_denied`, `invalid_request`, `unauthorized` ("Full authentication is required": no token was read) | [`Error::Provider`] |
//! | any other 401 (no body, another code) | [`Error::AccessTokenRejected`] |
//! | any other status | [`Error::Provider`] |
//!
//! A description that echoes the token ("Invalid access token: `<token>`",
//! as Spring writes it) is cut at the colon before it is kept.

use crate::PROVIDER;
use oauth_core::http_types::HeaderMap;
use oauth_core::transport::classify::{OAuthErrorBody, status_error};
use oauth_core::{Error, ProviderDetails, RawResponse};

/// A 401 only: the one status a refused bearer token gets (RFC 6750 §3.1).
pub(crate) fn needs_body(status: u16, _headers: &HeaderMap) -> bool {
    status == 401
}

/// Classifies an API call's answer (see the [module documentation](self)).
pub(crate) fn classify(response: &RawResponse) -> Result<(), Error> {
    if response.is_success() {
        return Ok(());
    }
    let status = response.status();
    let body = OAuthErrorBody::from_response(response);
    let details = details(response, body.as_ref());
    if let Some(error) = status_error(response, details.clone()) {
        return Err(error);
    }
    let code = body
        .as_ref()
        .and_then(|b| b.error.as_deref())
        .map(|c| c.trim().to_ascii_lowercase())
        .unwrap_or_default();
    let description = body.as_ref().and_then(OAuthErrorBody::description);
    let names_client_key = [Some(code.as_str()), description]
        .into_iter()
        .flatten()
        .any(mentions_client_key);
    if names_client_key || matches!(code.as_str(), "invalid_client" | "unauthorized_client") {
        return Err(Error::InvalidClient { details });
    }
    match code.as_str() {
        "invalid_token" | "expired_token" if (400..500).contains(&status) => {
            Err(Error::AccessTokenRejected { details })
        }
        "insufficient_scope" | "access_denied" | "invalid_request" | "unauthorized" => {
            Err(Error::Provider { details })
        }
        _ if status == 401 => Err(Error::AccessTokenRejected { details }),
        _ => Err(Error::Provider { details }),
    }
}

/// The status, code and description (cut before an echoed token), or a
/// masked excerpt of a body that is not an error object.
fn details(response: &RawResponse, body: Option<&OAuthErrorBody>) -> ProviderDetails {
    let mut details = ProviderDetails::new(PROVIDER).with_status(response.status());
    let Some(body) = body else {
        return details.with_message(response.excerpt());
    };
    if let Some(code) = &body.error {
        details = details.with_code(code);
    }
    if let Some(description) = body.description() {
        details = details.with_message(without_echoed_token(description));
    }
    details
}

/// "Invalid access token: abc" → "Invalid access token": the text after
/// the first colon is dropped when the text before it names a token.
fn without_echoed_token(description: &str) -> &str {
    match description.split_once(':') {
        Some((head, _)) if head.to_ascii_lowercase().contains("token") => head,
        _ => description,
    }
}

/// `clientKey`, `client_key`, "client key" (any case; bounded).
fn mentions_client_key(text: &str) -> bool {
    let head: String = text
        .chars()
        .take(1024)
        .filter(|c| !matches!(c, ' ' | '_' | '-'))
        .collect();
    head.to_ascii_lowercase().contains("clientkey")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn echoed_tokens_are_cut() {
        assert_eq!(
            without_echoed_token("Invalid access token: abcdef"),
            "Invalid access token"
        );
        assert_eq!(
            without_echoed_token("Access token expired: abcdef"),
            "Access token expired"
        );
        assert_eq!(without_echoed_token("Bad thing: x"), "Bad thing: x");
    }

    #[test]
    fn client_key_mentions() {
        for text in [
            "clientKey is invalid",
            "Invalid client key",
            "CLIENT_KEY missing",
        ] {
            assert!(mentions_client_key(text), "{text}");
        }
        assert!(!mentions_client_key("invalid_token"));
    }
}
