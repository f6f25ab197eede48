//! Wire tests against httpmock: every request exactly as OrangeConnex
//! documents it (method, path, each query parameter, the raw query bytes,
//! an empty body, the `clientKey` header present or absent).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use httpmock::prelude::*;
use oauth_core::{
    AuthorizationCode, AuthorizationCodeGrant, ClientKey, CsrfState, EndpointUrl, Error,
    HttpClient, ManualClock, RefreshGrant, RefreshToken, RetryPolicy, TokenSet, parse_callback,
};
use oauth_orangeconnex::{Client, Environment, OrangeConnex, REFRESH_TOKEN_LIFETIME};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

const SUCCESS: &str = include_str!("fixtures/token_success.json");
const SUCCESS_NO_RT: &str = include_str!("fixtures/token_success_without_refresh_token.json");
const INVALID_GRANT: &str = include_str!("fixtures/error_invalid_grant.json");

const CLIENT_ID: &str = "3pp-client-7";
const REDIRECT_URI: &str = "https://app.example/oc/callback";
const CLIENT_KEY: &str = "ck-5f2a9e";
/// Unix time of the manual clock, in milliseconds.
const NOW_MS: u64 = 1_700_000_000_000;

fn now() -> SystemTime {
    oauth_core::from_unix_millis(NOW_MS)
}

fn http() -> HttpClient {
    HttpClient::builder()
        .timeout(Duration::from_secs(5))
        .retry_policy(RetryPolicy::none())
        .build()
        .unwrap()
}

fn client(server: &MockServer, client_key: Option<&str>) -> Client {
    let mut settings = OrangeConnex::new(CLIENT_ID, REDIRECT_URI);
    if let Some(key) = client_key {
        settings = settings.client_key(ClientKey::new(key));
    }
    Client::builder(settings)
        .environment(Environment::Custom(
            EndpointUrl::parse(&server.base_url()).unwrap(),
        ))
        .http_client(http())
        .clock(Arc::new(ManualClock::new(now())))
        .build()
        .unwrap()
}

fn raw_query_is(expected: &'static str) -> impl Fn(&HttpMockRequest) -> bool + Send + Sync {
    move |req: &HttpMockRequest| req.uri().query() == Some(expected)
}

fn empty_body(req: &HttpMockRequest) -> bool {
    req.body_ref().is_empty()
}

#[test]
fn authorize_url_is_exact() {
    let server = MockServer::start();
    let client = client(&server, Some(CLIENT_KEY));
    let url = client
        .authorize_url(&CsrfState::from_stored("st-42"))
        .unwrap();
    assert_eq!(
        url.as_str(),
        format!(
            "{}/oauth/authorize?response_type=code&client_id=3pp-client-7&redirect_uri=https%3A%2F%2Fapp.example%2Foc%2Fcallback&state=st-42",
            server.base_url()
        )
    );
    // The trait method gives the same URL.
    let via_trait =
        AuthorizationCodeGrant::authorize_url(&client, &CsrfState::from_stored("st-42")).unwrap();
    assert_eq!(via_trait, url);
}

#[tokio::test]
async fn code_exchange_puts_every_parameter_in_the_query_with_client_key() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(POST)
                .path("/oauth/token")
                .query_param("client_id", CLIENT_ID)
                .query_param("grant_type", "authorization_code")
                .query_param("redirect_uri", REDIRECT_URI)
                .query_param("code", "c0de-123")
                .is_true(raw_query_is(
                    "client_id=3pp-client-7&grant_type=authorization_code&redirect_uri=https%3A%2F%2Fapp.example%2Foc%2Fcallback&code=c0de-123",
                ))
                .header("clientKey", CLIENT_KEY)
                .header("accept", "application/json")
                .header_missing("content-type")
                .header_missing("authorization")
                .is_true(empty_body);
            then.status(200)
                .header("content-type", "application/json;charset=UTF-8")
                .body(SUCCESS);
        })
        .await;
    let client = client(&server, Some(CLIENT_KEY));
    let response = client
        .exchange_code(&AuthorizationCode::new("c0de-123"))
        .await
        .unwrap();
    mock.assert_async().await;
    assert_eq!(
        response.access_token.expose_secret(),
        "3f6c1c2e-8a4b-4d1e-9b7a-5c2d8e0f1a23"
    );
    assert_eq!(
        response.refresh_token.as_ref().unwrap().expose_secret(),
        "9d2b7e41-0c5f-4a86-b3e2-7f1a6c9d4e58"
    );
    assert_eq!(response.expires_in, Some(3599));
    assert_eq!(response.token_type.as_deref(), Some("bearer"));

    let set = AuthorizationCodeGrant::exchange_code(&client, &AuthorizationCode::new("c0de-123"))
        .await
        .unwrap();
    assert_eq!(mock.calls_async().await, 2);
    assert_eq!(set.expires_at, now() + Duration::from_secs(3599));
    assert_eq!(set.token_type.as_str(), "bearer");
    assert_eq!(
        set.refresh_token_expires_at,
        Some(now() + REFRESH_TOKEN_LIFETIME)
    );
}

