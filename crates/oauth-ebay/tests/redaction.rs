//! No public type and no error shows a secret, with `{:?}`, `{:#?}` or `{}`;
//! nor does anything this crate (or the plumbing under it) logs.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use httpmock::prelude::*;
use oauth_core::{
    AccessToken, AttachTokenExt, AuthorizationCode, ClientSecret, CsrfState, Error, Grant,
    HttpClient, IntoTokenSet, Provider, RawResponse, RefreshToken, RetryPolicy, Scopes, TokenSet,
};
use oauth_ebay::{
    ApiAuth, ApplicationToken, Client, ClientBuilder, ClientExt, Ebay, Environment, PROVIDER,
};
use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::{Duration, UNIX_EPOCH};

const SECRET: &str = "SENTINELsecret0Cert1";
const ACCESS: &str = "SENTINELaccess0AT1";
const REFRESH: &str = "SENTINELrefresh0RT1";
const CODE: &str = "SENTINELcode0AC1";
const SENTINELS: [&str; 4] = [SECRET, ACCESS, REFRESH, CODE];

fn assert_clean(what: &str, text: &str) {
    for sentinel in SENTINELS {
        assert!(!text.contains(sentinel), "{what} shows {sentinel}: {text}");
    }
    // Partial leaks too (masking that keeps a prefix).
    assert!(!text.contains("SENTINEL"), "{what}: {text}");
}

fn debug_both<T: std::fmt::Debug>(what: &str, value: &T) {
    assert_clean(what, &format!("{value:?}"));
    assert_clean(what, &format!("{value:#?}"));
}

fn error_all<E: std::fmt::Debug + std::fmt::Display>(what: &str, error: &E) {
    assert_clean(what, &format!("{error}"));
    debug_both(what, error);
}

fn settings() -> Ebay {
    Ebay::new("App-ID-1", ClientSecret::new(SECRET))
        .ru_name("Example_Inc-Example-Test-abcd")
        .scopes(Scopes::from(["https://api.ebay.com/oauth/api_scope"]))
}

fn builder(base: &str) -> ClientBuilder {
    Client::builder(settings()).environment(Environment::custom(base).unwrap())
}

fn now() -> std::time::SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_750_000_000)
}

fn user_token_body() -> String {
    format!(
        r#"{{"access_token":"{ACCESS}","expires_in":7200,"refresh_token":"{REFRESH}","refresh_token_expires_in":47304000,"token_type":"User Access Token"}}"#
    )
}

#[test]
fn public_types_holding_secrets_are_redacted() {
    debug_both("Ebay", &settings());
    let b = builder("http://127.0.0.1:9");
    debug_both("ClientBuilder", &b);
    let client = b.build().unwrap();
    debug_both("Client", &client);
    debug_both("ApplicationTokenGrant", &client.application_token_grant());

    let response = RawResponse::new(PROVIDER, 200, Some("application/json"), user_token_body());
    debug_both("RawResponse", &response);
    let decode = || {
        settings()
            .decode_token_response(&response, &Grant::AuthorizationCode, now())
            .unwrap()
    };
    let user = decode();
    assert_eq!(user.access_token.expose_secret(), ACCESS);
    debug_both("TokenResponse", &user);
    let app = ApplicationToken::from(decode());
    debug_both("ApplicationToken", &app);
    let set: TokenSet = user.into_token_set();
    debug_both("TokenSet", &set);

    for use_ in [ApiAuth::Rest, ApiAuth::Trading] {
        let value = use_.header_value(&AccessToken::new(ACCESS)).unwrap();
        debug_both("header value", &value);
        let mut request = oauth_core::http_types::Request::new(());
        use_.attach_to(&AccessToken::new(ACCESS), &mut request)
            .unwrap();
        debug_both("request with token", &request);
    }
}

