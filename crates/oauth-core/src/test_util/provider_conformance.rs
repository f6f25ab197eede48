//! The provider conformance suite (feature `test-util`): what every
//! [`Provider`] must do, checked on the wire against a
//! [`RecordingServer`].
//!
//! A provider crate describes itself in a [`ProviderCase`] (its settings
//! and the provider's answers for each situation) and runs
//! [`check_provider`] from a test:
//!
//! ```ignore
//! #[tokio::test]
//! async fn conformance() {
//!     check_provider(ProviderCase { settings: Ebay::new(...), ... }).await;
//! }
//! ```
//!
//! It checks, and panics with a message naming the rule on failure:
//! 1. the authorize URL round trip (for providers with a consent step):
//!    the URL is on the consent endpoint and carries the state once; the
//!    code of the callback is sent encoded exactly once; the answer
//!    becomes a token set whose expiry counts from the client's clock;
//! 2. the refresh: the refresh token is sent; a rotating provider's answer
//!    replaces it, a non-rotating provider keeps one;
//! 3. retries: a rotating provider's refresh is never repeated after a
//!    5xx; any provider's 5xx is a retryable error;
//! 4. the error classes: "the grant is dead" requires re-authorization,
//!    bad credentials are [`Error::InvalidClient`];
//! 5. the first token without consent, for providers that can;
//! 6. secret hygiene: no text containing `SENTINEL` (put it in every
//!    secret of the settings and of the scripted answers) appears in any
//!    `Debug` or `Display` of the client, answers, sets and errors, in an
//!    attached request's `Debug`, or in anything traced at TRACE level.

// A test suite reports a broken rule by panicking, like `assert!`.
#![allow(
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

use super::recording::{RecordingServer, ScriptedResponse};
use crate::attach::{AttachToken, AttachTokenExt};
use crate::clock::{ManualClock, SharedClock};
use crate::error::Error;
use crate::provider::{Client, Environment, IntoTokenSet, Provider};
use crate::secret::{AccessToken, RefreshToken};
use crate::state::CsrfState;
use crate::token_set::TokenSet;
use crate::transport::{HttpClient, RetryPolicy};
use std::fmt::{self, Write as _};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Metadata, Subscriber};

/// The text every secret of a case contains, so that a leak is found by
/// searching for it.
pub const SENTINEL: &str = "SENTINEL";

/// The code the suite's callback carries (decoded: `SENTINEL-code/1+x`).
pub const CODE_IN_CALLBACK: &str = "SENTINEL-code%2F1%2Bx";

/// The refresh token of the set the suite refreshes.
pub const REFRESH_TOKEN: &str = "SENTINEL-rt-0";

/// What a provider crate gives the suite: its settings (any base URL: the
/// suite points the client at its own server) and the provider's answers.
/// Every secret in them must contain [`SENTINEL`].
#[derive(Debug)]
pub struct ProviderCase<P> {
    /// The provider's settings.
    pub settings: P,
    /// The answer to a successful code exchange, or `None` for a provider
    /// without a consent step.
    pub exchange_answer: Option<ScriptedResponse>,
    /// The answer to a successful refresh. For a rotating provider it must
    /// carry a new refresh token.
    pub refresh_answer: ScriptedResponse,
    /// An answer saying that the refresh token is invalid, expired or
    /// revoked.
    pub reauthorize_answer: ScriptedResponse,
    /// An answer saying that the client's credentials are wrong.
    pub invalid_client_answer: ScriptedResponse,
    /// The answer to the first token request without consent, for
    /// providers that have one ([`Provider::initial_request`]).
    pub initial_answer: Option<ScriptedResponse>,
}

/// The instant the suite's clock shows.
fn start() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_750_000_000)
}

/// Runs the suite; panics naming the first rule broken.
pub async fn check_provider<P: Provider + Clone>(case: ProviderCase<P>) {
    let capture = Capture::default();
    let _guard = tracing::subscriber::set_default(capture.clone());
    let name = case.settings.name();
    if let Some(answer) = &case.exchange_answer {
        check_exchange(&case.settings, answer.clone()).await;
    }
    check_refresh(&case.settings, case.refresh_answer.clone()).await;
    check_retries(&case.settings).await;
    check_errors(&case).await;
    if let Some(answer) = &case.initial_answer {
        let (server, client) = serve(&case.settings, vec![answer.clone()], 1).await;
        let set = client
            .fetch_initial()
            .await
            .unwrap_or_else(|| {
                panic!("{name}: an initial answer is given but fetch_initial is None")
            })
            .unwrap_or_else(|e| panic!("{name}: the first token failed: {e}"));
        assert_eq!(server.requests().len(), 1, "{name}: one initial request");
        check_set(name, &set, "the first token");
    }
    check_attachment(&case.settings).await;
    let traced = capture.text();
    assert!(
        !traced.contains(SENTINEL),
        "{name}: a secret was traced: {}",
        around(&traced)
    );
    assert!(
        traced.contains(name),
        "{name}: token requests are traced with the provider's name"
    );
}

