//! The error type shared by every provider crate.

use crate::callback::CallbackError;
use crate::id::Scopes;
use crate::redact;
use std::fmt;
use std::time::Duration;

/// What the provider said about a failure: its HTTP status, its own error
/// code, a message and a request id, whichever it sent.
///
/// The message is sanitized on the way in (anything token-like masked, at most
/// 200 characters), so a `ProviderDetails` is always safe to show or log.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct ProviderDetails(Box<DetailsInner>);

/// Boxed so that [`Error`] stays small (results stay cheap to move).
#[derive(Clone, Default, PartialEq, Eq)]
struct DetailsInner {
    provider: &'static str,
    status: Option<u16>,
    code: Option<String>,
    message: Option<String>,
    request_id: Option<String>,
}

impl ProviderDetails {
    /// Details for `provider` (e.g. `"ebay"`), with nothing else known yet.
    pub fn new(provider: &'static str) -> Self {
        Self(Box::new(DetailsInner {
            provider,
            ..DetailsInner::default()
        }))
    }

    /// Sets the HTTP status.
    pub fn with_status(mut self, status: u16) -> Self {
        self.0.status = Some(status);
        self
    }

    /// Sets the provider's error code (`invalid_grant`, `IllegalRefreshToken`).
    pub fn with_code(mut self, code: impl AsRef<str>) -> Self {
        let code = code.as_ref().trim();
        if !code.is_empty() {
            self.0.code = Some(redact::sanitize(code, 64));
        }
        self
    }

    /// Sets the provider's message, sanitized.
    pub fn with_message(mut self, message: impl AsRef<str>) -> Self {
        let message = message.as_ref().trim();
        if !message.is_empty() {
            self.0.message = Some(redact::sanitize(message, 200));
        }
        self
    }

    /// Sets the provider's request id.
    pub fn with_request_id(mut self, request_id: impl AsRef<str>) -> Self {
        let id = request_id.as_ref().trim();
        if !id.is_empty() {
            self.0.request_id = Some(redact::sanitize_id(id));
        }
        self
    }

    /// The provider's name.
    pub fn provider(&self) -> &'static str {
        self.0.provider
    }

    /// The HTTP status, if a response arrived.
    pub fn status(&self) -> Option<u16> {
        self.0.status
    }

    /// The provider's own error code.
    pub fn code(&self) -> Option<&str> {
        self.0.code.as_deref()
    }

    /// The provider's message (sanitized).
    pub fn message(&self) -> Option<&str> {
        self.0.message.as_deref()
    }

    /// The provider's request id, for support tickets.
    pub fn request_id(&self) -> Option<&str> {
        self.0.request_id.as_deref()
    }
}

impl fmt::Debug for ProviderDetails {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProviderDetails")
            .field("provider", &self.0.provider)
            .field("status", &self.0.status)
            .field("code", &self.0.code)
            .field("message", &self.0.message)
            .field("request_id", &self.0.request_id)
            .finish()
    }
}

impl fmt::Display for ProviderDetails {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0.provider)?;
        if let Some(status) = self.0.status {
            write!(f, ", HTTP {status}")?;
        }
        if let Some(code) = &self.0.code {
            write!(f, ", code {code}")?;
        }
        if let Some(message) = &self.0.message {
            write!(f, ": {message}")?;
        }
        if let Some(id) = &self.0.request_id {
            write!(f, " (request id {id})")?;
        }
        Ok(())
    }
}

/// Why a request failed before a usable response arrived.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TransientCause {
    /// The connection could not be made: the request was never sent.
    Connect,
    /// No complete answer within the timeout.
    Timeout,
    /// The connection broke while sending or receiving.
    Interrupted,
    /// The server answered with a 5xx status.
    ServerError,
}

impl TransientCause {
    /// Whether the request certainly never reached the server.
    pub fn request_not_sent(self) -> bool {
        matches!(self, Self::Connect)
    }
}

impl fmt::Display for TransientCause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Connect => "connection failed",
            Self::Timeout => "timed out",
            Self::Interrupted => "connection interrupted",
            Self::ServerError => "server error",
        })
    }
}

