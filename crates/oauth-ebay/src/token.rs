//! eBay's token responses, decoded leniently, and their conversion into
//! [`TokenSet`].

use crate::error::token_error;
use oauth_core::{
    AccessToken, Error, IntoTokenSet, RawResponse, RefreshToken, Scopes, TokenSet, TokenType,
    expiry_after,
};
use serde::Deserialize;
use serde::de::IgnoredAny;
use std::fmt;
use std::time::{Duration, SystemTime};

/// A user access token, as returned by the code exchange (with a refresh
/// token) or by a refresh (without one: eBay does not rotate it), with the
/// scopes asked for (eBay does not echo them) and when it arrived.
///
/// `Debug` never shows a token.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TokenResponse {
    /// The access token (about 2 hours).
    pub access_token: AccessToken,
    /// The access token's lifetime as sent (`expires_in`).
    pub expires_in: Duration,
    /// The refresh token: present after the code exchange, absent after a
    /// refresh.
    pub refresh_token: Option<RefreshToken>,
    /// The refresh token's lifetime as sent (`refresh_token_expires_in`,
    /// about 18 months).
    pub refresh_token_expires_in: Option<Duration>,
    /// `token_type`, as sent (`User Access Token`).
    pub token_type: TokenType,
    /// The scopes the request asked for, which the token set records.
    pub scopes: Scopes,
    /// When the response arrived: the instant `expires_in` counts from.
    pub received_at: SystemTime,
}

impl TokenResponse {
    /// When the access token expires.
    pub fn expires_at(&self) -> SystemTime {
        expiry_after(self.received_at, self.expires_in)
    }

    /// When the refresh token expires, if the response said.
    pub fn refresh_token_expires_at(&self) -> Option<SystemTime> {
        self.refresh_token
            .as_ref()
            .and(self.refresh_token_expires_in)
            .map(|lifetime| expiry_after(self.received_at, lifetime))
    }
}

impl IntoTokenSet for TokenResponse {
    /// The token set for the lifecycle, recording the scopes asked for.
    /// After a refresh, [`Client::refresh`](oauth_core::Client::refresh)
    /// completes it with [`TokenSet::merge_previous`] to keep the refresh
    /// token.
    fn into_token_set(self) -> TokenSet {
        let expires_at = self.expires_at();
        let refresh_expires_at = self.refresh_token_expires_at();
        let mut set = TokenSet::new(self.access_token, expires_at)
            .with_token_type(self.token_type)
            .with_scopes(self.scopes);
        if let Some(refresh_token) = self.refresh_token {
            set = set.with_refresh_token(refresh_token, refresh_expires_at);
        }
        set
    }
}

impl fmt::Debug for TokenResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenResponse")
            .field("access_token", &self.access_token)
            .field("expires_in", &self.expires_in)
            .field("refresh_token", &self.refresh_token)
            .field("refresh_token_expires_in", &self.refresh_token_expires_in)
            .field("token_type", &self.token_type)
            .field("scopes", &self.scopes)
            .field(
                "received_at_unix_ms",
                &oauth_core::to_unix_millis(self.received_at),
            )
            .finish()
    }
}

/// An application access token (client-credentials grant): no refresh
/// token; mint a new one when it expires.
///
/// `Debug` never shows the token.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ApplicationToken {
    /// The access token (about 2 hours).
    pub access_token: AccessToken,
    /// Its lifetime as sent (`expires_in`).
    pub expires_in: Duration,
    /// `token_type`, as sent (`Application Access Token`).
    pub token_type: TokenType,
    /// The scopes the request asked for, which the token set records.
    pub scopes: Scopes,
    /// When the response arrived: the instant `expires_in` counts from.
    pub received_at: SystemTime,
}

impl ApplicationToken {
    /// When the token expires.
    pub fn expires_at(&self) -> SystemTime {
        expiry_after(self.received_at, self.expires_in)
    }
}

