//! The fuzz harness: one function per target, shared by the cargo-fuzz
//! targets in `fuzz_targets/` and by the smoke run of the seed corpus in
//! `tests/tests/fuzz_smoke.rs` (which includes this file as a module).
//!
//! Every function takes the raw fuzzer input, never panics on its own and
//! asserts the invariants of the code under test; a panic is a finding.
//!
//! The decoders are driven by the registry (`oauth_all::PROVIDERS`): one
//! function, [`decode_token_response`], decodes through any provider's
//! client (built from the entry's example settings) with
//! `DynClient::decode_token_set`, for every kind of `Grant`; a new provider
//! is fuzzed without a new target. The per-provider targets
//! (`decode_ebay`, ...) are thin: the same function with a fixed provider,
//! kept so that their corpora (`corpus/decode_<provider>`) stay usable.
//!
//! Input formats:
//! - `decode_token_response`: byte 0 picks the provider (its index in
//!   `oauth_all::PROVIDERS`, modulo their number), the rest is a provider
//!   decoder input;
//! - provider decoders (`decode_<provider>`): byte 0-1 the HTTP status
//!   (little endian), byte 2 picks the content type ([`CONTENT_TYPES`]), the
//!   rest is the body; shorter inputs are a 200 JSON answer with the input
//!   as body;
//! - `parse_callback`: UTF-8 (lossy) text, first line the expected `state`,
//!   the rest the URL the user landed on; the same text also feeds a
//!   round trip (first line the state, the rest the code);
//! - `aliexpress_signer`: UTF-8 (lossy) text, first line the app secret,
//!   second the API name, then one `name=value` parameter per line.
#![allow(clippy::panic)]

use oauth_all::PROVIDERS;
use oauth_all::aliexpress;
use oauth_core::provider::registry::{AnyClient, ClientOptions, ProviderEntry};
use oauth_core::{
    AccessToken, CsrfState, Error, Grant, RawResponse, RefreshToken, TokenSet, parse_callback,
};
use std::borrow::Cow;
use std::sync::OnceLock;
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

/// The targets that are not per provider (the per-provider decoder targets
/// are [`decode_named`] with the provider's name).
pub const TARGETS: [Target; 3] = [
    ("decode_token_response", decode_token_response),
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

/// Every registered provider's client, built once from its entry's example
/// settings (no request is ever sent: the decoders only).
fn clients() -> &'static [(&'static ProviderEntry, AnyClient)] {
    static CLIENTS: OnceLock<Vec<(&'static ProviderEntry, AnyClient)>> = OnceLock::new();
    CLIENTS.get_or_init(|| {
        PROVIDERS
            .iter()
            .map(|entry| {
                let client = entry
                    .build(&entry.example_values(), ClientOptions::default())
                    .unwrap_or_else(|e| panic!("{}: example settings refused: {e}", entry.name));
                (entry, client)
            })
            .collect()
    })
}

/// The set a refresh grant starts from (its refresh token is one of the
/// body's secrets only if the body repeats it).
fn current_set() -> TokenSet {
    TokenSet::new(
        AccessToken::new("fuzz-current-access-token-0"),
        now() + Duration::from_secs(60),
    )
    .with_refresh_token(RefreshToken::new("fuzz-current-refresh-token-0"), None)
}

/// The cargo-fuzz target `decode_token_response`: byte 0 picks the provider
/// in `oauth_all::PROVIDERS`, the rest goes to [`decode_with`].
pub fn decode_token_response(data: &[u8]) {
    let clients = clients();
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    if let Some((entry, client)) = clients.get(usize::from(pick) % clients.len()) {
        decode_with(entry, client, rest);
    }
}

/// [`decode_with`] for the provider named `name` (the per-provider targets).
///
/// # Panics
/// If no enabled provider has that name.
pub fn decode_named(name: &str, data: &[u8]) {
    let (entry, client) = clients()
        .iter()
        .find(|(entry, _)| entry.name == name)
        .unwrap_or_else(|| panic!("no provider {name} in oauth_all::PROVIDERS"));
    decode_with(entry, client, data);
}

/// The index of the provider named `name` in `oauth_all::PROVIDERS` (the
/// first byte of a `decode_token_response` input).
pub fn provider_index(name: &str) -> Option<u8> {
    PROVIDERS
        .iter()
        .position(|entry| entry.name == name)
        .and_then(|index| u8::try_from(index).ok())
}

/// Decodes `data` (status, content type, body) with `client`'s decoder as
/// every kind of grant, through `DynClient::decode_token_set`: no panic; a
/// token only from a 2xx, non-empty and visible ASCII, expiries no later
/// than the longest lifetime accepted, never in the set's `Debug`; errors
/// bounded, without a token of the body.
pub fn decode_with(entry: &ProviderEntry, client: &AnyClient, data: &[u8]) {
    let response = response(entry.name, data);
    let current = current_set();
    let grants = [
        Grant::AuthorizationCode,
        Grant::Refresh { current: &current },
        Grant::Initial,
        Grant::Other("client_credentials"),
    ];
    for grant in &grants {
        let label = format!("{} ({})", entry.name, grant.name());
        match client.decode_token_set(&response, grant, now()) {
            Ok(set) => {
                let token = set.access_token.expose_secret();
                check_decoded(&label, data, Ok(token));
                for secret in std::iter::once(token)
                    .chain(set.refresh_token.as_ref().map(|t| t.expose_secret()))
                {
                    assert!(
                        !secret.is_empty() && secret.chars().all(|c| c.is_ascii_graphic()),
                        "{label}: a token outside visible ASCII"
                    );
                }
                assert!(set.expires_at <= latest(), "{label}: expires too late");
                if let Some(at) = set.refresh_token_expires_at {
                    assert!(at <= latest(), "{label}: refresh expires too late");
                }
                assert!(
                    !format!("{set:?}").contains(token),
                    "{label}: the token in the set's Debug"
                );
            }
            Err(error) => check_decoded(&label, data, Err(&error)),
        }
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
