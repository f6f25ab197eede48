//! The fault matrix: every grant of every provider against every fault of
//! the token endpoint, one test per cell.
//!
//! Grants: eBay code exchange, refresh and application token; AliExpress
//! token create and refresh; OrangeConnex exchange and refresh; Eshopbox
//! refresh. Faults: connection refused, reset mid-body, timeout before the
//! headers and in the middle of the body, 500, 502 (HTML), 503 with
//! `Retry-After`, 429, 200 with an empty body, truncated JSON, wrong types,
//! no `access_token`, a 10 MiB body (with `Content-Length` and chunked) and
//! a 302 to another host.
//!
//! Each cell asserts the exact [`Error`] variant (and cause, status,
//! `Retry-After`), whether it is retryable, that it never asks for
//! re-authorization, that it names the provider, that no secret appears
//! in its `Display` or `Debug`, and how many requests reached the server.
//!
//! The `manager::*` cells put a [`TokenManager`] in front of each refresh
//! grant, holding a token that is still valid but within the refresh skew,
//! and check that every fault leaves it serving that token (from memory and
//! store), without a re-authorization latch and without hammering the
//! provider during the backoff; once the endpoint answers again, the next
//! refresh after the backoff installs the new token.
//!
//! Status and body faults come from httpmock; resets, stalls and the
//! chunked 10 MiB body from a raw loopback server (`fault_support`).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod fault_support;

use fault_support::{RawFault, RawServer, RefusingPort};
use httpmock::Mock;
use httpmock::prelude::*;
use oauth_all::{aliexpress, ebay, eshopbox, orangeconnex};
use oauth_core::{
    AccessToken, AppSecret, AuthorizationCode, AuthorizationCodeGrant, ClientSecret, EndpointUrl,
    Error, HttpClient, ManualClock, MemoryStore, RefreshGrant, RefreshToken, RetryPolicy, Scopes,
    SharedClock, TokenManager, TokenSet, TokenStore, TransientCause, from_unix_millis,
};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

/// Every secret the clients hold or the faults carry starts with this: no
/// error text may contain it.
const SENTINEL: &str = "SENTINEL";
const CLIENT_SECRET: &str = "SENTINELclientsecret0123456789";
const APP_SECRET: &str = "SENTINELappsecret0123456789";
const CODE: &str = "SENTINELcode0123456789abcdef";
const REFRESH: &str = "SENTINELrefresh0123456789abcdef";
const OLD_ACCESS: &str = "SENTINELoldaccess0123456789";
const NEW_ACCESS: &str = "SENTINELnewaccess0123456789";

/// The manual clock's start, in Unix milliseconds.
const NOW_MS: u64 = 1_700_000_000_000;

/// Client timeout of the cells that stall: short, so the matrix stays fast.
const SHORT_TIMEOUT: Duration = Duration::from_millis(400);
/// Client timeout of every other cell: long enough never to fire.
const LONG_TIMEOUT: Duration = Duration::from_secs(10);
/// The refused 10 MiB body must be refused within this.
const QUICKLY: Duration = Duration::from_secs(3);

const RETRY_AFTER_503: u64 = 7;
const RETRY_AFTER_429: u64 = 3;

const HTML_502: &str = "<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center><hr><center>nginx</center></body></html>";
const TRUNCATED: &str = r#"{"access_token":"SENTINELat0123456789abcdef","expires_in":72"#;
const WRONG_TYPES: &str = r#"{"access_token":{"value":"SENTINELat0123456789abcdef"},"expires_in":"soon","refresh_token":["x"],"token_type":7}"#;
const MISSING_ACCESS_TOKEN: &str = r#"{"token_type":"Bearer","expires_in":7200,"refresh_token":"SENTINELrt0123456789abcdef","code":"0"}"#;

/// A grant of a provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    EbayCode,
    EbayRefresh,
    EbayApplication,
    AliExpressCreate,
    AliExpressRefresh,
    OrangeConnexExchange,
    OrangeConnexRefresh,
    EshopboxRefresh,
}

