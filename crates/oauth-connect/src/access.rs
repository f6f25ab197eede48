//! The host application's hooks: who may do what, and what to do when an
//! account is connected.

use async_trait::async_trait;
use std::fmt;
use std::time::SystemTime;

/// What a request wants to do, as shown to the [`Authorize`] hook.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Action<'a> {
    /// Start a connect (`GET …/connect/{provider}?account=…`): the tokens
    /// obtained will be bound to `account`.
    Connect {
        /// The provider.
        provider: &'a str,
        /// The account.
        account: &'a str,
    },
    /// See the status page or its JSON (`GET …/status`, `…/status.json`).
    Status,
}

/// Decides whether a request may do an [`Action`]: the host application
/// checks its own session (a cookie, a header set by its authentication
/// layer, the request's extensions...). A refused request gets `403
/// Forbidden` and nothing else happens.
///
/// Any `Fn(&http::request::Parts, &Action<'_>) -> bool` closure is one
/// (wrap it with [`authorize_fn`]); implement the trait for an
/// asynchronous check.
#[async_trait]
pub trait Authorize: Send + Sync + fmt::Debug {
    /// Whether `request` may do `action`.
    async fn allow(&self, request: &http::request::Parts, action: &Action<'_>) -> bool;
}

/// An [`Authorize`] hook from a closure.
pub fn authorize_fn<F>(f: F) -> AuthorizeFn<F>
where
    F: Fn(&http::request::Parts, &Action<'_>) -> bool + Send + Sync + 'static,
{
    AuthorizeFn(f)
}

/// The [`Authorize`] hook made by [`authorize_fn`].
pub struct AuthorizeFn<F>(F);

impl<F> fmt::Debug for AuthorizeFn<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AuthorizeFn")
    }
}

#[async_trait]
impl<F> Authorize for AuthorizeFn<F>
where
    F: Fn(&http::request::Parts, &Action<'_>) -> bool + Send + Sync + 'static,
{
    async fn allow(&self, request: &http::request::Parts, action: &Action<'_>) -> bool {
        (self.0)(request, action)
    }
}

/// An account that was just connected: given to the
/// [`on_connected`](crate::ConnectBuilder::on_connected) hook. Carries no
/// token.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Connected {
    /// The provider.
    pub provider: String,
    /// The account.
    pub account: String,
    /// When the installed access token expires.
    pub access_token_expires_at: SystemTime,
    /// When the installed refresh token expires, if the provider says.
    pub refresh_token_expires_at: Option<SystemTime>,
}
