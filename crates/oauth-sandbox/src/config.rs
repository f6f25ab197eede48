//! Lifetimes and behaviour knobs fixed when the sandbox starts.

use std::time::{Duration, Instant};

use crate::provider::{COUNT, Provider};

/// How long the things a provider issues stay valid.
///
/// On the wire, lifetimes are whole seconds (`expires_in`); internally the sandbox
/// expires tokens at the exact duration, so sub-second lifetimes work for tests but
/// show as `0` in responses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Lifetimes {
    /// Access token lifetime.
    pub access_token: Duration,
    /// Refresh token lifetime (Eshopbox's pre-seeded refresh tokens never expire).
    pub refresh_token: Duration,
    /// Authorization code lifetime.
    pub authorization_code: Duration,
}

impl Lifetimes {
    /// Lifetimes with the given values.
    pub fn new(
        access_token: Duration,
        refresh_token: Duration,
        authorization_code: Duration,
    ) -> Self {
        Self {
            access_token,
            refresh_token,
            authorization_code,
        }
    }

    /// The real provider's documented lifetimes, the defaults:
    /// - eBay: access 7200 s, refresh 47 304 000 s (18 months), code 299 s;
    /// - AliExpress: access 2 592 000 s (30 days), refresh 5 184 000 s (60 days), code 300 s;
    /// - OrangeConnex: access 3600 s, refresh 31 536 000 s (1 year), code 300 s;
    /// - Eshopbox: access 86 400 s (refresh token never expires; no code).
    pub fn provider_default(provider: Provider) -> Self {
        provider.emulator().default_lifetimes()
    }
}

/// Status codes OrangeConnex errors are answered with (its documentation leaves the
/// statuses open).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum OrangeConnexErrorStatus {
    /// 400 for `invalid_request` / `invalid_grant` / `unsupported_grant_type`, 401 for
    /// `invalid_client` (the Spring Security OAuth2 convention). The default.
    #[default]
    Conventional,
    /// HTTP 200 for every error, with `error` in the body.
    AlwaysOk,
}

/// Immutable configuration of a running sandbox.
#[derive(Debug, Clone)]
pub(crate) struct Config {
    /// Per provider (by index).
    pub(crate) lifetimes: [Lifetimes; COUNT],
    pub(crate) timestamp_tolerance: Option<Duration>,
    /// Per provider (by index): whether a refresh returns a new refresh token and
    /// spends the old one.
    pub(crate) rotates: [bool; COUNT],
    /// Per provider (by index): whether refresh tokens expire. Off only for a provider
    /// whose refresh tokens never expire by default (Eshopbox), until a refresh token
    /// lifetime is set explicitly.
    pub(crate) refresh_expires: [bool; COUNT],
    pub(crate) orangeconnex_error_status: OrangeConnexErrorStatus,
    pub(crate) eshopbox_rate_limit: Option<(u32, Duration)>,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            lifetimes: Provider::ALL.map(Lifetimes::provider_default),
            timestamp_tolerance: Some(Duration::from_secs(600)),
            rotates: Provider::ALL.map(|provider| provider.emulator().rotates_by_default()),
            refresh_expires: Provider::ALL
                .map(|provider| provider.emulator().refresh_tokens_expire_by_default()),
            orangeconnex_error_status: OrangeConnexErrorStatus::Conventional,
            eshopbox_rate_limit: None,
        }
    }
}

impl Config {
    pub(crate) fn rotates(&self, provider: Provider) -> bool {
        self.rotates.get(provider.index()).copied().unwrap_or(false)
    }

    /// Whether the provider's refresh tokens expire.
    pub(crate) fn refresh_tokens_expire(&self, provider: Provider) -> bool {
        self.refresh_expires
            .get(provider.index())
            .copied()
            .unwrap_or(true)
    }

    /// When a refresh token of the provider issued at `now` expires (`None`: never).
    pub(crate) fn refresh_expiry(&self, provider: Provider, now: Instant) -> Option<Instant> {
        self.refresh_tokens_expire(provider)
            .then(|| now + self.lifetimes(provider).refresh_token)
    }

    pub(crate) fn lifetimes(&self, provider: Provider) -> Lifetimes {
        self.lifetimes
            .get(provider.index())
            .copied()
            .unwrap_or_else(|| Lifetimes::provider_default(provider))
    }
}
