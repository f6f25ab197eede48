//! The generic RFC 6749 provider on the wire: a platform configured with
//! data alone ("ShopX", below: the whole provider is `shopx()`), its exact
//! requests, rotation, client credentials, and the error classes.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use httpmock::prelude::*;
use oauth_core::provider::rfc6749::{ClientAuth, GrantType, Rfc6749};
use oauth_core::{
    AccessToken, AuthorizationCode, Client, ClientSecret, CsrfState, Environment, Error,
    HttpClient, IntoTokenSet, ManualClock, MemoryStore, RefreshGrant, RefreshToken, RetryPolicy,
    Scopes, SharedClock, TokenManager, TokenSet,
};
use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

/// The whole "ShopX" provider: configuration, no code.
fn shopx() -> Rfc6749 {
    Rfc6749::new(
        "shopx",
        "shopx-client",
        Some(ClientSecret::new("SENTINEL-shopx-secret")),
    )
    .production("https://auth.shopx.example")
    .unwrap()
    .token_path("/oauth2/token")
    .authorize_path("/oauth2/authorize")
    .redirect_uri("https://app.example/cb")
    .scopes(Scopes::from(["orders.read", "orders.write"]))
    .refresh_tokens_rotate(true)
}

fn clock() -> (Arc<ManualClock>, SharedClock) {
    let manual = Arc::new(ManualClock::new(
        UNIX_EPOCH + Duration::from_secs(1_700_000_000),
    ));
    let shared: SharedClock = manual.clone();
    (manual, shared)
}

fn client(server: &MockServer, spec: Rfc6749) -> Client<Rfc6749> {
    let http = HttpClient::builder()
        .retry_policy(RetryPolicy::none())
        .build()
        .unwrap();
    Client::builder(spec)
        .environment(Environment::custom(&server.base_url()).unwrap())
        .http_client(http)
        .clock(clock().1)
        .build()
        .unwrap()
}

const TOKEN: &str = r#"{"access_token":"AT-1","token_type":"Bearer","expires_in":3600,"refresh_token":"RT-2","scope":"orders.read"}"#;

#[test]
fn authorize_url_is_exact() {
    let client = Client::builder(shopx()).build().unwrap();
    let state = CsrfState::generate().unwrap();
    let url = client.authorize_url(&state).unwrap();
    assert_eq!(
        url.as_str(),
        format!(
            "https://auth.shopx.example/oauth2/authorize?response_type=code&client_id=shopx-client&redirect_uri=https%3A%2F%2Fapp.example%2Fcb&scope=orders.read%20orders.write&state={}",
            state.as_str()
        )
    );
}

#[tokio::test]
async fn code_exchange_uses_basic_auth_and_the_exact_form() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(POST)
                .path("/oauth2/token")
                .header("authorization", "Basic c2hvcHgtY2xpZW50OlNFTlRJTkVMLXNob3B4LXNlY3JldA==")
                .header("content-type", "application/x-www-form-urlencoded")
                .body("grant_type=authorization_code&code=c%2F1+x&redirect_uri=https%3A%2F%2Fapp.example%2Fcb");
            then.status(200).header("content-type", "application/json").body(TOKEN);
        })
        .await;
    let client = client(&server, shopx());
    let answer = client
        .exchange_code(&AuthorizationCode::new("c/1 x"))
        .await
        .unwrap();
    mock.assert_async().await;
    assert_eq!(answer.scopes, Scopes::from(["orders.read"]));
    let set = answer.into_token_set();
    assert_eq!(set.access_token.expose_secret(), "AT-1");
    assert_eq!(set.refresh_token.unwrap().expose_secret(), "RT-2");
    assert_eq!(
        set.expires_at,
        UNIX_EPOCH + Duration::from_secs(1_700_003_600)
    );
}

