//! What goes on the wire, byte for byte, against a mock eBay.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use httpmock::prelude::*;
use oauth_core::{
    AuthorizationCode, AuthorizationCodeGrant, ClientSecret, CsrfState, Error, HttpClient,
    IntoTokenSet, ManualClock, RefreshGrant, RefreshToken, RetryPolicy, Scopes, SharedClock,
    TokenSet, TokenType, parse_callback,
};
use oauth_ebay::{Client, ClientExt, ConsentOptions, Ebay, Environment};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

const CLIENT_ID: &str = "ExampleI-Example-SBX-1a2b3c4d5-6e7f8a9b";
const CLIENT_SECRET: &str = "SBX-1a2b3c4d5e6f-7a8b-9c0d-1e2f-3a4b";
/// `base64("ExampleI-Example-SBX-1a2b3c4d5-6e7f8a9b:SBX-1a2b3c4d5e6f-7a8b-9c0d-1e2f-3a4b")`,
/// computed outside Rust (`printf %s 'id:secret' | base64`).
const BASIC: &str = "Basic RXhhbXBsZUktRXhhbXBsZS1TQlgtMWEyYjNjNGQ1LTZlN2Y4YTliOlNCWC0xYTJiM2M0ZDVlNmYtN2E4Yi05YzBkLTFlMmYtM2E0Yg==";
const RU_NAME: &str = "Example_Inc-Example-Test-abcdefgh";
const TOKEN_PATH: &str = "/identity/v1/oauth2/token";
const FORM: &str = "application/x-www-form-urlencoded";
const API_SCOPE: &str = "https://api.ebay.com/oauth/api_scope";
const INVENTORY: &str = "https://api.ebay.com/oauth/api_scope/sell.inventory";

const USER_TOKEN: &str = include_str!("fixtures/user_token.json");
const REFRESHED_TOKEN: &str = include_str!("fixtures/refreshed_token.json");
const APPLICATION_TOKEN: &str = include_str!("fixtures/application_token.json");
const APPLICATION_TOKEN_NA: &str = include_str!("fixtures/application_token_refresh_na.json");
const INVALID_GRANT: &str = include_str!("fixtures/error_400_invalid_grant_refresh_token.json");
const HTML_503: &str = include_str!("fixtures/error_503_service_unavailable.html");

const START_SECS: u64 = 1_750_000_000;

fn start() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(START_SECS)
}

fn http() -> HttpClient {
    HttpClient::builder()
        .retry_policy(RetryPolicy {
            max_attempts: 3,
            base_delay: Duration::from_millis(1),
            max_delay: Duration::from_millis(20),
        })
        .build()
        .unwrap()
}

fn settings() -> Ebay {
    Ebay::new(CLIENT_ID, ClientSecret::new(CLIENT_SECRET))
        .ru_name(RU_NAME)
        .scopes(Scopes::from([API_SCOPE, INVENTORY]))
}

fn client(server: &MockServer) -> (Client, ManualClock) {
    let clock = ManualClock::new(start());
    let shared: SharedClock = Arc::new(clock.clone());
    let client = Client::builder(settings())
        .environment(Environment::custom(&server.base_url()).unwrap())
        .http_client(http())
        .clock(shared)
        .build()
        .unwrap();
    (client, clock)
}

fn user_token_set(refresh_token: &str) -> TokenSet {
    TokenSet::new(
        oauth_core::AccessToken::new("old-access"),
        start() + Duration::from_secs(30),
    )
    .with_token_type(TokenType::new("User Access Token"))
    .with_refresh_token(
        RefreshToken::new(refresh_token),
        Some(start() + Duration::from_secs(47_304_000)),
    )
    .with_scopes(Scopes::from([API_SCOPE, INVENTORY]))
}