impl Target {
    fn provider(self) -> &'static str {
        match self {
            Self::EbayCode | Self::EbayRefresh | Self::EbayApplication => ebay::PROVIDER,
            Self::AliExpressCreate | Self::AliExpressRefresh => aliexpress::PROVIDER,
            Self::OrangeConnexExchange | Self::OrangeConnexRefresh => orangeconnex::PROVIDER,
            Self::EshopboxRefresh => eshopbox::PROVIDER,
        }
    }

    /// The token endpoint's path under the server's base.
    fn path(self) -> &'static str {
        match self {
            Self::EbayCode | Self::EbayRefresh | Self::EbayApplication => ebay::TOKEN_PATH,
            Self::AliExpressCreate => "/rest/auth/token/create",
            Self::AliExpressRefresh => "/rest/auth/token/refresh",
            Self::OrangeConnexExchange | Self::OrangeConnexRefresh => orangeconnex::TOKEN_PATH,
            Self::EshopboxRefresh => "/api/v1/generateToken",
        }
    }

    /// A valid answer of this grant carrying [`NEW_ACCESS`].
    fn success_body(self) -> String {
        match self {
            Self::EbayCode | Self::EbayRefresh | Self::EbayApplication => format!(
                r#"{{"access_token":"{NEW_ACCESS}","expires_in":7200,"token_type":"User Access Token"}}"#
            ),
            Self::AliExpressCreate | Self::AliExpressRefresh => format!(
                r#"{{"access_token":"{NEW_ACCESS}","refresh_token":"SENTINELnewrefresh0123456789","expires_in":86400,"refresh_expires_in":172800,"code":"0","request_id":"0ba2887315178178017221014"}}"#
            ),
            Self::OrangeConnexExchange | Self::OrangeConnexRefresh => format!(
                r#"{{"access_token":"{NEW_ACCESS}","expires_in":3600,"token_type":"bearer"}}"#
            ),
            Self::EshopboxRefresh => format!(
                r#"{{"access_token":"{NEW_ACCESS}","expires_in":86400,"token_type":"Bearer","scope":"openid"}}"#
            ),
        }
    }
}

/// A fault of the token endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fault {
    ConnectionRefused,
    ResetMidBody,
    TimeoutBeforeHeaders,
    TimeoutMidBody,
    Status500,
    Status502Html,
    Status503RetryAfter,
    Status429,
    EmptyBody200,
    TruncatedJson,
    WrongTypes,
    MissingAccessToken,
    HugeBody,
    HugeBodyChunked,
    RedirectToOtherHost,
}

impl Fault {
    const ALL: [Self; 15] = [
        Self::ConnectionRefused,
        Self::ResetMidBody,
        Self::TimeoutBeforeHeaders,
        Self::TimeoutMidBody,
        Self::Status500,
        Self::Status502Html,
        Self::Status503RetryAfter,
        Self::Status429,
        Self::EmptyBody200,
        Self::TruncatedJson,
        Self::WrongTypes,
        Self::MissingAccessToken,
        Self::HugeBody,
        Self::HugeBodyChunked,
        Self::RedirectToOtherHost,
    ];

    fn raw(self) -> Option<RawFault> {
        match self {
            Self::ResetMidBody => Some(RawFault::ResetMidBody),
            Self::TimeoutBeforeHeaders => Some(RawFault::StallBeforeHeaders),
            Self::TimeoutMidBody => Some(RawFault::StallMidBody),
            Self::HugeBodyChunked => Some(RawFault::HugeChunked),
            _ => None,
        }
    }

    fn timeout(self) -> Duration {
        match self {
            Self::TimeoutBeforeHeaders | Self::TimeoutMidBody => SHORT_TIMEOUT,
            _ => LONG_TIMEOUT,
        }
    }

