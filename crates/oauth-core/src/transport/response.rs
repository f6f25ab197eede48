//! A response read from a provider, bounded in size.

use super::request::Payload;
use crate::Error;
use bytes::Bytes;
use http::HeaderValue;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use std::fmt;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

/// A provider's response: status, a few headers, and the body (at most the
/// client's size cap). `Debug` shows only the status, content type and body
/// length.
#[derive(Clone)]
pub struct RawResponse {
    pub(crate) provider: &'static str,
    pub(crate) status: u16,
    pub(crate) content_type: ContentType,
    pub(crate) retry_after: Option<Duration>,
    pub(crate) body: Bytes,
    /// The secrets the request sent, scrubbed from errors built from this
    /// response (a provider may echo them back).
    pub(crate) sent_secrets: SentSecrets,
}

/// The longest `Retry-After` we parse (longer values are clamped).
const MAX_RETRY_AFTER: Duration = Duration::from_secs(24 * 60 * 60);

/// The `Retry-After` header as a delay, when given in seconds (clamped to a
/// day).
pub(crate) fn retry_after(headers: &http::HeaderMap) -> Option<Duration> {
    headers
        .get(http::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|s| s.trim().parse::<u64>().ok())
        .map(|secs| Duration::from_secs(secs).min(MAX_RETRY_AFTER))
}

/// The `Content-Type` header, sanitized the first time it is read: a
/// response decoded without error never pays for the sanitizing.
#[derive(Clone)]
pub(crate) struct ContentType {
    /// The header as received (sharing the response's buffer).
    raw: Option<HeaderValue>,
    /// The sanitized text (at most 100 characters).
    text: OnceLock<Option<String>>,
}

impl ContentType {
    /// From a received header.
    pub(crate) fn received(raw: Option<HeaderValue>) -> Self {
        Self {
            raw,
            text: OnceLock::new(),
        }
    }

    /// Given as text (responses built by hand): kept as is.
    fn given(text: Option<&str>) -> Self {
        Self {
            raw: None,
            text: OnceLock::from(text.map(str::to_owned)),
        }
    }

    pub(crate) fn get(&self) -> Option<&str> {
        self.text
            .get_or_init(|| {
                self.raw
                    .as_ref()
                    .and_then(|v| v.to_str().ok())
                    .map(|s| crate::redact::sanitize(s, 100))
            })
            .as_deref()
    }
}

/// The secrets a request sent: shared with the request (no copy), or
/// listed by hand.
#[derive(Clone)]
pub(crate) enum SentSecrets {
    /// None declared.
    None,
    /// Declared with [`RawResponse::with_sent_secrets`].
    Listed(Arc<[SecretString]>),
    /// Those of the request this answers.
    Request(Arc<Payload>),
}

impl SentSecrets {
    fn list(&self) -> Vec<&SecretString> {
        match self {
            Self::None => Vec::new(),
            Self::Listed(secrets) => secrets.iter().collect(),
            Self::Request(payload) => payload.secrets().collect(),
        }
    }

    fn is_empty(&self) -> bool {
        match self {
            Self::None => true,
            Self::Listed(secrets) => secrets.is_empty(),
            Self::Request(payload) => payload.secrets().next().is_none(),
        }
    }
}

impl RawResponse {
    /// Builds a response by hand (for tests and for decoders fed from
    /// elsewhere, such as fuzzers).
    pub fn new(
        provider: &'static str,
        status: u16,
        content_type: Option<&str>,
        body: impl Into<Bytes>,
    ) -> Self {
        Self {
            provider,
            status,
            content_type: ContentType::given(content_type),
            retry_after: None,
            body: body.into(),
            sent_secrets: SentSecrets::None,
        }
    }

    /// A response read by any HTTP client, for classification: an API
    /// call's answer given to a provider's
    /// [`classify_api_response`](crate::Provider::classify_api_response)
    /// (the middleware does this), or a token answer read elsewhere. Keeps
    /// the status, the `Content-Type` and `Retry-After` headers, and the
    /// body; read the body with a size limit of your own before (an API
    /// answer can be large: classification only needs error answers,
    /// which are small).
    ///
    /// ```
    /// use oauth_core::{RawResponse, http_types};
    ///
    /// let answer = http_types::Response::builder()
    ///     .status(401)
    ///     .header("content-type", "application/json")
    ///     .header("retry-after", "3")
    ///     .body(r#"{"errors":[{"errorId":1001}]}"#)?;
    /// let (head, body) = answer.into_parts();
    /// let raw = RawResponse::from_http("ebay", head.status.as_u16(), &head.headers, body);
    /// assert_eq!(raw.status(), 401);
    /// assert_eq!(raw.content_type(), Some("application/json"));
    /// assert_eq!(raw.retry_after(), Some(std::time::Duration::from_secs(3)));
    /// # Ok::<(), http_types::Error>(())
    /// ```
    pub fn from_http(
        provider: &'static str,
        status: u16,
        headers: &http::HeaderMap,
        body: impl Into<Bytes>,
    ) -> Self {
        Self {
            provider,
            status,
            content_type: ContentType::received(headers.get(http::header::CONTENT_TYPE).cloned()),
            retry_after: retry_after(headers),
            body: body.into(),
            sent_secrets: SentSecrets::None,
        }
    }

