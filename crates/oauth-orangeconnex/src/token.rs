//! The token response, its lenient decoding, and its conversion into a
//! [`TokenSet`].
//!
//! OrangeConnex answers both the code exchange and the refresh with one
//! object, every field optional:
//! `{"access_token","error","error_description","expires_in","refresh_token","token_type"}`.
//! Success and failure are told apart by the body, not by the status: a
//! non-empty `error`, or a missing or blank `access_token`, is a failure
//! whatever the HTTP status (OrangeConnex documents no statuses).

use crate::PROVIDER;
use crate::error::classify_error_code;
use oauth_core::transport::RawResponse;
use oauth_core::{
    AccessToken, Error, ProviderDetails, RefreshToken, Scopes, TokenSet, TokenType, TransientCause,
    expiry_after,
};
use serde_json::{Map, Value};
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
/// leniently. `Debug` never shows a token.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TokenResponse {
    /// `access_token`, never blank.
    pub access_token: AccessToken,
    /// `token_type` as sent (OrangeConnex sends lowercase `bearer`), if sent.
    pub token_type: Option<String>,
    /// `expires_in` in seconds, if sent (negative values read as 0).
    pub expires_in: Option<u64>,
    /// `refresh_token`, if sent and not blank.
    pub refresh_token: Option<RefreshToken>,
    /// `scope`, if sent (not documented by OrangeConnex; kept when present).
    pub scope: Option<String>,
}

impl TokenResponse {
    /// The access token's lifetime: `expires_in`, or
    /// [`DEFAULT_ACCESS_TOKEN_LIFETIME`] when absent.
    pub fn access_token_lifetime(&self) -> Duration {
        self.expires_in
            .map_or(DEFAULT_ACCESS_TOKEN_LIFETIME, Duration::from_secs)
    }

    /// Converts the response into a [`TokenSet`], with expiries counted from
    /// `now` (the moment the response arrived).
    ///
    /// - `expires_at` = `now + expires_in` (3600 s when absent; absurd values
    ///   are clamped by [`expiry_after`]);
    /// - a refresh token, when sent, expires [`REFRESH_TOKEN_LIFETIME`] after
    ///   `now`;
    /// - `token_type` is kept as sent (`Bearer` when absent).
    ///
    /// After a refresh, complete the set with
    /// [`TokenSet::merge_previous`] (the [`RefreshGrant`](oauth_core::RefreshGrant)
    /// implementation does): an absent refresh token keeps the old one.
    pub fn into_token_set(self, now: SystemTime) -> TokenSet {
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

/// Decides from the status and the body whether `response` (from
/// `/oauth/token`) is a success, and decodes it.
///
/// Pure and bounded: no I/O, no panic, work linear in the body size (at
/// most one JSON parse). The rules, in order:
/// 1. 429 is [`Error::RateLimited`]; a 3xx is [`Error::UnexpectedResponse`]
///    (redirects are refused);
/// 2. a JSON object with a non-empty `error` is a failure whatever the
///    status, classified by [`classify_error_code`](crate::classify_error_code);
/// 3. a 5xx without an `error` code is [`Error::Transient`];
/// 4. a body that is not a JSON object is [`Error::UnexpectedResponse`];
/// 5. a missing or blank `access_token` is a failure: on a 2xx
///    [`Error::UnexpectedResponse`], on a 401 [`Error::InvalidClient`],
///    on any other status [`Error::Provider`];
/// 6. an `access_token` on a non-2xx status, or a field of the wrong type
///    (`expires_in` that is not a number, ...), is
///    [`Error::UnexpectedResponse`].
///
/// Errors never contain a token: messages and excerpts are masked.
///
/// # Errors
/// As described above.
pub fn decode_token_response(response: &RawResponse) -> Result<TokenResponse, Error> {
    decode(response).map_err(|e| response.scrub_error(e))
}

fn decode(response: &RawResponse) -> Result<TokenResponse, Error> {
    let status = response.status();
    let success = response.is_success();
    let unexpected = |reason: &str| response.unexpected(reason);

    let value: Option<Value> = if response.looks_like_json() {
        serde_json::from_slice(response.body()).ok()
    } else {
        None
    };
    let object = match &value {
        Some(Value::Object(map)) => Some(map),
        _ => None,
    };
    let error_code = object.map(|m| lenient_text(m, "error"));
    let description = object.and_then(|m| lenient_text(m, "error_description").ok().flatten());
    let mut details = ProviderDetails::new(PROVIDER).with_status(status);
    if let Some(Ok(Some(code))) = &error_code {
        details = details.with_code(code);
    }
    if let Some(description) = &description {
        details = details.with_message(description);
    }

    if status == 429 {
        return Err(Error::RateLimited {
            retry_after: response.retry_after(),
            details,
        });
    }
    if (300..400).contains(&status) {
        return Err(unexpected(
            "redirect refused (the token endpoint must not redirect)",
        ));
    }
    match &error_code {
        Some(Ok(Some(code))) => {
            return Err(
                classify_error_code(code, description.as_deref(), status, details)
                    .with_retry_after(response.retry_after()),
            );
        }
        Some(Err(())) => return Err(unexpected("the `error` field is not text")),
        _ => {}
    }
    if status >= 500 {
        if object.is_none() {
            details = details.with_message(response.excerpt());
        }
        return Err(Error::Transient {
            cause: TransientCause::ServerError,
            retry_after: response.retry_after(),
            details,
        });
    }
    let Some(map) = object else {
        return Err(unexpected(match (&value, response.looks_like_json()) {
            (Some(_), _) => "the JSON body is not an object",
            (None, true) => "the body is not valid JSON",
            (None, false) if success => "the body is not JSON",
            (None, false) => "error status without a JSON body",
        }));
    };

    let access_token = match lenient_text(map, "access_token") {
        Ok(Some(token)) => token,
        Ok(None) if success => {
            return Err(unexpected("no `access_token` and no `error` in the body"));
        }
        Ok(None) if status == 401 => return Err(Error::InvalidClient { details }),
        Ok(None) => return Err(Error::Provider { details }),
        Err(()) => return Err(unexpected("the `access_token` field is not text")),
    };
    if !success {
        return Err(unexpected("an `access_token` with a non-success status"));
    }
    let expires_in = lenient_seconds(map, "expires_in")
        .map_err(|()| unexpected("`expires_in` is not a number"))?;
    let refresh_token = lenient_text(map, "refresh_token")
        .map_err(|()| unexpected("the `refresh_token` field is not text"))?;
    let token_type = lenient_text(map, "token_type")
        .map_err(|()| unexpected("the `token_type` field is not text"))?;
    let scope =
        lenient_text(map, "scope").map_err(|()| unexpected("the `scope` field is not text"))?;
    Ok(TokenResponse {
        access_token: response.token("access_token", access_token)?,
        token_type,
        expires_in,
        refresh_token: refresh_token
            .map(|t| response.token("refresh_token", t))
            .transpose()?,
        scope,
    })
}

/// A text field: blank, `null` and absent are `None`; numbers and booleans
/// are kept as text; arrays and objects are `Err`.
fn lenient_text(map: &Map<String, Value>, key: &str) -> Result<Option<String>, ()> {
    match map.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(Value::Number(n)) => Ok(Some(n.to_string())),
        Some(Value::Bool(b)) => Ok(Some(b.to_string())),
        Some(Value::Array(_) | Value::Object(_)) => Err(()),
    }
}

/// A lifetime in seconds (`int32` on the wire), as a number or numeric
/// string; blank, `null` and absent are `None`; negative values read as 0;
/// values too large saturate (and are clamped later by `expiry_after`).
fn lenient_seconds(map: &Map<String, Value>, key: &str) -> Result<Option<u64>, ()> {
    match map.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => {
            if let Some(v) = n.as_u64() {
                Ok(Some(v))
            } else if n.as_i64().is_some() {
                Ok(Some(0))
            } else {
                float_seconds(n.as_f64().ok_or(())?)
            }
        }
        Some(Value::String(s)) => {
            let t = s.trim();
            if t.is_empty() {
                return Ok(None);
            }
            let (negative, digits) = match t.strip_prefix('-') {
                Some(rest) => (true, rest),
                None => (false, t.strip_prefix('+').unwrap_or(t)),
            };
            if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return Err(());
            }
            if negative {
                return Ok(Some(0));
            }
            Ok(Some(digits.parse::<u64>().unwrap_or(u64::MAX)))
        }
        Some(_) => Err(()),
    }
}

