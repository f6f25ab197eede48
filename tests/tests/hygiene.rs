//! Secret hygiene sweep: the whole end-to-end flow of every provider (the functions of
//! `support/mod.rs`, the same ones `e2e_flows.rs` runs), with every `tracing` event and
//! span of the process captured at TRACE level, and every error's `Display` and `Debug`,
//! every public value's `Debug` (clients, token sets, handles, managers, stored entries,
//! callbacks, typed token responses, signed requests, token requests, raw responses, API
//! requests with the token attached, events) collected along the way.
//!
//! What it proves: none of the secrets used (client secrets, the AliExpress app secret,
//! the OrangeConnex client key, eBay's Basic credentials, authorization codes, every access
//! and refresh token obtained, Eshopbox id tokens, the AliExpress signatures of token
//! requests and API calls) appears in any of those texts, neither whole, nor
//! percent-encoded, nor by its last 16 characters. Failure paths are included: denied
//! consent, forged state, reused codes, a 503 while the old token is served, revocation
//! (re-authorization required), each injected fault (5xx HTML page, truncated JSON,
//! dropped connection, 429) and wrong client credentials.
//!
//! The subscriber is installed as the process-wide default (once, for this test binary):
//! the token manager refreshes in spawned tasks and the file store works on blocking
//! threads, and a thread-local default would miss events emitted there.
//!
//! Not covered: records of the `log` crate (reqwest logs through `log`, which this test
//! package cannot capture without a `log` dependency).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::print_stdout
)]

mod support;

use oauth_all::core::{
    AccessToken, Clock, Error, Grant, Provider as _, RefreshGrant, RefreshToken, TokenSet,
};
use oauth_all::{aliexpress, ebay, eshopbox, orangeconnex};
use oauth_sandbox::Provider;
use support::{Harness, Sweep, capture, random};

/// Wrong client credentials on every provider: the typed error, and the wrong secret
/// (a secret too) kept out of every text.
async fn wrong_credentials(h: &Harness, sweep: &mut Sweep) {
    // A set holding an unknown refresh token, for the refresh grants.
    let unknown_set = |refresh: &RefreshToken| {
        TokenSet::new(AccessToken::new(random("stale-access")), h.clock.now())
            .with_refresh_token(refresh.clone(), None)
    };

    // eBay: a wrong Cert ID.
    let wrong = random("wrong-ebay-cert");
    sweep.secret("wrong eBay client secret", &wrong);
    let values = h.settings(Provider::Ebay).with("client_secret", &wrong);
    let client = h.client_with::<ebay::Ebay>(&values, sweep);
    sweep.debug("eBay client with a wrong secret", &client);
    let error = ebay::ClientExt::application_token(&client)
        .await
        .unwrap_err();
    assert!(matches!(error, Error::InvalidClient { .. }), "{error:?}");
    sweep.error("eBay wrong client secret", &error);

    // AliExpress: a wrong app secret makes every signature wrong.
    let wrong = random("wrong-ae-secret");
    sweep.secret("wrong AliExpress app secret", &wrong);
    let values = h.settings(Provider::AliExpress).with("app_secret", &wrong);
    let client = h.client_with::<aliexpress::AliExpress>(&values, sweep);
    let refresh = RefreshToken::new(random("unknown-ae-refresh"));
    sweep.secret("unknown AliExpress refresh token", refresh.expose_secret());
    let set = unknown_set(&refresh);
    let sign = client
        .provider()
        .refresh_request(&client.request_context(), &set)
        .unwrap()
        .full_url()
        .query_pairs()
        .find(|(name, _)| name == "sign")
        .map(|(_, value)| value.into_owned())
        .unwrap();
    sweep.secret("AliExpress signature with a wrong secret", &sign);
    let error = client.refresh(&set).await.unwrap_err();
    assert!(matches!(error, Error::InvalidClient { .. }), "{error:?}");
    assert_eq!(error.provider_code(), Some("IncompleteSignature"));
    sweep.error("AliExpress wrong app secret", &error);

    // OrangeConnex: a wrong clientKey.
    let wrong = random("wrong-oc-key");
    sweep.secret("wrong OrangeConnex client key", &wrong);
    let values = h
        .settings(Provider::OrangeConnex)
        .with("client_key", &wrong);
    let client = h.client_with::<orangeconnex::OrangeConnex>(&values, sweep);
    let refresh = RefreshToken::new(random("unknown-oc-refresh"));
    sweep.secret(
        "unknown OrangeConnex refresh token",
        refresh.expose_secret(),
    );
    let error = client.refresh(&unknown_set(&refresh)).await.unwrap_err();
    assert!(matches!(error, Error::InvalidClient { .. }), "{error:?}");
    sweep.error("OrangeConnex wrong client key", &error);

    // Eshopbox: a wrong client secret, and the raw response of a good request.
    let creds = h.sandbox.credentials().eshopbox.clone();
    let wrong = random("wrong-esb-secret");
    sweep.secret("wrong Eshopbox client secret", &wrong);
    let values = h.settings(Provider::Eshopbox).with("client_secret", &wrong);
    let client = h.client_with::<eshopbox::Eshopbox>(&values, sweep);
    let error = client.fetch_initial().await.unwrap().unwrap_err();
    assert!(matches!(error, Error::InvalidClient { .. }), "{error:?}");
    sweep.error("Eshopbox wrong client secret", &error);
    let good = support::eshopbox_client(h, sweep, None);
    let raw = h
        .http
        .send(&good.provider().grant_request(
            &good.request_context(),
            &RefreshToken::new(creds.refresh_token.clone()),
        ))
        .await
        .unwrap();
    assert_eq!(raw.status(), 200);
    let decoded = good
        .provider()
        .decode_token_response(&raw, &Grant::Initial, h.clock.now())
        .unwrap();
    sweep.secret(
        "Eshopbox raw access token",
        decoded.access_token.expose_secret(),
    );
    sweep.debug("Eshopbox raw response", &raw);
    sweep.debug("Eshopbox decoded response", &decoded);
    assert!(!good.rotates_refresh_token());
}