    /// Sets the `Retry-After` delay.
    pub fn with_retry_after(mut self, retry_after: Option<Duration>) -> Self {
        self.retry_after = retry_after;
        self
    }

    /// The provider name.
    pub fn provider(&self) -> &'static str {
        self.provider
    }

    /// The HTTP status code.
    pub fn status(&self) -> u16 {
        self.status
    }

    /// Whether the status is 2xx.
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The `Content-Type` header, if any.
    pub fn content_type(&self) -> Option<&str> {
        self.content_type.get()
    }

    /// The `Retry-After` header as a delay, when it was given in seconds.
    pub fn retry_after(&self) -> Option<Duration> {
        self.retry_after
    }

    /// The body bytes. They may hold tokens: never log them.
    pub fn body(&self) -> &[u8] {
        &self.body
    }

    /// Whether the body looks like JSON (an object or array after whitespace),
    /// whatever the content type says.
    pub fn looks_like_json(&self) -> bool {
        matches!(
            self.body.iter().find(|b| !b.is_ascii_whitespace()),
            Some(b'{') | Some(b'[')
        )
    }

    /// Decodes the body as JSON into `T`, which may borrow from the body
    /// (`&str` or `Cow<str>` fields: no copy of text that is only looked at).
    ///
    /// # Errors
    /// [`Error::UnexpectedResponse`] with the status, content type, the
    /// decoder's complaint (which names a field, never a value) and a masked
    /// excerpt.
    pub fn json<'a, T: Deserialize<'a>>(&'a self) -> Result<T, Error> {
        serde_json::from_slice(&self.body).map_err(|e| self.unexpected(json_reason(&e)))
    }

    /// A token taken from this response's body (`field` names it), checked
    /// with [`is_token_text`](crate::decode::is_token_text): decoders that
    /// read tokens as plain strings call this, so that a token with control
    /// characters, spaces or non-ASCII never reaches a store, a header or a
    /// terminal.
    ///
    /// # Errors
    /// [`Error::UnexpectedResponse`] naming the field, with no excerpt of the
    /// body (the excerpt would carry the value).
    pub fn token<T: From<String>>(&self, field: &str, value: String) -> Result<T, Error> {
        if is_token_text(&value) {
            return Ok(T::from(value));
        }
        Err(Error::unexpected(
            self.provider,
            Some(self.status),
            self.content_type(),
            format!("`{field}` {}", crate::decode::INVALID_TOKEN_TEXT),
            b"",
        ))
    }

    /// An [`Error::UnexpectedResponse`] for this response with `reason`.
    pub fn unexpected(&self, reason: impl Into<String>) -> Error {
        // Scrub the body before the excerpt is cut from it, so that a secret
        // straddling the cut cannot survive in part.
        let secrets = self.sent_secrets.list();
        let body = if secrets.is_empty() {
            std::borrow::Cow::Borrowed(&self.body[..])
        } else {
            std::borrow::Cow::Owned(
                scrub(&String::from_utf8_lossy(&self.body), &secrets).into_bytes(),
            )
        };
        self.scrub_error(Error::unexpected(
            self.provider,
            Some(self.status),
            self.content_type(),
            reason,
            &body,
        ))
    }

    /// A short, masked excerpt of the body with the secrets the request sent
    /// removed, for error messages (e.g. of an HTML 5xx page).
    pub fn excerpt(&self) -> String {
        let secrets = self.sent_secrets.list();
        if secrets.is_empty() {
            return crate::redact::excerpt(&self.body);
        }
        crate::redact::excerpt(scrub(&String::from_utf8_lossy(&self.body), &secrets).as_bytes())
    }

    /// Declares the secrets the request sent (done by
    /// [`HttpClient::send`](crate::HttpClient::send); for responses built by
    /// hand).
    pub fn with_sent_secrets(mut self, secrets: Vec<SecretString>) -> Self {
        self.sent_secrets = SentSecrets::Listed(Arc::from(secrets));
        self
    }

    /// Removes from `error`'s texts every secret the request sent, as sent
    /// and in its form-, percent- and JSON-encoded forms: masking by shape
    /// misses short or word-like secrets that a provider echoes back
    /// (`"refresh token 'abc' is invalid"`). Provider crates pass every
    /// error they build from a response through this.
    pub fn scrub_error(&self, error: Error) -> Error {
        if self.sent_secrets.is_empty() {
            return error;
        }
        let secrets = self.sent_secrets.list();
        error.map_texts(|text| scrub(text, &secrets))
    }
}