    /// The error class every grant must report for this fault.
    fn expected(self) -> Expect {
        match self {
            Self::ConnectionRefused => Expect::Transient(TransientCause::Connect, None, None),
            Self::ResetMidBody => Expect::Transient(TransientCause::Interrupted, None, None),
            Self::TimeoutBeforeHeaders | Self::TimeoutMidBody => {
                Expect::Transient(TransientCause::Timeout, None, None)
            }
            Self::Status500 => Expect::Transient(TransientCause::ServerError, Some(500), None),
            Self::Status502Html => Expect::Transient(TransientCause::ServerError, Some(502), None),
            Self::Status503RetryAfter => Expect::Transient(
                TransientCause::ServerError,
                Some(503),
                Some(Duration::from_secs(RETRY_AFTER_503)),
            ),
            Self::Status429 => Expect::RateLimited(Some(Duration::from_secs(RETRY_AFTER_429))),
            Self::EmptyBody200 | Self::TruncatedJson | Self::WrongTypes => {
                Expect::Unexpected(200, None)
            }
            Self::MissingAccessToken => Expect::Unexpected(200, Some("access_token")),
            Self::HugeBody | Self::HugeBodyChunked => {
                Expect::Unexpected(200, Some("larger than 65536 bytes"))
            }
            Self::RedirectToOtherHost => Expect::Unexpected(302, Some("redirect")),
        }
    }
}

