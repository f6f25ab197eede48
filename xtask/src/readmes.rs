//! The README of every published crate, compiled (and, unless marked
//! `no_run`, run) as doc tests: `cargo test --doc -p xtask`, part of
//! `cargo xtask ci`.
//!
//! A README is what crates.io shows, so its Rust blocks must read as plain
//! Rust: no hidden `# ` lines, no `ignore`. Including the file itself, rather
//! than keeping a copy of its example in the crate's sources, means the text
//! readers see is the text the compiler checks: the two cannot drift.
//!
//! The READMEs are compiled here, in a crate that is never published, so
//! that no published crate refers to files outside its package. A crate may
//! instead include its own README (as `oauth-all` does, in a
//! `#[cfg(doctest)]` item of its `lib.rs`); `cargo xtask tidy` checks that
//! every README with a Rust block is included in one of the two places.

/// `crates/oauth-core/README.md`
#[cfg(doctest)]
#[doc = include_str!("../../crates/oauth-core/README.md")]
pub struct OauthCore;

/// `crates/oauth-sandbox/README.md`
#[cfg(doctest)]
#[doc = include_str!("../../crates/oauth-sandbox/README.md")]
pub struct OauthSandbox;

/// `crates/oauth-store-postgres/README.md`
#[cfg(doctest)]
#[doc = include_str!("../../crates/oauth-store-postgres/README.md")]
pub struct OauthStorePostgres;

/// `crates/oauth-store-redis/README.md`
#[cfg(doctest)]
#[doc = include_str!("../../crates/oauth-store-redis/README.md")]
pub struct OauthStoreRedis;
