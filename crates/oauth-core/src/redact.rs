//! Masking of anything that looks like a secret in text that may be shown:
//! provider error messages and excerpts of unexpected response bodies.
//!
//! Two rules, applied together:
//! 1. the value after a secret-bearing key (`access_token`, `refresh_token`,
//!    `code`, `client_secret`, `sign`, ...) in JSON (`"key":"value"`) or
//!    form/query (`key=value`) syntax is replaced;
//! 2. any run of 12 or more token characters (letters, digits and
//!    `-._~+/=^#%`) that contains a digit, or any such run of 40 or more, is
//!    replaced. Prose words survive; tokens, codes, signatures and JWTs do not.

/// What replaces a masked value.
pub const MASK: &str = "[REDACTED]";

const SECRET_KEYS: &[&str] = &[
    "access_token",
    "refresh_token",
    "id_token",
    "client_secret",
    "code",
    "sign",
    "session",
    "token",
    "app_secret",
    "password",
];

fn is_token_char(c: char) -> bool {
    c.is_ascii_alphanumeric()
        || matches!(c, '-' | '.' | '_' | '~' | '+' | '/' | '=' | '^' | '#' | '%')
}

/// Masks secret-looking values in `text` and cuts it to `max_chars`
/// characters (an ellipsis marks the cut). Control characters become spaces.
pub fn sanitize(text: &str, max_chars: usize) -> String {
    let masked = mask_runs(&mask_keyed_values(text));
    let mut out = String::with_capacity(masked.len().min(max_chars + 3));
    for (count, c) in masked.chars().enumerate() {
        if count >= max_chars {
            out.push('…');
            break;
        }
        out.push(if c.is_control() { ' ' } else { c });
    }
    out
}

/// A short, masked excerpt of a response body (at most 200 characters).
pub fn excerpt(body: &[u8]) -> String {
    // Look at a bounded prefix only: the excerpt is for humans.
    let prefix = body.get(..body.len().min(2048)).unwrap_or(body);
    let text = String::from_utf8_lossy(prefix);
    sanitize(text.trim(), 200)
}

fn mask_keyed_values(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    'outer: while !rest.is_empty() {
        for key in SECRET_KEYS {
            if let Some(after_key) = rest.strip_prefix(key) {
                // Only whole keys: the previous char must not be a word char.
                let prev_ok = out
                    .chars()
                    .last()
                    .is_none_or(|c| !(c.is_ascii_alphanumeric() || c == '_'));
                if !prev_ok {
                    continue;
                }
                if let Some(skip) = value_start(after_key) {
                    out.push_str(key);
                    let (sep, value_and_rest) = after_key.split_at(skip);
                    out.push_str(sep);
                    let quoted = sep.ends_with('"');
                    let end = value_and_rest
                        .find(|c: char| {
                            if quoted {
                                c == '"'
                            } else {
                                c == '&' || c == ',' || c == '}' || c.is_whitespace() || c == '"'
                            }
                        })
                        .unwrap_or(value_and_rest.len());
                    if end > 0 {
                        out.push_str(MASK);
                    }
                    rest = value_and_rest.get(end..).unwrap_or("");
                    continue 'outer;
                }
            }
        }
        let mut chars = rest.chars();
        if let Some(c) = chars.next() {
            out.push(c);
        }
        rest = chars.as_str();
    }
    out
}

/// After a key: `"` `:` `"` (JSON) or `=` (form). Returns the byte length of
/// the separator, or `None` when the key is not followed by a value.
fn value_start(after_key: &str) -> Option<usize> {
    if after_key.starts_with('=') {
        return Some(1);
    }
    let bytes = after_key.as_bytes();
    let mut i = 0;
    if bytes.first() == Some(&b'"') {
        i += 1;
    }
    while bytes.get(i).is_some_and(|b| b.is_ascii_whitespace()) {
        i += 1;
    }
    if bytes.get(i) != Some(&b':') {
        return None;
    }
    i += 1;
    while bytes.get(i).is_some_and(|b| b.is_ascii_whitespace()) {
        i += 1;
    }
    if bytes.get(i) == Some(&b'"') {
        i += 1;
    }
    Some(i)
}

