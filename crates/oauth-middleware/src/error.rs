//! What a call through the middleware or the layer can fail with, besides
//! the transport's own errors.

use oauth_core::ProviderDetails;

/// Why a call was not made or not retried.
///
/// Never contains a token or a URL: the provider's message and code are
/// scrubbed of the token that was sent, and requests are not described.
///
/// With reqwest-middleware it arrives as
/// `reqwest_middleware::Error::Middleware(anyhow::Error)`:
/// [`Error::from_middleware`] finds it. With the tower layer it is
/// [`ServiceError::Auth`](crate::ServiceError) (feature `tower`).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// No usable token: the token manager's error (e.g.
    /// [`oauth_core::Error::ReauthorizationRequired`]), the attachment's
    /// (a token that cannot be carried), or
    /// [`oauth_core::Error::RejectedAfterRefresh`]: the provider rejected the
    /// token again after the one refresh and retry (the grant may be
    /// revoked; not retried again).
    #[error(transparent)]
    OAuth(oauth_core::Error),
    /// The middleware serves a [`TokenPool`](oauth_core::TokenPool) and the
    /// request carried no [`Account`](crate::Account) extension: nothing was
    /// sent (the middleware never guesses an account).
    #[error(
        "the request names no account: add an `oauth_middleware::Account` to its extensions (a token pool serves many accounts)"
    )]
    MissingAccount,
    /// The provider rejected the access token, and the request cannot be
    /// sent again (its body is a stream, which cannot be cloned): the token
    /// was invalidated (the next call gets a fresh one) but the call was not
    /// retried. Send a body held in memory to have it retried.
    #[error(
        "access token rejected, and the request cannot be replayed (its body is a stream): not retried; the next call uses a fresh token ({details})"
    )]
    NotReplayable {
        /// What the provider said when it rejected the token.
        details: ProviderDetails,
    },
}

impl Error {
    /// The token error inside, if this is one.
    pub fn oauth(&self) -> Option<&oauth_core::Error> {
        match self {
            Self::OAuth(e) => Some(e),
            _ => None,
        }
    }

    /// The middleware's error inside a reqwest-middleware error, if it is
    /// one (`reqwest_middleware::Error::Middleware` holding an [`Error`];
    /// the same as `anyhow::Error::downcast_ref::<Error>()`).
    #[cfg(feature = "reqwest")]
    #[cfg_attr(docsrs, doc(cfg(feature = "reqwest")))]
    pub fn from_middleware(error: &reqwest_middleware::Error) -> Option<&Self> {
        match error {
            reqwest_middleware::Error::Middleware(e) => e.downcast_ref::<Self>(),
            reqwest_middleware::Error::Reqwest(_) => None,
        }
    }
}

impl From<oauth_core::Error> for Error {
    fn from(error: oauth_core::Error) -> Self {
        Self::OAuth(error)
    }
}
