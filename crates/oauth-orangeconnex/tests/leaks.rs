//! The code and the refresh token travel in the URL's query string. These
//! tests prove that no error (`{}`, `{:?}`) and no tracing output (captured
//! at TRACE level, spans included, from every crate: ours, `oauth-core`,
//! hyper) contains them, for transport failures (connection refused on a
//! closed loopback port, a timeout), for provider errors that echo the
//! secret back, and for a success.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use httpmock::prelude::*;
use oauth_core::{
    AccessToken, AuthorizationCode, ClientKey, EndpointUrl, Error, HttpClient, RefreshToken,
    RetryPolicy, TokenSet, TransientCause,
};
use oauth_orangeconnex::{Client, Environment, OrangeConnex};
use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};
use tracing_subscriber::fmt::format::FmtSpan;

/// Letters only (so that no "looks like a token" heuristic can mask it:
/// only never showing the URL keeps it out) ...
const SENTINEL_RT: &str = "SentinelRefreshTokenWords";
/// ... and shaped like a real token.
const SENTINEL_RT_2: &str = "9d2b7e41-SENTINEL-0c5f-4a86";
const SENTINEL_CODE: &str = "SentinelCodeWords%2FTail";
const SENTINEL_KEY: &str = "SentinelClientKeyWords";

/// A `MakeWriter` that appends every log line to a shared buffer.
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

impl Captured {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

/// Installs a TRACE-level subscriber for the current thread (the tests run
/// on a current-thread runtime, so every task of the request logs here).
fn capture() -> (Captured, tracing::subscriber::DefaultGuard) {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_span_events(FmtSpan::FULL)
        .with_writer(move || writer.clone())
        .finish();
    (captured, tracing::subscriber::set_default(subscriber))
}

fn assert_no_secret(what: &str, text: &str) {
    for secret in [
        SENTINEL_RT,
        SENTINEL_RT_2,
        SENTINEL_CODE,
        SENTINEL_KEY,
        "SentinelCodeWords",
    ] {
        assert!(!text.contains(secret), "{what} contains {secret}:\n{text}");
    }
}

fn client(base: &str, http: HttpClient) -> Client {
    Client::builder(
        OrangeConnex::new("3pp-id", "https://app.example/cb")
            .client_key(ClientKey::new(SENTINEL_KEY)),
    )
    .environment(Environment::Custom(EndpointUrl::parse(base).unwrap()))
    .http_client(http)
    .build()
    .unwrap()
}

fn current(refresh_token: &str) -> TokenSet {
    TokenSet::new(AccessToken::new("at-old"), SystemTime::now())
        .with_refresh_token(RefreshToken::new(refresh_token), None)
}

fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

#[tokio::test(flavor = "current_thread")]
async fn connection_refused_shows_no_token_anywhere() {
    let (logs, _guard) = capture();
    // Retries on (a refused connection is always safe to retry), so that the
    // retry path logs too.
    let http = HttpClient::builder()
        .retry_policy(RetryPolicy {
            max_attempts: 3,
            base_delay: Duration::from_millis(5),
            max_delay: Duration::from_millis(20),
        })
        .build()
        .unwrap();
    let client = client(&format!("http://127.0.0.1:{}", closed_port()), http);
    for sentinel in [SENTINEL_RT, SENTINEL_RT_2] {
        let err = client.refresh(&current(sentinel)).await.unwrap_err();
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
        assert_no_secret("error", &format!("{err} {err:?} {err:#?}"));
    }
    let err = client
        .exchange_code(&AuthorizationCode::new(SENTINEL_CODE))
        .await
        .unwrap_err();
    assert!(err.is_retryable(), "{err:?}");
    assert_no_secret("error", &format!("{err} {err:?}"));

    let text = logs.text();
    // The capture works: the request span and the retries are there ...
    assert!(text.contains("oauth_request"), "{text}");
    assert!(text.contains("provider=\"orangeconnex\""), "{text}");
    assert!(text.contains("grant=\"refresh_token\""), "{text}");
    assert!(text.contains("retrying token request"), "{text}");
    assert!(text.contains("token request failed"), "{text}");
    // ... and no secret, and no URL with a query.
    assert_no_secret("tracing output", &text);
    assert!(!text.contains("refresh_token="), "{text}");
    assert!(!text.contains("/oauth/token?"), "{text}");
}

#[tokio::test(flavor = "current_thread")]
async fn timeout_shows_no_token_anywhere() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(POST).path("/oauth/token");
            then.status(200)
                .delay(Duration::from_secs(3))
                .body(r#"{"access_token":"late"}"#);
        })
        .await;
    let (logs, _guard) = capture();
    let http = HttpClient::builder()
        .timeout(Duration::from_millis(200))
        .build()
        .unwrap();
    let client = client(&server.base_url(), http);
    let err = client.refresh(&current(SENTINEL_RT)).await.unwrap_err();
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
    assert_no_secret("error", &format!("{err} {err:?} {err:#?}"));
    // A refresh may rotate: a timeout is not retried.
    assert_eq!(mock.calls_async().await, 1);

    let err = client
        .exchange_code(&AuthorizationCode::new(SENTINEL_CODE))
        .await
        .unwrap_err();
    assert!(err.is_retryable(), "{err:?}");
    assert_no_secret("error", &format!("{err} {err:?}"));

    let text = logs.text();
    assert!(text.contains("oauth_request"), "{text}");
    assert!(text.contains("grant=\"authorization_code\""), "{text}");
    assert_no_secret("tracing output", &text);
    assert!(!text.contains("/oauth/token?"), "{text}");
}