/// A client of `settings` on a fresh server scripted with `answers`, the
/// suite's clock, and `attempts` attempts per request.
async fn serve<P: Provider + Clone>(
    settings: &P,
    answers: Vec<ScriptedResponse>,
    attempts: u32,
) -> (RecordingServer, Client<P>) {
    let server = RecordingServer::start(answers).await;
    let retry = RetryPolicy {
        max_attempts: attempts,
        base_delay: Duration::from_millis(1),
        max_delay: Duration::from_millis(5),
    };
    let http = HttpClient::builder()
        .timeout(Duration::from_secs(10))
        .retry_policy(retry)
        .build()
        .unwrap_or_else(|e| panic!("the HTTP client: {e}"));
    let clock: SharedClock = Arc::new(ManualClock::new(start()));
    let environment = Environment::custom(&server.base_url())
        .unwrap_or_else(|e| panic!("the server's base URL: {e}"));
    let client = Client::builder(settings.clone())
        .environment(environment)
        .http_client(http)
        .clock(clock)
        .build()
        .unwrap_or_else(|e| panic!("{}: the case's settings: {e}", settings.name()));
    assert!(
        !format!("{client:?}").contains(SENTINEL),
        "{}: the client's Debug shows a secret",
        settings.name()
    );
    (server, client)
}

async fn check_exchange<P: Provider + Clone>(settings: &P, answer: ScriptedResponse) {
    let name = settings.name();
    let (server, client) = serve(settings, vec![answer], 1).await;
    let state = CsrfState::generate().unwrap_or_else(|e| panic!("state: {e}"));
    let url = client
        .authorize_url(&state)
        .unwrap_or_else(|e| panic!("{name}: authorize_url: {e}"));
    let consent = client
        .endpoints()
        .authorize()
        .unwrap_or_else(|| panic!("{name}: an exchange answer is given but no consent page"));
    assert!(
        url.as_str().starts_with(consent.as_str()),
        "{name}: the authorize URL is on the consent endpoint"
    );
    let states = url
        .query_pairs()
        .filter(|(key, value)| key == "state" && value == state.as_str())
        .count();
    assert_eq!(
        states, 1,
        "{name}: the authorize URL carries the state once"
    );
    let landed = format!(
        "https://app.example/callback?code={CODE_IN_CALLBACK}&state={}",
        state.as_str()
    );
    let callback = crate::callback::parse_callback(&landed, &state)
        .unwrap_or_else(|e| panic!("{name}: the callback: {e}"));
    let answer = client
        .exchange_code(&callback.code)
        .await
        .unwrap_or_else(|e| panic!("{name}: the code exchange: {e}"));
    let requests = server.requests();
    assert_eq!(requests.len(), 1, "{name}: one exchange request");
    let raw = String::from_utf8_lossy(&requests[0].raw).into_owned();
    assert!(
        raw.contains(CODE_IN_CALLBACK) || raw.contains("SENTINEL-code%2F1+x"),
        "{name}: the code is sent encoded exactly once"
    );
    assert!(
        !raw.contains("%252F"),
        "{name}: the code is not encoded twice"
    );
    let debug = format!("{answer:?}");
    assert!(
        !debug.contains(SENTINEL),
        "{name}: the answer's Debug shows a token"
    );
    check_set(name, &answer.into_token_set(), "the exchange");
}

async fn check_refresh<P: Provider + Clone>(settings: &P, answer: ScriptedResponse) {
    let name = settings.name();
    let (server, client) = serve(settings, vec![answer], 1).await;
    let current = current_set();
    let set = client
        .refresh(&current)
        .await
        .unwrap_or_else(|e| panic!("{name}: the refresh: {e}"));
    let requests = server.requests();
    assert_eq!(requests.len(), 1, "{name}: one refresh request");
    assert!(
        String::from_utf8_lossy(&requests[0].raw).contains(REFRESH_TOKEN),
        "{name}: the refresh sends the set's refresh token"
    );
    check_set(name, &set, "the refresh");
    let refresh_token = set
        .refresh_token
        .as_ref()
        .unwrap_or_else(|| panic!("{name}: a refreshed set keeps a refresh token"));
    if settings.rotates_refresh_tokens() {
        assert_ne!(
            refresh_token.expose_secret(),
            REFRESH_TOKEN,
            "{name}: a rotating provider's refresh replaces the refresh token"
        );
    }
}