fn float_seconds(v: f64) -> Result<Option<u64>, ()> {
    if !v.is_finite() {
        return Err(());
    }
    if v <= 0.0 {
        return Ok(Some(0));
    }
    if v >= u64::MAX as f64 {
        return Ok(Some(u64::MAX));
    }
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    Ok(Some(v.trunc() as u64))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resp(status: u16, body: &str) -> RawResponse {
        RawResponse::new(PROVIDER, status, Some("application/json"), body.to_owned())
    }

    #[test]
    fn tokens_with_control_characters_are_refused_without_showing_them() {
        for body in [
            "{\"access_token\":\"SENTINEL\\r\\nX-Injected: evil\",\"expires_in\":3600}",
            "{\"access_token\":\"at-1\",\"expires_in\":3600,\"refresh_token\":\"SENTINEL\\u0000\"}",
        ] {
            let err = decode_token_response(&resp(200, body)).unwrap_err();
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
        let r = decode_token_response(&resp(
            200,
            r#"{"access_token":"at-1","error":"","error_description":null,"expires_in":3600,"refresh_token":"rt-1","token_type":"bearer"}"#,
        ))
        .unwrap();
        assert_eq!(r.access_token.expose_secret(), "at-1");
        assert_eq!(r.refresh_token.as_ref().unwrap().expose_secret(), "rt-1");
        assert_eq!(r.expires_in, Some(3600));
        assert_eq!(r.token_type.as_deref(), Some("bearer"));
        let now = oauth_core::from_unix_millis(1_000_000);
        let set = r.into_token_set(now);
        assert_eq!(set.expires_at, now + Duration::from_secs(3600));
        assert_eq!(set.token_type.as_str(), "bearer");
        assert_eq!(
            set.refresh_token_expires_at,
            Some(now + REFRESH_TOKEN_LIFETIME)
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
            let r = decode_token_response(&resp(200, &body)).unwrap();
            assert_eq!(r.expires_in, expected, "{wire}");
        }
        for wire in [r#""soon""#, "true", "[1]", r#""-""#] {
            let body = format!(r#"{{"access_token":"a","expires_in":{wire}}}"#);
            let err = decode_token_response(&resp(200, &body)).unwrap_err();
            assert!(matches!(err, Error::UnexpectedResponse { .. }), "{wire}");
        }
        let r = decode_token_response(&resp(200, r#"{"access_token":"a"}"#)).unwrap();
        assert_eq!(r.access_token_lifetime(), DEFAULT_ACCESS_TOKEN_LIFETIME);
    }

    #[test]
    fn error_wins_over_token_and_status() {
        let body = r#"{"access_token":"a","error":"invalid_grant"}"#;
        for status in [200, 400, 401, 500] {
            let err = decode_token_response(&resp(status, body)).unwrap_err();
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
                let _ = decode_token_response(&resp(status, body));
            }
        }
        let deep = "[".repeat(100_000);
        assert!(decode_token_response(&resp(200, &deep)).is_err());
    }
}
