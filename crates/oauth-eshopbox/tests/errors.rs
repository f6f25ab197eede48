//! Every error sample maps to the right error class.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use oauth_core::{Error, Grant, RawResponse};
use oauth_eshopbox::{
    AccessToken, ClientSecret, Eshopbox, PROVIDER, Provider, RefreshToken, TokenResponse, TokenSet,
};
use std::time::{Duration, UNIX_EPOCH};

const JSON: Option<&str> = Some("application/json");

fn settings() -> Eshopbox {
    Eshopbox::new("cid", ClientSecret::new("cs"), RefreshToken::new("rt"))
}

/// The provider's decoder and classifier, on the answer to the first token
/// request.
fn decode_token_response(response: &RawResponse) -> Result<TokenResponse, Error> {
    settings().decode_token_response(response, &Grant::Initial, UNIX_EPOCH)
}

fn decode(status: u16, content_type: Option<&str>, body: &str) -> Error {
    let response = RawResponse::new(PROVIDER, status, content_type, body.to_owned());
    let err = decode_token_response(&response).unwrap_err();
    // The classification is the same for the answer to a refresh.
    let current = TokenSet::new(AccessToken::new("at"), UNIX_EPOCH);
    let refresh = settings()
        .decode_token_response(&response, &Grant::Refresh { current: &current }, UNIX_EPOCH)
        .unwrap_err();
    assert_eq!(refresh.to_string(), err.to_string());
    err
}

#[test]
fn forbidden_invalid_grant_requires_reauthorization() {
    let err = decode(
        403,
        JSON,
        include_str!("fixtures/error_403_invalid_grant.json"),
    );
    assert!(
        matches!(err, Error::ReauthorizationRequired { .. }),
        "{err:?}"
    );
    assert!(err.requires_reauthorization());
    assert!(!err.is_retryable());
    let details = err.details().unwrap();
    assert_eq!(details.provider(), "eshopbox");
    assert_eq!(details.status(), Some(403));
    assert_eq!(details.code(), Some("invalid_grant"));
    assert_eq!(details.message(), Some("Unknown or invalid refresh token."));
    assert_eq!(
        err.to_string(),
        "re-authorization required (eshopbox, HTTP 403, code invalid_grant: Unknown or invalid refresh token.)"
    );
}

#[test]
fn message_about_the_refresh_token_requires_reauthorization() {
    let err = decode(
        400,
        JSON,
        include_str!("fixtures/error_400_message_refresh_token.json"),
    );
    assert!(
        matches!(err, Error::ReauthorizationRequired { .. }),
        "{err:?}"
    );
    assert!(err.requires_reauthorization());
    assert!(!err.is_retryable());
    assert_eq!(err.provider_code(), None);
    assert_eq!(
        err.details().unwrap().message(),
        Some("Invalid refresh token")
    );
}

#[test]
fn unauthorized_access_denied_is_an_invalid_client() {
    let err = decode(
        401,
        JSON,
        include_str!("fixtures/error_401_access_denied.json"),
    );
    assert!(matches!(err, Error::InvalidClient { .. }), "{err:?}");
    assert!(!err.requires_reauthorization());
    assert!(!err.is_retryable());
    assert_eq!(err.provider_code(), Some("access_denied"));
    assert_eq!(err.details().unwrap().message(), Some("Unauthorized"));
}

#[test]
fn invalid_client_is_an_invalid_client() {
    let err = decode(
        401,
        JSON,
        include_str!("fixtures/error_401_invalid_client.json"),
    );
    assert!(matches!(err, Error::InvalidClient { .. }), "{err:?}");
    assert!(!err.requires_reauthorization());
    assert!(!err.is_retryable());
    assert_eq!(err.provider_code(), Some("invalid_client"));
}

#[test]
fn bare_unauthorized_message_is_an_invalid_client() {
    let err = decode(
        401,
        JSON,
        include_str!("fixtures/error_401_message_unauthorized.json"),
    );
    assert!(matches!(err, Error::InvalidClient { .. }), "{err:?}");
    assert!(!err.requires_reauthorization());
    assert!(!err.is_retryable());
    assert_eq!(err.details().unwrap().message(), Some("Unauthorized"));
}

#[test]
fn too_many_requests_is_rate_limited_with_retry_after() {
    let response = RawResponse::new(
        PROVIDER,
        429,
        JSON,
        include_str!("fixtures/error_429_too_many_requests.json"),
    )
    .with_retry_after(Some(Duration::from_secs(60)));
    let err = decode_token_response(&response).unwrap_err();
    assert!(
        matches!(err, Error::RateLimited { retry_after: Some(d), .. } if d == Duration::from_secs(60)),
        "{err:?}"
    );
    assert!(err.is_retryable());
    assert!(!err.requires_reauthorization());
    assert_eq!(err.retry_after(), Some(Duration::from_secs(60)));
    assert_eq!(err.provider_code(), Some("too_many_requests"));
    // Without a Retry-After header: still rate limited, no delay known.
    let err = decode(
        429,
        JSON,
        include_str!("fixtures/error_429_too_many_requests.json"),
    );
    assert!(
        matches!(
            err,
            Error::RateLimited {
                retry_after: None,
                ..
            }
        ),
        "{err:?}"
    );
}

#[test]
fn html_bad_gateway_is_transient_with_an_excerpt() {
    let err = decode(
        502,
        Some("text/html"),
        include_str!("fixtures/error_502_bad_gateway.html"),
    );
    assert!(
        matches!(err, Error::Transient { ref details, .. } if details.status() == Some(502)),
        "{err:?}"
    );
    assert!(err.is_retryable());
    assert!(!err.requires_reauthorization());
    let message = err.details().unwrap().message().unwrap();
    assert!(
        message.starts_with("<html> <head><title>502 Bad Gateway</title></head>"),
        "{message}"
    );
}

#[test]
fn html_on_a_success_or_client_status_is_unexpected() {
    let html = include_str!("fixtures/error_502_bad_gateway.html");
    for status in [200, 400, 403] {
        let err = decode(status, Some("text/html"), html);
        assert!(
            matches!(err, Error::UnexpectedResponse { status: Some(s), .. } if s == status),
            "{status}: {err:?}"
        );
        assert!(!err.is_retryable());
        assert!(!err.requires_reauthorization());
    }
}

#[test]
fn success_status_carrying_an_error_is_an_error() {
    let err = decode(
        200,
        JSON,
        include_str!("fixtures/error_403_invalid_grant.json"),
    );
    assert!(
        matches!(err, Error::ReauthorizationRequired { .. }),
        "{err:?}"
    );
    let err = decode(
        200,
        JSON,
        include_str!("fixtures/error_401_message_unauthorized.json"),
    );
    assert!(matches!(err, Error::Provider { .. }), "{err:?}");
}

#[test]
fn other_server_errors_are_transient() {
    for status in [500, 503, 504] {
        let err = decode(status, JSON, r#"{"message":"Internal server error"}"#);
        assert!(err.is_retryable(), "{status}: {err:?}");
        assert!(matches!(err, Error::Transient { .. }));
    }
}

#[test]
fn redirects_are_refused() {
    let err = decode(302, None, "");
    assert!(
        matches!(
            err,
            Error::UnexpectedResponse {
                status: Some(302),
                ..
            }
        ),
        "{err:?}"
    );
}
