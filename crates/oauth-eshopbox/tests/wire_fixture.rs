//! The exact bytes of every Eshopbox token flow, pinned by a committed
//! fixture (`tests/fixtures/wire.txt`): each token request as a loopback
//! server received it, byte for byte (request line, headers in order and
//! case, the JSON body), the partner authorize URLs, and the headers
//! `ApiAuth` attaches to API calls. An API redesign must keep this file
//! passing unchanged, apart from the names of what it calls.
//!
//! The fixture is plain text, one `## <flow>` section per flow. In it, the
//! server's base URL is written `BASE`, the port of `Host:` `PORT`, and the
//! `oauth-core/<version>` user agent `oauth-core/VERSION`; other bytes are
//! as sent (see `RecordedRequest::canonical`).
//!
//! To rewrite the fixture after an *intended* change of the wire, run
//! `UPDATE_WIRE_FIXTURES=1 cargo test -p oauth-eshopbox --test wire_fixture`
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
use oauth_core::{CsrfState, HttpClient, ManualClock, RetryPolicy, Scopes, from_unix_millis};
use oauth_eshopbox::{
    AccessToken, ApiAuth, AttachTokenExt, Client, ClientExt, ClientSecret, EndpointUrl,
    Environment, Eshopbox, PartnerAuthorization, RefreshGrant, RefreshToken, TokenSet,
};
use std::sync::Arc;
use std::time::Duration;

const FIXTURE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/wire.txt");

const TOKEN_PATH: &str = "/api/v1/generateToken";
const CLIENT_ID: &str = "esb-client-id-1";
const CLIENT_SECRET: &str = "SECRETcs7f3a9c2e1b";
const REFRESH_TOKEN: &str = "REFRESHrt4d5e6f7a8b";
const STORED_REFRESH_TOKEN: &str = "STOREDrt99887766";
const ACCESS: &str = "eyJhbGciOiJSUzI1N.InR5cCI6IkpXVCIsI";
const NOW_MS: u64 = 1_700_000_000_000;

const DOC_GENERATING: &str = include_str!("fixtures/token_generating_access_token_doc.json");
const DOC_REFRESH: &str = include_str!("fixtures/token_refresh_access_token_doc.json");

fn client(base: &str) -> Client {
    let http = HttpClient::builder()
        .timeout(Duration::from_secs(10))
        .retry_policy(RetryPolicy::none())
        .build()
        .unwrap();
    Client::builder(Eshopbox::new(
        CLIENT_ID,
        ClientSecret::new(CLIENT_SECRET),
        RefreshToken::new(REFRESH_TOKEN),
    ))
    // A base URL: the token path is appended.
    .environment(Environment::custom(base).unwrap())
    .http_client(http)
    .clock(Arc::new(ManualClock::at_unix_millis(NOW_MS)))
    .build()
    .unwrap()
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

/// `ApiAuth` attached to `request`, rendered.
fn attached(mut request: http_types::Request<Vec<u8>>, base: &str) -> String {
    ApiAuth
        .attach_to(&AccessToken::new(ACCESS), &mut request)
        .unwrap();
    render_http_request(&request, base)
}

#[tokio::test]
async fn every_flow_matches_the_wire_fixture() {
    let json = |body: &str| ScriptedResponse::json(200, body);
    let server = RecordingServer::start(vec![
        json(DOC_GENERATING),
        json(DOC_GENERATING),
        json(DOC_REFRESH),
        json(DOC_REFRESH),
        json(DOC_REFRESH),
    ])
    .await;
    let base = server.base_url();
    let client = client(&base);
    let mut fixture = WireFixture::new();
    let mut sent = 0;

    // Labels as recorded before the redesign: `initial_token_set` is now
    // `Client::fetch_initial`, `Client::refresh_with` `ClientExt::refresh_with`.
    let initial = client.fetch_initial().await.unwrap().unwrap();
    assert_eq!(
        initial.refresh_token,
        Some(RefreshToken::new(REFRESH_TOKEN))
    );
    assert_eq!(client.endpoints().token().path(), TOKEN_PATH);
    fixture.section(
        "initial fetch (initial_token_set, the configured refresh token)",
        &last_request(&server, &mut sent),
    );

    RefreshGrant::fetch_initial(&client).await.unwrap().unwrap();
    fixture.section(
        "initial fetch (RefreshGrant::fetch_initial)",
        &last_request(&server, &mut sent),
    );

    let stored = TokenSet::new(AccessToken::new("at-1"), from_unix_millis(NOW_MS))
        .with_refresh_token(RefreshToken::new(STORED_REFRESH_TOKEN), None);
    RefreshGrant::refresh(&client, &stored).await.unwrap();
    fixture.section(
        "refresh (RefreshGrant::refresh, the stored refresh token)",
        &last_request(&server, &mut sent),
    );

    let without = TokenSet::new(AccessToken::new("at-1"), from_unix_millis(NOW_MS));
    client.refresh(&without).await.unwrap();
    fixture.section(
        "refresh of a set without refresh token (the configured one)",
        &last_request(&server, &mut sent),
    );

    client
        .refresh_with(&RefreshToken::new(STORED_REFRESH_TOKEN))
        .await
        .unwrap();
    fixture.section(
        "refresh (Client::refresh_with)",
        &last_request(&server, &mut sent),
    );

    let state = CsrfState::from_stored("state-123");
    let partner =
        PartnerAuthorization::builder("partner-client-1", "https://app.example/eshopbox/callback")
            .scopes(Scopes::from(["orders:read", "inventory:write"]))
            .audience("https://wms.myeshopbox.com")
            .endpoint(EndpointUrl::parse(&format!("{base}/installation/authorize")).unwrap())
            .build()
            .unwrap();
    fixture.section(
        "partner authorize URL (scopes, audience, custom endpoint)",
        &replace_base(partner.authorize_url(&state).as_str(), &base),
    );
    let minimal =
        PartnerAuthorization::builder("partner-client-1", "https://app.example/eshopbox/callback")
            .build()
            .unwrap();
    fixture.section(
        "partner authorize URL (no scope, no audience, default endpoint)",
        minimal.authorize_url(&state).as_str(),
    );

    fixture.section(
        "API call with ApiAuth",
        &attached(
            http_types::Request::get(format!("{base}/api/v1/orders"))
                .body(Vec::new())
                .unwrap(),
            &base,
        ),
    );
    fixture.section(
        "API call with ApiAuth and its own content type",
        &attached(
            http_types::Request::post(format!("{base}/api/v1/orders"))
                .header("content-type", "application/json; charset=utf-8")
                .body(b"{}".to_vec())
                .unwrap(),
            &base,
        ),
    );

    assert_eq!(server.remaining_responses(), 0);
    fixture.check(FIXTURE);
}
