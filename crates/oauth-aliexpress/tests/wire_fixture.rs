//! The exact bytes of every AliExpress token flow, pinned by a committed
//! fixture (`tests/fixtures/wire.txt`): the consent URLs the client builds,
//! each token request as a loopback server received it, byte for byte
//! (request line with the signed query, headers in order and case, body),
//! and the signed API calls the crate produces for the application to send
//! (`ApiRequest::sign`, `AttachToken`). The clock is a fixed
//! `ManualClock`, so timestamps and signatures are stable. An API redesign
//! must keep this file passing unchanged, apart from the names of what it
//! calls.
//!
//! The fixture is plain text, one `## <flow>` section per flow. In it, the
//! server's base URL is written `BASE`, the port of `Host:` `PORT`, and the
//! `oauth-core/<version>` user agent `oauth-core/VERSION`; other bytes are
//! as sent (see `RecordedRequest::canonical`).
//!
//! To rewrite the fixture after an *intended* change of the wire, run
//! `UPDATE_WIRE_FIXTURES=1 cargo test -p oauth-aliexpress --test wire_fixture`
//! and review the diff of `tests/fixtures/wire.txt`; without the variable,
//! a mismatch fails with the first differing line.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use oauth_aliexpress::{AliExpress, ApiRequest, Client, ClientExt, Environment};
use oauth_core::http_types;
use oauth_core::test_util::recording::{
    RecordingServer, ScriptedResponse, WireFixture, render_http_request, replace_base,
};
use oauth_core::{
    AccessToken, AppSecret, AttachTokenExt, AuthorizationCode, AuthorizationCodeGrant, CsrfState,
    HttpClient, ManualClock, RefreshGrant, RefreshToken, RetryPolicy, TokenSet, from_unix_millis,
};
use std::sync::Arc;
use std::time::Duration;

const FIXTURE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/wire.txt");

const APP_KEY: &str = "12345678";
const SECRET: &str = "helloworld";
const PARTNER_ID: &str = "commerce-oauth";
const NOW_MS: u64 = 1_517_820_392_000;
const CODE: &str = "3_500102_JxZ05Ux3cnnSSUm6dCxYg6Q26";
/// A uuid with a `+`, which the form must encode.
const UUID: &str = "u-7+x";
const REFRESH: &str = "50001600c30atpedfgu3LVvik87Ixlsvle3mSoB7701cf5ce0ZJaa5sGjrs8";
const ACCESS: &str = "50000601c30atpedfgu3LVvik87Ixlsvle3mSoB7701ceb156fPunYZ43GBg";
const JSON: &str = "application/json;charset=UTF-8";

const DOCUMENTED: &str = include_str!("fixtures/token_documented.json");
const NUMERIC_IDS: &str = include_str!("fixtures/token_numeric_ids.json");

fn make_client(base: &str, partner_id: Option<&str>) -> Client {
    let http = HttpClient::builder()
        .timeout(Duration::from_secs(10))
        .retry_policy(RetryPolicy::none())
        .build()
        .unwrap();
    let mut app = AliExpress::new(APP_KEY, AppSecret::new(SECRET))
        .redirect_uri("https://app.example/callback");
    if let Some(partner_id) = partner_id {
        app = app.partner_id(partner_id);
    }
    Client::builder(app)
        .environment(Environment::custom(base).unwrap())
        .http_client(http)
        .clock(Arc::new(ManualClock::at_unix_millis(NOW_MS)))
        .build()
        .unwrap()
}

