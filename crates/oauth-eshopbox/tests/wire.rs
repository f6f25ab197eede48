//! Wire tests: the exact request Eshopbox receives and the decoding of its
//! documented answers, against a local httpmock server.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use httpmock::prelude::*;
use oauth_core::{
    EndpointUrl, Error, HttpClient, ManualClock, RefreshGrant, RetryPolicy, TokenSet,
    from_unix_millis,
};
use oauth_eshopbox::{
    Client, ClientExt, ClientSecret, Environment, Eshopbox, RefreshToken, TokenResponse,
};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const PATH: &str = "/api/v1/generateToken";
const CLIENT_ID: &str = "esb-client-id-1";
const CLIENT_SECRET: &str = "SECRETcs7f3a9c2e1b";
const REFRESH_TOKEN: &str = "REFRESHrt4d5e6f7a8b";
const NOW_MS: u64 = 1_700_000_000_000;

const DOC_GENERATING: &str = include_str!("fixtures/token_generating_access_token_doc.json");
const DOC_REFRESH: &str = include_str!("fixtures/token_refresh_access_token_doc.json");
const NO_ID_TOKEN: &str = include_str!("fixtures/token_without_id_token.json");
const EXPIRES_IN_STRING: &str = include_str!("fixtures/token_expires_in_string.json");
const ERROR_429: &str = include_str!("fixtures/error_429_too_many_requests.json");
const ERROR_502: &str = include_str!("fixtures/error_502_bad_gateway.html");

fn body_for(refresh_token: &str) -> String {
    format!(
        r#"{{"client_id":"{CLIENT_ID}","client_secret":"{CLIENT_SECRET}","grant_type":"refresh_token","refresh_token":"{refresh_token}"}}"#
    )
}

fn fast_retries() -> HttpClient {
    HttpClient::builder()
        .retry_policy(RetryPolicy {
            max_attempts: 3,
            base_delay: Duration::from_millis(1),
            max_delay: Duration::from_millis(20),
        })
        .build()
        .unwrap()
}

fn make_client(server: &MockServer) -> Client {
    Client::builder(Eshopbox::new(
        CLIENT_ID,
        ClientSecret::new(CLIENT_SECRET),
        RefreshToken::new(REFRESH_TOKEN),
    ))
    .environment(Environment::Custom(
        EndpointUrl::parse(&server.base_url()).unwrap(),
    ))
    .http_client(fast_retries())
    .clock(Arc::new(ManualClock::at_unix_millis(NOW_MS)))
    .build()
    .unwrap()
}

/// The typed answer of the first token request (the configured refresh
/// token).
async fn typed_answer(client: &Client) -> Result<TokenResponse, Error> {
    client.refresh_with(client.provider().refresh_token()).await
}

/// The first token set.
async fn first_set(client: &Client) -> Result<TokenSet, Error> {
    client
        .fetch_initial()
        .await
        .expect("custom apps need no consent")
}

/// What the mock server received, captured by a matcher.
#[derive(Debug, Clone)]
struct Seen {
    method: String,
    uri: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

async fn token_mock<'a>(
    server: &'a MockServer,
    status: u16,
    body: &'static str,
    content_type: &'static str,
) -> (httpmock::Mock<'a>, Arc<Mutex<Vec<Seen>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let record = Arc::clone(&seen);
    let mock = server
        .mock_async(move |when, then| {
            when.is_true(move |req: &HttpMockRequest| {
                record.lock().unwrap().push(Seen {
                    method: req.method_str().to_owned(),
                    uri: req.uri_str().to_owned(),
                    headers: req.headers_vec().clone(),
                    body: req.body_vec(),
                });
                true
            });
            then.status(status)
                .header("content-type", content_type)
                .body(body);
        })
        .await;
    (mock, seen)
}

#[tokio::test]
async fn refresh_request_is_exactly_the_documented_json_post() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(POST)
                .path(PATH)
                .header("content-type", "application/json")
                .header("accept", "application/json")
                .header_missing("authorization")
                .body(body_for(REFRESH_TOKEN));
            then.status(200)
                .header("content-type", "application/json")
                .body(DOC_GENERATING);
        })
        .await;
    let response = typed_answer(&make_client(&server)).await.unwrap();
    mock.assert_async().await;
    assert_eq!(
        response.access_token.expose_secret(),
        "eyJhbGciOiJSUzI1N...InR5cCI6IkpXVCIsI"
    );
}