/// Why stored tokens could not be decrypted ([`Error::Decryption`]).
///
/// None of these is retryable: the entry stays as it is until the right key
/// is configured, or the entry is deleted (or replaced by an install).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DecryptionFailure {
    /// The entry was encrypted with a key the store does not hold: add the
    /// old key (read-only) to the store's keyring.
    UnknownKey {
        /// The key id the entry names (an id, never key material).
        key_id: String,
    },
    /// The ciphertext does not authenticate: it was altered, copied from
    /// another account or provider, or encrypted with a different key
    /// under the same id.
    Authentication,
    /// The stored value is not an envelope this version can read (bad
    /// format, encoding or length).
    Malformed,
    /// The entry is stored in clear and the store refuses plaintext
    /// entries (`EncryptedStore::refuse_plaintext`).
    PlaintextRefused,
    /// The ciphertext authenticated but does not hold a token set (written
    /// by an incompatible version).
    InvalidContents,
}

impl fmt::Display for DecryptionFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::UnknownKey { key_id } => write!(
                f,
                "it was encrypted with key {key_id}, which is not configured (add it as an old key)"
            ),
            Self::Authentication => f.write_str(
                "the ciphertext does not authenticate: it was altered, moved from another account, or encrypted with another key under the same id",
            ),
            Self::Malformed => f.write_str("the stored value is not a readable encrypted entry"),
            Self::PlaintextRefused => {
                f.write_str("the entry is stored in clear and plaintext entries are refused")
            }
            Self::InvalidContents => {
                f.write_str("the decrypted entry is not a token set this version can read")
            }
        }
    }
}

