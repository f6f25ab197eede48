//! OAuth client for AliExpress (IOP open platform): consent URL, token
//! create and refresh with signed requests, and signing of API calls with
//! the access token.
//!
//! ```
//! use oauth_aliexpress::{AliExpress, ApiRequest, Client, ClientExt, Environment};
//! use oauth_core::{AppSecret, CsrfState, IntoTokenSet, ManualClock, parse_callback};
//! use httpmock::{Method::POST, MockServer};
//! use std::sync::Arc;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), oauth_core::Error> {
//! // A stand-in for https://api-sg.aliexpress.com.
//! let server = MockServer::start_async().await;
//! let create = server.mock_async(|when, then| {
//!     when.method(POST).path("/rest/auth/token/create")
//!         .query_param("app_key", "12345678")
//!         .body("code=3_500102_JxZ05Ux3cnnSSUm6dCxYg6Q26");
//!     then.status(200).header("content-type", "application/json").body(
//!         r#"{"access_token":"at-1","refresh_token":"rt-1","expires_in":2592000,
//!             "refresh_expires_in":5184000,"expire_time":1717812392000,
//!             "refresh_token_valid_time":1723004392000,"seller_id":2637908814,
//!             "user_nick":"kr1040","account_platform":"seller_center","code":"0",
//!             "request_id":"212a69f317116001605067741"}"#,
//!     );
//! }).await;
//! let refresh = server.mock_async(|when, then| {
//!     when.method(POST).path("/rest/auth/token/refresh").body("refresh_token=rt-1");
//!     then.status(200).body(
//!         r#"{"access_token":"at-2","refresh_token":"rt-2","expires_in":"2592000",
//!             "refresh_expires_in":"2592000","code":"0"}"#,
//!     );
//! }).await;
//!
//! let app = AliExpress::new("12345678", AppSecret::new("helloworld"))
//!     .redirect_uri("https://app.example/callback");
//! let client = Client::builder(app)
//!     .environment(Environment::custom(&server.base_url())?)
//!     .clock(Arc::new(ManualClock::at_unix_millis(1_715_220_392_000)))
//!     .build()?;
//!
//! // 1. Send the seller to the consent page, keeping `state` in their session.
//! let state = CsrfState::generate()?;
//! let url = client.authorize_url(&state)?;
//! assert!(url.path().ends_with("/oauth/authorize"));
//!
//! // 2. They come back to the callback with a code.
//! let landed = format!(
//!     "https://app.example/callback?code=3_500102_JxZ05Ux3cnnSSUm6dCxYg6Q26&state={}",
//!     state.as_str()
//! );
//! let callback = parse_callback(&landed, &state)?;
//!
//! // 3. Exchange it: a typed answer with the seller's ids, then a TokenSet.
//! let created = client.exchange_code(&callback.code).await?;
//! assert_eq!(created.account.seller_id.as_deref(), Some("2637908814"));
//! let tokens = created.into_token_set();
//!
//! // 4. Refresh: the refresh token rotates, its expiry stays the original.
//! let refreshed = client.refresh(&tokens).await?;
//! assert_eq!(refreshed.access_token.expose_secret(), "at-2");
//! assert_eq!(refreshed.refresh_token_expires_at, tokens.refresh_token_expires_at);
//!
//! // 5. Use the access token: sign an API call, send it with any client.
//! let call = client.sign_api_request(&ApiRequest::new("/seller/get"), &refreshed.access_token)?;
//! assert_eq!(call.body(), b"access_token=at-2");
//! create.assert_async().await;
//! refresh.assert_async().await;
//! # Ok(())
//! # }
//! ```
//!
//! # The client
//! [`AliExpress`] holds the app's settings (app key and secret, redirect
//! URI, `force_auth`, `partner_id`) and implements
//! [`oauth_core::Provider`]; [`Client`] is `oauth_core::Client<AliExpress>`,
//! with the operations every provider crate shares
//! ([`authorize_url`](oauth_core::Client::authorize_url),
//! [`exchange_code`](oauth_core::Client::exchange_code),
//! [`refresh`](oauth_core::Client::refresh),
//! [`attachment`](oauth_core::Client::attachment)) and, through
//! [`ClientExt`], those only AliExpress has (a `uuid` on the consent URL
//! and code exchange, signing API calls). `oauth-core` sends every request,
//! stamps when answers arrive, scrubs echoed secrets from errors and
//! traces the outcome.
//!
//! # Signed requests
//! Every IOP call carries `app_key`, `timestamp` (Unix **milliseconds**,
//! from the client's injectable clock), `sign_method=sha256`, optionally
//! `partner_id`, and `sign`: HMAC-SHA256 keyed with the app secret over the
//! parameters sorted by name (byte-wise), concatenated as `name` + `value`,
//! with the API path in front for system APIs (names containing `/`).
//! Parameters with an empty value are neither sent nor signed. [`Signer`]
//! does this; [`Signer::string_to_sign`] shows the exact text signed (it is
//! sensitive: it holds the parameter values).
//!
//! # Token create and refresh
//! [`exchange_code`](oauth_core::Client::exchange_code) and
//! [`ClientExt::exchange_code_with_uuid`] (`/auth/token/create`) and
//! [`refresh`](oauth_core::Client::refresh) (`/auth/token/refresh`) post to the
//! path-suffixed gateway `<base>/rest/auth/token/...`, the common
//! parameters and `sign` in the query, the code (with `uuid`, if used) or
//! refresh token in a form body (`application/x-www-form-urlencoded;charset=UTF-8`):
//! the choice of the official Java SDK, which keeps secrets out of URLs.
//! That choice lives in one place (`call.rs`). Neither request is retried
//! once sent.
//!
//! The answer, [`TokenResponse`], keeps both the relative (`expires_in`,
//! `refresh_expires_in`) and absolute (`expire_time`,
//! `refresh_token_valid_time`) expiries and the seller's ids
//! ([`SellerAccount`]) and the time it arrived; its
//! [`into_token_set`](oauth_core::IntoTokenSet::into_token_set) prefers the
//! relative lifetimes, which do not depend on this machine's clock, and
//! warns (through `tracing`) when the two disagree by more than
//! [`EXPIRY_DISAGREEMENT`].
//!
//! # Rotation and grants that cannot be refreshed
//! A refresh returns a **new** refresh token (the old one is dead) whose
//! expiry is *not* extended: the refreshed [`TokenSet`](oauth_core::TokenSet)
//! keeps the original refresh expiry ([`Provider::refreshed`](oauth_core::Provider::refreshed)).
//! [`Provider::rotates_refresh_tokens`](oauth_core::Provider::rotates_refresh_tokens)
//! is `true`, so the lifecycle saves the new set before using it. The
//! suggested refresh skew ([`Provider::default_refresh_skew`](oauth_core::Provider::default_refresh_skew))
//! is 30 minutes, as the platform recommends; a token manager's `skew`
//! overrides it.
//!
//! A grant issued with `refresh_expires_in == 0` (apps sold on the service
//! market) can never be refreshed: its token set is recorded **without a
//! refresh token**, and refreshing such a set fails at once with
//! [`Error::RefreshNotSupported`](oauth_core::Error::RefreshNotSupported),
//! without any request.
//!
//! # Errors
//! Error bodies come in two shapes, on HTTP 200 and 400; [`error`] maps
//! their `code` (`IllegalRefreshToken` → re-authorize, `IllegalAccessToken`
//! → access token rejected, `IncompleteSignature` → invalid client, ...),
//! keeping code, message and request id. The answers of API calls are
//! classified the same way by [`AliExpress`]'s
//! [`Provider::classify_api_response`](oauth_core::Provider::classify_api_response)
//! (also available as the free function [`classify_api_response`], the
//! same code): `IllegalAccessToken` means the access token was refused
//! (refresh it, retry once), whatever the HTTP status: the gateway answers
//! it inside an HTTP 200 or 400, so
//! [`Provider::api_answer_needs_body`](oauth_core::Provider::api_answer_needs_body)
//! asks a middleware to read every 2xx and 4xx JSON answer. The table, with
//! the API-call rows, is in [`error`].
//!
//! # Calling the API
//! [`oauth-middleware`](https://docs.rs/oauth-middleware) makes a
//! reqwest client ([reqwest-middleware](https://docs.rs/reqwest-middleware))
//! attach a valid token to every call, signed the IOP way (`session` and an HMAC-SHA256 `sign` over every parameter of the query), and, when AliExpress rejects
//! the token (`IllegalAccessToken`, inside an HTTP 200), invalidate it, refresh once (one refresh
//! however many calls were rejected at once) and retry the call once; a
//! second rejection is `oauth_core::Error::RejectedAfterRefresh`:
//!
//! ```no_run
//! use oauth_aliexpress::{AliExpress, Client};
//! use oauth_core::{AppSecret, FileStore, TokenManager};
//! use oauth_middleware::Authorizer;
//! use std::sync::Arc;
//!
//! # async fn call() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
//! let client = Client::builder(
//!     AliExpress::new("12345678", AppSecret::new("app-secret"))
//!         .redirect_uri("https://app.example/aliexpress/callback"),
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
//! // A business call: the method and its parameters in the query (what the
//! // signature covers); the middleware adds the token and the signature.
//! let mut call = client.endpoints().api().cloned().ok_or("no API gateway")?;
//! call.query_pairs_mut()
//!     .append_pair("method", "aliexpress.solution.order.get")
//!     .append_pair("param0", r#"{"order_id":"800000000001"}"#);
//! let answer = api.get(call).send().await?;
//! println!("{}", answer.status());
//! # Ok(())
//! # }
//! ```
//!
//! # Using the token
//! No header: the token is a signed parameter, `access_token` on `/rest`
//! (system) calls and `session` on `/sync` (business) calls. [`ApiRequest`]
//! describes any call and [`ClientExt::sign_api_request`] signs it; the
//! client's attachment, [`ApiAuth`], implements
//! [`AttachToken`](oauth_core::AttachToken) for requests whose parameters
//! are all in the query.
//!
//! # Environments
//! [`Environment::Production`] (`https://api-sg.aliexpress.com`) or
//! [`Environment::Custom`] (a base URL the paths are appended to). There is
//! no separate sandbox: apps in test status get short-lived tokens on the
//! production host, and [`Environment::Sandbox`] is a configuration error.
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
// `oauth_core::Error` is the workspace's one error type; its size is
// oauth-core's choice (see the report to the lead), not this crate's.

mod api;
mod authorize;
mod call;
mod client;
mod config;
pub mod error;
mod grant;
mod sign;
mod token;

pub use api::{ApiAuth, ApiRequest, SignedApiRequest};
pub use call::FORM_CONTENT_TYPE_UTF8;
pub use client::{Client, ClientBuilder, ClientExt};
pub use config::{AUTHORIZE_PATH, AliExpress, PRODUCTION_BASE_URL, REST_PATH, SYNC_PATH};
pub use error::{IopError, classify_api_response};
pub use grant::{TOKEN_CREATE_API, TOKEN_REFRESH_API};
/// The environments, shared by every provider crate: `Production` (the
/// default) or `Custom(base)`; AliExpress has no `Sandbox`.
pub use oauth_core::Environment;
pub use sign::{ApiKind, SIGN_METHOD, Signer, StringToSign};
pub use token::{EXPIRY_DISAGREEMENT, SellerAccount, TokenResponse};

/// The provider's name, as used in errors and tracing.
pub const PROVIDER: &str = "aliexpress";

/// This crate's README, compiled as a doc test so that the example crates.io
/// shows cannot drift from the API.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctest;
