//! The HTTP plumbing against a real loopback server (httpmock).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use httpmock::prelude::*;
use oauth_core::transport::classify::oauth_error;
use oauth_core::{Error, HttpClient, Params, RetryPolicy, Scopes, TokenRequest, TransientCause};
use std::time::Duration;
use url::Url;

const SENTINEL: &str = "SENTINELrefresh0123456789";

fn client() -> HttpClient {
    HttpClient::builder()
        .timeout(Duration::from_millis(500))
        .retry_policy(RetryPolicy::none())
        .build()
        .unwrap()
}

fn request(server: &MockServer, path: &str) -> TokenRequest {
    TokenRequest::post(
        "test",
        "refresh_token",
        Url::parse(&server.url(path)).unwrap(),
    )
}

#[tokio::test]
async fn sends_exact_form_and_reads_the_body() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(POST)
                .path("/token")
                .query_param("a", "1 2")
                .header("content-type", "application/x-www-form-urlencoded")
                .header("accept", "application/json")
                .body("grant_type=refresh_token&refresh_token=r%2Bt%2F%3D");
            then.status(200)
                .header("content-type", "application/json")
                .body(r#"{"ok":true}"#);
        })
        .await;
    let response = client()
        .send(
            &request(&server, "/token")
                .query(Params::new().plain("a", "1 2"))
                .form(
                    Params::new()
                        .plain("grant_type", "refresh_token")
                        .secret("refresh_token", "r+t/="),
                ),
        )
        .await
        .unwrap();
    mock.assert_async().await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.body(), br#"{"ok":true}"#);
    assert_eq!(response.content_type(), Some("application/json"));
}

#[tokio::test]
async fn timeout_is_transient_and_hides_the_url() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.path("/slow");
            then.status(200).delay(Duration::from_secs(3)).body("{}");
        })
        .await;
    let err = client()
        .send(&request(&server, "/slow").query(Params::new().secret("refresh_token", SENTINEL)))
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Transient {
                cause: TransientCause::Timeout,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.is_retryable());
    let text = format!("{err} {err:?}");
    assert!(
        !text.contains(SENTINEL) && !text.contains("/slow"),
        "{text}"
    );
}

#[tokio::test]
async fn connection_refused_never_shows_the_token_in_the_url() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let url = Url::parse(&format!("http://127.0.0.1:{port}/oauth/token")).unwrap();
    let err = client()
        .send(
            &TokenRequest::post("test", "refresh_token", url)
                .query(Params::new().secret("refresh_token", SENTINEL)),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Transient {
                cause: TransientCause::Connect,
                ..
            }
        ),
        "{err:?}"
    );
    let text = format!("{err} {err:?}");
    assert!(!text.contains(SENTINEL), "{text}");
    assert!(!text.contains("127.0.0.1"), "{text}");
}

