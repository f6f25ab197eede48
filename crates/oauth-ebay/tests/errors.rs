//! Every response fixture, decoded: each error body of ebay.md with its
//! status maps to the right error class.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use oauth_core::{ClientSecret, Error, Grant, Provider, RawResponse, Scopes, TransientCause};
use oauth_ebay::{ApplicationToken, Ebay, PROVIDER, TokenResponse};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

const JSON: Option<&str> = Some("application/json");
const INVENTORY: &str = "https://api.ebay.com/oauth/api_scope/sell.inventory";
const FULFILLMENT: &str = "https://api.ebay.com/oauth/api_scope/sell.fulfillment";

fn now() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_750_000_000)
}

fn response(status: u16, content_type: Option<&str>, body: &str) -> RawResponse {
    RawResponse::new(PROVIDER, status, content_type, body.to_owned())
}

/// The settings asking for `requested`, on consent and for application
/// tokens alike.
fn ebay(requested: &Scopes) -> Ebay {
    Ebay::new("App-ID", ClientSecret::new("cert"))
        .scopes(requested.clone())
        .application_scopes(requested.clone())
}

/// The provider's decoder, for the answer to a code exchange asking for
/// `requested`.
fn decode_token_response(
    response: &RawResponse,
    requested: &Scopes,
) -> Result<TokenResponse, Error> {
    ebay(requested).decode_token_response(response, &Grant::AuthorizationCode, now())
}

fn decode_err(response: &RawResponse, requested: &Scopes) -> Error {
    let err = decode_token_response(response, requested).unwrap_err();
    // The classification does not depend on the kind of request.
    let direct = ebay(requested)
        .decode_token_response(response, &Grant::Other("client_credentials"), now())
        .unwrap_err();
    assert_eq!(format!("{err:?}"), format!("{direct:?}"));
    err
}

#[test]
fn invalid_refresh_token_requires_reauthorization() {
    let r = response(
        400,
        JSON,
        include_str!("fixtures/error_400_invalid_grant_refresh_token.json"),
    );
    let err = decode_err(&r, &Scopes::from([INVENTORY]));
    assert!(
        matches!(err, Error::ReauthorizationRequired { .. }),
        "{err:?}"
    );
    assert!(err.requires_reauthorization());
    assert!(!err.is_retryable());
    let details = err.details().unwrap();
    assert_eq!(details.provider(), "ebay");
    assert_eq!(details.status(), Some(400));
    assert_eq!(details.code(), Some("invalid_grant"));
    assert_eq!(
        details.message(),
        Some("the provided authorization refresh token is invalid or was issued to another client")
    );
}

#[test]
fn invalid_code_requires_reauthorization() {
    let r = response(
        400,
        JSON,
        include_str!("fixtures/error_400_invalid_grant_code.json"),
    );
    let err = decode_err(&r, &Scopes::new());
    assert!(
        matches!(err, Error::ReauthorizationRequired { .. }),
        "{err:?}"
    );
    assert!(err.requires_reauthorization());
    assert!(!err.is_retryable());
    assert_eq!(err.provider_code(), Some("invalid_grant"));
}

#[test]
fn invalid_client_means_bad_credentials() {
    let r = response(
        401,
        JSON,
        include_str!("fixtures/error_401_invalid_client.json"),
    );
    let err = decode_err(&r, &Scopes::new());
    assert!(matches!(err, Error::InvalidClient { .. }), "{err:?}");
    assert!(!err.requires_reauthorization());
    assert!(!err.is_retryable());
    assert_eq!(err.provider_code(), Some("invalid_client"));
    assert_eq!(err.details().unwrap().status(), Some(401));
}

#[test]
fn invalid_scope_names_the_requested_scopes() {
    let r = response(
        400,
        JSON,
        include_str!("fixtures/error_400_invalid_scope.json"),
    );
    let requested = Scopes::from([INVENTORY, FULFILLMENT]);
    let err = decode_err(&r, &requested);
    match &err {
        Error::InvalidScope {
            requested: named,
            details,
        } => {
            assert_eq!(named, &requested);
            assert_eq!(details.code(), Some("invalid_scope"));
        }
        other => panic!("{other:?}"),
    }
    assert!(!err.requires_reauthorization());
    assert!(!err.is_retryable());
    assert!(err.to_string().contains(FULFILLMENT), "{err}");
}