/// [`crate::decode::is_token_text`], written so that the compiler
/// vectorizes it: no early exit within a block of 64 bytes (eBay's tokens
/// run to kilobytes; a byte-at-a-time loop costs a few hundred ns of each
/// refresh).
fn is_token_text(value: &str) -> bool {
    value.as_bytes().chunks(64).all(|block| {
        block
            .iter()
            .fold(true, |ok, &b| ok & (b.wrapping_sub(0x21) < 0x7f - 0x21))
    })
}

/// `text` with each secret (and its encoded forms) replaced by the mask;
/// a text cut short (ending with `…`, as [`redact::sanitize`] cuts) whose
/// last characters begin a secret loses that beginning too.
///
/// [`redact::sanitize`]: crate::redact::sanitize
pub(crate) fn scrub(text: &str, secrets: &[&SecretString]) -> String {
    let mut out = text.to_owned();
    let variants: Vec<String> = secrets
        .iter()
        .flat_map(|secret| scrub_variants(secret.expose_secret()))
        .collect();
    for variant in &variants {
        if out.contains(variant.as_str()) {
            out = out.replace(variant.as_str(), crate::redact::MASK);
        }
    }
    if let Some(head) = out.strip_suffix('…') {
        let cut = variants.iter().find_map(|variant| {
            (MIN_CUT_PREFIX..variant.len())
                .rev()
                .filter(|&n| variant.is_char_boundary(n))
                .find(|&n| {
                    variant
                        .get(..n)
                        .is_some_and(|prefix| head.ends_with(prefix))
                })
        });
        if let Some(len) = cut {
            let keep = head.len() - len;
            out = format!(
                "{}{}…",
                head.get(..keep).unwrap_or_default(),
                crate::redact::MASK
            );
        }
    }
    out
}

/// The shortest beginning of a secret removed at the end of a cut text.
const MIN_CUT_PREFIX: usize = 3;

/// Secrets shorter than this are not scrubbed (replacing a two-letter value
/// everywhere would destroy the message; real tokens are far longer).
const MIN_SCRUB_LEN: usize = 6;

