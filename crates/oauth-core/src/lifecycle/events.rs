//! Events a token manager publishes when an account's tokens change.

use super::store::AccountKey;
use std::time::SystemTime;

/// What happened to an account's tokens. Carries no secret.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TokenEventKind {
    /// New tokens were obtained from the provider and saved.
    Refreshed {
        /// When the new access token expires.
        expires_at: SystemTime,
        /// Whether the refresh token changed (rotation).
        refresh_token_rotated: bool,
    },
    /// A newer set written by another manager or process was taken from
    /// the store instead of refreshing.
    Adopted {
        /// When the adopted access token expires.
        expires_at: SystemTime,
    },
    /// Tokens were installed by the application (after consent).
    Installed {
        /// When the installed access token expires.
        expires_at: SystemTime,
    },
    /// A refresh failed with an error that may pass (network, 5xx, rate
    /// limit...): the manager serves the still-valid token if there is one
    /// and tries again after a backoff.
    RefreshFailed {
        /// The error's class ([`Error::class`](crate::Error::class)).
        error: &'static str,
        /// When the next refresh attempt may be made.
        retry_at: SystemTime,
    },
    /// New tokens could not be saved: they are kept in memory and the save
    /// is retried on the next call. Nothing is handed out until it succeeds.
    SaveFailed,
    /// The provider requires the user to authorize again; the manager makes
    /// no more requests for this account until tokens are installed.
    ReauthorizationRequired,
    /// The provider refused a rotating refresh token after an earlier
    /// refresh of that same token was interrupted before its result was
    /// saved (see [`Error::RefreshInterrupted`](crate::Error::RefreshInterrupted)):
    /// the token was probably rotated and the new one lost. Followed by
    /// [`ReauthorizationRequired`](Self::ReauthorizationRequired).
    RefreshInterrupted,
}

/// An event about one account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenEvent {
    /// Which account.
    pub account: AccountKey,
    /// What happened.
    pub kind: TokenEventKind,
}
