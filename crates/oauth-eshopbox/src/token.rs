//! The token endpoint's answer: typed, leniently decoded, and converted into
//! a [`TokenSet`].

use crate::error::token_error;
use oauth_core::{
    AccessToken, Error, IdToken, IntoTokenSet, RawResponse, RefreshToken, Scope, Scopes, TokenSet,
    TokenType, expiry_after,
};
use serde::Deserialize;
use std::time::{Duration, SystemTime};

/// The access-token lifetime assumed when a response has no `expires_in`
/// (absent or blank): 24 hours, the value in every
/// documented sample. The documentation's prose also mentions "30 days";
/// the shorter value is the safe assumption (an early refresh costs one
/// request, a late one costs failed API calls).
pub const DEFAULT_EXPIRES_IN: Duration = Duration::from_secs(24 * 60 * 60);

/// A successful answer of `POST /api/v1/generateToken`, with the time it
/// arrived.
///
/// ```json
/// {"access_token":"eyJhbGci...","id_token":"eyJ...","scope":"openid profile offline_access","expires_in":86400,"token_type":"Bearer"}
/// ```
///
/// `Debug` shows no secret.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TokenResponse {
    /// The access token (a JWT), sent as `Authorization: Bearer` on API calls.
    pub access_token: AccessToken,
    /// The OpenID Connect ID token, when the response carries one.
    pub id_token: Option<IdToken>,
    /// The granted scopes (the wire's space-separated `scope`; commas are
    /// accepted as separators too, as in the documentation's prose).
    pub scope: Scopes,
    /// The lifetime in seconds, as sent (a number or a numeric string);
    /// `None` when absent or blank.
    pub expires_in: Option<u64>,
    /// The token type as sent (`Bearer` when absent).
    pub token_type: TokenType,
    /// A refresh token, if the response ever carries one. Eshopbox does not
    /// send one today (the app's refresh token is long-lived and is kept);
    /// should it start to, the new one is stored instead of the old.
    pub refresh_token: Option<RefreshToken>,
    /// When the answer arrived (the client's clock): the expiry counts from
    /// it.
    pub received_at: SystemTime,
}

impl TokenResponse {
    /// The access token's lifetime: `expires_in`, or
    /// [`DEFAULT_EXPIRES_IN`] when it is absent. (A decoded answer never has
    /// `Some(0)`: the decoder refuses it.)
    pub fn lifetime(&self) -> Duration {
        self.expires_in
            .map_or(DEFAULT_EXPIRES_IN, Duration::from_secs)
    }
}

impl IntoTokenSet for TokenResponse {
    /// The provider-neutral token set, expiring [`lifetime`](Self::lifetime)
    /// after [`received_at`](Self::received_at) (absurd lifetimes are
    /// clamped). The refresh token is the one in the response, if any: the
    /// client completes the set with the refresh token used
    /// ([`Provider::refreshed`](oauth_core::Provider::refreshed)).
    fn into_token_set(self) -> TokenSet {
        let expires_at = expiry_after(self.received_at, self.lifetime());
        let set = TokenSet::new(self.access_token, expires_at)
            .with_token_type(self.token_type)
            .with_scopes(self.scope);
        match self.refresh_token {
            Some(refresh_token) => set.with_refresh_token(refresh_token, None),
            None => set,
        }
    }
}

/// The body as it may arrive: every field optional, numbers as numbers or
/// strings, blanks as absent.
#[derive(Deserialize)]
struct WireToken {
    #[serde(default)]
    access_token: Option<AccessToken>,
    #[serde(default)]
    id_token: Option<IdToken>,
    #[serde(default, deserialize_with = "oauth_core::decode::opt_text")]
    scope: Option<String>,
    #[serde(default, deserialize_with = "oauth_core::decode::opt_u64")]
    expires_in: Option<u64>,
    #[serde(default, deserialize_with = "oauth_core::decode::opt_text")]
    token_type: Option<String>,
    #[serde(default)]
    refresh_token: Option<RefreshToken>,
    #[serde(default, deserialize_with = "oauth_core::decode::opt_text")]
    error: Option<String>,
    #[serde(default, deserialize_with = "oauth_core::decode::opt_text")]
    message: Option<String>,
}

/// Parses a `scope` value: separated by whitespace (the wire samples) or
/// commas (the documentation's prose, `scope=openid,profile`).
pub fn parse_scope(text: &str) -> Scopes {
    text.split(|c: char| c.is_whitespace() || c == ',')
        .filter(|s| !s.is_empty())
        .map(Scope::new)
        .collect()
}

