//! Shared building blocks of the commerce OAuth toolkit: secret types,
//! token sets, errors, CSRF state and callback parsing, the HTTP plumbing
//! every provider uses, and the grant traits.
//!
//! Provider crates (`oauth-ebay`, `oauth-aliexpress`, `oauth-orangeconnex`,
//! `oauth-eshopbox`) build on this crate; most applications use them through
//! the `oauth-all` façade and touch `oauth-core` only for its types.
//!
//! ```
//! use oauth_core::{CsrfState, parse_callback};
//!
//! // Before redirecting the user: a fresh state, kept in their session.
//! let state = CsrfState::generate()?;
//!
//! // When they come back, hand the whole URL they landed on to the parser.
//! let landed = format!(
//!     "https://app.example/callback?state={}&code=v%5E1.1%23i%5E1",
//!     state.as_str()
//! );
//! let callback = parse_callback(&landed, &state)?;
//! assert_eq!(callback.code.expose_secret(), "v^1.1#i^1");
//! # Ok::<(), oauth_core::Error>(())
//! ```
//!
//! # Secrets
//! Every secret ([`ClientSecret`], [`AccessToken`], [`RefreshToken`],
//! [`AuthorizationCode`], [`AppSecret`], ...) is zeroized on drop and
//! redacted in `Debug`; none implements `Display`. Errors never contain a
//! secret or a URL: provider messages and body excerpts are masked.
//!
//! # Crate feature flags
//! - `reqwest` (default): the built-in HTTP transport
//!   (`transport::ReqwestTransport`: reqwest over rustls, no redirects,
//!   proxies only when configured). Without it, reqwest, rustls and the
//!   platform verifier are not built and the application gives
//!   `HttpClientBuilder::transport` its own [`transport::Transport`];
//! - `ring` (default, implies `reqwest`): the HTTP client's TLS crypto is
//!   ring (pure Rust and assembly, no C build script);
//! - `aws-lc-rs` (implies `reqwest`): TLS crypto with aws-lc-rs instead (FIPS-capable builds;
//!   aws-lc-sys's C build is most of a cold build's time); wins over `ring`
//!   when both are on;
//! - `webpki-roots` (implies `reqwest`): Mozilla's root certificates, bundled, instead of the
//!   platform's verifier and trust store (one data-only crate);
//! - `lifecycle` (default): the token lifecycle, `lifecycle` (`TokenManager`,
//!   `TokenPool`, the token stores and their leases, the manager's coarse
//!   clock) and the crates only it needs (`arc-swap`, `papaya`, `foldhash`,
//!   `rustix`). A program that only makes token requests through a
//!   provider's `Client` (a refresh job, a command-line tool) can leave it
//!   out: 8 to 12 s (about a tenth) less CPU in a cold release build of a
//!   minimal eBay program (`cargo xtask bench-external build-cost`);
//! - `encryption` (off, implies `lifecycle`): `lifecycle::EncryptedStore`, its keys
//!   (`StoreKey`, `Keyring`, `KeyProvider`...) and `rekey`: tokens encrypted
//!   at rest with XChaCha20-Poly1305 (RustCrypto's `chacha20poly1305`). No
//!   provider crate enables it, so that programs that do not encrypt their
//!   store do not build the cipher; turn it on where you build an
//!   `EncryptedStore` (`oauth-all`'s `encryption` feature forwards it);
//! - `test-util` (off): test helpers (and tokio's `net` and `io-util`): the
//!   conformance suites every provider (`test_util::provider_conformance`)
//!   and every token store (`test_util::store_conformance`, with
//!   `lifecycle`) run, a loopback server that records exact request bytes
//!   (`test_util::recording`), a fake transport (`test_util::transport`) and
//!   API answers as the middleware sees them (`test_util::api_answers`).
//!   [`ManualClock`] is always available.
//!
//! With `reqwest` but neither `ring` nor `aws-lc-rs`, the HTTP client uses
//! the process-wide rustls crypto provider the application installed.
//!
//! Measured build cost (a cold `cargo build --release` of a minimal eBay
//! refresh program on `oauth-all`, registry already downloaded: `cargo
//! xtask bench-external build-cost`): with `ring` and the default features off, about 80 s
//! of CPU (42 s on two cores, the same as that program on oauth2 5.0) and a
//! 5.2 MB binary; `aws-lc-rs` instead adds 41 to 45 % of CPU and 2.2 MB;
//! `webpki-roots` adds no measurable time and 48 KB.
//!
//! # Rust version policy
//! The minimum supported Rust version is the workspace's `rust-version`; raising it
//! is a minor-version change.
#![cfg_attr(docsrs, feature(doc_cfg))]
#![forbid(unsafe_code)]
#![warn(missing_docs)]
#![deny(rustdoc::broken_intra_doc_links)]

mod attach;
mod authorize;
mod callback;
mod clock;
pub mod decode;
mod error;
mod grant;
mod id;
#[cfg(feature = "lifecycle")]
#[cfg_attr(docsrs, doc(cfg(feature = "lifecycle")))]
pub mod lifecycle;
pub mod provider;
pub mod redact;
mod secret;
mod state;
#[cfg(feature = "test-util")]
#[cfg_attr(docsrs, doc(cfg(feature = "test-util")))]
pub mod test_util;
mod token_set;
pub mod transport;

pub use attach::{AttachToken, AttachTokenExt, HeaderToken, sensitive_header_value};
pub use authorize::{authorize_url, encode_component};
pub use callback::{Callback, CallbackError, parse_callback};
pub use clock::{
    Clock, ManualClock, SharedClock, SystemClock, from_unix_millis, system_clock, to_rfc3339,
    to_unix_millis,
};
pub use error::{DecryptionFailure, Error, ProviderDetails, TransientCause};
pub use grant::{AuthorizationCodeGrant, DEFAULT_REFRESH_SKEW, RefreshGrant};
pub use id::{ClientId, Scope, Scopes};
#[cfg(feature = "encryption")]
#[cfg_attr(docsrs, doc(cfg(feature = "encryption")))]
pub use lifecycle::EncryptedStore;
#[cfg(feature = "lifecycle")]
#[cfg_attr(docsrs, doc(cfg(feature = "lifecycle")))]
pub use lifecycle::{
    AccountKey, FileStore, MemoryStore, TokenEvent, TokenEventKind, TokenHandle, TokenManager,
    TokenPool, TokenStore, list_all_accounts,
};
pub use provider::{
    AttachContext, Client, ClientBuilder, Endpoints, Environment, Grant, IntoTokenSet, Provider,
    RequestContext,
};
pub use secret::{
    AccessToken, AppSecret, AuthorizationCode, ClientKey, ClientSecret, IdToken, RefreshToken,
    Signature,
};
pub use state::CsrfState;
pub use token_set::{MAX_LIFETIME, RefreshStarted, TokenSet, TokenType, expiry_after};
pub use transport::{EndpointUrl, HttpClient, Params, RawResponse, RetryPolicy, TokenRequest};

/// Re-exported `http` crate (headers, requests) used in public signatures.
pub use ::http as http_types;
/// Re-exported so provider crates and users share one version.
pub use async_trait::async_trait;
/// Re-exported `url` crate used in public signatures.
pub use url;
/// Re-exported `zeroize` crate: `lifecycle::StoreKey::new` (feature
/// `encryption`) takes key bytes in a [`zeroize::Zeroizing`] box.
pub use zeroize;