impl IntoTokenSet for ApplicationToken {
    /// The token set for the lifecycle (no refresh token), recording the
    /// requested scopes.
    fn into_token_set(self) -> TokenSet {
        let expires_at = self.expires_at();
        TokenSet::new(self.access_token, expires_at)
            .with_token_type(self.token_type)
            .with_scopes(self.scopes)
    }
}

impl From<TokenResponse> for ApplicationToken {
    /// Keeps the access token; a refresh token (eBay's old `"N/A"` is
    /// already dropped by the decoder) is discarded.
    fn from(token: TokenResponse) -> Self {
        Self {
            access_token: token.access_token,
            expires_in: token.expires_in,
            token_type: token.token_type,
            scopes: token.scopes,
            received_at: token.received_at,
        }
    }
}

impl fmt::Debug for ApplicationToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApplicationToken")
            .field("access_token", &self.access_token)
            .field("expires_in", &self.expires_in)
            .field("token_type", &self.token_type)
            .field("scopes", &self.scopes)
            .field(
                "received_at_unix_ms",
                &oauth_core::to_unix_millis(self.received_at),
            )
            .finish()
    }
}

/// The fields of every eBay token answer, all optional and lenient
/// (`oauth_core::decode`): numbers may be strings, blank text is absent.
#[derive(Deserialize)]
struct TokenWire {
    #[serde(default, deserialize_with = "oauth_core::decode::opt_text")]
    access_token: Option<String>,
    #[serde(default, deserialize_with = "oauth_core::decode::opt_u64")]
    expires_in: Option<u64>,
    #[serde(default, deserialize_with = "oauth_core::decode::opt_text")]
    refresh_token: Option<String>,
    #[serde(default, deserialize_with = "oauth_core::decode::opt_u64")]
    refresh_token_expires_in: Option<u64>,
    #[serde(default, deserialize_with = "oauth_core::decode::opt_text")]
    token_type: Option<String>,
    #[serde(default, deserialize_with = "oauth_core::decode::opt_text")]
    error: Option<String>,
    #[serde(default)]
    errors: Option<IgnoredAny>,
}