fn mask_runs(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut run = String::new();
    let flush = |run: &mut String, out: &mut String| {
        let len = run.chars().count();
        let has_digit = run.chars().any(|c| c.is_ascii_digit());
        if run != MASK && ((len >= 12 && has_digit) || len >= 40) {
            out.push_str(MASK);
        } else {
            out.push_str(run);
        }
        run.clear();
    };
    for c in text.chars() {
        if is_token_char(c) || (c == '[' || c == ']') && run.starts_with('[') {
            run.push(c);
        } else {
            flush(&mut run, &mut out);
            out.push(c);
        }
    }
    flush(&mut run, &mut out);
    out
}

/// `text` with each of `secrets` removed, as sent and in its form-, percent-
/// and JSON-encoded forms (a provider may echo a value back in any of them),
/// replaced by [`MASK`]; a text cut short with `…` also loses the beginning
/// of a secret at its end. Secrets shorter than 6 bytes are left alone
/// (masking a short value everywhere would destroy the text). The rule
/// `RawResponse::scrub_error` applies to errors, for any text (what a
/// command line prints of an API's answer, for one).
pub fn scrub_secrets(text: &str, secrets: &[&str]) -> String {
    let secrets: Vec<secrecy::SecretString> = secrets
        .iter()
        .map(|s| secrecy::SecretString::from((*s).to_owned()))
        .collect();
    let refs: Vec<&secrecy::SecretString> = secrets.iter().collect();
    crate::transport::response_scrub(text, &refs)
}

/// A provider request id, kept readable: only `[A-Za-z0-9._:-]`, at most 64
/// characters (ids are not secrets, but are not trusted text either).
pub fn sanitize_id(id: &str) -> String {
    id.chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | ':' | '-'))
        .take(64)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_scrubbed_in_every_encoding() {
        let secret = "v^1.1#i^1/AbC+def==";
        let json = serde_json::to_string(secret).unwrap();
        let slashes = secret.replace('/', "\\/");
        let text = format!(
            "raw {secret} json {json} pct {} slashes {slashes}",
            crate::encode_component(secret)
        );
        let out = scrub_secrets(&text, &[secret, "ab"]);
        assert!(!out.contains("AbC"), "{out}");
        assert_eq!(out.matches(MASK).count(), 4, "{out}");
    }

    #[test]
    fn masks_keyed_values_in_json_and_form() {
        let json = r#"{"access_token":"abc","refresh_token" : "x y","error":"invalid_grant"}"#;
        let out = sanitize(json, 500);
        assert_eq!(
            out,
            r#"{"access_token":"[REDACTED]","refresh_token" : "[REDACTED]","error":"invalid_grant"}"#
        );
        let form = "grant_type=refresh_token&refresh_token=abc&code=xyz&scope=a";
        assert_eq!(
            sanitize(form, 500),
            "grant_type=refresh_token&refresh_token=[REDACTED]&code=[REDACTED]&scope=a"
        );
    }

    #[test]
    fn masks_token_like_runs_but_keeps_prose() {
        let text = "the token v^1.1#i^1#r^1#p^3#f^0 is invalid_or_expired_refresh_token";
        let out = sanitize(text, 500);
        assert!(!out.contains("v^1.1"), "{out}");
        assert!(out.contains("invalid_or_expired_refresh_token"), "{out}");
        assert!(out.starts_with("the token [REDACTED] is"), "{out}");
        let jwt = "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0In0.sig";
        assert_eq!(sanitize(jwt, 500), MASK);
    }

    #[test]
    fn excerpt_is_bounded_and_single_line() {
        let body = format!("<html>\n<body>{}</body></html>", "Bad Gateway ".repeat(100));
        let out = excerpt(body.as_bytes());
        assert!(out.chars().count() <= 201, "{}", out.len());
        assert!(out.starts_with("<html> <body>Bad Gateway"), "{out}");
        assert!(!out.contains('\n'));
    }
}
