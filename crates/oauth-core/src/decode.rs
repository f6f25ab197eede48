//! Lenient decoding of provider responses.
//!
//! Providers send numbers as JSON numbers or as numeric strings, ids as
//! strings or numbers, and `null` where a field is absent. These serde
//! helpers accept every such form and reject what is really wrong (a negative
//! lifetime, text where a number belongs). Use them with
//! `#[serde(default, deserialize_with = "...")]`.
//!
//! ```
//! #[derive(serde::Deserialize)]
//! struct Response {
//!     #[serde(default, deserialize_with = "oauth_core::decode::opt_u64")]
//!     expires_in: Option<u64>,
//!     #[serde(default, deserialize_with = "oauth_core::decode::opt_id")]
//!     user_id: Option<String>,
//! }
//! let r: Response = serde_json::from_str(r#"{"expires_in":"3600","user_id":42}"#).unwrap();
//! assert_eq!(r.expires_in, Some(3600));
//! assert_eq!(r.user_id.as_deref(), Some("42"));
//! ```

use serde::Deserializer;
use serde::de::{self, Visitor};
use std::fmt;

/// Whether `value` may be an access, refresh or ID token: visible ASCII
/// only (`0x21..=0x7E`), no space, no control character, nothing beyond
/// ASCII.
///
/// RFC 6750's `b64token` set (letters, digits, `-._~+/` and trailing `=`)
/// would be stricter, but real tokens go beyond it: eBay's user tokens read
/// `v^1.1#i^1#p^3#r^1...`. Visible ASCII is what can travel in an HTTP
/// header or a shell command line without changing its meaning: a token
/// with CR/LF could inject a header, one with ESC could drive a terminal.
/// Every token decoded from a provider or read from a store is checked
/// (an empty value passes here: "missing" is each decoder's decision).
///
/// ```
/// use oauth_core::decode::is_token_text;
/// assert!(is_token_text("v^1.1#i^1#p^3#r^1#f^0#t^H4sI="));
/// assert!(!is_token_text("abc\r\nX-Injected: evil"));
/// assert!(!is_token_text("abc def"));
/// assert!(!is_token_text("\u{1b}[31mred"));
/// ```
pub fn is_token_text(value: &str) -> bool {
    value.bytes().all(|b| (0x21..=0x7e).contains(&b))
}

/// What a decoder says of a token outside [`is_token_text`]; never the value.
pub const INVALID_TOKEN_TEXT: &str =
    "has characters outside visible ASCII (control characters, spaces or non-ASCII): refused";

/// Reads a non-negative integer; `saturating` reads a negative one as 0 and
/// truncates a fractional one instead of refusing them.
struct U64Visitor {
    saturating: bool,
}

impl<'de> Visitor<'de> for U64Visitor {
    type Value = Option<u64>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a non-negative integer, as a number or a numeric string")
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        Ok(Some(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        if self.saturating && v < 0 {
            return Ok(Some(0));
        }
        u64::try_from(v).map(Some).map_err(|_| {
            E::custom(format!(
                "negative value {v} where a lifetime or time belongs"
            ))
        })
    }

    fn visit_u128<E: de::Error>(self, v: u128) -> Result<Self::Value, E> {
        Ok(Some(u64::try_from(v).unwrap_or(u64::MAX)))
    }

    fn visit_i128<E: de::Error>(self, v: i128) -> Result<Self::Value, E> {
        if self.saturating && v < 0 {
            return Ok(Some(0));
        }
        if v < 0 {
            return Err(E::custom("negative value where a lifetime or time belongs"));
        }
        Ok(Some(u64::try_from(v).unwrap_or(u64::MAX)))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        // JSON numbers too large for u64 arrive as floats: saturate.
        if self.saturating && v.is_finite() {
            if v <= 0.0 {
                return Ok(Some(0));
            }
            if v >= u64::MAX as f64 {
                return Ok(Some(u64::MAX));
            }
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            return Ok(Some(v.trunc() as u64));
        }
        if v.is_finite() && v >= 0.0 && v.fract() == 0.0 {
            if v >= u64::MAX as f64 {
                Ok(Some(u64::MAX))
            } else {
                #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
                Ok(Some(v as u64))
            }
        } else {
            Err(E::custom("expected a non-negative integer"))
        }
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        let t = v.trim();
        if t.is_empty() {
            return Ok(None);
        }
        if t.bytes().all(|b| b.is_ascii_digit()) {
            // All digits: too large saturates instead of failing.
            return Ok(Some(t.parse::<u64>().unwrap_or(u64::MAX)));
        }
        if t.starts_with('-')
            && t.get(1..)
                .is_some_and(|r| !r.is_empty() && r.bytes().all(|b| b.is_ascii_digit()))
        {
            if self.saturating {
                return Ok(Some(0));
            }
            return Err(E::custom("negative value where a lifetime or time belongs"));
        }
        Err(E::custom("expected a numeric string"))
    }
}

/// An optional non-negative integer sent as a number, a numeric string, or
/// `null`/absent/`""` (all `None`). Negative values and non-numeric text are
/// errors; values too large for `u64` saturate to `u64::MAX` (lifetimes are
/// clamped later by [`expiry_after`](crate::expiry_after)).
pub fn opt_u64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    d.deserialize_option(U64Visitor { saturating: false })
}

