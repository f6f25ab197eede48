//! No secret ever shows in `Debug`, `Display` or logs.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use httpmock::prelude::*;
use oauth_core::http_types::Request;
use oauth_core::{
    AccessToken, AttachTokenExt, CsrfState, Error, Grant, IntoTokenSet, ManualClock, Provider,
    RawResponse, Scopes, TokenSet, from_unix_millis,
};
use oauth_eshopbox::{
    ApiAuth, Client, ClientSecret, Environment, Eshopbox, PROVIDER, PartnerAuthorization,
    RefreshToken, TokenResponse,
};
use std::io;
use std::sync::{Arc, Mutex};

/// Every secret below contains it; none may ever be printed.
const SENTINEL: &str = "SENTINEL";
const CLIENT_SECRET: &str = "SENTINELcs0a1b2c3d4e";
const REFRESH_TOKEN: &str = "SENTINELrt5f6a7b8c9d";
const ACCESS_TOKEN: &str = "SENTINELat1a2b3c4d5e";
const ID_TOKEN: &str = "SENTINELid9z8y7x6w5v";

fn assert_clean(what: &str, text: &str) {
    assert!(!text.contains(SENTINEL), "{what} leaks a secret: {text}");
}

fn assert_clean_debug<T: std::fmt::Debug>(what: &str, value: &T) {
    assert_clean(what, &format!("{value:?}"));
    assert_clean(what, &format!("{value:#?}"));
}

fn assert_clean_error(what: &str, error: &Error) {
    assert_clean(what, &format!("{error}"));
    assert_clean_debug(what, error);
}

fn settings() -> Eshopbox {
    Eshopbox::new(
        "client-id-1",
        ClientSecret::new(CLIENT_SECRET),
        RefreshToken::new(REFRESH_TOKEN),
    )
}

/// A client for the token endpoint under the base URL `url`.
fn builder(url: &str) -> oauth_eshopbox::ClientBuilder {
    Client::builder(settings())
        .environment(Environment::custom(url).unwrap())
        .clock(Arc::new(ManualClock::at_unix_millis(1_000)))
}

/// The provider's decoder and classifier, on the answer to a first token
/// request (`grant`: another kind).
fn decode_token_response(
    response: &RawResponse,
    grant: &Grant<'_>,
) -> Result<TokenResponse, Error> {
    settings().decode_token_response(response, grant, from_unix_millis(0))
}

fn success_body() -> String {
    format!(
        r#"{{"access_token":"{ACCESS_TOKEN}","id_token":"{ID_TOKEN}","scope":"openid profile","expires_in":86400,"token_type":"Bearer"}}"#
    )
}

#[test]
fn public_types_holding_secrets_are_redacted() {
    let builder = builder("http://127.0.0.1:1");
    assert_clean_debug("ClientBuilder", &builder);
    let client = builder.build().unwrap();
    assert_clean_debug("Client", &client);
    assert_clean_debug("Eshopbox", client.provider());
    assert_clean_debug(
        "TokenRequest",
        &client
            .provider()
            .grant_request(&client.request_context(), &RefreshToken::new(REFRESH_TOKEN)),
    );

    let response = RawResponse::new(PROVIDER, 200, Some("application/json"), success_body());
    assert_clean_debug("RawResponse", &response);
    let typed = decode_token_response(&response, &Grant::Initial).unwrap();
    assert_eq!(typed.access_token.expose_secret(), ACCESS_TOKEN);
    assert_clean_debug("TokenResponse", &typed);
    let set = typed
        .into_token_set()
        .with_refresh_token(RefreshToken::new(REFRESH_TOKEN), None);
    assert_clean_debug("TokenSet", &set);

    let mut request = Request::builder()
        .uri("https://wms.myeshopbox.com/api/v1/orders")
        .body(())
        .unwrap();
    ApiAuth
        .attach_to(&AccessToken::new(ACCESS_TOKEN), &mut request)
        .unwrap();
    assert_clean_debug("http::Request with token", &request);

    let partner = PartnerAuthorization::builder("client-id-1", "https://app.example/cb")
        .scopes(Scopes::from(["orders"]))
        .build()
        .unwrap();
    assert_clean_debug("PartnerAuthorization", &partner);
    assert_clean_debug("CsrfState", &CsrfState::from_stored(REFRESH_TOKEN));
}

