//! The token response, its decoding, and its conversion into a
//! [`TokenSet`].
//!
//! OrangeConnex answers both the code exchange and the refresh with one
//! object, every field optional:
//! `{"access_token","error","error_description","expires_in","refresh_token","token_type"}`.
//! Success and failure are told apart by the body, not by the status: a
//! non-empty `error`, or a missing or blank `access_token`, is a failure
//! whatever the HTTP status (OrangeConnex documents no statuses).

use crate::PROVIDER;
use crate::error::classify;
use oauth_core::transport::classify::{OAuthErrorBody, status_error};
use oauth_core::{
    AccessToken, Error, IntoTokenSet, ProviderDetails, RawResponse, RefreshToken, Scopes, TokenSet,
    TokenType, expiry_after,
};
use serde::Deserialize;
use serde_json::Value;
use std::time::{Duration, SystemTime};

/// The access-token lifetime assumed when a success carries no `expires_in`
/// (OrangeConnex documents 3600 s).
pub const DEFAULT_ACCESS_TOKEN_LIFETIME: Duration = Duration::from_secs(3600);

/// The documented lifetime of a refresh token (one year), counted from the
/// response that issued it.
///
/// OrangeConnex sends no `refresh_token_expires_in`; this is the documented
/// value. Whether a refresh token returned by a refresh gets a fresh year is
/// *unconfirmed*: see [`TokenResponse::into_token_set`] and the crate docs.
pub const REFRESH_TOKEN_LIFETIME: Duration = Duration::from_secs(365 * 24 * 60 * 60);

/// A successful token response (code exchange or refresh), decoded
/// leniently, with the time it arrived. `Debug` never shows a token.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TokenResponse {
    /// `access_token`, never blank.
    pub access_token: AccessToken,
    /// `token_type` as sent (OrangeConnex sends lowercase `bearer`), if sent.
    pub token_type: Option<String>,
    /// `expires_in` in seconds, if sent.
    pub expires_in: Option<u64>,
    /// `refresh_token`, if sent and not blank.
    pub refresh_token: Option<RefreshToken>,
    /// `scope`, if sent (not documented by OrangeConnex; kept when present).
    pub scope: Option<String>,
    /// When the answer arrived (the client's clock): lifetimes count from
    /// it.
    pub received_at: SystemTime,
}

/// The success fields, decoded with `oauth-core`'s lenient helpers.
#[derive(Deserialize)]
struct Wire {
    #[serde(default, deserialize_with = "oauth_core::decode::opt_text")]
    access_token: Option<String>,
    #[serde(default, deserialize_with = "oauth_core::decode::opt_text")]
    token_type: Option<String>,
    // Saturating: OrangeConnex's refresh tokens are treated as single-use,
    // so a success answer is never refused for an odd lifetime.
    #[serde(default, deserialize_with = "oauth_core::decode::opt_u64_saturating")]
    expires_in: Option<u64>,
    #[serde(default, deserialize_with = "oauth_core::decode::opt_text")]
    refresh_token: Option<String>,
    #[serde(default, deserialize_with = "oauth_core::decode::opt_text")]
    scope: Option<String>,
}

impl TokenResponse {
    /// The access token's lifetime: `expires_in`, or
    /// [`DEFAULT_ACCESS_TOKEN_LIFETIME`] when absent.
    pub fn access_token_lifetime(&self) -> Duration {
        self.expires_in
            .map_or(DEFAULT_ACCESS_TOKEN_LIFETIME, Duration::from_secs)
    }

