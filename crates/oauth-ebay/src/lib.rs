//! OAuth client for eBay (Identity OAuth2): user consent, code exchange,
//! refresh and application tokens, with eBay's quirks absorbed.
//!
//! The whole flow, against a local stand-in for eBay (use
//! [`Environment::Production`] or [`Environment::Sandbox`] for real):
//!
//! ```
//! use httpmock::prelude::*;
//! use oauth_core::{ClientSecret, CsrfState, RefreshGrant, Scopes, parse_callback};
//! use oauth_ebay::{Client, Environment};
//!
//! # #[tokio::main]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let ebay = MockServer::start_async().await;
//! let token_path = "/identity/v1/oauth2/token";
//! ebay.mock_async(|when, then| {
//!     when.method(POST).path(token_path).body(
//!         "grant_type=authorization_code&code=v%5E1.1%23i%5E1%23f%5E0&redirect_uri=Example_Inc-Example-Test-abcd",
//!     );
//!     then.status(200).header("content-type", "application/json").body(
//!         r#"{"access_token":"v^1.1#i^1#p^3#r^1#AT1","expires_in":7200,"refresh_token":"v^1.1#i^1#p^3#r^1#RT","refresh_token_expires_in":47304000,"token_type":"User Access Token"}"#,
//!     );
//! }).await;
//! ebay.mock_async(|when, then| {
//!     when.method(POST).path(token_path).body(
//!         "grant_type=refresh_token&refresh_token=v%5E1.1%23i%5E1%23p%5E3%23r%5E1%23RT&scope=https%3A%2F%2Fapi.ebay.com%2Foauth%2Fapi_scope%2Fsell.inventory",
//!     );
//!     then.status(200).header("content-type", "application/json").body(
//!         r#"{"access_token":"v^1.1#i^1#p^3#r^1#AT2","expires_in":7200,"token_type":"User Access Token"}"#,
//!     );
//! }).await;
//!
//! // Once, at start-up: the keyset, its RuName and the scopes to ask for.
//! let client = Client::builder("ExampleI-Example-SBX-1a2b3c4d5-6e7f8a9b", ClientSecret::new("SBX-cert-id"))
//!     .ru_name("Example_Inc-Example-Test-abcd")
//!     .scopes(Scopes::from(["https://api.ebay.com/oauth/api_scope/sell.inventory"]))
//!     .environment(Environment::custom(&ebay.base_url())?)
//!     .build()?;
//!
//! // 1. Send the seller to the consent page; keep `state` in their session.
//! let state = CsrfState::generate()?;
//! let consent = client.consent_url(&state);
//! assert!(consent.as_str().starts_with(&format!("{}/oauth2/authorize?client_id=", ebay.base_url())));
//!
//! // 2. eBay sends them back to the RuName's accept URL; parse where they landed.
//! let landed = format!("https://app.example/ebay/accepted?state={}&code=v%5E1.1%23i%5E1%23f%5E0&expires_in=299", state.as_str());
//! let callback = parse_callback(&landed, &state)?;
//! let user_token = client.exchange_code_for_user_token(&callback.code).await?;
//! assert_eq!(user_token.token_type.as_str(), "User Access Token");
//! let tokens = user_token.into_token_set(client.scopes().clone());
//!
//! // 3. Before it expires (2 h), refresh; the refresh token (18 months) is kept.
//! let refreshed = client.refresh(&tokens).await?;
//! assert_eq!(refreshed.access_token.expose_secret(), "v^1.1#i^1#p^3#r^1#AT2");
//! assert_eq!(refreshed.refresh_token, tokens.refresh_token);
//! assert_eq!(refreshed.refresh_token_expires_at, tokens.refresh_token_expires_at);
//! # Ok(())
//! # }
//! ```
//!
//! # RuName, not a redirect URL
//! eBay does not take a redirect URL in the consent request. You register,
//! per keyset, a *RuName* ("eBay Redirect URL name", e.g.
//! `Example_Inc-Example-Test-abcd`) with an "auth accepted" and an "auth
//! declined" URL; the RuName is what goes in `redirect_uri`, both on the
//! consent URL and in the code exchange. eBay then redirects the user to the
//! accepted URL with `?state=..&code=..&expires_in=299`. Hand that full URL to
//! [`oauth_core::parse_callback`]: it checks `state` and decodes the code
//! once; this crate form-encodes it once in the exchange. The code lives
//! about five minutes and may be used once (the exchange is never retried).
//!
//! # Sandbox and production
//! [`Environment::Sandbox`] (`auth.sandbox.ebay.com`,
//! `api.sandbox.ebay.com`) and [`Environment::Production`] (`auth.ebay.com`,
//! `api.ebay.com`) need different keysets and RuNames. The older consent
//! host `signin.ebay.com/authorize` still works; we use `auth.ebay.com/oauth2/authorize`,
//! like eBay's official clients. [`Environment::custom`] points both
//! endpoints at one base (a proxy, the local `oauth-sandbox`, a mock server);
//! [`Environment::Custom`] takes separate bases. Plain `http` is refused
//! except on loopback.
//!
//! # Scopes
//! - Consent asks for the client's [`scopes`](ClientBuilder::scopes) (or
//!   [`ConsentOptions::scopes`]), joined by `%20`.
//! - eBay does not echo scopes: the token set records those asked for.
//! - A refresh ([`RefreshGrant::refresh`](oauth_core::RefreshGrant::refresh))
//!   asks for the scopes the token set records. [`Client::refresh_narrowed`]
//!   asks for fewer; asking for a scope the set does not record is refused
//!   with [`oauth_core::Error::Configuration`] before any request, since eBay
//!   would answer `invalid_scope` (widening needs a new consent).
//! - Application tokens ([`Client::application_token`], [`ApplicationTokenGrant`])
//!   default to `https://api.ebay.com/oauth/api_scope`
//!   ([`ClientBuilder::application_scopes`] changes it).
//!
//! # Refresh tokens do not rotate
//! A refresh answers with an access token only; the refresh token and its
//! original expiry are kept ([`oauth_core::TokenSet::merge_previous`]), and
//! refresh requests are safe to retry after a 5xx or timeout. Should eBay
//! ever send a refresh token in a refresh answer, it is stored instead.
//!
//! # Errors
//! See [`token_error`]: `invalid_grant` means the seller must consent again
//! ([`oauth_core::Error::requires_reauthorization`]), `invalid_client` bad
//! credentials, `invalid_scope` a configuration error naming the scopes, 429
//! and 5xx (including eBay's HTML maintenance pages) are retryable.
//!
//! # Using the token
//! [`TokenUse::Rest`] puts `Authorization: Bearer <token>` on REST calls,
//! [`TokenUse::Trading`] puts `X-EBAY-API-IAF-TOKEN: <token>` on Trading API
//! calls; both implement [`oauth_core::AttachToken`].
//!
//! # Crate feature flags
//! The TLS crypto of the HTTP client, forwarded to `oauth-core`:
//! - `ring` (default): TLS crypto with ring (pure Rust and assembly, no C
//!   build script);
//! - `aws-lc-rs`: TLS crypto with aws-lc-rs instead (FIPS-capable builds;
//!   aws-lc-sys's C build is most of a cold build's time); wins over `ring`
//!   when both are on: turn the defaults off to leave ring out;
//! - `webpki-roots`: Mozilla's root certificates, bundled, instead of the
//!   platform's verifier and trust store (one data-only crate).
//!
//! With neither `ring` nor `aws-lc-rs`, the HTTP client uses the process-wide
//! rustls crypto provider the application installed.
//!
//! Measured build cost (a cold `cargo build --release` of a minimal eBay
//! refresh program on `oauth-all`, registry already downloaded: `cargo
//! xtask bench-external build-cost`): with `ring`, about 100 s of CPU (52 s
//! on two cores) and a 5.1 MB binary; `aws-lc-rs` instead adds about 35 % of
//! CPU and 2.2 MB; `webpki-roots` adds no measurable time and 73 KB.
#![cfg_attr(docsrs, feature(doc_cfg))]
#![forbid(unsafe_code)]
#![warn(missing_docs)]
#![deny(rustdoc::broken_intra_doc_links)]
// `oauth_core::Error` is over clippy's 128-byte threshold; boxing it is
// oauth-core's decision, not this crate's.

mod api;
mod authorize;
mod config;
mod error;
mod grant;
mod token;

pub use api::{TRADING_TOKEN_HEADER, TokenUse};
pub use authorize::ConsentOptions;
pub use config::{API_SCOPE, AUTHORIZE_PATH, Client, ClientBuilder, Environment, TOKEN_PATH};
pub use error::token_error;
pub use grant::ApplicationTokenGrant;
pub use token::{ApplicationToken, UserToken, decode_application_token, decode_token_response};

/// The provider's name, as used in errors and tracing.
pub const PROVIDER: &str = "ebay";