#[test]
fn errors_from_bodies_that_echo_secrets_are_redacted() {
    let bodies = [
        (
            400,
            format!(
                r#"{{"error":"invalid_grant","error_description":"refresh token {REFRESH} is invalid; code {CODE}"}}"#
            ),
        ),
        (
            401,
            format!(
                r#"{{"error":"invalid_client","error_description":"secret {SECRET} is wrong"}}"#
            ),
        ),
        (
            400,
            format!(r#"{{"error":"invalid_scope","error_description":"for {ACCESS}"}}"#),
        ),
        (
            429,
            format!(r#"{{"errors":[{{"errorId":2001,"message":"slow down {ACCESS}"}}]}}"#),
        ),
        (
            503,
            format!("<html><body>token {ACCESS} refresh_token={REFRESH}</body></html>"),
        ),
        (
            200,
            format!(r#"{{"access_token":"{ACCESS}","refresh_token":"{REFRESH}"}}"#),
        ),
        (
            200,
            format!(r#"{{"access_token":"{ACCESS}","expires_in":"soon"}}"#),
        ),
        (200, format!("<html>{ACCESS}</html>")),
        (302, format!("Location: https://x.example/?code={CODE}")),
    ];
    for (status, body) in bodies {
        let r = RawResponse::new(PROVIDER, status, Some("application/json"), body);
        let err = settings()
            .scopes(Scopes::from(["s"]))
            .decode_token_response(&r, &Grant::AuthorizationCode, now())
            .unwrap_err();
        error_all(&format!("error for HTTP {status}"), &err);
    }
}

#[test]
fn configuration_errors_do_not_repeat_secrets() {
    let errors: Vec<Error> = vec![
        Client::builder(Ebay::new("", ClientSecret::new(SECRET)))
            .build()
            .unwrap_err(),
        Client::builder(Ebay::new(format!("id:{SECRET}"), ClientSecret::new(SECRET)))
            .build()
            .unwrap_err(),
        Environment::custom(&format!("https://user:{SECRET}@api.example")).unwrap_err(),
        Environment::custom(&format!("https://api.example/?t={SECRET}")).unwrap_err(),
        ApiAuth::Trading
            .header_value(&AccessToken::new(format!("{ACCESS}\n")))
            .unwrap_err(),
    ];
    for err in errors {
        error_all("configuration error", &err);
    }
}

/// Collects everything the tracing subscriber writes.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn nothing_secret_is_logged_during_a_whole_flow() {
    let captured = Captured::default();
    let sink = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || sink.clone())
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method(POST)
                .body_includes("grant_type=authorization_code");
            then.status(200).body(user_token_body());
        })
        .await;
    server
        .mock_async(|when, then| {
            when.method(POST).body_includes("grant_type=refresh_token");
            then.status(400).body(format!(
                r#"{{"error":"invalid_grant","error_description":"{REFRESH} revoked"}}"#
            ));
        })
        .await;
    server
        .mock_async(|when, then| {
            when.method(POST)
                .body_includes("grant_type=client_credentials");
            then.status(503).body(format!("<html>{ACCESS}</html>"));
        })
        .await;
    let http = HttpClient::builder()
        .retry_policy(RetryPolicy {
            max_attempts: 2,
            base_delay: Duration::from_millis(1),
            max_delay: Duration::from_millis(5),
        })
        .build()
        .unwrap();
    let client = builder(&server.base_url())
        .http_client(http)
        .build()
        .unwrap();

    let landed = format!("https://app.example/cb?state=s1&code={CODE}&expires_in=299");
    let callback = oauth_core::parse_callback(&landed, &CsrfState::from_stored("s1")).unwrap();
    let user = client.exchange_code(&callback.code).await.unwrap();
    let set = user.into_token_set();
    let refresh_err = client.refresh(&set).await.unwrap_err();
    error_all("refresh error", &refresh_err);
    let app_err = client.application_token().await.unwrap_err();
    error_all("application token error", &app_err);
    let _ = client.exchange_code(&AuthorizationCode::new("")).await;
    let other = TokenSet::new(AccessToken::new(ACCESS), now())
        .with_refresh_token(RefreshToken::new(REFRESH), None)
        .with_scopes(Scopes::from(["x"]));
    let _ = client.refresh(&other).await;
    let _ = client.refresh_narrowed(&other, &Scopes::from(["x"])).await;

    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(
        logs.contains("oauth_request"),
        "the subscriber saw nothing: {logs}"
    );
    assert_clean("logs", &logs);
    assert!(
        !logs.contains(&server.base_url()),
        "logs show the URL: {logs}"
    );
}