/// [`opt_u64`] for the lifetimes in the answers of providers whose refresh
/// tokens may be single-use: a negative number (`-5`, `"-5"`) reads as 0
/// and a fractional one (`1.9`) is truncated, instead of refusing the whole
/// answer. A refused success answer would lose the new refresh token after
/// the old one was spent; a token read as expired at once is kept, with
/// its refresh token, and refreshed on next use. Non-numeric text is still
/// an error.
pub fn opt_u64_saturating<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    d.deserialize_option(U64Visitor { saturating: true })
}

struct IdVisitor;

impl<'de> Visitor<'de> for IdVisitor {
    type Value = Option<String>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an id as a string or an integer")
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        Ok(Some(v.to_string()))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        Ok(Some(v.to_string()))
    }

    fn visit_u128<E: de::Error>(self, v: u128) -> Result<Self::Value, E> {
        Ok(Some(v.to_string()))
    }

    fn visit_f64<E: de::Error>(self, _v: f64) -> Result<Self::Value, E> {
        // A float id has already lost precision: refuse it.
        Err(E::custom("an id sent as a non-integer number"))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(if v.is_empty() {
            None
        } else {
            Some(v.to_owned())
        })
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
        Ok(if v.is_empty() { None } else { Some(v) })
    }
}

/// An optional id sent as a string or an integer, kept as a string; `null`,
/// absent and `""` are `None`.
pub fn opt_id<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    d.deserialize_option(IdVisitor)
}

struct TextVisitor;

impl<'de> Visitor<'de> for TextVisitor {
    type Value = Option<String>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string")
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(if v.trim().is_empty() {
            None
        } else {
            Some(v.to_owned())
        })
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
        Ok(if v.trim().is_empty() { None } else { Some(v) })
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        Ok(Some(v.to_string()))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        Ok(Some(v.to_string()))
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
        Ok(Some(v.to_string()))
    }
}

/// An optional text field where blank means absent (`""`, `"  "`, `null`
/// and a missing field are all `None`); numbers and booleans are kept as
/// their text. Useful for `error` fields that are present but empty on
/// success.
pub fn opt_text<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    d.deserialize_option(TextVisitor)
}

// How providers word "this grant is dead" outside the RFC 6749 codes: one
// reading for every provider crate (OrangeConnex and Eshopbox need it).

/// Whether an error (lowercase `code`, and its description) says that the
/// refresh token (or the authorization code) is invalid, expired or revoked:
/// `invalid_token`, `expired_token`, a code naming the refresh token and
/// saying so (`refresh_token_expired`), or a description naming the refresh
/// token or the code and saying so ("Invalid refresh token (expired): ...").
/// A description that says the token is missing or required ("Missing
/// required parameter: refresh_token") is not a complaint about the grant.
pub fn is_refresh_token_complaint(code: &str, description: Option<&str>) -> bool {
    if matches!(code, "invalid_token" | "expired_token") {
        return true;
    }
    if code.contains("refresh") && says_gone(code) && !says_missing(code) {
        return true;
    }
    description.is_some_and(|d| {
        // Bounded: descriptions that matter are short.
        let head: String = d.chars().take(512).collect::<String>().to_ascii_lowercase();
        names_the_grant(&head) && says_gone(&head) && !says_missing(&head)
    })
}

/// Whether `text` names a refresh token or an authorization code.
pub fn names_the_grant(text: &str) -> bool {
    [
        "refresh token",
        "refresh_token",
        "refreshtoken",
        "refresh-token",
        "authorization code",
        "authorization_code",
        "auth code",
    ]
    .iter()
    .any(|name| text.contains(name))
}

/// Whether `text` says something is invalid, expired, revoked or unknown.
pub fn says_gone(text: &str) -> bool {
    [
        "invalid",
        "expired",
        "revoked",
        "unknown",
        "not found",
        "not valid",
        "no longer",
    ]
    .iter()
    .any(|word| text.contains(word))
}

