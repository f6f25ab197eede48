//! The fuzz harness: one function per target, shared by the cargo-fuzz
//! targets in `fuzz_targets/` and by the smoke run of the seed corpus in
//! `tests/tests/fuzz_smoke.rs` (which includes this file as a module).
//!
//! Every function takes the raw fuzzer input, never panics on its own and
//! asserts the invariants of the code under test; a panic is a finding.
//!
//! Input formats:
//! - decoders (`decode_*`): byte 0-1 the HTTP status (little endian), byte 2
//!   picks the content type ([`CONTENT_TYPES`]), the rest is the body;
//!   shorter inputs are a 200 JSON answer with the input as body;
//! - `parse_callback`: UTF-8 (lossy) text, first line the expected `state`,
//!   the rest the URL the user landed on; the same text also feeds a
//!   round trip (first line the state, the rest the code);
//! - `aliexpress_signer`: UTF-8 (lossy) text, first line the app secret,
//!   second the API name, then one `name=value` parameter per line.
#![allow(clippy::panic)]

use oauth_all::{aliexpress, ebay, eshopbox, orangeconnex};
use oauth_core::{CsrfState, Error, RawResponse, Scopes, parse_callback};
use std::borrow::Cow;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The content types byte 2 of a decoder input picks from (modulo).
pub const CONTENT_TYPES: [Option<&str>; 4] = [
    Some("application/json"),
    Some("text/html"),
    None,
    Some("application/json;charset=UTF-8"),
];

/// The longest `Display` of any decoding error: errors hold bounded,
/// sanitized excerpts only, whatever the body.
pub const MAX_ERROR_DISPLAY: usize = 2048;

/// A target: its name (the cargo-fuzz binary and corpus folder) and its
/// harness function.
pub type Target = (&'static str, fn(&[u8]));

/// The targets.
pub const TARGETS: [Target; 6] = [
    ("decode_ebay", decode_ebay),
    ("decode_aliexpress", decode_aliexpress),
    ("decode_orangeconnex", decode_orangeconnex),
    ("decode_eshopbox", decode_eshopbox),
    ("parse_callback", callback),
    ("aliexpress_signer", aliexpress_signer),
];

/// Splits a decoder input into status, content type and body.
pub fn split_response(data: &[u8]) -> (u16, Option<&'static str>, &[u8]) {
    match data {
        [lo, hi, kind, body @ ..] => {
            let index = usize::from(*kind) % CONTENT_TYPES.len();
            let content_type = CONTENT_TYPES.get(index).copied().flatten();
            (u16::from_le_bytes([*lo, *hi]), content_type, body)
        }
        _ => (200, Some("application/json"), data),
    }
}

fn response(provider: &'static str, data: &[u8]) -> RawResponse {
    let (status, content_type, body) = split_response(data);
    RawResponse::new(provider, status, content_type, body.to_vec())
}

fn now() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_700_000_000)
}

/// The latest expiry any decoded token may have: `now + MAX_LIFETIME`.
fn latest() -> SystemTime {
    now() + oauth_core::MAX_LIFETIME
}

fn is_token_char(c: char) -> bool {
    c.is_ascii_alphanumeric()
        || matches!(c, '-' | '.' | '_' | '~' | '+' | '/' | '=' | '^' | '#' | '%')
}

/// Whether `value` is what the redaction rules promise to mask wherever it
/// appears: 12 or more token characters with a digit.
pub fn is_token_like(value: &str) -> bool {
    value.chars().count() >= 12
        && value.chars().all(is_token_char)
        && value.chars().any(|c| c.is_ascii_digit())
}

/// The token-like `access_token`, `refresh_token` and `id_token` strings of
/// a JSON object body that occur exactly once in the raw body (a value the
/// body repeats elsewhere, say as a request id, is not a secret there).
fn body_secrets(body: &[u8]) -> Vec<String> {
    let Ok(serde_json::Value::Object(map)) = serde_json::from_slice(body) else {
        return Vec::new();
    };
    let text = String::from_utf8_lossy(body);
    ["access_token", "refresh_token", "id_token"]
        .iter()
        .filter_map(|key| map.get(*key)?.as_str())
        .filter(|value| is_token_like(value) && text.matches(*value).count() == 1)
        .map(str::to_owned)
        .collect()
}