    /// Decides from the status and the body whether `response` (from
    /// `/oauth/token`, received at `received_at`) is a success, and decodes
    /// it. [`Provider::decode_token_response`](oauth_core::Provider::decode_token_response)
    /// of [`OrangeConnex`](crate::OrangeConnex) is this function.
    ///
    /// Pure and bounded: no I/O, no panic, work linear in the body size.
    /// The rules, in order:
    /// 1. 429 is [`Error::RateLimited`]; a 3xx is
    ///    [`Error::UnexpectedResponse`] (redirects are refused);
    /// 2. a JSON object with a non-empty `error` is a failure whatever the
    ///    status: RFC 6749 codes as `oauth-core` maps them, then
    ///    OrangeConnex's reading of the rest (a refresh token said to be
    ///    invalid, expired or revoked means re-authorization, unless the
    ///    request was malformed; 401 an invalid client; 5xx transient);
    /// 3. a 5xx without an `error` code is [`Error::Transient`];
    /// 4. a body that is not a JSON object is [`Error::UnexpectedResponse`];
    /// 5. a missing or blank `access_token` is a failure: on a 2xx
    ///    [`Error::UnexpectedResponse`], on a 401 [`Error::InvalidClient`],
    ///    on any other status [`Error::Provider`];
    /// 6. an `access_token` on a non-2xx status, or a field of the wrong type
    ///    (`expires_in` that is not a non-negative integer, ...), is
    ///    [`Error::UnexpectedResponse`].
    ///
    /// Errors never contain a token: messages and excerpts are masked (the
    /// client also scrubs what the request sent).
    ///
    /// # Errors
    /// As described above.
    pub fn decode(response: &RawResponse, received_at: SystemTime) -> Result<Self, Error> {
        let status = response.status();
        let value: Option<Value> = if response.looks_like_json() {
            serde_json::from_slice(response.body()).ok()
        } else {
            None
        };
        let object = value.as_ref().filter(|v| v.is_object());
        let error_body = object.map(OAuthErrorBody::deserialize);
        let mut details = match &error_body {
            Some(Ok(body)) => body.details(response),
            _ => ProviderDetails::new(PROVIDER).with_status(status),
        };

        if matches!(status, 300..=399 | 429)
            && let Some(error) = status_error(response, details.clone())
        {
            return Err(error);
        }
        match &error_body {
            Some(Ok(body)) => {
                if let Some(code) = &body.error {
                    return Err(classify(code, body.description(), status, details)
                        .with_retry_after(response.retry_after()));
                }
            }
            // A non-text `error` cannot be classified; a non-text
            // description or `message` beside a token is ignored (refusing
            // the answer would lose a refresh token already spent).
            Some(Err(_)) if object.is_some_and(|o| o.get("access_token").is_none()) => {
                // A 5xx stays retryable whatever its body says.
                return Err(status_error(response, details).unwrap_or_else(|| {
                    response.unexpected("the `error` or `error_description` field is not text")
                }));
            }
            Some(Err(_))
                if object.is_some_and(|o| o.get("error").is_some_and(|e| !e.is_null())) =>
            {
                return Err(response.unexpected("the `error` field is not text"));
            }
            Some(Err(_)) => {}
            None => {}
        }
        // No `error` code: a 5xx is transient, with the page's excerpt.
        if object.is_none() && status >= 500 {
            details = details.with_message(response.excerpt());
        }
        if let Some(error) = status_error(response, details.clone()) {
            return Err(error);
        }
        if object.is_none() {
            return Err(
                response.unexpected(match (&value, response.looks_like_json()) {
                    (Some(_), _) => "the JSON body is not an object",
                    (None, true) => "the body is not valid JSON",
                    (None, false) if response.is_success() => "the body is not JSON",
                    (None, false) => "error status without a JSON body",
                }),
            );
        }
        let wire: Wire = response.json()?;
        let Some(access_token) = wire.access_token else {
            return Err(match status {
                _ if response.is_success() => {
                    response.unexpected("no `access_token` and no `error` in the body")
                }
                401 => Error::InvalidClient { details },
                _ => Error::Provider { details },
            });
        };
        if !response.is_success() {
            return Err(response.unexpected("an `access_token` with a non-success status"));
        }
        Ok(Self {
            access_token: response.token("access_token", access_token)?,
            token_type: wire.token_type,
            expires_in: wire.expires_in,
            refresh_token: wire
                .refresh_token
                .map(|t| response.token("refresh_token", t))
                .transpose()?,
            scope: wire.scope,
            received_at,
        })
    }
}