async fn check_retries<P: Provider + Clone>(settings: &P) {
    let name = settings.name();
    let unavailable = ScriptedResponse::new(503, "text/html", "<html>maintenance</html>");
    let (server, client) = serve(settings, vec![unavailable.clone(), unavailable], 2).await;
    let error = client
        .refresh(&current_set())
        .await
        .expect_err("a 503 is an error");
    assert!(
        error.is_retryable(),
        "{name}: a 503 is retryable: {error:?}"
    );
    let sent = server.requests().len();
    if settings.rotates_refresh_tokens() {
        assert_eq!(sent, 1, "{name}: a rotating refresh is never repeated");
    } else {
        assert!(
            (1..=2).contains(&sent),
            "{name}: at most the policy's attempts"
        );
    }
    check_error_text(name, &error);
}

async fn check_errors<P: Provider + Clone>(case: &ProviderCase<P>) {
    let name = case.settings.name();
    let (_server, client) = serve(&case.settings, vec![case.reauthorize_answer.clone()], 1).await;
    let error = client
        .refresh(&current_set())
        .await
        .expect_err("a dead grant is an error");
    assert!(
        error.requires_reauthorization(),
        "{name}: a dead refresh token requires re-authorization: {error:?}"
    );
    check_error_text(name, &error);
    let (_server, client) =
        serve(&case.settings, vec![case.invalid_client_answer.clone()], 1).await;
    let error = client
        .refresh(&current_set())
        .await
        .expect_err("bad credentials are an error");
    assert!(
        matches!(error, Error::InvalidClient { .. }),
        "{name}: bad credentials are InvalidClient: {error:?}"
    );
    check_error_text(name, &error);
    // A set without refresh token cannot be refreshed (unless the provider
    // fetches a new token without one): never a panic, never a request
    // with an empty token.
    let (server, client) = serve(&case.settings, vec![case.refresh_answer.clone()], 1).await;
    let bare = TokenSet::new(AccessToken::new("SENTINEL-at-bare"), start());
    if let Err(error) = client.refresh(&bare).await {
        check_error_text(name, &error);
    }
    for request in server.requests() {
        assert!(
            !String::from_utf8_lossy(&request.raw).contains("refresh_token=&"),
            "{name}: an empty refresh token is never sent"
        );
    }
}

async fn check_attachment<P: Provider + Clone>(settings: &P) {
    let name = settings.name();
    let (_server, client) = serve(settings, Vec::new(), 1).await;
    let attach: &dyn AttachToken = client.attachment();
    let base = client.endpoints().token().clone();
    let mut request = http::Request::get(base.as_str())
        .body(())
        .unwrap_or_else(|e| panic!("a request: {e}"));
    // Some providers sign only their own API paths: what matters here is
    // that neither outcome shows the token.
    match attach.attach_to(&AccessToken::new("SENTINEL-at-attached"), &mut request) {
        Ok(()) => assert!(
            !format!("{request:?}").contains(SENTINEL),
            "{name}: an attached request's Debug shows the token"
        ),
        Err(error) => check_error_text(name, &error),
    }
    if let Err(error) = attach.attach_to(&AccessToken::new("SENTINEL\nbad"), &mut request) {
        check_error_text(name, &error);
    }
}

/// The set the suite refreshes: expired, with [`REFRESH_TOKEN`].
fn current_set() -> TokenSet {
    TokenSet::new(AccessToken::new("SENTINEL-at-0"), start())
        .with_refresh_token(RefreshToken::new(REFRESH_TOKEN), None)
}

fn check_set(name: &str, set: &TokenSet, what: &str) {
    assert!(
        !set.access_token.expose_secret().is_empty(),
        "{name}: {what} gives an access token"
    );
    assert!(
        set.expires_at > start(),
        "{name}: {what}'s expiry counts from the client's clock"
    );
    assert!(
        !format!("{set:?}").contains(SENTINEL),
        "{name}: a token set's Debug shows a token"
    );
}

