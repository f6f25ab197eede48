//! Test helpers for provider crates, store implementations and downstream
//! users (feature `test-util`).

pub mod api_answers;
pub mod provider_conformance;
pub mod recording;
#[cfg(feature = "lifecycle")]
#[cfg_attr(docsrs, doc(cfg(feature = "lifecycle")))]
pub mod store_conformance;
pub mod transport;
