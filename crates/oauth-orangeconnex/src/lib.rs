//! OAuth client for OrangeConnex (eBay fulfilment open API) third-party
//! partners ("3PP"): authorization URL, code exchange, refresh, and the
//! `Access-Token` header on API calls.
//!
//! The crate supplies [`OrangeConnex`], the provider's settings and rules;
//! `oauth-core` runs them: [`Client`] is `oauth_core::Client<OrangeConnex>`,
//! with the same methods for every provider.
//!
//! ```
//! use httpmock::prelude::*;
//! use oauth_core::{AttachTokenExt, IntoTokenSet, parse_callback};
//! use oauth_orangeconnex::{Client, ClientKey, CsrfState, Environment, OrangeConnex};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! // A stand-in for OrangeConnex: the code exchange and the refresh.
//! let server = MockServer::start_async().await;
//! server.mock_async(|when, then| {
//!     when.method(POST).path("/oauth/token")
//!         .query_param("grant_type", "authorization_code")
//!         .query_param("code", "Zm9v%2FYmFy") // decoded once, as sent once-encoded
//!         .header("clientKey", "my-client-key")
//!         .body("");
//!     then.status(200).header("content-type", "application/json").body(
//!         r#"{"access_token":"at-1","expires_in":3600,"refresh_token":"rt-1","token_type":"bearer"}"#,
//!     );
//! }).await;
//! server.mock_async(|when, then| {
//!     when.method(POST).path("/oauth/token")
//!         .query_param("grant_type", "refresh_token")
//!         .query_param("refresh_token", "rt-1");
//!     then.status(200).header("content-type", "application/json")
//!         .body(r#"{"access_token":"at-2","expires_in":3600,"token_type":"bearer"}"#);
//! }).await;
//!
//! // 1. One client per 3PP application (share it between seller accounts).
//! let client = Client::builder(
//!     OrangeConnex::new("my-3pp-client-id", "https://app.example/oc/callback")
//!         .client_key(ClientKey::new("my-client-key")),
//! )
//! .environment(Environment::custom(&server.base_url())?)
//! .build()?;
//!
//! // 2. Send the seller to the authorization URL, keeping `state` in their session.
//! let state = CsrfState::generate()?;
//! let url = client.authorize_url(&state)?;
//! assert!(url.as_str().contains("/oauth/authorize?response_type=code&client_id=my-3pp-client-id"));
//!
//! // 3. They come back to the redirect URI; the code is itself URL-encoded
//! //    base64, so the callback carries it encoded twice (`%252F`).
//! let landed = format!(
//!     "https://app.example/oc/callback?code=Zm9v%252FYmFy&state={}",
//!     state.as_str()
//! );
//! let callback = parse_callback(&landed, &state)?;
//! let response = client.exchange_code(&callback.code).await?;
//! assert_eq!(response.expires_in, Some(3600));
//! let tokens = response.into_token_set();
//! assert_eq!(tokens.access_token.expose_secret(), "at-1");
//!
//! // 4. Refresh before expiry: no refresh token in the answer keeps the old one.
//! let tokens = client.refresh(&tokens).await?;
//! assert_eq!(tokens.access_token.expose_secret(), "at-2");
//! assert_eq!(tokens.refresh_token.as_ref().map(|t| t.expose_secret()), Some("rt-1"));
//!
//! // 5. Call the API with `Access-Token: Bearer ..` and `clientKey`.
//! let mut request = oauth_core::http_types::Request::post(
//!     format!("{}/openapi/3pp/sku/v3/creation", server.base_url()),
//! ).body(())?;
//! client.attachment().attach_to(&tokens.access_token, &mut request)?;
//! assert_eq!(request.headers()["access-token"], "Bearer at-2");
//! # Ok(())
//! # }
//! ```
//!
//! # Environments
//! [`Environment::Production`] (the default), [`Environment::Sandbox`] (the
//! "stage" host) and [`Environment::Custom`] for any other base URL (a
//! local sandbox, a mock server), under which `/oauth/authorize` and
//! `/oauth/token` are appended. The production host is documented for the
//! authorization page only; that the token endpoint lives on the same host
//! is *unconfirmed*: if it differs, use a custom base URL.
//!
//! # Authorization URL
//! [`Client::authorize_url`](oauth_core::Client::authorize_url):
//! `<base>/oauth/authorize?response_type=code&client_id=..&redirect_uri=..&state=..`,
//! all four required, no scope.
//!
//! # Code exchange and refresh
//! [`Client::exchange_code`](oauth_core::Client::exchange_code) (a typed
//! [`TokenResponse`]; `into_token_set()` makes the set to store) and
//! [`Client::refresh`](oauth_core::Client::refresh) (a [`TokenSet`]), which
//! also implement the [`AuthorizationCodeGrant`](oauth_core::AuthorizationCodeGrant)
//! and [`RefreshGrant`](oauth_core::RefreshGrant) traits the token
//! lifecycle drives. Both are a `POST <base>/oauth/token` with every
//! parameter in the query string, an empty body, no client secret, and the
//! optional `clientKey` header. The code is decoded once from the callback
//! and percent-encoded once in the query: the documentation's `%252F`
//! survives intact. OrangeConnex has no other token operation.
//!
//! # Responses and errors
//! Every field of the response is optional. A non-empty `error`, or a
//! missing or blank `access_token`, is a failure **whatever the HTTP
//! status**; see [`TokenResponse::decode`] for the rules and how codes map
//! to [`oauth_core::Error`] (`invalid_grant`, or a description saying the
//! refresh token or code is invalid, expired or revoked: re-authorization
//! required; a malformed request such as `invalid_request` never is;
//! `invalid_client`/`unauthorized_client`: invalid client).
//!
//! # Refresh-token rotation (*unconfirmed*)
//! OrangeConnex does not say whether a refresh returns a new refresh token.
//! This crate handles both answers: a returned refresh token replaces the
//! old one, an absent one keeps it ([`TokenSet::merge_previous`]).
//! [`RefreshGrant::rotates_refresh_token`](oauth_core::RefreshGrant::rotates_refresh_token)
//! returns `true`, the conservative choice: the lifecycle persists every
//! refreshed set before use and never repeats a refresh blindly. Refresh
//! tokens are given the documented one-year lifetime
//! ([`REFRESH_TOKEN_LIFETIME`]) when issued; the same token sent back keeps
//! its expiry. Each choice lives in one place
//! ([`OrangeConnex`]'s `Provider` implementation and
//! [`TokenResponse::into_token_set`](oauth_core::IntoTokenSet::into_token_set))
//! and is easy to change once OrangeConnex's behaviour is known.
//!
//! # Errors of API calls
//! A middleware reads an API call's answer when [`OrangeConnex`]'s
//! [`api_answer_needs_body`](oauth_core::Provider::api_answer_needs_body)
//! says so (a 401 only) and classifies it with its
//! [`classify_api_response`](oauth_core::Provider::classify_api_response).
//! OrangeConnex documents no error shape for its business APIs; they are
//! read the way its token endpoint's server (Spring Security OAuth2, by
//! its messages) answers a resource request, RFC 6750 (*unconfirmed*):
//!
//! | answer | [`oauth_core::Error`] |
//! |---|---|
//! | 2xx | `Ok` |
//! | 429 / 5xx | `RateLimited` / `Transient` |
//! | a complaint naming the client key (`clientKey`), `invalid_client`, `unauthorized_client` | `InvalidClient`: fix the settings, not the token |
//! | `{"error":"invalid_token",..}` or `expired_token` (401) | `AccessTokenRejected`: refresh, retry once |
//! | `insufficient_scope`, `access_denied` (403), `invalid_request`, `unauthorized` ("Full authentication is required": no token was read) | `Provider` |
//! | any other 401 (empty body, another code) | `AccessTokenRejected` |
//! | any other status | `Provider` |
//!
//! A description that echoes the token ("Invalid access token: ...") is
//! cut at its colon, and every message is masked.
//!
//! # Calling the API
//! [`oauth-middleware`](https://docs.rs/oauth-middleware) makes a
//! reqwest client ([reqwest-middleware](https://docs.rs/reqwest-middleware))
//! attach a valid token to every call, `Access-Token: Bearer` with the `clientKey` header, and, when OrangeConnex rejects
//! the token (a `401` with `invalid_token`), invalidate it, refresh once (one refresh
//! however many calls were rejected at once) and retry the call once; a
//! second rejection is `oauth_core::Error::RejectedAfterRefresh`:
//!
//! ```no_run
//! use oauth_core::{ClientKey, FileStore, TokenManager};
//! use oauth_middleware::Authorizer;
//! use oauth_orangeconnex::{Client, OrangeConnex};
//! use std::sync::Arc;
//!
//! # async fn call() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
//! let client = Client::builder(
//!     OrangeConnex::new("3pp-client-7", "https://app.example/oc/callback")
//!         .client_key(ClientKey::new("client-key")),
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
//! let base = client.endpoints().api().cloned().ok_or("no API base")?;
//! let answer = api
//!     .post(base.join("openapi/3pp/sku/v3/creation")?)
//!     .header("content-type", "application/json")
//!     .body(r#"{"sellerSkuId":"SKU-1"}"#)
//!     .send()
//!     .await?;
//! println!("{}", answer.status());
//! # Ok(())
//! # }
//! ```
//!
//! # Using the token
//! [`ApiAuth`] (from [`Client::attachment`](oauth_core::Client::attachment))
//! adds `Access-Token: Bearer <token>` and `clientKey: <key>` to API
//! requests. `getServiceList` needs neither. The `vAuthorization` header
//! listed on the SKU pages is not documented in any source we have: it is
//! out of scope until documented.
//!
//! # Secrets
//! The code and the refresh token travel in the URL's query string. No
//! error, `Debug` output, `Display` output or tracing event of this crate or
//! of `oauth-core`'s client contains that URL or a token: transport errors
//! drop the URL, provider messages and body excerpts are masked, and a code
//! or refresh token echoed back by the provider is scrubbed. The crate's
//! tests check this with sentinel tokens against a closed port and a
//! timeout, with tracing captured at `TRACE` level.
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