/// The invariants of every decoder's outcome.
fn check_decoded(name: &str, data: &[u8], outcome: Result<&str, &Error>) {
    let (status, _, body) = split_response(data);
    match outcome {
        Ok(access_token) => {
            assert!(
                (200..300).contains(&status),
                "{name}: a token from HTTP {status}"
            );
            assert!(!access_token.is_empty(), "{name}: an empty access token");
        }
        Err(error) => {
            let display = error.to_string();
            let debug = format!("{error:?}");
            assert!(
                display.chars().count() <= MAX_ERROR_DISPLAY,
                "{name}: error display of {} chars",
                display.chars().count()
            );
            assert!(
                debug.chars().count() <= 2 * MAX_ERROR_DISPLAY,
                "{name}: error debug of {} chars",
                debug.chars().count()
            );
            for secret in body_secrets(body) {
                assert!(
                    !display.contains(&secret) && !debug.contains(&secret),
                    "{name}: a token of the body appears in the error: {display}"
                );
            }
            if let Some(details) = error.details() {
                assert!(details.code().is_none_or(|c| c.chars().count() <= 65));
                assert!(details.message().is_none_or(|m| m.chars().count() <= 201));
                assert!(details.request_id().is_none_or(|r| r.len() <= 64));
            }
        }
    }
}

/// `oauth_ebay::decode_token_response`.
pub fn decode_ebay(data: &[u8]) {
    let response = response(ebay::PROVIDER, data);
    let scopes = Scopes::from([ebay::API_SCOPE]);
    let outcome = ebay::decode_token_response(&response, &scopes, now());
    match &outcome {
        Ok(token) => {
            check_decoded("ebay", data, Ok(token.access_token.expose_secret()));
            assert!(token.expires_at() >= now() && token.expires_at() <= latest());
            if let Some(at) = token.refresh_token_expires_at() {
                assert!(at >= now() && at <= latest());
            }
            let set = token.clone().into_token_set(scopes);
            assert!(!format!("{set:?}").contains(token.access_token.expose_secret()));
        }
        Err(error) => check_decoded("ebay", data, Err(error)),
    }
    let application = ebay::decode_application_token(&response, &Scopes::new(), now());
    assert_eq!(application.is_ok(), outcome.is_ok());
}

/// `oauth_aliexpress::decode_token_response`.
pub fn decode_aliexpress(data: &[u8]) {
    let response = response(aliexpress::PROVIDER, data);
    match aliexpress::decode_token_response(&response) {
        Ok(token) => {
            check_decoded("aliexpress", data, Ok(token.access_token.expose_secret()));
            let refreshable = token.is_refreshable();
            let set = token.into_token_set(now());
            // `expire_time` is absolute (and may lie in the past); it is
            // clamped to the longest lifetime we accept.
            assert!(set.expires_at <= latest());
            assert_eq!(set.refresh_token.is_some(), refreshable);
            if let Some(at) = set.refresh_token_expires_at {
                assert!(at <= latest());
            }
        }
        Err(error) => check_decoded("aliexpress", data, Err(&error)),
    }
}

/// `oauth_orangeconnex::decode_token_response`.
pub fn decode_orangeconnex(data: &[u8]) {
    let response = response(orangeconnex::PROVIDER, data);
    match orangeconnex::decode_token_response(&response) {
        Ok(token) => {
            check_decoded("orangeconnex", data, Ok(token.access_token.expose_secret()));
            assert!(!token.access_token.expose_secret().trim().is_empty());
            let set = token.into_token_set(now());
            assert!(set.expires_at >= now() && set.expires_at <= latest());
        }
        Err(error) => check_decoded("orangeconnex", data, Err(&error)),
    }
}

/// `oauth_eshopbox::decode_token_response`.
pub fn decode_eshopbox(data: &[u8]) {
    let response = response(eshopbox::PROVIDER, data);
    match eshopbox::decode_token_response(&response) {
        Ok(token) => {
            check_decoded("eshopbox", data, Ok(token.access_token.expose_secret()));
            let set = token.into_token_set(now());
            assert!(set.expires_at > now() && set.expires_at <= latest());
        }
        Err(error) => check_decoded("eshopbox", data, Err(&error)),
    }
}

