//! OAuth client for AliExpress (IOP open platform) (skeleton: filled by its provider issue).
//!
//! # Crate feature flags
//! None.
#![cfg_attr(docsrs, feature(doc_cfg))]
#![warn(missing_docs)]

/// The provider's name, as used in errors and tracing.
pub const PROVIDER: &str = "aliexpress";