#[tokio::test]
async fn code_from_the_callback_is_decoded_once_and_form_encoded_once() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(POST)
                .path(TOKEN_PATH)
                .query_param_count(".*", ".*", 0)
                .header("authorization", BASIC)
                .header("content-type", FORM)
                .header("accept", "application/json")
                .body(format!(
                    "grant_type=authorization_code&code=v%5E1.1%23i%5E1%23r%5E1%23p%5E3%23f%5E0%23I%5E3%23t%5EUl41Xzk6Q0Y%3D&redirect_uri={RU_NAME}"
                ));
            then.status(200)
                .header("content-type", "application/json")
                .body(USER_TOKEN);
        })
        .await;
    let (client, clock) = client(&server);

    let state = CsrfState::from_stored("state-123");
    let landed = "https://app.example/ebay/accepted?state=state-123&code=v%5E1.1%23i%5E1%23r%5E1%23p%5E3%23f%5E0%23I%5E3%23t%5EUl41Xzk6Q0Y%3D&expires_in=299";
    let callback = parse_callback(landed, &state).unwrap();
    assert_eq!(
        callback.code.expose_secret(),
        "v^1.1#i^1#r^1#p^3#f^0#I^3#t^Ul41Xzk6Q0Y="
    );
    assert_eq!(callback.extra, vec![("expires_in".into(), "299".into())]);

    clock.advance(Duration::from_secs(5));
    let token = client.exchange_code(&callback.code).await.unwrap();
    mock.assert_async().await;

    let received = start() + Duration::from_secs(5);
    assert!(
        token
            .access_token
            .expose_secret()
            .starts_with("v^1.1#i^1#p^3#r^1#I^3#f^0#t^H4sI")
    );
    assert_eq!(token.expires_in, Duration::from_secs(7200));
    assert_eq!(
        token.refresh_token.as_ref().unwrap().expose_secret(),
        "v^1.1#i^1#r^1#I^3#f^0#p^3#t^Ul4xMF8xMDpEMDA0NzYwQUE5Qzk3MTZBRjVBRkY3MkE1RDU5OTRDQV8yXzEjRV4xMjg0"
    );
    assert_eq!(
        token.refresh_token_expires_in,
        Some(Duration::from_secs(47_304_000))
    );
    assert_eq!(token.token_type.as_str(), "User Access Token");
    assert_eq!(token.received_at, received);
    assert_eq!(&token.scopes, client.scopes());

    let set = token.into_token_set();
    assert_eq!(set.expires_at, received + Duration::from_secs(7200));
    assert_eq!(
        set.refresh_token_expires_at,
        Some(received + Duration::from_secs(47_304_000))
    );
    assert_eq!(set.scopes.join(" "), format!("{API_SCOPE} {INVENTORY}"));
}

#[tokio::test]
async fn authorization_code_grant_trait_returns_a_token_set() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(POST)
                .path(TOKEN_PATH)
                .header("authorization", BASIC)
                .body(format!(
                    "grant_type=authorization_code&code=a%2Bb%2Fc%3D&redirect_uri={RU_NAME}"
                ));
            then.status(200).body(USER_TOKEN);
        })
        .await;
    let (client, _) = client(&server);
    let set = AuthorizationCodeGrant::exchange_code(&client, &AuthorizationCode::new("a+b/c="))
        .await
        .unwrap();
    mock.assert_async().await;
    assert_eq!(set.expires_at, start() + Duration::from_secs(7200));
    assert_eq!(set.token_type.as_str(), "User Access Token");
    assert!(set.refresh_token.is_some());
    let url = AuthorizationCodeGrant::authorize_url(&client, &CsrfState::from_stored("s")).unwrap();
    assert_eq!(
        url,
        client
            .authorize_url_with(&CsrfState::from_stored("s"), &ConsentOptions::new())
            .unwrap()
    );
}

#[tokio::test]
async fn the_exchange_is_not_retried_after_a_5xx() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(POST).path(TOKEN_PATH);
            then.status(503)
                .header("content-type", "text/html")
                .body(HTML_503);
        })
        .await;
    let (client, _) = client(&server);
    let err = client
        .exchange_code(&AuthorizationCode::new("code-1"))
        .await
        .unwrap_err();
    mock.assert_calls_async(1).await;
    assert!(err.is_retryable(), "{err:?}");
    assert!(matches!(err, Error::Transient { .. }), "{err:?}");
    assert!(err.to_string().contains("Service Unavailable"), "{err}");
}

