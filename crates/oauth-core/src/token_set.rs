//! The provider-neutral result of a grant: [`TokenSet`].

use crate::clock::{from_unix_millis, to_unix_millis};
use crate::id::Scopes;
use crate::secret::{AccessToken, RefreshToken};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::borrow::Cow;
use std::fmt;
use std::time::{Duration, SystemTime};

/// The longest lifetime we accept from the wire (10 years). Longer values
/// (including absurd ones such as `u64::MAX`) are clamped to it, so that
/// computing an absolute expiry can never overflow.
pub const MAX_LIFETIME: Duration = Duration::from_secs(10 * 365 * 24 * 60 * 60);

/// `now + lifetime`, with the lifetime clamped to [`MAX_LIFETIME`].
pub fn expiry_after(now: SystemTime, lifetime: Duration) -> SystemTime {
    let lifetime = lifetime.min(MAX_LIFETIME);
    now.checked_add(lifetime).unwrap_or(now)
}

/// The `token_type` a provider returned, kept as sent.
///
/// Casing and wording vary (`bearer`, `Bearer`, eBay's `User Access Token`);
/// [`is_bearer`](Self::is_bearer) tells whether the token is used as a bearer
/// token, which is the case for every provider of this workspace.
#[derive(Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct TokenType(Cow<'static, str>);

/// The token types providers send, shared instead of allocated per token.
const KNOWN_TOKEN_TYPES: &[&str] = &[
    "Bearer",
    "bearer",
    "User Access Token",
    "Application Access Token",
];

impl TokenType {
    /// `Bearer`.
    pub fn bearer() -> Self {
        Self(Cow::Borrowed("Bearer"))
    }

    /// Wraps a token type as sent by the provider.
    pub fn new(value: impl Into<String> + AsRef<str>) -> Self {
        match KNOWN_TOKEN_TYPES.iter().find(|k| **k == value.as_ref()) {
            Some(known) => Self(Cow::Borrowed(known)),
            None => Self(Cow::Owned(value.into())),
        }
    }

    /// The token type as sent.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether the token is a bearer token: `bearer` in any casing, or one of
    /// eBay's `User Access Token` / `Application Access Token`.
    pub fn is_bearer(&self) -> bool {
        let t = self.0.trim();
        t.eq_ignore_ascii_case("bearer")
            || t.eq_ignore_ascii_case("user access token")
            || t.eq_ignore_ascii_case("application access token")
    }
}

impl<'de> Deserialize<'de> for TokenType {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(Self::new)
    }
}

impl Default for TokenType {
    fn default() -> Self {
        Self::bearer()
    }
}

impl fmt::Debug for TokenType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TokenType({:?})", self.0)
    }
}

impl fmt::Display for TokenType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The tokens of one account at one provider, with absolute expiries.
///
/// Provider crates return richer responses from their own methods and convert
/// them into a `TokenSet` for the lifecycle (manager, stores). It serializes
/// with serde for token stores (instants as Unix milliseconds); its `Debug`
/// never shows a secret.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenSet {
    /// The access token.
    pub access_token: AccessToken,
    /// The token type as the provider sent it.
    #[serde(default)]
    pub token_type: TokenType,
    /// When the access token expires.
    #[serde(with = "unix_millis")]
    pub expires_at: SystemTime,
    /// The refresh token, if the grant returned one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<RefreshToken>,
    /// When the refresh token expires, if known.
    #[serde(
        default,
        with = "opt_unix_millis",
        skip_serializing_if = "Option::is_none"
    )]
    pub refresh_token_expires_at: Option<SystemTime>,
    /// The scopes granted (or requested, when the provider does not echo them).
    #[serde(default, skip_serializing_if = "Scopes::is_empty")]
    pub scopes: Scopes,
    /// When the tokens were issued (received from the provider), if known:
    /// with `expires_at`, the access token's lifetime, which bounds the
    /// refresh margin (half the lifetime at most). The token manager stamps
    /// it on sets it receives or installs without one.
    #[serde(
        default,
        with = "opt_unix_millis",
        skip_serializing_if = "Option::is_none"
    )]
    pub issued_at: Option<SystemTime>,
    /// Set (and saved) by the token manager just before it spends this
    /// set's single-use refresh token; a set that reaches a store with it
    /// still present is one whose refresh was interrupted before its result
    /// was saved. Sets obtained from a provider never carry it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_started: Option<RefreshStarted>,
}