/// Whether the body is a JSON object (serde would also accept an array
/// for a struct, field by field).
fn is_json_object(body: &[u8]) -> bool {
    body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{')
}

/// Whether a `refresh_token` value is one of eBay's placeholders rather than
/// a token (older application-token answers carry `"N/A"`).
fn is_placeholder(refresh_token: &str) -> bool {
    let t = refresh_token.trim();
    t.eq_ignore_ascii_case("n/a") || t.eq_ignore_ascii_case("null")
}

/// Decides from status and body whether a token-endpoint answer is a token,
/// and decodes it, recording `requested` (the scopes asked for) and
/// `received_at` (the instant the answer arrived).
///
/// Success is any 2xx with a JSON object that carries a non-blank
/// `access_token` and an `expires_in`, and no `error`/`errors`. A
/// `refresh_token` of `"N/A"` is ignored. Everything else is classified by
/// [`token_error`], with `requested` named in [`Error::InvalidScope`].
///
/// Pure, total and linear in the body size: meant to be fuzzed.
pub(crate) fn decode(
    response: &RawResponse,
    requested: &Scopes,
    received_at: SystemTime,
) -> Result<TokenResponse, Error> {
    if !response.is_success() || !response.looks_like_json() {
        return Err(token_error(response, requested));
    }
    if !is_json_object(response.body()) {
        return Err(response.unexpected("the body is not a JSON object"));
    }
    let wire: TokenWire = response.json()?;
    if wire.error.is_some() || wire.errors.is_some() {
        return Err(token_error(response, requested));
    }
    let Some(access_token) = wire.access_token else {
        return Err(response.unexpected("success status without `access_token`"));
    };
    let Some(expires_in) = wire.expires_in else {
        return Err(response.unexpected("success status without `expires_in`"));
    };
    let access_token: AccessToken = response.token("access_token", access_token)?;
    let refresh_token: Option<RefreshToken> = wire
        .refresh_token
        .filter(|t| !is_placeholder(t))
        .map(|t| response.token("refresh_token", t))
        .transpose()?;
    let refresh_token_expires_in = refresh_token
        .as_ref()
        .and(wire.refresh_token_expires_in)
        .map(Duration::from_secs);
    Ok(TokenResponse {
        access_token,
        expires_in: Duration::from_secs(expires_in),
        refresh_token,
        refresh_token_expires_in,
        token_type: wire
            .token_type
            .map_or_else(TokenType::bearer, TokenType::new),
        scopes: requested.clone(),
        received_at,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::PROVIDER;
    use std::time::UNIX_EPOCH;

    fn ok(body: &str) -> RawResponse {
        RawResponse::new(PROVIDER, 200, Some("application/json"), body.to_owned())
    }

    fn at() -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(1_700_000_000)
    }

    #[test]
    fn tokens_with_control_characters_are_refused_without_showing_them() {
        let scopes = Scopes::new();
        for body in [
            "{\"access_token\":\"v^1.1#SENTINEL\\r\\nX-Injected: evil\",\"expires_in\":7200}",
            "{\"access_token\":\"v^1.1#i^1\",\"expires_in\":7200,\"refresh_token\":\"v^1.1#SENTINEL\\u001b]0;x\\u0007\"}",
        ] {
            let err = decode(&ok(body), &scopes, at()).unwrap_err();
            assert!(matches!(err, Error::UnexpectedResponse { .. }), "{err:?}");
            let text = format!("{err} {err:?}");
            assert!(text.contains("visible ASCII"), "{text}");
            assert!(
                !text.contains("SENTINEL") && !text.contains("Injected"),
                "{text}"
            );
        }
        // eBay's own token alphabet (`^`, `#`, `+`, `/`, `=`) is accepted.
        let body = r#"{"access_token":"v^1.1#i^1#p^3#r^1#f^0#t^H4sI+/Aa==","expires_in":7200}"#;
        assert!(decode(&ok(body), &scopes, at()).is_ok());
    }

    #[test]
    fn lenient_numbers_and_placeholders() {
        let token = decode(
            &ok(r#"{"access_token":"a","expires_in":"7200","refresh_token":"N/A","refresh_token_expires_in":5,"token_type":"Application Access Token"}"#),
            &Scopes::new(),
            at(),
        )
        .unwrap();
        assert_eq!(token.expires_in, Duration::from_secs(7200));
        assert_eq!(token.refresh_token, None);
        assert_eq!(token.refresh_token_expires_in, None);
        assert_eq!(token.expires_at(), at() + Duration::from_secs(7200));
        assert_eq!(token.token_type.as_str(), "Application Access Token");
    }

    #[test]
    fn success_status_without_token_is_unexpected() {
        for body in [
            r#"{"expires_in":7200}"#,
            r#"{"access_token":"  ","expires_in":7200}"#,
            r#"{"access_token":"a"}"#,
            r#"{"access_token":"a","expires_in":-1}"#,
            r#"[1,2]"#,
            "",
            "<html></html>",
        ] {
            let err = decode(&ok(body), &Scopes::new(), at()).unwrap_err();
            assert!(
                matches!(
                    err,
                    Error::UnexpectedResponse {
                        status: Some(200),
                        ..
                    }
                ),
                "{body}: {err:?}"
            );
        }
    }

    #[test]
    fn success_status_with_error_is_an_error() {
        let err = decode(
            &ok(r#"{"error":"invalid_grant","error_description":"x"}"#),
            &Scopes::new(),
            at(),
        )
        .unwrap_err();
        assert!(err.requires_reauthorization(), "{err:?}");
    }

    #[test]
    fn absurd_lifetimes_are_clamped() {
        let token = decode(
            &ok(r#"{"access_token":"a","expires_in":99999999999999999999999,"refresh_token":"r","refresh_token_expires_in":18446744073709551615}"#),
            &Scopes::new(),
            at(),
        )
        .unwrap();
        assert_eq!(token.expires_at(), at() + oauth_core::MAX_LIFETIME);
        assert_eq!(
            token.refresh_token_expires_at(),
            Some(at() + oauth_core::MAX_LIFETIME)
        );
    }
}
