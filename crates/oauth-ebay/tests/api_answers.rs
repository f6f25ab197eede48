//! eBay's answers to API calls, as the middleware sees them: which are read
//! (`api_answer_needs_body`) and how they are classified
//! (`classify_api_response`). Each fixture is a shape from
//! `tests/fixtures/README.md`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use oauth_core::http_types::{HeaderMap, HeaderValue, header};
use oauth_core::test_util::api_answers::{self, headers};
use oauth_core::{ClientSecret, Error, Provider};
use oauth_ebay::{Ebay, XML_SCAN_LIMIT};

const JSON: &str = "application/json";
const XML: &str = "text/xml;charset=utf-8";

fn ebay() -> Ebay {
    Ebay::new("App-ID", ClientSecret::new("cert"))
}

/// What the middleware does: the head decides whether the body is read.
fn answer(
    status: u16,
    content_type: Option<&str>,
    body: impl Into<Vec<u8>>,
) -> Option<Result<(), Error>> {
    api_answers::middleware_view(&ebay(), status, content_type, body)
}

fn classify(
    status: u16,
    content_type: Option<&str>,
    body: impl Into<Vec<u8>>,
) -> Result<(), Error> {
    api_answers::classify(&ebay(), status, content_type, body)
}

#[test]
fn rest_401_invalid_access_token_is_rejected() {
    let body = include_str!("fixtures/api_401_invalid_access_token.json");
    let err = answer(401, Some(JSON), body)
        .expect("a 401 is read")
        .unwrap_err();
    assert!(matches!(err, Error::AccessTokenRejected { .. }), "{err:?}");
    assert_eq!(err.provider_code(), Some("1001"));
    let details = err.details().unwrap();
    assert_eq!(details.status(), Some(401));
    assert_eq!(details.message(), Some("Invalid access token"));
    // Any 401 means the token was refused, whatever its body.
    for body in ["", "{}", "<html>401</html>", r#"{"errors":"x"}"#] {
        let err = answer(401, None, body).unwrap().unwrap_err();
        assert!(
            matches!(err, Error::AccessTokenRejected { .. }),
            "{body}: {err:?}"
        );
    }
}

#[test]
fn rest_403_permissions_are_not_a_rejected_token() {
    for body in [
        include_str!("fixtures/api_403_insufficient_permissions.json"),
        include_str!("fixtures/api_403_insufficient_permissions_catalog.json"),
    ] {
        // The middleware passes a 403 through unread ...
        assert!(answer(403, Some(JSON), body).is_none());
        // ... and a caller who classifies it gets a provider error.
        let err = classify(403, Some(JSON), body).unwrap_err();
        assert!(matches!(err, Error::Provider { .. }), "{err:?}");
        assert_eq!(err.provider_code(), Some("1100"));
        assert!(!err.is_retryable());
    }
}