/// The forms in which a secret we sent may come back: as sent, form- and
/// percent-encoded, form-decoded (a code that was itself URL-encoded, such
/// as OrangeConnex's), JSON-escaped; longest first, so that a longer form is
/// not left half-replaced.
fn scrub_variants(raw: &str) -> Vec<String> {
    let form: String = url::form_urlencoded::byte_serialize(raw.as_bytes()).collect();
    let decoded: String = url::form_urlencoded::parse(format!("x={raw}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default();
    let json = serde_json::to_string(raw).unwrap_or_default();
    let json = json.trim_matches('"').to_owned();
    // Some JSON encoders also escape `/` (eBay's tokens have some).
    let json_slashes = json.replace('/', "\\/");
    let mut variants: Vec<String> = Vec::with_capacity(6);
    for candidate in [
        raw.to_owned(),
        form,
        crate::encode_component(raw),
        decoded,
        json,
        json_slashes,
    ] {
        if candidate.len() >= MIN_SCRUB_LEN && !variants.contains(&candidate) {
            variants.push(candidate);
        }
    }
    variants.sort_by_key(|v| std::cmp::Reverse(v.len()));
    variants
}

/// serde_json's complaint without any value from the body: quoted values
/// are dropped, field names (in backquotes) and positions are kept.
fn json_reason(e: &serde_json::Error) -> String {
    use serde_json::error::Category;
    let what = match e.classify() {
        Category::Io => "could not read the body",
        Category::Syntax => "the body is not valid JSON",
        Category::Eof => "the body is empty or truncated JSON",
        Category::Data => "the JSON does not have the expected shape",
    };
    let mut detail = String::new();
    let mut in_quotes = false;
    for c in e.to_string().chars() {
        if c == '"' {
            if !in_quotes {
                detail.push_str("\"…\"");
            }
            in_quotes = !in_quotes;
        } else if !in_quotes {
            detail.push(c);
        }
    }
    format!("{what} ({})", crate::redact::sanitize(&detail, 160))
}

impl fmt::Debug for RawResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RawResponse")
            .field("provider", &self.provider)
            .field("status", &self.status)
            .field("content_type", &self.content_type())
            .field("retry_after", &self.retry_after)
            .field("body_len", &self.body.len())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_cut_by_the_message_limit_loses_its_beginning_too() {
        let secret = "wordlikesecretvalue";
        let description = format!("{} {secret} is not valid", "x".repeat(188));
        let body = serde_json::json!({"error": "invalid_grant", "error_description": description});
        let response = RawResponse::new("p", 400, Some("application/json"), body.to_string())
            .with_sent_secrets(vec![SecretString::from(secret)]);
        let error = response.scrub_error(crate::transport::classify::oauth_error(
            &response,
            &crate::Scopes::new(),
        ));
        let text = format!("{error} {error:?}");
        assert!(!text.contains("wordl"), "{text}");
        assert!(text.contains(crate::redact::MASK), "{text}");
    }

    #[derive(serde::Deserialize, Debug)]
    #[allow(dead_code)]
    struct T {
        access_token: String,
        expires_in: u64,
    }

    #[test]
    fn echoed_secrets_are_scrubbed_in_every_encoding() {
        let body = r#"{"error":"invalid_grant","error_description":"token 'rt:Ab!cd' (rt%3AAb%21cd) is not valid for 'Hunter-Phrase'"}"#;
        let response = RawResponse::new("p", 400, Some("application/json"), body.to_owned())
            .with_sent_secrets(vec![
                SecretString::from("rt:Ab!cd".to_owned()),
                SecretString::from("Hunter-Phrase".to_owned()),
            ]);
        let details = crate::ProviderDetails::new("p")
            .with_message("token 'rt:Ab!cd' (rt%3AAb%21cd) is not valid for 'Hunter-Phrase'");
        let error = response.scrub_error(Error::Provider { details });
        let text = format!("{error} {error:?}");
        assert!(
            !text.contains("Ab!c") && !text.contains("Ab%21c") && !text.contains("Hunter"),
            "{text}"
        );
        let unexpected = response.unexpected("odd");
        let text = format!("{unexpected} {unexpected:?}");
        assert!(!text.contains("Ab!c") && !text.contains("Hunter"), "{text}");
        // A code that was itself URL-encoded (OrangeConnex) also comes back
        // decoded once; and a secret in the `error` code field is scrubbed.
        let encoded_code = RawResponse::new("p", 400, None, "")
            .with_sent_secrets(vec![SecretString::from("Zm9v%252FYmFy".to_owned())]);
        let details = crate::ProviderDetails::new("p")
            .with_code("Zm9v%2FYmFy")
            .with_message("bad code Zm9v%2FYmFy");
        let error = encoded_code.scrub_error(Error::Provider { details });
        let text = format!("{error} {error:?}");
        assert!(!text.contains("Zm9v"), "{text}");
        assert_eq!(error.provider_code(), Some(crate::redact::MASK));
    }

    #[test]
    fn the_token_check_is_decode_is_token_text() {
        let mut texts: Vec<String> = (0u8..128).map(|b| char::from(b).to_string()).collect();
        texts.extend(["", "é", "\u{7ff}", "\u{ffff}", "\u{10ffff}"].map(str::to_owned));
        let long = "v^1.1#i^1#p^3#r^1#".repeat(40);
        for bad in ["\r", " ", "\u{7f}", "é", "\u{0}"] {
            for at in [0, 1, 63, 64, 65, 300, long.len()] {
                let mut text = long.clone();
                text.insert_str(at, bad);
                texts.push(text);
            }
        }
        texts.push(long);
        for text in &texts {
            assert_eq!(
                is_token_text(text),
                crate::decode::is_token_text(text),
                "{text:?}"
            );
        }
    }

    #[test]
    fn decode_errors_never_show_the_body_secret() {
        let bodies: [&[u8]; 4] = [
            br#"{"access_token":"SENTINEL123456789","expires_in":"x"}"#,
            br#"{"access_token":"SENTINEL123456789""#,
            b"",
            br#"{"access_token":12,"expires_in":SENTINEL123456789}"#,
        ];
        for body in bodies {
            let response = RawResponse::new("p", 200, Some("application/json"), body.to_vec());
            let err = response.json::<T>().unwrap_err();
            let text = format!("{err} {err:?} {response:?}");
            assert!(!text.contains("SENTINEL"), "{text}");
            assert!(matches!(
                err,
                Error::UnexpectedResponse {
                    status: Some(200),
                    ..
                }
            ));
        }
    }
}