/// Whether `text` says something is missing or required (a malformed request).
pub fn says_missing(text: &str) -> bool {
    [
        "missing",
        "required",
        "must be supplied",
        "must be provided",
    ]
    .iter()
    .any(|word| text.contains(word))
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_saturating_lifetime_keeps_the_answer() {
        #[derive(serde::Deserialize)]
        struct Wire {
            #[serde(default, deserialize_with = "super::opt_u64_saturating")]
            expires_in: Option<u64>,
        }
        let read = |json: &str| serde_json::from_str::<Wire>(json).map(|w| w.expires_in);
        assert_eq!(read(r#"{"expires_in":-5}"#).unwrap(), Some(0));
        assert_eq!(read(r#"{"expires_in":"-5"}"#).unwrap(), Some(0));
        assert_eq!(read(r#"{"expires_in":1.9}"#).unwrap(), Some(1));
        assert_eq!(read(r#"{"expires_in":"60"}"#).unwrap(), Some(60));
        assert_eq!(read(r#"{}"#).unwrap(), None);
        assert!(read(r#"{"expires_in":"soon"}"#).is_err());
        assert!(read(r#"{"expires_in":true}"#).is_err());
    }

    #[test]
    fn refresh_token_complaints_are_told_from_malformed_requests() {
        use super::is_refresh_token_complaint as c;
        assert!(c("invalid_token", None));
        assert!(c("refresh_token_expired", None));
        assert!(c("x", Some("Invalid refresh token (expired): abc")));
        assert!(c("x", Some("Authorization code not found")));
        assert!(!c(
            "invalid_request",
            Some("Missing required parameter: refresh_token")
        ));
        assert!(!c("x", Some("refresh token grant not allowed")));
        assert!(!c("refresh_token_missing", None));
    }

    use super::*;
    use serde::Deserialize;

    #[derive(Deserialize, Debug)]
    struct T {
        #[serde(default, deserialize_with = "opt_u64")]
        expires_in: Option<u64>,
        #[serde(default, deserialize_with = "opt_id")]
        id: Option<String>,
        #[serde(default, deserialize_with = "opt_text")]
        error: Option<String>,
    }

    fn expires(json: &str) -> Result<Option<u64>, serde_json::Error> {
        serde_json::from_str::<T>(json).map(|t| t.expires_in)
    }

    #[test]
    fn expires_in_forms() {
        assert_eq!(expires(r#"{"expires_in":3600}"#).unwrap(), Some(3600));
        assert_eq!(expires(r#"{"expires_in":"3600"}"#).unwrap(), Some(3600));
        assert_eq!(expires(r#"{"expires_in":" 3600 "}"#).unwrap(), Some(3600));
        assert_eq!(expires(r#"{}"#).unwrap(), None);
        assert_eq!(expires(r#"{"expires_in":null}"#).unwrap(), None);
        assert_eq!(expires(r#"{"expires_in":""}"#).unwrap(), None);
        assert!(expires(r#"{"expires_in":-1}"#).is_err());
        assert!(expires(r#"{"expires_in":"-5"}"#).is_err());
        assert!(expires(r#"{"expires_in":"soon"}"#).is_err());
        assert!(expires(r#"{"expires_in":1.5}"#).is_err());
        assert!(expires(r#"{"expires_in":true}"#).is_err());
        assert_eq!(
            expires(r#"{"expires_in":99999999999999999999999999}"#).unwrap(),
            Some(u64::MAX)
        );
        assert_eq!(
            expires(r#"{"expires_in":"99999999999999999999999999"}"#).unwrap(),
            Some(u64::MAX)
        );
        assert_eq!(expires(r#"{"expires_in":1e400}"#).ok(), None);
    }

    #[test]
    fn ids_and_text() {
        let t: T = serde_json::from_str(r#"{"id":2637908814,"error":""}"#).unwrap();
        assert_eq!(t.id.as_deref(), Some("2637908814"));
        assert_eq!(t.error, None);
        let t: T = serde_json::from_str(r#"{"id":"2637908814","error":"invalid_grant"}"#).unwrap();
        assert_eq!(t.id.as_deref(), Some("2637908814"));
        assert_eq!(t.error.as_deref(), Some("invalid_grant"));
        let t: T = serde_json::from_str(r#"{"id":null}"#).unwrap();
        assert_eq!(t.id, None);
        assert!(serde_json::from_str::<T>(r#"{"id":1.5}"#).is_err());
        assert!(serde_json::from_str::<T>(r#"{"id":[1]}"#).is_err());
    }
}
