//! [`TokenHandle`]: what `access_token()` returns.

use crate::secret::AccessToken;
use crate::token_set::{TokenSet, TokenType};
use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

/// The state a manager publishes: a token set and its store version.
#[derive(Debug)]
pub(crate) struct Published {
    pub(crate) tokens: TokenSet,
    /// The store version (0: not saved). Atomic so that re-saving the same
    /// set (the write check before a rotating refresh) keeps the handle.
    version: AtomicU64,
    /// Half the access token's lifetime, in milliseconds (at most
    /// `u32::MAX`, 49 days): the largest refresh margin that may apply to
    /// it, so that a skew larger than the token's lifetime cannot make
    /// every call refresh. The lifetime counts from the set's `issued_at`,
    /// or else from when this process first saw it.
    max_margin_ms: u32,
    /// Set by a pool once its refresh queue holds an entry for this token.
    pub(crate) queued: AtomicBool,
}

impl Published {
    /// `tokens` at store version `version`, first seen at `seen_at`.
    pub(crate) fn new(tokens: TokenSet, version: Option<u64>, seen_at: SystemTime) -> Self {
        let lifetime = tokens
            .expires_at
            .duration_since(tokens.issued_at.unwrap_or(seen_at))
            .unwrap_or_default();
        Self {
            tokens,
            version: AtomicU64::new(version.unwrap_or(0)),
            max_margin_ms: u32::try_from(lifetime.as_millis() / 2).unwrap_or(u32::MAX),
            queued: AtomicBool::new(false),
        }
    }

    /// A replacement for `self` with other tokens, keeping the margin bound
    /// (used when marking a token expired).
    pub(crate) fn replaced(&self, tokens: TokenSet) -> Self {
        Self {
            tokens,
            version: AtomicU64::new(self.version.load(Ordering::Acquire)),
            max_margin_ms: self.max_margin_ms,
            queued: AtomicBool::new(false),
        }
    }

    /// Whether the access token is due for refresh at `now` with margin
    /// `within`, bounded by half the token's lifetime.
    pub(crate) fn due(&self, now: SystemTime, within: Duration) -> bool {
        let bound = Duration::from_millis(u64::from(self.max_margin_ms));
        self.tokens.expires_within(now, within.min(bound))
    }

    pub(crate) fn version(&self) -> Option<u64> {
        match self.version.load(Ordering::Acquire) {
            0 => None,
            v => Some(v),
        }
    }

    pub(crate) fn set_version(&self, version: u64) {
        self.version.store(version, Ordering::Release);
    }
}

/// A cheap, shareable reference to the current access token (cloning it is
/// one atomic increment). It stays valid to read after the manager moves on
/// to newer tokens. `Debug` is redacted.
#[derive(Clone)]
pub struct TokenHandle(pub(crate) Arc<Published>);

impl TokenHandle {
    /// The access token.
    pub fn access_token(&self) -> &AccessToken {
        &self.0.tokens.access_token
    }

    /// The token value, for the request that needs it.
    pub fn expose_secret(&self) -> &str {
        self.0.tokens.access_token.expose_secret()
    }

    /// The token type.
    pub fn token_type(&self) -> &TokenType {
        &self.0.tokens.token_type
    }

    /// When the access token expires.
    pub fn expires_at(&self) -> SystemTime {
        self.0.tokens.expires_at
    }

    /// The whole token set (refresh token included: handle with care).
    pub fn token_set(&self) -> &TokenSet {
        &self.0.tokens
    }

    /// Whether two handles refer to the same published token set.
    pub fn same_as(&self, other: &TokenHandle) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl fmt::Debug for TokenHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenHandle")
            .field("access_token", &self.0.tokens.access_token)
            .field(
                "expires_at_unix_ms",
                &crate::clock::to_unix_millis(self.0.tokens.expires_at),
            )
            .finish()
    }
}