#[tokio::test]
async fn secrets_travel_in_the_body_only() {
    let server = MockServer::start_async().await;
    let (mock, seen) = token_mock(&server, 200, DOC_REFRESH, "application/json").await;
    typed_answer(&make_client(&server)).await.unwrap();
    mock.assert_async().await;

    let seen = seen.lock().unwrap().clone();
    assert!(!seen.is_empty());
    let request = seen.last().unwrap();
    assert_eq!(request.method, "POST");
    assert_eq!(request.uri, server.url(PATH), "no query string at all");
    assert_eq!(request.body, body_for(REFRESH_TOKEN).into_bytes());
    let content_types: Vec<&str> = request
        .headers
        .iter()
        .filter(|(name, _)| name.eq_ignore_ascii_case("content-type"))
        .map(|(_, value)| value.as_str())
        .collect();
    assert_eq!(content_types, ["application/json"]);
    for (name, value) in &request.headers {
        for secret in [CLIENT_SECRET, REFRESH_TOKEN] {
            assert!(!name.contains(secret), "secret in header name {name}");
            assert!(!value.contains(secret), "secret in header {name}");
        }
        assert!(!name.eq_ignore_ascii_case("authorization"));
    }
    for secret in [CLIENT_SECRET, REFRESH_TOKEN] {
        assert!(!request.uri.contains(secret));
    }
}

#[tokio::test]
async fn documented_answers_decode_to_exact_values() {
    let server = MockServer::start_async().await;
    let (_mock, _) = token_mock(&server, 200, DOC_GENERATING, "application/json").await;
    let client = make_client(&server);

    let typed = typed_answer(&client).await.unwrap();
    assert_eq!(
        typed.id_token.as_ref().map(|t| t.expose_secret()),
        Some("eyyRwffpgDlOyAxcv...OkguyrSHtteckIyueW")
    );
    assert_eq!(typed.scope.join(" "), "openid profile offline_access");
    assert_eq!(typed.expires_in, Some(86_400));
    assert_eq!(typed.token_type.as_str(), "Bearer");
    assert_eq!(typed.refresh_token, None);

    let set = first_set(&client).await.unwrap();
    assert_eq!(set.expires_at, from_unix_millis(NOW_MS + 86_400_000));
    assert_eq!(set.refresh_token, Some(RefreshToken::new(REFRESH_TOKEN)));
    assert_eq!(set.refresh_token_expires_at, None);
    assert_eq!(set.token_type.as_str(), "Bearer");
    assert_eq!(set.scopes.join(" "), "openid profile offline_access");

    let server = MockServer::start_async().await;
    let (_mock, _) = token_mock(&server, 200, DOC_REFRESH, "application/json").await;
    let typed = typed_answer(&make_client(&server)).await.unwrap();
    assert_eq!(typed.access_token.expose_secret(), "eyJhbGci...kpXVCIsI");
    assert_eq!(
        typed.id_token.as_ref().map(|t| t.expose_secret()),
        Some("eUzI1Ni...I6IkpXsIm")
    );
    assert_eq!(typed.scope.join(" "), "openid profile");
}

#[tokio::test]
async fn answer_without_id_token() {
    let server = MockServer::start_async().await;
    let (_mock, _) = token_mock(&server, 200, NO_ID_TOKEN, "application/json").await;
    let typed = typed_answer(&make_client(&server)).await.unwrap();
    assert_eq!(typed.id_token, None);
    assert_eq!(typed.expires_in, Some(86_400));
    assert_eq!(typed.scope.join(","), "openid,profile,offline_access");
}

#[tokio::test]
async fn expires_in_as_a_string() {
    let server = MockServer::start_async().await;
    let (_mock, _) = token_mock(&server, 200, EXPIRES_IN_STRING, "application/json").await;
    let client = make_client(&server);
    let typed = typed_answer(&client).await.unwrap();
    assert_eq!(typed.expires_in, Some(2_592_000));
    assert_eq!(typed.token_type.as_str(), "bearer");
    assert!(typed.token_type.is_bearer());
    let set = first_set(&client).await.unwrap();
    assert_eq!(set.expires_at, from_unix_millis(NOW_MS + 2_592_000_000));
}

