//! OrangeConnex's answers to API calls, as the middleware sees them: which
//! are read (`api_answer_needs_body`) and how they are classified
//! (`classify_api_response`). The shapes are in `tests/fixtures/README.md`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use oauth_core::test_util::api_answers::{self, headers};
use oauth_core::{Error, Provider};
use oauth_orangeconnex::OrangeConnex;

const JSON: &str = "application/json;charset=UTF-8";

fn settings() -> OrangeConnex {
    OrangeConnex::new("3pp-id", "https://app.example/cb")
}

fn classify(status: u16, body: impl Into<Vec<u8>>) -> Result<(), Error> {
    api_answers::classify(&settings(), status, Some(JSON), body)
}

fn variant(err: &Error) -> String {
    format!("{err:?}")
        .split_whitespace()
        .next()
        .unwrap()
        .to_owned()
}

#[test]
fn invalid_or_expired_tokens_are_rejected() {
    for body in [
        include_str!("fixtures/api_401_invalid_token.json"),
        include_str!("fixtures/api_401_expired_token.json"),
        r#"{"error":"expired_token"}"#,
        "",
        "{}",
        "<html>401</html>",
        r#"{"error":"something_else"}"#,
    ] {
        assert!(settings().api_answer_needs_body(401, &headers(Some(JSON))));
        let err = classify(401, body).unwrap_err();
        assert!(
            matches!(err, Error::AccessTokenRejected { .. }),
            "{body}: {err:?}"
        );
        assert_eq!(err.details().unwrap().status(), Some(401));
    }
    let err = classify(401, include_str!("fixtures/api_401_expired_token.json")).unwrap_err();
    assert_eq!(err.provider_code(), Some("invalid_token"));
    assert_eq!(
        err.details().unwrap().message(),
        Some("Access token expired")
    );
}

#[test]
fn client_key_and_permission_problems_are_not_a_rejected_token() {
    for (status, body, expected) in [
        (
            401,
            include_str!("fixtures/api_401_client_key.json"),
            "InvalidClient",
        ),
        (
            401,
            r#"{"error":"invalid_client","error_description":"Bad client credentials"}"#,
            "InvalidClient",
        ),
        (
            401,
            r#"{"error":"invalid_token","error_description":"Invalid clientKey"}"#,
            "InvalidClient",
        ),
        (
            403,
            include_str!("fixtures/api_403_access_denied.json"),
            "Provider",
        ),
        (
            403,
            include_str!("fixtures/api_403_insufficient_scope.json"),
            "Provider",
        ),
        (
            401,
            include_str!("fixtures/error_unauthorized.json"),
            "Provider",
        ),
        (
            400,
            r#"{"error":"invalid_request","error_description":"Missing sku"}"#,
            "Provider",
        ),
        (404, "{}", "Provider"),
    ] {
        let err = classify(status, body).unwrap_err();
        assert_eq!(variant(&err), expected, "{status} {body}: {err:?}");
    }
    let err = classify(429, "{}").unwrap_err();
    assert!(matches!(err, Error::RateLimited { .. }));
    let err = classify(502, include_str!("fixtures/error_page.html")).unwrap_err();
    assert!(err.is_retryable());
    assert!(classify(200, r#"{"code":"ok"}"#).is_ok());
}

#[test]
fn needs_body_reads_the_head_only() {
    let settings = settings();
    assert!(settings.api_answer_needs_body(401, &headers(None)));
    for status in [200, 204, 400, 403, 404, 429, 500] {
        assert!(
            !settings.api_answer_needs_body(status, &headers(Some(JSON))),
            "{status}"
        );
    }
}

#[test]
fn hostile_bodies_never_panic() {
    let bodies: Vec<Vec<u8>> = vec![
        format!(
            r#"{{"error":"invalid_request","error_description":"{}"}}"#,
            "x".repeat(1 << 20)
        )
        .into_bytes(),
        "[".repeat(100_000).into_bytes(),
        br#"{"error":"invalid_token""#.to_vec(),
        br#"{"error":["invalid_token"]}"#.to_vec(),
        br#"{"error":{"code":"invalid_token"}}"#.to_vec(),
        b"{\"error\":\"invalid\xff_token\"}".to_vec(),
        vec![0xff; 4096],
    ];
    for (i, body) in bodies.iter().enumerate() {
        for status in [400, 403, 404, 500] {
            let err = classify(status, body.clone()).unwrap_err();
            assert!(
                !matches!(err, Error::AccessTokenRejected { .. }),
                "body {i}, {status}: {err:?}"
            );
            assert!(err.to_string().len() < 2_000);
        }
        // A 401 stays a refused token, whatever its body, unless the body
        // names another reason (body 0: `invalid_request`).
        let err = classify(401, body.clone()).unwrap_err();
        assert_eq!(
            matches!(err, Error::AccessTokenRejected { .. }),
            i != 0,
            "body {i}: {err:?}"
        );
    }
}

#[test]
fn no_token_in_error_texts() {
    for token in ["6f1c2b7e-52a0-4d2b-9c1f-0e8a7d3b4c55", "SENTINELtok"] {
        for body in [
            format!(
                r#"{{"error":"invalid_token","error_description":"Invalid access token: {token}"}}"#
            ),
            format!(
                r#"{{"error":"invalid_token","error_description":"Access token expired: {token}"}}"#
            ),
        ] {
            for status in [401, 403] {
                let err = classify(status, body.clone()).unwrap_err();
                let shown = format!("{err} {err:?}");
                assert!(!shown.contains(token), "{shown}");
            }
        }
    }
}
