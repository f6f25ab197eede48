//! The CSRF `state` parameter (RFC 6749 section 10.12).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use std::fmt;
use subtle::ConstantTimeEq;

/// Number of random bytes in a generated state (256 bits).
const STATE_BYTES: usize = 32;

/// An opaque, unguessable value sent with the authorize URL and checked when
/// the user comes back, binding the callback to the session that started it.
///
/// Keep it in the user's session (server side or in a signed cookie) between
/// the redirect and the callback.
#[derive(Clone, PartialEq, Eq)]
pub struct CsrfState(String);

impl CsrfState {
    /// 256 bits from the operating system's random source, base64url-encoded
    /// (43 characters, safe in a URL without escaping).
    ///
    /// # Errors
    /// [`Error::Configuration`](crate::Error::Configuration) if the operating
    /// system has no random source available.
    pub fn generate() -> Result<Self, crate::Error> {
        let mut bytes = [0u8; STATE_BYTES];
        getrandom::fill(&mut bytes).map_err(|e| {
            crate::Error::configuration(format!("no OS random source for CSRF state: {e}"))
        })?;
        Ok(Self(URL_SAFE_NO_PAD.encode(bytes)))
    }

    /// Wraps a state you stored earlier (e.g. read back from the session).
    pub fn from_stored(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The state as sent on the wire.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Constant-time comparison with a received value.
    pub fn matches(&self, received: &str) -> bool {
        !self.0.is_empty() && constant_time_eq(&self.0, received)
    }
}

impl fmt::Debug for CsrfState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Not a long-lived secret, but it guards a login: do not print it.
        f.write_str("CsrfState([REDACTED])")
    }
}

/// Compares two strings in time that depends only on their lengths.
pub(crate) fn constant_time_eq(a: &str, b: &str) -> bool {
    a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_states_are_long_url_safe_and_distinct() {
        let a = CsrfState::generate().unwrap();
        let b = CsrfState::generate().unwrap();
        assert_eq!(a.as_str().len(), 43);
        assert!(
            a.as_str()
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        );
        assert_ne!(a, b);
        assert!(a.matches(a.as_str()));
        assert!(!a.matches(b.as_str()));
        assert!(!CsrfState::from_stored("").matches(""));
        assert_eq!(format!("{a:?}"), "CsrfState([REDACTED])");
    }
}
