//! Raw wire tests of the sandbox over loopback, one module per provider.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    missing_docs
)]

mod accounts;
mod aliexpress;
mod api;
mod binary;
mod common;
mod consent;
mod consent_pages;
mod ebay;
mod eshopbox;
mod faults;
mod orangeconnex;
mod raw;
