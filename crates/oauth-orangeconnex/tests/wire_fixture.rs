//! The exact bytes of every OrangeConnex token flow, pinned by a committed
//! fixture (`tests/fixtures/wire.txt`): the authorize URL the client
//! builds, each token request as a loopback server received it, byte for
//! byte (request line with every parameter in the query, headers in order
//! and case, the empty body), and the headers `ApiAuth` attaches to API
//! calls. An API redesign must keep this file passing unchanged, apart from
//! the names of what it calls.
//!
//! The fixture is plain text, one `## <flow>` section per flow. In it, the
//! server's base URL is written `BASE`, the port of `Host:` `PORT`, and the
//! `oauth-core/<version>` user agent `oauth-core/VERSION`; other bytes are
//! as sent (see `RecordedRequest::canonical`).
//!
//! To rewrite the fixture after an *intended* change of the wire, run
//! `UPDATE_WIRE_FIXTURES=1 cargo test -p oauth-orangeconnex --test wire_fixture`
//! and review the diff of `tests/fixtures/wire.txt`; without the variable,
//! a mismatch fails with the first differing line.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use oauth_core::http_types;
use oauth_core::test_util::recording::{
    RecordingServer, ScriptedResponse, WireFixture, render_http_request, replace_base,
};
use oauth_core::{
    AccessToken, AttachTokenExt, AuthorizationCode, AuthorizationCodeGrant, ClientKey, CsrfState,
    EndpointUrl, HttpClient, ManualClock, RefreshGrant, RefreshToken, RetryPolicy, TokenSet,
    from_unix_millis,
};
use oauth_orangeconnex::{ApiAuth, Client, Environment, OrangeConnex};
use std::sync::Arc;
use std::time::Duration;

const FIXTURE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/wire.txt");

const CLIENT_ID: &str = "3pp-client-7";
const REDIRECT_URI: &str = "https://app.example/oc/callback";
const CLIENT_KEY: &str = "ck-5f2a9e";
const NOW_MS: u64 = 1_700_000_000_000;
const CODE: &str = "c0de-123";
/// A code that is itself URL-encoded base64, as `parse_callback` returns
/// it: encoded once more on the wire (`%252F`).
const ENCODED_CODE: &str = "T2MtY29kZQ%2F%2Bx%3D%3D";
/// A refresh token with `/`, `+` and `=`, which the query must encode.
const REFRESH: &str = "rt/old+1=";
const ACCESS: &str = "3f6c1c2e-8a4b-4d1e-9b7a-5c2d8e0f1a23";
const JSON: &str = "application/json;charset=UTF-8";

const SUCCESS: &str = include_str!("fixtures/token_success.json");
const SUCCESS_NO_RT: &str = include_str!("fixtures/token_success_without_refresh_token.json");

fn client(base: &str, client_key: Option<&str>) -> Client {
    let http = HttpClient::builder()
        .timeout(Duration::from_secs(10))
        .retry_policy(RetryPolicy::none())
        .build()
        .unwrap();
    let mut settings = OrangeConnex::new(CLIENT_ID, REDIRECT_URI);
    if let Some(key) = client_key {
        settings = settings.client_key(ClientKey::new(key));
    }
    Client::builder(settings)
        .environment(Environment::Custom(EndpointUrl::parse(base).unwrap()))
        .http_client(http)
        .clock(Arc::new(ManualClock::at_unix_millis(NOW_MS)))
        .build()
        .unwrap()
}

fn current() -> TokenSet {
    TokenSet::new(AccessToken::new("old-at"), from_unix_millis(NOW_MS)).with_refresh_token(
        RefreshToken::new(REFRESH),
        Some(from_unix_millis(NOW_MS + 1_000_000)),
    )
}

/// The one request the last flow sent, as canonical text.
fn last_request(server: &RecordingServer, sent: &mut usize) -> String {
    let requests = server.requests();
    assert_eq!(
        requests.len(),
        *sent + 1,
        "each flow sends exactly one request"
    );
    *sent += 1;
    requests[*sent - 1].canonical()
}

/// `auth` attached to an SKU creation call, rendered.
fn attached(auth: &ApiAuth, base: &str) -> String {
    let mut request = http_types::Request::post(format!("{base}/openapi/3pp/sku/v3/creation"))
        .body(Vec::<u8>::new())
        .unwrap();
    auth.attach_to(&AccessToken::new(ACCESS), &mut request)
        .unwrap();
    render_http_request(&request, base)
}

#[tokio::test]
async fn every_flow_matches_the_wire_fixture() {
    let json = |body: &str| ScriptedResponse::new(200, JSON, body);
    let server = RecordingServer::start(vec![
        json(SUCCESS),
        json(SUCCESS),
        json(SUCCESS),
        json(SUCCESS),
        json(SUCCESS_NO_RT),
        json(SUCCESS_NO_RT),
    ])
    .await;
    let base = server.base_url();
    let with_key = client(&base, Some(CLIENT_KEY));
    let without_key = client(&base, None);
    let mut fixture = WireFixture::new();
    let mut sent = 0;

    fixture.section(
        "authorize URL",
        &replace_base(
            with_key
                .authorize_url(&CsrfState::from_stored("st-42"))
                .unwrap()
                .as_str(),
            &base,
        ),
    );

    let response = with_key
        .exchange_code(&AuthorizationCode::new(CODE))
        .await
        .unwrap();
    assert_eq!(response.access_token.expose_secret(), ACCESS);
    fixture.section(
        "code exchange with client key (exchange_authorization_code)",
        &last_request(&server, &mut sent),
    );

    without_key
        .exchange_code(&AuthorizationCode::new(CODE))
        .await
        .unwrap();
    fixture.section(
        "code exchange without client key",
        &last_request(&server, &mut sent),
    );

    AuthorizationCodeGrant::exchange_code(&without_key, &AuthorizationCode::new(ENCODED_CODE))
        .await
        .unwrap();
    fixture.section(
        "code exchange of a URL-encoded code (AuthorizationCodeGrant::exchange_code)",
        &last_request(&server, &mut sent),
    );

    let refreshed = RefreshGrant::refresh(&with_key, &current()).await.unwrap();
    assert!(refreshed.refresh_token.is_some());
    fixture.section(
        "refresh with client key (RefreshGrant::refresh)",
        &last_request(&server, &mut sent),
    );

    without_key.refresh(&current()).await.unwrap();
    fixture.section(
        "refresh without client key",
        &last_request(&server, &mut sent),
    );

    with_key.refresh(&current()).await.unwrap();
    fixture.section(
        "refresh with client key (refresh_access_token)",
        &last_request(&server, &mut sent),
    );

    fixture.section(
        "API call with ApiAuth and a client key",
        &attached(
            &ApiAuth::new(Some(ClientKey::new(CLIENT_KEY))).unwrap(),
            &base,
        ),
    );
    fixture.section(
        "API call with ApiAuth without client key",
        &attached(&ApiAuth::new(None).unwrap(), &base),
    );
    fixture.section(
        "API call with the client's ApiAuth (Client::api_auth)",
        &attached(with_key.attachment(), &base),
    );

    assert_eq!(server.remaining_responses(), 0);
    fixture.check(FIXTURE);
}