/// Percent-encodes every byte that is not ASCII alphanumeric (independent
/// of the library's own encoder).
pub fn percent_encode_all(text: &str) -> String {
    let mut out = String::with_capacity(text.len() * 3);
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// `oauth_core::parse_callback`: never panics, an accepted callback has a
/// non-empty code and the expected state, errors never show a token-like
/// code; and a URL built from any code and state gives back exactly the code.
pub fn callback(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let (first, rest) = text.split_once('\n').unwrap_or((&text, ""));

    // 1. Arbitrary URL, arbitrary expected state.
    let expected = CsrfState::from_stored(first);
    match parse_callback(rest, &expected) {
        Ok(callback) => {
            assert!(!callback.code.expose_secret().is_empty());
            assert!(!first.is_empty(), "accepted with an empty expected state");
            assert!(format!("{callback:?}").contains("AuthorizationCode([REDACTED])"));
        }
        Err(error) => {
            let shown = format!("{error} {error:?}");
            assert!(shown.chars().count() <= MAX_ERROR_DISPLAY);
        }
    }

    // 2. Round trip: state = first line, code = the rest.
    if !first.is_empty() && !rest.is_empty() {
        let url = format!(
            "https://app.example/cb?state={}&code={}&expires_in=299",
            percent_encode_all(first),
            percent_encode_all(rest)
        );
        let parsed = parse_callback(&url, &CsrfState::from_stored(first));
        match parsed {
            Ok(callback) => {
                assert_eq!(callback.code.expose_secret(), rest, "code changed");
                assert_eq!(
                    callback.extra,
                    vec![("expires_in".to_owned(), "299".to_owned())]
                );
            }
            Err(error) => panic!("round trip refused: {error}"),
        }
        // Another state must be refused.
        let other = format!("{first}x");
        let refused = parse_callback(&url, &CsrfState::from_stored(other));
        assert!(refused.is_err(), "a callback accepted with the wrong state");
        if is_token_like(rest)
            && let Err(error) = refused
        {
            assert!(!format!("{error} {error:?}").contains(rest));
        }
    }
}

/// The AliExpress signer: independent of parameter order, empty values
/// ignored, keyed by the secret, and equal to the sandbox's independent
/// implementation.
pub fn aliexpress_signer(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let mut lines = text.split('\n');
    let secret = lines.next().unwrap_or_default();
    let api = lines.next().unwrap_or_default();
    let mut params: Vec<(Cow<'_, str>, Cow<'_, str>)> = Vec::new();
    for line in lines {
        let (name, value) = line.split_once('=').unwrap_or((line, ""));
        if name == "sign" || params.iter().any(|(n, _)| n == name) {
            continue;
        }
        params.push((Cow::Borrowed(name), Cow::Borrowed(value)));
    }
    let Ok(signer) = aliexpress::Signer::new(&oauth_core::AppSecret::new(secret)) else {
        assert!(secret.trim().is_empty(), "a non-blank secret was refused");
        return;
    };
    let pairs = || params.iter().map(|(n, v)| (n.as_ref(), v.as_ref()));
    let sign = signer.sign(api, pairs());
    let hex = sign.expose_secret();
    assert_eq!(hex.len(), 64);
    assert!(
        hex.chars()
            .all(|c| c.is_ascii_digit() || c.is_ascii_uppercase())
    );
    // Order does not matter.
    let reversed: Vec<(&str, &str)> = pairs().rev().collect();
    assert_eq!(signer.sign(api, reversed), sign);
    // An empty value is left out.
    let mut padded: Vec<(&str, &str)> = pairs().collect();
    let unused = "zz_fuzz_unused_param";
    if !params.iter().any(|(n, _)| n == unused) {
        padded.insert(padded.len() / 2, (unused, ""));
        assert_eq!(signer.sign(api, padded), sign);
    }
    // Another secret signs differently.
    let other = aliexpress::Signer::new(&oauth_core::AppSecret::new(format!("{secret}x")));
    if let Ok(other) = other {
        assert_ne!(other.sign(api, pairs()), sign);
    }
    // The sandbox's own implementation agrees (it keeps empty values, so
    // compare on the non-empty ones only).
    let non_empty: Vec<(&str, &str)> = pairs().filter(|(_, v)| !v.is_empty()).collect();
    let api_path = api.contains('/').then_some(api);
    assert_eq!(
        oauth_sandbox::signature::aliexpress_sign(secret, api_path, non_empty),
        hex,
        "the provider's and the sandbox's signatures differ"
    );
}