/// Every failure of this workspace, classified by what the caller should do.
///
/// - [`requires_reauthorization`](Self::requires_reauthorization): send the
///   user through consent again;
/// - [`is_retryable`](Self::is_retryable): try again later (honouring
///   [`retry_after`](Self::retry_after));
/// - anything else: fix the configuration or report the provider's answer.
///
/// No variant ever holds a secret: messages and excerpts are sanitized, URLs
/// are never included.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The refresh token or authorization code is invalid, expired or
    /// revoked: the user must authorize the application again.
    #[error("re-authorization required ({details})")]
    ReauthorizationRequired {
        /// What the provider said.
        details: ProviderDetails,
    },
    /// The grant can never be refreshed (e.g. AliExpress apps with
    /// `refresh_expires_in == 0`): re-authorize when the access token expires.
    #[error("this grant cannot be refreshed ({details})")]
    RefreshNotSupported {
        /// Why, and from which provider.
        details: ProviderDetails,
    },
    /// The client credentials (client id, secret, app key, signature) were
    /// rejected.
    #[error("invalid client credentials ({details})")]
    InvalidClient {
        /// What the provider said.
        details: ProviderDetails,
    },
    /// Some requested scopes are not granted to this client or user.
    #[error("invalid scope {requested:?} ({details})")]
    InvalidScope {
        /// The scopes that were requested.
        requested: Scopes,
        /// What the provider said.
        details: ProviderDetails,
    },
    /// The provider rejected the access token on an API call: refresh it and
    /// retry once.
    #[error("access token rejected ({details})")]
    AccessTokenRejected {
        /// What the provider said.
        details: ProviderDetails,
    },
    /// The provider rejected an access token again right after a refresh
    /// (an API call was retried once with the new token): the grant may
    /// have been revoked, or the call needs a scope the grant lacks. Not
    /// retried again; if it persists, send the seller through consent.
    #[error(
        "access token rejected again after a refresh: the grant may have been revoked ({details})"
    )]
    RejectedAfterRefresh {
        /// What the provider said the second time.
        details: ProviderDetails,
    },
    /// Too many requests.
    #[error("rate limited{} ({details})", fmt_retry_after(*.retry_after))]
    RateLimited {
        /// How long the provider asked us to wait, when it said.
        retry_after: Option<Duration>,
        /// What the provider said.
        details: ProviderDetails,
    },
    /// A network failure, timeout or 5xx: worth retrying.
    #[error("transient failure: {cause}{} ({details})", fmt_retry_after(*.retry_after))]
    Transient {
        /// What went wrong.
        cause: TransientCause,
        /// How long the provider asked us to wait, when it said.
        retry_after: Option<Duration>,
        /// The provider, and the status and excerpt when a response arrived.
        details: ProviderDetails,
    },
    /// The response could not be understood: wrong content type, malformed
    /// JSON, missing fields, a redirect, a body over the size cap.
    #[error("unexpected response from {provider}: {reason}{}{}", fmt_status(*.status), fmt_excerpt(.excerpt))]
    UnexpectedResponse {
        /// The provider.
        provider: &'static str,
        /// HTTP status, when a response arrived.
        status: Option<u16>,
        /// The response's content type, if any.
        content_type: Option<String>,
        /// What was wrong.
        reason: String,
        /// A short, masked excerpt of the body.
        excerpt: String,
    },
    /// Any other error the provider reported.
    #[error("provider error ({details})")]
    Provider {
        /// What the provider said.
        details: ProviderDetails,
    },
    /// The caller's configuration or input is invalid (bad base URL, empty
    /// client id, scopes wider than granted, ...).
    #[error("invalid configuration: {message}")]
    Configuration {
        /// What is wrong.
        message: String,
    },
    /// The redirect back from the provider could not be accepted.
    #[error(transparent)]
    Callback(#[from] CallbackError),
    /// A token store failed.
    #[error("token store failed: {message}")]
    Store {
        /// What failed (never a token).
        message: String,
    },
    /// The token store is held by another writer (a file lock held by
    /// another process) and did not become free within the configured wait.
    /// Retryable: nothing was read or written.
    #[error("token store busy: {message}")]
    StoreBusy {
        /// Which store, and how long we waited (never a token).
        message: String,
    },
    /// A pool was asked for an account it does not hold: a typo or a missing
    /// `add`, not a revoked grant (nothing was sent to the provider).
    #[error("unknown account {account}: add it to the pool (or install tokens) first")]
    UnknownAccount {
        /// The account key, `provider/account`.
        account: String,
    },
    /// The provider refused the refresh token, and the store shows that an
    /// earlier refresh of that very token was started but its result never
    /// saved (the process was killed or lost the store mid-refresh): the
    /// provider has probably rotated the token, and the new one is lost. The
    /// seller must authorize again, as for
    /// [`ReauthorizationRequired`](Self::ReauthorizationRequired), but the
    /// cause is on our side, not a revocation.
    #[error(
        "a refresh was interrupted before its result was saved; the provider may have rotated the refresh token, so the stored one is no longer accepted: authorize again ({details})"
    )]
    RefreshInterrupted {
        /// What the provider answered to the next refresh.
        details: ProviderDetails,
    },
    /// Stored tokens could not be decrypted by an `EncryptedStore` (feature
    /// `encryption`): a missing key, a tampered or moved ciphertext. Nothing
    /// was changed in the store.
    #[error("cannot decrypt the stored tokens of {account}: {reason}")]
    Decryption {
        /// The account key, `provider/account`.
        account: String,
        /// Why.
        reason: DecryptionFailure,
    },
}

fn fmt_retry_after(retry_after: Option<Duration>) -> String {
    retry_after
        .map(|d| format!(", retry after {} s", d.as_secs()))
        .unwrap_or_default()
}

fn fmt_status(status: Option<u16>) -> String {
    status.map(|s| format!(" (HTTP {s})")).unwrap_or_default()
}

fn fmt_excerpt(excerpt: &str) -> String {
    if excerpt.is_empty() {
        String::new()
    } else {
        format!(": {excerpt}")
    }
}

impl Error {
    /// A configuration error with `message`.
    pub fn configuration(message: impl Into<String>) -> Self {
        Self::Configuration {
            message: message.into(),
        }
    }

