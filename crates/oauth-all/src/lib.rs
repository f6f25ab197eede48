//! One dependency for every commerce OAuth provider of the toolkit, each
//! behind its own feature so that a build compiles only what it uses.
//!
//! ```toml
//! [dependencies]
//! oauth-all = { version = "0.2", features = ["ebay"] }
//! ```
//!
//! The shared types (secrets, token sets, errors, callback parsing) are
//! always available as [`core`], whatever the features, and
//! the token lifecycle (`core::TokenManager`, `core::TokenPool`, the token
//! stores) with the `lifecycle` feature, on by default:
//!
//! ```
//! use oauth_all::core::{CsrfState, parse_callback};
//!
//! // Before sending the seller to any provider's consent page: a fresh state,
//! // kept in their session. When they come back, check the URL they landed on.
//! let state = CsrfState::generate()?;
//! let landed = format!("https://app.example/callback?state={}&code=abc", state.as_str());
//! let callback = parse_callback(&landed, &state)?;
//! assert_eq!(callback.code.expose_secret(), "abc");
//! # Ok::<(), oauth_all::core::Error>(())
//! ```
//!
//! Each provider module is the provider's crate, re-exported whole; its front
//! page walks through the provider's whole flow with a compiled example.
//!
//! # Crate feature flags
//! No provider is enabled by default.
//!
//! | feature | what it adds | what it costs |
//! |---|---|---|
//! | `orangeconnex` | [`orangeconnex`]: OrangeConnex 3PP authorization code, refresh, `Access-Token` header | the `oauth-orangeconnex` crate only |
//! | `aliexpress` | [`aliexpress`]: AliExpress IOP signed token create/refresh and request signer | `oauth-aliexpress` plus `hmac` and `hex` |
//! | `ebay` | [`ebay`]: eBay user consent, code exchange, refresh, application tokens | the `oauth-ebay` crate only |
//! | `eshopbox` | [`eshopbox`]: Eshopbox custom-app refresh grant | the `oauth-eshopbox` crate only |
//! | `full` | all of the above | all of the above |
//!
//! Every provider crate depends on `oauth-core`, which brings reqwest (rustls),
//! tokio, serde and secrecy (about 125 crates with none of the provider
//! features); enabling more providers adds only their own code.
//!
//! The TLS crypto, for every provider at once (`oauth-core`'s features):
//!
//! | feature | what it does | what it costs |
//! |---|---|---|
//! | `ring` (default) | TLS crypto with ring | the baseline: pure Rust and assembly, no C build script; a cold release build of a minimal eBay refresh program on `oauth-all` (default features off) takes about 80 s of CPU (42 s on two cores), the same as that program on oauth2 5.0; binary 5.2 MB |
//! | `aws-lc-rs` | TLS crypto with aws-lc-rs (FIPS-capable builds); wins over `ring` when both are on | aws-lc-sys's C build (CMake): +33 to +36 s of CPU (+41 to 45 %) on that build, binary +2.2 MB |
//! | `webpki-roots` | Mozilla's root certificates, bundled, instead of the platform's verifier and trust store | one data-only crate: no measurable build time, binary +48 KB |
//!
//! `reqwest` (on with any of the above) is the built-in HTTP transport
//! (reqwest over rustls). With `reqwest` but neither `ring` nor `aws-lc-rs`,
//! the HTTP client uses the process-wide rustls crypto provider the
//! application installed, and fails to build without one; without
//! `reqwest`, reqwest and rustls are not built and the application passes
//! its own `core::transport::Transport` to `HttpClient::builder()`.
//!
//! The token lifecycle and its storage (`oauth-core`'s features):
//!
//! | feature | what it adds | what it costs |
//! |---|---|---|
//! | `lifecycle` (default) | `core::lifecycle`: `TokenManager` (one account: cached token, single-flight refresh, leases), `TokenPool` (many accounts, background refresh), `MemoryStore`, `FileStore` and the `TokenStore` trait the shared stores implement | oauth-core's largest part and four small crates (`arc-swap`, `papaya`, `foldhash`, `rustix`): 8 to 12 s of CPU (+9 to 14 %) and 70 KB of binary on a cold release build of a minimal eBay program; a program that only calls a provider's `Client` (a refresh job, a command-line tool) turns the default features off to leave it out |
//! | `encryption` | `core::lifecycle::EncryptedStore`: tokens encrypted at rest (XChaCha20-Poly1305), key rotation, `rekey` | RustCrypto's `chacha20poly1305` and the twelve small crates only it needs: about 2 s of CPU on a cold release build |
//!
//! Build costs measured with `cargo xtask bench-external build-cost` (the
//! repository's `bench/build-cost/`), cold `cargo build --release`, registry
//! already downloaded.
//!
//! # Rust version policy
//! The minimum supported Rust version is 1.89 (the workspace's
//! `rust-version`); raising it is a minor-version change.
//!
// The provider links above resolve to this crate's modules when their
// feature is on (as on docs.rs, which builds with every feature). With a
// feature off the module does not exist, and an intra-doc link to it would
// be broken: the link then points at the provider crate's own documentation.
#![cfg_attr(
    feature = "orangeconnex",
    doc = "[`orangeconnex`]: crate::orangeconnex"
)]
#![cfg_attr(
    not(feature = "orangeconnex"),
    doc = "[`orangeconnex`]: https://docs.rs/oauth-orangeconnex"
)]
#![cfg_attr(feature = "aliexpress", doc = "[`aliexpress`]: crate::aliexpress")]
#![cfg_attr(
    not(feature = "aliexpress"),
    doc = "[`aliexpress`]: https://docs.rs/oauth-aliexpress"
)]
#![cfg_attr(feature = "ebay", doc = "[`ebay`]: crate::ebay")]
#![cfg_attr(not(feature = "ebay"), doc = "[`ebay`]: https://docs.rs/oauth-ebay")]
#![cfg_attr(feature = "eshopbox", doc = "[`eshopbox`]: crate::eshopbox")]
#![cfg_attr(
    not(feature = "eshopbox"),
    doc = "[`eshopbox`]: https://docs.rs/oauth-eshopbox"
)]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![forbid(unsafe_code)]
#![warn(missing_docs)]
#![deny(rustdoc::broken_intra_doc_links)]