fn previous_set() -> TokenSet {
    TokenSet::new(
        AccessToken::new("old-access"),
        from_unix_millis(NOW_MS + 1_000),
    )
    .with_refresh_token(
        RefreshToken::new(REFRESH),
        Some(from_unix_millis(1_716_784_148_000)),
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

/// A `GET <uri>` signed by `AttachToken`, rendered.
fn attached(client: &Client, uri: &str, base: &str) -> String {
    let mut request = http_types::Request::get(uri)
        .body(Vec::<u8>::new())
        .unwrap();
    client
        .attachment()
        .attach_to(&AccessToken::new(ACCESS), &mut request)
        .unwrap();
    render_http_request(&request, base)
}

/// `call` signed by `ApiRequest::sign`, as the `http::Request` it gives.
fn signed(client: &Client, call: &ApiRequest, base: &str) -> String {
    let request = call
        .sign(client, &AccessToken::new(ACCESS))
        .unwrap()
        .into_http_request()
        .unwrap();
    render_http_request(&request, base)
}

#[tokio::test]
async fn every_flow_matches_the_wire_fixture() {
    let json = |body: &str| ScriptedResponse::new(200, JSON, body);
    let server = RecordingServer::start(vec![
        json(DOCUMENTED),
        json(NUMERIC_IDS),
        json(NUMERIC_IDS),
        json(DOCUMENTED),
        json(NUMERIC_IDS),
        json(NUMERIC_IDS),
    ])
    .await;
    let base = server.base_url();
    let client = make_client(&base, None);
    let partner = make_client(&base, Some(PARTNER_ID));
    let state = CsrfState::from_stored("state-123");
    let mut fixture = WireFixture::new();
    let mut sent = 0;

    fixture.section(
        "authorize URL",
        &replace_base(client.authorize_url(&state).unwrap().as_str(), &base),
    );
    fixture.section(
        "authorize URL with uuid",
        &replace_base(
            client
                .authorize_url_with_uuid(&state, UUID)
                .unwrap()
                .as_str(),
            &base,
        ),
    );

    let created = client
        .exchange_code(&AuthorizationCode::new(CODE))
        .await
        .unwrap();
    assert_eq!(created.access_token.expose_secret(), ACCESS);
    fixture.section(
        "create token (/auth/token/create, without uuid)",
        &last_request(&server, &mut sent),
    );

    client
        .exchange_code_with_uuid(&AuthorizationCode::new(CODE), Some(UUID))
        .await
        .unwrap();
    fixture.section("create token with uuid", &last_request(&server, &mut sent));

    partner
        .exchange_code_with_uuid(&AuthorizationCode::new(CODE), Some(UUID))
        .await
        .unwrap();
    fixture.section(
        "create token with uuid and partner_id (exchange_code_with_uuid)",
        &last_request(&server, &mut sent),
    );

    AuthorizationCodeGrant::exchange_code(&client, &AuthorizationCode::new(CODE))
        .await
        .unwrap();
    fixture.section(
        "create token (AuthorizationCodeGrant::exchange_code)",
        &last_request(&server, &mut sent),
    );

    let refreshed = RefreshGrant::refresh(&client, &previous_set())
        .await
        .unwrap();
    assert!(refreshed.refresh_token.is_some());
    fixture.section(
        "refresh (/auth/token/refresh, RefreshGrant::refresh)",
        &last_request(&server, &mut sent),
    );

    // The old `Client::refresh_token` is `Client::refresh`: the same request.
    client.refresh(&previous_set()).await.unwrap();
    fixture.section(
        "refresh (Client::refresh_token)",
        &last_request(&server, &mut sent),
    );

    let business = ApiRequest::new("aliexpress.solution.order.get")
        .param("page_size", "20")
        .param("current_page", "1")
        .param("empty_is_dropped", "");
    fixture.section(
        "signed business API call (ApiRequest::sign, into_http_request)",
        &signed(&client, &business, &base),
    );
    fixture.section(
        "signed business API call with partner_id",
        &signed(&partner, &business, &base),
    );
    let system = ApiRequest::new("/order/get").param("order_id", "1234");
    fixture.section(
        "signed system API call (ApiRequest::sign, into_http_request)",
        &signed(&client, &system, &base),
    );

    fixture.section(
        "AttachToken on a /sync business call",
        &attached(
            &client,
            &format!(
                "{base}/sync?method=aliexpress.logistics.redefining.getonlinelogisticsinfo&aliexpress_category_id=200135143"
            ),
            &base,
        ),
    );
    fixture.section(
        "AttachToken on a /rest system call",
        &attached(
            &client,
            &format!("{base}/rest/order/get?order_id=1234"),
            &base,
        ),
    );

    assert_eq!(server.remaining_responses(), 0);
    fixture.check(FIXTURE);
}