#[tokio::test]
async fn code_exchange_without_client_key_sends_no_client_key_header() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(POST)
                .path("/oauth/token")
                .is_true(raw_query_is(
                    "client_id=3pp-client-7&grant_type=authorization_code&redirect_uri=https%3A%2F%2Fapp.example%2Foc%2Fcallback&code=abc",
                ))
                .header_missing("clientKey")
                .is_true(empty_body);
            then.status(200).body(SUCCESS);
        })
        .await;
    client(&server, None)
        .exchange_code(&AuthorizationCode::new("abc"))
        .await
        .unwrap();
    mock.assert_async().await;
}

#[tokio::test]
async fn refresh_puts_every_parameter_in_the_query_with_client_key() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(POST)
                .path("/oauth/token")
                .query_param("client_id", CLIENT_ID)
                .query_param("grant_type", "refresh_token")
                .query_param("refresh_token", "rt/old+1=")
                .query_param_missing("code")
                .query_param_missing("redirect_uri")
                .is_true(raw_query_is(
                    "client_id=3pp-client-7&grant_type=refresh_token&refresh_token=rt%2Fold%2B1%3D",
                ))
                .header("clientKey", CLIENT_KEY)
                .header_missing("content-type")
                .header_missing("authorization")
                .is_true(empty_body);
            then.status(200).body(SUCCESS);
        })
        .await;
    let response = client(&server, Some(CLIENT_KEY))
        .refresh(&current("rt/old+1="))
        .await
        .unwrap();
    mock.assert_async().await;
    assert_eq!(
        response.access_token.expose_secret(),
        "3f6c1c2e-8a4b-4d1e-9b7a-5c2d8e0f1a23"
    );
}

#[tokio::test]
async fn refresh_without_client_key_sends_no_client_key_header() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(POST)
                .path("/oauth/token")
                .is_true(raw_query_is(
                    "client_id=3pp-client-7&grant_type=refresh_token&refresh_token=rt-1",
                ))
                .header_missing("clientKey")
                .is_true(empty_body);
            then.status(200).body(SUCCESS_NO_RT);
        })
        .await;
    client(&server, None)
        .refresh(&current("rt-1"))
        .await
        .unwrap();
    mock.assert_async().await;
}

/// The documentation's code example carries `%252F`: the code is itself
/// URL-encoded base64. The callback decodes once (`%2F`), the token request
/// encodes once (`%252F` again).
#[tokio::test]
async fn doubly_encoded_code_survives_intact() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(POST)
                .path("/oauth/token")
                .query_param("code", "T2MtY29kZQ%2F%2Bx%3D%3D")
                .is_true(raw_query_is(
                    "client_id=3pp-client-7&grant_type=authorization_code&redirect_uri=https%3A%2F%2Fapp.example%2Foc%2Fcallback&code=T2MtY29kZQ%252F%252Bx%253D%253D",
                ));
            then.status(200).body(SUCCESS);
        })
        .await;
    let state = CsrfState::from_stored("st-9");
    let landed = "https://app.example/oc/callback?code=T2MtY29kZQ%252F%252Bx%253D%253D&state=st-9";
    let callback = parse_callback(landed, &state).unwrap();
    assert_eq!(callback.code.expose_secret(), "T2MtY29kZQ%2F%2Bx%3D%3D");
    let set = client(&server, None)
        .exchange_code(&callback.code)
        .await
        .unwrap();
    mock.assert_async().await;
    assert_eq!(
        set.access_token.expose_secret(),
        "3f6c1c2e-8a4b-4d1e-9b7a-5c2d8e0f1a23"
    );
}

