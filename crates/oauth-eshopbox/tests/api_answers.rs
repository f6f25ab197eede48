//! Eshopbox's answers to API calls, as the middleware sees them: which are
//! read (`api_answer_needs_body`) and how they are classified
//! (`classify_api_response`). The shapes are in `tests/fixtures/README.md`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use oauth_core::test_util::api_answers::{self, headers};
use oauth_core::{ClientSecret, Error, Provider, RefreshToken};
use oauth_eshopbox::Eshopbox;

const JSON: &str = "application/json; charset=utf-8";

fn settings() -> Eshopbox {
    Eshopbox::new(
        "client",
        ClientSecret::new("secret"),
        RefreshToken::new("rt"),
    )
}

/// What the middleware does: the head decides whether the body is read.
fn answer(status: u16, body: impl Into<Vec<u8>>) -> Option<Result<(), Error>> {
    api_answers::middleware_view(&settings(), status, Some(JSON), body)
}

fn classify(status: u16, body: impl Into<Vec<u8>>) -> Result<(), Error> {
    api_answers::classify(&settings(), status, Some(JSON), body)
}

#[test]
fn refused_tokens() {
    for (status, body) in [
        (
            401,
            include_str!("fixtures/api_401_message_unauthorized.json"),
        ),
        (401, include_str!("fixtures/api_401_invalid_token.json")),
        (401, ""),
        (401, "<html>401</html>"),
        (403, include_str!("fixtures/api_403_jwt_expired.json")),
        (403, r#"{"error":"invalid_token"}"#),
    ] {
        let err = answer(status, body).expect("read").unwrap_err();
        assert!(
            matches!(err, Error::AccessTokenRejected { .. }),
            "{status} {body}: {err:?}"
        );
        assert_eq!(err.details().unwrap().status(), Some(status));
    }
    let err = classify(401, include_str!("fixtures/api_401_invalid_token.json")).unwrap_err();
    assert_eq!(err.provider_code(), Some("invalid_token"));
    assert_eq!(
        err.details().unwrap().message(),
        Some("The access token expired")
    );
}

#[test]
fn permissions_are_not_a_rejected_token() {
    for body in [
        include_str!("fixtures/api_403_forbidden.json"),
        include_str!("fixtures/api_403_insufficient_scope.json"),
        r#"{"message":"User is not authorized to access this resource with an explicit deny"}"#,
        r#"{"message":"Invalid refresh token"}"#,
        "",
    ] {
        let err = answer(403, body).expect("a 403 is read").unwrap_err();
        assert!(matches!(err, Error::Provider { .. }), "{body}: {err:?}");
    }
    let err = classify(404, r#"{"message":"Missing Authentication Token"}"#).unwrap_err();
    assert!(matches!(err, Error::Provider { .. }));
    let err = classify(
        429,
        include_str!("fixtures/error_429_too_many_requests.json"),
    )
    .unwrap_err();
    assert!(matches!(err, Error::RateLimited { .. }));
    let err = classify(502, include_str!("fixtures/error_502_bad_gateway.html")).unwrap_err();
    assert!(err.is_retryable());
    assert!(classify(200, r#"{"message":"ok"}"#).is_ok());
}

#[test]
fn needs_body_reads_the_head_only() {
    let settings = settings();
    for status in [401, 403] {
        assert!(settings.api_answer_needs_body(status, &headers(None)));
    }
    for status in [200, 201, 204, 400, 404, 429, 500, 503] {
        assert!(
            !settings.api_answer_needs_body(status, &headers(Some(JSON))),
            "{status}"
        );
    }
}

#[test]
fn hostile_bodies_never_panic() {
    let bodies: Vec<Vec<u8>> = vec![
        format!(r#"{{"message":"{}"}}"#, "token expired ".repeat(100_000)).into_bytes(),
        "{".repeat(100_000).into_bytes(),
        br#"{"error":"invalid_token""#.to_vec(),
        br#"{"error":["invalid_token"],"message":{"x":"jwt expired"}}"#.to_vec(),
        b"{\"message\":\"jwt \xff expired\"}".to_vec(),
        vec![0xff; 4096],
    ];
    for (i, body) in bodies.iter().enumerate() {
        for status in [400, 404, 500] {
            let err = classify(status, body.clone()).unwrap_err();
            assert!(
                !matches!(err, Error::AccessTokenRejected { .. }),
                "body {i}: {err:?}"
            );
        }
        for status in [401, 403] {
            let err = classify(status, body.clone()).unwrap_err();
            assert!(err.to_string().len() < 2_000, "body {i}");
        }
    }
}

#[test]
fn no_token_in_error_texts() {
    let token = "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.c2lnbmF0dXJl";
    for body in [
        format!(r#"{{"message":"jwt expired: {token}"}}"#),
        format!(r#"{{"error":"invalid_token","error_description":"token {token} is invalid"}}"#),
        format!(r#"{{"message":"Forbidden for access_token={token}"}}"#),
    ] {
        for status in [401, 403] {
            let err = classify(status, body.clone()).unwrap_err();
            let shown = format!("{err} {err:?}");
            assert!(!shown.contains("eyJhbGci"), "{shown}");
        }
    }
}
