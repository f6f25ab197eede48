//! Calls a commerce platform's API with a valid OAuth token: a
//! [reqwest-middleware](https://docs.rs/reqwest-middleware) middleware and
//! a tower `Layer`, one implementation behind both.
//!
//! For each call it
//! - takes a token from the account's [`TokenManager`](oauth_core::TokenManager)
//!   (or, for a [`TokenPool`](oauth_core::TokenPool), from the account the
//!   request names with an [`Account`] extension) and attaches it the
//!   provider's way ([`Client::attachment`](oauth_core::Client::attachment):
//!   eBay and Eshopbox `Authorization: Bearer`, OrangeConnex
//!   `Access-Token: Bearer` with its `clientKey`, AliExpress a signature over
//!   the query);
//! - asks the provider whether the answer must be read to be classified
//!   (`api_answer_needs_body`: a `401`, or AliExpress's `200` with an error
//!   code); only then reads it, up to a cap (1 MiB by default: a larger one
//!   is passed on whole, unclassified), and classifies it
//!   (`classify_api_response`);
//! - when the provider rejected the token
//!   ([`AccessTokenRejected`](oauth_core::Error::AccessTokenRejected)):
//!   invalidates that token (a compare-and-swap, so any number of calls
//!   rejected at once cause **one** refresh through the manager's single
//!   flight), takes a fresh one, attaches it to a copy of the original
//!   request and retries **once**; a second rejection is
//!   [`RejectedAfterRefresh`](oauth_core::Error::RejectedAfterRefresh),
//!   never a third request;
//! - passes every other answer on untouched (rebuilt from the bytes read,
//!   when it was read);
//! - traces one `oauth_api_call` span (debug level) with the provider, the
//!   account, the method, the status and the outcome (`passed`,
//!   `refreshed_and_retried`, `rejected_after_refresh`, `not_replayable`,
//!   `error`). Never a token, never the URL.
//!
//! # Calling the API
//! ```no_run
//! use oauth_core::provider::rfc6749::Rfc6749;
//! use oauth_core::{Client, ClientSecret, MemoryStore, TokenManager};
//! use oauth_middleware::{Authorizer, Error};
//! use std::sync::Arc;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
//! // Any provider crate's `Client` (oauth_ebay::Client, ...): here the
//! // generic RFC 6749 provider.
//! let spec = Rfc6749::new("shopx", "client-id", Some(ClientSecret::new("secret")))
//!     .production("https://auth.shopx.example")?;
//! let client = Client::builder(spec).build()?;
//! // The seller's tokens (installed after consent).
//! let manager =
//!     TokenManager::builder(Arc::new(client.clone()), Arc::new(MemoryStore::new()), "seller-42")
//!         .build();
//!
//! // Once: a reqwest client with the middleware.
//! let api = reqwest_middleware::ClientBuilder::new(reqwest::Client::new())
//!     .with(Authorizer::new(&client, manager).middleware())
//!     .build();
//!
//! // Every call: the token is attached, refreshed and retried as needed.
//! match api.get("https://api.shopx.example/v1/orders").send().await {
//!     Ok(answer) => println!("{}", answer.status()),
//!     Err(e) => match Error::from_middleware(&e) {
//!         // Refused again after a refresh: the seller must reconnect.
//!         Some(Error::OAuth(oauth_core::Error::RejectedAfterRefresh { .. })) => {}
//!         Some(Error::OAuth(e)) if e.requires_reauthorization() => {}
//!         _ => return Err(e.into()),
//!     },
//! }
//! # Ok(())
//! # }
//! ```
//!
//! With a [`TokenPool`](oauth_core::TokenPool), each request names its
//! account: `api.get(url).with_extension(Account::new("seller-1"))`.
//!
//! # AliExpress: parameters in the query
//! AliExpress signs every parameter of the call (HMAC-SHA256 over the
//! sorted parameters, with `access_token`/`session`): the signature covers
//! the **query** only, so put all of the call's parameters in the URL's
//! query (`.query(&[...])`), not in a form body. The middleware adds the
//! token and the signature to the query; a retry signs the original query
//! again with the fresh token.
//!
//! # Errors
//! The middleware's own failures are an [`Error`]: no token
//! ([`Error::OAuth`] with the manager's error), a token rejected again
//! after the one retry (`Error::OAuth(oauth_core::Error::RejectedAfterRefresh)`),
//! a pool request without an [`Account`] ([`Error::MissingAccount`]) and a
//! rejected request that cannot be sent again ([`Error::NotReplayable`]:
//! a streaming body). reqwest-middleware carries it as
//! `reqwest_middleware::Error::Middleware(anyhow::Error)`:
//! [`Error::from_middleware`] (or `anyhow`'s `downcast_ref::<Error>()`)
//! gets it back. The tower layer returns [`ServiceError`] (feature
//! `tower`).
//!
//! # Cost
//! When no retry happens, a call costs, besides the inner client's work
//! (`benches/overhead.rs`, one run on a shared two-core machine, loopback
//! server, fresh token, `200`):
//!
//! | reqwest | µs per call | allocations per call |
//! |---|---|---|
//! | bare `reqwest::Client` | 20.7 | 48 |
//! | reqwest-middleware, no middleware | 20.9 | 49 |
//! | reqwest-middleware, a middleware inserting a prebuilt header (the floor) | 21.3 | 51 (+2) |
//! | reqwest-middleware with [`OAuthMiddleware`] | 21.7 | 52 (+3) |
//!
//! The three allocations [`OAuthMiddleware`] adds:
//! 1. its boxed future (reqwest-middleware's `Middleware` is an
//!    async-trait: inherent, the floor pays it);
//! 2. the header itself, inside reqwest/hyper (the floor pays it too): the
//!    header *value* is built once per token (one allocation) and cached
//!    by the token's identity, so a call with an unchanged token inserts a
//!    clone (a reference count);
//! 3. the copy kept for a retry (reqwest consumes the request): the URL
//!    (one `String`); the method, the version and the timeout are copied,
//!    the headers only when the caller set some (then two allocations: the
//!    map's index and entries), an in-memory body is shared (its bytes,
//!    not copied).
//!
//! Nothing else allocates: the token read is lock-free, the account is a
//! reference count, the span is free when tracing is off. A header-only
//! attachment ([`AttachToken::token_headers`](oauth_core::AttachToken::token_headers):
//! `oauth_core::HeaderToken`, the RFC 6749 provider) skips the request's
//! head altogether (no URL parsed as a URI); an attachment that needs it
//! (AliExpress signs the query) costs the URI and whatever it builds.
//!
//! The tower path (`--features tower`), over the same reqwest client
//! wrapped as a `Service<http::Request<Bytes>>`: 21.1 µs and 56
//! allocations alone, 21.9 µs and 57 (+1: the [`OAuthService`]'s boxed
//! future) under [`OAuthLayer`] (the copy's URI is shared, not copied).
//!
//! # Crate feature flags
//! - `reqwest` (default): [`OAuthMiddleware`] for reqwest-middleware 0.5
//!   (reqwest 0.13, whose TLS the application chooses: this crate enables
//!   none). Builds reqwest, hyper, reqwest-middleware, anyhow and
//!   async-trait: a cold `cargo build --release` of this crate with only
//!   `reqwest` took about 33 s on two cores (oauth-core without TLS
//!   included).
//! - `tower`: [`OAuthLayer`], [`OAuthService`], [`ReplayBody`],
//!   [`ServiceError`] for tower/hyper clients. Adds tower-layer,
//!   tower-service and http-body-util (small, no build scripts): with only
//!   `tower`, about 23 s (no reqwest, no hyper).
//!
//! # Rust version policy
//! The minimum supported Rust version is the workspace's `rust-version`;
//! raising it is a minor-version change.
#![cfg_attr(docsrs, feature(doc_cfg))]
#![forbid(unsafe_code)]
#![warn(missing_docs)]
#![deny(rustdoc::broken_intra_doc_links)]
// Without an adapter, the shared driver has no caller.
#![cfg_attr(not(any(feature = "reqwest", feature = "tower")), allow(dead_code))]

mod authorizer;
mod body;
mod call;
mod error;
#[cfg(feature = "reqwest")]
mod reqwest;
#[cfg(feature = "tower")]
mod tower;

pub use authorizer::{Account, Authorizer, DEFAULT_BODY_LIMIT, Tokens};
pub use body::ApiBody;
pub use error::Error;
#[cfg(feature = "reqwest")]
#[cfg_attr(docsrs, doc(cfg(feature = "reqwest")))]
pub use reqwest::OAuthMiddleware;
#[cfg(feature = "tower")]
#[cfg_attr(docsrs, doc(cfg(feature = "tower")))]
pub use tower::{BoxError, OAuthLayer, OAuthService, ReplayBody, ResponseFuture, ServiceError};

#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctest;