#[test]
fn rate_limited_is_retryable_with_retry_after() {
    let r = response(
        429,
        JSON,
        include_str!("fixtures/error_429_rate_limited.json"),
    )
    .with_retry_after(Some(Duration::from_secs(30)));
    let err = decode_err(&r, &Scopes::new());
    assert!(matches!(err, Error::RateLimited { .. }), "{err:?}");
    assert!(err.is_retryable());
    assert!(!err.requires_reauthorization());
    assert_eq!(err.retry_after(), Some(Duration::from_secs(30)));
    assert_eq!(err.provider_code(), Some("2001"));
    assert_eq!(err.details().unwrap().message(), Some("Too many requests"));
}

#[test]
fn server_error_is_transient() {
    let r = response(
        500,
        JSON,
        include_str!("fixtures/error_500_server_error.json"),
    );
    let err = decode_err(&r, &Scopes::new());
    assert!(
        matches!(
            err,
            Error::Transient {
                cause: TransientCause::ServerError,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.is_retryable());
    assert!(!err.requires_reauthorization());
    assert_eq!(err.provider_code(), Some("server_error"));
}

#[test]
fn html_503_is_transient_with_an_excerpt() {
    let r = response(
        503,
        Some("text/html; charset=iso-8859-1"),
        include_str!("fixtures/error_503_service_unavailable.html"),
    );
    let err = decode_err(&r, &Scopes::new());
    assert!(
        matches!(
            err,
            Error::Transient {
                cause: TransientCause::ServerError,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.is_retryable());
    let details = err.details().unwrap();
    assert_eq!(details.status(), Some(503));
    let message = details.message().unwrap();
    assert!(message.contains("503 Service Unavailable"), "{message}");
    assert!(message.chars().count() <= 201, "{message}");
}

#[test]
fn html_on_a_success_status_is_unexpected() {
    let r = response(
        200,
        Some("text/html"),
        include_str!("fixtures/error_503_service_unavailable.html"),
    );
    let err = decode_err(&r, &Scopes::new());
    assert!(
        matches!(
            err,
            Error::UnexpectedResponse {
                status: Some(200),
                ..
            }
        ),
        "{err:?}"
    );
    assert!(!err.is_retryable());
}

#[test]
fn token_fixtures_decode() {
    let user = decode_token_response(
        &response(200, JSON, include_str!("fixtures/user_token.json")),
        &Scopes::new(),
    )
    .unwrap();
    assert_eq!(user.expires_in, Duration::from_secs(7200));
    assert_eq!(
        user.refresh_token_expires_in,
        Some(Duration::from_secs(47_304_000))
    );
    assert!(user.refresh_token.is_some());

    let refreshed = decode_token_response(
        &response(200, JSON, include_str!("fixtures/refreshed_token.json")),
        &Scopes::new(),
    )
    .unwrap();
    assert_eq!(refreshed.refresh_token, None);
    assert_eq!(refreshed.refresh_token_expires_in, None);
    assert_eq!(refreshed.expires_at(), now() + Duration::from_secs(7200));

    for body in [
        include_str!("fixtures/application_token.json"),
        include_str!("fixtures/application_token_refresh_na.json"),
    ] {
        let app = ApplicationToken::from(
            decode_token_response(&response(200, JSON, body), &Scopes::new()).unwrap(),
        );
        assert_eq!(app.token_type.as_str(), "Application Access Token");
        assert_eq!(app.expires_at(), now() + Duration::from_secs(7200));
        let as_user = decode_token_response(&response(200, JSON, body), &Scopes::new()).unwrap();
        assert_eq!(as_user.refresh_token, None, "N/A must not become a token");
    }
}

#[test]
fn other_oauth_codes_are_provider_errors() {
    let r = response(
        400,
        JSON,
        r#"{"error":"unsupported_grant_type","error_description":"grant type in request is not supported by the authorization server"}"#,
    );
    let err = decode_err(&r, &Scopes::new());
    assert!(matches!(err, Error::Provider { .. }), "{err:?}");
    assert_eq!(err.provider_code(), Some("unsupported_grant_type"));
}

#[test]
fn garbage_never_panics() {
    let bodies: [&[u8]; 9] = [
        b"",
        b"{",
        b"[]",
        b"{\"access_token\":{}}",
        b"{\"errors\":\"x\"}",
        b"\xff\xfe\x00",
        b"{\"access_token\":\"a\",\"expires_in\":1e999}",
        b"null",
        b"{\"error\":5,\"access_token\":\"a\",\"expires_in\":1}",
    ];
    for status in [0u16, 100, 200, 204, 302, 400, 401, 429, 500, 599, 999] {
        for body in bodies {
            let r = RawResponse::new(PROVIDER, status, None, body.to_vec());
            let _ = decode_token_response(&r, &Scopes::new());
        }
    }
}