#[tokio::test]
async fn refresh_with_rotation_is_not_retried_and_keeps_the_new_token() {
    let server = MockServer::start_async().await;
    // Body client authentication: the credentials follow the grant's own
    // parameters in the form.
    let body_auth = server
        .mock_async(|when, then| {
            when.method(POST).path("/oauth2/token").body(
                "grant_type=refresh_token&refresh_token=RT-1&client_id=shopx-client&client_secret=SENTINEL-shopx-secret",
            );
            then.status(503);
        })
        .await;
    let client = client(&server, shopx().client_auth(ClientAuth::RequestBody));
    assert!(client.rotates_refresh_token());
    let current = TokenSet::new(AccessToken::new("AT-0"), UNIX_EPOCH)
        .with_refresh_token(RefreshToken::new("RT-1"), None);
    // A rotating refresh is never repeated, even when the policy would.
    let retrying = HttpClient::builder().build().unwrap();
    let retrying = Client::builder(shopx().client_auth(ClientAuth::RequestBody))
        .environment(Environment::custom(&server.base_url()).unwrap())
        .http_client(retrying)
        .build()
        .unwrap();
    assert!(retrying.refresh(&current).await.unwrap_err().is_retryable());
    assert_eq!(body_auth.calls_async().await, 1);
    body_auth.delete_async().await;
    let body_auth = server
        .mock_async(|when, then| {
            when.method(POST).path("/oauth2/token").body(
                "grant_type=refresh_token&refresh_token=RT-1&client_id=shopx-client&client_secret=SENTINEL-shopx-secret",
            );
            then.status(200).header("content-type", "application/json").body(TOKEN);
        })
        .await;
    let refreshed = client.refresh(&current).await.unwrap();
    body_auth.assert_async().await;
    assert_eq!(refreshed.refresh_token.unwrap().expose_secret(), "RT-2");
}

#[tokio::test]
async fn invalid_grant_and_invalid_client_are_told_apart_and_scrubbed() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method(POST).body_includes("refresh_token=SENTINEL-rt-dead");
            then.status(400)
                .header("content-type", "application/json")
                .body(r#"{"error":"invalid_grant","error_description":"token SENTINEL-rt-dead revoked"}"#);
        })
        .await;
    server
        .mock_async(|when, then| {
            when.method(POST).body_includes("refresh_token=RT-ok");
            then.status(401)
                .header("content-type", "application/json")
                .body(r#"{"error":"invalid_client"}"#);
        })
        .await;
    let client = client(&server, shopx());
    let dead = TokenSet::new(AccessToken::new("AT"), UNIX_EPOCH)
        .with_refresh_token(RefreshToken::new("SENTINEL-rt-dead"), None);
    let err = client.refresh(&dead).await.unwrap_err();
    assert!(err.requires_reauthorization(), "{err:?}");
    let text = format!("{err} {err:?}");
    assert!(!text.contains("SENTINEL"), "{text}");
    let ok = TokenSet::new(AccessToken::new("AT"), UNIX_EPOCH)
        .with_refresh_token(RefreshToken::new("RT-ok"), None);
    let err = client.refresh(&ok).await.unwrap_err();
    assert!(matches!(err, Error::InvalidClient { .. }), "{err:?}");
    let none = TokenSet::new(AccessToken::new("AT"), UNIX_EPOCH);
    assert!(
        client
            .refresh(&none)
            .await
            .unwrap_err()
            .requires_reauthorization()
    );
}

#[tokio::test]
async fn client_credentials_keep_a_manager_fed_without_consent() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(POST)
                .path("/oauth2/token")
                .body("grant_type=client_credentials&scope=orders.read+orders.write");
            then.status(200)
                .header("content-type", "application/json")
                .body(r#"{"access_token":"APP-1","expires_in":"7200"}"#);
        })
        .await;
    let client = client(&server, shopx().grant_type(GrantType::ClientCredentials));
    let manager =
        TokenManager::builder(Arc::new(client), Arc::new(MemoryStore::new()), "app").build();
    let token = manager.access_token().await.unwrap();
    assert_eq!(token.access_token().expose_secret(), "APP-1");
    mock.assert_async().await;
}

#[test]
fn settings_are_checked_once_and_secrets_stay_hidden() {
    let bad = Rfc6749::new("shopx", " ", None)
        .production("https://a.example")
        .unwrap();
    assert!(matches!(
        Client::builder(bad).build(),
        Err(Error::Configuration { .. })
    ));
    let no_redirect = Rfc6749::new("shopx", "id", None)
        .production("https://a.example")
        .unwrap()
        .authorize_path("/authorize");
    assert!(Client::builder(no_redirect).build().is_err());
    assert!(
        Client::builder(shopx())
            .environment(Environment::Sandbox)
            .build()
            .is_err()
    );
    assert!(
        Rfc6749::new("x", "id", None)
            .production("http://example.com")
            .is_err()
    );
    let client = Client::builder(shopx()).build().unwrap();
    assert!(!format!("{client:?}").contains("SENTINEL"));
}
