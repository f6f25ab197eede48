//! Every response fixture through `decode_token_response`: the right
//! success or error class, whatever the HTTP status.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use oauth_core::transport::RawResponse;
use oauth_core::{Error, TransientCause};
use oauth_orangeconnex::{PROVIDER, TokenResponse};
use std::time::{Duration, SystemTime};

const SUCCESS: &str = include_str!("fixtures/token_success.json");
const SUCCESS_NO_RT: &str = include_str!("fixtures/token_success_without_refresh_token.json");
const INVALID_GRANT: &str = include_str!("fixtures/error_invalid_grant.json");
const INVALID_CODE: &str = include_str!("fixtures/error_invalid_code.json");
const EXPIRED_RT: &str = include_str!("fixtures/error_expired_refresh_token.json");
const INVALID_CLIENT: &str = include_str!("fixtures/error_invalid_client.json");
const UNAUTHORIZED: &str = include_str!("fixtures/error_unauthorized.json");
const INVALID_REQUEST: &str = include_str!("fixtures/error_invalid_request.json");
const SERVER_ERROR: &str = include_str!("fixtures/error_server_error.json");
const EMPTY_OBJECT: &str = include_str!("fixtures/empty_object.json");
const ERROR_PAGE: &str = include_str!("fixtures/error_page.html");

const JSON: Option<&str> = Some("application/json;charset=UTF-8");
const HTML: Option<&str> = Some("text/html");

fn response(status: u16, content_type: Option<&str>, body: &str) -> RawResponse {
    RawResponse::new(PROVIDER, status, content_type, body.to_owned())
}

/// The decoder (`Provider::decode_token_response` of `OrangeConnex`).
fn decode_token_response(response: &RawResponse) -> Result<TokenResponse, Error> {
    TokenResponse::decode(response, SystemTime::UNIX_EPOCH)
}

fn err(status: u16, content_type: Option<&str>, body: &str) -> Error {
    decode_token_response(&response(status, content_type, body)).unwrap_err()
}

/// (fixture name, status, content type, body, class, reauth?, retryable?,
/// provider code)
type Case = (
    &'static str,
    u16,
    Option<&'static str>,
    &'static str,
    &'static str,
    bool,
    bool,
    Option<&'static str>,
);

/// The class of an error, by name, for table-driven assertions.
fn class(error: &Error) -> &'static str {
    match error {
        Error::ReauthorizationRequired { .. } => "reauth",
        Error::InvalidClient { .. } => "invalid_client",
        Error::RateLimited { .. } => "rate_limited",
        Error::Transient { .. } => "transient",
        Error::UnexpectedResponse { .. } => "unexpected",
        Error::Provider { .. } => "provider",
        other => panic!("unexpected class {other:?}"),
    }
}

#[test]
fn success_fixtures_decode() {
    let ok = decode_token_response(&RawResponse::new(PROVIDER, 200, JSON, SUCCESS)).unwrap();
    assert_eq!(
        ok.refresh_token.unwrap().expose_secret(),
        "9d2b7e41-0c5f-4a86-b3e2-7f1a6c9d4e58"
    );
    assert_eq!(ok.expires_in, Some(3599));
    let ok = decode_token_response(&RawResponse::new(PROVIDER, 200, JSON, SUCCESS_NO_RT)).unwrap();
    assert!(ok.refresh_token.is_none());
    assert_eq!(ok.expires_in, Some(3600));
    assert_eq!(
        ok.access_token.expose_secret(),
        "b71e0a9c-2d4f-4e63-8c1b-a5f9d3e7c024"
    );
    // Any 2xx can be a success; the content type does not matter.
    decode_token_response(&response(201, None, SUCCESS)).unwrap();
    decode_token_response(&response(200, Some("text/plain"), SUCCESS)).unwrap();
}