/// A durable record that a refresh of a rotating (single-use) refresh token
/// was started: when, and a fingerprint of the refresh token being spent.
///
/// The fingerprint is the first 64 bits of the token's SHA-256, in hex:
/// enough to recognise the same token again, useless to recover it (tokens
/// are long random strings). It is not a secret and may be logged; the
/// token itself never is.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefreshStarted {
    /// When the refresh was started.
    #[serde(with = "unix_millis")]
    pub at: SystemTime,
    /// [`RefreshStarted::fingerprint_of`] the refresh token being spent.
    pub fingerprint: String,
    /// When the provider refused this refresh token, if it did: recorded by
    /// the manager that was refused, so that the others sharing the store
    /// do not present it again (a provider that detects the reuse of a
    /// spent refresh token may revoke the whole grant).
    #[serde(
        default,
        with = "opt_unix_millis",
        skip_serializing_if = "Option::is_none"
    )]
    pub refused_at: Option<SystemTime>,
}

impl RefreshStarted {
    /// A record that the refresh of `token` started `at`.
    pub fn new(at: SystemTime, token: &RefreshToken) -> Self {
        Self {
            at,
            fingerprint: Self::fingerprint_of(token),
            refused_at: None,
        }
    }

    /// The fingerprint of `token`: 16 hex digits of its SHA-256.
    pub fn fingerprint_of(token: &RefreshToken) -> String {
        use sha2::Digest;
        let digest = sha2::Sha256::digest(token.expose_secret().as_bytes());
        digest.iter().take(8).map(|b| format!("{b:02x}")).collect()
    }
}

impl TokenSet {
    /// A token set with an access token expiring at `expires_at`, type
    /// `Bearer`, no refresh token and no scopes.
    pub fn new(access_token: AccessToken, expires_at: SystemTime) -> Self {
        Self {
            access_token,
            token_type: TokenType::bearer(),
            expires_at,
            refresh_token: None,
            refresh_token_expires_at: None,
            scopes: Scopes::new(),
            issued_at: None,
            refresh_started: None,
        }
    }

    /// Sets when the tokens were issued.
    pub fn with_issued_at(mut self, issued_at: SystemTime) -> Self {
        self.issued_at = Some(issued_at);
        self
    }

    /// Sets the token type.
    pub fn with_token_type(mut self, token_type: TokenType) -> Self {
        self.token_type = token_type;
        self
    }

    /// Sets the refresh token and its expiry.
    pub fn with_refresh_token(
        mut self,
        refresh_token: RefreshToken,
        expires_at: Option<SystemTime>,
    ) -> Self {
        self.refresh_token = Some(refresh_token);
        self.refresh_token_expires_at = expires_at;
        self
    }

    /// Sets the scopes.
    pub fn with_scopes(mut self, scopes: Scopes) -> Self {
        self.scopes = scopes;
        self
    }

    /// Whether the access token expires within `skew` of `now` (or already has).
    pub fn expires_within(&self, now: SystemTime, skew: Duration) -> bool {
        match self.expires_at.duration_since(now) {
            Ok(left) => left <= skew,
            Err(_) => true,
        }
    }

    /// Whether the access token is still valid at `now`.
    pub fn is_valid_at(&self, now: SystemTime) -> bool {
        self.expires_at > now
    }

    /// Whether the refresh token (if any) has expired at `now`.
    pub fn refresh_token_expired_at(&self, now: SystemTime) -> bool {
        self.refresh_token_expires_at.is_some_and(|at| at <= now)
    }

    /// Completes a token set returned by a refresh with what the provider did
    /// not resend: when the response carried no refresh token, the previous
    /// refresh token is kept with its expiry; when it carried a new one
    /// without an expiry, the previous expiry is kept (rotation does not
    /// extend it for any provider we know); empty scopes are taken from the
    /// previous set.
    pub fn merge_previous(mut self, previous: &TokenSet) -> Self {
        match &self.refresh_token {
            None => {
                self.refresh_token = previous.refresh_token.clone();
                self.refresh_token_expires_at = previous.refresh_token_expires_at;
            }
            Some(_) if self.refresh_token_expires_at.is_none() => {
                self.refresh_token_expires_at = previous.refresh_token_expires_at;
            }
            Some(_) => {}
        }
        if self.scopes.is_empty() {
            self.scopes = previous.scopes.clone();
        }
        self
    }
}

