//! OAuth client for [Eshopbox](https://www.eshopbox.com/) custom apps: the
//! refresh-token grant that mints access tokens, Eshopbox's error answers
//! classified, and the access token put on API calls.
//!
//! ```
//! use oauth_eshopbox::{
//!     AttachTokenExt, Client, ClientSecret, Environment, Eshopbox, RefreshGrant, RefreshToken,
//! };
//! use httpmock::MockServer;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! // A stand-in for https://auth.myeshopbox.com/api/v1/generateToken.
//! let server = MockServer::start_async().await;
//! let token_endpoint = server
//!     .mock_async(|when, then| {
//!         when.method("POST")
//!             .path("/api/v1/generateToken")
//!             .header("content-type", "application/json")
//!             .body(r#"{"client_id":"my-client-id","client_secret":"my-client-secret","grant_type":"refresh_token","refresh_token":"my-refresh-token"}"#);
//!         then.status(200)
//!             .header("content-type", "application/json")
//!             .body(r#"{"access_token":"eyJhbGciOiJSUzI1NiJ9.e30.c2ln","id_token":"eyJ0.e30.c2ln","scope":"openid profile offline_access","expires_in":86400,"token_type":"Bearer"}"#);
//!     })
//!     .await;
//!
//! // Once: the three values the custom app shows (Apps > Create a custom app).
//! let client = Client::builder(Eshopbox::new(
//!     "my-client-id",
//!     ClientSecret::new("my-client-secret"),
//!     RefreshToken::new("my-refresh-token"),
//! ))
//! // A base URL: the token path is appended (default: production).
//! .environment(Environment::custom(&server.base_url())?)
//! .build()?;
//!
//! // The first token (custom apps have no consent screen). The token
//! // lifecycle gets the same through `RefreshGrant::fetch_initial`.
//! let tokens = client.fetch_initial().await.expect("custom apps need no consent")?;
//! assert_eq!(tokens.scopes.join(" "), "openid profile offline_access");
//! assert_eq!(tokens.refresh_token, Some(RefreshToken::new("my-refresh-token")));
//!
//! // Later, shortly before expiry (the token lifecycle does this for you).
//! assert!(!client.rotates_refresh_token());
//! let tokens = client.refresh(&tokens).await?;
//! token_endpoint.assert_calls_async(2).await;
//!
//! // On every API call.
//! let mut request = oauth_core::http_types::Request::builder()
//!     .uri("https://wms.myeshopbox.com/api/v1/orders")
//!     .body(())?;
//! client.attachment().attach_to(&tokens.access_token, &mut request)?;
//! assert_eq!(request.headers()["authorization"], "Bearer eyJhbGciOiJSUzI1NiJ9.e30.c2ln");
//! assert_eq!(request.headers()["content-type"], "application/json");
//! # Ok(())
//! # }
//! ```
//!
//! # Custom apps: the refresh grant is the whole flow
//! A workspace admin creates a custom app and copies its `client_id`,
//! `client_secret` and a long-lived `refresh_token`: [`Eshopbox::new`] takes
//! these three, [`Client::builder`] the settings every provider shares
//! (environment, HTTP client, clock). [`Client::fetch_initial`] mints the
//! first access token (the lifecycle calls it through
//! [`RefreshGrant::fetch_initial`]), [`Client::refresh`] the next ones, and
//! [`ClientExt::refresh_with`] gives the typed answer ([`TokenResponse`],
//! `id_token` included) for a bare refresh token:
//!
//! ```text
//! POST https://auth.myeshopbox.com/api/v1/generateToken
//! Content-Type: application/json
//!
//! {"client_id":"…","client_secret":"…","grant_type":"refresh_token","refresh_token":"…"}
//! ```
//!
//! The answer ([`TokenResponse`]) carries `access_token`, an optional
//! `id_token`, a space-separated `scope`, `expires_in` (a number or a
//! numeric string; [`DEFAULT_EXPIRES_IN`] when absent; `0` is refused as a
//! token expired on arrival) and `token_type`.
//! It carries no refresh token: the one used is kept (no rotation, so
//! [`RefreshGrant::rotates_refresh_token`] is `false` and the request is
//! retried after a 5xx, 429 or timeout). Should a future answer carry a new
//! refresh token, it replaces the old one in the [`TokenSet`].
//!
//! Eshopbox has no sandbox host: [`Environment::Sandbox`] is a configuration
//! error. [`Environment::Custom`] is a base URL that the token path is
//! appended to; the path itself is configurable ([`Eshopbox::token_path`]):
//! the documentation's prose also speaks of "the /oauth/token endpoint",
//! while the URL it gives, and every client, uses `/api/v1/generateToken`.
//!
//! Authorization-code calls ([`Client::authorize_url`],
//! [`Client::exchange_code`]) are a configuration error: custom apps have
//! no consent step (partner apps: see below).
//!
//! # Refresh margin and rate limiting
//! Eshopbox rate-limits its token endpoint and asks clients to cache the
//! token and to ask for a new one only when it is about to expire; never
//! mint a token per API call. The grant's
//! [`default_refresh_skew`](RefreshGrant::default_refresh_skew) is 5
//! minutes: one refresh per ~24 hours per app, with room for a slow or
//! rate-limited refresh while the old token is still valid. A token
//! manager's `skew` setting overrides it.
//!
//! # Errors
//! Eshopbox does not document its error bodies. Its answers are classified
//! by status and by `error` / `error_description` / `message`:
//! `invalid_grant` or a complaint about the refresh token (on 400/401/403)
//! is [`Error::ReauthorizationRequired`] (create a new refresh token in the
//! app); `invalid_client` / `access_denied` / a bare 401 is
//! [`Error::InvalidClient`]; 429 is [`Error::RateLimited`] with
//! `Retry-After`; 5xx is [`Error::Transient`]; an HTML page is
//! [`Error::UnexpectedResponse`] with a masked excerpt. Errors never contain
//! a secret or a URL: `oauth-core` scrubs every secret the request sent.
//!
//! # Errors of API calls
//! A middleware reads an API call's answer when [`Eshopbox`]'s
//! [`api_answer_needs_body`](oauth_core::Provider::api_answer_needs_body)
//! says so (a 401 or a 403) and classifies it with its
//! [`classify_api_response`](oauth_core::Provider::classify_api_response).
//! Eshopbox documents no error bodies; bearer-token answers are read as
//! RFC 6750 and the usual API gateways write them (*unconfirmed*):
//!
//! | answer | [`oauth_core::Error`] |
//! |---|---|
//! | 2xx | `Ok` |
//! | 429 / 5xx | `RateLimited` / `Transient` |
//! | 401, any body (`{"message":"Unauthorized"}`, `invalid_token`, "jwt expired") | `AccessTokenRejected`: refresh, retry once |
//! | 403 with `invalid_token` / `expired_token`, or a text saying the token (access token, JWT) is expired, invalid or revoked | `AccessTokenRejected` |
//! | any other 403 (`insufficient_scope`, "Forbidden", a scope or permission named) | `Provider`: a refresh would not fix it |
//! | any other status | `Provider` |
//!
//! # Calling the API
//! [`oauth-middleware`](https://docs.rs/oauth-middleware) makes a
//! reqwest client ([reqwest-middleware](https://docs.rs/reqwest-middleware))
//! attach a valid token to every call, `Authorization: Bearer`, and, when Eshopbox rejects
//! the token (a `401`, or a `403` saying the token is invalid or expired), invalidate it, refresh once (one refresh
//! however many calls were rejected at once) and retry the call once; a
//! second rejection is `oauth_core::Error::RejectedAfterRefresh`:
//!
//! ```no_run
//! use oauth_core::{ClientSecret, FileStore, RefreshToken, TokenManager};
//! use oauth_eshopbox::{Client, Eshopbox};
//! use oauth_middleware::Authorizer;
//! use std::sync::Arc;
//!
//! # async fn call() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
//! let client = Client::builder(Eshopbox::new(
//!     "custom-app-id",
//!     ClientSecret::new("client-secret"),
//!     RefreshToken::new("the app's refresh token"),
//! ))
//! .build()?;
//! // A custom app needs no consent: the first call fetches the first token.
//! let manager = TokenManager::builder(
//!     Arc::new(client.clone()),
//!     Arc::new(FileStore::new("tokens.json")),
//!     "warehouse-1",
//! )
//! .build();
//! let api = reqwest_middleware::ClientBuilder::new(reqwest::Client::new())
//!     .with(Authorizer::new(&client, manager).middleware())
//!     .build();
//! // Your account's API host (Eshopbox gives it with the app).
//! let answer = api.get("https://your-api-host.example/api/v1/me").send().await?;
//! println!("{}", answer.status());
//! # Ok(())
//! # }
//! ```
//!
//! # Using the token
//! [`ApiAuth`] (the client's [`attachment`](Client::attachment)) adds
//! `Authorization: Bearer <access_token>` and `Content-Type:
//! application/json` to an [`http::Request`](oauth_core::http_types::Request).
//!
//! # Partner apps
//! [`PartnerAuthorization`] builds the partner-app authorize URL
//! (`https://partners.myeshopbox.com/installation/authorize`, comma-separated
//! scopes, `audience`, `response_type=code`). **The code exchange for partner
//! apps is not documented** by Eshopbox, so this crate offers no exchange:
//! [`Client::exchange_code`] is a configuration error.
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