impl IntoTokenSet for TokenResponse {
    /// Converts the response into a [`TokenSet`], with expiries counted from
    /// [`received_at`](TokenResponse::received_at):
    ///
    /// - `expires_at` = `received_at + expires_in` (3600 s when absent;
    ///   absurd values are clamped by [`expiry_after`]);
    /// - a refresh token, when sent, expires [`REFRESH_TOKEN_LIFETIME`] after
    ///   `received_at`;
    /// - `token_type` is kept as sent (`Bearer` when absent).
    ///
    /// After a refresh, `Client::refresh` completes the set with the
    /// previous one ([`TokenSet::merge_previous`]): an absent refresh token
    /// keeps the old one.
    fn into_token_set(self) -> TokenSet {
        let now = self.received_at;
        let lifetime = self.access_token_lifetime();
        let mut set = TokenSet::new(self.access_token, expiry_after(now, lifetime));
        if let Some(token_type) = self.token_type {
            set = set.with_token_type(TokenType::new(token_type));
        }
        if let Some(refresh_token) = self.refresh_token {
            set = set.with_refresh_token(
                refresh_token,
                Some(expiry_after(now, REFRESH_TOKEN_LIFETIME)),
            );
        }
        if let Some(scope) = self.scope {
            set = set.with_scopes(Scopes::from_space_separated(&scope));
        }
        set
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resp(status: u16, body: &str) -> RawResponse {
        RawResponse::new(PROVIDER, status, Some("application/json"), body.to_owned())
    }

    fn now() -> SystemTime {
        oauth_core::from_unix_millis(1_000_000)
    }

    fn decode(response: &RawResponse) -> Result<TokenResponse, Error> {
        TokenResponse::decode(response, now())
    }

    #[test]
    fn tokens_with_control_characters_are_refused_without_showing_them() {
        for body in [
            "{\"access_token\":\"SENTINEL\\r\\nX-Injected: evil\",\"expires_in\":3600}",
            "{\"access_token\":\"at-1\",\"expires_in\":3600,\"refresh_token\":\"SENTINEL\\u0000\"}",
        ] {
            let err = decode(&resp(200, body)).unwrap_err();
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
    fn success_with_every_field() {
        let r = decode(&resp(
            200,
            r#"{"access_token":"at-1","error":"","error_description":null,"expires_in":3600,"refresh_token":"rt-1","token_type":"bearer"}"#,
        ))
        .unwrap();
        assert_eq!(r.access_token.expose_secret(), "at-1");
        assert_eq!(r.refresh_token.as_ref().unwrap().expose_secret(), "rt-1");
        assert_eq!(r.expires_in, Some(3600));
        assert_eq!(r.token_type.as_deref(), Some("bearer"));
        assert_eq!(r.received_at, now());
        let set = r.into_token_set();
        assert_eq!(set.expires_at, now() + Duration::from_secs(3600));
        assert_eq!(set.token_type.as_str(), "bearer");
        assert_eq!(
            set.refresh_token_expires_at,
            Some(now() + REFRESH_TOKEN_LIFETIME)
        );
    }

    #[test]
    fn expires_in_forms() {
        let cases = [
            (r#""3600""#, Some(3600)),
            (r#"" 60 ""#, Some(60)),
            ("-5", Some(0)),
            (r#""-5""#, Some(0)),
            ("1.9", Some(1)),
            ("null", None),
            (r#""""#, None),
            ("99999999999999999999999", Some(u64::MAX)),
        ];
        for (wire, expected) in cases {
            let body = format!(r#"{{"access_token":"a","expires_in":{wire}}}"#);
            let r = decode(&resp(200, &body)).unwrap();
            assert_eq!(r.expires_in, expected, "{wire}");
        }
        for wire in [r#""soon""#, "true", "[1]", r#""-""#] {
            let body = format!(r#"{{"access_token":"a","expires_in":{wire}}}"#);
            let err = decode(&resp(200, &body)).unwrap_err();
            assert!(matches!(err, Error::UnexpectedResponse { .. }), "{wire}");
        }
        // A success is not refused for a description or message that is not
        // text; an `error` that is not text is.
        let r = decode(&resp(
            200,
            r#"{"access_token":"a","message":{"x":1},"error_description":2}"#,
        ))
        .unwrap();
        assert_eq!(r.access_token.expose_secret(), "a");
        let err = decode(&resp(200, r#"{"access_token":"a","error":{"x":1}}"#)).unwrap_err();
        assert!(matches!(err, Error::UnexpectedResponse { .. }), "{err:?}");
        // A 5xx without a readable error stays retryable.
        let err = decode(&resp(500, r#"{"error_description":[]}"#)).unwrap_err();
        assert!(err.is_retryable(), "{err:?}");
        let r = decode(&resp(200, r#"{"access_token":"a"}"#)).unwrap();
        assert_eq!(r.access_token_lifetime(), DEFAULT_ACCESS_TOKEN_LIFETIME);
    }

    #[test]
    fn error_wins_over_token_and_status() {
        let body = r#"{"access_token":"a","error":"invalid_grant"}"#;
        for status in [200, 400, 401, 500] {
            let err = decode(&resp(status, body)).unwrap_err();
            assert!(err.requires_reauthorization(), "{status}: {err:?}");
        }
    }

    #[test]
    fn odd_shapes_do_not_panic() {
        let bodies = [
            "",
            " ",
            "[",
            "[]",
            "null",
            "1",
            r#""x""#,
            "{",
            "{}",
            r#"{"error":{}}"#,
            r#"{"access_token":[]}"#,
            r#"{"access_token":"  "}"#,
            "\u{0}{",
        ];
        for body in bodies {
            for status in [0, 100, 200, 204, 302, 400, 401, 429, 500, 599, 999] {
                let _ = decode(&resp(status, body));
            }
        }
        let deep = "[".repeat(100_000);
        assert!(decode(&resp(200, &deep)).is_err());
    }
}