/// The provider echoes what we sent, in free text and in an HTML page: the
/// client scrubs the secret it sent (the prose-like sentinel would survive
/// the generic token-masking heuristics).
#[tokio::test(flavor = "current_thread")]
async fn echoed_secrets_are_scrubbed_from_errors_and_logs() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method(POST)
                .path("/oauth/token")
                .query_param("grant_type", "refresh_token");
            then.status(400)
                .header("content-type", "application/json")
                .body(format!(
                    r#"{{"error":"invalid_grant","error_description":"Invalid refresh token: {SENTINEL_RT}"}}"#
                ));
        })
        .await;
    server
        .mock_async(|when, then| {
            when.method(POST)
                .path("/oauth/token")
                .query_param("grant_type", "authorization_code");
            then.status(400).header("content-type", "text/html").body(format!(
                "<html><body>Bad request: code {SENTINEL_CODE} / SentinelCodeWords/Tail / {}</body></html>",
                "SentinelCodeWords%252FTail"
            ));
        })
        .await;
    let (logs, _guard) = capture();
    let client = client(&server.base_url(), HttpClient::new().unwrap());
    let err = client.refresh(&current(SENTINEL_RT)).await.unwrap_err();
    assert!(err.requires_reauthorization(), "{err:?}");
    assert_eq!(
        err.to_string(),
        "re-authorization required (orangeconnex, HTTP 400, code invalid_grant: Invalid refresh token: [REDACTED])"
    );
    assert_no_secret("error", &format!("{err} {err:?}"));

    let err = client
        .exchange_code(&AuthorizationCode::new(SENTINEL_CODE))
        .await
        .unwrap_err();
    match &err {
        Error::UnexpectedResponse { excerpt, .. } => {
            assert!(
                excerpt.starts_with("<html><body>Bad request: code [REDACTED]"),
                "{excerpt}"
            );
        }
        other => panic!("{other:?}"),
    }
    assert_no_secret("error", &format!("{err} {err:?}"));
    let text = logs.text();
    assert!(text.contains("token request refused"), "{text}");
    assert_no_secret("tracing output", &text);
}

#[tokio::test(flavor = "current_thread")]
async fn a_successful_refresh_logs_no_token() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method(POST).path("/oauth/token");
            then.status(200)
                .header("content-type", "application/json")
                .body(format!(
                    r#"{{"access_token":"{SENTINEL_RT_2}","refresh_token":"{SENTINEL_RT}","expires_in":3600,"token_type":"bearer"}}"#
                ));
        })
        .await;
    let (logs, _guard) = capture();
    let client = client(&server.base_url(), HttpClient::new().unwrap());
    let set = client.refresh(&current("rt-previous")).await.unwrap();
    assert_eq!(set.access_token.expose_secret(), SENTINEL_RT_2);
    assert_no_secret("token set", &format!("{set:?}"));
    let text = logs.text();
    assert!(text.contains("token issued"), "{text}");
    assert!(text.contains("status=200"), "{text}");
    assert_no_secret("tracing output", &text);
    assert!(!text.contains("rt-previous"), "{text}");
}