#[tokio::test]
async fn redirects_are_not_followed() {
    let server = MockServer::start_async().await;
    let target = server
        .mock_async(|when, then| {
            when.path("/elsewhere");
            then.status(200).body(r#"{"access_token":"x"}"#);
        })
        .await;
    server
        .mock_async(|when, then| {
            when.path("/token");
            then.status(302)
                .header("location", "https://evil.example/steal");
        })
        .await;
    let response = client().send(&request(&server, "/token")).await.unwrap();
    assert_eq!(response.status(), 302);
    assert_eq!(target.calls_async().await, 0);
    let err = oauth_error(&response, &Scopes::new());
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
    assert!(!err.to_string().contains("evil.example"));
}

#[tokio::test]
async fn oversized_bodies_are_refused() {
    let server = MockServer::start_async().await;
    let big = "x".repeat(64 * 1024 + 1);
    server
        .mock_async(|when, then| {
            when.path("/big");
            then.status(200).body(big);
        })
        .await;
    let err = client().send(&request(&server, "/big")).await.unwrap_err();
    match &err {
        Error::UnexpectedResponse {
            reason, excerpt, ..
        } => {
            assert!(reason.contains("larger than 65536 bytes"), "{reason}");
            assert!(excerpt.is_empty());
        }
        other => panic!("{other:?}"),
    }
    // Exactly at the cap is fine.
    let server2 = MockServer::start_async().await;
    server2
        .mock_async(|when, then| {
            when.path("/cap");
            then.status(200).body("y".repeat(64 * 1024));
        })
        .await;
    let ok = client().send(&request(&server2, "/cap")).await.unwrap();
    assert_eq!(ok.body().len(), 64 * 1024);
}

#[tokio::test]
async fn html_502_gives_a_transient_error_with_a_short_excerpt() {
    let server = MockServer::start_async().await;
    let page = format!(
        "<html><head><title>502 Bad Gateway</title></head><body>{}</body></html>",
        "<p>upstream unavailable</p>".repeat(200)
    );
    server
        .mock_async(|when, then| {
            when.path("/token");
            then.status(502)
                .header("content-type", "text/html")
                .body(page);
        })
        .await;
    let response = client().send(&request(&server, "/token")).await.unwrap();
    let err = oauth_error(&response, &Scopes::new());
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
    let text = err.to_string();
    assert!(text.contains("502 Bad Gateway"), "{text}");
    assert!(text.len() < 400, "{}", text.len());
}

#[tokio::test]
async fn retries_only_what_is_safe() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.path("/token");
            then.status(503).body("down");
        })
        .await;
    let retrying = HttpClient::builder()
        .retry_policy(RetryPolicy {
            max_attempts: 3,
            base_delay: Duration::from_millis(1),
            max_delay: Duration::from_millis(5),
        })
        .build()
        .unwrap();
    // A grant that rotates its refresh token is not repeated after a 5xx.
    let response = retrying.send(&request(&server, "/token")).await.unwrap();
    assert_eq!(response.status(), 503);
    assert_eq!(mock.calls_async().await, 1);
    // A safe one is, up to the attempt limit.
    let response = retrying
        .send(&request(&server, "/token").retry_safe(true))
        .await
        .unwrap();
    assert_eq!(response.status(), 503);
    assert_eq!(mock.calls_async().await, 4);
}

#[tokio::test]
async fn non_loopback_plain_http_is_refused_before_sending() {
    let url = Url::parse("http://api.ebay.com/identity/v1/oauth2/token").unwrap();
    let err = client()
        .send(&TokenRequest::post("test", "refresh_token", url))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Configuration { .. }), "{err:?}");
}

#[cfg(feature = "reqwest")]
#[tokio::test]
async fn a_user_client_that_follows_redirects_is_refused() {
    use oauth_core::transport::ReqwestTransport;
    use std::sync::Arc;

    let server = MockServer::start_async().await;
    let target = server
        .mock_async(|when, then| {
            when.path("/elsewhere");
            then.status(200).body(r#"{"access_token":"x"}"#);
        })
        .await;
    server
        .mock_async(|when, then| {
            when.path("/token");
            then.status(307).header("location", "/elsewhere");
        })
        .await;
    // reqwest's default policy follows up to 10 redirects.
    let own = reqwest::Client::builder().no_proxy().build().unwrap();
    let client = HttpClient::builder()
        .transport(Arc::new(ReqwestTransport::from_client(own)))
        .retry_policy(RetryPolicy::none())
        .build()
        .unwrap();
    let err = client.send(&request(&server, "/token")).await.unwrap_err();
    match &err {
        Error::UnexpectedResponse { reason, .. } => {
            assert!(reason.contains("followed a redirect"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(target.calls_async().await, 1);

    // Without redirects, the 3xx itself comes back, as with our own client.
    let own = reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let client = HttpClient::builder()
        .transport(Arc::new(ReqwestTransport::from_client(own)))
        .build()
        .unwrap();
    let response = client.send(&request(&server, "/token")).await.unwrap();
    assert_eq!(response.status(), 307);
    assert_eq!(target.calls_async().await, 1);
}
