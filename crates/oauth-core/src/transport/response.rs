//! A response read from a provider, bounded in size.

use crate::Error;
use bytes::Bytes;
use serde::de::DeserializeOwned;
use std::fmt;
use std::time::Duration;

/// A provider's response: status, a few headers, and the body (at most the
/// client's size cap). `Debug` shows only the status, content type and body
/// length.
#[derive(Clone)]
pub struct RawResponse {
    pub(crate) provider: &'static str,
    pub(crate) status: u16,
    pub(crate) content_type: Option<String>,
    pub(crate) retry_after: Option<Duration>,
    pub(crate) body: Bytes,
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
            content_type: content_type.map(str::to_owned),
            retry_after: None,
            body: body.into(),
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
        self.content_type.as_deref()
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

    /// Decodes the body as JSON into `T`.
    ///
    /// # Errors
    /// [`Error::UnexpectedResponse`] with the status, content type, the
    /// decoder's complaint (which names a field, never a value) and a masked
    /// excerpt.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, Error> {
        serde_json::from_slice(&self.body).map_err(|e| self.unexpected(json_reason(&e)))
    }

    /// An [`Error::UnexpectedResponse`] for this response with `reason`.
    pub fn unexpected(&self, reason: impl Into<String>) -> Error {
        Error::unexpected(
            self.provider,
            Some(self.status),
            self.content_type.as_deref(),
            reason,
            &self.body,
        )
    }
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
            .field("content_type", &self.content_type)
            .field("retry_after", &self.retry_after)
            .field("body_len", &self.body.len())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize, Debug)]
    #[allow(dead_code)]
    struct T {
        access_token: String,
        expires_in: u64,
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
