//! Parsing the redirect URL the user lands on after consent.

use crate::redact;
use crate::secret::AuthorizationCode;
use crate::state::CsrfState;
use std::borrow::Cow;

/// Why a callback (redirect after consent) was refused.
///
/// Never contains the authorization code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CallbackError {
    /// The text is not an absolute URL.
    #[error("the callback is not a valid absolute URL")]
    InvalidUrl,
    /// The query could not be decoded (bad percent-encoding or not UTF-8).
    #[error("the callback query parameter `{0}` is not valid percent-encoded UTF-8")]
    BadEncoding(String),
    /// A parameter that must appear once appeared several times.
    #[error("the callback carries `{0}` more than once")]
    DuplicateParameter(String),
    /// No `state` came back.
    #[error("the callback carries no `state`")]
    MissingState,
    /// The `state` differs from the one sent: possible CSRF, refuse it.
    #[error("the callback `state` does not match the one sent (possible CSRF)")]
    StateMismatch,
    /// The provider reported an error instead of a code (e.g. the user
    /// declined: `error=access_denied`).
    #[error("the provider returned `{error}`{}", .description.as_ref().map(|d| format!(": {d}")).unwrap_or_default())]
    ProviderError {
        /// The `error` parameter (sanitized).
        error: String,
        /// The `error_description` parameter (sanitized), if any.
        description: Option<String>,
    },
    /// No `code` came back.
    #[error("the callback carries no authorization code")]
    MissingCode,
}

impl CallbackError {
    /// Whether the user declined consent (`error=access_denied`).
    pub fn is_access_denied(&self) -> bool {
        matches!(self, Self::ProviderError { error, .. } if error == "access_denied")
    }
}

/// The parameters of a callback, decoded once.
#[derive(Debug)]
pub struct Callback {
    /// The authorization code.
    pub code: AuthorizationCode,
    /// Parameters other than `code`, `state`, `error` and
    /// `error_description` (e.g. eBay's `expires_in`), decoded.
    pub extra: Vec<(String, String)>,
}

/// Parses the full redirect URL the user landed on, checks `state` against
/// `expected` in constant time and returns the authorization code.
///
/// The query is percent-decoded exactly once. A `+` is kept as a literal `+`
/// (codes are base64-like and never contain spaces; providers that mean a
/// space send `%20`), except in `error_description`, where it reads as a
/// space.
///
/// Checks, in order: a provider error (`error=...`) is reported as
/// [`CallbackError::ProviderError`] unless it carries a *wrong* state; then
/// `state` must be present and match; then `code` must be present.
///
/// # Errors
/// A [`CallbackError`] naming what is wrong.
pub fn parse_callback(redirect_url: &str, expected: &CsrfState) -> Result<Callback, CallbackError> {
    let url = url::Url::parse(redirect_url.trim()).map_err(|_| CallbackError::InvalidUrl)?;
    let query = url.query().unwrap_or("");

    let mut code: Option<String> = None;
    let mut state: Option<String> = None;
    let mut error: Option<String> = None;
    let mut description: Option<String> = None;
    let mut extra = Vec::new();

    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (raw_name, raw_value) = pair.split_once('=').unwrap_or((pair, ""));
        let name = decode(raw_name, raw_name)?;
        let slot = match name.as_ref() {
            "code" => &mut code,
            "state" => &mut state,
            "error" => &mut error,
            "error_description" => &mut description,
            _ => {
                let value = decode(raw_value, &name)?.into_owned();
                extra.push((name.into_owned(), value));
                continue;
            }
        };
        if slot.is_some() {
            return Err(CallbackError::DuplicateParameter(name.into_owned()));
        }
        *slot = Some(decode(raw_value, &name)?.into_owned());
    }

    if let Some(error) = error {
        if state.as_deref().is_some_and(|s| !expected.matches(s)) {
            return Err(CallbackError::StateMismatch);
        }
        return Err(CallbackError::ProviderError {
            error: redact::sanitize(&error, 64),
            description: description.map(|d| redact::sanitize(&d.replace('+', " "), 200)),
        });
    }
    let state = state.ok_or(CallbackError::MissingState)?;
    if !expected.matches(&state) {
        return Err(CallbackError::StateMismatch);
    }
    match code {
        Some(code) if !code.is_empty() => Ok(Callback {
            code: AuthorizationCode::new(code),
            extra,
        }),
        _ => Err(CallbackError::MissingCode),
    }
}

