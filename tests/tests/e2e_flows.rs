//! End-to-end tests: every provider's whole lifecycle through `oauth_all`, against the
//! local `oauth_sandbox`, with the token lifecycle (`TokenManager` over a `FileStore` in
//! a temporary directory) and a `ManualClock` shared by the clients and the managers.
//!
//! What they prove, for each provider (the steps live in `support/mod.rs`):
//! - the authorize URL the client builds is one the provider's consent accepts: the
//!   sandbox redirects (`302`) to the registered callback with a code and our `state`;
//!   a denied consent comes back as `access_denied`; a forged `state` is refused;
//! - `parse_callback` decodes the code so that the provider accepts it in the exchange
//!   (eBay codes with `^`/`#`, OrangeConnex base64 codes with `+`, `/`, `=`), once: a
//!   reused code needs re-authorization;
//! - the manager serves the installed (or, without consent, fetched) token from memory,
//!   keeps serving a still-valid token through a 503 without hammering the endpoint,
//!   refreshes exactly once past expiry, saves before serving (a restarted manager reads
//!   the new set from the file, mode 0600), and with rotation (AliExpress, OrangeConnex
//!   when configured) keeps the new refresh token while the provider refuses the old one;
//! - after the provider revokes the grant, the manager reports an error that
//!   `requires_reauthorization()` and stops calling the provider; installing the tokens of
//!   a new consent recovers;
//! - every token works on the provider's protected API the way the provider wants it
//!   (Bearer, Trading IAF header, signed AliExpress parameters, `Access-Token` and
//!   `clientKey`), and an expired one is refused there;
//! - each injected fault (5xx page, truncated JSON, dropped connection, 429) gives the
//!   right typed error;
//! - no secret used along the way appears in any `Debug` or `Display` output collected
//!   (the TRACE-level log sweep is `hygiene.rs`).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod support;

use support::{Harness, Sweep};

/// eBay user tokens: consent with the RuName, exchange, manager, refresh without
/// rotation, revocation, re-consent; REST and Trading API use.
#[tokio::test]
async fn ebay_user_token_lifecycle() {
    let h = Harness::start().await;
    let mut sweep = Sweep::new();
    support::ebay_user_flow(&h, &mut sweep).await;
    sweep.assert_clean(&[]);
}

/// eBay application tokens through `ApplicationTokenGrant` and a manager: fetched
/// without consent, minted anew past expiry, accepted by REST, refused by Trading.
#[tokio::test]
async fn ebay_application_token_lifecycle() {
    let h = Harness::start().await;
    let mut sweep = Sweep::new();
    support::ebay_application_flow(&h, &mut sweep).await;
    sweep.assert_clean(&[]);
}

/// AliExpress: signed create and refresh, single-use refresh tokens rotated and
/// persisted, `IllegalRefreshToken` after revocation.
#[tokio::test]
async fn aliexpress_lifecycle_with_rotation() {
    let h = Harness::start().await;
    let mut sweep = Sweep::new();
    support::aliexpress_flow(&h, &mut sweep).await;
    sweep.assert_clean(&[]);
}

/// OrangeConnex as the sandbox runs it by default: the refresh returns the same
/// refresh token.
#[tokio::test]
async fn orangeconnex_lifecycle() {
    let h = Harness::start().await;
    let mut sweep = Sweep::new();
    support::orangeconnex_flow(&h, &mut sweep, false).await;
    sweep.assert_clean(&[]);
}

/// OrangeConnex with rotating refresh tokens (the real behaviour is unconfirmed): the
/// client keeps and persists the new one, and the old one is refused.
#[tokio::test]
async fn orangeconnex_lifecycle_with_rotation() {
    let h = Harness::start_with(|builder| builder.orangeconnex_rotates_refresh_tokens(true)).await;
    let mut sweep = Sweep::new();
    support::orangeconnex_flow(&h, &mut sweep, true).await;
    sweep.assert_clean(&[]);
}

/// Eshopbox custom app: no consent, the manager starts from the configured refresh
/// token; revocation, then a new refresh token issued by the admin.
#[tokio::test]
async fn eshopbox_lifecycle_from_the_configured_refresh_token() {
    let h = Harness::start().await;
    let mut sweep = Sweep::new();
    support::eshopbox_flow(&h, &mut sweep).await;
    sweep.assert_clean(&[]);
}

/// Every provider of `oauth_all::PROVIDERS`, through its `AnyClient` alone (settings from
/// the sandbox's credentials, the client's own `Arc<dyn AttachToken>` on the protected
/// API): first token, refresh, rotation as the client declares it, revocation, faults.
/// A new provider runs here with one line of settings in `support::sandbox_settings`.
#[tokio::test]
async fn every_registered_provider_runs_the_shared_lifecycle() {
    assert!(!oauth_all::PROVIDERS.is_empty());
    for entry in oauth_all::PROVIDERS {
        let h = Harness::start_with(support::rotation_as_declared).await;
        let mut sweep = Sweep::new();
        support::registry_flow(&h, &mut sweep, entry).await;
        sweep.assert_clean(&[]);
    }
}
