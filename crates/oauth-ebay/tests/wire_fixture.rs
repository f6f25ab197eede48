//! The exact bytes of every eBay token flow, pinned by a committed fixture
//! (`tests/fixtures/wire.txt`): the consent URLs the client builds, each
//! token request as a loopback server received it, byte for byte (request
//! line, headers in order and case, body), and the headers attached to API
//! calls. An API redesign must keep this file passing unchanged, apart from
//! the names of what it calls.
//!
//! The fixture is plain text, one `## <flow>` section per flow. In it, the
//! server's base URL is written `BASE`, the port of `Host:` `PORT`, and the
//! `oauth-core/<version>` user agent `oauth-core/VERSION`; other bytes are
//! as sent (see `RecordedRequest::canonical`).
//!
//! To rewrite the fixture after an *intended* change of the wire, run
//! `UPDATE_WIRE_FIXTURES=1 cargo test -p oauth-ebay --test wire_fixture`
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
    AccessToken, AttachTokenExt, AuthorizationCode, AuthorizationCodeGrant, ClientSecret,
    CsrfState, HttpClient, ManualClock, RefreshGrant, RefreshToken, RetryPolicy, Scopes, TokenSet,
    TokenType,
};
use oauth_ebay::{
    ApiAuth, ApplicationTokenGrant, Client, ClientExt, ConsentOptions, Ebay, Environment,
};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

const FIXTURE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/wire.txt");

const CLIENT_ID: &str = "ExampleI-Example-SBX-1a2b3c4d5-6e7f8a9b";
const CLIENT_SECRET: &str = "SBX-1a2b3c4d5e6f-7a8b-9c0d-1e2f-3a4b";
const RU_NAME: &str = "Example_Inc-Example-Test-abcdefgh";
const API_SCOPE: &str = "https://api.ebay.com/oauth/api_scope";
const INVENTORY: &str = "https://api.ebay.com/oauth/api_scope/sell.inventory";
const BROWSE: &str = "https://api.ebay.com/oauth/api_scope/buy.browse";
/// A code as `parse_callback` returns it (decoded once): `^`, `#`, `=`.
const CODE: &str = "v^1.1#i^1#r^1#p^3#f^0#I^3#t^Ul41Xzk6Q0Y=";
/// A refresh token with `+`, `/` and `=`, which the form must encode.
const REFRESH: &str = "v^1.1#i^1#r^1#t^Ul4x+/=";
const ACCESS: &str = "v^1.1#i^1#p^3#r^1#AT-api";

const USER_TOKEN: &str = include_str!("fixtures/user_token.json");
const REFRESHED_TOKEN: &str = include_str!("fixtures/refreshed_token.json");
const APPLICATION_TOKEN: &str = include_str!("fixtures/application_token.json");
const APPLICATION_TOKEN_NA: &str = include_str!("fixtures/application_token_refresh_na.json");

const START_SECS: u64 = 1_750_000_000;

fn start() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(START_SECS)
}

fn client(base: &str) -> Client {
    let http = HttpClient::builder()
        .timeout(Duration::from_secs(10))
        .retry_policy(RetryPolicy::none())
        .build()
        .unwrap();
    let settings = Ebay::new(CLIENT_ID, ClientSecret::new(CLIENT_SECRET))
        .ru_name(RU_NAME)
        .scopes(Scopes::from([API_SCOPE, INVENTORY]));
    Client::builder(settings)
        .environment(Environment::custom(base).unwrap())
        .http_client(http)
        .clock(Arc::new(ManualClock::new(start())))
        .build()
        .unwrap()
}