#[test]
fn errors_never_show_a_secret() {
    let bodies: Vec<(u16, &str, String)> = vec![
        (
            403,
            "application/json",
            format!(
                r#"{{"error":"invalid_grant","error_description":"Unknown or invalid refresh token {REFRESH_TOKEN}."}}"#
            ),
        ),
        (
            401,
            "application/json",
            format!(
                r#"{{"error":"access_denied","error_description":"client_secret={CLIENT_SECRET} is wrong"}}"#
            ),
        ),
        (
            401,
            "application/json",
            format!(r#"{{"message":"Unauthorized: {CLIENT_SECRET}"}}"#),
        ),
        (
            429,
            "application/json",
            format!(r#"{{"message":"slow down {REFRESH_TOKEN}"}}"#),
        ),
        (
            502,
            "text/html",
            format!("<html><body>Bad Gateway {ACCESS_TOKEN} {CLIENT_SECRET}</body></html>"),
        ),
        (
            200,
            "application/json",
            format!(r#"{{"access_token":"{ACCESS_TOKEN}","expires_in":"soon"}}"#),
        ),
        (
            200,
            "application/json",
            format!(r#"{{"access_token":"{ACCESS_TOKEN}","id_token":"{ID_TOKEN}""#),
        ),
        (
            200,
            "text/html",
            format!("<p>access_token={ACCESS_TOKEN}&refresh_token={REFRESH_TOKEN}</p>"),
        ),
        (
            200,
            "application/json",
            format!(r#"{{"error":"invalid_request","error_description":"{CLIENT_SECRET}"}}"#),
        ),
        (
            400,
            "application/json",
            format!(r#"{{"error":"{REFRESH_TOKEN}"}}"#),
        ),
    ];
    for (status, content_type, body) in bodies {
        let response = RawResponse::new(PROVIDER, status, Some(content_type), body.clone());
        let err = decode_token_response(&response, &Grant::Initial).unwrap_err();
        assert_clean_error(&format!("decode of {status} {body}"), &err);
        let current = TokenSet::new(AccessToken::new(ACCESS_TOKEN), from_unix_millis(0));
        let err =
            decode_token_response(&response, &Grant::Refresh { current: &current }).unwrap_err();
        assert_clean_error(&format!("refresh decode of {status} {body}"), &err);
    }
    let err = Client::builder(Eshopbox::new(
        "",
        ClientSecret::new(CLIENT_SECRET),
        RefreshToken::new(REFRESH_TOKEN),
    ))
    .build()
    .unwrap_err();
    assert_clean_error("configuration", &err);
    let err = Environment::custom(&format!("http://example.com/{CLIENT_SECRET}")).unwrap_err();
    assert_clean_error("custom URL", &err);
}

/// A `MakeWriter` that appends to a shared buffer.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[tokio::test(flavor = "current_thread")]
async fn logs_never_show_a_secret() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let server = MockServer::start_async().await;
    let ok = server
        .mock_async(|when, then| {
            when.method(POST).path("/ok/api/v1/generateToken");
            then.status(200)
                .header("content-type", "application/json")
                .body(success_body());
        })
        .await;
    let refused = server
        .mock_async(|when, then| {
            when.method(POST).path("/refused/api/v1/generateToken");
            then.status(403)
                .header("content-type", "application/json")
                .body(format!(
                    r#"{{"error":"invalid_grant","error_description":"refresh token {REFRESH_TOKEN} unknown"}}"#
                ));
        })
        .await;

    let client = builder(&server.url("/ok")).build().unwrap();
    let set = client.fetch_initial().await.unwrap().unwrap();
    let set = client.refresh(&set).await.unwrap();
    ok.assert_calls_async(2).await;

    let client = builder(&server.url("/refused")).build().unwrap();
    let current = TokenSet::new(AccessToken::new(ACCESS_TOKEN), from_unix_millis(0))
        .with_refresh_token(RefreshToken::new(REFRESH_TOKEN), None);
    let err = client.refresh(&current).await.unwrap_err();
    refused.assert_calls_async(1).await;
    assert!(err.requires_reauthorization());

    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(
        logs.contains("provider") && logs.contains("eshopbox"),
        "expected some log output: {logs}"
    );
    assert!(logs.contains("status=403"), "{logs}");
    assert_clean("logs", &logs);
    assert_eq!(set.access_token.expose_secret(), ACCESS_TOKEN);
}

/// A provider that echoes the secrets it was sent, in words that masking by
/// shape would let through: they are scrubbed by value.
#[tokio::test]
async fn secrets_echoed_by_the_provider_are_scrubbed() {
    // A subscriber of its own (output dropped): a thread without one that
    // registers a tracing callsite first may cache it as disabled while
    // `logs_never_show_a_secret` runs in parallel, hiding its events.
    let sink = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(io::sink)
        .finish();
    let _guard = tracing::subscriber::set_default(sink);
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method(POST).path("/api/v1/generateToken");
            then.status(400).header("content-type", "application/json").body(
                r#"{"error":"invalid_request","error_description":"refresh token 'rt:AbCdEfGhIjKl!MnOpQrStUv' is not valid for client secret 'Hunter-Secret_Phrase'"}"#,
            );
        })
        .await;
    let client = Client::builder(Eshopbox::new(
        "client-id",
        ClientSecret::new("Hunter-Secret_Phrase"),
        RefreshToken::new("rt:AbCdEfGhIjKl!MnOpQrStUv"),
    ))
    .environment(Environment::custom(&server.base_url()).unwrap())
    .build()
    .unwrap();
    let error = client.fetch_initial().await.unwrap().unwrap_err();
    let text = format!("{error} {error:?}");
    assert!(!text.contains("Hunter-Secret_Phrase"), "{text}");
    assert!(!text.contains("AbCdEfGhIjKl"), "{text}");
    assert!(text.contains("is not valid for client secret"), "{text}");
}