mod api;
mod api_answer;
mod authorize;
mod config;
mod configure;
mod error;
mod grant;
mod token;

/// The provider's name, as used in errors, tracing and stores.
pub const PROVIDER: &str = "orangeconnex";

/// An OrangeConnex client: `oauth-core`'s client running [`OrangeConnex`].
pub type Client = oauth_core::Client<OrangeConnex>;

/// Builds a [`Client`] from [`OrangeConnex`] settings.
pub type ClientBuilder = oauth_core::ClientBuilder<OrangeConnex>;

pub use api::{ACCESS_TOKEN_HEADER, ApiAuth};
pub use authorize::AUTHORIZE_PATH;
pub use config::{OrangeConnex, PRODUCTION_BASE_URL, SANDBOX_BASE_URL};
pub use grant::{CLIENT_KEY_HEADER, TOKEN_PATH};
pub use token::{DEFAULT_ACCESS_TOKEN_LIFETIME, REFRESH_TOKEN_LIFETIME, TokenResponse};

/// Re-exported so users need not depend on `oauth-core` for the basics.
pub use oauth_core::{
    AccessToken, AuthorizationCode, ClientId, ClientKey, CsrfState, EndpointUrl, Environment,
    Error, HttpClient, RefreshToken, TokenSet,
};

/// This crate's README, compiled as a doc test so that the example crates.io
/// shows cannot drift from the API.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctest;