/// Every provider's whole flow, failure paths included, with TRACE logs captured: no
/// secret anywhere.
#[tokio::test]
async fn no_secret_in_logs_errors_or_debug_output() {
    let capture = capture();
    let mut sweep = Sweep::new();

    let h = Harness::start().await;
    support::ebay_user_flow(&h, &mut sweep).await;
    let h = Harness::start().await;
    support::ebay_application_flow(&h, &mut sweep).await;
    let h = Harness::start().await;
    support::aliexpress_flow(&h, &mut sweep).await;
    let h = Harness::start().await;
    support::orangeconnex_flow(&h, &mut sweep, false).await;
    let h = Harness::start_with(|builder| builder.orangeconnex_rotates_refresh_tokens(true)).await;
    support::orangeconnex_flow(&h, &mut sweep, true).await;
    let h = Harness::start().await;
    support::eshopbox_flow(&h, &mut sweep).await;
    let h = Harness::start().await;
    wrong_credentials(&h, &mut sweep).await;
    drop(h);

    let logs = capture.text();
    // The capture works and saw the flows: spans of every provider's token requests, the
    // manager's warnings on the failure paths.
    for marker in [
        "oauth_request",
        "provider=\"ebay\"",
        "provider=\"aliexpress\"",
        "provider=\"orangeconnex\"",
        "provider=\"eshopbox\"",
        "grant=\"refresh_token\"",
        "grant=\"client_credentials\"",
        "status=503",
        "re-authorization required",
        "serving the still-valid token",
    ] {
        assert!(logs.contains(marker), "the captured logs lack {marker:?}");
    }
    for label in [
        "eBay authorization code",
        "AliExpress authorization code",
        "OrangeConnex authorization code",
        "refreshed token set refresh token",
        "AliExpress token request signature",
        "AliExpress API signature",
        "eBay Basic credentials",
        "Eshopbox id token",
    ] {
        assert!(
            sweep.has_secret_labelled(label),
            "no secret of kind {label:?} was collected"
        );
    }
    sweep.assert_clean(&[("tracing output", &logs)]);
    println!(
        "hygiene sweep: {} secrets checked against {} Debug/Display texts and {} bytes ({} lines) of TRACE output",
        sweep.secret_count(),
        sweep.text_count(),
        logs.len(),
        logs.lines().count()
    );
}

/// The sweep can fail: a secret planted in a log line, in a `Debug` text, percent-encoded
/// in a URL or cut to its tail is found.
#[tokio::test]
async fn the_sweep_finds_planted_secrets() {
    let capture = capture();
    let mut sweep = Sweep::new();
    let canary = format!("canary^{}#tail", random("planted"));
    sweep.secret("canary", &canary);
    tracing::trace!(value = %canary, "planted in a log line");
    assert_eq!(sweep.leaks_in(&capture.text()), vec!["canary".to_owned()]);

    let encoded: String = url::form_urlencoded::byte_serialize(canary.as_bytes()).collect();
    assert!(!encoded.contains(&canary));
    assert_eq!(
        sweep.leaks_in(&format!("https://host/cb?code={encoded}")),
        vec!["canary".to_owned()]
    );
    let tail: String = canary.chars().skip(canary.chars().count() - 16).collect();
    assert_eq!(
        sweep.leaks_in(&format!("excerpt: …{tail}")),
        vec!["canary".to_owned()]
    );
    assert!(sweep.leaks_in("nothing to see").is_empty());

    let mut leaky = Sweep::new();
    leaky.secret("canary", &canary);
    leaky.text("a careless Debug", format!("Token({canary:?})"));
    assert_eq!(
        leaky.leaks(&[("an extra text", "nothing")]),
        vec!["canary appears in a careless Debug".to_owned()]
    );

    // A secret type's Debug is redacted, so recording it is clean.
    let mut clean = Sweep::new();
    let token = RefreshToken::new(canary.clone());
    clean.secret("canary", token.expose_secret());
    clean.debug("refresh token", &token);
    clean.assert_clean(&[]);
}
