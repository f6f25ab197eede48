//! OAuth client for eBay (Identity OAuth2): user consent, code exchange,
//! refresh and application tokens, with eBay's quirks absorbed.
//!
//! The whole flow, against a local stand-in for eBay (use
//! [`Environment::Production`] or [`Environment::Sandbox`] for real):
//!
//! ```
//! use httpmock::prelude::*;
//! use oauth_core::{ClientSecret, CsrfState, IntoTokenSet, Scopes, parse_callback};
//! use oauth_ebay::{ApiAuth, Client, ClientExt, Ebay, Environment};
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
//! let settings = Ebay::new("ExampleI-Example-SBX-1a2b3c4d5-6e7f8a9b", ClientSecret::new("SBX-cert-id"))
//!     .ru_name("Example_Inc-Example-Test-abcd")
//!     .scopes(Scopes::from(["https://api.ebay.com/oauth/api_scope/sell.inventory"]));
//! let client = Client::builder(settings)
//!     .environment(Environment::custom(&ebay.base_url())?)
//!     .build()?;
//!
//! // 1. Send the seller to the consent page; keep `state` in their session.
//! let state = CsrfState::generate()?;
//! let consent = client.authorize_url(&state)?;
//! assert!(consent.as_str().starts_with(&format!("{}/oauth2/authorize?client_id=", ebay.base_url())));
//!
//! // 2. eBay sends them back to the RuName's accept URL; parse where they landed.
//! let landed = format!("https://app.example/ebay/accepted?state={}&code=v%5E1.1%23i%5E1%23f%5E0&expires_in=299", state.as_str());
//! let callback = parse_callback(&landed, &state)?;
//! let answer = client.exchange_code(&callback.code).await?;
//! assert_eq!(answer.token_type.as_str(), "User Access Token");
//! assert_eq!(&answer.scopes, client.scopes());
//! let tokens = answer.into_token_set();
//!
//! // 3. Before it expires (2 h), refresh; the refresh token (18 months) is kept.
//! let refreshed = client.refresh(&tokens).await?;
//! assert_eq!(refreshed.access_token.expose_secret(), "v^1.1#i^1#p^3#r^1#AT2");
//! assert_eq!(refreshed.refresh_token, tokens.refresh_token);
//! assert_eq!(refreshed.refresh_token_expires_at, tokens.refresh_token_expires_at);
//!
//! // 4. On REST calls: `Authorization: Bearer <token>`.
//! assert_eq!(client.attachment(), &ApiAuth::Rest);
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
//! endpoints at one base (a proxy, the local `oauth-sandbox`, a mock server):
//! `<base>/oauth2/authorize` and `<base>/identity/v1/oauth2/token`. Plain
//! `http` is refused except on loopback.
//!
//! # Scopes
//! - Consent asks for the settings' [`scopes`](Ebay::scopes) (or
//!   [`ConsentOptions::scopes`] with [`ClientExt::authorize_url_with`]),
//!   joined by `%20`.
//! - eBay does not echo scopes: the [`TokenResponse`] and the token set
//!   record those asked for.
//! - A refresh ([`Client::refresh`](oauth_core::Client::refresh), also the
//!   [`RefreshGrant`](oauth_core::RefreshGrant) a token manager drives)
//!   asks for the scopes the token set records (the settings' when it
//!   records none). [`ClientExt::refresh_narrowed`] asks for fewer; asking
//!   for a scope the set does not record is refused with
//!   [`oauth_core::Error::Configuration`] before any request, since eBay
//!   would answer `invalid_scope` (widening needs a new consent).
//! - Application tokens ([`ClientExt::application_token`], [`ApplicationTokenGrant`])
//!   default to `https://api.ebay.com/oauth/api_scope`
//!   ([`Ebay::application_scopes`] changes it).
//!
//! # Refresh tokens do not rotate
//! A refresh answers with an access token only; the refresh token and its
//! original expiry are kept ([`oauth_core::TokenSet::merge_previous`]), and
//! refresh requests are safe to retry after a 5xx or timeout. Should eBay
//! ever send a refresh token in a refresh answer, it is stored instead.
//!
//! # Errors
//! Every answer of the token endpoint is decoded and classified by
//! [`Ebay`]'s [`decode_token_response`](oauth_core::Provider::decode_token_response):
//!
//! | situation | status | `error` | [`oauth_core::Error`] |
//! |---|---|---|---|
//! | refresh token invalid, expired or revoked | 400 | `invalid_grant` | `ReauthorizationRequired` |
//! | code invalid, expired or already used | 400 | `invalid_grant` | `ReauthorizationRequired` |
//! | bad client id or secret | 401 | `invalid_client` | `InvalidClient` |
//! | scopes not granted | 400 | `invalid_scope` | `InvalidScope` naming the requested scopes |
//! | too many requests | 429 | any | `RateLimited` (with `Retry-After`) |
//! | server error, maintenance page | 5xx | any, or HTML | `Transient` (with a masked excerpt) |
//! | other RFC 6749 codes | 4xx | e.g. `invalid_request` | `Provider` |
//! | a 2xx that is not a token | 2xx | | `UnexpectedResponse` (masked excerpt) |
//!
//! Besides the RFC 6749 body, eBay's gateway sometimes answers with the
//! shape of its REST APIs, `{"errors":[{"errorId":..,"message":..}]}`: the
//! first entry's id and message become the error's code and message.
//! `requires_reauthorization()` says when the seller must consent again,
//! `is_retryable()` when to try later. Errors never repeat a secret the
//! request sent: the client scrubs them.
//!
//! # Errors of API calls
//! With a managed token, a middleware reads an API call's answer only when
//! [`Ebay`]'s [`api_answer_needs_body`](oauth_core::Provider::api_answer_needs_body)
//! says so (a 401, or a 2xx whose `Content-Type` is XML), and classifies it
//! with its [`classify_api_response`](oauth_core::Provider::classify_api_response);
//! [`Error::AccessTokenRejected`](oauth_core::Error::AccessTokenRejected)
//! means: refresh the token, retry once.
//!
//! | API | answer | [`oauth_core::Error`] |
//! |---|---|---|
//! | REST | 401, e.g. `errorId` 1001 "Invalid access token" (domain `OAuth`), an expired token | `AccessTokenRejected` |
//! | REST | 403, e.g. `errorId` 1100 "Access denied" / "Insufficient permissions to fulfill the request." (a scope the token lacks, an account not set up) | `Provider`: a refresh would not fix it |
//! | REST | 429 / 5xx | `RateLimited` / `Transient` |
//! | REST | other 4xx | `Provider` |
//! | Trading (XML) | 200, `<Ack>Failure</Ack>`, `<ErrorCode>` 21916984 (invalid IAF token), 21917053 (IAF token expired), 931 (auth token invalid) or 932 (auth token hard expired) | `AccessTokenRejected` |
//! | Trading (XML) | 200, `<Ack>Failure</Ack>`, an error whose `ErrorClassification` is `SystemError` | `Transient` |
//! | Trading (XML) | 200, `<Ack>Failure</Ack>`, any other error (930 "token required" included) | `Provider` |
//! | Trading (XML) | 200, `Success`, `Warning`, or `PartialFailure` (part of the call applied: never retried, whatever its errors) | `Ok` |
//!
//! Each error carries the status and the first error's id (`errorId` or
//! `ErrorCode`) and message (masked: never a token), and the Trading API's
//! `CorrelationID` as request id. Sources: eBay's REST error shape and
//! `errorId` 1001 from its API responses, 1100 from knowledge-base article
//! 5208; Trading code 931 from article 630; 21916984, 21917053 and 932 as
//! the widely used `ebay-api` Node client maps them (eBay's own list of
//! these codes was not available to us: [`TOKEN_REJECTED_CODES`] is the
//! one place to change). The XML
//! is scanned, not parsed: the first [`XML_SCAN_LIMIT`] bytes, for the
//! `Ack`, `Errors` and `CorrelationID` elements, namespace prefixes
//! ignored, never a panic on any bytes.
//!
//! # Calling the API
//! [`oauth-middleware`](https://docs.rs/oauth-middleware) makes a
//! reqwest client ([reqwest-middleware](https://docs.rs/reqwest-middleware))
//! attach a valid token to every call, `Authorization: Bearer` on REST calls, and, when eBay rejects
//! the token (a `401` with errorId 1001; a Trading API `Failure` with error 21916984, 931...), invalidate it, refresh once (one refresh
//! however many calls were rejected at once) and retry the call once; a
//! second rejection is `oauth_core::Error::RejectedAfterRefresh`:
//!
//! ```no_run
//! use oauth_core::{ClientSecret, FileStore, Scopes, TokenManager};
//! use oauth_ebay::{API_SCOPE, Client, Ebay};
//! use oauth_middleware::Authorizer;
//! use std::sync::Arc;
//!
//! # async fn call() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
//! let client = Client::builder(
//!     Ebay::new("App-ID", ClientSecret::new("Cert-ID"))
//!         .ru_name("Your_Company-App-PRD-abcd")
//!         .scopes(Scopes::from([API_SCOPE])),
//! )
//! .build()?;
//! // The seller's tokens, installed once after consent.
//! let manager = TokenManager::builder(
//!     Arc::new(client.clone()),
//!     Arc::new(FileStore::new("tokens.json")),
//!     "seller-42",
//! )
//! .build();
//! let api = reqwest_middleware::ClientBuilder::new(reqwest::Client::new())
//!     .with(Authorizer::new(&client, manager).middleware())
//!     .build();
//! let answer = api
//!     .get("https://api.ebay.com/sell/account/v1/privilege")
//!     .send()
//!     .await?;
//! println!("{}", answer.status());
//! # Ok(())
//! # }
//! ```
//!
//! # Using the token
//! [`ApiAuth::Rest`] (the client's [`attachment`](oauth_core::Client::attachment))
//! puts `Authorization: Bearer <token>` on REST calls, [`ApiAuth::Trading`]
//! puts `X-EBAY-API-IAF-TOKEN: <token>` on Trading API calls; both
//! implement [`oauth_core::AttachToken`].
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
//! - `reqwest` (on with any of the above): the built-in HTTP transport
//!   (reqwest over rustls). With it but neither `ring` nor `aws-lc-rs`, the
//!   HTTP client uses the process-wide rustls crypto provider the
//!   application installed; without it, reqwest and rustls are not built
//!   and the application passes its own `oauth_core::transport::Transport`
//!   to `HttpClient::builder()`.
//!
//! Measured build cost (a cold `cargo build --release` of a minimal eBay
//! refresh program on `oauth-all`, registry already downloaded: `cargo
//! xtask bench-external build-cost`): with `ring` and the default features off, about 80 s
//! of CPU (42 s on two cores, the same as that program on oauth2 5.0) and a
//! 5.2 MB binary; `aws-lc-rs` instead adds 41 to 45 % of CPU and 2.2 MB;
//! `webpki-roots` adds no measurable time and 48 KB.
#![cfg_attr(docsrs, feature(doc_cfg))]
#![forbid(unsafe_code)]
#![warn(missing_docs)]
#![deny(rustdoc::broken_intra_doc_links)]
// `oauth_core::Error` is over clippy's 128-byte threshold; boxing it is
// oauth-core's decision, not this crate's.

mod api;
mod api_answer;
mod authorize;
mod client;
mod config;
mod configure;
mod error;
mod grant;
mod provider;
mod token;

pub use api::{ApiAuth, TRADING_TOKEN_HEADER};
pub use api_answer::{TOKEN_REJECTED_CODES, XML_SCAN_LIMIT};
pub use authorize::ConsentOptions;
pub use client::{ApplicationTokenGrant, Client, ClientBuilder, ClientExt};
pub use config::{API_SCOPE, AUTHORIZE_PATH, Ebay, TOKEN_PATH};
pub use oauth_core::Environment;
pub use token::{ApplicationToken, TokenResponse};

/// The provider's name, as used in errors, tracing and stores.
pub const PROVIDER: &str = "ebay";

/// This crate's README, compiled as a doc test so that the example crates.io
/// shows cannot drift from the API.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctest;