/// The expected error class.
#[derive(Debug, Clone, Copy)]
enum Expect {
    /// `Error::Transient` with this cause, HTTP status and `Retry-After`.
    Transient(TransientCause, Option<u16>, Option<Duration>),
    /// `Error::RateLimited` with this `Retry-After`, HTTP 429.
    RateLimited(Option<Duration>),
    /// `Error::UnexpectedResponse` with this status, its reason containing
    /// the text when given.
    Unexpected(u16, Option<&'static str>),
}

fn check_error(target: Target, fault: Fault, error: &Error) {
    let cell = format!("{target:?} x {fault:?}");
    let text = format!("{error} | {error:?}");
    assert!(!text.contains(SENTINEL), "{cell}: secret in error: {text}");
    assert!(
        !error.requires_reauthorization(),
        "{cell}: a fault must not ask for re-authorization: {text}"
    );
    match (fault.expected(), error) {
        (
            Expect::Transient(cause, status, retry_after),
            Error::Transient {
                cause: got_cause,
                retry_after: got_retry_after,
                details,
            },
        ) => {
            assert_eq!(*got_cause, cause, "{cell}: {text}");
            assert_eq!(*got_retry_after, retry_after, "{cell}: {text}");
            assert_eq!(details.status(), status, "{cell}: {text}");
            assert_eq!(details.provider(), target.provider(), "{cell}: {text}");
            assert!(error.is_retryable(), "{cell}: {text}");
        }
        (
            Expect::RateLimited(retry_after),
            Error::RateLimited {
                retry_after: got,
                details,
            },
        ) => {
            assert_eq!(*got, retry_after, "{cell}: {text}");
            assert_eq!(details.status(), Some(429), "{cell}: {text}");
            assert_eq!(details.provider(), target.provider(), "{cell}: {text}");
            assert!(error.is_retryable(), "{cell}: {text}");
        }
        (
            Expect::Unexpected(status, reason),
            Error::UnexpectedResponse {
                provider,
                status: got_status,
                reason: got_reason,
                ..
            },
        ) => {
            assert_eq!(*got_status, Some(status), "{cell}: {text}");
            assert_eq!(*provider, target.provider(), "{cell}: {text}");
            if let Some(reason) = reason {
                assert!(got_reason.contains(reason), "{cell}: {text}");
            }
            assert!(!error.is_retryable(), "{cell}: {text}");
        }
        (expected, _) => panic!("{cell}: expected {expected:?}, got {text}"),
    }
}

fn http(timeout: Duration) -> HttpClient {
    HttpClient::builder()
        .timeout(timeout)
        .connect_timeout(Duration::from_secs(5))
        .retry_policy(RetryPolicy::none())
        .build()
        .unwrap()
}

fn now() -> SystemTime {
    from_unix_millis(NOW_MS)
}

fn ebay_client(base: &str, http: HttpClient, clock: SharedClock) -> ebay::Client {
    ebay::Client::builder(
        ebay::Ebay::new(
            "Example-App-PRD-1a2b3c4d5",
            ClientSecret::new(CLIENT_SECRET),
        )
        .ru_name("Example_Inc-Example-Test-abcd")
        .scopes(Scopes::from([ebay::API_SCOPE])),
    )
    .environment(ebay::Environment::custom(base).unwrap())
    .http_client(http)
    .clock(clock)
    .build()
    .unwrap()
}

fn aliexpress_client(base: &str, http: HttpClient, clock: SharedClock) -> aliexpress::Client {
    aliexpress::Client::builder(
        aliexpress::AliExpress::new("12345678", AppSecret::new(APP_SECRET))
            .redirect_uri("https://app.example/aliexpress/callback"),
    )
    .environment(aliexpress::Environment::custom(base).unwrap())
    .http_client(http)
    .clock(clock)
    .build()
    .unwrap()
}

fn orangeconnex_client(base: &str, http: HttpClient, clock: SharedClock) -> orangeconnex::Client {
    orangeconnex::Client::builder(orangeconnex::OrangeConnex::new(
        "3pp-client-7",
        "https://app.example/oc/callback",
    ))
    .environment(orangeconnex::Environment::Custom(
        EndpointUrl::parse(base).unwrap(),
    ))
    .http_client(http)
    .clock(clock)
    .build()
    .unwrap()
}

fn eshopbox_client(base: &str, http: HttpClient, clock: SharedClock) -> eshopbox::Client {
    eshopbox::Client::builder(eshopbox::Eshopbox::new(
        "esb-client-1",
        ClientSecret::new(CLIENT_SECRET),
        RefreshToken::new(REFRESH),
    ))
    .environment(eshopbox::Environment::custom(base).unwrap())
    .http_client(http)
    .clock(clock)
    .build()
    .unwrap()
}

/// The token set a refresh starts from: still valid for 30 s (within every
/// refresh skew used here), with a refresh token unless the grant has none.
fn current_set(target: Target) -> TokenSet {
    // Issued an hour ago: 30 s left is within the 60 s skew (a set issued
    // just now with 30 s to live would be refreshed at half its lifetime).
    let set = TokenSet::new(
        AccessToken::new(OLD_ACCESS),
        now() + Duration::from_secs(30),
    )
    .with_issued_at(now() - Duration::from_secs(3600))
    .with_scopes(Scopes::from([ebay::API_SCOPE]));
    if target == Target::EbayApplication {
        set
    } else {
        set.with_refresh_token(
            RefreshToken::new(REFRESH),
            Some(now() + Duration::from_secs(30 * 24 * 3600)),
        )
    }
}

/// The [`RefreshGrant`] of a refresh target (`None` for code exchanges).
fn refresh_grant(
    target: Target,
    base: &str,
    http: HttpClient,
    clock: SharedClock,
) -> Option<Arc<dyn RefreshGrant>> {
    Some(match target {
        Target::EbayRefresh => Arc::new(ebay_client(base, http, clock)),
        Target::EbayApplication => Arc::new(ebay::ClientExt::application_token_grant(
            &ebay_client(base, http, clock),
        )),
        Target::AliExpressRefresh => Arc::new(aliexpress_client(base, http, clock)),
        Target::OrangeConnexRefresh => Arc::new(orangeconnex_client(base, http, clock)),
        Target::EshopboxRefresh => Arc::new(eshopbox_client(base, http, clock)),
        Target::EbayCode | Target::AliExpressCreate | Target::OrangeConnexExchange => {
            return None;
        }
    })
}

/// Runs the grant once against `base`.
async fn call(target: Target, base: &str, http: HttpClient) -> Result<TokenSet, Error> {
    let clock: SharedClock = Arc::new(ManualClock::new(now()));
    let code = AuthorizationCode::new(CODE);
    match target {
        // The grant trait's exchange: the token set.
        Target::EbayCode => {
            AuthorizationCodeGrant::exchange_code(&ebay_client(base, http, clock), &code).await
        }
        Target::AliExpressCreate => {
            AuthorizationCodeGrant::exchange_code(&aliexpress_client(base, http, clock), &code)
                .await
        }
        Target::OrangeConnexExchange => {
            AuthorizationCodeGrant::exchange_code(&orangeconnex_client(base, http, clock), &code)
                .await
        }
        _ => {
            let grant = refresh_grant(target, base, http, clock).unwrap();
            grant.refresh(&current_set(target)).await
        }
    }
}

/// Where the faulty endpoint lives, and what it counted.
enum Endpoint {
    Refused(RefusingPort),
    Raw(RawServer),
    Mock {
        server: MockServer,
        fault: usize,
        /// The host a redirect points to.
        other: MockServer,
        other_mock: usize,
    },
}

impl Endpoint {
    async fn start(target: Target, fault: Fault) -> Self {
        if fault == Fault::ConnectionRefused {
            return Self::Refused(RefusingPort::bind().unwrap());
        }
        if let Some(raw) = fault.raw() {
            return Self::Raw(RawServer::start(raw, &target.success_body()).await.unwrap());
        }
        let server = MockServer::start_async().await;
        let other = MockServer::start_async().await;
        let success = target.success_body();
        let other_mock = other
            .mock_async(|when, then| {
                when.any_request();
                then.status(200)
                    .header("content-type", "application/json")
                    .body(&success);
            })
            .await
            .id();
        let location = other.url("/steal");
        let path = target.path();
        let mock = server
            .mock_async(|when, then| {
                when.method(POST).path(path);
                match fault {
                    Fault::Status500 => {
                        then.status(500)
                            .header("content-type", "text/plain")
                            .body("Internal Server Error");
                    }
                    Fault::Status502Html => {
                        then.status(502)
                            .header("content-type", "text/html")
                            .body(HTML_502);
                    }
                    Fault::Status503RetryAfter => {
                        then.status(503)
                            .header("content-type", "text/plain")
                            .header("retry-after", RETRY_AFTER_503.to_string())
                            .body("Service Unavailable");
                    }
                    Fault::Status429 => {
                        then.status(429)
                            .header("content-type", "application/json")
                            .header("retry-after", RETRY_AFTER_429.to_string())
                            .body(r#"{"error":"rate_limited","error_description":"Too many requests"}"#);
                    }
                    Fault::EmptyBody200 => {
                        then.status(200)
                            .header("content-type", "application/json")
                            .body("");
                    }
                    Fault::TruncatedJson => {
                        then.status(200)
                            .header("content-type", "application/json")
                            .body(TRUNCATED);
                    }
                    Fault::WrongTypes => {
                        then.status(200)
                            .header("content-type", "application/json")
                            .body(WRONG_TYPES);
                    }
                    Fault::MissingAccessToken => {
                        then.status(200)
                            .header("content-type", "application/json")
                            .body(MISSING_ACCESS_TOKEN);
                    }
                    Fault::HugeBody => {
                        let mut body = br#"{"access_token":""#.to_vec();
                        body.resize(10 * 1024 * 1024 - 2, b'a');
                        body.extend_from_slice(br#""}"#);
                        then.status(200)
                            .header("content-type", "application/json")
                            .body(body);
                    }
                    Fault::RedirectToOtherHost => {
                        then.status(302).header("location", &location);
                    }
                    Fault::ConnectionRefused
                    | Fault::ResetMidBody
                    | Fault::TimeoutBeforeHeaders
                    | Fault::TimeoutMidBody
                    | Fault::HugeBodyChunked => unreachable!("not an httpmock fault"),
                }
            })
            .await;
        Self::Mock {
            fault: mock.id(),
            server,
            other,
            other_mock,
        }
    }

    fn base(&self) -> String {
        match self {
            Self::Refused(port) => port.base().to_owned(),
            Self::Raw(raw) => raw.base().to_owned(),
            Self::Mock { server, .. } => server.base_url(),
        }
    }

    /// Requests that reached the endpoint (`None` when nothing listens).
    async fn requests(&self) -> Option<usize> {
        match self {
            Self::Refused(_) => None,
            Self::Raw(raw) => Some(raw.connections()),
            Self::Mock { server, fault, .. } => Some(Mock::new(*fault, server).calls_async().await),
        }
    }

    /// Requests that reached the host a redirect points to.
    async fn other_host_requests(&self) -> usize {
        match self {
            Self::Mock {
                other, other_mock, ..
            } => Mock::new(*other_mock, other).calls_async().await,
            _ => 0,
        }
    }

    /// Makes the endpoint answer with `target`'s success body; `false` if
    /// it cannot (nothing listens).
    async fn heal(&self, target: Target) -> bool {
        match self {
            Self::Refused(_) => false,
            Self::Raw(raw) => {
                raw.heal();
                true
            }
            Self::Mock { server, fault, .. } => {
                Mock::new(*fault, server).delete_async().await;
                let success = target.success_body();
                let path = target.path();
                server
                    .mock_async(|when, then| {
                        when.method(POST).path(path);
                        then.status(200)
                            .header("content-type", "application/json")
                            .body(&success);
                    })
                    .await;
                true
            }
        }
    }
}

/// One cell: the grant against the fault, the exact error, the request
/// count, and for the size cap and stalls, the time taken.
async fn run_cell(target: Target, fault: Fault) {
    let endpoint = Endpoint::start(target, fault).await;
    let started = Instant::now();
    let result = call(target, &endpoint.base(), http(fault.timeout())).await;
    let elapsed = started.elapsed();
    let cell = format!("{target:?} x {fault:?}");
    let error = match result {
        Ok(set) => panic!("{cell}: the grant succeeded: {set:?}"),
        Err(error) => error,
    };
    check_error(target, fault, &error);
    // Exactly one attempt: no retries were configured, none may happen.
    let expected_requests = (fault != Fault::ConnectionRefused).then_some(1);
    assert_eq!(endpoint.requests().await, expected_requests, "{cell}");
    assert_eq!(endpoint.other_host_requests().await, 0, "{cell}");
    match fault {
        Fault::HugeBody | Fault::HugeBodyChunked => {
            assert!(elapsed < QUICKLY, "{cell}: took {elapsed:?}");
        }
        Fault::TimeoutBeforeHeaders | Fault::TimeoutMidBody => {
            assert!(
                elapsed >= SHORT_TIMEOUT - Duration::from_millis(50) && elapsed < QUICKLY,
                "{cell}: took {elapsed:?}"
            );
        }
        _ => {}
    }
}

/// One manager cell: a token within the skew, a failing refresh, the old
/// token kept; after the backoff and the endpoint's recovery, the new one.
async fn run_manager_cell(target: Target, fault: Fault) {
    let cell = format!("manager: {target:?} x {fault:?}");
    let endpoint = Endpoint::start(target, fault).await;
    let clock = ManualClock::new(now());
    let shared: SharedClock = Arc::new(clock.clone());
    let grant = refresh_grant(
        target,
        &endpoint.base(),
        http(fault.timeout()),
        shared.clone(),
    )
    .unwrap();
    let store = Arc::new(MemoryStore::new());
    let manager = TokenManager::builder(grant, store.clone(), "seller-1")
        .clock(shared)
        .skew(Duration::from_secs(60))
        .backoff(RetryPolicy {
            max_attempts: u32::MAX,
            base_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(2),
        })
        .build();
    manager.install(current_set(target)).await.unwrap();
    let stored_access = |store: Arc<MemoryStore>, manager: TokenManager| async move {
        let stored = store.load(manager.account()).await.unwrap().unwrap();
        stored.tokens.access_token.expose_secret().to_owned()
    };

    // The refresh fails: the still-valid token is served, from memory and
    // store alike.
    let handle = manager.access_token().await;
    let handle = handle.unwrap_or_else(|e| panic!("{cell}: old token not served: {e}"));
    assert_eq!(handle.expose_secret(), OLD_ACCESS, "{cell}");
    assert_eq!(
        manager.current().unwrap().expose_secret(),
        OLD_ACCESS,
        "{cell}"
    );
    assert_eq!(
        stored_access(store.clone(), manager.clone()).await,
        OLD_ACCESS,
        "{cell}"
    );
    let first = endpoint.requests().await;
    assert_eq!(
        first,
        (fault != Fault::ConnectionRefused).then_some(1),
        "{cell}"
    );

    // During the backoff: the old token again, and no new request.
    let again = manager.access_token().await.unwrap();
    assert_eq!(again.expose_secret(), OLD_ACCESS, "{cell}");
    assert_eq!(endpoint.requests().await, first, "{cell}");

    // After the backoff (and any Retry-After), still before expiry.
    let healed = endpoint.heal(target).await;
    clock.advance(Duration::from_secs(10));
    let after = manager.access_token().await.unwrap();
    let expected = if healed { NEW_ACCESS } else { OLD_ACCESS };
    assert_eq!(after.expose_secret(), expected, "{cell}");
    assert_eq!(
        stored_access(store, manager.clone()).await,
        expected,
        "{cell}"
    );
    assert_eq!(endpoint.other_host_requests().await, 0, "{cell}");
}

#[test]
fn the_matrix_lists_every_fault() {
    // The macro below names each fault once per target; keep them in step.
    assert_eq!(Fault::ALL.len(), 15);
    for fault in Fault::ALL {
        // Every fault has an expectation (exhaustive match) and a server.
        let _ = fault.expected();
    }
}

/// One `#[tokio::test]` per fault for `$target`, run by `$runner`.
macro_rules! cells {
    ($runner:path, $target:expr) => {
        cells!(@each $runner, $target;
            connection_refused => Fault::ConnectionRefused,
            reset_mid_body => Fault::ResetMidBody,
            timeout_before_headers => Fault::TimeoutBeforeHeaders,
            timeout_mid_body => Fault::TimeoutMidBody,
            status_500 => Fault::Status500,
            status_502_html => Fault::Status502Html,
            status_503_retry_after => Fault::Status503RetryAfter,
            status_429 => Fault::Status429,
            empty_body_200 => Fault::EmptyBody200,
            truncated_json => Fault::TruncatedJson,
            wrong_types => Fault::WrongTypes,
            missing_access_token => Fault::MissingAccessToken,
            body_10_mib => Fault::HugeBody,
            body_10_mib_chunked => Fault::HugeBodyChunked,
            redirect_to_other_host => Fault::RedirectToOtherHost,
        );
    };
    (@each $runner:path, $target:expr; $($name:ident => $fault:expr,)*) => {
        $(
            #[tokio::test]
            async fn $name() {
                $runner($target, $fault).await;
            }
        )*
    };
}

mod ebay_code_exchange {
    use super::*;
    cells!(run_cell, Target::EbayCode);
}

mod ebay_refresh {
    use super::*;
    cells!(run_cell, Target::EbayRefresh);
}

mod ebay_application_token {
    use super::*;
    cells!(run_cell, Target::EbayApplication);
}

mod aliexpress_create {
    use super::*;
    cells!(run_cell, Target::AliExpressCreate);
}

mod aliexpress_refresh {
    use super::*;
    cells!(run_cell, Target::AliExpressRefresh);
}

mod orangeconnex_exchange {
    use super::*;
    cells!(run_cell, Target::OrangeConnexExchange);
}

mod orangeconnex_refresh {
    use super::*;
    cells!(run_cell, Target::OrangeConnexRefresh);
}

mod eshopbox_refresh {
    use super::*;
    cells!(run_cell, Target::EshopboxRefresh);
}

mod manager {
    use super::*;

    mod ebay_refresh {
        use super::*;
        cells!(run_manager_cell, Target::EbayRefresh);
    }

    mod ebay_application_token {
        use super::*;
        cells!(run_manager_cell, Target::EbayApplication);
    }

    mod aliexpress_refresh {
        use super::*;
        cells!(run_manager_cell, Target::AliExpressRefresh);
    }

    mod orangeconnex_refresh {
        use super::*;
        cells!(run_manager_cell, Target::OrangeConnexRefresh);
    }

    mod eshopbox_refresh {
        use super::*;
        cells!(run_manager_cell, Target::EshopboxRefresh);
    }
}