/// Decides from status and body whether a token response, received at
/// `received_at`, is a success, and decodes it (the decoder of
/// [`Provider::decode_token_response`](oauth_core::Provider::decode_token_response)).
///
/// Pure and bounded: no I/O, no panics, work linear in the body size.
///
/// - a non-2xx status is classified (see the crate documentation, "Errors");
/// - a 2xx whose body carries an `error`, or a `message` and no
///   `access_token`, is classified the same way;
/// - a 2xx that is not a JSON object with a non-empty `access_token` is
///   [`Error::UnexpectedResponse`] (with a masked excerpt);
/// - so is `"expires_in": 0`: a token expired on arrival. It is neither
///   guessed to live 24 hours (API calls would fail with it all day) nor
///   stored as expired (every call would then ask for a new one); the token
///   lifecycle keeps serving the previous token while it is valid and
///   retries with backoff.
/// - a token with characters outside visible ASCII is refused (see
///   [`oauth_core::decode::is_token_text`]), without repeating it.
///
/// # Errors
/// The classified failure, as above.
pub(crate) fn decode(
    response: &RawResponse,
    received_at: SystemTime,
) -> Result<TokenResponse, Error> {
    if !response.is_success() {
        return Err(token_error(response));
    }
    if !response.looks_like_json() {
        return Err(response.unexpected("success status with a body that is not a JSON object"));
    }
    let wire: WireToken = response.json()?;
    let access_token = wire
        .access_token
        .filter(|token| !token.expose_secret().trim().is_empty());
    if wire.error.is_some() || (access_token.is_none() && wire.message.is_some()) {
        return Err(token_error(response));
    }
    let Some(access_token) = access_token else {
        return Err(response.unexpected("success status without an access_token"));
    };
    if wire.expires_in == Some(0) {
        return Err(
            response.unexpected("`expires_in` is 0: the access token would be expired on arrival")
        );
    }
    Ok(TokenResponse {
        access_token,
        id_token: wire
            .id_token
            .filter(|token| !token.expose_secret().trim().is_empty()),
        scope: wire.scope.as_deref().map(parse_scope).unwrap_or_default(),
        expires_in: wire.expires_in,
        token_type: wire
            .token_type
            .map(|t| TokenType::new(t.trim()))
            .unwrap_or_default(),
        refresh_token: wire
            .refresh_token
            .filter(|token| !token.expose_secret().trim().is_empty()),
        received_at,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use crate::PROVIDER;
    use oauth_core::from_unix_millis;

    fn ok(body: &str) -> RawResponse {
        RawResponse::new(PROVIDER, 200, Some("application/json"), body.to_owned())
    }

    /// Decodes an answer received at the Unix epoch.
    fn decode_token_response(response: &RawResponse) -> Result<TokenResponse, Error> {
        decode(response, from_unix_millis(0))
    }

    #[test]
    fn blank_tokens_count_as_missing() {
        let err =
            decode_token_response(&ok(r#"{"access_token":"   ","expires_in":60}"#)).unwrap_err();
        assert!(matches!(err, Error::UnexpectedResponse { .. }), "{err:?}");
        let response = decode_token_response(&ok(
            r#"{"access_token":"at","id_token":" ","refresh_token":"","expires_in":60}"#,
        ))
        .unwrap();
        assert!(response.id_token.is_none());
        assert!(response.refresh_token.is_none());
    }

    #[test]
    fn minimal_body_gets_defaults() {
        let r = decode(&ok(r#"{"access_token":"at"}"#), from_unix_millis(1_000)).unwrap();
        assert_eq!(r.access_token.expose_secret(), "at");
        assert_eq!(r.id_token, None);
        assert!(r.scope.is_empty());
        assert_eq!(r.expires_in, None);
        assert_eq!(r.lifetime(), DEFAULT_EXPIRES_IN);
        assert_eq!(r.token_type.as_str(), "Bearer");
        let set = r.into_token_set();
        assert_eq!(set.expires_at, from_unix_millis(1_000 + 86_400_000));
        assert_eq!(set.refresh_token, None);
    }

    #[test]
    fn zero_and_huge_lifetimes() {
        let err =
            decode_token_response(&ok(r#"{"access_token":"at","expires_in":0}"#)).unwrap_err();
        assert!(
            matches!(&err, Error::UnexpectedResponse { reason, .. } if reason.contains("expires_in")),
            "{err:?}"
        );
        let r = decode_token_response(&ok(
            r#"{"access_token":"at","expires_in":"99999999999999999999999"}"#,
        ))
        .unwrap();
        assert_eq!(r.expires_in, Some(u64::MAX));
        let set = r.into_token_set();
        assert_eq!(
            set.expires_at,
            from_unix_millis(0) + oauth_core::MAX_LIFETIME
        );
    }

    #[test]
    fn tokens_with_control_characters_are_refused_without_showing_them() {
        for body in [
            "{\"access_token\":\"SENTINEL\\r\\nX-Injected: evil\",\"expires_in\":10}",
            "{\"access_token\":\"at\",\"id_token\":\"SENTINEL\\u0000\",\"expires_in\":10}",
            "{\"access_token\":\"at\",\"refresh_token\":\"SENTINEL\\u001b[2J\",\"expires_in\":10}",
            "{\"access_token\":\"SENTINEL\\u00e9\",\"expires_in\":10}",
        ] {
            let err = decode_token_response(&ok(body)).unwrap_err();
            assert!(matches!(err, Error::UnexpectedResponse { .. }), "{err:?}");
            let text = format!("{err} {err:?}");
            assert!(text.contains("visible ASCII"), "{text}");
            assert!(
                !text.contains("SENTINEL") && !text.contains("Injected"),
                "{text}"
            );
        }
    }

    #[test]
    fn scope_separators() {
        assert_eq!(
            parse_scope("openid profile  offline_access").join("|"),
            "openid|profile|offline_access"
        );
        assert_eq!(parse_scope("openid,profile").join("|"), "openid|profile");
        assert!(parse_scope(" , ").is_empty());
    }

    #[test]
    fn blank_and_null_fields_are_absent() {
        let r = decode_token_response(&ok(
            r#"{"access_token":"at","id_token":"","scope":null,"token_type":" ","refresh_token":"","error":""}"#,
        ))
        .unwrap();
        assert_eq!(r.id_token, None);
        assert!(r.scope.is_empty());
        assert_eq!(r.token_type.as_str(), "Bearer");
        assert_eq!(r.refresh_token, None);
    }

    #[test]
    fn garbage_is_unexpected_not_a_panic() {
        for body in [
            "",
            "null",
            "[]",
            "[1,2]",
            "{",
            r#"{"access_token":""}"#,
            r#"{"access_token":12}"#,
            r#"{"access_token":"a","expires_in":-3}"#,
            r#"{"access_token":"a","expires_in":"soon"}"#,
            "<html>ok</html>",
        ] {
            let err = decode_token_response(&ok(body)).unwrap_err();
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
}