#[tokio::test]
async fn refresh_asks_for_the_recorded_scopes_and_keeps_the_refresh_token() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(POST)
                .path(TOKEN_PATH)
                .query_param_count(".*", ".*", 0)
                .header("authorization", BASIC)
                .header("content-type", FORM)
                .body("grant_type=refresh_token&refresh_token=v%5E1.1%23i%5E1%23r%5E1%23t%5EUl4x%2B%2F%3D&scope=https%3A%2F%2Fapi.ebay.com%2Foauth%2Fapi_scope+https%3A%2F%2Fapi.ebay.com%2Foauth%2Fapi_scope%2Fsell.inventory");
            then.status(200)
                .header("content-type", "application/json")
                .body(REFRESHED_TOKEN);
        })
        .await;
    let (client, clock) = client(&server);
    let current = user_token_set("v^1.1#i^1#r^1#t^Ul4x+/=");
    clock.advance(Duration::from_secs(60));

    assert!(!client.rotates_refresh_token());
    assert_eq!(RefreshGrant::provider(&client), "ebay");
    let refreshed = RefreshGrant::refresh(&client, &current).await.unwrap();
    mock.assert_async().await;

    assert!(
        refreshed
            .access_token
            .expose_secret()
            .starts_with("v^1.1#i^1#f^0#p^3#I^3#r^1#t^H4sI")
    );
    assert_eq!(
        refreshed.expires_at,
        start() + Duration::from_secs(60 + 7200)
    );
    assert_eq!(refreshed.refresh_token, current.refresh_token);
    assert_eq!(
        refreshed.refresh_token_expires_at,
        Some(start() + Duration::from_secs(47_304_000))
    );
    assert_eq!(refreshed.scopes, current.scopes);
    assert_eq!(refreshed.token_type.as_str(), "User Access Token");
}

#[tokio::test]
async fn refresh_of_a_set_without_scopes_uses_the_client_scopes() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(POST).path(TOKEN_PATH).body(
                "grant_type=refresh_token&refresh_token=rt&scope=https%3A%2F%2Fapi.ebay.com%2Foauth%2Fapi_scope+https%3A%2F%2Fapi.ebay.com%2Foauth%2Fapi_scope%2Fsell.inventory",
            );
            then.status(200).body(REFRESHED_TOKEN);
        })
        .await;
    let (client, _) = client(&server);
    let current = user_token_set("rt").with_scopes(Scopes::new());
    let refreshed = client.refresh(&current).await.unwrap();
    mock.assert_async().await;
    assert_eq!(refreshed.scopes, *client.scopes());
}

#[tokio::test]
async fn refresh_may_narrow_scopes() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(POST).path(TOKEN_PATH).header("authorization", BASIC).body(
                "grant_type=refresh_token&refresh_token=rt&scope=https%3A%2F%2Fapi.ebay.com%2Foauth%2Fapi_scope%2Fsell.inventory",
            );
            then.status(200).body(REFRESHED_TOKEN);
        })
        .await;
    let (client, _) = client(&server);
    let current = user_token_set("rt");
    let narrowed = client
        .refresh_narrowed(&current, &Scopes::from([INVENTORY]))
        .await
        .unwrap();
    mock.assert_async().await;
    assert_eq!(narrowed.scopes.join(" "), INVENTORY);
    assert_eq!(narrowed.refresh_token, current.refresh_token);
    assert_eq!(
        narrowed.refresh_token_expires_at,
        current.refresh_token_expires_at
    );
}

#[tokio::test]
async fn widening_scopes_is_refused_before_any_request() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.any_request();
            then.status(200).body(REFRESHED_TOKEN);
        })
        .await;
    let (client, _) = client(&server);
    let current = user_token_set("rt").with_scopes(Scopes::from([INVENTORY]));
    let fulfillment = "https://api.ebay.com/oauth/api_scope/sell.fulfillment";
    let err = client
        .refresh_narrowed(&current, &Scopes::from([INVENTORY, fulfillment]))
        .await
        .unwrap_err();
    match &err {
        Error::Configuration { message } => assert_eq!(
            message,
            "eBay refresh may only narrow scopes; not consented to: https://api.ebay.com/oauth/api_scope/sell.fulfillment"
        ),
        other => panic!("{other:?}"),
    }
    let err = client
        .refresh_narrowed(&current, &Scopes::new())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Configuration { .. }), "{err:?}");
    mock.assert_calls_async(0).await;
}

