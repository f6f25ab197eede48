//! Every public type that holds a secret, and every error, formatted with
//! `{:?}`, `{:#?}` and (where implemented) `{}`, shows no sentinel secret.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use oauth_core::http_types::Request;
use oauth_core::transport::RawResponse;
use oauth_core::{
    AccessToken, AttachTokenExt, AuthorizationCode, ClientKey, CsrfState, EndpointUrl,
    IntoTokenSet, Provider, RefreshToken, TokenSet, parse_callback,
};
use oauth_orangeconnex::{ApiAuth, Client, Environment, OrangeConnex, PROVIDER, TokenResponse};
use std::time::SystemTime;

/// Sentinels shaped like real values (digits, dashes) and like prose
/// (letters only), so that neither masking heuristic alone can pass.
const SENTINELS: [&str; 2] = ["SENTINEL-9f8e7d6c5b4a", "SentinelSecretWords"];

fn assert_clean(text: &str) {
    for sentinel in SENTINELS {
        assert!(!text.contains(sentinel), "{sentinel} leaked in: {text}");
    }
}

fn client(key: &str) -> Client {
    Client::builder(
        OrangeConnex::new("3pp-id", "https://app.example/cb").client_key(ClientKey::new(key)),
    )
    .environment(Environment::Custom(
        EndpointUrl::parse("http://127.0.0.1:1").unwrap(),
    ))
    .build()
    .unwrap()
}

#[test]
fn client_builder_and_api_auth_hide_the_client_key() {
    for sentinel in SENTINELS {
        let builder = Client::builder(
            OrangeConnex::new("3pp-id", "https://app.example/cb")
                .client_key(ClientKey::new(sentinel)),
        );
        assert_clean(&format!("{builder:?} {builder:#?}"));
        let client = client(sentinel);
        assert_clean(&format!("{client:?} {client:#?}"));
        let auth = client.attachment();
        assert_clean(&format!("{auth:?} {auth:#?}"));
        let auth = ApiAuth::new(Some(ClientKey::new(sentinel))).unwrap();
        assert_clean(&format!("{auth:?}"));
        let mut request = Request::get("https://h.example/openapi/x")
            .body(())
            .unwrap();
        auth.attach_to(&AccessToken::new(sentinel), &mut request)
            .unwrap();
        assert_clean(&format!("{request:?} {:?}", request.headers()));
    }
}

#[test]
fn token_requests_hide_code_refresh_token_and_client_key() {
    for sentinel in SENTINELS {
        let client = client(sentinel);
        let context = client.request_context();
        let exchange = client
            .provider()
            .exchange_request(&context, &AuthorizationCode::new(sentinel))
            .unwrap();
        assert_clean(&format!("{exchange:?} {exchange:#?}"));
        let current = TokenSet::new(AccessToken::new("at"), SystemTime::now())
            .with_refresh_token(RefreshToken::new(sentinel), None);
        let refresh = client
            .provider()
            .refresh_request(&context, &current)
            .unwrap();
        assert_clean(&format!("{refresh:?} {refresh:#?}"));
        // The URL itself carries the secret: that is why it must never be shown.
        assert!(refresh.full_url().as_str().contains(sentinel));
    }
}

#[test]
fn token_responses_and_token_sets_hide_tokens() {
    for sentinel in SENTINELS {
        let body = format!(
            r#"{{"access_token":"{sentinel}","refresh_token":"{sentinel}","expires_in":3600,"token_type":"bearer"}}"#
        );
        let response = RawResponse::new(PROVIDER, 200, Some("application/json"), body);
        assert_clean(&format!("{response:?}"));
        let decoded = TokenResponse::decode(&response, SystemTime::now()).unwrap();
        assert_clean(&format!("{decoded:?} {decoded:#?}"));
        let set = decoded.into_token_set();
        assert_clean(&format!("{set:?} {set:#?}"));
    }
}

#[test]
fn callbacks_hide_the_code() {
    for sentinel in SENTINELS {
        let state = CsrfState::from_stored("st");
        let ok = parse_callback(
            &format!("https://app.example/cb?code={sentinel}&state=st"),
            &state,
        )
        .unwrap();
        assert_clean(&format!("{ok:?}"));
        let bad = parse_callback(
            &format!("https://app.example/cb?code={sentinel}&state=other"),
            &state,
        )
        .unwrap_err();
        assert_clean(&format!("{bad} {bad:?}"));
    }
}

/// Errors from bodies that carry the sentinel where token-like values go.
/// (Bodies that echo a prose-like secret in free text are scrubbed by the
/// client, which knows what it sent: see `tests/leaks.rs`.)
#[test]
fn every_error_class_hides_tokens_from_the_body() {
    let sentinel = SENTINELS[0];
    let bodies = [
        (
            200,
            format!(
                r#"{{"error":"invalid_grant","error_description":"Invalid refresh token: {sentinel}"}}"#
            ),
        ),
        (
            400,
            format!(
                r#"{{"error":"invalid_grant","error_description":"Invalid authorization code: {sentinel}"}}"#
            ),
        ),
        (
            401,
            format!(r#"{{"error":"invalid_client","error_description":"bad key {sentinel}"}}"#),
        ),
        (
            400,
            format!(r#"{{"error":"invalid_request","error_description":"{sentinel}"}}"#),
        ),
        (
            429,
            format!(r#"{{"error_description":"slow down {sentinel}"}}"#),
        ),
        (503, format!("<html>refresh_token={sentinel}</html>")),
        (200, format!("<html>access_token={sentinel}</html>")),
        (
            200,
            format!(r#"{{"access_token":"{sentinel}","expires_in":"soon"}}"#),
        ),
        (200, format!(r#"{{"access_token":"{sentinel}""#)),
        (400, format!(r#"{{"access_token":"{sentinel}"}}"#)),
        (200, format!(r#"{{"refresh_token":"{sentinel}"}}"#)),
        (401, format!(r#"{{"refresh_token":"{sentinel}"}}"#)),
        (302, format!(r#"{{"access_token":"{sentinel}"}}"#)),
        (200, format!(r#"{{"error":"{sentinel}"}}"#)),
    ];
    for (status, body) in bodies {
        let response = RawResponse::new(PROVIDER, status, Some("application/json"), body.clone());
        let e = TokenResponse::decode(&response, SystemTime::now()).unwrap_err();
        let text = format!("{e} {e:?} {e:#?}");
        assert!(!text.contains(sentinel), "{status} {body}: {text}");
    }
}