#[test]
fn rest_other_statuses() {
    assert!(classify(200, Some(JSON), r#"{"inventoryItems":[]}"#).is_ok());
    assert!(classify(204, None, "").is_ok());
    let err = classify(
        429,
        Some(JSON),
        include_str!("fixtures/error_429_rate_limited.json"),
    )
    .unwrap_err();
    assert!(matches!(err, Error::RateLimited { .. }), "{err:?}");
    let err = classify(
        503,
        Some("text/html"),
        include_str!("fixtures/error_503_service_unavailable.html"),
    )
    .unwrap_err();
    assert!(matches!(err, Error::Transient { .. }), "{err:?}");
    let err = classify(
        400,
        Some(JSON),
        r#"{"errors":[{"errorId":25002,"message":"Bad SKU"}]}"#,
    )
    .unwrap_err();
    assert!(matches!(err, Error::Provider { .. }), "{err:?}");
    assert_eq!(err.provider_code(), Some("25002"));
    for status in [200, 204, 400, 403, 404, 429, 500, 503] {
        assert!(answer(status, Some(JSON), "{}").is_none(), "{status}");
    }
}

#[test]
fn trading_token_errors_are_rejected() {
    for (fixture, code) in [
        (
            include_str!("fixtures/trading_200_invalid_iaf_token.xml"),
            "21916984",
        ),
        (
            include_str!("fixtures/trading_200_iaf_token_expired.xml"),
            "21917053",
        ),
        (
            include_str!("fixtures/trading_200_auth_token_invalid.xml"),
            "931",
        ),
        (
            include_str!("fixtures/trading_200_auth_token_hard_expired.xml"),
            "932",
        ),
    ] {
        for content_type in [
            XML,
            "text/xml",
            "application/xml",
            "TEXT/XML; charset=UTF-8",
        ] {
            let err = answer(200, Some(content_type), fixture)
                .expect("a 200 XML answer is read")
                .unwrap_err();
            assert!(
                matches!(err, Error::AccessTokenRejected { .. }),
                "{code}: {err:?}"
            );
            assert_eq!(err.provider_code(), Some(code));
            assert_eq!(err.details().unwrap().status(), Some(200));
        }
    }
    let err = classify(
        200,
        Some(XML),
        include_str!("fixtures/trading_200_iaf_token_expired.xml"),
    )
    .unwrap_err();
    assert_eq!(err.request_id(), Some("req-7f3a"));
    assert_eq!(err.details().unwrap().message(), Some("Expired IAF token."));
}

#[test]
fn trading_other_answers() {
    let err = classify(
        200,
        Some(XML),
        include_str!("fixtures/trading_200_failure_item_not_found.xml"),
    )
    .unwrap_err();
    assert!(matches!(err, Error::Provider { .. }), "{err:?}");
    assert_eq!(err.provider_code(), Some("17"));
    let err = classify(
        200,
        Some(XML),
        include_str!("fixtures/trading_200_token_required.xml"),
    )
    .unwrap_err();
    assert!(matches!(err, Error::Provider { .. }), "{err:?}");
    assert_eq!(err.provider_code(), Some("930"));
    assert!(
        err.details()
            .unwrap()
            .message()
            .unwrap()
            .contains("<RequestToken>")
    );
    let err = classify(
        200,
        Some(XML),
        include_str!("fixtures/trading_200_failure_system_error.xml"),
    )
    .unwrap_err();
    assert!(matches!(err, Error::Transient { .. }), "{err:?}");
    // A warning about the token is not a failure.
    assert!(
        classify(
            200,
            Some(XML),
            include_str!("fixtures/trading_200_success_with_warning.xml")
        )
        .is_ok()
    );
    let success = r#"<?xml version="1.0"?><GetUserResponse xmlns="urn:ebay:apis:eBLBaseComponents"><Ack>Success</Ack></GetUserResponse>"#;
    assert_eq!(answer(200, Some(XML), success).unwrap().ok(), Some(()));
    // PartialFailure: part of the call was applied, so it is never a rejected
    // token (a retry could apply that part twice), even with a token error.
    let partial = |code: &str| {
        format!(
            "<R><Ack>PartialFailure</Ack><Errors><ErrorCode>{code}</ErrorCode><SeverityCode>Error</SeverityCode></Errors></R>"
        )
    };
    assert!(classify(200, Some(XML), partial("17")).is_ok());
    assert!(classify(200, Some(XML), partial("931")).is_ok());
    // An XML body without a content type is still recognised when classified.
    let err = classify(
        200,
        None,
        include_str!("fixtures/trading_200_invalid_iaf_token.xml"),
    )
    .unwrap_err();
    assert!(matches!(err, Error::AccessTokenRejected { .. }), "{err:?}");
    // A token code in a warning, or outside `Errors`, is not a rejection.
    let body = "<R><Ack>Failure</Ack><ErrorCode>931</ErrorCode><Errors><ErrorCode>17</ErrorCode></Errors></R>";
    assert!(matches!(
        classify(200, Some(XML), body).unwrap_err(),
        Error::Provider { .. }
    ));
    let body = "<R><Ack>Failure</Ack><Errors><ErrorCode>931</ErrorCode><SeverityCode>Warning</SeverityCode></Errors><Errors><ErrorCode>17</ErrorCode></Errors></R>";
    assert!(matches!(
        classify(200, Some(XML), body).unwrap_err(),
        Error::Provider { .. }
    ));
}

#[test]
fn needs_body_reads_the_head_only() {
    let ebay = ebay();
    assert!(ebay.api_answer_needs_body(401, &headers(None)));
    assert!(ebay.api_answer_needs_body(401, &headers(Some(JSON))));
    assert!(ebay.api_answer_needs_body(200, &headers(Some(XML))));
    assert!(ebay.api_answer_needs_body(200, &headers(Some("application/soap+xml"))));
    for (status, content_type) in [
        (200, Some(JSON)),
        (200, None),
        (201, Some("text/html")),
        (403, Some(JSON)),
        (403, Some(XML)),
        (500, Some(XML)),
        (404, None),
    ] {
        assert!(
            !ebay.api_answer_needs_body(status, &headers(content_type)),
            "{status} {content_type:?}"
        );
    }
    let mut odd = HeaderMap::new();
    odd.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_bytes(b"text/xml\xff").unwrap(),
    );
    assert!(!ebay.api_answer_needs_body(200, &odd));
}

#[test]
fn hostile_bodies_never_panic_nor_pass_for_a_rejected_token() {
    let huge_ok = format!(
        "<R><Ack>Success</Ack>{}</R>",
        "<Item>x</Item>".repeat(100_000)
    );
    let late_error = format!(
        "<R>{}<Ack>Failure</Ack><Errors><ErrorCode>931</ErrorCode></Errors></R>",
        " ".repeat(XML_SCAN_LIMIT)
    );
    let nested = "<Errors>".repeat(10_000);
    let many = "<Errors><ErrorCode>17</ErrorCode></Errors>".repeat(5_000);
    let bodies: Vec<Vec<u8>> = vec![
        huge_ok.into_bytes(),
        late_error.into_bytes(),
        nested.into_bytes(),
        format!("<R><Ack>Failure</Ack>{many}</R>").into_bytes(),
        b"<R><Ack>Failure</Ack><Errors><ErrorCode>\xff\xfe</ErrorCode></Errors></R>".to_vec(),
        b"<R><Ack>Failure</Ack><Errors><ErrorCode>93".to_vec(),
        b"<R><Ack>Failure</Ack><Errors><ErrorCode>9310</ErrorCode></Errors></R>".to_vec(),
        b"<R><Ack>Failure</Ack><Errors><ErrorCode><![CDATA[931]]></ErrorCode></Errors></R>"
            .to_vec(),
        b"<R><Ack>Failure</Ack><Errors><ErrorCode>931".to_vec(),
        b"\xef\xbb\xbf<<<<////>>>>".to_vec(),
        vec![0u8; 1 << 20],
        b"{\"errors\":[{\"errorId\":{\"x\":1},\"message\":[1]}]}".to_vec(),
        b"{\"errors\":[{\"errorId\":1001,\"message\":\"Invalid access token\"".to_vec(),
    ];
    for (i, body) in bodies.iter().enumerate() {
        for (status, content_type) in [
            (200, Some(XML)),
            (200, None),
            (400, Some(JSON)),
            (403, Some(XML)),
            (500, Some(XML)),
        ] {
            let result = classify(status, content_type, body.clone());
            if let Err(err) = &result {
                // Only the truncated-but-complete-code body (index 8) is a
                // rejection, and only in a 2xx.
                let rejected = matches!(err, Error::AccessTokenRejected { .. });
                assert_eq!(
                    rejected,
                    i == 8 && status == 200,
                    "body {i}, {status}: {err:?}"
                );
                let text = err.to_string();
                assert!(
                    text.len() < 2_000,
                    "body {i}: {} bytes of error",
                    text.len()
                );
            }
        }
    }
}

#[test]
fn no_token_in_error_texts() {
    let token = "v^1.1#i^1#p^3#r^1#I^3#f^0#t^H4sIAAAAAAAAAOVYa2wUVRTebbdAhYIJCEqILgP+IDizd3Z2Zh+yq9vSwmLbbbsttI2Ac2fu7A6d3dnM3bVdIzSuSBsTolQTVzHyA6OiEF9BEUOMoqhJQRJfieAL0USoMRoJtBFxZrct22oAsfxo3D+bOffcc77vnHPn3HtB79TKpdtWbTtfZZ1WtrsX9JZZrfQMUDm1Ytmc8rIFFRZQpGDd3bukt6DP/qQKc0klmWwGOFNTsYwXWpKMKpJGBfuIqFHjZOAJYZQMaKYfGGN5yaOhw2D2LJmF2s45nr8QzsUBISwYILcsSJPo0QbHBICSBBkWYYbtmQDNQYMrJ7poVuYExdFl2rgpQ6hhz6GmBjlGMI9AJCoqhYiSTHkkzuUZnHA4JQo1Zk0bRGRsUNEqGJLHBH0w1KjHcfh/AXiC6gEn7uHA8VvjHVKVzCDPZSKV7H1hOLTsUhLJcZ8jDNm1y/lxL8qQz84dYuUGKcpgvLq/XTv9GqM15ntSz9P+5qTlRPbd4XW1zjUGMbl7L6vrMybgcLcbGLwBghZR4eG0vJFW7xi6QOe0G4eF1D4rDS81q7+b7CHIw2V1zKpafUmr5MDJFRu2JzvtXOZ4GWhYuOf2zEDzjnJnxeTqpQeDpl+jhX7k9JJfBrnBkk36dMpHPgM81YEGBV9bH+I22fnpmTa1mH53VzLkPaWnULA7fPaS2IuRLNduCbRj4jZUE8gscQnn9BGZj+jx+6OoRLnWdYJFKlqd7UmOmO4uRJn1m1tRYlylVJGqslXZeImlzx47fVhqrTbF8nedMFq12FRTRUkkD1q6u3XWNHyIJpaHUnKQTuHTVHqvubK03N+9F+k6y+6qS5uUAvbx1LFX6/7J0yUmzWg6LhE1nHKDxt4lMdA3Bsmh8sgqC1NZdIZkmyEG9KLFaJNw6tSqqxxv9Jf3HbUvF3cSXpPXOIy5yjfcc3ZUWqeHsfv3L4rPP+pYNVpjZS7ww+Y/bf+EzP/6utaFMxJ1NHUurS2r22zzlpz/nPSRtZZ8nJ2Gz+tDTS5mvKm1GD3c0TgV8RW48Ftty/X1I5Nyq+7DOw95XHHS5/jOPPqyxNX/ekp5Rs6f2yZc4kDXLdw99fMZRZ/cUOX/5bf+zzvdjY1ezXDzW+J2T+9bQUbdszybRnKNXtOw9WdlHDBTvm3O4q8p3LmL77uOnzx0Z3CBkL3zYP2qTbrFrp9jJ0b6sD81QpHBXVNBHP8FoB7yXxW5I3rL+v1mXyE+V5ik90bMyKJ8hVE/+SEMkV62E5+XQu1bkjFhKV4dGxrnU3nqeHfiVBzuCzg52CsP18SyyXsWLUUYUtc8U2yQQ5ZdPLsdLbhcyiRYbxUowZBMiXSG5TW+lS8lPvx2aluaKfb9EHtSCSwO1d0jHwa+9YkGqWTbXuHd0Pro3M4rXlhjrs3ta5tr+uRN01y34OvBx/w1/d9+3TswiHNgcL9L6JvfT+MnzjjF0blrfdtbEwPXJd49H2uwPP/zAx8e+IxR/SXzlt9tk1+0dHmlB+lxdnrf/n5+Eb1hD8MVqHR7//3NNnzfnePX9T/+c4XvGTz4w1/Knl0/5YdZbXdzrPYkF3efqL3f/4JiS1/2nhKpsXnr1xa/PnaorSldFK9Kx+Jrz7F9p+cJ/d0XpGZfV8B4qkaFGg+S1StO38JGS3aTymKu+8ZR1vv/NbRrAu7+e+k/a+tLHYm/HtvZMf/mrtT3dH7+9esMHU3XfemvrS2OvpgyZzmnwGqzZeqfdXXrebz4pbfT+d4ku6aJYdJBdSfhe/2m+PvaF9u35Vu+3B3LLzqFFmxa/U9P93pFn1+uVR3SrK++d3mNoLTvh9bffr7x0pbafvTsVhc2XvC/8jt2+dUwp7FcmHJ2VbU7Pj8bvtoS7HrrBUrPNnxmxZD7Nr6xfWWfXrl4Nlb5x55bs+Jz+eX3HlxLumNkPnZpeuu6hR2+O3c2UPHTx15XHdi6fNfKytXv7U+D21/l9dbPmN5O6lbmrHlr1fkfbHq7dq/bx/V+8rvUZn1d+9buPvrXd9z6ZBuHeQFGcRGWOhTxatVQ+3xQ7Z7x9Jw7OuSF11cfPXnXdPLrZfz6YPpbR35B9vmWPEtbwdfGTV6kvtV3S7LYXcSFJ81+3WNYW4fdFv9vJZxeUvVr3VlLlTxPMDuVz7R3r9gxtT6lfcSQyzyQWPXFMsJpXqvLlu7e1e9Dc35nx8p7d1y7p3Pbn4TXmntA/ORhuHLtnxOD/lR+1hPJtWaR8AAA==";
    let bodies = [
        format!(
            r#"{{"errors":[{{"errorId":1001,"domain":"OAuth","message":"Invalid access token {token}"}}]}}"#
        ),
        format!(
            "<R><Ack>Failure</Ack><Errors><ShortMessage>Invalid IAF token {token}</ShortMessage><ErrorCode>21916984</ErrorCode></Errors></R>"
        ),
        format!(
            "<R><Ack>Failure</Ack><Errors><ShortMessage>Item {token}</ShortMessage><ErrorCode>17</ErrorCode></Errors></R>"
        ),
        format!("<html>{token}</html>"),
    ];
    for body in bodies {
        for (status, content_type) in [(401, Some(JSON)), (200, Some(XML)), (403, Some(XML))] {
            if let Err(err) = classify(status, content_type, body.clone()) {
                let shown = format!("{err} {err:?}");
                assert!(!shown.contains("H4sIAAAA"), "{shown}");
                assert!(!shown.contains("v^1.1#i^1#p^3"), "{shown}");
            }
        }
    }
}