impl fmt::Debug for TokenSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenSet")
            .field("access_token", &self.access_token)
            .field("token_type", &self.token_type)
            .field("expires_at_unix_ms", &to_unix_millis(self.expires_at))
            .field("refresh_token", &self.refresh_token)
            .field(
                "refresh_token_expires_at_unix_ms",
                &self.refresh_token_expires_at.map(to_unix_millis),
            )
            .field("scopes", &self.scopes)
            .field("issued_at_unix_ms", &self.issued_at.map(to_unix_millis))
            .field(
                "refresh_started_at_unix_ms",
                &self.refresh_started.as_ref().map(|r| to_unix_millis(r.at)),
            )
            .finish()
    }
}

mod unix_millis {
    use super::*;

    pub(super) fn serialize<S: Serializer>(t: &SystemTime, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(to_unix_millis(*t))
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<SystemTime, D::Error> {
        u64::deserialize(d).map(from_unix_millis)
    }
}

mod opt_unix_millis {
    use super::*;

    pub(super) fn serialize<S: Serializer>(
        t: &Option<SystemTime>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        match t {
            Some(t) => s.serialize_some(&to_unix_millis(*t)),
            None => s.serialize_none(),
        }
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<SystemTime>, D::Error> {
        Option::<u64>::deserialize(d).map(|o| o.map(from_unix_millis))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::from_unix_millis;

    fn at(ms: u64) -> SystemTime {
        from_unix_millis(ms)
    }

    #[test]
    fn skew_boundaries() {
        let set = TokenSet::new(AccessToken::new("a"), at(100_000));
        let skew = Duration::from_secs(60);
        assert!(!set.expires_within(at(39_999), skew));
        assert!(set.expires_within(at(40_000), skew));
        assert!(set.expires_within(at(100_000), skew));
        assert!(set.expires_within(at(200_000), skew));
        assert!(set.is_valid_at(at(99_999)));
        assert!(!set.is_valid_at(at(100_000)));
    }

    #[test]
    fn absurd_lifetimes_are_clamped() {
        let now = at(1_000);
        assert_eq!(expiry_after(now, Duration::MAX), now + MAX_LIFETIME);
        assert_eq!(expiry_after(now, Duration::from_secs(3600)), at(3_601_000));
    }

    #[test]
    fn merge_keeps_previous_refresh_token_and_expiry() {
        let previous = TokenSet::new(AccessToken::new("old"), at(1))
            .with_refresh_token(RefreshToken::new("rt1"), Some(at(9_000)))
            .with_scopes(Scopes::from(["s1"]));
        let kept = TokenSet::new(AccessToken::new("new"), at(2)).merge_previous(&previous);
        assert_eq!(kept.refresh_token, Some(RefreshToken::new("rt1")));
        assert_eq!(kept.refresh_token_expires_at, Some(at(9_000)));
        assert_eq!(kept.scopes, Scopes::from(["s1"]));

        let rotated = TokenSet::new(AccessToken::new("new"), at(2))
            .with_refresh_token(RefreshToken::new("rt2"), None)
            .merge_previous(&previous);
        assert_eq!(rotated.refresh_token, Some(RefreshToken::new("rt2")));
        assert_eq!(rotated.refresh_token_expires_at, Some(at(9_000)));
    }

    #[test]
    fn serde_round_trip_and_debug_redaction() {
        let set = TokenSet::new(AccessToken::new("SENTINEL-AT"), at(5_000))
            .with_token_type(TokenType::new("User Access Token"))
            .with_refresh_token(RefreshToken::new("SENTINEL-RT"), Some(at(9_000)))
            .with_scopes(Scopes::from(["a", "b"]));
        let json = serde_json::to_string(&set).unwrap();
        assert_eq!(
            json,
            r#"{"access_token":"SENTINEL-AT","token_type":"User Access Token","expires_at":5000,"refresh_token":"SENTINEL-RT","refresh_token_expires_at":9000,"scopes":["a","b"]}"#
        );
        let back: TokenSet = serde_json::from_str(&json).unwrap();
        assert_eq!(back, set);
        let debug = format!("{set:?} {set:#?}");
        assert!(!debug.contains("SENTINEL"), "{debug}");
        assert!(set.token_type.is_bearer());
        assert!(TokenType::new("bearer").is_bearer());
        assert!(!TokenType::new("mac").is_bearer());
    }
}