/// The provider's name, as used in errors and tracing.
pub const PROVIDER: &str = "eshopbox";

/// An Eshopbox client: `oauth-core`'s client on the [`Eshopbox`] settings.
pub type Client = oauth_core::Client<Eshopbox>;

/// Builds a [`Client`]: `Client::builder(Eshopbox::new(..))`, then the
/// environment, HTTP client and clock.
pub type ClientBuilder = oauth_core::ClientBuilder<Eshopbox>;

pub use api::ApiAuth;
pub use authorize::{PARTNER_AUTHORIZE_URL, PartnerAuthorization, PartnerAuthorizationBuilder};
pub use config::{Eshopbox, PRODUCTION_BASE_URL, PRODUCTION_TOKEN_URL, TOKEN_PATH};
pub use grant::ClientExt;
pub use token::{DEFAULT_EXPIRES_IN, TokenResponse, parse_scope};

/// Re-exported from `oauth-core`: the types needed to use this crate.
pub use oauth_core::{
    AccessToken, AttachToken, AttachTokenExt, ClientId, ClientSecret, EndpointUrl, Environment,
    Error, HttpClient, IdToken, IntoTokenSet, Provider, RawResponse, RefreshGrant, RefreshToken,
    Scopes, TokenSet,
};

/// This crate's README, compiled as a doc test so that the example crates.io
/// shows cannot drift from the API.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctest;