use oauth_core::provider::registry::ProviderEntry;

/// `oauth-core`: the shared types, errors and token lifecycle.
///
#[doc(inline)]
pub use oauth_core as core;

/// `oauth-orangeconnex`: OrangeConnex (eBay fulfilment) 3PP OAuth.
///
#[cfg(feature = "orangeconnex")]
#[cfg_attr(docsrs, doc(cfg(feature = "orangeconnex")))]
#[doc(inline)]
pub use oauth_orangeconnex as orangeconnex;

/// `oauth-aliexpress`: AliExpress IOP OAuth and request signing.
///
#[cfg(feature = "aliexpress")]
#[cfg_attr(docsrs, doc(cfg(feature = "aliexpress")))]
#[doc(inline)]
pub use oauth_aliexpress as aliexpress;

/// `oauth-ebay`: eBay Identity OAuth2 (user and application tokens).
///
#[cfg(feature = "ebay")]
#[cfg_attr(docsrs, doc(cfg(feature = "ebay")))]
#[doc(inline)]
pub use oauth_ebay as ebay;

/// `oauth-eshopbox`: Eshopbox custom-app refresh grant.
///
#[cfg(feature = "eshopbox")]
#[cfg_attr(docsrs, doc(cfg(feature = "eshopbox")))]
#[doc(inline)]
pub use oauth_eshopbox as eshopbox;

/// The enabled providers, one entry each: what tools (the `oauth`
/// command, fuzzers, test harnesses) iterate over to handle every provider
/// the same way. An entry names the provider, lists the settings it reads
/// and builds its client from their values as an
/// [`AnyClient`](core::provider::registry::AnyClient) (see
/// [`core::provider::registry`]). A new provider is one more line here.
///
/// ```
/// use oauth_all::PROVIDERS;
/// use oauth_all::core::provider::registry::ClientOptions;
///
/// for entry in PROVIDERS {
///     let client = entry.build(&entry.example_values(), ClientOptions::default())?;
///     assert_eq!(client.provider(), entry.name);
/// }
/// # Ok::<(), oauth_all::core::Error>(())
/// ```
pub const PROVIDERS: &[ProviderEntry] = &[
    #[cfg(feature = "orangeconnex")]
    ProviderEntry::of::<oauth_orangeconnex::OrangeConnex>(),
    #[cfg(feature = "aliexpress")]
    ProviderEntry::of::<oauth_aliexpress::AliExpress>(),
    #[cfg(feature = "ebay")]
    ProviderEntry::of::<oauth_ebay::Ebay>(),
    #[cfg(feature = "eshopbox")]
    ProviderEntry::of::<oauth_eshopbox::Eshopbox>(),
];

/// This crate's README, compiled as a doc test so that the example crates.io
/// shows cannot drift from the API (it uses the `ebay` and `lifecycle`
/// features).
#[cfg(all(doctest, feature = "ebay", feature = "lifecycle"))]
#[doc = include_str!("../README.md")]
struct ReadmeDoctest;