#[test]
fn each_fixture_maps_to_the_right_class() {
    let table: [Case; 20] = [
        (
            "invalid_grant@200",
            200,
            JSON,
            INVALID_GRANT,
            "reauth",
            true,
            false,
            Some("invalid_grant"),
        ),
        (
            "invalid_grant@400",
            400,
            JSON,
            INVALID_GRANT,
            "reauth",
            true,
            false,
            Some("invalid_grant"),
        ),
        (
            "invalid_grant@401",
            401,
            JSON,
            INVALID_GRANT,
            "reauth",
            true,
            false,
            Some("invalid_grant"),
        ),
        (
            "invalid_code@400",
            400,
            JSON,
            INVALID_CODE,
            "reauth",
            true,
            false,
            Some("invalid_grant"),
        ),
        (
            "expired_rt@401",
            401,
            JSON,
            EXPIRED_RT,
            "reauth",
            true,
            false,
            Some("invalid_token"),
        ),
        (
            "expired_rt@200",
            200,
            JSON,
            EXPIRED_RT,
            "reauth",
            true,
            false,
            Some("invalid_token"),
        ),
        (
            "invalid_client@401",
            401,
            JSON,
            INVALID_CLIENT,
            "invalid_client",
            false,
            false,
            Some("invalid_client"),
        ),
        (
            "invalid_client@200",
            200,
            JSON,
            INVALID_CLIENT,
            "invalid_client",
            false,
            false,
            Some("invalid_client"),
        ),
        (
            "invalid_client@400",
            400,
            JSON,
            INVALID_CLIENT,
            "invalid_client",
            false,
            false,
            Some("invalid_client"),
        ),
        (
            "unauthorized@401",
            401,
            JSON,
            UNAUTHORIZED,
            "invalid_client",
            false,
            false,
            Some("unauthorized"),
        ),
        (
            "invalid_request@400",
            400,
            JSON,
            INVALID_REQUEST,
            "provider",
            false,
            false,
            Some("invalid_request"),
        ),
        (
            "invalid_request@200",
            200,
            JSON,
            INVALID_REQUEST,
            "provider",
            false,
            false,
            Some("invalid_request"),
        ),
        (
            "server_error@500",
            500,
            JSON,
            SERVER_ERROR,
            "transient",
            false,
            true,
            Some("server_error"),
        ),
        (
            "server_error@200",
            200,
            JSON,
            SERVER_ERROR,
            "transient",
            false,
            true,
            Some("server_error"),
        ),
        (
            "empty@200",
            200,
            JSON,
            EMPTY_OBJECT,
            "unexpected",
            false,
            false,
            None,
        ),
        (
            "empty@400",
            400,
            JSON,
            EMPTY_OBJECT,
            "provider",
            false,
            false,
            None,
        ),
        (
            "empty@401",
            401,
            JSON,
            EMPTY_OBJECT,
            "invalid_client",
            false,
            false,
            None,
        ),
        (
            "html@200",
            200,
            HTML,
            ERROR_PAGE,
            "unexpected",
            false,
            false,
            None,
        ),
        (
            "html@400",
            400,
            HTML,
            ERROR_PAGE,
            "unexpected",
            false,
            false,
            None,
        ),
        (
            "html@502",
            502,
            HTML,
            ERROR_PAGE,
            "transient",
            false,
            true,
            None,
        ),
    ];
    for (name, status, content_type, body, expected, reauth, retry, code) in table {
        let e = err(status, content_type, body);
        assert_eq!(class(&e), expected, "{name}: {e:?}");
        assert_eq!(e.requires_reauthorization(), reauth, "{name}");
        assert_eq!(e.is_retryable(), retry, "{name}");
        assert_eq!(e.provider_code(), code, "{name}");
        match &e {
            Error::UnexpectedResponse { status: s, .. } => assert_eq!(*s, Some(status), "{name}"),
            other => assert_eq!(other.details().unwrap().status(), Some(status), "{name}"),
        }
    }
}