fn user_token_set() -> TokenSet {
    TokenSet::new(
        AccessToken::new("old-access"),
        start() + Duration::from_secs(30),
    )
    .with_token_type(TokenType::new("User Access Token"))
    .with_refresh_token(
        RefreshToken::new(REFRESH),
        Some(start() + Duration::from_secs(47_304_000)),
    )
    .with_scopes(Scopes::from([API_SCOPE, INVENTORY]))
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

/// `usage` attached to a request to `<base><path>`, rendered.
fn attached(usage: ApiAuth, method: &str, path: &str, base: &str) -> String {
    let mut request = http_types::Request::builder()
        .method(method)
        .uri(format!("{base}{path}"))
        .body(Vec::<u8>::new())
        .unwrap();
    usage
        .attach_to(&AccessToken::new(ACCESS), &mut request)
        .unwrap();
    render_http_request(&request, base)
}

#[tokio::test]
async fn every_flow_matches_the_wire_fixture() {
    let server = RecordingServer::start(vec![
        ScriptedResponse::json(200, USER_TOKEN),
        ScriptedResponse::json(200, USER_TOKEN),
        ScriptedResponse::json(200, REFRESHED_TOKEN),
        ScriptedResponse::json(200, REFRESHED_TOKEN),
        ScriptedResponse::json(200, APPLICATION_TOKEN_NA),
        ScriptedResponse::json(200, APPLICATION_TOKEN),
        ScriptedResponse::json(200, APPLICATION_TOKEN),
    ])
    .await;
    let base = server.base_url();
    let client = client(&base);
    let state = CsrfState::from_stored("state-123");
    let mut fixture = WireFixture::new();
    let mut sent = 0;

    fixture.section(
        "consent URL",
        &replace_base(client.authorize_url(&state).unwrap().as_str(), &base),
    );
    let options = ConsentOptions::new()
        .prompt_login()
        .locale("de-DE")
        .scopes(Scopes::from([INVENTORY]));
    fixture.section(
        "consent URL with ConsentOptions (prompt=login, locale, other scopes)",
        &replace_base(
            client
                .authorize_url_with(&state, &options)
                .unwrap()
                .as_str(),
            &base,
        ),
    );

    let token = client
        .exchange_code(&AuthorizationCode::new(CODE))
        .await
        .unwrap();
    assert_eq!(token.token_type.as_str(), "User Access Token");
    fixture.section(
        "code exchange (exchange_code_for_user_token)",
        &last_request(&server, &mut sent),
    );

    let set = AuthorizationCodeGrant::exchange_code(&client, &AuthorizationCode::new(CODE))
        .await
        .unwrap();
    assert!(set.refresh_token.is_some());
    fixture.section(
        "code exchange (AuthorizationCodeGrant::exchange_code)",
        &last_request(&server, &mut sent),
    );

    let refreshed = RefreshGrant::refresh(&client, &user_token_set())
        .await
        .unwrap();
    assert_eq!(refreshed.refresh_token, user_token_set().refresh_token);
    fixture.section(
        "refresh (RefreshGrant::refresh, the recorded scopes)",
        &last_request(&server, &mut sent),
    );

    let narrowed = client
        .refresh_narrowed(&user_token_set(), &Scopes::from([INVENTORY]))
        .await
        .unwrap();
    assert_eq!(narrowed.scopes.join(" "), INVENTORY);
    fixture.section(
        "refresh_narrowed (one of the recorded scopes)",
        &last_request(&server, &mut sent),
    );

    let application = client.application_token().await.unwrap();
    assert_eq!(application.token_type.as_str(), "Application Access Token");
    fixture.section(
        "application token (default scope)",
        &last_request(&server, &mut sent),
    );

    let browse = Scopes::from([API_SCOPE, BROWSE]);
    client.application_token_for(&browse).await.unwrap();
    fixture.section(
        "application token for other scopes (application_token_for)",
        &last_request(&server, &mut sent),
    );

    let grant = ApplicationTokenGrant::new(client.clone(), browse).unwrap();
    let minted = grant.fetch_initial().await.unwrap().unwrap();
    assert_eq!(minted.refresh_token, None);
    fixture.section(
        "application token grant (ApplicationTokenGrant, RefreshGrant::fetch_initial)",
        &last_request(&server, &mut sent),
    );

    fixture.section(
        "REST API call (TokenUse::Rest attached)",
        &attached(
            *client.attachment(),
            "GET",
            "/sell/inventory/v1/inventory_item",
            &base,
        ),
    );
    fixture.section(
        "Trading API call (TokenUse::Trading attached)",
        &attached(ApiAuth::Trading, "POST", "/ws/api.dll", &base),
    );

    assert_eq!(server.remaining_responses(), 0);
    fixture.check(FIXTURE);
}