#[tokio::test]
async fn refresh_uses_the_stored_refresh_token_and_keeps_it() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(POST)
                .path(PATH)
                .body(body_for("STOREDrt99887766"));
            then.status(200)
                .header("content-type", "application/json")
                .body(r#"{"access_token":"at-2","expires_in":3600,"token_type":"Bearer"}"#);
        })
        .await;
    let client = make_client(&server);
    let current = TokenSet::new(
        oauth_core::AccessToken::new("at-1"),
        from_unix_millis(NOW_MS),
    )
    .with_refresh_token(RefreshToken::new("STOREDrt99887766"), None)
    .with_scopes(oauth_core::Scopes::from(["openid", "profile"]));

    let next = client.refresh(&current).await.unwrap();
    mock.assert_async().await;
    assert_eq!(next.access_token.expose_secret(), "at-2");
    assert_eq!(next.expires_at, from_unix_millis(NOW_MS + 3_600_000));
    assert_eq!(
        next.refresh_token,
        Some(RefreshToken::new("STOREDrt99887766"))
    );
    assert_eq!(
        next.scopes.join(" "),
        "openid profile",
        "previous scopes kept"
    );
    assert!(!client.rotates_refresh_token());
    assert_eq!(RefreshGrant::provider(&client), "eshopbox");
    assert_eq!(client.default_refresh_skew(), Duration::from_secs(300));
}

#[tokio::test]
async fn refresh_of_a_set_without_refresh_token_uses_the_configured_one() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(POST).path(PATH).body(body_for(REFRESH_TOKEN));
            then.status(200)
                .header("content-type", "application/json")
                .body(NO_ID_TOKEN);
        })
        .await;
    let client = make_client(&server);
    let current = TokenSet::new(oauth_core::AccessToken::new("at-1"), from_unix_millis(0));
    let next = client.refresh(&current).await.unwrap();
    mock.assert_async().await;
    assert_eq!(next.refresh_token, Some(RefreshToken::new(REFRESH_TOKEN)));
}

#[tokio::test]
async fn a_new_refresh_token_in_the_answer_replaces_the_old() {
    let server = MockServer::start_async().await;
    let (_mock, _) = token_mock(
        &server,
        200,
        r#"{"access_token":"at-2","refresh_token":"NEWrt1122334455","expires_in":86400}"#,
        "application/json",
    )
    .await;
    let current = TokenSet::new(oauth_core::AccessToken::new("at-1"), from_unix_millis(0))
        .with_refresh_token(RefreshToken::new(REFRESH_TOKEN), None);
    let next = make_client(&server).refresh(&current).await.unwrap();
    assert_eq!(
        next.refresh_token,
        Some(RefreshToken::new("NEWrt1122334455"))
    );
}

#[tokio::test]
async fn server_errors_are_retried_then_reported_as_transient() {
    let server = MockServer::start_async().await;
    let (mock, _) = token_mock(&server, 502, ERROR_502, "text/html").await;
    let err = typed_answer(&make_client(&server)).await.unwrap_err();
    mock.assert_calls_async(3).await;
    assert!(
        matches!(err, Error::Transient { ref details, .. } if details.status() == Some(502)),
        "{err:?}"
    );
    assert!(err.is_retryable());
    assert!(!err.requires_reauthorization());
}

#[tokio::test]
async fn rate_limit_with_a_long_retry_after_is_returned_at_once() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(POST).path(PATH);
            then.status(429)
                .header("content-type", "application/json")
                .header("retry-after", "30")
                .body(ERROR_429);
        })
        .await;
    let err = typed_answer(&make_client(&server)).await.unwrap_err();
    mock.assert_calls_async(1).await;
    assert!(matches!(err, Error::RateLimited { .. }), "{err:?}");
    assert_eq!(err.retry_after(), Some(Duration::from_secs(30)));
    assert_eq!(err.provider_code(), Some("too_many_requests"));
    assert!(err.is_retryable());
}

#[tokio::test]
async fn client_errors_are_never_retried() {
    let server = MockServer::start_async().await;
    let (mock, _) = token_mock(
        &server,
        403,
        include_str!("fixtures/error_403_invalid_grant.json"),
        "application/json",
    )
    .await;
    let err = typed_answer(&make_client(&server)).await.unwrap_err();
    mock.assert_calls_async(1).await;
    assert!(err.requires_reauthorization(), "{err:?}");
}

#[tokio::test]
async fn fetch_initial_mints_the_first_set_from_the_configured_token() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(POST).path(PATH).body(body_for(REFRESH_TOKEN));
            then.status(200)
                .header("content-type", "application/json")
                .body(DOC_REFRESH);
        })
        .await;
    let set = make_client(&server)
        .fetch_initial()
        .await
        .expect("custom apps need no consent")
        .unwrap();
    mock.assert_async().await;
    assert_eq!(set.access_token.expose_secret(), "eyJhbGci...kpXVCIsI");
    assert_eq!(set.refresh_token, Some(RefreshToken::new(REFRESH_TOKEN)));
    assert_eq!(set.expires_at, from_unix_millis(NOW_MS + 86_400_000));
    assert_eq!(set.scopes.join(" "), "openid profile");
}