    /// An unexpected-response error; `body` is reduced to a masked excerpt.
    pub fn unexpected(
        provider: &'static str,
        status: Option<u16>,
        content_type: Option<&str>,
        reason: impl Into<String>,
        body: &[u8],
    ) -> Self {
        Self::UnexpectedResponse {
            provider,
            status,
            content_type: content_type.map(|c| redact::sanitize(c, 100)),
            reason: redact::sanitize(&reason.into(), 200),
            excerpt: redact::excerpt(body),
        }
    }

    /// Whether the user must authorize the application again: the refresh
    /// token (or code) is invalid, expired or revoked, or the grant cannot
    /// be refreshed.
    pub fn requires_reauthorization(&self) -> bool {
        matches!(
            self,
            Self::ReauthorizationRequired { .. }
                | Self::RefreshNotSupported { .. }
                | Self::RefreshInterrupted { .. }
        )
    }

    /// A stable `snake_case` name of the error's class, for logs, metrics
    /// and status pages: never any text of the error.
    pub fn class(&self) -> &'static str {
        match self {
            Self::ReauthorizationRequired { .. } => "reauthorization_required",
            Self::RefreshNotSupported { .. } => "refresh_not_supported",
            Self::InvalidClient { .. } => "invalid_client",
            Self::InvalidScope { .. } => "invalid_scope",
            Self::AccessTokenRejected { .. } => "access_token_rejected",
            Self::RejectedAfterRefresh { .. } => "rejected_after_refresh",
            Self::RateLimited { .. } => "rate_limited",
            Self::Transient { .. } => "transient",
            Self::UnexpectedResponse { .. } => "unexpected_response",
            Self::Provider { .. } => "provider",
            Self::Configuration { .. } => "configuration",
            Self::Callback(_) => "callback",
            Self::Store { .. } => "store",
            Self::StoreBusy { .. } => "store_busy",
            Self::UnknownAccount { .. } => "unknown_account",
            Self::RefreshInterrupted { .. } => "refresh_interrupted",
            Self::Decryption { .. } => "decryption",
        }
    }

    /// Whether the same request may succeed later: network failures,
    /// timeouts, 5xx, rate limiting and a busy store.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            Self::Transient { .. } | Self::RateLimited { .. } | Self::StoreBusy { .. }
        )
    }

    /// How long the provider asked to wait before retrying, when it said.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::RateLimited { retry_after, .. } | Self::Transient { retry_after, .. } => {
                *retry_after
            }
            _ => None,
        }
    }

    /// Sets the retry delay of a retryable error that has none yet (e.g. from
    /// the response's `Retry-After` when the class came from its body).
    pub fn with_retry_after(mut self, delay: Option<Duration>) -> Self {
        if let Self::RateLimited { retry_after, .. } | Self::Transient { retry_after, .. } =
            &mut self
            && retry_after.is_none()
        {
            *retry_after = delay;
        }
        self
    }

    /// Applies `f` to every free text of the error (provider codes and
    /// messages, unexpected-response reasons and excerpts): used to scrub secrets.
    pub fn map_texts(mut self, f: impl Fn(&str) -> String) -> Self {
        match &mut self {
            Self::ReauthorizationRequired { details }
            | Self::RefreshNotSupported { details }
            | Self::InvalidClient { details }
            | Self::InvalidScope { details, .. }
            | Self::AccessTokenRejected { details }
            | Self::RejectedAfterRefresh { details }
            | Self::RateLimited { details, .. }
            | Self::Transient { details, .. }
            | Self::RefreshInterrupted { details }
            | Self::Provider { details } => {
                if let Some(message) = details.0.message.as_mut() {
                    *message = f(message);
                }
                if let Some(code) = details.0.code.as_mut() {
                    *code = f(code);
                }
            }
            Self::UnexpectedResponse {
                reason, excerpt, ..
            } => {
                *reason = f(reason);
                *excerpt = f(excerpt);
            }
            _ => {}
        }
        self
    }

    /// The provider's details, for the variants that carry them.
    pub fn details(&self) -> Option<&ProviderDetails> {
        match self {
            Self::ReauthorizationRequired { details }
            | Self::RefreshNotSupported { details }
            | Self::InvalidClient { details }
            | Self::InvalidScope { details, .. }
            | Self::AccessTokenRejected { details }
            | Self::RejectedAfterRefresh { details }
            | Self::RateLimited { details, .. }
            | Self::Transient { details, .. }
            | Self::RefreshInterrupted { details }
            | Self::Provider { details } => Some(details),
            _ => None,
        }
    }

    /// The provider's own error code, when it sent one.
    pub fn provider_code(&self) -> Option<&str> {
        self.details().and_then(ProviderDetails::code)
    }

    /// The provider's request id, when it sent one.
    pub fn request_id(&self) -> Option<&str> {
        self.details().and_then(ProviderDetails::request_id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SENTINEL: &str = "SENTINEL7f3a9c2e1b";

    fn details() -> ProviderDetails {
        ProviderDetails::new("ebay")
            .with_status(400)
            .with_code("invalid_grant")
            .with_message(format!("refresh token {SENTINEL} is invalid"))
            .with_request_id("req-1")
    }

    fn every_variant() -> Vec<Error> {
        vec![
            Error::ReauthorizationRequired { details: details() },
            Error::RefreshNotSupported { details: details() },
            Error::InvalidClient { details: details() },
            Error::InvalidScope {
                requested: Scopes::from(["https://api.ebay.com/oauth/api_scope"]),
                details: details(),
            },
            Error::AccessTokenRejected { details: details() },
            Error::RejectedAfterRefresh { details: details() },
            Error::RateLimited {
                retry_after: Some(Duration::from_secs(3)),
                details: details(),
            },
            Error::Transient {
                cause: TransientCause::Timeout,
                retry_after: None,
                details: details(),
            },
            Error::unexpected(
                "ebay",
                Some(200),
                Some("text/html"),
                "not JSON",
                format!(r#"{{"access_token":"{SENTINEL}"}}"#).as_bytes(),
            ),
            Error::Provider { details: details() },
            Error::configuration("empty client id"),
            Error::Callback(CallbackError::StateMismatch),
            Error::Store {
                message: "disk full".into(),
            },
            Error::StoreBusy {
                message: "tokens.json.lock held for 5 s".into(),
            },
            Error::UnknownAccount {
                account: "ebay/seller-1".into(),
            },
            Error::RefreshInterrupted { details: details() },
            Error::Decryption {
                account: "ebay/seller-1".into(),
                reason: DecryptionFailure::UnknownKey {
                    key_id: "k2".into(),
                },
            },
        ]
    }

    #[test]
    fn no_variant_shows_a_secret() {
        for error in every_variant() {
            let text = format!("{error} {error:?} {error:#?}");
            assert!(!text.contains(SENTINEL), "{text}");
        }
    }

    #[test]
    fn every_class_is_a_distinct_word() {
        let classes: Vec<&str> = every_variant().iter().map(Error::class).collect();
        let mut unique = classes.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(unique.len(), classes.len(), "{classes:?}");
        assert!(
            classes
                .iter()
                .all(|c| c.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'))
        );
    }

    #[test]
    fn classification_helpers() {
        let errors = every_variant();
        let reauth: Vec<bool> = errors.iter().map(Error::requires_reauthorization).collect();
        let retry: Vec<bool> = errors.iter().map(Error::is_retryable).collect();
        assert_eq!(
            reauth,
            [
                true, true, false, false, false, false, false, false, false, false, false, false,
                false, false, false, true, false
            ]
        );
        assert_eq!(
            retry,
            [
                false, false, false, false, false, false, true, true, false, false, false, false,
                false, true, false, false, false
            ]
        );
        assert_eq!(errors[6].retry_after(), Some(Duration::from_secs(3)));
        assert_eq!(errors[0].provider_code(), Some("invalid_grant"));
        assert_eq!(errors[0].request_id(), Some("req-1"));
    }

    #[test]
    fn display_is_useful() {
        let error = Error::ReauthorizationRequired { details: details() };
        assert_eq!(
            error.to_string(),
            "re-authorization required (ebay, HTTP 400, code invalid_grant: refresh token [REDACTED] is invalid (request id req-1))"
        );
    }
}
