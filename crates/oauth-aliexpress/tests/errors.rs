//! Every error fixture, in both shapes and on both statuses, maps to the
//! right `Error` variant with the provider's code, message and request id.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use oauth_aliexpress::{IopError, PROVIDER, TokenResponse, classify_api_response};
use oauth_core::{Error, RawResponse};
use std::time::{Duration, UNIX_EPOCH};

fn decode_token_response(response: &RawResponse) -> Result<TokenResponse, Error> {
    TokenResponse::decode(response, UNIX_EPOCH)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Reauthorize,
    RefreshNotSupported,
    AccessTokenRejected,
    InvalidClient,
    Provider,
}

fn kind(error: &Error) -> Kind {
    match error {
        Error::ReauthorizationRequired { .. } => Kind::Reauthorize,
        Error::RefreshNotSupported { .. } => Kind::RefreshNotSupported,
        Error::AccessTokenRejected { .. } => Kind::AccessTokenRejected,
        Error::InvalidClient { .. } => Kind::InvalidClient,
        Error::Provider { .. } => Kind::Provider,
        other => panic!("unexpected variant {other:?}"),
    }
}

struct Case {
    code: &'static str,
    shape_a: &'static str,
    shape_b: &'static str,
    kind: Kind,
    reauth: bool,
    message: &'static str,
    request_id: &'static str,
}

fn cases() -> Vec<Case> {
    vec![
        Case {
            code: "IllegalRefreshToken",
            shape_a: include_str!("fixtures/error_a_IllegalRefreshToken.json"),
            shape_b: include_str!("fixtures/error_b_IllegalRefreshToken.json"),
            kind: Kind::Reauthorize,
            reauth: true,
            message: "The specified refresh token is invalid or expired",
            request_id: "2101d05f1715220392",
        },
        Case {
            code: "AUTH_TYPE_UNSUPPORTED",
            shape_a: include_str!("fixtures/error_a_AUTH_TYPE_UNSUPPORTED.json"),
            shape_b: include_str!("fixtures/error_b_AUTH_TYPE_UNSUPPORTED.json"),
            kind: Kind::RefreshNotSupported,
            reauth: true,
            message: "Authorization type not supported for refresh",
            request_id: "2101d05f1715220393",
        },
        Case {
            code: "IllegalAccessToken",
            shape_a: include_str!("fixtures/error_a_IllegalAccessToken.json"),
            shape_b: include_str!("fixtures/error_b_IllegalAccessToken.json"),
            kind: Kind::AccessTokenRejected,
            reauth: false,
            message: "The specified access token is invalid or expired",
            request_id: "2101d05f1715220394",
        },
        Case {
            code: "IncompleteSignature",
            shape_a: include_str!("fixtures/error_a_IncompleteSignature.json"),
            shape_b: include_str!("fixtures/error_b_IncompleteSignature.json"),
            kind: Kind::InvalidClient,
            reauth: false,
            message: "The request signature does not conform to platform standards",
            request_id: "2101d05f1715220395",
        },
        Case {
            code: "InvalidCode",
            shape_a: include_str!("fixtures/error_a_InvalidCode.json"),
            shape_b: include_str!("fixtures/error_b_InvalidCode.json"),
            kind: Kind::Reauthorize,
            reauth: true,
            message: "Invalid authorization code",
            request_id: "2101d05f1715220396",
        },
        Case {
            code: "InvalidApiPath",
            shape_a: include_str!("fixtures/error_a_InvalidApiPath.json"),
            shape_b: include_str!("fixtures/error_b_InvalidApiPath.json"),
            kind: Kind::Provider,
            reauth: false,
            message: "The specified API path is invalid",
            request_id: "2101d05f1715220397",
        },
    ]
}