fn check_error_text(name: &str, error: &Error) {
    let text = format!("{error} {error:?}");
    assert!(
        !text.contains(SENTINEL),
        "{name}: an error shows a secret: {}",
        around(&text)
    );
}

/// The text around the first sentinel (for the failure message).
fn around(text: &str) -> String {
    let at = text.find(SENTINEL).unwrap_or(0);
    text.chars().skip(at.saturating_sub(60)).take(140).collect()
}

/// A subscriber that keeps every span field, event field and message, at
/// every level.
#[derive(Clone, Default)]
struct Capture {
    text: Arc<Mutex<String>>,
    next_id: Arc<AtomicU64>,
}

impl Capture {
    fn text(&self) -> String {
        self.text
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    fn keep(&self, record: impl FnOnce(&mut Fields)) {
        let mut fields = Fields(String::new());
        record(&mut fields);
        self.text
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push_str(&fields.0);
    }
}

struct Fields(String);

impl Visit for Fields {
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        let _ = writeln!(self.0, "{}={value:?}", field.name());
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        let _ = writeln!(self.0, "{}={value}", field.name());
    }
}

impl Subscriber for Capture {
    fn enabled(&self, _metadata: &Metadata<'_>) -> bool {
        true
    }

    fn max_level_hint(&self) -> Option<tracing::level_filters::LevelFilter> {
        Some(tracing::level_filters::LevelFilter::TRACE)
    }

    fn new_span(&self, span: &Attributes<'_>) -> Id {
        self.keep(|fields| span.record(fields));
        Id::from_u64(self.next_id.fetch_add(1, Ordering::Relaxed) + 1)
    }

    fn record(&self, _span: &Id, values: &Record<'_>) {
        self.keep(|fields| values.record(fields));
    }

    fn record_follows_from(&self, _span: &Id, _follows: &Id) {}

    fn event(&self, event: &Event<'_>) {
        self.keep(|fields| event.record(fields));
    }

    fn enter(&self, _span: &Id) {}

    fn exit(&self, _span: &Id) {}
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::rfc6749::Rfc6749;
    use crate::secret::ClientSecret;

    fn generic(rotates: bool) -> Rfc6749 {
        Rfc6749::new(
            "generic",
            "client-1",
            Some(ClientSecret::new("SENTINEL-secret")),
        )
        .production("https://auth.example")
        .unwrap()
        .authorize_path("/authorize")
        .redirect_uri("https://app.example/callback")
        .refresh_tokens_rotate(rotates)
    }

    fn case(rotates: bool) -> ProviderCase<Rfc6749> {
        let token = |rt: &str| {
            ScriptedResponse::json(
                200,
                format!(
                    r#"{{"access_token":"SENTINEL-at-1","expires_in":3600,"refresh_token":"{rt}"}}"#
                ),
            )
        };
        ProviderCase {
            settings: generic(rotates),
            exchange_answer: Some(token("SENTINEL-rt-1")),
            refresh_answer: token("SENTINEL-rt-2"),
            reauthorize_answer: ScriptedResponse::json(400, r#"{"error":"invalid_grant"}"#),
            invalid_client_answer: ScriptedResponse::json(401, r#"{"error":"invalid_client"}"#),
            initial_answer: None,
        }
    }

    #[tokio::test]
    async fn the_generic_provider_conforms() {
        check_provider(case(true)).await;
        check_provider(case(false)).await;
    }

    #[tokio::test]
    #[should_panic(expected = "requires re-authorization")]
    async fn a_misclassified_dead_grant_is_caught() {
        let mut case = case(false);
        case.reauthorize_answer = ScriptedResponse::json(400, r#"{"error":"invalid_request"}"#);
        check_provider(case).await;
    }

    #[tokio::test]
    #[should_panic(expected = "replaces the refresh token")]
    async fn a_rotation_that_keeps_the_old_token_is_caught() {
        let mut case = case(true);
        case.refresh_answer =
            ScriptedResponse::json(200, r#"{"access_token":"SENTINEL-at-1","expires_in":60}"#);
        check_provider(case).await;
    }

    #[tokio::test]
    #[should_panic(expected = "shows a secret")]
    async fn an_echoed_secret_is_caught_where_scrubbing_cannot_see_it() {
        let mut case = case(false);
        // A token the request did not send, echoed in an error: scrubbing
        // removes only what was sent, so the suite must see it.
        case.invalid_client_answer = ScriptedResponse::json(
            401,
            r#"{"error":"invalid_client","error_description":"SENTINEL-other"}"#,
        );
        check_provider(case).await;
    }
}