fn current(refresh_token: &str) -> TokenSet {
    TokenSet::new(oauth_core::AccessToken::new("old-at"), now()).with_refresh_token(
        RefreshToken::new(refresh_token),
        Some(now() + Duration::from_secs(1000)),
    )
}

#[tokio::test]
async fn refresh_without_refresh_token_in_the_answer_keeps_the_old_one() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method(POST).path("/oauth/token");
            then.status(200).body(SUCCESS_NO_RT);
        })
        .await;
    let set = client(&server, None)
        .refresh(&current("rt-old"))
        .await
        .unwrap();
    assert_eq!(
        set.access_token.expose_secret(),
        "b71e0a9c-2d4f-4e63-8c1b-a5f9d3e7c024"
    );
    assert_eq!(set.expires_at, now() + Duration::from_secs(3600));
    assert_eq!(set.refresh_token.unwrap().expose_secret(), "rt-old");
    assert_eq!(
        set.refresh_token_expires_at,
        Some(now() + Duration::from_secs(1000))
    );
}

#[tokio::test]
async fn refresh_with_a_new_refresh_token_replaces_the_old_one() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method(POST).path("/oauth/token");
            then.status(200).body(SUCCESS);
        })
        .await;
    let client = client(&server, None);
    assert!(client.rotates_refresh_token());
    let set = client.refresh(&current("rt-old")).await.unwrap();
    assert_eq!(
        set.refresh_token.unwrap().expose_secret(),
        "9d2b7e41-0c5f-4a86-b3e2-7f1a6c9d4e58"
    );
    assert_eq!(
        set.refresh_token_expires_at,
        Some(now() + REFRESH_TOKEN_LIFETIME)
    );
}

#[tokio::test]
async fn refresh_returning_the_same_refresh_token_keeps_its_expiry() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method(POST).path("/oauth/token");
            then.status(200).body(SUCCESS);
        })
        .await;
    let set = client(&server, None)
        .refresh(&current("9d2b7e41-0c5f-4a86-b3e2-7f1a6c9d4e58"))
        .await
        .unwrap();
    assert_eq!(
        set.refresh_token_expires_at,
        Some(now() + Duration::from_secs(1000))
    );
}

#[tokio::test]
async fn refresh_without_a_stored_refresh_token_sends_nothing() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.path("/oauth/token");
            then.status(200).body(SUCCESS);
        })
        .await;
    let set = TokenSet::new(oauth_core::AccessToken::new("at"), now());
    let err = client(&server, None).refresh(&set).await.unwrap_err();
    assert!(err.requires_reauthorization(), "{err:?}");
    assert_eq!(mock.calls_async().await, 0);
}

#[tokio::test]
async fn error_body_with_200_is_a_failure_on_the_wire() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method(POST).path("/oauth/token");
            then.status(200)
                .header("content-type", "application/json")
                .body(INVALID_GRANT);
        })
        .await;
    let err = client(&server, None)
        .refresh(&current("rt-old"))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::ReauthorizationRequired { details } if details.status() == Some(200)),
        "{err:?}"
    );
    assert_eq!(err.provider_code(), Some("invalid_grant"));
}

#[tokio::test]
async fn server_errors_are_not_retried_because_refresh_may_rotate() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(POST).path("/oauth/token");
            then.status(503)
                .header("content-type", "text/html")
                .body("<h1>busy</h1>");
        })
        .await;
    let http = HttpClient::builder()
        .retry_policy(RetryPolicy {
            max_attempts: 3,
            base_delay: Duration::from_millis(5),
            max_delay: Duration::from_millis(20),
        })
        .build()
        .unwrap();
    let client = Client::builder(OrangeConnex::new(CLIENT_ID, REDIRECT_URI))
        .environment(Environment::Custom(
            EndpointUrl::parse(&server.base_url()).unwrap(),
        ))
        .http_client(http)
        .build()
        .unwrap();
    let err = client.refresh(&current("rt-old")).await.unwrap_err();
    assert!(err.is_retryable(), "{err:?}");
    assert_eq!(mock.calls_async().await, 1);
    let err = client
        .exchange_code(&AuthorizationCode::new("code-1"))
        .await
        .unwrap_err();
    assert!(err.is_retryable(), "{err:?}");
    assert_eq!(mock.calls_async().await, 2);
}
