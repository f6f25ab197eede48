//! AliExpress's answers to API calls, as the middleware sees them: which
//! are read (`api_answer_needs_body`) and how they are classified
//! (`classify_api_response`, the trait method and the free function).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use oauth_aliexpress::{AliExpress, classify_api_response};
use oauth_core::http_types::{HeaderMap, HeaderValue, header};
use oauth_core::test_util::api_answers::{self, headers};
use oauth_core::{AppSecret, Error, Provider};

const JSON: &str = "application/json;charset=UTF-8";

fn settings() -> AliExpress {
    AliExpress::new("12345678", AppSecret::new("app-secret")).redirect_uri("https://app.example/cb")
}

/// What the middleware does: the head decides whether the body is read.
fn answer(
    status: u16,
    content_type: Option<&str>,
    body: impl Into<Vec<u8>>,
) -> Option<Result<(), Error>> {
    let body = body.into();
    let by_trait = api_answers::middleware_view(&settings(), status, content_type, body.clone())?;
    // The free function is the same classification.
    let by_function = classify_api_response(&api_answers::response(
        &settings(),
        status,
        content_type,
        body,
    ));
    assert_eq!(
        by_trait.as_ref().map_err(ToString::to_string),
        by_function.as_ref().map_err(ToString::to_string)
    );
    Some(by_trait)
}

fn classify(
    status: u16,
    content_type: Option<&str>,
    body: impl Into<Vec<u8>>,
) -> Result<(), Error> {
    api_answers::classify(&settings(), status, content_type, body)
}

#[test]
fn illegal_access_token_is_rejected_in_both_shapes_on_200_and_400() {
    for body in [
        include_str!("fixtures/error_a_IllegalAccessToken.json"),
        include_str!("fixtures/error_b_IllegalAccessToken.json"),
    ] {
        for status in [200, 400] {
            for content_type in [
                Some(JSON),
                Some("application/json"),
                Some("text/plain;charset=UTF-8"),
                None,
            ] {
                let err = answer(status, content_type, body)
                    .expect("an IOP answer is read")
                    .unwrap_err();
                assert!(
                    matches!(err, Error::AccessTokenRejected { .. }),
                    "{status} {content_type:?}: {err:?}"
                );
                let details = err.details().unwrap();
                assert_eq!(details.code(), Some("IllegalAccessToken"));
                assert_eq!(
                    details.message(),
                    Some("The specified access token is invalid or expired")
                );
                assert_eq!(details.request_id(), Some("2101d05f1715220394"));
                assert_eq!(details.status(), Some(status));
            }
        }
    }
}

#[test]
fn other_codes_are_not_a_rejected_token() {
    for (body, expected) in [
        (
            include_str!("fixtures/error_a_InvalidApiPath.json"),
            "Provider",
        ),
        (
            include_str!("fixtures/error_b_InvalidApiPath.json"),
            "Provider",
        ),
        (
            include_str!("fixtures/error_a_IncompleteSignature.json"),
            "InvalidClient",
        ),
        (
            include_str!("fixtures/error_b_IncompleteSignature.json"),
            "InvalidClient",
        ),
        (
            include_str!("fixtures/error_a_IllegalRefreshToken.json"),
            "ReauthorizationRequired",
        ),
        (
            r#"{"type":"ISV","code":"InsufficientPermission","message":"no permission","request_id":"r1"}"#,
            "Provider",
        ),
        (
            r#"{"error_response":{"type":"ISP","code":"isp.sys-error","msg":"x","request_id":"r2"}}"#,
            "Provider",
        ),
    ] {
        for status in [200, 400] {
            let err = answer(status, Some(JSON), body).unwrap().unwrap_err();
            let name = format!("{err:?}");
            assert!(name.starts_with(expected), "{status} {body}: {name}");
            assert!(!matches!(err, Error::AccessTokenRejected { .. }));
        }
    }
}

#[test]
fn business_successes_pass() {
    for body in [
        r#"{"aliexpress_solution_order_get_response":{"result":{"total_count":0,"code":"IllegalAccessToken"},"rsp_code":"200"},"request_id":"2101d05f"}"#,
        r#"{"code":"0","data":{},"request_id":"x"}"#,
        r#"{"code":0}"#,
        "[]",
        "",
    ] {
        assert!(answer(200, Some(JSON), body).unwrap().is_ok(), "{body}");
    }
}