fn decode<'a>(raw: &'a str, name: &str) -> Result<Cow<'a, str>, CallbackError> {
    percent_encoding::percent_decode_str(raw)
        .decode_utf8()
        .map_err(|_| CallbackError::BadEncoding(redact::sanitize(name, 40)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state() -> CsrfState {
        CsrfState::from_stored("s-123")
    }

    #[test]
    fn code_is_decoded_exactly_once() {
        let url =
            "https://app.example/cb?state=s-123&code=a%5Eb%23c%2Fd%2Be%3Df%25252F+g&expires_in=299";
        let callback = parse_callback(url, &state()).unwrap();
        assert_eq!(callback.code.expose_secret(), "a^b#c/d+e=f%252F+g");
        assert_eq!(callback.extra, vec![("expires_in".into(), "299".into())]);
    }

    #[test]
    fn state_mismatch_and_missing_state() {
        let err = parse_callback("https://a.example/cb?code=x&state=other", &state()).unwrap_err();
        assert_eq!(err, CallbackError::StateMismatch);
        let err = parse_callback("https://a.example/cb?code=x", &state()).unwrap_err();
        assert_eq!(err, CallbackError::MissingState);
        let err = parse_callback("https://a.example/cb?code=x&state=s-12", &state()).unwrap_err();
        assert_eq!(err, CallbackError::StateMismatch);
    }

    #[test]
    fn provider_error_is_reported() {
        let url = "https://a.example/cb?error=access_denied&error_description=The+user+said%20no&state=s-123";
        let err = parse_callback(url, &state()).unwrap_err();
        assert!(err.is_access_denied());
        assert_eq!(
            err,
            CallbackError::ProviderError {
                error: "access_denied".into(),
                description: Some("The user said no".into())
            }
        );
        assert_eq!(
            err.to_string(),
            "the provider returned `access_denied`: The user said no"
        );
        let forged = "https://a.example/cb?error=access_denied&state=evil";
        assert_eq!(
            parse_callback(forged, &state()).unwrap_err(),
            CallbackError::StateMismatch
        );
    }

    #[test]
    fn missing_code_duplicates_and_garbage() {
        assert_eq!(
            parse_callback("https://a.example/cb?state=s-123", &state()).unwrap_err(),
            CallbackError::MissingCode
        );
        assert_eq!(
            parse_callback("https://a.example/cb?state=s-123&code=", &state()).unwrap_err(),
            CallbackError::MissingCode
        );
        assert_eq!(
            parse_callback("https://a.example/cb?state=s-123&code=a&code=b", &state()).unwrap_err(),
            CallbackError::DuplicateParameter("code".into())
        );
        assert_eq!(
            parse_callback("/cb?code=a", &state()).unwrap_err(),
            CallbackError::InvalidUrl
        );
        assert_eq!(
            parse_callback("https://a.example/cb?state=s-123&code=%FF", &state()).unwrap_err(),
            CallbackError::BadEncoding("code".into())
        );
    }

    #[test]
    fn errors_never_show_the_code() {
        let sentinel = "SENTINELCODE12345";
        let urls = [
            format!("https://a.example/cb?state=bad&code={sentinel}"),
            format!("https://a.example/cb?code={sentinel}"),
            format!("https://a.example/cb?state=s-123&code={sentinel}&code={sentinel}"),
            format!("https://a.example/cb?error=x&error_description=code+{sentinel}"),
        ];
        for url in urls {
            let err = parse_callback(&url, &state()).unwrap_err();
            let text = format!("{err} {err:?}");
            assert!(!text.contains(sentinel), "{text}");
        }
        let ok = parse_callback(
            &format!("https://a.example/cb?state=s-123&code={sentinel}"),
            &state(),
        )
        .unwrap();
        assert!(!format!("{ok:?}").contains(sentinel));
    }
}
