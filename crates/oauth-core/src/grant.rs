//! The grant traits every provider crate implements.

use crate::error::Error;
use crate::secret::AuthorizationCode;
use crate::state::CsrfState;
use crate::token_set::TokenSet;
use async_trait::async_trait;
use std::fmt;
use std::time::Duration;
use url::Url;

/// The default margin before expiry at which a token is refreshed.
pub const DEFAULT_REFRESH_SKEW: Duration = Duration::from_secs(60);

/// Turns the current token set into a fresh one: the refresh-token grant, or
/// for grants without refresh tokens (eBay application tokens, client
/// credentials) a new token fetched the same way as the first.
///
/// This is what the token lifecycle (`TokenManager`) drives; every provider
/// implements it.
#[async_trait]
pub trait RefreshGrant: Send + Sync + fmt::Debug {
    /// The provider's name, for logs and errors (e.g. `"ebay"`).
    fn provider(&self) -> &'static str;

    /// Obtains a new token set. Implementations complete the answer with
    /// what the provider did not resend (see [`TokenSet::merge_previous`]):
    /// the returned set is ready to store.
    ///
    /// # Errors
    /// [`Error::ReauthorizationRequired`] when the refresh token is no
    /// longer valid, or any other classified failure.
    async fn refresh(&self, current: &TokenSet) -> Result<TokenSet, Error>;

    /// Whether a successful refresh invalidates the old refresh token
    /// (AliExpress). The lifecycle then persists the new set before anyone
    /// uses it, and never repeats a refresh request blindly.
    fn rotates_refresh_token(&self) -> bool;

    /// How long before expiry to refresh, by default, for this provider.
    fn default_refresh_skew(&self) -> Duration {
        DEFAULT_REFRESH_SKEW
    }

    /// The longest one [`refresh`](Self::refresh) (or
    /// [`fetch_initial`](Self::fetch_initial)) can take, retries included,
    /// when the grant knows it (an HTTP client's
    /// [`max_send_duration`](crate::transport::HttpClient::max_send_duration)).
    /// A token manager's refresh lease must outlast it, so that a lease
    /// never lapses while its holder still waits for the provider. The
    /// default, `None`, means unknown.
    fn max_refresh_duration(&self) -> Option<Duration> {
        None
    }

    /// The clock that stamped the sets this grant returns (when their
    /// `expires_in` counted from). A token manager compares expiries with
    /// the same clock, so that there is one clock per grant. The default is
    /// the system clock.
    fn clock(&self) -> crate::clock::SharedClock {
        crate::clock::system_clock()
    }

    /// Obtains a first token set when no tokens are stored yet, for grants
    /// that can do so without user consent (eBay application tokens,
    /// Eshopbox custom apps with a configured refresh token). The default,
    /// `None`, means the user must authorize first (install a token set).
    async fn fetch_initial(&self) -> Option<Result<TokenSet, Error>> {
        None
    }
}

/// The authorization-code grant: the URL to send the user to, and the
/// exchange of the code that comes back.
#[async_trait]
pub trait AuthorizationCodeGrant: Send + Sync + fmt::Debug {
    /// The URL to send the user to, carrying `state`.
    ///
    /// # Errors
    /// [`Error::Configuration`] when the settings do not allow a consent
    /// step.
    fn authorize_url(&self, state: &CsrfState) -> Result<Url, Error>;

    /// Exchanges the code from the callback for a token set.
    ///
    /// # Errors
    /// [`Error::ReauthorizationRequired`] for an invalid, expired or used
    /// code; any other classified failure.
    async fn exchange_code(&self, code: &AuthorizationCode) -> Result<TokenSet, Error>;
}