#[test]
fn each_code_in_both_shapes_and_both_statuses() {
    let mut checked = 0;
    for case in cases() {
        for (shape, body) in [("A", case.shape_a), ("B", case.shape_b)] {
            for status in [200, 400] {
                let response = RawResponse::new(
                    PROVIDER,
                    status,
                    Some("application/json;charset=UTF-8"),
                    body.to_owned(),
                );
                let what = format!("{} shape {shape} HTTP {status}", case.code);
                let err = decode_token_response(&response).unwrap_err();
                assert_eq!(kind(&err), case.kind, "{what}");
                assert_eq!(err.requires_reauthorization(), case.reauth, "{what}");
                assert!(!err.is_retryable(), "{what}");
                let details = err.details().unwrap();
                assert_eq!(details.provider(), "aliexpress", "{what}");
                assert_eq!(details.status(), Some(status), "{what}");
                assert_eq!(details.code(), Some(case.code), "{what}");
                assert_eq!(details.message(), Some(case.message), "{what}");
                assert_eq!(details.request_id(), Some(case.request_id), "{what}");
                // The same answer to an API call is classified the same way.
                let api = classify_api_response(&response).unwrap_err();
                assert_eq!(kind(&api), case.kind, "{what}");

                let parsed = IopError::from_response(&response).unwrap();
                assert_eq!(parsed.error_type.as_deref(), Some("ISV"));
                assert_eq!(parsed.code.as_deref(), Some(case.code));
                checked += 1;
            }
        }
    }
    assert_eq!(checked, 24);
}

#[test]
fn display_names_code_message_and_request_id() {
    let response = RawResponse::new(
        PROVIDER,
        400,
        Some("application/json"),
        include_str!("fixtures/error_b_IllegalRefreshToken.json"),
    );
    let err = decode_token_response(&response).unwrap_err();
    assert_eq!(
        err.to_string(),
        "re-authorization required (aliexpress, HTTP 400, code IllegalRefreshToken: The specified refresh token is invalid or expired (request id 2101d05f1715220392))"
    );
}

#[test]
fn rate_limits_and_server_errors_are_retryable() {
    let limited = RawResponse::new(PROVIDER, 429, Some("application/json"), "{}")
        .with_retry_after(Some(Duration::from_secs(5)));
    let err = decode_token_response(&limited).unwrap_err();
    assert!(matches!(err, Error::RateLimited { .. }), "{err:?}");
    assert_eq!(err.retry_after(), Some(Duration::from_secs(5)));
    assert!(err.is_retryable());

    let html = RawResponse::new(
        PROVIDER,
        502,
        Some("text/html"),
        include_str!("fixtures/html_502.html"),
    );
    let err = decode_token_response(&html).unwrap_err();
    assert!(matches!(err, Error::Transient { .. }), "{err:?}");
    assert!(err.is_retryable());
    assert!(!err.requires_reauthorization());

    // A 5xx with an IOP body keeps the provider's code.
    let body = include_str!("fixtures/error_a_InvalidApiPath.json");
    let err = decode_token_response(&RawResponse::new(PROVIDER, 500, None, body)).unwrap_err();
    assert!(matches!(err, Error::Transient { .. }));
    assert_eq!(err.provider_code(), Some("InvalidApiPath"));
}

#[test]
fn html_and_broken_bodies_are_unexpected() {
    for (status, body) in [
        (200, include_str!("fixtures/html_502.html")),
        (400, include_str!("fixtures/html_502.html")),
        (200, r#"{"access_token":"x","expires_in":"#),
        (200, ""),
    ] {
        let err =
            decode_token_response(&RawResponse::new(PROVIDER, status, None, body)).unwrap_err();
        assert!(
            matches!(err, Error::UnexpectedResponse { status: Some(s), .. } if s == status),
            "{status} {body}: {err:?}"
        );
        assert!(!err.is_retryable());
        assert!(!err.requires_reauthorization());
    }
}

#[test]
fn a_redirect_is_refused() {
    let err = decode_token_response(&RawResponse::new(PROVIDER, 302, None, "")).unwrap_err();
    assert!(matches!(
        err,
        Error::UnexpectedResponse {
            status: Some(302),
            ..
        }
    ));
}
