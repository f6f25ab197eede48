//! Property tests (proptest) over the code that reads hostile input: every
//! provider's token-response decoder, the callback parser, the AliExpress
//! signer, the redaction of secrets in error text and the lenient decode
//! helpers. 256 cases per property, no persisted failure files: the whole
//! file runs in a few seconds inside `cargo xtask ci`.
//!
//! Secrets placed in generated bodies are token-like values (12 or more
//! token characters with a digit, the class `oauth_core::redact` promises
//! to mask) that appear only under secret keys, so that any of them showing
//! up in an error is a leak.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use oauth_all::aliexpress;
use oauth_core::Grant;
use oauth_core::decode::{opt_id, opt_text, opt_u64};
use oauth_core::provider::registry::{AnyClient, ClientOptions};
use oauth_core::transport::classify::oauth_error;
use oauth_core::{
    AppSecret, CallbackError, CsrfState, Error, MAX_LIFETIME, RawResponse, Scopes, parse_callback,
    redact,
};
use proptest::prelude::*;
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::sync::OnceLock;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

const CASES: u32 = 256;

/// The longest `Display` any error may have, whatever the input.
const MAX_ERROR_TEXT: usize = 2048;

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: CASES,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

fn now() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_700_000_000)
}

/// The fields providers send, in every provider's spelling.
const FIELDS: &[&str] = &[
    "access_token",
    "refresh_token",
    "id_token",
    "expires_in",
    "refresh_token_expires_in",
    "refresh_expires_in",
    "expire_time",
    "refresh_token_valid_time",
    "token_type",
    "scope",
    "error",
    "error_description",
    "message",
    "msg",
    "code",
    "type",
    "request_id",
    "errors",
    "error_response",
    "seller_id",
    "user_id",
    "account_id",
    "havana_id",
    "user_nick",
    "account",
    "sp",
    "locale",
];

const SECRET_FIELDS: &[&str] = &["access_token", "refresh_token", "id_token"];

/// Plausible text values: numbers as strings, codes, casing variants, blanks.
fn plausible_text() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        Just(" ".to_owned()),
        Just("0".to_owned()),
        Just("3600".to_owned()),
        Just("-5".to_owned()),
        Just("99999999999999999999999".to_owned()),
        Just("bearer".to_owned()),
        Just("User Access Token".to_owned()),
        Just("N/A".to_owned()),
        Just("invalid_grant".to_owned()),
        Just("invalid_client".to_owned()),
        Just("temporarily_unavailable".to_owned()),
        Just("IllegalRefreshToken".to_owned()),
        Just("IncompleteSignature".to_owned()),
        Just("AUTH_TYPE_UNSUPPORTED".to_owned()),
        Just("Invalid refresh token".to_owned()),
        "[ -~]{0,24}",
        "\\PC{0,12}",
    ]
}

/// A token-like secret: what the redaction promises to mask.
fn secret() -> impl Strategy<Value = String> {
    "[A-Za-z]{4,10}[0-9]{2,6}[A-Za-z0-9._~-]{6,30}".prop_map(|s| format!("Zq{s}"))
}

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        (0u64..10_000_000).prop_map(Value::from),
        (-1e12f64..1e12).prop_map(Value::from),
        plausible_text().prop_map(Value::String),
    ]
}

/// Any JSON value of small depth.
fn json_value() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(prop::sample::select(FIELDS), inner, 0..4).prop_map(|m| {
                Value::Object(m.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
            }),
        ]
    })
}

/// A token-endpoint answer: an object of plausible fields, with token-like
/// secrets under some secret keys; half of them shaped like a success
/// (`access_token`, a lifetime, a type, sometimes AliExpress's `code` "0")
/// plus a few random fields.
fn token_object() -> impl Strategy<Value = (Map<String, Value>, Vec<String>)> {
    let lifetime = prop_oneof![
        (0u64..100_000_000).prop_map(Value::from),
        (0u64..100_000_000).prop_map(|n| Value::String(n.to_string())),
        leaf(),
    ];
    let success = (
        secret(),
        lifetime,
        prop::option::of(plausible_text()),
        prop::option::of(secret()),
        any::<bool>(),
    )
        .prop_map(|(access, expires_in, token_type, refresh, ali)| {
            let mut map = BTreeMap::new();
            map.insert("access_token", Value::String(access));
            map.insert("expires_in", expires_in);
            if let Some(token_type) = token_type {
                map.insert("token_type", Value::String(token_type));
            }
            if let Some(refresh) = refresh {
                map.insert("refresh_token", Value::String(refresh));
            }
            if ali {
                map.insert("code", Value::String("0".to_owned()));
            }
            map
        });
    let random = prop::collection::btree_map(prop::sample::select(FIELDS), json_value(), 0..10);
    (
        prop_oneof![success, random],
        prop::collection::btree_map(prop::sample::select(FIELDS), json_value(), 0..3),
        prop::collection::btree_map(prop::sample::select(SECRET_FIELDS), secret(), 0..3),
        any::<bool>(),
    )
        .prop_map(|(base, extra, secrets, with_extra)| {
            let mut map: Map<String, Value> =
                base.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
            if with_extra {
                for (key, value) in extra {
                    if !SECRET_FIELDS.contains(&key) {
                        map.insert(key.to_owned(), value);
                    }
                }
            }
            for (key, value) in secrets {
                map.insert(key.to_owned(), Value::String(value));
            }
            let placed = SECRET_FIELDS
                .iter()
                .filter_map(|key| map.get(*key)?.as_str().map(str::to_owned))
                .filter(|value| value.starts_with("Zq"))
                .collect();
            (map, placed)
        })
}