#[test]
fn needs_body_reads_the_head_only() {
    let settings = settings();
    for (status, content_type) in [
        (200, Some(JSON)),
        (200, None),
        (200, Some("application/vnd.iop+json")),
        (200, Some("text/javascript")),
        (400, Some(JSON)),
        (401, Some(JSON)),
        (403, None),
    ] {
        assert!(
            settings.api_answer_needs_body(status, &headers(content_type)),
            "{status} {content_type:?}"
        );
    }
    for (status, content_type) in [
        (500, Some(JSON)),
        (503, None),
        (429, Some(JSON)),
        (302, Some(JSON)),
        (200, Some("image/jpeg")),
        (200, Some("application/octet-stream")),
        (200, Some("text/html")),
        (400, Some("text/html")),
    ] {
        assert!(
            !settings.api_answer_needs_body(status, &headers(content_type)),
            "{status} {content_type:?}"
        );
    }
    let mut odd = HeaderMap::new();
    odd.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_bytes(b"application/json\xff").unwrap(),
    );
    assert!(!settings.api_answer_needs_body(200, &odd));
}

#[test]
fn status_classes() {
    let err = classify(
        503,
        Some("text/html"),
        include_str!("fixtures/html_502.html"),
    )
    .unwrap_err();
    assert!(err.is_retryable(), "{err:?}");
    let err = classify(429, Some(JSON), "{}").unwrap_err();
    assert!(matches!(err, Error::RateLimited { .. }), "{err:?}");
    // A bare 401 is not a verdict on the token.
    let err = classify(401, Some(JSON), "{}").unwrap_err();
    assert!(matches!(err, Error::Provider { .. }), "{err:?}");
}

#[test]
fn hostile_bodies_never_panic_nor_pass_for_a_rejected_token() {
    let huge = format!(
        r#"{{"code":"0","items":[{}]}}"#,
        r#"{"code":"IllegalAccessToken"},"#.repeat(50_000) + "1"
    );
    let deep = "[".repeat(100_000);
    let bodies: Vec<Vec<u8>> = vec![
        huge.into_bytes(),
        deep.into_bytes(),
        br#"{"code":"IllegalAccessToken""#.to_vec(),
        br#"{"code":["IllegalAccessToken"]}"#.to_vec(),
        br#"{"code":{"value":"IllegalAccessToken"}}"#.to_vec(),
        br#"{"error_response":"IllegalAccessToken"}"#.to_vec(),
        br#"{"error_response":{"code":"illegalaccesstoken"}}"#.to_vec(),
        br#"{"code":"InvalidApiPath","message":"IllegalAccessToken"}"#.to_vec(),
        b"{\"code\":\"Illegal\xffAccessToken\"}".to_vec(),
        b"\xff\xfe\x00{".to_vec(),
        vec![b' '; 1 << 20],
        br#"{"code":null,"msg":"IllegalAccessToken"}"#.to_vec(),
    ];
    for (i, body) in bodies.iter().enumerate() {
        for status in [200, 400, 401, 404, 500] {
            if let Err(err) = classify(status, Some(JSON), body.clone()) {
                assert!(
                    !matches!(err, Error::AccessTokenRejected { .. }),
                    "body {i}, {status}: {err:?}"
                );
                assert!(err.to_string().len() < 2_000, "body {i}");
            }
        }
    }
}

#[test]
fn no_token_in_error_texts() {
    let token = "50000600a13HqtdpXbJgGvNERvB9sbB1ca8cc1aqhTgTdkYl7tkjLdqCk0Rr1RUDJnB9i";
    for body in [
        format!(
            r#"{{"code":"IllegalAccessToken","message":"The access token {token} is invalid","request_id":"r"}}"#
        ),
        format!(
            r#"{{"error_response":{{"code":"IllegalAccessToken","msg":"session={token}","request_id":"r"}}}}"#
        ),
        format!(r#"{{"code":"InvalidApiPath","message":"access_token:{token}"}}"#),
    ] {
        for status in [200, 400] {
            let err = classify(status, Some(JSON), body.clone()).unwrap_err();
            let shown = format!("{err} {err:?}");
            assert!(!shown.contains("HqtdpXbJg"), "{shown}");
        }
    }
}
