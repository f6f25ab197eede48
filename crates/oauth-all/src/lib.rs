//! One dependency for every commerce OAuth provider of the toolkit, each
//! behind its own feature so that a build compiles only what it uses.
//!
//! ```toml
//! [dependencies]
//! oauth-all = { version = "0.1", features = ["ebay"] }
//! ```
//!
//! The shared types (errors, token sets, the token lifecycle) are always
//! available as [`core`].
//!
//! # Crate feature flags
//! No provider is enabled by default.
//!
//! | feature | what it adds | what it costs |
//! |---|---|---|
//! | `orangeconnex` | [`orangeconnex`]: OrangeConnex 3PP authorization code, refresh, `Access-Token` header | the `oauth-orangeconnex` crate only |
//! | `aliexpress` | [`aliexpress`]: AliExpress IOP signed token create/refresh and request signer | `oauth-aliexpress` plus `hmac` and `sha2` |
//! | `ebay` | [`ebay`]: eBay user consent, code exchange, refresh, application tokens | the `oauth-ebay` crate only |
//! | `eshopbox` | [`eshopbox`]: Eshopbox custom-app refresh grant | the `oauth-eshopbox` crate only |
//! | `full` | all of the above | all of the above |
//!
//! Every provider crate depends on `oauth-core`, which brings reqwest (rustls),
//! tokio, serde and secrecy; enabling more providers adds only their own code.
#![cfg_attr(docsrs, feature(doc_cfg))]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub use oauth_core as core;

#[cfg(feature = "orangeconnex")]
#[cfg_attr(docsrs, doc(cfg(feature = "orangeconnex")))]
pub use oauth_orangeconnex as orangeconnex;

#[cfg(feature = "aliexpress")]
#[cfg_attr(docsrs, doc(cfg(feature = "aliexpress")))]
pub use oauth_aliexpress as aliexpress;

#[cfg(feature = "ebay")]
#[cfg_attr(docsrs, doc(cfg(feature = "ebay")))]
pub use oauth_ebay as ebay;

#[cfg(feature = "eshopbox")]
#[cfg_attr(docsrs, doc(cfg(feature = "eshopbox")))]
pub use oauth_eshopbox as eshopbox;
