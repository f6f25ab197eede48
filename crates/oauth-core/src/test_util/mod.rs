//! Test helpers for provider crates, store implementations and downstream
//! users (feature `test-util`).

pub mod provider_conformance;
pub mod recording;
pub mod store_conformance;
pub mod transport;
