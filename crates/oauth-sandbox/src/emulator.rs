//! What the sandbox needs to know about one emulated provider: the [`Emulator`] trait.
//!
//! Each provider implements it in its own module (`ebay.rs`, `aliexpress.rs`, ...); the
//! list in [`provider`](crate::provider) is the only place that names them all. The
//! rest of the sandbox (configuration, router, admin API, counters, faults) asks the
//! provider's emulator instead of matching on [`Provider`](crate::Provider).

use std::sync::Arc;

use axum::Router;

use crate::config::{Config, Lifetimes};
use crate::counters::{Counters, ProviderCounters};
use crate::credentials::Credentials;
use crate::state::{Shared, State};

/// The tokens an [`Emulator::seed`] issued: a live access token and refresh token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SeededGrant {
    pub(crate) access_token: String,
    pub(crate) refresh_token: String,
}

/// One emulated provider. Object safe: the sandbox holds them as `&'static dyn
/// Emulator` in [`EMULATORS`](crate::provider::EMULATORS).
pub(crate) trait Emulator: Send + Sync {
    /// The path segment under the sandbox's base URL (`ebay`, ...): the prefix of the
    /// provider's routes, of its callback `/callback/<segment>`, and its name in the
    /// admin API and on the binary's command line.
    fn path_segment(&self) -> &'static str;

    /// The provider's name for people (`eBay`, ...): `Provider`'s `Display`.
    fn title(&self) -> &'static str;

    /// The real provider's documented lifetimes
    /// ([`Lifetimes::provider_default`]).
    fn default_lifetimes(&self) -> Lifetimes;

    /// Whether refresh grants rotate the refresh token unless the builder says
    /// otherwise (what the real provider does).
    fn rotates_by_default(&self) -> bool;

    /// Whether refresh tokens expire unless a refresh token lifetime is set explicitly
    /// (`false`: they never expire by default, as Eshopbox's).
    fn refresh_tokens_expire_by_default(&self) -> bool {
        true
    }

    /// The provider's endpoints, with paths relative to its base: the sandbox mounts
    /// them under `/<path_segment>`.
    fn routes(&self) -> Router<Arc<Shared>>;

    /// Issues a grant (refresh token) and an access token to `account`, as a consent
    /// and code exchange would, without counting a token request (the admin API's
    /// `POST /admin/accounts`, `Sandbox::seed_account`).
    fn seed(&self, shared: &Shared, state: &mut State, account: &str) -> SeededGrant;

    /// Fills the state of a sandbox that is starting (pre-seeded tokens, ...). By
    /// default nothing.
    fn prepare(&self, _config: &Config, _credentials: &Credentials, _state: &mut State) {}

    /// The body of a `429 Too Many Requests` from the provider's token endpoint (an
    /// injected [`Fault::RateLimit`](crate::Fault::RateLimit), ...). By default
    /// `{"error": "too_many_requests", "error_description": ...}`.
    fn rate_limit_body(&self) -> serde_json::Value {
        serde_json::json!({
            "error": "too_many_requests",
            "error_description": "Rate limit exceeded, retry later",
        })
    }

    /// The provider's part of [`Counters`].
    fn counters<'c>(&self, counters: &'c Counters) -> &'c ProviderCounters;

    /// The provider's part of [`Counters`], to update.
    fn counters_mut<'c>(&self, counters: &'c mut Counters) -> &'c mut ProviderCounters;
}