#[tokio::test]
async fn refresh_without_a_refresh_token_requires_consent_without_a_request() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.any_request();
            then.status(200).body(REFRESHED_TOKEN);
        })
        .await;
    let (client, _) = client(&server);
    let mut current = user_token_set("rt");
    current.refresh_token = None;
    let err = client.refresh(&current).await.unwrap_err();
    assert!(err.requires_reauthorization(), "{err:?}");
    mock.assert_calls_async(0).await;
}

#[tokio::test]
async fn refresh_is_retried_after_a_5xx() {
    let server = MockServer::start_async().await;
    let failing = server
        .mock_async(|when, then| {
            when.method(POST).path(TOKEN_PATH);
            then.status(500)
                .header("content-type", "application/json")
                .body(include_str!("fixtures/error_500_server_error.json"));
        })
        .await;
    failing.up_to_n_times_async(1).await;
    let succeeding = server
        .mock_async(|when, then| {
            when.method(POST).path(TOKEN_PATH);
            then.status(200).body(REFRESHED_TOKEN);
        })
        .await;
    let (client, _) = client(&server);
    let refreshed = client.refresh(&user_token_set("rt")).await.unwrap();
    failing.assert_calls_async(1).await;
    succeeding.assert_calls_async(1).await;
    assert_eq!(refreshed.expires_at, start() + Duration::from_secs(7200));
}

#[tokio::test]
async fn rate_limit_with_a_long_retry_after_is_returned_not_waited_for() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(POST).path(TOKEN_PATH);
            then.status(429)
                .header("content-type", "application/json")
                .header("retry-after", "7")
                .body(include_str!("fixtures/error_429_rate_limited.json"));
        })
        .await;
    let (client, _) = client(&server);
    let err = client.refresh(&user_token_set("rt")).await.unwrap_err();
    mock.assert_calls_async(1).await;
    assert!(matches!(err, Error::RateLimited { .. }), "{err:?}");
    assert_eq!(err.retry_after(), Some(Duration::from_secs(7)));
    assert_eq!(err.provider_code(), Some("2001"));
}

#[tokio::test]
async fn invalid_grant_on_refresh_requires_consent() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(POST).path(TOKEN_PATH);
            then.status(400)
                .header("content-type", "application/json")
                .body(INVALID_GRANT);
        })
        .await;
    let (client, _) = client(&server);
    let err = client.refresh(&user_token_set("rt")).await.unwrap_err();
    mock.assert_calls_async(1).await;
    assert!(err.requires_reauthorization(), "{err:?}");
    assert!(!err.is_retryable());
}

#[tokio::test]
async fn application_token_uses_the_default_scope_and_ignores_na() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(POST)
                .path(TOKEN_PATH)
                .query_param_count(".*", ".*", 0)
                .header("authorization", BASIC)
                .header("content-type", FORM)
                .body("grant_type=client_credentials&scope=https%3A%2F%2Fapi.ebay.com%2Foauth%2Fapi_scope");
            then.status(200)
                .header("content-type", "application/json")
                .body(APPLICATION_TOKEN_NA);
        })
        .await;
    let (client, _) = client(&server);
    let token = client.application_token().await.unwrap();
    mock.assert_async().await;
    assert_eq!(token.expires_in, Duration::from_secs(7200));
    assert_eq!(token.token_type.as_str(), "Application Access Token");
    assert_eq!(token.expires_at(), start() + Duration::from_secs(7200));
    assert_eq!(token.scopes, Scopes::from([API_SCOPE]));
    let set = token.into_token_set();
    assert_eq!(set.scopes, Scopes::from([API_SCOPE]));
    assert_eq!(set.refresh_token, None);
    assert_eq!(set.refresh_token_expires_at, None);
}