/// Only an answer that says the grant is gone means "authorize again": a malformed
/// request ("Missing required parameter: refresh_token") is a bug on our side, which
/// consent cannot fix.
#[test]
fn only_a_gone_grant_requires_reauthorization() {
    let body = |code: &str, description: &str| {
        format!(r#"{{"error":"{code}","error_description":"{description}"}}"#)
    };
    let provider = [
        (
            400,
            "invalid_request",
            "Missing required parameter: refresh_token",
        ),
        (
            200,
            "invalid_request",
            "Missing required parameter: refresh_token",
        ),
        (400, "invalid_request", "Invalid Refresh_Token"),
        (
            400,
            "invalid_request",
            "An authorization code must be supplied.",
        ),
        (
            400,
            "unsupported_grant_type",
            "Unsupported grant type: refresh_token",
        ),
        (
            400,
            "refresh_token_missing",
            "The refresh_token parameter is required",
        ),
    ];
    for (status, code, description) in provider {
        let e = err(status, JSON, &body(code, description));
        assert_eq!(class(&e), "provider", "{code} {description}: {e:?}");
        assert!(!e.requires_reauthorization(), "{code} {description}");
        assert_eq!(e.provider_code(), Some(code));
    }
    let reauth = [
        (400, "invalid_grant", "Invalid refresh token: 9d2b7e41"),
        (400, "invalid_grant", "Invalid authorization code: Zm9v"),
        (
            401,
            "invalid_token",
            "Invalid refresh token (expired): 9d2b7e41",
        ),
        (
            400,
            "refresh_token_expired",
            "The refresh token has expired",
        ),
        (400, "access_denied", "Refresh token revoked"),
    ];
    for (status, code, description) in reauth {
        let e = err(status, JSON, &body(code, description));
        assert_eq!(class(&e), "reauth", "{code} {description}: {e:?}");
        assert!(e.requires_reauthorization(), "{code} {description}");
    }
    let e = err(
        400,
        JSON,
        &body(
            "invalid_request",
            "Missing required parameter: refresh_token",
        ),
    );
    assert_eq!(
        e.to_string(),
        "provider error (orangeconnex, HTTP 400, code invalid_request: Missing required parameter: refresh_token)"
    );
}

#[test]
fn error_wins_over_an_access_token() {
    let body = r#"{"access_token":"at-1","error":"invalid_grant","error_description":"Invalid authorization code: x"}"#;
    let e = err(200, JSON, body);
    assert!(e.requires_reauthorization(), "{e:?}");
}

#[test]
fn blank_access_token_is_a_failure() {
    for body in [
        r#"{"access_token":"","expires_in":3600}"#,
        r#"{"access_token":"   ","token_type":"bearer"}"#,
        r#"{"access_token":null}"#,
        r#"{"token_type":"bearer","expires_in":3600,"refresh_token":"rt"}"#,
    ] {
        let e = err(200, JSON, body);
        assert!(
            matches!(&e, Error::UnexpectedResponse { reason, .. } if reason == "no `access_token` and no `error` in the body"),
            "{body}: {e:?}"
        );
    }
}

#[test]
fn messages_are_kept_and_tokens_masked() {
    let e = err(400, JSON, INVALID_GRANT);
    assert_eq!(
        e.to_string(),
        "re-authorization required (orangeconnex, HTTP 400, code invalid_grant: Invalid refresh token: [REDACTED])"
    );
    let e = err(400, JSON, INVALID_REQUEST);
    assert_eq!(
        e.to_string(),
        "provider error (orangeconnex, HTTP 400, code invalid_request: Missing grant type)"
    );
    let e = err(401, JSON, INVALID_CLIENT);
    assert_eq!(
        e.details().unwrap().message(),
        Some("Bad client credentials")
    );
}

#[test]
fn rate_limiting_redirects_and_broken_bodies() {
    let limited = RawResponse::new(PROVIDER, 429, JSON, EMPTY_OBJECT)
        .with_retry_after(Some(Duration::from_secs(30)));
    let e = decode_token_response(&limited).unwrap_err();
    assert!(
        matches!(e, Error::RateLimited { retry_after: Some(d), .. } if d == Duration::from_secs(30)),
        "{e:?}"
    );
    assert!(e.is_retryable());
    let e = err(302, None, "");
    assert!(
        matches!(
            e,
            Error::UnexpectedResponse {
                status: Some(302),
                ..
            }
        ),
        "{e:?}"
    );
    let e = err(200, JSON, r#"{"access_token":"3f6c1c2e-8a4b"#);
    assert!(
        matches!(&e, Error::UnexpectedResponse { reason, .. } if reason == "the body is not valid JSON"),
        "{e:?}"
    );
    let e = err(200, JSON, "");
    assert!(
        matches!(&e, Error::UnexpectedResponse { reason, .. } if reason == "the body is not JSON"),
        "{e:?}"
    );
    let e = err(200, JSON, r#"["access_token"]"#);
    assert!(
        matches!(&e, Error::UnexpectedResponse { reason, .. } if reason == "the JSON body is not an object"),
        "{e:?}"
    );
    let e = err(500, None, "");
    assert!(
        matches!(
            e,
            Error::Transient {
                cause: TransientCause::ServerError,
                ..
            }
        ),
        "{e:?}"
    );
    let e = err(400, JSON, r#"{"access_token":"at-1"}"#);
    assert!(
        matches!(
            e,
            Error::UnexpectedResponse {
                status: Some(400),
                ..
            }
        ),
        "{e:?}"
    );
}

#[test]
fn html_page_excerpt_is_short_and_kept() {
    let e = err(200, HTML, ERROR_PAGE);
    match &e {
        Error::UnexpectedResponse {
            content_type,
            excerpt,
            reason,
            ..
        } => {
            assert_eq!(content_type.as_deref(), Some("text/html"));
            assert_eq!(reason, "the body is not JSON");
            assert!(excerpt.contains("502 Bad Gateway"), "{excerpt}");
            assert!(excerpt.chars().count() <= 201);
        }
        other => panic!("{other:?}"),
    }
}