fn status() -> impl Strategy<Value = u16> {
    prop_oneof![
        3 => Just(200u16),
        3 => prop::sample::select(&[200u16, 201, 204, 302, 400, 401, 403, 404, 429, 500, 502, 503][..]),
        1 => any::<u16>(),
    ]
}

fn content_type() -> impl Strategy<Value = Option<String>> {
    prop_oneof![
        Just(Some("application/json".to_owned())),
        Just(Some("text/html".to_owned())),
        Just(None),
        "[ -~]{0,30}".prop_map(Some),
    ]
}

/// Every registered provider's clients, from the entries' example settings.
fn clients() -> &'static [(&'static str, AnyClient)] {
    static CLIENTS: OnceLock<Vec<(&'static str, AnyClient)>> = OnceLock::new();
    CLIENTS.get_or_init(|| {
        oauth_all::PROVIDERS
            .iter()
            .map(|entry| {
                let client = entry
                    .build(&entry.example_values(), ClientOptions::default())
                    .unwrap();
                (entry.name, client)
            })
            .collect()
    })
}

/// Every registered decoder's answer to `response` (through
/// `DynClient::decode_token_set`, as a code exchange), as `Ok(access token)`
/// or the error.
fn decode_all(response: &RawResponse) -> Vec<(&'static str, Result<String, Error>)> {
    clients()
        .iter()
        .map(|(name, client)| {
            let outcome = client
                .decode_token_set(response, &Grant::AuthorizationCode, now())
                .map(|set| {
                    assert!(set.expires_at <= now() + MAX_LIFETIME, "{name}");
                    set.access_token.expose_secret().to_owned()
                });
            (*name, outcome)
        })
        .collect()
}

/// What holds for every decoder and every input.
fn check_outcome(
    name: &str,
    response: &RawResponse,
    outcome: &Result<String, Error>,
    secrets: &[String],
) {
    let status = response.status();
    match outcome {
        Ok(token) => {
            assert!(
                (200..300).contains(&status),
                "{name}: token from HTTP {status}"
            );
            assert!(!token.is_empty(), "{name}: empty access token");
        }
        Err(error) => {
            let text = format!("{error} | {error:?}");
            assert!(
                error.to_string().chars().count() <= MAX_ERROR_TEXT,
                "{name}: {} chars",
                text.len()
            );
            for secret in secrets {
                assert!(!text.contains(secret.as_str()), "{name}: leaked: {text}");
            }
            if status == 429 {
                assert!(
                    matches!(error, Error::RateLimited { .. }),
                    "{name}: 429 gave {text}"
                );
            }
            if (300..400).contains(&status) {
                assert!(
                    matches!(error, Error::UnexpectedResponse { status: Some(s), .. } if *s == status),
                    "{name}: {status} gave {text}"
                );
            }
        }
    }
    if !(200..300).contains(&status) {
        assert!(outcome.is_err(), "{name}: HTTP {status} accepted");
    }
}

/// A percent-encoding of every byte but ASCII alphanumerics, written here
/// (not the library's) so the round trip checks the parser independently.
fn encode_all(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

proptest! {
    #![proptest_config(config())]

    /// Arbitrary status, content type and bytes: no panic, no token from a
    /// non-2xx, bounded error text.
    #[test]
    fn decoders_are_total_on_arbitrary_bytes(
        status in status(),
        content_type in content_type(),
        body in prop::collection::vec(any::<u8>(), 0..512),
    ) {
        let response = RawResponse::new("fuzz", status, content_type.as_deref(), body);
        for (name, outcome) in decode_all(&response) {
            check_outcome(name, &response, &outcome, &[]);
        }
    }

    /// Arbitrary JSON objects built from plausible fields, whole or cut
    /// short: no panic, the token decoded is the one sent, statuses are
    /// classified alike by every provider, and no secret reaches an error.
    #[test]
    fn decoders_on_plausible_objects(
        (object, secrets) in token_object(),
        status in status(),
        content_type in content_type(),
        cut in prop::option::of(0usize..400),
    ) {
        let mut body = serde_json::to_vec(&Value::Object(object.clone())).unwrap();
        if let Some(cut) = cut {
            body.truncate(cut);
        }
        let whole = cut.is_none_or(|c| c >= body.len());
        let response = RawResponse::new("fuzz", status, content_type.as_deref(), body);
        for (name, outcome) in decode_all(&response) {
            check_outcome(name, &response, &outcome, &secrets);
            if let Ok(token) = &outcome {
                prop_assert!(whole || serde_json::from_slice::<Value>(response.body()).is_ok());
                match object.get("access_token") {
                    Some(Value::String(sent)) => prop_assert_eq!(token, sent, "{}", name),
                    Some(Value::Number(sent)) => prop_assert_eq!(token, &sent.to_string(), "{}", name),
                    Some(Value::Bool(sent)) => prop_assert_eq!(token, &sent.to_string(), "{}", name),
                    other => prop_assert!(false, "{}: token decoded from {:?}", name, other),
                }
            }
            if (500..=599).contains(&status) && !object.contains_key("error") {
                let error = outcome.as_ref().unwrap_err();
                prop_assert!(error.is_retryable(), "{}: HTTP {} gave {}", name, status, error);
            }
        }
        let generic = oauth_error(&response, &Scopes::new());
        prop_assert!(generic.to_string().chars().count() <= MAX_ERROR_TEXT);
    }

    /// Any text, any expected state: the parser never panics, never accepts
    /// an empty state, and never shows the code in an error.
    #[test]
    fn parse_callback_is_total(
        url in prop_oneof![
            "https://app\\.example/cb\\?[ -~]{0,80}",
            "\\PC{0,60}",
            any::<String>(),
        ],
        expected in prop_oneof![Just(String::new()), "[ -~]{0,12}"],
    ) {
        match parse_callback(&url, &CsrfState::from_stored(expected.clone())) {
            Ok(callback) => {
                prop_assert!(!expected.is_empty());
                prop_assert!(!callback.code.expose_secret().is_empty());
            }
            Err(error) => {
                prop_assert!(error.to_string().chars().count() <= MAX_ERROR_TEXT);
            }
        }
    }

    /// A URL built with percent-encoding from any code and state gives back
    /// exactly the code, whatever the parameter order; another state is
    /// refused as a mismatch, without showing the code.
    #[test]
    fn parse_callback_round_trips(
        code in any::<String>().prop_filter("a code is never empty", |c| !c.is_empty()),
        state in any::<String>().prop_filter("a state is never empty", |s| !s.is_empty()),
        extra in "[ -~]{0,20}",
        code_first in any::<bool>(),
    ) {
        let (code_param, state_param) = (
            format!("code={}", encode_all(&code)),
            format!("state={}", encode_all(&state)),
        );
        let query = if code_first {
            format!("{code_param}&extra={}&{state_param}", encode_all(&extra))
        } else {
            format!("{state_param}&{code_param}&extra={}", encode_all(&extra))
        };
        let url = format!("https://app.example/callback?{query}");
        let callback = parse_callback(&url, &CsrfState::from_stored(state.clone()));
        let callback = callback.unwrap_or_else(|e| panic!("{e}"));
        prop_assert_eq!(callback.code.expose_secret(), code.as_str());
        prop_assert_eq!(callback.extra, vec![("extra".to_owned(), extra)]);
        let wrong = parse_callback(&url, &CsrfState::from_stored(format!("{state}!")));
        prop_assert_eq!(wrong.as_ref().err(), Some(&CallbackError::StateMismatch));
    }

    /// The AliExpress signer: the order of parameters does not matter, empty
    /// values are left out, the secret keys it, and it agrees with the
    /// sandbox's independent implementation.
    #[test]
    fn aliexpress_signer_properties(
        params in prop::collection::btree_map("[a-z_]{1,12}", "[ -~]{1,24}", 0..8),
        empties in prop::collection::btree_set("[A-Z]{1,8}", 0..4),
        secret in "[!-~]{1,32}",
        other_secret in "[!-~]{1,32}",
        system in any::<bool>(),
        seed in any::<u64>(),
    ) {
        let api = if system { "/auth/token/create" } else { "aliexpress.solution.order.get" };
        let signer = aliexpress::Signer::new(&AppSecret::new(secret.clone())).unwrap();
        let pairs: Vec<(&str, &str)> = params
            .iter()
            .filter(|(name, _)| name.as_str() != "sign")
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect();
        let sign = signer.sign(api, pairs.iter().copied());

        // A deterministic shuffle, with the empty-valued parameters mixed in.
        let mut shuffled: Vec<(&str, &str)> = pairs.clone();
        shuffled.extend(empties.iter().map(|n| (n.as_str(), "")));
        let mut state = seed | 1;
        for i in (1..shuffled.len()).rev() {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let j = usize::try_from(state % (i as u64 + 1)).unwrap();
            shuffled.swap(i, j);
        }
        prop_assert_eq!(&signer.sign(api, shuffled), &sign);

        let independent = oauth_sandbox::signature::aliexpress_sign(
            &secret,
            system.then_some(api),
            pairs.iter().copied(),
        );
        prop_assert_eq!(independent.as_str(), sign.expose_secret());

        if other_secret != secret {
            let other = aliexpress::Signer::new(&AppSecret::new(other_secret)).unwrap();
            prop_assert_ne!(other.sign(api, pairs.iter().copied()), sign);
        }
    }

    /// `sanitize` never returns a token it was given: 12 or more token
    /// characters with a digit, or 40 or more without, wherever they sit.
    #[test]
    fn sanitize_masks_every_token(
        prefix in "\\PC{0,40}",
        suffix in "\\PC{0,40}",
        head in "[A-Za-z0-9._~+/=^#%-]{0,24}",
        digit in "[0-9]",
        tail in "[A-Za-z0-9._~+/=^#%-]{11,24}",
        long in "[A-Za-z._~-]{40,60}",
        max in 0usize..300,
    ) {
        let token = format!("{head}{digit}{tail}");
        for secret in [&token, &long] {
            let text = format!("{prefix}{secret}{suffix}");
            let out = redact::sanitize(&text, 100_000);
            prop_assert!(!out.contains(secret.as_str()), "{:?} -> {:?}", text, out);
            let short = redact::sanitize(&text, max);
            prop_assert!(short.chars().count() <= max + 1);
            prop_assert!(!short.chars().any(char::is_control));
            let excerpt = redact::excerpt(text.as_bytes());
            prop_assert!(!excerpt.contains(secret.as_str()));
            prop_assert!(excerpt.chars().count() <= 201);
        }
    }

    /// The lenient decode helpers never panic on any JSON value, and read
    /// what they promise.
    #[test]
    fn decode_helpers(value in json_value(), n in any::<u64>(), negative in i64::MIN..0) {
        let _ = opt_u64(value.clone());
        let _ = opt_id(value.clone());
        let _ = opt_text(value.clone());
        prop_assert_eq!(opt_u64(Value::from(n)).unwrap(), Some(n));
        prop_assert_eq!(opt_u64(Value::String(n.to_string())).unwrap(), Some(n));
        prop_assert_eq!(opt_u64(Value::String(format!(" {n} "))).unwrap(), Some(n));
        prop_assert!(opt_u64(Value::from(negative)).is_err());
        prop_assert!(opt_u64(Value::String(negative.to_string())).is_err());
        prop_assert_eq!(opt_u64(Value::Null).unwrap(), None);
        prop_assert_eq!(opt_id(Value::from(n)).unwrap(), Some(n.to_string()));
        prop_assert_eq!(opt_id(Value::from(negative)).unwrap(), Some(negative.to_string()));
        prop_assert_eq!(opt_text(Value::String(String::new())).unwrap(), None);
        if let Value::String(s) = &value {
            let text = opt_text(value.clone()).unwrap();
            prop_assert_eq!(text.is_none(), s.trim().is_empty());
        }
    }

    /// The helpers also never panic on arbitrary bytes read as JSON.
    #[test]
    fn decode_helpers_on_bytes(bytes in prop::collection::vec(any::<u8>(), 0..64)) {
        let _ = opt_u64(&mut serde_json::Deserializer::from_slice(&bytes));
        let _ = opt_id(&mut serde_json::Deserializer::from_slice(&bytes));
        let _ = opt_text(&mut serde_json::Deserializer::from_slice(&bytes));
        let _ = serde_json::from_slice::<BTreeMap<String, Value>>(&bytes);
    }
}