#[tokio::test]
async fn application_token_grant_mints_anew_and_ignores_the_current_set() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(POST).path(TOKEN_PATH).header("authorization", BASIC).body(
                "grant_type=client_credentials&scope=https%3A%2F%2Fapi.ebay.com%2Foauth%2Fapi_scope+https%3A%2F%2Fapi.ebay.com%2Foauth%2Fapi_scope%2Fbuy.browse",
            );
            then.status(200).body(APPLICATION_TOKEN);
        })
        .await;
    let (client, clock) = client(&server);
    let grant = oauth_ebay::ApplicationTokenGrant::new(
        client.clone(),
        Scopes::from([API_SCOPE, "https://api.ebay.com/oauth/api_scope/buy.browse"]),
    )
    .unwrap();
    assert!(!grant.rotates_refresh_token());
    assert_eq!(grant.provider(), "ebay");

    let first = grant.fetch_initial().await.unwrap().unwrap();
    assert_eq!(first.expires_at, start() + Duration::from_secs(7200));
    assert_eq!(first.refresh_token, None);
    assert_eq!(first.scopes, *grant.scopes());

    clock.advance(Duration::from_secs(7000));
    let with_junk = user_token_set("must-not-be-sent");
    let second = grant.refresh(&with_junk).await.unwrap();
    assert_eq!(
        second.expires_at,
        start() + Duration::from_secs(7000 + 7200)
    );
    assert_eq!(second.refresh_token, None);
    mock.assert_calls_async(2).await;

    let default = client.application_token_grant();
    assert_eq!(default.scopes().join(" "), API_SCOPE);
}

#[tokio::test]
async fn invalid_client_is_reported_on_the_application_token() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method(POST).path(TOKEN_PATH);
            then.status(401)
                .header("content-type", "application/json")
                .body(include_str!("fixtures/error_401_invalid_client.json"));
        })
        .await;
    let (client, _) = client(&server);
    let err = client.application_token().await.unwrap_err();
    assert!(matches!(err, Error::InvalidClient { .. }), "{err:?}");
    assert_eq!(err.provider_code(), Some("invalid_client"));
}

/// Splits a raw query into (name, raw value) pairs, without decoding.
fn raw_pairs(query: &str) -> Vec<(&str, &str)> {
    query
        .split('&')
        .map(|p| p.split_once('=').unwrap())
        .collect()
}

#[test]
fn consent_url_parsed_back_has_every_parameter_once_correctly_encoded() {
    let client = Client::builder(settings())
        .environment(Environment::Sandbox)
        .build()
        .unwrap();
    let state = CsrfState::generate().unwrap();
    let url = client
        .authorize_url_with(
            &state,
            &ConsentOptions::new().prompt_login().locale("en-US"),
        )
        .unwrap();
    assert_eq!(url.scheme(), "https");
    assert_eq!(url.host_str(), Some("auth.sandbox.ebay.com"));
    assert_eq!(url.path(), "/oauth2/authorize");

    let raw = raw_pairs(url.query().unwrap());
    let names: Vec<&str> = raw.iter().map(|(n, _)| *n).collect();
    assert_eq!(
        names,
        [
            "client_id",
            "redirect_uri",
            "response_type",
            "scope",
            "state",
            "prompt",
            "locale"
        ]
    );
    let raw_value = |name: &str| raw.iter().find(|(n, _)| *n == name).unwrap().1;
    assert_eq!(raw_value("client_id"), CLIENT_ID);
    assert_eq!(raw_value("redirect_uri"), RU_NAME);
    assert_eq!(raw_value("response_type"), "code");
    assert_eq!(
        raw_value("scope"),
        "https%3A%2F%2Fapi.ebay.com%2Foauth%2Fapi_scope%20https%3A%2F%2Fapi.ebay.com%2Foauth%2Fapi_scope%2Fsell.inventory"
    );
    assert_eq!(raw_value("state"), state.as_str());
    assert_eq!(raw_value("prompt"), "login");
    assert_eq!(raw_value("locale"), "en-US");

    // Decoded by a standard parser, every value reads back as sent.
    let decoded: Vec<(String, String)> = url.query_pairs().into_owned().collect();
    assert_eq!(decoded.len(), 7);
    assert_eq!(decoded[3].1, format!("{API_SCOPE} {INVENTORY}"));
    assert_eq!(decoded[4].1, state.as_str());

    // Without options: no prompt, no locale.
    let plain = client.authorize_url(&state).unwrap();
    let names: Vec<&str> = raw_pairs(plain.query().unwrap())
        .iter()
        .map(|(n, _)| *n)
        .collect();
    assert_eq!(
        names,
        [
            "client_id",
            "redirect_uri",
            "response_type",
            "scope",
            "state"
        ]
    );
}
